/*
 * Configuration: the option table, the XML reader and the printer.
 *
 * Each option is one row of config_options[]: its element path, type,
 * range, default and help. Defaults are written as they would appear in
 * the file and go through the same parser as file values, so a default
 * can never be out of range.
 */
#include <config.h> /* autoconf's header, not daemon/config.h */

#include "daemon/config.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

enum option_type {
    OPT_BOOL,    /* "yes" or "no" into an int */
    OPT_INT,     /* decimal integer from min to max into an int */
    OPT_TIME,    /* integer with an optional s, m, h, d or w suffix */
    OPT_STRING,  /* text into a char *; choices restrict it when set */
    OPT_ADDRESS, /* IPv4 or IPv6 literal into a char * */
    OPT_LIST,    /* each occurrence appends to a struct wl_config_list */
};

struct option {
    /* Element path below <ossec_config>; "@name" names an attribute. */
    const char *path;
    enum option_type type;
    long long min;
    long long max;
    const char *default_value; /* as written in a file; NULL for none */
    const char *const *choices;
    size_t offset; /* of the field in struct wl_config */
    const char *help;
};

#define FIELD(name) offsetof(struct wl_config, name)

static const char *const connection_choices[] = {"secure", NULL};
static const char *const protocol_choices[] = {"tcp", "udp", "tcp,udp",
                                               "udp,tcp", NULL};

