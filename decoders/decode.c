/*
 * wl_decode(): Wazuh's pre-decoding of a queue message (OS_CleanMSG in
 * src/analysisd/cleanevent.c, v4.14.7), then the decoder the queue and
 * the log select.
 */
#include "config.h"

#include "decoders/decode-int.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <libxml/parser.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Wazuh's location buffer: OS_SIZE_8192 + OS_SIZE_256 + 3 with a NUL. */
#define LOCATION_MAX (8192 + 256 + 2)

struct wl_decode_scratch {
    struct wl_winevt *winevt;
};

int wl_decoders_new(struct wl_decoders **out, char *err, size_t err_size)
{
    struct wl_decoders *d = calloc(1, sizeof(*d));

    *out = NULL;
    if (d == NULL) {
        snprintf(err, err_size, "out of memory creating the decoders");
        return WL_ENOMEM;
    }
    if (gethostname(d->hostname, sizeof(d->hostname) - 1) != 0)
        strcpy(d->hostname, "localhost");
    d->hostname[strcspn(d->hostname, ".")] = '\0';
    xmlInitParser();
    *out = d;
    return 0;
}

void wl_decoders_free(struct wl_decoders *d)
{
    free(d);
}

struct wl_decode_scratch *wl_decode_scratch_new(void)
{
    struct wl_decode_scratch *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->winevt = wl_winevt_new();
    if (s->winevt == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void wl_decode_scratch_free(struct wl_decode_scratch *s)
{
    if (s == NULL)
        return;
    wl_winevt_free(s->winevt);
    free(s);
}

/* Position of the first ':' not escaped by '|', or NULL. */
static const char *location_end(const char *s, const char *end)
{
    int escaped = 0;

    for (; s < end; s++) {
        if (escaped)
            escaped = 0;
        else if (*s == ':')
            return s;
        else if (*s == '|')
            escaped = 1;
    }
    return NULL;
}

/* Copies the location with "|x" read as "x" (a final '|' stays). */
static char *unescape_location(struct wl_arena *arena, const char *s,
                               size_t len)
{
    char *out = wl_arena_alloc(arena, len + 1);
    size_t j = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len && j < LOCATION_MAX; i++) {
        if (s[i] == '|' && i + 1 < len)
            i++;
        out[j++] = s[i];
    }
    out[j] = '\0';
    return out;
}

static void count_invalid(struct wl_decode_stats *stats, const char *msg,
                          size_t len)
{
    char sample[96];

    stats->invalid_message++;
    wl_log_sanitize(sample, sizeof(sample), msg, len < 64 ? len : 64);
    wl_log_limited(WL_LOG_ERROR, "decode-format",
                   "Invalid message format, expected "
                   "'<queue>:<location>:<log>': '%s'",
                   sample);
}

/*
 * Splits "[id] (name) ip->where" into the agent fields. Returns 0, or
 * WL_EINVAL when the ']' is missing.
 */
static int parse_agent(struct wl_event *ev, const char *loc)
{
    struct wl_arena *a = &ev->arena;
    const char *close = strchr(loc, ']');

    if (close == NULL)
        return WL_EINVAL;
    ev->agent_id = wl_arena_strndup(a, loc + 1, (size_t)(close - loc - 1));
    ev->location = strlen(close) > 1 ? close + 2 : "";

    const char *where = ev->location;
    if (where[0] == '(') {
        const char *end = strchr(where + 1, ')');

        ev->agent_name =
            end ? wl_arena_strndup(a, where + 1, (size_t)(end - where - 1))
                : "";
        /* The registered IP: after ") ", up to the next '-'. */
        if (end != NULL && end[1] != '\0') {
            const char *ip = end + 2;
            const char *dash = strchr(ip, '-');

            ev->agent_ip = wl_arena_strndup(
                a, ip, dash ? (size_t)(dash - ip) : strlen(ip));
        }
    } else {
        ev->agent_name = "";
    }
    return ev->agent_id != NULL && ev->agent_name != NULL ? 0 : WL_ENOMEM;
}

/* The JSON decoders of Wazuh's stock ruleset (0006-json_decoders.xml). */
static int decode_json_log(struct wl_event *ev)
{
    const char *log = ev->log;
    const char *p = log + 1;

    if (strstr(log, "\"integration\":\"ms-graph\"") != NULL) {
        ev->decoder_name = "json-msgraph";
        ev->decoder_type = "syslog";
        return wl_decode_json_fields(ev, log, WL_JSON_NULL_DISCARD);
    }
    if (log[0] != '{')
        return 0;
    while (*p == ' ')
        p++;
    if (*p != '"')
        return 0;
    ev->decoder_name = "json";
    ev->decoder_type = "syslog";
    return wl_decode_json_fields(ev, log, 0);
}

int wl_decode(const struct wl_decoders *d, struct wl_decode_scratch *s,
              const char *msg, size_t len, struct wl_event *ev,
              struct wl_decode_stats *stats)
{
    const char *host = NULL;
    int r;

    /* Wazuh handles the message as a C string: a NUL ends it. */
    len = strnlen(msg, len);
    ev->raw = msg;
    ev->raw_len = len;
    if (len < 2 || msg[1] != ':') {
        count_invalid(stats, msg, len);
        return WL_EINVAL;
    }
    ev->queue = msg[0];

    const char *colon = location_end(msg + 2, msg + len);
    if (colon == NULL) {
        count_invalid(stats, msg, len);
        return WL_EINVAL;
    }
    char *loc =
        unescape_location(&ev->arena, msg + 2, (size_t)(colon - msg - 2));
    size_t log_len = len - (size_t)(colon + 1 - msg);
    char *log = wl_arena_strndup(&ev->arena, colon + 1, log_len);
    if (loc == NULL || log == NULL)
        return WL_ENOMEM;
    ev->location = loc;
    ev->full_log = log;
    ev->full_log_len = log_len;

    wl_predecode_syslog(ev, &host);

    if (loc[0] == '[') {
        r = parse_agent(ev, loc);
        if (r == WL_EINVAL) {
            count_invalid(stats, msg, len);
            return r;
        }
        if (r < 0)
            return r;
    } else {
        ev->agent_id = "000";
        ev->agent_name = host != NULL ? host : d->hostname;
    }

    if (ev->queue == 'f') {
        /* The Event Channel decoder reads the log after the header. */
        return wl_winevt_decode(s->winevt, ev->log, ev, stats);
    }
    if (ev->program_name == NULL) {
        r = decode_json_log(ev);
        if (r < 0)
            return r;
    }
    stats->decoded++;
    return 0;
}
