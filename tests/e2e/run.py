#!/usr/bin/env python3
"""Run the edhub end-to-end suite.

usage: tests/e2e/run.py [-h] [-v] [-q] [--failfast] [--list] [-k PATTERN] [FILTER ...]

Each test module (tests/e2e/test_*.py) starts its own `edhub serve` on a free loopback port with a
fresh `edhub init` data directory, and stops it with SIGTERM at the end (exit code 0 is asserted).

FILTER   run only modules whose name contains one of the filters (e.g. `crud etag`)
-k PAT   run only tests whose id contains PAT (may be repeated; unittest -k semantics)
--list   list the modules (and their test counts) and exit
-v / -q  more / less output

Environment: EDHUB (binary, default ./edhub), EDHUB_E2E_KEEP=1 (keep temp dirs and logs),
EDHUB_E2E_START_TIMEOUT (default 20 s), EDHUB_E2E_HTTP_TIMEOUT, EDHUB_MODEL.
Exit status: 0 when everything passed, 1 on any failure or error, 2 on usage/setup problems.
"""

import argparse
import glob
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def module_names():
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(HERE, 'test_*.py')))


def count_tests(suite):
    n = 0
    for t in suite:
        n += count_tests(t) if isinstance(t, unittest.TestSuite) else 1
    return n


class Result(unittest.TextTestResult):
    """Keeps per-module outcome counts."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.per_module = {}

    def _mod(self, test):
        name = getattr(test, '__module__', None)
        if name is None or name == 'unittest.suite':
            # _ErrorHolder for setUpModule/tearDownModule/setUpClass failures
            desc = str(test)
            for m in module_names():
                if m in desc:
                    return m
            return '?'
        return name

    def _bump(self, test, key):
        d = self.per_module.setdefault(self._mod(test), {'run': 0, 'ok': 0, 'fail': 0, 'error': 0, 'skip': 0})
        d[key] += 1

    def startTest(self, test):
        super().startTest(test)
        self._bump(test, 'run')

    def addSuccess(self, test):
        super().addSuccess(test)
        self._bump(test, 'ok')

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bump(test, 'fail')

    def addError(self, test, err):
        super().addError(test, err)
        self._bump(test, 'error')

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._bump(test, 'skip')

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._bump(test, 'ok')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._bump(test, 'fail')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 epilog=__doc__.split('\n\n', 2)[2],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('filters', nargs='*', metavar='FILTER', help='module name substrings')
    ap.add_argument('-v', '--verbose', action='store_true')
    ap.add_argument('-q', '--quiet', action='store_true')
    ap.add_argument('--failfast', action='store_true')
    ap.add_argument('--list', action='store_true')
    ap.add_argument('-k', dest='patterns', action='append', default=None, metavar='PATTERN')
    args = ap.parse_args(argv)

    names = module_names()
    if args.filters:
        names = [n for n in names if any(f.lower() in n.lower() for f in args.filters)]
    if not names:
        print('run.py: no test module matches %s (have: %s)' % (args.filters, ', '.join(module_names())),
              file=sys.stderr)
        return 2

    loader = unittest.TestLoader()
    if args.patterns:
        loader.testNamePatterns = ['*%s*' % p if '*' not in p else p for p in args.patterns]
    suites = []
    for n in names:
        try:
            s = loader.loadTestsFromName(n)
        except Exception as e:  # import error in a module
            print('run.py: cannot load %s: %s' % (n, e), file=sys.stderr)
            return 2
        suites.append((n, s))

    if args.list:
        total = 0
        for n, s in suites:
            c = count_tests(s)
            total += c
            print('%-32s %5d' % (n, c))
        print('%-32s %5d' % ('total', total))
        return 0

    import harness
    if not os.path.isfile(harness.EDHUB):
        print('run.py: edhub binary not found at %s (run `make` or set EDHUB)' % harness.EDHUB, file=sys.stderr)
        return 2

    verbosity = 2 if args.verbose else (0 if args.quiet else 1)
    runner = unittest.TextTestRunner(verbosity=verbosity, failfast=args.failfast, resultclass=Result,
                                     stream=sys.stderr)
    t0 = time.time()
    result = runner.run(unittest.TestSuite([s for _, s in suites]))
    dt = time.time() - t0

    print('\n==== edhub e2e summary (%.1fs, binary %s) ====' % (dt, harness.EDHUB))
    print('%-32s %6s %6s %6s %6s %6s' % ('module', 'run', 'ok', 'fail', 'error', 'skip'))
    tot = {'run': 0, 'ok': 0, 'fail': 0, 'error': 0, 'skip': 0}
    for n, _ in suites:
        d = result.per_module.get(n, {'run': 0, 'ok': 0, 'fail': 0, 'error': 0, 'skip': 0})
        for k in tot:
            tot[k] += d[k]
        print('%-32s %6d %6d %6d %6d %6d' % (n, d['run'], d['ok'], d['fail'], d['error'], d['skip']))
    for extra in sorted(set(result.per_module) - set(n for n, _ in suites)):
        d = result.per_module[extra]
        for k in tot:
            tot[k] += d[k]
        print('%-32s %6d %6d %6d %6d %6d' % (extra, d['run'], d['ok'], d['fail'], d['error'], d['skip']))
    print('%-32s %6d %6d %6d %6d %6d' % ('TOTAL', tot['run'], tot['ok'], tot['fail'], tot['error'], tot['skip']))
    bad = [(t, 'FAIL') for t, _ in result.failures] + [(t, 'ERROR') for t, _ in result.errors]
    if bad:
        print('\nfailed:')
        for t, kind in bad:
            print('  %-5s %s' % (kind, t.id() if hasattr(t, 'id') else t))
    ok = result.wasSuccessful() and result.testsRun > 0
    print('\nRESULT: %s' % ('PASS' if ok else 'FAIL'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
