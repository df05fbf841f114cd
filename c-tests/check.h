/* Tiny assertion helpers shared by the C tests. A failed check prints where and
 * why and counts; the program exits non-zero at the end when any check failed, so
 * one run reports every problem, not just the first. */
#ifndef PROXID_CHECK_H
#define PROXID_CHECK_H

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "proxid.h"

static atomic_int check_failures;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            atomic_fetch_add(&check_failures, 1);                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,  \
                    #cond);                                                   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

/* A pointer value no call may write: out-parameters start with it, and must still
 * hold it after a failed call. */
#define UNTOUCHED ((void *)(uintptr_t)0x5e1f)

static inline int str_eq(const char *a, const char *b) {
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static inline const char *show(const char *s) { return s != NULL ? s : "(null)"; }

/* Checks that a call returned `want`; that a failure stored an error object saying
 * the same, with a message; and that a success left `*err` alone. Frees the error. */
static inline void expect_status_at(const char *file, int line, const char *what,
                                    proxid_status got, proxid_status want,
                                    proxid_error *err) {
    if (got != want) {
        atomic_fetch_add(&check_failures, 1);
        fprintf(stderr, "%s:%d: %s: got %s, want %s (%s)\n", file, line, what,
                proxid_status_name(got), proxid_status_name(want),
                err != UNTOUCHED ? show(proxid_error_message(err)) : "no error object");
    }
    if (got == PROXID_OK) {
        if (err != UNTOUCHED) {
            atomic_fetch_add(&check_failures, 1);
            fprintf(stderr, "%s:%d: %s: success wrote *err\n", file, line, what);
        }
        return;
    }
    if (err == UNTOUCHED || err == NULL || proxid_error_status(err) != got ||
        proxid_error_message(err) == NULL || proxid_error_message(err)[0] == '\0') {
        atomic_fetch_add(&check_failures, 1);
        fprintf(stderr, "%s:%d: %s: error object missing or wrong\n", file, line, what);
        return;
    }
    proxid_error_free(err);
}

/* Runs `call` (which may store an error in `errvar`) and checks its status. */
#define EXPECT_STATUS(what, want, errvar, call)                               \
    do {                                                                      \
        errvar = UNTOUCHED;                                                   \
        proxid_status got_ = (call);                                          \
        expect_status_at(__FILE__, __LINE__, what, got_, want, errvar);       \
    } while (0)

/* Runs a proxid_getgrouplist size probe: PROXID_BUFFER_TOO_SMALL with `*err` left
 * alone (no error object is made for it). */
#define EXPECT_PROBE(what, errvar, call)                                      \
    do {                                                                      \
        errvar = UNTOUCHED;                                                   \
        proxid_status got_ = (call);                                          \
        CHECK(got_ == PROXID_BUFFER_TOO_SMALL, "%s: got %s", what,            \
              proxid_status_name(got_));                                      \
        CHECK(errvar == UNTOUCHED, "%s: a size probe wrote *err", what);      \
    } while (0)

#endif
