/*
 * test_threads.c: "every function is safe to call from any thread, on any handle,
 * concurrently" (docs/API.md §4), also while the lifecycle moves under the callers: threads
 * use a set of handles on one memory:// session while others release them, destroy the session
 * and (in some rounds) close the factory. Every status must be one the lifecycle allows, out-parameters are zeroed
 * on every error, and a handle that has seen its session destroyed never answers SS_OK again
 * (no resurrection). Threads sharing one store for data: test_backends.c, on every url.
 *
 * No assertion depends on timing. Under valgrind the threads are serialised, so the Makefile
 * also runs this program natively, where they really run in parallel.
 */
#include <pthread.h>
#include <sched.h>

#include "check.h"

static uint64_t xorshift(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ull;
}

/* --- release / destroy / close against use ------------------------------------------------- */

#define RACE_ROUNDS 24
#define RACE_HANDLES 8
#define RACE_USERS 4
#define RACE_USER_OPS 400

struct race {
    ss_factory factory;
    ss_store handles[RACE_HANDLES];
    bool close_factory;
    atomic_long bad;
    atomic_int released[RACE_HANDLES]; /* how many times each handle was released with SS_OK */
};

struct race_user {
    struct race *race;
    int id;
};

static bool allowed(ss_status st, bool closing) {
    return st == SS_OK || st == SS_NOT_FOUND || st == SS_ERR_DESTROYED ||
           st == SS_ERR_INVALID_HANDLE || (closing && st == SS_ERR_CLOSED);
}

static void race_bad(struct race *race, const char *what, ss_status st) {
    if (atomic_fetch_add(&race->bad, 1) < 5) {
        fprintf(stderr, "race: %s -> %s (ss_last_error: \"%s\")\n", what, ss_status_name(st),
                ss_last_error());
    }
}

static void *race_user(void *arg) {
    struct race_user *u = arg;
    struct race *race = u->race;
    uint64_t rng = 0xC0FFEEu + (uint64_t)u->id * 104729u;
    bool seen_destroyed[RACE_HANDLES] = {false};
    for (int op = 0; op < RACE_USER_OPS; op++) {
        uint64_t r = xorshift(&rng);
        int h = (int)(r % RACE_HANDLES);
        ss_store s = race->handles[h];
        ss_bytes b;
        bool flag;
        size_t n;
        ss_status st;
        bool out_zero_on_error = true;
        int kind = (int)((r >> 8) % 8);
        switch (kind) {
        case 0:
            st = ss_store_set(s, LIT("k"), (const uint8_t *)"value", 5);
            break;
        case 1:
            GARBAGE(b);
            st = ss_store_get(s, LIT("k"), &b);
            out_zero_on_error = st == SS_OK || all_zero(&b, sizeof b);
            if (st == SS_OK && !(b.len == 5 && memcmp(b.data, "value", 5) == 0)) {
                race_bad(race, "get returned a wrong value", st);
            }
            ss_bytes_free(&b);
            break;
        case 2:
            GARBAGE(flag);
            st = ss_store_has(s, LIT("k"), &flag);
            out_zero_on_error = st == SS_OK || all_zero(&flag, sizeof flag);
            break;
        case 3:
            st = ss_store_del(s, LIT("k"), NULL);
            break;
        case 4:
            GARBAGE(n);
            st = ss_store_len(s, &n);
            out_zero_on_error = st == SS_OK || n == 0;
            if (st == SS_OK && n > 2) {
                race_bad(race, "len counted keys never written", st);
            }
            break;
        case 5:
            GARBAGE(b);
            st = ss_store_get_all(s, &b);
            out_zero_on_error = st == SS_OK || all_zero(&b, sizeof b);
            ss_bytes_free(&b);
            break;
        case 6:
            st = ss_store_set_many(s, (const uint8_t *)"\x82\xa1k\xc4\x05value\xa1m\x01", 13);
            break;
        default:
            GARBAGE(b);
            st = ss_store_keys(s, &b);
            out_zero_on_error = st == SS_OK || all_zero(&b, sizeof b);
            ss_bytes_free(&b);
            break;
        }
        /* Only a read of a missing key may answer SS_NOT_FOUND. */
        if (!allowed(st, race->close_factory) || (st == SS_NOT_FOUND && kind != 1)) {
            race_bad(race, "a store call", st);
        }
        if (!out_zero_on_error) {
            race_bad(race, "an out-parameter not zeroed on error", st);
        }
        if (st == SS_ERR_DESTROYED) {
            seen_destroyed[h] = true;
        } else if (seen_destroyed[h] && (st == SS_OK || st == SS_NOT_FOUND)) {
            race_bad(race, "a destroyed handle answered again (resurrection)", st);
        }
        if ((r >> 20) % 4 == 0) {
            sched_yield();
        }
    }
    return NULL;
}

