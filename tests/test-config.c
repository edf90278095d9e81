/* Unit tests of the configuration reader, printer and option table. */
#include "config.h"

#include "daemon/config.h"
#include "daemon/error.h"
#include "tests/tap.h"

#include <stdlib.h>
#include <string.h>

static int load(struct wl_config *cfg, const char *xml, char *err, size_t size)
{
    return wl_config_load_memory(cfg, "test.conf", xml, strlen(xml), err, size);
}

/* Loads xml into a fresh config and checks that it fails with needle. */
static void expect_error(const char *xml, const char *needle, const char *name)
{
    struct wl_config cfg;
    char err[1024] = "";
    int r;

    wl_config_init(&cfg);
    r = load(&cfg, xml, err, sizeof(err));
    is_int(r, WL_EPARSE, "%s: fails", name);
    if (!ok(strstr(err, needle) != NULL, "%s: message names the place", name))
        tap_diag("message: %s; expected to contain: %s", err, needle);
    wl_config_free(&cfg);
}

static void test_defaults(void)
{
    struct wl_config cfg;

    is_int(wl_config_init(&cfg), 0, "defaults: init");
    is_int(cfg.remote_port, 1514, "defaults: port 1514");
    is_str(cfg.remote_local_ip, "0.0.0.0", "defaults: all addresses");
    is_int(cfg.logall, 0, "defaults: logall off");
    is_int(cfg.jsonout_output, 1, "defaults: jsonout_output on");
    is_int(cfg.log_alert_level, 3, "defaults: log_alert_level 3");
    is_str(cfg.db_path, "wazlab.db", "defaults: database file");
    ok(cfg.remote_ssl_ca == NULL, "defaults: no CA (lab mode)");
    is_int(cfg.auth_force_disconnected_time, 3600,
           "defaults: disconnected_time 1h");
    is_int(cfg.rule_dirs.count, 0, "defaults: no rule_dir");
    is_int(wl_config_is_set(&cfg, "remote/port"), 0, "defaults: port not set");
    is_int(wl_config_is_set(&cfg, "remote/nope"), -1, "defaults: unknown path");
    ok(cfg.file == NULL, "defaults: no file");
    wl_config_free(&cfg);
}

static const char good_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<ossec_config>\n"
    "  <global>\n"
    "    <logall>yes</logall>\n"
    "  </global>\n"
    "  <!-- a comment -->\n"
    "  <remote>\n"
    "    <port> 20514 </port>\n"
    "    <local_ip>127.0.0.1</local_ip>\n"
    "    <protocol>TCP</protocol>\n"
    "    <ssl_ca>/tmp/ca.pem</ssl_ca>\n"
    "  </remote>\n"
    "</ossec_config>\n"
    "<ossec_config>\n"
    "  <ruleset>\n"
    "    <decoder_dir>ruleset/decoders</decoder_dir>\n"
    "    <rule_dir>ruleset/rules</rule_dir>\n"
    "    <rule_exclude>0215-policy_rules.xml</rule_exclude>\n"
    "    <rule_exclude>0216-other.xml</rule_exclude>\n"
    "    <rule_dir>etc/rules</rule_dir>\n"
    "    <list>etc/lists/audit-keys</list>\n"
    "  </ruleset>\n"
    "  <auth>\n"
    "    <force>\n"
    "      <disconnected_time enabled=\"no\">2d</disconnected_time>\n"
    "    </force>\n"
    "  </auth>\n"
    "  <database><batch_size>50</batch_size></database>\n"
    "  <remote><port>20515</port></remote>\n"
    "</ossec_config>\n";

