/* The native agent protocol: identification, decoding, control replies. */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/native.h"

#include "daemon/error.h"
#include "daemon/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define AGENT_BUCKETS 1024
#define COUNTER_FLUSH 128 /* save the sender counter every N messages */
#define SAMPLE_BYTES 32

/* Per-agent state that survives key reloads, keyed by agent id. */
struct agent_state {
    char id[WL_KEYS_ID_MAX + 1];
    struct wl_secure_counter counter;
    enum wl_secure_method method; /* cipher of the last message */
    uint64_t connection_id;       /* TCP connection bound, 0 when none */
    time_t last_seen;
    int disconnected; /* reported disconnected since last_seen */
    struct agent_state *next;
};

struct wl_native {
    pthread_mutex_t lock; /* keys, agent states and the sender counter */
    struct wl_keystore keys;
    struct agent_state *agents[AGENT_BUCKETS];
    char *counter_path;
    unsigned sender_global;
    unsigned sender_local;
    unsigned unsaved;
    int verify_counters;
    int allow_higher_versions;
    char manager_version[32];
    void (*on_agent)(void *ctx, const struct wl_native_agent_event *event);
    void *on_agent_ctx;
    long disconnection_seconds;
    struct wl_native_stats stats;
    char *scratch; /* decrypted text, WL_SECURE_INFLATE_MAX + 1 bytes */
    char *line;    /* forward line, WL_MESSAGE_MAX + 1 bytes */
};

/* A copy of the key fields a payload needs, taken under the lock. */
struct agent_copy {
    char id[WL_KEYS_ID_MAX + 1];
    char name[WL_KEYS_NAME_MAX + 1];
    char ip[WL_KEYS_IP_MAX + 1];
    char enc_key[WL_KEYS_ENC_LEN + 1];
};

static size_t bucket_of(const char *id)
{
    size_t h = 5381;

    for (; *id; id++)
        h = h * 33 + (unsigned char)*id;
    return h % AGENT_BUCKETS;
}

/* Returns the state of an agent, creating it; NULL when out of memory. */
static struct agent_state *agent_state(struct wl_native *n, const char *id)
{
    size_t b = bucket_of(id);
    struct agent_state *s;

