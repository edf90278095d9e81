/*
 * The loaded ruleset and the steps of loading it, shared by the loader
 * (files, XML), the option table (one rule's elements) and the tree
 * (attachment, matching).
 */
#ifndef WL_RULES_TREE_H
#define WL_RULES_TREE_H

#include <stdarg.h>
#include <stdatomic.h>

#include "rules/rule.h"
#include "rules/xml.h"

struct wl_corr;
struct wl_lists;

struct wl_ruleset {
    struct wl_rule **rules; /* in the tree, load order; owned */
    size_t rule_count;
    size_t rule_cap;
    struct wl_rule root; /* parent of the rules with id < 10 */

    struct wl_rule **by_id; /* open addressing on id; NULL when empty */
    size_t by_id_size;

    struct wl_ruleset_stats stats;
    const char **unsupported_names;
    unsigned *unsupported_counts;
    size_t unsupported_count;

    struct wl_corr *corr;   /* correlation lists and their lock */
    struct wl_lists *lists; /* CDB lists of the options */
    int log_alert_level;
    int email_alert_level;
    atomic_llong hour; /* hour of the last match; counters reset on change */
    long utc_offset;   /* seconds east of UTC of the local time zone */
};

/* State of one load: where messages go, the decoder names known. */
struct wl_load {
    struct wl_ruleset *rs;
    struct wl_fieldnames *names;
    const struct wl_ruleset_options *opts;
    const char *path;               /* file being read */
    const char *file;               /* its basename */
    const struct wl_xml_vars *vars; /* the file's variables so far */
    char **decoders;                /* known decoder names; NULL: any */
    size_t decoder_count;
};

void wl_load_report(struct wl_load *ld, enum wl_ruleset_report_level level,
                    int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Counts a rule that uses an option not supported yet. */
int wl_load_unsupported(struct wl_load *ld, const char *option);

/* Returns 1 when name is a decoder name decoded_as may use. */
int wl_load_decoder_known(const struct wl_load *ld, const char *name);

/*
 * Reads one <rule> element under a <group name=group_name>. On success
 * returns 0 and *out (a new rule) with *parents describing how to attach
 * it; on a rule error reports it and returns WL_EINVAL.
 */
struct wl_rule_parents {
    char *if_sid;
    char *if_group;
    char *if_level;
    char *if_matched_sid;
    char *if_matched_group;
    int overwrite;
};

int wl_rule_read(struct wl_load *ld, const xmlNode *node,
                 const char *group_name, struct wl_rule **out,
                 struct wl_rule_parents *parents);
void wl_rule_parents_free(struct wl_rule_parents *p);
void wl_rule_free(struct wl_rule *r);

/*
 * Adds a read rule to the tree (duplicates, overwrite, parents). Takes
 * ownership of r in every case. Returns 0, or WL_ENOMEM.
 */
int wl_tree_add(struct wl_load *ld, struct wl_rule *r,
                const struct wl_rule_parents *p);

/* Counts tree nodes into rs->stats.nodes. */
void wl_tree_count_nodes(struct wl_ruleset *rs);

#endif
