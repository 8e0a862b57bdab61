/*
 * test_api.c: every function of API.md §4 doing its job on good input: values round-trip
 * byte-exactly, keys/get_all/set_many speak the documented MessagePack, sessions are shared
 * between handles and isolated between factories, and the helpers (ss_bytes_free,
 * ss_status_name, ss_version, ss_last_error) behave as the header says.
 */
#include <limits.h>
#include <pthread.h>

#include "check.h"

static void test_version(void) {
    const char *v = ss_version();
    CHECK(v != NULL);
    CHECK(v[0] >= '0' && v[0] <= '9');
    CHECK(strchr(v, '.') != NULL);
    CHECK(v == ss_version()); /* a static string, not a fresh allocation */
}

static void test_status_names(void) {
    static const struct {
        ss_status status;
        const char *name;
    } names[] = {
        {SS_OK, "SS_OK"},
        {SS_NOT_FOUND, "SS_NOT_FOUND"},
        {SS_ERR_NULL_ARG, "SS_ERR_NULL_ARG"},
        {SS_ERR_INVALID_ARG, "SS_ERR_INVALID_ARG"},
        {SS_ERR_TOO_LARGE, "SS_ERR_TOO_LARGE"},
        {SS_ERR_INVALID_HANDLE, "SS_ERR_INVALID_HANDLE"},
        {SS_ERR_DESTROYED, "SS_ERR_DESTROYED"},
        {SS_ERR_CLOSED, "SS_ERR_CLOSED"},
        {SS_ERR_CONFIG, "SS_ERR_CONFIG"},
        {SS_ERR_BACKEND, "SS_ERR_BACKEND"},
        {SS_ERR_TIMEOUT, "SS_ERR_TIMEOUT"},
        {SS_ERR_TYPE, "SS_ERR_TYPE"},
        {SS_ERR_INTERNAL, "SS_ERR_INTERNAL"},
    };
    /* The numeric values are part of the ABI (API.md §4). */
    CHECK(SS_OK == 0 && SS_NOT_FOUND == 1 && SS_ERR_NULL_ARG == -1 && SS_ERR_INVALID_ARG == -2);
    CHECK(SS_ERR_TOO_LARGE == -3 && SS_ERR_INVALID_HANDLE == -4 && SS_ERR_DESTROYED == -5);
    CHECK(SS_ERR_CLOSED == -6 && SS_ERR_CONFIG == -7 && SS_ERR_BACKEND == -8);
    CHECK(SS_ERR_TIMEOUT == -9 && SS_ERR_TYPE == -10 && SS_ERR_INTERNAL == -11);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *got = ss_status_name(names[i].status);
        if (!CHECK(got != NULL && strcmp(got, names[i].name) == 0)) {
            fprintf(stderr, "  ss_status_name(%d) = %s, expected %s\n", (int)names[i].status,
                    got ? got : "(null)", names[i].name);
        }
    }
    const int unknown[] = {2, -12, 42, -100, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        const char *got = ss_status_name(unknown[i]);
        CHECK(got != NULL && strcmp(got, "SS_UNKNOWN") == 0);
    }
}

/* The message belongs to its thread (freed when the thread ends), so it is copied here. */
static void *last_error_of_new_thread(void *arg) {
    char *out = arg;
    snprintf(out, 64, "%s", ss_last_error());
    return NULL;
}

