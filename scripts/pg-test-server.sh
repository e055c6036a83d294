#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests: a fresh cluster in DIR,
# listening only on a unix socket in DIR (no TCP port), trust auth.
#   scripts/pg-test-server.sh start DIR   prints the base conninfo URL
#   scripts/pg-test-server.sh stop DIR
#   scripts/pg-test-server.sh createdb DIR NAME   prints the URL of a new database
set -euo pipefail
cmd=${1:-}; dir=${2:-}
if [ "$cmd" = --help ] || [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: scripts/pg-test-server.sh start|stop DIR | createdb DIR NAME"; exit 2
fi
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
[ -x "$PGBIN/postgres" ] || { echo "pg-test-server: PostgreSQL 15 server not found in $PGBIN (run scripts/deps.sh test)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses='' -c max_connections=400 -c shared_buffers=256MB" start >/dev/null \
      || { tail -20 "$dir/server.log" >&2; exit 1; }
    echo "postgresql:///postgres?host=$dir&user=postgres" ;;
  stop)
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true ;;
  createdb)
    name=${3:?database name}
    as_pg "$PGBIN/createdb" -h "$dir" -U postgres "$name"
    echo "postgresql:///$name?host=$dir&user=postgres" ;;
  *) echo "pg-test-server: unknown command $cmd" >&2; exit 2 ;;
esac
