"""End-to-end test harness for edhub.

Starts the REAL server binary on a loopback port and drives it over HTTP.
Python 3 standard library only.

Environment:
  EDHUB                      path of the binary (default: <repo>/edhub)
  EDHUB_E2E_KEEP=1           keep the temporary data directories and logs
  EDHUB_E2E_START_TIMEOUT    seconds to wait for the server to answer GET / (default 20)
  EDHUB_E2E_INIT_TIMEOUT     seconds allowed for `edhub init` (default 600)
  EDHUB_E2E_STOP_TIMEOUT     seconds allowed between SIGTERM and exit (default 30)
  EDHUB_E2E_HTTP_TIMEOUT     seconds per HTTP request (default 120)
  EDHUB_MODEL                ApiSchema JSON used by the model-driven tests (default: the reconstructed
                             DS 5.2 file in /work/shared, else model/ds-5.2/ApiSchema.json)

Typical use in a test module:

    import harness as h
    def setUpModule():    h.start_module_server(__name__)
    def tearDownModule(): h.stop_module_server(__name__)
    class MyTests(h.EdhubTestCase):
        def test_x(self):
            r = self.api.get('/data/v3/ed-fi/students')
            self.assertEqual(r.status, 200)
"""

import base64
import http.client
import itertools
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
EDHUB = os.path.abspath(os.environ.get('EDHUB') or os.path.join(REPO, 'edhub'))
KEEP = os.environ.get('EDHUB_E2E_KEEP') == '1'
START_TIMEOUT = float(os.environ.get('EDHUB_E2E_START_TIMEOUT', '20'))
INIT_TIMEOUT = float(os.environ.get('EDHUB_E2E_INIT_TIMEOUT', '600'))
STOP_TIMEOUT = float(os.environ.get('EDHUB_E2E_STOP_TIMEOUT', '30'))
HTTP_TIMEOUT = float(os.environ.get('EDHUB_E2E_HTTP_TIMEOUT', '120'))
# EDHUB_E2E_PG=DIR: run every server on PostgreSQL, in a new database of the
# test server started by `scripts/pg-test-server.sh start DIR`.
PG_DIR = os.environ.get('EDHUB_E2E_PG') or None
SHARED_MODEL = '/work/shared/edfi/api-schema/ds-5.2-reconstructed/ds-5.2-api-schema-reconstructed.json'

DATA = '/data/v3/ed-fi'
UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
LASTMOD_RE = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$')
PROBLEM_MEMBERS = ('detail', 'type', 'title', 'status', 'correlationId', 'validationErrors', 'errors')

# Grand Bend organizations loaded by `edhub init` (samples/bootstrap).
ESC_ID = 255950
LEA_ID = 255901
HIGH_SCHOOL = 255901001
MIDDLE_SCHOOL = 255901044
ELEMENTARY_SCHOOL = 255901107


# --------------------------------------------------------------------------
# small utilities

_counter = itertools.count(1)
_rand = random.Random()


def uid(prefix='e'):
    """A short unique string (fits studentUniqueId's 32 characters)."""
    return '%s%d%s' % (prefix, next(_counter), ''.join(_rand.choice('abcdefghjkmnpqrstuvwxyz') for _ in range(5)))


def unique_int(lo=700000000, hi=2000000000):
    """A unique positive int32 (for educationOrganization ids and the like)."""
    return _rand.randrange(lo, hi - 100000) + next(_counter)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def descriptor(kind, code, ns='uri://ed-fi.org'):
    """uri://ed-fi.org/{Kind}Descriptor#{code}"""
    if not kind.endswith('Descriptor'):
        kind += 'Descriptor'
    return '%s/%s#%s' % (ns, kind, code)


def tail(path, n=80):
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError:
        return '(no %s)' % path
    lines = data.decode('utf-8', 'replace').splitlines()
    return '\n'.join(lines[-n:])


REPO_MODEL = os.path.join(REPO, 'model', 'ds-5.2', 'ApiSchema.json')


def load_model():
    """The ed-fi project schema (dict) of the ApiSchema file (the spec's reconstructed DS 5.2 file)."""
    path = os.environ.get('EDHUB_MODEL') or (SHARED_MODEL if os.path.isfile(SHARED_MODEL) else REPO_MODEL)
    with open(path, 'rb') as f:
        d = json.load(f)
    ps = d['projectSchemas']
    for key, proj in ps.items():
        if key.lower() == 'ed-fi' or proj.get('projectName') == 'Ed-Fi':
            return proj
    raise RuntimeError('no Ed-Fi project in %s' % path)


