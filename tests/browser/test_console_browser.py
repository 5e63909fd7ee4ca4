"""A grid worker logs in to the console in a real browser, sees the chart and claims an order."""
import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_worker_logs_in_sees_chart_and_claims(browser, live_server, make, db):
    world = make.world()
    worker = world["workers"][0]
    order = make.order(world["resident"])
    number, username = order.number, worker.username
    db.session.rollback()  # SQLite: the live server must not wait for this thread's read lock

    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A script or style the Content-Security-Policy blocks shows up as a console error.
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{live_server}/console/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    # Chart.js (served from npm, no CDN) loaded and drew the chart on the canvas. Both are plain
    # scripts at the end of the page, so they have run once it has loaded. (Not wait_for_function:
    # Playwright polls it with eval, which the page's CSP rightly refuses.)
    page.wait_for_url("**/console/")
    page.wait_for_load_state("load")
    assert page.evaluate("() => window.Chart !== undefined && Chart.getChart('by-state') !== undefined")
    assert page.locator("#state-counts td[data-state=submitted]").inner_text() == "1"
    page.click(f"text={number}")
    page.click("button[value=claim]")
    page.wait_for_selector("text=已接单")
    assert errors == []
    page.close()
    db.session.expire_all()
    assert order.state == "claimed" and order.assignee_id == worker.id
