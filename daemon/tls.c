#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/tls.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define SELF_SIGNED_DAYS 3650

void wl_tls_error_text(char *out, size_t size)
{
    unsigned long e = ERR_peek_last_error();

    if (e == 0)
        snprintf(out, size, "no OpenSSL error recorded");
    else
        ERR_error_string_n(e, out, size);
    ERR_clear_error();
}

static int file_exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static EVP_PKEY *make_key(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    EVP_PKEY *key = NULL;

    if (ctx == NULL)
        return NULL;
    if (EVP_PKEY_keygen_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) <=
            0 ||
        EVP_PKEY_keygen(ctx, &key) <= 0)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

static X509 *make_certificate(EVP_PKEY *key)
{
    X509 *cert = X509_new();
    X509_NAME *name;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    int ok = 0;

    if (cert == NULL)
        return NULL;
    if (RAND_bytes(serial, sizeof(serial)) != 1)
        goto out;
    serial[0] &= 0x7f; /* a positive serial number */
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    name = X509_get_subject_name(cert);
    if (bn == NULL || X509_set_version(cert, 2) != 1 ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL ||
        X509_gmtime_adj(X509_getm_notBefore(cert), 0) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert),
                        (long)SELF_SIGNED_DAYS * 86400) == NULL ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"wazlabd", -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(cert, name) != 1 ||
        X509_set_pubkey(cert, key) != 1 ||
        X509_sign(cert, key, EVP_sha256()) <= 0)
        goto out;
    ok = 1;
out:
    BN_free(bn);
    if (!ok) {
        X509_free(cert);
        cert = NULL;
    }
    return cert;
}

/* Writes a PEM file that must not exist yet, with the given mode. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert,
                     char *err, size_t err_size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    FILE *f;
    int ok;

    if (fd < 0) {
        snprintf(err, err_size, "cannot create %s: %s", path, strerror(errno));
        return WL_EIO;
    }
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
        return WL_EIO;
    }
    if (key != NULL)
        ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    else
        ok = PEM_write_X509(f, cert) == 1;
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        snprintf(err, err_size, "cannot write %s", path);
        unlink(path);
        return WL_EIO;
    }
    return 0;
}

/* Creates the self-signed pair unless both files exist already. */
static int ensure_self_signed(const char *cert_path, const char *key_path,
                              char *err, size_t err_size)
{
    int have_cert = file_exists(cert_path);
    int have_key = file_exists(key_path);
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int r;

    if (have_cert && have_key)
        return 0;
    if (have_cert || have_key) {
        snprintf(err, err_size,
                 "%s exists but %s does not; remove the other file to make "
                 "a new self-signed pair",
                 have_cert ? cert_path : key_path,
                 have_cert ? key_path : cert_path);
        return WL_EIO;
    }
    key = make_key();
    cert = key ? make_certificate(key) : NULL;
    if (cert == NULL) {
        char text[256];

        wl_tls_error_text(text, sizeof(text));
        snprintf(err, err_size, "cannot create a self-signed certificate: %s",
                 text);
        r = WL_ETLS;
        goto out;
    }
    r = write_pem(key_path, 0600, key, NULL, err, err_size);
    if (r == 0)
        r = write_pem(cert_path, 0644, NULL, cert, err, err_size);
    if (r != 0) {
        unlink(key_path);
        goto out;
    }
    wl_log_info("created a self-signed certificate %s and key %s", cert_path,
                key_path);
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    return r;
}

static void log_fingerprint(SSL_CTX *ctx, const char *cert_path)
{
    X509 *cert = SSL_CTX_get0_certificate(ctx);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char hex[EVP_MAX_MD_SIZE * 3 + 1];

    if (cert == NULL || X509_digest(cert, EVP_sha256(), digest, &len) != 1)
        return;
    for (unsigned int i = 0; i < len; i++)
        snprintf(hex + i * 3, 4, "%02X%s", digest[i], i + 1 < len ? ":" : "");
    wl_log_info("server certificate %s, SHA-256 fingerprint %s", cert_path,
                hex);
}

static int tls_fail(SSL_CTX *ctx, char *err, size_t err_size, const char *what,
                    const char *path)
{
    char text[256];

    wl_tls_error_text(text, sizeof(text));
    snprintf(err, err_size, "%s %s: %s", what, path, text);
    SSL_CTX_free(ctx);
    return WL_ETLS;
}

int wl_tls_server_new(const struct wl_tls_options *opt, SSL_CTX **out,
                      char *err, size_t err_size)
{
    char self_cert[4096];
    char self_key[4096];
    const char *cert_path = opt->cert_file;
    const char *key_path = opt->key_file;
    SSL_CTX *ctx;
    int r;

    if (cert_path == NULL) {
        snprintf(self_cert, sizeof(self_cert), "%s/%s", opt->data_dir,
                 WL_TLS_SELF_CERT);
        snprintf(self_key, sizeof(self_key), "%s/%s", opt->data_dir,
                 WL_TLS_SELF_KEY);
        r = ensure_self_signed(self_cert, self_key, err, err_size);
        if (r != 0)
            return r;
        cert_path = self_cert;
        key_path = self_key;
    } else if (key_path == NULL) {
        snprintf(err, err_size,
                 "<remote><ssl_cert> is set but "
                 "<remote><ssl_key> is not");
        return WL_EINVAL;
    }

    ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return tls_fail(NULL, err, err_size, "cannot create", "TLS context");
    wl_tls_no_passphrase(ctx);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1)
        return tls_fail(ctx, err, err_size, "cannot load certificate",
                        cert_path);
    if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1)
        return tls_fail(ctx, err, err_size, "cannot load private key",
                        key_path);
    if (SSL_CTX_check_private_key(ctx) != 1)
        return tls_fail(ctx, err, err_size, "private key does not match",
                        cert_path);
    if (opt->ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, opt->ca_file, NULL) != 1)
            return tls_fail(ctx, err, err_size, "cannot load CA file",
                            opt->ca_file);
        SSL_CTX_set_verify(
            ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    log_fingerprint(ctx, cert_path);
    *out = ctx;
    return 0;
}

static int valid_agent_name(const char *name, size_t len)
{
    if (len == 0 || len > 127)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

int wl_tls_peer_name(SSL *ssl, char *name, size_t size)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    X509 *cert = SSL_get1_peer_certificate(ssl);
#else
    X509 *cert = SSL_get_peer_certificate(ssl);
#endif
    X509_NAME *subject;
    X509_NAME_ENTRY *entry;
    unsigned char *utf8 = NULL;
    int index;
    int len;
    int r = WL_ENOENT;

    if (cert == NULL)
        return WL_ENOENT;
    if (SSL_get_verify_result(ssl) != X509_V_OK)
        goto out;
    subject = X509_get_subject_name(cert);
    index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0)
        goto out;
    entry = X509_NAME_get_entry(subject, index);
    len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (len < 0)
        goto out;
    if (!valid_agent_name((const char *)utf8, (size_t)len) ||
        (size_t)len >= size) {
        wl_log_sanitize(name, size, utf8, (size_t)len);
        r = WL_EINVAL;
        goto out;
    }
    memcpy(name, utf8, (size_t)len);
    name[len] = '\0';
    r = 0;
out:
    OPENSSL_free(utf8);
    X509_free(cert);
    return r;
}

static int refuse_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)userdata;
    return 0;
}

void wl_tls_no_passphrase(SSL_CTX *ctx)
{
    SSL_CTX_set_default_passwd_cb(ctx, refuse_passphrase);
}