static const struct option config_options[] = {
    {"global/jsonout_output", OPT_BOOL, 0, 0, "yes", NULL,
     FIELD(jsonout_output), "write alerts to alerts.json in the data dir"},
    {"global/agents_disconnection_time", OPT_TIME, 1, 315360000, "15m", NULL,
     FIELD(agents_disconnection_time),
     "mark a Wazuh agent disconnected after this long without a message "
     "(s, m, h, d, w)"},
    {"global/logall", OPT_BOOL, 0, 0, "no", NULL, FIELD(logall),
     "archive every received message in the events table"},
    {"global/logall_json", OPT_BOOL, 0, 0, "no", NULL, FIELD(logall_json),
     "same as logall (Wazuh's archives.json switch)"},

    {"remote/connection", OPT_STRING, 0, 0, "secure", connection_choices,
     FIELD(remote_connection), "kind of listener; only secure (agents)"},
    {"remote/port", OPT_INT, 1, 65535, "1514", NULL, FIELD(remote_port),
     "TCP port for agent events"},
    {"remote/protocol", OPT_STRING, 0, 0, "tcp", protocol_choices,
     FIELD(remote_protocol),
     "transport; TCP always listens, udp adds agent messages over UDP"},
    {"remote/local_ip", OPT_ADDRESS, 0, 0, "0.0.0.0", NULL,
     FIELD(remote_local_ip), "address to listen on"},
    {"remote/queue_size", OPT_INT, 1, 262144, "16384", NULL,
     FIELD(remote_queue_size),
     "received messages waiting for analysis before reads pause"},
    {"remote/ssl_ca", OPT_STRING, 0, 0, NULL, NULL, FIELD(remote_ssl_ca),
     "PEM CA file; when set, agents need a certificate it signed"},
    {"remote/ssl_cert", OPT_STRING, 0, 0, NULL, NULL, FIELD(remote_ssl_cert),
     "PEM server certificate; none: self-signed in the data dir"},
    {"remote/ssl_key", OPT_STRING, 0, 0, NULL, NULL, FIELD(remote_ssl_key),
     "PEM private key of ssl_cert"},
    {"remote/handshake_timeout", OPT_TIME, 1, 3600, "30s", NULL,
     FIELD(remote_handshake_timeout),
     "close connections that have not finished TLS by then"},
    {"remote/recv_timeout", OPT_TIME, 0, 86400, "120s", NULL,
     FIELD(remote_recv_timeout),
     "close connections that complete no frame for this long; 0: never"},
    {"remote/max_connections", OPT_INT, 0, 1048576, "4096", NULL,
     FIELD(remote_max_connections),
     "connections open at once; more are closed at accept; 0: no limit"},
    {"remote/verify_msg_id", OPT_BOOL, 0, 0, "no", NULL,
     FIELD(remote_verify_msg_id),
     "reject Wazuh agent messages with replayed counters"},

    {"auth/disabled", OPT_BOOL, 0, 0, "no", NULL, FIELD(auth_disabled),
     "turn enrollment off"},
    {"auth/port", OPT_INT, 1, 65535, "1515", NULL, FIELD(auth_port),
     "TCP port for enrollment"},
    {"auth/timeout", OPT_TIME, 1, 3600, "10s", NULL, FIELD(auth_timeout),
     "longest wait for each read or write of an enrollment client"},
    {"auth/use_source_ip", OPT_BOOL, 0, 0, "no", NULL,
     FIELD(auth_use_source_ip), "register agents with their source IP"},
    {"auth/purge", OPT_BOOL, 0, 0, "yes", NULL, FIELD(auth_purge),
     "delete removed agents from the key list"},
    {"auth/use_password", OPT_BOOL, 0, 0, "no", NULL, FIELD(auth_use_password),
     "require the enrollment password"},
    {"auth/ciphers", OPT_STRING, 0, 0,
     "HIGH:!ADH:!EXP:!MD5:!RC4:!3DES:!CAMELLIA:@STRENGTH", NULL,
     FIELD(auth_ciphers), "OpenSSL cipher list for TLS 1.2"},
    {"auth/ssl_agent_ca", OPT_STRING, 0, 0, NULL, NULL,
     FIELD(auth_ssl_agent_ca), "PEM CA that agent certificates must match"},
    {"auth/ssl_verify_host", OPT_BOOL, 0, 0, "no", NULL,
     FIELD(auth_ssl_verify_host), "check the agent's host name or address"},
    {"auth/ssl_manager_cert", OPT_STRING, 0, 0, NULL, NULL,
     FIELD(auth_ssl_manager_cert), "PEM certificate for enrollment"},
    {"auth/ssl_manager_key", OPT_STRING, 0, 0, NULL, NULL,
     FIELD(auth_ssl_manager_key), "PEM private key for enrollment"},
    {"auth/ssl_auto_negotiate", OPT_BOOL, 0, 0, "no", NULL,
     FIELD(auth_ssl_auto_negotiate), "allow TLS versions below 1.2"},
    {"auth/force/enabled", OPT_BOOL, 0, 0, "yes", NULL,
     FIELD(auth_force_enabled), "replace an agent enrolling again"},
    {"auth/force/key_mismatch", OPT_BOOL, 0, 0, "yes", NULL,
     FIELD(auth_force_key_mismatch), "replace when the key differs"},
    {"auth/force/disconnected_time", OPT_TIME, 0, 315360000, "1h", NULL,
     FIELD(auth_force_disconnected_time),
     "replace only agents disconnected this long (s, m, h, d, w)"},
    {"auth/force/disconnected_time@enabled", OPT_BOOL, 0, 0, "yes", NULL,
     FIELD(auth_force_disconnected_time_enabled), "apply disconnected_time"},
    {"auth/force/after_registration_time", OPT_TIME, 0, 315360000, "1h", NULL,
     FIELD(auth_force_after_registration_time),
     "replace only agents registered this long ago"},

    {"ruleset/decoder_dir", OPT_LIST, 0, 0, NULL, NULL, FIELD(decoder_dirs),
     "directory of decoder XML files (repeatable)"},
    {"ruleset/decoder_include", OPT_LIST, 0, 0, NULL, NULL,
     FIELD(decoder_includes), "extra decoder file (repeatable)"},
    {"ruleset/decoder_exclude", OPT_LIST, 0, 0, NULL, NULL,
     FIELD(decoder_excludes), "decoder file name to skip (repeatable)"},
    {"ruleset/rule_dir", OPT_LIST, 0, 0, NULL, NULL, FIELD(rule_dirs),
     "directory of rule XML files (repeatable); with no rule_dir "
     "and no rule_include, the built-in default ruleset"},
    {"ruleset/rule_include", OPT_LIST, 0, 0, NULL, NULL, FIELD(rule_includes),
     "extra rule file (repeatable)"},
    {"ruleset/rule_exclude", OPT_LIST, 0, 0, NULL, NULL, FIELD(rule_excludes),
     "rule file name to skip (repeatable)"},
    {"ruleset/list", OPT_LIST, 0, 0, NULL, NULL, FIELD(lists),
     "CDB list file (repeatable)"},

    {"alerts/log_alert_level", OPT_INT, 0, 16, "3", NULL,
     FIELD(log_alert_level), "lowest rule level stored as an alert"},

    {"analysis/threads", OPT_INT, 0, 256, "0", NULL, FIELD(analysis_threads),
     "analysis threads; 0: one per processor"},

    {"database/path", OPT_STRING, 0, 0, "wazlab.db", NULL, FIELD(db_path),
     "SQLite file; relative to the data directory"},
    {"database/batch_size", OPT_INT, 1, 100000, "1024", NULL,
     FIELD(db_batch_size), "maximum rows per transaction"},
    {"database/flush_interval_ms", OPT_INT, 1, 60000, "200", NULL,
     FIELD(db_flush_interval_ms), "commit at least this often (ms)"},
    {"database/queue_size", OPT_INT, 1, 1048576, "8192", NULL,
     FIELD(db_queue_size), "records waiting for the database writer"},
};

#define OPTION_COUNT (sizeof(config_options) / sizeof(config_options[0]))

_Static_assert(OPTION_COUNT <= WL_CONFIG_MAX_OPTIONS,
               "raise WL_CONFIG_MAX_OPTIONS");

/* Largest configuration file read; ossec.conf files are a few KiB. */
#define CONFIG_FILE_MAX (4 * 1024 * 1024)

