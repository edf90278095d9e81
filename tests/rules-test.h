/*
 * Helper of the rule tests: the CDB lists of Wazuh's default manager
 * configuration, read from the stock ruleset copy under WL_SHARED_DIR.
 */
#ifndef WL_TESTS_RULES_TEST_H
#define WL_TESTS_RULES_TEST_H

#include <stdio.h>

#include "rules/ruleset.h"

#define STOCK_LIST_COUNT 6

/*
 * Fills lists (STOCK_LIST_COUNT + 1 entries) with the lists the stock
 * rules name, as etc/lists/<name>, read from shared's ruleset copy. The
 * paths live in paths until it is reused.
 */
static inline void stock_lists(const char *shared,
                               struct wl_ruleset_list *lists,
                               char paths[][1024])
{
    static const char *const names[STOCK_LIST_COUNT] = {
        "audit-keys",
        "amazon/aws-eventnames",
        "security-eventchannel",
        "malicious-ioc/malware-hashes",
        "malicious-ioc/malicious-ip",
        "malicious-ioc/malicious-domains",
    };
    static char rule_names[STOCK_LIST_COUNT][128];

    for (int i = 0; i < STOCK_LIST_COUNT; i++) {
        snprintf(rule_names[i], sizeof(rule_names[i]), "etc/lists/%s",
                 names[i]);
        snprintf(paths[i], 1024, "%s/wazuh-ruleset/full/lists/%s", shared,
                 names[i]);
        lists[i].name = rule_names[i];
        lists[i].path = paths[i];
    }
    lists[STOCK_LIST_COUNT].name = NULL;
    lists[STOCK_LIST_COUNT].path = NULL;
}

#endif
