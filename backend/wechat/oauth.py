"""WeChat web OAuth (snsapi_base) for the resident H5 pages: WeChat's in-app browser sends the
resident to WeChat, which sends them back with a code; the code gives their openid — the same
resident record the mini-program's login finds."""
from flask import current_app
from wechatpy.oauth import WeChatOAuth

from .services import resident_from_wechat


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
    return resident_from_wechat(lambda: _oauth().fetch_access_token(code), "web OAuth access_token",
                                invalid="微信授权已失效，请重新打开页面", unavailable="微信授权暂不可用，请稍后再试")
