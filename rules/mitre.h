/*
 * The MITRE ATT&CK Enterprise v13.1 techniques and tactics that alerts
 * name (Wazuh 4.14 uses this version), built into the program from
 * the tables in rules/mitre/.
 */
#ifndef WL_MITRE_H
#define WL_MITRE_H

#include <stddef.h>

struct wl_mitre_tactic {
    const char *id;   /* "TA0002" */
    const char *name; /* "Execution" */
};

struct wl_mitre_technique {
    const char *id;      /* "T1059.003" */
    const char *name;    /* "Windows Command Shell" */
    const char *tactics; /* names in kill-chain order, comma-separated */
};

/* Tables sorted by id (byte order); deprecated techniques left out. */
extern const struct wl_mitre_tactic wl_mitre_tactics[];
extern const size_t wl_mitre_tactic_count;
extern const struct wl_mitre_technique wl_mitre_techniques[];
extern const size_t wl_mitre_technique_count;

/* Returns the technique with that id (exact case), or NULL. */
const struct wl_mitre_technique *wl_mitre_technique_find(const char *id);

/* Returns the name of the tactic with that id, or NULL. */
const char *wl_mitre_tactic_name(const char *id);

#endif
