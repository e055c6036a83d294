#!/usr/bin/env bash
# bench/run.sh - edhub benchmark: builds the server and the helpers, runs the storage ceilings
# (SQLite; PostgreSQL: pgbench and COPY), then for every backend (SQLite, PostgreSQL) creates a
# temporary instance, starts the server on a free 127.0.0.1 port, runs the HTTP workloads,
# bulk-loads the attendance events with `edhub load`, pages through them, stops the server, then
# creates a second instance for the token and record-level authorization workloads (A1 token
# issuance, A2 writes and A3 list reads with a full-access vs a SIS Vendor client), and finally
# writes bench/RESULTS.md (SQLite and PostgreSQL side by side) and the raw per-run records
# bench/results.jsonl. See bench/README.md.
#
# Environment (all optional):
#   BENCH_QUICK=1          short run: 1 run per workload, 3 s wrk runs, 200k bulk-loaded events
#   BENCH_BACKENDS="..."   backends to measure, in order (default "sqlite pg")
#   BENCH_RUNS=N           runs per workload (default 3; quick 1); the report shows medians
#   BENCH_DURATION=S       seconds per wrk / pgbench run (default 10; quick 3)
#   BENCH_BULK_N=N         attendance events bulk-loaded per backend (W8) and paged (W6)
#                          (default 10000000; quick 200000)
#   BENCH_BULK_DAYS=N      school days of the generated data (default 180; students = N / days)
#   BENCH_PAGE_SIZE=N      page size of the deep-paging requests (default 100)
#   BENCH_LAT_N=N          timed requests per op and run in the single-client workload (1000; quick 200)
#   BENCH_SSA_STUDENTS=N   students pre-created for the SSA workload (default 50000; quick 10000)
#   BENCH_PAGE_K=N         timed requests per paging measurement and run (default 20; quick 10)
#   BENCH_PAGE_BUDGET=S    time budget per paging measurement and run: slower requests get fewer
#                          samples (at least 3) (default 60; quick 20)
#   BENCH_LOAD_TIMEOUT=S   bound for one `edhub load` run (default 21600)
#   BENCH_SKIP_BUILD=1     do not run make (use the existing ./edhub)
#   BENCH_SKIP_BULK=1      skip the bulk load (W8), the COPY ceiling and deep paging (W6)
#   BENCH_SKIP_DEEP=1      skip workload 6 (deep paging)
#   BENCH_TMP=DIR          where the temporary instances live (default $TMPDIR or /tmp)
#   BENCH_KEEP=1           keep the temporary directory (instances, logs, raw outputs, data files)
#   BENCH_OUT=FILE         report path (default bench/RESULTS.md; raw records next to it)
#   BENCH_EDHUB=PATH       server binary to use (default ./edhub; for testing the harness)
#   BENCH_PGBIN=DIR        PostgreSQL 15 binaries (default /usr/lib/postgresql/15/bin)
#   BENCH_MIN_FREE_GB=N    stop the server / loader when the data filesystem has less free (default 5)
#   BENCH_ONLY=authz|main  run only the token/authorization workloads A1-A3 (no ceilings, no W1-W9),
#                          or only the original workloads (no A1-A3); default: everything
#   BENCH_SKIP_AUTHZ=1     skip A1-A3 (same as BENCH_ONLY=main)
#   BENCH_AUTHZ_PARTS="tokens writes reads"  which of A1 (tokens), A2 (writes), A3 (reads) to run
#   BENCH_AUTHZ_STUDENTS=N students of LEA 255901 in the authz instance, each enrolled at one of its
#                          3 schools (default 10000; quick 1000)
#   BENCH_AUTHZ_EVENTS=N   attendance events of those students created before A3 (default 50000; quick 5000)
#   BENCH_AUTHZ_OTHER=F    A3 phase B: LEA 255902 gets F times LEA 255901's students and events
#                          (default 4: the LEA 255901 client then sees 1/5 of the rows; 0 = no phase B)
#   BENCH_AUTHZ_TOKENS=N   token requests per A1 cached-issuance run (default 50000; quick 10000; at
#                          most 90000: the server keeps at most 100,000 live tokens)
#   BENCH_AUTHZ_FRESH=N    fresh clients per A1 first-verification measurement and run (default 8)
#   BENCH_AUTHZ_CONNS=N    connections of A1 cached issuance and of A2 (default 16)
#   BENCH_AUTHZ_READ_N=N   timed requests per A3 read measurement and run (default 100; quick 20)
#   BENCH_AUTHZ_READ_BUDGET=S  seconds per A3 read measurement and run; slower requests get fewer
#                          samples (at least 3) (default 10; quick 5)
# Only 127.0.0.1 (and a unix socket of our own PostgreSQL server) is ever contacted. Every wait
# and loop is bounded. The PostgreSQL server is stopped at the end whatever happens (trap).
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LIB="python3 $BENCH_DIR/benchlib.py"
export BENCH_LUA_DIR="$BENCH_DIR/lua"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  d_runs=1 d_dur=3 d_bulk=200000 d_lat=200 d_stu=10000 d_pk=10 d_pb=20 mode=quick
  d_azn=1000 d_aze=5000 d_aztok=10000 d_azrn=20 d_azrb=5
else
  d_runs=3 d_dur=10 d_bulk=10000000 d_lat=1000 d_stu=50000 d_pk=20 d_pb=60 mode=full
  d_azn=10000 d_aze=50000 d_aztok=50000 d_azrn=100 d_azrb=10
fi
RUNS=${BENCH_RUNS:-$d_runs}
DUR=${BENCH_DURATION:-$d_dur}
BULK_N=${BENCH_BULK_N:-$d_bulk}
BULK_DAYS=${BENCH_BULK_DAYS:-180}
PAGE_SIZE=${BENCH_PAGE_SIZE:-100}
LAT_N=${BENCH_LAT_N:-$d_lat}
NSTU=${BENCH_SSA_STUDENTS:-$d_stu}
PAGE_K=${BENCH_PAGE_K:-$d_pk}
PAGE_BUDGET=${BENCH_PAGE_BUDGET:-$d_pb}
LOAD_TIMEOUT=${BENCH_LOAD_TIMEOUT:-21600}
BACKENDS=${BENCH_BACKENDS:-sqlite pg}
PGBIN=${BENCH_PGBIN:-/usr/lib/postgresql/15/bin}
SKIP_BULK=${BENCH_SKIP_BULK:-0}
SKIP_DEEP=${BENCH_SKIP_DEEP:-0}
ONLY=${BENCH_ONLY:-}
AZ_N=${BENCH_AUTHZ_STUDENTS:-$d_azn}
AZ_E=${BENCH_AUTHZ_EVENTS:-$d_aze}
AZ_F=${BENCH_AUTHZ_OTHER:-4}
AZ_TOKN=${BENCH_AUTHZ_TOKENS:-$d_aztok}
AZ_FRESH=${BENCH_AUTHZ_FRESH:-8}
AZ_CONNS=${BENCH_AUTHZ_CONNS:-16}
AZ_READ_N=${BENCH_AUTHZ_READ_N:-$d_azrn}
AZ_READ_BUDGET=${BENCH_AUTHZ_READ_BUDGET:-$d_azrb}
AZ_PARTS=" ${BENCH_AUTHZ_PARTS:-tokens writes reads} "
OUT_MD=${BENCH_OUT:-$BENCH_DIR/RESULTS.md}
if [ -n "${BENCH_OUT:-}" ]; then OUT_JSONL="${OUT_MD%.*}.jsonl"; else OUT_JSONL="$BENCH_DIR/results.jsonl"; fi
EDHUB=${BENCH_EDHUB:-$ROOT/edhub}
cd "$ROOT" || exit 1
KEY=bench-key
SECRET=bench-secret-$$
WRK_T=2
API=/data/v3/ed-fi
MIN_FREE=$(( ${BENCH_MIN_FREE_GB:-5} * 1024 * 1024 * 1024 ))

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in RUNS DUR BULK_N BULK_DAYS PAGE_SIZE LAT_N NSTU PAGE_K PAGE_BUDGET LOAD_TIMEOUT \
  AZ_N AZ_E AZ_TOKN AZ_FRESH AZ_CONNS AZ_READ_N AZ_READ_BUDGET; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive integer (got '${!v}')"
done
[[ $AZ_F =~ ^[0-9]+$ ]] || die "BENCH_AUTHZ_OTHER must be a non-negative integer (got '$AZ_F')"
[ "$AZ_TOKN" -le 90000 ] || die "BENCH_AUTHZ_TOKENS must be at most 90000 (the server keeps at most 100,000 live tokens)"
[ "$AZ_CONNS" -le 1024 ] || die "BENCH_AUTHZ_CONNS must be at most 1024"
for p in $AZ_PARTS; do
  case $p in tokens|writes|reads) ;; *) die "BENCH_AUTHZ_PARTS: unknown part '$p' (use tokens, writes, reads)" ;; esac
done
DO_MAIN=1 DO_AUTHZ=1
case $ONLY in
  "") ;;
  authz) DO_MAIN=0 ;;
  main) DO_AUTHZ=0 ;;
  *) die "BENCH_ONLY: use authz or main (got '$ONLY')" ;;
esac
[ "${BENCH_SKIP_AUTHZ:-0}" = 1 ] && DO_AUTHZ=0
[ $DO_MAIN = 1 ] || [ $DO_AUTHZ = 1 ] || die "BENCH_ONLY=authz with BENCH_SKIP_AUTHZ=1: nothing to run"
# without the original workloads there is no bulk load (nor its data or COPY ceiling)
[ $DO_MAIN = 1 ] || SKIP_BULK=1
seen=" "
for b in $BACKENDS; do
  case $b in sqlite|pg) ;; *) die "BENCH_BACKENDS: unknown backend '$b' (use sqlite and/or pg)" ;; esac
  [[ $seen == *" $b "* ]] && die "BENCH_BACKENDS names $b twice"
  seen+="$b "
done
[ "$seen" != " " ] || die "BENCH_BACKENDS is empty"
HAVE_PG=0; [[ $seen == *" pg "* ]] && HAVE_PG=1
for t in wrk curl python3 gcc timeout; do command -v $t >/dev/null || die "missing tool: $t"; done
if [ $HAVE_PG = 1 ]; then
  for t in postgres psql pgbench pg_ctl initdb; do
    [ -x "$PGBIN/$t" ] || die "missing $PGBIN/$t (PostgreSQL 15: scripts/deps.sh bench installs postgresql-15)"
  done
