/*
 * test_threads.c: "every function is safe to call from any thread, on any handle,
 * concurrently" (API.md §4).
 *
 * 1. Hammer: 10 threads share ONE store handle, 10,000 operations each (set/get/has/del/len
 *    on keys of their own and on shared keys, plus the MessagePack calls and keys/get_all),
 *    checking every result against what the thread knows: its own keys are written by it
 *    alone, so their values are exact; shared values must be whole (a checksum), never torn.
 * 2. Race: threads use a set of handles on one session while others release them, destroy
 *    the session and (in some rounds) close the factory. Every status must be one the
 *    lifecycle allows, and a handle that has seen its session destroyed never answers SS_OK
 *    again (no resurrection).
 *
 * No assertion depends on timing. Under valgrind the threads are serialised, so the Makefile
 * also runs this program natively, where they really run in parallel.
 */
#include <pthread.h>
#include <sched.h>

#include "check.h"

#define THREADS 10
#define OPS 10000
#define OWN_KEYS 8
#define SHARED_KEYS 4
#define VALUE_LEN 16

static uint64_t xorshift(uint64_t *state) {
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 2685821657736338717ull;
}

/* A value that proves it is whole: writer, key, counter and a checksum of the three. */
static void make_value(uint8_t out[VALUE_LEN], uint32_t writer, uint32_t key, uint32_t counter) {
    uint32_t sum = (writer * 2654435761u) ^ (key * 40503u) ^ (counter * 2246822519u) ^ 0xA5A5A5A5u;
    memcpy(out, &writer, 4);
    memcpy(out + 4, &key, 4);
    memcpy(out + 8, &counter, 4);
    memcpy(out + 12, &sum, 4);
}

static bool value_is_whole(const ss_bytes *b, uint32_t key) {
    if (b->len != VALUE_LEN) {
        return false;
    }
    uint32_t writer, k, counter, sum;
    memcpy(&writer, b->data, 4);
    memcpy(&k, b->data + 4, 4);
    memcpy(&counter, b->data + 8, 4);
    memcpy(&sum, b->data + 12, 4);
    uint32_t want = (writer * 2654435761u) ^ (k * 40503u) ^ (counter * 2246822519u) ^ 0xA5A5A5A5u;
    return writer < THREADS && k == key && sum == want;
}

/* The element count of a MessagePack array or map header. */
static bool container_len(const ss_bytes *b, uint8_t fix, uint8_t h16, uint8_t h32, size_t *n) {
    if (b->len == 0) {
        return false;
    }
    uint8_t m = b->data[0];
    if ((m & 0xf0) == fix) {
        *n = m & 0x0f;
    } else if (m == h16 && b->len >= 3) {
        *n = ((size_t)b->data[1] << 8) | b->data[2];
    } else if (m == h32 && b->len >= 5) {
        *n = ((size_t)b->data[1] << 24) | ((size_t)b->data[2] << 16) | ((size_t)b->data[3] << 8) |
             b->data[4];
    } else {
        return false;
    }
    return true;
}

/* --- 1. hammer ----------------------------------------------------------------------------- */

struct worker {
    int id;
    ss_store store;
    long errors;
    bool present[OWN_KEYS];
    uint32_t last[OWN_KEYS];
    bool doc_present;
    uint8_t doc_counter;
};

#define FAIL(w, ...)                                                                    \
    do {                                                                                \
        if ((w)->errors++ < 5) {                                                        \
            fprintf(stderr, "thread %d: ", (w)->id);                                    \
            fprintf(stderr, __VA_ARGS__);                                               \
            fprintf(stderr, " (ss_last_error: \"%s\")\n", ss_last_error());             \
        }                                                                               \
    } while (0)

static void own_key(char *buf, size_t cap, int thread, int k) {
    snprintf(buf, cap, "t%d-k%d", thread, k);
}

