/*
 * Unit tests of the pattern API: PCRE2 (a scheduled-task rule's patterns
 * on Event Channel command lines, captures, limits, JIT and interpreter),
 * negation, invalid patterns, 60 KB subjects, and hand-picked OS_Match and
 * OS_Regex cases. Conformance with recorded Wazuh results is tested in
 * test-pattern-vectors.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/error.h"
#include "rules/pattern.h"
#include "rules/pattern_pcre2.h"
#include "tests/tap.h"

#define LONG_SUBJECT (60 * 1024)

/*
 * Custom rule 100300 (scheduled task persistence): schtasks.exe /create
 * with a /tr command that runs a script host or a file in a user folder.
 */
static const char *const schtasks_patterns[] = {
    "(?i)schtasks\\.exe",
    "(?i)/create",
    "(?i)/tr\\s+.*?(cmd\\.exe|powershell\\.exe|pwsh\\.exe|rundll32\\.exe|"
    "regsvr32\\.exe|mshta\\.exe|wscript\\.exe|cscript\\.exe|\\\\Temp\\\\|"
    "\\\\AppData\\\\|\\\\Public\\\\|\\\\ProgramData\\\\)",
};

static struct wl_pattern *compile(enum wl_pattern_type type,
                                  const char *pattern, int negate)
{
    struct wl_pattern *p = NULL;
    char err[512];

    if (wl_pattern_compile(type, pattern, negate, &p, err, sizeof(err)) != 0)
        tap_diag("compile failed: %s", err);
    return p;
}

/* Returns wl_pattern_match of a pattern compiled for this call, or -1. */
static int match_once(enum wl_pattern_type type, const char *pattern,
                      int negate, const char *subject,
                      struct wl_pattern_scratch *s)
{
    struct wl_pattern *p = compile(type, pattern, negate);
    int r;

    if (p == NULL)
        return -1;
    r = wl_pattern_match(p, subject, strlen(subject), s);
    wl_pattern_free(p);
    return r;
}

/* Returns 1 when all three patterns of rule 100300 match. */
static int schtasks_rule(const char *command_line, struct wl_pattern_scratch *s)
{
    for (size_t i = 0; i < 3; i++) {
        if (match_once(WL_PATTERN_PCRE2, schtasks_patterns[i], 0, command_line,
                       s) != 1)
            return 0;
    }
    return 1;
}

static void test_pcre2_schtasks(struct wl_pattern_scratch *s)
{
    /* Command lines as the Event Channel decoder stores them: quotes and
     * backslashes escaped once more. */
    const char *create_cmd = "\\\"C:\\\\Windows\\\\system32\\\\schtasks.exe"
                             "\\\" /create /tn x /tr \\\"cmd.exe /c calc\\\"";
    const char *create_public =
        "schtasks.exe /Create /TN upd /TR C:\\\\Users\\\\Public\\\\u.exe";
    const char *create_notepad =
        "\\\"C:\\\\Windows\\\\system32\\\\schtasks.exe\\\" /create /tn x "
        "/tr \\\"notepad.exe\\\"";
    const char *query = "\\\"C:\\\\Windows\\\\system32\\\\SCHTASKS.EXE\\\" "
                        "/query /tr cmd.exe";

    is_int(schtasks_rule(create_cmd, s), 1, "100300 cmd.exe task");
    is_int(schtasks_rule(create_public, s), 1, "100300 \\Public\\ task");
    is_int(schtasks_rule(create_notepad, s), 0, "100300 notepad task");
    is_int(schtasks_rule(query, s), 0, "100300 query is no create");
    is_int(match_once(WL_PATTERN_PCRE2, schtasks_patterns[0], 0, query, s), 1,
           "(?i) ignores case");
    is_int(match_once(WL_PATTERN_PCRE2, "schtasks\\.exe", 0, query, s), 0,
           "no implicit caseless flag");
    is_int(match_once(WL_PATTERN_PCRE2, "\\\\cmd\\.exe", 0,
                      "C:\\\\Windows\\\\cmd.exe", s),
           1, "one escaped backslash finds a doubled one");
    is_int(match_once(WL_PATTERN_PCRE2, "\\\\\\\\Users\\\\\\\\Public", 0,
                      "C:\\Users\\Public", s),
           0, "two escaped backslashes need doubled ones");
    is_int(match_once(WL_PATTERN_PCRE2, "^a.c$", 0, "a\nc", s), 0,
           "dot does not match newline");
    /* The stock rules look for U+202E (right-to-left override). */
    is_int(match_once(WL_PATTERN_PCRE2, "(*UTF)\\N{U+202E}", 0,
                      "evil\xe2\x80\xaetxt.exe", s),
           1, "(*UTF) finds U+202E");
    is_int(match_once(WL_PATTERN_PCRE2, "(*UTF)\\N{U+202E}", 0, "bad \xff byte",
                      s),
           0, "(*UTF) on invalid UTF-8 is no match");
}

