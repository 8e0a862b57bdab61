#!/usr/bin/env bash
# Builds the release library and build/capi, the C ABI benchmark program (benches/capi.c) that
# scripts/bench-redis.sh and scripts/bench-hazelcast.sh run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
ln -sf libsessionstore.so target/release/libsessionstore.so.0 # the SONAME the program asks for
mkdir -p build
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Iinclude benches/capi.c \
  -o build/capi -Ltarget/release -lsessionstore -lpthread \
  -Wl,-rpath,"$PWD/target/release"