/* Releases the first half of the handles. */
static void *race_releaser(void *arg) {
    struct race *race = arg;
    for (int h = 0; h < RACE_HANDLES / 2; h++) {
        sched_yield();
        ss_status st = ss_store_release(race->handles[h]);
        if (st == SS_OK) {
            atomic_fetch_add(&race->released[h], 1);
        } else {
            race_bad(race, "release of a live handle", st);
        }
    }
    return NULL;
}

/* Destroys the session through handles and the factory, and opens new handles on it. */
static void *race_destroyer(void *arg) {
    struct race *race = arg;
    for (int i = 0; i < 6; i++) {
        sched_yield();
        ss_status st = ss_store_destroy(race->handles[(i * 3) % RACE_HANDLES]);
        if (!(st == SS_OK || st == SS_ERR_INVALID_HANDLE ||
              (race->close_factory && st == SS_ERR_CLOSED))) {
            race_bad(race, "destroy", st);
        }
        st = ss_factory_destroy_session(race->factory, LIT("raced"));
        if (!(st == SS_OK || (race->close_factory && st == SS_ERR_CLOSED))) {
            race_bad(race, "destroy_session", st);
        }
        ss_store fresh = 0;
        st = ss_store_open(race->factory, LIT("raced"), &fresh);
        if (st == SS_OK) {
            size_t n;
            st = ss_store_len(fresh, &n);
            if (!(st == SS_OK || st == SS_ERR_DESTROYED ||
                  (race->close_factory && st == SS_ERR_CLOSED))) {
                race_bad(race, "len on a fresh handle", st);
            }
            st = ss_store_release(fresh);
            if (st != SS_OK) {
                race_bad(race, "release of a fresh handle", st);
            }
        } else if (!(race->close_factory && st == SS_ERR_CLOSED)) {
            race_bad(race, "open", st);
        }
    }
    return NULL;
}

static void *race_closer(void *arg) {
    struct race *race = arg;
    for (int i = 0; i < 20; i++) {
        sched_yield();
    }
    ss_status st = ss_factory_close(race->factory);
    if (st != SS_OK) {
        race_bad(race, "factory close", st);
    }
    return NULL;
}

static void test_race(void) {
    for (int round = 0; round < RACE_ROUNDS; round++) {
        static struct race race;
        memset(&race, 0, sizeof race);
        race.close_factory = round % 3 == 2;
        race.factory = OPEN_FACTORY(round % 2 ? "memory://?ttl_ms=10" : "memory://");
        for (int h = 0; h < RACE_HANDLES; h++) {
            race.handles[h] = OPEN_STORE(race.factory, "raced");
        }
        pthread_t users[RACE_USERS], releaser, destroyer, closer;
        struct race_user args[RACE_USERS];
        for (int i = 0; i < RACE_USERS; i++) {
            args[i].race = &race;
            args[i].id = round * RACE_USERS + i;
            CHECK(pthread_create(&users[i], NULL, race_user, &args[i]) == 0);
        }
        CHECK(pthread_create(&releaser, NULL, race_releaser, &race) == 0);
        CHECK(pthread_create(&destroyer, NULL, race_destroyer, &race) == 0);
        if (race.close_factory) {
            CHECK(pthread_create(&closer, NULL, race_closer, &race) == 0);
        }
        for (int i = 0; i < RACE_USERS; i++) {
            CHECK(pthread_join(users[i], NULL) == 0);
        }
        CHECK(pthread_join(releaser, NULL) == 0);
        CHECK(pthread_join(destroyer, NULL) == 0);
        if (race.close_factory) {
            CHECK(pthread_join(closer, NULL) == 0);
        }

        /* Every handle is released exactly once: the first half by the releaser, the rest
         * now; a second release is always SS_ERR_INVALID_HANDLE. */
        for (int h = 0; h < RACE_HANDLES; h++) {
            ss_status st = ss_store_release(race.handles[h]);
            if (h < RACE_HANDLES / 2) {
                EXPECT_STATUS(st, SS_ERR_INVALID_HANDLE);
            } else {
                EXPECT_OK(st);
                atomic_fetch_add(&race.released[h], 1);
            }
            CHECK(atomic_load(&race.released[h]) == 1);
        }
        if (!CHECK(atomic_load(&race.bad) == 0)) {
            fprintf(stderr, "  ^ round %d: %ld disallowed results\n", round,
                    atomic_load(&race.bad));
        }
        EXPECT_OK(ss_factory_close(race.factory));
    }
}

int main(void) {
    check_set_label("memory://");
    test_race();
    return check_finish();
}
