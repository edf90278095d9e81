/*
 * The event loop: listener, connections, TLS over memory BIOs, framing,
 * backpressure and shutdown. Everything here runs on the loop thread
 * except drain_callback(), which analysis threads call.
 */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/server.h"
#include "daemon/error.h"
#include "daemon/frame.h"
#include "daemon/log.h"
#include "daemon/native_io.h"
#include "daemon/tls.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <uv.h>

/* Bytes of a sample quoted in a log line about rejected input. */
#define SAMPLE_BYTES 32

/* Descriptors kept free for the database, logs and key files. */
#define FD_RESERVE 32

/* The protocols that the first bytes of a connection can reveal. */
enum wl_protocol {
    WL_PROTO_NEED_MORE, /* too few bytes to tell */
    WL_PROTO_TLS,
    WL_PROTO_NATIVE, /* Wazuh agent: 4-byte length, "!id!#AES:"... */
    WL_PROTO_UNKNOWN,
};

enum conn_state {
    CONN_CLASSIFY, /* waiting for the first bytes */
    CONN_TLS,
    CONN_NATIVE,
    CONN_CLOSING,
};

struct conn {
    uv_tcp_t handle; /* first member: the handle's address is the conn's */
    struct wl_server *srv;
    struct conn *prev;
    struct conn *next;
    unsigned long long id;
    char peer_ip[64];
    int peer_port;
    char peer[80]; /* "ip:port", "[ip]:port" for IPv6, for log lines */
    enum conn_state state;
    int reading;
    uint64_t accepted_at;        /* uv_now() at accept, in milliseconds */
    uint64_t last_frame_at;      /* uv_now() at the last complete frame */
    unsigned long native_frames; /* frames of the native state seen */
    unsigned char first[8];
    size_t first_len;
    SSL *ssl;
    BIO *rbio; /* network bytes in, owned by ssl */
    BIO *wbio; /* network bytes out, owned by ssl */
    struct wl_frame_reader reader;
    int identified;
    char agent_id[16];
    char agent_name[128];
    unsigned long frames;
    struct wl_native_conn *native; /* state of a native connection */
};

/* A message waiting for room in the pipeline queue. */
struct pending {
    struct wl_message *msg;
    struct pending *next;
};

struct write_req {
    uv_write_t req;
    struct conn *conn;
    size_t len;
    char data[];
};

struct wl_server {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_signal_t signals[3];
    uv_async_t wake;
    uv_timer_t sweep; /* closes connections stuck before TLS is up */
    long handshake_timeout_ms;
    long recv_timeout_ms;
    int max_connections; /* after the open file limit is applied */
    int open_conns;
    int listener_open;
    int signals_open;
    SSL_CTX *tls;
    int mutual_tls;
    struct wl_agentids *agent_ids;
    struct wl_native *native;
    struct wl_native_udp *native_udp;
    struct wl_native_reload *native_reload;
    struct wl_pipeline *pipeline;
    struct conn *conns;
    struct pending *overflow_head;
    struct pending *overflow_tail;
    int paused;
    int stopping;
    unsigned long long next_id;
    struct wl_server_stats stats;
    char listen_name[80]; /* "address:port" for log lines */
    char read_buffer[65536];
    char location[WL_FRAME_MAX + 1];
};

static void conn_close(struct conn *c, enum wl_log_level level,
                       const char *reason);
static void resume_reading(struct wl_server *srv);

/*
 * Logs one line about a connection's life, rate-limited per kind (key) so
 * that a flood of connections cannot flood the log. With debug logging
 * on, every line is written, at DEBUG.
 */
__attribute__((format(printf, 3, 4))) static void
conn_log(enum wl_log_level level, const char *key, const char *fmt, ...)
{
    va_list ap;
    char text[1024];

    if (wl_log_threshold < (int)level)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (wl_log_threshold >= WL_LOG_DEBUG)
        wl_log_write(WL_LOG_DEBUG, "%s", text);
    else
        wl_log_limited(level, key, "%s", text);
}

/*
 * Classifies a new connection by its first bytes. This is the one place
 * that distinguishes protocols: a TLS record starts with the handshake
 * type 0x16 and major version 3. Wazuh's native protocol starts with a
 * 4-byte little-endian length, then "!<id>!", "#AES:" or ":" (see
 * wl_native_detect), and is recognised when native is set.
 */
static enum wl_protocol classify_first_bytes(const unsigned char *p, size_t len,
                                             int native)
{
    int r;

    if (len < 2)
        return WL_PROTO_NEED_MORE;
    if (p[0] == 0x16 && p[1] == 0x03)
        return WL_PROTO_TLS;
    if (!native)
        return WL_PROTO_UNKNOWN;
    r = wl_native_detect(p, len);
    if (r == WL_EAGAIN)
        return WL_PROTO_NEED_MORE;
    return r == 1 ? WL_PROTO_NATIVE : WL_PROTO_UNKNOWN;
}

