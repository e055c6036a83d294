"""API Profiles applied to requests (integration.md §3): read filtering (IncludeOnly, ExcludeOnly, collection
filters), the profile media types, the ODS/API 7.3 error matrix, writes through a profile (excluded members
dropped and kept as stored, filter violations, DataPolicy on create), profiles assigned to clients (automatic
use, 403 when one must be named), the CLI and token_info. The profiles are the test's own file in
DIR/profiles plus edhub's shipped state-promotion.xml."""

import base64
import json
import os
import subprocess

import fixtures as F
import harness as h

DATA = h.DATA
FORM = 'application/x-www-form-urlencoded'
USAGE = 'urn:ed-fi:api:profile:invalid-profile-usage'
USAGE_DETAIL = 'The request construction was invalid with respect to usage of a data policy.'
INCORRECT = 'urn:ed-fi:api:security:data-policy:incorrect-usage'
POLICY = 'urn:ed-fi:api:bad-request:data-policy'
GRADES = 'GradeLevelDescriptor'

PROFILES = """<?xml version="1.0" encoding="utf-8"?>
<Profiles>
  <Profile name="Test-School-Include">
    <Resource name="School">
      <ReadContentType memberSelection="IncludeOnly">
        <Property name="NameOfInstitution" />
        <Collection name="SchoolGradeLevels" memberSelection="IncludeAll">
          <Filter propertyName="GradeLevelDescriptor" filterMode="IncludeOnly">
            <Value>Ninth grade</Value>
            <Value>Tenth grade</Value>
          </Filter>
        </Collection>
        <Collection name="EducationOrganizationAddresses" memberSelection="IncludeOnly">
          <Property name="ApartmentRoomSuiteNumber" />
          <Filter propertyName="AddressTypeDescriptor" filterMode="IncludeOnly">
            <Value>Physical</Value>
          </Filter>
        </Collection>
      </ReadContentType>
      <WriteContentType memberSelection="IncludeOnly">
        <Property name="NameOfInstitution" />
        <Collection name="EducationOrganizationCategories" memberSelection="IncludeAll" />
        <Collection name="SchoolGradeLevels" memberSelection="IncludeAll">
          <Filter propertyName="GradeLevelDescriptor" filterMode="IncludeOnly">
            <Value>Ninth grade</Value>
            <Value>Tenth grade</Value>
          </Filter>
        </Collection>
      </WriteContentType>
    </Resource>
  </Profile>
  <Profile name="Test-School-Exclude">
    <Resource name="School">
      <ReadContentType memberSelection="ExcludeOnly">
        <Property name="WebSite" />
        <Collection name="EducationOrganizationAddresses" memberSelection="IncludeAll" />
      </ReadContentType>
    </Resource>
  </Profile>
  <Profile name="Test-School-Grades">
    <Resource name="School">
      <ReadContentType memberSelection="IncludeAll">
        <Collection name="SchoolGradeLevels" memberSelection="IncludeAll">
          <Filter propertyName="GradeLevelDescriptor" filterMode="ExcludeOnly">
            <Value>Twelfth grade</Value>
          </Filter>
        </Collection>
      </ReadContentType>
    </Resource>
  </Profile>
  <Profile name="Test-Student-Exclude">
    <Resource name="Student">
      <ReadContentType memberSelection="ExcludeOnly">
        <Property name="BirthDate" />
        <Property name="MiddleName" />
      </ReadContentType>
      <WriteContentType memberSelection="ExcludeOnly">
        <Property name="BirthDate" />
        <Property name="MiddleName" />
      </WriteContentType>
    </Resource>
  </Profile>
  <Profile name="Test-Student-Include">
    <Resource name="Student">
      <ReadContentType memberSelection="IncludeOnly">
        <Property name="FirstName" />
        <Property name="LastSurname" />
      </ReadContentType>
      <WriteContentType memberSelection="IncludeOnly">
        <Property name="FirstName" />
        <Property name="LastSurname" />
        <Property name="BirthDate" />
      </WriteContentType>
    </Resource>
  </Profile>
</Profiles>
"""

# Well-formed, but names a member School does not have: loaded, marked invalid.
BROKEN = """<Profiles><Profile name="Test-Broken"><Resource name="School">
<ReadContentType memberSelection="IncludeOnly"><Property name="NoSuchMember" /></ReadContentType>
</Resource></Profile></Profiles>
"""

