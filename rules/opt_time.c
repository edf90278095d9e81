#include "config.h"

#include "rules/cond.h"
#include "daemon/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A <time> range in minutes of the day, bounds included. */
struct time_range {
    int start;
    int end;
    int negate;
};

/* Parses "hh[:mm] [am|pm]" at *p; returns minutes or -1. */
static int parse_clock(const char **p)
{
    const char *s = *p;
    int h, m = 0;

    while (*s == ' ')
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    h = (int)strtol(s, (char **)&s, 10);
    if (*s == ':') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -1;
        m = (int)strtol(s, (char **)&s, 10);
    }
    while (*s == ' ')
        s++;
    if (strncasecmp(s, "pm", 2) == 0) {
        if (h < 12)
            h += 12;
        s += 2;
    } else if (strncasecmp(s, "am", 2) == 0) {
        if (h == 12)
            h = 0;
        s += 2;
    }
    if (h > 23 || m > 59)
        return -1;
    *p = s;
    return h * 60 + m;
}

static int match_time(const struct wl_cond *c, const struct wl_event *ev,
                      struct wl_pattern_scratch *ps)
{
    const struct time_range *t = c->data;
    struct tm tm;
    time_t now = ev->received.tv_sec;

    (void)ps;
    localtime_r(&now, &tm);
    int minute = tm.tm_hour * 60 + tm.tm_min;
    int inside = minute >= t->start && minute <= t->end;
    return inside != t->negate;
}

static void free_data(struct wl_cond *c)
{
    free(c->data);
    c->data = NULL;
}

int wl_cond_init_time(struct wl_cond *c, const char *value, char *err,
                      size_t err_size)
{
    struct time_range *t = calloc(1, sizeof(*t));
    const char *p = value;

    if (t == NULL)
        return WL_ENOMEM;
    c->data = t;
    c->match = match_time;
    c->free = free_data;
    c->rank = WL_RANK_TIME;
    while (*p == ' ')
        p++;
    if (*p == '!') {
        t->negate = 1;
        p++;
    }
    t->start = parse_clock(&p);
    while (*p == ' ')
        p++;
    if (t->start < 0 || *p++ != '-')
        goto invalid;
    t->end = parse_clock(&p);
    while (*p == ' ')
        p++;
    if (t->end < 0 || *p != '\0')
        goto invalid;
    if (t->start > t->end) {
        int s = t->start;

        t->start = t->end;
        t->end = s;
        t->negate = !t->negate;
    }
    return 0;
invalid:
    snprintf(err, err_size, "invalid time range '%s'", value);
    return WL_EINVAL;
}

static int match_weekday(const struct wl_cond *c, const struct wl_event *ev,
                         struct wl_pattern_scratch *ps)
{
    struct tm tm;
    time_t now = ev->received.tv_sec;

    (void)ps;
    localtime_r(&now, &tm);
    return (c->number >> tm.tm_wday) & 1;
}

int wl_cond_init_weekday(struct wl_cond *c, const char *value, char *err,
                         size_t err_size)
{
    static const char *const days[] = {"sunday",    "monday",   "tuesday",
                                       "wednesday", "thursday", "friday",
                                       "saturday"};
    const char *p = value;
    unsigned mask = 0;

    c->match = match_weekday;
    c->free = free_data;
    c->rank = WL_RANK_WEEKDAY;
    while (*p != '\0') {
        size_t n;
        int found = 0;

        p += strspn(p, " ,");
        n = strcspn(p, " ,");
        if (n == 0)
            break;
        if (n == 8 && strncasecmp(p, "weekdays", n) == 0) {
            mask |= 0x3e;
            found = 1;
        } else if (n == 8 && strncasecmp(p, "weekends", n) == 0) {
            mask |= 0x41;
            found = 1;
        }
        for (int d = 0; d < 7 && !found; d++) {
            if ((n == 3 || n == strlen(days[d])) &&
                strncasecmp(p, days[d], n) == 0) {
                mask |= 1u << d;
                found = 1;
            }
        }
        if (!found) {
            snprintf(err, err_size, "invalid weekday '%.*s' in '%s'", (int)n, p,
                     value);
            return WL_EINVAL;
        }
        p += n;
    }
    if (mask == 0) {
        snprintf(err, err_size, "empty weekday list");
        return WL_EINVAL;
    }
    c->number = mask;
    return 0;
}
