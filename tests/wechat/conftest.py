"""WeChat test kit: WeChat-style signing and safe-mode encryption written from WeChat's
documentation (not wechatpy), and an in-process RQ worker. The stub API server (`stub`) is in
tests/conftest.py: the resident H5 pages use it too."""
import base64
import hashlib
import os
import struct
import time
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from redis import Redis
from rq import Queue, SimpleWorker


@pytest.fixture
def worker(app, redis):
    """Run everything queued on the wechat queue, in this process, against the real Redis."""
    connection = Redis.from_url(app.config["REDIS_URL"])

    def run():
        # "notifications" is the outbox's own queue (backend.notifications.services).
        queues = [Queue(name, connection=connection) for name in (app.config["WECHAT_QUEUE"], "notifications")]
        SimpleWorker(queues, connection=connection).work(burst=True)

    run.queue = lambda: Queue(app.config["WECHAT_QUEUE"], connection=connection)
    return run


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: SHA1 of the parts sorted lexicographically and concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def aes_encrypt(plain: str, encoding_aes_key: str, appid: str) -> str:
    """WeChat safe mode: AES-256-CBC, key = base64(EncodingAESKey + "="), iv = key[:16],
    msg = random(16) + len(xml) as 4 bytes big-endian + xml + appid, PKCS#7 padded to 32."""
    key = base64.b64decode(encoding_aes_key + "=")
    body = plain.encode("utf-8")
    msg = os.urandom(16) + struct.pack(">I", len(body)) + body + appid.encode("utf-8")
    pad = 32 - len(msg) % 32
    msg += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(msg) + encryptor.finalize()).decode("ascii")


def text_xml(openid: str, content: str, msg_id: str | int | None = None, to="gh_redmailbox") -> str:
    msg_id = msg_id or uuid.uuid4().int % 10**18
    return (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


class WeChatPusher:
    """Sends pushes to /wechat/callback exactly as WeChat's servers do."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.token = app.config["WECHAT_TOKEN"]

    def query(self, *, safe=False, encrypt=None, openid="o", bad=False):
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
        q = {"signature": sha1_signature(self.token, timestamp, nonce), "timestamp": timestamp,
             "nonce": nonce, "openid": openid}
        if bad:
            q["signature"] = "0" * 40
        if safe:
            q["encrypt_type"] = "aes"
            q["msg_signature"] = sha1_signature(self.token, timestamp, nonce, encrypt)
        return q

    def push(self, xml: str, *, safe=False, client=None, tamper=False, bad=False, content_type="text/xml"):
        client = client or self.client
        if not safe:
            return client.post("/wechat/callback", query_string=self.query(bad=bad), data=xml.encode("utf-8"),
                               content_type=content_type)
        cfg = self.app.config
        encrypted = aes_encrypt(xml, cfg["WECHAT_AES_KEY"], cfg["WECHAT_APPID"])
        query = self.query(safe=True, encrypt=encrypted, bad=bad)
        if tamper:
            query["msg_signature"] = sha1_signature("wrong-token", query["timestamp"], query["nonce"], encrypted)
        envelope = (f"<xml><ToUserName><![CDATA[gh_redmailbox]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        return client.post("/wechat/callback", query_string=query, data=envelope.encode("utf-8"),
                           content_type=content_type)


@pytest.fixture
def pusher(app, client, stub):
    return WeChatPusher(app, client)
