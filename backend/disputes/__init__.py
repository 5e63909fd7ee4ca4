"""Disputes (矛盾纠纷) settled in five steps, 定、商、决、办、馈."""


def init_app(app, api) -> None:
    from . import jobs
    from .api import blp
    api.register_blueprint(blp)
    jobs.register()
