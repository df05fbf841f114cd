/* Reload under load from C: 8 threads resolve one user while the main thread swaps
 * between two configurations that answer it with different UIDs, and tries a
 * broken one now and then. Every lookup must succeed; a lookup that ran entirely
 * between two reloads must answer the configuration loaded before it started.
 *
 * usage: test_reload CONFIG_A UID_A CONFIG_B UID_B BROKEN_CONFIG NAME ROUNDS
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxid.h>

#include "check.h"

#define THREADS 8

static proxid_resolver *resolver;
static const char *name;
static uint32_t uid_a, uid_b;
/* A sequence lock: `seq` is odd while a reload runs; `serving` (the UID the
 * configuration in force answers) changes only then. */
static atomic_uint seq;
static atomic_uint serving;
static atomic_int stop;
static atomic_ulong lookups, checked;

static void *hammer(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        unsigned before = atomic_load(&seq);
        uint32_t want = atomic_load(&serving);
        proxid_identity *id = NULL;
        proxid_error *err = NULL;
        proxid_status s = proxid_resolve(resolver, name, &id, &err);
        unsigned after = atomic_load(&seq);
        CHECK(s == PROXID_OK, "lookup during reload: %s: %s", proxid_status_name(s),
              err ? proxid_error_message(err) : "");
        if (s != PROXID_OK) {
            proxid_error_free(err);
            continue;
        }
        uint32_t uid = proxid_identity_uid(id);
        CHECK(uid == uid_a || uid == uid_b, "uid %u is neither configuration's", uid);
        if (before == after && before % 2 == 0) {
            CHECK(uid == want, "seq %u: uid %u, expected %u", before, uid, want);
            atomic_fetch_add(&checked, 1);
        }
        proxid_identity_free(id);
        atomic_fetch_add(&lookups, 1);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: %s CONFIG_A UID_A CONFIG_B UID_B BROKEN NAME ROUNDS\n", argv[0]);
        return 2;
    }
    const char *configs[2] = {argv[1], argv[3]};
    uid_a = (uint32_t)strtoul(argv[2], NULL, 10);
    uid_b = (uint32_t)strtoul(argv[4], NULL, 10);
    const char *broken = argv[5];
    name = argv[6];
    int rounds = atoi(argv[7]);

    proxid_error *err = NULL;
    CHECK(proxid_resolver_open(configs[0], &resolver, &err) == PROXID_OK, "open: %s",
          err ? proxid_error_message(err) : "");
    CHECK(proxid_resolver_reload(NULL, configs[0], NULL) == PROXID_INVALID_ARGUMENT,
          "reload(NULL resolver)");

    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        CHECK(pthread_create(&threads[i], NULL, hammer, NULL) == 0, "pthread_create");

    atomic_store(&serving, uid_a);
    int refused = 0;
    for (int round = 1; round <= rounds; round++) {
        atomic_fetch_add(&seq, 1);
        uint32_t now = atomic_load(&serving);
        if (round % 4 == 0) {
            err = NULL;
            proxid_status s = proxid_resolver_reload(resolver, broken, &err);
            CHECK(s != PROXID_OK, "a broken configuration was accepted");
            CHECK(err != NULL && strlen(proxid_error_message(err)) > 0, "refusal says why");
            proxid_error_free(err);
            refused++;
        } else {
            err = NULL;
            int next = now == uid_a ? 1 : 0;
            proxid_status s = proxid_resolver_reload(resolver, configs[next], &err);
            CHECK(s == PROXID_OK, "reload: %s", err ? proxid_error_message(err) : "");
            atomic_store(&serving, next == 1 ? uid_b : uid_a);
        }
        atomic_fetch_add(&seq, 1);
        /* A lookup made now sees the configuration just loaded (or kept). */
        proxid_identity *id = NULL;
        CHECK(proxid_resolve(resolver, name, &id, NULL) == PROXID_OK, "lookup after reload");
        CHECK(proxid_identity_uid(id) == atomic_load(&serving), "after reload %d: uid %u", round,
              proxid_identity_uid(id));
        proxid_identity_free(id);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    proxid_resolver_free(resolver);
    if (atomic_load(&check_failures) != 0)
        return 1;
    printf("test_reload: %d reloads (%d broken refused), %lu lookups (%lu checked against "
           "the configuration in force), 0 failures\n",
           rounds, refused, atomic_load(&lookups), atomic_load(&checked));
    return 0;
}
