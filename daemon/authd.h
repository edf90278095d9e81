/*
 * The enrollment service of port 1515, as wazuh-authd serves it: one TLS
 * connection per request, one request line ending in '\n', one reply
 * without a newline, then the server closes the connection.
 *
 * It runs on its own threads (an acceptor and one short-lived thread per
 * connection, at most max_clients at a time) with blocking sockets and
 * timeouts, so a slow client never delays the event loop. New agents go
 * into the keys of a struct wl_native under its lock, so port 1514
 * accepts them at once, and client.keys is rewritten after each
 * successful reply. The process must ignore SIGPIPE, as wazlabd does,
 * because a client may close before its reply is written.
 */
#ifndef WL_AUTHD_H
#define WL_AUTHD_H

#include "daemon/enroll.h"
#include "daemon/native.h"

#include <openssl/ssl.h>

/* The cipher list of wazuh-authd for TLS 1.2 and below. */
#define WL_AUTHD_CIPHERS "HIGH:!ADH:!EXP:!MD5:!RC4:!3DES:!CAMELLIA:@STRENGTH"

struct wl_authd;

struct wl_authd_options {
    const char *address;      /* IPv4 or IPv6 literal to bind */
    int port;                 /* 1515; 0 lets the system pick (tests) */
    SSL_CTX *tls;             /* server context; borrowed, must outlive authd */
    struct wl_native *native; /* owner of the keys; borrowed */
    const struct wl_enroll_config *enroll; /* borrowed */
    /* Status of an agent an enrollment might replace; called with the keys
     * lock held. NULL: wl_native_agent_status() on native. */
    wl_enroll_status_fn status;
    void *status_ctx;
    /* Called after an agent was added and client.keys saved, from a
     * connection thread with no lock held. May be NULL. */
    void (*on_enrolled)(void *ctx, const struct wl_enroll_result *result,
                        const char *ip, const char *key_hash);
    void *on_enrolled_ctx;
    int max_clients; /* connections served at once; 0: 64 */
    int timeout_ms;  /* per read or write; 0: 10000 */
};

struct wl_authd_stats {
    unsigned long connections; /* accepted */
    unsigned long enrolled;    /* agents added */
    unsigned long refused;     /* requests rejected with an error reply */
    unsigned long failed;      /* TLS, timeout or protocol failures */
    unsigned long busy;        /* closed at once: max_clients reached */
};

/*
 * Prepares a server context the way authd does: TLS 1.2 or later (1.3
 * included), authd's cipher list, the given certificate and key (PEM).
 * Returns 0 and *out (free with SSL_CTX_free), or WL_ETLS with a message
 * in err.
 */
int wl_authd_tls_new(const char *cert_file, const char *key_file, SSL_CTX **out,
                     char *err, size_t err_size);

/*
 * Listens on address:port and starts the acceptor thread. Returns 0 and
 * *out, WL_EBUSY when the address is in use, or WL_EIO / WL_ENOMEM, with
 * a message in err.
 */
int wl_authd_start(const struct wl_authd_options *opt, struct wl_authd **out,
                   char *err, size_t err_size);

/* Returns the port listened on (useful after port 0). */
int wl_authd_port(const struct wl_authd *a);

/* Copies the counters. */
void wl_authd_get_stats(struct wl_authd *a, struct wl_authd_stats *stats);

/*
 * Stops accepting, waits for the connections being served (each ends
 * within its timeout) and frees a.
 */
void wl_authd_stop(struct wl_authd *a);

#endif
