"""Request validation: JSON schema, whitespace (§5.3), overposting (§5.4), coercion (§5.5),
descriptors (§5.6), request-level checks (§3, §4.1): duplicate keys, id in body, Content-Type,
empty/malformed/deeply nested/invalid UTF-8/huge bodies."""

import json
import socket
import time
import unittest

import fixtures as F
import harness as h
from fixtures import DROP

DATA = h.DATA
DVF = 'urn:ed-fi:api:bad-request:data-validation-failed'


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


class Base(h.EdhubTestCase):

    def post(self, endpoint, doc, **kw):
        return self.api.post('%s/%s' % (DATA, endpoint), doc, **kw)

    def assertRequired(self, r, *paths):
        body = self.assertValidationFailed(r, contains=paths)
        for p in paths:
            msgs = body['validationErrors'][p]
            name = p.rsplit('.', 1)[-1]
            self.assertTrue(any('required' in m and name in m for m in msgs),
                            'expected "%s is required." under %s: %r' % (name, p, r))
        return body

    def created_doc(self, endpoint, doc):
        r = self.post(endpoint, doc)
        self.assertStatus(r, (201, 200))
        return self.api.read(endpoint, r.location_id)


class Schema(Base):

    def test_missing_required_top_level(self):
        r = self.post('students', F.student(firstName=DROP, birthDate=DROP))
        body = self.assertRequired(r, '$.firstName', '$.birthDate')
        self.assertEqual(set(body['validationErrors']), {'$.firstName', '$.birthDate'})

    def test_missing_required_in_reference(self):
        r = self.post('studentSchoolAssociations', F.ssa(h.uid(), schoolReference={}))
        self.assertRequired(r, '$.schoolReference.schoolId')

    def test_missing_required_in_collection_item(self):
        doc = F.course()
        del doc['identificationCodes'][0]['identificationCode']
        self.assertRequired(self.post('courses', doc), '$.identificationCodes[0].identificationCode')

    def test_string_expected(self):
        self.assertValidationFailed(self.post('students', F.student(firstName=123)), keys=['$.firstName'])

    def test_integer_expected(self):
        self.assertValidationFailed(self.post('sessions', F.session(totalInstructionalDays='abc')),
                                    keys=['$.totalInstructionalDays'])

    def test_integer_rejects_fraction(self):
        self.assertValidationFailed(self.post('sessions', F.session(totalInstructionalDays=1.5)),
                                    keys=['$.totalInstructionalDays'])

    def test_minimum(self):
        self.assertValidationFailed(self.post('sessions', F.session(totalInstructionalDays=-1)),
                                    keys=['$.totalInstructionalDays'])

    def test_maximum_in_reference(self):
        doc = F.session(schoolYearTypeReference={'schoolYear': 2101})
        self.assertValidationFailed(self.post('sessions', doc), keys=['$.schoolYearTypeReference.schoolYear'])

    def test_max_length(self):
        self.assertValidationFailed(self.post('students', F.student(firstName='x' * 76)), keys=['$.firstName'])
        self.assertStatus(self.post('students', F.student(firstName='x' * 75)), 201)

    def test_max_length_counts_characters_not_bytes(self):
        doc = self.created_doc('students', F.student(firstName='\u00e9' * 75))
        self.assertEqual(doc['firstName'], '\u00e9' * 75)

    def test_min_length(self):
        self.assertValidationFailed(self.post('academicWeeks', F.academic_week(identifier='wk1')),
                                    keys=['$.weekIdentifier'])

    def test_date_format(self):
        for bad in ('not-a-date', '2010-02-30', '2010-13-01', ''):
            with self.subTest(value=bad):
                self.assertValidationFailed(self.post('students', F.student(birthDate=bad)), keys=['$.birthDate'])

    def test_object_expected(self):
        self.assertValidationFailed(self.post('studentSchoolAssociations', F.ssa(h.uid(), studentReference='abc')),
                                    contains=['$.studentReference'])

    def test_array_expected(self):
        self.assertValidationFailed(self.post('schools', F.school(gradeLevels={'gradeLevelDescriptor': 'x'})),
                                    contains=['$.gradeLevels'])

    def test_body_must_be_object(self):
        for body in ('[]', '123', '"student"', 'null', 'true', '[{"studentUniqueId":"a"}]'):
            with self.subTest(body=body):
                r = self.post('students', body)
                self.assertStatus(r, 400)
                self.assertEqual(r.content_type, 'application/problem+json')

    def test_all_errors_reported(self):
        r = self.post('students', F.student(firstName=123, lastSurname=DROP))
        self.assertValidationFailed(r, contains=['$.firstName', '$.lastSurname'])

    def test_empty_object_lists_all_required(self):
        r = self.post('studentSchoolAssociations', {})
        self.assertRequired(r, '$.studentReference', '$.schoolReference', '$.entryDate', '$.entryGradeLevelDescriptor')


