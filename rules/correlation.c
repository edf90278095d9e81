#include "config.h"

#include "rules/correlation.h"
#include "rules/tree.h"
#include "daemon/error.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Static fields compared by same_* and different_*, in analysisd's order
 * (the bit of a field is 1 << its index).
 */
enum {
    CF_SRCIP,
    CF_ID,
    CF_DSTIP,
    CF_SRCPORT,
    CF_DSTPORT,
    CF_SRCUSER,
    CF_USER, /* dstuser */
    CF_PROTOCOL,
    CF_ACTION,
    CF_URL,
    CF_DATA,
    CF_EXTRA_DATA,
    CF_STATUS,
    CF_SYSTEM_NAME,
    CF_SRCGEOIP,
    CF_DSTGEOIP,
    CF_LOCATION,
    CF_COUNT
};

/* The event field behind each CF_* index, or -1 for the special ones. */
static const int static_of[CF_COUNT] = {
    WL_SF_SRCIP,
    WL_SF_ID,
    WL_SF_DSTIP,
    WL_SF_SRCPORT,
    WL_SF_DSTPORT,
    WL_SF_SRCUSER,
    WL_SF_DSTUSER,
    WL_SF_PROTOCOL,
    WL_SF_ACTION,
    WL_SF_URL,
    WL_SF_DATA,
    WL_SF_EXTRA_DATA,
    WL_SF_STATUS,
    WL_SF_SYSTEM_NAME,
    -1,
    -1,
    -1,
};

/* Correlation filter elements: name, 1 for same / 0 for different, bit. */
static const struct {
    const char *name;
    int same;
    int field;
} filter_defs[] = {
    {"same_source_ip", 1, CF_SRCIP},
    {"same_srcip", 1, CF_SRCIP},
    {"same_dstip", 1, CF_DSTIP},
    {"same_src_port", 1, CF_SRCPORT},
    {"same_srcport", 1, CF_SRCPORT},
    {"same_dst_port", 1, CF_DSTPORT},
    {"same_dstport", 1, CF_DSTPORT},
    {"same_srcuser", 1, CF_SRCUSER},
    {"same_user", 1, CF_USER},
    {"same_location", 1, CF_LOCATION},
    {"same_id", 1, CF_ID},
    {"same_url", 1, CF_URL},
    {"same_srcgeoip", 1, CF_SRCGEOIP},
    {"same_dstgeoip", 1, CF_DSTGEOIP},
    {"same_protocol", 1, CF_PROTOCOL},
    {"same_action", 1, CF_ACTION},
    {"same_data", 1, CF_DATA},
    {"same_extra_data", 1, CF_EXTRA_DATA},
    {"same_status", 1, CF_STATUS},
    {"same_system_name", 1, CF_SYSTEM_NAME},
    {"different_srcip", 0, CF_SRCIP},
    {"not_same_source_ip", 0, CF_SRCIP},
    {"different_dstip", 0, CF_DSTIP},
    {"different_src_port", 0, CF_SRCPORT},
    {"different_srcport", 0, CF_SRCPORT},
    {"different_dst_port", 0, CF_DSTPORT},
    {"different_dstport", 0, CF_DSTPORT},
    {"different_location", 0, CF_LOCATION},
    {"different_protocol", 0, CF_PROTOCOL},
    {"different_action", 0, CF_ACTION},
    {"different_srcuser", 0, CF_SRCUSER},
    {"different_user", 0, CF_USER},
    {"not_same_user", 0, CF_USER},
    {"different_id", 0, CF_ID},
    {"not_same_id", 0, CF_ID},
    {"different_url", 0, CF_URL},
    {"different_data", 0, CF_DATA},
    {"different_extra_data", 0, CF_EXTRA_DATA},
    {"different_status", 0, CF_STATUS},
    {"different_system_name", 0, CF_SYSTEM_NAME},
    {"different_srcgeoip", 0, CF_SRCGEOIP},
    {"different_dstgeoip", 0, CF_DSTGEOIP},
};

