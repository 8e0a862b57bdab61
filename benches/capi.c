/* The C ABI benchmark: set/get on any url, sequentially and from THREADS threads sharing one
 * factory. Run by scripts/bench-redis.sh beside redis-benchmark on the same server, and by
 * scripts/bench-hazelcast.sh beside Hazelcast's official Java client on the same member.
 *
 *   capi URL SEQ_OPS THREADS OPS_PER_THREAD [GET_FACTOR]
 *
 * GET_FACTOR (default 1) multiplies the reads of seq_get and par_get, for backends whose reads
 * are far faster than their writes (memory://, the near cache).
 *
 * Prints one line per measurement: "<name> <ops> <seconds> <ops/s> <us/op>". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sessionstore.h"

static ss_factory factory;
static long per_thread;
static long get_factor = 1;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void check(enum ss_status s, const char *what) {
    if (s != SS_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, ss_status_name(s), ss_last_error());
        exit(1);
    }
}

static void report(const char *name, long ops, double secs) {
    printf("%s %ld %.3f %.0f %.2f\n", name, ops, secs, (double)ops / secs, secs * 1e6 / (double)ops);
    fflush(stdout);
}

static ss_store open_store(const char *sid) {
    ss_store s = 0;
    check(ss_store_open(factory, sid, strlen(sid), &s), "open");
    return s;
}

static const uint8_t VALUE[] = "value-of-16-byte";
/* Sets alternate between VALUE and this one, so that each set changes the stored value (a
 * backend may skip writing a value that is already there). */
static const uint8_t OTHER[] = "other-16-byte-vl";

static void run_set(ss_store s, long n) {
    for (long i = 0; i < n; i++) check(ss_store_set(s, "field", 5, i % 2 ? OTHER : VALUE, 16), "set");
}

static void run_get(ss_store s, long n) {
    for (long i = 0; i < n; i++) {
        ss_bytes out = {0};
        check(ss_store_get(s, "field", 5, &out), "get");
        ss_bytes_free(&out);
    }
}

struct job { int id; int op; };

static void *worker(void *arg) {
    struct job *j = arg;
    char sid[32];
    snprintf(sid, sizeof sid, "bench-t%d", j->id);
    ss_store s = open_store(sid);
    check(ss_store_set(s, "field", 5, VALUE, 16), "set");
    if (j->op == 0) run_set(s, per_thread); else run_get(s, per_thread * get_factor);
    ss_store_release(s);
    return NULL;
}

static void threaded(const char *name, int threads, int op, long ops) {
    pthread_t t[256];
    struct job jobs[256];
    double start = now();
    for (int i = 0; i < threads; i++) {
        jobs[i].id = i;
        jobs[i].op = op;
        pthread_create(&t[i], NULL, worker, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    report(name, ops * threads, now() - start);
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s URL SEQ_OPS THREADS OPS_PER_THREAD [GET_FACTOR]\n", argv[0]);
        return 2;
    }
    long seq = atol(argv[2]);
    int threads = atoi(argv[3]);
    per_thread = atol(argv[4]);
    if (argc == 6) get_factor = atol(argv[5]);
    if (threads < 1 || threads > 256 || get_factor < 1) return 2;
    check(ss_factory_open(argv[1], strlen(argv[1]), &factory), "factory");
    ss_store s = open_store("bench-seq");
    run_set(s, seq / 10 + 1); /* warm up: connection, script cache */
    run_get(s, seq / 10 + 1);
    double t0 = now();
    run_set(s, seq);
    report("seq_set", seq, now() - t0);
    t0 = now();
    run_get(s, seq * get_factor);
    report("seq_get", seq * get_factor, now() - t0);

    /* set_many of 10 fields, against one set. */
    uint8_t map[256];
    size_t len = 0;
    map[len++] = 0x8a; /* fixmap of 10 */
    for (int i = 0; i < 10; i++) {
        map[len++] = 0xa2; /* fixstr of 2 */
        map[len++] = 'f';
        map[len++] = (uint8_t)('0' + i);
        map[len++] = 0xc4; /* bin 8 */
        map[len++] = 16;
        memcpy(map + len, VALUE, 16);
        len += 16;
    }
    t0 = now();
    for (long i = 0; i < seq; i++) check(ss_store_set_many(s, map, len), "set_many");
    report("seq_set_many10", seq, now() - t0);
    check(ss_store_destroy(s), "destroy");
    ss_store_release(s);

    threaded("par_set", threads, 0, per_thread);
    threaded("par_get", threads, 1, per_thread * get_factor);
    check(ss_factory_close(factory), "close");
    return 0;
}
