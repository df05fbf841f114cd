/* A setuid-root helper as a site might write one: it opens the default resolver
 * (proxid_resolver_open(NULL): PROXID_CONF, else /etc/proxid.conf) and asks whether
 * argv[1] may act as argv[2]. tests/c_abi.rs makes it setuid root and runs it as an
 * unprivileged user with PROXID_CONF pointing at a file granting that user
 * everything, and KRB5_CONFIG at a krb5.conf naming its own default realm: both
 * variables must be ignored (AT_SECURE, secure_getenv).
 * Linked statically: the dynamic linker ignores LD_LIBRARY_PATH and $ORIGIN rpaths
 * of setuid programs. Prints "VERDICT reason", then "SHORT name" or "SHORT_ERROR"
 * for alice@EVIL.REALM. */
#include <stdio.h>

#include <proxid.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: setuid_authorize PROXY USER\n");
        return 2;
    }
    proxid_resolver *r = NULL;
    proxid_decision *d = NULL;
    proxid_error *err = NULL;
    if (proxid_resolver_open(NULL, &r, &err) != PROXID_OK ||
        proxid_authorize(r, argv[1], argv[2], "127.0.0.1", &d, &err) != PROXID_OK) {
        printf("ERROR %s\n", err ? proxid_error_message(err) : "?");
        proxid_error_free(err);
        proxid_resolver_free(r);
        return 0;
    }
    printf("%s %s\n", proxid_decision_verdict(d) == PROXID_ALLOWED ? "ALLOWED" : "NOT_ALLOWED",
           proxid_decision_reason(d));
    proxid_decision_free(d);
    /* DEFAULT maps alice@R to alice only when R is the default realm (KRB5_CONFIG's). */
    char *short_name = NULL;
    if (proxid_short_name(r, "alice@EVIL.REALM", &short_name, NULL) == PROXID_OK)
        printf("SHORT %s\n", short_name);
    else
        printf("SHORT_ERROR\n");
    proxid_string_free(short_name);
    proxid_resolver_free(r);
    return 0;
}
