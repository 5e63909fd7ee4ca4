#!/usr/bin/env bash
# `make run`: set up what is missing, migrate and seed the database, then start every process
# of the architecture from the Procfile under honcho. Ctrl-C stops them all.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/setup.sh
mkdir -p var/redis var/uploads

export PORT=${PORT:-5000}
export RM_WEB_PORT=$PORT            # honcho overwrites PORT inside each process
export RASA_PORT=${RASA_PORT:-5005}
export ACTIONS_PORT=${ACTIONS_PORT:-5055}
export WECHAT_STUB_PORT=${WECHAT_STUB_PORT:-5100}
export RASA_URL=${RASA_URL:-http://127.0.0.1:$RASA_PORT}
export BACKEND_URL=${BACKEND_URL:-http://127.0.0.1:$PORT}
export BOT_SERVICE_TOKEN=${BOT_SERVICE_TOKEN:-dev-bot-service-token}
export RASA_AUTH_TOKEN=${RASA_AUTH_TOKEN:-dev-rasa-auth-token}   # the backend's key to Rasa
export ACTIONS_SECRET=${ACTIONS_SECRET:-dev-actions-secret}       # Rasa's key to the action server
export WECHAT_API_BASE=${WECHAT_API_BASE:-http://127.0.0.1:$WECHAT_STUB_PORT/}
export WECHAT_OAUTH_BASE=${WECHAT_OAUTH_BASE:-http://127.0.0.1:$WECHAT_STUB_PORT/connect/}
export DEMO_PASSWORD=${DEMO_PASSWORD:-demo-pass-2026}
export FLASK_APP=backend:create_app
export UPLOAD_DIR=${UPLOAD_DIR:-$root/var/uploads}

processes=(web worker-inbound worker-outbound worker-ticks worker-bulk bot actions)
if [ -z "${REDIS_URL:-}" ]; then
  export RM_REDIS_PORT=${RM_REDIS_PORT:-6390}
  export REDIS_URL=redis://127.0.0.1:$RM_REDIS_PORT/0
  processes=(redis "${processes[@]}")
  # Start it now so migrations, seeding and queue rebuilding can use it; honcho keeps it running.
  redis-cli -p "$RM_REDIS_PORT" ping >/dev/null 2>&1 || \
    redis-server --port "$RM_REDIS_PORT" --bind 127.0.0.1 --dir "$root/var/redis" --appendonly yes \
      --daemonize yes --pidfile "$root/var/redis/redis.pid" --logfile "$root/var/redis/redis.log"
fi
export REDIS_BOT_DB=${REDIS_BOT_DB:-1}
case "$WECHAT_API_BASE" in
  *127.0.0.1:$WECHAT_STUB_PORT*|*localhost:$WECHAT_STUB_PORT*) processes+=(wechat-stub) ;;
esac

echo "==> database: ${DATABASE_URL:-sqlite (var/red-mailbox.sqlite3)}"
.venv/bin/flask db upgrade
.venv/bin/flask seed-demo
.venv/bin/flask rebuild-queues 2>/dev/null || true

cat <<MSG

红色信箱 is starting (${processes[*]}):
  API + console   http://127.0.0.1:$PORT/            health: http://127.0.0.1:$PORT/healthz
  API docs        http://127.0.0.1:$PORT/api/v1/docs
  Residents (H5)  http://127.0.0.1:$PORT/m/         公示: http://127.0.0.1:$PORT/public/   Open311: http://127.0.0.1:$PORT/open311/v2/services.json
  Rasa server     $RASA_URL        actions: http://127.0.0.1:$ACTIONS_PORT
  WeChat API      $WECHAT_API_BASE  (what WeChat would have been sent: ${WECHAT_API_BASE}_stub/calls)
  Redis           $REDIS_URL
Demo staff accounts:
MSG
.venv/bin/flask accounts | sed 's/^/  /'
echo
if [ -n "${RM_REDIS_PORT:-}" ]; then
  # honcho runs redis in the foreground; hand over from the daemon started above.
  redis-cli -p "$RM_REDIS_PORT" shutdown >/dev/null 2>&1 || true
fi
# More workers of a group: WORKER_CONCURRENCY="worker-inbound=2,worker-outbound=2" (honcho's -c).
concurrency=()
[ -n "${WORKER_CONCURRENCY:-}" ] && concurrency=(-c "$WORKER_CONCURRENCY")
exec .venv/bin/honcho start -f Procfile "${concurrency[@]}" "${processes[@]}"
