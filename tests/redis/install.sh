#!/usr/bin/env bash
# Installs redis-server, redis-cli and openssl from Debian when missing, without starting the
# packaged service. Idempotent: a no-op when all is there. Run by harness.sh, and by
# `make test-tools` beside the build.
set -euo pipefail

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "harness: installing redis-server and redis-tools" >&2
  export DEBIAN_FRONTEND=noninteractive
  # policy-rc.d 101: the package must not start its own service. A policy the machine already
  # has is put back afterwards, byte for byte.
  policy=/usr/sbin/policy-rc.d
  saved=$(mktemp)
  had_policy=false
  if [ -e "$policy" ]; then cp -p "$policy" "$saved"; had_policy=true; fi
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server redis-tools >/dev/null || { $had_policy && cp -p "$saved" "$policy" || rm -f "$policy"; exit 1; }
  if $had_policy; then cp -p "$saved" "$policy"; else rm -f "$policy"; fi
  rm -f "$saved"
fi
command -v openssl >/dev/null || { apt-get install -y -qq openssl >/dev/null; }
