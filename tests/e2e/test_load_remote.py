"""`edhub load --api URL`: loading into an Ed-Fi API over HTTP (OAuth, many connections, retries).

Against a running edhub: the Grand Bend DS 5.2 sample plus its supplement load with zero rejections through the
batch endpoint and with --no-batch, with the same counts as a local load; bad records are reported with the
server's problem details (exit 1); records in the wrong order within one level load thanks to 409 retries; a wrong
secret, an unreachable URL and a bad URL are clear errors. Against a small scripted HTTP server on 127.0.0.1: 503s,
a dropped connection, 429 with Retry-After, an expired token (401), a persistent 500 and the batch path's retries;
an API that becomes unreachable stops the load."""

import base64
import http.server
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

import fixtures as f
import harness as h

SHARED = os.path.abspath(os.path.join(h.REPO, '..', 'shared', 'edfi', 'sample-data'))
if not os.path.isdir(SHARED):
    SHARED = '/work/shared/edfi/sample-data'
GB = os.path.join(SHARED, 'grand-bend-ds5.2', 'xml')
GB_SUPP = os.path.join(SHARED, 'grand-bend-ds5.2-supplement', 'xml')
HAVE_SAMPLES = os.path.isdir(GB) and os.path.isdir(GB_SUPP)
SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:')
SUMMARY = r'(\d+) records: (\d+) created, (\d+) updated, (\d+) rejected'


def run(*args, env=None, stdin=None, timeout=900):
    e = dict(os.environ)
    e.pop('EDHUB_KEY', None)
    e.pop('EDHUB_SECRET', None)
    e.update(env or {})
    p = subprocess.run([h.EDHUB] + list(args), capture_output=True, text=True, timeout=timeout, cwd=h.REPO, env=e,
                       input=stdin)
    for m in SANITIZER_MARKERS:
        if m in p.stderr:
            raise AssertionError('sanitizer report from edhub %s:\n%s' % (' '.join(args[:3]), p.stderr[-6000:]))
    return p.returncode, p.stdout, p.stderr


def summary(out):
    import re
    m = re.search(SUMMARY, out)
    if not m:
        raise AssertionError('no summary in %r' % out)
    return tuple(int(x) for x in m.groups())


def read_errors(path):
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


def jsonl(path, *records):
    with open(path, 'w') as fh:
        for res, doc in records:
            fh.write(json.dumps({'resource': '/ed-fi/' + res, 'document': doc}) + '\n')
    return path


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


@unittest.skipUnless(HAVE_SAMPLES, 'the Ed-Fi sample data (../shared/edfi/sample-data) is not beside the repository')
class GrandBendOverHttp(h.ServersOfItsOwn, unittest.TestCase):
    """The whole sample into running edhub servers over HTTP, batch and per record, compared with a local load."""

    @classmethod
    def setUpClass(cls):
        cls.servers = []
        ref = cls.server('remote-ref')
        ref.stop()
        code, out, err = run('load', '--data', ref.data, GB, GB_SUPP)
        assert code == 0, err[-3000:]
        cls.local = summary(out)
        cls.batch = cls.server('remote-batch')
        cls.errs_batch = os.path.join(cls.batch.tmp, 'errors.jsonl')
        # key and secret from the environment
        cls.res_batch = run('load', '--api', cls.batch.base_url, '--connections', '16', '--errors', cls.errs_batch,
                            GB, GB_SUPP, env={'EDHUB_KEY': cls.batch.key, 'EDHUB_SECRET': cls.batch.secret})
        cls.single = cls.server('remote-single')
        cls.errs_single = os.path.join(cls.single.tmp, 'errors.jsonl')
        cls.res_single = run('load', '--api', cls.single.base_url + '/', '--key', cls.single.key, '--secret',
                             cls.single.secret, '--no-batch', '--connections', '16', '--errors', cls.errs_single,
                             GB, GB_SUPP)


    def check(self, res, errs):
        code, out, err = res
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual(read_errors(errs), [])
        self.assertEqual(summary(out), self.local, 'the same counts as a local load')
        self.assertGreater(self.local[1], 30000)
        self.assertIn('ETA', err, 'a progress bar with rate and ETA')

    def test_batch(self):
        self.check(self.res_batch, self.errs_batch)
        self.assertIn('edhub batch requests', self.res_batch[2])

    def test_one_request_per_record(self):
        self.check(self.res_single, self.errs_single)
        self.assertIn('one request per record', self.res_single[2])

    def test_the_api_holds_the_same_data(self):
        a, b = self.batch.client(), self.single.client()
        for ep in ('students', 'studentSchoolAssociations', 'studentSectionAssociations', 'sections',
                   'studentSchoolAttendanceEvents', 'gradeLevelDescriptors', 'contacts', 'assessments'):
            n = [int(c.get(h.DATA + '/%s?limit=1&totalCount=true' % ep).headers['Total-Count']) for c in (a, b)]
            self.assertEqual(n[0], n[1], ep)
            self.assertGreater(n[0], 0, ep)
        r = a.get(h.DATA + '/students?studentUniqueId=604821')
        self.assertEqual((r.json[0]['firstName'], r.json[0]['lastSurname']), ('Tyrone', 'Dyer'))

    def test_zz_rerun_updates(self):
        code, out, err = run('load', '--api', self.batch.base_url, '--key', self.batch.key, '--secret', '-',
                             '--errors', self.errs_batch, GB_SUPP, stdin=self.batch.secret + '\n')
        self.assertEqual(code, 0, err[-2000:])
        n, created, updated, rejected = summary(out)
        self.assertEqual((created, rejected), (0, 0))
        self.assertEqual(updated, n)


