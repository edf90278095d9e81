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

/* Growable byte buffer, reused from event to event. */
struct wl_dec_buf {
    char *data;
    size_t len;
    size_t cap;
};

/*
 * The buffer functions return 0 or WL_ENOMEM. Appends keep data
 * NUL-terminated.
 */
int wl_dec_buf_grow(struct wl_dec_buf *b, size_t extra);

/* Makes room for extra bytes and a NUL after the current length. */
static inline int wl_dec_buf_reserve(struct wl_dec_buf *b, size_t extra)
{
    if (extra < b->cap && b->len + extra < b->cap)
        return 0;
    return wl_dec_buf_grow(b, extra);
}

int wl_dec_buf_append(struct wl_dec_buf *b, const char *s, size_t n);
int wl_dec_buf_putc(struct wl_dec_buf *b, char c);
void wl_dec_buf_free(struct wl_dec_buf *b);

/* Escaping modes of wl_dec_escape(), combined with '|'. */
#define WL_DEC_ESC_JSON 1u /* as cJSON 1.7 prints a string (no quotes) */
#define WL_DEC_ESC_AMP 2u  /* '&' written "&amp;" */

/*
 * Writes the n bytes at s to p with the escapes of mode: for
 * WL_DEC_ESC_JSON '"' and '\' escaped, \b \f \n \r \t by name, other
 * bytes below 0x20 as \u00xx, every other byte (UTF-8 or not) unchanged.
 * p must have room for 6 bytes per input byte. Returns the new end.
 */
char *wl_dec_escape(char *p, const char *s, size_t n, unsigned mode);

/* Writes cJSON's escape sequence for c at p (2 or 6 bytes); returns the
 * new end. */
char *wl_dec_put_escape(char *p, unsigned char c);

/*
 * Appends s as a quoted JSON string the way cJSON 1.7 prints it: '"' and
 * '\' escaped, \b \f \n \r \t by name, other bytes below 0x20 as \u00xx,
 * every other byte (UTF-8 or not) unchanged. 0 or WL_ENOMEM.
 */
int wl_dec_json_escape(struct wl_dec_buf *b, const char *s, size_t n);

/*
 * Appends a dynamic field like wl_event_add_field() but without copying:
 * name and value must already be NUL-terminated strings in ev's arena,
 * and slot is the name's slot in ev->names (see wl_dec_slot_cache_find()).
 */
int wl_dec_add_field_ref(struct wl_event *ev, const char *name, size_t name_len,
                         const char *value, size_t value_len, int slot);

/*
 * Returns a number that changes whenever names changes and that no other
 * registry of the process has had, so a cache of its lookups can tell
 * when it is stale.
 */
unsigned long wl_dec_fieldnames_version(const struct wl_fieldnames *names);

/*
 * A thread's cache of field name to slot lookups, for names that come back
 * in event after event. Names are compared byte for byte; the cache
 * empties itself when the registry changes and when it is full.
 */
struct wl_dec_slot_cache;

struct wl_dec_slot_cache *wl_dec_slot_cache_new(void);
void wl_dec_slot_cache_free(struct wl_dec_slot_cache *c);

/*
 * Returns the slot of name in names as wl_fieldnames_find() does, or -1
 * when names is NULL. It never fails: when the cache cannot store a name,
 * the lookup goes to names directly.
 */
int wl_dec_slot_cache_find(struct wl_dec_slot_cache *c,
                           const struct wl_fieldnames *names, const char *name,
                           size_t len);

/* Decoder state shared read-only by all threads. */
struct wl_decoders {
    /* The manager's host name without its domain ("vm" for "vm.lab"). */
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
 * timestamp and hostname) and sets ev->log. A header's copies go to the
 * event's arena; when that allocation fails the field stays NULL.
 */
void wl_predecode_syslog(struct wl_event *ev, const char **hostname);

#endif
