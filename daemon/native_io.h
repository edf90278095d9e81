/*
 * Transport glue of the native agent protocol for a libuv event loop:
 * a TCP connection state (frame reassembly, replies), the UDP listener
 * of port 1514 and the timer that reloads client.keys. The event loop
 * owns sockets; these functions only see bytes and call back.
 *
 * Everything here runs on the loop thread.
 */
#ifndef WL_NATIVE_IO_H
#define WL_NATIVE_IO_H

#include "daemon/message.h"
#include "daemon/native.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Interval of the client.keys change check, as remoted's keyupdate. */
#define WL_NATIVE_RELOAD_MS 10000

/* Callbacks a connection uses to reach the event loop. */
struct wl_native_io {
    /* Sends len bytes (a whole frame) on the connection; copies them. */
    int (*write)(void *ctx, const void *data, size_t len);
    /* Takes a message for analysis (ownership passes). */
    void (*submit)(void *ctx, struct wl_message *msg);
    /* Closes another connection an agent moved away from (may be NULL). */
    void (*close_connection)(void *ctx, uint64_t connection_id);
    void *ctx;
};

struct wl_native_conn;

/*
 * Tells whether the first bytes of a TCP connection are the native
 * protocol: a little-endian length of 1 to 65536, then '!', '#' or ':'.
 * Returns 1 when they are, 0 when not, or WL_EAGAIN before 5 bytes. A
 * TLS record (0x16 0x03 ...) never matches.
 */
int wl_native_detect(const void *first, size_t len);

/* Creates the state of one TCP connection; NULL when out of memory. */
struct wl_native_conn *wl_native_conn_new(struct wl_native *n,
                                          uint64_t connection_id,
                                          const char *peer_ip);

/*
 * Feeds bytes read from the connection: complete frames are handled, the
 * replies written and the events submitted through io. Returns 0, or a
 * negative code when the connection must be closed (oversized frame or a
 * payload remoted closes for).
 */
int wl_native_conn_input(struct wl_native_conn *c, const void *data, size_t len,
                         const struct wl_native_io *io);

/* Returns the number of whole frames received, keepalives included. */
unsigned long wl_native_conn_frames(const struct wl_native_conn *c);

/* Returns the agent bound to the connection, or "" before the first. */
const char *wl_native_conn_agent(const struct wl_native_conn *c);

/* Releases the agent bound to the connection and frees c. */
void wl_native_conn_free(struct wl_native_conn *c);

struct wl_native_udp;

/*
 * Listens for native datagrams on address:port (port 0: the system picks)
 * on loop. Each datagram is one payload; replies go back to its sender.
 * Messages go to submit(ctx, msg). Returns 0 and *out, or a WL_E* code
 * with a message in err.
 */
int wl_native_udp_start(uv_loop_t *loop, const char *address, int port,
                        struct wl_native *n,
                        void (*submit)(void *ctx, struct wl_message *msg),
                        void *ctx, struct wl_native_udp **out, char *err,
                        size_t err_size);

/* Returns the bound UDP port. */
int wl_native_udp_port(const struct wl_native_udp *u);

/*
 * Stops (paused 1) or restarts (paused 0) reading datagrams, for
 * backpressure. While stopped, the kernel drops what its buffer cannot
 * hold, as for any UDP service.
 */
void wl_native_udp_pause(struct wl_native_udp *u, int paused);

/* Closes the socket; the memory is freed by the loop's close callback. */
void wl_native_udp_stop(struct wl_native_udp *u);

struct wl_native_reload;

/*
 * Starts a timer on loop that calls wl_native_reload_keys() every
 * interval_ms. The timer does not keep the loop alive. Returns 0 or
 * WL_ENOMEM.
 */
int wl_native_reload_start(uv_loop_t *loop, struct wl_native *n,
                           unsigned interval_ms, struct wl_native_reload **out);
void wl_native_reload_stop(struct wl_native_reload *t);

#endif
