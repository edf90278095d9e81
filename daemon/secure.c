/* Wazuh secure message codec: headers, ciphers, zlib, counters, framing. */
#include <config.h>

#include "daemon/secure.h"

#include "daemon/error.h"
#include "daemon/log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/provider.h>
#endif
#include <zlib.h>

static const unsigned char aes_iv[16] = "FEDCBA0987654321";
static const unsigned char bf_iv[8] = {0xfe, 0xdc, 0xba, 0x98,
                                       0x76, 0x54, 0x32, 0x10};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int blowfish_ready;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static OSSL_PROVIDER *default_provider;
static OSSL_PROVIDER *legacy_provider;
#endif

const char *wl_secure_strerror(int code)
{
    switch (code) {
    case WL_SECURE_EHEADER:
        return "payload header is not !id!#AES:, #AES:, !id!: or :";
    case WL_SECURE_EUNKNOWN:
        return "no agent registered with this id or address";
    case WL_SECURE_EADDR:
        return "agent not allowed from this address";
    case WL_SECURE_EIDMISMATCH:
        return "connection is bound to another agent";
    case WL_SECURE_ETRUNCATED:
        return "ciphertext is not a whole number of cipher blocks";
    case WL_SECURE_EKEY:
        return "decryption failed (wrong key)";
    case WL_SECURE_EZLIB:
        return "invalid compressed data";
    case WL_SECURE_ECHECKSUM:
        return "message checksum mismatch";
    case WL_SECURE_EFORMAT:
        return "invalid message layout";
    case WL_SECURE_EREPLAY:
        return "message counters not newer than the last ones (replay)";
    case WL_SECURE_ETOOBIG:
        return "frame or message too large";
    case WL_SECURE_ECIPHER:
        return "cipher not available in this OpenSSL";
    case WL_SECURE_EDROP:
        return "message dropped on purpose";
    case WL_SECURE_EINUSE:
        return "agent key already in use on another connection";
    case WL_SECURE_EPARTIAL:
        return "connection closed inside a frame";
    }
    return wl_strerror(code);
}

/*
 * OpenSSL 3 moved Blowfish to the legacy provider. Loading any provider
 * by hand stops the default one from loading by itself, so both are
 * loaded here.
 */
static void load_providers(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    default_provider = OSSL_PROVIDER_load(NULL, "default");
    if (!default_provider) {
        wl_log_error("cannot load the OpenSSL default provider");
        return;
    }
    legacy_provider = OSSL_PROVIDER_load(NULL, "legacy");
    if (!legacy_provider) {
        wl_log_error("cannot load the OpenSSL legacy provider: Blowfish "
                     "agents will be rejected; install the OpenSSL legacy "
                     "module (legacy.so) to accept them");
        return;
    }
#endif
    EVP_CIPHER *bf = EVP_CIPHER_fetch(NULL, "BF-CBC", NULL);

    if (!bf) {
        wl_log_error("Blowfish (BF-CBC) is not available in this OpenSSL: "
                     "Blowfish agents will be rejected");
        return;
    }
    EVP_CIPHER_free(bf);
    blowfish_ready = 1;
}

int wl_secure_init(void)
{
    pthread_once(&init_once, load_providers);
    return blowfish_ready ? 0 : WL_SECURE_ECIPHER;
}

void wl_secure_cleanup(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    if (legacy_provider)
        OSSL_PROVIDER_unload(legacy_provider);
    if (default_provider)
        OSSL_PROVIDER_unload(default_provider);
    legacy_provider = NULL;
    default_provider = NULL;
#endif
    blowfish_ready = 0;
}

int wl_secure_is_ping(const void *payload, size_t len)
{
    return len >= 5 && memcmp(payload, "#ping", 5) == 0;
}

int wl_secure_parse_header(const void *payload, size_t len,
                           struct wl_secure_header *header)
{
    const char *p = payload;
    size_t pos = 0;

    memset(header, 0, sizeof(*header));
    if (len > 0 && p[0] == '!') {
        size_t digits = 0;

        pos = 1;
        while (pos < len && isdigit((unsigned char)p[pos])) {
            pos++;
            digits++;
        }
        if (digits == 0 || digits > WL_KEYS_ID_MAX || pos >= len ||
            p[pos] != '!')
            return WL_SECURE_EHEADER;
        memcpy(header->agent_id, p + 1, digits);
        header->agent_id[digits] = '\0';
        pos++;
    }
    if (len - pos >= 5 && memcmp(p + pos, "#AES:", 5) == 0) {
        header->method = WL_SECURE_AES;
        pos += 5;
    } else if (len - pos >= 1 && p[pos] == ':') {
        header->method = WL_SECURE_BLOWFISH;
        pos += 1;
    } else {
        return WL_SECURE_EHEADER;
    }
    header->cipher_offset = pos;
    return 0;
}

