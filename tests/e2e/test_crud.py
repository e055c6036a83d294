"""Create/read/update/delete: POST upsert, GET by id, PUT, DELETE (api-behavior §4, §5.1)."""

import re
import unittest

import fixtures as F
import harness as h

DATA = h.DATA


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


SYSTEM = {'id', '_etag', '_lastModifiedDate'}


class Bootstrap(h.EdhubTestCase):
    """What `edhub init` must have loaded (samples/bootstrap)."""

    def test_grand_bend_schools(self):
        for sid in (h.HIGH_SCHOOL, h.MIDDLE_SCHOOL, h.ELEMENTARY_SCHOOL):
            with self.subTest(schoolId=sid):
                docs = self.api.query('schools', {'schoolId': sid})
                self.assertEqual(len(docs), 1, docs)
                self.assertEqual(docs[0]['schoolId'], sid)
                self.assertEqual(docs[0]['localEducationAgencyReference']['localEducationAgencyId'], h.LEA_ID)

    def test_grand_bend_lea_and_esc(self):
        lea = self.api.query('localEducationAgencies', {'localEducationAgencyId': h.LEA_ID})
        self.assertEqual(len(lea), 1)
        self.assertEqual(lea[0]['nameOfInstitution'], 'Grand Bend ISD')
        self.assertEqual(lea[0]['educationServiceCenterReference']['educationServiceCenterId'], h.ESC_ID)
        esc = self.api.query('educationServiceCenters', {'educationServiceCenterId': h.ESC_ID})
        self.assertEqual(len(esc), 1)

    def test_school_years_1991_to_2050(self):
        r = self.api.get(DATA + '/schoolYearTypes?totalCount=true&limit=500')
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get('Total-Count'), '60')
        years = sorted(d['schoolYear'] for d in r.json)
        self.assertEqual(years, list(range(1991, 2051)))
        current = [d['schoolYear'] for d in r.json if d.get('currentSchoolYear')]
        self.assertEqual(current, [2026])

    def test_descriptors_loaded(self):
        for endpoint, ns, code in (
                ('gradeLevelDescriptors', 'uri://ed-fi.org/GradeLevelDescriptor', 'Ninth grade'),
                ('entryTypeDescriptors', 'uri://ed-fi.org/EntryTypeDescriptor', 'Transfer'),
                ('educationOrganizationCategoryDescriptors', 'uri://ed-fi.org/EducationOrganizationCategoryDescriptor',
                 'School'),
                ('addressTypeDescriptors', 'uri://ed-fi.org/AddressTypeDescriptor', 'Physical'),
                ('stateAbbreviationDescriptors', 'uri://ed-fi.org/StateAbbreviationDescriptor', 'TX')):
            with self.subTest(endpoint=endpoint):
                docs = self.api.query(endpoint, {'namespace': ns, 'codeValue': code})
                self.assertEqual(len(docs), 1, docs)

    def test_tribal_affiliation_count(self):
        r = self.api.get(DATA + '/tribalAffiliationDescriptors?totalCount=true&limit=1')
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get('Total-Count'), '620')


