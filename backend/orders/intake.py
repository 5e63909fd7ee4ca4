"""Staff entering a request on a resident's behalf: a hotline call (热线), a walk-in (来访) or a
photo report (随手拍). Routed and time-limited like any order; the caller's name and phone are kept
and shown only to those whose work needs them (`services.needs_contact`)."""
from types import SimpleNamespace

from ..accounts.actors import Actor, in_scope
from ..categories import taxonomy
from ..errors import Forbidden, ValidationFailed
from ..grids.routing import place
from . import services
from .models import CHANNELS, RESIDENT_CHANNELS

STAFF_CHANNELS = tuple(c for c in CHANNELS if c not in RESIDENT_CHANNELS and c != "open311")


def record(actor: Actor, *, channel: str, text: str, caller_name: str | None = None,
           caller_phone: str | None = None, location_text: str | None = None,
           building_id: int | None = None, kind: str = "complaint", grade: str = "normal",
           category: str | None = None, photos=None, idempotency_key: str | None = None):
    if not actor.is_staff:
        raise Forbidden("只有工作人员可以代为登记诉求")
    if channel not in STAFF_CHANNELS:
        raise ValidationFailed("渠道应为热线、来访或随手拍", fields={"channel": [f"one of {', '.join(STAFF_CHANNELS)}"]})
    if category and not taxonomy.is_valid(taxonomy.normalize_path(category)):
        raise ValidationFailed("类别不是标准分类", fields={"category": ["unknown"]})
    # Where it will go, before anything is stored: staff enter calls for the places they serve.
    placement = place(location_text, building_id)
    where = SimpleNamespace(
        grid_id=placement.grid.id if placement.grid else None,
        community_id=placement.community.id if placement.community else None,
        street_id=placement.community.street_id if placement.community else None,
        department_id=None, property_company_id=None, resident_id=None)
    if actor.role != "sysadmin" and not in_scope(actor, where):
        raise Forbidden("这个地址不在你的管辖范围内：请核对地址，或转给所在社区登记", code="target_out_of_scope")
    return services.create_order(
        actor, text=text, channel=channel, kind=kind, grade=grade, location_text=location_text,
        building_id=building_id, category=taxonomy.normalize_path(category) if category else None,
        contact=caller_phone, caller_name=caller_name, photos=photos, idempotency_key=idempotency_key)


def record_with_photos(actor: Actor, bodies: list[bytes], **fields):
    """`record` with photos sent as files (the console's 随手拍): stored only for an order made."""
    from . import photos
    with photos.stored_for(bodies) as stored:
        return record(actor, photos=stored or None, **fields)
