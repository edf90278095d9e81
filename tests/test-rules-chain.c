/*
 * Rule 100300 of etc/rules/local_rules.xml (suspicious scheduled task) on
 * a real Sysmon process-creation event: schtasks.exe /create ... /tr
 * "cmd.exe /C ..." started by cmd.exe /C. With the stock Wazuh rules the
 * event walks 60000, 60004, 61600, 61603, 92032 and ends on 100300; with
 * the default ruleset of etc/rules 100300 fires too. A task running a
 * program from Program Files does not trigger 100300.
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

#define EVENT_FILE "corpus/sysmon-eid1-rebuilt.jsonl"
#define EVENT_LINE 788
#define TASK_ACTION                                                            \
    "C:\\Windows\\system32\\cmd.exe /C "                                       \
    "C:\\Windows\\System32\\notepad.exe"
#define BENIGN_ACTION "C:\\Program Files\\Vendor\\Updater\\update.exe"

static char *read_line(const char *path, int wanted)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;

    if (f == NULL)
        return NULL;
    while (getline(&line, &cap, f) > 0) {
        if (++n == wanted)
            break;
    }
    fclose(f);
    if (n != wanted) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* Returns the payload with every from in its Event XML replaced by to. */
static char *replace_in_event(const char *payload, const char *from,
                              const char *to)
{
    cJSON *doc = cJSON_Parse(payload);
    cJSON *event = cJSON_GetObjectItem(doc, "Event");
    const char *xml = cJSON_GetStringValue(event);
    char *out = NULL;

    if (xml != NULL) {
        size_t cap = strlen(xml) * 2 + strlen(to) * 4 + 1;
        char *buf = calloc(1, cap), *w = buf;
        const char *p = xml, *hit;

        while (buf != NULL && (hit = strstr(p, from)) != NULL) {
            memcpy(w, p, (size_t)(hit - p));
            w += hit - p;
            memcpy(w, to, strlen(to));
            w += strlen(to);
            p = hit + strlen(from);
        }
        if (buf != NULL) {
            strcpy(w, p);
            cJSON_ReplaceItemInObject(doc, "Event", cJSON_CreateString(buf));
            out = cJSON_PrintUnformatted(doc);
        }
        free(buf);
    }
    cJSON_Delete(doc);
    return out;
}

/* Runs one payload; fills *res (cleared by the caller). */
static int run(struct wl_engine *e, const char *payload,
               struct wl_engine_result *res)
{
    struct wl_engine_worker *w = wl_engine_worker_new(e);
    struct wl_record *rec = NULL;
    const char *prefix = "f:[001] (WIN10) 10.0.0.5->EventChannel:";
    size_t len = strlen(prefix) + strlen(payload);
    char *msg = malloc(len + 1);
    struct timespec now;
    int rc;

    if (w == NULL || msg == NULL) {
        free(msg);
        wl_engine_worker_free(w);
        return WL_ENOMEM;
    }
    snprintf(msg, len + 1, "%s%s", prefix, payload);
    clock_gettime(CLOCK_REALTIME, &now);
    rc = wl_engine_process(w, msg, len, &now, &rec, res);
    wl_record_free(rec);
    free(msg);
    wl_engine_worker_free(w);
    return rc;
}

static struct wl_engine *start(const char *shared, const char *const *dirs,
                               const char *const *files)
{
    static const char *const excludes[] = {"0215-policy_rules.xml", NULL};
    struct wl_engine_options o = {
        .rules = {.rule_dirs = dirs,
                  .rule_files = files,
                  .excludes = excludes,
                  .log_alert_level = 3},
        .manager_name = "test",
    };
    struct wl_ruleset_list lists[STOCK_LIST_COUNT + 1];
    char list_paths[STOCK_LIST_COUNT][1024];
    struct wl_engine *e = NULL;
    char err[256] = "";

    stock_lists(shared, lists, list_paths);
    o.rules.lists = lists;
    if (wl_engine_new(&o, &e, err, sizeof(err)) < 0)
        tap_diag("engine: %s", err);
    return e;
}

