/*
 * The analysis stage, for now a pass-through: each message becomes an
 * events row (when archiving is on) and never an alert. The decoder and
 * rule stages replace the inside of wl_analysis_process(); the threads
 * that call it live in daemon/pipeline.c.
 */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/analysis.h"
#include "daemon/error.h"
#include "daemon/frame.h"
#include "daemon/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct wl_analysis {
    int logall;
};

struct wl_analysis_worker {
    struct wl_analysis *an;
    char location[WL_MESSAGE_MAX + 1];
};

int wl_analysis_new(const struct wl_analysis_options *opt,
                    struct wl_analysis **out, char *err, size_t err_size)
{
    struct wl_analysis *an = calloc(1, sizeof(*an));

    if (an == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    an->logall = opt->logall;
    *out = an;
    return 0;
}

void wl_analysis_free(struct wl_analysis *an)
{
    free(an);
}

struct wl_analysis_worker *wl_analysis_worker_new(struct wl_analysis *an)
{
    struct wl_analysis_worker *w = malloc(sizeof(*w));

    if (w != NULL)
        w->an = an;
    return w;
}

void wl_analysis_worker_free(struct wl_analysis_worker *w)
{
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

/* Fills an events row; returns 0 or WL_ENOMEM (the row is then partial). */
static int fill_event_row(struct wl_analysis_worker *w,
                          const struct wl_message *msg,
                          struct wl_event_row *row)
{
    struct wl_event_parts parts;
    const char *location = NULL;

    if (wl_event_parse(msg->data, msg->len, w->location, sizeof(w->location),
                       &parts, NULL) == 0)
        location = parts.location;
    row->received = format_time(&msg->received);
    row->agent_id = strdup(msg->agent_id);
    row->agent_name = strdup(msg->agent_name);
    row->agent_ip = strdup(msg->peer_ip);
    row->location = location ? strdup(location) : NULL;
    row->message = malloc(msg->len + 1);
    row->message_len = msg->len;
    if (row->received == NULL || row->agent_id == NULL ||
        row->agent_name == NULL || row->agent_ip == NULL ||
        (location != NULL && row->location == NULL) ||
        row->message == NULL)
        return WL_ENOMEM;
    memcpy(row->message, msg->data, msg->len);
    row->message[msg->len] = '\0';
    return 0;
}

int wl_analysis_process(struct wl_analysis_worker *w,
                        const struct wl_message *msg, struct wl_record **out)
{
    struct wl_record *rec = wl_record_new();

    if (rec == NULL)
        return WL_ENOMEM;
    if (w->an->logall) {
        rec->event = calloc(1, sizeof(*rec->event));
        if (rec->event == NULL || fill_event_row(w, msg, rec->event) != 0) {
            wl_record_free(rec);
            return WL_ENOMEM;
        }
    }
    *out = rec;
    return 0;
}
