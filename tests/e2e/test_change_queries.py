"""Change queries, ODS/API 7.x contract (integration.md §1.2-§1.8): availableChangeVersions, the
minChangeVersion/maxChangeVersion window on collections, {resource}/deletes and {resource}/keyChanges
(shapes, key values under query-parameter names, recreated keys hidden, repeated key changes collapsed,
paging), and their authorization (the ReadChanges action; an LEA-scoped client sees only its own)."""

import subprocess
import urllib.parse

import fixtures as F
import harness as h

DATA = h.DATA
PARAM = 'urn:ed-fi:api:bad-request:parameter-validation-failed'


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


class ChangeCase(h.EdhubTestCase):

    def newest(self, client=None):
        r = (client or self.api).get('/changeQueries/v1/availableChangeVersions')
        self.assertStatus(r, 200)
        return r.json['newestChangeVersion']

    def changes(self, endpoint, kind='deletes', client=None, **params):
        """GET {endpoint}/{kind}?params; asserts 200 and returns the list."""
        q = ('?' + urllib.parse.urlencode(params)) if params else ''
        r = (client or self.api).get('%s/%s/%s%s' % (DATA, endpoint, kind, q))
        self.assertStatus(r, 200)
        self.assertIsInstance(r.json, list, repr(r))
        return r.json

    def student(self):
        s = F.student()
        self.api.create('students', s)
        return s['studentUniqueId']

    def new_client(self, claim_set, edorgs):
        key, secret = h.uid('cq').replace('-', ''), h.uid('secret') + 'x' * 16
        args = [h.EDHUB, 'clients', 'create', '--data', self.server.data, '--key', key, '--secret', secret,
                '--claim-set', claim_set]
        for e in edorgs:
            args += ['--edorg', str(e)]
        p = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=h.REPO)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return h.Client(self.server, self.server.get_token(key, secret))


class AvailableChangeVersions(ChangeCase):

    def test_shape_and_a_token_is_required(self):
        r = self.api.get('/changeQueries/v1/availableChangeVersions')
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, 'application/json')
        self.assertEqual(set(r.json), {'oldestChangeVersion', 'newestChangeVersion'})
        self.assertEqual(r.json['oldestChangeVersion'], 0)
        self.assertIsInstance(r.json['newestChangeVersion'], int)
        self.assertGreater(r.json['newestChangeVersion'], 0, 'the bootstrap data was written')
        r = self.anon.get('/changeQueries/v1/availableChangeVersions')
        self.assertProblem(r, 401, 'urn:ed-fi:api:security:authentication', seven=False)
        r = self.api.post('/changeQueries/v1/availableChangeVersions', {})
        self.assertProblem(r, 405)
        self.assertEqual(r.headers.get('Allow'), 'GET')

    def test_discovery_names_the_change_queries_root(self):
        r = self.anon.get('/')
        url = r.json['urls']['changeQueries']
        self.assertEqual(url, self.server.base_url + '/changeQueries/v1/')
        self.assertStatus(self.api.get(url[len(self.server.base_url):] + 'availableChangeVersions'), 200)

    def test_newest_grows_with_writes_and_windows_select_by_it(self):
        n0 = self.newest()
        s1 = F.student()
        id1 = self.api.create('students', s1)
        n1 = self.newest()
        self.assertGreater(n1, n0)
        got = self.api.query('students', {'minChangeVersion': n1, 'maxChangeVersion': n1})
        self.assertEqual([d['id'] for d in got], [id1], 'the newest version is the last write, and inclusive')
        s2 = F.student()
        id2 = self.api.create('students', s2)
        n2 = self.newest()
        self.assertGreater(n2, n1)
        self.assertEqual([d['id'] for d in self.api.query('students', {'minChangeVersion': n1})], [id1, id2])
        self.assertEqual([d['id'] for d in self.api.query('students', {'minChangeVersion': n0 + 1,
                                                                        'maxChangeVersion': n1})], [id1])
        r = self.api.get(self.api.url('students', query={'minChangeVersion': n1, 'totalCount': 'true', 'limit': 1}))
        self.assertEqual(r.headers.get('Total-Count'), '2')
        # an update moves the document to a new version, out of the old window
        s1['firstName'] = 'Changed'
        self.api.create('students', s1)
        n3 = self.newest()
        self.assertGreater(n3, n2)
        self.assertEqual([d['id'] for d in self.api.query('students', {'minChangeVersion': n3})], [id1])
        self.assertEqual(self.api.query('students', {'minChangeVersion': n1, 'maxChangeVersion': n1}), [])
        # a delete takes the next version, and availableChangeVersions equals it
        self.assertStatus(self.api.delete(self.api.url('students', id2)), 204)
        n4 = self.newest()
        self.assertGreater(n4, n3)
        deletes = self.changes('students', minChangeVersion=n3 + 1)
        self.assertEqual([(d['id'], d['changeVersion']) for d in deletes], [(id2, n4)])


