#!/usr/bin/env bash
# Quality gates of the bot; exits non-zero when one fails.
#   1. rasa data validate --fail-on-warnings
#   2. rasa test core on bot/tests/test_stories.yml — every story must pass
#   3. action unit tests (pytest, tracker snapshots, backend mocked with `responses`)
#   4. NLU evaluation on the held-out split (never trained on) → bot/reports/, macro-F1 gate
#   5. NLU evaluation on the frozen chat set written apart from the training data
#      (bot/eval/chat_intents.yml) → bot/reports/chat_summary.md, macro-F1 gate
# Reuses the cached model (scripts/bot-train.sh trains only when data/config changed).
# BOT_MIN_MACRO_F1 overrides the held-out gate (default 0.90), BOT_MIN_CHAT_F1 the chat gate (0.92).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export RASA_TELEMETRY_ENABLED=false
min_f1=${BOT_MIN_MACRO_F1:-0.90}
min_chat_f1=${BOT_MIN_CHAT_F1:-0.92}
failed=()

scripts/bot-train.sh >/dev/null || { echo "bot-check: training failed" >&2; exit 1; }
cd bot
rasa=.venv/bin/rasa

echo "==> [1/5] rasa data validate --fail-on-warnings"
if ! $rasa data validate --fail-on-warnings --config config.yml --domain domain \
     --data data ../intents/nlu ../intents/lookups > results-validate.log 2>&1; then
  tail -n 30 results-validate.log >&2; failed+=("data validate")
fi
mkdir -p results && mv -f results-validate.log results/validate.log

echo "==> [2/5] rasa test core (bot/tests/test_stories.yml)"
rm -rf results/core
if $rasa test core --model models/current.tar.gz --stories tests/test_stories.yml \
     --out results/core --no-plot --fail-on-prediction-errors > results/core.log 2>&1; then
  if [ -s results/core/failed_test_stories.yml ] && grep -q "story:" results/core/failed_test_stories.yml; then
    cat results/core/failed_test_stories.yml >&2; failed+=("core stories")
  fi
else
  tail -n 40 results/core.log >&2
  [ -f results/core/failed_test_stories.yml ] && cat results/core/failed_test_stories.yml >&2
  failed+=("core stories")
fi

echo "==> [3/5] action unit tests"
.venv/bin/python -m pytest -q tests/actions || failed+=("action tests")

echo "==> [4/5] NLU on the held-out split"
rm -rf results/nlu
if $rasa test nlu --model models/current.tar.gz --nlu build/data/nlu_test.yml \
     --out results/nlu --no-plot > results/nlu.log 2>&1; then
  .venv/bin/python tools/eval_nlu.py results/nlu reports "$min_f1" || failed+=("NLU macro-F1 < $min_f1")
else
  tail -n 30 results/nlu.log >&2; failed+=("NLU evaluation")
fi

echo "==> [5/5] NLU on the frozen chat set (bot/eval/chat_intents.yml)"
rm -rf results/chat
if $rasa test nlu --model models/current.tar.gz --nlu eval/chat_intents.yml \
     --out results/chat --no-plot > results/chat.log 2>&1; then
  .venv/bin/python tools/eval_nlu.py results/chat reports "$min_chat_f1" chat || failed+=("chat macro-F1 < $min_chat_f1")
else
  tail -n 30 results/chat.log >&2; failed+=("chat evaluation")
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'bot-check FAILED: %s\n' "${failed[*]}" >&2
  exit 1
fi
echo "bot-check passed"
