/* Rate-limited log lines: suppressed counts are reported, never lost. */
#include "config.h"

#include "daemon/log.h"
#include "tests/tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads what was written to f since the start; the caller frees it. */
static char *read_all(FILE *f)
{
    long size;
    char *text;

    fflush(f);
    size = ftell(f);
    text = calloc(1, (size_t)size + 1);
    if (text == NULL)
        return NULL;
    rewind(f);
    if (fread(text, 1, (size_t)size, f) != (size_t)size)
        text[0] = '\0';
    fseek(f, 0, SEEK_END);
    return text;
}

static int count(const char *text, const char *needle)
{
    int n = 0;

    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

int main(void)
{
    static const char key[] = "test-burst";
    static const char quiet[] = "test-quiet";
    FILE *f = tmpfile();
    char *text;

    if (f == NULL) {
        tap_skip_all("no temporary file");
        return 0;
    }
    wl_log_init("test-log", WL_LOG_INFO);
    wl_log_set_stream(f);
    for (int i = 0; i < 5; i++)
        wl_log_limited(WL_LOG_WARN, key, "burst line %d", i);
    wl_log_limited(WL_LOG_INFO, quiet, "single line");

    /* Within the window, a periodic flush reports nothing yet. */
    wl_log_flush_limited(0);
    text = read_all(f);
    ok(text != NULL, "log read back");
    is_int(count(text, "burst line"), 1, "burst: one line written");
    is_int(count(text, "suppressed"), 0, "burst: no early report");
    free(text);

    /* At shutdown every pending count is written, at its own level. */
    wl_log_flush_limited(1);
    text = read_all(f);
    ok(strstr(text, "WARNING: 4 similar lines suppressed (test-burst)") != NULL,
       "shutdown: suppressed count reported");
    is_int(count(text, "suppressed"), 1, "shutdown: nothing for one line");
    free(text);

    /* Reported counts are not reported twice. */
    wl_log_flush_limited(1);
    text = read_all(f);
    is_int(count(text, "suppressed"), 1, "second flush: nothing new");
    free(text);

    wl_log_set_stream(NULL);
    fclose(f);
    return tap_done();
}