_model_cache = None


def model():
    global _model_cache
    if _model_cache is None:
        _model_cache = load_model()
    return _model_cache


# --------------------------------------------------------------------------
# HTTP

class Headers:
    """Case-insensitive, multi-valued response headers."""

    def __init__(self, items):
        self.items = list(items)

    def get(self, name, default=None):
        n = name.lower()
        for k, v in self.items:
            if k.lower() == n:
                return v
        return default

    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self.items if k.lower() == n]

    def __contains__(self, name):
        return self.get(name) is not None

    def __getitem__(self, name):
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __repr__(self):
        return 'Headers(%r)' % (self.items,)


class Response:
    def __init__(self, status, reason, headers, body, method='', path=''):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.method = method
        self.path = path
        self._json = None
        self._parsed = False

    @property
    def text(self):
        return self.body.decode('utf-8', 'replace')

    @property
    def json(self):
        if not self._parsed:
            self._parsed = True
            try:
                self._json = json.loads(self.body.decode('utf-8')) if self.body else None
            except ValueError:
                self._json = None
        return self._json

    @property
    def content_type(self):
        return (self.headers.get('Content-Type') or '').split(';')[0].strip().lower()

    @property
    def location_id(self):
        loc = self.headers.get('Location') or ''
        return loc.rstrip('/').rsplit('/', 1)[-1] if loc else None

    def etag_value(self):
        """ETag header without the surrounding quotes."""
        e = self.headers.get('ETag')
        if e is None:
            return None
        e = e.strip()
        if e.startswith('W/'):
            e = e[2:]
        if len(e) >= 2 and e[0] == '"' and e[-1] == '"':
            e = e[1:-1]
        return e

    def __repr__(self):
        body = self.text
        if len(body) > 1500:
            body = body[:1500] + '...(%d bytes)' % len(self.body)
        return '<%s %s -> %d %s; headers=%s; body=%s>' % (self.method, self.path, self.status, self.reason,
                                                         self.headers.items, body)


def _parse_raw_response(data, method='', path=''):
    """Parse one HTTP/1.x response from raw bytes (for raw-socket tests)."""
    if not data:
        return None
    head, sep, body = data.partition(b'\r\n\r\n')
    if not sep:
        head, sep, body = data.partition(b'\n\n')
    lines = head.decode('latin-1').splitlines()
    if not lines:
        return None
    m = re.match(r'^HTTP/\d\.\d\s+(\d{3})\s*(.*)$', lines[0])
    if not m:
        return None
    hdrs = []
    for line in lines[1:]:
        if ':' in line:
            k, v = line.split(':', 1)
            hdrs.append((k.strip(), v.strip()))
    headers = Headers(hdrs)
    cl = headers.get('Content-Length')
    if cl is not None and cl.strip().isdigit():
        body = body[:int(cl)]
    elif (headers.get('Transfer-Encoding') or '').lower() == 'chunked':
        body = _dechunk(body)
    return Response(int(m.group(1)), m.group(2), headers, body, method, path)


def _dechunk(data):
    out = b''
    while data:
        line, sep, rest = data.partition(b'\r\n')
        if not sep:
            break
        try:
            n = int(line.split(b';')[0].strip() or b'0', 16)
        except ValueError:
            break
        if n == 0:
            break
        out += rest[:n]
        data = rest[n + 2:]
    return out


