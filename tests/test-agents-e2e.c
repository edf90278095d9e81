/*
 * Agents end to end on loopback: many simulated Wazuh agents enroll over
 * TLS at the same time, then each opens a native TCP session (startup,
 * keepalive, "Agent started", Event Channel events, shutdown), checks
 * every ack, and sends part of its events over UDP. The test's event
 * loop serves TCP the way wazlabd does (detect, then feed the native
 * connection) and collects every message meant for analysis, which must
 * all arrive under the right agent id.
 *
 * WL_E2E_AGENTS and WL_E2E_EVENTS change the scale (default 200 x 50).
 */
#include <config.h>

#include "daemon/authd.h"
#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/native.h"
#include "daemon/native_io.h"
#include "daemon/secure.h"
#include "tests/tap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <uv.h>

#define WORKERS 16
#define UDP_EVERY 10 /* every tenth event goes over UDP */

static char dir[] = "/tmp/wazlab-test-e2e-XXXXXX";
static int agents_total = 200;
static int events_per_agent = 50;
static int authd_port, tcp_port, udp_port;
static SSL_CTX *client_ctx;
static atomic_int next_agent;
static atomic_int clients_done;
static atomic_int acks_ok, acks_bad, enroll_bad, session_bad;
static uv_async_t all_done;

/* Messages collected by the test's event loop, per agent index. */
struct agent_seen {
    char id[16];
    int events;
    int started;
    int stopped;
    int wrong;
};
static struct agent_seen *seen;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the server side: a loop like wazlabd's listener ---- */

struct tconn {
    uv_tcp_t handle; /* first member */
    struct wl_native_conn *native;
    unsigned char first[8];
    size_t first_len;
    uint64_t id;
    struct tconn *next;
};

static struct wl_native *native;
static struct tconn *tconns;
static uint64_t next_conn_id = 1;

static void record(struct wl_message *msg)
{
    char name[64];
    int index = -1;

    /* Agent names are "e2e-agent-<index>". */
    if (sscanf(msg->agent_name, "e2e-agent-%d", &index) != 1 || index < 0 ||
        index >= agents_total) {
        wl_message_free(msg);
        return;
    }
    snprintf(name, sizeof(name), "e2e-agent-%d", index);
    pthread_mutex_lock(&seen_lock);
    {
        struct agent_seen *s = &seen[index];
        char prefix[128];

        snprintf(prefix, sizeof(prefix),
                 "f:[%s] (%s) any->EventChannel:", s->id, name);
        if (strcmp(msg->agent_id, s->id) != 0)
            s->wrong++;
        else if (strncmp(msg->data, prefix, strlen(prefix)) == 0)
            s->events++;
        else if (strstr(msg->data, "->wazuh-agent:ossec: Agent started:"))
            s->started++;
        else if (strstr(msg->data, "->wazuh-remoted:ossec: Agent stopped:"))
            s->stopped++;
        else
            s->wrong++;
    }
    pthread_mutex_unlock(&seen_lock);
    wl_message_free(msg);
}

static void submit(void *ctx, struct wl_message *msg)
{
    (void)ctx;
    record(msg);
}

struct write_req {
    uv_write_t req;
    char data[];
};

static void on_write(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static int conn_write(void *ctx, const void *data, size_t len)
{
    struct tconn *c = ctx;
    struct write_req *w = malloc(sizeof(*w) + len);
    uv_buf_t b;

    if (!w)
        return WL_ENOMEM;
    memcpy(w->data, data, len);
    b = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->handle, &b, 1, on_write) != 0) {
        free(w);
        return WL_EIO;
    }
    return 0;
}

static void on_close(uv_handle_t *h)
{
    struct tconn *c = (struct tconn *)h;
    struct tconn **p = &tconns;

    while (*p && *p != c)
        p = &(*p)->next;
    if (*p)
        *p = c->next;
    wl_native_conn_free(c->native);
    free(c);
}

static void conn_close(struct tconn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->handle))
        uv_close((uv_handle_t *)&c->handle, on_close);
}

static void close_by_id(void *ctx, uint64_t id)
{
    (void)ctx;
    for (struct tconn *c = tconns; c; c = c->next) {
        if (c->id == id)
            conn_close(c);
    }
}

