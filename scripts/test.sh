#!/usr/bin/env bash
# `make test`: the whole suite — bot quality gates (data validation, test stories, action tests,
# held-out NLU evaluation) and pytest (unit, API, integration on real Redis + the DB, the real
# Rasa server end to end, WeChat against the stub, browser tests in Debian's chromium).
# TEST_DATABASE_URL=postgresql://… runs the database tests on PostgreSQL (CI does); else SQLite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh

printf '\n==> bot quality gates\n'
scripts/bot-check.sh

printf '\n==> pytest (database: %s)\n' "${TEST_DATABASE_URL:-sqlite}"
# pytest exits 5 when it collects no tests: that fails this script too.
# --durations=25: the slowest tests listed at the end, so a slower suite shows where.
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=25 tests/ "$@"
