/*
 * Windows Event Channel decoder, field for field what wazuh-analysisd
 * 4.14.7 produces (src/analysisd/decoders/winevtchannel.c).
 *
 * Wazuh parses the payload with cJSON, prints the Event value back as JSON
 * text (so every backslash is doubled and quotes gain a backslash) and
 * reads that text with its own XML reader, which decodes no entities. Here
 * libxml2's SAX push parser reads the same text, prepared so that libxml2
 * gets the same elements, attributes and text as Wazuh's reader:
 *
 *  - every '&' is written "&amp;", so libxml2 hands back "&lt;" and "&#65;"
 *    as typed and never expands an entity of any kind;
 *  - the text is wrapped in one extra element, because Wazuh's reader skips
 *    text outside elements and accepts several root elements (only the
 *    first one is decoded);
 *  - text that is not valid UTF-8 is read as ISO-8859-1 and converted back,
 *    because Wazuh's reader passes any byte through.
 *
 * Wazuh's reader rejects the whole document when a text run, a name or an
 * attribute value reaches 20480 bytes, when elements nest deeper than 1024
 * levels or an element has more than 49 attributes, and on CDATA, XML
 * declarations, processing instructions and DOCTYPE; the SAX callbacks
 * check the same limits. A rejected document leaves only the message.
 *
 * NOTE: a few constructs that Windows never writes still read differently:
 * Wazuh accepts '<' in attribute values, "]]>" in text, "<!x!>" comments
 * and "--" inside comments, which libxml2 rejects, and rejects "</a >" and
 * "a ='v'", which libxml2 accepts.
 */
#include "config.h"

#include "decoders/decode-int.h"
#include "daemon/error.h"
#include "daemon/log.h"

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Wazuh's XML_MAXSIZE: a text run, name or value this long is an error. */
#define EC_MAX_TEXT 20480
/* Wazuh's reader gives up past this element depth. */
#define EC_MAX_DEPTH 1024
#define EC_MAX_ATTRS 49
/* Wazuh's join buffer for unnamed <Data> is OS_MAXSTR bytes with a NUL. */
#define EC_MAX_JOIN 65535
/* Keys and values are carved from arena chunks of this size. */
#define EC_CHUNK 4096
/* The parser context is rebuilt when its name dictionary grows past this. */
#define EC_DICT_LIMIT 20000

/* Wrapper element around the Event text (see the file comment). */
static const char wrap_open[] = "<wazlab-wrap>";
static const char wrap_close[] = "</wazlab-wrap>";

enum ec_section { EC_SYSTEM, EC_EVENTDATA, EC_EXTRA };

/*
 * One output key and value, copied into the event's arena. For the
 * sections System and EventData, name is the whole field name
 * ("win.system.<key>") and key points into it. An extra section's field
 * names are built once the section's name is known, so there name is key.
 */
struct ec_pair {
    enum ec_section section;
    const char *name;
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

/*
 * An attribute of a section's child. The name is libxml2's, valid for the
 * whole parse and only compared with ASCII names, which read the same
 * whether or not the text was read as ISO-8859-1. The value is in strs.
 */
struct ec_attr {
    const char *name;
    size_t name_len;
    size_t value, value_len;
};

/* Kinds of System and EventData children that the decoder handles. */
enum ec_item {
    EC_ITEM_OTHER,
    EC_ITEM_PROVIDER,
    EC_ITEM_TIME_CREATED,
    EC_ITEM_EXECUTION,
    EC_ITEM_CHANNEL,
    EC_ITEM_SECURITY,
    EC_ITEM_LEVEL,
    EC_ITEM_KEYWORDS,
    EC_ITEM_CORRELATION,
    EC_ITEM_DATA
};

/* A value remembered for severity or category: offset, or len == -1. */
struct ec_ref {
    size_t off;
    long len;
};

struct wl_winevt {
    struct wl_event *ev; /* the event being decoded */
    char *chunk;         /* free part of the current arena chunk */
    size_t chunk_left;
    struct wl_dec_slot_cache *slots;
    xmlParserCtxtPtr ctxt;
    xmlSAXHandler sax;

    struct wl_dec_buf input; /* the text given to libxml2 */
    struct wl_dec_buf text;  /* current text run */
    struct wl_dec_buf strs;  /* keys and values of this event */
    struct wl_dec_buf out;   /* rebuilt full_log */
    struct wl_dec_buf name;  /* field name being built */
    struct wl_dec_buf join;  /* unnamed <Data> values */
    struct wl_dec_buf conv;  /* ISO-8859-1 to bytes conversion */

    struct ec_pair *pairs;
    size_t npairs;
    size_t pairs_cap;

    /* State of one parse. */
    int depth; /* libxml2 depth: 1 is the wrapper, 2 a root element */
    int failed;
    int xml_error; /* libxml2 reported the error (not a limit of ours) */
    int nomem;
    int latin1;
    int root_state; /* 0 before the first root, 1 inside, 2 after */
    enum ec_section section;
    /*
     * Names of the current child of a section and grandchild of an extra
     * section: libxml2's own strings, or copies of their original bytes
     * when the text is read as ISO-8859-1.
     */
    const char *item_name, *child_name;
    size_t item_name_len, child_name_len;
    struct wl_dec_buf item_copy, child_copy;
    enum ec_item item;
    struct ec_attr attrs[EC_MAX_ATTRS];
    int nattrs;
    struct ec_ref level, keywords, category, subcategory, audit;
    struct ec_ref extra_name;
};

/* Returns 1 when the n bytes are UTF-8 that libxml2 accepts as XML Chars. */
static int valid_xml_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        unsigned cp;
        size_t extra;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            cp = c & 0x1f;
            extra = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            cp = c & 0x0f;
            extra = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            cp = c & 0x07;
            extra = 3;
        } else {
            return 0;
        }
        if (n - i <= extra)
            return 0;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
            cp == 0xffff)
            return 0;
        i += extra + 1;
    }
    return 1;
}

/*
 * Builds w->input in one pass: the wrapper around text (the Event value as
 * JSON text) with every '&' written "&amp;". When raw is set, text is the
 * string value itself and is escaped on the way as cJSON prints it.
 */
