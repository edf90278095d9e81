/* client.keys reading, writing, lookup and key derivation. */
#include <config.h>

#include "daemon/keys.h"

#include "daemon/error.h"
#include "daemon/log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define KEYS_LINE_MAX 1024 /* longer lines are malformed */
#define KEYS_WHY_MAX 160   /* reason why a line is unusable */
#define KEYS_TIMESTAMP_FILE "agents-timestamp"

/* Lowercase hex of an MD5 or SHA-1 digest computed with EVP. */
static void digest_hex(const EVP_MD *md, const void *data, size_t len,
                       char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;

    if (!EVP_Digest(data, len, digest, &digest_len, md, NULL)) {
        /* Only an OpenSSL failure gets here; it yields an unusable key. */
        digest_len = 0;
    }
    for (unsigned int i = 0; i < digest_len; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0x0f];
    }
    out[2 * digest_len] = '\0';
    OPENSSL_cleanse(digest, sizeof(digest));
}

void wl_keys_derive(const char *id, const char *name, const char *key,
                    char *out)
{
    char name_md5[33], id_md5[33], mixed[65], mixed_md5[33], key_md5[33];

    digest_hex(EVP_md5(), name, strlen(name), name_md5);
    digest_hex(EVP_md5(), id, strlen(id), id_md5);
    memcpy(mixed, name_md5, 32);
    memcpy(mixed + 32, id_md5, 32);
    digest_hex(EVP_md5(), mixed, 64, mixed_md5);
    digest_hex(EVP_md5(), key, strlen(key), key_md5);

    memcpy(out, key_md5, 32);
    memcpy(out + 32, mixed_md5, 15);
    out[WL_KEYS_ENC_LEN] = '\0';
    OPENSSL_cleanse(key_md5, sizeof(key_md5));
}

void wl_keys_hash(const struct wl_key_entry *entry, char *out)
{
    char text[WL_KEYS_ID_MAX + WL_KEYS_NAME_MAX + WL_KEYS_KEY_MAX + 1];
    int len = snprintf(text, sizeof(text), "%s%s%s", entry->id, entry->name,
                       entry->key);

    digest_hex(EVP_sha1(), text, (size_t)len, out);
    OPENSSL_cleanse(text, sizeof(text));
}

int wl_keys_valid_name(const char *name)
{
    size_t len = strlen(name);

    if (len < 2 || len > WL_KEYS_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!isalnum(c) && c != '-' && c != '_' && c != '.')
            return 0;
    }
    return 1;
}

/*
 * Parses "addr" or "addr/prefix" into binary form. Returns the address
 * family or 0 when invalid; *prefix is the full length without a prefix.
 */
static int parse_address(const char *text, unsigned char *addr, int *prefix)
{
    char host[WL_KEYS_IP_MAX + 1];
    const char *slash = strchr(text, '/');
    size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
    int family, max_prefix;

    if (host_len == 0 || host_len > WL_KEYS_IP_MAX)
        return 0;
    memcpy(host, text, host_len);
    host[host_len] = '\0';

    if (inet_pton(AF_INET, host, addr) == 1) {
        family = AF_INET;
        max_prefix = 32;
    } else if (inet_pton(AF_INET6, host, addr) == 1) {
        family = AF_INET6;
        max_prefix = 128;
    } else {
        return 0;
    }

    *prefix = max_prefix;
    if (slash) {
        char *end;
        long value;

        if (!isdigit((unsigned char)slash[1]))
            return 0;
        errno = 0;
        value = strtol(slash + 1, &end, 10);
        if (*end != '\0' || errno || value < 0 || value > max_prefix)
            return 0;
        *prefix = (int)value;
    }
    return family;
}

int wl_keys_valid_ip(const char *ip)
{
    unsigned char addr[16];
    int prefix;

    if (strcmp(ip, "any") == 0)
        return 0;
    if (strlen(ip) > WL_KEYS_IP_MAX)
        return WL_EINVAL;
    return parse_address(ip, addr, &prefix) ? 0 : WL_EINVAL;
}