    for (s = n->agents[b]; s; s = s->next) {
        if (strcmp(s->id, id) == 0)
            return s;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    snprintf(s->id, sizeof(s->id), "%s", id);
    s->next = n->agents[b];
    n->agents[b] = s;
    return s;
}

static struct agent_state *find_state(struct wl_native *n, const char *id)
{
    for (struct agent_state *s = n->agents[bucket_of(id)]; s; s = s->next) {
        if (strcmp(s->id, id) == 0)
            return s;
    }
    return NULL;
}

/* Reads "<global>:<local>:" from the counter file, if there is one. */
static void load_counter(struct wl_native *n)
{
    FILE *fp;
    unsigned global, local;

    if (!n->counter_path)
        return;
    fp = fopen(n->counter_path, "r");
    if (!fp)
        return;
    if (fscanf(fp, "%u:%u:", &global, &local) == 2) {
        n->sender_global = global;
        n->sender_local = local;
    } else {
        wl_log_warn("invalid sender counter in %s; starting from 0",
                    n->counter_path);
    }
    fclose(fp);
}

/* Writes the counter through a temporary file and a rename. */
static void save_counter(struct wl_native *n)
{
    char tmp[4200];
    FILE *fp;

    n->unsaved = 0;
    if (!n->counter_path)
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", n->counter_path);
    fp = fopen(tmp, "w");
    if (!fp) {
        wl_log_limited(WL_LOG_WARN, "native-counter",
                       "cannot write sender counter %s: %s", tmp,
                       strerror(errno));
        return;
    }
    fprintf(fp, "%u:%u:", n->sender_global, n->sender_local);
    if (fclose(fp) != 0 || rename(tmp, n->counter_path) != 0) {
        wl_log_limited(WL_LOG_WARN, "native-counter",
                       "cannot save sender counter %s: %s", n->counter_path,
                       strerror(errno));
        unlink(tmp);
    }
}

/* Advances the sender counter as agents do: local runs 1..9997. */
static void next_counter(struct wl_native *n, unsigned *global, unsigned *local)
{
    if (n->sender_local >= WL_SECURE_LOCAL_MAX) {
        n->sender_local = 0;
        n->sender_global++;
    }
    n->sender_local++;
    *global = n->sender_global;
    *local = n->sender_local;
    if (++n->unsaved >= COUNTER_FLUSH)
        save_counter(n);
}

int wl_native_new(const struct wl_native_options *opt, struct wl_native **out)
{
    struct wl_native *n = calloc(1, sizeof(*n));
    int r = WL_ENOMEM;

    if (!n)
        return WL_ENOMEM;
    pthread_mutex_init(&n->lock, NULL);
    n->scratch = malloc(WL_SECURE_INFLATE_MAX + 1);
    n->line = malloc(WL_MESSAGE_MAX + 1);
    if (!n->scratch || !n->line)
        goto fail;
    if (opt->counter_path) {
        n->counter_path = strdup(opt->counter_path);
        if (!n->counter_path)
            goto fail;
    }
    n->verify_counters = opt->verify_counters;
    n->allow_higher_versions = opt->allow_higher_versions;
    snprintf(n->manager_version, sizeof(n->manager_version), "%s",
             opt->manager_version ? opt->manager_version : WL_CONTROL_VERSION);
    n->on_agent = opt->on_agent;
    n->disconnection_seconds = opt->disconnection_seconds > 0
                                   ? opt->disconnection_seconds
                                   : WL_NATIVE_DISCONNECTED_SECONDS;
    n->on_agent_ctx = opt->on_agent_ctx;

    r = wl_keys_load(&n->keys, opt->keys_path);
    if (r < 0)
        goto fail;
    load_counter(n);
    if (wl_secure_init() < 0)
        wl_log_warn("Blowfish is unavailable: agents using it will be "
                    "rejected");
    wl_log_info("agent keys: %zu agents in %s", n->keys.count, opt->keys_path);
    *out = n;
    return 0;
fail:
    wl_native_free(n);
    return r;
}

void wl_native_free(struct wl_native *n)
{
    if (!n)
        return;
    if (n->unsaved)
        save_counter(n);
    for (size_t b = 0; b < AGENT_BUCKETS; b++) {
        struct agent_state *s = n->agents[b];

        while (s) {
            struct agent_state *next = s->next;

            free(s);
            s = next;
        }
    }
    wl_keys_free(&n->keys);
    if (n->scratch) {
        OPENSSL_cleanse(n->scratch, WL_SECURE_INFLATE_MAX + 1);
        free(n->scratch);
    }
    free(n->line);
    free(n->counter_path);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

void wl_native_result_clear(struct wl_native_result *res)
{
    free(res->reply);
    wl_message_free(res->message);
    memset(res, 0, sizeof(*res));
}

/* Counts a rejection under its code. */
static void count_reject(struct wl_native *n, int code)
{
    if (code <= WL_SECURE_EHEADER && code > WL_SECURE_EHEADER - 15)
        n->stats.rejected[-(code + 100)]++;
    else
        n->stats.rejected_other++;
}

void wl_native_count_reject(struct wl_native *n, int code)
{
    count_reject(n, code);
}

/* Counts and logs a rejected payload; returns code. */
static int reject(struct wl_native *n, const struct wl_native_peer *peer,
                  struct wl_native_result *res, int code, int close,
                  const char *agent, const void *payload, size_t len)
{
    char sample[SAMPLE_BYTES * 4 + 1];

    count_reject(n, code);
    res->error = code;
    res->close = close;
    wl_log_sanitize(sample, sizeof(sample), payload,
                    len < SAMPLE_BYTES ? len : SAMPLE_BYTES);
    /* One rate limit per reason, so a flood of one hides no other. */
    wl_log_limited(WL_LOG_WARN, wl_secure_strerror(code),
                   "agent message from %s (agent %s) rejected: %s; first "
                   "bytes \"%s\"",
                   peer->ip, agent[0] ? agent : "-", wl_secure_strerror(code),
                   sample);
    return code;
}

/* Encrypts a control message for an agent; the lock is held. */
static int encode_locked(struct wl_native *n, enum wl_secure_method method,
                         const char *enc_key, const char *message,
                         unsigned char **out, size_t *out_len)
{
    unsigned char rnd[2];
    unsigned global, local, random;
    size_t cap = strlen(message) + 256;
    unsigned char *buf = malloc(cap);
    int r;

    if (!buf)
        return WL_ENOMEM;
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        memset(rnd, 0, sizeof(rnd));
    random = (unsigned)rnd[0] << 8 | rnd[1];
    next_counter(n, &global, &local);
    r = wl_secure_encode(method, enc_key, NULL, random, global, local, message,
                         strlen(message), buf, cap, out_len);
    if (r < 0) {
        free(buf);
        return r;
    }
    *out = buf;
    n->stats.replies++;
    return 0;
}

int wl_native_encode_for(struct wl_native *n, const char *agent_id,
                         const char *message, unsigned char **out,
                         size_t *out_len)
{
    const struct wl_key_entry *e;
    const struct agent_state *s;
    int r = WL_ENOENT;

    pthread_mutex_lock(&n->lock);
    e = wl_keys_find_id(&n->keys, agent_id);
    if (e) {
        s = find_state(n, agent_id);
        r = encode_locked(n, s ? s->method : WL_SECURE_AES, e->enc_key, message,
                          out, out_len);
    }
    pthread_mutex_unlock(&n->lock);
    return r;
}

/*
 * Finds and copies the key of the payload's agent under the lock.
 * Returns 0 or a WL_SECURE_E* code.
 */
static int identify(struct wl_native *n, struct wl_native_peer *peer,
                    const struct wl_secure_header *h, struct agent_copy *a)
{
    const struct wl_key_entry *e = NULL;
    int r;

    pthread_mutex_lock(&n->lock);
    r = wl_secure_identify(&n->keys, h, peer->ip,
                           peer->agent_id[0] ? peer->agent_id : NULL, &e);
    if (r == 0) {
        memcpy(a->id, e->id, sizeof(a->id));
        memcpy(a->name, e->name, sizeof(a->name));
        memcpy(a->ip, e->ip, sizeof(a->ip));
        memcpy(a->enc_key, e->enc_key, sizeof(a->enc_key));
    }
    pthread_mutex_unlock(&n->lock);
    return r;
}

/*
 * Applies the replay rule and the one-connection-per-agent rule, and
 * records the method. The lock is held. Returns 0 or a rejection code.
 */
static int update_state(struct wl_native *n, struct wl_native_peer *peer,
                        const struct agent_copy *a,
                        const struct wl_secure_header *h,
                        const struct wl_secure_plain *plain, int bind,
                        struct wl_native_result *res)
{
    struct agent_state *s = agent_state(n, a->id);
    time_t now = time(NULL);

    if (!s)
        return WL_ENOMEM;
    /* Any TCP message of an agent bound to another open connection that
     * was active recently is refused; an idle one is taken over. */
    if (peer->connection_id && s->connection_id &&
        s->connection_id != peer->connection_id) {
        if (now - s->last_seen < WL_NATIVE_OVERTAKE_SECONDS)
            return WL_SECURE_EINUSE;
        res->overtaken_connection = s->connection_id;
        s->connection_id = 0;
    }
    if (n->verify_counters) {
        if (wl_secure_check_counter(&s->counter, plain) < 0)
            return WL_SECURE_EREPLAY;
    } else {
        s->counter.global = plain->global;
        s->counter.local = plain->local;
    }
    /* Like remoted, the connection is bound by control messages only. */
    if (peer->connection_id && bind)
        s->connection_id = peer->connection_id;
    s->method = h->method;
    s->last_seen = now;
    s->disconnected = 0;
    if (peer->connection_id)
        snprintf(peer->agent_id, sizeof(peer->agent_id), "%s", a->id);
    return 0;
}

/* Builds the message for analysis from a forward line. */
static int make_message(struct wl_native *n, const struct wl_native_peer *peer,
                        const struct agent_copy *a, const char *text,
                        size_t len, struct wl_native_result *res)
{
    struct wl_key_entry e;
    size_t line_len = 0;
    int r;

    memset(&e, 0, sizeof(e));
    memcpy(e.id, a->id, sizeof(e.id));
    memcpy(e.name, a->name, sizeof(e.name));
    memcpy(e.ip, a->ip, sizeof(e.ip));
    r = wl_secure_forward_line(&e, text, len, n->line, WL_MESSAGE_MAX + 1,
                               &line_len);
    if (r < 0)
        return r;
    res->message = wl_message_new(n->line, line_len);
    if (!res->message)
        return WL_ENOMEM;
    res->message->connection_id = peer->connection_id;
    snprintf(res->message->agent_id, sizeof(res->message->agent_id), "%s",
             a->id);
    /* NOTE: struct wl_message keeps 127 bytes of a 128-byte agent name; the
     * line for analysis has the full name. */
    snprintf(res->message->agent_name, sizeof(res->message->agent_name),
             "%.127s", a->name);
    snprintf(res->message->peer_ip, sizeof(res->message->peer_ip), "%s",
             peer->ip);
    n->stats.events++;
    return 0;
}

static void notify(struct wl_native *n, enum wl_native_agent_event_kind kind,
                   const struct wl_native_peer *peer,
                   const struct agent_copy *a, const char *version,
                   const struct wl_keepalive *ka)
{
    struct wl_native_agent_event ev = {
        .kind = kind,
        .id = a->id,
        .name = a->name,
        .registered_ip = a->ip,
        .peer_ip = peer->ip,
        .version = version ? version : "",
        .keepalive = ka,
    };

    if (n->on_agent)
        n->on_agent(n->on_agent_ctx, &ev);
}

/* Handles a decrypted control message; the lock is not held. */
static int handle_control(struct wl_native *n, struct wl_native_peer *peer,
                          const struct agent_copy *a,
                          const struct wl_secure_header *h,
                          const struct wl_secure_plain *plain,
                          struct wl_native_result *res)
{
    char reply[512];
    char version[64] = "";
    struct wl_keepalive *ka = NULL;
    char stopped[512];
    int r = 0, send = 0;

    n->stats.controls++;
    switch (res->kind) {
    case WL_CONTROL_STARTUP:
        if (wl_control_startup(plain->message, plain->len, n->manager_version,
                               n->allow_higher_versions, version,
                               sizeof(version), reply, sizeof(reply)) == 1) {
            wl_log_info("agent %s (%s) started from %s%s%s", a->id, a->name,
                        peer->ip, version[0] ? ", version " : "", version);
            notify(n, WL_NATIVE_AGENT_STARTUP, peer, a, version, NULL);
        } else {
            wl_log_limited(WL_LOG_WARN, "native-version",
                           "agent %s (%s) startup rejected: %s", a->id, a->name,
                           reply);
        }
        send = 1;
        break;
    case WL_CONTROL_KEEPALIVE:
        ka = malloc(sizeof(*ka));
        if (!ka)
            return WL_ENOMEM;
        if (wl_control_parse_keepalive(plain->message, plain->len, ka) < 0) {
            wl_log_limited(WL_LOG_WARN, "native-keepalive",
                           "invalid keepalive from agent %s (%s): no "
                           "newline; not acknowledged",
                           a->id, a->name);
            break;
        }
        notify(n, WL_NATIVE_AGENT_KEEPALIVE, peer, a, NULL, ka);
        snprintf(reply, sizeof(reply), "%s", WL_CONTROL_ACK);
        send = 1;
        break;
    case WL_CONTROL_SHUTDOWN:
        wl_log_info("agent %s (%s) stopped", a->id, a->name);
        notify(n, WL_NATIVE_AGENT_SHUTDOWN, peer, a, NULL, NULL);
        {
            struct wl_key_entry e;

            memset(&e, 0, sizeof(e));
            memcpy(e.name, a->name, sizeof(e.name));
            memcpy(e.ip, a->ip, sizeof(e.ip));
            r = wl_control_stopped_event(&e, stopped, sizeof(stopped));
        }
        if (r >= 0)
            r = make_message(n, peer, a, stopped, (size_t)r, res);
        break;
    default:
        break; /* request responses are not used by this manager */
    }
    free(ka);
    if (r < 0 || !send)
        return r < 0 ? r : 0;

    pthread_mutex_lock(&n->lock);
    r = encode_locked(n, h->method, a->enc_key, reply, &res->reply,
                      &res->reply_len);
    pthread_mutex_unlock(&n->lock);
    return r;
}

int wl_native_handle(struct wl_native *n, struct wl_native_peer *peer,
                     const void *payload, size_t len,
                     struct wl_native_result *res)
{
    struct wl_secure_header h;
    struct wl_secure_plain plain;
    struct agent_copy a;
    int r;

    memset(res, 0, sizeof(*res));
    memset(&a, 0, sizeof(a));
    if (wl_secure_is_ping(payload, len)) {
        res->reply = (unsigned char *)strdup("#pong");
        if (!res->reply)
            return WL_ENOMEM;
        res->reply_len = 5;
        return 0;
    }
    if (len > WL_SECURE_PAYLOAD_MAX)
        return reject(n, peer, res, WL_SECURE_ETOOBIG, 1, "", payload, len);
    r = wl_secure_parse_header(payload, len, &h);
    if (r < 0)
        return reject(n, peer, res, r, 1, "", payload, len);
    r = identify(n, peer, &h, &a);
    if (r < 0)
        return reject(n, peer, res, r, 1, h.agent_id, payload, len);

    r = wl_secure_decrypt(
        h.method, a.enc_key, (const char *)payload + h.cipher_offset,
        len - h.cipher_offset, n->scratch, WL_SECURE_INFLATE_MAX + 1, &plain);
    if (r < 0)
        goto out;
    res->kind = wl_control_classify(plain.message, plain.len);

    pthread_mutex_lock(&n->lock);
    r = update_state(n, peer, &a, &h, &plain, res->kind != WL_CONTROL_EVENT,
                     res);
    pthread_mutex_unlock(&n->lock);
    if (r < 0)
        goto out;
    n->stats.accepted++;

    if (res->kind == WL_CONTROL_EVENT) {
        r = make_message(n, peer, &a, plain.message, plain.len, res);
        if (r == WL_SECURE_EDROP)
            r = 0;
        else if (r < 0)
            goto out_keep; /* remoted drops it and keeps the connection */
    } else {
        r = handle_control(n, peer, &a, &h, &plain, res);
    }
out_keep:
    if (r < 0 && r != WL_ENOMEM)
        r = reject(n, peer, res, r, 0, a.id, payload, len);
out:
    if (r < 0 && res->error == 0)
        r = reject(n, peer, res, r, 1, a.id, payload, len);
    OPENSSL_cleanse(&a, sizeof(a));
    return r;
}

void wl_native_peer_closed(struct wl_native *n,
                           const struct wl_native_peer *peer)
{
    struct agent_state *s;

    if (!peer->connection_id || !peer->agent_id[0])
        return;
    pthread_mutex_lock(&n->lock);
    s = find_state(n, peer->agent_id);
    if (s && s->connection_id == peer->connection_id)
        s->connection_id = 0;
    pthread_mutex_unlock(&n->lock);
}

int wl_native_reload_keys(struct wl_native *n)
{
    int r;

    pthread_mutex_lock(&n->lock);
    r = wl_keys_reload_if_changed(&n->keys);
    if (r == 1)
        wl_log_info("agent keys reloaded: %zu agents in %s", n->keys.count,
                    n->keys.path);
    else if (r < 0)
        wl_log_limited(WL_LOG_ERROR, "keys-reload",
                       "cannot reload agent keys %s: %s; keeping the "
                       "previous keys",
                       n->keys.path, wl_strerror(r));
    pthread_mutex_unlock(&n->lock);
    return r;
}

struct wl_keystore *wl_native_lock_keys(struct wl_native *n)
{
    pthread_mutex_lock(&n->lock);
    return &n->keys;
}

void wl_native_unlock_keys(struct wl_native *n)
{
    pthread_mutex_unlock(&n->lock);
}

int wl_native_agent_status(void *ctx, const struct wl_key_entry *entry,
                           struct wl_enroll_agent_status *status)
{
    struct wl_native *n = ctx;
    const struct agent_state *s = find_state(n, entry->id);
    time_t now = time(NULL);

    memset(status, 0, sizeof(*status));
    status->date_add = entry->added;
    /* NOTE: agent states live in memory, so after a restart every agent
     * counts as never connected until it sends something. */
    if (!s || s->last_seen == 0) {
        status->connection = WL_ENROLL_NEVER_CONNECTED;
    } else if (now - s->last_seen < n->disconnection_seconds) {
        status->connection = WL_ENROLL_ACTIVE;
    } else {
        status->connection = WL_ENROLL_DISCONNECTED;
        status->disconnection_time = s->last_seen + n->disconnection_seconds;
    }
    return 0;
}

/* At most this many agents are reported per sweep; the rest wait for the
 * next one. */
#define SWEEP_MAX 256

int wl_native_sweep_disconnected(struct wl_native *n)
{
    struct agent_copy found[SWEEP_MAX];
    time_t now = time(NULL);
    int count = 0;

    pthread_mutex_lock(&n->lock);
    for (size_t b = 0; b < AGENT_BUCKETS && count < SWEEP_MAX; b++) {
        for (struct agent_state *s = n->agents[b];
             s != NULL && count < SWEEP_MAX; s = s->next) {
            const struct wl_key_entry *e;

            if (s->last_seen == 0 || s->disconnected ||
                now - s->last_seen < n->disconnection_seconds)
                continue;
            s->disconnected = 1;
            e = wl_keys_find_id(&n->keys, s->id);
            if (e == NULL)
                continue; /* removed agent: nothing left to report */
            snprintf(found[count].id, sizeof(found[count].id), "%s", e->id);
            snprintf(found[count].name, sizeof(found[count].name), "%s",
                     e->name);
            snprintf(found[count].ip, sizeof(found[count].ip), "%s", e->ip);
            count++;
        }
    }
    pthread_mutex_unlock(&n->lock);

    for (int i = 0; i < count && n->on_agent != NULL; i++) {
        struct wl_native_agent_event ev = {
            .kind = WL_NATIVE_AGENT_SHUTDOWN,
            .id = found[i].id,
            .name = found[i].name,
            .registered_ip = found[i].ip,
            .peer_ip = NULL,
            .version = "",
            .keepalive = NULL,
        };

        wl_log_info("agent %s (%s) disconnected: no message for %ld s",
                    found[i].id, found[i].name, n->disconnection_seconds);
        n->on_agent(n->on_agent_ctx, &ev);
    }
    return count;
}

void wl_native_get_stats(struct wl_native *n, struct wl_native_stats *st)
{
    pthread_mutex_lock(&n->lock);
    *st = n->stats;
    pthread_mutex_unlock(&n->lock);
}
