#!/usr/bin/env bash
# Run the Rasa action server on ${ACTIONS_HOST:-127.0.0.1}:${ACTIONS_PORT:-5055}, answering only calls
# with "X-Actions-Secret: $ACTIONS_SECRET" (bot/actions_server.py). It calls the backend at
# ${BACKEND_URL:-http://127.0.0.1:5000} with "Authorization: Bearer $BOT_SERVICE_TOKEN".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/bot-env.sh"
cd "$root"
scripts/venv.sh bot/.venv bot/requirements.txt >&2
cd bot
# Below the web workers' priority, as the Rasa server (scripts/bot-serve.sh says why).
exec nice -n "${BOT_NICE:-0}" .venv/bin/python actions_server.py --actions actions --host "$ACTIONS_HOST" --port "$ACTIONS_PORT" "$@"
