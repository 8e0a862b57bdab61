#!/usr/bin/env bash
# Starts throwaway Redis servers and a Hazelcast member on 127.0.0.1, runs a command with
# their urls in the environment, then stops every server by its PID. Usage:
#
#   tests/redis/harness.sh COMMAND [ARGS…]
#
# It brings up, in a temp dir, on free ports:
#   - a standalone server (AOF, fsync every second: Redis's default policy) with an ACL user
#     `app`;
#   - a TLS server whose throwaway CA and certificate openssl makes here;
#   - Sentinel: one master, one replica, three sentinels watching master `mymaster`;
#   - a Redis Cluster of 6 nodes (3 masters, 3 replicas), and a TLS-only one;
#   - a Hazelcast member (the jar from Maven Central: tests/hazelcast/jar.sh).
# and exports to COMMAND:
#   SESSIONSTORE_TEST_URLS         memory, standalone, sentinel, cluster and hazelcast urls,
#                                  separated by spaces (urls hold commas, never spaces): split
#                                  on whitespace
#   SESSIONSTORE_TEST_ACL_URL      standalone url with the ACL user's right password
#   SESSIONSTORE_TEST_READER_URL   standalone url of a user denied HSET/HDEL/DEL
#   SESSIONSTORE_TEST_TLS_URL      rediss:// url of the TLS server
#   SESSIONSTORE_TEST_TLS_CLUSTER_URL rediss+cluster:// url of a 6-node TLS cluster
#   SSL_CERT_FILE                  the throwaway CA (how `rediss://` trusts it)
#   SESSIONSTORE_TEST_CLUSTER_PIDS port:pid of every cluster node (for the failover test)
#   SESSIONSTORE_TEST_SENTINEL_MASTER_PID, SESSIONSTORE_TEST_SENTINEL_REPLICA_PORT (ditto)
#   SESSIONSTORE_TEST_REDIS_SERVER the redis-server binary (fault tests start their own)
#   SESSIONSTORE_TEST_HAZELCAST_PID the PID of the Hazelcast member (tests/hazelcast)
#   SESSIONSTORE_TEST_HAZELCAST_JAR its jar (fault tests start their own members)
# SESSIONSTORE_HZ_JAVA_OPTS, when set, replaces the member's JVM options (small heap, quick JIT
# for the suites; scripts/bench-hazelcast.sh gives it the full JIT).
# redis-server/redis-cli are installed from Debian when missing (install.sh).
set -euo pipefail

if [ $# -eq 0 ]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
fi

"$(dirname "$0")/install.sh"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/sessionstore-redis.XXXXXX")
PIDS=()

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$DIR"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# free_port VAR: sets VAR to a free port whose cluster bus port (+10000) is free too. Both stay
# below the kernel's ephemeral range (32768+), so no outgoing connection can be holding them.
# It runs in this shell, not in a $(…) subshell, so that USED_PORTS keeps every port handed
# out: a server started in the background may not listen yet when the next port is probed.
USED_PORTS=" "
free_port() {
  local free_ # not named like any caller's variable: printf -v would set this one instead
  while :; do
    free_=$((10000 + RANDOM % 12700))
    case "$USED_PORTS" in *" $free_ "*|*" $((free_ + 10000)) "*) continue ;; esac
    if ! (exec 3<>/dev/tcp/127.0.0.1/$free_) 2>/dev/null &&
       ! (exec 3<>/dev/tcp/127.0.0.1/$((free_ + 10000))) 2>/dev/null; then
      USED_PORTS="$USED_PORTS$free_ $((free_ + 10000)) "
      printf -v "$1" '%s' "$free_"
      return
    fi
  done
}

# start NAME [redis-server args…]: runs redis-server in $DIR/NAME, logs there.
start() {
  local name=$1; shift
  mkdir -p "$DIR/$name"
  (cd "$DIR/$name" && exec redis-server "$@" --bind 127.0.0.1 --daemonize no \
     --logfile "$DIR/$name/log") &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
  disown "$LAST_PID" # no "Killed" notice when a fault test kills it
}

