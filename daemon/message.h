/*
 * One received event message on its way from a connection to analysis:
 * the bytes exactly as received plus who sent them and when.
 */
#ifndef WL_MESSAGE_H
#define WL_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define WL_MESSAGE_MAX 65536 /* largest message body, as Wazuh's OS_MAXSTR */

struct wl_message {
    uint64_t connection_id;
    char agent_id[16];        /* "001"; "000" when the sender has no id */
    char agent_name[128];     /* certificate CN or name taken from the frame */
    char peer_ip[64];         /* the connection's source address */
    struct timespec received; /* CLOCK_REALTIME */
    size_t len;
    char data[]; /* "<queue>:<location>:<log>", len bytes, then a NUL */
};

/* Allocates a message holding a copy of len bytes; NULL when out of memory. */
struct wl_message *wl_message_new(const void *data, size_t len);
void wl_message_free(struct wl_message *msg);

#endif