class Deletes(ChangeCase):

    def test_a_delete_is_reported_with_query_parameter_names_until_recreated(self):
        sid = self.student()
        ssa = F.ssa(sid, entry_date='2024-08-21')
        ssa_id = self.api.create('studentSchoolAssociations', ssa)
        n = self.newest()
        self.assertStatus(self.api.delete(self.api.url('studentSchoolAssociations', ssa_id)), 204)
        items = self.changes('studentSchoolAssociations', minChangeVersion=n + 1)
        self.assertEqual(items, [{'id': ssa_id, 'changeVersion': self.newest(),
                                  'keyValues': {'entryDate': '2024-08-21', 'schoolId': h.HIGH_SCHOOL,
                                                'studentUniqueId': sid}}])
        # created again: clients apply upserts before deletes, so the delete is no longer reported
        again = self.api.create('studentSchoolAssociations', ssa)
        self.assertNotEqual(again, ssa_id)
        self.assertEqual(self.changes('studentSchoolAssociations', minChangeVersion=n + 1), [])

    def test_role_named_members_keep_their_parameter_name(self):
        program = F.program(edorg_id=h.LEA_ID)
        self.api.create('programs', program)
        sid = self.student()
        spa = {
            'beginDate': '2024-08-30',
            'educationOrganizationReference': {'educationOrganizationId': h.HIGH_SCHOOL},
            'programReference': {'educationOrganizationId': h.LEA_ID, 'programName': program['programName'],
                                 'programTypeDescriptor': program['programTypeDescriptor']},
            'studentReference': {'studentUniqueId': sid},
        }
        spa_id = self.api.create('studentProgramAssociations', spa)
        n = self.newest()
        self.assertStatus(self.api.delete(self.api.url('studentProgramAssociations', spa_id)), 204)
        items = self.changes('studentProgramAssociations', minChangeVersion=n + 1)
        self.assertEqual(len(items), 1, items)
        self.assertEqual(items[0]['keyValues'], {
            'beginDate': '2024-08-30', 'educationOrganizationId': h.HIGH_SCHOOL,
            'programEducationOrganizationId': h.LEA_ID, 'programName': program['programName'],
            'programTypeDescriptor': program['programTypeDescriptor'], 'studentUniqueId': sid})

    def test_descriptor_deletes_give_namespace_and_code_value(self):
        ns = 'uri://cq.example.org/GradeLevelDescriptor'
        code = h.uid('Grade')
        gid = self.api.create('gradeLevelDescriptors', {'namespace': ns, 'codeValue': code, 'shortDescription': code})
        n = self.newest()
        self.assertStatus(self.api.delete(self.api.url('gradeLevelDescriptors', gid)), 204)
        items = self.changes('gradeLevelDescriptors', minChangeVersion=n + 1)
        self.assertEqual(items, [{'id': gid, 'changeVersion': self.newest(),
                                  'keyValues': {'namespace': ns, 'codeValue': code}}])

    def test_paging_in_change_version_order_with_total_count(self):
        n = self.newest()
        ids = []
        for _ in range(3):
            s = F.student()
            ids.append(self.api.create('students', s))
        for i in reversed(ids):  # deleted in the reverse order: versions, not ids, decide the order
            self.assertStatus(self.api.delete(self.api.url('students', i)), 204)
        everything = self.changes('students', minChangeVersion=n + 1)
        self.assertEqual([d['id'] for d in everything], list(reversed(ids)))
        versions = [d['changeVersion'] for d in everything]
        self.assertEqual(versions, sorted(versions))
        self.assertEqual(versions[-1], self.newest())
        r = self.api.get('%s/students/deletes?minChangeVersion=%d&limit=2&totalCount=true' % (DATA, n + 1))
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get('Total-Count'), '3')
        self.assertEqual(r.json, everything[:2])
        r = self.api.get('%s/students/deletes?minChangeVersion=%d&offset=2&limit=2' % (DATA, n + 1))
        self.assertEqual(r.json, everything[2:])
        self.assertNotIn('Total-Count', r.headers)
        self.assertEqual(self.changes('students', minChangeVersion=versions[1], maxChangeVersion=versions[1]),
                         everything[1:2])
        r = self.api.get('%s/students/deletes?minChangeVersion=%d&limit=0&totalCount=true' % (DATA, n + 1))
        self.assertEqual((r.json, r.headers.get('Total-Count')), ([], '3'))

    def test_parameters_are_validated_as_on_collections(self):
        base = DATA + '/students/deletes'
        self.assertProblem(self.api.get(base + '?limit=501'), 400, PARAM,
                           errors=['Limit must be omitted or set to a numeric value between 0 and 500.'])
        self.assertProblem(self.api.get(base + '?offset=-1'), 400, PARAM,
                           errors=['Offset must be a numeric value greater than or equal to 0.'])
        self.assertProblem(self.api.get(base + '?minChangeVersion=abc'), 400, PARAM,
                           errors=['minChangeVersion must be a numeric value greater than or equal to 0.'])
        self.assertProblem(self.api.get(base + '?totalCount=maybe'), 400, PARAM)
        self.assertProblem(self.api.get(base + '?studentUniqueId=1'), 400, 'urn:ed-fi:api:bad-request',
                           errors=["The query field 'studentUniqueId' is not valid for this resource."])

    def test_unknown_resource_method_and_token(self):
        self.assertProblem(self.api.get(DATA + '/nothings/deletes'), 404, 'urn:ed-fi:api:not-found')
        self.assertProblem(self.api.get(DATA + '/nothings/keyChanges'), 404, 'urn:ed-fi:api:not-found')
        r = self.api.post(DATA + '/students/deletes', {})
        self.assertProblem(r, 405)
        self.assertEqual(r.headers.get('Allow'), 'GET')
        r = self.anon.get(DATA + '/students/deletes')
        self.assertProblem(r, 401, 'urn:ed-fi:api:security:authentication', seven=False)