/* Element that wraps a file so that it may hold several root blocks. */
#define WRAPPER_NAME "ossec_config_file"

/* Parse state: where errors go and how many there were. */
struct load_context {
    struct wl_config *cfg;
    const char *name;
    char *err;
    size_t err_size;
    size_t err_used;
    int errors;
    long file_lines; /* lines of the file: a later line number is capped */
};

static void *field_of(struct wl_config *cfg, const struct option *opt)
{
    return (char *)cfg + opt->offset;
}

static const void *const_field_of(const struct wl_config *cfg,
                                  const struct option *opt)
{
    return (const char *)cfg + opt->offset;
}

static void add_error(struct load_context *ctx, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_error(struct load_context *ctx, long line, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    int n;

    ctx->errors++;
    /* libxml2 counts the closing tag of the wrapper, after the file. */
    if (ctx->file_lines > 0 && line > ctx->file_lines)
        line = ctx->file_lines;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (ctx->err == NULL || ctx->err_size == 0)
        return;
    if (ctx->err_used >= ctx->err_size - 1)
        return;
    if (line > 0)
        n = snprintf(ctx->err + ctx->err_used, ctx->err_size - ctx->err_used,
                     "%s%s:%ld: %s", ctx->err_used ? "\n" : "", ctx->name, line,
                     text);
    else
        n = snprintf(ctx->err + ctx->err_used, ctx->err_size - ctx->err_used,
                     "%s%s: %s", ctx->err_used ? "\n" : "", ctx->name, text);
    if (n > 0)
        ctx->err_used += (size_t)n;
    if (ctx->err_used >= ctx->err_size)
        ctx->err_used = ctx->err_size - 1;
}

static const struct option *find_option(const char *path)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (strcmp(config_options[i].path, path) == 0)
            return &config_options[i];
    }
    return NULL;
}

/* Returns 1 when some option lives below the block at path. */
static int is_block(const char *path)
{
    size_t len = strlen(path);

    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *p = config_options[i].path;

        if (strncmp(p, path, len) == 0 && p[len] == '/')
            return 1;
    }
    return 0;
}

static void list_free(struct wl_config_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static int list_append(struct wl_config_list *list, const char *value)
{
    char **items;
    char *copy = strdup(value);

    if (copy == NULL)
        return WL_ENOMEM;
    items = realloc(list->items, (list->count + 1) * sizeof(*items));
    if (items == NULL) {
        free(copy);
        return WL_ENOMEM;
    }
    items[list->count++] = copy;
    list->items = items;
    return 0;
}

static int parse_integer(const char *text, long long *out)
{
    char *end;

    if (*text == '\0' || isspace((unsigned char)*text))
        return WL_EINVAL;
    errno = 0;
    *out = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return WL_EINVAL;
    return 0;
}

static int parse_time(const char *text, long long *out)
{
    static const struct {
        char suffix;
        long long seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
    size_t len = strlen(text);
    long long multiplier = 1;
    char number[32];

    if (len == 0 || len >= sizeof(number))
        return WL_EINVAL;
    memcpy(number, text, len + 1);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (number[len - 1] == units[i].suffix) {
            multiplier = units[i].seconds;
            number[len - 1] = '\0';
            break;
        }
    }
    if (parse_integer(number, out) != 0)
        return WL_EINVAL;
    if (*out > LLONG_MAX / multiplier || *out < 0)
        return WL_ERANGE;
    *out *= multiplier;
    return 0;
}

/*
 * Stores value into the option's field. Returns 0, WL_ENOMEM, or WL_EINVAL
 * with a description of the expected value in expected.
 */
static int set_value(struct wl_config *cfg, const struct option *opt,
                     const char *value, char *expected, size_t size)
{
    void *field = field_of(cfg, opt);
    long long number;
    unsigned char addr[16];
    char *copy;

    switch (opt->type) {
    case OPT_BOOL:
        if (strcmp(value, "yes") == 0) {
            *(int *)field = 1;
        } else if (strcmp(value, "no") == 0) {
            *(int *)field = 0;
        } else {
            snprintf(expected, size, "expected yes or no");
            return WL_EINVAL;
        }
        return 0;
    case OPT_INT:
    case OPT_TIME:
        if ((opt->type == OPT_INT ? parse_integer(value, &number)
                                  : parse_time(value, &number)) != 0 ||
            number < opt->min || number > opt->max) {
            snprintf(expected, size, "expected %s from %lld to %lld",
                     opt->type == OPT_INT ? "an integer" : "a time in seconds",
                     opt->min, opt->max);
            return WL_EINVAL;
        }
        if (opt->type == OPT_INT)
            *(int *)field = (int)number;
        else
            *(long *)field = (long)number;
        return 0;
    case OPT_ADDRESS:
        if (inet_pton(AF_INET, value, addr) != 1 &&
            inet_pton(AF_INET6, value, addr) != 1) {
            snprintf(expected, size, "expected an IPv4 or IPv6 address");
            return WL_EINVAL;
        }
        break;
    case OPT_STRING:
        if (opt->choices != NULL) {
            size_t i;

            for (i = 0; opt->choices[i] != NULL; i++) {
                if (strcasecmp(value, opt->choices[i]) == 0) {
                    value = opt->choices[i];
                    break;
                }
            }
            if (opt->choices[i] == NULL) {
                snprintf(expected, size,
                         "expected %s (the only value "
                         "supported)",
                         opt->choices[0]);
                return WL_EINVAL;
            }
        }
        if (*value == '\0' && opt->default_value != NULL) {
            snprintf(expected, size, "expected a value");
            return WL_EINVAL;
        }
        break;
    case OPT_LIST:
        if (*value == '\0') {
            snprintf(expected, size, "expected a path");
            return WL_EINVAL;
        }
        return list_append(field, value);
    }

    /* OPT_STRING and OPT_ADDRESS: an empty value means none. */
    copy = NULL;
    if (*value != '\0') {
        copy = strdup(value);
        if (copy == NULL)
            return WL_ENOMEM;
    }
    free(*(char **)field);
    *(char **)field = copy;
    return 0;
}

int wl_config_init(struct wl_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *opt = &config_options[i];
        char expected[128];
        int r;

        if (opt->default_value == NULL)
            continue;
        r = set_value(cfg, opt, opt->default_value, expected, sizeof(expected));
        if (r != 0)
            return r == WL_ENOMEM ? WL_ENOMEM : WL_EINTERNAL;
    }
    return 0;
}

