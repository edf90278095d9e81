/*
 * wazlab-logtest: reads one event per line from standard input, decodes
 * it with the daemon's decoders and prints, like wazuh-logtest, the
 * pre-decoding (phase 1), the decoder with every field (phase 2) and the
 * rules that matched (phase 3). With --json it prints instead one line per
 * event shaped like a line of Wazuh's archives.json, plus "alert", so a
 * whole file can be compared with Wazuh's.
 */
#include "config.h"

#include "decoders/decode.h"
#include "rules/alert.h"
#include "rules/rule.h"
#include "rules/default_rules.h"
#include "rules/ruleset.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <cjson/cJSON.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTS 32

struct logtest {
    char queue;
    const char *location;
    const char *agent_name; /* NULL for manager-local events */
    const char *agent_id;
    const char *agent_ip;
    int json;
    char manager[256];
    unsigned long long bytes_out; /* second half of each "id" */

    struct wl_decoders *decoders;
    struct wl_decode_scratch *scratch;
    struct wl_decode_stats stats;
    struct wl_event ev;
    char *msg;
    size_t msg_cap;

    /* Rule selection (NULL-terminated lists) and the loaded rules. */
    const char *rule_dirs[33];
    const char *rule_files[33];
    const char **default_files; /* built-in ruleset, when chosen */
    const char *excludes[33];
    const char *decoder_dirs[2];
    struct wl_ruleset_list lists[MAX_LISTS + 1];
    int list_count;
    int rule_dir_count;
    int rule_file_count;
    int exclude_count;
    int log_alert_level;
    struct wl_fieldnames *names;
    struct wl_ruleset *rules; /* NULL: phase 3 skipped */
    struct wl_rule_scratch *rule_scratch;
    struct wl_rule_verdict verdict;
};

#define MAX_RULE_PATHS 32

static void usage(FILE *out)
{
    fprintf(out, "Usage: wazlab-logtest [OPTION]...\n"
                 "Decode events read from standard input, one per line.\n"
                 "\n"
                 "  -q, --queue=CHAR      queue type of each message: 'f' for "
                 "Windows\n"
                 "                        Event Channel, '1' for log files "
                 "(default 1)\n"
                 "  -l, --location=TEXT   location of each message (default "
                 "stdin)\n"
                 "  -a, --agent=NAME      send as agent NAME, as remoted "
                 "forwards it\n"
                 "  -i, --agent-id=ID     agent id with --agent (default 001)\n"
                 "      --agent-ip=IP     registered IP with --agent (default "
                 "any)\n"
                 "  -j, --json            print one archives.json line per "
                 "event\n"
                 "      --rules-dir=DIR   load every *.xml rule file of DIR "
                 "(repeatable)\n"
                 "      --rules-file=FILE load one rule file (repeatable)\n"
                 "      --rules-exclude=NAME  skip rule files with this "
                 "basename\n"
                 "      --list=NAME[=FILE]    CDB list rules name NAME, read "
                 "from FILE\n"
                 "                        (default NAME; repeatable)\n"
                 "      --wazuh-ruleset=DIR   load DIR/rules without "
                 "0215-policy_rules.xml,\n"
                 "                        with DIR/decoders for <decoded_as> "
                 "and the lists\n"
                 "                        of DIR/lists as etc/lists/NAME\n"
                 "      --log-alert-level=N   lowest level that writes an "
                 "alert (default 1)\n"
                 "  -h, --help            show this help\n"
                 "\n"
                 "Rule files load in the order of their basenames. Without a "
                 "rules option,\n"
                 "the built-in default ruleset is loaded, as wazlabd does, "
                 "with\n" WL_SYSCONFDIR "/rules/local_rules.xml in place of "
                 "its local_rules.xml\nwhen that file exists.\n"
                 "\n"
                 "Example: wazlab-logtest --queue f --location EventChannel "
                 "--agent WIN10 --json < events.jsonl\n");
}

