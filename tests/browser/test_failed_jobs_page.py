"""后台任务 in a real browser: a job that failed in the inbound worker is listed with its queue, task
and error in Chinese labels; 重试 puts it back on its queue, 丢弃 removes it."""
import pytest
from rq import Queue

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_the_sysadmin_sees_a_failed_job_retries_one_and_discards_another(app, browser, live_server, make, db,
                                                                         redis_url, artifacts):
    from redis import Redis
    connection = Redis.from_url(redis_url)
    inbound, outbound = Queue("wechat", connection=connection), Queue("notifications", connection=connection)
    # Two jobs that raise, run by a worker of each group as the Procfile starts them.
    broken = inbound.enqueue("backend.wechat.jobs.check_order_content", "不是编号")
    other = outbound.enqueue("backend.notifications.services.deliver", "不是编号")
    runner = app.test_cli_runner()
    for queue in ("wechat", "notifications"):
        result = runner.invoke(args=["run-worker", "--burst", "--no-ticker", "--queues", queue])
        assert result.exit_code == 0, result.output
    assert broken.id in inbound.failed_job_registry and other.id in outbound.failed_job_registry

    admin = make.staff("sysadmin")
    username = admin.username
    db.session.commit()
    db.session.rollback()
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page.goto(f"{live_server}/console/login?next=/console/jobs")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/jobs")
    rows = page.locator("tr.failed-job")
    assert rows.count() == 2
    text = page.inner_text("table.failed-jobs")
    assert "诉求内容安全检测" in text and "发送通知" in text and "微信消息（接收）" in text
    page.screenshot(path=str(artifacts / "console-failed-jobs.png"), full_page=True)

    page.locator("tr.failed-job", has_text="诉求内容安全检测").get_by_role("button", name="重试").click()
    page.wait_for_selector("text=已重新排队")
    assert broken.id not in inbound.failed_job_registry and broken.id in inbound.job_ids
    page.locator("tr.failed-job", has_text="发送通知").get_by_role("button", name="丢弃").click()
    page.wait_for_selector("text=已丢弃")
    assert page.locator("tr.failed-job").count() == 0 and "没有失败的后台任务" in page.inner_text("table.failed-jobs")
    assert other.id not in outbound.failed_job_registry
    page.close()