static void on_close(uv_handle_t *handle)
{
    struct conn *c = (struct conn *)handle;
    struct wl_server *srv = c->srv;

    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->open_conns--;
    SSL_free(c->ssl);
    wl_frame_reader_free(&c->reader);
    wl_native_conn_free(c->native);
    free(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;

    free(req);
    uv_close((uv_handle_t *)&c->handle, on_close);
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *c = w->conn;

    free(w);
    if (status < 0 && status != UV_ECANCELED && c->state != CONN_CLOSING) {
        wl_log_limited(WL_LOG_INFO, "conn-write",
                       "connection %llu from %s: write failed: %s", c->id,
                       c->peer, uv_strerror(status));
        conn_close(c, WL_LOG_DEBUG, "write failed");
    }
}

/* Sends what OpenSSL wrote into the outgoing BIO. Returns 0 or WL_EIO. */
static int flush_tls(struct conn *c)
{
    size_t pending;

    while (c->wbio != NULL && (pending = BIO_ctrl_pending(c->wbio)) > 0) {
        struct write_req *w = malloc(sizeof(*w) + pending);
        uv_buf_t buf;
        int n;

        if (w == NULL)
            wl_fatal_nomem("TLS output");
        n = BIO_read(c->wbio, w->data, (int)pending);
        if (n <= 0) {
            free(w);
            return WL_EIO;
        }
        w->conn = c;
        w->len = (size_t)n;
        buf = uv_buf_init(w->data, (unsigned int)n);
        if (uv_write(&w->req, (uv_stream_t *)&c->handle, &buf, 1, on_write) !=
            0) {
            free(w);
            return WL_EIO;
        }
    }
    return 0;
}

/*
 * Closes a connection once: stops reading, sends what TLS still has to
 * send (an alert or close_notify), then shuts the socket down.
 */
static void conn_close(struct conn *c, enum wl_log_level level,
                       const char *reason)
{
    uv_shutdown_t *req;
    size_t partial;

    if (c->state == CONN_CLOSING)
        return;
    partial = wl_frame_reader_pending(&c->reader);
    if (c->reading)
        uv_read_stop((uv_stream_t *)&c->handle);
    c->reading = 0;
    conn_log(level, "conn-closed",
             "connection %llu from %s (agent %s %s) closed: %s; %lu "
             "frames%s",
             c->id, c->peer, c->identified ? c->agent_id : "-",
             c->identified ? c->agent_name : "-", reason, c->frames,
             partial ? ", an incomplete frame discarded" : "");
    c->state = CONN_CLOSING;
    flush_tls(c);
    req = malloc(sizeof(*req));
    if (req == NULL)
        wl_fatal_nomem("connection close");
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->handle, on_shutdown) != 0) {
        free(req);
        uv_close((uv_handle_t *)&c->handle, on_close);
    }
}

/* Closes a connection for bad input, with a counter and a sample. */
static void conn_reject(struct conn *c, const char *key, const char *reason,
                        const void *sample, size_t sample_len)
{
    char text[SAMPLE_BYTES * 4 + 1];
    char line[512];

    c->srv->stats.rejected++;
    wl_log_sanitize(text, sizeof(text), sample,
                    sample_len < SAMPLE_BYTES ? sample_len : SAMPLE_BYTES);
    wl_log_limited(WL_LOG_WARN, key,
                   "connection %llu from %s (agent %s): %s; first bytes "
                   "\"%s\"",
                   c->id, c->peer, c->identified ? c->agent_id : "-", reason,
                   text);
    snprintf(line, sizeof(line), "rejected input: %s", reason);
    conn_close(c, WL_LOG_DEBUG, line);
}

static void pause_reading(struct wl_server *srv)
{
    if (srv->paused)
        return;
    srv->paused = 1;
    srv->stats.pauses++;
    for (struct conn *c = srv->conns; c != NULL; c = c->next) {
        if (c->reading) {
            uv_read_stop((uv_stream_t *)&c->handle);
            c->reading = 0;
        }
    }
    wl_native_udp_pause(srv->native_udp, 1);
    wl_log_debug("analysis queue full: reading paused");
    if (wl_pipeline_request_drain(srv->pipeline))
        uv_async_send(&srv->wake);
}

static void overflow_push(struct wl_server *srv, struct wl_message *msg)
{
    struct pending *p = malloc(sizeof(*p));

    if (p == NULL)
        wl_fatal_nomem("message overflow");
    p->msg = msg;
    p->next = NULL;
    if (srv->overflow_tail != NULL)
        srv->overflow_tail->next = p;
    else
        srv->overflow_head = p;
    srv->overflow_tail = p;
}

/*
 * Moves held messages into the pipeline, waiting for room when wait is
 * set. Returns 1 when none are left.
 */
