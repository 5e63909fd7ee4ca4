"""Address → grid. A building id wins; free text is matched against the grid registry."""
import re
from dataclasses import dataclass

from sqlalchemy import event, select, true
from sqlalchemy.orm import joinedload

from ..accounts.models import Staff
from ..extensions import db
from ..text import for_matching as _m
from .models import Building, Community, Grid, PropertyCompound

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}


# A longer number is no building's (a phone number, a date): looking it up would overflow the
# database's integer and lose the order with a 500.
_MAX_BUILDING_NUMBER = 99999


def chinese_number(text: str) -> int | None:
    """'3' → 3, '十二' → 12, '二十三' → 23 (building numbers are small). A longer run of digits is no
    building: past 64 bits it reached SQLite's driver as an OverflowError and lost the order."""
    if text.isdigit():
        return int(text) if int(text) <= _MAX_BUILDING_NUMBER else None
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS[ch]
    return value


_BUILDING_RE = re.compile(r"([0-9]+|[零〇一二两三四五六七八九十]+)\s*(?:号楼|号|栋|幢|座|楼)")


@dataclass(frozen=True)
class Placement:
    """Where an address goes, as the ids an order row stores, read from the snapshot without a query
    (intake writes them as they are); `building`, `grid` and `community` load the rows for callers
    that want more than an id."""
    building_id: int | None = None
    grid_id: int | None = None
    community_id: int | None = None
    street_id: int | None = None
    grid_code: str | None = None
    grid_name: str | None = None
    community_name: str | None = None

    @property
    def building(self) -> Building | None:
        return db.session.get(Building, self.building_id) if self.building_id else None

    @property
    def grid(self) -> Grid | None:
        return db.session.get(Grid, self.grid_id) if self.grid_id else None

    @property
    def community(self) -> Community | None:
        return db.session.get(Community, self.community_id) if self.community_id else None


# --- the registry as routing reads it, cached per process ---------------------------------------
#
# Routing used to load every community, alias and building per order (12 % of a worker's time under
# load). The registry changes a few times a year (an import), orders arrive by the thousand, so each
# process keeps a snapshot of what matching needs and checks per order that it is current: one Redis
# GET of a token that every registry change replaces (any process, see the session hooks below), plus
# a counter of this process's own changes, which a flush of a street, community, grid or building
# bumps at once. When Redis does not answer, routing reads the database as before (slower, never
# stale); a snapshot is also never older than SNAPSHOT_MAX_AGE, for writes made behind the ORM's back.

VERSION_KEY = "rm:registry:version"
SNAPSHOT_MAX_AGE = 60.0
_REGISTRY = (Community, Grid, Building, PropertyCompound)
_CHANGED = "rm_registry_changed"


@dataclass(frozen=True)
class _Known:
    id: int
    community_id: int
    grid_id: int
    compound: str  # matching form (NFKC, lower case)
    aliases: tuple  # matching forms of its non-empty aliases


@dataclass
class _Snapshot:
    key: tuple
    built: float
    communities: list  # [(id, matching names)] by id, as _community_in compares them
    streets: dict  # community id → street id
    community_names: dict  # community id → its name as shown
    grids: dict  # grid id → (code, name)
    named: list  # buildings with an alias
    compounds: list  # [(compound's matching form, community id)] of non-empty compounds
    by_number: dict  # building number → [_Known]
    buildings: dict  # building id → _Known
    auto_assign: frozenset = frozenset()  # ids of the grids with 轮派 on (orders/rota.py)
    emergency: dict = None  # community id → its own 危险词 and numbers (orders/emergencies.py)
    property_of: dict = None  # building id → the property company bound to its compound (grids/property.py)
    staff: dict = None  # (role, column, value) → active staff ids, built at the first ask (staff_ids)


_local_changes = 0
_snapshots: dict = {}  # database URL → _Snapshot (a process may serve several apps: tests, bench)


def registry_changed() -> None:
    """The registry changed in this process: drop this process's snapshot now, the others' at their
    next order (they read the token). A failed Redis write leaves them on SNAPSHOT_MAX_AGE."""
    global _local_changes
    _local_changes += 1
    try:
        import uuid
        from ..extensions import redis
        redis.set(VERSION_KEY, uuid.uuid4().hex)
    except Exception:  # Redis down: the token cannot say it; the age bound does
        pass


def _names(community) -> tuple:
    names = [_m(n) for n in (community.name, *(community.aliases or []))]
    names += [n.removesuffix("社区") for n in names if n.endswith("社区")]
    return tuple(n for n in names if n)