# Not XML at all: the file is ignored with a warning; the server still starts.
GARBAGE = "<Profiles><Profile name="


def setUpModule():
    srv = h.start_module_server(__name__)
    d = os.path.join(srv.data, 'profiles')
    os.makedirs(d, exist_ok=True)
    for name, text in (('test.xml', PROFILES), ('broken.xml', BROKEN), ('garbage.xml', GARBAGE)):
        with open(os.path.join(d, name), 'w') as f:
            f.write(text)
    if srv.stop() != 0:
        raise h.ServerError('server did not stop cleanly\n' + srv.logs())
    srv.serve_again()


def tearDownModule():
    h.stop_module_server(__name__)


def media(resource, profile, usage):
    return 'application/vnd.ed-fi.%s.%s.%s+json' % (resource, profile, usage)


def edhub(*args):
    p = subprocess.run([h.EDHUB] + list(args), capture_output=True, text=True, timeout=120, cwd=h.REPO)
    return p.returncode, p.stdout, p.stderr


def codes(items, member):
    return sorted(i[member].split('#', 1)[1] for i in items)


class ProfileCase(h.EdhubTestCase):

    def cli(self, *args, expect=0):
        rc, out, err = edhub(args[0], args[1], '--data', self.server.data, *args[2:])
        self.assertEqual(rc, expect, 'edhub %s -> %d\n%s%s' % (' '.join(args), rc, out, err))
        return out, err

    def new_client(self, profiles=(), claim_set='edhub Full Access'):
        key = h.uid('pk').replace('-', '')
        secret = h.uid('secret')
        args = ['clients', 'create', '--key', key, '--secret', secret, '--claim-set', claim_set]
        for p in profiles:
            args += ['--profile', p]
        self.cli(*args)
        return key, secret, h.Client(self.server, self.server.get_token(key, secret))

    def get(self, path, accept=None, client=None):
        return (client or self.api).get(path, headers={'Accept': accept} if accept else None)

    def school(self, **over):
        """A school with two addresses, four grade levels and a web site, written without a profile."""
        doc = F.school(webSite='http://example.edu/s', addresses=[
            {'addressTypeDescriptor': h.descriptor('AddressType', 'Physical'), 'city': 'Grand Bend',
             'postalCode': '73334', 'stateAbbreviationDescriptor': h.descriptor('StateAbbreviation', 'TX'),
             'streetNumberName': '1 Main Street', 'apartmentRoomSuiteNumber': '100', 'nameOfCounty': 'Williston'},
            {'addressTypeDescriptor': h.descriptor('AddressType', 'Mailing'), 'city': 'Grand Bend',
             'postalCode': '73335', 'stateAbbreviationDescriptor': h.descriptor('StateAbbreviation', 'TX'),
             'streetNumberName': 'P.O. Box 1'}],
            gradeLevels=[{'gradeLevelDescriptor': h.descriptor('GradeLevel', g)}
                         for g in ('Ninth grade', 'Tenth grade', 'Eleventh grade', 'Twelfth grade')])
        doc.update(over)
        doc_id = self.api.create('schools', doc)
        return doc_id, doc

    def student(self, **over):
        doc = F.student(middleName='Middle', **over)
        return self.api.create('students', doc), doc


class Loading(ProfileCase):

    def test_problems_are_logged_and_the_server_serves(self):
        log = h.tail(self.server.err_path, 400)
        self.assertIn('garbage.xml: file ignored', log)
        self.assertIn("profile 'Test-Broken'", log)
        self.assertIn('configured but invalid', log)
        self.assertIn('Test-School-Include', log)
        self.assertIn('State-Promotion', log)