static void *hammer(void *arg) {
    struct worker *w = arg;
    uint64_t rng = 0x12345678u + (uint64_t)w->id * 7919u;
    char key[32], doc_key[32];
    snprintf(doc_key, sizeof doc_key, "t%d-doc", w->id);
    uint8_t val[VALUE_LEN];
    ss_bytes b;
    bool flag;
    size_t n;
    ss_status st;

    for (uint32_t op = 0; op < OPS; op++) {
        uint64_t r = xorshift(&rng);
        int k = (int)((r >> 8) % OWN_KEYS);
        uint32_t sk = (uint32_t)((r >> 16) % SHARED_KEYS);
        switch (r % 12) {
        case 0:
        case 1: /* set an own key */
            own_key(key, sizeof key, w->id, k);
            make_value(val, (uint32_t)w->id, (uint32_t)k, op);
            if ((st = ss_store_set(w->store, key, strlen(key), val, VALUE_LEN)) != SS_OK) {
                FAIL(w, "set %s -> %s", key, ss_status_name(st));
            }
            w->present[k] = true;
            w->last[k] = op;
            break;
        case 2:
        case 3: /* get an own key: exactly the last value this thread wrote */
            own_key(key, sizeof key, w->id, k);
            st = ss_store_get(w->store, key, strlen(key), &b);
            if (w->present[k]) {
                make_value(val, (uint32_t)w->id, (uint32_t)k, w->last[k]);
                if (st != SS_OK || b.len != VALUE_LEN || memcmp(b.data, val, VALUE_LEN) != 0) {
                    FAIL(w, "get %s -> %s, len %zu: not the value written", key,
                         ss_status_name(st), b.len);
                }
            } else if (st != SS_NOT_FOUND || b.data != NULL) {
                FAIL(w, "get %s -> %s, expected SS_NOT_FOUND", key, ss_status_name(st));
            }
            ss_bytes_free(&b);
            break;
        case 4: /* has an own key */
            own_key(key, sizeof key, w->id, k);
            if ((st = ss_store_has(w->store, key, strlen(key), &flag)) != SS_OK ||
                flag != w->present[k]) {
                FAIL(w, "has %s -> %s %d, expected %d", key, ss_status_name(st), flag,
                     w->present[k]);
            }
            break;
        case 5: /* del an own key */
            own_key(key, sizeof key, w->id, k);
            if ((st = ss_store_del(w->store, key, strlen(key), &flag)) != SS_OK ||
                flag != w->present[k]) {
                FAIL(w, "del %s -> %s existed %d, expected %d", key, ss_status_name(st), flag,
                     w->present[k]);
            }
            w->present[k] = false;
            break;
        case 6: /* set a shared key */
            snprintf(key, sizeof key, "shared-%u", sk);
            make_value(val, (uint32_t)w->id, sk, op);
            if ((st = ss_store_set(w->store, key, strlen(key), val, VALUE_LEN)) != SS_OK) {
                FAIL(w, "set %s -> %s", key, ss_status_name(st));
            }
            break;
        case 7: /* get a shared key: absent, or one whole value of some thread */
            snprintf(key, sizeof key, "shared-%u", sk);
            st = ss_store_get(w->store, key, strlen(key), &b);
            if (!((st == SS_OK && value_is_whole(&b, sk)) || (st == SS_NOT_FOUND && !b.data))) {
                FAIL(w, "get %s -> %s, len %zu: not a whole value", key, ss_status_name(st),
                     b.len);
            }
            ss_bytes_free(&b);
            break;
        case 8: /* del or probe a shared key */
            snprintf(key, sizeof key, "shared-%u", sk);
            st = (r >> 40) & 1 ? ss_store_del(w->store, key, strlen(key), NULL)
                               : ss_store_has(w->store, key, strlen(key), &flag);
            if (st != SS_OK) {
                FAIL(w, "del/has %s -> %s", key, ss_status_name(st));
            }
            break;
        case 9: { /* len: at least this thread's own keys, at most every key there can be */
            size_t mine = w->doc_present;
            for (int i = 0; i < OWN_KEYS; i++) {
                mine += w->present[i];
            }
            if ((st = ss_store_len(w->store, &n)) != SS_OK || n < mine ||
                n > THREADS * (OWN_KEYS + 1) + SHARED_KEYS) {
                FAIL(w, "len -> %s %zu, own keys %zu", ss_status_name(st), n, mine);
            }
            break;
        }
        case 10: { /* a MessagePack document of its own: [thread, counter] */
            uint8_t doc[3] = {0x92, (uint8_t)w->id, (uint8_t)(w->doc_counter & 0x7f)};
            if ((r >> 32) & 1) {
                w->doc_counter++;
                doc[2] = (uint8_t)(w->doc_counter & 0x7f);
                if ((st = ss_store_set_msgpack(w->store, doc_key, strlen(doc_key), doc, 3)) !=
                    SS_OK) {
                    FAIL(w, "set_msgpack -> %s", ss_status_name(st));
                }
                w->doc_present = true;
            } else {
                st = ss_store_get_msgpack(w->store, doc_key, strlen(doc_key), &b);
                if (w->doc_present ? st != SS_OK || b.len != 3 || memcmp(b.data, doc, 3) != 0
                                   : st != SS_NOT_FOUND) {
                    FAIL(w, "get_msgpack -> %s", ss_status_name(st));
                }
                ss_bytes_free(&b);
            }
            break;
        }
        default: /* 11: keys / get_all / set_many, now and then */
            if ((r >> 20) % 16 != 0) {
                break;
            }
            if ((st = ss_store_keys(w->store, &b)) != SS_OK ||
                !container_len(&b, 0x90, 0xdc, 0xdd, &n) || n > THREADS * (OWN_KEYS + 1) + SHARED_KEYS) {
                FAIL(w, "keys -> %s", ss_status_name(st));
            }
            ss_bytes_free(&b);
            if ((st = ss_store_get_all(w->store, &b)) != SS_OK ||
                !container_len(&b, 0x80, 0xde, 0xdf, &n)) {
                FAIL(w, "get_all -> %s", ss_status_name(st));
            }
            ss_bytes_free(&b);
            /* {"shared-<sk>": bin <whole value>} through set_many */
            {
                uint8_t m[1 + 1 + 8 + 2 + VALUE_LEN];
                size_t at = 0;
                m[at++] = 0x81;
                m[at++] = 0xa8;
                snprintf(key, sizeof key, "shared-%u", sk);
                memcpy(m + at, key, 8);
                at += 8;
                m[at++] = 0xc4;
                m[at++] = VALUE_LEN;
                make_value(m + at, (uint32_t)w->id, sk, op);
                at += VALUE_LEN;
                if ((st = ss_store_set_many(w->store, m, at)) != SS_OK) {
                    FAIL(w, "set_many -> %s", ss_status_name(st));
                }
            }
            break;
        }
    }
    return NULL;
}

