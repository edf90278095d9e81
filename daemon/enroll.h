/*
 * Agent enrollment as wazuh-authd 4.14 does it, without the transport:
 * the agent sends one line inside TLS,
 *
 *   [OSSEC PASS: <pw> ]OSSEC A:'<name>'[ V:'<ver>'][ G:'<groups>']
 *       [ IP:'<ip>|src'][ K:'<sha1 of id+name+key>']
 *
 * and gets back "OSSEC K:'<id> <name> <ip> <key>'" or
 * "ERROR: <reason>. Unable to add agent", without a newline, after which
 * the server closes the connection.
 */
#ifndef WL_ENROLL_H
#define WL_ENROLL_H

#include "daemon/keys.h"

#include <stddef.h>
#include <time.h>

#define WL_ENROLL_LINE_MAX (65536 + 4096) /* request buffer, as authd */
#define WL_ENROLL_REPLY_MAX 2048
#define WL_ENROLL_GROUPS_MAX 128 /* groups per agent */
#define WL_ENROLL_GROUP_NAME_MAX 255

/* The "force" options of authd: when an enrollment may replace an agent
 * with the same name or address. */
struct wl_enroll_force {
    int enabled;                   /* default 1 */
    int key_mismatch;              /* default 1: same K: hash, no replace */
    int disconnected_time_enabled; /* default 1 */
    long disconnected_time;        /* seconds, default 3600 */
    long after_registration_time;  /* seconds, default 3600 */
};

struct wl_enroll_config {
    const char *password;        /* NULL when no password is required */
    const char *manager_version; /* "v4.14.7" */
    const char *manager_name;    /* host name; agents may not use it */
    const char *shared_dir;      /* groups must exist as <dir>/<group>;
                                    NULL accepts only the group "default" */
    int allow_higher_versions;   /* default 0 */
    int use_source_ip;           /* default 0: register "any" */
    int purge; /* drop a replaced agent's line instead of marking it */
    struct wl_enroll_force force;
};

/* A parsed request. */
struct wl_enroll_request {
    char name[WL_KEYS_NAME_MAX + 1];
    char version[64]; /* empty without V: */
    char *groups;     /* NULL without G:; duplicates removed; owned */
    char ip[WL_KEYS_IP_MAX + 1];         /* address to register */
    char key_hash[WL_KEYS_SHA1_HEX + 1]; /* empty without K: */
};

/* Connection state of an existing agent, as the agents table stores it. */
enum wl_enroll_connection {
    WL_ENROLL_NEVER_CONNECTED = 0,
    WL_ENROLL_ACTIVE, /* connected or pending */
    WL_ENROLL_DISCONNECTED,
};

struct wl_enroll_agent_status {
    enum wl_enroll_connection connection;
    time_t disconnection_time; /* 0 while connected */
    time_t date_add;           /* registration time */
};

/*
 * Looks up the status of an agent that an enrollment might replace.
 * Returns 0 with *status filled, or a negative code when unknown (the
 * agent is then not replaced, as authd does when wazuh-db has no data).
 */
typedef int (*wl_enroll_status_fn)(void *ctx, const struct wl_key_entry *e,
                                   struct wl_enroll_agent_status *status);

/* Outcome of an enrollment, for the caller to persist and report. */
struct wl_enroll_result {
    int accepted;
    char id[WL_KEYS_ID_MAX + 1];             /* new agent id when accepted */
    char name[WL_KEYS_NAME_MAX + 1];         /* requested name, may be empty */
    char replaced_id[2][WL_KEYS_ID_MAX + 1]; /* agents removed, or "" */
    char *groups;                            /* owned; NULL without G: */
};

/* Fills cfg with the defaults of authd 4.14 (no password, force on). */
void wl_enroll_config_default(struct wl_enroll_config *cfg);

/*
 * Parses a request line (without its '\n', NUL-terminated) from a peer.
 * On error writes the "ERROR: ..." text authd sends (without the
 * ". Unable to add agent" suffix) to error and returns WL_EAUTH (bad
 * password) or WL_EINVAL. On success the caller frees req with
 * wl_enroll_request_free().
 */
int wl_enroll_parse(const struct wl_enroll_config *cfg, const char *line,
                    const char *peer_ip, struct wl_enroll_request *req,
                    char *error, size_t error_size);

void wl_enroll_request_free(struct wl_enroll_request *req);

/*
 * Handles one request line: parses it and checks groups, address, name
 * and duplicates. An old agent with the same name or address is removed
 * from ks when the force options allow it. The new agent gets a fresh
 * key, and the reply (NUL-terminated, at most WL_ENROLL_REPLY_MAX bytes)
 * is written to reply. ks is changed in memory only: the
 * caller sends the reply, then saves ks with wl_keys_save(), or removes
 * the new agent with wl_keys_remove(..., 1) when the reply could not be
 * sent. status may be NULL (then no agent is ever replaced). Returns 0
 * (see result->accepted) or WL_ENOMEM. result->groups is freed with
 * wl_enroll_result_free().
 */
int wl_enroll_process(const struct wl_enroll_config *cfg,
                      struct wl_keystore *ks, const char *line,
                      const char *peer_ip, wl_enroll_status_fn status,
                      void *status_ctx, time_t now, char *reply,
                      struct wl_enroll_result *result);

void wl_enroll_result_free(struct wl_enroll_result *result);

/*
 * Loads the enrollment password as authd does from path (authd.pass):
 * the first line without its newline, if that line is longer than 2
 * bytes with the newline. A file of 0 or 1 bytes is an error (WL_EINVAL).
 * When the file is missing, a random 32-hex-digit password from the
 * OpenSSL CSPRNG is written to it atomically with mode 0600 (WL_EIO when
 * that fails), and only the file name is logged. *password is NULL when
 * the file has no usable line. The caller frees *password with
 * wl_enroll_password_free(). Returns 0, WL_EINVAL, WL_EIO or WL_ENOMEM.
 */
int wl_enroll_load_password(const char *path, char **password);

/* Wipes and frees a password from wl_enroll_load_password(). */
void wl_enroll_password_free(char *password);

#endif
