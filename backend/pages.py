"""What the HTML faces (console, H5) share, written once: the one DomainError handler of a
blueprint, the bounded photo read, and the form loader.

A POST view says where its refusal is shown with `@back_to(endpoint)`: the handler rolls back,
flashes the refusal (always Chinese, with its fields' words) and redirects there, or re-renders the
form when `endpoint` is a callable. Any other refusal — a GET, or a status listed in `pages` — is the
error page (backend.errors). The views themselves hold no `except DomainError`."""
from flask import current_app, flash, redirect, request, url_for
from marshmallow import Schema, ValidationError

from .errors import DomainError, ValidationFailed, handle_domain_error
from .extensions import db
from .labels import label
from .text import clean_all


def back_to(endpoint, *, pages: tuple[int, ...] = (), **fixed):
    """Mark a POST view: a refusal goes back to `endpoint` (its URL arguments taken from this
    view's), or to `endpoint(error)` when it is a callable that renders the form again."""
    def mark(view):
        view.refused_back = (endpoint, pages, fixed)
        return view
    return mark




def refused(error: DomainError):
    """The one DomainError handler of an HTML blueprint."""
    db.session.rollback()  # whatever the view read or half-set before the refusal
    view = current_app.view_functions.get(request.endpoint)
    back = getattr(view, "refused_back", None)
    if request.method != "POST" or back is None or error.status in back[1]:
        return handle_domain_error(error)
    endpoint, _, fixed = back
    if callable(endpoint):
        return endpoint(error)
    flash(("error", error.message))  # Chinese (tests/architecture/test_chinese_only.py); a form's names the fields
    rule = next(iter(current_app.url_map.iter_rules(endpoint)))
    args = {k: v for k, v in (request.view_args or {}).items() if k in rule.arguments}
    return redirect(url_for(endpoint, **{**args, **fixed}))


def register(blueprint) -> None:
    blueprint.register_error_handler(DomainError, refused)


def upload(name: str = "photo") -> bytes:
    """The form's file, read no further than one byte past PHOTO_MAX_BYTES (enough to know it is
    too large); empty when none was chosen. backend.orders.photos checks what it is."""
    given = request.files.get(name)
    if given is None or not given.filename:
        return b""
    return given.read(int(current_app.config["PHOTO_MAX_BYTES"]) + 1)


def all_uploads(name: str = "photo", most: int = 9) -> list[bytes]:
    """Every file of a multiple input (at most `most`), each read as `upload` reads one."""
    limit = int(current_app.config["PHOTO_MAX_BYTES"]) + 1
    return [f.read(limit) for f in request.files.getlist(name)[:most] if f.filename]


def uploads(name: str = "photo") -> list[bytes]:
    body = upload(name)
    return [body] if body else []


def load(schema: Schema, form=None, names: str = "form_fields") -> dict:
    """A form through its schema: control characters out, blanks meaning "not given", the CSRF
    token aside; ValidationFailed (422) with the fields' messages when it does not pass."""
    form = request.form if form is None else form
    data = {k: v for k, v in clean_all({k: form.get(k) for k in form if k != "csrf"}).items()
            if not (isinstance(v, str) and not v.strip())}
    try:
        return schema.load(data)
    except ValidationError as error:
        raise ValidationFailed(invalid(error, names), fields=error.messages) from None


def invalid(error: ValidationError, group: str = "form_fields") -> str:
    """One Chinese sentence naming the fields a form got wrong (their words from labels.yml)."""
    names = sorted(label(group, k) for k in (error.messages if isinstance(error.messages, dict) else {}))
    return "请检查填写的内容：" + "、".join(names) if names else "请检查填写的内容"
