/*
 * test_backends.c: every behaviour of the C ABI that holds whatever the backend, each checked
 * once, on every url of SESSIONSTORE_TEST_URLS (default "memory://"; tests/redis/harness.sh
 * exports memory, a standalone Redis, Sentinel and Cluster), separated by whitespace (urls hold
 * commas, never spaces). What needs no backend, or is memory://'s own, lives elsewhere:
 * test_api.c (status names, version, last error, ss_bytes_free, memory:// urls, memory://
 * factories never sharing), test_handles.c (zero, forged, wrong-kind and released handles; the
 * memory:// lease), test_bad_input.c (bad urls, a NULL url, random documents),
 * test_threads.c (release, destroy and close racing use).
 *
 * For each url: values byte for byte (raw bytes as bin of the smallest width, every portable
 * MessagePack type, SS_ERR_TYPE for a raw read of anything else); keys as exact bytes;
 * keys/get_all/has/del/len; set_many, all or nothing; every bad argument (NULL pointers, keys,
 * session ids, sizes, MessagePack) answering its status with nothing stored; two handles
 * sharing a session and release keeping its data; destroy, ss_factory_destroy_session and
 * ss_factory_close answering what docs/API.md §5 says for every call afterwards; threads
 * sharing one store; no socket left open once the factories closed. For a shared backend (not
 * memory://) also two factories as two nodes: a session written through one is read through
 * the other, and a destroy through one leaves the other's handles SS_ERR_DESTROYED.
 *
 * The url is used as given, so it must leave ttl_ms and max_value_bytes at their defaults
 * (the size limits and "data outlives every handle" are checked against them; a factory with
 * a smaller max_value_bytes is opened here from the url). Every failure names its url,
 * password as "***".
 *
 * Session ids start with "c<pid>-<time>-", so a rerun on a persistent server never meets an
 * earlier run's data; every session this program names is destroyed before it ends (a last
 * sweep per url, also after a failure). Operation counts stay small on a remote backend:
 * under valgrind each call is also a round trip. Argument errors are answered before any
 * backend is reached, so their long lists cost no round trip.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define MAX_URLS 16
#define MAX_NAMES 64

static char run_prefix[64];
static const char *current_url = "";
static bool current_is_memory;

/* Every session name used, for the sweep that destroys them at the end of each url. */
static char *names_used[MAX_NAMES];
static size_t names_count;

/* A session id unique to this run: "<run prefix><name>". */
static void sid_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s%s", run_prefix, name);
    for (size_t i = 0; i < names_count; i++) {
        if (strcmp(names_used[i], out) == 0) {
            return;
        }
    }
    if (CHECK(names_count < MAX_NAMES)) {
        names_used[names_count++] = strdup(out);
    }
}

static ss_store open_named(ss_factory f, const char *name) {
    char sid[129];
    sid_of(sid, sizeof sid, name);
    return OPEN_STORE(f, sid);
}

/* A factory on the current url with one more option ("name=value"). */
static ss_factory open_with_option(const char *option) {
    char url[1024];
    snprintf(url, sizeof url, "%s%s%s", current_url, strchr(current_url, '?') ? "&" : "?", option);
    return OPEN_FACTORY(url);
}

/* --- values -------------------------------------------------------------------------------- */

static void test_raw_values(ss_factory f) {
    ss_store s = open_named(f, "raw-values");
    ss_bytes b;

    /* Bytes with NULs and every byte value come back exactly. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++) {
        all[i] = (uint8_t)i;
    }
    EXPECT_OK(ss_store_set(s, LIT("all"), all, sizeof all));
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("all"), &b));
    CHECK_BYTES(&b, all, sizeof all);
    ss_bytes_free(&b);

    /* The empty value: a non-NULL pointer with length 0, stored as bin 8 of length 0. */
    EXPECT_OK(ss_store_set(s, LIT("empty"), all, 0));
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("empty"), &b));
    CHECK(b.len == 0);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("empty"), &b));
    CHECK_BYTES(&b, "\xc4\x00", 2);
    ss_bytes_free(&b);

    /* Raw bytes are MessagePack bin, of the smallest width: bin 8, bin 16 ... */
    EXPECT_OK(ss_store_set(s, LIT("small"), (const uint8_t *)"hi", 2));
    EXPECT_OK(ss_store_get_msgpack(s, LIT("small"), &b));
    CHECK_BYTES(&b, "\xc4\x02hi", 4);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("all"), &b));
    CHECK(b.len == 259 && b.data[0] == 0xc5 && b.data[1] == 0x01 && b.data[2] == 0x00 &&
          memcmp(b.data + 3, all, 256) == 0);
    ss_bytes_free(&b);

    /* ... and bin 32, over 64 KiB. */
    size_t big_len = 70000;
    uint8_t *big = malloc(big_len);
    if (CHECK(big != NULL)) {
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
    }

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
    ss_bytes_free(&b); /* zeroed: a no-op */

    CHECK(STORE_LEN(s) == 4);
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

