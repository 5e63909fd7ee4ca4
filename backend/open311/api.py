"""/open311/v2/: the Open311 GeoReport v2 endpoints, in JSON or XML by the path's suffix. Errors
follow the spec (a list of {code, description}), not the API's own contract, because Open311
clients parse those."""
from flask import Blueprint, request
from werkzeug.exceptions import HTTPException

from ..errors import DomainError
from ..extensions import db
from ..urls import external_url
from . import formats, services

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(json,xml):fmt>"


def _fmt() -> str:
    return (request.view_args or {}).get("fmt") or ("xml" if request.path.endswith(".xml") else "json")


@bp.errorhandler(DomainError)
def _domain_error(error):
    db.session.rollback()
    description = error.message
    if error.fields:
        description += " (" + ", ".join(sorted(error.fields)) + ")"
    response = formats.error(error.status, description, _fmt())
    if getattr(error, "retry_after", None):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


@bp.errorhandler(HTTPException)
def _http_error(error):
    return formats.error(error.code or 500, error.description or error.name, _fmt())


@bp.get(f"/discovery.{FMT}")
def discovery(fmt):
    return formats.render("discovery", services.discovery(external_url(bp.url_prefix)), fmt)


@bp.get(f"/services.{FMT}")
def service_list(fmt):
    return formats.render("services", services.service_list(), fmt)


@bp.get(f"/services/<string:code>.{FMT}")
def service_definition(code, fmt):
    return formats.render("definition", services.service_definition(code), fmt)


@bp.get(f"/requests.{FMT}")
def requests_list(fmt):
    return formats.render("requests", [services.describe(o) for o in services.find_requests(request.args)], fmt)


@bp.post(f"/requests.{FMT}")
def requests_create(fmt):
    form = request.form if request.form else (request.get_json(silent=True) or {})
    order = services.create_request(form.get("api_key"), form, request.headers.get("Idempotency-Key"))
    return formats.render("requests", [services.created(order)], fmt, status=200 if order.replayed else 201)


@bp.get(f"/requests/<string:number>.{FMT}")
def request_detail(number, fmt):
    return formats.render("requests", [services.describe(services.get_request(number, request.args.get("api_key")))], fmt)


@bp.get(f"/tokens/<string:token>.{FMT}")
def token(token, fmt):
    return formats.render("requests", [services.token(token)], fmt)
