"""Who might fulfil a wish: the community's active members whose skills appear in the wish's words,
then those with the most hours available. Partner units' contacts come after people with a
matching skill: the unit is the fallback the ladder offers it to anyway."""
from .models import Member
from .registry import active_members


def _score(member: Member, words: str) -> tuple:
    hits = [s for s in member.skills or [] if s and s in words]
    return (len(hits), member.kind != "unit_contact", member.hours_available), hits


def suggest(wish, limit: int = 5) -> list[dict]:
    words = f"{wish.text} {wish.beneficiary or ''}"
    scored = []
    for member in active_members(wish.community_id):
        if member.resident_id == wish.resident_id:
            continue
        key, hits = _score(member, words)
        scored.append((key, member, hits))
    scored.sort(key=lambda t: t[0], reverse=True)
    return [{"member": m, "skills": hits} for _, m, hits in scored[:limit]]
