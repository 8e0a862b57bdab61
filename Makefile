# sessionstore task runner. `make demo` and `make test` work on a fresh machine.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO ?= cargo
LIB_DIR := target/debug
VERSION := 0.1.0
## The shared library's SONAME (build.rs sets it); a program linked against the library needs
## this name beside it at run time: in the target directory, a symlink.
SONAME := libsessionstore.so.0
%/$(SONAME): %/libsessionstore.so
	ln -sf libsessionstore.so $@
CFLAGS_STRICT := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude
# Redis: test-redis, bench-redis.
include tests/redis/redis.mk
include bindings/java/netty-socketio/netty.mk

.PHONY: help setup build header check-header demo test test-suites test-rust test-c test-python test-java test-redis-faults bench lint lint-format fmt

help:
	@echo "make demo          build the library and walk one session's life on memory://"
	@echo "make test          every suite (Rust, C natively, under ASan/UBSan and valgrind, Python, Java, netty-socketio) on memory and real Redis servers"
	@echo "make test-rust | test-c | test-c-faults | test-python | test-java | test-netty | test-redis | lint | fmt | header | check-header"
	@echo "make bench | bench-redis | bench-hazelcast | bench-python | bench-redis-python | bench-java | bench-netty | soak"

## setup: install what a fresh machine lacks (idempotent, quiet when all is there).
setup:
	@scripts/setup.sh

build:
	$(CARGO) build --quiet
	$(CARGO) build --quiet -p sessionstore-cli

## header: regenerate the committed C header from src/ffi/.
header:
	SESSIONSTORE_BLESS=1 $(CARGO) test --quiet --test header

check-header:
	$(CARGO) test --quiet --test header

demo: build $(LIB_DIR)/$(SONAME)
	@mkdir -p build
	cc $(CFLAGS_STRICT) examples/demo.c -o build/demo -L$(LIB_DIR) -lsessionstore -Wl,-rpath,$(CURDIR)/$(LIB_DIR)
	./build/demo

## test: every suite on every backend. tests/redis/harness.sh starts the Redis servers
## (standalone, Sentinel, Cluster, TLS, ACL) on 127.0.0.1 and puts their urls, beside
## memory://, in SESSIONSTORE_TEST_URLS, which the Rust, C, Python and Java suites read; the
## fault tests (kill -9, SIGSTOP, failovers) run last, since they kill masters.
##
## Every crate of the workspace is compiled once, through clippy-driver with warnings denied:
## the test build is the lint pass (`make lint` would compile every dependency a second time,
## in check mode). The same environment reaches the wheel's and the JNI library's builds, so
## they share the dependencies compiled here.
##
## Every cargo command of the suites selects the same packages (WORKSPACE) with their test
## targets, so cargo resolves one set of features and compiles each crate once: a command that
## selects fewer packages, or no test target, resolves other features for the dependencies
## they share and compiles them, and the core, again (that cost a fresh clone three minutes).
## Only the Python module (maturin), the JNI library (Maven) and the memory-only core build
## on their own.
CLIPPY_BUILD := RUSTC_WORKSPACE_WRAPPER=clippy-driver RUSTFLAGS="-D warnings"
WORKSPACE := --workspace --exclude sessionstore-python
SUITE_BUILD := $(CARGO) build --quiet $(WORKSPACE) --all-targets
## What waits on downloads runs beside the build: the lint tools' install (pip) and the
## suites' tools (test-tools: apt).
test: setup
	@$(MAKE) --no-print-directory -j3 --output-sync=target lint-format suite-build test-tools
	$(CLIPPY_BUILD) tests/redis/harness.sh $(MAKE) --no-print-directory test-suites
	@echo "make test: every suite passed"

.PHONY: suite-build test-tools
suite-build:
	$(CLIPPY_BUILD) $(SUITE_BUILD)

## test-tools: what only the suites need, when missing: from Debian, clang with its sanitizer
## runtimes (test-c) and redis-server (the harness), one after the other (apt holds a lock);
## from Maven Central, the Hazelcast member's jar (the harness).
test-tools:
	@$(MAKE) --no-print-directory san-cc
	@tests/redis/install.sh
	@tests/hazelcast/jar.sh >/dev/null

## The Python, Java and CLI suites read each other's build (cross-language tests): the wheel
## and the jar are built before any runs. test-rust runs the CLI's tests (test-cli) and the
## Rust corpus replay (fuzz-replay-rust) with the rest of the workspace.
## test-adoption runs last, since its wheel build leaves the core's library built with the
## Python module's features, which the next workspace build would compile again.
test-suites: python-install java-jar test-rust test-c test-c-faults test-install python-suite test-java test-netty fuzz-replay-python fuzz-replay-java test-redis-faults test-adoption

