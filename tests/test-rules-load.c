/*
 * Rule loader: the stock Wazuh ruleset loads without error, and invalid
 * rules are reported with file:line and skipped.
 */
#include "config.h"

#include "rules/ruleset.h"
#include "daemon/error.h"
#include "tests/rules-test.h"
#include "tests/tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct messages {
    char text[65536];
    size_t len;
    int errors;
};

static void collect(void *ctx, enum wl_ruleset_report_level level,
                    const char *message)
{
    struct messages *m = ctx;
    int n =
        snprintf(m->text + m->len, sizeof(m->text) - m->len, "%s\n", message);

    if (n > 0 && (size_t)n < sizeof(m->text) - m->len)
        m->len += (size_t)n;
    if (level == WL_RULESET_ERROR)
        m->errors++;
}

static void test_stock(const char *shared)
{
    char rules[1024], decoders[1024];
    const char *dirs[] = {rules, NULL};
    const char *ddirs[] = {decoders, NULL};
    struct messages m = {.len = 0};
    struct wl_ruleset_options o = {.rule_dirs = dirs,
                                   .decoder_dirs = ddirs,
                                   .report = collect,
                                   .report_ctx = &m};
    struct wl_fieldnames *names = wl_fieldnames_new();
    struct wl_ruleset *rs = NULL;
    struct wl_ruleset_list lists[STOCK_LIST_COUNT + 1];
    char list_paths[STOCK_LIST_COUNT][1024];
    char err[256] = "";

    stock_lists(shared, lists, list_paths);
    o.lists = lists;
    snprintf(rules, sizeof(rules), "%s/wazuh-ruleset/full/rules", shared);
    snprintf(decoders, sizeof(decoders), "%s/wazuh-ruleset/full/decoders",
             shared);
    int rc = wl_ruleset_load(&o, names, &rs, err, sizeof(err));
    is_int(rc, 0, "stock ruleset loads (%s)", err);
    if (rc < 0) {
        wl_fieldnames_free(names);
        return;
    }
    const struct wl_ruleset_stats *s = wl_ruleset_stats(rs);
    is_int(s->files, 168, "all 168 stock rule files read");
    is_int(s->files_failed, 0, "no stock rule file fails");
    is_int(s->rules_failed, 0, "no stock rule is invalid");
    is_int(m.errors, 0, "no load error reported");
    if (m.errors > 0)
        tap_diag("%.*s", (int)(m.len > 60000 ? 60000 : m.len), m.text);
    ok(s->rules_loaded > 4000, "more than 4000 stock rules loaded");
    tap_diag("%u rules loaded, %u tree nodes, %u without parent, %u "
             "duplicates, %u never fire, %u decoder names, %d field names",
             s->rules_loaded, s->nodes, s->rules_orphaned, s->duplicates,
             s->unsupported, s->decoder_names, wl_fieldnames_count(names));
    const char *const *un;
    const unsigned *counts;
    size_t n = wl_ruleset_unsupported(rs, &un, &counts);
    for (size_t i = 0; i < n; i++)
        tap_diag("not supported yet: <%s> x%u", un[i], counts[i]);
    ok(wl_ruleset_find(rs, 61603) != NULL, "rule 61603 is in the tree");
    ok(wl_ruleset_find(rs, 92032) != NULL, "rule 92032 is in the tree");
    wl_ruleset_free(rs);
    wl_fieldnames_free(names);
}

static const char base_rule[] = "<group name=\"t,\">\n"
                                "  <rule id=\"7\" level=\"0\" noalert=\"1\">\n"
                                "    <category>ossec</category>\n"
                                "    <description>root</description>\n"
                                "  </rule>\n"
                                "  <rule id=\"110\" level=\"3\">\n"
                                "    <if_sid>7</if_sid>\n"
                                "    <description>good</description>\n"
                                "  </rule>\n"
                                "</group>\n";

