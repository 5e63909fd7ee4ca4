from sqlalchemy import func, select

from backend.accounts.models import Staff
from backend.grids.models import Community, Grid
from backend.orders.models import Order


def test_seed_demo_is_idempotent(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0 and "created" in first.output
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Community, Grid, Staff, Order)]
    assert counts[0] == 2 and counts[1] == 6 and counts[3] >= 5
    second = runner.invoke(args=["seed-demo"])
    assert "already" in second.output
    assert [db.session.scalar(select(func.count()).select_from(m)) for m in (Community, Grid, Staff, Order)] == counts
    states = set(db.session.scalars(select(Order.state)))
    assert {"submitted", "claimed", "in_progress", "rated"} <= states
    from backend.disputes.models import Dispute
    assert [(d.state, len(d.meetings)) for d in db.session.scalars(select(Dispute))] == [("deliberating", 1)]


def test_issue_token_cli_gives_a_working_resident_token(app, client, db):
    token = app.test_cli_runner().invoke(args=["issue-token", "cli-openid"]).output.strip()
    response = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json == {"orders": []}
