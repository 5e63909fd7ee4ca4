"""Dispute endpoints (staff). Thin: schema.load → one service call → schema.dump."""
from types import SimpleNamespace

from flask.views import MethodView
from flask_smorest import Blueprint

from ..accounts.tokens import authenticate_first, require
from ..apidoc import AUTH, BODY, ORDER, errors
from . import lifecycle, services
from .schemas import DisputeActionSchema, DisputeCreateSchema, DisputeListArgs, DisputeListSchema, DisputeSchema

blp = Blueprint("disputes", __name__, url_prefix="/api/v1/disputes",
                description="Disputes (矛盾纠纷) settled in five steps: 定、商、决、办、馈")
authenticate_first(blp)


@blp.route("")
class Disputes(MethodView):
    @blp.arguments(DisputeListArgs, location="query")
    @blp.response(200, DisputeListSchema)
    @errors(blp, *AUTH)
    def get(self, args):
        """The disputes in my scope, newest first."""
        return {"disputes": services.list_disputes(require("staff"), **args)}

    @blp.arguments(DisputeCreateSchema)
    @blp.response(201, DisputeSchema)
    @errors(blp, *AUTH, *BODY, 404, 409)
    def post(self, data):
        """定: register a dispute, its parties and what is in dispute."""
        return services.register(require("staff"), **data)


@blp.route("/<int:dispute_id>")
@blp.response(200, DisputeSchema)
@errors(blp, *AUTH, 404)
def get_dispute(dispute_id):
    """One dispute with its meetings, tasks and history."""
    actor = require("staff")
    return services.get(actor, dispute_id)


STAFF = SimpleNamespace(kind="staff")
_ACTIONS_DOC = "\n\n".join(f"**{a}** ({r.step or 'record'}) — from {', '.join(r.sources)}; requires "
                           f"{', '.join(r.required_for(STAFF)) or 'nothing'}" for a, r in lifecycle.ACTIONS.items()
                           if a in lifecycle.REQUESTABLE)


@blp.route("/<int:dispute_id>/<string:action>", methods=["POST"])
@blp.arguments(DisputeActionSchema)
@blp.response(200, DisputeSchema)
@errors(blp, *AUTH, *BODY, *ORDER)
@blp.doc(description="One step of the lifecycle table (docs/architecture.md#disputes). Refused: role 403, "
                     "state 409, level 403, input 422.\n\n" + _ACTIONS_DOC)
def act(data, dispute_id, action):
    """Take a step: add_party, open_deliberation, hold_meeting, decide, add_task, finish_work, give_feedback, record_consent, publish, close, escalate."""
    actor = require("staff")
    given = {k: v for k, v in data.items() if v is not None}
    return services.perform(actor, services.get(actor, dispute_id), action, **given)
