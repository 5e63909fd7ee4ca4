"""Nothing of the masking corpus on any public surface (issue 27, finding 6): the whole rule-family
corpus (tests/masking/masking_corpus.py) typed into resolved orders' requests, results and places and
into published wishes, then read where the public or another resident reads it — the 公示 page,
Open311 `GET /requests` in JSON and XML and `GET /requests/{id}`, the 微心愿 公示 board and a wish's
page as another resident sees it. Each surface's leak count (corpus entries whose data it shows) is 0.

The orders are written straight to the database (resolved, WeChat's check passed, as the lifecycle
leaves them): about 600 of them through the lifecycle would take a minute for nothing this test is about."""
import html
import json
import re
from datetime import timedelta

import pytest
import xmltodict

from backend import clock
from backend.accounts import sessions
from backend.accounts.actors import Actor
from backend.orders import states
from backend.orders.models import Order, OrderEvent
from backend.wishes import registry as wish_registry, services as wishes
from tests.masking.masking_corpus import CORPUS, leaked

ORDER_CHARS = 140  # 公示 shows a request's first 140 characters: each order's text fits whole
WISH_CHARS = 500  # the wish form's limit


def _pack(limit: int) -> list[list[int]]:
    """Corpus entries (indices) in groups whose texts, joined by "；", fit in `limit` characters."""
    groups, current, size = [], [], 0
    for i, (text, _) in enumerate(CORPUS):
        if current and size + len(text) + 1 > limit:
            groups.append(current)
            current, size = [], 0
        current.append(i)
        size += len(text) + 1
    return groups + ([current] if current else [])


def _joined(group: list[int]) -> str:
    return "；".join(CORPUS[i][0] for i in group)


def _count(shown_per_group: dict, groups: list[list[int]]) -> list[str]:
    """The corpus texts whose data a surface shows (in what it shows for the item carrying them)."""
    found = []
    for key, group in enumerate(groups):
        shown = shown_per_group.get(key)
        assert shown is not None, f"item {key} not on the surface: the test would prove nothing"
        found += [CORPUS[i][0] for i in group if leaked(shown, CORPUS[i][1])]
    return found


@pytest.fixture
def published(app, make, db, redis, monkeypatch):
    world = make.world()
    monkeypatch.setitem(app.config, "PUBLIC_CACHE_SECONDS", 0)
    monkeypatch.setitem(app.config, "PUBLIC_RECENT_LIMIT", 2000)
    groups = _pack(ORDER_CHARS)
    now = clock.now()
    grid, community = world["grids"][0], world["community"]
    numbers = {}
    for key, group in enumerate(groups):
        text = _joined(group)
        made = now - timedelta(minutes=len(groups) - key)
        order = Order(number=f"HX{made:%Y%m%d}-{key + 1:05d}", channel="h5", kind="complaint", text=text,
                      location_text=text[:200], result=text, state=states.RESOLVED, rung="grid_worker",
                      resident_id=world["resident"].id, grid_id=grid.id, community_id=community.id,
                      street_id=world["street"].id, category="城乡建设/住房保障与房地产/物业服务", flags=[],
                      created_at=made, updated_at=made, resolved_at=made)
        order.events.append(OrderEvent(actor_type="system", action="content_check", to_state=states.RESOLVED,
                                       data={"check": "msg_sec_check", "verdict": "pass"}, created_at=made))
        db.session.add(order)
        numbers[order.number] = key
    db.session.commit()
    return {"world": world, "groups": groups, "numbers": numbers}


def test_the_public_page_shows_nothing_of_the_corpus(client, published):
    body = client.get(f"/public/communities/{published['world']['community'].id}").get_data(as_text=True)
    shown = {}
    for m in re.finditer(r"(HX\d{8}-\d{5}).*?诉求：(.*?)</div>\s*<div>办理结果：(.*?)</div>", body, re.S):
        shown[published["numbers"][m.group(1)]] = html.unescape(m.group(2) + "\n" + m.group(3))
    leaks = _count(shown, published["groups"])
    assert leaks == [], f"{len(leaks)} of {len(CORPUS)} corpus texts leak, e.g. {leaks[:3]}"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_lists_nothing_of_the_corpus(client, published, fmt):
    body = client.get(f"/open311/v2/requests.{fmt}").get_data(as_text=True)
    items = json.loads(body) if fmt == "json" else xmltodict.parse(body)["service_requests"]["request"]
    shown = {published["numbers"][r["service_request_id"]]: "\n".join(
        r[f] or "" for f in ("description", "address", "status_notes")) for r in items}
    leaks = _count(shown, published["groups"])
    assert leaks == [], f"{len(leaks)} of {len(CORPUS)} corpus texts leak, e.g. {leaks[:3]}"


def test_open311_shows_nothing_of_the_corpus_one_request_at_a_time(client, published):
    shown = {}
    for number, key in list(published["numbers"].items())[::10]:
        [r] = client.get(f"/open311/v2/requests/{number}.json").json
        shown[key] = "\n".join(r[f] or "" for f in ("description", "address", "status_notes"))
    groups = published["groups"]
    leaks = [CORPUS[i][0] for k in shown for i in groups[k] if leaked(shown[k], CORPUS[i][1])]
    assert len(shown) >= len(groups) // 10
    assert leaks == [], f"{len(leaks)} corpus texts leak, e.g. {leaks[:3]}"


@pytest.fixture
def wished(make, db, redis, client):
    """The corpus as published wishes of resident A, in rounds of 50 (the 公示 board shows the
    newest 50); resident B, a volunteer of the community, reads them on the phone."""
    world = make.world()
    community = world["community"]
    cadmin = Actor.for_staff(world["community_admin"])
    b = make.resident()
    wish_registry.register(Actor.for_resident(b), community_id=community.id, kind="volunteer", name="赵建国",
                           skills=[], hours_available=2)
    return {"world": world, "b": b, "cadmin": cadmin, "groups": _pack(WISH_CHARS)}


def test_wishes_show_nothing_of_the_corpus_to_the_public_or_another_resident(client, db, wished):
    groups, a = wished["groups"], Actor.for_resident(wished["world"]["resident"])
    community = wished["world"]["community"]
    with client.session_transaction() as session:
        sessions.sign_in(session, "resident", wished["b"])
    on_board, on_phone = {}, {}
    for start in range(0, len(groups), 50):
        ids = {}
        for key in range(start, min(start + 50, len(groups))):
            wish = wishes.create_wish(a, community_id=community.id, text=_joined(groups[key]))
            wishes.perform(wished["cadmin"], wish, "approve")
            ids[wish.id] = key
        body = client.get("/public/wishes").get_data(as_text=True)
        cells = [html.unescape(c) for c in re.findall(r'<tr class="wish"><td>.*?</td><td>(.*?)</td>', body, re.S)]
        for wish_id, cell in zip(sorted(ids, reverse=True), cells):  # newest first
            on_board[ids[wish_id]] = cell
        for wish_id, key in ids.items():
            page = client.get(f"/m/wishes/{wish_id}").get_data(as_text=True)
            on_phone[key] = html.unescape("\n".join(re.findall(r"<p>(.*?)</p>", page, re.S)))
    board_leaks, phone_leaks = _count(on_board, groups), _count(on_phone, groups)
    assert (len(board_leaks), len(phone_leaks)) == (0, 0), (board_leaks[:3], phone_leaks[:3])
