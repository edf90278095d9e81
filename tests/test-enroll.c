/*
 * Enrollment: request parsing, reply wording of wazuh-authd 4.14,
 * duplicate and replacement rules, and the password file.
 */
#include "config.h"

#include "daemon/enroll.h"
#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "tests/tap.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW 1800000000L

static char dir[] = "/tmp/wazlab-test-enroll-XXXXXX";
static char keys_path[300];
static char shared_dir[300];

/* Status the tests hand out for every existing agent. */
static struct wl_enroll_agent_status fake_status;

static int status_of(void *ctx, const struct wl_key_entry *e,
                     struct wl_enroll_agent_status *status)
{
    (void)ctx;
    (void)e;
    *status = fake_status;
    return 0;
}

static int status_unknown(void *ctx, const struct wl_key_entry *e,
                          struct wl_enroll_agent_status *status)
{
    (void)ctx;
    (void)e;
    (void)status;
    return WL_ENOENT;
}

static struct wl_enroll_config cfg;
static struct wl_keystore ks;

static void reset_store(void)
{
    wl_keys_free(&ks);
    unlink(keys_path);
    wl_keys_load(&ks, keys_path);
}

/* Runs one request and returns the reply text (static buffer). */
static const char *enroll(const char *line, const char *peer,
                          struct wl_enroll_result *result)
{
    static char reply[WL_ENROLL_REPLY_MAX];
    struct wl_enroll_result local;
    struct wl_enroll_result *res = result ? result : &local;
    int r = wl_enroll_process(&cfg, &ks, line, peer, status_of, NULL, NOW,
                              reply, res);

    if (r < 0)
        snprintf(reply, sizeof(reply), "(process failed: %d)", r);
    if (!result)
        wl_enroll_result_free(&local);
    return reply;
}

/* Checks an accepted reply "OSSEC K:'<id> <name> <ip> <64 hex>'". */
static void check_ok_reply(const char *reply, const char *id, const char *name,
                           const char *ip, const char *what)
{
    char expected[512];
    size_t prefix;
    const struct wl_key_entry *e = wl_keys_find_id(&ks, id);

    prefix = (size_t)snprintf(expected, sizeof(expected), "OSSEC K:'%s %s %s ",
                              id, name, ip);
    ok(strncmp(reply, expected, prefix) == 0, "%s: reply prefix", what);
    if (strncmp(reply, expected, prefix) != 0)
        tap_diag("got \"%s\", expected \"%s...\"", reply, expected);
    ok(strlen(reply) == prefix + 65 && reply[prefix + 64] == '\'' &&
           strspn(reply + prefix, "0123456789abcdef") == 64,
       "%s: reply key is 64 hex digits then a quote", what);
    ok(e && strncmp(reply + prefix, e->key, 64) == 0,
       "%s: reply key is the stored key", what);
}

static void check_vectors(void)
{
    struct wl_enroll_result res;
    const char *reply;

    reset_store();
    reply = enroll("OSSEC A:'win-agent-01'", "127.0.0.1", NULL);
    check_ok_reply(reply, "001", "win-agent-01", "any", "simulator request");

    reset_store();
    reply = enroll("OSSEC A:'win-agent-01' V:'v4.14.7'", "127.0.0.1", &res);
    check_ok_reply(reply, "001", "win-agent-01", "any", "4.14 request");
    ok(res.accepted, "4.14 request: accepted");
    is_str(res.id, "001", "4.14 request: result id");
    ok(res.groups == NULL, "4.14 request: no groups");
    wl_enroll_result_free(&res);

    fake_status.connection = WL_ENROLL_ACTIVE;
    fake_status.disconnection_time = 0;
    fake_status.date_add = NOW - 10;
    reply = enroll("OSSEC A:'win-agent-01' V:'v4.14.7'", "127.0.0.1", &res);
    is_str(reply,
           "ERROR: Duplicate agent name: win-agent-01. Unable to add agent",
           "duplicate name: reply text");
    ok(!res.accepted, "duplicate name: not accepted");
    wl_enroll_result_free(&res);

    reset_store();
    cfg.password = "topsecret";
    reply = enroll("OSSEC PASS: topsecret OSSEC A:'win-agent-01' "
                   "V:'v4.14.7' G:'default,windows' IP:'src' "
                   "K:'b6d47b4468f85f94b1687254f97041380702df6b'",
                   "10.20.30.40", &res);
    check_ok_reply(reply, "001", "win-agent-01", "10.20.30.40",
                   "request with every field");
    is_str(res.groups, "default,windows", "request with every field: groups");
    wl_enroll_result_free(&res);

    reply =
        enroll("OSSEC PASS: wrong OSSEC A:'win-agent-02'", "127.0.0.1", NULL);
    is_str(reply, "ERROR: Invalid password. Unable to add agent",
           "bad password: reply text");
    reply = enroll("OSSEC PASS: topsecretX OSSEC A:'win-agent-02'", "127.0.0.1",
                   NULL);
    is_str(reply, "ERROR: Invalid password. Unable to add agent",
           "password prefix without space rejected");
    reply = enroll("OSSEC A:'win-agent-02'", "127.0.0.1", NULL);
    is_str(reply, "ERROR: Invalid password. Unable to add agent",
           "missing password rejected");
    cfg.password = NULL;
    reply = enroll("OSSEC PASS: topsecret OSSEC A:'win-agent-02'", "127.0.0.1",
                   NULL);
    is_str(reply, "ERROR: Invalid request for new agent. Unable to add agent",
           "password sent to a manager without one");
}

