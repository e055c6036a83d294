"""`edhub load` of Ed-Fi XML interchanges (integration.md §7): the Grand Bend DS 5.2 sample plus its enrolment
supplement load with zero rejections and match the API afterwards; the DS 4.0 SEA starter kit is rejected record by
record; hostile and malformed XML is refused without a crash; --dry-run shows the mapped JSON; a re-run upserts."""

import json
import os
import subprocess
import tempfile
import unittest

import harness as h

SHARED = os.path.abspath(os.path.join(h.REPO, '..', 'shared', 'edfi', 'sample-data'))
if not os.path.isdir(SHARED):
    SHARED = '/work/shared/edfi/sample-data'
GB = os.path.join(SHARED, 'grand-bend-ds5.2', 'xml')
GB_SUPP = os.path.join(SHARED, 'grand-bend-ds5.2-supplement', 'xml')
SEA = os.path.join(SHARED, 'sea-starter-kit-ds4.0')
HAVE_SAMPLES = os.path.isdir(GB) and os.path.isdir(GB_SUPP)


def run(*args, timeout=900):
    p = subprocess.run([h.EDHUB] + list(args), capture_output=True, text=True, timeout=timeout, cwd=h.REPO)
    return p.returncode, p.stdout, p.stderr


def errors(data):
    path = os.path.join(data, 'load-errors.jsonl')
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


