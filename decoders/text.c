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

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/*
 * What each byte becomes: WL_DEC_ESC_JSON marks the bytes cJSON escapes in
 * a string ('"', '\\' and the controls below 0x20), WL_DEC_ESC_AMP the '&'.
 */
static const unsigned char byte_class[256] = {
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    ['"'] = WL_DEC_ESC_JSON,
    ['&'] = WL_DEC_ESC_AMP,
    ['\\'] = WL_DEC_ESC_JSON,
};

/* Writes the replacement of c at p (2, 5 or 6 bytes); returns the end. */
static char *put_escape(char *p, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    if (c == '&') {
        memcpy(p, "&amp;", 5);
        return p + 5;
    }
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

char *wl_dec_put_escape(char *p, unsigned char c)
{
    return put_escape(p, c);
}

char *wl_dec_escape(char *p, const char *s, size_t n, unsigned mode)
{
    size_t i = 0;

#ifdef __SSE2__
    /*
     * Sixteen bytes at a time: they are stored before they are tested, so
     * a run without a flagged byte costs one load and one store. The
     * store stays within the room the caller reserved, because the 16
     * input bytes left give at least 16 output bytes.
     */
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i amp = _mm_set1_epi8('&');
    const __m128i max_control = _mm_set1_epi8(0x1f);

    while (i + 16 <= n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_setzero_si128();

        if (mode & WL_DEC_ESC_JSON) {
            /* max(x, 0x1f) == 0x1f exactly for the bytes up to 0x1f. */
            hit = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(x, quote),
                             _mm_cmpeq_epi8(x, backslash)),
                _mm_cmpeq_epi8(_mm_max_epu8(x, max_control), max_control));
        }
        if (mode & WL_DEC_ESC_AMP)
            hit = _mm_or_si128(hit, _mm_cmpeq_epi8(x, amp));
        _mm_storeu_si128((__m128i *)(void *)p, x);

        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask == 0) {
            p += 16;
            i += 16;
            continue;
        }
        unsigned k = (unsigned)__builtin_ctz(mask);
        unsigned char c = (unsigned char)s[i + k];

        p += k;
        i += k + 1;
        if (c == '\\' || c == '"') {
            /* The common case, Windows paths, written inline. */
            p[0] = '\\';
            p[1] = (char)c;
            p += 2;
        } else {
            p = put_escape(p, c);
        }
    }
#endif
    /*
     * Eight bytes at a time in a 64-bit word, copied whole when none of
     * them is flagged. The tests flag every byte below 0x20, '"', '\\' or
     * '&'. A borrow may also flag bytes after a real hit, which only sends
     * the word to the byte loop.
     */
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t highs = 0x8080808080808080u;
    while (i + 8 <= n) {
        uint64_t v, q, b, a, hit = 0;

        memcpy(&v, s + i, 8);
        if (mode & WL_DEC_ESC_JSON) {
            q = v ^ (ones * '"');
            b = v ^ (ones * '\\');
            hit = ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) |
                  ((b - ones) & ~b);
        }
        if (mode & WL_DEC_ESC_AMP) {
            a = v ^ (ones * '&');
            hit |= (a - ones) & ~a;
        }
        if ((hit & highs) != 0)
            break;
        memcpy(p, &v, 8);
        p += 8;
        i += 8;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (byte_class[c] & mode)
            p = put_escape(p, c);
        else
            *p++ = (char)c;
    }
    return p;
}

int wl_dec_json_escape(struct wl_dec_buf *b, const char *s, size_t n)
{
    /* Worst case: six bytes per input byte, plus the quotes. */
    if (wl_dec_buf_reserve(b, n * 6 + 2) < 0)
        return WL_ENOMEM;

    char *p = b->data + b->len;
    *p++ = '"';
    p = wl_dec_escape(p, s, n, WL_DEC_ESC_JSON);
    *p++ = '"';
    b->len = (size_t)(p - b->data);
    b->data[b->len] = '\0';
    return 0;
}