static int build_input(struct wl_winevt *w, const char *text, size_t n, int raw)
{
    struct wl_dec_buf *in = &w->input;

    in->len = 0;
    if (wl_dec_buf_reserve(in, sizeof(wrap_open) + n * 6 + 2 +
                                   sizeof(wrap_close)) < 0)
        return WL_ENOMEM;

    char *p = in->data;
    memcpy(p, wrap_open, sizeof(wrap_open) - 1);
    p += sizeof(wrap_open) - 1;
    if (raw)
        *p++ = '"';
    p = wl_dec_escape(p, text, n,
                      raw ? WL_DEC_ESC_JSON | WL_DEC_ESC_AMP : WL_DEC_ESC_AMP);
    if (raw)
        *p++ = '"';
    memcpy(p, wrap_close, sizeof(wrap_close));
    in->len = (size_t)(p - in->data) + sizeof(wrap_close) - 1;
    w->latin1 = 0;
    return 0;
}

static void fail_parse(struct wl_winevt *w)
{
    if (!w->failed) {
        w->failed = 1;
        xmlStopParser(w->ctxt);
    }
}

static void no_memory(struct wl_winevt *w)
{
    w->nomem = 1;
    fail_parse(w);
}

/*
 * Returns the bytes of a libxml2 string as Wazuh saw them: unchanged, or
 * converted back from UTF-8 to ISO-8859-1 when the input was read as such.
 * The result is valid until the next call.
 */
static const char *orig_bytes(struct wl_winevt *w, const xmlChar *s, size_t len,
                              size_t *out_len)
{
    if (!w->latin1) {
        *out_len = len;
        return (const char *)s;
    }
    w->conv.len = 0;
    if (wl_dec_buf_reserve(&w->conv, len) < 0) {
        no_memory(w);
        *out_len = 0;
        return "";
    }
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];

        if (c >= 0xc0 && i + 1 < len) {
            c = (unsigned char)(((c & 0x03) << 6) | (s[i + 1] & 0x3f));
            i++;
        }
        w->conv.data[j++] = (char)c;
    }
    w->conv.data[j] = '\0';
    *out_len = j;
    return w->conv.data;
}

/*
 * Makes room for n more bytes in strs. Keys and values are often copied
 * from strs itself, so *a and *b (either may be NULL) are moved along when
 * the buffer moves.
 */
static int grow_strs(struct wl_winevt *w, size_t n, const char **a,
                     const char **b)
{
    /* Compared as integers: the pointers may be in unrelated objects. */
    uintptr_t base = (uintptr_t)w->strs.data;
    uintptr_t limit = base + w->strs.len;
    int a_in = a != NULL && base != 0 && (uintptr_t)*a >= base &&
               (uintptr_t)*a < limit;
    int b_in = b != NULL && base != 0 && (uintptr_t)*b >= base &&
               (uintptr_t)*b < limit;
    size_t a_off = a_in ? (size_t)((uintptr_t)*a - base) : 0;
    size_t b_off = b_in ? (size_t)((uintptr_t)*b - base) : 0;

    if (wl_dec_buf_reserve(&w->strs, n) < 0) {
        no_memory(w);
        return WL_ENOMEM;
    }
    if (a_in)
        *a = w->strs.data + a_off;
    if (b_in)
        *b = w->strs.data + b_off;
    return 0;
}

static inline int reserve_strs(struct wl_winevt *w, size_t n, const char **a,
                               const char **b)
{
    if (n < w->strs.cap - w->strs.len)
        return 0;
    return grow_strs(w, n, a, b);
}

/* Copies s into strs, lowering its first byte if lower is set. */
static size_t save_str(struct wl_winevt *w, const char *s, size_t len,
                       int lower)
{
    size_t off = w->strs.len;

    if (reserve_strs(w, len + 1, &s, NULL) < 0)
        return 0;
    memcpy(w->strs.data + off, s, len);
    w->strs.data[off + len] = '\0';
    w->strs.len += len + 1;
    if (lower && len > 0 && s[0] >= 'A' && s[0] <= 'Z')
        w->strs.data[off] = (char)(s[0] - 'A' + 'a');
    return off;
}

static const char *str_at(const struct wl_winevt *w, size_t off)
{
    return w->strs.data + off;
}

/* Field name prefixes by section. */
static const char *const section_prefix[] = {"win.system.", "win.eventdata.",
                                             ""};
static const size_t section_prefix_len[] = {11, 14, 0};

/* Returns n bytes of the event's arena, or NULL when out of memory. */
static char *pair_alloc(struct wl_winevt *w, size_t n)
{
    char *p;

    if (n > EC_CHUNK)
        return wl_arena_alloc(&w->ev->arena, n);
    if (n > w->chunk_left) {
        w->chunk = wl_arena_alloc(&w->ev->arena, EC_CHUNK);
        w->chunk_left = w->chunk != NULL ? EC_CHUNK : 0;
        if (w->chunk == NULL)
            return NULL;
    }
    p = w->chunk;
    w->chunk += n;
    w->chunk_left -= n;
    return p;
}

/*
 * Copies key (its first byte lowered if lower is set) and value into the
 * event's arena and adds them as a pair.
 */
static void add_pair(struct wl_winevt *w, enum ec_section section,
                     const char *key, size_t key_len, int lower,
                     const char *value, size_t value_len)
{
    size_t prefix_len = section_prefix_len[section];
    char *name;

    if (w->npairs == w->pairs_cap) {
        size_t cap = w->pairs_cap ? w->pairs_cap * 2 : 64;
        struct ec_pair *pairs = realloc(w->pairs, cap * sizeof(*pairs));

        if (pairs == NULL) {
            no_memory(w);
            return;
        }
        w->pairs = pairs;
        w->pairs_cap = cap;
    }
    name = pair_alloc(w, prefix_len + key_len + value_len + 2);
    if (name == NULL) {
        no_memory(w);
        return;
    }

    char *k = name + prefix_len;
    char *v = k + key_len + 1;
    memcpy(name, section_prefix[section], prefix_len);
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    if (lower && key_len > 0 && k[0] >= 'A' && k[0] <= 'Z')
        k[0] = (char)(k[0] - 'A' + 'a');
    memcpy(v, value, value_len);
    v[value_len] = '\0';
    w->pairs[w->npairs++] =
        (struct ec_pair){section, name, k, key_len, v, value_len};
}

