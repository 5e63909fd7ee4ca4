"""Volunteers' hours (志愿服务时长): what each member gave, per confirmed wish or recorded task."""
import csv
import io
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from .. import clock
from ..accounts.actors import Actor
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..types import get_by_id
from .models import Member, VolunteerHours
from .registry import communities_of

MAX_TASK_HOURS = Decimal("24")


def record_for_wish(wish, now) -> VolunteerHours:
    """The claimant's hours for a wish the resident confirmed; inside the confirmation's transaction
    (the unique index keeps one row per wish and person)."""
    entry = VolunteerHours(member_id=wish.claimant_id, community_id=wish.community_id, wish_id=wish.id,
                           day=clock.local(now).date(), hours=min(Decimal(str(wish.hours)), MAX_TASK_HOURS),
                           recorded_by=f"resident:{wish.resident_id}", created_at=now)
    db.session.add(entry)
    return entry


def record_task(actor: Actor, *, member_id: int, task: str, hours: Decimal, day: date) -> VolunteerHours:
    """A volunteer task the community records for one of its members (a patrol, an event)."""
    kept = {c.id for c in communities_of(actor)}  # refuses a role that keeps no registry (403)
    member = get_by_id(Member, member_id)
    if member is None or member.community_id not in kept:
        raise NotFound("没有这位报到人员")
    if not task.strip():
        raise ValidationFailed("请填写服务内容", fields={"task": ["请填写服务内容"]})
    entry = VolunteerHours(member_id=member.id, community_id=member.community_id, task=task.strip(),
                           hours=hours, day=day, recorded_by=f"staff:{actor.id}", created_at=clock.now())
    db.session.add(entry)
    db.session.commit()
    return entry


def rows(community_ids: list[int]) -> list[VolunteerHours]:
    return list(db.session.scalars(
        select(VolunteerHours).where(VolunteerHours.community_id.in_(community_ids))
        .order_by(VolunteerHours.day, VolunteerHours.id)))


COLUMNS = ("日期", "姓名", "身份", "单位", "服务内容", "心愿编号", "时长（小时）")


def export_csv(community_ids: list[int], kind_label) -> str:
    """For the community's own records (the names are its registered members', shown to its staff)."""
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for entry in rows(community_ids):
        member = entry.member
        writer.writerow([entry.day.isoformat(), member.name, kind_label(member.kind),
                         member.unit.name if member.unit else (member.workplace or ""),
                         entry.task or "微心愿", entry.wish_id or "", f"{entry.hours:.1f}"])
    return out.getvalue()

