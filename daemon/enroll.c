/* Enrollment requests and replies in the manner of wazuh-authd 4.14. */
#include <config.h>

#include "daemon/enroll.h"

#include "daemon/control.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#define ERR_SIZE 2048

void wl_enroll_config_default(struct wl_enroll_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->manager_version = WL_CONTROL_VERSION;
    cfg->manager_name = "";
    cfg->force.enabled = 1;
    cfg->force.key_mismatch = 1;
    cfg->force.disconnected_time_enabled = 1;
    cfg->force.disconnected_time = 3600;
    cfg->force.after_registration_time = 3600;
}

void wl_enroll_request_free(struct wl_enroll_request *req)
{
    free(req->groups);
    req->groups = NULL;
}

void wl_enroll_result_free(struct wl_enroll_result *result)
{
    free(result->groups);
    result->groups = NULL;
}

/*
 * Reads a quoted field "<token>'<value>'" at p. The value stops at the
 * first quote (or, when stop_at_space, at a space) and at most max bytes
 * are taken, as authd's sscanf does. Returns a pointer past the closing
 * quote, or NULL when the byte after the value is not a quote.
 */
static const char *read_field(const char *p, size_t token_len, char *value,
                              size_t max, int stop_at_space)
{
    const char *start = p + token_len + 1; /* token, then the quote */
    size_t n = 0;

    while (start[n] && start[n] != '\'' && n < max &&
           !(stop_at_space && start[n] == ' '))
        n++;
    memcpy(value, start, n);
    value[n] = '\0';
    if (start[n] != '\'')
        return NULL;
    return start + n + 1;
}

/* Checks the password prefix "OSSEC PASS: <pw> " in constant time. */
static const char *check_password(const char *password, const char *line)
{
    size_t pw_len = strlen(password);
    size_t rest_len;

    if (strncmp(line, "OSSEC PASS: ", 12) != 0)
        return NULL;
    line += 12;
    rest_len = strlen(line);
    if (rest_len <= pw_len || CRYPTO_memcmp(line, password, pw_len) != 0)
        return NULL;
    if (line[pw_len] != ' ')
        return NULL;
    return line + pw_len + 1;
}

