/*
 * OS_Regex, the small regular-expression language of Wazuh <regex>,
 * <field> and decoder prematch/regex, reproducing Wazuh v4.14.7
 * (src/os_regex/os_regex_*.c) result for result, including where it
 * differs from a backtracking regex engine. Internal to the rules folder:
 * callers outside it use rules/pattern.h.
 */
#ifndef WL_OSREGEX_H
#define WL_OSREGEX_H

#include <stddef.h>

#include "rules/pattern.h"

/* Maximum pattern length Wazuh accepts, in bytes (OS_PATTERN_MAXSIZE). */
#define WL_OSREGEX_MAX_PATTERN 20480

struct wl_osregex;

/*
 * Compiles pattern into a byte program. Returns 0 and *out (free with
 * wl_osregex_free), or WL_EINVAL with *reason (a static string) and the
 * byte *offset of the fault in pattern, or WL_ENOMEM.
 */
int wl_osregex_compile(const char *pattern, struct wl_osregex **out,
                       const char **reason, size_t *offset);
void wl_osregex_free(struct wl_osregex *re);

/*
 * Runs re on subject, which ends at its first NUL byte. Never allocates
 * and never writes re, so threads may share re.
 *
 * captures == NULL or max_captures <= 0 runs the matcher as Wazuh does for
 * rules (patterns compiled without OS_RETURN_SUBSTRING). Otherwise it runs
 * as for decoder regexes, which also changes the match result of a few
 * patterns that contain a group. At most min(max_captures,
 * WL_PATTERN_MAX_CAPTURES) captures are reported.
 *
 * Returns -1 when there is no match, else the number of captures stored
 * (offsets into subject) and *end, the offset Wazuh returns as the end of
 * the match. *end is -1 where Wazuh returns the byte before the subject.
 * A capture that would end before it starts makes the whole call no
 * match, as in Wazuh.
 */
int wl_osregex_exec(const struct wl_osregex *re, const char *subject,
                    struct wl_capture *captures, int max_captures, long *end);

#endif
