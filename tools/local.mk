# tools: sources, programs and tests of this folder.

# wazlab-agents: manages client.keys (list, add, remove, show-key, import).
bin_PROGRAMS += tools/wazlab-agents
tools_wazlab_agents_SOURCES = tools/wazlab-agents.c
tools_wazlab_agents_LDADD = $(WL_LIBS)
