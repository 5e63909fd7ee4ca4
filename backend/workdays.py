"""The working calendar (WORK_DAYS, WORK_HOURS in the configured TIMEZONE): limits counted in working
time. Which days are worked follows the State Council's calendar by default (WORK_CALENDAR=official:
the `chinese-calendar` package's holidays and 调休 make-up days, 2026 included); WORK_HOLIDAYS and
WORK_EXTRA_DAYS are local overrides on top (a district's own day off, a year the package does not
know yet). Base layer — orders' deadlines, the disputes' step limits and the wishes' claim and offer
limits all count on it."""
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar import constants as _official

log = logging.getLogger(__name__)
# The years the installed package knows (chinese-calendar 1.11.0: 2004–2026). The State Council
# publishes a year's holidays in the November before it: until the package is updated, a later year
# is counted on WORK_DAYS plus the local overrides — said in the log and on /healthz, never silently.
OFFICIAL_YEARS = range(min(_official.holidays).year, max(_official.holidays).year + 1)
_warned: set[int] = set()


def _dates(value: str) -> set[date]:
    return {date.fromisoformat(d.strip()) for d in (value or "").split(",") if d.strip()}


def official_day(day: date) -> bool | None:
    """The State Council's word on `day`: False for a statutory holiday on a weekday, True for a
    weekend day worked instead (调休), None for an ordinary day or a year the package does not know."""
    try:
        working = chinese_calendar.is_workday(day)
    except NotImplementedError:  # outside the package's years: WORK_HOLIDAYS / WORK_EXTRA_DAYS only
        return None
    weekend = day.isoweekday() >= 6
    if weekend and working:
        return True
    if not weekend and not working:
        return False
    return None


class WorkCalendar:
    def __init__(self, tz: str, days: str, hours: str, holidays: str = "", extra_days: str = "",
                 official: bool = True):
        self.tz = ZoneInfo(tz)
        self.official = official
        self.days = {int(d) for d in days.split(",") if d.strip()}
        opens, closes = hours.split("-")
        self.opens = time.fromisoformat(opens.strip())
        self.closes = time.fromisoformat(closes.strip())
        self.holidays = _dates(holidays)
        self.extra_days = _dates(extra_days)
        # Years some local override (WORK_HOLIDAYS, WORK_EXTRA_DAYS) names: such a year is not
        # "unknown" to the calendar, whatever the package knows.
        self.local_years = {d.year for d in self.holidays | self.extra_days}
        self.day_length = (datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens))

    @classmethod
    def from_config(cls, config) -> "WorkCalendar":
        return cls(config["TIMEZONE"], config["WORK_DAYS"], config["WORK_HOURS"],
                   config.get("WORK_HOLIDAYS", ""), config.get("WORK_EXTRA_DAYS", ""),
                   official=config.get("WORK_CALENDAR", "official") == "official")

    def is_working_day(self, day: date) -> bool:
        """Local overrides first (WORK_EXTRA_DAYS, WORK_HOLIDAYS), then the official calendar's
        holidays and 调休 days, then the ordinary week (WORK_DAYS)."""
        if day in self.extra_days:
            return True
        if day in self.holidays:
            return False
        if self.official and day.year not in OFFICIAL_YEARS and day.year not in _warned \
                and day.year not in self.local_years:
            _warned.add(day.year)
            log.warning("working calendar: chinese-calendar knows %d-%d, not %d; its holidays and 调休 days are "
                        "counted as ordinary weeks until the package is updated or WORK_HOLIDAYS / "
                        "WORK_EXTRA_DAYS name them", OFFICIAL_YEARS[0], OFFICIAL_YEARS[-1], day.year)
        said = official_day(day) if self.official else None
        return said if said is not None else day.isoweekday() in self.days

    def coverage(self, today: date) -> dict:
        """Which source says which days are worked, this year and next (/healthz): `official` (the
        package knows the year), `local` (only the overrides name days in it), `weekdays` (nothing
        does: holidays count as working days)."""
        def source(year):
            if self.official and year in OFFICIAL_YEARS:
                return "official"
            return "local" if year in self.local_years else "weekdays"
        return {"calendar": "official" if self.official else "weekdays",
                "official_years": f"{OFFICIAL_YEARS[0]}-{OFFICIAL_YEARS[-1]}",
                "this_year": source(today.year), "next_year": source(today.year + 1)}

    def working_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from `start` to `end` (zero if `end` is not later): how long a paused
        order's clock stood still, given back to its deadlines on resume."""
        total = timedelta(0)
        if end <= start:
            return total
        cursor, end = start.astimezone(self.tz), end.astimezone(self.tz)
        for _ in range(3700):
            day = cursor.date()
            if day > end.date():
                break
            if self.is_working_day(day):
                opens = datetime.combine(day, self.opens, self.tz)
                closes = datetime.combine(day, self.closes, self.tz)
                lo, hi = max(cursor, opens), min(end, closes)
                if hi > lo:
                    total += hi - lo
            cursor = datetime.combine(day + timedelta(days=1), time(0), self.tz)
        return total

    def add(self, start: datetime, delta: timedelta) -> datetime:
        """`start` plus `delta` of working time; whole days of `delta` count as working days."""
        remaining = delta.days * self.day_length + timedelta(seconds=delta.seconds,
                                                             microseconds=delta.microseconds)
        cursor = start.astimezone(self.tz)
        for _ in range(3700):  # ten years of days: a misconfigured calendar must not loop forever
            day = cursor.date()
            opens = datetime.combine(day, self.opens, self.tz)
            closes = datetime.combine(day, self.closes, self.tz)
            if self.is_working_day(day) and cursor < closes:
                cursor = max(cursor, opens)
                if cursor + remaining <= closes:
                    return (cursor + remaining).astimezone(start.tzinfo)
                remaining -= closes - cursor
            cursor = datetime.combine(day + timedelta(days=1), time(0), self.tz)
        raise ValueError("the working calendar has no working hours")
