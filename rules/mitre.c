#include "config.h"

#include "rules/mitre.h"

#include <stdlib.h>
#include <string.h>

static int cmp_technique(const void *key, const void *elem)
{
    return strcmp(key, ((const struct wl_mitre_technique *)elem)->id);
}

const struct wl_mitre_technique *wl_mitre_technique_find(const char *id)
{
    return bsearch(id, wl_mitre_techniques, wl_mitre_technique_count,
                   sizeof(*wl_mitre_techniques), cmp_technique);
}

const char *wl_mitre_tactic_name(const char *id)
{
    for (size_t i = 0; i < wl_mitre_tactic_count; i++) {
        if (strcmp(wl_mitre_tactics[i].id, id) == 0)
            return wl_mitre_tactics[i].name;
    }
    return NULL;
}
