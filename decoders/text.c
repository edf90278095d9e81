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

#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Sixteen bytes compared at once (GCC and clang vector extensions). */
typedef unsigned char byte16 __attribute__((vector_size(16)));
typedef signed char mask16 __attribute__((vector_size(16)));

/* Returns the index of the first flagged byte of m, or 16. */
static size_t first_flag(mask16 m)
{
    uint64_t half[2];

    memcpy(half, &m, sizeof(half));
    if (half[0] != 0)
        return (size_t)__builtin_ctzll(half[0]) / 8;
    if (half[1] != 0)
        return 8 + (size_t)__builtin_ctzll(half[1]) / 8;
    return 16;
}

static size_t vector_run(const char *s, size_t n, int amp, int escape)
{
    const byte16 amps = {'&', '&', '&', '&', '&', '&', '&', '&',
                         '&', '&', '&', '&', '&', '&', '&', '&'};
    const byte16 quotes = amps + ('"' - '&');
    const byte16 slashes = amps + ('\\' - '&');
    const byte16 spaces = amps + (' ' - '&');
    size_t i = 0;

    for (; i + 16 <= n; i += 16) {
        byte16 x;
        mask16 hit = {0};

        memcpy(&x, s + i, 16);
        if (amp)
            hit |= (mask16)(x == amps);
        if (escape)
            hit |= (mask16)(x == quotes) | (mask16)(x == slashes) |
                   (mask16)(x < spaces);
        size_t k = first_flag(hit);
        if (k < 16)
            return i + k;
    }
    return i;
}
#else
static size_t vector_run(const char *s, size_t n, int amp, int escape)
{
    (void)s;
    (void)n;
    (void)amp;
    (void)escape;
    return 0;
}
#endif

/*
 * Returns the length of the leading run of s that needs no change: no
 * '&', and when escape is set no byte that cJSON escapes. Sixteen bytes
 * are tested at a time where the compiler allows it.
 */
size_t wl_dec_plain_run(const char *s, size_t n, int amp, int escape)
{
    size_t i = vector_run(s, n, amp, escape);

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

