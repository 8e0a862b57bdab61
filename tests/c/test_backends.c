/*
 * test_backends.c: the backend-independent behaviour of the C ABI, run on every url of
 * SESSIONSTORE_TEST_URLS (default "memory://"; tests/redis/harness.sh exports memory, a
 * standalone Redis, Sentinel and Cluster). Comma- or space-separated; a piece without "://"
 * continues the url before it, since sentinel and cluster urls hold commas themselves.
 *
 * For each url: every store operation and its statuses; bad inputs answer the same statuses
 * as on memory://; keys/get_all; set_many all or nothing; a 2 MiB value; destroy and
 * ss_factory_destroy_session; 4 threads on one store; no socket left open once the factories
 * closed. For a shared backend (not memory://)
 * also two factories as two nodes: a session written through one is read through the other,
 * and a destroy through one leaves the other's handles SS_ERR_DESTROYED.
 *
 * Session ids start with "c<pid>-<time>-", so a rerun on a persistent server never meets an
 * earlier run's data; every session this program creates is destroyed before it ends.
 * Operation counts stay small: under valgrind each call is also a Redis round trip.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define MAX_URLS 16
#define THREADS 4
#define THREAD_OPS 100

static char run_prefix[64];
static const char *current_url = "";

/* A session id unique to this run: "<run prefix><name>". */
static void sid_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s%s", run_prefix, name);
}

static ss_store open_named(ss_factory f, const char *name) {
    char sid[128];
    sid_of(sid, sizeof sid, name);
    return OPEN_STORE(f, sid);
}

static size_t session_len(ss_store s) {
    size_t n = 12345;
    EXPECT_OK(ss_store_len(s, &n));
    return n;
}

/* --- every operation and its statuses ------------------------------------------------------ */

