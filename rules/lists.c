#include "config.h"

#include "rules/lists.h"
#include "rules/cond.h"
#include "rules/tree.h"
#include "daemon/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Maximum length of a list line, the size of analysisd's buffer. */
#define LINE_MAX_BYTES 65536

struct entry {
    char *key;
    char *value;
};

/* Keys hashed with open addressing; the first definition of a key wins. */
struct wl_cdb_list {
    char *name;
    struct entry *table;
    size_t size;
    size_t count;
};

struct wl_lists {
    struct wl_cdb_list **lists;
    size_t count;
};

static size_t hash_key(const char *s, size_t len)
{
    size_t h = 5381;

    for (size_t i = 0; i < len; i++)
        h = h * 33 + (unsigned char)s[i];
    return h;
}

static const struct entry *find_entry(const struct wl_cdb_list *l,
                                      const char *key, size_t len)
{
    if (l->size == 0)
        return NULL;
    for (size_t i = hash_key(key, len) & (l->size - 1); l->table[i].key != NULL;
         i = (i + 1) & (l->size - 1)) {
        if (strncmp(l->table[i].key, key, len) == 0 &&
            l->table[i].key[len] == '\0')
            return &l->table[i];
    }
    return NULL;
}

static int grow(struct wl_cdb_list *l)
{
    size_t size = l->size ? l->size * 2 : 64;
    struct entry *t = calloc(size, sizeof(*t));

    if (t == NULL)
        return WL_ENOMEM;
    for (size_t i = 0; i < l->size; i++) {
        if (l->table[i].key == NULL)
            continue;
        size_t j =
            hash_key(l->table[i].key, strlen(l->table[i].key)) & (size - 1);
        while (t[j].key != NULL)
            j = (j + 1) & (size - 1);
        t[j] = l->table[i];
    }
    free(l->table);
    l->table = t;
    l->size = size;
    return 0;
}

static int add_entry(struct wl_cdb_list *l, const char *key, const char *value)
{
    if (find_entry(l, key, strlen(key)) != NULL)
        return 0;
    if ((l->count + 1) * 2 > l->size && grow(l) < 0)
        return WL_ENOMEM;
    size_t i = hash_key(key, strlen(key)) & (l->size - 1);
    while (l->table[i].key != NULL)
        i = (i + 1) & (l->size - 1);
    l->table[i].key = strdup(key);
    l->table[i].value = strdup(value);
    if (l->table[i].key == NULL || l->table[i].value == NULL) {
        free(l->table[i].key);
        free(l->table[i].value);
        l->table[i].key = NULL;
        return WL_ENOMEM;
    }
    l->count++;
    return 0;
}

/*
 * Splits one line as analysisd does: "key:value", where the key may be
 * double-quoted when a quote comes before the first ':', and the value may
 * be double-quoted. Returns 0 with *key and *value pointing into line, or
 * -1 for a line analysisd skips.
 */
static int split_line(char *line, char **key, char **value)
{
    char *quote = strchr(line, '"');
    char *colon = strchr(line, ':');
    char *rest = line;

    *key = line;
    if (quote != NULL && colon != NULL && colon > quote) {
        char *end = strchr(quote + 1, '"');

        if (end == NULL)
            return -1;
        *end = '\0';
        *key = quote + 1;
        rest = end + 1;
    }
    colon = strchr(rest, ':');
    if (colon == NULL)
        return -1;
    *colon = '\0';
    *value = colon + 1;
    quote = strchr(*value, '"');
    if (quote != NULL) {
        char *end = strchr(quote + 1, '"');

        if (end == NULL)
            return -1;
        *end = '\0';
        *value = quote + 1;
    }
    return 0;
}

static int read_list(struct wl_cdb_list *l, FILE *f)
{
    char *line = malloc(LINE_MAX_BYTES);
    int rc = 0;

    if (line == NULL)
        return WL_ENOMEM;
    while (rc == 0 && fgets(line, LINE_MAX_BYTES, f) != NULL) {
        char *key, *value;

        line[strcspn(line, "\r\n")] = '\0';
        if (split_line(line, &key, &value) == 0)
            rc = add_entry(l, key, value);
    }
    free(line);
    return rc;
}

static void list_free(struct wl_cdb_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->size; i++) {
        free(l->table[i].key);
        free(l->table[i].value);
    }
    free(l->table);
    free(l->name);
    free(l);
}

int wl_lists_load(struct wl_load *ld)
{
    const struct wl_ruleset_list *cfg = ld->opts->lists;
    struct wl_lists *all = calloc(1, sizeof(*all));
    int rc = 0;

    if (all == NULL)
        return WL_ENOMEM;
    ld->rs->lists = all;
    for (; rc == 0 && cfg != NULL && cfg->name != NULL; cfg++) {
        const char *path = cfg->path ? cfg->path : cfg->name;
        FILE *f = fopen(path, "r");
        struct wl_cdb_list *l;

        if (f == NULL) {
            wl_load_report(ld, WL_RULESET_ERROR, 0,
                           "cannot read list %s (%s); rules using it are "
                           "skipped",
                           cfg->name, path);
            continue;
        }
        l = calloc(1, sizeof(*l));
        if (l == NULL || (l->name = strdup(cfg->name)) == NULL) {
            list_free(l);
            fclose(f);
            return WL_ENOMEM;
        }
        struct wl_cdb_list **lists =
            realloc(all->lists, (all->count + 1) * sizeof(*lists));
        if (lists == NULL) {
            list_free(l);
            fclose(f);
            return WL_ENOMEM;
        }
        all->lists = lists;
        rc = read_list(l, f);
        fclose(f);
        if (rc < 0) {
            list_free(l);
            return rc;
        }
        all->lists[all->count++] = l;
    }
    return rc;
}