struct reply_case {
    const char *request;
    const char *reply;
};

static void check_errors(void)
{
    static const struct reply_case cases[] = {
        {"HELLO", "ERROR: Invalid request for new agent"},
        {"OSSEC A:'unterminated", "ERROR: Invalid request for new agent"},
        {"OSSEC A:'bad name'", "ERROR: Invalid agent name: bad name"},
        {"OSSEC A:'x'", "ERROR: Invalid agent name: x"},
        {"OSSEC A:'.dot'", "ERROR: Invalid agent name: .dot"},
        {"OSSEC A:'ok-name' V:'v4.14.7", "ERROR: Unterminated version field"},
        {"OSSEC A:'ok-name' V:'v4.15.0'",
         "ERROR: Agent version must be lower or equal to manager version"},
        {"OSSEC A:'ok-name' V:'v5.0.0'",
         "ERROR: Agent version must be lower or equal to manager version"},
        {"OSSEC A:'ok-name' G:'default", "ERROR: Unterminated group field"},
        {"OSSEC A:'ok-name' G:''", "ERROR: Invalid group name: Empty Group"},
        {"OSSEC A:'ok-name' G:'a b'",
         "ERROR: Invalid group name: a b... characters "
         "'\\/:*?\"<>|,' are prohibited"},
        {"OSSEC A:'ok-name' G:'a,,b'",
         "ERROR: Invalid group name: a,,b... consecutive ',' are not "
         "allowed"},
        {"OSSEC A:'ok-name' G:'a, b'",
         "ERROR: Invalid group name: a, b... white spaces are not allowed"},
        {"OSSEC A:'ok-name' G:',a'",
         "ERROR: Invalid group name: ,a... cannot start or end with ','"},
        {"OSSEC A:'ok-name' G:','",
         "ERROR: Invalid group name: ,... characters '\\/:*?\"<>|,' are "
         "prohibited"},
        {"OSSEC A:'ok-name' G:'..'", "ERROR: Invalid group name: .."},
        {"OSSEC A:'ok-name' G:'a=b'", "ERROR: Invalid group name: a=b"},
        {"OSSEC A:'ok-name' G:'nosuch'", "ERROR: Invalid group: nosuch"},
        {"OSSEC A:'ok-name' G:'default,nosuch'",
         "ERROR: Invalid group: nosuch"},
        {"OSSEC A:'ok-name' IP:'10.0.0.1", "ERROR: Unterminated IP field"},
        {"OSSEC A:'ok-name' IP:'999.1.1.1'", "ERROR: Invalid IP: 999.1.1.1"},
        {"OSSEC A:'ok-name' IP:'a b'", "ERROR: Unterminated IP field"},
        {"OSSEC A:'ok-name' K:'abc", "ERROR: Unterminated key field"},
        {"OSSEC A:'manager-host'", "ERROR: Invalid agent name: manager-host"},
    };
    char expected[WL_ENROLL_REPLY_MAX];

    reset_store();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *reply = enroll(cases[i].request, "127.0.0.1", NULL);

        snprintf(expected, sizeof(expected), "%s. Unable to add agent",
                 cases[i].reply);
        is_str(reply, expected, "error reply: %s", cases[i].request);
    }
    is_int(ks.count, 0, "error replies: no agent added");

    {
        char request[2000];
        size_t pos;
        const char *reply;

        pos = (size_t)snprintf(request, sizeof(request),
                               "OSSEC A:'ok-name' G:'default");
        for (int i = 0; i < 128; i++) {
            char group[400];

            snprintf(group, sizeof(group), "%s/g%d", shared_dir, i);
            mkdir(group, 0755);
        }
        for (int i = 0; i < 128; i++)
            pos += (size_t)snprintf(request + pos, sizeof(request) - pos,
                                    ",g%d", i);
        snprintf(request + pos, sizeof(request) - pos, "'");
        reply = enroll(request, "127.0.0.1", NULL);
        is_str(reply,
               "ERROR: Maximum multigroup reached: Limit is 128. Unable to "
               "add agent",
               "error reply: 129 groups");
    }
}

