# netty-socketio: test-netty, bench-netty. Included by the root Makefile, whose MVN,
# MVN_OUTPUT, JAVA_DIR and VENV_PY it uses; NETTY_MVN is a recursive variable, so those may be
# defined after the include line.
NETTY_DIR := bindings/java/netty-socketio
NETTY_MVN = $(MVN:$(JAVA_DIR)/pom.xml=$(NETTY_DIR)/pom.xml)

.PHONY: netty-core test-netty bench-netty

## netty-core: the core jar (io.sessionstore:sessionstore:0.1.0, JNI library inside) into the
## local Maven repository, which the module depends on. Always run: cargo and Maven redo only
## what changed, so with nothing changed it costs the shading and the copy. The suites package
## the workspace build's JNI library (dev profile), as test-java does; the benchmark (empty
## NETTY_CORE_ARGS) has Maven build a release one.
NETTY_CORE_ARGS = $(JAVA_TEST_PROFILE)
netty-core:
	$(if $(NETTY_CORE_ARGS),$(SUITE_BUILD))
	$(MVN) $(NETTY_CORE_ARGS) -q -DskipTests install 2>&1 | $(MVN_OUTPUT)

## test-netty: the module's JUnit 5 suite (real SocketIOServer, real Socket.IO client) on every
## url of SESSIONSTORE_TEST_URLS (default memory://); the cross-language test runs the wheel of
## $(VENV_PY) when make test-python made it (SESSIONSTORE_TEST_PYTHON names another Python).
## tests/redis/harness.sh make test-netty runs it on standalone, Sentinel and Cluster servers.
test-netty: netty-core
	SESSIONSTORE_TEST_PYTHON="$${SESSIONSTORE_TEST_PYTHON:-$$(test -x $(VENV_PY) && echo $(CURDIR)/$(VENV_PY) || true)}" \
	  $(NETTY_MVN) verify 2>&1 | $(MVN_OUTPUT) || $(call MVN_FAILURES,$(NETTY_DIR))

## bench-netty: clients doing request/ack round trips that read and write two session keys,
## netty-socketio's RedissonStoreFactory beside ours on a redis-server the benchmark starts and
## stops, then MemoryStoreFactory beside ours on memory://. NETTY_BENCH="SECONDS ROUNDS CLIENTS".
NETTY_BENCH ?= 5 5 16
bench-netty:
	@$(MAKE) --no-print-directory netty-core NETTY_CORE_ARGS=
	@command -v redis-server >/dev/null || tests/redis/harness.sh true
	$(NETTY_MVN) -q -DskipTests test-compile dependency:build-classpath -Dmdep.includeScope=test \
	  -Dmdep.outputFile=$(abspath $(NETTY_DIR))/target/bench.classpath 2>&1 | $(MVN_OUTPUT)
	java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
	  -cp $(NETTY_DIR)/target/test-classes:$(NETTY_DIR)/target/classes:$$(cat $(NETTY_DIR)/target/bench.classpath) \
	  io.sessionstore.netty.Bench $(NETTY_BENCH)