/* Rewrites an IPv4-mapped IPv6 address as IPv4 in place. */
static int unmap_ipv4(int family, unsigned char *addr)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
                                             0, 0, 0, 0, 0xff, 0xff};

    if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
        memmove(addr, addr + 12, 4);
        return AF_INET;
    }
    return family;
}

int wl_keys_ip_allowed(const char *registered, const char *src_ip)
{
    unsigned char net[16], src[16];
    int net_prefix, src_prefix, net_family, src_family;

    if (strcmp(registered, "any") == 0)
        return 1;
    net_family = parse_address(registered, net, &net_prefix);
    src_family = parse_address(src_ip, src, &src_prefix);
    if (net_family == 0 || src_family == 0 || strchr(src_ip, '/'))
        return 0;
    src_family = unmap_ipv4(src_family, src);
    if (net_family != src_family)
        return 0;

    int full = net_prefix / 8, rest = net_prefix % 8;

    if (memcmp(net, src, (size_t)full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));

        if ((net[full] & mask) != (src[full] & mask))
            return 0;
    }
    return 1;
}

/* Hash of an id string for the id index (FNV-1a). */
static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *id; id++) {
        h ^= (unsigned char)*id;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

/* Rebuilds the id index so that it has at least twice count slots. */
static int rebuild_id_index(struct wl_keystore *ks)
{
    size_t size = 16;
    size_t *table;

    while (size < ks->count * 2)
        size *= 2;
    table = malloc(size * sizeof(*table));
    if (!table)
        return WL_ENOMEM;
    for (size_t i = 0; i < size; i++)
        table[i] = SIZE_MAX;
    for (size_t i = 0; i < ks->count; i++) {
        size_t slot = id_hash(ks->entries[i]->id) & (size - 1);

        while (table[slot] != SIZE_MAX)
            slot = (slot + 1) & (size - 1);
        table[slot] = i;
    }
    free(ks->id_index);
    ks->id_index = table;
    ks->id_index_size = size;
    return 0;
}

const struct wl_key_entry *wl_keys_find_id(const struct wl_keystore *ks,
                                           const char *id)
{
    size_t mask, slot;

    if (ks->id_index_size == 0)
        return NULL;
    mask = ks->id_index_size - 1;
    slot = id_hash(id) & mask;
    while (ks->id_index[slot] != SIZE_MAX) {
        const struct wl_key_entry *entry = ks->entries[ks->id_index[slot]];

        if (strcmp(entry->id, id) == 0)
            return entry;
        slot = (slot + 1) & mask;
    }
    return NULL;
}

const struct wl_key_entry *wl_keys_find_name(const struct wl_keystore *ks,
                                             const char *name)
{
    for (size_t i = 0; i < ks->count; i++) {
        if (strcmp(ks->entries[i]->name, name) == 0)
            return ks->entries[i];
    }
    return NULL;
}

/* Compares two addresses after parsing, ignoring the registered prefix. */
static int same_host(const char *registered, const char *ip)
{
    unsigned char a[16], b[16];
    int pa, pb;
    int fa = parse_address(registered, a, &pa);
    int fb = parse_address(ip, b, &pb);

    if (fa == 0 || fb == 0)
        return 0;
    fb = unmap_ipv4(fb, b);
    if (fa != fb)
        return 0;
    return memcmp(a, b, fa == AF_INET ? 4 : 16) == 0;
}

const struct wl_key_entry *wl_keys_find_ip(const struct wl_keystore *ks,
                                           const char *ip)
{
    for (size_t i = 0; i < ks->count; i++) {
        const struct wl_key_entry *entry = ks->entries[i];

        if (strcmp(entry->ip, "any") != 0 && same_host(entry->ip, ip))
            return entry;
    }
    return NULL;
}

static void free_entry(struct wl_key_entry *entry)
{
    if (!entry)
        return;
    OPENSSL_cleanse(entry, sizeof(*entry));
    free(entry);
}

static void free_line(char *line)
{
    if (!line)
        return;
    OPENSSL_cleanse(line, strlen(line));
    free(line);
}

void wl_keys_free(struct wl_keystore *ks)
{
    for (size_t i = 0; i < ks->count; i++)
        free_entry(ks->entries[i]);
    for (size_t i = 0; i < ks->removed_count; i++)
        free_line(ks->removed[i]);
    for (size_t i = 0; i < ks->kept_count; i++) {
        OPENSSL_cleanse(ks->kept[i], ks->kept_len[i]);
        free(ks->kept[i]);
    }
    wl_keys_unlock(ks);
    free(ks->entries);
    free(ks->removed);
    free(ks->kept);
    free(ks->kept_len);
    free(ks->id_index);
    free(ks->path);
    memset(ks, 0, sizeof(*ks));
}

/* Raises the id counter to a numeric id; other ids leave it alone. */
static void note_id(struct wl_keystore *ks, const char *id)
{
    char *end;
    unsigned long value;

    if (!isdigit((unsigned char)id[0]))
        return;
    errno = 0;
    value = strtoul(id, &end, 10);
    if (*end == '\0' && errno == 0 && value > ks->id_counter)
        ks->id_counter = value;
}

/* Appends an entry (taking ownership) and indexes it. */
static int append_entry(struct wl_keystore *ks, struct wl_key_entry *entry)
{
    if (ks->count == ks->capacity) {
        size_t capacity = ks->capacity ? ks->capacity * 2 : 16;
        struct wl_key_entry **grown =
            realloc(ks->entries, capacity * sizeof(*grown));

        if (!grown)
            return WL_ENOMEM;
        ks->entries = grown;
        ks->capacity = capacity;
    }
    ks->entries[ks->count++] = entry;
    if (ks->count * 2 > ks->id_index_size) {
        if (rebuild_id_index(ks) < 0) {
            ks->count--;
            return WL_ENOMEM;
        }
        return 0;
    }

    size_t mask = ks->id_index_size - 1;
    size_t slot = id_hash(entry->id) & mask;

    while (ks->id_index[slot] != SIZE_MAX)
        slot = (slot + 1) & mask;
    ks->id_index[slot] = ks->count - 1;
    return 0;
}

static int append_removed(struct wl_keystore *ks, const char *line)
{
    char **grown =
        realloc(ks->removed, (ks->removed_count + 1) * sizeof(*grown));
    char *copy;

    if (!grown)
        return WL_ENOMEM;
    ks->removed = grown;
    copy = strdup(line);
    if (!copy)
        return WL_ENOMEM;
    ks->removed[ks->removed_count++] = copy;
    return 0;
}

/* Copies a field into a fixed buffer; WL_ERANGE when it does not fit. */
static int copy_field(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);

    if (len == 0 || len >= size)
        return WL_ERANGE;
    memcpy(dst, src, len + 1);
    return 0;
}

