/*
 * Agent keys: the client.keys file in the format of Wazuh 4.x, one line
 * per agent, "<id> <name> <ip> <key>\n". A removed agent keeps its line
 * with '!' (older files: '#') in front of the name, so that its id is
 * never handed out again. Lines starting with '#' or a space are comments.
 * Comments and lines that cannot be used (malformed, invalid id, name,
 * address or key, NUL byte) are kept verbatim after the entries when the
 * file is rewritten, so that no line is ever lost. A line repeating the id
 * of an earlier line is kept with '#' in front, as a comment.
 *
 * A keystore is not locked against threads: the caller serialises access,
 * or builds a new store with wl_keys_load() and swaps it in. Processes
 * that change the file (wazlabd, wazlab-agents) take wl_keys_lock() around
 * each read-modify-write. Keys are secrets: wl_keys_free() wipes them and
 * no function here logs them.
 */
#ifndef WL_KEYS_H
#define WL_KEYS_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define WL_KEYS_ID_MAX 15    /* maximum id length */
#define WL_KEYS_NAME_MAX 128 /* maximum name length (Wazuh rule) */
#define WL_KEYS_IP_MAX 63    /* "any", an address, or address/prefix */
#define WL_KEYS_KEY_MAX 127  /* maximum key length, Wazuh KEYSIZE - 1 */
#define WL_KEYS_ENC_LEN 47   /* derived encryption key length */
#define WL_KEYS_AES_LEN 32   /* AES-256 uses the first 32 bytes of it */
#define WL_KEYS_SHA1_HEX 40  /* length of the enrollment key hash */

struct wl_key_entry {
    char id[WL_KEYS_ID_MAX + 1];
    char name[WL_KEYS_NAME_MAX + 1];
    char ip[WL_KEYS_IP_MAX + 1];       /* as registered, prefix included */
    char key[WL_KEYS_KEY_MAX + 1];     /* the key text from client.keys */
    char enc_key[WL_KEYS_ENC_LEN + 1]; /* derived, see wl_keys_derive() */
    time_t added;                      /* registration time; 0 when unknown */
};

struct wl_keystore {
    char *path;                    /* client.keys file; owned */
    struct wl_key_entry **entries; /* active agents, in file order */
    size_t count;
    size_t capacity;
    char **removed; /* removed lines, without newline, kept verbatim */
    size_t removed_count;
    char **kept;      /* unusable lines and comments, verbatim, no newline */
    size_t *kept_len; /* lengths of kept lines, which may contain NUL */
    size_t kept_count;
    int locked;               /* 1 while wl_keys_lock() holds the file lock */
    int lock_fd;              /* descriptor of the lock file while locked */
    unsigned long id_counter; /* highest numeric id seen, removed included */
    size_t *id_index;         /* open-addressing table of entry indexes */
    size_t id_index_size;     /* power of two, 0 when not built */
    /* Identity of the file when it was loaded, for wl_keys_changed(). */
    int file_exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
};

/*
 * Reads path into ks (which the function initialises). A missing file
 * gives an empty store. Unusable lines are logged with their line number
 * and the reason, and kept verbatim for wl_keys_save(). Their id still
 * counts for allocation when it is numeric. Returns 0, WL_ENOMEM, or WL_EIO
 * when the file exists but cannot be read. ks must be freed with wl_keys_free()
 * even after an error.
 */
int wl_keys_load(struct wl_keystore *ks, const char *path);

/* Wipes every key and frees everything ks owns; ks may then be reloaded. */
void wl_keys_free(struct wl_keystore *ks);

/*
 * Writes ks to its path atomically: a temporary file in the same folder
 * (mode 0640), fsync, rename over the old file, fsync of the folder.
 * Active entries come first, then the removed lines, as Wazuh writes them.
 * Records the new file identity so that wl_keys_changed() stays false.
 * Returns 0 or WL_EIO (the old file is then untouched).
 */
int wl_keys_save(struct wl_keystore *ks);

/*
 * Returns 1 when the file's device, inode, size, modification or change
 * time
 * differ from those recorded at load or save (including the file having
 * appeared or disappeared), else 0.
 */
int wl_keys_changed(const struct wl_keystore *ks);

/*
 * Reloads ks from its path when wl_keys_changed() returns 1. The new
 * contents replace the old only when the read succeeds. Returns 1 when
 * reloaded, 0 when unchanged, or a negative WL_E* code (ks unchanged).
 */
int wl_keys_reload_if_changed(struct wl_keystore *ks);