static void check_accepted_forms(void)
{
    struct wl_enroll_result res;
    const char *reply;
    struct wl_enroll_request req;
    char error[256];

    reset_store();
    reply = enroll("OSSEC A:'grp-agent' G:'default,default,windows'",
                   "127.0.0.1", &res);
    check_ok_reply(reply, "001", "grp-agent", "any", "repeated groups");
    is_str(res.groups, "default,windows", "repeated groups: removed");
    wl_enroll_result_free(&res);

    reply = enroll("OSSEC A:'ip-agent' IP:'10.0.0.9'", "127.0.0.1", NULL);
    check_ok_reply(reply, "002", "ip-agent", "10.0.0.9", "given IP");
    reply = enroll("OSSEC A:'ip-agent2' IP:'10.0.0.9'", "127.0.0.1", NULL);
    is_str(reply, "ERROR: Duplicate IP: 10.0.0.9. Unable to add agent",
           "duplicate IP: reply text");
    reply = enroll("OSSEC A:'net-agent' IP:'10.9.0.0/16'", "127.0.0.1", NULL);
    check_ok_reply(reply, "003", "net-agent", "10.9.0.0/16", "network IP");
    reply = enroll("OSSEC A:'old-agent' V:'v4.9.2'", "127.0.0.1", NULL);
    check_ok_reply(reply, "004", "old-agent", "any", "older agent version");
    reply = enroll("OSSEC A:'patch-agent' V:'v4.14.99'", "127.0.0.1", NULL);
    check_ok_reply(reply, "005", "patch-agent", "any", "newer patch version");
    reply =
        enroll("OSSEC A:'junk-agent' unknown trailing text", "127.0.0.1", NULL);
    check_ok_reply(reply, "006", "junk-agent", "any",
                   "unknown trailing text ignored");

    cfg.use_source_ip = 1;
    reply = enroll("OSSEC A:'src-agent'", "192.0.2.7", NULL);
    check_ok_reply(reply, "007", "src-agent", "192.0.2.7", "use_source_ip");
    cfg.use_source_ip = 0;

    cfg.allow_higher_versions = 1;
    reply = enroll("OSSEC A:'new-agent' V:'v5.1.0'", "127.0.0.1", NULL);
    check_ok_reply(reply, "008", "new-agent", "any", "allow_higher_versions");
    cfg.allow_higher_versions = 0;

    is_int(wl_enroll_parse(&cfg,
                           "OSSEC A:'p-agent' V:'v4.14.7' K:'"
                           "0123456789012345678901234567890123456789'",
                           "127.0.0.1", &req, error, sizeof(error)),
           0, "parse: K field");
    is_str(req.key_hash, "0123456789012345678901234567890123456789",
           "parse: K hash read");
    is_str(req.version, "v4.14.7", "parse: version read");
    is_str(req.ip, "any", "parse: address defaults to any");
    wl_enroll_request_free(&req);
}