/* Runs first in main: before any failing call the message is "". */
static void test_last_error(void) {
    const char *none = ss_last_error();
    CHECK(none != NULL && none[0] == '\0');

    ss_factory f = 0;
    EXPECT_STATUS(ss_factory_open(LIT("nope://"), &f), SS_ERR_CONFIG);
    const char *msg = ss_last_error();
    CHECK(msg != NULL && msg[0] != '\0');
    char copy[512];
    snprintf(copy, sizeof copy, "%s", msg);

    /* A success leaves the message alone (like errno). */
    f = OPEN_FACTORY("memory://");
    CHECK(strcmp(ss_last_error(), copy) == 0);
    EXPECT_OK(ss_factory_close(f));

    /* The message is per thread: another thread has none. */
    char other[64] = "not called";
    pthread_t t;
    CHECK(pthread_create(&t, NULL, last_error_of_new_thread, other) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(other[0] == '\0');
    CHECK(strcmp(ss_last_error(), copy) == 0);
}

static void test_bytes_free(void) {
    ss_bytes_free(NULL); /* a no-op */
    ss_bytes zero = {NULL, 0};
    ss_bytes_free(&zero);
    ss_bytes_free(&zero);
    CHECK(zero.data == NULL && zero.len == 0);

    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "bytes-free");
    EXPECT_OK(ss_store_set(s, LIT("k"), (const uint8_t *)"abc", 3));
    ss_bytes b;
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("k"), &b));
    CHECK_BYTES(&b, "abc", 3);
    ss_bytes_free(&b);
    CHECK(b.data == NULL && b.len == 0); /* zeroed by the free ... */
    ss_bytes_free(&b);                   /* ... so a second free is a no-op */
    CHECK(b.data == NULL && b.len == 0);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

static void test_factory_urls(void) {
    ss_factory f = 0, g = 0;
    EXPECT_OK(ss_factory_open(LIT("memory://"), &f));
    CHECK(f != 0);
    /* The empty string is the in-memory default; the pointer is still required. */
    EXPECT_OK(ss_factory_open("", 0, &g));
    CHECK(g != 0 && g != f);
    EXPECT_OK(ss_factory_close(g));
    /* Only url_len bytes are read: no terminator is needed or looked for. */
    const char padded[] = {'m', 'e', 'm', 'o', 'r', 'y', ':', '/', '/', '#', '!'};
    EXPECT_OK(ss_factory_open(padded, 9, &g));
    EXPECT_OK(ss_factory_close(g));
    /* Every option at a valid value, its bounds included. */
    const char *good[] = {
        "memory://?ttl_ms=0",
        "memory://?ttl_ms=10",
        "memory://?ttl_ms=31536000000",
        "memory://?timeout_ms=1",
        "memory://?timeout_ms=600000",
        "memory://?max_value_bytes=16",
        "memory://?max_value_bytes=536870912",
        "memory://?prefix=app.v1:sessions_x-y",
        "memory://?prefix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "memory://?prefix=p&timeout_ms=50&ttl_ms=60000&max_value_bytes=4096",
        "?ttl_ms=1000",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ss_factory h = 0;
        if (!EXPECT_OK(ss_factory_open(good[i], strlen(good[i]), &h))) {
            fprintf(stderr, "  url: %s\n", good[i]);
        }
        CHECK(h != 0);
        EXPECT_OK(ss_factory_close(h));
    }
    EXPECT_OK(ss_factory_close(f));
}

