"""Staff category corrections as training data for the category classifier (the correction loop,
`categories.corrections`): the lifecycle's `correct_category` events, read back."""
from __future__ import annotations

from sqlalchemy import select

from ..categories.taxonomy import get_taxonomy
from ..extensions import db
from .models import Order, OrderEvent

ACTION = "correct_category"


def corrected_texts() -> list[tuple[str, str]]:
    """[(order text, corrected path)]: the latest valid correction of each order, oldest order first.
    A correction to a path that is not a leaf of the taxonomy is too coarse to learn from."""
    tax = get_taxonomy()
    latest = {}
    rows = db.session.execute(
        select(OrderEvent.order_id, OrderEvent.data, Order.text)
        .join(Order, Order.id == OrderEvent.order_id)
        .where(OrderEvent.action == ACTION).order_by(OrderEvent.id)).all()
    for order_id, data, text in rows:
        to = (data or {}).get("to")
        if isinstance(to, str) and tax.is_valid(to, leaf_only=True) and (text or "").strip():
            latest[order_id] = (" ".join(text.split()), tax.get(to).path)
    return [latest[k] for k in sorted(latest)]
