/* Drives libnss_proxid.so.2 through glibc (getpwnam_r & co.), as any program does.
 * Run by tests/daemon_nss.rs inside a private mount namespace whose nsswitch.conf
 * names the `proxid` service. Modes:
 *   timed NAME MAX_MS [CALLS]    every call for NAME fails (daemon down), each within MAX_MS
 *   until-found NAME MAX_MS      one process asks until NAME resolves (daemon restarted)
 *   buffers USER GROUP UID GID   every buffer size from 1 byte to the exact one
 *   groups USER                  getgrouplist from a 1-entry array: grows, no duplicates
 *   threads USER N               N threads asking at once, all answers equal
 *   fork USER                    fork while other threads are mid-lookup
 *   threads-unchanged USER       loading and using the module starts no thread
 *   bigroup GROUP N              getgrnam_r of a group of N members, growing the buffer
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures = 0;
#define FAIL(...)                                                                  \
    do {                                                                           \
        fprintf(stderr, __VA_ARGS__);                                              \
        fputc('\n', stderr);                                                       \
        __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);                        \
    } while (0)

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static int lookup_user(const char *name, uid_t *uid) {
    struct passwd pw, *res = NULL;
    char buf[4096];
    int rc = getpwnam_r(name, &pw, buf, sizeof buf, &res);
    if (rc == 0 && res && uid)
        *uid = pw.pw_uid;
    return rc == 0 && res != NULL;
}

static int timed(const char *name, double max_ms, int kinds) {
    struct passwd pw, *pres = NULL;
    struct group gr, *gres = NULL;
    char buf[4096];
    gid_t groups[64];
    for (int kind = 0; kind < kinds && kind < 5; kind++) {
        double t = now_ms();
        int found = 0, n = 64;
        switch (kind) {
        case 0: getpwnam_r(name, &pw, buf, sizeof buf, &pres); found = pres != NULL; break;
        case 1: getpwuid_r(10001, &pw, buf, sizeof buf, &pres); found = pres != NULL; break;
        case 2: getgrnam_r("devs", &gr, buf, sizeof buf, &gres); found = gres != NULL; break;
        case 3: getgrgid_r(10000, &gr, buf, sizeof buf, &gres); found = gres != NULL; break;
        case 4: found = getgrouplist(name, 12345, groups, &n) > 1; break;
        }
        double took = now_ms() - t;
        if (found)
            FAIL("call %d found an entry while the daemon is down", kind);
        if (took > max_ms)
            FAIL("call %d took %.1f ms (> %.0f)", kind, took, max_ms);
    }
    return failures;
}

static int until_found(const char *name, double max_ms) {
    double start = now_ms();
    while (now_ms() - start < max_ms) {
        if (lookup_user(name, NULL))
            return 0;
        usleep(50 * 1000);
    }
    FAIL("%s never found", name);
    return 1;
}

/* Sizes 1..exact must give ERANGE; the exact size (found by growing) must succeed with
 * the same answer as a big buffer. */
#define SIZES(call_with_len, ok_expr)                                              \
    do {                                                                           \
        size_t exact = 0;                                                          \
        for (size_t len = 1; len < 65536; len++) {                                 \
            char *b = malloc(len);                                                 \
            int rc = call_with_len;                                                \
            int ok = ok_expr;                                                      \
            free(b);                                                               \
            if (rc == ERANGE)                                                      \
                continue;                                                          \
            if (rc != 0 || !ok) {                                                  \
                FAIL("%s: size %zu: rc %d (%s), found %d", #call_with_len, len, rc,  \
                     strerror(rc), ok);                                            \
                break;                                                             \
            }                                                                      \
            exact = len;                                                           \
            break;                                                                 \
        }                                                                          \
        if (!exact)                                                                \
            FAIL("%s: never succeeded", #call_with_len);                           \
    } while (0)

static int buffers(const char *user, const char *group, uid_t uid, gid_t gid) {
    struct passwd pw, *pres = NULL;
    struct group gr, *gres = NULL;
    SIZES(getpwnam_r(user, &pw, b, len, &pres), pres && strcmp(pw.pw_name, user) == 0);
    SIZES(getpwuid_r(uid, &pw, b, len, &pres), pres && pw.pw_uid == uid);
    SIZES(getgrnam_r(group, &gr, b, len, &gres), gres && strcmp(gr.gr_name, group) == 0);
    SIZES(getgrgid_r(gid, &gr, b, len, &gres), gres && gr.gr_gid == gid);
    return failures;
}

static int groups(const char *user) {
    uid_t uid;
    struct passwd pw, *pres = NULL;
    char buf[4096];
    if (getpwnam_r(user, &pw, buf, sizeof buf, &pres) != 0 || !pres) {
        FAIL("%s not found", user);
        return 1;
    }
    (void)uid;
    int n = 1;
    gid_t one[1];
    if (getgrouplist(user, pw.pw_gid, one, &n) != -1 || n < 2) {
        FAIL("getgrouplist with room for 1: n=%d", n);
        return 1;
    }
    gid_t *all = calloc(n, sizeof *all);
    int m = n;
    if (getgrouplist(user, pw.pw_gid, all, &m) != n) {
        FAIL("getgrouplist second call: %d != %d", m, n);
    }
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++)
            if (all[i] == all[j])
                FAIL("gid %u twice", (unsigned)all[i]);
    if (all[0] != pw.pw_gid)
        FAIL("primary gid not first");
    for (int i = 0; i < m; i++)
        printf("%u ", (unsigned)all[i]);
    printf("\n");
    free(all);
    return failures;
}

