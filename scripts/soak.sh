#!/usr/bin/env bash
# The soak of `make soak` (a benchmark-style run, not part of `make test`): benches/soak/ on
# each target, one after the other, each in its own process, which starts its own servers on
# free 127.0.0.1 ports and stops them by PID. Usage:
#
#   scripts/soak.sh [memory] [redis] [cluster] [hazelcast]      (default: all four)
#
# Settings come from the environment (SOAK_SECONDS=600 per target, SOAK_THREADS=16, …: see
# the top of benches/soak/main.rs). The whole output is also written to build/soak.log; the load
# average is printed before and after each target. Exits non-zero when any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(memory redis cluster hazelcast)

# The harness installs redis-server and redis-tools from Debian when missing.
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  tests/redis/harness.sh true
fi
SOAK_HAZELCAST_JAR=$(tests/hazelcast/jar.sh)
export SOAK_HAZELCAST_JAR
cargo bench --quiet --bench soak --no-run

# The servers' files: tmpfs when there is one (see benches/soak/settings.rs).
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
SOAK_DIR=$(mktemp -d "$base/sessionstore-soak.XXXXXX")
export SOAK_DIR
cleanup() {
  # A run that crashed may have left servers behind: each PID it started, stopped only if
  # that process still runs in one of this soak's directories.
  local f pid cwd
  for f in "$SOAK_DIR"/*/pids; do
    [ -f "$f" ] || continue
    while read -r pid; do
      cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
      case "$cwd" in
        "$SOAK_DIR"/*) kill -CONT "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true ;;
      esac
    done <"$f"
  done
  rm -rf "$SOAK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p build
log=build/soak.log
: >"$log"
status=0
for t in "${targets[@]}"; do
  echo "soak: load before $t: $(uptime)" | tee -a "$log"
  cargo bench --quiet --bench soak -- "$t" 2>&1 | tee -a "$log" || status=1
  echo "soak: load after $t: $(uptime)" | tee -a "$log"
done
echo "soak: summary (full output in $log)"
grep -E '^RESULT ' "$log" || true
exit "$status"
