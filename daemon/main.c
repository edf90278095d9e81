/*
 * wazlabd: command line, startup and shutdown. The work is done by the
 * server (event loop thread), the pipeline (analysis threads) and the
 * database writer (one thread).
 */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/agentids.h"
#include "daemon/agentsvc.h"
#include "daemon/confcheck.h"
#include "daemon/config.h"
#include "daemon/error.h"
#include "daemon/log.h"
#include "daemon/pipeline.h"
#include "daemon/server.h"
#include "daemon/tls.h"
#include "db/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <openssl/ssl.h>

#define DEFAULT_CONFIG WL_SYSCONFDIR "/ossec.conf"
#define DEFAULT_DATA_DIR WL_LOCALSTATEDIR
#define LOG_FILE_NAME "wazlabd.log"

struct cli {
    const char *config_file; /* -c; NULL: DEFAULT_CONFIG when present */
    const char *data_dir;    /* -D */
    int foreground;          /* -f */
    int check_only;          /* -t */
    int print_config;        /* -T */
    int debug;               /* -d */
};

/* The parts main() started, kept so that stop_all() stops them in order. */
struct daemon_state {
    struct wl_config cfg;
    char data_dir[PATH_MAX];
    char db_path[PATH_MAX];
    int ready_fd; /* readiness pipe to the waiting parent, or -1 */
    struct wl_agentids *agent_ids;
    struct wl_agentsvc *agents; /* client.keys, native protocol, 1515 */
    struct wl_writer *writer;
    SSL_CTX *tls;
    struct wl_server *server;
    struct wl_pipeline *pipeline;
    int threads;
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: wazlabd [-fdtT] [-c FILE] [-D DIR]\n"
            "Receives Wazuh agent events over TLS, analyses them and stores "
            "them in SQLite.\n"
            "\n"
            "  -c FILE    configuration file (default %s, read when it "
            "exists)\n"
            "  -D DIR     data directory for the database, certificates and "
            "log\n"
            "             (default %s)\n"
            "  -f         stay in the foreground and log to stderr\n"
            "  -t         check the configuration and exit\n"
            "  -T         print the effective configuration as XML and exit\n"
            "  -d         log debug messages\n"
            "  --options  list every configuration option with its default\n"
            "  --help     show this help\n"
            "  --version  show the version\n",
            DEFAULT_CONFIG, DEFAULT_DATA_DIR);
}

static int parse_cli(int argc, char **argv, struct cli *cli)
{
    static const struct option long_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"options", no_argument, NULL, 'O'},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(cli, 0, sizeof(*cli));
    while ((c = getopt_long(argc, argv, "c:D:fdtTh", long_options, NULL)) !=
           -1) {
        switch (c) {
        case 'c':
            cli->config_file = optarg;
            break;
        case 'D':
            if (optarg[0] == '\0') {
                fprintf(stderr, "wazlabd: -D needs a directory name, not "
                                "an empty string\n");
                usage(stderr);
                return WL_EINVAL;
            }
            cli->data_dir = optarg;
            break;
        case 'f':
            cli->foreground = 1;
            break;
        case 'd':
            cli->debug = 1;
            break;
        case 't':
            cli->check_only = 1;
            break;
        case 'T':
            cli->print_config = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("wazlabd %s\n", PACKAGE_VERSION);
            exit(0);
        case 'O':
            wl_config_print_table(stdout);
            exit(0);
        default:
            usage(stderr);
            return WL_EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "wazlabd: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return WL_EINVAL;
    }
    return 0;
}

/* Reads the configuration named by -c, or the default file if present. */
static int load_config(const struct cli *cli, struct wl_config *cfg)
{
    const char *path = cli->config_file;
    char err[4096];
    struct stat st;
    int r;

    if (path == NULL) {
        if (stat(DEFAULT_CONFIG, &st) != 0)
            return 0;
        path = DEFAULT_CONFIG;
    }
    r = wl_config_load(cfg, path, err, sizeof(err));
    if (r == 0)
        r = wl_config_check(cfg, err, sizeof(err));
    if (r != 0) {
        fprintf(stderr, "%s\n", err);
        fprintf(stderr, "wazlabd: configuration %s is invalid\n", path);
    }
    return r;
}

