"""Record-level authorization end to end (security.md §2.2, §2.7-§2.9).

A randomized multi-district world is written with the harness's full-access client, API clients
with real claim sets and EdOrg ids are made with `edhub clients create`, and every client's
GET/PUT/POST/DELETE outcomes and GET-many results are compared with an independent oracle
(authz_oracle.py) fed only with the data this test wrote and the claims metadata.

Every mismatch is collected and reported at once, split into leaks (the server allowed what the
oracle denies), wrong denials, wrong problem types and other surprises.

Seed: printed at start; EDHUB_ISOLATION_SEED=N replays a run. EDHUB_ISOLATION_LINES=N sets how many
mismatch lines per kind the failure message lists (default 40). Per-client counts of checks go to stderr.
"""

import concurrent.futures
import copy
import json
import os
import random
import subprocess
import sys
import tempfile
import unittest

import authz_oracle as O
import harness as h
from harness import descriptor as D

SEED = int(os.environ.get('EDHUB_ISOLATION_SEED') or random.SystemRandom().randrange(1, 1 << 31))
PROBLEM_CT = 'application/problem+json'
READ_THREADS = 4
CLI_TIMEOUT = 120
ESC = h.ESC_ID
GB_LEA = h.LEA_ID
GB_SCHOOLS = (h.HIGH_SCHOOL, h.MIDDLE_SCHOOL, h.ELEMENTARY_SCHOOL)
# security.md §2.5 says ODS reads Course/Program with R-EOP OR R-EOP-Inverted; the DS 5.2 Claims.json
# edhub loads does not. The claims file is the contract here; flip this if edhub follows ODS.
ODS_INVERTED_READS = False

NS_A = 'uri://district-a.example.org'
NS_B = 'uri://district-b.example.org'
NS_C = 'uri://district-c.example.org'
NS_VENDOR = 'uri://assess.example.org'
ASSESSMENT_NAMESPACES = (NS_A, NS_B, NS_C, NS_VENDOR, 'uri://ed-fi.org')

# The families the sweep covers, in dependency order (creation order of the world).
FAMILIES = (
    'localEducationAgencies', 'schools',
    'students', 'studentSchoolAssociations', 'studentEducationOrganizationAssociations',
    'staffs', 'staffEducationOrganizationAssignmentAssociations', 'staffEducationOrganizationEmploymentAssociations',
    'contacts', 'studentContactAssociations',
    'sessions', 'courses', 'courseOfferings', 'studentSchoolAttendanceEvents',
    'programs', 'studentEducationOrganizationResponsibilityAssociations',
    'studentSpecialEducationProgramEligibilityAssociations',
    'assessments',
)
# Nothing in the world refers to items of these, so a DELETE cannot fail on dependants.
LEAF_FAMILIES = (
    'studentSchoolAssociations', 'studentEducationOrganizationAssociations',
    'staffEducationOrganizationAssignmentAssociations', 'staffEducationOrganizationEmploymentAssociations',
    'studentContactAssociations', 'courseOfferings', 'studentSchoolAttendanceEvents',
    'studentEducationOrganizationResponsibilityAssociations',
    'studentSpecialEducationProgramEligibilityAssociations', 'assessments',
)
PEOPLE = {'students': 'studentUniqueId', 'staffs': 'staffUniqueId', 'contacts': 'contactUniqueId'}


def setUpModule():
    sys.stderr.write('\n[isolation] seed %d (replay: EDHUB_ISOLATION_SEED=%d)\n' % (SEED, SEED))
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


def clean(doc):
    """A stored document as a request body: no id, _etag, _lastModifiedDate or reference links."""
    if isinstance(doc, dict):
        return {k: clean(v) for k, v in doc.items()
                if k not in ('id', '_etag', '_lastModifiedDate') and not (k == 'link' and isinstance(v, dict))}
    if isinstance(doc, list):
        return [clean(v) for v in doc]
    return doc


# --------------------------------------------------------------------------
# document builders (DS 5.2 shapes, checked against ApiSchema required fields)

def lea_doc(lea_id, esc=None, parent_lea=None):
    d = {'localEducationAgencyId': lea_id, 'nameOfInstitution': 'Isolation District %d' % lea_id,
         'categories': [{'educationOrganizationCategoryDescriptor':
                         D('EducationOrganizationCategory', 'Local Education Agency')}],
         'localEducationAgencyCategoryDescriptor': D('LocalEducationAgencyCategory', 'Independent')}
    if esc:
        d['educationServiceCenterReference'] = {'educationServiceCenterId': esc}
    if parent_lea:
        d['parentLocalEducationAgencyReference'] = {'localEducationAgencyId': parent_lea}
    return d


def school_doc(school_id, lea_id):
    return {'schoolId': school_id, 'nameOfInstitution': 'Isolation School %d' % school_id,
            'educationOrganizationCategories': [{'educationOrganizationCategoryDescriptor':
                                                 D('EducationOrganizationCategory', 'School')}],
            'gradeLevels': [{'gradeLevelDescriptor': D('GradeLevel', 'Ninth grade')}],
            'localEducationAgencyReference': {'localEducationAgencyId': lea_id}}


def person_doc(endpoint, uid):
    d = {PEOPLE[endpoint]: uid, 'firstName': 'Iso', 'lastSurname': 'Lation'}
    if endpoint == 'students':
        d['birthDate'] = '2010-01-13'
    return d


def ssa_doc(student, school, entry='2024-08-20', exit_date=None):
    d = {'studentReference': {'studentUniqueId': student}, 'schoolReference': {'schoolId': school},
         'entryDate': entry, 'entryGradeLevelDescriptor': D('GradeLevel', 'Ninth grade')}
    if exit_date:
        d['exitWithdrawDate'] = exit_date
    return d


def seoa_doc(student, edorg):
    return {'studentReference': {'studentUniqueId': student},
            'educationOrganizationReference': {'educationOrganizationId': edorg}}


def assignment_doc(staff, edorg, begin='2023-08-01', classification='Teacher'):
    return {'staffReference': {'staffUniqueId': staff},
            'educationOrganizationReference': {'educationOrganizationId': edorg},
            'staffClassificationDescriptor': D('StaffClassification', classification), 'beginDate': begin}


def employment_doc(staff, edorg, hire='2015-08-01'):
    return {'staffReference': {'staffUniqueId': staff},
            'educationOrganizationReference': {'educationOrganizationId': edorg},
            'employmentStatusDescriptor': D('EmploymentStatus', 'Tenured or permanent'), 'hireDate': hire}


def sca_doc(student, contact, relation='Mother'):
    return {'studentReference': {'studentUniqueId': student}, 'contactReference': {'contactUniqueId': contact},
            'relationDescriptor': D('Relation', relation)}


def session_name(school):
    return 'Fall %d' % school


def session_doc(school, name=None):
    return {'sessionName': name or session_name(school), 'schoolReference': {'schoolId': school},
            'schoolYearTypeReference': {'schoolYear': 2025}, 'termDescriptor': D('Term', 'Fall Semester'),
            'beginDate': '2024-08-20', 'endDate': '2024-12-20', 'totalInstructionalDays': 80}


def course_doc(code, edorg):
    return {'courseCode': code, 'courseTitle': 'Algebra I', 'numberOfParts': 1,
            'educationOrganizationReference': {'educationOrganizationId': edorg},
            'identificationCodes': [{'courseIdentificationSystemDescriptor':
                                     D('CourseIdentificationSystem', 'LEA course code'), 'identificationCode': code}]}


def offering_doc(local_code, school, course_code, course_edorg, session=None):
    return {'localCourseCode': local_code, 'schoolReference': {'schoolId': school},
            'sessionReference': {'schoolId': school, 'schoolYear': 2025,
                                 'sessionName': session or session_name(school)},
            'courseReference': {'courseCode': course_code, 'educationOrganizationId': course_edorg}}


