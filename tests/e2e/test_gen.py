"""`edhub gen`: a small synthetic state (400 students, 20 days) in JSON lines and in XML loads into a fresh instance
with zero rejections; the API then holds exactly what the generator's summary says; special education covers 13-15% of
students, all aged 3-21 at the program's begin date; every enrolled student has a StudentEducationOrganization-
Association; attendance holds only exceptions at a realistic rate; the XML maps back to the same documents as the JSON
lines; the same seed gives the same bytes and another seed other data; bad options exit 2 with a message."""

import collections
import datetime
import filecmp
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness as h

STUDENTS, DAYS, SEED = 400, 20, 11
TMP = None


def run(*args, timeout=900):
    p = subprocess.run([h.EDHUB] + list(args), capture_output=True, text=True, timeout=timeout, cwd=h.REPO)
    return p.returncode, p.stdout, p.stderr


def gen(out, fmt='jsonl', students=STUDENTS, days=DAYS, seed=SEED, *extra):
    code, stdout, err = run('gen', '--students', str(students), '--days', str(days), '--seed', str(seed),
                            '--format', fmt, '--out', out, *extra)
    if code != 0 or 'Sanitizer' in err or 'runtime error:' in err:
        raise AssertionError('edhub gen exited %d: %s' % (code, err[-2000:]))
    with open(os.path.join(out, 'gen-summary.json')) as f:
        return json.load(f), stdout, err


def errors(data):
    path = os.path.join(data, 'load-errors.jsonl')
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


def total(api, resource, query=''):
    r = api.get('/data/v3%s?limit=1&totalCount=true%s' % (resource, query))
    assert r.status == 200, r
    return int(r.headers['Total-Count'])


def fetch_all(api, endpoint):
    out, offset = [], 0
    while True:
        r = api.get('%s/%s?limit=500&offset=%d' % (h.DATA, endpoint, offset))
        assert r.status == 200, r
        out += r.json
        if len(r.json) < 500:
            return out
        offset += 500


def age_on(birth, day):
    b, d = datetime.date.fromisoformat(birth), datetime.date.fromisoformat(day)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix='edhub-e2e-gen-')


def tearDownModule():
    if TMP and not h.KEEP:
        shutil.rmtree(TMP, ignore_errors=True)


