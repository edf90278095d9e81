/* Starts the agent services and records agent status in the database. */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/agentsvc.h"

#include "daemon/authd.h"
#include "daemon/enroll.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "daemon/tls.h"
#include "db/agents.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

struct wl_agentsvc {
    struct wl_native *native;
    struct wl_authd *authd;
    SSL_CTX *authd_tls;
    struct wl_writer *writer;
    struct wl_enroll_config enroll;
    char *password;
    char hostname[256];
    char shared_dir[PATH_MAX];
};

/* Writes the current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static void now_iso(char *out, size_t size)
{
    struct timeval tv;
    struct tm tm;
    char base[32];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%.24s.%03dZ", base, (int)(tv.tv_usec / 1000) % 1000);
}

static const char *or_null(const char *text)
{
    return text && text[0] ? text : NULL;
}

/* Stores an agent status change (event loop thread). */
static void on_agent(void *ctx, const struct wl_native_agent_event *ev)
{
    struct wl_agentsvc *svc = ctx;
    struct wl_agent_row row;
    char now[40], version[80];
    const struct wl_keepalive *ka = ev->keepalive;

    if (!svc->writer)
        return;
    memset(&row, 0, sizeof(row));
    now_iso(now, sizeof(now));
    row.id = ev->id;
    row.name = ev->name;
    row.ip = ev->peer_ip;
    row.register_ip = ev->registered_ip;
    switch (ev->kind) {
    case WL_NATIVE_AGENT_STARTUP:
        row.status = "active";
        row.last_keepalive = now;
        if (ev->version[0]) {
            snprintf(version, sizeof(version), "Wazuh %s", ev->version);
            row.version = version;
        }
        break;
    case WL_NATIVE_AGENT_KEEPALIVE:
        row.status = "active";
        row.last_keepalive = now;
        row.version = or_null(ka->version);
        row.os_name = or_null(ka->os_name);
        row.os_version = or_null(ka->os_version);
        row.os_platform = or_null(ka->os_platform);
        row.os_arch = or_null(ka->os_arch);
        row.os_uname = or_null(ka->uname);
        row.config_sum = or_null(ka->config_sum);
        row.merged_sum = or_null(ka->merged_sum);
        if (ka->agent_ip[0])
            row.ip = ka->agent_ip;
        break;
    case WL_NATIVE_AGENT_SHUTDOWN:
        row.status = "disconnected";
        row.disconnection_time = now;
        break;
    }
    if (wl_writer_agent_upsert(svc->writer, &row) != 0)
        wl_log_limited(WL_LOG_WARN, "agent-upsert",
                       "cannot queue the status of agent %s", ev->id);
}

/* Stores a newly enrolled agent (enrollment thread). */
static void on_enrolled(void *ctx, const struct wl_enroll_result *result,
                        const char *ip, const char *key_hash)
{
    struct wl_agentsvc *svc = ctx;
    struct wl_agent_row row;
    char now[40];

    if (!svc->writer)
        return;
    memset(&row, 0, sizeof(row));
    now_iso(now, sizeof(now));
    row.id = result->id;
    row.name = result->name;
    row.ip = ip;
    row.register_ip = ip;
    row.key_hash = key_hash;
    row.groups = result->groups;
    row.registered = now;
    row.status = "never_connected";
    if (wl_writer_agent_upsert(svc->writer, &row) != 0)
        wl_log_warn("cannot queue new agent %s for the database", result->id);
}

