/*
 * Conformance of OS_Regex, OS_Match and if_group matching with results
 * recorded from Wazuh v4.14.7 (spec/data/os_regex_vectors.json under
 * WL_SHARED_DIR). Skipped when WL_SHARED_DIR is not set.
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/pattern.h"
#include "tests/tap.h"

#define VECTORS_PATH "/spec/data/os_regex_vectors.json"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf != NULL && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        } else if (buf != NULL) {
            buf[size] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static const char *string_of(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Compares the captures of a match with the recorded strings. */
static int captures_equal(const char *input, const struct wl_capture *caps,
                          int n, const cJSON *expected, char *why,
                          size_t why_size)
{
    int count = cJSON_GetArraySize(expected);

    if (n != count) {
        snprintf(why, why_size, "%d captures, expected %d", n, count);
        return 0;
    }
    for (int i = 0; i < n; i++) {
        const char *want = cJSON_GetArrayItem(expected, i)->valuestring;
        long len = caps[i].end - caps[i].start;

        if (caps[i].start < 0 || len < 0 || (size_t)len != strlen(want) ||
            memcmp(input + caps[i].start, want, (size_t)len) != 0) {
            snprintf(why, why_size,
                     "capture %d is [%ld, %ld), expected "
                     "\"%s\"",
                     i, caps[i].start, caps[i].end, want);
            return 0;
        }
    }
    return 1;
}

/* Checks one OS_Regex vector; returns 1 when it passes. */
static int check_osregex(const cJSON *v, int index, int *rules_mode_differs)
{
    const char *pattern = string_of(v, "pattern");
    const char *input = string_of(v, "input");
    const cJSON *matched = cJSON_GetObjectItemCaseSensitive(v, "matched");
    struct wl_capture caps[WL_PATTERN_MAX_CAPTURES];
    struct wl_pattern *p = NULL;
    char err[256], why[256] = "";
    size_t end = 0;
    int n, pass = 0;

    if (cJSON_IsString(matched)) {
        pass = wl_pattern_compile(WL_PATTERN_OSREGEX, pattern, 0, &p, err,
                                  sizeof(err)) != 0;
        snprintf(why, sizeof(why), "compiled, expected a compile error");
        goto out;
    }
    if (wl_pattern_compile(WL_PATTERN_OSREGEX, pattern, 0, &p, err,
                           sizeof(err)) != 0) {
        snprintf(why, sizeof(why), "%s", err);
        goto out;
    }
    n = wl_pattern_exec(p, input, strlen(input), NULL, caps,
                        WL_PATTERN_MAX_CAPTURES, &end);
    if (wl_pattern_match(p, input, strlen(input), NULL) != (n >= 0)) {
        tap_diag("as for rules, \"%s\" on \"%s\" gives %s", pattern, input,
                 n >= 0 ? "no match" : "a match");
        (*rules_mode_differs)++;
    }
    if (!cJSON_IsTrue(matched)) {
        pass = n < 0;
        snprintf(why, sizeof(why), "matched, expected no match");
        goto out;
    }
    if (n < 0) {
        snprintf(why, sizeof(why), "no match, expected a match");
        goto out;
    }
    if (end == SIZE_MAX || strcmp(input + end, string_of(v, "rest")) != 0) {
        snprintf(why, sizeof(why), "rest \"%s\", expected \"%s\"",
                 end == SIZE_MAX ? "(before subject)" : input + end,
                 string_of(v, "rest"));
        goto out;
    }
    pass = captures_equal(input, caps, n,
                          cJSON_GetObjectItemCaseSensitive(v, "captures"), why,
                          sizeof(why));
out:
    if (!ok(pass, "osregex %d: \"%s\" on \"%s\"", index, pattern, input))
        tap_diag("%s", why);
    wl_pattern_free(p);
    return pass;
}

static int check_osmatch(const cJSON *v, int index)
{
    const char *pattern = string_of(v, "pattern");
    const char *input = string_of(v, "input");
    int expected = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "matched"));
    struct wl_pattern *p = NULL;
    char err[256];
    int got = -1;

    if (wl_pattern_compile(WL_PATTERN_OSMATCH, pattern, 0, &p, err,
                           sizeof(err)) == 0)
        got = wl_pattern_match(p, input, strlen(input), NULL);
    wl_pattern_free(p);
    if (!ok(got == expected, "osmatch %d: \"%s\" on \"%s\"", index, pattern,
            input))
        tap_diag("got %d, expected %d", got, expected);
    return got == expected;
}

static int check_if_group(const cJSON *v, int index)
{
    const char *needle = string_of(v, "if_group");
    const char *groups = string_of(v, "rule_group_string");
    int expected =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "attaches"));
    int got = wl_pattern_group_contains(groups, needle);

    if (!ok(got == expected, "if_group %d: \"%s\" in \"%s\"", index, needle,
            groups))
        tap_diag("got %d, expected %d", got, expected);
    return got == expected;
}

/* Runs check on every element of the array named key; prints a tally. */
static void run_set(const cJSON *root, const char *key, const char *label,
                    int (*check)(const cJSON *, int))
{
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, key);
    int total = cJSON_GetArraySize(set), passed = 0, i = 0;
    const cJSON *v;

    cJSON_ArrayForEach(v, set)
    {
        passed += check(v, i++);
    }
    printf("# %s vectors passed: %d/%d\n", label, passed, total);
    ok(total > 0, "%s vectors present", label);
}

static int rules_mode_differs;

static int check_osregex_counting(const cJSON *v, int index)
{
    return check_osregex(v, index, &rules_mode_differs);
}

int main(void)
{
    const char *shared = getenv("WL_SHARED_DIR");
    char path[4096];
    char *text;
    cJSON *root;

    if (shared == NULL || shared[0] == '\0')
        tap_skip_all("WL_SHARED_DIR is not set");
    snprintf(path, sizeof(path), "%s%s", shared, VECTORS_PATH);
    text = read_file(path);
    if (text == NULL)
        tap_skip_all("conformance vectors not found under WL_SHARED_DIR");
    root = cJSON_Parse(text);
    free(text);
    if (!ok(root != NULL, "vectors file parses"))
        return tap_done();

    run_set(root, "osregex", "OS_Regex", check_osregex_counting);
    tap_diag("OS_Regex vectors whose result differs when run as for rules "
             "(no capture extraction): %d",
             rules_mode_differs);
    run_set(root, "osmatch", "OS_Match", check_osmatch);
    run_set(root, "if_group_substring", "if_group", check_if_group);
    cJSON_Delete(root);
    return tap_done();
}
