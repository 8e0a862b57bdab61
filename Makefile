# sessionstore task runner. `make demo` and `make test` work on a fresh machine.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO ?= cargo
LIB_DIR := target/debug
CFLAGS_STRICT := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude
# Redis (issue 4): test-redis, bench-redis.
include tests/redis/redis.mk

.PHONY: help setup build header check-header demo test test-suites test-rust test-c test-python test-java test-redis-faults bench lint

help:
	@echo "make demo          build the library and walk one session's life on memory://"
	@echo "make test          every suite (Rust, C under valgrind, Python, Java) on memory and real Redis servers"
	@echo "make test-rust | test-c | test-python | test-java | test-redis | bench | bench-redis | lint | header | check-header"

## setup: install what a fresh machine lacks (idempotent, quiet when all is there).
setup:
	@scripts/setup.sh

build:
	$(CARGO) build --quiet

## header: regenerate the committed C header from src/ffi/.
header:
	SESSIONSTORE_BLESS=1 $(CARGO) test --quiet --test header

check-header:
	$(CARGO) test --quiet --test header

demo: build
	@mkdir -p build
	cc $(CFLAGS_STRICT) examples/demo.c -o build/demo -L$(LIB_DIR) -lsessionstore -Wl,-rpath,$(CURDIR)/$(LIB_DIR)
	./build/demo

## test: every suite on every backend. tests/redis/harness.sh starts the Redis servers
## (standalone, Sentinel, Cluster, TLS, ACL) on 127.0.0.1 and puts their urls, beside
## memory://, in SESSIONSTORE_TEST_URLS, which the Rust, C, Python and Java suites read; the
## fault tests (kill -9, SIGSTOP, failovers) run last, since they kill masters.
test: setup lint
	$(CARGO) build --quiet --all-targets
	tests/redis/harness.sh $(MAKE) --no-print-directory test-suites
	@echo "make test: every suite passed"

test-suites: test-rust test-c test-python test-java test-redis-faults

## The fault tests skip without the harness's variables, so `cargo test` alone never kills one.
FAULT_VARS := SESSIONSTORE_TEST_REDIS_SERVER SESSIONSTORE_TEST_CLUSTER_PIDS SESSIONSTORE_TEST_SENTINEL_MASTER_PID
test-rust:
	env $(addprefix -u ,$(FAULT_VARS)) $(CARGO) test --quiet

test-redis-faults:
	$(CARGO) test --quiet --test redis_faults

