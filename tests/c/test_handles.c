/*
 * test_handles.c: handles and the lifecycle of API.md §4/§5. Handle 0, forged handles and
 * handles of the wrong kind are SS_ERR_INVALID_HANDLE and harm nothing; release, destroy,
 * destroy_session and factory close answer what the header says for every call afterwards;
 * the ttl lease reclaims an idle session and never a held one.
 */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "check.h"

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* Every call that takes a store handle answers `want`; out-parameters end up zeroed. */
static void expect_store_calls(ss_store s, ss_status want, bool include_destroy, const char *what) {
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
        fprintf(stderr, "  ^ store handle 0x%llx: %s\n", (unsigned long long)s, what);
    }
}

/* Every call that takes a factory handle (but close) answers `want`. */
static void expect_factory_calls(ss_factory f, ss_status want, const char *what) {
    ss_store s;
    bool ok = true;
    GARBAGE(s);
    ok &= EXPECT_STATUS(ss_store_open(f, LIT("some-session"), &s), want);
    ok &= CHECK_ZEROED(s);
    ok &= EXPECT_STATUS(ss_factory_destroy_session(f, LIT("some-session")), want);
    if (!ok) {
        fprintf(stderr, "  ^ factory handle 0x%llx: %s\n", (unsigned long long)f,
                what);
    }
}

