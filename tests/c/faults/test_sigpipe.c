/*
 * test_sigpipe.c: a server that closes connections while the library writes to them never
 * kills the host with SIGPIPE (this program keeps SIGPIPE's default action, which ends the
 * process with status 141). Eight threads write and read through one factory while the
 * servers' clients are killed (CLIENT KILL, with redis-cli) again and again; calls may fail,
 * the process must go on. On every Redis url of SESSIONSTORE_TEST_URLS (whitespace-separated),
 * SESSIONSTORE_TEST_TLS_URL and SESSIONSTORE_TEST_TLS_CLUSTER_URL; TLS through SSL_CERT_FILE.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "../check.h"

#define THREADS 8
#define KILLS 15

static atomic_bool stop;
static atomic_long calls_ok;
static atomic_long calls_failed;

struct worker {
    ss_factory f;
    int n;
};

static void *work(void *arg) {
    struct worker *w = arg;
    char sid[64];
    snprintf(sid, sizeof sid, "sigpipe-%d", w->n);
    ss_store s = 0;
    if (ss_store_open(w->f, sid, strlen(sid), &s) != SS_OK) {
        atomic_fetch_add(&calls_failed, 1);
        return NULL;
    }
    uint8_t value[2048];
    memset(value, 'x', sizeof value);
    while (!atomic_load(&stop)) {
        ss_bytes b = {0};
        ss_status a = ss_store_set(s, LIT("k"), value, sizeof value);
        ss_status g = ss_store_get(s, LIT("k"), &b);
        ss_bytes_free(&b);
        if (a == SS_OK && g == SS_OK) {
            atomic_fetch_add(&calls_ok, 1);
        } else {
            atomic_fetch_add(&calls_failed, 1);
        }
    }
    ss_store_destroy(s);
    ss_store_release(s);
    return NULL;
}

/* CLIENT KILL TYPE normal on every host:port of `url` (the part between :// and / or ?). */
static void kill_clients(const char *url, bool tls) {
    const char *hosts = strstr(url, "://") + 3;
    const char *at = strchr(hosts, '@');
    if (at != NULL) {
        hosts = at + 1;
    }
    char list[512];
    snprintf(list, sizeof list, "%.*s", (int)strcspn(hosts, "/?"), hosts);
    char *save = NULL;
    for (char *node = strtok_r(list, ",", &save); node != NULL; node = strtok_r(NULL, ",", &save)) {
        const char *colon = strrchr(node, ':');
        if (colon == NULL) {
            continue;
        }
        char cmd[1024];
        const char *ca = getenv("SSL_CERT_FILE");
        snprintf(cmd, sizeof cmd,
                 "redis-cli %s%s -h 127.0.0.1 -p %s CLIENT KILL TYPE normal >/dev/null 2>&1",
                 tls ? "--tls --cacert " : "", tls && ca ? ca : "", colon + 1);
        if (system(cmd) == -1) {
            perror("system");
        }
    }
}

static void attack(const char *url) {
    bool tls = strncmp(url, "rediss", 6) == 0;
    printf("== %s\n", url);
    fflush(stdout);
    ss_factory f = 0;
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%stimeout_ms=1000&prefix=sigpipe", url, strchr(url, '?') ? "&" : "?");
    if (!EXPECT_OK(ss_factory_open(opts, strlen(opts), &f))) {
        return;
    }
    atomic_store(&stop, false);
    atomic_store(&calls_ok, 0);
    atomic_store(&calls_failed, 0);
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){f, i};
        pthread_create(&threads[i], NULL, work, &workers[i]);
    }
    for (int i = 0; i < KILLS; i++) {
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        kill_clients(url, tls);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    /* Still alive: the point. And the factory still works once the kills stop. */
    ss_store s = 0;
    EXPECT_OK(ss_store_open(f, LIT("sigpipe-after"), &s));
    EXPECT_OK(ss_store_set(s, LIT("k"), (const uint8_t *)"v", 1));
    EXPECT_OK(ss_store_destroy(s));
    EXPECT_OK(ss_store_release(s));
    EXPECT_OK(ss_factory_close(f));
    printf("   %ld round trips, %ld failed under the kills\n", atomic_load(&calls_ok),
           atomic_load(&calls_failed));
}

int main(void) {
    /* The default action, whatever the parent left: a SIGPIPE must end this process. */
    signal(SIGPIPE, SIG_DFL);
    const char *env = getenv("SESSIONSTORE_TEST_URLS");
    char *list = strdup(env != NULL ? env : "");
    int tried = 0;
    char *save = NULL;
    for (char *url = strtok_r(list, " \t\n", &save); url != NULL; url = strtok_r(NULL, " \t\n", &save)) {
        if (strncmp(url, "redis", 5) == 0) {
            attack(url);
            tried++;
        }
    }
    free(list);
    const char *tls[] = {getenv("SESSIONSTORE_TEST_TLS_URL"), getenv("SESSIONSTORE_TEST_TLS_CLUSTER_URL")};
    for (size_t i = 0; i < 2; i++) {
        if (tls[i] != NULL && tls[i][0] != '\0') {
            attack(tls[i]);
            tried++;
        }
    }
    if (tried == 0) {
        printf("test_sigpipe: no Redis url in the environment: skipped\n");
    }
    return check_finish();
}
