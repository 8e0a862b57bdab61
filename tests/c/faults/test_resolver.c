/*
 * test_resolver.c (run with LD_PRELOAD=slow_resolver.so): name resolution counts against
 * timeout_ms (docs/API.md §1). The host "slow.sessionstore.test" takes 3 s to resolve to a
 * real server: with timeout_ms=200 every url on it answers SS_ERR_TIMEOUT, and answers it
 * before the lookup returned (the shim counts the lookups that returned): a call that waited
 * for the resolver, whatever it answers, took the resolver's time, not timeout_ms.
 *
 * Needs SESSIONSTORE_TEST_URLS with a redis:// and a redis+cluster:// url on 127.0.0.1.
 */
#include "../check.h"

/* Defined by slow_resolver.so (LD_PRELOAD). */
extern atomic_int slow_resolver_returned;

/* The port of the first url of `scheme` in the list, or 0. */
static int port_of(const char *list, const char *scheme) {
    const char *at = strstr(list, scheme);
    if (at == NULL) {
        return 0;
    }
    const char *colon = strchr(at + strlen(scheme), ':');
    return colon != NULL ? atoi(colon + 1) : 0;
}

int main(void) {
    const char *list = getenv("SESSIONSTORE_TEST_URLS");
    if (list == NULL) {
        list = "";
    }
    static const char *schemes[] = {"redis://", "redis+cluster://"};
    int tried = 0;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        int port = port_of(list, schemes[i]);
        if (port == 0) {
            continue;
        }
        char url[256];
        snprintf(url, sizeof url, "%sslow.sessionstore.test:%d?timeout_ms=200", schemes[i], port);
        printf("== %s\n", url);
        ss_factory f = 0;
        int returned_before = atomic_load(&slow_resolver_returned);
        ss_status st = ss_factory_open(url, strlen(url), &f);
        if (!CHECK(atomic_load(&slow_resolver_returned) == returned_before)) {
            fprintf(stderr, "  ^ %s: the call waited for the resolver\n", url);
        }
        if (!EXPECT_STATUS(st, SS_ERR_TIMEOUT)) {
            ss_factory_close(f);
        }
        tried++;
    }
    if (tried == 0) {
        printf("test_resolver: no redis:// url in SESSIONSTORE_TEST_URLS: skipped\n");
    }
    return check_finish();
}
