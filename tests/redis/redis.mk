# Make rules of the Redis backend, included by the top Makefile.
.PHONY: test-redis bench-redis

## test-redis: the Rust backend suites against real servers that tests/redis/harness.sh starts
## on 127.0.0.1 (standalone + ACL users, TLS, Sentinel, a 6-node Cluster, a TLS Cluster),
## then stops by PID; the fault tests (kill -9, SIGSTOP, failovers) run last.
REDIS_TESTS := --test backends --test redis_faults
test-redis:
	$(CARGO) test --quiet --no-run $(REDIS_TESTS)
	tests/redis/harness.sh $(CARGO) test --quiet $(REDIS_TESTS)

## bench-redis: C ABI set/get beside redis-benchmark on one local redis-server.
bench-redis:
	scripts/bench-redis.sh
