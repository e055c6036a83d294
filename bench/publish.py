#!/usr/bin/env python3
"""bench/publish.py - publishing benchmarks (edhub publish), written as the "Publishing" section of bench/RESULTS.md.

Workloads (the source is loaded before timing; every target is a fresh `edhub init`):
  P1  Grand Bend DS 5.2 + supplement, local -> local (both instances stopped), median of PUB_RUNS runs
  P2  the same over HTTP, edhub -> edhub (two running servers), batch endpoint and one POST per record
  P3  a re-run with nothing new (window check only), local -> local
  P4  a generated state (`edhub gen --students PUB_GEN_STUDENTS --days 20`), local -> local

Environment: PUB_RUNS (default 3), PUB_GEN_STUDENTS (default 5000), PUB_TMP (work folder parent, default /tmp),
BENCH_OUT (default bench/RESULTS.md), BENCH_EDHUB (binary, default ./edhub). Only 127.0.0.1 is contacted.
"""
import json
import os
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


def main():
    if not GB:
        raise SystemExit('the Ed-Fi sample data (../shared/edfi/sample-data) is needed')
    work = tempfile.mkdtemp(prefix='edhub-bench-publish-', dir=os.environ.get('PUB_TMP', '/tmp'))
    res = {'when': time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()), 'cpus': os.cpu_count(),
           'loadavg': ' '.join('%.2f' % x for x in os.getloadavg()),
           'git': run(['git', '-C', ROOT, 'describe', '--always', '--dirty']).stdout.strip()}
    try:
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
         '| workload | result |', '|---|---|',
         '| P1 local -> local (stopped instances: store read by keyset, written through the engine), median of %d | '
         '%.2f s, **%s records/s**, %d rejected |' % (len(res['P1']), med, fmt(round(n1 / med)), res['P1'][0]['rejected'])]
    for mode in ('batch', 'per-record'):
        r = res['P2 ' + mode]
        L.append('| P2 edhub -> edhub over HTTP, 16 connections, %s (source paged by change queries, 500 a page) | '
                 '%.2f s, **%s records/s**, %d rejected |' % (mode, r['seconds'], fmt(r['rate']), r['rejected']))
    L.append('| P3 a re-run with nothing new | %.2f s (%s) |' %
             (res['P3']['seconds'], 'nothing published' if res['P3']['nothing'] else 'UNEXPECTED: something was sent'))
    r = res['P4'][0]
    L.append('| P4 generated state (`edhub gen --students %s --days 20`), local -> local | %s records in %.1f s, '
             '**%s records/s**, %d rejected |' % (fmt(GEN_STUDENTS), fmt(r['records']), r['seconds'], fmt(r['rate']),
                                                  r['rejected']))
    L += ['', 'Commands: `edhub publish --source-data SRC --target-data DST` (P1, P3, P4), `edhub publish --source-api '
          'URL --source-key K --source-secret S --target-api URL --target-key K --target-secret S --connections 16 '
          '[--no-batch]` (P2).']
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