/* Builds the enrollment TLS context from the configuration. */
static int authd_tls(struct wl_agentsvc *svc, const struct wl_config *cfg,
                     const char *data_dir, char *err, size_t err_size)
{
    char cert[PATH_MAX], key[PATH_MAX];
    int r;

    if (cfg->auth_ssl_manager_cert) {
        snprintf(cert, sizeof(cert), "%s", cfg->auth_ssl_manager_cert);
        snprintf(key, sizeof(key), "%s",
                 cfg->auth_ssl_manager_key ? cfg->auth_ssl_manager_key : "");
    } else if (cfg->remote_ssl_cert) {
        snprintf(cert, sizeof(cert), "%s", cfg->remote_ssl_cert);
        snprintf(key, sizeof(key), "%s",
                 cfg->remote_ssl_key ? cfg->remote_ssl_key : "");
    } else {
        snprintf(cert, sizeof(cert), "%s/%s", data_dir, WL_TLS_SELF_CERT);
        snprintf(key, sizeof(key), "%s/%s", data_dir, WL_TLS_SELF_KEY);
    }
    r = wl_authd_tls_new(cert, key, &svc->authd_tls, err, err_size);
    if (r != 0)
        return r;
    if (cfg->auth_ciphers &&
        SSL_CTX_set_cipher_list(svc->authd_tls, cfg->auth_ciphers) != 1) {
        snprintf(err, err_size, "invalid <auth><ciphers> list '%s'",
                 cfg->auth_ciphers);
        return WL_EINVAL;
    }
    if (cfg->auth_ssl_agent_ca) {
        if (SSL_CTX_load_verify_locations(svc->authd_tls,
                                          cfg->auth_ssl_agent_ca, NULL) != 1) {
            snprintf(err, err_size, "cannot load <auth><ssl_agent_ca> %s",
                     cfg->auth_ssl_agent_ca);
            return WL_ETLS;
        }
        SSL_CTX_set_verify(svc->authd_tls,
                           SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                           NULL);
    }
    if (cfg->auth_ssl_verify_host)
        wl_log_warn("<auth><ssl_verify_host> is not supported; agent "
                    "certificates are checked against the CA only");
    if (cfg->auth_ssl_auto_negotiate)
        wl_log_warn("<auth><ssl_auto_negotiate> is ignored; enrollment "
                    "accepts TLS 1.2 and 1.3");
    return 0;
}

static void enroll_config(struct wl_agentsvc *svc, const struct wl_config *cfg,
                          const char *data_dir)
{
    struct stat st;
    struct wl_enroll_config *e = &svc->enroll;

    wl_enroll_config_default(e);
    if (gethostname(svc->hostname, sizeof(svc->hostname) - 1) != 0)
        snprintf(svc->hostname, sizeof(svc->hostname), "localhost");
    e->manager_name = svc->hostname;
    e->use_source_ip = cfg->auth_use_source_ip;
    e->purge = cfg->auth_purge;
    e->force.enabled = cfg->auth_force_enabled;
    e->force.key_mismatch = cfg->auth_force_key_mismatch;
    e->force.disconnected_time_enabled =
        cfg->auth_force_disconnected_time_enabled;
    e->force.disconnected_time = cfg->auth_force_disconnected_time;
    e->force.after_registration_time = cfg->auth_force_after_registration_time;
    /* Groups are folders of <data dir>/shared when it exists. */
    snprintf(svc->shared_dir, sizeof(svc->shared_dir), "%s/shared", data_dir);
    if (stat(svc->shared_dir, &st) == 0 && S_ISDIR(st.st_mode))
        e->shared_dir = svc->shared_dir;
}

static int start_enrollment(struct wl_agentsvc *svc,
                            const struct wl_config *cfg, const char *data_dir,
                            char *err, size_t err_size)
{
    struct wl_authd_options opt;
    char path[PATH_MAX];
    int r;

    enroll_config(svc, cfg, data_dir);
    if (cfg->auth_use_password) {
        snprintf(path, sizeof(path), "%s/authd.pass", data_dir);
        r = wl_enroll_load_password(path, &svc->password);
        if (r != 0) {
            snprintf(err, err_size,
                     "cannot load the enrollment password "
                     "from %s",
                     path);
            return r;
        }
        svc->enroll.password = svc->password;
    }
    r = authd_tls(svc, cfg, data_dir, err, err_size);
    if (r != 0)
        return r;
    memset(&opt, 0, sizeof(opt));
    opt.address = cfg->remote_local_ip;
    opt.port = cfg->auth_port;
    opt.timeout_ms = (int)(cfg->auth_timeout * 1000);
    opt.tls = svc->authd_tls;
    opt.native = svc->native;
    opt.enroll = &svc->enroll;
    opt.on_enrolled = on_enrolled;
    opt.on_enrolled_ctx = svc;
    return wl_authd_start(&opt, &svc->authd, err, err_size);
}

