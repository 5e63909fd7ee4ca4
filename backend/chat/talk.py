"""The H5 chat as the resident sees it (issue 24): the conversation kept on screen, photos taken in
the chat, and after each step a line saying what happens now.

- The conversation: each turn (what the resident said, the bot's replies and buttons, the order it
  made or joined, the next-step line) is kept in Redis per resident — the last TURNS turns, for as
  long as a signed-in session lasts (SESSION_LIFETIME_SECONDS), dropped at logout. It is the
  resident's own words, shown only to them; the orders themselves are in the database as ever.
- A photo in the chat (the bot asks for one): checked and stored like any photo (orders.photos).
  While the bot is taking an order down it waits with the draft and is attached to the order the
  conversation makes (the bot is told a photo came, so its read-back says 照片：已收到); outside a
  draft it goes to the resident's open order of the last day, as a WeChat image does; with neither,
  it waits for the order the resident describes next.
"""
import json
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from .. import clock
from ..accounts.actors import Actor
from ..extensions import db, redis
from ..orders import files, photos, services as orders, states
from ..orders.models import Order
from ..urls import external_url
from . import gateway, services as chat

TURNS = 30  # what a phone screen scrolls through; older turns are in 我的诉求 as orders
PHOTOS_MAX = 9  # photos waiting for one order, as a WeChat or mini-program order holds
RECENT = timedelta(hours=24)  # a photo sent after describing a problem belongs to that problem


def _key(resident_id: int) -> str:
    return f"h5:talk:{resident_id}"


def _photos_key(resident_id: int) -> str:
    return f"h5:talk-photos:{resident_id}"


def _keep() -> int:
    return int(current_app.config["SESSION_LIFETIME_SECONDS"])


def history(resident_id: int) -> list[dict]:
    """The kept turns, oldest first: {"you", "photo", "replies", "buttons", "order_number", "joined",
    "next"}."""
    return [json.loads(raw) for raw in redis.client.lrange(_key(resident_id), 0, -1)]


def forget(resident_id: int) -> None:
    """Logout: the conversation and any photo waiting for an order go (the files stay unattached)."""
    for name in _photo_keys(resident_id):
        files.store().delete(name)
    redis.client.delete(_key(resident_id), _photos_key(resident_id))


def _remember(resident_id: int, turn: dict) -> dict:
    last = redis.client.lindex(_key(resident_id), -1)
    if turn.get("id") and last is not None and json.loads(last).get("id") == turn["id"]:
        return turn  # the same message again (a double tap, a resent form): one turn on screen
    pipe = redis.client.pipeline()
    pipe.rpush(_key(resident_id), json.dumps(turn, ensure_ascii=False))
    pipe.ltrim(_key(resident_id), -TURNS, -1)
    pipe.expire(_key(resident_id), _keep())
    pipe.execute()
    return turn


def say(actor: Actor, text: str, *, shown: str, client_id: str | None) -> dict:
    """One message of the resident's (`shown`: the words on the button they tapped, or their text)
    through the same chat as every channel; photos waiting for an order are attached to the one this
    turn made; the turn is kept and returned."""
    answer = chat.handle_message(actor.id, text, channel="h5", client_id=client_id)
    attached = _attach_waiting(actor, answer.get("order_number"))
    turn = {"you": shown, "photo": False, "replies": list(answer.get("replies") or []),
            "buttons": list(answer.get("buttons") or []), "order_number": answer.get("order_number"),
            "joined": answer.get("joined"), "next": _next_step(answer, attached), "id": client_id}
    return _remember(actor.id, turn)


