"""`edhub publish`: what changed in one instance goes into another (Ed-Fi API Publisher, district -> state).

Real servers and real data directories: local -> local (both stopped), API -> API (two running edhub servers) and
local -> API. Checked: the first run copies everything; a re-run with nothing new sends nothing; an incremental run
sends only the changes, key changes (a session rename with its cascade, a student school association's entry date)
and deletes; the target then holds what the source holds. A run killed mid-way, then run again, ends with the target
equal to the source. --profile drops the members the profile excludes; descriptor mappings map a district value to
the state's, and a value with neither a mapping nor a namespace the target has is held back and reported; a record
the target refuses lands in the dead-letter file with the target's problem details (exit status 1, bookmark kept)."""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import fixtures as F
import harness as h

DATA = h.DATA
SANITIZER_MARKERS = ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:')
SUMMARY = (r'change versions (\d+)\.\.(\d+): (\d+) upserted \((\d+) created, (\d+) updated\), (\d+) key changes, '
           r'(\d+) deletes, (\d+) unchanged, (\d+) rejected, (\d+) held back')
# what the tests write, compared between source and target
ENDPOINTS = ('students', 'studentSchoolAssociations', 'sessions', 'courses', 'courseOfferings', 'staffs',
             'schools', 'descriptorMappings')


def publish(*args, stdin=None, env=None, timeout=900):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([h.EDHUB, 'publish'] + list(args), capture_output=True, text=True, timeout=timeout,
                       cwd=h.REPO, input=stdin, env=e)
    for m in SANITIZER_MARKERS:
        if m in p.stderr:
            raise AssertionError('sanitizer report from edhub publish:\n%s' % p.stderr[-6000:])
    return p.returncode, p.stdout, p.stderr


def summary(out):
    m = re.search(SUMMARY, out)
    if not m:
        raise AssertionError('no summary in %r' % out)
    names = ('min', 'max', 'upserted', 'created', 'updated', 'key_changes', 'deletes', 'unchanged', 'rejected',
             'held')
    return dict(zip(names, (int(x) for x in m.groups())))


def clean(o):
    if isinstance(o, dict):
        return {k: clean(v) for k, v in o.items() if k not in ('id', '_etag', '_lastModifiedDate', 'link')}
    if isinstance(o, list):
        return [clean(v) for v in o]
    return o


def everything(client, endpoint):
    out, offset = [], 0
    while True:
        r = client.get('%s/%s?offset=%d&limit=500' % (DATA, endpoint, offset))
        assert r.status == 200, r
        out += r.json
        if len(r.json) < 500:
            return out
        offset += 500


def snapshot(client, endpoints=ENDPOINTS):
    return {ep: sorted(json.dumps(clean(d), sort_keys=True) for d in everything(client, ep)) for ep in endpoints}


def read_jsonl(path):
    return [json.loads(l) for l in open(path)] if os.path.exists(path) else []


class PublishCase(h.ServersOfItsOwn, unittest.TestCase):
    """Servers of its own: self.src and self.tgt (started), stopped and cleaned up at the end."""

    maxDiff = 6000

    @classmethod
    def setUpClass(cls):
        cls.servers = []
        cls.src = cls.server('pub-src')
        cls.tgt = cls.server('pub-tgt')
        cls.work = tempfile.mkdtemp(dir=cls.src.tmp)


    def api(self, srv):
        return srv.client()

    def up(self, *servers):
        for s in servers:
            if not s.alive():
                s.serve_again()

    def down(self, *servers):
        for s in servers:
            if s.alive():
                self.assertEqual(s.stop(), 0)

    def ends(self, source, target):
        """Options for a local end (a target stopped, a source left as it is) or an API end (running)."""
        args = []
        for role, (kind, srv) in (('source', source), ('target', target)):
            if kind == 'local':
                if role == 'target':
                    self.down(srv)  # a local target is written by publish alone
                args += ['--%s-data' % role, srv.data]  # a local source is read-only: its server may run
            else:
                self.up(srv)
                args += ['--%s-api' % role, srv.base_url, '--%s-key' % role, srv.key, '--%s-secret' % role,
                         srv.secret]
        return args

    def same(self, endpoints=ENDPOINTS):
        self.up(self.src, self.tgt)
        a, b = snapshot(self.api(self.src), endpoints), snapshot(self.api(self.tgt), endpoints)
        for ep in endpoints:
            self.assertEqual(a[ep], b[ep], ep)

    def state_file(self, name):
        return os.path.join(self.work, name)


