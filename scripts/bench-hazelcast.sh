#!/usr/bin/env bash
# The Hazelcast benchmark (a benchmark, not a test): our set/get through the C ABI
# (benches/capi.c), sequentially and from 32 threads sharing one factory, beside Hazelcast's
# official Java client doing IMap.set/get of the same value the same way
# (bindings/java/src/test/java/io/sessionstore/HazelcastBench.java), on one member.
#
# The member is the test harness's (tests/redis/harness.sh: 127.0.0.1 only, stopped by PID),
# given the full JIT and a 512 MB heap here. Rounds alternate the official client and ours, so a
# change of load touches both; prints each round's ratios (ours over the official client's
# ops/s) and their medians. Last, sets on a factory with a lease (ttl_ms=60000: a replace, then
# a setTtl) beside the official client's sets with a TTL (one request).
#
#   scripts/bench-hazelcast.sh [SEQ_OPS=20000] [OPS_PER_THREAD=3000] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
SEQ=${1:-20000}
PER=${2:-3000}
ROUNDS=${3:-3}
THREADS=32

if [ -z "${SESSIONSTORE_TEST_URLS:-}" ]; then
  scripts/build-capi.sh
  mvn -B -ntp -q -f bindings/java/pom.xml -Dsessionstore.skipCargo=true test-compile \
    dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/bindings/java/target/bench.classpath"
  SESSIONSTORE_HZ_JAVA_OPTS="-Xms512m -Xmx512m" exec tests/redis/harness.sh "$0" "$@"
fi

url=$(tr ' ' '\n' <<<"$SESSIONSTORE_TEST_URLS" | grep '^hazelcast://')
classpath="bindings/java/target/test-classes:$(cat bindings/java/target/bench.classpath)"
ours() { echo "$1" | awk -v n="$2" '$1==n {print $4}'; }
# A first round, not reported, warms the member's JIT: otherwise whichever side runs first
# pays for it.
java -cp "$classpath" io.sessionstore.HazelcastBench "$url" "$SEQ" "$THREADS" "$PER" >/dev/null
build/capi "$url?prefix=warm" "$SEQ" "$THREADS" "$PER" >/dev/null
# Each run has a prefix of its own: a session a leased run left behind keeps its lease
# deadline, and a write into it without a lease re-sets its TTL (two round trips).
for round in $(seq "$ROUNDS"); do
  official=$(java -cp "$classpath" io.sessionstore.HazelcastBench "$url" "$SEQ" "$THREADS" "$PER")
  mine=$(build/capi "$url?prefix=bench-$round" "$SEQ" "$THREADS" "$PER")
  leased=$(build/capi "$url?prefix=lease-$round&ttl_ms=60000" "$SEQ" "$THREADS" "$PER")
  row=""
  for name in seq_set seq_get par_set par_get; do
    row="$row $(ours "$official" $name) $(ours "$mine" $name)"
  done
  row="$row $(ours "$official" seq_set_ttl) $(ours "$leased" seq_set)"
  row="$row $(ours "$official" par_set_ttl) $(ours "$leased" par_set)"
  echo "$row"
done | python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
names = ["sequential set", "sequential get", "32-thread set ", "32-thread get ",
         "sequential set, lease / TTL", "32-thread set, lease / TTL "]
print("== hazelcast:// through the C ABI beside the official Java client (ops/s, ours / theirs)")
for i, row in enumerate(rows, 1):
    print(f"round {i}: " + "; ".join(f"{n.strip()} {row[2*k]:.0f}/s vs ours {row[2*k+1]:.0f}/s"
                                   for k, n in enumerate(names)))
for k, name in enumerate(names):
    each = [row[2 * k + 1] / row[2 * k] for row in rows]
    target = "(target >= 1.0x)" if k < 4 else "(2 round trips against 1)"
    print(f"{name} throughput ratio median {statistics.median(each):.2f}x {target}; rounds: "
          + " ".join(f"{r:.2f}x" for r in each))
'
