"""Identity changes on PUT (api-behavior §4.2): allowIdentityUpdates resources, cascades into
referencing documents (recursively and inside collections), key-change-not-supported, conflicts."""

import unittest

import fixtures as F
import harness as h

DATA = h.DATA
CONFLICT_TYPES = ('urn:ed-fi:api:identity-conflict', 'urn:ed-fi:api:data-conflict:non-unique-identity')
KEY_CHANGE = 'urn:ed-fi:api:bad-request:data-validation-failed:key-change-not-supported'


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


class Graph:
    """session -> courseOffering -> section -> studentSectionAssociation, plus classPeriod/location/bellSchedule."""

    def __init__(self, api):
        self.api = api
        self.session = F.session()
        self.session_id = api.create('sessions', self.session)
        self.course = F.course()
        api.create('courses', self.course)
        self.co = F.course_offering(h.uid('LCC'), self.session['sessionName'], self.course['courseCode'])
        self.co_id = api.create('courseOfferings', self.co)
        self.cp = F.class_period()
        self.cp_id = api.create('classPeriods', self.cp)
        self.cp2 = F.class_period()
        self.cp2_id = api.create('classPeriods', self.cp2)
        self.loc = F.location()
        self.loc_id = api.create('locations', self.loc)
        self.section = F.section(h.uid('SEC'), self.co['localCourseCode'], self.session['sessionName'],
                                 classPeriods=[{'classPeriodReference': {'classPeriodName': n, 'schoolId': h.HIGH_SCHOOL}}
                                               for n in (self.cp2['classPeriodName'], self.cp['classPeriodName'])],
                                 locationReference={'classroomIdentificationCode': self.loc['classroomIdentificationCode'],
                                                    'schoolId': h.HIGH_SCHOOL})
        self.section_id = api.create('sections', self.section)
        self.bell = F.bell_schedule(h.uid('Bell '), [self.cp['classPeriodName'], self.cp2['classPeriodName']])
        self.bell_id = api.create('bellSchedules', self.bell)
        self.student = F.student()
        api.create('students', self.student)
        self.ssec = {
            'beginDate': '2024-08-20',
            'studentReference': {'studentUniqueId': self.student['studentUniqueId']},
            'sectionReference': {'localCourseCode': self.co['localCourseCode'], 'schoolId': h.HIGH_SCHOOL,
                                 'schoolYear': 2025, 'sectionIdentifier': self.section['sectionIdentifier'],
                                 'sessionName': self.session['sessionName']},
        }
        self.ssec_id = api.create('studentSectionAssociations', self.ssec)


