/*
 * Wazuh's syslog pre-decoder (OS_CleanMSG in src/analysisd/cleanevent.c,
 * v4.14.7): finds a timestamp header at the start of the log, then the
 * host name and the program name that follow it. What remains is ev->log,
 * the text the XML decoders read.
 */
#include "config.h"

#include "decoders/decode-int.h"

#include <ctype.h>
#include <string.h>

/* Characters of a host or program name in a syslog header. */
static int name_char(char c)
{
    return isalnum((unsigned char)c) || c == '(' || c == ')' || c == '-' ||
           c == '.' || c == '/' || c == '@' || c == '_';
}

static int at(const char *p, size_t len, size_t i, char c)
{
    return i < len && p[i] == c;
}

static int digit_at(const char *p, size_t len, size_t i)
{
    return i < len && isdigit((unsigned char)p[i]);
}

/*
 * Returns how many bytes the timestamp and its separator take when the log
 * starts with one of the formats followed by a host name, else 0.
 * loglen counts the terminating NUL, as Wazuh's does.
 */
static size_t syslog_stamp(const char *p, size_t loglen)
{
    size_t n = loglen - 1;

    if (loglen > 17 && at(p, n, 3, ' ') && at(p, n, 6, ' ') &&
        at(p, n, 9, ':') && at(p, n, 12, ':') && at(p, n, 15, ' '))
        return 16; /* Dec 29 10:00:01 */
    if (loglen > 24 && at(p, n, 4, '-') && at(p, n, 7, '-') &&
        at(p, n, 10, ' ') && at(p, n, 13, ':') && at(p, n, 16, ':') &&
        at(p, n, 19, ','))
        return 24; /* 2015-04-16 21:51:02,805 */
    if (loglen > 33 && at(p, n, 4, '-') && at(p, n, 7, '-') &&
        at(p, n, 10, 'T') && at(p, n, 13, ':') && at(p, n, 16, ':')) {
        if (at(p, n, 22, ':') && at(p, n, 25, ' '))
            return 26; /* 2007-06-14T15:48:55-04:00 */
        if (at(p, n, 19, '.')) {
            if (at(p, n, 26, ':'))
                return 30;
            if (at(p, n, 29, ':'))
                return 33;
            return 32;
        }
    }
    if (loglen > 21 && digit_at(p, n, 0) && at(p, n, 4, ' ') &&
        at(p, n, 8, ' ') && at(p, n, 11, ' ') && at(p, n, 14, ':') &&
        at(p, n, 17, ':') && at(p, n, 20, ' '))
        return 21; /* 2015 Dec 29 10:00:01 */
    if (loglen > 33 && digit_at(p, n, 0) && at(p, n, 4, '-') &&
        at(p, n, 7, '-') && at(p, n, 10, ' ') && at(p, n, 13, ':') &&
        at(p, n, 16, ':') && at(p, n, 19, '.') &&
        (at(p, n, 26, '-') || at(p, n, 26, '+')) && at(p, n, 31, ' '))
        return 32; /* 2021-04-21 10:16:09.404756-0700 */
    return 0;
}

/*
 * Reads "host prog[pid]: " and the variants Wazuh accepts after a
 * timestamp at p. Sets *host and *prog (arena copies) and returns where
 * the log text starts, or NULL when no program name was found (the log
 * then starts at *fallback).
 */
