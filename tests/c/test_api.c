/*
 * test_api.c: what needs no backend, or is memory://'s own: the helpers of docs/API.md §4
 * (ss_version, ss_status_name and the statuses' values, ss_last_error, ss_bytes_free) behave
 * as the header says, every memory:// url and option opens, and two memory:// factories never
 * share a session. How the store calls behave, on every backend: test_backends.c.
 */
#include <limits.h>
#include <pthread.h>

#include "check.h"

static void test_version(void) {
    const char *v = ss_version();
    CHECK(v != NULL);
    CHECK(v[0] >= '0' && v[0] <= '9');
    CHECK(strchr(v, '.') != NULL);
    CHECK(v == ss_version()); /* a static string, not a fresh allocation */
}

static void test_status_names(void) {
    static const struct {
        ss_status status;
        const char *name;
    } names[] = {
        {SS_OK, "SS_OK"},
        {SS_NOT_FOUND, "SS_NOT_FOUND"},
        {SS_ERR_NULL_ARG, "SS_ERR_NULL_ARG"},
        {SS_ERR_INVALID_ARG, "SS_ERR_INVALID_ARG"},
        {SS_ERR_TOO_LARGE, "SS_ERR_TOO_LARGE"},
        {SS_ERR_INVALID_HANDLE, "SS_ERR_INVALID_HANDLE"},
        {SS_ERR_DESTROYED, "SS_ERR_DESTROYED"},
        {SS_ERR_CLOSED, "SS_ERR_CLOSED"},
        {SS_ERR_CONFIG, "SS_ERR_CONFIG"},
        {SS_ERR_BACKEND, "SS_ERR_BACKEND"},
        {SS_ERR_TIMEOUT, "SS_ERR_TIMEOUT"},
        {SS_ERR_TYPE, "SS_ERR_TYPE"},
        {SS_ERR_INTERNAL, "SS_ERR_INTERNAL"},
    };
    /* The numeric values are part of the ABI (docs/API.md §4). */
    CHECK(SS_OK == 0 && SS_NOT_FOUND == 1 && SS_ERR_NULL_ARG == -1 && SS_ERR_INVALID_ARG == -2);
    CHECK(SS_ERR_TOO_LARGE == -3 && SS_ERR_INVALID_HANDLE == -4 && SS_ERR_DESTROYED == -5);
    CHECK(SS_ERR_CLOSED == -6 && SS_ERR_CONFIG == -7 && SS_ERR_BACKEND == -8);
    CHECK(SS_ERR_TIMEOUT == -9 && SS_ERR_TYPE == -10 && SS_ERR_INTERNAL == -11);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *got = ss_status_name(names[i].status);
        if (!CHECK(got != NULL && strcmp(got, names[i].name) == 0)) {
            fprintf(stderr, "  ss_status_name(%d) = %s, expected %s\n", (int)names[i].status,
                    got ? got : "(null)", names[i].name);
        }
    }
    const int unknown[] = {2, -12, 42, -100, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        const char *got = ss_status_name(unknown[i]);
        CHECK(got != NULL && strcmp(got, "SS_UNKNOWN") == 0);
    }
}

/* The message belongs to its thread (freed when the thread ends), so it is copied here. */
static void *last_error_of_new_thread(void *arg) {
    char *out = arg;
    snprintf(out, 64, "%s", ss_last_error());
    return NULL;
}

