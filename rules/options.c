/*
 * Reading one <rule>: its attributes and the table of child elements.
 * As in analysisd, repeated pattern elements are joined with no separator
 * and take the type and negate attributes of the last one. The patterns
 * are compiled once every child has been read.
 */
#include "config.h"

#include "rules/cond.h"
#include "rules/correlation.h"
#include "rules/lists.h"
#include "rules/tree.h"
#include "daemon/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Elements whose repeated texts are joined into one pattern. */
enum pending_pattern {
    PP_MATCH,
    PP_REGEX,
    PP_PROGRAM_NAME,
    PP_ID,
    PP_SYSTEM_NAME,
    PP_PROTOCOL,
    PP_ACTION,
    PP_URL,
    PP_LOCATION,
    PP_SRCPORT,
    PP_DSTPORT,
    PP_USER,
    PP_SRCGEOIP,
    PP_DSTGEOIP,
    PP_DATA,
    PP_EXTRA_DATA,
    PP_HOSTNAME,
    PP_STATUS,
    PP_COUNT
};

/* Elements whose repeated texts are joined into one string. */
enum pending_text {
    PT_DESCRIPTION,
    PT_INFO,
    PT_CVE,
    PT_GROUP,
    PT_IF_SID,
    PT_IF_GROUP,
    PT_IF_LEVEL,
    PT_IF_MATCHED_GROUP,
    PT_IF_MATCHED_REGEX,
    PT_COUNT
};

/* Elements where the last one wins. */
enum pending_last {
    PL_DECODED_AS,
    PL_CATEGORY,
    PL_IF_MATCHED_SID,
    PL_TIME,
    PL_WEEKDAY,
    PL_COUNT
};

struct pattern_def {
    enum wl_pattern_type type; /* default type */
    enum wl_cond_rank rank;
    enum wl_subject subject;
    int index; /* static field */
};

static const struct pattern_def pattern_defs[PP_COUNT] = {
    [PP_MATCH] = {WL_PATTERN_OSMATCH, WL_RANK_MATCH, WL_SUBJECT_LOG, 0},
    [PP_REGEX] = {WL_PATTERN_OSREGEX, WL_RANK_REGEX, WL_SUBJECT_LOG, 0},
    [PP_PROGRAM_NAME] = {WL_PATTERN_OSMATCH, WL_RANK_PROGRAM_NAME,
                         WL_SUBJECT_PROGRAM_NAME, 0},
    [PP_ID] = {WL_PATTERN_OSMATCH, WL_RANK_ID, WL_SUBJECT_STATIC, WL_SF_ID},
    [PP_SYSTEM_NAME] = {WL_PATTERN_OSMATCH, WL_RANK_SYSTEM_NAME,
                        WL_SUBJECT_STATIC, WL_SF_SYSTEM_NAME},
    [PP_PROTOCOL] = {WL_PATTERN_OSMATCH, WL_RANK_PROTOCOL, WL_SUBJECT_STATIC,
                     WL_SF_PROTOCOL},
    [PP_ACTION] = {WL_PATTERN_OSMATCH, WL_RANK_ACTION, WL_SUBJECT_STATIC,
                   WL_SF_ACTION},
    [PP_URL] = {WL_PATTERN_OSMATCH, WL_RANK_URL, WL_SUBJECT_STATIC, WL_SF_URL},
    [PP_LOCATION] = {WL_PATTERN_OSMATCH, WL_RANK_LOCATION, WL_SUBJECT_LOCATION,
                     0},
    [PP_SRCPORT] = {WL_PATTERN_OSMATCH, WL_RANK_SRCPORT, WL_SUBJECT_STATIC,
                    WL_SF_SRCPORT},
    [PP_DSTPORT] = {WL_PATTERN_OSMATCH, WL_RANK_DSTPORT, WL_SUBJECT_STATIC,
                    WL_SF_DSTPORT},
    [PP_USER] = {WL_PATTERN_OSMATCH, WL_RANK_USER, WL_SUBJECT_USER, 0},
    [PP_SRCGEOIP] = {WL_PATTERN_OSMATCH, WL_RANK_SRCGEOIP, WL_SUBJECT_NONE, 0},
    [PP_DSTGEOIP] = {WL_PATTERN_OSMATCH, WL_RANK_DSTGEOIP, WL_SUBJECT_NONE, 0},
    [PP_DATA] = {WL_PATTERN_OSMATCH, WL_RANK_DATA, WL_SUBJECT_STATIC,
                 WL_SF_DATA},
    [PP_EXTRA_DATA] = {WL_PATTERN_OSMATCH, WL_RANK_EXTRA_DATA,
                       WL_SUBJECT_STATIC, WL_SF_EXTRA_DATA},
    [PP_HOSTNAME] = {WL_PATTERN_OSMATCH, WL_RANK_HOSTNAME, WL_SUBJECT_HOSTNAME,
                     0},
    [PP_STATUS] = {WL_PATTERN_OSMATCH, WL_RANK_STATUS, WL_SUBJECT_STATIC,
                   WL_SF_STATUS},
};

struct pending {
    char *text;
    int type; /* -1: default */
    int negate;
    int line;
};

/* Everything read from one <rule> before it is turned into conditions. */
struct build {
    struct wl_load *ld;
    struct wl_rule *rule;
    struct wl_rule_parents *parents;
    struct pending pattern[PP_COUNT];
    struct pending text[PT_COUNT];
    struct pending last[PL_COUNT];
    struct wl_cond *conds; /* fields and IP lists, built as read */
    size_t cond_count;
    int ip_cond[2];  /* index in conds of the srcip/dstip list, or -1 */
    int correlation; /* uses if_matched_* or check_diff */
    int has_same;    /* uses same_* / different_* / global_frequency */
    int frequency;
    long timeframe;
    struct wl_rule_context *context; /* correlation filters read so far */
    int line;
};