## The fault tests skip without the harness's variables, so `cargo test` alone never kills one.
FAULT_VARS := SESSIONSTORE_TEST_REDIS_SERVER SESSIONSTORE_TEST_CLUSTER_PIDS SESSIONSTORE_TEST_SENTINEL_MASTER_PID \
  SESSIONSTORE_TEST_HAZELCAST_PID SESSIONSTORE_TEST_HAZELCAST_JAR
## Every crate of the workspace but the Python one (it links libpython: its suite is
## test-python), and the core's unit tests once more without its Redis backend (a memory-only
## build, which must not depend on the Redis stack: workspace-hack is only a dev-dependency of
## the core).
## (The CLI's C writer loads the library by its SONAME: the symlink is made first.)
test-rust:
	$(SUITE_BUILD)
	@$(MAKE) --no-print-directory $(LIB_DIR)/$(SONAME)
	env $(addprefix -u ,$(FAULT_VARS)) $(CARGO) test --quiet $(WORKSPACE)
	$(CARGO) test --quiet -p sessionstore --no-default-features --lib
	@if $(CARGO) tree -q -p sessionstore --no-default-features -e normal,build --prefix none | \
	  grep -E '^(redis|rustls|workspace-hack) '; then \
	  echo "test-rust: the memory-only core depends on the crates above" >&2; exit 1; fi

test-redis-faults:
	$(CARGO) test --quiet $(WORKSPACE) --test redis_faults --test hazelcast_faults

## install: the C library into PREFIX (default /usr/local; DESTDIR for staging): the header,
## the static library, the shared library (libsessionstore.so.VERSION, with its SONAME and the
## usual symlinks) and sessionstore.pc for pkg-config. PROFILE=release (the default: lean, no
## debug info) or dev.
PREFIX ?= /usr/local
PROFILE ?= release
PROFILE_DIR = $(if $(filter dev,$(PROFILE)),debug,$(PROFILE))
## What the install builds: the core's library (test-install: the suites' build of it).
INSTALL_BUILD ?= -p sessionstore --lib
## What a static link needs beside the library (rustc --print native-static-libs, on Linux).
LIBS_PRIVATE := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
.PHONY: install
install:
	$(CARGO) build --quiet --profile $(PROFILE) $(INSTALL_BUILD)
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/sessionstore.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 target/$(PROFILE_DIR)/libsessionstore.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 target/$(PROFILE_DIR)/libsessionstore.so $(DESTDIR)$(PREFIX)/lib/libsessionstore.so.$(VERSION)
	ln -sf libsessionstore.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libsessionstore.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' \
	  include/sessionstore.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/sessionstore.pc

## test-install: what a C user does, from the README alone: make install into a temporary
## prefix, then the README's C example built with pkg-config, linked shared (run under
## valgrind) and static; the installed library carries its SONAME.
.PHONY: test-install
test-install:
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	  $(MAKE) --no-print-directory install PREFIX=$$d PROFILE=dev INSTALL_BUILD="$(WORKSPACE) --all-targets" >/dev/null && \
	  readelf -d $$d/lib/libsessionstore.so.$(VERSION) | grep -q 'SONAME.*\[$(SONAME)\]' && \
	  awk '/^```c$$/{f=1;next} /^```$$/{f=0} f' README.md > $$d/app.c && \
	  export PKG_CONFIG_PATH=$$d/lib/pkgconfig && \
	  cc $(filter-out -Iinclude,$(CFLAGS_STRICT)) $$d/app.c -o $$d/app $$(pkg-config --cflags --libs sessionstore) && \
	  LD_LIBRARY_PATH=$$d/lib $(VALGRIND) $$d/app | grep -qx 'userId = 42, tenant = acme' && \
	  cc $(filter-out -Iinclude,$(CFLAGS_STRICT)) $$d/app.c -o $$d/app-static $$(pkg-config --cflags sessionstore) \
	    $$d/lib/libsessionstore.a $$(pkg-config --static --libs-only-l sessionstore | sed 's/-lsessionstore//') && \
	  $$d/app-static | grep -qx 'userId = 42, tenant = acme' && \
	  echo "README's C example: built with pkg-config after make install, shared and static: passed"

## wheel: the Python wheel (abi3: one build for CPython 3.11 and later) into dist/, to be
## installed with pip anywhere after, with no Rust. PY_PROFILE=release (the default here).
.PHONY: wheel
wheel: python-tools
	$(VENV)/bin/maturin build --quiet --profile $(or $(WHEEL_PROFILE),release) -m bindings/python/Cargo.toml -o dist

