/*
 * Verdicts on the real-event corpus against wazuh-analysisd 4.14.7's: the
 * stock rules (without 0215-policy_rules.xml) plus etc/rules/
 * local_rules.xml, log_alert_level 1, one fresh engine per corpus file,
 * every event from agent 001 in file order. For each event the alert
 * (rule id, level, description, groups, MITRE ids, firedtimes) or its
 * absence must be Wazuh's, correlation alerts included.
 */
#include "config.h"

#include "rules/alert.h"
#include "rules/engine.h"
#include "rules/rule.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "tests/rules-test.h"
#include "tests/tap.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHOW_DIFFS 5

/* Returns a JSON array text of the strings in a, malloc'd. */
static char *array_text(const cJSON *a)
{
    return a ? cJSON_PrintUnformatted(a) : strdup("null");
}

/*
 * Compares one verdict with the expected line; returns NULL when equal,
 * else a malloc'd description of the difference.
 */
static char *compare(const struct wl_engine_result *res, const cJSON *expected)
{
    const cJSON *alert = cJSON_GetObjectItem(expected, "alert");
    const struct wl_rule *r = res->verdict.alert ? res->verdict.rule : NULL;
    char got[64] = "no alert", want[64] = "no alert";
    char buf[2048];

    if (r != NULL)
        snprintf(got, sizeof(got), "%d level %d", r->id, r->level);
    if (cJSON_IsObject(alert))
        snprintf(want, sizeof(want), "%s level %d",
                 cJSON_GetObjectItem(alert, "rule_id")->valuestring,
                 cJSON_GetObjectItem(alert, "level")->valueint);
    if (strcmp(got, want) != 0) {
        snprintf(buf, sizeof(buf), "got %s, expected %s", got, want);
        return strdup(buf);
    }
    if (r == NULL)
        return NULL;

    const char *desc = cJSON_GetObjectItem(alert, "description")->valuestring;
    char *groups = wl_alert_groups_json(r);
    char *mitre = wl_alert_mitre_json(r);
    char *want_groups = array_text(cJSON_GetObjectItem(alert, "groups"));
    char *want_mitre = array_text(cJSON_GetObjectItem(alert, "mitre_ids"));
    char *diff = NULL;

    if (strcmp(res->description, desc) != 0)
        snprintf(buf, sizeof(buf),
                 "rule %d description \"%s\", expected "
                 "\"%s\"",
                 r->id, res->description, desc);
    else if (strcmp(groups, want_groups) != 0)
        snprintf(buf, sizeof(buf), "rule %d groups %s, expected %s", r->id,
                 groups, want_groups);
    else if (strcmp(mitre, want_mitre) != 0)
        snprintf(buf, sizeof(buf), "rule %d mitre %s, expected %s", r->id,
                 mitre, want_mitre);
    else if (cJSON_IsNumber(cJSON_GetObjectItem(alert, "firedtimes")) &&
             (double)res->verdict.firedtimes !=
                 cJSON_GetObjectItem(alert, "firedtimes")->valuedouble)
        snprintf(buf, sizeof(buf), "rule %d firedtimes %lu, expected %d", r->id,
                 res->verdict.firedtimes,
                 cJSON_GetObjectItem(alert, "firedtimes")->valueint);
    else
        buf[0] = '\0';
    if (buf[0] != '\0')
        diff = strdup(buf);
    free(groups);
    free(mitre);
    free(want_groups);
    free(want_mitre);
    return diff;
}

