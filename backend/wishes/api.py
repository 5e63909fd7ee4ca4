"""The resident's wish API (the mini-program; the H5 pages at /m/wishes use the same services):
the board, posting a wish, one wish and its actions (claim, release, fulfil, confirm, withdraw), and
双报到 registration. Thin: schema.load → one service call → schema.dump."""
from flask.views import MethodView
from flask_smorest import Blueprint

from ..accounts.tokens import authenticate_first, require
from ..apidoc import AUTH, BODY, ORDER, errors
from . import registry, services
from .schemas import MemberSchema, RegisterSchema, WishActionSchema, WishBoardSchema, WishCreateSchema, WishSchema

blp = Blueprint("wishes", __name__, url_prefix="/api/v1", description="微心愿 and 双报到 (residents)")
authenticate_first(blp)


@blp.route("/wishes")
class Wishes(MethodView):
    @blp.response(200, WishBoardSchema)
    @errors(blp, *AUTH)
    def get(self):
        """My wishes, and for a registered member the community's published wishes (masked) and the ones I hold."""
        return services.resident_board(require("resident"))

    @blp.arguments(WishCreateSchema)
    @blp.response(201, WishSchema)
    @errors(blp, *AUTH, *BODY)
    def post(self, data):
        """Post a wish; the community checks it before it goes on the board. The same client_id again answers the first."""
        actor = require("resident")
        return services.create_wish(actor, community_id=data["community"], text=data["text"],
                                    beneficiary=data.get("beneficiary"), wanted_by=data.get("wanted_by"),
                                    channel="miniprogram", idempotency_key=data["client_id"])


@blp.route("/wishes/<int:wish_id>")
@blp.response(200, WishSchema)
@errors(blp, *AUTH, 404)
def get_wish(wish_id):
    """One wish, as the asking resident may see it, with its allowed_actions."""
    return services.get_wish(require("resident"), wish_id)


@blp.route("/wishes/<int:wish_id>/<any(claim,release,fulfil,confirm,withdraw):action>", methods=["POST"])
@blp.arguments(WishActionSchema)
@blp.response(200, WishSchema)
@errors(blp, *AUTH, *BODY, *ORDER)
def wish_action(data, wish_id, action):
    """A member claims, releases or fulfils (evidence, hours) a wish; the wisher confirms or withdraws it.
    As the wish table says (docs/architecture.md): role 403, state 409, rule 403, input 422."""
    actor = require("resident")
    return services.perform(actor, services.get_wish(actor, wish_id), action, **data)


@blp.route("/volunteers", methods=["POST"])
@blp.arguments(RegisterSchema)
@blp.response(201, MemberSchema)
@errors(blp, *AUTH, *BODY)
def register(data):
    """双报到: register with a community as a party member, volunteer or a partner unit's contact (join_code)."""
    return registry.register(require("resident"), community_id=data.pop("community"), **data)
