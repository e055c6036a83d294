"""OAuth token endpoint and bearer-token authentication (api-behavior §2.3, security.md §1.2-1.6)."""

import base64
import json
import os
import subprocess
import unittest

import harness as h


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


FORM = 'application/x-www-form-urlencoded'
AUTH_TYPES = ('urn:ed-fi:api:security:authentication', 'urn:ed-fi:api:unauthorized')


def basic(key, secret):
    return 'Basic ' + base64.b64encode(('%s:%s' % (key, secret)).encode()).decode()


class TokenEndpoint(h.EdhubTestCase):

    def token_request(self, body, content_type=FORM, headers=None, path='/oauth/token'):
        return self.anon.request('POST', path, body, content_type=content_type, headers=headers, auth=False)

    def assertTokenOk(self, r):
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, 'application/json', repr(r))
        body = r.json
        self.assertIsInstance(body, dict, repr(r))
        self.assertIsInstance(body.get('access_token'), str, repr(r))
        self.assertGreaterEqual(len(body['access_token']), 16, 'token too short to be unguessable: %r' % r)
        self.assertEqual(body.get('token_type'), 'bearer', repr(r))
        self.assertIsInstance(body.get('expires_in'), int, repr(r))
        self.assertGreater(body['expires_in'], 0, repr(r))
        return body['access_token']

    def assertTokenError(self, r, status, errors):
        self.assertStatus(r, status)
        body = r.json
        self.assertIsInstance(body, dict, 'token error must be a JSON object: %r' % r)
        if isinstance(errors, str):
            errors = (errors,)
        self.assertIn(body.get('error'), errors, repr(r))

    def assertTokenWorks(self, token):
        c = h.Client(self.server, token)
        r = c.get('/data/v3/ed-fi/students?limit=1')
        self.assertStatus(r, 200)

    # --- success paths ---

    def test_basic_header_form_body(self):
        r = self.token_request('grant_type=client_credentials',
                               headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTokenWorks(self.assertTokenOk(r))

    def test_default_expiry_is_30_minutes(self):
        r = self.token_request('grant_type=client_credentials',
                               headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTokenOk(r)
        self.assertEqual(r.json['expires_in'], 1800, repr(r))

    def test_credentials_in_form_body(self):
        body = 'grant_type=client_credentials&client_id=%s&client_secret=%s' % (self.server.key, self.server.secret)
        self.assertTokenWorks(self.assertTokenOk(self.token_request(body)))

    def test_credentials_in_json_body(self):
        body = json.dumps({'grant_type': 'client_credentials', 'client_id': self.server.key,
                           'client_secret': self.server.secret})
        self.assertTokenWorks(self.assertTokenOk(self.token_request(body, content_type='application/json')))

    def test_trailing_slash_path(self):
        r = self.token_request('grant_type=client_credentials', path='/oauth/token/',
                               headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTokenWorks(self.assertTokenOk(r))

    def test_grant_type_is_case_insensitive(self):
        r = self.token_request('grant_type=Client_Credentials',
                               headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTokenOk(r)

    def test_two_tokens_are_distinct_and_both_valid(self):
        t1 = self.assertTokenOk(self.token_request(
            'grant_type=client_credentials', headers={'Authorization': basic(self.server.key, self.server.secret)}))
        t2 = self.assertTokenOk(self.token_request(
            'grant_type=client_credentials', headers={'Authorization': basic(self.server.key, self.server.secret)}))
        self.assertNotEqual(t1, t2)
        self.assertTokenWorks(t1)
        self.assertTokenWorks(t2)

    def test_token_response_not_cacheable(self):
        r = self.token_request('grant_type=client_credentials',
                               headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTokenOk(r)
        self.assertIn('no-store', (r.headers.get('Cache-Control') or '').lower(), repr(r))

    # --- failures ---

    def test_wrong_secret_is_401_invalid_client(self):
        r = self.token_request('grant_type=client_credentials',
                               headers={'Authorization': basic(self.server.key, self.server.secret + 'x')})
        self.assertTokenError(r, 401, 'invalid_client')

    def test_unknown_key_is_401_invalid_client(self):
        r = self.token_request('grant_type=client_credentials',
                               headers={'Authorization': basic('nosuchkey', self.server.secret)})
        self.assertTokenError(r, 401, 'invalid_client')

    def test_wrong_secret_in_form_body_is_401(self):
        body = 'grant_type=client_credentials&client_id=%s&client_secret=wrong' % self.server.key
        self.assertTokenError(self.token_request(body), 401, 'invalid_client')

    def test_missing_grant_type_is_400(self):
        r = self.token_request('', headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTokenError(r, 400, ('unsupported_grant_type', 'invalid_request'))

    def test_other_grant_type_is_400_unsupported(self):
        r = self.token_request('grant_type=password',
                               headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTokenError(r, 400, ('unsupported_grant_type', 'invalid_request'))

    def test_grant_type_checked_before_secret(self):
        r = self.token_request('grant_type=password', headers={'Authorization': basic(self.server.key, 'wrong')})
        self.assertTokenError(r, 400, ('unsupported_grant_type', 'invalid_request'))

    def test_credentials_in_header_and_body_is_400_invalid_client(self):
        body = 'grant_type=client_credentials&client_id=%s&client_secret=%s' % (self.server.key, self.server.secret)
        r = self.token_request(body, headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTokenError(r, 400, 'invalid_client')

    def test_no_credentials_is_401_invalid_request(self):
        self.assertTokenError(self.token_request('grant_type=client_credentials'), 401, 'invalid_request')

    def test_basic_header_not_base64_is_400(self):
        r = self.token_request('grant_type=client_credentials', headers={'Authorization': 'Basic %%%not-base64%%%'})
        self.assertTokenError(r, 400, 'invalid_request')

    def test_other_auth_scheme_is_401_invalid_client(self):
        r = self.token_request('grant_type=client_credentials', headers={'Authorization': 'Digest abc'})
        self.assertTokenError(r, 401, 'invalid_client')

    def test_missing_content_type_is_415(self):
        r = self.anon.request('POST', '/oauth/token', 'grant_type=client_credentials', content_type=None,
                              headers={'Authorization': basic(self.server.key, self.server.secret)}, auth=False)
        self.assertStatus(r, 415)

    def test_malformed_json_body_is_4xx(self):
        r = self.token_request('{"grant_type": ', content_type='application/json',
                               headers={'Authorization': basic(self.server.key, self.server.secret)})
        self.assertTrue(400 <= r.status < 500, repr(r))

    def test_get_on_token_endpoint_is_not_a_token(self):
        r = self.anon.get('/oauth/token', auth=False)
        self.assertTrue(400 <= r.status < 500, repr(r))


class TokenInfo(h.EdhubTestCase):
    """POST /oauth/token_info: self-introspection (security.md §1.8)."""

    def test_active_token(self):
        r = self.anon.request('POST', '/oauth/token_info', 'token=' + self.api.token, content_type=FORM,
                              headers={'Authorization': 'Bearer ' + self.api.token}, auth=False)
        self.assertStatus(r, 200)
        self.assertIs(r.json.get('active'), True, repr(r))
        self.assertEqual(r.json.get('client_id'), self.server.key, repr(r))

    def test_other_token_in_body_is_400(self):
        r = self.anon.request('POST', '/oauth/token_info', 'token=deadbeef', content_type=FORM,
                              headers={'Authorization': 'Bearer ' + self.api.token}, auth=False)
        self.assertStatus(r, 400)

    def test_requires_bearer(self):
        r = self.anon.request('POST', '/oauth/token_info', 'token=' + self.api.token, content_type=FORM, auth=False)
        self.assertStatus(r, 401)


class BearerAuthentication(h.EdhubTestCase):

    def assertAuthFailed(self, r):
        self.assertStatus(r, 401)
        self.assertEqual(r.content_type, 'application/problem+json', repr(r))
        body = r.json
        self.assertIsInstance(body, dict, repr(r))
        self.assertEqual(body.get('status'), 401, repr(r))
        self.assertIn(body.get('type'), AUTH_TYPES, repr(r))

    def test_no_authorization_header(self):
        self.assertAuthFailed(self.anon.get('/data/v3/ed-fi/students', auth=False))

    def test_invalid_token(self):
        c = h.Client(self.server, 'deadbeefdeadbeefdeadbeefdeadbeef')
        self.assertAuthFailed(c.get('/data/v3/ed-fi/students'))

    def test_empty_bearer(self):
        self.assertAuthFailed(self.anon.get('/data/v3/ed-fi/students', headers={'Authorization': 'Bearer'},
                                            auth=False))

    def test_basic_scheme_on_data(self):
        self.assertAuthFailed(self.anon.get('/data/v3/ed-fi/students',
                                            headers={'Authorization': basic(self.server.key, self.server.secret)},
                                            auth=False))

    def test_client_secret_is_not_a_token(self):
        c = h.Client(self.server, self.server.secret)
        self.assertAuthFailed(c.get('/data/v3/ed-fi/students'))

    def test_write_without_token(self):
        r = self.anon.post('/data/v3/ed-fi/students', {'studentUniqueId': h.uid(), 'birthDate': '2010-01-01',
                                                        'firstName': 'A', 'lastSurname': 'B'}, auth=False)
        self.assertAuthFailed(r)

    def test_item_routes_without_token(self):
        doc_id = '00000000-0000-4000-8000-000000000000'
        for method in ('GET', 'PUT', 'DELETE'):
            body = {'id': doc_id} if method == 'PUT' else None
            r = self.anon.request(method, '/data/v3/ed-fi/students/' + doc_id, body, auth=False)
            with self.subTest(method=method):
                self.assertAuthFailed(r)

    def test_unauthenticated_write_does_not_persist(self):
        suid = h.uid('unauth')
        self.anon.post('/data/v3/ed-fi/students', {'studentUniqueId': suid, 'birthDate': '2010-01-01',
                                                    'firstName': 'A', 'lastSurname': 'B'}, auth=False)
        self.assertEqual(self.api.query('students', {'studentUniqueId': suid}), [])

    def test_valid_token_lowercase_scheme(self):
        r = self.anon.get('/data/v3/ed-fi/students?limit=1', headers={'Authorization': 'bearer ' + self.api.token},
                          auth=False)
        self.assertStatus(r, 200)

    def test_discovery_needs_no_token(self):
        self.assertStatus(self.anon.get('/', auth=False), 200)



class TokenLimits(unittest.TestCase):
    """The live-token cap (ODS BearerTokenPerClientLimit = 15) and edhub's
    throttling of failed token requests, each on a server of its own so
    that other tests' tokens do not count."""

    def setUp(self):
        self.srv = h.Server('tokenlimits').start()

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0, self.srv.logs(40))
        self.srv.cleanup()

    def request(self, secret):
        c = h.Client(self.srv)
        return c.request('POST', '/oauth/token', 'grant_type=client_credentials', content_type=FORM,
                         headers={'Authorization': basic(self.srv.key, secret)}, auth=False)

    def test_sixteenth_live_token_is_429_too_many_tokens(self):
        for i in range(15):
            r = self.request(self.srv.secret)
            self.assertEqual(r.status, 200, 'token %d: %r' % (i, r))
        r = self.request(self.srv.secret)
        self.assertEqual(r.status, 429, repr(r))
        self.assertEqual(r.json.get('type'), 'urn:ed-fi:api:security:authentication:too-many-tokens', repr(r))
        self.assertEqual(r.json.get('title'), 'Too Many Tokens', repr(r))

    def test_failed_attempts_are_throttled_with_retry_after(self):
        for i in range(20):
            r = self.request('wrong-secret-%d' % i)
            self.assertEqual(r.status, 401, repr(r))
        r = self.request(self.srv.secret)
        self.assertEqual(r.status, 429, 'the right secret waits too: %r' % r)
        self.assertEqual(r.json.get('type'), 'urn:ed-fi:api:security:authentication:too-many-attempts', repr(r))
        retry = int(r.headers.get('Retry-After', '0'))
        self.assertTrue(0 < retry <= 900, repr(r.headers))
        with open(self.srv.err_path) as f:
            log = f.read()
        self.assertIn('failed token request', log)
        for i in range(20):
            self.assertNotIn('wrong-secret-%d' % i, log, 'secrets never reach the log')

class SecretsAtRest(h.EdhubTestCase):
    """The client secret is never stored or logged in clear (security.md §1.10):
    grep the database files (SQLite) or the admin tables (PostgreSQL) and the
    server's logs for it, after tokens were issued and one request failed."""

    def test_secret_absent_from_database_and_logs(self):
        srv = self.server
        srv.get_token()
        self.anon.request('POST', '/oauth/token', 'grant_type=client_credentials', content_type=FORM,
                          headers={'Authorization': basic(srv.key, srv.secret + 'x')}, auth=False)
        secret = srv.secret.encode()
        conf = os.path.join(srv.data, 'edhub.conf')
        url = None
        if os.path.exists(conf):
            for line in open(conf):
                if line.strip().startswith('database'):
                    url = line.split('=', 1)[1].strip()
        if url:
            out = subprocess.run(['psql', url, '-Atc', "SELECT name, body FROM admin_objects UNION ALL "
                                  "SELECT target, coalesce(before, '') || coalesce(after, '') FROM admin_audit"],
                                 capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(srv.key.encode(), out.stdout, 'the client row is there')
            self.assertNotIn(secret, out.stdout)
        else:
            checked = 0
            for name in os.listdir(srv.data):
                if name.startswith('ods.sqlite'):
                    with open(os.path.join(srv.data, name), 'rb') as f:
                        self.assertNotIn(secret, f.read(), name)
                    checked += 1
            self.assertGreaterEqual(checked, 1)
        for path in (srv.err_path, srv.out_path, os.path.join(srv.tmp, 'init.log')):
            if os.path.exists(path):
                with open(path, 'rb') as f:
                    data = f.read()
                self.assertNotIn(secret, data, path)
                self.assertNotIn(secret + b'x', data, path)


if __name__ == '__main__':
    unittest.main()
