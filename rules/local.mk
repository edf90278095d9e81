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

noinst_PROGRAMS += bench/bench-patterns
bench_bench_patterns_SOURCES = bench/bench-patterns.c
bench_bench_patterns_LDADD = $(WL_LIBS)
# end of pattern matchers

# rule engine: loader, option table, tree, alerts, engine
libwazlab_a_SOURCES += rules/ruleset.h rules/rule.h rules/tree.h \
	rules/xml.c rules/xml.h rules/cond.c rules/cond.h rules/opt_ip.c \
	rules/opt_time.c rules/options.c rules/loader.c rules/tree.c \
	rules/alert.c rules/alert.h rules/engine.c rules/engine.h \
	rules/correlation.c rules/correlation.h rules/lists.c rules/lists.h

check_PROGRAMS += tests/test-rules-load
tests_test_rules_load_SOURCES = tests/test-rules-load.c tests/tap.h \
	tests/rules-test.h
tests_test_rules_load_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-load

# MITRE ATT&CK names, generated from the tables at build time
libwazlab_a_SOURCES += rules/mitre.c rules/mitre.h
nodist_libwazlab_a_SOURCES = rules/mitre-data.c
CLEANFILES += rules/mitre-data.c
EXTRA_DIST += rules/mitre-gen.awk rules/mitre/README.md \
	rules/mitre/techniques.tsv rules/mitre/tactics.tsv
rules/mitre-data.c: $(srcdir)/rules/mitre-gen.awk \
		$(srcdir)/rules/mitre/tactics.tsv $(srcdir)/rules/mitre/techniques.tsv
	$(AM_V_GEN)$(MKDIR_P) rules && \
	{ sed 's/^/A\t/' $(srcdir)/rules/mitre/tactics.tsv; \
	  LC_ALL=C sort $(srcdir)/rules/mitre/techniques.tsv | sed 's/^/T\t/'; } | \
	$(AWK) -f $(srcdir)/rules/mitre-gen.awk > $@.tmp && mv $@.tmp $@

check_PROGRAMS += tests/test-rules-semantics
tests_test_rules_semantics_SOURCES = tests/test-rules-semantics.c tests/tap.h \
	tests/rules-test.h
tests_test_rules_semantics_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-semantics

check_PROGRAMS += tests/test-rules-corpus
tests_test_rules_corpus_SOURCES = tests/test-rules-corpus.c tests/tap.h \
	tests/rules-test.h
tests_test_rules_corpus_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-corpus

check_PROGRAMS += tests/test-rules-chain
tests_test_rules_chain_SOURCES = tests/test-rules-chain.c tests/tap.h \
	tests/rules-test.h
tests_test_rules_chain_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-chain

# The default ruleset, loaded when no Wazuh ruleset is configured. It is
# installed as files and also compiled in, so wazlabd needs no file.
wazlabrulesdir = $(sysconfdir)/wazlab/rules
dist_wazlabrules_DATA = etc/rules/0010-wazlab_base.xml \
	etc/rules/0500-wazlab_windows.xml etc/rules/0510-wazlab_sysmon.xml \
	etc/rules/local_rules.xml
libwazlab_a_SOURCES += rules/default_rules.h rules/default_rules.c
nodist_libwazlab_a_SOURCES += rules/default-rules.c
CLEANFILES += rules/default-rules.c
EXTRA_DIST += rules/embed-rules.sh
WL_DEFAULT_RULE_XML = $(srcdir)/etc/rules/0010-wazlab_base.xml \
	$(srcdir)/etc/rules/0500-wazlab_windows.xml \
	$(srcdir)/etc/rules/0510-wazlab_sysmon.xml \
	$(srcdir)/etc/rules/local_rules.xml
rules/default-rules.c: $(srcdir)/rules/embed-rules.sh $(WL_DEFAULT_RULE_XML)
	$(AM_V_GEN)$(MKDIR_P) rules && \
	$(SHELL) $(srcdir)/rules/embed-rules.sh $(WL_DEFAULT_RULE_XML) \
	    > $@.tmp && mv $@.tmp $@

# Benchmark: CPU time of decoding and rule matching per event
noinst_PROGRAMS += bench/bench-rules
bench_bench_rules_SOURCES = bench/bench-rules.c
bench_bench_rules_LDADD = $(WL_LIBS)

# wazlab-logtest phase 3 (the program is built by tools/local.mk)
dist_noinst_SCRIPTS += tests/test-logtest-rules.sh
TESTS += tests/test-logtest-rules.sh

check_PROGRAMS += tests/test-rules-lists
tests_test_rules_lists_SOURCES = tests/test-rules-lists.c tests/tap.h
tests_test_rules_lists_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-lists

check_PROGRAMS += tests/test-rules-engine
tests_test_rules_engine_SOURCES = tests/test-rules-engine.c tests/tap.h
tests_test_rules_engine_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-engine

check_PROGRAMS += tests/test-rules-threads
tests_test_rules_threads_SOURCES = tests/test-rules-threads.c tests/tap.h \
	tests/rules-test.h
tests_test_rules_threads_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-threads

# The rule loader's fuzz entry point replayed over its seeds in every
# check; tests/fuzz/replay.c is the replay driver of the decoder target.
check_PROGRAMS += tests/fuzz/replay-rules
tests_fuzz_replay_rules_SOURCES = tests/fuzz/fuzz-rules.c tests/fuzz/replay.c
tests_fuzz_replay_rules_LDADD = $(WL_LIBS)
dist_noinst_SCRIPTS += tests/fuzz/replay-rules.sh
TESTS += tests/fuzz/replay-rules.sh
EXTRA_DIST += tests/fuzz/seeds-rules

# libFuzzer target of the rule loader (./configure --enable-fuzzing
# CC=clang); run it with: tests/fuzz/fuzz-rules tests/fuzz/seeds-rules
# The rule sources are compiled into it so that libFuzzer instruments them.
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-rules
tests_fuzz_fuzz_rules_SOURCES = tests/fuzz/fuzz-rules.c rules/xml.c \
	rules/cond.c rules/opt_ip.c rules/opt_time.c rules/options.c \
	rules/loader.c rules/tree.c rules/correlation.c rules/lists.c
tests_fuzz_fuzz_rules_CFLAGS = $(AM_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
tests_fuzz_fuzz_rules_LDFLAGS = $(AM_LDFLAGS) \
	-fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_rules_LDADD = $(WL_LIBS)
endif

check_PROGRAMS += tests/test-rules-correlation
tests_test_rules_correlation_SOURCES = tests/test-rules-correlation.c \
	tests/tap.h
tests_test_rules_correlation_LDADD = $(WL_LIBS)
TESTS += tests/test-rules-correlation
