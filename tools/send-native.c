/*
 * The native mode of wazlab-send (see send-native.h). Agents are shared
 * out over a few threads. Each thread drives its agents one step at a
 * time with blocking sockets, so each agent's messages keep their order.
 */
#include "config.h"

#include "tools/send-native.h"

#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/secure.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#define PROGRAM "wazlab-send"
#define IO_TIMEOUT_S 30
#define KEEPALIVE_S 10 /* Wazuh agents' default <notify_time> */
#define ACK "#!-agent ack "
#define FRAME_MAX (WL_SECURE_PAYLOAD_MAX + WL_SECURE_FRAME_HEADER)

struct agent {
    char name[WL_KEYS_NAME_MAX + 1];
    char id[WL_KEYS_ID_MAX + 1];
    char key[WL_KEYS_KEY_MAX + 1];
    char enc_key[WL_KEYS_ENC_LEN + 1];
    unsigned long counter; /* messages sent; gives the global and local */
    int fd;
    int pending_acks; /* keepalives sent whose ack was not read yet */
    int failed;
    double last_keepalive;
};

struct run {
    const struct wl_send_native_options *o;
    char *const *lines;
    const size_t *lengths;
    size_t nlines;
    unsigned long total;
    struct agent *agents;
    struct wl_keystore keys;
    pthread_barrier_t barrier;
    double start, end;
    atomic_ulong sent, acks, enrolled;
    atomic_int failed_agents;
};

struct worker {
    struct run *run;
    int index;
    unsigned char *frame;
    char *text;
    char *msg;
};

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Marks an agent failed, printing why the first time. */
static void fail(struct run *r, struct agent *a, const char *what)
{
    if (a->failed)
        return;
    a->failed = 1;
    r->failed_agents++;
    fprintf(stderr, PROGRAM ": agent %s: %s\n", a->name, what);
}

/* Connects a socket of this type to host:port; returns it or -1. */
static int connect_to(const char *host, const char *port, int type)
{
    struct addrinfo hints = {.ai_socktype = type}, *list, *ai;
    struct timeval tv = {IO_TIMEOUT_S, 0};
    int fd = -1;

    if (getaddrinfo(host, port, &hints, &list) != 0)
        return -1;
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    return fd;
}

/*
 * Enrolls a over TLS as agent-auth does: one request line, one reply.
 * Returns 0 with a->id and a->key set, or -1 after marking a failed.
 */
static int enroll(struct run *r, struct agent *a)
{
    char request[WL_KEYS_NAME_MAX + 256], reply[1024], ip[64];
    int fd = connect_to(r->o->host, r->o->enroll_port, SOCK_STREAM);
    size_t used = 0;
    SSL *ssl = NULL;
    int n, rc = -1;

    if (fd < 0) {
        fail(r, a, "cannot connect to the enrollment port");
        return -1;
    }
    ssl = SSL_new(r->o->tls);
    if (r->o->password != NULL)
        snprintf(request, sizeof(request),
                 "OSSEC PASS: %s OSSEC A:'%s' V:'v4.14.7'\n", r->o->password,
                 a->name);
    else
        snprintf(request, sizeof(request), "OSSEC A:'%s' V:'v4.14.7'\n",
                 a->name);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1 ||
        SSL_write(ssl, request, (int)strlen(request)) <= 0) {
        fail(r, a, "enrollment TLS handshake or request failed");
        goto out;
    }
    while (used < sizeof(reply) - 1 &&
           (n = SSL_read(ssl, reply + used, (int)(sizeof(reply) - 1 - used))) >
               0)
        used += (size_t)n;
    reply[used] = '\0';
    if (sscanf(reply, "OSSEC K:'%15s %*s %63s %127[^']'", a->id, ip, a->key) !=
        3) {
        char why[160];

        reply[strcspn(reply, "\r\n")] = '\0';
        snprintf(why, sizeof(why), "enrollment refused: \"%.100s\"", reply);
        fail(r, a, why);
        goto out;
    }
    r->enrolled++;
    rc = 0;
out:
    OPENSSL_cleanse(reply, sizeof(reply));
    OPENSSL_cleanse(request, sizeof(request));
    SSL_free(ssl);
    close(fd);
    return rc;
}

