/* Unit tests of the frame reader and the event message parser. */
#include "config.h"

#include "daemon/error.h"
#include "daemon/frame.h"
#include "tests/tap.h"

#include <stdlib.h>
#include <string.h>

struct collected {
    int count;
    size_t lengths[8];
    char bodies[8][128];
};

static int collect(void *arg, const unsigned char *frame, size_t len)
{
    struct collected *c = arg;

    if (c->count < 8) {
        c->lengths[c->count] = len;
        memcpy(c->bodies[c->count], frame, len < 127 ? len : 127);
        c->bodies[c->count][len < 127 ? len : 127] = '\0';
    }
    c->count++;
    return 0;
}

/* Appends a frame (length prefix and body) to buf; returns bytes added. */
static size_t put_frame(unsigned char *buf, const char *body)
{
    size_t len = strlen(body);

    buf[0] = (unsigned char)(len & 0xff);
    buf[1] = (unsigned char)(len >> 8 & 0xff);
    buf[2] = (unsigned char)(len >> 16 & 0xff);
    buf[3] = (unsigned char)(len >> 24 & 0xff);
    memcpy(buf + 4, body, len);
    return len + 4;
}

static void test_split_frame(void)
{
    struct wl_frame_reader r;
    struct collected c = {0};
    unsigned char buf[256];
    size_t n = put_frame(buf, "1:app:hello");
    int rc = 0;

    wl_frame_reader_init(&r);
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = wl_frame_reader_feed(&r, buf + i, 1, collect, &c);
        if (i + 1 < n && c.count != 0)
            break;
    }
    is_int(rc, 0, "split frame: feeding one byte at a time succeeds");
    is_int(c.count, 1, "split frame: one frame after the last byte");
    is_str(c.bodies[0], "1:app:hello", "split frame: body intact");
    is_int(wl_frame_reader_pending(&r), 0, "split frame: nothing pending");
    wl_frame_reader_free(&r);
}

static void test_many_frames(void)
{
    struct wl_frame_reader r;
    struct collected c = {0};
    unsigned char buf[512];
    size_t n = 0;
    int rc;

    wl_frame_reader_init(&r);
    n += put_frame(buf + n, "1:a:first");
    n += put_frame(buf + n, "1:b:second");
    n += put_frame(buf + n, "f:EventChannel:{}");
    n += put_frame(buf + n, "1:c:partial");
    rc = wl_frame_reader_feed(&r, buf, n - 3, collect, &c);
    is_int(rc, 0, "many frames: one read succeeds");
    is_int(c.count, 3, "many frames: three complete frames");
    is_str(c.bodies[0], "1:a:first", "many frames: first in order");
    is_str(c.bodies[1], "1:b:second", "many frames: second in order");
    is_str(c.bodies[2], "f:EventChannel:{}", "many frames: third in order");
    is_int(wl_frame_reader_pending(&r), 4 + 8, "many frames: partial held");
    rc = wl_frame_reader_feed(&r, buf + n - 3, 3, collect, &c);
    is_int(c.count, 4, "many frames: partial completes on next read");
    is_str(c.bodies[3], "1:c:partial", "many frames: partial body intact");
    wl_frame_reader_free(&r);
}

static void test_header_split(void)
{
    struct wl_frame_reader r;
    struct collected c = {0};
    unsigned char buf[64];
    size_t n = put_frame(buf, "1:x:y");

    wl_frame_reader_init(&r);
    wl_frame_reader_feed(&r, buf, 2, collect, &c);
    is_int(wl_frame_reader_pending(&r), 2, "header split: 2 bytes held");
    wl_frame_reader_feed(&r, buf + 2, 3, collect, &c);
    is_int(c.count, 0, "header split: no frame yet");
    wl_frame_reader_feed(&r, buf + 5, n - 5, collect, &c);
    is_int(c.count, 1, "header split: frame complete");
    wl_frame_reader_free(&r);
}

static void test_bad_lengths(void)
{
    struct wl_frame_reader r;
    struct collected c = {0};
    unsigned char zero[4] = {0, 0, 0, 0};
    unsigned char big[4] = {0x70, 0x11, 0x01, 0x00}; /* 70,000 */
    unsigned char max[4] = {0x00, 0x00, 0x01, 0x00}; /* 65,536 */
    unsigned char *body;
    int rc;

    wl_frame_reader_init(&r);
    rc = wl_frame_reader_feed(&r, zero, 4, collect, &c);
    is_int(rc, WL_ERANGE, "zero length is rejected");
    is_int(r.bad_length, 0, "zero length is reported");
    wl_frame_reader_free(&r);

    wl_frame_reader_init(&r);
    rc = wl_frame_reader_feed(&r, big, 4, collect, &c);
    is_int(rc, WL_ERANGE, "length 70,000 is rejected");
    is_int(r.bad_length, 70000, "oversized length is reported");
    wl_frame_reader_free(&r);

    wl_frame_reader_init(&r);
    body = malloc(WL_FRAME_MAX);
    memset(body, 'a', WL_FRAME_MAX);
    memcpy(body, "1:x:", 4);
    rc = wl_frame_reader_feed(&r, max, 4, collect, &c);
    if (rc == 0)
        rc = wl_frame_reader_feed(&r, body, WL_FRAME_MAX, collect, &c);
    is_int(rc, 0, "length 65,536 is accepted");
    is_int(c.count, 1, "frame of 65,536 bytes is complete");
    is_int(c.lengths[0], WL_FRAME_MAX, "frame of 65,536 bytes has its length");
    free(body);
    wl_frame_reader_free(&r);
}