class Flow:
    """The same story for each pair of ends: first run, nothing new, changes (upserts, key changes, deletes)."""

    source_kind = target_kind = 'api'

    def run_publish(self, *extra):
        args = self.ends((self.source_kind, self.src), (self.target_kind, self.tgt))
        errs = self.state_file('errors.jsonl')
        return publish(*args, '--state', self.state_file('state.json'), '--errors', errs, *extra) + (read_jsonl(errs),)

    def write_state(self):
        self.up(self.src)
        c = self.api(self.src)
        self.students = [F.student() for _ in range(3)]
        for st in self.students:
            c.create('students', st)
        self.ssas = [F.ssa(st['studentUniqueId']) for st in self.students]
        self.ssa_ids = [c.create('studentSchoolAssociations', s) for s in self.ssas]
        self.session = F.session()
        self.session_id = c.create('sessions', self.session)
        self.course = F.course()
        c.create('courses', self.course)
        self.co = F.course_offering(h.uid('LCC'), self.session['sessionName'], self.course['courseCode'])
        c.create('courseOfferings', self.co)

    def change_state(self):
        self.up(self.src)
        c = self.api(self.src)
        # a key change with a cascade (the course offering's key holds the session name)
        s = dict(self.session, id=self.session_id, sessionName=h.uid('Spring '))
        r = c.put(c.url('sessions', self.session_id), s)
        self.assertEqual(r.status, 204, r)
        # a key change of its own: the enrolment's entry date
        e = dict(self.ssas[0], id=self.ssa_ids[0], entryDate='2024-08-21')
        r = c.put(c.url('studentSchoolAssociations', self.ssa_ids[0]), e)
        self.assertEqual(r.status, 204, r)
        # a delete
        r = c.delete(c.url('studentSchoolAssociations', self.ssa_ids[1]))
        self.assertEqual(r.status, 204, r)
        # an update and a new record
        st = dict(self.students[2], firstName='Renamed')
        c.create('students', st)
        c.create('staffs', F.staff())

    def test_publication(self):
        self.write_state()
        code, out, err, dead = self.run_publish('--dry-run')
        self.assertEqual(code, 0, err)
        self.assertIn('/ed-fi/studentSchoolAssociations', out)
        self.assertNotIn('Descriptors ', out, 'descriptors are left out by default')
        # first run: everything
        code, out, err, dead = self.run_publish()
        self.assertEqual((code, dead), (0, []), err[-3000:])
        first = summary(out)
        self.assertEqual(first['rejected'] + first['held'], 0)
        self.assertGreaterEqual(first['created'], 9)
        self.assertIn('records', err, 'the progress bar')
        self.same()
        # nothing new: nothing sent
        code, out, err, dead = self.run_publish()
        self.assertEqual(code, 0, err)
        self.assertIn('nothing to publish', out)
        # changes: only they travel
        self.change_state()
        code, out, err, dead = self.run_publish()
        self.assertEqual((code, dead), (0, []), err[-3000:])
        s = summary(out)
        self.assertEqual(s['min'], first['max'] + 1)
        self.assertEqual(s['key_changes'], 2, out)   # the session and the enrolment (the cascade is the target's own)
        self.assertEqual(s['deletes'], 1, out)
        self.assertLessEqual(s['upserted'], 6, 'only what changed is sent: %s' % out)
        self.same()
        tgt = self.api(self.tgt)
        self.assertEqual(tgt.query('studentSchoolAssociations', 'studentUniqueId=' + self.students[1]['studentUniqueId']),
                         [])
        got = tgt.query('studentSchoolAssociations', 'studentUniqueId=' + self.students[0]['studentUniqueId'])
        self.assertEqual([g['entryDate'] for g in got], ['2024-08-21'], 're-keyed, not duplicated')
        code, out, err, dead = self.run_publish()
        self.assertIn('nothing to publish', out)


