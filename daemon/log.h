/*
 * Logging to stderr (foreground) or a file, thread-safe, one line per
 * message: "2026-12-04T16:35:30.123Z wazlabd[pid] LEVEL: text".
 *
 * The macros check the level before formatting anything. wl_log_limited()
 * rate-limits a repeated message by its key: at most one line per key
 * every WL_LOG_LIMIT_SECONDS, and the next line that passes reports how
 * many were suppressed. Never pass keys or passwords to these functions.
 */
#ifndef WL_LOG_H
#define WL_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum wl_log_level {
    WL_LOG_ERROR = 0,
    WL_LOG_WARN = 1,
    WL_LOG_INFO = 2,
    WL_LOG_DEBUG = 3,
};

#define WL_LOG_LIMIT_SECONDS 10

extern int wl_log_threshold;

/* Sets the program name shown in each line (not copied) and the level. */
void wl_log_init(const char *program, enum wl_log_level level);

/* Sends further lines to the open stream (stderr by default; not closed). */
void wl_log_set_stream(FILE *stream);

/* Parses "error", "warning", "info" or "debug"; returns 0 or WL_EINVAL. */
int wl_log_parse_level(const char *text, enum wl_log_level *level);

void wl_log_write(enum wl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void wl_log_vwrite(enum wl_log_level level, const char *fmt, va_list ap);

/*
 * Writes the message unless the same key was logged less than
 * WL_LOG_LIMIT_SECONDS ago. key is a short static string naming the
 * kind of message (for example "frame-oversized").
 */
void wl_log_limited(enum wl_log_level level, const char *key, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));

/*
 * Reports the lines that wl_log_limited() suppressed and has not reported
 * yet, one line per key: "N similar lines suppressed (key)". With all
 * set, for example at shutdown, it reports every key. Otherwise, from a
 * periodic timer, it reports only keys whose window has ended, so that a
 * burst that never repeats is still counted in the log. Thread-safe.
 */
void wl_log_flush_limited(int all);

/*
 * Copies at most max_in bytes of untrusted input into out (size out_size)
 * with non-printable bytes as \xNN, for quoting a short sample in a log.
 */
void wl_log_sanitize(char *out, size_t out_size, const void *in, size_t max_in);

#define wl_log_error(...) wl_log_write(WL_LOG_ERROR, __VA_ARGS__)
#define wl_log_warn(...)                                                       \
    do {                                                                       \
        if (wl_log_threshold >= WL_LOG_WARN)                                   \
            wl_log_write(WL_LOG_WARN, __VA_ARGS__);                            \
    } while (0)
#define wl_log_info(...)                                                       \
    do {                                                                       \
        if (wl_log_threshold >= WL_LOG_INFO)                                   \
            wl_log_write(WL_LOG_INFO, __VA_ARGS__);                            \
    } while (0)
#define wl_log_debug(...)                                                      \
    do {                                                                       \
        if (wl_log_threshold >= WL_LOG_DEBUG)                                  \
            wl_log_write(WL_LOG_DEBUG, __VA_ARGS__);                           \
    } while (0)

/* Logs an out-of-memory error at startup or in a thread and exits(1). */
_Noreturn void wl_fatal_nomem(const char *where);

#endif
