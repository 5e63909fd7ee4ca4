"""月度考核 (issue 26, item 5): the month's ranking of the units in the admin's scope — communities,
grids, workers, departments, property companies — sortable, with the deductions per order, and its
XLSX report. Everything is computed by `orders.assessment` (the dashboard and 公示 read it too)."""
from urllib.parse import quote

from flask import Response, current_app, g, render_template, request

from .. import clock
from ..orders import assessment
from . import forms
from .auth import login_required
from .blueprint import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month(query: dict) -> tuple[int, int]:
    if query.get("month"):
        year, month = query["month"].split("-")
        return int(year), int(month)
    now = clock.local(clock.now(), current_app.config["TIMEZONE"])
    return now.year, now.month


@bp.get("/assessment")
@login_required
def assessment_page():
    query = forms.load_assessment_query(request.args)
    found = assessment.for_staff(g.actor, *_month(query))
    rows = assessment.ranked(found[query["level"]], query["sort"], query["order"] == "desc")
    return render_template("console/assessment.html", found=found, rows=rows, query=query,
                           levels=assessment.LEVELS, level_names=assessment.LEVEL_NAMES,
                           columns=assessment.COLUMNS, rates=assessment.RATE_COLUMNS, formulas=assessment.FORMULAS)


@bp.get("/export/assessment.xlsx")
@login_required
def assessment_export():
    query = forms.load_assessment_query(request.args)
    year, month = _month(query)
    found = assessment.for_staff(g.actor, year, month)
    response = Response(assessment.xlsx(found, found["scope_name"]), mimetype=XLSX)
    name = f"月度考核_{year}{month:02d}.xlsx"
    response.headers["Content-Disposition"] = f"attachment; filename=\"assessment.xlsx\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "private, no-store"
    return response
