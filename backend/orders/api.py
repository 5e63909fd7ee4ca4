"""Resident order endpoints. Thin: schema.load → one service call → schema.dump."""
from flask import Blueprint as FlaskBlueprint
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import storage
from ..accounts.tokens import authenticate_first, rate_key, require
from ..apidoc import AUTH, BODY, ORDER, errors
from ..ratelimits import limit
from . import joining, lifecycle, photos, services
from .schemas import (CandidatesSchema, DraftSchema, IdempotencyHeaders, JoinedSchema, JoinSchema, NoteSchema,
                      OrderCreateSchema, OrderListArgs, OrderListSchema, OrderSchema, PhotoSchema, RatingSchema)

blp = Blueprint("orders", __name__, url_prefix="/api/v1/orders", description="Orders (诉求/工单)")
authenticate_first(blp)


@blp.route("")
class Orders(MethodView):
    @blp.arguments(OrderListArgs, location="query")
    @blp.response(200, OrderListSchema)
    @errors(blp, *AUTH)
    def get(self, args):
        """List my orders (resident) — newest first."""
        actor = require("resident", "staff")
        return {"orders": services.list_orders(actor, **args)}

    # Only orders made count: a 422 or a replayed Idempotency-Key does not use the budget up.
    @limit("RATE_LIMIT_ORDERS", rate_key, deduct_when=lambda response: response.status_code == 201)
    # Instances, not classes: given a class, webargs builds the schema (copying its fields) per request.
    @blp.arguments(OrderCreateSchema())
    @blp.arguments(IdempotencyHeaders(), location="headers")
    @blp.response(201, OrderSchema)
    @blp.alt_response(200, schema=OrderSchema, description="a retry: the order first made with this Idempotency-Key")
    @errors(blp, *AUTH, *BODY)
    def post(self, data, headers):
        """Send a new order (201); the same Idempotency-Key again answers the first one (200)."""
        actor = require("resident")
        order = services.create_order(actor, idempotency_key=headers["key"], **data)
        return order, 200 if order.replayed else 201


@blp.route("/duplicates", methods=["POST"])
@blp.arguments(DraftSchema)
@blp.response(200, CandidatesSchema)
@errors(blp, *AUTH, *BODY)
def duplicates(data):
    """附议, before sending: the open orders that may be the problem about to be reported (number and
    state only). Nothing is stored; ask the resident 附议 or 不是一回事."""
    actor = require("resident")
    return {"candidates": joining.candidates_for(actor, **data)}


@blp.route("/<string:number>/join", methods=["POST"])
@blp.arguments(JoinSchema)
@blp.response(200, JoinedSchema)
@errors(blp, *AUTH, *BODY, *ORDER)
@blp.doc(description=lifecycle.describe("join"))
def join(data, number):
    """附议: follow this order as a co-reporter instead of sending a new one. `number` must be one
    `POST /orders/duplicates` names for this draft (else 422 on `join`); joining again answers the same."""
    actor = require("resident")
    return joining.join(actor, number, **data)


@blp.route("/<string:number>")
@blp.response(200, OrderSchema)
@errors(blp, *AUTH, 404)
def get_order(number):
    """One order with its history."""
    actor = require("resident", "staff")
    return services.get_order(actor, number)


@blp.route("/<string:number>/cancel", methods=["POST"])
@blp.arguments(NoteSchema)
@blp.response(200, OrderSchema)
@errors(blp, *AUTH, *BODY, *ORDER)
@blp.doc(description=lifecycle.describe("cancel"))
def cancel(data, number):
    """Withdraw an order that nobody has started on (撤回)."""
    actor = require("resident")
    return services.perform(actor, services.get_order(actor, number), "cancel", note=data["note"])


@blp.route("/<string:number>/rating", methods=["POST"])
@blp.arguments(RatingSchema)
@blp.response(200, OrderSchema)
@errors(blp, *AUTH, *BODY, *ORDER)
@blp.doc(description=lifecycle.describe("rate") + "\n\n" + lifecycle.describe("reopen"))
def rate(data, number):
    """回访评价: 满意 / 基本满意 close the loop, 不满意 reopens the order."""
    actor = require("resident")
    return services.rate(actor, services.get_order(actor, number), **data)


@blp.route("/<string:number>/photos", methods=["POST"], endpoint="attach")
@blp.arguments(PhotoSchema, location="files")
@blp.response(201, OrderSchema)
@errors(blp, *AUTH, *BODY, *ORDER)
@blp.doc(description=lifecycle.describe("attach") + "\n\nJPEG, PNG or WebP (judged by the file's bytes), "
         "at most PHOTO_MAX_BYTES (5 MB); anything else 422.")
def add_photo(data, number):
    """Add a photo to my order (multipart, field `photo`)."""
    actor = require("resident")
    return photos.attach(actor, services.get_order(actor, number), data["photo"].read())


# Photo files: not part of the JSON API (so not in the OpenAPI document), but the same bearer token
# and the same scope as the order they belong to.
files = FlaskBlueprint("uploads", __name__, url_prefix="/uploads")


@files.get("/<path:name>")
def photo_file(name):
    key, content_type = photos.file_for(require("resident", "staff"), name)
    response = storage.store().send(key, content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"  # personal data: no shared caches
    return response
