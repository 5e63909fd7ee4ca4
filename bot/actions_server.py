"""The Rasa action server (rasa_sdk) behind a shared secret: only our Rasa server may call it.

rasa_sdk's /webhook runs any action for any sender it is given, with the backend's bot service token;
called directly it acted for whoever the caller named. Rasa sends ACTIONS_SECRET in the
X-Actions-Secret header (bot/endpoints.yml, action_endpoint.headers); every request but /health
without it is answered 401. Listens on ACTIONS_HOST (default 127.0.0.1)."""
import argparse
import hmac
import logging
import os
import sys

HEADER = "X-Actions-Secret"
OPEN_PATHS = ("/health",)


def create_app(secret: str, package: str = "actions"):
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response

    if not secret:
        raise SystemExit("ACTIONS_SECRET is not set: the action server would act for anyone who calls it")
    if os.environ.get("RED_MAILBOX_ENV") == "production" and secret.startswith("dev-"):
        raise SystemExit("refusing to start in production: ACTIONS_SECRET is missing")
    app = sdk_app(package, cors_origins=None)

    @app.middleware("request")
    async def require_secret(request):
        if request.path in OPEN_PATHS:
            return None
        if not hmac.compare_digest(request.headers.get(HEADER, "").encode(), secret.encode()):
            return response.json({"error": {"code": "unauthorized", "message": "missing or wrong secret"}},
                                 status=401)
        return None

    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", default="actions")
    parser.add_argument("--port", type=int, default=int(os.environ.get("ACTIONS_PORT", "5055")))
    parser.add_argument("--host", default=os.environ.get("ACTIONS_HOST", "127.0.0.1"))
    args = parser.parse_args(argv)
    from rasa_sdk import utils
    utils.configure_colored_logging("INFO")
    utils.update_sanic_log_level()
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    app = create_app(os.environ.get("ACTIONS_SECRET", ""), args.actions)
    logging.getLogger(__name__).info("action server on http://%s:%s (secret required)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    sys.exit(main())
