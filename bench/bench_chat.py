"""Chat with the bot down: what the fallback (try the bot, fail, store the order, render the
reply) costs against submitting the same order directly."""
from .harness import measure

ROUNDS = 20


def run(app, quick: bool = False) -> dict:
    repeat = 2 if quick else 5
    from sqlalchemy import select
    from backend.accounts.actors import Actor
    from backend.accounts.models import Resident
    from backend.chat import services as chat
    from backend.extensions import db
    from backend.orders import services as orders

    text = "水晶城小区3号楼2单元楼道灯坏了好几天了"
    with app.app_context():
        resident = db.session.scalar(select(Resident))
        actor = Actor.for_resident(resident)

        def direct():
            for _ in range(ROUNDS):
                orders.create_order(actor, text=text, location_text=text)

        def fallback():
            for _ in range(ROUNDS):
                chat.handle_message(resident.id, text)

        base = measure(direct, repeat=repeat, label="direct submission x20")
        with_bot_down = measure(fallback, repeat=repeat, label="chat with bot down x20")
    return {"direct_ms_per_order": base / ROUNDS * 1000, "fallback_ms_per_message": with_bot_down / ROUNDS * 1000,
            "ratio": with_bot_down / base}