static int equals(const char *s, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* Wazuh skips values that are exactly "(NULL)" or "-". */
static int skipped_value(const char *s, size_t len)
{
    return equals(s, len, "(NULL)") || equals(s, len, "-");
}

/* Length of s without trailing white space, keeping at least one byte. */
static size_t trimmed_len(const char *s, size_t len)
{
    while (len > 1 && isspace((unsigned char)s[len - 1]))
        len--;
    return len;
}

static struct ec_ref remember(struct wl_winevt *w, const char *s, size_t len)
{
    struct ec_ref ref = {save_str(w, s, len, 0), (long)len};

    return ref;
}

static const char *attr_value(const struct wl_winevt *w, int i, size_t *len)
{
    *len = w->attrs[i].value_len;
    return str_at(w, w->attrs[i].value);
}

static int attr_is(const struct wl_winevt *w, int i, const char *lit)
{
    return equals(w->attrs[i].name, w->attrs[i].name_len, lit);
}

/* Adds the attribute i of the current item under key if it is present. */
static void system_attr(struct wl_winevt *w, int i, const char *key)
{
    size_t len;
    const char *value = attr_value(w, i, &len);

    add_pair(w, EC_SYSTEM, key, strlen(key), 0, value, len);
}

/* A <System> child ended with content text. */
static void end_system_item(struct wl_winevt *w, const char *name,
                            size_t name_len, const char *text, size_t len)
{
    int n = w->nattrs;

    if (w->item == EC_ITEM_PROVIDER && n > 0) {
        for (int i = 0; i < n; i++) {
            if (attr_is(w, i, "Name"))
                system_attr(w, i, "providerName");
            else if (attr_is(w, i, "Guid"))
                system_attr(w, i, "providerGuid");
            else if (attr_is(w, i, "EventSourceName"))
                system_attr(w, i, "eventSourceName");
        }
    } else if (w->item == EC_ITEM_TIME_CREATED && n > 0) {
        if (attr_is(w, 0, "SystemTime"))
            system_attr(w, 0, "systemTime");
    } else if (w->item == EC_ITEM_EXECUTION && n > 0) {
        for (int i = 0; i < n; i++) {
            if (attr_is(w, i, "ProcessID"))
                system_attr(w, i, "processID");
            else if (attr_is(w, i, "ThreadID"))
                system_attr(w, i, "threadID");
        }
    } else if (w->item == EC_ITEM_CHANNEL) {
        add_pair(w, EC_SYSTEM, "channel", 7, 0, text, len);
        /* Wazuh compares the first attribute's value, not its name. */
        size_t vlen = 0;
        if (n > 0 && equals(attr_value(w, 0, &vlen), vlen, "UserID"))
            add_pair(w, EC_SYSTEM, "userID", 6, 0, "UserID", 6);
    } else if (w->item == EC_ITEM_SECURITY) {
        size_t vlen = 0;
        if (n > 0 && equals(attr_value(w, 0, &vlen), vlen, "UserID"))
            add_pair(w, EC_SYSTEM, "securityUserID", 14, 0, "UserID", 6);
    } else if (w->item == EC_ITEM_LEVEL) {
        add_pair(w, EC_SYSTEM, name, name_len, 1, text, len);
        w->level = remember(w, text, len);
    } else if (w->item == EC_ITEM_KEYWORDS) {
        add_pair(w, EC_SYSTEM, name, name_len, 1, text, len);
        w->keywords = remember(w, text, len);
    } else if (w->item == EC_ITEM_CORRELATION) {
        /* Always skipped. */
    } else if (len > 0) {
        add_pair(w, EC_SYSTEM, name, name_len, 1, text, len);
    }
}

/*
 * Returns 1 when key, its first byte lowered, is lit (lit_len bytes, the
 * first lower-case).
 */
static int lowered_key_is(const char *key, size_t len, const char *lit,
                          size_t lit_len)
{
    char first;

    if (len == 0 || lit_len != len)
        return 0;
    first =
        key[0] >= 'A' && key[0] <= 'Z' ? (char)(key[0] - 'A' + 'a') : key[0];
    return first == lit[0] && memcmp(key + 1, lit + 1, len - 1) == 0;
}

/* A named <Data>: key from the Name attribute value, lowered. */
static void add_named_data(struct wl_winevt *w, int i, const char *text,
                           size_t len)
{
    size_t key_len;
    const char *key = attr_value(w, i, &key_len);
    size_t vlen = trimmed_len(text, len);

    /* Saving moves strs: key is compared before anything is saved. */
    if (lowered_key_is(key, key_len, "auditPolicyChanges", 18)) {
        w->audit = remember(w, text, vlen);
        add_pair(w, EC_EVENTDATA, "auditPolicyChangesId", 20, 0, text, vlen);
        return;
    }
    if (lowered_key_is(key, key_len, "categoryId", 10))
        w->category = remember(w, text, vlen);
    else if (lowered_key_is(key, key_len, "subcategoryId", 13))
        w->subcategory = remember(w, text, vlen);
    key = attr_value(w, i, &key_len);
    add_pair(w, EC_EVENTDATA, key, key_len, 1, text, vlen);
}

/* An <EventData> child ended with content text. */
static void end_eventdata_item(struct wl_winevt *w, const char *name,
                               size_t name_len, const char *text, size_t len)
{
    int is_data = w->item == EC_ITEM_DATA;

    if (len == 0 || skipped_value(text, len))
        return;
    if (is_data && w->nattrs > 0) {
        for (int i = 0; i < w->nattrs; i++) {
            if (attr_is(w, i, "Name")) {
                add_named_data(w, i, text, len);
                return;
            }
            /* Any other attribute's value becomes a key too. */
            size_t key_len;
            const char *key = attr_value(w, i, &key_len);
            add_pair(w, EC_EVENTDATA, key, key_len, 1, text,
                     trimmed_len(text, len));
        }
        return;
    }

    size_t vlen = trimmed_len(text, len);
    if (!is_data) {
        add_pair(w, EC_EVENTDATA, name, name_len, 1, text, vlen);
        return;
    }
    /* Unnamed data: joined with ", ", as Wazuh's snprintf caps it. */
    struct wl_dec_buf *j = &w->join;
    if (j->len > 0 && j->len < EC_MAX_JOIN &&
        wl_dec_buf_append(j, ", ", 2) < 0) {
        no_memory(w);
        return;
    }
    if (j->len < EC_MAX_JOIN && wl_dec_buf_append(j, text, vlen) < 0) {
        no_memory(w);
        return;
    }
    if (j->len > EC_MAX_JOIN) {
        j->len = EC_MAX_JOIN;
        j->data[j->len] = '\0';
    }
}

/*
 * Returns an attribute value as Wazuh's reader saw it. Without entity
 * replacement libxml2 hands back each "&amp;" of its input as "&#38;",
 * and every '&' of the input was written "&amp;", so each "&#38;" here is
 * one '&' of the original text. Valid until the next call.
 */
static const char *attr_bytes(struct wl_winevt *w, const xmlChar *v,
                              size_t *len)
{
    const char *s = orig_bytes(w, v, strlen((const char *)v), len);
    const char *amp = memchr(s, '&', *len);

    if (amp == NULL)
        return s;
    if (s != w->conv.data) {
        w->conv.len = 0;
        if (wl_dec_buf_append(&w->conv, s, *len) < 0) {
            no_memory(w);
            *len = 0;
            return "";
        }
    }
    char *out = w->conv.data;
    size_t j = 0;
    for (size_t i = 0; i < *len; i++) {
        out[j++] = out[i];
        if (out[i] == '&' && i + 4 < *len && memcmp(out + i, "&#38;", 5) == 0)
            i += 4;
    }
    out[j] = '\0';
    *len = j;
    return out;
}

/* Returns which child of System or EventData the name is. */
static enum ec_item item_of(const char *name, size_t len)
{
    switch (len) {
    case 4:
        return memcmp(name, "Data", 4) == 0 ? EC_ITEM_DATA : EC_ITEM_OTHER;
    case 5:
        return memcmp(name, "Level", 5) == 0 ? EC_ITEM_LEVEL : EC_ITEM_OTHER;
    case 7:
        return memcmp(name, "Channel", 7) == 0 ? EC_ITEM_CHANNEL
                                               : EC_ITEM_OTHER;
    case 8:
        if (memcmp(name, "Provider", 8) == 0)
            return EC_ITEM_PROVIDER;
        if (memcmp(name, "Security", 8) == 0)
            return EC_ITEM_SECURITY;
        if (memcmp(name, "Keywords", 8) == 0)
            return EC_ITEM_KEYWORDS;
        return EC_ITEM_OTHER;
    case 9:
        return memcmp(name, "Execution", 9) == 0 ? EC_ITEM_EXECUTION
                                                 : EC_ITEM_OTHER;
    case 11:
        if (memcmp(name, "TimeCreated", 11) == 0)
            return EC_ITEM_TIME_CREATED;
        if (memcmp(name, "Correlation", 11) == 0)
            return EC_ITEM_CORRELATION;
        return EC_ITEM_OTHER;
    default:
        return EC_ITEM_OTHER;
    }
}

/*
 * Points *out at an element name: name itself when it is libxml2's
 * string, or a copy in copy when it was converted from ISO-8859-1.
 */
static void keep_name(struct wl_winevt *w, const char *name, size_t len,
                      struct wl_dec_buf *copy, const char **out)
{
    if (!w->latin1) {
        *out = name;
        return;
    }
    copy->len = 0;
    if (wl_dec_buf_append(copy, name, len) < 0) {
        no_memory(w);
        *out = "";
        return;
    }
    *out = copy->data;
}

/* Checks an element's limits and keeps what the decoder needs of it. */
static void on_start(void *ctx, const xmlChar *xname, const xmlChar **atts)
{
    struct wl_winevt *w = ctx;
    size_t name_len;
    const char *name;

    if (w->failed)
        return;
    w->depth++;
    w->text.len = 0;
    if (w->depth == 1)
        return; /* the wrapper */

    int level = w->depth - 1; /* 1 for a root element */
    name = orig_bytes(w, xname, strlen((const char *)xname), &name_len);
    if (level > EC_MAX_DEPTH || name_len >= EC_MAX_TEXT) {
        fail_parse(w);
        return;
    }
    if (level == 1 && w->root_state == 0)
        w->root_state = 1;

    int keep = w->root_state == 1;
    int keep_attrs = 0;
    if (keep && level == 2) {
        if (equals(name, name_len, "System"))
            w->section = EC_SYSTEM;
        else if (equals(name, name_len, "EventData"))
            w->section = EC_EVENTDATA;
        else
            w->section = EC_EXTRA;
    } else if (keep && level == 3) {
        keep_name(w, name, name_len, &w->item_copy, &w->item_name);
        w->item_name_len = name_len;
        w->item =
            w->section == EC_EXTRA ? EC_ITEM_OTHER : item_of(name, name_len);
        /* Only these children read their attributes. */
        keep_attrs = w->section == EC_EVENTDATA ||
                     (w->section == EC_SYSTEM && w->item >= EC_ITEM_PROVIDER &&
                      w->item <= EC_ITEM_SECURITY);
    } else if (keep && level == 4 && w->section == EC_EXTRA) {
        /* A grandchild of an extra section: its name is the key. */
        keep_name(w, name, name_len, &w->child_copy, &w->child_name);
        w->child_name_len = name_len;
    }

    int count = 0;
    for (int i = 0; atts != NULL && atts[i] != NULL; i += 2) {
        struct ec_attr *a = &w->attrs[count < EC_MAX_ATTRS ? count : 0];
        size_t xlen, len;
        const char *text;

        if (count == EC_MAX_ATTRS) {
            fail_parse(w);
            return;
        }
        xlen = strlen((const char *)atts[i]);
        orig_bytes(w, atts[i], xlen, &len);
        if (len >= EC_MAX_TEXT) {
            fail_parse(w);
            return;
        }
        if (keep_attrs) {
            a->name = (const char *)atts[i];
            a->name_len = xlen;
        }
        /*
         * Wazuh's reader ends an attribute value at any '>'. Most values
         * have neither '>' nor '&' and are used as libxml2 gives them.
         */
        text = (const char *)atts[i + 1];
        len = w->latin1 ? 0 : strcspn(text, "&>");
        if (w->latin1 || text[len] != '\0') {
            text = attr_bytes(w, atts[i + 1], &len);
            if (memchr(text, '>', len) != NULL) {
                fail_parse(w);
                return;
            }
        }
        if (len >= EC_MAX_TEXT) {
            fail_parse(w);
            return;
        }
        if (keep_attrs) {
            a->value = save_str(w, text, len, 0);
            a->value_len = len;
        }
        count++;
    }
    if (keep && level == 3)
        w->nattrs = keep_attrs ? count : 0;
}

static void on_end(void *ctx, const xmlChar *xname)
{
    struct wl_winevt *w = ctx;
    int level = w->depth - 1;

    (void)xname;
    if (w->failed)
        return;
    if (w->root_state == 1 && level >= 3 && level <= 4) {
        const char *text = w->text.data ? w->text.data : "";
        size_t len = w->text.len;

        if (level == 3) {
            const char *name = w->item_name;

            if (w->section == EC_SYSTEM)
                end_system_item(w, name, w->item_name_len, text, len);
            else if (w->section == EC_EVENTDATA)
                end_eventdata_item(w, name, w->item_name_len, text, len);
            else
                w->extra_name = remember(w, name, w->item_name_len);
        } else if (w->section == EC_EXTRA && len > 0 &&
                   !skipped_value(text, len)) {
            add_pair(w, EC_EXTRA, w->child_name, w->child_name_len, 1, text,
                     trimmed_len(text, len));
        }
    }
    if (w->root_state == 1 && level == 1)
        w->root_state = 2;
    w->depth--;
    w->text.len = 0;
}

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
    struct wl_winevt *w = ctx;
    size_t n;
    const char *s;

    if (w->failed || w->depth < 2)
        return; /* text outside the root elements is skipped */
    s = orig_bytes(w, ch, (size_t)len, &n);
    if (wl_dec_buf_append(&w->text, s, n) < 0) {
        no_memory(w);
        return;
    }
    if (w->text.len >= EC_MAX_TEXT)
        fail_parse(w);
}

