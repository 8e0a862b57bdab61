/*
 * check.h: the few helpers the C tests share. No framework: every check counts a pass or a
 * failure, a failure prints file:line, what was expected and ss_last_error(), and
 * check_finish() prints "N passed, M failed" and gives the exit status.
 *
 * The counters are atomic so that threads may check too. Every failure names the backend its
 * check ran on (check_label, set once per url before any thread starts), so a line of a run over
 * four urls says which one failed.
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

/* The backend of the checks that follow, as printed (a url, any password as "***"). */
static char check_label[512];
static inline void check_set_label(const char *label) {
    snprintf(check_label, sizeof check_label, "%s", label);
}

/* A string literal as the (pointer, length) pair every ss_* call takes; no terminator is
 * passed, so the library never relies on one. */
#define LIT(s) (s), (sizeof(s) - 1)

static inline bool check_true(bool ok, const char *what, const char *file, int line) {
    if (ok) {
        atomic_fetch_add(&check_passed, 1);
    } else {
        atomic_fetch_add(&check_failed, 1);
        fprintf(stderr, "%s:%d: [%s] CHECK failed: %s (ss_last_error: \"%s\")\n", file, line,
                check_label, what, ss_last_error());
    }
    return ok;
}

/* A failing status also has to leave a message in ss_last_error(): checked on every error. */
static inline bool check_status(ss_status got, ss_status want, const char *what,
                                const char *file, int line) {
    if (got != want) {
        atomic_fetch_add(&check_failed, 1);
        fprintf(stderr, "%s:%d: [%s] %s -> %s (%d), expected %s (%d); ss_last_error: \"%s\"\n",
                file, line, check_label, what, ss_status_name(got), (int)got,
                ss_status_name(want), (int)want, ss_last_error());
        return false;
    }
    if (want < 0 && ss_last_error()[0] == '\0') {
        atomic_fetch_add(&check_failed, 1);
        fprintf(stderr, "%s:%d: [%s] %s -> %s but ss_last_error() is empty\n", file, line,
                check_label, what, ss_status_name(got));
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
        fprintf(stderr, "%s:%d: [%s] %s: got %zu bytes [", file, line, check_label, what,
                got->len);
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

/* A url as printed: the password of its user info (before the authority's last '@') as
 * "***", or all of the user info when it has no ':' to tell the user name from the password.
 * A failure message never holds a password. */
static inline void mask_url(const char *url, char *out, size_t cap) {
    const char *scheme_end = strstr(url, "://");
    const char *auth = scheme_end ? scheme_end + 3 : url;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++) {
        if (*p == '@') {
            at = p;
        }
    }
    if (at == NULL) {
        snprintf(out, cap, "%s", url);
        return;
    }
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    const char *keep_end = colon ? colon + 1 : auth;
    snprintf(out, cap, "%.*s***%s", (int)(keep_end - url), url, at);
}

static inline ss_factory open_factory_at(const char *url, const char *file, int line) {
    ss_factory f = 0;
    char what[1024];
    mask_url(url, what, sizeof what);
    check_status(ss_factory_open(url, strlen(url), &f), SS_OK, what, file, line);
    return f;
}
#define OPEN_FACTORY(url) open_factory_at((url), __FILE__, __LINE__)

static inline ss_store open_store_at(ss_factory f, const char *sid, const char *file, int line) {
    ss_store s = 0;
    check_status(ss_store_open(f, sid, strlen(sid), &s), SS_OK, sid, file, line);
    return s;
}
#define OPEN_STORE(f, sid) open_store_at((f), (sid), __FILE__, __LINE__)

/* The session's key count through `s`, checked to be SS_OK. */
static inline size_t store_len_at(ss_store s, const char *file, int line) {
    size_t n = 12345;
    check_status(ss_store_len(s, &n), SS_OK, "ss_store_len", file, line);
    return n;
}
#define STORE_LEN(s) store_len_at((s), __FILE__, __LINE__)

/* Every call that takes a store handle answers `want` (ss_store_destroy too when
 * include_destroy; never ss_store_release), and every out-parameter ends up zeroed: how a
 * released, forged, destroyed or closed handle must behave (docs/API.md §4, §5). */
static inline void expect_store_calls_at(ss_store s, ss_status want, bool include_destroy,
                                         const char *what, const char *file, int line) {
    ss_bytes b;
    bool flag;
    size_t n;
    bool ok = true;
    const uint8_t v[] = {0xa1, 'v'};

    ok &= EXPECT_STATUS(ss_store_set(s, LIT("k"), v, 2), want);
    ok &= EXPECT_STATUS(ss_store_set_msgpack(s, LIT("k"), v, 2), want);
    GARBAGE(b);
    ok &= EXPECT_STATUS(ss_store_get(s, LIT("k"), &b), want);
    ok &= CHECK_ZEROED(b);
    GARBAGE(b);
    ok &= EXPECT_STATUS(ss_store_get_msgpack(s, LIT("k"), &b), want);
    ok &= CHECK_ZEROED(b);
    GARBAGE(flag);
    ok &= EXPECT_STATUS(ss_store_has(s, LIT("k"), &flag), want);
    ok &= CHECK_ZEROED(flag);
    GARBAGE(flag);
    ok &= EXPECT_STATUS(ss_store_del(s, LIT("k"), &flag), want);
    ok &= CHECK_ZEROED(flag);
    ok &= EXPECT_STATUS(ss_store_del(s, LIT("k"), NULL), want);
    GARBAGE(n);
    ok &= EXPECT_STATUS(ss_store_len(s, &n), want);
    ok &= CHECK_ZEROED(n);
    GARBAGE(b);
    ok &= EXPECT_STATUS(ss_store_keys(s, &b), want);
    ok &= CHECK_ZEROED(b);
    GARBAGE(b);
    ok &= EXPECT_STATUS(ss_store_get_all(s, &b), want);
    ok &= CHECK_ZEROED(b);
    ok &= EXPECT_STATUS(ss_store_set_many(s, (const uint8_t *)"\x81\xa1k\x01", 4), want);
    ok &= EXPECT_STATUS(ss_store_set_many(s, (const uint8_t *)"\x80", 1), want);
    if (include_destroy) {
        ok &= EXPECT_STATUS(ss_store_destroy(s), want);
    }
    if (!ok) {
        fprintf(stderr, "  ^ %s:%d: store handle 0x%llx: %s\n", file, line, (unsigned long long)s,
                what);
    }
}
#define EXPECT_STORE_CALLS(s, want, include_destroy, what) \
    expect_store_calls_at((s), (want), (include_destroy), (what), __FILE__, __LINE__)

/* Every call that takes a factory handle (but close) answers `want`, its out-parameter zeroed. */
static inline void expect_factory_calls_at(ss_factory f, ss_status want, const char *what,
                                           const char *file, int line) {
    ss_store s;
    bool ok = true;
    GARBAGE(s);
    ok &= EXPECT_STATUS(ss_store_open(f, LIT("some-session"), &s), want);
    ok &= CHECK_ZEROED(s);
    ok &= EXPECT_STATUS(ss_factory_destroy_session(f, LIT("some-session")), want);
    if (!ok) {
        fprintf(stderr, "  ^ %s:%d: factory handle 0x%llx: %s\n", file, line,
                (unsigned long long)f, what);
    }
}
#define EXPECT_FACTORY_CALLS(f, want, what) \
    expect_factory_calls_at((f), (want), (what), __FILE__, __LINE__)

static inline int check_finish(void) {
    long passed = atomic_load(&check_passed);
    long failed = atomic_load(&check_failed);
    printf("%ld passed, %ld failed\n", passed, failed);
    fflush(stdout);
    return failed == 0 && passed > 0 ? 0 : 1;
}

#endif /* SESSIONSTORE_TESTS_CHECK_H */
