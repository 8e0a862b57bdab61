#!/usr/bin/env bash
# Installs what a fresh machine lacks for `make test`. Idempotent: a no-op when all is there.
set -euo pipefail

need_apt=()
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v cc >/dev/null || need_apt+=(gcc)
command -v pkg-config >/dev/null || need_apt+=(pkgconf)
command -v readelf >/dev/null || need_apt+=(binutils)
command -v javac >/dev/null || need_apt+=(default-jdk-headless)
command -v mvn >/dev/null || need_apt+=(maven)
python3 -c "import venv, ensurepip" 2>/dev/null || need_apt+=(python3-venv)
if ((${#need_apt[@]})); then
    echo "setup: installing ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
