/*
 * Correlation rules on hand-built events: frequency counting and the
 * events it uses, timeframe, agents, same_/different_ filters on static
 * and dynamic fields, global_frequency and if_matched_regex.
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

static const char rules_text[] =
    "<group name=\"t,\">\n"
    "<rule id=\"7\" level=\"0\" noalert=\"1\"><category>ossec</category>"
    "<description>root</description></rule>\n"
    "<rule id=\"110\" level=\"0\"><category>ossec</category>"
    "<field name=\"t\">\\.</field><description>base</description></rule>\n"
    /* Base rules the correlation rules count. */
    "<rule id=\"200\" level=\"3\"><if_sid>110</if_sid>"
    "<field name=\"t\">^a$</field><description>a</description></rule>\n"
    "<rule id=\"201\" level=\"3\"><if_sid>110</if_sid>"
    "<field name=\"t\">^s$</field><description>s</description>"
    "<group>sgroup,</group></rule>\n"
    "<rule id=\"202\" level=\"3\"><if_sid>110</if_sid>"
    "<field name=\"t\">^g$</field><description>g</description></rule>\n"
    /* Three a events of one agent within 60 s. */
    "<rule id=\"300\" level=\"8\" frequency=\"3\" timeframe=\"60\">"
    "<if_matched_sid>200</if_matched_sid><description>three a"
    "</description></rule>\n"
    /* Two sgroup events with the same srcip and field k, other user. */
    "<rule id=\"301\" level=\"9\" timeframe=\"60\">"
    "<if_matched_group>sgroup</if_matched_group><same_srcip />"
    "<same_field>k</same_field><different_user />"
    "<description>pair of s</description></rule>\n"
    /* Two g events from any agent. */
    "<rule id=\"302\" level=\"7\" timeframe=\"60\">"
    "<if_matched_sid>202</if_matched_sid><global_frequency />"
    "<description>g from any agent</description></rule>\n"
    /* A b event after two events of any rule whose log contains failed. */
    "<rule id=\"303\" level=\"10\" frequency=\"3\" timeframe=\"60\">"
    "<if_sid>110</if_sid><field name=\"t\">^b$</field>"
    "<if_matched_regex>failed</if_matched_regex>"
    "<description>b after failures</description></rule>\n"
    "</group>\n";

struct step {
    const char *t;
    const char *agent;
    const char *log;
    const char *srcip;
    const char *user;
    const char *k;
    long seconds; /* since the first event */
    int rule;     /* expected verdict rule, 0 when none */
};

struct scenario {
    const char *name;
    struct step steps[8];
};

static const struct scenario scenarios[] = {
    {"frequency 3 uses events",
     {{"a", "001", "x", NULL, NULL, NULL, 0, 200},
      {"a", "001", "x", NULL, NULL, NULL, 1, 200},
      {"a", "001", "x", NULL, NULL, NULL, 2, 300},
      {"a", "001", "x", NULL, NULL, NULL, 3, 200},
      {"a", "001", "x", NULL, NULL, NULL, 4, 200},
      {"a", "001", "x", NULL, NULL, NULL, 5, 300},
      {NULL}}},
    {"frequency counts one agent",
     {{"a", "001", "x", NULL, NULL, NULL, 0, 200},
      {"a", "002", "x", NULL, NULL, NULL, 1, 200},
      {"a", "001", "x", NULL, NULL, NULL, 2, 200},
      {"a", "002", "x", NULL, NULL, NULL, 3, 200},
      {"a", "001", "x", NULL, NULL, NULL, 4, 300},
      {NULL}}},
    {"timeframe ends the search",
     {{"a", "001", "x", NULL, NULL, NULL, 0, 200},
      {"a", "001", "x", NULL, NULL, NULL, 1, 200},
      {"a", "001", "x", NULL, NULL, NULL, 100, 200},
      {"a", "001", "x", NULL, NULL, NULL, 101, 200},
      {"a", "001", "x", NULL, NULL, NULL, 102, 300},
      {NULL}}},
    {"same and different filters",
     {{"s", "001", "x", "1.1.1.1", "bob", "k1", 0, 201},
      {"s", "001", "x", "2.2.2.2", "eve", "k1", 1, 201},
      {"s", "001", "x", "1.1.1.1", "bob", "k1", 2, 201},
      {"s", "001", "x", "1.1.1.1", "eve", "k2", 3, 201},
      {"s", "001", "x", "1.1.1.1", "eve", "k1", 4, 301},
      {NULL}}},
    {"global frequency",
     {{"g", "001", "x", NULL, NULL, NULL, 0, 202},
      {"g", "002", "x", NULL, NULL, NULL, 1, 302},
      {NULL}}},
    {"if_matched_regex",
     {{"a", "001", "login failed", NULL, NULL, NULL, 0, 200},
      {"b", "001", "b", NULL, NULL, NULL, 1, 0},
      {"g", "001", "bad failed", NULL, NULL, NULL, 2, 202},
      {"b", "001", "b", NULL, NULL, NULL, 3, 303},
      {"b", "001", "b", NULL, NULL, NULL, 4, 0},
      {NULL}}},
};

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void run(const struct scenario *sc, const char *rules_path)
{
    const char *files[] = {rules_path, NULL};
    struct wl_ruleset_options o = {.rule_files = files};
    struct wl_fieldnames *names = wl_fieldnames_new();
    struct wl_ruleset *rs = NULL;
    struct wl_rule_scratch *s = wl_rule_scratch_new();
    struct wl_event ev;
    char err[256] = "";

    if (wl_ruleset_load(&o, names, &rs, err, sizeof(err)) < 0) {
        ok(0, "%s: rules load (%s)", sc->name, err);
        goto out;
    }
    wl_fieldnames_freeze(names);
    wl_event_init(&ev, names);
    for (int i = 0; sc->steps[i].t != NULL; i++) {
        const struct step *st = &sc->steps[i];
        struct wl_rule_verdict v;
        int got;

        wl_event_reset(&ev);
        ev.decoder_type = "ossec";
        ev.decoder_name = "test";
        ev.agent_id = st->agent;
        ev.location = "test";
        ev.full_log = st->log;
        ev.full_log_len = strlen(st->log);
        ev.static_fields[WL_SF_SRCIP] = st->srcip;
        ev.static_fields[WL_SF_DSTUSER] = st->user;
        ev.received.tv_sec = 1796400000 + st->seconds;
        wl_event_add_field(&ev, "t", 1, st->t, strlen(st->t));
        if (st->k != NULL)
            wl_event_add_field(&ev, "k", 1, st->k, strlen(st->k));
        wl_ruleset_match(rs, s, &ev, &v);
        got = v.rule != NULL && wl_rule_level(v.rule) > 0 ? wl_rule_id(v.rule)
                                                          : 0;
        is_int(got, st->rule, "%s: event %d", sc->name, i + 1);
    }
    wl_event_free(&ev);
out:
    wl_rule_scratch_free(s);
    wl_ruleset_free(rs);
    wl_fieldnames_free(names);
}

int main(void)
{
    char path[] = "/tmp/wl-corr-XXXXXX";
    int fd;

    wl_log_init("test-rules-correlation", WL_LOG_ERROR);
    fd = mkstemp(path);
    if (fd < 0)
        tap_skip_all("cannot create a temporary file");
    close(fd);
    write_file(path, rules_text);
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(*scenarios); i++)
        run(&scenarios[i], path);
    unlink(path);
    return tap_done();
}
