"""The registry a community runs on — streets, communities, grids, buildings, departments, property
companies (物业) and the compounds they manage, staff —
imported from a spreadsheet and exported back to one. The console, `flask import-registry` and
`flask export-registry` all call `import_registry` / `export_registry`.

A registry file is an XLSX workbook with one sheet per kind (社区, 网格, 楼栋, 部门, 物业, 人员; any may be
missing), or CSV files, one per kind, named after it (communities.csv or 社区.csv …). Headers are
Chinese or English (see COLUMNS). Rows are matched on their natural key and updated in place, so a
second import of the same file changes nothing: street and community and department by name, grid
by code, building by compound + number, a property company by name and the compound it manages
by community + compound (one company per compound), staff by username.

An import is all-or-nothing: every row is checked first and any problem (sheet, row, column, what)
stops it with nothing written; a dry run checks and counts without writing. New staff get a random
first password, returned once (never stored in the clear)."""
from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import select

from ..accounts.models import TEAM_OF_ROLE, TEAM_ROLES, Staff
from ..errors import ValidationFailed
from ..extensions import db
from ..labels import label
from .models import Building, Community, Department, Grid, PropertyCompany, PropertyCompound, Street

# kind → [(field, Chinese header, English header, required)]
COLUMNS = {
    "communities": [("street", "街道", "street", True), ("name", "社区", "community", True),
                    ("aliases", "别名", "aliases", False)],
    "grids": [("code", "网格编码", "grid_code", True), ("name", "网格名称", "grid_name", True),
              ("community", "所属社区", "community", True)],
    "buildings": [("compound", "小区", "compound", True), ("number", "楼号", "number", True),
                  ("units", "单元数", "units", False), ("grid", "网格编码", "grid_code", True),
                  ("aliases", "别名", "aliases", False)],
    "departments": [("street", "街道", "street", True), ("name", "部门", "department", True),
                    ("categories", "负责类别", "categories", False)],
    "properties": [("name", "物业公司", "property_company", True), ("community", "社区", "community", True),
                   ("compound", "小区", "compound", True), ("phone", "电话", "phone", False)],
    "staff": [("username", "账号", "username", True), ("name", "姓名", "name", True),
              ("role", "角色", "role", True), ("phone", "电话", "phone", False),
              ("grid", "网格编码", "grid_code", False), ("community", "社区", "community", False),
              ("street", "街道", "street", False), ("department", "部门", "department", False),
              ("property", "物业公司", "property_company", False), ("active", "在岗", "active", False),
              ("team_role", "队伍角色", "team_role", False)],
}
SHEETS = {"communities": "社区", "grids": "网格", "buildings": "楼栋", "departments": "部门", "properties": "物业",
          "staff": "人员"}
ORDER = tuple(COLUMNS)  # parents before children
ROLES = ("grid_worker", "grid_leader", "grid_member", "community_admin", "street_admin", "department_liaison",
         "property_staff", "sysadmin")
# Which place a role's scope needs (accounts.actors reads exactly that column).
ROLE_NEEDS = {"grid_worker": "grid", "grid_leader": "grid", "grid_member": "grid", "community_admin": "community",
              "street_admin": "street", "department_liaison": "department", "property_staff": "property",
              "sysadmin": None}
_SCOPE_COLUMN = {"property": "property_company_id"}  # the others are <place>_id
_SEPARATORS = ("、", "；", ";", "，", ",", "|")


@dataclass
class Problem:
    sheet: str
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    problem: str

    def __str__(self):
        return f"{self.sheet} 第{self.row}行「{self.column}」：{self.problem}"


@dataclass
class Report:
    dry_run: bool
    counts: dict = field(default_factory=dict)  # kind → {"created": n, "updated": n, "unchanged": n}
    problems: list[Problem] = field(default_factory=list)
    passwords: dict = field(default_factory=dict)  # new staff username → first password

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, {"created": 0, "updated": 0, "unchanged": 0})[outcome] += 1