static void check_replacement(void)
{
    struct wl_enroll_result res;
    const char *reply;
    char request[200];
    char hash[WL_KEYS_SHA1_HEX + 1];
    char reply_copy[WL_ENROLL_REPLY_MAX];

    reset_store();
    enroll("OSSEC A:'host-a'", "127.0.0.1", NULL);

    fake_status.connection = WL_ENROLL_NEVER_CONNECTED;
    fake_status.disconnection_time = 0;
    fake_status.date_add = NOW - 600;
    reply = enroll("OSSEC A:'host-a'", "127.0.0.1", NULL);
    is_str(reply, "ERROR: Duplicate agent name: host-a. Unable to add agent",
           "replace: registered under an hour ago rejected");

    fake_status.date_add = NOW - 7200;
    reply = enroll("OSSEC A:'host-a'", "127.0.0.1", &res);
    snprintf(reply_copy, sizeof(reply_copy), "%s", reply);
    check_ok_reply(reply_copy, "002", "host-a", "any",
                   "replace: never connected, old registration");
    is_str(res.replaced_id[1], "001", "replace: old id reported");
    ok(wl_keys_find_id(&ks, "001") == NULL, "replace: old agent removed");
    is_int(ks.removed_count, 1, "replace: old line kept as removed");
    wl_enroll_result_free(&res);

    fake_status.connection = WL_ENROLL_ACTIVE;
    fake_status.disconnection_time = 0;
    reply = enroll("OSSEC A:'host-a'", "127.0.0.1", NULL);
    is_str(reply, "ERROR: Duplicate agent name: host-a. Unable to add agent",
           "replace: connected agent rejected");

    fake_status.connection = WL_ENROLL_DISCONNECTED;
    fake_status.disconnection_time = NOW - 60;
    reply = enroll("OSSEC A:'host-a'", "127.0.0.1", NULL);
    is_str(reply, "ERROR: Duplicate agent name: host-a. Unable to add agent",
           "replace: recently disconnected rejected");

    wl_keys_hash(wl_keys_find_id(&ks, "002"), hash);
    fake_status.disconnection_time = NOW - 7200;
    snprintf(request, sizeof(request), "OSSEC A:'host-a' K:'%s'", hash);
    reply = enroll(request, "127.0.0.1", NULL);
    is_str(reply, "ERROR: Duplicate agent name: host-a. Unable to add agent",
           "replace: same key hash rejected");

    snprintf(request, sizeof(request), "OSSEC A:'host-a' K:'%040d'", 0);
    reply = enroll(request, "127.0.0.1", NULL);
    snprintf(reply_copy, sizeof(reply_copy), "%s", reply);
    check_ok_reply(reply_copy, "003", "host-a", "any",
                   "replace: disconnected long ago, other key");

    cfg.force.enabled = 0;
    reply = enroll("OSSEC A:'host-a'", "127.0.0.1", NULL);
    is_str(reply, "ERROR: Duplicate agent name: host-a. Unable to add agent",
           "replace: force disabled rejected");
    cfg.force.enabled = 1;

    {
        char rep[WL_ENROLL_REPLY_MAX];
        struct wl_enroll_result r2;

        wl_enroll_process(&cfg, &ks, "OSSEC A:'host-a'", "127.0.0.1",
                          status_unknown, NULL, NOW, rep, &r2);
        is_str(rep,
               "ERROR: Duplicate agent name: host-a. Unable to add "
               "agent",
               "replace: unknown status rejected");
        wl_enroll_result_free(&r2);
        wl_enroll_process(&cfg, &ks, "OSSEC A:'host-a'", "127.0.0.1", NULL,
                          NULL, NOW, rep, &r2);
        is_str(rep,
               "ERROR: Duplicate agent name: host-a. Unable to add "
               "agent",
               "replace: no status function rejected");
        wl_enroll_result_free(&r2);
    }

    fake_status.connection = WL_ENROLL_NEVER_CONNECTED;
    fake_status.date_add = NOW - 7200;
    enroll("OSSEC A:'ip-host' IP:'10.1.1.1'", "127.0.0.1", NULL);
    reply = enroll("OSSEC A:'ip-host2' IP:'10.1.1.1'", "127.0.0.1", &res);
    snprintf(reply_copy, sizeof(reply_copy), "%s", reply);
    check_ok_reply(reply_copy, "005", "ip-host2", "10.1.1.1",
                   "replace: duplicate IP of an old agent");
    is_str(res.replaced_id[0], "004", "replace: old id by IP reported");
    wl_enroll_result_free(&res);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    fputs(text, fp);
    fclose(fp);
}

