#!/usr/bin/env python3
"""bench/publish.py - publishing benchmarks (edhub publish), written as the "Publishing" section of bench/RESULTS.md.

Workloads (the source is loaded before timing; every target is a fresh `edhub init`):
  P0  the same-run ceiling: raw SQLite inserts (bench/build/ceiling_sqlite, as bench/load.py's L0, 500,000 rows)
  P1  Grand Bend DS 5.2 + supplement, local -> local (both instances stopped), median of PUB_RUNS runs
  P2  the same over HTTP, edhub -> edhub (two running servers), batch endpoint and one POST per record
  P3  a re-run with nothing new (window check only), local -> local
  P4  a generated state (`edhub gen --students PUB_GEN_STUDENTS --days 20`), local -> local
  P5  promotion lag under a steady write load: one deployment (a district and the state, one server); clients
      write students into the district at PUB_LAG_RATE/s for PUB_LAG_SECONDS while
      `edhub publish --data DIR --all-districts --every PUB_LAG_EVERY` runs; a sample of the writes is watched on
      the state: the lag is from the write's 201 to the record's first appearance there

Environment: PUB_RUNS (default 3), PUB_GEN_STUDENTS (default 5000), PUB_TMP (work folder parent, default /tmp),
PUB_LAG_RATE (writes/s, default 200), PUB_LAG_SECONDS (default 30), PUB_LAG_EVERY (seconds, default 1), PUB_ONLY
(e.g. "P5": run only these workloads, keeping the other figures of results-publish.json),
BENCH_OUT (default bench/RESULTS.md), BENCH_EDHUB (binary, default ./edhub). Only 127.0.0.1 is contacted.
"""
import http.client
import json
import os
import threading
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EDHUB = os.environ.get('BENCH_EDHUB', os.path.join(ROOT, 'edhub'))
OUT = os.environ.get('BENCH_OUT', os.path.join(ROOT, 'bench', 'RESULTS.md'))
RUNS = int(os.environ.get('PUB_RUNS', '3'))
GEN_STUDENTS = int(os.environ.get('PUB_GEN_STUDENTS', '5000'))
SAMPLES = None
for cand in (os.path.join(ROOT, '..', 'shared', 'edfi', 'sample-data'), '/work/shared/edfi/sample-data'):
    if os.path.isdir(cand):
        SAMPLES = os.path.abspath(cand)
        break
GB = [os.path.join(SAMPLES, 'grand-bend-ds5.2', 'xml'), os.path.join(SAMPLES, 'grand-bend-ds5.2-supplement', 'xml')] \
    if SAMPLES else []
BEGIN, END = '<!-- publishing:begin -->', '<!-- publishing:end -->'
sys.path.insert(0, os.path.join(ROOT, 'bench'))
import load as L  # noqa: E402  (its instance and server helpers: same binary, key and secret)
L.EDHUB = EDHUB
KEY, SECRET = L.KEY, L.SECRET
SUMMARY = r'change versions (\d+)\.\.(\d+): (\d+) upserted \((\d+) created, (\d+) updated\).*?(\d+) rejected, (\d+) held'


def log(msg):
    print('[publish %s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


def run(args, timeout=3600):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def fresh(work, name):
    return L.fresh(work, name)


def serve(data):
    proc, port = L.serve(data)
    return proc, 'http://127.0.0.1:%d' % port


def stop(proc):
    proc.terminate()
    proc.wait(60)


def timed_publish(args):
    t = time.time()
    p = run([EDHUB, 'publish'] + args)
    el = time.time() - t
    m = re.search(SUMMARY, p.stdout)
    if p.returncode or not m:
        raise SystemExit('edhub publish failed (%d): %s\n%s' % (p.returncode, p.stdout[-1000:], p.stderr[-3000:]))
    n = int(m.group(3))
    return {'seconds': round(el, 3), 'records': n, 'rate': round(n / el) if el else 0, 'rejected': int(m.group(6))}


def load(data, paths):
    p = run([EDHUB, 'load', '--data', data] + paths, timeout=6 * 3600)
    if p.returncode:
        raise SystemExit('edhub load failed: %s' % p.stderr[-2000:])


def local_runs(src, work, name, runs):
    out = []
    for i in range(runs):
        tgt = fresh(work, name)
        out.append(timed_publish(['--source-data', src, '--target-data', tgt, '--state',
                                  os.path.join(work, 'state-%s-%d.json' % (name, i))]))
        log('%s run %d: %s' % (name, i + 1, out[-1]))
    return out, tgt


LAG_RATE = float(os.environ.get('PUB_LAG_RATE', '200'))
LAG_SECONDS = float(os.environ.get('PUB_LAG_SECONDS', '30'))
LAG_EVERY = os.environ.get('PUB_LAG_EVERY', '1')


def token(port, root):
    import base64
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=30)
    c.request('POST', root + '/oauth/token', 'grant_type=client_credentials',
              {'Authorization': 'Basic ' + base64.b64encode(('%s:%s' % (KEY, SECRET)).encode()).decode(),
               'Content-Type': 'application/x-www-form-urlencoded'})
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    return body['access_token']


