#!/bin/sh
# Runs the suite against the AddressSanitizer + UndefinedBehaviorSanitizer build of the C servers and
# fails if any sanitizer report was written (reports go to files: the kit does not show servers' stderr).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
make -s -C servers/c sanitize
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
status=0
SM_C_BUILD=build-sanitize \
ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0" \
UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=0" \
  npx jest conformance/test/suite/c- || status=$?
count=$(find "$reports" -type f | wc -l)
if [ "$count" -gt 0 ]; then
  echo "sanitizer run: $count report(s):"
  for f in "$reports"/*; do echo "== $f"; head -40 "$f"; done
  exit 1
fi
echo "sanitizer run: 0 reports from the C servers"
exit "$status"