static void run_file(const char *shared, const char *rules_dir,
                     const char *local_rules, const char *file)
{
    char in_path[1024], exp_path[1024];
    const char *dirs[] = {rules_dir, NULL};
    const char *files[] = {local_rules, NULL};
    const char *excludes[] = {"0215-policy_rules.xml", NULL};
    struct wl_engine_options o = {
        .rules = {.rule_dirs = dirs,
                  .rule_files = files,
                  .excludes = excludes,
                  .log_alert_level = 1},
        .manager_name = "test",
    };
    struct wl_ruleset_list lists[STOCK_LIST_COUNT + 1];
    char list_paths[STOCK_LIST_COUNT][1024];

    stock_lists(shared, lists, list_paths);
    o.rules.lists = lists;
    struct wl_engine *e = NULL;
    struct wl_engine_worker *w = NULL;
    char err[256] = "";
    char *in_line = NULL, *exp_line = NULL, *msg = NULL;
    size_t in_cap = 0, exp_cap = 0, msg_cap = 0;
    int n = 0, diffs = 0;
    FILE *in, *exp;

    snprintf(in_path, sizeof(in_path), "%s/corpus/%s", shared, file);
    snprintf(exp_path, sizeof(exp_path), "%s/corpus/expected/%s", shared, file);
    in = fopen(in_path, "r");
    exp = fopen(exp_path, "r");
    if (in == NULL || exp == NULL ||
        wl_engine_new(&o, &e, err, sizeof(err)) < 0 ||
        (w = wl_engine_worker_new(e)) == NULL) {
        ok(0, "%s: inputs open and engine starts (%s)", file, err);
        goto out;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ssize_t len;
    while ((len = getline(&in_line, &in_cap, in)) > 0) {
        n++;
        if (getline(&exp_line, &exp_cap, exp) <= 0)
            break;
        while (len > 0 &&
               (in_line[len - 1] == '\n' || in_line[len - 1] == '\r'))
            in_line[--len] = '\0';
        size_t need = (size_t)len + 64;
        if (need > msg_cap) {
            free(msg);
            msg_cap = need;
            msg = malloc(msg_cap);
        }
        int mlen = snprintf(msg, msg_cap,
                            "f:[001] (WIN10) any->EventChannel:%s", in_line);
        struct wl_record *rec = NULL;
        struct wl_engine_result res;
        cJSON *expected = cJSON_Parse(exp_line);
        char *diff;

        int rc = wl_engine_process(w, msg, (size_t)mlen, &now, &rec, &res);
        if (rc < 0) {
            diff = strdup("message dropped by the decoder");
        } else {
            diff = compare(&res, expected);
        }
        if (diff != NULL) {
            if (++diffs <= SHOW_DIFFS)
                tap_diag("%s:%d: %s", file, n, diff);
            free(diff);
        }
        cJSON_Delete(expected);
        if (rc == 0)
            wl_engine_result_clear(&res);
        wl_record_free(rec);
    }
    tap_diag("%s: %d events, %d differ", file, n, diffs);
    is_int(diffs, 0, "%s: verdicts equal Wazuh's", file);
out:
    free(in_line);
    free(exp_line);
    free(msg);
    if (in != NULL)
        fclose(in);
    if (exp != NULL)
        fclose(exp);
    wl_engine_worker_free(w);
    wl_engine_free(e);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *shared = getenv("WL_SHARED_DIR");
    const char *srcdir = getenv("top_srcdir");
    char rules_dir[1024], local_rules[1024], expected[1024];
    char *names[64];
    size_t count = 0;
    DIR *d;
    struct dirent *de;

    if (shared == NULL)
        tap_skip_all("WL_SHARED_DIR not set");
    snprintf(rules_dir, sizeof(rules_dir), "%s/wazuh-ruleset/full/rules",
             shared);
    snprintf(expected, sizeof(expected), "%s/corpus/expected", shared);
    snprintf(local_rules, sizeof(local_rules), "%s/etc/rules/local_rules.xml",
             srcdir ? srcdir : ".");
    d = opendir(expected);
    if (d == NULL || access(rules_dir, R_OK) != 0)
        tap_skip_all("corpus or stock ruleset not found");
    while ((de = readdir(d)) != NULL && count < 64) {
        size_t l = strlen(de->d_name);

        if (l > 6 && strcmp(de->d_name + l - 6, ".jsonl") == 0)
            names[count++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof(*names), cmp_str);
    wl_log_init("test-rules-corpus", WL_LOG_ERROR);

    for (size_t i = 0; i < count; i++) {
        run_file(shared, rules_dir, local_rules, names[i]);
        free(names[i]);
    }
    ok(count == 8, "8 corpus files compared");
    return tap_done();
}