/*
 * Raises the soft limit on open files to the hard limit: each agent on
 * TCP keeps a socket open, and the usual soft limit of 1024 would turn
 * away agents long before the machine runs short.
 */
static void raise_file_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t old = rl.rlim_cur;

        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = old;
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 4096)
        wl_log_warn("open file limit is %llu: fewer agents than that can "
                    "stay connected; raise the hard limit (LimitNOFILE= "
                    "in systemd, ulimit -Hn)",
                    (unsigned long long)rl.rlim_cur);
    else
        wl_log_debug("open file limit %llu", (unsigned long long)rl.rlim_cur);
}

int wl_agentsvc_start(const struct wl_config *cfg, const char *data_dir,
                      struct wl_writer *writer, struct wl_agentsvc **out,
                      char *err, size_t err_size)
{
    struct wl_agentsvc *svc = calloc(1, sizeof(*svc));
    struct wl_native_options nopt;
    char keys[PATH_MAX], counter[PATH_MAX];
    int r;

    if (!svc) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    svc->writer = writer;
    raise_file_limit();
    snprintf(keys, sizeof(keys), "%s/client.keys", data_dir);
    snprintf(counter, sizeof(counter), "%s/sender_counter", data_dir);
    memset(&nopt, 0, sizeof(nopt));
    nopt.keys_path = keys;
    nopt.counter_path = counter;
    nopt.verify_counters = cfg->remote_verify_msg_id;
    nopt.disconnection_seconds = cfg->agents_disconnection_time;
    nopt.on_agent = on_agent;
    nopt.on_agent_ctx = svc;
    r = wl_native_new(&nopt, &svc->native);
    if (r != 0) {
        snprintf(err, err_size, "cannot load agent keys %s: %s", keys,
                 wl_strerror(r));
        goto fail;
    }
    if (!cfg->auth_disabled) {
        r = start_enrollment(svc, cfg, data_dir, err, err_size);
        /* Like a separate wazuh-authd that failed, a busy enrollment port
         * leaves event reception running. */
        if (r == WL_EBUSY) {
            wl_log_error("enrollment unavailable: %s; set <auth><port> or "
                         "<auth><disabled>",
                         err);
            r = 0;
        }
        if (r != 0)
            goto fail;
    } else {
        wl_log_info("enrollment disabled (<auth><disabled>)");
    }
    *out = svc;
    return 0;
fail:
    wl_agentsvc_free(svc, 0);
    return r;
}

/* Name of the removed client.keys lines that reserve ids. */
#define RESERVED_NAME "tls-agent"

/*
 * Reserves an id in client.keys as a removed line: want_id, or the next
 * free id when want_id is NULL. The keys lock is held. Copies the id
 * into id (size bytes) and saves the file. Returns 0 or a WL_E* code.
 */
static int reserve_id_locked(struct wl_keystore *ks, const char *name,
                             const char *want_id, char *id, size_t size)
{
    const char *label = wl_keys_valid_name(name) ? name : RESERVED_NAME;
    const struct wl_key_entry *e = NULL;
    unsigned char random[32];
    char key[2 * sizeof(random) + 1];
    int r;

    if (want_id == NULL) {
        r = wl_keys_add(ks, label, "any", time(NULL), &e);
        if (r < 0)
            return r;
        snprintf(id, size, "%s", e->id);
    } else {
        if (RAND_bytes(random, sizeof(random)) != 1)
            return WL_EINTERNAL;
        for (size_t i = 0; i < sizeof(random); i++)
            snprintf(key + 2 * i, 3, "%02x", random[i]);
        r = wl_keys_add_entry(ks, want_id, label, "any", key, time(NULL));
        OPENSSL_cleanse(key, sizeof(key));
        if (r < 0)
            return r;
        snprintf(id, size, "%s", want_id);
    }
    r = wl_keys_remove(ks, id, 0);
    if (r == 0)
        r = wl_keys_save(ks);
    return r;
}

/*
 * Allocator of wl_agentids: the id of the enrolled agent with this name,
 * as after a restart (the agents table then maps the name to it), else
 * the next id of client.keys.
 */