/* Constructs Wazuh's reader rejects: CDATA, PIs, DOCTYPE. */
static void on_cdata(void *ctx, const xmlChar *value, int len)
{
    (void)value;
    (void)len;
    fail_parse(ctx);
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target;
    (void)data;
    fail_parse(ctx);
}

static void on_subset(void *ctx, const xmlChar *name, const xmlChar *id,
                      const xmlChar *sys)
{
    (void)name;
    (void)id;
    (void)sys;
    fail_parse(ctx);
}

static void on_error(void *ctx, const char *msg, ...)
{
    struct wl_winevt *w = ctx;

    (void)msg;
    w->xml_error = 1;
    fail_parse(w);
}

static void on_warning(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static int new_context(struct wl_winevt *w)
{
    if (w->ctxt != NULL)
        xmlFreeParserCtxt(w->ctxt);
    w->ctxt = xmlCreatePushParserCtxt(&w->sax, w, NULL, 0, NULL);
    return w->ctxt != NULL ? 0 : WL_ENOMEM;
}

struct wl_winevt *wl_winevt_new(void)
{
    struct wl_winevt *w = calloc(1, sizeof(*w));

    if (w == NULL)
        return NULL;
    /* SAX1 callbacks (initialized = 1): no namespace processing. */
    w->sax.initialized = 1;
    w->sax.startElement = on_start;
    w->sax.endElement = on_end;
    w->sax.characters = on_characters;
    w->sax.ignorableWhitespace = on_characters;
    w->sax.cdataBlock = on_cdata;
    w->sax.processingInstruction = on_pi;
    w->sax.internalSubset = on_subset;
    w->sax.externalSubset = on_subset;
    w->sax.error = on_error;
    w->sax.fatalError = on_error;
    w->sax.warning = on_warning;
    w->slots = wl_dec_slot_cache_new();
    if (w->slots == NULL || new_context(w) < 0) {
        wl_dec_slot_cache_free(w->slots);
        free(w);
        return NULL;
    }
    return w;
}

void wl_winevt_free(struct wl_winevt *w)
{
    if (w == NULL)
        return;
    if (w->ctxt != NULL)
        xmlFreeParserCtxt(w->ctxt);
    wl_dec_buf_free(&w->input);
    wl_dec_buf_free(&w->text);
    wl_dec_buf_free(&w->strs);
    wl_dec_buf_free(&w->out);
    wl_dec_buf_free(&w->name);
    wl_dec_buf_free(&w->join);
    wl_dec_buf_free(&w->conv);
    wl_dec_buf_free(&w->item_copy);
    wl_dec_slot_cache_free(w->slots);
    wl_dec_buf_free(&w->child_copy);
    free(w->pairs);
    free(w);
}

static void reset_state(struct wl_winevt *w)
{
    static const struct ec_ref none = {0, -1};

    w->strs.len = 0;
    w->join.len = 0;
    w->text.len = 0;
    w->npairs = 0;
    w->depth = 0;
    w->failed = 0;
    w->xml_error = 0;
    w->nomem = 0;
    w->root_state = 0;
    w->nattrs = 0;
    w->level = w->keywords = w->category = w->subcategory = none;
    w->audit = w->extra_name = none;
}

static int parse_once(struct wl_winevt *w)
{
    const int options = XML_PARSE_NONET | XML_PARSE_HUGE;

    if (w->ctxt == NULL || xmlDictSize(w->ctxt->dict) > EC_DICT_LIMIT) {
        if (new_context(w) < 0)
            return WL_ENOMEM;
    }
    if (xmlCtxtResetPush(w->ctxt, NULL, 0, NULL,
                         w->latin1 ? "ISO-8859-1" : NULL) != 0)
        return WL_ENOMEM;
    xmlCtxtUseOptions(w->ctxt, options);
    xmlParseChunk(w->ctxt, w->input.data, (int)w->input.len, 1);
    if (w->nomem)
        return WL_ENOMEM;
    if (w->failed || !w->ctxt->wellFormed)
        return WL_EPARSE;
    return 0;
}

/*
 * Parses w->input. Returns 0 when Wazuh's reader would have read it,
 * WL_EPARSE when not, WL_ENOMEM. Text that libxml2 rejects because it is
 * not UTF-8 is read again as ISO-8859-1, which accepts any byte.
 */
static int parse_input(struct wl_winevt *w)
{
    int r = parse_once(w);

    if (r == WL_EPARSE && w->xml_error &&
        !valid_xml_utf8((const unsigned char *)w->input.data, w->input.len)) {
        reset_state(w);
        w->latin1 = 1;
        r = parse_once(w);
    }
    return r;
}

/* Removes every "%%" from s into w->name; returns its text. */
static const char *without_percent(struct wl_winevt *w, struct ec_ref ref)
{
    const char *s = str_at(w, ref.off);
    struct wl_dec_buf *b = &w->name;

    b->len = 0;
    if (wl_dec_buf_reserve(b, (size_t)ref.len) < 0) {
        no_memory(w);
        return "";
    }
    for (long i = 0; i < ref.len; i++) {
        if (s[i] == '%' && i + 1 < ref.len && s[i + 1] == '%') {
            i++;
            continue;
        }
        b->data[b->len++] = s[i];
    }
    b->data[b->len] = '\0';
    return b->data;
}

struct ec_name {
    int id;
    const char *name;
};

static const struct ec_name categories[] = {
    {8272, "System"},
    {8273, "Logon/Logoff"},
    {8274, "Object Access"},
    {8275, "Privilege Use"},
    {8276, "Detailed Tracking"},
    {8277, "Policy Change"},
    {8278, "Account Management"},
    {8279, "DS Access"},
    {8280, "Account Logon"},
};

/* The subcategories of category 8272 + k are numbered from 12288 + 256 k. */
static const char *const subcategories[9][14] = {
    {"Security State Change", "Security System Extension", "System Integrity",
     "IPsec Driver", "Other System Events"},
    {"Logon", "Logoff", "Account Lockout", "IPsec Main Mode", "Special Logon",
     "IPSec Extended Mode", "IPSec Quick Mode", "Other Logon/Logoff Events",
     "Network Policy Server", "User/Device Claims", "Group Membership"},
    {"File System", "Registry", "Kernel Object", "SAM",
     "Other Object Access Events", "Certification Services",
     "Application Generated", "Handle Manipulation", "File Share",
     "Filtering Platform Packet Drop", "Filtering Platform Connection",
     "Detailed File Share", "Removable Storage", "Central Policy Staging"},
    {"Sensitive Privilege Use", "Non Sensitive Privilege Use",
     "Other Privilege Use Events"},
    {"Process Creation", "Process Termination", "DPAPI Activity", "RPC Events",
     "Plug and Play Events", "Token Right Adjusted Events"},
    {"Audit Policy Change", "Authentication Policy Change",
     "Authorization Policy Change", "MPSSVC Rule-Level Policy Change",
     "Filtering Platform Policy Change", "Other Policy Change Events"},
    {"User Account Management", "Computer Account Management",
     "Security Group Management", "Distribution Group Management",
     "Application Group Management", "Other Account Management Events"},
    {"Directory Service Access", "Directory Service Changes",
     "Directory Service Replication", "Detailed Directory Service Replication"},
    {"Credential Validation", "Kerberos Service Ticket Operations",
     "Other Account Logon Events", "Kerberos Authentication Service"},
};

static void add_const(struct wl_winevt *w, enum ec_section section,
                      const char *key, const char *value)
{
    add_pair(w, section, key, strlen(key), 0, value, strlen(value));
}

static const char *severity_name(int level, unsigned long long keywords)
{
    switch (level) {
    case 1:
        return "CRITICAL";
    case 2:
        return "ERROR";
    case 3:
        return "WARNING";
    case 4:
        return "INFORMATION";
    case 5:
        return "VERBOSE";
    case 0:
        if (keywords & 0x10000000000000ULL)
            return "AUDIT_FAILURE";
        if (keywords & 0x20000000000000ULL)
            return "AUDIT_SUCCESS";
        return "UNKNOWN";
    default:
        return "UNKNOWN";
    }
}

static void add_category(struct wl_winevt *w)
{
    int cat = (int)strtol(without_percent(w, w->category), NULL, 10);
    int sub = (int)strtol(without_percent(w, w->subcategory), NULL, 10);

    for (size_t k = 0; k < sizeof(categories) / sizeof(categories[0]); k++) {
        if (categories[k].id != cat)
            continue;
        add_const(w, EC_EVENTDATA, "category", categories[k].name);
        long index = sub - (12288 + 256 * (long)k);
        if (index >= 0 && index < 14 && subcategories[k][index] != NULL)
            add_const(w, EC_EVENTDATA, "subcategory", subcategories[k][index]);
        return;
    }
}

/* Reads a piece of the audit policy list as Wazuh's strtol does. */
static const char *audit_change(long code)
{
    switch (code) {
    case 8448:
        return "Success removed";
    case 8449:
        return "Success added";
    case 8450:
        return "Failure removed";
    case 8451:
        return "Failure added";
    default:
        return NULL;
    }
}

/* Splits on ',' into at most 4 pieces ("\," does not split). */
static void add_audit_changes(struct wl_winevt *w)
{
    const char *s = without_percent(w, w->audit);
    struct wl_dec_buf names = {0};
    int pieces = 1;

    if (w->nomem)
        return;
    const char *piece = s;
    for (const char *p = s;; p++) {
        int split = *p == ',' && pieces < 4 && !(p > s && p[-1] == '\\');

        if (*p != '\0' && !split)
            continue;
        const char *name = audit_change(strtol(piece, NULL, 10));
        if (name != NULL) {
            if ((names.len > 0 && wl_dec_buf_append(&names, ", ", 2) < 0) ||
                wl_dec_buf_append(&names, name, strlen(name)) < 0) {
                no_memory(w);
                break;
            }
        }
        if (*p == '\0')
            break;
        pieces++;
        piece = p + 1;
    }
    if (names.len > 0 && !w->nomem)
        add_pair(w, EC_EVENTDATA, "auditPolicyChanges", 18, 0, names.data,
                 names.len);
    wl_dec_buf_free(&names);
}

/* Severity, category and audit policy: computed after a good parse. */
static void add_computed(struct wl_winevt *w)
{
    if (w->level.len >= 0 && w->keywords.len >= 0) {
        int level = (int)strtol(str_at(w, w->level.off), NULL, 10);
        unsigned long long keywords =
            strtoull(str_at(w, w->keywords.off), NULL, 16);

        add_const(w, EC_SYSTEM, "severityValue",
                  severity_name(level, keywords));
        if (w->category.len >= 0 && w->subcategory.len >= 0)
            add_category(w);
    }
    if (w->audit.len >= 0)
        add_audit_changes(w);
}

/*
 * Adds win.system.message: the Message value's JSON text with the escapes
 * \" \\ \b \f \n \r \t undone (others such as \u0001 stay as typed) and
 * trailing white space removed.
 */
static void add_message(struct wl_winevt *w, const cJSON *msg)
{
    struct wl_dec_buf *b = &w->name;

    if (cJSON_IsString(msg)) {
        /*
         * Printing then unescaping a string gives it back in quotes with
         * only the controls other than \b \f \n \r \t as \u00xx.
         */
        const char *s = msg->valuestring;
        size_t n = strlen(s);

        b->len = 0;
        if (wl_dec_buf_reserve(b, n * 6 + 2) < 0) {
            no_memory(w);
            return;
        }
        char *o = b->data;
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];

            if (c >= 0x20 || c == '\b' || c == '\f' || c == '\n' || c == '\r' ||
                c == '\t')
                *o++ = (char)c;
            else
                o = wl_dec_put_escape(o, c);
        }
        *o++ = '"';
        add_pair(w, EC_SYSTEM, "message", 7, 0, b->data, (size_t)(o - b->data));
        return;
    }

    char *printed = cJSON_PrintUnformatted(msg);
    if (printed == NULL) {
        no_memory(w);
        return;
    }
    b->len = 0;
    if (wl_dec_buf_reserve(b, strlen(printed)) < 0) {
        free(printed);
        no_memory(w);
        return;
    }
    char *o = b->data;
    for (const char *p = printed; *p != '\0'; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        switch (p[1]) {
        case '\0':
            *o++ = '\\';
            continue;
        case 'b':
            *o++ = '\b';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        default:
            *o++ = '\\';
            *o++ = p[1];
        }
        p++;
    }
    free(printed);
    b->len = (size_t)(o - b->data);
    b->len = trimmed_len(b->data, b->len);
    add_pair(w, EC_SYSTEM, "message", 7, 0, b->data, b->len);
}

