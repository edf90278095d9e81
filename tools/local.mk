# tools: sources, programs and tests of this folder.

# --- wazlab-logtest (decoders) ---
bin_PROGRAMS += wazlab-logtest
wazlab_logtest_SOURCES = tools/wazlab-logtest.c
wazlab_logtest_LDADD = $(WL_LIBS)
# --- end wazlab-logtest ---
