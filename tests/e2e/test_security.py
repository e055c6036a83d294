"""Credentials and claim sets from the CLI, revocation, the audit log, token scopes, token_info,
claim-set refusals and the NamespaceBased strategy (security.md §1.8, §1.11, §2.2, §2.7, §7.3)."""

import base64
import json
import os
import sqlite3
import subprocess
import time
import unittest

import fixtures as f
import harness as h


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


FORM = 'application/x-www-form-urlencoded'
AUTHZ = 'urn:ed-fi:api:security:authorization'


def edhub(*args, stdin=None):
    """Runs `edhub ARGS` and returns (exit code, stdout, stderr)."""
    p = subprocess.run([h.EDHUB] + list(args), capture_output=True, text=True, input=stdin, timeout=120,
                       cwd=h.REPO)
    return p.returncode, p.stdout, p.stderr


class SecurityCase(h.EdhubTestCase):

    def cli(self, *args, expect=0, stdin=None):
        rc, out, err = edhub(args[0], args[1], '--data', self.server.data, *args[2:], stdin=stdin)
        self.assertEqual(rc, expect, 'edhub %s -> %d\n%s%s' % (' '.join(args), rc, out, err))
        return out, err

    def new_client(self, claim_set, edorgs=(), namespaces=(), key=None):
        key = key or h.uid('key').replace('-', '')
        secret = h.uid('secret')
        args = ['clients', 'create', '--key', key, '--secret', secret, '--claim-set', claim_set]
        for e in edorgs:
            args += ['--edorg', str(e)]
        for n in namespaces:
            args += ['--namespace', n]
        self.cli(*args)
        return key, secret

    def token_response(self, key, secret, scope=None):
        body = 'grant_type=client_credentials' + ('&scope=%s' % scope if scope is not None else '')
        cred = base64.b64encode(('%s:%s' % (key, secret)).encode()).decode()
        return self.anon.request('POST', '/oauth/token', body, content_type=FORM,
                                 headers={'Authorization': 'Basic ' + cred}, auth=False)

    def as_client(self, key, secret):
        return h.Client(self.server, self.server.get_token(key, secret))

    def wait_status(self, client, path, status, seconds=4.0):
        """A change made by another process (the CLI) reaches the server within a second."""
        deadline = time.time() + seconds
        r = client.get(path)
        while r.status != status and time.time() < deadline:
            time.sleep(0.2)
            r = client.get(path)
        return r


