"""Residents, staff, actors (who sees what) and API tokens."""


def init_app(app, api) -> None:
    from .api import blp
    api.register_blueprint(blp)
