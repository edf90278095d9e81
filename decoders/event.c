#include "config.h"

#include "decoders/event.h"
#include "decoders/decode-int.h"
#include "daemon/error.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct wl_arena_block {
    struct wl_arena_block *next;
    size_t size;
    size_t used;
    max_align_t data[];
};

void wl_arena_init(struct wl_arena *arena, size_t block_size)
{
    arena->head = NULL;
    arena->block_size = block_size ? block_size : 16384;
}

void *wl_arena_alloc(struct wl_arena *arena, size_t size)
{
    struct wl_arena_block *b = arena->head;
    size_t need = (size + 7) & ~(size_t)7;

    if (need < size)
        return NULL;
    if (b == NULL || b->size - b->used < need) {
        size_t data_size = need > arena->block_size ? need : arena->block_size;

        b = malloc(sizeof(*b) + data_size);
        if (b == NULL)
            return NULL;
        b->size = data_size;
        b->used = 0;
        b->next = arena->head;
        arena->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    return p;
}

char *wl_arena_strndup(struct wl_arena *arena, const char *s, size_t len)
{
    char *p = wl_arena_alloc(arena, len + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void wl_arena_reset(struct wl_arena *arena)
{
    struct wl_arena_block *b = arena->head;
    struct wl_arena_block *keep = NULL;

    /* Keep the oldest block (the last in the list): it has the usual size. */
    while (b != NULL) {
        struct wl_arena_block *next = b->next;

        if (next == NULL && b->size == arena->block_size) {
            keep = b;
        } else {
            free(b);
        }
        b = next;
    }
    if (keep != NULL)
        keep->used = 0;
    arena->head = keep;
}

void wl_arena_free(struct wl_arena *arena)
{
    struct wl_arena_block *b = arena->head;

    while (b != NULL) {
        struct wl_arena_block *next = b->next;

        free(b);
        b = next;
    }
    arena->head = NULL;
}

/* Field name registry: open addressing over lower-cased names. */
struct wl_fieldnames {
    char **keys; /* lower-cased, indexed by slot */
    int count;
    int *table; /* slot + 1, or 0 when empty */
    size_t table_size;
    int frozen;
    unsigned long version; /* see wl_dec_fieldnames_version() */
};

/* Source of registry versions, unique in the process. */
static atomic_ulong fieldnames_versions = 1;

unsigned long wl_dec_fieldnames_version(const struct wl_fieldnames *names)
{
    return names->version;
}

static uint32_t hash_name(const char *s, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)tolower((unsigned char)s[i]);
        h *= 16777619u;
    }
    return h;
}

struct wl_fieldnames *wl_fieldnames_new(void)
{
    struct wl_fieldnames *names = calloc(1, sizeof(*names));

    if (names == NULL)
        return NULL;
    names->table_size = 64;
    names->version = atomic_fetch_add(&fieldnames_versions, 1);
    names->table = calloc(names->table_size, sizeof(*names->table));
    if (names->table == NULL) {
        free(names);
        return NULL;
    }
    return names;
}

void wl_fieldnames_free(struct wl_fieldnames *names)
{
    if (names == NULL)
        return;
    for (int i = 0; i < names->count; i++)
        free(names->keys[i]);
    free(names->keys);
    free(names->table);
    free(names);
}

static int key_equals(const char *key, const char *name, size_t len)
{
    return strncasecmp(key, name, len) == 0 && key[len] == '\0';
}

int wl_fieldnames_find(const struct wl_fieldnames *names, const char *name,
                       size_t len)
{
    size_t mask = names->table_size - 1;
    size_t i = hash_name(name, len) & mask;

    while (names->table[i] != 0) {
        int slot = names->table[i] - 1;

        if (key_equals(names->keys[slot], name, len))
            return slot;
        i = (i + 1) & mask;
    }
    return -1;
}

static int grow_table(struct wl_fieldnames *names)
{
    size_t size = names->table_size * 2;
    int *table = calloc(size, sizeof(*table));

    if (table == NULL)
        return WL_ENOMEM;
    for (int slot = 0; slot < names->count; slot++) {
        const char *key = names->keys[slot];
        size_t i = hash_name(key, strlen(key)) & (size - 1);

        while (table[i] != 0)
            i = (i + 1) & (size - 1);
        table[i] = slot + 1;
    }
    free(names->table);
    names->table = table;
    names->table_size = size;
    return 0;
}

int wl_fieldnames_add(struct wl_fieldnames *names, const char *name, size_t len)
{
    int slot = wl_fieldnames_find(names, name, len);

    if (slot >= 0)
        return slot;
    if (names->frozen)
        return WL_EBUSY;
    if ((size_t)(names->count + 1) * 2 > names->table_size &&
        grow_table(names) < 0)
        return WL_ENOMEM;

    char **keys = realloc(names->keys, (names->count + 1) * sizeof(*keys));
    if (keys == NULL)
        return WL_ENOMEM;
    names->keys = keys;
    char *key = malloc(len + 1);
    if (key == NULL)
        return WL_ENOMEM;
    for (size_t i = 0; i < len; i++)
        key[i] = (char)tolower((unsigned char)name[i]);
    key[len] = '\0';

    slot = names->count++;
    names->keys[slot] = key;
    size_t mask = names->table_size - 1;
    size_t i = hash_name(name, len) & mask;
    while (names->table[i] != 0)
        i = (i + 1) & mask;
    names->table[i] = slot + 1;
    names->version = atomic_fetch_add(&fieldnames_versions, 1);
    return slot;
}

int wl_fieldnames_count(const struct wl_fieldnames *names)
{
    return names ? names->count : 0;
}

void wl_fieldnames_freeze(struct wl_fieldnames *names)
{
    names->frozen = 1;
}

int wl_event_init(struct wl_event *ev, const struct wl_fieldnames *names)
{
    memset(ev, 0, sizeof(*ev));
    wl_arena_init(&ev->arena, 32768);
    ev->names = names;
    ev->slot_count = wl_fieldnames_count(names);
    if (ev->slot_count > 0) {
        ev->slot_first = malloc(ev->slot_count * sizeof(*ev->slot_first));
        if (ev->slot_first == NULL)
            return WL_ENOMEM;
        memset(ev->slot_first, 0xff, ev->slot_count * sizeof(*ev->slot_first));
    }
    ev->field_capacity = 64;
    ev->fields = malloc(ev->field_capacity * sizeof(*ev->fields));
    if (ev->fields == NULL) {
        free(ev->slot_first);
        return WL_ENOMEM;
    }
    return 0;
}

void wl_event_reset(struct wl_event *ev)
{
    /* Clear only the slots that were set, not the whole table. */
    for (size_t i = 0; i < ev->field_count; i++) {
        if (ev->fields[i].slot >= 0)
            ev->slot_first[ev->fields[i].slot] = -1;
    }
    ev->field_count = 0;
    ev->fields_dropped = 0;
    ev->raw = NULL;
    ev->raw_len = 0;
    ev->queue = 0;
    ev->agent_id = ev->agent_name = ev->agent_ip = NULL;
    ev->location = ev->full_log = ev->program_name = NULL;
    ev->full_log_len = 0;
    ev->data_json = NULL;
    ev->data_json_len = 0;
    ev->data_json_fields = 0;
    ev->log = ev->dec_timestamp = NULL;
    ev->log_len = 0;
    ev->decoder_name = ev->decoder_parent = ev->decoder_type = NULL;
    memset(ev->static_fields, 0, sizeof(ev->static_fields));
    wl_arena_reset(&ev->arena);
}

void wl_event_free(struct wl_event *ev)
{
    free(ev->fields);
    free(ev->slot_first);
    wl_arena_free(&ev->arena);
    memset(ev, 0, sizeof(*ev));
}

/*
 * Makes room for one more field. Returns it, or NULL with *r set to
 * WL_ERANGE (the field is counted as dropped) or WL_ENOMEM.
 */
static struct wl_field *new_field(struct wl_event *ev, int *r)
{
    if (ev->field_count >= WL_EVENT_MAX_FIELDS) {
        ev->fields_dropped++;
        *r = WL_ERANGE;
        return NULL;
    }
    if (ev->field_count == ev->field_capacity) {
        size_t cap = ev->field_capacity * 2;
        struct wl_field *fields = realloc(ev->fields, cap * sizeof(*fields));

        if (fields == NULL) {
            *r = WL_ENOMEM;
            return NULL;
        }
        ev->fields = fields;
        ev->field_capacity = cap;
    }
    return &ev->fields[ev->field_count];
}

/* Counts the field that new_field() returned and indexes it by slot. */
static void commit_field(struct wl_event *ev, struct wl_field *f, int slot)
{
    f->slot = slot < ev->slot_count ? slot : -1;
    if (f->slot >= 0 && ev->slot_first[f->slot] < 0)
        ev->slot_first[f->slot] = (int32_t)ev->field_count;
    ev->field_count++;
}

int wl_event_add_field(struct wl_event *ev, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
    int r = 0;
    struct wl_field *f = new_field(ev, &r);

    if (f == NULL)
        return r;
    f->name = wl_arena_strndup(&ev->arena, name, name_len);
    f->value = wl_arena_strndup(&ev->arena, value, value_len);
    if (f->name == NULL || f->value == NULL)
        return WL_ENOMEM;
    f->name_len = name_len;
    f->value_len = value_len;
    commit_field(ev, f,
                 ev->slot_count > 0
                     ? wl_fieldnames_find(ev->names, name, name_len)
                     : -1);
    return 0;
}

int wl_dec_add_field_ref(struct wl_event *ev, const char *name, size_t name_len,
                         const char *value, size_t value_len, int slot)
{
    int r = 0;
    struct wl_field *f = new_field(ev, &r);

    if (f == NULL)
        return r;
    f->name = name;
    f->value = value;
    f->name_len = name_len;
    f->value_len = value_len;
    commit_field(ev, f, slot);
    return 0;
}

const struct wl_field *wl_event_field_by_slot(const struct wl_event *ev,
                                              int slot)
{
    if (slot < 0 || slot >= ev->slot_count || ev->slot_first[slot] < 0)
        return NULL;
    return &ev->fields[ev->slot_first[slot]];
}

const struct wl_field *wl_event_field_by_name(const struct wl_event *ev,
                                              const char *name)
{
    for (size_t i = 0; i < ev->field_count; i++) {
        if (strcasecmp(ev->fields[i].name, name) == 0)
            return &ev->fields[i];
    }
    return NULL;
}

/*
 * Entries of a slot cache: a power of two, kept at most half full, and
 * small enough (8 KB) to stay in the first-level data cache.
 */
#define SLOT_CACHE_SIZE 512
#define SLOT_CACHE_MAX (SLOT_CACHE_SIZE / 2)
/* Longer names are looked up directly, so the names take at most 64 KB. */
#define SLOT_CACHE_NAME_MAX 256

struct slot_entry {
    uint32_t hash;
    uint32_t name;     /* offset in pool */
    uint32_t name_len; /* 0 for an empty entry */
    int32_t slot;
};

struct wl_dec_slot_cache {
    const struct wl_fieldnames *names;
    unsigned long version;
    size_t count;
    struct wl_dec_buf pool; /* the names of the entries */
    struct slot_entry entries[SLOT_CACHE_SIZE];
};

struct wl_dec_slot_cache *wl_dec_slot_cache_new(void)
{
    return calloc(1, sizeof(struct wl_dec_slot_cache));
}

void wl_dec_slot_cache_free(struct wl_dec_slot_cache *c)
{
    if (c == NULL)
        return;
    wl_dec_buf_free(&c->pool);
    free(c);
}

/* Hashes the exact bytes of a name, eight at a time. */
static uint64_t hash_bytes(const char *s, size_t len)
{
    const uint64_t k = 0x9e3779b97f4a7c15u;
    uint64_t h = len * k;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t w;

        memcpy(&w, s + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    if (i < len) {
        uint64_t w = 0;

        /* The last 8 bytes again, or the bytes one by one when fewer. */
        if (len >= 8) {
            memcpy(&w, s + len - 8, 8);
        } else {
            for (; i < len; i++)
                w = (w << 8) | (unsigned char)s[i];
        }
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    return h;
}

static void clear_cache(struct wl_dec_slot_cache *c,
                        const struct wl_fieldnames *names)
{
    memset(c->entries, 0, sizeof(c->entries));
    c->count = 0;
    c->pool.len = 0;
    c->names = names;
    c->version = wl_dec_fieldnames_version(names);
}

int wl_dec_slot_cache_find(struct wl_dec_slot_cache *c,
                           const struct wl_fieldnames *names, const char *name,
                           size_t len)
{
    if (names == NULL)
        return -1;
    if (c->names != names || c->version != wl_dec_fieldnames_version(names))
        clear_cache(c, names);
    if (len == 0 || len > SLOT_CACHE_NAME_MAX)
        return wl_fieldnames_find(names, name, len);

    uint32_t hash = (uint32_t)(hash_bytes(name, len) >> 32);
    size_t i = (size_t)hash & (SLOT_CACHE_SIZE - 1);
    struct slot_entry *e;

    for (;; i = (i + 1) & (SLOT_CACHE_SIZE - 1)) {
        e = &c->entries[i];
        if (e->name_len == 0)
            break;
        if (e->hash == hash && e->name_len == len &&
            memcmp(c->pool.data + e->name, name, len) == 0)
            return e->slot;
    }

    int slot = wl_fieldnames_find(names, name, len);
    if (c->count == SLOT_CACHE_MAX) {
        /* Names that vary from event to event filled the cache: empty it. */
        clear_cache(c, names);
        i = (size_t)hash & (SLOT_CACHE_SIZE - 1);
        e = &c->entries[i];
    }
    size_t off = c->pool.len;
    if (wl_dec_buf_append(&c->pool, name, len) < 0)
        return slot;
    e->hash = hash;
    e->name = (uint32_t)off;
    e->name_len = (uint32_t)len;
    e->slot = slot;
    c->count++;
    return slot;
}
