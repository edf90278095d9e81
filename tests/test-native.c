/*
 * Native agent protocol without sockets: the vector frames of a real
 * agent's session go through wl_native_handle(), which must ack startup
 * and keepalives, forward events as remoted does, and reject bad input.
 */
#include <config.h>

#include "daemon/control.h"
#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/native.h"
#include "daemon/secure.h"
#include "tests/tap.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <unistd.h>

static char dir[] = "/tmp/wazlab-test-native-XXXXXX";
static char keys_path[300];
static char counter_path[300];
static cJSON *vectors;

/* Last agent event seen by the callback. */
static struct {
    int count;
    enum wl_native_agent_event_kind kind;
    char id[16];
    char version[64];
    char os_name[128];
    char peer_ip[64];
} seen;

static void on_agent(void *ctx, const struct wl_native_agent_event *ev)
{
    (void)ctx;
    seen.count++;
    seen.kind = ev->kind;
    snprintf(seen.id, sizeof(seen.id), "%s", ev->id);
    snprintf(seen.version, sizeof(seen.version), "%s", ev->version);
    snprintf(seen.peer_ip, sizeof(seen.peer_ip), "%s", ev->peer_ip);
    seen.os_name[0] = '\0';
    if (ev->keepalive)
        snprintf(seen.os_name, sizeof(seen.os_name), "%s",
                 ev->keepalive->os_name);
}

static const char *str_item(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static const cJSON *frame_named(const char *name)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(vectors, "frames"))
    {
        if (strcmp(str_item(f, "name"), name) == 0)
            return f;
    }
    return NULL;
}

static unsigned char *from_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    unsigned char *buf = malloc(n + 1);

    for (size_t i = 0; i < n; i++) {
        unsigned int byte;

        sscanf(hex + 2 * i, "%2x", &byte);
        buf[i] = (unsigned char)byte;
    }
    *len = n;
    return buf;
}

/* Runs one vector frame from a peer. */
static int feed(struct wl_native *n, struct wl_native_peer *peer,
                const char *name, struct wl_native_result *res)
{
    const cJSON *f = frame_named(name);
    unsigned char *payload;
    size_t len;
    int r;

    if (!f) {
        tap_diag("vector %s missing", name);
        memset(res, 0, sizeof(*res));
        return WL_ENOENT;
    }
    payload = from_hex(str_item(f, "payload_hex"), &len);
    r = wl_native_handle(n, peer, payload, len, res);
    free(payload);
    return r;
}

/* Decrypts a reply payload with an agent's key into text. */
static const char *open_reply(const struct wl_native_result *res,
                              const char *enc_key, char *header_first)
{
    static char text[WL_SECURE_INFLATE_MAX + 1];
    struct wl_secure_header h;
    struct wl_secure_plain plain;

    if (!res->reply)
        return "(no reply)";
    *header_first = (char)res->reply[0];
    if (wl_secure_parse_header(res->reply, res->reply_len, &h) < 0)
        return "(bad header)";
    if (wl_secure_decrypt(h.method, enc_key, res->reply + h.cipher_offset,
                          res->reply_len - h.cipher_offset, text, sizeof(text),
                          &plain) < 0)
        return "(undecryptable)";
    return plain.message;
}

static void write_keys(const char *extra)
{
    FILE *fp = fopen(keys_path, "w");
    const cJSON *k;

    cJSON_ArrayForEach(k,
                       cJSON_GetObjectItemCaseSensitive(vectors, "client_keys"))
        fprintf(fp, "%s\n", str_item(k, "line"));
    if (extra)
        fputs(extra, fp);
    fclose(fp);
}

static void derive(const char *line, struct wl_key_entry *e)
{
    memset(e, 0, sizeof(*e));
    sscanf(line, "%15s %128s %63s %127s", e->id, e->name, e->ip, e->key);
    wl_keys_derive(e->id, e->name, e->key, e->enc_key);
}