static int overflow_flush(struct wl_server *srv, int wait)
{
    while (srv->overflow_head != NULL) {
        struct pending *p = srv->overflow_head;
        int r = wait ? wl_pipeline_submit(srv->pipeline, p->msg)
                     : wl_pipeline_try_submit(srv->pipeline, p->msg);

        if (r == WL_EAGAIN)
            return 0;
        if (r != 0) {
            wl_log_error("analysis queue closed; message from agent %s "
                         "lost",
                         p->msg->agent_id);
            wl_message_free(p->msg);
        }
        srv->overflow_head = p->next;
        if (srv->overflow_head == NULL)
            srv->overflow_tail = NULL;
        free(p);
    }
    return 1;
}

/* Hands a message to the pipeline, keeping it in order when full. */
static void submit(struct wl_server *srv, struct wl_message *msg)
{
    srv->stats.frames++;
    if (srv->overflow_head != NULL ||
        wl_pipeline_try_submit(srv->pipeline, msg) != 0)
        overflow_push(srv, msg);
    if (!srv->paused &&
        (srv->overflow_head != NULL || wl_pipeline_is_high(srv->pipeline)))
        pause_reading(srv);
}

/* Sets the agent id and name of a message (lab mode or certificate). */
static void set_identity(struct conn *c, const struct wl_event_parts *parts,
                         struct wl_message *msg)
{
    if (c->srv->mutual_tls) {
        snprintf(msg->agent_id, sizeof(msg->agent_id), "%s", c->agent_id);
        snprintf(msg->agent_name, sizeof(msg->agent_name), "%s", c->agent_name);
    } else if (parts->has_agent) {
        snprintf(msg->agent_id, sizeof(msg->agent_id), "%s", parts->agent_id);
        snprintf(msg->agent_name, sizeof(msg->agent_name), "%s",
                 parts->agent_name);
    } else {
        snprintf(msg->agent_id, sizeof(msg->agent_id), "000");
        snprintf(msg->agent_name, sizeof(msg->agent_name), "%s", c->peer_ip);
    }
    if (!c->identified) {
        c->identified = 1;
        /* Kept for log lines: a frame's prefix may hold any bytes. */
        wl_log_sanitize(c->agent_id, sizeof(c->agent_id), msg->agent_id,
                        strlen(msg->agent_id));
        wl_log_sanitize(c->agent_name, sizeof(c->agent_name), msg->agent_name,
                        strlen(msg->agent_name));
        wl_log_debug("connection %llu from %s: first event from agent %s "
                     "(%s)",
                     c->id, c->peer, c->agent_id, c->agent_name);
    }
}

/* Checks one frame and submits it. Returns 0, or WL_EINVAL after closing. */
static int handle_frame(struct conn *c, const unsigned char *frame, size_t len)
{
    struct wl_server *srv = c->srv;
    struct wl_event_parts parts;
    struct wl_message *msg;
    const char *reason;
    char text[128];

    if (wl_event_parse(frame, len, srv->location, sizeof(srv->location), &parts,
                       &reason) != 0) {
        srv->stats.frames_rejected++;
        snprintf(text, sizeof(text), "unparsable frame of %zu bytes: %s", len,
                 reason);
        conn_reject(c, "frame-unparsable", text, frame, len);
        return WL_EINVAL;
    }
    for (const char *p = srv->location; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            srv->stats.frames_rejected++;
            snprintf(text, sizeof(text),
                     "control character 0x%02x in the location or agent "
                     "name of a frame",
                     (unsigned char)*p);
            conn_reject(c, "frame-control", text, frame, len);
            return WL_EINVAL;
        }
    }
    msg = wl_message_new(frame, len);
    if (msg == NULL)
        wl_fatal_nomem("message");
    msg->connection_id = c->id;
    snprintf(msg->peer_ip, sizeof(msg->peer_ip), "%s", c->peer_ip);
    set_identity(c, &parts, msg);
    c->frames++;
    c->last_frame_at = uv_now(&srv->loop);
    submit(srv, msg);
    return 0;
}

/* Names the peer from the certificate (mutual TLS). Returns 0 or closes. */
static int identify_peer(struct conn *c)
{
    char name[128];
    int r = wl_tls_peer_name(c->ssl, name, sizeof(name));

    if (r != 0) {
        char reason[256];

        snprintf(reason, sizeof(reason),
                 r == WL_EINVAL ? "certificate common name \"%s\" is not a "
                                  "valid agent name"
                                : "no certificate common name%s",
                 r == WL_EINVAL ? name : "");
        c->srv->stats.rejected++;
        wl_log_limited(WL_LOG_WARN, "tls-no-name",
                       "connection %llu from %s: %s", c->id, c->peer, reason);
        conn_close(c, WL_LOG_DEBUG, reason);
        return WL_EAUTH;
    }
    r = wl_agentids_lookup(c->srv->agent_ids, name, c->agent_id,
                           sizeof(c->agent_id));
    if (r < 0) {
        wl_log_error("connection %llu from %s: cannot give agent %s an "
                     "id: %s",
                     c->id, c->peer, name, wl_strerror(r));
        conn_close(c, WL_LOG_DEBUG, "no agent id");
        return r;
    }
    if (r == 1)
        wl_log_info("new agent %s with id %s", name, c->agent_id);
    snprintf(c->agent_name, sizeof(c->agent_name), "%s", name);
    c->identified = 1;
    wl_agentids_note_ip(c->srv->agent_ids, c->agent_id, name, c->peer_ip);
    return 0;
}

