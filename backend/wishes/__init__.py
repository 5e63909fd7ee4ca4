"""微心愿 and 双报到: residents' small wishes on a board, claimed and fulfilled by the party members,
volunteers and partner units (结对共建单位) registered with their community, and the hours they give."""


def init_app(app, api) -> None:
    from . import jobs
    from .api import blp
    api.register_blueprint(blp)
    jobs.register()