void wl_config_free(struct wl_config *cfg)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *opt = &config_options[i];

        if (opt->type == OPT_LIST)
            list_free(field_of(cfg, opt));
        else if (opt->type == OPT_STRING || opt->type == OPT_ADDRESS) {
            free(*(char **)field_of(cfg, opt));
            *(char **)field_of(cfg, opt) = NULL;
        }
    }
    free(cfg->file);
    cfg->file = NULL;
}

int wl_config_is_set(const struct wl_config *cfg, const char *path)
{
    const struct option *opt = find_option(path);

    if (opt == NULL)
        return -1;
    return cfg->set_line[opt - config_options] != 0 ? 1 : 0;
}

/* Returns the element's text with surrounding whitespace removed. */
static char *element_text(xmlNode *node)
{
    xmlChar *content = xmlNodeGetContent(node);
    char *start;
    char *end;
    char *copy;

    if (content == NULL)
        return strdup("");
    start = (char *)content;
    while (isspace((unsigned char)*start))
        start++;
    end = start + strlen(start);
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    copy = strndup(start, (size_t)(end - start));
    xmlFree(content);
    return copy;
}

/* Returns a readable form of an element path: "remote/port" as <remote><port>.
 */
static void format_path(char *out, size_t size, const char *path)
{
    size_t used = 0;
    const char *p = path;

    out[0] = '\0';
    while (*p != '\0' && used + 3 < size) {
        size_t len = strcspn(p, "/");
        int n = snprintf(out + used, size - used, "<%.*s>", (int)len, p);

        if (n < 0)
            break;
        used += (size_t)n;
        p += len;
        if (*p == '/')
            p++;
    }
    if (used >= size)
        out[size - 1] = '\0';
}

static void apply_value(struct load_context *ctx, const struct option *opt,
                        const char *value, long line, const char *shown)
{
    char expected[128];
    int r = set_value(ctx->cfg, opt, value, expected, sizeof(expected));

    if (r == WL_ENOMEM) {
        add_error(ctx, line, "out of memory reading %s", shown);
        return;
    }
    if (r != 0) {
        add_error(ctx, line, "invalid value \"%.100s\" for %s: %s", value,
                  shown, expected);
        return;
    }
    ctx->cfg->set_line[opt - config_options] = line > 0 ? line : 1;
}

/* Reads the attributes of a leaf element at path. */
static void read_attributes(struct load_context *ctx, xmlNode *node,
                            const char *path)
{
    for (xmlAttr *attr = node->properties; attr != NULL; attr = attr->next) {
        char attr_path[256];
        char shown[300];
        const struct option *opt;
        xmlChar *value;

        snprintf(attr_path, sizeof(attr_path), "%s@%s", path,
                 (const char *)attr->name);
        opt = find_option(attr_path);
        format_path(shown, sizeof(shown), path);
        if (opt == NULL) {
            add_error(ctx, xmlGetLineNo(node), "unknown attribute \"%s\" of %s",
                      (const char *)attr->name, shown);
            continue;
        }
        value = xmlNodeGetContent((xmlNode *)attr);
        snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown),
                 " attribute %s", (const char *)attr->name);
        apply_value(ctx, opt, value ? (const char *)value : "",
                    xmlGetLineNo(node), shown);
        xmlFree(value);
    }
}

