#!/usr/bin/env bash
# Run the Rasa action server on ${ACTIONS_PORT:-5055}. It calls the backend at
# ${BACKEND_URL:-http://127.0.0.1:5000} with "Authorization: Bearer $BOT_SERVICE_TOKEN".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/bot-env.sh"
cd "$root"
scripts/venv.sh bot/.venv bot/requirements.txt >&2
cd bot
# Below the web workers' priority, as the Rasa server (scripts/bot-serve.sh says why).
exec nice -n "${BOT_NICE:-0}" .venv/bin/python -m rasa_sdk --actions actions --port "$ACTIONS_PORT" "$@"
