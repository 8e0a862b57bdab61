/*
 * check.h: the few helpers the C tests share. No framework: every check counts a pass or a
 * failure, a failure prints file:line, what was expected and ss_last_error(), and
 * check_finish() prints "N passed, M failed" and gives the exit status.
 *
 * The counters are atomic so that threads may check too.
 */
#ifndef SESSIONSTORE_TESTS_CHECK_H
#define SESSIONSTORE_TESTS_CHECK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionstore.h"

static atomic_long check_passed;
static atomic_long check_failed;

/* A string literal as the (pointer, length) pair every ss_* call takes; no terminator is
 * passed, so the library never relies on one. */
#define LIT(s) (s), (sizeof(s) - 1)

static inline bool check_true(bool ok, const char *what, const char *file, int line) {
    if (ok) {
        atomic_fetch_add(&check_passed, 1);
    } else {
        atomic_fetch_add(&check_failed, 1);
        fprintf(stderr, "%s:%d: CHECK failed: %s (ss_last_error: \"%s\")\n", file, line, what,
                ss_last_error());
    }
    return ok;
}

/* A failing status also has to leave a message in ss_last_error(): checked on every error. */
static inline bool check_status(ss_status got, ss_status want, const char *what,
                                const char *file, int line) {
    if (got != want) {
        atomic_fetch_add(&check_failed, 1);
        fprintf(stderr, "%s:%d: %s -> %s (%d), expected %s (%d); ss_last_error: \"%s\"\n", file,
                line, what, ss_status_name(got), (int)got, ss_status_name(want), (int)want,
                ss_last_error());
        return false;
    }
    if (want < 0 && ss_last_error()[0] == '\0') {
        atomic_fetch_add(&check_failed, 1);
        fprintf(stderr, "%s:%d: %s -> %s but ss_last_error() is empty\n", file, line, what,
                ss_status_name(got));
        return false;
    }
    atomic_fetch_add(&check_passed, 1);
    return true;
}

#define CHECK(cond) check_true((cond) ? true : false, #cond, __FILE__, __LINE__)
#define EXPECT_STATUS(expr, want) check_status((expr), (want), #expr, __FILE__, __LINE__)
#define EXPECT_OK(expr) EXPECT_STATUS((expr), SS_OK)

/* Byte-exact comparison of a returned buffer with an expected one. */
static inline bool check_bytes(const ss_bytes *got, const void *want, size_t want_len,
                               const char *what, const char *file, int line) {
    bool ok = got->len == want_len && (want_len == 0 || memcmp(got->data, want, want_len) == 0);
    if (!ok) {
        fprintf(stderr, "%s:%d: %s: got %zu bytes [", file, line, what, got->len);
        for (size_t i = 0; i < got->len && i < 64; i++) {
            fprintf(stderr, "%s%02x", i ? " " : "", got->data[i]);
        }
        fprintf(stderr, "], expected %zu bytes [", want_len);
        for (size_t i = 0; i < want_len && i < 64; i++) {
            fprintf(stderr, "%s%02x", i ? " " : "", ((const uint8_t *)want)[i]);
        }
        fprintf(stderr, "]\n");
    }
    return check_true(ok, what, file, line);
}
#define CHECK_BYTES(got, want, want_len) \
    check_bytes((got), (want), (want_len), #got " == " #want, __FILE__, __LINE__)

/* True when every byte of the object at p is zero: out-parameters after an error. */
static inline bool all_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}
#define CHECK_ZEROED(obj) check_true(all_zero(&(obj), sizeof(obj)), #obj " is zeroed", __FILE__, __LINE__)

/* Garbage in an out-parameter before a call, so that zeroing on error is observable. */
#define GARBAGE(obj) memset(&(obj), 0xA5, sizeof(obj))

static inline ss_factory open_factory_at(const char *url, const char *file, int line) {
    ss_factory f = 0;
    check_status(ss_factory_open(url, strlen(url), &f), SS_OK, url, file, line);
    return f;
}
#define OPEN_FACTORY(url) open_factory_at((url), __FILE__, __LINE__)

static inline ss_store open_store_at(ss_factory f, const char *sid, const char *file, int line) {
    ss_store s = 0;
    check_status(ss_store_open(f, sid, strlen(sid), &s), SS_OK, sid, file, line);
    return s;
}
#define OPEN_STORE(f, sid) open_store_at((f), (sid), __FILE__, __LINE__)

static inline int check_finish(void) {
    long passed = atomic_load(&check_passed);
    long failed = atomic_load(&check_failed);
    printf("%ld passed, %ld failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 && passed > 0 ? 0 : 1;
}

#endif /* SESSIONSTORE_TESTS_CHECK_H */