static char read_buf[65536];

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    (void)s;
    b->base = read_buf;
    b->len = sizeof(read_buf);
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *b)
{
    struct tconn *c = (struct tconn *)stream;
    struct wl_native_io io = {conn_write, submit, close_by_id, c};
    const char *data = b->base;
    size_t len;

    if (n < 0) {
        conn_close(c);
        return;
    }
    len = (size_t)n;
    if (!c->native) {
        /* Collect the first bytes and tell the protocol, as wazlabd. */
        size_t take = sizeof(c->first) - c->first_len;
        int kind;

        if (take > len)
            take = len;
        memcpy(c->first + c->first_len, data, take);
        c->first_len += take;
        data += take;
        len -= take;
        kind = wl_native_detect(c->first, c->first_len);
        if (kind == WL_EAGAIN)
            return;
        if (kind != 1) {
            conn_close(c);
            return;
        }
        c->native = wl_native_conn_new(native, c->id, "127.0.0.1");
        if (!c->native ||
            wl_native_conn_input(c->native, c->first, c->first_len, &io) < 0) {
            conn_close(c);
            return;
        }
    }
    if (len > 0 && wl_native_conn_input(c->native, data, len, &io) < 0)
        conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct tconn *c;

    if (status < 0)
        return;
    c = calloc(1, sizeof(*c));
    uv_tcp_init(server->loop, &c->handle);
    if (uv_accept(server, (uv_stream_t *)&c->handle) != 0) {
        uv_close((uv_handle_t *)&c->handle, on_close);
        return;
    }
    c->id = next_conn_id++;
    c->next = tconns;
    tconns = c;
    uv_read_start((uv_stream_t *)&c->handle, on_alloc, on_read);
}

static void on_all_done(uv_async_t *a)
{
    uv_stop(a->loop);
}

/* ---- the agent side ---- */

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = read(fd, p, len);

        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int tcp_connect(int p)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};

    sin.sin_port = htons((uint16_t)p);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

struct agent {
    int index;
    char name[64];
    char id[16];
    char key[128];
    char enc_key[WL_KEYS_ENC_LEN + 1];
    unsigned local;
    int fd;
    int udp;
};

static int agent_enroll(struct agent *a)
{
    char request[128], reply[512], ip[64];
    size_t used = 0;
    int fd = tcp_connect(authd_port), r = -1;
    SSL *ssl;

    if (fd < 0)
        return -1;
    ssl = SSL_new(client_ctx);
    SSL_set_fd(ssl, fd);
    snprintf(request, sizeof(request), "OSSEC A:'%s' V:'v4.14.7'\n", a->name);
    if (SSL_connect(ssl) == 1 &&
        SSL_write(ssl, request, (int)strlen(request)) > 0) {
        int n;

        while ((n = SSL_read(ssl, reply + used,
                             (int)(sizeof(reply) - 1 - used))) > 0)
            used += (size_t)n;
        reply[used] = '\0';
        if (sscanf(reply, "OSSEC K:'%15s %*s %63s %127[^']'", a->id, ip,
                   a->key) == 3)
            r = 0;
    }
    SSL_free(ssl);
    close(fd);
    if (r == 0)
        wl_keys_derive(a->id, a->name, a->key, a->enc_key);
    return r;
}

/* Sends one message on TCP (or UDP when udp is set). */
static int agent_send(struct agent *a, const char *msg, int udp)
{
    static _Thread_local unsigned char frame[WL_SECURE_PAYLOAD_MAX + 4];
    size_t len = 0;

    a->local++;
    if (wl_secure_encode(WL_SECURE_AES, a->enc_key, a->id, a->local % 65536, 0,
                         a->local, msg, strlen(msg), frame + 4,
                         sizeof(frame) - 4, &len) < 0)
        return -1;
    if (udp) {
        struct sockaddr_in sin = {.sin_family = AF_INET};

        sin.sin_port = htons((uint16_t)udp_port);
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        return sendto(a->udp, frame + 4, len, 0, (struct sockaddr *)&sin,
                      sizeof(sin)) == (ssize_t)len
                   ? 0
                   : -1;
    }
    wl_secure_frame_header(len, frame);
    return write(a->fd, frame, len + 4) == (ssize_t)(len + 4) ? 0 : -1;
}

