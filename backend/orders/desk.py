"""The order desk: every order a staff member may see, filtered, searched, sorted and paged by
keyset (a cursor, not an offset: page 500 costs what page 1 costs), and exported as CSV or XLSX.

Search looks in the request's text, its place and its number; a whole order number is matched
exactly (`whole_number`), through the number's unique index. On PostgreSQL a pg_trgm GIN index
serves `ILIKE '%…%'` (trigrams work on Chinese characters in a UTF-8 database, and need no word
segmentation, which Chinese would need for a tsvector); on SQLite, the embedded default for small
deployments, the same LIKE scans the rows."""
from __future__ import annotations

import base64
import csv
import io
import json
import re
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterator
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from .. import clock, replica
from ..accounts.actors import Actor
from ..errors import Forbidden, ValidationFailed
from ..extensions import db
from ..labels import label
from ..masking import mask
from . import states
from .figures import flagged
from .models import Order
from .services import present, scope_filter
from .signals import contact_shown

SORTS = ("newest", "oldest", "due")
PAGE_MAX = 200
EXPORT_MAX = 50000  # rows in one export: a year of a large community
COUNT_CAP = 10000  # the desk counts matches up to this many ("10000 张以上")
_NUMBER_TAIL = re.compile(r"[0-9]{8}-[0-9]{4,}")  # after the prefix: the day, the day's counter


@dataclass
class Filters:
    states: tuple[str, ...] = ()
    grid_id: int | None = None
    category: str | None = None  # a taxonomy path: the node and everything below it
    grade: str | None = None
    channel: str | None = None
    overdue: bool = False
    assignee_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None  # inclusive, in local dates
    q: str | None = None
    sort: str = "newest"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))


def _conditions(actor: Actor, f: Filters) -> list:
    if not actor.is_staff:
        raise Forbidden("只有工作人员可以查看工单台账")
    where = [scope_filter(actor)]
    if f.states:
        where.append(Order.state.in_(f.states))
    if f.grid_id:
        where.append(Order.grid_id == f.grid_id)
    if f.category:
        where.append(or_(Order.category == f.category, Order.category.like(_escape_like(f.category) + "/%", escape="\\")))
    if f.grade:
        where.append(Order.grade == f.grade)
    if f.channel:
        where.append(Order.channel == f.channel)
    if f.overdue:
        where += [Order.state.in_(states.OPEN_STATES), Order.due_at < clock.now(), ~flagged("paused")]  # 挂起: not late
    if f.assignee_id:
        where.append(Order.assignee_id == f.assignee_id)
    if f.created_from:
        where.append(Order.created_at >= _local_midnight(f.created_from))
    if f.created_to:
        where.append(Order.created_at < _local_midnight(f.created_to + timedelta(days=1)))
    if f.q and f.q.strip():
        number = whole_number(f.q)
        if number:  # the unique btree: one probe, however large the table
            where.append(Order.number == number)
        else:
            pattern = f"%{_escape_like(f.q.strip())}%"
            where.append(or_(Order.text.ilike(pattern, escape="\\"), Order.location_text.ilike(pattern, escape="\\"),
                             Order.number.ilike(pattern, escape="\\")))
    return where


def whole_number(q: str) -> str | None:
    """The order number `q` spells whole (HX20261122-0007: the prefix, the local day, a dash and at
    least four digits, orders.numbers), written as stored (the prefix's case); None for anything
    else — a fragment, a text. Every number shares the trigrams of its prefix and year, so the
    trigram index's posting lists grow with the table (×7–11 from 1M to 10M orders,
    BENCHMARKS.md); an exact match reads the unique index instead."""
    prefix = current_app.config["ORDER_NUMBER_PREFIX"]
    q = q.strip()
    if q[:len(prefix)].upper() != prefix.upper() or not _NUMBER_TAIL.fullmatch(q[len(prefix):]):
        return None
    return prefix + q[len(prefix):]


def _sort_key(f: Filters):
    """(column, ascending). "due" lists what someone owes work on, soonest deadline first."""
    if f.sort == "due":
        return Order.due_at, True
    return Order.created_at, f.sort == "oldest"