class Loaded:
    """Generates the state in FORMAT, loads it into a fresh instance (counting what the bootstrap already holds
    first), and serves it for the API checks."""
    FORMAT = 'jsonl'

    @classmethod
    def setUpClass(cls):
        cls.out = os.path.join(TMP, cls.FORMAT)
        cls.summary, cls.gen_out, cls.gen_err = gen(cls.out, cls.FORMAT)
        cls.srv = h.Server('gen' + cls.FORMAT)
        cls.srv.start()
        try:
            api = cls.srv.client()
            cls.before = {res: total(api, res) for res in cls.summary['resources']}
        finally:
            cls.srv.stop()
        cls.code, cls.load_out, cls.load_err = run('load', '--data', cls.srv.data, cls.out)
        cls.srv.serve_again()
        cls.api = cls.srv.client()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        report = cls.srv.sanitizer_report()
        cls.srv.cleanup()
        assert code == 0 and not report, 'server exit %s\n%s' % (code, report or '')

    def test_zero_rejections(self):
        self.assertEqual(self.code, 0, self.load_err[-3000:])
        self.assertEqual(errors(self.srv.data), [])
        self.assertIn('%d created, 0 updated, 0 rejected' % self.summary['records'], self.load_out)

    def test_the_api_holds_what_the_summary_says(self):
        self.assertEqual(len(self.summary['resources']), 25)
        for res, info in self.summary['resources'].items():
            self.assertEqual(total(self.api, res) - self.before[res], info['records'], res)
        self.assertEqual(self.summary['resources']['/ed-fi/students']['records'], STUDENTS)
        self.assertIn('edhub gen: %d records' % self.summary['records'], self.gen_out)

    def test_special_education_share_and_ages(self):
        students = {s['studentUniqueId']: s for s in fetch_all(self.api, 'students')
                    if s['studentUniqueId'].startswith('1')}
        sped = fetch_all(self.api, 'studentSpecialEducationProgramAssociations')
        share = len(sped) / len(students)
        self.assertTrue(0.13 - 0.02 <= share <= 0.15 + 0.02, share)
        ages = [age_on(students[a['studentReference']['studentUniqueId']]['birthDate'], a['beginDate']) for a in sped]
        self.assertTrue(all(3 <= x <= 21 for x in ages), collections.Counter(ages))
        self.assertTrue(any(x <= 5 for x in ages), 'some preschoolers (3-5)')
        self.assertTrue(any(x >= 18 for x in ages), 'some 18-21 year olds')
        self.assertTrue(all(a['disabilities'] and a['specialEducationSettingDescriptor'] for a in sped))

    def test_every_enrolled_student_has_a_student_edorg_association(self):
        enrolled = {a['studentReference']['studentUniqueId'] for a in fetch_all(self.api, 'studentSchoolAssociations')
                    if a['schoolReference']['schoolId'] >= 1000000}
        seoa = {a['studentReference']['studentUniqueId']
                for a in fetch_all(self.api, 'studentEducationOrganizationAssociations')}
        self.assertEqual(len(enrolled), STUDENTS)
        self.assertEqual(enrolled - seoa, set())

    def test_attendance_holds_exceptions_at_a_realistic_rate(self):
        events = self.summary['resources']['/ed-fi/studentSchoolAttendanceEvents']['records']
        self.assertTrue(0.03 <= events / (STUDENTS * DAYS) <= 0.12, events)
        self.assertEqual(total(self.api, '/ed-fi/studentSchoolAttendanceEvents',
                               '&attendanceEventCategoryDescriptor=' +
                               'uri://ed-fi.org/AttendanceEventCategoryDescriptor%23In%20Attendance'), 0)


class GeneratedJsonLines(Loaded, unittest.TestCase):
    FORMAT = 'jsonl'

    def test_files_sort_into_dependency_order(self):
        files = sorted(f for f in os.listdir(self.out) if f.endswith('.jsonl'))
        order = [f.split('-', 1)[1][:-6] for f in files]
        self.assertLess(order.index('schools'), order.index('studentSchoolAssociations'))
        self.assertLess(order.index('studentDisciplineIncidentBehaviorAssociations'), order.index('disciplineActions'))
        self.assertLess(order.index('sections'), order.index('studentSectionAssociations'))


class GeneratedXml(Loaded, unittest.TestCase):
    FORMAT = 'xml'

    def test_xml_maps_to_the_same_documents_as_the_json_lines(self):
        jl = os.path.join(TMP, 'jsonl-same-seed')
        gen(jl, 'jsonl')
        code, out, err = run('load', '--data', self.srv.data, '--dry-run', self.out)
        self.assertEqual(code, 0, err[-2000:])
        mapped = collections.Counter(json.dumps(json.loads(l), sort_keys=True) for l in out.splitlines())
        lines = collections.Counter()
        for f in os.listdir(jl):
            if f.endswith('.jsonl'):
                for l in open(os.path.join(jl, f)):
                    lines[json.dumps(json.loads(l), sort_keys=True)] += 1
        self.assertEqual(sum(mapped.values()), self.summary['records'])
        self.assertTrue(mapped == lines, 'first differences: %s / %s' % (list(mapped - lines)[:1], list(lines - mapped)[:1]))

    def test_interchange_files(self):
        files = sorted(f for f in os.listdir(self.out) if f.endswith('.xml'))
        self.assertEqual(len(files), 25)
        with open(os.path.join(self.out, [f for f in files if 'studentSchoolAssociations' in f][0])) as f:
            head = f.read(300)
        self.assertIn('<InterchangeStudentEnrollment xmlns="http://ed-fi.org/5.2.0">', head)
        self.assertIn('<SchoolYear>2025-2026</SchoolYear>', open(os.path.join(self.out, files[-1])).read(3000))


