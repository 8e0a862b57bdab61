/*
 * test_exit.c: calls made while the process or a thread is ending (an atexit handler, a
 * thread-local destructor) answer their statuses like any other call; none aborts the host,
 * even though the library's own thread-local state (the last error) may already be gone.
 * A failure here is an exit status other than 0 (134 for an abort).
 */
#include <pthread.h>

#include "../check.h"

/* Exit status 3 names a wrong status; anything that aborts is 134. */
static void expect(bool ok) {
    if (!ok) {
        fprintf(stderr, "test_exit: a call at exit answered a wrong status\n");
        _Exit(3);
    }
}

/* A failing call, a successful one and a memory store's life. */
static void calls(void) {
    size_t n = 7;
    expect(ss_store_len(0, &n) == SS_ERR_INVALID_HANDLE && n == 0);
    expect(ss_store_len(1, NULL) == SS_ERR_NULL_ARG);
    expect(ss_factory_open(LIT("nope://"), &(ss_factory){0}) == SS_ERR_CONFIG);
    expect(ss_last_error() != NULL);
    expect(strcmp(ss_status_name(SS_ERR_CONFIG), "SS_ERR_CONFIG") == 0);
    ss_factory f = 0;
    ss_store s = 0;
    expect(ss_factory_open(LIT("memory://"), &f) == SS_OK);
    expect(ss_store_open(f, LIT("at-exit"), &s) == SS_OK);
    expect(ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1) == SS_OK);
    ss_bytes b = {0};
    expect(ss_store_get(s, LIT("k"), &b) == SS_OK && b.len == 1);
    ss_bytes_free(&b);
    expect(ss_store_release(s) == SS_OK);
    expect(ss_factory_close(f) == SS_OK);
}

static pthread_key_t key;

static void at_thread_exit(void *value) {
    (void)value;
    calls();
}

static void *thread_main(void *arg) {
    (void)arg;
    /* A first call, so that the library's thread-local state exists and is torn down first. */
    expect(ss_store_len(0, &(size_t){0}) == SS_ERR_INVALID_HANDLE);
    pthread_setspecific(key, (void *)1);
    return NULL;
}

static void at_exit(void) {
    calls();
    printf("test_exit: calls at thread exit and at process exit answered\n");
}

int main(void) {
    expect(ss_store_len(0, &(size_t){0}) == SS_ERR_INVALID_HANDLE);
    expect(pthread_key_create(&key, at_thread_exit) == 0);
    pthread_t t;
    expect(pthread_create(&t, NULL, thread_main, NULL) == 0);
    expect(pthread_join(t, NULL) == 0);
    atexit(at_exit);
    return 0;
}
