/*
 * Rule tree semantics against verdicts recorded from wazuh-analysisd
 * 4.14.7 with the stock ruleset plus a file of test rules. Each scenario
 * is a series of Event Channel events from agent 001, with the rule each
 * ended on and the alerts written at log_alert_level 3.
 */
#include "config.h"

#include "rules/engine.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "tests/rules-test.h"
#include "tests/tap.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MESSAGE_PREFIX "f:[001] (WIN10) 10.0.0.5->EventChannel:"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* Runs the events of one scenario on a fresh engine and checks them. */
static void run_case(const cJSON *c, const char *shared, const char *rules_dir,
                     const char *test_file)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    const cJSON *events = cJSON_GetObjectItem(c, "events");
    const cJSON *finals = cJSON_GetObjectItem(c, "per_event_final_rule");
    const cJSON *alerts = cJSON_GetObjectItem(c, "alerts_json_rule_ids");
    const char *dirs[] = {rules_dir, NULL};
    const char *files[] = {test_file, NULL};
    const char *excludes[] = {"0215-policy_rules.xml", NULL};
    struct wl_engine_options o = {
        .rules = {.rule_dirs = dirs,
                  .rule_files = files,
                  .excludes = excludes,
                  .log_alert_level = 3},
        .manager_name = "test",
    };
    struct wl_ruleset_list lists[STOCK_LIST_COUNT + 1];
    char list_paths[STOCK_LIST_COUNT][1024];

    stock_lists(shared, lists, list_paths);
    o.rules.lists = lists;
    struct wl_engine *e = NULL;
    struct wl_engine_worker *w = NULL;
    char err[256] = "", got_alerts[512] = "", want_alerts[512] = "";
    struct timespec now;
    int i = 0;
    const cJSON *ev;

    if (wl_engine_new(&o, &e, err, sizeof(err)) < 0 ||
        (w = wl_engine_worker_new(e)) == NULL) {
        ok(0, "%s: engine starts (%s)", name, err);
        wl_engine_free(e);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    cJSON_ArrayForEach(ev, events)
    {
        const cJSON *want = cJSON_GetArrayItem(finals, i);
        const cJSON *want_id = cJSON_GetObjectItem(want, "final_rule");
        const cJSON *want_desc = cJSON_GetObjectItem(want, "description");
        char *payload = cJSON_PrintUnformatted(ev);
        size_t len = strlen(MESSAGE_PREFIX) + strlen(payload);
        char *msg = malloc(len + 1);
        struct wl_record *rec = NULL;
        struct wl_engine_result res;
        char got_id[16] = "null";

        snprintf(msg, len + 1, "%s%s", MESSAGE_PREFIX, payload);
        int rc = wl_engine_process(w, msg, len, &now, &rec, &res);
        is_int(rc, 0, "%s: event %d processed", name, i + 1);
        const struct wl_rule *r = res.verdict.rule;
        /* Archives record no rule for a level-0 verdict of the walk. */
        if (r != NULL && (wl_rule_level(r) > 0 || res.verdict.ignored))
            snprintf(got_id, sizeof(got_id), "%d", wl_rule_id(r));
        is_str(got_id, cJSON_IsString(want_id) ? want_id->valuestring : "null",
               "%s: event %d final rule", name, i + 1);
        if (res.verdict.alert) {
            size_t n = strlen(got_alerts);

            snprintf(got_alerts + n, sizeof(got_alerts) - n, "%s%d",
                     n ? "," : "", wl_rule_id(r));
            if (cJSON_IsString(want_desc))
                is_str(res.description, want_desc->valuestring,
                       "%s: event %d description", name, i + 1);
            /* Correlation alerts carry the frequency and earlier logs. */
            if (wl_rule_id(r) == 100400) {
                ok(strstr(res.alert_json, "\"frequency\":3,") != NULL,
                   "%s: event %d alert has frequency 3", name, i + 1);
                ok(strstr(res.alert_json, "\"previous_output\":") != NULL,
                   "%s: event %d alert has previous_output", name, i + 1);
            }
        }
        wl_engine_result_clear(&res);
        wl_record_free(rec);
        free(msg);
        free(payload);
        now.tv_sec++;
        i++;
    }
    const cJSON *a;
    cJSON_ArrayForEach(a, alerts)
    {
        size_t n = strlen(want_alerts);

        snprintf(want_alerts + n, sizeof(want_alerts) - n, "%s%s", n ? "," : "",
                 a->valuestring);
    }
    is_str(got_alerts, want_alerts, "%s: alerts written", name);
    wl_engine_worker_free(w);
    wl_engine_free(e);
}

int main(void)
{
    const char *shared = getenv("WL_SHARED_DIR");
    char path[1024], rules_dir[1024], test_file[] = "/tmp/wl-zz-XXXXXX";
    char *text;
    cJSON *doc;

    if (shared == NULL)
        tap_skip_all("WL_SHARED_DIR not set");
    snprintf(path, sizeof(path), "%s/spec/data/rule_semantics_cases.json",
             shared);
    snprintf(rules_dir, sizeof(rules_dir), "%s/wazuh-ruleset/full/rules",
             shared);
    text = read_file(path);
    if (text == NULL || access(rules_dir, R_OK) != 0)
        tap_skip_all("rule semantics cases or stock ruleset not found");
    wl_log_init("test-rules-semantics", WL_LOG_ERROR);
    doc = cJSON_Parse(text);
    free(text);
    if (!ok(doc != NULL, "cases file parses"))
        return tap_done();

    /* The test rules load last: their basename sorts after the stock. */
    int fd = mkstemp(test_file);
    const char *xml = cJSON_GetObjectItem(doc, "rules_xml")->valuestring;
    if (fd < 0 || write(fd, xml, strlen(xml)) != (ssize_t)strlen(xml)) {
        ok(0, "test rules file written");
        return tap_done();
    }
    close(fd);

    const cJSON *c;
    int cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        run_case(c, shared, rules_dir, test_file);
        cases++;
    }
    is_int(cases, 19, "19 scenarios run");
    unlink(test_file);
    cJSON_Delete(doc);
    return tap_done();
}