@unittest.skipUnless(HAVE_SAMPLES, 'the Ed-Fi sample data (../shared/edfi/sample-data) is not beside the repository')
class GrandBend(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server('loadxml')
        cls.srv.start()
        cls.srv.stop()
        cls.code, cls.out, cls.err = run('load', '--data', cls.srv.data, GB, GB_SUPP)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def test_zero_rejections(self):
        self.assertEqual(self.code, 0, self.err[-3000:])
        self.assertEqual(errors(self.srv.data), [])
        self.assertRegex(self.out, r'\d+ records: \d+ created, \d+ updated, 0 rejected')
        created = int(self.out.split(' created')[0].split()[-1])
        self.assertGreater(created, 30000, self.out)
        self.assertIn('ETA', self.err, 'a progress bar with rate and ETA')

    def test_documents_match_the_xml(self):
        self.srv.serve_again()
        try:
            api = self.srv.client()
            r = api.get(h.DATA + '/students?studentUniqueId=604821')
            self.assertEqual(r.status, 200)
            s = r.json[0]
            self.assertEqual((s['firstName'], s['lastSurname'], s['birthDate'], s.get('preferredFirstName')),
                             ('Tyrone', 'Dyer', '2014-11-13', 'Ty'), 'inline commons are flattened')
            r = api.get(h.DATA + '/sections?sectionIdentifier=25590100102Trad220ALG112011')
            sec = r.json[0]
            nolink = lambda ref: {k: v for k, v in ref.items() if k != 'link'}
            self.assertEqual(nolink(sec['courseOfferingReference']), {'localCourseCode': 'ALG-1', 'schoolId': 255901001,
                                                              'schoolYear': 2022,
                                                              'sessionName': '2021-2022 Fall Semester'},
                             'nested identities flatten into one reference; SchoolYear 2021-2022 becomes 2022')
            self.assertEqual(sec['classPeriods'][0]['classPeriodReference']['classPeriodName'], '02 - Traditional')
            self.assertEqual(sec['availableCredits'], 1.0, 'a role-named common (AvailableCredits) is flattened')
            r = api.get(h.DATA + '/schools?schoolId=255901001')
            self.assertEqual(nolink(r.json[0]['localEducationAgencyReference']), {'localEducationAgencyId': 255901},
                             'ref="LEAG_255901" resolves to the referenced element of the same file')
            for ep, least in (('studentSchoolAttendanceEvents', 1000), ('studentSectionAssociations', 10000),
                              ('studentSchoolAssociations', 500), ('contacts', 500), ('assessments', 5)):
                r = api.get(h.DATA + '/%s?limit=1&totalCount=true' % ep)
                self.assertGreaterEqual(int(r.headers['Total-Count']), least, ep)
        finally:
            self.assertEqual(self.srv.stop(), 0)

    def test_zz_rerun_upserts_without_duplicates(self):
        code, out, err = run('load', '--data', self.srv.data, GB_SUPP)
        self.assertEqual(code, 0, err[-2000:])
        self.assertRegex(out, r': 0 created, \d+ updated, 0 rejected')


@unittest.skipUnless(os.path.isdir(SEA), 'the SEA starter kit is not beside the repository')
class OtherDataStandard(unittest.TestCase):

    def test_ds4_files_are_rejected_record_by_record(self):
        srv = h.Server('loadds4')
        srv.start()
        srv.stop()
        try:
            code, out, err = run('load', '--data', srv.data, SEA)
            self.assertEqual(code, 1)
            errs = errors(srv.data)
            self.assertGreater(len(errs), 1000)
            self.assertTrue(all('Data Standard 4.0.0-a' in e['detail'] for e in errs if e['file'].endswith('.xml')))
            self.assertTrue(all(e['line'] > 0 for e in errs))
            self.assertRegex(out, r'0 created, 0 updated')
        finally:
            srv.cleanup()


class HostileXml(unittest.TestCase):
    """Malformed and hostile files: a clear error per file or record, nothing written, no crash."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server('loadbad')
        cls.srv.start()
        cls.srv.stop()
        cls.dir = tempfile.mkdtemp(dir=cls.srv.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def load(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        code, out, err = run('load', '--data', self.srv.data, path, timeout=120)
        return code, out, err, errors(self.srv.data)

    def test_entities_are_refused(self):
        bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaaaaaaaa">' +
                ''.join('<!ENTITY %s "%s">' % (chr(98 + i), ('&%s;' % chr(97 + i)) * 10) for i in range(8)) +
                ']><InterchangeStudent xmlns="http://ed-fi.org/5.2.0"><Student><StudentUniqueId>&i;</StudentUniqueId>'
                '</Student></InterchangeStudent>')
        code, out, err, errs = self.load('bomb.xml', bomb)
        self.assertEqual(code, 1)
        self.assertTrue(any('DTD' in e['detail'] or 'entity' in e['detail'] for e in errs), errs)
        self.assertIn('0 created', out)
        small = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "x1">]><InterchangeStudent><Student>'
                 '<StudentUniqueId>&a;</StudentUniqueId></Student></InterchangeStudent>')
        code, out, err, errs = self.load('dtd.xml', small)
        self.assertEqual(code, 1)
        self.assertTrue(any('DTDs and entities are not allowed' in e['detail'] for e in errs), errs)

    def test_malformed_and_deep_and_unknown(self):
        code, out, err, errs = self.load('broken.xml', '<InterchangeStudent><Student><StudentUniqueId>1</Student>')
        self.assertEqual(code, 1)
        self.assertTrue(any('malformed XML' in e['detail'] for e in errs), errs)
        deep = '<InterchangeStudent><Student>' + '<Name>' * 300 + '</Name>' * 300 + '</Student></InterchangeStudent>'
        code, out, err, errs = self.load('deep.xml', deep)
        self.assertEqual(code, 1)
        code, out, err, errs = self.load('other.xml', '<Students><Student/></Students>')
        self.assertEqual(code, 1)
        self.assertTrue(any('not an Ed-Fi interchange' in e['detail'] for e in errs), errs)
        code, out, err, errs = self.load('unknown.xml', '<InterchangeStudent><Pupil><Id>1</Id></Pupil>'
                                                       '<Student><StudentUniqueId>x1</StudentUniqueId><Shoe>9</Shoe>'
                                                       '</Student></InterchangeStudent>')
        self.assertEqual(code, 1)
        details = ' | '.join(e['detail'] for e in errs)
        self.assertIn('<Pupil> is not a resource', details)
        self.assertIn('element <Shoe> has no counterpart in Student', details)
        self.assertIn('line 1', details)

    def test_dry_run_prints_loadable_json_lines(self):
        path = os.path.join(self.dir, 'one.xml')
        with open(path, 'w') as f:
            f.write('<InterchangeStudent xmlns="http://ed-fi.org/5.2.0"><Student><StudentUniqueId>dry-1</StudentUniqueId>'
                    '<Name><FirstName>A</FirstName><LastSurname>B</LastSurname></Name>'
                    '<BirthData><BirthDate>2010-01-02</BirthDate></BirthData></Student></InterchangeStudent>')
        code, out, err = run('load', '--data', self.srv.data, '--dry-run', path)
        self.assertEqual(code, 0, err)
        rec = json.loads(out.strip().splitlines()[0])
        self.assertEqual(rec, {'resource': '/ed-fi/students', 'document': {
            'studentUniqueId': 'dry-1', 'firstName': 'A', 'lastSurname': 'B', 'birthDate': '2010-01-02'}})
        jl = os.path.join(self.dir, 'one.jsonl')
        with open(jl, 'w') as f:
            f.write(out)
        code, out, err = run('load', '--data', self.srv.data, jl)
        self.assertEqual(code, 0, err)
        self.assertIn('1 created', out)


if __name__ == '__main__':
    unittest.main()
