"""Emergencies (issue 24, item 6): a short list of danger words (templates/chat/emergencies.yml —
gas, fire, electric shock, someone trapped, someone collapsed, a blocked fire exit) found in a new
order's text make it urgent (the short limits of grade "urgent", so the SLA tick escalates it by
the ladder's rules when they pass), flag it `emergency` and tell the community at once
(`submit` row, notice `emergency`); for the kinds with advice the chat answers the resident at once
with what to do and the emergency numbers (templates/chat/emergency.txt) before anything else.

Per community (`communities.emergency`, read through the routing snapshot at no extra query):
`{"words": {kind: [more words]}, "off": [kinds not to treat as emergencies], "phones": {label: number}}`."""
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from flask import render_template

from ..extensions import db
from ..grids.models import Community
from ..grids.routing import community_emergency
from ..text import for_matching

_FILE = Path(__file__).resolve().parents[2] / "templates" / "chat" / "emergencies.yml"


@dataclass(frozen=True)
class Emergency:
    kind: str  # gas, fire, electric, trapped, collapse, fire_exit
    name: str  # 燃气泄漏 …
    word: str  # the word found
    advice: bool  # answered at once with safety advice


@lru_cache(maxsize=1)
def defaults() -> dict:
    with open(_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _normal(word: str) -> str:
    return for_matching(word).lower().replace(" ", "")


# The danger words are a short list (the file's and the communities' own): each normalised once per
# process, not for every order (52 normalisations per intake were 3 % of its CPU).
_normal_word = lru_cache(maxsize=4096)(_normal)


def find(text: str | None, community_id: int | None = None) -> Emergency | None:
    """The first kind (in the file's order) whose word is in the text, with the community's own
    words and switches; None when nothing is dangerous."""
    own = community_emergency(community_id) or {}
    off = set(own.get("off") or ())
    said = _normal(text or "")
    if not said:
        return None
    for kind, spec in defaults()["kinds"].items():
        if kind in off:
            continue
        for word in [*spec["words"], *((own.get("words") or {}).get(kind) or ())]:
            if word and _normal_word(word) in said:
                return Emergency(kind, spec["name"], word, bool(spec.get("advice")))
    return None


def name_of(kind: str | None) -> str | None:
    return defaults()["kinds"].get(kind, {}).get("name") if kind else None


def phones(community_id: int | None = None) -> dict:
    own = community_emergency(community_id) or {}
    return {**defaults()["phones"], **(own.get("phones") or {})}


def advice(found: Emergency, community_id: int | None, order=None) -> str:
    """What the resident is told at once (the words are in the template)."""
    return render_template("chat/emergency.txt", kind=found.kind, name=found.name,
                           phones=phones(community_id), order=order).strip()


def configure(community_name: str, *, words: dict | None = None, off: list | None = None,
              phones_: dict | None = None) -> Community:
    """A community's own danger words, kinds turned off and numbers (`flask community-emergency`);
    what is not given stays as it was. The routing snapshot follows at the commit."""
    from sqlalchemy import select
    from ..errors import NotFound, ValidationFailed
    community = db.session.scalar(select(Community).where(Community.name == community_name))
    if community is None:
        raise NotFound(f"没有名为 {community_name} 的社区")
    kinds = defaults()["kinds"]
    unknown = [k for k in [*(words or {}), *(off or [])] if k not in kinds]
    if unknown:
        raise ValidationFailed(f"没有这类险情：{'、'.join(unknown)}", fields={"kind": list(kinds)})
    current = dict(community.emergency or {})
    if words is not None:
        merged = dict(current.get("words") or {})
        for kind, more in words.items():
            merged[kind] = sorted(set(merged.get(kind, [])) | set(more))
        current["words"] = merged
    if off is not None:
        current["off"] = sorted(set(off))
    if phones_ is not None:
        current["phones"] = {**(current.get("phones") or {}), **phones_}
    community.emergency = current
    db.session.commit()
    return community
