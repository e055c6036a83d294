#!/usr/bin/env python3
"""benchlib.py - small helpers for bench/run.sh and the RESULTS.md report.

Subcommands (all read/write plain text; no network access except `freeport`,
which only binds 127.0.0.1:0 to find a free port):
  freeport                         print a free TCP port on 127.0.0.1
  wrkjson FILE                     print the BENCHJSON object from wrk output in FILE
  get PATH [DEFAULT]               read JSON on stdin, print the value at PATH
                                   (dotted, list indices allowed: pageTokens.8)
  quote STRING                     URL-encode STRING (for query values)
  count FILE                       print the number of items of the JSON array in FILE
  rec KEY=VALUE...                 print one JSON record; a VALUE starting with @ is
                                   read from that file (JSON, or text if not JSON);
                                   other values are JSON if they parse, else strings
  report RESULTS.jsonl OUT.md      write the Markdown report
"""
import json
import socket
import statistics
import sys


def _val(v):
    if v.startswith("@"):
        try:
            with open(v[1:], encoding="utf-8", errors="replace") as f:
                txt = f.read()
        except OSError as e:
            return {"error": f"cannot read {v[1:]}: {e}"}
        try:
            return json.loads(txt)
        except ValueError:
            return txt.strip()
    try:
        return json.loads(v)
    except ValueError:
        return v


def cmd_rec(args):
    rec = {}
    for a in args:
        k, _, v = a.partition("=")
        rec[k] = _val(v)
    print(json.dumps(rec, separators=(",", ":")))


def cmd_get(args):
    try:
        obj = json.load(sys.stdin)
    except ValueError:
        print(args[1] if len(args) > 1 else "")
        return
    for part in args[0].split("."):
        try:
            obj = obj[int(part)] if isinstance(obj, list) else obj[part]
        except (KeyError, IndexError, ValueError, TypeError):
            print(args[1] if len(args) > 1 else "")
            return
    print(obj if not isinstance(obj, (dict, list)) else json.dumps(obj))


def cmd_wrkjson(args):
    with open(args[0], encoding="utf-8", errors="replace") as f:
        for line in f:
            i = line.find("BENCHJSON ")
            if i >= 0:
                print(line[i + len("BENCHJSON "):].strip())
                return
    print(json.dumps({"error": "no BENCHJSON line in wrk output"}))


def cmd_count(args):
    try:
        with open(args[0], encoding="utf-8") as f:
            v = json.load(f)
        print(len(v) if isinstance(v, list) else -1)
    except (OSError, ValueError):
        print(-1)


# ---------------------------------------------------------------- report

BG_LIMIT = 10.0  # % of all CPUs used by other processes during a run before it is flagged as noisy


def med(xs):
    xs = [x for x in xs if isinstance(x, (int, float))]
    return statistics.median(xs) if xs else None


def fnum(x, nd=0):
    if x is None:
        return "n/a"
    if isinstance(x, float) and nd == 0:
        return f"{x:,.0f}"
    return f"{x:,.{nd}f}"


def fms(x):
    return "n/a" if x is None else f"{x:.3f}"


def ratio(a, b, nd=2):
    if a is None or b in (None, 0):
        return "n/a"
    return f"{a / b:.{nd}f}"


