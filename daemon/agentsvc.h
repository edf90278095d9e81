/*
 * The Wazuh agent services of wazlabd: the native protocol state (keys in
 * <data dir>/client.keys) that the event listener serves on its port, and
 * the enrollment service on the <auth> port. Agent status changes and new
 * enrollments are stored in the agents table through the database writer.
 */
#ifndef WL_AGENTSVC_H
#define WL_AGENTSVC_H

#include "daemon/agentids.h"
#include "daemon/config.h"
#include "daemon/native.h"
#include "db/writer.h"

#include <stddef.h>

struct wl_agentsvc;

/*
 * Loads client.keys and, unless <auth><disabled> is set, starts
 * enrollment on <auth><port> at <remote><local_ip>. The enrollment
 * certificate is <auth><ssl_manager_cert>, else <remote><ssl_cert>, else
 * the daemon's self-signed one in data_dir (which must exist by then).
 * A busy enrollment port is logged and leaves enrollment off.
 * writer may be NULL (no agents table). Returns 0 and *out, or a WL_E*
 * code with a message in err.
 */
int wl_agentsvc_start(const struct wl_config *cfg, const char *data_dir,
                      struct wl_writer *writer, struct wl_agentsvc **out,
                      char *err, size_t err_size);

/* The native protocol state to hand to the event listener. */
struct wl_native *wl_agentsvc_native(struct wl_agentsvc *svc);

/*
 * Makes client.keys the one source of agent ids. Agents named by their
 * certificate take the id of the enrolled agent of that name, or a new
 * id from client.keys that stays there as a removed line no key can use. The
 * highest id in ids is reserved there first. Call once, after both are loaded
 * and before the event listener starts. Returns 0 or a WL_E* code (logged).
 */
int wl_agentsvc_share_ids(struct wl_agentsvc *svc, struct wl_agentids *ids);

/* Stops enrollment; call before the event listener and writer stop. */
void wl_agentsvc_stop_enrollment(struct wl_agentsvc *svc);

/* Frees everything; call after the event listener was freed. */
void wl_agentsvc_free(struct wl_agentsvc *svc, int log_counters);

#endif
