# bench: sources, programs and tests of this folder.

# wazlabd's receive path (TLS, framing, queue, pass-through analysis,
# SQLite writer): make bench-daemon; results go in docs/benchmarks.md.
EXTRA_DIST += bench/daemon-bench.py
.PHONY: bench-daemon
bench-daemon: wazlabd$(EXEEXT)
	top_builddir='$(abs_top_builddir)' \
	WL_SHARED_DIR="$${WL_SHARED_DIR:-$(abs_top_srcdir)/../shared}" \
	$(PYTHON3) $(srcdir)/bench/daemon-bench.py $(BENCH_ARGS)
