"""Authorization matrix: every route of the app × every kind of actor → the expected answer.

The table below is the one source: a route registered in the app without a row (or a row for a
route that no longer exists) fails `test_every_route_has_a_row`, so a new endpoint cannot ship
without someone deciding who may call it. Each row builds a fresh order of resident A in the state
its action needs, calls the route as every actor, and checks the status, that a refused call changed
nothing, and that nobody but resident A and the staff in scope ever reads A's text, phone or photos.

Columns (the world of `_world`): one street with two communities; community 1 has grids 1 and 2;
A's orders are in grid 1 of community 1.
  anon      no credentials
  res_a     resident A, who sent the order          res_b    another resident
  w1, w2    grid workers of grid 1 / grid 2         leader   grid leader of grid 1
  cadmin    community 1's admin                     cadmin2  community 2's admin
  sadmin    the street's admin                      liaison  a department liaison (城乡建设)
  sys       sysadmin
  bot_a     the bot service token acting for A      bot_b    the bot token acting for B
  partner   an Open311 partner's api_key, sent as the spec says (a form field, a query parameter):
            outside /open311/v2 it is no identity, so it answers like anonymous.
  member    a part-time member of grid 1's team (grid_member): sees only what they reported, so
            A's order in their own grid is as unknown to them as to w2; they claim nothing.
  prop      a property company's staff (物业); the company manages A's compound, but sees only
            what was given to it: A's orders stay at the grid (not property work) unless a row's
            setup whistles one to the property (`at_property`).

Console pages authenticate by session cookie only: a bearer token (resident or bot) is no login
there, so those columns are redirected to the login page (302) like anonymous visitors. The
resident H5 pages (/m/) likewise: a resident's session comes only from WeChat OAuth (the matrix
puts residents A and B in the session, as the callback would); everyone else is sent to log in
(`login`).

Console and H5 action tokens: `done` = 302 and the order changed; `refused` = 302 with an error
flash and the order unchanged; `302` = sent to the console's login page; `login` = sent to the H5
login (WeChat OAuth).

What a row keeps from the other actors is `hidden` (A's text, phone and photo). The 公示 pages and
Open311's GETs publish resolved requests' texts on purpose (masked), so they hide only A's phone and
photo — from everyone.
"""
import io
import itertools
from datetime import timedelta
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select

from backend.accounts.actors import Actor
from backend.categories import taxonomy
from backend.open311 import services as open311
from backend.dispatch import claims, listings
from backend.disputes import services as disputes
from backend.disputes.models import Dispute, DisputeEvent
from backend.knowledge import services as knowledge
from backend.orders import photos, replies
from backend.orders.models import Order, OrderEvent
from backend.wishes import registry as wish_registry, services as wishes
from backend.wishes.models import Wish
from backend.accounts import sessions

ACTORS = ("anon", "res_a", "res_b", "w1", "w2", "leader", "cadmin", "cadmin2", "sadmin", "liaison",
          "sys", "bot_a", "bot_b", "partner", "member", "prop")
STAFF = {"w1", "w2", "leader", "cadmin", "cadmin2", "sadmin", "liaison", "sys", "member", "prop"}

# What only resident A and staff in scope may ever read (in any response body).
A_TEXT = "楼道灯坏了 标记XQ7私密"
A_PHONE = "13912340001"
A_PHOTO = "https://img.example/a-private-7731.jpg"
A_MARKERS = (A_TEXT, A_PHONE, A_PHOTO)
A_CATEGORY = "城乡建设/城市建设和市政管理/城市公共设施"
# A's wish (微心愿): resident B is a volunteer registered with A's community (双报到), so B sees it on the
# board once published — masked — and may claim it; the community's admins check it.
A_WISH = "心愿标记WQ9私密 请联系13912340001"
WISH_MARKERS = (A_WISH, A_PHONE)
WISH_STAFF = {"cadmin", "sadmin", "sys"}
PNG = (Path(__file__).resolve().parents[1] / "fixtures/wechat/media.png").read_bytes()


@dataclass
class Row:
    method: str
    rule: str
    expect: str  # one token per column of ACTORS
    setup: str | None = None  # the state of A's order the call needs (see _order_in)
    body: Callable | dict | str | None = None  # "photo": a multipart upload
    path: str | None = None  # the concrete path when it differs from the rule
    readers: set = field(default_factory=set)  # who may see A's data in a 2xx answer
    hidden: tuple = None  # what of A's the others must not see (default: A_MARKERS)

    def expected(self) -> dict:
        tokens = self.expect.split()
        assert len(tokens) == len(ACTORS), (self.method, self.rule, len(tokens))
        return dict(zip(ACTORS, tokens))


# Staff who may see A's grid-1 order (scope): the grid's staff, community 1, the street, sysadmin.
IN_SCOPE = {"w1", "leader", "cadmin", "sadmin", "sys"}
A_READERS = {"res_a", "bot_a"} | IN_SCOPE

O = "/api/v1/orders/<string:number>"


def _extend_body(world, sender):
    from datetime import timedelta
    from backend import clock
    return {"reason": "等待配件到货", "until": (clock.now() + timedelta(days=9)).isoformat()}

_NEW = itertools.count()

