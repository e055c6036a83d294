"""Hostile and malformed HTTP input: garbage request lines and headers, absurd query strings,
bad percent-encoding, broken framing. The server must answer 4xx (problem+json when the request
reached the API), never 5xx, never crash, and keep serving afterwards."""

import socket
import time
import unittest
import urllib.parse

import fixtures as F
import harness as h

DATA = h.DATA


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


class Base(h.EdhubTestCase):

    def raw(self, data, **kw):
        raw, resp = h.raw_request(self.server.port, data, **kw)
        return raw, resp

    def head(self, method, target, extra=(), body=b'', auth=True, version='HTTP/1.1'):
        lines = ['%s %s %s' % (method, target, version), 'Host: 127.0.0.1:%d' % self.server.port,
                 'Connection: close']
        if auth:
            lines.append('Authorization: Bearer ' + self.api.token)
        lines += list(extra)
        if body and not any(x.lower().startswith(('content-length', 'transfer-encoding')) for x in extra):
            lines.append('Content-Length: %d' % len(body))
        text = '\r\n'.join(lines) + '\r\n\r\n'
        try:
            data = text.encode('latin-1') + body
        except UnicodeEncodeError:
            data = text.encode('utf-8') + body
        return data

    def assertAlive(self):
        r = self.anon.get('/', auth=False)
        self.assertStatus(r, 200)
        r = self.api.get(DATA + '/students?limit=1')
        self.assertStatus(r, 200)

    def assert4xx(self, resp, raw, problem=True):
        self.assertIsNotNone(resp, 'no (parseable) HTTP response: %r' % raw[:300])
        self.assertTrue(400 <= resp.status < 500, repr(resp))
        if problem:
            self.assertEqual(resp.content_type, 'application/problem+json', repr(resp))
            self.assertIsInstance(resp.json, dict, repr(resp))
            self.assertEqual(resp.json.get('status'), resp.status, repr(resp))
        self.assertAlive()

    def assertNo5xx(self, resp, raw, problem=True):
        if resp is not None:
            self.assertLess(resp.status, 500, repr(resp))
            if problem and resp.status >= 400 and resp.body:
                self.assertEqual(resp.content_type, 'application/problem+json', repr(resp))
        self.assertAlive()


