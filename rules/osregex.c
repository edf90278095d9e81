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
    int marks; /* number of group boundaries (two per group) */
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
                re->mark_index[j] = (int16_t)alt->marks++;
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

/* Position of one scan of an alternative over the subject. */
struct osregex_scan {
    const unsigned char *pt; /* current token */
    long st;                 /* current subject byte */
    int repeating;           /* the quantified class at pt took a byte */
    long r_code;             /* end of the match so far, or NOPOS */
    long restart;            /* first byte consumed in this attempt */
    struct resume_point resume[RESUME_SLOTS];
    int resume_count;
};

enum osregex_step {
    STEP_NEXT,     /* go on with the next subject byte */
    STEP_MISMATCH, /* resume or restart */
    STEP_MATCHED,  /* the alternative matches, ending at r_code */
};

/* Makes the token at pt, width bytes long, consume the current byte. */
static void consume(struct osregex_scan *sc, int width)
{
    sc->pt += width;
    if (sc->restart == NOPOS)
        sc->restart = sc->st;
    sc->r_code = sc->st;
}

/*
 * Handles a byte accepted by the quantified class at pt. A class already
 * repeating (or a '*' class) leaves for the next token at once when the
 * byte could also start that token, saving a point to resume from.
 */
static void take_repeated(const struct osregex_run *run,
                          struct osregex_scan *sc, unsigned char c)
{
    const unsigned char *next = sc->pt + 2;
    int advance = -1;

    if (*next == '*')
        sc->repeating = 1;
    if (!sc->repeating) {
        /* First byte of a '+' class: it starts repeating. */
        next++;
        if (*next == MARK)
            record_mark(run, next,
                        run->subject[sc->st + 1] == '\0' ? sc->st + 1 : sc->st);
        sc->repeating = 1;
        sc->r_code = sc->st;
        return;
    }

    next++;
    if (*next == MARK)
        next++;
    if (*next == '\0') {
        advance = 1;
    } else if (*next == ESC) {
        if (class_accepts(next[1], c))
            advance = is_quantifier(next[2]) ? 0 : 2;
    } else if (*next == fold(c)) {
        sc->repeating = 0;
        advance = 1;
    }
    if (advance >= 0) {
        if (next[-1] == MARK)
            record_mark(run, next - 1,
                        sc->repeating && advance == 1 ? sc->st + 1 : sc->st);
        /* A class that ends the pattern keeps repeating without moving
         * the match end, so a trailing \X+ run ends at its first byte. */
        if (*next == '\0')
            return;
        if (sc->resume_count < RESUME_SLOTS) {
            sc->resume[sc->resume_count].pt = sc->pt;
            sc->resume[sc->resume_count].st = sc->st;
            sc->resume_count++;
        }
        sc->pt = next + advance;
    }
    sc->r_code = sc->st;
}

/* Handles a byte that the class at pt rejects. */
static enum osregex_step leave_class(const struct osregex_run *run,
                                     struct osregex_scan *sc)
{
    const unsigned char *pt = sc->pt;

    if ((pt[2] == '\0' || pt[3] == '\0') && sc->repeating == 1 &&
        sc->r_code != NOPOS) {
        sc->r_code = sc->st;
        if (!(run->flags & ANCHOR_END))
            return STEP_MATCHED;
    } else if (pt[2] == '+' && sc->repeating == 1) {
        /* The repetition ends: test this byte on the next token. */
        sc->pt += 3;
        sc->st--;
        sc->repeating = 0;
        return STEP_NEXT;
    } else if (pt[2] == '*') {
        sc->pt += 3;
        sc->st--;
        sc->r_code = sc->st;
        sc->repeating = 0;
        return STEP_NEXT;
    }
    sc->repeating = 0;
    return STEP_MISMATCH;
}

/*
 * Continues after a mismatch from the latest saved point, else restarts
 * the alternative. Returns -1 when a '^' alternative cannot restart.
 */
