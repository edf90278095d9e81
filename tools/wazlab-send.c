/*
 * wazlab-send: a test agent. Reads one message body per input line (Event
 * Channel payload JSON by default, or plain log lines) and sends each as a
 * frame over TLS: a 4-byte little-endian length, then
 * "<queue>:<location>:<line>". With --native it runs simulated Wazuh
 * agents instead (tools/send-native.c).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "daemon/message.h"
#include "tools/send-native.h"

#define PROGRAM "wazlab-send"
#define EXIT_FAILED 1
#define EXIT_USAGE 2
#define CONNECT_TIMEOUT_S 10
#define OUT_BUFFER_SIZE (64 * 1024)
#define MAX_CONNECTIONS 1024
_Static_assert(WL_MESSAGE_MAX == 65536, "the usage text gives the limit");
#define OVERSIZED_REPORTS 10 /* lines reported one by one, then counted */

struct options {
    const char *host;
    const char *port;
    const char *ca;
    const char *cert;
    const char *key;
    const char *agent;
    const char *agent_id;
    const char *queue;
    const char *location;
    const char *input;
    int verify_host;
    double rate;
    unsigned long count; /* 0: send the input once */
    int connections;
    /* Native mode: simulated Wazuh agents. */
    int native;
    int agents;
    int threads;
    int enroll;
    int udp;
    const char *enroll_port;
    const char *password;
    const char *keys;
    const char *name;
};

struct connection {
    int fd;
    SSL *ssl;
    unsigned char *out;
    size_t out_len;
    int failed; /* a fatal TLS error ended the session */
};

struct counters {
    unsigned long sent;
    unsigned long long bytes;
    unsigned long oversized;
    unsigned long line_number;
};

/* The input lines, kept in memory when the input cannot be read again. */
struct line_store {
    char **lines;
    size_t *lengths;
    size_t count;
    size_t capacity;
};

static const char *const usage_text[] = {
    "Usage: " PROGRAM " [OPTION]... [FILE]",
    "Send each line of FILE (or standard input when FILE is - or missing)",
    "to wazlabd as one frame over TLS: a 4-byte little-endian length, then",
    "<queue>:<location>:<line>. Lines whose message would exceed 65536",
    "bytes are reported and skipped. In the location, ':' and '|' are",
    "written as '|:' and '||', as Wazuh agents do.",
    "",
    "  --host HOST        server address (default 127.0.0.1)",
    "  --port PORT        server port (default 1514)",
    "  --ca FILE          verify the server certificate against the CA",
    "                     certificates in FILE; without it, nothing is",
    "                     verified",
    "  --verify-host      with --ca, also check that the certificate",
    "                     names HOST",
    "  --cert FILE        client certificate (PEM) for mutual TLS",
    "  --key FILE         private key (PEM) of --cert",
    "  --agent NAME       lab mode: send the location as the manager's",
    "                     remoted forwards it: [ID] (NAME) any-><location>",
    "  --agent-id ID      agent id for --agent (default 001)",
    "  --queue C          queue character (default f, Event Channel)",
    "  --location L       location (default EventChannel)",
    "  --rate N           events per second; 0 sends as fast as possible",
    "                     (default 0)",
    "  --count N          stop after N events, reading the input again",
    "                     from the start while fewer were sent",
    "  --connections N    spread the events over N connections (default 1)",
    "",
    "Native mode sends as Wazuh 4.x agents do instead (queue and location",
    "as above; --agent, --agent-id and --connections do not apply):",
    "  --native           run simulated agents: startup and its ack, a",
    "                     keepalive every 10 s and at the end (each acked),",
    "                     the events as AES secure messages, then shutdown",
    "  --agents N         number of agents, named NAME-0 .. NAME-(N-1);",
    "                     event number e is sent by agent e modulo N",
    "                     (default 1)",
    "  --name NAME        agent name prefix (default wazlab-send)",
    "  --enroll           enroll every agent first (TLS, OSSEC A:'name')",
    "  --enroll-port PORT enrollment port (default 1515); --ca, --cert",
    "                     and --key apply to it",
    "  --password PW      enrollment password",
    "  --keys FILE        without --enroll: take the agents' keys from",
    "                     this client.keys (by name)",
    "  --udp              send over UDP instead of TCP; UDP has no flow",
    "                     control, so use --rate against a busy daemon",
    "  --threads N        sending threads (default 2)",
    "  -h, --help         show this help and exit",
    "",
    "At the end it prints one line: events sent, bytes sent (frame headers",
    "included), seconds, events per second and lines skipped. The exit",
    "status is 0 on success, 1 when a connection or TLS failure stopped",
    "the run or the server did not close the session cleanly (it rejected",
    "the client certificate), and 2 on invalid options. Success means the",
    "server replied to the final close_notify. In native mode the line",
    "gives the agents (enrolled, failed), events sent, acks, seconds and",
    "events per second, timed from when every agent has started until",
    "every final keepalive is acked. The exit status is 1 when any agent",
    "failed.",
};

