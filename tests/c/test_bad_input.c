/*
 * test_bad_input.c: every bad input of API.md §2 and §4 answers its status, never a crash:
 * NULL pointers, bad keys, bad session ids, values over max_value_bytes, bad MessagePack, bad
 * urls and options. After every error the out-parameters (pre-filled with garbage) are zero,
 * and nothing was stored.
 */
#include "check.h"

static ss_factory factory;
static ss_store store;

static size_t session_len(ss_store s) {
    size_t n = 12345;
    EXPECT_OK(ss_store_len(s, &n));
    return n;
}

/* --- NULL for every pointer argument ------------------------------------------------------ */

static void test_null_args(void) {
    ss_factory f;
    ss_store s;
    ss_bytes b;
    bool flag;
    const uint8_t v[] = {1, 2, 3};

    GARBAGE(f);
    EXPECT_STATUS(ss_factory_open(NULL, 9, &f), SS_ERR_NULL_ARG);
    CHECK_ZEROED(f);
    GARBAGE(f);
    EXPECT_STATUS(ss_factory_open(NULL, 0, &f), SS_ERR_NULL_ARG);
    CHECK_ZEROED(f);
    EXPECT_STATUS(ss_factory_open(LIT("memory://"), NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_factory_open(NULL, 0, NULL), SS_ERR_NULL_ARG);

    EXPECT_STATUS(ss_factory_destroy_session(factory, NULL, 5), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_factory_destroy_session(factory, NULL, 0), SS_ERR_NULL_ARG);

    GARBAGE(s);
    EXPECT_STATUS(ss_store_open(factory, NULL, 5, &s), SS_ERR_NULL_ARG);
    CHECK_ZEROED(s);
    GARBAGE(s);
    EXPECT_STATUS(ss_store_open(factory, NULL, 0, &s), SS_ERR_NULL_ARG);
    CHECK_ZEROED(s);
    EXPECT_STATUS(ss_store_open(factory, LIT("sid"), NULL), SS_ERR_NULL_ARG);

    /* set: the key, and the value even with length 0. */
    EXPECT_STATUS(ss_store_set(store, NULL, 0, v, 3), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(store, NULL, 1, v, 3), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(store, LIT("k"), NULL, 3), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(store, LIT("k"), NULL, 0), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set(store, "", 0, NULL, 0), SS_ERR_NULL_ARG);

    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(store, NULL, 0, &b), SS_ERR_NULL_ARG);
    CHECK_ZEROED(b);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(store, NULL, 1, &b), SS_ERR_NULL_ARG);
    CHECK_ZEROED(b);
    EXPECT_STATUS(ss_store_get(store, LIT("k"), NULL), SS_ERR_NULL_ARG);

    EXPECT_STATUS(ss_store_set_msgpack(store, NULL, 1, v, 1), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_msgpack(store, LIT("k"), NULL, 1), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_msgpack(store, LIT("k"), NULL, 0), SS_ERR_NULL_ARG);

    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_msgpack(store, NULL, 1, &b), SS_ERR_NULL_ARG);
    CHECK_ZEROED(b);
    EXPECT_STATUS(ss_store_get_msgpack(store, LIT("k"), NULL), SS_ERR_NULL_ARG);

    GARBAGE(flag);
    EXPECT_STATUS(ss_store_has(store, NULL, 1, &flag), SS_ERR_NULL_ARG);
    CHECK_ZEROED(flag);
    EXPECT_STATUS(ss_store_has(store, LIT("k"), NULL), SS_ERR_NULL_ARG);

    GARBAGE(flag);
    EXPECT_STATUS(ss_store_del(store, NULL, 1, &flag), SS_ERR_NULL_ARG);
    CHECK_ZEROED(flag);
    EXPECT_STATUS(ss_store_del(store, NULL, 0, NULL), SS_ERR_NULL_ARG);

    EXPECT_STATUS(ss_store_len(store, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_keys(store, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_get_all(store, NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_many(store, NULL, 0), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_store_set_many(store, NULL, 1), SS_ERR_NULL_ARG);

    ss_bytes_free(NULL);

    /* None of it stored anything, and the store still works. */
    CHECK(session_len(store) == 0);
}

/* --- keys ---------------------------------------------------------------------------------- */

/* Every key-taking call rejects `key` with `want`; out-parameters end up zeroed. */
static void expect_key_rejected(const char *key, size_t len, ss_status want, const char *what) {
    ss_bytes b;
    bool flag;
    const uint8_t v[] = {0xc3};
    size_t before = session_len(store);
    bool ok = true;

    ok &= EXPECT_STATUS(ss_store_set(store, key, len, v, 1), want);
    ok &= EXPECT_STATUS(ss_store_set_msgpack(store, key, len, v, 1), want);
    GARBAGE(b);
    ok &= EXPECT_STATUS(ss_store_get(store, key, len, &b), want);
    ok &= CHECK_ZEROED(b);
    GARBAGE(b);
    ok &= EXPECT_STATUS(ss_store_get_msgpack(store, key, len, &b), want);
    ok &= CHECK_ZEROED(b);
    GARBAGE(flag);
    ok &= EXPECT_STATUS(ss_store_has(store, key, len, &flag), want);
    ok &= CHECK_ZEROED(flag);
    GARBAGE(flag);
    ok &= EXPECT_STATUS(ss_store_del(store, key, len, &flag), want);
    ok &= CHECK_ZEROED(flag);
    ok &= EXPECT_STATUS(ss_store_del(store, key, len, NULL), want);
    ok &= CHECK(session_len(store) == before);
    if (!ok) {
        fprintf(stderr, "  ^ with key: %s\n", what);
    }
}

static void test_bad_keys(void) {
    expect_key_rejected("\xff", 1, SS_ERR_INVALID_ARG, "0xff");
    expect_key_rejected("ab\xc3", 3, SS_ERR_INVALID_ARG, "truncated 2-byte sequence");
    expect_key_rejected("\xc0\xaf", 2, SS_ERR_INVALID_ARG, "overlong encoding");
    expect_key_rejected("\xed\xa0\x80", 3, SS_ERR_INVALID_ARG, "UTF-16 surrogate");
    expect_key_rejected("\xf4\x90\x80\x80", 4, SS_ERR_INVALID_ARG, "past U+10FFFF");
    expect_key_rejected("\x80x", 2, SS_ERR_INVALID_ARG, "lone continuation byte");

    char k[1025];
    memset(k, 'k', sizeof k);
    expect_key_rejected(k, 1025, SS_ERR_INVALID_ARG, "1025 bytes");
    /* 1024 bytes that end inside a character are invalid UTF-8, not just long. */
    memset(k, 'k', sizeof k);
    k[1023] = '\xc3';
    expect_key_rejected(k, 1024, SS_ERR_INVALID_ARG, "1024 bytes ending mid-character");

    /* The boundary: 1024 is fine, 1025 is not, for multi-byte text too. */
    memset(k, 'k', sizeof k);
    EXPECT_OK(ss_store_set(store, k, 1024, (const uint8_t *)"x", 1));
    for (size_t i = 0; i + 1 < 1025; i += 2) {
        k[i] = '\xc3';
        k[i + 1] = '\xa9';
    }
    k[1024] = 'z';
    expect_key_rejected(k, 1025, SS_ERR_INVALID_ARG, "1025 bytes of UTF-8");
    EXPECT_OK(ss_store_del(store, k, 1024, NULL));
    memset(k, 'k', sizeof k);
    EXPECT_OK(ss_store_del(store, k, 1024, NULL));
    CHECK(session_len(store) == 0);
}

/* --- session ids --------------------------------------------------------------------------- */

static void expect_sid_rejected(const char *sid, size_t len, const char *what) {
    ss_store s;
    GARBAGE(s);
    bool ok = EXPECT_STATUS(ss_store_open(factory, sid, len, &s), SS_ERR_INVALID_ARG);
    ok &= CHECK_ZEROED(s);
    ok &= EXPECT_STATUS(ss_factory_destroy_session(factory, sid, len), SS_ERR_INVALID_ARG);
    if (!ok) {
        fprintf(stderr, "  ^ with session id: %s\n", what);
    }
}

static void test_bad_session_ids(void) {
    char sid[130];
    memset(sid, 'a', sizeof sid);
    expect_sid_rejected(sid, 0, "empty");
    expect_sid_rejected(sid, 129, "129 bytes");
    expect_sid_rejected(sid, 130, "130 bytes");
    expect_sid_rejected(LIT("a/b"), "slash");
    expect_sid_rejected(LIT("/"), "only a slash");
    expect_sid_rejected(LIT("a b"), "space");
    expect_sid_rejected(LIT(" "), "only a space");
    expect_sid_rejected(LIT("caf\xc3\xa9"), "non-ASCII");
    expect_sid_rejected(LIT("\xff"), "invalid UTF-8");
    expect_sid_rejected("a\0b", 3, "NUL byte");
    expect_sid_rejected(LIT("ss:a*"), "glob star");
    expect_sid_rejected(LIT("a{b}"), "hash tag braces");
    expect_sid_rejected(LIT("a\r\nb"), "CRLF");
    expect_sid_rejected(LIT("a?b"), "question mark");

    /* 128 bytes is the longest id. */
    ss_store s = 0;
    EXPECT_OK(ss_store_open(factory, sid, 128, &s));
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_destroy_session(factory, sid, 128));
}

/* --- sizes --------------------------------------------------------------------------------- */

static void test_too_large(void) {
    /* Default max_value_bytes: 1 MiB of encoded value; bin 32 adds 5 bytes of header. */
    size_t two_mib = 2u << 20;
    uint8_t *big = calloc(two_mib, 1);
    CHECK(big != NULL);
    ss_bytes b;

    EXPECT_STATUS(ss_store_set(store, LIT("big"), big, two_mib), SS_ERR_TOO_LARGE);
    EXPECT_STATUS(ss_store_set(store, LIT("big"), big, (1u << 20) - 4), SS_ERR_TOO_LARGE);
    EXPECT_OK(ss_store_set(store, LIT("big"), big, (1u << 20) - 5));
    GARBAGE(b);
    EXPECT_OK(ss_store_get(store, LIT("big"), &b));
    CHECK(b.len == (1u << 20) - 5);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_del(store, LIT("big"), NULL));

    /* The same through the MessagePack calls: a bin 32 document of 2 MiB. */
    big[0] = 0xc6;
    big[1] = 0x00;
    big[2] = 0x1f;
    big[3] = 0xff;
    big[4] = 0xfb; /* 0x1ffffb payload bytes + 5 = 2 MiB */
    EXPECT_STATUS(ss_store_set_msgpack(store, LIT("big"), big, two_mib), SS_ERR_TOO_LARGE);
    /* ... and as one entry of set_many: {"big": <2 MiB>} */
    uint8_t *many = malloc(two_mib + 5);
    CHECK(many != NULL);
    many[0] = 0x82;
    many[1] = 0xa1;
    many[2] = 'a';
    many[3] = 0x01;
    many[4] = 0xa3;
    memcpy(many + 5, "big", 3);
    memcpy(many + 8, big, two_mib - 3); /* bin 32 of 2 MiB - 8 payload bytes */
    many[8 + 4] = 0xf8;
    EXPECT_STATUS(ss_store_set_many(store, many, two_mib + 5), SS_ERR_TOO_LARGE);
    CHECK(session_len(store) == 0); /* "a" was not stored either */
    free(many);
    free(big);

    /* A custom max_value_bytes through the url. */
    ss_factory small = OPEN_FACTORY("memory://?max_value_bytes=64");
    ss_store s = OPEN_STORE(small, "small-values");
    uint8_t buf[80] = {0};
    EXPECT_OK(ss_store_set(s, LIT("raw"), buf, 62)); /* c4 3e + 62 = 64 */
    EXPECT_STATUS(ss_store_set(s, LIT("raw"), buf, 63), SS_ERR_TOO_LARGE);
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("raw"), &b));
    CHECK(b.len == 62); /* the failed set left the old value */
    ss_bytes_free(&b);
    /* str 8 of 62 bytes = 64 bytes; of 63 = 65. */
    memset(buf, 'x', sizeof buf);
    buf[0] = 0xd9;
    buf[1] = 62;
    EXPECT_OK(ss_store_set_msgpack(s, LIT("doc"), buf, 64));
    buf[1] = 63;
    EXPECT_STATUS(ss_store_set_msgpack(s, LIT("doc"), buf, 65), SS_ERR_TOO_LARGE);
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
    EXPECT_OK(ss_store_set_many(s, m, at));
    CHECK(session_len(s) == 4);
    const size_t second = 1 + 2 + 2 + 62; /* where the second entry starts */
    CHECK(m[second] == 0xa1 && m[second + 1] == 'q' && m[second + 2] == 0xd9);
    m[second + 3] = 63; /* the second value now claims 63 bytes ... */
    uint8_t m2[sizeof m + 1];
    memcpy(m2, m, at);
    m2[at] = 'y'; /* ... and has them: 65 bytes encoded */
    m2[2] = 'r';  /* a new first key, which must not be stored */
    EXPECT_STATUS(ss_store_set_many(s, m2, at + 1), SS_ERR_TOO_LARGE);
    bool flag = true;
    EXPECT_OK(ss_store_has(s, LIT("r"), &flag));
    CHECK(!flag);
    CHECK(session_len(s) == 4);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(small));
}

