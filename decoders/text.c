/*
 * Byte buffers and JSON string escaping shared by the decoders, written to
 * give exactly the text cJSON 1.7 prints.
 */
#include "config.h"

#include "decoders/decode-int.h"
#include "daemon/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int wl_dec_buf_grow(struct wl_dec_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;

    if (need < extra)
        return WL_ENOMEM;
    if (need <= b->cap)
        return 0;

    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (data == NULL)
        return WL_ENOMEM;
    b->data = data;
    b->cap = cap;
    return 0;
}

int wl_dec_buf_append(struct wl_dec_buf *b, const char *s, size_t n)
{
    if (wl_dec_buf_reserve(b, n) < 0)
        return WL_ENOMEM;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int wl_dec_buf_putc(struct wl_dec_buf *b, char c)
{
    return wl_dec_buf_append(b, &c, 1);
}

void wl_dec_buf_free(struct wl_dec_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

/* Bytes that cJSON escapes in a string: '"', '\\' and controls. */
int wl_dec_needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when a byte of x is zero (the classic bit trick). */
static uint64_t zero_byte(uint64_t x)
{
    return (x - ONES) & ~x & HIGHS;
}

/*
 * Returns the length of the leading run of s that needs no change: no
 * '&', and when escape is set no byte that cJSON escapes. Eight bytes are
 * tested at a time.
 */
size_t wl_dec_plain_run(const char *s, size_t n, int amp, int escape)
{
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t x, hit = 0;

        memcpy(&x, s + i, 8);
        if (amp)
            hit |= zero_byte(x ^ (ONES * '&'));
        if (escape) {
            hit |= zero_byte(x ^ (ONES * '"'));
            hit |= zero_byte(x ^ (ONES * '\\'));
            /* A byte below 0x20: (x - 0x20) borrows into its top bit. */
            hit |= (x - ONES * 0x20) & ~x & HIGHS;
        }
        if (hit != 0) {
            /* The lowest flag marks the first such byte exactly. */
            return i + (size_t)__builtin_ctzll(hit) / 8;
        }
    }
    while (i < n) {
        unsigned char c = (unsigned char)s[i];

        if ((amp && c == '&') || (escape && wl_dec_needs_escape(c)))
            break;
        i++;
    }
    return i;
}

/* Writes the escape sequence of c at p; returns the new end. */
char *wl_dec_put_escape(char *p, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    *p++ = '\\';
    switch (c) {
    case '"':
        *p++ = '"';
        break;
    case '\\':
        *p++ = '\\';
        break;
    case '\b':
        *p++ = 'b';
        break;
    case '\f':
        *p++ = 'f';
        break;
    case '\n':
        *p++ = 'n';
        break;
    case '\r':
        *p++ = 'r';
        break;
    case '\t':
        *p++ = 't';
        break;
    default:
        *p++ = 'u';
        *p++ = '0';
        *p++ = '0';
        *p++ = hex[c >> 4];
        *p++ = hex[c & 0xf];
    }
    return p;
}

int wl_dec_json_escape(struct wl_dec_buf *b, const char *s, size_t n)
{
    /* Worst case: six bytes per input byte, plus the quotes. */
    if (wl_dec_buf_reserve(b, n * 6 + 2) < 0)
        return WL_ENOMEM;

    char *p = b->data + b->len;
    size_t i = 0;
    *p++ = '"';
    while (i < n) {
        size_t start = i;

        i += wl_dec_plain_run(s + i, n - i, 0, 1);
        memcpy(p, s + start, i - start);
        p += i - start;
        if (i < n)
            p = wl_dec_put_escape(p, (unsigned char)s[i++]);
    }
    *p++ = '"';
    b->len = (size_t)(p - b->data);
    b->data[b->len] = '\0';
    return 0;
}

