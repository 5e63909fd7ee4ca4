"""Backups (docs/operations.md): scripts/backup.sh copies a SQLite database with orders, their
events and the registry (streets, communities, grids, buildings, departments, staff) and the photos;
scripts/restore.sh brings it back into a fresh file, migrates it and rebuilds the Redis queues.
Every table comes back row for row, and every waiting order is in exactly its one queue. Always on
SQLite, whatever TEST_DATABASE_URL says: these are its own files."""
import os
import sqlite3
import subprocess
import sys

import redis as redis_lib

from bench.reconcile import queue_membership
from tests.conftest import ROOT

WAITING = ("submitted", "escalated", "reopened")


def _tables(path) -> dict:
    with sqlite3.connect(path) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {n: sorted(map(repr, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}


def test_a_backup_restored_into_a_fresh_file_brings_everything_back(redis_url, tmp_path):
    source, target, uploads = tmp_path / "live.sqlite3", tmp_path / "restored.sqlite3", tmp_path / "uploads"
    queues_url = redis_url.rsplit("/", 1)[0] + "/11"
    redis_lib.Redis.from_url(queues_url).flushdb()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{source}", "REDIS_URL": queues_url,
           "UPLOAD_DIR": str(uploads), "SECRET_KEY": "backup-test", "RED_MAILBOX_ENV": "development"}
    env.pop("FLASK_APP", None)
    subprocess.run([sys.executable, "-m", "bench.load_world", "--residents", "3"], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    (uploads / "2026" / "12").mkdir(parents=True)
    (uploads / "2026" / "12" / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo")
    before = _tables(source)
    assert before["orders"] and before["order_events"] and before["grids"] and before["staff"]

    backup = subprocess.run([str(ROOT / "scripts/backup.sh"), str(tmp_path / "backups")], env=env, cwd=ROOT,
                            check=True, capture_output=True, text=True, timeout=120).stdout.strip().splitlines()[-1]
    source.unlink()  # the disaster
    os.rename(uploads, tmp_path / "uploads-lost")
    restored_env = {**env, "DATABASE_URL": f"sqlite:///{target}"}
    restore = subprocess.run([str(ROOT / "scripts/restore.sh"), backup], env=restored_env, cwd=ROOT,
                             capture_output=True, text=True, timeout=300)
    assert restore.returncode == 0, restore.stderr[-3000:]

    assert _tables(target) == before
    assert (uploads / "2026" / "12" / "photo.jpg").read_bytes() == b"\xff\xd8\xff\xe0 a photo"
    with sqlite3.connect(target) as conn:
        waiting = {n for (n,) in conn.execute(f"SELECT number FROM orders WHERE state IN {WAITING!r}")}
    membership = queue_membership(redis_lib.Redis.from_url(queues_url, decode_responses=True))
    assert set(membership) == waiting and waiting
    assert all(len(keys) == 1 for keys in membership.values())
    assert f"{len(waiting)} waiting orders queued" in restore.stdout
    # A second restore over the live file needs --force: nobody overwrites a database by accident.
    again = subprocess.run([str(ROOT / "scripts/restore.sh"), backup], env=restored_env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "--force" in again.stderr
