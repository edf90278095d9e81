/*
 * PCRE2 patterns (type="pcre2"): compiled as Wazuh v4.14.7 compiles them
 * (options 0: case-sensitive, no UTF, default newline), then JIT-compiled
 * when the platform allows, and matched with match limits. Internal to
 * the rules folder: callers outside it use rules/pattern.h.
 * pattern_pcre2.c defines struct wl_pattern_scratch.
 */
#ifndef WL_PATTERN_PCRE2_H
#define WL_PATTERN_PCRE2_H

#include <stddef.h>

#include "rules/pattern.h"

/*
 * Limits of one pcre2_match call. PCRE2 counts them per start position,
 * so they bound the time per call only loosely. Without JIT, the pattern
 * "(?i)/tr\s+.*?(cmd\.exe|...)" took 19 s on a 60 KB subject repeating
 * "/tr xxxxxxxx" (x86-64, PCRE2 10.42), against 0.5 ms with JIT.
 * NOTE: Wazuh sets no limits, so PCRE2's defaults (10,000,000 for both)
 * apply there: a match that needs more than our limit but less than that
 * is a match in Wazuh and no match here.
 */
#define WL_PCRE2_MATCH_LIMIT 1000000
#define WL_PCRE2_DEPTH_LIMIT 1000000

/* Maximum JIT stack size per thread, in bytes. */
#define WL_PCRE2_JIT_STACK_MAX (1024 * 1024)

struct wl_pcre2;

/*
 * Compiles pattern. Returns 0 and *out (free with wl_pcre2_free), or
 * WL_EINVAL with PCRE2's message in reason and its *offset, or WL_ENOMEM.
 * JIT compilation is skipped when the environment variable
 * WL_PCRE2_NO_JIT is set to a non-empty value, and falls back to the
 * interpreter when the platform refuses it.
 */
int wl_pcre2_compile(const char *pattern, struct wl_pcre2 **out, char *reason,
                     size_t reason_size, size_t *offset);
void wl_pcre2_free(struct wl_pcre2 *p);

/* Returns 1 when p runs JIT-compiled code. */
int wl_pcre2_uses_jit(const struct wl_pcre2 *p);

/* Returns 1 when the PCRE2 library was built with JIT support. */
int wl_pcre2_jit_available(void);

/*
 * Matches subject (len bytes, read up to its first NUL as Wazuh does). s may
 * be NULL, then match data is allocated for this call. Returns -1 when
 * there is no match or PCRE2 fails (a match limit, out of memory: counted
 * and logged), else the number of captures stored: groups 1 to n as
 * PCRE2 reports them, start == -1 for an unset group. *end is the offset
 * of the last byte of the match (-1 for an empty match at offset 0), as
 * Wazuh reports it.
 */
int wl_pcre2_exec(const struct wl_pcre2 *p, const char *subject, size_t len,
                  struct wl_pattern_scratch *s, struct wl_capture *captures,
                  int max_captures, long *end);

/* Returns how many PCRE2 matches failed with an error since start. */
unsigned long wl_pcre2_match_errors(void);

#endif
