"""The console's one blueprint. Its pages live in several modules (views, desk, board, phone,
intake, registry), each importing `bp` from here, so none of them imports another."""
from flask import Blueprint

from .. import pages
from ..labels import label
from ..orders.inputs import APPEAL_GROUNDS, PAUSE_REASONS
from .auth import csrf_token

bp = Blueprint("console", __name__, url_prefix="/console")
pages.register(bp)  # one DomainError handler: a POST's refusal flashed where `pages.back_to` says


@bp.record_once
def _template_globals(state):
    # Globals (not a context processor) so imported macros see them too.
    state.app.jinja_env.globals.update(csrf_token=csrf_token, label=label, pause_reasons=PAUSE_REASONS,
                                       appeal_grounds=APPEAL_GROUNDS)
