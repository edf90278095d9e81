/*
 * The analysis stage: each message goes through the rule engine (decoders
 * and rule tree, rules/engine.h) and becomes a record with an events row
 * (when archiving is on) and an alert row (when the verdict rule alerts).
 * The threads that call wl_analysis_process() live in daemon/pipeline.c.
 */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/analysis.h"
#include "daemon/config.h"
#include "daemon/error.h"
#include "daemon/frame.h"
#include "daemon/log.h"
#include "rules/default_rules.h"
#include "rules/engine.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef WL_SYSCONFDIR
#define WL_SYSCONFDIR "/etc/wazlab"
#endif

/* The user's own rules, read when no ruleset is configured. */
#define WL_LOCAL_RULES_FILE WL_SYSCONFDIR "/rules/local_rules.xml"

struct wl_analysis {
    int logall;
    struct wl_engine *engine;
    /* NULL-terminated path arrays handed to the engine; not owned items */
    const char **rule_dirs;
    const char **rule_files;
    const char **excludes;
    const char **decoder_dirs;
    const char **decoder_files;
    struct wl_ruleset_list *lists;
    atomic_ulong dropped; /* messages the decoders rejected */
};

struct wl_analysis_worker {
    struct wl_analysis *an;
    struct wl_engine_worker *engine;
    char location[WL_MESSAGE_MAX + 1];
    /* The message rewritten with its agent prefix, as remoted forwards it */
    char forward[WL_MESSAGE_MAX + 512];
};

/* Returns a NULL-terminated copy of the list's item pointers. */
static const char **list_array(const struct wl_config_list *list)
{
    const char **a = calloc(list->count + 1, sizeof(*a));

    for (size_t i = 0; a != NULL && i < list->count; i++)
        a[i] = list->items[i];
    return a;
}

static int fill_engine_options(struct wl_analysis *an,
                               const struct wl_config *cfg,
                               struct wl_engine_options *eo)
{
    memset(eo, 0, sizeof(*eo));
    eo->logall = an->logall;
    eo->rules.log_alert_level = cfg ? cfg->log_alert_level : 1;
    if (cfg == NULL ||
        (cfg->rule_dirs.count == 0 && cfg->rule_includes.count == 0)) {
        an->rule_files = wl_default_rule_files(WL_LOCAL_RULES_FILE);
        if (an->rule_files == NULL)
            return WL_ENOMEM;
        eo->rules.rule_files = an->rule_files;
        eo->rules.buffers = wl_default_rules;
        return 0;
    }
    an->rule_dirs = list_array(&cfg->rule_dirs);
    an->rule_files = list_array(&cfg->rule_includes);
    an->excludes = list_array(&cfg->rule_excludes);
    an->decoder_dirs = list_array(&cfg->decoder_dirs);
    an->decoder_files = list_array(&cfg->decoder_includes);
    an->lists = calloc(cfg->lists.count + 1, sizeof(*an->lists));
    if (an->rule_dirs == NULL || an->rule_files == NULL ||
        an->excludes == NULL || an->decoder_dirs == NULL ||
        an->decoder_files == NULL || an->lists == NULL)
        return WL_ENOMEM;
    for (size_t i = 0; i < cfg->lists.count; i++)
        an->lists[i].name = cfg->lists.items[i];
    eo->rules.rule_dirs = an->rule_dirs;
    eo->rules.rule_files = an->rule_files;
    eo->rules.excludes = an->excludes;
    if (cfg->decoder_dirs.count > 0 || cfg->decoder_includes.count > 0) {
        eo->rules.decoder_dirs = an->decoder_dirs;
        eo->rules.decoder_files = an->decoder_files;
    }
    eo->rules.lists = an->lists;
    return 0;
}

void wl_analysis_free(struct wl_analysis *an)
{
    if (an == NULL)
        return;
    wl_engine_free(an->engine);
    free(an->rule_dirs);
    free(an->rule_files);
    free(an->excludes);
    free(an->decoder_dirs);
    free(an->decoder_files);
    free(an->lists);
    free(an);
}