int wl_secure_identify(const struct wl_keystore *ks,
                       const struct wl_secure_header *header,
                       const char *src_ip, const char *bound_id,
                       const struct wl_key_entry **entry)
{
    const struct wl_key_entry *found;

    if (header->agent_id[0] != '\0') {
        found = wl_keys_find_id(ks, header->agent_id);
        if (!found)
            return WL_SECURE_EUNKNOWN;
        if (!wl_keys_ip_allowed(found->ip, src_ip))
            return WL_SECURE_EADDR;
    } else {
        found = wl_keys_find_ip(ks, src_ip);
        if (!found)
            return WL_SECURE_EUNKNOWN;
    }
    if (bound_id && strcmp(bound_id, found->id) != 0)
        return WL_SECURE_EIDMISMATCH;
    *entry = found;
    return 0;
}

int wl_secure_cipher(enum wl_secure_method method, const char *enc_key,
                     int encrypt, const void *in, size_t len, void *out,
                     size_t *out_len)
{
    const EVP_CIPHER *cipher;
    EVP_CIPHER *fetched = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    const unsigned char *iv;
    size_t block;
    int n1 = 0, n2 = 0, r = WL_ENOMEM;

    if (len > INT32_MAX)
        return WL_SECURE_ETOOBIG;
    if (method == WL_SECURE_AES) {
        cipher = EVP_aes_256_cbc();
        iv = aes_iv;
        block = 16;
    } else {
        if (wl_secure_init() < 0)
            return WL_SECURE_ECIPHER;
        fetched = EVP_CIPHER_fetch(NULL, "BF-CBC", NULL);
        if (!fetched)
            return WL_SECURE_ECIPHER;
        cipher = fetched;
        iv = bf_iv;
        block = 8;
    }
    if (!encrypt && (len == 0 || len % block != 0)) {
        r = WL_SECURE_ETRUNCATED;
        goto out;
    }
    if (method == WL_SECURE_BLOWFISH && len % block != 0) {
        r = WL_EINVAL; /* Blowfish has no padding: whole blocks only */
        goto out;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (!ctx)
        goto out;
    r = WL_SECURE_ECIPHER;
    if (!EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, encrypt))
        goto out;
    if (method == WL_SECURE_BLOWFISH) {
        if (!EVP_CIPHER_CTX_set_key_length(ctx, WL_KEYS_ENC_LEN))
            goto out;
        EVP_CIPHER_CTX_set_padding(ctx, 0);
    }
    if (!EVP_CipherInit_ex(ctx, NULL, NULL, (const unsigned char *)enc_key, iv,
                           encrypt))
        goto out;

    r = WL_SECURE_EKEY;
    if (!EVP_CipherUpdate(ctx, out, &n1, in, (int)len))
        goto out;
    if (!EVP_CipherFinal_ex(ctx, (unsigned char *)out + n1, &n2))
        goto out;
    *out_len = (size_t)n1 + (size_t)n2;
    r = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(fetched);
    return r;
}

/*
 * Inflates one zlib stream from in into out, ignoring what follows the
 * end of the stream. Returns the length or a negative code.
 */
static int inflate_stream(const unsigned char *in, size_t len, char *out,
                          size_t out_max, size_t *out_len)
{
    z_stream zs;
    int zr;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit(&zs) != Z_OK)
        return WL_ENOMEM;
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (unsigned char *)out;
    zs.avail_out = (uInt)out_max;
    zr = inflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    inflateEnd(&zs);
    if (zr == Z_STREAM_END)
        return 0;
    if (zr == Z_BUF_ERROR && zs.avail_out == 0)
        return WL_SECURE_ETOOBIG;
    return WL_SECURE_EZLIB;
}

/* Parses n decimal digits; -1 when one of them is not a digit. */
static long parse_digits(const char *p, int n)
{
    long value = 0;

    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        value = value * 10 + (p[i] - '0');
    }
    return value;
}

/* Checks the MD5 and the counters of inflated text and moves the message
 * to the start of the buffer. */
