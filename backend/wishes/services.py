"""Every write to a wish happens here: `create_wish` for a new one, `perform` for everything after,
through the lifecycle table. One transaction per change, with its audit event and its notices."""
from types import SimpleNamespace

from sqlalchemy import select, true
from sqlalchemy.exc import IntegrityError

from .. import clock, lifecycle as engine, replica
from ..accounts.actors import Actor
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..grids.models import Community
from ..lifecycle import refuse as _refuse
from ..masking import mask
from ..text import clean
from ..types import get_by_id
from . import lifecycle, states
from .models import Member, Wish


def member_for(actor: Actor, community_id: int | None, lock: bool = False) -> Member | None:
    """The actor's active 双报到 registration with this community, if any."""
    if not actor.is_resident or community_id is None:
        return None
    query = select(Member).where(Member.resident_id == actor.id, Member.community_id == community_id,
                                 Member.active == true())
    return db.session.scalar(query.with_for_update() if lock else query)


def memberships(actor: Actor) -> list[Member]:
    if not actor.is_resident:
        return []
    return list(db.session.scalars(select(Member).where(Member.resident_id == actor.id, Member.active == true())))


def may_see(actor: Actor, wish: Wish, member: Member | None) -> bool:
    """The wisher, staff of its community, and — once the community has published it — the
    members registered with that community."""
    if actor.kind == "system" or lifecycle.in_scope(actor, wish):
        return True
    if actor.is_resident and wish.resident_id == actor.id:
        return True
    return member is not None and (wish.state in states.ON_BOARD or wish.claimant_id == member.id)


def get_wish(actor: Actor, wish_id: int) -> Wish:
    wish = get_by_id(Wish, wish_id)
    member = member_for(actor, wish.community_id) if wish is not None else None
    if wish is None or not may_see(actor, wish, member):
        raise NotFound("没有找到这个心愿")  # out of sight looks the same as missing
    return present(actor, wish, member)


def present(actor: Actor, wish: Wish, member: Member | None = None) -> Wish:
    wish.allowed_actions = lifecycle.allowed_actions(actor, wish, member=member)
    # Who reads it as written (the API's schemas mask it for everyone else): the wisher, the member
    # who holds it, and staff of its community.
    wish.mine = actor.is_resident and wish.resident_id == actor.id
    holder = member is not None and wish.claimant_id == member.id
    wish.close_view = wish.mine or holder or (actor.is_staff and lifecycle.in_scope(actor, wish))
    return wish


def resident_board(actor: Actor) -> dict:
    """Everything the mini-program's wish page shows: my wishes, the board of the communities I
    registered with (masked), the wishes I hold, my registrations and the communities to pick."""
    found, mine = board(actor), my_wishes(actor)
    for wish in found["open"]:  # set on every wish shown: an instance may come from an earlier read
        wish.close_view = False
    for wish in mine + found["held"]:
        wish.close_view = True
    communities = list(db.session.scalars(select(Community).order_by(Community.id)))
    return {**found, "mine": mine, "communities": communities}


def create_wish(actor: Actor, *, community_id: int, text: str, beneficiary: str | None = None,
                wanted_by=None, channel: str = "h5", resident_id: int | None = None,
                idempotency_key: str | None = None, photos: list[dict] | None = None) -> Wish:
    """A resident's wish, waiting for the community's check. With a key, a retry answers with the
    wish the first call made (the unique index decides between concurrent twins)."""
    submit = lifecycle.ACTIONS["submit"]
    if lifecycle.refusal(actor, _NEW, submit) == "role":
        engine.refuse_row(lifecycle.TABLE, actor, _NEW, submit, "role")
    resident_id = actor.id if actor.is_resident else resident_id
    text, beneficiary = clean(text), clean(beneficiary)
    if not (text or "").strip():
        _refuse("请写下心愿内容", ValidationFailed, fields={"text": ["请写下心愿内容"]})
    community = get_by_id(Community, community_id)
    if community is None or resident_id is None:
        _refuse("没有这个社区", ValidationFailed, fields={"community": ["没有这个社区"]})
    key = f"{resident_id}:{idempotency_key}" if idempotency_key else None
    if key and (first := db.session.scalar(select(Wish).where(Wish.idempotency_key == key))) is not None:
        return present(actor, first)
    now = clock.now()
    wish = Wish(resident_id=resident_id, community_id=community.id, street_id=community.street_id,
                text=text.strip(), beneficiary=beneficiary, wanted_by=wanted_by, channel=channel,
                idempotency_key=key, state=states.SUBMITTED, photos=_stored(photos), evidence_photos=[],
                created_at=now, updated_at=now)
    db.session.add(wish)
    ctx = SimpleNamespace(actor=actor, member=None, now=now, data={}, event={})
    try:
        event = engine.record(lifecycle.TABLE, wish, actor, "submit", None, ctx)
        lifecycle.announce(wish, submit, event, ctx)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        first = db.session.scalar(select(Wish).where(Wish.idempotency_key == key)) if key else None
        if first is None:
            raise
        return present(actor, first)
    return present(actor, wish)