@dataclass(frozen=True)
class Scope:
    """Whose registry a file may touch (issue 24): a community's (its admin), a street's (its admin)
    or everything (None, None: the sysadmin and the command line). Every row a scoped import
    creates or changes must be in it before and after — a username, grid code or building of
    another community is refused, not taken over — and a scoped export lists only what is in it."""
    street_id: int | None = None
    community_id: int | None = None

    @property
    def whole(self) -> bool:
        return self.street_id is None and self.community_id is None

    def holds(self, street, community) -> bool:
        """Is a place (a street and/or a community row, new ones included) in this scope?"""
        if self.whole:
            return True
        if self.community_id is not None:
            return community is not None and community.id is not None and community.id == self.community_id
        street = street if street is not None else (community.street if community is not None else None)
        return street is not None and street.id is not None and street.id == self.street_id


WHOLE = Scope()


class RegistryFileError(ValidationFailed):
    code = "registry_file"


# --- reading files ----------------------------------------------------------------------------

def _kind_of(name: str) -> str | None:
    stem = Path(name).stem.lower()
    for kind, sheet in SHEETS.items():
        if stem in (kind, sheet) or stem.endswith(("_" + kind, "-" + kind)):
            return kind
    return None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decode_csv(name: str, content: bytes) -> str:
    """UTF-8 (with or without Excel's BOM), else GB18030: Excel on a Chinese Windows saves CSV in
    GBK, which GB18030 contains. Neither: the file is refused, not a server error."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RegistryFileError(f"{name}：读不出文字编码，请另存为 UTF-8 编码的 CSV")


def read_tables(files: Iterable[tuple[str, bytes]]) -> dict[str, list[list[str]]]:
    """{kind: rows (header first)} from (file name, content) pairs: XLSX workbooks or CSV files."""
    tables: dict[str, list[list[str]]] = {}
    for name, content in files:
        if name.lower().endswith((".xlsx", ".xlsm")):
            from openpyxl import load_workbook
            try:
                book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            except Exception:  # noqa: BLE001 — any unreadable workbook is the same problem to a user
                raise RegistryFileError(f"{name} 不是可读取的 XLSX 文件") from None
            for sheet in book.worksheets:
                kind = _kind_of(sheet.title)
                if kind:
                    tables[kind] = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        elif name.lower().endswith((".csv", ".txt")):
            kind = _kind_of(name)
            if kind is None:
                raise RegistryFileError(f"看不出 {name} 是哪一类（文件名应为 社区/网格/楼栋/部门/物业/人员 或英文名）")
            text = _decode_csv(name, content)
            tables[kind] = [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text))]
        else:
            raise RegistryFileError(f"{name}：只能导入 XLSX 或 CSV 文件")
    return tables


def _records(kind: str, rows: list[list[str]], report: Report) -> list[tuple[int, dict]]:
    """(row number, {field: value}) per non-empty row; header problems go to the report."""
    sheet = SHEETS[kind]
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    where = {}
    for name, zh, en, required in COLUMNS[kind]:
        index = next((i for i, h in enumerate(header) if h in (zh, en, name)), None)
        if index is None and required:
            report.problems.append(Problem(sheet, 1, zh, "缺少这一列"))
        where[name] = index
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        records.append((number, {name: (row[i] if i is not None and i < len(row) else "")
                                 for name, i in where.items()}))
    return records


def _split(value: str) -> list[str]:
    for sep in _SEPARATORS[1:]:
        value = value.replace(sep, _SEPARATORS[0])
    return [v.strip() for v in value.split(_SEPARATORS[0]) if v.strip()]


# --- importing --------------------------------------------------------------------------------

class _Known:
    """What exists, by natural key: the database's rows plus those this import creates."""

    def __init__(self, scope: Scope = WHOLE):
        self.scope = scope
        self.touched: list[tuple] = []  # (kind, row number, row, its place before) of a scoped import
        self.new_streets: list[tuple] = []
        self.row = ("", 0)
        self.streets = {s.name: s for s in db.session.scalars(select(Street))}
        self.communities = {c.name: c for c in db.session.scalars(select(Community))}
        self.grids = {g.code: g for g in db.session.scalars(select(Grid))}
        self.buildings = {(b.compound, b.number): b for b in db.session.scalars(select(Building))}
        self.departments = {d.name: d for d in db.session.scalars(select(Department))}
        self.properties = {p.name: p for p in db.session.scalars(select(PropertyCompany))}
        self.compounds = {(c.community.name, c.compound): c for c in db.session.scalars(select(PropertyCompound))}
        self.staff = {s.username: s for s in db.session.scalars(select(Staff))}


