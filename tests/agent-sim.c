/*
 * agent-sim: simulated Wazuh 4.14 agents for black-box tests of wazlabd
 * on 127.0.0.1. Each agent enrolls over TLS, or uses a given client.keys
 * line. It then opens a native TCP session and sends the startup message
 * and a keepalive, checking both acks. "Agent started" and the Event
 * Channel events follow (every Nth over UDP when asked), then a final
 * keepalive round trip and the shutdown notice. The program prints one
 * summary line and exits 0 when every step succeeded.
 */
#include <config.h>

#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/secure.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#define WORKERS 16

static struct {
    int enroll_port;
    int port;
    int agents;
    int events;
    int udp_every; /* 0: TCP only */
    const char *prefix;
    const char *password;
    const char *keys_line;  /* use this key instead of enrolling */
    int replay;             /* send one frame twice instead of a session */
    const char *attack;     /* send one bad frame instead of a session */
    const char *other_line; /* a second agent's key line for attacks */
    int no_shutdown;        /* leave without the shutdown message */
} opt = {0, 0, 1, 10, 0, "sim-agent", NULL, NULL, 0, NULL, NULL, 0};

static SSL_CTX *client_ctx;
static atomic_int next_agent, enrolled, enroll_failed, acks_ok, acks_bad;
static atomic_int sent_tcp, sent_udp, send_failed;

struct agent {
    char name[WL_KEYS_NAME_MAX + 1];
    char id[WL_KEYS_ID_MAX + 1];
    char key[WL_KEYS_KEY_MAX + 1];
    char enc_key[WL_KEYS_ENC_LEN + 1];
    unsigned local;
    int fd;
    int udp;
};

static int tcp_connect(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct timeval tv = {30, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0)
        return -1;
    sin.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

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

static int enroll(struct agent *a)
{
    char request[512], reply[1024], ip[64];
    size_t used = 0;
    int fd = tcp_connect(opt.enroll_port), r = -1;
    SSL *ssl;

    if (fd < 0)
        return -1;
    ssl = SSL_new(client_ctx);
    SSL_set_fd(ssl, fd);
    if (opt.password)
        snprintf(request, sizeof(request),
                 "OSSEC PASS: %s OSSEC A:'%s' V:'v4.14.7'\n", opt.password,
                 a->name);
    else
        snprintf(request, sizeof(request), "OSSEC A:'%s' V:'v4.14.7'\n",
                 a->name);
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
        else
            fprintf(stderr, "agent-sim: %s: enrollment reply \"%s\"\n", a->name,
                    reply);
    }
    SSL_free(ssl);
    close(fd);
    return r;
}

static int send_message(struct agent *a, const char *msg, int udp)
{
    unsigned char frame[WL_SECURE_PAYLOAD_MAX + 4];
    size_t len = 0;

    a->local++;
    if (wl_secure_encode(WL_SECURE_AES, a->enc_key, a->id, a->local % 65536,
                         a->local / 9997, a->local % 9997 + 1, msg, strlen(msg),
                         frame + 4, sizeof(frame) - 4, &len) < 0)
        return -1;
    if (udp) {
        struct sockaddr_in sin = {.sin_family = AF_INET};

        sin.sin_port = htons((uint16_t)opt.port);
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        if (sendto(a->udp, frame + 4, len, 0, (struct sockaddr *)&sin,
                   sizeof(sin)) != (ssize_t)len)
            return -1;
        sent_udp++;
        return 0;
    }
    wl_secure_frame_header(len, frame);
    if (write(a->fd, frame, len + 4) != (ssize_t)(len + 4))
        return -1;
    sent_tcp++;
    return 0;
}

static void expect_ack(struct agent *a)
{
    static _Thread_local char text[WL_SECURE_INFLATE_MAX + 1];
    unsigned char hdr[4], *payload = NULL;
    struct wl_secure_header h;
    struct wl_secure_plain plain;
    size_t len;
    int good = 0;

    if (read_full(a->fd, hdr, 4) == 0) {
        len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16;
        payload = malloc(len + 1);
        good = payload && read_full(a->fd, payload, len) == 0 &&
               wl_secure_parse_header(payload, len, &h) == 0 &&
               h.agent_id[0] == '\0' &&
               wl_secure_decrypt(
                   h.method, a->enc_key, payload + h.cipher_offset,
                   len - h.cipher_offset, text, sizeof(text), &plain) == 0 &&
               strcmp(plain.message, "#!-agent ack ") == 0;
    }
    free(payload);
    if (good) {
        acks_ok++;
    } else {
        acks_bad++;
        fprintf(stderr, "agent-sim: %s: missing or wrong ack\n", a->name);
    }
}

static void checked_send(struct agent *a, const char *msg, int udp)
{
    if (send_message(a, msg, udp) < 0) {
        send_failed++;
        fprintf(stderr, "agent-sim: %s: send failed\n", a->name);
    }
}

