/*
 * libFuzzer target for the agent protocol parsers. The first input byte
 * picks the parser, the rest is the untrusted input:
 *   0: a decrypted secure message (encrypted here with a fixed key first,
 *      so the fuzzer controls padding, zlib, MD5 and counters)
 *   1: a raw payload (header, identification and decryption)
 *   2: an enrollment request line
 *   3: a keepalive and a startup message
 *   4: TCP bytes through the native connection reader
 */
#include <config.h>

#include "daemon/control.h"
#include "daemon/enroll.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/native.h"
#include "daemon/native_io.h"
#include "daemon/secure.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const key_line_key =
    "17c9215c10b920ef5612a768be16727da4c997d1e88e7564f2d11448127c4495";
static char enc_key[WL_KEYS_ENC_LEN + 1];
static char out[WL_SECURE_INFLATE_MAX + 1];
static unsigned char buf[WL_SECURE_PAYLOAD_MAX + 64];

static void setup(void)
{
    static int done;

    if (done)
        return;
    done = 1;
    wl_log_init("fuzz-agent", WL_LOG_ERROR);
    wl_log_threshold = -1; /* silence */
    wl_keys_derive("001", "win-agent-01", key_line_key, enc_key);
    wl_secure_init();
}

static void fuzz_plaintext(const uint8_t *data, size_t len)
{
    struct wl_secure_plain plain;
    size_t n = 0;
    size_t padded = len - len % 16;

    if (padded == 0 || padded > WL_SECURE_PAYLOAD_MAX - 16)
        return;
    if (wl_secure_cipher(WL_SECURE_AES, enc_key, 1, data, padded, buf, &n) < 0)
        return;
    wl_secure_decrypt(WL_SECURE_AES, enc_key, buf, n, out, sizeof(out), &plain);
}

static void fuzz_payload(const uint8_t *data, size_t len)
{
    struct wl_secure_header h;
    struct wl_secure_plain plain;
    char line[WL_MESSAGE_MAX + 1];
    size_t line_len;
    struct wl_key_entry e;

    if (wl_secure_parse_header(data, len, &h) < 0)
        return;
    if (wl_secure_decrypt(h.method, enc_key, data + h.cipher_offset,
                          len - h.cipher_offset, out, sizeof(out), &plain) < 0)
        return;
    memset(&e, 0, sizeof(e));
    strcpy(e.id, "001");
    strcpy(e.name, "win-agent-01");
    strcpy(e.ip, "any");
    wl_secure_forward_line(&e, plain.message, plain.len, line, sizeof(line),
                           &line_len);
}

static void fuzz_enroll(const uint8_t *data, size_t len)
{
    struct wl_enroll_config cfg;
    struct wl_enroll_request req;
    char error[2048];
    char *line = malloc(len + 1);

    if (!line)
        return;
    memcpy(line, data, len);
    line[len] = '\0';
    wl_enroll_config_default(&cfg);
    cfg.password = len > 0 && data[0] & 1 ? "secret" : NULL;
    if (wl_enroll_parse(&cfg, line, "127.0.0.1", &req, error, sizeof(error)) ==
        0)
        wl_enroll_request_free(&req);
    free(line);
}

static void fuzz_control(const uint8_t *data, size_t len)
{
    struct wl_keepalive ka;
    char reply[256], version[64];

    wl_control_classify((const char *)data, len);
    wl_control_parse_keepalive((const char *)data, len, &ka);
    wl_control_startup((const char *)data, len, WL_CONTROL_VERSION, 0, version,
                       sizeof(version), reply, sizeof(reply));
}

static int discard_write(void *ctx, const void *d, size_t n)
{
    (void)ctx;
    (void)d;
    (void)n;
    return 0;
}

static void discard_submit(void *ctx, struct wl_message *msg)
{
    (void)ctx;
    wl_message_free(msg);
}

static void fuzz_stream(const uint8_t *data, size_t len)
{
    static struct wl_native *n;
    struct wl_native_io io = {discard_write, discard_submit, NULL, NULL};
    struct wl_native_conn *c;

    if (!n) {
        struct wl_native_options opt = {
            .keys_path = "/nonexistent/wazlab-fuzz/client.keys"};

        if (wl_native_new(&opt, &n) < 0)
            return;
    }
    c = wl_native_conn_new(n, 1, "127.0.0.1");
    if (!c)
        return;
    wl_native_detect(data, len);
    wl_native_conn_input(c, data, len, &io);
    wl_native_conn_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    setup();
    if (len < 1)
        return 0;
    switch (data[0] % 5) {
    case 0:
        fuzz_plaintext(data + 1, len - 1);
        break;
    case 1:
        fuzz_payload(data + 1, len - 1);
        break;
    case 2:
        fuzz_enroll(data + 1, len - 1);
        break;
    case 3:
        fuzz_control(data + 1, len - 1);
        break;
    default:
        fuzz_stream(data + 1, len - 1);
        break;
    }
    return 0;
}