/* A kept copy of an event, shared by the lists that hold it. */
struct corr_event {
    unsigned refs;
    uint64_t seq; /* position in the stream of events with a verdict */
    time_t time;
    int matched;
    char *agent_id;
    char *statics[CF_COUNT];
    char **names;
    char **values;
    size_t field_count;
    char *full_log;
    char *log;          /* the text after a syslog header */
    char *decoder_type; /* the rule category of its decoder */
};

/* Events of one list, oldest first. */
struct wl_corr_list {
    struct corr_event **items;
    size_t head; /* items before head are gone */
    size_t count;
    size_t cap;
};

struct wl_corr {
    pthread_mutex_t lock;
    atomic_uint_fast64_t next_seq;
    uint64_t memory_size;
    struct wl_corr_list **lists; /* owned */
    size_t list_count;
    struct wl_corr_list *recent; /* every event, when a rule needs it */
};

int wl_corr_read_option(struct wl_rule_context **ctx, const char *name,
                        const char *text)
{
    struct wl_rule_context *c = *ctx;

    if (c == NULL) {
        c = calloc(1, sizeof(*c));
        if (c == NULL)
            return WL_ENOMEM;
        *ctx = c;
    }
    if (strcasecmp(name, "global_frequency") == 0) {
        c->global = 1;
        return 0;
    }
    int same = strcasecmp(name, "same_field") == 0;
    if (same || strcasecmp(name, "different_field") == 0 ||
        strcasecmp(name, "not_same_field") == 0) {
        char ***list = same ? &c->same_fields : &c->different_fields;
        size_t *count = same ? &c->same_count : &c->different_count;
        char **p = realloc(*list, (*count + 1) * sizeof(**list));

        if (p == NULL)
            return WL_ENOMEM;
        *list = p;
        p[*count] = strdup(text);
        if (p[*count] == NULL)
            return WL_ENOMEM;
        (*count)++;
        if (same)
            c->same_dynamic = 1;
        else
            c->different_dynamic = 1;
        return 0;
    }
    for (size_t i = 0; i < sizeof(filter_defs) / sizeof(*filter_defs); i++) {
        if (strcasecmp(name, filter_defs[i].name) != 0)
            continue;
        if (filter_defs[i].same)
            c->same |= 1u << filter_defs[i].field;
        else
            c->different |= 1u << filter_defs[i].field;
        return 0;
    }
    return WL_ENOENT;
}

void wl_corr_context_free(struct wl_rule_context *ctx)
{
    if (ctx == NULL)
        return;
    for (size_t i = 0; i < ctx->same_count; i++)
        free(ctx->same_fields[i]);
    for (size_t i = 0; i < ctx->different_count; i++)
        free(ctx->different_fields[i]);
    free(ctx->same_fields);
    free(ctx->different_fields);
    wl_pattern_free(ctx->group);
    wl_pattern_free(ctx->regex);
    free(ctx);
}

int wl_corr_init(struct wl_ruleset *rs, int memory_size)
{
    struct wl_corr *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return WL_ENOMEM;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return WL_ENOMEM;
    }
    c->memory_size =
        memory_size > 0 ? (uint64_t)memory_size : WL_CORR_MEMORY_SIZE;
    rs->corr = c;
    return 0;
}

static void event_release(struct corr_event *e)
{
    if (e == NULL || --e->refs > 0)
        return;
    free(e->agent_id);
    for (int i = 0; i < CF_COUNT; i++)
        free(e->statics[i]);
    for (size_t i = 0; i < e->field_count; i++) {
        free(e->names[i]);
        free(e->values[i]);
    }
    free(e->names);
    free(e->values);
    free(e->full_log);
    free(e->log);
    free(e->decoder_type);
    free(e);
}

void wl_corr_free(struct wl_ruleset *rs)
{
    struct wl_corr *c = rs->corr;

    if (c == NULL)
        return;
    for (size_t i = 0; i < c->list_count; i++) {
        struct wl_corr_list *l = c->lists[i];

        for (size_t j = l->head; j < l->count; j++)
            event_release(l->items[j]);
        free(l->items);
        free(l);
    }
    free(c->lists);
    pthread_mutex_destroy(&c->lock);
    free(c);
    rs->corr = NULL;
}