enum option_kind {
    OK_PATTERN,
    OK_TEXT,
    OK_LAST,
    OK_FIELD,
    OK_IP,
    OK_OPTIONS,
    OK_MITRE,
    OK_LIST,
    OK_UNSUPPORTED,
    OK_SAME,       /* correlation filter */
    OK_DEPRECATED, /* accepted, no effect */
};

struct option_def {
    const char *name;
    enum option_kind kind;
    int index;
};

/* The rule options, by element name (compared case-insensitively). */
static const struct option_def option_defs[] = {
    {"match", OK_PATTERN, PP_MATCH},
    {"regex", OK_PATTERN, PP_REGEX},
    {"program_name", OK_PATTERN, PP_PROGRAM_NAME},
    {"id", OK_PATTERN, PP_ID},
    {"system_name", OK_PATTERN, PP_SYSTEM_NAME},
    {"protocol", OK_PATTERN, PP_PROTOCOL},
    {"action", OK_PATTERN, PP_ACTION},
    {"url", OK_PATTERN, PP_URL},
    {"location", OK_PATTERN, PP_LOCATION},
    {"srcport", OK_PATTERN, PP_SRCPORT},
    {"dstport", OK_PATTERN, PP_DSTPORT},
    {"user", OK_PATTERN, PP_USER},
    {"srcgeoip", OK_PATTERN, PP_SRCGEOIP},
    {"dstgeoip", OK_PATTERN, PP_DSTGEOIP},
    {"data", OK_PATTERN, PP_DATA},
    {"extra_data", OK_PATTERN, PP_EXTRA_DATA},
    {"hostname", OK_PATTERN, PP_HOSTNAME},
    {"status", OK_PATTERN, PP_STATUS},
    {"description", OK_TEXT, PT_DESCRIPTION},
    {"info", OK_TEXT, PT_INFO},
    {"cve", OK_TEXT, PT_CVE},
    {"group", OK_TEXT, PT_GROUP},
    {"if_sid", OK_TEXT, PT_IF_SID},
    {"if_group", OK_TEXT, PT_IF_GROUP},
    {"if_level", OK_TEXT, PT_IF_LEVEL},
    {"if_matched_group", OK_TEXT, PT_IF_MATCHED_GROUP},
    {"decoded_as", OK_LAST, PL_DECODED_AS},
    {"category", OK_LAST, PL_CATEGORY},
    {"if_matched_sid", OK_LAST, PL_IF_MATCHED_SID},
    {"time", OK_LAST, PL_TIME},
    {"weekday", OK_LAST, PL_WEEKDAY},
    {"field", OK_FIELD, 0},
    {"srcip", OK_IP, 0},
    {"dstip", OK_IP, 1},
    {"options", OK_OPTIONS, 0},
    {"mitre", OK_MITRE, 0},
    {"if_matched_regex", OK_TEXT, PT_IF_MATCHED_REGEX},
    {"list", OK_LIST, 0},
    {"if_fts", OK_UNSUPPORTED, 0},
    {"check_diff", OK_UNSUPPORTED, 1},
    {"compiled_rule", OK_UNSUPPORTED, 0},
    {"ignore", OK_UNSUPPORTED, 0},
    {"check_if_ignored", OK_UNSUPPORTED, 0},
    {"global_frequency", OK_SAME, 0},
    {"same_field", OK_SAME, 0},
    {"different_field", OK_SAME, 0},
    {"not_same_field", OK_SAME, 0},
    {"same_agent", OK_DEPRECATED, 0},
    {"not_same_agent", OK_DEPRECATED, 0},
};

/* Static field names that <field name> may not use. */
static const char *const static_names[] = {
    "srcip",      "dstip",   "srcgeoip", "dstgeoip",    "srcport", "dstport",
    "user",       "srcuser", "dstuser",  "url",         "id",      "data",
    "extra_data", "status",  "protocol", "system_name", "action",
};

static const char *const same_prefixes[] = {"same_", "different_", "not_same_"};

static int is_same_option(const char *name)
{
    for (size_t i = 0; i < sizeof(same_prefixes) / sizeof(*same_prefixes);
         i++) {
        if (strncasecmp(name, same_prefixes[i], strlen(same_prefixes[i])) == 0)
            return 1;
    }
    return 0;
}

static const struct option_def *find_option(const char *name)
{
    for (size_t i = 0; i < sizeof(option_defs) / sizeof(*option_defs); i++) {
        if (strcasecmp(option_defs[i].name, name) == 0)
            return &option_defs[i];
    }
    return NULL;
}

static int append(char **dst, const char *s)
{
    size_t old = *dst ? strlen(*dst) : 0, n = strlen(s);
    char *p = realloc(*dst, old + n + 1);

    if (p == NULL)
        return WL_ENOMEM;
    memcpy(p + old, s, n + 1);
    *dst = p;
    return 0;
}

static int replace(char **dst, const char *s)
{
    char *p = strdup(s);

    if (p == NULL)
        return WL_ENOMEM;
    free(*dst);
    *dst = p;
    return 0;
}

