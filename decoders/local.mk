# decoders: the event model and the decoders that fill it.
libwazlab_a_SOURCES += decoders/event.c decoders/event.h \
	decoders/decode.c decoders/decode.h decoders/decode-int.h \
	decoders/predecode.c decoders/winevt.c decoders/json.c decoders/text.c

# Tests of the decoders (sources in tests/).
check_PROGRAMS += tests/test-eventchannel
tests_test_eventchannel_SOURCES = tests/test-eventchannel.c
tests_test_eventchannel_LDADD = $(WL_LIBS)
TESTS += tests/test-eventchannel

check_PROGRAMS += tests/test-corpus
tests_test_corpus_SOURCES = tests/test-corpus.c
tests_test_corpus_LDADD = $(WL_LIBS)
TESTS += tests/test-corpus

check_PROGRAMS += tests/test-decode
tests_test_decode_SOURCES = tests/test-decode.c
tests_test_decode_LDADD = $(WL_LIBS)
TESTS += tests/test-decode

TESTS += tests/test-logtest.py
EXTRA_DIST += tests/test-logtest.py

# The fuzz target's entry point replayed over the seeds in every check.
check_PROGRAMS += tests/fuzz/replay-eventchannel
tests_fuzz_replay_eventchannel_SOURCES = tests/fuzz/fuzz-eventchannel.c \
	tests/fuzz/replay.c
tests_fuzz_replay_eventchannel_LDADD = $(WL_LIBS)
TESTS += tests/fuzz/replay-eventchannel
EXTRA_DIST += tests/fuzz/seeds-eventchannel tests/fuzz/run-fuzz.sh

# libFuzzer target (./configure --enable-fuzzing CC=clang). The decoder
# sources are compiled into it so that libFuzzer instruments them.
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-eventchannel
tests_fuzz_fuzz_eventchannel_SOURCES = tests/fuzz/fuzz-eventchannel.c \
	decoders/event.c decoders/decode.c decoders/predecode.c \
	decoders/winevt.c decoders/json.c decoders/text.c
tests_fuzz_fuzz_eventchannel_CFLAGS = $(AM_CFLAGS) \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
tests_fuzz_fuzz_eventchannel_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_eventchannel_LDADD = $(WL_LIBS)

# Runs the fuzz target for FUZZ_SECONDS (default 60).
run-fuzz-eventchannel: tests/fuzz/fuzz-eventchannel
	$(SHELL) $(srcdir)/tests/fuzz/run-fuzz.sh $(builddir) $(srcdir)
.PHONY: run-fuzz-eventchannel
endif

# Decoder benchmark (not run by make check): bench/bench-decoders [FILE]
noinst_PROGRAMS += bench/bench-decoders
bench_bench_decoders_SOURCES = bench/bench-decoders.c
bench_bench_decoders_LDADD = $(WL_LIBS)
