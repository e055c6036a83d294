"""The integrated model's proof (issue 7): three district instances written by their own clients
while `edhub publish --all-districts` promotes them into the state instance, concurrently.

Afterwards the state must equal the profile-filtered, descriptor-mapped union of the districts,
checked here independently of edhub's publication code: every district's students and enrolments
are read back over the API, filtered by the test's own reading of the profile (students keep their
key, birth date, first and last names; enrolments lose primarySchool), mapped with district 1's
descriptor mapping (its local grade level becomes the state's), and compared with the state's -
no missing, duplicated or stale record, with deletes and key changes (enrolment entry dates) among
the writes. Also: lineage names the district of each promoted record, and the per-district summary."""

import json
import os
import subprocess
import threading
import time
import urllib.parse

import harness as h

DATA = '/data/v3/ed-fi'
DISTRICTS = {'d1': '255901', 'd2': '255902', 'd3': '255903'}
STATE_ROOT = '/state/2026'
SCHOOL = h.HIGH_SCHOOL
LOCAL_NS = 'uri://district1.example/GradeLevelDescriptor'
LOCAL_G9 = LOCAL_NS + '#G9'
STATE_G9 = 'uri://ed-fi.org/GradeLevelDescriptor#Ninth grade'
PROFILE = '''<?xml version="1.0" encoding="utf-8"?>
<Profiles>
  <Profile name="Promotion-Test">
    <Resource name="Student">
      <ReadContentType memberSelection="IncludeOnly">
        <Property name="BirthDate" />
        <Property name="FirstName" />
        <Property name="LastSurname" />
      </ReadContentType>
    </Resource>
    <Resource name="StudentSchoolAssociation">
      <ReadContentType memberSelection="ExcludeOnly">
        <Property name="PrimarySchool" />
      </ReadContentType>
    </Resource>
  </Profile>
</Profiles>
'''
ROUNDS = 60           # write rounds per district
PREFIX = h.uid('pr')  # the students of this run


cli = h.cli
database_args = h.new_database_args


SERVER = None
CLIENTS = {}


def new_client_key(instance):
    key, secret = h.uid('pk'), h.uid('secret') + 'x' * 16
    cli('clients', 'create', '--data', SERVER.data, '--key', key, '--secret', secret, '--claim-set',
        'edhub Full Access', '--instance', instance)
    return key, secret


def setUpModule():
    global SERVER
    SERVER = h.start_module_server(__name__)
    SERVER.stop()
    data = SERVER.data
    for name, lea in DISTRICTS.items():
        cli('instances', 'create', '--data', data, name, '--type', 'district', '--context', 'districtId=' + lea,
            '--context', 'schoolYear=2026', *database_args())
    cli('instances', 'create', '--data', data, 'state', '--type', 'state', '--context', 'districtId=state',
        '--context', 'schoolYear=2026', *database_args())
    os.makedirs(os.path.join(data, 'profiles'), exist_ok=True)
    with open(os.path.join(data, 'profiles', 'promotion-test.xml'), 'w') as f:
        f.write(PROFILE)
    with open(os.path.join(data, 'edhub.conf'), 'a') as f:
        f.write('\nroute_template = {districtId}/{schoolYear}\n')
    for name in list(DISTRICTS) + ['state']:
        CLIENTS[name] = new_client_key(name)
    SERVER.serve_again()


def tearDownModule():
    h.stop_module_server(__name__)


def root(name):
    return STATE_ROOT if name == 'state' else '/%s/2026' % DISTRICTS[name]


def client(name):
    return h.Client(SERVER, SERVER.get_token(*CLIENTS[name]))


def read_all(c, base, endpoint):
    out, offset = [], 0
    while True:
        r = c.get('%s%s/%s?offset=%d&limit=500' % (base, DATA, endpoint, offset))
        if r.status != 200:
            raise AssertionError('GET %s: %r' % (endpoint, r))
        out += r.json
        if len(r.json) < 500:
            return out
        offset += 500


def strip(doc):
    """The document as data: no id, _etag, _lastModifiedDate, nor links in references."""
    d = {k: v for k, v in doc.items() if k not in ('id', '_etag', '_lastModifiedDate')}
    for k, v in list(d.items()):
        if isinstance(v, dict):
            d[k] = {a: b for a, b in v.items() if a != 'link'}
    return d


def expected_state(district_docs):
    """The test's own reading of the profile and the mapping, applied to the districts' documents."""
    students, ssas = {}, {}
    for name, (st, ss) in district_docs.items():
        for s in st:
            if not s['studentUniqueId'].startswith(PREFIX):
                continue
            k = s['studentUniqueId']
            assert k not in students, 'students are unique per district'
            students[k] = {f: s[f] for f in ('studentUniqueId', 'birthDate', 'firstName', 'lastSurname') if f in s}
        for a in ss:
            if not a['studentReference']['studentUniqueId'].startswith(PREFIX):
                continue
            e = strip(a)
            e.pop('primarySchool', None)
            if e.get('entryGradeLevelDescriptor') == LOCAL_G9:
                e['entryGradeLevelDescriptor'] = STATE_G9
            ssas[(e['studentReference']['studentUniqueId'], e['schoolReference']['schoolId'], e['entryDate'])] = e
    return students, ssas


