/*
 * Wazuh's JSON decoder plugin (json_decoder.c) and the alert "data" object
 * (W_JSON_AddField in src/shared/string_op.c and Eventinfo_to_jsonstr in
 * src/analysisd/format/to_json.c), v4.14.7. Both use cJSON 1.7 as Wazuh
 * does, so numbers, arrays and case-insensitive key lookups print and
 * compare exactly as there.
 */
#include "config.h"

#include "decoders/decode-int.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <cjson/cJSON.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Wazuh caps a CSV-joined array at OS_MAXSTR bytes with its NUL. */
#define CSV_MAX 65536

/* Top-level JSON keys that set a static field, in to_json.c order. */
static const struct {
    const char *key;
    enum wl_static_field field;
} static_keys[] = {
    {"srcip", WL_SF_SRCIP},
    {"dstip", WL_SF_DSTIP},
    {"dstport", WL_SF_DSTPORT},
    {"srcport", WL_SF_SRCPORT},
    {"protocol", WL_SF_PROTOCOL},
    {"action", WL_SF_ACTION},
    {"srcuser", WL_SF_SRCUSER},
    {"dstuser", WL_SF_DSTUSER},
    {"id", WL_SF_ID},
    {"status", WL_SF_STATUS},
    {"url", WL_SF_URL},
    {"data", WL_SF_DATA},
    {"extra_data", WL_SF_EXTRA_DATA},
    {"systemname", WL_SF_SYSTEM_NAME},
};

/* Sets a static field or appends a dynamic one (Wazuh's fillData). */
static int fill(struct wl_event *ev, const char *key, const char *value)
{
    size_t len = strlen(value);

    for (size_t i = 0; i < sizeof(static_keys) / sizeof(static_keys[0]); i++) {
        if (strcmp(key, static_keys[i].key) != 0)
            continue;
        char *v = wl_arena_strndup(&ev->arena, value, len);
        if (v == NULL)
            return WL_ENOMEM;
        ev->static_fields[static_keys[i].field] = v;
        return 0;
    }
    /* "user" sets dstuser unless dstuser already has a value. */
    const char *dst = ev->static_fields[WL_SF_DSTUSER];
    if (strcmp(key, "user") == 0 && (dst == NULL || dst[0] == '\0')) {
        char *v = wl_arena_strndup(&ev->arena, value, len);
        if (v == NULL)
            return WL_ENOMEM;
        ev->static_fields[WL_SF_DSTUSER] = v;
        return 0;
    }

    int r = wl_event_add_field(ev, key, strlen(key), value, len);
    if (r == WL_ERANGE) {
        wl_log_limited(WL_LOG_ERROR, "json-fields",
                       "Too many fields for the JSON decoder: more than %d "
                       "in one event, the rest are dropped",
                       WL_EVENT_MAX_FIELDS);
        return 0;
    }
    return r;
}

/* Formats a number as Wazuh does: "%i" when it is a 32-bit integer. */
static void format_number(const cJSON *item, char *out, size_t size)
{
    if ((double)item->valueint == item->valuedouble)
        snprintf(out, size, "%i", item->valueint);
    else
        snprintf(out, size, "%f", item->valuedouble);
}

/* Joins the scalar members of an array with ','; "" when too long. */
static int array_csv(const cJSON *array, struct wl_dec_buf *b)
{
    b->len = 0;
    if (wl_dec_buf_reserve(b, 0) < 0)
        return WL_ENOMEM;
    b->data[0] = '\0';
    for (const cJSON *it = array->child; it != NULL; it = it->next) {
        char number[64];
        const char *s;

        if (cJSON_IsString(it)) {
            s = it->valuestring;
        } else if (cJSON_IsNumber(it)) {
            format_number(it, number, sizeof(number));
            s = number;
        } else if (cJSON_IsNull(it)) {
            s = "null";
        } else if (cJSON_IsTrue(it)) {
            s = "true";
        } else if (cJSON_IsFalse(it)) {
            s = "false";
        } else {
            continue;
        }
        size_t n = strlen(s);
        if (b->len + n >= CSV_MAX ||
            (it->next != NULL && b->len + n + 1 >= CSV_MAX)) {
            b->len = 0;
            b->data[0] = '\0';
            return 0;
        }
        if (wl_dec_buf_append(b, s, n) < 0 ||
            (it->next != NULL && wl_dec_buf_putc(b, ',') < 0))
            return WL_ENOMEM;
    }
    return 0;
}

static int read_members(struct wl_event *ev, const cJSON *item,
                        struct wl_dec_buf *path, unsigned flags);