class AgainstEdhub(h.EdhubTestCase):
    """Small loads into the module's edhub server."""

    def load(self, *args, errors=None):
        errors = errors or os.path.join(tempfile.mkdtemp(dir=self.server.tmp), 'errors.jsonl')
        code, out, err = run('load', '--api', self.server.base_url, '--key', self.server.key, '--secret',
                             self.server.secret, '--errors', errors, *args, timeout=300)
        return code, out, err, read_errors(errors)

    def path(self, name):
        return os.path.join(tempfile.mkdtemp(dir=self.server.tmp), name)

    def test_wrong_order_within_a_file_loads_by_409_retries(self):
        for extra in ([], ['--no-batch']):
            st = f.student()
            sid = st['studentUniqueId']
            p = jsonl(self.path('order.jsonl'), ('studentSchoolAssociations', f.ssa(sid)), ('students', st))
            code, out, err, errs = self.load(*extra, p)
            self.assertEqual(code, 0, err)
            self.assertEqual(errs, [])
            self.assertEqual(summary(out), (2, 2, 0, 0), out)
            r = self.api.get(h.DATA + '/studentSchoolAssociations?studentUniqueId=' + sid)
            self.assertEqual(len(r.json), 1)

    def test_bad_records_are_reported_with_the_problem(self):
        for extra in ([], ['--no-batch']):
            good = f.student()
            no_birth = f.student()
            del no_birth['birthDate']
            orphan = f.ssa('no-such-student-' + h.uid())
            bad_descriptor = f.student()
            bad_descriptor['birthSexDescriptor'] = 'uri://ed-fi.org/SexDescriptor#Nonsense'
            p = jsonl(self.path('bad.jsonl'), ('students', good), ('students', no_birth),
                      ('studentSchoolAssociations', orphan), ('students', bad_descriptor), ('nothings', {}))
            code, out, err, errs = self.load(*extra, p)
            self.assertEqual(code, 1, err)
            self.assertEqual(summary(out), (5, 1, 0, 4), out)
            self.assertIn('rejected records are listed in', err)
            by_line = {e['line']: e for e in errs}
            self.assertEqual(sorted(by_line), [2, 3, 4, 5])
            for e in errs:
                self.assertEqual(e['file'], p)
                self.assertTrue(e['type'] and e['detail'], e)
            self.assertEqual((by_line[2]['resource'], by_line[2]['status']), ('/ed-fi/students', 400))
            self.assertIn('$.birthDate', by_line[2]['validationErrors'])
            self.assertIn('correlationId', by_line[2], 'the server\'s problem+json is passed on')
            self.assertEqual(by_line[3]['status'], 409)
            self.assertEqual(by_line[3]['type'], 'urn:ed-fi:api:data-conflict:unresolved-reference')
            self.assertEqual(by_line[3]['key']['studentUniqueId'], orphan['studentReference']['studentUniqueId'],
                             'the natural key of the record')
            self.assertEqual(by_line[3]['key']['schoolId'], orphan['schoolReference']['schoolId'])
            self.assertEqual(by_line[4]['status'], 400)
            self.assertIn('$.birthSexDescriptor', by_line[4]['validationErrors'])
            self.assertEqual(by_line[5]['status'], 404)

    def test_wrong_secret(self):
        p = jsonl(self.path('one.jsonl'), ('students', f.student()))
        code, out, err = run('load', '--api', self.server.base_url, '--key', self.server.key, '--secret',
                             'not-the-secret', p)
        self.assertNotEqual(code, 0)
        self.assertIn('the API refused the key and secret: check them', err)
        code, out, err = run('load', '--api', self.server.base_url, p)
        self.assertEqual(code, 2)
        self.assertIn('EDHUB_KEY', err)

    def test_unreachable_and_bad_urls(self):
        p = jsonl(self.path('one.jsonl'), ('students', f.student()))
        url = 'http://127.0.0.1:%d' % h.free_port()
        code, out, err = run('load', '--api', url, '--key', 'k', '--secret', 's', p, timeout=120)
        self.assertEqual(code, 1)
        self.assertIn('cannot reach the Ed-Fi API at ' + url, err)
        code, out, err = run('load', '--api', 'ftp://127.0.0.1/', '--key', 'k', '--secret', 's', p)
        self.assertEqual(code, 1)
        self.assertIn("--api must be the API's base URL", err)
        code, out, err = run('load', '--api', self.server.base_url + '/nowhere', '--key', self.server.key,
                             '--secret', self.server.secret, p)
        self.assertEqual(code, 1)
        self.assertIn('no OAuth token endpoint', err)
        code, out, err = run('load', '--api', url, '--data', self.server.data, p)
        self.assertEqual(code, 2)
        self.assertIn('not both', err)

    def test_dry_run_sends_nothing(self):
        p = self.path('one.xml')
        with open(p, 'w') as fh:
            fh.write('<InterchangeStudent xmlns="http://ed-fi.org/5.2.0"><Student><StudentUniqueId>dry-r1'
                     '</StudentUniqueId><Name><FirstName>A</FirstName><LastSurname>B</LastSurname></Name>'
                     '<BirthData><BirthDate>2010-01-02</BirthDate></BirthData></Student></InterchangeStudent>')
        url = 'http://127.0.0.1:%d' % h.free_port()  # nothing listens: nothing is sent
        code, out, err = run('load', '--api', url, '--dry-run', p)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out.splitlines()[0])['document']['studentUniqueId'], 'dry-r1')


