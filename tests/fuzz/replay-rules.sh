#!/bin/sh
# Replays the rule loader's fuzz entry point over its seed files (TAP).
exec "${top_builddir:-.}/tests/fuzz/replay-rules" \
    "${top_srcdir:-.}/tests/fuzz/seeds-rules"
