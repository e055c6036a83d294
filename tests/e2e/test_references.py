"""Referential integrity: unresolved references (409), subclasses and the abstract
EducationOrganization (§8), identity conflicts across a hierarchy, delete protection (§4.3, §5.7)."""

import re
import unittest

import fixtures as F
import harness as h

DATA = h.DATA
UNRESOLVED = 'urn:ed-fi:api:data-conflict:unresolved-reference'
DEPENDENT = 'urn:ed-fi:api:data-conflict:dependent-item-exists'
CONFLICT_TYPES = ('urn:ed-fi:api:identity-conflict', 'urn:ed-fi:api:data-conflict:non-unique-identity')


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


class Base(h.EdhubTestCase):

    def assertUnresolved(self, r, expected):
        """expected: {path: resource name}."""
        self.assertProblem(r, 409, UNRESOLVED, title='Unresolved Reference',
                           detail="One or more references could not be resolved. See 'validationErrors' for details.",
                           errors=[],
                           validation={k: ['The referenced %s item does not exist.' % v] for k, v in expected.items()},
                           validation_keys=list(expected))

    def assertDependent(self, r, names):
        body = self.assertProblem(r, 409, DEPENDENT, title='Dependent Item Exists')
        m = re.match(r'^The requested action cannot be performed because this item is referenced by existing (.+) '
                     r'item\(s\)\.$', body['detail'])
        self.assertIsNotNone(m, 'unexpected detail: %r' % body['detail'])
        self.assertEqual(set(x.strip() for x in m.group(1).split(',')), set(names), body['detail'])


