"""POST /edhub/v1/batch (edhub's extension): JSON lines in, one result per line out; each item validated and
authorized exactly as a POST of it alone; items independent; limits and errors."""

import json
import subprocess
import unittest

import fixtures as f
import harness as h


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


URL = '/edhub/v1/batch'


def lines(*records):
    return ''.join(json.dumps({'resource': '/ed-fi/' + res, 'document': doc}) + '\n' for res, doc in records)


class Batch(h.EdhubTestCase):

    def post(self, client, body):
        return client.request('POST', URL, body, content_type='application/x-ndjson')

    def test_mixed_items_each_get_their_own_answer(self):
        st = f.student()
        sid = st['studentUniqueId']
        body = lines(('students', st), ('studentSchoolAssociations', f.ssa(sid)), ('students', {'studentUniqueId': 'x'}))
        body += 'not json\n'
        body += lines(('nothings', {}), ('studentSchoolAssociations', f.ssa('no-such-student')))
        r = self.post(self.api, body)
        self.assertEqual(r.status, 200, repr(r))
        res = r.json['results']
        self.assertEqual([x['status'] for x in res], [201, 201, 400, 400, 404, 409])
        self.assertEqual([x['line'] for x in res], [1, 2, 3, 4, 5, 6])
        self.assertEqual((r.json['created'], r.json['updated'], r.json['rejected']), (2, 0, 4))
        self.assertIn('$.birthDate', res[2]['problem']['validationErrors'])
        self.assertEqual(res[5]['problem']['type'], 'urn:ed-fi:api:data-conflict:unresolved-reference')
        got = self.api.get(res[0]['location'])
        self.assertEqual(got.status, 200)
        self.assertEqual(got.json['studentUniqueId'], sid)
        # the same lines again: upserts
        r = self.post(self.api, lines(('students', st)))
        self.assertEqual(r.json['results'][0]['status'], 200)
        self.assertEqual(r.json['results'][0]['id'], res[0]['id'])

    def test_items_are_authorized_one_by_one(self):
        key, secret = 'batch' + h.uid('k').replace('-', ''), h.uid('s')
        subprocess.run([h.EDHUB, 'clients', 'create', '--data', self.server.data, '--key', key, '--secret', secret,
                        '--claim-set', 'SIS Vendor', '--edorg', '255901'], check=True, capture_output=True, timeout=120)
        c = h.Client(self.server, self.server.get_token(key, secret))
        st = f.student()
        other = f.school()  # not under LEA 255901: SIS Vendor may not create schools at all
        body = lines(('students', st), ('studentSchoolAssociations', f.ssa(st['studentUniqueId'])), ('schools', other))
        r = self.post(c, body)
        self.assertEqual([x['status'] for x in r.json['results']], [201, 201, 403], r.json)
        self.assertTrue(r.json['results'][2]['problem']['type'].startswith('urn:ed-fi:api:security:authorization'))

    def test_a_large_batch(self):
        docs = [('students', f.student()) for _ in range(2000)]
        r = self.post(self.api, lines(*docs))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json['created'], 2000)
        ids = {x['id'] for x in r.json['results']}
        self.assertEqual(len(ids), 2000)

    def test_limits_and_errors(self):
        self.assertEqual(self.anon.request('POST', URL, lines(('students', f.student())), auth=False).status, 401)
        self.assertEqual(self.api.get(URL).status, 405)
        r = self.post(self.api, '\n' * 3)
        self.assertEqual((r.status, r.json['results']), (200, []))
        r = self.post(self.api, '{}\n' * 10001)
        self.assertEqual(r.status, 413)
        self.assertIn('at most 10000', r.json['errors'][0])


if __name__ == '__main__':
    unittest.main()
