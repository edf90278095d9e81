#include "config.h"

#include "rules/alert.h"
#include "rules/mitre.h"
#include "rules/rule.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest expanded description, as analysisd allows. */
#define DESCRIPTION_MAX 1024
/* Bytes of the group string that alerts use. */
#define GROUPS_MAX 1023

/* Group prefixes that go to their own compliance array. */
static const struct {
    const char *prefix;
    const char *key;
} compliance[] = {
    {"pci_dss_", "pci_dss"}, {"cis_", "cis"},
    {"gdpr_", "gdpr"},       {"gpg13_", "gpg13"},
    {"hipaa_", "hipaa"},     {"nist_800_53_", "nist_800_53"},
    {"tsc_", "tsc"},
};

#define COMPLIANCE_COUNT (sizeof(compliance) / sizeof(*compliance))

/* The value $(name) stands for in a description, or NULL. */
static const char *lookup(const struct wl_event *ev, const char *name)
{
    static const struct {
        const char *name;
        int field;
    } statics[] = {
        {"dstuser", WL_SF_DSTUSER},
        {"srcuser", WL_SF_SRCUSER},
        {"srcip", WL_SF_SRCIP},
        {"dstip", WL_SF_DSTIP},
        {"srcport", WL_SF_SRCPORT},
        {"dstport", WL_SF_DSTPORT},
        {"protocol", WL_SF_PROTOCOL},
        {"action", WL_SF_ACTION},
        {"id", WL_SF_ID},
        {"url", WL_SF_URL},
        {"data", WL_SF_DATA},
        {"status", WL_SF_STATUS},
        {"extra_data", WL_SF_EXTRA_DATA},
        {"system_name", WL_SF_SYSTEM_NAME},
    };

    for (size_t i = 0; i < sizeof(statics) / sizeof(*statics); i++) {
        if (strcmp(name, statics[i].name) == 0)
            return ev->static_fields[statics[i].field];
    }
    if (strcmp(name, "srcgeoip") == 0 || strcmp(name, "dstgeoip") == 0)
        return NULL;
    if (strcmp(name, "program_name") == 0)
        return ev->program_name;
    if (strcmp(name, "hostname") == 0)
        return ev->agent_id != NULL && strcmp(ev->agent_id, "000") == 0
                   ? ev->agent_name
                   : ev->location;
    const struct wl_field *f = wl_event_field_by_name(ev, name);
    return f ? f->value : NULL;
}

char *wl_rule_expand_description(const struct wl_rule *r,
                                 const struct wl_event *ev)
{
    const char *d = r->description;
    char out[DESCRIPTION_MAX + 1];
    size_t len = 0;

    if (strstr(d, "$(") == NULL)
        return strdup(d);
    while (*d) {
        const char *close = strncmp(d, "$(", 2) == 0 ? strchr(d, ')') : NULL;
        const char *piece = d;
        size_t n = 1;

        if (close != NULL) {
            char name[256];
            size_t nlen = (size_t)(close - d - 2);

            if (nlen < sizeof(name)) {
                memcpy(name, d + 2, nlen);
                name[nlen] = '\0';
                piece = lookup(ev, name);
                if (piece == NULL)
                    piece = "";
                n = strlen(piece);
                d = close + 1;
            } else {
                d++;
            }
        } else {
            d++;
        }
        if (len + n > DESCRIPTION_MAX)
            return strdup(r->description);
        memcpy(out + len, piece, n);
        len += n;
    }
    out[len] = '\0';
    return strdup(out);
}

static int compliance_index(const char *piece)
{
    for (size_t i = 0; i < COMPLIANCE_COUNT; i++) {
        if (strncmp(piece, compliance[i].prefix,
                    strlen(compliance[i].prefix)) == 0)
            return (int)i;
    }
    return -1;
}

/*
 * Adds "groups" and the compliance arrays to the rule object, in the
 * order their first member appears in the group string.
 */
static int add_groups(cJSON *rule, const char *groups)
{
    char buf[GROUPS_MAX + 1];
    cJSON *list = cJSON_AddArrayToObject(rule, "groups");
    cJSON *arrays[COMPLIANCE_COUNT] = {0};
    char *save = NULL;

    if (list == NULL)
        return -1;
    snprintf(buf, sizeof(buf), "%s", groups ? groups : "");
    for (char *p = strtok_r(buf, ",", &save); p != NULL;
         p = strtok_r(NULL, ",", &save)) {
        int c = compliance_index(p);
        cJSON *item;

        if (c < 0) {
            item = cJSON_CreateString(p);
            if (item == NULL)
                return -1;
            cJSON_AddItemToArray(list, item);
            continue;
        }
        if (arrays[c] == NULL) {
            arrays[c] = cJSON_AddArrayToObject(rule, compliance[c].key);
            if (arrays[c] == NULL)
                return -1;
        }
        item = cJSON_CreateString(p + strlen(compliance[c].prefix));
        if (item == NULL)
            return -1;
        cJSON_AddItemToArray(arrays[c], item);
    }
    return 0;
}

