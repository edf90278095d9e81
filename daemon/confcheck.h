/*
 * The checks of "wazlabd -t" beyond the configuration file itself: that
 * the TLS certificates, keys, CA files and cipher list load into OpenSSL,
 * and that the ruleset loads without invalid rules or unreadable files.
 * These are what would otherwise stop the daemon at startup.
 */
#ifndef WL_CONFCHECK_H
#define WL_CONFCHECK_H

#include <stddef.h>

#include "daemon/config.h"

/*
 * Runs every check on cfg, writing one "FILE:LINE: message" line per
 * problem into err. Rule loading messages go to the log (stderr with -t).
 * Returns 0, WL_EINVAL when a check failed, or WL_ENOMEM.
 */
int wl_config_check_startup(const struct wl_config *cfg, char *err,
                            size_t err_size);

#endif
