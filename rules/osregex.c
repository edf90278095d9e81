/*
 * OS_Regex compiler and matcher.
 *
 * The program keeps the byte layout Wazuh matches on, because its matcher
 * peeks a fixed number of bytes ahead of the current token and those
 * peeks decide results. Per alternative: literal bytes in lower case, a
 * class as ESC followed by its class code (then '+' or '*' when
 * quantified), a group boundary (open or close) as MARK, then a NUL.
 * A raw '\' or '(' cannot occur in the pattern as a literal, so ESC and
 * MARK are unambiguous.
 *
 * The matcher is the single left-to-right scan of Wazuh v4.14.7. It
 * backtracks only to at most four saved positions inside quantified
 * classes. It leaves a repeating class as soon as the byte could start the
 * next token, and after a mismatch it restarts one byte after the first
 * byte it consumed. These quirks are deliberate and are checked against
 * recorded Wazuh results.
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/error.h"
#include "rules/osregex.h"

#define ESC '\\'
#define MARK '('

/* Alternative flags. */
#define ANCHOR_BEGIN 0x1 /* the alternative started with '^' */
#define ANCHOR_END 0x2   /* the alternative ended with '$' */

/* Saved resume points inside quantified classes (Wazuh keeps four). */
#define RESUME_SLOTS 4

/* No position: Wazuh's NULL pointer. Valid positions are >= -1. */
#define NOPOS LONG_MIN

/* Class codes stored after ESC; never 0, '+', '*' or '('. */
enum osregex_class {
    CLASS_DIGIT = 1, /* \d */
    CLASS_WORD,      /* \w */
    CLASS_SPACE,     /* \s */
    CLASS_PUNCT,     /* \p */
    CLASS_OPEN,      /* \( */
    CLASS_CLOSE,     /* \) */
    CLASS_BACKSLASH, /* \\ */
    CLASS_NONDIGIT,  /* \D */
    CLASS_NONWORD,   /* \W */
    CLASS_NONSPACE,  /* \S */
    CLASS_ANY,       /* \. */
    CLASS_TAB,       /* \t */
    CLASS_DOLLAR,    /* \$ */
    CLASS_PIPE,      /* \| */
    CLASS_LESS,      /* \< */
    CLASS_COUNT
};

struct osregex_alternative {
    size_t start; /* offset of its program in wl_osregex.program */
    int flags;
};

struct wl_osregex {
    unsigned char *program;
    /* Per program byte: index of the group boundary within its
     * alternative when the byte is a MARK (0 = first open), else -1. */
    int16_t *mark_index;
    struct osregex_alternative *alternatives;
    size_t count;
    int has_groups;
};

static unsigned char class_table[CLASS_COUNT][256];
static pthread_once_t class_table_once = PTHREAD_ONCE_INIT;

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* \w: letters, digits and "-@_". */
static int is_word(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '@' || c == '_';
}

/* \p: the 25 bytes !"#$%&'()*+,-.:;<=>?[]{|} (not / @ \ ^ _ ` ~). */
static int is_punct(int c)
{
    return (c >= '!' && c <= '.') || (c >= ':' && c <= '?') || c == '[' ||
           c == ']' || (c >= '{' && c <= '}');
}

static int class_accepts_slow(int code, int c)
{
    switch (code) {
    case CLASS_DIGIT:
        return is_digit(c);
    case CLASS_WORD:
        return is_word(c);
    case CLASS_SPACE:
        return c == ' ';
    case CLASS_PUNCT:
        return is_punct(c);
    case CLASS_OPEN:
        return c == '(';
    case CLASS_CLOSE:
        return c == ')';
    case CLASS_BACKSLASH:
        return c == '\\';
    case CLASS_NONDIGIT:
        return !is_digit(c);
    case CLASS_NONWORD:
        return !is_word(c);
    case CLASS_NONSPACE:
        return c != ' ';
    case CLASS_ANY:
        return 1;
    case CLASS_TAB:
        return c == '\t';
    case CLASS_DOLLAR:
        return c == '$';
    case CLASS_PIPE:
        return c == '|';
    case CLASS_LESS:
        return c == '<';
    }
    return 0;
}

static void build_class_table(void)
{
    for (int code = 1; code < CLASS_COUNT; code++) {
        for (int c = 0; c < 256; c++)
            class_table[code][c] = (unsigned char)class_accepts_slow(code, c);
    }
}

