# tools: sources, programs and tests of this folder.

# wazlab-agents: manages client.keys (list, add, remove, show-key, import).
bin_PROGRAMS += wazlab-agents
wazlab_agents_SOURCES = tools/wazlab-agents.c
wazlab_agents_LDADD = $(WL_LIBS)

# wazlab-send: a test agent that sends lines as TLS frames, or many
# simulated Wazuh agents (--native).
bin_PROGRAMS += wazlab-send
wazlab_send_SOURCES = tools/wazlab-send.c tools/send-native.c \
	tools/send-native.h
wazlab_send_LDADD = $(WL_LIBS)
TESTS += tests/test-wazlab-send.py
EXTRA_DIST += tests/test-wazlab-send.py

# --- wazlab-logtest (decoders) ---
bin_PROGRAMS += wazlab-logtest
wazlab_logtest_SOURCES = tools/wazlab-logtest.c
wazlab_logtest_LDADD = $(WL_LIBS)
# --- end wazlab-logtest ---

# The main job on built-in defaults: make demo
dist_noinst_SCRIPTS += tools/wazlab-demo.sh
demo: wazlabd$(EXEEXT) wazlab-send$(EXEEXT)
	$(SHELL) $(srcdir)/tools/wazlab-demo.sh $(builddir) $(srcdir)
.PHONY: demo