/* Appends text with ':' and '|' escaped by '|', as agents send them. */
static size_t put_escaped(char *out, const char *text)
{
    size_t n = 0;

    for (; *text != '\0'; text++) {
        if (*text == ':' || *text == '|')
            out[n++] = '|';
        out[n++] = *text;
    }
    return n;
}

/* Builds "<queue>:<location>:<line>" in lt->msg; returns its length. */
static size_t build_message(struct logtest *lt, const char *line, size_t len)
{
    size_t loc_len = strlen(lt->location) * 2;
    size_t agent_len = lt->agent_name
                           ? strlen(lt->agent_name) + strlen(lt->agent_id) +
                                 strlen(lt->agent_ip) + 16
                           : 0;
    size_t need = 2 + agent_len * 2 + loc_len + 1 + len + 1;

    if (need > lt->msg_cap) {
        char *msg = realloc(lt->msg, need);

        if (msg == NULL)
            wl_fatal_nomem("wazlab-logtest");
        lt->msg = msg;
        lt->msg_cap = need;
    }
    char *p = lt->msg;
    size_t n = 0;
    p[n++] = lt->queue;
    p[n++] = ':';
    if (lt->agent_name != NULL) {
        p[n++] = '[';
        n += put_escaped(p + n, lt->agent_id);
        p[n++] = ']';
        p[n++] = ' ';
        p[n++] = '(';
        n += put_escaped(p + n, lt->agent_name);
        p[n++] = ')';
        p[n++] = ' ';
        n += put_escaped(p + n, lt->agent_ip);
        p[n++] = '-';
        p[n++] = '>';
    }
    n += put_escaped(p + n, lt->location);
    p[n++] = ':';
    memcpy(p + n, line, len);
    n += len;
    p[n] = '\0';
    return n;
}

/* Prints one "name: 'value'" line; nothing when value is NULL. */
static void print_value(const char *name, const char *value)
{
    if (value != NULL)
        printf("\t%s: '%s'\n", name, value);
}

static void print_phase1(const struct logtest *lt)
{
    const struct wl_event *ev = &lt->ev;

    printf("**Phase 1: Completed pre-decoding.\n");
    print_value("full event", ev->full_log);
    print_value("timestamp", ev->dec_timestamp);
    print_value("hostname", ev->agent_name);
    print_value("program_name", ev->program_name);
    if (ev->log != ev->full_log)
        print_value("log", ev->log);
    printf("\n");
}

static const char *static_names[WL_SF_COUNT] = {
    [WL_SF_PROTOCOL] = "protocol",
    [WL_SF_ACTION] = "action",
    [WL_SF_SRCIP] = "srcip",
    [WL_SF_SRCPORT] = "srcport",
    [WL_SF_SRCUSER] = "srcuser",
    [WL_SF_DSTIP] = "dstip",
    [WL_SF_DSTPORT] = "dstport",
    [WL_SF_DSTUSER] = "dstuser",
    [WL_SF_ID] = "id",
    [WL_SF_STATUS] = "status",
    [WL_SF_URL] = "url",
    [WL_SF_DATA] = "data",
    [WL_SF_EXTRA_DATA] = "extra_data",
    [WL_SF_SYSTEM_NAME] = "system_name",
};

static void print_phase2(const struct logtest *lt)
{
    const struct wl_event *ev = &lt->ev;

    if (ev->decoder_name == NULL) {
        printf("**Phase 2: No decoder matched.\n\n");
        return;
    }
    printf("**Phase 2: Completed decoding.\n");
    print_value("name", ev->decoder_name);
    if (ev->decoder_parent != NULL)
        print_value("parent", ev->decoder_parent);
    for (int i = 0; i < WL_SF_COUNT; i++) {
        if (ev->static_fields[i] != NULL)
            print_value(static_names[i], ev->static_fields[i]);
    }
    for (size_t i = 0; i < ev->field_count; i++)
        print_value(ev->fields[i].name, ev->fields[i].value);
    if (ev->fields_dropped > 0)
        printf("\t(%zu more fields dropped)\n", ev->fields_dropped);
    printf("\n");
}

