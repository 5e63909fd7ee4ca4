"""What of an order's history the resident who sent it sees: the API and the H5 read the same rule.

Staff write notes to each other when they assign, release, transfer or place an order, and the
product writes its own (content checks, overdue marks): those stay inside. The resident sees every
step of their order, and the words only of the steps that answer them."""
HIDDEN_FROM_RESIDENT = frozenset({"content_check", "content_flag", "note", "overdue"})
NOTES_FOR_RESIDENT = frozenset({"progress", "resolve", "rate", "reopen", "cancel", "reply"})


def for_resident(events) -> list:
    return [e for e in events if e.action not in HIDDEN_FROM_RESIDENT]


def note_for_resident(event) -> str | None:
    return event.note if event.action in NOTES_FOR_RESIDENT else None