# --------------------------------------------------------------------------
# A scripted Ed-Fi API on 127.0.0.1 (retries, Retry-After, token renewal)

class FakeApi:
    """Answers discovery, tokens (key k / secret s) and student POSTs; each studentUniqueId gets the statuses of
    its script in turn ('drop' closes the connection unanswered), then 201. With batch=True it also has edhub's
    batch endpoint, whose first non-empty request answers 503."""

    def __init__(self, script, batch=False, data_url=None):
        self.script = {k: list(v) for k, v in script.items()}
        self.batch = batch
        self.calls = []        # (time, uid, status, token)
        self.batches = []      # statuses of the non-empty batch requests
        self.tokens = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *a):
                pass

            def answer(self, status, body=None, headers=()):
                data = json.dumps(body).encode() if body is not None else b''
                self.send_response(status)
                self.send_header('Content-Type', 'application/json' if status < 400 else 'application/problem+json')
                self.send_header('Content-Length', str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == '/':
                    self.answer(200, {'version': '7.3', 'applicationName': 'Fake ODS/API',
                                      'dataModels': [{'name': 'Ed-Fi', 'version': '5.2.0'}],
                                      'urls': {'oauth': fake.base + '/oauth/token',
                                               'dataManagementApi': (data_url or fake.base + '/data/v3') + '/'}})
                else:
                    self.answer(404, {'detail': 'no'})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
                if self.path == '/oauth/token':
                    ok = self.headers.get('Authorization') == 'Basic ' + base64.b64encode(b'k:s').decode()
                    if not ok:
                        return self.answer(401, {'error': 'invalid_client'})
                    with fake.lock:
                        fake.tokens += 1
                        tok = 'tok%d' % fake.tokens
                    return self.answer(200, {'access_token': tok, 'expires_in': 1800, 'token_type': 'bearer'})
                token = (self.headers.get('Authorization') or '')[7:]
                if self.path == '/edhub/v1/batch' and fake.batch:
                    lines = [json.loads(l) for l in body.decode().splitlines() if l.strip()]
                    if not lines:
                        return self.answer(200, {'results': [], 'created': 0, 'updated': 0, 'rejected': 0})
                    with fake.lock:
                        first = not fake.batches
                        fake.batches.append(503 if first else 200)
                    if first:
                        return self.answer(503, {'detail': 'busy', 'type': 'urn:fake:busy', 'status': 503})
                    results = []
                    for i, rec in enumerate(lines, 1):
                        status = fake.next_status(rec['document']['studentUniqueId'], token)
                        item = {'line': i, 'status': status}
                        if status >= 400:
                            item['problem'] = {'detail': 'scripted %d' % status, 'type': 'urn:fake:%d' % status,
                                               'status': status}
                        results.append(item)
                    return self.answer(200, {'results': results})
                if not self.path.startswith('/data/v3/ed-fi/students'):
                    return self.answer(404, {'detail': 'not found', 'type': 'urn:fake:not-found', 'status': 404})
                uid_ = json.loads(body)['studentUniqueId']
                status = fake.next_status(uid_, token)
                if status == 'drop':
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if status in (200, 201):
                    return self.answer(status)
                headers = [('Retry-After', '1')] if status == 429 else []
                problem = {'detail': 'scripted %d for %s' % (status, uid_), 'type': 'urn:fake:%d' % status,
                           'title': 'Scripted', 'status': status, 'correlationId': 'fake-1'}
                if status == 400:
                    problem['validationErrors'] = {'$.x': ['scripted']}
                self.answer(status, problem, headers)

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.base = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def next_status(self, uid_, token):
        with self.lock:
            queue = self.script.get(uid_, [])
            status = queue.pop(0) if queue else 201
            if status == 401 and token != 'tok1':
                status = 201  # only the first token is "expired"
            self.calls.append((time.monotonic(), uid_, status, token))
        return status

    def times(self, uid_):
        return [c[0] for c in self.calls if c[1] == uid_]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class AgainstAScriptedApi(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='edhub-e2e-remote-')
        self.errors = os.path.join(self.dir, 'errors.jsonl')

    def students(self, *uids):
        return jsonl(os.path.join(self.dir, 'students.jsonl'),
                     *[('students', dict(f.student(), studentUniqueId=u)) for u in uids])

    def load(self, fake, *args):
        return run('load', '--api', fake.base, '--key', 'k', '--secret', 's', '--errors', self.errors, *args,
                   timeout=120)

    def test_retries_backoff_retry_after_and_token_renewal(self):
        fake = FakeApi({'r503': [503, 503], 'rdrop': ['drop'], 'r429': [429], 'r401': [401],
                        'r500': [500] * 5, 'r400': [400]})
        try:
            p = self.students('ok', 'r503', 'rdrop', 'r429', 'r401', 'r500', 'r400')
            code, out, err = self.load(fake, p)
        finally:
            fake.close()
        self.assertEqual(code, 1, err)
        self.assertIn('one request per record', err, 'no batch endpoint: one request per record')
        self.assertEqual(summary(out), (7, 5, 0, 2), err)
        attempts = {u: len(fake.times(u)) for u in ('ok', 'r503', 'rdrop', 'r429', 'r401', 'r500', 'r400')}
        self.assertEqual(attempts, {'ok': 1, 'r503': 3, 'rdrop': 2, 'r429': 2, 'r401': 2, 'r500': 5, 'r400': 1})
        t = fake.times('r429')
        self.assertGreaterEqual(t[1] - t[0], 0.9, 'Retry-After: 1 is honoured')
        t = fake.times('r500')
        gaps = [b - a for a, b in zip(t, t[1:])]
        self.assertGreaterEqual(gaps[-1], 1.5, 'exponential backoff: %r' % gaps)
        self.assertLess(t[-1] - t[0], 30)
        self.assertEqual(fake.tokens, 2, 'the token is renewed once after a 401')
        self.assertEqual([c[3] for c in fake.calls if c[1] == 'r401'], ['tok1', 'tok2'])
        errs = {e['key']['studentUniqueId']: e for e in read_errors(self.errors)}
        self.assertEqual(sorted(errs), ['r400', 'r500'])
        self.assertEqual((errs['r500']['status'], errs['r500']['type'], errs['r500']['detail']),
                         (500, 'urn:fake:500', 'scripted 500 for r500'))
        self.assertEqual(errs['r500']['correlationId'], 'fake-1')
        self.assertEqual(errs['r400']['validationErrors'], {'$.x': ['scripted']})
        self.assertEqual((errs['r400']['file'], errs['r400']['line'], errs['r400']['resource']),
                         (p, 7, '/ed-fi/students'))

    def test_batch_requests_are_retried(self):
        fake = FakeApi({'b409': [409, 409]}, batch=True)
        try:
            code, out, err = self.load(fake, self.students('b1', 'b409', 'b2'))
        finally:
            fake.close()
        self.assertEqual(code, 0, err)
        self.assertIn('edhub batch requests', err)
        self.assertEqual(summary(out), (3, 3, 0, 0))
        self.assertEqual(fake.batches, [503, 200, 200, 200], 'the 503 batch is sent again, then b409 twice')
        self.assertEqual(len(fake.times('b409')), 3)

    def test_an_api_that_goes_away_stops_the_load(self):
        fake = FakeApi({}, data_url='http://127.0.0.1:%d/data/v3' % h.free_port())
        try:
            t0 = time.monotonic()
            code, out, err = self.load(fake, self.students('gone1', 'gone2'))
            took = time.monotonic() - t0
        finally:
            fake.close()
        self.assertEqual(code, 1)
        self.assertIn('lost the connection to the API', err)
        self.assertIn('not sent', err)
        self.assertLess(took, 60)

    def test_wrong_secret_on_another_api(self):
        fake = FakeApi({})
        try:
            code, out, err = run('load', '--api', fake.base, '--key', 'k', '--secret', 'x', self.students('w1'))
        finally:
            fake.close()
        self.assertEqual(code, 1)
        self.assertIn('the API refused the key and secret: check them', err)


if __name__ == '__main__':
    unittest.main()
