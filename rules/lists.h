/*
 * CDB lists for the <list> rule option: key:value text files read once at
 * load time into hash tables. analysisd compiles the same files to CDB
 * files first; lookups return the same results.
 */
#ifndef WL_RULES_LISTS_H
#define WL_RULES_LISTS_H

#include <stddef.h>

#include "rules/rule.h"

struct wl_load;
struct wl_cdb_list;

/*
 * Reads the lists configured in the ruleset options. A list that cannot
 * be read is reported and left out, so rules using it are skipped.
 * Returns 0 or WL_ENOMEM.
 */
int wl_lists_load(struct wl_load *ld);
void wl_lists_free(struct wl_ruleset *rs);

/* Returns the list configured under name (exact), or NULL. */
const struct wl_cdb_list *wl_lists_find(const struct wl_ruleset *rs,
                                        const char *name);

/* List lookups of <list lookup="...">. */
enum wl_list_lookup {
    WL_LIST_MATCH_KEY,
    WL_LIST_NOT_MATCH_KEY,
    WL_LIST_MATCH_KEY_VALUE,
    WL_LIST_ADDRESS_MATCH_KEY,
    WL_LIST_NOT_ADDRESS_MATCH_KEY,
    WL_LIST_ADDRESS_MATCH_KEY_VALUE,
};

/* Returns the lookup named name (case-insensitive), or -1. */
int wl_list_lookup_find(const char *name);

/*
 * Makes c a list condition on the subject the caller sets. check_value
 * (OS_Match, may be NULL) tests the value of the *_value lookups; c takes
 * it. Returns 0 or WL_ENOMEM.
 */
int wl_cond_init_list(struct wl_cond *c, const struct wl_cdb_list *list,
                      enum wl_list_lookup lookup,
                      struct wl_pattern *check_value);

#endif
