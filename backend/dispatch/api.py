"""Worker / staff endpoints. Thin: schema.load → one service call → schema.dump. What each action
may do, from which state and for whom, is its lifecycle row (described in each operation)."""
from flask_smorest import Blueprint

from ..accounts.tokens import authenticate_first, require
from ..apidoc import AUTH, BODY, ORDER, errors
from ..orders import duplicates, intake, rota
from ..orders.lifecycle import describe
from ..orders.schemas import IdempotencyHeaders
from . import claims, listings
from .schemas import (AppealSchema, AssignSchema, CategorySchema, DutySchema, EmptySchema, ExtendSchema, PauseSchema, GradeSchema,
                      IntakeSchema, MergeSchema, PlaceSchema, CallbackSchema, ReplySchema, ProgressSchema,
                      QueueArgs, QueueSchema, ReasonSchema, ReleaseSchema, ResolveSchema, StaffOrderSchema,
                      SuperviseSchema, SupervisionArgs, SupervisionSchema, TransferSchema)

blp = Blueprint("dispatch", __name__, url_prefix="/api/v1", description="Dispatch: queues, claims, ladder, 督办")
authenticate_first(blp)


@blp.route("/queue")
@blp.arguments(QueueArgs, location="query")
@blp.response(200, QueueSchema)
@errors(blp, *AUTH)
def queue(args):
    """My queue: orders I may claim (most urgent first, with due times) and the ones I hold."""
    return listings.queue(require("staff"), **args)


@blp.route("/intake", methods=["POST"])
@blp.arguments(IntakeSchema)
@blp.arguments(IdempotencyHeaders, location="headers")
@blp.response(201, StaffOrderSchema)
@blp.alt_response(200, schema=StaffOrderSchema, description="a retry: the order first made with this Idempotency-Key")
@errors(blp, *AUTH, *BODY, 409)
def intake_order(data, headers):
    """Enter a hotline call, walk-in, photo report, letter or visit for a resident, or a patrol
    report of your own (`settled` with what was `done`: resolved at once, never queued). Routed like
    any order; the address must be in your scope. The caller's name and phone are kept, masked for
    other roles. A part-time grid member may enter only patrol (not settled) and visit reports."""
    order = duplicates.attach(intake.record(require("staff"), idempotency_key=headers["key"], **data))
    return order, 200 if order.replayed else 201


@blp.route("/me/duty", methods=["POST"])
@blp.arguments(DutySchema)
@blp.response(200, DutySchema)
@errors(blp, *AUTH, *BODY)
def duty(data):
    """上班/下班: a grid worker's own on-duty flag. In a grid with 轮派 on, new orders go at intake to
    the on-duty worker holding the fewest open orders; nobody on duty, they wait in the queue."""
    return rota.set_duty(require("staff"), data["on_duty"])


@blp.route("/supervision")
@blp.arguments(SupervisionArgs, location="query")
@blp.response(200, SupervisionSchema)
@errors(blp, *AUTH)
def supervision(args):
    """督办 lists in my scope: overdue, and due within `within` seconds."""
    return listings.supervision(require("staff"), within_seconds=args["within"])


def _action(path: str, action: str, schema, summary: str):
    """One staff action endpoint: POST /orders/<number>/<path> → the lifecycle row `action`."""
    @blp.route(f"/orders/<string:number>/{path}", methods=["POST"], endpoint=action)
    @blp.arguments(schema)
    @blp.response(200, StaffOrderSchema)
    @errors(blp, *AUTH, *BODY, *ORDER)
    @blp.doc(summary=summary, description=describe(action))
    def view(data, number):
        return claims.act(require("staff"), number, action, shown="api", **data)
    return view


_action("claim", "claim", EmptySchema, "接单 (a department's 报到 at the top rung); of two racing workers one wins")
_action("assign", "assign", AssignSchema, "派单: give a waiting order to a named worker of its grid")
_action("release", "release", ReleaseSchema, "Give a claimed order back to its queue")
_action("progress", "progress", ProgressSchema, "办理: a progress note with photos; the first one starts the work")
_action("escalate", "escalate", ReasonSchema, "上报 / 吹哨: one rung up the ladder, with a reason")
_action("transfer", "transfer", TransferSchema, "转派: to another grid in your scope, with a reason")
_action("resolve", "resolve", ResolveSchema, "办结: the result text and photos")
_action("place", "place", PlaceSchema, "Place an order from the community pool into a grid in your scope")
_action("supervise", "supervise", SuperviseSchema, "督办: press whoever holds the order")
_action("category", "correct_category", CategorySchema, "Correct the order's category (audited)")
_action("grade", "set_grade", GradeSchema, "Set the grade (urgent / normal); limits restart at the new grade")
_action("reopen", "reopen", ReasonSchema, "Reopen a resolved order (e.g. after a return visit), with a reason")
_action("property", "dispatch_property", ReleaseSchema,
        "小区吹哨、物业报到: give the order to its compound's property company, with its own limits")
_action("return", "return_from_property", ReasonSchema,
        "退回社区: the property gives the order back to the community, with a reason")
_action("close", "close", ReasonSchema, "归档 a rated or resolved order by hand, with a reason")
_action("private", "make_private", ReasonSchema, "不予公示: keep the order off the public pages, with a reason")
_action("public", "make_public", ReasonSchema, "恢复公示: show the order on the public pages again, with a reason")
# 延期 / 挂起 / 申诉 (考核, issue 26)
_action("extend", "extend", ExtendSchema, "申请延期: a later resolve-by (`until`), with a reason; the rung above decides")
_action("approve_extension", "approve_extension", ReleaseSchema, "批准延期: resolve-by moves to the date asked")
_action("refuse_extension", "refuse_extension", ReasonSchema, "不批准延期, with a reason: resolve-by stays")
_action("pause", "pause", PauseSchema,
        "挂起: the clock stops (waiting for the resident, a third party or the weather); a worker's "
        "pause planned beyond ORDER_PAUSE_LIMIT_DAYS waits for a leader's approval")
_action("approve_pause", "approve_pause", ReleaseSchema, "批准挂起: the clock stops from now")
_action("resume", "resume", ReleaseSchema, "恢复办理: the clock restarts with the working time that was left")
_action("appeal", "appeal", AppealSchema, "申诉免责: 不合理 / 重复 / 恶意诉求, with a reason; the community decides")
_action("approve_appeal", "approve_appeal", ReleaseSchema,
        "批准免责: out of the unit's 满意率 and 按时办结率, still in its counts and on the timeline")
_action("refuse_appeal", "refuse_appeal", ReasonSchema, "驳回申诉, with a reason")
# issue 20
_action("merge", "merge", MergeSchema, "合并工单: close a duplicate into its original (its reporter becomes a co-reporter)")
_action("unmerge", "unmerge", ReasonSchema, "撤销合并: undo a merge while the original is open, with a reason")
_action("callback", "callback", CallbackSchema,
        "电话回访: record the resident's answer on the phone; 不满意 reopens (row callback_reopen)")
_action("reply", "reply", ReplySchema, "回复居民: a canned reply (variables filled) or your own words, sent to the resident")
