#!/usr/bin/env bash
# Run the Rasa server (REST API + REST channel) on ${RASA_PORT:-5005} with the trained model.
# Tracker and lock store in Redis: REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_DB (REDIS_BOT_DB wins).
# Actions at ${ACTIONS_URL:-http://127.0.0.1:$ACTIONS_PORT}/webhook. Extra arguments go to `rasa run`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/bot-env.sh"
if [ ! -f "$root/bot/models/current.tar.gz" ]; then
  "$root/scripts/bot-train.sh" >/dev/null
fi
cd "$root/bot"
# glibc gives each thread that allocates its own malloc arena; TensorFlow's thread pools leave
# ~270 MB of them resident (1068 -> 793 MB RSS after start with two arenas, make bench: bot).
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
# BOT_NICE (default 0) runs the bot below the web workers' priority, so that on a small machine
# Rasa's threads cannot hold up WeChat's 5-second acknowledgement or intake; the bot lags
# instead. Off by default: at 200 pushes/s here (2 cores, shared) nice 10 moved neither the ack p99
# nor its ratio to the bare ceiling (BENCHMARKS.md, "WeChat callback"): the web side was short of
# CPU with or without the bot.
exec nice -n "${BOT_NICE:-0}" .venv/bin/rasa run --enable-api --port "$RASA_PORT" \
  --model models/current.tar.gz --endpoints endpoints.yml "$@"
