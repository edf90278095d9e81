#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/confcheck.h"
#include "daemon/analysis.h"
#include "daemon/error.h"
#include "daemon/tls.h"
#include "rules/ruleset.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct check {
    const struct wl_config *cfg;
    char *err;
    size_t err_size;
    size_t used;
    int errors;
};

/* Appends "FILE:LINE: message" for the option at path (no line: FILE:). */
static void add_error(struct check *c, const char *path, const char *fmt, ...)
{
    const char *file = c->cfg->file ? c->cfg->file : "(built-in defaults)";
    long line = path ? wl_config_line(c->cfg, path) : 0;
    va_list ap;
    int n;

    c->errors++;
    if (c->used >= c->err_size)
        return;
    if (line > 0)
        n = snprintf(c->err + c->used, c->err_size - c->used,
                     "%s%s:%ld: ", c->used ? "\n" : "", file, line);
    else
        n = snprintf(c->err + c->used, c->err_size - c->used,
                     "%s%s: ", c->used ? "\n" : "", file);
    if (n > 0)
        c->used += (size_t)n;
    if (c->used >= c->err_size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(c->err + c->used, c->err_size - c->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->used += (size_t)n;
}

/* Writes an option path as elements: "a/b" becomes "<a><b>". */
static const char *elements(char *buf, size_t size, const char *path)
{
    const char *slash = strchr(path, '/');

    if (slash == NULL)
        snprintf(buf, size, "<%s>", path);
    else
        snprintf(buf, size, "<%.*s><%s>", (int)(slash - path), path, slash + 1);
    return buf;
}

/* Returns OpenSSL's oldest queued error as text and clears the queue. */
static const char *openssl_reason(char *buf, size_t size)
{
    unsigned long code = ERR_get_error();

    if (code == 0)
        snprintf(buf, size, "unknown error");
    else
        ERR_error_string_n(code, buf, size);
    ERR_clear_error();
    return buf;
}

/* Loads a certificate and its key into ctx, as the daemon will. */
static void check_pair(struct check *c, SSL_CTX *ctx, const char *cert_opt,
                       const char *cert, const char *key_opt, const char *key)
{
    char reason[256];
    char name[64];

    if (cert == NULL)
        return;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        add_error(c, cert_opt, "%s: cannot load certificate %s: %s",
                  elements(name, sizeof(name), cert_opt), cert,
                  openssl_reason(reason, sizeof(reason)));
        return;
    }
    if (key == NULL)
        return;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        add_error(c, key_opt, "%s: cannot load private key %s: %s",
                  elements(name, sizeof(name), key_opt), key,
                  openssl_reason(reason, sizeof(reason)));
        return;
    }
    if (SSL_CTX_check_private_key(ctx) != 1)
        add_error(c, key_opt, "%s: key %s does not match certificate %s",
                  elements(name, sizeof(name), key_opt), key, cert);
}

static void check_ca(struct check *c, SSL_CTX *ctx, const char *opt,
                     const char *file)
{
    char reason[256];
    char name[64];

    if (file != NULL && SSL_CTX_load_verify_locations(ctx, file, NULL) != 1)
        add_error(c, opt, "%s: cannot load CA file %s: %s",
                  elements(name, sizeof(name), opt), file,
                  openssl_reason(reason, sizeof(reason)));
}

static int check_tls(struct check *c)
{
    const struct wl_config *cfg = c->cfg;
    SSL_CTX *remote = SSL_CTX_new(TLS_server_method());
    SSL_CTX *auth = SSL_CTX_new(TLS_server_method());

    if (remote == NULL || auth == NULL) {
        SSL_CTX_free(remote);
        SSL_CTX_free(auth);
        return WL_ENOMEM;
    }
    wl_tls_no_passphrase(remote);
    wl_tls_no_passphrase(auth);
    check_pair(c, remote, "remote/ssl_cert", cfg->remote_ssl_cert,
               "remote/ssl_key", cfg->remote_ssl_key);
    check_ca(c, remote, "remote/ssl_ca", cfg->remote_ssl_ca);
    check_pair(c, auth, "auth/ssl_manager_cert", cfg->auth_ssl_manager_cert,
               "auth/ssl_manager_key", cfg->auth_ssl_manager_key);
    check_ca(c, auth, "auth/ssl_agent_ca", cfg->auth_ssl_agent_ca);
    if (cfg->auth_ciphers != NULL &&
        SSL_CTX_set_cipher_list(auth, cfg->auth_ciphers) != 1) {
        ERR_clear_error();
        add_error(c, "auth/ciphers",
                  "<auth><ciphers>: invalid OpenSSL cipher list '%s'",
                  cfg->auth_ciphers);
    }
    SSL_CTX_free(remote);
    SSL_CTX_free(auth);
    return 0;
}

/* Loads the ruleset the daemon would load and counts its faults. */
static int check_rules(struct check *c)
{
    struct wl_analysis_options opt = {0, c->cfg};
    struct wl_analysis *an = NULL;
    const struct wl_ruleset_stats *stats;
    char err[1024];
    int r = wl_analysis_new(&opt, &an, err, sizeof(err));

    if (r == WL_ENOMEM)
        return r;
    if (r != 0) {
        add_error(c, NULL, "ruleset: %s", err);
        return 0;
    }
    stats = wl_analysis_rule_stats(an);
    if (stats->files_failed > 0 || stats->rules_failed > 0)
        add_error(c, NULL,
                  "ruleset: %u unreadable or malformed rule files and %u "
                  "invalid rules (the messages above name each one)",
                  stats->files_failed, stats->rules_failed);
    wl_analysis_free(an);
    return 0;
}

int wl_config_check_startup(const struct wl_config *cfg, char *err,
                            size_t err_size)
{
    struct check c = {cfg, err, err_size, 0, 0};
    int r;

    if (err_size > 0)
        err[0] = '\0';
    r = check_tls(&c);
    if (r == 0)
        r = check_rules(&c);
    if (r != 0)
        return r;
    return c.errors ? WL_EINVAL : 0;
}