class Create(h.EdhubTestCase):

    def test_post_new_is_201_with_location_and_etag(self):
        r = self.api.post(DATA + '/students', F.student())
        self.assertCreated(r, 'students')

    def test_get_by_id_shape(self):
        doc = F.student(middleName='Ann', multipleBirthStatus=False)
        r = self.api.post(DATA + '/students', doc)
        doc_id = self.assertCreated(r, 'students')
        g = self.api.get(DATA + '/students/' + doc_id)
        self.assertStatus(g, 200)
        self.assertEqual(g.content_type, 'application/json')
        body = g.json
        self.assertEqual(body['id'], doc_id)
        self.assertRegex(body['_lastModifiedDate'], h.LASTMOD_RE)
        self.assertIsInstance(body['_etag'], str)
        self.assertEqual(g.headers.get('ETag'), '"%s"' % body['_etag'])
        self.assertEqual(r.etag_value(), body['_etag'], 'POST ETag and GET _etag differ')
        self.assertEqual({k: v for k, v in body.items() if k not in SYSTEM}, doc)
        self.assertEqual(set(body), set(doc) | SYSTEM)

    def test_location_is_get_able(self):
        r = self.api.post(DATA + '/students', F.student())
        self.assertStatus(r, 201)
        loc = r.headers['Location']
        g = self.api.get(loc[len(self.server.base_url):])
        self.assertStatus(g, 200)

    def test_ids_are_lowercase_uuids_and_distinct(self):
        ids = {self.api.create('students', F.student()) for _ in range(5)}
        self.assertEqual(len(ids), 5)
        for i in ids:
            self.assertIsUuid(i)

    def test_post_update_is_200_same_location_new_etag(self):
        doc = F.student()
        r1 = self.api.post(DATA + '/students', doc)
        self.assertStatus(r1, 201)
        doc['lastSurname'] = 'Mathews-Smith'
        r2 = self.api.post(DATA + '/students', doc)
        self.assertStatus(r2, 200)
        self.assertEqual(r2.body, b'')
        self.assertEqual(r2.headers.get('Location'), r1.headers.get('Location'))
        self.assertRegex(r2.headers.get('ETag') or '', r'^"[^"]+"$')
        self.assertNotEqual(r2.headers.get('ETag'), r1.headers.get('ETag'))
        body = self.api.read('students', r1.location_id)
        self.assertEqual(body['lastSurname'], 'Mathews-Smith')
        self.assertEqual(r2.etag_value(), body['_etag'])

    def test_post_update_is_full_replacement(self):
        doc = F.student(middleName='Ann')
        doc_id = self.api.create('students', doc)
        del doc['middleName']
        r = self.api.post(DATA + '/students', doc)
        self.assertStatus(r, 200)
        self.assertNotIn('middleName', self.api.read('students', doc_id))

    def test_identical_post_is_noop(self):
        doc = F.student()
        r1 = self.api.post(DATA + '/students', doc)
        self.assertStatus(r1, 201)
        before = self.api.read('students', r1.location_id)
        r2 = self.api.post(DATA + '/students', doc)
        self.assertStatus(r2, 200)
        self.assertEqual(r2.headers.get('ETag'), r1.headers.get('ETag'))
        after = self.api.read('students', r1.location_id)
        self.assertEqual(after['_etag'], before['_etag'])
        self.assertEqual(after['_lastModifiedDate'], before['_lastModifiedDate'])

    def test_collection_get_contains_same_shape(self):
        doc = F.student()
        doc_id = self.api.create('students', doc)
        docs = self.api.query('students', {'studentUniqueId': doc['studentUniqueId']})
        self.assertEqual(len(docs), 1)
        self.assertEqual(docs[0], self.api.read('students', doc_id))

    def test_school_year_type_crud(self):
        r = self.api.post(DATA + '/schoolYearTypes', {'schoolYear': 2077, 'currentSchoolYear': False,
                                                       'schoolYearDescription': '2076-2077'})
        doc_id = self.assertCreated(r, 'schoolYearTypes')
        self.assertEqual(self.api.read('schoolYearTypes', doc_id)['schoolYearDescription'], '2076-2077')
        self.assertStatus(self.api.delete(DATA + '/schoolYearTypes/' + doc_id), 204)


