"""The order state machine, as data. Every change goes through `transition()`.

(from state, action) → to state. Anything not in the table is refused with InvalidTransition (409).
"""
from ..errors import InvalidTransition

SUBMITTED, CLAIMED, IN_PROGRESS, ESCALATED = "submitted", "claimed", "in_progress", "escalated"
RESOLVED, REOPENED, RATED, CLOSED, CANCELLED = "resolved", "reopened", "rated", "closed", "cancelled"

STATES = (SUBMITTED, CLAIMED, IN_PROGRESS, ESCALATED, RESOLVED, REOPENED, RATED, CLOSED, CANCELLED)
# States in which someone still owes the resident work.
OPEN_STATES = (SUBMITTED, CLAIMED, IN_PROGRESS, ESCALATED, REOPENED)
# States that wait in a claim queue for somebody to take them.
UNCLAIMED_STATES = (SUBMITTED, ESCALATED, REOPENED)

TRANSITIONS: dict[tuple[str, str], str] = {
    # 接单: take an order from a queue (also a department's 报到 after it is whistled in)
    (SUBMITTED, "claim"): CLAIMED,
    (ESCALATED, "claim"): CLAIMED,
    (REOPENED, "claim"): CLAIMED,
    # give it back to the queue
    (CLAIMED, "release"): SUBMITTED,
    # 办理: a progress note; the first one starts the work
    (CLAIMED, "progress"): IN_PROGRESS,
    (IN_PROGRESS, "progress"): IN_PROGRESS,
    # 上报 / 吹哨: one rung up the ladder, by hand or by a missed time limit
    **{(state, "escalate"): ESCALATED for state in OPEN_STATES},
    # 转派: to another grid's queue
    **{(state, "transfer"): SUBMITTED for state in OPEN_STATES},
    # 办结
    (CLAIMED, "resolve"): RESOLVED,
    (IN_PROGRESS, "resolve"): RESOLVED,
    # 回访评价: satisfied closes the loop, unsatisfied reopens it
    (RESOLVED, "rate"): RATED,
    (RESOLVED, "reopen"): REOPENED,
    # 归档
    (RATED, "close"): CLOSED,
    (RESOLVED, "close"): CLOSED,
    # 撤回, by the resident
    (SUBMITTED, "cancel"): CANCELLED,
    (CLAIMED, "cancel"): CANCELLED,
}

ACTIONS = tuple(sorted({action for _, action in TRANSITIONS}))


def can(state: str, action: str) -> bool:
    return (state, action) in TRANSITIONS


def transition(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidTransition(
            f"cannot {action} an order that is {state}",
            code="invalid_transition") from None
