#!/usr/bin/env bash
# Run the Rasa server (REST API + REST channel) on ${RASA_HOST:-127.0.0.1}:${RASA_PORT:-5005} with the
# trained model. Its HTTP API (--auth-token) and its REST webhook (bot/credentials.yml) both want
# RASA_AUTH_TOKEN; it calls the action server with ACTIONS_SECRET (bot/endpoints.yml).
# Tracker and lock store in Redis: REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_DB (REDIS_BOT_DB wins).
# Actions at ${ACTIONS_URL:-http://127.0.0.1:$ACTIONS_PORT}/webhook. Extra arguments go to `rasa run`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/bot-env.sh"
if [ ! -f "$root/bot/models/current.tar.gz" ]; then
  "$root/scripts/bot-train.sh" >/dev/null
fi
cd "$root/bot"
# glibc gives each thread that allocates its own malloc arena, and raises its mmap threshold as
# large blocks are freed, so TensorFlow's loading buffers stay on the heap, resident. Two arenas
# alone did not move it here (1,045 MB after start); a fixed mmap threshold hands blocks of 64 KB
# and more back to the kernel when freed: 888 MB after start and after 30 turns (measured by hand
# 2026-12-02; make bench: bot reports it under load).
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-65536}
# BOT_NICE (default 0) runs the bot below the web workers' priority, so that on a small machine
# Rasa's threads cannot hold up WeChat's 5-second acknowledgement or intake; the bot lags
# instead. Off by default: at 200 pushes/s here (2 cores, shared) nice 10 moved neither the ack p99
# nor its ratio to the bare ceiling (BENCHMARKS.md, "WeChat callback"): the web side was short of
# CPU with or without the bot.
exec nice -n "${BOT_NICE:-0}" .venv/bin/rasa run --enable-api --interface "$RASA_HOST" --port "$RASA_PORT" \
  --auth-token "$RASA_AUTH_TOKEN" --credentials credentials.yml \
  --model models/current.tar.gz --endpoints endpoints.yml "$@"