static const char *thread_user;
static volatile int stop_threads;
static uid_t expected_uid;

static void *worker(void *arg) {
    long n = (long)arg;
    for (long i = 0; i < n || (n == 0 && !stop_threads); i++) {
        uid_t uid = 0;
        if (!lookup_user(thread_user, &uid) || uid != expected_uid) {
            FAIL("thread lookup %ld: wrong answer", i);
            break;
        }
        int ng = 64;
        gid_t gs[64];
        if (getgrouplist(thread_user, 12345, gs, &ng) < 1)
            FAIL("thread getgrouplist failed");
    }
    return NULL;
}

static int threads(const char *user, int count) {
    thread_user = user;
    if (!lookup_user(user, &expected_uid)) {
        FAIL("%s not found", user);
        return 1;
    }
    pthread_t t[64];
    if (count > 64)
        count = 64;
    for (int i = 0; i < count; i++)
        pthread_create(&t[i], NULL, worker, (void *)200L);
    for (int i = 0; i < count; i++)
        pthread_join(t[i], NULL);
    return failures;
}

static int forks(const char *user) {
    thread_user = user;
    if (!lookup_user(user, &expected_uid)) {
        FAIL("%s not found", user);
        return 1;
    }
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, worker, (void *)0L);
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            uid_t uid = 0;
            _exit(lookup_user(user, &uid) && uid == expected_uid ? 0 : 1);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            FAIL("child %d: lookup after fork failed (status %d)", i, status);
    }
    stop_threads = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    return failures;
}

static int thread_count(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static int threads_unchanged(const char *user) {
    int before = thread_count();
    struct group gr, *gres = NULL;
    struct passwd pw, *pres = NULL;
    char buf[4096];
    for (int i = 0; i < 10; i++) {
        lookup_user(user, NULL);
        getpwuid_r(10001, &pw, buf, sizeof buf, &pres);
        getgrnam_r("staff", &gr, buf, sizeof buf, &gres);
        int ng = 64;
        gid_t gs[64];
        getgrouplist(user, 12345, gs, &ng);
    }
    int after = thread_count();
    if (after != before)
        FAIL("threads: %d before, %d after", before, after);
    return failures;
}

static int bigroup(const char *name, int members) {
    size_t len = 1024;
    for (;;) {
        char *b = malloc(len);
        struct group gr, *gres = NULL;
        int rc = getgrnam_r(name, &gr, b, len, &gres);
        if (rc == ERANGE) {
            free(b);
            len *= 2;
            continue;
        }
        if (rc != 0 || !gres) {
            FAIL("getgrnam_r(%s): rc %d", name, rc);
            free(b);
            return 1;
        }
        int n = 0;
        while (gr.gr_mem[n])
            n++;
        if (n != members)
            FAIL("%s has %d members, expected %d", name, n, members);
        free(b);
        return failures;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment at the top\n");
        return 2;
    }
    const char *mode = argv[1];
    if (!strcmp(mode, "timed") && (argc == 4 || argc == 5))
        return timed(argv[2], atof(argv[3]), argc == 5 ? atoi(argv[4]) : 5) ? 1 : 0;
    if (!strcmp(mode, "until-found") && argc == 4)
        return until_found(argv[2], atof(argv[3]));
    if (!strcmp(mode, "buffers") && argc == 6)
        return buffers(argv[2], argv[3], (uid_t)atol(argv[4]), (gid_t)atol(argv[5])) ? 1 : 0;
    if (!strcmp(mode, "groups"))
        return groups(argv[2]) ? 1 : 0;
    if (!strcmp(mode, "threads") && argc == 4)
        return threads(argv[2], atoi(argv[3])) ? 1 : 0;
    if (!strcmp(mode, "fork"))
        return forks(argv[2]) ? 1 : 0;
    if (!strcmp(mode, "threads-unchanged"))
        return threads_unchanged(argv[2]) ? 1 : 0;
    if (!strcmp(mode, "bigroup") && argc == 4)
        return bigroup(argv[2], atoi(argv[3])) ? 1 : 0;
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
