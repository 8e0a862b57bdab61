/*
 * test_churn.c: a host that opens and closes factories in a loop stays flat (docs/API.md §4,
 * §5): after a warm-up, each open/use/close cycle leaves under 64 bytes of heap, no file
 * descriptor and no thread behind, on memory:// and on every Redis url of
 * SESSIONSTORE_TEST_URLS (whitespace-separated), with a lease (its refresher thread) and
 * without. The heap is glibc's own count of bytes in use (mallinfo2), the descriptors and
 * threads the entries of /proc/self/fd and /proc/self/task.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <malloc.h>
#include <time.h>

#include "../check.h"

#define WARM_UP 40
#define CYCLES 300
#define MAX_BYTES_PER_CYCLE 64

static size_t heap_in_use(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

static int entries(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n;
}

/*
 * The process's threads once those that are exiting are gone, polled for up to 10 s until
 * there are at most `target`: a joined thread can stay listed in /proc/self/task for a moment
 * after pthread_join returned (the kernel wakes the joiner before it releases the thread).
 */
static int threads_settled(int target) {
    int n = entries("/proc/self/task") - 2; /* without "." and ".." */
    for (int i = 0; i < 1000 && n > target; i++) {
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        n = entries("/proc/self/task") - 2;
    }
    return n;
}

/* One client's life through a factory of its own: open, connect, use, destroy, close. */
static bool cycle(const char *url) {
    ss_factory f = 0;
    ss_store s = 0;
    bool ok = ss_factory_open(url, strlen(url), &f) == SS_OK &&
              ss_store_open(f, LIT("churn-probe"), &s) == SS_OK &&
              ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1) == SS_OK &&
              ss_store_destroy(s) == SS_OK;
    ok = ss_store_release(s) == SS_OK && ok;
    ok = ss_factory_close(f) == SS_OK && ok;
    return ok;
}

static void churn(const char *url) {
    printf("== %s\n", url);
    fflush(stdout);
    for (int i = 0; i < WARM_UP; i++) {
        if (!CHECK(cycle(url))) {
            return;
        }
    }
    size_t heap = heap_in_use();
    int fds = entries("/proc/self/fd");
    int threads = threads_settled(1); /* this program's own thread: none of ours stays */
    bool all_ok = true;
    for (int i = 0; i < CYCLES; i++) {
        all_ok = cycle(url) && all_ok;
    }
    CHECK(all_ok);
    size_t heap_after = heap_in_use();
    long grown = (long)heap_after - (long)heap;
    if (!CHECK(grown < (long)CYCLES * MAX_BYTES_PER_CYCLE)) {
        fprintf(stderr, "  ^ %s: the heap grew by %ld bytes over %d cycles\n", url, grown, CYCLES);
    }
    int fds_after = entries("/proc/self/fd");
    if (!CHECK(fds_after == fds)) {
        fprintf(stderr, "  ^ %s: %d file descriptors before, %d after\n", url, fds, fds_after);
    }
    int threads_after = threads_settled(threads);
    if (!CHECK(threads_after == threads)) {
        fprintf(stderr, "  ^ %s: %d threads before, %d after\n", url, threads, threads_after);
    }
}

int main(void) {
    const char *env = getenv("SESSIONSTORE_TEST_URLS");
    char *list = strdup(env != NULL && env[0] != '\0' ? env : "memory://");
    char *save = NULL;
    for (char *url = strtok_r(list, " \t\n", &save); url != NULL; url = strtok_r(NULL, " \t\n", &save)) {
        char with_lease[1024];
        snprintf(with_lease, sizeof with_lease, "%s%sprefix=churn&ttl_ms=60000", url,
                 strchr(url, '?') ? "&" : "?");
        churn(url);
        churn(with_lease);
    }
    free(list);
    return check_finish();
}
