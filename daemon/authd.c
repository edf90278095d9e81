/* The enrollment service: TLS on port 1515, one request per connection. */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/authd.h"
#include "daemon/tls.h"

#include "daemon/error.h"
#include "daemon/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#define DEFAULT_MAX_CLIENTS 64
#define DEFAULT_TIMEOUT_MS 10000

struct wl_authd {
    int listen_fd;
    int stop_pipe[2];
    int port;
    pthread_t acceptor;
    int acceptor_started;
    struct wl_authd_options opt;
    pthread_mutex_t lock; /* active, stats */
    pthread_cond_t idle;
    int active;
    struct wl_authd_stats stats;
};

struct client {
    struct wl_authd *authd;
    int fd;
    char ip[64];
};

int wl_authd_tls_new(const char *cert_file, const char *key_file, SSL_CTX **out,
                     char *err, size_t err_size)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char text[256] = "";

    if (ctx)
        wl_tls_no_passphrase(ctx);
    if (!ctx) {
        snprintf(err, err_size, "cannot create a TLS context");
        return WL_ETLS;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_set_cipher_list(ctx, WL_AUTHD_CIPHERS) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ERR_error_string_n(ERR_get_error(), text, sizeof(text));
        snprintf(err, err_size,
                 "cannot load enrollment certificate %s and key %s: %s",
                 cert_file, key_file, text);
        SSL_CTX_free(ctx);
        return WL_ETLS;
    }
    *out = ctx;
    return 0;
}

/* Formats the peer address, with IPv4-mapped IPv6 written as IPv4. */
static void peer_address(const struct sockaddr_storage *ss, char *out,
                         size_t size)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)size);
        return;
    }
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
        inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], out, (socklen_t)size);
    else
        inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)size);
}

static void count(struct wl_authd *a, unsigned long *counter)
{
    pthread_mutex_lock(&a->lock);
    (*counter)++;
    pthread_mutex_unlock(&a->lock);
}

/*
 * Reads until the first '\n', for at most deadline_s seconds in all, so a
 * client sending a byte now and then cannot hold a thread. Returns the
 * line length or -1.
 */
static long read_line(SSL *ssl, char *buf, size_t size, time_t deadline_s)
{
    time_t start = time(NULL);
    size_t used = 0;

    while (used < size - 1) {
        int n = SSL_read(ssl, buf + used, (int)(size - 1 - used));
        char *nl;

        if (n <= 0 || time(NULL) - start > deadline_s)
            return -1;
        nl = memchr(buf + used, '\n', (size_t)n);
        used += (size_t)n;
        if (nl) {
            *nl = '\0';
            return nl - buf;
        }
    }
    return -1; /* no newline within the request limit */
}

static int write_all(SSL *ssl, const char *data, size_t len)
{
    int n = SSL_write(ssl, data, (int)len);

    return n == (int)len ? 0 : WL_EIO;
}

static void internal_error(char *reply, struct wl_enroll_result *result)
{
    snprintf(reply, WL_ENROLL_REPLY_MAX,
             "ERROR: Internal manager error adding agent. Unable to "
             "add agent");
    memset(result, 0, sizeof(*result));
}

/*
 * Handles the request line under the keys lock and the file lock shared
 * with wazlab-agents. It rereads client.keys when another process changed
 * it, so no id is handed out twice. It writes the file before the reply,
 * so an agent that receives a key finds it on disk even when the daemon
 * is killed right after. When the write fails, the agent is removed again
 * and gets an error reply.
 */
static void enroll_line(struct wl_authd *a, struct client *c, const char *line,
                        time_t deadline, char *reply,
                        struct wl_enroll_result *result)
{
    const struct wl_authd_options *o = &a->opt;
    wl_enroll_status_fn status = o->status;
    void *status_ctx = o->status_ctx;
    struct wl_keystore *ks;
    int r;

    if (!status) {
        status = wl_native_agent_status;
        status_ctx = o->native;
    }
    ks = wl_native_lock_keys(o->native);
    r = wl_keys_lock(ks, 0);
    if (r < 0) {
        wl_log_limited(WL_LOG_ERROR, "authd-keys-lock",
                       "enrollment: cannot lock and read %s: %s; request "
                       "from %s rejected",
                       ks->path, wl_strerror(r), c->ip);
        internal_error(reply, result);
        goto out;
    }
    if (time(NULL) > deadline) {
        /* The agent has given up by now: a key it never receives would
         * only block its name until the force rules allow a new one. */
        wl_keys_unlock(ks);
        wl_log_limited(WL_LOG_WARN, "authd-late",
                       "enrollment: request from %s waited too long for "
                       "client.keys; rejected",
                       c->ip);
        internal_error(reply, result);
        goto out;
    }
    if (wl_enroll_process(o->enroll, ks, line, c->ip, status, status_ctx,
                          time(NULL), reply, result) < 0) {
        internal_error(reply, result);
    } else if (result->accepted) {
        r = wl_keys_save(ks);
        if (r < 0) {
            wl_log_error("enrollment: cannot save %s after adding agent %s: "
                         "%s; enrollment rejected",
                         ks->path, result->id, wl_strerror(r));
            wl_keys_remove(ks, result->id, 1);
            internal_error(reply, result);
        }
    }
    wl_keys_unlock(ks);
out:
    wl_native_unlock_keys(o->native);
}