def _build(key) -> _Snapshot:
    import time
    all_communities = list(db.session.scalars(select(Community).order_by(Community.id)))
    communities = [(c.id, _names(c)) for c in all_communities]
    streets = {c.id: c.street_id for c in all_communities}
    community_names = {c.id: c.name for c in all_communities}
    grids, auto_assign = {}, set()
    rules = {c.id: c.auto_assign for c in all_communities}
    for gid, code, name, auto, community_id in db.session.execute(
            select(Grid.id, Grid.code, Grid.name, Grid.auto_assign, Grid.community_id)):
        grids[gid] = (code, name)
        if auto if auto is not None else rules.get(community_id):  # the grid's own word, else its community's
            auto_assign.add(gid)
    rows = db.session.execute(select(Building.id, Building.number, Building.compound, Building.aliases,
                                     Grid.community_id, Grid.id).join(Grid, Building.grid_id == Grid.id)
                              .order_by(Building.id)).all()
    bound = {(community_id, compound): company_id for community_id, compound, company_id in db.session.execute(
        select(PropertyCompound.community_id, PropertyCompound.compound, PropertyCompound.property_company_id))}
    named, compounds, by_number, property_of = [], set(), {}, {}
    for bid, number, compound, aliases, community_id, grid_id in rows:
        if (community_id, compound) in bound:
            property_of[bid] = bound[(community_id, compound)]
        known = _Known(bid, community_id, grid_id, _m(compound), tuple(_m(a) for a in aliases or [] if a))
        if known.aliases:
            named.append(known)
        if compound:
            compounds.add((known.compound, community_id))
        by_number.setdefault(number, []).append(known)
    buildings = {known.id: known for same in by_number.values() for known in same}
    emergency = {c.id: c.emergency for c in all_communities if c.emergency}
    return _Snapshot(key, time.monotonic(), communities, streets, community_names, grids, named, sorted(compounds), by_number,
                     buildings, frozenset(auto_assign), emergency, property_of)


_CHECKED = "rm_registry_checked"


def _snapshot() -> _Snapshot:
    session = db.session()
    if any(isinstance(o, _REGISTRY) for o in (*session.new, *session.dirty, *session.deleted)):
        session.flush()  # what the old queries' autoflush did: a pending building routes at once
    # Checked once per transaction: an intake asks three times (routing, the property, the danger
    # words), and within it only its own flushes (_local_changes) can change what it should see.
    checked = session.info.get(_CHECKED)
    if checked is not None and checked[0] == _local_changes and checked[1] == db.engine.url:
        return checked[2]
    found = _current()
    if found.key is not None:
        session.info[_CHECKED] = (_local_changes, db.engine.url, found)
    return found


def _current() -> _Snapshot:
    import time
    url = db.engine.url.render_as_string()
    try:
        from ..extensions import redis
        key = (redis.get(VERSION_KEY), _local_changes)
    except Exception:  # Redis down: no token to trust, so no cache
        return _build(None)
    cached = _snapshots.get(url)
    if cached is None or cached.key != key or time.monotonic() - cached.built > SNAPSHOT_MAX_AGE:
        cached = _snapshots[url] = _build(key)
    return cached


# Who holds an order at a rung (orders/ladder.holders) is a staff look-up by role and one of these
# columns: a SELECT of staff per notice, for rows that change as rarely as the registry's. The
# snapshot answers it too, and a flush that adds or removes staff or changes what the look-up reads
# of them (active, role, these columns) replaces the snapshot as a registry change does.
_STAFF_COLUMNS = ("grid_id", "community_id", "street_id", "department_id", "property_company_id")
_STAFF_READ = ("active", "role", *_STAFF_COLUMNS)


def _staff_index() -> dict:
    index: dict = {}
    for row in db.session.execute(select(Staff.id, Staff.role, *(getattr(Staff, c) for c in _STAFF_COLUMNS))
                                  .where(Staff.active == true()).order_by(Staff.id)):
        for column, value in zip(_STAFF_COLUMNS, row[2:]):
            index.setdefault((row.role, column, value), []).append(row.id)
    return index


def staff_ids(role: str, column: str, value) -> list[int] | None:
    """Ids of the active staff of `role` whose `column` is `value` (None matching a NULL, as the
    query `Staff.<column> == value` does), by id; None when there is no trusted snapshot (Redis
    down): the caller asks the database."""
    session = db.session()
    if any(isinstance(o, Staff) for o in (*session.new, *session.dirty, *session.deleted)):
        session.flush()  # as the query's autoflush would: a pending staff member counts at once
    snapshot = _snapshot()
    if snapshot.key is None:
        return None
    if snapshot.staff is None:
        snapshot.staff = _staff_index()
    return list(snapshot.staff.get((role, column, value), ()))


def _staff_changed(session) -> bool:
    from sqlalchemy import inspect
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, Staff):
            return True
    for obj in session.dirty:
        if isinstance(obj, Staff):
            attrs = inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in _STAFF_READ):
                return True
    return False