/* Runs the startup checks of -t beyond the file and reports the verdict. */
static int check_startup(const struct wl_config *cfg)
{
    const char *name = cfg->file ? cfg->file : "(built-in defaults)";
    char err[8192];
    int r = wl_config_check_startup(cfg, err, sizeof(err));

    if (r != 0) {
        fprintf(stderr, "%s\n", r == WL_ENOMEM ? "out of memory" : err);
        fprintf(stderr, "wazlabd: configuration %s is invalid\n", name);
        return r;
    }
    printf("configuration %s is valid\n", name);
    return 0;
}

/* Creates dir and its parents (mode 0750 for new ones). */
static int make_dirs(const char *dir)
{
    char path[PATH_MAX];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof(path))
        return WL_EINVAL;
    memcpy(path, dir, len + 1);
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0750) != 0 && errno != EEXIST)
            return WL_EIO;
        *p = '/';
    }
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return WL_EIO;
    return 0;
}

static int prepare_data_dir(const struct cli *cli, struct daemon_state *st)
{
    const char *dir = cli->data_dir ? cli->data_dir : DEFAULT_DATA_DIR;
    const char *db = st->cfg.db_path;

    int r = make_dirs(dir);

    if (r == WL_EINVAL) {
        fprintf(stderr, "wazlabd: data directory path is too long: %s\n", dir);
        return r;
    }
    if (r != 0 || realpath(dir, st->data_dir) == NULL) {
        fprintf(stderr, "wazlabd: cannot create data directory %s: %s\n", dir,
                strerror(errno));
        return WL_EIO;
    }
    if (db[0] == '/')
        snprintf(st->db_path, sizeof(st->db_path), "%s", db);
    else if ((size_t)snprintf(st->db_path, sizeof(st->db_path), "%s/%s",
                              st->data_dir, db) >= sizeof(st->db_path)) {
        fprintf(stderr, "wazlabd: database path too long\n");
        return WL_ERANGE;
    }
    return 0;
}

/*
 * Detaches from the terminal (fork, setsid, fork). The parent waits on a pipe
 * until the daemon reports "ready" (exit 0) or dies during startup (exit 1), so
 * a start script gets startup errors as the exit status.
 */
static int daemonize(struct daemon_state *st, const char *log_path)
{
    int fds[2];
    pid_t pid;
    int null_fd;

    if (pipe(fds) != 0)
        return WL_EIO;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        return WL_EIO;
    if (pid > 0) {
        char status = 1;

        close(fds[1]);
        if (read(fds[0], &status, 1) != 1 || status != 0) {
            fprintf(stderr, "wazlabd: failed to start; see %s\n", log_path);
            _exit(1);
        }
        _exit(0);
    }
    close(fds[0]);
    if (setsid() < 0)
        _exit(1);
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);
    /* The working directory stays, so that relative paths in the
     * configuration mean the same with and without -f. */
    null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        dup2(null_fd, STDERR_FILENO);
        if (null_fd > STDERR_FILENO)
            close(null_fd);
    }
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    st->ready_fd = fds[1];
    return 0;
}

static FILE *open_log_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    FILE *f;

    if (fd < 0)
        return NULL;
    f = fdopen(fd, "a");
    if (f == NULL)
        close(fd);
    return f;
}

static int start_writer(struct daemon_state *st)
{
    struct wl_writer_options opt;
    char alerts_path[PATH_MAX];
    char err[1024] = "";
    int r;

    memset(&opt, 0, sizeof(opt));
    opt.db_path = st->db_path;
    if (st->cfg.jsonout_output) {
        if ((size_t)snprintf(alerts_path, sizeof(alerts_path), "%s/alerts.json",
                             st->data_dir) >= sizeof(alerts_path)) {
            wl_log_error("data directory path too long");
            return WL_ERANGE;
        }
        opt.alerts_json_path = alerts_path;
    }
    opt.queue_capacity = (size_t)st->cfg.db_queue_size;
    opt.batch_max = (size_t)st->cfg.db_batch_size;
    opt.flush_ms = st->cfg.db_flush_interval_ms;
    r = wl_writer_start(&opt, &st->writer, err, sizeof(err));
    if (r == WL_EBUSY) {
        wl_log_error("database %s is in use by another process (is another "
                     "wazlabd running on this data directory?): %s",
                     st->db_path, err);
        return r;
    }
    if (r != 0) {
        wl_log_error("cannot open database %s: %s", st->db_path, err);
        return r;
    }
    return 0;
}