## java-install: the core jar and the netty-socketio module, with their sources and javadoc
## jars, into the local Maven repository (~/.m2): io.sessionstore:sessionstore:0.1.0 and
## io.sessionstore:sessionstore-netty-socketio:0.1.0.
.PHONY: java-install
java-install:
	$(MVN) -q -DskipTests install 2>&1 | $(MVN_OUTPUT)
	$(NETTY_MVN) -q -DskipTests install 2>&1 | $(MVN_OUTPUT)

## test-adoption: what a user does, from the READMEs alone, for Python and Java: a wheel built
## once and installed into a second virtual environment with no Rust on the PATH; a separate
## Maven project (tests/adoption/maven-consumer) depending on the installed jar by its
## coordinates, installed by netty-core (once, when test-netty ran it). (C: test-install.) The
## suites' builds are dev builds, and so are these.
.PHONY: test-adoption
test-adoption: netty-core
	@rm -rf build/adoption && mkdir -p build/adoption
	$(MAKE) --no-print-directory wheel WHEEL_PROFILE=dev
	python3 -m venv build/adoption/venv
	env -i HOME="$$HOME" PATH=/usr/bin:/bin build/adoption/venv/bin/python -m pip install --quiet --no-index dist/sessionstore-$(VERSION)-*.whl
	env -i HOME="$$HOME" PATH=/usr/bin:/bin build/adoption/venv/bin/python -c \
	  'import sessionstore, uuid; f = sessionstore.StoreFactory(); s = f.create_store(uuid.uuid4()); s["userId"] = 42; assert s["userId"] == 42; print("wheel: userId =", s["userId"])'
	mvn -B -ntp -q -Dstyle.color=never -f tests/adoption/maven-consumer/pom.xml compile exec:java 2>&1 | $(MVN_PLAIN) | grep -x 'userId = 42'
	@echo "test-adoption: the wheel in a Rust-less environment and the jar from a separate Maven project: passed"