static void usage(FILE *out)
{
    for (size_t i = 0; i < sizeof(usage_text) / sizeof(usage_text[0]); i++)
        fprintf(out, "%s\n", usage_text[i]);
}

static void print_tls_errors(void)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        fprintf(stderr, PROGRAM ": %s\n", buf);
    }
}

/*
 * Parses a number from min to max, a whole one when whole is set. Returns
 * 0, or -1 after printing what is wrong.
 */
static int parse_number(const char *name, const char *text, double min,
                        double max, int whole, double *value)
{
    char *end;

    errno = 0;
    *value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || *value < min ||
        *value > max || (whole && *value != (double)(long long)*value)) {
        fprintf(stderr,
                PROGRAM ": invalid %s '%s': expected a %s from %.0f to "
                        "%.0f\n",
                name, text, whole ? "whole number" : "number", min, max);
        return -1;
    }
    return 0;
}

enum {
    OPT_HOST = 256,
    OPT_PORT,
    OPT_CA,
    OPT_VERIFY_HOST,
    OPT_CERT,
    OPT_KEY,
    OPT_AGENT,
    OPT_AGENT_ID,
    OPT_QUEUE,
    OPT_LOCATION,
    OPT_RATE,
    OPT_COUNT,
    OPT_CONNECTIONS,
    OPT_NATIVE,
    OPT_AGENTS,
    OPT_THREADS,
    OPT_ENROLL,
    OPT_ENROLL_PORT,
    OPT_PASSWORD,
    OPT_KEYS,
    OPT_NAME,
    OPT_UDP,
};

static const struct option long_options[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"ca", required_argument, NULL, OPT_CA},
    {"verify-host", no_argument, NULL, OPT_VERIFY_HOST},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"agent", required_argument, NULL, OPT_AGENT},
    {"agent-id", required_argument, NULL, OPT_AGENT_ID},
    {"queue", required_argument, NULL, OPT_QUEUE},
    {"location", required_argument, NULL, OPT_LOCATION},
    {"rate", required_argument, NULL, OPT_RATE},
    {"count", required_argument, NULL, OPT_COUNT},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"native", no_argument, NULL, OPT_NATIVE},
    {"agents", required_argument, NULL, OPT_AGENTS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"enroll", no_argument, NULL, OPT_ENROLL},
    {"enroll-port", required_argument, NULL, OPT_ENROLL_PORT},
    {"password", required_argument, NULL, OPT_PASSWORD},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"name", required_argument, NULL, OPT_NAME},
    {"udp", no_argument, NULL, OPT_UDP},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Checks the options that depend on each other; returns 0 or -1. */
