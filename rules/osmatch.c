/*
 * OS_Match: '|'-separated literal alternatives, each compared without
 * regard to ASCII case as a substring, a prefix ("^abc"), a suffix
 * ("abc$") or the whole value ("^abc$"). An empty alternative matches
 * every value. A leading '!' negates the whole pattern.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/error.h"
#include "rules/osmatch.h"

enum osmatch_kind {
    OSMATCH_ANY,       /* empty alternative: matches everything */
    OSMATCH_SUBSTRING, /* "abc" */
    OSMATCH_PREFIX,    /* "^abc" */
    OSMATCH_SUFFIX,    /* "abc$" */
    OSMATCH_EQUAL,     /* "^abc$" */
};

struct osmatch_alternative {
    enum osmatch_kind kind;
    const unsigned char *text; /* lower-case, inside wl_osmatch.text */
    size_t len;
};

struct wl_osmatch {
    int negated; /* the pattern started with '!' */
    size_t count;
    struct osmatch_alternative *alternatives;
    unsigned char *text;
};

/* ASCII-only lower-casing, as Wazuh's charmap table does. */
static inline unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Compares len bytes of lower-case pattern text with subject bytes. */
static int equal_folded(const unsigned char *text, const unsigned char *s,
                        size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] != fold(s[i]))
            return 0;
    }
    return 1;
}

/* Classifies the alternative text[0..len) by its anchors. */
static void classify(struct osmatch_alternative *alt, const unsigned char *text,
                     size_t len)
{
    int begins = len > 0 && text[0] == '^';
    int ends = len > 0 && text[len - 1] == '$';

    /* "^" alone is a prefix test of nothing: its '^' is not also a '$'. */
    if (begins && ends && len >= 2) {
        alt->kind = OSMATCH_EQUAL;
        alt->text = text + 1;
        alt->len = len - 2;
    } else if (len == 0) {
        alt->kind = OSMATCH_ANY;
        alt->text = text;
        alt->len = 0;
    } else if (ends) {
        alt->kind = OSMATCH_SUFFIX;
        alt->text = text;
        alt->len = len - 1;
    } else if (begins) {
        alt->kind = OSMATCH_PREFIX;
        alt->text = text + 1;
        alt->len = len - 1;
    } else {
        alt->kind = OSMATCH_SUBSTRING;
        alt->text = text;
        alt->len = len;
    }
}

int wl_osmatch_compile(const char *pattern, struct wl_osmatch **out,
                       const char **reason, size_t *offset)
{
    struct wl_osmatch *m = NULL;
    size_t len = strlen(pattern);
    size_t alt = 0, start = 0;
    int r = WL_ENOMEM;

    *out = NULL;
    if (len > WL_OSMATCH_MAX_PATTERN) {
        *reason = "pattern longer than 20480 bytes";
        *offset = WL_OSMATCH_MAX_PATTERN;
        return WL_EINVAL;
    }
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto out;
    if (pattern[0] == '!') {
        m->negated = 1;
        pattern++;
        len--;
    }
    m->text = malloc(len + 1);
    if (m->text == NULL)
        goto out;
    m->count = 1;
    for (size_t i = 0; i < len; i++) {
        m->text[i] = fold((unsigned char)pattern[i]);
        if (m->text[i] == '|')
            m->count++;
    }
    m->text[len] = '\0';
    m->alternatives = calloc(m->count, sizeof(*m->alternatives));
    if (m->alternatives == NULL)
        goto out;

    /* '|' always separates alternatives: OS_Match has no escape. */
    for (size_t i = 0; i <= len; i++) {
        if (i < len && m->text[i] != '|')
            continue;
        classify(&m->alternatives[alt++], m->text + start, i - start);
        start = i + 1;
    }
    *out = m;
    m = NULL;
    r = 0;
out:
    wl_osmatch_free(m);
    return r;
}

void wl_osmatch_free(struct wl_osmatch *m)
{
    if (m == NULL)
        return;
    free(m->alternatives);
    free(m->text);
    free(m);
}

