/*
 * The SQLite side of the database writer: the lock file, the connection,
 * the schema and the prepared statements. Only the writer thread in
 * db/writer.c calls these functions.
 */
#ifndef WL_STORE_H
#define WL_STORE_H

#include <sqlite3.h>
#include <stddef.h>

#include "db/record.h"

/* The schema version this build creates and reads (PRAGMA user_version). */
#define WL_SCHEMA_VERSION 1

/* How long one statement waits for another connection's write lock. */
#define WL_STORE_BUSY_TIMEOUT_MS 5000

enum wl_store_stmt {
    WL_STMT_BEGIN,
    WL_STMT_COMMIT,
    WL_STMT_ROLLBACK,
    WL_STMT_EVENT,
    WL_STMT_ALERT,
    WL_STMT_AGENT_UPDATE,
    WL_STMT_AGENT_INSERT,
    WL_STMT_COUNT
};

/* Column values of an agent row, in the order of the agent statement. */
enum wl_agent_column {
    WL_AGENT_ID,
    WL_AGENT_NAME,
    WL_AGENT_IP,
    WL_AGENT_REGISTER_IP,
    WL_AGENT_KEY_HASH,
    WL_AGENT_VERSION,
    WL_AGENT_OS_NAME,
    WL_AGENT_OS_VERSION,
    WL_AGENT_OS_PLATFORM,
    WL_AGENT_OS_ARCH,
    WL_AGENT_OS_UNAME,
    WL_AGENT_GROUPS,
    WL_AGENT_CONFIG_SUM,
    WL_AGENT_MERGED_SUM,
    WL_AGENT_NODE_NAME,
    WL_AGENT_REGISTERED,
    WL_AGENT_LAST_KEEPALIVE,
    WL_AGENT_DISCONNECTION_TIME,
    WL_AGENT_STATUS,
    WL_AGENT_COLUMNS
};

struct wl_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[WL_STMT_COUNT];
    int lock_fd;
    char *path;
};

/*
 * Takes the lock file "<path>.lock", opens or creates the database at path
 * in WAL mode and brings its schema to WL_SCHEMA_VERSION. Returns 0, or
 * WL_EBUSY (another process holds the lock), WL_EUNSUPPORTED (the schema is
 * newer than this build or the file is not a wazlab database), WL_EIO,
 * WL_EDB or WL_ENOMEM, with a message in err (for WL_EBUSY it names the
 * lock holder, not the database). On error nothing stays open.
 */
int wl_store_open(struct wl_store *st, const char *path, char *err,
                  size_t err_size);

/* Finalizes the statements, closes the database and releases the lock. */
void wl_store_close(struct wl_store *st);

/*
 * Runs BEGIN IMMEDIATE, COMMIT or ROLLBACK (a WL_STMT_* value) and returns
 * the SQLite result code.
 */
int wl_store_run(struct wl_store *st, enum wl_store_stmt which);

/*
 * Inserts one row and returns the SQLite result code. The row's strings
 * are bound without copying and must live until the call returns.
 * event_id is the events.id of the alert's archived event, or 0 for none.
 */
int wl_store_event(struct wl_store *st, const struct wl_event_row *row,
                   long long *event_id);
int wl_store_alert(struct wl_store *st, const struct wl_alert_row *row,
                   long long event_id);
int wl_store_agent(struct wl_store *st, char *const values[WL_AGENT_COLUMNS]);

#endif