static int check_options(struct options *o)
{
    double port;

    if (parse_number("--port", o->port, 1, 65535, 1, &port) != 0)
        return -1;
    if (strlen(o->queue) != 1 || o->queue[0] == ':') {
        fprintf(stderr,
                PROGRAM ": invalid --queue '%s': expected one character "
                        "other than ':'\n",
                o->queue);
        return -1;
    }
    if ((o->cert == NULL) != (o->key == NULL)) {
        fprintf(stderr, PROGRAM ": --cert and --key must be given together\n");
        return -1;
    }
    if (o->verify_host && o->ca == NULL) {
        fprintf(stderr, PROGRAM ": --verify-host needs --ca\n");
        return -1;
    }
    if (o->agent_id != NULL && o->agent == NULL) {
        fprintf(stderr, PROGRAM ": --agent-id needs --agent\n");
        return -1;
    }
    if (o->agent_id == NULL)
        o->agent_id = "001";
    if (!o->native &&
        (o->enroll || o->udp || o->keys || o->password || o->agents != 1)) {
        fprintf(stderr, PROGRAM ": --agents, --enroll, --keys, --password "
                                "and --udp need --native\n");
        return -1;
    }
    /* --agent-id without --agent was rejected above. */
    if (o->native && (o->agent != NULL || o->connections != 1)) {
        fprintf(stderr, PROGRAM ": --agent, --agent-id and --connections do "
                                "not apply to --native\n");
        return -1;
    }
    if (o->native && !o->enroll && o->keys == NULL) {
        fprintf(stderr, PROGRAM ": --native needs --enroll or --keys\n");
        return -1;
    }
    if (o->native &&
        parse_number("--enroll-port", o->enroll_port, 1, 65535, 1, &port) != 0)
        return -1;
    return 0;
}

/* Parses argv into o; returns 0, or -1 after printing what is wrong. */
static int parse_options(int argc, char **argv, struct options *o)
{
    double number;
    int c;

    *o = (struct options){.host = "127.0.0.1",
                          .port = "1514",
                          .queue = "f",
                          .location = "EventChannel",
                          .connections = 1,
                          .agents = 1,
                          .threads = 2,
                          .enroll_port = "1515",
                          .name = PROGRAM};
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_HOST:
            o->host = optarg;
            break;
        case OPT_PORT:
            o->port = optarg;
            break;
        case OPT_CA:
            o->ca = optarg;
            break;
        case OPT_VERIFY_HOST:
            o->verify_host = 1;
            break;
        case OPT_CERT:
            o->cert = optarg;
            break;
        case OPT_KEY:
            o->key = optarg;
            break;
        case OPT_AGENT:
            o->agent = optarg;
            break;
        case OPT_AGENT_ID:
            o->agent_id = optarg;
            break;
        case OPT_QUEUE:
            o->queue = optarg;
            break;
        case OPT_LOCATION:
            o->location = optarg;
            break;
        case OPT_RATE:
            if (parse_number("--rate", optarg, 0, 1e9, 0, &o->rate) != 0)
                return -1;
            break;
        case OPT_COUNT:
            if (parse_number("--count", optarg, 0, 1e15, 1, &number) != 0)
                return -1;
            o->count = (unsigned long)number;
            break;
        case OPT_CONNECTIONS:
            if (parse_number("--connections", optarg, 1, MAX_CONNECTIONS, 1,
                             &number) != 0)
                return -1;
            o->connections = (int)number;
            break;
        case OPT_NATIVE:
            o->native = 1;
            break;
        case OPT_AGENTS:
            if (parse_number("--agents", optarg, 1, 100000, 1, &number) != 0)
                return -1;
            o->agents = (int)number;
            break;
        case OPT_THREADS:
            if (parse_number("--threads", optarg, 1, 64, 1, &number) != 0)
                return -1;
            o->threads = (int)number;
            break;
        case OPT_ENROLL:
            o->enroll = 1;
            break;
        case OPT_ENROLL_PORT:
            o->enroll_port = optarg;
            break;
        case OPT_PASSWORD:
            o->password = optarg;
            break;
        case OPT_KEYS:
            o->keys = optarg;
            break;
        case OPT_NAME:
            o->name = optarg;
            break;
        case OPT_UDP:
            o->udp = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, PROGRAM ": too many input files\n");
        return -1;
    }
    if (optind < argc && strcmp(argv[optind], "-") != 0)
        o->input = argv[optind];
    return check_options(o);
}

