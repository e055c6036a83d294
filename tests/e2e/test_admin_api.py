"""The Admin API subset at /adminapi (Ed-Fi Admin API 2.x shapes, security.md §3): its own token endpoint and
clients, vendors, applications with their one-time secret, credential reset, claim sets, lookups, and that every
change lands in the audit log."""

import json
import subprocess
import time
import unittest

import harness as h


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


FORM = 'application/x-www-form-urlencoded'
A = '/adminapi'


class AdminApi(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key, cls.secret = 'adminapi' + h.uid('k').replace('-', ''), h.uid('adminsecret')
        subprocess.run([h.EDHUB, 'clients', 'create', '--data', cls.server.data, '--key', cls.key, '--secret',
                        cls.secret, '--claim-set', 'edhub Admin API'], check=True, capture_output=True, timeout=120)
        cls.admin = h.Client(cls.server, cls.admin_token(cls.key, cls.secret).json['access_token'])

    @classmethod
    def admin_token(cls, key, secret, scope='edfi_admin_api/full_access'):
        body = 'client_id=%s&client_secret=%s&grant_type=client_credentials' % (key, secret)
        if scope:
            body += '&scope=' + scope
        return h.Client(cls.server).request('POST', A + '/connect/token', body, content_type=FORM, auth=False)

    def test_info_is_anonymous(self):
        r = self.anon.request('GET', A + '/', auth=False)
        self.assertEqual(r.status, 200)
        self.assertIn('version', r.json)

    def test_token_endpoint(self):
        r = self.admin_token(self.key, self.secret)
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json['token_type'], 'bearer')
        self.assertEqual(r.headers.get('Cache-Control'), 'no-store')
        self.assertEqual(self.admin_token(self.key, 'wrong').json['error'], 'invalid_client')
        self.assertEqual(self.admin_token(self.key, self.secret, scope='other').json['error'], 'invalid_scope')
        r = self.admin_token(self.server.key, self.server.secret)
        self.assertEqual((r.status, r.json['error']), (401, 'unauthorized_client'),
                         'a Resource API client gets no Admin API token')

    def test_routes_need_an_admin_token(self):
        self.assertEqual(self.anon.request('GET', A + '/v2/vendors', auth=False).status, 401)
        self.assertEqual(self.api.get(A + '/v2/vendors').status, 403, 'a Resource API token is not enough')
        r = self.admin.get(h.DATA + '/students')
        self.assertEqual(r.status, 403, 'an Admin API token is not a Resource API token')

    def test_vendor_application_lifecycle(self):
        company = 'Acme SIS ' + h.uid('c')
        r = self.admin.post(A + '/v2/vendors', {'company': company, 'namespacePrefixes': 'uri://acme.org, uri://acme2.org',
                                                'contactName': 'Ann', 'contactEmailAddress': 'ann@acme.org'})
        self.assertEqual(r.status, 201, repr(r))
        loc = r.headers['Location']
        vid = int(loc.rsplit('/', 1)[1])
        v = self.admin.get(A + '/v2/vendors/%d' % vid).json
        self.assertEqual(v, {'id': vid, 'company': company, 'namespacePrefixes': 'uri://acme.org,uri://acme2.org',
                             'contactName': 'Ann', 'contactEmailAddress': 'ann@acme.org'})
        self.assertEqual(self.admin.post(A + '/v2/vendors', {'company': company}).status, 409)
        r = self.admin.post(A + '/v2/applications', {'applicationName': 'Acme in Grand Bend', 'vendorId': vid,
                                                     'claimSetName': 'SIS Vendor',
                                                     'educationOrganizationIds': [255901]})
        self.assertEqual(r.status, 201, repr(r))
        app = r.json
        self.assertEqual(set(app), {'id', 'key', 'secret'})
        got = self.admin.get(A + '/v2/applications/%d' % app['id']).json
        self.assertEqual(got['claimSetName'], 'SIS Vendor')
        self.assertEqual(got['educationOrganizationIds'], [255901])
        self.assertEqual(got['vendorId'], vid)
        self.assertNotIn(app['secret'], json.dumps(self.admin.get(A + '/v2/applications?limit=1000').json))
        # the new credentials work on the Resource API, with the vendor's namespaces
        tok = self.server.get_token(app['key'], app['secret'])
        info = self.anon.request('POST', '/oauth/token_info', 'token=' + tok, content_type=FORM,
                                 headers={'Authorization': 'Bearer ' + tok}, auth=False).json
        self.assertEqual(info['namespace_prefixes'], ['uri://acme.org', 'uri://acme2.org'])
        self.assertEqual(info['claim_set']['name'], 'SIS Vendor')
        # reset: a new secret, the old one and its tokens stop working
        r = self.admin.put(A + '/v2/applications/%d/reset-credential' % app['id'])
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json['key'], app['key'])
        self.assertNotEqual(r.json['secret'], app['secret'])
        c = h.Client(self.server, tok)
        deadline = time.time() + 4
        while c.get(h.DATA + '/schools').status != 401 and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(c.get(h.DATA + '/schools').status, 401)
        self.server.get_token(app['key'], r.json['secret'])
        # update, vendor's applications, delete cascades
        r = self.admin.put(A + '/v2/applications/%d' % app['id'], {'applicationName': 'Acme renamed', 'vendorId': vid,
                                                                  'claimSetName': 'Ed-Fi Sandbox',
                                                                  'educationOrganizationIds': [255901, 255950]})
        self.assertEqual(r.status, 200, repr(r))
        apps = self.admin.get(A + '/v2/vendors/%d/applications' % vid).json
        self.assertEqual([(a['applicationName'], a['claimSetName'], a['educationOrganizationIds']) for a in apps],
                         [('Acme renamed', 'Ed-Fi Sandbox', [255901, 255950])])
        self.assertEqual(self.admin.delete(A + '/v2/vendors/%d' % vid).status, 200)
        self.assertEqual(self.admin.get(A + '/v2/vendors/%d' % vid).status, 404)
        self.assertEqual(self.admin.get(A + '/v2/applications/%d' % app['id']).status, 404)
        audit = subprocess.run([h.EDHUB, 'audit', '--data', self.server.data, '--json'], capture_output=True,
                               text=True, timeout=120)
        mine = [e for e in json.loads(audit.stdout) if e['actor'] == 'api:' + self.key]
        actions = [e['action'] for e in mine]
        for a in ('vendor.create', 'client.create', 'client.reset', 'client.update', 'client.delete', 'vendor.delete'):
            self.assertIn(a, actions)
        self.assertTrue(all(e['address'] == '127.0.0.1' for e in mine))
        self.assertNotIn(app['secret'], audit.stdout)

    def test_validation_errors(self):
        r = self.admin.post(A + '/v2/applications', {'applicationName': '', 'vendorId': 1, 'claimSetName': 'SIS Vendor'})
        self.assertEqual(r.status, 400)
        self.assertIn('ApplicationName', r.json['errors'])
        r = self.admin.post(A + '/v2/applications', {'applicationName': 'x', 'vendorId': 999999, 'claimSetName': 'SIS Vendor'})
        self.assertIn('VendorId', r.json['errors'])
        vid = int(self.admin.post(A + '/v2/vendors', {'company': 'V ' + h.uid('v')}).headers['Location'].rsplit('/', 1)[1])
        r = self.admin.post(A + '/v2/applications', {'applicationName': 'x', 'vendorId': vid, 'claimSetName': 'Nope'})
        self.assertIn('ClaimSetName', r.json['errors'])
        r = self.admin.post(A + '/v2/vendors', {'namespacePrefixes': 'uri://x'})
        self.assertIn('Company', r.json['errors'])
        self.assertEqual(self.admin.request('POST', A + '/v2/vendors', '{', content_type='application/json').status, 400)
        self.assertEqual(self.admin.get(A + '/v2/vendors/999999').status, 404)
        self.assertEqual(self.admin.get(A + '/v2/nothing').status, 404)

    def test_claim_sets_and_lookups(self):
        sets = self.admin.get(A + '/v2/claimSets?limit=100').json
        names = {s['name']: s for s in sets}
        self.assertTrue(names['SIS Vendor']['_isSystemReserved'])
        exp = self.admin.get(A + '/v2/claimSets/%d/export' % names['edhub HR Vendor']['id']).json
        self.assertEqual(exp['name'], 'edhub HR Vendor')
        self.assertTrue(exp['claimSet']['claimsHierarchy'])
        self.assertEqual(self.admin.post(A + '/v2/claimSets', {'name': 'x'}).status, 405)
        self.assertEqual([a['name'] for a in self.admin.get(A + '/v2/actions').json],
                         ['Create', 'Read', 'Update', 'Delete', 'ReadChanges'])
        self.assertIn('NamespaceBased', [s['name'] for s in self.admin.get(A + '/v2/authorizationStrategies?limit=50').json])
        self.assertEqual(self.admin.get(A + '/v2/odsInstances').json[0]['id'], 1)
        self.assertEqual(len(self.admin.get(A + '/v2/claimSets?offset=1&limit=2').json), 2)


if __name__ == '__main__':
    unittest.main()
