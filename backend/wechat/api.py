"""HTTP endpoints: mini-program login and WeChat's message push."""
from flask import Blueprint, request
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields, validate

from ..accounts.schemas import TokenSchema
from ..apidoc import BODY, errors
from . import push, services

auth_blp = ApiBlueprint("wechat_auth", __name__, url_prefix="/api/v1/auth", description="Login")
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