static int new_entry(const char *id, const char *name, const char *ip,
                     const char *key, time_t added, struct wl_key_entry **out)
{
    struct wl_key_entry *entry = calloc(1, sizeof(*entry));
    int r = WL_EINVAL;

    if (!entry)
        return WL_ENOMEM;
    if (copy_field(entry->id, sizeof(entry->id), id) < 0 ||
        copy_field(entry->name, sizeof(entry->name), name) < 0 ||
        copy_field(entry->ip, sizeof(entry->ip), ip) < 0 ||
        copy_field(entry->key, sizeof(entry->key), key) < 0)
        goto out;
    if (strchr(entry->key, ' ') || wl_keys_valid_ip(entry->ip) < 0)
        goto out;
    wl_keys_derive(entry->id, entry->name, entry->key, entry->enc_key);
    entry->added = added;
    *out = entry;
    entry = NULL;
    r = 0;
out:
    free_entry(entry);
    return r;
}

int wl_keys_valid_id(const char *id)
{
    size_t len = strlen(id);

    if (len == 0 || len > WL_KEYS_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)id[i]))
            return 0;
    }
    return 1;
}

/* Keeps a line that cannot be used, verbatim, for the next save. */
static int append_kept(struct wl_keystore *ks, const char *line, size_t len)
{
    char **lines = realloc(ks->kept, (ks->kept_count + 1) * sizeof(*lines));
    size_t *lens;
    char *copy;

    if (!lines)
        return WL_ENOMEM;
    ks->kept = lines;
    lens = realloc(ks->kept_len, (ks->kept_count + 1) * sizeof(*lens));
    if (!lens)
        return WL_ENOMEM;
    ks->kept_len = lens;
    copy = malloc(len + 1);
    if (!copy)
        return WL_ENOMEM;
    memcpy(copy, line, len);
    copy[len] = '\0';
    ks->kept[ks->kept_count] = copy;
    ks->kept_len[ks->kept_count++] = len;
    return 0;
}

