"""Reading a push exactly as WeChat sends it: URL signature, safe-mode AES envelope, XML or JSON.

Nothing here touches the database; the callback stores only what passed these checks."""
import json
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from ..text import clean_all

# Longest value each stored field may have (their columns; WeChat's own are far shorter). The
# dedupe key "evt:<FromUserName>:<CreateTime>:<Event>" must fit its 128 characters too.
_LIMITS = {"FromUserName": 64, "MsgType": 30, "Event": 40, "CreateTime": 12, "MsgId": 100, "MediaId": 200}
# Every other text field (Content above all) at most what the API takes from a resident: a longer
# text is refused here, at once, instead of holding a worker, the bot and the classifier.
TEXT_LIMIT = 2000


class BadSignature(Exception):
    pass


class Malformed(Exception):
    pass


class Stale(Exception):
    pass


def check_timestamp(timestamp: str, now: float, window: int) -> None:
    """The signed timestamp must be within `window` seconds of now: a signature copied from an old
    push (or a log) is worth nothing once its moment has passed."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise Stale("timestamp missing or not a number")
    if abs(now - int(timestamp)) > window:
        raise Stale("timestamp outside the accepted window")


def verify_url(token: str, signature: str, timestamp: str, nonce: str) -> None:
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException:
        raise BadSignature("URL signature does not match") from None


def _parse(body: bytes | str) -> dict:
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    stripped = text.lstrip()
    if not stripped:
        raise Malformed("empty body")
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise Malformed(f"invalid JSON: {exc}") from None
    else:
        # WeChat never sends a DTD; refusing one closes entity-expansion tricks before expat runs.
        if "<!DOCTYPE" in stripped[:2048].upper() or "<!ENTITY" in stripped.upper():
            raise Malformed("DTDs are not accepted")
        try:
            data = xmltodict.parse(stripped, disable_entities=True).get("xml")
        except (ExpatError, ValueError) as exc:
            raise Malformed(f"invalid XML: {exc}") from None
    if not isinstance(data, dict):
        raise Malformed("no <xml> root object")
    return data


def decode(body: bytes, *, safe_mode: bool, token: str, aes_key: str, appid: str,
           msg_signature: str = "", timestamp: str = "", nonce: str = "") -> dict:
    """The push as a dict (XML element names as keys), after decrypting it in safe mode."""
    outer = _parse(body)
    if not safe_mode:
        message = outer
    else:
        if not outer.get("Encrypt"):
            raise Malformed("safe mode push without Encrypt")
        crypto = WeChatCrypto(token, aes_key, appid)
        try:
            plain = crypto.decrypt_message(outer, msg_signature, timestamp, nonce)
        except InvalidSignatureException:
            raise BadSignature("msg_signature does not match") from None
        except Exception as exc:  # wrong appid, bad padding or base64: not from our WeChat account
            raise Malformed(f"cannot decrypt: {type(exc).__name__}") from None
        message = _parse(plain)
    if not message.get("MsgType") or not message.get("FromUserName"):
        raise Malformed("MsgType and FromUserName are required")
    message = clean_all(message)  # a JSON push can carry a NUL, which PostgreSQL would refuse
    long = [name for name, limit in _LIMITS.items() if len(str(message.get(name) or "")) > limit]
    long += sorted(_too_long(message) - set(long))
    if long:
        raise Malformed("too long: " + ", ".join(long))
    return message


def _too_long(value, name: str = "") -> set[str]:
    """Names of the text fields, at any depth, longer than TEXT_LIMIT."""
    if isinstance(value, str):
        return {name} if len(value) > TEXT_LIMIT else set()
    if isinstance(value, dict):
        return set().union(*(_too_long(v, str(k)) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_too_long(v, name) for v in value))
    return set()


def msg_key(message: dict) -> str:
    """WeChat's documented dedupe key: MsgId, or FromUserName + CreateTime for events."""
    if message.get("MsgId"):
        return f"msg:{message['MsgId']}"
    return "evt:{}:{}:{}".format(message.get("FromUserName"), message.get("CreateTime"),
                                 message.get("Event") or message.get("MsgType"))


def through_miniprogram(message: dict, miniprogram_id: str) -> bool:
    """Whether the push came through the mini-program's customer service (`open-type="contact"`)
    rather than an official account's: WeChat addresses it (ToUserName) to the receiving account's
    原始ID, and only that tells the two apart — a text push looks the same from both otherwise."""
    return bool(miniprogram_id) and str(message.get("ToUserName") or "") == miniprogram_id


def subscription_answers(message: dict) -> list[tuple[str, str]]:
    """(template id, accept|reject|ban) pairs of a subscribe_msg_popup/change event."""
    container = (message.get("SubscribeMsgPopupEvent") or message.get("SubscribeMsgChangeEvent")
                 or message.get("List") and {"List": message["List"]} or {})
    items = container.get("List") if isinstance(container, dict) else container
    if isinstance(items, dict):
        items = [items]
    answers = []
    for item in items or []:
        if isinstance(item, dict) and item.get("TemplateId"):
            answers.append((str(item["TemplateId"]), str(item.get("SubscribeStatusString", "")).lower()))
    return answers
