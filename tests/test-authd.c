/*
 * Enrollment service on loopback: concurrent TLS enrollments get distinct
 * ids and keys that port 1514 accepts at once, client.keys is saved, the
 * server closes after each reply, and TLS 1.2 and 1.3 both work.
 */
#include <config.h>

#include "daemon/authd.h"
#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "daemon/native.h"
#include "daemon/secure.h"
#include "tests/tap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define CLIENTS 24

static char dir[] = "/tmp/wazlab-test-authd-XXXXXX";
static char keys_path[300];
static int port;
static SSL_CTX *client_ctx;

/* Writes a self-signed EC certificate and key for 127.0.0.1. */
static int make_cert(const char *cert_path, const char *key_path)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
    EVP_PKEY *pkey = NULL;
    X509 *x = X509_new();
    FILE *fp;

    if (!pctx || !x || EVP_PKEY_keygen_init(pctx) <= 0 ||
        EVP_PKEY_CTX_set_ec_paramgen_curve_nid(pctx, NID_X9_62_prime256v1) <=
            0 ||
        EVP_PKEY_keygen(pctx, &pkey) <= 0)
        return -1;
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"wazlab-test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_sign(x, pkey, EVP_sha256());
    fp = fopen(cert_path, "w");
    PEM_write_X509(fp, x);
    fclose(fp);
    fp = fopen(key_path, "w");
    PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL);
    fclose(fp);
    X509_free(x);
    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(pctx);
    return 0;
}

/*
 * Connects, sends request as is, and reads the reply until the server
 * closes. Returns 0 with the reply in out, or -1. *closed is set when
 * the server ended the connection.
 */
static int enroll(int max_version, const char *request, char *out,
                  size_t out_size, int *closed)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    SSL *ssl = NULL;
    size_t used = 0;
    int fd, r = -1;

    out[0] = '\0';
    *closed = 0;
    sin.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
        goto out;
    ssl = SSL_new(client_ctx);
    if (max_version)
        SSL_set_max_proto_version(ssl, max_version);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1)
        goto out;
    if (SSL_write(ssl, request, (int)strlen(request)) != (int)strlen(request))
        goto out;
    for (;;) {
        int n = SSL_read(ssl, out + used, (int)(out_size - 1 - used));

        if (n <= 0) {
            *closed = SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN ||
                      SSL_get_error(ssl, n) == SSL_ERROR_SYSCALL;
            break;
        }
        used += (size_t)n;
    }
    out[used] = '\0';
    r = 0;
out:
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    return r;
}

struct job {
    int index;
    char reply[512];
    int closed;
    int r;
};

static void *enroll_thread(void *arg)
{
    struct job *job = arg;
    char request[128];

    snprintf(request, sizeof(request), "OSSEC A:'agent-%02d' V:'v4.14.7'\n",
             job->index);
    job->r = enroll(job->index % 2 ? TLS1_2_VERSION : 0, request, job->reply,
                    sizeof(job->reply), &job->closed);
    return NULL;
}

static int count_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    int n = 0, c;

    if (!fp)
        return -1;
    while ((c = fgetc(fp)) != EOF)
        n += c == '\n';
    fclose(fp);
    return n;
}

static void check_concurrent(struct wl_native *native)
{
    static struct job jobs[CLIENTS];
    pthread_t threads[CLIENTS];
    int ids[CLIENTS + 1] = {0};
    int good = 0, distinct = 1, usable = 0;

    for (int i = 0; i < CLIENTS; i++) {
        jobs[i].index = i;
        pthread_create(&threads[i], NULL, enroll_thread, &jobs[i]);
    }
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(threads[i], NULL);

    for (int i = 0; i < CLIENTS; i++) {
        char id[16], name[64], ip[64], key[128], expected[64];
        int n;

        snprintf(expected, sizeof(expected), "agent-%02d", i);
        if (jobs[i].r != 0 ||
            sscanf(jobs[i].reply, "OSSEC K:'%15s %63s %63s %127[^']'", id, name,
                   ip, key) != 4 ||
            strcmp(name, expected) != 0 || strcmp(ip, "any") != 0 ||
            strlen(key) != 64 || !jobs[i].closed) {
            tap_diag("client %d: r=%d closed=%d reply \"%s\"", i, jobs[i].r,
                     jobs[i].closed, jobs[i].reply);
            continue;
        }
        good++;
        n = atoi(id);
        if (n < 1 || n > CLIENTS || ids[n]++)
            distinct = 0;

        {
            struct wl_key_entry e;
            struct wl_native_peer peer = {.connection_id = 100 + (unsigned)i,
                                          .ip = "127.0.0.1"};
            struct wl_native_result res;
            unsigned char payload[256];
            size_t len = 0;

            memset(&e, 0, sizeof(e));
            snprintf(e.id, sizeof(e.id), "%s", id);
            wl_keys_derive(id, name, key, e.enc_key);
            wl_secure_encode(WL_SECURE_AES, e.enc_key, id, 1, 0, 1,
                             "#!-agent startup {\"version\":\"v4.14.7\"}", 38,
                             payload, sizeof(payload), &len);
            if (wl_native_handle(native, &peer, payload, len, &res) == 0 &&
                res.reply)
                usable++;
            wl_native_result_clear(&res);
            wl_native_peer_closed(native, &peer);
        }
    }
    is_int(good, CLIENTS, "concurrent: every client enrolled");
    ok(distinct, "concurrent: ids distinct and in 001..%03d", CLIENTS);
    is_int(usable, CLIENTS, "concurrent: keys accepted on 1514 at once");
    is_int(count_lines(keys_path), CLIENTS, "concurrent: client.keys saved");
}

