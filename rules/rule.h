/*
 * Inside the rule engine: one loaded rule, its conditions and the table of
 * rule options. Only rules/ and the alert builder use these definitions.
 */
#ifndef WL_RULE_H
#define WL_RULE_H

#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "decoders/event.h"
#include "rules/pattern.h"
#include "rules/ruleset.h"

/*
 * What a condition tests, in the order they are checked. This is
 * analysisd's order except that <match> and <regex>, which scan the whole
 * log, come after the <field> tests. No condition has side effects, so
 * the order changes only the speed.
 */
enum wl_cond_rank {
    WL_RANK_DECODED_AS,
    WL_RANK_PROGRAM_NAME,
    WL_RANK_ID,
    WL_RANK_SYSTEM_NAME,
    WL_RANK_PROTOCOL,
    WL_RANK_ACTION,
    WL_RANK_URL,
    WL_RANK_LOCATION,
    WL_RANK_FIELD,
    WL_RANK_MATCH,
    WL_RANK_REGEX,
    WL_RANK_SRCIP,
    WL_RANK_DSTIP,
    WL_RANK_SRCPORT,
    WL_RANK_DSTPORT,
    WL_RANK_USER,
    WL_RANK_SRCGEOIP,
    WL_RANK_DSTGEOIP,
    WL_RANK_MAXSIZE,
    WL_RANK_TIME,
    WL_RANK_WEEKDAY,
    WL_RANK_DATA,
    WL_RANK_EXTRA_DATA,
    WL_RANK_HOSTNAME,
    WL_RANK_STATUS,
    WL_RANK_LIST,
    WL_RANK_NEVER, /* an option not supported yet */
};

/* The value of an event a condition looks at. */
enum wl_subject {
    WL_SUBJECT_LOG,           /* full_log */
    WL_SUBJECT_FIELD,         /* dynamic field by slot */
    WL_SUBJECT_STATIC,        /* ev->static_fields[index] */
    WL_SUBJECT_USER,          /* dstuser, else srcuser */
    WL_SUBJECT_SRCUSER_FIRST, /* srcuser, else dstuser (<list>) */
    WL_SUBJECT_PROGRAM_NAME,  /* predecoded program name */
    WL_SUBJECT_LOCATION,      /* the full location string */
    WL_SUBJECT_HOSTNAME,
    WL_SUBJECT_NONE, /* never set for our events (geoip) */
};

struct wl_cond;

/* Match hook of a condition kind: returns 1 when the event passes. */
typedef int (*wl_cond_match_fn)(const struct wl_cond *c,
                                const struct wl_event *ev,
                                struct wl_pattern_scratch *ps);

struct wl_cond {
    wl_cond_match_fn match;
    void (*free)(struct wl_cond *c);
    enum wl_cond_rank rank;
    enum wl_subject subject;
    int index;  /* slot or static field index */
    int negate; /* for conditions that are not patterns */
    struct wl_pattern *pattern;
    char *text;    /* exact string (action) or decoder name */
    void *data;    /* kind-specific (IP list, time range) */
    size_t number; /* maxsize */
};

/* Option bits of <options>. */
enum {
    WL_RULE_ALERT_BY_EMAIL = 1 << 0,
    WL_RULE_NO_EMAIL_ALERT = 1 << 1,
    WL_RULE_LOG_ALERT = 1 << 2,
    WL_RULE_NO_LOG = 1 << 3,
    WL_RULE_NO_AR = 1 << 4,
    WL_RULE_NO_FULL_LOG = 1 << 5,
    WL_RULE_NO_COUNTER = 1 << 6,
};

struct wl_corr_list;

/* What a correlation rule (if_matched_sid, if_matched_group) searches. */
struct wl_rule_context {
    int frequency;               /* events needed, the current one included */
    long timeframe;              /* seconds */
    int if_matched_sid;          /* 0 when none */
    struct wl_pattern *group;    /* if_matched_group (OS_Match), or NULL */
    struct wl_pattern *regex;    /* if_matched_regex alone (OS_Regex) */
    struct wl_corr_list *search; /* events searched; not owned */
    unsigned same;               /* static fields that must be equal */
    unsigned different;          /* static fields that must differ */
    int global;                  /* global_frequency: any agent */
    int same_dynamic;            /* same_field given */
    int different_dynamic;       /* different_field / not_same_field given */
    char **same_fields;
    size_t same_count;
    char **different_fields;
    size_t different_count;
};

/* One <mitre> entry: a technique id, with its tactic id in the new form. */
struct wl_mitre_ref {
    char *technique;
    char *tactic; /* NULL in the old <id> form */
};

struct wl_rule {
    int id;
    int level;      /* level reported in verdicts and alerts */
    int sort_level; /* sibling order key, see tree.c */
    int category;   /* WL_CATEGORY_* */
    int noalert;
    int accuracy; /* 0 disables level scaling for the order */
    unsigned long maxsize;
    unsigned long ignore; /* seconds, 0 when unset */
    int options;          /* WL_RULE_* bits */
    int log;              /* writes an alert */
    int mail;
    int unsupported; /* uses an option not supported yet */

    char *groups; /* group string */
    char *description;
    char *info;
    char *cve;
    struct wl_mitre_ref *mitre;
    size_t mitre_count;
    int mitre_new_form; /* keep only new-form blocks */

    struct wl_cond *conds;
    size_t cond_count;

    struct wl_rule_context *context;   /* correlation rules only */
    struct wl_corr_list *sid_list;     /* target of an if_matched_sid */
    struct wl_corr_list **group_lists; /* if_matched_group lists fed */
    size_t group_list_count;

    struct wl_rule **children; /* in evaluation order */
    size_t child_count;
    size_t child_cap;
    unsigned parent_count; /* tree nodes holding this rule, for stats */

    char *file; /* basename of the file that defined it */
    int line;

    atomic_ulong firedtimes;
    atomic_llong ignore_since; /* seconds; 0 when not running */
};

/* Rule categories (<category>), matched against the decoder type. */
enum {
    WL_CATEGORY_SYSLOG,
    WL_CATEGORY_FIREWALL,
    WL_CATEGORY_IDS,
    WL_CATEGORY_WEB_LOG,
    WL_CATEGORY_SQUID,
    WL_CATEGORY_WINDOWS,
    WL_CATEGORY_OSSEC,
    WL_CATEGORY_COUNT
};

/* Returns the category index of name (case-sensitive), or -1. */
int wl_rule_category_find(const char *name, size_t len);

/* Returns 1 when the event passes every condition of r. */
int wl_rule_conds_match(const struct wl_rule *r, const struct wl_event *ev,
                        struct wl_pattern_scratch *ps);

void wl_rule_conds_free(struct wl_rule *r);

/*
 * Expands $(name) in the rule's description for ev (Wazuh's rules):
 * returns a malloc'd string, or NULL when out of memory.
 */
char *wl_rule_expand_description(const struct wl_rule *r,
                                 const struct wl_event *ev);

#endif
