"""A stand-in for WeChat's server API (api.weixin.qq.com), for `make run` and tests.

    python -m stubs.wechat_api --port ${WECHAT_STUB_PORT:-5100}

Answers like WeChat for cgi-bin/token, sns/jscode2session, cgi-bin/message/custom/send,
cgi-bin/message/subscribe/send, wxa/msg_sec_check and cgi-bin/media/get, with WeChat's error
codes; and, standing in for open.weixin.qq.com, web OAuth for H5 pages: connect/oauth2/authorize
(snsapi_base: straight back to redirect_uri with a code and the state) and sns/oauth2/access_token
(code → openid). The browser's WeChat user is a cookie the stub sets on first visit, so one
browser is one person with one openid, as inside WeChat. Response bodies come from
tests/fixtures/wechat/. Control:

    GET  /_stub/calls            what it received, newest last (JSON)
    POST /_stub/reset            forget calls and configuration
    POST /_stub/config           {"fail_next": [{"path": "cgi-bin/message/custom/send", "errcode": 45015,
                                                 "count": 1}],
                                  "out_of_window": [openid], "refused": [openid or "openid:template"],
                                  "risky_words": [...], "expire_tokens": true,
                                  "codes": {"<code>": {"openid": ..., "unionid": ...}},
                                  "invalid_codes": [...], "delay": {"<path>": seconds},
                                  "oauth_users": {"<browser user cookie>": openid},
                                  "account": "miniprogram" (menu messages refused with 40008, as a
                                             mini-program's customer service does) | "official_account"}
Any code is valid once (its openid derives from the code) unless listed as invalid; a reused
code gets 40163 like WeChat's. media/get answers 40007 for a media id starting with "bad", and an
HTML page labelled image/jpeg for one starting with "disguised".
"""
import argparse
import hashlib
import itertools
import json
import secrets
import threading
import time
from urllib.parse import urlencode
from pathlib import Path

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.serving import WSGIRequestHandler, run_simple

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "wechat"


def _fixture(name: str, **values) -> dict:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return json.loads(text)


class StubState:
    def __init__(self):
        self.lock = threading.Lock()
        self.errors = json.loads((FIXTURES / "errors.json").read_text(encoding="utf-8"))
        self.reset()

    def reset(self):
        with self.lock:
            self.calls: list[dict] = []
            self.fail_next: list[dict] = []
            self.out_of_window: set[str] = set()
            self.refused: set[str] = set()
            self.risky_words: list[str] = []
            self.codes: dict[str, dict] = {}
            self.invalid_codes: set[str] = set()
            self.used_codes: set[str] = set()
            self.delay: dict[str, float] = {}
            self.valid_tokens: set[str] = set()
            self.oauth_codes: dict[str, str] = {}  # code → openid, each code good once
            self.oauth_users: dict[str, str] = {}
            self.expired_tokens: set[str] = set()
            self.counter = itertools.count(1)
            # "miniprogram": customer-service messages as a mini-program's customerServiceMessage.send
            # takes them (text, image, link, miniprogrampage; a menu message is 40008).
            self.account = "official_account"

    def configure(self, data: dict):
        if data.get("reset"):
            self.reset()
        with self.lock:
            for rule in data.get("fail_next", []):
                self.fail_next.append({"path": rule.get("path"), "errcode": int(rule["errcode"]),
                                       "count": int(rule.get("count", 1))})
            self.out_of_window |= set(data.get("out_of_window", []))
            self.out_of_window -= set(data.get("in_window", []))
            self.refused |= set(data.get("refused", []))
            self.risky_words = list(data.get("risky_words", self.risky_words))
            self.codes.update(data.get("codes", {}))
            self.oauth_users.update(data.get("oauth_users", {}))
            self.invalid_codes |= set(data.get("invalid_codes", []))
            self.delay.update({k: float(v) for k, v in data.get("delay", {}).items()})
            self.account = data.get("account", self.account)
            if data.get("expire_tokens"):
                self.expired_tokens |= self.valid_tokens
                self.valid_tokens.clear()

    def injected_error(self, path: str) -> int | None:
        with self.lock:
            for rule in self.fail_next:
                if rule["count"] > 0 and rule["path"] in (None, path):
                    rule["count"] -= 1
                    return rule["errcode"]
        return None


