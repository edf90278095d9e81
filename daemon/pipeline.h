/*
 * The analysis pipeline: a bounded queue of received messages and the
 * analysis threads that take messages from it, run wl_analysis_process()
 * and hand the records to the database writer.
 *
 * Only the event loop thread submits. When the queue fills, the loop
 * stops reading and calls wl_pipeline_request_drain(); a worker calls
 * on_drain (from its own thread) once the queue is down to the low-water
 * mark, so the loop can read again. Nothing is ever dropped.
 */
#ifndef WL_PIPELINE_H
#define WL_PIPELINE_H

#include <stddef.h>

#include "daemon/config.h"
#include "daemon/message.h"
#include "db/writer.h"

struct wl_pipeline;

struct wl_pipeline_options {
    const struct wl_config *config;
    int threads;           /* analysis threads, at least 1 */
    size_t queue_capacity; /* messages waiting, at least 4 */
    struct wl_writer *writer;
    void (*on_drain)(void *arg); /* called from a worker thread */
    void *drain_arg;
};

struct wl_pipeline_stats {
    unsigned long analysed; /* messages through wl_analysis_process() */
    unsigned long failed;   /* messages the analysis stage rejected */
    unsigned long records;  /* records handed to the writer */
    unsigned long dropped;  /* messages the decoders rejected (archived) */
};

/*
 * Builds the analysis stage and starts the threads. Returns 0 and *out,
 * or a WL_E* code with a message in err.
 */
int wl_pipeline_start(const struct wl_pipeline_options *opt,
                      struct wl_pipeline **out, char *err, size_t err_size);

/*
 * Queues msg without waiting; the pipeline then owns it. Returns 0,
 * WL_EAGAIN when the queue is full (the caller keeps msg), or WL_EBUSY
 * after stop began.
 */
int wl_pipeline_try_submit(struct wl_pipeline *p, struct wl_message *msg);

/* Queues msg, waiting for room. Returns 0 or WL_EBUSY (caller keeps msg). */
int wl_pipeline_submit(struct wl_pipeline *p, struct wl_message *msg);

/* Returns 1 when the queue is at or above the high-water mark. */
int wl_pipeline_is_high(struct wl_pipeline *p);

/*
 * Asks for one on_drain call once the queue is at or below the low-water
 * mark. Returns 1 when it already is (then no call follows), else 0.
 */
int wl_pipeline_request_drain(struct wl_pipeline *p);

/*
 * Analyses every queued message, stops the threads and frees p. The
 * writer is not stopped. Fills *stats when not NULL.
 */
void wl_pipeline_stop(struct wl_pipeline *p, struct wl_pipeline_stats *stats);

#endif