static void test_operations(ss_factory f) {
    ss_store s = open_named(f, "ops");
    ss_bytes b;
    bool flag;
    size_t n;

    /* A fresh session is empty. */
    CHECK(session_len(s) == 0);
    EXPECT_OK(ss_store_keys(s, &b));
    CHECK_BYTES(&b, "\x90", 1);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_all(s, &b));
    CHECK_BYTES(&b, "\x80", 1);
    ss_bytes_free(&b);

    /* Raw bytes: every byte value, NULs included, and the empty value. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    EXPECT_OK(ss_store_set(s, LIT("all"), all, sizeof all));
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("all"), &b));
    CHECK_BYTES(&b, all, sizeof all);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_set(s, LIT("empty"), all, 0));
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("empty"), &b));
    CHECK(b.len == 0);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("empty"), &b));
    CHECK_BYTES(&b, "\xc4\x00", 2);
    ss_bytes_free(&b);

    /* Overwrite replaces. */
    EXPECT_OK(ss_store_set(s, LIT("all"), (const uint8_t *)"second", 6));
    EXPECT_OK(ss_store_get(s, LIT("all"), &b));
    CHECK_BYTES(&b, "second", 6);
    ss_bytes_free(&b);

    /* MessagePack documents round-trip byte for byte; the raw call reads only bin. */
    static const struct {
        const char *key;
        const char *doc;
        size_t len;
    } docs[] = {
        {"str", "\xa3" "abc", 4},
        {"uint64", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9},
        {"float32", "\xca\x3f\xc0\x00\x00", 5},
        {"map", "\x82\xa1k\x01\xa1n\xc0", 7},
        {"ext-J", "\xc7\x03\x4a\x01\x02\x03", 6},
        {"bin16", "\xc5\x00\x02zz", 5},
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        const char *key = docs[i].key;
        EXPECT_OK(ss_store_set_msgpack(s, key, strlen(key), (const uint8_t *)docs[i].doc,
                                       docs[i].len));
        GARBAGE(b);
        EXPECT_OK(ss_store_get_msgpack(s, key, strlen(key), &b));
        CHECK_BYTES(&b, docs[i].doc, docs[i].len);
        ss_bytes_free(&b);
        GARBAGE(b);
        if (strcmp(key, "bin16") == 0) {
            EXPECT_OK(ss_store_get(s, key, strlen(key), &b));
            CHECK_BYTES(&b, "zz", 2);
            ss_bytes_free(&b);
        } else {
            EXPECT_STATUS(ss_store_get(s, key, strlen(key), &b), SS_ERR_TYPE);
            CHECK_ZEROED(b);
        }
    }

    /* Keys are exact bytes: the empty key, an embedded NUL, UTF-8, the longest key. */
    EXPECT_OK(ss_store_set(s, "", 0, (const uint8_t *)"e", 1));
    EXPECT_OK(ss_store_set(s, "a\0b", 3, (const uint8_t *)"nul", 3));
    EXPECT_OK(ss_store_set(s, LIT("gr\xc3\xbc\xc3\x9f"), (const uint8_t *)"u", 1));
    char longest[1024];
    memset(longest, 'k', sizeof longest);
    EXPECT_OK(ss_store_set(s, longest, sizeof longest, (const uint8_t *)"L", 1));
    EXPECT_OK(ss_store_get(s, "a\0b", 3, &b));
    CHECK_BYTES(&b, "nul", 3);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get(s, longest, sizeof longest, &b));
    CHECK_BYTES(&b, "L", 1);
    ss_bytes_free(&b);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(s, "a", 1, &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    CHECK(session_len(s) == 12); /* all, empty, 6 docs, "", a\0b, grüß, longest */

    /* has / del; del's existed may be NULL. */
    flag = false;
    EXPECT_OK(ss_store_has(s, "", 0, &flag));
    CHECK(flag);
    GARBAGE(flag);
    EXPECT_OK(ss_store_has(s, LIT("nope"), &flag));
    CHECK(!flag);
    flag = false;
    EXPECT_OK(ss_store_del(s, "", 0, &flag));
    CHECK(flag);
    flag = true;
    EXPECT_OK(ss_store_del(s, "", 0, &flag));
    CHECK(!flag);
    EXPECT_OK(ss_store_del(s, LIT("never"), NULL));
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_msgpack(s, "", 0, &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    n = 0;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 11);

    /* A second handle on the same session shares its data; release keeps the data. */
    ss_store s2 = open_named(f, "ops");
    EXPECT_OK(ss_store_get(s2, LIT("all"), &b));
    CHECK_BYTES(&b, "second", 6);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_release(s2));
    EXPECT_STATUS(ss_store_len(s2, &n), SS_ERR_INVALID_HANDLE);
    EXPECT_STATUS(ss_store_release(s2), SS_ERR_INVALID_HANDLE);
    CHECK(session_len(s) == 11);

    /* destroy: this handle (and any other of the session) answers DESTROYED until released. */
    ss_store s3 = open_named(f, "ops");
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_STATUS(ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1), SS_ERR_DESTROYED);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(s3, LIT("all"), &b), SS_ERR_DESTROYED);
    CHECK_ZEROED(b);
    GARBAGE(n);
    EXPECT_STATUS(ss_store_len(s3, &n), SS_ERR_DESTROYED);
    CHECK_ZEROED(n);
    GARBAGE(flag);
    EXPECT_STATUS(ss_store_has(s3, LIT("all"), &flag), SS_ERR_DESTROYED);
    CHECK_ZEROED(flag);
    EXPECT_STATUS(ss_store_del(s3, LIT("all"), NULL), SS_ERR_DESTROYED);
    EXPECT_STATUS(ss_store_keys(s3, &b), SS_ERR_DESTROYED);
    EXPECT_STATUS(ss_store_get_all(s3, &b), SS_ERR_DESTROYED);
    EXPECT_STATUS(ss_store_set_many(s3, (const uint8_t *)"\x81\xa1k\x01", 4), SS_ERR_DESTROYED);
    EXPECT_STATUS(ss_store_set_msgpack(s3, LIT("k"), (const uint8_t *)"\x01", 1),
                  SS_ERR_DESTROYED);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_store_release(s3));

    /* A new open of the same id is a new, empty session, and no late write brought it back. */
    s = open_named(f, "ops");
    CHECK(session_len(s) == 0);
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* --- bad inputs: the statuses of memory://, whatever the backend --------------------------- */

