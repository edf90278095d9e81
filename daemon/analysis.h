/*
 * The analysis stage between the connections and the database writer:
 * message in, record (archive row, alert row) out. It runs the rule
 * engine of rules/engine.h with the ruleset the configuration names, or
 * the built-in default ruleset when it names none.
 *
 * One struct wl_analysis is built at startup and is read-only afterwards.
 * Each analysis thread owns one struct wl_analysis_worker with its
 * scratch state, so threads share nothing mutable.
 */
#ifndef WL_ANALYSIS_H
#define WL_ANALYSIS_H

#include "daemon/message.h"
#include "db/record.h"

struct wl_analysis;
struct wl_analysis_worker;

struct wl_analysis_options {
    int logall; /* archive every message in the events table */
    const struct wl_config *config; /* the rest, for the decode/rule stages */
};

/* Returns 0 and the stage in *out, or a WL_E* code with a message in err. */
int wl_analysis_new(const struct wl_analysis_options *opt,
                    struct wl_analysis **out, char *err, size_t err_size);
void wl_analysis_free(struct wl_analysis *an);

/* Per-thread state; NULL when out of memory. */
struct wl_analysis_worker *wl_analysis_worker_new(struct wl_analysis *an);
void wl_analysis_worker_free(struct wl_analysis_worker *w);

/*
 * Analyses one message. Returns 0 with *out set to a record that the
 * caller frees; it may have neither row when there is nothing to store.
 * A message the decoders reject still gets an events row when archiving
 * is on. Returns a negative WL_E* code only when out of memory. The
 * message stays owned by the caller.
 */
int wl_analysis_process(struct wl_analysis_worker *w,
                        const struct wl_message *msg, struct wl_record **out);

struct wl_ruleset_stats;

/* Returns the counts of the ruleset load (rules, files, failures). */
const struct wl_ruleset_stats *
wl_analysis_rule_stats(const struct wl_analysis *an);

/* Returns how many messages the decoders rejected (archived, not analysed). */
unsigned long wl_analysis_dropped(const struct wl_analysis *an);

#endif
