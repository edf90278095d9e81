#include "config.h"

#include "db/store.h"
#include "daemon/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "db/schema-1.h"

/*
 * Schema steps: steps[i] takes a database from version i to i + 1. Each
 * step ends by setting PRAGMA user_version itself.
 */
static const char *const schema_steps[WL_SCHEMA_VERSION] = {
    wl_schema_1_sql,
};

static const char *const stmt_sql[WL_STMT_COUNT] = {
    [WL_STMT_BEGIN] = "BEGIN IMMEDIATE",
    [WL_STMT_COMMIT] = "COMMIT",
    [WL_STMT_ROLLBACK] = "ROLLBACK",
    [WL_STMT_EVENT] =
        "INSERT INTO events (received, agent_id, agent_name, agent_ip,"
        " location, message, decoder, fields)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [WL_STMT_ALERT] =
        "INSERT INTO alerts (timestamp, agent_id, agent_name, agent_ip,"
        " rule_id, level, description, groups, mitre, location, decoder,"
        " full_log, fields, alert, event_id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15)",
    /* A NULL parameter keeps the stored value (see db/agents.h). */
    [WL_STMT_AGENT_UPDATE] =
        "UPDATE agents SET"
        " name = coalesce(?2, name),"
        " ip = coalesce(?3, ip),"
        " register_ip = coalesce(?4, register_ip),"
        " key_hash = coalesce(?5, key_hash),"
        " version = coalesce(?6, version),"
        " os_name = coalesce(?7, os_name),"
        " os_version = coalesce(?8, os_version),"
        " os_platform = coalesce(?9, os_platform),"
        " os_arch = coalesce(?10, os_arch),"
        " os_uname = coalesce(?11, os_uname),"
        " groups = coalesce(?12, groups),"
        " config_sum = coalesce(?13, config_sum),"
        " merged_sum = coalesce(?14, merged_sum),"
        " node_name = coalesce(?15, node_name),"
        " registered = coalesce(?16, registered),"
        " last_keepalive = coalesce(?17, last_keepalive),"
        " disconnection_time = coalesce(?18, disconnection_time),"
        " status = coalesce(?19, status)"
        " WHERE id = ?1",
    [WL_STMT_AGENT_INSERT] =
        "INSERT INTO agents (id, name, ip, register_ip, key_hash, version,"
        " os_name, os_version, os_platform, os_arch, os_uname, groups,"
        " config_sum, merged_sum, node_name, registered, last_keepalive,"
        " disconnection_time, status)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
        " ?14, ?15, coalesce(?16, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
        " ?17, ?18, coalesce(?19, 'never_connected'))",
};

/* Reads the pid that the lock holder wrote into the lock file, or 0. */
static long read_lock_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strtol(buf, NULL, 10);
}

/*
 * Takes an exclusive flock on "<path>.lock" without waiting and writes our
 * pid into it. The kernel drops the lock when the process exits, however
 * it exits, so a stale lock file never blocks a restart.
 */
static int take_lock(struct wl_store *st, char *err, size_t err_size)
{
    size_t len = strlen(st->path) + sizeof(".lock");
    char *lock_path = malloc(len);
    char pid_text[32];
    long pid;
    int fd = -1, r = WL_EINTERNAL;

    if (lock_path == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    snprintf(lock_path, len, "%s.lock", st->path);
    fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(err, err_size, "cannot open lock file %s: %s", lock_path,
                 strerror(errno));
        r = WL_EIO;
        goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            snprintf(err, err_size, "cannot lock %s: %s", lock_path,
                     strerror(errno));
            r = WL_EIO;
            goto out;
        }
        pid = read_lock_pid(fd);
        /* The caller's message names the database and the conflict. */
        if (pid > 0)
            snprintf(err, err_size,
                     "pid %ld has the lock %s; stop it or use another "
                     "data directory",
                     pid, lock_path);
        else
            snprintf(err, err_size,
                     "another process has the lock %s; stop it or use "
                     "another data directory",
                     lock_path);
        r = WL_EBUSY;
        goto out;
    }
    snprintf(pid_text, sizeof(pid_text), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 ||
        pwrite(fd, pid_text, strlen(pid_text), 0) < 0) {
        snprintf(err, err_size, "cannot write lock file %s: %s", lock_path,
                 strerror(errno));
        r = WL_EIO;
        goto out;
    }
    st->lock_fd = fd;
    fd = -1;
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    free(lock_path);
    return r;
}