static void test_pcre2_captures(struct wl_pattern_scratch *s)
{
    struct wl_pattern *p = compile(WL_PATTERN_PCRE2, "(\\w+)@(\\w+)", 0);
    struct wl_capture caps[4];
    const char *subject = "mail bob@corp.local";
    size_t end = 0;

    is_int(wl_pattern_exec(p, subject, strlen(subject), s, caps, 4, &end), 2,
           "pcre2 exec returns two captures");
    is_int(caps[0].start, 5, "first capture start");
    is_int(caps[0].end, 8, "first capture end");
    is_int(caps[1].start, 9, "second capture start");
    is_int(caps[1].end, 13, "second capture end");
    is_int(end, 12, "end is the last byte of the match");
    is_int(wl_pattern_exec(p, subject, strlen(subject), s, caps, 1, &end), 1,
           "captures capped by max_captures");
    is_int(wl_pattern_exec(p, "none", 4, s, caps, 4, &end), -1,
           "pcre2 exec no match");
    wl_pattern_free(p);

    p = compile(WL_PATTERN_PCRE2, "(a)|(b)", 0);
    is_int(wl_pattern_exec(p, "b", 1, s, caps, 4, &end), 2,
           "unset group still counted");
    is_int(caps[0].start, -1, "unset group has start -1");
    is_int(caps[1].start, 0, "set group after an unset one");
    wl_pattern_free(p);

    p = compile(WL_PATTERN_PCRE2, "^", 0);
    end = 0;
    is_int(wl_pattern_exec(p, "abc", 3, s, caps, 4, &end), 0,
           "empty match has no captures");
    ok(end == SIZE_MAX, "empty match at 0 ends before the subject");
    wl_pattern_free(p);

    p = compile(WL_PATTERN_PCRE2, "c", 0);
    is_int(wl_pattern_match(p, "ab\0c", 4, s), 0,
           "subject ends at its first NUL");
    is_int(wl_pattern_match(p, "abc", 3, NULL), 1, "match without scratch");
    wl_pattern_free(p);
}

static void test_negation(struct wl_pattern_scratch *s)
{
    is_int(match_once(WL_PATTERN_OSMATCH, "foo", 1, "xfoo", s), 0,
           "negated OS_Match hit");
    is_int(match_once(WL_PATTERN_OSMATCH, "foo", 1, "bar", s), 1,
           "negated OS_Match miss");
    is_int(match_once(WL_PATTERN_OSMATCH, "!foo", 1, "foo", s), 1,
           "'!' and negate cancel out");
    is_int(match_once(WL_PATTERN_OSREGEX, "^\\d+$", 1, "123", s), 0,
           "negated OS_Regex hit");
    is_int(match_once(WL_PATTERN_OSREGEX, "^\\d+$", 1, "12a", s), 1,
           "negated OS_Regex miss");
    is_int(match_once(WL_PATTERN_PCRE2, "(?i)cmd", 1, "CMD.exe", s), 0,
           "negated PCRE2 hit");
    is_int(match_once(WL_PATTERN_PCRE2, "(?i)cmd", 1, "pwsh.exe", s), 1,
           "negated PCRE2 miss");

    struct wl_pattern *p = compile(WL_PATTERN_OSREGEX, "(\\d+)", 1);
    struct wl_capture caps[2];
    size_t end;

    is_int(wl_pattern_exec(p, "a12", 3, s, caps, 2, &end), 1,
           "exec ignores the negate flag");
    is_int(wl_pattern_match(p, NULL, 0, s), 0, "negated missing value");
    is_int(wl_pattern_exec(p, NULL, 0, s, caps, 2, &end), -1,
           "exec of a missing value");
    wl_pattern_free(p);
}

