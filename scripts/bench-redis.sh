#!/usr/bin/env bash
# The Redis benchmark of issue 4 (a benchmark, not a test): our C ABI set/get, sequentially
# and from 32 threads sharing one factory, beside redis-benchmark HSET/HGET with -c 1 -P 1 and
# -c 32 -P 1, all against one throwaway redis-server on 127.0.0.1. Prints the ratios of each
# round and their medians; rounds alternate redis-benchmark and ours, so a change of load
# touches both.
#
#   scripts/bench-redis.sh [SEQ_OPS=20000] [OPS_PER_THREAD=3000] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SEQ=${1:-20000}
PER=${2:-3000}
ROUNDS=${3:-3}
THREADS=32

cargo build --release --quiet
mkdir -p build
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Iinclude benches/redis_capi.c \
  -o build/redis_capi -Ltarget/release -lsessionstore -lpthread \
  -Wl,-rpath,"$PWD/target/release"

# The harness installs redis-server when missing; the benchmark's server is its own, without
# AOF (the harness's standalone fsyncs every write, which would measure the disk).
command -v redis-benchmark >/dev/null || tests/redis/harness.sh true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  --dir "$dir" --logfile "$dir/log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
url="redis://127.0.0.1:$port"

rb() { # clients requests command…  -> requests per second
  redis-benchmark -h 127.0.0.1 -p "$port" -c "$1" -P 1 -n "$2" -q "${@:3}" |
    tr "\r" "\n" | grep -o "[0-9.]* requests per second" | tail -1 | cut -d" " -f1
}
redis-cli -p "$port" hset bench:h field value-of-16-byte >/dev/null
rows=()
for round in $(seq "$ROUNDS"); do
  rb_set1=$(rb 1 "$SEQ" HSET bench:h field value-of-16-byte)
  rb_get1=$(rb 1 "$SEQ" HGET bench:h field)
  rb_set32=$(rb 32 "$((PER * THREADS))" HSET bench:h field value-of-16-byte)
  rb_get32=$(rb 32 "$((PER * THREADS))" HGET bench:h field)
  out=$(build/redis_capi "$url?prefix=bench" "$SEQ" "$THREADS" "$PER")
  ours() { echo "$out" | awk -v n="$1" '$1==n {print $4}'; }
  rows+=("$rb_set1 $rb_get1 $rb_set32 $rb_get32 $(ours seq_set) $(ours seq_get) $(ours seq_set_many10) $(ours par_set) $(ours par_get)")
done
printf '%s\n' "${rows[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
names = ["sequential get latency ratio  ", "sequential set latency ratio  ",
         "32-thread get throughput ratio", "32-thread set throughput ratio",
         "set_many(10) / set time ratio "]
targets = ["<= 1.15x", "<= 1.3x", ">= 1.0x", ">= 1.0x", "<= 1.3x"]
def ratios(r):
    rs1, rg1, rs32, rg32, s, g, m, ps, pg = r
    return [rg1 / g, rs1 / s, pg / rg32, ps / rs32, s / m]
for i, r in enumerate(rows, 1):
    rs1, rg1, rs32, rg32, s, g, m, ps, pg = r
    print(f"round {i}: redis-benchmark -c 1 HSET {rs1:.0f}/s HGET {rg1:.0f}/s, -c 32 HSET {rs32:.0f}/s HGET {rg32:.0f}/s")
    print(f"         ours seq set {s:.0f}/s get {g:.0f}/s set_many(10) {m:.0f}/s, 32 threads set {ps:.0f}/s get {pg:.0f}/s")
per_round = [ratios(r) for r in rows]
for k, name in enumerate(names):
    each = " ".join(f"{rr[k]:.2f}x" for rr in per_round)
    print(f"{name} median {statistics.median(rr[k] for rr in per_round):.2f}x (target {targets[k]}); rounds: {each}")
'
