"""Disputes on the console in a real browser: a grid worker registers a parking dispute on the form,
opens 商, records a meeting with the datetime picker and decides by a vote; no CSP errors."""
import pytest

from tests.browser.test_console_pages import _login, _watch

pytestmark = pytest.mark.browser


def test_a_grid_worker_registers_and_deliberates_a_dispute_in_the_browser(browser, live_server, make, db, artifacts):
    world = make.world()
    username, grid_code = world["workers"][0].username, world["grids"][0].code
    db.session.rollback()  # SQLite: the live server must not wait for this thread's lock

    page = browser.new_page(locale="zh-CN")
    errors = _watch(page)
    _login(page, live_server, username)
    page.click("text=矛盾纠纷")
    page.click("text=登记纠纷")
    page.select_option("select[name=topic]", "parking")
    page.select_option("select[name=grid]", grid_code)
    page.fill("textarea[name=subject]", "地下车库3号车位被长期占用")
    names = page.locator("input[name=party_name]")
    kinds = page.locator("select[name=party_kind]")
    names.nth(0).fill("王秀英")
    names.nth(1).fill("水晶城物业")
    kinds.nth(1).select_option("property")
    page.click("button:has-text('登记')")
    page.wait_for_selector("text=纠纷已登记")
    page.click("button[value=open_deliberation]")
    page.wait_for_selector("text=已开始协商")
    meeting = page.locator("form:has(button[value=hold_meeting])")
    meeting.locator("input[name=held_at]").fill("2026-11-20T19:00")
    meeting.locator("input[name=place]").fill("党群服务站")
    meeting.locator("input[name=attendees]").fill("网格员、业委会、物业、王秀英")
    meeting.locator("textarea[name=minutes]").fill("各方陈述，物业提出施划临时车位")
    page.click("button[value=hold_meeting]")
    page.wait_for_selector("text=已记录议事会")
    decide = page.locator("form:has(button[value=decide])")
    decide.locator("select[name=method]").select_option("vote")
    decide.locator("textarea[name=decision]").fill("车位归还，物业施划临时车位")
    for field, count in (("votes_for", "9"), ("votes_against", "1"), ("votes_abstain", "0")):
        decide.locator(f"input[name={field}]").fill(count)
    page.click("button[value=decide]")
    page.wait_for_selector("text=已作出决定")
    assert page.locator("text=赞成 9，反对 1，弃权 0").count() == 1
    assert page.locator("#meetings").inner_text().count("党群服务站") == 1
    page.screenshot(path=str(artifacts / "console-dispute.png"), full_page=True)
    assert not errors, errors