_NEW = SimpleNamespace(state=None, resident_id=None)


def _stored(photos: list[dict] | None) -> list[dict]:
    """What a wish keeps of a photo orders.photos.store wrote: its URL and type."""
    return [{"url": p["url"], "content_type": p["content_type"]} for p in photos or []]


def photo_file(actor: Actor, wish_id: int, index: int):
    """The file of a wish's photo (its own, then the evidence), for the wisher, the claimant and the
    community's staff only: a photo may show a face or a home the masking cannot hide from the
    other members."""
    from ..orders.files import stored_key
    wish = get_wish(actor, wish_id)
    member = member_for(actor, wish.community_id)
    holder = member is not None and wish.claimant_id == member.id
    if not (lifecycle.in_scope(actor, wish) or wish.resident_id == actor.id or holder):
        raise NotFound("没有这张照片")
    shown = [*(wish.photos or []), *(wish.evidence_photos or [])]
    key = stored_key(shown[index]["url"]) if 0 <= index < len(shown) else None
    if key is None:
        raise NotFound("没有这张照片")
    return key, shown[index]["content_type"]


def perform(actor: Actor, wish: Wish, action: str, **given) -> Wish:
    """The row's change through the engine (backend/lifecycle.py), the actor's registration with
    the wish's community at hand for the rules. Statuses: role 403, state 409 (also when a
    concurrent change won), rule 403, input 422."""
    # A claim locks the member's registration: their own two claims at once count one after the other.
    member = member_for(actor, wish.community_id, lock=action == "claim")
    engine.perform(lifecycle.TABLE, wish, actor, action, context={"member": member}, **given)
    return present(actor, wish, member)


# --- lists -------------------------------------------------------------------------------------

def my_wishes(actor: Actor) -> list[Wish]:
    return list(db.session.scalars(select(Wish).where(Wish.resident_id == actor.id).order_by(Wish.id.desc())))


def board(actor: Actor) -> dict:
    """A member's board: the published wishes of the communities they registered with, and the
    wishes they hold."""
    mine = memberships(actor)
    communities = [m.community_id for m in mine]
    open_ = list(db.session.scalars(select(Wish).where(
        Wish.community_id.in_(communities), Wish.state == states.PUBLISHED,
        Wish.resident_id != actor.id).order_by(Wish.offered_at.is_(None), Wish.id)))
    held = list(db.session.scalars(select(Wish).where(
        Wish.claimant_id.in_([m.id for m in mine])).order_by(Wish.id.desc()))) if mine else []
    return {"memberships": mine, "open": open_, "held": held}


def for_staff(actor: Actor, state: str | None = None, limit: int = 200) -> list[Wish]:
    """The wishes of the communities a staff member checks (lifecycle.in_scope as SQL)."""
    from sqlalchemy import false
    if not actor.is_staff or actor.role not in lifecycle.CHECKERS:
        raise Forbidden("只有社区、街道管理员处理微心愿")
    where = {"sysadmin": true(), "community_admin": Wish.community_id == actor.community_id,
             "street_admin": Wish.street_id == actor.street_id}.get(actor.role, false())
    query = select(Wish).where(where).order_by(Wish.id.desc()).limit(limit)
    if state:
        query = query.where(Wish.state == state)
    return list(db.session.scalars(query))


@replica.reads("public")
def public_board(limit: int = 50) -> list[dict]:
    """公示: the wishes on the board and what became of them, masked — the wisher and the person it
    is for are never named, a member claimant only by a masked name (the wish's
    "for whom" stays off: a bare name there is nothing the masking could recognise), a partner unit by its name
    (a unit's good deed is what the board is there to show)."""
    from ..accounts.models import mask_name
    wishes = db.session.scalars(select(Wish).where(Wish.state.in_(states.ON_BOARD))
                                .order_by(Wish.id.desc()).limit(limit))
    shown = []
    for wish in wishes:
        claimant = wish.claimant
        by = (wish.unit.name if wish.unit is not None else mask_name(claimant.name)) if claimant else None
        shown.append({"id": wish.id, "community": wish.community.name, "text": mask(wish.text),
                      "state": wish.state, "by": by, "wanted_by": wish.wanted_by,
                      "published_at": wish.published_at, "confirmed_at": wish.confirmed_at})
    return shown
