#include "config.h"

#include "rules/rule.h"
#include "rules/cond.h"

#include <stdlib.h>
#include <string.h>

/* Returns the value subject names in ev, or NULL when the event has none. */
const char *wl_cond_subject(const struct wl_cond *c, const struct wl_event *ev,
                            size_t *len)
{
    const char *s = NULL;

    switch (c->subject) {
    case WL_SUBJECT_LOG:
        /* The text after a syslog header; full_log when there is none. */
        if (ev->log != NULL) {
            *len = ev->log_len;
            return ev->log;
        }
        *len = ev->full_log_len;
        return ev->full_log;
    case WL_SUBJECT_FIELD: {
        const struct wl_field *f = wl_event_field_by_slot(ev, c->index);

        if (f == NULL)
            return NULL;
        *len = f->value_len;
        return f->value;
    }
    case WL_SUBJECT_STATIC:
        s = ev->static_fields[c->index];
        break;
    case WL_SUBJECT_USER:
        s = ev->static_fields[WL_SF_DSTUSER];
        if (s == NULL)
            s = ev->static_fields[WL_SF_SRCUSER];
        break;
    case WL_SUBJECT_SRCUSER_FIRST:
        s = ev->static_fields[WL_SF_SRCUSER];
        if (s == NULL)
            s = ev->static_fields[WL_SF_DSTUSER];
        break;
    case WL_SUBJECT_PROGRAM_NAME:
        s = ev->program_name;
        break;
    case WL_SUBJECT_LOCATION:
        s = ev->location;
        break;
    case WL_SUBJECT_HOSTNAME:
        /*
         * NOTE: analysisd tests its event host name, which for agent
         * events is taken to be the location; local events use the
         * predecoded host (agent_name).
         */
        s = ev->agent_id != NULL && strcmp(ev->agent_id, "000") == 0
                ? ev->agent_name
                : ev->location;
        break;
    case WL_SUBJECT_NONE:
        return NULL;
    }
    if (s != NULL)
        *len = strlen(s);
    return s;
}

static int match_pattern(const struct wl_cond *c, const struct wl_event *ev,
                         struct wl_pattern_scratch *ps)
{
    size_t len = 0;
    const char *s = wl_cond_subject(c, ev, &len);

    /* A missing value fails, whatever the negation. */
    if (s == NULL)
        return 0;
    return wl_pattern_match(c->pattern, s, len, ps);
}

static int match_exact(const struct wl_cond *c, const struct wl_event *ev,
                       struct wl_pattern_scratch *ps)
{
    size_t len = 0;
    const char *s = wl_cond_subject(c, ev, &len);

    (void)ps;
    if (s == NULL)
        return 0;
    return (strcmp(s, c->text) == 0) != c->negate;
}

static int match_decoded_as(const struct wl_cond *c, const struct wl_event *ev,
                            struct wl_pattern_scratch *ps)
{
    (void)ps;
    return ev->decoder_name != NULL && strcmp(ev->decoder_name, c->text) == 0;
}

static int match_maxsize(const struct wl_cond *c, const struct wl_event *ev,
                         struct wl_pattern_scratch *ps)
{
    size_t len = ev->log != NULL ? ev->log_len : ev->full_log_len;

    (void)ps;
    return ev->full_log != NULL && len >= c->number;
}

static int match_never(const struct wl_cond *c, const struct wl_event *ev,
                       struct wl_pattern_scratch *ps)
{
    (void)c;
    (void)ev;
    (void)ps;
    return 0;
}

static void free_common(struct wl_cond *c)
{
    wl_pattern_free(c->pattern);
    free(c->text);
    c->pattern = NULL;
    c->text = NULL;
}

void wl_cond_init_pattern(struct wl_cond *c, struct wl_pattern *p)
{
    c->match = match_pattern;
    c->free = free_common;
    c->pattern = p;
}

void wl_cond_init_exact(struct wl_cond *c, char *text, int negate)
{
    c->match = match_exact;
    c->free = free_common;
    c->text = text;
    c->negate = negate;
}

void wl_cond_init_decoded_as(struct wl_cond *c, char *name)
{
    c->match = match_decoded_as;
    c->free = free_common;
    c->text = name;
    c->rank = WL_RANK_DECODED_AS;
}

void wl_cond_init_maxsize(struct wl_cond *c, size_t size)
{
    c->match = match_maxsize;
    c->free = free_common;
    c->number = size;
    c->rank = WL_RANK_MAXSIZE;
}

void wl_cond_init_never(struct wl_cond *c)
{
    c->match = match_never;
    c->free = free_common;
    c->rank = WL_RANK_NEVER;
}

int wl_rule_conds_match(const struct wl_rule *r, const struct wl_event *ev,
                        struct wl_pattern_scratch *ps)
{
    for (size_t i = 0; i < r->cond_count; i++) {
        const struct wl_cond *c = &r->conds[i];

        if (!c->match(c, ev, ps))
            return 0;
    }
    return 1;
}

void wl_rule_conds_free(struct wl_rule *r)
{
    for (size_t i = 0; i < r->cond_count; i++) {
        if (r->conds[i].free != NULL)
            r->conds[i].free(&r->conds[i]);
    }
    free(r->conds);
    r->conds = NULL;
    r->cond_count = 0;
}