static void test_msgpack_values(ss_factory f) {
    ss_store s = open_named(f, "msgpack-values");
    ss_bytes b;

    /* Every portable type round-trips byte for byte through the _msgpack calls; the raw call
     * reads only bin (of any width) and answers SS_ERR_TYPE, out zeroed, for anything else. */
    static const struct {
        const char *key;
        const char *doc;
        size_t len;
        const char *raw; /* what ss_store_get answers, for a bin; NULL: SS_ERR_TYPE */
        size_t raw_len;
    } docs[] = {
        {"str", "\xa3" "abc", 4, NULL, 0},
        {"str8", "\xd9\x03" "abc", 5, NULL, 0},
        {"empty-str", "\xa0", 1, NULL, 0},
        {"true", "\xc3", 1, NULL, 0},
        {"false", "\xc2", 1, NULL, 0},
        {"fixint", "\x2a", 1, NULL, 0},
        {"negfixint", "\xff", 1, NULL, 0},
        {"uint64", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, NULL, 0},
        {"int64", "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, NULL, 0},
        {"float64", "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", 9, NULL, 0},
        {"float32", "\xca\x3f\xc0\x00\x00", 5, NULL, 0},
        {"array", "\x93\x01\xa1x\xc0", 5, NULL, 0},          /* [1, "x", nil]: nil inside is fine */
        {"array-of-bin", "\x91\xc4\x00", 3, NULL, 0},        /* holds a bin, is none */
        {"map", "\x82\xa1k\x01\xa1n\xc0", 7, NULL, 0},       /* {"k": 1, "n": nil} */
        {"nested", "\x81\xa1m\x91\x81\xa0\x90", 7, NULL, 0}, /* {"m": [{"": []}]} */
        {"ext-P", "\xd4\x50\x01", 3, NULL, 0},               /* fixext 1, type 80 */
        {"ext-J", "\xc7\x03\x4a\x01\x02\x03", 6, NULL, 0},   /* ext 8, type 74 */
        {"empty-array", "\x90", 1, NULL, 0},
        {"empty-map", "\x80", 1, NULL, 0},
        {"bin", "\xc4\x03\x00\x01\x02", 5, "\x00\x01\x02", 3},
        {"bin16", "\xc5\x00\x02zz", 5, "zz", 2}, /* bin written in a wider form: still raw */
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        const char *key = docs[i].key;
        if (!EXPECT_OK(ss_store_set_msgpack(s, key, strlen(key), (const uint8_t *)docs[i].doc,
                                            docs[i].len))) {
            fprintf(stderr, "  ^ key: %s\n", key);
            continue;
        }
        GARBAGE(b);
        EXPECT_OK(ss_store_get_msgpack(s, key, strlen(key), &b));
        CHECK_BYTES(&b, docs[i].doc, docs[i].len);
        ss_bytes_free(&b);
        GARBAGE(b);
        if (docs[i].raw != NULL) {
            EXPECT_OK(ss_store_get(s, key, strlen(key), &b));
            CHECK_BYTES(&b, docs[i].raw, docs[i].raw_len);
            ss_bytes_free(&b);
        } else {
            if (!EXPECT_STATUS(ss_store_get(s, key, strlen(key), &b), SS_ERR_TYPE)) {
                fprintf(stderr, "  ^ raw read of key: %s\n", key);
            }
            CHECK_ZEROED(b);
            ss_bytes_free(&b);
        }
    }
    CHECK(STORE_LEN(s) == sizeof(docs) / sizeof(docs[0]));
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* The typed calls write what Python and Java write for a str and an int (the portable int
 * encoding: never the int8/int16 markers Java reads as Byte/Short), read what they wrote, and
 * answer SS_ERR_TYPE, out zeroed, for a value of another type. */
static void test_typed_values(ss_factory f) {
    ss_store s = open_named(f, "typed-values");
    ss_bytes b;

    /* str: round trip, the NUL after the text, the document, a non-UTF-8 value refused. */
    EXPECT_OK(ss_store_set_str(s, LIT("name"), LIT("Ada ✓")));
    GARBAGE(b);
    EXPECT_OK(ss_store_get_str(s, LIT("name"), &b));
    CHECK_BYTES(&b, "Ada \xe2\x9c\x93", 7);
    CHECK(b.data != NULL && b.data[b.len] == '\0' && strcmp((const char *)b.data, "Ada ✓") == 0);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_get_msgpack(s, LIT("name"), &b));
    CHECK_BYTES(&b, "\xa7" "Ada \xe2\x9c\x93", 8);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_set_str(s, LIT("empty"), "", 0));
    EXPECT_OK(ss_store_get_str(s, LIT("empty"), &b));
    CHECK(b.len == 0 && b.data != NULL && b.data[0] == '\0');
    ss_bytes_free(&b);
    EXPECT_STATUS(ss_store_set_str(s, LIT("bad"), "\xff\xfe", 2), SS_ERR_INVALID_ARG);
    EXPECT_STATUS(ss_store_set_str(s, LIT("bad"), NULL, 0), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_get_str(s, LIT("name"), NULL), SS_ERR_NULL_ARG);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_str(s, LIT("missing"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);

    /* i64: every width of the portable encoding, byte for byte, and back. */
    static const struct {
        int64_t n;
        const char *doc;
        size_t len;
    } ints[] = {
        {0, "\x00", 1},
        {42, "\x2a", 1},
        {200, "\xcc\xc8", 2},
        {70000, "\xce\x00\x01\x11\x70", 5},
        {INT64_MAX, "\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9},
        {-1, "\xff", 1},
        {-32, "\xe0", 1},
        {-33, "\xd2\xff\xff\xff\xdf", 5},
        {INT32_MIN, "\xd2\x80\x00\x00\x00", 5},
        {(int64_t)INT32_MIN - 1, "\xd3\xff\xff\xff\xff\x7f\xff\xff\xff", 9},
        {INT64_MIN, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9},
    };
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        EXPECT_OK(ss_store_set_i64(s, LIT("n"), ints[i].n));
        GARBAGE(b);
        EXPECT_OK(ss_store_get_msgpack(s, LIT("n"), &b));
        if (!CHECK_BYTES(&b, ints[i].doc, ints[i].len)) {
            fprintf(stderr, "  ^ %lld\n", (long long)ints[i].n);
        }
        ss_bytes_free(&b);
        int64_t got = 7;
        EXPECT_OK(ss_store_get_i64(s, LIT("n"), &got));
        CHECK(got == ints[i].n);
    }
    /* Java's own widths read too: a Byte (int8), a Short (int16). */
    EXPECT_OK(ss_store_set_msgpack(s, LIT("byte"), (const uint8_t *)"\xd0\x9c", 2));
    EXPECT_OK(ss_store_set_msgpack(s, LIT("short"), (const uint8_t *)"\xd1\x01\x2c", 3));
    int64_t n = 0;
    EXPECT_OK(ss_store_get_i64(s, LIT("byte"), &n));
    CHECK(n == -100);
    EXPECT_OK(ss_store_get_i64(s, LIT("short"), &n));
    CHECK(n == 300);

    /* Another type: SS_ERR_TYPE, out zeroed; a uint64 past INT64_MAX is no int64. */
    EXPECT_OK(ss_store_set_msgpack(s, LIT("big"), (const uint8_t *)"\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9));
    n = 5;
    EXPECT_STATUS(ss_store_get_i64(s, LIT("big"), &n), SS_ERR_TYPE);
    CHECK(n == 0);
    n = 5;
    EXPECT_STATUS(ss_store_get_i64(s, LIT("name"), &n), SS_ERR_TYPE);
    CHECK(n == 0);
    n = 5;
    EXPECT_STATUS(ss_store_get_i64(s, LIT("missing"), &n), SS_NOT_FOUND);
    CHECK(n == 0);
    EXPECT_STATUS(ss_store_get_i64(s, LIT("n"), NULL), SS_ERR_NULL_ARG);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_str(s, LIT("n"), &b), SS_ERR_TYPE);
    CHECK_ZEROED(b);
    EXPECT_OK(ss_store_set(s, LIT("raw"), (const uint8_t *)"42", 2));
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_str(s, LIT("raw"), &b), SS_ERR_TYPE);
    CHECK_ZEROED(b);
    EXPECT_STATUS(ss_store_get(s, LIT("name"), &b), SS_ERR_TYPE);
    CHECK_ZEROED(b);

    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* --- keys ---------------------------------------------------------------------------------- */

static void test_keys_are_exact(ss_factory f) {
    ss_store s = open_named(f, "keys");
    ss_bytes b;
    bool flag;

    /* The empty key is a key. */
    EXPECT_OK(ss_store_set(s, "", 0, (const uint8_t *)"e", 1));
    GARBAGE(flag);
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
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(s, "a\0", 2, &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);

    /* Non-ASCII UTF-8, and the longest keys: 1024 bytes (512 two-byte characters, or ASCII). */
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
    GARBAGE(flag);
    EXPECT_OK(ss_store_has(s, ascii1024, sizeof ascii1024, &flag));
    CHECK(flag);
    EXPECT_OK(ss_store_get(s, ascii1024, sizeof ascii1024, &b));
    CHECK_BYTES(&b, "K", 1);
    ss_bytes_free(&b);

    CHECK(STORE_LEN(s) == 6);

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

    /* The empty key deletes like any other. */
    GARBAGE(flag);
    EXPECT_OK(ss_store_del(s, "", 0, &flag));
    CHECK(flag);
    GARBAGE(flag);
    EXPECT_OK(ss_store_del(s, "", 0, &flag));
    CHECK(!flag);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_msgpack(s, "", 0, &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    CHECK(STORE_LEN(s) == 5);

    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* has / del / len on a small session, and keys / get_all byte for byte. */
static void test_small_session_exact(ss_factory f) {
    ss_store s = open_named(f, "small-session");
    ss_bytes b;
    bool flag;

    /* An empty session. */
    CHECK(STORE_LEN(s) == 0);
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
    CHECK(STORE_LEN(s) == 2);

    /* has; an out-parameter full of garbage is written on success. */
    GARBAGE(flag);
    EXPECT_OK(ss_store_has(s, LIT("a"), &flag));
    CHECK(flag);
    GARBAGE(flag);
    EXPECT_OK(ss_store_has(s, LIT("zz"), &flag));
    CHECK(!flag);

    /* del reports whether the key existed; existed may be NULL. */
    GARBAGE(flag);
    EXPECT_OK(ss_store_del(s, LIT("a"), &flag));
    CHECK(flag);
    GARBAGE(flag);
    EXPECT_OK(ss_store_del(s, LIT("a"), &flag));
    CHECK(!flag);
    EXPECT_OK(ss_store_del(s, LIT("bc"), NULL));
    EXPECT_OK(ss_store_del(s, LIT("never"), NULL));
    CHECK(STORE_LEN(s) == 0);
    EXPECT_OK(ss_store_get_all(s, &b));
    CHECK_BYTES(&b, "\x80", 1);
    ss_bytes_free(&b);

    EXPECT_OK(ss_store_release(s));
}

/* --- set_many ------------------------------------------------------------------------------ */

static void test_set_many(ss_factory f) {
    ss_store s = open_named(f, "set-many");
    ss_bytes b;

    /* The empty map stores nothing and is fine. */
    EXPECT_OK(ss_store_set_many(s, (const uint8_t *)"\x80", 1));
    CHECK(STORE_LEN(s) == 0);

    /* {"userId": 42, "over": bin "new", "tags": ["a", "b"]} adds, overwrites, keeps the rest. */
    EXPECT_OK(ss_store_set(s, LIT("keep"), (const uint8_t *)"old", 3));
    EXPECT_OK(ss_store_set(s, LIT("over"), (const uint8_t *)"old", 3));
    const uint8_t doc[] = {0x83, 0xa6, 'u', 's', 'e', 'r', 'I', 'd', 0x2a, 0xa4, 'o', 'v', 'e',
                           'r',  0xc4, 3,   'n', 'e', 'w', 0xa4, 't', 'a', 'g', 's', 0x92, 0xa1,
                           'a',  0xa1, 'b'};
    EXPECT_OK(ss_store_set_many(s, doc, sizeof doc));
    CHECK(STORE_LEN(s) == 4);
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

    /* All or nothing: a bad entry after good ones stores none of them, neither a new key nor
     * a new value of a key the session holds. {"n": 1, "over": 1, "m": nil} */
    const uint8_t half_bad[] = {0x83, 0xa1, 'n', 0x01, 0xa4, 'o', 'v', 'e', 'r', 0x01, 0xa1, 'm', 0xc0};
    EXPECT_STATUS(ss_store_set_many(s, half_bad, sizeof half_bad), SS_ERR_INVALID_ARG);
    bool flag;
    GARBAGE(flag);
    EXPECT_OK(ss_store_has(s, LIT("n"), &flag));
    CHECK(!flag);
    EXPECT_OK(ss_store_get(s, LIT("over"), &b));
    CHECK_BYTES(&b, "new", 3);
    ss_bytes_free(&b);
    CHECK(STORE_LEN(s) == 5);

    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* --- bad arguments: the same statuses whatever the backend, and nothing stored ------------- */

static void test_null_args(ss_factory f, ss_store s) {
    ss_store out;
    ss_bytes b;
    bool flag;
    const uint8_t v[] = {1, 2, 3};

    EXPECT_STATUS(ss_factory_destroy_session(f, NULL, 5), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_factory_destroy_session(f, NULL, 0), SS_ERR_NULL_ARG);
    GARBAGE(out);
    EXPECT_STATUS(ss_store_open(f, NULL, 5, &out), SS_ERR_NULL_ARG);
    CHECK_ZEROED(out);
    GARBAGE(out);
    EXPECT_STATUS(ss_store_open(f, NULL, 0, &out), SS_ERR_NULL_ARG);
    CHECK_ZEROED(out);
    EXPECT_STATUS(ss_store_open(f, LIT("sid"), NULL), SS_ERR_NULL_ARG);

    /* set: the key, and the value even with length 0. */
    EXPECT_STATUS(ss_store_set(s, NULL, 0, v, 3), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(s, NULL, 1, v, 3), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(s, LIT("k"), NULL, 3), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(s, LIT("k"), NULL, 0), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(s, "", 0, NULL, 0), SS_ERR_NULL_ARG);

    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(s, NULL, 0, &b), SS_ERR_NULL_ARG);
    CHECK_ZEROED(b);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(s, NULL, 1, &b), SS_ERR_NULL_ARG);
    CHECK_ZEROED(b);
    EXPECT_STATUS(ss_store_get(s, LIT("k"), NULL), SS_ERR_NULL_ARG);

    EXPECT_STATUS(ss_store_set_msgpack(s, NULL, 1, v, 1), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_msgpack(s, LIT("k"), NULL, 1), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_msgpack(s, LIT("k"), NULL, 0), SS_ERR_NULL_ARG);

    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_msgpack(s, NULL, 1, &b), SS_ERR_NULL_ARG);
    CHECK_ZEROED(b);
    EXPECT_STATUS(ss_store_get_msgpack(s, LIT("k"), NULL), SS_ERR_NULL_ARG);

    GARBAGE(flag);
    EXPECT_STATUS(ss_store_has(s, NULL, 1, &flag), SS_ERR_NULL_ARG);
    CHECK_ZEROED(flag);
    EXPECT_STATUS(ss_store_has(s, LIT("k"), NULL), SS_ERR_NULL_ARG);

    GARBAGE(flag);
    EXPECT_STATUS(ss_store_del(s, NULL, 1, &flag), SS_ERR_NULL_ARG);
    CHECK_ZEROED(flag);
    EXPECT_STATUS(ss_store_del(s, NULL, 0, NULL), SS_ERR_NULL_ARG);

    EXPECT_STATUS(ss_store_len(s, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_keys(s, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_get_all(s, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_many(s, NULL, 0), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_many(s, NULL, 1), SS_ERR_NULL_ARG);

    /* None of it stored anything, and the store still works. */
    CHECK(STORE_LEN(s) == 0);
}

/* Every key-taking call rejects `key` with `want`; out-parameters end up zeroed. */
static void expect_key_rejected(ss_store s, const char *key, size_t len, ss_status want,
                                const char *what) {
    ss_bytes b;
    bool flag;
    const uint8_t v[] = {0xc3};
    size_t before = STORE_LEN(s);
    bool ok = true;

    ok &= EXPECT_STATUS(ss_store_set(s, key, len, v, 1), want);
    ok &= EXPECT_STATUS(ss_store_set_msgpack(s, key, len, v, 1), want);
    GARBAGE(b);
    ok &= EXPECT_STATUS(ss_store_get(s, key, len, &b), want);
    ok &= CHECK_ZEROED(b);
    GARBAGE(b);
    ok &= EXPECT_STATUS(ss_store_get_msgpack(s, key, len, &b), want);
    ok &= CHECK_ZEROED(b);
    GARBAGE(flag);
    ok &= EXPECT_STATUS(ss_store_has(s, key, len, &flag), want);
    ok &= CHECK_ZEROED(flag);
    GARBAGE(flag);
    ok &= EXPECT_STATUS(ss_store_del(s, key, len, &flag), want);
    ok &= CHECK_ZEROED(flag);
    ok &= EXPECT_STATUS(ss_store_del(s, key, len, NULL), want);
    ok &= CHECK(STORE_LEN(s) == before);
    if (!ok) {
        fprintf(stderr, "  ^ with key: %s\n", what);
    }
}

static void test_bad_keys(ss_store s) {
    expect_key_rejected(s, "\xff", 1, SS_ERR_INVALID_ARG, "0xff");
    expect_key_rejected(s, "ab\xc3", 3, SS_ERR_INVALID_ARG, "truncated 2-byte sequence");
    expect_key_rejected(s, "\xc0\xaf", 2, SS_ERR_INVALID_ARG, "overlong encoding");
    expect_key_rejected(s, "\xed\xa0\x80", 3, SS_ERR_INVALID_ARG, "UTF-16 surrogate");
    expect_key_rejected(s, "\xf4\x90\x80\x80", 4, SS_ERR_INVALID_ARG, "past U+10FFFF");
    expect_key_rejected(s, "\x80x", 2, SS_ERR_INVALID_ARG, "lone continuation byte");

    char k[1025];
    memset(k, 'k', sizeof k);
    expect_key_rejected(s, k, 1025, SS_ERR_INVALID_ARG, "1025 bytes");
    /* 1024 bytes that end inside a character are invalid UTF-8, not just long. */
    memset(k, 'k', sizeof k);
    k[1023] = '\xc3';
    expect_key_rejected(s, k, 1024, SS_ERR_INVALID_ARG, "1024 bytes ending mid-character");

    /* The boundary: 1024 is fine, 1025 is not, for multi-byte text too. */
    memset(k, 'k', sizeof k);
    EXPECT_OK(ss_store_set(s, k, 1024, (const uint8_t *)"x", 1));
    for (size_t i = 0; i + 1 < 1025; i += 2) {
        k[i] = '\xc3';
        k[i + 1] = '\xa9';
    }
    k[1024] = 'z';
    expect_key_rejected(s, k, 1025, SS_ERR_INVALID_ARG, "1025 bytes of UTF-8");
    EXPECT_OK(ss_store_del(s, k, 1024, NULL));
    memset(k, 'k', sizeof k);
    EXPECT_OK(ss_store_del(s, k, 1024, NULL));
    CHECK(STORE_LEN(s) == 0);
}

static void expect_sid_rejected(ss_factory f, const char *sid, size_t len, const char *what) {
    ss_store s;
    GARBAGE(s);
    bool ok = EXPECT_STATUS(ss_store_open(f, sid, len, &s), SS_ERR_INVALID_ARG);
    ok &= CHECK_ZEROED(s);
    ok &= EXPECT_STATUS(ss_factory_destroy_session(f, sid, len), SS_ERR_INVALID_ARG);
    if (!ok) {
        fprintf(stderr, "  ^ with session id: %s\n", what);
    }
}

/* Session ids (docs/API.md §2): bad ones never reach a backend key; the longest, the shortest,
 * a UUID's text form and every allowed character open. */
static void test_session_ids(ss_factory f) {
    char sid[130];
    memset(sid, 'a', sizeof sid);
    expect_sid_rejected(f, sid, 0, "empty");
    expect_sid_rejected(f, sid, 129, "129 bytes");
    expect_sid_rejected(f, sid, 130, "130 bytes");
    expect_sid_rejected(f, LIT("a/b"), "slash");
    expect_sid_rejected(f, LIT("/"), "only a slash");
    expect_sid_rejected(f, LIT("a b"), "space");
    expect_sid_rejected(f, LIT(" "), "only a space");
    expect_sid_rejected(f, LIT("caf\xc3\xa9"), "non-ASCII");
    expect_sid_rejected(f, LIT("\xff"), "invalid UTF-8");
    expect_sid_rejected(f, "a\0b", 3, "NUL byte");
    expect_sid_rejected(f, LIT("ss:a*"), "glob star");
    expect_sid_rejected(f, LIT("a{b}"), "hash tag braces");
    expect_sid_rejected(f, LIT("a\r\nb"), "CRLF");
    expect_sid_rejected(f, LIT("a?b"), "question mark");

    /* 128 bytes is the longest id: this run's prefix, padded. */
    char name[129];
    memset(name, 'Z', sizeof name);
    name[128 - strlen(run_prefix)] = '\0';
    sid_of(sid, sizeof sid, name);
    CHECK(strlen(sid) == 128);
    ss_store s = 0;
    EXPECT_OK(ss_store_open(f, sid, 128, &s));
    CHECK(s != 0);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_destroy_session(f, sid, 128));
    sid_of(sid, sizeof sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~:-");
    EXPECT_OK(ss_store_open(f, sid, strlen(sid), &s));
    EXPECT_OK(ss_store_release(s));
    sid_of(sid, sizeof sid, "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f");
    EXPECT_OK(ss_store_open(f, sid, strlen(sid), &s));
    EXPECT_OK(ss_store_release(s));
    /* One byte, the shortest: it cannot carry the run's prefix, so nothing is written to it. */
    EXPECT_OK(ss_store_open(f, LIT("x"), &s));
    EXPECT_OK(ss_store_release(s));
}

static void test_too_large(ss_store s) {
    /* Default max_value_bytes: 1 MiB of encoded value; bin 32 adds 5 bytes of header. */
    size_t two_mib = 2u << 20;
    uint8_t *big = calloc(two_mib, 1);
    uint8_t *many = malloc(two_mib + 5);
    ss_bytes b;
    if (!CHECK(big != NULL && many != NULL)) {
        free(big);
        free(many);
        return;
    }

    EXPECT_STATUS(ss_store_set(s, LIT("big"), big, two_mib), SS_ERR_TOO_LARGE);
    EXPECT_STATUS(ss_store_set(s, LIT("big"), big, (1u << 20) - 4), SS_ERR_TOO_LARGE);
    EXPECT_OK(ss_store_set(s, LIT("big"), big, (1u << 20) - 5));
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("big"), &b));
    CHECK(b.len == (1u << 20) - 5);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_del(s, LIT("big"), NULL));

    /* The same through the MessagePack calls: a bin 32 document of 2 MiB. */
    big[0] = 0xc6;
    big[1] = 0x00;
    big[2] = 0x1f;
    big[3] = 0xff;
    big[4] = 0xfb; /* 0x1ffffb payload bytes + 5 = 2 MiB */
    EXPECT_STATUS(ss_store_set_msgpack(s, LIT("big"), big, two_mib), SS_ERR_TOO_LARGE);
    /* ... and as one entry of set_many after a good one: {"a": 1, "big": <2 MiB>} */
    many[0] = 0x82;
    many[1] = 0xa1;
    many[2] = 'a';
    many[3] = 0x01;
    many[4] = 0xa3;
    memcpy(many + 5, "big", 3);
    memcpy(many + 8, big, two_mib - 3); /* bin 32 of 2 MiB - 8 payload bytes */
    many[8 + 4] = 0xf8;
    EXPECT_STATUS(ss_store_set_many(s, many, two_mib + 5), SS_ERR_TOO_LARGE);
    CHECK(STORE_LEN(s) == 0); /* "a" was not stored either */
    free(many);
    free(big);

    /* A smaller max_value_bytes through the url. */
    ss_factory small = open_with_option("max_value_bytes=64");
    if (small == 0) {
        return;
    }
    ss_store t = open_named(small, "small-values");
    uint8_t buf[80] = {0};
    EXPECT_OK(ss_store_set(t, LIT("raw"), buf, 62)); /* c4 3e + 62 = 64 */
    EXPECT_STATUS(ss_store_set(t, LIT("raw"), buf, 63), SS_ERR_TOO_LARGE);
    GARBAGE(b);
    EXPECT_OK(ss_store_get(t, LIT("raw"), &b));
    CHECK(b.len == 62); /* the failed set left the old value */
    ss_bytes_free(&b);
    /* str 8 of 62 bytes = 64 bytes; of 63 = 65. */
    memset(buf, 'x', sizeof buf);
    buf[0] = 0xd9;
    buf[1] = 62;
    EXPECT_OK(ss_store_set_msgpack(t, LIT("doc"), buf, 64));
    buf[1] = 63;
    EXPECT_STATUS(ss_store_set_msgpack(t, LIT("doc"), buf, 65), SS_ERR_TOO_LARGE);
    /* set_many: the limit is per value, not for the whole map. */
    uint8_t m[2 + 2 * (2 + 64)];
    size_t at = 0;
    m[at++] = 0x82;
    for (int i = 0; i < 2; i++) {
        m[at++] = 0xa1;
        m[at++] = (uint8_t)('p' + i);
        m[at++] = 0xd9;
        m[at++] = 62;
        memset(m + at, 'y', 62);
        at += 62;
    }
    EXPECT_OK(ss_store_set_many(t, m, at));
    CHECK(STORE_LEN(t) == 4);
    const size_t second = 1 + 2 + 2 + 62; /* where the second entry starts */
    CHECK(m[second] == 0xa1 && m[second + 1] == 'q' && m[second + 2] == 0xd9);
    m[second + 3] = 63; /* the second value now claims 63 bytes ... */
    uint8_t m2[sizeof m + 1];
    memcpy(m2, m, at);
    m2[at] = 'y'; /* ... and has them: 65 bytes encoded */
    m2[2] = 'r';  /* a new first key, which must not be stored */
    EXPECT_STATUS(ss_store_set_many(t, m2, at + 1), SS_ERR_TOO_LARGE);
    bool flag;
    GARBAGE(flag);
    EXPECT_OK(ss_store_has(t, LIT("r"), &flag));
    CHECK(!flag);
    CHECK(STORE_LEN(t) == 4);
    EXPECT_OK(ss_store_destroy(t));
    EXPECT_OK(ss_store_release(t));
    EXPECT_OK(ss_factory_close(small));
}

struct doc {
    const char *what;
    const char *bytes;
    size_t len;
};

static void test_bad_msgpack(ss_store s) {
    static const struct doc bad[] = {
        {"empty", "", 0},
        {"truncated str", "\xa3" "ab", 3},
        {"truncated str 8 header", "\xd9", 1},
        {"truncated bin 32", "\xc6\x00\x00\x01\x00" "abc", 8},
        {"truncated array", "\x92\x01", 2},
        {"truncated map", "\x81\xa1k", 3},
        {"truncated uint 64", "\xcf\x00\x00", 3},
        {"trailing bytes", "\x01\x01", 2},
        {"trailing nil", "\xa1x\xc0", 3},
        {"top-level nil", "\xc0", 1},
        {"int map key", "\x81\x01\x02", 3},
        {"nil map key", "\x81\xc0\x02", 3},
        {"bin map key", "\x81\xc4\x01k\x02", 5},
        {"nested int map key", "\x91\x81\x01\x02", 4},
        {"map value with int map key", "\x81\xa1k\x81\x01\x02", 6},
        {"reserved byte 0xc1", "\xc1", 1},
        {"str with invalid UTF-8", "\xa1\xff", 2},
        {"map key with invalid UTF-8", "\x81\xa1\xff\x01", 4},
        {"array 32 claiming 4G items", "\xdd\xff\xff\xff\xff\x01", 6},
        {"map 32 claiming 4G entries", "\xdf\xff\xff\xff\xff\xa1k\x01", 8},
        {"bin 32 claiming 4 GiB", "\xc6\xff\xff\xff\xff\x00", 6},
        {"str 32 claiming 4 GiB", "\xdb\xff\xff\xff\xff" "a", 6},
    };
    const char *key = "doc";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const uint8_t *p = (const uint8_t *)bad[i].bytes;
        if (!EXPECT_STATUS(ss_store_set_msgpack(s, key, strlen(key), p, bad[i].len),
                           SS_ERR_INVALID_ARG)) {
            fprintf(stderr, "  ^ with document: %s\n", bad[i].what);
        }
        /* The same document as a set_many value: {"doc": <bad>}, after a good entry. */
        uint8_t m[64];
        size_t at = 0;
        m[at++] = 0x82;
        memcpy(m + at, "\xa4good\x01", 6);
        at += 6;
        memcpy(m + at, "\xa3" "doc", 4);
        at += 4;
        memcpy(m + at, bad[i].bytes, bad[i].len);
        at += bad[i].len;
        if (!EXPECT_STATUS(ss_store_set_many(s, m, at), SS_ERR_INVALID_ARG)) {
            fprintf(stderr, "  ^ set_many with value: %s\n", bad[i].what);
        }
    }
    CHECK(STORE_LEN(s) == 0);

    /* Nesting: at most 128 arrays and maps deep (the header's rule), whatever the leaf;
     * the same for a value of set_many. */
    static const struct doc leaves[] = {
        {"int", "\x01", 1}, {"str", "\xa1s", 2}, {"ext", "\xd4\x4a\x00", 3}, {"bin", "\xc4\x01\x07", 3},
    };
    static const size_t depths[] = {63, 128, 129};
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        uint8_t doc[3 + 129 + 3];
        memcpy(doc, "\x81\xa1k", 3); /* {"k": ...} for set_many */
        for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
            size_t levels = depths[d];
            memset(doc + 3, 0x91, levels);
            memcpy(doc + 3 + levels, leaves[i].bytes, leaves[i].len);
            size_t len = levels + leaves[i].len;
            ss_status want = levels <= 128 ? SS_OK : SS_ERR_INVALID_ARG;
            bool ok = EXPECT_STATUS(ss_store_set_msgpack(s, LIT("nested"), doc + 3, len), want);
            ok &= EXPECT_STATUS(ss_store_set_many(s, doc, 3 + len), want);
            if (!ok) {
                fprintf(stderr, "  ^ %zu arrays around a %s\n", levels, leaves[i].what);
            }
        }
    }
    {
        uint8_t maps[3 * 129 + 1];
        for (size_t i = 0; i < 129; i++) {
            memcpy(maps + 3 * i, "\x81\xa1k", 3); /* {"k": {"k": ...}} */
        }
        maps[3 * 129] = 0x01;
        /* 129 maps around a leaf: too deep as one value ... */
        EXPECT_STATUS(ss_store_set_msgpack(s, LIT("nested"), maps, sizeof maps),
                      SS_ERR_INVALID_ARG);
        /* ... but fine as set_many's map, whose own level is not part of the value. */
        EXPECT_OK(ss_store_set_many(s, maps, sizeof maps));
        /* 128 maps around a leaf, and around an empty array (a 129th level). */
        maps[3 * 128] = 0x01;
        EXPECT_OK(ss_store_set_msgpack(s, LIT("nested"), maps, 3 * 128 + 1));
        maps[3 * 128] = 0x90;
        EXPECT_STATUS(ss_store_set_msgpack(s, LIT("nested"), maps, 3 * 128 + 1),
                      SS_ERR_INVALID_ARG);
        /* As set_many's map, that value is 127 maps around the array: 128 levels. */
        EXPECT_OK(ss_store_set_many(s, maps, 3 * 128 + 1));
        EXPECT_OK(ss_store_del(s, LIT("nested"), NULL));
        EXPECT_OK(ss_store_del(s, LIT("k"), NULL));
    }

    /* Nesting far deeper than any host would decode recursively. */
    size_t deep_len = 100001; /* odd: pairs of map header and key, then the value */
    uint8_t *deep = malloc(deep_len);
    if (CHECK(deep != NULL)) {
        memset(deep, 0x91, deep_len - 1);
        deep[deep_len - 1] = 0x01;
        EXPECT_STATUS(ss_store_set_msgpack(s, LIT("deep"), deep, deep_len), SS_ERR_INVALID_ARG);
        for (size_t i = 0; i + 1 < deep_len; i += 2) {
            deep[i] = 0x81; /* {"": {"": ... 1}} */
            deep[i + 1] = 0xa0;
        }
        deep[deep_len - 1] = 0x01;
        EXPECT_STATUS(ss_store_set_msgpack(s, LIT("deep"), deep, deep_len), SS_ERR_INVALID_ARG);
        EXPECT_STATUS(ss_store_set_many(s, deep, deep_len), SS_ERR_INVALID_ARG);
        free(deep);
    }

    /* set_many's own document: a map of str keys, no nil value, nothing after it. */
    static const struct doc bad_maps[] = {
        {"empty", "", 0},
        {"not a map: str", "\xa1x", 2},
        {"not a map: array", "\x91\x01", 2},
        {"not a map: nil", "\xc0", 1},
        {"truncated map", "\x82\xa1" "a\x01", 4},
        {"truncated key", "\x81\xa3" "ab", 4},
        {"missing value", "\x81\xa1" "a", 3},
        {"missing second value", "\x82\xa1k\x01\xa1j", 6},
        {"trailing bytes", "\x81\xa1" "a\x01\x01", 5},
        {"int key", "\x81\x01\x01", 3},
        {"int second key", "\x82\xa1" "a\x01\x02\x03", 6},
        {"bin key", "\x82\xa1" "a\x01\xc4\x01" "b\x03", 8},
        {"key with invalid UTF-8", "\x82\xa1" "a\x01\xa1\xff\x03", 7},
        {"top-level nil value", "\x81\xa1k\xc0", 4},
        {"top-level nil second value", "\x82\xa1" "a\x01\xa1" "b\xc0", 7},
        {"map 32 claiming 4G entries", "\xdf\xff\xff\xff\xff\xa1" "a\x01", 8},
    };
    for (size_t i = 0; i < sizeof(bad_maps) / sizeof(bad_maps[0]); i++) {
        if (!EXPECT_STATUS(ss_store_set_many(s, (const uint8_t *)bad_maps[i].bytes,
                                             bad_maps[i].len),
                           SS_ERR_INVALID_ARG)) {
            fprintf(stderr, "  ^ set_many with map: %s\n", bad_maps[i].what);
        }
    }
    /* A 1025-byte key inside the map: str 16 header. */
    uint8_t m[1 + 3 + 1025 + 1 + 3 + 1];
    size_t at = 0;
    m[at++] = 0x82;
    m[at++] = 0xa1;
    m[at++] = 'a';
    m[at++] = 0x01;
    m[at++] = 0xda;
    m[at++] = 0x04;
    m[at++] = 0x01;
    memset(m + at, 'k', 1025);
    at += 1025;
    m[at++] = 0x02;
    EXPECT_STATUS(ss_store_set_many(s, m, at), SS_ERR_INVALID_ARG);
    /* ... while a 1024-byte one is fine. */
    m[6] = 0x00;
    m[7 + 1024] = 0x02;
    EXPECT_OK(ss_store_set_many(s, m, 7 + 1024 + 1));
    CHECK(STORE_LEN(s) == 2);
    char k1024[1024];
    memset(k1024, 'k', sizeof k1024);
    EXPECT_OK(ss_store_del(s, k1024, sizeof k1024, NULL));
    EXPECT_OK(ss_store_del(s, LIT("a"), NULL));
    CHECK(STORE_LEN(s) == 0);
}