static void test_bad_inputs(ss_factory f) {
    ss_store s = open_named(f, "bad");
    ss_store out;
    ss_bytes b;
    bool flag;
    const uint8_t v[] = {0xc3};

    /* NULL pointers. */
    EXPECT_STATUS(ss_store_set(s, NULL, 1, v, 1), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(s, LIT("k"), NULL, 0), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_get(s, LIT("k"), NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_has(s, LIT("k"), NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_len(s, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_keys(s, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_get_all(s, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_many(s, NULL, 1), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_factory_destroy_session(f, NULL, 3), SS_ERR_NULL_ARG);
    GARBAGE(out);
    EXPECT_STATUS(ss_store_open(f, NULL, 3, &out), SS_ERR_NULL_ARG);
    CHECK_ZEROED(out);

    /* Bad keys: invalid UTF-8, 1025 bytes. */
    char k[1025];
    memset(k, 'k', sizeof k);
    const struct {
        const char *key;
        size_t len;
    } bad_keys[] = {{"\xff", 1}, {"\xed\xa0\x80", 3}, {"ab\xc3", 3}, {k, sizeof k}};
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        const char *key = bad_keys[i].key;
        size_t len = bad_keys[i].len;
        EXPECT_STATUS(ss_store_set(s, key, len, v, 1), SS_ERR_INVALID_ARG);
        EXPECT_STATUS(ss_store_set_msgpack(s, key, len, v, 1), SS_ERR_INVALID_ARG);
        GARBAGE(b);
        EXPECT_STATUS(ss_store_get(s, key, len, &b), SS_ERR_INVALID_ARG);
        CHECK_ZEROED(b);
        GARBAGE(b);
        EXPECT_STATUS(ss_store_get_msgpack(s, key, len, &b), SS_ERR_INVALID_ARG);
        CHECK_ZEROED(b);
        GARBAGE(flag);
        EXPECT_STATUS(ss_store_has(s, key, len, &flag), SS_ERR_INVALID_ARG);
        CHECK_ZEROED(flag);
        EXPECT_STATUS(ss_store_del(s, key, len, NULL), SS_ERR_INVALID_ARG);
    }

    /* Bad session ids never reach a backend key. */
    const char *bad_sids[] = {"a/b", "a b", "ss:a*", "a{b}", "a\r\nb", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad_sids) / sizeof(bad_sids[0]); i++) {
        GARBAGE(out);
        EXPECT_STATUS(ss_store_open(f, bad_sids[i], strlen(bad_sids[i]), &out),
                      SS_ERR_INVALID_ARG);
        CHECK_ZEROED(out);
        EXPECT_STATUS(ss_factory_destroy_session(f, bad_sids[i], strlen(bad_sids[i])),
                      SS_ERR_INVALID_ARG);
    }
    EXPECT_STATUS(ss_store_open(f, "", 0, &out), SS_ERR_INVALID_ARG);
    char long_sid[129];
    memset(long_sid, 'a', sizeof long_sid);
    EXPECT_STATUS(ss_store_open(f, long_sid, sizeof long_sid, &out), SS_ERR_INVALID_ARG);

    /* Bad MessagePack: empty, truncated, trailing bytes, top-level nil, non-str map key. */
    const struct {
        const char *doc;
        size_t len;
    } bad_docs[] = {{"", 0}, {"\xa3" "ab", 3}, {"\x01\x01", 2}, {"\xc0", 1}, {"\x92\x01", 2}};
    for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
        EXPECT_STATUS(ss_store_set_msgpack(s, LIT("m"), (const uint8_t *)bad_docs[i].doc,
                                           bad_docs[i].len),
                      SS_ERR_INVALID_ARG);
    }
    const struct {
        const char *doc;
        size_t len;
    } bad_maps[] = {{"", 0},
                    {"\x91\x01", 2},               /* not a map */
                    {"\x81\x01\x01", 3},           /* an int key */
                    {"\x81\xa1k\xc0", 4},          /* a nil value */
                    {"\x82\xa1k\x01\xa1j", 6},     /* truncated */
                    {"\x81\xa1k\x01\x01", 5}};     /* trailing bytes */
    for (size_t i = 0; i < sizeof(bad_maps) / sizeof(bad_maps[0]); i++) {
        if (!EXPECT_STATUS(ss_store_set_many(s, (const uint8_t *)bad_maps[i].doc,
                                             bad_maps[i].len),
                           SS_ERR_INVALID_ARG)) {
            fprintf(stderr, "  ^ set_many document #%zu\n", i);
        }
    }

    /* Forged and released handles. */
    ss_store forged = 0x5E00000000000000ull | 0xFFFFFFFFFFFFull;
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(forged, LIT("k"), &b), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(b);
    EXPECT_STATUS(ss_store_set(forged, LIT("k"), v, 1), SS_ERR_INVALID_HANDLE);
    EXPECT_STATUS(ss_store_open((ss_factory)s, LIT("x"), &out), SS_ERR_INVALID_HANDLE);
    EXPECT_STATUS(ss_store_len((ss_store)f, &(size_t){0}), SS_ERR_INVALID_HANDLE);

    /* Nothing of it was stored. */
    CHECK(session_len(s) == 0);
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* --- keys / get_all / set_many ------------------------------------------------------------- */

static void test_bulk(ss_factory f) {
    ss_store s = open_named(f, "bulk");
    ss_bytes b;

    /* The empty map stores nothing. */
    EXPECT_OK(ss_store_set_many(s, (const uint8_t *)"\x80", 1));
    CHECK(session_len(s) == 0);

    EXPECT_OK(ss_store_set(s, LIT("a"), (const uint8_t *)"xy", 2));
    EXPECT_OK(ss_store_keys(s, &b));
    CHECK_BYTES(&b, "\x91\xa1" "a", 3);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_all(s, &b));
    CHECK_BYTES(&b, "\x81\xa1" "a\xc4\x02xy", 7);
    ss_bytes_free(&b);

    /* Two keys: either order. */
    EXPECT_OK(ss_store_set_msgpack(s, LIT("bc"), (const uint8_t *)"\x2a", 1));
    EXPECT_OK(ss_store_keys(s, &b));
    CHECK((b.len == 6 && memcmp(b.data, "\x92\xa1" "a\xa2" "bc", 6) == 0) ||
          (b.len == 6 && memcmp(b.data, "\x92\xa2" "bc\xa1" "a", 6) == 0));
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_all(s, &b));
    CHECK((b.len == 11 && memcmp(b.data, "\x82\xa1" "a\xc4\x02xy\xa2" "bc\x2a", 11) == 0) ||
          (b.len == 11 && memcmp(b.data, "\x82\xa2" "bc\x2a\xa1" "a\xc4\x02xy", 11) == 0));
    ss_bytes_free(&b);

    /* set_many: {"userId": 42, "a": bin "new", "tags": ["a", "b"]} overwrites and adds. */
    const uint8_t doc[] = {0x83, 0xa6, 'u', 's', 'e', 'r', 'I', 'd', 0x2a, 0xa1, 'a', 0xc4,
                           3,    'n',  'e', 'w', 0xa4, 't', 'a', 'g', 's',  0x92, 0xa1, 'a',
                           0xa1, 'b'};
    EXPECT_OK(ss_store_set_many(s, doc, sizeof doc));
    CHECK(session_len(s) == 4);
    EXPECT_OK(ss_store_get(s, LIT("a"), &b));
    CHECK_BYTES(&b, "new", 3);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("tags"), &b));
    CHECK_BYTES(&b, "\x92\xa1" "a\xa1" "b", 5);
    ss_bytes_free(&b);

    /* All or nothing: a bad entry after good ones stores none of them. */
    const uint8_t half_bad[] = {0x82, 0xa1, 'n', 0x01, 0xa1, 'm', 0xc0}; /* {"n": 1, "m": nil} */
    EXPECT_STATUS(ss_store_set_many(s, half_bad, sizeof half_bad), SS_ERR_INVALID_ARG);
    bool flag = true;
    EXPECT_OK(ss_store_has(s, LIT("n"), &flag));
    CHECK(!flag);

    /* A 2 MiB value: SS_ERR_TOO_LARGE alone, and as one entry of set_many. */
    size_t two_mib = 2u << 20;
    uint8_t *big = calloc(two_mib + 16, 1);
    if (CHECK(big != NULL)) {
        EXPECT_STATUS(ss_store_set(s, LIT("big"), big, two_mib), SS_ERR_TOO_LARGE);
        /* {"z": 1, "big": bin 32 of 2 MiB} */
        size_t at = 0;
        big[at++] = 0x82;
        big[at++] = 0xa1;
        big[at++] = 'z';
        big[at++] = 0x01;
        big[at++] = 0xa3;
        memcpy(big + at, "big", 3);
        at += 3;
        big[at++] = 0xc6;
        big[at++] = 0x00;
        big[at++] = 0x20;
        big[at++] = 0x00;
        big[at++] = 0x00;
        EXPECT_STATUS(ss_store_set_many(s, big, at + two_mib), SS_ERR_TOO_LARGE);
        EXPECT_OK(ss_store_has(s, LIT("z"), &flag));
        CHECK(!flag);
        free(big);
    }
    CHECK(session_len(s) == 4);

    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* --- ss_factory_destroy_session ------------------------------------------------------------ */

