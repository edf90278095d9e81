/* Tests of the database writer: db/writer.h, db/agents.h and the schema. */
#include "config.h"

#include "daemon/error.h"
#include "daemon/log.h"
#include "db/agents.h"
#include "db/writer.h"
#include "tests/tap.h"

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static char *path_in_dir(const char *name)
{
    static char paths[8][320];
    static int next;
    char *p = paths[next++ % 8];

    snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
    return p;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* A record with an event (message of len bytes) and, if rule_id > 0, an
 * alert. */
static struct wl_record *make_record(const char *agent_id, const void *msg,
                                     size_t len, int rule_id)
{
    struct wl_record *rec = wl_record_new();
    struct wl_event_row *ev = calloc(1, sizeof(*ev));
    char alert[128];

    ev->received = strdup("2026-12-04T16:35:30.123Z");
    ev->agent_id = dup_or_null(agent_id);
    ev->agent_name = strdup("WIN10");
    ev->agent_ip = strdup("192.0.2.10");
    ev->location = strdup("EventChannel");
    ev->message = malloc(len + 1);
    memcpy(ev->message, msg, len);
    ev->message[len] = '\0';
    ev->message_len = len;
    ev->decoder = strdup("windows_eventchannel");
    ev->fields_json = strdup("{\"win.system.eventID\":\"1\"}");
    rec->event = ev;
    if (rule_id > 0) {
        struct wl_alert_row *al = calloc(1, sizeof(*al));

        snprintf(alert, sizeof(alert),
                 "{\"rule\":{\"id\":\"%d\"},\"agent\":{\"id\":\"%s\"}}",
                 rule_id, agent_id ? agent_id : "");
        al->timestamp = strdup("2026-12-04T16:35:30.124Z");
        al->agent_id = dup_or_null(agent_id);
        al->agent_name = strdup("WIN10");
        al->agent_ip = strdup("192.0.2.10");
        al->rule_id = rule_id;
        al->level = 4;
        al->description = strdup("Powershell spawned cmd.exe");
        al->groups_json = strdup("[\"windows\",\"sysmon\"]");
        al->mitre_json = strdup("[\"T1059.003\"]");
        al->location = strdup("EventChannel");
        al->decoder = strdup("windows_eventchannel");
        al->full_log = strdup("{\"win\":{}}");
        al->fields_json = strdup("{\"win.eventdata.image\":\"cmd.exe\"}");
        al->alert_json = strdup(alert);
        rec->alert = al;
    }
    return rec;
}

static struct wl_record *text_record(const char *agent_id, int n)
{
    char msg[64];

    snprintf(msg, sizeof(msg), "f:EventChannel:message %d", n);
    return make_record(agent_id, msg, strlen(msg), 0);
}

static struct wl_writer *start(const char *db, const char *alerts,
                               size_t batch_max, int flush_ms)
{
    struct wl_writer_options opt = {
        .db_path = db,
        .alerts_json_path = alerts,
        .batch_max = batch_max,
        .flush_ms = flush_ms,
    };
    struct wl_writer *w = NULL;
    char err[512];
    int r = wl_writer_start(&opt, &w, err, sizeof(err));

    if (r != 0)
        tap_diag("wl_writer_start(%s): %s: %s", db, wl_strerror(r), err);
    return w;
}

static long long query_int(const char *db_path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    long long v = -1;

    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK) {
        tap_diag("cannot open %s: %s", db_path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        if (sqlite3_step(stmt) == SQLITE_ROW)
            v = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
    } else {
        tap_diag("%s: %s", sql, sqlite3_errmsg(db));
    }
    sqlite3_close(db);
    return v;
}

/* Waits until the writer made `transactions` commits, or 20 s passed. */
static int wait_transactions(struct wl_writer *w, unsigned long transactions)
{
    struct wl_writer_stats st;
    struct timespec pause = {0, 5 * 1000000L};

    for (int i = 0; i < 4000; i++) {
        wl_writer_get_stats(w, &st);
        if (st.transactions >= transactions)
            return 1;
        nanosleep(&pause, NULL);
    }
    return 0;
}

static void test_schema_and_settings(void)
{
    const char *db = path_in_dir("settings.db");
    struct wl_writer *w = start(db, NULL, 0, 0);
    struct wl_writer_stats st;

    ok(w != NULL, "start creates a database");
    if (w == NULL)
        return;
    wl_writer_stop(w, &st);
    is_int(query_int(db, "PRAGMA user_version"), 1, "schema version is 1");
    is_int(query_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                         "type = 'table' AND name IN "
                         "('events', 'alerts', 'agents')"),
           3, "schema creates events, alerts and agents");
    is_int(query_int(db, "SELECT count(*) FROM sqlite_master WHERE "
                         "type = 'index' AND name IN ('alerts_rule_id', "
                         "'alerts_level', 'alerts_timestamp', "
                         "'alerts_agent_id', 'events_received', "
                         "'events_agent_id')"),
           6, "schema creates the query indexes");
    is_int(query_int(db, "SELECT journal_mode = 'wal' FROM "
                         "pragma_journal_mode"),
           1, "database is in WAL mode");
    is_int(st.transactions, 0, "empty run commits nothing");
}

