from flask_smorest import Blueprint

from ..apidoc import AUTH, BODY, errors
from . import tokens
from ..ratelimits import login_limits
from . import services
from .schemas import LoginSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Login")


@blp.route("/login", methods=["POST"])
@login_limits(services.staff_exists)
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@errors(blp, 401, 429, *BODY)
def login(data):
    """Staff login → bearer token with role and expiry. After RATE_LIMIT_LOGIN_ACCOUNT failed attempts
    on one account the account is locked for RATE_LIMIT_LOGIN_LOCK_MINUTES; an address is limited only
    for failures on accounts that do not exist (RATE_LIMIT_LOGIN_IP) or on many different accounts
    (RATE_LIMIT_LOGIN_IP_ACCOUNTS). A 429 says why and for how long, with Retry-After."""
    return services.login(data["username"], data["password"])


@blp.route("/logout", methods=["POST"])
@blp.response(204)
@errors(blp, *AUTH)
def logout():
    """Log out (staff or resident token): every token and session cookie of the account ends, on
    every device, this token included. A password reset and deactivation do the same."""
    services.logout(tokens.require("staff", "resident"))
