#include "config.h"

#include "db/writer.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "daemon/queue.h"
#include "db/agents.h"
#include "db/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_QUEUE_CAPACITY 8192
#define DEFAULT_BATCH_MAX 1024
#define DEFAULT_FLUSH_MS 200

/* Tries per batch when the database is locked or fails as a whole. */
#define BATCH_ATTEMPTS 5
#define RETRY_PAUSE_MS 100

/* wl_writer_reopen_alerts_json() promises signal safety. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int must be lock-free");

/* Rows of a job, as bits of job.failed. */
enum {
    ROW_EVENT = 1,
    ROW_ALERT = 2,
    ROW_AGENT = 4,
};

/* One queue item: a record or an agent change. */
struct job {
    struct wl_record *rec; /* NULL for an agent change */
    char **agent;          /* WL_AGENT_COLUMNS copied values, or NULL */
    unsigned failed;       /* ROW_* bits of rows given up on */
};

struct wl_writer {
    struct wl_writer_options opt;
    struct wl_store store;
    FILE *alerts_json;
    char *alerts_json_path;
    atomic_int reopen_alerts_json; /* set by wl_writer_reopen_alerts_json */
    struct wl_queue queue;
    pthread_t thread;

    struct job **batch; /* opt.batch_max slots */
    size_t batch_len;
    long long batch_deadline; /* monotonic ms by which to commit */

    char error[256]; /* SQLite's message for the last failed commit */

    pthread_mutex_t stats_lock;
    struct wl_writer_stats stats;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void free_job(struct job *job)
{
    if (job == NULL)
        return;
    wl_record_free(job->rec);
    if (job->agent != NULL) {
        for (int i = 0; i < WL_AGENT_COLUMNS; i++)
            free(job->agent[i]);
        free(job->agent);
    }
    free(job);
}

static const char *job_agent_id(const struct job *job)
{
    const char *id = NULL;

    if (job->agent != NULL)
        id = job->agent[WL_AGENT_ID];
    else if (job->rec == NULL)
        id = NULL;
    else if (job->rec->event != NULL)
        id = job->rec->event->agent_id;
    else if (job->rec->alert != NULL)
        id = job->rec->alert->agent_id;
    return id != NULL ? id : "(none)";
}

/* Rows a job still has to store, as ROW_* bits. */
static unsigned job_rows(const struct job *job)
{
    unsigned rows = 0;

    if (job->agent != NULL)
        rows |= ROW_AGENT;
    if (job->rec != NULL && job->rec->event != NULL)
        rows |= ROW_EVENT;
    if (job->rec != NULL && job->rec->alert != NULL)
        rows |= ROW_ALERT;
    return rows & ~job->failed;
}

/* Writes "001, 002, ..." for the distinct agent ids of n jobs. */
static void agent_ids(struct job *const *jobs, size_t n, char *out, size_t size)
{
    size_t used = 0, listed = 0, more = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *id = job_agent_id(jobs[i]);
        int seen = 0;

        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(job_agent_id(jobs[j]), id) == 0;
        if (seen)
            continue;
        if (listed == 8 || used + strlen(id) + 24 > size) {
            more++;
            continue;
        }
        used +=
            snprintf(out + used, size - used, "%s%s", listed ? ", " : "", id);
        listed++;
    }
    if (more > 0)
        snprintf(out + used, size - used, " and %zu more", more);
}

static void count(struct wl_writer *w, unsigned long *counter, unsigned long n)
{
    pthread_mutex_lock(&w->stats_lock);
    *counter += n;
    pthread_mutex_unlock(&w->stats_lock);
}

/*
 * Errors that concern one row only: SQLite rolls back that statement and
 * keeps the transaction, so the other rows of the batch can still commit.
 */
static int is_row_error(struct wl_writer *w, int rc)
{
    int primary = rc & 0xff;

    if (sqlite3_get_autocommit(w->store.db))
        return 0;
    return primary == SQLITE_CONSTRAINT || primary == SQLITE_TOOBIG ||
           primary == SQLITE_MISMATCH || primary == SQLITE_RANGE;
}