/* Reads one framed reply and checks that it is the ack. */
static void agent_expect_ack(struct agent *a)
{
    static _Thread_local char text[WL_SECURE_INFLATE_MAX + 1];
    unsigned char hdr[4], *payload;
    struct wl_secure_header h;
    struct wl_secure_plain plain;
    size_t len;

    if (read_full(a->fd, hdr, 4) < 0) {
        acks_bad++;
        return;
    }
    len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16;
    payload = malloc(len);
    if (read_full(a->fd, payload, len) == 0 &&
        wl_secure_parse_header(payload, len, &h) == 0 &&
        h.agent_id[0] == '\0' &&
        wl_secure_decrypt(h.method, a->enc_key, payload + h.cipher_offset,
                          len - h.cipher_offset, text, sizeof(text),
                          &plain) == 0 &&
        strcmp(plain.message, "#!-agent ack ") == 0)
        acks_ok++;
    else
        acks_bad++;
    free(payload);
}

static void agent_session(struct agent *a)
{
    char msg[1024];

    a->fd = tcp_connect(tcp_port);
    a->udp = socket(AF_INET, SOCK_DGRAM, 0);
    if (a->fd < 0 || a->udp < 0) {
        session_bad++;
        goto out;
    }
    agent_send(a, "#!-agent startup {\"version\":\"v4.14.7\"}", 0);
    agent_expect_ack(a);
    snprintf(msg, sizeof(msg), "1:wazuh-agent:ossec: Agent started: '%s->any'.",
             a->name);
    agent_send(a, msg, 0);
    snprintf(msg, sizeof(msg),
             "#!-Microsoft Windows 10 Pro [Ver: 10.0.19045] |%s |x86_64 - "
             "Wazuh v4.14.7\nx merged.mg\n#\"_agent_ip\":127.0.0.1\n",
             a->name);
    agent_send(a, msg, 0);
    agent_expect_ack(a);
    for (int i = 0; i < events_per_agent; i++) {
        snprintf(msg, sizeof(msg),
                 "f:EventChannel:{\"Message\":\"An account was successfully "
                 "logged on.\",\"Event\":\"<Event xmlns='http://schemas."
                 "microsoft.com/win/2004/08/events/event'><System><Provider "
                 "Name='Microsoft-Windows-Security-Auditing'/><EventID>4624"
                 "</EventID><EventRecordID>%d</EventRecordID><Computer>%s"
                 "</Computer></System></Event>\"}",
                 i, a->name);
        if (agent_send(a, msg, i % UDP_EVERY == UDP_EVERY - 1) < 0)
            session_bad++;
    }
    /* A keepalive round trip makes sure the server read every TCP event. */
    snprintf(msg, sizeof(msg), "#!-Windows |%s - Wazuh v4.14.7\nx merged.mg\n",
             a->name);
    agent_send(a, msg, 0);
    agent_expect_ack(a);
    agent_send(a, "#!-agent shutdown ", 0);
out:
    if (a->fd >= 0)
        close(a->fd);
    if (a->udp >= 0)
        close(a->udp);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        int index = atomic_fetch_add(&next_agent, 1);
        struct agent a;

        if (index >= agents_total)
            break;
        memset(&a, 0, sizeof(a));
        a.index = index;
        snprintf(a.name, sizeof(a.name), "e2e-agent-%d", index);
        if (agent_enroll(&a) < 0) {
            enroll_bad++;
            continue;
        }
        pthread_mutex_lock(&seen_lock);
        snprintf(seen[index].id, sizeof(seen[index].id), "%s", a.id);
        pthread_mutex_unlock(&seen_lock);
        agent_session(&a);
    }
    if (atomic_fetch_add(&clients_done, 1) + 1 == WORKERS)
        uv_async_send(&all_done);
    return NULL;
}

/* ---- setup ---- */

static int make_cert(const char *cert_path, const char *key_path)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    EVP_PKEY *pkey = NULL;
    X509 *x = X509_new();
    FILE *fp;

    if (!pctx || !x || EVP_PKEY_keygen_init(pctx) <= 0 ||
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(pctx, NID_X9_62_prime256v1) <=
            0 ||
        EVP_PKEY_keygen(pctx, &pkey) <= 0)
        return -1;
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"wazlab-e2e", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, pkey, EVP_sha256());
    fp = fopen(cert_path, "w");
    PEM_write_X509(fp, x);
    fclose(fp);
    fp = fopen(key_path, "w");
    PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL);
    fclose(fp);
    X509_free(x);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(pctx);
    return 0;
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[600];

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h) && h->type == UV_TCP)
        uv_close(h, h->data == (void *)1 ? NULL : on_close);
}

