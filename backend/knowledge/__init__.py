"""知识库 (issue 23): the answers each district, street and community keeps itself, edited by staff on
the console and answered by the bot at once (retrieval over the resident's scope, no retraining);
the questions it could not answer, grouped for the staff who can."""


def init_app(app, api) -> None:
    from .api import bot_blp
    api.register_blueprint(bot_blp)
