"""HTTP endpoints: mini-program login and WeChat's message push."""
import logging

from flask import Blueprint, current_app, request
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import RAISE, Schema, fields, validate

from ..accounts.schemas import TokenSchema
from .. import clock, ratelimits
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


class PushTooLarge(DomainError):
    status = 413
    code = "push_too_large"


@bp.route("/callback", methods=["GET", "POST"])
def callback():
    """WeChat message push. Acknowledges at once; the worker runs the bot turn and replies.

    A push counts only if it is signed, signed now (WECHAT_TIMESTAMP_WINDOW_SECONDS), signed once
    (its timestamp and nonce are remembered), encrypted when WECHAT_SAFE_MODE says so, and small."""
    cfg = current_app.config
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    try:
        inbound.verify_url(cfg["WECHAT_TOKEN"], args.get("signature", ""), timestamp, nonce)
        inbound.check_timestamp(timestamp, clock.now().timestamp(), cfg["WECHAT_TIMESTAMP_WINDOW_SECONDS"])
    except inbound.BadSignature:
        raise Forbidden("bad signature", code="bad_signature") from None
    except inbound.Stale as exc:
        raise Forbidden(f"stale push: {exc}", code="stale_timestamp") from None
    if request.method == "GET":
        return args.get("echostr", ""), 200, {"Content-Type": "text/plain"}
    safe_mode = args.get("encrypt_type", "raw").lower() == "aes"
    if cfg["WECHAT_SAFE_MODE"] and not safe_mode:
        raise Forbidden("plaintext push refused: this account is in safe mode", code="plaintext_refused")
    body = _body(cfg["WECHAT_MAX_PUSH_BYTES"])
    nonce_key = services.take_nonce(timestamp, nonce)
    try:
        return _accept(body, safe_mode, timestamp, nonce)
    except BaseException:
        services.forget_nonce(nonce_key)  # not acknowledged: WeChat's retry may use the pair again
        raise


def _body(limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed `limit` bytes: a declared
    length is checked before anything is read, an undeclared one after limit + 1 bytes."""
    if (request.content_length or 0) > limit:
        raise PushTooLarge(f"push larger than {limit} bytes")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise PushTooLarge(f"push larger than {limit} bytes")
    return body


def _accept(body: bytes, safe_mode: bool, timestamp: str, nonce: str):
    cfg, args = current_app.config, request.args
    try:
        message = inbound.decode(
            body, safe_mode=safe_mode,
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
