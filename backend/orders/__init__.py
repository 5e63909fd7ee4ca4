"""Orders (工单): their lifecycle table, intake, time limits, the ladder, figures and photos."""


def init_app(app, api) -> None:
    from . import notices
    from .api import blp, files
    api.register_blueprint(blp)
    app.register_blueprint(files)  # /uploads/: the stored photos, each checked against its order
    notices.connect()