class ProtocolGarbage(Base):
    """Errors the HTTP layer sees: a 4xx is required; the body format is not."""

    def test_garbage_request_line(self):
        # A request line with no method/target separator is not HTTP at all:
        # libmicrohttpd closes the connection without a response (RFC 9112
        # says a server SHOULD answer 400; closing is allowed). Either way
        # nothing may be half-answered and the server must stay up.
        raw, resp = self.raw(b'GARBAGE\r\n\r\n')
        if resp is None:
            self.assertEqual(raw, b'', 'garbage bytes sent back: %r' % raw[:300])
            self.assertAlive()
        else:
            self.assert4xx(resp, raw, problem=False)

    def test_binary_garbage(self):
        raw, resp = self.raw(bytes(range(256)) * 4 + b'\r\n\r\n')
        if resp is not None:
            self.assertTrue(400 <= resp.status < 500, repr(resp))
        self.assertAlive()

    def test_header_without_colon(self):
        raw, resp = self.raw(self.head('GET', DATA + '/students', ['ThisIsNotAHeader']))
        self.assert4xx(resp, raw, problem=False)

    def test_huge_header_value(self):
        raw, resp = self.raw(self.head('GET', DATA + '/students', ['X-Big: ' + 'a' * 200000]))
        self.assert4xx(resp, raw, problem=False)

    def test_many_headers(self):
        raw, resp = self.raw(self.head('GET', DATA + '/students', ['X-H%d: v' % i for i in range(20000)]))
        self.assert4xx(resp, raw, problem=False)

    def test_huge_request_line(self):
        raw, resp = self.raw(self.head('GET', DATA + '/students?' + 'a=' + 'b' * 300000))
        self.assert4xx(resp, raw, problem=False)

    def test_bad_content_length(self):
        for cl in ('abc', '-5', '99999999999999999999999999'):
            with self.subTest(content_length=cl):
                raw, resp = self.raw(self.head('POST', DATA + '/students', ['Content-Type: application/json',
                                                                            'Content-Length: ' + cl], b'{}'))
                self.assert4xx(resp, raw, problem=False)

    def test_content_length_and_chunked(self):
        body = b'5\r\n{"a":\r\n0\r\n\r\n'
        raw, resp = self.raw(self.head('POST', DATA + '/students', ['Content-Type: application/json',
                                                                    'Content-Length: 4',
                                                                    'Transfer-Encoding: chunked'], body))
        self.assertNo5xx(resp, raw, problem=False)

    def test_invalid_chunk(self):
        body = b'zz\r\nxxxx\r\n0\r\n\r\n'
        raw, resp = self.raw(self.head('POST', DATA + '/students', ['Content-Type: application/json',
                                                                    'Transfer-Encoding: chunked'], body))
        self.assertNo5xx(resp, raw, problem=False)

    def test_nul_in_header(self):
        data = self.head('GET', DATA + '/students', ['X-Evil: a\x00b'])
        raw, resp = self.raw(data)
        self.assertNo5xx(resp, raw, problem=False)

    def test_non_ascii_header(self):
        data = self.head('GET', DATA + '/students?limit=1', ['X-Name: \xe9\xff\xfe'])
        raw, resp = self.raw(data)
        self.assertNo5xx(resp, raw)

    def test_http10(self):
        raw, resp = self.raw(self.head('GET', DATA + '/students?limit=1', version='HTTP/1.0'))
        self.assertNo5xx(resp, raw)

    def test_lowercase_method(self):
        raw, resp = self.raw(self.head('get', DATA + '/students?limit=1'))
        self.assertNo5xx(resp, raw)

    def test_absolute_form_target(self):
        raw, resp = self.raw(self.head('GET', 'http://127.0.0.1:%d%s/students?limit=1' % (self.server.port, DATA)))
        self.assertNo5xx(resp, raw)

    def test_missing_host(self):
        data = ('GET %s/students?limit=1 HTTP/1.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n'
                % (DATA, self.api.token)).encode()
        raw, resp = self.raw(data)
        self.assertNo5xx(resp, raw)

    def test_truncated_requests(self):
        full = self.head('POST', DATA + '/students', ['Content-Type: application/json'],
                         b'{"studentUniqueId":"abc","birthDate":"2010-01-01","firstName":"A","lastSurname":"B"}')
        for cut in (5, 20, len(full) // 2, len(full) - 10):
            with self.subTest(cut=cut):
                s = socket.create_connection(('127.0.0.1', self.server.port), timeout=5)
                try:
                    s.sendall(full[:cut])
                finally:
                    s.close()
        time.sleep(0.2)
        self.assertAlive()

    def test_body_shorter_than_content_length(self):
        data = self.head('POST', DATA + '/students', ['Content-Type: application/json', 'Content-Length: 1000'],
                         b'{"studentUniqueId":')
        raw, resp = self.raw(data, timeout=3, half_close=True)
        self.assertNo5xx(resp, raw, problem=False)

    def test_idle_connections_do_not_block(self):
        socks = []
        try:
            for _ in range(20):
                socks.append(socket.create_connection(('127.0.0.1', self.server.port), timeout=5))
            socks[0].sendall(b'GET / HTTP/1.1\r\n')
            t0 = time.time()
            self.assertAlive()
            self.assertLess(time.time() - t0, 10)
        finally:
            for s in socks:
                s.close()

    def test_keep_alive_two_requests(self):
        req = ('GET %s/students?limit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n'
               % (DATA, self.api.token)).encode()
        s = socket.create_connection(('127.0.0.1', self.server.port), timeout=10)
        try:
            s.sendall(req)
            first = h._parse_raw_response(_read_one(s))
            self.assertIsNotNone(first)
            self.assertStatus(first, 200)
            if (first.headers.get('Connection') or '').lower() != 'close':
                s.sendall(req)
                second = h._parse_raw_response(_read_one(s))
                self.assertIsNotNone(second, 'second request on a kept-alive connection got no answer')
                self.assertStatus(second, 200)
        finally:
            s.close()


def _read_one(s):
    """Read exactly one Content-Length-delimited response."""
    buf = b''
    while b'\r\n\r\n' not in buf:
        c = s.recv(65536)
        if not c:
            return buf
        buf += c
    head, _, rest = buf.partition(b'\r\n\r\n')
    length = 0
    for line in head.split(b'\r\n')[1:]:
        k, _, v = line.partition(b':')
        if k.strip().lower() == b'content-length':
            length = int(v.strip())
    while len(rest) < length:
        c = s.recv(65536)
        if not c:
            break
        rest += c
    return head + b'\r\n\r\n' + rest


class ApiGarbage(Base):
    """Requests that reach the API: 4xx problem+json."""

    def get(self, target):
        raw, resp = self.raw(self.head('GET', target))
        return raw, resp

    def test_bad_percent_encoding_in_value(self):
        for target in (DATA + '/students?studentUniqueId=%zz', DATA + '/students?studentUniqueId=%',
                       DATA + '/students?studentUniqueId=%4', DATA + '/students?limit=%G1'):
            with self.subTest(target=target):
                raw, resp = self.get(target)
                self.assert4xx(resp, raw)

    def test_bad_percent_encoding_in_name(self):
        raw, resp = self.get(DATA + '/students?%zz=1')
        self.assert4xx(resp, raw)

    def test_bad_percent_encoding_in_path(self):
        for target in (DATA + '/stud%zzents', DATA + '/students/%', DATA + '/%E0%A4%A'):
            with self.subTest(target=target):
                raw, resp = self.get(target)
                self.assert4xx(resp, raw)

    def test_encoded_invalid_utf8_in_query(self):
        raw, resp = self.get(DATA + '/students?studentUniqueId=%ff%fe')
        self.assertNo5xx(resp, raw)

    def test_encoded_nul(self):
        for target in (DATA + '/students?studentUniqueId=a%00b', DATA + '/students%00', DATA + '/students?%00=1'):
            with self.subTest(target=target):
                raw, resp = self.get(target)
                self.assertNo5xx(resp, raw)

    def test_absurd_query_strings(self):
        for query in ('&&&&', '=', '==&==', 'limit', 'limit=', 'limit=1&limit=2', 'a=1&' * 2000, '?', '%',
                      'limit=1;offset=2', 'offset=0x10', 'limit=1e2', 'limit=+5', 'limit= 5', 'limit=٣',
                      'totalCount=true&totalCount=false', 'q=' + 'x' * 5000, 'studentUniqueId=' + 'x' * 5000):
            with self.subTest(query=query[:40]):
                raw, resp = self.get(DATA + '/students?' + query)
                self.assertNo5xx(resp, raw)

    def test_unknown_parameters_are_400(self):
        for query in ('a=1', 'LIMITT=1', 'studentUniqueId.x=1', '[]=1'):
            with self.subTest(query=query):
                raw, resp = self.get(DATA + '/students?' + query)
                self.assert4xx(resp, raw)

    def test_path_traversal(self):
        for target in (DATA + '/../../../etc/passwd', DATA + '/%2e%2e/%2e%2e/etc/passwd', '/data/v3/ed-fi/students/..',
                       '//data//v3//ed-fi//students', DATA + '/students/%2F..', '/data/v3/ed-fi/./students'):
            with self.subTest(target=target):
                raw, resp = self.get(target)
                self.assertNo5xx(resp, raw)
                self.assertNotIn(b'root:', raw)

    def test_very_long_path(self):
        raw, resp = self.get(DATA + '/' + 'a' * 20000)
        self.assert4xx(resp, raw, problem=False)

    def test_long_id(self):
        raw, resp = self.get(DATA + '/students/' + '1' * 5000)
        self.assert4xx(resp, raw)

    def test_weird_authorization_headers(self):
        for value in ('Bearer', 'Bearer ', 'Bearer  ' + self.api.token + 'x', 'Bearer ' + 'A' * 10000,
                      'Basic', 'Basic !!!!', 'Bearer \x7f\x01', 'Negotiate abc', '', 'Bearer a b c'):
            with self.subTest(value=value[:30]):
                raw, resp = self.raw(self.head('GET', DATA + '/students', ['Authorization: ' + value], auth=False))
                self.assertIsNotNone(resp, raw[:200])
                self.assertTrue(resp.status in (400, 401), repr(resp))
                self.assertAlive()

    def test_duplicate_authorization_headers(self):
        raw, resp = self.raw(self.head('GET', DATA + '/students?limit=1',
                                       ['Authorization: Bearer nonsense'], auth=True))
        self.assertNo5xx(resp, raw)

    def test_weird_content_types(self):
        body = b'{"studentUniqueId":"x1","birthDate":"2010-01-01","firstName":"A","lastSurname":"B"}'
        for ct in ('', ';', 'application/json; charset=latin-9000', 'application/json;;;;', '*/*', 'a' * 5000,
                   'application/json; boundary="unterminated'):
            with self.subTest(content_type=ct[:40]):
                raw, resp = self.raw(self.head('POST', DATA + '/students', ['Content-Type: ' + ct], body))
                self.assertNo5xx(resp, raw)

    def test_weird_if_match_values(self):
        doc_id = self.api.create('students', F.student())
        body = self.api.read('students', doc_id)
        for value in ('', '""', '"', 'W/', 'W/"', '*, "a"', '"a", *', '"' + 'x' * 10000 + '"', ',,,'):
            with self.subTest(if_match=value[:30]):
                r = self.api.put('%s/students/%s' % (DATA, doc_id), body, headers={'If-Match': value})
                self.assertTrue(r.status in (204, 400, 412), repr(r))
                self.assertAlive()

    def test_weird_if_none_match_values(self):
        doc_id = self.api.create('students', F.student())
        for value in ('', '""', '"', 'W/', '*, "a"', ',,,', '"' + 'x' * 10000 + '"'):
            with self.subTest(if_none_match=value[:30]):
                r = self.api.get('%s/students/%s' % (DATA, doc_id), headers={'If-None-Match': value})
                self.assertTrue(r.status in (200, 304, 400), repr(r))
                self.assertAlive()

    def test_json_bombs(self):
        bombs = [
            '{"studentUniqueId":"' + '\\u0000' * 1000 + '"}',
            '{"a":' + '1' * 100000 + '}',
            '{"a":1e999999}',
            '{"a":-1e-999999}',
            '{"a":' + '[' * 1000 + ']' * 999 + '}',
            '{"' + 'k' * 100000 + '":1}',
            '{' + ','.join('"k%d":%d' % (i, i) for i in range(50000)) + '}',
            '[' + ','.join('{}' for _ in range(50000)) + ']',
            '{"studentUniqueId":"\\ud800","birthDate":"2010-01-01","firstName":"A","lastSurname":"B"}',
            '{"studentUniqueId":"\\uDFFF\\uD800","birthDate":"2010-01-01","firstName":"A","lastSurname":"B"}',
            '\ufeff{"studentUniqueId":"bom","birthDate":"2010-01-01","firstName":"A","lastSurname":"B"}',
        ]
        for b in bombs:
            with self.subTest(body=b[:40]):
                r = self.api.post(DATA + '/students', b)
                self.assertLess(r.status, 500, repr(r))
                if r.status >= 400:
                    self.assertEqual(r.content_type, 'application/problem+json', repr(r))
                self.assertAlive()

    def test_numbers_out_of_range(self):
        for value in (2 ** 31, 2 ** 63, -2 ** 63 - 1, 10 ** 30, 1e308, -1.0e-300):
            with self.subTest(value=value):
                r = self.api.post(DATA + '/sessions', F.session(totalInstructionalDays=value))
                self.assertTrue(400 <= r.status < 500 or r.status in (200, 201), repr(r))
                self.assertAlive()
        for value in (2 ** 31, 2 ** 63, 10 ** 30):
            with self.subTest(schoolId=value):
                r = self.api.post(DATA + '/schools', F.school(school_id=value))
                # 200 would mean an out-of-range id collided with (was clamped to) another school's id
                self.assertTrue(r.status in (400, 201), repr(r))
                self.assertAlive()

    def test_wrong_types_everywhere(self):
        base = F.ssa(h.uid())
        for key in list(base):
            for value in (None, True, 0, -1, 1.5, '', 'x', [], [1], {}, {'a': 1}):
                doc = dict(base)
                doc[key] = value
                r = self.api.post(DATA + '/studentSchoolAssociations', doc)
                with self.subTest(key=key, value=value):
                    self.assertTrue(400 <= r.status < 500, repr(r))
        self.assertAlive()

    def test_chunked_post(self):
        body = ('{"studentUniqueId":"%s","birthDate":"2010-01-01","firstName":"A","lastSurname":"B"}'
                % h.uid('chunk')).encode()
        chunked = b''
        for i in range(0, len(body), 10):
            part = body[i:i + 10]
            chunked += b'%x\r\n%s\r\n' % (len(part), part)
        chunked += b'0\r\n\r\n'
        raw, resp = self.raw(self.head('POST', DATA + '/students', ['Content-Type: application/json',
                                                                    'Transfer-Encoding: chunked'], chunked))
        self.assertIsNotNone(resp, raw[:200])
        self.assertTrue(resp.status in (201, 411), 'chunked POST must work (201) or ask for a length (411): %r' % resp)
        self.assertAlive()


if __name__ == '__main__':
    unittest.main()
