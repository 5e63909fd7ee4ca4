"""Chat (residents), NLU parse (staff) and the bot's service API (the Rasa action server)."""
from flask_smorest import Blueprint

from ..accounts.actors import Actor
from ..accounts.tokens import authenticate_first, rate_key, require
from ..apidoc import AUTH, BODY, ORDER, errors
from ..ratelimits import limit
from ..orders import joining, services as orders
from ..orders.schemas import CandidatesSchema, JoinedSchema, OrderSchema
from . import services
from .schemas import (BotCancelSchema, BotDraftSchema, BotJoinSchema, BotOrderListSchema, BotOrderCreateSchema,
                      BotRatingSchema, BotSenderSchema, ChatReplySchema, ChatSchema, ParseResultSchema, ParseSchema)

blp = Blueprint("chat", __name__, url_prefix="/api/v1", description="Chat with the bot, NLU")
bot_blp = Blueprint("bot", __name__, url_prefix="/api/v1/bot",
                    description="Service API for the Rasa action server (bot service token)")
authenticate_first(blp)
authenticate_first(bot_blp)


@blp.route("/chat", methods=["POST"])
@limit("RATE_LIMIT_CHAT", rate_key)
@blp.arguments(ChatSchema)
@blp.response(200, ChatReplySchema)
@errors(blp, *AUTH, *BODY)
def chat(data):
    """Send a message to the bot; the reply carries an order number when one was created."""
    actor = require("resident")
    return services.handle_message(actor.id, data["text"], channel=data["channel"], client_id=data["client_id"])


@blp.route("/nlu/parse", methods=["POST"])
@blp.arguments(ParseSchema)
@blp.response(200, ParseResultSchema)
@errors(blp, *AUTH, *BODY)
def parse(data):
    """Intent, category (level1/level2/confidence) and entities of a text (staff)."""
    require("staff")
    return services.parse(data["text"])


def _resident(sender: str) -> Actor:
    require("bot")
    return services.resident_for_sender(sender)


@bot_blp.route("/orders", methods=["POST"])
@bot_blp.arguments(BotOrderCreateSchema)
@bot_blp.response(201, OrderSchema)
@bot_blp.alt_response(200, schema=OrderSchema, description="the turn's key was used: its first order")
@errors(bot_blp, *AUTH, *BODY, 404)
def bot_create(data):
    """Create an order on behalf of the resident in this conversation (201), or find the one this
    turn's idempotency_key already made (200)."""
    require("bot")
    order = services.create_for_sender(data)
    return order, 200 if order.replayed else 201


@bot_blp.route("/orders", methods=["GET"])
@bot_blp.arguments(BotSenderSchema, location="query")
@bot_blp.response(200, BotOrderListSchema)
@errors(bot_blp, *AUTH, 404)
def bot_list(args):
    """The resident's orders, newest first (or just the one numbered)."""
    resident = _resident(args["sender_id"])
    if args["number"]:
        return {"orders": [orders.get_order(resident, args["number"])]}
    return {"orders": orders.list_orders(resident, limit=10)}


@bot_blp.route("/orders/<string:number>/rating", methods=["POST"])
@bot_blp.arguments(BotRatingSchema)
@bot_blp.response(200, OrderSchema)
@errors(bot_blp, *AUTH, *BODY, *ORDER)
def bot_rate(data, number):
    """Rate for the resident: 满意 / 基本满意 close the loop, 不满意 reopens (the reply's state says which)."""
    resident = _resident(data.pop("sender_id"))
    return orders.rate(resident, orders.get_order(resident, number), **data)


@bot_blp.route("/orders/<string:number>/cancel", methods=["POST"])
@bot_blp.arguments(BotCancelSchema)
@bot_blp.response(200, OrderSchema)
@errors(bot_blp, *AUTH, *BODY, *ORDER)
def bot_cancel(data, number):
    resident = _resident(data["sender_id"])
    return orders.perform(resident, orders.get_order(resident, number), "cancel")


@bot_blp.route("/orders/duplicates", methods=["POST"])
@bot_blp.arguments(BotDraftSchema)
@bot_blp.response(200, CandidatesSchema)
@errors(bot_blp, *AUTH, *BODY, 404)
def bot_duplicates(data):
    """附议: the open orders the resident's draft may repeat (number and state), before the bot sends it."""
    resident = _resident(data.pop("sender_id"))
    return {"candidates": joining.candidates_for(resident, **data)}


@bot_blp.route("/orders/<string:number>/join", methods=["POST"])
@bot_blp.arguments(BotJoinSchema)
@bot_blp.response(200, JoinedSchema)
@errors(bot_blp, *AUTH, *BODY, *ORDER)
def bot_join(data, number):
    """附议 for the resident: they follow this order as a co-reporter instead of sending their draft."""
    resident = _resident(data.pop("sender_id"))
    return joining.join(resident, number, **data)