static void check_errors(void)
{
    char reply[512];
    int closed;

    enroll(0, "OSSEC A:'agent-00'\n", reply, sizeof(reply), &closed);
    is_str(reply, "ERROR: Duplicate agent name: agent-00. Unable to add agent",
           "duplicate: reply");
    ok(closed, "duplicate: connection closed by the server");

    enroll(0, "OSSEC A:'x y'\n", reply, sizeof(reply), &closed);
    is_str(reply, "ERROR: Invalid agent name: x y. Unable to add agent",
           "invalid name: reply");

    enroll(TLS1_3_VERSION, "OSSEC A:'tls13-agent'\n", reply, sizeof(reply),
           &closed);
    ok(strncmp(reply, "OSSEC K:'", 9) == 0, "TLS 1.3: enrolled");

    enroll(0, "OSSEC A:'no-newline'", reply, sizeof(reply), &closed);
    is_str(reply, "", "no newline: no reply");
}

static void check_password(struct wl_native *native, SSL_CTX *server_ctx)
{
    struct wl_enroll_config cfg;
    struct wl_authd_options opt = {0};
    struct wl_authd *authd = NULL;
    char err[256], reply[512];
    int closed, saved_port = port;

    wl_enroll_config_default(&cfg);
    cfg.password = "pass-1234";
    opt.address = "127.0.0.1";
    opt.tls = server_ctx;
    opt.native = native;
    opt.enroll = &cfg;
    is_int(wl_authd_start(&opt, &authd, err, sizeof(err)), 0,
           "password: second service started");
    port = wl_authd_port(authd);
    enroll(0, "OSSEC PASS: wrong OSSEC A:'pw-agent'\n", reply, sizeof(reply),
           &closed);
    is_str(reply, "ERROR: Invalid password. Unable to add agent",
           "password: wrong one rejected");
    enroll(0, "OSSEC PASS: pass-1234 OSSEC A:'pw-agent'\n", reply,
           sizeof(reply), &closed);
    ok(strncmp(reply, "OSSEC K:'", 9) == 0, "password: right one accepted");
    wl_authd_stop(authd);
    port = saved_port;
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
    char cert[400], key[400], err[512];
    struct wl_native_options nopt = {0};
    struct wl_native *native = NULL;
    struct wl_enroll_config cfg;
    struct wl_authd_options opt = {0};
    struct wl_authd *authd = NULL;
    struct wl_authd_stats stats;
    SSL_CTX *server_ctx = NULL;

    wl_log_init("test-authd", WL_LOG_ERROR);
    signal(SIGPIPE, SIG_IGN); /* a closed peer is an error, not death */
    if (!mkdtemp(dir)) {
        printf("Bail out! cannot create a temporary folder\n");
        return 1;
    }
    snprintf(keys_path, sizeof(keys_path), "%s/client.keys", dir);
    snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
    snprintf(key, sizeof(key), "%s/key.pem", dir);
    ok(make_cert(cert, key) == 0, "setup: test certificate made");
    is_int(wl_authd_tls_new(cert, key, &server_ctx, err, sizeof(err)), 0,
           "setup: server TLS context");
    client_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);

    nopt.keys_path = keys_path;
    is_int(wl_native_new(&nopt, &native), 0, "setup: keys store");
    wl_enroll_config_default(&cfg);
    cfg.manager_name = "wazlab-test-manager";
    opt.address = "127.0.0.1";
    opt.port = 0;
    opt.tls = server_ctx;
    opt.native = native;
    opt.enroll = &cfg;
    opt.timeout_ms = 1000;
    is_int(wl_authd_start(&opt, &authd, err, sizeof(err)), 0,
           "setup: enrollment service started");
    if (!authd) {
        tap_diag("%s", err);
        return tap_done();
    }
    port = wl_authd_port(authd);
    ok(port > 0, "setup: listening on an ephemeral port");

    check_concurrent(native);
    check_errors();
    check_password(native, server_ctx);

    wl_authd_get_stats(authd, &stats);
    is_int(stats.enrolled, CLIENTS + 1, "stats: enrolled");
    is_int(stats.refused, 2, "stats: refused");
    is_int(stats.failed, 1, "stats: failed");
    wl_authd_stop(authd);
    wl_native_free(native);
    SSL_CTX_free(server_ctx);
    SSL_CTX_free(client_ctx);
    remove_dir();
    wl_secure_cleanup();
    return tap_done();
}
