/*
 * Replays fuzz inputs through LLVMFuzzerTestOneInput without libFuzzer:
 * every file of the directories given as arguments (or of
 * $top_srcdir/tests/fuzz/seeds-eventchannel). Prints TAP, one check per
 * file; a crash or sanitizer report fails the test.
 */
#include "config.h"

#include "tests/tap.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (f == NULL)
        return -1;
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            buf = realloc(buf, cap);
            if (buf == NULL)
                abort();
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static void replay_dir(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    char path[4096];

    if (dp == NULL) {
        ok(0, "open %s", dir);
        return;
    }
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        ok(replay_file(path) == 0, "replay %s", de->d_name);
    }
    closedir(dp);
}

int main(int argc, char **argv)
{
    char dir[4096];

    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            replay_dir(argv[i]);
        return tap_done();
    }
    const char *top = getenv("top_srcdir");
    snprintf(dir, sizeof(dir), "%s/tests/fuzz/seeds-eventchannel",
             top ? top : ".");
    replay_dir(dir);
    return tap_done();
}
