#!/usr/bin/env bash
# The several-node topology of issue 22 on this machine (bench/cluster.py): 2 web nodes behind
# HAProxy, 2 RQ worker groups, Redis primary + replica under 3 Sentinels, PostgreSQL through
# pgbouncer, photos on the S3 server, the WeChat stub — every process private, stopped on exit.
# --replica adds a PostgreSQL streaming replica the web nodes read the dashboard, 公示, 考核 and
# exports from (the drill reads them under load, then kills the replica and reads them again).
# With --bot also 2 Rasa replicas and 2 action servers behind HAProxy, their Redis tracker and lock
# stores reached through HAProxy's TCP front to the Redis primary (docs/architecture.md, "Rasa: 2 replicas").
#
#   scripts/cluster.sh up [--bot] [--replica]          start it, print the addresses; Ctrl-C stops it
#   scripts/cluster.sh drill [--n 300] [--c 8] [--replica] [--benchmarks] [--bot [--conversations 8] [--turns 6]]
#                                                      load + SIGKILL a web node, a worker group and the
#                                                      Redis primary (with --bot also a Rasa replica and
#                                                      an action server, under chat load); reconcile
#                                                      (chat: every turn in its tracker once, in order);
#                                                      exit 1 on any loss
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -x .venv/bin/python ] && [ -x /usr/sbin/haproxy ] && command -v redis-sentinel >/dev/null && [ -x /usr/sbin/pgbouncer ] \
  && [ -x bot/.venv/bin/rasa ] && [ -f bot/models/current.tar.gz ] || scripts/setup.sh
exec .venv/bin/python -m bench.cluster "${@:-up}"
