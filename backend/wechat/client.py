"""wechatpy, pointed at WECHAT_API_BASE, with its access token in Redis for every process.

wechatpy hard-codes api.weixin.qq.com for the token fetch and for WeChatWxa, and retries a
40001/42001 forever; this subclass fixes the base URL and retries exactly once."""
import logging

import redis as redis_lib
from flask import current_app
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from ..extensions import redis_client

log = logging.getLogger(__name__)

# 40001 invalid credential, 40014 invalid access_token, 42001 access_token expired.
TOKEN_ERRORS = {40001, 40014, 42001}
INVALID_CODE = 40029
CODE_USED = 40163
REPLY_WINDOW_PASSED = 45015
SUBSCRIPTION_REFUSED = 43101
# 40008 invalid message type: what an account answers a message type its customer service does not
# take (a menu message to a mini-program's customer service).
INVALID_MESSAGE_TYPE = 40008
RISKY_CONTENT = 87014

_pools: dict[str, redis_lib.ConnectionPool] = {}


def raw_pool() -> redis_lib.ConnectionPool:
    """Bytes-mode connections (RQ pickles payloads), one pool per process and URL."""
    cfg = current_app.config
    url = f'{cfg["REDIS_URL"]}|{cfg.get("REDIS_SENTINELS") or ""}|{cfg.get("REDIS_SENTINEL_MASTER") or ""}'
    if url not in _pools:
        _pools[url] = redis_client(cfg).connection_pool
    return _pools[url]


class RetriesStaleTokenOnce:
    """For a wechatpy client (official account or WeCom) built with auto_retry=False: a rejected
    access token is fetched anew and the call retried exactly once (wechatpy's own retry loops)."""

    def _request(self, method, url_or_endpoint, **kwargs):
        params = dict(kwargs.pop("params", None) or {})
        try:
            return super()._request(method, url_or_endpoint, params=dict(params), **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS or "access_token" in params:
                raise
        log.info("%s access token rejected; fetching a new one and retrying once", type(self).__name__)
        self.session.delete(self.access_token_key)
        self.fetch_access_token()
        params["access_token"] = self.session.get(self.access_token_key)
        return super()._request(method, url_or_endpoint, params=params, **kwargs)


class RedMailboxWeChatClient(RetriesStaleTokenOnce, WeChatClient):
    def __init__(self, appid, secret, base, **kwargs):
        super().__init__(appid, secret, auto_retry=False, **kwargs)
        self.base = base if base.endswith("/") else base + "/"
        self.API_BASE_URL = self.base + "cgi-bin/"
        self.wxa.API_BASE_URL = self.base

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.base + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret})



def get_client() -> RedMailboxWeChatClient:
    cfg = current_app.config
    return RedMailboxWeChatClient(
        cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], cfg["WECHAT_API_BASE"],
        session=RedisStorage(redis_lib.Redis(connection_pool=raw_pool()), prefix="wechatpy"), timeout=cfg["WECHAT_HTTP_TIMEOUT"])