fi

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/edhub-bench.XXXXXX") || die "mktemp failed"
RES="$WORK/results.jsonl"
: >"$RES"
PGDIR="$WORK/pg"
if [ $HAVE_PG = 1 ]; then
  # the PostgreSQL server runs as user postgres: it must reach its directory and read the COPY file
  chmod 755 "$WORK"
  [ ${#PGDIR} -le 90 ] || die "BENCH_TMP path too long for a PostgreSQL unix socket ($PGDIR)"
fi
SPID="" CPID="" LPID="" WDPIDS="" PG_UP=0 PGPID="" BK=all DATA="" PGDB="" PORT="" CPORT="" TOKEN=""
SLOG="$WORK/server.log" QUIET=0 SERVE_EXTRA=() MASK_V=() MASK_N=()

stop_pid() { # pid name: SIGTERM, wait up to 60 s (a final WAL checkpoint can take a while), then SIGKILL
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  local t0; t0=$(date +%s.%N)
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$2 (pid $pid) did not exit 60 s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    echo "killed"
  else
    python3 -c "print(round($(date +%s.%N)-$t0,2))"
  fi
  wait "$pid" 2>/dev/null
}

# ------------------------------------------------------------------ PostgreSQL server (our own, in $WORK/pg)
PGTS="$ROOT/scripts/pg-test-server.sh"
pg_start() {
  PGBIN="$PGBIN" timeout 300 bash "$PGTS" start "$PGDIR" >"$WORK/pg_start.out" 2>&1 ||
    { cat "$WORK/pg_start.out" >&2; return 1; }
  PG_UP=1
  PGPID=$(head -1 "$PGDIR/data/postmaster.pid" 2>/dev/null)
  [[ $PGPID =~ ^[0-9]+$ ]] || PGPID=""
}
pg_stop() { # fast shutdown; if the postmaster we started is still there after that, SIGTERM/SIGKILL it
  [ "$PG_UP" = 1 ] || return 0
  PGBIN="$PGBIN" timeout 120 bash "$PGTS" stop "$PGDIR" >/dev/null 2>&1
  local i
  for i in $(seq 1 100); do [ -n "$PGPID" ] && kill -0 "$PGPID" 2>/dev/null || break; sleep 0.1; done
  if [ -n "$PGPID" ] && kill -0 "$PGPID" 2>/dev/null; then
    log "PostgreSQL (pid $PGPID) still running after pg_ctl stop; SIGQUIT then SIGKILL"
    kill -QUIT "$PGPID" 2>/dev/null
    for i in $(seq 1 300); do kill -0 "$PGPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$PGPID" 2>/dev/null && kill -KILL "$PGPID" 2>/dev/null
  fi
  PG_UP=0
}
pgq() { # db psql-args...: psql on our server's socket, unaligned, stop on error, bounded
  local db=$1; shift
  timeout "${PGQ_TIMEOUT:-600}" "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PGDIR" -U postgres -d "$db" "$@"
}
pg_cpu_s() { # CPU seconds of our PostgreSQL server: postmaster (incl. its reaped children) + live children
  [ -n "$PGPID" ] || { echo 0; return; }
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" -v pm="$PGPID" '
    { line = $0; pid = $1; sub(/^[^)]*\) /, "", line); split(line, f, " ")
      if (pid == pm) t += f[12] + f[13] + f[14] + f[15]; else if (f[2] == pm) t += f[12] + f[13] }
    END { printf "%.3f\n", t / hz }'
}
pg_wbytes() { # storage write_bytes of the postmaster and its live children
  [ -n "$PGPID" ] || { echo 0; return; }
  local p s=0 v
  for p in $PGPID $(awk -v pm="$PGPID" '{ line = $0; pid = $1; sub(/^[^)]*\) /, "", line); split(line, f, " "); if (f[2] == pm) print pid }' /proc/[0-9]*/stat 2>/dev/null); do
    v=$(awk '/^write_bytes/ {print $2}' /proc/$p/io 2>/dev/null)
    s=$((s + ${v:-0}))
  done
  echo $s
}
db_cpu_s() { if [ "$BK" = pg ] || [ -n "${DB_CPU_PG:-}" ]; then pg_cpu_s; else echo 0; fi; }
db_wbytes() { if [ "$BK" = pg ] || [ -n "${DB_CPU_PG:-}" ]; then pg_wbytes; else echo 0; fi; }

cleanup() {
  local w
  for w in $WDPIDS; do kill "$w" 2>/dev/null; done
  stop_pid "$LPID" "edhub load" >/dev/null
  stop_pid "$CPID" ceiling_http >/dev/null
  stop_pid "$SPID" edhub >/dev/null
  pg_stop
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rec() { $LIB rec backend="$BK" "$@" >>"$RES"; }
check() { # name ok(true/false/null) detail
  rec workload=check name="$1" ok="$2" detail="$3"
  [ "$2" = false ] && log "CHECK FAILED ($BK): $1: $3"
  return 0
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
busy_s() { # CPU seconds the whole machine spent busy (user+nice+system+irq+softirq+steal)
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.3f\n", ($2 + $3 + $4 + $7 + $8 + $9) / hz}' /proc/stat
}
kthread_s() { # CPU seconds of all kernel threads (children of kthreadd, pid 2): writeback, jbd2, kworkers
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" '
    { line = $0; pid = $1; sub(/^[^)]*\) /, "", line); split(line, f, " ")
      if (f[2] == 2 || pid == 2) t += f[12] + f[13] }
    END { printf "%.3f\n", t / hz }'
}
CHILD_CPU=0
child_cpu() { # sets CHILD_CPU = user+sys seconds of all finished children of this shell (bash `times`)
  times >"$WORK/times.txt"
  CHILD_CPU=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } print t }' "$WORK/times.txt")
}
# background CPU during a step = machine busy time - server CPU - load generator CPU - kernel threads,
# as % of all CPUs (kernel threads are reported separately: they include the writeback of the server's
# own writes). "Server" includes our PostgreSQL server's processes on the PostgreSQL backend.
bg_pct() { # busy0 busy1 server0 server1 client0 client1 seconds [kthreads0 kthreads1]
  # null for steps shorter than 2 s: /proc/stat has 10 ms resolution and process start-up would dominate
  python3 -c "import sys; b0,b1,s0,s1,c0,c1,t,k0,k1=map(float,(sys.argv[1:]+['0','0'])[:9]); print(round(max(0.0,(b1-b0)-(s1-s0)-(c1-c0)-(k1-k0))*100/(t*$(nproc)),1) if t>=2 else 'null')" "$@"
}
fsum() { python3 -c "import sys; print(round(sum(float(x) for x in sys.argv[1:]), 3))" "$@"; }
fsub() { python3 -c "import sys; print(round(float(sys.argv[1]) - float(sys.argv[2]), 3))" "$1" "$2"; }
db_sizes() { # "<db bytes> <wal bytes>": SQLite file + -wal file, or pg_database_size + pg_wal
  local db wal
  if [ "$BK" = pg ]; then
    db=$(PGQ_TIMEOUT=60 pgq "$PGDB" -c "SELECT pg_database_size(current_database())" 2>/dev/null)
    wal=$(du -sb "$PGDIR/data/pg_wal" 2>/dev/null | cut -f1)
    echo "${db:-0} ${wal:-0}"
    return
  fi
  db=$(find "$DATA" -maxdepth 2 -name '*.sqlite' -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {printf "%.0f\n", s}')
  wal=$(find "$DATA" -maxdepth 2 -name '*-wal' -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {printf "%.0f\n", s}')
  echo "$db $wal"
}
free_bytes() { df -B1 --output=avail "$WORK" | tail -1; }
record_sizes() { # after a workload: DB and WAL size (a WAL that only grows means checkpoints are not happening)
  local sz; sz=$(db_sizes)
  rec workload=sizes after="$1" db_bytes="${sz% *}" wal_bytes="${sz#* }" free_bytes="$(free_bytes)"
  log "  sizes after $1: db ${sz% *} B, wal ${sz#* } B"
}
wbytes() { # bytes the server caused to be written to storage (/proc/PID/io write_bytes)
  local p=${CPU_PID:-$SPID}
  [ -n "$p" ] || { echo 0; return; }
  awk '/^write_bytes/ {print $2; f=1} END {if (!f) print 0}' /proc/$p/io 2>/dev/null || echo 0
}
cpu_s() { # utime+stime of the server in seconds (0 while no server runs)
  local p=${CPU_PID:-$SPID}
  [ -n "$p" ] || { echo 0; return; }
  [ -r /proc/$p/stat ] || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^[^)]*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' /proc/$p/stat
}

start_watchdog() { # pid what [deadline_s]: stop PID (ours) if the data filesystem runs low or the deadline passes
  local pid=$1 what=$2 dl=${3:-0} wdfile="$WORK/watchdog.$BK.txt"
  (
    t0=$(date +%s) hit=0
    for i in $(seq 1 200000); do
      kill -0 "$pid" 2>/dev/null || exit 0
      free=$(df -B1 --output=avail "$WORK" | tail -1)
      if [ "$free" -lt "$MIN_FREE" ]; then
        echo "free space on the data filesystem fell to $free bytes (< BENCH_MIN_FREE_GB=${BENCH_MIN_FREE_GB:-5}); stopped $what" >>"$wdfile"
        hit=1; break
      fi
      if [ "$dl" -gt 0 ] && [ $(($(date +%s) - t0)) -gt "$dl" ]; then
        echo "$what still running after its bound of $dl s; stopped it" >>"$wdfile"; hit=1; break
      fi
      sleep 2
    done
    [ $hit = 1 ] || exit 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 90); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 1; done
    kill -KILL "$pid" 2>/dev/null
  ) &
  WDPIDS="$WDPIDS $!"
}

# ------------------------------------------------------------------ report
finish() { # write the report (the backends have been torn down)
  rec workload=meta_end loadavg="$(loadavg)" date="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  mkdir -p "$(dirname "$OUT_MD")" "$(dirname "$OUT_JSONL")"
  cp "$RES" "$OUT_JSONL"
  # the Loading section (bench/load.py) is kept: it has its own run
  local keep=""
  [ -f "$OUT_MD" ] && keep=$(sed -n '/<!-- loading:begin -->/,/<!-- loading:end -->/p' "$OUT_MD")
  $LIB report "$RES" "$OUT_MD" || die "report generation failed"
  [ -n "$keep" ] && printf '\n%s\n' "$keep" >>"$OUT_MD"
  log "wrote $OUT_MD and $OUT_JSONL"
}

alive() { # after a step: if the server died, record it and return 1 (the rest of this backend is skipped)
  [ -z "$SPID" ] && return 1
  kill -0 "$SPID" 2>/dev/null && return 0
  wait "$SPID" 2>/dev/null; local rc=$?
  local why="exit status $rc"; [ $rc -gt 128 ] && why="killed by signal $((rc - 128))"
  [ -s "$WORK/watchdog.$BK.txt" ] && why="$why; $(tail -1 "$WORK/watchdog.$BK.txt")"
  check "server still running after $1" false "edhub serve died ($why); last log line: $(tail -1 "$SLOG" | cut -c1-200)"
  log "server died during $1 ($why); skipping the rest of the $BK workloads"
  SPID=""
  return 1
}