def attendance_doc(student, school, date, category='Tardy', session=None):
    return {'studentReference': {'studentUniqueId': student}, 'schoolReference': {'schoolId': school},
            'sessionReference': {'schoolId': school, 'schoolYear': 2025,
                                 'sessionName': session or session_name(school)},
            'eventDate': date, 'attendanceEventCategoryDescriptor': D('AttendanceEventCategory', category)}


def program_name(edorg):
    return 'Special Education %d' % edorg


def program_doc(edorg, name=None):
    return {'educationOrganizationReference': {'educationOrganizationId': edorg},
            'programName': name or program_name(edorg), 'programTypeDescriptor': D('ProgramType', 'Special Education')}


def responsibility_doc(student, edorg, begin='2024-08-20'):
    return {'studentReference': {'studentUniqueId': student},
            'educationOrganizationReference': {'educationOrganizationId': edorg},
            'responsibilityDescriptor': D('Responsibility', 'Individualized Education Program'), 'beginDate': begin}


def eligibility_doc(student, edorg, program_edorg, consent='2024-09-03'):
    return {'studentReference': {'studentUniqueId': student},
            'educationOrganizationReference': {'educationOrganizationId': edorg},
            'programReference': {'educationOrganizationId': program_edorg, 'programName': program_name(program_edorg),
                                 'programTypeDescriptor': D('ProgramType', 'Special Education')},
            'consentToEvaluationReceivedDate': consent, 'ideaPartDescriptor': D('IDEAPart', 'IDEA Part B')}


def assessment_doc(identifier, namespace):
    return {'assessmentIdentifier': identifier, 'namespace': namespace + '/Assessment',
            'assessmentTitle': 'Isolation Assessment',
            'academicSubjects': [{'academicSubjectDescriptor': D('AcademicSubject', 'Mathematics')}]}


# --------------------------------------------------------------------------
# the world

class Ids:
    """Identifiers of the generated world (all derived from the seed)."""

    def __init__(self, rng):
        a, b, c, d = rng.sample(range(610000, 689999), 4)
        self.lea_a, self.lea_b, self.lea_c, self.lea_d = a, b, c, d   # D is a child LEA of A
        self.schools = {}   # school -> LEA at creation
        for lea, n in ((a, 2), (b, 2), (c, 2), (d, 1)):
            for k in rng.sample(range(1, 999), n):
                self.schools[lea * 1000 + k] = lea
        for s in GB_SCHOOLS:
            self.schools[s] = GB_LEA
        self.schools_of = {}
        for s, lea in sorted(self.schools.items()):
            self.schools_of.setdefault(lea, []).append(s)
        self.leas = (a, b, c, d, GB_LEA)
        self.new_leas = (a, b, c, d)
        self.new_schools = [s for s in self.schools if s not in GB_SCHOOLS]


class Generators:
    """Random new documents per family, for building the world and for POST candidates.

    References are chosen among everything that exists, leaning towards what the client reaches
    when a scope is given; the oracle then sorts the candidates into allowed and denied."""

    def __init__(self, rng, world):
        self.rng = rng
        self.world = world
        self.serial = 0
        self.scope = None   # an oracle Reach: choices lean towards what it reaches

    def pick(self, values, reached=None):
        """A random value; with a scope, from the reached ones more often than not (so both
        allowed and denied candidates turn up even for a school-level key)."""
        values = list(values)
        if reached is not None:
            inside = [v for v in values if reached(v)]
            if inside and self.rng.random() < 0.6:
                return self.rng.choice(inside)
        return self.rng.choice(values)

    def next(self, prefix):
        self.serial += 1
        return '%s%d' % (prefix, self.serial)

    def date(self):
        return '2024-%02d-%02d' % (self.rng.randint(9, 12), self.rng.randint(1, 28))

    # what exists, in a stable order
    def uids(self, endpoint):
        key = PEOPLE[endpoint]
        return sorted(d[key] for d in self.world.items(endpoint).values())

    def schools(self):
        return sorted(d['schoolId'] for d in self.world.items('schools').values())

    def leas(self):
        return sorted(d['localEducationAgencyId'] for d in self.world.items('localEducationAgencies').values())

    def edorgs(self):
        return self.schools() + self.leas() + [ESC]

    def sessions(self):
        return sorted((d['schoolReference']['schoolId'], d['sessionName'])
                      for d in self.world.items('sessions').values())

    def courses(self):
        return sorted((d['courseCode'], d['educationOrganizationReference']['educationOrganizationId'])
                      for d in self.world.items('courses').values())

    def programs(self):
        """EdOrgs whose standard program (program_name) exists."""
        out = []
        for d in self.world.items('programs').values():
            edorg = d['educationOrganizationReference']['educationOrganizationId']
            if d['programName'] == program_name(edorg):
                out.append(edorg)
        return sorted(out)

    # random choices, leaning towards the scope
    def _in(self, attr):
        return None if self.scope is None else getattr(self.scope, attr).__contains__

    def student(self):
        return self.pick(self.uids('students'), self._in('students'))

    def staff(self):
        return self.pick(self.uids('staffs'), self._in('staff'))

    def contact(self):
        return self.pick(self.uids('contacts'), self._in('contacts'))

    def edorg(self, choices=None):
        return self.pick(choices or self.edorgs(), self._in('edorgs'))

    def session(self):
        inside = self._in('edorgs')
        return self.pick(self.sessions(), inside and (lambda v: inside(v[0])))

    def new(self, endpoint, scope=None):
        self.scope = scope
        r = self.rng
        if endpoint == 'localEducationAgencies':
            return lea_doc(r.randrange(700000, 799999), esc=ESC)
        if endpoint == 'schools':
            return school_doc(r.randrange(800000000, 899999999), r.choice(self.leas()))
        if endpoint in PEOPLE:
            return person_doc(endpoint, self.next({'students': 'S', 'staffs': 'T', 'contacts': 'C'}[endpoint]))
        if endpoint == 'studentSchoolAssociations':
            return ssa_doc(self.student(), self.edorg(self.schools()), entry=self.date())
        if endpoint == 'studentEducationOrganizationAssociations':
            return seoa_doc(self.student(), self.edorg())
        if endpoint == 'staffEducationOrganizationAssignmentAssociations':
            return assignment_doc(self.staff(), self.edorg(), begin=self.date())
        if endpoint == 'staffEducationOrganizationEmploymentAssociations':
            return employment_doc(self.staff(), self.edorg(), hire=self.date())
        if endpoint == 'studentContactAssociations':
            return sca_doc(self.student(), self.contact())
        if endpoint == 'sessions':
            return session_doc(self.edorg(self.schools()), name=self.next('Spring '))
        if endpoint == 'courses':
            return course_doc(self.next('CRS-'), self.edorg(self.schools() + self.leas()))
        if endpoint == 'courseOfferings':
            school, name = self.session()
            code, course_edorg = r.choice(self.courses())
            return offering_doc(self.next('LCC-'), school, code, course_edorg, session=name)
        if endpoint == 'studentSchoolAttendanceEvents':
            school, name = self.session()
            return attendance_doc(self.student(), school, self.date(), session=name)
        if endpoint == 'programs':
            return program_doc(self.edorg(), name=self.next('Program '))
        if endpoint == 'studentEducationOrganizationResponsibilityAssociations':
            return responsibility_doc(self.student(), self.edorg(), begin=self.date())
        if endpoint == 'studentSpecialEducationProgramEligibilityAssociations':
            return eligibility_doc(self.student(), self.edorg(), r.choice(self.programs()), consent=self.date())
        if endpoint == 'assessments':
            return assessment_doc(self.next('ASMT-'), r.choice(ASSESSMENT_NAMESPACES))
        raise KeyError(endpoint)


