/*
 * Secure message codec and control messages: every frame of the Wazuh
 * agent protocol vectors decodes to its message, the manager replies are
 * rebuilt byte for byte, and each kind of bad frame is rejected with its
 * own error code.
 */
#include "config.h"

#include "daemon/control.h"
#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/secure.h"
#include "tests/tap.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <zlib.h>

#define BUF_SIZE (WL_SECURE_INFLATE_MAX + 1)

static char out[BUF_SIZE];

/* Decodes lowercase hex into a malloc'd buffer. */
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

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    long size;
    char *text;

    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    text = malloc((size_t)size + 1);
    if (fread(text, 1, (size_t)size, fp) != (size_t)size) {
        free(text);
        fclose(fp);
        return NULL;
    }
    text[size] = '\0';
    fclose(fp);
    return text;
}

static const char *str_item(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static unsigned num_item(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsNumber(item) ? (unsigned)item->valuedouble : 0;
}

/* Builds a keystore entry from a client.keys line. */
static void entry_from_line(const char *line, struct wl_key_entry *e)
{
    memset(e, 0, sizeof(*e));
    sscanf(line, "%15s %128s %63s %127s", e->id, e->name, e->ip, e->key);
    wl_keys_derive(e->id, e->name, e->key, e->enc_key);
}

static void check_key_vectors(const cJSON *keys)
{
    const cJSON *k;

    cJSON_ArrayForEach(k, keys)
    {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(k, "derivation");
        struct wl_key_entry e;
        char hash[WL_KEYS_SHA1_HEX + 1];
        char aes[WL_KEYS_AES_LEN + 1];

        entry_from_line(str_item(k, "line"), &e);
        is_str(e.enc_key, str_item(d, "encryption_key"),
               "derive: encryption key of %s", e.id);
        memcpy(aes, e.enc_key, WL_KEYS_AES_LEN);
        aes[WL_KEYS_AES_LEN] = '\0';
        is_str(aes, str_item(d, "aes_key_ascii"), "derive: AES key of %s",
               e.id);
        is_str(e.enc_key, str_item(d, "blowfish_key_ascii"),
               "derive: Blowfish key of %s", e.id);
        wl_keys_hash(&e, hash);
        is_str(hash, str_item(k, "key_hash_sha1_for_enrollment_K"),
               "derive: enrollment K hash of %s", e.id);
    }
}

/* Decodes one agent frame and compares everything it carries. */
static void check_agent_frame(const cJSON *f, const struct wl_key_entry *e,
                              const unsigned char *payload, size_t len)
{
    const char *name = str_item(f, "name");
    const char *analysis = str_item(f, "analysisd_message");
    struct wl_secure_header h;
    struct wl_secure_plain plain;
    int r;

    r = wl_secure_parse_header(payload, len, &h);
    is_int(r, 0, "%s: header parses", name);
    r = wl_secure_decrypt(h.method, e->enc_key, payload + h.cipher_offset,
                          len - h.cipher_offset, out, sizeof(out), &plain);
    is_int(r, 0, "%s: decrypts", name);
    if (r < 0) {
        tap_diag("%s", wl_secure_strerror(r));
        return;
    }
    is_str(plain.message, str_item(f, "message"), "%s: message", name);
    is_int(plain.len, strlen(str_item(f, "message")), "%s: length", name);
    is_int(plain.random, num_item(f, "random"), "%s: random", name);
    is_int(plain.global, num_item(f, "global_counter"), "%s: global", name);
    is_int(plain.local, num_item(f, "local_counter"), "%s: local", name);

    if (analysis) {
        char line[BUF_SIZE];
        size_t line_len = 0;

        r = wl_secure_forward_line(e, plain.message, plain.len, line,
                                   sizeof(line), &line_len);
        is_int(r, 0, "%s: forward line built", name);
        is_str(line, analysis, "%s: analysisd message", name);
        is_int(wl_control_classify(plain.message, plain.len), WL_CONTROL_EVENT,
               "%s: classified as event", name);
    } else {
        ok(wl_control_classify(plain.message, plain.len) != WL_CONTROL_EVENT,
           "%s: classified as control", name);
    }
}

static void check_frames(const cJSON *frames)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, frames)
    {
        const char *name = str_item(f, "name");
        const char *header = str_item(f, "header_ascii");
        struct wl_key_entry e;
        unsigned char *payload, *frame;
        size_t len, frame_len, payload_len = 0;
        struct wl_secure_header h;
        int agent = strcmp(str_item(f, "direction"), "agent->manager") == 0;
        int aes = strcmp(str_item(f, "method"), "aes") == 0;

        entry_from_line(str_item(f, "client_keys_line"), &e);
        payload = from_hex(str_item(f, "payload_hex"), &len);
        frame = from_hex(str_item(f, "tcp_frame_hex"), &frame_len);

        is_int(wl_secure_frame_parse(frame, frame_len, &payload_len), 0,
               "%s: TCP frame complete", name);
        is_int(payload_len, len, "%s: TCP frame length", name);
        ok(memcmp(frame + 4, payload, len) == 0, "%s: TCP frame payload", name);

        wl_secure_parse_header(payload, len, &h);
        is_int(h.method, aes ? WL_SECURE_AES : WL_SECURE_BLOWFISH, "%s: method",
               name);
        is_int(h.cipher_offset, strlen(header), "%s: header length", name);
        if (header[0] == '!')
            ok(strncmp(header + 1, h.agent_id, strlen(h.agent_id)) == 0 &&
                   h.agent_id[0] != '\0',
               "%s: agent id %s", name, h.agent_id);
        else
            is_str(h.agent_id, "", "%s: no agent id", name);

        check_agent_frame(f, &e, payload, len);

        if (!agent || num_item(f, "zlib_level") == 9) {
            /* Replies and real-agent frames are made at level 9, as ours. */
            static unsigned char built[WL_SECURE_PAYLOAD_MAX];
            const char *msg = str_item(f, "message");
            size_t built_len = 0;
            int r = wl_secure_encode(
                h.method, e.enc_key, h.agent_id[0] ? h.agent_id : NULL,
                num_item(f, "random"), num_item(f, "global_counter"),
                num_item(f, "local_counter"), msg, strlen(msg), built,
                sizeof(built), &built_len);

            is_int(r, 0, "%s: encodes", name);
            ok(built_len == len && memcmp(built, payload, len) == 0,
               "%s: encoded byte for byte", name);
        }
        free(payload);
        free(frame);
    }
}

