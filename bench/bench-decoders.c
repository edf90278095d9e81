/*
 * Decoder cost on real Sysmon events: CPU time per event of wl_decode()
 * (pre-decoding, Event Channel decoding, fields) and of building the alert
 * "data" text. Beside them, the floor of the same work: cJSON parsing the
 * payload, and libxml2's SAX push parser reading the bare Event XML with
 * no callbacks. Every field name of the file is registered as a rule
 * would register it, so each field added also finds its slot. Times are
 * thread CPU time (CLOCK_THREAD_CPUTIME_ID) over many passes on one core,
 * the best of 5 rounds.
 *
 * Usage: bench-decoders [FILE.jsonl] [PASSES] [decode]
 * (default $WL_SHARED_DIR/corpus/sysmon-eid1.jsonl, 20 passes; "decode"
 * times wl_decode() alone, for profiling)
 */
#include "config.h"

#include "decoders/decode.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 5

struct sample {
    char *msg; /* "f:[001] (BENCH) any->EventChannel:<line>" */
    size_t msg_len;
    const char *payload;
    char *xml; /* the Event string value */
    size_t xml_len;
};

static double cpu_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t load(const char *path, struct sample **out)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, n = 0, alloc = 0;
    ssize_t len;
    struct sample *s = NULL;

    if (f == NULL) {
        perror(path);
        exit(1);
    }
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            s = realloc(s, alloc * sizeof(*s));
            if (s == NULL)
                exit(1);
        }
        static const char prefix[] = "f:[001] (BENCH) any->EventChannel:";
        s[n].msg_len = sizeof(prefix) - 1 + (size_t)len;
        s[n].msg = malloc(s[n].msg_len + 1);
        if (s[n].msg == NULL)
            exit(1);
        memcpy(s[n].msg, prefix, sizeof(prefix) - 1);
        memcpy(s[n].msg + sizeof(prefix) - 1, line, (size_t)len + 1);
        s[n].payload = s[n].msg + sizeof(prefix) - 1;

        cJSON *root = cJSON_Parse(s[n].payload);
        cJSON *event = cJSON_GetObjectItem(root, "Event");
        s[n].xml = strdup(cJSON_IsString(event) ? event->valuestring : "");
        s[n].xml_len = strlen(s[n].xml);
        cJSON_Delete(root);
        n++;
    }
    free(line);
    fclose(f);
    *out = s;
    return n;
}

static void report(const char *what, double seconds, size_t events)
{
    printf("%-34s %9.0f events/s %8.2f us/event\n", what,
           (double)events / seconds, seconds * 1e6 / (double)events);
}

/* Inputs of one timed loop. */
struct run {
    struct wl_decoders *d;
    struct wl_decode_scratch *scratch;
    struct wl_decode_stats *stats;
    struct wl_event *ev;
    struct sample *s;
    size_t n;
    int passes;
    xmlParserCtxtPtr ctxt;
};

static void time_decode(struct run *r)
{
    for (int p = 0; p < r->passes; p++) {
        for (size_t i = 0; i < r->n; i++) {
            wl_event_reset(r->ev);
            wl_decode(r->d, r->scratch, r->s[i].msg, r->s[i].msg_len, r->ev,
                      r->stats);
        }
    }
}

static void time_decode_data(struct run *r)
{
    for (int p = 0; p < r->passes; p++) {
        for (size_t i = 0; i < r->n; i++) {
            int nomem;

            wl_event_reset(r->ev);
            wl_decode(r->d, r->scratch, r->s[i].msg, r->s[i].msg_len, r->ev,
                      r->stats);
            free(wl_event_data_json(r->ev, &nomem));
        }
    }
}

static void time_cjson(struct run *r)
{
    for (int p = 0; p < r->passes; p++) {
        for (size_t i = 0; i < r->n; i++)
            cJSON_Delete(cJSON_Parse(r->s[i].payload));
    }
}

