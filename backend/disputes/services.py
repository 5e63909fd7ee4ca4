"""Every write to a dispute happens here, through its lifecycle table (`lifecycle.py`): `register`
for a new one, `perform` for every step after. One transaction per change with its audit event and
its notices; invalid transitions raise InvalidTransition (409)."""
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import clock, lifecycle as engine
from ..accounts.actors import SYSTEM, Actor, in_scope, scope_column
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..grids.models import Grid
from ..lifecycle import refuse as _refuse
from ..orders import services as orders
from ..text import clean, for_matching
from ..types import get_by_id
from . import lifecycle
from .lifecycle import holders, public_text  # noqa: F401  (the dispute's readers use them from here)
from .models import Dispute


def present(actor: Actor, found):
    for dispute in ([found] if isinstance(found, Dispute) else found):
        dispute.allowed_actions = lifecycle.allowed_actions(actor, dispute)
    return found


# --- reading ------------------------------------------------------------------------------------

def get(actor: Actor, dispute_id: int) -> Dispute:
    # An id past the column's range names nothing (and SQLite's driver refuses it).
    dispute = get_by_id(Dispute, dispute_id)
    if dispute is None or not actor.is_staff or not in_scope(actor, dispute):
        raise NotFound("没有找到这件纠纷")  # out of scope looks the same as missing
    return present(actor, dispute)


def list_disputes(actor: Actor, *, state: str | None = None, limit: int = 50, offset: int = 0) -> list[Dispute]:
    if not actor.is_staff:
        raise Forbidden("只有工作人员可以查看纠纷台账")
    query = select(Dispute).order_by(Dispute.id.desc()).options(
        selectinload(Dispute.parties), selectinload(Dispute.meetings), selectinload(Dispute.tasks))
    if actor.role != "sysadmin":
        column = scope_column(actor)
        value = getattr(actor, column, None) if column else None
        if value is None or column not in ("grid_id", "community_id", "street_id"):
            return []  # a department liaison holds no dispute
        query = query.where(getattr(Dispute, column) == value)
    if state:
        query = query.where(Dispute.state == state)
    return present(actor, list(db.session.scalars(query.limit(limit).offset(offset))))


def published(limit: int = 50) -> list[Dispute]:
    """What the 公示 page shows: published disputes, newest first (their text masked when published)."""
    return list(db.session.scalars(select(Dispute).where(Dispute.published_at.is_not(None))
                                   .order_by(Dispute.published_at.desc()).limit(limit)))


# --- 定: register ---------------------------------------------------------------------------------

def register(actor: Actor, *, topic: str, subject: str | None = None, parties: list[dict],
             order_number: str | None = None, grid: str | None = None) -> Dispute:
    """A dispute from an order of kind dispute (its place and text) or registered directly in a grid."""
    row = lifecycle.ACTIONS["register"]
    if actor.kind not in row.actors or actor.role not in row.roles:
        engine.refuse_row(lifecycle.TABLE, actor, SimpleNamespace(state=None), row, "role")
    source = None
    if order_number:
        source = orders.get_order(actor, order_number)  # 404 when out of scope
        if source.kind != "dispute":
            _refuse("只有矛盾纠纷类工单可以转为纠纷调处", ValidationFailed, fields={"order_number": ["not a dispute"]})
        place = source.grid
        if source.community_id is None:
            _refuse("工单还没有定位到社区，请先分派", ValidationFailed, fields={"order_number": ["unplaced"]})
        where = SimpleNamespace(grid_id=source.grid_id, community_id=source.community_id,
                                street_id=source.street_id, department_id=None)
        subject = clean(subject) or source.text
    else:
        code = for_matching(grid)
        place = db.session.scalar(select(Grid).where(Grid.code == code)) if code else None
        if place is None:
            _refuse("请选择纠纷所在网格", ValidationFailed, fields={"grid": ["unknown grid"]})
        where = SimpleNamespace(grid_id=place.id, community_id=place.community_id,
                                street_id=place.community.street_id, department_id=None)
    if not in_scope(actor, where):
        _refuse("这个网格不在你的管辖范围内", code="target_out_of_scope")
    subject = clean(subject)
    if not (subject or "").strip():
        _refuse("请写明争议事项", ValidationFailed, fields={"subject": ["required"]})
    if len(parties or []) < 2:
        _refuse("纠纷至少有两方当事人", ValidationFailed, fields={"parties": ["at least two"]})
    for given in parties:
        lifecycle.check_party(given, "parties")
    now = clock.now()
    dispute = Dispute(topic=topic, subject=subject.strip(), state="registered", level="grid",
                      grid_id=where.grid_id, community_id=where.community_id, street_id=where.street_id,
                      source_order_id=source.id if source else None, registered_by=actor.id,
                      created_at=now, updated_at=now, due_at=lifecycle.due("registered", now),
                      parties=[lifecycle.party(p) for p in parties])
    if where.grid_id is None:
        dispute.level = "community"  # an order from the community's pool: no grid holds it
    db.session.add(dispute)
    ctx = SimpleNamespace(actor=actor, now=now, data={}, event={})
    event = engine.record(lifecycle.TABLE, dispute, actor, "register", None, ctx,
                          order=source.number if source else None, parties=len(dispute.parties))
    try:
        db.session.flush()
    except IntegrityError:
        _refuse("这张工单已经登记为纠纷", Conflict, code="already_registered")
    if source is not None:  # the order's own trail says where its matter went, in this transaction
        orders.perform(SYSTEM, source, "note", note="已转入矛盾纠纷调处（定、商、决、办、馈）", commit=False,
                       dispute=dispute.id)
    lifecycle.announce(dispute, row, event, ctx)
    engine.commit(lifecycle.TABLE)
    return present(actor, dispute)