static void test_space_limits_reads(void)
{
    struct wl_frame_reader r;
    unsigned char *buf;
    size_t room;

    wl_frame_reader_init(&r);
    ok(r.body == NULL, "reader holds no body buffer before a frame");
    wl_frame_reader_space(&r, &buf, &room);
    is_int(room, 4, "reader asks for the 4-byte header first");
    memcpy(buf, "\x05\x00\x00\x00", 4);
    is_int(wl_frame_reader_commit(&r, 4), WL_EAGAIN, "header committed");
    wl_frame_reader_space(&r, &buf, &room);
    is_int(room, 5, "reader asks for exactly the body length");
    is_int(r.body_capacity, 5, "body buffer sized to the frame");
    memcpy(buf, "1:a:b", 5);
    is_int(wl_frame_reader_commit(&r, 5), 0, "small frame complete");
    wl_frame_reader_frame(&r, &room);
    wl_frame_reader_space(&r, &buf, &room);
    memcpy(buf, "\x00\x01\x00\x00", 4);
    wl_frame_reader_commit(&r, 4);
    is_int(r.body_capacity, 256, "body buffer grows for a larger frame");
    wl_frame_reader_free(&r);
}

static void test_parse(void)
{
    struct wl_event_parts p;
    char loc[256];
    const char *reason;
    const char *m;

    m = "f:EventChannel:{\"Event\":\"x\"}";
    is_int(wl_event_parse(m, strlen(m), loc, sizeof(loc), &p, &reason), 0,
           "parse plain event");
    is_int(p.queue, 'f', "parse plain: queue");
    is_str(p.location, "EventChannel", "parse plain: location");
    is_int(p.log_len, strlen("{\"Event\":\"x\"}"), "parse plain: log length");
    is_int(p.has_agent, 0, "parse plain: no agent prefix");

    m = "f:[001] (WIN10) any->EventChannel:{}";
    is_int(wl_event_parse(m, strlen(m), loc, sizeof(loc), &p, &reason), 0,
           "parse prefixed event");
    is_int(p.has_agent, 1, "parse prefixed: agent found");
    is_str(p.agent_id, "001", "parse prefixed: id");
    is_str(p.agent_name, "WIN10", "parse prefixed: name");
    is_str(p.agent_ip, "any", "parse prefixed: ip");
    is_str(p.location, "EventChannel", "parse prefixed: location");

    m = "1:C|:\\logs\\a||b.log:line: with colon";
    is_int(wl_event_parse(m, strlen(m), loc, sizeof(loc), &p, &reason), 0,
           "parse escaped location");
    is_str(p.location, "C:\\logs\\a|b.log", "parse escaped: unescaped");
    ok(p.log_len == strlen("line: with colon") &&
           memcmp(p.log, "line: with colon", p.log_len) == 0,
       "parse escaped: log after the first unescaped colon");

    m = "1:[12x] (a) b->c:log";
    is_int(wl_event_parse(m, strlen(m), loc, sizeof(loc), &p, &reason), 0,
           "parse bad prefix");
    is_int(p.has_agent, 0, "parse bad prefix: not an agent prefix");
    is_str(p.location, "[12x] (a) b->c", "parse bad prefix: kept as is");

    m = "no queue here";
    is_int(wl_event_parse(m, strlen(m), loc, sizeof(loc), &p, &reason),
           WL_EINVAL, "parse rejects a message without queue");
    ok(reason != NULL, "parse gives a reason");
    m = "1:location without end";
    is_int(wl_event_parse(m, strlen(m), loc, sizeof(loc), &p, &reason),
           WL_EINVAL, "parse rejects a location without ':'");
    m = "1::log";
    is_int(wl_event_parse(m, strlen(m), loc, sizeof(loc), &p, &reason),
           WL_EINVAL, "parse rejects an empty location");
    m = "::x:y";
    is_int(wl_event_parse(m, strlen(m), loc, sizeof(loc), &p, &reason),
           WL_EINVAL, "parse rejects ':' as queue");
    is_int(wl_event_parse("1", 1, loc, sizeof(loc), &p, &reason), WL_EINVAL,
           "parse rejects one byte");
}

static int count_frame(void *arg, const unsigned char *frame, size_t len)
{
    char loc[64];
    struct wl_event_parts p;

    (*(int *)arg)++;
    wl_event_parse(frame, len, loc, sizeof(loc), &p, NULL);
    return 0;
}

/* Random bytes through the reader and parser: no crash, bounded frames. */
static void test_random_input(void)
{
    unsigned int seed = 12345;
    int failures = 0;
    int frames = 0;

    for (int round = 0; round < 2000; round++) {
        struct wl_frame_reader r;
        unsigned char buf[512];
        size_t len;
        int rc;

        seed = seed * 1103515245u + 12345u;
        len = seed % sizeof(buf);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = (unsigned char)(seed >> 16);
        }
        /* Small lengths often, so that some frames complete. */
        if (len >= 4 && round % 2 == 0) {
            buf[0] = (unsigned char)(seed % 64 + 1);
            buf[1] = buf[2] = buf[3] = 0;
        }
        wl_frame_reader_init(&r);
        rc = wl_frame_reader_feed(&r, buf, len, count_frame, &frames);
        if (rc != 0 && rc != WL_ERANGE)
            failures++;
        if (r.body_capacity > WL_FRAME_MAX)
            failures++;
        wl_frame_reader_free(&r);
    }
    is_int(failures, 0, "random input: only WL_ERANGE, bounded buffer");
    ok(frames > 0, "random input: some frames complete");
}

int main(void)
{
    test_split_frame();
    test_many_frames();
    test_header_split();
    test_bad_lengths();
    test_space_limits_reads();
    test_parse();
    test_random_input();
    return tap_done();
}
