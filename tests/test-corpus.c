/*
 * Every event of the real Windows corpus (the .jsonl files of
 * $WL_SHARED_DIR/corpus) decoded as agent 001 sends it, compared with what
 * wazuh-analysisd 4.14.7 wrote to archives.json for it (corpus/expected/): the
 * decoder name and the "data" object, byte for byte. One check per file; the
 * first differences are printed as diagnostics. Skipped without
 * WL_SHARED_DIR.
 */
#include "config.h"

#include "decoders/decode.h"
#include "daemon/error.h"
#include "tests/tap.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIFFS_SHOWN 3

/* Returns the end of the JSON value starting at p (object or string). */
static const char *value_end(const char *p)
{
    int depth = 0;
    int in_string = 0;

    for (; *p != '\0'; p++) {
        if (in_string) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                in_string = 0;
            continue;
        }
        if (*p == '"')
            in_string = 1;
        else if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
        if (depth == 0 && !in_string && (*p == ',' || *p == '}'))
            return p;
    }
    return p;
}

/* Finds the raw text of the member key of the expected line. */
static int member_text(const char *line, const char *key, const char **start,
                       size_t *len)
{
    char pattern[64];
    const char *p;

    snprintf(pattern, sizeof(pattern), ",\"%s\":", key);
    p = strstr(line, pattern);
    if (p == NULL)
        return -1;
    p += strlen(pattern);
    *start = p;
    *len = (size_t)(value_end(p) - p);
    return 0;
}

static void show_diff(size_t line, const char *what, const char *got,
                      const char *expected, size_t expected_len)
{
    size_t i = 0;

    while (got[i] != '\0' && i < expected_len && got[i] == expected[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    tap_diag("line %zu: %s differs at byte %zu", line, what, i);
    tap_diag("  got:      %.100s", got + from);
    tap_diag("  expected: %.*s",
             (int)(expected_len - from < 100 ? expected_len - from : 100),
             expected + from);
}

/* Returns the number of lines whose decoder or data differ. */
static long check_file(const struct wl_decoders *d, struct wl_decode_scratch *s,
                       const char *dir, const char *name, long *events)
{
    char path[4096];
    char *line = NULL, *want = NULL;
    size_t line_cap = 0, want_cap = 0;
    size_t n = 0;
    long diffs = 0;
    struct wl_event ev;

    snprintf(path, sizeof(path), "%s/corpus/%s", dir, name);
    FILE *in = fopen(path, "r");
    snprintf(path, sizeof(path), "%s/corpus/expected/%s", dir, name);
    FILE *exp = fopen(path, "r");
    if (in == NULL || exp == NULL || wl_event_init(&ev, NULL) < 0) {
        tap_diag("cannot open %s", path);
        if (in != NULL)
            fclose(in);
        if (exp != NULL)
            fclose(exp);
        return -1;
    }

    struct wl_decode_stats stats = {0};
    char *msg = NULL;
    size_t msg_cap = 0;
    ssize_t got;
    while ((got = getline(&line, &line_cap, in)) > 0) {
        if (getline(&want, &want_cap, exp) <= 0)
            break;
        n++;
        if (line[got - 1] == '\n')
            line[--got] = '\0';

        size_t need = (size_t)got + 64;
        if (need > msg_cap) {
            msg_cap = need;
            msg = realloc(msg, msg_cap);
            if (msg == NULL)
                abort();
        }
        int len = snprintf(msg, msg_cap,
                           "f:[001] (S03L%06zu) any->EventChannel:%s", n, line);

        wl_event_reset(&ev);
        int r = wl_decode(d, s, msg, (size_t)len, &ev, &stats);

        const char *exp_dec, *exp_data;
        size_t exp_dec_len, exp_data_len;
        if (member_text(want, "decoder", &exp_dec, &exp_dec_len) < 0 ||
            member_text(want, "data", &exp_data, &exp_data_len) < 0) {
            tap_diag("line %zu: expected line not understood", n);
            diffs++;
            continue;
        }

        char dec[128];
        snprintf(dec, sizeof(dec), "\"%s\"",
                 r == 0 && ev.decoder_name ? ev.decoder_name : "");
        int nomem = 0;
        char *data = r == 0 ? wl_event_data_json(&ev, &nomem) : NULL;
        const char *data_text = data ? data : "null";
        int same_dec = strlen(dec) == exp_dec_len &&
                       memcmp(dec, exp_dec, exp_dec_len) == 0;
        int same_data = strlen(data_text) == exp_data_len &&
                        memcmp(data_text, exp_data, exp_data_len) == 0;

        if (!same_dec || !same_data) {
            if (diffs < MAX_DIFFS_SHOWN) {
                if (!same_dec)
                    show_diff(n, "decoder", dec, exp_dec, exp_dec_len);
                else
                    show_diff(n, "data", data_text, exp_data, exp_data_len);
            }
            diffs++;
        }
        free(data);
    }
    free(msg);
    free(line);
    free(want);
    fclose(in);
    fclose(exp);
    wl_event_free(&ev);
    *events = (long)n;
    return diffs;
}

static int is_corpus_file(const char *name)
{
    size_t len = strlen(name);

    return len > 6 && strcmp(name + len - 6, ".jsonl") == 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *dir = getenv("WL_SHARED_DIR");
    char path[4096];
    char err[256];
    char *names[64];
    int count = 0;
    struct wl_decoders *d;
    struct wl_decode_scratch *s;

    if (dir == NULL)
        tap_skip_all("WL_SHARED_DIR is not set");
    snprintf(path, sizeof(path), "%s/corpus/expected", dir);
    DIR *dp = opendir(path);
    if (dp == NULL)
        tap_skip_all("corpus/expected not found");
    struct dirent *de;
    while ((de = readdir(dp)) != NULL && count < 64) {
        if (is_corpus_file(de->d_name))
            names[count++] = strdup(de->d_name);
    }
    closedir(dp);
    qsort(names, (size_t)count, sizeof(names[0]), compare_names);

    if (wl_decoders_new(&d, err, sizeof(err)) < 0 ||
        (s = wl_decode_scratch_new()) == NULL) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    long total = 0, total_diffs = 0;
    for (int i = 0; i < count; i++) {
        long events = 0;
        long diffs = check_file(d, s, dir, names[i], &events);

        ok(diffs == 0, "corpus %s: %ld events, %ld differ", names[i], events,
           diffs);
        total += events;
        total_diffs += diffs > 0 ? diffs : 0;
        free(names[i]);
    }
    tap_diag("%ld events, %ld differ from Wazuh", total, total_diffs);
    wl_decode_scratch_free(s);
    wl_decoders_free(d);
    return tap_done();
}
