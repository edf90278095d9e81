#!/bin/sh
# Generate ./configure and the Makefile templates from a fresh clone.
set -e
cd "$(dirname "$0")"
autoreconf --install --force
