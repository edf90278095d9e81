/*
 * Building the rule tree and walking it, as wazuh-analysisd 4.14.7 does.
 *
 * Children of a rule are kept in evaluation order, by descending sort
 * level with ties in load order. The sort level is level * 100, and level
 * 0 counts as 9900, so level-0 rules come first. The order is fixed when
 * a child is added and never recomputed, not even by overwrite. A rule
 * with several parents is one object listed in each parent.
 */
#include "config.h"

#include "rules/tree.h"
#include "rules/correlation.h"
#include "daemon/error.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const category_names[WL_CATEGORY_COUNT] = {
    "syslog", "firewall", "ids", "web-log", "squid", "windows", "ossec",
};

int wl_rule_category_find(const char *name, size_t len)
{
    for (int i = 0; i < WL_CATEGORY_COUNT; i++) {
        if (strncmp(category_names[i], name, len) == 0 &&
            category_names[i][len] == '\0')
            return i;
    }
    return -1;
}

/* Id lookup: open addressing, the table at most half full. */
static struct wl_rule *find_id(const struct wl_ruleset *rs, int id)
{
    if (rs->by_id == NULL)
        return NULL;
    size_t mask = rs->by_id_size - 1;
    for (size_t i = (size_t)id * 2654435761u & mask; rs->by_id[i] != NULL;
         i = (i + 1) & mask) {
        if (rs->by_id[i]->id == id)
            return rs->by_id[i];
    }
    return NULL;
}

static void put_id(struct wl_rule **table, size_t size, struct wl_rule *r)
{
    size_t mask = size - 1;
    size_t i = (size_t)r->id * 2654435761u & mask;

    while (table[i] != NULL)
        i = (i + 1) & mask;
    table[i] = r;
}

/* Appends r to the list of loaded rules and the id table. */
static int remember(struct wl_ruleset *rs, struct wl_rule *r)
{
    if (rs->rule_count == rs->rule_cap) {
        size_t cap = rs->rule_cap ? rs->rule_cap * 2 : 256;
        struct wl_rule **rules = realloc(rs->rules, cap * sizeof(*rules));

        if (rules == NULL)
            return WL_ENOMEM;
        rs->rules = rules;
        rs->rule_cap = cap;
    }
    if ((rs->rule_count + 1) * 2 > rs->by_id_size) {
        size_t size = rs->by_id_size ? rs->by_id_size * 2 : 1024;
        struct wl_rule **table = calloc(size, sizeof(*table));

        if (table == NULL)
            return WL_ENOMEM;
        for (size_t i = 0; i < rs->rule_count; i++)
            put_id(table, size, rs->rules[i]);
        free(rs->by_id);
        rs->by_id = table;
        rs->by_id_size = size;
    }
    rs->rules[rs->rule_count++] = r;
    put_id(rs->by_id, rs->by_id_size, r);
    return 0;
}

/* Inserts child after every sibling of the same or a higher sort level. */
static int add_child(struct wl_rule *parent, struct wl_rule *child)
{
    size_t pos = parent->child_count;

    if (parent->child_count == parent->child_cap) {
        size_t cap = parent->child_cap ? parent->child_cap * 2 : 4;
        struct wl_rule **c =
            realloc(parent->children, cap * sizeof(*parent->children));

        if (c == NULL)
            return WL_ENOMEM;
        parent->children = c;
        parent->child_cap = cap;
    }
    while (pos > 0 && parent->children[pos - 1]->sort_level < child->sort_level)
        pos--;
    memmove(&parent->children[pos + 1], &parent->children[pos],
            (parent->child_count - pos) * sizeof(*parent->children));
    parent->children[pos] = child;
    parent->child_count++;
    child->parent_count++;
    return 0;
}

