"""Worker / staff endpoints. Thin: schema.load → one service call → schema.dump."""
from flask_smorest import Blueprint

from ..accounts.tokens import require
from . import services
from .schemas import (EmptySchema, PlaceSchema, ProgressSchema, QueueArgs, QueueSchema, ReasonSchema,
                      ReleaseSchema, ResolveSchema, StaffOrderSchema, SuperviseSchema, SupervisionArgs,
                      SupervisionSchema, TransferSchema)

blp = Blueprint("dispatch", __name__, url_prefix="/api/v1", description="Dispatch: queues, claims, ladder, 督办")


@blp.route("/queue")
@blp.arguments(QueueArgs, location="query")
@blp.response(200, QueueSchema)
def queue(args):
    """My queue: orders I may claim (most urgent first, with due times) and the ones I hold."""
    return services.queue(require("staff"), **args)


@blp.route("/supervision")
@blp.arguments(SupervisionArgs, location="query")
@blp.response(200, SupervisionSchema)
def supervision(args):
    """督办 lists in my scope: overdue, and due within `within` seconds."""
    return services.supervision(require("staff"), within_seconds=args["within"])


@blp.route("/orders/<string:number>/claim", methods=["POST"])
@blp.arguments(EmptySchema)
@blp.response(200, StaffOrderSchema)
def claim(_data, number):
    """接单 (a department's 报到 at the top rung). Of two racing workers one wins, the other gets 409."""
    return services.claim(require("staff"), number)


@blp.route("/orders/<string:number>/release", methods=["POST"])
@blp.arguments(ReleaseSchema)
@blp.response(200, StaffOrderSchema)
def release(data, number):
    """Give a claimed order back to its queue."""
    return services.release(require("staff"), number, **data)


@blp.route("/orders/<string:number>/progress", methods=["POST"])
@blp.arguments(ProgressSchema)
@blp.response(200, StaffOrderSchema)
def progress(data, number):
    """办理: a progress note with photos; the first one starts the work."""
    return services.progress(require("staff"), number, **data)


@blp.route("/orders/<string:number>/escalate", methods=["POST"])
@blp.arguments(ReasonSchema)
@blp.response(200, StaffOrderSchema)
def escalate(data, number):
    """上报 / 吹哨: one rung up the ladder, with a reason."""
    return services.escalate(require("staff"), number, **data)


@blp.route("/orders/<string:number>/transfer", methods=["POST"])
@blp.arguments(TransferSchema)
@blp.response(200, StaffOrderSchema)
def transfer(data, number):
    """转派: to another grid's queue, with a reason."""
    return services.transfer(require("staff"), number, **data)


@blp.route("/orders/<string:number>/resolve", methods=["POST"])
@blp.arguments(ResolveSchema)
@blp.response(200, StaffOrderSchema)
def resolve(data, number):
    """办结: the result text and photos."""
    return services.resolve(require("staff"), number, **data)


@blp.route("/orders/<string:number>/place", methods=["POST"])
@blp.arguments(PlaceSchema)
@blp.response(200, StaffOrderSchema)
def place(data, number):
    """Place an order from the community pool (unknown address) into a grid."""
    return services.place(require("staff"), number, **data)


@blp.route("/orders/<string:number>/supervise", methods=["POST"])
@blp.arguments(SuperviseSchema)
@blp.response(200, StaffOrderSchema)
def supervise(data, number):
    """督办: press whoever holds the order (recorded and notified; no state change)."""
    return services.supervise(require("staff"), number, **data)
