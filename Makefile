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

## test-c: every tests/c/*.c, built with the strict flags against the header and the .so, each
## run under valgrind: invalid accesses and definite leaks fail; "still reachable" and
## "possibly lost" do not (Rust's runtime keeps thread-local and registry blocks to the end).
## Valgrind serialises threads, so test_threads also runs natively first, in real parallel.
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
	@for t in $(C_TESTS); do echo "== $$(basename $$t) (valgrind)"; $(VALGRIND) ./$$t; done
	@echo "== README's C example (valgrind)"
	@awk '/^```c$$/{f=1;next} /^```$$/{f=0} f' README.md > build/readme_example.c
	@cc $(CFLAGS_STRICT) build/readme_example.c -o build/readme_example -L$(LIB_DIR) -lsessionstore -Wl,-rpath,$(CURDIR)/$(LIB_DIR)
	@$(VALGRIND) ./build/readme_example | grep -qx 'userId = 42' && echo "README example: 1 passed, 0 failed"

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings

bench:
	$(CARGO) bench --bench memory
