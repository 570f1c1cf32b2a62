#!/bin/sh
# Builds the C reference servers (and the C mutants) where a C compiler and make exist; elsewhere says so
# in one line and succeeds, so `npm ci` works on a machine without a compiler (the C servers are skipped).
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v make >/dev/null 2>&1 || ! { command -v "${CC:-cc}" >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1; }; then
  echo "server-models: no C compiler or make found: the C servers are not built and their tests are skipped"
  exit 0
fi
make -s -C "$root/servers/c" all
if [ -f "$root/fixtures/mutants/c/Makefile" ]; then make -s -C "$root/fixtures/mutants/c" all; fi
