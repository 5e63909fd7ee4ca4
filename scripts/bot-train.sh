#!/usr/bin/env bash
# Train the Rasa model unless an identical one is cached; leave it at bot/models/current.tar.gz.
#   scripts/bot-train.sh            (FORCE=1 retrains even when cached)
# The model is keyed by a hash of the NLU data (train split), rules, domain, config,
# jieba dictionary and requirements (Rasa version). Cache: ${RED_MAILBOX_CACHE:-~/.cache/red-mailbox}/models.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scripts/venv.sh bot/.venv bot/requirements.txt >&2
export RASA_TELEMETRY_ENABLED=false
cache=${RED_MAILBOX_CACHE:-$HOME/.cache/red-mailbox}/models
mkdir -p "$cache" bot/models bot/reports

cd bot
# held-out split: build/data/nlu_train.yml (trained on) and nlu_test.yml (evaluation only)
.venv/bin/python tools/split_nlu.py ../intents build/data >&2

hash=$(
  {
    find config.yml domain data jieba_dict tools/split_nlu.py requirements.txt build/data/nlu_train.yml \
      -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)
model=$cache/bot-$hash.tar.gz

if [ -f "$model" ] && [ -z "${FORCE:-}" ]; then
  echo "==> bot model up to date ($hash)" >&2
else
  echo "==> training bot model $hash (takes a few minutes)" >&2
  rm -rf build/models
  start=$(date +%s)
  .venv/bin/rasa train --config config.yml --domain domain --data data build/data/nlu_train.yml \
    --out build/models --fixed-model-name model >&2
  seconds=$(( $(date +%s) - start ))
  cp build/models/model.tar.gz "$model.tmp" && mv "$model.tmp" "$model"
  {
    echo "# Bot training time"
    echo
    echo "- model hash: \`$hash\`"
    echo "- wall-clock training time: **${seconds} s** (limit: 300 s)"
    echo "- machine: $(nproc) cores, $(uname -m); rasa $(.venv/bin/python -c 'import rasa; print(rasa.__version__)')"
    echo "- NLU split: $(cat build/data/split.txt)"
    echo "- measured on: $(date -u +%Y-%m-%dT%H:%MZ)"
  } > reports/training.md
  echo "==> trained in ${seconds}s" >&2
fi
cp "$model" models/current.tar.gz.tmp && mv models/current.tar.gz.tmp models/current.tar.gz
echo "$hash" > models/current.hash
echo "bot/models/current.tar.gz"
