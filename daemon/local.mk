# daemon: shared utilities (errors, logging, queues) and the wazlabd program:
# configuration, listener and TLS, framing, the analysis pipeline.
libwazlab_a_SOURCES += daemon/error.c daemon/error.h daemon/log.c daemon/log.h \
	daemon/queue.c daemon/queue.h daemon/message.c daemon/message.h \
	daemon/analysis.c daemon/analysis.h daemon/config.c daemon/config.h \
	daemon/confcheck.c daemon/confcheck.h \
	daemon/frame.c daemon/frame.h daemon/pipeline.c daemon/pipeline.h \
	daemon/tls.c daemon/tls.h daemon/agentids.c daemon/agentids.h \
	daemon/server.c daemon/server.h

sbin_PROGRAMS += wazlabd
wazlabd_SOURCES = daemon/main.c
wazlabd_LDADD = $(WL_LIBS)

check_PROGRAMS += tests/test-config tests/test-frame tests/test-analysis \
	tests/test-log
tests_test_config_SOURCES = tests/test-config.c tests/tap.h
tests_test_config_LDADD = $(WL_LIBS)
tests_test_frame_SOURCES = tests/test-frame.c tests/tap.h
tests_test_frame_LDADD = $(WL_LIBS)
tests_test_analysis_SOURCES = tests/test-analysis.c tests/tap.h
tests_test_analysis_LDADD = $(WL_LIBS)
tests_test_log_SOURCES = tests/test-log.c tests/tap.h
tests_test_log_LDADD = $(WL_LIBS)
TESTS += tests/test-config tests/test-frame tests/test-analysis tests/test-log

# Black-box tests of the real daemon on 127.0.0.1 (python3 standard library).
DAEMON_TESTS = tests/daemon-cli.py tests/daemon-load.py \
	tests/daemon-mtls.py tests/daemon-badframes.py tests/daemon-kill.py \
	tests/daemon-valgrind.py tests/daemon-alerts.py tests/daemon-check.py
TESTS += $(DAEMON_TESTS)
EXTRA_DIST += $(DAEMON_TESTS) tests/daemonlib.py
# The tests need the daemon built first.
$(DAEMON_TESTS:.py=.log): wazlabd$(EXEEXT)

# Connection limits, timeouts and rate-limited logs of the daemon.
DAEMON_TESTS += tests/daemon-limits.py