static void test_destroy_session(ss_factory f) {
    char sid[128];
    sid_of(sid, sizeof sid, "gone");
    ss_store s = OPEN_STORE(f, sid);
    ss_store keep = open_named(f, "kept");
    EXPECT_OK(ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(keep, LIT("k"), (const uint8_t *)"v", 1));

    /* With a handle open: it answers DESTROYED; the neighbour is untouched. */
    EXPECT_OK(ss_factory_destroy_session(f, sid, strlen(sid)));
    ss_bytes b;
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(s, LIT("k"), &b), SS_ERR_DESTROYED);
    CHECK_ZEROED(b);
    EXPECT_STATUS(ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1), SS_ERR_DESTROYED);
    EXPECT_OK(ss_store_release(s));
    CHECK(session_len(keep) == 1);
    s = OPEN_STORE(f, sid);
    CHECK(session_len(s) == 0);
    EXPECT_OK(ss_store_release(s));

    /* Idempotent, and fine for an id that never existed. */
    EXPECT_OK(ss_factory_destroy_session(f, sid, strlen(sid)));
    char never[128];
    sid_of(never, sizeof never, "never-existed");
    EXPECT_OK(ss_factory_destroy_session(f, never, strlen(never)));

    EXPECT_OK(ss_store_destroy(keep));
    EXPECT_OK(ss_store_release(keep));
}