struct bad_case {
    const char *name;
    const char *xml;
    int line;             /* line the message must name */
    const char *fragment; /* text the message must contain */
    int skipped_id;       /* rule that must not load, 0 for none */
};

static const struct bad_case bad_cases[] = {
    {"malformed XML",
     "<group name=\"x,\">\n<rule id=\"120\" level=\"3\">\n"
     "<description>x</description>\n</rul>\n</group>\n",
     4, "invalid XML", 120},
    {"unknown option",
     "<group name=\"x,\">\n<rule id=\"121\" level=\"3\">\n"
     "<if_sid>110</if_sid>\n<bogus>1</bogus>\n"
     "<description>x</description>\n</rule>\n</group>\n",
     4, "unknown option <bogus>", 121},
    {"bad level",
     "<group name=\"x,\">\n\n<rule id=\"122\" level=\"17\">\n"
     "<if_sid>110</if_sid>\n<description>x</description>\n"
     "</rule>\n</group>\n",
     3, "invalid level", 122},
    {"if_sid to a missing rule",
     "<group name=\"x,\">\n<rule id=\"123\" level=\"3\">\n"
     "<if_sid>999999</if_sid>\n<description>x</description>\n"
     "</rule>\n</group>\n",
     2, "if_sid 999999 not found", 123},
    {"invalid pcre2",
     "<group name=\"x,\">\n<rule id=\"124\" level=\"3\">\n"
     "<if_sid>110</if_sid>\n"
     "<field name=\"a.b\" type=\"pcre2\">(unclosed</field>\n"
     "<description>x</description>\n</rule>\n</group>\n",
     4, "(unclosed", 124},
};

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_bad(const struct bad_case *c)
{
    char dir[] = "/tmp/wl-rules-XXXXXX";
    char good[512], bad[512], expect[600];
    const char *files[] = {good, bad, NULL};
    struct messages m = {.len = 0};
    struct wl_ruleset_options o = {
        .rule_files = files, .report = collect, .report_ctx = &m};
    struct wl_fieldnames *names = wl_fieldnames_new();
    struct wl_ruleset *rs = NULL;
    char err[256] = "";

    if (mkdtemp(dir) == NULL) {
        ok(0, "%s: temporary directory", c->name);
        return;
    }
    snprintf(good, sizeof(good), "%s/a.xml", dir);
    snprintf(bad, sizeof(bad), "%s/b.xml", dir);
    write_file(good, base_rule);
    write_file(bad, c->xml);
    int rc = wl_ruleset_load(&o, names, &rs, err, sizeof(err));
    is_int(rc, 0, "%s: the other rules load", c->name);
    snprintf(expect, sizeof(expect), "%s:%d: ", bad, c->line);
    if (!ok(strstr(m.text, expect) != NULL, "%s: message names %s", c->name,
            expect))
        tap_diag("messages: %s", m.text);
    ok(strstr(m.text, c->fragment) != NULL, "%s: message says '%s'", c->name,
       c->fragment);
    if (rs != NULL) {
        ok(wl_ruleset_find(rs, c->skipped_id) == NULL, "%s: rule %d skipped",
           c->name, c->skipped_id);
        ok(wl_ruleset_find(rs, 110) != NULL, "%s: rule 110 loaded", c->name);
    }
    wl_ruleset_free(rs);
    wl_fieldnames_free(names);
    unlink(good);
    unlink(bad);
    rmdir(dir);
}

int main(void)
{
    const char *shared = getenv("WL_SHARED_DIR");
    char probe[1024];

    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++)
        test_bad(&bad_cases[i]);
    if (shared == NULL) {
        tap_skip("WL_SHARED_DIR not set: stock ruleset not loaded");
        return tap_done();
    }
    snprintf(probe, sizeof(probe), "%s/wazuh-ruleset/full/rules", shared);
    if (access(probe, R_OK) != 0) {
        tap_skip("stock ruleset not found under WL_SHARED_DIR");
        return tap_done();
    }
    test_stock(shared);
    return tap_done();
}
