"""HTTP endpoints: mini-program login and WeChat's message push."""
from flask import Blueprint, request
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields, validate

from ..accounts.schemas import TokenSchema
from ..accounts.tokens import authenticate_first, require
from ..apidoc import AUTH, BODY, errors
from . import push, services

auth_blp = ApiBlueprint("wechat_auth", __name__, url_prefix="/api/v1/auth", description="Login")
mp_blp = ApiBlueprint("miniprogram", __name__, url_prefix="/api/v1/miniprogram",
                      description="What the mini-program reads at start (residents)")
authenticate_first(mp_blp)
bp = Blueprint("wechat", __name__, url_prefix="/wechat")
TEXT = {"Content-Type": "text/plain"}


class WechatLoginSchema(Schema):
    class Meta:
        unknown = RAISE

    code = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


@auth_blp.route("/wechat", methods=["POST"])
@auth_blp.arguments(WechatLoginSchema)
@auth_blp.response(200, TokenSchema)
@errors(auth_blp, 401, 429, 503, *BODY)
def wechat_login(data):
    """Mini-program login: wx.login() code → resident token (401 for an invalid or reused code)."""
    return services.login(data["code"])


class MiniprogramPlaceSchema(Schema):
    community = fields.String()
    buildings = fields.List(fields.Dict(), metadata={"description": "[{id, label}]: building_id for an order"})


class MiniprogramConfigSchema(Schema):
    templates = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "subscribe-message template id per notice: claimed, escalated, resolved, reopened, reply"})
    ask_on_submit = fields.List(fields.String(), metadata={
        "description": "the template ids (at most 3) to ask for with wx.requestSubscribeMessage when a resident submits"})
    photo_max_count = fields.Integer(metadata={"description": "photos per order"})
    photo_max_bytes = fields.Integer(metadata={"description": "largest photo (PHOTO_MAX_BYTES)"})
    places = fields.List(fields.Nested(MiniprogramPlaceSchema), metadata={"description": "registered buildings per community"})


@mp_blp.route("/config")
@mp_blp.response(200, MiniprogramConfigSchema)
@errors(mp_blp, *AUTH)
def miniprogram_config():
    """Subscribe-message template ids, photo limits and the registered buildings, for the mini-program."""
    require("resident")
    return services.miniprogram_config()


@bp.route("/callback", methods=["GET", "POST"])
def callback():
    """WeChat message push. Acknowledges at once; the worker runs the bot turn and replies.

    A push counts only if it is signed, signed now (WECHAT_TIMESTAMP_WINDOW_SECONDS), signed once
    (its timestamp and nonce are remembered), encrypted when WECHAT_SAFE_MODE says so, and small."""
    if request.method == "GET":  # WeChat checking the URL when the account is set up
        return push.verify_url(request.args), 200, TEXT
    push.receive(request.args, _body)
    # "success" (or an empty body) tells WeChat not to retry and not to show "service unavailable".
    return "success", 200, TEXT


def _body(limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed `limit` bytes: a declared
    length is checked before anything is read, an undeclared one after limit + 1 bytes."""
    if (request.content_length or 0) > limit:
        raise push.PushTooLarge(f"push larger than {limit} bytes")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise push.PushTooLarge(f"push larger than {limit} bytes")
    return body
