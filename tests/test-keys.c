/*
 * client.keys: reading Wazuh's format, removed entries, id allocation,
 * atomic rewrite, change detection and address rules.
 */
#include "config.h"

#include "daemon/error.h"
#include "daemon/keys.h"
#include "daemon/log.h"
#include "tests/tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/wazlab-test-keys-XXXXXX";
static char keys_path[256];

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    fputs(text, fp);
    fclose(fp);
}

static char *read_file(const char *path)
{
    static char buf[8192];
    FILE *fp = fopen(path, "r");
    size_t n;

    if (!fp)
        return NULL;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

/* Counts files in the test folder, to find leftover temporary files. */
static int count_files(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] != '.')
            n++;
    }
    closedir(d);
    return n;
}

static const char sample[] =
    "001 win-agent-01 any "
    "17c9215c10b920ef5612a768be16727da4c997d1e88e7564f2d11448127c4495\n"
    "# a comment line\n"
    "002 !old-host any "
    "8297369cba389572b5c9de37b3391c5009f223f23f4de9475bf469c736186348\n"
    "003 web-server.example 10.0.0.5 "
    "8297369cba389572b5c9de37b3391c5009f223f23f4de9475bf469c736186348\n"
    " indented comment\n"
    "007 #older-removed any abcdef\n"
    "garbage-without-fields\n"
    "004 lan-agent 192.168.1.0/24 k4k4k4k4\n"
    "003 duplicate-id any k5\n";

static void check_load(void)
{
    struct wl_keystore ks;
    const struct wl_key_entry *e;
    int r;

    write_file(keys_path, sample);
    r = wl_keys_load(&ks, keys_path);
    is_int(r, 0, "load: sample file");
    is_int(ks.count, 3, "load: three active agents");
    is_int(ks.removed_count, 2, "load: two removed lines kept");
    is_int(ks.id_counter, 7, "load: id counter includes removed ids");

    e = wl_keys_find_id(&ks, "001");
    ok(e && strcmp(e->name, "win-agent-01") == 0, "find: by id 001");
    is_str(e ? e->enc_key : NULL,
           "556a7952fc25190e6603aaca505e8f6c60c26e01ea26852",
           "load: derived encryption key");
    ok(wl_keys_find_id(&ks, "002") == NULL, "find: removed id not active");
    ok(wl_keys_find_id(&ks, "1") == NULL, "find: id compared as text");
    e = wl_keys_find_name(&ks, "web-server.example");
    ok(e && strcmp(e->id, "003") == 0, "find: by name");
    e = wl_keys_find_ip(&ks, "10.0.0.5");
    ok(e && strcmp(e->id, "003") == 0, "find: by single address");
    e = wl_keys_find_ip(&ks, "::ffff:10.0.0.5");
    ok(e && strcmp(e->id, "003") == 0, "find: by IPv4-mapped address");
    e = wl_keys_find_ip(&ks, "192.168.1.0");
    ok(e && strcmp(e->id, "004") == 0, "find: network by its address");
    ok(wl_keys_find_ip(&ks, "192.168.1.7") == NULL,
       "find: network member is not an exact address");
    ok(wl_keys_find_ip(&ks, "any") == NULL, "find: 'any' is no address");
    wl_keys_free(&ks);
}

