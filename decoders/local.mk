# decoders: the event model and the decoders that fill it.
libwazlab_a_SOURCES += decoders/event.c decoders/event.h \
	decoders/decode.c decoders/decode.h decoders/decode-int.h \
	decoders/predecode.c decoders/winevt.c decoders/json.c

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