class KeyChanges(ChangeCase):

    def test_a_to_b_to_c_is_reported_once_as_a_to_c(self):
        sid = self.student()
        ssa = F.ssa(sid, entry_date='2024-08-01')
        ssa_id = self.api.create('studentSchoolAssociations', ssa)
        n = self.newest()
        ssa['id'] = ssa_id
        ssa['entryDate'] = '2024-08-02'
        self.assertStatus(self.api.put(self.api.url('studentSchoolAssociations', ssa_id), ssa), 204)
        first = self.newest()
        ssa['entryDate'] = '2024-08-03'
        self.assertStatus(self.api.put(self.api.url('studentSchoolAssociations', ssa_id), ssa), 204)
        last = self.newest()

        def key(date):
            return {'entryDate': date, 'schoolId': h.HIGH_SCHOOL, 'studentUniqueId': sid}
        self.assertEqual(self.changes('studentSchoolAssociations', 'keyChanges', minChangeVersion=n + 1),
                         [{'id': ssa_id, 'changeVersion': last, 'oldKeyValues': key('2024-08-01'),
                           'newKeyValues': key('2024-08-03')}])
        # a window that starts after the first change sees only the second
        self.assertEqual(self.changes('studentSchoolAssociations', 'keyChanges', minChangeVersion=first + 1),
                         [{'id': ssa_id, 'changeVersion': last, 'oldKeyValues': key('2024-08-02'),
                           'newKeyValues': key('2024-08-03')}])
        self.assertEqual(self.changes('studentSchoolAssociations', 'keyChanges', minChangeVersion=n + 1,
                                      maxChangeVersion=first)[0]['newKeyValues'], key('2024-08-02'))
        # a key change is not a delete
        self.assertEqual(self.changes('studentSchoolAssociations', minChangeVersion=n + 1), [])

    def test_a_session_rename_and_its_cascade(self):
        session = F.session()
        sess_id = self.api.create('sessions', session)
        course = F.course()
        self.api.create('courses', course)
        co = F.course_offering(h.uid('LCC'), session['sessionName'], course['courseCode'])
        co_id = self.api.create('courseOfferings', co)
        n = self.newest()
        old = session['sessionName']
        session['id'] = sess_id
        session['sessionName'] = h.uid('Spring ')
        self.assertStatus(self.api.put(self.api.url('sessions', sess_id), session), 204)
        r = self.api.get('%s/sessions/keyChanges?minChangeVersion=%d&totalCount=true' % (DATA, n + 1))
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get('Total-Count'), '1')
        self.assertEqual(r.json, [{'id': sess_id, 'changeVersion': n + 1,
                                   'oldKeyValues': {'schoolId': h.HIGH_SCHOOL, 'schoolYear': 2025, 'sessionName': old},
                                   'newKeyValues': {'schoolId': h.HIGH_SCHOOL, 'schoolYear': 2025,
                                                    'sessionName': session['sessionName']}}])
        # the course offering's key holds the session name: the cascade re-keys it in the same write
        def key(name):
            return {'localCourseCode': co['localCourseCode'], 'schoolId': h.HIGH_SCHOOL, 'schoolYear': 2025,
                    'sessionName': name}
        self.assertEqual(self.changes('courseOfferings', 'keyChanges', minChangeVersion=n + 1),
                         [{'id': co_id, 'changeVersion': self.newest(), 'oldKeyValues': key(old),
                           'newKeyValues': key(session['sessionName'])}])

    def test_resources_whose_keys_cannot_change_answer_an_empty_list(self):
        self.assertEqual(self.changes('students', 'keyChanges'), [])
        self.assertEqual(self.changes('gradeLevelDescriptors', 'keyChanges'), [])


