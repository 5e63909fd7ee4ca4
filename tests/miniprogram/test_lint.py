"""The mini-program's WXML lint (miniprogram/tests/lint.js) passes on the mini-program and fails,
naming each, on the mistakes it is there for; and every API path the mini-program calls is a route
of the backend (a renamed endpoint fails here before a resident finds it)."""
import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.miniprogram.test_journeys import node

ROOT = Path(__file__).resolve().parents[2]
MP = ROOT / "miniprogram"
LINT = MP / "tests" / "lint.js"


def lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([node(), str(LINT), str(root)], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_the_mini_program_passes_its_lint():
    done = lint(MP)
    assert done.returncode == 0, done.stderr
    assert "clean" in done.stdout


def test_the_lint_names_each_mistake(tmp_path):
    copy = tmp_path / "mp"
    shutil.copytree(MP, copy, ignore=shutil.ignore_patterns("tests"))
    chat = copy / "pages" / "chat" / "index.wxml"
    chat.write_text(chat.read_text(encoding="utf-8")
                    .replace('bindtap="send"', 'bindtap="sendd"')
                    .replace(">发送<", ">Send<")
                    .replace('wx:key="payload"', "")
                    .replace("</textarea>", "", 1), encoding="utf-8")
    detail = copy / "pages" / "orders" / "detail.wxml"
    detail.write_text(detail.read_text(encoding="utf-8").replace('aria-label="照片{{index + 1}}"', "")
                      .replace("<view class=\"title\">照片</view>", "<marquee>照片</marquee>"), encoding="utf-8")
    app = json.loads((copy / "app.json").read_text(encoding="utf-8"))
    app["pages"].append("pages/missing/index")
    (copy / "app.json").write_text(json.dumps(app, ensure_ascii=False), encoding="utf-8")
    done = lint(copy)
    assert done.returncode == 1
    report = done.stderr
    for expected in ('bindtap="sendd" names no method', 'text "Send" is not Chinese', "wx:for without wx:key",
                     "<textarea> of line", "<image> without aria-label", "<marquee> is neither",
                     "pages/missing/index.json: missing"):
        assert expected in report, (expected, report)


def test_every_api_path_the_mini_program_calls_is_a_backend_route(app):
    called = set()
    for source in MP.rglob("*.js"):
        if "tests" in source.parts:
            continue
        for literal in re.findall(r"['`](/api/v1/[^'`?]*)", source.read_text(encoding="utf-8")):
            called.add(re.sub(r"\$\{[^}]*\}|'\s*\+.*$", "X1", literal))
    assert len(called) >= 8, called  # the scan finds the calls
    routes = [re.compile("^" + re.sub(r"<[^>]+>", "[^/]+", re.escape(rule.rule).replace(r"\<", "<").replace(r"\>", ">")
                                      .replace(r"\(", "(").replace(r"\)", ")").replace(r"\:", ":").replace(r"\,", ","))
                         + "$") for rule in app.url_map.iter_rules()]
    missing = [path for path in sorted(called)
               if not any(route.match(path + "X1" if path.endswith("/") else path) for route in routes)]
    assert not missing, missing