static void print_phase3(const struct logtest *lt)
{
    const struct wl_rule_verdict *v = &lt->verdict;
    const struct wl_rule *r = v->rule;

    if (lt->rules == NULL)
        return;
    if (r == NULL) {
        printf("**Phase 3: No rule matched.\n\n");
        return;
    }
    char *description = wl_rule_expand_description(r, &lt->ev);
    char *groups = wl_alert_groups_json(r);
    char *mitre = wl_alert_mitre_json(r);

    if (description == NULL || groups == NULL || mitre == NULL)
        wl_fatal_nomem("wazlab-logtest");
    printf("**Phase 3: Completed filtering (rules).\n");
    printf("\trules matched:");
    for (int i = 0; i < v->chain_len; i++)
        printf("%s%d", i ? " -> " : " ", wl_rule_id(v->chain[i]));
    if (v->ignored)
        printf(" (last rule ignored: inside its ignore time)");
    printf("\n");
    printf("\tid: '%d'\n", r->id);
    printf("\tlevel: '%d'\n", r->level);
    printf("\tdescription: '%s'\n", description);
    printf("\tgroups: '%s'\n", groups);
    printf("\tfiredtimes: '%lu'\n", v->firedtimes);
    printf("\tmail: '%s'\n", r->mail ? "True" : "False");
    if (strcmp(mitre, "[]") != 0)
        printf("\tmitre.id: '%s'\n", mitre);
    if (v->alert)
        printf("**Alert to be generated.\n");
    else if (r->level == 0)
        printf("**Level 0: the event is ignored, no alert.\n");
    else
        printf("**No alert: level %d is below the alert level or the rule "
               "has no_log.\n",
               r->level);
    printf("\n");
    free(description);
    free(groups);
    free(mitre);
}

/* Adds the verdict rule (level > 0, as archives show it) to root. */
static void add_rule_object(const struct logtest *lt, cJSON *root)
{
    const struct wl_rule *r = lt->verdict.rule;

    if (r == NULL || (r->level == 0 && !lt->verdict.ignored))
        return;
    char *description = wl_rule_expand_description(r, &lt->ev);
    char *groups = wl_alert_groups_json(r);
    char id[16];

    if (description == NULL || groups == NULL)
        wl_fatal_nomem("wazlab-logtest");
    snprintf(id, sizeof(id), "%d", r->id);
    cJSON *rule = cJSON_AddObjectToObject(root, "rule");
    cJSON_AddStringToObject(rule, "id", id);
    cJSON_AddNumberToObject(rule, "level", r->level);
    cJSON_AddStringToObject(rule, "description", description);
    cJSON_AddItemToObject(rule, "groups", cJSON_CreateRaw(groups));
    free(description);
    free(groups);
}