static void tls_failure(struct conn *c, const char *what, int ssl_error)
{
    char text[256];
    char reason[384];

    if (ssl_error == SSL_ERROR_SYSCALL)
        snprintf(text, sizeof(text), "unexpected end of stream");
    else
        wl_tls_error_text(text, sizeof(text));
    snprintf(reason, sizeof(reason), "%s: %s", what, text);
    c->srv->stats.rejected++;
    if (strstr(text, "unsupported protocol") != NULL ||
        strstr(text, "version too low") != NULL) {
        c->srv->stats.old_tls++;
        wl_log_limited(WL_LOG_WARN, "tls-old-version",
                       "connection %llu from %s: %s; TLS 1.2 or later is "
                       "required",
                       c->id, c->peer, reason);
        conn_close(c, WL_LOG_DEBUG, reason);
        return;
    }
    wl_log_limited(WL_LOG_WARN, "tls-failure",
                   "connection %llu from %s (agent %s): %s", c->id, c->peer,
                   c->identified ? c->agent_id : "-", reason);
    conn_close(c, WL_LOG_DEBUG, reason);
}

/* Runs the handshake; returns 1 when done, 0 to wait, -1 after closing. */
static int tls_handshake(struct conn *c)
{
    int r;

    if (SSL_is_init_finished(c->ssl))
        return 1;
    r = SSL_do_handshake(c->ssl);
    if (r != 1) {
        int e = SSL_get_error(c->ssl, r);

        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            flush_tls(c);
            return 0;
        }
        tls_failure(c, "TLS handshake failed", e);
        return -1;
    }
    if (c->srv->mutual_tls && identify_peer(c) != 0)
        return -1;
    if (c->srv->mutual_tls)
        wl_log_debug("connection %llu from %s: %s established, agent %s "
                     "(%s)",
                     c->id, c->peer, SSL_get_version(c->ssl), c->agent_id,
                     c->agent_name);
    else
        wl_log_debug("connection %llu from %s: %s established (lab mode)",
                     c->id, c->peer, SSL_get_version(c->ssl));
    return 1;
}

/* Decrypts what is buffered and cuts it into frames. */
static void tls_read_frames(struct conn *c)
{
    for (;;) {
        unsigned char *buf;
        size_t room;
        int n;
        int r;

        wl_frame_reader_space(&c->reader, &buf, &room);
        n = SSL_read(c->ssl, buf, (int)room);
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);

            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                break;
            if (e == SSL_ERROR_ZERO_RETURN) {
                SSL_shutdown(c->ssl);
                conn_close(c, WL_LOG_INFO, "closed by the peer");
            } else {
                tls_failure(c, "TLS read failed", e);
            }
            return;
        }
        r = wl_frame_reader_commit(&c->reader, (size_t)n);
        if (r == WL_EAGAIN)
            continue;
        if (r == WL_ENOMEM)
            wl_fatal_nomem("frame buffer");
        if (r == WL_ERANGE) {
            char reason[96];
            uint32_t length = c->reader.bad_length;

            c->srv->stats.frames_rejected++;
            snprintf(reason, sizeof(reason), "%s frame length %u",
                     length == 0 ? "zero" : "oversized", length);
            conn_reject(c, length == 0 ? "frame-zero" : "frame-oversized",
                        reason, c->reader.header, WL_FRAME_HEADER);
            return;
        }
        {
            size_t len;
            const unsigned char *frame =
                wl_frame_reader_frame(&c->reader, &len);

            if (handle_frame(c, frame, len) != 0)
                return;
        }
    }
    flush_tls(c);
}

static void tls_input(struct conn *c, const void *data, size_t len)
{
    int r;

    if (BIO_write(c->rbio, data, (int)len) != (int)len) {
        tls_failure(c, "TLS input buffer", SSL_ERROR_SSL);
        return;
    }
    r = tls_handshake(c);
    if (r <= 0)
        return;
    tls_read_frames(c);
}

static int tls_start(struct conn *c)
{
    c->ssl = SSL_new(c->srv->tls);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->rbio = c->wbio = NULL;
        return WL_ENOMEM;
    }
    /* Reading an empty memory BIO means "wait", not end of stream. */
    BIO_set_mem_eof_return(c->rbio, -1);
    BIO_set_mem_eof_return(c->wbio, -1);
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
    c->state = CONN_TLS;
    return 0;
}

