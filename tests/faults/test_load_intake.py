"""bench/load_intake.py with a tiny N, so the load run cannot rot: its own private stack (gunicorn,
RQ worker, stub, redis-server, SQLite) must reconcile to zero loss. The figures of a real run are in
BENCHMARKS.md; nothing here is timed."""
import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_a_small_load_run_reconciles_to_zero_loss(tmp_path):
    run = subprocess.run([sys.executable, "-m", "bench.load_intake", "--n", "10", "--c", "3", "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    [raw] = tmp_path.glob("load_intake-*.json")
    result = json.loads(raw.read_text())
    assert result["zero_loss"] is True
    assert result["accepted"] == result["stored"] == 10 + 9 + 10  # one of ten pushes is a duplicate
    assert result["5xx"] == 0 and result["duplicates"] == 0 and result["misqueued"] == 0
    assert result["wechat_replies"] == result["distinct_pushes"] == 9
    assert "WeChat pushes: 10/10" in run.stdout  # progress is shown