/* "2026-12-04T15:38:21.774+0000" in local time. */
static void format_timestamp(const struct timespec *ts, char *out, size_t size)
{
    struct tm tm;
    char date[24], zone[8];

    localtime_r(&ts->tv_sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(zone, sizeof(zone), "%z", &tm);
    snprintf(out, size, "%s.%03ld%s", date, ts->tv_nsec / 1000000, zone);
}

/*
 * The location as archives.json shows it: for agents the text after the
 * first '>', NULL when there is none.
 */
static const char *archive_location(const struct wl_event *ev)
{
    const char *gt;

    if (ev->location[0] != '(')
        return ev->location;
    gt = strchr(ev->location, '>');
    return gt ? gt + 1 : NULL;
}

static cJSON *agent_object(const struct logtest *lt)
{
    const struct wl_event *ev = &lt->ev;
    cJSON *agent = cJSON_CreateObject();
    int local = strcmp(ev->agent_id, "000") == 0;

    cJSON_AddStringToObject(agent, "id", ev->agent_id);
    if (ev->location[0] == '(')
        cJSON_AddStringToObject(agent, "name", ev->agent_name);
    else if (local)
        cJSON_AddStringToObject(agent, "name", lt->manager);
    if (ev->agent_ip != NULL && strcmp(ev->agent_ip, "any") != 0)
        cJSON_AddStringToObject(agent, "ip", ev->agent_ip);
    return agent;
}

/* Prints the archives.json line of a decoded event. */
static void print_archive(struct logtest *lt)
{
    const struct wl_event *ev = &lt->ev;
    cJSON *root = cJSON_CreateObject();
    char stamp[64], id[64];
    int nomem = 0;

    format_timestamp(&ev->received, stamp, sizeof(stamp));
    snprintf(id, sizeof(id), "%lld.%llu", (long long)ev->received.tv_sec,
             lt->bytes_out);
    cJSON_AddStringToObject(root, "timestamp", stamp);
    if (lt->rules != NULL)
        add_rule_object(lt, root);
    cJSON_AddItemToObject(root, "agent", agent_object(lt));
    cJSON *manager = cJSON_AddObjectToObject(root, "manager");
    cJSON_AddStringToObject(manager, "name", lt->manager);
    cJSON_AddStringToObject(root, "id", id);
    cJSON_AddStringToObject(root, "full_log", ev->full_log);
    if (ev->program_name != NULL || ev->dec_timestamp != NULL) {
        cJSON *pre = cJSON_AddObjectToObject(root, "predecoder");

        if (ev->program_name != NULL)
            cJSON_AddStringToObject(pre, "program_name", ev->program_name);
        if (ev->dec_timestamp != NULL)
            cJSON_AddStringToObject(pre, "timestamp", ev->dec_timestamp);
    }
    if (ev->decoder_name != NULL) {
        cJSON *dec = cJSON_AddObjectToObject(root, "decoder");

        if (ev->decoder_parent != NULL)
            cJSON_AddStringToObject(dec, "parent", ev->decoder_parent);
        cJSON_AddStringToObject(dec, "name", ev->decoder_name);
    }
    /* The data text is Wazuh's exact printing: spliced in unchanged. */
    char *data = wl_event_data_json(ev, &nomem);
    if (nomem)
        wl_fatal_nomem("wazlab-logtest");
    if (data != NULL)
        cJSON_AddItemToObject(root, "data", cJSON_CreateRaw(data));
    free(data);
    const char *location = archive_location(ev);
    if (location != NULL)
        cJSON_AddStringToObject(root, "location", location);
    if (lt->rules != NULL)
        cJSON_AddBoolToObject(root, "alert", lt->verdict.alert);

    char *text = cJSON_PrintUnformatted(root);
    if (text == NULL)
        wl_fatal_nomem("wazlab-logtest");
    puts(text);
    lt->bytes_out += strlen(text) + 1;
    free(text);
    cJSON_Delete(root);
}

/* Decodes one input line and prints its phases or archive line. */
static void process_line(struct logtest *lt, const char *line, size_t len)
{
    size_t n = build_message(lt, line, len);
    int r;

    wl_event_reset(&lt->ev);
    clock_gettime(CLOCK_REALTIME, &lt->ev.received);
    r = wl_decode(lt->decoders, lt->scratch, lt->msg, n, &lt->ev, &lt->stats);
    if (r == WL_ENOMEM)
        wl_fatal_nomem("wazlab-logtest");
    if (r < 0) {
        /* Wazuh drops such an event: it reaches no archive and no rule. */
        if (lt->json)
            printf("{\"dropped\":true,\"error\":\"%s\"}\n", wl_strerror(r));
        else
            printf("**Event dropped by the decoder: %s.\n\n", wl_strerror(r));
        return;
    }
    if (lt->rules != NULL)
        wl_ruleset_match(lt->rules, lt->rule_scratch, &lt->ev, &lt->verdict);
    if (lt->json) {
        print_archive(lt);
        return;
    }
    print_phase1(lt);
    print_phase2(lt);
    print_phase3(lt);
}

/* Appends value to a NULL-terminated list of at most MAX_RULE_PATHS. */
static int add_path(const char **list, int *count, const char *value,
                    const char *option)
{
    if (*count >= MAX_RULE_PATHS) {
        fprintf(stderr, "wazlab-logtest: too many --%s options (max %d)\n",
                option, MAX_RULE_PATHS);
        return -1;
    }
    list[(*count)++] = value;
    list[*count] = NULL;
    return 0;
}

/* Adds a CDB list: name as rules write it, and the file to read. */
static int add_list(struct logtest *lt, const char *name, const char *path)
{
    if (lt->list_count >= MAX_LISTS) {
        fprintf(stderr, "wazlab-logtest: too many lists (max %d)\n", MAX_LISTS);
        return -1;
    }
    lt->lists[lt->list_count].name = name;
    lt->lists[lt->list_count].path = path;
    lt->list_count++;
    lt->lists[lt->list_count].name = NULL;
    return 0;
}

/* Adds the lists of a Wazuh ruleset copy that exist under dir/lists. */
static int add_wazuh_lists(struct logtest *lt, const char *dir)
{
    static const char *const names[] = {
        "audit-keys",
        "amazon/aws-eventnames",
        "security-eventchannel",
        "malicious-ioc/malware-hashes",
        "malicious-ioc/malicious-ip",
        "malicious-ioc/malicious-domains",
    };
    static char rule_names[6][128], paths[6][4096];

    for (int i = 0; i < 6; i++) {
        snprintf(rule_names[i], sizeof(rule_names[i]), "etc/lists/%s",
                 names[i]);
        snprintf(paths[i], sizeof(paths[i]), "%s/lists/%s", dir, names[i]);
        if (access(paths[i], R_OK) == 0 &&
            add_list(lt, rule_names[i], paths[i]) < 0)
            return -1;
    }
    return 0;
}

/* Handles the rule selection options. */
static int add_rule_option(struct logtest *lt, int c, const char *value)
{
    static char rules[4096], decoders[4096];
    char *end;
    long level;

    switch (c) {
    case 'R':
        return add_path(lt->rule_dirs, &lt->rule_dir_count, value, "rules-dir");
    case 'F':
        return add_path(lt->rule_files, &lt->rule_file_count, value,
                        "rules-file");
    case 'X':
        return add_path(lt->excludes, &lt->exclude_count, value,
                        "rules-exclude");
    case 'T': {
        /* value points into argv, which may be changed in place. */
        char *name = (char *)value;
        char *eq = strchr(name, '=');

        if (eq != NULL)
            *eq++ = '\0';
        return add_list(lt, name, eq);
    }
    case 'W':
        snprintf(rules, sizeof(rules), "%s/rules", value);
        snprintf(decoders, sizeof(decoders), "%s/decoders", value);
        lt->decoder_dirs[0] = decoders;
        if (add_path(lt->excludes, &lt->exclude_count, "0215-policy_rules.xml",
                     "rules-exclude") < 0 ||
            add_wazuh_lists(lt, value) < 0)
            return -1;
        return add_path(lt->rule_dirs, &lt->rule_dir_count, rules, "rules-dir");
    default:
        level = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || level < 0 || level > 16) {
            fprintf(stderr,
                    "wazlab-logtest: invalid --log-alert-level "
                    "'%s': expected 0 to 16\n",
                    value);
            return -1;
        }
        lt->log_alert_level = (int)level;
        return 0;
    }
}

