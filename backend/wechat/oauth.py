"""WeChat web OAuth (snsapi_base) for the resident H5 pages: WeChat's in-app browser sends the
resident to WeChat, which sends them back with a code; the code gives their openid — the same
resident record the mini-program's login finds."""
import logging

import requests
from flask import current_app
from wechatpy.exceptions import WeChatOAuthException
from wechatpy.oauth import WeChatOAuth

from ..errors import Unauthorized
from .services import WechatUnavailable, resident_for_openid

log = logging.getLogger(__name__)


def _oauth(redirect_uri: str = "", state: str = "") -> WeChatOAuth:
    cfg = current_app.config
    client = WeChatOAuth(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], redirect_uri, scope="snsapi_base",
                         state=state)
    # Class attributes in wechatpy; per instance here, so tests and make run reach the local stub.
    client.API_BASE_URL = cfg["WECHAT_API_BASE"] if cfg["WECHAT_API_BASE"].endswith("/") else cfg["WECHAT_API_BASE"] + "/"
    client.OAUTH_BASE_URL = cfg["WECHAT_OAUTH_BASE"] if cfg["WECHAT_OAUTH_BASE"].endswith("/") else cfg["WECHAT_OAUTH_BASE"] + "/"
    return client


def authorize_url(redirect_uri: str, state: str) -> str:
    return _oauth(redirect_uri, state).authorize_url


def resident_for_code(code: str):
    """The resident behind an OAuth code (created on first sight), or 401 for a bad or used code."""
    try:
        answer = _oauth().fetch_access_token(code)
    except WeChatOAuthException as exc:
        if exc.errcode in (40029, 40163):
            raise Unauthorized("微信授权已失效，请重新打开页面", code="invalid_wechat_code") from None
        log.warning("web OAuth access_token failed with errcode %s", exc.errcode)
        raise WechatUnavailable("微信授权暂不可用，请稍后再试") from None
    except requests.RequestException as exc:
        log.warning("web OAuth unreachable: %s", type(exc).__name__)
        raise WechatUnavailable("微信授权暂不可用，请稍后再试") from None
    openid = answer.get("openid")
    if not openid:
        raise WechatUnavailable("微信授权没有返回用户")
    return resident_for_openid(openid, answer.get("unionid"))
