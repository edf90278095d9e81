#include "config.h"

#include "db/record.h"

#include <stdlib.h>

struct wl_record *wl_record_new(void)
{
    return calloc(1, sizeof(struct wl_record));
}

static void free_event_row(struct wl_event_row *row)
{
    if (row == NULL)
        return;
    free(row->received);
    free(row->agent_id);
    free(row->agent_name);
    free(row->agent_ip);
    free(row->location);
    free(row->message);
    free(row->decoder);
    free(row->fields_json);
    free(row);
}

static void free_alert_row(struct wl_alert_row *row)
{
    if (row == NULL)
        return;
    free(row->timestamp);
    free(row->agent_id);
    free(row->agent_name);
    free(row->agent_ip);
    free(row->description);
    free(row->groups_json);
    free(row->mitre_json);
    free(row->location);
    free(row->decoder);
    free(row->full_log);
    free(row->fields_json);
    free(row->alert_json);
    free(row);
}

void wl_record_free(struct wl_record *rec)
{
    if (rec == NULL)
        return;
    free_event_row(rec->event);
    free_alert_row(rec->alert);
    free(rec);
}
