/* proxid_admit and proxid_admit_json from C: every combination of what the client
 * sends for the proxy and for the user (name only, matching IDs, wrong IDs) against
 * a server with server_side off, on, and require_server_side, plus bad arguments.
 *
 *   test_admit PLAIN.conf LENIENT.conf STRICT.conf PROXY USER
 *
 * Each configuration lets PROXY act as USER from any host; the three differ only in
 * [resolution]. The names are accounts of this machine (client-side resolution). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proxid.h"

enum sent { NAME, IDS, WRONG };
enum server { PLAIN, LENIENT, STRICT };
static const char *const sent_names[] = {"name", "ids", "wrong-ids"};

/* One side of a request, with the storage its pointers need. */
struct side {
    proxid_assertion a;
    uint32_t uid;
    uint32_t gids[1024];
};

static void fill(struct side *s, const proxid_identity *id, enum sent how) {
    memset(s, 0, sizeof *s);
    s->a.name = proxid_identity_name(id);
    if (how == NAME)
        return;
    size_t n = proxid_identity_group_count(id);
    if (n > 1000)
        n = 1000;
    for (size_t i = 0; i < n; i++)
        s->gids[i] = proxid_identity_group_gid(id, i);
    s->uid = proxid_identity_uid(id);
    if (how == WRONG) {
        s->uid += 1;
        s->gids[n++] = 4000000;
    }
    s->a.uid = &s->uid;
    s->a.gids = s->gids;
    s->a.ngids = n;
}

static int mismatched(enum server server, enum sent s) {
    return (server == PLAIN && s == NAME) || (server == STRICT && s != NAME);
}

static proxid_status expected(enum server server, enum sent p, enum sent u) {
    if (mismatched(server, p) || mismatched(server, u))
        return PROXID_MODE_MISMATCH;
    if (p == WRONG || u == WRONG)
        return PROXID_IDENTITY_MISMATCH;
    return PROXID_OK;
}

static int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

static void matrix(proxid_resolver *r, enum server server, const proxid_identity *proxy,
                   const proxid_identity *user) {
    for (int p = NAME; p <= WRONG; p++) {
        for (int u = NAME; u <= WRONG; u++) {
            struct side ps, us;
            fill(&ps, proxy, (enum sent)p);
            fill(&us, user, (enum sent)u);
            proxid_admit_request req = {ps.a, us.a, "10.0.0.7"};
            proxid_decision *d = UNTOUCHED;
            proxid_error *err = NULL;
            proxid_status want = expected(server, (enum sent)p, (enum sent)u);
            proxid_status got = proxid_admit(r, &req, &d, &err);
            CHECK(got == want, "server %d proxy %s user %s: got %s, want %s (%s)", server,
                  sent_names[p], sent_names[u], proxid_status_name(got), proxid_status_name(want),
                  show(proxid_error_message(err)));
            if (got == PROXID_OK) {
                CHECK(proxid_decision_verdict(d) == PROXID_ALLOWED, "verdict");
                CHECK(str_eq(proxid_decision_effective_user(d), proxid_identity_name(user)),
                      "effective user");
                const proxid_identity *eff = proxid_decision_effective_identity(d);
                CHECK(proxid_identity_uid(eff) == proxid_identity_uid(user), "effective uid");
                CHECK(proxid_identity_gid(eff) == proxid_identity_gid(user), "effective gid");
                proxid_decision_free(d);
                continue;
            }
            CHECK(d == UNTOUCHED, "a failed call wrote *out");
            CHECK(proxid_error_status(err) == got, "error object status");
            const char *msg = proxid_error_message(err);
            char whose[600];
            const proxid_identity *ids[2] = {proxy, user};
            const int sent[2] = {p, u};
            for (int i = 0; i < 2; i++) {
                const char *role = i == 0 ? "proxy" : "user";
                int named;
                if (got == PROXID_MODE_MISMATCH) {
                    snprintf(whose, sizeof whose, "%s \"%s\"", role, proxid_identity_name(ids[i]));
                    named = mismatched(server, (enum sent)sent[i]);
                } else {
                    snprintf(whose, sizeof whose, "%s %s: uid: client %u, server %u", role,
                             proxid_identity_name(ids[i]), proxid_identity_uid(ids[i]) + 1,
                             proxid_identity_uid(ids[i]));
                    named = sent[i] == WRONG;
                }
                CHECK(contains(msg, whose) == named, "%s %s named? %s", role, whose, show(msg));
            }
            proxid_error_free(err);
        }
    }
}