/* Reads type= and negate= of a pattern element; warns on bad values. */
static int read_type_negate(struct build *b, const xmlNode *node, int *type,
                            int *negate)
{
    char err[256];
    int rc;
    int line = wl_xml_line(node);
    char *t = wl_xml_attr(node, "type", 0, b->ld->vars, &rc, err, sizeof(err));

    if (rc < 0)
        goto fail;
    *type = -1;
    if (t != NULL) {
        if (strcasecmp(t, "osmatch") == 0)
            *type = WL_PATTERN_OSMATCH;
        else if (strcasecmp(t, "osregex") == 0)
            *type = WL_PATTERN_OSREGEX;
        else if (strcasecmp(t, "pcre2") == 0)
            *type = WL_PATTERN_PCRE2;
        else
            wl_load_report(b->ld, WL_RULESET_WARNING, line,
                           "rule %d: unknown pattern type '%s', using the "
                           "default",
                           b->rule->id, t);
        free(t);
    }
    char *n =
        wl_xml_attr(node, "negate", 0, b->ld->vars, &rc, err, sizeof(err));
    if (rc < 0)
        goto fail;
    *negate = 0;
    if (n != NULL) {
        if (strcasecmp(n, "yes") == 0)
            *negate = 1;
        else if (strcasecmp(n, "no") != 0)
            wl_load_report(b->ld, WL_RULESET_WARNING, line,
                           "rule %d: invalid negate value '%s', using 'no'",
                           b->rule->id, n);
        free(n);
    }
    return 0;
fail:
    if (rc != WL_ENOMEM)
        wl_load_report(b->ld, WL_RULESET_ERROR, line, "rule %d: %s",
                       b->rule->id, err);
    return rc;
}

static struct wl_cond *new_cond(struct build *b)
{
    struct wl_cond *c =
        realloc(b->conds, (b->cond_count + 1) * sizeof(*b->conds));

    if (c == NULL)
        return NULL;
    b->conds = c;
    c = &b->conds[b->cond_count++];
    memset(c, 0, sizeof(*c));
    return c;
}

static int compile(struct build *b, enum wl_pattern_type type, const char *text,
                   int negate, int line, struct wl_pattern **out)
{
    char err[512];
    int rc = wl_pattern_compile(type, text, negate, out, err, sizeof(err));

    if (rc == WL_ENOMEM)
        return rc;
    if (rc < 0) {
        wl_load_report(b->ld, WL_RULESET_ERROR, line, "rule %d: %s",
                       b->rule->id, err);
        return WL_EINVAL;
    }
    return 0;
}

static int read_field(struct build *b, const xmlNode *node, const char *text)
{
    char err[256];
    int rc, type, negate, line = wl_xml_line(node);
    char *name =
        wl_xml_attr(node, "name", 0, b->ld->vars, &rc, err, sizeof(err));
    struct wl_pattern *p = NULL;

    if (rc < 0)
        goto out;
    if (name == NULL || name[0] == '\0') {
        wl_load_report(b->ld, WL_RULESET_ERROR, line,
                       "rule %d: <field> without a name attribute",
                       b->rule->id);
        rc = WL_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < sizeof(static_names) / sizeof(*static_names); i++) {
        if (strcmp(name, static_names[i]) == 0) {
            wl_load_report(b->ld, WL_RULESET_ERROR, line,
                           "rule %d: <field name=\"%s\"> names a static "
                           "field; use <%s>",
                           b->rule->id, name, name);
            rc = WL_EINVAL;
            goto out;
        }
    }
    rc = read_type_negate(b, node, &type, &negate);
    if (rc < 0)
        goto out;
    rc = compile(b, type < 0 ? WL_PATTERN_OSREGEX : (enum wl_pattern_type)type,
                 text, negate, line, &p);
    if (rc < 0)
        goto out;
    int slot = wl_fieldnames_add(b->ld->names, name, strlen(name));
    if (slot < 0) {
        rc = slot;
        goto out;
    }
    struct wl_cond *c = new_cond(b);
    if (c == NULL) {
        rc = WL_ENOMEM;
        goto out;
    }
    wl_cond_init_pattern(c, p);
    p = NULL;
    c->rank = WL_RANK_FIELD;
    c->subject = WL_SUBJECT_FIELD;
    c->index = slot;
out:
    if (rc < 0 && rc != WL_ENOMEM && rc != WL_EINVAL)
        wl_load_report(b->ld, WL_RULESET_ERROR, line, "rule %d: %s",
                       b->rule->id, err);
    wl_pattern_free(p);
    free(name);
    return rc;
}

static int read_ip(struct build *b, const xmlNode *node, int which,
                   const char *text)
{
    char err[256];
    int rc, type, negate, line = wl_xml_line(node);

    rc = read_type_negate(b, node, &type, &negate);
    if (rc < 0)
        return rc;
    if (b->ip_cond[which] >= 0) {
        struct wl_cond *c = &b->conds[b->ip_cond[which]];

        c->negate = negate;
        rc = wl_cond_ip_add(c, text, err, sizeof(err));
    } else {
        struct wl_cond *c = new_cond(b);

        if (c == NULL)
            return WL_ENOMEM;
        c->rank = which ? WL_RANK_DSTIP : WL_RANK_SRCIP;
        c->subject = WL_SUBJECT_STATIC;
        c->index = which ? WL_SF_DSTIP : WL_SF_SRCIP;
        b->ip_cond[which] = (int)(b->cond_count - 1);
        rc = wl_cond_init_ip(c, text, negate, err, sizeof(err));
    }
    if (rc == WL_EINVAL)
        wl_load_report(b->ld, WL_RULESET_ERROR, line, "rule %d: %s",
                       b->rule->id, err);
    return rc;
}

static const struct {
    const char *name;
    int set;
    int clear;
} option_words[] = {
    {"alert_by_email", WL_RULE_ALERT_BY_EMAIL, 0},
    {"no_email_alert", WL_RULE_NO_EMAIL_ALERT, 0},
    {"log_alert", WL_RULE_LOG_ALERT, 0},
    {"no_log", WL_RULE_NO_LOG, 0},
    {"no_ar", WL_RULE_NO_AR, 0},
    {"no_full_log", WL_RULE_NO_FULL_LOG, 0},
    {"no_counter", WL_RULE_NO_COUNTER, 0},
};

