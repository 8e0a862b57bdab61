/*
 * canary.c: three deliberate bugs, one per argument, that the ASan/UBSan build of the C suite
 * must catch; `make test-c` runs each and fails when one exits cleanly. A sanitizer that was
 * not linked in, an option that turned it off (detect_leaks=0) or a suppression wide enough to
 * hide the library's allocations would otherwise leave the sanitized run green and blind.
 *
 *   leak       an ss_bytes the library returned, never freed (LeakSanitizer)
 *   overflow   a read one byte past such a buffer (AddressSanitizer)
 *   undefined  a signed overflow (UndefinedBehaviorSanitizer)
 */
#include <limits.h>

#include "../check.h"

int main(int argc, char **argv) {
    const char *bug = argc > 1 ? argv[1] : "";
    if (strcmp(bug, "leak") != 0 && strcmp(bug, "overflow") != 0 && strcmp(bug, "undefined") != 0) {
        fprintf(stderr, "usage: canary leak|overflow|undefined\n");
        return 2;
    }
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "canary");
    EXPECT_OK(ss_store_set(s, LIT("k"), (const uint8_t *)"abc", 3));
    ss_bytes b;
    EXPECT_OK(ss_store_get(s, LIT("k"), &b));
    volatile int sink = 0; /* volatile: the bug is not optimised away */
    if (strcmp(bug, "overflow") == 0) {
        volatile const uint8_t *p = b.data;
        sink = p[b.len]; /* one past the end */
    } else if (strcmp(bug, "undefined") == 0) {
        volatile int big = INT_MAX;
        sink = big + argc; /* INT_MAX + 2 */
    }
    if (strcmp(bug, "leak") != 0) {
        ss_bytes_free(&b);
    }
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
    (void)sink;
    return check_finish();
}
