/*
 * Declarations shared by the files of decoders/ and nothing else: a
 * growable byte buffer, cJSON-compatible string escaping, and the entry
 * points of the pre-decoder, the Event Channel decoder and the JSON
 * decoder that wl_decode() chains together.
 */
#ifndef WL_DECODE_INT_H
#define WL_DECODE_INT_H

#include <stddef.h>

#include "decoders/decode.h"
#include "decoders/event.h"

/* Bytes appended at the end; data is NUL-terminated once non-empty. */
struct wl_dec_buf {
    char *data;
    size_t len;
    size_t cap;
};

/* Each returns 0 or WL_ENOMEM. */
int wl_dec_buf_reserve(struct wl_dec_buf *b, size_t extra);
int wl_dec_buf_append(struct wl_dec_buf *b, const char *s, size_t n);
int wl_dec_buf_putc(struct wl_dec_buf *b, char c);
void wl_dec_buf_free(struct wl_dec_buf *b);

/*
 * Appends s as a quoted JSON string the way cJSON 1.7 prints it: '"' and
 * '\' escaped, \b \f \n \r \t by name, other bytes below 0x20 as \u00xx,
 * every other byte (UTF-8 or not) unchanged. 0 or WL_ENOMEM.
 */
int wl_dec_json_escape(struct wl_dec_buf *b, const char *s, size_t n);

/* Name of the manager host without its domain ("vm" for "vm.lab"). */
struct wl_decoders {
    char hostname[256];
};

/* Event Channel parser state kept between events of one thread. */
struct wl_winevt;

struct wl_winevt *wl_winevt_new(void);
void wl_winevt_free(struct wl_winevt *w);

/*
 * Decodes the Event Channel payload log (NUL-terminated) into ev: rebuilds
 * full_log as {"win":{...}} and adds the win.* fields. Returns 0, WL_EINVAL
 * when Wazuh drops the event (counted in stats), or WL_ENOMEM.
 */
int wl_winevt_decode(struct wl_winevt *w, const char *log, struct wl_event *ev,
                     struct wl_decode_stats *stats);

/*
 * Pre-decodes the syslog header of ev->full_log (program name, predecoded
 * timestamp and hostname) and sets ev->log. Never fails.
 */
void wl_predecode_syslog(struct wl_event *ev, const char **hostname);

#endif