static void check_chain(const struct wl_rule_verdict *v)
{
    static const int expected[] = {7,     60000, 60004, 61600,
                                   61603, 92032, 100300};
    char got[256] = "", want[256] = "";
    size_t n;

    for (int i = 0; i < v->chain_len; i++) {
        n = strlen(got);
        snprintf(got + n, sizeof(got) - n, "%s%d", i ? " " : "",
                 wl_rule_id(v->chain[i]));
    }
    for (size_t i = 0; i < sizeof(expected) / sizeof(*expected); i++) {
        n = strlen(want);
        snprintf(want + n, sizeof(want) - n, "%s%d", i ? " " : "", expected[i]);
    }
    is_str(got, want, "stock rules: chain of rules that matched");
}

/* Returns the keys of a JSON object, comma-separated, in order. */
static void key_order(const cJSON *obj, char *out, size_t size)
{
    const cJSON *item;

    out[0] = '\0';
    cJSON_ArrayForEach(item, obj)
    {
        size_t n = strlen(out);

        snprintf(out + n, size - n, "%s%s", n ? "," : "", item->string);
    }
}

/*
 * Checks the shape of the alert against a line of Wazuh's alerts.json:
 * key order, and the data object byte for byte as Wazuh printed it in
 * the expected output of the corpus line.
 */
static void check_shape(const char *alert_json, const char *expected_line)
{
    cJSON *alert = cJSON_Parse(alert_json ? alert_json : "");
    char keys[512];

    key_order(alert, keys, sizeof(keys));
    is_str(keys,
           "timestamp,rule,agent,manager,id,full_log,decoder,data,location",
           "alert keys in Wazuh's order");
    key_order(cJSON_GetObjectItem(alert, "rule"), keys, sizeof(keys));
    is_str(keys, "level,description,id,mitre,firedtimes,mail,groups",
           "rule keys in Wazuh's order");
    key_order(cJSON_GetObjectItem(alert, "agent"), keys, sizeof(keys));
    is_str(keys, "id,name,ip", "agent keys");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(alert, "location")),
           "EventChannel", "location without the agent prefix");
    cJSON_Delete(alert);

    /* The expected line is {"line":N,"decoder":..,"data":{..},"alert":..}. */
    const char *want =
        expected_line ? strstr(expected_line, "\"data\":") : NULL;
    const char *want_end = want ? strstr(want, ",\"alert\":") : NULL;
    const char *got = alert_json ? strstr(alert_json, ",\"data\":") : NULL;
    const char *got_end = got ? strstr(got, ",\"location\":") : NULL;

    if (!ok(want && want_end && got && got_end, "data objects found"))
        return;
    got++;
    ok((size_t)(got_end - got) == (size_t)(want_end - want) &&
           memcmp(got, want, (size_t)(want_end - want)) == 0,
       "data object byte for byte as in Wazuh's output");
}

static void show_chain(const struct wl_rule_verdict *v)
{
    char got[256] = "";

    for (int i = 0; i < v->chain_len; i++) {
        size_t n = strlen(got);

        snprintf(got + n, sizeof(got) - n, " %d", wl_rule_id(v->chain[i]));
    }
    tap_diag("rules matched:%s", got);
}