static int recover(const struct osregex_run *run, struct osregex_scan *sc)
{
    if (sc->resume_count > 0) {
        sc->resume_count--;
        sc->pt = sc->resume[sc->resume_count].pt;
        sc->st = sc->resume[sc->resume_count].st;
        return 0;
    }
    if (run->flags & ANCHOR_BEGIN)
        return -1;
    if (sc->restart != NOPOS) {
        sc->st = sc->restart;
        sc->restart = NOPOS;
    }
    sc->pt = run->base;
    sc->r_code = NOPOS;
    return 0;
}

/*
 * Steps over a group boundary at pt. Returns 1 when the pattern is used
 * up and not anchored at the end, which is a match.
 */
static int pattern_done(const struct osregex_run *run, struct osregex_scan *sc)
{
    if (*sc->pt == MARK) {
        record_mark(run, sc->pt, sc->st);
        sc->pt++;
    }
    return *sc->pt == '\0' && !(run->flags & ANCHOR_END);
}

/*
 * Runs one alternative. Returns the position Wazuh reports as the end of
 * the match (>= -1), or NOPOS when the alternative does not match.
 */
static long run_alternative(const struct osregex_run *run)
{
    struct osregex_scan sc = {
        .pt = run->base,
        .r_code = 0,
        .restart = NOPOS,
    };

    for (sc.st = 0; run->subject[sc.st] != '\0'; sc.st++) {
        unsigned char c = run->subject[sc.st];

        if (pattern_done(run, &sc))
            return sc.r_code;
        if (*sc.pt == ESC) {
            enum osregex_step step;

            if (class_accepts(sc.pt[1], c)) {
                if (is_quantifier(sc.pt[2]))
                    take_repeated(run, &sc, c);
                else
                    consume(&sc, 2);
                continue;
            }
            step = leave_class(run, &sc);
            if (step == STEP_MATCHED)
                return sc.r_code;
            if (step == STEP_NEXT)
                continue;
        } else if (*sc.pt == fold(c)) {
            consume(&sc, 1);
            continue;
        }
        if (recover(run, &sc) != 0)
            return NOPOS;
    }
    return finish_at_end(run, sc.pt, sc.st, sc.r_code, sc.repeating);
}

/*
 * Copies complete open/close pairs into captures, as Wazuh does. Returns
 * their number, or -1 when a pair closes before it opens. Wazuh then
 * fails to allocate the substring and reports no match. For a length of
 * -1 it overruns the buffer instead, which is taken as no match too.
 */
static int collect_captures(const long *marks, int mark_slots,
                            struct wl_capture *captures, int max_captures)
{
    int n = 0;

    for (int j = 0; j + 1 < mark_slots; j += 2) {
        if (marks[j] == NOPOS || marks[j + 1] == NOPOS)
            break;
        if (marks[j + 1] < marks[j])
            return -1;
        if (n < max_captures) {
            captures[n].start = marks[j];
            captures[n].end = marks[j + 1];
            n++;
        }
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

    if (capture_mode)
        run.marks = marks;
    for (size_t i = 0; i < re->count; i++) {
        const struct osregex_alternative *alt = &re->alternatives[i];
        long pos;
        int n;

        run.base = re->program + alt->start;
        run.mark_index = re->mark_index + alt->start;
        run.flags = alt->flags;
        /* Every pair up to the limit is checked, even past max_captures,
         * because a reversed pair makes the whole match fail. */
        if (capture_mode)
            run.mark_slots = alt->marks < 2 * WL_PATTERN_MAX_CAPTURES
                                 ? alt->marks
                                 : 2 * WL_PATTERN_MAX_CAPTURES;
        for (int j = 0; j < run.mark_slots; j++)
            marks[j] = NOPOS;
        pos = run_alternative(&run);
        if (pos == NOPOS)
            continue;
        /* Wazuh stops at the first matching alternative even when it
         * then fails to copy the captures. */
        n = capture_mode ? collect_captures(marks, run.mark_slots, captures,
                                            max_captures)
                         : 0;
        if (n >= 0)
            *end = pos;
        return n;
    }
    return -1;
}