static void test_good_file(void)
{
    struct wl_config cfg;
    char err[1024] = "";
    int r;

    wl_config_init(&cfg);
    r = load(&cfg, good_xml, err, sizeof(err));
    is_int(r, 0, "good file: loads");
    if (r != 0)
        tap_diag("%s", err);
    is_int(cfg.logall, 1, "good file: logall");
    is_int(cfg.remote_port, 20515, "good file: later block overrides");
    is_str(cfg.remote_local_ip, "127.0.0.1", "good file: local_ip");
    is_str(cfg.remote_protocol, "tcp", "good file: protocol folded");
    is_str(cfg.remote_ssl_ca, "/tmp/ca.pem", "good file: ssl_ca");
    is_int(cfg.rule_dirs.count, 2, "good file: two rule_dir");
    if (cfg.rule_dirs.count == 2) {
        is_str(cfg.rule_dirs.items[0], "ruleset/rules",
               "good file: rule_dir order 1");
        is_str(cfg.rule_dirs.items[1], "etc/rules",
               "good file: rule_dir order 2");
    }
    is_int(cfg.rule_excludes.count, 2, "good file: two rule_exclude");
    is_int(cfg.decoder_dirs.count, 1, "good file: decoder_dir");
    is_int(cfg.lists.count, 1, "good file: list");
    is_int(cfg.auth_force_disconnected_time, 172800,
           "good file: time with day suffix");
    is_int(cfg.auth_force_disconnected_time_enabled, 0,
           "good file: attribute read");
    is_int(cfg.db_batch_size, 50, "good file: database batch_size");
    is_int(wl_config_is_set(&cfg, "remote/port"), 1, "good file: port set");
    is_int(wl_config_is_set(&cfg, "remote/queue_size"), 0,
           "good file: queue_size default");
    is_int(cfg.remote_queue_size, 16384, "good file: default kept");
    wl_config_free(&cfg);
}

static void test_errors(void)
{
    expect_error("<ossec_config>\n  <remote>\n    <bogus>1</bogus>\n"
                 "  </remote>\n</ossec_config>\n",
                 "test.conf:3: unknown element <bogus> in <remote>",
                 "unknown element");
    expect_error("<ossec_config>\n<syscheck/>\n</ossec_config>\n",
                 "test.conf:2: unknown element <syscheck> in <ossec_config>",
                 "unknown section");
    expect_error("<config>\n</config>\n",
                 "test.conf:1: unknown root element <config>", "wrong root");
    expect_error("<ossec_config>\n<remote>\n<port>0</port>\n</remote>\n"
                 "</ossec_config>\n",
                 "test.conf:3: invalid value \"0\" for <remote><port>",
                 "port zero");
    expect_error("<ossec_config><remote><port>80x</port></remote>"
                 "</ossec_config>",
                 "test.conf:1: invalid value \"80x\" for <remote><port>: "
                 "expected an integer from 1 to 65535",
                 "port not a number");
    expect_error("<ossec_config><global><logall>maybe</logall></global>"
                 "</ossec_config>",
                 "invalid value \"maybe\" for <global><logall>: expected "
                 "yes or no",
                 "bool not yes or no");
    expect_error("<ossec_config><remote><local_ip>1.2.3</local_ip></remote>"
                 "</ossec_config>",
                 "invalid value \"1.2.3\" for <remote><local_ip>",
                 "bad address");
    expect_error("<ossec_config><remote><connection>syslog</connection>"
                 "</remote></ossec_config>",
                 "expected secure", "unsupported connection");
    expect_error("<ossec_config><auth><force><after_registration_time>1y"
                 "</after_registration_time></force></auth></ossec_config>",
                 "<auth><force><after_registration_time>", "bad time");
    expect_error("<ossec_config><remote><port x=\"1\">1</port></remote>"
                 "</ossec_config>",
                 "unknown attribute \"x\" of <remote><port>",
                 "unknown attribute");
    expect_error("<ossec_config>\n<remote>\n<port>1</remote>\n"
                 "</ossec_config>\n",
                 "test.conf:3: malformed XML", "malformed XML");
    expect_error("<ossec_config><remote><port><x/></port></remote>"
                 "</ossec_config>",
                 "<remote><port> takes a value", "child in a value");
    expect_error("<ossec_config><database><path></path></database>"
                 "</ossec_config>",
                 "expected a value", "empty required value");
    expect_error("<!DOCTYPE x [<!ENTITY a \"b\">]><ossec_config/>",
                 "test.conf:1: <!DOCTYPE> is not allowed", "DTD rejected");
    expect_error("<?xml version=\"1.0\"?>\n<!DOCTYPE x>\n<ossec_config/>\n",
                 "test.conf:2: <!DOCTYPE> is not allowed",
                 "DTD line after the declaration");
    expect_error("<ossec_config>\n  <remote>\n    <port>1514</port>\n"
                 "  </remote>\n",
                 "test.conf:4: malformed XML: <ossec_config> opened at "
                 "line 1 is not closed; add </ossec_config>",
                 "unclosed root at the last line");
    expect_error("<ossec_config>\n<remote>\n<port>1</port>\n"
                 "</ossec_config>\n",
                 "test.conf:4: malformed XML: <remote> opened at line 2 is "
                 "closed by </ossec_config>; add </remote> before it",
                 "element closed by its parent");
    expect_error("<ossec_config>\n</ossec_config>\ntrailing",
                 "test.conf:3: text outside <ossec_config>",
                 "text after the root");
}

