# rules: sources, programs and tests of this folder.

# rule engine: loader, option table, tree, alerts, engine
libwazlab_a_SOURCES += rules/ruleset.h rules/rule.h rules/tree.h \
	rules/xml.c rules/xml.h rules/cond.c rules/cond.h rules/opt_ip.c \
	rules/opt_time.c rules/options.c rules/loader.c rules/tree.c
