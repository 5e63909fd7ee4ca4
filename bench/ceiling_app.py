"""The bare ceiling of `POST /api/v1/orders`: Flask + marshmallow + one INSERT, nothing else.

Run by the intake bench under the same gunicorn settings as the backend, with the same JSON body and
headers, so "the app ÷ this" is what everything the backend does on top (auth, classification,
routing, deadlines, audit, queues) costs. It reads the bearer token and the Idempotency-Key only to
store them, as the cheapest honest version of the same contract."""
import os

from flask import Flask, jsonify, request
from marshmallow import Schema, fields, validate
from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, func, insert

metadata = MetaData()
orders = Table("bench_ceiling_orders", metadata,
               Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
               Column("text", Text, nullable=False),
               Column("location_text", String(200)),
               Column("idempotency_key", String(200), unique=True),
               Column("created_at", DateTime(timezone=True), server_default=func.now()))


class Body(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    location_text = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


def create_app():
    app = Flask(__name__)
    engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=False)
    schema = Body()

    @app.post("/api/v1/orders")
    def create():
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return jsonify(error="unauthorized"), 401
        data = schema.load(request.get_json())
        with engine.begin() as conn:
            new_id = conn.execute(insert(orders).values(
                idempotency_key=request.headers.get("Idempotency-Key"), **data).returning(orders.c.id)).scalar_one()
        return jsonify(id=new_id, **data), 201

    return app


def create_table(database_url: str) -> None:
    engine = create_engine(database_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    engine.dispose()