static void check_add_remove_save(void)
{
    struct wl_keystore ks, again;
    const struct wl_key_entry *e = NULL;
    char *text;
    int r;

    write_file(keys_path, sample);
    wl_keys_load(&ks, keys_path);

    r = wl_keys_add(&ks, "new-agent", "any", 1700000000, &e);
    is_int(r, 0, "add: new agent");
    is_str(e ? e->id : NULL, "008", "add: id after the highest removed id");
    ok(e && strlen(e->key) == 64 && strspn(e->key, "0123456789abcdef") == 64,
       "add: key is 64 hex digits");
    is_int(wl_keys_add(&ks, "bad name", "any", 0, NULL), WL_EINVAL,
           "add: invalid name rejected");
    is_int(wl_keys_add(&ks, "okname", "300.1.1.1", 0, NULL), WL_EINVAL,
           "add: invalid address rejected");
    is_int(wl_keys_add_entry(&ks, "001", "x1", "any", "k", 0), WL_EEXIST,
           "add: existing id rejected");
    is_int(wl_keys_add_entry(&ks, "0a1", "x1", "any", "k", 0), WL_EINVAL,
           "add: non-numeric id rejected");
    is_int(wl_keys_add_entry(&ks, "001x", "x1", "any", "k k", 0), WL_EINVAL,
           "add: key with a space rejected");

    is_int(wl_keys_remove(&ks, "001", 0), 0, "remove: agent 001");
    is_int(wl_keys_remove(&ks, "001", 0), WL_ENOENT, "remove: already removed");
    is_int(wl_keys_remove(&ks, "004", 1), 0, "remove: purge agent 004");
    ok(wl_keys_find_id(&ks, "001") == NULL, "remove: 001 no longer found");
    ok(wl_keys_find_id(&ks, "003") != NULL, "remove: 003 still found");

    r = wl_keys_save(&ks);
    is_int(r, 0, "save: rewrite");
    is_int(count_files(), 2, "save: no temporary file left");
    text = read_file(keys_path);
    ok(text && strncmp(text, "003 web-server.example 10.0.0.5 ", 32) == 0,
       "save: active entries first");
    ok(text && strstr(text, "\n002 !old-host any ") != NULL,
       "save: old removed line kept");
    ok(text && strstr(text, "\n007 #older-removed any abcdef\n") != NULL,
       "save: old '#' removed line kept verbatim");
    ok(text && strstr(text, "\n001 !win-agent-01 any 17c9215c") != NULL,
       "save: removed agent marked with '!'");
    ok(text && strstr(text, "lan-agent") == NULL, "save: purged agent gone");
    ok(text && strstr(text, "\n# a comment line\n") != NULL &&
           strstr(text, "\n indented comment\n") != NULL,
       "save: comments kept");
    ok(text && strstr(text, "\ngarbage-without-fields\n") != NULL,
       "save: malformed line kept verbatim");
    ok(text && strstr(text, "\n#003 duplicate-id any k5\n") != NULL,
       "save: duplicate id line kept as a comment");
    {
        struct stat st;

        stat(keys_path, &st);
        is_int(st.st_mode & 0777, 0640, "save: mode 0640");
    }
    ok(!wl_keys_changed(&ks), "changed: not after our own save");

    r = wl_keys_load(&again, keys_path);
    is_int(r, 0, "round trip: reload");
    is_int(again.count, 2, "round trip: two active agents");
    is_int(again.removed_count, 3, "round trip: three removed lines");
    is_int(again.id_counter, 8, "round trip: id counter");
    e = wl_keys_find_id(&again, "008");
    ok(e && strcmp(e->key, wl_keys_find_id(&ks, "008")->key) == 0,
       "round trip: new key kept");
    ok(e && e->added == 1700000000, "round trip: registration time kept");
    wl_keys_free(&again);

    wl_keys_remove(&ks, "008", 0);
    wl_keys_remove(&ks, "003", 0);
    wl_keys_save(&ks);
    wl_keys_free(&ks);
    wl_keys_load(&ks, keys_path);
    is_int(ks.count, 0, "ids: no active agent left");
    wl_keys_add(&ks, "after-all", "any", 0, &e);
    is_str(e ? e->id : NULL, "009", "ids: removed ids never reused");
    wl_keys_free(&ks);
}

