/* Drives libpam with pam_proxid.so, for valgrind: one full login (authenticate,
 * account, setcred, session, chauthtok) per user given, in one process, then a
 * fork that logs in again in the child.
 *
 *   pam_driver CONFDIR SERVICE USER PASSWORD [USER PASSWORD]...
 *
 * CONFDIR holds the service file (pam_start_confdir: the host's /etc/pam.d is not
 * used). Prints one line per step: "USER step CODE". Exit 0 when every step ran. */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int answer(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
    const char *password = data;
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (r == NULL)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF) {
            r[i].resp = strdup(password);
        } else if (msg[i]->msg_style == PAM_ERROR_MSG || msg[i]->msg_style == PAM_TEXT_INFO) {
            fprintf(stderr, "message: %s\n", msg[i]->msg);
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

static int login(const char *confdir, const char *service, const char *user, const char *password) {
    struct pam_conv conv = {answer, (void *)password};
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(service, user, &conv, confdir, &pamh);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "pam_start_confdir: %d\n", rc);
        return 1;
    }
    rc = pam_authenticate(pamh, 0);
    printf("%s authenticate %d\n", user, rc);
    rc = pam_acct_mgmt(pamh, 0);
    printf("%s account %d\n", user, rc);
    rc = pam_setcred(pamh, PAM_ESTABLISH_CRED);
    printf("%s setcred %d\n", user, rc);
    rc = pam_open_session(pamh, 0);
    printf("%s open_session %d\n", user, rc);
    rc = pam_close_session(pamh, 0);
    printf("%s close_session %d\n", user, rc);
    rc = pam_chauthtok(pamh, PAM_CHANGE_EXPIRED_AUTHTOK);
    printf("%s chauthtok %d\n", user, rc);
    pam_end(pamh, rc);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 5 || (argc - 3) % 2 != 0) {
        fprintf(stderr, "usage: pam_driver CONFDIR SERVICE USER PASSWORD [USER PASSWORD]...\n");
        return 2;
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (login(argv[1], argv[2], argv[i], argv[i + 1]) != 0)
            return 1;
    }
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        int rc = login(argv[1], argv[2], argv[3], argv[4]);
        fflush(stdout);
        _exit(rc);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        return 1;
    return 0;
}
