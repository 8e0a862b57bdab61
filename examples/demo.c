/*
 * demo.c: one client session's life on memory://, through the C ABI (`make demo`).
 *
 * A Socket.IO-style server opens a store when a client connects, keeps the user id and the
 * token claims in it, a second node (or a reconnect) attaches to the same session and reads
 * them, and the store is destroyed when the client disconnects.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionstore.h"

static int step_no = 0;

/* Prints one step; exits when the call did not answer what the demo expects. */
static void step(ss_status got, ss_status want, const char *what) {
    if (got != want) {
        fprintf(stderr, "demo: %s -> %s, expected %s: %s\n", what, ss_status_name(got),
                ss_status_name(want), ss_last_error());
        exit(1);
    }
}

#define STEP(...) (printf("[%2d] ", ++step_no), printf(__VA_ARGS__), printf("\n"))

/* --- a tiny MessagePack reader: just what this demo writes and the library returns -------- */

struct reader {
    const uint8_t *p;
    const uint8_t *end;
};

static bool take(struct reader *r, size_t n, const uint8_t **out) {
    if ((size_t)(r->end - r->p) < n) {
        return false;
    }
    *out = r->p;
    r->p += n;
    return true;
}

static uint64_t be(const uint8_t *b, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | b[i];
    }
    return v;
}

/* Reads a str header and returns its text; false when the next value is not a str. */
static bool read_str(struct reader *r, const char **text, size_t *len) {
    const uint8_t *b;
    if (!take(r, 1, &b)) {
        return false;
    }
    if ((b[0] & 0xe0) == 0xa0) {
        *len = b[0] & 0x1f;
    } else if (b[0] == 0xd9 && take(r, 1, &b)) {
        *len = b[0];
    } else if (b[0] == 0xda && take(r, 2, &b)) {
        *len = (size_t)be(b, 2);
    } else {
        return false;
    }
    if (!take(r, *len, &b)) {
        return false;
    }
    *text = (const char *)b;
    return true;
}

/* Prints one scalar value (str, int, bool, nil, bin) readably. */
static bool print_value(struct reader *r) {
    const char *text;
    size_t len;
    struct reader peek = *r;
    if (read_str(&peek, &text, &len)) {
        *r = peek;
        printf("\"%.*s\"", (int)len, text);
        return true;
    }
    const uint8_t *b;
    if (!take(r, 1, &b)) {
        return false;
    }
    uint8_t m = b[0];
    if (m <= 0x7f) {
        printf("%u", m);
    } else if (m >= 0xe0) {
        printf("%d", (int)(int8_t)m);
    } else if (m >= 0xcc && m <= 0xcf) {
        size_t n = (size_t)1 << (m - 0xcc);
        if (!take(r, n, &b)) {
            return false;
        }
        printf("%" PRIu64, be(b, n));
    } else if (m == 0xc0) {
        printf("nil");
    } else if (m == 0xc2 || m == 0xc3) {
        printf(m == 0xc3 ? "true" : "false");
    } else if (m == 0xc4) {
        if (!take(r, 1, &b) || !take(r, b[0], &b)) {
            return false;
        }
        printf("<bin>");
    } else {
        printf("<MessagePack 0x%02x>", m);
        return false;
    }
    return true;
}

/* Prints a MessagePack map of str keys to scalars as {key: value, ...}. */
static void print_map(const ss_bytes *doc) {
    struct reader r = {doc->data, doc->data + doc->len};
    const uint8_t *b;
    if (!take(&r, 1, &b) || (b[0] & 0xf0) != 0x80) {
        printf("<not a small map>");
        return;
    }
    size_t n = b[0] & 0x0f;
    printf("{");
    for (size_t i = 0; i < n; i++) {
        const char *key;
        size_t len;
        if (!read_str(&r, &key, &len)) {
            printf("<bad key>}");
            return;
        }
        printf("%s%.*s: ", i ? ", " : "", (int)len, key);
        if (!print_value(&r)) {
            printf("...}");
            return;
        }
    }
    printf("}");
}

