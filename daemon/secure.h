/*
 * Wazuh 4.x secure messages, the payloads agents send to port 1514 and
 * the manager sends back:
 *
 *   payload   = ["!" id "!"] ("#AES:" | ":") ciphertext
 *   plaintext = "!" x (1..8) + zlib(md5hex(inner) + inner)
 *   inner     = "%05u%010u:%04u:" (random, global, local) + message
 *
 * AES-256-CBC uses the first 32 bytes of the derived key and the ASCII IV
 * "FEDCBA0987654321" with PKCS#7 padding. Blowfish-CBC uses all 47 bytes,
 * the IV fe dc ba 98 76 54 32 10 and no padding. Over TCP each payload
 * has a 4-byte little-endian length in front; over UDP it is one
 * datagram.
 *
 * Functions here return 0 or a negative code: a WL_E* code from
 * daemon/error.h or one of the WL_SECURE_E* codes below, which name the
 * reason a frame was rejected so that the caller can count each reason.
 * wl_secure_strerror() describes both kinds. Nothing here logs a key.
 */
#ifndef WL_SECURE_H
#define WL_SECURE_H

#include "daemon/keys.h"

#include <stddef.h>

#define WL_SECURE_PAYLOAD_MAX 65536 /* largest payload, Wazuh's OS_MAXSTR */
#define WL_SECURE_INFLATE_MAX 65536 /* largest decompressed text */
#define WL_SECURE_MESSAGE_MAX 65408 /* largest message an agent sends */
#define WL_SECURE_OVERHEAD 53       /* md5 + random + counters + colons */
#define WL_SECURE_LOCAL_MAX 9997    /* senders wrap the local counter here */
#define WL_SECURE_FRAME_HEADER 4

enum {
    WL_SECURE_EHEADER = -101,  /* payload does not start with a known header */
    WL_SECURE_EUNKNOWN = -102, /* no agent with this id or address */
    WL_SECURE_EADDR = -103,    /* agent not allowed from this address */
    WL_SECURE_EIDMISMATCH = -104, /* connection belongs to another agent */
    WL_SECURE_ETRUNCATED = -105,  /* ciphertext not whole cipher blocks */
    WL_SECURE_EKEY = -106,        /* decryption failed: wrong key */
    WL_SECURE_EZLIB = -107,       /* compressed data is invalid */
    WL_SECURE_ECHECKSUM = -108,   /* MD5 of the message does not match */
    WL_SECURE_EFORMAT = -109,     /* counters or message layout invalid */
    WL_SECURE_EREPLAY = -110,     /* counters not newer than the last ones */
    WL_SECURE_ETOOBIG = -111,     /* frame or message over the size limit */
    WL_SECURE_ECIPHER = -112,     /* cipher unavailable in this OpenSSL */
    WL_SECURE_EDROP = -113,       /* message that remoted drops on purpose */
    WL_SECURE_EINUSE = -114,      /* agent active on another connection */
    WL_SECURE_EPARTIAL = -115,    /* connection closed inside a frame */
};

enum wl_secure_method {
    WL_SECURE_AES = 0,
    WL_SECURE_BLOWFISH = 1,
};

/* The clear-text header of a payload. */
struct wl_secure_header {
    char agent_id[WL_KEYS_ID_MAX + 1]; /* empty when the payload has none */
    enum wl_secure_method method;
    size_t cipher_offset; /* where the ciphertext starts in the payload */
};

/* A decrypted message: counters and where the text is. */
struct wl_secure_plain {
    unsigned random;
    unsigned global;
    unsigned local;
    char *message; /* points into the caller's buffer, NUL-terminated */
    size_t len;
};

/* Last counters accepted from one agent, for the replay check. */
struct wl_secure_counter {
    unsigned global;
    unsigned local;
};

/* Describes a WL_SECURE_E* or WL_E* code; static text. */
const char *wl_secure_strerror(int code);

/*
 * Loads the OpenSSL providers Blowfish needs (OpenSSL 3 keeps it in the
 * "legacy" provider). Safe to call many times and from many threads; the
 * first call does the work and logs one error when Blowfish is missing.
 * Returns 0 or WL_SECURE_ECIPHER. Decoding calls it when needed.
 */
int wl_secure_init(void);

/*
 * Unloads the providers wl_secure_init() loaded, at process exit, so that
 * leak checkers stay quiet. No codec function may run afterwards.
 */
void wl_secure_cleanup(void);

/* Returns 1 when the payload is the plain-text "#ping" probe, else 0. */
int wl_secure_is_ping(const void *payload, size_t len);

/*
 * Parses the header of a payload: "!<digits>!" (1 to WL_KEYS_ID_MAX
 * digits) optionally, then "#AES:" or ":". Returns 0 or
 * WL_SECURE_EHEADER.
 */