class References(h.EdhubTestCase):

    def test_reference_links(self):
        s = F.student()
        student_id = self.api.create('students', s)
        ssa_id = self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId'], schoolYearTypeReference={
            'schoolYear': 2025}))
        body = self.api.read('studentSchoolAssociations', ssa_id)
        self.assertEqual(body['studentReference'],
                         {'studentUniqueId': s['studentUniqueId'],
                          'link': {'rel': 'Student', 'href': '/ed-fi/students/' + student_id}})
        school = self.api.query('schools', {'schoolId': h.HIGH_SCHOOL})[0]
        self.assertEqual(body['schoolReference'],
                         {'schoolId': h.HIGH_SCHOOL, 'link': {'rel': 'School', 'href': '/ed-fi/schools/' + school['id']}})
        year = self.api.query('schoolYearTypes', {'schoolYear': 2025})[0]
        self.assertEqual(body['schoolYearTypeReference']['link'],
                         {'rel': 'SchoolYearType', 'href': '/ed-fi/schoolYearTypes/' + year['id']})

    def test_link_href_resolves(self):
        s = F.student()
        self.api.create('students', s)
        ssa_id = self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        body = self.api.read('studentSchoolAssociations', ssa_id)
        g = self.api.get('/data/v3' + body['schoolReference']['link']['href'])
        self.assertStatus(g, 200)
        self.assertEqual(g.json['schoolId'], h.HIGH_SCHOOL)

    def test_absent_reference_has_no_key(self):
        s = F.student()
        self.api.create('students', s)
        ssa_id = self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        body = self.api.read('studentSchoolAssociations', ssa_id)
        self.assertNotIn('calendarReference', body)
        self.assertNotIn('schoolYearTypeReference', body)

    def test_links_in_collection_items(self):
        cp = F.class_period()
        cp_id = self.api.create('classPeriods', cp)
        bs_id = self.api.create('bellSchedules', F.bell_schedule(h.uid('Normal '), [cp['classPeriodName']]))
        body = self.api.read('bellSchedules', bs_id)
        self.assertEqual(body['classPeriods'][0]['classPeriodReference']['link'],
                         {'rel': 'ClassPeriod', 'href': '/ed-fi/classPeriods/' + cp_id})

    def test_abstract_reference_link_names_concrete_class(self):
        p_id = self.api.create('programs', F.program(edorg_id=h.LEA_ID))
        body = self.api.read('programs', p_id)
        lea = self.api.query('localEducationAgencies', {'localEducationAgencyId': h.LEA_ID})[0]
        self.assertEqual(body['educationOrganizationReference']['link'],
                         {'rel': 'LocalEducationAgency', 'href': '/ed-fi/localEducationAgencies/' + lea['id']})

    def test_link_on_input_is_ignored(self):
        s = F.student()
        self.api.create('students', s)
        doc = F.ssa(s['studentUniqueId'])
        doc['studentReference']['link'] = {'rel': 'Bogus', 'href': '/ed-fi/bogus/1'}
        ssa_id = self.api.create('studentSchoolAssociations', doc)
        body = self.api.read('studentSchoolAssociations', ssa_id)
        self.assertEqual(body['studentReference']['link']['rel'], 'Student')


class Put(h.EdhubTestCase):

    def _doc(self):
        doc = F.student(middleName='Ann')
        doc_id = self.api.create('students', doc)
        return doc_id, self.api.read('students', doc_id)

    def test_put_204(self):
        doc_id, body = self._doc()
        body['firstName'] = 'Tracy'
        r = self.api.put(DATA + '/students/' + doc_id, body)
        self.assertStatus(r, 204)
        self.assertEqual(r.body, b'')
        self.assertRegex(r.headers.get('ETag') or '', r'^"[^"]+"$', repr(r))
        self.assertNotEqual(r.etag_value(), body['_etag'])
        after = self.api.read('students', doc_id)
        self.assertEqual(after['firstName'], 'Tracy')
        self.assertEqual(after['_etag'], r.etag_value())

    def test_put_location_header(self):
        doc_id, body = self._doc()
        r = self.api.put(DATA + '/students/' + doc_id, body)
        self.assertStatus(r, 204)
        self.assertEqual(r.headers.get('Location'), '%s%s/students/%s' % (self.server.base_url, DATA, doc_id))

    def test_put_removes_missing_optional(self):
        doc_id, body = self._doc()
        del body['middleName']
        self.assertStatus(self.api.put(DATA + '/students/' + doc_id, body), 204)
        self.assertNotIn('middleName', self.api.read('students', doc_id))

    def test_put_unknown_id_is_404(self):
        doc_id = '6b4e03a9-2d7f-4b3c-9c3a-1d2e3f4a5b6c'
        body = F.student()
        body['id'] = doc_id
        r = self.api.put(DATA + '/students/' + doc_id, body)
        b = self.assertProblem(r, 404, 'urn:ed-fi:api:not-found')
        self.assertTrue(b['detail'].startswith('Resource to update was not found'), b['detail'])
        self.assertEqual(self.api.query('students', {'studentUniqueId': body['studentUniqueId']}), [],
                         'PUT must never create')

    def test_put_id_mismatch_is_400(self):
        doc_id, body = self._doc()
        other = self.api.create('students', F.student())
        body['id'] = other
        r = self.api.put(DATA + '/students/' + doc_id, body)
        self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request', errors=['Request body id must match the id in the url.'])

    def test_put_blank_id_is_400(self):
        doc_id, body = self._doc()
        body['id'] = ''
        r = self.api.put(DATA + '/students/' + doc_id, body)
        self.assertStatus(r, 400)
        self.assertEqual(r.content_type, 'application/problem+json')

    def test_put_without_id_is_400(self):
        doc_id, body = self._doc()
        del body['id']
        r = self.api.put(DATA + '/students/' + doc_id, body)
        self.assertStatus(r, 400)
        self.assertEqual(r.content_type, 'application/problem+json')
        b = r.json
        self.assertTrue('$.id' in b.get('validationErrors', {}) or
                        'Request body id must match the id in the url.' in b.get('errors', []), repr(r))

    def test_put_empty_object_names_id(self):
        doc_id, _ = self._doc()
        r = self.api.put(DATA + '/students/' + doc_id, {})
        b = self.assertValidationFailed(r)
        self.assertIn('$.id', b['validationErrors'])

    def test_put_with_uppercase_url_id(self):
        doc_id, body = self._doc()
        body['firstName'] = 'Upper'
        r = self.api.put(DATA + '/students/' + doc_id.upper(), body)
        self.assertStatus(r, 204)
        self.assertEqual(self.api.read('students', doc_id)['firstName'], 'Upper')

    def test_put_ignores_system_fields(self):
        doc_id, body = self._doc()
        body['_etag'] = 'bogus'
        body['_lastModifiedDate'] = '1999-01-01T00:00:00Z'
        r = self.api.put(DATA + '/students/' + doc_id, body)
        self.assertStatus(r, 204)
        after = self.api.read('students', doc_id)
        self.assertNotEqual(after['_etag'], 'bogus')
        self.assertNotEqual(after['_lastModifiedDate'], '1999-01-01T00:00:00Z')

    def test_put_keeps_id(self):
        doc_id, body = self._doc()
        body['lastSurname'] = 'Changed'
        self.assertStatus(self.api.put(DATA + '/students/' + doc_id, body), 204)
        docs = self.api.query('students', {'studentUniqueId': body['studentUniqueId']})
        self.assertEqual([d['id'] for d in docs], [doc_id])