class Determinism(unittest.TestCase):

    def same(self, a, b):
        cmp = filecmp.dircmp(a, b)
        self.assertEqual((cmp.left_only, cmp.right_only), ([], []))
        match, mismatch, errs = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
        return mismatch

    def test_same_seed_same_bytes(self):
        for fmt in ('jsonl', 'xml'):
            a, b = os.path.join(TMP, 'det-a-' + fmt), os.path.join(TMP, 'det-b-' + fmt)
            gen(a, fmt, 300, 10, 99)
            gen(b, fmt, 300, 10, 99)
            self.assertEqual(self.same(a, b), [], fmt)

    def test_other_seed_other_data(self):
        a, b = os.path.join(TMP, 'seed-1'), os.path.join(TMP, 'seed-2')
        gen(a, 'jsonl', 300, 10, 1)
        gen(b, 'jsonl', 300, 10, 2)
        self.assertIn('03-students.jsonl', self.same(a, b))

    def test_a_rerun_replaces_an_earlier_output(self):
        d = os.path.join(TMP, 'rerun')
        gen(d, 'jsonl', 50, 5, 1)
        gen(d, 'xml', 50, 5, 1)
        self.assertEqual([f for f in os.listdir(d) if f.endswith('.jsonl')], [], 'no stale JSON lines left')

    def test_attendance_all_has_an_event_for_every_enrolled_day(self):
        d = os.path.join(TMP, 'all')
        summary, _, _ = gen(d, 'jsonl', 60, 10, 3, '--attendance', 'all')
        events = summary['resources']['/ed-fi/studentSchoolAttendanceEvents']['records']
        self.assertTrue(60 * 10 * 0.9 <= events <= 60 * 10, events)
        text = open(os.path.join(d, summary['resources']['/ed-fi/studentSchoolAttendanceEvents']['file'])).read()
        self.assertIn('AttendanceEventCategoryDescriptor#In Attendance', text)


class BadOptions(unittest.TestCase):

    def expect2(self, *args, says):
        code, out, err = run('gen', *args, timeout=60)
        self.assertEqual(code, 2, (args, out, err))
        self.assertIn(says, err, args)

    def test_bad_options_exit_2_with_a_message(self):
        d = os.path.join(TMP, 'bad')
        self.expect2('--students', '0', '--out', d, says='--students needs a number')
        self.expect2('--students', 'ten', '--out', d, says='--students needs a number')
        self.expect2('--students', '10', says='--out DIR is required')
        self.expect2('--students', '10', '--out', d, '--format', 'csv', says="unknown --format 'csv'")
        self.expect2('--students', '10', '--out', d, '--days', '1', says='--days needs a number')
        self.expect2('--students', '10', '--out', d, '--seed', '-4', says='--seed needs')
        self.expect2('--students', '10', '--out', d, '--attendance', 'some', says="unknown --attendance 'some'")
        self.expect2('--students', '10', '--out', d, '--frobnicate', says="unknown option '--frobnicate'")
        afile = os.path.join(TMP, 'a-file')
        open(afile, 'w').close()
        self.expect2('--students', '10', '--out', os.path.join(afile, 'sub'), says='cannot create')
        self.expect2('--students', '10', '--out', afile, says='is not a directory')
        self.expect2('--students', '10', '--out', h.HERE, says='is not empty')
        self.assertFalse(os.path.exists(d), 'nothing written on bad options')

    def test_help(self):
        code, out, err = run('gen', '--help')
        self.assertEqual(code, 0)
        self.assertIn('usage: edhub gen --students N --out DIR', out)
        code, out, err = run('--help')
        self.assertIn('  gen ', out)


if __name__ == '__main__':
    unittest.main()
