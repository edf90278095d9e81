# rules: sources, programs and tests of this folder.

# pattern matchers
libwazlab_a_SOURCES += rules/pattern.c rules/pattern.h \
	rules/osmatch.c rules/osmatch.h rules/osregex.c rules/osregex.h \
	rules/pattern_pcre2.c rules/pattern_pcre2.h

check_PROGRAMS += tests/test-pattern
tests_test_pattern_SOURCES = tests/test-pattern.c tests/tap.h
tests_test_pattern_LDADD = $(WL_LIBS)
TESTS += tests/test-pattern
check_PROGRAMS += tests/test-pattern-vectors
tests_test_pattern_vectors_SOURCES = tests/test-pattern-vectors.c tests/tap.h
tests_test_pattern_vectors_LDADD = $(WL_LIBS)
TESTS += tests/test-pattern-vectors
# end of pattern matchers

# rule engine: loader, option table, tree, alerts, engine
libwazlab_a_SOURCES += rules/ruleset.h rules/rule.h rules/tree.h \
	rules/xml.c rules/xml.h rules/cond.c rules/cond.h rules/opt_ip.c \
	rules/opt_time.c rules/options.c rules/loader.c rules/tree.c

check_PROGRAMS += tests/test-rules-load
tests_test_rules_load_SOURCES = tests/test-rules-load.c tests/tap.h
tests_test_rules_load_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-load
