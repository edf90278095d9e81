/*
 * The built-in default ruleset: the files of etc/rules/ compiled into the
 * program, so wazlabd and wazlab-logtest analyse events with no file
 * installed. Each buffer is named "builtin:<file name>" (for example
 * "builtin:local_rules.xml"); the array ends with a NULL name.
 */
#ifndef WL_DEFAULT_RULES_H
#define WL_DEFAULT_RULES_H

#include "rules/ruleset.h"

extern const struct wl_ruleset_buffer wl_default_rules[];

/*
 * Returns the rule_files list that loads the built-in ruleset (pass
 * wl_default_rules as the buffers), with local_rules_file in place of the
 * built-in local_rules.xml when that file is readable, so users edit it
 * as on a Wazuh manager. The array is malloc'd and NULL-terminated; its
 * strings are static or local_rules_file. NULL when out of memory.
 */
const char **wl_default_rule_files(const char *local_rules_file);

#endif