static void test_bad_arguments(ss_factory f) {
    ss_store s = open_named(f, "bad-arguments");
    test_null_args(f, s);
    test_bad_keys(s);
    test_session_ids(f);
    test_too_large(s);
    test_bad_msgpack(s);
    CHECK(STORE_LEN(s) == 0);
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* --- sharing, release, destroy, destroy_session, close (docs/API.md §5) -------------------- */

/* Two handles on one session share its data; releasing one keeps it. */
static void test_sharing(ss_factory f) {
    ss_store a = open_named(f, "shared");
    ss_store a2 = open_named(f, "shared");
    CHECK(a != 0 && a2 != 0 && a != a2);
    ss_bytes b;
    bool flag;

    EXPECT_OK(ss_store_set(a, LIT("userId"), (const uint8_t *)"42", 2));
    EXPECT_OK(ss_store_get(a2, LIT("userId"), &b));
    CHECK_BYTES(&b, "42", 2);
    ss_bytes_free(&b);
    GARBAGE(flag);
    EXPECT_OK(ss_store_del(a2, LIT("userId"), &flag));
    CHECK(flag);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(a, LIT("userId"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    EXPECT_OK(ss_store_set(a2, LIT("room"), (const uint8_t *)"lobby", 5));

    /* Releasing one handle keeps the data, for the other handle and for a later open, which
     * attaches to it. */
    EXPECT_OK(ss_store_release(a));
    CHECK(STORE_LEN(a2) == 1);
    ss_store a3 = open_named(f, "shared");
    CHECK(a3 != 0);
    EXPECT_OK(ss_store_get(a3, LIT("room"), &b));
    CHECK_BYTES(&b, "lobby", 5);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_release(a2));
    EXPECT_OK(ss_store_release(a3));
    ss_store a4 = open_named(f, "shared");
    CHECK(STORE_LEN(a4) == 1); /* no lease: data outlives every handle */
    EXPECT_OK(ss_store_destroy(a4));
    EXPECT_OK(ss_store_release(a4));
}

static void test_destroy(ss_factory f) {
    ss_store a = open_named(f, "doomed");
    ss_store b = open_named(f, "doomed"); /* a second handle on the same session */
    ss_store other = open_named(f, "bystander");
    EXPECT_OK(ss_store_set(a, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(other, LIT("k"), (const uint8_t *)"v", 1));

    EXPECT_OK(ss_store_destroy(a));
    EXPECT_STORE_CALLS(a, SS_ERR_DESTROYED, false, "after destroy");
    EXPECT_STORE_CALLS(b, SS_ERR_DESTROYED, false, "second handle after destroy");
    /* Destroying a destroyed session is SS_OK, through either handle. */
    EXPECT_OK(ss_store_destroy(a));
    EXPECT_OK(ss_store_destroy(b));
    CHECK(STORE_LEN(other) == 1);

    /* A later open of the same id is a new, empty session ... */
    ss_store fresh = open_named(f, "doomed");
    CHECK(STORE_LEN(fresh) == 0);
    ss_bytes out;
    GARBAGE(out);
    EXPECT_STATUS(ss_store_get(fresh, LIT("k"), &out), SS_NOT_FOUND);
    CHECK_ZEROED(out);
    EXPECT_OK(ss_store_set(fresh, LIT("new"), (const uint8_t *)"n", 1));
    /* ... which the old handles never see: they stay destroyed, and write nothing into it. */
    EXPECT_STORE_CALLS(a, SS_ERR_DESTROYED, false, "old handle after a new open");
    EXPECT_STORE_CALLS(b, SS_ERR_DESTROYED, false, "old second handle after a new open");
    CHECK(STORE_LEN(fresh) == 1);

    /* Release still works on destroyed handles, once. */
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_store_release(b));
    EXPECT_STATUS(ss_store_release(a), SS_ERR_INVALID_HANDLE);
    EXPECT_STORE_CALLS(b, SS_ERR_INVALID_HANDLE, true, "destroyed, then released");
    EXPECT_OK(ss_store_destroy(fresh));
    EXPECT_OK(ss_store_release(fresh));
    EXPECT_OK(ss_store_destroy(other));
    EXPECT_OK(ss_store_release(other));
}

static void test_destroy_session(ss_factory f) {
    char sid[129];
    sid_of(sid, sizeof sid, "sess-1");
    ss_store a = OPEN_STORE(f, sid);
    ss_store b = OPEN_STORE(f, sid);
    ss_store other = open_named(f, "sess-2");
    EXPECT_OK(ss_store_set(a, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(other, LIT("k"), (const uint8_t *)"v", 1));

    /* With handles open: they answer DESTROYED; the neighbour is untouched. */
    EXPECT_OK(ss_factory_destroy_session(f, sid, strlen(sid)));
    EXPECT_STORE_CALLS(a, SS_ERR_DESTROYED, false, "after destroy_session");
    EXPECT_STORE_CALLS(b, SS_ERR_DESTROYED, false, "second handle after destroy_session");
    CHECK(STORE_LEN(other) == 1);
    /* Again: nothing there, SS_OK; and for an id that never existed. */
    EXPECT_OK(ss_factory_destroy_session(f, sid, strlen(sid)));
    char never[129];
    sid_of(never, sizeof never, "never-opened");
    EXPECT_OK(ss_factory_destroy_session(f, never, strlen(never)));

    ss_store fresh = OPEN_STORE(f, sid);
    CHECK(STORE_LEN(fresh) == 0);
    EXPECT_OK(ss_store_release(fresh));
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_store_release(b));
    EXPECT_OK(ss_store_destroy(other));
    EXPECT_OK(ss_store_release(other));

    /* A session with data and no open handle. */
    sid_of(sid, sizeof sid, "sess-3");
    ss_store c = OPEN_STORE(f, sid);
    EXPECT_OK(ss_store_set(c, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_release(c));
    EXPECT_OK(ss_factory_destroy_session(f, sid, strlen(sid)));
    c = OPEN_STORE(f, sid);
    CHECK(STORE_LEN(c) == 0);
    EXPECT_OK(ss_store_release(c));
}

/* Two factories on the url: on memory:// two separate stores, on a shared backend two nodes
 * of one; closing one leaves the other (and, there, the session) working. */
static void test_close(void) {
    ss_factory f = OPEN_FACTORY(current_url);
    ss_factory g = OPEN_FACTORY(current_url);
    ss_store a = open_named(f, "closing");
    ss_store a2 = open_named(f, "closing");
    ss_store destroyed = open_named(f, "destroyed-before-close");
    ss_store elsewhere = open_named(g, "closing");
    EXPECT_OK(ss_store_set(a, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_set(elsewhere, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_destroy(destroyed));

    EXPECT_OK(ss_factory_close(f));
    EXPECT_STORE_CALLS(a, SS_ERR_CLOSED, true, "after factory close");
    EXPECT_STORE_CALLS(a2, SS_ERR_CLOSED, true, "second handle after factory close");
    EXPECT_STORE_CALLS(destroyed, SS_ERR_CLOSED, true, "destroyed handle after factory close");
    EXPECT_FACTORY_CALLS(f, SS_ERR_CLOSED, "after factory close");
    EXPECT_OK(ss_factory_close(f)); /* closing twice is SS_OK */
    EXPECT_FACTORY_CALLS(f, SS_ERR_CLOSED, "after a second close");

    /* Another factory is untouched. */
    CHECK(STORE_LEN(elsewhere) == 1);

    /* Release still works, once. */
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_store_release(a2));
    EXPECT_OK(ss_store_release(destroyed));
    EXPECT_STATUS(ss_store_release(a), SS_ERR_INVALID_HANDLE);
    EXPECT_STORE_CALLS(a2, SS_ERR_INVALID_HANDLE, true, "closed, then released");
    EXPECT_OK(ss_factory_close(f));

    /* Closing with no store released first, then releasing: also fine. */
    EXPECT_OK(ss_factory_close(g));
    EXPECT_STATUS(ss_store_len(elsewhere, &(size_t){0}), SS_ERR_CLOSED);
    EXPECT_OK(ss_store_release(elsewhere));
}

/* --- two factories on one shared backend: two nodes ---------------------------------------- */

static void test_two_nodes(void) {
    ss_factory n1 = OPEN_FACTORY(current_url);
    ss_factory n2 = OPEN_FACTORY(current_url);
    char sid[129];
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
    CHECK(STORE_LEN(a) == 3 && STORE_LEN(c) == 3);

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
    CHECK(STORE_LEN(c) == 0);
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
    CHECK(STORE_LEN(a) == 0);
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_factory_close(n1));
    EXPECT_OK(ss_factory_close(n2));
}

/* --- threads sharing ONE store handle ------------------------------------------------------ */

/* Each thread works on keys of its own and on shared keys, with every kind of call, checking
 * every result against what it knows: its own keys are written by it alone, so their values
 * are exact; shared values must be whole (a checksum), never torn. No assertion depends on
 * timing. On memory:// 10 threads of 10,000 operations; on a remote backend, where each is a
 * round trip (and valgrind serialises the threads), 4 of 160. */
#define MAX_THREADS 10
#define OWN_KEYS 8
#define SHARED_KEYS 4
#define VALUE_LEN 16

static uint64_t xorshift(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ull;
}

/* A value that proves it is whole: writer, key, counter and a checksum of the three. */
static void make_value(uint8_t out[VALUE_LEN], uint32_t writer, uint32_t key, uint32_t counter) {
    uint32_t sum = (writer * 2654435761u) ^ (key * 40503u) ^ (counter * 2246822519u) ^ 0xA5A5A5A5u;
    memcpy(out, &writer, 4);
    memcpy(out + 4, &key, 4);
    memcpy(out + 8, &counter, 4);
    memcpy(out + 12, &sum, 4);
}

static bool value_is_whole(const ss_bytes *b, uint32_t key, uint32_t threads) {
    if (b->len != VALUE_LEN) {
        return false;
    }
    uint32_t writer, k, counter, sum;
    memcpy(&writer, b->data, 4);
    memcpy(&k, b->data + 4, 4);
    memcpy(&counter, b->data + 8, 4);
    memcpy(&sum, b->data + 12, 4);
    uint32_t want = (writer * 2654435761u) ^ (k * 40503u) ^ (counter * 2246822519u) ^ 0xA5A5A5A5u;
    return writer < threads && k == key && sum == want;
}

/* The element count of a MessagePack array or map header. */
static bool container_len(const ss_bytes *b, uint8_t fix, uint8_t h16, uint8_t h32, size_t *n) {
    if (b->len == 0) {
        return false;
    }
    uint8_t m = b->data[0];
    if ((m & 0xf0) == fix) {
        *n = m & 0x0f;
    } else if (m == h16 && b->len >= 3) {
        *n = ((size_t)b->data[1] << 8) | b->data[2];
    } else if (m == h32 && b->len >= 5) {
        *n = ((size_t)b->data[1] << 24) | ((size_t)b->data[2] << 16) | ((size_t)b->data[3] << 8) |
             b->data[4];
    } else {
        return false;
    }
    return true;
}

struct worker {
    int id;
    int threads;
    uint32_t ops;
    ss_store store;
    long errors;
    bool present[OWN_KEYS];
    uint32_t last[OWN_KEYS];
    bool doc_present;
    uint8_t doc_counter;
};

#define FAIL(w, ...)                                                                    \
    do {                                                                                \
        if ((w)->errors++ < 5) {                                                        \
            fprintf(stderr, "[%s] thread %d: ", check_label, (w)->id);                  \
            fprintf(stderr, __VA_ARGS__);                                               \
            fprintf(stderr, " (ss_last_error: \"%s\")\n", ss_last_error());             \
        }                                                                               \
    } while (0)

static void own_key(char *buf, size_t cap, int thread, int k) {
    snprintf(buf, cap, "t%d-k%d", thread, k);
}

static void *hammer(void *arg) {
    struct worker *w = arg;
    uint64_t rng = 0x12345678u + (uint64_t)w->id * 7919u;
    char key[32], doc_key[32];
    snprintf(doc_key, sizeof doc_key, "t%d-doc", w->id);
    uint8_t val[VALUE_LEN];
    ss_bytes b;
    bool flag;
    size_t n;
    ss_status st;
    const size_t most_keys = (size_t)w->threads * (OWN_KEYS + 1) + SHARED_KEYS;

    for (uint32_t op = 0; op < w->ops; op++) {
        uint64_t r = xorshift(&rng);
        int k = (int)((r >> 8) % OWN_KEYS);
        uint32_t sk = (uint32_t)((r >> 16) % SHARED_KEYS);
        switch (r % 12) {
        case 0:
        case 1: /* set an own key */
            own_key(key, sizeof key, w->id, k);
            make_value(val, (uint32_t)w->id, (uint32_t)k, op);
            if ((st = ss_store_set(w->store, key, strlen(key), val, VALUE_LEN)) != SS_OK) {
                FAIL(w, "set %s -> %s", key, ss_status_name(st));
            }
            w->present[k] = true;
            w->last[k] = op;
            break;
        case 2:
        case 3: /* get an own key: exactly the last value this thread wrote */
            own_key(key, sizeof key, w->id, k);
            st = ss_store_get(w->store, key, strlen(key), &b);
            if (w->present[k]) {
                make_value(val, (uint32_t)w->id, (uint32_t)k, w->last[k]);
                if (st != SS_OK || b.len != VALUE_LEN || memcmp(b.data, val, VALUE_LEN) != 0) {
                    FAIL(w, "get %s -> %s, len %zu: not the value written", key,
                         ss_status_name(st), b.len);
                }
            } else if (st != SS_NOT_FOUND || b.data != NULL) {
                FAIL(w, "get %s -> %s, expected SS_NOT_FOUND", key, ss_status_name(st));
            }
            ss_bytes_free(&b);
            break;
        case 4: /* has an own key */
            own_key(key, sizeof key, w->id, k);
            if ((st = ss_store_has(w->store, key, strlen(key), &flag)) != SS_OK ||
                flag != w->present[k]) {
                FAIL(w, "has %s -> %s %d, expected %d", key, ss_status_name(st), flag,
                     w->present[k]);
            }
            break;
        case 5: /* del an own key */
            own_key(key, sizeof key, w->id, k);
            if ((st = ss_store_del(w->store, key, strlen(key), &flag)) != SS_OK ||
                flag != w->present[k]) {
                FAIL(w, "del %s -> %s existed %d, expected %d", key, ss_status_name(st), flag,
                     w->present[k]);
            }
            w->present[k] = false;
            break;
        case 6: /* set a shared key */
            snprintf(key, sizeof key, "shared-%u", sk);
            make_value(val, (uint32_t)w->id, sk, op);
            if ((st = ss_store_set(w->store, key, strlen(key), val, VALUE_LEN)) != SS_OK) {
                FAIL(w, "set %s -> %s", key, ss_status_name(st));
            }
            break;
        case 7: /* get a shared key: absent, or one whole value of some thread */
            snprintf(key, sizeof key, "shared-%u", sk);
            st = ss_store_get(w->store, key, strlen(key), &b);
            if (!((st == SS_OK && value_is_whole(&b, sk, (uint32_t)w->threads)) ||
                  (st == SS_NOT_FOUND && !b.data))) {
                FAIL(w, "get %s -> %s, len %zu: not a whole value", key, ss_status_name(st),
                     b.len);
            }
            ss_bytes_free(&b);
            break;
        case 8: /* del or probe a shared key */
            snprintf(key, sizeof key, "shared-%u", sk);
            st = (r >> 40) & 1 ? ss_store_del(w->store, key, strlen(key), NULL)
                               : ss_store_has(w->store, key, strlen(key), &flag);
            if (st != SS_OK) {
                FAIL(w, "del/has %s -> %s", key, ss_status_name(st));
            }
            break;
        case 9: { /* len: at least this thread's own keys, at most every key there can be */
            size_t mine = w->doc_present;
            for (int i = 0; i < OWN_KEYS; i++) {
                mine += w->present[i];
            }
            if ((st = ss_store_len(w->store, &n)) != SS_OK || n < mine || n > most_keys) {
                FAIL(w, "len -> %s %zu, own keys %zu", ss_status_name(st), n, mine);
            }
            break;
        }
        case 10: { /* a MessagePack document of its own: [thread, counter] */
            uint8_t doc[3] = {0x92, (uint8_t)w->id, (uint8_t)(w->doc_counter & 0x7f)};
            if ((r >> 32) & 1) {
                w->doc_counter++;
                doc[2] = (uint8_t)(w->doc_counter & 0x7f);
                if ((st = ss_store_set_msgpack(w->store, doc_key, strlen(doc_key), doc, 3)) !=
                    SS_OK) {
                    FAIL(w, "set_msgpack -> %s", ss_status_name(st));
                }
                w->doc_present = true;
            } else {
                st = ss_store_get_msgpack(w->store, doc_key, strlen(doc_key), &b);
                if (w->doc_present ? st != SS_OK || b.len != 3 || memcmp(b.data, doc, 3) != 0
                                   : st != SS_NOT_FOUND) {
                    FAIL(w, "get_msgpack -> %s", ss_status_name(st));
                }
                ss_bytes_free(&b);
            }
            break;
        }
        default: /* 11: keys / get_all / set_many, now and then */
            if ((r >> 20) % 16 != 0) {
                break;
            }
            if ((st = ss_store_keys(w->store, &b)) != SS_OK ||
                !container_len(&b, 0x90, 0xdc, 0xdd, &n) || n > most_keys) {
                FAIL(w, "keys -> %s", ss_status_name(st));
            }
            ss_bytes_free(&b);
            if ((st = ss_store_get_all(w->store, &b)) != SS_OK ||
                !container_len(&b, 0x80, 0xde, 0xdf, &n)) {
                FAIL(w, "get_all -> %s", ss_status_name(st));
            }
            ss_bytes_free(&b);
            /* {"shared-<sk>": bin <whole value>} through set_many */
            {
                uint8_t m[1 + 1 + 8 + 2 + VALUE_LEN];
                size_t at = 0;
                m[at++] = 0x81;
                m[at++] = 0xa8;
                snprintf(key, sizeof key, "shared-%u", sk);
                memcpy(m + at, key, 8);
                at += 8;
                m[at++] = 0xc4;
                m[at++] = VALUE_LEN;
                make_value(m + at, (uint32_t)w->id, sk, op);
                at += VALUE_LEN;
                if ((st = ss_store_set_many(w->store, m, at)) != SS_OK) {
                    FAIL(w, "set_many -> %s", ss_status_name(st));
                }
            }
            break;
        }
    }
    return NULL;
}

static void test_threads(ss_factory f) {
    const int threads = current_is_memory ? 10 : 4;
    const uint32_t ops = current_is_memory ? 10000 : 160;
    ss_store s = open_named(f, "hammered");
    static struct worker workers[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    for (int i = 0; i < threads; i++) {
        workers[i] = (struct worker){.id = i, .threads = threads, .ops = ops, .store = s};
        CHECK(pthread_create(&tids[i], NULL, hammer, &workers[i]) == 0);
    }
    for (int i = 0; i < threads; i++) {
        CHECK(pthread_join(tids[i], NULL) == 0);
    }

    /* Every thread's results were right, and the final state is what the threads left. */
    size_t expected = 0;
    char key[32];
    for (int i = 0; i < threads; i++) {
        struct worker *w = &workers[i];
        if (!CHECK(w->errors == 0)) {
            fprintf(stderr, "  ^ thread %d saw %ld wrong results\n", i, w->errors);
        }
        for (int k = 0; k < OWN_KEYS; k++) {
            own_key(key, sizeof key, i, k);
            ss_bytes b;
            ss_status st = ss_store_get(s, key, strlen(key), &b);
            if (w->present[k]) {
                uint8_t val[VALUE_LEN];
                make_value(val, (uint32_t)i, (uint32_t)k, w->last[k]);
                EXPECT_OK(st);
                CHECK_BYTES(&b, val, VALUE_LEN);
                expected++;
            } else {
                EXPECT_STATUS(st, SS_NOT_FOUND);
            }
            ss_bytes_free(&b);
        }
        expected += w->doc_present;
    }
    for (uint32_t k = 0; k < SHARED_KEYS; k++) {
        snprintf(key, sizeof key, "shared-%u", k);
        bool flag = false;
        EXPECT_OK(ss_store_has(s, key, strlen(key), &flag));
        expected += flag;
    }
    CHECK(STORE_LEN(s) == expected);
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
}

/* --- connections ------------------------------------------------------------------------- */

/* This process's open sockets (Linux: /proc/self/fd), or -1 where that is not readable.
 * ss_factory_close must close every connection of the factory (docs/API.md §5), also while the
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

/* Splits `list` in place at whitespace into at most MAX_URLS urls; returns how many. */
static size_t split_urls(char *list, char *urls[MAX_URLS]) {
    size_t n = 0;
    char *save = NULL;
    for (char *url = strtok_r(list, " \t\n", &save); url != NULL && n < MAX_URLS;
         url = strtok_r(NULL, " \t\n", &save)) {
        urls[n++] = url;
    }
    return n;
}

/* Destroys every session this program named, through a factory of its own. */
static void sweep_sessions(void) {
    ss_factory f = OPEN_FACTORY(current_url);
    for (size_t i = 0; f != 0 && i < names_count; i++) {
        EXPECT_OK(ss_factory_destroy_session(f, names_used[i], strlen(names_used[i])));
    }
    if (f != 0) {
        EXPECT_OK(ss_factory_close(f));
    }
}

/* Every test on the current url. */
/* --- stats ------------------------------------------------------------------------------- */

/* The count under `outer`.`inner` in the stats map (a map of str to uint or to maps of str to
 * uint, as ss_factory_stats writes it); -1 when absent. Reads fixmap, fixstr and the uint forms. */
static long long stats_count(const ss_bytes *stats, const char *outer, const char *inner) {
    const uint8_t *p = stats->data, *end = stats->data + stats->len;
    long long found = -1;
    /* Reads a uint at p; -1 for another type. */
    #define READ_UINT(v)                                                                       \
        do {                                                                                   \
            if (*p <= 0x7f) { (v) = *p++; }                                                    \
            else if (*p == 0xcc) { (v) = p[1]; p += 2; }                                       \
            else if (*p == 0xcd) { (v) = (p[1] << 8) | p[2]; p += 3; }                         \
            else if (*p == 0xce) { (v) = ((long long)p[1] << 24) | (p[2] << 16) | (p[3] << 8) | p[4]; p += 5; } \
            else if (*p == 0xcf) { (v) = 0; for (int k = 1; k <= 8; k++) (v) = ((v) << 8) | p[k]; p += 9; } \
            else { return -2; }                                                                \
        } while (0)
    if (p >= end || (*p & 0xf0) != 0x80) return -2;
    int n = *p++ & 0x0f;
    for (int i = 0; i < n && p < end; i++) {
        if ((*p & 0xe0) != 0xa0) return -2;
        size_t klen = *p++ & 0x1f;
        bool this_outer = strlen(outer) == klen && memcmp(p, outer, klen) == 0;
        p += klen;
        if ((*p & 0xf0) == 0x80) {
            int m = *p++ & 0x0f;
            for (int j = 0; j < m && p < end; j++) {
                if ((*p & 0xe0) != 0xa0) return -2;
                size_t ilen = *p++ & 0x1f;
                bool this_inner = inner != NULL && strlen(inner) == ilen && memcmp(p, inner, ilen) == 0;
                p += ilen;
                long long v;
                READ_UINT(v);
                if (this_outer && this_inner) found = v;
            }
        } else {
            long long v;
            READ_UINT(v);
            if (this_outer && inner == NULL) found = v;
        }
    }
    #undef READ_UINT
    return found;
}

/* A known sequence of calls and errors on a factory of its own: the stats count exactly those,
 * and a closed factory answers SS_ERR_CLOSED. */
static void test_stats(void) {
    ss_factory f = OPEN_FACTORY(current_url);
    if (f == 0) {
        return;
    }
    ss_store s = open_named(f, "stats");
    ss_bytes b = {0};
    EXPECT_OK(ss_store_set_i64(s, LIT("n"), 1));
    EXPECT_OK(ss_store_set_str(s, LIT("t"), LIT("x")));
    EXPECT_OK(ss_store_get(s, LIT("missing"), &b) == SS_NOT_FOUND ? SS_OK : SS_ERR_INTERNAL);
    EXPECT_STATUS(ss_store_get_str(s, LIT("n"), &b), SS_ERR_TYPE); /* a get that answered */
    EXPECT_STATUS(ss_store_set(s, "\xff", 1, (const uint8_t *)"v", 1), SS_ERR_INVALID_ARG);
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_STATUS(ss_store_len(s, &(size_t){0}), SS_ERR_DESTROYED);
    EXPECT_OK(ss_store_release(s));
    GARBAGE(b);
    EXPECT_OK(ss_factory_stats(f, &b));
    CHECK(stats_count(&b, "calls", "open") == 1);
    CHECK(stats_count(&b, "calls", "set") == 2); /* the refused key never reached a store */
    CHECK(stats_count(&b, "calls", "get") == 2);
    CHECK(stats_count(&b, "calls", "len") == 1);
    CHECK(stats_count(&b, "calls", "destroy") == 1);
    CHECK(stats_count(&b, "errors", "Destroyed") == 1);
    CHECK(stats_count(&b, "errors", "Timeout") == 0);
    CHECK(stats_count(&b, "open_stores", NULL) == 0);
    CHECK(stats_count(&b, "latency_us", "count") == (current_is_memory ? 0 : 7));
    CHECK(stats_count(&b, "lease", "rounds") == 0);
    ss_bytes_free(&b);
    EXPECT_STATUS(ss_factory_stats(f, NULL), SS_ERR_NULL_ARG);
    EXPECT_OK(ss_factory_close(f));
    GARBAGE(b);
    EXPECT_STATUS(ss_factory_stats(f, &b), SS_ERR_CLOSED);
    CHECK_ZEROED(b);
}

static void run_url(void) {
    if (!CHECK(strstr(current_url, "ttl_ms=") == NULL &&
               strstr(current_url, "max_value_bytes=") == NULL)) {
        fprintf(stderr, "  ^ the suite sets ttl_ms and max_value_bytes itself: url skipped\n");
        return;
    }
    int sockets_before = open_sockets();
    ss_factory f = OPEN_FACTORY(current_url);
    if (f == 0) {
        return;
    }
    test_raw_values(f);
    test_msgpack_values(f);
    test_typed_values(f);
    test_keys_are_exact(f);
    test_small_session_exact(f);
    test_set_many(f);
    test_bad_arguments(f);
    test_sharing(f);
    test_destroy(f);
    test_destroy_session(f);
    test_threads(f);
    EXPECT_OK(ss_factory_close(f));
    test_stats();
    test_close();
    /* memory:// factories never share data: two of them are not two nodes. */
    if (!current_is_memory) {
        test_two_nodes();
    }
    sweep_sessions();
    int sockets_after = open_sockets();
    if (!CHECK(sockets_after == sockets_before)) {
        fprintf(stderr, "  ^ %d sockets open before the factories, %d after they closed\n",
                sockets_before, sockets_after);
    }
}

int main(void) {
    snprintf(run_prefix, sizeof run_prefix, "c%ld-%ld-", (long)getpid(), (long)time(NULL));

    /* The masking itself: a failure must never print a password. */
    static const struct {
        const char *url, *shown;
    } masks[] = {
        {"redis://:pw@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"},
        {"redis://app:s3cret@127.0.0.1:1?prefix=a", "redis://app:***@127.0.0.1:1?prefix=a"},
        {"redis+sentinel://u:p@w@h:1,h:2/m", "redis+sentinel://u:***@h:1,h:2/m"},
        {"redis://token@h:1", "redis://***@h:1"},
        {"redis+cluster://h:1,h:2", "redis+cluster://h:1,h:2"},
        {"memory://?prefix=a@b", "memory://?prefix=a@b"},
    };
    for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
        char shown[256];
        mask_url(masks[i].url, shown, sizeof shown);
        if (!CHECK(strcmp(shown, masks[i].shown) == 0)) {
            fprintf(stderr, "  ^ a url printed as %s, expected %s\n", shown, masks[i].shown);
        }
    }

    const char *env = getenv("SESSIONSTORE_TEST_URLS");
    char *list = strdup(env != NULL && env[0] != '\0' ? env : "memory://");
    char *urls[MAX_URLS];
    size_t n = list != NULL ? split_urls(list, urls) : 0;
    CHECK(n > 0);
    for (size_t i = 0; i < n; i++) {
        char shown[1024];
        current_url = urls[i];
        current_is_memory = current_url[0] == '\0' || current_url[0] == '?' ||
                            strncmp(current_url, "memory:", 7) == 0;
        mask_url(current_url, shown, sizeof shown);
        check_set_label(shown);
        printf("== %s\n", shown);
        fflush(stdout);
        long failed_before = atomic_load(&check_failed);
        run_url();
        if (atomic_load(&check_failed) != failed_before) {
            fprintf(stderr, "  ^ failures above on %s\n", shown);
        }
    }
    for (size_t i = 0; i < names_count; i++) {
        free(names_used[i]);
    }
    free(list);
    return check_finish();
}
