"""The API documentation renders in a real browser from local assets (no CDN on these machines)."""
import shutil

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is required (scripts/setup.sh installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def test_api_docs_render_the_order_endpoints(browser, live_server):
    page = browser.new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{live_server}/api/v1/docs")
    page.wait_for_selector("text=红色信箱 Red Mailbox API", timeout=20000)
    page.get_by_text("/api/v1/orders/{number}/rating").first.wait_for(timeout=20000)
    assert page.locator(".opblock").count() >= 5
    assert failed == []
    page.close()