static void check_alert(const struct wl_engine_result *res, const char *what)
{
    if (!res->verdict.alert)
        show_chain(&res->verdict);
    cJSON *alert = cJSON_Parse(res->alert_json ? res->alert_json : "");
    cJSON *rule = cJSON_GetObjectItem(alert, "rule");
    cJSON *mitre = cJSON_GetObjectItem(rule, "mitre");
    char *groups = cJSON_PrintUnformatted(cJSON_GetObjectItem(rule, "groups"));
    char *ids = cJSON_PrintUnformatted(cJSON_GetObjectItem(mitre, "id"));
    char *tech =
        cJSON_PrintUnformatted(cJSON_GetObjectItem(mitre, "technique"));

    ok(res->verdict.alert, "%s: alert written", what);
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(rule, "id")), "100300",
           "%s: alert rule id", what);
    is_int(cJSON_GetObjectItem(rule, "level")
               ? cJSON_GetObjectItem(rule, "level")->valueint
               : -1,
           12, "%s: alert level", what);
    is_str(groups, "[\"sysmon\",\" persistence\"]", "%s: alert groups", what);
    is_str(ids, "[\"T1053.005\"]", "%s: alert mitre id", what);
    is_str(tech, "[\"Scheduled Task\"]", "%s: alert mitre technique", what);
    free(groups);
    free(ids);
    free(tech);
    cJSON_Delete(alert);
}

int main(void)
{
    const char *shared = getenv("WL_SHARED_DIR");
    const char *srcdir = getenv("top_srcdir");
    char path[1024], stock[1024], local[1024], ours[1024];
    struct wl_engine_result res;
    char *payload, *benign;

    if (shared == NULL)
        tap_skip_all("WL_SHARED_DIR not set");
    if (srcdir == NULL)
        srcdir = ".";
    snprintf(path, sizeof(path), "%s/%s", shared, EVENT_FILE);
    snprintf(stock, sizeof(stock), "%s/wazuh-ruleset/full/rules", shared);
    snprintf(local, sizeof(local), "%s/etc/rules/local_rules.xml", srcdir);
    snprintf(ours, sizeof(ours), "%s/etc/rules", srcdir);
    payload = read_line(path, EVENT_LINE);
    if (payload == NULL || access(stock, R_OK) != 0)
        tap_skip_all("corpus event or stock ruleset not found");
    wl_log_init("test-rules-chain", WL_LOG_ERROR);
    benign = replace_in_event(payload, TASK_ACTION, BENIGN_ACTION);
    ok(benign != NULL && strcmp(benign, payload) != 0,
       "task action replaced by a Program Files path");

    const char *stock_dirs[] = {stock, NULL};
    const char *local_files[] = {local, NULL};
    struct wl_engine *e = start(shared, stock_dirs, local_files);
    if (!ok(e != NULL, "stock rules and local_rules.xml load"))
        return tap_done();
    is_int(run(e, payload, &res), 0, "stock rules: event processed");
    check_chain(&res.verdict);
    check_alert(&res, "stock rules");
    char expected_path[1024];
    snprintf(expected_path, sizeof(expected_path), "%s/corpus/expected/%s",
             shared, strrchr(EVENT_FILE, '/') + 1);
    char *expected = read_line(expected_path, EVENT_LINE);
    check_shape(res.alert_json, expected);
    free(expected);
    wl_engine_result_clear(&res);
    is_int(run(e, benign, &res), 0, "stock rules: benign task processed");
    ok(res.verdict.rule == NULL || wl_rule_id(res.verdict.rule) != 100300,
       "stock rules: benign task does not end on 100300");
    wl_engine_result_clear(&res);
    wl_engine_free(e);

    const char *our_dirs[] = {ours, NULL};
    e = start(shared, our_dirs, NULL);
    if (!ok(e != NULL, "default ruleset loads"))
        return tap_done();
    is_int(run(e, payload, &res), 0, "default rules: event processed");
    check_alert(&res, "default rules");
    ok(res.verdict.chain_len >= 2 &&
           wl_rule_id(res.verdict.chain[res.verdict.chain_len - 2]) / 100 ==
               1102,
       "default rules: 100300 reached through a sysmon_eid1_detections rule");
    wl_engine_result_clear(&res);
    is_int(run(e, benign, &res), 0, "default rules: benign task processed");
    ok(res.verdict.rule == NULL || wl_rule_id(res.verdict.rule) != 100300,
       "default rules: benign task does not end on 100300");
    wl_engine_result_clear(&res);
    wl_engine_free(e);
    free(benign);
    free(payload);
    return tap_done();
}
