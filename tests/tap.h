/*
 * Minimal TAP producer for unit tests, read by automake's tap-driver.sh.
 * Include it in exactly one file per test program. Each check prints one
 * "ok N - name" or "not ok N - name" line; failures add a "# " diagnostic.
 */
#ifndef WL_TAP_H
#define WL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline void tap_plan(int n)
{
    printf("1..%d\n", n);
}

/* Prints the plan for the checks made so far; call last when no plan. */
static inline int tap_done(void)
{
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}

static inline void tap_skip_all(const char *reason)
{
    printf("1..0 # SKIP %s\n", reason);
    exit(0);
}

static inline void tap_skip(const char *reason)
{
    printf("ok %d # SKIP %s\n", ++tap_count, reason);
}

static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;

    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static inline int tap_ok(int pass, const char *fmt, ...)
{
    va_list ap;

    printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!pass)
        tap_failed++;
    fflush(stdout);
    return pass;
}

#define ok(cond, ...) tap_ok((cond) ? 1 : 0, __VA_ARGS__)

#define is_int(got, expected, ...)                                             \
    do {                                                                       \
        long long tap_g_ = (long long)(got), tap_e_ = (long long)(expected);   \
        if (!tap_ok(tap_g_ == tap_e_, __VA_ARGS__))                            \
            tap_diag("got %lld, expected %lld", tap_g_, tap_e_);               \
    } while (0)

#define is_str(got, expected, ...)                                             \
    do {                                                                       \
        const char *tap_g_ = (got), *tap_e_ = (expected);                      \
        int tap_p_ = (tap_g_ == NULL && tap_e_ == NULL) ||                     \
                     (tap_g_ && tap_e_ && strcmp(tap_g_, tap_e_) == 0);        \
        if (!tap_ok(tap_p_, __VA_ARGS__))                                      \
            tap_diag("got \"%s\", expected \"%s\"",                            \
                     tap_g_ ? tap_g_ : "(null)", tap_e_ ? tap_e_ : "(null)");  \
    } while (0)

#endif
