"""HTTP endpoints: mini-program login and WeChat's message push."""
import logging

from flask import Blueprint, current_app, request
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields, validate

from ..accounts.schemas import TokenSchema
from .. import ratelimits
from ..apidoc import BODY, errors
from ..errors import Forbidden, DomainError
from . import inbound, jobs, services

log = logging.getLogger(__name__)

auth_blp = ApiBlueprint("wechat_auth", __name__, url_prefix="/api/v1/auth", description="Login")
bp = Blueprint("wechat", __name__, url_prefix="/wechat")


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


class BadPush(DomainError):
    status = 400
    code = "bad_request"


@bp.route("/callback", methods=["GET", "POST"])
def callback():
    """WeChat message push. Acknowledges at once; the worker runs the bot turn and replies."""
    cfg = current_app.config
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    try:
        inbound.verify_url(cfg["WECHAT_TOKEN"], args.get("signature", ""), timestamp, nonce)
    except inbound.BadSignature:
        raise Forbidden("bad signature", code="bad_signature") from None
    if request.method == "GET":
        return args.get("echostr", ""), 200, {"Content-Type": "text/plain"}
    try:
        message = inbound.decode(
            request.get_data(), safe_mode=args.get("encrypt_type", "raw").lower() == "aes",
            token=cfg["WECHAT_TOKEN"], aes_key=cfg["WECHAT_AES_KEY"], appid=cfg["WECHAT_APPID"],
            msg_signature=args.get("msg_signature", ""), timestamp=timestamp, nonce=nonce)
    except inbound.BadSignature:
        raise Forbidden("bad signature", code="bad_signature") from None
    except inbound.Malformed as exc:
        raise BadPush(f"malformed push: {exc}") from None
    msg_type = str(message.get("MsgType", "")).lower()
    if msg_type not in services.KNOWN_TYPES:
        log.info("acknowledged a push of unknown type %r from WeChat", msg_type)
        return _ack()
    # Counted per openid only now: the push is signed, so nobody can use another's budget up.
    ratelimits.check("RATE_LIMIT_WECHAT", "wechat-openid", str(message["FromUserName"]))
    inbound_id = services.accept_push(message)
    if inbound_id is None:
        log.info("duplicate push %s acknowledged", inbound.msg_key(message))
    else:
        jobs.enqueue(jobs.process_inbound, inbound_id, job_id=f"wechat-inbound-{inbound_id}")
    return _ack()


def _ack():
    # "success" (or an empty body) tells WeChat not to retry and not to show "service unavailable".
    return "success", 200, {"Content-Type": "text/plain"}