/* --- MessagePack --------------------------------------------------------------------------- */

struct doc {
    const char *what;
    const char *bytes;
    size_t len;
};

static void test_bad_msgpack(void) {
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
        if (!EXPECT_STATUS(ss_store_set_msgpack(store, key, strlen(key), p, bad[i].len),
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
        ss_status want = SS_ERR_INVALID_ARG;
        if (!EXPECT_STATUS(ss_store_set_many(store, m, at), want)) {
            fprintf(stderr, "  ^ set_many with value: %s\n", bad[i].what);
        }
    }
    CHECK(session_len(store) == 0);

    /* Nesting: at most 128 arrays and maps deep (the header's rule), whatever the leaf;
     * the same for a value of set_many. */
    static const struct doc leaves[] = {
        {"int", "\x01", 1}, {"str", "\xa1s", 2}, {"ext", "\xd4\x4a\x00", 3}, {"bin", "\xc4\x01\x07", 3},
    };
    for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        uint8_t doc[3 + 129 + 3];
        memcpy(doc, "\x81\xa1k", 3); /* {"k": ...} for set_many */
        for (size_t levels = 128; levels <= 129; levels++) {
            memset(doc + 3, 0x91, levels);
            memcpy(doc + 3 + levels, leaves[i].bytes, leaves[i].len);
            size_t len = levels + leaves[i].len;
            ss_status want = levels <= 128 ? SS_OK : SS_ERR_INVALID_ARG;
            bool ok = EXPECT_STATUS(ss_store_set_msgpack(store, LIT("nested"), doc + 3, len), want);
            ok &= EXPECT_STATUS(ss_store_set_many(store, doc, 3 + len), want);
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
        EXPECT_STATUS(ss_store_set_msgpack(store, LIT("nested"), maps, sizeof maps),
                      SS_ERR_INVALID_ARG);
        /* ... but fine as set_many's map, whose own level is not part of the value. */
        EXPECT_OK(ss_store_set_many(store, maps, sizeof maps));
        /* 128 maps around a leaf, and around an empty array (a 129th level). */
        maps[3 * 128] = 0x01;
        EXPECT_OK(ss_store_set_msgpack(store, LIT("nested"), maps, 3 * 128 + 1));
        maps[3 * 128] = 0x90;
        EXPECT_STATUS(ss_store_set_msgpack(store, LIT("nested"), maps, 3 * 128 + 1),
                      SS_ERR_INVALID_ARG);
        /* As set_many's map, that value is 127 maps around the array: 128 levels. */
        EXPECT_OK(ss_store_set_many(store, maps, 3 * 128 + 1));
        EXPECT_OK(ss_store_del(store, LIT("nested"), NULL));
        EXPECT_OK(ss_store_del(store, LIT("k"), NULL));
    }

    /* Nesting far deeper than any host would decode recursively. */
    size_t deep_len = 100001; /* odd: pairs of map header and key, then the value */
    uint8_t *deep = malloc(deep_len);
    CHECK(deep != NULL);
    memset(deep, 0x91, deep_len - 1);
    deep[deep_len - 1] = 0x01;
    EXPECT_STATUS(ss_store_set_msgpack(store, LIT("deep"), deep, deep_len), SS_ERR_INVALID_ARG);
    for (size_t i = 0; i + 1 < deep_len; i += 2) {
        deep[i] = 0x81; /* {"": {"": ... 1}} */
        deep[i + 1] = 0xa0;
    }
    deep[deep_len - 1] = 0x01;
    EXPECT_STATUS(ss_store_set_msgpack(store, LIT("deep"), deep, deep_len), SS_ERR_INVALID_ARG);
    EXPECT_STATUS(ss_store_set_many(store, deep, deep_len), SS_ERR_INVALID_ARG);
    free(deep);

    /* set_many's own document: a map of str keys and nothing after it. */
    static const struct doc bad_maps[] = {
        {"empty", "", 0},
        {"not a map: str", "\xa1x", 2},
        {"not a map: array", "\x91\x01", 2},
        {"not a map: nil", "\xc0", 1},
        {"truncated map", "\x82\xa1" "a\x01", 4},
        {"truncated key", "\x81\xa3" "ab", 4},
        {"missing value", "\x81\xa1" "a", 3},
        {"trailing bytes", "\x81\xa1" "a\x01\x01", 5},
        {"int key", "\x82\xa1" "a\x01\x02\x03", 6},
        {"bin key", "\x82\xa1" "a\x01\xc4\x01" "b\x03", 8},
        {"key with invalid UTF-8", "\x82\xa1" "a\x01\xa1\xff\x03", 7},
        {"top-level nil value", "\x82\xa1" "a\x01\xa1" "b\xc0", 7},
        {"map 32 claiming 4G entries", "\xdf\xff\xff\xff\xff\xa1" "a\x01", 8},
    };
    for (size_t i = 0; i < sizeof(bad_maps) / sizeof(bad_maps[0]); i++) {
        if (!EXPECT_STATUS(ss_store_set_many(store, (const uint8_t *)bad_maps[i].bytes,
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
    EXPECT_STATUS(ss_store_set_many(store, m, at), SS_ERR_INVALID_ARG);
    /* ... while a 1024-byte one is fine. */
    m[6] = 0x00;
    m[7 + 1024] = 0x02;
    EXPECT_OK(ss_store_set_many(store, m, 7 + 1024 + 1));
    CHECK(session_len(store) == 2);
    char k1024[1024];
    memset(k1024, 'k', sizeof k1024);
    EXPECT_OK(ss_store_del(store, k1024, sizeof k1024, NULL));
    EXPECT_OK(ss_store_del(store, LIT("a"), NULL));

    /* All or nothing, when the session already holds the keys too. */
    EXPECT_OK(ss_store_set(store, LIT("a"), (const uint8_t *)"old", 3));
    EXPECT_STATUS(ss_store_set_many(store, (const uint8_t *)"\x82\xa1" "a\x01\xa1" "b\xc0", 7),
                  SS_ERR_INVALID_ARG);
    ss_bytes b;
    EXPECT_OK(ss_store_get(store, LIT("a"), &b));
    CHECK_BYTES(&b, "old", 3);
    ss_bytes_free(&b);
    EXPECT_OK(ss_store_del(store, LIT("a"), NULL));
    CHECK(session_len(store) == 0);
}

/* Random short documents, biased to MessagePack markers: each one is accepted (and then
 * reads back byte for byte) or rejected with SS_ERR_INVALID_ARG; never anything else. */
static void test_random_documents(void) {
    static const uint8_t alphabet[] = {
        0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x8f, 0x90, 0x91, 0x92, 0x9f, 0xa0, 0xa1, 0xa2,
        0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc,
        0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
        0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff, 'k', 0x50, 0x4a, 0xed, 0xf4,
    };
    uint64_t rng = 0xD1CEu;
    long accepted = 0, rejected = 0, wrong = 0;
    for (int i = 0; i < 20000; i++) {
        uint8_t doc[24];
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        size_t len = 1 + (size_t)(rng % sizeof doc);
        uint64_t bits = rng;
        for (size_t j = 0; j < len; j++) {
            bits = bits * 6364136223846793005ull + 1442695040888963407ull;
            doc[j] = (bits >> 60) < 11 ? alphabet[(bits >> 33) % sizeof alphabet]
                                       : (uint8_t)(bits >> 24);
        }
        ss_status st = ss_store_set_msgpack(store, LIT("fuzz"), doc, len);
        ss_status st2 = ss_store_set_many(store, doc, len);
        if (st == SS_OK) {
            ss_bytes b;
            accepted++;
            if (ss_store_get_msgpack(store, LIT("fuzz"), &b) != SS_OK || b.len != len ||
                memcmp(b.data, doc, len) != 0) {
                wrong++;
            }
            ss_bytes_free(&b);
        } else if (st == SS_ERR_INVALID_ARG) {
            rejected++;
        } else {
            wrong++;
        }
        if (st2 != SS_OK && st2 != SS_ERR_INVALID_ARG) {
            wrong++;
        }
        if (wrong && wrong < 4) {
            fprintf(stderr, "random document #%d -> %s / set_many %s\n", i, ss_status_name(st),
                    ss_status_name(st2));
        }
        if (st2 == SS_OK) { /* a map that set_many took: start over on an empty session */
            ss_store_destroy(store);
            ss_store_release(store);
            store = OPEN_STORE(factory, "bad-input");
        }
    }
    CHECK(wrong == 0);
    /* The generator reaches both sides. */
    if (!CHECK(accepted > 100 && rejected > 100)) {
        fprintf(stderr, "  ^ %ld accepted, %ld rejected\n", accepted, rejected);
    }
    EXPECT_OK(ss_store_del(store, LIT("fuzz"), NULL));
}

/* --- raw reads of non-bin values, and out-parameters on every kind of failure -------------- */

static void test_type_and_zeroed_outs(void) {
    ss_bytes b;
    bool flag;
    size_t n;
    ss_store s;
    ss_factory f;
    static const struct doc not_bin[] = {
        {"str", "\xa3" "abc", 4},   {"int", "\x05", 1},       {"map", "\x81\xa1k\x01", 4},
        {"array", "\x91\xc4\x00", 3}, {"true", "\xc3", 1},    {"ext", "\xd4\x50\x01", 3},
        {"float", "\xca\x3f\xc0\x00\x00", 5},
    };
    for (size_t i = 0; i < sizeof(not_bin) / sizeof(not_bin[0]); i++) {
        EXPECT_OK(ss_store_set_msgpack(store, LIT("v"), (const uint8_t *)not_bin[i].bytes,
                                       not_bin[i].len));
        GARBAGE(b);
        if (!EXPECT_STATUS(ss_store_get(store, LIT("v"), &b), SS_ERR_TYPE)) {
            fprintf(stderr, "  ^ with value: %s\n", not_bin[i].what);
        }
        CHECK_ZEROED(b);
        ss_bytes_free(&b);
    }
    EXPECT_OK(ss_store_del(store, LIT("v"), NULL));

    /* NOT_FOUND is a success, but it too leaves the output zeroed. */
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(store, LIT("v"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_msgpack(store, LIT("v"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    GARBAGE(flag);
    EXPECT_OK(ss_store_has(store, LIT("v"), &flag));
    CHECK(flag == false);
    GARBAGE(flag);
    EXPECT_OK(ss_store_del(store, LIT("v"), &flag));
    CHECK(flag == false);

    /* An invalid handle: every out-parameter zeroed. */
    ss_store bad = 0x5E00000000000000ull | 0xFFFFFFFFFFFFull;
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(bad, LIT("k"), &b), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(b);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_msgpack(bad, LIT("k"), &b), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(b);
    GARBAGE(flag);
    EXPECT_STATUS(ss_store_has(bad, LIT("k"), &flag), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(flag);
    GARBAGE(flag);
    EXPECT_STATUS(ss_store_del(bad, LIT("k"), &flag), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(flag);
    GARBAGE(n);
    EXPECT_STATUS(ss_store_len(bad, &n), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(n);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_keys(bad, &b), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(b);
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get_all(bad, &b), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(b);
    GARBAGE(s);
    EXPECT_STATUS(ss_store_open(bad, LIT("sid"), &s), SS_ERR_INVALID_HANDLE);
    CHECK_ZEROED(s);
    GARBAGE(s);
    EXPECT_STATUS(ss_store_open(factory, LIT("bad id"), &s), SS_ERR_INVALID_ARG);
    CHECK_ZEROED(s);
    GARBAGE(f);
    EXPECT_STATUS(ss_factory_open(LIT("memory://?bogus=1"), &f), SS_ERR_CONFIG);
    CHECK_ZEROED(f);
    ss_bytes_free(&b); /* zeroed: a no-op */
}

/* --- urls and options ---------------------------------------------------------------------- */

static void test_config_errors(void) {
    const char *bad[] = {
        "memory://?foo=1",
        "memory://?TTL_MS=100",
        "memory://?ttl_ms",
        "memory://?ttl_ms=",
        "memory://?ttl_ms=9",
        "memory://?ttl_ms=-1",
        "memory://?ttl_ms=abc",
        "memory://?ttl_ms=1.5",
        "memory://?ttl_ms=31536000001",
        "memory://?ttl_ms=99999999999999999999999",
        "memory://?timeout_ms=0",
        "memory://?timeout_ms=600001",
        "memory://?timeout_ms=-5",
        "memory://?max_value_bytes=15",
        "memory://?max_value_bytes=0",
        "memory://?max_value_bytes=536870913",
        "memory://?max_value_bytes=1e6",
        "memory://?prefix=",
        "memory://?prefix=a/b",
        "memory://?prefix=a%20b",
        "memory://?prefix=a*",
        "memory://?prefix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
        "memory://?ttl_ms=100&ttl_ms=200",
        "memory://?ttl_ms=100&bogus=2",
        "http://localhost/",
        "memcached://127.0.0.1",
        "memory:",
        "memory:/",
        "memoryx://",
        "memory://somehost",
        "file:///tmp/x",
        "://",
        "garbage",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ss_factory f;
        GARBAGE(f);
        if (!EXPECT_STATUS(ss_factory_open(bad[i], strlen(bad[i]), &f), SS_ERR_CONFIG)) {
            fprintf(stderr, "  ^ with url: %s\n", bad[i]);
            if (f != 0) {
                ss_factory_close(f);
            }
        }
        CHECK_ZEROED(f);
    }
    /* A url that is not UTF-8. */
    ss_factory f;
    GARBAGE(f);
    EXPECT_STATUS(ss_factory_open(LIT("memory://?prefix=\xff"), &f), SS_ERR_CONFIG);
    CHECK_ZEROED(f);
    GARBAGE(f);
    EXPECT_STATUS(ss_factory_open(LIT("\xc3"), &f), SS_ERR_CONFIG);
    CHECK_ZEROED(f);

    /* Redis urls: this build may not have the Redis backend yet, and none runs on these
     * loopback ports, so only "a status, not SS_OK, no crash, out zeroed" is asserted. The
     * password must not leak into the message. */
    const char *redis[] = {
        "redis://:hunter2secret@127.0.0.1:1/0?timeout_ms=200",
        "redis://user:hunter2secret@127.0.0.1:1?timeout_ms=200&bogus=1",
        "rediss://127.0.0.1:1?timeout_ms=200",
        "redis+sentinel://127.0.0.1:1/mymaster?timeout_ms=200",
        "redis+cluster://127.0.0.1:1,127.0.0.1:2?timeout_ms=200",
        "redis://127.0.0.1:99999",
        "redis://",
    };
    for (size_t i = 0; i < sizeof(redis) / sizeof(redis[0]); i++) {
        GARBAGE(f);
        ss_status st = ss_factory_open(redis[i], strlen(redis[i]), &f);
        if (!CHECK(st < 0 && st != SS_ERR_INTERNAL)) {
            fprintf(stderr, "  ^ %s with url: %s\n", ss_status_name(st), redis[i]);
            if (st == SS_OK) {
                ss_factory_close(f);
            }
            continue;
        }
        CHECK_ZEROED(f);
        CHECK(ss_last_error()[0] != '\0');
        if (!CHECK(strstr(ss_last_error(), "hunter2secret") == NULL)) {
            fprintf(stderr, "  ^ the password leaked: %s\n", ss_last_error());
        }
    }
}

int main(void) {
    factory = OPEN_FACTORY("memory://");
    store = OPEN_STORE(factory, "bad-input");
    test_null_args();
    test_bad_keys();
    test_bad_session_ids();
    test_too_large();
    test_bad_msgpack();
    test_type_and_zeroed_outs();
    test_random_documents();
    test_config_errors();
    CHECK(session_len(store) == 0);
    EXPECT_OK(ss_store_release(store));
    EXPECT_OK(ss_factory_close(factory));
    return check_finish();
}