# ------------------------------------------------------------------ build
if [ "${BENCH_SKIP_BUILD:-0}" != 1 ] && [ -z "${BENCH_EDHUB:-}" ]; then
  log "building edhub (make -C $ROOT)"
  if ! timeout 3600 make -C "$ROOT" >"$WORK/build.log" 2>&1; then
    # `make` copies build/rel/edhub to ./edhub, which fails ("Text file busy") while anyone runs ./edhub
    if grep -q 'Text file busy' "$WORK/build.log" && [ -x "$ROOT/build/rel/edhub" ]; then
      log "make could not replace ./edhub (in use by another process); using build/rel/edhub"
      EDHUB="$ROOT/build/rel/edhub"
    else
      tail -30 "$WORK/build.log" >&2; die "make failed"
    fi
  fi
fi
[ -x "$EDHUB" ] || die "$EDHUB not found (build failed?)"
# run a private copy, so a rebuild by someone else during the run cannot change the binary under test
mkdir -p "$WORK/bin" && cp "$EDHUB" "$WORK/bin/edhub" || die "cannot copy $EDHUB"
EDHUB_SRC=$EDHUB
EDHUB="$WORK/bin/edhub"
mkdir -p "$BENCH_DIR/build"
log "building helpers (gcc -O2)"
gcc -O2 -Wall -o "$BENCH_DIR/build/ceiling_http" "$BENCH_DIR/ceiling_http.c" \
  $(pkg-config --cflags --libs libmicrohttpd) || die "ceiling_http build failed"
gcc -O2 -Wall -o "$BENCH_DIR/build/ceiling_sqlite" "$BENCH_DIR/ceiling_sqlite.c" -lsqlite3 ||
  die "ceiling_sqlite build failed"
gcc -O2 -Wall -pthread -o "$BENCH_DIR/build/hclient" "$BENCH_DIR/hclient.c" || die "hclient build failed"
gcc -O2 -Wall -o "$BENCH_DIR/build/gen_attendance" "$BENCH_DIR/gen_attendance.c" || die "gen_attendance build failed"
HC="$BENCH_DIR/build/hclient"
GEN="$BENCH_DIR/build/gen_attendance"

# ------------------------------------------------------------------ machine
git_desc=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit yet")
git_dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -v '^??' | wc -l)
pgver=""; [ $HAVE_PG = 1 ] && pgver="$("$PGBIN/postgres" --version), pgbench $("$PGBIN/pgbench" --version | awk '{print $NF}')"
rec workload=meta mode="$mode" runs="$RUNS" backends="$BACKENDS" date="$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  nproc="$(nproc)" cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  kernel="$(uname -srm)" os="$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
  mem="$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" \
  fs="$(df -hT "$WORK" | awk 'NR==2 {print $2 " on " $1}')" free_at_start="$(free_bytes)" \
  git="$git_desc ($git_dirty modified tracked files); binary ${EDHUB_SRC#$ROOT/} sha256 $(sha256sum "$EDHUB" | cut -c1-12), built $(date -u -r "$EDHUB_SRC" '+%H:%M:%S UTC')" cc="$(gcc --version | head -1)" \
  libs="libmicrohttpd $(pkg-config --modversion libmicrohttpd), SQLite $(pkg-config --modversion sqlite3), json-c $(pkg-config --modversion json-c 2>/dev/null), libpq $(pkg-config --modversion libpq 2>/dev/null)" \
  postgres="$pgver" \
  wrk="$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" loadavg="$(loadavg)" bulk_n="$BULK_N" page_size="$PAGE_SIZE" \
  only="$ONLY" do_main="$DO_MAIN" do_authz="$DO_AUTHZ" \
  authz_params="$( [ $DO_AUTHZ = 1 ] && echo "parts:$AZ_PARTS students=$AZ_N events=$AZ_E other_factor=$AZ_F tokens=$AZ_TOKN fresh=$AZ_FRESH conns=$AZ_CONNS read_n=$AZ_READ_N read_budget=${AZ_READ_BUDGET}s")" \
  invocation="$( [ "$QUICK" = 1 ] && echo 'BENCH_QUICK=1 ')$( [ -n "$ONLY" ] && echo "BENCH_ONLY=$ONLY ")$( [ "${BENCH_SKIP_AUTHZ:-0}" = 1 ] && echo 'BENCH_SKIP_AUTHZ=1 ')make bench   # = bash bench/run.sh; BACKENDS='$BACKENDS' RUNS=$RUNS DURATION=${DUR}s$( [ $DO_MAIN = 1 ] && echo " BULK_N=$BULK_N BULK_DAYS=$BULK_DAYS PAGE_SIZE=$PAGE_SIZE LAT_N=$LAT_N SSA_STUDENTS=$NSTU PAGE_K=$PAGE_K PAGE_BUDGET=${PAGE_BUDGET}s")$( [ "$SKIP_BULK" = 1 ] && [ $DO_MAIN = 1 ] && echo ' SKIP_BULK=1')$( [ $DO_AUTHZ = 1 ] && echo " AUTHZ_PARTS='$(echo $AZ_PARTS)' AUTHZ_STUDENTS=$AZ_N AUTHZ_EVENTS=$AZ_E AUTHZ_OTHER=$AZ_F AUTHZ_TOKENS=$AZ_TOKN AUTHZ_FRESH=$AZ_FRESH AUTHZ_CONNS=$AZ_CONNS AUTHZ_READ_N=$AZ_READ_N AUTHZ_READ_BUDGET=${AZ_READ_BUDGET}s")"