class Reading(ProfileCase):

    def test_include_only_with_collection_filters(self):
        doc_id, _ = self.school()
        mt = media('school', 'test-school-include', 'readable')
        r = self.get(self.api.url('schools', doc_id), mt)
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, mt)
        d = r.json
        self.assertEqual(set(d), {'id', 'schoolId', 'nameOfInstitution', 'gradeLevels', 'addresses', '_etag',
                                  '_lastModifiedDate'})
        self.assertEqual(codes(d['gradeLevels'], 'gradeLevelDescriptor'), ['Ninth grade', 'Tenth grade'])
        # Only the physical address; its identity members always come along.
        self.assertEqual(len(d['addresses']), 1)
        self.assertEqual(set(d['addresses'][0]), {'addressTypeDescriptor', 'city', 'postalCode',
                                                  'stateAbbreviationDescriptor', 'streetNumberName',
                                                  'apartmentRoomSuiteNumber'})
        # The ETag is the item's, as without the profile.
        self.assertEqual(r.etag_value(), self.api.get(self.api.url('schools', doc_id)).etag_value())

    def test_collection_is_filtered_too(self):
        doc_id, doc = self.school()
        mt = media('school', 'test-school-include', 'readable')
        r = self.get(self.api.url('schools', query={'schoolId': doc['schoolId']}), mt)
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, mt)
        self.assertEqual(len(r.json), 1)
        self.assertNotIn('webSite', r.json[0])
        self.assertEqual(codes(r.json[0]['gradeLevels'], 'gradeLevelDescriptor'), ['Ninth grade', 'Tenth grade'])
        # An empty page still answers in the profile's media type.
        r = self.get(self.api.url('schools', query={'schoolId': 1}), mt)
        self.assertStatus(r, 200)
        self.assertEqual((r.content_type, r.json), (mt, []))

    def test_exclude_only(self):
        doc_id, doc = self.school()
        r = self.get(self.api.url('schools', doc_id), media('school', 'test-school-exclude', 'readable'))
        self.assertStatus(r, 200)
        self.assertNotIn('webSite', r.json)
        self.assertNotIn('addresses', r.json)
        self.assertEqual(r.json['nameOfInstitution'], doc['nameOfInstitution'])
        self.assertEqual(len(r.json['gradeLevels']), 4)
        self.assertIn('educationOrganizationCategories', r.json)
        sid, _ = self.student()
        r = self.get(self.api.url('students', sid), media('student', 'test-student-exclude', 'readable'))
        self.assertStatus(r, 200)
        self.assertNotIn('birthDate', r.json)
        self.assertNotIn('middleName', r.json)
        self.assertIn('firstName', r.json)

    def test_exclude_only_filter_on_values(self):
        doc_id, _ = self.school()
        r = self.get(self.api.url('schools', doc_id), media('School', 'TEST-SCHOOL-GRADES', 'readable'))
        self.assertStatus(r, 200)
        # Canonical lower-case media type in the answer, whatever the case asked.
        self.assertEqual(r.content_type, media('school', 'test-school-grades', 'readable'))
        self.assertEqual(codes(r.json['gradeLevels'], 'gradeLevelDescriptor'),
                         ['Eleventh grade', 'Ninth grade', 'Tenth grade'])
        self.assertIn('webSite', r.json)

    def test_profile_among_other_accept_values(self):
        doc_id, _ = self.school()
        r = self.get(self.api.url('schools', doc_id),
                     'application/json, ' + media('school', 'test-school-exclude', 'readable') + ';q=0.9')
        self.assertStatus(r, 200)
        self.assertNotIn('webSite', r.json)

    def test_shipped_state_promotion_profile(self):
        r = self.get(self.api.url('schools', query={'schoolId': h.HIGH_SCHOOL}),
                     media('school', 'state-promotion', 'readable'))
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json), 1)
        self.assertNotIn('webSite', r.json[0])
        self.assertTrue(all(a['addressTypeDescriptor'].endswith('#Physical') for a in r.json[0].get('addresses', [])))

    def test_without_profile_nothing_changes(self):
        doc_id, _ = self.school()
        r = self.get(self.api.url('schools', doc_id))
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, 'application/json')
        self.assertEqual(len(r.json['gradeLevels']), 4)
        self.assertEqual(len(r.json['addresses']), 2)


