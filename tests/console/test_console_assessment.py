"""月度考核, the must-show: a month of generated orders for two communities — claims on time, late
and missed, resolutions on time, late and taken away by the tick, extensions, pauses, reopenings,
ratings by residents and by 回访, 未评价, exemptions, 催办 and 督办 — made by a seeded generator with the
clock moved (some start in October, some finish in December). The console's ranking page, its XLSX
report (opened with openpyxl) and the 公示 page must agree with each other and with a reference the
generator computes here from what it did — never from the events or the module under test."""
import io
import random
import re
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from backend import clock
from backend.accounts.actors import SYSTEM, Actor
from backend.dispatch import ticks
from backend.extensions import db as _db
from backend.orders import services
from backend.orders.models import Order
from tests.factories import PASSWORD

SH = ZoneInfo("Asia/Shanghai")
START, END = datetime(2026, 11, 1, tzinfo=SH), datetime(2026, 12, 1, tzinfo=SH)
SATISFIED = ("satisfied", "basically_satisfied")
POINTS = {"late_claim": 1.0, "late_resolve": 2.0, "unsatisfied": 2.0, "reopened": 1.0, "urged": 0.5, "supervised": 1.0}


def travel_to(moment):
    clock.travel(moment - clock.now())


def next_workday(moment, hour=10):
    day = moment.astimezone(SH) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