def build_world(api, oracle, rng, ids):
    """Writes the world with the full-access client; every write goes into oracle.world too."""
    world = oracle.world
    # what the bootstrap already holds in the families we sweep
    for ep in FAMILIES + ('educationServiceCenters',):
        r = api.get(api.url(ep, query={'limit': 500}))
        assert r.status == 200, r
        for d in r.json:
            world.put(ep, d['id'], clean(d))

    def create(ep, doc):
        r = api.post(api.url(ep), doc)
        if r.status not in (200, 201) or not r.location_id:
            raise AssertionError('world: POST %s failed: %r\nbody: %s' % (ep, r, json.dumps(doc)))
        world.put(ep, r.location_id, doc)
        return r.location_id

    for lea in (ids.lea_a, ids.lea_b, ids.lea_c):
        create('localEducationAgencies', lea_doc(lea, esc=ESC))
    create('localEducationAgencies', lea_doc(ids.lea_d, parent_lea=ids.lea_a))
    for s in ids.new_schools:
        create('schools', school_doc(s, ids.schools[s]))
    schools = sorted(ids.schools)
    edorgs = schools + list(ids.leas) + [ESC]

    # students: most in one school, some in two or three districts, some in none; the last four
    # have nothing at all referring to them (DELETE can really remove them)
    students = ['S%03d' % i for i in range(60)]
    for s in students:
        create('students', person_doc('students', s))
    linked = students[:-4]
    for s in linked:
        k = rng.choices((0, 1, 2, 3), weights=(15, 55, 25, 5))[0]
        leas = rng.sample(ids.leas, k)
        for lea in leas:
            school = rng.choice(ids.schools_of[lea])
            if rng.random() < 0.25:   # an enrolment that ended long ago still grants access
                create('studentSchoolAssociations', ssa_doc(s, school, '2019-08-20', '2020-05-29'))
            else:
                create('studentSchoolAssociations', ssa_doc(s, school, rng.choice(('2023-08-21', '2024-08-20'))))
    # StudentEducationOrganizationAssociation grants nothing: half of these go to unenrolled students
    enrolled = {}
    for d in world.items('studentSchoolAssociations').values():
        enrolled.setdefault(d['studentReference']['studentUniqueId'], []).append(d['schoolReference']['schoolId'])
    unenrolled = [s for s in linked if s not in enrolled]
    for s in rng.sample(unenrolled, min(8, len(unenrolled))) + rng.sample(sorted(enrolled), 8):
        create('studentEducationOrganizationAssociations', seoa_doc(s, rng.choice(edorgs)))

    staff = ['T%03d' % i for i in range(20)]
    for t in staff:
        create('staffs', person_doc('staffs', t))
    for t in staff[:15]:
        for _ in range(rng.choice((1, 1, 2))):
            create('staffEducationOrganizationAssignmentAssociations',
                   assignment_doc(t, rng.choice(edorgs), begin=rng.choice(('2022-08-01', '2023-08-01'))))
    for t in staff[14:18]:   # reachable through employment only (and one through both)
        create('staffEducationOrganizationEmploymentAssociations', employment_doc(t, rng.choice(edorgs)))

    contacts = ['C%03d' % i for i in range(20)]
    for c in contacts:
        create('contacts', person_doc('contacts', c))
    for c in contacts[:16]:
        for s in rng.sample(linked, rng.choice((1, 1, 2))):
            create('studentContactAssociations', sca_doc(s, c, rng.choice(('Mother', 'Father', 'Guardian'))))

    for s in schools:
        create('sessions', session_doc(s))
    for lea in ids.leas:
        create('courses', course_doc('CRS-%d' % lea, lea))
    for s in schools:
        lea = ids.schools[s]
        create('courseOfferings', offering_doc('LCC-%d' % s, s, 'CRS-%d' % lea, lea))

    # attendance: mostly where the student is enrolled, some anywhere
    for i in range(40):
        s = rng.choice(linked)
        school = rng.choice(enrolled[s]) if s in enrolled and rng.random() < 0.75 else rng.choice(schools)
        date = '2024-%02d-%02d' % (9 + i // 28, i % 28 + 1)
        create('studentSchoolAttendanceEvents',
               attendance_doc(s, school, date, rng.choice(('Tardy', 'Excused Absence'))))

    for lea in ids.leas:
        create('programs', program_doc(lea))
    for s in rng.sample(linked, 12):
        create('studentEducationOrganizationResponsibilityAssociations', responsibility_doc(s, rng.choice(edorgs)))
    # eligibility: half for students with a responsibility association, where ThroughResponsibility
    # may be the only way in (R-EOP OR ThroughResponsibility)
    resp = [(d['studentReference']['studentUniqueId'], d['educationOrganizationReference']['educationOrganizationId'])
            for d in world.items('studentEducationOrganizationResponsibilityAssociations').values()]
    for i in range(14):
        s = rng.choice(resp)[0] if i < 7 else rng.choice(linked)
        lea = rng.choice(ids.leas)
        create('studentSpecialEducationProgramEligibilityAssociations',
               eligibility_doc(s, lea, lea, consent='2024-10-%02d' % (i + 1)))

    for i, ns in enumerate(ASSESSMENT_NAMESPACES * 2):
        create('assessments', assessment_doc('ASMT-W%d' % i, ns))


# --------------------------------------------------------------------------
# findings

class Findings:
    KINDS = (
        ('leak', 'LEAKS (server allowed, oracle denies)'),
        ('denied', 'WRONG DENIALS (server denied, oracle allows)'),
        ('type', 'WRONG 403 PROBLEM (both deny; type or shape differs)'),
        ('collection', 'COLLECTION / PAGING / Total-Count'),
        ('other', 'OTHER (unexpected status, bookkeeping)'),
    )

    def __init__(self):
        self.items = {k: [] for k, _ in self.KINDS}
        self.checks = 0     # requests and collection items compared with the oracle
        self.expected = {True: 0, False: 0}   # single requests the oracle allows / denies

    def add(self, kind, line):
        self.items[kind].append(line)

    def count(self):
        return sum(len(v) for v in self.items.values())

    def summary(self, limit=int(os.environ.get("EDHUB_ISOLATION_LINES", "40"))):
        out = []
        for k, title in self.KINDS:
            v = self.items[k]
            if v:
                per_client = {}
                for line in v:
                    c = line.split(':', 1)[0]
                    per_client[c] = per_client.get(c, 0) + 1
                out.append('%s: %d (%s)' % (title, len(v), ', '.join('%s %d' % x for x in sorted(per_client.items()))))
                out.extend('  ' + x for x in v[:limit])
                if len(v) > limit:
                    out.append('  ... %d more' % (len(v) - limit))
        return '\n'.join(out)


def subjects_text(oracle, endpoint, doc):
    """The securable values of a document, for mismatch lines."""
    if doc is None:
        return '(no document)'
    parts = []
    for kind, paths in sorted(oracle.model.subjects(endpoint).items()):
        for p in paths:
            parts.append('%s=%s' % (p.rsplit('.', 1)[-1], O.json_value(doc, p)))
    return ', '.join(parts) or '(no subjects)'


# --------------------------------------------------------------------------
# the tests

class OracleSelfCheck(unittest.TestCase):
    """The oracle against security.md's published numbers and hand-made cases (no server)."""

    @classmethod
    def setUpClass(cls):
        cls.claims = O.Claims()
        cls.model = O.Model()

    def test_leaf_and_claim_counts(self):
        self.assertEqual(len(self.claims.nodes), 413)
        self.assertEqual(len(self.claims.leaves()), 394)

    def test_section_2_9_default_counts(self):
        rep = 'RelationshipsWithEdOrgsAndPeople'
        either = rep + ' OR RelationshipsWithStudentsOnlyThroughResponsibility'
        table = {   # security.md §2.9: NS, R-EOP, NFAR, R-EOO, R-StudentsOnly, R-EOP OR ThroughResponsibility
            'Create': (261, 90, 26, 13, 1, 1),
            'Read': (31, 96, 254, 10, 1, 1),
            'Update': (261, 96, 23, 10, 1, 1),
            'Delete': (261, 93, 25, 10, 1, 1),
        }
        for action, (ns, eop, nfar, eoo, so, oneor) in table.items():
            c = O.default_counts(self.claims, action)
            got = (c.get('NamespaceBased'), c.get(rep), c.get('NoFurtherAuthorizationRequired'),
                   c.get('RelationshipsWithEdOrgsOnly'), c.get('RelationshipsWithStudentsOnly'), c.get(either))
            self.assertEqual(got, (ns, eop, nfar, eoo, so, oneor), '%s: %r' % (action, c))
        # ReadChanges: §2.9 prints NFAR 254, but schoolYearType's domain (edFiTypes) has a Read default
        # only, so the data gives 253; R-EOP(+Del) 96 counts the eligibility claim, as the table does.
        c = O.default_counts(self.claims, 'ReadChanges')
        self.assertEqual(c.get('NoFurtherAuthorizationRequired'), 253, c)
        self.assertEqual(c.get(rep + 'IncludingDeletes', 0) + c.get(rep, 0), 96, c)
        self.assertEqual(c.get('RelationshipsWithStudentsOnlyIncludingDeletes'), 1, c)
        self.assertEqual((c.get('NamespaceBased'), c.get('RelationshipsWithEdOrgsOnly')), (31, 10), c)

    def decide(self, cs, endpoint, action):
        return self.claims.decide(cs, self.claims.claim_for(self.model.resource_name(endpoint)), action)

    def test_section_2_5_spot_checks(self):
        eop, eoo = ('RelationshipsWithEdOrgsAndPeople',), ('RelationshipsWithEdOrgsOnly',)
        nfar = ('NoFurtherAuthorizationRequired',)
        cases = [
            ('SIS Vendor', 'students', 'Create', nfar), ('SIS Vendor', 'students', 'Read', eop),
            ('SIS Vendor', 'students', 'Delete', nfar), ('SISVendor', 'staffs', 'Update', eop),
            ('SIS Vendor', 'studentSchoolAssociations', 'Create', eoo),
            ('SIS Vendor', 'studentSchoolAssociations', 'Read', eop),
            ('SIS Vendor', 'staffEducationOrganizationAssignmentAssociations', 'Create', eoo),
            ('SIS Vendor', 'studentContactAssociations', 'Create', ('RelationshipsWithStudentsOnly',)),
            ('SIS Vendor', 'studentContactAssociations', 'Read', ('RelationshipsWithStudentsOnly',)),
            ('SIS Vendor', 'studentSpecialEducationProgramEligibilityAssociations', 'Read',
             eop + ('RelationshipsWithStudentsOnlyThroughResponsibility',)),
            ('SIS Vendor', 'studentAssessments', 'Read', ('NamespaceBased',)),
            ('SIS Vendor', 'schools', 'Read', nfar), ('SIS Vendor', 'courses', 'Read', eop),
            ('SIS Vendor', 'gradeLevelDescriptors', 'Read', nfar),
            ('SIS Vendor', 'accommodationDescriptors', 'Create', ('NamespaceBased',)),
            ('District Hosted SIS Vendor', 'schools', 'Update', nfar),
            ('District Hosted SIS Vendor', 'localEducationAgencies', 'Update', nfar),
            ('Roster Vendor', 'courseOfferings', 'Read', eop),
            ('Assessment Vendor', 'students', 'Read', eop),
            ('Ed-Fi API Publisher - Writer', 'assessments', 'Create', nfar),   # override on the domain
            ('Ed-Fi API Publisher - Writer', 'students', 'Read', eop),
            ('Bootstrap Descriptors and EdOrgs', 'schools', 'Create', nfar),
        ]
        for cs, ep, action, want in cases:
            d = self.decide(cs, ep, action)
            self.assertTrue(d.granted, '%s %s %s: %r' % (cs, ep, action, d))
            self.assertEqual(d.strategies, want, '%s %s %s' % (cs, ep, action))
        denials = [
            ('SIS Vendor', 'schools', 'Update', O.T_ACTION),
            ('SIS Vendor', 'gradeLevelDescriptors', 'Create', O.T_ACTION),
            ('Assessment Vendor', 'staffs', 'Read', O.T_RESOURCE),
            ('Assessment Vendor', 'students', 'Create', O.T_ACTION),
            ('Roster Vendor', 'contacts', 'Read', O.T_RESOURCE), ('Roster Vendor', 'students', 'Update', O.T_ACTION),
            ('District Hosted SIS Vendor', 'localEducationAgencies', 'Create', O.T_ACTION),
            ('SIS Vendor', 'crisisEvents', 'Update', O.T_ACTION),
        ]
        for cs, ep, action, want in denials:
            self.assertEqual(self.decide(cs, ep, action).denied, want, '%s %s %s' % (cs, ep, action))

    def test_resolution_rules_on_synthetic_claims(self):
        """Overrides flow down and beat nearer defaults; grants unite up the lineage; no strategy or
        an unknown one is a configuration error; both URI forms at once is an error."""
        doc = {'claimSets': [{'claimSetName': 'X'}, {'claimSetName': 'Y'}], 'claimsHierarchy': [{
            'name': 'http://ed-fi.org/identity/claims/domains/d',
            'defaultAuthorization': {'actions': [
                {'name': 'Read', 'authorizationStrategies': [{'name': 'RelationshipsWithEdOrgsOnly'}]}]},
            'claimSets': [{'name': 'X', 'actions': [
                {'name': 'Read', 'authorizationStrategyOverrides': [{'name': 'NoFurtherAuthorizationRequired'}]},
                {'name': 'Create'}]},
                {'name': 'Y', 'actions': [{'name': 'Read'}]}],
            'claims': [
                {'name': 'http://ed-fi.org/identity/claims/ed-fi/student',
                 'defaultAuthorization': {'actions': [
                     {'name': 'Read', 'authorizationStrategies': [{'name': 'RelationshipsWithEdOrgsAndPeople'}]},
                     {'name': 'Update', 'authorizationStrategies': [{'name': 'Bogus'}]}]},
                 'claimSets': [{'name': 'Y', 'actions': [{'name': 'Update'}]}]},
                {'name': 'http://ed-fi.org/identity/claims/school'},
                {'name': 'http://ed-fi.org/identity/claims/ed-fi/school'},
            ]}]}
        with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
            json.dump(doc, f)
        try:
            c = O.Claims(f.name, None)
        finally:
            os.unlink(f.name)
        st = c.claim_for('Student')
        self.assertEqual(c.decide('X', st, 'Read').strategies, ('NoFurtherAuthorizationRequired',))
        self.assertEqual(c.decide('Y', st, 'Read').strategies, ('RelationshipsWithEdOrgsAndPeople',))
        self.assertEqual(c.decide('X', st, 'Create').denied, O.T_CONFIG)       # granted, no strategy anywhere
        self.assertEqual(c.decide('Y', st, 'Update').denied, O.T_CONFIG)       # unknown strategy
        self.assertEqual(c.decide('Y', st, 'Delete').denied, O.T_ACTION)
        self.assertEqual(c.decide('Z', st, 'Read').denied, O.T_RESOURCE)
        with self.assertRaises(O.ConfigError):
            c.claim_for('School')

    def test_relationships_on_a_toy_world(self):
        model = self.model
        oracle = O.Oracle(self.claims, model)
        w = oracle.world
        w.put('educationServiceCenters', 'esc', {'educationServiceCenterId': 9})
        w.put('localEducationAgencies', 'l1', {'localEducationAgencyId': 10, 'educationServiceCenterReference':
                                               {'educationServiceCenterId': 9}})
        w.put('localEducationAgencies', 'l2', {'localEducationAgencyId': 20, 'parentLocalEducationAgencyReference':
                                               {'localEducationAgencyId': 10}})
        w.put('schools', 's1', school_doc(101, 10))
        w.put('schools', 's2', school_doc(201, 20))
        w.put('schools', 's3', school_doc(301, 30))       # LEA 30 has no document
        w.put('studentSchoolAssociations', 'a1', ssa_doc('A', 201, '2001-08-20', '2002-05-30'))
        w.put('studentSchoolAssociations', 'a2', ssa_doc('B', 301))
        w.put('studentEducationOrganizationAssociations', 'e1', seoa_doc('C', 101))
        w.put('studentContactAssociations', 'c1', sca_doc('A', 'P'))
        w.put('staffEducationOrganizationEmploymentAssociations', 't1', employment_doc('T', 20))
        w.put('studentEducationOrganizationResponsibilityAssociations', 'r1', responsibility_doc('C', 10))
        lea10 = O.ApiClient('lea10', 'SIS Vendor', [10])
        r = oracle.reach(lea10)
        self.assertEqual(r.edorgs, {10, 20, 101, 201})              # child LEA's school included
        self.assertEqual(r.students, {'A'})                          # ended enrolment still counts; SEOA does not
        self.assertEqual(r.contacts, {'P'})
        self.assertEqual(r.staff, {'T'})
        self.assertEqual(r.students_resp, {'C'})
        self.assertEqual(oracle.reach(O.ApiClient('esc', 'SIS Vendor', [9])).students, {'A'})
        self.assertEqual(oracle.reach(O.ApiClient('lea30', 'SIS Vendor', [30])).students, {'B'})   # direct claim
        self.assertTrue(r.edorg_inverted_ok(9) and r.edorg_inverted_ok(10) and not r.edorg_inverted_ok(20))
        # subjects ANDed, each against the whole EdOrg list
        ev = attendance_doc('A', 101, '2024-09-03')
        self.assertEqual(oracle.check(lea10, 'studentSchoolAttendanceEvents', ('RelationshipsWithEdOrgsAndPeople',),
                                      ev, True), None)
        ev_b = attendance_doc('B', 101, '2024-09-03')
        self.assertEqual(oracle.check(lea10, 'studentSchoolAttendanceEvents', ('RelationshipsWithEdOrgsAndPeople',),
                                      ev_b, True), (O.T_AUTHZ,))
        both = O.ApiClient('both', 'SIS Vendor', [10, 30])
        self.assertIsNone(oracle.check(both, 'studentSchoolAttendanceEvents', ('RelationshipsWithEdOrgsAndPeople',),
                                       ev_b, True))
        # eligibility: R-EOP fails (no enrolment for C) but ThroughResponsibility passes
        el = eligibility_doc('C', 101, 10)
        self.assertIsNone(oracle.check(lea10, 'studentSpecialEducationProgramEligibilityAssociations',
                                       ('RelationshipsWithEdOrgsAndPeople',
                                        'RelationshipsWithStudentsOnlyThroughResponsibility'), el, True))
        # a null EdOrg subject
        no_school = attendance_doc('A', 101, '2024-09-03')
        del no_school['schoolReference']
        self.assertEqual(oracle.check(lea10, 'studentSchoolAttendanceEvents', ('RelationshipsWithEdOrgsAndPeople',),
                                      no_school, False), (O.T_ELEMENT_REQUIRED,))
        # namespaces: none, mismatch, case-insensitive prefix
        a = assessment_doc('x', 'URI://District-A.example.org')
        self.assertEqual(oracle.check(lea10, 'assessments', ('NamespaceBased',), a, True), (O.T_NS_NONE,))
        ns_b = O.ApiClient('b', 'SIS Vendor', [10], [NS_B])
        self.assertEqual(oracle.check(ns_b, 'assessments', ('NamespaceBased',), a, False), (O.T_NS_MISMATCH,))
        ns_a = O.ApiClient('a', 'SIS Vendor', [10], [NS_A])
        self.assertIsNone(oracle.check(ns_a, 'assessments', ('NamespaceBased',), a, False))
        # phases: POST onto an existing item is an Update that checks the stored item first
        w.put('studentSchoolAssociations', 'a3', ssa_doc('B', 101))
        exp, existing = oracle.expect_post(lea10, 'studentSchoolAssociations', ssa_doc('B', 101))
        self.assertEqual(existing, 'a3')
        self.assertTrue(exp.ok)
        exp, existing = oracle.expect_post(lea10, 'studentSchoolAssociations', ssa_doc('Q', 301))
        self.assertEqual((existing, exp.ok, exp.types), (None, False, (O.T_AUTHZ,)))   # Create: R-EOO on 301


class Isolation(h.EdhubTestCase):
    """The randomized world, swept for every client."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rng = random.Random(SEED)
        cls.oracle = O.Oracle(ods_inverted_reads=ODS_INVERTED_READS)
        cls.world = cls.oracle.world
        cls.ids = Ids(cls.rng)
        build_world(cls.api, cls.oracle, cls.rng, cls.ids)
        cls.gen = Generators(cls.rng, cls.world)
        cls.admin = O.ApiClient('admin', full_access=True)
        cls.clients = {}       # name -> (ApiClient, harness Client, key, secret)
        cls.cli_error = None
        try:
            cls._create_clients()
        except Exception as e:   # reported by the tests that need the clients
            cls.cli_error = '%s: %s' % (type(e).__name__, e)

    # set-up -----------------------------------------------------------------

    @classmethod
    def cli(cls, *args):
        cmd = [h.EDHUB, 'clients'] + list(args[:1]) + ['--data', cls.server.data] + list(args[1:])
        p = subprocess.run(cmd, cwd=h.REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=CLI_TIMEOUT)
        if p.returncode != 0:
            raise AssertionError('`%s` exited %d:\n%s' % (' '.join(cmd), p.returncode,
                                                          p.stdout.decode('utf-8', 'replace')[-2000:]))
        return p.stdout.decode('utf-8', 'replace')

    @classmethod
    def _create_clients(cls):
        ids = cls.ids
        school_a = ids.schools_of[ids.lea_a][0]
        specs = [
            ('sis-a', 'SIS Vendor', [ids.lea_a], [NS_A]),
            ('sis-b', 'SIS Vendor', [ids.lea_b], [NS_B]),
            ('dhsis-c', 'District Hosted SIS Vendor', [ids.lea_c], [NS_C]),
            ('sis-gb', 'SIS Vendor', [GB_LEA], []),
            ('sis-ab', 'SIS Vendor', [ids.lea_a, ids.lea_b], []),
            ('sis-school', 'SIS Vendor', [school_a], [NS_A]),
            ('sis-esc', 'SIS Vendor', [ESC], []),
            ('assess-b', 'Assessment Vendor', [ids.lea_b], [NS_VENDOR]),
            ('roster-a', 'Roster Vendor', [ids.lea_a], []),
        ]
        secret_rng = random.SystemRandom()
        alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'
        for name, cs, edorgs, namespaces in specs:
            key = 'iso-%s-%d' % (name, SEED % 100000)
            secret = 'Iso9' + ''.join(secret_rng.choice(alphabet) for _ in range(28))
            args = ['create', '--key', key, '--secret', secret, '--claim-set', cs]
            for e in edorgs:
                args += ['--edorg', str(e)]
            for ns in namespaces:
                args += ['--namespace', ns]
            cls.cli(*args)
            token = cls.server.get_token(key, secret)
            cls.clients[name] = (O.ApiClient(name, cs, edorgs, namespaces), h.Client(cls.server, token), key, secret)

    def stored(self, ep):
        """(id, document) pairs in an order that does not depend on server-assigned ids, so that a
        replayed seed samples the same documents."""
        model = self.oracle.model
        return sorted(self.world.items(ep).items(), key=lambda kv: model.identity(ep, kv[1]))

    def world_size(self):
        return ', '.join('%s %d' % (ep, len(self.world.items(ep))) for ep in FAMILIES)

    def need_clients(self):
        if self.cli_error:
            self.fail('could not create API clients with `edhub clients create`: %s' % self.cli_error)

    # one request against the oracle ----------------------------------------

    def judge(self, findings, who, what, exp, r, doc_line=''):
        """Compares one response with an expectation; True when the server allowed the request."""
        findings.checks += 1
        findings.expected[exp.ok] += 1
        allowed = 200 <= r.status < 300
        tail = ('  [%s]' % doc_line) if doc_line else ''
        if exp.ok:
            if r.status == 403:
                findings.add('denied', '%s: %s -> 403 %s, oracle allows%s' % (who, what, self._ptype(r), tail))
            elif not allowed:
                findings.add('other', '%s: %s -> %d %s, oracle allows%s' % (who, what, r.status, r.text[:200], tail))
            return allowed
        if allowed:
            findings.add('leak', '%s: %s -> %d, oracle: %d %s%s' % (who, what, r.status, exp.status,
                                                                 '|'.join(exp.types), tail))
        elif r.status != exp.status:
            findings.add('other', '%s: %s -> %d %s, oracle: %d %s%s' % (
                who, what, r.status, r.text[:200], exp.status, '|'.join(exp.types), tail))
        elif r.content_type != PROBLEM_CT or not isinstance(r.json, dict) or r.json.get('status') != r.status:
            findings.add('type', '%s: %s -> %d not a problem+json body (%s): %s' % (
                who, what, r.status, r.content_type, r.text[:200]))
        elif r.json.get('type') not in exp.types:
            findings.add('type', '%s: %s -> type %s, oracle %s%s' % (who, what, r.json.get('type'),
                                                                    '|'.join(exp.types), tail))
        elif r.status == 403 and (not O.detail_ok(r.json['type'], r.json.get('detail'))
                                  or r.json.get('title') != O.TITLE):
            findings.add('type', '%s: %s -> %s: title %r, detail %r' % (
                who, what, r.json['type'], r.json.get('title'), r.json.get('detail')))
        return allowed

    @staticmethod
    def _ptype(r):
        return (r.json or {}).get('type') if isinstance(r.json, dict) else r.text[:120]

    # the sweep ---------------------------------------------------------------

    def sweep(self, client, api, findings, rng):
        """Reads first (every item, the collection, pages, a filtered query), then sampled writes."""
        for ep in FAMILIES:
            self.sweep_reads(client, api, ep, findings, rng)
        for ep in FAMILIES:
            self.sweep_puts(client, api, ep, findings, rng)
        for ep in FAMILIES:
            self.sweep_posts(client, api, ep, findings, rng)
        for ep in FAMILIES:
            self.sweep_deletes(client, api, ep, findings, rng)

    def sweep_reads(self, client, api, ep, findings, rng):
        o = self.oracle
        items = sorted(self.world.items(ep).items())
        expected = {i: o.expect_get(client, ep, i) for i, _ in items}

        def fetch(i):
            return i, api.get(api.url(ep, i))
        with concurrent.futures.ThreadPoolExecutor(READ_THREADS) as pool:
            for i, r in pool.map(fetch, [i for i, _ in items]):
                doc = self.world.get(ep, i)
                if self.judge(findings, client.name, 'GET %s/%s' % (ep, i), expected[i], r,
                              subjects_text(o, ep, doc)) and r.status == 200:
                    if not isinstance(r.json, dict) or o.model.identity(ep, r.json) != o.model.identity(ep, doc):
                        findings.add('other', '%s: GET %s/%s returned another document: %s' % (
                            client.name, ep, i, r.text[:200]))
        self.check_collection(client, api, ep, findings, rng)
        self.check_query(client, api, ep, findings, rng)

    def check_query(self, client, api, ep, findings, rng):
        """GET-many with a filter on a key field: the authorization filter and the query combine."""
        o = self.oracle
        stored = self.stored(ep)
        mapping = o.model.resources[ep].get('queryFieldMapping') or {}
        keys = set(o.model.resources[ep].get('identityJsonPaths') or ())
        fields = sorted(f for f, m in mapping.items() if len(m) == 1 and m[0]['path'] in keys)
        if not stored or not fields:
            return
        field = rng.choice(fields)
        path = mapping[field][0]['path']
        value = O.json_value(rng.choice(stored)[1], path)
        if value is None:
            return
        want, deny = o.visible(client, ep)
        r = api.get(api.url(ep, query={field: value, 'limit': 500, 'totalCount': 'true'}))
        what = 'GET %s?%s=%s' % (ep, field, value)
        if deny is not None:
            self.judge(findings, client.name, what, deny, r)
            return
        want = {i for i in want if O.json_value(self.world.get(ep, i), path) == value}
        findings.checks += 1
        if r.status != 200 or not isinstance(r.json, list):
            findings.add('collection', '%s: %s -> %d %s, oracle: 200 with %d items' % (
                client.name, what, r.status, r.text[:200], len(want)))
            return
        got = {d.get('id') for d in r.json}
        for i in sorted(got - want):
            findings.add('leak', '%s: %s lists %s, oracle hides it  [%s]' % (
                client.name, what, i, subjects_text(o, ep, self.world.get(ep, i))))
        for i in sorted(want - got):
            findings.add('denied', '%s: %s omits %s, oracle shows it  [%s]' % (
                client.name, what, i, subjects_text(o, ep, self.world.get(ep, i))))
        if r.headers.get('Total-Count') != str(len(want)):
            findings.add('collection', '%s: %s: Total-Count %s, oracle %d' % (
                client.name, what, r.headers.get('Total-Count'), len(want)))

    def check_collection(self, client, api, ep, findings, rng):
        o = self.oracle
        want, deny = o.visible(client, ep)
        r = api.get(api.url(ep, query={'limit': 500, 'totalCount': 'true'}))
        if deny is not None:
            self.judge(findings, client.name, 'GET %s (collection)' % ep, deny, r)
            return
        if r.status != 200 or not isinstance(r.json, list):
            findings.add('collection', '%s: GET %s -> %d %s, oracle: 200 with %d items' % (
                client.name, ep, r.status, r.text[:200], len(want)))
            return
        got = [d.get('id') for d in r.json]
        findings.checks += len(want) + 1
        for i in sorted(set(got) - want):
            findings.add('leak', '%s: GET %s lists %s, oracle hides it  [%s]' % (
                client.name, ep, i, subjects_text(o, ep, self.world.get(ep, i))))
        for i in sorted(want - set(got)):
            findings.add('denied', '%s: GET %s omits %s, oracle shows it  [%s]' % (
                client.name, ep, i, subjects_text(o, ep, self.world.get(ep, i))))
        if len(got) != len(set(got)):
            findings.add('collection', '%s: GET %s has duplicate ids' % (client.name, ep))
        total = r.headers.get('Total-Count')
        if total != str(len(want)):
            findings.add('collection', '%s: GET %s?totalCount=true: Total-Count %s, oracle %d' % (
                client.name, ep, total, len(want)))
        # paging: about four pages of a random size; their union is the whole permitted set
        size = max(1, (len(want) + 3) // 4 + rng.randint(-1, 1))
        seen, offset, counts = [], 0, set()
        while True:
            p = api.get(api.url(ep, query={'offset': offset, 'limit': size, 'totalCount': 'true'}))
            if p.status != 200 or not isinstance(p.json, list):
                findings.add('collection', '%s: GET %s offset=%d limit=%d -> %d %s' % (
                    client.name, ep, offset, size, p.status, p.text[:200]))
                return
            counts.add(p.headers.get('Total-Count'))
            if len(p.json) > size:
                findings.add('collection', '%s: GET %s limit=%d returned %d items' % (
                    client.name, ep, size, len(p.json)))
            seen += [d.get('id') for d in p.json]
            if len(p.json) < size or offset > len(want) + size:
                break
            offset += size
        if counts != {str(len(want))}:
            findings.add('collection', '%s: GET %s pages of %d: Total-Count %s, oracle %d' % (
                client.name, ep, size, sorted(counts, key=str), len(want)))
        if len(seen) != len(set(seen)) or set(seen) != set(got):
            findings.add('collection', '%s: GET %s pages of %d: %d items (%d distinct), one page: %d; '
                         'missing %s, extra %s' % (client.name, ep, size, len(seen), len(set(seen)), len(got),
                                                   sorted(set(got) - set(seen))[:3], sorted(set(seen) - set(got))[:3]))

    @staticmethod
    def balanced(rng, candidates, n=1):
        """Up to n allowed and n denied (expectation, payload) pairs, picked at random."""
        ok = [c for c in candidates if c[0].ok]
        no = [c for c in candidates if not c[0].ok]
        rng.shuffle(ok)
        rng.shuffle(no)
        return ok[:n] + no[:n]

    def sweep_puts(self, client, api, ep, findings, rng):
        o = self.oracle
        cands = []
        for i, doc in self.stored(ep):
            body = dict(copy.deepcopy(doc), id=i)
            cands.append((o.expect_put(client, ep, i, body), (i, body)))
        for exp, (i, body) in self.balanced(rng, cands, 2):
            r = api.put(api.url(ep, i), body)
            if self.judge(findings, client.name, 'PUT %s/%s' % (ep, i), exp, r, subjects_text(o, ep, body)):
                if r.status != 204:
                    findings.add('other', '%s: PUT %s/%s -> %d, expected 204' % (client.name, ep, i, r.status))

    def sweep_posts(self, client, api, ep, findings, rng):
        o = self.oracle
        # new documents (Create, unless the random key happens to exist: then Update)
        cands = []
        scope = None if client.full_access else o.reach(client)
        for _ in range(10):
            doc = self.gen.new(ep, scope)
            cands.append((o.expect_post(client, ep, doc)[0], doc))
        # existing documents posted again (Update: stored item, then the proposed one)
        for i, doc in self.stored(ep):
            cands.append((o.expect_post(client, ep, doc)[0], copy.deepcopy(doc)))
        new, old = cands[:10], cands[10:]
        for exp, doc in self.balanced(rng, new, 2) + self.balanced(rng, old, 1):
            exp, existing = o.expect_post(client, ep, doc)   # again: an earlier POST may have changed things
            r = api.post(api.url(ep), doc)
            what = 'POST %s (%s)' % (ep, 'update %s' % existing if existing else 'new')
            if self.judge(findings, client.name, what, exp, r, subjects_text(o, ep, doc)):
                want = 200 if existing else 201
                if r.status != want or (existing and r.location_id != existing):
                    findings.add('other', '%s: %s -> %d Location %s, expected %d' % (
                        client.name, what, r.status, r.headers.get('Location'), want))
                if r.location_id:
                    if existing and r.location_id != existing:
                        self.world.delete(ep, existing)
                    self.world.put(ep, r.location_id, doc)

    def referenced_people(self):
        refs = set()
        for ep, docs in self.world.docs.items():
            for d in docs.values():
                for ref, key in (('studentReference', 'studentUniqueId'), ('staffReference', 'staffUniqueId'),
                                 ('contactReference', 'contactUniqueId')):
                    if isinstance(d.get(ref), dict):
                        refs.add(d[ref].get(key))
        return refs

    def sweep_deletes(self, client, api, ep, findings, rng):
        o = self.oracle
        if ep in PEOPLE:
            # only people nothing refers to can really go; a denial can be tried on anyone
            refs = self.referenced_people()
            cands = [(o.expect_delete(client, ep, i), i) for i, d in self.stored(ep)
                     if d[PEOPLE[ep]] not in refs or not o.expect_delete(client, ep, i).ok]
        elif ep in LEAF_FAMILIES:
            cands = [(o.expect_delete(client, ep, i), i) for i, _ in self.stored(ep)]
        else:
            # referenced families: only denials are safe to try
            cands = [(o.expect_delete(client, ep, i), i) for i, _ in self.stored(ep)]
            cands = [c for c in cands if not c[0].ok]
        for exp, i in self.balanced(rng, cands, 1):
            doc = self.world.get(ep, i)
            r = api.delete(api.url(ep, i))
            if self.judge(findings, client.name, 'DELETE %s/%s' % (ep, i), exp, r, subjects_text(o, ep, doc)):
                if r.status != 204:
                    findings.add('other', '%s: DELETE %s/%s -> %d, expected 204' % (client.name, ep, i, r.status))
                    continue
                # put it back (new id) so the world stays as rich for the next client
                self.world.delete(ep, i)
                self.world.put(ep, self.api.create(ep, doc), doc)

    # tests ------------------------------------------------------------------

    def test_0_admin_sees_and_writes_everything(self):
        """The full-access client against the same oracle: checks the world bookkeeping itself."""
        findings = Findings()
        self.sweep(self.admin, self.api, findings, random.Random(SEED + 1))
        sys.stderr.write('\n[isolation] admin: %d checks, world %s\n' % (findings.checks, self.world_size()))
        self.assertEqual(findings.count(), 0, 'seed %d, admin client:\n%s' % (SEED, findings.summary()))

    def test_0_oracle_invariants_on_this_world(self):
        """Sanity of the oracle on the generated world: more EdOrgs never see less, a school-level
        key sees a subset of its LEA's, and the parent LEA sees what its child LEA sees."""
        ids = self.ids
        o = self.oracle
        sis = {n: O.ApiClient(n, 'SIS Vendor', e) for n, e in (
            ('a', [ids.lea_a]), ('b', [ids.lea_b]), ('ab', [ids.lea_a, ids.lea_b]), ('esc', [ESC]),
            ('school', [ids.schools_of[ids.lea_a][0]]), ('d', [ids.lea_d]))}
        for ep in FAMILIES:
            v = {n: o.visible(c, ep)[0] or set() for n, c in sis.items()}   # None: denied outright
            self.assertLessEqual(v['school'], v['a'], ep)
            self.assertLessEqual(v['d'], v['a'], ep)
            self.assertLessEqual(v['a'] | v['b'], v['ab'], ep)
            self.assertLessEqual(v['ab'], v['esc'], ep)
        # the world separates the districts
        a, b = o.visible(sis['a'], 'students')[0], o.visible(sis['b'], 'students')[0]
        self.assertTrue(a - b and b - a, 'districts A and B should each have students of their own')

    def test_1_isolation_sweep(self):
        self.need_clients()
        findings = Findings()
        rng = random.Random(SEED + 2)
        thin = []
        for name in sorted(self.clients):
            client, api = self.clients[name][:2]
            before = (findings.checks, findings.expected[True], findings.expected[False])
            self.sweep(client, api, findings, rng)
            n, ok, no = (findings.checks - before[0], findings.expected[True] - before[1],
                         findings.expected[False] - before[2])
            sys.stderr.write('\n[isolation] %r: %d checks, %d requests expected allowed, %d denied'
                             % (client, n, ok, no))
            if ok < 10 or no < 10:
                thin.append(name)
        sys.stderr.write('\n[isolation] world %s\n' % self.world_size())
        self.assertEqual(findings.count(), 0, 'seed %d, %d mismatches:\n%s' % (SEED, findings.count(),
                                                                            findings.summary()))
        self.assertEqual(thin, [], 'the world gave these clients too few allowed or denied requests')

    def expect_status(self, findings, name, method, ep, doc_id=None, body=None):
        """One request by a named client, judged by the oracle; returns the response."""
        client, api = self.clients[name][:2] if name != 'admin' else (self.admin, self.api)
        o = self.oracle
        if method == 'GET':
            exp = o.expect_get(client, ep, doc_id)
            r = api.get(api.url(ep, doc_id))
        elif method == 'POST':
            exp, existing = o.expect_post(client, ep, body)
            r = api.post(api.url(ep), body)
            if 200 <= r.status < 300 and r.location_id:
                self.world.put(ep, r.location_id, body)
        elif method == 'DELETE':
            exp = o.expect_delete(client, ep, doc_id)
            r = api.delete(api.url(ep, doc_id))
            if 200 <= r.status < 300:
                self.world.delete(ep, doc_id)
        else:
            exp = o.expect_put(client, ep, doc_id, body)
            r = api.put(api.url(ep, doc_id), dict(body, id=doc_id))
            if 200 <= r.status < 300:
                self.world.put(ep, doc_id, body)
        self.judge(findings, name, '%s %s%s' % (method, ep, ('/' + doc_id) if doc_id else ''), exp, r)
        return exp, r

    def test_2_enrolment_grants_and_removes_access(self):
        self.need_clients()
        f = Findings()
        ids = self.ids
        school_b = ids.schools_of[ids.lea_b][0]
        uid = 'ENR%d' % (SEED % 100000)
        _, r = self.expect_status(f, 'admin', 'POST', 'students', body=person_doc('students', uid))
        sid = r.location_id
        exp, _ = self.expect_status(f, 'sis-b', 'GET', 'students', sid)
        self.assertFalse(exp.ok, 'oracle: an unenrolled student must be hidden')
        # the admin enrols the student in a district-B school: B sees the student at once, A does not
        _, r = self.expect_status(f, 'admin', 'POST', 'studentSchoolAssociations', body=ssa_doc(uid, school_b))
        ssa_id = r.location_id
        exp, _ = self.expect_status(f, 'sis-b', 'GET', 'students', sid)
        self.assertTrue(exp.ok, 'oracle: the enrolment must grant access')
        self.expect_status(f, 'sis-a', 'GET', 'students', sid)
        self.check_collection(self.clients['sis-b'][0], self.clients['sis-b'][1], 'students', f, random.Random(1))
        # removing the enrolment removes the access
        self.expect_status(f, 'admin', 'DELETE', 'studentSchoolAssociations', ssa_id)
        exp, _ = self.expect_status(f, 'sis-b', 'GET', 'students', sid)
        self.assertFalse(exp.ok)
        # the district enrols the student itself (Create is EdOrgs-only), then reads it
        school_a = ids.schools_of[ids.lea_a][0]
        exp, _ = self.expect_status(f, 'sis-b', 'POST', 'studentSchoolAssociations', body=ssa_doc(uid, school_a))
        self.assertFalse(exp.ok, 'oracle: enrolling into another district must be denied')
        exp, _ = self.expect_status(f, 'sis-b', 'POST', 'studentSchoolAssociations', body=ssa_doc(uid, school_b))
        self.assertTrue(exp.ok)
        self.expect_status(f, 'sis-b', 'GET', 'students', sid)
        self.expect_status(f, 'sis-esc', 'GET', 'students', sid)
        self.expect_status(f, 'sis-ab', 'GET', 'students', sid)
        self.expect_status(f, 'sis-gb', 'GET', 'students', sid)
        self.assertEqual(f.count(), 0, 'seed %d:\n%s' % (SEED, f.summary()))

    def test_3_school_moving_district_moves_its_students(self):
        self.need_clients()
        f = Findings()
        ids = self.ids
        school = 900000000 + SEED % 99999999
        doc = school_doc(school, ids.lea_a)
        _, r = self.expect_status(f, 'admin', 'POST', 'schools', body=doc)
        school_id = r.location_id
        uid = 'MOV%d' % (SEED % 100000)
        _, r = self.expect_status(f, 'admin', 'POST', 'students', body=person_doc('students', uid))
        sid = r.location_id
        _, r = self.expect_status(f, 'admin', 'POST', 'studentSchoolAssociations', body=ssa_doc(uid, school))
        ssa_id = r.location_id
        for name, want in (('sis-a', True), ('sis-b', False), ('sis-ab', True), ('sis-esc', True)):
            exp, _ = self.expect_status(f, name, 'GET', 'students', sid)
            self.assertEqual(exp.ok, want, 'oracle, before the move, %s' % name)
            self.expect_status(f, name, 'GET', 'studentSchoolAssociations', ssa_id)
        # the school moves from district A to district B
        self.expect_status(f, 'admin', 'PUT', 'schools', school_id, body=school_doc(school, ids.lea_b))
        for name, want in (('sis-a', False), ('sis-b', True), ('sis-ab', True), ('sis-esc', True)):
            exp, _ = self.expect_status(f, name, 'GET', 'students', sid)
            self.assertEqual(exp.ok, want, 'oracle, after the move, %s' % name)
            self.expect_status(f, name, 'GET', 'studentSchoolAssociations', ssa_id)
        for name in ('sis-a', 'sis-b'):
            client, api = self.clients[name][:2]
            self.check_collection(client, api, 'students', f, random.Random(2))
            self.check_collection(client, api, 'studentSchoolAssociations', f, random.Random(3))
        # and under district D, a child of A: A sees it again through the parent LEA
        self.expect_status(f, 'admin', 'PUT', 'schools', school_id, body=school_doc(school, ids.lea_d))
        for name, want in (('sis-a', True), ('sis-b', False)):
            exp, _ = self.expect_status(f, name, 'GET', 'students', sid)
            self.assertEqual(exp.ok, want, 'oracle, under the child LEA, %s' % name)
        self.assertEqual(f.count(), 0, 'seed %d:\n%s' % (SEED, f.summary()))

    def test_4_namespaces(self):
        self.need_clients()
        f = Findings()
        n = SEED % 100000
        for name, ns, want in (('sis-a', NS_A, O.ALLOW), ('sis-a', NS_B, O.T_NS_MISMATCH),
                               ('sis-ab', NS_A, O.T_NS_NONE), ('assess-b', NS_VENDOR, O.ALLOW),
                               ('assess-b', NS_A, O.T_NS_MISMATCH)):
            body = {'namespace': ns + '/AccommodationDescriptor', 'codeValue': 'Iso %s %d' % (name, n),
                    'shortDescription': 'Isolation'}
            exp, _ = self.expect_status(f, name, 'POST', 'accommodationDescriptors', body=body)
            self.assertEqual(exp.ok, want is O.ALLOW, 'oracle: %s %s' % (name, ns))
            if want is not O.ALLOW:
                self.assertEqual(exp.types, (want,), 'oracle: %s %s' % (name, ns))
        self.assertEqual(f.count(), 0, 'seed %d:\n%s' % (SEED, f.summary()))

    def test_5_disabled_reset_and_deleted_clients(self):
        """A disabled client gets no token; enabling restores it; a reset secret replaces the old one;
        a deleted client gets no token."""
        self.need_clients()
        key, secret = 'iso-gone-%d' % (SEED % 100000), 'Iso9GoneSecretAbcdefghijkmnpq234'
        self.cli('create', '--key', key, '--secret', secret, '--claim-set', 'SIS Vendor', '--edorg', str(GB_LEA))
        self.server.get_token(key, secret)
        self.cli('delete', '--key', key)
        with self.assertRaises(h.ServerError):
            self.server.get_token(key, secret)
        _, _, key, secret = self.clients['roster-a']
        self.cli('disable', '--key', key)
        with self.assertRaises(h.ServerError):
            self.server.get_token(key, secret)
        self.cli('enable', '--key', key)
        self.server.get_token(key, secret)
        new_secret = secret[::-1] + 'Z9'
        self.cli('reset', '--key', key, '--secret', new_secret)
        with self.assertRaises(h.ServerError):
            self.server.get_token(key, secret)
        token = self.server.get_token(key, new_secret)
        api = h.Client(self.server, token)
        f = Findings()
        self.check_collection(self.clients['roster-a'][0], api, 'students', f, random.Random(4))
        self.assertEqual(f.count(), 0, 'seed %d:\n%s' % (SEED, f.summary()))


if __name__ == '__main__':
    unittest.main()