class AllowedIdentityUpdates(h.EdhubTestCase):

    def put(self, endpoint, doc_id, body):
        return self.api.put('%s/%s/%s' % (DATA, endpoint, doc_id), body)

    def test_session_rename_cascades_recursively(self):
        g = Graph(self.api)
        co_before = self.api.read('courseOfferings', g.co_id)
        body = self.api.read('sessions', g.session_id)
        new = h.uid('Spring ')
        body['sessionName'] = new
        self.assertStatus(self.put('sessions', g.session_id, body), 204)
        self.assertEqual(self.api.read('sessions', g.session_id)['sessionName'], new)
        co = self.api.read('courseOfferings', g.co_id)
        self.assertEqual(co['sessionReference']['sessionName'], new)
        self.assertNotEqual(co['_etag'], co_before['_etag'], 'cascaded change must change the ETag')
        sec = self.api.read('sections', g.section_id)
        self.assertEqual(sec['courseOfferingReference']['sessionName'], new)
        ssec = self.api.read('studentSectionAssociations', g.ssec_id)
        self.assertEqual(ssec['sectionReference']['sessionName'], new)

    def test_session_rename_updates_queries_and_keys(self):
        g = Graph(self.api)
        old = g.session['sessionName']
        body = self.api.read('sessions', g.session_id)
        new = h.uid('Spring ')
        body['sessionName'] = new
        self.assertStatus(self.put('sessions', g.session_id, body), 204)
        self.assertEqual(self.api.query('sessions', {'sessionName': old}), [])
        self.assertEqual([d['id'] for d in self.api.query('sessions', {'sessionName': new})], [g.session_id])
        self.assertEqual([d['id'] for d in self.api.query('courseOfferings', {'sessionName': new})], [g.co_id])
        # the course offering's natural key moved with the cascade: posting it under the new key updates it
        co = dict(g.co, sessionReference=dict(g.co['sessionReference'], sessionName=new))
        r = self.api.post(DATA + '/courseOfferings', co)
        self.assertStatus(r, 200)
        self.assertEqual(r.location_id, g.co_id)
        # and the old session key no longer resolves
        r = self.api.post(DATA + '/courseOfferings', g.co)
        self.assertProblem(r, 409, 'urn:ed-fi:api:data-conflict:unresolved-reference',
                           validation_keys=['$.sessionReference'])

    def test_old_key_free_after_rename(self):
        g = Graph(self.api)
        body = self.api.read('sessions', g.session_id)
        body['sessionName'] = h.uid('Spring ')
        self.assertStatus(self.put('sessions', g.session_id, body), 204)
        r = self.api.post(DATA + '/sessions', g.session)
        new_id = self.assertCreated(r, 'sessions')
        self.assertNotEqual(new_id, g.session_id)

    def test_session_school_year_change_cascades(self):
        g = Graph(self.api)
        body = self.api.read('sessions', g.session_id)
        body['schoolYearTypeReference'] = {'schoolYear': 2026}
        self.assertStatus(self.put('sessions', g.session_id, body), 204)
        self.assertEqual(self.api.read('courseOfferings', g.co_id)['sessionReference']['schoolYear'], 2026)
        self.assertEqual(self.api.read('sections', g.section_id)['courseOfferingReference']['schoolYear'], 2026)

    def test_non_identity_change_does_not_touch_referrers(self):
        g = Graph(self.api)
        co_before = self.api.read('courseOfferings', g.co_id)
        body = self.api.read('sessions', g.session_id)
        body['totalInstructionalDays'] = 85
        self.assertStatus(self.put('sessions', g.session_id, body), 204)
        co = self.api.read('courseOfferings', g.co_id)
        self.assertEqual(co['_etag'], co_before['_etag'])
        self.assertEqual(co['_lastModifiedDate'], co_before['_lastModifiedDate'])

    def test_class_period_rename_cascades_into_collections(self):
        g = Graph(self.api)
        body = self.api.read('classPeriods', g.cp_id)
        new = h.uid('Period ')
        body['classPeriodName'] = new
        self.assertStatus(self.put('classPeriods', g.cp_id, body), 204)
        bell = self.api.read('bellSchedules', g.bell_id)
        self.assertEqual([c['classPeriodReference']['classPeriodName'] for c in bell['classPeriods']],
                         [new, g.cp2['classPeriodName']])
        sec = self.api.read('sections', g.section_id)
        self.assertEqual([c['classPeriodReference']['classPeriodName'] for c in sec['classPeriods']],
                         [g.cp2['classPeriodName'], new])

    def test_location_rename_cascades(self):
        g = Graph(self.api)
        body = self.api.read('locations', g.loc_id)
        new = h.uid('Room ')
        body['classroomIdentificationCode'] = new
        self.assertStatus(self.put('locations', g.loc_id, body), 204)
        self.assertEqual(self.api.read('sections', g.section_id)['locationReference']['classroomIdentificationCode'],
                         new)

    def test_referrers_protected_after_cascade(self):
        g = Graph(self.api)
        body = self.api.read('classPeriods', g.cp_id)
        body['classPeriodName'] = h.uid('Period ')
        self.assertStatus(self.put('classPeriods', g.cp_id, body), 204)
        r = self.api.delete('%s/classPeriods/%s' % (DATA, g.cp_id))
        self.assertProblem(r, 409, 'urn:ed-fi:api:data-conflict:dependent-item-exists')

    def test_student_school_association_entry_date(self):
        s = F.student()
        self.api.create('students', s)
        ssa_id = self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId'], entry_date='2024-08-20'))
        body = self.api.read('studentSchoolAssociations', ssa_id)
        body['entryDate'] = '2024-09-03'
        self.assertStatus(self.put('studentSchoolAssociations', ssa_id, body), 204)
        got = self.api.query('studentSchoolAssociations', {'studentUniqueId': s['studentUniqueId']})
        self.assertEqual([(d['id'], d['entryDate']) for d in got], [(ssa_id, '2024-09-03')])

    def test_student_school_association_school_change(self):
        s = F.student()
        self.api.create('students', s)
        ssa_id = self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        body = self.api.read('studentSchoolAssociations', ssa_id)
        body['schoolReference'] = {'schoolId': h.MIDDLE_SCHOOL}
        self.assertStatus(self.put('studentSchoolAssociations', ssa_id, body), 204)
        got = self.api.read('studentSchoolAssociations', ssa_id)
        self.assertEqual(got['schoolReference']['schoolId'], h.MIDDLE_SCHOOL)
        self.assertEqual(got['schoolReference']['link']['rel'], 'School')

    def test_identity_change_to_missing_reference(self):
        g = Graph(self.api)
        body = self.api.read('classPeriods', g.cp_id)
        body['schoolReference'] = {'schoolId': 123456789}
        r = self.put('classPeriods', g.cp_id, body)
        self.assertProblem(r, 409, 'urn:ed-fi:api:data-conflict:unresolved-reference',
                           validation_keys=['$.schoolReference'])

    def test_conflict_with_existing_identity(self):
        a = F.class_period()
        b = F.class_period()
        a_id = self.api.create('classPeriods', a)
        self.api.create('classPeriods', b)
        body = self.api.read('classPeriods', a_id)
        body['classPeriodName'] = b['classPeriodName']
        r = self.put('classPeriods', a_id, body)
        self.assertProblem(r, 409, CONFLICT_TYPES, title='Identifying Values Are Not Unique', errors=[
            'A natural key conflict occurred when attempting to update a resource ClassPeriod with a duplicate key. '
            'The duplicate keys and values are (classPeriodName = %s),(schoolId = %d)'
            % (b['classPeriodName'], h.HIGH_SCHOOL)])
        self.assertEqual(self.api.read('classPeriods', a_id)['classPeriodName'], a['classPeriodName'])