/*
 * Undoes an accepted enrollment when the reply did not reach the agent,
 * then reports it.
 */
static void finish_enrollment(struct wl_authd *a, struct client *c,
                              const struct wl_enroll_result *result, int sent)
{
    const struct wl_authd_options *o = &a->opt;
    struct wl_keystore *ks = wl_native_lock_keys(o->native);
    const struct wl_key_entry *e = wl_keys_find_id(ks, result->id);
    char hash[WL_KEYS_SHA1_HEX + 1] = "";
    char ip[WL_KEYS_IP_MAX + 1] = "";
    int r = 0;

    if (!sent) {
        /* authd deletes the key again when the reply could not be sent */
        r = wl_keys_lock(ks, 0);
        e = r < 0 ? NULL : wl_keys_find_id(ks, result->id);
        if (e) {
            wl_keys_remove(ks, result->id, 1);
            e = NULL;
            r = wl_keys_save(ks);
        }
        wl_keys_unlock(ks);
        if (r < 0)
            wl_log_error("enrollment: cannot save %s after removing agent "
                         "%s: %s",
                         ks->path, result->id, wl_strerror(r));
    }
    if (e) {
        wl_keys_hash(e, hash);
        snprintf(ip, sizeof(ip), "%s", e->ip);
    }
    wl_native_unlock_keys(o->native);
    if (!sent) {
        count(a, &a->stats.failed);
        wl_log_warn("enrollment: reply to %s for agent '%s' not sent; "
                    "agent %s removed",
                    c->ip, result->name, result->id);
        return;
    }
    count(a, &a->stats.enrolled);
    if (o->on_enrolled)
        o->on_enrolled(o->on_enrolled_ctx, result, ip, hash);
}

static void serve(struct client *c)
{
    struct wl_authd *a = c->authd;
    struct wl_enroll_result result;
    char *line = malloc(WL_ENROLL_LINE_MAX + 1);
    char reply[WL_ENROLL_REPLY_MAX];
    SSL *ssl = SSL_new(a->opt.tls);
    int timeout = a->opt.timeout_ms ? a->opt.timeout_ms : DEFAULT_TIMEOUT_MS;
    time_t deadline_s = 3 * (time_t)timeout / 1000 + 1;
    int sent;

    if (!line || !ssl || SSL_set_fd(ssl, c->fd) != 1) {
        wl_log_error("enrollment: out of memory serving %s", c->ip);
        goto out;
    }
    if (SSL_accept(ssl) != 1) {
        unsigned long e = ERR_get_error();
        char text[256] = "connection closed or timed out";

        /* A code of 0 means no TLS error: the peer closed or was silent. */
        if (e != 0)
            ERR_error_string_n(e, text, sizeof(text));
        count(a, &a->stats.failed);
        wl_log_limited(WL_LOG_WARN, e ? "authd-tls" : "authd-tls-timeout",
                       "enrollment: TLS handshake with %s failed: %s", c->ip,
                       text);
        goto out;
    }
    if (read_line(ssl, line, WL_ENROLL_LINE_MAX + 1, deadline_s) < 0) {
        count(a, &a->stats.failed);
        wl_log_limited(WL_LOG_WARN, "authd-request",
                       "enrollment: no complete request line from %s "
                       "(closed, timed out, or over %d bytes)",
                       c->ip, WL_ENROLL_LINE_MAX);
        goto out;
    }

    enroll_line(a, c, line, time(NULL) + timeout / 1000, reply, &result);
    sent = write_all(ssl, reply, strlen(reply)) == 0;
    if (result.accepted)
        finish_enrollment(a, c, &result, sent);
    else
        count(a, &a->stats.refused);
    wl_enroll_result_free(&result);
    OPENSSL_cleanse(reply, sizeof(reply));
    SSL_shutdown(ssl);
out:
    SSL_free(ssl);
    if (line) {
        OPENSSL_cleanse(line, WL_ENROLL_LINE_MAX + 1);
        free(line);
    }
    close(c->fd);
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct wl_authd *a = c->authd;

    serve(c);
    free(c);
    pthread_mutex_lock(&a->lock);
    if (--a->active == 0)
        pthread_cond_broadcast(&a->idle);
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* Starts a thread for a new connection, or closes it when too busy. */
static void accept_one(struct wl_authd *a)
{
    struct sockaddr_storage ss;
    socklen_t ss_len = sizeof(ss);
    struct timeval tv;
    struct client *c;
    pthread_t thread;
    int fd = accept(a->listen_fd, (struct sockaddr *)&ss, &ss_len);
    int max = a->opt.max_clients ? a->opt.max_clients : DEFAULT_MAX_CLIENTS;
    int timeout = a->opt.timeout_ms ? a->opt.timeout_ms : DEFAULT_TIMEOUT_MS;

    if (fd < 0)
        return;
    pthread_mutex_lock(&a->lock);
    a->stats.connections++;
    if (a->active >= max) {
        a->stats.busy++;
        pthread_mutex_unlock(&a->lock);
        wl_log_limited(WL_LOG_WARN, "authd-busy",
                       "enrollment: %d connections in progress; new "
                       "connection closed",
                       max);
        close(fd);
        return;
    }
    a->active++;
    pthread_mutex_unlock(&a->lock);

    tv.tv_sec = timeout / 1000;
    tv.tv_usec = (timeout % 1000) * 1000;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

    c = calloc(1, sizeof(*c));
    if (c) {
        c->authd = a;
        c->fd = fd;
        peer_address(&ss, c->ip, sizeof(c->ip));
    }
    if (!c || pthread_create(&thread, NULL, client_main, c) != 0) {
        wl_log_error("enrollment: cannot start a connection thread");
        free(c);
        close(fd);
        pthread_mutex_lock(&a->lock);
        if (--a->active == 0)
            pthread_cond_broadcast(&a->idle);
        pthread_mutex_unlock(&a->lock);
        return;
    }
    pthread_detach(thread);
}

static void *acceptor_main(void *arg)
{
    struct wl_authd *a = arg;
    struct pollfd fds[2] = {
        {.fd = a->listen_fd, .events = POLLIN},
        {.fd = a->stop_pipe[0], .events = POLLIN},
    };

    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            wl_log_error("enrollment: poll failed: %s", strerror(errno));
            break;
        }
        if (fds[1].revents)
            break;
        if (fds[0].revents & POLLIN)
            accept_one(a);
    }
    return NULL;
}

