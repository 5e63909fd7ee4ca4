"""Open311 GeoReport v2 over our orders: services are the taxonomy's level-2 nodes (grouped by their
top level), requests are orders. What a GET shows anyone is what 公示 lists, no more
(`public.services.DONE_STATES`, `listed`, `text_public`): finished orders (resolved, rated, closed),
no cancelled or private ones; a request's words (description, address, result) only once WeChat's
content check passed, and masked; never an openid or a resident id.

Open orders are not public. 公示 is 结果公开 — the disclosure of results — and an open order is a
resident's words nobody has yet read as a whole: staff decide whether a request is private
(`make_private`) while they handle it, and until then the masking alone would stand between a
stranger and whatever the resident typed. (Before this, `GET /requests` listed every open order of
the last 90 days, to anyone, without a key.) A partner that sends its `api_key` also sees the
requests it submitted itself, open or not: they are its own words, and it needs their status.

Mapping: service_request_id = order number; status open/closed (open while someone owes work);
agency_responsible = the current rung (the department's or property company's name there); expected_datetime = due_at;
status_notes = the latest public note (the result once resolved, else the state)."""
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from .. import clock, ratelimits
from ..accounts.actors import Actor
from ..categories import taxonomy
from ..errors import DomainError, Forbidden, NotFound
from ..extensions import db
from ..labels import label
from ..masking import mask
from ..orders import services as orders, states
from ..orders.models import Order, OrderEvent
from ..public.services import DONE_STATES, listed, text_public
from .models import Partner, key_digest

MAX_SPAN = timedelta(days=90)  # the spec's default window and longest range
MAX_RESULTS = 1000


class BadRequest(DomainError):
    status = 400
    code = "bad_request"


# --- partners -------------------------------------------------------------------------------

def issue_key(name: str) -> str:
    """A new partner (or a new key for an existing one); the key is shown once and stored hashed."""
    key = secrets.token_urlsafe(32)
    partner = db.session.scalar(select(Partner).where(Partner.name == name)) or Partner(name=name)
    partner.key_hash, partner.key_prefix, partner.active = key_digest(key), key[:8], True
    db.session.add(partner)
    db.session.commit()
    return key


def partner_for(api_key: str | None) -> Partner:
    partner = db.session.scalar(select(Partner).where(Partner.key_hash == key_digest(api_key))) if api_key else None
    if partner is None or not partner.active:
        raise Forbidden("api_key is missing or not valid")
    return partner


# --- services -------------------------------------------------------------------------------

def _service(node) -> dict:
    return {"service_code": node.code, "service_name": node.name, "description": node.path,
            "metadata": False, "type": "realtime", "keywords": ",".join(c.name for c in node.children),
            "group": node.level1}


def service_list() -> list[dict]:
    return [_service(node) for node in taxonomy.get_taxonomy().level2()]


def _node(code: str):
    node = next((n for n in taxonomy.get_taxonomy().level2() if n.code == code), None)
    if node is None:
        raise NotFound(f"no service {code}")
    return node


def service_definition(code: str) -> dict:
    return {"service_code": _node(code).code, "attributes": []}


# --- requests -------------------------------------------------------------------------------

def create_request(api_key: str | None, form: dict, idempotency_key: str | None = None) -> Order:
    """POST requests: the description becomes an order's text, address_string its place (routed like
    any order), service_code its category; media_url is kept as a photo. A partner that sends an
    Idempotency-Key gets the first order back when it retries (the key is the partner's own)."""
    partner = partner_for(api_key)
    ratelimits.check("RATE_LIMIT_OPEN311", "open311-partner", str(partner.id))
    code = (form.get("service_code") or "").strip()
    if not code:
        raise BadRequest("service_code is required", fields={"service_code": ["required"]})
    try:
        node = _node(code)
    except NotFound:
        raise BadRequest(f"service_code {code} is not a service", fields={"service_code": ["unknown"]}) from None
    description = (form.get("description") or "").strip()
    if not description:
        raise BadRequest("description is required", fields={"description": ["required"]})
    if len(description) > 4000:
        raise BadRequest("description is longer than 4000 characters", fields={"description": ["too long"]})
    address = (form.get("address_string") or "").strip()[:200] or None
    media = (form.get("media_url") or "").strip()
    if media and not media.startswith(("https://", "http://")):
        raise BadRequest("media_url must be an http(s) URL", fields={"media_url": ["not a URL"]})
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 128 and idempotency_key.isascii()
                                            and idempotency_key.isprintable()):
        raise BadRequest("Idempotency-Key must be 1-128 printable ASCII characters",
                         fields={"Idempotency-Key": ["invalid"]})
    return orders.create_order(Actor.for_partner(partner), text=description, channel="open311",
                               location_text=address, category=node.path,
                               photos=[media[:500]] if media else None, idempotency_key=idempotency_key)


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} is not a W3C date and time (2010-01-01T00:00:00Z)",
                         fields={name: ["not a datetime"]}) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


def _submitted_by(partner: Partner):
    """The orders this partner submitted (their submit event names it)."""
    return select(OrderEvent.order_id).where(OrderEvent.action == "submit", OrderEvent.actor_type == "partner",
                                             OrderEvent.actor_id == partner.id)