/* Sends a native reply frame as is (native_io callback). */
static int native_write(void *ctx, const void *data, size_t len)
{
    struct conn *c = ctx;
    struct write_req *w = malloc(sizeof(*w) + len);
    uv_buf_t buf;

    if (w == NULL)
        wl_fatal_nomem("native reply");
    memcpy(w->data, data, len);
    w->conn = c;
    w->len = len;
    buf = uv_buf_init(w->data, (unsigned int)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->handle, &buf, 1, on_write) != 0) {
        free(w);
        return WL_EIO;
    }
    return 0;
}

/* Hands a decoded native event to the pipeline (native_io callback). */
static void native_submit(void *ctx, struct wl_message *msg)
{
    struct conn *c = ctx;

    if (!c->identified) {
        c->identified = 1;
        snprintf(c->agent_id, sizeof(c->agent_id), "%s", msg->agent_id);
        snprintf(c->agent_name, sizeof(c->agent_name), "%s", msg->agent_name);
    }
    c->frames++;
    submit(c->srv, msg);
}

/* Submits a decoded UDP event (native_io callback). */
static void native_udp_submit(void *ctx, struct wl_message *msg)
{
    submit(ctx, msg);
}

/* Closes the older connection of an agent that reconnected. */
static void native_close_connection(void *ctx, uint64_t connection_id)
{
    struct conn *self = ctx;

    for (struct conn *c = self->srv->conns; c != NULL; c = c->next) {
        if (c->id == connection_id && c != self) {
            conn_close(c, WL_LOG_INFO,
                       "agent reconnected on a new "
                       "connection");
            return;
        }
    }
}

static void native_input(struct conn *c, const void *data, size_t len)
{
    const struct wl_native_io io = {native_write, native_submit,
                                    native_close_connection, c};
    int r = wl_native_conn_input(c->native, data, len, &io);

    if (r < 0) {
        char reason[160];

        snprintf(reason, sizeof(reason), "agent protocol error: %s",
                 wl_secure_strerror(r));
        c->srv->stats.rejected++;
        conn_close(c, WL_LOG_DEBUG, reason);
        return;
    }
    if (wl_native_conn_frames(c->native) != c->native_frames) {
        c->native_frames = wl_native_conn_frames(c->native);
        c->last_frame_at = uv_now(&c->srv->loop);
    }
    if (!c->identified && wl_native_conn_agent(c->native)[0]) {
        c->identified = 1;
        snprintf(c->agent_id, sizeof(c->agent_id), "%s",
                 wl_native_conn_agent(c->native));
        snprintf(c->agent_name, sizeof(c->agent_name), "-");
    }
}

static void native_start(struct conn *c, const char *data, size_t len)
{
    c->native = wl_native_conn_new(c->srv->native, c->id, c->peer_ip);
    if (c->native == NULL)
        wl_fatal_nomem("native connection");
    c->state = CONN_NATIVE;
    native_input(c, c->first, c->first_len);
    if (c->state == CONN_NATIVE && len > 0)
        native_input(c, data, len);
}

/* Collects the first bytes and hands the connection to its protocol. */
static void classify_input(struct conn *c, const char *data, size_t len)
{
    size_t take = sizeof(c->first) - c->first_len;
    enum wl_protocol proto;
    char reason[64];

    if (take > len)
        take = len;
    memcpy(c->first + c->first_len, data, take);
    c->first_len += take;
    proto =
        classify_first_bytes(c->first, c->first_len, c->srv->native != NULL);
    switch (proto) {
    case WL_PROTO_NEED_MORE:
        return;
    case WL_PROTO_TLS:
        if (tls_start(c) != 0) {
            wl_log_error("connection %llu from %s: out of memory for "
                         "TLS",
                         c->id, c->peer);
            conn_close(c, WL_LOG_DEBUG, "out of memory");
            return;
        }
        tls_input(c, c->first, c->first_len);
        if (c->state == CONN_TLS && len > take)
            tls_input(c, data + take, len - take);
        return;
    case WL_PROTO_NATIVE:
        native_start(c, data + take, len - take);
        return;
    case WL_PROTO_UNKNOWN:
        snprintf(reason, sizeof(reason), "not a TLS connection");
        conn_reject(c, "not-tls", reason, c->first, c->first_len);
        return;
    }
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = (struct conn *)handle;

    /* One buffer serves every connection: on_read consumes it at once. */
    *buf = uv_buf_init(c->srv->read_buffer, sizeof(c->srv->read_buffer));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = (struct conn *)stream;

    if (nread == 0 || c->state == CONN_CLOSING)
        return;
    if (nread < 0) {
        if (nread == UV_EOF)
            conn_close(c, WL_LOG_INFO, "end of stream");
        else
            conn_close(c, WL_LOG_INFO, uv_strerror((int)nread));
        return;
    }
    c->srv->stats.bytes += (unsigned long long)nread;
    if (c->state == CONN_CLASSIFY)
        classify_input(c, buf->base, (size_t)nread);
    else if (c->state == CONN_NATIVE)
        native_input(c, buf->base, (size_t)nread);
    else
        tls_input(c, buf->base, (size_t)nread);
}

