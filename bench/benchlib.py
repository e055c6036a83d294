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
  pgbenchjson FILE                 print pgbench's summary in FILE as JSON (tps, latency, failures)
  runload --timeout S --progress F --stdout F --result F [--expect N] -- CMD...
                                   run `edhub load` (CMD), timestamp every progress update it
                                   writes to stderr (F: epoch<TAB>text lines), stop it after S
                                   seconds (SIGTERM, SIGKILL 45 s later; SIGTERM to runload is
                                   forwarded), and write a JSON result: exit status, wall time,
                                   the child's CPU (wait4 rusage), records done and the rate curve
                                   (time at each 1% of the records, records/s per 10%)
  authzdata ssa PREFIX N SCHOOLS   TSV for hclient -i: student PREFIX<s>, school SCHOOLS[s % len]
                                   (comma-separated), s = 0..N-1 (the authz workloads' enrolments)
  authzdata events PREFIX N E SCHOOLS
                                   TSV: E attendance events, k = 0..E-1: student s = k % N, its
                                   school, date = school day k // N (weekdays from 2023-08-21)
  report RESULTS.jsonl OUT.md      write the Markdown report
"""
import json
import os
import re
import socket
import statistics
import sys
import time


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


def cmd_pgbenchjson(args):
    pats = {
        "clients": r"^number of clients: (\d+)",
        "threads": r"^number of threads: (\d+)",
        "duration_s": r"^duration: (\d+) s",
        "transactions": r"^number of transactions actually processed: (\d+)",
        "failed": r"^number of failed transactions: (\d+)",
        "latency_avg_ms": r"^latency average = ([0-9.]+) ms",
        "latency_stddev_ms": r"^latency stddev = ([0-9.]+) ms",
        "conn_ms": r"^initial connection time = ([0-9.]+) ms",
        "tps": r"^tps = ([0-9.]+)",
    }
    out = {}
    try:
        with open(args[0], encoding="utf-8", errors="replace") as f:
            txt = f.read()
    except OSError as e:
        print(json.dumps({"error": str(e)}))
        return
    for k, p in pats.items():
        m = re.search(p, txt, re.M)
        if m:
            out[k] = float(m.group(1)) if "." in m.group(1) else int(m.group(1))
    if "tps" not in out:
        out["error"] = "no tps line in pgbench output: " + txt.strip()[-300:]
    print(json.dumps(out))


PROGRESS_RE = re.compile(r"(\d+) lines, (\d+) created, (\d+) updated, (\d+) rejected")


def load_curve(points, t_start, base):
    """points: [(epoch, done)] increasing; returns the time (s from t_start) at which done reached
    each 1% of base (linear interpolation between progress updates) and records/s per 10%."""
    pts = [(t_start, 0)] + [p for p in points if p[1] > 0]
    pct_t = []
    j = 0
    for k in range(101):
        target = base * k / 100
        if k == 0:
            pct_t.append(0.0)
            continue
        while j < len(pts) and pts[j][1] < target:
            j += 1
        if j >= len(pts):
            pct_t.append(None)
            continue
        tb, db = pts[j]
        ta, da = pts[j - 1] if j > 0 else (t_start, 0)
        t = tb if db == da else ta + (target - da) * (tb - ta) / (db - da)
        pct_t.append(round(t - t_start, 3))
    deciles = []
    for d in range(1, 11):
        a, b = pct_t[(d - 1) * 10], pct_t[d * 10]
        rps = round(base / 10 / (b - a), 1) if a is not None and b is not None and b > a else None
        deciles.append({"pct": d * 10, "t_s": b, "rps": rps})
    return pct_t, deciles


def cmd_runload(args):
    import select
    import signal
    import subprocess
    opts = {"--timeout": "21600", "--progress": None, "--stdout": None, "--result": None, "--expect": "0"}
    i = 0
    while i < len(args) and args[i] != "--":
        opts[args[i]] = args[i + 1]
        i += 2
    cmd = args[i + 1:]
    timeout = float(opts["--timeout"])
    expect = int(opts["--expect"])
    state = {"term": False, "kill_at": None}
    res = {"cmd": cmd[0] if cmd else "", "expect": expect, "timed_out": False, "terminated": False}
    t_start = time.time()
    try:
        p = subprocess.Popen(cmd, stdout=open(opts["--stdout"], "wb"), stderr=subprocess.PIPE)
    except OSError as e:
        res["error"] = f"cannot start: {e}"
        with open(opts["--result"], "w") as f:
            json.dump(res, f)
        return

    def on_term(signum, frame):
        res["terminated"] = True
        try:
            p.send_signal(signal.SIGTERM)
        except OSError:
            pass
        if state["kill_at"] is None:
            state["kill_at"] = time.time() + 45

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    prog = open(opts["--progress"], "w")
    fd = p.stderr.fileno()
    buf = b""
    points = []
    deadline = t_start + timeout
    while True:
        now = time.time()
        if now > deadline and not res["timed_out"]:
            res["timed_out"] = True
            p.send_signal(signal.SIGTERM)
            state["kill_at"] = now + 45
        if state["kill_at"] is not None and now > state["kill_at"]:
            p.kill()
            state["kill_at"] = now + 3600  # once
        r, _, _ = select.select([fd], [], [], 1.0)
        if not r:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
        parts = re.split(rb"[\r\n]", buf)
        buf = parts.pop()
        now = time.time()
        for part in parts:
            txt = part.decode("utf-8", "replace").strip()
            if not txt:
                continue
            prog.write(f"{now:.3f}\t{txt}\n")
            m = PROGRESS_RE.search(txt)
            if m:
                points.append((now, int(m.group(2)) + int(m.group(3)) + int(m.group(4))))
    if buf.strip():
        prog.write(f"{time.time():.3f}\t{buf.decode('utf-8', 'replace').strip()}\n")
    prog.close()
    while True:  # stderr is closed; the child normally exits right away (bounded by the same deadline)
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        now = time.time()
        if now > deadline and not res["timed_out"]:
            res["timed_out"] = True
            p.send_signal(signal.SIGTERM)
            state["kill_at"] = now + 45
        if state["kill_at"] is not None and now > state["kill_at"]:
            p.kill()
        time.sleep(0.05)
    t_end = time.time()
    res.update(t_start=round(t_start, 3), t_end=round(t_end, 3), elapsed_s=round(t_end - t_start, 3),
               user_s=round(ru.ru_utime, 3), sys_s=round(ru.ru_stime, 3), maxrss_kb=ru.ru_maxrss,
               rc=os.waitstatus_to_exitcode(status), progress_updates=len(points))
    try:
        with open(opts["--stdout"], encoding="utf-8", errors="replace") as f:
            summary = f.read()
    except OSError:
        summary = ""
    m = re.search(r"(\d+) lines: (\d+) created, (\d+) updated, (\d+) rejected", summary)
    if m:
        res.update(lines=int(m.group(1)), created=int(m.group(2)), updated=int(m.group(3)), rejected=int(m.group(4)))
        res["done"] = res["created"] + res["updated"] + res["rejected"]
    else:
        res["done"] = points[-1][1] if points else 0
    done = res["done"]
    res["rps"] = round(done / res["elapsed_s"], 1) if res["elapsed_s"] > 0 else None
    if points:
        res["t_last_progress_s"] = round(points[-1][0] - t_start, 3)
        res["after_last_progress_s"] = round(t_end - points[-1][0], 3)
    base = expect if expect and done >= expect else done
    res["curve_base"] = base
    if base > 0 and points:
        res["pct_t"], res["deciles"] = load_curve(points, t_start, base)
    with open(opts["--result"], "w") as f:
        json.dump(res, f)


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
    if nd == 2 and abs(a / b) < 0.1:
        nd = 3  # small ratios (e.g. edhub / COPY) keep two significant digits
    return f"{a / b:.{nd}f}"


LABEL = {"sqlite": "SQLite", "pg": "PostgreSQL", "all": ""}


def fsec(x):
    if x is None:
        return "n/a"
    if x >= 3600:
        return f"{x / 3600:.2f} h"
    if x >= 120:
        return f"{x / 60:.1f} min"
    return f"{x:.1f} s"


def pct(x):
    return f"{x}%" if isinstance(x, (int, float)) else "n/a"


def fbytes(x):
    if not isinstance(x, (int, float)):
        return "n/a"
    for unit, f in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if x >= f:
            return f"{x / f:,.2f} {unit}"
    return f"{x:,.0f} B"


class Report:
    def __init__(self, recs):
        self.recs = recs
        self.flags = []
        self.out = []
        self.bk = None  # backend whose records by() returns (plus the backend-independent ones)
        meta = ([r for r in recs if r.get("workload") == "meta"] or [{}])[-1]
        bks = (meta.get("backends") or "").split()
        if not bks:  # records of an older harness: one SQLite backend
            bks = sorted({r.get("backend", "sqlite") for r in recs} - {"all"}) or ["sqlite"]
        self.backends = bks

    def by(self, workload):
        return [r for r in self.recs if r.get("workload") == workload and
                (self.bk is None or r.get("backend", "sqlite") in (self.bk, "all"))]

    def w(self, s=""):
        self.out.append(s)

    def _tag(self, rs):
        bks = {r.get("backend", "sqlite") for r in rs} - {"all"}
        return "".join(f"[{LABEL.get(b, b)}] " for b in sorted(bks))

    # wrk results: result has rps, p50_ms...; non2xx from statuses or err_status
    def wrk_summary(self, workload, expect=None):
        rs = self.by(workload)
        if not rs:
            return None
        tag = self._tag(rs)
        runs = []
        for r in rs:
            res = r.get("result") or {}
            if "rps" not in res:
                self.flags.append(f"{tag}{workload} run {r.get('run')}: no result ({res.get('error', 'wrk failed')})")
                continue
            st = res.get("statuses") or {}
            if expect and st:
                bad = res.get("requests", 0) - st.get(str(expect), 0)
            else:
                bad = res.get("err_status", 0)
            sockerr = sum(res.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
            cpu, dcpu = r.get("server_cpu_s"), r.get("db_cpu_s")
            n = res.get("requests")
            cpu_us = cpu * 1e6 / n if isinstance(cpu, (int, float)) and n else None
            db_us = dcpu * 1e6 / n if isinstance(dcpu, (int, float)) and n and dcpu > 0 else None
            wb = r.get("server_write_bytes")
            dwb = r.get("db_write_bytes")
            wb_req = wb / n if isinstance(wb, (int, float)) and n else None
            dwb_req = dwb / n if isinstance(dwb, (int, float)) and n and dwb > 0 else None
            wal = r.get("db_wal_bytes")
            wal_req = wal / n if isinstance(wal, (int, float)) and n else None
            runs.append(dict(bg=r.get("bg_cpu_pct"), kt=r.get("kthread_cpu_pct"), wb_req=wb_req, dwb_req=dwb_req,
                             wal_req=wal_req,
                             rps=res["rps"], p50=res.get("p50_ms"), p95=res.get("p95_ms"), p99=res.get("p99_ms"),
                             max=res.get("max_ms"), bad=bad, sockerr=sockerr, cpu_us=cpu_us, db_us=db_us,
                             requests=n, statuses=st, cmd=r.get("cmd"), load=r.get("loadavg")))
        if not runs:
            return None
        s = dict(n=len(runs), rps=med([x["rps"] for x in runs]), p50=med([x["p50"] for x in runs]),
                 p95=med([x["p95"] for x in runs]), p99=med([x["p99"] for x in runs]),
                 max=med([x["max"] for x in runs]), cpu_us=med([x["cpu_us"] for x in runs]),
                 db_us=med([x["db_us"] for x in runs]),
                 wb_req=med([x["wb_req"] for x in runs]), dwb_req=med([x["dwb_req"] for x in runs]),
                 wal_req=med([x["wal_req"] for x in runs]),
                 bad=sum(x["bad"] for x in runs), sockerr=sum(x["sockerr"] for x in runs),
                 all_rps=[x["rps"] for x in runs], loads=[x["load"] for x in runs], bgs=[x["bg"] for x in runs],
                 kts=[x["kt"] for x in runs],
                 cmd=runs[0]["cmd"], requests=sum(x["requests"] or 0 for x in runs),
                 statuses=[x["statuses"] for x in runs])
        noisy = [b for b in s["bgs"] if isinstance(b, (int, float)) and b > BG_LIMIT]
        if noisy:
            self.flags.append(f"{tag}{workload}: other processes used {', '.join(f'{b}%' for b in noisy)} of the "
                              f"machine's CPU during {len(noisy)} of {len(runs)} runs (noisy measurement)")
        if s["bad"] or s["sockerr"]:
            what = f"non-{expect}" if expect else "non-2xx/3xx (status > 399)"
            self.flags.append(f"{tag}{workload}: {s['bad']} {what} responses and {s['sockerr']} socket errors/timeouts "
                              f"over {s['requests']} requests")
        return s

    def hc_summary(self, workload):
        rs = self.by(workload)
        tag = self._tag(rs)
        runs = []
        for r in rs:
            res = r.get("result") or {}
            if "p50_ms" not in res:
                self.flags.append(f"{tag}{workload} run {r.get('run')}: no result ({res.get('error', 'hclient failed')})")
                continue
            n = res.get("responses") or 0
            cpu, wb, dcpu, dwb = r.get("server_cpu_s"), r.get("server_write_bytes"), r.get("db_cpu_s"), r.get("db_write_bytes")
            runs.append(res | {"cmd": r.get("cmd"),
                               "cpu_us": cpu * 1e6 / n if isinstance(cpu, (int, float)) and n else None,
                               "db_us": dcpu * 1e6 / n if isinstance(dcpu, (int, float)) and n and dcpu > 0 else None,
                               "wb_req": wb / n if isinstance(wb, (int, float)) and n else None,
                               "dwb_req": dwb / n if isinstance(dwb, (int, float)) and n and dwb > 0 else None,
                               "wal_req": r["db_wal_bytes"] / n if isinstance(r.get("db_wal_bytes"), (int, float)) and n
                               else None})
        if not runs:
            return None
        s = dict(n=len(runs), rps=med([x["rps"] for x in runs]), p50=med([x["p50_ms"] for x in runs]),
                 p95=med([x["p95_ms"] for x in runs]), p99=med([x["p99_ms"] for x in runs]),
                 max=med([x["max_ms"] for x in runs]), mean=med([x["mean_ms"] for x in runs]),
                 cpu_us=med([x["cpu_us"] for x in runs]), db_us=med([x["db_us"] for x in runs]),
                 wb_req=med([x["wb_req"] for x in runs]), dwb_req=med([x["dwb_req"] for x in runs]),
                 wal_req=med([x["wal_req"] for x in runs]),
                 unexpected=sum(x["unexpected"] for x in runs), io=sum(x["io_errors"] for x in runs),
                 reconnects=sum(x["reconnects"] for x in runs), close=sum(x["conn_close_hdr"] for x in runs),
                 timed_out=any(x.get("timed_out") for x in runs), cmd=runs[0]["cmd"],
                 statuses=[x.get("status") for x in runs], lat_n=runs[0].get("lat_n"),
                 body=med([x.get("body_bytes_avg") for x in runs]), elapsed=med([x.get("elapsed_s") for x in runs]),
                 min=med([x.get("min_ms") for x in runs]), all_rps=[x["rps"] for x in runs],
                 all_p50=[x["p50_ms"] for x in runs],
                 requested=runs[0].get("requested"), expect=runs[0].get("expect"))
        noisy = [r.get("bg_cpu_pct") for r in rs if isinstance(r.get("bg_cpu_pct"), (int, float))
                 and r.get("bg_cpu_pct") > BG_LIMIT]
        if noisy:
            self.flags.append(f"{tag}{workload}: other processes used {', '.join(f'{b}%' for b in noisy)} of the "
                              f"machine's CPU during {len(noisy)} of {len(rs)} runs (noisy measurement)")
        if s["unexpected"] or s["io"] or s["timed_out"]:
            self.flags.append(f"{tag}{workload}: {s['unexpected']} unexpected statuses (expected "
                              f"{s['expect'] or '2xx'}; seen {json.dumps(s['statuses'])}), {s['io']} I/O errors"
                              f"{', hit its deadline' if s['timed_out'] else ''}")
        if s["close"]:
            self.flags.append(f"{tag}{workload}: server sent `Connection: close` on {s['close']} responses "
                              f"(keep-alive broken: {s['reconnects']} reconnects)")
        return s

    def _pgbench(self, c):
        rs = self.by(f"w9_pgbench_c{c}")
        runs = []
        for r in rs:
            res = r.get("result") or {}
            if "tps" not in res:
                self.flags.append(f"PostgreSQL ceiling pgbench {c} clients run {r.get('run')}: "
                                  f"no result ({res.get('error', 'pgbench failed')})")
                continue
            n = res.get("transactions") or 0
            d = r.get("db_cpu_s")
            runs.append(dict(tps=res["tps"], lat=res.get("latency_avg_ms"), failed=res.get("failed", 0),
                             db_us=d * 1e6 / n if isinstance(d, (int, float)) and n else None,
                             wb=r["db_wal_bytes"] / n if isinstance(r.get("db_wal_bytes"), (int, float)) and n else None,
                             bg=r.get("bg_cpu_pct"), cmd=r.get("cmd"), n=n))
        if not runs:
            return None
        if any(x["failed"] for x in runs):
            self.flags.append(f"PostgreSQL ceiling pgbench {c} clients: {sum(x['failed'] for x in runs)} failed transactions")
        noisy = [x["bg"] for x in runs if isinstance(x["bg"], (int, float)) and x["bg"] > BG_LIMIT]
        if noisy:
            self.flags.append(f"w9_pgbench_c{c}: other processes used {', '.join(f'{b}%' for b in noisy)} of the "
                              f"machine's CPU during {len(noisy)} of {len(runs)} runs (noisy measurement)")
        return dict(tps=med([x["tps"] for x in runs]), all=[x["tps"] for x in runs], lat=med([x["lat"] for x in runs]),
                    db_us=med([x["db_us"] for x in runs]), wb=med([x["wb"] for x in runs]), cmd=runs[0]["cmd"],
                    n=runs[0]["n"])

    def _copy(self):
        rs = self.by("w9_copy")
        if not rs:
            return None
        r = rs[-1]
        rows, el = r.get("rows") or 0, r.get("elapsed_s")
        if r.get("rc") != 0 or not rows:
            self.flags.append(f"PostgreSQL ceiling COPY failed (exit {r.get('rc')}): {r.get('error', '')}")
            return None
        return dict(rows=rows, elapsed=el, rps=rows / el if el else None, cmd=r.get("cmd"),
                    table_bytes=r.get("table_bytes"), index_bytes=r.get("index_bytes"),
                    db_us=r["db_cpu_s"] * 1e6 / rows if isinstance(r.get("db_cpu_s"), (int, float)) else None,
                    wb=r["db_wal_bytes"] / rows if isinstance(r.get("db_wal_bytes"), (int, float)) else None,
                    ck=r.get("checkpoint_after_s"), bg=r.get("bg_cpu_pct"))

    def _load(self, wl):
        rs = self.by(wl)
        if not rs:
            return None
        r = rs[-1]
        res = r.get("result") or {}
        tag = self._tag(rs)
        if "elapsed_s" not in res:
            self.flags.append(f"{tag}{wl}: no result ({res.get('error', 'edhub load failed')})")
            return None
        done, n = res.get("done", 0), r.get("lines")
        if res.get("rc") != 0 or res.get("rejected") or r.get("errors_file_lines"):
            self.flags.append(f"{tag}{wl}: `edhub load` exit status {res.get('rc')}, {res.get('rejected', '?')} rejected "
                              f"lines; first error: {r.get('first_error') or r.get('summary')}")
        if res.get("timed_out") or res.get("terminated") or r.get("watchdog"):
            self.flags.append(f"{tag}{wl}: the load was stopped before the end "
                              f"({r.get('watchdog') or ('timed out' if res.get('timed_out') else 'terminated')}); "
                              f"{done} of {n} records")
        elif isinstance(n, int) and done < n:
            self.flags.append(f"{tag}{wl}: only {done} of {n} lines were processed")
        if isinstance(r.get("bg_cpu_pct"), (int, float)) and r["bg_cpu_pct"] > BG_LIMIT:
            self.flags.append(f"{tag}{wl}: other processes used {r['bg_cpu_pct']}% of the machine's CPU during the "
                              "load (noisy measurement)")
        cpu = (res.get("user_s") or 0) + (res.get("sys_s") or 0)
        return dict(res=res, rec=r, done=done, n=n, rps=res.get("rps"), elapsed=res.get("elapsed_s"),
                    cpu_us=cpu * 1e6 / done if done else None,
                    db_us=r["db_cpu_s"] * 1e6 / done if done and isinstance(r.get("db_cpu_s"), (int, float))
                    and r["db_cpu_s"] > 0 else None,
                    wal=r["db_wal_bytes"] / done if done and isinstance(r.get("db_wal_bytes"), (int, float)) else None,
                    deciles=res.get("deciles") or [], cmd=r.get("cmd"), bg=r.get("bg_cpu_pct"),
                    kt=r.get("kthread_cpu_pct"))

    def _sizes(self, after_prefix):
        for z in self.by("sizes"):
            if str(z.get("after", "")).startswith(after_prefix):
                return z
        return None

    def collect(self, bk):
        """every per-backend summary of backend bk"""
        self.bk = bk
        d = dict(
            lat={op: self.hc_summary(f"w3_{op}") for op in ("post", "get", "put", "delete")},
            pre=self.hc_summary("w4_precreate_students"),
            w4={c: self.wrk_summary(f"w4_ssa_post_c{c}", expect=201) for c in (16, 64)},
            w5=self.wrk_summary("w5_get_by_id"), w5c=self.wrk_summary("w5_ceiling_http"),
            deep=self._deep_summary(),
            load_pre=self._load("w8_load_prereq"), load_ev=self._load("w8_load_events"),
            size_before=self._sizes("W3-W5"), size_after=self._sizes("W8"))
        self.bk = None
        return d

    def build(self):
        meta = (self.by("meta") or [{}])[-1]
        end = (self.by("meta_end") or [{}])[-1]
        mpg = (self.by("meta_pg") or [{}])[-1]
        mode = meta.get("mode", "?")
        bks = self.backends
        self.w("# edhub benchmark results")
        self.w()
        self.w(f"Generated by `bench/run.sh` ({mode} mode) on {meta.get('date', '?')}, backends "
               f"{', '.join(LABEL.get(b, b) for b in bks)} measured one after the other in this run. "
               f"Each throughput/latency figure is the **median of {meta.get('runs', '?')} runs** "
               "(every statistic — req/s, p50, p95, p99 — is the median of that statistic over the runs); "
               "the bulk load and COPY run once. "
               "Latencies in milliseconds. All traffic on 127.0.0.1 (PostgreSQL: a unix socket); client, server "
               "and database server share the same CPUs.")
        self.w()
        self.w("## Machine")
        self.w()
        self.w("| | |")
        self.w("|---|---|")
        for k, label in (("nproc", "nproc"), ("cpu", "CPU (/proc/cpuinfo)"), ("kernel", "kernel"), ("os", "OS"),
                         ("mem", "memory"), ("fs", "filesystem of the data dir"), ("date", "date (UTC)"),
                         ("git", "build (git)"), ("cc", "compiler"), ("libs", "libraries"), ("wrk", "wrk"),
                         ("postgres", "PostgreSQL"),
                         ("sqlite_settings", "server SQLite settings (from the instance DB)"),
                         ("loadavg", "load average at start"), ("server_threads", "server threads (during run)")):
            if meta.get(k) not in (None, ""):
                self.w(f"| {label} | {meta[k]} |")
        if mpg.get("settings"):
            self.w(f"| PostgreSQL settings (scripts/pg-test-server.sh; the rest default) | {mpg['settings']} |")
        if meta.get("free_at_start"):
            self.w(f"| free space on the data filesystem at start | {fbytes(meta['free_at_start'])} |")
        if end.get("loadavg"):
            self.w(f"| load average at end | {end['loadavg']} |")
        self.w()

        # ---- everything computed before anything is printed (flags are collected on the way)
        # (records of a harness before BENCH_ONLY have no do_main: everything ran)
        do_main = str(meta.get("do_main", 1)) != "0"
        if do_main:
            w1 = self.wrk_summary("w1_get_root")
            w2 = self.wrk_summary("w2_ceiling_http")
            w7 = {b: self._sqlite(b) for b in (1, 100, "server_b100")}
            pgb = {c: self._pgbench(c) for c in (16, 64)}
            cp = self._copy()
            S = {bk: self.collect(bk) for bk in bks}
        else:
            w1 = w2 = cp = None
            w7 = {b: None for b in (1, 100, "server_b100")}
            pgb = {c: None for c in (16, 64)}
            S = {}
        gens = {r.get("name"): r for r in self.by("gen")}
        AZ = {bk: self.collect_authz(bk) for bk in bks}
        has_az = any(AZ[bk]["any"] for bk in bks)
        c_a = w2["rps"] if w2 else None
        c_b = w7[100]["rows_per_s"] if w7[100] else None
        c_b1 = w7[1]["rows_per_s"] if w7[1] else None
        c_s = w7["server_b100"]["rows_per_s"] if w7["server_b100"] else None
        checks = [c for c in self.recs if c.get("workload") == "check"]
        for c in checks:
            if c.get("ok") is False:
                self.flags.append(f"{self._tag([c])}check `{c.get('name')}` failed: {c.get('detail')}")
        for bk in bks:
            ran = [r for r in self.recs if r.get("backend") == bk]
            if not ran:
                self.flags.append(f"[{LABEL.get(bk, bk)}] no records: this backend did not run")

        if do_main:
            self._side_by_side(S, bks, w7, pgb, cp, c_a, c_b, c_b1, c_s, gens)
        else:
            self.w(f"Only the token and authorization workloads ran (`BENCH_ONLY={meta.get('only')}`).")
            self.w()
        if has_az:
            self._authz_section(AZ, bks, meta)

        # ---- flags
        self.w("## Flags")
        self.w()
        if self.flags:
            self.w("**This run had errors or anomalies; treat the affected numbers with care:**")
            self.w()
            for f in dict.fromkeys(self.flags):
                self.w(f"- ⚠ {f}")
        else:
            self.w("None: every request got the expected status, no socket errors, keep-alive held, every "
                   "bulk-loaded line was accepted.")
        self.w()

        # ---- per backend summary (the table of the single-backend report) + ratios
        for bk in bks if do_main else []:
            self._summary_table(bk, S[bk], w1, w2, w7, pgb, cp, c_a, c_b, c_b1, c_s)

        # ---- details
        if do_main:
            self._main_details(bks, S, w1, w2, w7, pgb, cp, gens)
        if has_az:
            self._authz_details(AZ, bks)

        # ---- extras
        self._tail(bks, checks, meta)
        return "\n".join(self.out) + "\n"

    def _main_details(self, bks, S, w1, w2, w7, pgb, cp, gens):
        self.w("## Details per workload")
        self.w()
        self._detail_wrk("1. Transport floor: `GET /`", w1,
                         "Discovery document, no auth, no database. Measures the HTTP stack + router + "
                         "response building of edhub. Backend-independent: measured once, with the first "
                         "backend's server.")
        self._detail_wrk("2. Ceiling A: minimal libmicrohttpd server", w2,
                         "`bench/ceiling_http.c`: the daemon flags of `src/api/http.c` (`MHD_USE_EPOLL_INTERNAL_THREAD | "
                         "MHD_ALLOW_SUSPEND_RESUME`), thread pool of nproc, response queued on the 2nd handler "
                         "call; answers the same bytes as edhub's `GET /`. Runs alternate with W1's.")
        for bk in bks:
            self._details_backend(bk, S[bk])
        self._details_ceilings(w7, pgb, cp, gens)

    def _tail(self, bks, checks, meta):
        self.w("## Other data points")
        self.w()
        for bk in [None] + bks:
            rs = [r for r in self.recs if r.get("workload") == "extra" and
                  (r.get("backend", "sqlite") == (bk or "all"))]
            if not rs:
                continue
            self.w(f"### {LABEL.get(bk, bk) if bk else 'Whole run'}")
            self.w()
            for r in rs:
                self.w(f"- {r.get('name')}: {r.get('value')}")
            self.w()
        sizes = [r for r in self.recs if r.get("workload") == "sizes"]
        if sizes:
            self.w("## Instance files during the run")
            self.w()
            self.w("SQLite: the database file and its `-wal` file. PostgreSQL: `pg_database_size` of the instance "
                   "database and the size of `pg_wal` (the whole server's WAL).")
            self.w()
            self.w("| backend | after | database | WAL | free space on the filesystem |")
            self.w("|---|---|---|---|---|")
            for z in sizes:
                self.w(f"| {LABEL.get(z.get('backend', 'sqlite'), z.get('backend'))} | {z.get('after')} | "
                       f"{fnum(z.get('db_bytes'))} B | {fnum(z.get('wal_bytes'))} B | "
                       f"{fnum(z.get('free_bytes')) + ' B' if z.get('free_bytes') is not None else ''} |")
            self.w()
        self.w("## Protocol checks")
        self.w()
        for c in checks:
            mark = "ok" if c.get("ok") else ("**FAILED**" if c.get("ok") is False else "info")
            self.w(f"- {mark}: {self._tag([c])}{c.get('name')} — {c.get('detail')}")
        self.w()
        self.w("## Reproduce")
        self.w()
        self.w("```sh")
        self.w(f"{meta.get('invocation', 'make bench')}")
        self.w("```")
        self.w()
        self.w("Raw per-run records (JSON lines, one per measured run, including the exact commands): "
               "`bench/results.jsonl`.")

    # ------------------------------------------------------------ A1-A3: tokens and authorization
    AZ_READS = (("events", "`GET studentSchoolAttendanceEvents?limit=100`"),
                ("events_count", "`GET studentSchoolAttendanceEvents?limit=100&totalCount=true`"),
                ("students", "`GET students?limit=100`"))
    AZ_WRITES = (("ssa", "POST studentSchoolAssociations (new; checked: school)"),
                 ("att", "POST studentSchoolAttendanceEvents (new; checked: school and student)"))
    AZ_WHO = {"full": "full access", "sis1": "SIS Vendor, LEA 255901", "sis2": "SIS Vendor, LEA 255902"}

    def collect_authz(self, bk):
        self.bk = bk
        d = dict(tok=self.hc_summary("a1_token_cached"), first=self.hc_summary("a1_token_first"),
                 again=self.hc_summary("a1_token_again"), par=self.hc_summary("a1_token_first_par"),
                 w={(wl, who): self.wrk_summary(f"a2_{wl}_{who}", expect=201)
                    for wl, _ in self.AZ_WRITES for who in ("full", "sis")},
                 r={(ph, u, who): self.hc_summary(f"a3_{ph}_{u}_{who}")
                    for ph in "ab" for u, _ in self.AZ_READS for who in self.AZ_WHO},
                 info={r.get("phase"): r for r in self.by("a3_info")},
                 setup={(ph, n): self.hc_summary(f"az_setup_{ph}_{n}")
                        for ph in "ab" for n in ("students", "ssa", "events")},
                 a=(self.by("a_info") or [{}])[-1])
        self.bk = None
        d["any"] = bool(d["tok"] or d["first"] or any(d["w"].values()) or any(d["r"].values()))
        return d

    @staticmethod
    def _cost(r):
        """throughput ratio SIS/full as the cost in % (positive = slower)"""
        return None if r is None else round((1 - r) * 100, 1)

    def _authz_section(self, AZ, bks, meta):
        L = [bk for bk in bks if AZ[bk]["any"]]
        a = next((AZ[bk]["a"] for bk in L if AZ[bk]["a"]), {})
        nstu, nev, fac = a.get("students"), a.get("events"), a.get("other_factor")
        self.w("## Tokens and record-level authorization (A1–A3, same run)")
        self.w()
        self.w("A second instance per backend, served with "
               f"`{a.get('serve', 'edhub serve --tokens-per-client 0')}`. Clients: the full-access client of "
               "`edhub init` (claim set \"edhub Full Access\", NoFurtherAuthorizationRequired) and **SIS Vendor** "
               f"clients made while the server runs (`{a.get('clients', 'edhub clients create')}`; LEA 255901 = "
               "Grand Bend, schools 255901001/255901044/255901107, ESC 255950). Data: "
               f"{fnum(nstu)} students of LEA 255901, each enrolled (StudentSchoolAssociation) at one of its 3 "
               f"schools, {fnum(nev)} attendance events of theirs (sessions `Bench AZ 2023-2024`), created "
               "through the API with the full-access client (hclient, 32 connections; rates in the details). "
               "Medians of the runs; the variants being compared run alternately within each run.")
        self.w()

        def col(fn):
            return " | ".join(fn(AZ[bk]) for bk in L)

        hdr = "| measurement | " + " | ".join(LABEL[bk] for bk in L) + " |"
        sep = "|---|" + "---|" * len(L)
        # ---- A1
        self.w("### A1. Token issuance (`POST /oauth/token`, client_credentials, Basic auth)")
        self.w()
        t0 = next((AZ[bk]["tok"] for bk in L if AZ[bk]["tok"]), None)
        f0 = next((AZ[bk]["first"] for bk in L if AZ[bk]["first"]), None)
        p0 = next((AZ[bk]["par"] for bk in L if AZ[bk]["par"]), None)
        self.w("A verified (key, secret) is cached for 15 minutes; the first verification of a secret costs one "
               "PBKDF2-HMAC-SHA256 ×600,000. Cached: one client, "
               f"{fnum(t0['requested']) if t0 else '?'} requests per run at {a.get('conns', '?')} "
               "connections (hclient: a fixed count, because the server keeps at most 100,000 live tokens and "
               "then answers 429; the server is restarted before each run so its token table starts empty, and "
               "one token request verifies the secret first). Uncached: the first token of "
               f"{f0['requested'] if f0 else '?'} fresh clients (made just before with `edhub clients create`), "
               "one after the other on one connection, then the same clients again (now cached), then "
               f"another {p0['requested'] if p0 else '?'} fresh clients all at once.")
        self.w()
        self.w(hdr)
        self.w(sep)

        def g(x, k, f=fms):
            return f(x[k]) if x and x.get(k) is not None else "n/a"

        self.w("| cached issuance, tokens/s | " + col(lambda x: g(x["tok"], "rps", fnum)) + " |")
        self.w("| cached issuance p50 / p99 ms | " + col(lambda x: f"{g(x['tok'], 'p50')} / {g(x['tok'], 'p99')}") + " |")
        self.w("| cached issuance, server CPU µs per token | " + col(lambda x: g(x["tok"], "cpu_us", lambda v: fnum(v, 1)))
               + " |")
        self.w("| **first token of a fresh client (uncached), ms per verification**: p50 (min – max) | "
               + col(lambda x: f"**{g(x['first'], 'p50')}** ({g(x['first'], 'min')} – {g(x['first'], 'max')})") + " |")
        self.w("| uncached, server CPU ms per verification | "
               + col(lambda x: fnum(x["first"]["cpu_us"] / 1000, 1) if x["first"] and x["first"].get("cpu_us") else "n/a")
               + " |")
        self.w("| the same clients' second token (cached), sequential, p50 ms | " + col(lambda x: g(x["again"], "p50")) + " |")
        self.w("| first tokens of fresh clients all at once: verifications/s; p50 / max ms | "
               + col(lambda x: f"{g(x['par'], 'rps', lambda v: fnum(v, 1))}; {g(x['par'], 'p50')} / {g(x['par'], 'max')}")
               + " |")
        self.w()
        # ---- A2
        self.w("### A2. Cost of authorization on writes")
        self.w()
        self.w("The same `wrk` command and script, once with the full-access token and once with the SIS Vendor "
               "token of LEA 255901 (runs alternate; every request is a new document, so every response should be "
               "201). SSAs go to school 255901001 (checked on the school only). Attendance events reference a "
               "student enrolled at the event's school and that school's session (R-EOP: school and student "
               "checked, inside the write transaction). Target of the issue: at most 20% throughput cost.")
        self.w()
        self.w("| workload | backend | full access req/s (p50 / p99 ms) | SIS Vendor req/s (p50 / p99 ms) | "
               "SIS ÷ full | throughput cost | server CPU µs/req full → SIS | ≤ 20%? |")
        self.w("|---|---|---|---|---|---|---|---|")
        for wl, name in self.AZ_WRITES:
            for bk in L:
                f, v = AZ[bk]["w"][(wl, "full")], AZ[bk]["w"][(wl, "sis")]
                if not (f or v):
                    continue
                r = v["rps"] / f["rps"] if f and v and f["rps"] else None
                cost = self._cost(r)
                cpu = (lambda x: ((x.get("cpu_us") or 0) + (x.get("db_us") or 0)) if x and x.get("cpu_us") is not None
                       else None)
                ok = "n/a" if cost is None else ("yes" if cost <= 20 else "**no**")
                self.w(f"| {name} | {LABEL[bk]} | {g(f, 'rps', fnum)} ({g(f, 'p50')} / {g(f, 'p99')}) | "
                       f"{g(v, 'rps', fnum)} ({g(v, 'p50')} / {g(v, 'p99')}) | "
                       f"{'n/a' if r is None else f'{r:.3f}'} | {'n/a' if cost is None else f'{cost}%'} | "
                       f"{fnum(cpu(f), 1)} → {fnum(cpu(v), 1)} | {ok} |")
        self.w()
        if "pg" in L:
            self.w("PostgreSQL: server CPU = edhub + PostgreSQL server processes.")
            self.w()
        # ---- A3
        self.w("### A3. Cost of authorization on list reads")
        self.w()
        self.w("One keep-alive connection, sequential requests (hclient; warm-up not counted; a slow request gets "
               "fewer samples, see the details). The SIS Vendor filter is part of the list query (SQL). "
               "**Phase a**: the instance holds only LEA 255901's data, so both clients see the same rows. "
               f"**Phase b**: LEA 255902 (under ESC 255950) with one school gets {fac if fac is not None else '?'}× as many "
               "students, enrolments and attendance events, created after LEA 255901's: the LEA 255901 client "
               "then sees a fraction of the rows (the oldest ones), and a SIS Vendor client of LEA 255902 sees the "
               "newest ones (its first page lies behind LEA 255901's rows in the scan order).")
        self.w()
        for ph in "ab":
            whos = ["full", "sis1"] + (["sis2"] if ph == "b" else [])
            if not any(AZ[bk]["r"][(ph, u, w)] for bk in L for u, _ in self.AZ_READS for w in whos):
                continue
            self.w(f"Phase {ph}" + (" (only LEA 255901's data)" if ph == "a" else " (LEA 255902's data added)") + ":")
            self.w()
            head = "| request | backend | rows seen: " + " / ".join(self.AZ_WHO[w] for w in whos) + " | full access p50 (p99) ms |"
            sep2 = "|---|---|---|---|"
            for w in whos[1:]:
                head += f" {self.AZ_WHO[w]} p50 (p99) ms | ÷ full (p50) |"
                sep2 += "---|---|"
            self.w(head)
            self.w(sep2)
            for u, name in self.AZ_READS:
                res = "students" if u == "students" else "studentSchoolAttendanceEvents"
                for bk in L:
                    x = AZ[bk]
                    if not any(x["r"][(ph, u, w)] for w in whos):
                        continue
                    info = x["info"].get(ph) or {}
                    seen = " / ".join(fnum(info.get(f"total_{res}_{w}")) for w in whos)
                    fs = x["r"][(ph, u, "full")]
                    row = f"| {name} | {LABEL[bk]} | {seen} | {g(fs, 'p50')} ({g(fs, 'p99')}) |"
                    for w in whos[1:]:
                        vs = x["r"][(ph, u, w)]
                        row += f" {g(vs, 'p50')} ({g(vs, 'p99')}) | {ratio(vs['p50'] if vs else None, fs['p50'] if fs else None)} |"
                    self.w(row)
            self.w()

    def _authz_details(self, AZ, bks):
        self.w("## Details: tokens and authorization")
        self.w()
        for bk in bks:
            x = AZ[bk]
            if not x["any"]:
                continue
            L = LABEL[bk]
            self.w(f"### A. {L}")
            self.w()
            setup = [(k, v) for k, v in x["setup"].items() if v]
            if setup:
                self.w("Setup (full-access client, hclient 32 connections; not a measurement of authorization): "
                       + "; ".join(f"phase {ph} {n}: {fnum(v['requested'])} POSTs, {fnum(v['rps'])}/s, p99 "
                                   f"{fms(v['p99'])} ms" for (ph, n), v in setup) + ".")
                self.w()
            self.w("Server CPU per request comes from the process's utime+stime (10 ms ticks), so it is coarse "
                   "for the short A1 and A3 runs.")
            self.w()
            self.w("| workload | runs | result per run | p50 / p95 / p99 / max ms | server CPU µs/req"
                   + (" (+ PostgreSQL)" if bk == "pg" else "") + " | statuses | other processes' CPU |")
            self.w("|---|---|---|---|---|---|---|")
            rows = [("A1 cached issuance", x["tok"], "tokens/s"), ("A1 first token, fresh clients, sequential", x["first"], "req/s"),
                    ("A1 second token, same clients", x["again"], "req/s"),
                    ("A1 first tokens, fresh clients at once", x["par"], "req/s")]
            for wl, name in self.AZ_WRITES:
                for who in ("full", "sis"):
                    rows.append((f"A2 {name.split(' (')[0]}, {'full access' if who == 'full' else 'SIS Vendor'}",
                                 x["w"][(wl, who)], "req/s"))
            for ph in "ab":
                for u, name in self.AZ_READS:
                    for who in self.AZ_WHO:
                        rows.append((f"A3 phase {ph}: {name}, {self.AZ_WHO[who]}", x["r"][(ph, u, who)], "req/s"))
            for name, sm, unit in rows:
                if not sm:
                    continue
                cpu = fnum(sm.get("cpu_us"), 1) + (f" + {fnum(sm.get('db_us'), 1)}" if sm.get("db_us") is not None else "")
                bgs = sm.get("bgs")
                self.w(f"| {name} | {sm['n']} | {', '.join(fnum(v) for v in sm['all_rps'])} {unit} | "
                       f"{fms(sm['p50'])} / {fms(sm['p95'])} / {fms(sm['p99'])} / {fms(sm['max'])} | {cpu} | "
                       f"{json.dumps(sm['statuses'])} | {', '.join(pct(b) for b in bgs) if bgs else ''} |")
            self.w()
            for ph in "ab":
                info = x["info"].get(ph)
                if info:
                    firsts = ", ".join(f"{k[8:]} {info[k]} s (k={info.get('k_' + k[8:])})" for k in sorted(info)
                                       if k.startswith("first_s_"))
                    self.w(f"- A3 phase {ph}: first request per URL and client (sizes the samples to "
                           f"{info.get('budget_s')} s per measurement and run): {firsts}")
            self.w()
            self.w("Commands:")
            self.w()
            for name, sm, _ in rows:
                if sm:
                    self.w(f"- {name}: `{sm['cmd']}`")
            self.w()

    # ------------------------------------------------------------ side by side
    def _side_by_side(self, S, bks, w7, pgb, cp, c_a, c_b, c_b1, c_s, gens):
        sq, pg = S.get("sqlite"), S.get("pg")

        def cell(v, fmt=fnum):
            return "—" if v is None else fmt(v)

        def g(d, *path):
            for p in path:
                if d is None:
                    return None
                d = d.get(p) if isinstance(d, dict) else None
            return d

        self.w("## SQLite vs PostgreSQL (same run)")
        self.w()
        self.w("Medians; req/s unless noted. PG ceiling = what PostgreSQL itself does in this run on the same "
               "machine and disk (W9: `pgbench` single-row INSERTs at the same number of clients; `COPY` of the "
               "same attendance events into a plain table). The SQLite ceilings (W7) are in the ratio column. "
               "CPU µs per request = edhub + PostgreSQL server processes.")
        self.w()
        self.w("| workload | SQLite | PostgreSQL | PG ceiling | SQLite ÷ its ceiling | PostgreSQL ÷ PG ceiling |")
        self.w("|---|---|---|---|---|---|")

        def ratio_s(v, ceil, name):
            if v is None or not ceil:
                return "—"
            return f"{ratio(v, ceil)} of {name}"

        for c in (16, 64):
            a, b = g(sq, "w4", c), g(pg, "w4", c)
            pc = pgb[c]["tps"] if pgb[c] else None
            self.w(f"| POST studentSchoolAssociations (new), {c} connections | "
                   f"{cell(g(a, 'rps'))} (p99 {fms(g(a, 'p99'))} ms) | {cell(g(b, 'rps'))} (p99 {fms(g(b, 'p99'))} ms) | "
                   f"{cell(pc)} tx/s (pgbench, {c} clients, 1 INSERT/tx) | "
                   f"{ratio_s(g(a, 'rps'), c_b1, 'B (1 row/txn)')}; {ratio_s(g(a, 'rps'), c_s, '7s')} | "
                   f"{ratio_s(g(b, 'rps'), pc, f'pgbench c{c}')} |")
        for c in (16, 64):
            a, b = g(sq, "w4", c), g(pg, "w4", c)
            ua = (g(a, "cpu_us") or 0) + (g(a, "db_us") or 0) if a else None
            ub = (g(b, "cpu_us") or 0) + (g(b, "db_us") or 0) if b else None
            self.w(f"| CPU µs per SSA POST at {c} connections (edhub + PostgreSQL) | {cell(ua, lambda x: fnum(x, 1))} | "
                   f"{cell(ub, lambda x: fnum(x, 1))}{' (' + fnum(g(b, 'cpu_us'), 1) + ' + ' + fnum(g(b, 'db_us'), 1) + ')' if b else ''} | "
                   f"{cell(pgb[c]['db_us'] if pgb[c] else None, lambda x: fnum(x, 1))} (PostgreSQL per INSERT) | | |")
        a, b = g(sq, "pre"), g(pg, "pre")
        self.w(f"| POST students (pre-creation, 32 connections, hclient) | {cell(g(a, 'rps'))} | {cell(g(b, 'rps'))} | — | | |")
        for op in ("post", "get", "put", "delete"):
            a, b = g(sq, "lat", op), g(pg, "lat", op)
            self.w(f"| single client {op.upper()} students, p50 / p99 ms | {fms(g(a, 'p50'))} / {fms(g(a, 'p99'))} | "
                   f"{fms(g(b, 'p50'))} / {fms(g(b, 'p99'))} | — | | |")
        a, b = g(sq, "w5"), g(pg, "w5")
        ac, bc = g(sq, "w5c", "rps"), g(pg, "w5c", "rps")
        self.w(f"| GET students/{{id}}, 64 connections | {cell(g(a, 'rps'))} | {cell(g(b, 'rps'))} | — "
               f"(HTTP ceiling A, same client: {cell(ac)} / {cell(bc)}) | {ratio_s(g(a, 'rps'), ac, 'ceiling A (5c)')} | "
               f"{ratio_s(g(b, 'rps'), bc, 'ceiling A (5c)')} |")
        for meth in ("offset", "cursor"):
            fa, da = g(sq, "deep", "pages", f"{meth}_first"), g(sq, "deep", "pages", f"{meth}_deep")
            fb, db = g(pg, "deep", "pages", f"{meth}_first"), g(pg, "deep", "pages", f"{meth}_deep")
            n = g(sq, "deep", "info", "total") or g(pg, "deep", "info", "total")
            ps = g(sq, "deep", "info", "page_size") or g(pg, "deep", "info", "page_size")
            self.w(f"| {meth} paging, {ps}/page: p50 ms first page → 80% depth of {fnum(n)} attendance events "
                   f"(deep/first) | {fms(g(fa, 'p50'))} → {fms(g(da, 'p50'))} ({ratio(g(da, 'p50'), g(fa, 'p50'))}) | "
                   f"{fms(g(fb, 'p50'))} → {fms(g(db, 'p50'))} ({ratio(g(db, 'p50'), g(fb, 'p50'))}) | — | | |")
        a, b = g(sq, "deep", "pages", "partitions"), g(pg, "deep", "pages", "partitions")
        if a or b:
            self.w(f"| `partitions?number=10` p50 ms | {fms(g(a, 'p50'))} | {fms(g(b, 'p50'))} | — | | |")
        a, b = g(sq, "load_pre"), g(pg, "load_pre")
        self.w(f"| bulk load of the prerequisites ({fnum(g(a, 'n') or g(b, 'n'))} students + 1 session), records/s | "
               f"{cell(g(a, 'rps'))} | {cell(g(b, 'rps'))} | — | | |")
        a, b = g(sq, "load_ev"), g(pg, "load_ev")
        crps = cp["rps"] if cp else None
        self.w(f"| **bulk load of {fnum(g(a, 'n') or g(b, 'n'))} attendance events** (`edhub load`), records/s | "
               f"**{cell(g(a, 'rps'))}** ({fsec(g(a, 'elapsed'))}) | **{cell(g(b, 'rps'))}** ({fsec(g(b, 'elapsed'))}) | "
               f"{cell(crps)} rows/s (COPY, {fsec(cp['elapsed']) if cp else 'n/a'}) | "
               f"{ratio_s(g(a, 'rps'), c_s, '7s')}; {ratio_s(g(a, 'rps'), c_b, 'B (100 rows/txn)')} | "
               f"{ratio_s(g(b, 'rps'), crps, 'COPY')} |")
        da = [d.get("rps") for d in g(a, "deciles") or []]
        db_ = [d.get("rps") for d in g(b, "deciles") or []]

        def minmax(v):
            # the 1st tenth includes start-up, the last ends with the final commit burst: use tenths 2..9
            if len(v) < 9 or not isinstance(v[1], (int, float)) or not isinstance(v[8], (int, float)):
                return "n/a"
            m = [x for x in v[1:9] if isinstance(x, (int, float))]
            return f"{fnum(min(m))} – {fnum(max(m))}; 80–90% / 10–20% = {ratio(v[8], v[1])}"

        self.w(f"| bulk load: slowest – fastest tenth (2nd to 9th) of the load, records/s; decay ratio | {minmax(da)} | "
               f"{minmax(db_)} | — | | |")
        ua = (g(a, "cpu_us") or 0) + (g(a, "db_us") or 0) if a else None
        ub = (g(b, "cpu_us") or 0) + (g(b, "db_us") or 0) if b else None
        self.w(f"| bulk load: CPU µs per record (edhub load + PostgreSQL) | {cell(ua, lambda x: fnum(x, 1))} | "
               f"{cell(ub, lambda x: fnum(x, 1))}{' (' + fnum(g(b, 'cpu_us'), 1) + ' + ' + fnum(g(b, 'db_us'), 1) + ')' if b else ''} | "
               f"{cell(cp['db_us'] if cp else None, lambda x: fnum(x, 1))} (COPY) | | |")

        def per_rec(x):
            if not x:
                return None
            z0, z1 = self._bk_size(x, "W3-W5"), self._bk_size(x, "W8")
            if not z1 or not x.get("done"):
                return None
            return (z1 - (z0 or 0)) / x["done"]

        sa, sb = per_rec(a), per_rec(b)
        cps = (cp["table_bytes"] + cp["index_bytes"]) / cp["rows"] if cp and isinstance(cp.get("table_bytes"), int) \
            and isinstance(cp.get("index_bytes"), int) else None
        self.w(f"| database growth per loaded event, bytes | {cell(sa)} | {cell(sb)} | {cell(cps)} (COPY table + "
               "primary key) | | |")
        self.w()
        ge = gens.get("events")
        if ge:
            lr = [x for x in (g(a, "rps"), g(b, "rps")) if x]
            self.w(f"Bulk-load input: generated to a file **before** timing (`bench/gen_attendance.c`, "
                   f"{fnum(ge.get('lines'))} lines, {fbytes(ge.get('bytes'))}, in {fnum(ge.get('elapsed_s'), 1)} s = "
                   f"{fnum(ge['lines'] / ge['elapsed_s'] if ge.get('elapsed_s') else None)} lines/s"
                   + (f", {ratio(ge['lines'] / ge['elapsed_s'], max(lr), 0)}× the fastest load rate" if lr and ge.get('elapsed_s') else "")
                   + "), so the load rate is the loader's alone. Prerequisites (students + session) are loaded "
                   "first from their own file. The server is stopped during the load.")
            self.w()

        # ---- load curve
        if any(g(S.get(bk), "load_ev", "deciles") for bk in bks):
            self.w("### Bulk-load rate per 10% of the load")
            self.w()
            self.w("Records/s within each tenth of the attendance-event load, from the loader's progress output "
                   "(`created+updated+rejected`, printed about once a second, timestamped on arrival; linear "
                   "interpolation between updates; — = this tenth finished between two updates that arrived together, "
                   "the counter advances per committed batch). A rate that falls from left to right is decay as the database "
                   "grows (issue 6 asks for none once the database outgrows the page cache; this machine has "
                   f"{(self.by('meta') or [{}])[-1].get('mem', '?')} of RAM). The last tenth ends at the last "
                   "progress update; closing the store afterwards is in the total time only.")
            self.w()
            hdr = "| part of the load |" + "".join(f" {LABEL[bk]} records/s | {LABEL[bk]} time at end |" for bk in bks)
            self.w(hdr)
            self.w("|---|" + "---|---|" * len(bks))
            for i in range(10):
                row = f"| {i * 10}–{(i + 1) * 10}% |"
                for bk in bks:
                    d = g(S.get(bk), "load_ev", "deciles") or []
                    d = d[i] if i < len(d) else {}
                    row += f" {cell(d.get('rps'))} | {fsec(d.get('t_s')) if d.get('t_s') is not None else 'n/a'} |"
                self.w(row)
            row = "| total (process wall time, incl. start-up and store close) |"
            for bk in bks:
                x = g(S.get(bk), "load_ev")
                row += (f" {cell(g(x, 'rps'))} | {fsec(g(x, 'elapsed'))} |" if x else " n/a | n/a |")
            self.w(row)
            self.w()

        # ---- ratios
        self.w("### Ratios to the same-run ceilings")
        self.w()
        self.w("| backend | ratio | value |")
        self.w("|---|---|---|")
        for bk in bks:
            x = S[bk]
            L = LABEL[bk]

            def row(what, v, ceiling):
                if v is not None and ceiling:
                    self.w(f"| {L} | {what} | {ratio(v, ceiling, 3)} ({fnum(v)} / {fnum(ceiling)}) |")

            for c in (16, 64):
                v = g(x, "w4", c, "rps")
                if bk == "sqlite":
                    row(f"POST SSA at {c} connections / ceiling B (100 rows/txn)", v, c_b)
                    row(f"POST SSA at {c} connections / ceiling B (1 row/txn)", v, c_b1)
                    row(f"POST SSA at {c} connections / ceiling B with edhub's table layout (7s)", v, c_s)
                elif pgb[c]:
                    row(f"POST SSA at {c} connections / pgbench single-row INSERTs at {c} clients", v, pgb[c]['tps'])
            v, vc = g(x, "w5", "rps"), g(x, "w5c", "rps")
            row("GET-by-id / ceiling A (W2: static request, discovery body)", v, c_a)
            row("GET-by-id / ceiling A driven by the same wrk script (5c)", v, vc)
            v = g(x, "load_ev", "rps")
            if bk == "sqlite":
                row("bulk load (records/s) / ceiling B with edhub's table layout (7s, 100 rows/txn)", v, c_s)
                row("bulk load (records/s) / ceiling B (100 rows/txn)", v, c_b)
            elif cp:
                row("bulk load (records/s) / COPY of the same events (rows/s)", v, cp['rps'])
            for line in g(x, "deep", "ratio_rows") or []:
                self.w(line.replace("| ", f"| {L} | ", 1))
        if all(S.get(b) for b in ("sqlite", "pg")):
            for c in (16, 64):
                a, b = g(S["sqlite"], "w4", c, "rps"), g(S["pg"], "w4", c, "rps")
                if a and b:
                    self.w(f"| both | POST SSA at {c} connections: PostgreSQL / SQLite | {ratio(b, a, 3)} |")
            a, b = g(S["sqlite"], "w5", "rps"), g(S["pg"], "w5", "rps")
            if a and b:
                self.w(f"| both | GET-by-id: PostgreSQL / SQLite | {ratio(b, a, 3)} |")
            a, b = g(S["sqlite"], "load_ev", "rps"), g(S["pg"], "load_ev", "rps")
            if a and b:
                self.w(f"| both | bulk load: PostgreSQL / SQLite | {ratio(b, a, 3)} |")
        self.w()

    def _bk_size(self, load, prefix):
        bk = load["rec"].get("backend")
        for z in self.recs:
            if z.get("workload") == "sizes" and z.get("backend") == bk and str(z.get("after", "")).startswith(prefix):
                v = z.get("db_bytes")
                return v if isinstance(v, (int, float)) else None
        return None

    # ------------------------------------------------------------ per-backend summary table
    def _summary_table(self, bk, x, w1, w2, w7, pgb, cp, c_a, c_b, c_b1, c_s):
        L = LABEL[bk]
        self.w(f"## Summary: {L}")
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

        row(1, "GET / (discovery), wrk -t2 -c64 (backend-independent)", w1, c_a, "ceiling A")
        row(2, "ceiling A: minimal libmicrohttpd server, same wrk", w2)
        lat = x["lat"]
        for op in ("post", "get", "put", "delete"):
            s = lat[op]
            if s:
                e = s["unexpected"] + s["io"]
                self.w(f"| 3 | single client {op.upper()} students (1 connection, sequential) | {fnum(s['rps'])} req/s | "
                       f"{fms(s['p50'])} / {fms(s['p95'])} / {fms(s['p99'])} | | {'**' + str(e) + '**' if e else 0} |")
            else:
                self.w(f"| 3 | single client {op.upper()} | not run / failed | | | see flags |")
        for c in (16, 64):
            if bk == "sqlite":
                row(4, f"POST studentSchoolAssociations (new, with references), wrk -t2 -c{c}", x["w4"][c], c_b,
                    "ceiling B (100 rows/txn)")
            else:
                row(4, f"POST studentSchoolAssociations (new, with references), wrk -t2 -c{c}", x["w4"][c],
                    pgb[c]["tps"] if pgb[c] else None, f"pgbench INSERT c{c}")
        if x["w5c"]:
            row(5, "GET students/{id}, wrk -t2 -c64", x["w5"], x["w5c"]["rps"], "ceiling A with the same client script")
            row("5c", "ceiling A with W5's client script (same Lua + ids; body = a student document)", x["w5c"])
        else:
            row(5, "GET students/{id}, wrk -t2 -c64", x["w5"], c_a, "ceiling A")
        if x["deep"]:
            for line in x["deep"]["summary_rows"]:
                self.w(line)
        for nm, ld in (("prerequisites (students + session)", x["load_pre"]), ("attendance events", x["load_ev"])):
            if ld:
                cname, cv = ("COPY", cp["rps"] if cp else None) if bk == "pg" else ("7s", c_s)
                self.w(f"| 8 | bulk load (`edhub load`) of {fnum(ld['done'])} {nm} | {fnum(ld['rps'])} records/s "
                       f"({fsec(ld['elapsed'])}) | | {ratio(ld['rps'], cv) + ' of ' + cname if cv else ''} | "
                       f"{'**' + str(ld['res'].get('rejected')) + '**' if ld['res'].get('rejected') else 0} |")
        if bk == "sqlite":
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
        else:
            for c in (16, 64):
                if pgb[c]:
                    self.w(f"| 9 | ceiling P: pgbench single-row INSERT (uuid UNIQUE + JSON text), {c} clients | "
                           f"{fnum(pgb[c]['tps'])} tx/s | avg {fms(pgb[c]['lat'])} | | 0 |")
            if cp:
                self.w(f"| 9 | ceiling P: COPY of the {fnum(cp['rows'])} attendance events into a plain table | "
                       f"{fnum(cp['rps'])} rows/s ({fsec(cp['elapsed'])}) | | | 0 |")
        self.w()

    # ------------------------------------------------------------ per-backend details
    def _details_backend(self, bk, x):
        L = LABEL[bk]
        self.bk = bk
        lat = x["lat"]
        self.w(f"### 3. Single-client latency (students) — {L}")
        self.w()
        self.w("One keep-alive connection, requests strictly sequential (`bench/hclient.c`, raw sockets; the "
               "latency is from the first byte sent to the last byte received). Each run: warm-up requests "
               "not counted, then N timed requests per operation; POST creates new students, GET/PUT/DELETE "
               "use the ids from the POST `Location` headers.")
        self.w()
        pgcols = bk == "pg"
        self.w("| op | N per run | req/s | mean | p50 | p95 | p99 | max | server CPU µs/req | "
               + ("PostgreSQL CPU µs/req | PostgreSQL WAL bytes/req | " if pgcols else "")
               + "bytes written/req | statuses (per run) | reconnects |")
        self.w("|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if pgcols else ""))
        for op in ("post", "get", "put", "delete"):
            s = lat[op]
            if s:
                wb = (s["wb_req"] or 0) + (s["dwb_req"] or 0) if s["wb_req"] is not None else None
                self.w(f"| {op.upper()} | {s['lat_n']} | {fnum(s['rps'])} | {fms(s['mean'])} | {fms(s['p50'])} | "
                       f"{fms(s['p95'])} | {fms(s['p99'])} | {fms(s['max'])} | {fnum(s['cpu_us'], 1)} | "
                       + (f"{fnum(s['db_us'], 1)} | {fnum(s['wal_req'])} | " if pgcols else "")
                       + f"{fnum(wb)} | {json.dumps(s['statuses'])} | {s['reconnects']} |")
        self.w()
        for op in ("post", "get", "put", "delete"):
            if lat[op]:
                self.w(f"- {op.upper()}: `{lat[op]['cmd']}`")
        self.w()
        pre = self.by("w4_precreate_students")
        self.w(f"### 4. Concurrent POST of studentSchoolAssociations — {L}")
        self.w()
        self.w("Each request is a new SSA (distinct student/entryDate, references a pre-created student and "
               "school 255901001), so every response should be `201`. Non-201 responses are counted by a "
               "wrk `response()` hook.")
        self.w()
        if pre:
            res = pre[-1].get("result") or {}
            ps = x["pre"] or {}
            self.w(f"Pre-creation of the referenced students (extra data point): {res.get('responses', '?')} "
                   f"student POSTs with {res.get('conns', '?')} connections in {fnum(res.get('elapsed_s'), 2)} s = "
                   f"**{fnum(res.get('rps'))} POST/s**, p50 {fms(res.get('p50_ms'))} ms, p99 "
                   f"{fms(res.get('p99_ms'))} ms, statuses {json.dumps(res.get('status'))}; server CPU "
                   f"{fnum(ps.get('cpu_us'), 1)} µs"
                   + (f" + PostgreSQL {fnum(ps.get('db_us'), 1)} µs ({fnum(ps.get('wal_req'))} WAL bytes)" if pgcols else "")
                   + f" and {fnum((ps.get('wb_req') or 0) + (ps.get('dwb_req') or 0))} bytes written to storage per POST.")
            self.w(f"Command: `{pre[-1].get('cmd')}`")
            self.w()
        for c in (16, 64):
            self._detail_wrk(f"4.{1 if c == 16 else 2} {c} connections — {L}", x["w4"][c], None, level=4)
        self._detail_wrk(f"5. GET by id (students) — {L}", x["w5"],
                         "Ids collected from the `Location` headers of the student pre-creation POSTs; each "
                         "wrk thread cycles through its own slice (up to 20,000 ids).")
        self._detail_wrk(f"5c. Ceiling A driven by W5's client script — measured in the {L} phase", x["w5c"],
                         "The same `wrk` command and Lua script as W5 (so the load generator does the same work "
                         "per request) against `ceiling_http` answering one real student document. The fair "
                         "denominator for W5 on a machine where wrk and the server share the CPUs. Runs alternate "
                         "with W5's.")
        self._details_load(bk, x)
        if x["deep"]:
            for line in x["deep"]["detail"]:
                self.w(line)
        self.bk = None

    def _details_load(self, bk, x):
        L = LABEL[bk]
        if not (x["load_pre"] or x["load_ev"]):
            return
        self.w(f"### 8. Bulk load with `edhub load` — {L}")
        self.w()
        self.w("The server is stopped; `edhub load --data DIR FILE.jsonl` validates and writes every line like the "
               "API does (same validation and integrity checks). First the prerequisites (students and the "
               "session the events reference), then the attendance events "
               "(`/ed-fi/studentSchoolAttendanceEvents`, identity student + school + session + category + date). "
               "`bench/benchlib.py runload` runs the loader, timestamps its progress lines and takes its CPU "
               "time from `wait4`."
               + (" PostgreSQL's CPU is that of all server processes during the load; a `CHECKPOINT` "
                  "afterwards is timed separately (Other data points)." if bk == "pg" else ""))
        self.w()
        self.w("| file | records done | wall time | records/s | edhub load CPU µs/record | "
               + ("PostgreSQL CPU µs/record | WAL bytes/record | " if bk == "pg" else "")
               + "max RSS | exit | rejected | other processes' CPU | kernel threads' CPU |")
        self.w("|---|---|---|---|---|---|---|---|---|---|" + ("---|---|" if bk == "pg" else ""))
        for nm, ld in (("prerequisites", x["load_pre"]), ("attendance events", x["load_ev"])):
            if not ld:
                continue
            res = ld["res"]
            self.w(f"| {nm} | {fnum(ld['done'])} of {fnum(ld['n'])} | {fsec(ld['elapsed'])} | {fnum(ld['rps'])} | "
                   f"{fnum(ld['cpu_us'], 1)} | " + (f"{fnum(ld['db_us'], 1)} | {fnum(ld['wal'])} | " if bk == "pg" else "")
                   + f"{fnum((res.get('maxrss_kb') or 0) / 1024, 0)} MiB | {res.get('rc')} | {res.get('rejected', '?')} | "
                   f"{pct(ld['bg'])} | {pct(ld['kt'])} |")
        self.w()
        for nm, ld in (("prerequisites", x["load_pre"]), ("events", x["load_ev"])):
            if ld:
                self.w(f"- {nm}: `{ld['cmd']}` — stdout: `{ld['rec'].get('summary', '')}`")
        ld = x["load_ev"]
        if ld and ld["res"].get("after_last_progress_s") is not None:
            self.w(f"- events: last progress update {fsec(ld['res'].get('t_last_progress_s'))} after start; "
                   f"exit {fnum(ld['res'].get('after_last_progress_s'), 2)} s later (store close)")
        z0, z1 = x["size_before"], x["size_after"]
        if z1:
            self.w(f"- database before the load {fbytes((z0 or {}).get('db_bytes'))}, after "
                   f"{fbytes(z1.get('db_bytes'))} (WAL {fbytes(z1.get('wal_bytes'))}); free space after "
                   f"{fbytes(z1.get('free_bytes'))}")
        self.w()

    # ------------------------------------------------------------ ceilings
    def _details_ceilings(self, w7, pgb, cp, gens):
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
        if not (pgb[16] or pgb[64] or cp):
            return
        self.w("### 9. Ceiling P: PostgreSQL itself")
        self.w()
        self.w("On the same PostgreSQL server edhub uses (started by `scripts/pg-test-server.sh`, same settings), in "
               "a database of its own (`bench_ceiling`, dropped afterwards), before the edhub workloads. Tables: "
               "`bench/pg/ceiling.sql`. Server CPU = all PostgreSQL processes.")
        self.w()
        self.w("- **pgbench single-row INSERTs** (`bench/pg/insert.sql`): one `INSERT` per transaction (autocommit, "
               "`synchronous_commit=on`) into `pgb_doc(id bigserial PRIMARY KEY, key uuid UNIQUE, body text)`, key "
               "`gen_random_uuid()`, body an SSA-like JSON text (~330 B) — the PostgreSQL analogue of ceiling B at "
               "1 row/txn. Concurrent clients share WAL flushes, so this is the group-commit ceiling for the "
               "same number of connections as W4. The table is truncated before each run.")
        self.w("- **COPY** of the same attendance events edhub bulk-loads, as tab-separated rows (generated before "
               "timing by `gen_attendance copy`, the same documents byte for byte), with a server-side "
               "`COPY copy_ceiling FROM 'file'` (one statement, one transaction) into a plain logged table: the "
               "event identity as typed columns (student_unique_id text, school_id int, school_year int, "
               "session_name text, category text, event_date date) under the PRIMARY KEY, and the document as "
               "`text` (edhub stores bodies as text). No other index. A `CHECKPOINT` follows (not timed).")
        self.w()
        self.w("| ceiling | result (median) | all runs | latency avg ms | PostgreSQL CPU µs/row | WAL bytes/row |")
        self.w("|---|---|---|---|---|---|")
        for c in (16, 64):
            p = pgb[c]
            if p:
                self.w(f"| pgbench INSERT, {c} clients, {fnum(p['n'])} tx in the first run | {fnum(p['tps'])} tx/s | "
                       f"{', '.join(fnum(x) for x in p['all'])} | {fms(p['lat'])} | {fnum(p['db_us'], 1)} | {fnum(p['wb'])} |")
        if cp:
            self.w(f"| COPY {fnum(cp['rows'])} attendance events | {fnum(cp['rps'])} rows/s ({fsec(cp['elapsed'])}) | | | "
                   f"{fnum(cp['db_us'], 1)} | {fnum(cp['wb'])} |")
        self.w()
        for c in (16, 64):
            if pgb[c]:
                self.w(f"- pgbench {c} clients: `{pgb[c]['cmd']}`")
        if cp:
            self.w(f"- COPY: `{cp['cmd']}`; table {fbytes(cp['table_bytes'])} + primary key "
                   f"{fbytes(cp['index_bytes'])}; CHECKPOINT afterwards {fnum(cp['ck'], 1)} s")
        gc = gens.get("copy")
        if gc:
            self.w(f"- COPY input: `{gc.get('cmd')}` ({fbytes(gc.get('bytes'))} in {fnum(gc.get('elapsed_s'), 1)} s, "
                   "deleted after the COPY)")
        self.w()

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
                   f"{fnum(s['cpu_us'], 1)} µs"
                   + (f"; PostgreSQL server processes: {fnum(s['db_us'], 1)} µs" if s.get("db_us") is not None else ""))
        if s.get("wb_req") is not None:
            self.w(f"- server storage writes per request (/proc/PID/io write_bytes / requests): {fnum(s['wb_req'])} bytes"
                   + (f"; PostgreSQL processes: {fnum(s['dwb_req'])} bytes" if s.get("dwb_req") is not None else ""))
        if s.get("wal_req") is not None:
            self.w(f"- PostgreSQL WAL generated per request (pg_current_wal_lsn difference, whole server): "
                   f"{fnum(s['wal_req'])} bytes")
        st = [x for x in s["statuses"] if x]
        if st:
            self.w(f"- statuses per run: {json.dumps(st)}")
        self.w(f"- errors: {s['bad']} bad statuses, {s['sockerr']} socket errors/timeouts")
        self.w(f"- command: `{s['cmd']}`")
        self.w()

    def _deep_summary(self):
        pages = {k: self.hc_summary(f"w6_{k}") for k in ("offset_first", "offset_deep", "cursor_first",
                                                          "cursor_deep", "partitions")}
        infos = self.by("w6_info")
        info = infos[-1] if infos else {}
        if not any(pages.values()) and not infos:
            return None
        tag = self._tag(infos) if infos else ""
        L = LABEL.get(self.bk, "")
        ps = info.get("page_size", 500)
        res_name = info.get("resource", "students")
        out = dict(summary_rows=[], ratio_rows=[], detail=[], pages=pages, info=info)
        n = info.get("total")
        for meth in ("offset", "cursor"):
            f, d = pages[f"{meth}_first"], pages[f"{meth}_deep"]
            if f and d:
                out["summary_rows"].append(
                    f"| 6 | {meth} paging, {ps}/page: first page vs 80% depth of {fnum(n)} | "
                    f"p50 {fms(f['p50'])} → {fms(d['p50'])} ms | first {fms(f['p50'])} / {fms(f['p95'])} / "
                    f"{fms(f['p99'])}; deep {fms(d['p50'])} / {fms(d['p95'])} / {fms(d['p99'])} | "
                    f"deep/first p50 = **{ratio(d['p50'], f['p50'])}** | {f['unexpected'] + d['unexpected']} |")
                out["ratio_rows"].append(f"| {meth} paging: deep (80%) / first page p50 | {ratio(d['p50'], f['p50'])}"
                                         f" (p95: {ratio(d['p95'], f['p95'])}) |")
        det = out["detail"]
        det.append(f"### 6. Deep paging — {L}" if L else "### 6. Deep paging")
        det.append("")
        det.append(f"Resource `{res_name}` holding {fnum(n)} documents ({info.get('total_source', '')}), the "
                   "bulk-loaded attendance events of W8. "
                   f"Offset paging: `offset=0&limit={ps}` vs `offset={info.get('deep_offset')}&limit={ps}`. "
                   f"Cursor paging: `partitions?number=10`, then `pageToken=<token[0]>&pageSize={ps}` vs "
                   f"`pageToken=<token[8]>&pageSize={ps}` (token 8 of 10 = start of the last 20%). "
                   "Sequential requests on one keep-alive connection after warm-up."
                   + (f" One timed request per URL first sizes the sample count to a budget of "
                      f"{info['page_budget_s']} s per measurement and run (at least 3 samples; 1 warm-up instead "
                      "of 3 when slow); its time is in the table." if info.get("page_budget_s") else ""))
        det.append("")
        det.append("| request | first request s | samples/run | p50 | p95 | p99 | max | items on page | body bytes | statuses |")
        det.append("|---|---|---|---|---|---|---|---|---|---|")
        for k in ("offset_first", "offset_deep", "cursor_first", "cursor_deep", "partitions"):
            s = pages[k]
            if s:
                fs = info.get("first_s_" + k)
                det.append(f"| {k.replace('_', ' ')} | {fnum(fs, 3) if isinstance(fs, (int, float)) else ''} | "
                           f"{s['lat_n']} | {fms(s['p50'])} | {fms(s['p95'])} | "
                           f"{fms(s['p99'])} | {fms(s['max'])} | {info.get('items_' + k, '')} | {fnum(s['body'])} | "
                           f"{json.dumps(s['statuses'])} |")
        det.append("")
        for k in ("offset_first", "offset_deep", "cursor_first", "cursor_deep", "partitions"):
            if pages[k]:
                det.append(f"- {k}: `{pages[k]['cmd']}`")
        det.append("")
        for k in ("items_offset_first", "items_offset_deep", "items_cursor_first", "items_cursor_deep"):
            v = info.get(k)
            if v is not None and v != ps:
                self.flags.append(f"{tag}deep paging: {k.replace('items_', '')} page returned {v} items, expected {ps}")
        if info.get("next_page_token") is False:
            self.flags.append(f"{tag}cursor paging: `GET {res_name}?pageSize={ps}` did not return a Next-Page-Token header")
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


def cmd_authzdata(args):
    import datetime
    kind, prefix, n = args[0], args[1], int(args[2])
    schools = args[-1].split(",")
    out = sys.stdout
    if kind == "ssa":
        for s in range(n):
            out.write(f"{prefix}{s}\t{schools[s % len(schools)]}\n")
        return
    if kind != "events":
        sys.exit("authzdata: ssa or events")
    e = int(args[3])
    ndays = (e + n - 1) // n
    if ndays > 4000:
        sys.exit(f"authzdata: {ndays} school days needed; give more students or fewer events")
    days, d = [], datetime.date(2023, 8, 21)
    while len(days) < ndays:
        if d.weekday() < 5:
            days.append(d.isoformat())
        d += datetime.timedelta(days=1)
    for k in range(e):
        s = k % n
        out.write(f"{prefix}{s}\t{schools[s % len(schools)]}\t{days[k // n]}\n")


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
    elif cmd == "pgbenchjson":
        cmd_pgbenchjson(args)
    elif cmd == "runload":
        cmd_runload(args)
    elif cmd == "authzdata":
        cmd_authzdata(args)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
