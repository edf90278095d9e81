/*
 * The three pattern languages of Wazuh rules and decoders, behind one
 * compiled type: OS_Match (<match> and most static-field options),
 * OS_Regex (<regex>, <field>, decoder prematch/regex) and PCRE2
 * (type="pcre2"). Compile once at load time; matching is read-only on the
 * pattern, so threads share patterns. PCRE2 match data lives in a
 * per-thread struct wl_pattern_scratch.
 */
#ifndef WL_PATTERN_H
#define WL_PATTERN_H

#include <stddef.h>

enum wl_pattern_type {
    WL_PATTERN_OSMATCH,
    WL_PATTERN_OSREGEX,
    WL_PATTERN_PCRE2,
};

/* Maximum number of captures reported: Wazuh's default decoder_order_size. */
#define WL_PATTERN_MAX_CAPTURES 256

struct wl_pattern;
struct wl_pattern_scratch;

/*
 * Compiles pattern as type. negate inverts the result of wl_pattern_match.
 * Returns 0 and *out, or WL_EINVAL/WL_ENOMEM with a message in err naming
 * the pattern and the position of the fault.
 */
int wl_pattern_compile(enum wl_pattern_type type, const char *pattern,
                       int negate, struct wl_pattern **out, char *err,
                       size_t err_size);
void wl_pattern_free(struct wl_pattern *p);

/* Per-thread match state; NULL when out of memory. */
struct wl_pattern_scratch *wl_pattern_scratch_new(void);
void wl_pattern_scratch_free(struct wl_pattern_scratch *s);

/*
 * Returns 1 when subject (len bytes, NUL-terminated) matches, 0 when not,
 * after negation. Errors inside PCRE2 (match limit) count as no match.
 * Like Wazuh, every language reads the subject only up to its first NUL.
 * Never allocates when s is non-NULL. s may be NULL; PCRE2 then
 * allocates match data for the call. A NULL subject (a missing field)
 * returns 0 even when negated, as in Wazuh.
 */
int wl_pattern_match(const struct wl_pattern *p, const char *subject,
                     size_t len, struct wl_pattern_scratch *s);

/* A capture group: offsets into the subject, or start == -1 when unset. */
struct wl_capture {
    long start;
    long end;
};

/*
 * Matches and reports the capture groups (for decoders), without negation.
 * Returns the number of captures filled (0 when the pattern has none but
 * matched) or -1 when there is no match. *end is the offset where the
 * matcher stopped, as Wazuh reports it.
 *
 * Details that follow Wazuh v4.14.7:
 * - OS_Regex runs as for decoder regexes (compiled with
 *   OS_RETURN_SUBSTRING) when captures != NULL and max_captures > 0, else
 *   as for rules and prematch; for a few patterns with groups the result
 *   differs. A capture that would end before it starts makes the call
 *   return no match, as in Wazuh.
 * - *end is the last byte of the PCRE2 match, or the OS_Regex end
 *   position. It is SIZE_MAX when Wazuh points one byte before the
 *   subject, so *end + 1 wraps to 0. OS_Match reports no end and leaves
 *   *end unchanged.
 * - OS_Match keeps its own leading-'!' negation here.
 * - s may be NULL; PCRE2 then allocates match data for the call.
 */
int wl_pattern_exec(const struct wl_pattern *p, const char *subject, size_t len,
                    struct wl_pattern_scratch *s, struct wl_capture *captures,
                    int max_captures, size_t *end);

/*
 * Returns 1 when a rule's group string matches an <if_group> value as
 * Wazuh v4.14.7 tests it (OS_WordMatch): '|'-separated alternatives, each
 * a case-insensitive substring of group_string, or a prefix when it starts
 * with '^'. An empty if_group matches nothing. Returns 0 otherwise.
 */
int wl_pattern_group_contains(const char *group_string, const char *if_group);

/*
 * Returns how many PCRE2 matches failed since start (match limit, invalid
 * UTF-8 for a (*UTF) pattern, out of memory). Each failure counts as no
 * match.
 */
unsigned long wl_pattern_match_errors(void);

#endif