/* Encrypts and sends one message of agent a; returns 0 or -1. */
static int send_msg(struct worker *w, struct agent *a, const char *msg,
                    size_t len)
{
    const struct wl_send_native_options *o = w->run->o;
    unsigned char *payload = w->frame + WL_SECURE_FRAME_HEADER;
    unsigned long c = ++a->counter;
    size_t plen = 0, total;

    if (wl_secure_encode(WL_SECURE_AES, a->enc_key, a->id,
                         (unsigned)(c * 7919u % 65536u),
                         (unsigned)(c / WL_SECURE_LOCAL_MAX),
                         (unsigned)(c % WL_SECURE_LOCAL_MAX), msg, len, payload,
                         WL_SECURE_PAYLOAD_MAX, &plen) < 0)
        return -1;
    if (o->udp)
        return send(a->fd, payload, plen, 0) == (ssize_t)plen ? 0 : -1;
    wl_secure_frame_header(plen, w->frame);
    total = plen + WL_SECURE_FRAME_HEADER;
    for (size_t done = 0; done < total;) {
        ssize_t n = send(a->fd, w->frame + done, total - done, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one message from the manager and checks it is an ack. */
static int read_ack(struct worker *w, struct agent *a)
{
    const struct wl_send_native_options *o = w->run->o;
    struct wl_secure_header h;
    struct wl_secure_plain plain;
    size_t len;

    if (o->udp) {
        ssize_t n = recv(a->fd, w->frame, WL_SECURE_PAYLOAD_MAX, 0);

        if (n <= 0)
            return -1;
        len = (size_t)n;
    } else {
        unsigned char hdr[WL_SECURE_FRAME_HEADER];

        if (read_full(a->fd, hdr, sizeof(hdr)) != 0)
            return -1;
        len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 |
              (size_t)hdr[3] << 24;
        if (len > WL_SECURE_PAYLOAD_MAX || read_full(a->fd, w->frame, len))
            return -1;
    }
    if (wl_secure_parse_header(w->frame, len, &h) != 0 ||
        wl_secure_decrypt(h.method, a->enc_key, w->frame + h.cipher_offset,
                          len - h.cipher_offset, w->text,
                          WL_SECURE_INFLATE_MAX + 1, &plain) != 0 ||
        strcmp(plain.message, ACK) != 0)
        return -1;
    w->run->acks++;
    return 0;
}

/* Sends a keepalive; with wait, reads every ack still due. */
static int keepalive(struct worker *w, struct agent *a, int wait)
{
    int n = snprintf(w->msg, WL_SECURE_MESSAGE_MAX,
                     "#!-Microsoft Windows 10 Pro [Ver: 10.0.19045] |%s "
                     "|x86_64 - Wazuh v4.14.7\nx merged.mg\n"
                     "#\"_agent_ip\":127.0.0.1\n",
                     a->name);

    if (send_msg(w, a, w->msg, (size_t)n) != 0)
        return -1;
    a->pending_acks++;
    a->last_keepalive = now_seconds();
    while (wait && a->pending_acks > 0) {
        if (read_ack(w, a) != 0)
            return -1;
        a->pending_acks--;
    }
    return 0;
}

/* Gets the key, connects, and sends startup and a keepalive. */
static void start_agent(struct worker *w, struct agent *a)
{
    struct run *r = w->run;
    const char *startup = "#!-agent startup {\"version\":\"v4.14.7\"}";
    int n;

    if (r->o->enroll) {
        if (enroll(r, a) != 0)
            return;
    } else {
        const struct wl_key_entry *e = wl_keys_find_name(&r->keys, a->name);

        if (e == NULL) {
            fail(r, a, "no key for this name in the keys file");
            return;
        }
        snprintf(a->id, sizeof(a->id), "%s", e->id);
        snprintf(a->key, sizeof(a->key), "%s", e->key);
    }
    wl_keys_derive(a->id, a->name, a->key, a->enc_key);
    a->fd = connect_to(r->o->host, r->o->port,
                       r->o->udp ? SOCK_DGRAM : SOCK_STREAM);
    if (a->fd < 0) {
        fail(r, a, "cannot connect to the event port");
        return;
    }
    if (send_msg(w, a, startup, strlen(startup)) != 0 || read_ack(w, a) != 0) {
        fail(r, a, "startup message not acknowledged");
        return;
    }
    if (keepalive(w, a, 1) != 0) {
        fail(r, a, "keepalive not acknowledged");
        return;
    }
    n = snprintf(w->msg, WL_SECURE_MESSAGE_MAX,
                 "1:wazuh-agent:ossec: Agent started: '%s->any'.", a->name);
    if (send_msg(w, a, w->msg, (size_t)n) != 0)
        fail(r, a, "sending 'Agent started' failed");
}

/* Sleeps until event number done of this thread is due. */
static void pace(double start, double rate, unsigned long done)
{
    double wait = start + (double)done / rate - now_seconds();
    struct timespec ts;

    if (wait <= 0)
        return;
    ts.tv_sec = (time_t)wait;
    ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void send_events(struct worker *w)
{
    struct run *r = w->run;
    const struct wl_send_native_options *o = r->o;
    size_t plen = strlen(o->prefix);
    double rate = o->rate / o->threads;
    unsigned long mine = 0;

    for (unsigned long e = 0; e < r->total; e++) {
        struct agent *a = &r->agents[e % (unsigned long)o->agents];
        size_t i = e % r->nlines, len = r->lengths[i];

        if ((e % (unsigned long)o->agents) % (unsigned long)o->threads !=
                (unsigned long)w->index ||
            a->failed)
            continue;
        if (plen + len > WL_SECURE_MESSAGE_MAX) {
            fail(r, a, "event longer than a secure message may be");
            continue;
        }
        if (rate > 0)
            pace(r->start, rate, mine);
        memcpy(w->msg, o->prefix, plen);
        memcpy(w->msg + plen, r->lines[i], len);
        if (send_msg(w, a, w->msg, plen + len) != 0) {
            fail(r, a, "sending an event failed");
            continue;
        }
        mine++;
        r->sent++;
        if (now_seconds() - a->last_keepalive >= KEEPALIVE_S &&
            keepalive(w, a, 0) != 0)
            fail(r, a, "sending a keepalive failed");
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    const struct wl_send_native_options *o = r->o;
    const char *bye = "#!-agent shutdown ";

    for (int i = w->index; i < o->agents; i += o->threads)
        start_agent(w, &r->agents[i]);
    if (pthread_barrier_wait(&r->barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
        r->start = now_seconds();
    pthread_barrier_wait(&r->barrier);
    send_events(w);
    /* A keepalive round trip: the daemon has read every earlier frame. */
    for (int i = w->index; i < o->agents; i += o->threads) {
        struct agent *a = &r->agents[i];

        if (!a->failed && keepalive(w, a, 1) != 0)
            fail(r, a, "final keepalive not acknowledged");
    }
    if (pthread_barrier_wait(&r->barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
        r->end = now_seconds();
    for (int i = w->index; i < o->agents; i += o->threads) {
        struct agent *a = &r->agents[i];

        if (!a->failed && send_msg(w, a, bye, strlen(bye)) != 0)
            fail(r, a, "sending the shutdown notice failed");
    }
    return NULL;
}

static void close_agents(struct run *r)
{
    for (int i = 0; i < r->o->agents; i++) {
        struct agent *a = &r->agents[i];

        if (a->fd >= 0 && !r->o->udp) {
            char buf[256];
            struct timeval tv = {2, 0};

            /* Let the daemon read the last frame before the close. */
            shutdown(a->fd, SHUT_WR);
            setsockopt(a->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            while (recv(a->fd, buf, sizeof(buf), 0) > 0)
                ;
        }
        if (a->fd >= 0)
            close(a->fd);
        OPENSSL_cleanse(a->key, sizeof(a->key));
        OPENSSL_cleanse(a->enc_key, sizeof(a->enc_key));
    }
}

/* Raises the soft open file limit to the hard one: one socket per agent. */
static void raise_file_limit(int agents)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)agents + 16)
        fprintf(stderr,
                PROGRAM ": warning: open file limit %llu is too low for %d "
                        "agents; raise it with ulimit -n\n",
                (unsigned long long)rl.rlim_cur, agents);
}

int wl_send_native_run(const struct wl_send_native_options *o,
                       char *const *lines, const size_t *lengths, size_t nlines)
{
    struct run r = {
        .o = o, .lines = lines, .lengths = lengths, .nlines = nlines};
    struct worker *workers = NULL;
    pthread_t *threads = NULL;
    int started = 0, status = 1;
    double seconds;

    raise_file_limit(o->agents);
    r.total = o->count ? o->count : nlines;
    if (nlines == 0)
        r.total = 0;
    r.agents = calloc((size_t)o->agents, sizeof(*r.agents));
    workers = calloc((size_t)o->threads, sizeof(*workers));
    threads = calloc((size_t)o->threads, sizeof(*threads));
    if (o->keys_path != NULL && wl_keys_load(&r.keys, o->keys_path) < 0) {
        fprintf(stderr, PROGRAM ": cannot read %s\n", o->keys_path);
        goto out;
    }
    if (r.agents == NULL || workers == NULL || threads == NULL) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        goto out;
    }
    for (int i = 0; i < o->agents; i++) {
        snprintf(r.agents[i].name, sizeof(r.agents[i].name), "%s-%d",
                 o->name_prefix, i);
        r.agents[i].fd = -1;
    }
    pthread_barrier_init(&r.barrier, NULL, (unsigned)o->threads);
    for (; started < o->threads; started++) {
        struct worker *w = &workers[started];

        w->run = &r;
        w->index = started;
        w->frame = malloc(FRAME_MAX);
        w->text = malloc(WL_SECURE_INFLATE_MAX + 1);
        w->msg = malloc(WL_SECURE_MESSAGE_MAX + 1);
        if (w->frame == NULL || w->text == NULL || w->msg == NULL ||
            pthread_create(&threads[started], NULL, worker_main, w) != 0) {
            /* The barrier counts every thread: without all, stop here. */
            fprintf(stderr, PROGRAM ": cannot start thread %d\n", started);
            exit(1);
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&r.barrier);
    close_agents(&r);
    seconds = r.end - r.start;
    printf("native: %d agents (%lu enrolled, %d failed), %lu events sent "
           "over %s, %lu acks, %.3f s, %.1f events/s\n",
           o->agents, (unsigned long)r.enrolled, (int)r.failed_agents,
           (unsigned long)r.sent, o->udp ? "UDP" : "TCP", (unsigned long)r.acks,
           seconds, seconds > 0 ? (double)r.sent / seconds : 0.0);
    status = r.failed_agents == 0 ? 0 : 1;
out:
    for (int i = 0; workers && i < started; i++) {
        free(workers[i].frame);
        free(workers[i].text);
        free(workers[i].msg);
    }
    free(workers);
    free(threads);
    free(r.agents);
    wl_keys_free(&r.keys);
    wl_secure_cleanup();
    return status;
}
