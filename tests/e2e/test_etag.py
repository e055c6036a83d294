"""ETag, If-Match, If-None-Match (api-behavior §7)."""

import unittest

import fixtures as F
import harness as h

DATA = h.DATA
LOCK = 'urn:ed-fi:api:optimistic-lock-failed'
INM = 'urn:ed-fi:api:precondition-failed:if-none-match'
MODIFIED_ERRORS = ["The resource item's etag value does not match what was specified in the 'If-Match' request "
                   "header indicating that it has been modified by another client since it was last retrieved."]
MISSING_DETAIL = 'The If-Match precondition failed because the resource does not exist.'
MISSING_ERRORS = ["The 'If-Match' request header requires a current representation of the resource, but none exists. "
                  "Do not retry with If-Match; create the resource first, or omit If-Match."]
MISSING_ID = '7d2f6a1e-3b4c-4d5e-8f60-718293a4b5c6'


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


class ETag(h.EdhubTestCase):

    def make(self):
        doc = F.student()
        r = self.api.post(DATA + '/students', doc)
        self.assertStatus(r, 201)
        return doc, r.location_id, r.headers['ETag']

    def url(self, doc_id):
        return '%s/students/%s' % (DATA, doc_id)

    def body(self, doc_id):
        return self.api.read('students', doc_id)

    # --- the ETag itself ---

    def test_header_is_quoted_body_value(self):
        _, doc_id, etag = self.make()
        g = self.api.get(self.url(doc_id))
        self.assertEqual(g.headers['ETag'], etag)
        self.assertEqual(etag, '"%s"' % g.json['_etag'])

    def test_collection_items_carry_etag(self):
        doc, doc_id, etag = self.make()
        items = self.api.query('students', {'studentUniqueId': doc['studentUniqueId']})
        self.assertEqual('"%s"' % items[0]['_etag'], etag)

    def test_changes_on_update(self):
        doc, doc_id, etag = self.make()
        doc['firstName'] = 'Other'
        r = self.api.post(DATA + '/students', doc)
        self.assertStatus(r, 200)
        self.assertNotEqual(r.headers['ETag'], etag)
        self.assertEqual(self.api.get(self.url(doc_id)).headers['ETag'], r.headers['ETag'])

    def test_unchanged_on_noop_upsert(self):
        doc, doc_id, etag = self.make()
        r = self.api.post(DATA + '/students', doc)
        self.assertStatus(r, 200)
        self.assertEqual(r.headers['ETag'], etag)

    def test_unchanged_on_noop_put(self):
        _, doc_id, etag = self.make()
        body = self.body(doc_id)
        r = self.api.put(self.url(doc_id), body)
        self.assertStatus(r, 204)
        self.assertEqual(r.headers.get('ETag'), etag)

    def test_changes_when_only_child_collection_changes(self):
        sch = F.school(gradeLevels=[{'gradeLevelDescriptor': h.descriptor('GradeLevel', 'Ninth grade')}])
        r1 = self.api.post(DATA + '/schools', sch)
        self.assertStatus(r1, 201)
        sch['gradeLevels'].append({'gradeLevelDescriptor': h.descriptor('GradeLevel', 'Tenth grade')})
        r2 = self.api.post(DATA + '/schools', sch)
        self.assertStatus(r2, 200)
        self.assertNotEqual(r2.headers['ETag'], r1.headers['ETag'])

    def test_every_change_gives_a_new_etag(self):
        doc, doc_id, etag = self.make()
        seen = {etag}
        for i in range(5):
            doc['firstName'] = 'Name%d' % i
            r = self.api.post(DATA + '/students', doc)
            self.assertStatus(r, 200)
            self.assertNotIn(r.headers['ETag'], seen)
            seen.add(r.headers['ETag'])

    # --- If-Match on PUT/DELETE ---

    def test_put_if_match_current(self):
        _, doc_id, etag = self.make()
        body = self.body(doc_id)
        body['firstName'] = 'X'
        self.assertStatus(self.api.put(self.url(doc_id), body, headers={'If-Match': etag}), 204)

    def test_put_if_match_unquoted(self):
        _, doc_id, etag = self.make()
        body = self.body(doc_id)
        body['firstName'] = 'X'
        self.assertStatus(self.api.put(self.url(doc_id), body, headers={'If-Match': etag.strip('"')}), 204)

    def test_put_if_match_star(self):
        _, doc_id, _ = self.make()
        body = self.body(doc_id)
        body['firstName'] = 'X'
        self.assertStatus(self.api.put(self.url(doc_id), body, headers={'If-Match': '*'}), 204)

    def test_put_if_match_stale(self):
        doc, doc_id, etag = self.make()
        body = self.body(doc_id)
        doc['firstName'] = 'Concurrent'
        self.assertStatus(self.api.post(DATA + '/students', doc), 200)
        body['firstName'] = 'Mine'
        r = self.api.put(self.url(doc_id), body, headers={'If-Match': etag})
        self.assertProblem(r, 412, LOCK, title='Optimistic Lock Failed',
                           detail='The item has been modified by another user.', errors=MODIFIED_ERRORS)
        self.assertEqual(self.body(doc_id)['firstName'], 'Concurrent')

    def test_put_if_match_weak_never_matches(self):
        _, doc_id, etag = self.make()
        body = self.body(doc_id)
        r = self.api.put(self.url(doc_id), body, headers={'If-Match': 'W/' + etag})
        self.assertProblem(r, 412, LOCK)

    def test_put_if_match_missing_doc(self):
        body = F.student()
        body['id'] = MISSING_ID
        for value in ('*', '"123"'):
            with self.subTest(if_match=value):
                r = self.api.put(self.url(MISSING_ID), body, headers={'If-Match': value})
                self.assertProblem(r, 412, detail=MISSING_DETAIL, errors=MISSING_ERRORS)

    def test_put_body_etag_ignored(self):
        _, doc_id, etag = self.make()
        body = self.body(doc_id)
        body['_etag'] = 'not-the-etag'
        body['firstName'] = 'X'
        self.assertStatus(self.api.put(self.url(doc_id), body), 204)

    def test_delete_if_match_current(self):
        _, doc_id, etag = self.make()
        self.assertStatus(self.api.delete(self.url(doc_id), headers={'If-Match': etag}), 204)

    def test_delete_if_match_stale(self):
        doc, doc_id, etag = self.make()
        doc['firstName'] = 'Concurrent'
        self.assertStatus(self.api.post(DATA + '/students', doc), 200)
        r = self.api.delete(self.url(doc_id), headers={'If-Match': etag})
        self.assertProblem(r, 412, LOCK, detail='The item has been modified by another user.', errors=MODIFIED_ERRORS)
        self.assertStatus(self.api.get(self.url(doc_id)), 200)

    def test_delete_if_match_star(self):
        _, doc_id, _ = self.make()
        self.assertStatus(self.api.delete(self.url(doc_id), headers={'If-Match': '*'}), 204)

    def test_delete_if_match_missing_doc(self):
        r = self.api.delete(self.url(MISSING_ID), headers={'If-Match': '*'})
        self.assertProblem(r, 412, detail=MISSING_DETAIL, errors=MISSING_ERRORS)

    # --- POST preconditions ---

    def test_post_if_match_checked_on_update(self):
        doc, doc_id, etag = self.make()
        doc['firstName'] = 'A'
        r = self.api.post(DATA + '/students', doc, headers={'If-Match': etag})
        self.assertStatus(r, 200)
        doc['firstName'] = 'B'
        r = self.api.post(DATA + '/students', doc, headers={'If-Match': etag})
        self.assertProblem(r, 412, LOCK)
        self.assertEqual(self.body(doc_id)['firstName'], 'A')

    def test_post_if_none_match_star_new(self):
        r = self.api.post(DATA + '/students', F.student(), headers={'If-None-Match': '*'})
        self.assertStatus(r, 201)

    def test_post_if_none_match_star_existing(self):
        doc, doc_id, etag = self.make()
        doc['firstName'] = 'Overwrite'
        r = self.api.post(DATA + '/students', doc, headers={'If-None-Match': '*'})
        self.assertProblem(r, 412, INM)
        self.assertNotEqual(self.body(doc_id)['firstName'], 'Overwrite')

    def test_put_if_none_match_star_existing(self):
        _, doc_id, _ = self.make()
        body = self.body(doc_id)
        body['firstName'] = 'Overwrite'
        r = self.api.put(self.url(doc_id), body, headers={'If-None-Match': '*'})
        self.assertProblem(r, 412, INM)

    # --- conditional GET ---

    def test_get_if_none_match_current_is_304(self):
        _, doc_id, etag = self.make()
        for value in (etag, etag.strip('"'), '*', 'W/' + etag, '"other", ' + etag):
            with self.subTest(if_none_match=value):
                r = self.api.get(self.url(doc_id), headers={'If-None-Match': value})
                self.assertStatus(r, 304)
                self.assertEqual(r.body, b'')

    def test_get_if_none_match_other_is_200(self):
        _, doc_id, _ = self.make()
        r = self.api.get(self.url(doc_id), headers={'If-None-Match': '"something-else"'})
        self.assertStatus(r, 200)
        self.assertEqual(r.json['id'], doc_id)

    def test_get_if_none_match_after_change_is_200(self):
        doc, doc_id, etag = self.make()
        doc['firstName'] = 'Changed'
        self.api.post(DATA + '/students', doc)
        r = self.api.get(self.url(doc_id), headers={'If-None-Match': etag})
        self.assertStatus(r, 200)
        self.assertEqual(r.json['firstName'], 'Changed')

    def test_get_if_none_match_missing_doc_is_404(self):
        for value in ('*', '"1"'):
            with self.subTest(if_none_match=value):
                self.assertStatus(self.api.get(self.url(MISSING_ID), headers={'If-None-Match': value}), 404)

    def test_cascade_changes_etag(self):
        sess = F.session()
        sid = self.api.create('sessions', sess)
        crs = F.course()
        self.api.create('courses', crs)
        co_id = self.api.create('courseOfferings', F.course_offering(h.uid('L'), sess['sessionName'],
                                                                     crs['courseCode']))
        etag_before = self.api.get('%s/courseOfferings/%s' % (DATA, co_id)).headers['ETag']
        body = self.api.read('sessions', sid)
        body['sessionName'] = h.uid('Renamed ')
        self.assertStatus(self.api.put('%s/sessions/%s' % (DATA, sid), body), 204)
        r = self.api.get('%s/courseOfferings/%s' % (DATA, co_id), headers={'If-None-Match': etag_before})
        self.assertStatus(r, 200)
        self.assertNotEqual(r.headers['ETag'], etag_before)


if __name__ == '__main__':
    unittest.main()