static void give_up_row(struct wl_writer *w, struct job *job, unsigned row,
                        int rc)
{
    const char *table = row == ROW_EVENT   ? "events"
                        : row == ROW_ALERT ? "alerts"
                                           : "agents";

    job->failed |= row;
    wl_log_limited(WL_LOG_ERROR, "db-row",
                   "cannot store a row of agent %s in %s of %s: %s",
                   job_agent_id(job), table, w->store.path,
                   sqlite3_errmsg(w->store.db));
    count(w, &w->stats.errors, 1);
    count(w, &w->stats.dropped, 1);
}

/*
 * Stores the rows of one job that have not failed yet. Returns SQLITE_OK,
 * also after giving up on single rows, or the code of an error that ends
 * the whole transaction.
 */
static int store_job(struct wl_writer *w, struct job *job)
{
    unsigned rows = job_rows(job);
    long long event_id = 0;
    int rc;

    if (rows & ROW_AGENT) {
        rc = wl_store_agent(&w->store, job->agent);
        if (rc != SQLITE_OK && !is_row_error(w, rc))
            return rc;
        if (rc != SQLITE_OK)
            give_up_row(w, job, ROW_AGENT, rc);
    }
    if (rows & ROW_EVENT) {
        rc = wl_store_event(&w->store, job->rec->event, &event_id);
        if (rc != SQLITE_OK && !is_row_error(w, rc))
            return rc;
        if (rc != SQLITE_OK)
            give_up_row(w, job, ROW_EVENT, rc);
    }
    if (rows & ROW_ALERT) {
        rc = wl_store_alert(&w->store, job->rec->alert, event_id);
        if (rc != SQLITE_OK && !is_row_error(w, rc))
            return rc;
        if (rc != SQLITE_OK)
            give_up_row(w, job, ROW_ALERT, rc);
    }
    return SQLITE_OK;
}

/*
 * Runs n jobs as one transaction and returns the SQLite result code. The
 * error message is kept in w->error, because the rollback replaces
 * SQLite's.
 */
static int try_jobs(struct wl_writer *w, struct job *const *jobs, size_t n)
{
    int rc = wl_store_run(&w->store, WL_STMT_BEGIN);

    for (size_t i = 0; i < n && rc == SQLITE_OK; i++)
        rc = store_job(w, jobs[i]);
    if (rc == SQLITE_OK)
        rc = wl_store_run(&w->store, WL_STMT_COMMIT);
    if (rc == SQLITE_OK)
        return rc;
    snprintf(w->error, sizeof(w->error), "%s", sqlite3_errmsg(w->store.db));
    if (!sqlite3_get_autocommit(w->store.db))
        wl_store_run(&w->store, WL_STMT_ROLLBACK);
    return rc;
}

/* Adds the rows of n jobs just committed to the counters. */
static void count_stored(struct wl_writer *w, struct job *const *jobs, size_t n)
{
    unsigned long events = 0, alerts = 0, agents = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned rows = job_rows(jobs[i]);

        events += (rows & ROW_EVENT) != 0;
        alerts += (rows & ROW_ALERT) != 0;
        agents += (rows & ROW_AGENT) != 0;
    }
    pthread_mutex_lock(&w->stats_lock);
    w->stats.events_written += events;
    w->stats.alerts_written += alerts;
    w->stats.agents_written += agents;
    w->stats.transactions++;
    pthread_mutex_unlock(&w->stats_lock);
}