# ------------------------------------------------------------------ helpers for workloads
show_cmd() { # shell-quoted command line with the token and temp paths replaced by placeholders
  local s="" a q
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then q=$a
    elif [ -n "$TOKEN" ] && [[ $a == *"$TOKEN"* ]]; then q="\"$a\""
    else q="'${a//\'/\'\\\'\'}'"
    fi
    s+="${s:+ }$q"
  done
  [ -n "$TOKEN" ] && s=${s//$TOKEN/\$TOKEN}
  local i
  for i in "${!MASK_V[@]}"; do [ -n "${MASK_V[$i]}" ] && s=${s//"${MASK_V[$i]}"/"${MASK_N[$i]}"}; done
  s=${s//$BENCH_DIR/bench}
  s=${s//$WORK/\$WORK}
  [ -n "$PORT" ] && s=${s//127.0.0.1:$PORT/127.0.0.1:\$PORT} && s=${s//-p $PORT /-p \$PORT }
  [ -n "${CPORT:-}" ] && s=${s//127.0.0.1:$CPORT/127.0.0.1:\$CEILING_PORT}
  printf '%s' "$s"
}

# rec fields common to wrk/hclient runs: server (edhub) CPU, database server CPU (PostgreSQL), client
# CPU, background CPU, kernel-thread CPU
SAMPLE=()
pg_on() { [ "$BK" = pg ] || [ -n "${DB_CPU_PG:-}" ]; }
pg_nchildren() { # client backends (connections over our unix socket) of our PostgreSQL server
  local p n=0
  for p in $(awk -v pm="$PGPID" '{ line = $0; pid = $1; sub(/^[^)]*\) /, "", line); split(line, f, " "); if (f[2] == pm) print pid }' /proc/[0-9]*/stat 2>/dev/null); do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q '\[local\]' && n=$((n + 1))
  done
  echo $n
}
pg_wal_lsn() { PGQ_TIMEOUT=30 pgq postgres -c "SELECT pg_current_wal_lsn()" 2>/dev/null; }
sample_start() {
  S_NCH=0 S_LSN=""
  if pg_on; then S_NCH=$(pg_nchildren); S_LSN=$(pg_wal_lsn); fi
  S_C0=$(cpu_s); S_D0=$(db_cpu_s); S_W0=$(wbytes); S_DW0=$(db_wbytes); S_LA=$(loadavg); S_B0=$(busy_s); S_Q0=$(kthread_s); child_cpu; S_K0=$CHILD_CPU; S_T0=$(date +%s.%N)
}
sample_end() {
  local t1 k1 c1 d1 w1 dw1 b1 q1 i wal=null
  S_T1=$(date +%s.%N)
  if pg_on; then
    # PostgreSQL backends of connections that just closed (pgbench, psql, edhub load) are counted in the
    # postmaster's cutime only once it has reaped them: wait (at most 5 s) for them to be gone
    for i in $(seq 1 50); do [ "$(pg_nchildren)" -le "$S_NCH" ] && break; sleep 0.1; done
  fi
  t1=$(date +%s.%N); child_cpu; k1=$CHILD_CPU
  c1=$(cpu_s); d1=$(db_cpu_s); w1=$(wbytes); dw1=$(db_wbytes); b1=$(busy_s); q1=$(kthread_s)
  if pg_on && [ -n "$S_LSN" ]; then
    wal=$(PGQ_TIMEOUT=30 pgq postgres -c "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$S_LSN')::bigint" 2>/dev/null)
    [[ $wal =~ ^[0-9]+$ ]] || wal=null
  fi
  local t; t=$(fsub "$t1" "$S_T0")
  SAMPLE=(server_cpu_s="$(fsub "$c1" "$S_C0")" db_cpu_s="$(fsub "$d1" "$S_D0")" server_write_bytes=$((w1 - S_W0))
    db_write_bytes=$((dw1 - S_DW0)) db_wal_bytes="$wal" loadavg="$S_LA" client_cpu_s="$(fsub "$k1" "$S_K0")"
    bg_cpu_pct="$(bg_pct "$S_B0" "$b1" 0 "$(fsum "$c1" "$d1" -"$S_C0" -"$S_D0")" "$S_K0" "$k1" "$t" "$S_Q0" "$q1")"
    kthread_cpu_pct="$(python3 -c "t=$t; print(round(($q1-$S_Q0)*100/(t*$(nproc)),1) if t>=2 else 'null')")")
}

run_wrk() { # workload run url conns script [script args...]; extra wrk args in WRK_EXTRA
  local wl=$1 r=$2 url=$3 c=$4 script=$5; shift 5
  local out="$WORK/$wl.$BK.r$r.txt"
  local cmd=(wrk -t$WRK_T -c$c -d${DUR}s --latency --timeout 10s "${WRK_EXTRA[@]}" -s "$script" "$url")
  [ $# -gt 0 ] && cmd+=(-- "$@")
  local shown; shown=$(show_cmd "${cmd[@]}")
  sample_start
  timeout $((DUR + 60)) "${cmd[@]}" >"$out" 2>&1
  sample_end
  $LIB wrkjson "$out" >"$out.json"
  rec workload="$wl" run="$r" tool=wrk cmd="BENCH_LUA_DIR=bench/lua $shown" result=@"$out.json" "${SAMPLE[@]}"
  log "  [$BK] $wl run $r: $(cut -c1-160 "$out.json")"
  alive "$wl run $r"
}

run_hc() { # workload run [hclient args...]
  local wl=$1 r=$2; shift 2
  local out="$WORK/$wl.$BK.r$r.json"
  local cmd=("$HC" -p "$PORT" "$@")
  local shown; shown=$(show_cmd "${cmd[@]}")
  sample_start
  timeout 10800 "${cmd[@]}" -l "$wl" >"$out" 2>>"$WORK/hclient.err"
  sample_end
  [ -s "$out" ] || echo '{"error":"hclient produced no output"}' >"$out"
  rec workload="$wl" run="$r" tool=hclient cmd="$shown" result=@"$out" "${SAMPLE[@]}"
  log "  [$BK] $wl run $r: $(cut -c1-200 "$out")"
  alive "$wl run $r"
}

WRK_EXTRA=()

# ------------------------------------------------------------------ ceiling A server
start_ceiling() { # body_file: start ceiling_http on a free port (CPORT, CPID); returns 1 if it does not come up
  CPORT=$($LIB freeport)
  "$BENCH_DIR/build/ceiling_http" "$CPORT" 0 "$1" 2>>"$WORK/ceiling_http.log" &
  CPID=$!
  local i
  for i in $(seq 1 100); do
    [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CPORT/")" = 200 ] && return 0
    sleep 0.1
  done
  log "ceiling_http did not start"
  stop_pid "$CPID" ceiling_http >/dev/null; CPID=""
  return 1
}
stop_ceiling() { stop_pid "$CPID" ceiling_http >/dev/null; CPID=""; }
ceil_wrk() { # like run_wrk, against the ceiling server, sampling its CPU (no database involved)
  local wl=$1 r=$2; shift 2
  CPU_PID=$CPID
  run_wrk "$wl" "$r" "http://127.0.0.1:$CPORT/" "$@"
  local st=$?
  CPU_PID=""
  return $st
}

# ------------------------------------------------------------------ server (per backend)
token() {
  local t i
  for i in 1 2 3; do
    t=$(curl -s -m 10 -u "$KEY:$SECRET" -d grant_type=client_credentials "$BASE/oauth/token" | $LIB get access_token)
    [ -n "$t" ] && { echo "$t"; return 0; }
    sleep 1
  done
  return 1
}
new_token() {
  TOKEN=$(token) || { check "token request" false "could not get a token from $BASE/oauth/token"; return 1; }
  AUTH="Authorization: Bearer $TOKEN"
}

start_server() { # label: start edhub serve on a free port; SPID, PORT, BASE, TOKEN, AUTH
  PORT=$($LIB freeport)
  log "[$BK] starting edhub serve on 127.0.0.1:$PORT ($1)"
  local t0 t1 i ready=0 code
  t0=$(date +%s.%N)
  echo "---- $(date -u +%H:%M:%S) edhub serve ${SERVE_EXTRA[*]} ($1)" >>"$SLOG"
  "$EDHUB" serve --data "$DATA" --listen "127.0.0.1:$PORT" "${SERVE_EXTRA[@]}" >>"$SLOG" 2>&1 &
  SPID=$!
  BASE="http://127.0.0.1:$PORT"
  for i in $(seq 1 3000); do
    kill -0 "$SPID" 2>/dev/null || break
    code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$BASE/" 2>/dev/null)
    [ "$code" = 200 ] && { ready=1; break; }
    sleep 0.1
  done
  if [ $ready != 1 ]; then
    check "server starts ($1)" false "edhub serve not answering 200 on GET / within 300 s; last log line: $(tail -1 "$SLOG" | cut -c1-200)"
    stop_pid "$SPID" edhub >/dev/null; SPID=""
    return 1
  fi
  t1=$(date +%s.%N)
  start_watchdog "$SPID" "edhub serve"
  if [ "$QUIET" != 1 ]; then
    rec workload=extra name="server start to first 200 on GET / ($1)" value="$(python3 -c "print(f'{($t1-$t0)*1000:.0f} ms')")"
    rec workload=extra name="server threads right after start ($1)" value="$(ls /proc/$SPID/task | wc -l)"
  fi
  new_token
}
stop_server() { # label
  [ -n "$SPID" ] || return 0
  local st; st=$(stop_pid "$SPID" edhub); SPID=""
  [ "$QUIET" = 1 ] || rec workload=extra name="server stop after SIGTERM ($1)" value="$st s"
}

# ------------------------------------------------------------------ data for the bulk load (W8)
PRE_FILE="$WORK/bulk_prereq.jsonl"
EV_FILE="$WORK/bulk_events.jsonl"
if [ "$SKIP_BULK" != 1 ]; then
  nstu_bulk=$(( (BULK_N + BULK_DAYS - 1) / BULK_DAYS ))
  log "generating the bulk-load data: $nstu_bulk students + 1 session, $BULK_N attendance events ($BULK_DAYS school days)"
  for f in prereq events; do
    out=$PRE_FILE; [ $f = events ] && out=$EV_FILE
    child_cpu; k0=$CHILD_CPU; t0=$(date +%s.%N)
    timeout 3600 "$GEN" $f "$BULK_N" "$BULK_DAYS" >"$out" || die "gen_attendance $f failed"
    t1=$(date +%s.%N); child_cpu; k1=$CHILD_CPU
    rec workload=gen name="$f" lines="$(wc -l <"$out")" bytes="$(stat -c %s "$out")" elapsed_s="$(fsub "$t1" "$t0")" \
      cpu_s="$(fsub "$k1" "$k0")" cmd="bench/build/gen_attendance $f $BULK_N $BULK_DAYS > \$WORK/$(basename "$out")"
  done
  chmod 644 "$PRE_FILE" "$EV_FILE"
fi

# ------------------------------------------------------------------ W7 ceiling B (SQLite)
[ $DO_MAIN = 1 ] && log "W7 ceiling B: raw SQLite inserts"
for r in $(seq 1 "$([ $DO_MAIN = 1 ] && echo "$RUNS" || echo 0)"); do
  for v in b1 b100 server_b100; do
    case $v in
      b1) b=1 schema=simple rows=$((QUICK == 1 ? 5000 : 20000)) secs=20 ;;
      b100) b=100 schema=simple rows=$((QUICK == 1 ? 50000 : 200000)) secs=60 ;;
      server_b100) b=100 schema=server rows=$((QUICK == 1 ? 50000 : 200000)) secs=120 ;;
    esac
    out="$WORK/w7_$v.r$r.json"
    la=$(loadavg)
    timeout 300 "$BENCH_DIR/build/ceiling_sqlite" "$WORK/ceiling.db" $b $rows $secs FULL $schema >"$out" \
      2>>"$WORK/ceiling_sqlite.err" || echo '{"error":"ceiling_sqlite failed"}' >"$out"
    rec workload="w7_ceiling_sqlite_$v" run="$r" tool=ceiling_sqlite \
      cmd="bench/build/ceiling_sqlite \$WORK/ceiling.db $b $rows $secs FULL $schema" result=@"$out" loadavg="$la"
    log "  $v run $r: $(cut -c1-200 "$out")"
  done
done
rm -f "$WORK"/ceiling.db*

# ------------------------------------------------------------------ PostgreSQL server + W9 ceilings
if [ $HAVE_PG = 1 ]; then
  log "starting our PostgreSQL server in $PGDIR"
  pg_start || die "could not start PostgreSQL (scripts/pg-test-server.sh start)"
  rec workload=extra name="PostgreSQL server" value="$("$PGBIN/postgres" --version); data directory on $(df -hT "$PGDIR" | awk 'NR==2 {print $2 " " $1}'); started by scripts/pg-test-server.sh (unix socket only)"
  rec workload=meta_pg settings="$(pgq postgres -F '=' -c "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN ('shared_buffers','synchronous_commit','fsync','full_page_writes','wal_level','wal_compression','max_wal_size','checkpoint_timeout','wal_buffers','max_connections','commit_delay','effective_io_concurrency','work_mem') ORDER BY name" | tr '\n' ' ')"

  DB_CPU_PG=1
  bk_save=$BK
  if [ $DO_MAIN != 1 ]; then
    : # BENCH_ONLY=authz: no ceilings
  elif log "W9 ceiling P: pgbench single-row INSERTs ($RUNS x ${DUR}s at 16 and 64 clients)" &&
    pgq postgres -c "CREATE DATABASE bench_ceiling" && pgq bench_ceiling -f "$BENCH_DIR/pg/ceiling.sql"; then
    for c in 16 64; do
      for r in $(seq 1 "$RUNS"); do
        pgq bench_ceiling -c "TRUNCATE pgb_doc; CHECKPOINT" >/dev/null
        out="$WORK/w9_pgbench_c$c.r$r.txt"
        cmd=("$PGBIN/pgbench" -h "$PGDIR" -U postgres -n -M prepared -f "$BENCH_DIR/pg/insert.sql" -c $c -j $WRK_T -T "$DUR" bench_ceiling)
        sample_start
        timeout $((DUR + 120)) "${cmd[@]}" >"$out" 2>&1
        sample_end
        $LIB pgbenchjson "$out" >"$out.json"
        rec workload="w9_pgbench_c$c" run="$r" tool=pgbench cmd="$(show_cmd "${cmd[@]}" | sed "s|$PGBIN|\$PGBIN|")" result=@"$out.json" "${SAMPLE[@]}"
        log "  pgbench c$c run $r: $(cut -c1-200 "$out.json")"
      done
    done
    pgq bench_ceiling -c "DROP TABLE pgb_doc; CHECKPOINT" >/dev/null

    if [ "$SKIP_BULK" != 1 ]; then
      log "W9 ceiling P: COPY of the $BULK_N attendance events into a plain table"
      TSV="$WORK/bulk_events.tsv"
      child_cpu; k0=$CHILD_CPU; t0=$(date +%s.%N)
      timeout 3600 "$GEN" copy "$BULK_N" "$BULK_DAYS" >"$TSV" || log "gen_attendance copy failed"
      t1=$(date +%s.%N); child_cpu; k1=$CHILD_CPU
      chmod 644 "$TSV"
      rec workload=gen name=copy lines="$(wc -l <"$TSV")" bytes="$(stat -c %s "$TSV")" elapsed_s="$(fsub "$t1" "$t0")" \
        cpu_s="$(fsub "$k1" "$k0")" cmd="bench/build/gen_attendance copy $BULK_N $BULK_DAYS > \$WORK/bulk_events.tsv"
      sql="COPY copy_ceiling FROM '$TSV'"
      sample_start
      PGQ_TIMEOUT=$LOAD_TIMEOUT pgq bench_ceiling -c "$sql" >"$WORK/w9_copy.out" 2>&1; rc=$?
      sample_end
      el=$(fsub "$S_T1" "$S_T0")
      rows=$(pgq bench_ceiling -c "SELECT count(*) FROM copy_ceiling" 2>/dev/null)
      tb=$(pgq bench_ceiling -c "SELECT pg_table_size('copy_ceiling') || ' ' || pg_indexes_size('copy_ceiling')" 2>/dev/null)
      t0=$(date +%s.%N); pgq bench_ceiling -c "CHECKPOINT" >/dev/null; ck=$(fsub "$(date +%s.%N)" "$t0")
      rec workload=w9_copy run=1 tool=psql rc="$rc" rows="${rows:-0}" elapsed_s="$el" \
        table_bytes="${tb% *}" index_bytes="${tb#* }" checkpoint_after_s="$ck" error="$(head -c 300 "$WORK/w9_copy.out")" \
        cmd="psql -h \$WORK/pg -U postgres -d bench_ceiling -c \"${sql//$WORK/\$WORK}\"   # server-side COPY, one statement = one transaction" "${SAMPLE[@]}"
      log "  COPY: rc=$rc rows=${rows:-0} in $el s (checkpoint after: $ck s)"
      rm -f "$TSV"
    fi
  else
    rec workload=w9_pgbench_c16 run=1 result='{"error":"could not create the ceiling database"}'
  fi
  [ $DO_MAIN = 1 ] && pgq postgres -c "DROP DATABASE IF EXISTS bench_ceiling" >/dev/null
  unset DB_CPU_PG
  BK=$bk_save
fi

# ================================================================== per backend
bk_instance() { # [suffix]: create the instance of backend $BK in $DATA (a suffix names a second instance)
  local sfx=${1:-}
  DATA="$WORK/data-$BK${sfx:+-$sfx}"
  local dbopt=() url t0 t1
  if [ "$BK" = pg ]; then
    PGDB=edhub_bench${sfx:+_$sfx}
    url=$(PGBIN="$PGBIN" timeout 120 bash "$PGTS" createdb "$PGDIR" "$PGDB") ||
      { check "create the PostgreSQL database" false "createdb $PGDB failed"; return 1; }
    dbopt=(--database "$url")
  fi
  log "[$BK] edhub init (data in $DATA)"
  t0=$(date +%s.%N)
  timeout 600 "$EDHUB" init --data "$DATA" --client-key "$KEY" --client-secret "$SECRET" "${dbopt[@]}" >"$WORK/init.$BK$sfx.log" 2>&1 ||
    { check "edhub init${sfx:+ ($sfx instance)}" false "failed: $(tail -1 "$WORK/init.$BK$sfx.log" | cut -c1-200)"; return 1; }
  t1=$(date +%s.%N)
  rec workload=extra name="edhub init${sfx:+ of the $sfx instance} (bootstrap load: descriptors, school years, Grand Bend ed-orgs)" \
    value="$(python3 -c "print(f'{$t1-$t0:.2f} s')")"
}

bk_checks() { # protocol checks
  log "[$BK] protocol checks"
  curl -s -m 10 -D "$WORK/root.hdr" -o "$WORK/root.json" "$BASE/" >/dev/null
  local root_bytes code loc rc cl un
  root_bytes=$(stat -c %s "$WORK/root.json" 2>/dev/null || echo 0)
  if grep -qi '^connection: *close' "$WORK/root.hdr"; then
    check "GET / keeps the connection open" false "response has Connection: close"
  else
    check "GET / keeps the connection open" true "no Connection: close header; body $root_bytes bytes"
  fi
  $HC -p "$PORT" -c 1 -n 200 -u / -e 200 -l ka_root >"$WORK/ka_root.json" 2>>"$WORK/hclient.err"
  rc=$(cat "$WORK/ka_root.json" | $LIB get reconnects 0)
  check "200 sequential GET / on one connection without reconnecting" "$([ "$rc" = 0 ] && echo true || echo false)" "reconnects=$rc"

  code=$(curl -s -m 10 -o "$WORK/chk_post.body" -D "$WORK/chk_post.hdr" -w '%{http_code}' -H "$AUTH" \
    -H 'Content-Type: application/json' \
    -d '{"studentUniqueId":"CHK1","birthDate":"2010-01-13","firstName":"A","lastSurname":"B"}' "$BASE$API/students")
  loc=$(grep -i '^location:' "$WORK/chk_post.hdr" | head -1 | cut -d' ' -f2- | tr -d '\r')
  check "POST students -> 201 + absolute Location" "$([ "$code" = 201 ] && [[ $loc == http*://*/students/* ]] && echo true || echo false)" "status $code, Location '$loc'"
  if [ -n "$loc" ]; then
    code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "$AUTH" "$loc")
    check "GET Location of the new student -> 200" "$([ "$code" = 200 ] && echo true || echo false)" "status $code"
  fi
  code=$(curl -s -m 10 -o "$WORK/chk_409.body" -w '%{http_code}' -H "$AUTH" -H 'Content-Type: application/json' \
    -d '{"studentReference":{"studentUniqueId":"NO-SUCH-STUDENT"},"schoolReference":{"schoolId":255901001},"entryDate":"2021-08-23","entryGradeLevelDescriptor":"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}' \
    "$BASE$API/studentSchoolAssociations")
  check "POST SSA with a missing student -> 409" "$([ "$code" = 409 ] && echo true || echo false)" "status $code"
  $HC -p "$PORT" -c 1 -n 50 -m POST -u "$API/students" -H "$AUTH" -e 201 -s 0 \
    -b '{"studentUniqueId":"KA{n}","birthDate":"2010-01-13","firstName":"A","lastSurname":"B"}' -l ka_post \
    >"$WORK/ka_post.json" 2>>"$WORK/hclient.err"
  rc=$(cat "$WORK/ka_post.json" | $LIB get reconnects 0)
  cl=$(cat "$WORK/ka_post.json" | $LIB get conn_close_hdr 0)
  un=$(cat "$WORK/ka_post.json" | $LIB get unexpected 0)
  check "50 sequential POSTs on one connection: keep-alive and 201" "$([ "$rc" = 0 ] && [ "$un" = 0 ] && echo true || echo false)" \
    "reconnects=$rc, Connection: close seen $cl times, non-201=$un, statuses $(cat "$WORK/ka_post.json" | $LIB get status)"
  if [ "$BK" = sqlite ]; then
    local dbs db1 ps jm
    dbs=$(find "$DATA" -maxdepth 3 -type f \( -name '*.db' -o -name '*.sqlite' -o -name '*.sqlite3' \) 2>/dev/null | head -3 | tr '\n' ' ')
    if [ -n "$dbs" ] && command -v sqlite3 >/dev/null; then
      db1=$(echo $dbs | cut -d' ' -f1)
      ps=$(timeout 5 sqlite3 -readonly "$db1" 'PRAGMA page_size;' 2>/dev/null)
      jm=$(timeout 5 sqlite3 -readonly "$db1" 'PRAGMA journal_mode;' 2>/dev/null)
      rec workload=extra name="instance database files" value="${dbs//$WORK/\$WORK}(page_size=$ps, journal_mode=$jm; synchronous is per connection and not visible from outside)"
    fi
  else
    rec workload=extra name="instance database" value="PostgreSQL database $PGDB on the server above (edhub.conf: database = postgresql:///$PGDB?host=\$WORK/pg&user=postgres)"
  fi
  alive "protocol checks"
}

bk_w1w2() { # W1 transport floor + W2 ceiling A (no database: measured once, in the first backend's phase)
  # The runs alternate (edhub, ceiling, edhub, ceiling, ...) so that drifting background load hits both.
  log "W1 transport floor GET / and W2 ceiling A (same wrk command), $RUNS x ${DUR}s each, interleaved"
  local bk=$BK r
  BK=all
  if start_ceiling "$WORK/root.json"; then
    for r in $(seq 1 "$RUNS"); do
      run_wrk w1_get_root "$r" "$BASE/" 64 "$BENCH_DIR/lua/get.lua" || { BK=$bk; stop_ceiling; return 1; }
      ceil_wrk w2_ceiling_http "$r" 64 "$BENCH_DIR/lua/get.lua"
    done
    stop_ceiling
  else
    rec workload=w2_ceiling_http run=1 result='{"error":"ceiling_http did not start"}'
    for r in $(seq 1 "$RUNS"); do run_wrk w1_get_root "$r" "$BASE/" 64 "$BENCH_DIR/lua/get.lua" || { BK=$bk; return 1; }; done
  fi
  BK=$bk
}

bk_w3() { # single-client latency
  log "[$BK] W3 single-client latency ($RUNS x $LAT_N per op)"
  new_token || return 1
  local WARM=20 r ids nids
  for r in $(seq 1 "$RUNS"); do
    ids="$WORK/lat_ids.$BK.r$r.txt"
    run_hc w3_post "$r" -c 1 -n "$LAT_N" -w $WARM -s 0 -m POST -u "$API/students" -H "$AUTH" -e 201 \
      -b "{\"studentUniqueId\":\"L$r-{n}\",\"birthDate\":\"2010-01-13\",\"firstName\":\"Lat\",\"lastSurname\":\"Client\"}" \
      -o "$ids" -O "{loc}\\tL$r-{n}" || return 1
    nids=$(wc -l <"$ids")
    if [ "$nids" -lt $((LAT_N + WARM)) ]; then
      log "  only $nids ids from POST; GET/PUT/DELETE use what there is"
    fi
    [ "$nids" -gt 0 ] || continue
    run_hc w3_get "$r" -c 1 -n "$LAT_N" -w $WARM -i "$ids" -u "$API/students/{1}" -H "$AUTH" -e 200 || return 1
    run_hc w3_put "$r" -c 1 -n "$LAT_N" -w $WARM -i "$ids" -m PUT -u "$API/students/{1}" -H "$AUTH" \
      -b '{"id":"{1}","studentUniqueId":"{2}","birthDate":"2010-01-13","firstName":"Updated","lastSurname":"Client"}' || return 1
    run_hc w3_delete "$r" -c 1 -n "$LAT_N" -w $WARM -i "$ids" -m DELETE -u "$API/students/{1}" -H "$AUTH" || return 1
  done
  record_sizes "W3"
}

bk_w4() { # concurrent SSA POST
  log "[$BK] W4 pre-creating $NSTU students P0..P$((NSTU - 1))"
  new_token || return 1
  run_hc w4_precreate_students 1 -c 32 -n "$NSTU" -s 0 -m POST -u "$API/students" -H "$AUTH" -e 201 -T 3600 \
    -b '{"studentUniqueId":"P{n}","birthDate":"2011-02-03","firstName":"Pre","lastSurname":"Created"}' \
    -o "$WORK/ids_p.$BK.txt" -O '{loc}' || return 1
  log "[$BK] W4 concurrent POST studentSchoolAssociations ($RUNS x ${DUR}s at 16 and 64 connections)"
  WRK_EXTRA=(-H "$AUTH")
  local k=0 c r
  for c in 16 64; do
    for r in $(seq 1 "$RUNS"); do
      k=$((k + 1))
      run_wrk "w4_ssa_post_c$c" "$r" "$BASE/" "$c" "$BENCH_DIR/lua/ssa_post.lua" $((k * 10000000)) "$NSTU" $WRK_T P ||
        { WRK_EXTRA=(); return 1; }
    done
  done
  WRK_EXTRA=()
  record_sizes "W4"
}

bk_w5() { # GET by id (+ 5c ceiling A, same client)
  log "[$BK] W5 GET by id ($RUNS x ${DUR}s, 64 connections), interleaved with 5c: ceiling A driven by the same script"
  new_token || return 1
  WRK_EXTRA=(-H "$AUTH")
  local ids="$WORK/ids_p.$BK.txt" id1 have_c=0 r
  if [ -s "$ids" ]; then
    # 5c: the same wrk command and Lua script (so wrk does the same work per request) against
    # ceiling_http answering one real student document
    id1=$(head -1 "$ids" | cut -f1)
    curl -s -m 10 -H "$AUTH" -o "$WORK/student.json" "$BASE$API/students/$id1"
    [ -s "$WORK/student.json" ] && start_ceiling "$WORK/student.json" && have_c=1
    for r in $(seq 1 "$RUNS"); do
      run_wrk w5_get_by_id "$r" "$BASE/" 64 "$BENCH_DIR/lua/get_ids.lua" "$ids" "$API/students/" $WRK_T ||
        { WRK_EXTRA=(); [ $have_c = 1 ] && stop_ceiling; return 1; }
      [ $have_c = 1 ] && ceil_wrk w5_ceiling_http "$r" 64 "$BENCH_DIR/lua/get_ids.lua" "$ids" "$API/students/" $WRK_T
    done
    [ $have_c = 1 ] && stop_ceiling
  else
    rec workload=w5_get_by_id run=1 result='{"error":"no ids collected from Location headers"}'
  fi
  WRK_EXTRA=()
  return 0
}

load_step() { # workload file expected_lines: `edhub load` (server stopped), progress timestamped, bounded
  local wl=$1 f=$2 n=$3
  local res="$WORK/$wl.$BK.json" prog="$WORK/$wl.$BK.progress" out="$WORK/$wl.$BK.out"
  local cmd=("$EDHUB" load --data "$DATA" "$f")
  log "[$BK] $wl: edhub load $(basename "$f") ($n lines, bounded by ${LOAD_TIMEOUT}s)"
  rm -f "$DATA/load-errors.jsonl"
  sample_start
  $LIB runload --timeout "$LOAD_TIMEOUT" --progress "$prog" --stdout "$out" --result "$res" --expect "$n" -- "${cmd[@]}" &
  LPID=$!
  start_watchdog "$LPID" "edhub load"
  wait "$LPID"
  LPID=""
  sample_end
  [ -s "$res" ] || echo '{"error":"runload wrote no result"}' >"$res"
  cp "$DATA/load-errors.jsonl" "$WORK/$wl.$BK.errors.jsonl" 2>/dev/null || : >"$WORK/$wl.$BK.errors.jsonl"
  local nrej; nrej=$(wc -l <"$WORK/$wl.$BK.errors.jsonl")
  rec workload="$wl" run=1 tool="edhub load" cmd="$(show_cmd "${cmd[@]}" | sed 's|^\$WORK/bin/edhub|./edhub|')" \
    lines="$n" result=@"$res" summary="$(tr -d '\n' <"$out" | cut -c1-300)" errors_file_lines="$nrej" \
    first_error="$(head -1 "$WORK/$wl.$BK.errors.jsonl" | cut -c1-400)" "${SAMPLE[@]}" \
    watchdog="$(cat "$WORK/watchdog.$BK.txt" 2>/dev/null | tail -1)"
  log "  [$BK] $wl: $(tr -d '\n' <"$out") $(cut -c1-200 "$res")"
  [ "$nrej" -gt 0 ] && log "  [$BK] $wl: $nrej rejected lines, first: $(head -1 "$WORK/$wl.$BK.errors.jsonl" | cut -c1-300)"
  return 0
}

bk_w8() { # bulk load (server stopped)
  stop_server "before the bulk load"
  local sz0; sz0=$(db_sizes)
  rec workload=sizes after="W3-W5 (before the bulk load)" db_bytes="${sz0% *}" wal_bytes="${sz0#* }" free_bytes="$(free_bytes)"
  local need
  need=$(python3 -c "print(int($BULK_N * (4500 if '$BK' == 'pg' else 2400) * 1.1))")
  if [ "$(free_bytes)" -lt $((need + MIN_FREE)) ]; then
    check "enough free disk for the bulk load (rough estimate)" false \
      "about $need bytes needed for $BULK_N events on $BK, $(free_bytes) free; the watchdog stops the load below BENCH_MIN_FREE_GB"
  fi
  load_step w8_load_prereq "$PRE_FILE" "$(wc -l <"$PRE_FILE")"
  load_step w8_load_events "$EV_FILE" "$BULK_N"
  if [ "$BK" = pg ]; then
    local t0; t0=$(date +%s.%N)
    pgq "$PGDB" -c CHECKPOINT >/dev/null
    rec workload=extra name="CHECKPOINT right after the bulk load (not in the load time)" value="$(fsub "$(date +%s.%N)" "$t0") s"
  fi
  record_sizes "W8 bulk load"
  start_server "after the bulk load"
}

bk_w6() { # deep paging over the bulk-loaded attendance events
  local R="$API/studentSchoolAttendanceEvents" tc created total src deep_off tok0 tok8 ntok items=() pair name u npt r
  new_token || return 1
  log "[$BK] W6 deep paging over studentSchoolAttendanceEvents (page size $PAGE_SIZE)"
  tc=$(curl -s -m 600 -D - -o /dev/null -H "$AUTH" "$BASE$R?offset=0&limit=1&totalCount=true" |
    grep -i '^total-count:' | tr -dc '0-9')
  created=$(cat "$WORK/w8_load_events.$BK.json" 2>/dev/null | $LIB get "done" 0)
  if [ -n "$tc" ]; then total=$tc; src="Total-Count header"; else
    total=$created; src="loaded by this run (W8); no Total-Count header"; fi
  [ "${total:-0}" -gt 0 ] || { check "deep paging has data" false "no attendance events loaded"; return 0; }
  deep_off=$((total * 8 / 10))
  curl -s -m 600 -H "$AUTH" -o "$WORK/partitions.$BK.json" "$BASE$R/partitions?number=10"
  tok0=$(cat "$WORK/partitions.$BK.json" | $LIB get pageTokens.0)
  tok8=$(cat "$WORK/partitions.$BK.json" | $LIB get pageTokens.8)
  ntok=$(python3 -c "import json;print(len(json.load(open('$WORK/partitions.$BK.json')).get('pageTokens',[])))" 2>/dev/null || echo 0)
  check "GET studentSchoolAttendanceEvents/partitions?number=10 returns 10 page tokens" "$([ "$ntok" = 10 ] && echo true || echo false)" \
    "$ntok tokens"
  local U_OF="$R?offset=0&limit=$PAGE_SIZE"
  local U_OD="$R?offset=$deep_off&limit=$PAGE_SIZE"
  local U_CF="$R?pageToken=$($LIB quote "$tok0")&pageSize=$PAGE_SIZE"
  local U_CD="$R?pageToken=$($LIB quote "$tok8")&pageSize=$PAGE_SIZE"
  local U_PA="$R/partitions?number=10"
  # one timed request per URL first: it checks the page and sizes the sample count, so that a slow
  # request (offset paging at 8M rows) gets fewer samples instead of an unbounded run
  local -A KN WN
  for pair in "offset_first:$U_OF" "offset_deep:$U_OD" "cursor_first:$U_CF" "cursor_deep:$U_CD" "partitions:$U_PA"; do
    name=${pair%%:*}; u=${pair#*:}
    tt=$(curl -s -m 600 -H "$AUTH" -o "$WORK/page_$name.$BK.json" -w '%{time_total}' "$BASE$u")
    [ "$name" != partitions ] && items+=("items_$name=$($LIB count "$WORK/page_$name.$BK.json")")
    read -r KN[$name] WN[$name] < <(python3 -c "t=float('${tt:-0}' or 0); b=$PAGE_BUDGET; k=$PAGE_K
n = k if t * (k + 3) <= b else max(3, min(k, int(b / max(t, 1e-6))))
print(n, 3 if t * (n + 3) <= b else 1)")
    items+=("first_s_$name=${tt:-null}" "k_$name=${KN[$name]}")
  done
  npt=$(curl -s -m 600 -D - -o /dev/null -H "$AUTH" "$BASE$R?pageSize=$PAGE_SIZE" | grep -ci '^next-page-token:')
  rec workload=w6_info resource=studentSchoolAttendanceEvents page_size="$PAGE_SIZE" total="$total" total_source="$src" \
    deep_offset="$deep_off" page_budget_s="$PAGE_BUDGET" "${items[@]}" next_page_token="$([ "$npt" -gt 0 ] && echo true || echo false)"
  log "  [$BK] total=$total ($src) deep_offset=$deep_off ${items[*]} next-page-token=$npt"
  local T=$((PAGE_BUDGET * 3 + 600))
  for r in $(seq 1 "$RUNS"); do
    run_hc w6_offset_first "$r" -c 1 -n "${KN[offset_first]}" -w "${WN[offset_first]}" -u "$U_OF" -H "$AUTH" -e 200 -t 300 -T $T || return 1
    run_hc w6_offset_deep "$r" -c 1 -n "${KN[offset_deep]}" -w "${WN[offset_deep]}" -u "$U_OD" -H "$AUTH" -e 200 -t 300 -T $T || return 1
    if [ -n "$tok0" ] && [ -n "$tok8" ]; then
      run_hc w6_cursor_first "$r" -c 1 -n "${KN[cursor_first]}" -w "${WN[cursor_first]}" -u "$U_CF" -H "$AUTH" -e 200 -t 300 -T $T || return 1
      run_hc w6_cursor_deep "$r" -c 1 -n "${KN[cursor_deep]}" -w "${WN[cursor_deep]}" -u "$U_CD" -H "$AUTH" -e 200 -t 300 -T $T || return 1
    fi
    run_hc w6_partitions "$r" -c 1 -n "${KN[partitions]}" -w "${WN[partitions]}" -u "$U_PA" -H "$AUTH" -e 200 -t 300 -T $T || return 1
  done
}

bk_teardown() { # [label]: end-of-instance records (if the server is still up), stop it, delete the instance
  local lab=${1:-}
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    local rss sz db wal
    sleep 2 # give a background checkpointer a moment
    sz=$(db_sizes); db=${sz% *}; wal=${sz#* }
    rec workload=sizes after="end${lab} (server still running)" db_bytes="$db" wal_bytes="$wal" free_bytes="$(free_bytes)"
    if [ "$BK" = sqlite ]; then
      if [ "$wal" -gt $((256 * 1024 * 1024)) ] && [ "$wal" -gt "$db" ]; then
        check "WAL is checkpointed while the server runs${lab}" false \
          "at the end the WAL is $wal bytes and the database file $db bytes: checkpoints are not keeping up (or not running); the WAL only shrinks at shutdown"
      else
        check "WAL is checkpointed while the server runs${lab}" true "WAL $wal bytes, database file $db bytes"
      fi
    fi
    rss=$(awk '/VmHWM|VmRSS/ {printf "%s %s %s; ", $1, $2, $3}' /proc/$SPID/status 2>/dev/null)
    rec workload=extra name="server memory at end${lab}" value="$rss"
    rec workload=extra name="server threads at end${lab}" value="$(ls /proc/$SPID/task 2>/dev/null | wc -l)"
    if [ "$BK" = sqlite ]; then
      rec workload=extra name="instance data dir size at end${lab}" value="$(du -sh "$DATA" | cut -f1) ($(du -sb "$DATA" | cut -f1) bytes)"
    else
      rec workload=extra name="PostgreSQL database size at end${lab}" value="$(PGQ_TIMEOUT=60 pgq "$PGDB" -c "SELECT pg_size_pretty(pg_database_size(current_database())) || ' (' || pg_database_size(current_database()) || ' bytes); largest relations: ' || (SELECT string_agg(relname || ' ' || pg_size_pretty(s), ', ') FROM (SELECT relname, pg_total_relation_size(oid) s FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC LIMIT 5) x)" 2>/dev/null)"
    fi
    stop_server "end${lab}"
  fi
  stop_pid "$SPID" edhub >/dev/null; SPID=""
  local nerr; nerr=$(grep -v '^---- ' "$SLOG" 2>/dev/null | grep -ciE 'error|fatal|assert|crit')
  [ "${nerr:-0}" -gt 0 ] && rec workload=extra name="server log lines matching error/fatal/assert/crit${lab}" \
    value="$nerr; first: $(grep -v '^---- ' "$SLOG" | grep -iE -m1 'error|fatal|assert|crit' | cut -c1-200)"
  if [ "${BENCH_KEEP:-0}" != 1 ]; then
    # free the disk for the next backend (a 10M-event instance takes tens of GB)
    rm -rf "$DATA"
    [ "$BK" = pg ] && pgq postgres -c "DROP DATABASE IF EXISTS $PGDB" >/dev/null
  fi
}

# ================================================================== A1-A3: tokens and record-level authorization
# A second instance per backend (so that the rows every client sees are exactly the ones created
# here), served with --tokens-per-client 0. Clients: the full-access bench client of `edhub init`
# (claim set "edhub Full Access"), and "SIS Vendor" clients made with `edhub clients create` while
# the server runs: one for LEA 255901 (Grand Bend: schools 255901001/044/107, parent ESC 255950),
# and in A3 phase B one for LEA 255902 (created here under the same ESC).
AZ_SCHOOLS=255901001,255901044,255901107
AZ_SESSION="Bench AZ 2023-2024"
AZ2_LEA=255902 AZ2_SCHOOL=255902001
AZ_PFX=AZ AZ2_PFX=BZ
AZ_SIS_KEY1=bench-sis-255901 AZ_SIS_KEY2=bench-sis-255902
AZ_SIS_SECRET1="bench-sis-secret-$$-1" AZ_SIS_SECRET2="bench-sis-secret-$$-2"
FORM=application/x-www-form-urlencoded
az_has() { [[ $AZ_PARTS == *" $1 "* ]]; }
mask() { MASK_V+=("$1"); MASK_N+=("$2"); } # value placeholder: hide a secret/token in recorded commands

token_for() { # key secret: print a token (3 tries)
  local t i
  for i in 1 2 3; do
    t=$(curl -s -m 30 -u "$1:$2" -d grant_type=client_credentials "$BASE/oauth/token" | $LIB get access_token)
    [ -n "$t" ] && { echo "$t"; return 0; }
    sleep 1
  done
  return 1
}

az_client() { # key secret claim-set [edorg]: `edhub clients create` while the server runs (secret on stdin)
  local args=(clients create --data "$DATA" --key "$1" --secret - --claim-set "$3")
  [ -n "${4:-}" ] && args+=(--edorg "$4")
  printf '%s' "$2" | timeout 120 "$EDHUB" "${args[@]}" >>"$WORK/clients.$BK.log" 2>&1 && return 0
  check "edhub clients create --key $1 --claim-set '$3'${4:+ --edorg $4}" false \
    "failed: $(tail -1 "$WORK/clients.$BK.log" | cut -c1-200)"
  return 1
}

az_post() { # resource json: one setup POST with the full-access token (201, or 200 if it exists)
  local code
  code=$(curl -s -m 30 -o "$WORK/az_post.body" -w '%{http_code}' -H "$AUTH" -H 'Content-Type: application/json' \
    -d "$2" "$BASE$API/$1")
  [ "$code" = 201 ] || [ "$code" = 200 ] && return 0
  check "authz setup: POST $1" false "status $code: $(head -c 300 "$WORK/az_post.body")"
  return 1
}

hc_ok() { # workload run what: check that an hclient run got only expected statuses (setup steps)
  local f="$WORK/$1.$BK.r$2.json" un io
  un=$(cat "$f" | $LIB get unexpected x); io=$(cat "$f" | $LIB get io_errors x)
  [ "$un" = 0 ] && [ "$io" = 0 ] && return 0
  check "$3" false "unexpected statuses: $un, I/O errors: $io; statuses $(cat "$f" | $LIB get status)"
  return 1
}

az_session() { # school
  az_post sessions "{\"sessionName\":\"$AZ_SESSION\",\"schoolReference\":{\"schoolId\":$1},\"schoolYearTypeReference\":{\"schoolYear\":2024},\"beginDate\":\"2023-08-21\",\"endDate\":\"2024-06-14\",\"termDescriptor\":\"uri://ed-fi.org/TermDescriptor#Year Round\",\"totalInstructionalDays\":180}"
}

az_people() { # phase prefix nstudents schools nevents: students, their enrolments, attendance events
  local ph=$1 pf=$2 n=$3 sch=$4 ne=$5
  log "[$BK] A3 setup $ph: $n students $pf*, their enrolments at $sch, $ne attendance events (full-access client, hclient -c32)"
  new_token || return 1
  run_hc "az_setup_${ph}_students" 1 -c 32 -n "$n" -s 0 -m POST -u "$API/students" -H "$AUTH" -e 201 -T 3600 \
    -b "{\"studentUniqueId\":\"$pf{n}\",\"birthDate\":\"2010-01-13\",\"firstName\":\"Authz\",\"lastSurname\":\"Bench\"}" || return 1
  hc_ok "az_setup_${ph}_students" 1 "authz setup $ph: POST students" || return 1
  $LIB authzdata ssa "$pf" "$n" "$sch" >"$WORK/az_ssa_$ph.tsv"
  run_hc "az_setup_${ph}_ssa" 1 -c 32 -n "$n" -i "$WORK/az_ssa_$ph.tsv" -m POST -u "$API/studentSchoolAssociations" \
    -H "$AUTH" -e 201 -T 3600 \
    -b '{"studentReference":{"studentUniqueId":"{1}"},"schoolReference":{"schoolId":{2}},"entryDate":"2023-08-01","entryGradeLevelDescriptor":"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}' || return 1
  hc_ok "az_setup_${ph}_ssa" 1 "authz setup $ph: POST studentSchoolAssociations" || return 1
  if [ "$ne" -gt 0 ]; then
    $LIB authzdata events "$pf" "$n" "$ne" "$sch" >"$WORK/az_ev_$ph.tsv" ||
      { check "authz setup $ph: attendance data" false "benchlib authzdata events failed"; return 1; }
    run_hc "az_setup_${ph}_events" 1 -c 32 -n "$ne" -i "$WORK/az_ev_$ph.tsv" -m POST \
      -u "$API/studentSchoolAttendanceEvents" -H "$AUTH" -e 201 -T 3600 \
      -b "{\"studentReference\":{\"studentUniqueId\":\"{1}\"},\"schoolReference\":{\"schoolId\":{2}},\"sessionReference\":{\"schoolId\":{2},\"schoolYear\":2024,\"sessionName\":\"$AZ_SESSION\"},\"attendanceEventCategoryDescriptor\":\"uri://ed-fi.org/AttendanceEventCategoryDescriptor#In Attendance\",\"eventDate\":\"{3}\"}" || return 1
    hc_ok "az_setup_${ph}_events" 1 "authz setup $ph: POST studentSchoolAttendanceEvents" || return 1
  fi
  rm -f "$WORK/az_ssa_$ph.tsv" "$WORK/az_ev_$ph.tsv"
  record_sizes "A3 setup $ph"
}

az_restart() { # label: restart the server without extra records (empties its token table)
  QUIET=1
  stop_server "$1"
  start_server "$1"
  local st=$?
  QUIET=0
  return $st
}

az_tokens() { # A1: token issuance
  local basic r i set key sec pc=$((AZ_FRESH < 16 ? AZ_FRESH : 16)) f
  basic=$(printf '%s:%s' "$KEY" "$SECRET" | base64 -w0)
  mask "$basic" '$BASIC'
  log "[$BK] A1 token issuance: $RUNS x $AZ_TOKN requests (cached secret) at $AZ_CONNS connections; first tokens of $AZ_FRESH fresh clients, sequential and at $pc connections"
  for r in $(seq 1 "$RUNS"); do
    # a fresh server per run: the live-token table starts empty (the server keeps at most 100,000);
    # start_server's token request verifies the secret, so the cached path is what is measured
    az_restart "A1 run $r" || return 1
    run_hc a1_token_cached "$r" -c "$AZ_CONNS" -n "$AZ_TOKN" -w 200 -m POST -u /oauth/token \
      -H "Authorization: Basic $basic" -C "$FORM" -b grant_type=client_credentials -e 200 || return 1
    for set in seq par; do
      f="$WORK/az_fresh_$set.$BK.r$r.tsv"
      : >"$f"
      for i in $(seq 1 "$AZ_FRESH"); do
        key="bench-fresh-$set-$r-$i" sec="bench-fresh-secret-$$-$set-$r-$i"
        az_client "$key" "$sec" "SIS Vendor" 255901 || return 1
        printf '%s\n' "$(printf '%s:%s' "$key" "$sec" | base64 -w0)" >>"$f"
      done
    done
    run_hc a1_token_first "$r" -c 1 -n "$AZ_FRESH" -i "$WORK/az_fresh_seq.$BK.r$r.tsv" -m POST -u /oauth/token \
      -H 'Authorization: Basic {1}' -C "$FORM" -b grant_type=client_credentials -e 200 || return 1
    run_hc a1_token_again "$r" -c 1 -n "$AZ_FRESH" -i "$WORK/az_fresh_seq.$BK.r$r.tsv" -m POST -u /oauth/token \
      -H 'Authorization: Basic {1}' -C "$FORM" -b grant_type=client_credentials -e 200 || return 1
    run_hc a1_token_first_par "$r" -c "$pc" -n "$AZ_FRESH" -i "$WORK/az_fresh_par.$BK.r$r.tsv" -m POST -u /oauth/token \
      -H 'Authorization: Basic {1}' -C "$FORM" -b grant_type=client_credentials -e 200 || return 1
  done
  az_restart "after A1" # the later workloads do not run next to tens of thousands of live tokens
}

az_total() { # token resource: Total-Count this client sees
  curl -s -m 600 -D - -o /dev/null -H "Authorization: Bearer $1" "$BASE$API/$2?limit=1&totalCount=true" |
    grep -i '^total-count:' | tr -dc '0-9'
}

az_reads() { # phase (a: LEA 255901's data only; b: LEA 255902's added): A3 list reads
  local ph=$1 t i j u r w n tot exp name
  new_token || return 1
  local who=(full sis1) toks=("$TOKEN")
  t=$(token_for "$AZ_SIS_KEY1" "$AZ_SIS_SECRET1") || { check "token of $AZ_SIS_KEY1" false "no token"; return 1; }
  toks+=("$t"); mask "$t" '$TOKEN_SIS_255901'
  if [ "$ph" = b ]; then
    t=$(token_for "$AZ_SIS_KEY2" "$AZ_SIS_SECRET2") || { check "token of $AZ_SIS_KEY2" false "no token"; return 1; }
    who+=(sis2); toks+=("$t"); mask "$t" '$TOKEN_SIS_255902'
  fi
  local R="$API/studentSchoolAttendanceEvents"
  local names=(events events_count students) urls=("$R?limit=100" "$R?limit=100&totalCount=true" "$API/students?limit=100")
  local items=() F1=$((AZ_F + 1))
  [ "$ph" = a ] && F1=1
  # what every client sees: Total-Count, checked against what was created
  for i in "${!who[@]}"; do
    for u in studentSchoolAttendanceEvents students; do
      tot=$(az_total "${toks[$i]}" "$u")
      n=$AZ_E; [ "$u" = students ] && n=$AZ_N
      case ${who[$i]} in full) exp=$((n * F1)) ;; sis1) exp=$n ;; sis2) exp=$((n * AZ_F)) ;; esac
      items+=("total_${u}_${who[$i]}=${tot:-null}" "expected_${u}_${who[$i]}=$exp")
      check "A3 phase $ph: ${who[$i]} client sees the expected $u (Total-Count)" \
        "$([ "${tot:-x}" = "$exp" ] && echo true || echo false)" "Total-Count ${tot:-missing}, expected $exp"
    done
  done
  # one timed request per URL and client first: it checks the page and sizes the sample count
  local -A KN WN
  for j in "${!names[@]}"; do
    for i in "${!who[@]}"; do
      name="${names[$j]}_${who[$i]}"
      t=$(curl -s -m 600 -H "Authorization: Bearer ${toks[$i]}" -o "$WORK/az_page.json" -w '%{time_total}' "$BASE${urls[$j]}")
      read -r KN[$name] WN[$name] < <(python3 -c "t=float('${t:-0}' or 0); b=$AZ_READ_BUDGET; k=$AZ_READ_N
n = k if t * (k + 3) <= b else max(3, min(k, int(b / max(t, 1e-6))))
print(n, 3 if t * (n + 3) <= b else 1)")
      items+=("items_$name=$($LIB count "$WORK/az_page.json")" "first_s_$name=${t:-null}" "k_$name=${KN[$name]}")
    done
  done
  rec workload=a3_info phase="$ph" clients="${who[*]}" budget_s="$AZ_READ_BUDGET" "${items[@]}"
  log "  [$BK] A3 phase $ph: ${items[*]}"
  local T=$((AZ_READ_BUDGET * 3 + 600)) nw=${#who[@]} k
  for r in $(seq 1 "$RUNS"); do
    for j in "${!names[@]}"; do
      for k in $(seq 0 $((nw - 1))); do
        i=$(((k + r - 1) % nw)) # the clients' order rotates from run to run
        name="${names[$j]}_${who[$i]}"
        run_hc "a3_${ph}_$name" "$r" -c 1 -n "${KN[$name]}" -w "${WN[$name]}" -u "${urls[$j]}" \
          -H "Authorization: Bearer ${toks[$i]}" -e 200 -t 300 -T $T || return 1
      done
    done
  done
}

az_setup_b() { # A3 phase B: a second LEA under the same ESC, its school, students, enrolments, events
  new_token || return 1
  log "[$BK] A3 setup b: LEA $AZ2_LEA (ESC 255950), school $AZ2_SCHOOL, $AZ_F x the data of LEA 255901"
  az_post localEducationAgencies "{\"localEducationAgencyId\":$AZ2_LEA,\"nameOfInstitution\":\"Bench District $AZ2_LEA\",\"categories\":[{\"educationOrganizationCategoryDescriptor\":\"uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency\"}],\"localEducationAgencyCategoryDescriptor\":\"uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent\",\"educationServiceCenterReference\":{\"educationServiceCenterId\":255950}}" || return 1
  az_post schools "{\"schoolId\":$AZ2_SCHOOL,\"nameOfInstitution\":\"Bench District $AZ2_LEA High School\",\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School\"}],\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"}],\"localEducationAgencyReference\":{\"localEducationAgencyId\":$AZ2_LEA}}" || return 1
  az_session "$AZ2_SCHOOL" || return 1
  az_client "$AZ_SIS_KEY2" "$AZ_SIS_SECRET2" "SIS Vendor" "$AZ2_LEA" || return 1
  az_people b "$AZ2_PFX" $((AZ_F * AZ_N)) "$AZ2_SCHOOL" $((AZ_F * AZ_E))
}

az_writes() { # A2: POST SSA and attendance events, full access vs SIS Vendor, same wrk command
  new_token || return 1
  local tf=$TOKEN ts wl r k who tok base order
  ts=$(token_for "$AZ_SIS_KEY1" "$AZ_SIS_SECRET1") || { check "token of $AZ_SIS_KEY1" false "no token"; return 1; }
  mask "$ts" '$TOKEN_SIS_255901'
  # run k of a workload uses dates from 2000-01-01 + k*slot days on (slot: room for 20,000 req/s),
  # far from the setup's 2023 enrolments and events, so every POST is an insert
  local slot=$(((DUR * 20000 + AZ_N - 1) / AZ_N + 1))
  if [ $(((2 * RUNS + 2) * slot)) -ge 8500 ]; then
    check "A2 date range" false "BENCH_AUTHZ_STUDENTS=$AZ_N is too small for $RUNS runs of ${DUR}s (identities could repeat)"
    return 1
  fi
  log "[$BK] A2 writes: POST studentSchoolAssociations and studentSchoolAttendanceEvents, full access vs SIS Vendor (LEA 255901), $RUNS x ${DUR}s each at $AZ_CONNS connections, interleaved"
  for wl in ssa att; do
    k=0
    for r in $(seq 1 "$RUNS"); do
      order="full sis"; [ $((r % 2)) = 0 ] && order="sis full"
      for who in $order; do
        k=$((k + 1)); base=$((k * slot * AZ_N))
        tok=$tf; [ "$who" = sis ] && tok=$ts
        WRK_EXTRA=(-H "Authorization: Bearer $tok")
        if [ "$wl" = ssa ]; then
          run_wrk "a2_ssa_$who" "$r" "$BASE/" "$AZ_CONNS" "$BENCH_DIR/lua/ssa_post.lua" "$base" "$AZ_N" $WRK_T "$AZ_PFX" ||
            { WRK_EXTRA=(); return 1; }
        else
          run_wrk "a2_att_$who" "$r" "$BASE/" "$AZ_CONNS" "$BENCH_DIR/lua/att_post.lua" "$base" "$AZ_N" $WRK_T "$AZ_PFX" \
            "$AZ_SESSION" "$AZ_SCHOOLS" || { WRK_EXTRA=(); return 1; }
        fi
      done
    done
  done
  WRK_EXTRA=()
  record_sizes "A2 writes"
}

run_authz() {
  bk_instance authz || return 1
  SERVE_EXTRA=(--tokens-per-client 0)
  start_server "authz instance" || return 1
  rec workload=a_info students="$AZ_N" events="$AZ_E" other_factor="$AZ_F" schools="$AZ_SCHOOLS" \
    conns="$AZ_CONNS" tokens="$AZ_TOKN" fresh="$AZ_FRESH" parts="$AZ_PARTS" \
    serve="edhub serve --data DIR --listen 127.0.0.1:\$PORT ${SERVE_EXTRA[*]}" \
    clients="edhub clients create --data DIR --key $AZ_SIS_KEY1 --secret - --claim-set 'SIS Vendor' --edorg 255901"
  if az_has tokens; then az_tokens || return 1; fi
  if az_has writes || az_has reads; then
    az_client "$AZ_SIS_KEY1" "$AZ_SIS_SECRET1" "SIS Vendor" 255901 || return 1
    for s in ${AZ_SCHOOLS//,/ }; do az_session "$s" || return 1; done
    az_people a "$AZ_PFX" "$AZ_N" "$AZ_SCHOOLS" "$(az_has reads && echo "$AZ_E" || echo 0)" || return 1
    if az_has reads; then
      log "[$BK] A3 list reads, phase a (only LEA 255901's data: both clients see the same rows)"
      az_reads a || return 1
      if [ "$AZ_F" -gt 0 ]; then
        az_setup_b || return 1
        log "[$BK] A3 list reads, phase b (LEA 255902 holds $AZ_F/$((AZ_F + 1)) of the rows)"
        az_reads b || return 1
      fi
    fi
    if az_has writes; then az_writes || return 1; fi
  fi
  return 0
}

run_backend() {
  bk_instance || return 1
  start_server "fresh instance" || return 1
  bk_checks || return 1
  if [ "$FIRST_BK" = 1 ]; then bk_w1w2 || return 1; fi
  bk_w3 || return 1
  bk_w4 || return 1
  bk_w5 || return 1
  if [ "$SKIP_BULK" != 1 ]; then
    bk_w8 || return 1
    if [ "$SKIP_DEEP" != 1 ]; then bk_w6 || return 1; fi
  fi
  return 0
}

FIRST_BK=1
for BK in $BACKENDS; do
  log "======== backend $BK"
  rec workload=backend_start date="$(date -u '+%Y-%m-%d %H:%M:%S UTC')" loadavg="$(loadavg)"
  SERVE_EXTRA=() MASK_V=() MASK_N=() SLOG="$WORK/server.$BK.log"
  if [ $DO_MAIN = 1 ]; then
    run_backend || log "[$BK] stopped early (see the checks in the report)"
    bk_teardown
  fi
  if [ $DO_AUTHZ = 1 ]; then
    SLOG="$WORK/server.$BK-authz.log"
    run_authz || log "[$BK] authorization workloads stopped early (see the checks in the report)"
    bk_teardown " (authz instance)"
    SERVE_EXTRA=()
  fi
  rec workload=backend_end date="$(date -u '+%Y-%m-%d %H:%M:%S UTC')" loadavg="$(loadavg)"
  FIRST_BK=0
done
BK=all

# ------------------------------------------------------------------ end of run
pg_stop
finish
exit 0
