"""WeChat's message push, from a signed request to a stored message and a queued bot turn.

The callback view hands over the query string and a body reader; everything that decides whether a
push counts — signature, timestamp window, nonce memory, safe mode, size — is here, in one call."""
import logging
from typing import Callable, Mapping

from flask import current_app

from .. import clock, ratelimits
from ..errors import DomainError, Forbidden
from . import inbound, jobs, services

log = logging.getLogger(__name__)


class BadPush(DomainError):
    status = 400
    code = "bad_request"


class PushTooLarge(DomainError):
    status = 413
    code = "push_too_large"


def verify_url(args: Mapping[str, str]) -> str:
    """The URL check WeChat makes when the account is configured: the echo, if the signature holds."""
    _check_signature(args)
    return args.get("echostr", "")


def receive(args: Mapping[str, str], read_body: Callable[[int], bytes]) -> None:
    """Accept one push (store it once, queue the bot turn) or refuse it with a DomainError."""
    cfg = current_app.config
    timestamp, nonce = _check_signature(args)
    safe_mode = args.get("encrypt_type", "raw").lower() == "aes"
    if cfg["WECHAT_SAFE_MODE"] and not safe_mode:
        raise Forbidden("plaintext push refused: this account is in safe mode", code="plaintext_refused")
    body = read_body(cfg["WECHAT_MAX_PUSH_BYTES"])
    # Decoded before the pair is taken, so that the pair and the push's dedupe mark are asked of
    # Redis in one round trip (services.check_push). The answers stay as they were: a pair used by
    # another body is refused (403 replayed) before anything about the body is said.
    try:
        message = _decode(body, safe_mode, args, timestamp, nonce)
    except BaseException:
        services.forget_nonce(services.take_nonce(timestamp, nonce, body))  # replayed: 403 first
        raise
    msg_type = str(message.get("MsgType", "")).lower()
    if msg_type not in services.KNOWN_TYPES:
        services.take_nonce(timestamp, nonce, body)
        log.info("acknowledged a push of unknown type %r from WeChat", msg_type)
        return
    checked = services.check_push(message, timestamp, nonce, body)
    try:
        _accept(message, checked)
    except BaseException:
        services.forget_nonce(checked.nonce_key)  # not acknowledged: WeChat's retry may use the pair again
        raise


def _check_signature(args: Mapping[str, str]) -> tuple[str, str]:
    cfg = current_app.config
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    try:
        inbound.verify_url(cfg["WECHAT_TOKEN"], args.get("signature", ""), timestamp, nonce)
        inbound.check_timestamp(timestamp, clock.now().timestamp(), cfg["WECHAT_TIMESTAMP_WINDOW_SECONDS"])
    except inbound.BadSignature:
        raise Forbidden("bad signature", code="bad_signature") from None
    except inbound.Stale as exc:
        raise Forbidden(f"stale push: {exc}", code="stale_timestamp") from None
    return timestamp, nonce


def _decode(body: bytes, safe_mode: bool, args: Mapping[str, str], timestamp: str, nonce: str) -> dict:
    cfg = current_app.config
    try:
        return inbound.decode(
            body, safe_mode=safe_mode,
            token=cfg["WECHAT_TOKEN"], aes_key=cfg["WECHAT_AES_KEY"], appid=cfg["WECHAT_APPID"],
            msg_signature=args.get("msg_signature", ""), timestamp=timestamp, nonce=nonce)
    except inbound.BadSignature:
        raise Forbidden("bad signature", code="bad_signature") from None
    except inbound.Malformed as exc:
        raise BadPush(f"malformed push: {exc}") from None


def _accept(message: dict, checked) -> None:
    # Counted per openid only now: the push is signed, so nobody can use another's budget up.
    ratelimits.check("RATE_LIMIT_WECHAT", "wechat-openid", str(message["FromUserName"]))
    # Stored once; the bot turn's job and the dedupe mark queued together after the commit.
    inbound_id = services.accept_push(message, checked, enqueue=_queue_turn)
    if inbound_id is None:
        log.info("duplicate push %s acknowledged", inbound.msg_key(message))


def _queue_turn(inbound_id: int, marks: dict | None) -> None:
    jobs.enqueue(jobs.process_inbound, inbound_id, job_id=f"wechat-inbound-{inbound_id}", marks=marks)
