/* Issue 11 point 4 from C: a process whose threads are resolving forks, and each
 * child resolves the same names with the parent's resolver. The README promises
 * lookups do not depend on which side of a fork(2) asks; before the fix a child could
 * wait forever on a lookup another parent thread had in flight. Children run under
 * alarm(), so a hang is a failure, not a stuck test.
 *
 *   test_fork CONFIG FORKS     (CONFIG should disable caching, so lookups are always
 *                               in flight) */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static proxid_resolver *resolver;
static atomic_int stop;

/* 1 when `name` resolves to `uid` (and `uid` back to a user with that UID). */
static int resolves(const char *name, uint32_t uid) {
    proxid_identity *id = NULL;
    int ok = proxid_resolve(resolver, name, &id, NULL) == PROXID_OK &&
             proxid_identity_uid(id) == uid;
    proxid_identity_free(id);
    id = NULL;
    ok = ok && proxid_resolve_uid(resolver, uid, &id, NULL) == PROXID_OK &&
         proxid_identity_uid(id) == uid;
    proxid_identity_free(id);
    return ok;
}

static void *busy(void *arg) {
    (void)arg;
    while (!atomic_load(&stop)) {
        resolves("root", 0);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s CONFIG FORKS\n", argv[0]);
        return 2;
    }
    int forks = atoi(argv[2]);
    CHECK(proxid_resolver_open(argv[1], &resolver, NULL) == PROXID_OK, "open %s", argv[1]);
    if (resolver == NULL) {
        return 1;
    }
    enum { THREADS = 8 };
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_create(&threads[i], NULL, busy, NULL) == 0, "thread %d", i);
    }
    int hung = 0, failed = 0;
    for (int i = 0; i < forks && hung == 0; i++) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork");
        if (pid == 0) {
            alarm(10);
            int ok = resolves("root", 0);
            /* The parent's threads do not exist here: freeing must not wait on them. */
            proxid_resolver_free(resolver);
            _exit(ok ? 0 : 1);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
            hung++;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed++;
        }
    }
    CHECK(hung == 0, "%d child(ren) hung", hung);
    CHECK(failed == 0, "%d child(ren) failed to resolve", failed);
    atomic_store(&stop, 1);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    proxid_resolver_free(resolver);
    int failures = atomic_load(&check_failures);
    printf("test_fork: %d forks, %d failures\n", forks, failures);
    return failures == 0 ? 0 : 1;
}
