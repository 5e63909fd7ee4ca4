"""Order numbers stay unique when 50 residents submit at the same moment."""
import threading

from sqlalchemy import func, select

from backend.orders.models import Order


def test_fifty_concurrent_creates_get_fifty_distinct_numbers(app, client, make, auth, db):
    make.world()
    residents = [make.resident(openid=f"concurrent-{i}") for i in range(50)]
    headers = [auth.headers_for(r) for r in residents]
    db.session.rollback()  # end this thread's read: on SQLite an open transaction holds the lock
    from backend.categories import classifier
    classifier.get_classifier()  # load once up front, as a started server would have
    barrier = threading.Barrier(50)
    results = [None] * 50

    def submit(i):
        local_client = app.test_client()
        barrier.wait()
        results[i] = local_client.post("/api/v1/orders", json={"text": f"第{i}个诉求：楼道灯坏了"}, headers=headers[i])

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = [r.status_code for r in results]
    assert statuses == [201] * 50, [r.json for r in results if r.status_code != 201][:3]
    numbers = [r.json["number"] for r in results]
    assert len(set(numbers)) == 50
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 50
    suffixes = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert suffixes == list(range(1, 51))


def test_a_days_ten_thousandth_order_keeps_every_digit(make, db):
    """Numbers are padded to four digits, never cut to them (the database's lpad would cut)."""
    from sqlalchemy import text
    from backend.accounts.actors import Actor
    from backend.orders import services
    make.world()
    resident = Actor.for_resident(make.resident(openid="ten-thousand"))
    first = services.create_order(resident, text="楼道灯坏了")
    assert first.number.endswith("-0001")
    # The day's counter as if 9,998 more had been given: on PostgreSQL its row holds the sequence
    # value before the day's first, on SQLite the last number given.
    shift = "last - 9998" if db.engine.dialect.name == "postgresql" else "last + 9998"
    db.session.execute(text(f"UPDATE order_sequences SET last = {shift}"))
    db.session.commit()
    assert services.create_order(resident, text="又一件事").number.endswith("-10000")