int main(void)
{
    char cert[400], key[400], keys_path[400], err[512];
    struct wl_native_options nopt = {0};
    struct wl_enroll_config cfg;
    struct wl_authd_options aopt = {0};
    struct wl_authd *authd = NULL;
    struct wl_native_udp *udp = NULL;
    struct wl_native_reload *reload = NULL;
    SSL_CTX *server_ctx = NULL;
    uv_loop_t loop;
    uv_tcp_t listener;
    struct sockaddr_in sin;
    int namelen = sizeof(sin);
    pthread_t threads[WORKERS];
    int events = 0, started = 0, stopped = 0, wrong = 0, unenrolled = 0;

    if (getenv("WL_E2E_AGENTS"))
        agents_total = atoi(getenv("WL_E2E_AGENTS"));
    if (getenv("WL_E2E_EVENTS"))
        events_per_agent = atoi(getenv("WL_E2E_EVENTS"));
    seen = calloc((size_t)agents_total, sizeof(*seen));
    wl_log_init("test-agents-e2e", WL_LOG_ERROR);
    signal(SIGPIPE, SIG_IGN); /* a closed peer is an error, not death */
    if (!mkdtemp(dir)) {
        printf("Bail out! cannot create a temporary folder\n");
        return 1;
    }
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    snprintf(keys_path, sizeof(keys_path), "%s/client.keys", dir);
    make_cert(cert, key);
    wl_authd_tls_new(cert, key, &server_ctx, err, sizeof(err));
    client_ctx = SSL_CTX_new(TLS_client_method());

    nopt.keys_path = keys_path;
    is_int(wl_native_new(&nopt, &native), 0, "setup: native protocol");
    wl_enroll_config_default(&cfg);
    aopt.address = "127.0.0.1";
    aopt.tls = server_ctx;
    aopt.native = native;
    aopt.enroll = &cfg;
    is_int(wl_authd_start(&aopt, &authd, err, sizeof(err)), 0,
           "setup: enrollment service");
    if (!authd)
        return tap_done();
    authd_port = wl_authd_port(authd);

    uv_loop_init(&loop);
    uv_tcp_init(&loop, &listener);
    listener.data = (void *)1;
    uv_ip4_addr("127.0.0.1", 0, &sin);
    uv_tcp_bind(&listener, (struct sockaddr *)&sin, 0);
    is_int(uv_listen((uv_stream_t *)&listener, 511, on_connection), 0,
           "setup: TCP listener");
    uv_tcp_getsockname(&listener, (struct sockaddr *)&sin, &namelen);
    tcp_port = ntohs(sin.sin_port);
    is_int(wl_native_udp_start(&loop, "127.0.0.1", 0, native, submit, NULL,
                               &udp, err, sizeof(err)),
           0, "setup: UDP listener");
    udp_port = wl_native_udp_port(udp);
    wl_native_reload_start(&loop, native, WL_NATIVE_RELOAD_MS, &reload);
    uv_async_init(&loop, &all_done, on_all_done);

    for (int i = 0; i < WORKERS; i++)
        pthread_create(&threads[i], NULL, worker, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(threads[i], NULL);
    /* Let UDP datagrams and closing connections still in the socket
     * buffers arrive. */
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);

    for (int i = 0; i < agents_total; i++) {
        events += seen[i].events;
        started += seen[i].started;
        stopped += seen[i].stopped;
        wrong += seen[i].wrong;
        unenrolled += seen[i].id[0] == '\0';
    }
    tap_diag("%d agents x %d events", agents_total, events_per_agent);
    is_int(enroll_bad, 0, "enrollment: every agent enrolled over TLS");
    is_int(unenrolled, 0, "enrollment: every agent got an id");
    is_int(session_bad, 0, "sessions: every send succeeded");
    is_int(acks_ok, agents_total * 3, "acks: startup and keepalives acked");
    is_int(acks_bad, 0, "acks: none missing or wrong");
    is_int(started, agents_total, "events: one 'Agent started' per agent");
    is_int(events, agents_total * events_per_agent,
           "events: every Event Channel event under its agent id");
    is_int(stopped, agents_total, "events: one 'Agent stopped' per agent");
    is_int(wrong, 0, "events: none under a wrong id or malformed");

    wl_native_reload_stop(reload);
    wl_native_udp_stop(udp);
    uv_close((uv_handle_t *)&all_done, NULL);
    uv_walk(&loop, close_walk, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    wl_authd_stop(authd);
    wl_native_free(native);
    SSL_CTX_free(server_ctx);
    SSL_CTX_free(client_ctx);
    free(seen);
    remove_dir();
    wl_secure_cleanup();
    return tap_done();
}