# One column per ACTORS entry.
#                          anon res_a res_b w1  w2  lead cad cad2 sad liai sys bot_a bot_b partner member prop
TABLE = [
    Row("GET", "/", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302"),
    Row("GET", "/healthz", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/api/v1/openapi.json", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("GET", "/api/v1/docs", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200"),
    # A photo A uploaded: served to whoever may see the order, with a token; a URL is no permission.
    Row("GET", "/uploads/<path:name>", "401 200 404 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="photo",
        path="{photo}", readers=A_READERS),
    Row("GET", "/static/<path:filename>", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200",
        path="/static/console.css"),
    Row("GET", "/vendor/<string:package>/<path:filename>",
        "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", path="/vendor/chart.js/dist/chart.umd.js"),
    # Public logins: a wrong password / an empty code is refused the same for everyone.
    # (A partner's api_key in a login body is an unknown field: 422, like any stray field.)
    Row("POST", "/api/v1/auth/login", "401 401 401 401 401 401 401 401 401 401 401 401 401 422 401 401",
        body=lambda w, s: {"username": w["staff"]["w1"].username, "password": "wrong"}),
    Row("POST", "/api/v1/auth/wechat", "422 422 422 422 422 422 422 422 422 422 422 422 422 422 422 422", body={}),
    # Logout ends the caller's own sessions: any staff or resident token; the bot service is no account.
    Row("POST", "/api/v1/auth/logout", "401 204 204 204 204 204 204 204 204 204 204 403 403 401 204 204"),
    Row("GET", "/wechat/callback", "403 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403"),
    Row("POST", "/wechat/callback", "403 403 403 403 403 403 403 403 403 403 403 403 403 403 403 403"),
    # Resident endpoints.
    Row("GET", "/api/v1/orders", "401 200 200 403 403 403 403 403 403 403 200 403 403 401 403 403", setup="submitted",
        readers={"res_a", "sys"}),
    Row("POST", "/api/v1/orders", "401 201 201 403 403 403 403 403 403 403 403 403 403 401 403 403",
        body={"text": "路灯不亮", "location_text": "水晶城小区3号楼"}),
    Row("GET", O, "401 200 404 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        readers=A_READERS),
    # 附议 (issue 20): residents only. B's draft repeats A's order, so B may join it; A may not join
    # their own (422), and nobody learns A's text from either answer.
    Row("POST", "/api/v1/orders/duplicates", "401 200 200 403 403 403 403 403 403 403 403 403 403 401 403 403",
        setup="submitted", body={"text": "路灯坏了 标记", "location_text": "水晶城小区3号楼"}),
    Row("POST", O + "/join", "401 422 200 403 403 403 403 403 403 403 403 403 403 401 403 403", setup="submitted",
        body={"text": "路灯坏了 标记", "location_text": "水晶城小区3号楼"}),
    Row("POST", O + "/cancel", "401 200 404 403 403 403 403 403 403 403 403 403 403 401 403 403", setup="submitted",
        body={}, readers={"res_a"}),
    Row("POST", O + "/rating", "401 200 404 403 403 403 403 403 403 403 403 403 403 401 403 403", setup="resolved",
        body={"satisfaction": "满意"}, readers={"res_a"}),
    Row("POST", O + "/photos", "401 201 404 403 403 403 403 403 403 403 403 403 403 401 403 403", setup="submitted",
        body="photo", readers={"res_a"}),
    Row("POST", "/api/v1/chat", "401 200 200 403 403 403 403 403 403 403 403 403 403 401 403 403", body={"text": "你好"}),
    # Staff endpoints.
    Row("GET", "/api/v1/queue", "401 403 403 200 200 200 200 200 200 200 200 403 403 401 200 200", setup="submitted",
        readers=IN_SCOPE),
    Row("GET", "/api/v1/supervision", "401 403 403 200 200 200 200 200 200 200 200 403 403 401 200 200",
        setup="submitted", readers=IN_SCOPE),
    # 上班/下班 (轮派, issue 26): a grid worker's own flag; nobody else has one.
    Row("POST", "/api/v1/me/duty", "401 403 403 200 200 403 403 403 403 403 403 403 403 401 403 403",
        body={"on_duty": True}),
    Row("POST", "/api/v1/nlu/parse", "401 403 403 200 200 200 200 200 200 200 200 403 403 401 200 200",
        body={"text": "楼道灯坏了"}),
    Row("POST", O + "/claim", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body={}, readers=IN_SCOPE),
    Row("POST", O + "/assign", "401 403 403 403 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body=lambda w, s: {"assignee": w["staff"]["w1"].username}, readers=IN_SCOPE),
    # Held by w1: the assignee or a leader above them may give it back, work on it, finish it.
    Row("POST", O + "/release", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="claimed",
        body={}, readers=IN_SCOPE),
    Row("POST", O + "/progress", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="claimed",
        body={"note": "已联系物业"}, readers=IN_SCOPE),
    Row("POST", O + "/resolve", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="claimed",
        body={"result": "灯已换好"}, readers=IN_SCOPE),
    Row("POST", O + "/escalate", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body={"reason": "需要物业配合"}, readers=IN_SCOPE),
    Row("POST", O + "/transfer", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body=lambda w, s: {"reason": "地址在2网格", "grid": w["grids"][1].code}, readers=IN_SCOPE),
    Row("POST", O + "/place", "401 403 403 403 404 403 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body=lambda w, s: {"grid": w["grids"][1].code}, readers=IN_SCOPE),
    Row("POST", O + "/supervise", "401 403 403 403 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body={"note": "请尽快处理"}, readers=IN_SCOPE),
    Row("POST", O + "/category", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body={"category": "城乡建设/城市建设和市政管理"}, readers=IN_SCOPE),
    Row("POST", O + "/grade", "401 403 403 403 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body={"grade": "urgent"}, readers=IN_SCOPE),
    Row("POST", O + "/reopen", "401 403 403 403 404 403 200 404 200 404 200 403 403 401 404 404", setup="resolved",
        body={"reason": "回访不满意"}, readers=IN_SCOPE),
    # 小区吹哨、物业报到: whoever may move A's waiting order gives it to its compound's property; the
    # property (or an admin) hands it back to the community. The property sees A's order only then.
    Row("POST", O + "/property", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body={}, readers=IN_SCOPE),
    Row("POST", O + "/return", "401 403 403 403 404 403 200 404 200 404 200 403 403 401 404 200", setup="at_property",
        body={"reason": "不属于物业管理范围"}, readers=IN_SCOPE | {"prop"}),
    Row("POST", O + "/close", "401 403 403 403 404 403 200 404 200 404 200 403 403 401 404 404", setup="resolved",
        body={"reason": "已回访"}, readers=IN_SCOPE),
    # The bot's service API: only the service token; it acts for the conversation's resident only.
    Row("POST", "/api/v1/bot/orders", "401 403 403 403 403 403 403 403 403 403 403 201 201 401 403 403",
        body=lambda w, s: {"sender_id": s, "text": "路灯不亮"}),
    Row("GET", "/api/v1/bot/orders", "401 403 403 403 403 403 403 403 403 403 403 200 404 401 403 403",
        setup="submitted", path="/api/v1/bot/orders?sender_id={sender}&number={number}", readers={"bot_a"}),
    Row("POST", "/api/v1/bot/orders/<string:number>/rating",
        "401 403 403 403 403 403 403 403 403 403 403 200 404 401 403 403", setup="resolved",
        body=lambda w, s: {"sender_id": s, "satisfaction": "满意"}, readers={"bot_a"}),
    Row("POST", "/api/v1/bot/orders/duplicates", "401 403 403 403 403 403 403 403 403 403 403 200 200 401 403 403",
        setup="submitted", body=lambda w, s: {"sender_id": s, "text": "路灯坏了 标记", "location_text": "水晶城小区3号楼"}),
    Row("POST", "/api/v1/bot/orders/<string:number>/join",
        "401 403 403 403 403 403 403 403 403 403 403 422 200 401 403 403", setup="submitted",
        body=lambda w, s: {"sender_id": s, "text": "路灯坏了 标记", "location_text": "水晶城小区3号楼"}),
    Row("POST", "/api/v1/bot/orders/<string:number>/cancel",
        "401 403 403 403 403 403 403 403 403 403 403 200 404 401 403 403", setup="submitted",
        body=lambda w, s: {"sender_id": s}, readers={"bot_a"}),
    # The console (session cookie; forms carry the CSRF token).
    Row("GET", "/console/login", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200"),
    Row("POST", "/console/login", "401 401 401 401 401 401 401 401 401 401 401 401 401 401 401 401",
        body=lambda w, s: {"username": w["staff"]["w1"].username, "password": "wrong"}),
    Row("POST", "/console/logout", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302", body={}),
    Row("GET", "/console/", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200", setup="submitted",
        readers=IN_SCOPE),
    Row("POST", "/console/notifications/read", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302",
        body={}),
    # Claimed: the resident's "claimed" message waits in the outbox, shown only to staff in scope.
    Row("GET", "/console/outbox", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200", setup="claimed",
        readers=IN_SCOPE),
    Row("GET", "/console/orders/<string:number>", "302 302 302 200 404 200 200 404 200 404 200 302 302 302 404 404",
        setup="submitted", readers=IN_SCOPE),
    Row("POST", "/console/orders/<string:number>/<string:action>",
        "302 302 302 done refused done done refused done refused done 302 302 302 refused refused", setup="submitted",
        path="/console/orders/{number}/claim", body={}, readers=IN_SCOPE),
    # The order desk lists and exports what each one's scope holds; A's order only for those in scope.
    Row("GET", "/console/orders", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200", setup="submitted",
        readers=IN_SCOPE),
    Row("GET", "/console/export/orders.<any(csv,xlsx):fmt>",
        "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200", setup="submitted",
        path="/console/export/orders.csv", readers=IN_SCOPE),
    # 月度考核 (issue 26): the ranking and its XLSX report are for community and street admins and
    # the sysadmin, each over their own scope; order numbers only, never A's words, phone or photo.
    Row("GET", "/console/assessment", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403",
        setup="resolved"),
    Row("GET", "/console/export/assessment.xlsx", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403",
        setup="resolved"),
    # A photo through the staff session: the order's scope, like /uploads/ with a bearer token.
    Row("GET", "/console/photos/<path:name>", "302 302 302 200 404 200 200 404 200 404 200 302 302 302 404 404",
        setup="photo", path="/console/photos/{photo_name}", readers=IN_SCOPE),
    # The grid worker's phone pages: the same scope and lifecycle rows as the desk.
    Row("GET", "/console/m/", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200", setup="submitted",
        readers=IN_SCOPE),
    Row("GET", "/console/m/orders/<string:number>", "302 302 302 200 404 200 200 404 200 404 200 302 302 302 404 404",
        setup="submitted", readers=IN_SCOPE),
    Row("POST", "/console/m/orders/<string:number>/<string:action>",
        "302 302 302 done refused done done refused done refused done 302 302 302 refused refused", setup="submitted",
        path="/console/m/orders/{number}/claim", body={}, readers=IN_SCOPE),
    # 后台任务: the failed background jobs of every queue, the system administrator's only.
    Row("GET", "/console/jobs", "302 302 302 403 403 403 403 403 403 403 200 302 302 302 403 403"),
    Row("POST", "/console/jobs/<string:queue>/<string:job_id>/retry",
        "302 302 302 403 403 403 403 403 403 403 404 302 302 302 403 403", path="/console/jobs/wechat/nosuchjob/retry",
        body={}),
    Row("POST", "/console/jobs/<string:queue>/<string:job_id>/discard",
        "302 302 302 403 403 403 403 403 403 403 404 302 302 302 403 403",
        path="/console/jobs/wechat/nosuchjob/discard", body={}),
    # The registry (issue 24): community and street admins keep their own scope's sheet (the import
    # refuses another scope's rows, the export lists only theirs), the sysadmin all of it. Without a
    # file, or with nothing checked, 400; an unknown job 404.
    Row("GET", "/console/registry", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    Row("POST", "/console/registry/check", "302 302 302 403 403 403 400 400 400 403 400 302 302 302 403 403", body={}),
    Row("POST", "/console/registry/import", "302 302 302 403 403 403 400 400 400 403 400 302 302 302 403 403", body={}),
    # A worker's import: its progress and, once, its report (an unknown job is 404 to the sysadmin).
    Row("GET", "/console/registry/jobs/<string:job_id>", "302 302 302 403 403 403 404 404 404 403 404 302 302 302 403 403",
        path="/console/registry/jobs/nosuchjob"),
    Row("GET", "/console/registry/jobs/<string:job_id>.json",
        "302 302 302 403 403 403 404 404 404 403 404 302 302 302 403 403", path="/console/registry/jobs/nosuchjob.json"),
    Row("GET", "/console/registry/<any(template,current):which>.xlsx",
        "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403", path="/console/registry/current.xlsx"),
    # A reminder opened from the list (issue 24): marked read and on to its order; one that is not
    # the caller's just leads back to the dashboard.
    Row("GET", "/console/notifications/<int:notification_id>",
        "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302", path="/console/notifications/999999"),
    # Staff management: community and street admins for the staff of their scope, and the sysadmin.
    Row("GET", "/console/staff", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    # A new grid worker in grid 1 (a fresh username per call): shown with its first password (200).
    Row("POST", "/console/staff/new", "302 302 302 403 403 403 200 404 200 403 200 302 302 302 403 403",
        body=lambda w, s: {"username": f"new-{next(_NEW)}", "name": "新网格员", "role": "grid_worker",
                           "grid": str(w["grids"][0].id)}),
    Row("POST", "/console/staff/<int:staff_id>/<any(deactivate,reactivate,move,password):action>",
        "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403", path="/console/staff/{w1}/reactivate", body={}),
    # Staff enter calls for addresses they serve (A's grid 1 here).
    # The console's form: a made order sends its maker to the order's page (302 here is that, for
    # staff); an address outside the scope is refused on the form page (403).
    Row("GET", "/console/intake", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200"),
    Row("POST", "/console/intake", "302 302 302 302 403 302 302 403 302 403 302 302 302 302 403 403",
        body={"channel": "hotline", "text": "楼道灯坏了", "caller_phone": "13700000009",
              "location_text": "水晶城小区3号楼"}),
    # Rounds on the phone: a patrol report or a volunteer's visit in grid 1 (a part-time member of
    # grid 1 may enter both), and the paper mailbox's letters (not a part-time member's work).
    # 上班/下班 on the phone: a grid worker's own flag; anyone else is sent back with the refusal.
    Row("POST", "/console/m/duty", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302", body={"on_duty": "1"}),
    # 排班 and the 轮派 rule (issue 26): the grid leader for their grid, the community's and the street's
    # admins and the sysadmin; community 2 has no grid to keep (404). A POST goes back to the page
    # (302), refused or not: tests/grids/test_duty.py checks what each changed.
    Row("GET", "/console/duty", "302 302 302 403 403 200 200 404 200 403 200 302 302 302 403 403"),
    Row("POST", "/console/duty/week", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302",
        body=lambda w, s: {"grid": str(w["grids"][0].id), "staff": str(w["staff"]["w1"].id), "weekdays": "0"}),
    Row("POST", "/console/duty/day", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302",
        body=lambda w, s: {"grid": str(w["grids"][0].id), "staff": str(w["staff"]["w1"].id),
                           "on_date": "2100-01-01", "duty": "off"}),
    Row("POST", "/console/duty/rule", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302",
        body=lambda w, s: {"grid": str(w["grids"][0].id), "rule": "community"}),
    Row("POST", "/console/duty/community-rule", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302",
        body=lambda w, s: {"grid": str(w["grids"][0].id), "community": str(w["community"].id), "enabled": "0"}),
    Row("GET", "/console/m/report", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200"),
    Row("POST", "/console/m/report", "302 302 302 302 403 302 302 403 302 403 302 302 302 302 302 403",
        body={"text": "3号楼前窨井盖破损", "location_text": "水晶城小区3号楼", "done": "已设警示桩"}),
    Row("GET", "/console/m/visit", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200"),
    Row("POST", "/console/m/visit", "302 302 302 302 403 302 302 403 302 403 302 302 302 302 302 403",
        body={"text": "楼道灯坏了", "caller_phone": "13700000009", "location_text": "水晶城小区3号楼"}),
    Row("GET", "/console/letters", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200"),
    Row("POST", "/console/letters", "302 302 302 302 403 302 302 403 302 403 302 302 302 302 403 403",
        body={"opened_on": "2026-11-30", "text": "楼道灯坏了", "caller_phone": "13700000009",
              "location_text": "水晶城小区3号楼"}),
    Row("POST", "/api/v1/intake", "401 403 403 201 403 201 201 403 201 403 201 403 403 401 403 403",
        body={"channel": "hotline", "text": "楼道灯坏了", "caller_phone": "13700000009",
              "location_text": "水晶城小区3号楼"}),
    # 合并 / 撤销合并 (issue 20): roles and scope as transfer; the original is an open order of grid 1.
    Row("POST", O + "/merge", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body=lambda w, s: {"original": _original(w)}, readers=IN_SCOPE),
    Row("POST", O + "/unmerge", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="merged",
        body={"reason": "不是同一件事"}, readers=IN_SCOPE),
    # 电话回访: on A's order resolved days ago and still unrated; 回复居民: on any of A's live orders.
    Row("POST", O + "/callback", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404",
        setup="callback_due", body={"satisfaction": "满意", "note": "电话回访，居民说灯亮了"}, readers=IN_SCOPE),
    Row("POST", O + "/reply", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="submitted",
        body={"text": "{居民称呼}您好，已安排人员处理"}, readers=IN_SCOPE),
    Row("POST", O + "/private", "401 403 403 403 404 200 200 404 200 404 200 403 403 401 404 404", setup="resolved",
        body={"reason": "涉及个人隐私"}, readers=IN_SCOPE),
    Row("POST", O + "/public", "401 403 403 403 404 200 200 404 200 404 200 403 403 401 404 404", setup="private",
        body={"reason": "当事人同意公开"}, readers=IN_SCOPE),
    # 延期 / 挂起 / 申诉 (issue 26): the holder (or a leader above) asks; a leader above w1 decides
    # 延期 and a long 挂起, the community (or above) 免责; anyone in scope may appeal.
    Row("POST", O + "/extend", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="claimed",
        body=_extend_body, readers=IN_SCOPE),
    Row("POST", O + "/approve_extension", "401 403 403 403 404 200 200 404 200 404 200 403 403 401 404 404",
        setup="extension_asked", body={}, readers=IN_SCOPE),
    Row("POST", O + "/refuse_extension", "401 403 403 403 404 200 200 404 200 404 200 403 403 401 404 404",
        setup="extension_asked", body={"reason": "时限内可以办完"}, readers=IN_SCOPE),
    Row("POST", O + "/pause", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="claimed",
        body={"reason": "等居民补充材料", "why": "resident"}, readers=IN_SCOPE),
    Row("POST", O + "/approve_pause", "401 403 403 403 404 200 200 404 200 404 200 403 403 401 404 404",
        setup="pause_asked", body={}, readers=IN_SCOPE),
    Row("POST", O + "/resume", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="paused",
        body={}, readers=IN_SCOPE),
    Row("POST", O + "/appeal", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="resolved",
        body={"ground": "repeated", "reason": "与上周工单重复"}, readers=IN_SCOPE),
    Row("POST", O + "/approve_appeal", "401 403 403 403 404 403 200 404 200 404 200 403 403 401 404 404",
        setup="appealed", body={}, readers=IN_SCOPE),
    Row("POST", O + "/refuse_appeal", "401 403 403 403 404 403 200 404 200 404 200 403 403 401 404 404",
        setup="appealed", body={"reason": "不属于重复诉求"}, readers=IN_SCOPE),
    # 公示: public, no login; resolved requests are published masked, never A's phone or photo.
    Row("GET", "/public/", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", setup="resolved",
        hidden=(A_PHONE, A_PHOTO)),
    Row("GET", "/public/communities/<int:community_id>",
        "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", setup="resolved",
        path="/public/communities/{community}", hidden=(A_PHONE, A_PHOTO)),
    # 每月三率 on 公示: units and rates only, for everyone.
    Row("GET", "/public/assessment", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200",
        setup="resolved"),
    # Open311 GeoReport v2: reads are public (masked, like 公示); a POST needs a partner's key.
    Row("GET", "/open311/v2/discovery.<any(json,xml):fmt>",
        "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", path="/open311/v2/discovery.json"),
    Row("GET", "/open311/v2/services.<any(json,xml):fmt>",
        "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", path="/open311/v2/services.xml"),
    Row("GET", "/open311/v2/services/<string:code>.<any(json,xml):fmt>",
        "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", path="/open311/v2/services/{service}.json"),
    Row("GET", "/open311/v2/requests.<any(json,xml):fmt>",
        "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", setup="resolved",
        path="/open311/v2/requests.json", hidden=(A_PHONE, A_PHOTO)),
    Row("POST", "/open311/v2/requests.<any(json,xml):fmt>",
        "403 403 403 403 403 403 403 403 403 403 403 403 403 201 403 403", path="/open311/v2/requests.json",
        body=lambda w, s: {"service_code": w["service"], "description": "路灯不亮", "address_string": "水晶城小区3号楼"}),
    Row("GET", "/open311/v2/requests/<string:number>.<any(json,xml):fmt>",
        "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", setup="resolved",
        path="/open311/v2/requests/{number}.json", hidden=(A_PHONE, A_PHOTO)),
    Row("GET", "/open311/v2/tokens/<string:token>.<any(json,xml):fmt>",  # A's order is no partner's
        "404 404 404 404 404 404 404 404 404 404 404 404 404 404 404 404", setup="submitted",
        path="/open311/v2/tokens/{number}.json"),
    # Disputes (定商决办馈): staff only, within the dispute's grid/community/street; a grid-level
    # dispute is held by the grid's staff and everyone above (a liaison holds no dispute).
    Row("GET", "/api/v1/disputes", "401 403 403 200 200 200 200 200 200 200 200 403 403 401 200 200", setup="dispute",
        readers=IN_SCOPE),
    Row("POST", "/api/v1/disputes", "401 403 403 201 403 201 201 403 201 403 201 403 403 401 403 403",
        body=lambda w, s: {"topic": "parking", "grid": w["grids"][0].code, "subject": "车位被占",
                           "parties": [{"kind": "resident", "name": "甲"}, {"kind": "property", "name": "物业"}]}),
    Row("GET", "/api/v1/disputes/<int:dispute_id>", "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404",
        setup="dispute", path="/api/v1/disputes/{dispute}", readers=IN_SCOPE),
    Row("POST", "/api/v1/disputes/<int:dispute_id>/<string:action>",
        "401 403 403 200 404 200 200 404 200 404 200 403 403 401 404 404", setup="dispute",
        path="/api/v1/disputes/{dispute}/open_deliberation", body={}, readers=IN_SCOPE),
    Row("GET", "/console/disputes", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200", setup="dispute",
        readers=IN_SCOPE),
    Row("GET", "/console/disputes/new", "302 302 302 200 200 200 200 200 200 200 200 302 302 302 200 200"),
    # A registered dispute sends its maker to its page (302); a grid outside the scope is refused (403).
    Row("POST", "/console/disputes/new", "302 302 302 302 403 302 302 403 302 403 302 302 302 302 403 403",
        body=lambda w, s: {"topic": "parking", "grid": w["grids"][0].code, "subject": "车位被占",
                           "party_kind": ["resident", "property"], "party_name": ["甲", "物业"]}),
    Row("GET", "/console/disputes/<int:dispute_id>", "302 302 302 200 404 200 200 404 200 404 200 302 302 302 404 404",
        setup="dispute", path="/console/disputes/{dispute}", readers=IN_SCOPE),
    Row("POST", "/console/disputes/<int:dispute_id>/<string:action>",
        "302 302 302 done refused done done refused done refused done 302 302 302 refused refused", setup="dispute",
        path="/console/disputes/{dispute}/open_deliberation", body={}, readers=IN_SCOPE),
    # A meeting photo (issue 24): only a photo one of the dispute's meetings holds, for staff in scope.
    Row("GET", "/console/disputes/<int:dispute_id>/photos/<path:name>",
        "302 302 302 404 404 404 404 404 404 404 404 302 302 302 404 404", setup="dispute",
        path="/console/disputes/{dispute}/photos/disputes/20260101/none.png"),
    # 公示 of disputes: only those every party agreed to publish; A's unpublished one is nowhere.
    Row("GET", "/public/disputes", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200", setup="dispute"),
    # The resident's H5 pages (session from WeChat OAuth only).
    Row("GET", "/m/login", "302 302 302 302 302 302 302 302 302 302 302 302 302 302 302 302"),
    Row("GET", "/m/oauth/callback", "400 400 400 400 400 400 400 400 400 400 400 400 400 400 400 400"),
    Row("GET", "/m/", "login 200 200 login login login login login login login login login login login login login",
        setup="submitted", readers={"res_a"}),
    Row("POST", "/m/chat", "login 302 302 login login login login login login login login login login login login login",
        body={"text": "你好"}),
    Row("GET", "/m/orders/<string:number>",
        "login 200 404 login login login login login login login login login login login login login", setup="submitted",
        readers={"res_a"}),
    Row("POST", "/m/chat/photo", "login 302 302 login login login login login login login login login login login login login",
        body="photo"),
    # 撤回 asks first (issue 24): the confirmation page, then the post with its answer.
    Row("GET", "/m/orders/<string:number>/cancel",
        "login 200 404 login login login login login login login login login login login login login", setup="submitted",
        readers={"res_a"}),
    Row("POST", "/m/orders/<string:number>/cancel",
        "login done refused login login login login login login login login login login login login login",
        setup="submitted", body={"confirm": "yes"}, readers={"res_a"}),
    Row("POST", "/m/orders/<string:number>/rating",
        "login done refused login login login login login login login login login login login login login",
        setup="resolved", body={"satisfaction": "satisfied"}, readers={"res_a"}),
    Row("POST", "/m/orders/<string:number>/photos",
        "login done refused login login login login login login login login login login login login login",
        setup="submitted", body="photo", readers={"res_a"}),
    Row("GET", "/m/orders/<string:number>/photos/<int:attachment_id>",
        "login 200 404 login login login login login login login login login login login login login", setup="photo",
        path="/m/orders/{number}/photos/{photo_id}", readers={"res_a"}),
    Row("POST", "/m/logout", "login 200 200 login login login login login login login login login login login login login",
        body={}),
    # 微心愿 on the phone: B, a registered volunteer, sees A's published wish masked and may claim it;
    # A may not claim her own.
    Row("GET", "/m/wishes", "login 200 200 login login login login login login login login login login login login login",
        setup="wish_published", readers={"res_a"}, hidden=WISH_MARKERS),
    Row("GET", "/m/wishes/new", "login 200 200 login login login login login login login login login login login login login"),
    Row("POST", "/m/wishes/new", "login 302 302 login login login login login login login login login login login login login",
        body=lambda w, s: {"community": str(w["community"].id), "text": "想学用智能手机挂号"}),
    Row("GET", "/m/wishes/<int:wish_id>",
        "login 200 200 login login login login login login login login login login login login login", setup="wish_published",
        path="/m/wishes/{wish}", readers={"res_a"}, hidden=WISH_MARKERS),
    Row("POST", "/m/wishes/<int:wish_id>/<any(claim,release,fulfil,confirm,withdraw):action>",
        "login refused done login login login login login login login login login login login login login",
        setup="wish_published", path="/m/wishes/{wish}/claim", body={}, readers={"res_b"}, hidden=(A_PHONE,)),
    # The same through the resident API (the mini-program): bearer tokens of residents only.
    Row("GET", "/api/v1/wishes", "401 200 200 403 403 403 403 403 403 403 403 403 403 401 403 403",
        setup="wish_published", readers={"res_a"}, hidden=WISH_MARKERS),
    Row("POST", "/api/v1/wishes", "401 201 201 403 403 403 403 403 403 403 403 403 403 401 403 403",
        body=lambda w, s: {"community": w["community"].id, "text": "想学用智能手机挂号"}),
    Row("GET", "/api/v1/wishes/<int:wish_id>", "401 200 200 403 403 403 403 403 403 403 403 403 403 401 403 403",
        setup="wish_published", path="/api/v1/wishes/{wish}", readers={"res_a"}, hidden=WISH_MARKERS),
    Row("POST", "/api/v1/wishes/<int:wish_id>/<any(claim,release,fulfil,confirm,withdraw):action>",
        "401 403 200 403 403 403 403 403 403 403 403 403 403 401 403 403", setup="wish_published",
        path="/api/v1/wishes/{wish}/claim", body={}, readers={"res_b"}, hidden=(A_PHONE,)),
    Row("POST", "/api/v1/volunteers", "401 201 201 403 403 403 403 403 403 403 403 403 403 401 403 403",
        body=lambda w, s: {"community": w["community"].id, "kind": "volunteer", "name": "志愿者"}),
    # What the mini-program reads at start (template ids, photo limits, buildings): residents.
    Row("GET", "/api/v1/miniprogram/config", "401 200 200 403 403 403 403 403 403 403 403 403 403 401 403 403"),
    # A wish's photos: the wisher, the claimant and the community's staff (not the other members).
    Row("GET", "/m/wishes/<int:wish_id>/photos/<int:index>",
        "login 200 404 login login login login login login login login login login login login login", setup="wish_photo",
        path="/m/wishes/{wish}/photos/0", readers={"res_a"}),
    Row("GET", "/console/wishes/<int:wish_id>/photos/<int:index>",
        "302 302 302 404 404 404 200 404 200 404 200 302 302 302 404 404", setup="wish_photo",
        path="/console/wishes/{wish}/photos/0", readers=WISH_STAFF),
    Row("GET", "/m/volunteer", "login 200 200 login login login login login login login login login login login login login"),
    Row("POST", "/m/volunteer", "login 302 302 login login login login login login login login login login login login login",
        body=lambda w, s: {"community": str(w["community"].id), "kind": "volunteer", "name": "志愿者"}),
    # The public wish board: masked, for everyone.
    Row("GET", "/public/wishes", "200 200 200 200 200 200 200 200 200 200 200 200 200 200 200 200",
        setup="wish_published", hidden=WISH_MARKERS),
    # The community checks wishes: its admin, its street's admin, the sysadmin.
    Row("GET", "/console/wishes", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403",
        setup="wish_submitted", readers=WISH_STAFF, hidden=WISH_MARKERS),
    Row("GET", "/console/wishes/<int:wish_id>", "302 302 302 404 404 404 200 404 200 404 200 302 302 302 404 404",
        setup="wish_submitted", path="/console/wishes/{wish}", readers=WISH_STAFF, hidden=WISH_MARKERS),
    Row("POST", "/console/wishes/<int:wish_id>/<any(approve,reject):action>",
        "302 302 302 refused refused refused done refused done refused done 302 302 302 refused refused",
        setup="wish_submitted", path="/console/wishes/{wish}/approve", body={}, readers=WISH_STAFF,
        hidden=WISH_MARKERS),
    # The 双报到 registry, 三清单 and hours: each admin for the communities of their scope.
    Row("GET", "/console/volunteers", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    Row("POST", "/console/volunteers/units", "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403",
        body=lambda w, s: {"community": str(w["community"].id), "name": "共建单位"}),
    Row("POST", "/console/volunteers/members/<int:member_id>/<any(deactivate,reactivate):action>",
        "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403", path="/console/volunteers/members/{member}/reactivate",
        body={}),
    Row("POST", "/console/volunteers/items", "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403",
        body=lambda w, s: {"community": str(w["community"].id), "kind": "need", "title": "老年食堂缺帮厨"}),
    Row("POST", "/console/volunteers/items/<int:item_id>/claim",
        "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403", path="/console/volunteers/items/{item}/claim",
        body=lambda w, s: {"unit": str(w["unit"].id)}),
    Row("POST", "/console/volunteers/hours", "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403",
        body=lambda w, s: {"member": str(w["member_b"].id), "task": "巡楼", "hours": "1", "day": "2026-11-30"}),
    # 常用语: kept by the community's admins and the street's (cadmin2 does not know community 1).
    Row("GET", "/console/canned-replies", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    Row("POST", "/console/canned-replies", "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403",
        body=lambda w, s: {"community": str(w["community"].id), "title": "已派人", "text": "{居民称呼}您好"}),
    Row("POST", "/console/canned-replies/<int:canned_id>/retire",
        "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403", path="/console/canned-replies/{canned}/retire",
        body={}),
    Row("GET", "/console/volunteers/hours.csv", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    # 知识库: the bot asks for the resident of its conversation; community admins and above keep the
    # entries of their places (cadmin2 does not know community 1's entry: 404).
    Row("POST", "/api/v1/bot/knowledge/answer", "401 403 403 403 403 403 403 403 403 403 403 200 200 401 403 403",
        body=lambda w, s: {"sender_id": s, "text": "社区疫苗接种时间"}),
    Row("GET", "/console/knowledge", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    Row("GET", "/console/knowledge/new", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    Row("POST", "/console/knowledge/new", "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403",
        body=lambda w, s: {"target": f"community:{w['community'].id}", "question": "物业电话", "answer": "0531-1"}),
    Row("GET", "/console/knowledge/<int:entry_id>", "302 302 302 403 403 403 200 404 200 403 200 302 302 302 403 403",
        path="/console/knowledge/{entry}"),
    Row("POST", "/console/knowledge/<int:entry_id>", "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403",
        path="/console/knowledge/{entry}",
        body=lambda w, s: {"target": f"community:{w['community'].id}", "question": "社区疫苗接种时间", "answer": "周三"}),
    Row("POST", "/console/knowledge/<int:entry_id>/<any(retire,restore):action>",
        "302 302 302 403 403 403 302 404 302 403 302 302 302 302 403 403", path="/console/knowledge/{entry}/retire",
        body={}),
    Row("GET", "/console/knowledge/unanswered", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    Row("GET", "/console/knowledge/export.xlsx", "302 302 302 403 403 403 200 200 200 403 200 302 302 302 403 403"),
    Row("POST", "/console/knowledge/import", "302 302 302 403 403 403 302 302 302 403 302 302 302 302 403 403",
        body={}),
]


def _text(response) -> str:
    return response.get_data().decode("utf-8", "replace")  # photos are bytes


def _routes(app) -> set:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_has_a_row(app):
    rows = [(row.method, row.rule) for row in TABLE]
    assert len(rows) == len(set(rows)), "a route has two rows"
    assert set(rows) == _routes(app), "routes and matrix rows differ: add or remove rows"


# --- the world and A's order in each state ----------------------------------------------------------

def _world(make):
    street = make.street()
    c1 = make.community(street, name="水晶城社区", aliases=["水晶城小区"])
    c2 = make.community(street, name="翠苑社区", aliases=["翠苑小区"])
    g1, g2 = make.grid(c1), make.grid(c1)
    make.building(g1, number=3)
    make.building(g2, number=8)
    department = make.department(street, categories=["城乡建设", "国土资源"])
    staff = {
        "w1": make.staff("grid_worker", grid=g1), "w2": make.staff("grid_worker", grid=g2),
        "leader": make.staff("grid_leader", grid=g1), "cadmin": make.staff("community_admin", community=c1),
        "cadmin2": make.staff("community_admin", community=c2),
        "sadmin": make.staff("street_admin", street=street),
        "liaison": make.staff("department_liaison", department=department), "sys": make.staff("sysadmin"),
        "member": make.staff("grid_member", grid=g1),
        "prop": make.staff("property_staff", property_company=make.property_company((c1, "水晶城小区"))),
    }
    residents = {"a": make.resident(name="李桂兰", phone=A_PHONE), "b": make.resident(name="赵建国", phone="13700000002")}
    partner_key = open311.issue_key("12345热线平台")
    service = taxonomy.lookup("城乡建设/住房保障与房地产").code
    cadmin = Actor.for_staff(staff["cadmin"])
    member_b = wish_registry.register(Actor.for_resident(residents["b"]), community_id=c1.id, kind="volunteer",
                                      name="赵建国", skills=[], hours_available=2)
    unit = wish_registry.add_unit(cadmin, community_id=c1.id, name="工商银行支行")
    item = wish_registry.add_item(cadmin, community_id=c1.id, kind="need", title="帮厨")
    canned = replies.save_canned(cadmin, community_id=c1.id, title="已受理", text="{居民称呼}您好，{工单号}已受理")
    entry = knowledge.add_entry(cadmin, f"community:{c1.id}", {"question": "社区疫苗接种时间", "answer": "周二上午"})
    return {"grids": (g1, g2), "staff": staff, "residents": residents, "community": c1, "make": make, "canned": canned,
            "entry": entry,
            "partner_key": partner_key, "service": service, "member_b": member_b, "unit": unit, "item": item}


def _wish_in(world, state: str) -> Wish:
    stored = [photos.store(PNG, "wishes")] if state == "wish_photo" else []
    wish = wishes.create_wish(Actor.for_resident(world["residents"]["a"]), community_id=world["community"].id,
                              text=A_WISH, photos=stored)
    if state != "wish_submitted":
        wishes.perform(Actor.for_staff(world["staff"]["cadmin"]), wish, "approve")
    return wish


def _order_in(make, world, state: str) -> Order | Wish:
    if state.startswith("wish_"):
        return _wish_in(world, state)
    # Not property work, so it starts at grid 1 (A_CATEGORY) and the property sees none of it.
    order = make.order(world["residents"]["a"], text=A_TEXT, location_text="水晶城小区3号楼2单元",
                       contact=A_PHONE, photos=[A_PHOTO], category=A_CATEGORY,
                       kind="dispute" if state == "dispute" else "complaint")
    worker = Actor.for_staff(world["staff"]["w1"])
    if state == "photo":
        photos.attach(Actor.for_resident(world["residents"]["a"]), order, PNG)
    if state in ("claimed", "resolved", "private", "appealed", "extension_asked", "pause_asked", "paused",
                 "callback_due"):
        claims.claim(worker, order.number)
    if state == "extension_asked":
        claims.act(worker, order.number, "extend", **_extend_body(world, None))
    if state in ("pause_asked", "paused"):  # five days is beyond the limit (3): it waits for approval
        claims.act(worker, order.number, "pause", reason="等供水公司", why="third_party",
                     days=5 if state == "pause_asked" else 1)
    if state in ("resolved", "private", "appealed", "callback_due"):
        claims.act(worker, order.number, "resolve", result="灯已换好")
    if state == "appealed":
        claims.act(worker, order.number, "appeal", ground="repeated", reason="与上周工单重复")
    if state == "callback_due":  # resolved days ago, and A never rated it
        from backend.extensions import db
        order = db.session.get(Order, order.id)
        order.resolved_at = order.resolved_at - timedelta(days=5)
        db.session.commit()
    if state == "private":
        claims.act(Actor.for_staff(world["staff"]["cadmin"]), order.number, "make_private", reason="隐私")
    if state == "dispute":
        world["dispute"] = disputes.register(Actor.for_staff(world["staff"]["cadmin"]), topic="parking",
                                             order_number=order.number, parties=[
                                                 {"kind": "resident", "name": "李桂兰"},
                                                 {"kind": "property", "name": "水晶城物业"}]).id
    if state == "merged":  # a duplicate of B's open order in the same grid
        claims.act(worker, order.number, "merge", original=_original(world))
    if state == "at_property":  # 小区吹哨: the community gives it to the compound's property
        claims.act(Actor.for_staff(world["staff"]["cadmin"]), order.number, "dispatch_property")
    return order


def _original(world) -> str:
    """The number of an open order of resident B in A's grid: what a merge of A's order names."""
    if "original" not in world:
        world["original"] = world["make"].order(world["residents"]["b"], text="3号楼路灯不亮",
                                                location_text="水晶城小区3号楼2单元", category=A_CATEGORY).number
    return world["original"]


def _snapshot(db, number):
    db.session.rollback()
    if isinstance(number, Wish):
        wish = db.session.get(Wish, number.id)
        return wish.version, wish.state, len(wish.events)
    order = db.session.scalar(select(Order).where(Order.number == number))
    events = db.session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order.id))
    # A dispute started from the order changes on its own row and its own trail.
    dispute = db.session.scalar(select(Dispute).where(Dispute.source_order_id == order.id))
    steps = db.session.scalar(select(func.count()).select_from(DisputeEvent)
                              .where(DisputeEvent.dispute_id == dispute.id)) if dispute else None
    return order.version, order.state, events, dispute.version if dispute else None, steps


def _sender(world, who: str) -> str:
    from backend.chat import gateway
    resident = world["residents"]["b" if who == "bot_b" else "a"]
    return gateway.sender_id(resident.id)


def _call(app, auth, world, row: Row, who: str, order: Order | None):
    client = app.test_client()
    staff = world["staff"].get(who)
    headers = {}
    if who in ("res_a", "res_b"):
        headers = auth.headers_for(world["residents"][who[-1]])
    elif who.startswith("bot_"):
        headers = auth.bot()
    elif staff is not None:
        headers = auth.headers_for(staff)
    console = row.rule.startswith("/console")
    h5 = row.rule.startswith("/m/")
    with client.session_transaction() as session:
        session["csrf"] = "matrix-csrf"
        if console and staff is not None:
            sessions.sign_in(session, "staff", staff)
        if h5 and who in ("res_a", "res_b"):  # as the WeChat OAuth callback leaves it
            sessions.sign_in(session, "resident", world["residents"][who[-1]])
    sender = _sender(world, who)
    number = getattr(order, "number", None)
    stored = next((a for a in getattr(order, "attachments", []) if a.url.startswith("/uploads/")), None)
    path = (row.path or row.rule).replace("<string:number>", "{number}").format(
        number=number, sender=sender, photo=stored.url if stored else None,
        photo_name=stored.url[len("/uploads/"):] if stored else None, w1=world["staff"]["w1"].id, photo_id=stored.id if stored else None,
        community=world["community"].id, service=world["service"], dispute=world.get("dispute"),
        wish=getattr(order, "id", None), member=world["member_b"].id, item=world["item"].id,
        canned=world["canned"].id, entry=world["entry"].id)
    body = row.body(world, sender) if callable(row.body) else row.body
    if who == "partner":  # the key goes where Open311 puts it: a query parameter, a form field
        path += ("&" if "?" in path else "?") + "api_key=" + world["partner_key"]
        if isinstance(body, dict):
            body = {**body, "api_key": world["partner_key"]}
    if row.method == "GET":
        return client.get(path, headers=headers)
    if body == "photo":
        data = {"photo": (io.BytesIO(PNG), "p.png"), **({"csrf": "matrix-csrf"} if h5 else {})}
        return client.post(path, data=data, headers=headers, content_type="multipart/form-data")
    if console or h5:
        return client.post(path, data={**(body or {}), "csrf": "matrix-csrf"}, headers=headers)
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize("row", TABLE, ids=[f"{r.method} {r.rule}" for r in TABLE])
def test_matrix(app, db, redis, make, auth, row):
    world = _world(make)
    expected = row.expected()
    problems = []
    for who in ACTORS:
        order = _order_in(make, world, row.setup) if row.setup else None
        number = (order if isinstance(order, Wish) else order.number) if order else None
        before = _snapshot(db, number) if order else None
        response = _call(app, auth, world, row, who, order)
        db.session.rollback()
        want = expected[who]
        got = str(response.status_code)
        if response.status_code == 302 and "/m/login" in (response.location or ""):
            got = "login"
        elif want in ("done", "refused"):
            changed = _snapshot(db, number) != before
            got = "302" if response.status_code == 302 and "/console/login" in response.location else (
                ("done" if changed else "refused") if response.status_code == 302 else got)
        if got != want:
            problems.append(f"{who}: expected {want}, got {got} {_text(response)[:200]}")
            continue
        if order is not None and not (got.startswith("2") or got == "done"):
            if _snapshot(db, number) != before:
                problems.append(f"{who}: refused ({got}) but the order changed")
        body = _text(response)
        may_read = who in row.readers and (got.startswith("2") or got == "done")
        if not may_read:
            leaked = [m for m in (row.hidden or A_MARKERS) if m in body]
            if leaked:
                problems.append(f"{who}: answer ({got}) shows resident A's {leaked}")
    assert not problems, f"{row.method} {row.rule}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("sender", [f"r9999999999-{'0' * 32}", f"r2147483648-{'0' * 32}"])
def test_a_bot_sender_beyond_the_id_range_is_nobody_not_a_server_error(client, make, auth, sender):
    make.resident()
    for response in (client.get(f"/api/v1/bot/orders?sender_id={sender}", headers=auth.bot()),
                     client.post("/api/v1/bot/orders", json={"sender_id": sender, "text": "路灯不亮"},
                                 headers=auth.bot())):
        assert response.status_code == 404 and response.json["error"]["code"] == "unknown_sender"


def test_a_bot_sender_with_a_longer_number_or_other_digits_is_refused_as_input(client, auth):
    for sender in (f"r99999999999999999999999-{'0' * 32}", f"r１-{'0' * 32}", "resident-1"):
        response = client.get(f"/api/v1/bot/orders?sender_id={sender}", headers=auth.bot())
        assert response.status_code == 422 and "sender_id" in response.json["error"]["fields"]


# Every console action is the API's staff action under another URL: the same table decides it.
CONSOLE_NAMES = {"category": "correct_category", "grade": "set_grade", "private": "make_private",
                 "public": "make_public", "property": "dispatch_property", "return": "return_from_property"}
STAFF_ACTION_ROWS = [r for r in TABLE if r.rule.startswith(O + "/") and r.expected()["sys"] == "200"
                     and r.expected()["res_a"] == "403"]


@pytest.mark.parametrize("row", STAFF_ACTION_ROWS, ids=[r.rule.rsplit("/", 1)[1] for r in STAFF_ACTION_ROWS])
def test_console_actions_follow_the_api_rows(app, db, redis, make, auth, row):
    world = _world(make)
    action = CONSOLE_NAMES.get(row.rule.rsplit("/", 1)[1], row.rule.rsplit("/", 1)[1])
    console_row = Row("POST", "/console/orders/<string:number>/<string:action>", "", setup=row.setup,
                      path=f"/console/orders/{{number}}/{action}", body=row.body)
    problems = []
    for who in sorted(STAFF):
        order = _order_in(make, world, row.setup)
        before = _snapshot(db, order.number)
        response = _call(app, auth, world, console_row, who, order)
        done = response.status_code == 302 and _snapshot(db, order.number) != before
        if done != (row.expected()[who] == "200"):
            problems.append(f"{who}: API {row.expected()[who]}, console {'done' if done else 'refused'}")
    assert not problems, f"console {action}:\n  " + "\n  ".join(problems)


def test_without_a_token_the_answer_is_401_before_any_input_is_judged(app, db, redis, make, auth):
    """Nobody unauthenticated learns what an endpoint accepts from its validation messages."""
    world = _world(make)
    number = _order_in(make, world, "submitted").number
    client = app.test_client()
    for row in TABLE:
        expected = row.expected()
        if not row.rule.startswith("/api/v1/") or expected["anon"] != "401" or expected["res_a"] == "401":
            continue  # public, or a login (where 401 is the wrong password's answer, for everyone)
        path = row.rule.replace("<string:number>", number).replace("<int:dispute_id>", "1").replace(
            "<string:action>", "open_deliberation").replace("<int:wish_id>", "1").replace(
            "<any(claim,release,fulfil,confirm,withdraw):action>", "claim")
        response = (client.get(path + "?unexpected=1") if row.method == "GET"
                    else client.post(path, json={"unexpected": "x" * 5000}))
        assert response.status_code == 401, (row.method, row.rule, response.get_json())


# --- orders that left the property (issue 27, finding 5) ---------------------------------------------
# A property company sees an order only while it is at its rung (actors.SCOPE_RUNG): once the order
# leaves — returned as 不是物业的事, transferred, escalated on from the community, recategorised away
# from property work, reopened to the grid — the property reads none of it, on any surface; what it
# resolved itself stays at its rung, so it keeps its own work (and reads the rating).
PROPERTY_WORK = "城乡建设/住房保障与房地产/物业服务"
NOT_PROPERTY_WORK = "劳动和社会保障/城镇居民社会保险/城镇居民医疗保险"
# Every surface a staff member reads an order on: (path, status the property gets once it left).
PROPERTY_READS = [
    ("/api/v1/orders/{number}", "404"), ("/api/v1/queue", "200"), ("/api/v1/supervision", "200"),
    ("/console/orders/{number}", "404"), ("/console/m/orders/{number}", "404"), ("/console/orders", "200"),
    ("/console/export/orders.csv", "200"), ("/console/export/orders.xlsx", "200"), ("/console/", "200"),
    ("/console/m/", "200"), ("/console/outbox", "200"), ("{photo}", "404"),
    ("/console/photos/{photo_name}", "404"),
]


def _left_property(make, world, how: str) -> Order:
    """A's order given to the property, which reports (报到, claims) it — then it leaves by `how`."""
    staff = {k: Actor.for_staff(v) for k, v in world["staff"].items()}
    order = make.order(world["residents"]["a"], text=A_TEXT, location_text="水晶城小区3号楼2单元",
                       contact=A_PHONE, category=PROPERTY_WORK if how == "recategorised" else A_CATEGORY)
    photos.attach(Actor.for_resident(world["residents"]["a"]), order, PNG)
    if how != "recategorised":
        claims.act(staff["cadmin"], order.number, "dispatch_property")
    assert listings.get(staff["prop"], order.number).rung == "property"
    claims.claim(staff["prop"], order.number)
    if how in ("returned", "escalated"):
        claims.act(staff["prop"], order.number, "return_from_property", reason="不是物业的事")
    if how == "escalated":
        claims.act(staff["cadmin"], order.number, "escalate", reason="社区协调不了")
    if how == "transferred":  # the sysadmin moves it straight off the property to grid 2
        claims.act(staff["sys"], order.number, "transfer", reason="地址在2网格", grid=world["grids"][1].code)
    if how == "recategorised":  # the community finds it is no property work: it leaves with the fix
        claims.act(staff["cadmin"], order.number, "correct_category", category=NOT_PROPERTY_WORK)
    if how in ("reopened", "resolved"):
        claims.act(staff["prop"], order.number, "resolve", result="已修好")
    if how == "reopened":
        from backend.orders import services as orders_services
        resident = Actor.for_resident(world["residents"]["a"])
        orders_services.rate(resident, orders_services.get_order(resident, order.number), satisfaction="unsatisfied")
    return order


@pytest.mark.parametrize("how", ["returned", "transferred", "escalated", "recategorised", "reopened", "resolved"])
def test_the_property_reads_an_order_only_while_it_is_there(app, db, redis, make, auth, how):
    world = _world(make)
    order = _left_property(make, world, how)
    db.session.rollback()
    order = db.session.scalar(select(Order).where(Order.number == order.number))
    stored = next(a for a in order.attachments if a.url.startswith("/uploads/"))
    there = how == "resolved"  # resolved by the property: still at its rung, its own work
    assert (order.rung == "property") == there, order.rung
    problems = []
    for path, status in PROPERTY_READS:
        url = path.format(number=order.number, photo=stored.url, photo_name=stored.url[len("/uploads/"):])
        client = app.test_client()
        with client.session_transaction() as session:
            sessions.sign_in(session, "staff", world["staff"]["prop"])
        response = client.get(url, headers=auth.headers_for(world["staff"]["prop"]))
        body = _text(response)
        want = "200" if there else status
        if str(response.status_code) != want:
            problems.append(f"{url}: expected {want}, got {response.status_code}")
        leaked = [m for m in (A_TEXT, A_PHONE) if m in body]
        if not there and leaked:
            problems.append(f"{url}: the property still reads A's {leaked}")
    assert not problems, f"{how}:\n  " + "\n  ".join(problems)
