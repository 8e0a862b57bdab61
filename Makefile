# sessionstore task runner. `make demo` and `make test` work on a fresh machine.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO ?= cargo
LIB_DIR := target/debug
CFLAGS_STRICT := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude

.PHONY: help setup build header check-header demo test test-rust test-c test-python test-java bench lint

help:
	@echo "make demo          build the library and walk one session's life on memory://"
	@echo "make test          every suite: Rust, C (under valgrind), Python, Java"
	@echo "make test-rust | test-c | test-python | test-java | bench | lint | header | check-header"

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

test: setup test-rust test-c test-python test-java
	@echo "make test: every suite passed"

test-rust:
	$(CARGO) test --quiet

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings

bench:
	$(CARGO) bench --bench memory

## Redis (issue 4) ---------------------------------------------------------------------------
.PHONY: test-redis bench-redis

## test-redis: the Rust backend suites against real servers that tests/redis/harness.sh starts
## on 127.0.0.1 (standalone + ACL users, TLS, Sentinel, a 6-node Cluster, a TLS Cluster),
## then stops by PID; the fault tests (kill -9, SIGSTOP, failovers) run last.
REDIS_TESTS := --test backends --test redis_faults
test-redis:
	$(CARGO) test --quiet --no-run $(REDIS_TESTS)
	tests/redis/harness.sh $(CARGO) test --quiet $(REDIS_TESTS)

## bench-redis: C ABI set/get beside redis-benchmark on one local redis-server (issue 4).
bench-redis:
	scripts/bench-redis.sh