class Promotion(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        h.EdhubTestCase._token_cache.pop(id(SERVER), None)
        super().setUpClass()

    def write_district(self, name, log, errors):
        """ROUNDS of creates, updates, key changes and deletes through the district's own client."""
        try:
            c = client(name)
            base = root(name) + DATA
            grade = LOCAL_G9 if name == 'd1' else STATE_G9
            for i in range(ROUNDS):
                uid = '%s%s%d' % (PREFIX, name, i)
                r = c.post(base + '/students', {'studentUniqueId': uid, 'birthDate': '2011-02-%02d' % (i % 27 + 1),
                                                'firstName': 'F%d' % i, 'middleName': 'M', 'lastSurname': name})
                assert r.status in (200, 201), r
                ssa = {'studentReference': {'studentUniqueId': uid}, 'schoolReference': {'schoolId': SCHOOL},
                       'entryDate': '2025-08-%02d' % (i % 20 + 1), 'entryGradeLevelDescriptor': grade,
                       'primarySchool': True}
                r = c.post(base + '/studentSchoolAssociations', ssa)
                assert r.status in (200, 201), r
                ssa_id = r.location_id
                if i % 5 == 1:   # an update
                    r = c.post(base + '/students', {'studentUniqueId': uid, 'birthDate': '2011-03-01',
                                                    'firstName': 'Updated%d' % i, 'lastSurname': name})
                    assert r.status == 200, r
                if i % 6 == 2:   # a key change: the enrolment's entry date moves
                    ssa['entryDate'] = '2025-09-%02d' % (i % 20 + 1)
                    r = c.put(base + '/studentSchoolAssociations/' + ssa_id, dict(ssa, id=ssa_id))
                    assert r.status == 204, r
                if i % 7 == 3:   # a delete, dependents first
                    assert c.delete(base + '/studentSchoolAssociations/' + ssa_id).status == 204
                    sid = c.get('%s/students?studentUniqueId=%s' % (base, uid)).json[0]['id']
                    assert c.delete(base + '/students/' + sid).status == 204
                log.append((name, i))
                time.sleep(0.01)
        except Exception as e:  # reported by the test thread
            errors.append('%s: %r' % (name, e))

    def publish_args(self, *more):
        """SQLite: into the state instance directly (a second process beside the server; lineage kept).
        PostgreSQL: through the server, which holds the state database's single-writer lock."""
        args = ['publish', '--data', SERVER.data, '--all-districts', '--profile', 'Promotion-Test'] + list(more)
        if h.PG_DIR:
            key, secret = CLIENTS['state']
            args += ['--target-api', SERVER.base_url + STATE_ROOT, '--target-key', key, '--target-secret', secret]
        return args

    def publish(self):
        return cli(*self.publish_args(), check=False)

    def test_concurrent_writes_and_promotion_converge(self):
        d1 = client('d1')
        r = d1.post(root('d1') + DATA + '/gradeLevelDescriptors',
                    {'namespace': LOCAL_NS, 'codeValue': 'G9', 'shortDescription': 'Grade 9 (local)'})
        self.assertIn(r.status, (200, 201), r)
        r = d1.post(root('d1') + DATA + '/descriptorMappings',
                    {'namespace': LOCAL_NS, 'value': 'G9', 'mappedNamespace': 'uri://ed-fi.org/GradeLevelDescriptor',
                     'mappedValue': 'Ninth grade'})
        self.assertIn(r.status, (200, 201), r)
        log, errors = [], []
        # the promotion daemon runs while the districts are written
        out = open(os.path.join(SERVER.tmp, 'publish-every.out'), 'w+')
        daemon = subprocess.Popen([h.EDHUB] + self.publish_args('--every', '0.3'), stdout=out,
                                  stderr=subprocess.STDOUT, cwd=h.REPO)
        writers = [threading.Thread(target=self.write_district, args=(n, log, errors)) for n in DISTRICTS]
        for t in writers:
            t.start()
        for t in writers:
            t.join(600)
        daemon.send_signal(__import__('signal').SIGTERM)
        code = daemon.wait(120)
        out.seek(0)
        text = out.read()
        out.close()
        self.assertEqual(errors, [])
        self.assertEqual(len(log), ROUNDS * len(DISTRICTS))
        self.assertIn(code, (0, 130), text[-3000:])
        rounds = text.count('round ')
        self.assertGreaterEqual(rounds, 2, 'rounds that promoted something while the districts were written:\n'
                                + text[-3000:])
        for _ in range(2):                  # then catches up
            final = self.publish()
        self.assertEqual(final.returncode, 0, final.stdout + final.stderr)
        for n in DISTRICTS:
            self.assertIn(n, final.stdout, 'the per-district summary names every district')

        # the independent comparison
        docs = {}
        for n in DISTRICTS:
            c = client(n)
            docs[n] = (read_all(c, root(n), 'students'), read_all(c, root(n), 'studentSchoolAssociations'))
        want_students, want_ssas = expected_state(docs)
        sc = client('state')
        got_students = [strip(s) for s in read_all(sc, STATE_ROOT, 'students') if s['studentUniqueId'].startswith(PREFIX)]
        got_ssas = [strip(a) for a in read_all(sc, STATE_ROOT, 'studentSchoolAssociations')
                    if a['studentReference']['studentUniqueId'].startswith(PREFIX)]
        by_key = {}
        for s in got_students:
            self.assertNotIn(s['studentUniqueId'], by_key, 'duplicated in the state')
            by_key[s['studentUniqueId']] = s
        self.assertEqual(sorted(by_key), sorted(want_students), 'missing or extra students in the state')
        for k, s in want_students.items():
            self.assertEqual(by_key[k], s, 'stale or unfiltered student %s' % k)
        ssa_by_key = {}
        for a in got_ssas:
            k = (a['studentReference']['studentUniqueId'], a['schoolReference']['schoolId'], a['entryDate'])
            self.assertNotIn(k, ssa_by_key, 'duplicated enrolment')
            ssa_by_key[k] = a
        self.assertEqual(sorted(ssa_by_key), sorted(want_ssas), 'missing or extra enrolments (deletes, key changes)')
        for k, a in want_ssas.items():
            self.assertEqual(ssa_by_key[k], a, 'stale, unmapped or unfiltered enrolment %s' % (k,))
        # the writes did include what matters
        self.assertTrue(any(a['entryDate'].startswith('2025-09') for a in want_ssas.values()), 'key changes')
        self.assertLess(len(want_students), ROUNDS * len(DISTRICTS), 'deletes')
        self.assertTrue(any(a['entryGradeLevelDescriptor'] == STATE_G9 and a['studentReference']['studentUniqueId']
                            .startswith(PREFIX + 'd1') for a in want_ssas.values()), 'mapped values')
        if not h.PG_DIR:   # lineage: the district and the client that wrote each promoted record
            lines = cli('publish', '--lineage', '--target-data', SERVER.data, '--target-instance', 'state',
                        '--resource', 'students', '--json').stdout.splitlines()
            lin = [json.loads(x) for x in lines if x.strip()]
            self.assertTrue(lin, 'lineage recorded')
            self.assertTrue({x.get('source') or x.get('sourceName') for x in lin} <= set(DISTRICTS) | {None}, lin[:3])
        # a third run with nothing new publishes nothing and succeeds
        again = self.publish()
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)

    def test_snapshot_promotion(self):
        """A count day: every district's snapshot of one name is promoted; later writes wait for a live run."""
        c2 = client('d2')
        before, after = PREFIX + 'snapx', PREFIX + 'snapy'
        name = 'cd-' + h.uid('n')
        self.assertStatus(c2.post(root('d2') + DATA + '/students', {'studentUniqueId': before, 'birthDate': '2011-01-01',
                                                                   'firstName': 'B', 'lastSurname': 'S'}), 201)
        for n in DISTRICTS:
            cli('snapshot', 'create', '--data', SERVER.data, '--instance', n, '--name', name)
        self.assertStatus(c2.post(root('d2') + DATA + '/students', {'studentUniqueId': after, 'birthDate': '2011-01-01',
                                                                   'firstName': 'A', 'lastSurname': 'S'}), 201)
        p = cli(*self.publish_args('--source-snapshot', name), check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        sc = client('state')
        q = lambda uid: sc.get('%s%s/students?studentUniqueId=%s' % (STATE_ROOT, DATA, uid)).json
        self.assertEqual(len(q(before)), 1)
        self.assertEqual(q(after), [], 'written after the snapshot')
        p = cli(*self.publish_args(), check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(q(after)), 1)
        # an API source reads the snapshot through the headers; a missing one is said plainly
        key, secret = CLIENTS['d2']
        base = ['publish', '--source-api', SERVER.base_url + root('d2'), '--source-key', key, '--source-secret', secret,
                '--target-api', SERVER.base_url + STATE_ROOT, '--target-key', CLIENTS['state'][0], '--target-secret',
                CLIENTS['state'][1], '--state', os.path.join(SERVER.tmp, 'api-snap-state.json'), '--dry-run']
        p = cli(*base, '--source-snapshot', name, check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = cli(*base, '--source-snapshot', 'no-such-snapshot', check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('no such snapshot', p.stderr)
        p = cli(*self.publish_args('--source-snapshot', 'no-such-snapshot'), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no snapshot 'no-such-snapshot'", p.stderr)
