"""Routing: 404s, 405 with Allow and exact texts, id format, case-insensitive endpoints,
trailing slashes (api-behavior §3)."""

import unittest

import fixtures as F
import harness as h

DATA = h.DATA
NOT_FOUND = 'urn:ed-fi:api:not-found'
MNA = 'urn:ed-fi:api:method-not-allowed'
ITEM_POST = ("Resource items can only be updated using PUT. To 'upsert' an item in the resource collection using "
             "POST, remove the 'id' from the route.")
COLL_PUT = ("Resource collections cannot be replaced. To 'upsert' an item in the collection, use POST. To update a "
            "specific item, use PUT and include the 'id' in the route.")
COLL_DELETE = "Resource collections cannot be deleted. To delete a specific item, use DELETE and include the 'id' in the route."


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


def allow_set(r):
    return set(x.strip().upper() for x in (r.headers.get('Allow') or '').split(',') if x.strip())


def normalize_quotes(msgs):
    # ODS writes \"id\" where DMS writes 'id'; both are accepted
    return [m.replace('"id"', "'id'") for m in msgs]


class NotFound(h.EdhubTestCase):

    def assertNotFound(self, r):
        self.assertProblem(r, 404, NOT_FOUND, title='Not Found', detail='The specified data could not be found.')

    def test_unknown_endpoint(self):
        self.assertNotFound(self.api.get(DATA + '/notAResources'))

    def test_unknown_project(self):
        self.assertNotFound(self.api.get('/data/v3/no-such-project/students'))

    def test_missing_project(self):
        self.assertNotFound(self.api.get('/data/v3/students'))

    def test_project_only(self):
        self.assertNotFound(self.api.get('/data/v3/ed-fi'))

    def test_too_many_segments(self):
        doc_id = self.api.create('students', F.student())
        self.assertNotFound(self.api.get('%s/students/%s/extra' % (DATA, doc_id)))

    def test_abstract_resource_has_no_endpoint(self):
        for ep in ('educationOrganizations', 'generalStudentProgramAssociations'):
            with self.subTest(endpoint=ep):
                self.assertNotFound(self.api.get('%s/%s' % (DATA, ep)))

    def test_unknown_endpoint_post(self):
        self.assertNotFound(self.api.post(DATA + '/notAResources', {'a': 1}))

    def test_unknown_top_level_path(self):
        r = self.api.get('/no/such/path')
        self.assertStatus(r, 404)

    def test_missing_item(self):
        self.assertStatus(self.api.get(DATA + '/students/12345678-1234-4234-8234-123456789012'), 404)


class CaseAndSlashes(h.EdhubTestCase):

    def test_endpoint_case_insensitive(self):
        doc = F.student()
        doc_id = self.api.create('students', doc)
        for ep in ('STUDENTS', 'Students', 'sTuDeNtS'):
            with self.subTest(endpoint=ep):
                r = self.api.get('%s/%s?studentUniqueId=%s' % (DATA, ep, doc['studentUniqueId']))
                self.assertStatus(r, 200)
                self.assertEqual([d['id'] for d in r.json], [doc_id])
                self.assertStatus(self.api.get('%s/%s/%s' % (DATA, ep, doc_id)), 200)

    def test_project_case_insensitive(self):
        self.assertStatus(self.api.get('/data/v3/ED-FI/students?limit=1'), 200)

    def test_post_with_odd_case_endpoint(self):
        r = self.api.post(DATA + '/STUDENTSCHOOLASSOCIATIONS', {})
        self.assertValidationFailed(r)

    def test_location_uses_canonical_endpoint(self):
        r = self.api.post(DATA + '/STUDENTS', F.student())
        self.assertCreated(r, 'students')

    def test_trailing_slash(self):
        doc = F.student()
        r = self.api.post(DATA + '/students/', doc)
        doc_id = self.assertCreated(r, 'students')
        self.assertStatus(self.api.get(DATA + '/students/?limit=1'), 200)
        self.assertStatus(self.api.get('%s/students/%s/' % (DATA, doc_id)), 200)
        body = self.api.read('students', doc_id)
        self.assertStatus(self.api.put('%s/students/%s/' % (DATA, doc_id), body), 204)
        self.assertStatus(self.api.delete('%s/students/%s/' % (DATA, doc_id)), 204)

    def test_ods_n_format_id(self):
        doc_id = self.api.create('students', F.student())
        r = self.api.get('%s/students/%s' % (DATA, doc_id.replace('-', '')))
        self.assertStatus(r, 200)
        self.assertEqual(r.json['id'], doc_id)

    def test_uppercase_id(self):
        doc_id = self.api.create('students', F.student())
        r = self.api.get('%s/students/%s' % (DATA, doc_id.upper()))
        self.assertStatus(r, 200)
        self.assertEqual(r.json['id'], doc_id)


