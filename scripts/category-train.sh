#!/usr/bin/env bash
# Train the category model unless an identical one is cached (hash of data + configuration):
#   scripts/category-train.sh          (FORCE=1 retrains)
# Cache: ${RED_MAILBOX_CACHE:-~/.cache/red-mailbox}/categories/model-<hash>.npz; processes load it,
# with jieba's dictionary as the trie beside it (jieba-freq-<hash>.marisa, backend/categories/compact.py).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
.venv/bin/python -c "import sys; from backend.categories.training import main; sys.exit(main(['--force'] if '${FORCE:-}' else []))"
.venv/bin/python -c "import sys; from backend.categories.compact import main; sys.exit(main())"
