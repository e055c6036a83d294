#!/usr/bin/env bash
# bench/run.sh - edhub benchmark: builds the server and the helpers, creates a
# temporary instance, starts the server on a free 127.0.0.1 port, runs all
# workloads (see bench/README.md), stops the server and writes bench/RESULTS.md
# (and the raw per-run records bench/results.jsonl).
#
# Environment (all optional):
#   BENCH_QUICK=1          short run: 1 run per workload, 3 s wrk runs, 100k deep documents
#   BENCH_RUNS=N           runs per workload (default 3; quick 1); the report shows medians
#   BENCH_DURATION=S       seconds per wrk run (default 10; quick 3)
#   BENCH_DEEP_N=N         documents for the deep-paging workload (default 1000000; quick 100000)
#   BENCH_LAT_N=N          timed requests per op and run in the single-client workload (1000; quick 200)
#   BENCH_SSA_STUDENTS=N   students pre-created for the SSA workload (default 50000; quick 10000)
#   BENCH_PAGE_K=N         timed requests per paging measurement and run (default 20; quick 10)
#   BENCH_SKIP_BUILD=1     do not run make (use the existing ./edhub)
#   BENCH_SKIP_DEEP=1      skip workload 6
#   BENCH_TMP=DIR          where the temporary instance lives (default $TMPDIR or /tmp)
#   BENCH_KEEP=1           keep the temporary directory (instance, logs, raw outputs)
#   BENCH_OUT=FILE         report path (default bench/RESULTS.md; raw records next to it)
#   BENCH_DEEP_TIMEOUT=S   bound for creating the deep-paging documents (default 7200)
#   BENCH_EDHUB=PATH       server binary to use (default ./edhub; for testing the harness)
# Only 127.0.0.1 is ever contacted. Every wait and loop is bounded.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
LIB="python3 $BENCH_DIR/benchlib.py"
export BENCH_LUA_DIR="$BENCH_DIR/lua"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
  d_runs=1 d_dur=3 d_deep=100000 d_lat=200 d_stu=10000 d_pk=10 mode=quick
else
  d_runs=3 d_dur=10 d_deep=1000000 d_lat=1000 d_stu=50000 d_pk=20 mode=full
fi
RUNS=${BENCH_RUNS:-$d_runs}
DUR=${BENCH_DURATION:-$d_dur}
DEEP_N=${BENCH_DEEP_N:-$d_deep}
LAT_N=${BENCH_LAT_N:-$d_lat}
NSTU=${BENCH_SSA_STUDENTS:-$d_stu}
PAGE_K=${BENCH_PAGE_K:-$d_pk}
DEEP_TIMEOUT=${BENCH_DEEP_TIMEOUT:-7200}
OUT_MD=${BENCH_OUT:-$BENCH_DIR/RESULTS.md}
if [ -n "${BENCH_OUT:-}" ]; then OUT_JSONL="${OUT_MD%.*}.jsonl"; else OUT_JSONL="$BENCH_DIR/results.jsonl"; fi
EDHUB=${BENCH_EDHUB:-$ROOT/edhub}
cd "$ROOT" || exit 1
KEY=bench-key
SECRET=bench-secret-$$
WRK_T=2
API=/data/v3/ed-fi

log() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for v in RUNS DUR DEEP_N LAT_N NSTU PAGE_K DEEP_TIMEOUT; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -gt 0 ] || die "$v must be a positive integer (got '${!v}')"
done
for t in wrk curl python3 gcc timeout; do command -v $t >/dev/null || die "missing tool: $t"; done

WORK=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/edhub-bench.XXXXXX") || die "mktemp failed"
RES="$WORK/results.jsonl"
: >"$RES"
SPID=""
CPID=""

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