/* Validates the G: text as Wazuh's w_validate_group_name does. */
static int check_group_syntax(const char *groups, char *error)
{
    static const char valid[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
                                "RSTUVWXYZ0123456789.:;_-=+!@(),";
    size_t len = strlen(groups);
    int multi = strchr(groups, ',') != NULL;
    size_t commas = 0;
    char prohibited[] = "characters '\\/:*?\"<>|,' are prohibited";

    if (len == 0) {
        snprintf(error, ERR_SIZE, "ERROR: Invalid group name: Empty Group");
        return WL_EINVAL;
    }
    if (!multi && len > WL_ENROLL_GROUP_NAME_MAX) {
        snprintf(error, ERR_SIZE,
                 "ERROR: Invalid group name: %.255s... group is too large",
                 groups);
        return WL_EINVAL;
    }
    if (multi) {
        const char *p = groups;

        while (*p) {
            size_t n = strcspn(p, ",");

            if (memchr(p, ' ', n)) {
                snprintf(error, ERR_SIZE,
                         "ERROR: Invalid group name: %.255s... white spaces "
                         "are not allowed",
                         groups);
                return WL_EINVAL;
            }
            if (n > WL_ENROLL_GROUP_NAME_MAX) {
                snprintf(error, ERR_SIZE,
                         "ERROR: Invalid group name: %.255s... group is too "
                         "large",
                         p);
                return WL_EINVAL;
            }
            p += n;
            if (*p == ',')
                p++;
        }
        if (strstr(groups, ",,")) {
            snprintf(error, ERR_SIZE,
                     "ERROR: Invalid group name: %.255s... consecutive ',' "
                     "are not allowed",
                     groups);
            return WL_EINVAL;
        }
    }
    for (size_t i = 0; i < len; i++)
        commas += groups[i] == ',';
    if (commas == len) {
        snprintf(error, ERR_SIZE, "ERROR: Invalid group name: %.255s... %s",
                 groups, prohibited);
        return WL_EINVAL;
    }
    if (groups[0] == ',' || groups[len - 1] == ',') {
        snprintf(error, ERR_SIZE,
                 "ERROR: Invalid group name: %.255s... cannot start or end "
                 "with ','",
                 groups);
        return WL_EINVAL;
    }
    if (strspn(groups, valid) != len ||
        (!multi && strchr(groups, ',') != NULL)) {
        snprintf(error, ERR_SIZE, "ERROR: Invalid group name: %.255s... %s",
                 groups, prohibited);
        return WL_EINVAL;
    }
    return 0;
}

/* Returns a copy of a comma-separated list without repeated groups. */
static char *dedupe_groups(const char *groups)
{
    char *out = calloc(1, strlen(groups) + 1);
    const char *p = groups;
    size_t used = 0;

    if (!out)
        return NULL;
    while (*p) {
        size_t n = strcspn(p, ",");
        int seen = 0;
        const char *q = out;

        while (*q && !seen) {
            size_t m = strcspn(q, ",");

            seen = m == n && memcmp(q, p, n) == 0;
            q += m + (q[m] == ',');
        }
        if (!seen && n > 0) {
            if (used > 0)
                out[used++] = ',';
            memcpy(out + used, p, n);
            used += n;
            out[used] = '\0';
        }
        p += n + (p[n] == ',');
    }
    return out;
}

static int parse_version_field(const struct wl_enroll_config *cfg,
                               const char **p, struct wl_enroll_request *req,
                               char *error)
{
    char version[2049];
    const char *next;

    if (strncmp(*p, " V:", 3) != 0)
        return 0;
    next = read_field(*p, 3, version, 2048, 0);
    if (!next) {
        snprintf(error, ERR_SIZE, "ERROR: Unterminated version field");
        return WL_EINVAL;
    }
    if (!cfg->allow_higher_versions &&
        wl_control_compare_versions(cfg->manager_version, version) < 0) {
        snprintf(error, ERR_SIZE,
                 "ERROR: Agent version must be lower or equal to manager "
                 "version");
        return WL_EINVAL;
    }
    snprintf(req->version, sizeof(req->version), "%.63s", version);
    *p = next;
    return 0;
}

static int parse_group_field(const char **p, struct wl_enroll_request *req,
                             char *error)
{
    char *groups;
    const char *next;
    int r;

    if (strncmp(*p, " G:", 3) != 0)
        return 0;
    groups = malloc(65536 + 1);
    if (!groups)
        return WL_ENOMEM;
    next = read_field(*p, 3, groups, 65536, 0);
    if (!next) {
        snprintf(error, ERR_SIZE, "ERROR: Unterminated group field");
        free(groups);
        return WL_EINVAL;
    }
    r = check_group_syntax(groups, error);
    if (r == 0) {
        req->groups = dedupe_groups(groups);
        if (!req->groups) {
            snprintf(error, ERR_SIZE, "ERROR: Insufficient memory");
            r = WL_ENOMEM;
        }
    }
    free(groups);
    *p = next;
    return r;
}

static int parse_ip_field(const struct wl_enroll_config *cfg, const char **p,
                          const char *peer_ip, struct wl_enroll_request *req,
                          char *error)
{
    char ip[47];
    const char *next;

    if (strncmp(*p, " IP:", 4) != 0) {
        snprintf(req->ip, sizeof(req->ip), "%s",
                 cfg->use_source_ip ? peer_ip : "any");
        return 0;
    }
    next = read_field(*p, 4, ip, 46, 1);
    if (!next) {
        snprintf(error, ERR_SIZE, "ERROR: Unterminated IP field");
        return WL_EINVAL;
    }
    if (strncmp(ip, "src", 3) == 0) {
        snprintf(req->ip, sizeof(req->ip), "%s", peer_ip);
    } else if (wl_keys_valid_ip(ip) < 0) {
        snprintf(error, ERR_SIZE, "ERROR: Invalid IP: %s", ip);
        return WL_EINVAL;
    } else {
        snprintf(req->ip, sizeof(req->ip), "%s", ip);
    }
    *p = next;
    return 0;
}

static int parse_key_field(const char **p, struct wl_enroll_request *req,
                           char *error)
{
    if (strncmp(*p, " K:", 3) != 0)
        return 0;
    if (!read_field(*p, 3, req->key_hash, WL_KEYS_SHA1_HEX, 0)) {
        snprintf(error, ERR_SIZE, "ERROR: Unterminated key field");
        req->key_hash[0] = '\0';
        return WL_EINVAL;
    }
    return 0;
}

int wl_enroll_parse(const struct wl_enroll_config *cfg, const char *line,
                    const char *peer_ip, struct wl_enroll_request *req,
                    char *error, size_t error_size)
{
    char err[ERR_SIZE] = "";
    const char *p = line, *quote;
    size_t name_len;
    int r = WL_EINVAL;

    memset(req, 0, sizeof(*req));
    if (cfg->password) {
        p = check_password(cfg->password, line);
        if (!p) {
            snprintf(err, sizeof(err), "ERROR: Invalid password");
            r = WL_EAUTH;
            goto out;
        }
    }
    quote = strncmp(p, "OSSEC A:'", 9) == 0 ? strchr(p + 9, '\'') : NULL;
    if (!quote) {
        snprintf(err, sizeof(err), "ERROR: Invalid request for new agent");
        goto out;
    }
    name_len = (size_t)(quote - (p + 9));
    if (name_len > WL_KEYS_NAME_MAX) {
        snprintf(err, sizeof(err), "ERROR: Invalid agent name: %.*s",
                 (int)name_len, p + 9);
        goto out;
    }
    memcpy(req->name, p + 9, name_len);
    req->name[name_len] = '\0';
    if (!wl_keys_valid_name(req->name)) {
        snprintf(err, sizeof(err), "ERROR: Invalid agent name: %s", req->name);
        goto out;
    }
    p = quote + 1;

    r = parse_version_field(cfg, &p, req, err);
    if (r == 0)
        r = parse_group_field(&p, req, err);
    if (r == 0)
        r = parse_ip_field(cfg, &p, peer_ip, req, err);
    if (r == 0)
        r = parse_key_field(&p, req, err);
out:
    if (r < 0) {
        snprintf(error, error_size, "%s", err);
        wl_enroll_request_free(req);
    }
    return r;
}

/* Checks each group: name pattern, not "." or "..", folder exists. */
static int check_groups_exist(const struct wl_enroll_config *cfg,
                              const char *groups, char *error)
{
    const char *p = groups;
    int count = 0;

    while (*p) {
        size_t n = strcspn(p, ",");
        char group[WL_ENROLL_GROUP_NAME_MAX + 1];
        struct stat st;
        char path[4096];

        if (++count > WL_ENROLL_GROUPS_MAX) {
            snprintf(error, ERR_SIZE,
                     "ERROR: Maximum multigroup reached: Limit is %d",
                     WL_ENROLL_GROUPS_MAX);
            return WL_EINVAL;
        }
        snprintf(group, sizeof(group), "%.*s", (int)n, p);
        if (strspn(group, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                          "WXYZ0123456789_.-") != strlen(group) ||
            strcmp(group, ".") == 0 || strcmp(group, "..") == 0) {
            snprintf(error, ERR_SIZE, "ERROR: Invalid group name: %s", group);
            return WL_EINVAL;
        }
        if (cfg->shared_dir) {
            snprintf(path, sizeof(path), "%s/%s", cfg->shared_dir, group);
            if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
                snprintf(error, ERR_SIZE, "ERROR: Invalid group: %s", group);
                return WL_EINVAL;
            }
        } else if (strcmp(group, "default") != 0) {
            snprintf(error, ERR_SIZE, "ERROR: Invalid group: %s", group);
            return WL_EINVAL;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

/* The replacement rules of authd's w_auth_replace_agent(). */
static int may_replace(const struct wl_enroll_config *cfg,
                       const struct wl_key_entry *old, const char *key_hash,
                       wl_enroll_status_fn status, void *ctx, time_t now)
{
    struct wl_enroll_agent_status st = {0};

    if (!cfg->force.enabled || !status || status(ctx, old, &st) < 0)
        return 0;
    if (cfg->force.disconnected_time_enabled &&
        st.connection != WL_ENROLL_NEVER_CONNECTED) {
        if (st.connection == WL_ENROLL_DISCONNECTED &&
            st.disconnection_time > 0 &&
            now - st.disconnection_time < cfg->force.disconnected_time)
            return 0;
        if (st.disconnection_time == 0)
            return 0;
    }
    if (cfg->force.after_registration_time > 0 &&
        now - st.date_add < cfg->force.after_registration_time)
        return 0;
    if (key_hash[0] != '\0' && cfg->force.key_mismatch) {
        char hash[WL_KEYS_SHA1_HEX + 1];

        wl_keys_hash(old, hash);
        if (strcmp(hash, key_hash) == 0)
            return 0;
    }
    return 1;
}

/* Removes old in favour of the new request, recording its id. */
static void replace(const struct wl_enroll_config *cfg, struct wl_keystore *ks,
                    const struct wl_key_entry *old,
                    struct wl_enroll_result *result, int slot, const char *why)
{
    snprintf(result->replaced_id[slot], sizeof(result->replaced_id[slot]), "%s",
             old->id);
    wl_log_info("enrollment: %s; removing old agent '%s' (id '%s')", why,
                old->name, old->id);
    wl_keys_remove(ks, old->id, cfg->purge);
}

static int validate(const struct wl_enroll_config *cfg, struct wl_keystore *ks,
                    const struct wl_enroll_request *req,
                    wl_enroll_status_fn status, void *ctx, time_t now,
                    struct wl_enroll_result *result, char *error)
{
    const struct wl_key_entry *old;

    if (req->groups && check_groups_exist(cfg, req->groups, error) < 0)
        return WL_EINVAL;
    if (strcmp(req->ip, "any") != 0 &&
        (old = wl_keys_find_ip(ks, req->ip)) != NULL) {
        if (!may_replace(cfg, old, req->key_hash, status, ctx, now)) {
            snprintf(error, ERR_SIZE, "ERROR: Duplicate IP: %s", req->ip);
            return WL_EEXIST;
        }
        replace(cfg, ks, old, result, 0, "duplicate IP");
    }
    if (cfg->manager_name && strcmp(req->name, cfg->manager_name) == 0) {
        snprintf(error, ERR_SIZE, "ERROR: Invalid agent name: %s", req->name);
        return WL_EINVAL;
    }
    if ((old = wl_keys_find_name(ks, req->name)) != NULL) {
        if (!may_replace(cfg, old, req->key_hash, status, ctx, now)) {
            snprintf(error, ERR_SIZE, "ERROR: Duplicate agent name: %s",
                     req->name);
            return WL_EEXIST;
        }
        replace(cfg, ks, old, result, 1, "duplicate name");
    }
    return 0;
}

int wl_enroll_process(const struct wl_enroll_config *cfg,
                      struct wl_keystore *ks, const char *line,
                      const char *peer_ip, wl_enroll_status_fn status,
                      void *status_ctx, time_t now, char *reply,
                      struct wl_enroll_result *result)
{
    struct wl_enroll_request req;
    const struct wl_key_entry *entry = NULL;
    char error[ERR_SIZE] = "";
    int r;

    memset(result, 0, sizeof(*result));
    r = wl_enroll_parse(cfg, line, peer_ip, &req, error, sizeof(error));
    if (r == WL_ENOMEM)
        return r;
    if (r == 0) {
        snprintf(result->name, sizeof(result->name), "%s", req.name);
        r = validate(cfg, ks, &req, status, status_ctx, now, result, error);
    }
    if (r == 0) {
        r = wl_keys_add(ks, req.name, req.ip, now, &entry);
        if (r == WL_ENOMEM) {
            wl_enroll_request_free(&req);
            return r;
        }
        if (r < 0)
            snprintf(error, sizeof(error),
                     "ERROR: Internal manager error adding agent: %s",
                     req.name);
    }

    if (r == 0) {
        snprintf(reply, WL_ENROLL_REPLY_MAX, "OSSEC K:'%s %s %s %s'", entry->id,
                 entry->name, entry->ip, entry->key);
        snprintf(result->id, sizeof(result->id), "%s", entry->id);
        result->accepted = 1;
        result->groups = req.groups;
        req.groups = NULL;
        wl_log_info("enrollment: agent '%s' added as id %s from %s",
                    entry->name, entry->id, peer_ip);
    } else {
        char sample[4 * 160 + 1]; /* the error quotes the request */

        snprintf(reply, WL_ENROLL_REPLY_MAX, "%s. Unable to add agent", error);
        wl_log_sanitize(sample, sizeof(sample), error,
                        strlen(error) < 160 ? strlen(error) : 160);
        wl_log_limited(WL_LOG_WARN, "enroll-rejected",
                       "enrollment from %s rejected: %s", peer_ip, sample);
    }
    wl_enroll_request_free(&req);
    return 0;
}

void wl_enroll_password_free(char *password)
{
    if (!password)
        return;
    OPENSSL_cleanse(password, strlen(password));
    free(password);
}

/* Makes a random password of 32 hex digits. */
static char *random_password(void)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[16];
    char *password = malloc(33);

    if (!password)
        return NULL;
    if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
        free(password);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(bytes); i++) {
        password[2 * i] = hex[bytes[i] >> 4];
        password[2 * i + 1] = hex[bytes[i] & 0x0f];
    }
    password[32] = '\0';
    OPENSSL_cleanse(bytes, sizeof(bytes));
    return password;
}

/*
 * Writes password and a newline to path atomically, mode 0600: a
 * temporary file in the same folder, fsync, rename, fsync of the folder.
 * Returns 0 or WL_EIO (logged, without the password).
 */
static int save_password(const char *path, const char *password)
{
    size_t size = strlen(path) + sizeof("XXXXXX");
    size_t len = strlen(password);
    char *tmp = malloc(size);
    char *folder = NULL;
    int fd = -1, dir_fd, r = WL_EIO;

    if (!tmp)
        return WL_ENOMEM;
    snprintf(tmp, size, "%sXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        wl_log_error("cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return WL_EIO;
    }
    if (fchmod(fd, 0600) < 0 || write(fd, password, len) != (ssize_t)len ||
        write(fd, "\n", 1) != 1 || fsync(fd) < 0) {
        wl_log_error("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) < 0) {
        fd = -1;
        wl_log_error("cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        wl_log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    r = 0;
    folder = strdup(path);
    if (folder) {
        dir_fd = open(dirname(folder), O_RDONLY | O_DIRECTORY);
        if (dir_fd >= 0) {
            if (fsync(dir_fd) < 0)
                wl_log_warn("cannot sync the folder of %s", path);
            close(dir_fd);
        }
    }
out:
    if (fd >= 0)
        close(fd);
    if (r < 0)
        unlink(tmp);
    free(tmp);
    free(folder);
    return r;
}

int wl_enroll_load_password(const char *path, char **password)
{
    char line[4097];
    FILE *fp = fopen(path, "r");
    struct stat st;
    size_t len;
    int r = 0;

    *password = NULL;
    if (!fp) {
        if (errno != ENOENT) {
            wl_log_error("cannot read enrollment password file %s: %s", path,
                         strerror(errno));
            return WL_EIO;
        }
        *password = random_password();
        if (!*password)
            return WL_ENOMEM;
        /* Unlike authd, which prints the password it generates, the
         * password goes to a file that only the daemon's user can read. */
        r = save_password(path, *password);
        if (r < 0) {
            wl_log_error("enrollment: cannot save a generated password to "
                         "%s; write a password line to it (mode 0600)",
                         path);
            wl_enroll_password_free(*password);
            *password = NULL;
            return r;
        }
        wl_log_info("enrollment: %s not found; generated a random password "
                    "and saved it there (mode 0600)",
                    path);
        return 0;
    }
    if (fstat(fileno(fp), &st) < 0 || !S_ISREG(st.st_mode)) {
        wl_log_error("enrollment password file %s is not a regular file", path);
        r = WL_EINVAL;
        goto out;
    }
    if (st.st_size <= 1) {
        wl_log_error("enrollment password file %s is empty", path);
        r = WL_EINVAL;
        goto out;
    }
    /* A file that yields no usable password must stop enrollment: going
     * on would accept agents without any password. */
    line[0] = '\0';
    if (!fgets(line, sizeof(line), fp))
        line[0] = '\0';
    len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    if (len < 2) {
        wl_log_error("enrollment password file %s: its first line must "
                     "hold the password, at least 2 characters",
                     path);
        r = WL_EINVAL;
        goto out;
    }
    *password = strdup(line);
    if (!*password)
        r = WL_ENOMEM;
out:
    OPENSSL_cleanse(line, sizeof(line));
    fclose(fp);
    return r;
}
