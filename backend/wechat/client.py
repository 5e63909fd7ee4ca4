"""wechatpy, pointed at WECHAT_API_BASE, with its access token in Redis for every process.

wechatpy hard-codes api.weixin.qq.com for the token fetch and for WeChatWxa, and retries a
40001/42001 forever; this subclass fixes the base URL and retries exactly once."""
import logging
import os

import redis as redis_lib
import requests
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


class TokenStorage(RedisStorage):
    """The access token in Redis for every process, read once per client: wechatpy reads it before
    every call, and a client lives for one call, or one batch of content checks (one HTTP session).
    A token WeChat rejects is deleted and fetched anew (RetriesStaleTokenOnce) through here too, and
    another process's newer token is one WeChat accepts beside the old one for minutes."""

    def __init__(self, redis, prefix="wechatpy"):
        super().__init__(redis, prefix)
        self._read: dict = {}

    def get(self, key, default=None):
        if key not in self._read:
            self._read[key] = super().get(key)
        value = self._read[key]
        return default if value is None else value

    def set(self, key, value, ttl=None):
        self._read.pop(key, None)
        super().set(key, value, ttl)

    def delete(self, key):
        self._read.pop(key, None)
        super().delete(key)


def environment_once(session: requests.Session, base: str) -> None:
    """What requests reads from the environment on every request (the proxy variables, twice, the
    CA bundle, ~/.netrc; a tenth of a content check's CPU), read once for the client's one host."""
    proxies = requests.utils.get_environ_proxies(base)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    session.trust_env = False
    session.proxies.update(proxies)
    if bundle:
        session.verify = bundle


class RedMailboxWeChatClient(RetriesStaleTokenOnce, WeChatClient):
    def __init__(self, appid, secret, base, **kwargs):
        super().__init__(appid, secret, auto_retry=False, **kwargs)
        self.base = base if base.endswith("/") else base + "/"
        environment_once(self._http, self.base)
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
        session=TokenStorage(redis_lib.Redis(connection_pool=raw_pool()), prefix="wechatpy"), timeout=cfg["WECHAT_HTTP_TIMEOUT"])