cleanup() {
  [ -n "${WDPID:-}" ] && kill "$WDPID" 2>/dev/null
  stop_pid "$CPID" ceiling_http >/dev/null
  stop_pid "$SPID" edhub >/dev/null
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rec() { $LIB rec "$@" >>"$RES"; }
check() { # name ok(true/false/null) detail
  rec workload=check name="$1" ok="$2" detail="$3"
  [ "$2" = false ] && log "CHECK FAILED: $1: $3"
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
# own writes)
bg_pct() { # busy0 busy1 server0 server1 client0 client1 seconds [kthreads0 kthreads1]
  # null for steps shorter than 2 s: /proc/stat has 10 ms resolution and process start-up would dominate
  python3 -c "import sys; b0,b1,s0,s1,c0,c1,t,k0,k1=map(float,(sys.argv[1:]+['0','0'])[:9]); print(round(max(0.0,(b1-b0)-(s1-s0)-(c1-c0)-(k1-k0))*100/(t*$(nproc)),1) if t>=2 else 'null')" "$@"
}
db_sizes() { # "db=<bytes> wal=<bytes>" of the instance's SQLite files
  local db wal
  db=$(find "$DATA" -maxdepth 2 -name '*.sqlite' -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {printf "%.0f\n", s}')
  wal=$(find "$DATA" -maxdepth 2 -name '*-wal' -printf '%s\n' 2>/dev/null | awk '{s+=$1} END {printf "%.0f\n", s}')
  echo "$db $wal"
}
record_sizes() { # after a workload: DB and WAL size (a WAL that only grows means checkpoints are not happening)
  local sz; sz=$(db_sizes)
  rec workload=sizes after="$1" db_bytes="${sz% *}" wal_bytes="${sz#* }" free_bytes="$(df -B1 --output=avail "$DATA" | tail -1)"
  log "  sizes after $1: db ${sz% *} B, wal ${sz#* } B"
}
wbytes() { # bytes the server caused to be written to storage (/proc/PID/io write_bytes)
  local p=${CPU_PID:-$SPID}
  awk '/^write_bytes/ {print $2; f=1} END {if (!f) print 0}' /proc/$p/io 2>/dev/null || echo 0
}
cpu_s() { # utime+stime of the server in seconds
  local p=${CPU_PID:-$SPID}
  [ -r /proc/$p/stat ] || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^[^)]*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' /proc/$p/stat
}

finish() { # end-of-run records (if the server is still up), stop it, write the report
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    local rss st sz db wal
    sleep 2 # give a background checkpointer a moment
    sz=$(db_sizes); db=${sz% *}; wal=${sz#* }
    rec workload=sizes after="end (server still running)" db_bytes="$db" wal_bytes="$wal"
    if [ "$wal" -gt $((256 * 1024 * 1024)) ] && [ "$wal" -gt "$db" ]; then
      check "WAL is checkpointed while the server runs" false \
        "at the end the WAL is $wal bytes and the database file $db bytes: checkpoints are not keeping up (or not running); the WAL only shrinks at shutdown"
    else
      check "WAL is checkpointed while the server runs" true "WAL $wal bytes, database file $db bytes"
    fi
    rss=$(awk '/VmHWM|VmRSS/ {printf "%s %s %s; ", $1, $2, $3}' /proc/$SPID/status 2>/dev/null)
    rec workload=extra name="server memory at end" value="$rss"
    rec workload=extra name="server threads at end" value="$(ls /proc/$SPID/task 2>/dev/null | wc -l)"
    rec workload=extra name="instance data dir size at end" value="$(du -sh "$DATA" | cut -f1) ($(du -sb "$DATA" | cut -f1) bytes)"
    st=$(stop_pid "$SPID" edhub); SPID=""
    rec workload=extra name="server stop after SIGTERM" value="$st s"
  fi
  local nerr; nerr=$(grep -ciE 'error|fatal|assert|crit' "$WORK/server.log" 2>/dev/null)
  [ "${nerr:-0}" -gt 0 ] && rec workload=extra name="server log lines matching error/fatal/assert/crit" \
    value="$nerr; first: $(grep -iE -m1 'error|fatal|assert|crit' "$WORK/server.log" | cut -c1-200)"
  rec workload=meta_end loadavg="$(loadavg)" date="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  mkdir -p "$(dirname "$OUT_MD")" "$(dirname "$OUT_JSONL")"
  cp "$RES" "$OUT_JSONL"
  $LIB report "$RES" "$OUT_MD" || die "report generation failed"
  log "wrote $OUT_MD and $OUT_JSONL"
}

alive() { # after a step: if the server died, record it, write the report and stop
  [ -z "$SPID" ] && return 0
  kill -0 "$SPID" 2>/dev/null && return 0
  wait "$SPID" 2>/dev/null; local rc=$?
  local why="exit status $rc"; [ $rc -gt 128 ] && why="killed by signal $((rc - 128))"
  [ -s "$WORK/watchdog.txt" ] && why="$why; $(cat "$WORK/watchdog.txt")"
  check "server still running after $1" false "edhub serve died ($why); last log line: $(tail -1 "$WORK/server.log" | cut -c1-200)"
  log "server died during $1 ($why); writing the report with what was measured"
  SPID=""
  finish
  exit 1
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
HC="$BENCH_DIR/build/hclient"

# ------------------------------------------------------------------ machine
git_desc=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit yet")
git_dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -v '^??' | wc -l)
rec workload=meta mode="$mode" runs="$RUNS" date="$(date -u '+%Y-%m-%d %H:%M:%S UTC')" \
  nproc="$(nproc)" cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  kernel="$(uname -srm)" os="$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")" \
  mem="$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" \
  fs="$(df -hT "$WORK" | awk 'NR==2 {print $2 " on " $1}')" \
  git="$git_desc ($git_dirty modified tracked files); binary ${EDHUB_SRC#$ROOT/} sha256 $(sha256sum "$EDHUB" | cut -c1-12), built $(date -u -r "$EDHUB_SRC" '+%H:%M:%S UTC')" cc="$(gcc --version | head -1)" \
  libs="libmicrohttpd $(pkg-config --modversion libmicrohttpd), SQLite $(pkg-config --modversion sqlite3), json-c $(pkg-config --modversion json-c 2>/dev/null)" \
  wrk="$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" loadavg="$(loadavg)" \
  invocation="$( [ "$QUICK" = 1 ] && echo 'BENCH_QUICK=1 ')make bench   # = bash bench/run.sh; RUNS=$RUNS DURATION=${DUR}s DEEP_N=$DEEP_N LAT_N=$LAT_N SSA_STUDENTS=$NSTU PAGE_K=$PAGE_K"

# ------------------------------------------------------------------ instance
DATA="$WORK/data"
log "edhub init (data in $DATA)"
t0=$(date +%s.%N)
timeout 600 "$EDHUB" init --data "$DATA" --client-key "$KEY" --client-secret "$SECRET" >"$WORK/init.log" 2>&1 ||
  { tail -20 "$WORK/init.log" >&2; die "edhub init failed"; }
t1=$(date +%s.%N)
rec workload=extra name="edhub init (bootstrap load: descriptors, school years, Grand Bend ed-orgs)" \
  value="$(python3 -c "print(f'{$t1-$t0:.2f} s')")"

PORT=$($LIB freeport)
log "starting edhub serve on 127.0.0.1:$PORT"
t0=$(date +%s.%N)
"$EDHUB" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SPID=$!
BASE="http://127.0.0.1:$PORT"
ready=0
for i in $(seq 1 300); do
  kill -0 "$SPID" 2>/dev/null || { tail -20 "$WORK/server.log" >&2; die "edhub serve exited"; }
  code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$BASE/" 2>/dev/null)
  [ "$code" = 200 ] && { ready=1; break; }
  sleep 0.1
done
[ $ready = 1 ] || die "server not ready after 30 s"
t1=$(date +%s.%N)
# disk watchdog: the run writes a lot; stop the server (our own PID) before the disk fills up
MIN_FREE=$(( ${BENCH_MIN_FREE_GB:-5} * 1024 * 1024 * 1024 ))
(
  for i in $(seq 1 100000); do
    kill -0 "$SPID" 2>/dev/null || exit 0
    free=$(df -B1 --output=avail "$DATA" | tail -1)
    if [ "$free" -lt "$MIN_FREE" ]; then
      echo "free space on the data filesystem fell to $free bytes (< BENCH_MIN_FREE_GB=${BENCH_MIN_FREE_GB:-5}); stopping the server" >"$WORK/watchdog.txt"
      kill -TERM "$SPID"; exit 0
    fi
    sleep 2
  done
) &
WDPID=$!
rec workload=extra name="server start to first 200 on GET /" value="$(python3 -c "print(f'{($t1-$t0)*1000:.0f} ms')")"
rec workload=extra name="server threads right after start" value="$(ls /proc/$SPID/task | wc -l)"

token() {
  local t i
  for i in 1 2 3; do
    t=$(curl -s -m 10 -u "$KEY:$SECRET" -d grant_type=client_credentials "$BASE/oauth/token" | $LIB get access_token)
    [ -n "$t" ] && { echo "$t"; return 0; }
    sleep 1
  done
  die "could not get a token"
}
TOKEN=$(token) || { alive "the first token request"; exit 1; }
AUTH="Authorization: Bearer $TOKEN"

# SQLite settings of the instance (read-only look at the files the server made)
dbs=$(find "$DATA" -maxdepth 3 -type f \( -name '*.db' -o -name '*.sqlite' -o -name '*.sqlite3' \) 2>/dev/null | head -3 | tr '\n' ' ')
if [ -n "$dbs" ] && command -v sqlite3 >/dev/null; then
  db1=$(echo $dbs | cut -d' ' -f1)
  ps=$(timeout 5 sqlite3 -readonly "$db1" 'PRAGMA page_size;' 2>/dev/null)
  jm=$(timeout 5 sqlite3 -readonly "$db1" 'PRAGMA journal_mode;' 2>/dev/null)
  rec workload=extra name="instance database files" value="$dbs(page_size=$ps, journal_mode=$jm; synchronous is per connection and not visible from outside)"
fi

# ------------------------------------------------------------------ protocol checks
log "protocol checks"
curl -s -m 10 -D "$WORK/root.hdr" -o "$WORK/root.json" "$BASE/" >/dev/null
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

alive "protocol checks"

# ------------------------------------------------------------------ helpers for workloads
show_cmd() { # shell-quoted command line with the token and temp paths replaced by placeholders
  local s="" a q
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./:=,+@%-]+$ ]]; then q=$a
    elif [[ $a == *"$TOKEN"* ]]; then q="\"$a\""
    else q="'${a//\'/\'\\\'\'}'"
    fi
    s+="${s:+ }$q"
  done
  s=${s//$TOKEN/\$TOKEN}
  s=${s//$BENCH_DIR/bench}
  s=${s//$WORK/\$WORK}
  s=${s//127.0.0.1:$PORT/127.0.0.1:\$PORT}
  s=${s//-p $PORT /-p \$PORT }
  [ -n "${CPORT:-}" ] && s=${s//127.0.0.1:$CPORT/127.0.0.1:\$CEILING_PORT}
  printf '%s' "$s"
}

run_wrk() { # workload run url conns script [script args...]; extra wrk args in WRK_EXTRA
  local wl=$1 r=$2 url=$3 c=$4 script=$5; shift 5
  local out="$WORK/$wl.r$r.txt"
  local cmd=(wrk -t$WRK_T -c$c -d${DUR}s --latency --timeout 10s "${WRK_EXTRA[@]}" -s "$script" "$url")
  [ $# -gt 0 ] && cmd+=(-- "$@")
  local shown; shown=$(show_cmd "${cmd[@]}")
  local c0 c1 la w0 w1 b0 b1 k0 k1 t0 t1 q0 q1; c0=$(cpu_s); w0=$(wbytes); la=$(loadavg); b0=$(busy_s); q0=$(kthread_s)
  child_cpu; k0=$CHILD_CPU; t0=$(date +%s.%N)
  timeout $((DUR + 60)) "${cmd[@]}" >"$out" 2>&1
  t1=$(date +%s.%N); child_cpu; k1=$CHILD_CPU
  c1=$(cpu_s); w1=$(wbytes); b1=$(busy_s); q1=$(kthread_s)
  $LIB wrkjson "$out" >"$out.json"
  rec workload="$wl" run="$r" tool=wrk cmd="BENCH_LUA_DIR=bench/lua $shown" result=@"$out.json" \
    server_cpu_s="$(python3 -c "print(round($c1-$c0,3))")" server_write_bytes=$((w1 - w0)) loadavg="$la" \
    client_cpu_s="$(python3 -c "print(round($k1-$k0,3))")" bg_cpu_pct="$(bg_pct $b0 $b1 $c0 $c1 $k0 $k1 $(python3 -c "print($t1-$t0)") $q0 $q1)" \
    kthread_cpu_pct="$(python3 -c "t=$t1-$t0; print(round(($q1-$q0)*100/(t*$(nproc)),1) if t>=2 else 'null')")"
  log "  $wl run $r: $(cut -c1-160 "$out.json")"
  alive "$wl run $r"
}

run_hc() { # workload run [hclient args...]
  local wl=$1 r=$2; shift 2
  local out="$WORK/$wl.r$r.json"
  local cmd=("$HC" -p "$PORT" "$@")
  local shown; shown=$(show_cmd "${cmd[@]}")
  local c0 c1 la w0 w1 b0 b1 k0 k1 t0 t1 q0 q1; c0=$(cpu_s); w0=$(wbytes); la=$(loadavg); b0=$(busy_s); q0=$(kthread_s)
  child_cpu; k0=$CHILD_CPU; t0=$(date +%s.%N)
  timeout 10800 "${cmd[@]}" -l "$wl" >"$out" 2>>"$WORK/hclient.err"
  t1=$(date +%s.%N); child_cpu; k1=$CHILD_CPU
  c1=$(cpu_s); w1=$(wbytes); b1=$(busy_s); q1=$(kthread_s)
  [ -s "$out" ] || echo '{"error":"hclient produced no output"}' >"$out"
  rec workload="$wl" run="$r" tool=hclient cmd="$shown" result=@"$out" \
    server_cpu_s="$(python3 -c "print(round($c1-$c0,3))")" server_write_bytes=$((w1 - w0)) loadavg="$la" \
    client_cpu_s="$(python3 -c "print(round($k1-$k0,3))")" bg_cpu_pct="$(bg_pct $b0 $b1 $c0 $c1 $k0 $k1 $(python3 -c "print($t1-$t0)") $q0 $q1)" \
    kthread_cpu_pct="$(python3 -c "t=$t1-$t0; print(round(($q1-$q0)*100/(t*$(nproc)),1) if t>=2 else 'null')")"
  log "  $wl run $r: $(cut -c1-200 "$out")"
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
ceil_wrk() { # like run_wrk, against the ceiling server, sampling its CPU
  local wl=$1 r=$2; shift 2
  CPU_PID=$CPID
  run_wrk "$wl" "$r" "http://127.0.0.1:$CPORT/" "$@"
  CPU_PID=""
}

# ------------------------------------------------------------------ W1 transport floor + W2 ceiling A
# The runs alternate (edhub, ceiling, edhub, ceiling, ...) so that drifting background load hits both.
log "W1 transport floor GET / and W2 ceiling A (same wrk command), $RUNS x ${DUR}s each, interleaved"
if start_ceiling "$WORK/root.json"; then
  for r in $(seq 1 "$RUNS"); do
    run_wrk w1_get_root "$r" "$BASE/" 64 "$BENCH_DIR/lua/get.lua"
    ceil_wrk w2_ceiling_http "$r" 64 "$BENCH_DIR/lua/get.lua"
  done
  stop_ceiling
else
  rec workload=w2_ceiling_http run=1 result='{"error":"ceiling_http did not start"}'
  for r in $(seq 1 "$RUNS"); do run_wrk w1_get_root "$r" "$BASE/" 64 "$BENCH_DIR/lua/get.lua"; done
fi

# ------------------------------------------------------------------ W7 ceiling B
log "W7 ceiling B: raw SQLite inserts"
for r in $(seq 1 "$RUNS"); do
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

# ------------------------------------------------------------------ W3 single-client latency
log "W3 single-client latency ($RUNS x $LAT_N per op)"
TOKEN=$(token) || exit 1; AUTH="Authorization: Bearer $TOKEN"
WARM=20
for r in $(seq 1 "$RUNS"); do
  ids="$WORK/lat_ids.r$r.txt"
  run_hc w3_post "$r" -c 1 -n "$LAT_N" -w $WARM -s 0 -m POST -u "$API/students" -H "$AUTH" -e 201 \
    -b "{\"studentUniqueId\":\"L$r-{n}\",\"birthDate\":\"2010-01-13\",\"firstName\":\"Lat\",\"lastSurname\":\"Client\"}" \
    -o "$ids" -O "{loc}\\tL$r-{n}"
  nids=$(wc -l <"$ids")
  if [ "$nids" -lt $((LAT_N + WARM)) ]; then
    log "  only $nids ids from POST; GET/PUT/DELETE use what there is"
  fi
  [ "$nids" -gt 0 ] || continue
  run_hc w3_get "$r" -c 1 -n "$LAT_N" -w $WARM -i "$ids" -u "$API/students/{1}" -H "$AUTH" -e 200
  run_hc w3_put "$r" -c 1 -n "$LAT_N" -w $WARM -i "$ids" -m PUT -u "$API/students/{1}" -H "$AUTH" \
    -b '{"id":"{1}","studentUniqueId":"{2}","birthDate":"2010-01-13","firstName":"Updated","lastSurname":"Client"}'
  run_hc w3_delete "$r" -c 1 -n "$LAT_N" -w $WARM -i "$ids" -m DELETE -u "$API/students/{1}" -H "$AUTH"
done

record_sizes "W3"

# ------------------------------------------------------------------ W4 concurrent SSA POST
log "W4 pre-creating $NSTU students P0..P$((NSTU - 1))"
TOKEN=$(token) || exit 1; AUTH="Authorization: Bearer $TOKEN"
run_hc w4_precreate_students 1 -c 32 -n "$NSTU" -s 0 -m POST -u "$API/students" -H "$AUTH" -e 201 -T 3600 \
  -b '{"studentUniqueId":"P{n}","birthDate":"2011-02-03","firstName":"Pre","lastSurname":"Created"}' \
  -o "$WORK/ids_p.txt" -O '{loc}'
log "W4 concurrent POST studentSchoolAssociations ($RUNS x ${DUR}s at 16 and 64 connections)"
WRK_EXTRA=(-H "$AUTH")
k=0
for c in 16 64; do
  for r in $(seq 1 "$RUNS"); do
    k=$((k + 1))
    run_wrk "w4_ssa_post_c$c" "$r" "$BASE/" "$c" "$BENCH_DIR/lua/ssa_post.lua" $((k * 10000000)) "$NSTU" $WRK_T P
  done
done

record_sizes "W4"

# ------------------------------------------------------------------ W5 GET by id (+ 5c ceiling A, same client)
log "W5 GET by id ($RUNS x ${DUR}s, 64 connections), interleaved with 5c: ceiling A driven by the same script"
TOKEN=$(token) || exit 1; AUTH="Authorization: Bearer $TOKEN"; WRK_EXTRA=(-H "$AUTH")
if [ -s "$WORK/ids_p.txt" ]; then
  # 5c: the same wrk command and Lua script (so wrk does the same work per request) against
  # ceiling_http answering one real student document
  id1=$(head -1 "$WORK/ids_p.txt" | cut -f1)
  curl -s -m 10 -H "$AUTH" -o "$WORK/student.json" "$BASE$API/students/$id1"
  have_c=0
  [ -s "$WORK/student.json" ] && start_ceiling "$WORK/student.json" && have_c=1
  for r in $(seq 1 "$RUNS"); do
    run_wrk w5_get_by_id "$r" "$BASE/" 64 "$BENCH_DIR/lua/get_ids.lua" "$WORK/ids_p.txt" "$API/students/" $WRK_T
    [ $have_c = 1 ] && ceil_wrk w5_ceiling_http "$r" 64 "$BENCH_DIR/lua/get_ids.lua" "$WORK/ids_p.txt" "$API/students/" $WRK_T
  done
  [ $have_c = 1 ] && stop_ceiling
else
  rec workload=w5_get_by_id run=1 result='{"error":"no ids collected from Location headers"}'
fi
WRK_EXTRA=()

# ------------------------------------------------------------------ W6 deep paging
if [ "${BENCH_SKIP_DEEP:-0}" != 1 ]; then
  log "W6 creating $DEEP_N students (64 connections, bounded by ${DEEP_TIMEOUT}s)"
  TOKEN=$(token) || exit 1; AUTH="Authorization: Bearer $TOKEN"
  run_hc w6_create 1 -c 64 -n "$DEEP_N" -s 0 -m POST -u "$API/students" -H "$AUTH" -e 201 -T "$DEEP_TIMEOUT" \
    -b '{"studentUniqueId":"D{n}","birthDate":"2009-05-06","firstName":"Deep","lastSurname":"Page"}'
  record_sizes "W6 creation"
  TOKEN=$(token) || exit 1; AUTH="Authorization: Bearer $TOKEN"
  # total number of students: Total-Count header if supported, else what we know we created
  tc=$(curl -s -m 120 -D - -o /dev/null -H "$AUTH" "$BASE$API/students?offset=0&limit=1&totalCount=true" |
    grep -i '^total-count:' | tr -dc '0-9')
  created=$(cat "$WORK/w6_create.r1.json" | $LIB get ok_2xx 0)
  if [ -n "$tc" ]; then total=$tc; src="Total-Count header"; else
    total=$((created + NSTU)); src="created by this run; no Total-Count header"; fi
  deep_off=$((total * 8 / 10))
  curl -s -m 120 -H "$AUTH" -o "$WORK/partitions.json" "$BASE$API/students/partitions?number=10"
  tok0=$(cat "$WORK/partitions.json" | $LIB get pageTokens.0)
  tok8=$(cat "$WORK/partitions.json" | $LIB get pageTokens.8)
  ntok=$(python3 -c "import json;print(len(json.load(open('$WORK/partitions.json')).get('pageTokens',[])))" 2>/dev/null || echo 0)
  check "GET students/partitions?number=10 returns 10 page tokens" "$([ "$ntok" = 10 ] && echo true || echo false)" \
    "$ntok tokens"
  U_OF="$API/students?offset=0&limit=500"
  U_OD="$API/students?offset=$deep_off&limit=500"
  U_CF="$API/students?pageToken=$($LIB quote "$tok0")&pageSize=500"
  U_CD="$API/students?pageToken=$($LIB quote "$tok8")&pageSize=500"
  U_PA="$API/students/partitions?number=10"
  items=()
  for pair in "offset_first:$U_OF" "offset_deep:$U_OD" "cursor_first:$U_CF" "cursor_deep:$U_CD"; do
    name=${pair%%:*}; u=${pair#*:}
    curl -s -m 120 -H "$AUTH" -o "$WORK/page_$name.json" "$BASE$u"
    items+=("items_$name=$($LIB count "$WORK/page_$name.json")")
  done
  npt=$(curl -s -m 120 -D - -o /dev/null -H "$AUTH" "$BASE$API/students?pageSize=500" | grep -ci '^next-page-token:')
  rec workload=w6_info total="$total" total_source="$src" deep_offset="$deep_off" "${items[@]}" \
    next_page_token="$([ "$npt" -gt 0 ] && echo true || echo false)"
  log "  total=$total ($src) deep_offset=$deep_off ${items[*]} next-page-token=$npt"
  for r in $(seq 1 "$RUNS"); do
    run_hc w6_offset_first "$r" -c 1 -n "$PAGE_K" -w 3 -u "$U_OF" -H "$AUTH" -e 200 -t 120
    run_hc w6_offset_deep "$r" -c 1 -n "$PAGE_K" -w 3 -u "$U_OD" -H "$AUTH" -e 200 -t 120
    if [ -n "$tok0" ] && [ -n "$tok8" ]; then
      run_hc w6_cursor_first "$r" -c 1 -n "$PAGE_K" -w 3 -u "$U_CF" -H "$AUTH" -e 200 -t 120
      run_hc w6_cursor_deep "$r" -c 1 -n "$PAGE_K" -w 3 -u "$U_CD" -H "$AUTH" -e 200 -t 120
    fi
    run_hc w6_partitions "$r" -c 1 -n "$PAGE_K" -w 3 -u "$U_PA" -H "$AUTH" -e 200 -t 120
  done
fi

# ------------------------------------------------------------------ end of run
finish
exit 0