/* Checks that an invalid pattern is rejected with a message quoting it. */
static void check_invalid(enum wl_pattern_type type, const char *pattern,
                          const char *fragment, const char *name)
{
    struct wl_pattern *p = NULL;
    char err[512] = "";
    int r = wl_pattern_compile(type, pattern, 0, &p, err, sizeof(err));

    is_int(r, WL_EINVAL, "%s is rejected", name);
    ok(p == NULL, "%s leaves no pattern", name);
    if (!ok(strstr(err, pattern) != NULL, "%s error names the pattern", name))
        tap_diag("error: %s", err);
    if (!ok(strstr(err, fragment) != NULL, "%s error says \"%s\"", name,
            fragment))
        tap_diag("error: %s", err);
}

static void test_invalid(void)
{
    char *huge = malloc(20482);
    struct wl_pattern *p = NULL;
    char err[512] = "";

    check_invalid(WL_PATTERN_PCRE2, "(?i)schtasks(\\.exe", "offset 18",
                  "pcre2 missing parenthesis");
    check_invalid(WL_PATTERN_PCRE2, "a{2,1}", "offset", "pcre2 bad repeat");
    check_invalid(WL_PATTERN_OSREGEX, "a\\b", "unknown escape", "osregex \\b");
    check_invalid(WL_PATTERN_OSREGEX, "a\\[", "offset 1", "osregex \\[");
    check_invalid(WL_PATTERN_OSREGEX, "ab\\", "backslash",
                  "osregex trailing backslash");
    check_invalid(WL_PATTERN_OSREGEX, "((a))", "nested", "osregex nesting");
    check_invalid(WL_PATTERN_OSREGEX, "(a|b)", "inside a group",
                  "osregex '|' in group");
    check_invalid(WL_PATTERN_OSREGEX, "(ab", "unclosed", "osregex unclosed");
    check_invalid(WL_PATTERN_OSREGEX, "ab)", "without", "osregex stray ')'");

    memset(huge, 'a', 20481);
    huge[20481] = '\0';
    is_int(
        wl_pattern_compile(WL_PATTERN_OSREGEX, huge, 0, &p, err, sizeof(err)),
        WL_EINVAL, "osregex longer than 20480 bytes");
    ok(strstr(err, "aaaa...") != NULL, "long pattern is shortened");
    is_int(
        wl_pattern_compile(WL_PATTERN_OSMATCH, huge, 0, &p, err, sizeof(err)),
        WL_EINVAL, "osmatch longer than 20480 bytes");
    huge[20480] = '\0';
    is_int(
        wl_pattern_compile(WL_PATTERN_OSMATCH, huge, 0, &p, err, sizeof(err)),
        0, "osmatch of 20480 bytes");
    wl_pattern_free(p);
    p = NULL;
    is_int(
        wl_pattern_compile(WL_PATTERN_OSREGEX, NULL, 0, &p, err, sizeof(err)),
        WL_EINVAL, "missing pattern");
    free(huge);
}

static char *long_subject(const char *unit, const char *tail)
{
    size_t unit_len = strlen(unit), tail_len = strlen(tail);
    char *s = malloc(LONG_SUBJECT + 1);

    for (size_t i = 0; i < LONG_SUBJECT; i++)
        s[i] = unit[i % unit_len];
    memcpy(s + LONG_SUBJECT - tail_len, tail, tail_len);
    s[LONG_SUBJECT] = '\0';
    return s;
}

