"""/public/: the disclosure pages (no login). Views only render what public.services computed."""
from flask import Blueprint, current_app, render_template, request

from ..wishes import services as wish_board
from . import services

bp = Blueprint("public", __name__, url_prefix="/public")


@bp.after_request
def _cacheable(response):
    if response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={int(current_app.config['PUBLIC_CACHE_SECONDS'])}"
    return response


@bp.get("/")
def index():
    return render_template("public/index.html", page=services.index())


@bp.get("/communities/<int:community_id>")
def community(community_id):
    return render_template("public/community.html", page=services.community_page(community_id))


@bp.get("/disputes")
def disputes():
    return render_template("public/disputes.html", page=services.disputes_page())
@bp.get("/wishes")
def wishes():
    """微心愿 公示: what was wished and who made it come true, masked (wishes.services.public_board)."""
    return render_template("public/wishes.html", wishes=wish_board.public_board())


@bp.get("/assessment")
def assessment():
    """每月三率 per community and grid (orders.assessment), no names of people."""
    return render_template("public/assessment.html", page=services.assessment_page(request.args.get("month")))
