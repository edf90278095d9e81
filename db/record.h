/*
 * The rows the analysis stage hands to the database writer for a message:
 * an archive row for the events table, an alert row, or both. Every string
 * is owned by the record (malloc'd) and freed by wl_record_free(); a NULL
 * string is stored as SQL NULL.
 */
#ifndef WL_RECORD_H
#define WL_RECORD_H

#include <stddef.h>

struct wl_event_row {
    char *
        received; /* UTC ISO 8601 with milliseconds: 2026-12-04T16:35:30.123Z */
    char *agent_id;
    char *agent_name;
    char *agent_ip;
    char *location;
    char *message; /* the message exactly as received (may hold NULs) */
    size_t message_len;
    char *decoder;     /* decoder name, NULL when not decoded */
    char *fields_json; /* decoded fields as a JSON object, or NULL */
};

struct wl_alert_row {
    char *timestamp; /* UTC ISO 8601 with milliseconds */
    char *agent_id;
    char *agent_name;
    char *agent_ip;
    int rule_id;
    int level;
    char *description;
    char *groups_json; /* JSON array of strings */
    char *mitre_json;  /* JSON array of technique ids, "[]" when none */
    char *location;
    char *decoder;
    char *full_log;
    char *fields_json;
    char *alert_json; /* the whole alert, as a line of Wazuh's alerts.json */
};

struct wl_record {
    struct wl_event_row *event; /* NULL when archiving is off */
    struct wl_alert_row *alert; /* NULL when the message raised no alert */
};

/* Allocates an empty record; NULL when out of memory. */
struct wl_record *wl_record_new(void);
/* Frees the record, its rows and all their strings; NULL is a no-op. */
void wl_record_free(struct wl_record *rec);

#endif
