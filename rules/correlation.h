/*
 * Correlation rules (if_matched_sid, if_matched_group, if_matched_regex
 * with frequency, timeframe and the same_* / different_* filters), as
 * wazuh-analysisd 4.14.7 evaluates them.
 *
 * Events whose verdict rule is the target of an if_matched_sid rule, or
 * matched an if_matched_group pattern when that rule was read, are kept
 * in lists for later searches; once a rule with if_matched_regex alone is
 * loaded, every event with a verdict is kept too. An event stays searchable
 * until memory size newer events with a verdict (level > 0) have arrived, as in
 * analysisd's recent-events memory. One mutex per ruleset guards the
 * lists, so correlation is the only shared state that matching changes.
 */
#ifndef WL_RULES_CORRELATION_H
#define WL_RULES_CORRELATION_H

#include <stdint.h>

#include "rules/rule.h"

struct wl_load;
struct wl_ruleset;
struct wl_rule_parents;

/* Default number of recent events kept (analysisd's memory_size). */
#define WL_CORR_MEMORY_SIZE 8192
/* Earlier events' logs kept for previous_output. */
#define WL_CORR_MAX_PREVIOUS 11

/* State of the correlation searches for one event. */
struct wl_corr_match {
    int matched; /* level of the correlation that used this event */
    char *previous[WL_CORR_MAX_PREVIOUS]; /* newest first, malloc'd */
    int previous_count;
    char *previous_output; /* previous joined by '\n', for the alert */
};

void wl_corr_match_clear(struct wl_corr_match *m);

/*
 * Reads one correlation element of a rule (same_*, different_*,
 * not_same_*, same_field, different_field, not_same_field,
 * global_frequency). Returns 0, WL_ENOENT for any other name, or
 * WL_ENOMEM.
 */
int wl_corr_read_option(struct wl_rule_context **ctx, const char *name,
                        const char *text);

/* Frees a context that was never attached to a rule. */
void wl_corr_context_free(struct wl_rule_context *ctx);

/* Sets up the ruleset's lists and lock. Returns 0 or WL_ENOMEM. */
int wl_corr_init(struct wl_ruleset *rs, int memory_size);
void wl_corr_free(struct wl_ruleset *rs);

/*
 * Links a rule just added to the tree with the events it searches. An
 * if_matched_sid rule searches the list of its target rule. An
 * if_matched_group rule gets a new list, fed by every rule in the tree
 * whose groups match, once per tree node as in analysisd. Returns 0 or
 * WL_ENOMEM.
 */
int wl_corr_attach(struct wl_load *ld, struct wl_rule *r);

/*
 * Searches the earlier events for r (frequency, timeframe, filters).
 * Returns 1 when enough qualifying events were found (marking the events
 * used), else 0.
 */
int wl_corr_search(const struct wl_ruleset *rs, const struct wl_rule *r,
                   const struct wl_event *ev, struct wl_corr_match *m,
                   struct wl_pattern_scratch *ps);

/*
 * Keeps ev for later searches when the verdict rule feeds a list.
 * Returns 0 or WL_ENOMEM (the event is then not kept).
 */
int wl_corr_store(const struct wl_ruleset *rs, const struct wl_rule *verdict,
                  const struct wl_event *ev, const struct wl_corr_match *m);

#endif
