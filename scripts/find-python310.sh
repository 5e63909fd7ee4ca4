#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 supports 3.8-3.10 only).
# PYTHON310 overrides; then pyenv's 3.10.x; then python3.10 on PATH.
set -euo pipefail
is310() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
if [ -n "${PYTHON310:-}" ]; then
  is310 "$PYTHON310" && { echo "$PYTHON310"; exit 0; }
  echo "PYTHON310=$PYTHON310 is not a Python 3.10 interpreter" >&2; exit 1
fi
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -t. -k3 -n -r); do
    p="$(pyenv prefix "$v")/bin/python"
    is310 "$p" && { echo "$p"; exit 0; }
  done
fi
for p in "$(command -v python3.10 || true)" /usr/bin/python3.10 /usr/local/bin/python3.10; do
  [ -n "$p" ] && is310 "$p" && { echo "$p"; exit 0; }
done
echo "no Python 3.10 found: install it (e.g. 'pyenv install 3.10.13') or set PYTHON310" >&2
exit 1
