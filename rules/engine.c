#include "config.h"

#include "rules/engine.h"
#include "rules/alert.h"
#include "rules/rule.h"
#include "daemon/error.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct wl_engine {
    struct wl_decoders *decoders;
    struct wl_fieldnames *names;
    struct wl_ruleset *rules;
    int logall;
    char manager_name[256];
    atomic_ulong alerts; /* second half of the alert ids */
};

struct wl_engine_worker {
    struct wl_engine *engine;
    struct wl_decode_scratch *decode;
    struct wl_rule_scratch *match;
    struct wl_event event;
    struct wl_decode_stats stats;
};

int wl_engine_new(const struct wl_engine_options *opts, struct wl_engine **out,
                  char *err, size_t err_size)
{
    struct wl_engine *e = calloc(1, sizeof(*e));
    int rc;

    if (e == NULL)
        return WL_ENOMEM;
    e->logall = opts->logall;
    if (opts->manager_name != NULL)
        snprintf(e->manager_name, sizeof(e->manager_name), "%s",
                 opts->manager_name);
    else if (gethostname(e->manager_name, sizeof(e->manager_name) - 1) != 0)
        snprintf(e->manager_name, sizeof(e->manager_name), "localhost");
    e->names = wl_fieldnames_new();
    if (e->names == NULL) {
        rc = WL_ENOMEM;
        goto out;
    }
    rc = wl_decoders_new(&e->decoders, err, err_size);
    if (rc < 0)
        goto out;
    rc = wl_ruleset_load(&opts->rules, e->names, &e->rules, err, err_size);
    if (rc < 0)
        goto out;
    wl_fieldnames_freeze(e->names);
out:
    if (rc < 0) {
        wl_engine_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

void wl_engine_free(struct wl_engine *e)
{
    if (e == NULL)
        return;
    wl_ruleset_free(e->rules);
    wl_decoders_free(e->decoders);
    wl_fieldnames_free(e->names);
    free(e);
}

const struct wl_ruleset *wl_engine_ruleset(const struct wl_engine *e)
{
    return e->rules;
}

struct wl_engine_worker *wl_engine_worker_new(struct wl_engine *e)
{
    struct wl_engine_worker *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return NULL;
    w->engine = e;
    w->decode = wl_decode_scratch_new();
    w->match = wl_rule_scratch_new();
    if (w->decode == NULL || w->match == NULL ||
        wl_event_init(&w->event, e->names) < 0) {
        wl_decode_scratch_free(w->decode);
        wl_rule_scratch_free(w->match);
        wl_event_free(&w->event);
        free(w);
        return NULL;
    }
    return w;
}

void wl_engine_worker_free(struct wl_engine_worker *w)
{
    if (w == NULL)
        return;
    wl_decode_scratch_free(w->decode);
    wl_rule_scratch_free(w->match);
    wl_event_free(&w->event);
    free(w);
}

const struct wl_decode_stats *
wl_engine_worker_stats(const struct wl_engine_worker *w)
{
    return &w->stats;
}

void wl_engine_result_clear(struct wl_engine_result *res)
{
    free(res->description);
    free(res->alert_json);
    memset(res, 0, sizeof(*res));
}

/* Formats t as UTC ISO 8601 with milliseconds: 2026-12-04T16:35:30.123Z */
static char *utc_time(const struct timespec *t)
{
    struct tm tm;
    char buf[40];
    time_t sec = t->tv_sec;

    gmtime_r(&sec, &tm);
    size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", t->tv_nsec / 1000000L);
    return strdup(buf);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Returns 0 when every non-NULL source string was copied. */
static int copied(const char *src, const char *dst)
{
    return src == NULL || dst != NULL ? 0 : WL_ENOMEM;
}

static int fill_event_row(struct wl_record *rec, const struct wl_event *ev,
                          const char *msg, size_t len,
                          const struct timespec *received,
                          const char *data_json)
{
    struct wl_event_row *row = calloc(1, sizeof(*row));

    if (row == NULL)
        return WL_ENOMEM;
    rec->event = row;
    row->received = utc_time(received);
    row->agent_id = dup_or_null(ev->agent_id);
    row->agent_name = dup_or_null(ev->agent_name);
    row->agent_ip = dup_or_null(ev->agent_ip);
    row->location = dup_or_null(ev->location);
    row->decoder = dup_or_null(ev->decoder_name);
    row->fields_json = dup_or_null(data_json);
    row->message = malloc(len + 1);
    if (row->message != NULL) {
        memcpy(row->message, msg, len);
        row->message[len] = '\0';
        row->message_len = len;
    }
    if (row->received == NULL || row->message == NULL ||
        copied(ev->agent_id, row->agent_id) ||
        copied(ev->agent_name, row->agent_name) ||
        copied(ev->agent_ip, row->agent_ip) ||
        copied(ev->location, row->location) ||
        copied(ev->decoder_name, row->decoder) ||
        copied(data_json, row->fields_json))
        return WL_ENOMEM;
    return 0;
}

static int fill_alert_row(struct wl_record *rec, const struct wl_event *ev,
                          const struct wl_rule *r, const char *description,
                          const struct timespec *received,
                          const char *data_json, char *alert_json)
{
    struct wl_alert_row *row = calloc(1, sizeof(*row));

    if (row == NULL) {
        free(alert_json);
        return WL_ENOMEM;
    }
    rec->alert = row;
    row->alert_json = alert_json;
    row->timestamp = utc_time(received);
    row->agent_id = dup_or_null(ev->agent_id);
    row->agent_name = dup_or_null(ev->agent_name);
    row->agent_ip = dup_or_null(ev->agent_ip);
    row->rule_id = r->id;
    row->level = r->level;
    row->description = strdup(description);
    row->groups_json = wl_alert_groups_json(r);
    row->mitre_json = wl_alert_mitre_json(r);
    row->location = dup_or_null(ev->location);
    row->decoder = dup_or_null(ev->decoder_name);
    row->full_log = dup_or_null(ev->full_log);
    row->fields_json = dup_or_null(data_json);
    if (row->timestamp == NULL || row->description == NULL ||
        row->groups_json == NULL || row->mitre_json == NULL ||
        copied(ev->agent_id, row->agent_id) ||
        copied(ev->agent_name, row->agent_name) ||
        copied(ev->agent_ip, row->agent_ip) ||
        copied(ev->location, row->location) ||
        copied(ev->decoder_name, row->decoder) ||
        copied(ev->full_log, row->full_log) ||
        copied(data_json, row->fields_json))
        return WL_ENOMEM;
    return 0;
}

int wl_engine_process(struct wl_engine_worker *w, const char *msg, size_t len,
                      const struct timespec *received, struct wl_record **out,
                      struct wl_engine_result *res)
{
    struct wl_engine *e = w->engine;
    struct wl_event *ev = &w->event;
    struct wl_rule_verdict v;
    struct wl_record *rec = NULL;
    char *data_json = NULL, *description = NULL, *alert = NULL;
    int nomem = 0, rc;

    *out = NULL;
    if (res != NULL)
        memset(res, 0, sizeof(*res));
    wl_event_reset(ev);
    rc = wl_decode(e->decoders, w->decode, msg, len, ev, &w->stats);
    if (rc < 0)
        return rc;
    ev->received = *received;
    wl_ruleset_match(e->rules, w->match, ev, &v);

    rec = wl_record_new();
    if (rec == NULL)
        return WL_ENOMEM;
    if (e->logall || v.alert) {
        data_json = wl_event_data_json(ev, &nomem);
        if (nomem) {
            rc = WL_ENOMEM;
            goto out;
        }
    }
    if (e->logall) {
        rc = fill_event_row(rec, ev, msg, len, received, data_json);
        if (rc < 0)
            goto out;
    }
    if (v.alert) {
        char id[48];
        struct wl_alert_input in = {
            .rule = v.rule,
            .firedtimes = v.firedtimes,
            .ev = ev,
            .data_json = data_json,
            .previous_output = v.previous_output,
            .manager_name = e->manager_name,
            .alert_id = id,
            .time = *received,
        };

        description = wl_rule_expand_description(v.rule, ev);
        if (description == NULL) {
            rc = WL_ENOMEM;
            goto out;
        }
        in.description = description;
        snprintf(id, sizeof(id), "%lld.%lu", (long long)received->tv_sec,
                 atomic_fetch_add(&e->alerts, 1));
        alert = wl_alert_json(&in);
        if (alert == NULL) {
            rc = WL_ENOMEM;
            goto out;
        }
        rc = fill_alert_row(rec, ev, v.rule, description, received, data_json,
                            alert);
        if (rc < 0)
            goto out;
    }
    if (res != NULL) {
        res->event = ev;
        res->verdict = v;
        res->description = description;
        description = NULL;
        if (v.alert) {
            res->alert_json = strdup(rec->alert->alert_json);
            if (res->alert_json == NULL) {
                rc = WL_ENOMEM;
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(data_json);
    free(description);
    if (rc < 0) {
        wl_record_free(rec);
        if (res != NULL)
            wl_engine_result_clear(res);
        return rc;
    }
    *out = rec;
    return 0;
}
