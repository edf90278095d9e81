/*
 * The database writer: one thread that owns the SQLite connection (and
 * alerts.json), takes records from a bounded queue and commits them in
 * batches, by count and by a short time limit.
 */
#ifndef WL_WRITER_H
#define WL_WRITER_H

#include <stddef.h>

#include "db/record.h"

struct wl_writer;

struct wl_writer_options {
    const char *db_path;          /* "<data dir>/wazlab.db" */
    const char *alerts_json_path; /* NULL: no alerts.json */
    size_t queue_capacity;        /* records waiting; default 8192 */
    size_t batch_max;             /* rows per transaction; default 1024 */
    int flush_ms;                 /* commit at least this often; 200 */
};

struct wl_writer_stats {
    unsigned long events_written;
    unsigned long alerts_written;
    unsigned long transactions;
    unsigned long errors;         /* SQLite and alerts.json write errors */
    unsigned long agents_written; /* agent inserts and updates stored */
    unsigned long dropped;        /* rows not stored after every retry */
};

/*
 * Opens the database (WAL mode), applies the schema, takes an exclusive
 * lock so that a second daemon on the same database fails at once, and
 * starts the thread. Returns 0 and *out, or a WL_E* code (WL_EBUSY when
 * another process holds the database) with a message in err.
 */
int wl_writer_start(const struct wl_writer_options *opt, struct wl_writer **out,
                    char *err, size_t err_size);

/*
 * Hands rec to the writer, which frees it once stored. Waits while the
 * queue is full (backpressure). Returns 0, WL_EBUSY after stop began
 * (rec is then freed here), or WL_EINVAL when rec is NULL.
 */
int wl_writer_submit(struct wl_writer *w, struct wl_record *rec);

/* Returns the number of records waiting (a snapshot). */
size_t wl_writer_backlog(struct wl_writer *w);

/*
 * Makes the writer close and reopen alerts.json before its next batch, so
 * that after log rotation it writes to a new file. Lock-free, so a signal
 * handler may call it. Does nothing without alerts.json.
 */
void wl_writer_reopen_alerts_json(struct wl_writer *w);

/* Copies the counters so far into *stats (a snapshot). */
void wl_writer_get_stats(struct wl_writer *w, struct wl_writer_stats *stats);

/*
 * Stores everything already submitted, commits, closes the database and
 * joins the thread. Fills *stats when not NULL. Frees w. Call it once every
 * thread that submits has returned from its last wl_writer_submit().
 */
void wl_writer_stop(struct wl_writer *w, struct wl_writer_stats *stats);

#endif