int wl_analysis_new(const struct wl_analysis_options *opt,
                    struct wl_analysis **out, char *err, size_t err_size)
{
    struct wl_engine_options eo;
    struct wl_analysis *an = calloc(1, sizeof(*an));
    int r;

    if (an == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    an->logall = opt->logall;
    r = fill_engine_options(an, opt->config, &eo);
    if (r == 0)
        r = wl_engine_new(&eo, &an->engine, err, err_size);
    else
        snprintf(err, err_size, "out of memory");
    if (r != 0) {
        wl_analysis_free(an);
        return r;
    }
    *out = an;
    return 0;
}

struct wl_analysis_worker *wl_analysis_worker_new(struct wl_analysis *an)
{
    struct wl_analysis_worker *w = malloc(sizeof(*w));

    if (w == NULL)
        return NULL;
    w->an = an;
    w->engine = wl_engine_worker_new(an->engine);
    if (w->engine == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

void wl_analysis_worker_free(struct wl_analysis_worker *w)
{
    if (w == NULL)
        return;
    wl_engine_worker_free(w->engine);
    free(w);
}

/* Formats ts as UTC ISO 8601 with milliseconds; returns a malloc'd copy. */
static char *format_time(const struct timespec *ts)
{
    struct tm tm;
    char text[40];
    size_t n;

    gmtime_r(&ts->tv_sec, &tm);
    n = strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(text + n, sizeof(text) - n, ".%03ldZ", ts->tv_nsec / 1000000);
    return strdup(text);
}

/*
 * Fills an events row for a message the decoders rejected, so that the
 * archive contains every message. Returns 0 or WL_ENOMEM.
 */
static int fill_raw_event_row(const struct wl_message *msg,
                              const char *location, struct wl_event_row *row)
{
    row->received = format_time(&msg->received);
    row->agent_id = strdup(msg->agent_id);
    row->agent_name = strdup(msg->agent_name);
    row->agent_ip = strdup(msg->peer_ip);
    row->location = location ? strdup(location) : NULL;
    row->message = malloc(msg->len + 1);
    row->message_len = msg->len;
    if (row->received == NULL || row->agent_id == NULL ||
        row->agent_name == NULL || row->agent_ip == NULL ||
        (location != NULL && row->location == NULL) || row->message == NULL)
        return WL_ENOMEM;
    memcpy(row->message, msg->data, msg->len);
    row->message[msg->len] = '\0';
    return 0;
}

/* Replaces *field with a copy of value; returns 0 or WL_ENOMEM. */
static int replace_string(char **field, const char *value)
{
    char *copy = value ? strdup(value) : NULL;

    if (value != NULL && copy == NULL)
        return WL_ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

/*
 * Makes the stored rows show the message as received, the sender as the
 * connection identified it, and the location as Wazuh prints it in
 * alerts ("EventChannel", without the agent part).
 */
static int adjust_rows(const struct wl_message *msg, const char *location,
                       int rewritten, struct wl_record *rec)
{
    int r = 0;

    if (rec->event != NULL) {
        /* The engine stored the text it analysed, which is the message as
         * received unless forward_form() added an agent prefix. */
        if (rewritten) {
            char *raw = malloc(msg->len + 1);

            if (raw == NULL)
                return WL_ENOMEM;
            memcpy(raw, msg->data, msg->len);
            raw[msg->len] = '\0';
            free(rec->event->message);
            rec->event->message = raw;
            rec->event->message_len = msg->len;
        }
        r = replace_string(&rec->event->agent_id, msg->agent_id);
        if (r == 0)
            r = replace_string(&rec->event->agent_name, msg->agent_name);
        if (r == 0)
            r = replace_string(&rec->event->agent_ip, msg->peer_ip);
        if (r == 0 && location != NULL)
            r = replace_string(&rec->event->location, location);
    }
    if (r == 0 && rec->alert != NULL && location != NULL)
        r = replace_string(&rec->alert->location, location);
    return r;
}

/*
 * Returns the message for the engine: as received when it already names
 * its agent ("[id] (name) ip->location") or comes from no known agent,
 * else rewritten with the connection's agent in front of the location,
 * as Wazuh's remoted forwards agent messages to analysis.
 */
static const char *forward_form(struct wl_analysis_worker *w,
                                const struct wl_message *msg,
                                const struct wl_event_parts *parts, size_t *len)
{
    int n;

    *len = msg->len;
    if (parts->has_agent || strcmp(msg->agent_id, "000") == 0)
        return msg->data;
    n = snprintf(w->forward, sizeof(w->forward), "%c:[%s] (%s) %s->",
                 msg->data[0], msg->agent_id, msg->agent_name,
                 msg->peer_ip[0] ? msg->peer_ip : "any");
    if (n < 0 || (size_t)n + msg->len - 2 >= sizeof(w->forward))
        return msg->data;
    memcpy(w->forward + n, msg->data + 2, msg->len - 2);
    *len = (size_t)n + msg->len - 2;
    w->forward[*len] = '\0';
    return w->forward;
}

/* Bytes of a dropped message quoted in its log line. */
#define DROP_SAMPLE_BYTES 64

/* Logs a message that the decoders rejected, rate-limited. */
static void log_drop(const struct wl_message *msg)
{
    char sample[DROP_SAMPLE_BYTES * 4 + 1];
    char name[sizeof(msg->agent_name) * 4];
    char id[sizeof(msg->agent_id) * 4];
    size_t n = msg->len < DROP_SAMPLE_BYTES ? msg->len : DROP_SAMPLE_BYTES;

    if (wl_log_threshold < WL_LOG_WARN)
        return;
    wl_log_sanitize(sample, sizeof(sample), msg->data, n);
    wl_log_sanitize(name, sizeof(name), msg->agent_name,
                    strlen(msg->agent_name));
    wl_log_sanitize(id, sizeof(id), msg->agent_id, strlen(msg->agent_id));
    wl_log_limited(WL_LOG_WARN, "analysis-dropped",
                   "connection %llu (agent %s %s): message dropped by the "
                   "decoder (not a valid event for its queue), archived "
                   "only; first bytes \"%s\"%s",
                   (unsigned long long)msg->connection_id, id, name, sample,
                   msg->len > n ? "..." : "");
}

int wl_analysis_process(struct wl_analysis_worker *w,
                        const struct wl_message *msg, struct wl_record **out)
{
    struct wl_event_parts parts;
    const char *location = NULL;
    const char *text = msg->data;
    size_t len = msg->len;
    struct wl_record *rec = NULL;
    int r;

    if (wl_event_parse(msg->data, msg->len, w->location, sizeof(w->location),
                       &parts, NULL) == 0) {
        location = parts.location;
        text = forward_form(w, msg, &parts, &len);
    }
    r = wl_engine_process(w->engine, text, len, &msg->received, &rec, NULL);
    if (r == WL_EINVAL) {
        /* The decoders dropped it, as Wazuh would; the archive keeps it. */
        atomic_fetch_add(&w->an->dropped, 1);
        log_drop(msg);
        rec = wl_record_new();
        if (rec == NULL)
            return WL_ENOMEM;
        if (w->an->logall) {
            rec->event = calloc(1, sizeof(*rec->event));
            if (rec->event == NULL ||
                fill_raw_event_row(msg, location, rec->event) != 0) {
                wl_record_free(rec);
                return WL_ENOMEM;
            }
        }
        *out = rec;
        return 0;
    }
    if (r != 0)
        return r;
    if (adjust_rows(msg, location, text != msg->data, rec) != 0) {
        wl_record_free(rec);
        return WL_ENOMEM;
    }
    *out = rec;
    return 0;
}

unsigned long wl_analysis_dropped(const struct wl_analysis *an)
{
    return atomic_load(&an->dropped);
}

const struct wl_ruleset_stats *
wl_analysis_rule_stats(const struct wl_analysis *an)
{
    return wl_ruleset_stats(wl_engine_ruleset(an->engine));
}
