#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/message.h"

#include <stdlib.h>
#include <string.h>

struct wl_message *wl_message_new(const void *data, size_t len)
{
    struct wl_message *msg = malloc(sizeof(*msg) + len + 1);

    if (msg == NULL)
        return NULL;
    memset(msg, 0, sizeof(*msg));
    memcpy(msg->data, data, len);
    msg->data[len] = '\0';
    msg->len = len;
    clock_gettime(CLOCK_REALTIME, &msg->received);
    return msg;
}

void wl_message_free(struct wl_message *msg)
{
    free(msg);
}
