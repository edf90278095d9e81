/*
 * CDB list lookups of <list>: each lookup type on hand-built events, the
 * quoted keys of list files, missing fields, and rules naming a list that
 * is not configured.
 */
#include "config.h"

#include "rules/ruleset.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "tests/tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char list_text[] = "\"a:b\":\"x:y\"\n"
                                "10.0.0.:net\n"
                                "192.168.1.5:host\n"
                                "user1:admin\n"
                                "user1:second definition ignored\n"
                                "foo\n";

#define RULE(id, t, list)                                                      \
    "<rule id=\"" id "\" level=\"5\"><if_sid>110</if_sid>"                     \
    "<field name=\"t\">^" t "$</field>" list "<description>case " t            \
    "</description></rule>\n"

/* One rule a line reads better than the formatter's nesting of RULE(). */
/* clang-format off */
static const char rules_text[] =
    "<group name=\"t,\">\n"
    "<rule id=\"7\" level=\"0\" noalert=\"1\"><category>ossec</category>"
    "<description>root</description></rule>\n"
    "<rule id=\"110\" level=\"0\"><category>ossec</category>"
    "<field name=\"t\">\\.</field><description>base</description></rule>\n"
    RULE("201", "1", "<list field=\"ip\" lookup=\"address_match_key\">"
                     "etc/lists/test</list>")
    RULE("202", "2", "<list field=\"ip\" lookup=\"not_address_match_key\">"
                     "etc/lists/test</list>")
    RULE("203", "3", "<list field=\"k\" lookup=\"match_key_value\" "
                     "check_value=\"^admin\">etc/lists/test</list>")
    RULE("204", "4", "<list field=\"k\" lookup=\"match_key\">"
                     "etc/lists/test</list>")
    RULE("205", "5", "<list field=\"k\" lookup=\"not_match_key\">"
                     "etc/lists/test</list>")
    RULE("206", "6", "<list field=\"ip\" lookup=\"address_match_key_value\" "
                     "check_value=\"^net$\">etc/lists/test</list>")
    RULE("207", "7", "<list field=\"k\">etc/lists/test</list>")
    RULE("208", "8", "<list field=\"k\" lookup=\"not_match_key\">"
                     "etc/lists/test</list>")
    RULE("209", "9", "<list field=\"k\">etc/lists/missing</list>")
    "</group>\n";
/* clang-format on */

struct event_case {
    const char *name;
    const char *t;
    const char *ip; /* NULL: field absent */
    const char *k;  /* NULL: field absent */
    int rule;       /* expected verdict rule, 110 when no child matches */
};

static const struct event_case cases[] = {
    {"address prefix 10.0.0.", "1", "10.0.0.7", NULL, 201},
    {"address exact key", "1", "192.168.1.5", NULL, 201},
    {"address not in list", "1", "192.168.1.6", NULL, 110},
    {"not_address_match_key miss", "2", "172.16.0.1", NULL, 202},
    {"not_address_match_key hit", "2", "10.0.0.1", NULL, 110},
    {"match_key_value first value", "3", NULL, "user1", 203},
    {"match_key quoted key", "4", NULL, "a:b", 204},
    {"match_key line without colon", "4", NULL, "foo", 110},
    {"not_match_key miss", "5", NULL, "zzz", 205},
    {"not_match_key hit", "5", NULL, "user1", 110},
    {"address_match_key_value inverted hit", "6", "10.0.0.9", NULL, 110},
    {"address_match_key_value inverted miss", "6", "172.16.9.9", NULL, 206},
    {"match_key default lookup", "7", NULL, "user1", 207},
    {"missing field fails", "7", NULL, NULL, 110},
    {"missing field fails not_match_key", "8", NULL, NULL, 110},
};

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void add(struct wl_event *ev, const char *name, const char *value)
{
    if (value != NULL)
        wl_event_add_field(ev, name, strlen(name), value, strlen(value));
}

int main(void)
{
    char dir[] = "/tmp/wl-lists-XXXXXX";
    char list_path[512], rules_path[512], err[256] = "";

    wl_log_init("test-rules-lists", WL_LOG_ERROR);
    if (mkdtemp(dir) == NULL)
        tap_skip_all("cannot create a temporary directory");
    snprintf(list_path, sizeof(list_path), "%s/test", dir);
    snprintf(rules_path, sizeof(rules_path), "%s/rules.xml", dir);
    write_file(list_path, list_text);
    write_file(rules_path, rules_text);

    const char *files[] = {rules_path, NULL};
    struct wl_ruleset_list lists[] = {{"etc/lists/test", list_path},
                                      {NULL, NULL}};
    struct wl_ruleset_options o = {.rule_files = files, .lists = lists};
    struct wl_fieldnames *names = wl_fieldnames_new();
    struct wl_ruleset *rs = NULL;

    is_int(wl_ruleset_load(&o, names, &rs, err, sizeof(err)), 0,
           "rules with lists load (%s)", err);
    if (rs == NULL)
        return tap_done();
    wl_fieldnames_freeze(names);
    ok(wl_ruleset_find(rs, 209) == NULL,
       "rule naming a list that is not configured is skipped");
    ok(wl_ruleset_find(rs, 208) != NULL, "rule 208 loaded");

    struct wl_rule_scratch *s = wl_rule_scratch_new();
    struct wl_event ev;
    wl_event_init(&ev, names);
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        const struct event_case *c = &cases[i];
        struct wl_rule_verdict v;

        wl_event_reset(&ev);
        ev.decoder_type = "ossec";
        ev.decoder_name = "test";
        add(&ev, "t", c->t);
        add(&ev, "ip", c->ip);
        add(&ev, "k", c->k);
        wl_ruleset_match(rs, s, &ev, &v);
        is_int(v.rule ? wl_rule_id(v.rule) : 0, c->rule, "%s", c->name);
    }
    wl_event_free(&ev);
    wl_rule_scratch_free(s);
    wl_ruleset_free(rs);
    wl_fieldnames_free(names);
    unlink(list_path);
    unlink(rules_path);
    rmdir(dir);
    return tap_done();
}
