# tools: sources, programs and tests of this folder.

# wazlab-agents: manages client.keys (list, add, remove, show-key, import).
bin_PROGRAMS += wazlab-agents
wazlab_agents_SOURCES = tools/wazlab-agents.c
wazlab_agents_LDADD = $(WL_LIBS)
