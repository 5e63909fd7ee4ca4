"""Every word a person reads is Chinese: each refusal of each lifecycle table (every row, every
reason, every actor, every state), each input a row asks for, each HTTP status's message, and every
message a DomainError is raised with anywhere in the backend. English stays in codes and logs; a
Latin word, or a raw state/role/action code, in a message fails here."""
import ast
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from backend import errors
from backend.disputes import lifecycle as disputes
from backend.labels import _labels
from backend.lifecycle import STATUS
from backend.orders import lifecycle as orders
from backend.wishes import lifecycle as wishes

ROOT = Path(__file__).resolve().parents[2]
TABLES = (orders.TABLE, disputes.TABLE, wishes.TABLE)
# A word with a lower-case Latin letter (codes, English); XLSX, CSV or H5 are names people read.
LATIN = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*")
ERRORS = {"NotFound", "Forbidden", "Conflict", "ValidationFailed", "InvalidTransition", "Unauthorized",
          "DomainError", "refuse", "_refuse"}
# Messages for machines, not people, in English: the partner systems' Open311 API and the WeChat
# servers' callback. This list only shrinks.
MACHINES = {"backend/open311/services.py", "backend/wechat/api.py", "backend/wechat/push.py"}


def latin(text: str) -> list[str]:
    return LATIN.findall(text or "")


def _actors():
    kinds = [SimpleNamespace(kind=k, role=None, id=1, is_staff=False, is_resident=k == "resident")
             for k in ("resident", "system", "bot", "partner")]
    staff = [SimpleNamespace(kind="staff", role=r, id=1, is_staff=True, is_resident=False) for r in _labels()["roles"]]
    return kinds + staff


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_refusal_of_every_table_is_chinese(table):
    said = set()
    for row in table.rows.values():
        for why in STATUS:
            for actor in _actors():
                for state in (None, *table.states):
                    said.add(table.message(why, actor, SimpleNamespace(state=state), row))
    bad = {m: latin(m) for m in said if latin(m)}
    assert not bad, bad
    assert len(said) > len(table.rows)  # the messages name the action and state they refuse


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
def test_every_input_a_row_asks_for_has_chinese_words(table):
    asked = {name for row in table.rows.values() for names in row.requires.values() for name in names}
    bad = {name: table.words("inputs", name) for name in asked if latin(table.words("inputs", name))}
    assert not bad, bad


def test_every_http_status_has_chinese_words():
    assert set(errors.HTTP_MESSAGES) >= set(errors._HTTP_CODES)
    bad = {status: m for status, m in errors.HTTP_MESSAGES.items() if latin(m)}
    assert not bad, bad


def _raised_messages():
    """(file:line, the message's literal text) of every DomainError raised in the backend."""
    for path in sorted((ROOT / "backend").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            arg = node.args[0]
            if called not in ERRORS:
                continue
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield name, node.lineno, arg.value
            elif isinstance(arg, ast.JoinedStr):
                yield name, node.lineno, "".join(v.value for v in arg.values if isinstance(v, ast.Constant))


def test_every_message_a_domain_error_is_raised_with_is_chinese():
    found = list(_raised_messages())
    assert len(found) > 50  # the scan sees the backend's refusals
    bad = [f"{name}:{line}: {text}" for name, line, text in found if name not in MACHINES and latin(text)]
    assert not bad, "\n".join(bad)


def test_every_notice_the_outbox_may_list_has_chinese_words():
    """The outbox page names a notification's kind and channel: a raw key like assigned_to_you was
    what staff read there."""
    kinds = {p.stem for p in (ROOT / "templates" / "notifications").glob("*.txt") if not p.stem.startswith("_")}
    kinds |= {n.key for table in TABLES for row in table.rows.values() for n in row.notify} | {"reply"}
    named = _labels()["notification_kinds"]
    assert not {k for k in kinds if latin(named.get(k, k))}, kinds - set(named)
    assert all(not latin(named_channel) for named_channel in _labels()["notification_channels"].values())
    assert {"console", "wechat_cs", "wechat_subscribe"} <= set(_labels()["notification_channels"])
