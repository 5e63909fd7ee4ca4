"""The order states. What moves an order between them is the lifecycle table (`lifecycle.py`)."""

SUBMITTED, CLAIMED, IN_PROGRESS, ESCALATED = "submitted", "claimed", "in_progress", "escalated"
RESOLVED, REOPENED, RATED, CLOSED, CANCELLED = "resolved", "reopened", "rated", "closed", "cancelled"
# 合并: a duplicate closed into the order it repeats (Order.merged_into_id); `unmerge` undoes it.
MERGED = "merged"

STATES = (SUBMITTED, CLAIMED, IN_PROGRESS, ESCALATED, RESOLVED, REOPENED, RATED, CLOSED, CANCELLED, MERGED)
# States in which someone still owes the resident work.
OPEN_STATES = (SUBMITTED, CLAIMED, IN_PROGRESS, ESCALATED, REOPENED)
# States that wait in a claim queue for somebody to take them.
UNCLAIMED_STATES = (SUBMITTED, ESCALATED, REOPENED)
# States in which exactly one staff member holds the order (its assignee).
CLAIMED_STATES = (CLAIMED, IN_PROGRESS)