static int read_options(struct build *b, const xmlNode *node, const char *text)
{
    for (size_t i = 0; i < sizeof(option_words) / sizeof(*option_words); i++) {
        if (strcmp(text, option_words[i].name) == 0) {
            b->rule->options |= option_words[i].set;
            return 0;
        }
    }
    wl_load_report(b->ld, WL_RULESET_ERROR, wl_xml_line(node),
                   "rule %d: invalid <options> value '%s' (one of "
                   "alert_by_email, no_email_alert, log_alert, no_log, "
                   "no_ar, no_full_log, no_counter per element)",
                   b->rule->id, text);
    return WL_EINVAL;
}

static int add_mitre(struct wl_rule *r, const char *technique,
                     const char *tactic)
{
    struct wl_mitre_ref *m =
        realloc(r->mitre, (r->mitre_count + 1) * sizeof(*m));

    if (m == NULL)
        return WL_ENOMEM;
    r->mitre = m;
    m = &r->mitre[r->mitre_count];
    m->technique = strdup(technique);
    m->tactic = tactic ? strdup(tactic) : NULL;
    if (m->technique == NULL || (tactic != NULL && m->tactic == NULL)) {
        free(m->technique);
        free(m->tactic);
        return WL_ENOMEM;
    }
    r->mitre_count++;
    return 0;
}

/* Reads <mitre>: a list of <id>, or one <tacticID> with one <techniqueID>. */
static int read_mitre(struct build *b, const xmlNode *node)
{
    struct wl_rule *r = b->rule;
    char *tactic = NULL, *technique = NULL;
    int ids = 0, pairs = 0, rc = 0;
    size_t first = r->mitre_count;

    for (const xmlNode *c = node->children; c != NULL && rc == 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        char *raw = wl_xml_content(c);
        char *value = NULL;
        char err[256];

        if (raw == NULL)
            return WL_ENOMEM;
        rc = wl_xml_substitute(b->ld->vars, raw, &value, err, sizeof(err));
        free(raw);
        if (rc < 0)
            break;
        const char *n = (const char *)c->name;
        if (strcasecmp(n, "id") == 0) {
            int dup = 0;

            for (size_t i = first; i < r->mitre_count; i++)
                dup |= strcmp(r->mitre[i].technique, value) == 0;
            rc = dup ? 0 : add_mitre(r, value, NULL);
            ids++;
            free(value);
        } else if (strcasecmp(n, "tacticID") == 0) {
            free(tactic);
            tactic = value;
            pairs++;
        } else if (strcasecmp(n, "techniqueID") == 0) {
            free(technique);
            technique = value;
            pairs++;
        } else {
            wl_load_report(b->ld, WL_RULESET_ERROR, wl_xml_line(c),
                           "rule %d: invalid element <%s> in <mitre>", r->id,
                           n);
            free(value);
            rc = WL_EINVAL;
        }
    }
    if (rc == 0 && ids > 0 && pairs > 0) {
        /* Mixing both forms in one block discards the block. */
        wl_load_report(b->ld, WL_RULESET_WARNING, wl_xml_line(node),
                       "rule %d: <mitre> mixes <id> and "
                       "<tacticID>/<techniqueID>; block ignored",
                       r->id);
        while (r->mitre_count > first) {
            r->mitre_count--;
            free(r->mitre[r->mitre_count].technique);
            free(r->mitre[r->mitre_count].tactic);
        }
    } else if (rc == 0 && pairs > 0) {
        if (tactic != NULL && technique != NULL) {
            rc = add_mitre(r, technique, tactic);
            r->mitre_new_form = 1;
        } else {
            wl_load_report(b->ld, WL_RULESET_WARNING, wl_xml_line(node),
                           "rule %d: <mitre> needs one <tacticID> and one "
                           "<techniqueID>; block ignored",
                           r->id);
        }
    }
    free(tactic);
    free(technique);
    return rc;
}

/* Static fields a <list field> may name, and what each tests. */
static const struct {
    const char *name;
    enum wl_subject subject;
    int index;
} list_fields[] = {
    {"srcip", WL_SUBJECT_STATIC, WL_SF_SRCIP},
    {"srcport", WL_SUBJECT_STATIC, WL_SF_SRCPORT},
    {"dstip", WL_SUBJECT_STATIC, WL_SF_DSTIP},
    {"dstport", WL_SUBJECT_STATIC, WL_SF_DSTPORT},
    {"user", WL_SUBJECT_SRCUSER_FIRST, 0},
    {"url", WL_SUBJECT_STATIC, WL_SF_URL},
    {"id", WL_SUBJECT_STATIC, WL_SF_ID},
    {"hostname", WL_SUBJECT_HOSTNAME, 0},
    {"program_name", WL_SUBJECT_PROGRAM_NAME, 0},
    {"status", WL_SUBJECT_STATIC, WL_SF_STATUS},
    {"action", WL_SUBJECT_STATIC, WL_SF_ACTION},
    {"protocol", WL_SUBJECT_STATIC, WL_SF_PROTOCOL},
    {"system_name", WL_SUBJECT_STATIC, WL_SF_SYSTEM_NAME},
    {"data", WL_SUBJECT_STATIC, WL_SF_DATA},
    {"extra_data", WL_SUBJECT_STATIC, WL_SF_EXTRA_DATA},
};

