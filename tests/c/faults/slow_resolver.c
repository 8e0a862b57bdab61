/*
 * slow_resolver.c: an LD_PRELOAD shim standing for a slow DNS server. getaddrinfo of the
 * name "slow.sessionstore.test" takes 3 seconds and then resolves 127.0.0.1; every other name
 * goes to the real resolver. `slow_resolver_returned` counts the slow lookups that returned,
 * so a test can tell whether a call waited for one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>

atomic_int slow_resolver_returned;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res) {
    int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
        (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(
            RTLD_NEXT, "getaddrinfo");
    if (node != NULL && strcmp(node, "slow.sessionstore.test") == 0) {
        sleep(3);
        int found = real("127.0.0.1", service, hints, res);
        atomic_fetch_add(&slow_resolver_returned, 1);
        return found;
    }
    return real(node, service, hints, res);
}