/* Encrypts raw padded bytes into a payload "!001!#AES:" + ciphertext. */
static size_t raw_payload(const struct wl_key_entry *e,
                          const unsigned char *plain, size_t len,
                          unsigned char *payload)
{
    size_t n = 0;

    memcpy(payload, "!001!#AES:", 10);
    wl_secure_cipher(WL_SECURE_AES, e->enc_key, 1, plain, len, payload + 10,
                     &n);
    return 10 + n;
}

/* Compresses text and pads it with '!' to a multiple of 8. */
static size_t pad_compress(const char *text, size_t len, unsigned char *buf,
                           int trailing)
{
    uLongf n = compressBound((uLong)len);
    static unsigned char tmp[80000];
    size_t bangs;

    compress2(tmp, &n, (const Bytef *)text, (uLong)len, 6);
    if (trailing) {
        memcpy(tmp + n, "TRAILING", 8);
        n += 8;
    }
    bangs = 8 - n % 8;
    memset(buf, '!', bangs);
    memcpy(buf + bangs, tmp, n);
    return bangs + n;
}

/* Builds md5hex(inner) + inner for a message with fixed counters. */
static size_t inner_text(const char *message, char *buf, int break_md5)
{
    unsigned char digest[16];
    unsigned int dl;
    size_t len;

    len = (size_t)sprintf(buf + 32, "55555%010u:%04u:%s", 7u, 3u, message);
    EVP_Digest(buf + 32, len, digest, &dl, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        sprintf(buf + 2 * i, "%02x", digest[i]);
    buf[32] = '5';
    if (break_md5)
        buf[0] = buf[0] == 'a' ? 'b' : 'a';
    return 32 + len;
}

static void check_rejections(const struct wl_key_entry *a,
                             const struct wl_key_entry *b)
{
    static unsigned char payload[WL_SECURE_PAYLOAD_MAX + 64];
    static unsigned char raw[80000];
    static char text[80000];
    struct wl_secure_plain plain;
    struct wl_secure_header h;
    struct wl_secure_counter counter = {0, 0};
    size_t len = 0, n;
    int r;

    r = wl_secure_encode(WL_SECURE_AES, a->enc_key, "001", 1, 0, 1,
                         "1:loc:hello", 11, payload, sizeof(payload), &len);
    is_int(r, 0, "reject: reference frame encodes");
    wl_secure_parse_header(payload, len, &h);

    r = wl_secure_decrypt(h.method, b->enc_key, payload + h.cipher_offset,
                          len - h.cipher_offset, out, sizeof(out), &plain);
    is_int(r, WL_SECURE_EKEY, "reject: AES wrong key");

    {
        size_t bl = 0;
        struct wl_secure_header bh;

        wl_secure_encode(WL_SECURE_BLOWFISH, a->enc_key, NULL, 1, 0, 1,
                         "1:loc:hello", 11, raw, sizeof(raw), &bl);
        wl_secure_parse_header(raw, bl, &bh);
        r = wl_secure_decrypt(bh.method, b->enc_key, raw + bh.cipher_offset,
                              bl - bh.cipher_offset, out, sizeof(out), &plain);
        is_int(r, WL_SECURE_EKEY, "reject: Blowfish wrong key");
    }

    /* A frame naming agent 002 on a connection bound to agent 001. */
    {
        struct wl_keystore ks = {0};
        const struct wl_key_entry *found = NULL;
        size_t fl = 0;
        struct wl_secure_header fh;

        wl_keys_load(&ks, "/nonexistent/wazlab/client.keys");
        wl_keys_add_entry(&ks, a->id, a->name, a->ip, a->key, 0);
        wl_keys_add_entry(&ks, "002", "other-agent", "10.0.0.5", b->key, 0);
        wl_secure_encode(WL_SECURE_AES, a->enc_key, "002", 1, 0, 1, "1:loc:hi",
                         8, raw, sizeof(raw), &fl);
        wl_secure_parse_header(raw, fl, &fh);
        r = wl_secure_identify(&ks, &fh, "10.0.0.5", "001", &found);
        is_int(r, WL_SECURE_EIDMISMATCH,
               "reject: other agent's id on "
               "a bound connection");
        r = wl_secure_identify(&ks, &fh, "10.0.0.5", NULL, &found);
        is_int(r, 0, "identify: id 002 from its address");
        r = wl_secure_decrypt(fh.method, found->enc_key, raw + fh.cipher_offset,
                              fl - fh.cipher_offset, out, sizeof(out), &plain);
        is_int(r, WL_SECURE_EKEY, "reject: other agent's id, wrong key");
        r = wl_secure_identify(&ks, &fh, "10.0.0.6", NULL, &found);
        is_int(r, WL_SECURE_EADDR, "reject: id from a foreign address");
        strcpy(fh.agent_id, "777");
        r = wl_secure_identify(&ks, &fh, "10.0.0.5", NULL, &found);
        is_int(r, WL_SECURE_EUNKNOWN, "reject: unknown agent id");
        fh.agent_id[0] = '\0';
        r = wl_secure_identify(&ks, &fh, "10.0.0.5", NULL, &found);
        ok(r == 0 && strcmp(found->id, "002") == 0,
           "identify: no id, found by address");
        r = wl_secure_identify(&ks, &fh, "10.9.9.9", NULL, &found);
        is_int(r, WL_SECURE_EUNKNOWN, "reject: no id, unknown address");
        wl_keys_free(&ks);
    }

    r = wl_secure_decrypt(h.method, a->enc_key, payload + h.cipher_offset,
                          len - h.cipher_offset, out, sizeof(out), &plain);
    is_int(r, 0, "replay: first copy decrypts");
    is_int(wl_secure_check_counter(&counter, &plain), 0,
           "replay: first copy accepted");
    is_int(wl_secure_check_counter(&counter, &plain), WL_SECURE_EREPLAY,
           "reject: replayed frame with counter check");
    plain.local = 2;
    is_int(wl_secure_check_counter(&counter, &plain), 0,
           "replay: next local counter accepted");
    plain.global = 1;
    plain.local = 1;
    is_int(wl_secure_check_counter(&counter, &plain), 0,
           "replay: next global counter accepted");
    plain.global = 0;
    plain.local = 9;
    is_int(wl_secure_check_counter(&counter, &plain), WL_SECURE_EREPLAY,
           "reject: older global counter");

    {
        unsigned char hdr[8] = {0x01, 0x00, 0x01, 0x00, 'x', 'x', 'x', 'x'};
        size_t pl;

        is_int(wl_secure_frame_parse(hdr, sizeof(hdr), &pl), WL_SECURE_ETOOBIG,
               "reject: frame length 65537");
        hdr[0] = 0x00;
        is_int(wl_secure_frame_parse(hdr, sizeof(hdr), &pl), WL_EAGAIN,
               "frame: 65536 bytes announced, more needed");
        is_int(wl_secure_frame_parse(hdr, 3, &pl), WL_EAGAIN,
               "frame: partial length prefix");
        wl_secure_frame_header(65536, hdr);
        ok(hdr[0] == 0 && hdr[1] == 0 && hdr[2] == 1 && hdr[3] == 0,
           "frame: length written little-endian");
    }
    r = wl_secure_decrypt(h.method, a->enc_key, payload, 65537, out,
                          sizeof(out), &plain);
    is_int(r, WL_SECURE_ETOOBIG, "reject: oversized ciphertext");
    memset(text, 'a', WL_SECURE_MESSAGE_MAX + 1);
    r = wl_secure_encode(WL_SECURE_AES, a->enc_key, NULL, 1, 0, 1, text,
                         WL_SECURE_MESSAGE_MAX + 1, raw, sizeof(raw), &n);
    is_int(r, WL_SECURE_ETOOBIG, "reject: message over 65408 bytes");
    r = wl_secure_encode(WL_SECURE_AES, a->enc_key, NULL, 1, 0, 1, text,
                         WL_SECURE_MESSAGE_MAX, raw, sizeof(raw), &n);
    is_int(r, 0, "encode: message of 65408 bytes");

    r = wl_secure_decrypt(h.method, a->enc_key, payload + h.cipher_offset,
                          len - h.cipher_offset - 1, out, sizeof(out), &plain);
    is_int(r, WL_SECURE_ETRUNCATED, "reject: truncated AES frame");
    r = wl_secure_decrypt(WL_SECURE_BLOWFISH, a->enc_key,
                          payload + h.cipher_offset, 12, out, sizeof(out),
                          &plain);
    is_int(r, WL_SECURE_ETRUNCATED, "reject: truncated Blowfish frame");
    r = wl_secure_decrypt(h.method, a->enc_key, payload, 0, out, sizeof(out),
                          &plain);
    is_int(r, WL_SECURE_ETRUNCATED, "reject: empty ciphertext");

    memcpy(raw, "!!!!\x78\x9c\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", 16);
    n = raw_payload(a, raw, 16, payload);
    r = wl_secure_decrypt(WL_SECURE_AES, a->enc_key, payload + 10, n - 10, out,
                          sizeof(out), &plain);
    is_int(r, WL_SECURE_EZLIB, "reject: bad zlib stream");

    n = inner_text("1:loc:hello", text, 1);
    n = pad_compress(text, n, raw, 0);
    n = raw_payload(a, raw, n, payload);
    r = wl_secure_decrypt(WL_SECURE_AES, a->enc_key, payload + 10, n - 10, out,
                          sizeof(out), &plain);
    is_int(r, WL_SECURE_ECHECKSUM, "reject: bad MD5");

    n = inner_text("1:loc:hello", text, 0);
    n = pad_compress(text, n, raw, 1);
    n = raw_payload(a, raw, n, payload);
    r = wl_secure_decrypt(WL_SECURE_AES, a->enc_key, payload + 10, n - 10, out,
                          sizeof(out), &plain);
    is_int(r, 0, "decode: bytes after the zlib stream ignored");
    is_str(r == 0 ? plain.message : "", "1:loc:hello",
           "decode: message before trailing bytes");

    n = inner_text("", text, 0);
    memcpy(text + 32, "5555x0000000007:0003:", 21);
    {
        unsigned char digest[16];
        unsigned int dl;

        EVP_Digest(text + 32, 21, digest, &dl, EVP_md5(), NULL);
        for (int i = 0; i < 16; i++)
            sprintf(text + 2 * i, "%02x", digest[i]);
        text[32] = '5';
    }
    n = pad_compress(text, 53, raw, 0);
    n = raw_payload(a, raw, n, payload);
    r = wl_secure_decrypt(WL_SECURE_AES, a->enc_key, payload + 10, n - 10, out,
                          sizeof(out), &plain);
    is_int(r, WL_SECURE_EFORMAT, "reject: random field not digits");

    memset(text, 'b', 70000);
    n = pad_compress(text, 70000, raw, 0);
    n = raw_payload(a, raw, n, payload);
    r = wl_secure_decrypt(WL_SECURE_AES, a->enc_key, payload + 10, n - 10, out,
                          sizeof(out), &plain);
    is_int(r, WL_SECURE_ETOOBIG, "reject: inflates past 65536 bytes");

    memcpy(raw, "\x21\x21\x21\x21\x21\x21\x21\x21", 8);
    n = raw_payload(a, raw, 8, payload);
    r = wl_secure_decrypt(WL_SECURE_AES, a->enc_key, payload + 10, n - 10, out,
                          sizeof(out), &plain);
    is_int(r, WL_SECURE_EZLIB, "reject: padding only");

    is_int(wl_secure_parse_header("!001#AES:xx", 11, &h), WL_SECURE_EHEADER,
           "reject: id without closing '!'");
    is_int(wl_secure_parse_header("!!#AES:xx", 9, &h), WL_SECURE_EHEADER,
           "reject: empty id");
    is_int(wl_secure_parse_header("#AESxx", 6, &h), WL_SECURE_EHEADER,
           "reject: unknown header");
    is_int(wl_secure_parse_header("", 0, &h), WL_SECURE_EHEADER,
           "reject: empty payload");
    is_int(wl_secure_parse_header("!1234567890123456!:x", 20, &h),
           WL_SECURE_EHEADER, "reject: id over 15 digits");
    ok(wl_secure_is_ping("#ping", 5), "ping: recognised");
    ok(!wl_secure_is_ping("#pin", 4), "ping: short text is not a ping");
}

static void check_forward(const struct wl_key_entry *a)
{
    struct wl_key_entry v6 = *a;
    char line[256];
    size_t n = 0;

    is_int(wl_secure_forward_line(a, "1loc:x", 6, line, sizeof(line), &n),
           WL_SECURE_EFORMAT, "forward: second byte not ':'");
    is_int(
        wl_secure_forward_line(a, "1:keepalive:x", 13, line, sizeof(line), &n),
        WL_SECURE_EDROP, "forward: keepalive location dropped");
    strcpy(v6.ip, "fe80::1|x");
    wl_secure_forward_line(&v6, "1:loc:a", 7, line, sizeof(line), &n);
    is_str(line, "1:[001] (win-agent-01) fe80|:|:1||x->loc:a",
           "forward: prefix escaped");
    wl_secure_forward_line(a, "1:loc:abcdefgh", 14, line, 30, &n);
    is_int(n, 29, "forward: cut at the buffer size");
}

static void check_control(void)
{
    struct wl_keepalive ka;
    char reply[256], version[64];
    const char *linux_ka =
        "#!-Linux |h |5.15.0-1 |#1 SMP |x86_64 [Ubuntu|ubuntu: 22.04.4 "
        "LTS (Jammy Jellyfish)] - Wazuh v4.14.7\n\"env\":\"prod\"\n"
        "x merged.mg\nrandom tail";
    const char *win_ka =
        "#!-Microsoft Windows 10 Pro [Ver: 10.0.19045] |WIN-AGENT-01 "
        "|x86_64 - Wazuh v4.14.7 / 0c4d8bd7c1b4b0b3f2e06d4e55d9b1a1\n"
        "ab73af41699f13fdd81903b5f23d8d00 merged.mg\n"
        "#\"_agent_ip\":192.168.56.10\n";
    int r;

    is_int(wl_control_classify("#!-agent startup ", 17), WL_CONTROL_STARTUP,
           "classify: startup");
    is_int(wl_control_classify("#!-agent shutdown ", 18), WL_CONTROL_SHUTDOWN,
           "classify: shutdown");
    is_int(wl_control_classify("#!-agent shutdown x", 19), WL_CONTROL_KEEPALIVE,
           "classify: shutdown must match exactly");
    is_int(wl_control_classify("#!-req 12 ok", 12), WL_CONTROL_REQUEST,
           "classify: request answer");
    is_int(wl_control_classify("#!", 2), WL_CONTROL_EVENT,
           "classify: short text is an event");

    r = wl_control_startup("#!-agent startup ", 17, "v4.14.7", 0, version,
                           sizeof(version), reply, sizeof(reply));
    ok(r == 1 && strcmp(reply, WL_CONTROL_ACK) == 0,
       "startup: no JSON is acked");
    r = wl_control_startup("#!-agent startup {\"version\":\"v4.14.7\"}", 38,
                           "v4.14.7", 0, version, sizeof(version), reply,
                           sizeof(reply));
    ok(r == 1 && strcmp(reply, WL_CONTROL_ACK) == 0,
       "startup: same version is acked");
    is_str(version, "v4.14.7", "startup: agent version read");
    r = wl_control_startup("#!-agent startup {\"version\":\"v4.15.0\"}", 38,
                           "v4.14.7", 0, version, sizeof(version), reply,
                           sizeof(reply));
    is_int(r, 0, "startup: newer minor version rejected");
    is_str(reply,
           "#!-err {\"message\":\"Agent version must be lower or equal to "
           "manager version\"}",
           "startup: version error text");
    r = wl_control_startup("#!-agent startup {\"version\":\"v4.14.9\"}", 38,
                           "v4.14.7", 0, version, sizeof(version), reply,
                           sizeof(reply));
    is_int(r, 1, "startup: newer patch version acked");
    r = wl_control_startup("#!-agent startup {\"v\":1}", 24, "v4.14.7", 0,
                           version, sizeof(version), reply, sizeof(reply));
    is_int(r, 0, "startup: JSON without version rejected");
    is_str(reply, "#!-err {\"message\":\"Couldn't retrieve version\"}",
           "startup: missing version error text");
    r = wl_control_startup("#!-agent startup {\"version\":\"v5.0.0\"}", 37,
                           "v4.14.7", 1, version, sizeof(version), reply,
                           sizeof(reply));
    is_int(r, 1, "startup: newer version acked when allowed");

    r = wl_control_parse_keepalive(win_ka, strlen(win_ka), &ka);
    is_int(r, 0, "keepalive: Windows parses");
    is_str(ka.version, "Wazuh v4.14.7", "keepalive: version");
    is_str(ka.config_sum, "0c4d8bd7c1b4b0b3f2e06d4e55d9b1a1",
           "keepalive: config sum");
    is_str(ka.merged_sum, "ab73af41699f13fdd81903b5f23d8d00",
           "keepalive: merged sum");
    is_str(ka.agent_ip, "192.168.56.10", "keepalive: agent IP");
    is_str(ka.os_name, "Microsoft Windows 10 Pro", "keepalive: OS name");
    is_str(ka.os_version, "10.0.19045", "keepalive: OS version");
    is_str(ka.os_major, "10", "keepalive: OS major");
    is_str(ka.os_minor, "0", "keepalive: OS minor");
    is_str(ka.os_build, "19045", "keepalive: OS build");
    is_str(ka.os_platform, "windows", "keepalive: OS platform");
    is_str(ka.os_arch, "x86_64", "keepalive: architecture");

    r = wl_control_parse_keepalive(linux_ka, strlen(linux_ka), &ka);
    is_int(r, 0, "keepalive: Linux parses");
    is_str(ka.os_name, "Ubuntu", "keepalive: Linux OS name");
    is_str(ka.os_platform, "ubuntu", "keepalive: Linux platform");
    is_str(ka.os_version, "22.04.4 LTS", "keepalive: Linux OS version");
    is_str(ka.os_codename, "Jammy Jellyfish", "keepalive: codename");
    is_str(ka.os_major, "22", "keepalive: Linux OS major");
    is_str(ka.os_minor, "04", "keepalive: Linux OS minor");
    is_str(ka.merged_sum, "x", "keepalive: no merged.mg yet");
    is_str(ka.labels, "\"env\":\"prod\"", "keepalive: labels");
    is_str(ka.config_sum, "", "keepalive: no agent.conf");
    is_int(wl_control_parse_keepalive("#!-Linux - Wazuh v4", 19, &ka),
           WL_EINVAL, "keepalive: no newline is invalid");

    is_int(wl_control_compare_versions("v4.14.7", "v4.9.1"), 1,
           "versions: 4.14 newer than 4.9");
    is_int(wl_control_compare_versions("v4.14.7", "4.14.0"), 0,
           "versions: patch ignored");
    is_int(wl_control_compare_versions("v4.14.7", "Wazuh v5.0.0"), -1,
           "versions: prefix text skipped");
}

int main(void)
{
    const char *shared = getenv("WL_SHARED_DIR");
    char path[4096];
    char *text;
    cJSON *root;
    struct wl_key_entry a, b;

    wl_log_init("test-secure", WL_LOG_ERROR);
    if (wl_secure_init() < 0)
        tap_diag("Blowfish unavailable: its vectors will fail");

    entry_from_line("001 win-agent-01 any 17c9215c10b920ef5612a768be16727d"
                    "a4c997d1e88e7564f2d11448127c4495",
                    &a);
    entry_from_line("002 web-server.example 10.0.0.5 8297369cba389572b5c9de"
                    "37b3391c5009f223f23f4de9475bf469c736186348",
                    &b);
    check_rejections(&a, &b);
    check_forward(&a);
    check_control();

    if (!shared) {
        tap_skip("WL_SHARED_DIR not set: protocol vectors not checked");
        wl_secure_cleanup();
        return tap_done();
    }
    snprintf(path, sizeof(path), "%s/vectors/agent-protocol.json", shared);
    text = read_text(path);
    if (!text) {
        tap_skip("agent protocol vectors not found");
        wl_secure_cleanup();
        return tap_done();
    }
    root = cJSON_Parse(text);
    ok(root != NULL, "vectors: JSON parses");
    if (root) {
        check_key_vectors(
            cJSON_GetObjectItemCaseSensitive(root, "client_keys"));
        check_frames(cJSON_GetObjectItemCaseSensitive(root, "frames"));
    }
    cJSON_Delete(root);
    free(text);
    wl_secure_cleanup();
    return tap_done();
}
