/* Native agent protocol over libuv: TCP frames, UDP datagrams, reload. */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/native_io.h"

#include "daemon/error.h"
#include "daemon/log.h"
#include "daemon/secure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_BUFFER (WL_SECURE_FRAME_HEADER + WL_SECURE_PAYLOAD_MAX)

/* Close callback of handles that are the first member of a malloc'd
 * struct. */
static void free_handle(uv_handle_t *handle)
{
    free(handle);
}

struct wl_native_conn {
    struct wl_native *native;
    struct wl_native_peer peer;
    unsigned char *buf; /* CONN_BUFFER bytes */
    size_t used;
    unsigned long frames; /* whole frames received */
};

int wl_native_detect(const void *first, size_t len)
{
    const unsigned char *p = first;
    uint32_t size;

    if (len < WL_SECURE_FRAME_HEADER + 1)
        return WL_EAGAIN;
    size = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
    if (size == 0 || size > WL_SECURE_PAYLOAD_MAX)
        return 0;
    return p[4] == '!' || p[4] == '#' || p[4] == ':';
}

struct wl_native_conn *wl_native_conn_new(struct wl_native *n,
                                          uint64_t connection_id,
                                          const char *peer_ip)
{
    struct wl_native_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->buf = malloc(CONN_BUFFER);
    if (!c->buf) {
        free(c);
        return NULL;
    }
    c->native = n;
    c->peer.connection_id = connection_id;
    snprintf(c->peer.ip, sizeof(c->peer.ip), "%s", peer_ip);
    return c;
}

unsigned long wl_native_conn_frames(const struct wl_native_conn *c)
{
    return c->frames;
}

const char *wl_native_conn_agent(const struct wl_native_conn *c)
{
    return c->peer.agent_id;
}

void wl_native_conn_free(struct wl_native_conn *c)
{
    if (!c)
        return;
    if (c->used > 0) {
        wl_native_count_reject(c->native, WL_SECURE_EPARTIAL);
        wl_log_limited(WL_LOG_WARN, "native-partial",
                       "agent connection from %s (agent %s) closed inside a "
                       "frame; %zu bytes discarded",
                       c->peer.ip, c->peer.agent_id[0] ? c->peer.agent_id : "-",
                       c->used);
    }
    wl_native_peer_closed(c->native, &c->peer);
    free(c->buf);
    free(c);
}

/* Writes a reply payload with its length prefix. */
static int send_reply(const struct wl_native_io *io,
                      const struct wl_native_result *res)
{
    unsigned char *frame = malloc(WL_SECURE_FRAME_HEADER + res->reply_len);
    int r;

    if (!frame)
        return WL_ENOMEM;
    wl_secure_frame_header(res->reply_len, frame);
    memcpy(frame + WL_SECURE_FRAME_HEADER, res->reply, res->reply_len);
    r = io->write(io->ctx, frame, WL_SECURE_FRAME_HEADER + res->reply_len);
    free(frame);
    return r;
}

/* Handles one payload and applies its result. */
static int handle_payload(struct wl_native_conn *c, const unsigned char *p,
                          size_t len, const struct wl_native_io *io)
{
    struct wl_native_result res;
    int r;

    wl_native_handle(c->native, &c->peer, p, len, &res);
    if (res.overtaken_connection && io->close_connection)
        io->close_connection(io->ctx, res.overtaken_connection);
    if (res.reply && send_reply(io, &res) < 0)
        res.close = 1;
    if (res.message) {
        io->submit(io->ctx, res.message);
        res.message = NULL;
    }
    r = 0;
    if (res.close)
        r = res.error < 0 ? res.error : WL_EIO;
    wl_native_result_clear(&res);
    return r;
}

int wl_native_conn_input(struct wl_native_conn *c, const void *data, size_t len,
                         const struct wl_native_io *io)
{
    const unsigned char *in = data;

    while (len > 0) {
        size_t take = CONN_BUFFER - c->used;
        size_t start = 0, payload_len = 0;
        int r;

        if (take > len)
            take = len;
        memcpy(c->buf + c->used, in, take);
        c->used += take;
        in += take;
        len -= take;

        /* Handle every whole frame in the buffer. */
        while ((r = wl_secure_frame_parse(c->buf + start, c->used - start,
                                          &payload_len)) == 0) {
            c->frames++;
            r = handle_payload(c, c->buf + start + WL_SECURE_FRAME_HEADER,
                               payload_len, io);
            if (r < 0) {
                c->used = 0; /* counted already, not a cut-short frame */
                return r;
            }
            start += WL_SECURE_FRAME_HEADER + payload_len;
        }
        if (r != WL_EAGAIN) {
            wl_native_count_reject(c->native, r);
            wl_log_limited(WL_LOG_WARN, "native-frame",
                           "agent connection from %s (agent %s): frame "
                           "length over %d bytes; closing",
                           c->peer.ip,
                           c->peer.agent_id[0] ? c->peer.agent_id : "-",
                           WL_SECURE_PAYLOAD_MAX);
            c->used = 0;
            return r;
        }
        memmove(c->buf, c->buf + start, c->used - start);
        c->used -= start;
    }
    return 0;
}

struct wl_native_udp {
    uv_udp_t handle; /* first member, so the handle's address is ours */
    struct wl_native *native;
    void (*submit)(void *ctx, struct wl_message *msg);
    void *ctx;
    int port;
    char buf[WL_SECURE_PAYLOAD_MAX + 1];
};

