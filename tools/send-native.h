/*
 * The native mode of wazlab-send: many simulated Wazuh 4.x agents in one
 * process. Each agent enrolls on the enrollment port, or takes its key
 * from a client.keys file. It then sends secure messages to the event
 * port over TCP or UDP: startup and a keepalive (each acked), the events,
 * a final keepalive round trip and the shutdown notice.
 */
#ifndef WL_SEND_NATIVE_H
#define WL_SEND_NATIVE_H

#include <openssl/ssl.h>
#include <stddef.h>

struct wl_send_native_options {
    const char *host; /* IPv4 or IPv6 address or name */
    const char *port; /* event port */
    const char *enroll_port;
    const char *password;    /* enrollment password or NULL */
    const char *keys_path;   /* client.keys to use instead of enrolling */
    const char *prefix;      /* "<queue>:<location>:" of every event */
    const char *name_prefix; /* agents are called <name_prefix>-<n> */
    SSL_CTX *tls;            /* client context for enrollment */
    int agents;
    int threads;
    int udp;
    int enroll;
    double rate;         /* events per second in all; 0: no limit */
    unsigned long count; /* events in all; 0: each line once */
};

/*
 * Runs the agents; lines[0..nlines) are the event bodies, sent in turn
 * by agent after agent (event e by agent e % agents). Prints one summary
 * line on standard output and errors on standard error. Returns 0 when
 * every agent enrolled, got its acks and sent its events, else 1.
 */
int wl_send_native_run(const struct wl_send_native_options *o,
                       char *const *lines, const size_t *lengths,
                       size_t nlines);

#endif
