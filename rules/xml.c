#include "config.h"

#include "rules/xml.h"
#include "daemon/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#define ROOT_OPEN "<wl-root>"
#define ROOT_CLOSE "</wl-root>"

/* Largest rule or decoder file accepted. */
#define MAX_FILE_SIZE (64u * 1024 * 1024)

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (p == NULL)
            return WL_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static int read_whole(const char *path, char **data, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    struct buf b = {0};
    char chunk[65536];
    size_t n;
    int rc = 0;

    if (fp == NULL)
        return WL_EIO;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (b.len + n > MAX_FILE_SIZE) {
            rc = WL_ERANGE;
            goto out;
        }
        rc = buf_add(&b, chunk, n);
        if (rc < 0)
            goto out;
    }
    if (ferror(fp))
        rc = WL_EIO;
out:
    fclose(fp);
    if (rc < 0) {
        free(b.data);
        return rc;
    }
    if (b.data == NULL && buf_add(&b, "", 0) < 0)
        return WL_ENOMEM;
    *data = b.data;
    *len = b.len;
    return 0;
}

/*
 * Rewrites Wazuh's dialect into XML under one root. '&' becomes "&amp;"
 * because Wazuh never decodes entities. An escaped '<' becomes "&lt;"
 * after its backslashes, which stay as in Wazuh. Comment bodies are
 * blanked, so "--" or '&' inside them cannot break the parse. Newlines
 * are kept, so libxml2 reports the file's own line numbers.
 */
static int rewrite(const char *in, size_t len, struct buf *out)
{
    size_t i = 0;
    int rc = buf_add(out, ROOT_OPEN, strlen(ROOT_OPEN));

    if (len >= 3 && memcmp(in, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (rc == 0 && i < len) {
        char c = in[i];

        if (c == '<' && len - i >= 4 && memcmp(in + i, "<!--", 4) == 0) {
            const char *end = NULL;

            for (size_t j = i + 4; j + 3 <= len; j++) {
                if (memcmp(in + j, "-->", 3) == 0) {
                    end = in + j;
                    break;
                }
            }
            if (end == NULL) /* unterminated: let libxml2 report it */
                return buf_add(out, in + i, len - i) ||
                       buf_add(out, ROOT_CLOSE, strlen(ROOT_CLOSE));
            rc = buf_add(out, "<!--", 4);
            for (const char *p = in + i + 4; rc == 0 && p < end; p++)
                rc = buf_add(out, *p == '\n' ? "\n" : " ", 1);
            if (rc == 0)
                rc = buf_add(out, "-->", 3);
            i = (size_t)(end - in) + 3;
        } else if (c == '&') {
            rc = buf_add(out, "&amp;", 5);
            i++;
        } else if (c == '\\') {
            /*
             * An odd run of backslashes before '<' makes it text ("\\<"),
             * an even run does not ("E:\\\\</field>" closes the element).
             * The backslashes stay in the text either way.
             */
            size_t n = 0;

            while (i + n < len && in[i + n] == '\\')
                n++;
            rc = buf_add(out, in + i, n);
            i += n;
            if (rc == 0 && n % 2 == 1 && i < len && in[i] == '<') {
                rc = buf_add(out, "&lt;", 4);
                i++;
            }
        } else if (c == '\0') {
            return WL_EINVAL;
        } else {
            rc = buf_add(out, &in[i], 1);
            i++;
        }
    }
    if (rc == 0)
        rc = buf_add(out, ROOT_CLOSE, strlen(ROOT_CLOSE));
    return rc;
}

int wl_xml_file_read(const char *path, struct wl_xml_file *f, char *err,
                     size_t err_size)
{
    char *data = NULL;
    size_t len = 0;
    int rc = read_whole(path, &data, &len);

    memset(f, 0, sizeof(*f));
    if (rc < 0) {
        snprintf(err, err_size, "%s: cannot read: %s", path,
                 rc == WL_ERANGE ? "file too large" : strerror(errno));
        return rc;
    }
    rc = wl_xml_memory_read(path, data, len, f, err, err_size);
    free(data);
    return rc;
}

int wl_xml_memory_read(const char *path, const char *data, size_t len,
                       struct wl_xml_file *f, char *err, size_t err_size)
{
    struct buf text = {0};
    xmlParserCtxtPtr ctxt = NULL;
    int rc;

    memset(f, 0, sizeof(*f));
    rc = rewrite(data, len, &text);
    if (rc == WL_EINVAL) {
        snprintf(err, err_size, "%s: contains a NUL byte", path);
        rc = WL_EPARSE;
        goto out;
    }
    if (rc < 0)
        goto out;
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        rc = WL_ENOMEM;
        goto out;
    }
    f->doc = xmlCtxtReadMemory(ctxt, text.data, (int)text.len, path, NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR |
                                   XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
                                   XML_PARSE_BIG_LINES);
    if (f->doc == NULL || !ctxt->wellFormed) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[256] = "malformed XML";

        if (e != NULL && e->message != NULL) {
            snprintf(msg, sizeof(msg), "%s", e->message);
            msg[strcspn(msg, "\n")] = '\0';
        }
        snprintf(err, err_size, "%s:%d: invalid XML: %s", path,
                 e != NULL ? e->line : 0, msg);
        rc = WL_EPARSE;
        goto out;
    }
    f->root = xmlDocGetRootElement(f->doc);
    rc = 0;
out:
    if (rc < 0 && f->doc != NULL) {
        xmlFreeDoc(f->doc);
        f->doc = NULL;
    }
    if (ctxt != NULL)
        xmlFreeParserCtxt(ctxt);
    free(text.data);
    return rc;
}