/*
 * Checks the fields of an active entry. Returns 0, or WL_EINVAL with the
 * reason in why (why_size bytes). The key is never quoted.
 */
static int check_fields(const char *id, const char *name, const char *ip,
                        const char *key, char *why, size_t why_size)
{
    size_t key_len = strlen(key);

    if (!wl_keys_valid_id(id))
        snprintf(why, why_size, "invalid agent id '%.20s': use 1 to %d digits",
                 id, WL_KEYS_ID_MAX);
    else if (!wl_keys_valid_name(name))
        snprintf(why, why_size, "invalid agent name '%.40s' for id %s", name,
                 id);
    else if (wl_keys_valid_ip(ip) < 0)
        snprintf(why, why_size, "invalid IP '%.63s' for id %s", ip, id);
    else if (key_len == 0 || key_len > WL_KEYS_KEY_MAX ||
             strchr(key, ' ') != NULL)
        snprintf(why, why_size,
                 "invalid key for id %s: 1 to %d characters without spaces", id,
                 WL_KEYS_KEY_MAX);
    else
        return 0;
    return WL_EINVAL;
}

/*
 * Parses one line (newline removed, no NUL inside) into ks; the line is
 * cut into fields in place. Returns 0 (also for removed entries), 1 for a
 * comment or an empty line, WL_EINVAL or WL_EEXIST with the reason in why,
 * or WL_ENOMEM.
 */
static int parse_line(struct wl_keystore *ks, char *line, char *why,
                      size_t why_size)
{
    char *id = line, *name, *ip, *key;
    struct wl_key_entry *entry = NULL;
    int r;

    if (line[0] == '#' || line[0] == ' ' || line[0] == '\0')
        return 1;
    name = strchr(id, ' ');
    if (!name) {
        snprintf(why, why_size,
                 "malformed key line: expected 'ID NAME IP KEY'");
        return WL_EINVAL;
    }
    *name++ = '\0';
    if (!wl_keys_valid_id(id)) {
        snprintf(why, why_size, "invalid agent id '%.20s': use 1 to %d digits",
                 id, WL_KEYS_ID_MAX);
        return WL_EINVAL;
    }
    note_id(ks, id);

    if (name[0] == '!' || name[0] == '#') {
        name[-1] = ' ';
        return append_removed(ks, line);
    }
    ip = strchr(name, ' ');
    key = ip ? strchr(ip + 1, ' ') : NULL;
    if (!key) {
        snprintf(why, why_size,
                 "malformed key line for id %s: expected 'ID NAME IP KEY'", id);
        return WL_EINVAL;
    }
    *ip++ = '\0';
    *key++ = '\0';

    if (wl_keys_find_id(ks, id)) {
        snprintf(why, why_size, "duplicate agent id %s", id);
        return WL_EEXIST;
    }
    r = check_fields(id, name, ip, key, why, why_size);
    if (r < 0)
        return r;
    r = new_entry(id, name, ip, key, 0, &entry);
    if (r < 0) {
        snprintf(why, why_size, "invalid fields for id %s", id);
        return r == WL_ENOMEM ? r : WL_EINVAL;
    }
    r = append_entry(ks, entry);
    if (r < 0)
        free_entry(entry);
    return r;
}