static int array_has(const cJSON *a, const char *s)
{
    const cJSON *i;

    cJSON_ArrayForEach(i, a)
    {
        if (strcmp(i->valuestring, s) == 0)
            return 1;
    }
    return 0;
}

static int add_string(cJSON *a, const char *s)
{
    cJSON *item = cJSON_CreateString(s);

    if (item == NULL)
        return -1;
    cJSON_AddItemToArray(a, item);
    return 0;
}

/* Adds each tactic name of a comma-separated list not yet in a. */
static int add_tactics(cJSON *a, const char *tactics)
{
    char buf[512];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", tactics);
    for (char *t = strtok_r(buf, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (!array_has(a, t) && add_string(a, t) < 0)
            return -1;
    }
    return 0;
}

/* Returns 1 when the comma-separated list contains name. */
static int list_has(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p != NULL && *p;) {
        size_t len = strcspn(p, ",");

        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

/*
 * Builds rule.mitre: {id, tactic, technique}, or NULL (and *nomem 0)
 * when no tactic is known.
 */
static cJSON *mitre_object(const struct wl_rule *r, int *nomem)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(obj, "id");
    cJSON *tactics = cJSON_AddArrayToObject(obj, "tactic");
    cJSON *techniques = cJSON_AddArrayToObject(obj, "technique");

    *nomem = 0;
    if (obj == NULL || ids == NULL || tactics == NULL || techniques == NULL)
        goto fail;
    for (size_t i = 0; i < r->mitre_count; i++) {
        const struct wl_mitre_ref *m = &r->mitre[i];
        const struct wl_mitre_technique *t =
            wl_mitre_technique_find(m->technique);

        if (r->mitre_new_form) {
            const char *tactic =
                m->tactic ? wl_mitre_tactic_name(m->tactic) : NULL;

            if (t == NULL || tactic == NULL || !list_has(t->tactics, tactic))
                continue;
            if (!array_has(techniques, t->name) &&
                (add_string(ids, m->technique) < 0 ||
                 add_string(techniques, t->name) < 0))
                goto fail;
            if (!array_has(tactics, tactic) && add_string(tactics, tactic) < 0)
                goto fail;
            continue;
        }
        if (add_string(ids, m->technique) < 0)
            goto fail;
        if (t == NULL)
            continue;
        if (add_tactics(tactics, t->tactics) < 0 ||
            add_string(techniques, t->name) < 0)
            goto fail;
    }
    if (cJSON_GetArraySize(tactics) == 0) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
fail:
    *nomem = 1;
    cJSON_Delete(obj);
    return NULL;
}

static cJSON *rule_object(const struct wl_alert_input *in,
                          const char *description)
{
    const struct wl_rule *r = in->rule;
    cJSON *rule = cJSON_CreateObject();
    char id[16];
    int nomem = 0;

    if (rule == NULL)
        return NULL;
    snprintf(id, sizeof(id), "%d", r->id);
    if (!cJSON_AddNumberToObject(rule, "level", r->level) ||
        !cJSON_AddStringToObject(rule, "description", description) ||
        !cJSON_AddStringToObject(rule, "id", id))
        goto fail;
    cJSON *mitre = mitre_object(r, &nomem);
    if (nomem)
        goto fail;
    if (mitre != NULL)
        cJSON_AddItemToObject(rule, "mitre", mitre);
    if (r->cve != NULL && !cJSON_AddStringToObject(rule, "cve", r->cve))
        goto fail;
    if (r->info != NULL && !cJSON_AddStringToObject(rule, "info", r->info))
        goto fail;
    if (r->context != NULL &&
        !cJSON_AddNumberToObject(rule, "frequency", r->context->frequency))
        goto fail;
    if (!(r->options & WL_RULE_NO_COUNTER) &&
        !cJSON_AddNumberToObject(rule, "firedtimes", (double)in->firedtimes))
        goto fail;
    if (!cJSON_AddBoolToObject(rule, "mail", r->mail))
        goto fail;
    if (add_groups(rule, r->groups) < 0)
        goto fail;
    return rule;
fail:
    cJSON_Delete(rule);
    return NULL;
}

void wl_alert_timestamp(const struct timespec *t, char *buf, size_t size)
{
    struct tm tm;
    char date[32], zone[8];
    time_t sec = t->tv_sec;

    localtime_r(&sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);
    snprintf(buf, size, "%s.%03ld%s", date, t->tv_nsec / 1000000L, zone);
}

/* The location without the "(agent) ip->" prefix of agent events. */
static const char *short_location(const char *location)
{
    const char *gt;

    if (location == NULL)
        return "";
    if (location[0] == '(' && (gt = strchr(location, '>')) != NULL)
        return gt + 1;
    return location;
}

static int add_agent(cJSON *root, const struct wl_alert_input *in)
{
    const struct wl_event *ev = in->ev;
    cJSON *agent = cJSON_AddObjectToObject(root, "agent");
    const char *id = ev->agent_id ? ev->agent_id : "000";
    /* Events of the manager itself carry the manager's name. */
    const char *name = strcmp(id, "000") == 0 || ev->agent_name == NULL
                           ? in->manager_name
                           : ev->agent_name;

    if (agent == NULL || !cJSON_AddStringToObject(agent, "id", id) ||
        !cJSON_AddStringToObject(agent, "name", name ? name : ""))
        return -1;
    if (ev->agent_ip != NULL && strcmp(ev->agent_ip, "any") != 0 &&
        !cJSON_AddStringToObject(agent, "ip", ev->agent_ip))
        return -1;
    return 0;
}

static int add_decoder(cJSON *root, const struct wl_event *ev)
{
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");

    if (dec == NULL)
        return -1;
    if (ev->decoder_parent != NULL &&
        !cJSON_AddStringToObject(dec, "parent", ev->decoder_parent))
        return -1;
    if (ev->decoder_name != NULL &&
        !cJSON_AddStringToObject(dec, "name", ev->decoder_name))
        return -1;
    return 0;
}

char *wl_alert_json(const struct wl_alert_input *in)
{
    const struct wl_event *ev = in->ev;
    char ts[48];
    char *expanded = NULL, *text = NULL;
    const char *description = in->description;
    cJSON *root = cJSON_CreateObject();
    cJSON *rule;

    if (root == NULL)
        return NULL;
    if (description == NULL) {
        expanded = wl_rule_expand_description(in->rule, ev);
        if (expanded == NULL)
            goto out;
        description = expanded;
    }
    wl_alert_timestamp(&in->time, ts, sizeof(ts));
    if (!cJSON_AddStringToObject(root, "timestamp", ts))
        goto out;
    rule = rule_object(in, description);
    if (rule == NULL)
        goto out;
    cJSON_AddItemToObject(root, "rule", rule);
    if (add_agent(root, in) < 0)
        goto out;
    cJSON *manager = cJSON_AddObjectToObject(root, "manager");
    if (manager == NULL ||
        !cJSON_AddStringToObject(manager, "name",
                                 in->manager_name ? in->manager_name : "") ||
        !cJSON_AddStringToObject(root, "id",
                                 in->alert_id ? in->alert_id : "0.0"))
        goto out;
    if (in->previous_output != NULL &&
        !cJSON_AddStringToObject(root, "previous_output", in->previous_output))
        goto out;
    if (!(in->rule->options & WL_RULE_NO_FULL_LOG) &&
        !cJSON_AddStringToObject(root, "full_log",
                                 ev->full_log ? ev->full_log : ""))
        goto out;
    if (ev->program_name != NULL || ev->dec_timestamp != NULL) {
        cJSON *pre = cJSON_AddObjectToObject(root, "predecoder");

        if (pre == NULL ||
            (ev->program_name != NULL &&
             !cJSON_AddStringToObject(pre, "program_name", ev->program_name)) ||
            (ev->dec_timestamp != NULL &&
             !cJSON_AddStringToObject(pre, "timestamp", ev->dec_timestamp)))
            goto out;
    }
    if (add_decoder(root, ev) < 0)
        goto out;
    if (in->data_json != NULL &&
        !cJSON_AddRawToObject(root, "data", in->data_json))
        goto out;
    if (!cJSON_AddStringToObject(root, "location",
                                 short_location(ev->location)))
        goto out;
    text = cJSON_PrintUnformatted(root);
out:
    cJSON_Delete(root);
    free(expanded);
    return text;
}

char *wl_alert_groups_json(const struct wl_rule *r)
{
    cJSON *obj = cJSON_CreateObject();
    char *text = NULL;

    if (obj != NULL && add_groups(obj, r->groups) == 0)
        text = cJSON_PrintUnformatted(cJSON_GetObjectItem(obj, "groups"));
    cJSON_Delete(obj);
    return text;
}

char *wl_alert_mitre_json(const struct wl_rule *r)
{
    int nomem = 0;
    cJSON *m = mitre_object(r, &nomem);
    char *text;

    if (nomem)
        return NULL;
    if (m == NULL)
        return strdup("[]");
    text = cJSON_PrintUnformatted(cJSON_GetObjectItem(m, "id"));
    cJSON_Delete(m);
    return text;
}