class Month:
    """The generator and its reference: every fact it brings about, with the units it counts for."""

    def __init__(self, make, seed=26):
        self.rng = random.Random(seed)
        self.facts = []  # (kind, when, units, order key, extra)
        self.orders = {}  # key → {"received": when, "units": area units, "exempt": bool, "events": [...]}
        street = make.street(name="红旗街道")
        self.communities, self.grids, self.workers, self.leaders, self.admins = [], [], {}, {}, {}
        for c_name, alias in (("甲社区", "甲小区"), ("乙社区", "乙小区")):
            community = make.community(street, name=c_name, aliases=[alias])
            self.communities.append(community)
            self.admins[community.id] = make.staff("community_admin", community=community, name=f"{c_name}管理员")
            for n in (1, 2) if c_name == "甲社区" else (1,):
                grid = make.grid(community, name=f"{c_name[0]}{n}网格")
                make.building(grid, compound=alias, number=n)
                self.grids.append((grid, f"{alias}{n}号楼"))
                self.workers[grid.id] = make.staff("grid_worker", grid=grid, name=f"{grid.name}网格员")
                self.leaders[grid.id] = make.staff("grid_leader", grid=grid, name=f"{grid.name}网格长")
        self.street_admin = make.staff("street_admin", street=street, name="街道管理员")
        self.resident = make.resident()
        self.make = make

    def fact(self, kind, key, units, **extra):
        self.facts.append((kind, clock.now(), frozenset(units), key, extra))

    def run(self, count=56):
        days = [START - timedelta(days=6) + timedelta(days=i) for i in range(32)]
        days = [d for d in days if d.weekday() < 5]
        starts = sorted(self.rng.choice(days).replace(hour=9) + timedelta(minutes=self.rng.randrange(0, 90, 5))
                        for _ in range(count))
        for i, start in enumerate(starts):
            self.one(i, start)

    def one(self, key, start):
        rng = self.rng
        grid, place = rng.choice(self.grids)
        community = grid.community_id
        area = {("grid", grid.id), ("community", community), ("scope", 0)}
        worker, leader = self.workers[grid.id], self.leaders[grid.id]
        admin = Actor.for_staff(self.admins[community])
        travel_to(start)
        order = self.make.order(self.resident, text=f"路灯不亮了{key}", location_text=place,
                                category="城乡建设/城市建设和市政管理/城市公共设施")
        assert order.grid_id == grid.id
        record = self.orders[key] = {"received": clock.now(), "area": area, "exempt": False, "number": order.number,
                                     "resolved": []}
        oid = order.id

        def do(actor, action, **given):
            return services.perform(actor, _db.session.get(Order, oid), action, **given)

        # 催办 while it waits
        if rng.random() < 0.15:
            travel_to(start + timedelta(minutes=20))
            do(Actor.for_staff(leader), "supervise", note="请尽快接单")
            self.fact("urged", key, area)
        claim = rng.choice(["on_time"] * 5 + ["late", "missed"])
        holder = worker
        if claim == "on_time":
            travel_to(start + timedelta(minutes=40))
            do(Actor.for_staff(worker), "claim")
            self.fact("claim", key, area | {("worker", worker.id)}, on_time=True)
        elif claim == "late":
            travel_to(start + timedelta(minutes=150))
            do(Actor.for_staff(worker), "claim")
            self.fact("claim", key, area | {("worker", worker.id)}, on_time=False)
        else:
            travel_to(start + timedelta(minutes=150))
            ticks.escalate_missed(oid, clock.now())
            self.fact("missed_claim", key, area)
            travel_to(start + timedelta(minutes=160))
            do(Actor.for_staff(leader), "claim")
            self.fact("claim", key, area | {("worker", leader.id)}, on_time=True)
            holder = leader
        held = area | {("worker", holder.id)}
        claimed_at = clock.now()
        extra = rng.choice(["none"] * 4 + ["extend", "pause", "appeal", "press"]) if holder is worker else "none"
        outcome = rng.choice(["on_time"] * 6 + ["late", "late", "taken", "open"])
        order = _db.session.get(Order, oid)
        due = order.resolve_by
        if extra == "extend":
            travel_to(claimed_at + timedelta(minutes=30))
            do(Actor.for_staff(worker), "extend", reason="等配件到货", until=(due + timedelta(days=4)).isoformat())
            do(Actor.for_staff(leader), "approve_extension")
            self.fact("extension", key, held)
            outcome = "extended"
        elif extra == "pause":
            travel_to(claimed_at + timedelta(minutes=30))
            do(Actor.for_staff(worker), "pause", reason="居民不在家", why="resident")
            self.fact("pause", key, held)
            travel_to(next_workday(clock.now() + timedelta(days=2)))
            do(Actor.for_staff(worker), "resume")
            outcome = rng.choice(["on_time", "late"])
            due = _db.session.get(Order, oid).resolve_by
        elif extra == "appeal":
            travel_to(claimed_at + timedelta(minutes=30))
            do(Actor.for_staff(worker), "appeal", ground="unreasonable", reason="不属于公共事务")
            do(admin, "approve_appeal")
            record["exempt"] = True
            outcome = rng.choice(["late", "on_time"])
        elif extra == "press":  # 督办 after the deadline, then resolved late
            travel_to(due + timedelta(hours=1))
            do(Actor.for_staff(leader), "supervise", note="已超期，请立即办结")
            self.fact("supervised", key, held)
            outcome = "late"
        if outcome == "open":
            return
        if outcome == "taken":
            travel_to(due + timedelta(hours=2))
            ticks.escalate_missed(oid, clock.now())
            self.fact("taken", key, held)
            return
        if outcome in ("on_time",):
            travel_to(max(clock.now(), claimed_at) + timedelta(minutes=90))
            assert clock.now() <= _db.session.get(Order, oid).resolve_by
        elif outcome == "extended":
            travel_to(due + timedelta(days=1))  # late against the first limit, within the extension
        else:
            travel_to(max(clock.now(), due) + timedelta(hours=3))
        on_time = clock.now() <= _db.session.get(Order, oid).resolve_by
        do(Actor.for_staff(holder), "resolve", result="已修好")
        self.fact("resolve", key, held, on_time=on_time)
        record["resolved"].append(("resolve", clock.now()))
        self.answer(key, oid, held, holder, do)

    def answer(self, key, oid, held, holder, do, again=True):
        rng = self.rng
        resident = Actor.for_resident(self.resident)
        answer = rng.choice(["satisfied", "satisfied", "basically_satisfied", "unsatisfied", "callback_ok",
                             "callback_bad", "archived", "none"])
        resolved_at = clock.now()
        record = self.orders[key]
        if answer in SATISFIED:
            travel_to(resolved_at + timedelta(hours=5))
            do(resident, "rate", satisfaction=answer)
            self.fact("rated", key, held, satisfaction=answer)
        elif answer == "unsatisfied":
            travel_to(resolved_at + timedelta(hours=5))
            do(resident, "reopen", satisfaction="unsatisfied")
            self.fact("rated", key, held, satisfaction="unsatisfied")
            self.fact("reopened", key, held)
            record["resolved"].append(("reopen", clock.now()))
            if again:  # the same holder takes it back and resolves it in time
                order = _db.session.get(Order, oid)
                travel_to(clock.now() + timedelta(minutes=30))
                claimer = holder if order.rung == "grid_worker" or holder.role == "grid_leader" else None
                if claimer is None:
                    return
                do(Actor.for_staff(claimer), "claim")
                self.fact("claim", key, self.orders[key]["area"] | {("worker", claimer.id)}, on_time=True)
                travel_to(clock.now() + timedelta(minutes=60))
                do(Actor.for_staff(claimer), "resolve", result="已重新处理")
                self.fact("resolve", key, held, on_time=True)
                record["resolved"].append(("resolve", clock.now()))
                self.answer(key, oid, held, holder, do, again=False)
        elif answer in ("callback_ok", "callback_bad"):
            travel_to(resolved_at + timedelta(days=4))
            caller = Actor.for_staff(self.leaders[next(k for lv, k in held if lv == "grid")])
            satisfaction = "satisfied" if answer == "callback_ok" else "unsatisfied"
            do(caller, "callback" if answer == "callback_ok" else "callback_reopen", satisfaction=satisfaction)
            self.fact("callback", key, held, satisfaction=satisfaction)
            if answer == "callback_bad":
                self.fact("reopened", key, held)
                record["resolved"].append(("reopen", clock.now()))
        elif answer == "archived":
            travel_to(resolved_at + timedelta(days=8))
            do(SYSTEM, "close")
            self.fact("unrated", key, held)

    # --- the reference ------------------------------------------------------------------------

    def reference(self) -> dict:
        t = defaultdict(lambda: defaultdict(float))
        received = defaultdict(set)
        for kind, when, units, key, extra in self.facts:
            exempt = self.orders[key]["exempt"]
            if not START <= when < END:
                continue
            for u in units:
                c = t[u]
                if kind == "claim":
                    c["respond_due"] += 1
                    c["responded"] += extra["on_time"]
                    c["lost"] += 0 if extra["on_time"] else POINTS["late_claim"]
                    if u[0] == "worker":
                        received[u].add(key)
                elif kind == "missed_claim":
                    c["respond_due"] += 1
                    c["lost"] += POINTS["late_claim"]
                elif kind in ("resolve", "taken"):
                    c["resolutions"] += kind == "resolve"
                    if not exempt:
                        c["resolve_due"] += 1
                        c["on_time"] += kind == "resolve" and extra["on_time"]
                        c["lost"] += 0 if kind == "resolve" and extra["on_time"] else POINTS["late_resolve"]
                elif kind == "rated":
                    if not exempt:
                        c["rated"] += 1
                        c["satisfied"] += extra["satisfaction"] in SATISFIED
                        c["lost"] += 0 if extra["satisfaction"] in SATISFIED else POINTS["unsatisfied"]
                elif kind == "callback":
                    if not exempt:
                        c["callbacks"] += 1
                        c["callback_satisfied"] += extra["satisfaction"] in SATISFIED
                        c["lost"] += 0 if extra["satisfaction"] in SATISFIED else POINTS["unsatisfied"]
                elif kind == "reopened":
                    c["reopened"] += 1
                    c["lost"] += POINTS["reopened"]
                elif kind in ("urged", "supervised"):
                    c[kind] += 1
                    c["lost"] += POINTS[kind]
                elif kind in ("extension", "pause", "unrated"):
                    c[kind] += 1
        for key, o in self.orders.items():
            if START <= o["received"] < END:
                for u in o["area"]:
                    received[u].add(key)
        for u, keys in received.items():
            t[u]["received"] = len(keys)
            t[u]["solved"] = sum(self.solved_at_end(k) for k in keys)

        def rate(a, b):
            return round(a / b, 4) if b else None
        return {u: {"received": int(c["received"]), "response_rate": rate(c["responded"], c["respond_due"]),
                    "solve_rate": rate(c["solved"], c["received"]), "on_time_rate": rate(c["on_time"], c["resolve_due"]),
                    "satisfaction_rate": rate(c["satisfied"], c["rated"]),
                    "callback_satisfaction_rate": rate(c["callback_satisfied"], c["callbacks"]),
                    "reopen_rate": rate(c["reopened"], c["resolutions"]), "urged": int(c["urged"]),
                    "supervised": int(c["supervised"]), "extensions": int(c["extension"]), "pauses": int(c["pause"]),
                    "unrated": int(c["unrated"]), "score": max(0.0, round(100 - c["lost"], 1))}
                for u, c in t.items()}

    def solved_at_end(self, key) -> bool:
        steps = [kind for kind, when in self.orders[key]["resolved"] if when < END]
        return bool(steps) and steps[-1] == "resolve"


