#!/usr/bin/env bash
# Installs what a fresh machine lacks for `make test`. Idempotent: a no-op when all is there.
set -euo pipefail

need_apt=()
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v cc >/dev/null || need_apt+=(gcc)
if ((${#need_apt[@]})); then
    echo "setup: installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