static int count_section(const struct wl_winevt *w, enum ec_section s)
{
    int n = 0;

    for (size_t i = 0; i < w->npairs; i++)
        n += w->pairs[i].section == s;
    return n;
}

/* Writes s as a JSON string at p, which has room for 6 * n + 2 bytes. */
static char *put_string(char *p, const char *s, size_t n)
{
    *p++ = '"';
    p = wl_dec_escape(p, s, n, WL_DEC_ESC_JSON);
    *p++ = '"';
    return p;
}

/* Writes "key":{...} for one section into w->out. */
static int print_section(struct wl_winevt *w, enum ec_section s,
                         const char *key, size_t key_len)
{
    struct wl_dec_buf *o = &w->out;
    size_t need = key_len * 6 + 5;
    int first = 1;

    /* Room for every byte escaped, the quotes and the punctuation. */
    for (size_t i = 0; i < w->npairs; i++) {
        const struct ec_pair *p = &w->pairs[i];

        if (p->section == s)
            need += (p->key_len + p->value_len) * 6 + 6;
    }
    if (wl_dec_buf_reserve(o, need) < 0)
        return WL_ENOMEM;

    char *q = put_string(o->data + o->len, key, key_len);
    *q++ = ':';
    *q++ = '{';
    for (size_t i = 0; i < w->npairs; i++) {
        const struct ec_pair *p = &w->pairs[i];

        if (p->section != s)
            continue;
        if (!first)
            *q++ = ',';
        q = put_string(q, p->key, p->key_len);
        *q++ = ':';
        q = put_string(q, p->value, p->value_len);
        first = 0;
    }
    *q++ = '}';
    o->len = (size_t)(q - o->data);
    o->data[o->len] = '\0';
    return 0;
}