static void read_leaf(struct load_context *ctx, xmlNode *node,
                      const struct option *opt)
{
    char shown[256];
    char *value;

    format_path(shown, sizeof(shown), opt->path);
    for (xmlNode *child = node->children; child; child = child->next) {
        if (child->type == XML_ELEMENT_NODE) {
            add_error(ctx, xmlGetLineNo(child),
                      "%s takes a value, not the element <%s>", shown,
                      (const char *)child->name);
            return;
        }
    }
    read_attributes(ctx, node, opt->path);
    value = element_text(node);
    if (value == NULL) {
        add_error(ctx, xmlGetLineNo(node), "out of memory reading %s", shown);
        return;
    }
    apply_value(ctx, opt, value, xmlGetLineNo(node), shown);
    free(value);
}

static int has_text(xmlNode *node)
{
    const xmlChar *p = node->content;

    while (p != NULL && *p != '\0') {
        if (!isspace(*p))
            return 1;
        p++;
    }
    return 0;
}

/* Reads the children of the block element at path ("" for the root). */
static void read_block(struct load_context *ctx, xmlNode *block,
                       const char *path)
{
    char shown[256];

    if (*path == '\0')
        snprintf(shown, sizeof(shown), "<ossec_config>");
    else
        format_path(shown, sizeof(shown), path);

    if (block->properties != NULL)
        add_error(ctx, xmlGetLineNo(block), "unknown attribute \"%s\" of %s",
                  (const char *)block->properties->name, shown);

    for (xmlNode *child = block->children; child; child = child->next) {
        char child_path[256];
        const struct option *opt;

        if (child->type == XML_TEXT_NODE ||
            child->type == XML_CDATA_SECTION_NODE) {
            if (has_text(child))
                add_error(ctx, xmlGetLineNo(child), "unexpected text in %s",
                          shown);
            continue;
        }
        if (child->type != XML_ELEMENT_NODE)
            continue; /* comments and processing instructions */
        snprintf(child_path, sizeof(child_path), "%s%s%s", path,
                 *path ? "/" : "", (const char *)child->name);
        opt = find_option(child_path);
        if (opt != NULL)
            read_leaf(ctx, child, opt);
        else if (is_block(child_path))
            read_block(ctx, child, child_path);
        else
            add_error(ctx, xmlGetLineNo(child), "unknown element <%s> in %s",
                      (const char *)child->name, shown);
    }
}

static void read_document(struct load_context *ctx, xmlNode *wrapper)
{
    for (xmlNode *node = wrapper->children; node; node = node->next) {
        if (node->type == XML_TEXT_NODE) {
            if (has_text(node))
                add_error(ctx, xmlGetLineNo(node),
                          "text outside <ossec_config>");
            continue;
        }
        if (node->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)node->name, "ossec_config") != 0) {
            add_error(ctx, xmlGetLineNo(node),
                      "unknown root element <%s>, expected <ossec_config>",
                      (const char *)node->name);
            continue;
        }
        read_block(ctx, node, "");
    }
}

/*
 * Builds "<wrapper>" + xml + "</wrapper>" so that several root blocks form
 * one document. An XML declaration at the start is blanked out (keeping
 * its newlines) so that line numbers still match the file.
 */
static char *wrap_document(const char *xml, size_t len, size_t *out_len)
{
    static const char open_tag[] = "<" WRAPPER_NAME ">";
    static const char close_tag[] = "</" WRAPPER_NAME ">";
    size_t total = sizeof(open_tag) - 1 + len + sizeof(close_tag) - 1;
    char *doc = malloc(total + 1);
    char *body;
    size_t skip = 0;

    if (doc == NULL)
        return NULL;
    memcpy(doc, open_tag, sizeof(open_tag) - 1);
    body = doc + sizeof(open_tag) - 1;
    memcpy(body, xml, len);
    memcpy(body + len, close_tag, sizeof(close_tag));
    while (skip < len && isspace((unsigned char)body[skip]))
        skip++;
    if (len - skip >= 5 && memcmp(body + skip, "<?xml", 5) == 0) {
        char *end = memmem(body + skip, len - skip, "?>", 2);

        if (end != NULL) {
            for (char *p = body + skip; p < end + 2; p++) {
                if (*p != '\n')
                    *p = ' ';
            }
        }
    }
    *out_len = total;
    return doc;
}

static int only_whitespace(const char *xml, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!isspace((unsigned char)xml[i]))
            return 0;
    }
    return 1;
}

/* Returns the number of lines of xml (a last line without '\n' counts). */
static long count_lines(const char *xml, size_t len)
{
    long lines = 0;

    for (size_t i = 0; i < len; i++) {
        if (xml[i] == '\n')
            lines++;
    }
    if (len > 0 && xml[len - 1] != '\n')
        lines++;
    return lines;
}

