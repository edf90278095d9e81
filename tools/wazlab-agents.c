/*
 * wazlab-agents: manages the agent keys in <data dir>/client.keys in the
 * manner of Wazuh's manage_agents: list, add, remove, show one key, and
 * import the entries of another client.keys file. Changes are made under
 * the lock that wazlabd also takes (flock on client.keys.lock), on the
 * file as it is on disk at that moment, so neither overwrites the other.
 */
#include "config.h"

#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: wazlab-agents [-d DIR] COMMAND [ARGS]\n"
            "Manage the keys of Wazuh agents in DIR/client.keys.\n"
            "\n"
            "Commands:\n"
            "  list                 list the registered agents (no keys)\n"
            "  add NAME [IP]        register an agent; IP is 'any' (the\n"
            "                       default), an address or a network\n"
            "  remove ID            remove an agent; its id is not reused\n"
            "  show-key ID          print the agent's key in the base64\n"
            "                       form that manage_agents -i imports\n"
            "  show-key --line ID   print the agent's client.keys line\n"
            "  import FILE          add the active entries of another\n"
            "                       client.keys file, keeping their ids\n"
            "\n"
            "Options:\n"
            "  -d DIR      data folder holding client.keys (default: %s)\n"
            "  -h, --help  print this help\n",
            WL_LOCALSTATEDIR);
}

static int cmd_list(struct wl_keystore *ks)
{
    struct stat st;

    if (stat(ks->path, &st) < 0 && errno == ENOENT) {
        printf("No agents registered (%s does not exist).\n", ks->path);
        return 0;
    }
    if (ks->count == 0) {
        printf("No agents registered.\n");
        return 0;
    }
    printf("%-8s %-32s %s\n", "ID", "NAME", "IP");
    for (size_t i = 0; i < ks->count; i++) {
        const struct wl_key_entry *e = ks->entries[i];

        printf("%-8s %-32s %s\n", e->id, e->name, e->ip);
    }
    return 0;
}

static int save_or_report(struct wl_keystore *ks)
{
    int r = wl_keys_save(ks);

    if (r < 0)
        fprintf(stderr, "wazlab-agents: cannot write %s: %s\n", ks->path,
                wl_strerror(r));
    return r;
}

static int cmd_add(struct wl_keystore *ks, const char *name, const char *ip)
{
    const struct wl_key_entry *e = NULL;
    int r;

    if (!wl_keys_valid_name(name)) {
        fprintf(stderr,
                "wazlab-agents: invalid agent name '%s': use 2 to 128 "
                "characters of A-Z, a-z, 0-9, '.', '_' and '-', not "
                "starting with '.'\n",
                name);
        return WL_EINVAL;
    }
    if (wl_keys_valid_ip(ip) < 0) {
        fprintf(stderr,
                "wazlab-agents: invalid IP '%s': use 'any', an address or "
                "a network such as 10.0.0.0/24\n",
                ip);
        return WL_EINVAL;
    }
    if (wl_keys_find_name(ks, name)) {
        fprintf(stderr, "wazlab-agents: an agent named '%s' already exists\n",
                name);
        return WL_EEXIST;
    }
    if (strcmp(ip, "any") != 0 && wl_keys_find_ip(ks, ip)) {
        fprintf(stderr, "wazlab-agents: an agent with IP '%s' already exists\n",
                ip);
        return WL_EEXIST;
    }
    r = wl_keys_add(ks, name, ip, time(NULL), &e);
    if (r < 0) {
        fprintf(stderr, "wazlab-agents: cannot add agent '%s': %s\n", name,
                wl_strerror(r));
        return r;
    }
    r = save_or_report(ks);
    if (r == 0)
        printf("Agent added: ID %s, name %s, IP %s\n", e->id, e->name, e->ip);
    return r;
}

static int cmd_remove(struct wl_keystore *ks, const char *id)
{
    int r = wl_keys_remove(ks, id, 0);

    if (r < 0) {
        fprintf(stderr,
                "wazlab-agents: agent ID '%s' not found; see "
                "wazlab-agents list\n",
                id);
        return r;
    }
    r = save_or_report(ks);
    if (r == 0)
        printf("Agent %s removed.\n", id);
    return r;
}

static int cmd_show_key(struct wl_keystore *ks, const char *id, int line)
{
    const struct wl_key_entry *e = wl_keys_find_id(ks, id);
    char text[WL_KEYS_ID_MAX + WL_KEYS_NAME_MAX + WL_KEYS_IP_MAX +
              WL_KEYS_KEY_MAX + 8];
    unsigned char encoded[sizeof(text) * 2];
    int len;

    if (!e) {
        fprintf(stderr,
                "wazlab-agents: agent ID '%s' not found; see "
                "wazlab-agents list\n",
                id);
        return WL_ENOENT;
    }
    len = snprintf(text, sizeof(text), "%s %s %s %s", e->id, e->name, e->ip,
                   e->key);
    if (line) {
        printf("%s\n", text);
    } else {
        EVP_EncodeBlock(encoded, (const unsigned char *)text, len);
        printf("%s\n", encoded);
        OPENSSL_cleanse(encoded, sizeof(encoded));
    }
    OPENSSL_cleanse(text, sizeof(text));
    return 0;
}

