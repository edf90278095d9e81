#include "config.h"

#include "rules/default_rules.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char **wl_default_rule_files(const char *local_rules_file)
{
    size_t n = 0;
    const char **files;

    while (wl_default_rules[n].name != NULL)
        n++;
    files = calloc(n + 1, sizeof(*files));
    for (size_t i = 0; files != NULL && i < n; i++) {
        files[i] = wl_default_rules[i].name;
        if (local_rules_file != NULL &&
            strcmp(files[i], "builtin:local_rules.xml") == 0 &&
            access(local_rules_file, R_OK) == 0)
            files[i] = local_rules_file;
    }
    return files;
}
