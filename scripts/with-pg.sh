#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL 15 test server: starts it in a
# temporary directory, exports EDHUB_E2E_PG and EDHUB_UNIT_PG (its
# directory) for the e2e and unit tests, and stops it whatever happens.
#   scripts/with-pg.sh make e2e
set -euo pipefail
if [ $# -eq 0 ] || [ "$1" = --help ]; then echo "usage: scripts/with-pg.sh COMMAND [ARGS...]"; exit 2; fi
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/edhub-pg-XXXXXX)
chmod 755 "$dir"
trap '"$here/pg-test-server.sh" stop "$dir"; rm -rf "$dir"' EXIT
"$here/pg-test-server.sh" start "$dir" >/dev/null
echo "with-pg: PostgreSQL test server running in $dir" >&2
export EDHUB_E2E_PG="$dir" EDHUB_UNIT_PG="$dir"
"$@"
