/* Agent control messages: classification, startup, keepalive, replies. */
#include <config.h>

#include "daemon/control.h"

#include "daemon/error.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_LEN 3 /* strlen(WL_CONTROL_HEADER) */

static int starts_with(const char *text, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);

    return len >= n && memcmp(text, prefix, n) == 0;
}

enum wl_control_kind wl_control_classify(const char *message, size_t len)
{
    const char *body;
    size_t body_len;

    if (!starts_with(message, len, WL_CONTROL_HEADER))
        return WL_CONTROL_EVENT;
    body = message + HEADER_LEN;
    body_len = len - HEADER_LEN;
    if (starts_with(body, body_len, "req "))
        return WL_CONTROL_REQUEST;
    if (starts_with(body, body_len, "agent startup "))
        return WL_CONTROL_STARTUP;
    if (body_len == 15 && memcmp(body, "agent shutdown ", 15) == 0)
        return WL_CONTROL_SHUTDOWN;
    return WL_CONTROL_KEEPALIVE;
}

/* Reads "[anything up to the first 'v']<major>.<minor>" as Wazuh does,
 * looking only at the first 9 characters. */
static void parse_version(const char *text, int *major, int *minor)
{
    char copy[10];
    char *p, *dot;

    snprintf(copy, sizeof(copy), "%s", text);
    p = strchr(copy, 'v');
    p = p ? p + 1 : copy;
    *major = atoi(p);
    dot = strchr(p, '.');
    *minor = dot ? atoi(dot + 1) : 0;
}

int wl_control_compare_versions(const char *a, const char *b)
{
    int a_major, a_minor, b_major, b_minor;

    parse_version(a, &a_major, &a_minor);
    parse_version(b, &b_major, &b_minor);
    if (a_major != b_major)
        return a_major < b_major ? -1 : 1;
    if (a_minor != b_minor)
        return a_minor < b_minor ? -1 : 1;
    return 0;
}

/* Writes "#!-err {"message":"<text>"}" as cJSON prints it. */
static void write_error(const char *text, char *reply, size_t reply_size)
{
    cJSON *obj = cJSON_CreateObject();
    char *json = NULL;

    if (obj && cJSON_AddStringToObject(obj, "message", text))
        json = cJSON_PrintUnformatted(obj);
    if (json)
        snprintf(reply, reply_size, "%serr %s", WL_CONTROL_HEADER, json);
    else
        snprintf(reply, reply_size, "%serr {\"message\":\"%s\"}",
                 WL_CONTROL_HEADER, text);
    cJSON_free(json);
    cJSON_Delete(obj);
}

int wl_control_startup(const char *message, size_t len,
                       const char *manager_version, int allow_higher,
                       char *agent_version, size_t version_size, char *reply,
                       size_t reply_size)
{
    const char *brace = memchr(message, '{', len);
    const cJSON *version;
    cJSON *info;
    int accepted = 1;

    if (reply_size < 128)
        return WL_EINVAL;
    if (version_size > 0)
        agent_version[0] = '\0';
    snprintf(reply, reply_size, "%s", WL_CONTROL_ACK);
    if (!brace)
        return 1;

    /* Unparsable JSON is treated like no JSON, as cJSON_Parse failing
     * makes remoted skip the version check. */
    info = cJSON_ParseWithLength(brace, len - (size_t)(brace - message));
    if (!info)
        return 1;
    version = cJSON_GetObjectItemCaseSensitive(info, "version");
    if (!cJSON_IsString(version)) {
        write_error("Couldn't retrieve version", reply, reply_size);
        accepted = 0;
    } else {
        if (version_size > 0)
            snprintf(agent_version, version_size, "%s", version->valuestring);
        if (!allow_higher && wl_control_compare_versions(
                                 manager_version, version->valuestring) < 0) {
            write_error("Agent version must be lower or equal to manager "
                        "version",
                        reply, reply_size);
            accepted = 0;
        }
    }
    cJSON_Delete(info);
    return accepted;
}

/* Copies [start, end) into a fixed buffer, cutting what does not fit. */
static void copy_span(char *dst, size_t size, const char *start,
                      const char *end)
{
    size_t len = (size_t)(end - start);

    if (len >= size)
        len = size - 1;
    memcpy(dst, start, len);
    dst[len] = '\0';
}

static void copy_text(char *dst, size_t size, const char *text)
{
    copy_span(dst, size, text, text + strlen(text));
}

/* Copies the leading run of digits of text, if any. */
static const char *copy_number(char *dst, size_t size, const char *text)
{
    const char *end = text;

    while (*end >= '0' && *end <= '9')
        end++;
    copy_span(dst, size, text, end);
    return end;
}

/* Fills major, minor and build from "10.0.19045" or "22.04.4 LTS". */
static void split_os_version(struct wl_keepalive *ka)
{
    const char *p =
        copy_number(ka->os_major, sizeof(ka->os_major), ka->os_version);

    if (*p == '.') {
        p = copy_number(ka->os_minor, sizeof(ka->os_minor), p + 1);
        if (*p == '.') {
            const char *end = p + 1;

            while ((*end >= '0' && *end <= '9') || *end == '.')
                end++;
            copy_span(ka->os_build, sizeof(ka->os_build), p + 1, end);
        }
    }
}