/*
 * Returns the line of the first "<!DOCTYPE" in xml, or 0. A document type
 * declaration is refused outright: its DTD and entities are never read.
 */
static long doctype_line(const char *xml, size_t len)
{
    static const char tag[] = "<!DOCTYPE";
    const char *hit = memmem(xml, len, tag, sizeof(tag) - 1);
    long line = 1;

    if (hit == NULL)
        return 0;
    for (const char *p = xml; p < hit; p++) {
        if (*p == '\n')
            line++;
    }
    return line;
}

/*
 * Writes the message of a parse error into message, rewording the errors
 * that name the wrapper element, which is not in the file.
 */
static void describe_parse_error(const xmlError *error, char *message,
                                 size_t size)
{
    char element[64];
    char closing[64];
    int open_line = 0;

    if (error->message == NULL) {
        snprintf(message, size, "malformed XML");
        return;
    }
    if (sscanf(error->message,
               "Opening and ending tag mismatch: %63s line %d and %63s",
               element, &open_line, closing) == 3 &&
        strcmp(element, WRAPPER_NAME) != 0 &&
        strcmp(closing, WRAPPER_NAME) != 0) {
        snprintf(message, size,
                 "malformed XML: <%s> opened at line %d is closed by </%s>; "
                 "add </%s> before it",
                 element, open_line, closing, element);
        return;
    }
    if (strstr(error->message, WRAPPER_NAME) == NULL) {
        snprintf(message, size, "malformed XML: %s", error->message);
        message[strcspn(message, "\n")] = '\0';
        return;
    }
    if (sscanf(error->message, "Opening and ending tag mismatch: %63s line %d",
               element, &open_line) == 2 &&
        strcmp(element, WRAPPER_NAME) != 0)
        snprintf(message, size,
                 "malformed XML: <%s> opened at line %d is not closed; add "
                 "</%s> at the end of the file",
                 element, open_line, element);
    else
        snprintf(message, size,
                 "malformed XML: the file ends inside an element or has "
                 "text after the last one; check that every element is "
                 "closed");
}

/* Keeps the first parse error, which names the real place of a problem. */
static void keep_first_error(void *arg, xmlErrorPtr error)
{
    xmlError *first = arg;

    if (first->code == 0 && error != NULL && error->level >= XML_ERR_ERROR) {
        first->code = error->code;
        first->line = error->line;
        first->message = error->message ? strdup(error->message) : NULL;
    }
}

int wl_config_load_memory(struct wl_config *cfg, const char *name,
                          const char *xml, size_t len, char *err,
                          size_t err_size)
{
    struct load_context ctx = {cfg, name, err, err_size, 0, 0, 0};
    xmlParserCtxtPtr parser = NULL;
    xmlDocPtr doc = NULL;
    xmlError first_error;
    size_t doc_len;
    char *text = NULL;
    long line;
    int r = WL_EPARSE;

    memset(&first_error, 0, sizeof(first_error));
    ctx.file_lines = count_lines(xml, len);

    if (err_size > 0)
        err[0] = '\0';
    if (only_whitespace(xml, len))
        return 0;
    if ((line = doctype_line(xml, len)) > 0) {
        add_error(&ctx, line,
                  "<!DOCTYPE> is not allowed in a configuration file (no "
                  "DTD or entity is read); remove it");
        goto out;
    }
    text = wrap_document(xml, len, &doc_len);
    parser = xmlNewParserCtxt();
    if (text == NULL || parser == NULL || doc_len > INT_MAX) {
        add_error(&ctx, 0, "out of memory");
        r = WL_ENOMEM;
        goto out;
    }
    /* No DTD loading, no entity substitution, no network. */
    xmlSetStructuredErrorFunc(&first_error, keep_first_error);
    doc = xmlCtxtReadMemory(parser, text, (int)doc_len, name, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOWARNING |
                                XML_PARSE_BIG_LINES);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (doc == NULL || first_error.code != 0) {
        char message[512];

        describe_parse_error(&first_error, message, sizeof(message));
        add_error(&ctx, first_error.line, "%s", message);
        goto out;
    }
    read_document(&ctx, xmlDocGetRootElement(doc));
    if (ctx.errors == 0)
        r = 0;
out:
    free(first_error.message);
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(parser);
    free(text);
    return r;
}

/* Reads the whole file into *out (NUL-terminated); caller frees. */
static int read_file(const char *path, char **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0;
    int r = WL_EIO;

    if (f == NULL)
        return errno == ENOENT ? WL_ENOENT : WL_EIO;
    data = malloc(CONFIG_FILE_MAX + 1);
    if (data == NULL) {
        r = WL_ENOMEM;
        goto out;
    }
    len = fread(data, 1, CONFIG_FILE_MAX + 1, f);
    if (ferror(f))
        goto out;
    if (len > CONFIG_FILE_MAX) {
        r = WL_ERANGE;
        goto out;
    }
    data[len] = '\0';
    *out = data;
    *out_len = len;
    data = NULL;
    r = 0;
out:
    free(data);
    fclose(f);
    return r;
}

