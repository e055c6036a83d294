"""Equality constraints / key unification (api-behavior §9)."""

import datetime
import unittest

import fixtures as F
import harness as h

DATA = h.DATA


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


def msg(name, *values):
    return ("All values supplied for '%s' must match. Review all references (including those higher up in the "
            "resource's data) and align the following conflicting values: %s"
            % (name, ', '.join("'%s'" % v for v in values)))


class Equality(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cal = F.calendar(school_id=h.HIGH_SCHOOL, year=2025)
        cls.api.create('calendars', cls.cal)
        cls.student = F.student()
        cls.api.create('students', cls.student)

    def ssa(self, **over):
        day = datetime.date(2024, 8, 1) + datetime.timedelta(days=next(_day))
        return F.ssa(self.student['studentUniqueId'], entry_date=day.isoformat(), **over)

    def test_school_mismatch_reports_both_paths(self):
        doc = self.ssa(calendarReference={'calendarCode': self.cal['calendarCode'], 'schoolId': h.MIDDLE_SCHOOL,
                                          'schoolYear': 2025},
                       schoolYearTypeReference={'schoolYear': 2025})
        r = self.api.post(DATA + '/studentSchoolAssociations', doc)
        m = msg('schoolId', h.MIDDLE_SCHOOL, h.HIGH_SCHOOL)
        self.assertValidationFailed(r, keys=['$.calendarReference.schoolId', '$.schoolReference.schoolId'])
        self.assertEqual(r.json['validationErrors']['$.calendarReference.schoolId'], [m])
        self.assertEqual(r.json['validationErrors']['$.schoolReference.schoolId'], [m])

    def test_school_year_mismatch(self):
        doc = self.ssa(calendarReference={'calendarCode': self.cal['calendarCode'], 'schoolId': h.HIGH_SCHOOL,
                                          'schoolYear': 2025},
                       schoolYearTypeReference={'schoolYear': 2026})
        r = self.api.post(DATA + '/studentSchoolAssociations', doc)
        self.assertValidationFailed(r, keys=['$.calendarReference.schoolYear', '$.schoolYearTypeReference.schoolYear'])
        self.assertEqual(r.json['validationErrors']['$.calendarReference.schoolYear'], [msg('schoolYear', 2025, 2026)])

    def test_both_constraints_fail(self):
        doc = self.ssa(calendarReference={'calendarCode': self.cal['calendarCode'], 'schoolId': h.MIDDLE_SCHOOL,
                                          'schoolYear': 2025},
                       schoolYearTypeReference={'schoolYear': 2026})
        r = self.api.post(DATA + '/studentSchoolAssociations', doc)
        self.assertValidationFailed(r, keys=['$.calendarReference.schoolId', '$.schoolReference.schoolId',
                                             '$.calendarReference.schoolYear', '$.schoolYearTypeReference.schoolYear'])

    def test_matching_values_pass(self):
        doc = self.ssa(calendarReference={'calendarCode': self.cal['calendarCode'], 'schoolId': h.HIGH_SCHOOL,
                                          'schoolYear': 2025},
                       schoolYearTypeReference={'schoolYear': 2025})
        self.assertStatus(self.api.post(DATA + '/studentSchoolAssociations', doc), 201)

    def test_absent_optional_side_passes(self):
        doc = self.ssa(calendarReference={'calendarCode': self.cal['calendarCode'], 'schoolId': h.HIGH_SCHOOL,
                                          'schoolYear': 2025})
        self.assertStatus(self.api.post(DATA + '/studentSchoolAssociations', doc), 201)

    def test_checked_before_reference_resolution(self):
        # values disagree AND the calendar does not exist: 400, not 409
        doc = self.ssa(calendarReference={'calendarCode': 'NoSuchCalendar', 'schoolId': h.MIDDLE_SCHOOL,
                                          'schoolYear': 2025})
        r = self.api.post(DATA + '/studentSchoolAssociations', doc)
        self.assertValidationFailed(r, keys=['$.calendarReference.schoolId', '$.schoolReference.schoolId'])

    def test_matching_values_but_missing_reference_is_409(self):
        doc = self.ssa(calendarReference={'calendarCode': 'NoSuchCalendar', 'schoolId': h.HIGH_SCHOOL,
                                          'schoolYear': 2025})
        r = self.api.post(DATA + '/studentSchoolAssociations', doc)
        self.assertProblem(r, 409, 'urn:ed-fi:api:data-conflict:unresolved-reference',
                           validation_keys=['$.calendarReference'])

    def test_numeric_string_counts_as_equal(self):
        doc = self.ssa(calendarReference={'calendarCode': self.cal['calendarCode'], 'schoolId': str(h.HIGH_SCHOOL),
                                          'schoolYear': 2025},
                       schoolYearTypeReference={'schoolYear': 2025})
        self.assertStatus(self.api.post(DATA + '/studentSchoolAssociations', doc), 201)

    def test_collection_wildcard_all_items_checked(self):
        periods = []
        for school in (h.HIGH_SCHOOL, h.MIDDLE_SCHOOL):
            cp = F.class_period(school_id=school)
            self.api.create('classPeriods', cp)
            periods.append(cp)
        doc = {
            'bellScheduleName': h.uid('Bell '),
            'schoolReference': {'schoolId': h.HIGH_SCHOOL},
            'classPeriods': [{'classPeriodReference': {'classPeriodName': p['classPeriodName'],
                                                       'schoolId': p['schoolReference']['schoolId']}}
                             for p in periods],
        }
        r = self.api.post(DATA + '/bellSchedules', doc)
        m = msg('schoolId', h.HIGH_SCHOOL, h.MIDDLE_SCHOOL)
        self.assertValidationFailed(r, keys=['$.classPeriods[*].classPeriodReference.schoolId',
                                             '$.schoolReference.schoolId'])
        self.assertEqual(r.json['validationErrors']['$.classPeriods[*].classPeriodReference.schoolId'], [m])
        self.assertEqual(r.json['validationErrors']['$.schoolReference.schoolId'], [m])

    def test_course_offering_session_school(self):
        sess = F.session(school_id=h.MIDDLE_SCHOOL)
        self.api.create('sessions', sess)
        crs = F.course(edorg_id=h.HIGH_SCHOOL)
        self.api.create('courses', crs)
        doc = F.course_offering(h.uid('LCC'), sess['sessionName'], crs['courseCode'], school_id=h.HIGH_SCHOOL)
        doc['sessionReference']['schoolId'] = h.MIDDLE_SCHOOL
        r = self.api.post(DATA + '/courseOfferings', doc)
        self.assertValidationFailed(r, keys=['$.schoolReference.schoolId', '$.sessionReference.schoolId'])
        self.assertEqual(r.json['validationErrors']['$.schoolReference.schoolId'],
                         [msg('schoolId', h.HIGH_SCHOOL, h.MIDDLE_SCHOOL)])

    def test_put_checks_equality_too(self):
        doc = self.ssa()
        ssa_id = self.api.create('studentSchoolAssociations', doc)
        body = self.api.read('studentSchoolAssociations', ssa_id)
        body['calendarReference'] = {'calendarCode': self.cal['calendarCode'], 'schoolId': h.MIDDLE_SCHOOL,
                                     'schoolYear': 2025}
        r = self.api.put(DATA + '/studentSchoolAssociations/' + ssa_id, body)
        self.assertValidationFailed(r, keys=['$.calendarReference.schoolId', '$.schoolReference.schoolId'])


_day = iter(range(1, 10000))


if __name__ == '__main__':
    unittest.main()
