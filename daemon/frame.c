#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/frame.h"
#include "daemon/error.h"

#include <stdlib.h>
#include <string.h>

int wl_frame_reader_init(struct wl_frame_reader *r)
{
    memset(r, 0, sizeof(*r));
    return 0;
}

void wl_frame_reader_free(struct wl_frame_reader *r)
{
    free(r->body);
    r->body = NULL;
    r->body_capacity = 0;
}

void wl_frame_reader_space(struct wl_frame_reader *r, unsigned char **buf,
                           size_t *len)
{
    if (r->body_len == 0) {
        *buf = r->header + r->header_used;
        *len = WL_FRAME_HEADER - r->header_used;
    } else {
        *buf = r->body + r->body_used;
        *len = r->body_len - r->body_used;
    }
}

int wl_frame_reader_commit(struct wl_frame_reader *r, size_t n)
{
    uint32_t length;

    if (r->body_len == 0) {
        r->header_used += n;
        if (r->header_used < WL_FRAME_HEADER)
            return WL_EAGAIN;
        length = (uint32_t)r->header[0] | (uint32_t)r->header[1] << 8 |
                 (uint32_t)r->header[2] << 16 | (uint32_t)r->header[3] << 24;
        r->header_used = 0;
        if (length == 0 || length > WL_FRAME_MAX) {
            r->bad_length = length;
            return WL_ERANGE;
        }
        if (length > r->body_capacity) {
            unsigned char *body = realloc(r->body, length);

            if (body == NULL)
                return WL_ENOMEM;
            r->body = body;
            r->body_capacity = length;
        }
        r->body_len = length;
        r->body_used = 0;
        return WL_EAGAIN;
    }
    r->body_used += n;
    if (r->body_used < r->body_len)
        return WL_EAGAIN;
    return 0;
}

const unsigned char *wl_frame_reader_frame(struct wl_frame_reader *r,
                                           size_t *len)
{
    *len = r->body_len;
    /* The next space request starts a new header. */
    r->body_len = 0;
    r->body_used = 0;
    return r->body;
}

size_t wl_frame_reader_pending(const struct wl_frame_reader *r)
{
    if (r->body_len == 0)
        return r->header_used;
    return WL_FRAME_HEADER + r->body_used;
}

int wl_frame_reader_feed(struct wl_frame_reader *r, const void *data,
                         size_t len,
                         int (*on_frame)(void *arg, const unsigned char *frame,
                                         size_t len),
                         void *arg)
{
    const unsigned char *p = data;

    while (len > 0) {
        unsigned char *buf;
        size_t room;
        size_t n;
        int rc;

        wl_frame_reader_space(r, &buf, &room);
        n = len < room ? len : room;
        memcpy(buf, p, n);
        p += n;
        len -= n;
        rc = wl_frame_reader_commit(r, n);
        if (rc == WL_EAGAIN)
            continue;
        if (rc != 0)
            return rc;
        {
            size_t frame_len;
            const unsigned char *frame = wl_frame_reader_frame(r, &frame_len);

            rc = on_frame(arg, frame, frame_len);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* Copies src into dst (size bytes) as text, truncating; returns length. */
static size_t copy_text(char *dst, size_t size, const char *src, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

/*
 * Recognises "[<id>] (<name>) <ip>-><rest>" at the start of location and
 * moves the location to <rest>. Leaves parts unchanged when it does not
 * match.
 */
static void take_agent_prefix(struct wl_event_parts *parts)
{
    const char *p = parts->location;
    const char *id_end;
    const char *name_end;
    const char *ip_end;
    size_t id_len;

    if (p[0] != '[')
        return;
    id_end = strchr(p, ']');
    if (id_end == NULL || id_end[1] != ' ' || id_end[2] != '(')
        return;
    id_len = (size_t)(id_end - (p + 1));
    if (id_len == 0 || id_len >= sizeof(parts->agent_id))
        return;
    for (const char *c = p + 1; c < id_end; c++) {
        if (*c < '0' || *c > '9')
            return;
    }
    name_end = strstr(id_end + 3, ") ");
    if (name_end == NULL || name_end == id_end + 3)
        return;
    ip_end = strstr(name_end + 2, "->");
    if (ip_end == NULL || ip_end == name_end + 2)
        return;

    copy_text(parts->agent_id, sizeof(parts->agent_id), p + 1, id_len);
    copy_text(parts->agent_name, sizeof(parts->agent_name), id_end + 3,
              (size_t)(name_end - (id_end + 3)));
    copy_text(parts->agent_ip, sizeof(parts->agent_ip), name_end + 2,
              (size_t)(ip_end - (name_end + 2)));
    parts->has_agent = 1;
    parts->location = ip_end + 2;
}

int wl_event_parse(const void *message, size_t len, char *location_buf,
                   size_t location_size, struct wl_event_parts *parts,
                   const char **reason)
{
    const unsigned char *m = message;
    size_t out = 0;
    size_t i;

    memset(parts, 0, sizeof(*parts));
    if (reason != NULL)
        *reason = NULL;
    if (len < 2 || m[1] != ':' || m[0] == ':' || m[0] < 0x21 || m[0] > 0x7e) {
        if (reason != NULL)
            *reason = "no \"<queue>:\" at the start";
        return WL_EINVAL;
    }
    for (i = 2; i < len; i++) {
        unsigned char c = m[i];

        if (c == '|' && i + 1 < len && (m[i + 1] == ':' || m[i + 1] == '|'))
            c = m[++i];
        else if (c == ':')
            break;
        if (out + 1 < location_size)
            location_buf[out++] = (char)c;
    }
    if (i >= len) {
        if (reason != NULL)
            *reason = "no ':' after the location";
        return WL_EINVAL;
    }
    if (i == 2) {
        if (reason != NULL)
            *reason = "empty location";
        return WL_EINVAL;
    }
    if (location_size > 0)
        location_buf[out < location_size ? out : location_size - 1] = '\0';
    parts->queue = (char)m[0];
    parts->location = location_buf;
    parts->log = m + i + 1;
    parts->log_len = len - i - 1;
    take_agent_prefix(parts);
    return 0;
}
