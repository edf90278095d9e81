/*
 * Fuzz target for the rule loader: the input is one rule file, loaded
 * after a root rule, then one hand-built event is matched against the
 * tree. Any crash, leak or sanitizer report is a bug.
 */
#include "config.h"

#include "rules/ruleset.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char root_rules[] =
    "<group name=\"root,\">\n"
    "<rule id=\"7\" level=\"0\" noalert=\"1\"><category>ossec</category>"
    "<description>root</description></rule>\n"
    "<rule id=\"100\" level=\"0\"><category>ossec</category>"
    "<field name=\"a\">\\.</field><description>base</description>"
    "<group>base,</group></rule>\n"
    "</group>\n";

static void quiet(void *ctx, enum wl_ruleset_report_level level,
                  const char *message)
{
    (void)ctx;
    (void)level;
    (void)message;
}

static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        return -1;
    if (size > 0 && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return -1;
    }
    return fclose(f);
}

static void match_one(const struct wl_ruleset *rs, struct wl_fieldnames *n)
{
    struct wl_rule_scratch *s = wl_rule_scratch_new();
    struct wl_event ev;
    struct wl_rule_verdict v;

    if (s == NULL || wl_event_init(&ev, n) < 0) {
        wl_rule_scratch_free(s);
        return;
    }
    ev.decoder_type = "ossec";
    ev.decoder_name = "windows_eventchannel";
    ev.full_log = "{\"win\":{\"a\":\"1\"}}";
    ev.full_log_len = strlen(ev.full_log);
    ev.location = "(WIN10) any->EventChannel";
    ev.agent_id = "001";
    wl_event_add_field(&ev, "a", 1, "1", 1);
    wl_event_add_field(&ev, "b", 1, "x y", 3);
    for (int i = 0; i < 3; i++)
        wl_ruleset_match(rs, s, &ev, &v);
    wl_event_free(&ev);
    wl_rule_scratch_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64];
    static char root[128], input[128];
    const char *files[] = {root, input, NULL};
    struct wl_ruleset_options o = {.rule_files = files, .report = quiet};
    struct wl_fieldnames *names;
    struct wl_ruleset *rs = NULL;
    char err[256];

    if (dir[0] == '\0') {
        snprintf(dir, sizeof(dir), "/tmp/wl-fuzz-rules-XXXXXX");
        if (mkdtemp(dir) == NULL)
            abort();
        snprintf(root, sizeof(root), "%s/0001-root.xml", dir);
        snprintf(input, sizeof(input), "%s/0002-input.xml", dir);
        if (write_file(root, root_rules, strlen(root_rules)) < 0)
            abort();
    }
    if (write_file(input, data, size) < 0)
        return 0;
    names = wl_fieldnames_new();
    if (names == NULL)
        return 0;
    if (wl_ruleset_load(&o, names, &rs, err, sizeof(err)) == 0) {
        wl_fieldnames_freeze(names);
        match_one(rs, names);
        wl_ruleset_free(rs);
    }
    wl_fieldnames_free(names);
    return 0;
}
