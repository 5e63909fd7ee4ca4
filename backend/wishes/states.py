"""The states of a wish. A wish is never routed to a grid worker: the community checks it and the
people registered with the community (双报到) take it."""
SUBMITTED = "submitted"    # 待审核: the community has not checked it yet
PUBLISHED = "published"    # 已发布: on the board, anyone registered with the community may claim it
CLAIMED = "claimed"        # 已认领: one claimant, with a time limit to fulfil it
FULFILLED = "fulfilled"    # 已完成: the claimant says it is done, with evidence; the resident confirms
CONFIRMED = "confirmed"    # 已确认: the resident confirmed; the claimant's hours are recorded
REJECTED = "rejected"      # 未通过: the community's check refused it (with a reason)
WITHDRAWN = "withdrawn"    # 已撤回: by the resident, before anyone claimed it
EXPIRED = "expired"        # 已过期: its "by when" passed before anyone fulfilled it

STATES = (SUBMITTED, PUBLISHED, CLAIMED, FULFILLED, CONFIRMED, REJECTED, WITHDRAWN, EXPIRED)
HELD = (CLAIMED, FULFILLED, CONFIRMED)          # a claimant is named exactly in these
ON_BOARD = (PUBLISHED, CLAIMED, FULFILLED, CONFIRMED)  # what the boards (and 公示) show
OPEN = (SUBMITTED, PUBLISHED, CLAIMED)          # someone still owes the resident something