static void check_reload(void)
{
    struct wl_keystore ks;
    char other[300];

    unlink(keys_path);
    is_int(wl_keys_load(&ks, keys_path), 0, "reload: missing file is empty");
    is_int(ks.count, 0, "reload: no agents");
    is_int(wl_keys_reload_if_changed(&ks), 0, "reload: nothing changed");

    snprintf(other, sizeof(other), "%s/other", dir);
    write_file(other, "005 fresh-agent any abc\n");
    rename(other, keys_path);
    ok(wl_keys_changed(&ks), "changed: file appeared");
    is_int(wl_keys_reload_if_changed(&ks), 1, "reload: new file read");
    ok(wl_keys_find_id(&ks, "005") != NULL, "reload: new agent found");

    write_file(other, "005 fresh-agent any abc\n006 second any def\n");
    rename(other, keys_path);
    is_int(wl_keys_reload_if_changed(&ks), 1, "reload: replaced file read");
    ok(wl_keys_find_id(&ks, "006") != NULL, "reload: second agent found");
    is_int(wl_keys_reload_if_changed(&ks), 0, "reload: then unchanged");

    /* Ids stay used after a hand edit empties the file. */
    write_file(other, "");
    rename(other, keys_path);
    is_int(wl_keys_reload_if_changed(&ks), 1, "reload: emptied file read");
    const struct wl_key_entry *added = NULL;
    is_int(wl_keys_add(&ks, "after-truncate", "any", 0, &added), 0,
           "reload: add after truncation");
    is_str(added ? added->id : NULL, "007",
           "reload: ids of the old file not reused");
    wl_keys_free(&ks);
}