static const char *host_and_program(struct wl_event *ev, const char *p,
                                    const char **host, const char **prog,
                                    const char **fallback)
{
    const char *s = p;

    while (name_char(*s))
        s++;
    *fallback = p;
    if (s[0] == ':' && s[1] == ' ') {
        /* No host name (Solaris): the run is the program name. */
        *prog = wl_arena_strndup(&ev->arena, p, (size_t)(s - p));
        return s + 2;
    }
    if (*s != ' ')
        return NULL;
    *host = wl_arena_strndup(&ev->arena, p, (size_t)(s - p));

    const char *name = ++s;
    *fallback = s;
    while (name_char(*s))
        s++;
    const char *name_end = s;

    if (*s == ':') {
        s++;
        s += *s == ' ';
    } else if (s[0] == '[' && isdigit((unsigned char)s[1])) {
        s += 2;
        while (isdigit((unsigned char)*s))
            s++;
        if (s[0] == ']' && s[1] == ':') {
            s += 2;
            s += *s == ' ';
        } else if (s[0] == ']' && s[1] == ' ') {
            s += 2;
        } else {
            return NULL;
        }
    } else if (s[0] == '|' && islower((unsigned char)s[1])) {
        /* AIX: "|facility:severity prog: " */
        s += 2;
        while (isalnum((unsigned char)*s))
            s++;
        if (*s != ':')
            return NULL;
        s++;
        while (isalnum((unsigned char)*s))
            s++;
        if (*s != ' ')
            return NULL;
        name = ++s;
        while (name_char(*s))
            s++;
        name_end = s;
        if (s[0] == ':' && s[1] == ' ') {
            s += 2;
        } else if (s[0] == '[' && isdigit((unsigned char)s[1])) {
            s += 2;
            while (isdigit((unsigned char)*s))
                s++;
            if (!(s[0] == ']' && s[1] == ':' && s[2] == ' ')) {
                /* Wazuh keeps the program name but not the position. */
                *prog = wl_arena_strndup(&ev->arena, name,
                                         (size_t)(name_end - name));
                return NULL;
            }
            s += 3;
        }
    } else {
        return NULL;
    }
    *prog = wl_arena_strndup(&ev->arena, name, (size_t)(name_end - name));
    return s;
}

/* Sets the timestamp and where the log starts, both as byte offsets. */
static void set_stamp(struct wl_event *ev, size_t from, size_t len, size_t log)
{
    if (log > ev->full_log_len)
        return;
    ev->dec_timestamp = wl_arena_strndup(&ev->arena, ev->full_log + from, len);
    ev->log = ev->full_log + log;
    ev->log_len = ev->full_log_len - log;
}

/*
 * Reads the "[Sender x] [Message y] [Host z]" entries of a macOS ASL line
 * after its date (Wazuh takes the first Message and stops at Host).
 */
static void asl_entries(struct wl_event *ev, const char **hostname)
{
    const char *s = strchr(ev->full_log + 25, '[');
    int have_message = 0;

    ev->log = ev->full_log + 25;
    while (s != NULL) {
        const char *end;

        s++;
        if (strncmp(s, "Sender ", 7) == 0 && ev->program_name == NULL) {
            end = strchr(s + 7, ']');
            if (end == NULL)
                break;
            ev->program_name =
                wl_arena_strndup(&ev->arena, s + 7, (size_t)(end - s - 7));
            s = end + 1;
        } else if (strncmp(s, "Message ", 8) == 0 && !have_message) {
            have_message = 1;
            end = strchr(s + 8, ']');
            ev->log = wl_arena_strndup(
                &ev->arena, s + 8, end ? (size_t)(end - s - 8) : strlen(s + 8));
            if (end == NULL)
                break;
            s = end + 1;
        } else if (strncmp(s, "Host ", 5) == 0) {
            end = strchr(s + 5, ']');
            if (end != NULL)
                *hostname =
                    wl_arena_strndup(&ev->arena, s + 5, (size_t)(end - s - 5));
            break;
        }
        s = strchr(s, '[');
    }
    if (ev->log == NULL)
        ev->log = ev->full_log + 25;
    ev->log_len = strlen(ev->log);
}

/*
 * Headers without a host name: xferlog, snort, suricata, apache, macOS
 * ASL and squid, tested in Wazuh's order on p (loglen counts the NUL).
 */