class Cli(SecurityCase):

    def test_every_command_has_help(self):
        for cmd in ('clients', 'vendors', 'claimsets', 'audit'):
            rc, out, _ = edhub(cmd, '--help')
            self.assertEqual(rc, 0, cmd)
            self.assertIn('usage: edhub %s' % cmd, out)

    def test_create_show_list_json_without_secrets(self):
        out, _ = self.cli('clients', 'create', '--claim-set', 'SIS Vendor', '--edorg', '255901', '--json')
        made = json.loads(out)
        self.assertEqual(len(made['key']), 20)
        self.assertGreaterEqual(len(made['secret']), 32, 'a generated secret is printed once')
        out, _ = self.cli('clients', 'show', '--key', made['key'], '--json')
        shown = json.loads(out)
        self.assertEqual(shown['claimSet'], 'SIS Vendor')
        self.assertEqual(shown['edorgs'], [255901])
        self.assertTrue(shown['enabled'])
        self.assertNotIn('secretHash', shown)
        out, _ = self.cli('clients', 'list', '--json')
        keys = [c['key'] for c in json.loads(out)]
        self.assertIn(made['key'], keys)
        self.assertNotIn(made['secret'], out)
        self.assertNotIn('secretHash', out)
        # the generated pair works
        r = self.token_response(made['key'], made['secret'])
        self.assertEqual(r.status, 200, repr(r))

    def test_claim_set_names_both_forms(self):
        key, _ = self.new_client('SISVendor', [255901])
        out, _ = self.cli('clients', 'show', '--key', key, '--json')
        self.assertEqual(json.loads(out)['claimSet'], 'SIS Vendor', 'the DMS name resolves to the ODS one')

    def test_bad_input_says_what_to_do(self):
        _, err = self.cli('clients', 'create', '--claim-set', 'No Such Set', expect=2)
        self.assertIn('claimsets list', err)
        _, err = self.cli('clients', 'create', '--claim-set', 'SIS Vendor', '--edorg', 'abc', expect=2)
        self.assertIn('--edorg', err)
        _, err = self.cli('clients', 'create', '--claim-set', 'SIS Vendor', '--secret', 'short', expect=2)
        self.assertIn('secret', err)
        _, err = self.cli('clients', 'create', '--claim-set', 'SIS Vendor', '--key', 'has:colon', expect=2)
        self.assertIn('key', err)
        key, _ = self.new_client('SIS Vendor', [255901])
        _, err = self.cli('clients', 'create', '--claim-set', 'SIS Vendor', '--key', key, expect=2)
        self.assertIn('already exists', err)
        _, err = self.cli('clients', 'disable', '--key', 'nobody-has-this', expect=2)
        self.assertIn('clients list', err)
        rc, _, err = edhub('clients', 'list', '--data', os.path.join(self.server.tmp, 'nowhere'))
        self.assertEqual(rc, 1)
        self.assertIn('edhub init', err)

    def test_secret_from_stdin(self):
        key = h.uid('stdin').replace('-', '')
        self.cli('clients', 'create', '--key', key, '--secret', '-', '--claim-set', 'SIS Vendor', '--edorg', '255901',
                 stdin='from-stdin-secret-1\n')
        self.assertEqual(self.token_response(key, 'from-stdin-secret-1').status, 200)

    def test_claimsets_list_and_export(self):
        out, _ = self.cli('claimsets', 'list', '--json')
        names = [c['name'] for c in json.loads(out)]
        for n in ('SIS Vendor', 'Ed-Fi Sandbox', 'Assessment Vendor', 'District Hosted SIS Vendor',
                  'Bootstrap Descriptors and EdOrgs', 'edhub Full Access', 'edhub HR Vendor', 'edhub IEP Vendor',
                  'edhub State Reporting Reader'):
            self.assertIn(n, names)
        out, _ = self.cli('claimsets', 'export', '--name', 'edhub HR Vendor')
        exported = json.loads(out)
        claims = [n['name'] for n in exported['claimsHierarchy']]
        self.assertIn('http://ed-fi.org/identity/claims/ed-fi/staffEducationOrganizationEmploymentAssociation', claims)

    def test_claimsets_import_validates_and_applies_after_restart_only(self):
        bad = os.path.join(self.server.tmp, 'bad-claimsets.json')
        with open(bad, 'w') as fh:
            json.dump({'claimSets': [{'claimSetName': 'Local Reader'}],
                       'claimsHierarchy': [{'name': 'http://ed-fi.org/identity/claims/ed-fi/noSuchThing',
                                            'claimSets': [{'name': 'Local Reader', 'actions': [{'name': 'Read'}]}]}]},
                      fh)
        _, err = self.cli('claimsets', 'import', bad, expect=2)
        self.assertIn('noSuchThing', err)
        self.assertFalse(os.path.exists(os.path.join(self.server.data, 'claimsets.json')), 'nothing written')
        good = os.path.join(self.server.tmp, 'good-claimsets.json')
        with open(good, 'w') as fh:
            json.dump({'claimSets': [{'claimSetName': 'Local Reader'}],
                       'claimsHierarchy': [{'name': 'http://ed-fi.org/identity/claims/domains/educationOrganizations',
                                            'claimSets': [{'name': 'Local Reader', 'actions': [{'name': 'Read'}]}]}]},
                      fh)
        self.cli('claimsets', 'import', good)
        out, _ = self.cli('claimsets', 'list')
        self.assertIn('Local Reader', out)
        key, _ = self.new_client('Local Reader', [255901])   # the CLI reads the deployment's claim sets
        rc, out, _ = edhub('audit', '--data', self.server.data, '--json')
        self.assertIn('claimsets.import', [e['action'] for e in json.loads(out)])
        os.remove(os.path.join(self.server.data, 'claimsets.json'))


