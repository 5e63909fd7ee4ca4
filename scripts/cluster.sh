#!/usr/bin/env bash
# The several-node topology of issue 22 on this machine (bench/cluster.py): 2 web nodes behind
# HAProxy, 2 RQ worker groups, Redis primary + replica under 3 Sentinels, PostgreSQL through
# pgbouncer, photos on the S3 server, the WeChat stub — every process private, stopped on exit.
# --replica adds a PostgreSQL streaming replica the web nodes read the dashboard, 公示, 考核 and
# exports from (the drill reads them under load, then kills the replica and reads them again).
#
#   scripts/cluster.sh up [--replica]                  start it, print the addresses; Ctrl-C stops it
#   scripts/cluster.sh drill [--n 300] [--c 8] [--replica] [--benchmarks]
#                                                      load + SIGKILL a web node, a worker group and the
#                                                      Redis primary; reconcile; exit 1 on any loss
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -x .venv/bin/python ] && [ -x /usr/sbin/haproxy ] && command -v redis-sentinel >/dev/null && [ -x /usr/sbin/pgbouncer ] \
  || scripts/setup.sh
exec .venv/bin/python -m bench.cluster "${@:-up}"