class Authorization(ChangeCase):

    def test_a_claim_set_without_read_changes_is_refused(self):
        sis = self.new_client('SIS Vendor', [h.LEA_ID])
        self.assertStatus(sis.get(DATA + '/studentSchoolAssociations?limit=1'), 200)
        for kind in ('deletes', 'keyChanges'):
            r = sis.get('%s/studentSchoolAssociations/%s' % (DATA, kind))
            body = self.assertProblem(r, 403, 'urn:ed-fi:api:security:authorization:access-denied:action')
            self.assertIn("'ReadChanges'", body['errors'][0])
        self.assertStatus(sis.get('/changeQueries/v1/availableChangeVersions'), 200, 'any valid token')

    def test_an_lea_client_sees_only_the_changes_of_its_own_students_and_schools(self):
        # a second district with a school, a student enrolled in each district
        lea2 = F.lea()
        self.api.create('localEducationAgencies', lea2)
        school2 = F.school(localEducationAgencyReference={'localEducationAgencyId': lea2['localEducationAgencyId']})
        self.api.create('schools', school2)
        ours, theirs = self.student(), self.student()
        n = self.newest()
        ssa_ours = self.api.create('studentSchoolAssociations', F.ssa(ours))
        ssa_theirs = self.api.create('studentSchoolAssociations', F.ssa(theirs, school_id=school2['schoolId']))
        # a key change in each district, then the deletes
        for ssa_id, sid, school in ((ssa_ours, ours, h.HIGH_SCHOOL), (ssa_theirs, theirs, school2['schoolId'])):
            doc = F.ssa(sid, school_id=school, entry_date='2024-08-25', id=ssa_id)
            self.assertStatus(self.api.put(self.api.url('studentSchoolAssociations', ssa_id), doc), 204)
        for ssa_id in (ssa_ours, ssa_theirs):
            self.assertStatus(self.api.delete(self.api.url('studentSchoolAssociations', ssa_id)), 204)

        reader = self.new_client('Ed-Fi API Publisher - Reader', [h.LEA_ID])
        self.assertEqual(self.newest(reader), self.newest())
        seen = self.changes('studentSchoolAssociations', client=reader, minChangeVersion=n + 1)
        self.assertEqual([d['id'] for d in seen], [ssa_ours], 'the deleted enrolment still counts (IncludingDeletes)')
        seen = self.changes('studentSchoolAssociations', 'keyChanges', client=reader, minChangeVersion=n + 1)
        self.assertEqual([d['id'] for d in seen], [ssa_ours])
        other = self.new_client('Ed-Fi API Publisher - Reader', [lea2['localEducationAgencyId']])
        seen = self.changes('studentSchoolAssociations', client=other, minChangeVersion=n + 1)
        self.assertEqual([d['id'] for d in seen], [ssa_theirs])
        r = other.get('%s/studentSchoolAssociations/deletes?minChangeVersion=%d&totalCount=true' % (DATA, n + 1))
        self.assertEqual(r.headers.get('Total-Count'), '1', 'counted after filtering')
        # the full-access client sees both
        seen = self.changes('studentSchoolAssociations', minChangeVersion=n + 1)
        self.assertEqual([d['id'] for d in seen], [ssa_ours, ssa_theirs])
