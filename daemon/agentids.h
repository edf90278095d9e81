/*
 * Agent ids for clients identified by a certificate: each distinct
 * certificate common name gets a stable id ("001", "002", ...).
 *
 * The table lives in memory and is used by the event loop thread only.
 * It starts from the agents table of the database (read before the
 * writer opens it) and every new agent is queued to the writer, so an id
 * survives restarts. wazlabd takes new ids from client.keys (see
 * wl_agentids_set_allocator()), so they never collide with enrolled agents.
 */
#ifndef WL_AGENTIDS_H
#define WL_AGENTIDS_H

#include <stddef.h>

struct wl_agentids;
struct wl_writer;

/*
 * Creates the table and loads the id and name of every agent stored in
 * db_path (a missing file or table is an empty table). Returns 0 and
 * *out, or WL_ENOMEM, or WL_EDB with a message in err.
 */
int wl_agentids_load(const char *db_path, struct wl_agentids **out, char *err,
                     size_t err_size);
void wl_agentids_free(struct wl_agentids *agents);

/* Sets the writer that stores new agents (NULL: keep them in memory). */
void wl_agentids_set_writer(struct wl_agentids *agents, struct wl_writer *w);

/*
 * Copies the id of the agent called name into id (size at least 16),
 * adding the agent with the next free id when it is new. Returns 0,
 * 1 when the agent was added, or WL_ENOMEM / WL_ERANGE (ids exhausted).
 */
int wl_agentids_lookup(struct wl_agentids *agents, const char *name, char *id,
                       size_t size);

/*
 * Records ip as the address agent id (called name) connects from, in the
 * agents table, through the writer set with wl_agentids_set_writer()
 * (nothing without one). Errors are logged, not returned.
 */
void wl_agentids_note_ip(struct wl_agentids *agents, const char *id,
                         const char *name, const char *ip);

/*
 * Sets the function that hands out the id of a new agent, so that one
 * allocator serves these agents and the enrolled ones. alloc writes a
 * numeric id into id (size bytes) and returns 0 or a negative WL_E*
 * code. Without it, new agents get the highest known id plus one.
 */
void wl_agentids_set_allocator(struct wl_agentids *agents,
                               int (*alloc)(void *ctx, const char *name,
                                            char *id, size_t size),
                               void *ctx);

/* Returns the highest id known, 0 when there is none. */
int wl_agentids_max_id(const struct wl_agentids *agents);

/* Returns the number of agents known. */
size_t wl_agentids_count(const struct wl_agentids *agents);

#endif
