/* Writes two sessions through the C ABI for the CLI tests (cli/tests/cli.rs): PLAIN without a
 * lease (raw bytes, and MessagePack documents of the other types), and LEASED with one.
 * Usage: write_session URL PLAIN LEASED. Exit status 0, or 1 with the failing call named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sessionstore.h"

#define CHECK(call)                                                          \
    do {                                                                     \
        enum ss_status st_ = (call);                                         \
        if (st_ < 0) {                                                       \
            fprintf(stderr, "%s: %s: %s\n", #call, ss_status_name(st_),      \
                    ss_last_error());                                        \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

static void set_doc(ss_store s, const char *key, const char *doc, size_t len) {
    CHECK(ss_store_set_msgpack(s, key, strlen(key), (const uint8_t *)doc, len));
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s URL PLAIN LEASED\n", argv[0]);
        return 1;
    }
    const char *url = argv[1];
    ss_factory f;
    ss_store s;
    CHECK(ss_factory_open(url, strlen(url), &f));
    CHECK(ss_store_open(f, argv[2], strlen(argv[2]), &s));
    CHECK(ss_store_set(s, "raw", 3, (const uint8_t *)"\x00\xff" "C", 3));
    set_doc(s, "str", "\xa6" "from C", 7);
    set_doc(s, "int", "\xd1\xfc\x18", 3); /* int16 -1000 */
    set_doc(s, "float", "\xcb\x40\x04\x00\x00\x00\x00\x00\x00", 9); /* 2.5 */
    set_doc(s, "map", "\x82\xa1" "a" "\x01\xa1" "b" "\x92\xc0\xc3", 9); /* {"a":1,"b":[nil,true]} */
    set_doc(s, "ext", "\xd4\x09\x2a", 3); /* fixext1, type 9, one byte 0x2a */
    CHECK(ss_store_release(s));
    CHECK(ss_factory_close(f));

    char leased_url[4096];
    snprintf(leased_url, sizeof leased_url, "%s%sttl_ms=60000", url,
             strchr(url, '?') ? "&" : "?");
    CHECK(ss_factory_open(leased_url, strlen(leased_url), &f));
    CHECK(ss_store_open(f, argv[3], strlen(argv[3]), &s));
    set_doc(s, "userId", "\x09", 1);
    CHECK(ss_store_release(s));
    CHECK(ss_factory_close(f));
    return 0;
}
