/*
 * The daemon's configuration: one XML file in the dialect of Wazuh's
 * ossec.conf, read with libxml2 (no network access, no DTD, no entity
 * expansion). The root element is <ossec_config>; a file may hold several
 * root blocks one after the other, as Wazuh allows, and later values
 * override earlier ones. Element names are Wazuh's wherever Wazuh has the
 * setting; <analysis> and <database> and the TLS children of <remote> are
 * wazlab's own. An unknown element or attribute is an error.
 *
 * Every option has a built-in default (config.c holds the table), so the
 * daemon runs without a file. struct wl_config records which options the
 * file set: wl_config_is_set() tells an explicit value from a default.
 *
 * Strings and list items are owned by the struct and freed by
 * wl_config_free(). A NULL string means "none" (for example no CA file).
 */
#ifndef WL_CONFIG_H
#define WL_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* Upper bound on the number of entries in the option table. */
#define WL_CONFIG_MAX_OPTIONS 64

/* A repeated element, items in the order of the file. */
struct wl_config_list {
    char **items;
    size_t count;
};

struct wl_config {
    /* <global> */
    int jsonout_output;             /* write alerts.json */
    int logall;                     /* archive every message (events table) */
    int logall_json;                /* same, Wazuh's archives.json switch */
    long agents_disconnection_time; /* seconds without a message */

    /* <remote>: the event listener */
    char *remote_connection; /* "secure" */
    char *remote_protocol;   /* "tcp" */
    int remote_port;
    char *remote_local_ip; /* address to bind; "0.0.0.0" by default */
    int remote_queue_size; /* messages waiting for analysis */
    char *remote_ssl_ca;   /* CA for client certificates; NULL: lab mode */
    char *remote_ssl_cert; /* server certificate; NULL: self-signed */
    char *remote_ssl_key;  /* its private key */
    long remote_handshake_timeout; /* seconds to finish the TLS handshake */
    int remote_verify_msg_id;      /* replay check of Wazuh agent counters */
    long remote_recv_timeout;      /* seconds without a whole frame; 0: never */
    int remote_max_connections;    /* open at once; 0: open file limit only */

    /* <auth>: enrollment (read and checked, served by a later version) */
    int auth_disabled;
    int auth_port;
    int auth_use_source_ip;
    int auth_purge;
    int auth_use_password;
    char *auth_ciphers;
    char *auth_ssl_agent_ca;
    int auth_ssl_verify_host;
    char *auth_ssl_manager_cert;
    char *auth_ssl_manager_key;
    int auth_ssl_auto_negotiate;
    int auth_force_enabled;
    int auth_force_key_mismatch;
    long auth_force_disconnected_time; /* seconds */
    int auth_force_disconnected_time_enabled;
    long auth_force_after_registration_time; /* seconds */
    long auth_timeout; /* seconds per enrollment read or write */

    /* <ruleset>: paths as written in the file, in file order */
    struct wl_config_list decoder_dirs;
    struct wl_config_list decoder_includes;
    struct wl_config_list decoder_excludes;
    struct wl_config_list rule_dirs;
    struct wl_config_list rule_includes;
    struct wl_config_list rule_excludes;
    struct wl_config_list lists; /* CDB list files */

    /* <alerts> */
    int log_alert_level; /* store alerts of this level and above */

    /* <analysis> */
    int analysis_threads; /* 0: one per online processor */

    /* <database> */
    char *db_path;     /* relative paths are under the data directory */
    int db_batch_size; /* rows per transaction */
    int db_flush_interval_ms;
    int db_queue_size; /* records waiting for the writer */

    char *file; /* the file read last; NULL when only defaults apply */
    /* Line of the file that set option i last; 0 when it has its default. */
    long set_line[WL_CONFIG_MAX_OPTIONS];
};

/*
 * Fills cfg with the built-in defaults. Returns 0 or WL_ENOMEM. Call
 * wl_config_free() afterwards in every case.
 */
int wl_config_init(struct wl_config *cfg);

/* Frees every string and list of cfg; cfg may be reused after init. */
void wl_config_free(struct wl_config *cfg);

/*
 * Reads path over the values already in cfg. A file that is empty or
 * holds only whitespace sets nothing (so "-c /dev/null" runs on defaults).
 * Returns 0, or WL_ENOENT/WL_EIO when the file cannot be read, WL_EPARSE
 * for malformed XML, an unknown element or an invalid value. On error,
 * err receives one line per problem ("FILE:LINE: ..."), up to err_size
 * bytes, and cfg holds the values read before the error.
 */
int wl_config_load(struct wl_config *cfg, const char *path, char *err,
                   size_t err_size);

/* Same as wl_config_load() for XML in memory; name is used in messages. */
int wl_config_load_memory(struct wl_config *cfg, const char *name,
                          const char *xml, size_t len, char *err,
                          size_t err_size);

/*
 * Returns 1 when the file set the option at path ("remote/port",
 * "auth/force/enabled", "ruleset/rule_dir"), 0 when it holds its default,
 * and -1 when no option has that path.
 */
int wl_config_is_set(const struct wl_config *cfg, const char *path);

/* Returns the line of the file that set the option at path, or 0. */
long wl_config_line(const struct wl_config *cfg, const char *path);

/*
 * Checks what the XML alone cannot: <remote><ssl_cert> and <ssl_key> are
 * set together, and the certificate, key and CA files can be read.
 * Returns 0, or WL_EINVAL with "FILE:LINE: ..." lines in err.
 */
int wl_config_check(const struct wl_config *cfg, char *err, size_t err_size);

/* Writes the effective configuration, defaults included, as XML. */
void wl_config_print(const struct wl_config *cfg, FILE *out);

/* Logs each option the file set, with its value and line, at INFO. */
void wl_config_log_settings(const struct wl_config *cfg);

/* Writes the option table (path, type, range, default, help) as text. */
void wl_config_print_table(FILE *out);

#endif
