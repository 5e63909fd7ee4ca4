"""Working-time limits, and the worker's once-per-interval periodic tick."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import redis as redis_lib

from backend.orders import deadlines
from backend.orders.deadlines import parse_duration
from backend.workdays import WorkCalendar
from backend.worker import periodic_jobs, tick_once

SH = ZoneInfo("Asia/Shanghai")
# The local overrides alone (WORK_CALENDAR=weekdays): what a deployment gets without the package.
CAL = WorkCalendar("Asia/Shanghai", "1,2,3,4,5", "08:30-17:30", holidays="2026-10-01", extra_days="2026-09-27",
                   official=False)
# The default: the State Council's calendar, nothing configured.
OFFICIAL = WorkCalendar("Asia/Shanghai", "1,2,3,4,5", "08:30-17:30")


def at(*args):
    return datetime(*args, tzinfo=SH)


def test_working_hours_skip_nights_weekends_and_holidays():
    assert CAL.add(at(2026, 11, 23, 9, 0), timedelta(hours=2)) == at(2026, 11, 23, 11, 0)  # Monday
    assert CAL.add(at(2026, 11, 23, 16, 30), timedelta(hours=2)) == at(2026, 11, 24, 9, 30)  # over the night
    assert CAL.add(at(2026, 11, 27, 17, 0), timedelta(hours=2)) == at(2026, 11, 30, 10, 0)  # Friday → Monday
    assert CAL.add(at(2026, 11, 28, 12, 0), timedelta(hours=1)) == at(2026, 11, 30, 9, 30)  # from Saturday
    assert CAL.add(at(2026, 11, 23, 7, 0), timedelta(days=3)) == at(2026, 11, 25, 17, 30)  # 3 working days
    assert CAL.add(at(2026, 9, 30, 17, 0), timedelta(hours=1)) == at(2026, 10, 2, 9, 0)  # holiday skipped
    assert CAL.add(at(2026, 9, 26, 17, 0), timedelta(hours=1)) == at(2026, 9, 27, 9, 30)  # 调休 Sunday worked


def test_the_official_calendar_knows_2026s_spring_festival_and_national_day_without_configuration():
    # 春节 2026: 2-15 (Sun) to 2-23 (Mon) off, Saturdays 2-14 and 2-28 worked (调休).
    assert OFFICIAL.add(at(2026, 2, 13, 17, 0), timedelta(hours=1)) == at(2026, 2, 14, 9, 0)  # 调休 Saturday
    assert OFFICIAL.add(at(2026, 2, 14, 17, 0), timedelta(hours=1)) == at(2026, 2, 24, 9, 0)  # nine days off
    assert OFFICIAL.add(at(2026, 2, 27, 17, 0), timedelta(hours=1)) == at(2026, 2, 28, 9, 0)  # 调休 Saturday
    # 国庆 2026: 10-1 (Thu) to 10-7 off, Sunday 9-20 and Saturday 10-10 worked.
    assert OFFICIAL.add(at(2026, 9, 18, 17, 0), timedelta(hours=1)) == at(2026, 9, 20, 9, 0)  # Sat off, Sun worked
    assert OFFICIAL.add(at(2026, 9, 30, 17, 0), timedelta(hours=1)) == at(2026, 10, 8, 9, 0)
    assert OFFICIAL.add(at(2026, 10, 9, 17, 0), timedelta(days=1)) == at(2026, 10, 10, 17, 0)  # ½h Fri + 8½h on the 调休 Saturday
    # An ordinary weekend is still a weekend: three working days from Friday's opening are Fri, Mon, Tue.
    assert OFFICIAL.add(at(2026, 11, 27, 8, 30), timedelta(days=3)) == at(2026, 12, 1, 17, 30)
    # Local overrides win over the package: a district's own day off, and a day it works anyway.
    local = WorkCalendar("Asia/Shanghai", "1,2,3,4,5", "08:30-17:30", holidays="2026-02-24", extra_days="2026-02-16")
    assert local.is_working_day(at(2026, 2, 16).date()) and not local.is_working_day(at(2026, 2, 24).date())
    # A year the package does not know falls back to WORK_DAYS plus the overrides, never an error.
    assert OFFICIAL.is_working_day(at(2099, 10, 1).date()) is True


def test_a_year_the_package_does_not_know_is_said_in_the_log_and_on_healthz_not_counted_silently(
        app, client, caplog, monkeypatch):
    """chinese-calendar 1.11.0 knows 2004–2026: 2027's 元旦 (Fri 1-1) counts as a working day until the
    package is updated or WORK_HOLIDAYS names it — logged once per year, and /healthz says so."""
    from backend import clock, workdays
    assert workdays.OFFICIAL_YEARS[-1] == 2026
    monkeypatch.setattr(workdays, "_warned", set())
    assert OFFICIAL.is_working_day(at(2027, 1, 1).date())  # nobody named it: an ordinary Friday
    OFFICIAL.is_working_day(at(2027, 1, 4).date())
    warned = [r.getMessage() for r in caplog.records if "chinese-calendar knows 2004-2026, not 2027" in r.getMessage()]
    assert len(warned) == 1, caplog.text
    named = WorkCalendar("Asia/Shanghai", "1,2,3,4,5", "08:30-17:30", holidays="2028-01-03")
    assert not named.is_working_day(at(2028, 1, 3).date())  # the local override, and no warning for 2028
    assert "not 2028" not in caplog.text

    clock.travel(at(2026, 12, 7, 10, 0) - clock.now())
    assert client.get("/healthz").json["calendar"] == {"calendar": "official", "official_years": "2004-2026",
                                                       "this_year": "official", "next_year": "weekdays"}
    monkeypatch.setitem(app.config, "WORK_HOLIDAYS", "2027-01-01,2027-02-05")
    assert client.get("/healthz").json["calendar"]["next_year"] == "local"
    clock.travel(at(2027, 1, 4, 10, 0) - clock.now())
    assert client.get("/healthz").json["calendar"]["this_year"] == "local"


def test_working_time_between_two_moments_skips_what_the_calendar_rests():
    assert OFFICIAL.working_between(at(2026, 11, 27, 16, 30), at(2026, 11, 30, 9, 30)) == timedelta(hours=2)
    assert OFFICIAL.working_between(at(2026, 9, 30, 17, 0), at(2026, 10, 8, 9, 0)) == timedelta(hours=1)
    assert OFFICIAL.working_between(at(2026, 2, 13, 17, 0), at(2026, 2, 24, 9, 0)) == timedelta(hours=10)  # ½h + 调休 Sat 9h + ½h
    assert OFFICIAL.working_between(at(2026, 11, 30, 10, 0), at(2026, 11, 30, 9, 0)) == timedelta(0)


def test_urgent_runs_on_calendar_time_normal_on_working_hours_and_categories_override(app, db, make, city, monkeypatch):
    friday_night = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)  # 20:00 in Shanghai
    urgent = make.order(city["resident"], grade="urgent")
    deadlines.set_for_rung(urgent, friday_night)
    assert urgent.claim_by == friday_night + timedelta(minutes=10)
    normal = make.order(city["resident"])
    deadlines.set_for_rung(normal, friday_night)
    assert normal.claim_by == at(2026, 11, 30, 10, 30)
    monkeypatch.setitem(app.config, "SLA_CATEGORY_LIMITS",
                        '{"城乡建设": {"claim": "4h"}, "城乡建设/住房保障与房地产/物业服务": {"claim": "30m"}}')
    try:
        deadlines.set_for_rung(normal, friday_night)
        assert normal.claim_by == at(2026, 11, 30, 9, 0)
        normal.category = "城乡建设/城市建设和市政管理"
        deadlines.set_for_rung(normal, friday_night)
        assert normal.claim_by == at(2026, 11, 30, 12, 30)
    finally:
        db.session.rollback()
    assert parse_duration("90s") == timedelta(seconds=90) and parse_duration("2d") == timedelta(days=2)


def test_several_workers_enqueue_each_periodic_job_once_per_interval(app, redis_url):
    connection = redis_lib.Redis.from_url(redis_url)
    connection.flushdb()
    jobs = periodic_jobs(app.config)
    t = 1_800_000_000.0
    first = [tick_once(connection, jobs, now=t + i * 0.1) for i in range(5)]  # five workers, same second
    assert sorted(sum(first, [])) == ["archive-tick", "dispute-stall-tick", "due-soon-tick", "notify-sweep",
                                      "retention-tick", "sla-tick", "wechat-sweep", "wish-tick"]
    # sla, due soon, dispute stall, archive, retention, wish
    assert connection.llen("rq:queue:dispatch") == 6 and connection.llen("rq:queue:notifications") == 1
    assert connection.llen("rq:queue:wechat") == 1
    later = tick_once(connection, jobs, now=t + app.config["SLA_TICK_SECONDS"])
    assert "sla-tick" in later
    connection.flushdb()


def test_run_worker_burst_runs_the_jobs(app, db, redis, make, city):
    from backend.worker import enqueue
    from backend.dispatch.jobs import sla_tick
    order = make.order(city["resident"], grade="urgent")
    from backend import clock
    clock.travel(timedelta(minutes=11))
    assert enqueue("dispatch", sla_tick) is not None
    db.session.rollback()  # on SQLite this thread's open read would block the job's write
    result = app.test_cli_runner().invoke(args=["run-worker", "--burst", "--no-ticker", "--queues", "dispatch,notifications"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    db.session.refresh(order)
    assert order.rung == "grid_leader"
