#!/usr/bin/env bash
# Back up the system of record: the database (DATABASE_URL; SQLite by default) and the residents'
# photos (UPLOAD_DIR). Redis needs no backup: `flask rebuild-queues` rebuilds it from the database.
#   scripts/backup.sh [DIR]      → DIR/red-mailbox-<UTC stamp>.{sqlite3|dump} (+ .uploads.tar.gz)
# SQLite: SQLite's online backup API, safe while the app runs (WAL included), then an integrity check.
# PostgreSQL: pg_dump in its custom format (consistent snapshot, the app may run; restore with
# scripts/restore.sh, which uses pg_restore).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/var/backups}
mkdir -p "$dest"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
url=${DATABASE_URL:-sqlite:///$root/var/red-mailbox.sqlite3}
python=${PYTHON:-$root/.venv/bin/python}

case "$url" in
  sqlite:///*)
    out="$dest/red-mailbox-$stamp.sqlite3"
    "$python" - "${url#sqlite:///}" "$out" <<'PY'
import sqlite3, sys
source, target = sqlite3.connect(sys.argv[1], timeout=30), sqlite3.connect(sys.argv[2])
source.backup(target)
assert target.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "backup failed its integrity check"
target.close(), source.close()
PY
    ;;
  postgresql*|postgres*)
    out="$dest/red-mailbox-$stamp.dump"
    # libpq does not know SQLAlchemy's driver suffix (postgresql+psycopg2://).
    pg_dump --format=custom --no-owner --no-privileges --file "$out" "$(echo "$url" | sed -E 's#^postgres(ql)?\+[a-z0-9]+://#postgresql://#')"
    ;;
  *) echo "backup.sh: unsupported DATABASE_URL scheme: ${url%%:*}" >&2; exit 2 ;;
esac

uploads=${UPLOAD_DIR:-$root/var/uploads}
if [ -d "$uploads" ] && [ -n "$(ls -A "$uploads")" ]; then
  tar -czf "${out%.*}.uploads.tar.gz" -C "$uploads" .
fi
echo "$out"
