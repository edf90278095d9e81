/*
 * The event model: one received message, what pre-decoding found in it,
 * and the fields the decoders produced, as Wazuh's analysisd names them.
 *
 * Field names are dotted paths ("win.eventdata.commandLine"). Rules look
 * fields up by a slot number that a struct wl_fieldnames assigns to each
 * name when the rules load, so matching never hashes a name. Lookups are
 * case-insensitive and return the first field of that name, as Wazuh does.
 *
 * All strings of an event live in its arena and are NUL-terminated; they
 * are valid until wl_event_reset() or wl_event_free(). An event is used by
 * one thread at a time; a struct wl_fieldnames is read-only once frozen,
 * so any number of threads may share it.
 */
#ifndef WL_EVENT_H
#define WL_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Bump allocator whose memory is released all at once. */
struct wl_arena_block;
struct wl_arena {
    struct wl_arena_block *head;
    size_t block_size;
};

void wl_arena_init(struct wl_arena *arena, size_t block_size);
/* Returns 8-byte aligned memory, or NULL when out of memory. */
void *wl_arena_alloc(struct wl_arena *arena, size_t size);
/* Copies len bytes and a terminating NUL; NULL when out of memory. */
char *wl_arena_strndup(struct wl_arena *arena, const char *s, size_t len);
/* Keeps the first block for reuse and frees the others. */
void wl_arena_reset(struct wl_arena *arena);
void wl_arena_free(struct wl_arena *arena);

/* Registry of the field names that rules refer to. */
struct wl_fieldnames;

struct wl_fieldnames *wl_fieldnames_new(void);
void wl_fieldnames_free(struct wl_fieldnames *names);
/*
 * Returns the slot of name (case-insensitive), adding it when new, or a
 * negative WL_E* code (WL_EBUSY once frozen, WL_ENOMEM).
 */
int wl_fieldnames_add(struct wl_fieldnames *names, const char *name,
                      size_t len);
/* Returns the slot of name, or -1 when no rule refers to it. */
int wl_fieldnames_find(const struct wl_fieldnames *names, const char *name,
                       size_t len);
/* Returns the number of slots. */
int wl_fieldnames_count(const struct wl_fieldnames *names);
/* Forbids further additions; call before sharing between threads. */
void wl_fieldnames_freeze(struct wl_fieldnames *names);

struct wl_field {
    const char *name;
    const char *value;
    size_t name_len;
    size_t value_len;
    int slot; /* -1 when no rule refers to this name */
};

/*
 * Static fields that Wazuh's XML decoders fill (order, and the order of
 * "data" members in an alert). Event Channel events leave all unset.
 */
enum wl_static_field {
    WL_SF_PROTOCOL,
    WL_SF_ACTION,
    WL_SF_SRCIP,
    WL_SF_SRCPORT,
    WL_SF_SRCUSER,
    WL_SF_DSTIP,
    WL_SF_DSTPORT,
    WL_SF_DSTUSER,
    WL_SF_ID,
    WL_SF_STATUS,
    WL_SF_URL,
    WL_SF_DATA,
    WL_SF_EXTRA_DATA,
    WL_SF_SYSTEM_NAME,
    WL_SF_COUNT
};

/* Maximum number of dynamic fields stored per event (Wazuh's default). */
#define WL_EVENT_MAX_FIELDS 256

struct wl_event {
    /* The message as received: "<queue>:<location>:<log>". Not owned. */
    const char *raw;
    size_t raw_len;
    char queue;

    /* Pre-decoding (Wazuh's OS_CleanMSG). */
    const char *agent_id;   /* "001"; "000" for local events */
    const char *agent_name; /* Wazuh's hostname for agent events */
    const char *agent_ip;   /* registered IP from the location, or NULL */
    const char *location;   /* "(WIN10) 10.0.0.5->EventChannel" */
    const char *full_log;   /* what <match> and <regex> test */
    size_t full_log_len;
    const char *program_name; /* NULL when absent */
    /*
     * The text after a syslog header, which the XML decoders read; equal
     * to full_log when the log has no header and for Event Channel events.
     */
    const char *log;
    size_t log_len;
    const char *dec_timestamp; /* predecoded syslog timestamp, or NULL */

    /* The decoder that produced the fields. */
    const char *decoder_name;   /* "windows_eventchannel", "json", ... */
    const char *decoder_parent; /* NULL when none */
    const char *decoder_type;   /* rule category: "ossec", "syslog", ... */

    const char *static_fields[WL_SF_COUNT];

    struct wl_field *fields;
    size_t field_count;
    size_t field_capacity;
    size_t fields_dropped; /* over WL_EVENT_MAX_FIELDS */

    /* slot_first[slot] is an index into fields, or -1. */
    const struct wl_fieldnames *names;
    int32_t *slot_first;
    int slot_count;

    /*
     * The text of the "data" object when the decoder has built it already
     * (the Event Channel decoder's full_log often is that text), or NULL.
     * wl_event_data_json() returns a copy of it while the event still has
     * data_json_fields dynamic fields and no static field.
     */
    const char *data_json;
    size_t data_json_len;
    size_t data_json_fields;

    struct timespec received; /* CLOCK_REALTIME at arrival */
    struct wl_arena arena;
};

/* Prepares an empty event; names may be NULL (no slots). 0 or WL_ENOMEM. */
int wl_event_init(struct wl_event *ev, const struct wl_fieldnames *names);
/* Forgets every field and string, keeping the memory for the next event. */
void wl_event_reset(struct wl_event *ev);
void wl_event_free(struct wl_event *ev);

/*
 * Appends a dynamic field, copying name and value into the arena.
 * Returns 0, WL_ERANGE when the event already has WL_EVENT_MAX_FIELDS
 * fields (the field is dropped and counted), or WL_ENOMEM.
 */
int wl_event_add_field(struct wl_event *ev, const char *name, size_t name_len,
                       const char *value, size_t value_len);

/* Returns the first field in slot, or NULL. */
const struct wl_field *wl_event_field_by_slot(const struct wl_event *ev,
                                              int slot);
/* Returns the first field named name (case-insensitive), or NULL. */
const struct wl_field *wl_event_field_by_name(const struct wl_event *ev,
                                              const char *name);

#endif