/*
 * Returns the first byte at or after from and before limit that equals
 * lower or upper, or NULL. memchr finds candidates faster than a byte
 * loop (2.7 times on the full-log case of bench/bench-patterns).
 */
static const unsigned char *find_either(const unsigned char *from,
                                        const unsigned char *limit,
                                        unsigned char lower,
                                        unsigned char upper)
{
    const unsigned char *a = memchr(from, lower, (size_t)(limit - from));

    if (upper != lower) {
        const unsigned char *b =
            memchr(from, upper, (size_t)((a != NULL ? a : limit) - from));

        if (b != NULL)
            return b;
    }
    return a;
}

/* Case-insensitive substring search of len-byte text in the subject. */
static int contains_folded(const unsigned char *s, size_t slen,
                           const unsigned char *text, size_t len)
{
    unsigned char lower = text[0];
    unsigned char upper = (lower >= 'a' && lower <= 'z')
                              ? (unsigned char)(lower - ('a' - 'A'))
                              : lower;
    const unsigned char *limit, *at = s;

    if (slen < len)
        return 0;
    /* Candidates for the first byte lie before limit. */
    limit = s + (slen - len) + 1;
    while (at < limit) {
        at = find_either(at, limit, lower, upper);
        if (at == NULL)
            return 0;
        if (equal_folded(text + 1, at + 1, len - 1))
            return 1;
        at++;
    }
    return 0;
}

static int alternative_matches(const struct osmatch_alternative *alt,
                               const unsigned char *s, size_t slen)
{
    switch (alt->kind) {
    case OSMATCH_ANY:
        return 1;
    case OSMATCH_SUBSTRING:
        return contains_folded(s, slen, alt->text, alt->len);
    case OSMATCH_PREFIX:
        return slen >= alt->len && equal_folded(alt->text, s, alt->len);
    case OSMATCH_SUFFIX:
        return slen >= alt->len &&
               equal_folded(alt->text, s + slen - alt->len, alt->len);
    case OSMATCH_EQUAL:
        return slen == alt->len && equal_folded(alt->text, s, alt->len);
    }
    return 0;
}

int wl_osmatch_match(const struct wl_osmatch *m, const char *subject,
                     size_t len)
{
    const unsigned char *s = (const unsigned char *)subject;

    for (size_t i = 0; i < m->count; i++) {
        if (alternative_matches(&m->alternatives[i], s, len))
            return !m->negated;
    }
    return m->negated;
}

/*
 * Tests one if_group alternative: the pattern bytes up to the first byte
 * equal to pattern[size]. Wazuh stops comparing at that byte value rather
 * than after size bytes. That only differs for an empty alternative
 * between two '|', where the comparison continues into the next ones.
 */
static int word_alternative(const char *pattern, const char *str, size_t size)
{
    const unsigned char *p = (const unsigned char *)pattern;
    const unsigned char *s = (const unsigned char *)str;
    unsigned char stop = p[size];

    if (p[0] == '\0')
        return 1;
    if (p[0] == '^') {
        for (size_t i = 0; i + 1 < size; i++) {
            if (s[i] == '\0' || fold(p[i + 1]) != fold(s[i]))
                return 0;
        }
        return 1;
    }
    if (s[0] == '\0')
        return 0;
    for (size_t start = 0; s[start] != '\0'; start++) {
        size_t j = start + 1;
        const unsigned char *q = p + 1;

        if (fold(s[start]) != fold(p[0]))
            continue;
        while (*q != stop) {
            if (s[j] == '\0')
                return 0;
            if (fold(*q) != fold(s[j]))
                break;
            j++;
            q++;
        }
        if (*q == stop)
            return 1;
    }
    return 0;
}

int wl_osmatch_word_match(const char *pattern, const char *str)
{
    size_t i = 0;

    if (pattern[0] == '\0')
        return 0;
    for (;;) {
        if (pattern[i] == '|') {
            if (word_alternative(pattern, str, i))
                return 1;
            pattern += i + 1;
            i = 0;
            if (pattern[0] == '\0')
                break;
            continue;
        }
        i++;
        if (pattern[i] == '\0')
            break;
    }
    return word_alternative(pattern, str, i);
}