class Revocation(SecurityCase):

    def test_disable_enable_reset_delete(self):
        key, secret = self.new_client('SIS Vendor', [255901])
        c = self.as_client(key, secret)
        self.assertEqual(c.get(h.DATA + '/schools').status, 200)
        self.cli('clients', 'disable', '--key', key)
        self.assertEqual(self.wait_status(c, h.DATA + '/schools', 401).status, 401, 'disable ends live tokens')
        r = self.token_response(key, secret)
        self.assertEqual((r.status, r.json.get('error')), (401, 'invalid_client'), 'a disabled client gets no token')
        self.cli('clients', 'enable', '--key', key)
        c = self.as_client(key, secret)
        out, _ = self.cli('clients', 'reset', '--key', key, '--json')
        new_secret = json.loads(out)['secret']
        self.assertEqual(self.wait_status(c, h.DATA + '/schools', 401).status, 401, 'reset ends live tokens')
        self.assertEqual(self.token_response(key, secret).status, 401, 'the old secret fails')
        c = self.as_client(key, new_secret)
        self.cli('clients', 'update', '--key', key, '--edorg', '255901001')
        self.assertEqual(self.wait_status(c, h.DATA + '/schools', 401).status, 401, 'a changed grant ends tokens')
        c = self.as_client(key, new_secret)
        self.cli('clients', 'delete', '--key', key)
        self.assertEqual(self.wait_status(c, h.DATA + '/schools', 401).status, 401, 'delete ends live tokens')
        self.assertEqual(self.token_response(key, new_secret).status, 401)


