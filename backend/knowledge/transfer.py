"""知识库 as an XLSX workbook (one sheet, 知识库), like the registry: export what the actor reads, import
back what they keep. A row with a 编号 changes that entry, a row without one adds an entry; every row
is checked first and one problem (row, column, what) means nothing is imported."""
from __future__ import annotations

import io
from datetime import date, datetime

from ..accounts.actors import Actor
from ..errors import ValidationFailed
from ..extensions import db
from . import services
from .models import KnowledgeEntry

SHEET = "知识库"
COLUMNS = ("编号", "范围", "问题", "其他问法", "答案", "链接", "电话", "地点", "类别", "生效日期", "失效日期", "状态")
MAX_ROWS = 5000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def export_xlsx(actor: Actor) -> bytes:
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(COLUMNS)
    for entry, _ in services.search(actor, include_retired=True, limit=100_000):
        sheet.append([entry.id, entry.scope_name, entry.question, "\n".join(entry.variants or []), entry.answer,
                      entry.link, entry.phone, entry.place, entry.category,
                      entry.valid_from, entry.valid_until, "在用" if entry.active else "停用"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _day(text: str):
    return date.fromisoformat(text[:10]) if text else None


def import_xlsx(actor: Actor, content: bytes) -> dict:
    """{"added": n, "changed": n, "unchanged": n, "skipped": n (rows of entries kept above the actor,
    left as they are)}; refused (422) with every problem when one row is wrong."""
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    except Exception:  # noqa: BLE001 — any unreadable upload is the same refusal
        raise ValidationFailed("无法读取这个文件，请上传导出的 XLSX 表格", fields={"file": ["不是 XLSX 表格"]})
    if not rows or tuple(rows[0][:len(COLUMNS)]) != COLUMNS:
        raise ValidationFailed("表头不对，请用导出的表格填写", fields={"file": ["表头应为：" + "、".join(COLUMNS)]})
    if len(rows) > MAX_ROWS + 1:
        raise ValidationFailed(f"一次最多导入{MAX_ROWS}行", fields={"file": ["行数过多"]})
    places = {name: value for value, name in services.targets(actor)}
    problems, work, skipped = [], [], 0
    for number, row in enumerate(rows[1:], start=2):
        row = (row + [""] * len(COLUMNS))[:len(COLUMNS)]
        record = dict(zip(COLUMNS, row))
        if not any(row):
            continue
        where = f"第{number}行"
        if record["编号"] and record["编号"].isdigit() and len(record["编号"]) < 10:
            known = db.session.get(KnowledgeEntry, int(record["编号"]))
            if known is not None and not services.may_keep(actor, known):
                skipped += 1  # the district's or the street's entry, exported for reading: left as it is
                continue
        target = places.get(record["范围"])
        if target is None:
            problems.append(f"{where}「范围」：没有这个范围，或不归您管理")
        try:
            data = {"question": record["问题"], "answer": record["答案"], "variants": record["其他问法"].splitlines(),
                    "link": record["链接"], "phone": record["电话"], "place": record["地点"], "category": record["类别"],
                    "valid_from": _day(record["生效日期"]), "valid_until": _day(record["失效日期"])}
        except ValueError:
            problems.append(f"{where}「生效日期/失效日期」：日期应写成 2026-12-01")
            continue
        if not data["question"] or not data["answer"]:
            problems.append(f"{where}「问题/答案」：必填")
        if len(data["question"]) > 200:
            problems.append(f"{where}「问题」：200字内")
        entry_id = None
        if record["编号"]:
            entry = db.session.get(KnowledgeEntry, int(record["编号"])) if record["编号"].isdigit() and len(
                record["编号"]) < 10 else None
            if entry is None or (target and not services.may_keep(actor, entry)):
                problems.append(f"{where}「编号」：没有这条知识，或不归您管理")
            else:
                entry_id = entry.id
        work.append((entry_id, target, data, record["状态"] != "停用"))
    if problems:
        raise ValidationFailed("导入失败，什么也没有改：" + "；".join(problems[:20]), fields={"file": problems[:50]})
    counts = {"added": 0, "changed": 0, "unchanged": 0, "skipped": skipped}
    for entry_id, target, data, active in work:
        if entry_id is None:
            entry = services.add_entry(actor, target, data)
            counts["added"] += 1
        else:
            before = db.session.get(KnowledgeEntry, entry_id).updated_at
            entry = services.edit_entry(actor, entry_id, target, data)
            counts["changed" if entry.updated_at != before else "unchanged"] += 1
        if entry.active != active:
            services.set_active(actor, entry.id, active)
    return counts


def import_upload(actor: Actor, file) -> dict:
    """The console's upload: who may import is judged before the file is read."""
    services.targets(actor)
    return import_xlsx(actor, uploaded(file))


def uploaded(file) -> bytes:
    """The form's XLSX, read no further than MAX_UPLOAD_BYTES + 1."""
    if file is None or not file.filename:
        raise ValidationFailed("请选择要导入的 XLSX 文件", fields={"file": ["未选择文件"]})
    content = file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed("文件太大（最多 5 MB）", fields={"file": ["文件太大"]})
    return content