def ceiling(work):
    """P0: raw SQLite inserts on this machine now (the hardware ceiling of a local target)."""
    exe = os.path.join(ROOT, 'bench', 'build', 'ceiling_sqlite')
    src = os.path.join(ROOT, 'bench', 'ceiling_sqlite.c')
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(src):
        p = run(['gcc', '-O2', '-Wall', '-o', exe, src, '-lsqlite3'])
        if p.returncode:
            raise SystemExit(p.stderr)
    p = run([exe, os.path.join(work, 'ceiling.db'), '10000', '500000', '60', 'FULL', 'simple'], timeout=600)
    return json.loads(p.stdout) if p.returncode == 0 else {'error': p.stderr[-300:]}


def lag_run(work):
    """P5: writes into a district at a steady rate while the promotion daemon runs; the lag of sampled writes."""
    dep = fresh(work, 'lagdep')
    for name, ctx in (('d1', 'districtId=255901'), ('state', 'districtId=state')):
        p = run([EDHUB, 'instances', 'create', '--data', dep, name, '--type', 'district' if name == 'd1' else 'state',
                 '--context', ctx, '--context', 'schoolYear=2026'])
        if p.returncode:
            raise SystemExit('edhub instances create failed: %s' % p.stderr[-2000:])
    p = run([EDHUB, 'clients', 'update', '--data', dep, '--key', KEY, '--instance', 'd1', '--instance', 'state'])
    if p.returncode:
        raise SystemExit('edhub clients update failed: %s' % p.stderr[-2000:])
    with open(os.path.join(dep, 'edhub.conf'), 'a') as f:
        f.write('\nroute_template = {districtId}/{schoolYear}\n')
    proc, port = L.serve(dep)
    # the first promotion (bootstrap data) before the measured load
    run([EDHUB, 'publish', '--data', dep, '--all-districts'])
    daemon = subprocess.Popen([EDHUB, 'publish', '--data', dep, '--all-districts', '--every', LAG_EVERY],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tok = token(port, '/255901/2026')
    written, lock = [], threading.Lock()
    stop_at = time.monotonic() + LAG_SECONDS
    prefix = 'lag%d' % int(time.time())

    def writer(wid, nthreads):
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        period = nthreads / LAG_RATE
        nxt, i = time.monotonic(), 0
        while time.monotonic() < stop_at:
            uid = '%s-%d-%d' % (prefix, wid, i)
            body = json.dumps({'studentUniqueId': uid, 'birthDate': '2012-01-01', 'firstName': 'L', 'lastSurname': 'G'})
            c.request('POST', '/255901/2026/data/v3/ed-fi/students', body,
                      {'Authorization': 'Bearer ' + tok, 'Content-Type': 'application/json'})
            r = c.getresponse()
            r.read()
            if r.status in (200, 201):
                with lock:
                    written.append((uid, time.monotonic()))
            i += 1
            nxt += period
            time.sleep(max(0.0, nxt - time.monotonic()))
        c.close()

    def get_json(c, path):
        c.request('GET', path, headers={'Authorization': 'Bearer ' + tok})
        r = c.getresponse()
        data = r.read()
        return json.loads(data) if r.status == 200 else None

    def watcher():
        """Follows the state's change queries: the first moment each written student is there."""
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        cv = get_json(c, '/state/2026/changeQueries/v1/availableChangeVersions')['newestChangeVersion']
        deadline = stop_at + 120
        while time.monotonic() < deadline:
            newest = get_json(c, '/state/2026/changeQueries/v1/availableChangeVersions')['newestChangeVersion']
            offset = 0
            while newest > cv:
                page = get_json(c, '/state/2026/data/v3/ed-fi/students?minChangeVersion=%d&maxChangeVersion=%d'
                                   '&offset=%d&limit=500' % (cv + 1, newest, offset)) or []
                now = time.monotonic()
                for d in page:
                    seen.setdefault(d['studentUniqueId'], now)
                if len(page) < 500:
                    break
                offset += 500
            cv = max(cv, newest)
            with lock:
                done = time.monotonic() > stop_at + 1 and all(u in seen for u, _ in written)
            if done:
                break
            time.sleep(0.05)
        c.close()

    seen = {}
    nthreads = 4
    threads = [threading.Thread(target=writer, args=(k, nthreads)) for k in range(nthreads)]
    w = threading.Thread(target=watcher)
    t0 = time.monotonic()
    for t in threads:
        t.start()
    w.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    w.join()
    lags = sorted(seen[u] - t for u, t in written if u in seen)
    daemon.terminate()
    daemon.wait(120)
    stop(proc)
    q = lambda f: round(lags[min(len(lags) - 1, int(f * len(lags)))], 2) if lags else None
    return {'rate_asked': LAG_RATE, 'rate_done': round(len(written) / elapsed, 1), 'seconds': LAG_SECONDS,
            'every': float(LAG_EVERY), 'samples': len(lags), 'written': len(written), 'median': q(0.5), 'p95': q(0.95),
            'max': round(lags[-1], 2) if lags else None}


def main():
    only = os.environ.get('PUB_ONLY')
    if only:  # e.g. PUB_ONLY=P5: only these, the other figures kept from the last full run
        res = json.load(open(os.path.join(ROOT, 'bench', 'results-publish.json')))
        work = tempfile.mkdtemp(prefix='edhub-bench-publish-', dir=os.environ.get('PUB_TMP', '/tmp'))
        try:
            if 'P0' in only or 'P5' in only:
                res['P0'] = ceiling(work)
            if 'P5' in only:
                log('P5 lag under a steady write load')
                res['P5'] = lag_run(work)
                log('P5: %s' % res['P5'])
        finally:
            shutil.rmtree(work, ignore_errors=True)
        write_report(res)
        return
    if not GB:
        raise SystemExit('the Ed-Fi sample data (../shared/edfi/sample-data) is needed')
    work = tempfile.mkdtemp(prefix='edhub-bench-publish-', dir=os.environ.get('PUB_TMP', '/tmp'))
    res = {'when': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()), 'cpus': os.cpu_count(),
           'loadavg': ' '.join('%.2f' % x for x in os.getloadavg()),
           'git': run(['git', '-C', ROOT, 'describe', '--always', '--dirty']).stdout.strip()}
    try:
        log('P0 ceiling: raw SQLite inserts')
        res['P0'] = ceiling(work)
        src = fresh(work, 'src')
        load(src, GB)
        log('P1 local -> local')
        p1, tgt = local_runs(src, work, 'p1', RUNS)
        res['P1'] = p1
        state = os.path.join(work, 'state-p3.json')
        timed_publish(['--source-data', src, '--target-data', tgt, '--state', state])
        t = time.time()
        p = run([EDHUB, 'publish', '--source-data', src, '--target-data', tgt, '--state', state])
        res['P3'] = {'seconds': round(time.time() - t, 3), 'nothing': 'nothing to publish' in p.stdout}
        log('P2 over HTTP')
        sproc, surl = serve(src)
        try:
            for mode, extra in (('batch', []), ('per-record', ['--no-batch'])):
                tdata = fresh(work, 'p2-' + mode)
                tproc, turl = serve(tdata)
                try:
                    r = timed_publish(['--source-api', surl, '--source-key', KEY, '--source-secret', SECRET,
                                       '--target-api', turl, '--target-key', KEY, '--target-secret', SECRET,
                                       '--connections', '16', '--state', os.path.join(work, 'state-p2-%s.json' % mode),
                                       '--errors', os.path.join(work, 'errors-p2-%s.jsonl' % mode)]
                                      + extra)
                finally:
                    stop(tproc)
                res['P2 ' + mode] = r
                log('P2 %s: %s' % (mode, r))
        finally:
            stop(sproc)
        log('P4 generated state, %d students' % GEN_STUDENTS)
        gen = os.path.join(work, 'gen')
        p = run([EDHUB, 'gen', '--students', str(GEN_STUDENTS), '--days', '20', '--out', gen])
        if p.returncode:
            raise SystemExit('edhub gen failed: %s' % p.stderr[-2000:])
        gsrc = fresh(work, 'gsrc')
        load(gsrc, [gen])
        res['P4'], _ = local_runs(gsrc, work, 'p4', 1)
        log('P5 lag under a steady write load')
        res['P5'] = lag_run(work)
        log('P5: %s' % res['P5'])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_report(res)


