#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into DATABASE_URL, migrate it to this code's schema and
# rebuild the Redis queues from it. Stop the web and worker processes first.
#   scripts/restore.sh BACKUP [--force]
# SQLite: the target file must not exist (or --force replaces it). PostgreSQL: pg_restore --clean
# replaces what the backup contains in the target database.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
backup=${1:?usage: scripts/restore.sh BACKUP [--force]}
force=${2:-}
url=${DATABASE_URL:-sqlite:///$root/var/red-mailbox.sqlite3}
python=${PYTHON:-$root/.venv/bin/python}
flask=${FLASK:-$root/.venv/bin/flask}

case "$url" in
  sqlite:///*)
    target=${url#sqlite:///}
    if [ -e "$target" ] && [ "$force" != "--force" ]; then
      echo "restore.sh: $target exists; pass --force to replace it" >&2; exit 2
    fi
    rm -f "$target" "$target-wal" "$target-shm"
    "$python" - "$backup" "$target" <<'PY'
import sqlite3, sys
source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
source.backup(target)
assert target.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "restored database failed its integrity check"
target.close(), source.close()
PY
    ;;
  postgresql*|postgres*)
    pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error \
      --dbname "$(echo "$url" | sed -E 's#^postgres(ql)?\+[a-z0-9]+://#postgresql://#')" "$backup"
    ;;
  *) echo "restore.sh: unsupported DATABASE_URL scheme: ${url%%:*}" >&2; exit 2 ;;
esac

photos="${backup%.*}.uploads.tar.gz"
if [ -f "$photos" ]; then
  mkdir -p "${UPLOAD_DIR:-$root/var/uploads}"
  tar -xzf "$photos" -C "${UPLOAD_DIR:-$root/var/uploads}"
fi
cd "$root"
"$flask" --app backend:create_app db upgrade
"$flask" --app backend:create_app rebuild-queues
