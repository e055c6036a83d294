"""GET-many: offset/limit paging, totalCount, query filters (api-behavior §4.5) and cursor paging with
pageToken/pageSize, Next-Page-Token and /partitions (integration.md §1.3)."""

import unittest
import urllib.parse

import fixtures as F
import harness as h

DATA = h.DATA
PVF = 'urn:ed-fi:api:bad-request:parameter-validation-failed'
DVF = 'urn:ed-fi:api:bad-request:data-validation-failed'
N = 30
_DATA = None


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


def q(**params):
    return urllib.parse.urlencode(params)


class Data(h.EdhubTestCase):
    """30 students sharing one lastSurname tag, created in a known order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        global _DATA
        if _DATA is None or _DATA[0] is not cls.server:
            tag = h.uid('Tag')
            docs, ids = [], []
            for i in range(N):
                d = F.student('%s-%02d' % (tag, i), lastSurname=tag, firstName='F%d' % i,
                              birthDate='2010-01-%02d' % (i % 3 + 1), multipleBirthStatus=(i % 2 == 0),
                              birthSexDescriptor=h.descriptor('Sex', 'Female' if i % 3 == 0 else 'Male'))
                docs.append(d)
                ids.append(cls.api.create('students', d))
            _DATA = (cls.server, tag, docs, ids)
        _, cls.tag, cls.docs, cls.ids = _DATA

    def get(self, query):
        return self.api.get('%s/students?%s' % (DATA, query))

    def uids(self, r):
        self.assertStatus(r, 200)
        self.assertIsInstance(r.json, list, repr(r))
        return [d['studentUniqueId'] for d in r.json]

    def expect(self, pred):
        return [d['studentUniqueId'] for i, d in enumerate(self.docs) if pred(i)]


class OffsetLimit(Data):

    def test_insertion_order(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag))), self.expect(lambda i: True))

    def test_order_kept_after_update(self):
        tag = h.uid('Ord')
        docs = [F.student(lastSurname=tag, firstName='N%d' % i) for i in range(4)]
        for d in docs:
            self.api.create('students', d)
        docs[0]['firstName'] = 'Updated'
        self.assertStatus(self.api.post(DATA + '/students', docs[0]), 200)
        got = self.uids(self.get(q(lastSurname=tag)))
        self.assertEqual(got, [d['studentUniqueId'] for d in docs])

    def test_limit(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, limit=10))), self.expect(lambda i: i < 10))

    def test_offset_and_limit(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, offset=10, limit=10))),
                         self.expect(lambda i: 10 <= i < 20))

    def test_last_partial_page(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, offset=25, limit=10))),
                         self.expect(lambda i: i >= 25))

    def test_offset_past_end(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, offset=100))), [])

    def test_limit_zero(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, limit=0))), [])

    def test_limit_500_allowed(self):
        self.assertEqual(len(self.uids(self.get(q(lastSurname=self.tag, limit=500)))), N)

    def test_pages_cover_everything_once(self):
        seen = []
        for off in range(0, N + 7, 7):
            seen += self.uids(self.get(q(lastSurname=self.tag, offset=off, limit=7)))
        self.assertEqual(seen, self.expect(lambda i: True))

    def test_default_limit_is_500(self):
        r = self.api.get(DATA + '/tribalAffiliationDescriptors')
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json), 500)
        r2 = self.api.get(DATA + '/tribalAffiliationDescriptors?offset=500')
        self.assertEqual(len(r2.json), 120)
        self.assertEqual(len(set(d['id'] for d in r.json) | set(d['id'] for d in r2.json)), 620)

    def test_empty_collection(self):
        r = self.api.get(DATA + '/students?' + q(lastSurname='NoSuchSurname' + h.uid()))
        self.assertStatus(r, 200)
        self.assertEqual(r.json, [])


class TotalCount(Data):

    def test_header_counts_all_matches(self):
        r = self.get(q(lastSurname=self.tag, limit=5, totalCount='true'))
        self.assertEqual(len(self.uids(r)), 5)
        self.assertEqual(r.headers.get('Total-Count'), str(N))

    def test_header_with_offset_past_end(self):
        r = self.get(q(lastSurname=self.tag, offset=1000, totalCount='true'))
        self.assertEqual(r.headers.get('Total-Count'), str(N))

    def test_no_header_when_false_or_absent(self):
        for query in (q(lastSurname=self.tag, totalCount='false'), q(lastSurname=self.tag)):
            with self.subTest(query=query):
                r = self.get(query)
                self.assertStatus(r, 200)
                self.assertNotIn('Total-Count', r.headers)

    def test_value_any_case(self):
        r = self.get(q(lastSurname=self.tag, totalCount='True'))
        self.assertEqual(r.headers.get('Total-Count'), str(N))

    def test_zero(self):
        r = self.get(q(lastSurname='None' + h.uid(), totalCount='true'))
        self.assertEqual(r.headers.get('Total-Count'), '0')


class PagingErrors(Data):

    def assertParam(self, r, texts):
        body = self.assertProblem(r, 400, PVF, title='Parameter Validation Failed',
                                  detail='Parameters supplied to the request were invalid.')
        self.assertTrue(any(e in texts for e in body['errors']), 'errors %r not in %r' % (body['errors'], texts))

    LIMIT = ('Limit must be omitted or set to a numeric value between 0 and 500.',
             'Limit must be a value between 0 and 500.')
    OFFSET = ('Offset must be a numeric value greater than or equal to 0.', 'Offset cannot be a negative value.')

    def test_limit_too_big(self):
        self.assertParam(self.get(q(limit=501)), self.LIMIT)

    def test_limit_negative(self):
        self.assertParam(self.get(q(limit=-1)), self.LIMIT)

    def test_limit_not_a_number(self):
        for v in ('abc', '1.5', '', '99999999999999999999999'):
            with self.subTest(limit=v):
                self.assertParam(self.get(q(limit=v)), self.LIMIT)

    def test_offset_negative(self):
        self.assertParam(self.get(q(offset=-1)), self.OFFSET)

    def test_offset_not_a_number(self):
        for v in ('abc', '1e3', ''):
            with self.subTest(offset=v):
                self.assertParam(self.get(q(offset=v)), self.OFFSET)

    def test_total_count_not_boolean(self):
        self.assertParam(self.get(q(totalCount='maybe')), ('TotalCount must be a boolean value.',))


class Filters(Data):

    def test_parameter_names_case_insensitive(self):
        self.assertEqual(self.uids(self.get('LASTSURNAME=%s&LiMiT=2&OfFsEt=1' % self.tag)),
                         self.expect(lambda i: 1 <= i < 3))

    def test_string_exact_match(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, firstName='F1'))), self.expect(lambda i: i == 1))

    def test_string_value_case_sensitive_identity(self):
        self.assertEqual(self.uids(self.get(q(studentUniqueId=self.docs[3]['studentUniqueId']))),
                         [self.docs[3]['studentUniqueId']])

    def test_date(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, birthDate='2010-01-02'))),
                         self.expect(lambda i: i % 3 == 1))

    def test_date_ignores_time(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, birthDate='2010-01-02T17:30:00.000000Z'))),
                         self.expect(lambda i: i % 3 == 1))

    def test_date_invalid(self):
        r = self.get(q(lastSurname=self.tag, birthDate='word'))
        self.assertProblem(r, 400, DVF, validation={'$.birthDate': ["The value 'word' is not valid for birthDate."]})

    def test_boolean(self):
        for v in ('true', 'TRUE', 'True'):
            with self.subTest(value=v):
                self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, multipleBirthStatus=v))),
                                 self.expect(lambda i: i % 2 == 0))
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, multipleBirthStatus='false'))),
                         self.expect(lambda i: i % 2 == 1))

    def test_boolean_invalid(self):
        r = self.get(q(lastSurname=self.tag, multipleBirthStatus='yes'))
        self.assertProblem(r, 400, DVF, validation_keys=['$.multipleBirthStatus'])

    def test_descriptor_case_insensitive(self):
        for v in ('uri://ed-fi.org/SexDescriptor#Female', 'URI://ED-FI.ORG/SEXDESCRIPTOR#FEMALE'):
            with self.subTest(value=v):
                self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, birthSexDescriptor=v))),
                                 self.expect(lambda i: i % 3 == 0))

    def test_several_filters_anded(self):
        self.assertEqual(self.uids(self.get(q(lastSurname=self.tag, birthDate='2010-01-01',
                                              multipleBirthStatus='true'))),
                         self.expect(lambda i: i % 3 == 0 and i % 2 == 0))

    def test_id(self):
        r = self.get(q(id=self.ids[7]))
        self.assertEqual(self.uids(r), [self.docs[7]['studentUniqueId']])

    def test_filter_with_paging_and_count(self):
        r = self.get(q(lastSurname=self.tag, multipleBirthStatus='true', offset=2, limit=3, totalCount='true'))
        self.assertEqual(self.uids(r), self.expect(lambda i: i % 2 == 0)[2:5])
        self.assertEqual(r.headers.get('Total-Count'), str(N // 2))

    def test_unknown_parameter(self):
        r = self.get(q(lastSurname=self.tag, foo='bar'))
        self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request',
                           errors=["The query field 'foo' is not valid for this resource."])

    def test_field_of_other_resource(self):
        r = self.get(q(schoolId=h.HIGH_SCHOOL))
        self.assertProblem(r, 400, 'urn:ed-fi:api:bad-request',
                           errors=["The query field 'schoolId' is not valid for this resource."])

    def test_encoded_values(self):
        tag = h.uid('Van Buren ')
        self.api.create('students', F.student(lastSurname=tag))
        self.assertEqual(len(self.api.get(DATA + '/students?lastSurname=' + urllib.parse.quote(tag)).json), 1)
        self.assertEqual(len(self.api.get(DATA + '/students?lastSurname=' + urllib.parse.quote_plus(tag)).json), 1)


class TypedFilters(h.EdhubTestCase):

    def test_number_and_reference_fields(self):
        sess = F.session(school_id=h.MIDDLE_SCHOOL, totalInstructionalDays=77)
        sid = self.api.create('sessions', sess)
        for query in ({'schoolId': h.MIDDLE_SCHOOL, 'sessionName': sess['sessionName']},
                      {'totalInstructionalDays': '77', 'sessionName': sess['sessionName']},
                      {'totalInstructionalDays': '77.0', 'sessionName': sess['sessionName']},
                      {'schoolYear': 2025, 'sessionName': sess['sessionName']},
                      {'termDescriptor': h.descriptor('Term', 'Fall Semester'), 'sessionName': sess['sessionName']}):
            with self.subTest(query=query):
                self.assertEqual([d['id'] for d in self.api.query('sessions', query)], [sid])
        self.assertEqual(self.api.query('sessions', {'schoolId': h.HIGH_SCHOOL, 'sessionName': sess['sessionName']}),
                         [])

    def test_number_invalid(self):
        r = self.api.get(DATA + '/sessions?schoolId=abc')
        self.assertProblem(r, 400, DVF, validation_keys=['$.schoolId'])

    def test_role_named_reference(self):
        s = F.student()
        self.api.create('students', s)
        ssa_id = self.api.create('studentSchoolAssociations',
                                 F.ssa(s['studentUniqueId'], nextYearSchoolReference={'schoolId': h.MIDDLE_SCHOOL}))
        suid = s['studentUniqueId']
        self.assertEqual([d['id'] for d in self.api.query('studentSchoolAssociations',
                                                          {'studentUniqueId': suid, 'schoolId': h.HIGH_SCHOOL})],
                         [ssa_id])
        self.assertEqual(self.api.query('studentSchoolAssociations', {'studentUniqueId': suid,
                                                                      'schoolId': h.MIDDLE_SCHOOL}), [])
        self.assertEqual([d['id'] for d in self.api.query('studentSchoolAssociations',
                                                          {'studentUniqueId': suid, 'nextYearSchoolId': h.MIDDLE_SCHOOL})],
                         [ssa_id])

    def test_time(self):
        name = h.uid('Bell ')
        cp = F.class_period()
        self.api.create('classPeriods', cp)
        bid = self.api.create('bellSchedules', F.bell_schedule(name, [cp['classPeriodName']], startTime='08:00:00',
                                                                  endTime='15:30:00'))
        self.assertEqual([d['id'] for d in self.api.query('bellSchedules', {'bellScheduleName': name,
                                                                            'startTime': '08:00:00'})], [bid])
        self.assertEqual(self.api.query('bellSchedules', {'bellScheduleName': name, 'startTime': '09:00:00'}), [])
        r = self.api.get(DATA + '/bellSchedules?startTime=8am')
        self.assertProblem(r, 400, DVF, validation_keys=['$.startTime'])

    def test_date_time(self):
        a = F.assessment()
        self.api.create('assessments', a)
        s = F.student()
        self.api.create('students', s)
        sa_id = self.api.create('studentAssessments', F.student_assessment(
            s['studentUniqueId'], a['assessmentIdentifier'], administrationDate='2021-09-28T14:15:30Z'))
        for v in ('2021-09-28T14:15:30Z', '2021-09-28T09:15:30-05:00', '2021-09-28T14:15:30'):
            with self.subTest(value=v):
                self.assertEqual([d['id'] for d in self.api.query('studentAssessments', {
                    'studentUniqueId': s['studentUniqueId'], 'administrationDate': v})], [sa_id])
        self.assertEqual(self.api.query('studentAssessments', {'studentUniqueId': s['studentUniqueId'],
                                                               'administrationDate': '2021-09-28T14:15:31Z'}), [])
        # a date without a time means midnight UTC
        midnight = self.api.create('studentAssessments', F.student_assessment(
            s['studentUniqueId'], a['assessmentIdentifier'], administrationDate='2021-10-01T00:00:00Z'))
        self.assertEqual([d['id'] for d in self.api.query('studentAssessments', {
            'studentUniqueId': s['studentUniqueId'], 'administrationDate': '2021-10-01'})], [midnight])

    def test_descriptor_endpoint_filters(self):
        docs = self.api.query('gradeLevelDescriptors', {'namespace': 'uri://ed-fi.org/GradeLevelDescriptor',
                                                        'codeValue': 'Ninth grade'})
        self.assertEqual(len(docs), 1)
        self.assertEqual(docs[0]['shortDescription'], 'Ninth grade')


class _Cursor(h.EdhubTestCase):
    """tribalAffiliationDescriptors: 620 bootstrap documents, not written by this module."""

    EP = 'tribalAffiliationDescriptors'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a = cls.api.query(cls.EP, {'offset': 0, 'limit': 500})
        b = cls.api.query(cls.EP, {'offset': 500, 'limit': 500})
        cls.all_ids = [d['id'] for d in a + b]

    def follow(self, first_query, size, max_pages=2000):
        """GET pages following Next-Page-Token; returns (ids in order, page count)."""
        ids, pages = [], 0
        query = first_query
        while True:
            r = self.api.get('%s/%s?%s' % (DATA, self.EP, query))
            self.assertStatus(r, 200)
            self.assertIsInstance(r.json, list, repr(r))
            ids += [d['id'] for d in r.json]
            pages += 1
            token = r.headers.get('Next-Page-Token')
            if not token or not r.json:
                return ids, pages
            self.assertLess(pages, max_pages, 'Next-Page-Token never ends')
            query = q(pageToken=token, pageSize=size)



class CursorPaging(_Cursor):

    def test_visits_each_document_once(self):
        ids, pages = self.follow(q(pageSize=100), 100)
        self.assertEqual(len(ids), len(set(ids)), 'a document was returned twice')
        self.assertEqual(set(ids), set(self.all_ids))
        self.assertGreaterEqual(pages, 7)

    def test_page_size_respected(self):
        r = self.api.get('%s/%s?%s' % (DATA, self.EP, q(pageSize=37)))
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json), 37)
        self.assertTrue(r.headers.get('Next-Page-Token'), 'first page of 620 must have a Next-Page-Token')

    def test_uneven_page_size(self):
        ids, _ = self.follow(q(pageSize=73), 73)
        self.assertEqual(sorted(ids), sorted(self.all_ids))

    def test_with_filter(self):
        tag = h.uid('Cur')
        made = [self.api.create('students', F.student(lastSurname=tag)) for _ in range(12)]
        ids, token = [], None
        for _ in range(10):
            query = q(lastSurname=tag, pageSize=5) if token is None else q(lastSurname=tag, pageSize=5, pageToken=token)
            r = self.api.get('%s/students?%s' % (DATA, query))
            self.assertStatus(r, 200)
            ids += [d['id'] for d in r.json]
            token = r.headers.get('Next-Page-Token')
            if not token or not r.json:
                break
        self.assertEqual(ids, made)

    def test_offset_with_page_token(self):
        r = self.api.get('%s/%s?%s' % (DATA, self.EP, q(pageSize=10)))
        token = r.headers.get('Next-Page-Token')
        self.assertTrue(token)
        r = self.api.get('%s/%s?%s' % (DATA, self.EP, q(pageToken=token, offset=10)))
        self.assertProblem(r, 400)

    def test_limit_with_page_token(self):
        r = self.api.get('%s/%s?%s' % (DATA, self.EP, q(pageSize=10)))
        token = r.headers.get('Next-Page-Token')
        r = self.api.get('%s/%s?%s' % (DATA, self.EP, q(pageToken=token, limit=10)))
        self.assertProblem(r, 400)

    def test_total_count_with_page_token(self):
        r = self.api.get('%s/%s?%s' % (DATA, self.EP, q(pageSize=10)))
        token = r.headers.get('Next-Page-Token')
        r = self.api.get('%s/%s?%s' % (DATA, self.EP, q(pageToken=token, totalCount='true')))
        self.assertProblem(r, 400)

    def test_garbage_page_token(self):
        for token in ('garbage!!', 'not a token', '%00'):
            with self.subTest(token=token):
                r = self.api.get('%s/%s?pageToken=%s&pageSize=10' % (DATA, self.EP, urllib.parse.quote(token)))
                self.assertProblem(r, 400)

    def test_bad_page_size(self):
        for size in ('0', '-1', 'abc'):
            with self.subTest(pageSize=size):
                self.assertProblem(self.api.get('%s/%s?pageSize=%s' % (DATA, self.EP, size)), 400)


class Partitions(_Cursor):

    def partitions(self, number, endpoint=None):
        r = self.api.get('%s/%s/partitions?number=%s' % (DATA, endpoint or self.EP, number))
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, 'application/json')
        self.assertIsInstance(r.json, dict, repr(r))
        tokens = r.json.get('pageTokens')
        self.assertIsInstance(tokens, list, repr(r))
        return tokens

    def walk(self, tokens, size, endpoint=None):
        per = []
        for t in tokens:
            ids, token = [], t
            for _ in range(1000):
                r = self.api.get('%s/%s?%s' % (DATA, endpoint or self.EP, q(pageToken=token, pageSize=size)))
                self.assertStatus(r, 200)
                ids += [d['id'] for d in r.json]
                token = r.headers.get('Next-Page-Token')
                if not token or not r.json:
                    break
            per.append(ids)
        return per

    def assertCover(self, per, expected):
        flat = [i for p in per for i in p]
        self.assertEqual(len(flat), len(set(flat)), 'partitions overlap')
        self.assertEqual(set(flat), set(expected))

    def test_four_partitions(self):
        tokens = self.partitions(4)
        self.assertTrue(1 <= len(tokens) <= 4, tokens)
        self.assertCover(self.walk(tokens, 50), self.all_ids)

    def test_four_partitions_large_pages(self):
        tokens = self.partitions(4)
        self.assertCover(self.walk(tokens, 500), self.all_ids)

    def test_one_partition(self):
        tokens = self.partitions(1)
        self.assertEqual(len(tokens), 1)
        self.assertCover(self.walk(tokens, 100), self.all_ids)

    def test_many_partitions(self):
        tokens = self.partitions(50)
        self.assertTrue(1 <= len(tokens) <= 50, tokens)
        self.assertCover(self.walk(tokens, 500), self.all_ids)

    def test_more_partitions_than_documents(self):
        tokens = self.partitions(8, endpoint='educationServiceCenters')
        self.assertLessEqual(len(tokens), 8)
        every = [d['id'] for d in self.api.query('educationServiceCenters')]
        self.assertCover(self.walk(tokens, 10, endpoint='educationServiceCenters'), every)

    def test_empty_resource(self):
        tokens = self.partitions(3, endpoint='modelEntityDescriptors')
        self.assertCover(self.walk(tokens, 10, endpoint='modelEntityDescriptors'), [])

    def test_bad_number(self):
        for n in ('0', '-1', 'abc', ''):
            with self.subTest(number=n):
                self.assertProblem(self.api.get('%s/%s/partitions?number=%s' % (DATA, self.EP, n)), 400)


if __name__ == '__main__':
    unittest.main()