# Calls made before there is an access token (they authenticate with appid and secret or a code).
_NO_ACCESS_TOKEN = ("sns/jscode2session", "sns/oauth2/access_token", "connect/oauth2/authorize")
OAUTH_USER_COOKIE = "stub_wechat_user"


def _openid_of(user: str) -> str:
    return "o" + hashlib.sha1(("user:" + user).encode()).hexdigest()[:27]


def create_app(state: StubState | None = None) -> Flask:
    app = Flask(__name__)
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    st = state or StubState()
    app.extensions["wechat_stub"] = st

    def error(code: int):
        return jsonify({"errcode": code, "errmsg": st.errors.get(str(code), "error")})

    @app.before_request
    def record():
        if request.path.startswith("/_stub"):
            return None
        path = request.path.lstrip("/")
        body = request.get_json(silent=True, force=True) if request.data else None
        with st.lock:
            st.calls.append({"path": path, "method": request.method, "query": request.args.to_dict(),
                             "json": body, "at": time.time()})
            delay = st.delay.get(path, 0)
        if delay:
            time.sleep(delay)
        code = st.injected_error(path)
        if code is not None:
            return error(code)
        if path not in ("cgi-bin/token", "cgi-bin/gettoken"):
            token = request.args.get("access_token")
            with st.lock:
                if token in st.expired_tokens:
                    return error(42001)
                if token not in st.valid_tokens and path not in _NO_ACCESS_TOKEN:
                    return error(40001)
        return None

    @app.get("/cgi-bin/token")
    def token():
        if request.args.get("grant_type") != "client_credential" or not request.args.get("appid"):
            return error(40013)
        with st.lock:
            value = f"stub-token-{next(st.counter)}"
            st.valid_tokens.add(value)
        return jsonify(_fixture("token.json", token=value))

    @app.get("/sns/jscode2session")
    def jscode2session():
        code = request.args.get("js_code", "")
        with st.lock:
            if not code or code in st.invalid_codes:
                return error(40029)
            if code in st.used_codes:
                return error(40163)
            st.used_codes.add(code)
            known = st.codes.get(code, {})
        digest = hashlib.sha1(code.encode()).hexdigest()
        body = _fixture("jscode2session.json", openid=known.get("openid", "o" + digest[:27]),
                        session_key=hashlib.sha256(code.encode()).hexdigest()[:24],
                        unionid=known.get("unionid", ""))
        if not body["unionid"]:
            body.pop("unionid")
        return jsonify(body)

    @app.get("/connect/oauth2/authorize")
    def oauth_authorize():
        args = request.args
        if not args.get("appid") or args.get("response_type") != "code" or not args.get("redirect_uri"):
            return error(40013 if not args.get("appid") else 10003)
        if args.get("scope") not in ("snsapi_base", "snsapi_userinfo"):
            return error(10005)
        user = request.cookies.get(OAUTH_USER_COOKIE) or secrets.token_hex(8)
        code = secrets.token_hex(16)
        with st.lock:
            st.oauth_codes[code] = st.oauth_users.get(user) or _openid_of(user)
        target = args["redirect_uri"] + ("&" if "?" in args["redirect_uri"] else "?") + urlencode(
            {"code": code, "state": args.get("state", "")})
        response = redirect(target, 302)
        response.set_cookie(OAUTH_USER_COOKIE, user, max_age=365 * 24 * 3600, httponly=True)
        return response

    @app.get("/sns/oauth2/access_token")
    def oauth_access_token():
        args = request.args
        if not args.get("appid") or not args.get("secret"):
            return error(40013 if not args.get("appid") else 40125)
        if args.get("grant_type") != "authorization_code":
            return error(40002)
        with st.lock:
            openid = st.oauth_codes.pop(args.get("code", ""), None)
        if openid is None:
            return error(40029)
        return jsonify(_fixture("oauth2_access_token.json", openid=openid,
                                access_token="stub-web-" + secrets.token_hex(8),
                                refresh_token="stub-refresh-" + secrets.token_hex(8)))

    @app.post("/cgi-bin/message/custom/send")
    def custom_send():
        data = request.get_json(force=True, silent=True) or {}
        with st.lock:
            if data.get("touser") in st.out_of_window:
                return error(45015)
        types = ("text", "image", "link", "miniprogrampage") + (("msgmenu",) if st.account != "miniprogram" else ())
        if not data.get("touser") or data.get("msgtype") not in types:
            return error(40003 if not data.get("touser") else 40008)
        return jsonify(_fixture("ok.json"))

    # 企业微信 (WeCom): its own token endpoint and application messages (qyapi.weixin.qq.com).
    @app.get("/cgi-bin/gettoken")
    def wecom_token():
        if not request.args.get("corpid") or not request.args.get("corpsecret"):
            return error(40013)
        with st.lock:
            value = f"stub-wecom-token-{next(st.counter)}"
            st.valid_tokens.add(value)
        return jsonify({"errcode": 0, "errmsg": "ok", "access_token": value, "expires_in": 7200})

    @app.post("/cgi-bin/message/send")
    def wecom_send():
        data = request.get_json(force=True, silent=True) or {}
        if not data.get("touser") or not data.get("agentid"):
            return error(40003 if not data.get("touser") else 40056)
        if data.get("msgtype") not in ("text", "textcard", "markdown", "news"):
            return error(40008)
        with st.lock:
            invalid = [u for u in data["touser"].split("|") if u in st.refused]
        return jsonify({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid), "msgid": f"wecom-{next(st.counter)}"})

    @app.post("/cgi-bin/message/subscribe/send")
    def subscribe_send():
        data = request.get_json(force=True, silent=True) or {}
        user, template = data.get("touser"), data.get("template_id")
        with st.lock:
            if user in st.refused or f"{user}:{template}" in st.refused:
                return error(43101)
            msgid = next(st.counter)
        return jsonify(_fixture("subscribe_send.json", msgid=msgid))

    @app.post("/wxa/msg_sec_check")
    def msg_sec_check():
        content = (request.get_json(force=True, silent=True) or {}).get("content", "")
        with st.lock:
            risky = any(word and word in content for word in st.risky_words)
        return error(87014) if risky else jsonify(_fixture("ok.json"))

    @app.get("/cgi-bin/media/get")
    def media_get():
        media_id = request.args.get("media_id", "")
        if not media_id or media_id.startswith("bad"):
            return error(40007)
        if media_id.startswith("disguised"):  # a page that says it is a JPEG
            return Response(b"<html><script>alert(1)</script></html>", mimetype="image/jpeg")
        return Response((FIXTURES / "media.png").read_bytes(), mimetype="image/png",
                        headers={"Content-Disposition": f'attachment; filename="{media_id}.png"'})

    @app.get("/_stub/calls")
    def calls():
        with st.lock:
            return jsonify(list(st.calls))

    @app.post("/_stub/reset")
    def reset():
        st.reset()
        return jsonify({"ok": True})

    @app.post("/_stub/config")
    def config():
        st.configure(request.get_json(force=True, silent=True) or {})
        return jsonify({"ok": True})

    return app


class QuietQueryHandler(WSGIRequestHandler):
    """Request log without query strings: they carry the app secret and access tokens."""

    def log_request(self, code="-", size="-"):
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s', self.command, path, code)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Local stand-in for WeChat's API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5100)
    args = parser.parse_args(argv)
    run_simple(args.host, args.port, create_app(), threaded=True, request_handler=QuietQueryHandler)


if __name__ == "__main__":
    main()