static inline int class_accepts(unsigned char code, unsigned char c)
{
    return code < CLASS_COUNT && class_table[code][c];
}

static inline int is_quantifier(unsigned char c)
{
    return c == '+' || c == '*';
}

/* ASCII-only lower-casing, as Wazuh's charmap table does. */
static inline unsigned char fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* Returns the class code for the byte after a backslash, or 0. */
static int escape_code(char c)
{
    switch (c) {
    case 'd':
        return CLASS_DIGIT;
    case 'w':
        return CLASS_WORD;
    case 's':
        return CLASS_SPACE;
    case 'p':
        return CLASS_PUNCT;
    case '(':
        return CLASS_OPEN;
    case ')':
        return CLASS_CLOSE;
    case '\\':
        return CLASS_BACKSLASH;
    case 'D':
        return CLASS_NONDIGIT;
    case 'W':
        return CLASS_NONWORD;
    case 'S':
        return CLASS_NONSPACE;
    case '.':
        return CLASS_ANY;
    case 't':
        return CLASS_TAB;
    case '$':
        return CLASS_DOLLAR;
    case '|':
        return CLASS_PIPE;
    case '<':
        return CLASS_LESS;
    }
    return 0;
}

/*
 * Translates pattern into program bytes (alternatives still separated by
 * '|'), checking escapes and groups. Sets *groups when a group exists.
 */
static int translate(const char *pattern, size_t len, unsigned char *program,
                     int *groups, const char **reason, size_t *offset)
{
    int depth = 0;

    *groups = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pattern[i];

        if (c == '\\') {
            int code = escape_code(pattern[i + 1]);

            if (code == 0) {
                *reason = pattern[i + 1] == '\0'
                              ? "pattern ends with a backslash"
                              : "unknown escape sequence";
                *offset = i;
                return WL_EINVAL;
            }
            program[i] = ESC;
            program[++i] = (unsigned char)code;
            continue;
        }
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
            *groups = 1;
            c = MARK;
        }
        if (depth > 1 || depth < 0) {
            *reason = depth > 1 ? "nested group" : "')' without '('";
            *offset = i;
            return WL_EINVAL;
        }
        if (c == '|' && depth != 0) {
            *reason = "'|' inside a group";
            *offset = i;
            return WL_EINVAL;
        }
        program[i] = fold(c);
    }
    if (depth != 0) {
        *reason = "unclosed group";
        *offset = len;
        return WL_EINVAL;
    }
    program[len] = '\0';
    return 0;
}

/*
 * Cuts the program at each '|', strips the anchors of each alternative
 * and numbers the group boundaries. alternatives has room for them all.
 */
static void split_alternatives(struct wl_osregex *re, size_t len)
{
    unsigned char *p = re->program;
    size_t start = 0, n = 0;

    for (size_t i = 0; i <= len; i++) {
        struct osregex_alternative *alt;
        int16_t marks = 0;

        if (i < len && p[i] == ESC) {
            i++;
            continue;
        }
        if (i < len && p[i] != '|')
            continue;
        p[i] = '\0';
        alt = &re->alternatives[n++];
        alt->flags = 0;
        alt->start = start;
        if (p[start] == '^') {
            alt->flags |= ANCHOR_BEGIN;
            alt->start = ++start;
        }
        if (i > start && p[i - 1] == '$') {
            alt->flags |= ANCHOR_END;
            p[i - 1] = '\0';
        }
        for (size_t j = alt->start; p[j] != '\0'; j++) {
            if (p[j] == ESC) {
                j++;
                continue;
            }
            if (p[j] == MARK)
                re->mark_index[j] = marks++;
        }
        start = i + 1;
    }
    re->count = n;
}