/*
 * Loads the selected rules, or the built-in default ruleset (as wazlabd
 * does) when none was selected. Returns 0, or -1 after printing why the
 * rules failed to load.
 */
static int load_rules(struct logtest *lt)
{
    struct wl_ruleset_options o = {
        .rule_dirs = lt->rule_dirs,
        .rule_files = lt->rule_files,
        .excludes = lt->excludes,
        .decoder_dirs = lt->decoder_dirs[0] ? lt->decoder_dirs : NULL,
        .lists = lt->list_count > 0 ? lt->lists : NULL,
        .log_alert_level = lt->log_alert_level,
    };
    int chosen = lt->rule_dir_count > 0 || lt->rule_file_count > 0;
    char err[256];

    if (!chosen) {
        lt->default_files =
            wl_default_rule_files(WL_SYSCONFDIR "/rules/local_rules.xml");
        if (lt->default_files == NULL)
            wl_fatal_nomem("wazlab-logtest");
        o.rule_files = lt->default_files;
        o.buffers = wl_default_rules;
    }
    lt->names = wl_fieldnames_new();
    lt->rule_scratch = wl_rule_scratch_new();
    if (lt->names == NULL || lt->rule_scratch == NULL)
        wl_fatal_nomem("wazlab-logtest");
    if (wl_ruleset_load(&o, lt->names, &lt->rules, err, sizeof(err)) < 0) {
        fprintf(stderr, "wazlab-logtest: cannot load the rules: %s\n", err);
        return -1;
    }
    wl_fieldnames_freeze(lt->names);
    return 0;
}

