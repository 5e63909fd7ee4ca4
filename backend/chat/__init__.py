"""The chat API and the gateway to the Rasa bot; the bot's own service API."""


def init_app(app, api) -> None:
    from .api import blp, bot_blp
    api.register_blueprint(blp)
    api.register_blueprint(bot_blp)