int wl_osregex_compile(const char *pattern, struct wl_osregex **out,
                       const char **reason, size_t *offset)
{
    struct wl_osregex *re = NULL;
    size_t len = strlen(pattern), count = 1;
    int r = WL_ENOMEM;

    *out = NULL;
    pthread_once(&class_table_once, build_class_table);
    if (len > WL_OSREGEX_MAX_PATTERN) {
        *reason = "pattern longer than 20480 bytes";
        *offset = WL_OSREGEX_MAX_PATTERN;
        return WL_EINVAL;
    }
    re = calloc(1, sizeof(*re));
    if (re == NULL)
        goto out;
    re->program = malloc(len + 1);
    re->mark_index = malloc((len + 1) * sizeof(*re->mark_index));
    if (re->program == NULL || re->mark_index == NULL)
        goto out;
    for (size_t i = 0; i <= len; i++)
        re->mark_index[i] = -1;
    r = translate(pattern, len, re->program, &re->has_groups, reason, offset);
    if (r != 0)
        goto out;
    for (size_t i = 0; i < len; i++) {
        if (re->program[i] == ESC)
            i++;
        else if (re->program[i] == '|')
            count++;
    }
    r = WL_ENOMEM;
    re->alternatives = calloc(count, sizeof(*re->alternatives));
    if (re->alternatives == NULL)
        goto out;
    split_alternatives(re, len);
    *out = re;
    re = NULL;
    r = 0;
out:
    wl_osregex_free(re);
    return r;
}

void wl_osregex_free(struct wl_osregex *re)
{
    if (re == NULL)
        return;
    free(re->program);
    free(re->mark_index);
    free(re->alternatives);
    free(re);
}

/* State of one run of one alternative over the subject. */
struct osregex_run {
    const unsigned char *base; /* program of the alternative */
    const int16_t *mark_index; /* aligned with base */
    const unsigned char *subject;
    int flags;
    long *marks; /* positions of group boundaries; NULL: no capture mode */
    int mark_slots;
};

/* Records position pos for the group boundary at program byte pt. */
static void record_mark(const struct osregex_run *run, const unsigned char *pt,
                        long pos)
{
    int index;

    if (run->marks == NULL)
        return;
    index = run->mark_index[pt - run->base];
    if (index >= 0 && index < run->mark_slots)
        run->marks[index] = pos;
}

struct resume_point {
    const unsigned char *pt;
    long st;
};

/*
 * Handles the end of the subject with pt where the scan stopped. It is a
 * match when what is left of the program can match nothing.
 * The pointer moves exactly as in Wazuh's final test, where a failed
 * branch leaves pt advanced for the next one.
 */
static long finish_at_end(const struct osregex_run *run,
                          const unsigned char *pt, long st, long r_code,
                          int repeating)
{
    if (run->marks != NULL) {
        while (*pt != MARK && *pt == ESC && pt[2] == '*')
            pt += 3;
        if (*pt == MARK)
            record_mark(run, pt, st);
    }

    if (*pt == MARK)
        pt++;
    if (*pt == '\0')
        return r_code;

    if (*pt == ESC && repeating) {
        pt += 2;
        if (is_quantifier(*pt)) {
            pt++;
            if (*pt == MARK)
                pt++;
            if (*pt == '\0')
                return r_code;
            if (*pt == ESC) {
                pt += 2;
                if (*pt == '*') {
                    pt++;
                    if (*pt == MARK)
                        pt++;
                    if (*pt == '\0')
                        return r_code;
                }
            }
        }
    }

    if (*pt == ESC) {
        pt += 2;
        if (*pt == '*') {
            pt++;
            if (*pt == MARK)
                pt++;
            if (*pt == '\0')
                return r_code;
        }
    }
    return NOPOS;
}

/*
 * Runs one alternative. Returns the position Wazuh reports as the end of
 * the match (>= -1), or NOPOS when the alternative does not match.
 */