static void start_reading(struct conn *c)
{
    if (c->reading || c->state == CONN_CLOSING)
        return;
    if (uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read) == 0)
        c->reading = 1;
    else
        conn_close(c, WL_LOG_INFO, "cannot read from the socket");
}

static void describe_peer(struct conn *c)
{
    struct sockaddr_storage addr;
    int len = sizeof(addr);

    snprintf(c->peer_ip, sizeof(c->peer_ip), "unknown");
    snprintf(c->peer, sizeof(c->peer), "unknown");
    if (uv_tcp_getpeername(&c->handle, (struct sockaddr *)&addr, &len) != 0)
        return;
    if (addr.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&addr;

        uv_ip4_name(in, c->peer_ip, sizeof(c->peer_ip));
        c->peer_port = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr;

        uv_ip6_name(in6, c->peer_ip, sizeof(c->peer_ip));
        c->peer_port = ntohs(in6->sin6_port);
    }
    snprintf(c->peer, sizeof(c->peer),
             strchr(c->peer_ip, ':') ? "[%s]:%d" : "%s:%d", c->peer_ip,
             c->peer_port);
}

static void on_connection(uv_stream_t *listener, int status)
{
    struct wl_server *srv = listener->data;
    struct conn *c;

    if (status < 0) {
        /* libuv already closed the pending connections it could not
         * accept (EMFILE, ENFILE) with its reserved descriptor. */
        srv->stats.accept_errors++;
        wl_log_limited(WL_LOG_WARN, "accept",
                       "cannot accept a connection on %s: %s; %d open "
                       "(raise the open file limit or lower "
                       "<remote><max_connections>)",
                       srv->listen_name, uv_strerror(status), srv->open_conns);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || wl_frame_reader_init(&c->reader) != 0)
        wl_fatal_nomem("connection");
    srv->open_conns++;
    c->srv = srv;
    uv_tcp_init(&srv->loop, &c->handle);
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    c->state = CONN_CLASSIFY;
    c->id = ++srv->next_id;
    c->accepted_at = uv_now(&srv->loop);
    c->last_frame_at = c->accepted_at;
    if (uv_accept(listener, (uv_stream_t *)&c->handle) != 0) {
        wl_log_limited(WL_LOG_WARN, "accept", "accept failed");
        c->state = CONN_CLOSING;
        uv_close((uv_handle_t *)&c->handle, on_close);
        return;
    }
    srv->stats.connections++;
    describe_peer(c);
    uv_tcp_nodelay(&c->handle, 1);
    if (srv->max_connections > 0 && srv->open_conns > srv->max_connections) {
        srv->stats.over_limit++;
        wl_log_limited(WL_LOG_WARN, "conn-limit",
                       "connection %llu from %s refused: %d connections "
                       "open, the limit (<remote><max_connections>)",
                       c->id, c->peer, srv->max_connections);
        conn_close(c, WL_LOG_DEBUG, "too many connections");
        return;
    }
    conn_log(WL_LOG_INFO, "conn-accepted", "connection %llu from %s accepted",
             c->id, c->peer);
    if (!srv->paused)
        start_reading(c);
}

/*
 * Closes a connection that has completed no frame for recv_timeout_ms
 * (idle, or holding part of a frame). Returns 1 when it did.
 */
static int close_if_stalled(struct wl_server *srv, struct conn *c, uint64_t now)
{
    char reason[128];

    if (srv->recv_timeout_ms <= 0 || srv->stopping ||
        now - c->last_frame_at < (uint64_t)srv->recv_timeout_ms)
        return 0;
    srv->stats.timeouts++;
    snprintf(reason, sizeof(reason),
             "no complete frame for %ld s (<remote><recv_timeout>)",
             srv->recv_timeout_ms / 1000);
    wl_log_limited(WL_LOG_WARN, "recv-timeout",
                   "connection %llu from %s (agent %s): %s", c->id, c->peer,
                   c->identified ? c->agent_id : "-", reason);
    conn_close(c, WL_LOG_DEBUG, reason);
    return 1;
}

/*
 * Closes connections whose TLS handshake did not finish in time, so that
 * a client that connects and stays silent does not hold a socket forever,
 * and established ones that stopped sending whole frames. Reports the
 * log lines that rate limiting held back.
 */
static void on_sweep(uv_timer_t *timer)
{
    struct wl_server *srv = timer->data;
    uint64_t now = uv_now(&srv->loop);
    struct conn *next;

    wl_log_flush_limited(0);
    for (struct conn *c = srv->conns; c != NULL; c = next) {
        next = c->next;
        if (c->state == CONN_CLOSING)
            continue;
        /* A paused connection is not read: its silence is ours. */
        if (srv->paused)
            c->last_frame_at = now;
        if (c->state == CONN_NATIVE ||
            (c->ssl != NULL && SSL_is_init_finished(c->ssl))) {
            close_if_stalled(srv, c, now);
            continue;
        }
        if (now - c->accepted_at < (uint64_t)srv->handshake_timeout_ms)
            continue;
        srv->stats.rejected++;
        wl_log_limited(WL_LOG_WARN, "handshake-timeout",
                       "connection %llu from %s: TLS handshake timed out "
                       "after %ld ms",
                       c->id, c->peer, srv->handshake_timeout_ms);
        conn_close(c, WL_LOG_DEBUG, "TLS handshake timed out");
    }
}