def _visible(partner: Partner | None):
    """What a GET may show: what 公示 lists (finished; `listed` is checked per order), and a
    partner's own requests."""
    public = Order.state.in_(DONE_STATES)
    return or_(public, Order.id.in_(_submitted_by(partner))) if partner is not None else public


def _partner_or_none(api_key: str | None) -> Partner | None:
    """A GET's key is optional: a valid one adds the partner's own requests, a wrong one is refused."""
    return partner_for(api_key) if api_key else None


def find_requests(args: dict) -> list[Order]:
    """GET requests with the spec's filters: service_request_id (comma list, overrides the rest),
    service_code (comma list), start_date / end_date (at most 90 days; the last 90 by default),
    status (open, closed; comma list). Only what 公示 lists, and the partner's own with its api_key."""
    query = (select(Order).options(selectinload(Order.events), selectinload(Order.attachments))
             .where(_visible(_partner_or_none(args.get("api_key"))))
             .order_by(Order.created_at.desc(), Order.id.desc()).limit(MAX_RESULTS))
    ids = [i.strip() for i in (args.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        query = query.where(Order.number.in_(ids[:MAX_RESULTS]))
    else:
        end = _parse_time(args.get("end_date"), "end_date") or clock.now()
        start = _parse_time(args.get("start_date"), "start_date") or end - MAX_SPAN
        if end < start or end - start > MAX_SPAN:
            raise BadRequest("start_date to end_date must be a range of at most 90 days",
                             fields={"start_date": ["range"], "end_date": ["range"]})
        query = query.where(Order.created_at >= start, Order.created_at <= end)
        codes = [c.strip() for c in (args.get("service_code") or "").split(",") if c.strip()]
        if codes:
            paths = [_node(c).path for c in codes if any(n.code == c for n in taxonomy.get_taxonomy().level2())]
            if not paths:
                return []
            query = query.where(or_(*(or_(Order.category == p, Order.category.like(p + "/%")) for p in paths)))
        wanted = {s.strip() for s in (args.get("status") or "").split(",") if s.strip()}
        if wanted - {"open", "closed"}:
            raise BadRequest("status is open or closed", fields={"status": ["open or closed"]})
        if wanted == {"open"}:
            query = query.where(Order.state.in_(states.OPEN_STATES))
        elif wanted == {"closed"}:
            query = query.where(Order.state.not_in(states.OPEN_STATES))
    return [o for o in db.session.scalars(query).all() if listed(o)]


def get_request(number: str, api_key: str | None = None) -> Order:
    order = db.session.scalar(select(Order).where(Order.number == number, _visible(_partner_or_none(api_key))))
    if order is None or not listed(order):
        raise NotFound(f"no request {number}")
    return order


def _iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).replace(microsecond=0).isoformat()


def _service_of(order: Order):
    node = taxonomy.lookup(order.category) if order.category else None
    if node is not None and node.level > 2:
        node = taxonomy.lookup(node.level2_path)
    return node if node is not None and node.level == 2 else None


def describe(order: Order) -> dict:
    """One request in the spec's fields, masked."""
    node = _service_of(order)
    if order.rung == "department" and order.department is not None:
        agency = order.department.name
    elif order.rung == "property" and order.property_company is not None:
        agency = order.property_company.name  # a company's name is public, as a department's is
    else:
        agency = (order.community.name if order.community else "") + label("rungs", order.rung)
    done = order.state in (states.RESOLVED, states.RATED, states.CLOSED)
    readable = text_public(order)  # the resident's words only once WeChat's content check passed
    media = next((a.url for a in order.attachments), None) if order.channel == "open311" else None
    return {
        "service_request_id": order.number,
        "status": "open" if order.state in states.OPEN_STATES else "closed",
        "status_notes": mask(order.result) if done and order.result and readable else label("states", order.state),
        "service_name": node.name if node else "未分类",
        "service_code": node.code if node else None,
        "description": mask(order.text) if readable else None,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": _iso(order.created_at),
        "updated_datetime": _iso(order.updated_at),
        "expected_datetime": _iso(order.due_at),
        "address": mask(order.location_text) if readable else None,
        "address_id": None,
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": media,
    }


def created(order: Order) -> dict:
    # Orders are created at once, so the id is known; the token is the same number, for clients
    # that always poll tokens/{token}.
    return {"service_request_id": order.number, "token": order.number, "service_notice": None,
            "account_id": None}


def token(value: str) -> dict:
    order = db.session.scalar(select(Order).where(Order.number == value, Order.channel == "open311"))
    if order is None:
        raise NotFound(f"no token {value}")
    return {"service_request_id": order.number, "token": order.number}


def discovery(base_url: str) -> dict:
    return {
        "changeset": "2026-12-01T00:00:00+08:00",
        "contact": current_app.config["OPEN311_CONTACT"],
        "key_service": current_app.config["OPEN311_KEY_SERVICE"],
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base_url,
                       "changeset": "2026-12-01T00:00:00+08:00", "type": "production",
                       "formats": ["application/json", "text/xml"]}],
    }