/* --- two factories on one shared backend: two nodes ---------------------------------------- */

static void test_two_nodes(const char *url) {
    ss_factory n1 = OPEN_FACTORY(url);
    ss_factory n2 = OPEN_FACTORY(url);
    char sid[128];
    sid_of(sid, sizeof sid, "two-nodes");
    ss_store a = OPEN_STORE(n1, sid);
    ss_bytes b;

    /* Written through one node, read through the other: raw, msgpack, set_many. */
    EXPECT_OK(ss_store_set(a, LIT("userId"), (const uint8_t *)"42", 2));
    EXPECT_OK(ss_store_set_msgpack(a, LIT("claims"), (const uint8_t *)"\x81\xa1r\xa1x", 5));
    ss_store c = OPEN_STORE(n2, sid);
    EXPECT_OK(ss_store_get(c, LIT("userId"), &b));
    CHECK_BYTES(&b, "42", 2);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(c, LIT("claims"), &b));
    CHECK_BYTES(&b, "\x81\xa1r\xa1x", 5);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_set_many(c, (const uint8_t *)"\x81\xa4room\xa5lobby", 12));
    EXPECT_OK(ss_store_get_msgpack(a, LIT("room"), &b));
    CHECK_BYTES(&b, "\xa5lobby", 6);
    ss_bytes_free(&b);
    CHECK(session_len(a) == 3 && session_len(c) == 3);

    /* Destroy through node 1: node 2's open handle is DESTROYED, and its late write does not
     * resurrect the session. */
    EXPECT_OK(ss_store_destroy(a));
    EXPECT_STATUS(ss_store_set(c, LIT("late"), (const uint8_t *)"w", 1), SS_ERR_DESTROYED);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(c, LIT("userId"), &b), SS_ERR_DESTROYED);
    CHECK_ZEROED(b);
    EXPECT_STATUS(ss_store_len(c, &(size_t){0}), SS_ERR_DESTROYED);
    EXPECT_OK(ss_store_release(c));
    EXPECT_OK(ss_store_release(a));

    /* A new open on node 2 starts empty; node 1 sees that new session. */
    c = OPEN_STORE(n2, sid);
    CHECK(session_len(c) == 0);
    EXPECT_OK(ss_store_set(c, LIT("again"), (const uint8_t *)"1", 1));
    a = OPEN_STORE(n1, sid);
    EXPECT_OK(ss_store_get(a, LIT("again"), &b));
    CHECK_BYTES(&b, "1", 1);
    ss_bytes_free(&b);

    /* ss_factory_destroy_session through node 2 reaches node 1's handle too. */
    EXPECT_OK(ss_factory_destroy_session(n2, sid, strlen(sid)));
    EXPECT_STATUS(ss_store_get(a, LIT("again"), &b), SS_ERR_DESTROYED);
    EXPECT_STATUS(ss_store_get(c, LIT("again"), &b), SS_ERR_DESTROYED);
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_store_release(c));
    a = OPEN_STORE(n1, sid);
    CHECK(session_len(a) == 0);
    EXPECT_OK(ss_store_destroy(a));
    EXPECT_OK(ss_store_release(a));

    /* Closing node 1 leaves node 2 working; node 1's stores answer CLOSED. */
    ss_store late = OPEN_STORE(n1, sid);
    EXPECT_OK(ss_factory_close(n1));
    EXPECT_STATUS(ss_store_len(late, &(size_t){0}), SS_ERR_CLOSED);
    c = OPEN_STORE(n2, sid);
    CHECK(session_len(c) == 0);
    EXPECT_OK(ss_store_destroy(c));
    EXPECT_OK(ss_store_release(c));
    EXPECT_OK(ss_factory_close(n2));
}