def pct(v):
    return "—" if v is None else f"{v * 100:.1f}%"


SHOWN = ("received", "response_rate", "solve_rate", "on_time_rate", "satisfaction_rate", "callback_satisfaction_rate",
         "reopen_rate", "urged", "supervised", "extensions", "pauses", "unrated", "score")
RATES = {"response_rate", "solve_rate", "on_time_rate", "satisfaction_rate", "callback_satisfaction_rate", "reopen_rate"}


def shown(value, key):
    if key in RATES:
        return pct(value)
    return str(value)


def differences(got: dict, want: dict) -> list:
    """What differs, unit by unit and column by column (the assertion's message)."""
    return [(name, k, (got.get(name) or {}).get(k), (want.get(name) or {}).get(k)) for name in set(got) | set(want)
            for k in SHOWN if (got.get(name) or {}).get(k) != (want.get(name) or {}).get(k)]


def _login(client, staff):
    token = re.search(rb'name="csrf" value="([^"]+)"', client.get("/console/login").data).group(1).decode()
    assert client.post("/console/login", data={"username": staff.username, "password": PASSWORD,
                                               "csrf": token}).status_code == 302


def ranking_rows(client, level) -> dict:
    page = client.get(f"/console/assessment?month=2026-11&level={level}").get_data(as_text=True)
    rows = {}
    for name, cells in re.findall(r'<tr data-unit="([^"]*)">(.*?)</tr>', page, re.S):
        rows[name] = dict(re.findall(r'<td data-column="(\w+)">([^<]*)</td>', cells))
    return rows


