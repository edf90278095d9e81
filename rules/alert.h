/*
 * Alerts in the shape of a line of Wazuh 4.14.7's alerts.json: key order,
 * the rule object (groups, compliance arrays, MITRE names), agent,
 * manager, decoder, data and location.
 */
#ifndef WL_ALERT_H
#define WL_ALERT_H

#include <time.h>

#include "decoders/event.h"
#include "rules/ruleset.h"

struct wl_alert_input {
    const struct wl_rule *rule;
    unsigned long firedtimes;
    const struct wl_event *ev;
    const char *description;     /* expanded; NULL expands rule's here */
    const char *data_json;       /* the "data" object text, or NULL */
    const char *previous_output; /* correlation rules, or NULL */
    const char *manager_name;    /* gethostname() of the manager */
    const char *alert_id;        /* "<seconds>.<n>" */
    struct timespec time;        /* receive time */
};

/*
 * Builds the alert as one line of compact JSON (no newline). Returns a
 * malloc'd string, or NULL when out of memory.
 */
char *wl_alert_json(const struct wl_alert_input *in);

/*
 * Returns the rule's "groups" as a JSON array text ("[\"sysmon\"]"), or
 * NULL when out of memory. Malloc'd.
 */
char *wl_alert_groups_json(const struct wl_rule *r);

/*
 * Returns the rule's MITRE technique ids as printed in rule.mitre.id, a
 * JSON array text, "[]" when the alert carries no mitre object. Malloc'd;
 * NULL when out of memory.
 */
char *wl_alert_mitre_json(const struct wl_rule *r);

/*
 * Formats t as Wazuh's alert timestamp in local time,
 * "2026-12-04T15:38:21.774+0000", into buf (at least 32 bytes).
 */
void wl_alert_timestamp(const struct timespec *t, char *buf, size_t size);

#endif
