#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/pipeline.h"
#include "daemon/analysis.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "daemon/queue.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct worker {
    struct wl_pipeline *p;
    struct wl_analysis_worker *state;
    pthread_t thread;
    int started;
};

struct wl_pipeline {
    struct wl_queue queue;
    struct wl_analysis *analysis;
    struct wl_writer *writer;
    struct worker *workers;
    int worker_count;
    size_t high_water;
    size_t low_water;
    atomic_int drain_requested;
    void (*on_drain)(void *arg);
    void *drain_arg;
    atomic_ulong analysed;
    atomic_ulong failed;
    atomic_ulong records;
};

static void process_one(struct worker *w, struct wl_message *msg)
{
    struct wl_pipeline *p = w->p;
    struct wl_record *rec = NULL;
    int r = wl_analysis_process(w->state, msg, &rec);

    atomic_fetch_add(&p->analysed, 1);
    if (r != 0) {
        atomic_fetch_add(&p->failed, 1);
        wl_log_limited(WL_LOG_WARN, "analysis-failed",
                       "analysis of a message from agent %s (%s) on "
                       "connection %llu failed: %s",
                       msg->agent_id, msg->agent_name,
                       (unsigned long long)msg->connection_id, wl_strerror(r));
        return;
    }
    if (rec->event == NULL && rec->alert == NULL) {
        wl_record_free(rec);
        return;
    }
    r = wl_writer_submit(p->writer, rec);
    if (r != 0) {
        wl_log_limited(WL_LOG_ERROR, "writer-submit",
                       "database writer rejected a record from agent %s: "
                       "%s",
                       msg->agent_id, wl_strerror(r));
        return;
    }
    atomic_fetch_add(&p->records, 1);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct wl_pipeline *p = w->p;
    void *item;

    /* Named so that top -H and /proc show which threads analyse. */
    pthread_setname_np(pthread_self(), "wazlabd-analys");
    while (wl_queue_pop(&p->queue, &item, -1) == 0) {
        process_one(w, item);
        wl_message_free(item);
        if (atomic_load(&p->drain_requested) &&
            wl_queue_length(&p->queue) <= p->low_water &&
            atomic_exchange(&p->drain_requested, 0))
            p->on_drain(p->drain_arg);
    }
    return NULL;
}

/* Starts the threads with every signal blocked, so the loop gets them. */
static int start_workers(struct wl_pipeline *p, char *err, size_t err_size)
{
    sigset_t all;
    sigset_t old;
    int r = 0;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (int i = 0; i < p->worker_count; i++) {
        struct worker *w = &p->workers[i];

        w->p = p;
        w->state = wl_analysis_worker_new(p->analysis);
        if (w->state == NULL) {
            snprintf(err, err_size, "out of memory for analysis thread %d", i);
            r = WL_ENOMEM;
            break;
        }
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            snprintf(err, err_size, "cannot start analysis thread %d", i);
            r = WL_EIO;
            break;
        }
        w->started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r;
}

int wl_pipeline_start(const struct wl_pipeline_options *opt,
                      struct wl_pipeline **out, char *err, size_t err_size)
{
    struct wl_analysis_options an_opt;
    struct wl_pipeline *p = calloc(1, sizeof(*p));
    int r = WL_ENOMEM;

    if (p == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    if (opt->threads < 1 || opt->queue_capacity < 4) {
        snprintf(err, err_size, "invalid pipeline size");
        free(p);
        return WL_EINVAL;
    }
    p->writer = opt->writer;
    p->on_drain = opt->on_drain;
    p->drain_arg = opt->drain_arg;
    /* Reads stop at 3/4 full, leaving room for frames already in flight,
     * and resume at 1/4. */
    p->high_water = opt->queue_capacity - opt->queue_capacity / 4;
    p->low_water = opt->queue_capacity / 4;
    if (wl_queue_init(&p->queue, opt->queue_capacity) != 0) {
        snprintf(err, err_size, "out of memory for a queue of %zu messages",
                 opt->queue_capacity);
        free(p);
        return WL_ENOMEM;
    }
    an_opt.logall = opt->config->logall || opt->config->logall_json;
    an_opt.config = opt->config;
    r = wl_analysis_new(&an_opt, &p->analysis, err, err_size);
    if (r != 0)
        goto fail;
    p->workers = calloc((size_t)opt->threads, sizeof(*p->workers));
    if (p->workers == NULL) {
        snprintf(err, err_size, "out of memory");
        r = WL_ENOMEM;
        goto fail;
    }
    p->worker_count = opt->threads;
    r = start_workers(p, err, err_size);
    if (r != 0)
        goto fail;
    *out = p;
    return 0;
fail:
    wl_pipeline_stop(p, NULL);
    return r;
}

int wl_pipeline_try_submit(struct wl_pipeline *p, struct wl_message *msg)
{
    return wl_queue_try_push(&p->queue, msg);
}

int wl_pipeline_submit(struct wl_pipeline *p, struct wl_message *msg)
{
    return wl_queue_push(&p->queue, msg);
}

int wl_pipeline_is_high(struct wl_pipeline *p)
{
    return wl_queue_length(&p->queue) >= p->high_water;
}

int wl_pipeline_request_drain(struct wl_pipeline *p)
{
    atomic_store(&p->drain_requested, 1);
    /* A worker may have passed the low-water mark before the flag was set. */
    if (wl_queue_length(&p->queue) <= p->low_water &&
        atomic_exchange(&p->drain_requested, 0))
        return 1;
    return 0;
}

void wl_pipeline_stop(struct wl_pipeline *p, struct wl_pipeline_stats *stats)
{
    void *item;

    if (p == NULL)
        return;
    wl_queue_close(&p->queue);
    for (int i = 0; i < p->worker_count; i++) {
        if (p->workers[i].started)
            pthread_join(p->workers[i].thread, NULL);
        wl_analysis_worker_free(p->workers[i].state);
    }
    /* Only when no thread started can messages remain. */
    while (wl_queue_pop(&p->queue, &item, 0) == 0)
        wl_message_free(item);
    if (stats != NULL) {
        stats->analysed = atomic_load(&p->analysed);
        stats->failed = atomic_load(&p->failed);
        stats->records = atomic_load(&p->records);
        stats->dropped = p->analysis ? wl_analysis_dropped(p->analysis) : 0;
    }
    free(p->workers);
    wl_analysis_free(p->analysis);
    wl_queue_destroy(&p->queue);
    free(p);
}