class Whitespace(Base):

    def ws(self, r, path, message):
        self.assertValidationFailed(r, contains=[path])
        self.assertIn(message, r.json['validationErrors'][path], repr(r))

    def test_identity_leading_space(self):
        self.ws(self.post('students', F.student(' ' + h.uid())), '$.studentUniqueId',
                'studentUniqueId cannot contain leading or trailing spaces.')

    def test_identity_trailing_space(self):
        self.ws(self.post('students', F.student(h.uid() + ' ')), '$.studentUniqueId',
                'studentUniqueId cannot contain leading or trailing spaces.')

    def test_identity_tab(self):
        self.ws(self.post('students', F.student(h.uid() + '\t')), '$.studentUniqueId',
                'studentUniqueId cannot contain leading or trailing spaces.')

    def test_identity_empty(self):
        self.ws(self.post('students', F.student(studentUniqueId='')), '$.studentUniqueId',
                'studentUniqueId is required and should not be left empty.')

    def test_identity_inner_space_ok(self):
        suid = 'a b ' + h.uid()
        doc = self.created_doc('students', F.student(suid))
        self.assertEqual(doc['studentUniqueId'], suid)

    def test_identity_in_reference(self):
        r = self.post('studentSchoolAssociations', F.ssa(' ' + h.uid()))
        self.ws(r, '$.studentReference.studentUniqueId', 'studentUniqueId cannot contain leading or trailing spaces.')

    def test_required_all_blank(self):
        self.ws(self.post('students', F.student(firstName='    ')), '$.firstName',
                'firstName cannot contain leading or trailing spaces.')

    def test_required_empty(self):
        self.ws(self.post('students', F.student(firstName='')), '$.firstName',
                'firstName is required and should not be left empty.')

    def test_required_edge_spaces_kept(self):
        doc = self.created_doc('students', F.student(firstName='    Traci    '))
        self.assertEqual(doc['firstName'], '    Traci    ')

    def test_optional_blank_kept_verbatim(self):
        doc = self.created_doc('students', F.student(middleName='    '))
        self.assertEqual(doc['middleName'], '    ')

    def test_descriptor_code_and_short_description_trimmed(self):
        code = h.uid('Little Shell Tribe ')
        body = {'namespace': 'uri://e2e.example.org/TribalAffiliationDescriptor', 'codeValue': ' %s ' % code,
                'shortDescription': '  %s  ' % code, 'description': '    '}
        doc = self.created_doc('tribalAffiliationDescriptors', body)
        self.assertEqual(doc['codeValue'], code)
        self.assertEqual(doc['shortDescription'], code)
        self.assertEqual(doc['description'], '    ')

    def test_descriptor_field_lengths(self):
        ns = 'uri://e2e.example.org/TribalAffiliationDescriptor'
        for body, key in (({'namespace': ns, 'codeValue': 'c' * 51, 'shortDescription': 'x'}, '$.codeValue'),
                          ({'namespace': ns, 'codeValue': h.uid('c'), 'shortDescription': 's' * 76}, '$.shortDescription'),
                          ({'namespace': ns + '/' + 'n' * 255, 'codeValue': h.uid('c'), 'shortDescription': 'x'},
                           '$.namespace'),
                          ({'namespace': ns, 'codeValue': h.uid('c'), 'shortDescription': 'x', 'description': 'd' * 1025},
                           '$.description')):
            with self.subTest(key=key):
                self.assertValidationFailed(self.post('tribalAffiliationDescriptors', body), keys=[key])

    def test_descriptor_namespace_not_trimmed(self):
        body = {'namespace': ' uri://e2e.example.org/TribalAffiliationDescriptor', 'codeValue': h.uid('x'),
                'shortDescription': 'x'}
        self.assertValidationFailed(self.post('tribalAffiliationDescriptors', body), contains=['$.namespace'])


    def test_descriptor_namespace_must_be_a_uri(self):
        # ODS/API 7.3 DescriptorNamespaceValidator: "Namespaces must be prefixed with 'uri://'".
        body = {'namespace': 'http://e2e.example.org/TribalAffiliationDescriptor', 'codeValue': h.uid('x'),
                'shortDescription': 'x'}
        r = self.post('tribalAffiliationDescriptors', body)
        self.assertValidationFailed(r, keys=['$.namespace'])
        self.assertIn("Namespaces must be prefixed with 'uri://'", r.json['validationErrors']['$.namespace'][0])

    def test_descriptor_code_value_without_hash(self):
        body = {'namespace': 'uri://e2e.example.org/TribalAffiliationDescriptor', 'codeValue': 'a#b',
                'shortDescription': 'x'}
        self.assertValidationFailed(self.post('tribalAffiliationDescriptors', body), keys=['$.codeValue'])


