#!/usr/bin/env python3
"""bench/load.py - loading benchmarks (edhub load, edhub gen), written as the "Loading" section of bench/RESULTS.md.

Workloads, each next to a same-run ceiling:
  L0  ceiling: raw SQLite inserts of the same attendance documents into one plain table (16-byte key + JSON text,
      one UNIQUE index, large transactions) - bench/build/ceiling_sqlite
  L1  Grand Bend DS 5.2 + enrolment supplement (XML interchanges) into a fresh embedded instance (median of runs)
  L2  N attendance events (JSON lines) into an embedded instance, the rate per tenth of the load (the curve)
  L3  the Grand Bend load over HTTP into a running edhub at 16 connections (batch endpoint, and one POST per record)
  L4  edhub gen: a synthetic state written (records/s), then loaded (records/s)
  L5  N attendance events into a PostgreSQL instance (our own throwaway server, scripts/pg-test-server.sh), with
      the same curve (LOAD_PG_EVENTS, default 1000000; skipped when PostgreSQL 15 is not installed)

Environment: LOAD_EVENTS (default 10000000), LOAD_RUNS (Grand Bend runs, default 3), LOAD_GEN_STUDENTS (default
100000), LOAD_TMP (work folder parent, default /tmp), BENCH_OUT (default bench/RESULTS.md), LOAD_ONLY=L1,L3 (subset).
Only 127.0.0.1 is contacted. Every wait is bounded.
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
EDHUB = os.environ.get('BENCH_EDHUB', os.path.join(ROOT, 'edhub'))
OUT = os.environ.get('BENCH_OUT', os.path.join(BENCH, 'RESULTS.md'))
EVENTS = int(os.environ.get('LOAD_EVENTS', '10000000'))
RUNS = int(os.environ.get('LOAD_RUNS', '3'))
GEN_STUDENTS = int(os.environ.get('LOAD_GEN_STUDENTS', '100000'))
PG_EVENTS = int(os.environ.get('LOAD_PG_EVENTS', '1000000'))
PGBIN = os.environ.get('BENCH_PGBIN', '/usr/lib/postgresql/15/bin')
ONLY = set(x for x in os.environ.get('LOAD_ONLY', '').split(',') if x)
SAMPLES = None
for cand in (os.path.join(ROOT, '..', 'shared', 'edfi', 'sample-data'), '/work/shared/edfi/sample-data'):
    if os.path.isdir(cand):
        SAMPLES = os.path.abspath(cand)
        break
GB = [os.path.join(SAMPLES, 'grand-bend-ds5.2', 'xml'), os.path.join(SAMPLES, 'grand-bend-ds5.2-supplement', 'xml')] \
    if SAMPLES else []
BEGIN, END = '<!-- loading:begin -->', '<!-- loading:end -->'
KEY, SECRET = 'benchload', 'BenchLoadSecret123'


def log(msg):
    print('[load %s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def want(w):
    return not ONLY or w in ONLY


def run(args, timeout=3600, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def fresh(work, name, database=None):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    p = run([EDHUB, 'init', '--data', d, '--client-key', KEY, '--client-secret', SECRET] +
            (['--database', database] if database else []))
    if p.returncode:
        raise SystemExit('edhub init failed: ' + p.stderr)
    return d


def children_cpu():
    t = os.times()
    return t.children_user + t.children_system


def timed_load(args, expect=None, timeout=6 * 3600):
    """Runs an edhub load; reads its progress (\\r-separated) to time-stamp the records done. Returns a dict."""
    c0, t0 = children_cpu(), time.monotonic()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    samples = []  # (seconds, records done)
    buf = b''
    deadline = t0 + timeout
    os.set_blocking(p.stderr.fileno(), False)
    while p.poll() is None and time.monotonic() < deadline:
        try:
            chunk = p.stderr.read() or b''
        except (BlockingIOError, TypeError):
            chunk = b''
        buf += chunk
        parts = re.split(rb'[\r\n]', buf)
        buf = parts[-1]
        now = time.monotonic() - t0
        for part in parts[:-1]:
            m = re.search(rb'(\d+) created, (\d+) updated, (\d+) rejected', part)
            if m:
                n = sum(int(x) for x in m.groups())
                # lines read together carry one time: keep the latest count
                if samples and samples[-1][0] == now:
                    samples[-1] = (now, max(n, samples[-1][1]))
                else:
                    samples.append((now, n))
        time.sleep(0.2)
    if p.poll() is None:
        p.kill()
        p.wait()
        return {'error': 'timed out after %d s' % timeout}
    out = p.stdout.read().decode()
    el = time.monotonic() - t0
    cpu = children_cpu() - c0
    m = re.search(r'(\d+) records: (\d+) created, (\d+) updated, (\d+) rejected', out)
    rec = {'rc': p.returncode, 'elapsed_s': el, 'cpu_s': cpu, 'summary': out.strip().splitlines()[-1] if out else ''}
    if m:
        rec.update(records=int(m.group(1)), created=int(m.group(2)), updated=int(m.group(3)),
                   rejected=int(m.group(4)))
        rec['rate'] = rec['records'] / el if el else 0
    rec['samples'] = samples
    if expect is not None and rec.get('records') != expect:
        rec['error'] = 'expected %d records, the summary says %s' % (expect, rec.get('records'))
    return rec


def curve(samples, total, elapsed):
    """Rate per tenth of the load from (t, done) samples."""
    pts = [(0.0, 0)] + samples + [(elapsed, total)]
    rows = []
    for k in range(10):
        lo, hi = total * k / 10, total * (k + 1) / 10

        def when(n):
            for (ta, na), (tb, nb) in zip(pts, pts[1:]):
                if nb >= n:
                    return ta + (tb - ta) * ((n - na) / (nb - na) if nb > na else 0)
            return elapsed
        dt = when(hi) - when(lo)
        rows.append((k, (hi - lo) / dt if dt > 0 else float('nan')))
    return rows


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def serve(data):
    port = free_port()
    p = subprocess.Popen([EDHUB, 'serve', '--data', data, '--listen', '127.0.0.1:%d' % port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
            return p, port
        except OSError:
            time.sleep(0.05)
    p.kill()
    raise SystemExit('edhub serve did not start')


def fmt(n):
    return '{:,.0f}'.format(n)


def main():
    if not os.path.exists(EDHUB):
        raise SystemExit('build edhub first (make)')
    os.makedirs(os.path.join(BENCH, 'build'), exist_ok=True)
    for helper in ('ceiling_sqlite', 'gen_attendance'):
        exe = os.path.join(BENCH, 'build', helper)
        src = os.path.join(BENCH, helper + '.c')
        if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
            p = run(['gcc', '-O2', '-Wall', '-o', exe, src] + (['-lsqlite3'] if helper == 'ceiling_sqlite' else []))
            if p.returncode:
                raise SystemExit(p.stderr)
    work = tempfile.mkdtemp(prefix='edhub-bench-load-', dir=os.environ.get('LOAD_TMP'))
    res = {}
    raw = os.path.join(BENCH, 'results-load.json')
    try:
        prev = json.load(open(raw)) if ONLY else {}  # a partial run keeps the other workloads' figures
    except (OSError, ValueError):
        prev = {}
    try:
        res['meta'] = {
            'date': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()),
            'git': run(['git', '-C', ROOT, 'describe', '--always', '--dirty']).stdout.strip(),
            'cpus': os.cpu_count(), 'loadavg': open('/proc/loadavg').read().split()[:3],
        }
        if want('L0'):
            log('L0 ceiling: raw SQLite inserts, 10,000 rows per transaction')
            p = run([os.path.join(BENCH, 'build', 'ceiling_sqlite'), os.path.join(work, 'ceiling.db'), '10000',
                     '2000000', '120', 'FULL', 'simple'], timeout=600)
            res['L0'] = json.loads(p.stdout) if p.returncode == 0 else {'error': p.stderr[-300:]}
            for f in os.listdir(work):
                if f.startswith('ceiling.db'):
                    os.remove(os.path.join(work, f))
        if want('L1') and GB:
            runs = []
            for r in range(RUNS):
                d = fresh(work, 'gb')
                log('L1 Grand Bend + supplement, run %d of %d' % (r + 1, RUNS))
                runs.append(timed_load([EDHUB, 'load', '--data', d] + GB, timeout=1800))
                runs[-1].pop('samples', None)
            res['L1'] = runs
        if want('L3') and GB:
            res['L3'] = {}
            for mode in ('batch', 'per-record'):
                d = fresh(work, 'http')
                srv, port = serve(d)
                try:
                    log('L3 Grand Bend over HTTP, 16 connections, %s' % mode)
                    args = [EDHUB, 'load', '--api', 'http://127.0.0.1:%d' % port, '--key', KEY, '--secret', SECRET,
                            '--connections', '16', '--errors', os.path.join(work, 'http-errors.jsonl')]
                    if mode != 'batch':
                        args.append('--no-batch')
                    rec = timed_load(args + GB, timeout=3600)
                    rec.pop('samples', None)
                    res['L3'][mode] = rec
                finally:
                    srv.send_signal(signal.SIGTERM)
                    srv.wait(60)
        if want('L4'):
            g = os.path.join(work, 'gen')
            log('L4 edhub gen --students %d --days 180' % GEN_STUDENTS)
            t0 = time.monotonic()
            p = run([EDHUB, 'gen', '--students', str(GEN_STUDENTS), '--days', '180', '--seed', '1', '--quiet',
                     '--out', g], timeout=3600)
            gel = time.monotonic() - t0
            try:
                summ = json.load(open(os.path.join(g, 'gen-summary.json')))
            except (OSError, ValueError):
                summ = {}
            total = summ.get('total') or summ.get('records') or sum(
                v for v in (summ.get('resources') or {}).values() if isinstance(v, int))
            size = sum(os.path.getsize(os.path.join(g, f)) for f in os.listdir(g))
            res['L4'] = {'gen_rc': p.returncode, 'gen_elapsed_s': gel, 'gen_records': total, 'gen_bytes': size}
            d = fresh(work, 'genload')
            log('L4 loading the generated state (%s records)' % fmt(total or 0))
            rec = timed_load([EDHUB, 'load', '--data', d, g], timeout=6 * 3600)
            rec.pop('samples', None)
            res['L4']['load'] = rec
            shutil.rmtree(g, ignore_errors=True)
            shutil.rmtree(d, ignore_errors=True)
        if want('L2'):
            gen = os.path.join(BENCH, 'build', 'gen_attendance')
            pre, ev = os.path.join(work, 'pre.jsonl'), os.path.join(work, 'events.jsonl')
            log('L2 generating %s attendance events' % fmt(EVENTS))
            with open(pre, 'w') as f:
                subprocess.run([gen, 'prereq', str(EVENTS), '180'], stdout=f, check=True, timeout=3600)
            with open(ev, 'w') as f:
                subprocess.run([gen, 'events', str(EVENTS), '180'], stdout=f, check=True, timeout=3600)
            d = fresh(work, 'events')
            p = run([EDHUB, 'load', '--data', d, pre], timeout=3600)
            log('L2 loading %s attendance events into SQLite' % fmt(EVENTS))
            rec = timed_load([EDHUB, 'load', '--data', d, ev], expect=EVENTS)
            rec['db_bytes'] = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith('ods'))
            if 'records' in rec:
                rec['curve'] = curve(rec['samples'], rec['records'], rec['elapsed_s'])
            rec.pop('samples', None)
            res['L2'] = rec
            os.remove(ev)
            shutil.rmtree(d, ignore_errors=True)
        if want('L5') and os.path.exists(os.path.join(PGBIN, 'postgres')):
            res['L5'] = load_pg(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    when = dict(prev.get('when') or {})
    for k in prev:  # results written before 'when' existed
        if k.startswith('L') and k not in when and prev.get('meta'):
            when[k] = '%s, git %s' % (prev['meta']['date'], prev['meta']['git'])
    for k in list(res):
        if k.startswith('L'):
            when[k] = '%s, git %s' % (res['meta']['date'], res['meta']['git'])
    merged = {k: v for k, v in prev.items() if k.startswith('L')}
    merged.update(res)
    merged['when'] = when
    write_report(merged)
    with open(raw, 'w') as f:
        json.dump(merged, f, indent=1)


def load_pg(work):
    """L5: attendance events into an instance on our own PostgreSQL server (unix socket only)."""
    gen = os.path.join(BENCH, 'build', 'gen_attendance')
    pre, ev = os.path.join(work, 'pg-pre.jsonl'), os.path.join(work, 'pg-events.jsonl')
    with open(pre, 'w') as f:
        subprocess.run([gen, 'prereq', str(PG_EVENTS), '180'], stdout=f, check=True, timeout=3600)
    with open(ev, 'w') as f:
        subprocess.run([gen, 'events', str(PG_EVENTS), '180'], stdout=f, check=True, timeout=3600)
    pgdir = os.path.join(work, 'pg')
    os.chmod(work, 0o755)  # the server runs as the postgres user
    script = os.path.join(ROOT, 'scripts', 'pg-test-server.sh')
    p = run(['bash', script, 'start', pgdir], timeout=300)
    if p.returncode:
        return {'error': 'PostgreSQL did not start: ' + p.stderr[-300:]}
    try:
        url = run(['bash', script, 'createdb', pgdir, 'bench_load']).stdout.strip()
        d = fresh(work, 'pg-instance', url)
        run([EDHUB, 'load', '--data', d, pre], timeout=3600)
        log('L5 loading %s attendance events into PostgreSQL' % fmt(PG_EVENTS))
        rec = timed_load([EDHUB, 'load', '--data', d, ev], expect=PG_EVENTS)
        if 'records' in rec:
            rec['curve'] = curve(rec['samples'], rec['records'], rec['elapsed_s'])
        rec.pop('samples', None)
        rec['note'] = 'cpu_s counts edhub only (the PostgreSQL server is not a child)'
        return rec
    finally:
        run(['bash', script, 'stop', pgdir], timeout=300)


def write_report(res):
    m = res['meta']
    L = ['## Loading (`python3 bench/load.py`, issue 6)', '',
         'Run on %s, %s CPUs, load average at start %s, git %s. Every load below goes through the same validation, '
         'reference and identity checks as the API (`edhub load`); the database is a fresh embedded (SQLite) '
         'instance unless said otherwise.' % (m['date'], m['cpus'], ' '.join(m['loadavg']), m['git']), '']
    other = sorted('%s: %s' % (k, v) for k, v in (res.get('when') or {}).items()
                   if v != '%s, git %s' % (m['date'], m['git']))
    if other:
        L[-1:-1] = ['Figures kept from earlier runs (`LOAD_ONLY` ran a subset): ' + '; '.join(other) + '.', '']
    c = res.get('L0', {})
    ceil = c.get('rows_per_s')
    L += ['| workload | result | ratio to the raw SQLite ceiling |', '|---|---|---|']
    if ceil:
        L.append('| L0 ceiling: raw SQLite inserts (16-byte key + JSON, one unique index, 10,000 rows/transaction, '
                 'synchronous=FULL) | %s rows/s | 1 |' % fmt(ceil))
    if res.get('L1'):
        ok = [r for r in res['L1'] if 'rate' in r]
        if ok:
            med = statistics.median(r['elapsed_s'] for r in ok)
            rate = statistics.median(r['rate'] for r in ok)
            rej = max(r.get('rejected', 0) for r in ok)
            L.append('| L1 Grand Bend DS 5.2 + supplement, XML, %s records, median of %d runs | **%.2f s** (%s records/s), '
                     '%d rejected (target < 5 s) | %s |' % (fmt(ok[0]['records']), len(ok), med, fmt(rate), rej,
                                                             '%.3f' % (rate / ceil) if ceil else '—'))
    for mode, r in (res.get('L3') or {}).items():
        if 'rate' in r:
            L.append('| L3 Grand Bend over HTTP into edhub, 16 connections, %s | %.1f s, **%s records/s**, %d rejected | %s |'
                     % (mode, r['elapsed_s'], fmt(r['rate']), r.get('rejected', 0),
                        '%.3f' % (r['rate'] / ceil) if ceil else '—'))
        else:
            L.append('| L3 over HTTP, %s | failed: %s | |' % (mode, r.get('error') or r.get('summary')))
    g = res.get('L4')
    if g:
        gl = g.get('load', {})
        L.append('| L4 `edhub gen --students %s --days 180`: written | %s records, %.1f MB in %.1f s (%s records/s) | |'
                 % (fmt(GEN_STUDENTS), fmt(g.get('gen_records') or 0), g['gen_bytes'] / 1e6, g['gen_elapsed_s'],
                    fmt((g.get('gen_records') or 0) / g['gen_elapsed_s'])))
        if 'rate' in gl:
            L.append('| L4 the generated state loaded | %.1f s, **%s records/s**, %d rejected | %s |'
                     % (gl['elapsed_s'], fmt(gl['rate']), gl.get('rejected', 0),
                        '%.3f' % (gl['rate'] / ceil) if ceil else '—'))
    e = res.get('L2')
    if e and 'rate' in e:
        L.append('| L2 %s attendance events, JSON lines | %.1f min, **%s records/s** (target ≥ 50,000), %d rejected, '
                 'database %.2f GB, CPU %.0f µs per record | %s |'
                 % (fmt(e['records']), e['elapsed_s'] / 60, fmt(e['rate']), e.get('rejected', 0), e['db_bytes'] / 1e9,
                    e['cpu_s'] / e['records'] * 1e6, '%.3f' % (e['rate'] / ceil) if ceil else '—'))
        L += ['', '### L2: rate per tenth of the load (records/s)', '',
              '| tenth | ' + ' | '.join('%d–%d%%' % (k * 10, k * 10 + 10) for k, _ in e['curve']) + ' |',
              '|---|' + '---|' * len(e['curve']),
              '| records/s | ' + ' | '.join(fmt(v) for _, v in e['curve']) + ' |', '',
              'Decay ratio (last tenth / second tenth): %.2f.' % (e['curve'][-1][1] / e['curve'][1][1])]
    elif e:
        L.append('| L2 attendance events | failed: %s | |' % (e.get('error') or e.get('summary')))
    pg = res.get('L5')
    if pg and 'rate' in pg:
        L += ['', '### L5: %s attendance events into PostgreSQL 15 (same machine, unix socket)' % fmt(pg['records']), '',
              '%.1f min, **%s records/s**, %d rejected; edhub CPU %.0f µs per record (the server\'s not counted).' %
              (pg['elapsed_s'] / 60, fmt(pg['rate']), pg.get('rejected', 0), pg['cpu_s'] / pg['records'] * 1e6), '',
              '| tenth | ' + ' | '.join('%d–%d%%' % (k * 10, k * 10 + 10) for k, _ in pg['curve']) + ' |',
              '|---|' + '---|' * len(pg['curve']),
              '| records/s | ' + ' | '.join(fmt(v) for _, v in pg['curve']) + ' |']
    elif pg:
        L.append('\nL5 (PostgreSQL) failed: %s' % (pg.get('error') or pg.get('summary')))
    L += ['', 'Commands: `edhub load --data DIR PATH...` (L1, L2, L4), `edhub load --api http://127.0.0.1:PORT --key K '
          '--secret S --connections 16 [--no-batch] PATH...` (L3), `bench/build/ceiling_sqlite DB 10000 2000000 120 FULL '
          'simple` (L0), `bench/build/gen_attendance prereq|events N 180` (L2 input, generated before timing). Raw '
          'figures: `bench/results-load.json`.']
    section = BEGIN + '\n' + '\n'.join(L) + '\n' + END + '\n'
    text = open(OUT).read() if os.path.exists(OUT) else '# edhub benchmark results\n\n'
    if BEGIN in text and END in text:
        a, rest = text.split(BEGIN, 1)
        text = a + section + rest.split(END, 1)[1].lstrip('\n')
    else:
        text = text.rstrip('\n') + '\n\n' + section
    with open(OUT, 'w') as f:
        f.write(text)
    log('wrote the Loading section of %s' % OUT)


if __name__ == '__main__':
    main()