static int db_error(struct wl_store *st, const char *what, char *err,
                    size_t err_size)
{
    snprintf(err, err_size, "%s %s: %s", what, st->path,
             sqlite3_errmsg(st->db));
    return WL_EDB;
}

/* Runs one PRAGMA or statement that returns a single integer. */
static int query_int(struct wl_store *st, const char *sql, int *value)
{
    sqlite3_stmt *stmt;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);

    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *value = sqlite3_column_int(stmt, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/*
 * WAL lets readers (the sqlite3 shell, reports) work while the writer
 * commits. synchronous=NORMAL is safe for the crash this daemon must
 * survive, a killed process: a commit returns only after its pages reach
 * the WAL file through write(), so the kernel keeps them however the
 * process dies. Only a power loss or kernel crash can undo the latest
 * commits since the last checkpoint, and even then the database stays
 * consistent. FULL would add an fsync per batch for that case alone.
 */
static int configure(struct wl_store *st, char *err, size_t err_size)
{
    sqlite3_stmt *stmt = NULL;
    int ok;

    sqlite3_busy_timeout(st->db, WL_STORE_BUSY_TIMEOUT_MS);
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &stmt,
                           NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW) {
        sqlite3_finalize(stmt);
        return db_error(st, "cannot set WAL mode on", err, err_size);
    }
    ok =
        sqlite3_stricmp((const char *)sqlite3_column_text(stmt, 0), "wal") == 0;
    sqlite3_finalize(stmt);
    if (!ok) {
        snprintf(err, err_size,
                 "cannot set WAL mode on %s: the file system does not "
                 "support it",
                 st->path);
        return WL_EDB;
    }
    if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_error(st, "cannot configure", err, err_size);
    return 0;
}

/* Applies the schema steps from version `from` up to WL_SCHEMA_VERSION. */
static int upgrade(struct wl_store *st, int from, char *err, size_t err_size)
{
    char *msg = NULL;
    int version = 0;

    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(st, "cannot begin the schema update of", err, err_size);
    for (int v = from; v < WL_SCHEMA_VERSION; v++) {
        if (sqlite3_exec(st->db, schema_steps[v], NULL, NULL, &msg) !=
            SQLITE_OK) {
            snprintf(err, err_size, "cannot apply schema version %d to %s: %s",
                     v + 1, st->path, msg ? msg : sqlite3_errmsg(st->db));
            sqlite3_free(msg);
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return WL_EDB;
        }
    }
    if (query_int(st, "PRAGMA user_version", &version) != SQLITE_OK ||
        version != WL_SCHEMA_VERSION) {
        snprintf(err, err_size,
                 "schema update of %s ended at version %d, not %d", st->path,
                 version, WL_SCHEMA_VERSION);
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return WL_EINTERNAL;
    }
    if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return db_error(st, "cannot commit the schema of", err, err_size);
    }
    return 0;
}

/* Checks the schema version and creates or updates the schema. */
static int apply_schema(struct wl_store *st, char *err, size_t err_size)
{
    int version = 0, objects = 0;

    if (query_int(st, "PRAGMA user_version", &version) != SQLITE_OK)
        return db_error(st, "cannot read the schema version of", err, err_size);
    if (version > WL_SCHEMA_VERSION) {
        snprintf(err, err_size,
                 "database %s has schema version %d, newer than version %d "
                 "that wazlab %s reads; run a newer wazlab or use another "
                 "data directory",
                 st->path, version, WL_SCHEMA_VERSION, PACKAGE_VERSION);
        return WL_EUNSUPPORTED;
    }
    if (version == WL_SCHEMA_VERSION)
        return 0;
    if (version == 0) {
        if (query_int(st, "SELECT count(*) FROM sqlite_master", &objects) !=
            SQLITE_OK)
            return db_error(st, "cannot read the tables of", err, err_size);
        if (objects > 0) {
            snprintf(err, err_size,
                     "%s is not a wazlab database: it has %d tables or "
                     "indexes but no schema version",
                     st->path, objects);
            return WL_EUNSUPPORTED;
        }
    }
    return upgrade(st, version, err, err_size);
}

static int prepare_all(struct wl_store *st, char *err, size_t err_size)
{
    for (int i = 0; i < WL_STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK)
            return db_error(st, "cannot prepare statements on", err, err_size);
    }
    return 0;
}

