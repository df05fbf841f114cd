/* The README's example: resolve the users named on the command line, print them
 * like id(1). Build against an installed proxid:
 *   cc -Wall -Wextra -Werror example.c $(pkg-config --cflags --libs proxid) -o example */
#include <stdio.h>

#include <proxid.h>

int main(int argc, char **argv) {
    proxid_resolver *resolver = NULL;
    proxid_error *err = NULL;
    if (proxid_resolver_open(NULL, &resolver, &err) != PROXID_OK) {
        fprintf(stderr, "proxid: %s\n", proxid_error_message(err));
        proxid_error_free(err);
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        proxid_identity *id = NULL;
        proxid_status s = proxid_resolve(resolver, argv[i], &id, &err);
        if (s != PROXID_OK) {
            fprintf(stderr, "proxid: %s: %s\n", proxid_status_name(s), proxid_error_message(err));
            proxid_error_free(err);
            err = NULL;
            status = 1;
            continue;
        }
        printf("uid=%u(%s) gid=%u groups=", proxid_identity_uid(id), proxid_identity_name(id),
               proxid_identity_gid(id));
        for (size_t g = 0; g < proxid_identity_group_count(id); g++)
            printf("%s%u(%s)", g ? "," : "", proxid_identity_group_gid(id, g),
                   proxid_identity_group_name(id, g));
        printf("\n");
        proxid_identity_free(id);
    }
    proxid_resolver_free(resolver);
    return status;
}
