/*
 * test_bad_input.c: the bad input that needs no backend, or only memory://: a NULL url or
 * out-parameter of ss_factory_open, every malformed url and option (docs/API.md §1), and
 * random short MessagePack documents. After every error the out-parameters (pre-filled with
 * garbage) are zero, and nothing was stored. Bad keys, session ids, sizes and documents answer
 * the same statuses on every backend: test_backends.c checks them on every url.
 */
#include "check.h"

static ss_factory factory;
static ss_store store;

/* --- NULL for ss_factory_open's pointers (the store calls': test_backends.c) -------------- */

static void test_null_args(void) {
    ss_factory f;

    GARBAGE(f);
    EXPECT_STATUS(ss_factory_open(NULL, 9, &f), SS_ERR_NULL_ARG);
    CHECK_ZEROED(f);
    GARBAGE(f);
    EXPECT_STATUS(ss_factory_open(NULL, 0, &f), SS_ERR_NULL_ARG);
    CHECK_ZEROED(f);
    EXPECT_STATUS(ss_factory_open(LIT("memory://"), NULL), SS_ERR_NULL_ARG);
    EXPECT_STATUS(ss_factory_open(NULL, 0, NULL), SS_ERR_NULL_ARG);
}

/* --- random documents ---------------------------------------------------------------------- */

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
    check_set_label("memory://");
    factory = OPEN_FACTORY("memory://");
    store = OPEN_STORE(factory, "bad-input");
    test_null_args();
    test_random_documents();
    test_config_errors();
    CHECK(STORE_LEN(store) == 0);
    EXPECT_OK(ss_store_release(store));
    EXPECT_OK(ss_factory_close(factory));
    return check_finish();
}