class Matrix(ProfileCase):
    """Each error of the ODS/API 7.3 matrix (integration.md §3.5)."""

    def usage(self, r, status, message, detail=USAGE_DETAIL, type_=USAGE):
        self.assertProblem(r, status, type_, detail=detail, errors=[message])

    def test_bad_format(self):
        r = self.get(DATA + '/schools', 'application/vnd.ed-fi.school.readable+json')
        self.usage(r, 400, "The format of the profile-based 'Accept' header was invalid.")
        r = self.api.post(DATA + '/schools', F.school(), content_type='application/vnd.ed-fi.school.a.b.writable+json')
        self.usage(r, 400, "The format of the profile-based 'Content-Type' header was invalid.")

    def test_bad_usage_segment(self):
        r = self.api.post(DATA + '/schools', F.school(),
                          content_type=media('school', 'test-school-include', 'editable'))
        self.usage(r, 400, "The profile usage segment in the profile-based 'Content-Type' header was not recognized.")

    def test_writable_on_get_readable_on_write(self):
        r = self.get(DATA + '/schools', media('school', 'test-school-include', 'writable'))
        self.usage(r, 400, 'A profile-based content type that is writable cannot be used with GET requests.')
        r = self.api.post(DATA + '/schools', F.school(),
                          content_type=media('school', 'test-school-include', 'readable'))
        self.usage(r, 400, 'A profile-based content type that is readable cannot be used with PUT or POST requests.')

    def test_unknown_profile(self):
        r = self.get(DATA + '/schools', media('school', 'no-such-profile', 'readable'))
        self.usage(r, 406, "The profile specified by the content type in the 'Accept' header is not supported by "
                           "this host.")
        r = self.api.post(DATA + '/schools', F.school(), content_type=media('school', 'no-such-profile', 'writable'))
        self.usage(r, 415, "The profile specified by the content type in the 'Content-Type' header is not "
                           "supported by this host.")

    def test_invalid_profile(self):
        r = self.get(DATA + '/schools', media('school', 'test-broken', 'readable'))
        self.usage(r, 406, "The profile specified by the content type in the 'Accept' header is configured but "
                           "invalid.")

    def test_resource_mismatch(self):
        r = self.get(DATA + '/students', media('school', 'test-school-include', 'readable'))
        self.usage(r, 400, "The resource specified by the profile-based content type ('school') does not match the "
                           "requested resource ('Student').")

    def test_resource_not_in_profile(self):
        r = self.get(DATA + '/staffs', media('staff', 'test-school-include', 'readable'))
        self.usage(r, 400, "Resource 'Staff' is not accessible through the 'test-school-include' profile specified "
                           "by the content type.",
                   detail=USAGE_DETAIL + ' The resource is not contained by the profile used by (or applied to) the '
                                         'request.')

    def test_direction_not_in_profile(self):
        r = self.api.post(DATA + '/schools', F.school(),
                          content_type=media('school', 'test-school-exclude', 'writable'))
        self.assertProblem(r, 405, 'urn:ed-fi:api:profile:method-usage', title='Method Not Allowed with Profile',
                           errors=["Resource class 'School' is not writable using API profile "
                                   "'test-school-exclude'."])
        doc_id, doc = self.school()
        doc['id'] = doc_id
        r = self.api.put(self.api.url('schools', doc_id), doc,
                         content_type=media('school', 'test-school-grades', 'writable'))
        self.assertStatus(r, 405)

    def test_delete_ignores_profiles(self):
        sid, _ = self.student()
        r = self.api.delete(self.api.url('students', sid),
                            headers={'Accept': media('school', 'no-such-profile', 'readable')})
        self.assertStatus(r, 204)

    def test_errors_come_before_authorization(self):
        # A client that may read nothing of schools still learns first that its profile is unknown.
        _, _, c = self.new_client(claim_set='Assessment Vendor')
        r = c.get(DATA + '/schools', headers={'Accept': media('school', 'no-such-profile', 'readable')})
        self.assertStatus(r, 406)