/* Runs first in main: before any failing call the message is "". */
static void test_last_error(void) {
    const char *none = ss_last_error();
    CHECK(none != NULL && none[0] == '\0');

    ss_factory f = 0;
    EXPECT_STATUS(ss_factory_open(LIT("nope://"), &f), SS_ERR_CONFIG);
    const char *msg = ss_last_error();
    CHECK(msg != NULL && msg[0] != '\0');
    char copy[512];
    snprintf(copy, sizeof copy, "%s", msg);

    /* A success leaves the message alone (like errno). */
    f = OPEN_FACTORY("memory://");
    CHECK(strcmp(ss_last_error(), copy) == 0);
    EXPECT_OK(ss_factory_close(f));

    /* The message is per thread: another thread has none. */
    char other[64] = "not called";
    pthread_t t;
    CHECK(pthread_create(&t, NULL, last_error_of_new_thread, other) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    CHECK(other[0] == '\0');
    CHECK(strcmp(ss_last_error(), copy) == 0);
}

static void test_bytes_free(void) {
    ss_bytes_free(NULL); /* a no-op */
    ss_bytes zero = {NULL, 0};
    ss_bytes_free(&zero);
    ss_bytes_free(&zero);
    CHECK(zero.data == NULL && zero.len == 0);

    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "bytes-free");
    EXPECT_OK(ss_store_set(s, LIT("k"), (const uint8_t *)"abc", 3));
    ss_bytes b;
    GARBAGE(b);
    EXPECT_OK(ss_store_get(s, LIT("k"), &b));
    CHECK_BYTES(&b, "abc", 3);
    ss_bytes_free(&b);
    CHECK(b.data == NULL && b.len == 0); /* zeroed by the free ... */
    ss_bytes_free(&b);                   /* ... so a second free is a no-op */
    CHECK(b.data == NULL && b.len == 0);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

static void test_factory_urls(void) {
    ss_factory f = 0, g = 0;
    EXPECT_OK(ss_factory_open(LIT("memory://"), &f));
    CHECK(f != 0);
    /* The empty string is the in-memory default; the pointer is still required. */
    EXPECT_OK(ss_factory_open("", 0, &g));
    CHECK(g != 0 && g != f);
    EXPECT_OK(ss_factory_close(g));
    /* Only url_len bytes are read: no terminator is needed or looked for. */
    const char padded[] = {'m', 'e', 'm', 'o', 'r', 'y', ':', '/', '/', '#', '!'};
    EXPECT_OK(ss_factory_open(padded, 9, &g));
    EXPECT_OK(ss_factory_close(g));
    /* Every option at a valid value, its bounds included. */
    const char *good[] = {
        "memory://?ttl_ms=0",
        "memory://?ttl_ms=10",
        "memory://?ttl_ms=31536000000",
        "memory://?timeout_ms=1",
        "memory://?timeout_ms=600000",
        "memory://?max_value_bytes=16",
        "memory://?max_value_bytes=536870912",
        "memory://?prefix=app.v1:sessions_x-y",
        "memory://?prefix=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "memory://?prefix=p&timeout_ms=50&ttl_ms=60000&max_value_bytes=4096",
        "?ttl_ms=1000",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ss_factory h = 0;
        if (!EXPECT_OK(ss_factory_open(good[i], strlen(good[i]), &h))) {
            fprintf(stderr, "  url: %s\n", good[i]);
        }
        CHECK(h != 0);
        EXPECT_OK(ss_factory_close(h));
    }
    EXPECT_OK(ss_factory_close(f));
}

/* memory:// keeps its data in its factory: two factories never share a session, whatever
 * its id (on a shared backend two factories are two nodes of one store: test_backends.c). */
static void test_memory_factories_are_separate(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_factory g = OPEN_FACTORY("");
    CHECK(f != g);
    const char *sid = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    ss_store a = OPEN_STORE(f, sid);
    ss_store other = OPEN_STORE(g, sid);
    CHECK(a != 0 && other != 0 && other != a);
    EXPECT_OK(ss_store_set(a, LIT("userId"), (const uint8_t *)"42", 2));
    CHECK(STORE_LEN(other) == 0);
    EXPECT_OK(ss_store_set(other, LIT("room"), (const uint8_t *)"lobby", 5));
    CHECK(STORE_LEN(a) == 1);
    ss_bytes b;
    GARBAGE(b);
    EXPECT_STATUS(ss_store_get(a, LIT("room"), &b), SS_NOT_FOUND);
    CHECK_ZEROED(b);
    /* Destroying the id through one factory leaves the other's session alone. */
    EXPECT_OK(ss_factory_destroy_session(g, sid, strlen(sid)));
    CHECK(STORE_LEN(a) == 1);
    EXPECT_OK(ss_store_release(a));
    EXPECT_OK(ss_store_release(other));
    EXPECT_OK(ss_factory_close(f));
    EXPECT_OK(ss_factory_close(g));
}

int main(void) {
    check_set_label("memory://");
    test_last_error(); /* first: it checks the message before any failure */
    test_version();
    test_status_names();
    test_bytes_free();
    test_factory_urls();
    test_memory_factories_are_separate();
    return check_finish();
}