wait_ping() { # port [extra redis-cli args]
  local port=$1; shift
  for _ in $(seq 100); do
    if redis-cli -h 127.0.0.1 -p "$port" "$@" ping 2>/dev/null | grep -q PONG; then return; fi
    sleep 0.1
  done
  echo "harness: server on port $port did not come up; logs:" >&2
  tail -n 5 "$DIR"/*/log >&2 || true
  exit 1
}

# A Hazelcast member (tests/hazelcast), started first: its JVM comes up while the Redis
# servers do.
HZ_JAR=$("$(dirname "$0")/../hazelcast/jar.sh")
free_port P_HZ
mkdir -p "$DIR/hazelcast"
sed "s/@PORT@/$P_HZ/" "$(dirname "$0")/../hazelcast/member.xml" >"$DIR/hazelcast/member.xml"
# shellcheck disable=SC2086 # the options are words
(cd "$DIR/hazelcast" && exec java ${SESSIONSTORE_HZ_JAVA_OPTS:--Xms64m -Xmx256m -XX:TieredStopAtLevel=1} -Xshare:auto \
   -Dhazelcast.config="$DIR/hazelcast/member.xml" -cp "$HZ_JAR" \
   com.hazelcast.core.server.HazelcastMemberStarter >"$DIR/hazelcast/log" 2>&1) &
HZ_PID=$!
PIDS+=("$HZ_PID")
disown "$HZ_PID"

# Standalone, with an ACL user beside the (password-less) default user. The AOF is fsynced once a
# second, off the server's main thread: with `appendfsync always` every write waited for the
# disk, and a shared machine's disk stalled calls past their 2 s timeout (a netty-socketio
# client then waited for an ack that never came). The durability tests (tests/redis_faults.rs)
# start their own `appendfsync always` servers.
free_port P_ALONE
cat >"$DIR/standalone.conf" <<CONF
port $P_ALONE
save ""
appendonly yes
appendfsync everysec
user default on nopass ~* &* +@all
user app on >s3cret-pw ~* &* +@all
user reader on >r3ader-pw ~* &* +@all -hset -hdel -del
CONF
start standalone "$DIR/standalone.conf"
wait_ping "$P_ALONE"

# TLS: a throwaway CA and a certificate for 127.0.0.1 / localhost.
(
  cd "$DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=sessionstore test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
    -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -out server.crt -days 2 -extfile san.ext 2>/dev/null
)
free_port P_TLS
start tls --port 0 --tls-port "$P_TLS" --save "" --appendonly no \
  --tls-cert-file "$DIR/server.crt" --tls-key-file "$DIR/server.key" \
  --tls-ca-cert-file "$DIR/ca.crt" --tls-auth-clients no
wait_ping "$P_TLS" --tls --cacert "$DIR/ca.crt"

# Sentinel: a master, a replica, three sentinels.
free_port P_MASTER
free_port P_REPLICA
start sentinel-master --port "$P_MASTER" --save "" --appendonly no
SENTINEL_MASTER_PID=$LAST_PID
start sentinel-replica --port "$P_REPLICA" --save "" --appendonly no \
  --replicaof 127.0.0.1 "$P_MASTER"
wait_ping "$P_MASTER"
wait_ping "$P_REPLICA"
SENTINELS=()
for i in 1 2 3; do
  free_port p
  mkdir -p "$DIR/sentinel$i"
  cat >"$DIR/sentinel$i/sentinel.conf" <<CONF
port $p
sentinel monitor mymaster 127.0.0.1 $P_MASTER 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
CONF
  start "sentinel$i" "$DIR/sentinel$i/sentinel.conf" --sentinel
  SENTINELS+=("127.0.0.1:$p")
  wait_ping "$p"
done

# Cluster: 6 nodes, 3 masters with one replica each.
CLUSTER=()
CLUSTER_PIDS=()
for i in 1 2 3 4 5 6; do
  free_port p
  start "cluster$i" --port "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 1000 --cluster-replica-validity-factor 0 --save "" --appendonly no
  CLUSTER+=("127.0.0.1:$p")
  CLUSTER_PIDS+=("$p:$LAST_PID")
done
for n in "${CLUSTER[@]}"; do wait_ping "${n#*:}"; done
redis-cli --cluster create "${CLUSTER[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/cluster-create.log" 2>&1 ||
  { cat "$DIR/cluster-create.log" >&2; exit 1; }
# cluster_ok PORT [redis-cli args]: waits until that node sees the whole cluster up.
cluster_ok() {
  local port=$1; shift
  for _ in $(seq 200); do
    if redis-cli "$@" -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then return; fi
    sleep 0.1
  done
  echo "harness: cluster node $port never reached cluster_state:ok" >&2
  exit 1
}
for n in "${CLUSTER[@]}"; do cluster_ok "${n#*:}"; done
# Every replica synced with its master, so a failover test has someone to promote.
for _ in $(seq 300); do
  up=0
  for n in "${CLUSTER[@]}"; do
    if redis-cli -p "${n#*:}" info replication | grep -q 'master_link_status:up'; then
      up=$((up + 1))
    fi
  done
  [ "$up" -ge 3 ] && break
  sleep 0.1
done

# A second, smaller-scale check of TLS: a 6-node cluster speaking only TLS (clients, bus,
# replication), for rediss+cluster://.
TLS_ARGS=(--tls-cert-file "$DIR/server.crt" --tls-key-file "$DIR/server.key"
  --tls-ca-cert-file "$DIR/ca.crt" --tls-auth-clients no)
TLS_CLUSTER=()
for i in 1 2 3 4 5 6; do
  free_port p
  start "tls-cluster$i" --port 0 --tls-port "$p" --tls-cluster yes --tls-replication yes \
    "${TLS_ARGS[@]}" --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 1000 --save "" --appendonly no
  TLS_CLUSTER+=("127.0.0.1:$p")
done
for n in "${TLS_CLUSTER[@]}"; do wait_ping "${n#*:}" --tls --cacert "$DIR/ca.crt"; done
redis-cli --tls --cacert "$DIR/ca.crt" --cluster create "${TLS_CLUSTER[@]}" \
  --cluster-replicas 1 --cluster-yes >"$DIR/tls-cluster-create.log" 2>&1 ||
  { cat "$DIR/tls-cluster-create.log" >&2; exit 1; }
for n in "${TLS_CLUSTER[@]}"; do cluster_ok "${n#*:}" --tls --cacert "$DIR/ca.crt"; done

for _ in $(seq 600); do grep -q ' is STARTED' "$DIR/hazelcast/log" 2>/dev/null && break; sleep 0.1; done
grep -q ' is STARTED' "$DIR/hazelcast/log" ||
  { echo "harness: the Hazelcast member did not come up; its log:" >&2; tail -n 20 "$DIR/hazelcast/log" >&2; exit 1; }

join() { local IFS=$1; shift; echo "$*"; }
HZ_URL="hazelcast://127.0.0.1:$P_HZ/sessionstore-test"
export SESSIONSTORE_TEST_URLS="memory:// redis://127.0.0.1:$P_ALONE redis+sentinel://$(join , "${SENTINELS[@]}")/mymaster redis+cluster://$(join , "${CLUSTER[@]}") $HZ_URL"
export SESSIONSTORE_TEST_ACL_URL="redis://app:s3cret-pw@127.0.0.1:$P_ALONE"
export SESSIONSTORE_TEST_READER_URL="redis://reader:r3ader-pw@127.0.0.1:$P_ALONE"
export SESSIONSTORE_TEST_TLS_URL="rediss://127.0.0.1:$P_TLS"
export SESSIONSTORE_TEST_TLS_CLUSTER_URL="rediss+cluster://$(join , "${TLS_CLUSTER[@]}")"
export SSL_CERT_FILE="$DIR/ca.crt"
export SESSIONSTORE_TEST_HAZELCAST_PID=$HZ_PID
export SESSIONSTORE_TEST_HAZELCAST_JAR=$HZ_JAR
export SESSIONSTORE_TEST_SENTINEL_MASTER_PID=$SENTINEL_MASTER_PID
export SESSIONSTORE_TEST_SENTINEL_REPLICA_PORT=$P_REPLICA
export SESSIONSTORE_TEST_CLUSTER_PIDS
SESSIONSTORE_TEST_CLUSTER_PIDS=$(join , "${CLUSTER_PIDS[@]}")
SESSIONSTORE_TEST_REDIS_SERVER=$(command -v redis-server)
export SESSIONSTORE_TEST_REDIS_SERVER
echo "harness: servers up in $DIR" >&2
echo "harness: SESSIONSTORE_TEST_URLS=$SESSIONSTORE_TEST_URLS" >&2

set +e
"$@"
status=$?
set -e
exit "$status"
