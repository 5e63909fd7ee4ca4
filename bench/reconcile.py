"""What a load or fault run must leave behind, checked against the database and Redis: which queues
each order is in (every waiting order in exactly the one its state and rung name, others in none)."""
from collections import defaultdict


def queue_membership(client) -> dict[str, list[str]]:
    """order number → every claim queue (rm:q:* ZSET) it is a member of."""
    from backend.dispatch import queues
    found = defaultdict(list)
    for key in client.scan_iter(match=queues.PREFIX + "*", count=500):
        key = key.decode() if isinstance(key, bytes) else key
        if key == queues.WHERE:
            continue
        for number in client.zrange(key, 0, -1):
            found[number.decode() if isinstance(number, bytes) else number].append(key)
    return dict(found)


def misqueued(client) -> list[tuple[str, list[str], str | None]]:
    """(number, queues it is in, the queue it belongs in) of every order not in exactly its queue.
    Needs an app context."""
    from sqlalchemy import select
    from backend.dispatch import queues
    from backend.extensions import db
    from backend.orders.models import Order
    membership = queue_membership(client)
    wrong = []
    for order in db.session.scalars(select(Order)):
        expected = queues.key_for(order)
        actual = membership.get(order.number, [])
        if actual != ([expected] if expected else []):
            wrong.append((order.number, actual, expected))
    db.session.rollback()
    return wrong