/* Adds the field (or fields) of one member whose name is in path. */
static int read_value(struct wl_event *ev, const cJSON *item,
                      struct wl_dec_buf *path, unsigned flags)
{
    const char *key = path->data;
    char number[64];

    if (cJSON_IsString(item))
        return fill(ev, key, item->valuestring);
    if (cJSON_IsNumber(item)) {
        format_number(item, number, sizeof(number));
        return fill(ev, key, number);
    }
    if (cJSON_IsTrue(item))
        return fill(ev, key, "true");
    if (cJSON_IsFalse(item))
        return fill(ev, key, "false");
    if (cJSON_IsNull(item))
        return flags & WL_JSON_NULL_DISCARD ? 0 : fill(ev, key, "null");
    if (cJSON_IsObject(item))
        return read_members(ev, item->child, path, flags);
    if (!cJSON_IsArray(item))
        return 0;

    if (flags & WL_JSON_ARRAY_CSV) {
        struct wl_dec_buf csv = {0};
        int r = array_csv(item, &csv);

        if (r == 0 && csv.len > 0)
            r = fill(ev, key, csv.data);
        wl_dec_buf_free(&csv);
        return r;
    }
    /* The default prints the array in cJSON's formatted style. */
    char *printed = cJSON_Print(item);
    if (printed == NULL)
        return WL_ENOMEM;
    int r = printed[0] != '\0' ? fill(ev, key, printed) : 0;
    free(printed);
    return r;
}

static int read_members(struct wl_event *ev, const cJSON *item,
                        struct wl_dec_buf *path, unsigned flags)
{
    size_t base = path->len;

    for (; item != NULL; item = item->next) {
        const char *name = item->string ? item->string : "";
        int r;

        path->len = base;
        if ((base > 0 && wl_dec_buf_putc(path, '.') < 0) ||
            wl_dec_buf_append(path, name, strlen(name)) < 0)
            return WL_ENOMEM;
        r = read_value(ev, item, path, flags);
        if (r < 0)
            return r;
    }
    path->len = base;
    if (path->data != NULL)
        path->data[base] = '\0';
    return 0;
}

int wl_decode_json_fields(struct wl_event *ev, const char *text, unsigned flags)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 0);
    struct wl_dec_buf path = {0};
    int r = 0;

    if (root == NULL)
        return 0;
    /* Only the members of a top-level object have names. */
    if (cJSON_IsObject(root))
        r = read_members(ev, root->child, &path, flags);
    wl_dec_buf_free(&path);
    cJSON_Delete(root);
    return r;
}

/*
 * The "data" object is built as a small tree and printed directly, which
 * gives the same text as Wazuh's cJSON tree at a fraction of the cost.
 */
struct data_node {
    const char *name;
    size_t name_len;
    const char *value; /* a string member; NULL for an object */
    char *array;       /* a member printed as a JSON array, or NULL */
    struct data_node *child, *last, *next;
};

/* Compares two names ignoring ASCII case, as cJSON's lookup does. */
static int same_name(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len != b_len)
        return 0;
    for (size_t i = 0; i < a_len; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x != y && tolower(x) != tolower(y))
            return 0;
    }
    return 1;
}

static struct data_node *find_child(struct data_node *parent, const char *name,
                                    size_t len)
{
    for (struct data_node *c = parent->child; c != NULL; c = c->next) {
        if (same_name(c->name, c->name_len, name, len))
            return c;
    }
    return NULL;
}

static struct data_node *add_child(struct wl_arena *arena,
                                   struct data_node *parent, const char *name,
                                   size_t len)
{
    struct data_node *n = wl_arena_alloc(arena, sizeof(*n));

    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof(*n));
    n->name = name;
    n->name_len = len;
    if (parent->last != NULL)
        parent->last->next = n;
    else
        parent->child = n;
    parent->last = n;
    return n;
}

/*
 * Adds value under the dotted key as W_JSON_AddField does. Lookups ignore
 * case, and an existing key keeps its value. A path through a string
 * member is dropped. A value starting with '[' that parses whole as JSON
 * is printed as that JSON.
 */
