/*
 * wazlab-agents: manages the agent keys in <data dir>/client.keys in the
 * manner of Wazuh's manage_agents: list, add, remove, show one key, and
 * import the entries of another client.keys file. wazlabd notices the
 * change by itself (it checks the file's modification time and inode).
 */
#include "config.h"

#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
            "  -d DIR   data folder holding client.keys (default: %s)\n"
            "  -h       print this help\n",
            WL_LOCALSTATEDIR);
}

static int cmd_list(struct wl_keystore *ks)
{
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
    int r = wl_keys_load(&other, file);

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
    const char *dir = WL_LOCALSTATEDIR;
    struct wl_keystore ks;
    char path[4096];
    int opt, r;

    wl_log_init("wazlab-agents", WL_LOG_WARN);
    while ((opt = getopt(argc, argv, "+d:h")) != -1) {
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

    /* NOTE: the file is not locked, so a change made here at the moment
     * wazlabd enrolls an agent can be overwritten by the daemon's write. */
    r = wl_keys_load(&ks, path);
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