static void test_raw_values(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "raw-values");
    ss_bytes b;

    /* Bytes with NULs and every byte value come back exactly. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    EXPECT_OK(ss_store_set(s, LIT("all"), all, sizeof all));
    EXPECT_OK(ss_store_get(s, LIT("all"), &b));
    CHECK_BYTES(&b, all, sizeof all);
    ss_bytes_free(&b);

    /* The empty value: a non-NULL pointer with length 0. */
    EXPECT_OK(ss_store_set(s, LIT("empty"), all, 0));
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("empty"), &b));
    CHECK(b.len == 0);
    ss_bytes_free(&b);
    /* Stored as MessagePack bin 8 of length 0. */
    EXPECT_OK(ss_store_get_msgpack(s, LIT("empty"), &b));
    CHECK_BYTES(&b, "\xc4\x00", 2);
    ss_bytes_free(&b);

    /* Raw bytes are MessagePack bin, of the smallest width. */
    EXPECT_OK(ss_store_set(s, LIT("small"), (const uint8_t *)"hi", 2));
    EXPECT_OK(ss_store_get_msgpack(s, LIT("small"), &b));
    CHECK_BYTES(&b, "\xc4\x02hi", 4);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("all"), &b));
    CHECK(b.len == 259 && b.data[0] == 0xc5 && b.data[1] == 0x01 && b.data[2] == 0x00 &&
          memcmp(b.data + 3, all, 256) == 0);
    ss_bytes_free(&b);

    /* bin 32: over 64 KiB. */
    size_t big_len = 70000;
    uint8_t *big = malloc(big_len);
    CHECK(big != NULL);
    for (size_t i = 0; i < big_len; i++) {
        big[i] = (uint8_t)(i * 31 + 7);
    }
    EXPECT_OK(ss_store_set(s, LIT("big"), big, big_len));
    EXPECT_OK(ss_store_get(s, LIT("big"), &b));
    CHECK_BYTES(&b, big, big_len);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("big"), &b));
    CHECK(b.len == big_len + 5 && b.data[0] == 0xc6 && memcmp(b.data + 5, big, big_len) == 0);
    ss_bytes_free(&b);
    free(big);

    /* Overwrite replaces. */
    EXPECT_OK(ss_store_set(s, LIT("small"), (const uint8_t *)"second", 6));
    EXPECT_OK(ss_store_get(s, LIT("small"), &b));
    CHECK_BYTES(&b, "second", 6);
    ss_bytes_free(&b);

    /* A missing key: SS_NOT_FOUND, a success whose out-parameter is zeroed. */
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(s, LIT("missing"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_msgpack(s, LIT("missing"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    ss_bytes_free(&b);

    size_t n = 99;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 4);

    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

static void test_keys_are_exact(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "keys");
    ss_bytes b;
    bool flag;

    /* The empty key is a key. */
    EXPECT_OK(ss_store_set(s, "", 0, (const uint8_t *)"e", 1));
    flag = false;
    EXPECT_OK(ss_store_has(s, "", 0, &flag));
    CHECK(flag);
    EXPECT_OK(ss_store_get(s, "", 0, &b));
    CHECK_BYTES(&b, "e", 1);
    ss_bytes_free(&b);

    /* Keys are bytes of UTF-8 with a length: an embedded NUL makes a different key. */
    EXPECT_OK(ss_store_set(s, "a\0b", 3, (const uint8_t *)"nul", 3));
    EXPECT_OK(ss_store_set(s, "a", 1, (const uint8_t *)"a", 1));
    EXPECT_OK(ss_store_get(s, "a\0b", 3, &b));
    CHECK_BYTES(&b, "nul", 3);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get(s, "a", 1, &b));
    CHECK_BYTES(&b, "a", 1);
    ss_bytes_free(&b);

    /* Non-ASCII UTF-8, and the longest key: 1024 bytes (512 two-byte characters). */
    EXPECT_OK(ss_store_set(s, LIT("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"),
                           (const uint8_t *)"u", 1));
    char longest[1024];
    for (size_t i = 0; i < sizeof longest; i += 2) {
        longest[i] = '\xc3';
        longest[i + 1] = '\xa9';
    }
    EXPECT_OK(ss_store_set(s, longest, sizeof longest, (const uint8_t *)"L", 1));
    EXPECT_OK(ss_store_get(s, longest, sizeof longest, &b));
    CHECK_BYTES(&b, "L", 1);
    ss_bytes_free(&b);
    char ascii1024[1024];
    memset(ascii1024, 'k', sizeof ascii1024);
    EXPECT_OK(ss_store_set(s, ascii1024, sizeof ascii1024, (const uint8_t *)"K", 1));
    flag = false;
    EXPECT_OK(ss_store_has(s, ascii1024, sizeof ascii1024, &flag));
    CHECK(flag);

    size_t n = 0;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 6);

    /* keys lists the 1024-byte key as str 16. */
    EXPECT_OK(ss_store_keys(s, &b));
    CHECK(b.len > 3 && b.data[0] == 0x96); /* fixarray of 6 */
    const uint8_t longest_hdr[] = {0xda, 0x04, 0x00};
    bool found_longest = false;
    for (size_t i = 0; i + 3 + 1024 <= b.len; i++) {
        if (memcmp(b.data + i, longest_hdr, 3) == 0 && memcmp(b.data + i + 3, longest, 1024) == 0) {
            found_longest = true;
        }
    }
    CHECK(found_longest);
    ss_bytes_free(&b);

    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

/* has / del / len on a small session, and keys / get_all byte for byte. */
static void test_small_session_exact(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "small-session");
    ss_bytes b;
    bool flag;
    size_t n;

    /* An empty session. */
    n = 77;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 0);
    EXPECT_OK(ss_store_keys(s, &b));
    CHECK_BYTES(&b, "\x90", 1);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_all(s, &b));
    CHECK_BYTES(&b, "\x80", 1);
    ss_bytes_free(&b);

    /* One key: a single possible order. */
    EXPECT_OK(ss_store_set(s, LIT("a"), (const uint8_t *)"xy", 2));
    EXPECT_OK(ss_store_keys(s, &b));
    CHECK_BYTES(&b, "\x91\xa1" "a", 3);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_all(s, &b));
    CHECK_BYTES(&b, "\x81\xa1" "a\xc4\x02xy", 7);
    ss_bytes_free(&b);

    /* Two keys: the order is unspecified, so either of the two encodings. */
    const uint8_t claims[] = {0x81, 0xa3, 'r', 'o', 'l', 0xa5, 'a', 'd', 'm', 'i', 'n'};
    EXPECT_OK(ss_store_set_msgpack(s, LIT("bc"), claims, sizeof claims));
    EXPECT_OK(ss_store_keys(s, &b));
    const uint8_t keys_ab[] = {0x92, 0xa1, 'a', 0xa2, 'b', 'c'};
    const uint8_t keys_ba[] = {0x92, 0xa2, 'b', 'c', 0xa1, 'a'};
    CHECK((b.len == sizeof keys_ab && memcmp(b.data, keys_ab, sizeof keys_ab) == 0) ||
          (b.len == sizeof keys_ba && memcmp(b.data, keys_ba, sizeof keys_ba) == 0));
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_all(s, &b));
    const uint8_t all_ab[] = {0x82, 0xa1, 'a',  0xc4, 0x02, 'x', 'y', 0xa2, 'b', 'c', 0x81,
                              0xa3, 'r',  'o',  'l',  0xa5, 'a', 'd', 'm',  'i', 'n'};
    uint8_t all_ba[sizeof all_ab]; /* the same entries, "bc" first */
    {
        size_t at = 0;
        const uint8_t bc[] = {0xa2, 'b', 'c'};
        const uint8_t a[] = {0xa1, 'a', 0xc4, 0x02, 'x', 'y'};
        all_ba[at++] = 0x82;
        memcpy(all_ba + at, bc, sizeof bc);
        at += sizeof bc;
        memcpy(all_ba + at, claims, sizeof claims);
        at += sizeof claims;
        memcpy(all_ba + at, a, sizeof a);
        at += sizeof a;
        CHECK(at == sizeof all_ba);
    }
    CHECK((b.len == sizeof all_ab && memcmp(b.data, all_ab, sizeof all_ab) == 0) ||
          (b.len == sizeof all_ba && memcmp(b.data, all_ba, sizeof all_ba) == 0));
    ss_bytes_free(&b);

    n = 0;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 2);

    /* has */
    flag = false;
    EXPECT_OK(ss_store_has(s, LIT("a"), &flag));
    CHECK(flag);
    flag = true;
    EXPECT_OK(ss_store_has(s, LIT("zz"), &flag));
    CHECK(!flag);

    /* del reports whether the key existed; existed may be NULL. */
    flag = false;
    EXPECT_OK(ss_store_del(s, LIT("a"), &flag));
    CHECK(flag);
    flag = true;
    EXPECT_OK(ss_store_del(s, LIT("a"), &flag));
    CHECK(!flag);
    EXPECT_OK(ss_store_del(s, LIT("bc"), NULL));
    EXPECT_OK(ss_store_del(s, LIT("never"), NULL));
    n = 5;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 0);
    EXPECT_OK(ss_store_get_all(s, &b));
    CHECK_BYTES(&b, "\x80", 1);
    ss_bytes_free(&b);

    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

