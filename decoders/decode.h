/*
 * Decoding one message into a struct wl_event: Wazuh's pre-decoding
 * (location, agent, full_log), then the decoder chosen by the queue and
 * the payload: Windows Event Channel for queue 'f', the JSON decoder for a
 * log that is a JSON object.
 *
 * A struct wl_decoders is read-only after wl_decoders_new(); each thread
 * passes its own struct wl_decode_scratch (parser state, buffers).
 */
#ifndef WL_DECODE_H
#define WL_DECODE_H

#include <stddef.h>

#include "decoders/event.h"

struct wl_decoders;
struct wl_decode_scratch;

/* Counters of one thread's decoding; the caller adds them up. */
struct wl_decode_stats {
    unsigned long decoded;
    unsigned long dropped_json;     /* Event Channel payload not JSON */
    unsigned long dropped_no_event; /* Event Channel JSON without Event */
    unsigned long xml_unreadable;   /* Event kept, XML not parsed */
    unsigned long invalid_message;  /* no "<queue>:<location>:" header */
};

/*
 * Returns 0 and *out, or a WL_E* code with a message in err. Call it
 * before starting the analysis threads: it initialises libxml2.
 */
int wl_decoders_new(struct wl_decoders **out, char *err, size_t err_size);
void wl_decoders_free(struct wl_decoders *d);

/* Per-thread state; NULL when out of memory. */
struct wl_decode_scratch *wl_decode_scratch_new(void);
void wl_decode_scratch_free(struct wl_decode_scratch *s);

/*
 * Decodes msg (len bytes "<queue>:<location>:<log>") into ev, which must
 * have been reset. Returns 0 when the event goes on to the rules,
 * WL_EINVAL when Wazuh would drop it (the reason is counted in stats and
 * logged, rate-limited), or WL_ENOMEM. Like Wazuh, a NUL byte ends the
 * message. ev->raw points into msg, which must outlive ev's use; every
 * other string of ev lives in its arena.
 */
int wl_decode(const struct wl_decoders *d, struct wl_decode_scratch *s,
              const char *msg, size_t len, struct wl_event *ev,
              struct wl_decode_stats *stats);

/*
 * Builds the JSON text of the event's "data" object as a line of Wazuh's
 * alerts.json or archives.json prints it (static fields, then dynamic
 * fields nested by their dotted names, empty values skipped, later
 * duplicates dropped). Returns a malloc'd string the caller frees, "{}"
 * style empty objects as NULL, or NULL when out of memory with *nomem set.
 */
char *wl_event_data_json(const struct wl_event *ev, int *nomem);

/* Options of the JSON decoder, as a decoder's XML sets them. */
#define WL_JSON_NULL_DISCARD 0x1u /* <json_null_field>discard */
#define WL_JSON_ARRAY_CSV 0x2u    /* <json_array_structure>csv */

/*
 * Runs Wazuh's JSON_Decoder plugin over text (NUL-terminated; text after
 * the first JSON value is ignored): every leaf becomes a field named by
 * its dot-joined key path, and the top-level keys srcip, dstip, srcport,
 * dstport, protocol, action, srcuser, dstuser, user, id, status, url,
 * data, extra_data and systemname set ev->static_fields instead. Text
 * that is not JSON adds nothing. Returns 0 or WL_ENOMEM; fields past
 * WL_EVENT_MAX_FIELDS are dropped and counted in ev->fields_dropped.
 */
int wl_decode_json_fields(struct wl_event *ev, const char *text,
                          unsigned flags);

#endif