/* --- 4 threads on one store ---------------------------------------------------------------- */

struct worker {
    ss_store store;
    int id;
    bool present[5]; /* which of its own keys this thread last wrote (true) or deleted */
    long wrong;      /* results that contradict what this thread wrote */
};

static void *hammer(void *arg) {
    struct worker *w = arg;
    char key[32];
    uint8_t val[16];
    for (int i = 0; i < THREAD_OPS; i++) {
        /* Keys of its own: only this thread writes them, so every read is exact. */
        int k = i % 5;
        snprintf(key, sizeof key, "t%d-k%d", w->id, k);
        memset(val, 0, sizeof val);
        snprintf((char *)val, sizeof val, "%d:%d", w->id, i);
        ss_bytes b = {NULL, 0};
        bool flag = false;
        switch (i % 4) {
        case 0:
        case 1:
            if (ss_store_set(w->store, key, strlen(key), val, sizeof val) != SS_OK) {
                w->wrong++;
            }
            w->present[k] = true;
            if (ss_store_get(w->store, key, strlen(key), &b) != SS_OK || b.len != sizeof val ||
                memcmp(b.data, val, sizeof val) != 0) {
                w->wrong++;
            }
            ss_bytes_free(&b);
            break;
        case 2:
            if (ss_store_has(w->store, key, strlen(key), &flag) != SS_OK || flag != w->present[k]) {
                w->wrong++;
            }
            break;
        default:
            if (ss_store_del(w->store, key, strlen(key), &flag) != SS_OK || flag != w->present[k]) {
                w->wrong++;
            }
            w->present[k] = false;
            if (ss_store_get(w->store, key, strlen(key), &b) != SS_NOT_FOUND || b.data != NULL) {
                w->wrong++;
            }
            ss_bytes_free(&b);
            break;
        }
        /* A shared key every thread writes: any of their values, whole. */
        if (i % 10 == 0) {
            if (ss_store_set(w->store, LIT("shared"), val, sizeof val) != SS_OK) {
                w->wrong++;
            }
            if (ss_store_get(w->store, LIT("shared"), &b) != SS_OK || b.len != sizeof val ||
                b.data[0] < '0' || b.data[0] >= '0' + THREADS || b.data[1] != ':') {
                w->wrong++;
            }
            ss_bytes_free(&b);
        }
    }
    return NULL;
}

static void test_threads(ss_factory f) {
    ss_store s = open_named(f, "threads");
    pthread_t t[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){.store = s, .id = i};
        CHECK(pthread_create(&t[i], NULL, hammer, &w[i]) == 0);
    }
    size_t want = 1; /* "shared" */
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
        if (!CHECK(w[i].wrong == 0)) {
            fprintf(stderr, "  ^ thread %d saw %ld wrong results\n", i, w[i].wrong);
        }
        for (int k = 0; k < 5; k++) {
            want += w[i].present[k] ? 1 : 0;
        }
    }
    CHECK(session_len(s) == want);
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* --- connections ------------------------------------------------------------------------- */

/* This process's open sockets (Linux: /proc/self/fd), or -1 where that is not readable.
 * ss_factory_close must close every connection of the factory (API.md §5), also while the
 * handle stays in the registry: a host that opens and closes factories must not leak them. */