/* Points c at the value <list field="name"> names. */
static int list_subject(struct build *b, struct wl_cond *c, char *name)
{
    for (size_t i = 0; i < sizeof(list_fields) / sizeof(*list_fields); i++) {
        if (strcasecmp(name, list_fields[i].name) == 0) {
            c->subject = list_fields[i].subject;
            c->index = list_fields[i].index;
            return 0;
        }
    }
    /* Any other name is a dynamic field; spaces around it are dropped. */
    name += strspn(name, " ");
    name[strcspn(name, " ")] = '\0';
    int slot = wl_fieldnames_add(b->ld->names, name, strlen(name));
    if (slot < 0)
        return slot;
    c->subject = WL_SUBJECT_FIELD;
    c->index = slot;
    return 0;
}

/* Reads <list field="..." lookup="..." check_value="...">name</list>. */
static int read_list(struct build *b, const xmlNode *node, const char *text)
{
    int line = wl_xml_line(node);
    char *field = NULL, *lookup = NULL, *check = NULL;
    struct wl_pattern *pattern = NULL;
    int kind = WL_LIST_MATCH_KEY, rc = 0;
    char err[256];

    for (const xmlAttr *a = node->properties; rc == 0 && a != NULL;
         a = a->next) {
        const char *an = (const char *)a->name;
        char **slot = strcasecmp(an, "field") == 0         ? &field
                      : strcasecmp(an, "lookup") == 0      ? &lookup
                      : strcasecmp(an, "check_value") == 0 ? &check
                                                           : NULL;
        if (slot == NULL) {
            wl_load_report(b->ld, WL_RULESET_ERROR, line,
                           "rule %d: invalid <list> attribute '%s' (field, "
                           "lookup or check_value)",
                           b->rule->id, an);
            rc = WL_EINVAL;
            break;
        }
        free(*slot);
        *slot = wl_xml_attr(node, an, 0, b->ld->vars, &rc, err, sizeof(err));
        if (rc < 0 && rc != WL_ENOMEM) {
            wl_load_report(b->ld, WL_RULESET_ERROR, line, "rule %d: %s",
                           b->rule->id, err);
            rc = WL_EINVAL;
        }
    }
    if (rc == 0 && field == NULL) {
        wl_load_report(b->ld, WL_RULESET_ERROR, line,
                       "rule %d: <list> needs a field attribute", b->rule->id);
        rc = WL_EINVAL;
    }
    if (rc == 0 && lookup != NULL && (kind = wl_list_lookup_find(lookup)) < 0) {
        wl_load_report(b->ld, WL_RULESET_ERROR, line,
                       "rule %d: invalid <list> lookup '%s'", b->rule->id,
                       lookup);
        rc = WL_EINVAL;
    }
    if (rc == 0 && check != NULL)
        rc = compile(b, WL_PATTERN_OSMATCH, check, 0, line, &pattern);
    const struct wl_cdb_list *list =
        rc == 0 ? wl_lists_find(b->ld->rs, text) : NULL;
    if (rc == 0 && list == NULL) {
        wl_load_report(b->ld, WL_RULESET_WARNING, line,
                       "rule %d: list '%s' is not configured or could not "
                       "be read; rule skipped",
                       b->rule->id, text);
        rc = WL_ENOENT; /* skipped as Wazuh does, not an invalid rule */
    }
    if (rc == 0) {
        struct wl_cond *c = new_cond(b);

        rc = c == NULL ? WL_ENOMEM : list_subject(b, c, field);
        if (rc == 0) {
            rc = wl_cond_init_list(c, list, (enum wl_list_lookup)kind, pattern);
            pattern = NULL;
        }
    }
    wl_pattern_free(pattern);
    free(field);
    free(lookup);
    free(check);
    return rc;
}

/* Reads one child element of <rule>. */
static int read_element(struct build *b, const xmlNode *node)
{
    const char *name = (const char *)node->name;
    const struct option_def *def = find_option(name);
    int line = wl_xml_line(node);
    char err[256];
    char *raw = NULL, *text = NULL;
    int rc;

    if (def == NULL && is_same_option(name)) {
        static const struct option_def same = {"same", OK_SAME, 0};

        def = &same;
    }
    if (def == NULL) {
        wl_load_report(b->ld, WL_RULESET_ERROR, line,
                       "rule %d: unknown option <%s>", b->rule->id, name);
        return WL_EINVAL;
    }
    raw = wl_xml_content(node);
    if (raw == NULL)
        return WL_ENOMEM;
    rc = wl_xml_substitute(b->ld->vars, raw, &text, err, sizeof(err));
    free(raw);
    if (rc < 0) {
        if (rc != WL_ENOMEM) {
            wl_load_report(b->ld, WL_RULESET_ERROR, line, "rule %d: %s",
                           b->rule->id, err);
            rc = WL_EINVAL;
        }
        return rc;
    }

    switch (def->kind) {
    case OK_PATTERN: {
        struct pending *p = &b->pattern[def->index];

        rc = read_type_negate(b, node, &p->type, &p->negate);
        if (rc == 0)
            rc = append(&p->text, text);
        p->line = line;
        break;
    }
    case OK_TEXT:
        rc = append(&b->text[def->index].text, text);
        b->text[def->index].line = line;
        if (def->index == PT_IF_MATCHED_GROUP ||
            def->index == PT_IF_MATCHED_REGEX)
            b->correlation = 1;
        break;
    case OK_LAST:
        rc = replace(&b->last[def->index].text, text);
        b->last[def->index].line = line;
        if (def->index == PL_IF_MATCHED_SID)
            b->correlation = 1;
        break;
    case OK_FIELD:
        rc = read_field(b, node, text);
        break;
    case OK_IP:
        rc = read_ip(b, node, def->index, text);
        break;
    case OK_OPTIONS:
        rc = read_options(b, node, text);
        break;
    case OK_MITRE:
        rc = read_mitre(b, node);
        break;
    case OK_LIST:
        rc = read_list(b, node, text);
        break;
    case OK_SAME:
        b->has_same = 1;
        rc = wl_corr_read_option(&b->context, name, text);
        if (rc == WL_ENOENT) {
            wl_load_report(b->ld, WL_RULESET_ERROR, line,
                           "rule %d: unknown option <%s>", b->rule->id, name);
            rc = WL_EINVAL;
        }
        break;
    case OK_UNSUPPORTED:
        if (def->index)
            b->correlation = 1;
        b->rule->unsupported = 1;
        rc = wl_load_unsupported(b->ld, name);
        break;
    case OK_DEPRECATED:
        wl_load_report(b->ld, WL_RULESET_WARNING, line,
                       "rule %d: <%s> is deprecated and has no effect",
                       b->rule->id, name);
        break;
    }
    free(text);
    return rc;
}