static struct wl_corr_list *new_list(struct wl_corr *c)
{
    struct wl_corr_list **lists =
        realloc(c->lists, (c->list_count + 1) * sizeof(*lists));

    if (lists == NULL)
        return NULL;
    c->lists = lists;
    lists[c->list_count] = calloc(1, sizeof(**lists));
    if (lists[c->list_count] == NULL)
        return NULL;
    return lists[c->list_count++];
}

static int add_group_list(struct wl_rule *r, struct wl_corr_list *list)
{
    struct wl_corr_list **g =
        realloc(r->group_lists, (r->group_list_count + 1) * sizeof(*g));

    if (g == NULL)
        return WL_ENOMEM;
    r->group_lists = g;
    g[r->group_list_count++] = list;
    return 0;
}

/*
 * Walks every tree node below parent: marks the rules whose groups match
 * the pattern (once per node) or finds the if_matched_sid target.
 */
static int mark_nodes(const struct wl_rule *parent, struct wl_rule *r,
                      struct wl_corr *c, int depth)
{
    struct wl_rule_context *ctx = r->context;

    if (depth >= WL_RULE_MAX_DEPTH)
        return 0;
    for (size_t i = 0; i < parent->child_count; i++) {
        struct wl_rule *node = parent->children[i];
        int rc = 0;

        if (ctx->group != NULL) {
            if (wl_pattern_match(ctx->group, node->groups, strlen(node->groups),
                                 NULL))
                rc = add_group_list(node, ctx->search);
        } else if (node->id == ctx->if_matched_sid) {
            if (node->sid_list == NULL) {
                node->sid_list = new_list(c);
                if (node->sid_list == NULL)
                    return WL_ENOMEM;
            }
            ctx->search = node->sid_list;
        }
        if (rc == 0)
            rc = mark_nodes(node, r, c, depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int wl_corr_attach(struct wl_load *ld, struct wl_rule *r)
{
    struct wl_corr *c = ld->rs->corr;

    if (r->context == NULL)
        return 0;
    if (r->context->group != NULL) {
        r->context->search = new_list(c);
        if (r->context->search == NULL)
            return WL_ENOMEM;
    } else if (r->context->regex != NULL) {
        /* From now on every event with a verdict is kept. */
        if (c->recent == NULL && (c->recent = new_list(c)) == NULL)
            return WL_ENOMEM;
        r->context->search = c->recent;
        return 0;
    }
    return mark_nodes(&ld->rs->root, r, c, 0);
}

void wl_corr_match_clear(struct wl_corr_match *m)
{
    for (int i = 0; i < m->previous_count; i++)
        free(m->previous[i]);
    free(m->previous_output);
    memset(m, 0, sizeof(*m));
}

/* Drops the events that left the recent-events memory. */
static void prune(struct wl_corr *c, struct wl_corr_list *l)
{
    uint64_t next = atomic_load(&c->next_seq);

    while (l->head < l->count &&
           l->items[l->head]->seq + c->memory_size <= next) {
        event_release(l->items[l->head]);
        l->items[l->head++] = NULL;
    }
    if (l->head > 0 && l->head * 2 >= l->count) {
        memmove(l->items, l->items + l->head,
                (l->count - l->head) * sizeof(*l->items));
        l->count -= l->head;
        l->head = 0;
    }
}

static const char *static_value(const struct wl_event *ev, int field)
{
    if (field == CF_LOCATION)
        return ev->location;
    if (static_of[field] < 0)
        return NULL;
    return ev->static_fields[static_of[field]];
}

static const char *field_value(const struct corr_event *e, const char *name)
{
    for (size_t i = 0; i < e->field_count; i++) {
        if (strcasecmp(e->names[i], name) == 0)
            return e->values[i];
    }
    return NULL;
}

static const char *event_field(const struct wl_event *ev, const char *name)
{
    const struct wl_field *f = wl_event_field_by_name(ev, name);

    return f ? f->value : NULL;
}

static const char *type_of(const struct wl_event *ev)
{
    return ev->decoder_type ? ev->decoder_type : "syslog";
}

/* Returns 1 when the candidate e passes the filters of ctx for ev. */
static int passes(const struct wl_rule_context *ctx, const struct corr_event *e,
                  const struct wl_event *ev, struct wl_pattern_scratch *ps)
{
    if (!ctx->global && (e->agent_id == NULL || ev->agent_id == NULL ||
                         strcmp(e->agent_id, ev->agent_id) != 0))
        return 0;
    if (ctx->regex != NULL &&
        (strcmp(e->decoder_type, type_of(ev)) != 0 ||
         !wl_pattern_match(ctx->regex, e->log, strlen(e->log), ps)))
        return 0;
    for (int i = 0; i < CF_COUNT; i++) {
        const char *mine, *theirs;

        if (!((ctx->same | ctx->different) & (1u << i)))
            continue;
        mine = static_value(ev, i);
        theirs = e->statics[i];
        int equal = mine != NULL && theirs != NULL && strcmp(mine, theirs) == 0;
        if ((ctx->same & (1u << i)) && !equal)
            return 0;
        if ((ctx->different & (1u << i)) && equal)
            return 0;
    }
    if (ctx->same_dynamic) {
        if (ev->field_count == 0 || e->field_count == 0)
            return 0;
        for (size_t i = 0; i < ctx->same_count; i++) {
            const char *mine = event_field(ev, ctx->same_fields[i]);
            const char *theirs =
                mine ? field_value(e, ctx->same_fields[i]) : NULL;

            if (theirs == NULL || strcmp(mine, theirs) != 0)
                return 0;
        }
    }
    if (ctx->different_dynamic) {
        if (ev->field_count == 0 && e->field_count == 0)
            return 0;
        for (size_t i = 0; i < ctx->different_count; i++) {
            const char *mine = event_field(ev, ctx->different_fields[i]);
            const char *theirs =
                mine ? field_value(e, ctx->different_fields[i]) : NULL;

            if (theirs != NULL && strcmp(mine, theirs) == 0)
                return 0;
        }
    }
    return 1;
}

static void keep_previous(struct wl_corr_match *m, int index, const char *log)
{
    if (index >= WL_CORR_MAX_PREVIOUS || index != m->previous_count)
        return;
    m->previous[index] = strdup(log ? log : "");
    if (m->previous[index] != NULL)
        m->previous_count++;
}

/* Joins the kept logs for previous_output, when there are two or more. */
static void join_previous(struct wl_corr_match *m)
{
    size_t len = 0;

    free(m->previous_output);
    m->previous_output = NULL;
    if (m->previous_count < 2 || m->previous[1][0] == '\0')
        return;
    for (int i = 0; i < m->previous_count; i++)
        len += strlen(m->previous[i]) + 1;
    m->previous_output = malloc(len);
    if (m->previous_output == NULL)
        return;
    m->previous_output[0] = '\0';
    for (int i = 0; i < m->previous_count; i++) {
        if (i > 0)
            strcat(m->previous_output, "\n");
        strcat(m->previous_output, m->previous[i]);
    }
}

int wl_corr_search(const struct wl_ruleset *rs, const struct wl_rule *r,
                   const struct wl_event *ev, struct wl_corr_match *m,
                   struct wl_pattern_scratch *ps)
{
    struct wl_corr *c = rs->corr;
    const struct wl_rule_context *ctx = r->context;
    struct wl_corr_list *l = ctx->search;
    struct corr_event *first = NULL;
    time_t now = ev->received.tv_sec;
    int count = 0, found = 0;
    /* analysisd stores frequency - 2 and fires when it counts past it. */
    int needed = ctx->frequency - 2;

    if (l == NULL)
        return 0;
    pthread_mutex_lock(&c->lock);
    prune(c, l);
    for (size_t i = l->count; i-- > l->head;) {
        struct corr_event *e = l->items[i];

        if (now - e->time > ctx->timeframe)
            break;
        if (!passes(ctx, e, ev, ps))
            continue;
        /* An event already used by an equal or higher level ends it. */
        if (e->matched >= r->level)
            break;
        /* The search of all events keeps only the logs it counts. */
        if (ctx->regex == NULL || count < needed)
            keep_previous(m, count, e->full_log);
        if (count < needed) {
            count++;
            if (first == NULL)
                first = e;
            continue;
        }
        m->matched = r->level;
        if (first != NULL)
            first->matched = r->level;
        found = 1;
        break;
    }
    pthread_mutex_unlock(&c->lock);
    if (!found) {
        for (int i = 0; i < m->previous_count; i++)
            free(m->previous[i]);
        m->previous_count = 0;
        return 0;
    }
    join_previous(m);
    return 1;
}

static char *dup_or_null(const char *s, int *nomem)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = strdup(s);
    if (d == NULL)
        *nomem = 1;
    return d;
}

static struct corr_event *copy_event(const struct wl_event *ev, int matched)
{
    struct corr_event *e = calloc(1, sizeof(*e));
    int nomem = 0;

    if (e == NULL)
        return NULL;
    e->refs = 1;
    e->time = ev->received.tv_sec;
    e->matched = matched;
    e->agent_id = dup_or_null(ev->agent_id, &nomem);
    for (int i = 0; i < CF_COUNT; i++)
        e->statics[i] = dup_or_null(static_value(ev, i), &nomem);
    e->full_log = dup_or_null(ev->full_log, &nomem);
    const char *log = ev->log != NULL ? ev->log : ev->full_log;

    e->log = dup_or_null(log != NULL ? log : "", &nomem);
    e->decoder_type = dup_or_null(type_of(ev), &nomem);
    if (ev->field_count > 0) {
        e->names = calloc(ev->field_count, sizeof(*e->names));
        e->values = calloc(ev->field_count, sizeof(*e->values));
        if (e->names == NULL || e->values == NULL)
            nomem = 1;
        for (size_t i = 0; !nomem && i < ev->field_count; i++) {
            e->names[i] = dup_or_null(ev->fields[i].name, &nomem);
            e->values[i] = dup_or_null(ev->fields[i].value, &nomem);
            e->field_count = i + 1;
        }
    }
    if (nomem) {
        event_release(e);
        return NULL;
    }
    return e;
}

static int append(struct wl_corr *c, struct wl_corr_list *l,
                  struct corr_event *e)
{
    prune(c, l);
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct corr_event **items = realloc(l->items, cap * sizeof(*items));

        if (items == NULL)
            return WL_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->count++] = e;
    e->refs++;
    return 0;
}

int wl_corr_store(const struct wl_ruleset *rs, const struct wl_rule *verdict,
                  const struct wl_event *ev, const struct wl_corr_match *m)
{
    struct wl_corr *c = rs->corr;
    struct corr_event *e = NULL;
    int rc = 0;
    /* Every event with a verdict enters analysisd's recent-events memory. */
    uint64_t seq = atomic_fetch_add(&c->next_seq, 1);

    if (verdict->sid_list == NULL && verdict->group_list_count == 0 &&
        c->recent == NULL)
        return 0;
    e = copy_event(ev, m->matched);
    if (e == NULL)
        return WL_ENOMEM;
    e->seq = seq;
    pthread_mutex_lock(&c->lock);
    /* The list of an if_matched_sid target excludes the group lists. */
    if (verdict->sid_list != NULL) {
        rc = append(c, verdict->sid_list, e);
    } else {
        for (size_t i = 0; rc == 0 && i < verdict->group_list_count; i++)
            rc = append(c, verdict->group_lists[i], e);
    }
    if (rc == 0 && c->recent != NULL)
        rc = append(c, c->recent, e);
    event_release(e);
    pthread_mutex_unlock(&c->lock);
    return rc;
}