class Delete(h.EdhubTestCase):

    def test_delete_204_then_404(self):
        doc_id = self.api.create('students', F.student())
        r = self.api.delete(DATA + '/students/' + doc_id)
        self.assertStatus(r, 204)
        self.assertEqual(r.body, b'')
        g = self.api.get(DATA + '/students/' + doc_id)
        self.assertStatus(g, 404)
        d = self.api.delete(DATA + '/students/' + doc_id)
        self.assertStatus(d, 404)

    def test_404_bodies_when_present_are_not_found_problems(self):
        missing = '0f0e0d0c-0b0a-4909-8807-060504030201'
        for method in ('GET', 'DELETE'):
            r = self.api.request(method, DATA + '/students/' + missing)
            with self.subTest(method=method):
                self.assertStatus(r, 404)
                if r.body:
                    self.assertProblem(r, 404, 'urn:ed-fi:api:not-found')

    def test_delete_then_recreate_gets_new_id(self):
        doc = F.student()
        first = self.api.create('students', doc)
        self.assertStatus(self.api.delete(DATA + '/students/' + first), 204)
        r = self.api.post(DATA + '/students', doc)
        second = self.assertCreated(r, 'students')
        self.assertNotEqual(first, second)

    def test_deleted_doc_gone_from_queries(self):
        doc = F.student()
        doc_id = self.api.create('students', doc)
        self.api.delete(DATA + '/students/' + doc_id)
        self.assertEqual(self.api.query('students', {'studentUniqueId': doc['studentUniqueId']}), [])

    def test_delete_referenced_is_409(self):
        s = F.student()
        student_id = self.api.create('students', s)
        ssa_id = self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        r = self.api.delete(DATA + '/students/' + student_id)
        self.assertProblem(r, 409, 'urn:ed-fi:api:data-conflict:dependent-item-exists', title='Dependent Item Exists',
                           detail='The requested action cannot be performed because this item is referenced by '
                                  'existing StudentSchoolAssociation item(s).')
        self.assertStatus(self.api.get(DATA + '/students/' + student_id), 200)
        self.assertStatus(self.api.delete(DATA + '/studentSchoolAssociations/' + ssa_id), 204)
        self.assertStatus(self.api.delete(DATA + '/students/' + student_id), 204)

    def test_id_of_other_resource_is_404(self):
        student_id = self.api.create('students', F.student())
        self.assertStatus(self.api.get(DATA + '/staffs/' + student_id), 404)
        self.assertStatus(self.api.delete(DATA + '/staffs/' + student_id), 404)
        self.assertStatus(self.api.get(DATA + '/students/' + student_id), 200)


