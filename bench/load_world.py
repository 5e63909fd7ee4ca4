"""A database ready for a load or fault run, prepared by its own process from the environment
(DATABASE_URL, REDIS_URL, SECRET_KEY — the same a gunicorn or worker process reads): schema from the
Alembic migrations, the demo community, N load residents and a token for each.

    python -m bench.load_world --residents 20   →  JSON {"tokens": [...], "openids": [...], "resident_ids": [...]} on stdout"""
import argparse
import json
import logging
import os
import sys


def prepare(residents: int, app=None, fresh: bool = True) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from backend import create_app, demo
    from backend.accounts import tokens
    from backend.accounts.models import Resident
    from backend.extensions import db

    logging.disable(logging.INFO)  # alembic's progress would mix with the JSON on stdout
    app = app or create_app()
    with app.app_context(), app.test_request_context():
        if fresh and db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
        demo.seed()
        people = []
        for i in range(residents):
            openid = f"load-openid-{i}"
            resident = db.session.scalar(select(Resident).where(Resident.openid == openid))
            if resident is None:
                resident = Resident(openid=openid, name=f"住户{i}", phone=f"1380000{i:04d}")
                db.session.add(resident)
                db.session.commit()
            people.append(resident)
        return {"openids": [r.openid for r in people], "resident_ids": [r.id for r in people],
                "tokens": [tokens.issue("resident", r.id)["token"] for r in people]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=10)
    args = parser.parse_args()
    json.dump(prepare(args.residents), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