void wl_xml_file_free(struct wl_xml_file *f)
{
    if (f->doc != NULL)
        xmlFreeDoc(f->doc);
    memset(f, 0, sizeof(*f));
}

int wl_xml_vars_add(struct wl_xml_vars *v, const char *name, const char *value)
{
    char **names = realloc(v->names, (v->count + 1) * sizeof(*names));

    if (names == NULL)
        return WL_ENOMEM;
    v->names = names;
    char **values = realloc(v->values, (v->count + 1) * sizeof(*values));
    if (values == NULL)
        return WL_ENOMEM;
    v->values = values;
    v->names[v->count] = strdup(name);
    v->values[v->count] = strdup(value);
    if (v->names[v->count] == NULL || v->values[v->count] == NULL) {
        free(v->names[v->count]);
        free(v->values[v->count]);
        return WL_ENOMEM;
    }
    v->count++;
    return 0;
}

void wl_xml_vars_free(struct wl_xml_vars *v)
{
    for (size_t i = 0; i < v->count; i++) {
        free(v->names[i]);
        free(v->values[i]);
    }
    free(v->names);
    free(v->values);
    memset(v, 0, sizeof(*v));
}

char *wl_xml_content(const xmlNode *node)
{
    const xmlNode *start = node->children;
    struct buf b = {0};

    for (const xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            start = c->next;
    }
    for (const xmlNode *c = start; c != NULL; c = c->next) {
        if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
            continue;
        if (c->content != NULL &&
            buf_add(&b, (const char *)c->content,
                    strlen((const char *)c->content)) < 0) {
            free(b.data);
            return NULL;
        }
    }
    if (b.data == NULL && buf_add(&b, "", 0) < 0)
        return NULL;
    return b.data;
}

static const char *find_var(const struct wl_xml_vars *v, const char *name,
                            size_t len)
{
    /* The latest definition wins. */
    for (size_t i = v->count; i-- > 0;) {
        if (strncasecmp(v->names[i], name, len) == 0 &&
            v->names[i][len] == '\0')
            return v->values[i];
    }
    return NULL;
}

int wl_xml_substitute(const struct wl_xml_vars *v, const char *text, char **out,
                      char *err, size_t err_size)
{
    struct buf b = {0};
    size_t len = strlen(text);
    int rc = 0;

    if (len <= 2 || v == NULL || v->count == 0 || !strchr(text, '$')) {
        *out = strdup(text);
        return *out ? 0 : WL_ENOMEM;
    }
    for (size_t i = 0; rc == 0 && i < len;) {
        if (text[i] != '$' || text[i + 1] == '(') {
            rc = buf_add(&b, &text[i], 1);
            i++;
            continue;
        }
        size_t n = strcspn(text + i + 1, "$.|, ");

        if (n == 0) { /* a lone '$' (an anchor) stays */
            rc = buf_add(&b, "$", 1);
            i++;
            continue;
        }
        const char *value = find_var(v, text + i + 1, n);

        if (value == NULL) {
            snprintf(err, err_size, "unknown variable '$%.*s'", (int)n,
                     text + i + 1);
            rc = WL_ENOENT;
            break;
        }
        rc = buf_add(&b, value, strlen(value));
        i += 1 + n;
    }
    if (rc == 0 && b.data == NULL)
        rc = buf_add(&b, "", 0);
    if (rc < 0) {
        free(b.data);
        return rc;
    }
    *out = b.data;
    return 0;
}

char *wl_xml_attr(const xmlNode *node, const char *name, int nocase,
                  const struct wl_xml_vars *v, int *rc, char *err,
                  size_t err_size)
{
    char *value = NULL;

    *rc = 0;
    for (const xmlAttr *a = node->properties; a != NULL; a = a->next) {
        const char *an = (const char *)a->name;

        if (nocase ? strcasecmp(an, name) != 0 : strcmp(an, name) != 0)
            continue;
        xmlChar *raw = xmlNodeListGetString(node->doc, a->children, 1);
        *rc = wl_xml_substitute(v, raw ? (const char *)raw : "", &value, err,
                                err_size);
        xmlFree(raw);
        return value;
    }
    return NULL;
}

int wl_xml_line(const xmlNode *node)
{
    return (int)xmlGetLineNo(node);
}