int wl_config_load(struct wl_config *cfg, const char *path, char *err,
                   size_t err_size)
{
    char *data = NULL;
    size_t len = 0;
    int r = read_file(path, &data, &len);

    if (r != 0) {
        if (err_size > 0) {
            if (r == WL_ERANGE)
                snprintf(err, err_size, "%s: file larger than %d bytes", path,
                         CONFIG_FILE_MAX);
            else
                snprintf(err, err_size, "%s: cannot read: %s", path,
                         strerror(errno));
        }
        return r == WL_ERANGE ? WL_EPARSE : r;
    }
    r = wl_config_load_memory(cfg, path, data, len, err, err_size);
    free(data);
    if (r == 0) {
        char *copy = strdup(path);

        if (copy == NULL)
            return WL_ENOMEM;
        free(cfg->file);
        cfg->file = copy;
    }
    return r;
}

/* Adds an error about a file named by the option at path. */
static void check_file(struct load_context *ctx, const char *path)
{
    const struct option *opt = find_option(path);
    const char *file = *(char *const *)field_of(ctx->cfg, opt);
    char shown[64];

    if (file == NULL || access(file, R_OK) == 0)
        return;
    format_path(shown, sizeof(shown), path);
    add_error(ctx, ctx->cfg->set_line[opt - config_options],
              "%s: cannot read %s: %s", shown, file, strerror(errno));
}

int wl_config_check(const struct wl_config *cfg, char *err, size_t err_size)
{
    struct load_context ctx = {(struct wl_config *)cfg,
                               cfg->file ? cfg->file : "(built-in defaults)",
                               err,
                               err_size,
                               0,
                               0,
                               0};

    if (err_size > 0)
        err[0] = '\0';
    if ((cfg->remote_ssl_cert == NULL) != (cfg->remote_ssl_key == NULL)) {
        const char *given =
            cfg->remote_ssl_cert ? "remote/ssl_cert" : "remote/ssl_key";
        const struct option *opt = find_option(given);

        add_error(&ctx, cfg->set_line[opt - config_options],
                  "<remote><ssl_cert> and <remote><ssl_key> must be set "
                  "together; only <%s> is set",
                  strchr(given, '/') + 1);
    }
    check_file(&ctx, "remote/ssl_ca");
    check_file(&ctx, "remote/ssl_cert");
    check_file(&ctx, "remote/ssl_key");
    return ctx.errors ? WL_EINVAL : 0;
}

static void print_escaped(FILE *out, const char *text)
{
    for (const char *p = text; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*p, out);
        }
    }
}

/* Writes seconds in the largest unit that divides them exactly. */
static void print_time(FILE *out, long seconds)
{
    static const struct {
        char suffix;
        long seconds;
    } units[] = {{'w', 604800}, {'d', 86400}, {'h', 3600}, {'m', 60}};

    for (size_t i = 0; seconds != 0 && i < sizeof(units) / sizeof(units[0]);
         i++) {
        if (seconds % units[i].seconds == 0) {
            fprintf(out, "%ld%c", seconds / units[i].seconds, units[i].suffix);
            return;
        }
    }
    fprintf(out, "%lds", seconds);
}

/* Writes a scalar option's value as text. */
static void print_scalar(FILE *out, const struct wl_config *cfg,
                         const struct option *opt)
{
    const void *field = const_field_of(cfg, opt);

    switch (opt->type) {
    case OPT_BOOL:
        fputs(*(const int *)field ? "yes" : "no", out);
        break;
    case OPT_INT:
        fprintf(out, "%d", *(const int *)field);
        break;
    case OPT_TIME:
        print_time(out, *(const long *)field);
        break;
    case OPT_STRING:
    case OPT_ADDRESS:
        print_escaped(out, *(char *const *)field);
        break;
    case OPT_LIST:
        break;
    }
}

/* Writes the opening tag of a leaf with the attributes stored for it. */
static void print_open_tag(FILE *out, const struct wl_config *cfg,
                           const struct option *opt, const char *leaf)
{
    size_t len = strlen(opt->path);

    fprintf(out, "<%s", leaf);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *attr = &config_options[i];

        if (strncmp(attr->path, opt->path, len) == 0 &&
            attr->path[len] == '@') {
            fprintf(out, " %s=\"", attr->path + len + 1);
            print_scalar(out, cfg, attr);
            fputc('"', out);
        }
    }
    fputc('>', out);
}

