# sessionstore task runner. `make demo` and `make test` work on a fresh machine.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO ?= cargo
LIB_DIR := target/debug
CFLAGS_STRICT := -std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude
# Redis (issue 4): test-redis, bench-redis.
include tests/redis/redis.mk

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