static size_t len_of(ss_store s) {
    size_t n = 12345;
    EXPECT_OK(ss_store_len(s, &n));
    return n;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_random(void) {
    /* xorshift64*: fixed seed, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void test_zero_and_forged_handles(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "victim");
    EXPECT_OK(ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1));

    /* Handle 0 is never valid. */
    expect_store_calls(0, SS_ERR_INVALID_HANDLE, true, "handle 0");
    EXPECT_STATUS(ss_store_release(0), SS_ERR_INVALID_HANDLE);
    expect_factory_calls(0, SS_ERR_INVALID_HANDLE, "handle 0");
    EXPECT_STATUS(ss_factory_close(0), SS_ERR_INVALID_HANDLE);

    /* A factory handle is not a store handle, and a store handle is not a factory handle. */
    expect_store_calls(f, SS_ERR_INVALID_HANDLE, true, "a factory handle used as a store");
    EXPECT_STATUS(ss_store_release(f), SS_ERR_INVALID_HANDLE);
    expect_factory_calls(s, SS_ERR_INVALID_HANDLE, "a store handle used as a factory");
    EXPECT_STATUS(ss_factory_close(s), SS_ERR_INVALID_HANDLE);

    /* Handles near live ones, and special values. */
    const uint64_t special[] = {
        1, 2, 0xFFFFFFFFFFFFFFFFull, 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull,
        s + 1, s - 1, f + 1, f - 1, s ^ (1ull << 63), f ^ (1ull << 63),
        s & 0x00FFFFFFFFFFFFFFull, f & 0x00FFFFFFFFFFFFFFull, s ^ f,
        /* the same slot under another generation (bits 32 and up, below the kind tag) */
        s + (1ull << 32), s - (1ull << 32), f + (1ull << 32), s ^ (0xFFFFFFull << 32),
    };
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        uint64_t h = special[i];
        if (h == s || h == f) {
            continue;
        }
        char what[64];
        snprintf(what, sizeof what, "special value #%zu", i);
        expect_store_calls(h, SS_ERR_INVALID_HANDLE, true, what);
        EXPECT_STATUS(ss_store_release(h), SS_ERR_INVALID_HANDLE);
        expect_factory_calls(h, SS_ERR_INVALID_HANDLE, what);
        EXPECT_STATUS(ss_factory_close(h), SS_ERR_INVALID_HANDLE);
    }

    /* Random numbers: none may touch the live handles. */
    for (int i = 0; i < 2000; i++) {
        uint64_t h = next_random();
        if (h == s || h == f || h == 0) {
            continue;
        }
        size_t n = 7;
        bool all = true;
        all &= ss_store_len(h, &n) == SS_ERR_INVALID_HANDLE && n == 0;
        all &= ss_store_set(h, LIT("k"), (const uint8_t *)"x", 1) == SS_ERR_INVALID_HANDLE;
        all &= ss_store_destroy(h) == SS_ERR_INVALID_HANDLE;
        all &= ss_store_release(h) == SS_ERR_INVALID_HANDLE;
        all &= ss_factory_destroy_session(h, LIT("victim")) == SS_ERR_INVALID_HANDLE;
        all &= ss_factory_close(h) == SS_ERR_INVALID_HANDLE;
        if (!CHECK(all)) {
            fprintf(stderr, "  ^ random handle 0x%llx\n", (unsigned long long)h);
        }
    }

    /* The live handles were not hurt by any of it. */
    ss_bytes b;
    EXPECT_OK(ss_store_get(s, LIT("k"), &b));
    CHECK_BYTES(&b, "v", 1);
    ss_bytes_free(&b);
    CHECK(len_of(s) == 1);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

static void test_release(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store a = OPEN_STORE(f, "released");
    ss_store b = OPEN_STORE(f, "released");
    EXPECT_OK(ss_store_set(a, LIT("k"), (const uint8_t *)"v", 1));

    EXPECT_OK(ss_store_release(a));
    expect_store_calls(a, SS_ERR_INVALID_HANDLE, true, "after release");
    EXPECT_STATUS(ss_store_release(a), SS_ERR_INVALID_HANDLE); /* double release */
    EXPECT_STATUS(ss_store_release(a), SS_ERR_INVALID_HANDLE);

    /* The other handle and the data live on; a new handle never reuses the old number. */
    CHECK(len_of(b) == 1);
    ss_store c = OPEN_STORE(f, "released");
    CHECK(c != a && c != b);
    CHECK(len_of(c) == 1);
    EXPECT_OK(ss_store_release(b));
    EXPECT_OK(ss_store_release(c));
    EXPECT_STATUS(ss_store_release(b), SS_ERR_INVALID_HANDLE);

    /* Open and release many times: every handle is new, and every released one stays dead
     * even when the library reuses its storage. */
    enum { CYCLES = 500 };
    static ss_store seen[CYCLES];
    bool all_new = true, all_dead = true;
    for (int i = 0; i < CYCLES; i++) {
        ss_store h = 0;
        if (ss_store_open(f, LIT("released"), &h) != SS_OK) {
            all_new = false;
            break;
        }
        for (int j = 0; j < i; j++) {
            all_new &= seen[j] != h;
        }
        all_new &= h != a && h != b && h != c && h != 0;
        seen[i] = h;
        all_dead &= ss_store_release(h) == SS_OK;
        all_dead &= ss_store_len(h, &(size_t){0}) == SS_ERR_INVALID_HANDLE;
        all_dead &= ss_store_len(a, &(size_t){0}) == SS_ERR_INVALID_HANDLE;
    }
    CHECK(all_new);
    CHECK(all_dead);
    for (int j = 0; j < CYCLES; j++) {
        all_dead &= ss_store_release(seen[j]) == SS_ERR_INVALID_HANDLE;
    }
    CHECK(all_dead);
    EXPECT_OK(ss_factory_close(f));
}

static void test_destroy(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store a = OPEN_STORE(f, "doomed");
    ss_store b = OPEN_STORE(f, "doomed"); /* a second handle on the same session */
    ss_store other = OPEN_STORE(f, "bystander");
    EXPECT_OK(ss_store_set(a, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(other, LIT("k"), (const uint8_t *)"v", 1));

    EXPECT_OK(ss_store_destroy(a));
    expect_store_calls(a, SS_ERR_DESTROYED, false, "after destroy");
    expect_store_calls(b, SS_ERR_DESTROYED, false, "second handle after destroy");
    /* Destroying a destroyed session is SS_OK, through either handle. */
    EXPECT_OK(ss_store_destroy(a));
    EXPECT_OK(ss_store_destroy(b));
    CHECK(len_of(other) == 1);

    /* A later open of the same id is a new, empty session ... */
    ss_store fresh = OPEN_STORE(f, "doomed");
    CHECK(len_of(fresh) == 0);
    ss_bytes out;
    GARBAGE(out);
    EXPECT_STATUS(ss_store_get(fresh, LIT("k"), &out), SS_NOT_FOUND);
    CHECK_ZEROED(out);
    EXPECT_OK(ss_store_set(fresh, LIT("new"), (const uint8_t *)"n", 1));
    /* ... which the old handles never see: they stay destroyed, and write nothing into it. */
    expect_store_calls(a, SS_ERR_DESTROYED, false, "old handle after a new open");
    expect_store_calls(b, SS_ERR_DESTROYED, false, "old second handle after a new open");
    CHECK(len_of(fresh) == 1);

    /* Release still works on destroyed handles, once. */
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_store_release(b));
    EXPECT_STATUS(ss_store_release(a), SS_ERR_INVALID_HANDLE);
    expect_store_calls(b, SS_ERR_INVALID_HANDLE, true, "destroyed, then released");
    EXPECT_OK(ss_store_release(fresh));
    EXPECT_OK(ss_store_release(other));
    EXPECT_OK(ss_factory_close(f));
}

static void test_destroy_session(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store a = OPEN_STORE(f, "sess-1");
    ss_store b = OPEN_STORE(f, "sess-1");
    ss_store other = OPEN_STORE(f, "sess-2");
    EXPECT_OK(ss_store_set(a, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(other, LIT("k"), (const uint8_t *)"v", 1));

    EXPECT_OK(ss_factory_destroy_session(f, LIT("sess-1")));
    expect_store_calls(a, SS_ERR_DESTROYED, false, "after destroy_session");
    expect_store_calls(b, SS_ERR_DESTROYED, false, "second handle after destroy_session");
    CHECK(len_of(other) == 1);
    EXPECT_OK(ss_factory_destroy_session(f, LIT("sess-1"))); /* again: nothing there, SS_OK */
    EXPECT_OK(ss_factory_destroy_session(f, LIT("never-opened")));

    ss_store fresh = OPEN_STORE(f, "sess-1");
    CHECK(len_of(fresh) == 0);
    EXPECT_OK(ss_store_release(fresh));
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_store_release(b));
    EXPECT_OK(ss_store_release(other));

    /* A session with data and no open handle. */
    ss_store c = OPEN_STORE(f, "sess-3");
    EXPECT_OK(ss_store_set(c, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_release(c));
    EXPECT_OK(ss_factory_destroy_session(f, LIT("sess-3")));
    c = OPEN_STORE(f, "sess-3");
    CHECK(len_of(c) == 0);
    EXPECT_OK(ss_store_release(c));
    EXPECT_OK(ss_factory_close(f));
}

static void test_close(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_factory g = OPEN_FACTORY("memory://");
    ss_store a = OPEN_STORE(f, "closing");
    ss_store a2 = OPEN_STORE(f, "closing");
    ss_store destroyed = OPEN_STORE(f, "destroyed-before-close");
    ss_store elsewhere = OPEN_STORE(g, "closing");
    EXPECT_OK(ss_store_set(a, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(elsewhere, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_destroy(destroyed));

    EXPECT_OK(ss_factory_close(f));
    expect_store_calls(a, SS_ERR_CLOSED, true, "after factory close");
    expect_store_calls(a2, SS_ERR_CLOSED, true, "second handle after factory close");
    expect_store_calls(destroyed, SS_ERR_CLOSED, true, "destroyed handle after factory close");
    expect_factory_calls(f, SS_ERR_CLOSED, "after factory close");
    EXPECT_OK(ss_factory_close(f)); /* closing twice is SS_OK */
    expect_factory_calls(f, SS_ERR_CLOSED, "after a second close");

    /* Another factory is untouched. */
    CHECK(len_of(elsewhere) == 1);

    /* Release still works, once. */
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_store_release(a2));
    EXPECT_OK(ss_store_release(destroyed));
    EXPECT_STATUS(ss_store_release(a), SS_ERR_INVALID_HANDLE);
    expect_store_calls(a2, SS_ERR_INVALID_HANDLE, true, "closed, then released");
    EXPECT_OK(ss_factory_close(f));

    /* Closing with no store released first, then releasing: also fine. */
    EXPECT_OK(ss_factory_close(g));
    EXPECT_STATUS(ss_store_len(elsewhere, &(size_t){0}), SS_ERR_CLOSED);
    EXPECT_OK(ss_store_release(elsewhere));

    /* A factory with a lease (and so its sweeper thread) closes cleanly too. */
    ss_factory leased = OPEN_FACTORY("memory://?ttl_ms=10");
    ss_store l = OPEN_STORE(leased, "leased");
    EXPECT_OK(ss_factory_close(leased));
    EXPECT_STATUS(ss_store_len(l, &(size_t){0}), SS_ERR_CLOSED);
    EXPECT_OK(ss_store_release(l));
}

static void test_lease(void) {
    ss_factory f = OPEN_FACTORY("memory://?ttl_ms=100");
    ss_store idle = OPEN_STORE(f, "idle");
    ss_store held = OPEN_STORE(f, "held");
    ss_store held_twice = OPEN_STORE(f, "held-twice");
    ss_store held_twice2 = OPEN_STORE(f, "held-twice");
    EXPECT_OK(ss_store_set(idle, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(held, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(held_twice, LIT("k"), (const uint8_t *)"v", 1));

    /* The last handle of "idle" goes; one of the two of "held-twice" goes. */
    EXPECT_OK(ss_store_release(idle));
    EXPECT_OK(ss_store_release(held_twice));
    sleep_ms(350); /* > 3 × ttl: the lease of "idle" has run out */

    idle = OPEN_STORE(f, "idle");
    CHECK(len_of(idle) == 0);
    ss_bytes b;
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(idle, LIT("k"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);

    /* A session with an open handle is never reclaimed. */
    CHECK(len_of(held) == 1);
    EXPECT_OK(ss_store_get(held, LIT("k"), &b));
    CHECK_BYTES(&b, "v", 1);
    ss_bytes_free(&b);
    CHECK(len_of(held_twice2) == 1);
    ss_store again = OPEN_STORE(f, "held");
    CHECK(len_of(again) == 1);
    EXPECT_OK(ss_store_release(again));

    EXPECT_OK(ss_store_release(idle));
    EXPECT_OK(ss_store_release(held));
    EXPECT_OK(ss_store_release(held_twice2));
    EXPECT_OK(ss_factory_close(f));

    /* With a long lease, a released session is still there when reopened. */
    ss_factory g = OPEN_FACTORY("memory://?ttl_ms=600000");
    ss_store s = OPEN_STORE(g, "reconnect");
    EXPECT_OK(ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_release(s));
    s = OPEN_STORE(g, "reconnect");
    CHECK(len_of(s) == 1);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(g));
}

int main(void) {
    test_zero_and_forged_handles();
    test_release();
    test_destroy();
    test_destroy_session();
    test_close();
    test_lease();
    return check_finish();
}
