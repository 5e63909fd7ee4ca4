"""月度考核 in a real browser (issue 26, item 5): the street admin opens the generated month of two
communities (the must-show's generator, tests/console/test_console_assessment.py) on the ranking
page — the 三率 chart drawn, the grids ranked by score, sorted by a column header, a unit's
deductions opened per order — and the public 三率 page shows the same grids' figures with no person's
name. Screenshots: tests/artifacts/console-assessment.png, console-assessment-sorted.png,
public-assessment.png."""
from datetime import datetime

import pytest

from tests.browser.test_console_pages import _login, _watch
from tests.console.test_console_assessment import SH, Month, pct, travel_to

pytestmark = pytest.mark.browser


def test_the_ranking_page_draws_sorts_and_explains_and_public_shows_the_same_grids(browser, live_server, make, db,
                                                                                 redis, artifacts):
    gen = Month(make)
    gen.run()
    travel_to(datetime(2026, 12, 20, 10, 0, tzinfo=SH))
    ref = gen.reference()
    grids = {g.name: ref[("grid", g.id)] for g, _ in gen.grids}
    workers = [s.name for s in (*gen.workers.values(), *gen.leaders.values())]
    street_admin = gen.street_admin.username
    db.session.rollback()

    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN", reduced_motion="reduce")
    errors = _watch(page)
    target = "/console/assessment?month=2026-11&level=grid"
    _login(page, live_server, street_admin, target="/console/assessment")
    page.goto(f"{live_server}{target}")
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "红旗街道2026年11月考核"
    assert page.evaluate("() => Chart.getChart('chart-assessment') !== undefined")
    rows = page.locator("#assessment-ranking tbody tr")
    shown = [rows.nth(i).get_attribute("data-unit") for i in range(rows.count())]
    # Ranked by score, best first, as the reference scores them (ties by name).
    assert shown == sorted(grids, key=lambda n: (-grids[n]["score"], n))
    for name in shown:
        row = page.locator(f'#assessment-ranking tr[data-unit="{name}"]')
        assert row.locator('[data-column="response_rate"]').inner_text() == pct(grids[name]["response_rate"])
        assert row.locator('[data-column="score"]').inner_text() == str(grids[name]["score"])
    worst = shown[-1]
    details = page.locator(f'#assessment-deductions details[data-unit="{worst}"]')
    details.locator("summary").click()
    first = details.locator("tbody tr").first
    assert first.is_visible() and first.locator("a").inner_text().startswith("HX")  # an order number, linked
    assert "分" in first.locator("td").nth(1).inner_text()  # its reasons with their points
    page.screenshot(path=str(artifacts / "console-assessment.png"), full_page=True)

    page.click('#assessment-ranking th a:has-text("响应率")')  # sort by 响应率, highest first
    page.wait_for_load_state("load")
    rows = page.locator("#assessment-ranking tbody tr")
    column = [rows.nth(i).locator('[data-column="response_rate"]').inner_text() for i in range(rows.count())]
    assert column == sorted(column, key=lambda s: -float(s.rstrip("%"))) and "sort=response_rate" in page.url
    page.screenshot(path=str(artifacts / "console-assessment-sorted.png"), full_page=True)

    page.goto(f"{live_server}/public/assessment?month=2026-11")
    for name, figures in grids.items():
        cells = page.locator(f'#assessment tr.grid[data-grid="{name}"] td')
        assert [cells.nth(i).inner_text() for i in range(2, 6)] == [
            pct(figures[k]) for k in ("response_rate", "solve_rate", "satisfaction_rate", "on_time_rate")]
    text = page.locator("body").inner_text()
    assert not [w for w in workers if w in text]  # no worker's name in public
    page.screenshot(path=str(artifacts / "public-assessment.png"), full_page=True)
    assert errors == []
