/*
 * TLS for the event listener: the server SSL_CTX (TLS 1.2 minimum), the
 * self-signed certificate made on first start, and reading the agent name
 * from a client certificate.
 */
#ifndef WL_TLS_H
#define WL_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * Makes ctx refuse encrypted private keys instead of asking for a
 * passphrase on the terminal, which would block a daemon. Loading such a
 * key then fails with OpenSSL's "bad decrypt" reason.
 */
void wl_tls_no_passphrase(SSL_CTX *ctx);

struct wl_tls_options {
    const char *cert_file; /* NULL: self-signed in data_dir */
    const char *key_file;  /* required with cert_file */
    const char *ca_file;   /* NULL: any client (lab mode) */
    const char *data_dir;
};

/* File names of the self-signed pair inside the data directory. */
#define WL_TLS_SELF_CERT "wazlabd-cert.pem"
#define WL_TLS_SELF_KEY "wazlabd-key.pem"

/*
 * Builds the server context. Without cert_file it loads the self-signed
 * pair from data_dir, creating it (EC P-256, ten years, key mode 0600)
 * when neither file exists. With ca_file, clients must present a
 * certificate that the CA signed. Logs the certificate's SHA-256
 * fingerprint. Returns 0 and *out (free with SSL_CTX_free), or WL_ETLS,
 * WL_EIO or WL_ENOMEM with a message in err.
 */
int wl_tls_server_new(const struct wl_tls_options *opt, SSL_CTX **out,
                      char *err, size_t err_size);

/*
 * Copies the common name of the peer's verified certificate into name.
 * Returns 0, WL_ENOENT when there is no verified certificate or no CN,
 * or WL_EINVAL when the CN is not a valid agent name (1 to 127 letters,
 * digits, '-', '_' and '.'); name then holds the CN sanitised for a log.
 */
int wl_tls_peer_name(SSL *ssl, char *name, size_t size);

/* Writes the last OpenSSL error of this thread as text (for logs). */
void wl_tls_error_text(char *out, size_t size);

#endif