class ModelIdentities(h.EdhubTestCase):
    """Identities the 2024-12 MetaEd output got wrong and the DS 5.2 model fixes (api-behavior §1 (a))."""

    def test_attendance_event_identity_includes_date_and_category(self):
        sess = F.session()
        self.api.create('sessions', sess)
        s = F.student()
        self.api.create('students', s)

        def event(date, category):
            return {'studentReference': {'studentUniqueId': s['studentUniqueId']},
                    'schoolReference': {'schoolId': h.HIGH_SCHOOL},
                    'sessionReference': {'schoolId': h.HIGH_SCHOOL, 'schoolYear': 2025,
                                         'sessionName': sess['sessionName']},
                    'eventDate': date,
                    'attendanceEventCategoryDescriptor': h.descriptor('AttendanceEventCategory', category)}
        ids = set()
        for date, cat in (('2024-09-03', 'Tardy'), ('2024-09-04', 'Tardy'), ('2024-09-04', 'Excused Absence')):
            r = self.api.post(DATA + '/studentSchoolAttendanceEvents', event(date, cat))
            ids.add(self.assertCreated(r, 'studentSchoolAttendanceEvents'))
        self.assertEqual(len(ids), 3)
        r = self.api.post(DATA + '/studentSchoolAttendanceEvents', event('2024-09-04', 'Tardy'))
        self.assertStatus(r, 200)

    def test_employment_identity_includes_hire_date(self):
        st = F.staff()
        self.api.create('staffs', st)

        def employment(hire):
            return {'staffReference': {'staffUniqueId': st['staffUniqueId']},
                    'educationOrganizationReference': {'educationOrganizationId': h.LEA_ID},
                    'employmentStatusDescriptor': h.descriptor('EmploymentStatus', 'Tenured or permanent'),
                    'hireDate': hire}
        a = self.api.post(DATA + '/staffEducationOrganizationEmploymentAssociations', employment('2015-08-01'))
        b = self.api.post(DATA + '/staffEducationOrganizationEmploymentAssociations', employment('2019-08-01'))
        self.assertCreated(a, 'staffEducationOrganizationEmploymentAssociations')
        self.assertCreated(b, 'staffEducationOrganizationEmploymentAssociations')
        self.assertNotEqual(a.location_id, b.location_id)


class Descriptors(h.EdhubTestCase):

    def test_descriptor_crud(self):
        code = h.uid('Grade ')
        doc = F.grade_level_descriptor(code, ns='uri://e2e.example.org/GradeLevelDescriptor')
        r = self.api.post(DATA + '/gradeLevelDescriptors', doc)
        doc_id = self.assertCreated(r, 'gradeLevelDescriptors')
        body = self.api.read('gradeLevelDescriptors', doc_id)
        self.assertEqual({k: v for k, v in body.items() if k not in SYSTEM}, doc)
        # the identity (namespace#codeValue) is case-insensitive: this is an update
        doc2 = dict(doc, codeValue=code.upper(), shortDescription='changed')
        r2 = self.api.post(DATA + '/gradeLevelDescriptors', doc2)
        self.assertStatus(r2, 200)
        self.assertEqual(r2.location_id, doc_id)
        self.assertEqual(self.api.read('gradeLevelDescriptors', doc_id)['shortDescription'], 'changed')
        self.assertStatus(self.api.delete(DATA + '/gradeLevelDescriptors/' + doc_id), 204)
        self.assertEqual(self.api.query('gradeLevelDescriptors', {'codeValue': code}), [])

    def test_descriptor_usable_after_create(self):
        code = h.uid('Grade ')
        ns = 'uri://e2e.example.org/GradeLevelDescriptor'
        self.api.create('gradeLevelDescriptors', F.grade_level_descriptor(code, ns=ns))
        s = F.student()
        self.api.create('students', s)
        doc = F.ssa(s['studentUniqueId'])
        doc['entryGradeLevelDescriptor'] = ns + '#' + code
        self.api.create('studentSchoolAssociations', doc)


if __name__ == '__main__':
    unittest.main()