static void session(struct agent *a)
{
    char msg[1024];

    a->fd = tcp_connect(opt.port);
    a->udp = socket(AF_INET, SOCK_DGRAM, 0);
    if (a->fd < 0 || a->udp < 0) {
        send_failed++;
        goto out;
    }
    checked_send(a, "#!-agent startup {\"version\":\"v4.14.7\"}", 0);
    expect_ack(a);
    snprintf(msg, sizeof(msg),
             "#!-Microsoft Windows 10 Pro [Ver: 10.0.19045] |%s |x86_64 - "
             "Wazuh v4.14.7\nx merged.mg\n#\"_agent_ip\":127.0.0.1\n",
             a->name);
    checked_send(a, msg, 0);
    expect_ack(a);
    snprintf(msg, sizeof(msg), "1:wazuh-agent:ossec: Agent started: '%s->any'.",
             a->name);
    checked_send(a, msg, 0);
    for (int i = 0; i < opt.events; i++) {
        int udp = opt.udp_every > 0 && i % opt.udp_every == 0;

        snprintf(msg, sizeof(msg),
                 "f:EventChannel:{\"Message\":\"An account was successfully "
                 "logged on.\",\"Event\":\"<Event xmlns='http://schemas."
                 "microsoft.com/win/2004/08/events/event'><System><Provider "
                 "Name='Microsoft-Windows-Security-Auditing'/><EventID>4624"
                 "</EventID><EventRecordID>%d</EventRecordID><Computer>%s"
                 "</Computer></System></Event>\"}",
                 i + 1, a->name);
        checked_send(a, msg, udp);
        if (udp)
            usleep(200); /* UDP has no flow control */
    }
    /* A keepalive round trip: the server has read every TCP frame. */
    snprintf(msg, sizeof(msg),
             "#!-Microsoft Windows 10 Pro [Ver: 10.0.19045] |%s |x86_64 - "
             "Wazuh v4.14.7\nx merged.mg\n",
             a->name);
    checked_send(a, msg, 0);
    expect_ack(a);
    if (!opt.no_shutdown)
        checked_send(a, "#!-agent shutdown ", 0);
out:
    if (a->fd >= 0)
        close(a->fd);
    if (a->udp >= 0)
        close(a->udp);
}

/*
 * Sends the same startup frame twice on one connection and prints
 * whether the server acked the first and then closed the connection.
 */
static void replay(struct agent *a)
{
    unsigned char frame[512];
    const char *msg = "#!-agent startup {\"version\":\"v4.14.7\"}";
    size_t len = 0;
    char byte;
    int closed;

    a->fd = tcp_connect(opt.port);
    if (a->fd < 0 || wl_secure_encode(WL_SECURE_AES, a->enc_key, a->id, 7,
                                      4000000000u, 1, msg, strlen(msg),
                                      frame + 4, sizeof(frame) - 4, &len) < 0) {
        send_failed++;
        return;
    }
    wl_secure_frame_header(len, frame);
    if (write(a->fd, frame, len + 4) != (ssize_t)(len + 4))
        send_failed++;
    expect_ack(a);
    if (write(a->fd, frame, len + 4) != (ssize_t)(len + 4))
        send_failed++;
    closed = read(a->fd, &byte, 1) <= 0;
    printf("replay=%s\n", closed ? "rejected" : "accepted");
    close(a->fd);
}

/* Waits for the server to close the connection; 1 when it did. */
static int closed_by_server(int fd)
{
    char buf[256];
    ssize_t n;

    while ((n = read(fd, buf, sizeof(buf))) > 0)
        ;
    return n == 0 || errno == ECONNRESET;
}

/* Parses an "ID NAME IP KEY" line into a; returns 0 or -1. */
static int parse_keys_line(const char *line, struct agent *a)
{
    char ip[64];

    if (sscanf(line, "%15s %128s %63s %127s", a->id, a->name, ip, a->key) != 4)
        return -1;
    wl_keys_derive(a->id, a->name, a->key, a->enc_key);
    return 0;
}

/*
 * Sends one bad frame on a new connection and prints whether the server
 * closed it. Kinds: "wrong-key" uses a made-up key, "other-id" another
 * agent's id with this agent's key. "bound-other" sends a valid frame of
 * another agent after this agent's startup bound the connection.
 * "truncated" cuts the ciphertext to a length that is not whole blocks.
 */
