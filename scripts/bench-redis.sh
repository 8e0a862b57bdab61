#!/usr/bin/env bash
# The Redis benchmarks (a benchmark, not a test), through the C ABI (benches/capi.c):
#
# - standalone: our set/get, sequentially and from 32 threads sharing one factory, beside
#   redis-benchmark HSET/HGET with -c 1 -P 1 and -c 32 -P 1 on the same throwaway redis-server;
# - cluster: the same on a throwaway three-master Redis Cluster, redis-benchmark on the master
#   that owns our sequential session's slot (its key shares the slot through a hash tag);
# - near cache: hot-session get on redis://?near_cache=1000 beside get on memory://.
#
# All servers listen on 127.0.0.1 only, without persistence (fsync would measure the disk), and
# are stopped by PID. Rounds alternate redis-benchmark and ours, so a change of load touches
# both; prints each round's ratios and their medians.
#
#   scripts/bench-redis.sh [SEQ_OPS=20000] [OPS_PER_THREAD=3000] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SEQ=${1:-20000}
PER=${2:-3000}
ROUNDS=${3:-3}
THREADS=32
GET_FACTOR=50 # memory and near-cache reads are ~100x faster than a round trip

scripts/build-capi.sh

# The harness installs redis-server when missing.
command -v redis-benchmark >/dev/null || tests/redis/harness.sh true
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cluster_port() { # a free port whose cluster bus port (+10000) is free and below 65536 too
  python3 -c '
import random, socket
while True:
    p = random.randrange(20000, 40000)
    try:
        for q in (p, p + 10000):
            socket.socket().bind(("127.0.0.1", q))
        print(p)
        break
    except OSError:
        pass
'
}
serve() { # port extra-args…: a redis-server in the background, waited for
  mkdir -p "$dir/$1"
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --dir "$dir/$1" --logfile "$dir/$1/log" "${@:2}" &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return; sleep 0.1; done
  echo "redis-server on $1 did not start" >&2
  exit 1
}
rb() { # port clients requests command…  -> requests per second
  redis-benchmark -h 127.0.0.1 -p "$1" -c "$2" -P 1 -n "$3" -q "${@:4}" |
    tr "\r" "\n" | grep -o "[0-9.]* requests per second" | tail -1 | cut -d" " -f1
}
ours() { echo "$1" | awk -v n="$2" '$1==n {print $4}'; }

# against URL, redis-benchmark on PORT with KEY: one row per round (redis-benchmark's four
# numbers, then ours).
against() {
  local url=$1 port=$2 key=$3 out
  redis-cli -p "$port" hset "$key" field value-of-16-byte >/dev/null
  for _ in $(seq "$ROUNDS"); do
    local rs1 rg1 rs32 rg32
    rs1=$(rb "$port" 1 "$SEQ" HSET "$key" field value-of-16-byte)
    rg1=$(rb "$port" 1 "$SEQ" HGET "$key" field)
    rs32=$(rb "$port" 32 "$((PER * THREADS))" HSET "$key" field value-of-16-byte)
    rg32=$(rb "$port" 32 "$((PER * THREADS))" HGET "$key" field)
    out=$(build/capi "$url" "$SEQ" "$THREADS" "$PER")
    echo "$rs1 $rg1 $rs32 $rg32 $(ours "$out" seq_set) $(ours "$out" seq_get) $(ours "$out" seq_set_many10) $(ours "$out" par_set) $(ours "$out" par_get)"
  done
}

report() { # title, rows on stdin
  python3 -c '
import statistics, sys
title = sys.argv[1]
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
names = ["sequential get latency ratio  ", "sequential set latency ratio  ",
         "32-thread get throughput ratio", "32-thread set throughput ratio",
         "set_many(10) / set time ratio "]
targets = ["<= 1.15x", "<= 1.3x", ">= 1.0x", ">= 1.0x", "<= 1.3x"]
print(f"== {title}")
per_round = []
for i, (rs1, rg1, rs32, rg32, s, g, m, ps, pg) in enumerate(rows, 1):
    print(f"round {i}: redis-benchmark -c 1 HSET {rs1:.0f}/s HGET {rg1:.0f}/s, -c 32 HSET {rs32:.0f}/s HGET {rg32:.0f}/s")
    print(f"         ours seq set {s:.0f}/s get {g:.0f}/s set_many(10) {m:.0f}/s, 32 threads set {ps:.0f}/s get {pg:.0f}/s")
    per_round.append([rg1 / g, rs1 / s, pg / rg32, ps / rs32, s / m])
for k, name in enumerate(names):
    each = " ".join(f"{rr[k]:.2f}x" for rr in per_round)
    print(f"{name} median {statistics.median(rr[k] for rr in per_round):.2f}x (target {targets[k]}); rounds: {each}")
' "$1"
}

# Standalone.
port=$(free_port)
serve "$port"
against "redis://127.0.0.1:$port?prefix=bench" "$port" bench:h | report "redis:// beside redis-benchmark"

# Near cache: the same server, hot reads beside memory://.
for _ in $(seq "$ROUNDS"); do
  mem=$(build/capi "memory://" "$SEQ" "$THREADS" "$PER" "$GET_FACTOR")
  near=$(build/capi "redis://127.0.0.1:$port?prefix=near&near_cache=1000" "$SEQ" "$THREADS" "$PER" "$GET_FACTOR")
  echo "$(ours "$mem" seq_get) $(ours "$near" seq_get) $(ours "$mem" par_get) $(ours "$near" par_get)"
done | python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
print("== redis://?near_cache=1000 hot get beside memory:// get")
for i, (m1, n1, m32, n32) in enumerate(rows, 1):
    print(f"round {i}: memory seq {m1:.0f}/s 32 threads {m32:.0f}/s; near cache seq {n1:.0f}/s 32 threads {n32:.0f}/s")
seq = [m1 / n1 for m1, n1, _, _ in rows]
par = [m32 / n32 for _, _, m32, n32 in rows]
print(f"sequential get latency ratio   median {statistics.median(seq):.2f}x (target <= 2x); rounds: " + " ".join(f"{r:.2f}x" for r in seq))
print(f"32-thread get time ratio       median {statistics.median(par):.2f}x (target <= 2x); rounds: " + " ".join(f"{r:.2f}x" for r in par))
'

# Cluster: three masters, no replicas.
nodes=()
for _ in 1 2 3; do
  p=$(cluster_port)
  serve "$p" --cluster-enabled yes --cluster-config-file "$dir/nodes-$p.conf" --cluster-node-timeout 5000
  nodes+=("127.0.0.1:$p")
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
seed=${nodes[0]#*:}
for n in "${nodes[@]}"; do
  for _ in $(seq 200); do redis-cli -p "${n#*:}" cluster info | grep -q "cluster_state:ok" && break; sleep 0.1; done
done
slot=$(redis-cli -p "$seed" cluster keyslot bench:bench-seq)
# CLUSTER NODES: "id ip:port@cport flags master epoch … link-state slot-range…".
owner=$(redis-cli -p "$seed" cluster nodes | awk -v slot="$slot" '$3 ~ /master/ {
  for (i = 9; i <= NF; i++) { n = split($i, r, "-"); if (n == 1) r[2] = r[1]
    if (slot >= r[1] && slot <= r[2]) { split($2, a, "[:@]"); print a[2] } } }')
cluster_url="redis+cluster://$(IFS=,; echo "${nodes[*]}")?prefix=bench"
against "$cluster_url" "$owner" "{bench:bench-seq}:rb" | report "redis+cluster:// beside redis-benchmark on the owning master"
