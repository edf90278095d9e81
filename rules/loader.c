/*
 * Loading a ruleset: the list of files in Wazuh's order, the decoder names
 * for <decoded_as>, and each file's <var> and <group> elements.
 */
#include "config.h"

#include "rules/tree.h"
#include "rules/correlation.h"
#include "rules/lists.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

struct file_list {
    char **paths;
    size_t count;
    size_t cap;
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

static int list_has(const char *const *list, const char *s)
{
    for (; list != NULL && *list != NULL; list++) {
        if (strcmp(*list, s) == 0)
            return 1;
    }
    return 0;
}

static int files_add(struct file_list *fl, const char *path)
{
    for (size_t i = 0; i < fl->count; i++) {
        if (strcmp(fl->paths[i], path) == 0)
            return 0;
    }
    if (fl->count == fl->cap) {
        size_t cap = fl->cap ? fl->cap * 2 : 64;
        char **p = realloc(fl->paths, cap * sizeof(*p));

        if (p == NULL)
            return WL_ENOMEM;
        fl->paths = p;
        fl->cap = cap;
    }
    fl->paths[fl->count] = strdup(path);
    if (fl->paths[fl->count] == NULL)
        return WL_ENOMEM;
    fl->count++;
    return 0;
}

static void files_free(struct file_list *fl)
{
    for (size_t i = 0; i < fl->count; i++)
        free(fl->paths[i]);
    free(fl->paths);
    memset(fl, 0, sizeof(*fl));
}

/* Adds the *.xml entries of dir that are not excluded. */
static int files_add_dir(struct wl_load *ld, struct file_list *fl,
                         const char *dir, const char *const *excludes)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (d == NULL) {
        wl_load_report(ld, WL_RULESET_ERROR, 0,
                       "cannot open rule directory %s: %s", dir,
                       strerror(errno));
        return 0;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[4096];
        struct stat st;

        if (n < 4 || strcmp(e->d_name + n - 4, ".xml") != 0)
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
            (int)sizeof(path))
            continue;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (list_has(excludes, e->d_name) || list_has(excludes, path))
            continue;
        rc = files_add(fl, path);
    }
    closedir(d);
    return rc;
}

static int cmp_basename(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    int c = strcmp(base_name(x), base_name(y));

    return c != 0 ? c : strcmp(x, y);
}

static int files_collect(struct wl_load *ld, struct file_list *fl,
                         const char *const *dirs, const char *const *files,
                         const char *const *excludes)
{
    int rc = 0;

    for (; rc == 0 && dirs != NULL && *dirs != NULL; dirs++)
        rc = files_add_dir(ld, fl, *dirs, excludes);
    for (; rc == 0 && files != NULL && *files != NULL; files++)
        rc = files_add(fl, *files);
    if (rc == 0 && fl->count > 1)
        qsort(fl->paths, fl->count, sizeof(*fl->paths), cmp_basename);
    return rc;
}