static void check_session(struct wl_native *n)
{
    struct wl_native_peer peer = {.connection_id = 1, .ip = "127.0.0.1"};
    struct wl_native_result res;
    struct wl_key_entry a;
    char first = 0;
    int r;

    derive(str_item(frame_named("real-aes-startup"), "client_keys_line"), &a);

    r = feed(n, &peer, "real-aes-startup", &res);
    is_int(r, 0, "startup: accepted");
    is_int(res.kind, WL_CONTROL_STARTUP, "startup: classified");
    is_str(open_reply(&res, a.enc_key, &first), WL_CONTROL_ACK,
           "startup: ack decrypts with the agent key");
    is_int(first, '#', "startup: ack has no agent id prefix");
    ok(res.message == NULL, "startup: nothing for analysis");
    is_int(seen.kind, WL_NATIVE_AGENT_STARTUP, "startup: agent event");
    is_str(seen.version, "v4.14.7", "startup: agent version reported");
    is_str(peer.agent_id, "001", "startup: connection bound to 001");
    wl_native_result_clear(&res);

    r = feed(n, &peer, "real-aes-agent-started", &res);
    is_int(r, 0, "agent started: accepted");
    ok(res.message != NULL, "agent started: forwarded");
    is_str(res.message ? res.message->data : NULL,
           str_item(frame_named("real-aes-agent-started"), "analysisd_message"),
           "agent started: analysis line");
    is_str(res.message ? res.message->agent_id : NULL, "001",
           "agent started: message agent id");
    is_str(res.message ? res.message->agent_name : NULL, "win-agent-01",
           "agent started: message agent name");
    ok(res.reply == NULL, "agent started: no reply");
    wl_native_result_clear(&res);

    r = feed(n, &peer, "real-aes-keepalive-windows", &res);
    is_int(r, 0, "keepalive: accepted");
    is_str(open_reply(&res, a.enc_key, &first), WL_CONTROL_ACK,
           "keepalive: acked");
    is_int(seen.kind, WL_NATIVE_AGENT_KEEPALIVE, "keepalive: agent event");
    is_str(seen.os_name, "Microsoft Windows 10 Pro", "keepalive: OS name");
    wl_native_result_clear(&res);

    r = feed(n, &peer, "real-aes-eventchannel", &res);
    is_int(r, 0, "event channel: accepted");
    is_str(res.message ? res.message->data : NULL,
           str_item(frame_named("real-aes-eventchannel"), "analysisd_message"),
           "event channel: analysis line");
    wl_native_result_clear(&res);

    r = feed(n, &peer, "real-aes-shutdown", &res);
    is_int(r, 0, "shutdown: accepted");
    ok(res.reply == NULL, "shutdown: no reply");
    is_str(res.message ? res.message->data : NULL,
           "1:[001] (win-agent-01) any->wazuh-remoted:ossec: Agent stopped: "
           "'win-agent-01->any'.",
           "shutdown: stopped event for analysis");
    is_int(seen.kind, WL_NATIVE_AGENT_SHUTDOWN, "shutdown: agent event");
    wl_native_result_clear(&res);

    r = feed(n, &peer, "real-aes-4digit-id-escaped-location", &res);
    is_int(r, WL_SECURE_EIDMISMATCH, "bound connection: other agent id");
    is_int(res.close, 1, "bound connection: closed");
    wl_native_result_clear(&res);
    wl_native_peer_closed(n, &peer);
}

static void check_single_host(struct wl_native *n)
{
    struct wl_native_peer good = {.connection_id = 7, .ip = "10.0.0.5"};
    struct wl_native_peer bad = {.connection_id = 8, .ip = "10.0.0.6"};
    struct wl_native_peer udp = {.connection_id = 0, .ip = "10.0.0.5"};
    struct wl_native_result res;
    struct wl_key_entry b;
    unsigned char payload[512];
    size_t len = 0;
    char first = 0;
    int r;

    r = feed(n, &good, "real-aes-single-host", &res);
    is_int(r, 0, "single host: AES accepted from its address");
    is_str(res.message ? res.message->data : NULL,
           str_item(frame_named("real-aes-single-host"), "analysisd_message"),
           "single host: AES analysis line");
    wl_native_result_clear(&res);

    r = feed(n, &udp, "real-blowfish-single-host", &res);
    is_int(r, 0, "single host: Blowfish over UDP accepted");
    is_str(
        res.message ? res.message->data : NULL,
        str_item(frame_named("real-blowfish-single-host"), "analysisd_message"),
        "single host: Blowfish analysis line");
    is_str(udp.agent_id, "", "UDP peer: not bound");
    wl_native_result_clear(&res);

    r = feed(n, &bad, "real-aes-single-host", &res);
    is_int(r, WL_SECURE_EUNKNOWN, "single host: other address rejected");
    is_int(res.close, 1, "single host: connection closed");
    wl_native_result_clear(&res);

    derive(
        str_item(frame_named("real-blowfish-single-host"), "client_keys_line"),
        &b);
    wl_secure_encode(WL_SECURE_BLOWFISH, b.enc_key, NULL, 3, 9, 1,
                     "#!-agent startup ", 17, payload, sizeof(payload), &len);
    r = wl_native_handle(n, &udp, payload, len, &res);
    is_int(r, 0, "Blowfish startup: accepted");
    is_str(open_reply(&res, b.enc_key, &first), WL_CONTROL_ACK,
           "Blowfish startup: ack decrypts with Blowfish");
    is_int(first, ':', "Blowfish startup: reply uses the ':' header");
    wl_native_result_clear(&res);
}