static void other_headers(struct wl_event *ev, const char *p, size_t loglen,
                          const char **hostname)
{
    size_t n = loglen - 1;

    if (loglen > 28 && at(p, n, 3, ' ') && at(p, n, 7, ' ') &&
        at(p, n, 10, ' ') && at(p, n, 13, ':') && at(p, n, 16, ':') &&
        at(p, n, 19, ' ') && at(p, n, 24, ' ') && at(p, n, 26, ' ')) {
        set_stamp(ev, 0, 24, 25); /* Mon Apr 17 18:27:14 2006 */
    } else if (loglen > 24 && at(p, n, 2, '/') && at(p, n, 5, '-') &&
               at(p, n, 8, ':') && at(p, n, 11, ':') && at(p, n, 14, '.') &&
               at(p, n, 21, ' ')) {
        set_stamp(ev, 0, 21, 23); /* snort: 01/28-09:13:16.240702 */
    } else if (loglen > 28 && at(p, n, 2, '/') && at(p, n, 5, '/') &&
               at(p, n, 10, '-') && at(p, n, 13, ':') && at(p, n, 16, ':') &&
               at(p, n, 19, '.') && at(p, n, 26, ' ')) {
        set_stamp(ev, 0, 26, 28); /* suricata: 01/28/1979-09:13:16.240702 */
    } else if (loglen > 27 && at(p, n, 0, '[') && at(p, n, 4, ' ') &&
               at(p, n, 8, ' ') && at(p, n, 11, ' ') && at(p, n, 14, ':') &&
               at(p, n, 17, ':') && at(p, n, 20, ' ') && at(p, n, 25, ']')) {
        set_stamp(ev, 1, 24, 27); /* apache: [Fri Feb 11 18:06:35 2004] */
    } else if (loglen > 26 && at(p, n, 0, '[') && at(p, n, 1, 'T') &&
               at(p, n, 5, ' ') && at(p, n, 10, '.') && at(p, n, 13, '.') &&
               at(p, n, 16, ' ') && at(p, n, 19, ':')) {
        asl_entries(ev, hostname);
    } else if (loglen > 32 && p[0] == '1' && digit_at(p, n, 1) &&
               digit_at(p, n, 2) && digit_at(p, n, 3) && at(p, n, 10, '.') &&
               digit_at(p, n, 13) && at(p, n, 14, ' ') &&
               (at(p, n, 21, ' ') || at(p, n, 22, ' '))) {
        /* squid: the epoch column and all but the last space after it */
        size_t log = 14;

        while (log < ev->full_log_len && ev->full_log[log] == ' ')
            log++;
        set_stamp(ev, 0, log - 1, log);
    }
}

void wl_predecode_syslog(struct wl_event *ev, const char **hostname)
{
    const char *p = ev->full_log;
    size_t loglen = ev->full_log_len + 1;
    char mar[40];
    const char *log;
    const char *prog = NULL;

    *hostname = NULL;
    ev->log = p;
    ev->log_len = ev->full_log_len;
    ev->program_name = NULL;
    ev->dec_timestamp = NULL;

    /*
     * "M\xc3\xa4r" (Maerz) is tested as "Mar"; the offsets found still
     * apply to the original text, as in Wazuh.
     */
    const char *check = p;
    if (loglen >= 3 && (unsigned char)p[1] == 0xc3 &&
        (unsigned char)p[2] == 0xa4) {
        size_t n = ev->full_log_len - 3;

        if (n > sizeof(mar) - 3)
            n = sizeof(mar) - 3;
        mar[0] = 'M';
        mar[1] = 'a';
        memcpy(mar + 2, p + 3, n);
        mar[n + 2] = '\0';
        check = mar;
        loglen = n + 3;
    }

    size_t skip = syslog_stamp(check, loglen);
    if (skip == 0) {
        other_headers(ev, check, loglen, hostname);
        return;
    }
    if (skip > ev->full_log_len)
        return;

    ev->dec_timestamp = wl_arena_strndup(&ev->arena, p, skip - 1);
    log = p + skip;
    if (*log == ' ')
        log++;

    const char *fallback = log;
    const char *rest = host_and_program(ev, log, hostname, &prog, &fallback);
    if (rest != NULL) {
        log = rest;
        if (strncmp(log, "[ID ", 4) == 0) {
            const char *close = strchr(log + 4, ']');

            if (close != NULL)
                log = close + 2 <= ev->full_log + ev->full_log_len ? close + 2
                                                                   : close + 1;
        }
    } else {
        log = fallback;
    }
    ev->program_name = prog;
    ev->log = log;
    ev->log_len = ev->full_log_len - (size_t)(log - ev->full_log);
}
