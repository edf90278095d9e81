/*
 * The Wazuh rule tree: loading rule files the way wazuh-analysisd 4.14.7
 * does (file order, if_sid/if_group/if_level attachment, sibling order,
 * duplicate ids, overwrite) and walking it for one decoded event.
 *
 * A struct wl_ruleset is read-only after wl_ruleset_load() except for the
 * atomic per-rule counters (firedtimes, ignore timers) and the events kept
 * for correlation rules (under a lock), so any number of threads may match
 * with it at once, each with its own scratch.
 */
#ifndef WL_RULESET_H
#define WL_RULESET_H

#include <stddef.h>

#include "decoders/event.h"

struct wl_rule;
struct wl_ruleset;
struct wl_rule_scratch;

enum wl_ruleset_report_level {
    WL_RULESET_ERROR,   /* a rule, file or option was rejected */
    WL_RULESET_WARNING, /* accepted with a change (ignored parent, ...) */
    WL_RULESET_INFO,    /* summary lines */
};

/* A CDB list: the path rules name it by, and the key:value file to read. */
struct wl_ruleset_list {
    const char *name; /* as in <list>...</list>: "etc/lists/audit-keys" */
    const char *path; /* the file; NULL reads name */
};

/* A rule file held in memory, such as the built-in default ruleset. */
struct wl_ruleset_buffer {
    const char *name; /* the path rule_files use for it */
    const char *data;
    size_t len;
};

/*
 * Where to find the rules, as the <ruleset> section of ossec.conf lists
 * them. Every list is NULL-terminated and may be NULL. Files of all
 * rule_dirs plus rule_files are loaded in the order of their basenames
 * (byte-wise), across directories. A directory entry is taken when its
 * name ends in ".xml" and neither its basename nor its full path is in
 * excludes.
 */
struct wl_ruleset_options {
    const char *const *rule_dirs;
    const char *const *rule_files;
    /*
     * Rule files held in memory, ended by an entry with a NULL name. A
     * rule_files entry equal to a buffer's name is read from the buffer.
     */
    const struct wl_ruleset_buffer *buffers;
    const char *const *excludes;
    /*
     * Decoder files, read only for the names <decoded_as> may use. When
     * both are NULL, any decoder name is accepted.
     */
    const char *const *decoder_dirs;
    const char *const *decoder_files;
    /* The lists rules may use, ended by an entry with a NULL name. */
    const struct wl_ruleset_list *lists;
    int log_alert_level;   /* <alerts><log_alert_level>; 0 means 1 */
    int email_alert_level; /* <alerts><email_alert_level>; 0 means 12 */
    int memory_size;       /* <global><memory_size>: 0 means 8192 */
    /*
     * Receives every load message ("file:line: text"); NULL logs them
     * with daemon/log.h.
     */
    void (*report)(void *ctx, enum wl_ruleset_report_level level,
                   const char *message);
    void *report_ctx;
};

/* Counts of one load, for the startup log and the tests. */
struct wl_ruleset_stats {
    unsigned files;          /* rule files read */
    unsigned files_failed;   /* unreadable or malformed XML */
    unsigned rules_loaded;   /* distinct rules in the tree */
    unsigned rules_failed;   /* invalid rules, skipped */
    unsigned rules_skipped;  /* rules naming a list that is not configured */
    unsigned rules_orphaned; /* no parent found, dropped */
    unsigned duplicates;     /* ids defined twice, second skipped */
    unsigned overwrites;     /* overwrite="yes" applied in place */
    unsigned nodes;          /* tree nodes (a rule under N parents: N) */
    unsigned unsupported;    /* loaded rules that can never fire */
    unsigned decoder_names;  /* names read from the decoder files */
};

/*
 * Loads the rules. Field names used by the rules are added to names,
 * which the caller owns and should freeze after the load. Invalid rules,
 * rules naming a list that is not configured and unreadable files are
 * reported (file:line), counted and skipped. Options not supported yet
 * are reported once per option name with a count; a rule using one loads
 * but never matches.
 * Returns 0 and *out, WL_ENOENT when no rule file was found, WL_EINVAL
 * when no rule could be loaded, or WL_ENOMEM; err contains the reason.
 */
int wl_ruleset_load(const struct wl_ruleset_options *opts,
                    struct wl_fieldnames *names, struct wl_ruleset **out,
                    char *err, size_t err_size);
void wl_ruleset_free(struct wl_ruleset *rs);

const struct wl_ruleset_stats *wl_ruleset_stats(const struct wl_ruleset *rs);

/*
 * Options not supported yet, with how many times the rules use each:
 * returns the number of entries and sets *names and *counts to arrays
 * owned by the ruleset.
 */
size_t wl_ruleset_unsupported(const struct wl_ruleset *rs,
                              const char *const **names,
                              const unsigned **counts);

/* Returns the rule with that id, or NULL. */
const struct wl_rule *wl_ruleset_find(const struct wl_ruleset *rs, int id);

/* Per-thread matching state; NULL when out of memory. */
struct wl_rule_scratch *wl_rule_scratch_new(void);
void wl_rule_scratch_free(struct wl_rule_scratch *s);

/*
 * Deepest if_sid/if_group chain that matching follows (the chain to rule
 * 100300 under the stock ruleset has 7 rules). NOTE: Wazuh has no such
 * limit, and a deeper chain stops here without a warning.
 */
#define WL_RULE_MAX_DEPTH 64

/* The outcome of matching one event. */
struct wl_rule_verdict {
    /* The rule the event ends on, NULL when no rule matched. */
    const struct wl_rule *rule;
    int level; /* the rule's level, or -1 without rule */
    int alert; /* 1 when an alert is written (log flag, level > 0) */
    unsigned long firedtimes; /* the rule's counter after this event */
    /* Rules that matched on the way, root first, rule last. */
    const struct wl_rule *chain[WL_RULE_MAX_DEPTH];
    int chain_len;
    int ignored; /* 1 when the ignore timer moved the verdict up */
    /*
     * Logs of the earlier events a correlation rule counted, newest
     * first, joined by newlines; NULL unless two or more. Owned by the
     * scratch, valid until its next match.
     */
    const char *previous_output;
};

/*
 * Walks the tree for ev as analysisd does and fills *v. A level-0 verdict
 * (silenced event) has v->rule set and v->alert 0. Returns 0; matching
 * never fails (a pattern error counts as no match).
 */
int wl_ruleset_match(const struct wl_ruleset *rs, struct wl_rule_scratch *s,
                     const struct wl_event *ev, struct wl_rule_verdict *v);

/* Accessors for callers outside rules/. */
int wl_rule_id(const struct wl_rule *r);
int wl_rule_level(const struct wl_rule *r);
const char *wl_rule_description(const struct wl_rule *r);
/* The group string as written: "windows,sysmon,sysmon_event1,". */
const char *wl_rule_groups(const struct wl_rule *r);

#endif