static void test_long_subjects(struct wl_pattern_scratch *s)
{
    char *plain = long_subject("/tr xxxxxxx ", "");
    char *hit = long_subject("/tr xxxxxxx ", "cmd.exe");
    char *digits = long_subject("0123456789", "x");

    is_int(match_once(WL_PATTERN_PCRE2, schtasks_patterns[2], 0, plain, s), 0,
           "pcre2 60 KB without match");
    is_int(match_once(WL_PATTERN_PCRE2, schtasks_patterns[2], 0, hit, s), 1,
           "pcre2 60 KB match at the end");
    is_int(match_once(WL_PATTERN_OSMATCH, "CMD.EXE", 0, hit, s), 1,
           "osmatch 60 KB substring at the end");
    is_int(match_once(WL_PATTERN_OSMATCH, "cmd.exe$", 0, hit, s), 1,
           "osmatch 60 KB suffix");
    is_int(match_once(WL_PATTERN_OSMATCH, "calc", 0, hit, s), 0,
           "osmatch 60 KB miss");
    is_int(match_once(WL_PATTERN_OSREGEX, "\\s\\w+\\.exe$", 0, hit, s), 1,
           "osregex 60 KB match at the end");
    is_int(match_once(WL_PATTERN_OSREGEX, "^\\d+$", 0, digits, s), 0,
           "osregex 60 KB digits then a letter");
    digits[LONG_SUBJECT - 1] = '9';
    is_int(match_once(WL_PATTERN_OSREGEX, "^\\d+$", 0, digits, s), 1,
           "osregex 60 KB of digits");
    free(plain);
    free(hit);
    free(digits);
}

static void test_catastrophic(struct wl_pattern_scratch *s)
{
    char *as = long_subject("a", "b");
    char *words = long_subject("abc ", "!");
    unsigned long before = wl_pattern_match_errors();

    as[40] = 'b';
    as[41] = '\0';
    is_int(match_once(WL_PATTERN_PCRE2, "(a+)+$", 0, as, s), 0,
           "nested repeat ends as no match");
    ok(wl_pattern_match_errors() > before, "match limit counted");
    before = wl_pattern_match_errors();
    is_int(match_once(WL_PATTERN_PCRE2, "(\\w+\\s?)+$", 0, words, s), 0,
           "(\\w+\\s?)+$ on 60 KB ends as no match");
    ok(wl_pattern_match_errors() > before, "second limit counted");
    is_int(match_once(WL_PATTERN_PCRE2, "(a+)+$", 0, "aaaa", s), 1,
           "same pattern still matches a short subject");
    free(as);
    free(words);
}

static void test_interpreter(struct wl_pattern_scratch *s)
{
    char *as = long_subject("a", "b");

    /* JIT depends on the platform; results must not. */
    tap_diag("PCRE2 JIT available: %s",
             wl_pcre2_jit_available() ? "yes" : "no");
    setenv("WL_PCRE2_NO_JIT", "1", 1);
    is_int(match_once(WL_PATTERN_PCRE2, "(?i)PWSH\\.exe", 0,
                      "C:\\\\pwsh.exe -c x", s),
           1, "interpreter matches");
    is_int(schtasks_rule("schtasks.exe /create /tn a /tr mshta.exe x", s), 1,
           "interpreter runs rule 100300");
    as[30] = 'b';
    as[31] = '\0';
    is_int(match_once(WL_PATTERN_PCRE2, "(a+)+$", 0, as, s), 0,
           "interpreter stops at the match limit");
    unsetenv("WL_PCRE2_NO_JIT");
    free(as);
}

static void test_osmatch(struct wl_pattern_scratch *s)
{
    is_int(match_once(WL_PATTERN_OSMATCH, "Sysmon|Security", 0,
                      "Microsoft-Windows-Security-Auditing", s),
           1, "osmatch second alternative");
    is_int(match_once(WL_PATTERN_OSMATCH, "^4624$|^4625$", 0, "4625", s), 1,
           "osmatch whole-value alternatives");
    is_int(match_once(WL_PATTERN_OSMATCH, "^4624$|^4625$", 0, "46250", s), 0,
           "osmatch whole value only");
    is_int(match_once(WL_PATTERN_OSMATCH, "a\\|b", 0, "a\\", s), 1,
           "osmatch '|' cannot be escaped");
    is_int(match_once(WL_PATTERN_OSMATCH, "ab$", 0, "xAB\0ab", s), 1,
           "osmatch suffix before a NUL");
}

