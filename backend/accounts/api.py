from flask_smorest import Blueprint

from ..apidoc import BODY, errors
from . import services
from .schemas import LoginSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Login")


@blp.route("/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@errors(blp, 401, 429, *BODY)
def login(data):
    """Staff login → bearer token with role and expiry."""
    return services.login(data["username"], data["password"])