static void set_flags(const struct wl_ruleset *rs, struct wl_rule *r)
{
    r->log = r->level >= rs->log_alert_level;
    if (r->options & WL_RULE_LOG_ALERT)
        r->log = 1;
    if ((r->options & WL_RULE_NO_LOG) || r->level == 0)
        r->log = 0;
    r->mail = r->level >= rs->email_alert_level ||
              (r->options & WL_RULE_ALERT_BY_EMAIL);
    if (r->options & WL_RULE_NO_EMAIL_ALERT)
        r->mail = 0;
    if (r->accuracy == 0) {
        /* Not scaled: sorts after the scaled levels of its siblings. */
        r->sort_level = r->level == 0 ? 99 : r->level;
        if (r->level == 0)
            r->level = 99;
    } else {
        r->sort_level = r->level == 0 ? 9900 : r->level * 100;
    }
}

/* Replaces what overwrite="yes" replaces, keeping place and children. */
static void overwrite(const struct wl_ruleset *rs, struct wl_rule *old,
                      struct wl_rule *new)
{
    struct wl_rule tmp;

#define SWAP(field)                                                            \
    do {                                                                       \
        memcpy(&tmp.field, &old->field, sizeof(tmp.field));                    \
        memcpy(&old->field, &new->field, sizeof(tmp.field));                   \
        memcpy(&new->field, &tmp.field, sizeof(tmp.field));                    \
    } while (0)
    SWAP(level);
    SWAP(category);
    SWAP(noalert);
    SWAP(accuracy);
    SWAP(maxsize);
    SWAP(ignore);
    SWAP(options);
    SWAP(unsupported);
    SWAP(groups);
    SWAP(description);
    SWAP(info);
    SWAP(cve);
    SWAP(mitre);
    SWAP(mitre_count);
    SWAP(mitre_new_form);
    SWAP(conds);
    SWAP(cond_count);
    SWAP(file);
    SWAP(line);
#undef SWAP
    set_flags(rs, old);
}

static int attach_if_sid(struct wl_load *ld, struct wl_rule *r,
                         const char *list, int *found)
{
    const char *p = list;

    while (*p) {
        p += strspn(p, ", ");
        if (*p == '\0')
            break;
        int id = (int)strtol(p, (char **)&p, 10);
        struct wl_rule *parent = find_id(ld->rs, id);

        if (parent == NULL) {
            wl_load_report(ld, WL_RULESET_WARNING, r->line,
                           "rule %d: if_sid %d not found, ignored", r->id, id);
            continue;
        }
        if (parent == r)
            continue;
        if (add_child(parent, r) < 0)
            return WL_ENOMEM;
        r->category = parent->category;
        (*found)++;
    }
    return 0;
}

static int attach_scan(struct wl_load *ld, struct wl_rule *r, const char *group,
                       int level, int *found)
{
    struct wl_ruleset *rs = ld->rs;

    for (size_t i = 0; i < rs->rule_count; i++) {
        struct wl_rule *parent = rs->rules[i];
        int hit = group != NULL
                      ? wl_pattern_group_contains(parent->groups, group)
                      : parent->sort_level >= level * 100;

        if (!hit || parent == r)
            continue;
        if (add_child(parent, r) < 0)
            return WL_ENOMEM;
        (*found)++;
    }
    return 0;
}

static int attach(struct wl_load *ld, struct wl_rule *r,
                  const struct wl_rule_parents *p, int *found)
{
    struct wl_ruleset *rs = ld->rs;
    const char *if_sid = p->if_sid;
    const char *if_group = p->if_group;

    /* if_matched_* name an implicit parent when no other is given. */
    if (if_sid == NULL && if_group == NULL) {
        if (p->if_matched_sid != NULL)
            if_sid = p->if_matched_sid;
        else if (p->if_matched_group != NULL)
            if_group = p->if_matched_group;
    }
    if (r->id < 10 && if_sid == NULL && if_group == NULL &&
        p->if_level == NULL) {
        *found = 1;
        return add_child(&rs->root, r);
    }
    if (if_sid != NULL)
        return attach_if_sid(ld, r, if_sid, found);
    if (p->if_level != NULL)
        return attach_scan(ld, r, NULL, atoi(p->if_level), found);
    if (if_group != NULL)
        return attach_scan(ld, r, if_group, 0, found);
    for (size_t i = 0; i < rs->root.child_count; i++) {
        if (rs->root.children[i]->category == r->category) {
            *found = 1;
            return add_child(rs->root.children[i], r);
        }
    }
    return 0;
}