static void test_msgpack_values(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "msgpack-values");
    ss_bytes b;

    /* Every portable type round-trips byte for byte through the _msgpack calls. */
    static const struct {
        const char *key;
        const char *doc;
        size_t len;
    } docs[] = {
        {"str", "\xa3" "abc", 4},
        {"str8", "\xd9\x03" "abc", 5},
        {"empty-str", "\xa0", 1},
        {"true", "\xc3", 1},
        {"false", "\xc2", 1},
        {"fixint", "\x2a", 1},
        {"negfixint", "\xff", 1},
        {"uint64", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9},
        {"int64", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9},
        {"float64", "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", 9},
        {"float32", "\xca\x3f\xc0\x00\x00", 5},
        {"array", "\x93\x01\xa1x\xc0", 5},           /* [1, "x", nil]: nil inside is fine */
        {"map", "\x82\xa1k\x01\xa1n\xc0", 7},        /* {"k": 1, "n": nil} */
        {"nested", "\x81\xa1m\x91\x81\xa0\x90", 7},  /* {"m": [{"": []}]} */
        {"ext-P", "\xd4\x50\x01", 3},                /* fixext 1, type 80 */
        {"ext-J", "\xc7\x03\x4a\x01\x02\x03", 6},    /* ext 8, type 74 */
        {"bin", "\xc4\x03\x00\x01\x02", 5},
        {"empty-array", "\x90", 1},
        {"empty-map", "\x80", 1},
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        const char *key = docs[i].key;
        if (!EXPECT_OK(ss_store_set_msgpack(s, key, strlen(key), (const uint8_t *)docs[i].doc,
                                            docs[i].len))) {
            fprintf(stderr, "  key: %s\n", key);
            continue;
        }
        GARBAGE(b);
        EXPECT_OK(ss_store_get_msgpack(s, key, strlen(key), &b));
        CHECK_BYTES(&b, docs[i].doc, docs[i].len);
        ss_bytes_free(&b);
        /* The raw call reads only bin. */
        GARBAGE(b);
        if (strcmp(key, "bin") == 0) {
            EXPECT_OK(ss_store_get(s, key, strlen(key), &b));
            CHECK_BYTES(&b, "\x00\x01\x02", 3);
            ss_bytes_free(&b);
        } else {
            EXPECT_STATUS(ss_store_get(s, key, strlen(key), &b), SS_ERR_TYPE);
            CHECK_ZEROED(b);
        }
    }
    /* bin written as msgpack in its wider forms is still read raw. */
    EXPECT_OK(ss_store_set_msgpack(s, LIT("bin16"), (const uint8_t *)"\xc5\x00\x02zz", 5));
    EXPECT_OK(ss_store_get(s, LIT("bin16"), &b));
    CHECK_BYTES(&b, "zz", 2);
    ss_bytes_free(&b);

    /* A deep but allowed document. */
    uint8_t deep[64];
    memset(deep, 0x91, sizeof deep - 1);
    deep[sizeof deep - 1] = 0x01;
    EXPECT_OK(ss_store_set_msgpack(s, LIT("deep"), deep, sizeof deep));

    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