/* Adds every active entry of another file; entries whose id or name is
 * already taken are skipped with a message. */
static int cmd_import(struct wl_keystore *ks, const char *file)
{
    struct wl_keystore other;
    size_t added = 0, skipped = 0;
    FILE *fp = fopen(file, "r");
    int r;

    /* A missing file would load as an empty store, so report it here. */
    if (!fp) {
        fprintf(stderr, "wazlab-agents: cannot read %s: %s\n", file,
                strerror(errno));
        return WL_EIO;
    }
    fclose(fp);
    r = wl_keys_load(&other, file);
    if (r < 0) {
        fprintf(stderr, "wazlab-agents: cannot read %s: %s\n", file,
                wl_strerror(r));
        goto out;
    }
    for (size_t i = 0; i < other.count; i++) {
        const struct wl_key_entry *e = other.entries[i];

        if (wl_keys_find_name(ks, e->name)) {
            fprintf(stderr,
                    "wazlab-agents: skipped ID %s: name '%s' "
                    "already registered\n",
                    e->id, e->name);
            skipped++;
            continue;
        }
        r = wl_keys_add_entry(ks, e->id, e->name, e->ip, e->key, time(NULL));
        if (r < 0) {
            fprintf(stderr, "wazlab-agents: skipped ID %s (%s): %s\n", e->id,
                    e->name,
                    r == WL_EEXIST ? "ID already registered" : wl_strerror(r));
            skipped++;
            continue;
        }
        added++;
    }
    r = 0;
    if (added > 0)
        r = save_or_report(ks);
    if (r == 0)
        printf("Imported %zu agents, skipped %zu.\n", added, skipped);
    if (r == 0 && skipped > 0)
        r = WL_EEXIST;
out:
    wl_keys_free(&other);
    return r;
}

/* Returns 1 for the commands that change client.keys. */
static int changes_keys(const char *cmd)
{
    return strcmp(cmd, "add") == 0 || strcmp(cmd, "remove") == 0 ||
           strcmp(cmd, "import") == 0;
}

static int run(struct wl_keystore *ks, int argc, char **argv)
{
    const char *cmd = argv[0];

    if (strcmp(cmd, "list") == 0 && argc == 1)
        return cmd_list(ks);
    if (strcmp(cmd, "add") == 0 && (argc == 2 || argc == 3))
        return cmd_add(ks, argv[1], argc == 3 ? argv[2] : "any");
    if (strcmp(cmd, "remove") == 0 && argc == 2)
        return cmd_remove(ks, argv[1]);
    if (strcmp(cmd, "show-key") == 0 && argc == 2)
        return cmd_show_key(ks, argv[1], 0);
    if (strcmp(cmd, "show-key") == 0 && argc == 3 &&
        strcmp(argv[1], "--line") == 0)
        return cmd_show_key(ks, argv[2], 1);
    if (strcmp(cmd, "import") == 0 && argc == 2)
        return cmd_import(ks, argv[1]);
    fprintf(stderr, "wazlab-agents: invalid command or arguments: %s\n", cmd);
    usage(stderr);
    return WL_EINVAL;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = WL_LOCALSTATEDIR;
    struct wl_keystore ks;
    struct stat st;
    char path[4096];
    int opt, r;

    wl_log_init("wazlab-agents", WL_LOG_WARN);
    while ((opt = getopt_long(argc, argv, "+d:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/client.keys", dir) >=
        sizeof(path)) {
        fprintf(stderr, "wazlab-agents: data folder path too long\n");
        return 2;
    }

    if (stat(dir, &st) < 0) {
        fprintf(stderr, "wazlab-agents: data folder %s: %s\n", dir,
                strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "wazlab-agents: data folder %s is not a folder\n", dir);
        return 1;
    }
    /* A change applies to the file as it is under the lock, so it is read
     * again there. The first read only sets ks up and logs nothing. */
    if (changes_keys(argv[optind])) {
        wl_log_init("wazlab-agents", WL_LOG_ERROR);
        r = wl_keys_load(&ks, path);
        wl_log_init("wazlab-agents", WL_LOG_WARN);
        if (r == 0)
            r = wl_keys_lock(&ks, 1);
    } else {
        r = wl_keys_load(&ks, path);
    }
    if (r < 0) {
        fprintf(stderr, "wazlab-agents: cannot read %s: %s\n", path,
                wl_strerror(r));
        wl_keys_free(&ks);
        return 1;
    }
    r = run(&ks, argc - optind, argv + optind);
    wl_keys_free(&ks);
    return r < 0 ? 1 : 0;
}