class KeyChangeNotSupported(h.EdhubTestCase):

    def assertKeyChange(self, r, resource_name):
        body = self.assertProblem(r, 400, KEY_CHANGE, title='Key Change Not Supported')
        self.assertIn(body['detail'], (
            'Identifying values for the %s resource cannot be changed. Delete and recreate the resource item instead.'
            % resource_name,
            'Identifying values for the %s data cannot be changed. Delete and recreate the item instead.'
            % resource_name), repr(r))

    def test_student_unique_id(self):
        s = F.student()
        sid = self.api.create('students', s)
        body = self.api.read('students', sid)
        body['studentUniqueId'] = h.uid('new')
        self.assertKeyChange(self.api.put('%s/students/%s' % (DATA, sid), body), 'Student')
        self.assertEqual(self.api.read('students', sid)['studentUniqueId'], s['studentUniqueId'])

    def test_identity_through_reference(self):
        cal = F.calendar()
        cid = self.api.create('calendars', cal)
        body = self.api.read('calendars', cid)
        body['schoolReference'] = {'schoolId': h.MIDDLE_SCHOOL}
        self.assertKeyChange(self.api.put('%s/calendars/%s' % (DATA, cid), body), 'Calendar')

    def test_descriptor_code_value(self):
        d = F.grade_level_descriptor(h.uid('Grade '), ns='uri://e2e.example.org/GradeLevelDescriptor')
        did = self.api.create('gradeLevelDescriptors', d)
        body = self.api.read('gradeLevelDescriptors', did)
        body['codeValue'] = h.uid('Other ')
        r = self.api.put('%s/gradeLevelDescriptors/%s' % (DATA, did), body)
        self.assertKeyChange(r, 'GradeLevelDescriptor')

    def test_same_identity_other_fields_ok(self):
        s = F.student()
        sid = self.api.create('students', s)
        body = self.api.read('students', sid)
        body['firstName'] = 'Changed'
        self.assertStatus(self.api.put('%s/students/%s' % (DATA, sid), body), 204)

    def test_numeric_identity_same_value_as_string_is_not_a_change(self):
        cal = F.calendar()
        cid = self.api.create('calendars', cal)
        body = self.api.read('calendars', cid)
        body['schoolReference'] = {'schoolId': str(h.HIGH_SCHOOL)}
        self.assertStatus(self.api.put('%s/calendars/%s' % (DATA, cid), body), 204)


if __name__ == '__main__':
    unittest.main()
