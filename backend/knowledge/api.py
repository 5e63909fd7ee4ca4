"""The 知识库 for the bot: the action server asks on the resident's behalf (bot service token)."""
from flask_smorest import Blueprint

from ..accounts.tokens import authenticate_first, require
from ..apidoc import AUTH, BODY, errors
from ..chat.services import resident_for_sender
from . import services
from .schemas import BotAnswerSchema, BotAskSchema

bot_blp = Blueprint("bot_knowledge", __name__, url_prefix="/api/v1/bot/knowledge",
                    description="The 知识库 answers (Rasa action server, bot service token)")
authenticate_first(bot_blp)


@bot_blp.route("/answer", methods=["POST"])
@bot_blp.arguments(BotAskSchema)
@bot_blp.response(200, BotAnswerSchema)
@errors(bot_blp, *AUTH, *BODY, 404)
def bot_answer(data):
    """The entry of the resident's community, street or district that answers the question
    (answered), the two closest (offered), or none (declined; the question joins 待补充)."""
    require("bot")
    return services.ask(resident_for_sender(data["sender_id"]).id, data["text"], hint=data["hint"],
                        hint_confidence=data["hint_confidence"])
