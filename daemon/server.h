/*
 * The event listener: a libuv loop on the calling thread that accepts
 * agent connections, runs TLS over memory BIOs, cuts frames and submits
 * messages to the pipeline. SIGTERM and SIGINT stop it.
 */
#ifndef WL_SERVER_H
#define WL_SERVER_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "daemon/agentids.h"
#include "daemon/native.h"
#include "daemon/pipeline.h"

struct wl_server;

struct wl_server_options {
    const char *address; /* IPv4 or IPv6 literal */
    int port;
    SSL_CTX *tls;                  /* borrowed; must outlive the server */
    int mutual_tls;                /* agent name from the client certificate */
    struct wl_agentids *agent_ids; /* borrowed; used with mutual_tls */
    long handshake_timeout_ms;     /* close when TLS is not up by then */
    /* Wazuh agents' own protocol on the same port; NULL: TLS only. */
    struct wl_native *native; /* borrowed; must outlive the server */
    int native_udp;           /* also listen on UDP (protocol "udp") */
    /* Idle limit: a connection that completes no frame for this long
     * is closed (agent keepalives count as frames). 0: never. */
    long recv_timeout_ms;
    /* Connections open at once; more are closed at accept. 0: no limit
     * but the open file limit (some descriptors stay in reserve). */
    int max_connections;
};

struct wl_server_stats {
    unsigned long connections;     /* accepted */
    unsigned long rejected;        /* closed for a protocol or TLS error */
    unsigned long frames;          /* messages submitted */
    unsigned long frames_rejected; /* zero, oversized or unparsable */
    unsigned long long bytes;      /* read from sockets */
    unsigned long pauses;          /* times reading stopped for backpressure */
    unsigned long timeouts;        /* closed for no complete frame in time */
    unsigned long over_limit;      /* closed at accept: too many open */
    unsigned long accept_errors;   /* accept failures (EMFILE, ENFILE...) */
    unsigned long old_tls;         /* refused for an old TLS version */
};

/*
 * Creates the loop handles and listens on address:port. Returns 0 and
 * *out, or WL_EBUSY when the address is in use, or WL_EIO, with a message
 * in err. The pipeline is set with wl_server_set_pipeline() before
 * wl_server_run().
 */
int wl_server_new(const struct wl_server_options *opt, struct wl_server **out,
                  char *err, size_t err_size);

/* Returns the callback and argument a pipeline calls when it drains. */
void wl_server_drain_callback(struct wl_server *srv,
                              void (**callback)(void *arg), void **arg);

void wl_server_set_pipeline(struct wl_server *srv, struct wl_pipeline *p);

/*
 * Runs until SIGTERM or SIGINT. On return every complete frame received
 * has been submitted to the pipeline and every connection is closed.
 */
void wl_server_run(struct wl_server *srv);

/* Copies the counters. */
void wl_server_get_stats(const struct wl_server *srv,
                         struct wl_server_stats *stats);

/* Frees the server; call after wl_server_run() or instead of it. */
void wl_server_free(struct wl_server *srv);

#endif
