/*
 * Event Channel decoder against the conformance vectors recorded from
 * wazuh-analysisd 4.14.7 ($WL_SHARED_DIR/spec/data/eventchannel_vectors.json):
 * whether the event is dropped, the rebuilt full_log, and every field in
 * order. Skipped without WL_SHARED_DIR.
 */
#include "config.h"

#include "decoders/decode.h"
#include "daemon/error.h"
#include "tests/tap.h"

#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void check_fields(const char *name, const struct wl_event *ev,
                         const cJSON *fields)
{
    int n = cJSON_GetArraySize(fields);
    int i = 0;
    int same = (size_t)n == ev->field_count;
    const cJSON *pair;

    cJSON_ArrayForEach(pair, fields)
    {
        const char *key = cJSON_GetArrayItem(pair, 0)->valuestring;
        const char *value = cJSON_GetArrayItem(pair, 1)->valuestring;

        if ((size_t)i >= ev->field_count ||
            strcmp(ev->fields[i].name, key) != 0 ||
            strcmp(ev->fields[i].value, value) != 0) {
            if (same)
                tap_diag("%s: field %d: expected %s=%s, got %s=%s", name, i,
                         key, value,
                         (size_t)i < ev->field_count ? ev->fields[i].name
                                                     : "(none)",
                         (size_t)i < ev->field_count ? ev->fields[i].value
                                                     : "(none)");
            same = 0;
        }
        i++;
    }
    if (!ok(same, "%s: fields", name))
        tap_diag("got %zu fields, expected %d", ev->field_count, n);
}

static void run_case(const struct wl_decoders *d, struct wl_decode_scratch *s,
                     const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    const char *payload = cJSON_GetObjectItem(c, "payload")->valuestring;
    const cJSON *result = cJSON_GetObjectItem(c, "result");
    int dropped = cJSON_IsTrue(cJSON_GetObjectItem(result, "dropped"));
    const char *prefix = "f:[001] (WIN10) any->EventChannel:";
    size_t len = strlen(prefix) + strlen(payload);
    char *msg = malloc(len + 1);
    struct wl_decode_stats stats = {0};
    struct wl_event ev;

    if (msg == NULL || wl_event_init(&ev, NULL) < 0)
        abort();
    strcpy(msg, prefix);
    strcat(msg, payload);

    int r = wl_decode(d, s, msg, len, &ev, &stats);
    if (dropped) {
        is_int(r, WL_EINVAL, "%s: dropped", name);
    } else {
        const char *full_log =
            cJSON_GetObjectItem(result, "full_log")->valuestring;

        is_int(r, 0, "%s: decoded", name);
        is_str(ev.decoder_name, "windows_eventchannel", "%s: decoder name",
               name);
        is_str(ev.full_log, full_log, "%s: full_log", name);
        check_fields(name, &ev, cJSON_GetObjectItem(result, "fields"));
    }
    wl_event_free(&ev);
    free(msg);
}

int main(void)
{
    const char *dir = getenv("WL_SHARED_DIR");
    char path[4096];
    char err[256];
    struct wl_decoders *d;
    struct wl_decode_scratch *s;

    if (dir == NULL)
        tap_skip_all("WL_SHARED_DIR is not set");
    snprintf(path, sizeof(path), "%s/spec/data/eventchannel_vectors.json", dir);
    char *text = read_file(path);
    if (text == NULL)
        tap_skip_all("eventchannel_vectors.json not found");
    cJSON *root = cJSON_Parse(text);
    if (root == NULL || wl_decoders_new(&d, err, sizeof(err)) < 0 ||
        (s = wl_decode_scratch_new()) == NULL) {
        printf("Bail out! cannot load %s\n", path);
        return 1;
    }

    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases"))
    {
        run_case(d, s, c);
    }

    wl_decode_scratch_free(s);
    wl_decoders_free(d);
    cJSON_Delete(root);
    free(text);
    return tap_done();
}