/*
 * Handles one line of len bytes (newline removed): parses it, or logs why
 * it cannot be used and keeps it verbatim. Returns 0 or WL_ENOMEM.
 */
static int load_line(struct wl_keystore *ks, char *line, size_t len,
                     unsigned long line_no)
{
    char why[KEYS_WHY_MAX] = "";
    char *work = NULL;
    int r;

    if (memchr(line, '\0', len)) {
        snprintf(why, sizeof(why), "invalid NUL byte");
        r = WL_EINVAL;
    } else if (len >= KEYS_LINE_MAX) {
        snprintf(why, sizeof(why), "line too long (%zu bytes, limit %d)", len,
                 KEYS_LINE_MAX - 1);
        r = WL_EINVAL;
    } else {
        work = malloc(len + 1);
        if (!work)
            return WL_ENOMEM;
        memcpy(work, line, len + 1);
        r = parse_line(ks, work, why, sizeof(why));
        OPENSSL_cleanse(work, len);
        free(work);
        if (r == WL_ENOMEM)
            return r;
        if (r == 1) {
            if (len == 0)
                return 0;
            return append_kept(ks, line, len); /* a comment */
        }
        if (r == 0)
            return 0;
    }
    if (r == WL_EEXIST) {
        /* Kept as a comment: it must not become active once the first
         * line with its id is removed. */
        wl_log_warn("%s:%lu: %s; line kept as a comment", ks->path, line_no,
                    why);
        work = malloc(len + 2);
        if (!work)
            return WL_ENOMEM;
        work[0] = '#';
        memcpy(work + 1, line, len + 1);
        r = append_kept(ks, work, len + 1);
        OPENSSL_cleanse(work, len + 1);
        free(work);
        return r;
    }
    wl_log_warn("%s:%lu: %s; line kept as is", ks->path, line_no, why);
    return append_kept(ks, line, len);
}

/* Records the identity of the file as it is now. */
static void record_identity(struct wl_keystore *ks)
{
    struct stat st;

    if (stat(ks->path, &st) < 0) {
        ks->file_exists = 0;
        return;
    }
    ks->file_exists = 1;
    ks->dev = st.st_dev;
    ks->ino = st.st_ino;
    ks->size = st.st_size;
    ks->mtime = st.st_mtim;
    ks->ctime = st.st_ctim;
}

int wl_keys_changed(const struct wl_keystore *ks)
{
    struct stat st;

    if (stat(ks->path, &st) < 0)
        return ks->file_exists;
    if (!ks->file_exists)
        return 1;
    return st.st_dev != ks->dev || st.st_ino != ks->ino ||
           st.st_size != ks->size || st.st_mtim.tv_sec != ks->mtime.tv_sec ||
           st.st_mtim.tv_nsec != ks->mtime.tv_nsec ||
           st.st_ctim.tv_sec != ks->ctime.tv_sec ||
           st.st_ctim.tv_nsec != ks->ctime.tv_nsec;
}

/* Builds "<folder of client.keys>/agents-timestamp"; NULL on failure. */
static char *timestamp_path(const char *keys_path)
{
    char *copy = strdup(keys_path);
    char *path = NULL;
    size_t size;

    if (!copy)
        return NULL;
    const char *dir = dirname(copy);

    size = strlen(dir) + sizeof(KEYS_TIMESTAMP_FILE) + 1;
    path = malloc(size);
    if (path)
        snprintf(path, size, "%s/%s", dir, KEYS_TIMESTAMP_FILE);
    free(copy);
    return path;
}

/*
 * Reads registration times, lines "<id> <name> <ip> YYYY-MM-DD HH:MM:SS"
 * in local time as Wazuh writes them. A missing file is not an error.
 */