class Client:
    """HTTP client bound to one server, optionally with a bearer token."""

    def __init__(self, server, token=None):
        self.server = server
        self.token = token

    @property
    def base(self):
        return self.server.base_url

    def request(self, method, path, body=None, headers=None, auth=True, content_type='application/json',
                timeout=None):
        """Send one request on a fresh connection.

        body: dict/list (JSON-encoded), str (UTF-8) or bytes (sent as is), or None.
        content_type: sent when a body is given; None to omit the header.
        headers: extra headers (override defaults).
        """
        hdrs = {}
        if auth and self.token:
            hdrs['Authorization'] = 'Bearer ' + self.token
        data = None
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode('utf-8')
            elif isinstance(body, str):
                data = body.encode('utf-8')
            else:
                data = bytes(body)
            if content_type is not None:
                hdrs['Content-Type'] = content_type
        if headers:
            for k, v in headers.items():
                for existing in list(hdrs):
                    if existing.lower() == k.lower():
                        del hdrs[existing]
                if v is not None:
                    hdrs[k] = v
        conn = http.client.HTTPConnection('127.0.0.1', self.server.port, timeout=timeout or HTTP_TIMEOUT)
        try:
            if data is None and method in ('POST', 'PUT', 'PATCH'):
                data = b''
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            return Response(resp.status, resp.reason, Headers(resp.getheaders()), raw, method, path)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request('GET', path, **kw)

    def post(self, path, body=None, **kw):
        return self.request('POST', path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request('PUT', path, body, **kw)

    def delete(self, path, **kw):
        return self.request('DELETE', path, **kw)

    # convenience on top of the resource API ------------------------------

    def url(self, endpoint, doc_id=None, query=None):
        p = '%s/%s' % (DATA, endpoint)
        if doc_id:
            p += '/' + doc_id
        if query:
            p += '?' + (query if isinstance(query, str) else urllib.parse.urlencode(query))
        return p

    def create(self, endpoint, doc, expect=(201, 200)):
        """POST a document, assert success, return its id."""
        r = self.post(self.url(endpoint), doc)
        if r.status not in expect:
            raise AssertionError('POST %s failed: %r\nbody sent: %s' % (endpoint, r, json.dumps(doc)[:2000]))
        i = r.location_id
        if not i:
            raise AssertionError('POST %s: no Location header: %r' % (endpoint, r))
        return i

    def read(self, endpoint, doc_id):
        r = self.get(self.url(endpoint, doc_id))
        if r.status != 200:
            raise AssertionError('GET %s/%s failed: %r' % (endpoint, doc_id, r))
        return r.json

    def query(self, endpoint, query=None):
        r = self.get(self.url(endpoint, query=query))
        if r.status != 200:
            raise AssertionError('GET %s?%s failed: %r' % (endpoint, query, r))
        return r.json

    def ensure_descriptor(self, uri, short=None):
        """Make sure a descriptor value exists (POST upsert; 200 or 201)."""
        ns, code = uri.split('#', 1)
        kind = ns.rsplit('/', 1)[-1]
        endpoint = kind[0].lower() + kind[1:] + 's'
        body = {'namespace': ns, 'codeValue': code, 'shortDescription': short or code[:75]}
        r = self.post(self.url(endpoint), body)
        if r.status not in (200, 201):
            raise AssertionError('could not ensure descriptor %s: %r' % (uri, r))
        return r.location_id


def raw_request(port, data, timeout=10.0, read_all=True, half_close=False):
    """Send raw bytes, return (raw response bytes, parsed Response or None)."""
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                c = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not c:
                break
            chunks.append(c)
            resp = _parse_raw_response(b''.join(chunks))
            if resp is not None and not read_all:
                break
            if resp is not None:
                cl = resp.headers.get('Content-Length')
                whole = b''.join(chunks)
                head_len = whole.find(b'\r\n\r\n')
                if cl is not None and cl.strip().isdigit() and head_len >= 0 and \
                        len(whole) - head_len - 4 >= int(cl):
                    break
        raw = b''.join(chunks)
        return raw, _parse_raw_response(raw)
    finally:
        s.close()


# --------------------------------------------------------------------------
# server process

class ServerError(Exception):
    pass


class Server:
    def __init__(self, name):
        self.name = name
        self.tmp = None
        self.data = None
        self.port = None
        self.proc = None
        self.key = 'e2e' + uid('k')
        self.secret = 'S' + ''.join(_rand.choice('ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789')
                                    for _ in range(23))
        self.had_failures = False
        self.exit_code = None
        self.extra_args = []   # more `edhub serve` options
        self.root = ''         # the route root (tenant and context segments) of the token and ready checks

    @property
    def base_url(self):
        return 'http://127.0.0.1:%d' % self.port

    @property
    def out_path(self):
        return os.path.join(self.tmp, 'serve.stdout')

    @property
    def err_path(self):
        return os.path.join(self.tmp, 'serve.stderr')

    def logs(self, n=80):
        return '--- %s (last %d lines) ---\n%s\n--- %s (last %d lines) ---\n%s\n' % (
            self.err_path, n, tail(self.err_path, n), self.out_path, n, tail(self.out_path, n))

    def start(self):
        if not os.path.isfile(EDHUB) or not os.access(EDHUB, os.X_OK):
            raise ServerError('edhub binary not found or not executable: %s (build with `make`, or set EDHUB)'
                              % EDHUB)
        self.tmp = tempfile.mkdtemp(prefix='edhub-e2e-%s-' % self.name.replace('.', '_'))
        self.data = os.path.join(self.tmp, 'data')
        init_log = os.path.join(self.tmp, 'init.log')
        with open(init_log, 'wb') as lf:
            try:
                db_args = []
                if PG_DIR:
                    name = 'e2e_%s' % re.sub(r'[^a-z0-9]', '', uid('d').lower())
                    url = subprocess.check_output([os.path.join(REPO, 'scripts', 'pg-test-server.sh'), 'createdb',
                                                   PG_DIR, name], text=True).strip()
                    db_args = ['--database', url]
                rc = subprocess.call([EDHUB, 'init', '--data', self.data, '--client-key', self.key,
                                      '--client-secret', self.secret] + db_args,
                                     stdout=lf, stderr=subprocess.STDOUT, cwd=REPO, timeout=INIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise ServerError('edhub init timed out after %ss\n%s' % (INIT_TIMEOUT, tail(init_log)))
        if rc != 0:
            raise ServerError('edhub init exited %d\n%s' % (rc, tail(init_log)))
        last_err = None
        for _attempt in range(3):
            self.port = free_port()
            out = open(self.out_path, 'ab')
            err = open(self.err_path, 'ab')
            try:
                self.proc = subprocess.Popen([EDHUB, 'serve', '--data', self.data,
                                              '--listen', '127.0.0.1:%d' % self.port] + self.extra_args,
                                             stdout=out, stderr=err, cwd=REPO)
            finally:
                out.close()
                err.close()
            try:
                self._wait_ready()
                return self
            except ServerError as e:
                last_err = e
                if self.proc.poll() is None:
                    self._kill()
                    break
                # exited early: maybe the port was taken in the meantime; retry
                if 'in use' not in tail(self.err_path, 20).lower():
                    break
        raise ServerError('edhub serve did not come up: %s\n%s' % (last_err, self.logs()))

    def _wait_ready(self):
        deadline = time.time() + START_TIMEOUT
        last = None
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise ServerError('server exited early with code %s' % self.proc.returncode)
            try:
                conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=5)
                conn.request('GET', self.root + '/')
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    return
                last = 'GET / -> %d' % resp.status
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.1)
        raise ServerError('GET / did not answer 200 within %ss (last: %s)' % (START_TIMEOUT, last))

    def serve_again(self):
        """Serve the same data directory again (after stop()) on a new port."""
        self.port = free_port()
        out = open(self.out_path, 'ab')
        err = open(self.err_path, 'ab')
        try:
            self.proc = subprocess.Popen([EDHUB, 'serve', '--data', self.data, '--listen', '127.0.0.1:%d' % self.port]
                                         + self.extra_args, stdout=out, stderr=err, cwd=REPO)
        finally:
            out.close()
            err.close()
        self._wait_ready()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _kill(self):
        try:
            self.proc.kill()
            self.proc.wait(10)
        except Exception:
            pass

    def stop(self):
        """SIGTERM, wait, return the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._kill()
                self.exit_code = None
                return None
        self.exit_code = self.proc.returncode
        return self.exit_code

    def sanitizer_report(self):
        text = tail(self.err_path, 100000)
        for marker in ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:',
                       'ERROR: ThreadSanitizer', 'WARNING: ThreadSanitizer', 'SUMMARY: '):
            if marker in text:
                return text
        return None

    def cleanup(self):
        if self.tmp and not KEEP and not self.had_failures:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # tokens ---------------------------------------------------------------

    def get_token(self, key=None, secret=None):
        c = Client(self)
        cred = base64.b64encode(('%s:%s' % (key or self.key, secret or self.secret)).encode()).decode()
        r = c.request('POST', self.root + '/oauth/token', 'grant_type=client_credentials',
                      content_type='application/x-www-form-urlencoded',
                      headers={'Authorization': 'Basic ' + cred}, auth=False)
        if r.status != 200 or not r.json or 'access_token' not in r.json:
            raise ServerError('could not get a token: %r' % r)
        return r.json['access_token']

    def client(self):
        return Client(self, self.get_token())


# --------------------------------------------------------------------------
# module-level server management

_servers = {}
_current = None


def start_module_server(module_name):
    global _current
    srv = Server(module_name.rsplit('.', 1)[-1])
    try:
        srv.start()
    except Exception:
        srv.had_failures = True
        if srv.proc is not None:
            srv.stop()
        sys.stderr.write('\n[harness] server for %s failed to start; logs kept in %s\n' % (module_name, srv.tmp))
        raise
    _servers[module_name] = srv
    _current = srv
    return srv


def stop_module_server(module_name):
    """Stop with SIGTERM and assert a clean exit (code 0, no sanitizer report)."""
    global _current
    srv = _servers.pop(module_name, None)
    if srv is None:
        return
    if _current is srv:
        _current = None
    was_alive = srv.alive()
    code = srv.stop()
    problems = []
    if not was_alive:
        problems.append('server had already exited (code %s) before SIGTERM' % srv.proc.returncode)
    if code != 0:
        problems.append('server exit code after SIGTERM was %s, expected 0' % code)
    rep = srv.sanitizer_report()
    if rep:
        problems.append('sanitizer report in stderr')
    if problems or srv.had_failures:
        srv.had_failures = True
        sys.stderr.write('\n[harness] %s: %s\n%s[harness] files kept in %s\n' % (
            module_name, '; '.join(problems) or 'tests failed', srv.logs(60), srv.tmp))
    srv.cleanup()
    if problems:
        raise AssertionError('%s: %s\n%s' % (module_name, '; '.join(problems), srv.logs(60)))


def current_server():
    if _current is None:
        raise ServerError('no server running (setUpModule must call harness.start_module_server)')
    return _current


# --------------------------------------------------------------------------
# test classes that start servers of their own, and the CLI

class ServersOfItsOwn:
    """Mixin for a TestCase class that starts servers with cls.server(name): all stopped, checked (exit 0, no
    sanitizer report) and cleaned up in tearDownClass. setUpClass must set cls.servers = [] first."""

    @classmethod
    def server(cls, name):
        srv = Server(name)
        cls.servers.append(srv)
        srv.start()
        return srv

    @classmethod
    def tearDownClass(cls):
        problems = []
        for srv in cls.servers:
            if srv.alive():
                code = srv.stop()
                if code != 0 or srv.sanitizer_report():
                    srv.had_failures = True
                    problems.append('%s: exit %s\n%s' % (srv.name, code, srv.logs(40)))
            srv.cleanup()
        if problems:
            raise AssertionError('\n'.join(problems))


def cli(*args, check=True, timeout=600):
    """Runs `edhub ARGS...`; with check, a non-zero exit fails with its output."""
    p = subprocess.run([EDHUB] + list(args), capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if check and p.returncode != 0:
        raise AssertionError('edhub %s exited %d:\n%s%s' % (' '.join(args), p.returncode, p.stdout, p.stderr))
    return p


def new_database_args(prefix='i'):
    """On the PostgreSQL run, ['--database', URL] of a new database of the test server; else []."""
    if not PG_DIR:
        return []
    name = 'e2e_%s' % uid(prefix).lower()
    url = subprocess.check_output([os.path.join(REPO, 'scripts', 'pg-test-server.sh'), 'createdb', PG_DIR, name],
                                  text=True).strip()
    return ['--database', url]


# --------------------------------------------------------------------------
# base test case

class EdhubTestCase(unittest.TestCase):
    """Base class: self.server, self.api (authorized client), self.anon (no token)."""

    maxDiff = 4000
    _token_cache = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = current_server()
        key = id(cls.server)
        if key not in EdhubTestCase._token_cache:
            EdhubTestCase._token_cache[key] = cls.server.get_token()
        cls.api = Client(cls.server, EdhubTestCase._token_cache[key])
        cls.anon = Client(cls.server)

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result is not None else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > before:
            srv = _current
            if srv is not None:
                srv.had_failures = True
        return out

    def tearDown(self):
        srv = _current
        if srv is not None and not srv.alive():
            self.fail('server died during this test (exit code %s)\n%s' % (srv.proc.returncode, srv.logs()))

    # assertions -----------------------------------------------------------

    def assertStatus(self, r, status, msg=None):
        ok = r.status in status if isinstance(status, (tuple, list, set)) else r.status == status
        if not ok:
            self.fail('%sexpected status %s, got %r' % ((msg + ': ') if msg else '', status, r))

    def assertProblem(self, r, status, type_=None, title=None, detail=None, errors=None,
                      validation_keys=None, validation=None, seven=True):
        """Assert an application/problem+json error response.

        type_ may be a string or a tuple of acceptable strings.
        validation_keys: the exact set of validationErrors keys.
        validation: dict key -> exact list of messages (subset of keys checked).
        errors: the exact errors list.
        """
        self.assertStatus(r, status)
        self.assertEqual(r.content_type, 'application/problem+json',
                         'Content-Type must be application/problem+json: %r' % r)
        body = r.json
        self.assertIsInstance(body, dict, 'problem body must be a JSON object: %r' % r)
        if seven:
            missing = [m for m in PROBLEM_MEMBERS if m not in body]
            self.assertEqual(missing, [], 'problem body lacks members %s: %r' % (missing, r))
            self.assertIsInstance(body['validationErrors'], dict, repr(r))
            self.assertIsInstance(body['errors'], list, repr(r))
            self.assertIsInstance(body['correlationId'], str, 'correlationId must be a string: %r' % r)
        self.assertEqual(body.get('status'), status, 'body status: %r' % r)
        if type_ is not None:
            if isinstance(type_, (tuple, list)):
                self.assertIn(body.get('type'), type_, repr(r))
            else:
                self.assertEqual(body.get('type'), type_, repr(r))
        if title is not None:
            self.assertEqual(body.get('title'), title, repr(r))
        if detail is not None:
            self.assertEqual(body.get('detail'), detail, repr(r))
        if errors is not None:
            self.assertEqual(body.get('errors'), errors, repr(r))
        if validation_keys is not None:
            self.assertEqual(set((body.get('validationErrors') or {}).keys()), set(validation_keys), repr(r))
        if validation is not None:
            ve = body.get('validationErrors') or {}
            for k, msgs in validation.items():
                self.assertIn(k, ve, repr(r))
                self.assertEqual(ve[k], msgs, 'validationErrors[%s]: %r' % (k, r))
        return body

    def assertValidationFailed(self, r, keys=None, contains=None):
        """400 data-validation-failed with (at least / exactly) the given keys."""
        body = self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request:data-validation-failed',
                                  title='Data Validation Failed')
        ve = body['validationErrors']
        if keys is not None:
            self.assertEqual(set(ve.keys()), set(keys), repr(r))
        if contains is not None:
            for k in contains:
                self.assertIn(k, ve, repr(r))
        return body

    def assertIsUuid(self, s, msg=None):
        self.assertIsInstance(s, str, msg)
        self.assertRegex(s, UUID_RE, msg)

    def assertCreated(self, r, endpoint):
        """201 with an absolute Location for endpoint, a quoted ETag and an empty body; returns the id."""
        self.assertStatus(r, 201)
        loc = r.headers.get('Location')
        self.assertIsNotNone(loc, 'no Location: %r' % r)
        prefix = '%s%s/%s/' % (self.server.base_url, DATA, endpoint)
        self.assertTrue(loc.startswith(prefix), 'Location %r does not start with %r' % (loc, prefix))
        doc_id = loc[len(prefix):]
        self.assertRegex(doc_id, UUID_RE, 'Location id: %r' % loc)
        etag = r.headers.get('ETag')
        self.assertIsNotNone(etag, 'no ETag: %r' % r)
        self.assertRegex(etag, r'^"[^"]+"$', 'ETag must be quoted: %r' % etag)
        self.assertEqual(r.body, b'', 'POST 201 must have an empty body: %r' % r)
        return doc_id


def run_threads(n, fn):
    """Run fn(i) in n threads started together; return results (exceptions re-raised)."""
    results = [None] * n
    errors = [None] * n
    barrier = threading.Barrier(n)

    def work(i):
        try:
            barrier.wait(30)
            results[i] = fn(i)
        except BaseException as e:  # noqa: BLE001 - collected and re-raised
            errors[i] = e

    ts = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(HTTP_TIMEOUT * 2)
    for e in errors:
        if e is not None:
            raise e
    return results
