/*
 * Framing of agent events: a 4-byte little-endian length, then that many
 * bytes of a Wazuh event message "<queue>:<location>:<log>".
 *
 * struct wl_frame_reader is the one bounded reader for untrusted frame
 * bytes. A caller asks where the next bytes go and how many it may read
 * (wl_frame_reader_space), reads at most that many, then commits them.
 * The length prefix is checked (1 to WL_FRAME_MAX) before any body byte
 * is read. The body buffer grows to the largest valid length seen, so it
 * never exceeds WL_FRAME_MAX and costs nothing before the first frame.
 */
#ifndef WL_FRAME_H
#define WL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/message.h"

#define WL_FRAME_MAX WL_MESSAGE_MAX /* 65,536 bytes, Wazuh's OS_MAXSTR */
#define WL_FRAME_HEADER 4

struct wl_frame_reader {
    unsigned char header[WL_FRAME_HEADER];
    size_t header_used;
    unsigned char *body; /* body_capacity bytes, NULL before a frame */
    size_t body_capacity;
    size_t body_len; /* length from the header; 0 while reading it */
    size_t body_used;
    uint32_t bad_length; /* the rejected length after WL_ERANGE */
};

/* Returns 0. Free with wl_frame_reader_free(). */
int wl_frame_reader_init(struct wl_frame_reader *r);
void wl_frame_reader_free(struct wl_frame_reader *r);

/*
 * Sets *buf and *len to where the next bytes must be written and how many
 * the reader takes at most now (the rest of the header or of the body).
 */
void wl_frame_reader_space(struct wl_frame_reader *r, unsigned char **buf,
                           size_t *len);

/*
 * Records that n bytes (at most the length from wl_frame_reader_space)
 * were written. Returns WL_EAGAIN when the frame is still incomplete, 0
 * when a frame is complete (read it with wl_frame_reader_frame, which
 * stays valid until the next commit), WL_ERANGE when the header holds
 * 0 or a length over WL_FRAME_MAX, or WL_ENOMEM when the body buffer
 * cannot grow. The reader must not be used after WL_ERANGE or WL_ENOMEM.
 */
int wl_frame_reader_commit(struct wl_frame_reader *r, size_t n);

/* Returns the body of the frame just completed and its length in *len. */
const unsigned char *wl_frame_reader_frame(struct wl_frame_reader *r,
                                           size_t *len);

/* Returns the number of bytes held of an incomplete frame (0 if none). */
size_t wl_frame_reader_pending(const struct wl_frame_reader *r);

/*
 * Feeds len bytes through the reader, calling on_frame for each complete
 * frame; a non-zero return from on_frame stops and is returned. Returns 0
 * when every byte was taken (an incomplete frame may remain), WL_ERANGE
 * or WL_ENOMEM.
 */
int wl_frame_reader_feed(struct wl_frame_reader *r, const void *data,
                         size_t len,
                         int (*on_frame)(void *arg, const unsigned char *frame,
                                         size_t len),
                         void *arg);

/*
 * An event message split into its parts. Location and log point into the
 * caller's buffers; location is unescaped ("|:" is ":", "||" is "|") and
 * has the agent prefix removed when there was one.
 */
struct wl_event_parts {
    char queue;
    const char *location;     /* NUL-terminated, in the location buffer */
    const unsigned char *log; /* inside the message, not NUL-terminated */
    size_t log_len;
    int has_agent; /* the location started "[<id>] (<name>) <ip>->" */
    char agent_id[16];
    char agent_name[128];
    char agent_ip[64];
};

/*
 * Splits "<queue>:<location>:<log>" as Wazuh's analysisd does: the queue
 * is one printable byte followed by ':', the location runs to the first
 * ':' not escaped by '|' and must not be empty. When the location starts
 * with the prefix that remoted adds, "[001] (WIN10) any->EventChannel",
 * the id, name and ip are returned and the location is the rest.
 * location_buf receives the unescaped location (it needs at most len + 1
 * bytes; a longer location is cut). Returns 0 or WL_EINVAL, with the
 * reason as a static string in *reason when reason is not NULL.
 */
int wl_event_parse(const void *message, size_t len, char *location_buf,
                   size_t location_size, struct wl_event_parts *parts,
                   const char **reason);

#endif