int wl_tree_add(struct wl_load *ld, struct wl_rule *r,
                const struct wl_rule_parents *p)
{
    struct wl_ruleset *rs = ld->rs;
    struct wl_rule *old = find_id(rs, r->id);
    int found = 0, rc;

    if (old != NULL) {
        if (p->overwrite) {
            overwrite(rs, old, r);
            rs->stats.overwrites++;
        } else {
            wl_load_report(ld, WL_RULESET_WARNING, r->line,
                           "rule %d is already defined (%s:%d); this "
                           "definition is ignored",
                           r->id, old->file, old->line);
            rs->stats.duplicates++;
        }
        wl_rule_free(r);
        return 0;
    }
    if (p->overwrite)
        wl_load_report(ld, WL_RULESET_WARNING, r->line,
                       "rule %d: overwrite=\"yes\" but no rule has this id; "
                       "loaded as a new rule",
                       r->id);
    set_flags(rs, r);
    rc = attach(ld, r, p, &found);
    if (rc < 0 || found == 0) {
        if (rc == 0) {
            wl_load_report(ld, WL_RULESET_WARNING, r->line,
                           "rule %d: no parent rule found (if_sid, if_group "
                           "or if_level); rule ignored",
                           r->id);
            rs->stats.rules_orphaned++;
        }
        /*
         * NOTE: after an allocation failure, parents found before it still
         * list r. The load then fails, and freeing the ruleset never reads
         * children lists, so the stale pointer is not followed.
         */
        wl_rule_free(r);
        return rc;
    }
    rc = remember(rs, r);
    if (rc == 0)
        rc = wl_corr_attach(ld, r);
    if (rc < 0)
        return rc;
    rs->stats.rules_loaded++;
    if (r->unsupported)
        rs->stats.unsupported++;
    return 0;
}

static unsigned long count_below(const struct wl_rule *r, int depth)
{
    unsigned long n = 0;

    if (depth >= WL_RULE_MAX_DEPTH)
        return 0;
    for (size_t i = 0; i < r->child_count; i++)
        n += 1 + count_below(r->children[i], depth + 1);
    return n;
}

void wl_tree_count_nodes(struct wl_ruleset *rs)
{
    rs->stats.nodes = (unsigned)count_below(&rs->root, 0);
}

/* Resets every firedtimes counter when the hour of now changed. */
static void check_hour(const struct wl_ruleset *rs, time_t now)
{
    struct wl_ruleset *w = (struct wl_ruleset *)rs;
    /*
     * Hours of the manager's local clock. NOTE: the offset is taken when
     * the rules load, so a daylight saving change shifts the reset by an
     * hour until the next load.
     */
    long long hour = ((long long)now + rs->utc_offset) / 3600;
    long long seen = atomic_load_explicit(&w->hour, memory_order_relaxed);

    if (seen == hour)
        return;
    if (!atomic_compare_exchange_strong(&w->hour, &seen, hour))
        return;
    for (size_t i = 0; i < rs->rule_count; i++)
        atomic_store_explicit(&rs->rules[i]->firedtimes, 0,
                              memory_order_relaxed);
}

/*
 * Tests r and, when it passes, its children in order. Returns the rule
 * the event ends on below r (possibly r), or NULL; v->chain[depth] is r.
 */
struct walk {
    const struct wl_ruleset *rs;
    const struct wl_event *ev;
    struct wl_pattern_scratch *ps;
    struct wl_corr_match *corr;
    struct wl_rule_verdict *v;
};

