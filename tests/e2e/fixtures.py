"""Realistic Ed-Fi DS 5.2 documents for the end-to-end tests (Grand Bend flavoured).

Every builder returns a fresh dict that can be POSTed as is; keyword arguments override fields.
Descriptor values used here are in the bootstrap set that `edhub init` loads.
"""

import harness as h
from harness import descriptor as D

HS = h.HIGH_SCHOOL
MS = h.MIDDLE_SCHOOL
ES = h.ELEMENTARY_SCHOOL


def _merge(doc, over):
    for k, v in over.items():
        if v is DROP:
            doc.pop(k, None)
        else:
            doc[k] = v
    return doc


class _Drop:
    def __repr__(self):
        return 'DROP'


DROP = _Drop()  # pass as a keyword value to remove a property


def student(unique_id=None, **over):
    return _merge({
        'studentUniqueId': unique_id or h.uid('s'),
        'birthDate': '2010-01-13',
        'firstName': 'Traci',
        'lastSurname': 'Mathews',
    }, over)


def staff(unique_id=None, **over):
    return _merge({
        'staffUniqueId': unique_id or h.uid('t'),
        'firstName': 'Barry',
        'lastSurname': 'Peterson',
    }, over)


def contact(unique_id=None, **over):
    return _merge({
        'contactUniqueId': unique_id or h.uid('c'),
        'firstName': 'Luis',
        'lastSurname': 'Mathews',
    }, over)


def school(school_id=None, **over):
    return _merge({
        'schoolId': school_id or h.unique_int(),
        'nameOfInstitution': 'Grand Bend Test School',
        'educationOrganizationCategories': [
            {'educationOrganizationCategoryDescriptor': D('EducationOrganizationCategory', 'School')}],
        'gradeLevels': [{'gradeLevelDescriptor': D('GradeLevel', 'Ninth grade')}],
    }, over)


def lea(lea_id=None, **over):
    return _merge({
        'localEducationAgencyId': lea_id or h.unique_int(),
        'nameOfInstitution': 'Grand Bend Test District',
        'categories': [
            {'educationOrganizationCategoryDescriptor': D('EducationOrganizationCategory', 'Local Education Agency')}],
        'localEducationAgencyCategoryDescriptor': D('LocalEducationAgencyCategory', 'Independent charter district'),
    }, over)


def ssa(student_unique_id, school_id=HS, entry_date='2024-08-20', grade='Ninth grade', **over):
    return _merge({
        'studentReference': {'studentUniqueId': student_unique_id},
        'schoolReference': {'schoolId': school_id},
        'entryDate': entry_date,
        'entryGradeLevelDescriptor': D('GradeLevel', grade),
    }, over)


def session(name=None, school_id=HS, year=2025, **over):
    return _merge({
        'sessionName': name or h.uid('Fall '),
        'schoolReference': {'schoolId': school_id},
        'schoolYearTypeReference': {'schoolYear': year},
        'termDescriptor': D('Term', 'Fall Semester'),
        'beginDate': '%d-08-20' % (year - 1),
        'endDate': '%d-12-20' % (year - 1),
        'totalInstructionalDays': 80,
    }, over)


def class_period(name=None, school_id=HS, **over):
    return _merge({
        'classPeriodName': name or h.uid('Period '),
        'schoolReference': {'schoolId': school_id},
    }, over)


def calendar(code=None, school_id=HS, year=2025, **over):
    return _merge({
        'calendarCode': code or h.uid('cal'),
        'schoolReference': {'schoolId': school_id},
        'schoolYearTypeReference': {'schoolYear': year},
        'calendarTypeDescriptor': D('CalendarType', 'Student Specific'),
    }, over)


def course(code=None, edorg_id=HS, **over):
    code = code or h.uid('ALG')
    return _merge({
        'courseCode': code,
        'courseTitle': 'Algebra I',
        'numberOfParts': 1,
        'educationOrganizationReference': {'educationOrganizationId': edorg_id},
        'identificationCodes': [{
            'courseIdentificationSystemDescriptor': D('CourseIdentificationSystem', 'LEA course code'),
            'identificationCode': code,
        }],
    }, over)


def course_offering(local_code, session_name, course_code, school_id=HS, year=2025, course_edorg=None, **over):
    return _merge({
        'localCourseCode': local_code,
        'schoolReference': {'schoolId': school_id},
        'sessionReference': {'schoolId': school_id, 'schoolYear': year, 'sessionName': session_name},
        'courseReference': {'courseCode': course_code, 'educationOrganizationId': course_edorg or school_id},
    }, over)


def section(section_id, local_code, session_name, school_id=HS, year=2025, **over):
    return _merge({
        'sectionIdentifier': section_id,
        'courseOfferingReference': {
            'localCourseCode': local_code,
            'schoolId': school_id,
            'schoolYear': year,
            'sessionName': session_name,
        },
    }, over)


def location(code=None, school_id=HS, **over):
    return _merge({
        'classroomIdentificationCode': code or h.uid('Room '),
        'schoolReference': {'schoolId': school_id},
    }, over)


def bell_schedule(name, class_period_names, school_id=HS, **over):
    return _merge({
        'bellScheduleName': name,
        'schoolReference': {'schoolId': school_id},
        'classPeriods': [{'classPeriodReference': {'classPeriodName': n, 'schoolId': school_id}}
                         for n in class_period_names],
    }, over)


def program(name=None, edorg_id=HS, type_code='Bilingual', **over):
    return _merge({
        'programName': name or h.uid('Program '),
        'programTypeDescriptor': D('ProgramType', type_code),
        'educationOrganizationReference': {'educationOrganizationId': edorg_id},
    }, over)


def assessment(identifier=None, namespace='uri://ed-fi.org/Assessment', **over):
    return _merge({
        'assessmentIdentifier': identifier or h.uid('asmt'),
        'namespace': namespace,
        'assessmentTitle': 'State Assessment Grade 9 Math',
        'academicSubjects': [{'academicSubjectDescriptor': D('AcademicSubject', 'Mathematics')}],
    }, over)


def student_assessment(student_unique_id, assessment_identifier, namespace='uri://ed-fi.org/Assessment',
                       identifier=None, **over):
    return _merge({
        'studentAssessmentIdentifier': identifier or h.uid('sa'),
        'assessmentReference': {'assessmentIdentifier': assessment_identifier, 'namespace': namespace},
        'studentReference': {'studentUniqueId': student_unique_id},
    }, over)


def grade_level_descriptor(code, ns='uri://ed-fi.org/GradeLevelDescriptor', **over):
    return _merge({
        'namespace': ns,
        'codeValue': code,
        'shortDescription': code,
        'description': code,
    }, over)


def academic_week(identifier=None, school_id=HS, **over):
    return _merge({
        'weekIdentifier': identifier or h.uid('week-'),
        'schoolReference': {'schoolId': school_id},
        'beginDate': '2024-08-26',
        'endDate': '2024-08-30',
        'totalInstructionalDays': 5,
    }, over)


def education_content(identifier=None, **over):
    return _merge({
        'contentIdentifier': identifier or h.uid('content'),
        'namespace': 'uri://ed-fi.org/EducationContent',
    }, over)