class Overposting(Base):

    def test_unknown_property_dropped(self):
        doc = self.created_doc('students', F.student(favoriteColor='blue', _private={'x': 1}))
        self.assertNotIn('favoriteColor', doc)
        self.assertNotIn('_private', doc)

    def test_unknown_property_in_reference_dropped(self):
        s = F.student()
        self.api.create('students', s)
        d = F.ssa(s['studentUniqueId'])
        d['schoolReference']['schoolName'] = 'Grand Bend High School'
        doc = self.created_doc('studentSchoolAssociations', d)
        self.assertEqual(set(doc['schoolReference']), {'schoolId', 'link'})

    def test_unknown_property_in_collection_item_dropped(self):
        d = F.school()
        d['gradeLevels'][0]['note'] = 'x'
        doc = self.created_doc('schools', d)
        self.assertEqual(doc['gradeLevels'], [{'gradeLevelDescriptor': h.descriptor('GradeLevel', 'Ninth grade')}])

    def test_property_names_are_case_sensitive(self):
        d = F.student(firstName=DROP, FirstName='Traci')
        self.assertRequired(self.post('students', d), '$.firstName')

    def test_wrongly_cased_duplicate_is_dropped(self):
        doc = self.created_doc('students', F.student(FirstName='Other'))
        self.assertNotIn('FirstName', doc)
        self.assertEqual(doc['firstName'], 'Traci')

    def test_null_optional_removed(self):
        doc = self.created_doc('students', F.student(middleName=None))
        self.assertNotIn('middleName', doc)

    def test_null_required_is_required_error(self):
        self.assertRequired(self.post('students', F.student(firstName=None)), '$.firstName')

    def test_empty_optional_array_removed(self):
        doc = self.created_doc('students', F.student(visas=[]))
        self.assertNotIn('visas', doc)

    def test_array_of_empty_objects_removed(self):
        doc = self.created_doc('students', F.student(visas=[{}, {}]))
        self.assertNotIn('visas', doc)

    def test_empty_required_array_is_required_error(self):
        self.assertRequired(self.post('schools', F.school(gradeLevels=[])), '$.gradeLevels')

    def test_nested_empty_array_not_pruned(self):
        addr = {'addressTypeDescriptor': h.descriptor('AddressType', 'Physical'), 'streetNumberName': '1 Main St',
                'city': 'Grand Bend', 'stateAbbreviationDescriptor': h.descriptor('StateAbbreviation', 'TX'),
                'postalCode': '78000', 'periods': []}
        doc = self.created_doc('schools', F.school(addresses=[addr]))
        self.assertEqual(doc['addresses'][0].get('periods'), [])

    def test_system_fields_in_body_dropped(self):
        d = F.student(_etag='123', _lastModifiedDate='2001-01-01T00:00:00Z',
                      link={'rel': 'Student', 'href': '/x'})
        doc = self.created_doc('students', d)
        self.assertNotEqual(doc['_etag'], '123')
        self.assertNotEqual(doc['_lastModifiedDate'], '2001-01-01T00:00:00Z')
        self.assertNotIn('link', doc)


