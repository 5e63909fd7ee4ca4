"""Dispatch: the claim queues in Redis, claims, the SLA and archive ticks, the staff's listings."""


def init_app(app, api) -> None:
    from . import hooks, jobs
    from .api import blp
    api.register_blueprint(blp)
    hooks.connect()
    jobs.register()
