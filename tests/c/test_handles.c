/*
 * test_handles.c: what the handle registry promises whatever the backend, so on memory://
 * alone (docs/API.md §4), and memory://'s lease (§5). Handle 0, forged handles and handles of
 * the wrong kind are SS_ERR_INVALID_HANDLE and harm nothing; a released handle answers
 * SS_ERR_INVALID_HANDLE for every call, and no handle number is ever issued twice; the ttl
 * lease reclaims an idle session and never a held one, and a leased factory closes cleanly.
 * What destroy, destroy_session and factory close do to every call afterwards depends on the
 * backend's view of the session: test_backends.c checks it on every url.
 */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "check.h"

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
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
    EXPECT_STORE_CALLS(0, SS_ERR_INVALID_HANDLE, true, "handle 0");
    EXPECT_STATUS(ss_store_release(0), SS_ERR_INVALID_HANDLE);
    EXPECT_FACTORY_CALLS(0, SS_ERR_INVALID_HANDLE, "handle 0");
    EXPECT_STATUS(ss_factory_close(0), SS_ERR_INVALID_HANDLE);

    /* A factory handle is not a store handle, and a store handle is not a factory handle. */
    EXPECT_STORE_CALLS(f, SS_ERR_INVALID_HANDLE, true, "a factory handle used as a store");
    EXPECT_STATUS(ss_store_release(f), SS_ERR_INVALID_HANDLE);
    EXPECT_FACTORY_CALLS(s, SS_ERR_INVALID_HANDLE, "a store handle used as a factory");
    EXPECT_STATUS(ss_factory_close(s), SS_ERR_INVALID_HANDLE);

    /* Handles near live ones, and special values. */
    const uint64_t special[] = {
        1, 2, 0xFFFFFFFFFFFFFFFFull, 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull,
        s + 1, s - 1, f + 1, f - 1, s ^ (1ull << 63), f ^ (1ull << 63),
        s & 0x00FFFFFFFFFFFFFFull, f & 0x00FFFFFFFFFFFFFFull, s ^ f,
        /* the same slot under another generation (bits 32 and up, below the kind tag) */
        s + (1ull << 32), s - (1ull << 32), f + (1ull << 32), s ^ (0xFFFFFFull << 32),
        /* a tag, a generation and a slot that were never issued together */
        0x5E00000000000000ull | 0xFFFFFFFFFFFFull,
    };
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        uint64_t h = special[i];
        if (h == s || h == f) {
            continue;
        }
        char what[64];
        snprintf(what, sizeof what, "special value #%zu", i);
        EXPECT_STORE_CALLS(h, SS_ERR_INVALID_HANDLE, true, what);
        EXPECT_STATUS(ss_store_release(h), SS_ERR_INVALID_HANDLE);
        EXPECT_FACTORY_CALLS(h, SS_ERR_INVALID_HANDLE, what);
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
    CHECK(STORE_LEN(s) == 1);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

static void test_release(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store a = OPEN_STORE(f, "released");
    ss_store b = OPEN_STORE(f, "released");
    EXPECT_OK(ss_store_set(a, LIT("k"), (const uint8_t *)"v", 1));

    EXPECT_OK(ss_store_release(a));
    EXPECT_STORE_CALLS(a, SS_ERR_INVALID_HANDLE, true, "after release");
    EXPECT_STATUS(ss_store_release(a), SS_ERR_INVALID_HANDLE); /* double release */
    EXPECT_STATUS(ss_store_release(a), SS_ERR_INVALID_HANDLE);

    /* The other handle lives on (and the data: test_backends.c); a new handle never reuses
     * the old number. */
    EXPECT_OK(ss_store_len(b, &(size_t){0}));
    ss_store c = OPEN_STORE(f, "released");
    CHECK(c != a && c != b);
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
    CHECK(STORE_LEN(idle) == 0);
    ss_bytes b;
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(idle, LIT("k"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);

    /* A session with an open handle is never reclaimed. */
    CHECK(STORE_LEN(held) == 1);
    EXPECT_OK(ss_store_get(held, LIT("k"), &b));
    CHECK_BYTES(&b, "v", 1);
    ss_bytes_free(&b);
    CHECK(STORE_LEN(held_twice2) == 1);
    ss_store again = OPEN_STORE(f, "held");
    CHECK(STORE_LEN(again) == 1);
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
    CHECK(STORE_LEN(s) == 1);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(g));

    /* A factory with a lease (and so its sweeper thread) closes cleanly, a handle still open. */
    ss_factory leased = OPEN_FACTORY("memory://?ttl_ms=10");
    ss_store l = OPEN_STORE(leased, "leased");
    EXPECT_OK(ss_factory_close(leased));
    EXPECT_STATUS(ss_store_len(l, &(size_t){0}), SS_ERR_CLOSED);
    EXPECT_OK(ss_store_release(l));
}

int main(void) {
    check_set_label("memory://");
    test_zero_and_forged_handles();
    test_release();
    test_lease();
    return check_finish();
}