class Coercion(Base):

    def test_boolean_strings_and_numbers(self):
        for given, want in (('true', True), ('FALSE', False), ('True', True), (1, True), (0, False),
                            ('1', True), ('0', False)):
            with self.subTest(given=given):
                doc = self.created_doc('students', F.student(multipleBirthStatus=given))
                self.assertIs(doc['multipleBirthStatus'], want)

    def test_boolean_invalid(self):
        for given in (2, 'yes', '', 'truee', 1.5):
            with self.subTest(given=given):
                self.assertValidationFailed(self.post('students', F.student(multipleBirthStatus=given)),
                                            keys=['$.multipleBirthStatus'])

    def test_numeric_strings(self):
        doc = self.created_doc('sessions', F.session(totalInstructionalDays='90',
                                                     schoolReference={'schoolId': str(h.HIGH_SCHOOL)}))
        self.assertEqual(doc['totalInstructionalDays'], 90)
        self.assertIsInstance(doc['totalInstructionalDays'], int)
        self.assertEqual(doc['schoolReference']['schoolId'], h.HIGH_SCHOOL)
        self.assertIsInstance(doc['schoolReference']['schoolId'], int)

    def test_decimal_string(self):
        s = F.student()
        self.api.create('students', s)
        doc = self.created_doc('studentSchoolAssociations', F.ssa(s['studentUniqueId'], fullTimeEquivalency='0.5'))
        self.assertEqual(doc['fullTimeEquivalency'], 0.5)

    def test_numeric_identity_canonical(self):
        # "255901001" and 255901001 are the same identity value (§10)
        s = F.student()
        self.api.create('students', s)
        r1 = self.post('studentSchoolAssociations', F.ssa(s['studentUniqueId'],
                                                           schoolReference={'schoolId': str(h.HIGH_SCHOOL)}))
        self.assertStatus(r1, 201)
        r2 = self.post('studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        self.assertStatus(r2, 200)
        self.assertEqual(r2.location_id, r1.location_id)

    def test_slash_dates(self):
        for given, want in (('5/1/2009', '2009-05-01'), ('13/1/2009', '2009-01-13'), ('12/31/2009', '2009-12-31')):
            with self.subTest(given=given):
                doc = self.created_doc('students', F.student(birthDate=given))
                self.assertEqual(doc['birthDate'], want)

    def _assessment(self):
        if not hasattr(self.__class__, '_asmt'):
            a = F.assessment()
            self.api.create('assessments', a)
            s = F.student()
            self.api.create('students', s)
            self.__class__._asmt = (a['assessmentIdentifier'], s['studentUniqueId'])
        return self.__class__._asmt

    def test_date_times_normalized_to_utc(self):
        aid, suid = self._assessment()
        for given, want in (('2021-09-28T14:15:30Z', '2021-09-28T14:15:30Z'),
                            ('2021-09-28T10:15:30-05:00', '2021-09-28T15:15:30Z'),
                            ('2021-09-28T14:15:30', '2021-09-28T14:15:30Z'),
                            ('2021-09-28 2:15:30 PM', '2021-09-28T14:15:30Z'),
                            ('2021-09-28', '2021-09-28T00:00:00Z')):
            with self.subTest(given=given):
                doc = self.created_doc('studentAssessments',
                                       F.student_assessment(suid, aid, administrationDate=given))
                self.assertEqual(doc['administrationDate'], want)

    def test_date_time_invalid(self):
        aid, suid = self._assessment()
        r = self.post('studentAssessments', F.student_assessment(suid, aid, administrationDate='yesterday'))
        self.assertValidationFailed(r, contains=['$.administrationDate'])

    def test_decimal_range(self):
        self.assertStatus(self.post('staffs', F.staff(yearsOfPriorProfessionalExperience=999.99)), 201)
        self.assertStatus(self.post('staffs', F.staff(yearsOfPriorProfessionalExperience=-999.99)), 201)
        r = self.post('staffs', F.staff(yearsOfPriorProfessionalExperience=1000))
        b = self.assertValidationFailed(r, keys=['$.yearsOfPriorProfessionalExperience'])
        self.assertTrue(any('999.99' in m for m in b['validationErrors']['$.yearsOfPriorProfessionalExperience']),
                        repr(r))

    def test_decimal_scale(self):
        r = self.post('staffs', F.staff(yearsOfPriorProfessionalExperience=1.234))
        self.assertValidationFailed(r, keys=['$.yearsOfPriorProfessionalExperience'])

    def test_decimal_precision_other_column(self):
        s = F.student()
        self.api.create('students', s)
        r = self.post('studentSchoolAssociations', F.ssa(s['studentUniqueId'], fullTimeEquivalency=10))
        self.assertValidationFailed(r, keys=['$.fullTimeEquivalency'])


class Descriptors(Base):

    def test_unknown_descriptor_exact_body(self):
        s = F.student()
        self.api.create('students', s)
        r = self.post('studentSchoolAssociations',
                      F.ssa(s['studentUniqueId'], entryGradeLevelDescriptor='uri://ed-fi.org/GradeLevelDescriptor#Fake'))
        self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request', title='Bad Request',
                           detail="Data validation failed. See 'validationErrors' for details.",
                           validation={'$.entryGradeLevelDescriptor': [
                               "GradeLevelDescriptor value 'uri://ed-fi.org/gradeleveldescriptor#fake' does not exist."]},
                           validation_keys=['$.entryGradeLevelDescriptor'], errors=[])

    def test_unknown_descriptors_in_collections_all_listed(self):
        d = F.lea(categories=[
            {'educationOrganizationCategoryDescriptor': h.descriptor('EducationOrganizationCategory', 'School')},
            {'educationOrganizationCategoryDescriptor': 'uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Fake'}],
            localEducationAgencyCategoryDescriptor='uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Fake')
        r = self.post('localEducationAgencies', d)
        self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request', validation={
            '$.categories[1].educationOrganizationCategoryDescriptor': [
                "EducationOrganizationCategoryDescriptor value "
                "'uri://ed-fi.org/educationorganizationcategorydescriptor#fake' does not exist."],
            '$.localEducationAgencyCategoryDescriptor': [
                "LocalEducationAgencyCategoryDescriptor value "
                "'uri://ed-fi.org/localeducationagencycategorydescriptor#fake' does not exist."]},
            validation_keys=['$.categories[1].educationOrganizationCategoryDescriptor',
                             '$.localEducationAgencyCategoryDescriptor'])

    def test_descriptor_of_wrong_type(self):
        s = F.student()
        self.api.create('students', s)
        r = self.post('studentSchoolAssociations',
                      F.ssa(s['studentUniqueId'], entryGradeLevelDescriptor=h.descriptor('Term', 'Fall Semester')))
        self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request', validation_keys=['$.entryGradeLevelDescriptor'])
        # The URI exists, as a TermDescriptor: the message says so (DMS DescriptorTypeMismatch).
        self.assertEqual(r.json['validationErrors']['$.entryGradeLevelDescriptor'],
                         ["GradeLevelDescriptor value 'uri://ed-fi.org/termdescriptor#fall semester' is not a valid "
                          "GradeLevelDescriptor."])

    def test_descriptor_match_is_case_insensitive_and_kept_as_sent(self):
        s = F.student()
        self.api.create('students', s)
        value = 'URI://ED-FI.ORG/gradeleveldescriptor#NINTH GRADE'
        doc = self.created_doc('studentSchoolAssociations', F.ssa(s['studentUniqueId'],
                                                                    entryGradeLevelDescriptor=value))
        self.assertEqual(doc['entryGradeLevelDescriptor'], value)

    def test_descriptor_without_hash(self):
        s = F.student()
        self.api.create('students', s)
        r = self.post('studentSchoolAssociations', F.ssa(s['studentUniqueId'], entryGradeLevelDescriptor='Ninth grade'))
        self.assertStatus(r, 400)
        self.assertIn('$.entryGradeLevelDescriptor', r.json.get('validationErrors', {}), repr(r))

    def test_bad_descriptor_and_missing_reference_is_400_with_both(self):
        r = self.post('studentSchoolAssociations',
                      F.ssa(h.uid('nobody'), entryGradeLevelDescriptor='uri://ed-fi.org/GradeLevelDescriptor#Fake'))
        body = self.assertProblem(r, 400)
        ve = body['validationErrors']
        self.assertIn('$.entryGradeLevelDescriptor', ve, repr(r))
        self.assertIn('$.studentReference', ve, repr(r))
        self.assertEqual(ve['$.studentReference'], ['The referenced Student item does not exist.'])


