"""Address → grid. A building id wins; free text is matched against the grid registry."""
import re
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..text import for_matching as _m
from .models import Building, Community, Grid

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


@dataclass
class Placement:
    building: Building | None = None
    community: Community | None = None

    @property
    def grid(self):
        return self.building.grid if self.building else None


def _community_in(text: str, communities) -> Community | None:
    for community in communities:
        names = [_m(n) for n in (community.name, *(community.aliases or []))]
        names += [n.removesuffix("社区") for n in names if n.endswith("社区")]
        if any(name and name in text for name in names):
            return community
    return None


def place(location_text: str | None, building_id: int | None = None,
          default_community_id: int | None = None) -> Placement:
    """Find the building (hence grid) for an address; failing that, at least the community.
    Compared in NFKC (and the registry's names too): "水晶城小区３号楼" is building 3."""
    if building_id:
        building = db.session.get(Building, building_id)
        if building:
            return Placement(building, building.grid.community)
    text = _m(location_text).replace(" ", "")
    communities = db.session.scalars(select(Community).order_by(Community.id)).all()
    community = _community_in(text, communities)
    if text:
        # A building's own alias ("东区A座", "老干部楼") names it outright, when only one has it.
        named = db.session.scalars(select(Building).where(Building.aliases.is_not(None))).all()
        named = [b for b in named if any(a and _m(a) in text for a in b.aliases or [])]
        if community:
            named = [b for b in named if b.grid.community_id == community.id]
        if len(named) == 1:
            return Placement(named[0], named[0].grid.community)
        if community is None:
            # No community name, but a compound (小区) name that belongs to exactly one community.
            compounds = db.session.execute(select(Building.compound, Grid.community_id)
                                           .join(Grid, Building.grid_id == Grid.id).distinct()).all()
            owners = {cid for compound, cid in compounds if compound and _m(compound) in text}
            if len(owners) == 1:
                community = db.session.get(Community, owners.pop())
    number = None
    match = _BUILDING_RE.search(text)
    if match:
        number = chinese_number(match.group(1))
    if number is not None:
        query = select(Building).where(Building.number == number)
        candidates = db.session.scalars(query).all()
        if community:
            candidates = [b for b in candidates if b.grid.community_id == community.id]
        compound_hits = [b for b in candidates
                         if _m(b.compound) in text or any(a and _m(a) in text for a in b.aliases or [])]
        if len(compound_hits) == 1:
            candidates = compound_hits
        if len(candidates) == 1:
            return Placement(candidates[0], candidates[0].grid.community)
    if community is None and default_community_id:
        community = db.session.get(Community, default_community_id)
    if community is None and len(communities) == 1:
        community = communities[0]
    if community is None and communities:
        # Never drop an order: the first community's pool takes it, flagged for a person.
        community = communities[0]
    return Placement(None, community)
