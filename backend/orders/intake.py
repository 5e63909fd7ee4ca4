"""Staff entering a request: a hotline call (热线), a walk-in (来访), a photo report (随手拍), a
letter from the paper mailbox (信件), what a resident told a walking volunteer (走访), or what grid
staff found on their rounds (巡查上报). Routed and time-limited like any order; the caller's name
and phone are kept and shown only to those whose work needs them (`services.needs_contact`)."""
from datetime import date
from types import SimpleNamespace

from flask import current_app

from .. import clock
from ..accounts.actors import Actor, in_scope
from ..categories import taxonomy
from ..errors import Forbidden, ValidationFailed
from ..grids.routing import place
from . import lifecycle, services, states
from .models import CHANNELS, RESIDENT_CHANNELS

STAFF_CHANNELS = tuple(c for c in CHANNELS if c not in RESIDENT_CHANNELS and c != "open311")
# What the console's intake form offers; letters, rounds and patrols have forms of their own.
DESK_CHANNELS = ("hotline", "walk_in", "photo_report")
# A part-time grid member passes on what they see and what residents tell them, nothing else.
MEMBER_CHANNELS = ("patrol", "visit")


def _serves(actor: Actor, where) -> bool:
    """Does the actor enter requests for this place? Their scope, or for a grid member their grid
    (their scope is only what they reported, which this order is about to become)."""
    if actor.role == "sysadmin":
        return True
    if actor.role == "grid_member":
        return actor.grid_id is not None and where.grid_id == actor.grid_id
    return in_scope(actor, where)


def record(actor: Actor, *, channel: str, text: str, caller_name: str | None = None,
           caller_phone: str | None = None, location_text: str | None = None,
           building_id: int | None = None, kind: str | None = None, grade: str = "normal",
           category: str | None = None, photos=None, idempotency_key: str | None = None,
           done: str | None = None, settled: bool = False, opened_on: date | None = None):
    """`done`: what the reporter already did (a patrol); with `settled` it is the result and the
    report is resolved on the spot. `opened_on`: the day the paper mailbox was opened (letters)."""
    if not actor.is_staff:
        raise Forbidden("只有工作人员可以代为登记诉求")
    if channel not in STAFF_CHANNELS:
        raise ValidationFailed("渠道无效", fields={"channel": [f"one of {', '.join(STAFF_CHANNELS)}"]})
    if actor.role == "grid_member" and channel not in MEMBER_CHANNELS:
        raise Forbidden("兼职网格员只能上报巡查发现和走访听到的诉求", code="channel_not_allowed")
    if settled and (channel != "patrol" or not (done or "").strip()):
        raise ValidationFailed("当场解决的须是巡查上报，并写明处理情况", fields={"done": ["required to settle"]})
    if opened_on is not None and (channel != "letter" or opened_on > clock.local(clock.now(), current_app.config["TIMEZONE"]).date()):
        raise ValidationFailed("开箱日期不能晚于今天", fields={"opened_on": ["not in the future, letters only"]})
    if category and not taxonomy.is_valid(taxonomy.normalize_path(category)):
        raise ValidationFailed("类别不是标准分类", fields={"category": ["unknown"]})
    # Where it will go, before anything is stored: staff enter calls for the places they serve.
    placement = place(location_text, building_id)
    where = SimpleNamespace(
        grid_id=placement.grid_id, community_id=placement.community_id, street_id=placement.street_id,
        department_id=None, property_company_id=None, resident_id=None, reporter_id=None)
    if not _serves(actor, where):
        raise Forbidden("这个地址不在你的管辖范围内：请核对地址，或转给所在社区登记", code="target_out_of_scope")
    order = services.create_order(
        actor, text=text, channel=channel, kind=kind, grade=grade,
        location_text=_with_building(placement, location_text),
        building_id=building_id, category=taxonomy.normalize_path(category) if category else None,
        contact=caller_phone, caller_name=caller_name, photos=photos, idempotency_key=idempotency_key,
        note=None if settled else done, settle=done if settled else None,
        event_data={"opened_on": opened_on.isoformat()} if opened_on else None)
    return _taken_by_finder(actor, order) if channel == "patrol" and not settled else order


def _taken_by_finder(actor: Actor, order):
    """A patrol report left open is the finder's own work (issue 24: they had to claim back what
    they had just filed): taken by them at once (接单, through the lifecycle, audited and timed like
    any claim) when they may take it — not a part-time member, not an order 轮派 already gave
    someone, not a retried form's order that moved on meanwhile."""
    if order.state != states.SUBMITTED or order.assignee_id is not None:
        return order
    if "claim" not in lifecycle.allowed_actions(actor, order):
        return order
    return services.perform(actor, order, "claim")


def _with_building(placement, location_text: str | None) -> str | None:
    """The place as shown keeps the building chosen from the list (issue 24: it was dropped when
    the words said something else or nothing): 水晶城小区3号楼, then what was written."""
    building = placement.building if placement.building_id else None
    if building is None:
        return location_text
    name = f"{building.compound}{building.number}号楼"
    written = (location_text or "").strip()
    if not written:
        return name
    return written if name in written else f"{name} {written}"


def record_with_photos(actor: Actor, bodies: list[bytes], **fields):
    """`record` with photos sent as files (the console's 随手拍): stored only for an order made."""
    from . import photos
    with photos.stored_for(bodies) as stored:
        return record(actor, photos=stored or None, **fields)
