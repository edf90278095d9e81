/*
 * One engine shared by two analysis threads, each with its own worker:
 * both replay the same Security events (which feed the correlation lists
 * and counters that threads share) and the Sysmon events at once. Run
 * under --enable-asan to check the shared state. The alerts counted must
 * be those of two sequential replays of the Sysmon file, which has no
 * correlation rule.
 */
#include "config.h"

#include "rules/engine.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "tests/rules-test.h"
#include "tests/tap.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct corpus {
    char **lines;
    size_t count;
};

struct job {
    struct wl_engine *engine;
    const struct corpus *security;
    const struct corpus *sysmon;
    unsigned long processed;
    unsigned long failed;
    unsigned long sysmon_alerts;
};

static int read_corpus(const char *path, struct corpus *c)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (f == NULL)
        return -1;
    while ((n = getline(&line, &cap, f)) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t len = strlen(line) + 64;
        char *msg = malloc(len);
        char **lines = realloc(c->lines, (c->count + 1) * sizeof(*lines));

        if (msg == NULL || lines == NULL) {
            free(msg);
            break;
        }
        snprintf(msg, len, "f:[001] (WIN10) any->EventChannel:%s", line);
        c->lines = lines;
        c->lines[c->count++] = msg;
    }
    free(line);
    fclose(f);
    return 0;
}

static void run(struct job *j, const struct corpus *c, int count_alerts)
{
    struct wl_engine_worker *w = wl_engine_worker_new(j->engine);
    struct timespec now;

    if (w == NULL) {
        j->failed++;
        return;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    for (size_t i = 0; i < c->count; i++) {
        struct wl_record *rec = NULL;
        int rc = wl_engine_process(w, c->lines[i], strlen(c->lines[i]), &now,
                                   &rec, NULL);

        j->processed++;
        if (rc < 0)
            j->failed++;
        if (count_alerts && rec != NULL && rec->alert != NULL)
            j->sysmon_alerts++;
        wl_record_free(rec);
    }
    wl_engine_worker_free(w);
}

static void *thread_main(void *arg)
{
    struct job *j = arg;

    run(j, j->security, 0);
    run(j, j->sysmon, 1);
    return NULL;
}

int main(void)
{
    const char *shared = getenv("WL_SHARED_DIR");
    const char *srcdir = getenv("top_srcdir");
    char rules[1024], local[1024], path[1024], err[256] = "";
    struct corpus security = {0}, sysmon = {0};

    if (shared == NULL)
        tap_skip_all("WL_SHARED_DIR not set");
    snprintf(rules, sizeof(rules), "%s/wazuh-ruleset/full/rules", shared);
    snprintf(local, sizeof(local), "%s/etc/rules/local_rules.xml",
             srcdir ? srcdir : ".");
    snprintf(path, sizeof(path), "%s/corpus/security.jsonl", shared);
    if (access(rules, R_OK) != 0 || read_corpus(path, &security) < 0)
        tap_skip_all("stock ruleset or corpus not found");
    snprintf(path, sizeof(path), "%s/corpus/sysmon-eid1.jsonl", shared);
    read_corpus(path, &sysmon);
    wl_log_init("test-rules-threads", WL_LOG_ERROR);

    const char *dirs[] = {rules, NULL};
    const char *files[] = {local, NULL};
    const char *excludes[] = {"0215-policy_rules.xml", NULL};
    struct wl_ruleset_list lists[STOCK_LIST_COUNT + 1];
    char list_paths[STOCK_LIST_COUNT][1024];
    stock_lists(shared, lists, list_paths);
    struct wl_engine_options o = {
        .rules = {.rule_dirs = dirs,
                  .rule_files = files,
                  .excludes = excludes,
                  .lists = lists,
                  .log_alert_level = 1},
        .manager_name = "test",
    };
    struct wl_engine *e = NULL;
    if (!ok(wl_engine_new(&o, &e, err, sizeof(err)) == 0, "engine starts (%s)",
            err))
        return tap_done();

    struct job jobs[2];
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        jobs[i] =
            (struct job){.engine = e, .security = &security, .sysmon = &sysmon};
        pthread_create(&threads[i], NULL, thread_main, &jobs[i]);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);

    unsigned long expected = 2 * (security.count + sysmon.count);
    is_int(jobs[0].processed + jobs[1].processed, expected,
           "both threads processed every event");
    is_int(jobs[0].failed + jobs[1].failed, 0, "no event failed");
    /* 686 Sysmon events alert at level 1 in Wazuh's output. */
    is_int(jobs[0].sysmon_alerts + jobs[1].sysmon_alerts, 2 * 686,
           "Sysmon alerts of both threads");
    wl_engine_free(e);
    for (size_t i = 0; i < security.count; i++)
        free(security.lines[i]);
    for (size_t i = 0; i < sysmon.count; i++)
        free(sysmon.lines[i]);
    free(security.lines);
    free(sysmon.lines);
    return tap_done();
}
