/* PCRE2 compilation with JIT, and matching with per-thread match data. */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/error.h"
#include "daemon/log.h"
#include "rules/pattern_pcre2.h"

struct wl_pcre2 {
    pcre2_code *code;
    /* Limits without a JIT stack, for matches made without scratch. */
    pcre2_match_context *context;
    int jit;
    char *source;
};

/* Per-thread state: reusable match data and a JIT stack. */
struct wl_pattern_scratch {
    pcre2_match_data *match_data;
    pcre2_match_context *context;
    pcre2_jit_stack *jit_stack;
};

static atomic_ulong match_errors;

static pcre2_match_context *new_limited_context(void)
{
    pcre2_match_context *context = pcre2_match_context_create(NULL);

    if (context == NULL)
        return NULL;
    pcre2_set_match_limit(context, WL_PCRE2_MATCH_LIMIT);
    pcre2_set_depth_limit(context, WL_PCRE2_DEPTH_LIMIT);
    return context;
}

static int jit_disabled(void)
{
    const char *v = getenv("WL_PCRE2_NO_JIT");

    return v != NULL && v[0] != '\0';
}

int wl_pcre2_compile(const char *pattern, struct wl_pcre2 **out, char *reason,
                     size_t reason_size, size_t *offset)
{
    struct wl_pcre2 *p = NULL;
    int code = 0, r = WL_ENOMEM;
    PCRE2_SIZE error_offset = 0;

    *out = NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        goto out;
    p->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
                            &code, &error_offset, NULL);
    if (p->code == NULL) {
        if (code == PCRE2_ERROR_NOMEMORY)
            goto out;
        pcre2_get_error_message(code, (PCRE2_UCHAR *)reason, reason_size);
        *offset = error_offset;
        r = WL_EINVAL;
        goto out;
    }
    if (!jit_disabled()) {
        int rc = pcre2_jit_compile(p->code, PCRE2_JIT_COMPLETE);

        if (rc == 0) {
            p->jit = 1;
        } else {
            char text[128];

            pcre2_get_error_message(rc, (PCRE2_UCHAR *)text, sizeof(text));
            wl_log_limited(WL_LOG_WARN, "pcre2-jit",
                           "PCRE2 JIT compilation failed (%s); matching "
                           "with the slower interpreter",
                           text);
        }
    }
    p->context = new_limited_context();
    p->source = strdup(pattern);
    if (p->context == NULL || p->source == NULL)
        goto out;
    *out = p;
    p = NULL;
    r = 0;
out:
    wl_pcre2_free(p);
    return r;
}

void wl_pcre2_free(struct wl_pcre2 *p)
{
    if (p == NULL)
        return;
    pcre2_code_free(p->code);
    pcre2_match_context_free(p->context);
    free(p->source);
    free(p);
}

int wl_pcre2_uses_jit(const struct wl_pcre2 *p)
{
    return p->jit;
}

int wl_pcre2_jit_available(void)
{
    uint32_t jit = 0;

    return pcre2_config(PCRE2_CONFIG_JIT, &jit) >= 0 && jit == 1;
}

struct wl_pattern_scratch *wl_pattern_scratch_new(void)
{
    struct wl_pattern_scratch *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->match_data = pcre2_match_data_create(WL_PATTERN_MAX_CAPTURES + 1, NULL);
    s->context = new_limited_context();
    s->jit_stack =
        pcre2_jit_stack_create(32 * 1024, WL_PCRE2_JIT_STACK_MAX, NULL);
    if (s->match_data == NULL || s->context == NULL || s->jit_stack == NULL) {
        wl_pattern_scratch_free(s);
        return NULL;
    }
    pcre2_jit_stack_assign(s->context, NULL, s->jit_stack);
    return s;
}

void wl_pattern_scratch_free(struct wl_pattern_scratch *s)
{
    if (s == NULL)
        return;
    pcre2_match_data_free(s->match_data);
    pcre2_match_context_free(s->context);
    pcre2_jit_stack_free(s->jit_stack);
    free(s);
}

unsigned long wl_pcre2_match_errors(void)
{
    return atomic_load(&match_errors);
}

static void report_match_error(const struct wl_pcre2 *p, int rc)
{
    char text[128];

    atomic_fetch_add(&match_errors, 1);
    pcre2_get_error_message(rc, (PCRE2_UCHAR *)text, sizeof(text));
    wl_log_limited(WL_LOG_WARN, "pcre2-match",
                   "PCRE2 pattern \"%.200s\" failed to match (%s); "
                   "counted as no match",
                   p->source, text);
}

/* Stores groups 1 to pairs - 1 of the ovector as captures. */
static int store_captures(pcre2_match_data *md, int pairs,
                          struct wl_capture *captures, int max_captures)
{
    const PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(md);
    int n = 0;

    if (captures == NULL)
        return 0;
    for (int i = 1; i < pairs && n < max_captures; i++, n++) {
        if (ovector[2 * i] == PCRE2_UNSET) {
            captures[n].start = -1;
            captures[n].end = -1;
        } else {
            captures[n].start = (long)ovector[2 * i];
            captures[n].end = (long)ovector[2 * i + 1];
        }
    }
    return n;
}

int wl_pcre2_exec(const struct wl_pcre2 *p, const char *subject, size_t len,
                  struct wl_pattern_scratch *s, struct wl_capture *captures,
                  int max_captures, long *end)
{
    pcre2_match_data *md;
    pcre2_match_context *context = p->context;
    int rc, pairs, n = -1;

    if (s != NULL) {
        md = s->match_data;
        context = s->context;
    } else {
        md = pcre2_match_data_create_from_pattern(p->code, NULL);
        if (md == NULL) {
            report_match_error(p, PCRE2_ERROR_NOMEMORY);
            return -1;
        }
    }
    /* Wazuh passes strlen() of the value. */
    len = strnlen(subject, len);
    rc = pcre2_match(p->code, (PCRE2_SPTR)subject, len, 0, 0, md, context);
    if (rc == PCRE2_ERROR_NOMATCH)
        goto out;
    if (rc < 0) {
        report_match_error(p, rc);
        goto out;
    }
    /* 0: the pattern has more groups than the match data has room for. */
    pairs = rc > 0 ? rc : (int)pcre2_get_ovector_count(md);
    *end = (long)pcre2_get_ovector_pointer(md)[1] - 1;
    n = store_captures(md, pairs, captures, max_captures);
out:
    if (s == NULL)
        pcre2_match_data_free(md);
    return n;
}
