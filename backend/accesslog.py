"""gunicorn's access log (Procfile: --logger-class backend.accesslog.AccessLog), without the query
string of WeChat's callback: it carries each push's signature, timestamp, nonce and the resident's
openid, which anyone reading the log could otherwise copy into a push of their own."""
from gunicorn.glogging import Logger

# Paths whose query strings never reach the log.
QUIET_PATHS = ("/wechat/",)


class AccessLog(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = environ.get("PATH_INFO", "")
        if path.startswith(QUIET_PATHS) and environ.get("QUERY_STRING"):
            atoms["r"] = f"{environ.get('REQUEST_METHOD', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}"
            atoms["q"] = ""
        return atoms
