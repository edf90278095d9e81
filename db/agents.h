/*
 * Changes to the agents table, stored by the database writer thread in the
 * same transactions as events and alerts.
 */
#ifndef WL_AGENTS_H
#define WL_AGENTS_H

#include "db/writer.h"

/*
 * One agent as the agents table stores it. Every field but id may be NULL:
 * a NULL field keeps the stored value of an existing agent, so a keepalive
 * update sets only id, status, ip and last_keepalive. A new agent gets
 * status 'never_connected' and the current time as registered when those
 * are NULL. Times are UTC ISO 8601 with milliseconds.
 */
struct wl_agent_row {
    const char *id;   /* "001"; required */
    const char *name; /* required for a new agent */
    const char *ip;
    const char *register_ip;
    const char *key_hash; /* a hash of the key; never the key itself */
    const char *version;  /* "Wazuh v4.14.7" */
    const char *os_name;
    const char *os_version;
    const char *os_platform;
    const char *os_arch;
    const char *os_uname;
    const char *groups; /* comma-separated group names */
    const char *config_sum;
    const char *merged_sum;
    const char *node_name;
    const char *registered;
    const char *last_keepalive;
    const char *disconnection_time;
    const char *status; /* active, pending, disconnected, never_connected */
};

/*
 * Queues an insert or update of one agent. The row and its strings are
 * copied, so the caller keeps ownership. Waits while the queue is full.
 * Returns 0, WL_EINVAL when row->id is NULL, WL_ENOMEM, or WL_EBUSY after
 * stop began. A row that the database rejects (a new agent without a name,
 * an unknown status) is logged and counted in the errors and dropped
 * fields of struct wl_writer_stats.
 */
int wl_writer_agent_upsert(struct wl_writer *w, const struct wl_agent_row *row);

#endif