/* Parses digits only, using at most max_digits of them; -1 if invalid. */
static long parse_digits(const char *s, size_t max_digits)
{
    long v = 0;
    size_t n = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        if (n++ < max_digits)
            v = v * 10 + (*p - '0');
    }
    return v;
}

static const char *const rule_attrs[] = {
    "id",     "level",   "maxsize",   "frequency", "timeframe",
    "ignore", "noalert", "overwrite", "accuracy",
};

/* Reads the <rule> attributes. */
static int read_attributes(struct build *b, const xmlNode *node)
{
    struct wl_rule *r = b->rule;
    int line = b->line;
    char *v[sizeof(rule_attrs) / sizeof(*rule_attrs)] = {0};
    char err[256];
    int rc = 0;

    for (const xmlAttr *a = node->properties; a != NULL; a = a->next) {
        size_t i;

        for (i = 0; i < sizeof(rule_attrs) / sizeof(*rule_attrs); i++) {
            if (strcasecmp((const char *)a->name, rule_attrs[i]) == 0)
                break;
        }
        if (i == sizeof(rule_attrs) / sizeof(*rule_attrs)) {
            wl_load_report(b->ld, WL_RULESET_ERROR, line,
                           "rule: unknown attribute '%s'",
                           (const char *)a->name);
            rc = WL_EINVAL;
            goto out;
        }
        free(v[i]);
        v[i] = wl_xml_attr(node, rule_attrs[i], 1, b->ld->vars, &rc, err,
                           sizeof(err));
        if (rc < 0) {
            if (rc != WL_ENOMEM)
                wl_load_report(b->ld, WL_RULESET_ERROR, line, "rule: %s", err);
            goto out;
        }
    }
    long id = v[0] && strlen(v[0]) <= 6 ? parse_digits(v[0], 6) : -1;
    long level = parse_digits(v[1], 9);
    if (id < 0 || level < 0) {
        wl_load_report(b->ld, WL_RULESET_ERROR, line,
                       "rule: missing or invalid id ('%s') or level ('%s')",
                       v[0] ? v[0] : "", v[1] ? v[1] : "");
        rc = WL_EINVAL;
        goto out;
    }
    r->id = (int)id;
    if (level > 16) {
        wl_load_report(b->ld, WL_RULESET_ERROR, line,
                       "rule %d: invalid level %ld (0 to 16)", r->id, level);
        rc = WL_EINVAL;
        goto out;
    }
    r->level = (int)level;
    if (v[2] != NULL)
        r->maxsize = (unsigned long)parse_digits(v[2], 4);
    if (v[3] != NULL) {
        long f = parse_digits(v[3], 9);

        if (f < 2 || f > 9999) {
            wl_load_report(b->ld, WL_RULESET_ERROR, line,
                           "rule %d: invalid frequency '%s' (2 to 9999)", r->id,
                           v[3]);
            rc = WL_EINVAL;
            goto out;
        }
        b->frequency = (int)f;
    }
    b->timeframe = v[4] != NULL ? parse_digits(v[4], 5) : 360;
    if (b->timeframe < 0)
        b->timeframe = 360;
    if (v[5] != NULL)
        r->ignore = (unsigned long)parse_digits(v[5], 6);
    if (v[6] != NULL) {
        if (strcmp(v[6], "1") == 0)
            r->noalert = 1;
        else if (strcmp(v[6], "0") != 0)
            wl_load_report(b->ld, WL_RULESET_WARNING, line,
                           "rule %d: invalid noalert value '%s'", r->id, v[6]);
    }
    if (v[7] != NULL) {
        if (strcasecmp(v[7], "yes") == 0) {
            b->parents->overwrite = 1;
        } else if (strcasecmp(v[7], "no") != 0) {
            wl_load_report(b->ld, WL_RULESET_ERROR, line,
                           "rule %d: invalid overwrite value '%s' (yes or "
                           "no)",
                           r->id, v[7]);
            rc = WL_EINVAL;
            goto out;
        }
    }
    r->accuracy = v[8] != NULL ? (int)parse_digits(v[8], 9) : 1;
out:
    for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
        free(v[i]);
    return rc;
}

