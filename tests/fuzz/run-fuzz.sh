#!/bin/sh
# Runs the Event Channel fuzz target for a bounded time (FUZZ_SECONDS,
# default 60) from the seed files, keeping new inputs in a scratch corpus.
# Needs a build configured with --enable-fuzzing CC=clang.
# Usage: run-fuzz.sh BUILD_DIR SOURCE_DIR
set -eu
build=${1:-.}
src=${2:-.}
seconds=${FUZZ_SECONDS:-60}
target="$build/tests/fuzz/fuzz-eventchannel"
corpus="$build/tests/fuzz/corpus-eventchannel"

if [ ! -x "$target" ]; then
    echo "run-fuzz.sh: $target not built; configure with" \
        "--enable-fuzzing CC=clang" >&2
    exit 1
fi
mkdir -p "$corpus"
exec "$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -rss_limit_mb=2048 "$corpus" "$src/tests/fuzz/seeds-eventchannel"