static void test_hammer(void) {
    ss_factory f = OPEN_FACTORY("memory://");
    ss_store s = OPEN_STORE(f, "hammered");
    static struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].id = i;
        workers[i].store = s;
        CHECK(pthread_create(&threads[i], NULL, hammer, &workers[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
    }

    /* Every thread's results were right, and the final state is what the threads left. */
    size_t expected = 0;
    char key[32];
    for (int i = 0; i < THREADS; i++) {
        struct worker *w = &workers[i];
        if (!CHECK(w->errors == 0)) {
            fprintf(stderr, "  ^ thread %d saw %ld wrong results\n", i, w->errors);
        }
        for (int k = 0; k < OWN_KEYS; k++) {
            own_key(key, sizeof key, i, k);
            ss_bytes b;
            ss_status st = ss_store_get(s, key, strlen(key), &b);
            if (w->present[k]) {
                uint8_t val[VALUE_LEN];
                make_value(val, (uint32_t)i, (uint32_t)k, w->last[k]);
                EXPECT_OK(st);
                CHECK_BYTES(&b, val, VALUE_LEN);
                expected++;
            } else {
                EXPECT_STATUS(st, SS_NOT_FOUND);
            }
            ss_bytes_free(&b);
        }
        expected += w->doc_present;
    }
    for (uint32_t k = 0; k < SHARED_KEYS; k++) {
        snprintf(key, sizeof key, "shared-%u", k);
        bool flag = false;
        EXPECT_OK(ss_store_has(s, key, strlen(key), &flag));
        expected += flag;
    }
    size_t n = 0;
    EXPECT_OK(ss_store_len(s, &n));
    CHECK(n == expected);
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
}

/* --- 2. release / destroy / close against use ---------------------------------------------- */

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
    test_hammer();
    test_race();
    return check_finish();
}