/* A reply datagram in flight. */
struct udp_send {
    uv_udp_send_t req;
    size_t len;
    char data[];
};

static void on_udp_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct wl_native_udp *u = (struct wl_native_udp *)handle;

    (void)suggested;
    buf->base = u->buf;
    buf->len = sizeof(u->buf);
}

static void on_udp_sent(uv_udp_send_t *req, int status)
{
    if (status < 0)
        wl_log_limited(WL_LOG_WARN, "native-udp-send",
                       "cannot send a UDP reply to an agent: %s",
                       uv_strerror(status));
    free(req);
}

static void udp_reply(struct wl_native_udp *u, const struct sockaddr *to,
                      const struct wl_native_result *res)
{
    struct udp_send *s = malloc(sizeof(*s) + res->reply_len);
    uv_buf_t b;

    if (!s)
        return;
    memcpy(s->data, res->reply, res->reply_len);
    s->len = res->reply_len;
    b = uv_buf_init(s->data, (unsigned)s->len);
    if (uv_udp_send(&s->req, &u->handle, &b, 1, to, on_udp_sent) != 0)
        free(s);
}

static void on_udp_recv(uv_udp_t *handle, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *addr, unsigned flags)
{
    struct wl_native_udp *u = (struct wl_native_udp *)handle;
    struct wl_native_peer peer = {0};
    struct wl_native_result res;

    if (nread <= 0 || !addr)
        return;
    if (flags & UV_UDP_PARTIAL) {
        wl_log_limited(WL_LOG_WARN, "native-udp-partial",
                       "UDP datagram over %d bytes dropped",
                       WL_SECURE_PAYLOAD_MAX);
        return;
    }
    if (addr->sa_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)addr, peer.ip, sizeof(peer.ip));
    else
        uv_ip6_name((const struct sockaddr_in6 *)addr, peer.ip,
                    sizeof(peer.ip));

    wl_native_handle(u->native, &peer, buf->base, (size_t)nread, &res);
    if (res.reply)
        udp_reply(u, addr, &res);
    if (res.message) {
        u->submit(u->ctx, res.message);
        res.message = NULL;
    }
    wl_native_result_clear(&res);
}

int wl_native_udp_start(uv_loop_t *loop, const char *address, int port,
                        struct wl_native *n,
                        void (*submit)(void *ctx, struct wl_message *msg),
                        void *ctx, struct wl_native_udp **out, char *err,
                        size_t err_size)
{
    struct wl_native_udp *u = calloc(1, sizeof(*u));
    struct sockaddr_storage ss;
    int namelen = sizeof(ss);
    int r;

    if (!u) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    if (uv_ip4_addr(address, port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(address, port, (struct sockaddr_in6 *)&ss) != 0) {
        snprintf(err, err_size, "invalid UDP address '%s'", address);
        free(u);
        return WL_EINVAL;
    }
    u->native = n;
    u->submit = submit;
    u->ctx = ctx;
    uv_udp_init(loop, &u->handle);
    r = uv_udp_bind(&u->handle, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_udp_recv_start(&u->handle, on_udp_alloc, on_udp_recv);
    if (r != 0) {
        snprintf(err, err_size, "cannot listen on UDP %s port %d: %s", address,
                 port, uv_strerror(r));
        uv_close((uv_handle_t *)&u->handle, free_handle);
        return r == UV_EADDRINUSE ? WL_EBUSY : WL_EIO;
    }
    uv_udp_getsockname(&u->handle, (struct sockaddr *)&ss, &namelen);
    u->port = ntohs(ss.ss_family == AF_INET
                        ? ((struct sockaddr_in *)&ss)->sin_port
                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
    wl_log_info("native agent protocol listening on UDP %s port %d", address,
                u->port);
    *out = u;
    return 0;
}

int wl_native_udp_port(const struct wl_native_udp *u)
{
    return u->port;
}

void wl_native_udp_pause(struct wl_native_udp *u, int paused)
{
    if (!u)
        return;
    if (paused)
        uv_udp_recv_stop(&u->handle);
    else
        uv_udp_recv_start(&u->handle, on_udp_alloc, on_udp_recv);
}

void wl_native_udp_stop(struct wl_native_udp *u)
{
    if (!u)
        return;
    uv_udp_recv_stop(&u->handle);
    uv_close((uv_handle_t *)&u->handle, free_handle);
}

struct wl_native_reload {
    uv_timer_t timer; /* first member */
    struct wl_native *native;
};

static void on_reload(uv_timer_t *timer)
{
    struct wl_native_reload *t = (struct wl_native_reload *)timer;

    wl_native_reload_keys(t->native);
    wl_native_sweep_disconnected(t->native);
}

int wl_native_reload_start(uv_loop_t *loop, struct wl_native *n,
                           unsigned interval_ms, struct wl_native_reload **out)
{
    struct wl_native_reload *t = calloc(1, sizeof(*t));

    if (!t)
        return WL_ENOMEM;
    t->native = n;
    uv_timer_init(loop, &t->timer);
    uv_timer_start(&t->timer, on_reload, interval_ms, interval_ms);
    uv_unref((uv_handle_t *)&t->timer);
    *out = t;
    return 0;
}

void wl_native_reload_stop(struct wl_native_reload *t)
{
    if (!t)
        return;
    uv_timer_stop(&t->timer);
    uv_close((uv_handle_t *)&t->timer, free_handle);
}