static int parse_inner(char *text, size_t len, struct wl_secure_plain *plain)
{
    char md5[EVP_MAX_MD_SIZE * 2 + 1];
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    long random, global, local;

    if (len < WL_SECURE_OVERHEAD)
        return WL_SECURE_EFORMAT;
    if (!EVP_Digest(text + 32, len - 32, digest, &digest_len, EVP_md5(), NULL))
        return WL_EINTERNAL;
    for (unsigned int i = 0; i < digest_len; i++)
        snprintf(md5 + 2 * i, 3, "%02x", digest[i]);
    if (memcmp(md5, text, 32) != 0)
        return WL_SECURE_ECHECKSUM;

    random = parse_digits(text + 32, 5);
    global = parse_digits(text + 37, 10);
    local = parse_digits(text + 48, 4);
    if (random < 0 || global < 0 || global > UINT32_MAX || local < 0 ||
        text[47] != ':' || text[52] != ':')
        return WL_SECURE_EFORMAT;

    plain->random = (unsigned)random;
    plain->global = (unsigned)global;
    plain->local = (unsigned)local;
    plain->len = len - WL_SECURE_OVERHEAD;
    memmove(text, text + WL_SECURE_OVERHEAD, plain->len);
    text[plain->len] = '\0';
    plain->message = text;
    return 0;
}

int wl_secure_decrypt(enum wl_secure_method method, const char *enc_key,
                      const void *ciphertext, size_t len, char *out,
                      size_t out_size, struct wl_secure_plain *plain)
{
    unsigned char *clear = NULL;
    size_t clear_len = 0, skip = 0, text_len = 0;
    int r;

    memset(plain, 0, sizeof(*plain));
    if (out_size < WL_SECURE_INFLATE_MAX + 1)
        return WL_EINVAL;
    if (len > WL_SECURE_PAYLOAD_MAX)
        return WL_SECURE_ETOOBIG;
    clear = malloc(len + 16);
    if (!clear)
        return WL_ENOMEM;
    r = wl_secure_cipher(method, enc_key, 0, ciphertext, len, clear,
                         &clear_len);
    if (r < 0)
        goto out;

    /* Compressed messages start with '!' padding; anything else here means
     * the key was wrong (only pre-2.0 agents sent uncompressed text). */
    r = WL_SECURE_EKEY;
    if (clear_len == 0 || clear[0] != '!')
        goto out;
    while (skip < clear_len && clear[skip] == '!')
        skip++;

    r = inflate_stream(clear + skip, clear_len - skip, out,
                       WL_SECURE_INFLATE_MAX, &text_len);
    if (r < 0)
        goto out;
    r = parse_inner(out, text_len, plain);
out:
    if (clear) {
        OPENSSL_cleanse(clear, len + 16);
        free(clear);
    }
    return r;
}

int wl_secure_check_counter(struct wl_secure_counter *last,
                            const struct wl_secure_plain *plain)
{
    if (plain->global > last->global ||
        (plain->global == last->global && plain->local > last->local)) {
        last->global = plain->global;
        last->local = plain->local;
        return 0;
    }
    return WL_SECURE_EREPLAY;
}

/* Compresses inner text at level 9 and puts the '!' padding in front. */
static int compress_padded(const char *inner, size_t len,
                           unsigned char **padded, size_t *padded_len)
{
    uLongf bound = compressBound((uLong)len);
    unsigned char *buf = malloc(8 + bound);
    size_t bangs;
    int r;

    if (!buf)
        return WL_ENOMEM;
    r = compress2(buf + 8, &bound, (const Bytef *)inner, (uLong)len, 9);
    if (r != Z_OK) {
        free(buf);
        return WL_ENOMEM;
    }
    /* 1 to 8 '!' so that the total is a multiple of 8, never none. */
    bangs = 8 - (bound % 8);
    memmove(buf + bangs, buf + 8, bound);
    memset(buf, '!', bangs);
    *padded = buf;
    *padded_len = bangs + bound;
    return 0;
}

/* Writes md5hex(inner) + inner for a message; returns a malloc'd text. */
static char *build_inner(unsigned random, unsigned global, unsigned local,
                         const char *message, size_t len, size_t *out_len)
{
    char *text = malloc(WL_SECURE_OVERHEAD + len + 1);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;

    if (!text)
        return NULL;
    snprintf(text + 32, 22, "%05u%010u:%04u:", random, global, local);
    memcpy(text + WL_SECURE_OVERHEAD, message, len);
    if (!EVP_Digest(text + 32, len + 21, digest, &digest_len, EVP_md5(),
                    NULL)) {
        free(text);
        return NULL;
    }
    for (unsigned int i = 0; i < digest_len && i < 16; i++) {
        static const char hex[] = "0123456789abcdef";

        text[2 * i] = hex[digest[i] >> 4];
        text[2 * i + 1] = hex[digest[i] & 0x0f];
    }
    *out_len = WL_SECURE_OVERHEAD + len;
    return text;
}

