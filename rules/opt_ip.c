#include "config.h"

#include "rules/cond.h"
#include "daemon/error.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One <srcip>/<dstip> value: an address with a prefix length, or "any". */
struct ip_net {
    int family; /* AF_INET, AF_INET6, or 0 for "any" */
    unsigned char addr[16];
    int prefix;
};

struct ip_list {
    struct ip_net *nets;
    size_t count;
};

static int parse_net(const char *value, struct ip_net *net, char *err,
                     size_t err_size)
{
    char text[128];
    char *slash;
    int max;

    /* analysisd strips a leading '!' without negating (a known quirk). */
    if (value[0] == '!')
        value++;
    if (strcasecmp(value, "any") == 0) {
        net->family = 0;
        return 0;
    }
    if (strlen(value) >= sizeof(text))
        goto invalid;
    strcpy(text, value);
    slash = strchr(text, '/');
    if (slash != NULL)
        *slash++ = '\0';
    if (inet_pton(AF_INET, text, net->addr) == 1) {
        net->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, text, net->addr) == 1) {
        net->family = AF_INET6;
        max = 128;
    } else {
        goto invalid;
    }
    net->prefix = max;
    if (slash != NULL) {
        char *end;
        long p = strtol(slash, &end, 10);

        if (*slash == '\0' || *end != '\0' || p < 0 || p > max) {
            /* A dotted netmask is also accepted for IPv4. */
            unsigned char mask[4];

            if (net->family != AF_INET || inet_pton(AF_INET, slash, mask) != 1)
                goto invalid;
            uint32_t m = ((uint32_t)mask[0] << 24) | (mask[1] << 16) |
                         (mask[2] << 8) | mask[3];
            p = 0;
            while (p < 32 && (m & (0x80000000u >> p)))
                p++;
        }
        net->prefix = (int)p;
    }
    return 0;
invalid:
    snprintf(err, err_size, "invalid IP address or network '%s'", value);
    return WL_EINVAL;
}

static int net_contains(const struct ip_net *net, int family,
                        const unsigned char *addr)
{
    if (net->family == 0)
        return 1;
    if (net->family != family)
        return 0;
    int full = net->prefix / 8, rest = net->prefix % 8;

    if (memcmp(net->addr, addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (net->addr[full] & mask) == (addr[full] & mask);
}

static int match_ip(const struct wl_cond *c, const struct wl_event *ev,
                    struct wl_pattern_scratch *ps)
{
    const struct ip_list *list = c->data;
    unsigned char addr[16];
    size_t len = 0;
    int family, found = 0;
    const char *s = wl_cond_subject(c, ev, &len);

    (void)ps;
    if (s == NULL)
        return 0;
    if (inet_pton(AF_INET, s, addr) == 1)
        family = AF_INET;
    else if (inet_pton(AF_INET6, s, addr) == 1)
        family = AF_INET6;
    else
        return 0;
    for (size_t i = 0; i < list->count && !found; i++)
        found = net_contains(&list->nets[i], family, addr);
    return found != c->negate;
}

static void free_ip(struct wl_cond *c)
{
    struct ip_list *list = c->data;

    if (list != NULL)
        free(list->nets);
    free(list);
    c->data = NULL;
}

int wl_cond_ip_add(struct wl_cond *c, const char *value, char *err,
                   size_t err_size)
{
    struct ip_list *list = c->data;
    struct ip_net net;
    int rc = parse_net(value, &net, err, err_size);

    if (rc < 0)
        return rc;
    struct ip_net *nets =
        realloc(list->nets, (list->count + 1) * sizeof(*nets));
    if (nets == NULL)
        return WL_ENOMEM;
    nets[list->count++] = net;
    list->nets = nets;
    return 0;
}

int wl_cond_init_ip(struct wl_cond *c, const char *value, int negate, char *err,
                    size_t err_size)
{
    c->data = calloc(1, sizeof(struct ip_list));
    if (c->data == NULL)
        return WL_ENOMEM;
    c->match = match_ip;
    c->free = free_ip;
    c->negate = negate;
    return wl_cond_ip_add(c, value, err, err_size);
}