class Writing(ProfileCase):
    W = media('school', 'test-school-include', 'writable')

    def test_put_keeps_stored_values_of_excluded_members_and_hidden_items(self):
        doc_id, doc = self.school()
        sent = {'id': doc_id, 'schoolId': doc['schoolId'], 'nameOfInstitution': 'Renamed', 'webSite': 'http://ignored',
                'educationOrganizationCategories': doc['educationOrganizationCategories'],
                'gradeLevels': [{'gradeLevelDescriptor': h.descriptor('GradeLevel', 'Tenth grade')}]}
        r = self.api.put(self.api.url('schools', doc_id), sent, content_type=self.W)
        self.assertStatus(r, 204)
        got = self.api.read('schools', doc_id)
        self.assertEqual(got['nameOfInstitution'], 'Renamed')
        self.assertEqual(got['webSite'], 'http://example.edu/s')       # excluded: as stored
        self.assertEqual(got['addresses'], doc['addresses'])              # excluded: as stored
        # Ninth grade (visible, not sent) is gone; the 11th and 12th the filter hides stay.
        self.assertEqual(codes(got['gradeLevels'], 'gradeLevelDescriptor'),
                         ['Eleventh grade', 'Tenth grade', 'Twelfth grade'])

    def test_post_update_through_profile(self):
        doc_id, doc = self.school()
        sent = {'schoolId': doc['schoolId'], 'nameOfInstitution': 'Posted',
                'educationOrganizationCategories': doc['educationOrganizationCategories'],
                'gradeLevels': doc['gradeLevels'][:2]}
        r = self.api.post(DATA + '/schools', sent, content_type=self.W)
        self.assertStatus(r, 200)
        self.assertEqual(r.location_id, doc_id)
        got = self.api.read('schools', doc_id)
        self.assertEqual(got['nameOfInstitution'], 'Posted')
        self.assertEqual(len(got['gradeLevels']), 4)
        self.assertEqual(len(got['addresses']), 2)
        # The same again changes nothing: same ETag.
        r2 = self.api.post(DATA + '/schools', sent, content_type=self.W)
        self.assertStatus(r2, 200)
        self.assertEqual(r2.etag_value(), r.etag_value())

    def test_create_drops_excluded_members(self):
        doc = F.school(webSite='http://dropped', gradeLevels=[
            {'gradeLevelDescriptor': h.descriptor('GradeLevel', 'Ninth grade')}])
        r = self.api.post(DATA + '/schools', doc, content_type=self.W + '; charset=utf-8')
        doc_id = self.assertCreated(r, 'schools')
        got = self.api.read('schools', doc_id)
        self.assertNotIn('webSite', got)
        self.assertEqual(got['nameOfInstitution'], doc['nameOfInstitution'])

    def test_filter_violation(self):
        doc = F.school(gradeLevels=[{'gradeLevelDescriptor': h.descriptor('GradeLevel', 'Ninth grade')},
                                    {'gradeLevelDescriptor': h.descriptor('GradeLevel', 'Twelfth grade')}])
        r = self.api.post(DATA + '/schools', doc, content_type=self.W)
        self.assertValidationFailed(r, keys=['$.gradeLevels'])
        self.assertEqual(r.json['validationErrors']['$.gradeLevels'],
                         ["A supplied 'SchoolGradeLevel' has a descriptor value that does not conform with the filter "
                          "values defined by profile 'Test-School-Include'."])
        self.assertStatus(self.api.get(self.api.url('schools', query={'schoolId': doc['schoolId']})), 200)
        self.assertEqual(self.api.query('schools', {'schoolId': doc['schoolId']}), [])

    def test_excluded_members_are_not_validated(self):
        # An invalid value in a member the profile drops is never looked at (ODS never reads it).
        doc_id, doc = self.school()
        sent = {'id': doc_id, 'schoolId': doc['schoolId'], 'nameOfInstitution': 'Still fine', 'webSite': 12,
                'educationOrganizationCategories': doc['educationOrganizationCategories'],
                'gradeLevels': doc['gradeLevels'][:1]}
        self.assertStatus(self.api.put(self.api.url('schools', doc_id), sent, content_type=self.W), 204)

    def test_data_policy_on_create(self):
        w = media('student', 'test-student-exclude', 'writable')
        doc = F.student()
        del doc['birthDate']
        r = self.api.post(DATA + '/students', doc, content_type=w)
        self.assertProblem(r, 400, POLICY, title='Data Policy Enforced',
                           errors=["The Profile definition for 'Test-Student-Exclude' excludes (or does not include) "
                                   "one or more required data elements needed to create the resource."])
        self.assertEqual(self.api.query('students', {'studentUniqueId': doc['studentUniqueId']}), [])

    def test_update_may_omit_a_required_member_the_profile_excludes(self):
        sid, doc = self.student()
        w = media('student', 'test-student-exclude', 'writable')
        sent = {'id': sid, 'studentUniqueId': doc['studentUniqueId'], 'firstName': 'Changed',
                'lastSurname': doc['lastSurname'], 'middleName': 'Ignored'}
        self.assertStatus(self.api.put(self.api.url('students', sid), sent, content_type=w), 204)
        got = self.api.read('students', sid)
        self.assertEqual((got['firstName'], got['birthDate'], got['middleName']),
                         ('Changed', doc['birthDate'], 'Middle'))
        del sent['id']
        sent['firstName'] = 'Again'
        r = self.api.post(DATA + '/students', sent, content_type=w)
        self.assertStatus(r, 200)
        self.assertEqual(self.api.read('students', sid)['birthDate'], doc['birthDate'])

    def test_required_member_the_profile_includes_is_still_required(self):
        sid, doc = self.student()
        w = media('student', 'test-student-exclude', 'writable')
        sent = {'id': sid, 'studentUniqueId': doc['studentUniqueId'], 'lastSurname': 'X'}
        r = self.api.put(self.api.url('students', sid), sent, content_type=w)
        self.assertValidationFailed(r, keys=['$.firstName'])

    def test_if_match_through_profile(self):
        sid, doc = self.student()
        w = media('student', 'test-student-exclude', 'writable')
        sent = {'id': sid, 'studentUniqueId': doc['studentUniqueId'], 'firstName': 'E', 'lastSurname': 'T'}
        r = self.api.put(self.api.url('students', sid), sent, content_type=w, headers={'If-Match': '"1"'})
        self.assertStatus(r, 412)
        etag = self.api.get(self.api.url('students', sid)).headers['ETag']
        r = self.api.put(self.api.url('students', sid), sent, content_type=w, headers={'If-Match': etag})
        self.assertStatus(r, 204)


