#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/log.h"
#include "daemon/error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int wl_log_threshold = WL_LOG_INFO;

static const char *log_program = "wazlab";
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Rate-limit slots, keyed by the address of a static key string. */
#define LIMIT_SLOTS 128
static struct {
    const char *key;
    time_t last;
    unsigned long suppressed;
    enum wl_log_level level;
} log_limits[LIMIT_SLOTS];

static const char *level_names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};

void wl_log_init(const char *program, enum wl_log_level level)
{
    log_program = program;
    wl_log_threshold = level;
}

void wl_log_set_stream(FILE *stream)
{
    pthread_mutex_lock(&log_lock);
    log_stream = stream;
    pthread_mutex_unlock(&log_lock);
}

int wl_log_parse_level(const char *text, enum wl_log_level *level)
{
    static const char *names[] = {"error", "warning", "info", "debug"};

    for (int i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) {
            *level = (enum wl_log_level)i;
            return 0;
        }
    }
    return WL_EINVAL;
}

static void write_line(enum wl_log_level level, const char *suffix,
                       const char *fmt, va_list ap)
{
    struct timespec now;
    struct tm tm;
    char stamp[32];
    char text[2048];
    FILE *out;

    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    vsnprintf(text, sizeof(text), fmt, ap);

    pthread_mutex_lock(&log_lock);
    out = log_stream ? log_stream : stderr;
    fprintf(out, "%s.%03ldZ %s[%ld] %s: %s%s\n", stamp, now.tv_nsec / 1000000,
            log_program, (long)getpid(), level_names[level], text, suffix);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}

void wl_log_vwrite(enum wl_log_level level, const char *fmt, va_list ap)
{
    if ((int)level > wl_log_threshold)
        return;
    write_line(level, "", fmt, ap);
}

void wl_log_write(enum wl_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    wl_log_vwrite(level, fmt, ap);
    va_end(ap);
}

void wl_log_limited(enum wl_log_level level, const char *key, const char *fmt,
                    ...)
{
    time_t now = time(NULL);
    unsigned long suppressed = 0;
    char suffix[64] = "";
    int pass = 1;
    int slot = -1;
    va_list ap;

    if ((int)level > wl_log_threshold)
        return;

    pthread_mutex_lock(&log_lock);
    for (int i = 0; i < LIMIT_SLOTS; i++) {
        if (log_limits[i].key == key || log_limits[i].key == NULL) {
            slot = i;
            break;
        }
    }
    if (slot >= 0) {
        if (log_limits[slot].key == NULL) {
            log_limits[slot].key = key;
            log_limits[slot].last = now;
        } else if (now - log_limits[slot].last < WL_LOG_LIMIT_SECONDS) {
            log_limits[slot].suppressed++;
            log_limits[slot].level = level;
            pass = 0;
        } else {
            suppressed = log_limits[slot].suppressed;
            log_limits[slot].suppressed = 0;
            log_limits[slot].last = now;
        }
    }
    pthread_mutex_unlock(&log_lock);

    if (!pass)
        return;
    if (suppressed > 0)
        snprintf(suffix, sizeof(suffix), " (%lu similar lines suppressed)",
                 suppressed);
    va_start(ap, fmt);
    write_line(level, suffix, fmt, ap);
    va_end(ap);
}

static void write_plain(enum wl_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    write_line(level, "", fmt, ap);
    va_end(ap);
}

void wl_log_flush_limited(int all)
{
    time_t now = time(NULL);

    for (int i = 0; i < LIMIT_SLOTS; i++) {
        const char *key;
        unsigned long suppressed;
        enum wl_log_level level;

        pthread_mutex_lock(&log_lock);
        key = log_limits[i].key;
        suppressed = log_limits[i].suppressed;
        level = log_limits[i].level;
        if (key == NULL) {
            pthread_mutex_unlock(&log_lock);
            break;
        }
        if (suppressed == 0 ||
            (!all && now - log_limits[i].last < WL_LOG_LIMIT_SECONDS)) {
            pthread_mutex_unlock(&log_lock);
            continue;
        }
        log_limits[i].suppressed = 0;
        pthread_mutex_unlock(&log_lock);
        write_plain(level, "%lu similar lines suppressed (%s)", suppressed,
                    key);
    }
}

void wl_log_sanitize(char *out, size_t out_size, const void *in, size_t max_in)
{
    const unsigned char *p = in;
    size_t used = 0;

    if (out_size == 0)
        return;
    for (size_t i = 0; i < max_in; i++) {
        char piece[5];
        size_t n;

        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            piece[0] = (char)p[i];
            n = 1;
        } else {
            snprintf(piece, sizeof(piece), "\\x%02x", p[i]);
            n = 4;
        }
        if (used + n >= out_size)
            break;
        memcpy(out + used, piece, n);
        used += n;
    }
    out[used] = '\0';
}

_Noreturn void wl_fatal_nomem(const char *where)
{
    wl_log_error("out of memory in %s", where);
    exit(1);
}