static int allocate_id(void *ctx, const char *name, char *id, size_t size)
{
    struct wl_agentsvc *svc = ctx;
    struct wl_keystore *ks = wl_native_lock_keys(svc->native);
    const struct wl_key_entry *e;
    int r = wl_keys_lock(ks, 0);

    if (r >= 0) {
        e = wl_keys_find_name(ks, name);
        r = 0;
        if (e != NULL)
            snprintf(id, size, "%s", e->id);
        else
            r = reserve_id_locked(ks, name, NULL, id, size);
        wl_keys_unlock(ks);
    }
    wl_native_unlock_keys(svc->native);
    if (r < 0)
        wl_log_error("cannot reserve an agent id in client.keys for "
                     "'%s': %s",
                     name, wl_strerror(r));
    return r;
}

int wl_agentsvc_share_ids(struct wl_agentsvc *svc, struct wl_agentids *ids)
{
    struct wl_keystore *ks = wl_native_lock_keys(svc->native);
    int max_id = wl_agentids_max_id(ids);
    int locked = wl_keys_lock(ks, 0) >= 0;
    int r = 0;

    /* Taking the lock at start also deletes temporary files that a killed
     * save left. Without it, event reception still runs. */
    if (!locked)
        wl_log_error("cannot lock %s: agent ids of the database not "
                     "reserved in it",
                     ks->path);
    if (locked && max_id > 0 && (unsigned long)max_id > ks->id_counter) {
        char want[16], id[16];

        snprintf(want, sizeof(want), "%03d", max_id);
        r = reserve_id_locked(ks, RESERVED_NAME, want, id, sizeof(id));
        if (r < 0)
            wl_log_error("cannot reserve agent id %s in %s: %s", want, ks->path,
                         wl_strerror(r));
        else
            wl_log_info("agent ids up to %s reserved in %s for agents "
                        "named by certificate",
                        want, ks->path);
    }
    wl_keys_unlock(ks);
    wl_native_unlock_keys(svc->native);
    wl_agentids_set_allocator(ids, allocate_id, svc);
    return r;
}

struct wl_native *wl_agentsvc_native(struct wl_agentsvc *svc)
{
    return svc->native;
}

void wl_agentsvc_stop_enrollment(struct wl_agentsvc *svc)
{
    struct wl_authd_stats st;

    if (!svc || !svc->authd)
        return;
    wl_authd_get_stats(svc->authd, &st);
    wl_authd_stop(svc->authd);
    svc->authd = NULL;
    wl_log_info("enrollment: %lu connections, %lu agents added, %lu "
                "rejected, %lu failed, %lu turned away busy",
                st.connections, st.enrolled, st.refused, st.failed, st.busy);
}

void wl_agentsvc_free(struct wl_agentsvc *svc, int log_counters)
{
    if (!svc)
        return;
    wl_agentsvc_stop_enrollment(svc);
    if (svc->native && log_counters) {
        struct wl_native_stats st;
        unsigned long rejected;
        char reasons[1024] = "";
        size_t used = 0;

        wl_native_get_stats(svc->native, &st);
        rejected = st.rejected_other;
        for (size_t i = 0; i < sizeof(st.rejected) / sizeof(st.rejected[0]);
             i++) {
            int n;

            rejected += st.rejected[i];
            if (st.rejected[i] == 0 || used >= sizeof(reasons))
                continue;
            /* Index i counts the code -(i + 100), see native.c. */
            n = snprintf(reasons + used, sizeof(reasons) - used, "; %s: %lu",
                         wl_secure_strerror(-(int)(i + 100)), st.rejected[i]);
            if (n > 0)
                used += (size_t)n;
        }
        if (st.rejected_other > 0 && used < sizeof(reasons))
            snprintf(reasons + used, sizeof(reasons) - used, "; other: %lu",
                     st.rejected_other);
        wl_log_info("agent protocol: %lu messages, %lu events, %lu control "
                    "messages, %lu replies, %lu rejected%s",
                    st.accepted, st.events, st.controls, st.replies, rejected,
                    reasons);
    }
    wl_native_free(svc->native);
    SSL_CTX_free(svc->authd_tls);
    wl_enroll_password_free(svc->password);
    free(svc);
}