static int start_tls(struct daemon_state *st)
{
    struct wl_tls_options opt;
    char err[1024];
    int r;

    opt.cert_file = st->cfg.remote_ssl_cert;
    opt.key_file = st->cfg.remote_ssl_key;
    opt.ca_file = st->cfg.remote_ssl_ca;
    opt.data_dir = st->data_dir;
    r = wl_tls_server_new(&opt, &st->tls, err, sizeof(err));
    if (r != 0)
        wl_log_error("TLS setup failed: %s", err);
    return r;
}

static int start_network(struct daemon_state *st)
{
    struct wl_server_options sopt;
    struct wl_pipeline_options popt;
    char err[1024];
    int r;

    memset(&sopt, 0, sizeof(sopt));
    sopt.address = st->cfg.remote_local_ip;
    sopt.port = st->cfg.remote_port;
    sopt.tls = st->tls;
    sopt.mutual_tls = st->cfg.remote_ssl_ca != NULL;
    sopt.agent_ids = st->agent_ids;
    sopt.handshake_timeout_ms = st->cfg.remote_handshake_timeout * 1000;
    sopt.recv_timeout_ms = st->cfg.remote_recv_timeout * 1000;
    sopt.max_connections = st->cfg.remote_max_connections;
    sopt.native = wl_agentsvc_native(st->agents);
    sopt.native_udp = strstr(st->cfg.remote_protocol, "udp") != NULL;
    r = wl_server_new(&sopt, &st->server, err, sizeof(err));
    if (r != 0) {
        wl_log_error("%s", err);
        return r;
    }

    memset(&popt, 0, sizeof(popt));
    popt.config = &st->cfg;
    st->threads = st->cfg.analysis_threads;
    if (st->threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        st->threads = n > 0 ? (int)n : 1;
    }
    popt.threads = st->threads;
    popt.queue_capacity = (size_t)st->cfg.remote_queue_size;
    if (popt.queue_capacity < 4)
        popt.queue_capacity = 4;
    popt.writer = st->writer;
    wl_server_drain_callback(st->server, &popt.on_drain, &popt.drain_arg);
    r = wl_pipeline_start(&popt, &st->pipeline, err, sizeof(err));
    if (r != 0) {
        wl_log_error("cannot start the analysis threads: %s", err);
        return r;
    }
    wl_server_set_pipeline(st->server, st->pipeline);
    return 0;
}

static int start_all(struct daemon_state *st)
{
    char err[1024];
    int r;

    r = wl_agentids_load(st->db_path, &st->agent_ids, err, sizeof(err));
    if (r != 0) {
        wl_log_error("%s", err);
        return r;
    }
    r = start_writer(st);
    if (r != 0)
        return r;
    wl_agentids_set_writer(st->agent_ids, st->writer);
    r = start_tls(st);
    if (r != 0)
        return r;
    r = wl_agentsvc_start(&st->cfg, st->data_dir, st->writer, &st->agents, err,
                          sizeof(err));
    if (r != 0) {
        wl_log_error("%s", err);
        return r;
    }
    r = wl_agentsvc_share_ids(st->agents, st->agent_ids);
    if (r != 0)
        return r;
    return start_network(st);
}

