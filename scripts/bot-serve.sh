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
# The bot runs below the web workers' priority (BOT_NICE, 10 by default; 0 to switch it off): on
# a small machine Rasa's TensorFlow threads take every core a turn can use, and WeChat's push
# acknowledgement (5 s or it retries), intake and the console must not wait behind them. The bot
# lags instead; its turns are queued work. See BENCHMARKS.md, "WeChat callback".
exec nice -n "${BOT_NICE:-10}" .venv/bin/rasa run --enable-api --port "$RASA_PORT" \
  --model models/current.tar.gz --endpoints endpoints.yml "$@"