static void check_rejections(struct wl_native *n)
{
    struct wl_native_peer p1 = {.connection_id = 11, .ip = "127.0.0.1"};
    struct wl_native_peer p2 = {.connection_id = 12, .ip = "127.0.0.1"};
    struct wl_native_result res;
    struct wl_key_entry a;
    unsigned char payload[512];
    size_t len = 0;
    char first;
    int r;

    r = wl_native_handle(n, &p1, "#ping", 5, &res);
    ok(r == 0 && res.reply_len == 5 && memcmp(res.reply, "#pong", 5) == 0,
       "ping: answered with #pong");
    wl_native_result_clear(&res);

    r = wl_native_handle(n, &p1, "GET / HTTP/1.1\r\n", 16, &res);
    is_int(r, WL_SECURE_EHEADER, "garbage: rejected");
    is_int(res.close, 1, "garbage: connection closed");
    wl_native_result_clear(&res);

    r = feed(n, &p1, "real-aes-startup", &res);
    is_int(r, 0, "key in use: first connection starts");
    wl_native_result_clear(&res);
    r = feed(n, &p2, "real-aes-startup", &res);
    is_int(r, WL_SECURE_EINUSE, "key in use: second connection rejected");
    wl_native_result_clear(&res);
    r = feed(n, &p2, "real-aes-agent-started", &res);
    is_int(r, WL_SECURE_EINUSE, "key in use: event on second rejected");
    is_int(res.close, 1, "key in use: second connection closed");
    wl_native_result_clear(&res);
    r = feed(n, &p1, "real-aes-agent-started", &res);
    is_int(r, 0, "key in use: event on first accepted");
    wl_native_result_clear(&res);
    wl_native_peer_closed(n, &p1);
    memset(p2.agent_id, 0, sizeof(p2.agent_id));
    r = feed(n, &p2, "real-aes-startup", &res);
    is_int(r, 0, "key in use: accepted after the first closed");
    wl_native_result_clear(&res);
    wl_native_peer_closed(n, &p2);

    derive(str_item(frame_named("real-aes-startup"), "client_keys_line"), &a);
    wl_secure_encode(WL_SECURE_AES, a.enc_key, "001", 1, 0, 9,
                     "#!-agent startup {\"version\":\"v4.15.0\"}", 38, payload,
                     sizeof(payload), &len);
    seen.count = 0;
    r = wl_native_handle(n, &p1, payload, len, &res);
    is_int(r, 0, "newer agent: payload valid");
    is_str(open_reply(&res, a.enc_key, &first),
           "#!-err {\"message\":\"Agent version must be lower or equal to "
           "manager version\"}",
           "newer agent: version error reply");
    is_int(seen.count, 0, "newer agent: no startup event");
    wl_native_result_clear(&res);

    wl_secure_encode(WL_SECURE_AES, a.enc_key, "001", 1, 0, 10,
                     "#!-Linux |h - Wazuh v4.14.7", 27, payload,
                     sizeof(payload), &len);
    r = wl_native_handle(n, &p1, payload, len, &res);
    is_int(r, 0, "keepalive without newline: payload valid");
    ok(res.reply == NULL, "keepalive without newline: no ack");
    wl_native_result_clear(&res);

    wl_secure_encode(WL_SECURE_AES, a.enc_key, "001", 1, 0, 11, "1:keepalive:x",
                     13, payload, sizeof(payload), &len);
    r = wl_native_handle(n, &p1, payload, len, &res);
    ok(r == 0 && res.message == NULL, "keepalive location: dropped");
    wl_native_result_clear(&res);

    wl_secure_encode(WL_SECURE_AES, a.enc_key, "001", 1, 0, 12, "1xloc:x", 7,
                     payload, sizeof(payload), &len);
    r = wl_native_handle(n, &p1, payload, len, &res);
    is_int(r, WL_SECURE_EFORMAT, "event without ':': rejected");
    is_int(res.close, 0, "event without ':': connection kept");
    wl_native_result_clear(&res);
    wl_native_peer_closed(n, &p1);
}

static void check_replay(void)
{
    struct wl_native_options opt = {
        .keys_path = keys_path,
        .verify_counters = 1,
    };
    struct wl_native_peer peer = {.connection_id = 21, .ip = "127.0.0.1"};
    struct wl_native_result res;
    struct wl_native *n;
    int r;

    is_int(wl_native_new(&opt, &n), 0, "replay check: created");
    r = feed(n, &peer, "sim-aes-eventchannel", &res);
    is_int(r, 0, "replay check: first copy accepted");
    wl_native_result_clear(&res);
    r = feed(n, &peer, "sim-aes-eventchannel", &res);
    is_int(r, WL_SECURE_EREPLAY, "replay check: second copy rejected");
    is_int(res.close, 1, "replay check: connection closed");
    wl_native_result_clear(&res);
    wl_native_free(n);

    opt.verify_counters = 0;
    wl_native_new(&opt, &n);
    feed(n, &peer, "sim-aes-eventchannel", &res);
    wl_native_result_clear(&res);
    r = feed(n, &peer, "sim-aes-eventchannel", &res);
    is_int(r, 0, "replay check off: repeated counters accepted");
    wl_native_result_clear(&res);
    wl_native_free(n);
}