static int add_data_field(struct wl_arena *arena, struct data_node *root,
                          const char *key, const char *value)
{
    const char *dot;

    while ((dot = strchr(key, '.')) != NULL) {
        size_t len = (size_t)(dot - key);
        struct data_node *next = find_child(root, key, len);

        if (next == NULL) {
            next = add_child(arena, root, key, len);
            if (next == NULL)
                return WL_ENOMEM;
        } else if (next->value != NULL || next->array != NULL) {
            return 0;
        }
        root = next;
        key = dot + 1;
    }

    size_t len = strlen(key);
    if (find_child(root, key, len) != NULL)
        return 0;
    struct data_node *n = add_child(arena, root, key, len);
    if (n == NULL)
        return WL_ENOMEM;
    n->value = value;
    if (value[0] == '[') {
        const char *end = NULL;
        cJSON *item = cJSON_ParseWithOpts(value, &end, 0);

        if (item != NULL && *end == '\0') {
            n->array = cJSON_PrintUnformatted(item);
            if (n->array == NULL) {
                cJSON_Delete(item);
                return WL_ENOMEM;
            }
        }
        cJSON_Delete(item);
    }
    return 0;
}

static int print_node(struct wl_dec_buf *b, const struct data_node *node)
{
    if (wl_dec_buf_putc(b, '{') < 0)
        return WL_ENOMEM;
    for (const struct data_node *c = node->child; c != NULL; c = c->next) {
        int r;

        if ((c != node->child && wl_dec_buf_putc(b, ',') < 0) ||
            wl_dec_json_escape(b, c->name, c->name_len) < 0 ||
            wl_dec_buf_putc(b, ':') < 0)
            return WL_ENOMEM;
        if (c->array != NULL)
            r = wl_dec_buf_append(b, c->array, strlen(c->array));
        else if (c->value != NULL)
            r = wl_dec_json_escape(b, c->value, strlen(c->value));
        else
            r = print_node(b, c);
        if (r < 0)
            return r;
    }
    return wl_dec_buf_putc(b, '}');
}

static void free_arrays(struct data_node *node)
{
    for (struct data_node *c = node->child; c != NULL; c = c->next) {
        free(c->array);
        free_arrays(c);
    }
}

/* Static fields in the order to_json.c writes them into "data". */
static const struct {
    enum wl_static_field field;
    const char *key;
} data_order[] = {
    {WL_SF_PROTOCOL, "protocol"},
    {WL_SF_ACTION, "action"},
    {WL_SF_SRCIP, "srcip"},
    {WL_SF_SRCPORT, "srcport"},
    {WL_SF_SRCUSER, "srcuser"},
    {WL_SF_DSTIP, "dstip"},
    {WL_SF_DSTPORT, "dstport"},
    {WL_SF_DSTUSER, "dstuser"},
    {WL_SF_ID, "id"},
    {WL_SF_STATUS, "status"},
    {WL_SF_URL, "url"},
    {WL_SF_DATA, "data"},
    {WL_SF_EXTRA_DATA, "extra_data"},
    {WL_SF_SYSTEM_NAME, "system_name"},
};

/* Returns 1 when ev->data_json is still the text of the "data" object. */
static int data_json_valid(const struct wl_event *ev)
{
    if (ev->data_json == NULL || ev->field_count != ev->data_json_fields)
        return 0;
    for (int i = 0; i < WL_SF_COUNT; i++) {
        if (ev->static_fields[i] != NULL)
            return 0;
    }
    return 1;
}

char *wl_event_data_json(const struct wl_event *ev, int *nomem)
{
    struct wl_arena arena;
    struct data_node root;
    struct wl_dec_buf out = {0};
    int r = 0;

    *nomem = 0;
    if (data_json_valid(ev)) {
        char *copy = malloc(ev->data_json_len + 1);

        if (copy == NULL) {
            *nomem = 1;
            return NULL;
        }
        memcpy(copy, ev->data_json, ev->data_json_len);
        copy[ev->data_json_len] = '\0';
        return copy;
    }
    memset(&root, 0, sizeof(root));
    wl_arena_init(&arena, 4096);
    for (size_t i = 0; r == 0 && i < sizeof(data_order) / sizeof(data_order[0]);
         i++) {
        const char *v = ev->static_fields[data_order[i].field];
        const char *key = data_order[i].key;
        struct data_node *n;

        if (v == NULL)
            continue;
        n = add_child(&arena, &root, key, strlen(key));
        if (n == NULL)
            r = WL_ENOMEM;
        else
            n->value = v;
    }
    for (size_t i = 0; r == 0 && i < ev->field_count; i++) {
        const struct wl_field *f = &ev->fields[i];

        if (f->value[0] != '\0')
            r = add_data_field(&arena, &root, f->name, f->value);
    }
    if (r == 0 && root.child != NULL)
        r = print_node(&out, &root);
    free_arrays(&root);
    wl_arena_free(&arena);
    if (r < 0) {
        wl_dec_buf_free(&out);
        *nomem = 1;
        return NULL;
    }
    return out.data;
}