/* Creates the TLS client context; returns NULL after printing why. */
static SSL_CTX *make_context(const struct options *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

    if (ctx == NULL)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (o->ca != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
            fprintf(stderr, PROGRAM ": cannot load CA certificates from %s\n",
                    o->ca);
            goto fail;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        fprintf(stderr, PROGRAM ": warning: no --ca given, so the server "
                                "certificate is not verified\n");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    if (o->cert != NULL) {
        if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1) {
            fprintf(stderr, PROGRAM ": cannot load certificate %s\n", o->cert);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            fprintf(stderr,
                    PROGRAM ": cannot load private key %s of certificate %s\n",
                    o->key, o->cert);
            goto fail;
        }
    }
    return ctx;
fail:
    print_tls_errors();
    SSL_CTX_free(ctx);
    return NULL;
}

static void set_timeouts(int fd, int seconds)
{
    struct timeval tv = {seconds, 0};

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Opens a TCP connection to host:port; returns the socket or -1. */
static int connect_tcp(const struct options *o)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *list, *ai;
    int fd = -1, rc, saved = 0;

    rc = getaddrinfo(o->host, o->port, &hints, &list);
    if (rc != 0) {
        fprintf(stderr, PROGRAM ": cannot resolve %s port %s: %s\n", o->host,
                o->port, gai_strerror(rc));
        return -1;
    }
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        /* A connect timeout, so a silent host cannot hang the tool. */
        set_timeouts(fd, CONNECT_TIMEOUT_S);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd < 0)
        fprintf(stderr, PROGRAM ": cannot connect to %s port %s: %s\n", o->host,
                o->port, strerror(saved));
    return fd;
}

static int is_ip_address(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, addr) == 1 ||
           inet_pton(AF_INET6, host, addr) == 1;
}

/* Sets SNI and, with --verify-host, the name or address to check. */
static int set_server_name(SSL *ssl, const struct options *o)
{
    int ok = 1;

    if (!is_ip_address(o->host))
        SSL_set_tlsext_host_name(ssl, o->host);
    if (!o->verify_host)
        return 0;
    if (is_ip_address(o->host))
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), o->host);
    else
        ok = SSL_set1_host(ssl, o->host);
    return ok == 1 ? 0 : -1;
}

/* Connects and completes the TLS handshake; returns 0 or -1. */
static int open_connection(struct connection *c, SSL_CTX *ctx,
                           const struct options *o)
{
    long verify;

    c->fd = connect_tcp(o);
    if (c->fd < 0)
        return -1;
    c->ssl = SSL_new(ctx);
    c->out = malloc(OUT_BUFFER_SIZE);
    if (c->ssl == NULL || c->out == NULL) {
        fprintf(stderr, PROGRAM ": out of memory\n");
        return -1;
    }
    if (set_server_name(c->ssl, o) != 0 || SSL_set_fd(c->ssl, c->fd) != 1) {
        print_tls_errors();
        return -1;
    }
    if (SSL_connect(c->ssl) != 1) {
        fprintf(stderr, PROGRAM ": TLS handshake with %s port %s failed\n",
                o->host, o->port);
        verify = SSL_get_verify_result(c->ssl);
        if (verify != X509_V_OK)
            fprintf(stderr, PROGRAM ": server certificate: %s\n",
                    X509_verify_cert_error_string(verify));
        print_tls_errors();
        return -1;
    }
    /* Writes may now wait as long as the server applies backpressure. */
    set_timeouts(c->fd, 0);
    return 0;
}