static const struct wl_rule *test(const struct walk *w, const struct wl_rule *r,
                                  int depth)
{
    struct wl_rule_verdict *v = w->v;

    if (!wl_rule_conds_match(r, w->ev, w->ps))
        return NULL;
    /* The search for earlier events comes last: it marks what it uses. */
    if (r->context != NULL && !wl_corr_search(w->rs, r, w->ev, w->corr, w->ps))
        return NULL;
    v->chain[depth] = r;
    if (depth + 1 < WL_RULE_MAX_DEPTH) {
        for (size_t i = 0; i < r->child_count; i++) {
            const struct wl_rule *hit = test(w, r->children[i], depth + 1);

            if (hit != NULL)
                return hit;
        }
    }
    if (r->noalert)
        return NULL;
    v->chain_len = depth + 1;
    return r;
}

struct wl_rule_scratch {
    struct wl_pattern_scratch *ps;
    struct wl_corr_match corr;
};

struct wl_rule_scratch *wl_rule_scratch_new(void)
{
    struct wl_rule_scratch *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->ps = wl_pattern_scratch_new();
    if (s->ps == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void wl_rule_scratch_free(struct wl_rule_scratch *s)
{
    if (s == NULL)
        return;
    wl_corr_match_clear(&s->corr);
    wl_pattern_scratch_free(s->ps);
    free(s);
}

/* Applies ignore="N": a repeat within N seconds goes to the parent. */
static void apply_ignore(struct wl_rule_verdict *v, time_t now)
{
    struct wl_rule *r = (struct wl_rule *)v->rule;
    long long since = atomic_load(&r->ignore_since);

    if (since != 0 && now - since < (long long)r->ignore) {
        v->ignored = 1;
        v->chain_len--;
        v->rule = v->chain_len > 0 ? v->chain[v->chain_len - 1] : NULL;
        return;
    }
    atomic_store(&r->ignore_since, (long long)now);
}

int wl_ruleset_match(const struct wl_ruleset *rs, struct wl_rule_scratch *s,
                     const struct wl_event *ev, struct wl_rule_verdict *v)
{
    const char *type = ev->decoder_type ? ev->decoder_type : "syslog";
    int category = wl_rule_category_find(type, strlen(type));
    time_t now = ev->received.tv_sec ? ev->received.tv_sec : time(NULL);

    struct walk w = {.rs = rs, .ev = ev, .ps = s->ps, .corr = &s->corr, .v = v};

    memset(v, 0, sizeof(*v));
    v->level = -1;
    wl_corr_match_clear(&s->corr);
    check_hour(rs, now);
    for (size_t i = 0; i < rs->root.child_count && v->rule == NULL; i++) {
        const struct wl_rule *root = rs->root.children[i];

        if (root->category != category)
            continue;
        v->rule = test(&w, root, 0);
    }
    if (v->rule == NULL) {
        v->chain_len = 0;
        return 0;
    }
    struct wl_rule *r = (struct wl_rule *)v->rule;
    v->firedtimes = atomic_fetch_add(&r->firedtimes, 1) + 1;
    v->level = r->level;
    if (r->level == 0)
        return 0;
    if (r->ignore > 0) {
        /* The alert keeps the counter of the rule that matched. */
        apply_ignore(v, now);
        if (v->rule == NULL) {
            v->level = -1;
            return 0;
        }
        v->level = v->rule->level;
    }
    v->alert = v->rule->log && v->rule->level > 0;
    v->previous_output = s->corr.previous_output;
    /*
     * NOTE: when memory runs out the event is not kept, so later
     * correlation searches miss it. This verdict is not changed.
     */
    (void)wl_corr_store(rs, v->rule, ev, &s->corr);
    return 0;
}

const struct wl_rule *wl_ruleset_find(const struct wl_ruleset *rs, int id)
{
    return find_id(rs, id);
}

int wl_rule_id(const struct wl_rule *r)
{
    return r->id;
}

int wl_rule_level(const struct wl_rule *r)
{
    return r->level;
}

const char *wl_rule_description(const struct wl_rule *r)
{
    return r->description;
}

const char *wl_rule_groups(const struct wl_rule *r)
{
    return r->groups;
}