static void time_libxml2(struct run *r)
{
    for (int p = 0; p < r->passes; p++) {
        for (size_t i = 0; i < r->n; i++) {
            xmlCtxtResetPush(r->ctxt, NULL, 0, NULL, NULL);
            xmlCtxtUseOptions(r->ctxt, XML_PARSE_NONET);
            xmlParseChunk(r->ctxt, r->s[i].xml, (int)r->s[i].xml_len, 1);
        }
    }
}

/*
 * Returns the lowest CPU time of ROUNDS runs of fn: other processes on
 * the machine only ever add time, so the minimum is the steadiest figure.
 */
static double best_of(void (*fn)(struct run *), struct run *r)
{
    double best = 0;

    for (int k = 0; k < ROUNDS; k++) {
        double t0 = cpu_seconds();

        fn(r);
        double t = cpu_seconds() - t0;
        if (k == 0 || t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    char path[4096];
    const char *file = argc > 1 ? argv[1] : NULL;
    int passes = argc > 2 ? atoi(argv[2]) : 20;
    struct sample *s;
    char err[256];

    if (file == NULL) {
        const char *dir = getenv("WL_SHARED_DIR");

        snprintf(path, sizeof(path), "%s/corpus/sysmon-eid1.jsonl",
                 dir ? dir : "../shared");
        file = path;
    }
    size_t n = load(file, &s);
    size_t total = n * (size_t)passes;
    printf("%zu events from %s, %d passes\n", n, file, passes);

    struct wl_decoders *d;
    struct wl_decode_scratch *scratch = wl_decode_scratch_new();
    struct wl_decode_stats stats = {0};
    struct wl_fieldnames *names = wl_fieldnames_new();
    struct wl_event ev;
    if (wl_decoders_new(&d, err, sizeof(err)) < 0 || scratch == NULL ||
        names == NULL || wl_event_init(&ev, NULL) < 0)
        return 1;

    /*
     * Rules look fields up by slot, so the decoder finds the slot of every
     * field it adds. Register every field name of the file, the most a
     * ruleset could refer to, so that each lookup finds its name.
     */
    for (size_t i = 0; i < n; i++) {
        wl_event_reset(&ev);
        wl_decode(d, scratch, s[i].msg, s[i].msg_len, &ev, &stats);
        for (size_t k = 0; k < ev.field_count; k++) {
            if (wl_fieldnames_add(names, ev.fields[k].name,
                                  ev.fields[k].name_len) < 0)
                return 1;
        }
    }
    wl_fieldnames_freeze(names);
    wl_event_free(&ev);
    if (wl_event_init(&ev, names) < 0)
        return 1;
    printf("%d field names registered\n", wl_fieldnames_count(names));

    /* Warm up buffers and caches with one pass of everything. */
    for (size_t i = 0; i < n; i++) {
        wl_event_reset(&ev);
        wl_decode(d, scratch, s[i].msg, s[i].msg_len, &ev, &stats);
    }

    struct run run = {d, scratch, &stats, &ev, s, n, passes, NULL};
    report("wl_decode (whole decoder)", best_of(time_decode, &run), total);
    if (argc > 3 && strcmp(argv[3], "decode") == 0)
        return 0;
    report("wl_decode + data JSON text", best_of(time_decode_data, &run),
           total);
    report("floor: cJSON parse of the payload", best_of(time_cjson, &run),
           total);

    xmlSAXHandler sax;
    memset(&sax, 0, sizeof(sax));
    sax.initialized = 1;
    run.ctxt = xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
    report("floor: libxml2 SAX push, bare XML", best_of(time_libxml2, &run),
           total);
    xmlFreeParserCtxt(run.ctxt);

    printf("decoded %lu, unreadable XML %lu, dropped %lu\n", stats.decoded,
           stats.xml_unreadable, stats.dropped_json + stats.dropped_no_event);
    wl_event_free(&ev);
    wl_fieldnames_free(names);
    wl_decode_scratch_free(scratch);
    wl_decoders_free(d);
    for (size_t i = 0; i < n; i++) {
        free(s[i].msg);
        free(s[i].xml);
    }
    free(s);
    return 0;
}