void wl_lists_free(struct wl_ruleset *rs)
{
    if (rs->lists == NULL)
        return;
    for (size_t i = 0; i < rs->lists->count; i++)
        list_free(rs->lists->lists[i]);
    free(rs->lists->lists);
    free(rs->lists);
    rs->lists = NULL;
}

const struct wl_cdb_list *wl_lists_find(const struct wl_ruleset *rs,
                                        const char *name)
{
    if (rs->lists == NULL)
        return NULL;
    for (size_t i = 0; i < rs->lists->count; i++) {
        if (strcmp(rs->lists->lists[i]->name, name) == 0)
            return rs->lists->lists[i];
    }
    return NULL;
}

static const char *const lookup_names[] = {
    [WL_LIST_MATCH_KEY] = "match_key",
    [WL_LIST_NOT_MATCH_KEY] = "not_match_key",
    [WL_LIST_MATCH_KEY_VALUE] = "match_key_value",
    [WL_LIST_ADDRESS_MATCH_KEY] = "address_match_key",
    [WL_LIST_NOT_ADDRESS_MATCH_KEY] = "not_address_match_key",
    [WL_LIST_ADDRESS_MATCH_KEY_VALUE] = "address_match_key_value",
};

int wl_list_lookup_find(const char *name)
{
    for (size_t i = 0; i < sizeof(lookup_names) / sizeof(*lookup_names); i++) {
        if (strcasecmp(lookup_names[i], name) == 0)
            return (int)i;
    }
    return -1;
}

/* A list condition: the list, the lookup and the value pattern. */
struct list_cond {
    const struct wl_cdb_list *list;
    enum wl_list_lookup lookup;
    struct wl_pattern *check_value;
};

/*
 * Finds key, else (address lookups) the longest prefix of key that ends
 * with '.', as "192.168." for "192.168.1.5".
 */
static const struct entry *find_address(const struct wl_cdb_list *l,
                                        const char *key, size_t len)
{
    const struct entry *e = find_entry(l, key, len);

    for (size_t n = len; e == NULL && n > 0; n--) {
        if (key[n - 1] == '.')
            e = find_entry(l, key, n);
    }
    return e;
}

static int value_matches(const struct list_cond *lc, const struct entry *e,
                         struct wl_pattern_scratch *ps)
{
    /* NOTE: without check_value every value matches. */
    if (lc->check_value == NULL)
        return 1;
    return wl_pattern_match(lc->check_value, e->value, strlen(e->value), ps);
}

static int match_list(const struct wl_cond *c, const struct wl_event *ev,
                      struct wl_pattern_scratch *ps)
{
    const struct list_cond *lc = c->data;
    size_t len = 0;
    const char *key = wl_cond_subject(c, ev, &len);
    const struct entry *e;

    if (key == NULL)
        return 0;
    len = strlen(key);
    switch (lc->lookup) {
    case WL_LIST_MATCH_KEY:
        return find_entry(lc->list, key, len) != NULL;
    case WL_LIST_NOT_MATCH_KEY:
        return find_entry(lc->list, key, len) == NULL;
    case WL_LIST_MATCH_KEY_VALUE:
        e = find_entry(lc->list, key, len);
        return e != NULL && value_matches(lc, e, ps);
    case WL_LIST_ADDRESS_MATCH_KEY:
        return find_address(lc->list, key, len) != NULL;
    case WL_LIST_NOT_ADDRESS_MATCH_KEY:
        return find_address(lc->list, key, len) == NULL;
    case WL_LIST_ADDRESS_MATCH_KEY_VALUE:
        /*
         * Inverted as in analysisd 4.14.7: passes unless the key is found
         * and its value matches.
         */
        e = find_address(lc->list, key, len);
        return e == NULL || !value_matches(lc, e, ps);
    }
    return 0;
}

static void free_list_cond(struct wl_cond *c)
{
    struct list_cond *lc = c->data;

    if (lc != NULL)
        wl_pattern_free(lc->check_value);
    free(lc);
    c->data = NULL;
}

int wl_cond_init_list(struct wl_cond *c, const struct wl_cdb_list *list,
                      enum wl_list_lookup lookup,
                      struct wl_pattern *check_value)
{
    struct list_cond *lc = calloc(1, sizeof(*lc));

    if (lc == NULL) {
        wl_pattern_free(check_value);
        return WL_ENOMEM;
    }
    lc->list = list;
    lc->lookup = lookup;
    lc->check_value = check_value;
    c->data = lc;
    c->match = match_list;
    c->free = free_list_cond;
    c->rank = WL_RANK_LIST;
    return 0;
}
