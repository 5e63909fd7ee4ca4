"""What of an order's history the resident who sent it (or co-reported it) sees: the API and the H5 read the same rule.

Staff write notes to each other when they assign, release, transfer or place an order, and the
product writes its own (content checks, overdue marks): those stay inside. The resident sees every
step of their order, and the words only of the steps that answer them."""
HIDDEN_FROM_RESIDENT = frozenset({"content_check", "content_flag", "note", "overdue"})
NOTES_FOR_RESIDENT = frozenset({"progress", "resolve", "rate", "reopen", "cancel", "reply"})


def for_resident(events) -> list:
    return [e for e in events if e.action not in HIDDEN_FROM_RESIDENT]


def note_for_resident(event, viewer: int | None = None) -> str | None:
    """The step's words for the resident who sent it; a co-reporter (`viewer`: their id) reads
    staff's words and their own, never another resident's comment or withdrawal note."""
    if event.action not in NOTES_FOR_RESIDENT:
        return None
    if viewer is not None and event.actor_type in ("resident", "bot") and event.actor_id != viewer:
        return None
    return event.note
