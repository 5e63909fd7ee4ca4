"""Possible duplicates at intake (issue 20, item 1): orders that may report the same problem as a new
one, named with a score so staff can merge them (merging.py) — never decided here.

A candidate is in the same grid (the same building when the order has no grid), in the same level-2
category (the path's first two levels), created or resolved within DUPLICATE_WINDOW_DAYS, open or
resolved (not closed, cancelled or merged), and its text is similar (`similarity`: Dice coefficients
of the character bigrams and characters of the normalised texts — NFKC, lower case, punctuation,
spaces and filler characters dropped, 三号楼 read as 3号楼 — and 0 when the two name only different
numbers: 3号楼 and 5号楼 are two lamps) at least DUPLICATE_MIN_SCORE.
No external service; the evaluation set is tests/fixtures/duplicate_pairs.json."""
import re
from datetime import timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import exists, or_, select

from .. import clock
from ..extensions import db
from ..text import for_matching
from . import states
from .models import CoReporter, Order

# Open, or resolved and maybe rated: a problem someone still works on or has just fixed.
CANDIDATE_STATES = (*states.OPEN_STATES, states.RESOLVED, states.RATED)
# How many rows of the window are scored at most (newest first), and how many candidates are named.
SCAN_LIMIT = 2000
SHOWN = 5

# Punctuation, symbols, spaces; then characters that say nothing about the problem (particles,
# politeness, pronouns), which would otherwise make any two complaints look alike.
_NOISE = re.compile(r"[\W_]+")
_FILLER = re.compile("[的了吧啊呢吗呀哦嘛么请您你我们他她它在是有和也都就还很太已经一个这那]")


_CN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
# 三号楼, 五栋, 二单元: a house or unit number written in Chinese is the same number in digits.
_CN_NUMBER = re.compile("([〇一二三四五六七八九])(?=[号栋幢单楼])")
_NUMBER = re.compile(r"\d+")
# The address part (3号楼, 2单元, 501室): compared as numbers, not as words — two problems at one
# door share it, and the grid already says they are near each other.
_ADDRESS = re.compile(r"\d+(?:号楼|号|栋|幢|单元|楼|层|室)")


def normalise(text: str | None) -> str:
    s = _CN_NUMBER.sub(lambda m: _CN_DIGITS[m.group(1)], for_matching(text).lower())
    return _FILLER.sub("", _NOISE.sub("", s))


def numbers(text: str | None) -> frozenset[str]:
    """The numbers a text names (楼号, 单元, 门牌): two reports naming only different ones are two places."""
    return frozenset(_NUMBER.findall(normalise(text)))


# A grid's recent orders are scored again at every intake: a worker keeps their features.
@lru_cache(maxsize=8192)
def features(text: str | None) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """What `similarity` compares, computed once per text: bigrams, characters, numbers."""
    s = normalise(text)
    found = frozenset(_NUMBER.findall(s))
    s = _ADDRESS.sub("", s)
    bigrams = frozenset(s[i:i + 2] for i in range(len(s) - 1)) if len(s) >= 2 else frozenset([s] if s else [])
    return bigrams, frozenset(s), found


def _dice(a: frozenset, b: frozenset) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def similarity(a, b) -> float:
    """0–1: the mean of the Dice coefficients of the two texts' character-bigram and character sets
    (texts or `features` results); 0 when both name numbers and none in common (3号楼 / 5号楼)."""
    fa = a if isinstance(a, tuple) else features(a)
    fb = b if isinstance(b, tuple) else features(b)
    if fa[2] and fb[2] and not fa[2] & fb[2]:
        return 0.0
    return (_dice(fa[0], fb[0]) + _dice(fa[1], fb[1])) / 2


def level2(category: str | None) -> str | None:
    parts = (category or "").split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 and all(parts[:2]) else None


def same_place(a, b) -> bool:
    """Same grid; without a grid on the new order, the same building."""
    if a.grid_id is not None:
        return a.grid_id == b.grid_id
    return a.building_id is not None and a.building_id == b.building_id


def same_category(a, b) -> bool:
    """Same level-2 category; an order not yet classified is compared by place and text alone."""
    la = level2(a.category)
    return la is None or la == level2(b.category)


def min_score() -> float:
    return float(current_app.config.get("DUPLICATE_MIN_SCORE", 0.3))


def is_duplicate(a, b, threshold: float) -> tuple[bool, float]:
    """The rule on two orders (or anything with grid_id, building_id, category, text): the query in
    `candidates` applies the same place and category filters in SQL."""
    if not (same_place(a, b) and same_category(a, b)):
        return False, 0.0
    score = similarity(a.text, b.text)
    return score >= threshold, score


def candidates(order: Order, *, limit: int = SHOWN, among: tuple[str, ...] = CANDIDATE_STATES,
               resident_id: int | None = None) -> list[dict]:
    """The possible duplicates of `order` (or of a draft not stored yet: joining.draft), best first:
    [{"number", "score", "state"}], in the states `among`. Staff see them as they are; a resident
    (joining.py) sees only the number and that it is open, and with `resident_id` never an order
    they reported or follow already."""
    if order.grid_id is None and order.building_id is None:
        return []
    cfg = current_app.config
    since = clock.now() - timedelta(days=float(cfg.get("DUPLICATE_WINDOW_DAYS", 7)))
    where = [Order.id != order.id, Order.state.in_(among),
             or_(Order.created_at >= since, Order.resolved_at >= since)]
    where.append(Order.grid_id == order.grid_id if order.grid_id is not None
                 else Order.building_id == order.building_id)
    if resident_id is not None:
        where += [or_(Order.resident_id.is_(None), Order.resident_id != resident_id),
                  ~exists().where(CoReporter.order_id == Order.id, CoReporter.resident_id == resident_id)]
    l2 = level2(order.category)
    if l2:
        where.append(or_(Order.category == l2, Order.category.startswith(l2 + "/", autoescape=True)))
    rows = db.session.execute(
        select(Order.number, Order.state, Order.text).where(*where)
        .order_by(Order.created_at.desc()).limit(SCAN_LIMIT)).all()
    threshold = min_score()
    mine = features(order.text)
    found = []
    for number, state, text in rows:
        score = similarity(mine, features(text))
        if score >= threshold:
            found.append({"number": number, "score": round(score, 2), "state": state})
    found.sort(key=lambda c: -c["score"])
    return found[:limit]


def attach(order: Order) -> Order:
    """Set `possible_duplicates` on an order about to be shown to staff (StaffOrderSchema)."""
    order.possible_duplicates = candidates(order)
    return order