static void test_set_many(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "set-many");
    ss_bytes b;
    size_t n;

    /* The empty map stores nothing and is fine. */
    EXPECT_OK(ss_store_set_many(s, (const uint8_t *)"\x80", 1));
    n = 9;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 0);

    EXPECT_OK(ss_store_set(s, LIT("keep"), (const uint8_t *)"old", 3));
    EXPECT_OK(ss_store_set(s, LIT("over"), (const uint8_t *)"old", 3));
    /* {"userId": 42, "over": bin "new", "tags": ["a", "b"]} */
    const uint8_t doc[] = {0x83, 0xa6, 'u', 's', 'e', 'r', 'I', 'd', 0x2a, 0xa4, 'o', 'v', 'e',
                           'r',  0xc4, 3,   'n', 'e', 'w', 0xa4, 't', 'a', 'g', 's', 0x92, 0xa1,
                           'a',  0xa1, 'b'};
    EXPECT_OK(ss_store_set_many(s, doc, sizeof doc));
    n = 0;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 4);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("userId"), &b));
    CHECK_BYTES(&b, "\x2a", 1);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get(s, LIT("over"), &b));
    CHECK_BYTES(&b, "new", 3);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("tags"), &b));
    CHECK_BYTES(&b, "\x92\xa1" "a\xa1" "b", 5);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get(s, LIT("keep"), &b));
    CHECK_BYTES(&b, "old", 3);
    ss_bytes_free(&b);

    /* A map16 header works too. */
    EXPECT_OK(ss_store_set_many(s, (const uint8_t *)"\xde\x00\x01\xa1z\xc3", 6));
    EXPECT_OK(ss_store_get_msgpack(s, LIT("z"), &b));
    CHECK_BYTES(&b, "\xc3", 1);
    ss_bytes_free(&b);

    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