# --- every later step -------------------------------------------------------------------------

def perform(actor: Actor, dispute: Dispute, action: str, **given) -> Dispute:
    """The row's change through the engine (backend/lifecycle.py): checked, applied with the step's
    time limit, audited, told and committed — or nothing changed."""
    return present(actor, engine.perform(lifecycle.TABLE, dispute, actor, action, **given))


# --- the stall tick (registered with the worker's periodic jobs, like the SLA tick) --------------

def stalled_ids(now) -> list[int]:
    ids = list(db.session.scalars(select(Dispute.id).where(Dispute.due_at <= now, Dispute.overdue.is_(False))
                                  .order_by(Dispute.due_at, Dispute.id)))
    db.session.rollback()
    return ids


def escalate_stalled(dispute_id: int, now) -> str | None:
    """A step past its limit → one level up with a fresh limit, or at the mediation centre one
    overdue record. Safe to repeat: keyed by (level, state, deadline), the new deadline lies ahead,
    and a concurrent tick loses on Dispute.version."""
    # An id past the column's range names nothing (and SQLite's driver refuses it).
    dispute = get_by_id(Dispute, dispute_id)
    if dispute is None or dispute.due_at is None or dispute.due_at > now or dispute.overdue:
        db.session.rollback()
        return None
    key = f"{dispute.level}|{dispute.state}|{dispute.due_at.isoformat()}"
    if any((e.data or {}).get("stall_key") == key for e in dispute.events):
        db.session.rollback()
        return None
    action = "escalate" if lifecycle.next_level(dispute) else "overdue"
    perform(SYSTEM, dispute, action, stall_key=key)
    return {"escalate": "escalated", "overdue": "overdue"}[action]


def stall_tick(now=None) -> dict:
    now = now or clock.now()
    done = engine.tick("dispute stall tick", lambda: [(i, None) for i in stalled_ids(now)],
                       lambda dispute_id, _: escalate_stalled(dispute_id, now),
                       {"escalated": 0, "overdue": 0, "skipped": 0})
    return done


# --- meeting photos (issue 24: uploaded on the console, not pasted as links) ---------------------

def hold_meeting_with_photos(actor: Actor, dispute: Dispute, bodies: list[bytes], **given) -> Dispute:
    """商: a meeting with photos taken or chosen on the console. Every photo is judged by its bytes
    (orders.photos: JPEG, PNG, WebP, bounded) and the row's checks run before a file is written; a
    refused meeting leaves no file behind. The stored addresses join any links the caller gave."""
    from ..orders import files, photos
    if len(bodies) + len(given.get("photos") or []) > MEETING_PHOTOS:
        raise ValidationFailed(f"一次议事最多 {MEETING_PHOTOS} 张照片", fields={"photos": ["too many"]})
    for body in bodies:
        photos.check(body)
    if not bodies:
        return perform(actor, dispute, "hold_meeting", **given)
    if "hold_meeting" not in (getattr(dispute, "allowed_actions", None) or ()):
        return perform(actor, dispute, "hold_meeting", **given)  # refuses with the row's status
    stored = [photos.store(body, "disputes") for body in bodies]
    keys = [photo.pop("key") for photo in stored]
    try:
        return perform(actor, dispute, "hold_meeting",
                       **{**given, "photos": [*(given.get("photos") or []), *(p["url"] for p in stored)]})
    except Exception:
        for key in keys:
            files.store().delete(key)
        raise


MEETING_PHOTOS = 9


def meeting_photo(actor: Actor, dispute_id: int, name: str):
    """The file of an uploaded meeting photo (/uploads/<name>) for staff who may see the dispute;
    404 for anyone else and for any name no meeting of it holds."""
    import mimetypes
    from ..orders import files
    dispute = get(actor, dispute_id)
    url = "/uploads/" + name
    if not any(url in (m.photos or []) for m in dispute.meetings):
        raise NotFound("没有这张照片")
    key = files.stored_key(url)
    if key is None:
        raise NotFound("没有这张照片")
    return key, mimetypes.guess_type(key)[0] or "application/octet-stream"