static void load_timestamps(struct wl_keystore *ks)
{
    char *path = timestamp_path(ks->path);
    char line[KEYS_LINE_MAX];
    FILE *fp;

    if (!path)
        return;
    fp = fopen(path, "r");
    free(path);
    if (!fp)
        return;
    while (fgets(line, sizeof(line), fp)) {
        char id[WL_KEYS_ID_MAX + 1];
        struct tm tm = {.tm_isdst = -1};

        if (sscanf(line, "%15s %*s %*s %d-%d-%d %d:%d:%d", id, &tm.tm_year,
                   &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec) != 7)
            continue;
        struct wl_key_entry *entry =
            (struct wl_key_entry *)wl_keys_find_id(ks, id);

        if (!entry)
            continue;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        entry->added = mktime(&tm);
    }
    fclose(fp);
}

int wl_keys_load(struct wl_keystore *ks, const char *path)
{
    char *line = NULL;
    size_t line_size = 0;
    ssize_t len;
    unsigned long line_no = 0;
    FILE *fp = NULL;
    int r = WL_ENOMEM;

    memset(ks, 0, sizeof(*ks));
    ks->lock_fd = -1;
    ks->path = strdup(path);
    if (!ks->path || rebuild_id_index(ks) < 0)
        goto out;

    record_identity(ks);
    fp = fopen(path, "r");
    if (!fp) {
        if (errno == ENOENT) {
            r = 0;
            goto out;
        }
        wl_log_error("cannot open agent keys %s: %s", path, strerror(errno));
        r = WL_EIO;
        goto out;
    }

    /* getline() gives the true length, so a NUL byte cannot hide text. */
    while ((len = getline(&line, &line_size, fp)) != -1) {
        line_no++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        r = load_line(ks, line, (size_t)len, line_no);
        if (r < 0)
            goto out;
    }
    if (ferror(fp)) {
        wl_log_error("cannot read agent keys %s: %s", path, strerror(errno));
        r = WL_EIO;
        goto out;
    }
    load_timestamps(ks);
    r = 0;
out:
    if (line) {
        OPENSSL_cleanse(line, line_size);
        free(line);
    }
    if (fp)
        fclose(fp);
    return r;
}

/* Reads the file again into ks; the lock state stays with ks. */
static int reload(struct wl_keystore *ks)
{
    struct wl_keystore fresh;
    int locked = ks->locked, lock_fd = ks->lock_fd;
    unsigned long id_counter = ks->id_counter;
    int r = wl_keys_load(&fresh, ks->path);

    if (r < 0) {
        wl_keys_free(&fresh);
        return r;
    }
    ks->locked = 0; /* the lock passes to the new contents */
    wl_keys_free(ks);
    *ks = fresh;
    ks->locked = locked;
    ks->lock_fd = lock_fd;
    /* An id handed out before stays used even when a hand edit removed
     * every trace of it from the file. */
    if (id_counter > ks->id_counter)
        ks->id_counter = id_counter;
    return 1;
}

int wl_keys_reload_if_changed(struct wl_keystore *ks)
{
    if (!wl_keys_changed(ks))
        return 0;
    return reload(ks);
}

/* Writes all of buf to fd; WL_EIO on failure. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return WL_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Opens the folder of path and fsyncs it so that a rename is durable. */
static int sync_folder(const char *path)
{
    char *copy = strdup(path);
    int fd, r = WL_EIO;

    if (!copy)
        return WL_ENOMEM;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        if (fsync(fd) == 0)
            r = 0;
        close(fd);
    }
    free(copy);
    return r;
}

/*
 * Replaces path with the text produced by writer(ks, fd) through a
 * temporary file, fsync and rename. Returns 0 or WL_EIO.
 */