## test-c: every tests/c/*.c, built with the strict flags against the header and the .so, each
## run under valgrind: invalid accesses and definite leaks fail; "still reachable" and
## "possibly lost" do not (Rust's runtime keeps thread-local and registry blocks to the end).
## Valgrind serialises threads, so test_threads and test_backends (every url of
## SESSIONSTORE_TEST_URLS) also run natively first, in real parallel.
C_TESTS := $(patsubst tests/c/%.c,build/tests/c/%,$(wildcard tests/c/*.c))
VALGRIND := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite -q

build/tests/c/%: tests/c/%.c tests/c/check.h include/sessionstore.h $(LIB_DIR)/libsessionstore.so
	@mkdir -p $(@D)
	cc $(CFLAGS_STRICT) -pthread $< -o $@ -L$(LIB_DIR) -lsessionstore -Wl,-rpath,$(CURDIR)/$(LIB_DIR)

.PHONY: c-tests
c-tests: $(C_TESTS)
	@:

test-c:
	$(CARGO) build --quiet
	@$(MAKE) --no-print-directory c-tests
	@echo "== test_threads (native)" && ./build/tests/c/test_threads
	@echo "== test_backends (native)" && ./build/tests/c/test_backends
	@for t in $(C_TESTS); do echo "== $$(basename $$t) (valgrind)"; $(VALGRIND) ./$$t; done
	@echo "== README's C example (valgrind)"
	@awk '/^```c$$/{f=1;next} /^```$$/{f=0} f' README.md > build/readme_example.c
	@cc $(CFLAGS_STRICT) build/readme_example.c -o build/readme_example -L$(LIB_DIR) -lsessionstore -Wl,-rpath,$(CURDIR)/$(LIB_DIR)
	@$(VALGRIND) ./build/readme_example | grep -qx 'userId = 42' && echo "README example: 1 passed, 0 failed"

## test-python: the wheel built from bindings/python, installed into a local .venv (made, with
## maturin, pytest and mypy for stubtest, when missing), against its pytest suite.
## SESSIONSTORE_TEST_URLS=url,url runs the backend tests on other backends too.
## The C ABI cross-check needs the debug .so, hence the cargo build.
VENV := .venv
VENV_PY := $(VENV)/bin/python

$(VENV_PY):
	python3 -m venv $(VENV)

.PHONY: python-install bench-python lint-python
python-install: $(VENV_PY)
	@test -x $(VENV)/bin/maturin -a -x $(VENV)/bin/pytest -a -x $(VENV)/bin/stubtest || $(VENV_PY) -m pip install --quiet maturin pytest mypy
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV_PY) -m pip install --quiet --no-build-isolation --force-reinstall --no-deps ./bindings/python

test-python: python-install
	$(CARGO) build --quiet
	$(VENV_PY) -m pytest -q -p no:cacheprovider bindings/python/tests

bench-python: python-install
	$(VENV_PY) bindings/python/bench.py

## bench-redis-python: Python get/set from 8 threads, our redis:// store beside redis-py (one
## shared client) on a redis-server the script starts on a free 127.0.0.1 port and stops by PID.
.PHONY: bench-redis-python
bench-redis-python: python-install
	@$(VENV_PY) -c 'import redis' 2>/dev/null || $(VENV_PY) -m pip install --quiet redis
	@command -v redis-server >/dev/null || tests/redis/harness.sh true
	$(VENV_PY) bindings/python/bench_redis.py

lint-python:
	cd bindings/python && $(CARGO) fmt --check && $(CARGO) clippy --all-targets --quiet -- -D warnings

lint: lint-python lint-java
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings

bench:
	$(CARGO) bench --bench memory

## test-java: the JNI crate's own tests (every export enters the runner, the kind->exception
## map), the JNI library (cargo, run by Maven), the self-contained jar and its JUnit 5 suite,
## then bindings/java/examples/Quickstart.java compiled against the jar alone and run.
## SESSIONSTORE_TEST_URLS=url,url runs the backend tests on other backends too (default
## memory://). With a Redis url there, the cross-language test runs the Python wheel of
## $(VENV_PY) (made by test-python; SESSIONSTORE_TEST_PYTHON names another interpreter).
## Maven's chatter is filtered out; errors, warnings and Surefire's counts stay.
JAVA_DIR := bindings/java
JAVA_JAR := $(JAVA_DIR)/target/sessionstore-0.1.0.jar
MVN := mvn -B -ntp -Dstyle.color=never -f $(JAVA_DIR)/pom.xml
MVN_OUTPUT := { grep -E '^\[(ERROR|WARNING)\]|Tests run:|BUILD' || true; }

.PHONY: java-example bench-java lint-java
test-java:
	cd $(JAVA_DIR)/native && $(CARGO) test --quiet
	SESSIONSTORE_TEST_PYTHON="$${SESSIONSTORE_TEST_PYTHON:-$$(test -x $(VENV_PY) && echo $(CURDIR)/$(VENV_PY) || true)}" \
	  $(MVN) verify 2>&1 | $(MVN_OUTPUT)
	@$(MAKE) --no-print-directory java-example

java-example: $(JAVA_JAR)
	@mkdir -p build/java-example
	javac -d build/java-example -cp $(JAVA_JAR) $(JAVA_DIR)/examples/Quickstart.java
	java -cp $(JAVA_JAR):build/java-example Quickstart

$(JAVA_JAR):
	$(MVN) -q -DskipTests package

## bench-java: set+get of a short String from 8 threads, our memory store beside a
## ConcurrentHashMap per session (socketio4j's MemoryStore), then our redis:// store beside a
## Redisson RMap per session (socketio4j's RedisStore) on a redis-server the benchmark starts
## and stops itself; prints each pair and its ratio.
bench-java:
	$(MVN) -q -DskipTests package dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=$(abspath $(JAVA_DIR))/target/bench.classpath
	java -cp $(JAVA_JAR):$(JAVA_DIR)/target/test-classes:$$(cat $(JAVA_DIR)/target/bench.classpath) io.sessionstore.Bench

lint-java:
	cd $(JAVA_DIR)/native && $(CARGO) fmt --check && $(CARGO) clippy --all-targets --quiet -- -D warnings
