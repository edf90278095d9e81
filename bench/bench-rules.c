/*
 * CPU time per event of decoding plus rule matching, on one core.
 *
 * Usage: bench-rules EVENTS.jsonl RULES_DIR [LOCAL_RULES.xml] [PASSES]
 *
 * Each line of EVENTS.jsonl is an Event Channel payload; it is sent as
 * agent 001. RULES_DIR is loaded without 0215-policy_rules.xml, then
 * LOCAL_RULES.xml. Prints the process CPU time per event for: decoding
 * only, rule matching only (on events decoded beforehand), and the whole
 * engine (decode, match, alert JSON and database record), each the best
 * of 5 rounds of PASSES passes over the file.
 */
#include "config.h"

#include "rules/engine.h"
#include "rules/ruleset.h"
#include "decoders/decode.h"
#include "daemon/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct messages {
    char **text;
    size_t *len;
    size_t count;
};

static int load_messages(const char *path, struct messages *m)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (f == NULL)
        return -1;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        size_t len = (size_t)n + 64;
        char *msg = malloc(len);

        m->text = realloc(m->text, (m->count + 1) * sizeof(*m->text));
        m->len = realloc(m->len, (m->count + 1) * sizeof(*m->len));
        if (msg == NULL || m->text == NULL || m->len == NULL) {
            fclose(f);
            return -1;
        }
        m->len[m->count] = (size_t)snprintf(
            msg, len, "f:[001] (WIN10) 10.0.0.5->EventChannel:%s", line);
        m->text[m->count++] = msg;
    }
    free(line);
    fclose(f);
    return 0;
}

static double cpu_seconds(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct messages m = {0};
    const char *excludes[] = {"0215-policy_rules.xml", NULL};
    const char *dirs[2] = {NULL, NULL};
    const char *files[2] = {NULL, NULL};
    int passes = 20;
    char err[256] = "";

    if (argc < 3) {
        fprintf(stderr,
                "usage: %s EVENTS.jsonl RULES_DIR "
                "[LOCAL_RULES.xml] [PASSES]\n",
                argv[0]);
        return 2;
    }
    dirs[0] = argv[2];
    if (argc > 3)
        files[0] = argv[3];
    if (argc > 4)
        passes = atoi(argv[4]) > 0 ? atoi(argv[4]) : passes;
    wl_log_init("bench-rules", WL_LOG_ERROR);
    if (load_messages(argv[1], &m) < 0 || m.count == 0) {
        fprintf(stderr, "cannot read events from %s\n", argv[1]);
        return 1;
    }

    struct wl_engine_options o = {
        .rules = {.rule_dirs = dirs,
                  .rule_files = files,
                  .excludes = excludes,
                  .log_alert_level = 3},
        .manager_name = "bench",
    };
    struct wl_engine *e = NULL;
    if (wl_engine_new(&o, &e, err, sizeof(err)) < 0) {
        fprintf(stderr, "cannot load the rules: %s\n", err);
        return 1;
    }
    struct wl_engine_worker *w = wl_engine_worker_new(e);
    struct wl_decoders *d = NULL;
    struct wl_decode_scratch *ds = wl_decode_scratch_new();
    struct wl_rule_scratch *rsc = wl_rule_scratch_new();
    struct wl_fieldnames *names = wl_fieldnames_new();
    struct wl_ruleset *rs = NULL;
    struct wl_event ev;
    struct wl_decode_stats stats = {0};
    struct timespec now;

    if (w == NULL || ds == NULL || rsc == NULL || names == NULL ||
        wl_decoders_new(&d, err, sizeof(err)) < 0 ||
        wl_ruleset_load(&o.rules, names, &rs, err, sizeof(err)) < 0) {
        fprintf(stderr, "setup failed: %s\n", err);
        return 1;
    }
    wl_fieldnames_freeze(names);
    wl_event_init(&ev, names);
    clock_gettime(CLOCK_REALTIME, &now);

    /* Each figure is the best of 5 rounds, to damp other load. */
    double n = (double)m.count * passes;
    double best_decode = 1e9, best_match = 1e9, best_engine = 1e9;
    unsigned long alerts = 0;
    struct wl_event *decoded = calloc(m.count, sizeof(*decoded));

    if (decoded == NULL)
        return 1;
    for (size_t i = 0; i < m.count; i++) {
        wl_event_init(&decoded[i], names);
        if (wl_decode(d, ds, m.text[i], m.len[i], &decoded[i], &stats) == 0)
            decoded[i].received = now;
    }
    for (int round = 0; round < 5; round++) {
        double t0 = cpu_seconds();
        for (int p = 0; p < passes; p++) {
            for (size_t i = 0; i < m.count; i++) {
                wl_event_reset(&ev);
                wl_decode(d, ds, m.text[i], m.len[i], &ev, &stats);
            }
        }
        double t1 = cpu_seconds();
        alerts = 0;
        for (int p = 0; p < passes; p++) {
            for (size_t i = 0; i < m.count; i++) {
                struct wl_rule_verdict v;

                wl_ruleset_match(rs, rsc, &decoded[i], &v);
                alerts += (unsigned long)v.alert;
            }
        }
        double t2 = cpu_seconds();
        for (int p = 0; p < passes; p++) {
            for (size_t i = 0; i < m.count; i++) {
                struct wl_record *rec = NULL;

                if (wl_engine_process(w, m.text[i], m.len[i], &now, &rec,
                                      NULL) == 0)
                    wl_record_free(rec);
            }
        }
        double t3 = cpu_seconds();
        if (t1 - t0 < best_decode)
            best_decode = t1 - t0;
        if (t2 - t1 < best_match)
            best_match = t2 - t1;
        if (t3 - t2 < best_engine)
            best_engine = t3 - t2;
    }

    printf("rules: %u loaded; events: %zu x %d passes, %lu alerts per pass "
           "(level >= 3)\n",
           wl_ruleset_stats(rs)->rules_loaded, m.count, passes,
           alerts / (unsigned long)passes);
    printf("decode only:   %7.2f us/event\n", best_decode / n * 1e6);
    printf("rules only:    %7.2f us/event (events decoded beforehand)\n",
           best_match / n * 1e6);
    printf("whole engine:  %7.2f us/event (decode, rules, alert JSON, "
           "record)\n",
           best_engine / n * 1e6);

    for (size_t i = 0; i < m.count; i++)
        wl_event_free(&decoded[i]);
    free(decoded);
    wl_event_free(&ev);
    wl_ruleset_free(rs);
    wl_fieldnames_free(names);
    wl_rule_scratch_free(rsc);
    wl_decode_scratch_free(ds);
    wl_decoders_free(d);
    wl_engine_worker_free(w);
    wl_engine_free(e);
    for (size_t i = 0; i < m.count; i++)
        free(m.text[i]);
    free(m.text);
    free(m.len);
    return 0;
}