/* Stops what start_all() started, in reverse order, logging counters. */
static void stop_all(struct daemon_state *st, int log_counters)
{
    struct wl_pipeline_stats pstats = {0};
    struct wl_server_stats sstats = {0};
    struct wl_writer_stats wstats = {0};

    /* No new agents while the rest stops. */
    wl_agentsvc_stop_enrollment(st->agents);
    if (st->server != NULL)
        wl_server_get_stats(st->server, &sstats);
    /* The pipeline goes first: its threads still call the server. */
    wl_pipeline_stop(st->pipeline, &pstats);
    wl_server_free(st->server);
    /* After the server, which uses its keys; before the writer, which
     * stores its agent updates. */
    wl_agentsvc_free(st->agents, log_counters);
    if (st->writer != NULL)
        wl_writer_stop(st->writer, &wstats);
    SSL_CTX_free(st->tls);
    wl_agentids_free(st->agent_ids);
    /* Every thread has stopped: report what rate limits held back. */
    wl_log_flush_limited(1);
    if (log_counters) {
        wl_log_info("connections %lu, rejected %lu, frames %lu, frames "
                    "rejected %lu, bytes %llu, read pauses %lu",
                    sstats.connections, sstats.rejected, sstats.frames,
                    sstats.frames_rejected, sstats.bytes, sstats.pauses);
        wl_log_info("connections timed out %lu, over the limit %lu, accept "
                    "errors %lu, old TLS versions refused %lu",
                    sstats.timeouts, sstats.over_limit, sstats.accept_errors,
                    sstats.old_tls);
        wl_log_info("analysed %lu, dropped by the decoders %lu, analysis "
                    "failures %lu, records %lu",
                    pstats.analysed, pstats.dropped, pstats.failed,
                    pstats.records);
        wl_log_info("events written %lu, alerts written %lu, transactions "
                    "%lu, database errors %lu",
                    wstats.events_written, wstats.alerts_written,
                    wstats.transactions, wstats.errors);
    }
}

static int run_daemon(const struct cli *cli, struct daemon_state *st)
{
    char log_path[PATH_MAX];
    FILE *log_file = NULL;
    int r;

    if ((size_t)snprintf(log_path, sizeof(log_path), "%s/%s", st->data_dir,
                         LOG_FILE_NAME) >= sizeof(log_path))
        return WL_ERANGE;
    if (!cli->foreground) {
        log_file = open_log_file(log_path);
        if (log_file == NULL) {
            fprintf(stderr, "wazlabd: cannot open log file %s: %s\n", log_path,
                    strerror(errno));
            return WL_EIO;
        }
        if (daemonize(st, log_path) != 0) {
            fprintf(stderr, "wazlabd: cannot detach: %s\n", strerror(errno));
            fclose(log_file);
            return WL_EIO;
        }
        wl_log_set_stream(log_file);
    }
    wl_log_info("wazlabd %s starting; configuration %s; data directory %s",
                PACKAGE_VERSION,
                st->cfg.file ? st->cfg.file : "(built-in defaults)",
                st->data_dir);
    wl_config_log_settings(&st->cfg);
    r = start_all(st);
    if (r != 0) {
        stop_all(st, 0);
        wl_log_error("startup failed; exiting");
        goto out;
    }
    wl_log_info("ready: %d analysis threads, queue of %d messages", st->threads,
                st->cfg.remote_queue_size);
    if (st->ready_fd >= 0) {
        char ok = 0;

        if (write(st->ready_fd, &ok, 1) != 1)
            wl_log_warn("cannot report readiness to the starting process");
        close(st->ready_fd);
        st->ready_fd = -1;
    }
    wl_server_run(st->server);
    stop_all(st, 1);
    wl_log_info("stopped");
out:
    if (log_file != NULL) {
        wl_log_set_stream(NULL);
        fclose(log_file);
    }
    return r;
}

int main(int argc, char **argv)
{
    struct daemon_state st;
    struct cli cli;
    int r;

    memset(&st, 0, sizeof(st));
    st.ready_fd = -1;
    if (parse_cli(argc, argv, &cli) != 0)
        return 2;
    wl_log_init("wazlabd", cli.debug ? WL_LOG_DEBUG : WL_LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    umask(027);
    xmlInitParser();

    r = wl_config_init(&st.cfg);
    if (r == 0)
        r = load_config(&cli, &st.cfg);
    if (r != 0)
        goto out;
    if (cli.check_only) {
        r = check_startup(&st.cfg);
        goto out;
    }
    if (cli.print_config) {
        wl_config_print(&st.cfg, stdout);
        goto out;
    }
    r = prepare_data_dir(&cli, &st);
    if (r == 0)
        r = run_daemon(&cli, &st);
out:
    wl_config_free(&st.cfg);
    xmlCleanupParser();
    return r == 0 ? 0 : 1;
}
