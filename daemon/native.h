/*
 * The native Wazuh agent protocol on port 1514 (TCP and UDP), without the
 * transport: the caller cuts TCP frames (wl_secure_frame_parse) or reads
 * UDP datagrams and hands each payload to wl_native_handle(), which
 * identifies the agent, decrypts, checks counters, replies to control
 * messages and turns events into the line remoted forwards to analysis.
 *
 * struct wl_native owns the agent keys (client.keys) behind a mutex, so
 * the enrollment thread can add agents while the event loop decodes.
 * wl_native_handle() itself is meant for one thread, the event loop.
 */
#ifndef WL_NATIVE_H
#define WL_NATIVE_H

#include "daemon/control.h"
#include "daemon/enroll.h"
#include "daemon/keys.h"
#include "daemon/message.h"
#include "daemon/secure.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Seconds an agent keeps its TCP connection against a new one, as
 * remoted's connection_overtake_time. */
#define WL_NATIVE_OVERTAKE_SECONDS 60

struct wl_native;

/* Kind of agent status change, for the agents table. */
enum wl_native_agent_event_kind {
    WL_NATIVE_AGENT_STARTUP,   /* handshake accepted */
    WL_NATIVE_AGENT_KEEPALIVE, /* status message, details in keepalive */
    WL_NATIVE_AGENT_SHUTDOWN,  /* the agent sent its shutdown notice */
};

struct wl_native_agent_event {
    enum wl_native_agent_event_kind kind;
    const char *id;
    const char *name;
    const char *registered_ip;            /* from client.keys */
    const char *peer_ip;                  /* source address of the message */
    const char *version;                  /* startup: "v4.14.7" or "" */
    const struct wl_keepalive *keepalive; /* keepalive only */
};

struct wl_native_options {
    const char *keys_path;    /* client.keys */
    const char *counter_path; /* manager sender counter; NULL: in memory */
    int verify_counters;      /* reject replayed messages (default 0) */
    int allow_higher_versions;
    const char *manager_version; /* NULL: WL_CONTROL_VERSION */
    long disconnection_seconds;  /* 0: WL_NATIVE_DISCONNECTED_SECONDS */
    /* Called on the thread of wl_native_handle(), with no lock held. */
    void (*on_agent)(void *ctx, const struct wl_native_agent_event *event);
    void *on_agent_ctx;
};

/* One source of payloads: a TCP connection or a UDP datagram's sender. */
struct wl_native_peer {
    uint64_t connection_id; /* unique per TCP connection; 0 for UDP */
    char ip[64];            /* source address */
    char agent_id[WL_KEYS_ID_MAX + 1]; /* agent bound to a connection */
};

/* Outcome of one payload. */
struct wl_native_result {
    int error; /* 0, or the WL_SECURE_E* / WL_E* code of a rejection */
    int close; /* 1: close the TCP connection (as remoted does) */
    enum wl_control_kind kind; /* what the message was, when decoded */
    unsigned char *reply;      /* payload to send back (no TCP length); owned */
    size_t reply_len;
    struct wl_message *message;    /* for analysis; owned; NULL when none */
    uint64_t overtaken_connection; /* close this older connection, or 0 */
};

/*
 * Loads the keys and the sender counter. Returns 0 and *out, or a WL_E*
 * code (the keys file exists but cannot be read, or no memory).
 */
int wl_native_new(const struct wl_native_options *opt, struct wl_native **out);

/* Saves the sender counter and frees everything, wiping the keys. */
void wl_native_free(struct wl_native *n);

/*
 * Handles one payload from peer. Fills *res (release it with
 * wl_native_result_clear()). Returns res->error: 0 when the payload was
 * valid, even when it produced nothing (a request response, a keepalive
 * without a newline, a "keepalive" location), else the reason.
 */
int wl_native_handle(struct wl_native *n, struct wl_native_peer *peer,
                     const void *payload, size_t len,
                     struct wl_native_result *res);

/* Frees what a result owns and zeroes it. */
void wl_native_result_clear(struct wl_native_result *res);

/*
 * Tells that a TCP connection closed, so that its agent is no longer
 * bound to it and can connect again at once.
 */
void wl_native_peer_closed(struct wl_native *n,
                           const struct wl_native_peer *peer);

/*
 * Builds a manager-to-agent payload (reply framing not included) for an
 * agent, with the next sender counter and the agent's last cipher. Used
 * for acks and any other control message. Returns 0, WL_ENOENT (unknown
 * agent) or a codec error. *out is freed by the caller.
 */
int wl_native_encode_for(struct wl_native *n, const char *agent_id,
                         const char *message, unsigned char **out,
                         size_t *out_len);

/*
 * Reloads client.keys when it changed on disk (remoted polls it every 10
 * seconds). Returns 1 when reloaded, 0 when unchanged, or a negative
 * code (the keys in memory stay).
 */
int wl_native_reload_keys(struct wl_native *n);

/*
 * Locks the keys for a caller that reads or changes them (enrollment) and
 * returns them. Every lock is paired with wl_native_unlock_keys().
 */
struct wl_keystore *wl_native_lock_keys(struct wl_native *n);
void wl_native_unlock_keys(struct wl_native *n);

/*
 * Default seconds without a message after which an agent counts as
 * disconnected (<global><agents_disconnection_time>).
 */
#define WL_NATIVE_DISCONNECTED_SECONDS 900

/*
 * A wl_enroll_status_fn for enrollment: ctx is the struct wl_native, and
 * the caller holds the keys lock (wl_native_lock_keys). An agent seen
 * within the disconnection time is active, one seen before is
 * disconnected since then, one never seen since start never connected.
 * The registration time is the entry's. Returns 0.
 */
int wl_native_agent_status(void *ctx, const struct wl_key_entry *entry,
                           struct wl_enroll_agent_status *status);

/*
 * Reports, through on_agent as WL_NATIVE_AGENT_SHUTDOWN events with a NULL
 * peer_ip, every agent whose last message is older than the disconnection
 * time and that was not reported yet. Call it periodically from one
 * thread. Returns the number of agents reported.
 */
int wl_native_sweep_disconnected(struct wl_native *n);

/* Counters since start. */
struct wl_native_stats {
    unsigned long accepted;     /* valid messages */
    unsigned long events;       /* messages handed to analysis */
    unsigned long controls;     /* control messages */
    unsigned long replies;      /* acks and errors built */
    unsigned long rejected[16]; /* by -(code + 100) for WL_SECURE_E* */
    unsigned long rejected_other;
};

void wl_native_get_stats(struct wl_native *n, struct wl_native_stats *st);

/*
 * Counts a frame rejected before it reached wl_native_handle() (framing
 * errors of a connection) under its WL_SECURE_E* code. Call it from the
 * thread that calls wl_native_handle(), as the counters are not locked.
 */
void wl_native_count_reject(struct wl_native *n, int code);

#endif
