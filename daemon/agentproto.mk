# daemon: Wazuh agent protocols (client.keys, secure messages, control
# messages, enrollment) and their unit tests.
libwazlab_a_SOURCES += daemon/keys.c daemon/keys.h daemon/secure.c \
	daemon/secure.h daemon/control.c daemon/control.h daemon/enroll.c \
	daemon/enroll.h daemon/native.c daemon/native.h daemon/native_io.c \
	daemon/native_io.h daemon/authd.c daemon/authd.h daemon/agentsvc.c \
	daemon/agentsvc.h

check_PROGRAMS += tests/test-keys tests/test-secure tests/test-enroll \
	tests/test-native tests/test-authd tests/test-agents-e2e
tests_test_keys_SOURCES = tests/test-keys.c tests/tap.h
tests_test_keys_LDADD = $(WL_LIBS)
tests_test_secure_SOURCES = tests/test-secure.c tests/tap.h
tests_test_secure_LDADD = $(WL_LIBS)
tests_test_enroll_SOURCES = tests/test-enroll.c tests/tap.h
tests_test_enroll_LDADD = $(WL_LIBS)
tests_test_native_SOURCES = tests/test-native.c tests/tap.h
tests_test_native_LDADD = $(WL_LIBS)
tests_test_authd_SOURCES = tests/test-authd.c tests/tap.h
tests_test_authd_LDADD = $(WL_LIBS)
tests_test_agents_e2e_SOURCES = tests/test-agents-e2e.c tests/tap.h
tests_test_agents_e2e_LDADD = $(WL_LIBS)
TESTS += tests/test-keys tests/test-secure tests/test-enroll \
	tests/test-native tests/test-authd tests/test-agents-e2e

# Black-box test of tools/wazlab-agents.
dist_noinst_SCRIPTS += tests/test-agents-tool.sh
TESTS += tests/test-agents-tool.sh

# Wazuh agents against the real daemon: tests/agent-sim enrolls simulated
# agents and speaks the native protocol; tests/daemon-agents.py drives it.
check_PROGRAMS += tests/agent-sim
tests_agent_sim_SOURCES = tests/agent-sim.c
tests_agent_sim_LDADD = $(WL_LIBS)
TESTS += tests/daemon-agents.py
EXTRA_DIST += tests/daemon-agents.py
tests/daemon-agents.log: wazlabd$(EXEEXT) tests/agent-sim$(EXEEXT) \
	wazlab-agents$(EXEEXT)

# libFuzzer target for the agent protocol parsers (./configure CC=clang
# --enable-fuzzing --enable-asan CFLAGS=-fsanitize=fuzzer-no-link).
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz-agent
tests_fuzz_agent_SOURCES = tests/fuzz-agent.c
tests_fuzz_agent_CFLAGS = $(AM_CFLAGS) -fsanitize=fuzzer
tests_fuzz_agent_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_agent_LDADD = $(WL_LIBS)
else
EXTRA_DIST += tests/fuzz-agent.c
endif

# Throughput of the native agent receive path: bench/bench-native [N].
noinst_PROGRAMS += bench/bench-native
bench_bench_native_SOURCES = bench/bench-native.c
bench_bench_native_LDADD = $(WL_LIBS)

# wazlab-send --native against the daemon, and attacks on the agent ports
# while a good agent sends.
TESTS += tests/daemon-native-send.py tests/daemon-agents-security.py
EXTRA_DIST += tests/daemon-native-send.py tests/daemon-agents-security.py
tests/daemon-native-send.log: wazlabd$(EXEEXT) wazlab-send$(EXEEXT)
tests/daemon-agents-security.log: wazlabd$(EXEEXT) wazlab-send$(EXEEXT) \
	tests/agent-sim$(EXEEXT) wazlab-agents$(EXEEXT)

# client.keys after kill -9 during a burst of enrollments.
TESTS += tests/daemon-keys-kill.py
EXTRA_DIST += tests/daemon-keys-kill.py
tests/daemon-keys-kill.log: wazlabd$(EXEEXT) wazlab-agents$(EXEEXT)

# One id allocator for enrolled and certificate-named agents.
TESTS += tests/daemon-agent-ids.py
EXTRA_DIST += tests/daemon-agent-ids.py
tests/daemon-agent-ids.log: wazlabd$(EXEEXT) wazlab-send$(EXEEXT)

# wazlabd and wazlab-agents changing client.keys at the same time.
TESTS += tests/daemon-keys-lock.py
EXTRA_DIST += tests/daemon-keys-lock.py
TESTS += tests/daemon-agents-status.py
EXTRA_DIST += tests/daemon-agents-status.py
tests/daemon-agents-status.log: wazlabd$(EXEEXT) tests/agent-sim$(EXEEXT)
TESTS += tests/daemon-authd-late.py
EXTRA_DIST += tests/daemon-authd-late.py
tests/daemon-authd-late.log: wazlabd$(EXEEXT)
tests/daemon-keys-lock.log: wazlabd$(EXEEXT) wazlab-agents$(EXEEXT)

# A generated enrollment password is saved to authd.pass, never logged.
TESTS += tests/daemon-authd-pass.py
EXTRA_DIST += tests/daemon-authd-pass.py
tests/daemon-authd-pass.log: wazlabd$(EXEEXT)
