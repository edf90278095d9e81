/*
 * The analysis of one message, as the daemon and wazlab-logtest run it:
 * decode, walk the rule tree, and build the record for the database
 * (archive row, alert row with the alerts.json text).
 *
 * A struct wl_engine is read-only after wl_engine_new() (apart from the
 * atomic rule counters); each thread uses its own struct wl_engine_worker.
 * Nothing here depends on the daemon's event loop.
 */
#ifndef WL_ENGINE_H
#define WL_ENGINE_H

#include <stddef.h>
#include <time.h>

#include "db/record.h"
#include "decoders/decode.h"
#include "rules/ruleset.h"

struct wl_engine;
struct wl_engine_worker;

struct wl_engine_options {
    struct wl_ruleset_options rules;
    int logall;               /* fill record->event for every message */
    const char *manager_name; /* NULL: the full gethostname() */
};

/*
 * Loads the decoders and the rules. Returns 0 and *out, or a WL_E* code
 * with the reason in err.
 */
int wl_engine_new(const struct wl_engine_options *opts, struct wl_engine **out,
                  char *err, size_t err_size);
void wl_engine_free(struct wl_engine *e);

/* The loaded rules, for reports and lookups. */
const struct wl_ruleset *wl_engine_ruleset(const struct wl_engine *e);

/* Per-thread state; NULL when out of memory. */
struct wl_engine_worker *wl_engine_worker_new(struct wl_engine *e);
void wl_engine_worker_free(struct wl_engine_worker *w);

/* Verdict and alert of one wl_engine_process() call, for tools. */
struct wl_engine_result {
    const struct wl_event *event; /* valid until the worker's next call */
    struct wl_rule_verdict verdict;
    char *description; /* expanded; malloc'd, NULL without alert */
    char *alert_json;  /* malloc'd copy, NULL without alert */
};

/* Frees the strings of a result filled by wl_engine_process(). */
void wl_engine_result_clear(struct wl_engine_result *res);

/*
 * Analyses one message ("<queue>:<location>:<log>", len bytes) received
 * at *received (CLOCK_REALTIME). Returns 0 with *out set to a new record
 * that the caller frees. The record has an event row when logall is on
 * and an alert row when the verdict rule writes an alert, so it may have
 * neither. Returns WL_EINVAL when the decoder drops the message (counted
 * in the worker's stats), or WL_ENOMEM. res may be NULL; when given, it
 * is filled and the caller clears it with wl_engine_result_clear().
 */
int wl_engine_process(struct wl_engine_worker *w, const char *msg, size_t len,
                      const struct timespec *received, struct wl_record **out,
                      struct wl_engine_result *res);

/* Decoding counters of this worker since it was created. */
const struct wl_decode_stats *
wl_engine_worker_stats(const struct wl_engine_worker *w);

#endif
