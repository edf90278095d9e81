/*
 * Reading Wazuh rule and decoder files, whose XML dialect plain XML
 * rejects: several root elements, <var> definitions with $NAME
 * references, entities left undecoded, "\<" as a literal '<'. The file
 * is rewritten into well-formed XML (line numbers kept) and parsed by
 * libxml2 with no network, DTD or entity expansion.
 */
#ifndef WL_RULES_XML_H
#define WL_RULES_XML_H

#include <stddef.h>

#include <libxml/tree.h>

struct wl_xml_file {
    xmlDocPtr doc;
    xmlNodePtr root; /* the added wrapper; the file's elements are below */
};

/*
 * Reads and parses path. Returns 0, WL_EIO when it cannot be read,
 * WL_EPARSE with "path:line: reason" in err, or WL_ENOMEM.
 */
int wl_xml_file_read(const char *path, struct wl_xml_file *f, char *err,
                     size_t err_size);
/*
 * Parses len bytes of a rule or decoder file held in memory; path names
 * it in messages. Returns like wl_xml_file_read().
 */
int wl_xml_memory_read(const char *path, const char *data, size_t len,
                       struct wl_xml_file *f, char *err, size_t err_size);
void wl_xml_file_free(struct wl_xml_file *f);

/* The <var> definitions of one file, in file order. */
struct wl_xml_vars {
    char **names;
    char **values;
    size_t count;
};

/* Adds a variable; returns 0 or WL_ENOMEM. */
int wl_xml_vars_add(struct wl_xml_vars *v, const char *name, const char *value);
void wl_xml_vars_free(struct wl_xml_vars *v);

/*
 * Returns the content of an element as Wazuh reads it: the text after
 * its last child element, whitespace kept, comments skipped. Malloc'd;
 * NULL when out of memory.
 */
char *wl_xml_content(const xmlNode *node);

/*
 * Replaces each $NAME of text with its value (a name ends at '$', '.',
 * '|', ',', a space or the end; "$(" is left alone; text of 2 bytes or
 * less is not scanned). Returns 0 with a malloc'd *out, WL_ENOENT with
 * the unknown name in err, or WL_ENOMEM.
 */
int wl_xml_substitute(const struct wl_xml_vars *v, const char *text, char **out,
                      char *err, size_t err_size);

/*
 * Returns the value of attribute name (exact case unless nocase) with
 * variables substituted, NULL when absent. *rc is 0, or a WL_E* code
 * with err set.
 */
char *wl_xml_attr(const xmlNode *node, const char *name, int nocase,
                  const struct wl_xml_vars *v, int *rc, char *err,
                  size_t err_size);

/* Returns the element's line in its file. */
int wl_xml_line(const xmlNode *node);

#endif