/*
 * Takes the lock shared by every process that changes client.keys: an
 * exclusive flock() on "<path>.lock" (created mode 0644 when missing),
 * waiting for the holder. Under the lock it deletes temporary files that
 * an interrupted save left ("<path>XXXXXX"), then reloads ks from disk:
 * always when force_reload is set, else when wl_keys_changed(). Hold the
 * lock from before the first lookup that decides a change until after
 * wl_keys_save(), then call wl_keys_unlock(). Returns 1 when reloaded, 0
 * when not, WL_EIO (lock file unusable) or the reload's error. After an
 * error the lock is not held and ks is unchanged.
 */
int wl_keys_lock(struct wl_keystore *ks, int force_reload);

/* Releases the lock of wl_keys_lock(); does nothing when not held. */
void wl_keys_unlock(struct wl_keystore *ks);

/*
 * Checks an agent id as client.keys needs it: 1 to WL_KEYS_ID_MAX
 * decimal digits. Returns 1 when valid, else 0.
 */
int wl_keys_valid_id(const char *id);

/* Returns the active entry with this id, or NULL. */
const struct wl_key_entry *wl_keys_find_id(const struct wl_keystore *ks,
                                           const char *id);

/* Returns the first active entry with this name, or NULL. */
const struct wl_key_entry *wl_keys_find_name(const struct wl_keystore *ks,
                                             const char *name);

/*
 * Returns the active entry registered with exactly this address (a
 * network entry "a.b.c.d/n" is found by "a.b.c.d", as Wazuh indexes it),
 * or NULL. "any" entries are never returned for an address.
 */
const struct wl_key_entry *wl_keys_find_ip(const struct wl_keystore *ks,
                                           const char *ip);

/*
 * Returns 1 when a message from src_ip may use the key of an agent
 * registered with address registered: "any" allows every source, a
 * network allows its members, a single address only itself. IPv4-mapped
 * IPv6 sources ("::ffff:a.b.c.d") count as IPv4. Returns 0 otherwise.
 */
int wl_keys_ip_allowed(const char *registered, const char *src_ip);

/*
 * Checks a registered address for client.keys: "any", an IPv4 or IPv6
 * address, or such an address with a prefix length. Returns 0 or
 * WL_EINVAL.
 */
int wl_keys_valid_ip(const char *ip);

/*
 * Returns 1 when name follows Wazuh's agent name rule (2 to 128 bytes of
 * [A-Za-z0-9._-], not starting with '.'), else 0.
 */
int wl_keys_valid_name(const char *name);

/*
 * Adds a new agent with the next free id (the highest id ever seen plus
 * one, printed "%03lu") and a new random key of 64 hex digits from the
 * OpenSSL CSPRNG. ip must pass wl_keys_valid_ip() and name
 * wl_keys_valid_name(). The change is in memory only until
 * wl_keys_save(). On success *entry (if not NULL) points into ks and
 * stays valid until the entry is removed or ks is freed. Returns 0,
 * WL_EINVAL, WL_ERANGE (ids exhausted), WL_ENOMEM or WL_EINTERNAL (no
 * random bytes).
 */
int wl_keys_add(struct wl_keystore *ks, const char *name, const char *ip,
                time_t added, const struct wl_key_entry **entry);

/*
 * Adds an agent with a given id and key, as an import does. Returns 0,
 * WL_EINVAL (bad field), WL_EEXIST (id already active) or WL_ENOMEM.
 */
int wl_keys_add_entry(struct wl_keystore *ks, const char *id, const char *name,
                      const char *ip, const char *key, time_t added);

/*
 * Removes the active agent with this id. Unless purge is set, its line is
 * kept as "<id> !<name> <ip> <key>" so that the id is never reused.
 * Returns 0 or WL_ENOENT. Pointers to the removed entry become invalid.
 */
int wl_keys_remove(struct wl_keystore *ks, const char *id, int purge);

/*
 * Derives the 47-character encryption key of an agent as Wazuh does:
 * md5hex(key) followed by the first 15 characters of
 * md5hex(md5hex(name) + md5hex(id)). out must hold
 * WL_KEYS_ENC_LEN + 1 bytes and is NUL-terminated.
 */
void wl_keys_derive(const char *id, const char *name, const char *key,
                    char *out);

/*
 * Writes the lowercase hex SHA-1 of id + name + key, the value an agent
 * sends as K:'...' when it enrolls again, into out
 * (WL_KEYS_SHA1_HEX + 1 bytes).
 */
void wl_keys_hash(const struct wl_key_entry *entry, char *out);

#endif