/*
 * Adds the fields of one section, named win.<section>.<key>; section and
 * len give the name of an extra section, whose pairs have no full name.
 */
static int add_fields(struct wl_winevt *w, struct wl_event *ev,
                      enum ec_section s, const char *section, size_t len)
{
    for (size_t i = 0; i < w->npairs; i++) {
        const struct ec_pair *p = &w->pairs[i];
        const char *name = p->name;
        size_t name_len = section_prefix_len[s] + p->key_len;

        if (p->section != s)
            continue;
        if (s == EC_EXTRA) {
            char *full;

            name_len = 4 + len + 1 + p->key_len;
            full = wl_arena_alloc(&ev->arena, name_len + 1);
            if (full == NULL)
                return WL_ENOMEM;
            memcpy(full, "win.", 4);
            memcpy(full + 4, section, len);
            full[4 + len] = '.';
            memcpy(full + 5 + len, p->key, p->key_len);
            full[name_len] = '\0';
            name = full;
        }

        int slot =
            ev->slot_count > 0
                ? wl_dec_slot_cache_find(w->slots, ev->names, name, name_len)
                : -1;
        int r = wl_dec_add_field_ref(ev, name, name_len, p->value, p->value_len,
                                     slot);
        if (r == WL_ENOMEM)
            return r;
        if (r == WL_ERANGE)
            wl_log_limited(WL_LOG_ERROR, "winevt-fields",
                           "Too many fields for the JSON decoder: more "
                           "than %d in one event, the rest are dropped",
                           WL_EVENT_MAX_FIELDS);
    }
    return 0;
}