int wl_store_open(struct wl_store *st, const char *path, char *err,
                  size_t err_size)
{
    int r;

    memset(st, 0, sizeof(*st));
    st->lock_fd = -1;
    st->path = strdup(path);
    if (st->path == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    r = take_lock(st, err, err_size);
    if (r != 0)
        goto out;
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        if (st->db != NULL) {
            r = db_error(st, "cannot open", err, err_size);
        } else {
            snprintf(err, err_size, "out of memory opening %s", path);
            r = WL_ENOMEM;
        }
        goto out;
    }
    r = configure(st, err, err_size);
    if (r == 0)
        r = apply_schema(st, err, err_size);
    if (r == 0)
        r = prepare_all(st, err, err_size);
out:
    if (r != 0)
        wl_store_close(st);
    return r;
}

void wl_store_close(struct wl_store *st)
{
    for (int i = 0; i < WL_STMT_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
        st->stmt[i] = NULL;
    }
    sqlite3_close(st->db);
    st->db = NULL;
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    st->lock_fd = -1;
    free(st->path);
    st->path = NULL;
}

/* Steps a statement that returns no rows, then resets it. */
static int step_reset(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);

    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int wl_store_run(struct wl_store *st, enum wl_store_stmt which)
{
    return step_reset(st->stmt[which]);
}

static void bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    if (text == NULL)
        sqlite3_bind_null(stmt, index);
    else
        sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

int wl_store_event(struct wl_store *st, const struct wl_event_row *row,
                   long long *event_id)
{
    sqlite3_stmt *stmt = st->stmt[WL_STMT_EVENT];
    int rc;

    bind_text(stmt, 1, row->received);
    bind_text(stmt, 2, row->agent_id);
    bind_text(stmt, 3, row->agent_name);
    bind_text(stmt, 4, row->agent_ip);
    bind_text(stmt, 5, row->location);
    /* A non-NULL pointer with length 0 stores an empty BLOB, not NULL. */
    if (row->message == NULL)
        sqlite3_bind_null(stmt, 6);
    else
        sqlite3_bind_blob64(stmt, 6, row->message, row->message_len,
                            SQLITE_STATIC);
    bind_text(stmt, 7, row->decoder);
    bind_text(stmt, 8, row->fields_json);
    rc = step_reset(stmt);
    if (rc == SQLITE_OK)
        *event_id = sqlite3_last_insert_rowid(st->db);
    return rc;
}

int wl_store_alert(struct wl_store *st, const struct wl_alert_row *row,
                   long long event_id)
{
    sqlite3_stmt *stmt = st->stmt[WL_STMT_ALERT];

    bind_text(stmt, 1, row->timestamp);
    bind_text(stmt, 2, row->agent_id);
    bind_text(stmt, 3, row->agent_name);
    bind_text(stmt, 4, row->agent_ip);
    sqlite3_bind_int(stmt, 5, row->rule_id);
    sqlite3_bind_int(stmt, 6, row->level);
    bind_text(stmt, 7, row->description);
    bind_text(stmt, 8, row->groups_json);
    bind_text(stmt, 9, row->mitre_json);
    bind_text(stmt, 10, row->location);
    bind_text(stmt, 11, row->decoder);
    bind_text(stmt, 12, row->full_log);
    bind_text(stmt, 13, row->fields_json);
    bind_text(stmt, 14, row->alert_json);
    if (event_id > 0)
        sqlite3_bind_int64(stmt, 15, event_id);
    else
        sqlite3_bind_null(stmt, 15);
    return step_reset(stmt);
}

static int run_agent(struct wl_store *st, enum wl_store_stmt which,
                     char *const values[WL_AGENT_COLUMNS])
{
    sqlite3_stmt *stmt = st->stmt[which];

    for (int i = 0; i < WL_AGENT_COLUMNS; i++)
        bind_text(stmt, i + 1, values[i]);
    return step_reset(stmt);
}

/*
 * Updates the agent, or inserts it when no row has its id. An UPSERT would
 * not do: SQLite checks NOT NULL before the conflict, so an update without
 * a name would fail.
 */
int wl_store_agent(struct wl_store *st, char *const values[WL_AGENT_COLUMNS])
{
    int rc = run_agent(st, WL_STMT_AGENT_UPDATE, values);

    if (rc == SQLITE_OK && sqlite3_changes(st->db) == 0)
        rc = run_agent(st, WL_STMT_AGENT_INSERT, values);
    return rc;
}
