/*
 * The built-in default ruleset: the files of etc/rules/ compiled into the
 * program, so wazlabd analyses events with no file installed. Each buffer
 * is named "builtin:<file name>" (for example
 * "builtin:local_rules.xml"); the array ends with a NULL name.
 */
#ifndef WL_DEFAULT_RULES_H
#define WL_DEFAULT_RULES_H

#include "rules/ruleset.h"

extern const struct wl_ruleset_buffer wl_default_rules[];

#endif
