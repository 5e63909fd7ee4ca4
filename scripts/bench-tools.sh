#!/usr/bin/env bash
# What `make bench` needs beyond `make test`: wrk, the load generator (Debian's package). Without it
# the bench falls back to a slower Python client and says so in its figures.
set -euo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  printf '\n==> installing wrk (load generator for make bench)\n'
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wrk
fi
