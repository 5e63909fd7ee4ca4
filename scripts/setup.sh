#!/usr/bin/env bash
# Everything `make run` and `make test` need, installed idempotently (a second run takes seconds):
# system packages (redis-server, chromium, wrk, haproxy, redis-sentinel, pgbouncer), the two Python 3.10 venvs, npm assets, the bot model.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

step() { printf '\n==> %s\n' "$*"; }

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ "${SETUP_BROWSER:-1}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
# Without a CJK font every Chinese character in a screenshot is a box.
if [ "${SETUP_BROWSER:-1}" = 1 ] && ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then need_apt+=(fonts-noto-cjk); fi
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
# The test suite drives the bench's load generators, wrk among them (make bench needs it too).
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
# The several-node drill (scripts/cluster.sh, tests/faults/test_cluster_drill.py): a load balancer,
# Redis Sentinel and pgbouncer, each run privately by the drill (the packages' own services unused).
[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1 || need_apt+=(haproxy)
command -v redis-sentinel >/dev/null 2>&1 || need_apt+=(redis-sentinel)
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || need_apt+=(pgbouncer)
if [ ${#need_apt[@]} -gt 0 ]; then
  step "installing system packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

step "backend venv (.venv)"
scripts/venv.sh .venv requirements.txt

step "object storage test server venv (.venv-s3: moto's S3 server)"
scripts/venv.sh .venv-s3 requirements-s3server.txt

step "bot venv (bot/.venv, Rasa 3.6)"
scripts/venv.sh bot/.venv bot/requirements.txt

step "npm packages (front-end assets; miniprogram-simulate and jsdom for the mini-program's tests)"
# Content-addressed like the venvs: $RED_MAILBOX_CACHE/node/<hash of package-lock.json>/node_modules,
# linked as ./node_modules, so worktrees and fresh clones share one install and a changed lockfile
# installs a new one beside the old. Scripts stay off (--ignore-scripts): nothing here needs them.
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
node_cache=${RED_MAILBOX_CACHE:-$HOME/.cache/red-mailbox}/node/$lock_hash
mkdir -p "$node_cache"
(
  flock 9
  if [ ! -f "$node_cache/.complete" ]; then
    rm -rf "$node_cache/node_modules"
    cp package.json package-lock.json "$node_cache/"
    (cd "$node_cache" && npm ci --no-audit --no-fund --ignore-scripts)
    touch "$node_cache/.complete"
  fi
) 9>"$node_cache.lock"
if [ "$(readlink node_modules 2>/dev/null)" != "$node_cache/node_modules" ]; then
  rm -rf node_modules
  ln -s "$node_cache/node_modules" node_modules
fi

step "bot model (trained only when its data or config changed)"
scripts/bot-train.sh

step "category model (trained only when its data or config changed)"
scripts/category-train.sh