class Audit(SecurityCase):

    def test_changes_and_failed_logins_are_audited_without_secrets(self):
        key, secret = self.new_client('SIS Vendor', [255901])
        self.cli('clients', 'disable', '--key', key)
        self.cli('clients', 'enable', '--key', key)
        out, _ = self.cli('clients', 'reset', '--key', key, '--json')
        new_secret = json.loads(out)['secret']
        self.assertEqual(self.token_response(key, 'not-the-secret').status, 401)
        self.cli('vendors', 'create', '--name', 'Audit Vendor ' + key, '--namespace', 'uri://audit.example.org')
        self.cli('clients', 'delete', '--key', key)
        rc, out, err = edhub('audit', '--data', self.server.data, '--json')
        self.assertEqual(rc, 0, err)
        entries = [e for e in json.loads(out) if e['target'] == 'client:' + key
                   or (e['action'] == 'vendor.create' and e['after']['name'] == 'Audit Vendor ' + key)]
        actions = [e['action'] for e in entries]
        self.assertEqual(actions, ['client.create', 'client.disable', 'client.enable', 'client.reset', 'login.failed',
                                   'vendor.create', 'client.delete'])
        create = entries[0]
        self.assertTrue(create['actor'].startswith('cli:'))
        self.assertIsNone(create['before'])
        self.assertEqual(create['after']['claimSet'], 'SIS Vendor')
        self.assertEqual(entries[1]['before']['enabled'], True)
        self.assertEqual(entries[1]['after']['enabled'], False)
        self.assertEqual(entries[4]['address'], '127.0.0.1')
        self.assertEqual(entries[6]['after'], None)
        for s in (secret, new_secret, 'not-the-secret', 'secretHash'):
            self.assertNotIn(s, out)
        for e in entries:
            self.assertRegex(e['at'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
            self.assertRegex(e['hash'], r'^[0-9a-f]{64}$')
        rc, out, _ = edhub('audit', '--data', self.server.data, '--verify')
        self.assertEqual(rc, 0, out)
        self.assertIn('intact', out)

    @unittest.skipIf(h.PG_DIR, 'tampering is shown on the SQLite file')
    def test_the_log_is_append_only_and_tampering_is_detected(self):
        self.new_client('SIS Vendor', [255901])
        db = sqlite3.connect(os.path.join(self.server.data, 'ods.sqlite'), timeout=30, isolation_level=None)
        try:
            with self.assertRaises(sqlite3.DatabaseError):
                db.execute("UPDATE admin_audit SET actor = 'someone-else'")
            with self.assertRaises(sqlite3.DatabaseError):
                db.execute('DELETE FROM admin_audit')
            # Someone with write access to the file drops the guard: the chain still shows it.
            db.execute('DROP TRIGGER admin_audit_no_update')
            db.execute("UPDATE admin_audit SET actor = 'someone-else' WHERE seq = 1")
            rc, out, _ = edhub('audit', '--data', self.server.data, '--verify')
            self.assertEqual(rc, 1, out)
            self.assertIn('entry 1 ', out)
            # opening the admin store put the guard back
            with self.assertRaises(sqlite3.DatabaseError):
                db.execute("UPDATE admin_audit SET actor = 'edhub-init' WHERE seq = 1")
            db.execute('DROP TRIGGER admin_audit_no_update')
            db.execute("UPDATE admin_audit SET actor = 'edhub-init' WHERE seq = 1")
        finally:
            db.close()
        rc, out, _ = edhub('audit', '--data', self.server.data, '--verify')
        self.assertEqual(rc, 0, out)


class Scope(SecurityCase):

    def test_scope_narrows_the_token_and_is_echoed(self):
        key, secret = self.new_client('SIS Vendor', [255901, 255950])
        r = self.token_response(key, secret, scope='255901')
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json['scope'], '255901')
        info = self.anon.request('POST', '/oauth/token_info', 'token=' + r.json['access_token'], content_type=FORM,
                                 headers={'Authorization': 'Bearer ' + r.json['access_token']}, auth=False)
        self.assertEqual(info.status, 200, repr(info))
        self.assertEqual([e['education_organization_id'] for e in info.json['education_organizations']], [255901])
        for bad in ('255902', 'abc', '-1'):
            r = self.token_response(key, secret, scope=bad)
            self.assertEqual((r.status, r.json.get('error')), (400, 'invalid_scope'), bad)
        r = self.token_response(key, 'wrong-secret', scope='255902')
        self.assertEqual(r.status, 401, 'credentials are checked before the scope')

    def test_token_info_shows_the_real_grant(self):
        key, secret = self.new_client('Assessment Vendor', [255901], ['uri://district-a.org'])
        tok = self.server.get_token(key, secret)
        info = self.anon.request('POST', '/oauth/token_info', json.dumps({'token': tok}), content_type='application/json',
                                 headers={'Authorization': 'Bearer ' + tok}, auth=False)
        self.assertEqual(info.status, 200, repr(info))
        body = info.json
        self.assertEqual(body['client_id'], key)
        self.assertEqual(body['claim_set']['name'], 'Assessment Vendor')
        self.assertEqual(body['namespace_prefixes'], ['uri://district-a.org'])
        ops = {r['resource']: r['operations'] for r in body['resources']}
        self.assertIn('Create', ops['/ed-fi/assessments'])
        self.assertNotIn('/ed-fi/staffs', ops, 'only what the claim set grants')


class ClaimSetRefusals(SecurityCase):

    def test_resource_and_action_denied_bodies(self):
        key, secret = self.new_client('Assessment Vendor', [255901], ['uri://district-a.org'])
        c = self.as_client(key, secret)
        r = c.get(h.DATA + '/staffs')
        self.assertProblem(r, 403, AUTHZ + ':access-denied:resource')
        self.assertIn('You do not have permissions to access this data.', r.json['detail'])
        self.assertIn("(currently 'Assessment Vendor')", r.json['errors'][0])
        r = c.post(h.DATA + '/schools', f.school())
        self.assertEqual(r.status, 403, repr(r))
        self.assertIn(r.json['type'], (AUTHZ + ':access-denied:action', AUTHZ + ':access-denied:resource'))

    def test_a_client_without_edorgs_gets_no_relationship_data(self):
        key, secret = self.new_client('SIS Vendor')
        c = self.as_client(key, secret)
        r = c.get(h.DATA + '/students')
        self.assertProblem(r, 403, AUTHZ + ':relationships:invalid-client:no-edorgs')


class Namespaces(SecurityCase):

    def test_namespace_based_create_and_read(self):
        mine, _ = self.new_client('Assessment Vendor', [255901], ['uri://district-a.org/'])
        c = self.as_client(mine, _)
        own = f.assessment(namespace='uri://district-a.org/assessments')
        r = c.post(h.DATA + '/assessments', own)
        self.assertIn(r.status, (200, 201), repr(r))
        other = f.assessment(namespace='uri://district-b.org/assessments')
        r = c.post(h.DATA + '/assessments', other)
        self.assertProblem(r, 403, AUTHZ + ':namespace:access-denied:namespace-mismatch')
        self.assertIn("'uri://district-a.org/'", r.json['detail'])
        self.assertIn(self.api.post(h.DATA + '/assessments', other).status, (200, 201))
        # another district's assessment exists, but this client reads only its own namespace
        got = c.get(h.DATA + '/assessments?limit=500&totalCount=true')
        self.assertEqual(got.status, 200)
        spaces = {a['namespace'] for a in got.json}
        self.assertEqual(spaces, {'uri://district-a.org/assessments'})
        self.assertEqual(int(got.headers['Total-Count']), len(got.json))
        none, s2 = self.new_client('Assessment Vendor', [255901])
        r = self.as_client(none, s2).post(h.DATA + '/assessments', f.assessment(namespace='uri://x.org'))
        self.assertProblem(r, 403, AUTHZ + ':namespace:invalid-client:no-namespaces')

    def test_percent_and_underscore_are_literal(self):
        for ns in ('uri://lit%a.org/x', 'uri://litXa.org/x', 'uri://lit_b.org/x', 'uri://litYb.org/x'):
            self.assertIn(self.api.post(h.DATA + '/assessments', f.assessment(namespace=ns)).status, (200, 201))
        key, secret = self.new_client('Assessment Vendor', [255901], ['uri://lit%a', 'uri://lit_b'])
        got = self.as_client(key, secret).get(h.DATA + '/assessments?limit=500')
        spaces = sorted(a['namespace'] for a in got.json if a['namespace'].startswith('uri://lit'))
        self.assertEqual(spaces, ['uri://lit%a.org/x', 'uri://lit_b.org/x'])
        r = self.as_client(key, secret).post(h.DATA + '/assessments', f.assessment(namespace='uri://litZa.org/y'))
        self.assertProblem(r, 403, AUTHZ + ':namespace:access-denied:namespace-mismatch')

    def test_vendor_namespaces_apply_to_its_clients(self):
        vendor = 'Vendor ' + h.uid('v')
        self.cli('vendors', 'create', '--name', vendor, '--namespace', 'uri://vendor-ns.org')
        key, secret = h.uid('vk').replace('-', ''), h.uid('vs')
        self.cli('clients', 'create', '--key', key, '--secret', secret, '--claim-set', 'Assessment Vendor',
                 '--edorg', '255901', '--vendor', vendor)
        r = self.as_client(key, secret).post(h.DATA + '/assessments', f.assessment(namespace='uri://vendor-ns.org/a'))
        self.assertIn(r.status, (200, 201), repr(r))
        out, _ = self.cli('vendors', 'list', '--json')
        self.assertIn(vendor, [v['name'] for v in json.loads(out)])
        _, err = self.cli('clients', 'create', '--claim-set', 'SIS Vendor', '--vendor', 'No Such Vendor', expect=2)
        self.assertIn('vendors create', err)


class HideExistence(unittest.TestCase):
    """`edhub serve --hide-existence`: a stored item the client may not see answers 404, as an unknown id does;
    claim-set refusals stay 403 (they say nothing about the item)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server('hide')
        cls.srv.extra_args = ['--hide-existence']
        cls.srv.start()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        cls.srv.cleanup()
        assert code == 0, code

    def test_unreadable_items_look_absent(self):
        admin = self.srv.client()
        st = f.student()
        r = admin.post(h.DATA + '/students', st)
        self.assertEqual(r.status, 201, repr(r))
        path = h.DATA + '/students/' + r.location_id
        key, secret = h.uid('hk').replace('-', ''), h.uid('hs')
        subprocess.run([h.EDHUB, 'clients', 'create', '--data', self.srv.data, '--key', key, '--secret', secret,
                        '--claim-set', 'SIS Vendor', '--edorg', '255901'], check=True, capture_output=True, timeout=120)
        lea = h.Client(self.srv, self.srv.get_token(key, secret))
        unknown = h.DATA + '/students/00000000-0000-4000-8000-000000000000'
        for method in ('GET', 'PUT'):  # (people Delete needs no relationship in Ed-Fi's SIS Vendor: not tried)
            body = st if method == 'PUT' else None
            hidden = lea.request(method, path, body)
            absent = lea.request(method, unknown, body)
            self.assertEqual(hidden.status, absent.status, method)
            self.assertNotEqual(hidden.status, 403, method)
            self.assertEqual(hidden.json['type'], absent.json['type'], method)
        self.assertEqual(lea.get(path).status, 404)
        self.assertEqual(admin.get(path).status, 200, 'the item is there for a client that may read it')
        key2, secret2 = h.uid('hk').replace('-', ''), h.uid('hs')
        subprocess.run([h.EDHUB, 'clients', 'create', '--data', self.srv.data, '--key', key2, '--secret', secret2,
                        '--claim-set', 'Assessment Vendor', '--edorg', '255901'], check=True, capture_output=True,
                       timeout=120)
        other = h.Client(self.srv, self.srv.get_token(key2, secret2))
        self.assertEqual(other.get(path).status, 404, 'a relationship denial is hidden for this client too')
        r = other.get(h.DATA + '/staffs/00000000-0000-4000-8000-000000000000')
        self.assertEqual(r.status, 403, 'a claim-set refusal reveals nothing about any item: it stays 403')
        self.assertEqual(r.json['type'], AUTHZ + ':access-denied:resource')


if __name__ == '__main__':
    unittest.main()
