"""The console's one blueprint. Its pages live in several modules (views, desk, board, phone,
intake, registry), each importing `bp` from here, so none of them imports another."""
from flask import Blueprint

from ..labels import label
from .auth import csrf_token

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.record_once
def _template_globals(state):
    # Globals (not a context processor) so imported macros see them too.
    state.app.jinja_env.globals.update(csrf_token=csrf_token, label=label)
