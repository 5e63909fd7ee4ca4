"""WeChat mini-program integration: login (code2session), the message-push callback (signature,
safe-mode AES, MsgId dedupe), bot turns on the worker, the outbound client and its channels."""


def init_app(app, api) -> None:
    from . import models  # noqa: F401  (tables known to metadata before migrations/queries)
    from . import channels, cli, hooks, jobs, wecom
    from .api import auth_blp, bp, mp_blp
    api.register_blueprint(auth_blp)
    api.register_blueprint(mp_blp)
    app.register_blueprint(bp)
    cli.register(app)
    hooks.connect()
    channels.register()
    wecom.register()
    jobs.register()
