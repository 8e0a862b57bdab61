#!/usr/bin/env bash
# Prints the path of the Hazelcast member's jar (com.hazelcast:hazelcast, no dependencies: the
# member needs none), fetching it into the local Maven repository when missing. Run by
# harness.sh, and by `make test-tools` beside the build.
set -euo pipefail
VERSION=5.7.0
JAR="$HOME/.m2/repository/com/hazelcast/hazelcast/$VERSION/hazelcast-$VERSION.jar"
if [ ! -f "$JAR" ]; then
  echo "harness: fetching com.hazelcast:hazelcast:$VERSION" >&2
  mvn -B -ntp -q dependency:get -Dartifact="com.hazelcast:hazelcast:$VERSION" -Dtransitive=false >&2
fi
echo "$JAR"