## test-c: every tests/c/*.c, built with the strict flags against the header and the .so, and
## run three ways; test_backends runs on every url of SESSIONSTORE_TEST_URLS each time.
## - natively, test_threads and test_backends: valgrind serialises threads, so these run first
##   where their threads really run in parallel;
## - built by clang with ASan and UBSan, every test: any report fails the run (UBSan does not
##   recover), LeakSanitizer included. It needs no suppressions: what Rust keeps to the end is
##   still reachable from globals and live threads, which LeakSanitizer does not report. A
##   suppression, if one is ever needed, goes in tests/c/lsan.supp with its reason. First a
##   canary (tests/c/sanitizer/canary.c) leaks an ss_bytes, reads past one and overflows an int:
##   each must be reported, so a sanitizer switched off, or a suppression that would hide the
##   library's leaks, fails the run too. The library itself is not instrumented: its heap is
##   (every malloc and free goes through ASan), its own loads and stores are not;
## - under valgrind, every test: invalid accesses and definite leaks fail; "still reachable" and
##   "possibly lost" do not (Rust's runtime keeps thread-local and registry blocks to the end).
C_TESTS := $(patsubst tests/c/%.c,build/tests/c/%,$(wildcard tests/c/*.c))
C_SAN_TESTS := $(patsubst tests/c/%.c,build/tests/c/san/%,$(wildcard tests/c/*.c))
VALGRIND := valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite -q
SAN_CC := clang
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
SAN_ENV := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
C_LINK := -L$(LIB_DIR) -lsessionstore -Wl,-rpath,$(CURDIR)/$(LIB_DIR)

build/tests/c/%: tests/c/%.c tests/c/check.h include/sessionstore.h $(LIB_DIR)/libsessionstore.so $(LIB_DIR)/$(SONAME)
	@mkdir -p $(@D)
	cc $(CFLAGS_STRICT) -pthread $< -o $@ $(C_LINK)

build/tests/c/san/%: tests/c/%.c tests/c/check.h include/sessionstore.h $(LIB_DIR)/libsessionstore.so $(LIB_DIR)/$(SONAME) | san-cc
	@mkdir -p $(@D)
	$(SAN_CC) $(CFLAGS_STRICT) $(SAN_FLAGS) -pthread $< -o $@ $(C_LINK)

build/tests/c/san/canary: tests/c/sanitizer/canary.c tests/c/check.h include/sessionstore.h $(LIB_DIR)/libsessionstore.so $(LIB_DIR)/$(SONAME) | san-cc
	@mkdir -p $(@D)
	$(SAN_CC) $(CFLAGS_STRICT) $(SAN_FLAGS) $< -o $@ $(C_LINK)

## clang and its sanitizer runtimes, from Debian when missing.
.PHONY: san-cc
san-cc:
	@command -v $(SAN_CC) >/dev/null && test -f "$$($(SAN_CC) -print-file-name=libclang_rt.asan-$$(uname -m).a)" || { \
	  echo "test-c: installing clang and its sanitizer runtimes" >&2; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null; }

.PHONY: c-tests
c-tests: $(C_TESTS) $(C_SAN_TESTS) build/tests/c/san/canary
	@:

## canary BUG REPORT: the canary must fail on BUG, and with its sanitizer's REPORT.
SAN_CANARY = canary() { \
	  if $(SAN_ENV) ./build/tests/c/san/canary "$$1" >build/tests/c/san/canary-$$1.log 2>&1; then \
	    echo "sanitizer canary '$$1' exited cleanly: the sanitized run could not fail" >&2; return 1; fi; \
	  grep -q "$$2" build/tests/c/san/canary-$$1.log || { \
	    echo "sanitizer canary '$$1' failed without '$$2':" >&2; cat build/tests/c/san/canary-$$1.log >&2; return 1; }; }

test-c:
	$(SUITE_BUILD)
	@$(MAKE) --no-print-directory c-tests
	@echo "== test_threads (native)" && ./build/tests/c/test_threads
	@echo "== test_backends (native)" && ./build/tests/c/test_backends
	@$(SAN_CANARY); canary leak "ERROR: LeakSanitizer: detected memory leaks" && \
	  canary overflow "ERROR: AddressSanitizer: heap-buffer-overflow" && \
	  canary undefined "runtime error: signed integer overflow" && \
	  echo "sanitizer canaries: a leak, an overflow and undefined behaviour, each caught"
	@for t in $(C_SAN_TESTS); do echo "== $$(basename $$t) (ASan+UBSan)"; $(SAN_ENV) ./$$t; done
	@for t in $(C_TESTS); do echo "== $$(basename $$t) (valgrind)"; $(VALGRIND) ./$$t; done

## test-c-faults: the C host under attack (tests/c/faults), natively, on every url of
## SESSIONSTORE_TEST_URLS: open/close churn stays flat (heap, fds, threads), calls at exit
## never abort, server-side connection kills never raise SIGPIPE, and a slow resolver
## (an LD_PRELOAD shim of getaddrinfo) cannot stretch a call past timeout_ms.
comma := ,
C_FAULT_TESTS := $(patsubst tests/c/faults/%.c,build/tests/c/faults/%,$(filter-out %/slow_resolver.c,$(wildcard tests/c/faults/*.c)))

build/tests/c/faults/slow_resolver.so: tests/c/faults/slow_resolver.c
	@mkdir -p $(@D)
	cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $< -o $@ -ldl

## test_resolver links the shim, which defines the counter it reads.
build/tests/c/faults/test_resolver: build/tests/c/faults/slow_resolver.so
build/tests/c/faults/%: tests/c/faults/%.c tests/c/check.h include/sessionstore.h $(LIB_DIR)/libsessionstore.so $(LIB_DIR)/$(SONAME)
	@mkdir -p $(@D)
	cc $(CFLAGS_STRICT) -pthread $< -o $@ -L$(LIB_DIR) -lsessionstore -Wl,-rpath,$(CURDIR)/$(LIB_DIR) \
	  $(if $(filter %/test_resolver,$@),$(CURDIR)/build/tests/c/faults/slow_resolver.so -Wl$(comma)-rpath$(comma)$(CURDIR)/build/tests/c/faults)

.PHONY: test-c-faults
test-c-faults:
	$(SUITE_BUILD)
	@$(MAKE) --no-print-directory $(C_FAULT_TESTS) build/tests/c/faults/slow_resolver.so
	@for t in $(filter-out %/test_resolver,$(C_FAULT_TESTS)); do echo "== $$(basename $$t)"; ./$$t; done
	@echo "== test_resolver (slow resolver)"
	LD_PRELOAD=$(CURDIR)/build/tests/c/faults/slow_resolver.so ./build/tests/c/faults/test_resolver

## test-python: the wheel built from bindings/python (in the dev profile, sharing the
## workspace's build), installed into a local .venv (made, with maturin, pytest, mypy for
## stubtest and ruff, when missing), against its pytest suite.
## SESSIONSTORE_TEST_URLS="url url" runs the backend tests on other backends too.
## The C ABI cross-check needs the debug .so, hence the cargo build.
VENV := .venv
VENV_PY := $(VENV)/bin/python

$(VENV_PY):
	python3 -m venv $(VENV)

.PHONY: python-tools python-install bench-python lint-python
## The wheel's cargo profile: dev for the suites, release (`make bench-python … PY_PROFILE=release`).
PY_PROFILE ?= dev
## What the suites need beside the wheel: its build, its type check and lint, python-socketio
## with real servers and clients, redis-py for the benchmarks, prometheus_client.
PY_TOOLS := maturin pytest mypy ruff "python-socketio[client]>=5.18" simple-websocket werkzeug \
  uvicorn wsproto aiohttp redis prometheus_client
python-tools: $(VENV_PY)
	@$(VENV_PY) -c 'import maturin, pytest, mypy, ruff, socketio, simple_websocket, websocket, requests, werkzeug, uvicorn, wsproto, aiohttp, redis, prometheus_client' 2>/dev/null || \
	  $(VENV_PY) -m pip install --quiet $(PY_TOOLS)

python-install: python-tools
	MATURIN_PEP517_ARGS="--profile $(PY_PROFILE)" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV_PY) -m pip install --quiet --no-build-isolation --force-reinstall --no-deps ./bindings/python

test-python: python-install python-suite

## python-suite: the pytest suite against the wheel installed in .venv.
.PHONY: python-suite
python-suite:
	$(SUITE_BUILD)
	$(VENV_PY) -m pytest -q -p no:cacheprovider bindings/python/tests

bench-python:
	@$(MAKE) --no-print-directory python-install PY_PROFILE=release
	$(VENV_PY) bindings/python/bench.py

## bench-hazelcast: C ABI set/get beside Hazelcast's official Java client on one member (the
## harness's, given the full JIT), sequentially and from 32 threads; prints the ratios.
.PHONY: bench-hazelcast
bench-hazelcast:
	scripts/bench-hazelcast.sh

## bench-redis-python: Python get/set from 8 threads, our redis:// store beside redis-py (one
## shared client) on a redis-server the script starts on a free 127.0.0.1 port and stops by PID.
.PHONY: bench-redis-python
bench-redis-python:
	@$(MAKE) --no-print-directory python-install PY_PROFILE=release
	@$(VENV_PY) -c 'import redis' 2>/dev/null || $(VENV_PY) -m pip install --quiet redis
	@command -v redis-server >/dev/null || tests/redis/harness.sh true
	$(VENV_PY) bindings/python/bench_redis.py

## lint: rustfmt and clippy -D warnings on the whole workspace (and on the memory-only core),
## ruff on the Python package and its tests.
lint-python: python-tools
	$(VENV)/bin/ruff check --quiet bindings/python
	$(VENV)/bin/ruff format --check --quiet bindings/python

## lint-format: what needs no compiling (rustfmt, ruff).
lint-format: lint-python
	$(CARGO) fmt --all --check

lint: lint-format
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings
	$(CARGO) clippy -p sessionstore --no-default-features --lib --quiet -- -D warnings

## fmt: formats the Rust workspace and the Python package.
fmt: python-tools
	$(CARGO) fmt --all
	$(VENV)/bin/ruff format --quiet bindings/python

bench:
	$(CARGO) bench --bench memory

## test-java: the JNI library (cargo, run by Maven), the self-contained jar and its JUnit 5 suite,
## then bindings/java/examples/Quickstart.java compiled against the jar alone and run.
## SESSIONSTORE_TEST_URLS="url url" runs the backend tests on other backends too (default
## memory://). With a Redis url there, the cross-language test runs the Python wheel of
## $(VENV_PY) (made by test-python; SESSIONSTORE_TEST_PYTHON names another interpreter).
## Maven's chatter is filtered out; errors, warnings and Surefire's counts stay.
JAVA_DIR := bindings/java
JAVA_JAR := $(JAVA_DIR)/target/sessionstore-0.1.0.jar
MVN := mvn -B -ntp -Dstyle.color=never -f $(JAVA_DIR)/pom.xml
## Maven 3.8 prints ANSI colour resets even in batch mode with -Dstyle.color=never (with -q,
## around a plugin's own output): they are stripped here.
MVN_PLAIN := sed -e 's/\x1b\[[0-9;]*m//g'
MVN_OUTPUT := { $(MVN_PLAIN) | grep -E '^\[(ERROR|WARNING)\]|Tests run:|BUILD' || true; }
## $(call MVN_FAILURES,MODULE_DIR): after a failed verify, each failed test class's Surefire
## report (its full stack traces) and the last lines its tests printed (the server's log too),
## then the failure's status.
MVN_FAILURES = { for r in $(1)/target/surefire-reports/*.txt; do \
	  case $$r in *-output.txt) continue;; esac; grep -q 'FAILURE!' "$$r" || continue; \
	  cat "$$r"; o="$${r%.txt}-output.txt"; test ! -f "$$o" || { echo "--- $$o (last 300 lines)"; tail -n 300 "$$o"; }; \
	done; exit 1; }

## The suites package the JNI library of the workspace's build (SUITE_BUILD, dev profile), so
## Maven skips its own cargo step: that builds the one crate alone, which resolves other
## features and compiled the core and its dependencies again (55 s of a fresh clone).
JAVA_TEST_PROFILE := -Dcargo.profile=dev -Dcargo.profile.dir=debug -Dsessionstore.skipCargo=true
.PHONY: java-example bench-java
test-java:
	$(SUITE_BUILD)
	SESSIONSTORE_TEST_PYTHON="$${SESSIONSTORE_TEST_PYTHON:-$$(test -x $(VENV_PY) && echo $(CURDIR)/$(VENV_PY) || true)}" \
	  $(MVN) $(JAVA_TEST_PROFILE) verify 2>&1 | $(MVN_OUTPUT) || $(call MVN_FAILURES,$(JAVA_DIR))
	@$(MAKE) --no-print-directory java-example

java-example: $(JAVA_JAR)
	@mkdir -p build/java-example
	javac -d build/java-example -cp $(JAVA_JAR) $(JAVA_DIR)/examples/Quickstart.java
	java -cp $(JAVA_JAR):build/java-example Quickstart

$(JAVA_JAR):
	$(MVN) -q -DskipTests package

## java-jar: the jar as the suites build it (the JNI library in the dev profile).
.PHONY: java-jar
java-jar:
	$(SUITE_BUILD)
	$(MVN) $(JAVA_TEST_PROFILE) -q -DskipTests package 2>&1 | $(MVN_OUTPUT)

## bench-java: set+get of a short String from 8 threads, our memory store beside a
## ConcurrentHashMap per session (socketio4j's MemoryStore), then our redis:// store beside a
## Redisson RMap per session (socketio4j's RedisStore) on a redis-server the benchmark starts
## and stops itself; prints each pair and its ratio.
bench-java:
	$(MVN) -q -DskipTests package dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=$(abspath $(JAVA_DIR))/target/bench.classpath
	java -cp $(JAVA_JAR):$(JAVA_DIR)/target/test-classes:$$(cat $(JAVA_DIR)/target/bench.classpath) io.sessionstore.Bench

## bench-python-async: 64 coroutines doing get/set, AsyncStore beside redis.asyncio (one shared
## client, hget/hset) on a redis-server the script starts on a free 127.0.0.1 port and stops by
## PID; then `await store.get` beside the sync `store.get` on memory://.
.PHONY: bench-python-async bench-socketio
bench-python-async:
	@$(MAKE) --no-print-directory python-install PY_PROFILE=release
	@command -v redis-server >/dev/null || tests/redis/harness.sh true
	$(VENV_PY) bindings/python/bench_async.py

## bench-socketio: python-socketio clients doing request/ack events that read and write the
## session; python-socketio's own in-process session beside sessionstore.socketio on memory://
## and on a throwaway redis-server, for a threaded Server and an AsyncServer under uvicorn.
bench-socketio:
	@$(MAKE) --no-print-directory python-install PY_PROFILE=release
	@command -v redis-server >/dev/null || tests/redis/harness.sh true
	$(VENV_PY) bindings/python/bench_socketio.py

## fuzz (fuzz/README.md): coverage-guided fuzzing, FUZZ_SECONDS per target, one target at a time.
## The Rust targets (ffi_ops: the C ABI against a model; msgpack: the validator; url: the url
## parser) are libFuzzer binaries built by cargo-fuzz on the stable toolchain (`-s none`: no
## sanitizer, which needs nightly; the targets are safe Rust over the library); Python's
## unpackb runs under atheris against a wheel built with coverage instrumentation; Java's
## ValueCodec under Jazzer against the jar. Each run starts from fuzz/corpus/<target>/ and
## merges back only the inputs that add coverage; findings land in fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_RUST_TARGETS := ffi_ops msgpack url
CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ_FLAGS := --sanitizer none --release --features libfuzzer
FUZZ_WORK := build/fuzz
ATHERIS_VERSION := 3.0.0
JAZZER_VERSION := 0.24.0
M2 := $(HOME)/.m2/repository/com/code-intelligence
JAZZER_CP := $(M2)/jazzer/$(JAZZER_VERSION)/jazzer-$(JAZZER_VERSION).jar:$(M2)/jazzer-api/$(JAZZER_VERSION)/jazzer-api-$(JAZZER_VERSION).jar

.PHONY: fuzz fuzz-rust fuzz-python fuzz-java fuzz-replay fuzz-replay-rust fuzz-replay-python fuzz-replay-java fuzz-cmin cargo-fuzz fuzz-java-classes

cargo-fuzz:
	@cargo fuzz --version 2>/dev/null | grep -qx "cargo-fuzz $(CARGO_FUZZ_VERSION)" || \
	  $(CARGO) install --quiet --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION)

fuzz: fuzz-rust fuzz-python fuzz-java

## fuzz_run TARGET, COMMAND: COMMAND fuzzes into a scratch corpus seeded with the committed one
## (COMMAND gets both folders), then what adds coverage is merged into the committed one.
fuzz-rust: cargo-fuzz
	cargo fuzz build $(CARGO_FUZZ_FLAGS)
	@for t in $(FUZZ_RUST_TARGETS); do \
	  echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; rm -rf $(FUZZ_WORK)/corpus/$$t; mkdir -p $(FUZZ_WORK)/corpus/$$t; \
	  cargo fuzz run $(CARGO_FUZZ_FLAGS) $$t $(FUZZ_WORK)/corpus/$$t fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 2>&1 | grep -v '^#[0-9]' ; \
	  cargo fuzz run $(CARGO_FUZZ_FLAGS) $$t fuzz/corpus/$$t $(FUZZ_WORK)/corpus/$$t -- $(FUZZ_MERGE) 2>&1 | tail -1; \
	done

## Merges keep an input only for a new edge (not a new hit count), which keeps corpora small.
FUZZ_MERGE := -merge=1 -use_counters=0

## fuzz-cmin: minimizes every committed Rust corpus in place (after long runs): the smallest
## set of its inputs that covers the same edges.
fuzz-cmin: cargo-fuzz
	@for t in $(FUZZ_RUST_TARGETS); do rm -rf $(FUZZ_WORK)/cmin/$$t; mkdir -p $(FUZZ_WORK)/cmin/$$t; \
	  cargo fuzz run $(CARGO_FUZZ_FLAGS) $$t $(FUZZ_WORK)/cmin/$$t fuzz/corpus/$$t -- $(FUZZ_MERGE) 2>&1 | tail -1; \
	  rm -rf fuzz/corpus/$$t; mv $(FUZZ_WORK)/cmin/$$t fuzz/corpus/$$t; done

## fuzz-replay: every target over its committed corpus, once, no fuzzer: a `cargo test` of the
## fuzz crate (its libFuzzer binaries are not built), the Python target against the .venv wheel
## (made by test-python or python-install) and the Java target against the jar (test-java's).
## The line to wire into `make test`, after test-python and test-java.
fuzz-replay: fuzz-replay-rust fuzz-replay-python fuzz-replay-java

fuzz-replay-rust:
	$(CARGO) test --quiet $(WORKSPACE) --test replay

fuzz-replay-python:
	@$(VENV_PY) -c 'import sessionstore' 2>/dev/null || $(MAKE) --no-print-directory python-install
	$(SUITE_BUILD)
	$(VENV_PY) fuzz/python/replay.py

## The harness compiled against the jar (built in the dev profile when test-java has not).
fuzz-java-classes:
	@test -f $(JAVA_JAR) || $(MAKE) --no-print-directory java-jar
	@mkdir -p $(FUZZ_WORK)/java
	javac -Xlint:all -Werror -d $(FUZZ_WORK)/java -cp $(JAVA_JAR) fuzz/java/io/sessionstore/ValueCodecFuzz.java

fuzz-replay-java: fuzz-java-classes
	java -cp $(JAVA_JAR):$(FUZZ_WORK)/java io.sessionstore.ValueCodecFuzz fuzz/corpus/value_codec

## fuzz-python: atheris (pinned, from PyPI) in a venv of its own, over a wheel whose Rust code
## carries libFuzzer's coverage counters (RUSTFLAGS below, its own target directory), loaded
## after atheris's libFuzzer (LD_PRELOAD), so the decoder's own branches guide the fuzzer. The
## explicit --target keeps RUSTFLAGS off build scripts and proc macros.
FUZZ_VENV := $(FUZZ_WORK)/venv
HOST_TRIPLE = $(shell rustc -vV | sed -n 's/^host: //p')
FUZZ_PY := $(FUZZ_VENV)/bin/python
SANCOV_RUSTFLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=3 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks

fuzz-python:
	@test -x $(FUZZ_PY) || python3 -m venv $(FUZZ_VENV)
	@$(FUZZ_PY) -c 'import atheris' 2>/dev/null || $(FUZZ_PY) -m pip install --quiet atheris==$(ATHERIS_VERSION) maturin
	$(CARGO) build --quiet
	CARGO_TARGET_DIR=$(CURDIR)/target/fuzz-python RUSTFLAGS="$(SANCOV_RUSTFLAGS)" \
	  MATURIN_PEP517_ARGS="--profile dev --target $(HOST_TRIPLE)" PATH="$(CURDIR)/$(FUZZ_VENV)/bin:$$PATH" \
	  $(FUZZ_PY) -m pip install --quiet --no-build-isolation --force-reinstall --no-deps ./bindings/python
	@rm -rf $(FUZZ_WORK)/corpus/unpackb; mkdir -p $(FUZZ_WORK)/corpus/unpackb fuzz/artifacts/unpackb
	LD_PRELOAD="$$($(FUZZ_PY) -c 'import atheris, os; print(os.path.join(atheris.path(), "ubsan_with_fuzzer.so"))')" \
	  $(FUZZ_PY) fuzz/python/unpackb.py $(FUZZ_WORK)/corpus/unpackb fuzz/corpus/unpackb \
	  -max_total_time=$(FUZZ_SECONDS) -timeout=10 -artifact_prefix=fuzz/artifacts/unpackb/ -print_final_stats=1 2>&1 | grep -v '^#[0-9]'
	LD_PRELOAD="$$($(FUZZ_PY) -c 'import atheris, os; print(os.path.join(atheris.path(), "ubsan_with_fuzzer.so"))')" \
	  $(FUZZ_PY) fuzz/python/unpackb.py $(FUZZ_MERGE) fuzz/corpus/unpackb $(FUZZ_WORK)/corpus/unpackb 2>&1 | tail -1

## fuzz-java: Jazzer (pinned, from Maven Central) over the jar; only io.sessionstore classes
## (the relocated msgpack-core among them) are instrumented.
fuzz-java: fuzz-java-classes
	@test -f $(M2)/jazzer/$(JAZZER_VERSION)/jazzer-$(JAZZER_VERSION).jar || \
	  mvn -B -ntp -q dependency:get -Dartifact=com.code-intelligence:jazzer:$(JAZZER_VERSION)
	@rm -rf $(FUZZ_WORK)/corpus/value_codec; mkdir -p $(FUZZ_WORK)/corpus/value_codec fuzz/artifacts/value_codec
	java -cp $(JAZZER_CP):$(JAVA_JAR):$(FUZZ_WORK)/java com.code_intelligence.jazzer.Jazzer \
	  --target_class=io.sessionstore.ValueCodecFuzz --instrumentation_includes='io.sessionstore.**' \
	  $(FUZZ_WORK)/corpus/value_codec fuzz/corpus/value_codec -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -artifact_prefix=fuzz/artifacts/value_codec/ -print_final_stats=1 2>&1 | grep -v '^#[0-9]'
	java -cp $(JAZZER_CP):$(JAVA_JAR):$(FUZZ_WORK)/java com.code_intelligence.jazzer.Jazzer \
	  --target_class=io.sessionstore.ValueCodecFuzz --instrumentation_includes='io.sessionstore.**' \
	  $(FUZZ_MERGE) fuzz/corpus/value_codec $(FUZZ_WORK)/corpus/value_codec 2>&1 | tail -1

## cli: the `sessionstore` command-line tool at target/debug/sessionstore;
## `cargo install --path cli` installs it. Part of what `make build` builds.
.PHONY: cli test-cli
cli:
	$(CARGO) build --quiet -p sessionstore-cli

## test-cli: the tool's unit tests, and the tool run against the harness's servers (as
## test-suites runs it, or `tests/redis/harness.sh make test-cli`): sessions written through
## Rust, Python (the wheel in .venv, from test-python), Java (the jar of test-java) and C
## (target/debug/libsessionstore.so, built here) listed, shown, counted and destroyed.
## Without the harness only the tests that need no server run; a missing wheel or jar is
## reported as skipped.
test-cli:
	$(SUITE_BUILD)
	@$(MAKE) --no-print-directory $(LIB_DIR)/$(SONAME)
	$(CARGO) test --quiet $(WORKSPACE) --bin sessionstore --test cli

## soak: a long run (SOAK_SECONDS per target, 600 by default) of 16 threads over churning
## sessions on memory://, redis://, redis+cluster:// and hazelcast://, with a server fault every minute
## (kill -9, SIGSTOP, restarts, failovers), checked against each thread's model of its
## sessions: no foreign or stale read, no call over timeout_ms + 250 ms, RSS growth under 5 %,
## file descriptors flat. benches/soak/main.rs says what it does; not part of `make test`.
SOAK_SECONDS ?= 600
SOAK_TARGETS ?= memory redis cluster hazelcast
.PHONY: soak
soak:
	SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak.sh $(SOAK_TARGETS)