class BadId(h.EdhubTestCase):

    def test_short_id(self):
        r = self.api.get(DATA + '/students/ffc0a272')
        self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request:data-validation-failed',
                           validation={'$.id': ["The value 'ffc0a272' is not valid."]})

    def test_bad_ids_on_every_item_method(self):
        for bad in ('not-a-uuid', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', '12345678-1234-1234-1234-1234567890123',
                    '{12345678-1234-1234-1234-123456789012}'):
            for method in ('GET', 'PUT', 'DELETE'):
                with self.subTest(id=bad, method=method):
                    body = {'id': bad, 'studentUniqueId': 'x'} if method == 'PUT' else None
                    r = self.api.request(method, '%s/students/%s' % (DATA, bad), body)
                    self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request:data-validation-failed',
                                       validation_keys=['$.id'])


class MethodNotAllowed(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.doc_id = cls.api.create('students', F.student())

    def assert405(self, r, allow, errors=None):
        body = self.assertProblem(r, 405, MNA, title='Method Not Allowed', detail='The request construction was invalid.')
        self.assertEqual(allow_set(r), allow, 'Allow header: %r' % r.headers.get('Allow'))
        if errors is not None:
            self.assertEqual(normalize_quotes(body['errors']), errors)

    def test_post_to_item(self):
        r = self.api.post('%s/students/%s' % (DATA, self.doc_id), F.student())
        self.assert405(r, {'GET', 'PUT', 'DELETE'}, [ITEM_POST])

    def test_put_to_collection(self):
        self.assert405(self.api.put(DATA + '/students', F.student()), {'GET', 'POST'}, [COLL_PUT])

    def test_delete_collection(self):
        self.assert405(self.api.delete(DATA + '/students'), {'GET', 'POST'}, [COLL_DELETE])
        self.assertStatus(self.api.get('%s/students/%s' % (DATA, self.doc_id)), 200)

    def test_patch(self):
        self.assert405(self.api.request('PATCH', DATA + '/students', {'a': 1}), {'GET', 'POST'},
                       ["The endpoint of the request does not support the 'PATCH' method."])
        self.assert405(self.api.request('PATCH', '%s/students/%s' % (DATA, self.doc_id), {'a': 1}),
                       {'GET', 'PUT', 'DELETE'},
                       ["The endpoint of the request does not support the 'PATCH' method."])

    def test_options(self):
        self.assert405(self.api.request('OPTIONS', DATA + '/students'), {'GET', 'POST'},
                       ["The endpoint of the request does not support the 'OPTIONS' method."])

    def test_head(self):
        r = self.api.request('HEAD', DATA + '/students')
        self.assertStatus(r, 405)
        self.assertEqual(allow_set(r), {'GET', 'POST'})
        self.assertEqual(r.body, b'')

    def test_unknown_method(self):
        r = self.api.request('FROB', DATA + '/students')
        self.assertTrue(r.status in (400, 405, 501), repr(r))
        self.assertStatus(self.api.get(DATA + '/students?limit=1'), 200)

    def test_405_for_descriptors_too(self):
        self.assert405(self.api.put(DATA + '/gradeLevelDescriptors', {}), {'GET', 'POST'}, [COLL_PUT])

    def test_method_checked_before_body(self):
        r = self.api.put(DATA + '/students', '{broken json', content_type='text/plain')
        self.assert405(r, {'GET', 'POST'})


class Partitions(h.EdhubTestCase):

    def test_partitions_is_not_an_item(self):
        r = self.api.get(DATA + '/students/partitions?number=2')
        self.assertStatus(r, 200)
        self.assertIsInstance(r.json, dict)

    def test_partitions_unknown_endpoint(self):
        self.assertStatus(self.api.get(DATA + '/notAResources/partitions?number=2'), 404)


if __name__ == '__main__':
    unittest.main()