def fmt(n):
    return '{:,}'.format(n)


def write_report(res):
    med = statistics.median([r['seconds'] for r in res['P1']])
    n1 = res['P1'][0]['records']
    L = ['## Publishing (`python3 bench/publish.py`)', '',
         'Run on %s, %d CPUs, load average at start %s, git %s. `edhub publish` from a source instance holding '
         'Grand Bend DS 5.2 + supplement (loaded before timing) into a fresh `edhub init` target; records are the '
         'documents upserted (the first publication of everything: window 0..newest).' %
         (res['when'], res['cpus'], res['loadavg'], res['git']), '',
         '| workload | result |', '|---|---|']
    c = res.get('P0', {})
    ceil = c.get('rows_per_s')
    ratio = lambda rate: ' (%.2f of the ceiling)' % (rate / ceil) if ceil else ''
    if ceil:
        L.append('| P0 same-run ceiling: raw SQLite inserts (16-byte key + JSON, one unique index, 10,000 rows a '
                 'transaction, synchronous FULL; `bench/build/ceiling_sqlite DB 10000 500000 60 FULL simple`) | '
                 '**%s rows/s** |' % fmt(round(ceil)))
    L.append('| P1 local -> local (stopped instances: store read by keyset, written through the engine), median of %d | '
             '%.2f s, **%s records/s**%s, %d rejected |' % (len(res['P1']), med, fmt(round(n1 / med)),
                                                          ratio(n1 / med), res['P1'][0]['rejected']))
    for mode in ('batch', 'per-record'):
        r = res['P2 ' + mode]
        L.append('| P2 edhub -> edhub over HTTP, 16 connections, %s (source paged by change queries, 500 a page) | '
                 '%.2f s, **%s records/s**, %d rejected |' % (mode, r['seconds'], fmt(r['rate']), r['rejected']))
    L.append('| P3 a re-run with nothing new | %.2f s (%s) |' %
             (res['P3']['seconds'], 'nothing published' if res['P3']['nothing'] else 'UNEXPECTED: something was sent'))
    r = res['P4'][0]
    L.append('| P4 generated state (`edhub gen --students %s --days 20`), local -> local | %s records in %.1f s, '
             '**%s records/s**%s, %d rejected |' % (fmt(GEN_STUDENTS), fmt(r['records']), r['seconds'], fmt(r['rate']),
                                                    ratio(r['rate']), r['rejected']))
    r = res.get('P5')
    if r:
        L.append('| P5 promotion lag under a steady write load: %s students/s asked (%s done) into a district for %d s, '
                 '`publish --all-districts --every %g` into the state, one server for both | lag from the write\'s 201 '
                 'to the state: **median %s s**, p95 %s s, max %s s (%d of %d writes seen there) |' %
                 (fmt(round(r['rate_asked'])), r['rate_done'], r['seconds'], r['every'], r['median'], r['p95'], r['max'],
                  r['samples'], r['written']))
    L += ['', 'Commands: `edhub publish --source-data SRC --target-data DST` (P1, P3, P4), `edhub publish --source-api '
          'URL --source-key K --source-secret S --target-api URL --target-key K --target-secret S --connections 16 '
          '[--no-batch]` (P2), `edhub publish --data DIR --all-districts --every S` (P5; `PUB_ONLY=P5 python3 '
          'bench/publish.py` re-runs it alone).']
    section = BEGIN + '\n' + '\n'.join(L) + '\n' + END + '\n'
    text = open(OUT).read() if os.path.exists(OUT) else ''
    if BEGIN in text and END in text:
        a, rest = text.split(BEGIN, 1)
        text = a + section + rest.split(END, 1)[1].lstrip('\n')
    else:
        text = text.rstrip('\n') + '\n\n' + section
    with open(OUT, 'w') as f:
        f.write(text)
    with open(os.path.join(ROOT, 'bench', 'results-publish.json'), 'w') as f:
        json.dump(res, f, indent=1)
    print('\n'.join(L))


if __name__ == '__main__':
    main()