static int blob_equals(sqlite3_stmt *stmt, int col, const void *data,
                       size_t len)
{
    return (size_t)sqlite3_column_bytes(stmt, col) == len &&
           memcmp(sqlite3_column_blob(stmt, col), data, len) == 0;
}

static int text_equals(sqlite3_stmt *stmt, int col, const char *text)
{
    const char *got = (const char *)sqlite3_column_text(stmt, col);

    return got != NULL && strcmp(got, text) == 0;
}

static void test_rows_identical(void)
{
    static const char msg[] = "f:EventChannel:{\"a\":\"x\0y\"}\0\xff\n";
    const char *path = path_in_dir("rows.db");
    struct wl_writer *w = start(path, NULL, 0, 0);
    struct wl_record *rec;
    sqlite3 *db;
    sqlite3_stmt *stmt;
    int found;

    if (!ok(w != NULL, "start for row contents"))
        return;
    rec = make_record("001", msg, sizeof(msg) - 1, 92004);
    ok(wl_writer_submit(w, rec) == 0, "submit accepts a record");
    rec = make_record("002", "", 0, 0);
    ok(wl_writer_submit(w, rec) == 0, "submit accepts an empty message");
    is_int(wl_writer_submit(w, NULL), WL_EINVAL, "submit rejects NULL");
    ok(wl_writer_submit(w, wl_record_new()) == 0,
       "submit accepts a record without rows");
    wl_writer_stop(w, NULL);

    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_prepare_v2(db,
                       "SELECT received, agent_id, agent_name, agent_ip, "
                       "location, message, decoder, fields, "
                       "typeof(message) FROM events ORDER BY id",
                       -1, &stmt, NULL);
    found = sqlite3_step(stmt) == SQLITE_ROW;
    ok(found, "event row stored");
    if (found) {
        ok(text_equals(stmt, 0, "2026-12-04T16:35:30.123Z"), "event received");
        ok(text_equals(stmt, 1, "001"), "event agent_id");
        ok(text_equals(stmt, 2, "WIN10"), "event agent_name");
        ok(text_equals(stmt, 3, "192.0.2.10"), "event agent_ip");
        ok(text_equals(stmt, 4, "EventChannel"), "event location");
        ok(blob_equals(stmt, 5, msg, sizeof(msg) - 1),
           "event message byte-identical with NULs");
        ok(text_equals(stmt, 6, "windows_eventchannel"), "event decoder");
        ok(text_equals(stmt, 7, "{\"win.system.eventID\":\"1\"}"),
           "event fields");
        ok(text_equals(stmt, 8, "blob"), "event message stored as BLOB");
    }
    found = sqlite3_step(stmt) == SQLITE_ROW;
    ok(found && sqlite3_column_bytes(stmt, 5) == 0 &&
           sqlite3_column_type(stmt, 5) == SQLITE_BLOB,
       "empty message stored as empty BLOB");
    sqlite3_finalize(stmt);

    sqlite3_prepare_v2(db,
                       "SELECT timestamp, agent_id, agent_name, agent_ip, "
                       "rule_id, level, description, groups, mitre, "
                       "location, decoder, full_log, fields, alert, "
                       "event_id = (SELECT min(id) FROM events), "
                       "typeof(rule_id), typeof(level) FROM alerts",
                       -1, &stmt, NULL);
    found = sqlite3_step(stmt) == SQLITE_ROW;
    ok(found, "alert row stored");
    if (found) {
        ok(text_equals(stmt, 0, "2026-12-04T16:35:30.124Z"), "alert timestamp");
        ok(text_equals(stmt, 1, "001"), "alert agent_id");
        ok(text_equals(stmt, 2, "WIN10"), "alert agent_name");
        ok(text_equals(stmt, 3, "192.0.2.10"), "alert agent_ip");
        is_int(sqlite3_column_int(stmt, 4), 92004, "alert rule_id");
        is_int(sqlite3_column_int(stmt, 5), 4, "alert level");
        ok(text_equals(stmt, 6, "Powershell spawned cmd.exe"),
           "alert description");
        ok(text_equals(stmt, 7, "[\"windows\",\"sysmon\"]"), "alert groups");
        ok(text_equals(stmt, 8, "[\"T1059.003\"]"), "alert mitre");
        ok(text_equals(stmt, 9, "EventChannel"), "alert location");
        ok(text_equals(stmt, 10, "windows_eventchannel"), "alert decoder");
        ok(text_equals(stmt, 11, "{\"win\":{}}"), "alert full_log");
        ok(text_equals(stmt, 12, "{\"win.eventdata.image\":\"cmd.exe\"}"),
           "alert fields");
        ok(text_equals(stmt, 13,
                       "{\"rule\":{\"id\":\"92004\"},"
                       "\"agent\":{\"id\":\"001\"}}"),
           "alert JSON");
        is_int(sqlite3_column_int(stmt, 14), 1,
               "alert event_id points to its event");
        ok(text_equals(stmt, 15, "integer") && text_equals(stmt, 16, "integer"),
           "alert rule_id and level are integers");
    }
    ok(sqlite3_step(stmt) == SQLITE_DONE, "only one alert row");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_batch_by_count(void)
{
    const char *db = path_in_dir("count.db");
    struct wl_writer *w = start(db, NULL, 10, 600000);
    struct wl_writer_stats st;

    if (!ok(w != NULL, "start for batching by count"))
        return;
    for (int i = 0; i < 25; i++)
        wl_writer_submit(w, text_record("001", i));
    ok(wait_transactions(w, 2), "two full batches commit before stop");
    is_int(query_int(db, "SELECT count(*) FROM events"), 20,
           "full batches of 10 are visible, the partial one is not");
    wl_writer_stop(w, &st);
    is_int(st.transactions, 3, "stop commits the partial batch");
    is_int(st.events_written, 25, "all 25 events written");
    is_int(query_int(db, "SELECT count(*) FROM events"), 25,
           "all 25 events stored");
}

static void test_batch_by_time(void)
{
    const char *db = path_in_dir("time.db");
    struct wl_writer *w = start(db, NULL, 1000, 20);
    struct wl_writer_stats st;

    if (!ok(w != NULL, "start for batching by time"))
        return;
    for (int i = 0; i < 3; i++)
        wl_writer_submit(w, text_record("001", i));
    ok(wait_transactions(w, 1), "partial batch commits after flush_ms");
    is_int(query_int(db, "SELECT count(*) FROM events"), 3,
           "rows visible before stop");
    wl_writer_stop(w, &st);
    is_int(st.transactions, 1, "one transaction for the three rows");
    is_int(st.errors, 0, "no errors");
}

static void test_stop_drains(void)
{
    const char *db = path_in_dir("drain.db");
    struct wl_writer_options opt = {
        .db_path = db,
        .queue_capacity = 64,
        .batch_max = 100,
        .flush_ms = 600000,
    };
    struct wl_writer *w = NULL;
    struct wl_writer_stats st;
    char err[512];

    if (!ok(wl_writer_start(&opt, &w, err, sizeof(err)) == 0,
            "start with a small queue"))
        return;
    for (int i = 0; i < 5000; i++)
        wl_writer_submit(w, text_record("003", i));
    wl_writer_stop(w, &st);
    is_int(st.events_written, 5000, "stop writes every submitted record");
    is_int(st.dropped, 0, "nothing dropped");
    is_int(query_int(db, "SELECT count(*) FROM events"), 5000,
           "stop leaves every record stored");
}

static void test_second_open_busy(void)
{
    const char *db = path_in_dir("busy.db");
    struct wl_writer_options opt = {.db_path = db};
    struct wl_writer *w = start(db, NULL, 0, 0), *w2 = NULL;
    char err[512] = "", pid[32];
    int r;

    if (!ok(w != NULL, "start for the lock test"))
        return;
    r = wl_writer_start(&opt, &w2, err, sizeof(err));
    is_int(r, WL_EBUSY, "second open of the same database gets WL_EBUSY");
    ok(w2 == NULL, "second open returns no writer");
    ok(strstr(err, db) != NULL, "busy message names the database");
    snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
    ok(strstr(err, pid) != NULL, "busy message names the holder's pid");
    tap_diag("%s", err);
    wl_writer_stop(w, NULL);
    w = start(db, NULL, 0, 0);
    ok(w != NULL, "open works again after stop");
    if (w != NULL)
        wl_writer_stop(w, NULL);
}

static int exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    int rc;

    sqlite3_open(path, &db);
    rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void test_schema_versions(void)
{
    const char *newer = path_in_dir("newer.db");
    const char *foreign = path_in_dir("foreign.db");
    struct wl_writer_options opt = {.db_path = newer};
    struct wl_writer *w = NULL;
    char err[512] = "";
    int r;

    exec_sql(newer, "CREATE TABLE t (x); PRAGMA user_version = 2;");
    r = wl_writer_start(&opt, &w, err, sizeof(err));
    is_int(r, WL_EUNSUPPORTED, "newer schema version is rejected");
    ok(strstr(err, "schema version 2") && strstr(err, "newer"),
       "newer schema message gives the version");
    tap_diag("%s", err);
    is_int(query_int(newer, "PRAGMA user_version"), 2,
           "newer database left unchanged");

    exec_sql(foreign, "CREATE TABLE t (x);");
    opt.db_path = foreign;
    r = wl_writer_start(&opt, &w, err, sizeof(err));
    is_int(r, WL_EUNSUPPORTED, "database of another program is rejected");
    ok(strstr(err, "not a wazlab database") != NULL,
       "foreign database message says why");
    tap_diag("%s", err);

    exec_sql(newer, "PRAGMA user_version = 1;");
    opt.db_path = newer;
    r = wl_writer_start(&opt, &w, err, sizeof(err));
    ok(r != WL_EBUSY, "failed start released the lock");
    if (r == 0)
        wl_writer_stop(w, NULL);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;

    *len = 0;
    if (f == NULL)
        return NULL;
    buf = malloc(1 << 16);
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_alerts_json(void)
{
    const char *db = path_in_dir("json.db");
    const char *json = path_in_dir("alerts.json");
    struct wl_writer *w;
    char *text;
    size_t len;
    FILE *f = fopen(json, "w");

    /* An existing file is appended to, never truncated. */
    fputs("{\"earlier\":true}\n", f);
    fclose(f);
    w = start(db, json, 2, 600000);
    if (!ok(w != NULL, "start with alerts.json"))
        return;
    wl_writer_submit(w, make_record("001", "a", 1, 100300));
    wl_writer_submit(w, make_record("002", "b", 1, 0));
    wl_writer_submit(w, make_record("003", "c", 1, 92004));
    wait_transactions(w, 1);
    text = read_file(json, &len);
    is_str(text,
           "{\"earlier\":true}\n"
           "{\"rule\":{\"id\":\"100300\"},\"agent\":{\"id\":\"001\"}}\n",
           "alerts.json flushed at the first commit");
    free(text);
    wl_writer_stop(w, NULL);
    text = read_file(json, &len);
    is_str(text,
           "{\"earlier\":true}\n"
           "{\"rule\":{\"id\":\"100300\"},\"agent\":{\"id\":\"001\"}}\n"
           "{\"rule\":{\"id\":\"92004\"},\"agent\":{\"id\":\"003\"}}\n",
           "alerts.json has one line per alert");
    free(text);
}

static void test_alerts_json_full(void)
{
    const char *db = path_in_dir("full.db");
    struct wl_writer *w;
    struct wl_writer_stats st;

    if (access("/dev/full", W_OK) != 0) {
        tap_skip("/dev/full is not available");
        return;
    }
    w = start(db, "/dev/full", 0, 0);
    if (!ok(w != NULL, "start with alerts.json on a full device"))
        return;
    wl_writer_submit(w, make_record("001", "a", 1, 100300));
    wl_writer_stop(w, &st);
    is_int(st.errors, 1, "failed alerts.json write counted");
    is_int(st.alerts_written, 1, "alert row stored despite alerts.json");
}

static void test_reopen_keeps_rows(void)
{
    const char *db = path_in_dir("reopen.db");
    struct wl_writer *w = start(db, NULL, 0, 0);

    if (!ok(w != NULL, "first start"))
        return;
    for (int i = 0; i < 10; i++)
        wl_writer_submit(w, make_record("001", "x", 1, 60103));
    wl_writer_stop(w, NULL);
    w = start(db, NULL, 0, 0);
    if (!ok(w != NULL, "reopen the same database"))
        return;
    for (int i = 0; i < 5; i++)
        wl_writer_submit(w, text_record("002", i));
    wl_writer_stop(w, NULL);
    is_int(query_int(db, "SELECT count(*) FROM events"), 15,
           "reopened database keeps earlier events");
    is_int(query_int(db, "SELECT count(*) FROM alerts"), 10,
           "reopened database keeps earlier alerts");
    is_int(query_int(db, "PRAGMA user_version"), 1,
           "reopen keeps the schema version");
}

static void test_bad_row(void)
{
    const char *db = path_in_dir("badrow.db");
    struct wl_writer *w = start(db, NULL, 0, 0);
    struct wl_writer_stats st;
    struct wl_record *bad;

    if (!ok(w != NULL, "start for a bad row"))
        return;
    wl_writer_submit(w, text_record("001", 1));
    bad = make_record("002", "y", 1, 5710);
    free(bad->event->received); /* events.received is NOT NULL */
    bad->event->received = NULL;
    wl_writer_submit(w, bad);
    wl_writer_submit(w, text_record("003", 3));
    wl_writer_stop(w, &st);
    is_int(st.dropped, 1, "the bad row is counted as not stored");
    is_int(st.errors, 1, "the bad row is counted as an error");
    is_int(st.events_written, 2, "the other events are stored");
    is_int(st.alerts_written, 1, "the bad row's alert is stored");
    is_int(query_int(db, "SELECT count(*) FROM events"), 2,
           "events table has the good rows");
    is_int(query_int(db, "SELECT count(*) FROM alerts WHERE "
                         "event_id IS NULL AND rule_id = 5710"),
           1, "alert of the bad event has no event_id");
}

static void test_failing_batch(void)
{
    const char *db = path_in_dir("rollback.db");
    struct wl_writer *w = start(db, NULL, 0, 0);
    struct wl_writer_stats st;

    if (!ok(w != NULL, "create a database for a failing batch"))
        return;
    wl_writer_stop(w, NULL);
    /* RAISE(ROLLBACK) ends the whole transaction, unlike a constraint. */
    is_int(exec_sql(db, "CREATE TRIGGER reject_bad BEFORE INSERT ON events "
                        "WHEN NEW.agent_id = 'bad' "
                        "BEGIN SELECT RAISE(ROLLBACK, 'rejected'); END;"),
           SQLITE_OK, "trigger that rolls back created");
    w = start(db, NULL, 0, 0);
    if (!ok(w != NULL, "start for a failing batch"))
        return;
    wl_writer_submit(w, text_record("001", 1));
    wl_writer_submit(w, make_record("bad", "z", 1, 0));
    wl_writer_submit(w, make_record("003", "w", 1, 60103));
    wl_writer_stop(w, &st);
    is_int(st.events_written, 2, "other events stored one by one");
    is_int(st.alerts_written, 1, "other alert stored one by one");
    is_int(st.dropped, 1, "rejected record counted as lost");
    is_int(st.errors, 6, "five batch attempts and one single failed");
    is_int(query_int(db, "SELECT count(*) FROM events WHERE agent_id IN "
                         "('001', '003')"),
           2, "events of the other agents stored");
}

static void test_reopen_alerts_json(void)
{
    const char *db = path_in_dir("rotate.db");
    const char *json = path_in_dir("rotate.json");
    const char *rotated = path_in_dir("rotate.json.1");
    struct wl_writer *w = start(db, json, 0, 1);
    char *text;
    size_t len;

    if (!ok(w != NULL, "start for alerts.json rotation"))
        return;
    wl_writer_submit(w, make_record("001", "a", 1, 1001));
    wait_transactions(w, 1);
    ok(rename(json, rotated) == 0, "alerts.json renamed");
    wl_writer_reopen_alerts_json(w);
    wl_writer_submit(w, make_record("002", "b", 1, 1002));
    wl_writer_stop(w, NULL);
    text = read_file(rotated, &len);
    is_str(text, "{\"rule\":{\"id\":\"1001\"},\"agent\":{\"id\":\"001\"}}\n",
           "rotated file keeps the earlier alert");
    free(text);
    text = read_file(json, &len);
    is_str(text, "{\"rule\":{\"id\":\"1002\"},\"agent\":{\"id\":\"002\"}}\n",
           "reopened file gets the later alert");
    free(text);
}

struct lock_holder {
    const char *path;
    int ms;
};

/* Holds the database's write lock from another connection for a while. */
static void *hold_write_lock(void *arg)
{
    struct lock_holder *h = arg;
    struct timespec pause = {h->ms / 1000, (h->ms % 1000) * 1000000L};
    sqlite3 *db;

    sqlite3_open(h->path, &db);
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    nanosleep(&pause, NULL);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return NULL;
}

static void test_busy_database(void)
{
    const char *db = path_in_dir("locked.db");
    struct wl_writer *w = start(db, NULL, 0, 0);
    struct lock_holder h = {db, 300};
    struct timespec pause = {0, 50 * 1000000L};
    struct wl_writer_stats st;
    pthread_t t;

    if (!ok(w != NULL, "start for a locked database"))
        return;
    pthread_create(&t, NULL, hold_write_lock, &h);
    nanosleep(&pause, NULL);
    for (int i = 0; i < 100; i++)
        wl_writer_submit(w, text_record("004", i));
    wl_writer_stop(w, &st);
    pthread_join(t, NULL);
    is_int(st.events_written, 100,
           "rows wait for another connection's write lock");
    is_int(st.dropped, 0, "nothing dropped while locked");
}

static void test_agents(void)
{
    const char *db = path_in_dir("agents.db");
    struct wl_writer *w = start(db, NULL, 0, 0);
    struct wl_agent_row row = {
        .id = "001",
        .name = "WIN10",
        .register_ip = "any",
        .key_hash = "0123456789abcdef",
        .groups = "default",
    };
    struct wl_agent_row keepalive = {
        .id = "001",
        .ip = "192.0.2.10",
        .version = "Wazuh v4.14.7",
        .last_keepalive = "2026-12-04T16:40:00.000Z",
        .status = "active",
    };
    struct wl_agent_row nameless = {.id = "002"};
    struct wl_agent_row no_id = {.name = "x"};
    struct wl_writer_stats st;

    if (!ok(w != NULL, "start for agents"))
        return;
    is_int(wl_writer_agent_upsert(w, &row), 0, "agent insert queued");
    is_int(wl_writer_agent_upsert(w, &keepalive), 0, "agent update queued");
    is_int(wl_writer_agent_upsert(w, &nameless), 0,
           "nameless new agent queued");
    is_int(wl_writer_agent_upsert(w, &no_id), WL_EINVAL,
           "agent without id rejected");
    wl_writer_stop(w, &st);
    is_int(st.agents_written, 2, "two agent changes stored");
    is_int(st.dropped, 1, "new agent without a name not stored");
    is_int(query_int(db, "SELECT count(*) FROM agents"), 1, "one agent row");
    is_int(query_int(db, "SELECT name = 'WIN10' AND register_ip = 'any' AND "
                         "groups = 'default' AND ip = '192.0.2.10' AND "
                         "status = 'active' AND version = 'Wazuh v4.14.7' "
                         "AND last_keepalive = '2026-12-04T16:40:00.000Z' "
                         "FROM agents WHERE id = '001'"),
           1, "update keeps the fields it leaves NULL");
    is_int(query_int(db, "SELECT registered LIKE '____-__-__T__:__:__.___Z'"
                         " FROM agents WHERE id = '001'"),
           1, "new agent gets the registration time");
}

#define PRODUCERS 4
#define PER_PRODUCER 25000

struct producer {
    struct wl_writer *w;
    int index;
    int failures;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    char msg[64], agent[16];

    snprintf(agent, sizeof(agent), "%03d", p->index + 1);
    for (int i = 0; i < PER_PRODUCER; i++) {
        int len =
            snprintf(msg, sizeof(msg), "f:EventChannel:%d-%d", p->index, i);

        if (wl_writer_submit(p->w, make_record(agent, msg, (size_t)len,
                                               i % 10 == 0 ? 100300 : 0)) != 0)
            p->failures++;
    }
    return NULL;
}

static void test_many_producers(void)
{
    const char *db = path_in_dir("many.db");
    struct wl_writer *w = start(db, NULL, 0, 0);
    struct producer p[PRODUCERS];
    pthread_t t[PRODUCERS];
    struct wl_writer_stats st;
    int failures = 0;

    if (!ok(w != NULL, "start for many producers"))
        return;
    for (int i = 0; i < PRODUCERS; i++) {
        p[i] = (struct producer){w, i, 0};
        pthread_create(&t[i], NULL, produce, &p[i]);
    }
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(t[i], NULL);
        failures += p[i].failures;
    }
    wl_writer_stop(w, &st);
    is_int(failures, 0, "every submit from 4 threads accepted");
    is_int(st.events_written, PRODUCERS * PER_PRODUCER,
           "writer counts 100000 events");
    is_int(query_int(db, "SELECT count(*) FROM events"),
           PRODUCERS * PER_PRODUCER, "100000 events stored");
    is_int(query_int(db, "SELECT count(DISTINCT message) FROM events"),
           PRODUCERS * PER_PRODUCER, "each event stored exactly once");
    is_int(query_int(db, "SELECT count(*) FROM alerts"),
           PRODUCERS * PER_PRODUCER / 10, "10000 alerts stored");
    is_int(query_int(db, "SELECT count(*) FROM alerts a JOIN events e ON "
                         "e.id = a.event_id AND e.agent_id = a.agent_id"),
           PRODUCERS * PER_PRODUCER / 10, "each alert points to its own event");
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    return remove(path);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");

    wl_log_init("test-writer", WL_LOG_WARN);
    snprintf(dir, sizeof(dir), "%s/test-writer-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        printf("Bail out! cannot create a directory in %s\n", dir);
        return 1;
    }
    test_schema_and_settings();
    test_rows_identical();
    test_batch_by_count();
    test_batch_by_time();
    test_stop_drains();
    test_second_open_busy();
    test_schema_versions();
    test_alerts_json();
    test_alerts_json_full();
    test_reopen_keeps_rows();
    test_bad_row();
    test_failing_batch();
    test_reopen_alerts_json();
    test_busy_database();
    test_agents();
    test_many_producers();
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return tap_done();
}