static void check_reload_and_counter(struct wl_native *n)
{
    struct wl_native_peer peer = {.connection_id = 31, .ip = "127.0.0.1"};
    struct wl_native_result res;
    struct wl_key_entry c;
    unsigned char payload[512];
    size_t len = 0;
    unsigned char *out = NULL;
    size_t out_len = 0;
    char other[400];
    int r;

    derive("003 late-agent any 0123456789abcdef0123456789abcdef", &c);
    wl_secure_encode(WL_SECURE_AES, c.enc_key, "003", 1, 0, 1,
                     "1:loc:after reload", 18, payload, sizeof(payload), &len);
    r = wl_native_handle(n, &peer, payload, len, &res);
    is_int(r, WL_SECURE_EUNKNOWN, "reload: unknown agent before");
    wl_native_result_clear(&res);

    snprintf(other, sizeof(other), "%s.new", keys_path);
    write_keys("003 late-agent any 0123456789abcdef0123456789abcdef\n");
    is_int(wl_native_reload_keys(n), 1, "reload: keys file changed");
    is_int(wl_native_reload_keys(n), 0, "reload: then unchanged");
    memset(peer.agent_id, 0, sizeof(peer.agent_id));
    r = wl_native_handle(n, &peer, payload, len, &res);
    is_int(r, 0, "reload: new agent accepted without restart");
    is_str(res.message ? res.message->data : NULL,
           "1:[003] (late-agent) any->loc:after reload",
           "reload: new agent's line");
    wl_native_result_clear(&res);

    is_int(wl_native_encode_for(n, "003", "#!-force_reconnect", &out, &out_len),
           0, "encode for agent: built");
    {
        struct wl_secure_header h;
        struct wl_secure_plain plain;
        static char text[WL_SECURE_INFLATE_MAX + 1];

        wl_secure_parse_header(out, out_len, &h);
        r = wl_secure_decrypt(h.method, c.enc_key, out + h.cipher_offset,
                              out_len - h.cipher_offset, text, sizeof(text),
                              &plain);
        is_str(r == 0 ? plain.message : NULL, "#!-force_reconnect",
               "encode for agent: decrypts");
        ok(r == 0 && plain.local > 1, "encode for agent: counter advanced");
    }
    free(out);
    is_int(wl_native_encode_for(n, "999", "x", &out, &out_len), WL_ENOENT,
           "encode for agent: unknown agent");
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[600];

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int main(void)
{
    const char *shared = getenv("WL_SHARED_DIR");
    struct wl_native_options opt = {0};
    struct wl_native *n = NULL;
    char path[4096];
    char *text;
    FILE *fp;
    long size;

    wl_log_init("test-native", WL_LOG_ERROR);
    if (!shared)
        tap_skip_all("WL_SHARED_DIR not set: no protocol vectors");
    snprintf(path, sizeof(path), "%s/vectors/agent-protocol.json", shared);
    fp = fopen(path, "rb");
    if (!fp)
        tap_skip_all("agent protocol vectors not found");
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    text = calloc(1, (size_t)size + 1);
    if (fread(text, 1, (size_t)size, fp) != (size_t)size)
        tap_skip_all("agent protocol vectors unreadable");
    fclose(fp);
    vectors = cJSON_Parse(text);
    free(text);

    if (!mkdtemp(dir)) {
        printf("Bail out! cannot create a temporary folder\n");
        return 1;
    }
    snprintf(keys_path, sizeof(keys_path), "%s/client.keys", dir);
    snprintf(counter_path, sizeof(counter_path), "%s/sender_counter", dir);
    write_keys(NULL);

    opt.keys_path = keys_path;
    opt.counter_path = counter_path;
    opt.on_agent = on_agent;
    is_int(wl_native_new(&opt, &n), 0, "native: created");
    check_session(n);
    check_single_host(n);
    check_rejections(n);
    check_reload_and_counter(n);
    wl_native_free(n);
    {
        unsigned global = 9, local = 0;

        fp = fopen(counter_path, "r");
        ok(fp && fscanf(fp, "%u:%u:", &global, &local) == 2 && global == 0 &&
               local > 3,
           "sender counter: saved at exit");
        if (fp)
            fclose(fp);
    }
    check_replay();

    cJSON_Delete(vectors);
    remove_dir();
    wl_secure_cleanup();
    return tap_done();
}