/* Two handles on one session share its data; two factories never share. */
static void test_sharing(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_factory g = OPEN_FACTORY("memory://");
    CHECK(f != g);
    const char *sid = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    ss_store a = OPEN_STORE(f, sid);
    ss_store a2 = OPEN_STORE(f, sid);
    ss_store other = OPEN_STORE(g, sid);
    CHECK(a != 0 && a2 != 0 && a != a2 && other != a && other != a2);
    ss_bytes b;
    bool flag;

    EXPECT_OK(ss_store_set(a, LIT("userId"), (const uint8_t *)"42", 2));
    EXPECT_OK(ss_store_get(a2, LIT("userId"), &b));
    CHECK_BYTES(&b, "42", 2);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_del(a2, LIT("userId"), &flag));
    CHECK(flag);
    EXPECT_STATUS(ss_store_get(a, LIT("userId"), &b), SS_NOT_FOUND);
    EXPECT_OK(ss_store_set(a2, LIT("room"), (const uint8_t *)"lobby", 5));

    /* The other factory's session of the same id is its own. */
    size_t n = 9;
    EXPECT_OK(ss_store_len(other, &n));
    CHECK(n == 0);

    /* Releasing one handle keeps the data; a later open attaches to it. */
    EXPECT_OK(ss_store_release(a));
    ss_store a3 = OPEN_STORE(f, sid);
    EXPECT_OK(ss_store_get(a3, LIT("room"), &b));
    CHECK_BYTES(&b, "lobby", 5);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_release(a2));
    EXPECT_OK(ss_store_release(a3));
    ss_store a4 = OPEN_STORE(f, sid);
    n = 0;
    EXPECT_OK(ss_store_len(a4, &n));
    CHECK(n == 1); /* no lease: data outlives every handle */
    EXPECT_OK(ss_store_release(a4));

    /* Every allowed session id character, and the longest id. */
    char longest[128];
    memset(longest, 'Z', sizeof longest);
    ss_store l = 0;
    EXPECT_OK(ss_store_open(f, longest, sizeof longest, &l));
    CHECK(l != 0);
    EXPECT_OK(ss_store_release(l));
    EXPECT_OK(ss_store_open(
        f, LIT("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~:-"), &l));
    EXPECT_OK(ss_store_release(l));
    EXPECT_OK(ss_store_open(f, LIT("x"), &l));
    EXPECT_OK(ss_store_release(l));

    EXPECT_OK(ss_store_release(other));
    EXPECT_OK(ss_factory_close(f));
    EXPECT_OK(ss_factory_close(g));
}

static void test_destroy_and_destroy_session(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "gone");
    ss_store keep = OPEN_STORE(f, "kept");
    EXPECT_OK(ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(keep, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
    /* A new open of the same id is a new, empty session; the neighbour is untouched. */
    s = OPEN_STORE(f, "gone");
    size_t n = 9;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == 0);
    n = 0;
    EXPECT_OK(ss_store_len(keep, &n));
    CHECK(n == 1);
    EXPECT_OK(ss_store_release(s));

    /* destroy_session through the factory, with no handle open. */
    EXPECT_OK(ss_store_release(keep));
    EXPECT_OK(ss_factory_destroy_session(f, LIT("kept")));
    keep = OPEN_STORE(f, "kept");
    n = 9;
    EXPECT_OK(ss_store_len(keep, &n));
    CHECK(n == 0);
    EXPECT_OK(ss_store_release(keep));
    /* A session that never existed: SS_OK. */
    EXPECT_OK(ss_factory_destroy_session(f, LIT("never-existed")));
    EXPECT_OK(ss_factory_close(f));
}

int main(void) {
    test_last_error(); /* first: it checks the message before any failure */
    test_version();
    test_status_names();
    test_bytes_free();
    test_factory_urls();
    test_raw_values();
    test_keys_are_exact();
    test_small_session_exact();
    test_msgpack_values();
    test_set_many();
    test_sharing();
    test_destroy_and_destroy_session();
    return check_finish();
}