class LocalToLocal(Flow, PublishCase):
    source_kind = target_kind = 'local'

    def test_lineage(self):
        """A local target records where each published document came from; --lineage reads it."""
        self.up(self.src)
        st = F.student()
        src_id = self.api(self.src).create('students', st)
        code, out, err, dead = self.run_publish('--source-name', 'district-a', '--include', 'students')
        self.assertEqual(code, 0, err)
        self.up(self.tgt)
        tgt_id = self.api(self.tgt).query('students', 'studentUniqueId=' + st['studentUniqueId'])[0]['id']
        self.down(self.tgt)
        p = subprocess.run([h.EDHUB, 'publish', '--lineage', '--target-data', self.tgt.data, '--resource', 'students',
                            '--id', tgt_id, '--json'], capture_output=True, text=True, cwd=h.REPO, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual(len(rows), 1, p.stdout)
        r = rows[0]
        self.assertEqual((r['resource'], r['id'], r['source'], r['sourceClient'], r['sourceId']),
                         ('ed-fi/students', tgt_id, 'district-a', self.src.key, src_id))
        self.assertRegex(r['publishedAt'], r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        p = subprocess.run([h.EDHUB, 'publish', '--lineage', '--target-data', self.tgt.data, '--source-name',
                            'district-a'], capture_output=True, text=True, cwd=h.REPO, timeout=120)
        self.assertIn(tgt_id, p.stdout)
        self.assertEqual(len(p.stdout.splitlines()[0].split('\t')), 6, 'tab-separated columns')


class ApiToApi(Flow, PublishCase):
    source_kind = target_kind = 'api'


class LocalToApi(Flow, PublishCase):
    source_kind, target_kind = 'local', 'api'


class Interrupted(PublishCase):
    """A run killed mid-way (SIGKILL: a crash), then run again: the target ends equal to the source."""

    def test_kill_then_rerun(self):
        gen = os.path.join(self.work, 'gen')
        p = subprocess.run([h.EDHUB, 'gen', '--students', '400', '--days', '20', '--out', gen], capture_output=True,
                           text=True, cwd=h.REPO, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.down(self.src)
        p = subprocess.run([h.EDHUB, 'load', '--data', self.src.data, gen], capture_output=True, text=True,
                           cwd=h.REPO, timeout=1800)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.up(self.tgt)
        state, errs = self.state_file('state.json'), self.state_file('errors.jsonl')
        args = ['--source-data', self.src.data, '--target-api', self.tgt.base_url, '--state', state, '--errors', errs,
                '--no-batch', '--connections', '1']
        e = dict(os.environ, EDHUB_TARGET_KEY=self.tgt.key, EDHUB_TARGET_SECRET=self.tgt.secret)
        proc = subprocess.Popen([h.EDHUB, 'publish'] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=h.REPO, env=e)
        t = self.api(self.tgt)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if int(t.get(DATA + '/students?limit=1&totalCount=true').headers['Total-Count']) > 0:
                break
            time.sleep(0.05)
        self.assertIsNone(proc.poll(), 'the run should still be going once the students arrive')
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        sections = int(t.get(DATA + '/studentSectionAssociations?limit=1&totalCount=true').headers['Total-Count'])
        self.assertFalse(os.path.exists(state), 'no bookmark after a crash')
        # the re-run: batch requests, to finish fast
        code, out, err = publish(*args[:-3], env={'EDHUB_TARGET_KEY': self.tgt.key,
                                                  'EDHUB_TARGET_SECRET': self.tgt.secret})
        self.assertEqual(code, 0, err[-3000:])
        self.assertEqual(read_jsonl(errs), [])
        self.assertTrue(os.path.exists(state))
        self.up(self.src)
        eps = ('students', 'studentSchoolAssociations', 'studentSectionAssociations', 'sections', 'sessions',
               'staffs', 'studentSchoolAttendanceEvents', 'courseOfferings', 'calendarDates')
        self.same(eps)
        self.assertGreater(len(everything(self.api(self.tgt), 'studentSectionAssociations')), sections,
                           'killed mid-way: the re-run finished the job')


class ProfileAndMappings(PublishCase):
    """--profile, descriptor mappings, unmapped local descriptors and target rejections, local -> local."""

    def run_local(self, *extra):
        errs = self.state_file(h.uid('errors') + '.jsonl')
        args = self.ends(('local', self.src), ('local', self.tgt))
        code, out, err = publish(*args, '--state', self.state_file('state.json'), '--errors', errs, *extra)
        return code, out, err, read_jsonl(errs)

    def test_a_profile_drops_excluded_members(self):
        self.up(self.src)
        c = self.api(self.src)
        st = F.student(middleName='Ann', birthCity='Austin')
        c.create('students', st)
        code, out, err, dead = self.run_local('--profile', 'State-Promotion', '--include', 'students', '--full')
        self.assertEqual((code, dead), (0, []), err)
        self.up(self.tgt)
        got = self.api(self.tgt).query('students', 'studentUniqueId=' + st['studentUniqueId'])
        self.assertEqual(len(got), 1)
        self.assertEqual((got[0]['firstName'], got[0]['lastSurname'], got[0]['birthDate']),
                         (st['firstName'], st['lastSurname'], st['birthDate']))
        self.assertNotIn('middleName', got[0])
        self.assertNotIn('birthCity', got[0])
        code, out, err, dead = self.run_local('--profile', 'No-Such-Profile')
        self.assertEqual(code, 2)
        self.assertIn("no profile named 'No-Such-Profile'", err)

    def test_descriptor_mapping_and_an_unmapped_local_value(self):
        self.up(self.src)
        c = self.api(self.src)
        local9 = 'uri://district.example/GradeLevelDescriptor#Grade 9'
        local10 = 'uri://district.example/GradeLevelDescriptor#Grade 10'
        c.ensure_descriptor(local9)
        c.ensure_descriptor(local10)
        c.create('descriptorMappings', {'namespace': 'uri://district.example/GradeLevelDescriptor', 'value': 'Grade 9',
                                        'mappedNamespace': 'uri://ed-fi.org/GradeLevelDescriptor',
                                        'mappedValue': 'Ninth grade'})
        mapped, unmapped = F.student(), F.student()
        for st, grade in ((mapped, local9), (unmapped, local10)):
            c.create('students', st)
            c.create('studentSchoolAssociations', F.ssa(st['studentUniqueId'], entryGradeLevelDescriptor=grade))
        code, out, err, dead = self.run_local('--full', '--include', 'students,studentSchoolAssociations')
        self.assertEqual(code, 1, err)
        s = summary(out)
        self.assertEqual(s['held'], 1, out)
        self.assertIn('bookmark stays', err)
        held = [d for d in dead if d['type'] == 'urn:edhub:publish:unmapped-local-descriptor']
        self.assertEqual(len(held), 1, dead)
        d = held[0]
        self.assertEqual((d['stage'], d['resource'], d['type']),
                         ('upsert', '/ed-fi/studentSchoolAssociations', 'urn:edhub:publish:unmapped-local-descriptor'))
        self.assertIn('unmapped local descriptor', d['detail'])
        self.assertEqual(d['descriptors'], [{'path': '$.entryGradeLevelDescriptor', 'value': local10}])
        self.assertEqual(d['key']['studentUniqueId'], unmapped['studentUniqueId'])
        self.up(self.tgt)
        t = self.api(self.tgt)
        got = t.query('studentSchoolAssociations', 'studentUniqueId=' + mapped['studentUniqueId'])
        self.assertEqual([g['entryGradeLevelDescriptor'] for g in got], ['uri://ed-fi.org/GradeLevelDescriptor#Ninth grade'])
        self.assertEqual(t.query('studentSchoolAssociations', 'studentUniqueId=' + unmapped['studentUniqueId']), [])
        # --state-namespace says which namespaces the target has, without asking it
        code, out, err, dead = self.run_local('--full', '--include', 'studentSchoolAssociations', '--state-namespace',
                                              'uri://ed-fi.org/')
        self.assertEqual(summary(out)['held'], 1, out)
        # --mappings none: the mapped value is held back as well
        code, out, err, dead = self.run_local('--full', '--include', 'studentSchoolAssociations', '--mappings', 'none')
        self.assertEqual(summary(out)['held'], 2, out)

    def test_a_target_rejection_lands_in_the_dead_letter_file(self):
        self.up(self.src)
        c = self.api(self.src)
        school = F.school()
        c.create('schools', school)
        st = F.student()
        c.create('students', st)
        c.create('studentSchoolAssociations', F.ssa(st['studentUniqueId'], school_id=school['schoolId']))
        # only these two: the new school is not published, so the target cannot resolve the reference
        code, out, err, dead = self.run_local('--full', '--include', 'students,studentSchoolAssociations')
        self.assertEqual(code, 1, err)
        self.assertIn('rejected and held-back records are listed in', err)
        mine = [d for d in dead if d.get('key', {}).get('studentUniqueId') == st['studentUniqueId']]
        self.assertEqual(len(mine), 1, dead)
        d = mine[0]
        self.assertEqual((d['stage'], d['resource'], d['status']), ('upsert', '/ed-fi/studentSchoolAssociations', 409))
        self.assertEqual(d['type'], 'urn:ed-fi:api:data-conflict:unresolved-reference')
        self.assertTrue(d['sourceId'] and d['detail'])


class DeploymentInstances(unittest.TestCase):
    """--source-instance / --target-instance: a district and the state as instances of one deployment."""

    def test_district_to_state_in_one_deployment(self):
        tmp = tempfile.mkdtemp(prefix='edhub-e2e-publish-inst-')
        d = os.path.join(tmp, 'deploy')

        def edhub(*args):
            p = subprocess.run([h.EDHUB] + list(args), capture_output=True, text=True, cwd=h.REPO, timeout=600)
            for m in SANITIZER_MARKERS:
                self.assertNotIn(m, p.stderr)
            return p
        p = edhub('init', '--data', d, '--client-key', 'k' + h.uid(), '--client-secret', 'S' + h.uid() + 'xyz')
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        for name in ('district-a', 'state'):
            p = edhub('instances', 'create', name, '--data', d)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        st = F.student()
        path = os.path.join(tmp, 's.jsonl')
        with open(path, 'w') as f:
            f.write(json.dumps({'resource': '/ed-fi/students', 'document': st}) + '\n')
        p = edhub('load', '--data', d, '--instance', 'district-a', path)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        p = edhub('publish', '--source-data', d, '--source-instance', 'district-a', '--target-data', d,
                  '--target-instance', 'state', '--include', 'students', '--source-name', 'district-a')
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(summary(p.stdout)['created'], 1, p.stdout)
        p = edhub('publish', '--lineage', '--target-data', d, '--target-instance', 'state', '--json')
        rows = [json.loads(l) for l in p.stdout.splitlines()]
        self.assertEqual([(r['resource'], r['source'], r['sourceClient']) for r in rows],
                         [('ed-fi/students', 'district-a', 'load')])
        p = edhub('publish', '--source-data', d, '--source-instance', 'nope', '--target-data', d,
                  '--target-instance', 'state')
        self.assertNotEqual(p.returncode, 0)
        shutil.rmtree(tmp, ignore_errors=True)


class Usage(unittest.TestCase):

    def test_help_and_bad_options(self):
        code, out, err = publish('--help')
        self.assertEqual(code, 0)
        self.assertIn('usage: edhub publish', out)
        p = subprocess.run([h.EDHUB, 'help', 'publish'], capture_output=True, text=True, cwd=h.REPO)
        self.assertIn('--source-data', p.stdout)
        code, out, err = publish('--source-data', '/nonexistent')
        self.assertEqual(code, 2)
        self.assertIn('give one source', err)
        code, out, err = publish('--source-data', '/nonexistent', '--target-api', 'http://127.0.0.1:1')
        self.assertEqual(code, 1)
        self.assertIn('no instance in /nonexistent', err)


if __name__ == '__main__':
    unittest.main()