def _apply(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _upsert(report: Report, kind: str, table: dict, key, make: Callable, values: dict, known=None, number=0):
    """Update the row with this natural key, or create it with `make()` (which sets the key). With
    `known` (a scoped import) the row's place before the change is kept for `_check_scope`."""
    obj = table.get(key)
    if known is not None and obj is not None and not known.scope.whole:
        known.touched.append((kind, number, obj, _place_of(kind, obj)))
    elif known is not None and not known.scope.whole:
        known.touched.append((kind, number, None, None))
    if obj is None:
        obj = make()
        _apply(obj, values)
        db.session.add(obj)
        table[key] = obj
        report.count(kind, "created")
        if known is not None and not known.scope.whole:
            known.touched[-1] = (kind, number, obj, None)
    else:
        report.count(kind, "updated" if _apply(obj, values) else "unchanged")
    return obj


def _place_of(kind: str, obj) -> tuple:
    """(street, community) a registry row belongs to, read through its relationships (new rows too)."""
    if kind == "communities":
        return obj.street, obj
    if kind == "grids":
        return None, obj.community
    if kind == "buildings":
        return None, obj.grid.community if obj.grid is not None else None
    if kind == "departments":
        return obj.street, None
    if kind == "properties":
        return None, obj.community
    if kind == "property_companies":  # shared by compounds: in a scope when all of them are
        return _COMPANY, tuple(c.community for c in obj.compounds)
    if kind == "staff":
        if obj.grid_id:
            return None, db.session.get(Grid, obj.grid_id).community
        if obj.community_id:
            return None, db.session.get(Community, obj.community_id)
        if obj.street_id:
            return db.session.get(Street, obj.street_id), None
        if obj.department_id:
            return db.session.get(Department, obj.department_id).street, None
        if obj.property_company_id:
            return _place_of("property_companies", db.session.get(PropertyCompany, obj.property_company_id))
        return None, None  # a sysadmin: nobody's scope but the whole
    return None, None


_COMPANY = "companies"


def _holds(scope: Scope, place: tuple) -> bool:
    if place and place[0] == _COMPANY:
        return bool(place[1]) and all(scope.holds(None, c) for c in place[1])
    return scope.holds(*place)


_SCOPE_PROBLEM = "不在你管理的范围内（只能导入本社区或本街道的台账）"


def _check_scope(known: "_Known", report: Report) -> None:
    """Every row a scoped import touched is in its scope before (an existing row) and after."""
    for kind, number, obj, before in known.touched:
        if obj is None:
            continue
        after = _place_of(kind, obj)
        if (before is not None and not _holds(known.scope, before)) or not _holds(known.scope, after):
            sheet = SHEETS.get(kind, SHEETS["properties"])
            report.problems.append(Problem(sheet, number, _KEY_HEADER.get(kind, ""), _SCOPE_PROBLEM))
    if known.new_streets:
        report.problems.append(Problem(known.new_streets[0][0], known.new_streets[0][1], "街道",
                                       "不能新建街道（只能导入本社区或本街道的台账）"))


_KEY_HEADER = {"communities": "社区", "grids": "网格编码", "buildings": "楼号", "departments": "部门",
               "properties": "小区", "property_companies": "物业公司", "staff": "账号"}


def import_registry(files: Iterable[tuple[str, bytes]], *, dry_run: bool = False,
                    progress: Callable[[int, int], None] | None = None, scope: Scope = WHOLE) -> Report:
    """Check every row, then write them all in one transaction (or nothing: a problem or a dry run
    rolls back). `progress(done, total)` is called as rows are applied. `scope`: whose registry
    (Scope); a row outside it is a problem like any other, so nothing is imported."""
    report = Report(dry_run=dry_run)
    tables = read_tables(files)
    if not tables:
        raise RegistryFileError("文件里没有可导入的表（社区、网格、楼栋、部门、物业、人员）")
    records = {kind: _records(kind, tables.get(kind, []), report) for kind in ORDER}
    if report.problems:
        return report
    total, done = sum(len(r) for r in records.values()), 0
    known = _Known(scope)
    try:
        with db.session.no_autoflush:
            for kind in ORDER:
                for number, row in records[kind]:
                    known.row = (SHEETS[kind], number)
                    _ROW[kind](known, report, number, row)
                    done += 1
                    if progress and (done % 500 == 0 or done == total):
                        progress(done, total)
            if not scope.whole:
                _check_scope(known, report)
        if report.problems or dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if report.problems or dry_run:
        report.passwords = {}
    return report


def _need(report: Report, kind: str, number: int, row: dict, *names: str) -> bool:
    missing = [n for n in names if not row.get(n)]
    for n in missing:
        report.problems.append(Problem(SHEETS[kind], number, _header(kind, n), "不能为空"))
    return not missing


def _header(kind: str, name: str) -> str:
    return next(zh for n, zh, _, _ in COLUMNS[kind] if n == name)


def _int(report, kind, number, name, value, *, default=None, low=1, high=9999):
    if value == "" and default is not None:
        return default
    try:
        result = int(float(value))
    except ValueError:
        result = None
    if result is None or not low <= result <= high:
        report.problems.append(Problem(SHEETS[kind], number, _header(kind, name), f"应为 {low}–{high} 的整数，而不是「{value}」"))
        return None
    return result


def _street(known: _Known, report: Report, name: str) -> Street:
    street = known.streets.get(name)
    if street is None:
        known.new_streets.append(known.row)
        street = Street(name=name)
        db.session.add(street)
        known.streets[name] = street
        report.count("streets", "created")
    return street


def _community_row(known, report, number, row):
    if _need(report, "communities", number, row, "street", "name"):
        _upsert(report, "communities", known.communities, row["name"], lambda: Community(name=row["name"]),
                {"street": _street(known, report, row["street"]), "aliases": _split(row["aliases"])}, known, number)


def _grid_row(known, report, number, row):
    if not _need(report, "grids", number, row, "code", "name", "community"):
        return
    community = known.communities.get(row["community"])
    if community is None:
        report.problems.append(Problem("网格", number, "所属社区", f"没有社区「{row['community']}」"))
        return
    _upsert(report, "grids", known.grids, row["code"], lambda: Grid(code=row["code"]),
            {"name": row["name"], "community": community}, known, number)


def _building_row(known, report, number, row):
    if not _need(report, "buildings", number, row, "compound", "number", "grid"):
        return
    building_number = _int(report, "buildings", number, "number", row["number"])
    units = _int(report, "buildings", number, "units", row["units"], default=1, high=99)
    grid = known.grids.get(row["grid"])
    if grid is None:
        report.problems.append(Problem("楼栋", number, "网格编码", f"没有网格「{row['grid']}」"))
    if building_number is None or units is None or grid is None:
        return
    _upsert(report, "buildings", known.buildings, (row["compound"], building_number),
            lambda: Building(compound=row["compound"], number=building_number),
            {"grid": grid, "units": units, "aliases": _split(row["aliases"])}, known, number)


def _department_row(known, report, number, row):
    if not _need(report, "departments", number, row, "street", "name"):
        return
    from ..categories import taxonomy
    categories = _split(row["categories"])
    unknown = [c for c in categories if not taxonomy.is_valid(c)]
    if unknown:
        report.problems.append(Problem("部门", number, "负责类别", "不是标准类别：" + "、".join(unknown)))
        return
    _upsert(report, "departments", known.departments, row["name"], lambda: Department(name=row["name"]),
            {"street": _street(known, report, row["street"]), "categories": categories}, known, number)


def _property_row(known, report, number, row):
    if not _need(report, "properties", number, row, "name", "community", "compound"):
        return
    community = known.communities.get(row["community"])
    if community is None:
        report.problems.append(Problem("物业", number, "社区", f"没有社区「{row['community']}」"))
        return
    bound = known.compounds.get((community.name, row["compound"]))
    if bound is not None and bound.company.name != row["name"]:
        # Moving a compound to another company is done on purpose (delete, then bind), not by a typo.
        report.problems.append(Problem("物业", number, "物业公司",
                                       f"{community.name}{row['compound']}已由{bound.company.name}管理"))
        return
    company = _upsert(report, "property_companies", known.properties, row["name"],
                      lambda: PropertyCompany(name=row["name"]), {"phone": row["phone"]} if row["phone"] else {},
                      known, number)
    _upsert(report, "properties", known.compounds, (community.name, row["compound"]),
            lambda: PropertyCompound(community=community, compound=row["compound"]), {"company": company},
            known, number)


def _role(value: str) -> str | None:
    value = value.strip()
    return value if value in ROLES else next((r for r in ROLES if label("roles", r) == value), None)


def _team_role(report, number, role: str, value: str):
    """The team role the row names (Chinese or English), else the role's own; False when it names
    one the role cannot have (a grid leader is the team's leader, not a part-time member)."""
    teams = TEAM_OF_ROLE.get(role, ())
    value = value.strip()
    if not value:
        return teams[0] if teams else None
    found = value if value in TEAM_ROLES else next((t for t in TEAM_ROLES if label("team_roles", t) == value), None)
    if found not in teams:
        allowed = "、".join(label("team_roles", t) for t in teams) or "不填"
        report.problems.append(Problem("人员", number, "队伍角色", f"{label('roles', role)}的队伍角色不能是「{value}」（可填：{allowed}）"))
        return False
    return found


def _active(value: str) -> bool | None:
    v = value.strip().lower()
    return True if v in ("", "是", "在岗", "true", "1", "yes", "y") else False if v in ("否", "离岗", "停用", "false", "0", "no", "n") else None


def _staff_row(known, report, number, row):
    if not _need(report, "staff", number, row, "username", "name", "role"):
        return
    role, active = _role(row["role"]), _active(row["active"])
    if role is None:
        report.problems.append(Problem("人员", number, "角色", f"没有角色「{row['role']}」（可填：" +
                                       "、".join(label("roles", r) for r in ROLES) + "）"))
    if active is None:
        report.problems.append(Problem("人员", number, "在岗", f"应填 是 或 否，而不是「{row['active']}」"))
    if role is None or active is None:
        return
    if role == "sysadmin" and not known.scope.whole:
        report.problems.append(Problem("人员", number, "角色", "不能导入系统管理员账号"))
        return
    team_role = _team_role(report, number, role, row["team_role"])
    if team_role is False:
        return
    places = {"grid": (known.grids, "网格编码"), "community": (known.communities, "社区"),
              "street": (known.streets, "街道"), "department": (known.departments, "部门"),
              "property": (known.properties, "物业公司")}
    needs = ROLE_NEEDS[role]
    found = {}
    for place, (table, header) in places.items():
        if row[place] and row[place] not in table:
            report.problems.append(Problem("人员", number, header, f"没有「{row[place]}」"))
            return
        found[place] = table.get(row[place]) if row[place] else None
    if needs and found[needs] is None:
        report.problems.append(Problem("人员", number, places[needs][1], f"{label('roles', role)}必须填写{places[needs][1]}"))
        return
    values = {"name": row["name"], "role": role, "team_role": team_role, "phone": row["phone"] or None, "active": active,
              "grid_id": None, "community_id": None, "street_id": None, "department_id": None,
              "property_company_id": None}
    # A role's scope is the one column it names (accounts.actors); the others stay empty.
    if needs:
        values[_SCOPE_COLUMN.get(needs, f"{needs}_id")] = _id_of(found[needs])

    def new_staff():
        password = secrets.token_urlsafe(9)
        staff = Staff(username=row["username"])
        staff.set_password(password)
        report.passwords[row["username"]] = password
        return staff
    _upsert(report, "staff", known.staff, row["username"], new_staff, values, known, number)


def _id_of(obj) -> int:
    if obj.id is None:
        db.session.flush()  # created earlier in this import: it needs its id now
    return obj.id


_ROW = {"communities": _community_row, "grids": _grid_row, "buildings": _building_row,
        "departments": _department_row, "properties": _property_row, "staff": _staff_row}


# --- exporting --------------------------------------------------------------------------------

def _rows_of(kind: str, scope: Scope = WHOLE) -> list[list]:
    def mine(objs, of=kind):
        return [o for o in objs if scope.whole or _holds(scope, _place_of(of, o))]
    if kind == "communities":
        return [[c.street.name, c.name, "、".join(c.aliases or [])]
                for c in mine(db.session.scalars(select(Community).order_by(Community.name)))]
    if kind == "grids":
        return [[g.code, g.name, g.community.name] for g in mine(db.session.scalars(select(Grid).order_by(Grid.code)))]
    if kind == "buildings":
        return [[b.compound, b.number, b.units, b.grid.code, "、".join(b.aliases or [])]
                for b in mine(db.session.scalars(select(Building).order_by(Building.compound, Building.number)))]
    if kind == "departments":
        return [[d.street.name, d.name, "、".join(d.categories or [])]
                for d in mine(db.session.scalars(select(Department).order_by(Department.name)))]
    if kind == "properties":
        return [[c.company.name, c.community.name, c.compound, c.company.phone or ""]
                for c in mine(db.session.scalars(select(PropertyCompound).join(PropertyCompany)
                                                 .order_by(PropertyCompany.name, PropertyCompound.id)))]
    grids = {g.id: g.code for g in db.session.scalars(select(Grid))}
    communities = {c.id: c.name for c in db.session.scalars(select(Community))}
    streets = {s.id: s.name for s in db.session.scalars(select(Street))}
    departments = {d.id: d.name for d in db.session.scalars(select(Department))}
    properties = {p.id: p.name for p in db.session.scalars(select(PropertyCompany))}
    return [[s.username, s.name, label("roles", s.role), s.phone or "", grids.get(s.grid_id, ""),
             communities.get(s.community_id, ""), streets.get(s.street_id, ""),
             departments.get(s.department_id, ""), properties.get(s.property_company_id, ""),
             "是" if s.active else "否", label("team_roles", s.team_role) if s.team_role else ""]
            for s in mine(db.session.scalars(select(Staff).order_by(Staff.username)))]


def export_registry(template: bool = False, scope: Scope = WHOLE) -> bytes:
    """The registry as an XLSX workbook in the import's own format (headers only for a template);
    with a `scope`, only its rows (a community's or a street's own sheet, which imports back)."""
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    for kind in ORDER:
        sheet = book.create_sheet(SHEETS[kind])
        sheet.append([zh for _, zh, _, _ in COLUMNS[kind]])
        for row in ([] if template else _rows_of(kind, scope)):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