class Unresolved(Base):

    def test_all_failing_references_listed(self):
        r = self.api.post(DATA + '/studentSchoolAssociations', F.ssa(h.uid('ghost'), school_id=123456789))
        self.assertUnresolved(r, {'$.studentReference': 'Student', '$.schoolReference': 'School'})

    def test_single_missing_reference(self):
        s = F.student()
        self.api.create('students', s)
        r = self.api.post(DATA + '/studentSchoolAssociations', F.ssa(s['studentUniqueId'], school_id=123456789))
        self.assertUnresolved(r, {'$.schoolReference': 'School'})

    def test_missing_school_year(self):
        r = self.api.post(DATA + '/calendars', F.calendar(year=1950))
        self.assertUnresolved(r, {'$.schoolYearTypeReference': 'SchoolYearType'})

    def test_missing_reference_in_collection(self):
        cp = F.class_period()
        self.api.create('classPeriods', cp)
        doc = F.bell_schedule(h.uid('Bell '), [cp['classPeriodName'], h.uid('NoSuchPeriod ')])
        r = self.api.post(DATA + '/bellSchedules', doc)
        self.assertUnresolved(r, {'$.classPeriods[1].classPeriodReference': 'ClassPeriod'})

    def test_unresolved_write_not_stored(self):
        suid = h.uid('ghost')
        self.api.post(DATA + '/studentSchoolAssociations', F.ssa(suid))
        self.assertEqual(self.api.query('studentSchoolAssociations', {'studentUniqueId': suid}), [])

    def test_reference_to_deleted_document(self):
        s = F.student()
        sid = self.api.create('students', s)
        self.assertStatus(self.api.delete(DATA + '/students/' + sid), 204)
        r = self.api.post(DATA + '/studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        self.assertUnresolved(r, {'$.studentReference': 'Student'})

    def test_identity_values_are_case_sensitive(self):
        suid = h.uid('CaseS')
        self.api.create('students', F.student(suid))
        r = self.api.post(DATA + '/studentSchoolAssociations', F.ssa(suid.lower()))
        self.assertUnresolved(r, {'$.studentReference': 'Student'})

    def test_put_with_unresolved_reference(self):
        s = F.student()
        self.api.create('students', s)
        ssa_id = self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        body = self.api.read('studentSchoolAssociations', ssa_id)
        body['nextYearSchoolReference'] = {'schoolId': 123456789}
        r = self.api.put(DATA + '/studentSchoolAssociations/' + ssa_id, body)
        self.assertUnresolved(r, {'$.nextYearSchoolReference': 'School'})


class Subclasses(Base):

    def test_school_satisfies_education_organization_reference(self):
        pid = self.api.create('programs', F.program(edorg_id=h.HIGH_SCHOOL))
        body = self.api.read('programs', pid)
        self.assertEqual(body['educationOrganizationReference']['link']['rel'], 'School')

    def test_lea_satisfies_education_organization_reference(self):
        pid = self.api.create('programs', F.program(edorg_id=h.LEA_ID))
        self.assertEqual(self.api.read('programs', pid)['educationOrganizationReference']['link']['rel'],
                         'LocalEducationAgency')

    def test_esc_satisfies_education_organization_reference(self):
        cid = self.api.create('courses', F.course(edorg_id=h.ESC_ID))
        self.assertEqual(self.api.read('courses', cid)['educationOrganizationReference']['link']['rel'],
                         'EducationServiceCenter')

    def test_missing_education_organization(self):
        r = self.api.post(DATA + '/programs', F.program(edorg_id=123456789))
        self.assertUnresolved(r, {'$.educationOrganizationReference': 'EducationOrganization'})

    def test_new_school_immediately_usable_as_edorg(self):
        sch = F.school()
        self.api.create('schools', sch)
        self.api.create('programs', F.program(edorg_id=sch['schoolId']))

    def test_school_colliding_with_lea(self):
        r = self.api.post(DATA + '/schools', F.school(school_id=h.LEA_ID))
        self.assertProblem(r, 409, CONFLICT_TYPES, title='Identifying Values Are Not Unique',
                           detail='The identifying value(s) of the item are the same as another item that already '
                                  'exists.',
                           errors=['A natural key conflict occurred when attempting to create a new resource School '
                                   'with a duplicate key. The duplicate keys and values are (schoolId = %d)' % h.LEA_ID])
        self.assertEqual(self.api.query('schools', {'schoolId': h.LEA_ID}), [])

    def test_lea_colliding_with_school(self):
        r = self.api.post(DATA + '/localEducationAgencies', F.lea(lea_id=h.HIGH_SCHOOL))
        self.assertProblem(r, 409, CONFLICT_TYPES, title='Identifying Values Are Not Unique')
        self.assertEqual(self.api.query('localEducationAgencies', {'localEducationAgencyId': h.HIGH_SCHOOL}), [])

    def test_same_school_twice_is_update_not_conflict(self):
        sch = F.school()
        r1 = self.api.post(DATA + '/schools', sch)
        self.assertStatus(r1, 201)
        sch['nameOfInstitution'] = 'Renamed School'
        r2 = self.api.post(DATA + '/schools', sch)
        self.assertStatus(r2, 200)

    def test_delete_lea_referenced_via_superclass(self):
        lea = F.lea()
        lea_id = self.api.create('localEducationAgencies', lea)
        lid = lea['localEducationAgencyId']
        sch = F.school(localEducationAgencyReference={'localEducationAgencyId': lid})
        school_doc = self.api.create('schools', sch)
        prog = self.api.create('programs', F.program(edorg_id=lid))
        r = self.api.delete(DATA + '/localEducationAgencies/' + lea_id)
        self.assertDependent(r, ['Program', 'School'])
        self.assertStatus(self.api.delete(DATA + '/programs/' + prog), 204)
        self.assertDependent(self.api.delete(DATA + '/localEducationAgencies/' + lea_id), ['School'])
        self.assertStatus(self.api.delete(DATA + '/schools/' + school_doc), 204)
        self.assertStatus(self.api.delete(DATA + '/localEducationAgencies/' + lea_id), 204)

    def test_delete_school_referenced_only_via_abstract(self):
        sch = F.school()
        school_doc = self.api.create('schools', sch)
        self.api.create('courses', F.course(edorg_id=sch['schoolId']))
        self.assertDependent(self.api.delete(DATA + '/schools/' + school_doc), ['Course'])

    def test_deleted_subclass_no_longer_satisfies_abstract(self):
        sch = F.school()
        school_doc = self.api.create('schools', sch)
        self.assertStatus(self.api.delete(DATA + '/schools/' + school_doc), 204)
        r = self.api.post(DATA + '/programs', F.program(edorg_id=sch['schoolId']))
        self.assertUnresolved(r, {'$.educationOrganizationReference': 'EducationOrganization'})

    def test_school_id_reusable_as_lea_after_delete(self):
        sch = F.school()
        school_doc = self.api.create('schools', sch)
        self.assertStatus(self.api.delete(DATA + '/schools/' + school_doc), 204)
        r = self.api.post(DATA + '/localEducationAgencies', F.lea(lea_id=sch['schoolId']))
        self.assertCreated(r, 'localEducationAgencies')


class AssociationSubclasses(Base):
    """GeneralStudentProgramAssociation: association subclasses share the superclass identity (§8)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.program = F.program(edorg_id=h.HIGH_SCHOOL, type_code='Special Education')
        cls.api.create('programs', cls.program)
        cls.gp = {'gradingPeriodDescriptor': h.descriptor('GradingPeriod', 'First Six Weeks'),
                  'gradingPeriodName': h.uid('GP '), 'schoolReference': {'schoolId': h.HIGH_SCHOOL},
                  'schoolYearTypeReference': {'schoolYear': 2025}, 'beginDate': '2024-08-20',
                  'endDate': '2024-09-30', 'totalInstructionalDays': 29}
        cls.api.create('gradingPeriods', cls.gp)
        cls.co = {'objective': h.uid('Objective '), 'objectiveGradeLevelDescriptor': h.descriptor('GradeLevel', 'Ninth grade'),
                  'educationOrganizationReference': {'educationOrganizationId': h.HIGH_SCHOOL}}
        cls.api.create('competencyObjectives', cls.co)

    def association(self, suid, begin='2024-08-20'):
        return {'studentReference': {'studentUniqueId': suid},
                'educationOrganizationReference': {'educationOrganizationId': h.HIGH_SCHOOL},
                'programReference': {'educationOrganizationId': h.HIGH_SCHOOL,
                                     'programName': self.program['programName'],
                                     'programTypeDescriptor': self.program['programTypeDescriptor']},
                'beginDate': begin}

    def competency(self, suid, gspa):
        return {'studentReference': {'studentUniqueId': suid},
                'competencyLevelDescriptor': h.descriptor('CompetencyLevel', 'Proficient'),
                'gradingPeriodReference': {'gradingPeriodDescriptor': self.gp['gradingPeriodDescriptor'],
                                           'gradingPeriodName': self.gp['gradingPeriodName'],
                                           'schoolId': h.HIGH_SCHOOL, 'schoolYear': 2025},
                'objectiveCompetencyObjectiveReference': {
                    'educationOrganizationId': h.HIGH_SCHOOL, 'objective': self.co['objective'],
                    'objectiveGradeLevelDescriptor': self.co['objectiveGradeLevelDescriptor']},
                'generalStudentProgramAssociations': [{'generalStudentProgramAssociationReference': gspa}]}

    def gspa_ref(self, suid, begin='2024-08-20'):
        return {'beginDate': begin, 'educationOrganizationId': h.HIGH_SCHOOL,
                'programEducationOrganizationId': h.HIGH_SCHOOL, 'programName': self.program['programName'],
                'programTypeDescriptor': self.program['programTypeDescriptor'], 'studentUniqueId': suid}

    def student(self):
        s = F.student()
        self.api.create('students', s)
        return s['studentUniqueId']

    def test_same_identity_in_two_subclasses_conflicts(self):
        suid = self.student()
        r1 = self.api.post(DATA + '/studentProgramAssociations', self.association(suid))
        self.assertStatus(r1, 201)
        r2 = self.api.post(DATA + '/studentSpecialEducationProgramAssociations', self.association(suid))
        self.assertProblem(r2, 409, CONFLICT_TYPES, title='Identifying Values Are Not Unique')
        self.assertEqual(self.api.query('studentSpecialEducationProgramAssociations', {'studentUniqueId': suid}), [])

    def test_abstract_reference_resolves_to_subclass(self):
        suid = self.student()
        self.api.create('studentSpecialEducationProgramAssociations', self.association(suid))
        cid = self.api.create('studentCompetencyObjectives', self.competency(suid, self.gspa_ref(suid)))
        body = self.api.read('studentCompetencyObjectives', cid)
        ref = body['generalStudentProgramAssociations'][0]['generalStudentProgramAssociationReference']
        self.assertEqual(ref['link']['rel'], 'StudentSpecialEducationProgramAssociation')

    def test_abstract_reference_unresolved(self):
        suid = self.student()
        r = self.api.post(DATA + '/studentCompetencyObjectives', self.competency(suid, self.gspa_ref(suid)))
        self.assertUnresolved(r, {'$.generalStudentProgramAssociations[0].generalStudentProgramAssociationReference':
                                  'GeneralStudentProgramAssociation'})

    def test_delete_protected_via_abstract_reference(self):
        suid = self.student()
        aid = self.api.create('studentProgramAssociations', self.association(suid))
        self.api.create('studentCompetencyObjectives', self.competency(suid, self.gspa_ref(suid)))
        self.assertDependent(self.api.delete(DATA + '/studentProgramAssociations/' + aid), ['StudentCompetencyObjective'])

    def test_school_referencing_missing_lea(self):
        r = self.api.post(DATA + '/schools', F.school(localEducationAgencyReference={'localEducationAgencyId': 123456789}))
        self.assertUnresolved(r, {'$.localEducationAgencyReference': 'LocalEducationAgency'})


class NaturalKeys(Base):
    """Identity values are canonicalized before matching (§10)."""

    def test_descriptor_in_identity_is_case_insensitive(self):
        p = F.program()
        r1 = self.api.post(DATA + '/programs', p)
        self.assertStatus(r1, 201)
        p2 = dict(p, programTypeDescriptor=p['programTypeDescriptor'].upper(), programId='P2')
        r2 = self.api.post(DATA + '/programs', p2)
        self.assertStatus(r2, 200)
        self.assertEqual(r2.location_id, r1.location_id)
        # and a reference with yet another casing resolves
        s = F.student()
        self.api.create('students', s)
        self.api.create('studentProgramAssociations', {
            'studentReference': {'studentUniqueId': s['studentUniqueId']},
            'educationOrganizationReference': {'educationOrganizationId': h.HIGH_SCHOOL},
            'programReference': {'educationOrganizationId': h.HIGH_SCHOOL, 'programName': p['programName'],
                                 'programTypeDescriptor': p['programTypeDescriptor'].lower()},
            'beginDate': '2024-08-20'})

    def test_coerced_date_in_identity(self):
        s = F.student()
        self.api.create('students', s)
        r1 = self.api.post(DATA + '/studentSchoolAssociations', F.ssa(s['studentUniqueId'], entry_date='8/20/2024'))
        self.assertStatus(r1, 201)
        r2 = self.api.post(DATA + '/studentSchoolAssociations', F.ssa(s['studentUniqueId'], entry_date='2024-08-20'))
        self.assertStatus(r2, 200)
        self.assertEqual(r2.location_id, r1.location_id)

    def test_string_identity_is_case_sensitive(self):
        base = h.uid('CaseKey')
        r1 = self.api.post(DATA + '/students', F.student(base))
        r2 = self.api.post(DATA + '/students', F.student(base.upper()))
        self.assertStatus(r1, 201)
        self.assertStatus(r2, 201)
        self.assertNotEqual(r1.location_id, r2.location_id)


class DeleteProtection(Base):

    def test_descriptor_in_use(self):
        code = h.uid('Grade ')
        ns = 'uri://e2e.example.org/GradeLevelDescriptor'
        desc_id = self.api.create('gradeLevelDescriptors', F.grade_level_descriptor(code, ns=ns))
        sch = F.school(gradeLevels=[{'gradeLevelDescriptor': ns + '#' + code}])
        school_doc = self.api.create('schools', sch)
        self.assertDependent(self.api.delete(DATA + '/gradeLevelDescriptors/' + desc_id), ['School'])
        self.assertStatus(self.api.delete(DATA + '/schools/' + school_doc), 204)
        self.assertStatus(self.api.delete(DATA + '/gradeLevelDescriptors/' + desc_id), 204)

    def test_descriptor_in_use_with_different_case(self):
        code = h.uid('Grade ')
        ns = 'uri://e2e.example.org/GradeLevelDescriptor'
        desc_id = self.api.create('gradeLevelDescriptors', F.grade_level_descriptor(code, ns=ns))
        s = F.student()
        self.api.create('students', s)
        self.api.create('studentSchoolAssociations',
                        F.ssa(s['studentUniqueId'], entryGradeLevelDescriptor=(ns + '#' + code).upper()))
        self.assertDependent(self.api.delete(DATA + '/gradeLevelDescriptors/' + desc_id),
                             ['StudentSchoolAssociation'])

    def test_reference_in_collection_protects(self):
        cp = F.class_period()
        cp_id = self.api.create('classPeriods', cp)
        self.api.create('bellSchedules', F.bell_schedule(h.uid('Bell '), [cp['classPeriodName']]))
        self.assertDependent(self.api.delete(DATA + '/classPeriods/' + cp_id), ['BellSchedule'])

    def test_school_year_in_use(self):
        r = self.api.post(DATA + '/schoolYearTypes', {'schoolYear': 2088, 'currentSchoolYear': False,
                                                       'schoolYearDescription': '2087-2088'})
        self.assertStatus(r, 201)
        year_id = r.location_id
        self.api.create('calendars', F.calendar(year=2088))
        self.assertDependent(self.api.delete(DATA + '/schoolYearTypes/' + year_id), ['Calendar'])

    def test_several_referencing_resources_named(self):
        s = F.student()
        sid = self.api.create('students', s)
        self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        self.api.create('studentEducationOrganizationAssociations', {
            'studentReference': {'studentUniqueId': s['studentUniqueId']},
            'educationOrganizationReference': {'educationOrganizationId': h.LEA_ID}})
        self.assertDependent(self.api.delete(DATA + '/students/' + sid),
                             ['StudentSchoolAssociation', 'StudentEducationOrganizationAssociation'])

    def test_failed_delete_changes_nothing(self):
        s = F.student()
        sid = self.api.create('students', s)
        before = self.api.read('students', sid)
        self.api.create('studentSchoolAssociations', F.ssa(s['studentUniqueId']))
        self.assertStatus(self.api.delete(DATA + '/students/' + sid), 409)
        self.assertEqual(self.api.read('students', sid), before)


if __name__ == '__main__':
    unittest.main()