static void test_osregex(struct wl_pattern_scratch *s)
{
    struct wl_pattern *p = compile(WL_PATTERN_OSREGEX, "(a\\d*\\d*)", 0);
    struct wl_capture caps[2];
    size_t end = 99;

    /* Wazuh skips trailing \X* tokens up to a group only when it
     * extracts captures, so rules and decoders disagree here. */
    is_int(wl_pattern_match(p, "a", 1, s), 0, "osregex rules mode: no match");
    is_int(wl_pattern_exec(p, "a", 1, s, caps, 2, &end), 1,
           "osregex capture mode: match");
    is_int(caps[0].start, 0, "capture starts at 0");
    is_int(caps[0].end, 1, "capture ends at 1");
    is_int(end, 0, "end at the last consumed byte");
    wl_pattern_free(p);

    p = compile(WL_PATTERN_OSREGEX, "\\d*", 0);
    end = 99;
    is_int(wl_pattern_exec(p, "a", 1, s, NULL, 0, &end), 0,
           "\\d* matches a letter");
    ok(end == SIZE_MAX, "\\d* on a letter ends before the subject");
    wl_pattern_free(p);

    /* This run closes the group before it opens it; Wazuh then fails to
     * copy the capture and reports no match. */
    p = compile(WL_PATTERN_OSREGEX, "\\p*(\\d+)$", 0);
    is_int(wl_pattern_exec(p, "$$2-\t<\\-", 8, s, caps, 2, &end), -1,
           "reversed capture is no match");
    is_int(wl_pattern_exec(p, "$2", 2, s, caps, 2, &end), 1,
           "forward capture matches");
    is_int(caps[0].start, 1, "forward capture start");
    wl_pattern_free(p);

    is_int(match_once(WL_PATTERN_OSREGEX, "^\\w+\\s+\\d+$", 0, "id  42", s), 1,
           "osregex classes and anchors");
    is_int(match_once(WL_PATTERN_OSREGEX, "\\p\\t\\$\\|\\<", 0, "#\t$|<", s), 1,
           "osregex escaped literals");
}

/* Patterns shared by the threads of test_threads. */
static struct wl_pattern *shared_patterns[3];

/* Matches the shared patterns repeatedly; returns the number of errors. */
static void *match_repeatedly(void *arg)
{
    static const char *hit = "C:\\Windows\\System32\\cmd.exe /c whoami";
    static const char *miss = "C:\\Windows\\notepad.exe";
    struct wl_pattern_scratch *s = wl_pattern_scratch_new();
    intptr_t errors = 0;

    (void)arg;
    if (s == NULL)
        return (void *)(intptr_t)1;
    for (int i = 0; i < 5000; i++) {
        for (int k = 0; k < 3; k++) {
            errors +=
                wl_pattern_match(shared_patterns[k], hit, strlen(hit), s) != 1;
            errors += wl_pattern_match(shared_patterns[k], miss, strlen(miss),
                                       s) != 0;
        }
    }
    wl_pattern_scratch_free(s);
    return (void *)errors;
}

static void test_threads(void)
{
    pthread_t threads[2];
    void *errors[2] = {NULL, NULL};

    shared_patterns[0] = compile(WL_PATTERN_OSMATCH, "cmd.exe", 0);
    shared_patterns[1] = compile(WL_PATTERN_OSREGEX, "\\\\cmd\\.exe \\S+", 0);
    shared_patterns[2] = compile(WL_PATTERN_PCRE2, "(?i)\\\\cmd\\.exe\\s", 0);
    for (int k = 0; k < 3; k++) {
        if (!ok(shared_patterns[k] != NULL, "shared pattern %d compiles", k))
            goto out;
    }
    for (int i = 0; i < 2; i++)
        pthread_create(&threads[i], NULL, match_repeatedly, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], &errors[i]);
    is_int((intptr_t)errors[0], 0, "thread 1 results");
    is_int((intptr_t)errors[1], 0, "thread 2 results");
out:
    for (int k = 0; k < 3; k++)
        wl_pattern_free(shared_patterns[k]);
}

int main(void)
{
    struct wl_pattern_scratch *s = wl_pattern_scratch_new();

    if (!ok(s != NULL, "scratch allocated"))
        return tap_done();
    test_pcre2_schtasks(s);
    test_pcre2_captures(s);
    test_negation(s);
    test_invalid();
    test_long_subjects(s);
    test_catastrophic(s);
    test_interpreter(s);
    test_osmatch(s);
    test_osregex(s);
    test_threads();
    wl_pattern_scratch_free(s);
    return tap_done();
}