/*
 * Sends close_notify and waits for the server to close. Closing at once
 * could lose the last frames: unread bytes from the server, such as TLS 1.3
 * session tickets, make the kernel reset the connection, and a reset drops
 * data that the server has not read yet.
 */
static void close_connection(struct connection *c)
{
    char buf[4096];

    if (c->ssl != NULL) {
        /* No shutdown after a fatal TLS error: it is not allowed. */
        if (!c->failed)
            SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        ERR_clear_error();
    }
    if (c->fd >= 0) {
        shutdown(c->fd, SHUT_WR);
        set_timeouts(c->fd, CONNECT_TIMEOUT_S);
        while (recv(c->fd, buf, sizeof(buf), 0) > 0)
            ;
        close(c->fd);
    }
    free(c->out);
    c->ssl = NULL;
    c->fd = -1;
    c->out = NULL;
}

/*
 * Ends the TLS session after the last frame: sends close_notify and reads
 * until the server answers with its own. A server that rejected the client
 * after a TLS 1.3 handshake (its certificate, or the name in it) sends an
 * alert or closes without close_notify instead, and the frames written
 * before were not accepted. Returns 0, or -1 after printing why.
 */
static int finish_connection(struct connection *c, const struct options *o)
{
    char buf[4096];
    int n, e;

    set_timeouts(c->fd, CONNECT_TIMEOUT_S);
    ERR_clear_error();
    errno = 0;
    n = SSL_shutdown(c->ssl);
    e = n < 0 ? SSL_get_error(c->ssl, n) : SSL_ERROR_NONE;
    while (e == SSL_ERROR_NONE) {
        errno = 0;
        n = SSL_read(c->ssl, buf, sizeof(buf));
        if (n <= 0)
            e = SSL_get_error(c->ssl, n);
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (e == SSL_ERROR_SSL)
        fprintf(stderr,
                PROGRAM ": the server at %s port %s rejected the connection; "
                        "the events sent on it were not accepted\n",
                o->host, o->port);
    else if (errno == EAGAIN || errno == EWOULDBLOCK)
        fprintf(stderr,
                PROGRAM ": timed out after %d s waiting for the server at %s "
                        "port %s to close the connection\n",
                CONNECT_TIMEOUT_S, o->host, o->port);
    else
        fprintf(stderr,
                PROGRAM ": the server at %s port %s closed the connection "
                        "without a TLS close_notify (%s); the events sent "
                        "may not have been accepted (was the client "
                        "certificate rejected?)\n",
                o->host, o->port,
                errno != 0 ? strerror(errno) : "end of stream");
    print_tls_errors();
    c->failed = 1;
    return -1;
}

/* Describes why SSL_write returned result; call it before errno changes. */
static const char *write_error_text(SSL *ssl, int result)
{
    int e = SSL_get_error(ssl, result);

    if (e == SSL_ERROR_SYSCALL && errno != 0)
        return strerror(errno);
    if (e == SSL_ERROR_ZERO_RETURN)
        return "connection closed by the server";
    return "TLS error";
}

/* Sends the buffered frames; returns 0 or -1 after printing why. */
static int flush_connection(struct connection *c, const struct options *o)
{
    size_t done = 0;

    while (done < c->out_len) {
        int chunk =
            c->out_len - done > INT_MAX ? INT_MAX : (int)(c->out_len - done);
        int n;

        errno = 0;
        n = SSL_write(c->ssl, c->out + done, chunk);
        if (n <= 0) {
            fprintf(stderr, PROGRAM ": sending to %s port %s failed: %s\n",
                    o->host, o->port, write_error_text(c->ssl, n));
            print_tls_errors();
            c->failed = 1;
            return -1;
        }
        done += (size_t)n;
    }
    c->out_len = 0;
    return 0;
}

/* Appends bytes to the connection's buffer, sending it first when full. */
static int append(struct connection *c, const struct options *o,
                  const void *data, size_t len)
{
    const unsigned char *p = data;

    while (len > 0) {
        size_t room = OUT_BUFFER_SIZE - c->out_len;
        size_t n = len < room ? len : room;

        memcpy(c->out + c->out_len, p, n);
        c->out_len += n;
        p += n;
        len -= n;
        if (c->out_len == OUT_BUFFER_SIZE && flush_connection(c, o) != 0)
            return -1;
    }
    return 0;
}

/*
 * Builds "<queue>:<location>:" into out, with ':' and '|' of the location
 * escaped as Wazuh 4.x agents write it, so that the first unescaped ':'
 * after the location ends it. Returns the length, or 0 when it does not
 * fit.
 */
static size_t build_prefix(const struct options *o, char *out, size_t size)
{
    char location[4096];
    size_t len = 0;
    int n;

    if (o->agent != NULL)
        n = snprintf(location, sizeof(location), "[%s] (%s) any->%s",
                     o->agent_id, o->agent, o->location);
    else
        n = snprintf(location, sizeof(location), "%s", o->location);
    if (n < 0 || (size_t)n >= sizeof(location) || size < 4)
        return 0;
    out[len++] = o->queue[0];
    out[len++] = ':';
    for (const char *p = location; *p != '\0'; p++) {
        if (len + 3 > size)
            return 0;
        if (*p == ':' || *p == '|')
            out[len++] = '|';
        out[len++] = *p;
    }
    out[len++] = ':';
    return len;
}

/*
 * The source of lines: the input file, or a copy made on the first pass
 * when the input cannot be read twice and --count needs more passes.
 */
struct input {
    FILE *file;
    const char *name;
    int seekable;
    int keep;
    int replay;
    size_t replay_index;
    struct line_store store;
    char *buf;
    size_t buf_size;
    unsigned long line_number;
    unsigned long pass; /* 0 on the first pass over the input */
};

static int keep_line(struct line_store *st, const char *line, size_t len)
{
    if (st->count == st->capacity) {
        size_t capacity = st->capacity ? st->capacity * 2 : 1024;
        char **lines = realloc(st->lines, capacity * sizeof(*lines));
        size_t *lengths;

        if (lines == NULL)
            return -1;
        st->lines = lines;
        lengths = realloc(st->lengths, capacity * sizeof(*lengths));
        if (lengths == NULL)
            return -1;
        st->lengths = lengths;
        st->capacity = capacity;
    }
    st->lines[st->count] = malloc(len ? len : 1);
    if (st->lines[st->count] == NULL)
        return -1;
    memcpy(st->lines[st->count], line, len);
    st->lengths[st->count++] = len;
    return 0;
}

/*
 * Returns 1 and the next non-empty line without its line ending, 0 at the
 * end of a pass, or -1 after printing a read error.
 */
static int next_line(struct input *in, const char **line, size_t *len)
{
    ssize_t n;

    if (in->replay) {
        if (in->replay_index == in->store.count)
            return 0;
        *line = in->store.lines[in->replay_index];
        *len = in->store.lengths[in->replay_index++];
        return 1;
    }
    do {
        errno = 0;
        n = getline(&in->buf, &in->buf_size, in->file);
        if (n < 0) {
            if (ferror(in->file)) {
                fprintf(stderr, PROGRAM ": cannot read %s: %s\n", in->name,
                        strerror(errno));
                return -1;
            }
            return 0;
        }
        in->line_number++;
        if (n > 0 && in->buf[n - 1] == '\n')
            n--;
        if (n > 0 && in->buf[n - 1] == '\r')
            n--;
    } while (n == 0);
    if (in->keep && keep_line(&in->store, in->buf, (size_t)n) != 0) {
        fprintf(stderr, PROGRAM ": out of memory keeping the input\n");
        return -1;
    }
    *line = in->buf;
    *len = (size_t)n;
    return 1;
}

/* Starts the next pass over the input; returns 0 or -1. */
static int restart_input(struct input *in)
{
    in->pass++;
    if (in->keep) {
        in->replay = 1;
        in->replay_index = 0;
        return 0;
    }
    if (fseeko(in->file, 0, SEEK_SET) != 0) {
        fprintf(stderr, PROGRAM ": cannot read %s again: %s\n", in->name,
                strerror(errno));
        return -1;
    }
    clearerr(in->file);
    in->line_number = 0;
    return 0;
}

static int open_input(struct input *in, const struct options *o)
{
    memset(in, 0, sizeof(*in));
    in->name = o->input ? o->input : "standard input";
    in->file = o->input ? fopen(o->input, "rb") : stdin;
    if (in->file == NULL) {
        fprintf(stderr, PROGRAM ": cannot open %s: %s\n", o->input,
                strerror(errno));
        return -1;
    }
    in->seekable = fseeko(in->file, 0, SEEK_CUR) == 0;
    in->keep = o->count > 0 && !in->seekable;
    return 0;
}

static void close_input(struct input *in)
{
    if (in->file != NULL && in->file != stdin)
        fclose(in->file);
    for (size_t i = 0; i < in->store.count; i++)
        free(in->store.lines[i]);
    free(in->store.lines);
    free(in->store.lengths);
    free(in->buf);
}

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps until the next event is due under --rate. */
static void pace(const struct options *o, double start, unsigned long sent)
{
    double due = start + (double)sent / o->rate;
    double wait = due - now_seconds();
    struct timespec ts;

    if (wait <= 0)
        return;
    ts.tv_sec = (time_t)wait;
    ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

struct sender {
    const struct options *o;
    struct connection *conns;
    char prefix[8192];
    size_t prefix_len;
    double start;
    struct counters n;
};

static void report_oversized(const struct sender *s, const struct input *in,
                             size_t msg_len)
{
    if (s->n.oversized < OVERSIZED_REPORTS)
        fprintf(stderr,
                PROGRAM ": %s line %lu: message of %zu bytes is longer than "
                        "%d bytes; skipped\n",
                in->name, in->line_number, msg_len, WL_MESSAGE_MAX);
    else if (s->n.oversized == OVERSIZED_REPORTS)
        fprintf(stderr, PROGRAM ": further long lines are only counted\n");
}

/*
 * Frames one line and queues it on the next connection in turn. Returns 1
 * when sent, 0 when skipped as too long, -1 on a connection failure.
 */
static int send_line(struct sender *s, const struct input *in, const char *line,
                     size_t len)
{
    size_t msg_len = s->prefix_len + len;
    struct connection *c = &s->conns[s->n.sent % s->o->connections];
    unsigned char header[4];

    if (msg_len > WL_MESSAGE_MAX) {
        /* Later passes over the input repeat what the first one reported. */
        if (in->pass == 0)
            report_oversized(s, in, msg_len);
        s->n.oversized++;
        return 0;
    }
    if (s->o->rate > 0)
        pace(s->o, s->start, s->n.sent);
    header[0] = (unsigned char)(msg_len & 0xff);
    header[1] = (unsigned char)((msg_len >> 8) & 0xff);
    header[2] = (unsigned char)((msg_len >> 16) & 0xff);
    header[3] = (unsigned char)((msg_len >> 24) & 0xff);
    if (append(c, s->o, header, sizeof(header)) != 0 ||
        append(c, s->o, s->prefix, s->prefix_len) != 0 ||
        append(c, s->o, line, len) != 0)
        return -1;
    if (s->o->rate > 0 && flush_connection(c, s->o) != 0)
        return -1;
    s->n.sent++;
    s->n.bytes += sizeof(header) + msg_len;
    return 1;
}

/*
 * Sends the input once, or over and over until --count events went out.
 * Returns 0 or -1.
 */
static int send_all(struct sender *s, struct input *in)
{
    const struct options *o = s->o;
    const char *line;
    size_t len;
    int r;

    for (;;) {
        unsigned long sent_before = s->n.sent;

        while ((r = next_line(in, &line, &len)) == 1) {
            if (send_line(s, in, line, len) < 0)
                return -1;
            if (o->count > 0 && s->n.sent == o->count)
                return 0;
        }
        if (r < 0)
            return -1;
        if (o->count == 0)
            return 0;
        if (s->n.sent == sent_before) {
            fprintf(stderr,
                    PROGRAM ": %s has no line to send; stopped after %lu of "
                            "%lu events\n",
                    in->name, s->n.sent, o->count);
            return 0;
        }
        if (restart_input(in) != 0)
            return -1;
    }
}

/* Reads the whole input, then runs the simulated agents; returns 0 or 1. */
static int run_native(const struct options *o, struct input *in,
                      const char *prefix)
{
    struct wl_send_native_options no = {
        .host = o->host,
        .port = o->port,
        .enroll_port = o->enroll_port,
        .password = o->password,
        .keys_path = o->keys,
        .prefix = prefix,
        .name_prefix = o->name,
        .agents = o->agents,
        .threads = o->threads < o->agents ? o->threads : o->agents,
        .udp = o->udp,
        .enroll = o->enroll,
        .rate = o->rate,
        .count = o->count,
    };
    const char *line;
    size_t len;
    int r, status;

    in->keep = 1;
    while ((r = next_line(in, &line, &len)) == 1)
        ;
    if (r < 0)
        return EXIT_FAILED;
    if (o->enroll) {
        no.tls = make_context(o);
        if (no.tls == NULL)
            return EXIT_FAILED;
    }
    status = wl_send_native_run(&no, in->store.lines, in->store.lengths,
                                in->store.count);
    SSL_CTX_free(no.tls);
    return status;
}

int main(int argc, char **argv)
{
    struct options o;
    struct input in;
    struct sender s = {0};
    SSL_CTX *ctx = NULL;
    double seconds;
    int status = EXIT_FAILED, opened = 0;

    if (parse_options(argc, argv, &o) != 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    if (open_input(&in, &o) != 0)
        return EXIT_FAILED;
    s.o = &o;
    s.prefix_len = build_prefix(&o, s.prefix, sizeof(s.prefix));
    if (s.prefix_len == 0) {
        fprintf(stderr, PROGRAM ": --agent or --location is too long\n");
        goto out;
    }
    if (o.native) {
        status = run_native(&o, &in, s.prefix);
        goto out;
    }
    ctx = make_context(&o);
    s.conns = calloc((size_t)o.connections, sizeof(*s.conns));
    if (ctx == NULL || s.conns == NULL)
        goto out;
    for (; opened < o.connections; opened++) {
        if (open_connection(&s.conns[opened], ctx, &o) != 0) {
            opened++;
            goto out;
        }
    }
    s.start = now_seconds();
    if (send_all(&s, &in) != 0)
        goto out;
    for (int i = 0; i < o.connections; i++) {
        if (flush_connection(&s.conns[i], &o) != 0)
            goto out;
    }
    for (int i = 0; i < o.connections; i++) {
        if (finish_connection(&s.conns[i], &o) != 0)
            goto out;
    }
    seconds = now_seconds() - s.start;
    printf("sent %lu events, %llu bytes, %.3f s, %.1f events/s, %lu skipped "
           "(longer than %d bytes)\n",
           s.n.sent, s.n.bytes, seconds,
           seconds > 0 ? (double)s.n.sent / seconds : 0.0, s.n.oversized,
           WL_MESSAGE_MAX);
    status = 0;
out:
    for (int i = 0; i < opened; i++)
        close_connection(&s.conns[i]);
    free(s.conns);
    SSL_CTX_free(ctx);
    close_input(&in);
    return status;
}
