# bench: sources, programs and tests of this folder.

# wazlabd's receive path (TLS, framing, queue, pass-through analysis,
# SQLite writer): make bench-daemon; results go in docs/benchmarks.md.
EXTRA_DIST += bench/daemon-bench.py
.PHONY: bench-daemon
bench-daemon: wazlabd$(EXEEXT)
	top_builddir='$(abs_top_builddir)' \
	WL_SHARED_DIR="$${WL_SHARED_DIR:-$(abs_top_srcdir)/../shared}" \
	$(PYTHON3) $(srcdir)/bench/daemon-bench.py $(BENCH_ARGS)

# Wazuh agents end to end (native protocol, analysis, SQLite writer) with
# 1, 100 and 1,000 agents from wazlab-send --native: make
# bench-native-e2e; results go in docs/benchmarks.md.
EXTRA_DIST += bench/native-e2e-bench.py
.PHONY: bench-native-e2e
bench-native-e2e: wazlabd$(EXEEXT) wazlab-send$(EXEEXT)
	top_builddir='$(abs_top_builddir)' \
	WL_SHARED_DIR="$${WL_SHARED_DIR:-$(abs_top_srcdir)/../shared}" \
	$(PYTHON3) $(srcdir)/bench/native-e2e-bench.py $(BENCH_ARGS)