static int open_sockets(void) {
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    char path[300], link[64];
    while ((e = readdir(d)) != NULL) {
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, link, sizeof link - 1);
        if (len > 0) {
            link[len] = '\0';
            n += strncmp(link, "socket:", 7) == 0;
        }
    }
    closedir(d);
    return n;
}

/* --- the urls ------------------------------------------------------------------------------ */

/* Splits `list` in place into at most MAX_URLS urls; returns how many. */
static size_t split_urls(char *list, char *urls[MAX_URLS]) {
    size_t n = 0;
    char *save = NULL;
    for (char *piece = strtok_r(list, ", \t\n", &save); piece != NULL;
         piece = strtok_r(NULL, ", \t\n", &save)) {
        if (n > 0 && strstr(piece, "://") == NULL) {
            /* Continues the url before it: put the comma back (the pieces are adjacent in
             * the buffer only when one comma separated them, so rebuild the url). */
            size_t have = strlen(urls[n - 1]);
            char *joined = malloc(have + 1 + strlen(piece) + 1);
            if (joined == NULL) {
                break;
            }
            sprintf(joined, "%s,%s", urls[n - 1], piece);
            free(urls[n - 1]);
            urls[n - 1] = joined;
        } else if (n < MAX_URLS) {
            urls[n] = malloc(strlen(piece) + 1);
            if (urls[n] == NULL) {
                break;
            }
            strcpy(urls[n], piece);
            n++;
        }
    }
    return n;
}

static void test_split_urls(void) {
    char list[] = "memory://,redis://h:1, redis+sentinel://a:1,b:2/m,redis+cluster://c:1,d:2";
    char *urls[MAX_URLS];
    size_t n = split_urls(list, urls);
    CHECK(n == 4);
    if (n == 4) {
        CHECK(strcmp(urls[0], "memory://") == 0);
        CHECK(strcmp(urls[1], "redis://h:1") == 0);
        CHECK(strcmp(urls[2], "redis+sentinel://a:1,b:2/m") == 0);
        CHECK(strcmp(urls[3], "redis+cluster://c:1,d:2") == 0);
    }
    for (size_t i = 0; i < n; i++) {
        free(urls[i]);
    }
}

/* The url as printed: any password as "***". */
static void print_url(const char *url) {
    const char *scheme_end = strstr(url, "://");
    const char *at = strchr(url, '@');
    const char *colon = scheme_end ? strchr(scheme_end + 3, ':') : NULL;
    if (scheme_end && at && colon && colon < at) {
        printf("== %.*s***%s\n", (int)(colon + 1 - url), url, at);
    } else {
        printf("== %s\n", url);
    }
    fflush(stdout);
}

int main(void) {
    snprintf(run_prefix, sizeof run_prefix, "c%ld-%ld-", (long)getpid(), (long)time(NULL));
    test_split_urls();

    const char *env = getenv("SESSIONSTORE_TEST_URLS");
    char *list = strdup(env != NULL && env[0] != '\0' ? env : "memory://");
    char *urls[MAX_URLS];
    size_t n = list != NULL ? split_urls(list, urls) : 0;
    CHECK(n > 0);
    for (size_t i = 0; i < n; i++) {
        current_url = urls[i];
        print_url(current_url);
        long failed_before = atomic_load(&check_failed);
        int sockets_before = open_sockets();
        ss_factory f = OPEN_FACTORY(current_url);
        if (f == 0) {
            continue;
        }
        test_operations(f);
        test_bad_inputs(f);
        test_bulk(f);
        test_destroy_session(f);
        test_threads(f);
        EXPECT_OK(ss_factory_close(f));
        /* memory:// factories never share data: two of them are not two nodes. */
        if (strncmp(current_url, "memory:", 7) != 0 && current_url[0] != '\0') {
            test_two_nodes(current_url);
        }
        int sockets_after = open_sockets();
        if (!CHECK(sockets_after == sockets_before)) {
            fprintf(stderr, "  ^ %d sockets open before the factories, %d after they closed\n",
                    sockets_before, sockets_after);
        }
        if (atomic_load(&check_failed) != failed_before) {
            fprintf(stderr, "  ^ failures above on %s\n", current_url);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(urls[i]);
    }
    free(list);
    return check_finish();
}
