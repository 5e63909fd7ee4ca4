"""The order desk: the filtered, searched, paged list of every order in scope, its CSV and XLSX
export, and the staff's photo route. The filters are loaded by a schema, the rest is
`orders.desk` (which applies the scope)."""
from urllib.parse import quote

from flask import Response, current_app, g, render_template, request, stream_with_context
from marshmallow import ValidationError

from .. import clock, storage
from ..grids import staff as staff_service
from ..grids.scope import grids_in_scope
from ..categories import taxonomy
from ..errors import DomainError
from ..labels import label
from ..orders import desk, photos, states
from ..orders.models import CHANNELS, GRADES
from ..pages import invalid as invalid_form
from . import forms
from .auth import login_required
from .blueprint import bp

PAGE = 50  # orders per page of the desk
EXPORTS = {"csv": ("text/csv; charset=utf-8", desk.export_csv),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", desk.export_xlsx)}


def _choices() -> dict:
    """The filter form's options, as (value, shown text), all within the staff member's scope."""
    return {"options": {
        "state": [(s, label("states", s)) for s in states.STATES],
        "grid": [(gr.id, gr.name) for gr in grids_in_scope(g.actor)],
        "grade": [(x, label("grades", x)) for x in GRADES],
        "channel": [(c, label("channels", c)) for c in CHANNELS],
        "assignee": [(s.id, f"{s.name}（{label('roles', s.role)}）") for s in staff_service.visible(g.actor)]},
        "categories": taxonomy.labels(1) + taxonomy.labels(2)}


@bp.get("/orders")
@login_required
def orders():
    error, page = None, {"orders": [], "total": 0, "total_capped": False, "next": None}
    try:
        filters, after = forms.load_desk_query(request.args)
        page = desk.search(g.actor, filters, after=after, limit=PAGE)
    except ValidationError as invalid:
        error = invalid_form(invalid)
    except DomainError as refused:
        error = refused.message
    # The next page keeps every filter and adds the cursor.
    args = request.args.to_dict(flat=False)
    args.pop("after", None)
    return render_template("console/orders.html", page=page, error=error, args=args, now=clock.now(),
                           **_choices()), 400 if error else 200


@bp.get("/export/orders.<any(csv,xlsx):fmt>")
@login_required
def export(fmt):
    try:
        filters, _ = forms.load_desk_query(request.args)
    except ValidationError as invalid:
        return render_template("console/orders.html", page={"orders": [], "total": 0, "total_capped": False, "next": None},
                               error=invalid_form(invalid), args={}, now=clock.now(), **_choices()), 400
    mimetype, rows = EXPORTS[fmt]
    name = f"工单导出_{clock.local(clock.now(), current_app.config['TIMEZONE']).strftime('%Y%m%d_%H%M')}.{fmt}"
    response = Response(stream_with_context(rows(g.actor, filters)), mimetype=mimetype)
    # An ASCII fallback for old clients, the Chinese name (RFC 5987) for everyone else.
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"orders.{fmt}\"; filename*=UTF-8''{quote(name)}")
    response.headers["Cache-Control"] = "private, no-store"  # residents' requests and phones
    return response


@bp.get("/photos/<path:name>")
@login_required
def photo(name):
    """A stored photo for a logged-in staff member who may see its order (404 for anyone else)."""
    key, content_type = photos.file_for(g.actor, name)
    response = storage.store().send(key, content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