static int parse_options(struct logtest *lt, int argc, char **argv)
{
    static const struct option options[] = {
        {"queue", required_argument, NULL, 'q'},
        {"location", required_argument, NULL, 'l'},
        {"agent", required_argument, NULL, 'a'},
        {"agent-id", required_argument, NULL, 'i'},
        {"agent-ip", required_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'},
        {"rules-dir", required_argument, NULL, 'R'},
        {"rules-file", required_argument, NULL, 'F'},
        {"rules-exclude", required_argument, NULL, 'X'},
        {"wazuh-ruleset", required_argument, NULL, 'W'},
        {"list", required_argument, NULL, 'T'},
        {"log-alert-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, "q:l:a:i:jh", options, NULL)) != -1) {
        switch (c) {
        case 'q':
            if (strlen(optarg) != 1) {
                fprintf(stderr,
                        "wazlab-logtest: invalid queue '%s': "
                        "expected one character such as f or 1\n",
                        optarg);
                return 2;
            }
            lt->queue = optarg[0];
            break;
        case 'l':
            lt->location = optarg;
            break;
        case 'a':
            lt->agent_name = optarg;
            break;
        case 'i':
            lt->agent_id = optarg;
            break;
        case 'p':
            lt->agent_ip = optarg;
            break;
        case 'j':
            lt->json = 1;
            break;
        case 'R':
        case 'F':
        case 'X':
        case 'W':
        case 'T':
        case 'L':
            if (add_rule_option(lt, c, optarg) < 0)
                return 2;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wazlab-logtest: unexpected argument '%s'\n",
                argv[optind]);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct logtest lt = {
        .queue = '1',
        .location = "stdin",
        .agent_id = "001",
        .agent_ip = "any",
    };
    char err[256];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    wl_log_init("wazlab-logtest", WL_LOG_WARN);
    int r = parse_options(&lt, argc, argv);
    if (r != 0)
        return r;
    if (gethostname(lt.manager, sizeof(lt.manager) - 1) != 0)
        strcpy(lt.manager, "localhost");
    if (wl_decoders_new(&lt.decoders, err, sizeof(err)) < 0) {
        fprintf(stderr, "wazlab-logtest: %s\n", err);
        return 1;
    }
    if (load_rules(&lt) < 0)
        return 1;
    lt.scratch = wl_decode_scratch_new();
    if (lt.scratch == NULL || wl_event_init(&lt.ev, lt.names) < 0)
        wl_fatal_nomem("wazlab-logtest");

    while ((len = getline(&line, &cap, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        process_line(&lt, line, (size_t)len);
    }

    free(line);
    free(lt.msg);
    wl_event_free(&lt.ev);
    wl_decode_scratch_free(lt.scratch);
    wl_decoders_free(lt.decoders);
    wl_ruleset_free(lt.rules);
    free(lt.default_files);
    wl_rule_scratch_free(lt.rule_scratch);
    wl_fieldnames_free(lt.names);
    return 0;
}
