# tests: TAP unit tests (one binary per module) and black-box tests.
EXTRA_DIST += tests/tap.h

check_PROGRAMS += tests/test-event
tests_test_event_SOURCES = tests/test-event.c tests/tap.h
tests_test_event_LDADD = $(WL_LIBS)
TESTS += tests/test-event
