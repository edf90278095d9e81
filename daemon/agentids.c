#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/agentids.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "db/agents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

/* Wazuh agent ids run from 001 to 99999; 000 is the manager. */
#define AGENT_ID_MAX 99999

struct agent {
    char *name;
    int id;
};

struct wl_agentids {
    struct agent *items;
    size_t count;
    size_t capacity;
    int max_id;
    struct wl_writer *writer;
    int (*alloc)(void *ctx, const char *name, char *id, size_t size);
    void *alloc_ctx;
};

static int add_agent(struct wl_agentids *agents, const char *name, int id)
{
    char *copy;

    if (agents->count == agents->capacity) {
        size_t capacity = agents->capacity ? agents->capacity * 2 : 16;
        struct agent *items = realloc(agents->items, capacity * sizeof(*items));

        if (items == NULL)
            return WL_ENOMEM;
        agents->items = items;
        agents->capacity = capacity;
    }
    copy = strdup(name);
    if (copy == NULL)
        return WL_ENOMEM;
    agents->items[agents->count].name = copy;
    agents->items[agents->count].id = id;
    agents->count++;
    if (id > agents->max_id)
        agents->max_id = id;
    return 0;
}

/* Reads id and name of the stored agents; a missing table is no error. */
static int load_rows(struct wl_agentids *agents, const char *db_path, char *err,
                     size_t err_size)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    struct stat st;
    int rc;
    int r = 0;

    if (stat(db_path, &st) != 0)
        return 0;
    rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT id, name FROM agents", -1, &stmt,
                                NULL);
    if (rc != SQLITE_OK) {
        /* No agents table yet, or the database is locked by another
         * daemon, which the writer reports when it starts. */
        goto out;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(stmt, 0);
        const char *name = (const char *)sqlite3_column_text(stmt, 1);
        char *end;
        long number;

        if (id == NULL || name == NULL)
            continue;
        number = strtol(id, &end, 10);
        if (*end != '\0' || number <= 0 || number > AGENT_ID_MAX)
            continue;
        r = add_agent(agents, name, (int)number);
        if (r != 0)
            goto out;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_BUSY) {
        snprintf(err, err_size, "cannot read the agents of %s: %s", db_path,
                 sqlite3_errmsg(db));
        r = WL_EDB;
    }
out:
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return r;
}

int wl_agentids_load(const char *db_path, struct wl_agentids **out, char *err,
                     size_t err_size)
{
    struct wl_agentids *agents = calloc(1, sizeof(*agents));
    int r;

    if (agents == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    r = load_rows(agents, db_path, err, err_size);
    if (r != 0) {
        wl_agentids_free(agents);
        return r;
    }
    *out = agents;
    return 0;
}

void wl_agentids_free(struct wl_agentids *agents)
{
    if (agents == NULL)
        return;
    for (size_t i = 0; i < agents->count; i++)
        free(agents->items[i].name);
    free(agents->items);
    free(agents);
}

void wl_agentids_set_writer(struct wl_agentids *agents, struct wl_writer *w)
{
    agents->writer = w;
}

static void store_agent(struct wl_agentids *agents, const char *name,
                        const char *id)
{
    struct wl_agent_row row;
    int r;

    if (agents->writer == NULL)
        return;
    memset(&row, 0, sizeof(row));
    row.id = id;
    row.name = name;
    row.register_ip = "any";
    row.status = "active";
    r = wl_writer_agent_upsert(agents->writer, &row);
    if (r != 0)
        wl_log_error("cannot store agent %s (%s): %s", id, name,
                     wl_strerror(r));
}

void wl_agentids_note_ip(struct wl_agentids *agents, const char *id,
                         const char *name, const char *ip)
{
    struct wl_agent_row row;
    int r;

    if (agents == NULL || agents->writer == NULL)
        return;
    memset(&row, 0, sizeof(row));
    row.id = id;
    row.name = name;
    row.ip = ip;
    r = wl_writer_agent_upsert(agents->writer, &row);
    if (r != 0)
        wl_log_limited(WL_LOG_ERROR, "agent-ip",
                       "cannot store the address of agent %s (%s): %s", id,
                       name, wl_strerror(r));
}

int wl_agentids_lookup(struct wl_agentids *agents, const char *name, char *id,
                       size_t size)
{
    int r;

    for (size_t i = 0; i < agents->count; i++) {
        if (strcmp(agents->items[i].name, name) == 0) {
            snprintf(id, size, "%03d", agents->items[i].id);
            return 0;
        }
    }
    if (agents->alloc != NULL) {
        char given[16];
        char *end;
        long value;

        r = agents->alloc(agents->alloc_ctx, name, given, sizeof(given));
        if (r < 0)
            return r;
        value = strtol(given, &end, 10);
        if (*end != '\0' || value < 1 || value > AGENT_ID_MAX)
            return WL_ERANGE;
        r = add_agent(agents, name, (int)value);
        if (r != 0)
            return r;
        snprintf(id, size, "%s", given);
    } else {
        if (agents->max_id >= AGENT_ID_MAX)
            return WL_ERANGE;
        r = add_agent(agents, name, agents->max_id + 1);
        if (r != 0)
            return r;
        snprintf(id, size, "%03d", agents->max_id);
    }
    store_agent(agents, name, id);
    return 1;
}

void wl_agentids_set_allocator(struct wl_agentids *agents,
                               int (*alloc)(void *ctx, const char *name,
                                            char *id, size_t size),
                               void *ctx)
{
    agents->alloc = alloc;
    agents->alloc_ctx = ctx;
}

int wl_agentids_max_id(const struct wl_agentids *agents)
{
    return agents->max_id;
}

size_t wl_agentids_count(const struct wl_agentids *agents)
{
    return agents->count;
}
