"""The API documentation renders in a real browser from local assets (no CDN on these machines)."""
import pytest

pytestmark = pytest.mark.browser


def test_api_docs_render_the_order_endpoints(browser, live_server):
    page = browser.new_page()
    failed = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on("console", lambda msg: failed.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto(f"{live_server}/api/v1/docs")
    page.wait_for_selector("text=红色信箱 Red Mailbox API", timeout=20000)
    page.get_by_text("/api/v1/orders/{number}/rating").first.wait_for(timeout=20000)
    assert page.locator(".opblock").count() >= 5
    assert failed == []
    page.close()