static int replace_file(const char *path, struct wl_keystore *ks,
                        int (*writer)(struct wl_keystore *, int))
{
    size_t size = strlen(path) + 8;
    char *tmp = malloc(size);
    int fd = -1, r = WL_ENOMEM;

    if (!tmp)
        goto out;
    snprintf(tmp, size, "%sXXXXXX", path);
    r = WL_EIO;
    fd = mkstemp(tmp);
    if (fd < 0) {
        wl_log_error("cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0640) < 0 || writer(ks, fd) < 0 || fsync(fd) < 0) {
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
    free(tmp);
    tmp = NULL;
    r = sync_folder(path);
    if (r < 0)
        wl_log_warn("cannot sync the folder of %s", path);
    r = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    return r;
}

static int write_keys(struct wl_keystore *ks, int fd)
{
    char line[KEYS_LINE_MAX];
    int r = 0;

    for (size_t i = 0; i < ks->count && r == 0; i++) {
        const struct wl_key_entry *e = ks->entries[i];
        int len = snprintf(line, sizeof(line), "%s %s %s %s\n", e->id, e->name,
                           e->ip, e->key);

        r = write_all(fd, line, (size_t)len);
    }
    for (size_t i = 0; i < ks->removed_count && r == 0; i++) {
        int len = snprintf(line, sizeof(line), "%s\n", ks->removed[i]);

        r = write_all(fd, line, (size_t)len);
    }
    for (size_t i = 0; i < ks->kept_count && r == 0; i++) {
        r = write_all(fd, ks->kept[i], ks->kept_len[i]);
        if (r == 0)
            r = write_all(fd, "\n", 1);
    }
    OPENSSL_cleanse(line, sizeof(line));
    return r;
}

static int write_timestamps(struct wl_keystore *ks, int fd)
{
    char line[KEYS_LINE_MAX];

    for (size_t i = 0; i < ks->count; i++) {
        const struct wl_key_entry *e = ks->entries[i];
        struct tm tm;
        char stamp[32];
        int len;

        if (e->added == 0 || !localtime_r(&e->added, &tm))
            continue;
        strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
        len = snprintf(line, sizeof(line), "%s %s %s %s\n", e->id, e->name,
                       e->ip, stamp);
        if (write_all(fd, line, (size_t)len) < 0)
            return WL_EIO;
    }
    return 0;
}

int wl_keys_save(struct wl_keystore *ks)
{
    char *stamps;
    int r = replace_file(ks->path, ks, write_keys);

    if (r < 0)
        return r;
    record_identity(ks);

    stamps = timestamp_path(ks->path);
    if (!stamps)
        return WL_ENOMEM;
    if (replace_file(stamps, ks, write_timestamps) < 0)
        wl_log_warn("cannot update %s; registration times may be lost", stamps);
    free(stamps);
    return 0;
}

/*
 * Returns 1 when name is "<base>" followed by exactly six characters of
 * [A-Za-z0-9], the name mkstemp() gives a temporary file of base.
 */
static int is_temp_of(const char *name, const char *base)
{
    size_t base_len = strlen(base);

    if (strncmp(name, base, base_len) != 0 || strlen(name) != base_len + 6)
        return 0;
    for (size_t i = base_len; name[i]; i++) {
        if (!isalnum((unsigned char)name[i]))
            return 0;
    }
    return 1;
}

/*
 * Deletes temporary files of client.keys and agents-timestamp left by a
 * save that was killed. Only called under the lock, when no save runs.
 */
static void remove_stale_temps(const struct wl_keystore *ks)
{
    char *copy_dir = strdup(ks->path), *copy_base = strdup(ks->path);
    DIR *dir = NULL;
    struct dirent *de;

    if (!copy_dir || !copy_base)
        goto out;
    const char *folder = dirname(copy_dir);
    const char *base = basename(copy_base);

    dir = opendir(folder);
    if (!dir)
        goto out;
    while ((de = readdir(dir)) != NULL) {
        if (!is_temp_of(de->d_name, base) &&
            !is_temp_of(de->d_name, KEYS_TIMESTAMP_FILE))
            continue;
        if (unlinkat(dirfd(dir), de->d_name, 0) == 0)
            wl_log_warn("removed %s/%s left by an interrupted save", folder,
                        de->d_name);
    }
out:
    if (dir)
        closedir(dir);
    free(copy_dir);
    free(copy_base);
}

int wl_keys_lock(struct wl_keystore *ks, int force_reload)
{
    size_t size = strlen(ks->path) + sizeof(".lock");
    char *lock_path = malloc(size);
    int fd, r;

    if (!lock_path)
        return WL_ENOMEM;
    snprintf(lock_path, size, "%s.lock", ks->path);
    fd = open(lock_path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        wl_log_error("cannot open the lock file %s: %s", lock_path,
                     strerror(errno));
        free(lock_path);
        return WL_EIO;
    }
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        wl_log_error("cannot lock %s: %s", lock_path, strerror(errno));
        close(fd);
        free(lock_path);
        return WL_EIO;
    }
    free(lock_path);
    ks->locked = 1;
    ks->lock_fd = fd;
    remove_stale_temps(ks);
    r = force_reload ? reload(ks) : wl_keys_reload_if_changed(ks);
    if (r < 0)
        wl_keys_unlock(ks);
    return r;
}

void wl_keys_unlock(struct wl_keystore *ks)
{
    if (!ks->locked)
        return;
    /* Closing the descriptor releases the flock. */
    close(ks->lock_fd);
    ks->locked = 0;
    ks->lock_fd = -1;
}

/* Fills key with 64 lowercase hex digits from the CSPRNG. */
static int random_key(char *key)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[32];

    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        return WL_EINTERNAL;
    for (size_t i = 0; i < sizeof(bytes); i++) {
        key[2 * i] = hex[bytes[i] >> 4];
        key[2 * i + 1] = hex[bytes[i] & 0x0f];
    }
    key[64] = '\0';
    OPENSSL_cleanse(bytes, sizeof(bytes));
    return 0;
}