static long run_alternative(const struct osregex_run *run)
{
    const unsigned char *s = run->subject;
    const unsigned char *pt = run->base;
    const unsigned char *next;
    struct resume_point resume[RESUME_SLOTS];
    int resume_count = 0;
    int repeating = 0; /* the quantified class at pt has taken a byte */
    long r_code = 0;
    long restart = NOPOS; /* first byte consumed in this attempt */
    long st;

    for (st = 0; s[st] != '\0'; st++) {
        unsigned char c = s[st];

        /* The pattern is used up: a match unless anchored at the end. */
        if (*pt == '\0') {
            if (!(run->flags & ANCHOR_END))
                return r_code;
        } else if (*pt == MARK) {
            record_mark(run, pt, st);
            pt++;
            if (*pt == '\0' && !(run->flags & ANCHOR_END))
                return r_code;
        }

        if (*pt == ESC) {
            if (class_accepts(pt[1], c)) {
                next = pt + 2;
                if (!is_quantifier(*next)) {
                    /* A single class takes the byte. */
                    pt = next;
                    if (restart == NOPOS)
                        restart = st;
                    r_code = st;
                    continue;
                }
                if (*next == '*')
                    repeating = 1;
                if (repeating) {
                    /* Jump to the next token at once when this byte
                     * could start it, saving where to resume. */
                    int advance = -1;

                    next++;
                    if (*next == MARK)
                        next++;
                    if (*next == '\0') {
                        advance = 1;
                    } else if (*next == ESC) {
                        if (class_accepts(next[1], c))
                            advance = is_quantifier(next[2]) ? 0 : 2;
                    } else if (*next == fold(c)) {
                        repeating = 0;
                        advance = 1;
                    }
                    if (advance >= 0) {
                        if (next[-1] == MARK)
                            record_mark(run, next - 1,
                                        repeating && advance == 1 ? st + 1
                                                                  : st);
                        if (*next == '\0')
                            continue;
                        next += advance;
                        if (resume_count < RESUME_SLOTS) {
                            resume[resume_count].pt = pt;
                            resume[resume_count].st = st;
                            resume_count++;
                        }
                        pt = next;
                    }
                } else {
                    /* First byte of a '+' class: it starts repeating. */
                    next++;
                    if (*next == MARK)
                        record_mark(run, next, s[st + 1] == '\0' ? st + 1 : st);
                    repeating = 1;
                }
                r_code = st;
                continue;
            } else if ((pt[2] == '\0' || pt[3] == '\0') && repeating == 1 &&
                       r_code != NOPOS) {
                r_code = st;
                if (!(run->flags & ANCHOR_END))
                    return r_code;
            } else if (pt[2] == '+' && repeating == 1) {
                /* The repetition ends: test this byte on the next token. */
                pt += 3;
                st--;
                repeating = 0;
                continue;
            } else if (pt[2] == '*') {
                pt += 3;
                st--;
                r_code = st;
                repeating = 0;
                continue;
            }
            repeating = 0;
        } else if (*pt == fold(c)) {
            pt++;
            if (restart == NOPOS)
                restart = st;
            r_code = st;
            continue;
        }

        /* Mismatch: resume at the latest saved point, else restart. */
        if (resume_count > 0) {
            resume_count--;
            pt = resume[resume_count].pt;
            st = resume[resume_count].st;
            continue;
        }
        if (run->flags & ANCHOR_BEGIN)
            return NOPOS;
        if (restart != NOPOS) {
            st = restart;
            restart = NOPOS;
        }
        pt = run->base;
        r_code = NOPOS;
    }
    return finish_at_end(run, pt, st, r_code, repeating);
}

/* Copies complete open/close pairs into captures, as Wazuh does. */
static int collect_captures(const long *marks, int mark_slots,
                            struct wl_capture *captures)
{
    int n = 0;

    for (int j = 0; j + 1 < mark_slots; j += 2) {
        if (marks[j] == NOPOS || marks[j + 1] == NOPOS)
            break;
        captures[n].start = marks[j];
        captures[n].end = marks[j + 1];
        n++;
    }
    return n;
}

int wl_osregex_exec(const struct wl_osregex *re, const char *subject,
                    struct wl_capture *captures, int max_captures, long *end)
{
    long marks[2 * WL_PATTERN_MAX_CAPTURES];
    struct osregex_run run = {
        .subject = (const unsigned char *)subject,
    };
    int capture_mode = captures != NULL && max_captures > 0 && re->has_groups;

    if (capture_mode) {
        run.marks = marks;
        run.mark_slots = 2 * (max_captures < WL_PATTERN_MAX_CAPTURES
                                  ? max_captures
                                  : WL_PATTERN_MAX_CAPTURES);
    }
    for (size_t i = 0; i < re->count; i++) {
        long pos;

        run.base = re->program + re->alternatives[i].start;
        run.mark_index = re->mark_index + re->alternatives[i].start;
        run.flags = re->alternatives[i].flags;
        for (int j = 0; j < run.mark_slots; j++)
            marks[j] = NOPOS;
        pos = run_alternative(&run);
        if (pos == NOPOS)
            continue;
        *end = pos;
        return capture_mode ? collect_captures(marks, run.mark_slots, captures)
                            : 0;
    }
    return -1;
}