void wl_load_report(struct wl_load *ld, enum wl_ruleset_report_level level,
                    int line, const char *fmt, ...)
{
    char text[1024];
    char msg[1400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (ld->path != NULL && line > 0)
        snprintf(msg, sizeof(msg), "%s:%d: %s", ld->path, line, text);
    else if (ld->path != NULL)
        snprintf(msg, sizeof(msg), "%s: %s", ld->path, text);
    else
        snprintf(msg, sizeof(msg), "%s", text);
    if (ld->opts->report != NULL) {
        ld->opts->report(ld->opts->report_ctx, level, msg);
        return;
    }
    if (level == WL_RULESET_ERROR)
        wl_log_error("%s", msg);
    else if (level == WL_RULESET_WARNING)
        wl_log_warn("%s", msg);
    else
        wl_log_info("%s", msg);
}

int wl_load_unsupported(struct wl_load *ld, const char *option)
{
    struct wl_ruleset *rs = ld->rs;

    for (size_t i = 0; i < rs->unsupported_count; i++) {
        if (strcasecmp(rs->unsupported_names[i], option) == 0) {
            rs->unsupported_counts[i]++;
            return 0;
        }
    }
    size_t n = rs->unsupported_count + 1;
    const char **names = realloc(rs->unsupported_names, n * sizeof(*names));
    if (names == NULL)
        return WL_ENOMEM;
    rs->unsupported_names = names;
    unsigned *counts = realloc(rs->unsupported_counts, n * sizeof(*counts));
    if (counts == NULL)
        return WL_ENOMEM;
    rs->unsupported_counts = counts;
    char *copy = strdup(option);
    if (copy == NULL)
        return WL_ENOMEM;
    for (char *p = copy; *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    names[rs->unsupported_count] = copy;
    counts[rs->unsupported_count] = 1;
    rs->unsupported_count = n;
    return 0;
}

int wl_load_decoder_known(const struct wl_load *ld, const char *name)
{
    if (ld->decoders == NULL)
        return 1;
    for (size_t i = 0; i < ld->decoder_count; i++) {
        if (strcmp(ld->decoders[i], name) == 0)
            return 1;
    }
    return 0;
}

static int add_decoder_name(struct wl_load *ld, const char *name)
{
    if (ld->decoders != NULL && wl_load_decoder_known(ld, name))
        return 0;
    char **d = realloc(ld->decoders, (ld->decoder_count + 1) * sizeof(*d));
    if (d == NULL)
        return WL_ENOMEM;
    ld->decoders = d;
    d[ld->decoder_count] = strdup(name);
    if (d[ld->decoder_count] == NULL)
        return WL_ENOMEM;
    ld->decoder_count++;
    return 0;
}

/* Decoders built into analysisd, defined in no decoder file. */
static const char *const builtin_decoders[] = {
    "windows_eventchannel",
    "json",
    "rootcheck",
    "syscheck_integrity_changed",
    "syscheck_deleted",
    "syscheck_new_entry",
    "syscheck_registry_key_added",
    "syscheck_registry_key_deleted",
    "syscheck_registry_key_modified",
    "syscheck_registry_value_added",
    "syscheck_registry_value_deleted",
    "syscheck_registry_value_modified",
    "hostinfo_modified",
    "hostinfo_new",
    "syscollector",
    "ciscat",
    "sca",
    "dbsync",
    "upgrade",
    "task_manager",
};

/* Collects the names of the <decoder> elements of the decoder files. */
static int read_decoder_names(struct wl_load *ld)
{
    const struct wl_ruleset_options *o = ld->opts;
    struct file_list fl = {0};
    int rc = 0;

    if (o->decoder_dirs == NULL && o->decoder_files == NULL)
        return 0;
    for (size_t i = 0;
         rc == 0 && i < sizeof(builtin_decoders) / sizeof(*builtin_decoders);
         i++)
        rc = add_decoder_name(ld, builtin_decoders[i]);
    if (rc == 0)
        rc = files_collect(ld, &fl, o->decoder_dirs, o->decoder_files, NULL);
    for (size_t i = 0; rc == 0 && i < fl.count; i++) {
        struct wl_xml_file f;
        char err[512];

        ld->path = fl.paths[i];
        if (wl_xml_file_read(fl.paths[i], &f, err, sizeof(err)) < 0) {
            ld->path = NULL;
            wl_load_report(ld, WL_RULESET_ERROR, 0, "%s", err);
            continue;
        }
        for (xmlNode *n = f.root->children; rc == 0 && n != NULL; n = n->next) {
            if (n->type != XML_ELEMENT_NODE ||
                strcasecmp((const char *)n->name, "decoder") != 0)
                continue;
            xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");

            if (name != NULL)
                rc = add_decoder_name(ld, (const char *)name);
            xmlFree(name);
        }
        wl_xml_file_free(&f);
    }
    ld->path = NULL;
    ld->rs->stats.decoder_names = (unsigned)ld->decoder_count;
    files_free(&fl);
    return rc;
}

/* Reads the <rule> children of one <group>. */
static int read_group(struct wl_load *ld, const xmlNode *group)
{
    char err[256];
    int rc, rules = 0;
    char *name = NULL;
    unsigned attrs = 0;

    for (const xmlAttr *a = group->properties; a != NULL; a = a->next)
        attrs++;
    name = wl_xml_attr(group, "name", 0, ld->vars, &rc, err, sizeof(err));
    if (rc == WL_ENOMEM)
        return rc;
    if (rc < 0 || name == NULL || attrs != 1) {
        wl_load_report(ld, WL_RULESET_ERROR, wl_xml_line(group),
                       "<group> needs exactly one attribute, name%s%s",
                       rc < 0 ? ": " : "", rc < 0 ? err : "");
        ld->rs->stats.rules_failed++;
        free(name);
        return 0;
    }
    for (const xmlNode *n = group->children; n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        rules++;
        if (strcasecmp((const char *)n->name, "rule") != 0) {
            wl_load_report(ld, WL_RULESET_ERROR, wl_xml_line(n),
                           "invalid element <%s> in <group> (only <rule>)",
                           (const char *)n->name);
            ld->rs->stats.rules_failed++;
            continue;
        }
        struct wl_rule *r = NULL;
        struct wl_rule_parents p;

        rc = wl_rule_read(ld, n, name, &r, &p);
        if (rc == WL_ENOMEM)
            goto out;
        if (rc == WL_ENOENT) {
            ld->rs->stats.rules_skipped++;
            rc = 0;
            continue;
        }
        if (rc < 0) {
            ld->rs->stats.rules_failed++;
            continue;
        }
        rc = wl_tree_add(ld, r, &p);
        wl_rule_parents_free(&p);
        if (rc < 0)
            goto out;
    }
    if (rules == 0)
        wl_load_report(ld, WL_RULESET_ERROR, wl_xml_line(group),
                       "<group name=\"%s\"> has no rules", name);
    rc = 0;
out:
    free(name);
    return rc;
}

static int read_var(struct wl_load *ld, struct wl_xml_vars *vars,
                    const xmlNode *n)
{
    char err[256];
    int rc;
    char *name = wl_xml_attr(n, "name", 0, vars, &rc, err, sizeof(err));
    char *raw = NULL, *value = NULL;

    if (rc == 0 && name == NULL) {
        snprintf(err, sizeof(err), "<var> without a name attribute");
        rc = WL_EINVAL;
    }
    if (rc == 0) {
        raw = wl_xml_content(n);
        rc = raw ? wl_xml_substitute(vars, raw, &value, err, sizeof(err))
                 : WL_ENOMEM;
    }
    if (rc == 0)
        rc = wl_xml_vars_add(vars, name, value);
    if (rc < 0 && rc != WL_ENOMEM) {
        wl_load_report(ld, WL_RULESET_ERROR, wl_xml_line(n), "%s", err);
        rc = 0;
    }
    free(name);
    free(raw);
    free(value);
    return rc;
}

static int read_rule_file(struct wl_load *ld, const char *path)
{
    struct wl_xml_file f;
    struct wl_xml_vars vars = {0};
    char err[512];
    int rc;

    ld->path = path;
    ld->file = base_name(path);
    const struct wl_ruleset_buffer *b = ld->opts->buffers;
    while (b != NULL && b->name != NULL && strcmp(b->name, path) != 0)
        b++;
    if (b != NULL && b->name != NULL)
        rc = wl_xml_memory_read(path, b->data, b->len, &f, err, sizeof(err));
    else
        rc = wl_xml_file_read(path, &f, err, sizeof(err));
    if (rc == WL_ENOMEM)
        return rc;
    if (rc < 0) {
        ld->path = NULL;
        wl_load_report(ld, WL_RULESET_ERROR, 0, "%s", err);
        ld->rs->stats.files_failed++;
        return 0;
    }
    ld->rs->stats.files++;
    ld->vars = &vars;
    for (xmlNode *n = f.root->children; rc == 0 && n != NULL; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        const char *name = (const char *)n->name;

        if (strcasecmp(name, "var") == 0) {
            rc = read_var(ld, &vars, n);
        } else if (strcasecmp(name, "group") == 0) {
            rc = read_group(ld, n);
        } else {
            wl_load_report(ld, WL_RULESET_ERROR, wl_xml_line(n),
                           "invalid element <%s> at the top level (only "
                           "<group> and <var>)",
                           name);
            ld->rs->stats.rules_failed++;
        }
    }
    ld->vars = NULL;
    wl_xml_vars_free(&vars);
    wl_xml_file_free(&f);
    ld->path = NULL;
    ld->file = NULL;
    return rc;
}

static void report_summary(struct wl_load *ld)
{
    const struct wl_ruleset *rs = ld->rs;
    const struct wl_ruleset_stats *s = &rs->stats;

    wl_load_report(ld, WL_RULESET_INFO, 0,
                   "%u rules loaded from %u files (%u tree nodes); %u "
                   "invalid, %u skipped for lists not configured, %u "
                   "without parent, %u duplicate ids, %u overwritten, %u "
                   "files unreadable",
                   s->rules_loaded, s->files, s->nodes, s->rules_failed,
                   s->rules_skipped, s->rules_orphaned, s->duplicates,
                   s->overwrites, s->files_failed);
    for (size_t i = 0; i < rs->unsupported_count; i++)
        wl_load_report(ld, WL_RULESET_INFO, 0,
                       "option <%s> is not supported yet: used %u times; "
                       "rules using it never match",
                       rs->unsupported_names[i], rs->unsupported_counts[i]);
}

int wl_ruleset_load(const struct wl_ruleset_options *opts,
                    struct wl_fieldnames *names, struct wl_ruleset **out,
                    char *err, size_t err_size)
{
    struct wl_load ld = {.opts = opts, .names = names};
    struct file_list fl = {0};
    int rc;

    ld.rs = calloc(1, sizeof(*ld.rs));
    if (ld.rs == NULL)
        return WL_ENOMEM;
    ld.rs->log_alert_level =
        opts->log_alert_level > 0 ? opts->log_alert_level : 1;
    ld.rs->email_alert_level =
        opts->email_alert_level > 0 ? opts->email_alert_level : 12;
    ld.rs->root.sort_level = 0;
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm) != NULL)
        ld.rs->utc_offset = tm.tm_gmtoff;

    rc = wl_corr_init(ld.rs, opts->memory_size);
    if (rc == 0)
        rc = read_decoder_names(&ld);
    if (rc == 0)
        rc = wl_lists_load(&ld);
    if (rc == 0)
        rc = files_collect(&ld, &fl, opts->rule_dirs, opts->rule_files,
                           opts->excludes);
    if (rc == 0 && fl.count == 0) {
        snprintf(err, err_size, "no rule file found");
        rc = WL_ENOENT;
    }
    for (size_t i = 0; rc == 0 && i < fl.count; i++)
        rc = read_rule_file(&ld, fl.paths[i]);
    if (rc == WL_ENOMEM)
        snprintf(err, err_size, "out of memory while loading rules");
    if (rc == 0 && ld.rs->stats.rules_loaded == 0) {
        snprintf(err, err_size, "no valid rule in %zu files", fl.count);
        rc = WL_EINVAL;
    }
    if (rc == 0) {
        wl_tree_count_nodes(ld.rs);
        report_summary(&ld);
    }
    files_free(&fl);
    for (size_t i = 0; i < ld.decoder_count; i++)
        free(ld.decoders[i]);
    free(ld.decoders);
    if (rc < 0) {
        wl_ruleset_free(ld.rs);
        return rc;
    }
    *out = ld.rs;
    return 0;
}

void wl_ruleset_free(struct wl_ruleset *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->rule_count; i++)
        wl_rule_free(rs->rules[i]);
    free(rs->rules);
    free(rs->root.children);
    wl_corr_free(rs);
    wl_lists_free(rs);
    free(rs->by_id);
    for (size_t i = 0; i < rs->unsupported_count; i++)
        free((char *)rs->unsupported_names[i]);
    free(rs->unsupported_names);
    free(rs->unsupported_counts);
    free(rs);
}

const struct wl_ruleset_stats *wl_ruleset_stats(const struct wl_ruleset *rs)
{
    return &rs->stats;
}

size_t wl_ruleset_unsupported(const struct wl_ruleset *rs,
                              const char *const **names,
                              const unsigned **counts)
{
    *names = rs->unsupported_names;
    *counts = rs->unsupported_counts;
    return rs->unsupported_count;
}