/*
 * Reads what the kernel has already received for c, without waiting, so
 * that a stop keeps every frame that reached this host. Reading pauses
 * do not apply: the loop is about to end.
 */
static void read_received_bytes(struct conn *c)
{
    struct wl_server *srv = c->srv;
    uv_os_fd_t fd;

    if (uv_fileno((uv_handle_t *)&c->handle, &fd) != 0)
        return;
    while (c->state != CONN_CLOSING) {
        ssize_t n =
            recv(fd, srv->read_buffer, sizeof(srv->read_buffer), MSG_DONTWAIT);

        if (n == 0)
            conn_close(c, WL_LOG_INFO, "end of stream");
        if (n <= 0)
            return;
        srv->stats.bytes += (unsigned long long)n;
        if (c->state == CONN_CLASSIFY)
            classify_input(c, srv->read_buffer, (size_t)n);
        else if (c->state == CONN_NATIVE)
            native_input(c, srv->read_buffer, (size_t)n);
        else
            tls_input(c, srv->read_buffer, (size_t)n);
    }
}

static void on_signal(uv_signal_t *handle, int signum)
{
    struct wl_server *srv = handle->data;

    if (signum == SIGHUP) {
        wl_log_info("received SIGHUP; reloading is not supported, ignored");
        return;
    }
    wl_log_info("received %s", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    if (srv->stopping)
        return;
    srv->stopping = 1;
    wl_log_info("stopping: no new connections, finishing received frames");
    if (srv->listener_open) {
        uv_close((uv_handle_t *)&srv->listener, NULL);
        srv->listener_open = 0;
    }
    for (struct conn *c = srv->conns; c != NULL; c = c->next) {
        read_received_bytes(c);
        conn_close(c, WL_LOG_INFO, "daemon stopping");
    }
    /* Every complete frame read so far goes to analysis. */
    overflow_flush(srv, 1);
    wl_native_udp_stop(srv->native_udp);
    srv->native_udp = NULL;
    wl_native_reload_stop(srv->native_reload);
    srv->native_reload = NULL;
    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&srv->signals[i], NULL);
    srv->signals_open = 0;
    uv_close((uv_handle_t *)&srv->sweep, NULL);
}

static void resume_reading(struct wl_server *srv)
{
    srv->paused = 0;
    wl_log_debug("analysis queue drained: reading resumed");
    for (struct conn *c = srv->conns; c != NULL; c = c->next)
        start_reading(c);
    wl_native_udp_pause(srv->native_udp, 0);
}

/* Runs on the loop thread after a worker reported the queue low. */
static void on_wake(uv_async_t *handle)
{
    struct wl_server *srv = handle->data;

    if (!srv->paused || srv->stopping)
        return;
    if (!overflow_flush(srv, 0) || wl_pipeline_is_high(srv->pipeline)) {
        if (wl_pipeline_request_drain(srv->pipeline))
            uv_async_send(&srv->wake);
        return;
    }
    resume_reading(srv);
}

static void drain_callback(void *arg)
{
    struct wl_server *srv = arg;

    uv_async_send(&srv->wake);
}

void wl_server_drain_callback(struct wl_server *srv,
                              void (**callback)(void *arg), void **arg)
{
    *callback = drain_callback;
    *arg = srv;
}

void wl_server_set_pipeline(struct wl_server *srv, struct wl_pipeline *p)
{
    srv->pipeline = p;
}

static int listen_on(struct wl_server *srv, const struct wl_server_options *opt,
                     char *err, size_t err_size)
{
    struct sockaddr_storage addr;
    const char *where = srv->listen_name;
    int r;

    if (strchr(opt->address, ':') != NULL)
        r = uv_ip6_addr(opt->address, opt->port, (struct sockaddr_in6 *)&addr);
    else
        r = uv_ip4_addr(opt->address, opt->port, (struct sockaddr_in *)&addr);
    if (r != 0) {
        snprintf(err, err_size, "invalid listen address %s", opt->address);
        return WL_EINVAL;
    }
    uv_tcp_init(&srv->loop, &srv->listener);
    srv->listener.data = srv;
    srv->listener_open = 1;
    r = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&srv->listener, 511, on_connection);
    if (r != 0) {
        if (r == UV_EADDRINUSE)
            snprintf(err, err_size,
                     "cannot listen on %s: address already in use "
                     "(EADDRINUSE); is another wazlabd running?",
                     where);
        else
            snprintf(err, err_size, "cannot listen on %s: %s", where,
                     uv_strerror(r));
        return r == UV_EADDRINUSE ? WL_EBUSY : WL_EIO;
    }
    return 0;
}