/* Logs and counts the rows of n jobs as lost. */
static void drop_jobs(struct wl_writer *w, struct job *const *jobs, size_t n)
{
    unsigned long rows = 0;
    char ids[256];

    for (size_t i = 0; i < n; i++) {
        unsigned left = job_rows(jobs[i]);

        rows += (left & ROW_EVENT) != 0;
        rows += (left & ROW_ALERT) != 0;
        rows += (left & ROW_AGENT) != 0;
    }
    agent_ids(jobs, n, ids, sizeof(ids));
    wl_log_limited(WL_LOG_ERROR, "db-lost",
                   "%lu rows of agents %s are lost: storing them in %s "
                   "failed: %s",
                   rows, ids, w->store.path, w->error);
    count(w, &w->stats.dropped, rows);
}

/*
 * Commits n jobs in one transaction, trying up to attempts times with a
 * growing pause, and counts what was stored. Returns the SQLite result
 * code of the last attempt.
 */
static int commit_jobs(struct wl_writer *w, struct job *const *jobs, size_t n,
                       int attempts)
{
    char ids[256];
    int rc = SQLITE_OK;

    for (int attempt = 1; attempt <= attempts; attempt++) {
        rc = try_jobs(w, jobs, n);
        if (rc == SQLITE_OK) {
            count_stored(w, jobs, n);
            return rc;
        }
        count(w, &w->stats.errors, 1);
        agent_ids(jobs, n, ids, sizeof(ids));
        wl_log_limited(WL_LOG_WARN, "db-commit",
                       "committing %zu records of agents %s to %s failed "
                       "(attempt %d of %d): %s",
                       n, ids, w->store.path, attempt, attempts, w->error);
        if (attempt < attempts)
            pause_ms(RETRY_PAUSE_MS * attempt);
    }
    return rc;
}

static void reopen_alerts_json(struct wl_writer *w)
{
    if (w->alerts_json != NULL)
        fclose(w->alerts_json);
    w->alerts_json = fopen(w->alerts_json_path, "ae");
    if (w->alerts_json == NULL) {
        wl_log_limited(WL_LOG_ERROR, "alerts-json-open",
                       "cannot open %s: %s; alerts are not written there "
                       "until it opens again",
                       w->alerts_json_path, strerror(errno));
        count(w, &w->stats.errors, 1);
    }
}

static void write_alerts_json(struct wl_writer *w)
{
    int failed = 0, error = 0;

    if (atomic_exchange(&w->reopen_alerts_json, 0) || w->alerts_json == NULL)
        reopen_alerts_json(w);
    if (w->alerts_json == NULL)
        return;

    for (size_t i = 0; i < w->batch_len; i++) {
        const struct wl_record *rec = w->batch[i]->rec;
        size_t len;

        if (rec == NULL || rec->alert == NULL || rec->alert->alert_json == NULL)
            continue;
        len = strlen(rec->alert->alert_json);
        if (fwrite(rec->alert->alert_json, 1, len, w->alerts_json) != len ||
            fputc('\n', w->alerts_json) == EOF) {
            failed++;
            error = errno;
        }
    }
    if (fflush(w->alerts_json) != 0) {
        failed++;
        error = errno;
    }
    if (failed > 0) {
        wl_log_limited(WL_LOG_ERROR, "alerts-json", "cannot write to %s: %s",
                       w->alerts_json_path, strerror(error));
        count(w, &w->stats.errors, 1);
        clearerr(w->alerts_json);
    }
}

/*
 * Commits the batch, then appends its alerts to alerts.json and frees it.
 * A batch that still fails after BATCH_ATTEMPTS is stored one record per
 * transaction, so a record that makes every transaction fail loses only
 * its own rows. That is skipped when another connection holds the lock,
 * because each record would then wait out the busy timeout.
 */
static void flush_batch(struct wl_writer *w)
{
    int rc;

    if (w->batch_len == 0)
        return;
    rc = commit_jobs(w, w->batch, w->batch_len, BATCH_ATTEMPTS);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY &&
        (rc & 0xff) != SQLITE_LOCKED && w->batch_len > 1) {
        wl_log_warn("storing the %zu records of a failed batch one by one",
                    w->batch_len);
        for (size_t i = 0; i < w->batch_len; i++) {
            if (commit_jobs(w, &w->batch[i], 1, 1) != SQLITE_OK)
                drop_jobs(w, &w->batch[i], 1);
        }
    } else if (rc != SQLITE_OK) {
        drop_jobs(w, w->batch, w->batch_len);
    }
    if (w->alerts_json_path != NULL)
        write_alerts_json(w);
    for (size_t i = 0; i < w->batch_len; i++)
        free_job(w->batch[i]);
    w->batch_len = 0;
}

