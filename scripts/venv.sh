#!/usr/bin/env bash
# Create (or reuse) a virtualenv keyed by the content of its requirements file.
#   scripts/venv.sh <link-path> <requirements.txt>
# The venv itself lives in a content-addressed cache ($RED_MAILBOX_CACHE, default
# ~/.cache/red-mailbox/venvs/<name>-<hash>) and <link-path> is a symlink to it, so a
# fresh clone on the same machine reuses it instantly and a changed requirements
# file builds a new one without touching the old. Re-running changes nothing.
set -euo pipefail
link=$1
req=$2
here=$(cd "$(dirname "$0")" && pwd)
py=$("$here/find-python310.sh")
cache=${RED_MAILBOX_CACHE:-$HOME/.cache/red-mailbox}/venvs
name=$(echo "$req" | sed "s#^\./##; s#[/.]#-#g")
hash=$( (cat "$req"; "$py" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)
target=$cache/$name-$hash
mkdir -p "$cache"
# Two setups at once (parallel worktrees, CI beside a session) must not build the same venv
# together: the second would delete the first's half-built tree under its running pip.
exec 9>"$target.lock"
flock 9
if [ ! -f "$target/.complete" ]; then
  echo "==> building virtualenv for $req in $target"
  # An interrupted build leaves no .complete marker: start it over.
  rm -rf "$target"
  "$py" -m venv "$target"
  "$target/bin/python" -m pip install -q --upgrade pip setuptools wheel
  "$target/bin/python" -m pip install --progress-bar on -r "$req"
  touch "$target/.complete"
fi
if [ "$(readlink "$link" 2>/dev/null)" != "$target" ]; then
  rm -rf "$link"
  ln -s "$target" "$link"
fi
