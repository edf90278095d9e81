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