class Assigned(ProfileCase):

    def test_only_assigned_profile_applies_by_itself(self):
        _, _, c = self.new_client(['Test-Student-Include'])
        sid, doc = self.student()
        r = c.get(c.url('students', sid))
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, media('student', 'test-student-include', 'readable'))
        self.assertEqual(set(r.json) - {'id', '_etag', '_lastModifiedDate'},
                         {'studentUniqueId', 'firstName', 'lastSurname'})
        # Writes too: middleName is dropped, birthDate (included) is written.
        new = F.student(middleName='Dropped')
        r = c.post(DATA + '/students', new)
        nid = self.assertCreated(r, 'students')
        got = self.api.read('students', nid)
        self.assertNotIn('middleName', got)
        self.assertEqual(got['birthDate'], new['birthDate'])
        # Resources the profile does not cover: as usual.
        r = c.get(c.url('schools', query={'schoolId': h.HIGH_SCHOOL}))
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, 'application/json')
        self.assertIn('webSite', r.json[0])

    def test_several_assigned_profiles_must_be_named(self):
        _, _, c = self.new_client(['Test-School-Include', 'Test-School-Exclude'])
        r = c.get(DATA + '/schools')
        self.assertProblem(r, 403, INCORRECT, title='Data Policy Failure Due to Incorrect Usage', errors=[
            "Based on profile assignments, one of the following profile-specific content types is required when "
            "requesting this resource: '%s', '%s'" % (media('school', 'test-school-exclude', 'readable'),
                                                    media('school', 'test-school-include', 'readable'))])
        r = c.get(DATA + '/schools?limit=1', headers={'Accept': media('school', 'test-school-exclude', 'readable')})
        self.assertStatus(r, 200)
        self.assertNotIn('webSite', r.json[0])
        # A profile that exists but is not the client's.
        r = c.get(DATA + '/schools', headers={'Accept': media('school', 'test-school-grades', 'readable')})
        self.assertProblem(r, 403, INCORRECT)
        # Only Test-School-Include can write schools: applied by itself.
        r = c.post(DATA + '/schools', F.school(webSite='http://dropped'))
        doc_id = self.assertCreated(r, 'schools')
        self.assertNotIn('webSite', self.api.read('schools', doc_id))
        # Writing with a profile it is not assigned.
        r = c.post(DATA + '/schools', F.school(), content_type=media('school', 'state-promotion', 'writable'))
        self.assertProblem(r, 403, INCORRECT, errors=[
            "Based on profile assignments, the following profile-specific content type is required when creating "
            "or updating this resource: '%s'" % media('school', 'test-school-include', 'writable')])

    def test_unassigned_client_may_use_any_profile(self):
        doc_id, _ = self.school()
        r = self.api.get(self.api.url('schools', doc_id),
                         headers={'Accept': media('school', 'test-school-exclude', 'readable')})
        self.assertStatus(r, 200)
        self.assertNotIn('webSite', r.json)

    def test_batch_applies_the_assigned_profile(self):
        _, _, c = self.new_client(['Test-Student-Include'])
        doc = F.student(middleName='Dropped')
        line = json.dumps({'resource': '/ed-fi/students', 'document': doc})
        r = c.post('/edhub/v1/batch', line + '\n', content_type='application/x-ndjson')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['created'], 1, r)
        got = self.api.query('students', {'studentUniqueId': doc['studentUniqueId']})
        self.assertNotIn('middleName', got[0])
        # Several profiles cover schools: each school item is refused.
        _, _, c2 = self.new_client(['Test-School-Include', 'State-Promotion'])
        r = c2.post('/edhub/v1/batch', json.dumps({'resource': '/ed-fi/schools', 'document': F.school()}) + '\n',
                    content_type='application/x-ndjson')
        self.assertStatus(r, 200)
        self.assertEqual(r.json['results'][0]['status'], 403, r)
        self.assertEqual(r.json['results'][0]['problem']['type'], INCORRECT)
        # The batch itself cannot name a profile.
        r = c.post('/edhub/v1/batch', line + '\n', content_type=media('student', 'test-student-include', 'writable'))
        self.assertProblem(r, 415)

    def test_token_info_lists_assigned_profiles(self):
        _, _, c = self.new_client(['Test-Student-Include', 'State-Promotion'])
        r = c.post('/oauth/token_info', 'token=' + c.token, content_type=FORM)
        self.assertStatus(r, 200)
        self.assertEqual(r.json['assigned_profiles'], ['Test-Student-Include', 'State-Promotion'])


