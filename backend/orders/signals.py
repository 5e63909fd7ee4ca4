"""Signals sent by order services.

`order_changing` is sent inside the transaction, before commit: receivers may add rows (e.g.
notifications) that must commit or roll back with the change. `order_changed` is sent after the
commit: receivers do best-effort side effects (Redis queues, jobs); if they fail the database still
holds the truth and `flask rebuild-queues` restores Redis."""
from blinker import Namespace

_signals = Namespace()
order_changing = _signals.signal("order-changing")
order_changed = _signals.signal("order-changed")