static void test_empty_and_missing(void)
{
    struct wl_config cfg;
    char err[256];

    wl_config_init(&cfg);
    is_int(load(&cfg, " \n\t\n", err, sizeof(err)), 0,
           "whitespace-only file sets nothing");
    is_int(wl_config_load(&cfg, "/nonexistent/wazlab.conf", err, sizeof(err)),
           WL_ENOENT, "missing file");
    ok(strstr(err, "/nonexistent/wazlab.conf") != NULL,
       "missing file is named");
    wl_config_free(&cfg);
}

static void test_check(void)
{
    struct wl_config cfg;
    char err[1024] = "";
    int r;

    wl_config_init(&cfg);
    is_int(wl_config_check(&cfg, err, sizeof(err)), 0, "check: defaults");
    load(&cfg,
         "<ossec_config>\n<remote>\n"
         "<ssl_cert>/nonexistent/cert.pem</ssl_cert>\n"
         "<ssl_ca>/nonexistent/ca.pem</ssl_ca>\n"
         "</remote>\n</ossec_config>\n",
         err, sizeof(err));
    r = wl_config_check(&cfg, err, sizeof(err));
    is_int(r, WL_EINVAL, "check: fails");
    if (!ok(strstr(err, "(built-in defaults):3: <remote><ssl_cert> and "
                        "<remote><ssl_key> must be set together") != NULL,
            "check: certificate without key names the line"))
        tap_diag("%s", err);
    if (!ok(strstr(err, ":4: <remote><ssl_ca>: cannot read "
                        "/nonexistent/ca.pem") != NULL,
            "check: unreadable CA names file and line"))
        tap_diag("%s", err);
    wl_config_free(&cfg);
}

/* Prints cfg into a malloc'd string. */
static char *print_to_string(const struct wl_config *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    wl_config_print(cfg, f);
    fclose(f);
    return text;
}

static void test_print_round_trip(void)
{
    struct wl_config a;
    struct wl_config b;
    char err[1024] = "";
    char *first;
    char *second;
    int r;

    wl_config_init(&a);
    load(&a, good_xml, err, sizeof(err));
    first = print_to_string(&a);
    wl_config_init(&b);
    r = load(&b, first, err, sizeof(err));
    is_int(r, 0, "printed config loads again");
    if (r != 0)
        tap_diag("%s", err);
    second = print_to_string(&b);
    is_str(second, first, "printed config is stable");
    ok(strstr(first, "<disconnected_time enabled=\"no\">2d"
                     "</disconnected_time>") != NULL,
       "printed config has the attribute");
    ok(strstr(first, "<rule_dir>ruleset/rules</rule_dir>\n"
                     "    <rule_dir>etc/rules</rule_dir>") != NULL,
       "printed config keeps list order");
    free(first);
    free(second);
    wl_config_free(&a);
    wl_config_free(&b);
}

int main(void)
{
    test_defaults();
    test_good_file();
    test_errors();
    test_empty_and_missing();
    test_check();
    test_print_round_trip();
    return tap_done();
}