static void check_password_file(void)
{
    char path[400];
    char *pw = NULL;
    static char log_buf[4096];
    const char *log_text = NULL;
    FILE *log_file;

    snprintf(path, sizeof(path), "%s/authd.pass", dir);
    write_file(path, "s3cret-pass\nsecond line\n");
    is_int(wl_enroll_load_password(path, &pw), 0, "password: file read");
    is_str(pw, "s3cret-pass", "password: first line without newline");
    wl_enroll_password_free(pw);

    write_file(path, "a\n");
    is_int(wl_enroll_load_password(path, &pw), WL_EINVAL,
           "password: 1-character line rejected");
    ok(pw == NULL, "password: none from a 1-character line");

    write_file(path, "\nsecret\n");
    is_int(wl_enroll_load_password(path, &pw), WL_EINVAL,
           "password: empty first line rejected");

    unlink(path);
    mkdir(path, 0700);
    is_int(wl_enroll_load_password(path, &pw), WL_EINVAL,
           "password: directory rejected");
    rmdir(path);

    write_file(path, "crlf\r\n");
    wl_enroll_load_password(path, &pw);
    is_str(pw, "crlf", "password: CRLF line end stripped");
    wl_enroll_password_free(pw);

    write_file(path, "ab\n");
    wl_enroll_load_password(path, &pw);
    is_str(pw, "ab", "password: line of 3 bytes is used");
    wl_enroll_password_free(pw);

    write_file(path, "\n");
    is_int(wl_enroll_load_password(path, &pw), WL_EINVAL,
           "password: 1-byte file rejected");
    write_file(path, "");
    is_int(wl_enroll_load_password(path, &pw), WL_EINVAL,
           "password: empty file rejected");

    write_file(path, "nonewline");
    wl_enroll_load_password(path, &pw);
    is_str(pw, "nonewline", "password: line without newline");
    wl_enroll_password_free(pw);

    /* The log of the generating call is captured to look for the password. */
    unlink(path);
    log_file = tmpfile();
    wl_log_init("test-enroll", WL_LOG_INFO);
    wl_log_set_stream(log_file);
    is_int(wl_enroll_load_password(path, &pw), 0,
           "password: generated when the file is missing");
    wl_log_set_stream(stderr);
    wl_log_init("test-enroll", WL_LOG_ERROR);
    if (log_file) {
        size_t n;

        rewind(log_file);
        n = fread(log_buf, 1, sizeof(log_buf) - 1, log_file);
        log_buf[n] = '\0';
        log_text = log_buf;
        fclose(log_file);
    }
    ok(pw && strlen(pw) == 32 && strspn(pw, "0123456789abcdef") == 32,
       "password: generated one is 32 hex digits");
    {
        struct stat st;
        char saved[64] = "";
        FILE *fp = fopen(path, "r");

        ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
           "password: generated file has mode 0600");
        if (fp) {
            if (!fgets(saved, sizeof(saved), fp))
                saved[0] = '\0';
            fclose(fp);
        }
        saved[strcspn(saved, "\n")] = '\0';
        is_str(saved, pw ? pw : "", "password: generated one saved");
        ok(log_text && (!pw || strstr(log_text, pw) == NULL),
           "password: generated one not logged");
        ok(log_text && strstr(log_text, path) != NULL,
           "password: file name logged");
    }
    {
        char *again = NULL;

        wl_enroll_load_password(path, &again);
        is_str(again, pw ? pw : "", "password: saved one reused");
        wl_enroll_password_free(again);
    }
    wl_enroll_password_free(pw);
}

static void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char child[700];

    if (!d) {
        unlink(path);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
        remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}

int main(void)
{
    char group[400];

    wl_log_init("test-enroll", WL_LOG_ERROR);
    if (!mkdtemp(dir)) {
        printf("Bail out! cannot create a temporary folder\n");
        return 1;
    }
    snprintf(keys_path, sizeof(keys_path), "%s/client.keys", dir);
    snprintf(shared_dir, sizeof(shared_dir), "%s/shared", dir);
    mkdir(shared_dir, 0755);
    snprintf(group, sizeof(group), "%s/default", shared_dir);
    mkdir(group, 0755);
    snprintf(group, sizeof(group), "%s/windows", shared_dir);
    mkdir(group, 0755);

    wl_enroll_config_default(&cfg);
    cfg.manager_name = "manager-host";
    cfg.shared_dir = shared_dir;
    wl_keys_load(&ks, keys_path);

    check_vectors();
    check_errors();
    check_accepted_forms();
    check_replacement();
    check_password_file();

    wl_keys_free(&ks);
    remove_tree(dir);
    return tap_done();
}
