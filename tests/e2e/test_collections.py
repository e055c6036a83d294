"""Collection item uniqueness with ordinal wording (api-behavior §5.8) and collection round trips."""

import unittest

import fixtures as F
import harness as h

DATA = h.DATA

GRADES = ['Adult Education', 'Early Education', 'Eighth grade', 'Eleventh grade', 'Fifth grade', 'First grade',
          'Fourth grade', 'Grade 13', 'Infant/toddler', 'Kindergarten', 'Ninth grade', 'No grade level', 'Other',
          'Out of School', 'Postsecondary', 'Prekindergarten', 'Preschool', 'Preschool/Prekindergarten',
          'Second grade', 'Seventh grade', 'Sixth grade', 'Tenth grade', 'Third grade', 'Transitional Kindergarten',
          'Twelfth grade', 'Ungraded']


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


def grade(code):
    return {'gradeLevelDescriptor': h.descriptor('GradeLevel', code)}


def dup_msg(ordinal, array):
    return ('The %s item of the %s has the same identifying values as another item earlier in the list.'
            % (ordinal, array))


def address(**over):
    a = {'addressTypeDescriptor': h.descriptor('AddressType', 'Physical'), 'streetNumberName': '1 Main St',
         'city': 'Grand Bend', 'stateAbbreviationDescriptor': h.descriptor('StateAbbreviation', 'TX'),
         'postalCode': '78000'}
    a.update(over)
    return a


class Uniqueness(h.EdhubTestCase):

    def school_with(self, grades):
        return self.api.post(DATA + '/schools', F.school(gradeLevels=[grade(g) for g in grades]))

    def assertDup(self, r, key, message):
        self.assertValidationFailed(r, keys=[key])
        self.assertEqual(r.json['validationErrors'][key], [message], repr(r))

    def test_third_item_duplicate(self):
        r = self.school_with(['Ninth grade', 'Tenth grade', 'Ninth grade'])
        self.assertDup(r, '$.gradeLevels', dup_msg('3rd', 'gradeLevels'))

    def test_second_item_duplicate_case_insensitive_descriptor(self):
        r = self.api.post(DATA + '/schools', F.school(gradeLevels=[
            grade('Ninth grade'), {'gradeLevelDescriptor': 'URI://ED-FI.ORG/GRADELEVELDESCRIPTOR#NINTH GRADE'}]))
        self.assertDup(r, '$.gradeLevels', dup_msg('2nd', 'gradeLevels'))

    def test_first_duplicate_is_named(self):
        r = self.school_with(['Ninth grade', 'Tenth grade', 'Ninth grade', 'Tenth grade'])
        self.assertDup(r, '$.gradeLevels', dup_msg('3rd', 'gradeLevels'))

    def test_ordinals(self):
        for position, ordinal in ((4, '4th'), (11, '11th'), (12, '12th'), (13, '13th'), (21, '21st'),
                                  (22, '22nd'), (23, '23rd'), (24, '24th')):
            with self.subTest(position=position):
                grades = GRADES[:position - 1] + [GRADES[0]]
                self.assertDup(self.school_with(grades), '$.gradeLevels', dup_msg(ordinal, 'gradeLevels'))

    def test_distinct_items_accepted_in_order(self):
        grades = ['Twelfth grade', 'Ninth grade', 'Eleventh grade', 'Tenth grade']
        r = self.school_with(grades)
        self.assertStatus(r, 201)
        body = self.api.read('schools', r.location_id)
        self.assertEqual(body['gradeLevels'], [grade(g) for g in grades])

    def test_duplicate_references(self):
        names = []
        for _ in range(3):
            cp = F.class_period()
            self.api.create('classPeriods', cp)
            names.append(cp['classPeriodName'])
        r = self.api.post(DATA + '/bellSchedules', F.bell_schedule(h.uid('Bell '), names + [names[0]]))
        self.assertDup(r, '$.classPeriods', dup_msg('4th', 'classPeriods'))

    def test_duplicate_references_to_missing_targets_still_400(self):
        ghost = h.uid('Ghost ')
        r = self.api.post(DATA + '/bellSchedules', F.bell_schedule(h.uid('Bell '), [ghost, ghost]))
        self.assertDup(r, '$.classPeriods', dup_msg('2nd', 'classPeriods'))

    def test_identity_ignores_non_identifying_fields(self):
        r = self.api.post(DATA + '/schools', F.school(addresses=[address(apartmentRoomSuiteNumber='1'),
                                                                 address(apartmentRoomSuiteNumber='2')]))
        self.assertDup(r, '$.addresses', dup_msg('2nd', 'addresses'))

    def test_differing_identity_field_accepted(self):
        r = self.api.post(DATA + '/schools', F.school(addresses=[address(), address(city='Austin')]))
        self.assertStatus(r, 201)
        body = self.api.read('schools', r.location_id)
        self.assertEqual([a['city'] for a in body['addresses']], ['Grand Bend', 'Austin'])

    def test_nested_arrays_checked_per_parent(self):
        periods = [{'beginDate': '2020-01-01'}]
        r = self.api.post(DATA + '/schools', F.school(addresses=[address(periods=periods),
                                                                 address(city='Austin', periods=periods)]))
        self.assertStatus(r, 201)

    def test_nested_duplicate(self):
        r = self.api.post(DATA + '/schools', F.school(addresses=[
            address(periods=[{'beginDate': '2020-01-01'}, {'beginDate': '2020-01-01', 'endDate': '2020-06-01'}])]))
        body = self.assertValidationFailed(r)
        keys = [k for k in body['validationErrors'] if 'periods' in k]
        self.assertEqual(len(keys), 1, repr(r))
        self.assertEqual(body['validationErrors'][keys[0]], [dup_msg('2nd', 'periods')])

    def test_put_duplicate(self):
        r = self.school_with(['Ninth grade'])
        self.assertStatus(r, 201)
        body = self.api.read('schools', r.location_id)
        body['gradeLevels'] = [grade('Ninth grade'), grade('Ninth grade')]
        r2 = self.api.put(DATA + '/schools/' + r.location_id, body)
        self.assertDup(r2, '$.gradeLevels', dup_msg('2nd', 'gradeLevels'))

    def test_child_collection_replaced_on_upsert(self):
        sch = F.school(gradeLevels=[grade('Ninth grade'), grade('Tenth grade')])
        sid = self.api.create('schools', sch)
        sch['gradeLevels'] = [grade('Eleventh grade')]
        r = self.api.post(DATA + '/schools', sch)
        self.assertStatus(r, 200)
        self.assertEqual(self.api.read('schools', sid)['gradeLevels'], [grade('Eleventh grade')])


if __name__ == '__main__':
    unittest.main()