static int cond_rank_cmp(const void *a, const void *b)
{
    const struct wl_cond *x = a, *y = b;

    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Compiles the joined pattern elements into conditions. */
static int build_patterns(struct build *b)
{
    for (int i = 0; i < PP_COUNT; i++) {
        struct pending *p = &b->pattern[i];
        const struct pattern_def *d = &pattern_defs[i];
        struct wl_cond *c;
        int rc;

        if (p->text == NULL)
            continue;
        if (i == PP_ACTION && p->type < 0) {
            c = new_cond(b);
            if (c == NULL)
                return WL_ENOMEM;
            wl_cond_init_exact(c, p->text, p->negate);
            p->text = NULL;
        } else {
            struct wl_pattern *pat = NULL;

            rc = compile(b,
                         p->type < 0 ? d->type : (enum wl_pattern_type)p->type,
                         p->text, p->negate, p->line, &pat);
            if (rc < 0)
                return rc;
            c = new_cond(b);
            if (c == NULL) {
                wl_pattern_free(pat);
                return WL_ENOMEM;
            }
            wl_cond_init_pattern(c, pat);
        }
        c->rank = d->rank;
        c->subject = d->subject;
        c->index = d->index;
    }
    return 0;
}

/* Moves the correlation settings of an if_matched_* rule into it. */
static int build_context(struct build *b)
{
    struct wl_rule_parents *p = b->parents;
    const char *regex = b->text[PT_IF_MATCHED_REGEX].text;
    struct wl_rule_context *ctx;

    if (p->if_matched_sid == NULL && p->if_matched_group == NULL &&
        regex == NULL) {
        wl_corr_context_free(b->context);
        b->context = NULL;
        return 0;
    }
    if (b->context == NULL) {
        b->context = calloc(1, sizeof(*b->context));
        if (b->context == NULL)
            return WL_ENOMEM;
    }
    ctx = b->context;
    ctx->frequency = b->frequency > 0 ? b->frequency : 2;
    ctx->timeframe = b->timeframe;
    if (p->if_matched_sid != NULL) {
        ctx->if_matched_sid = atoi(p->if_matched_sid);
    } else if (p->if_matched_group != NULL) {
        int rc = compile(b, WL_PATTERN_OSMATCH, p->if_matched_group, 0,
                         b->text[PT_IF_MATCHED_GROUP].line, &ctx->group);
        if (rc < 0)
            return rc;
    } else {
        /* Only rules with no if_matched_sid/group search all events. */
        int rc = compile(b, WL_PATTERN_OSREGEX, regex, 0,
                         b->text[PT_IF_MATCHED_REGEX].line, &ctx->regex);
        if (rc < 0)
            return rc;
    }
    b->rule->context = ctx;
    b->context = NULL;
    return 0;
}

static int build_misc(struct build *b)
{
    struct wl_rule *r = b->rule;
    char err[256];
    struct wl_cond *c;
    int rc;

    if (b->last[PL_DECODED_AS].text != NULL) {
        const char *name = b->last[PL_DECODED_AS].text;

        if (!wl_load_decoder_known(b->ld, name)) {
            wl_load_report(b->ld, WL_RULESET_ERROR, b->last[PL_DECODED_AS].line,
                           "rule %d: <decoded_as> names unknown decoder "
                           "'%s'",
                           r->id, name);
            return WL_EINVAL;
        }
        c = new_cond(b);
        if (c == NULL)
            return WL_ENOMEM;
        wl_cond_init_decoded_as(c, b->last[PL_DECODED_AS].text);
        b->last[PL_DECODED_AS].text = NULL;
    }
    if (b->last[PL_CATEGORY].text != NULL) {
        const char *cat = b->last[PL_CATEGORY].text;

        r->category = wl_rule_category_find(cat, strlen(cat));
        if (r->category < 0) {
            wl_load_report(b->ld, WL_RULESET_ERROR, b->last[PL_CATEGORY].line,
                           "rule %d: invalid category '%s'", r->id, cat);
            return WL_EINVAL;
        }
    }
    for (int i = PL_TIME; i <= PL_WEEKDAY; i++) {
        if (b->last[i].text == NULL)
            continue;
        c = new_cond(b);
        if (c == NULL)
            return WL_ENOMEM;
        rc = i == PL_TIME
                 ? wl_cond_init_time(c, b->last[i].text, err, sizeof(err))
                 : wl_cond_init_weekday(c, b->last[i].text, err, sizeof(err));
        if (rc == WL_EINVAL)
            wl_load_report(b->ld, WL_RULESET_ERROR, b->last[i].line,
                           "rule %d: %s", r->id, err);
        if (rc < 0)
            return rc;
    }
    if (r->maxsize > 0) {
        c = new_cond(b);
        if (c == NULL)
            return WL_ENOMEM;
        wl_cond_init_maxsize(c, r->maxsize);
    }
    rc = build_context(b);
    if (rc < 0)
        return rc;
    if (r->unsupported) {
        c = new_cond(b);
        if (c == NULL)
            return WL_ENOMEM;
        wl_cond_init_never(c);
    }
    return 0;
}

/* Checks what analysisd checks once the whole rule is read. */
static int validate(struct build *b)
{
    struct wl_rule *r = b->rule;
    const char *sid = b->text[PT_IF_SID].text;
    const char *lvl = b->text[PT_IF_LEVEL].text;

    if (b->text[PT_DESCRIPTION].text == NULL) {
        wl_load_report(b->ld, WL_RULESET_ERROR, b->line,
                       "rule %d: missing <description>", r->id);
        return WL_EINVAL;
    }
    if (sid != NULL && strspn(sid, "0123456789, ") != strlen(sid)) {
        wl_load_report(b->ld, WL_RULESET_ERROR, b->text[PT_IF_SID].line,
                       "rule %d: invalid <if_sid> '%s' (ids separated by "
                       "commas or spaces)",
                       r->id, sid);
        return WL_EINVAL;
    }
    if (lvl != NULL && parse_digits(lvl, 9) <= 0) {
        wl_load_report(b->ld, WL_RULESET_ERROR, b->text[PT_IF_LEVEL].line,
                       "rule %d: invalid <if_level> '%s'", r->id, lvl);
        return WL_EINVAL;
    }
    if (b->last[PL_IF_MATCHED_SID].text != NULL &&
        parse_digits(b->last[PL_IF_MATCHED_SID].text, 9) < 0) {
        wl_load_report(b->ld, WL_RULESET_ERROR, b->last[PL_IF_MATCHED_SID].line,
                       "rule %d: invalid <if_matched_sid> '%s'", r->id,
                       b->last[PL_IF_MATCHED_SID].text);
        return WL_EINVAL;
    }
    if ((b->frequency > 0 || b->has_same) && !b->correlation) {
        wl_load_report(b->ld, WL_RULESET_ERROR, b->line,
                       "rule %d: frequency or same_/different_ options "
                       "need <if_matched_sid>, <if_matched_group>, "
                       "<if_matched_regex> or <check_diff>",
                       r->id);
        return WL_EINVAL;
    }
    return 0;
}

/* Moves the joined texts into the rule and the parent description. */
static int take_texts(struct build *b, const char *group_name)
{
    struct wl_rule *r = b->rule;
    char *d = b->text[PT_DESCRIPTION].text;
    char *g = b->text[PT_GROUP].text;

    /* Only the first newline of a description becomes a space. */
    char *nl = strchr(d, '\n');
    if (nl != NULL)
        *nl = ' ';
    r->description = d;
    b->text[PT_DESCRIPTION].text = NULL;
    r->info = b->text[PT_INFO].text;
    b->text[PT_INFO].text = NULL;
    r->cve = b->text[PT_CVE].text;
    b->text[PT_CVE].text = NULL;

    r->groups = strdup(group_name);
    if (r->groups == NULL)
        return WL_ENOMEM;
    if (g != NULL) {
        /* Newlines inside <group> are dropped. */
        size_t j = 0;

        for (size_t i = 0; g[i]; i++) {
            if (g[i] != '\n' && g[i] != '\r')
                g[j++] = g[i];
        }
        g[j] = '\0';
        if (append(&r->groups, g) < 0)
            return WL_ENOMEM;
    }
    struct wl_rule_parents *p = b->parents;
    p->if_sid = b->text[PT_IF_SID].text;
    b->text[PT_IF_SID].text = NULL;
    p->if_group = b->text[PT_IF_GROUP].text;
    b->text[PT_IF_GROUP].text = NULL;
    p->if_level = b->text[PT_IF_LEVEL].text;
    b->text[PT_IF_LEVEL].text = NULL;
    p->if_matched_group = b->text[PT_IF_MATCHED_GROUP].text;
    b->text[PT_IF_MATCHED_GROUP].text = NULL;
    p->if_matched_sid = b->last[PL_IF_MATCHED_SID].text;
    b->last[PL_IF_MATCHED_SID].text = NULL;
    return 0;
}

static void build_free(struct build *b)
{
    for (int i = 0; i < PP_COUNT; i++)
        free(b->pattern[i].text);
    for (int i = 0; i < PT_COUNT; i++)
        free(b->text[i].text);
    for (int i = 0; i < PL_COUNT; i++)
        free(b->last[i].text);
    for (size_t i = 0; i < b->cond_count; i++) {
        if (b->conds[i].free != NULL)
            b->conds[i].free(&b->conds[i]);
    }
    free(b->conds);
    wl_corr_context_free(b->context);
}

int wl_rule_read(struct wl_load *ld, const xmlNode *node,
                 const char *group_name, struct wl_rule **out,
                 struct wl_rule_parents *parents)
{
    struct build b = {.ld = ld, .parents = parents, .ip_cond = {-1, -1}};
    int rc;

    memset(parents, 0, sizeof(*parents));
    b.line = wl_xml_line(node);
    b.rule = calloc(1, sizeof(*b.rule));
    if (b.rule == NULL)
        return WL_ENOMEM;
    b.rule->line = b.line;
    b.rule->file = strdup(ld->file);
    if (b.rule->file == NULL) {
        rc = WL_ENOMEM;
        goto out;
    }
    rc = read_attributes(&b, node);
    for (const xmlNode *c = node->children; rc == 0 && c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            rc = read_element(&b, c);
    }
    if (rc == 0)
        rc = validate(&b);
    if (rc == 0)
        rc = take_texts(&b, group_name);
    if (rc == 0)
        rc = build_patterns(&b);
    if (rc == 0)
        rc = build_misc(&b);
    if (rc == 0) {
        if (b.cond_count > 1)
            qsort(b.conds, b.cond_count, sizeof(*b.conds), cond_rank_cmp);
        b.rule->conds = b.conds;
        b.rule->cond_count = b.cond_count;
        b.conds = NULL;
        b.cond_count = 0;
    }
out:
    build_free(&b);
    if (rc < 0) {
        wl_rule_free(b.rule);
        wl_rule_parents_free(parents);
        return rc;
    }
    *out = b.rule;
    return 0;
}

void wl_rule_parents_free(struct wl_rule_parents *p)
{
    free(p->if_sid);
    free(p->if_group);
    free(p->if_level);
    free(p->if_matched_sid);
    free(p->if_matched_group);
    memset(p, 0, sizeof(*p));
}

void wl_rule_free(struct wl_rule *r)
{
    if (r == NULL)
        return;
    wl_rule_conds_free(r);
    free(r->groups);
    free(r->description);
    free(r->info);
    free(r->cve);
    for (size_t i = 0; i < r->mitre_count; i++) {
        free(r->mitre[i].technique);
        free(r->mitre[i].tactic);
    }
    free(r->mitre);
    wl_corr_context_free(r->context);
    free(r->group_lists);
    free(r->children);
    free(r->file);
    free(r);
}