static void print_leaf(FILE *out, const struct wl_config *cfg,
                       const struct option *opt, int depth)
{
    const char *leaf = strrchr(opt->path, '/');

    leaf = leaf ? leaf + 1 : opt->path;
    if (opt->type == OPT_LIST) {
        const struct wl_config_list *list = const_field_of(cfg, opt);

        for (size_t i = 0; i < list->count; i++) {
            fprintf(out, "%*s<%s>", depth * 2, "", leaf);
            print_escaped(out, list->items[i]);
            fprintf(out, "</%s>\n", leaf);
        }
        return;
    }
    if ((opt->type == OPT_STRING || opt->type == OPT_ADDRESS) &&
        *(char *const *)const_field_of(cfg, opt) == NULL) {
        fprintf(out, "%*s<!-- <%s> not set -->\n", depth * 2, "", leaf);
        return;
    }
    fprintf(out, "%*s", depth * 2, "");
    print_open_tag(out, cfg, opt, leaf);
    print_scalar(out, cfg, opt);
    fprintf(out, "</%s>\n", leaf);
}

/* Number of '/'-separated parts the two paths' parents share. */
static int common_depth(const char *a, const char *b)
{
    int depth = 0;

    for (;;) {
        size_t la = strcspn(a, "/");
        size_t lb = strcspn(b, "/");

        if (a[la] != '/' || b[lb] != '/' || la != lb || memcmp(a, b, la) != 0)
            return depth;
        depth++;
        a += la + 1;
        b += lb + 1;
    }
}

/* Closes open blocks down to keep parts and opens those of path. */
static void move_to_block(FILE *out, const char *open_path, int open_depth,
                          const char *path, int keep)
{
    const char *p;
    int depth;

    for (depth = open_depth; depth > keep; depth--) {
        p = open_path;
        for (int i = 1; i < depth; i++)
            p += strcspn(p, "/") + 1;
        fprintf(out, "%*s</%.*s>\n", depth * 2, "", (int)strcspn(p, "/"), p);
    }
    p = path;
    for (int i = 0; i < keep; i++)
        p += strcspn(p, "/") + 1;
    for (depth = keep + 1; strchr(p, '/') != NULL; depth++) {
        fprintf(out, "%*s<%.*s>\n", depth * 2, "", (int)strcspn(p, "/"), p);
        p += strcspn(p, "/") + 1;
    }
}

static int block_depth(const char *path)
{
    int depth = 0;

    for (const char *p = path; *p != '\0'; p++) {
        if (*p == '/')
            depth++;
    }
    return depth;
}

void wl_config_print(const struct wl_config *cfg, FILE *out)
{
    const char *open_path = "";
    int open_depth = 0;

    fprintf(out, "<ossec_config>\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *opt = &config_options[i];
        int keep;

        if (strchr(opt->path, '@') != NULL)
            continue;
        keep = open_depth ? common_depth(open_path, opt->path) : 0;
        if (keep > open_depth)
            keep = open_depth;
        move_to_block(out, open_path, open_depth, opt->path, keep);
        open_path = opt->path;
        open_depth = block_depth(opt->path);
        print_leaf(out, cfg, opt, open_depth + 1);
    }
    move_to_block(out, open_path, open_depth, "", 0);
    fprintf(out, "</ossec_config>\n");
}

void wl_config_log_settings(const struct wl_config *cfg)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *opt = &config_options[i];
        char shown[128];
        char *value = NULL;
        size_t len = 0;
        FILE *f;

        if (cfg->set_line[i] == 0)
            continue;
        f = open_memstream(&value, &len);
        if (f == NULL)
            return;
        if (opt->type == OPT_LIST) {
            const struct wl_config_list *list = const_field_of(cfg, opt);

            for (size_t j = 0; j < list->count; j++)
                fprintf(f, "%s%s", j ? ", " : "", list->items[j]);
        } else if ((opt->type == OPT_STRING || opt->type == OPT_ADDRESS) &&
                   *(char *const *)const_field_of(cfg, opt) == NULL) {
            fputs("(none)", f);
        } else {
            print_scalar(f, cfg, opt);
        }
        fclose(f);
        format_path(shown, sizeof(shown), opt->path);
        wl_log_info("setting %s = %s (line %ld)", shown, value ? value : "",
                    cfg->set_line[i]);
        free(value);
    }
}

static const char *type_name(const struct option *opt)
{
    switch (opt->type) {
    case OPT_BOOL:
        return "yes|no";
    case OPT_INT:
        return "integer";
    case OPT_TIME:
        return "time";
    case OPT_STRING:
        return "string";
    case OPT_ADDRESS:
        return "address";
    case OPT_LIST:
        return "list";
    }
    return "?";
}

void wl_config_print_table(FILE *out)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *opt = &config_options[i];

        fprintf(out, "%-40s %-7s", opt->path, type_name(opt));
        if (opt->type == OPT_INT || opt->type == OPT_TIME)
            fprintf(out, " %lld..%lld", opt->min, opt->max);
        fprintf(out, " default %s: %s\n",
                opt->default_value ? opt->default_value : "none", opt->help);
    }
}

long wl_config_line(const struct wl_config *cfg, const char *path)
{
    const struct option *opt = find_option(path);

    return opt != NULL ? cfg->set_line[opt - config_options] : 0;
}