class Cli(ProfileCase):

    def test_assign_show_update_clear(self):
        key, secret, _ = self.new_client(['Test-Student-Include'])
        out, _ = self.cli('clients', 'show', '--key', key, '--json')
        self.assertEqual(json.loads(out)['profiles'], ['Test-Student-Include'])
        out, _ = self.cli('clients', 'show', '--key', key)
        self.assertIn('profiles: ["Test-Student-Include"]', out)
        self.cli('clients', 'update', '--key', key, '--profile', 'Test-School-Include', '--profile', 'State-Promotion')
        out, _ = self.cli('clients', 'show', '--key', key, '--json')
        self.assertEqual(json.loads(out)['profiles'], ['Test-School-Include', 'State-Promotion'])
        # A change ends the client's tokens; a new token carries the new assignment.
        c = h.Client(self.server, self.server.get_token(key, secret))
        self.assertProblem(c.get(DATA + '/schools'), 403, INCORRECT)
        # Other changes keep the profiles.
        self.cli('clients', 'update', '--key', key, '--name', 'renamed')
        out, _ = self.cli('clients', 'show', '--key', key, '--json')
        self.assertEqual(json.loads(out)['profiles'], ['Test-School-Include', 'State-Promotion'])
        self.cli('clients', 'update', '--key', key, '--profile', '')
        out, _ = self.cli('clients', 'show', '--key', key, '--json')
        self.assertEqual(json.loads(out)['profiles'], [])
        c = h.Client(self.server, self.server.get_token(key, secret))
        self.assertStatus(c.get(DATA + '/schools?limit=1'), 200)

    def test_bad_profile_name(self):
        _, err = self.cli('clients', 'create', '--claim-set', 'SIS Vendor', '--profile', 'has.dot', expect=2)
        self.assertIn('profile name', err)

    def test_warns_about_profiles_the_server_would_not_apply(self):
        _, err = self.cli('clients', 'create', '--claim-set', 'SIS Vendor', '--profile', 'Not-Installed',
                          '--profile', 'Test-Broken', '--profile', 'Test-Student-Include')
        self.assertIn("no profile named 'Not-Installed' is installed", err)
        self.assertIn("profile 'Test-Broken' is invalid", err)
        self.assertNotIn('Test-Student-Include', err)

    def test_missing_or_invalid_assigned_profile_fails_closed(self):
        for bad, why in (('Not-Installed', 'not installed'), ('Test-Broken', 'configured but invalid')):
            with self.subTest(profile=bad):
                _, _, c = self.new_client([bad, 'Test-Student-Include'])
                for path in ('/schools', '/students', '/sessions?limit=1'):
                    r = c.get(DATA + path)
                    self.assertProblem(r, 406, USAGE)
                    self.assertIn("The profile '%s' assigned to the API client is %s" % (bad, why), r.body.decode())
                r = c.post(DATA + '/students', {'studentUniqueId': h.uid('s'), 'firstName': 'A', 'lastSurname': 'B',
                                                'birthDate': '2010-01-01'})
                self.assertProblem(r, 406, USAGE)