def _encode(value: datetime, order_id: int) -> str:
    raw = json.dumps([value.isoformat(), order_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, order_id = json.loads(raw)
        value = datetime.fromisoformat(stamp)
        if value.tzinfo is None or not isinstance(order_id, int) or not 0 < order_id < 2**63:
            raise ValueError
        return value, order_id
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationFailed("翻页位置无效，请从第一页重新开始", fields={"after": ["invalid cursor"]}) from None


def _value(order: Order, f: Filters) -> datetime:
    return order.due_at if f.sort == "due" else order.created_at


def _query(actor: Actor, f: Filters, after: str | None):
    if f.sort not in SORTS:
        raise ValidationFailed("排序方式无效", fields={"sort": [f"one of {', '.join(SORTS)}"]})
    key, ascending = _sort_key(f)
    query = select(Order).where(*_conditions(actor, f))
    if f.sort == "due":
        query = query.where(Order.due_at.is_not(None))
    if after:
        value, last_id = _decode(after)
        beyond = (or_(key > value, and_(key == value, Order.id > last_id)) if ascending
                  else or_(key < value, and_(key == value, Order.id < last_id)))
        query = query.where(beyond)
    return query.order_by(key.asc() if ascending else key.desc(),
                          Order.id.asc() if ascending else Order.id.desc())


def search(actor: Actor, f: Filters, *, after: str | None = None, limit: int = 50) -> dict:
    """One page: {"orders": [...], "next": cursor or None, "total": matching orders, at most
    COUNT_CAP, "total_capped": whether there are more than that}."""
    limit = max(1, min(int(limit), PAGE_MAX))
    query = _query(actor, f, after).limit(limit + 1).options(
        selectinload(Order.grid), selectinload(Order.community), selectinload(Order.assignee))
    rows = db.session.scalars(query).all()
    page, more = rows[:limit], len(rows) > limit
    # Counted up to a cap: an exact total reads every match, and with years of history behind a
    # broad filter that is most of the table; past the cap the page says "more than".
    matching = select(Order.id).where(*_conditions(actor, f))
    if f.sort == "due":
        matching = matching.where(Order.due_at.is_not(None))
    found = db.session.scalar(select(func.count()).select_from(matching.limit(COUNT_CAP + 1).subquery()))
    return {"orders": present(actor, page), "total": min(found, COUNT_CAP), "total_capped": found > COUNT_CAP,
            "next": _encode(_value(page[-1], f), page[-1].id) if more and page else None}


# --- export ------------------------------------------------------------------------------------

HEADERS = ("工单号", "渠道", "类别", "等级", "状态", "社区", "网格", "地点", "诉求内容", "联系方式",
           "接单人", "提交时间", "当前时限", "办结时间", "办理结果", "评价")


def _time(value: datetime | None) -> str:
    return clock.local(value, current_app.config["TIMEZONE"]).strftime("%Y-%m-%d %H:%M") if value else ""


def _contact_for(actor: Actor, order: Order) -> str:
    # The grid's own workers call residents back; everyone else sees the number masked.
    if actor.role in ("grid_worker", "grid_leader") and actor.grid_id == order.grid_id:
        return order.contact or ""
    return mask(order.contact) or ""


def export_rows(actor: Actor, f: Filters) -> Iterator[tuple]:
    """The filtered list, every page of it, as rows under HEADERS (at most EXPORT_MAX). The rows
    that carried an unmasked contact are audited once the export ends, even when it ends early —
    on the primary: the rows themselves may come from the read replica (`_export_orders`)."""
    shown = []
    try:
        with closing(_export_orders(actor, f)) as found:
            for row, contact_of in found:
                if contact_of is not None:
                    shown.append(contact_of)
                yield row
    finally:
        if shown:
            contact_shown.send(actor, orders=shown, surface="export")


@replica.reads("export")
def _export_orders(actor: Actor, f: Filters) -> Iterator[tuple]:
    """(row, (order id, resident id, number) when the row shows the contact unmasked, else None),
    in the desk's order."""
    query = _query(actor, f, None).limit(EXPORT_MAX).options(
        selectinload(Order.grid), selectinload(Order.community), selectinload(Order.assignee))
    for order in db.session.scalars(query).yield_per(500):
        contact = _contact_for(actor, order)
        yield ((order.number, label("channels", order.channel), order.category or "", label("grades", order.grade),
                label("states", order.state), order.community.name if order.community else "",
                order.grid.name if order.grid else "", order.location_text or "", order.text,
                contact, order.assignee.name if order.assignee else "",
                _time(order.created_at), _time(order.due_at), _time(order.resolved_at), order.result or "",
                label("satisfactions", order.satisfaction) if order.satisfaction else ""),
               (order.id, order.resident_id, order.number) if contact and contact == order.contact else None)


# A cell starting with = + - @ is a formula to Excel, and one starting with a tab or a carriage return
# becomes one once Excel or LibreOffice trims it (OWASP's list): a resident's text must never run.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value):
    return "'" + value if isinstance(value, str) and value[:1] in _FORMULA_STARTS else value


def export_csv(actor: Actor, f: Filters) -> Iterator[str]:
    """CSV in UTF-8 with a BOM (Excel opens Chinese correctly), yielded row by row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    yield "\ufeff" + out.getvalue()
    # closing(): a download cut short still ends the rows, so their audit runs now, not at GC.
    with closing(export_rows(actor, f)) as rows:
        for row in rows:
            out.seek(0)
            out.truncate()
            writer.writerow([_safe_cell(v) for v in row])
            yield out.getvalue()


def export_xlsx(actor: Actor, f: Filters) -> Iterator[bytes]:
    """XLSX written row by row (openpyxl's write-only mode) to a spooled file, then streamed."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet("工单")
    sheet.append(HEADERS)
    with closing(export_rows(actor, f)) as rows:
        for row in rows:
            sheet.append([_safe_cell(v) for v in row])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    book.save(spool)
    spool.seek(0)
    while chunk := spool.read(64 * 1024):
        yield chunk
    spool.close()