static void bad_arguments(proxid_resolver *r, const proxid_identity *proxy,
                          const proxid_identity *user) {
    struct side ps, us;
    fill(&ps, proxy, IDS);
    fill(&us, user, IDS);
    proxid_admit_request good = {ps.a, us.a, "10.0.0.7"};
    proxid_decision *d = UNTOUCHED;
    proxid_error *err;
    EXPECT_STATUS("NULL resolver", PROXID_INVALID_ARGUMENT, err, proxid_admit(NULL, &good, &d, &err));
    EXPECT_STATUS("NULL request", PROXID_INVALID_ARGUMENT, err, proxid_admit(r, NULL, &d, &err));
    EXPECT_STATUS("NULL out", PROXID_INVALID_ARGUMENT, err, proxid_admit(r, &good, NULL, &err));
    proxid_admit_request bad = good;
    bad.host = NULL;
    EXPECT_STATUS("NULL host", PROXID_INVALID_ARGUMENT, err, proxid_admit(r, &bad, &d, &err));
    bad = good;
    bad.proxy.name = NULL;
    EXPECT_STATUS("NULL proxy name", PROXID_INVALID_ARGUMENT, err, proxid_admit(r, &bad, &d, &err));
    bad = good;
    bad.user.name = "\xff";
    EXPECT_STATUS("non-UTF-8 user", PROXID_INVALID_ARGUMENT, err, proxid_admit(r, &bad, &d, &err));
    bad = good;
    bad.user.gids = NULL;
    EXPECT_STATUS("gids NULL, ngids > 0", PROXID_INVALID_ARGUMENT, err,
                  proxid_admit(r, &bad, &d, &err));
    bad.user.ngids = 0;
    EXPECT_STATUS("uid without gids", PROXID_INVALID_ARGUMENT, err,
                  proxid_admit(r, &bad, &d, &err));
    bad = good;
    bad.user.ngids = 0;
    EXPECT_STATUS("empty gids", PROXID_INVALID_ARGUMENT, err, proxid_admit(r, &bad, &d, &err));
    bad = good;
    bad.host = "*";
    EXPECT_STATUS("bad host", PROXID_INVALID_ARGUMENT, err, proxid_admit(r, &bad, &d, &err));
    bad = good;
    bad.user.name = "no-such-user-pxadm"; /* with IDs: this server takes only those */
    EXPECT_STATUS("unknown user", PROXID_NOT_FOUND, err, proxid_admit(r, &bad, &d, &err));
    CHECK(d == UNTOUCHED, "failed calls wrote *out");
    /* Zeroed memory is a request with no names, never a decision. */
    proxid_admit_request zero;
    memset(&zero, 0, sizeof zero);
    EXPECT_STATUS("zeroed request", PROXID_INVALID_ARGUMENT, err, proxid_admit(r, &zero, &d, &err));

    EXPECT_STATUS("json NULL", PROXID_INVALID_ARGUMENT, err, proxid_admit_json(r, NULL, &d, &err));
    EXPECT_STATUS("json bad", PROXID_INVALID_ARGUMENT, err, proxid_admit_json(r, "{oops", &d, &err));
    EXPECT_STATUS("json unknown field", PROXID_INVALID_ARGUMENT, err,
                  proxid_admit_json(r, "{\"proxy\":{\"name\":\"a\"},\"user\":{\"name\":\"b\"},"
                                       "\"host\":\"::1\",\"extra\":1}",
                                    &d, &err));
}

/* The wire path: the client's proxid_assert output, passed on as JSON. */
static void json_request(proxid_resolver *r, const proxid_identity *proxy,
                         const proxid_identity *user) {
    char *pa = NULL, *ua = NULL;
    proxid_error *err = NULL;
    CHECK(proxid_assert(r, proxid_identity_name(proxy), &pa, &err) == PROXID_OK, "assert proxy");
    CHECK(proxid_assert(r, proxid_identity_name(user), &ua, &err) == PROXID_OK, "assert user");
    if (pa == NULL || ua == NULL)
        return;
    size_t n = strlen(pa) + strlen(ua) + 64;
    char *json = malloc(n);
    snprintf(json, n, "{\"proxy\":%s,\"user\":%s,\"host\":\"10.0.0.7\"}", pa, ua);
    proxid_decision *d = NULL;
    proxid_status s = proxid_admit_json(r, json, &d, &err);
    CHECK(s == PROXID_OK, "admit_json: %s", show(proxid_error_message(err)));
    if (s == PROXID_OK) {
        CHECK(proxid_decision_verdict(d) == PROXID_ALLOWED, "admit_json verdict");
        proxid_decision_free(d);
    } else {
        proxid_error_free(err);
    }
    free(json);
    proxid_string_free(pa);
    proxid_string_free(ua);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s PLAIN.conf LENIENT.conf STRICT.conf PROXY USER\n", argv[0]);
        return 2;
    }
    for (int server = PLAIN; server <= STRICT; server++) {
        proxid_resolver *r = NULL;
        proxid_error *err = NULL;
        if (proxid_resolver_open(argv[1 + server], &r, &err) != PROXID_OK) {
            fprintf(stderr, "open %s: %s\n", argv[1 + server], show(proxid_error_message(err)));
            return 1;
        }
        proxid_identity *proxy = NULL, *user = NULL;
        CHECK(proxid_resolve(r, argv[4], &proxy, NULL) == PROXID_OK, "resolve %s", argv[4]);
        CHECK(proxid_resolve(r, argv[5], &user, NULL) == PROXID_OK, "resolve %s", argv[5]);
        if (proxy != NULL && user != NULL) {
            matrix(r, (enum server)server, proxy, user);
            if (server == PLAIN) {
                bad_arguments(r, proxy, user);
                json_request(r, proxy, user);
            }
        }
        proxid_identity_free(proxy);
        proxid_identity_free(user);
        proxid_resolver_free(r);
    }
    int failures = atomic_load(&check_failures);
    printf("%s: 27 admissions, %d failures\n", argv[0], failures);
    return failures == 0 ? 0 : 1;
}