/* Windows: "Microsoft Windows 10 Pro [Ver: 10.0.19045] |HOST |x86_64". */
static void parse_windows_uname(struct wl_keepalive *ka, const char *ver)
{
    const char *bracket = strchr(ver + 7, ']');

    copy_span(ka->os_name, sizeof(ka->os_name), ka->uname, ver);
    copy_span(ka->os_version, sizeof(ka->os_version), ver + 7,
              bracket ? bracket : ver + strlen(ver));
    copy_text(ka->os_platform, sizeof(ka->os_platform), "windows");
    if (bracket) {
        const char *arch = strrchr(bracket, '|');

        if (arch) {
            const char *end;

            arch++;
            while (*arch == ' ')
                arch++;
            end = arch;
            while (*end && *end != ' ')
                end++;
            copy_span(ka->os_arch, sizeof(ka->os_arch), arch, end);
        }
    }
    split_os_version(ka);
}

/* Unix: "Linux |host |rel |ver |x86_64 [Ubuntu|ubuntu: 22.04.4 LTS (Jammy
 * Jellyfish)]": the name, platform, version and codename come from the
 * bracket, the architecture from a list of known names. */
static void parse_unix_uname(struct wl_keepalive *ka)
{
    static const char *archs[] = {"x86_64", "i386",  "i686",    "sparc",
                                  "amd64",  "i86pc", "ia64",    "AIX",
                                  "armv6",  "armv7", "aarch64", "arm64"};
    const char *open = strstr(ka->uname, " [");

    if (open) {
        char inside[256];
        char *colon, *bar, *paren, *close;

        copy_text(inside, sizeof(inside), open + 2);
        close = strrchr(inside, ']');
        if (close)
            *close = '\0';
        colon = strstr(inside, ": ");
        if (colon) {
            *colon = '\0';
            paren = strstr(colon + 2, " (");
            if (paren) {
                char *end = strrchr(paren, ')');

                if (end)
                    *end = '\0';
                copy_text(ka->os_codename, sizeof(ka->os_codename), paren + 2);
                *paren = '\0';
            }
            copy_text(ka->os_version, sizeof(ka->os_version), colon + 2);
        }
        bar = strchr(inside, '|');
        if (bar) {
            *bar = '\0';
            copy_text(ka->os_platform, sizeof(ka->os_platform), bar + 1);
        }
        copy_text(ka->os_name, sizeof(ka->os_name), inside);
        split_os_version(ka);
    }
    for (size_t i = 0; i < sizeof(archs) / sizeof(archs[0]); i++) {
        if (strstr(ka->uname, archs[i])) {
            copy_text(ka->os_arch, sizeof(ka->os_arch), archs[i]);
            break;
        }
    }
}

/* Handles the "<uname> - <version>[ / <sum>]" line. */
static void parse_status_line(struct wl_keepalive *ka, char *line, char *dash)
{
    char *rest = dash + 3;
    char *slash = strstr(rest, " / ");
    const char *ver;

    *dash = '\0';
    copy_text(ka->uname, sizeof(ka->uname), line);
    if (slash) {
        *slash = '\0';
        copy_text(ka->config_sum, sizeof(ka->config_sum), slash + 3);
    }
    copy_text(ka->version, sizeof(ka->version), rest);

    ver = strstr(ka->uname, " [Ver: ");
    if (ver)
        parse_windows_uname(ka, ver);
    else
        parse_unix_uname(ka);
}

static void append_label(struct wl_keepalive *ka, const char *line)
{
    size_t used = strlen(ka->labels);

    if (used > 0 && used + 1 < sizeof(ka->labels))
        ka->labels[used++] = '\n';
    copy_text(ka->labels + used, sizeof(ka->labels) - used, line);
}

int wl_control_parse_keepalive(const char *message, size_t len,
                               struct wl_keepalive *ka)
{
    static const char ip_label[] = "#\"_agent_ip\":";
    const char *last_newline;
    char *text, *line, *save = NULL;
    size_t body_len;

    memset(ka, 0, sizeof(*ka));
    if (starts_with(message, len, WL_CONTROL_HEADER)) {
        message += HEADER_LEN;
        len -= HEADER_LEN;
    }
    last_newline = NULL;
    for (size_t i = len; i > 0; i--) {
        if (message[i - 1] == '\n') {
            last_newline = message + i - 1;
            break;
        }
    }
    if (!last_newline)
        return WL_EINVAL;
    body_len = (size_t)(last_newline - message);
    text = malloc(body_len + 1);
    if (!text)
        return WL_ENOMEM;
    memcpy(text, message, body_len);
    text[body_len] = '\0';

    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char *dash, *space;

        if (line[0] == '#' || line[0] == '!' || line[0] == '"') {
            if (strncmp(line, ip_label, sizeof(ip_label) - 1) == 0)
                copy_text(ka->agent_ip, sizeof(ka->agent_ip),
                          line + sizeof(ip_label) - 1);
            else
                append_label(ka, line);
        } else if ((dash = strstr(line, " - ")) != NULL) {
            parse_status_line(ka, line, dash);
        } else if ((space = strchr(line, ' ')) != NULL &&
                   strncmp(space + 1, "merged.mg", 9) == 0) {
            copy_span(ka->merged_sum, sizeof(ka->merged_sum), line, space);
        }
    }
    free(text);
    return 0;
}

int wl_control_stopped_event(const struct wl_key_entry *entry, char *out,
                             size_t out_size)
{
    int n = snprintf(out, out_size,
                     "1:wazuh-remoted:ossec: Agent stopped: '%s->%s'.",
                     entry->name, entry->ip);

    if (n < 0 || (size_t)n >= out_size)
        return WL_ERANGE;
    return n;
}