/* Creates, binds and listens; returns the socket or a negative code. */
static int listen_socket(const char *address, int port, int *bound_port,
                         char *err, size_t err_size)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, one = 1;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, address, &((struct sockaddr_in *)&ss)->sin_addr) ==
        1) {
        ss.ss_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, address,
                         &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ss.ss_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in6);
    } else {
        snprintf(err, err_size, "invalid enrollment address '%s'", address);
        return WL_EINVAL;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, err_size, "cannot create a socket: %s", strerror(errno));
        return WL_EIO;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
        int busy = errno == EADDRINUSE;

        snprintf(err, err_size, "cannot listen on %s port %d: %s", address,
                 port, strerror(errno));
        close(fd);
        return busy ? WL_EBUSY : WL_EIO;
    }
    len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    *bound_port = ntohs(ss.ss_family == AF_INET
                            ? ((struct sockaddr_in *)&ss)->sin_port
                            : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

int wl_authd_start(const struct wl_authd_options *opt, struct wl_authd **out,
                   char *err, size_t err_size)
{
    struct wl_authd *a = calloc(1, sizeof(*a));
    int r;

    if (!a) {
        snprintf(err, err_size, "out of memory");
        return WL_ENOMEM;
    }
    a->opt = *opt;
    a->stop_pipe[0] = a->stop_pipe[1] = -1;
    a->listen_fd = -1;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->idle, NULL);
    r = listen_socket(opt->address, opt->port, &a->port, err, err_size);
    if (r < 0)
        goto fail;
    a->listen_fd = r;
    if (pipe2(a->stop_pipe, O_CLOEXEC) < 0) {
        snprintf(err, err_size, "cannot create a pipe: %s", strerror(errno));
        r = WL_EIO;
        goto fail;
    }
    if (pthread_create(&a->acceptor, NULL, acceptor_main, a) != 0) {
        snprintf(err, err_size, "cannot start the enrollment thread");
        r = WL_EIO;
        goto fail;
    }
    a->acceptor_started = 1;
    wl_log_info("enrollment listening on %s port %d (TLS)%s", opt->address,
                a->port, opt->enroll->password ? ", password required" : "");
    *out = a;
    return 0;
fail:
    wl_authd_stop(a);
    return r;
}

int wl_authd_port(const struct wl_authd *a)
{
    return a->port;
}

void wl_authd_get_stats(struct wl_authd *a, struct wl_authd_stats *stats)
{
    pthread_mutex_lock(&a->lock);
    *stats = a->stats;
    pthread_mutex_unlock(&a->lock);
}

void wl_authd_stop(struct wl_authd *a)
{
    if (!a)
        return;
    if (a->acceptor_started) {
        ssize_t n = write(a->stop_pipe[1], "x", 1);

        (void)n;
        pthread_join(a->acceptor, NULL);
    }
    pthread_mutex_lock(&a->lock);
    while (a->active > 0)
        pthread_cond_wait(&a->idle, &a->lock);
    pthread_mutex_unlock(&a->lock);
    if (a->listen_fd >= 0)
        close(a->listen_fd);
    if (a->stop_pipe[0] >= 0)
        close(a->stop_pipe[0]);
    if (a->stop_pipe[1] >= 0)
        close(a->stop_pipe[1]);
    pthread_cond_destroy(&a->idle);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