def test_a_generated_month_agrees_on_the_ranking_the_report_and_public_with_the_reference(app, db, redis, make):
    gen = Month(make)
    gen.run()
    travel_to(datetime(2026, 12, 20, 10, 0, tzinfo=SH))
    ref = gen.reference()
    kinds = {kind for kind, *_ in gen.facts}
    # The month really has every kind of fact the must-show names.
    assert kinds >= {"claim", "missed_claim", "resolve", "taken", "extension", "pause", "rated", "callback",
                     "reopened", "unrated", "urged", "supervised"}, kinds
    assert any(o["exempt"] for o in gen.orders.values())
    names = {("community", c.id): c.name for c in gen.communities}
    names.update({("grid", g.id): g.name for g, _ in gen.grids})
    for staff in (*gen.workers.values(), *gen.leaders.values()):
        names[("worker", staff.id)] = staff.name
    expected = {level: {names[u]: {k: shown(v[k], k) for k in SHOWN} for u, v in ref.items() if u[0] == level}
                for level in ("community", "grid", "worker")}
    assert len(expected["grid"]) == 3 and len(expected["community"]) == 2

    client = app.test_client()
    _login(client, gen.street_admin)
    for level in ("community", "grid", "worker"):
        got = {name: {k: cells[k] for k in SHOWN} for name, cells in ranking_rows(client, level).items()}
        assert got == expected[level], differences(got, expected[level])

    book = load_workbook(io.BytesIO(client.get("/console/export/assessment.xlsx?month=2026-11").data))
    titles = {"received": "受理", "response_rate": "响应率", "solve_rate": "解决率", "on_time_rate": "按时办结率",
              "satisfaction_rate": "满意率", "callback_satisfaction_rate": "回访满意率", "reopen_rate": "重办率",
              "urged": "催办", "supervised": "督办", "extensions": "延期", "pauses": "挂起", "unrated": "未评价",
              "score": "得分"}
    for level, sheet in (("community", "社区"), ("grid", "网格"), ("worker", "网格员及工作人员")):
        rows = list(book[sheet].iter_rows(values_only=True))
        head = rows[0]
        # a whole score is stored as a number without decimals: read back, it is an int
        got = {r[head.index("单位")]: {k: r[head.index(t)] if k in RATES else shown(
            float(r[head.index(t)]) if k == "score" else r[head.index(t)], k) for k, t in titles.items()} for r in rows[1:]}
        assert got == expected[level], differences(got, expected[level])
        scores = [r[head.index("得分")] for r in rows[1:]]
        assert scores == sorted(scores, reverse=True)  # ranked
    assert book["扣分明细"].max_row > 1

    public = client.get("/public/assessment?month=2026-11").get_data(as_text=True)
    public_rows = re.findall(r'<tr class="(?:community|grid)" data-community="([^"]+)"(?: data-grid="([^"]+)")?>(.*?)</tr>',
                             public, re.S)
    for community, grid, cells in public_rows:
        values = re.findall(r"<td>([^<]*)</td>", cells)[-5:]
        want = expected["grid"][grid] if grid else expected["community"][community]
        assert values == [want[k] for k in ("received", "response_rate", "solve_rate", "satisfaction_rate",
                                            "on_time_rate")], (community, grid)
    assert len(public_rows) == 5
    for staff in (*gen.workers.values(), *gen.leaders.values()):
        assert staff.name not in public  # no worker names in public

    # Scope: 甲社区's admin sees 甲社区 and its grids only.
    mine = app.test_client()
    _login(mine, gen.admins[gen.communities[0].id])
    assert set(ranking_rows(mine, "community")) == {"甲社区"}
    assert set(ranking_rows(mine, "grid")) == {"甲1网格", "甲2网格"}
    page = client.get("/console/assessment?month=2026-11&level=worker&sort=response_rate&order=asc")
    column = [expected["worker"][n]["response_rate"] for n in re.findall(r'<tr data-unit="([^"]*)">', page.get_data(as_text=True))]
    assert len(column) == len(expected["worker"])
    assert column == sorted(column, key=lambda s: float(s.rstrip("%")) if s != "—" else 999)