class AdminApi(ProfileCase):

    def test_profiles_and_application_profile_ids(self):
        key, secret = 'adminapi' + h.uid('k').replace('-', ''), h.uid('adminsecret')
        self.cli('clients', 'create', '--key', key, '--secret', secret, '--claim-set', 'edhub Admin API')
        body = 'client_id=%s&client_secret=%s&grant_type=client_credentials' % (key, secret)
        r = self.anon.request('POST', '/adminapi/connect/token', body, content_type=FORM, auth=False)
        admin = h.Client(self.server, r.json['access_token'])
        r = admin.get('/adminapi/v2/profiles?limit=100')
        self.assertStatus(r, 200)
        ids = {p['name']: p['id'] for p in r.json}
        self.assertIn('Test-Student-Include', ids)
        self.assertIn('State-Promotion', ids)
        self.assertIn('Test-Broken', ids)
        pid = ids['Test-Student-Include']
        self.assertEqual(admin.get('/adminapi/v2/profiles/%d' % pid).json, {'id': pid, 'name': 'Test-Student-Include'})
        self.assertStatus(admin.get('/adminapi/v2/profiles/9999'), 404)
        self.assertStatus(admin.post('/adminapi/v2/profiles', {'name': 'x', 'definition': '<Profile/>'}), 405)
        r = admin.post('/adminapi/v2/vendors', {'company': 'Profiled ' + h.uid('c'), 'namespacePrefixes': 'uri://p.org'})
        vid = int(r.headers['Location'].rsplit('/', 1)[1])
        app = {'applicationName': 'Profiled app', 'vendorId': vid, 'claimSetName': 'edhub Full Access',
               'educationOrganizationIds': [], 'profileIds': [pid]}
        r = admin.post('/adminapi/v2/applications', app)
        self.assertStatus(r, 201)
        aid, akey, asecret = r.json['id'], r.json['key'], r.json['secret']
        self.assertEqual(admin.get('/adminapi/v2/applications/%d' % aid).json['profileIds'], [pid])
        out, _ = self.cli('clients', 'show', '--key', akey, '--json')
        self.assertEqual(json.loads(out)['profiles'], ['Test-Student-Include'])
        c = h.Client(self.server, self.server.get_token(akey, asecret))
        sid, _ = self.student()
        r = c.get(c.url('students', sid))
        self.assertEqual(r.content_type, media('student', 'test-student-include', 'readable'))
        # Unknown ids are refused; an update without profileIds keeps them; [] clears them.
        bad = dict(app, profileIds=[9999])
        r = admin.put('/adminapi/v2/applications/%d' % aid, bad)
        self.assertEqual(r.status, 400, repr(r))
        self.assertIn('ProfileIds', r.json['errors'])
        upd = dict(app)
        del upd['profileIds']
        upd['applicationName'] = 'Renamed app'
        self.assertStatus(admin.put('/adminapi/v2/applications/%d' % aid, upd), 200)
        self.assertEqual(admin.get('/adminapi/v2/applications/%d' % aid).json['profileIds'], [pid])
        self.assertStatus(admin.put('/adminapi/v2/applications/%d' % aid, dict(app, profileIds=[])), 200)
        self.assertEqual(admin.get('/adminapi/v2/applications/%d' % aid).json['profileIds'], [])


if __name__ == '__main__':
    import unittest
    unittest.main()