static void check_addresses(void)
{
    ok(wl_keys_ip_allowed("any", "1.2.3.4"), "allowed: any");
    ok(wl_keys_ip_allowed("10.0.0.5", "10.0.0.5"), "allowed: same address");
    ok(!wl_keys_ip_allowed("10.0.0.5", "10.0.0.6"),
       "allowed: other address rejected");
    ok(wl_keys_ip_allowed("10.1.0.0/16", "10.1.255.3"),
       "allowed: network member");
    ok(!wl_keys_ip_allowed("10.1.0.0/16", "10.2.0.1"),
       "allowed: outside network rejected");
    ok(wl_keys_ip_allowed("10.1.0.0/12", "10.15.0.1"),
       "allowed: prefix not on a byte boundary");
    ok(!wl_keys_ip_allowed("10.1.0.0/12", "10.16.0.1"),
       "allowed: just outside /12 rejected");
    ok(wl_keys_ip_allowed("10.0.0.5", "::ffff:10.0.0.5"),
       "allowed: IPv4-mapped source");
    ok(wl_keys_ip_allowed("fd00::/8", "fd12::1"), "allowed: IPv6 network");
    ok(!wl_keys_ip_allowed("fd00::/8", "10.0.0.1"),
       "allowed: IPv4 source for IPv6 network rejected");
    ok(wl_keys_ip_allowed("0.0.0.0/0", "8.8.8.8"), "allowed: /0");
    ok(!wl_keys_ip_allowed("garbage", "1.1.1.1"),
       "allowed: invalid registration rejected");
    is_int(wl_keys_valid_ip("10.0.0.0/33"), WL_EINVAL,
           "valid ip: prefix over 32");
    is_int(wl_keys_valid_ip("10.0.0.0/"), WL_EINVAL, "valid ip: empty prefix");
    is_int(wl_keys_valid_ip("::1/128"), 0, "valid ip: IPv6 /128");
    ok(wl_keys_valid_name("WIN-HOST01"), "name: letters digits dash");
    ok(wl_keys_valid_name("a.b_c-d"), "name: dots and underscores");
    ok(!wl_keys_valid_name(".hidden"), "name: leading dot rejected");
    ok(!wl_keys_valid_name("x"), "name: one character rejected");
    ok(!wl_keys_valid_name("with space"), "name: space rejected");
    {
        char name[130];

        memset(name, 'n', 129);
        name[129] = '\0';
        ok(!wl_keys_valid_name(name), "name: 129 characters rejected");
        name[128] = '\0';
        ok(wl_keys_valid_name(name), "name: 128 characters accepted");
    }
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

#define KEY_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Lines that cannot be used are reported and written back unchanged. */
static void check_unusable(void)
{
    static const char text[] = "x\0y\n"
                               "002 ok any " KEY_A "\n"
                               "003 ok3 any " KEY_A "\n"
                               "-1 negative any abcd\n"
                               "abc letters any abcd\n"
                               "009 bad!name any abcd\n";
    struct wl_keystore ks;
    const struct wl_key_entry *e = NULL;
    FILE *fp = fopen(keys_path, "w");
    char *saved;
    size_t n;

    fwrite(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    is_int(wl_keys_load(&ks, keys_path), 0, "unusable: file loads");
    is_int(ks.count, 2, "unusable: NUL line does not swallow the next");
    ok(wl_keys_find_id(&ks, "002") != NULL, "unusable: 002 after NUL line");
    is_int(ks.kept_count, 4, "unusable: four lines kept");
    ok(wl_keys_find_id(&ks, "-1") == NULL &&
           wl_keys_find_id(&ks, "abc") == NULL,
       "unusable: ids '-1' and 'abc' rejected");
    is_int(wl_keys_add(&ks, "new-one", "any", 0, &e), 0, "unusable: add");
    is_str(e ? e->id : NULL, "010", "unusable: id of a bad line not reused");
    is_int(wl_keys_save(&ks), 0, "unusable: save");
    wl_keys_free(&ks);

    saved = malloc(8192);
    fp = fopen(keys_path, "r");
    n = fread(saved, 1, 8191, fp);
    fclose(fp);
    saved[n] = '\0';
    ok(n > 4 && memmem(saved, n, "\nx\0y\n", 5) != NULL,
       "unusable: NUL line written back byte for byte");
    ok(strstr(saved, "002 ok any " KEY_A "\n") != NULL &&
           strstr(saved, "003 ok3 any " KEY_A "\n") != NULL,
       "unusable: valid agents kept");
    ok(memmem(saved, n, "\n-1 negative any abcd\n", 21) != NULL &&
           memmem(saved, n, "\nabc letters any abcd\n", 22) != NULL &&
           memmem(saved, n, "\n009 bad!name any abcd\n", 23) != NULL,
       "unusable: invalid lines kept verbatim");
    free(saved);
}

/* Creates an empty file in the test folder. */
static void touch(const char *name)
{
    char path[300];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    write_file(path, "");
}

static int exists(const char *name)
{
    char path[300];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* The file lock: exclusive, rereads a changed file, removes stale temps. */
static void check_lock(void)
{
    struct wl_keystore ks;
    const struct wl_key_entry *e = NULL;
    char lock_path[300], other[300];
    int fd;

    write_file(keys_path, "001 first any " KEY_A "\n");
    is_int(wl_keys_load(&ks, keys_path), 0, "lock: load");
    touch("client.keysAb12Cd");
    touch("agents-timestampZz99Yy");
    touch("client.keys.bak");

    snprintf(other, sizeof(other), "%s/other", dir);
    write_file(other, "001 first any " KEY_A "\n"
                      "002 second any " KEY_A "\n");
    rename(other, keys_path);

    is_int(wl_keys_lock(&ks, 0), 1, "lock: changed file reread");
    ok(ks.locked, "lock: held");
    ok(wl_keys_find_id(&ks, "002") != NULL, "lock: other process's agent seen");
    ok(!exists("client.keysAb12Cd") && !exists("agents-timestampZz99Yy"),
       "lock: stale temporary files removed");
    ok(exists("client.keys.bak"), "lock: other files left alone");

    snprintf(lock_path, sizeof(lock_path), "%s.lock", keys_path);
    fd = open(lock_path, O_RDONLY);
    ok(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK,
       "lock: a second holder must wait");
    wl_keys_add(&ks, "third", "any", 0, &e);
    is_str(e ? e->id : NULL, "003", "lock: next id after the reread file");
    is_int(wl_keys_save(&ks), 0, "lock: save");
    wl_keys_unlock(&ks);
    ok(!ks.locked, "lock: released");
    ok(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "lock: free after unlock");
    if (fd >= 0)
        close(fd);

    is_int(wl_keys_lock(&ks, 0), 0, "lock: unchanged file not reread");
    wl_keys_free(&ks);
    ok(access(lock_path, F_OK) == 0, "lock: lock file stays");
    unlink(lock_path);
    unlink(keys_path);
}

int main(void)
{
    wl_log_init("test-keys", WL_LOG_ERROR);
    if (!mkdtemp(dir)) {
        printf("Bail out! cannot create a temporary folder\n");
        return 1;
    }
    snprintf(keys_path, sizeof(keys_path), "%s/client.keys", dir);

    check_load();
    check_add_remove_save();
    check_reload();
    check_addresses();
    check_unusable();
    check_lock();

    remove_dir();
    return tap_done();
}
