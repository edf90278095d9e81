/*
 * libFuzzer target for the Event Channel decoder: the input is the payload
 * an agent sends after "f:[001] (FUZZ) any->EventChannel:". Each decoded
 * event also goes through wl_event_data_json(), whose text must be the one
 * built from the event's fields alone. The same entry point is
 * linked into replay-eventchannel, which replays the seed files in every
 * "make check".
 */
#include "config.h"

#include "decoders/decode.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wl_decoders *decoders;
static struct wl_decode_scratch *scratch;
static struct wl_event event;
static struct wl_event copy;

static void setup(void)
{
    char err[256];

    wl_log_init("fuzz-eventchannel", WL_LOG_ERROR);
    if (wl_decoders_new(&decoders, err, sizeof(err)) < 0 ||
        (scratch = wl_decode_scratch_new()) == NULL ||
        wl_event_init(&event, NULL) < 0 || wl_event_init(&copy, NULL) < 0)
        abort();
}

/*
 * Aborts unless json, the "data" text of event, is the text built from a
 * copy of its fields (which the decoder may hand over as full_log).
 */
static void check_data_json(const char *json)
{
    int nomem = 0;
    char *expected;

    wl_event_reset(&copy);
    for (size_t i = 0; i < event.field_count; i++) {
        const struct wl_field *f = &event.fields[i];

        if (wl_event_add_field(&copy, f->name, f->name_len, f->value,
                               f->value_len) == WL_ENOMEM)
            return;
    }
    expected = wl_event_data_json(&copy, &nomem);
    if (nomem)
        return;
    if ((json == NULL) != (expected == NULL) ||
        (json != NULL && strcmp(json, expected) != 0))
        abort();
    free(expected);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char prefix[] = "f:[001] (FUZZ) any->EventChannel:";
    static const char start[] = "{\"win\":{\"system\":{";
    struct wl_decode_stats stats = {0};
    size_t len = sizeof(prefix) - 1 + size;
    char *msg;

    if (decoders == NULL)
        setup();
    msg = malloc(len);
    if (msg == NULL)
        return 0;
    memcpy(msg, prefix, sizeof(prefix) - 1);
    memcpy(msg + sizeof(prefix) - 1, data, size);

    wl_event_reset(&event);
    int r = wl_decode(decoders, scratch, msg, len, &event, &stats);
    if (r == 0) {
        int nomem = 0;
        char *json = wl_event_data_json(&event, &nomem);

        /* A kept event always has its rebuilt full_log. */
        if (event.full_log == NULL ||
            strncmp(event.full_log, start, sizeof(start) - 1) != 0)
            abort();
        if (!nomem)
            check_data_json(json);
        free(json);
    } else if (r != WL_EINVAL && r != WL_ENOMEM) {
        abort();
    }
    free(msg);
    return 0;
}