int wl_keys_add(struct wl_keystore *ks, const char *name, const char *ip,
                time_t added, const struct wl_key_entry **entry)
{
    char id[WL_KEYS_ID_MAX + 1];
    char key[65];
    int r;

    if (!wl_keys_valid_name(name) || wl_keys_valid_ip(ip) < 0)
        return WL_EINVAL;
    if (ks->id_counter >= 99999999UL)
        return WL_ERANGE; /* agents accept ids of at most 8 digits */
    snprintf(id, sizeof(id), "%03lu", ks->id_counter + 1);
    if (wl_keys_find_id(ks, id))
        return WL_EINTERNAL;
    r = random_key(key);
    if (r < 0)
        return r;
    r = wl_keys_add_entry(ks, id, name, ip, key, added);
    OPENSSL_cleanse(key, sizeof(key));
    if (r == 0 && entry)
        *entry = ks->entries[ks->count - 1];
    return r;
}

int wl_keys_add_entry(struct wl_keystore *ks, const char *id, const char *name,
                      const char *ip, const char *key, time_t added)
{
    struct wl_key_entry *entry = NULL;
    int r;

    if (id[0] == '\0' || strlen(id) > WL_KEYS_ID_MAX)
        return WL_EINVAL;
    for (const char *p = id; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return WL_EINVAL;
    }
    if (!wl_keys_valid_name(name))
        return WL_EINVAL;
    if (wl_keys_find_id(ks, id))
        return WL_EEXIST;
    r = new_entry(id, name, ip, key, added, &entry);
    if (r < 0)
        return r == WL_ENOMEM ? r : WL_EINVAL;
    r = append_entry(ks, entry);
    if (r < 0) {
        free_entry(entry);
        return r;
    }
    note_id(ks, id);
    return 0;
}

int wl_keys_remove(struct wl_keystore *ks, const char *id, int purge)
{
    size_t i;
    struct wl_key_entry *entry;

    for (i = 0; i < ks->count; i++) {
        if (strcmp(ks->entries[i]->id, id) == 0)
            break;
    }
    if (i == ks->count)
        return WL_ENOENT;
    entry = ks->entries[i];

    if (!purge) {
        char line[KEYS_LINE_MAX];
        int r;

        snprintf(line, sizeof(line), "%s !%s %s %s", entry->id, entry->name,
                 entry->ip, entry->key);
        r = append_removed(ks, line);
        OPENSSL_cleanse(line, sizeof(line));
        if (r < 0)
            return r;
    }
    memmove(ks->entries + i, ks->entries + i + 1,
            (ks->count - i - 1) * sizeof(*ks->entries));
    ks->count--;
    free_entry(entry);
    return rebuild_id_index(ks);
}