/* Compares two keys ignoring case as cJSON's object lookup does. */
static int same_key(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len != b_len)
        return 0;
    for (size_t i = 0; i < a_len; i++) {
        int x = (unsigned char)a[i], y = (unsigned char)b[i];

        if (x != y && tolower(x) != tolower(y))
            return 0;
    }
    return 1;
}

/*
 * Returns a hash in 0..127 that keys equal ignoring case share: their
 * lengths are equal, and so are the tolower() of their first and last
 * bytes.
 */
static unsigned key_bucket(const char *key, size_t len)
{
    if (len == 0)
        return 0;
    return (unsigned)(len * 7 + (size_t)tolower((unsigned char)key[0]) +
                      3 * (size_t)tolower((unsigned char)key[len - 1])) &
           127;
}

/*
 * Returns 1 when wl_event_data_json() would print the fields of section s
 * as the section's object in full_log. That needs at least one pair and
 * no value that is empty (skipped there) or starts with '[' (maybe
 * printed as a JSON array). No key may have a '.' (it would nest) and no
 * two keys may be equal ignoring case (the later one is dropped). Values
 * never contain a NUL because they come from the C strings of the payload.
 */
static int section_is_data(const struct wl_winevt *w, enum ec_section s)
{
    uint64_t seen[2] = {0, 0};
    int count = 0;

    for (size_t i = 0; i < w->npairs; i++) {
        const struct ec_pair *p = &w->pairs[i];
        const char *key = p->key;

        if (p->section != s)
            continue;
        if (p->value_len == 0 || p->value[0] == '[' ||
            memchr(key, '.', p->key_len) != NULL)
            return 0;

        unsigned b = key_bucket(key, p->key_len);
        uint64_t bit = (uint64_t)1 << (b & 63);
        if (seen[b >> 6] & bit) {
            for (size_t j = 0; j < i; j++) {
                const struct ec_pair *q = &w->pairs[j];

                if (q->section == s &&
                    same_key(q->key, q->key_len, key, p->key_len))
                    return 0;
            }
        }
        seen[b >> 6] |= bit;
        count++;
    }
    return count > 0;
}

/*
 * Returns 1 when full_log, as emit() printed it, is also the text of the
 * "data" object: every pair became a field and every section printed
 * reads the same there.
 */
