/* One compiled type over the three pattern languages of Wazuh rules. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/error.h"
#include "rules/osmatch.h"
#include "rules/osregex.h"
#include "rules/pattern.h"
#include "rules/pattern_pcre2.h"

/* Maximum length of a pattern quoted in an error message, in bytes. */
#define QUOTE_MAX 200

struct wl_pattern {
    enum wl_pattern_type type;
    int negate;
    union {
        struct wl_osmatch *osmatch;
        struct wl_osregex *osregex;
        struct wl_pcre2 *pcre2;
    } u;
};

static const char *language_name(enum wl_pattern_type type)
{
    switch (type) {
    case WL_PATTERN_OSMATCH:
        return "OS_Match";
    case WL_PATTERN_OSREGEX:
        return "OS_Regex";
    case WL_PATTERN_PCRE2:
        return "PCRE2";
    }
    return "unknown";
}

static void format_error(char *err, size_t err_size, enum wl_pattern_type type,
                         const char *pattern, const char *reason, size_t offset)
{
    size_t len = strlen(pattern);
    int quoted_len = len > QUOTE_MAX ? QUOTE_MAX : (int)len;

    if (err == NULL || err_size == 0)
        return;
    snprintf(err, err_size, "invalid %s pattern \"%.*s%s\": %s at offset %zu",
             language_name(type), quoted_len, pattern,
             len > QUOTE_MAX ? "..." : "", reason, offset);
}

static int compile_language(struct wl_pattern *p, const char *pattern,
                            char *err, size_t err_size)
{
    const char *reason = "out of memory";
    char pcre2_reason[160];
    size_t offset = 0;
    int r = WL_EINVAL;

    switch (p->type) {
    case WL_PATTERN_OSMATCH:
        r = wl_osmatch_compile(pattern, &p->u.osmatch, &reason, &offset);
        break;
    case WL_PATTERN_OSREGEX:
        r = wl_osregex_compile(pattern, &p->u.osregex, &reason, &offset);
        break;
    case WL_PATTERN_PCRE2:
        r = wl_pcre2_compile(pattern, &p->u.pcre2, pcre2_reason,
                             sizeof(pcre2_reason), &offset);
        if (r == WL_EINVAL)
            reason = pcre2_reason;
        break;
    default:
        reason = "unknown pattern type";
        break;
    }
    if (r != 0)
        format_error(err, err_size, p->type, pattern, reason, offset);
    return r;
}

int wl_pattern_compile(enum wl_pattern_type type, const char *pattern,
                       int negate, struct wl_pattern **out, char *err,
                       size_t err_size)
{
    struct wl_pattern *p;
    int r;

    *out = NULL;
    if (pattern == NULL) {
        if (err != NULL && err_size > 0)
            snprintf(err, err_size, "missing %s pattern", language_name(type));
        return WL_EINVAL;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL) {
        format_error(err, err_size, type, pattern, "out of memory", 0);
        return WL_ENOMEM;
    }
    p->type = type;
    p->negate = negate ? 1 : 0;
    r = compile_language(p, pattern, err, err_size);
    if (r != 0) {
        wl_pattern_free(p);
        return r;
    }
    *out = p;
    return 0;
}

void wl_pattern_free(struct wl_pattern *p)
{
    if (p == NULL)
        return;
    switch (p->type) {
    case WL_PATTERN_OSMATCH:
        wl_osmatch_free(p->u.osmatch);
        break;
    case WL_PATTERN_OSREGEX:
        wl_osregex_free(p->u.osregex);
        break;
    case WL_PATTERN_PCRE2:
        wl_pcre2_free(p->u.pcre2);
        break;
    }
    free(p);
}

/* Runs the pattern without the negate flag; returns as wl_pattern_exec. */
static int run(const struct wl_pattern *p, const char *subject, size_t len,
               struct wl_pattern_scratch *s, struct wl_capture *captures,
               int max_captures, long *end)
{
    switch (p->type) {
    case WL_PATTERN_OSMATCH:
        return wl_osmatch_match(p->u.osmatch, subject, strnlen(subject, len))
                   ? 0
                   : -1;
    case WL_PATTERN_OSREGEX:
        return wl_osregex_exec(p->u.osregex, subject, captures, max_captures,
                               end);
    case WL_PATTERN_PCRE2:
        return wl_pcre2_exec(p->u.pcre2, subject, len, s, captures,
                             max_captures, end);
    }
    return -1;
}

int wl_pattern_match(const struct wl_pattern *p, const char *subject,
                     size_t len, struct wl_pattern_scratch *s)
{
    long end;
    int matched;

    if (subject == NULL)
        return 0;
    matched = run(p, subject, len, s, NULL, 0, &end) >= 0;
    return p->negate ? !matched : matched;
}

int wl_pattern_exec(const struct wl_pattern *p, const char *subject, size_t len,
                    struct wl_pattern_scratch *s, struct wl_capture *captures,
                    int max_captures, size_t *end)
{
    long stop = 0;
    int n;

    if (subject == NULL)
        return -1;
    n = run(p, subject, len, s, captures, max_captures, &stop);

    if (n >= 0 && p->type != WL_PATTERN_OSMATCH && end != NULL)
        *end = stop < 0 ? SIZE_MAX : (size_t)stop;
    return n;
}

int wl_pattern_group_contains(const char *group_string, const char *if_group)
{
    return wl_osmatch_word_match(if_group, group_string);
}

unsigned long wl_pattern_match_errors(void)
{
    return wl_pcre2_match_errors();
}