/* Prints a MessagePack array of str (ss_store_keys) as [a, b]. */
static void print_keys(const ss_bytes *doc) {
    struct reader r = {doc->data, doc->data + doc->len};
    const uint8_t *b;
    if (!take(&r, 1, &b) || (b[0] & 0xf0) != 0x90) {
        printf("<not a small array>");
        return;
    }
    size_t n = b[0] & 0x0f;
    printf("[");
    for (size_t i = 0; i < n; i++) {
        const char *key;
        size_t len;
        if (!read_str(&r, &key, &len)) {
            break;
        }
        printf("%s\"%.*s\"", i ? ", " : "", (int)len, key);
    }
    printf("]");
}

int main(void) {
    const char *url = "memory://";
    const char *sid = "3f2b8c1e-9d4a-4e6b-a7c2-5b1d0e9f8a63"; /* the client's session id */
    ss_factory factory = 0;
    ss_store node_a = 0, node_b = 0;
    ss_bytes out = {NULL, 0};
    size_t n = 0;
    bool has = false;

    step(ss_factory_open(url, strlen(url), &factory), SS_OK, "ss_factory_open");
    STEP("factory opened on %s (sessionstore %s)", url, ss_version());

    step(ss_store_open(factory, sid, strlen(sid), &node_a), SS_OK, "ss_store_open");
    STEP("client connected: store opened for session %s", sid);

    const char *user_id = "user-42";
    step(ss_store_set(node_a, "userId", 6, (const uint8_t *)user_id, strlen(user_id)), SS_OK,
         "ss_store_set userId");
    STEP("set userId = \"%s\" (raw bytes)", user_id);

    /* {"sub": "user-42", "role": "admin", "exp": 1767225600}, written by hand. */
    const uint8_t claims[] = {
        0x83,                                           /* map of 3 */
        0xa3, 's', 'u', 'b', 0xa7, 'u', 's', 'e', 'r', '-', '4', '2',
        0xa4, 'r', 'o', 'l', 'e', 0xa5, 'a', 'd', 'm', 'i', 'n',
        0xa3, 'e', 'x', 'p', 0xce, 0x69, 0x55, 0xb9, 0x00, /* uint 32: 1767225600 */
    };
    step(ss_store_set_msgpack(node_a, "claims", 6, claims, sizeof claims), SS_OK,
         "ss_store_set_msgpack claims");
    STEP("set claims (a MessagePack map of %zu bytes)", sizeof claims);

    step(ss_store_get(node_a, "userId", 6, &out), SS_OK, "ss_store_get userId");
    STEP("read back userId = \"%.*s\"", (int)out.len, (const char *)out.data);
    ss_bytes_free(&out);

    step(ss_store_get_msgpack(node_a, "claims", 6, &out), SS_OK, "ss_store_get_msgpack claims");
    printf("[%2d] read back claims = ", ++step_no);
    print_map(&out);
    printf("\n");
    ss_bytes_free(&out);

    step(ss_store_open(factory, sid, strlen(sid), &node_b), SS_OK, "ss_store_open (second)");
    step(ss_store_get(node_b, "userId", 6, &out), SS_OK, "ss_store_get userId (second)");
    step(ss_store_has(node_b, "claims", 6, &has), SS_OK, "ss_store_has claims (second)");
    STEP("a second handle (another node, or a reconnect) attached: "
         "userId = \"%.*s\", has claims = %s",
         (int)out.len, (const char *)out.data, has ? "yes" : "no");
    ss_bytes_free(&out);

    step(ss_store_len(node_b, &n), SS_OK, "ss_store_len");
    step(ss_store_keys(node_b, &out), SS_OK, "ss_store_keys");
    printf("[%2d] the session holds %zu keys: ", ++step_no, n);
    print_keys(&out);
    printf("\n");
    ss_bytes_free(&out);

    step(ss_store_destroy(node_a), SS_OK, "ss_store_destroy");
    STEP("client disconnected: ss_store_destroy deleted the session's data");

    ss_status st = ss_store_get(node_b, "userId", 6, &out);
    step(st, SS_ERR_DESTROYED, "ss_store_get after destroy");
    STEP("the second handle now answers %s (\"%s\")", ss_status_name(st), ss_last_error());

    step(ss_store_release(node_a), SS_OK, "ss_store_release");
    step(ss_store_release(node_b), SS_OK, "ss_store_release (second)");
    STEP("both handles released");

    step(ss_factory_close(factory), SS_OK, "ss_factory_close");
    STEP("factory closed");
    return 0;
}