def photo(actor: Actor, body: bytes, *, client_id: str | None) -> dict:
    """A photo sent in the chat (checked first: PhotoRefused, nothing kept, on anything else)."""
    photos.check(body)
    loop, slot = gateway.asking_for(actor.id)
    order = None if loop else _recent_open_order(actor.id)
    stored = photos.store(body, "orders")
    if order is not None:
        key = stored.pop("key")
        try:
            orders.perform(actor, order, "attach", photos=[stored])
        except Exception:
            files.store().delete(key)
            raise
        turn = {"replies": [], "buttons": [], "order_number": None, "joined": None,
                "next": f"照片已补充到诉求 {order.number}，网格员办理时能看到。"}
    else:
        _wait(actor.id, stored)
        if slot == "photo_url":  # the bot asked for it: tell it one came, so it goes on with the form
            answer = chat.handle_message(actor.id, f"照片 {_address(stored['url'])}", channel="h5",
                                         client_id=client_id)
            attached = _attach_waiting(actor, answer.get("order_number"))
            turn = {"replies": list(answer.get("replies") or []), "buttons": list(answer.get("buttons") or []),
                    "order_number": answer.get("order_number"), "joined": answer.get("joined"),
                    "next": _next_step(answer, attached) or "照片收到了，提交诉求时会一起附上。"}
        elif loop:
            turn = {"replies": [], "buttons": [], "order_number": None, "joined": None,
                    "next": "照片收到了，提交诉求时会一起附上。请接着回答上面的问题。"}
        else:
            turn = {"replies": [], "buttons": [], "order_number": None, "joined": None,
                    "next": "照片收到了。请再用文字说说是什么问题、在哪里，提交诉求时会把照片一起附上。"}
    return _remember(actor.id, {"you": "［照片］", "photo": True, **turn})


def _address(url: str) -> str:
    # The bot reads a photo as an http(s) address in the text; the order gets the stored file itself.
    return external_url(url)


def _wait(resident_id: int, stored: dict) -> None:
    pipe = redis.client.pipeline()
    pipe.rpush(_photos_key(resident_id), json.dumps(stored))
    pipe.ltrim(_photos_key(resident_id), -PHOTOS_MAX, -1)
    pipe.expire(_photos_key(resident_id), _keep())
    pipe.execute()


def _photo_keys(resident_id: int) -> list[str]:
    return [json.loads(raw)["key"] for raw in redis.client.lrange(_photos_key(resident_id), 0, -1)]


def _attach_waiting(actor: Actor, number: str | None) -> int:
    """Attach the photos waiting in the chat to the order this turn made; how many were attached."""
    if not number:
        return 0
    waiting = [json.loads(raw) for raw in redis.client.lrange(_photos_key(actor.id), 0, -1)]
    if not waiting:
        return 0
    order = db.session.scalar(select(Order).where(Order.number == number, Order.resident_id == actor.id))
    if order is None or order.state not in states.OPEN_STATES:
        return 0  # a joined order (附议) is someone else's: the photos keep waiting for the resident's own
    already = {a.url for a in order.attachments}
    fresh = [{k: v for k, v in p.items() if k != "key"} for p in waiting if p["url"] not in already]
    if fresh:
        orders.perform(actor, order, "attach", photos=fresh)
    redis.client.delete(_photos_key(actor.id))
    return len(waiting)


def _recent_open_order(resident_id: int) -> Order | None:
    since = clock.now() - RECENT
    return db.session.scalar(
        select(Order).where(Order.resident_id == resident_id, Order.state.in_(states.OPEN_STATES),
                            Order.created_at >= since).order_by(Order.id.desc()).limit(1))


def _when(moment) -> str:
    return clock.local(moment, current_app.config["TIMEZONE"]).strftime("%m月%d日 %H:%M")


def _next_step(answer: dict, attached: int) -> str | None:
    """What happens now, in one line under the bot's replies: after an order, who takes it and by
    when (接单 and 办理 limits apart); after 附议, that the progress comes to them too."""
    if answer.get("joined"):
        return f"接下来：您已附议诉求 {answer['joined']}，办理进展会同步通知您，办结后请您评价。"
    number = answer.get("order_number")
    order = db.session.scalar(select(Order).where(Order.number == number)) if number else None
    if order is None:
        return None
    who = f"{order.grid.name}的网格员" if order.grid is not None else "社区工作人员"
    parts = [f"接下来：{who}会在 {_when(order.claim_by)} 前接单" if order.claim_by else f"接下来：{who}会尽快接单"]
    if order.resolve_by:
        parts.append(f"{_when(order.resolve_by)} 前办好")
    line = "，".join(parts) + "。每一步进展都会通知您，也可以在下面的「我的诉求」里查看；办好后请您评价。"
    if attached:
        line = f"已附上您的 {attached} 张照片。" + line
    return line