static int full_log_is_data(const struct wl_winevt *w,
                            const struct wl_event *ev, int has_eventdata,
                            const char *extra, long extra_len)
{
    if (ev->fields_dropped > 0 || ev->field_count != w->npairs ||
        !section_is_data(w, EC_SYSTEM))
        return 0;
    if (has_eventdata && !section_is_data(w, EC_EVENTDATA))
        return 0;
    if (extra_len < 0)
        return 1;
    return memchr(extra, '.', (size_t)extra_len) == NULL &&
           !same_key(extra, (size_t)extra_len, "system", 6) &&
           !same_key(extra, (size_t)extra_len, "eventdata", 9) &&
           section_is_data(w, EC_EXTRA);
}

/* Builds full_log and the fields from the pairs collected. */
static int emit(struct wl_winevt *w, struct wl_event *ev)
{
    struct wl_dec_buf *o = &w->out;
    int has_eventdata = count_section(w, EC_EVENTDATA) > 0;
    int has_extra = w->extra_name.len >= 0;
    size_t extra_off = 0;
    size_t extra_len = 0;
    int r;

    if (has_extra) {
        extra_off = save_str(w, str_at(w, w->extra_name.off),
                             (size_t)w->extra_name.len, 1);
        extra_len = (size_t)w->extra_name.len;
        if (w->nomem)
            return WL_ENOMEM;
    }

    o->len = 0;
    if (wl_dec_buf_append(o, "{\"win\":{", 8) < 0 ||
        print_section(w, EC_SYSTEM, "system", 6) < 0)
        return WL_ENOMEM;
    if (has_eventdata && (wl_dec_buf_putc(o, ',') < 0 ||
                          print_section(w, EC_EVENTDATA, "eventdata", 9) < 0))
        return WL_ENOMEM;
    if (has_extra &&
        (wl_dec_buf_putc(o, ',') < 0 ||
         print_section(w, EC_EXTRA, str_at(w, extra_off), extra_len) < 0))
        return WL_ENOMEM;
    if (wl_dec_buf_append(o, "}}", 2) < 0)
        return WL_ENOMEM;

    char *full_log = wl_arena_strndup(&ev->arena, o->data, o->len);
    if (full_log == NULL)
        return WL_ENOMEM;
    ev->full_log = ev->log = full_log;
    ev->full_log_len = ev->log_len = o->len;

    r = add_fields(w, ev, EC_SYSTEM, "system", 6);
    if (r == 0 && has_eventdata)
        r = add_fields(w, ev, EC_EVENTDATA, "eventdata", 9);
    if (r == 0 && has_extra)
        r = add_fields(w, ev, EC_EXTRA, str_at(w, extra_off), extra_len);
    if (r == 0 && full_log_is_data(w, ev, has_eventdata,
                                   has_extra ? str_at(w, extra_off) : "",
                                   has_extra ? (long)extra_len : -1)) {
        ev->data_json = full_log;
        ev->data_json_len = o->len;
        ev->data_json_fields = ev->field_count;
    }
    return r;
}

/* Parses the Event value; on success the pairs hold its fields. */
static int decode_event_xml(struct wl_winevt *w, const cJSON *event,
                            const char *bare, struct wl_decode_stats *stats)
{
    int r;

    if (bare != NULL) {
        r = build_input(w, bare, strlen(bare), 1);
    } else if (cJSON_IsString(event)) {
        r = build_input(w, event->valuestring, strlen(event->valuestring), 1);
    } else {
        char *printed = cJSON_PrintUnformatted(event);

        if (printed == NULL)
            return WL_ENOMEM;
        r = build_input(w, printed, strlen(printed), 0);
        free(printed);
    }
    if (r < 0)
        return r;

    r = parse_input(w);
    if (r == WL_EPARSE) {
        char sample[96];
        size_t skip = sizeof(wrap_open) - 1;
        size_t n = w->input.len - skip;

        stats->xml_unreadable++;
        n -= sizeof(wrap_close) - 1;
        wl_log_sanitize(sample, sizeof(sample), w->input.data + skip,
                        n < 64 ? n : 64);
        wl_log_limited(WL_LOG_WARN, "winevt-xml",
                       "Could not read the Event XML of an Event Channel "
                       "event, only its message is kept: '%s'",
                       sample);
        /* Like Wazuh, forget everything read before the error. */
        reset_state(w);
        return 0;
    }
    if (r < 0)
        return r;
    add_computed(w);
    if (w->join.len > 0)
        add_pair(w, EC_EVENTDATA, "data", 4, 0, w->join.data, w->join.len);
    return w->nomem ? WL_ENOMEM : 0;
}

int wl_winevt_decode(struct wl_winevt *w, const char *log, struct wl_event *ev,
                     struct wl_decode_stats *stats)
{
    cJSON *root = NULL;
    const cJSON *event = NULL;
    const char *bare = NULL;
    const char *end = NULL;
    int r = 0;

    reset_state(w);
    w->ev = ev;
    w->chunk = NULL;
    w->chunk_left = 0;
    ev->decoder_name = "windows_eventchannel";
    ev->decoder_type = "ossec";
    ev->decoder_parent = NULL;
    ev->program_name = NULL;
    ev->dec_timestamp = NULL;

    if (log[0] == '<') {
        /* Newer agents send the XML alone, without Message. */
        bare = log;
    } else {
        root = cJSON_ParseWithOpts(log, &end, 0);
        if (root == NULL) {
            stats->dropped_json++;
            wl_log_limited(WL_LOG_DEBUG, "winevt-json",
                           "Malformed EventChannel JSON event, dropped");
            return WL_EINVAL;
        }
        event = cJSON_GetObjectItem(root, "Event");
        if (event == NULL) {
            stats->dropped_no_event++;
            wl_log_limited(WL_LOG_DEBUG, "winevt-no-event",
                           "EventChannel JSON event without an 'Event' "
                           "key, dropped");
            r = WL_EINVAL;
            goto out;
        }
    }

    r = decode_event_xml(w, event, bare, stats);
    if (r < 0)
        goto out;
    if (root != NULL) {
        const cJSON *msg = cJSON_GetObjectItem(root, "Message");

        if (msg != NULL)
            add_message(w, msg);
    }
    if (w->nomem) {
        r = WL_ENOMEM;
        goto out;
    }
    r = emit(w, ev);
    if (r == 0)
        stats->decoded++;

out:
    cJSON_Delete(root);
    return r;
}