/* Starts the UDP side and the key reload timer of the agent protocol. */
static int start_native(struct wl_server *srv,
                        const struct wl_server_options *opt, char *err,
                        size_t err_size)
{
    int r;

    srv->native = opt->native;
    if (srv->native == NULL)
        return 0;
    r = wl_native_reload_start(&srv->loop, srv->native, WL_NATIVE_RELOAD_MS,
                               &srv->native_reload);
    if (r != 0) {
        snprintf(err, err_size, "out of memory");
        return r;
    }
    if (!opt->native_udp)
        return 0;
    return wl_native_udp_start(&srv->loop, opt->address, opt->port, srv->native,
                               native_udp_submit, srv, &srv->native_udp, err,
                               err_size);
}

/*
 * Returns the connection limit: the one asked for (0: none), lowered so
 * that the open file limit keeps FD_RESERVE descriptors for the rest of
 * the daemon; a connection over it is closed at once, with a log line,
 * rather than left for accept() to fail on.
 */
static int connection_limit(int wanted)
{
    struct rlimit rl;
    long room;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return wanted;
    room = (long)rl.rlim_cur - FD_RESERVE;
    if (room < 1)
        room = 1;
    if (wanted > 0 && wanted <= room)
        return wanted;
    if (wanted > 0)
        wl_log_warn("<remote><max_connections> %d lowered to %ld: the open "
                    "file limit is %llu",
                    wanted, room, (unsigned long long)rl.rlim_cur);
    return room > 0x7fffffffL ? 0x7fffffff : (int)room;
}

int wl_server_new(const struct wl_server_options *opt, struct wl_server **out,
                  char *err, size_t err_size)
{
    static const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    struct wl_server *srv = calloc(1, sizeof(*srv));
    int r;

    if (srv == NULL) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    if (uv_loop_init(&srv->loop) != 0) {
        snprintf(err, err_size, "cannot create the event loop");
        free(srv);
        return WL_EIO;
    }
    srv->tls = opt->tls;
    srv->mutual_tls = opt->mutual_tls;
    srv->agent_ids = opt->agent_ids;
    snprintf(srv->listen_name, sizeof(srv->listen_name),
             strchr(opt->address, ':') ? "[%s]:%d" : "%s:%d", opt->address,
             opt->port);
    uv_async_init(&srv->loop, &srv->wake, on_wake);
    srv->wake.data = srv;
    /* The wake handle lives until wl_server_free, without keeping
     * wl_server_run going. */
    uv_unref((uv_handle_t *)&srv->wake);
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&srv->loop, &srv->signals[i]);
        srv->signals[i].data = srv;
        uv_signal_start(&srv->signals[i], on_signal, signums[i]);
    }
    srv->signals_open = 1;
    srv->handshake_timeout_ms = opt->handshake_timeout_ms;
    srv->recv_timeout_ms = opt->recv_timeout_ms;
    srv->max_connections = connection_limit(opt->max_connections);
    uv_timer_init(&srv->loop, &srv->sweep);
    srv->sweep.data = srv;
    uv_timer_start(&srv->sweep, on_sweep, 1000, 1000);
    r = listen_on(srv, opt, err, err_size);
    if (r == 0)
        r = start_native(srv, opt, err, err_size);
    if (r != 0) {
        wl_server_free(srv);
        return r;
    }
    wl_log_info("listening on %s (TLS, %s%s)", srv->listen_name,
                opt->mutual_tls ? "client certificates required"
                                : "lab mode: no client certificates",
                opt->native ? "; Wazuh agent protocol too" : "");
    *out = srv;
    return 0;
}

void wl_server_run(struct wl_server *srv)
{
    uv_run(&srv->loop, UV_RUN_DEFAULT);
}

void wl_server_get_stats(const struct wl_server *srv,
                         struct wl_server_stats *stats)
{
    *stats = srv->stats;
}

static void close_any(uv_handle_t *handle, void *arg)
{
    if (!uv_is_closing(handle))
        uv_close(handle, handle->type == UV_TCP && handle != (uv_handle_t *)arg
                             ? on_close
                             : NULL);
}

void wl_server_free(struct wl_server *srv)
{
    if (srv == NULL)
        return;
    /* Close whatever is left (after an early failure), then let the
     * close callbacks run so that the loop can be closed. */
    wl_native_udp_stop(srv->native_udp);
    wl_native_reload_stop(srv->native_reload);
    uv_walk(&srv->loop, close_any, &srv->listener);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    while (srv->overflow_head != NULL) {
        struct pending *p = srv->overflow_head;

        srv->overflow_head = p->next;
        wl_message_free(p->msg);
        free(p);
    }
    if (uv_loop_close(&srv->loop) != 0)
        wl_log_error("event loop closed with open handles");
    free(srv);
    /* Analysis has stopped (the pipeline goes first): report what the
     * rate limits held back. */
    wl_log_flush_limited(1);
}