@event.listens_for(db.session, "after_flush")
def _flushed(session, _context):
    if any(isinstance(o, _REGISTRY) for o in (*session.new, *session.dirty, *session.deleted)) \
            or _staff_changed(session):
        session.info[_CHANGED] = True
        global _local_changes
        _local_changes += 1  # this transaction sees it now; the others once it commits


@event.listens_for(db.session, "after_commit")
def _committed(session):
    session.info.pop(_CHECKED, None)
    if session.info.pop(_CHANGED, False):
        registry_changed()


@event.listens_for(db.session, "after_rollback")
def _rolled_back(session):
    session.info.pop(_CHECKED, None)
    if session.info.pop(_CHANGED, False):
        global _local_changes
        _local_changes += 1  # a snapshot may hold the rows that were just undone


def _community_in(text: str, communities) -> int | None:
    for community_id, names in communities:
        if any(name in text for name in names):
            return community_id
    return None


def community_emergency(community_id: int | None) -> dict | None:
    """A community's own danger words and numbers, from the snapshot (no query at intake)."""
    return (_snapshot().emergency or {}).get(community_id) if community_id is not None else None


def property_company_of(building_id: int) -> int | None:
    """The property company bound to the building's compound (in its grid's community), from the
    snapshot: property work offered at intake costs no query."""
    return _snapshot().property_of.get(building_id)


def auto_assigns(grid_id: int) -> bool:
    """Is 轮派 on in the grid? From the snapshot, so an intake where it is off costs no query."""
    return grid_id in _snapshot().auto_assign


def place(location_text: str | None, building_id: int | None = None,
          default_community_id: int | None = None) -> Placement:
    """Find the building (hence grid) for an address; failing that, at least the community.
    Compared in NFKC (and the registry's names too): "水晶城小区３号楼" is building 3."""
    snap = _snapshot()
    if building_id:
        known = snap.buildings.get(building_id)
        found = _found(snap, known) if known is not None else _unknown_building(building_id)
        if found is not None:
            return found
    return _place(snap, location_text, default_community_id)


def _place(snap: _Snapshot, location_text, default_community_id) -> Placement:
    text = _m(location_text).replace(" ", "")
    community_id = _community_in(text, snap.communities)
    if text:
        # A building's own alias ("东区A座", "老干部楼") names it outright, when only one has it.
        named = [b for b in snap.named if any(a in text for a in b.aliases)]
        if community_id:
            named = [b for b in named if b.community_id == community_id]
        if len(named) == 1:
            return _found(snap, named[0])
        if community_id is None:
            # No community name, but a compound (小区) name that belongs to exactly one community.
            owners = {cid for compound, cid in snap.compounds if compound in text}
            if len(owners) == 1:
                community_id = owners.pop()
    number = None
    match = _BUILDING_RE.search(text)
    if match:
        number = chinese_number(match.group(1))
    if number is not None:
        candidates = snap.by_number.get(number, [])
        if community_id:
            candidates = [b for b in candidates if b.community_id == community_id]
        compound_hits = [b for b in candidates if b.compound in text or any(a in text for a in b.aliases)]
        if len(compound_hits) == 1:
            candidates = compound_hits
        if len(candidates) == 1:
            return _found(snap, candidates[0])
    if community_id is None and default_community_id:
        community_id = default_community_id
    if community_id is None and snap.communities:
        # Never drop an order: the first community's pool takes it (the only one, or flagged for a person).
        community_id = snap.communities[0][0]
    if community_id is None:
        return Placement()
    if community_id not in snap.streets:  # a community made since the snapshot (default_community_id)
        community = db.session.get(Community, community_id)
        return Placement(community_id=community.id, street_id=community.street_id,
                         community_name=community.name) if community else Placement()
    return Placement(community_id=community_id, street_id=snap.streets[community_id],
                     community_name=snap.community_names[community_id])


def _found(snap: _Snapshot, known: _Known) -> Placement:
    code, name = snap.grids[known.grid_id]
    return Placement(building_id=known.id, grid_id=known.grid_id, community_id=known.community_id,
                     street_id=snap.streets.get(known.community_id), grid_code=code, grid_name=name,
                     community_name=snap.community_names.get(known.community_id))


def _unknown_building(building_id: int) -> Placement | None:
    """A building id the snapshot does not know (made since, behind the ORM): read from the database."""
    building = db.session.get(Building, building_id, options=[joinedload(Building.grid).joinedload(Grid.community)])
    if building is None:
        return None
    grid = building.grid
    return Placement(building_id=building.id, grid_id=grid.id, community_id=grid.community_id,
                     street_id=grid.community.street_id, grid_code=grid.code, grid_name=grid.name,
                     community_name=grid.community.name)
