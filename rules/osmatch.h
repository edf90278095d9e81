/*
 * OS_Match, the literal pattern language of Wazuh <match> and most
 * static-field options, and the substring test Wazuh uses for if_group.
 * Behaviour follows Wazuh v4.14.7 (src/os_regex/os_match_*.c and
 * os_regex_match.c). Internal to the rules folder: callers outside it use
 * rules/pattern.h.
 */
#ifndef WL_OSMATCH_H
#define WL_OSMATCH_H

#include <stddef.h>

/* Maximum pattern length Wazuh accepts, in bytes (OS_PATTERN_MAXSIZE). */
#define WL_OSMATCH_MAX_PATTERN 20480

struct wl_osmatch;

/*
 * Compiles pattern. Returns 0 and *out (free with wl_osmatch_free), or
 * WL_EINVAL with *reason (a static string) and *offset set, or WL_ENOMEM.
 */
int wl_osmatch_compile(const char *pattern, struct wl_osmatch **out,
                       const char **reason, size_t *offset);
void wl_osmatch_free(struct wl_osmatch *m);

/*
 * Returns 1 when subject (len bytes) matches, 0 when not, after the
 * pattern's own leading '!'. Never allocates and never writes m.
 */
int wl_osmatch_match(const struct wl_osmatch *m, const char *subject,
                     size_t len);

/*
 * Returns 1 when str contains pattern as Wazuh's OS_WordMatch tests it:
 * '|'-separated alternatives, each a case-insensitive substring, or a
 * prefix when it starts with '^'. An empty pattern never matches.
 */
int wl_osmatch_word_match(const char *pattern, const char *str);

#endif