int wl_secure_encode(enum wl_secure_method method, const char *enc_key,
                     const char *agent_id, unsigned random, unsigned global,
                     unsigned local, const char *message, size_t len, void *out,
                     size_t out_size, size_t *out_len)
{
    char header[WL_KEYS_ID_MAX + 8];
    char *inner = NULL;
    unsigned char *padded = NULL, *cipher = NULL;
    size_t inner_len = 0, padded_len = 0, cipher_len = 0, header_len;
    int r;

    if (len == 0 || len > WL_SECURE_MESSAGE_MAX)
        return WL_SECURE_ETOOBIG;
    if (random > 65535 || local > 9999 ||
        (agent_id && strlen(agent_id) > WL_KEYS_ID_MAX))
        return WL_EINVAL;
    header_len = (size_t)snprintf(header, sizeof(header), "%s%s%s%s",
                                  agent_id ? "!" : "", agent_id ? agent_id : "",
                                  agent_id ? "!" : "",
                                  method == WL_SECURE_AES ? "#AES:" : ":");

    r = WL_ENOMEM;
    inner = build_inner(random, global, local, message, len, &inner_len);
    if (!inner)
        goto out;
    r = compress_padded(inner, inner_len, &padded, &padded_len);
    if (r < 0)
        goto out;
    r = WL_ENOMEM;
    cipher = malloc(padded_len + 16);
    if (!cipher)
        goto out;
    r = wl_secure_cipher(method, enc_key, 1, padded, padded_len, cipher,
                         &cipher_len);
    if (r < 0)
        goto out;
    r = WL_SECURE_ETOOBIG;
    if (header_len + cipher_len > out_size ||
        header_len + cipher_len > WL_SECURE_PAYLOAD_MAX)
        goto out;
    memcpy(out, header, header_len);
    memcpy((char *)out + header_len, cipher, cipher_len);
    *out_len = header_len + cipher_len;
    r = 0;
out:
    if (inner) {
        OPENSSL_cleanse(inner, inner_len);
        free(inner);
    }
    if (padded) {
        OPENSSL_cleanse(padded, padded_len);
        free(padded);
    }
    free(cipher);
    return r;
}

int wl_secure_frame_parse(const void *buf, size_t len, size_t *payload_len)
{
    const unsigned char *p = buf;
    uint32_t size;

    if (len < WL_SECURE_FRAME_HEADER)
        return WL_EAGAIN;
    size = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
    if (size > WL_SECURE_PAYLOAD_MAX)
        return WL_SECURE_ETOOBIG;
    if (len - WL_SECURE_FRAME_HEADER < size)
        return WL_EAGAIN;
    *payload_len = size;
    return 0;
}

void wl_secure_frame_header(size_t payload_len, unsigned char *out)
{
    out[0] = (unsigned char)(payload_len & 0xff);
    out[1] = (unsigned char)((payload_len >> 8) & 0xff);
    out[2] = (unsigned char)((payload_len >> 16) & 0xff);
    out[3] = (unsigned char)((payload_len >> 24) & 0xff);
}

/* Appends text to out with '|' and ':' escaped by '|'. */
static size_t append_escaped(char *out, size_t pos, size_t limit,
                             const char *text)
{
    for (; *text && pos < limit; text++) {
        if (*text == '|' || *text == ':') {
            if (pos + 2 > limit)
                break;
            out[pos++] = '|';
        }
        out[pos++] = *text;
    }
    return pos;
}

int wl_secure_forward_line(const struct wl_key_entry *entry,
                           const char *message, size_t len, char *out,
                           size_t out_size, size_t *out_len)
{
    char prefix[WL_KEYS_ID_MAX + WL_KEYS_NAME_MAX + WL_KEYS_IP_MAX + 8];
    size_t limit, pos = 0, rest;

    if (out_size < 2)
        return WL_EINVAL;
    if (len < 2 || message[1] != ':')
        return WL_SECURE_EFORMAT;
    if (len - 2 >= 9 && memcmp(message + 2, "keepalive", 9) == 0)
        return WL_SECURE_EDROP;

    snprintf(prefix, sizeof(prefix), "[%s] (%s) %s", entry->id, entry->name,
             entry->ip);
    limit = out_size - 1;
    out[pos++] = message[0];
    if (pos < limit)
        out[pos++] = ':';
    pos = append_escaped(out, pos, limit, prefix);
    for (const char *arrow = "->"; *arrow && pos < limit; arrow++)
        out[pos++] = *arrow;
    rest = len - 2;
    if (rest > limit - pos)
        rest = limit - pos;
    memcpy(out + pos, message + 2, rest);
    pos += rest;
    out[pos] = '\0';
    *out_len = pos;
    return 0;
}