static void *writer_main(void *arg)
{
    struct wl_writer *w = arg;
    void *item;

    for (;;) {
        int timeout = -1, r;

        if (w->batch_len > 0) {
            long long left = w->batch_deadline - now_ms();

            if (left <= 0) {
                flush_batch(w);
                continue;
            }
            timeout = (int)left;
        }
        r = wl_queue_pop(&w->queue, &item, timeout);
        if (r == WL_EBUSY)
            break;
        if (r == WL_EAGAIN) {
            flush_batch(w);
            continue;
        }
        if (w->batch_len == 0)
            w->batch_deadline = now_ms() + w->opt.flush_ms;
        w->batch[w->batch_len++] = item;
        if (w->batch_len == w->opt.batch_max)
            flush_batch(w);
    }
    flush_batch(w);
    return NULL;
}

static int open_alerts_json(struct wl_writer *w, const char *path, char *err,
                            size_t err_size)
{
    w->alerts_json_path = strdup(path);
    if (w->alerts_json_path == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    w->alerts_json = fopen(path, "ae");
    if (w->alerts_json == NULL) {
        snprintf(err, err_size, "cannot open %s for appending: %s", path,
                 strerror(errno));
        return WL_EIO;
    }
    return 0;
}

static void destroy(struct wl_writer *w)
{
    if (w->alerts_json != NULL)
        fclose(w->alerts_json);
    free(w->alerts_json_path);
    free(w->batch);
    pthread_mutex_destroy(&w->stats_lock);
    free(w);
}

int wl_writer_start(const struct wl_writer_options *opt, struct wl_writer **out,
                    char *err, size_t err_size)
{
    struct wl_writer *w;
    int r, stage = 0;

    *out = NULL;
    if (opt->db_path == NULL) {
        snprintf(err, err_size, "no database path given");
        return WL_EINVAL;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    atomic_init(&w->reopen_alerts_json, 0);
    pthread_mutex_init(&w->stats_lock, NULL);
    w->opt = *opt;
    if (w->opt.queue_capacity == 0)
        w->opt.queue_capacity = DEFAULT_QUEUE_CAPACITY;
    if (w->opt.batch_max == 0)
        w->opt.batch_max = DEFAULT_BATCH_MAX;
    if (w->opt.flush_ms <= 0)
        w->opt.flush_ms = DEFAULT_FLUSH_MS;
    w->opt.db_path = NULL;
    w->opt.alerts_json_path = NULL;

    r = WL_ENOMEM;
    snprintf(err, err_size, "out of memory");
    w->batch = calloc(w->opt.batch_max, sizeof(*w->batch));
    if (w->batch == NULL)
        goto out;
    if (wl_queue_init(&w->queue, w->opt.queue_capacity) != 0)
        goto out;
    stage = 1;
    r = wl_store_open(&w->store, opt->db_path, err, err_size);
    if (r != 0)
        goto out;
    stage = 2;
    if (opt->alerts_json_path != NULL) {
        r = open_alerts_json(w, opt->alerts_json_path, err, err_size);
        if (r != 0)
            goto out;
    }
    r = pthread_create(&w->thread, NULL, writer_main, w);
    if (r != 0) {
        snprintf(err, err_size, "cannot start the writer thread: %s",
                 strerror(r));
        r = WL_EINTERNAL;
        goto out;
    }
    wl_log_info("database %s open (schema version %d)", opt->db_path,
                WL_SCHEMA_VERSION);
    *out = w;
    return 0;
out:
    if (stage >= 2)
        wl_store_close(&w->store);
    if (stage >= 1)
        wl_queue_destroy(&w->queue);
    destroy(w);
    return r;
}

static int submit_job(struct wl_writer *w, struct job *job)
{
    if (wl_queue_push(&w->queue, job) != 0) {
        free_job(job);
        return WL_EBUSY;
    }
    return 0;
}

int wl_writer_submit(struct wl_writer *w, struct wl_record *rec)
{
    struct job *job;

    if (rec == NULL)
        return WL_EINVAL;
    job = calloc(1, sizeof(*job));
    if (job == NULL)
        wl_fatal_nomem("database writer");
    job->rec = rec;
    return submit_job(w, job);
}

int wl_writer_agent_upsert(struct wl_writer *w, const struct wl_agent_row *row)
{
    const char *values[WL_AGENT_COLUMNS] = {
        [WL_AGENT_ID] = row->id,
        [WL_AGENT_NAME] = row->name,
        [WL_AGENT_IP] = row->ip,
        [WL_AGENT_REGISTER_IP] = row->register_ip,
        [WL_AGENT_KEY_HASH] = row->key_hash,
        [WL_AGENT_VERSION] = row->version,
        [WL_AGENT_OS_NAME] = row->os_name,
        [WL_AGENT_OS_VERSION] = row->os_version,
        [WL_AGENT_OS_PLATFORM] = row->os_platform,
        [WL_AGENT_OS_ARCH] = row->os_arch,
        [WL_AGENT_OS_UNAME] = row->os_uname,
        [WL_AGENT_GROUPS] = row->groups,
        [WL_AGENT_CONFIG_SUM] = row->config_sum,
        [WL_AGENT_MERGED_SUM] = row->merged_sum,
        [WL_AGENT_NODE_NAME] = row->node_name,
        [WL_AGENT_REGISTERED] = row->registered,
        [WL_AGENT_LAST_KEEPALIVE] = row->last_keepalive,
        [WL_AGENT_DISCONNECTION_TIME] = row->disconnection_time,
        [WL_AGENT_STATUS] = row->status,
    };
    struct job *job;

    if (row->id == NULL)
        return WL_EINVAL;
    job = calloc(1, sizeof(*job));
    if (job == NULL)
        return WL_ENOMEM;
    job->agent = calloc(WL_AGENT_COLUMNS, sizeof(*job->agent));
    if (job->agent == NULL)
        goto nomem;
    for (int i = 0; i < WL_AGENT_COLUMNS; i++) {
        if (values[i] == NULL)
            continue;
        job->agent[i] = strdup(values[i]);
        if (job->agent[i] == NULL)
            goto nomem;
    }
    return submit_job(w, job);
nomem:
    free_job(job);
    return WL_ENOMEM;
}

void wl_writer_reopen_alerts_json(struct wl_writer *w)
{
    atomic_store(&w->reopen_alerts_json, 1);
}

size_t wl_writer_backlog(struct wl_writer *w)
{
    return wl_queue_length(&w->queue);
}

void wl_writer_get_stats(struct wl_writer *w, struct wl_writer_stats *stats)
{
    pthread_mutex_lock(&w->stats_lock);
    *stats = w->stats;
    pthread_mutex_unlock(&w->stats_lock);
}

void wl_writer_stop(struct wl_writer *w, struct wl_writer_stats *stats)
{
    struct wl_writer_stats final;

    wl_queue_close(&w->queue);
    pthread_join(w->thread, NULL);
    wl_queue_destroy(&w->queue);
    wl_writer_get_stats(w, &final);
    wl_log_info("database %s closed: %lu events, %lu alerts and %lu agent "
                "changes stored in %lu transactions, %lu errors, %lu rows "
                "not stored",
                w->store.path, final.events_written, final.alerts_written,
                final.agents_written, final.transactions, final.errors,
                final.dropped);
    wl_store_close(&w->store);
    if (stats != NULL)
        *stats = final;
    destroy(w);
}
