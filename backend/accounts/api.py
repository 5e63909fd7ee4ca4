from flask_smorest import Blueprint

from ..apidoc import BODY, errors
from ..ratelimits import login_limits
from . import services
from .schemas import LoginSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Login")


@blp.route("/login", methods=["POST"])
@login_limits
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@errors(blp, 401, 429, *BODY)
def login(data):
    """Staff login → bearer token with role and expiry. After RATE_LIMIT_LOGIN_ACCOUNT failed attempts
    on one account (or RATE_LIMIT_LOGIN_IP from one address) it answers 429 with Retry-After."""
    return services.login(data["username"], data["password"])