class Report:
    def __init__(self, recs):
        self.recs = recs
        self.flags = []
        self.out = []

    def by(self, workload):
        return [r for r in self.recs if r.get("workload") == workload]

    def w(self, s=""):
        self.out.append(s)

    # wrk results: result has rps, p50_ms...; non2xx from statuses or err_status
    def wrk_summary(self, workload, expect=None):
        rs = self.by(workload)
        if not rs:
            return None
        runs = []
        for r in rs:
            res = r.get("result") or {}
            if "rps" not in res:
                self.flags.append(f"{workload} run {r.get('run')}: no result ({res.get('error', 'wrk failed')})")
                continue
            st = res.get("statuses") or {}
            if expect and st:
                bad = res.get("requests", 0) - st.get(str(expect), 0)
            else:
                bad = res.get("err_status", 0)
            sockerr = sum(res.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
            cpu = r.get("server_cpu_s")
            cpu_us = cpu * 1e6 / res["requests"] if isinstance(cpu, (int, float)) and res.get("requests") else None
            wb = r.get("server_write_bytes")
            wb_req = wb / res["requests"] if isinstance(wb, (int, float)) and res.get("requests") else None
            runs.append(dict(bg=r.get("bg_cpu_pct"), kt=r.get("kthread_cpu_pct"), wb_req=wb_req, rps=res["rps"], p50=res.get("p50_ms"), p95=res.get("p95_ms"), p99=res.get("p99_ms"),
                             max=res.get("max_ms"), bad=bad, sockerr=sockerr, cpu_us=cpu_us,
                             requests=res.get("requests"), statuses=st, cmd=r.get("cmd"),
                             load=r.get("loadavg")))
        if not runs:
            return None
        s = dict(n=len(runs), rps=med([x["rps"] for x in runs]), p50=med([x["p50"] for x in runs]),
                 p95=med([x["p95"] for x in runs]), p99=med([x["p99"] for x in runs]),
                 max=med([x["max"] for x in runs]), cpu_us=med([x["cpu_us"] for x in runs]),
                 wb_req=med([x["wb_req"] for x in runs]),
                 bad=sum(x["bad"] for x in runs), sockerr=sum(x["sockerr"] for x in runs),
                 all_rps=[x["rps"] for x in runs], loads=[x["load"] for x in runs], bgs=[x["bg"] for x in runs], kts=[x["kt"] for x in runs],
                 cmd=runs[0]["cmd"], requests=sum(x["requests"] or 0 for x in runs),
                 statuses=[x["statuses"] for x in runs])
        noisy = [b for b in s["bgs"] if isinstance(b, (int, float)) and b > BG_LIMIT]
        if noisy:
            self.flags.append(f"{workload}: other processes used {', '.join(f'{b}%' for b in noisy)} of the machine's "
                              f"CPU during {len(noisy)} of {len(runs)} runs (noisy measurement)")
        if s["bad"] or s["sockerr"]:
            what = f"non-{expect}" if expect else "non-2xx/3xx (status > 399)"
            self.flags.append(f"{workload}: {s['bad']} {what} responses and {s['sockerr']} socket errors/timeouts "
                              f"over {s['requests']} requests")
        return s

    def hc_summary(self, workload):
        rs = self.by(workload)
        runs = []
        for r in rs:
            res = r.get("result") or {}
            if "p50_ms" not in res:
                self.flags.append(f"{workload} run {r.get('run')}: no result ({res.get('error', 'hclient failed')})")
                continue
            n = res.get("responses") or 0
            cpu, wb = r.get("server_cpu_s"), r.get("server_write_bytes")
            runs.append(res | {"cmd": r.get("cmd"),
                               "cpu_us": cpu * 1e6 / n if isinstance(cpu, (int, float)) and n else None,
                               "wb_req": wb / n if isinstance(wb, (int, float)) and n else None})
        if not runs:
            return None
        s = dict(n=len(runs), rps=med([x["rps"] for x in runs]), p50=med([x["p50_ms"] for x in runs]),
                 p95=med([x["p95_ms"] for x in runs]), p99=med([x["p99_ms"] for x in runs]),
                 max=med([x["max_ms"] for x in runs]), mean=med([x["mean_ms"] for x in runs]),
                 cpu_us=med([x["cpu_us"] for x in runs]), wb_req=med([x["wb_req"] for x in runs]),
                 unexpected=sum(x["unexpected"] for x in runs), io=sum(x["io_errors"] for x in runs),
                 reconnects=sum(x["reconnects"] for x in runs), close=sum(x["conn_close_hdr"] for x in runs),
                 timed_out=any(x.get("timed_out") for x in runs), cmd=runs[0]["cmd"],
                 statuses=[x.get("status") for x in runs], lat_n=runs[0].get("lat_n"),
                 body=med([x.get("body_bytes_avg") for x in runs]), elapsed=med([x.get("elapsed_s") for x in runs]),
                 requested=runs[0].get("requested"), expect=runs[0].get("expect"))
        noisy = [r.get("bg_cpu_pct") for r in rs if isinstance(r.get("bg_cpu_pct"), (int, float))
                 and r.get("bg_cpu_pct") > BG_LIMIT]
        if noisy:
            self.flags.append(f"{workload}: other processes used {', '.join(f'{b}%' for b in noisy)} of the machine's "
                              f"CPU during {len(noisy)} of {len(rs)} runs (noisy measurement)")
        if s["unexpected"] or s["io"] or s["timed_out"]:
            self.flags.append(f"{workload}: {s['unexpected']} unexpected statuses (expected "
                              f"{s['expect'] or '2xx'}; seen {json.dumps(s['statuses'])}), {s['io']} I/O errors"
                              f"{', hit its deadline' if s['timed_out'] else ''}")
        if s["close"]:
            self.flags.append(f"{workload}: server sent `Connection: close` on {s['close']} responses "
                              f"(keep-alive broken: {s['reconnects']} reconnects)")
        return s

    def build(self):
        meta = (self.by("meta") or [{}])[-1]
        end = (self.by("meta_end") or [{}])[-1]
        mode = meta.get("mode", "?")
        self.w("# edhub benchmark results")
        self.w()
        self.w(f"Generated by `bench/run.sh` ({mode} mode) on {meta.get('date', '?')}. "
               f"Each throughput/latency figure is the **median of {meta.get('runs', '?')} runs** "
               "(every statistic — req/s, p50, p95, p99 — is the median of that statistic over the runs). "
               "Latencies in milliseconds. All traffic on 127.0.0.1; client and server share the same CPUs.")
        self.w()
        self.w("## Machine")
        self.w()
        self.w("| | |")
        self.w("|---|---|")
        for k, label in (("nproc", "nproc"), ("cpu", "CPU (/proc/cpuinfo)"), ("kernel", "kernel"), ("os", "OS"),
                         ("mem", "memory"), ("fs", "filesystem of the data dir"), ("date", "date (UTC)"),
                         ("git", "build (git)"), ("cc", "compiler"), ("libs", "libraries"), ("wrk", "wrk"),
                         ("sqlite_settings", "server SQLite settings (from the instance DB)"),
                         ("loadavg", "load average at start"), ("server_threads", "server threads (during run)")):
            if meta.get(k) not in (None, ""):
                self.w(f"| {label} | {meta[k]} |")
        if end.get("loadavg"):
            self.w(f"| load average at end | {end['loadavg']} |")
        self.w()

        w1 = self.wrk_summary("w1_get_root")
        w2 = self.wrk_summary("w2_ceiling_http")
        w4 = {c: self.wrk_summary(f"w4_ssa_post_c{c}", expect=201) for c in (16, 64)}
        w5 = self.wrk_summary("w5_get_by_id")
        w5c = self.wrk_summary("w5_ceiling_http")
        w7 = {b: self._sqlite(b) for b in (1, 100, "server_b100")}
        lat = {op: self.hc_summary(f"w3_{op}") for op in ("post", "get", "put", "delete")}
        pre_s = self.hc_summary("w4_precreate_students")

        # ---- summary table
        self.w("## Summary")
        self.w()
        self.w("| # | workload | result (median) | p50 / p95 / p99 ms | ratio to ceiling | errors |")
        self.w("|---|---|---|---|---|---|")

        def row(num, name, s, ceil=None, ceil_name="", unit="req/s", errs=None):
            if s is None:
                self.w(f"| {num} | {name} | not run / failed | | | see flags |")
                return
            lat_s = f"{fms(s['p50'])} / {fms(s['p95'])} / {fms(s['p99'])}" if s.get("p50") is not None else ""
            r = f"{ratio(s['rps'], ceil)} of {ceil_name}" if ceil else ""
            e = errs if errs is not None else s.get("bad", 0) + s.get("sockerr", 0)
            self.w(f"| {num} | {name} | {fnum(s['rps'])} {unit} | {lat_s} | {r} | {'**' + str(e) + '**' if e else 0} |")

        c_a = w2["rps"] if w2 else None
        c_b = w7[100]["rows_per_s"] if w7[100] else None
        row(1, "GET / (discovery), wrk -t2 -c64", w1, c_a, "ceiling A")
        row(2, "ceiling A: minimal libmicrohttpd server, same wrk", w2)
        for op in ("post", "get", "put", "delete"):
            s = lat[op]
            if s:
                e = s["unexpected"] + s["io"]
                self.w(f"| 3 | single client {op.upper()} students (1 connection, sequential) | {fnum(s['rps'])} req/s | "
                       f"{fms(s['p50'])} / {fms(s['p95'])} / {fms(s['p99'])} | | {'**' + str(e) + '**' if e else 0} |")
            else:
                self.w(f"| 3 | single client {op.upper()} | not run / failed | | | see flags |")
        for c in (16, 64):
            row(4, f"POST studentSchoolAssociations (new, with references), wrk -t2 -c{c}", w4[c], c_b,
                "ceiling B (100 rows/txn)")
        if w5c:
            row(5, "GET students/{id}, wrk -t2 -c64", w5, w5c["rps"], "ceiling A with the same client script")
            row("5c", "ceiling A with W5's client script (same Lua + ids; body = a student document)", w5c)
        else:
            row(5, "GET students/{id}, wrk -t2 -c64", w5, c_a, "ceiling A")
        deep = self._deep_summary()
        if deep:
            for line in deep["summary_rows"]:
                self.w(line)
        for b in (1, 100):
            s = w7[b]
            if s:
                self.w(f"| 7 | ceiling B: raw SQLite insert, {b} row(s)/txn (WAL, synchronous=FULL, 4 KiB pages) | "
                       f"{fnum(s['rows_per_s'])} rows/s | | | 0 |")
            else:
                self.w(f"| 7 | ceiling B {b} rows/txn | not run / failed | | | see flags |")
        if w7["server_b100"]:
            self.w(f"| 7s | ceiling B with edhub's table layout (doc + 3 indexes + identity + 2 refs per row), "
                   f"100 rows/txn | {fnum(w7['server_b100']['rows_per_s'])} rows/s | | | 0 |")
        self.w()

        # ---- ratios
        self.w("### Ratios to the same-run ceilings")
        self.w()
        self.w("| ratio | value |")
        self.w("|---|---|")
        for c in (16, 64):
            if w4[c]:
                self.w(f"| POST SSA throughput at {c} connections / ceiling B (100 rows/txn) | "
                       f"{ratio(w4[c]['rps'], c_b, 3)} ({fnum(w4[c]['rps'])} / {fnum(c_b)}) |")
                if w7[1]:
                    self.w(f"| POST SSA throughput at {c} connections / ceiling B (1 row/txn) | "
                           f"{ratio(w4[c]['rps'], w7[1]['rows_per_s'], 3)} ({fnum(w4[c]['rps'])} / "
                           f"{fnum(w7[1]['rows_per_s'])}) |")
        c_s = w7["server_b100"]["rows_per_s"] if w7["server_b100"] else None
        for c in (16, 64):
            if w4[c] and c_s:
                self.w(f"| POST SSA throughput at {c} connections / ceiling B with edhub's table layout (7s) | "
                       f"{ratio(w4[c]['rps'], c_s, 3)} ({fnum(w4[c]['rps'])} / {fnum(c_s)}) |")
        if w1:
            self.w(f"| GET / throughput / ceiling A | {ratio(w1['rps'], c_a, 3)} ({fnum(w1['rps'])} / {fnum(c_a)}) |")
        if w5:
            self.w(f"| GET-by-id throughput / ceiling A (W2: static request, discovery body) | "
                   f"{ratio(w5['rps'], c_a, 3)} ({fnum(w5['rps'])} / {fnum(c_a)}) |")
        if w5 and w5c:
            self.w(f"| GET-by-id throughput / ceiling A driven by the same wrk script (5c) | "
                   f"{ratio(w5['rps'], w5c['rps'], 3)} ({fnum(w5['rps'])} / {fnum(w5c['rps'])}) |")
        if deep:
            for line in deep["ratio_rows"]:
                self.w(line)
        self.w()

        # ---- flags
        checks = self.by("check")
        for c in checks:
            if c.get("ok") is False:
                self.flags.append(f"check `{c.get('name')}` failed: {c.get('detail')}")
        self.w("## Flags")
        self.w()
        if self.flags:
            self.w("**This run had errors or anomalies; treat the affected numbers with care:**")
            self.w()
            for f in dict.fromkeys(self.flags):
                self.w(f"- ⚠ {f}")
        else:
            self.w("None: every request got the expected status, no socket errors, keep-alive held.")
        self.w()

        # ---- details
        self.w("## Details per workload")
        self.w()
        self._detail_wrk("1. Transport floor: `GET /`", w1,
                         "Discovery document, no auth, no database. Measures the HTTP stack + router + "
                         "response building of edhub.")
        self._detail_wrk("2. Ceiling A: minimal libmicrohttpd server", w2,
                         "`bench/ceiling_http.c`: the daemon flags of `src/api/http.c` (`MHD_USE_EPOLL_INTERNAL_THREAD | "
                         "MHD_ALLOW_SUSPEND_RESUME`), thread pool of nproc, response queued on the 2nd handler "
                         "call; answers the same bytes as edhub's `GET /`. Runs alternate with W1's.")
        self.w("### 3. Single-client latency (students)")
        self.w()
        self.w("One keep-alive connection, requests strictly sequential (`bench/hclient.c`, raw sockets; the "
               "latency is from the first byte sent to the last byte received). Each run: warm-up requests "
               "not counted, then N timed requests per operation; POST creates new students, GET/PUT/DELETE "
               "use the ids from the POST `Location` headers.")
        self.w()
        self.w("| op | N per run | req/s | mean | p50 | p95 | p99 | max | server CPU µs/req | bytes written/req | "
               "statuses (per run) | reconnects |")
        self.w("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for op in ("post", "get", "put", "delete"):
            s = lat[op]
            if s:
                self.w(f"| {op.upper()} | {s['lat_n']} | {fnum(s['rps'])} | {fms(s['mean'])} | {fms(s['p50'])} | "
                       f"{fms(s['p95'])} | {fms(s['p99'])} | {fms(s['max'])} | {fnum(s['cpu_us'], 1)} | "
                       f"{fnum(s['wb_req'])} | {json.dumps(s['statuses'])} | {s['reconnects']} |")
        self.w()
        for op in ("post", "get", "put", "delete"):
            if lat[op]:
                self.w(f"- {op.upper()}: `{lat[op]['cmd']}`")
        self.w()
        pre = self.by("w4_precreate_students")
        self.w("### 4. Concurrent POST of studentSchoolAssociations")
        self.w()
        self.w("Each request is a new SSA (distinct student/entryDate, references a pre-created student and "
               "school 255901001), so every response should be `201`. Non-201 responses are counted by a "
               "wrk `response()` hook.")
        self.w()
        if pre:
            res = pre[-1].get("result") or {}
            ps = pre_s or {}
            self.w(f"Pre-creation of the referenced students (extra data point): {res.get('responses', '?')} "
                   f"student POSTs with {res.get('conns', '?')} connections in {fnum(res.get('elapsed_s'), 2)} s = "
                   f"**{fnum(res.get('rps'))} POST/s**, p50 {fms(res.get('p50_ms'))} ms, p99 "
                   f"{fms(res.get('p99_ms'))} ms, statuses {json.dumps(res.get('status'))}; server CPU "
                   f"{fnum(ps.get('cpu_us'), 1)} µs and {fnum(ps.get('wb_req'))} bytes written to storage per POST.")
            self.w(f"Command: `{pre[-1].get('cmd')}`")
            self.w()
        for c in (16, 64):
            self._detail_wrk(f"4.{1 if c == 16 else 2} {c} connections", w4[c], None, level=4)
        self._detail_wrk("5. GET by id (students)", w5,
                         "Ids collected from the `Location` headers of the student pre-creation POSTs; each "
                         "wrk thread cycles through its own slice (up to 20,000 ids).")
        self._detail_wrk("5c. Ceiling A driven by W5's client script", w5c,
                         "The same `wrk` command and Lua script as W5 (so the load generator does the same work "
                         "per request) against `ceiling_http` answering one real student document. The fair "
                         "denominator for W5 on a machine where wrk and the server share the CPUs.")
        if deep:
            for line in deep["detail"]:
                self.w(line)
        self.w("### 7. Ceiling B: raw SQLite insert")
        self.w()
        self.w("`bench/ceiling_sqlite.c`: fresh DB, `page_size=4096`, `journal_mode=WAL`, `synchronous=FULL`, "
               "table (id INTEGER PRIMARY KEY, key BLOB(16) with UNIQUE index, body TEXT = SSA-like JSON ~310 B), "
               "one prepared INSERT, `BEGIN IMMEDIATE … COMMIT` per batch; documents generated before timing.")
        self.w()
        self.w("7s uses the same program with `server` as the last argument: edhub's table layout from "
               "`src/store/store_sqlite.c` (documents row with a TEXT uuid under a UNIQUE index, resource and "
               "change_version indexes, one `identities` row and two `refs` rows with random 20-byte keys), i.e. "
               "the rows one SSA POST writes. Unlike the plain ceiling B this includes the cost of the layout's "
               "random-key B-tree inserts.")
        self.w()
        self.w("| variant | rows/txn | rows per run | rows/s (median) | all runs | CPU µs/row | bytes written/row | "
               "DB bytes |")
        self.w("|---|---|---|---|---|---|---|---|")
        for b in (1, 100, "server_b100"):
            s = w7[b]
            if s:
                name, bt = ("7s edhub layout", 100) if b == "server_b100" else ("7 doc + key", b)
                self.w(f"| {name} | {bt} | {s['rows']} | {fnum(s['rows_per_s'])} | "
                       f"{', '.join(fnum(x) for x in s['all'])} | {fnum(s['cpu'], 1)} | {fnum(s['wb'])} | "
                       f"{fnum(s['db_bytes'])} |")
        for b in (1, 100, "server_b100"):
            if w7[b]:
                self.w(f"- {b if b != 'server_b100' else 'edhub layout, 100'} row(s)/txn: `{w7[b]['cmd']}`")
        self.w()

        # ---- extras
        self.w("## Other data points")
        self.w()
        for r in self.by("extra"):
            self.w(f"- {r.get('name')}: {r.get('value')}")
        self.w()
        sizes = self.by("sizes")
        if sizes:
            self.w("## Instance files during the run")
            self.w()
            self.w("| after | database file | WAL file | free space on the filesystem |")
            self.w("|---|---|---|---|")
            for z in sizes:
                self.w(f"| {z.get('after')} | {fnum(z.get('db_bytes'))} B | {fnum(z.get('wal_bytes'))} B | "
                       f"{fnum(z.get('free_bytes')) + ' B' if z.get('free_bytes') is not None else ''} |")
            self.w()
        self.w("## Protocol checks")
        self.w()
        for c in checks:
            mark = "ok" if c.get("ok") else ("**FAILED**" if c.get("ok") is False else "info")
            self.w(f"- {mark}: {c.get('name')} — {c.get('detail')}")
        self.w()
        self.w("## Reproduce")
        self.w()
        self.w("```sh")
        self.w(f"{meta.get('invocation', 'make bench')}")
        self.w("```")
        self.w()
        self.w("Raw per-run records (JSON lines, one per measured run, including the exact commands): "
               "`bench/results.jsonl`.")
        return "\n".join(self.out) + "\n"

    def _sqlite(self, b):
        rs = self.by(f"w7_ceiling_sqlite_{b}" if isinstance(b, str) else f"w7_ceiling_sqlite_b{b}")
        runs = [r for r in rs if isinstance(r.get("result"), dict) and "rows_per_s" in r["result"]]
        if len(runs) < len(rs):
            self.flags.append(f"ceiling B {b} rows/txn: {len(rs) - len(runs)} failed run(s)")
        if not runs:
            return None
        return dict(rows_per_s=med([r["result"]["rows_per_s"] for r in runs]),
                    all=[r["result"]["rows_per_s"] for r in runs],
                    cpu=med([r["result"]["cpu_us_per_row"] for r in runs]),
                    rows=runs[0]["result"]["rows"], db_bytes=runs[0]["result"]["db_bytes"], cmd=runs[0].get("cmd"),
                    wb=med([r["result"].get("write_bytes_per_row") for r in runs]))

    def _detail_wrk(self, title, s, text, level=3):
        self.w(f"{'#' * level} {title}")
        self.w()
        if text:
            self.w(text)
            self.w()
        if not s:
            self.w("Not run or failed (see flags).")
            self.w()
            return
        bg = ", ".join(f"{b}%" if b is not None else "n/a" for b in s["bgs"])
        kt = ", ".join(f"{b}%" if b is not None else "n/a" for b in s["kts"])
        self.w(f"- req/s median **{fnum(s['rps'])}** (runs: {', '.join(fnum(x) for x in s['all_rps'])})")
        self.w(f"- share of all CPUs used during each run by other processes: {bg}; by kernel threads "
               f"(writeback, journal; includes flushing the server's own writes): {kt}; load average before "
               f"each run: {'; '.join(str(x) for x in s['loads'])}")
        self.w(f"- latency p50 {fms(s['p50'])} / p95 {fms(s['p95'])} / p99 {fms(s['p99'])} / max {fms(s['max'])} ms")
        if s.get("cpu_us") is not None:
            self.w(f"- server CPU per request (utime+stime of the server process / requests): "
                   f"{fnum(s['cpu_us'], 1)} µs")
        if s.get("wb_req") is not None:
            self.w(f"- server storage writes per request (/proc/PID/io write_bytes / requests): {fnum(s['wb_req'])} bytes")
        st = [x for x in s["statuses"] if x]
        if st:
            self.w(f"- statuses per run: {json.dumps(st)}")
        self.w(f"- errors: {s['bad']} bad statuses, {s['sockerr']} socket errors/timeouts")
        self.w(f"- command: `{s['cmd']}`")
        self.w()

    def _deep_summary(self):
        create = self.by("w6_create")
        pages = {k: self.hc_summary(f"w6_{k}") for k in ("offset_first", "offset_deep", "cursor_first",
                                                          "cursor_deep", "partitions")}
        info = (self.by("w6_info") or [{}])[-1]
        if not create and not any(pages.values()):
            return None
        out = dict(summary_rows=[], ratio_rows=[], detail=[])
        n = info.get("total")
        cres = (create[-1].get("result") or {}) if create else {}
        csum = self.hc_summary("w6_create") if create else None
        if cres:
            e = cres.get("unexpected", 0) + cres.get("io_errors", 0)
            out["summary_rows"].append(
                f"| 6 | create {fnum(cres.get('responses'))} students for deep paging, {cres.get('conns')} connections | "
                f"{fnum(cres.get('rps'))} POST/s ({fnum(cres.get('elapsed_s'), 1)} s) | {fms(cres.get('p50_ms'))} / "
                f"{fms(cres.get('p95_ms'))} / {fms(cres.get('p99_ms'))} | | {'**' + str(e) + '**' if e else 0} |")
        for meth in ("offset", "cursor"):
            f, d = pages[f"{meth}_first"], pages[f"{meth}_deep"]
            if f and d:
                out["summary_rows"].append(
                    f"| 6 | {meth} paging, 500/page: first page vs 80% depth of {fnum(n)} | "
                    f"p50 {fms(f['p50'])} → {fms(d['p50'])} ms | first {fms(f['p50'])} / {fms(f['p95'])} / "
                    f"{fms(f['p99'])}; deep {fms(d['p50'])} / {fms(d['p95'])} / {fms(d['p99'])} | "
                    f"deep/first p50 = **{ratio(d['p50'], f['p50'])}** | {f['unexpected'] + d['unexpected']} |")
                out["ratio_rows"].append(f"| {meth} paging: deep (80%) / first page p50 | {ratio(d['p50'], f['p50'])}"
                                         f" (p95: {ratio(d['p95'], f['p95'])}) |")
        det = out["detail"]
        det.append("### 6. Deep paging")
        det.append("")
        det.append(f"Resource `students` holding {fnum(n)} documents ({info.get('total_source', '')}). "
                   f"Offset paging: `offset=0&limit=500` vs `offset={info.get('deep_offset')}&limit=500`. "
                   "Cursor paging: `partitions?number=10`, then `pageToken=<token[0]>&pageSize=500` vs "
                   "`pageToken=<token[8]>&pageSize=500` (token 8 of 10 = start of the last 20%). "
                   "Sequential requests on one keep-alive connection after warm-up.")
        det.append("")
        if cres:
            det.append(f"Creation (extra data point): {fnum(cres.get('responses'))} POSTs in "
                       f"{fnum(cres.get('elapsed_s'), 1)} s = **{fnum(cres.get('rps'))} docs/s** "
                       f"with {cres.get('conns')} connections; statuses {json.dumps(cres.get('status'))}; "
                       f"server CPU {fnum((csum or {}).get('cpu_us'), 1)} µs and "
                       f"{fnum((csum or {}).get('wb_req'))} bytes written to storage per POST; "
                       f"command `{create[-1].get('cmd')}`.")
            det.append("")
        det.append("| request | samples/run | p50 | p95 | p99 | max | items on page | body bytes | statuses |")
        det.append("|---|---|---|---|---|---|---|---|---|")
        for k in ("offset_first", "offset_deep", "cursor_first", "cursor_deep", "partitions"):
            s = pages[k]
            if s:
                det.append(f"| {k.replace('_', ' ')} | {s['lat_n']} | {fms(s['p50'])} | {fms(s['p95'])} | "
                           f"{fms(s['p99'])} | {fms(s['max'])} | {info.get('items_' + k, '')} | {fnum(s['body'])} | "
                           f"{json.dumps(s['statuses'])} |")
        det.append("")
        for k in ("offset_first", "offset_deep", "cursor_first", "cursor_deep", "partitions"):
            if pages[k]:
                det.append(f"- {k}: `{pages[k]['cmd']}`")
        det.append("")
        for k in ("items_offset_first", "items_offset_deep", "items_cursor_first", "items_cursor_deep"):
            v = info.get(k)
            if v is not None and v != 500:
                self.flags.append(f"deep paging: {k.replace('items_', '')} page returned {v} items, expected 500")
        if info.get("next_page_token") is False:
            self.flags.append("cursor paging: `GET students?pageSize=500` did not return a Next-Page-Token header")
        return out


def cmd_report(args):
    recs = []
    with open(args[0], encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    pass
    md = Report(recs).build()
    with open(args[1], "w", encoding="utf-8") as f:
        f.write(md)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "freeport":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
    elif cmd == "wrkjson":
        cmd_wrkjson(args)
    elif cmd == "get":
        cmd_get(args)
    elif cmd == "quote":
        import urllib.parse
        print(urllib.parse.quote(args[0], safe=""))
    elif cmd == "count":
        cmd_count(args)
    elif cmd == "rec":
        cmd_rec(args)
    elif cmd == "report":
        cmd_report(args)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