int wl_secure_parse_header(const void *payload, size_t len,
                           struct wl_secure_header *header);

/*
 * Finds the key for a payload as remoted does. With an id: the id must be
 * active and src_ip allowed by its registered address. Without: an active
 * entry must be registered with exactly src_ip. When bound_id is not NULL
 * (the agent already bound to this connection), the agent found must be
 * that one. Returns 0 with *entry set, WL_SECURE_EUNKNOWN,
 * WL_SECURE_EADDR or WL_SECURE_EIDMISMATCH.
 */
int wl_secure_identify(const struct wl_keystore *ks,
                       const struct wl_secure_header *header,
                       const char *src_ip, const char *bound_id,
                       const struct wl_key_entry **entry);

/*
 * Decrypts ciphertext (len bytes) with the 47-character enc_key, strips
 * the '!' padding, inflates it (ignoring bytes after the zlib stream),
 * checks the MD5 and parses the counters. The message is written to out
 * (out_size must be at least WL_SECURE_INFLATE_MAX + 1) and described by
 * *plain. Returns 0, WL_SECURE_ETRUNCATED, WL_SECURE_ETOOBIG,
 * WL_SECURE_EKEY, WL_SECURE_EZLIB, WL_SECURE_ECHECKSUM,
 * WL_SECURE_EFORMAT, WL_SECURE_ECIPHER, WL_EINVAL (out too small) or
 * WL_ENOMEM.
 */
int wl_secure_decrypt(enum wl_secure_method method, const char *enc_key,
                      const void *ciphertext, size_t len, char *out,
                      size_t out_size, struct wl_secure_plain *plain);

/*
 * The replay check of remoted with verify_msg_id on: accepts counters
 * newer than *last (global greater, or equal global and greater local)
 * and stores them. Returns 0 or WL_SECURE_EREPLAY (*last unchanged).
 */
int wl_secure_check_counter(struct wl_secure_counter *last,
                            const struct wl_secure_plain *plain);

/*
 * Builds a payload: header ("!<agent_id>!" when agent_id is not NULL,
 * then "#AES:" or ":") and the encryption of message with the given
 * random (0..65535) and counters, compressed at zlib level 9 as Wazuh
 * does. The manager passes agent_id NULL. Writes at most out_size bytes;
 * *out_len gets the payload length. Returns 0, WL_SECURE_ETOOBIG
 * (message over WL_SECURE_MESSAGE_MAX or payload over out_size),
 * WL_EINVAL, WL_SECURE_ECIPHER or WL_ENOMEM.
 */
int wl_secure_encode(enum wl_secure_method method, const char *enc_key,
                     const char *agent_id, unsigned random, unsigned global,
                     unsigned local, const char *message, size_t len, void *out,
                     size_t out_size, size_t *out_len);

/*
 * Encrypts or decrypts raw bytes with the agent cipher, without any of
 * the message layout (for tests and tools). AES output may be up to 16
 * bytes longer than the input; out must hold len + 16 bytes. Returns 0
 * with *out_len set, WL_SECURE_EKEY (decryption failed),
 * WL_SECURE_ETRUNCATED, WL_SECURE_ECIPHER or WL_ENOMEM.
 */
int wl_secure_cipher(enum wl_secure_method method, const char *enc_key,
                     int encrypt, const void *in, size_t len, void *out,
                     size_t *out_len);

/*
 * Looks at buffered TCP bytes. Returns 0 when a whole frame is there
 * (its payload is buf + WL_SECURE_FRAME_HEADER, *payload_len bytes long),
 * WL_EAGAIN when more bytes are needed, or WL_SECURE_ETOOBIG when the
 * announced length is over WL_SECURE_PAYLOAD_MAX (drop the connection).
 */
int wl_secure_frame_parse(const void *buf, size_t len, size_t *payload_len);

/* Writes the 4-byte little-endian length of a payload. */
void wl_secure_frame_header(size_t payload_len, unsigned char *out);

/*
 * Builds the line remoted hands to analysis for an event message
 * "<q>:<rest>" of this agent: "<q>:[<id>] (<name>) <ip>-><rest>", where
 * the bracketed prefix has ':' written "|:" and '|' written "||". The
 * result is cut at out_size - 1 bytes as Wazuh cuts it at OS_MAXSTR, and
 * NUL-terminated; *out_len gets its length. Returns 0,
 * WL_SECURE_EFORMAT (second byte is not ':'), WL_SECURE_EDROP (location
 * starts with "keepalive", which remoted drops) or WL_EINVAL.
 */
int wl_secure_forward_line(const struct wl_key_entry *entry,
                           const char *message, size_t len, char *out,
                           size_t out_size, size_t *out_len);

#endif
