/*
 * Micro-benchmark of the pattern languages: nanoseconds per match for
 * patterns and values typical of Sysmon rules. Usage:
 * bench-patterns [iterations] (default 200000).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/pattern.h"

struct bench_case {
    const char *name;
    enum wl_pattern_type type;
    const char *pattern;
    const char *subject;
};

/* A Sysmon process-creation event as the Event Channel decoder logs it. */
static const char full_log[] =
    "{\"win\":{\"system\":{\"providerName\":\"Microsoft-Windows-Sysmon\","
    "\"providerGuid\":\"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}\","
    "\"eventID\":\"1\",\"version\":\"5\",\"level\":\"4\",\"task\":\"1\","
    "\"opcode\":\"0\",\"keywords\":\"0x8000000000000000\","
    "\"systemTime\":\"2019-04-27T15:57:53.3688632Z\","
    "\"eventRecordID\":\"6577\",\"processID\":\"1912\","
    "\"threadID\":\"996\",\"channel\":\"Microsoft-Windows-Sysmon/"
    "Operational\",\"computer\":\"IEWIN7\",\"severityValue\":"
    "\"INFORMATION\"},\"eventdata\":{\"utcTime\":\"2019-04-27 "
    "15:57:53.368\",\"processGuid\":\"{365abb72-7c01-5cc4-0000-"
    "00102b3e0c00}\",\"processId\":\"2680\",\"image\":\"C:\\\\Windows\\\\"
    "System32\\\\cmd.exe\",\"commandLine\":\"\\\"C:\\\\Windows\\\\system32"
    "\\\\cmd.exe\\\" /c whoami\",\"currentDirectory\":\"C:\\\\Users\\\\"
    "IEUser\\\\\",\"user\":\"IEWIN7\\\\IEUser\",\"logonId\":\"0xf4be\","
    "\"integrityLevel\":\"High\",\"parentImage\":\"C:\\\\Windows\\\\"
    "System32\\\\WindowsPowerShell\\\\v1.0\\\\powershell.exe\"}}}";

static const struct bench_case cases[] = {
    {"osregex channel", WL_PATTERN_OSREGEX,
     "^Microsoft-Windows-Sysmon/Operational$",
     "Microsoft-Windows-Sysmon/Operational"},
    {"osregex eventID", WL_PATTERN_OSREGEX, "^1$", "1"},
    {"osregex \\.+", WL_PATTERN_OSREGEX, "\\.+", "Microsoft-Windows-Sysmon"},
    {"osregex image miss", WL_PATTERN_OSREGEX, "svchost.exe",
     "C:\\\\Windows\\\\System32\\\\cmd.exe"},
    {"osmatch full log", WL_PATTERN_OSMATCH, "mimikatz|sekurlsa", full_log},
    {"pcre2 parentImage", WL_PATTERN_PCRE2, "(?i)\\\\powershell\\.exe",
     "C:\\\\Windows\\\\System32\\\\WindowsPowerShell\\\\v1.0\\\\"
     "powershell.exe"},
    {"pcre2 commandLine miss", WL_PATTERN_PCRE2,
     "(?i)/tr\\s+.*?(cmd\\.exe|powershell\\.exe|pwsh\\.exe|rundll32\\.exe|"
     "regsvr32\\.exe|mshta\\.exe|wscript\\.exe|cscript\\.exe|\\\\Temp\\\\|"
     "\\\\AppData\\\\|\\\\Public\\\\|\\\\ProgramData\\\\)",
     "\\\"C:\\\\Windows\\\\system32\\\\cmd.exe\\\" /c whoami"},
    {"pcre2 full log", WL_PATTERN_PCRE2, "(?i)mimikatz|sekurlsa", full_log},
};

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int run_case(const struct bench_case *c, long iterations,
                    struct wl_pattern_scratch *s)
{
    struct wl_pattern *p;
    char err[256];
    size_t len = strlen(c->subject);
    long hits = 0;
    double start;

    if (wl_pattern_compile(c->type, c->pattern, 0, &p, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    start = now_ns();
    for (long i = 0; i < iterations; i++)
        hits += wl_pattern_match(p, c->subject, len, s);
    printf("%-24s %6zu bytes %9.1f ns/match %s\n", c->name, len,
           (now_ns() - start) / (double)iterations,
           hits ? "match" : "no match");
    wl_pattern_free(p);
    return 0;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 200000;
    struct wl_pattern_scratch *s = wl_pattern_scratch_new();
    int r = 0;

    if (s == NULL || iterations <= 0) {
        fprintf(stderr, "usage: bench-patterns [iterations > 0]\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        r |= run_case(&cases[i], iterations, s);
    wl_pattern_scratch_free(s);
    return r;
}