class RequestChecks(Base):

    def test_duplicate_property(self):
        raw = ('{"studentUniqueId":"%s","birthDate":"2010-01-13","firstName":"A","firstName":"B",'
               '"lastSurname":"C"}' % h.uid())
        self.assertValidationFailed(self.post('students', raw), keys=['$.firstName'])

    def test_duplicate_property_nested(self):
        s = F.student()
        self.api.create('students', s)
        raw = ('{"studentReference":{"studentUniqueId":"%s"},"schoolReference":{"schoolId":%d,"schoolId":%d},'
               '"entryDate":"2024-08-20","entryGradeLevelDescriptor":"%s"}'
               % (s['studentUniqueId'], h.HIGH_SCHOOL, h.MIDDLE_SCHOOL, h.descriptor('GradeLevel', 'Ninth grade')))
        self.assertValidationFailed(self.post('studentSchoolAssociations', raw), keys=['$.schoolReference.schoolId'])

    def test_id_in_post_body(self):
        for key in ('id', 'ID', 'Id'):
            with self.subTest(key=key):
                d = F.student()
                d[key] = '0b6b5b5e-2c1c-4f8e-9f3e-7e1c2b3a4d5e'
                r = self.post('students', d)
                self.assertProblem(
                    r, 400, DVF, title='Data Validation Failed',
                    detail='The request data was constructed incorrectly.', validation_keys=[],
                    errors=["Resource identifiers cannot be assigned by the client. The 'id' property should not "
                            "be included in the request body."])
                self.assertEqual(self.api.query('students', {'studentUniqueId': d['studentUniqueId']}), [])

    def test_id_rejected_before_schema_validation(self):
        r = self.post('students', {'id': '0b6b5b5e-2c1c-4f8e-9f3e-7e1c2b3a4d5e'})
        self.assertProblem(r, 400, DVF, errors=[
            "Resource identifiers cannot be assigned by the client. The 'id' property should not be included in "
            "the request body."])

    UNSUPPORTED = "The value specified in the 'Content-Type' header is not supported by this host."

    def test_unsupported_content_types(self):
        for ct in ('text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data'):
            with self.subTest(content_type=ct):
                r = self.post('students', F.student(), content_type=ct)
                self.assertProblem(r, 415, 'urn:ed-fi:api:unsupported-media-type', title='Unsupported Media Type',
                                   detail=self.UNSUPPORTED, errors=[self.UNSUPPORTED])

    def test_content_type_checked_before_body(self):
        r = self.post('students', '{not json', content_type='text/plain')
        self.assertProblem(r, 415, 'urn:ed-fi:api:unsupported-media-type')

    def test_put_unsupported_content_type(self):
        doc_id = self.api.create('students', F.student())
        body = self.api.read('students', doc_id)
        r = self.api.put('%s/students/%s' % (DATA, doc_id), body, content_type='text/plain')
        self.assertProblem(r, 415, 'urn:ed-fi:api:unsupported-media-type')

    def test_supported_content_types(self):
        for ct in (None, 'application/json; charset=utf-8', 'text/json', 'Application/JSON'):
            with self.subTest(content_type=ct):
                self.assertStatus(self.post('students', F.student(), content_type=ct), 201)

    EMPTY = dict(type_='urn:ed-fi:api:bad-request', title='Bad Request',
                 detail="The request could not be processed. See 'errors' for details.",
                 errors=['A non-empty request body is required.'])

    def test_empty_post_body(self):
        self.assertProblem(self.post('students', b''), 400, **self.EMPTY)

    def test_empty_put_body(self):
        doc_id = self.api.create('students', F.student())
        self.assertProblem(self.api.put('%s/students/%s' % (DATA, doc_id), b''), 400, **self.EMPTY)

    def test_whitespace_only_body(self):
        r = self.post('students', '   \n  ')
        self.assertStatus(r, 400)
        self.assertEqual(r.content_type, 'application/problem+json')

    def test_malformed_json(self):
        for raw in ('{"studentUniqueId": "x",}', '{"studentUniqueId": ', 'not json', '{"a" "b"}', "{'a': 1}",
                    '{"studentUniqueId": "x"} trailing', '{"a":1}{"b":2}', '{"a": 01}', '{"a": NaN}',
                    '{"a": "unterminated}'):
            with self.subTest(raw=raw):
                r = self.post('students', raw)
                self.assertProblem(r, 400, DVF)

    def test_raw_control_character_in_string(self):
        raw = b'{"studentUniqueId":"a\x01b","birthDate":"2010-01-13","firstName":"A","lastSurname":"B"}'
        self.assertStatus(self.post('students', raw), 400)

    def test_deep_nesting_arrays(self):
        depth = 100000
        raw = '{"studentUniqueId":' + '[' * depth + ']' * depth + '}'
        r = self.post('students', raw)
        self.assertStatus(r, 400)
        self.assertEqual(r.content_type, 'application/problem+json')

    def test_deep_nesting_objects(self):
        depth = 50000
        raw = '{"a":' * depth + '1' + '}' * depth
        r = self.post('students', raw)
        self.assertStatus(r, 400)
        self.assertEqual(r.content_type, 'application/problem+json')

    def test_moderate_nesting_of_unknown_property_is_fine(self):
        d = F.student()
        nested = {}
        cur = nested
        for _ in range(20):
            cur['n'] = {}
            cur = cur['n']
        d['extra'] = nested
        self.assertStatus(self.post('students', d), 201)

    def test_invalid_utf8(self):
        for bad in (b'\xff\xfe', b'\xc0\xaf', b'\xed\xa0\x80', b'abc\x80', b'\xf8\x88\x80\x80\x80'):
            with self.subTest(bytes=bad):
                raw = b'{"studentUniqueId":"' + bad + b'","birthDate":"2010-01-13","firstName":"A","lastSurname":"B"}'
                r = self.post('students', raw)
                self.assertStatus(r, 400)
                self.assertEqual(r.content_type, 'application/problem+json')

    def test_valid_utf8_round_trips(self):
        name = 'Zo\u00eb \u5f20 \U0001F600'
        doc = self.created_doc('students', F.student(firstName=name))
        self.assertEqual(doc['firstName'], name)

    def test_escaped_unicode_round_trips(self):
        raw = ('{"studentUniqueId":"%s","birthDate":"2010-01-13","firstName":"Jos\\u00e9 \\"J\\" \\\\ \\/",'
               '"lastSurname":"B"}' % h.uid())
        r = self.post('students', raw)
        self.assertStatus(r, 201)
        self.assertEqual(self.api.read('students', r.location_id)['firstName'], 'Jos\u00e9 "J" \\ /')

    def test_half_megabyte_body_accepted(self):
        d = F.student(padding='x' * (512 * 1024))
        r = self.post('students', d)
        self.assertStatus(r, 201)
        self.assertNotIn('padding', self.api.read('students', r.location_id))

    def test_huge_body_is_413(self):
        total = 100 * 1024 * 1024
        head = ('POST %s/students HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n'
                'Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n'
                % (DATA, self.server.port, self.api.token, total)).encode()
        s = socket.create_connection(('127.0.0.1', self.server.port), timeout=30)
        raw = b''
        try:
            s.sendall(head + b'{"studentUniqueId":"' + b'x' * 65536)
            s.settimeout(3)
            try:
                raw = s.recv(65536)
            except socket.timeout:
                raw = b''
            if not raw:
                chunk = b'x' * (1024 * 1024)
                sent = 65536 + 20
                s.settimeout(30)
                try:
                    while sent < total:
                        s.sendall(chunk[:min(len(chunk), total - sent)])
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                deadline = time.time() + 30
                while time.time() < deadline:
                    try:
                        c = s.recv(65536)
                    except (socket.timeout, ConnectionResetError):
                        break
                    if not c:
                        break
                    raw += c
            else:
                s.settimeout(5)
                while True:
                    try:
                        c = s.recv(65536)
                    except (socket.timeout, ConnectionResetError):
                        break
                    if not c:
                        break
                    raw += c
        finally:
            s.close()
        resp = h._parse_raw_response(raw)
        self.assertIsNotNone(resp, 'no HTTP response to a 100 MiB body: %r' % raw[:500])
        self.assertProblem(resp, 413)
        self.assertStatus(self.api.get(DATA + '/students?limit=1'), 200)


if __name__ == '__main__':
    unittest.main()
