"""公示 pages: the public sees each community's figures and what was done, never a resident's
personal data, nor orders that were cancelled, flagged by the content check or marked private."""
import re

import pytest

from backend.accounts.actors import SYSTEM, Actor
from backend.orders import services
from tests.factories import Factory
from tests.masking.test_masking import CORPUS, SECRETS

RESULT = "已联系物业更换灯泡，回访电话13912345678的王芳女士确认修好"


def _resolve(db, order, worker, result=RESULT, checked=True):
    """Claimed and resolved; by default WeChat's content check has passed too (the worker's job)."""
    services.perform(worker, order, "claim")
    services.perform(worker, order, "resolve", result=result)
    if checked:
        Factory(db).passed_content_check(order)
    return order


@pytest.fixture
def published(make, db, redis):
    """A community where residents typed every datum of the masking corpus into their requests."""
    world = make.world()
    worker = Actor.for_staff(world["workers"][0])
    resident = Actor.for_resident(world["resident"])
    done = []
    for written, _ in CORPUS:
        order = make.order(world["resident"], text=f"{written}，请尽快处理", location_text="水晶城小区3号楼")
        done.append(_resolve(db, order, worker))
    services.rate(resident, done[0], satisfaction="satisfied")
    services.rate(resident, done[1], satisfaction="basically_satisfied")
    services.rate(resident, done[2], satisfaction="unsatisfied")  # reopened: no longer resolved
    hidden = {
        "private": _resolve(db, make.order(world["resident"], text="家暴的事请不要公开", location_text="水晶城小区3号楼"), worker),
        "flagged": _resolve(db, make.order(world["resident"], text="一段审核没通过的话", location_text="水晶城小区3号楼"),
                            worker, checked=False),
        "cancelled": make.order(world["resident"], text="打错了，撤回", location_text="水晶城小区3号楼"),
    }
    services.perform(Actor.for_staff(world["community_admin"]), hidden["private"], "make_private", reason="涉及家庭隐私")
    services.perform(SYSTEM, hidden["flagged"], "content_flag")
    services.perform(resident, hidden["cancelled"], "cancel")
    waiting = make.order(world["resident"], text="路灯不亮", location_text="水晶城小区3号楼")
    # Resolved, but WeChat has not judged its words yet: counted, never shown.
    hidden["unchecked"] = _resolve(db, make.order(world["resident"], text="还没审核的一段话", location_text="水晶城小区3号楼"),
                                   worker, checked=False)
    return {**world, "done": done, "hidden": hidden, "waiting": waiting}


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_community_page_shows_what_was_done_without_personal_data(client, published):
    page = client.get(f"/public/communities/{published['community'].id}")
    assert page.status_code == 200 and page.headers["Cache-Control"].startswith("public, max-age=")
    html = page.get_data(as_text=True)
    leaked = [s for s in SECRETS + ["13912345678", "王芳"] if s in html]
    assert leaked == []
    assert "138****5678" in html and "3号楼*单元***室" in html and "139****5678" in html
    shown = set(re.findall(r"HX\d{8}-\d{4}", html))
    expected = {o.number for o in published["done"][:2] + published["done"][3:]}
    assert shown == expected  # reopened, private, flagged, unchecked, cancelled and waiting ones are not listed
    assert "还没审核" not in html and "审核没通过" not in html
    assert "群众评价：满意" in html and "群众评价：基本满意" in html


def test_the_month_figures_count_every_order_but_the_cancelled(client, published):
    html = _text(client.get(f"/public/communities/{published['community'].id}").get_data(as_text=True))
    n = len(CORPUS)
    # received: the corpus, private, flagged, unchecked and waiting ones (the cancelled one is not a
    # request); resolved: all but the reopened one, private, flagged and unchecked included (they were
    # done, just not shown)
    figures = re.search(r"(\d+)\s*受理\s*(\d+)\s*办结\s*([\d.]+)%\s*按时办结率\s*([\d.]+)%\s*满意率（(\d+)件已评价）", html)
    assert figures, html
    received, resolved, on_time, satisfied, rated = figures.groups()
    assert (int(received), int(resolved), int(rated)) == (n + 4, n - 1 + 3, 3)
    assert float(on_time) == 100.0 and satisfied == "66.7"


def test_the_index_lists_communities_with_their_figures(client, published):
    html = client.get("/public/").get_data(as_text=True)
    assert published["community"].name in html
    assert f"/public/communities/{published['community'].id}" in html


def test_a_private_order_can_be_published_again(client, db, published):
    admin = Actor.for_staff(published["community_admin"])
    order = published["hidden"]["private"]
    services.perform(admin, order, "make_public", reason="当事人同意公开")
    db.session.commit()
    from backend.extensions import redis
    redis.flushdb()  # the page is cached; a new one is computed after the cache expires
    assert order.number in client.get(f"/public/communities/{published['community'].id}").get_data(as_text=True)


def test_pages_are_cached_and_work_without_redis(app, client, make, db, redis, redis_stopped):
    world = make.world()
    html = client.get(f"/public/communities/{world['community'].id}").get_data(as_text=True)
    assert "本社区暂无已办结的公示诉求" in html


def test_the_cached_page_is_served_until_it_expires(client, make, db, redis):
    world = make.world()
    url = f"/public/communities/{world['community'].id}"
    first = client.get(url).get_data(as_text=True)
    order = _resolve(db, make.order(world["resident"], text="井盖松了", location_text="水晶城小区3号楼"),
                     Actor.for_staff(world["workers"][0]))
    assert client.get(url).get_data(as_text=True) == first
    redis.flushdb()
    assert order.number in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/public/communities/999999", "/public/communities/99999999999999999999"])
def test_an_unknown_community_is_a_chinese_404_page(client, db, redis, path):
    page = client.get(path)
    assert page.status_code == 404 and "text/html" in page.content_type
    assert "没有这个社区" in page.get_data(as_text=True) or "找不到" in page.get_data(as_text=True)


def test_no_login_is_needed_and_staff_actions_are_not_offered(client, published):
    html = client.get(f"/public/communities/{published['community'].id}").get_data(as_text=True)
    assert "<form" not in html and "openid" not in html
