"""The working calendar (WORK_DAYS, WORK_HOURS, WORK_HOLIDAYS, WORK_EXTRA_DAYS in the configured
TIMEZONE): limits counted in working time. Base layer — orders' deadlines, the disputes' step limits
and the wishes' claim and offer limits all count on it."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _dates(value: str) -> set[date]:
    return {date.fromisoformat(d.strip()) for d in (value or "").split(",") if d.strip()}


class WorkCalendar:
    def __init__(self, tz: str, days: str, hours: str, holidays: str = "", extra_days: str = ""):
        self.tz = ZoneInfo(tz)
        self.days = {int(d) for d in days.split(",") if d.strip()}
        opens, closes = hours.split("-")
        self.opens = time.fromisoformat(opens.strip())
        self.closes = time.fromisoformat(closes.strip())
        self.holidays = _dates(holidays)
        self.extra_days = _dates(extra_days)
        self.day_length = (datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens))

    @classmethod
    def from_config(cls, config) -> "WorkCalendar":
        return cls(config["TIMEZONE"], config["WORK_DAYS"], config["WORK_HOURS"],
                   config.get("WORK_HOLIDAYS", ""), config.get("WORK_EXTRA_DAYS", ""))

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_days:
            return True
        return day.isoweekday() in self.days and day not in self.holidays

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