static void attack(struct agent *a)
{
    unsigned char frame[1024];
    const char *msg = "#!-agent startup {\"version\":\"v4.14.7\"}";
    struct agent other;
    char wrong_key[WL_KEYS_ENC_LEN + 1];
    const char *enc_key = a->enc_key, *id = a->id;
    size_t len = 0;
    int closed;

    memset(&other, 0, sizeof(other));
    if (opt.other_line && parse_keys_line(opt.other_line, &other) < 0) {
        send_failed++;
        return;
    }
    a->fd = tcp_connect(opt.port);
    if (a->fd < 0) {
        send_failed++;
        return;
    }
    if (strcmp(opt.attack, "wrong-key") == 0) {
        wl_keys_derive(a->id, a->name,
                       "00000000000000000000000000000000000000000000000000"
                       "00000000000000",
                       wrong_key);
        enc_key = wrong_key;
    } else if (strcmp(opt.attack, "other-id") == 0) {
        id = other.id;
    } else if (strcmp(opt.attack, "bound-other") == 0) {
        checked_send(a, msg, 0);
        expect_ack(a);
        enc_key = other.enc_key;
        id = other.id;
    }
    if (wl_secure_encode(WL_SECURE_AES, enc_key, id, 11, 4100000000u, 1, msg,
                         strlen(msg), frame + 4, sizeof(frame) - 4, &len) < 0) {
        send_failed++;
        close(a->fd);
        return;
    }
    if (strcmp(opt.attack, "truncated") == 0)
        len -= 5;
    wl_secure_frame_header(len, frame);
    if (write(a->fd, frame, len + 4) != (ssize_t)(len + 4))
        send_failed++;
    closed = closed_by_server(a->fd);
    printf("attack=%s\n", closed ? "closed" : "open");
    close(a->fd);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        int index = atomic_fetch_add(&next_agent, 1);
        struct agent a;

        if (index >= opt.agents)
            break;
        memset(&a, 0, sizeof(a));
        if (opt.keys_line) {
            if (parse_keys_line(opt.keys_line, &a) < 0) {
                enroll_failed++;
                continue;
            }
        } else {
            snprintf(a.name, sizeof(a.name), "%s-%d", opt.prefix, index);
            if (enroll(&a) < 0) {
                enroll_failed++;
                continue;
            }
            enrolled++;
        }
        wl_keys_derive(a.id, a.name, a.key, a.enc_key);
        printf("agent %s %s\n", a.id, a.name);
        if (opt.attack)
            attack(&a);
        else if (opt.replay)
            replay(&a);
        else
            session(&a);
    }
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: agent-sim --port PORT [--enroll-port PORT] [--agents N]\n"
            "                 [--events N] [--udp-every N] [--prefix NAME]\n"
            "                 [--password PW] [--keys-line 'ID NAME IP KEY']\n"
            "                 [--replay] [--attack KIND [--other-line "
            "LINE]] [--no-shutdown]\n"
            "Runs simulated Wazuh agents against wazlabd on 127.0.0.1.\n");
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        {"enroll-port", required_argument, NULL, 'e'},
        {"port", required_argument, NULL, 'p'},
        {"agents", required_argument, NULL, 'a'},
        {"events", required_argument, NULL, 'n'},
        {"udp-every", required_argument, NULL, 'u'},
        {"prefix", required_argument, NULL, 'x'},
        {"password", required_argument, NULL, 'w'},
        {"keys-line", required_argument, NULL, 'k'},
        {"replay", no_argument, NULL, 'r'},
        {"attack", required_argument, NULL, 't'},
        {"other-line", required_argument, NULL, 'o'},
        {"no-shutdown", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    pthread_t threads[WORKERS];
    int c, workers;

    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'e':
            opt.enroll_port = atoi(optarg);
            break;
        case 'p':
            opt.port = atoi(optarg);
            break;
        case 'a':
            opt.agents = atoi(optarg);
            break;
        case 'n':
            opt.events = atoi(optarg);
            break;
        case 'u':
            opt.udp_every = atoi(optarg);
            break;
        case 'x':
            opt.prefix = optarg;
            break;
        case 'w':
            opt.password = optarg;
            break;
        case 'k':
            opt.keys_line = optarg;
            opt.agents = 1;
            break;
        case 'r':
            opt.replay = 1;
            break;
        case 't':
            opt.attack = optarg;
            break;
        case 'o':
            opt.other_line = optarg;
            break;
        case 's':
            opt.no_shutdown = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (opt.port <= 0 || (!opt.keys_line && opt.enroll_port <= 0)) {
        usage(stderr);
        return 2;
    }
    wl_log_init("agent-sim", WL_LOG_ERROR);
    signal(SIGPIPE, SIG_IGN); /* a closed peer is an error, not death */
    setvbuf(stdout, NULL, _IOLBF, 0);
    client_ctx = SSL_CTX_new(TLS_client_method());
    workers = opt.agents < WORKERS ? opt.agents : WORKERS;
    for (int i = 0; i < workers; i++)
        pthread_create(&threads[i], NULL, worker, NULL);
    for (int i = 0; i < workers; i++)
        pthread_join(threads[i], NULL);
    SSL_CTX_free(client_ctx);
    wl_secure_cleanup();

    printf("summary enrolled=%d enroll_failed=%d acks_ok=%d acks_bad=%d "
           "tcp=%d udp=%d send_failed=%d\n",
           (int)enrolled, (int)enroll_failed, (int)acks_ok, (int)acks_bad,
           (int)sent_tcp, (int)sent_udp, (int)send_failed);
    return enroll_failed || acks_bad || send_failed ? 1 : 0;
}
