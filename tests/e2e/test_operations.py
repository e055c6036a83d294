"""Operations: the health endpoint, the access log, and the CLI's help and
errors (every command has --help; a wrong call says what to do)."""

import json
import os
import subprocess
import tempfile
import time
import unittest

import harness as h
import fixtures as F


class HealthAndAccessLog(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server('operations')
        cls.log = None
        cls.srv.extra_args = []
        tmp = tempfile.mkdtemp(prefix='edhub-e2e-accesslog-')
        cls.log = os.path.join(tmp, 'access.log')
        cls.srv.extra_args = ['--access-log', cls.log]
        cls.srv.start()
        cls.api = cls.srv.client()

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        assert code == 0, cls.srv.logs(40)
        assert cls.srv.sanitizer_report() is None, cls.srv.logs(200)
        cls.srv.cleanup()

    def test_health(self):
        r = h.Client(self.srv).get('/health', auth=False)
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json, {'status': 'Healthy'})

    def test_health_rejects_post(self):
        r = h.Client(self.srv).post('/health', {}, auth=False)
        self.assertEqual(r.status, 405, repr(r))

    def test_access_log_records_requests(self):
        r = self.api.get(h.DATA + '/schools?limit=1')
        self.assertEqual(r.status, 200)
        r = self.api.get(h.DATA + '/nothingHere')
        self.assertEqual(r.status, 404)
        # The line is written when the request completes, just after the
        # response went out: allow it a moment.
        deadline = time.time() + 5
        while True:
            with open(self.log) as f:
                lines = f.read().splitlines()
            ok = [l for l in lines if ' GET /data/v3/ed-fi/schools 200 ' in l]
            if (ok and any(' GET /data/v3/ed-fi/nothingHere 404 ' in l for l in lines)) or time.time() > deadline:
                break
            time.sleep(0.05)
        self.assertTrue(ok, lines[-10:])
        fields = ok[-1].split()
        self.assertEqual(fields[5], self.srv.key, 'the client key is logged: %r' % ok[-1])
        float(fields[4])  # milliseconds
        self.assertTrue(any(' GET /data/v3/ed-fi/nothingHere 404 ' in l for l in lines), lines[-10:])
        # secrets and tokens never reach the log
        text = '\n'.join(lines)
        self.assertNotIn(self.srv.secret, text)
        self.assertNotIn(self.api.token, text)


class PublicUrl(unittest.TestCase):
    """Behind a reverse proxy the URLs edhub hands out use --public-url."""

    def test_location_and_discovery_use_public_url(self):
        srv = h.Server('publicurl')
        srv.extra_args = ['--public-url', 'https://api.example.edu/ods/']
        srv.start()
        try:
            c = srv.client()
            r = c.get('/')
            self.assertEqual(r.json['urls']['oauth'], 'https://api.example.edu/ods/oauth/token')
            r = c.post(h.DATA + '/students', {'studentUniqueId': h.uid('p'), 'birthDate': '2010-01-13',
                                              'firstName': 'P', 'lastSurname': 'U'})
            self.assertEqual(r.status, 201, repr(r))
            self.assertTrue(r.headers.get('Location').startswith('https://api.example.edu/ods/data/v3/ed-fi/students/'),
                            repr(r))
        finally:
            self.assertEqual(srv.stop(), 0, srv.logs(40))
            srv.cleanup()


class Cli(unittest.TestCase):

    def run_edhub(self, *args):
        p = subprocess.run([h.EDHUB] + list(args), capture_output=True, text=True, timeout=60, cwd=h.REPO)
        return p.returncode, p.stdout, p.stderr

    def test_every_command_has_help(self):
        commands = ('init', 'serve', 'load', 'migrate', 'gen', 'clients', 'vendors', 'claimsets', 'audit')
        for cmd in [['--help'], ['help']] + [[c, '--help'] for c in commands] + [['help', c] for c in commands]:
            with self.subTest(cmd=cmd):
                code, out, err = self.run_edhub(*cmd)
                self.assertEqual(code, 0, err)
                self.assertIn('usage: edhub', out)
                if len(cmd) == 2 and cmd[0] == 'help':  # the command's own text, not the overview
                    self.assertIn('usage: edhub ' + cmd[1], out)

    def test_unknown_command_says_what_to_do(self):
        code, out, err = self.run_edhub('frobnicate')
        self.assertEqual(code, 2)
        self.assertIn("unknown command 'frobnicate'", err)
        self.assertIn('usage: edhub', err)

    def test_serve_without_instance_points_to_init(self):
        d = tempfile.mkdtemp(prefix='edhub-e2e-empty-')
        code, out, err = self.run_edhub('serve', '--data', d, '--listen', '127.0.0.1:%d' % h.free_port())
        self.assertEqual(code, 1)
        self.assertIn('edhub init --data', err)
        os.rmdir(d)

    def test_missing_data_option(self):
        code, out, err = self.run_edhub('init')
        self.assertEqual(code, 2)
        self.assertIn('--data DIR is required', err)

    def test_port_in_use_is_refused(self):
        # A second server must not silently share the port (SO_REUSEPORT would
        # split clients, and their tokens, between two processes).
        srv = h.Server('portinuse').start()
        try:
            code, out, err = self.run_edhub('serve', '--data', srv.data, '--listen', '127.0.0.1:%d' % srv.port)
            self.assertEqual(code, 1, err)
            # SQLite: the port is taken; PostgreSQL: the database already has its writer.
            self.assertTrue('port in use' in err or 'another edhub process is writing' in err, err)
        finally:
            self.assertEqual(srv.stop(), 0, srv.logs(40))
            srv.cleanup()

    def test_bad_listen_value(self):
        code, out, err = self.run_edhub('serve', '--data', '/nonexistent', '--listen', 'nonsense')
        self.assertEqual(code, 2)
        self.assertIn('ADDR:PORT', err)


class LoadAndMigrate(unittest.TestCase):
    """`edhub load` and `edhub migrate` on a stopped instance (either backend)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server('loadcli').start()
        assert cls.srv.stop() == 0, cls.srv.logs(40)
        cls.data = cls.srv.data

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()

    def run_edhub(self, *args):
        p = subprocess.run([h.EDHUB] + list(args), capture_output=True, text=True, timeout=120, cwd=h.REPO)
        return p.returncode, p.stdout, p.stderr

    def write_jsonl(self, lines):
        fd, path = tempfile.mkstemp(suffix='.jsonl', dir=self.srv.tmp)
        with os.fdopen(fd, 'w') as f:
            for res, doc in lines:
                f.write(json.dumps({'resource': '/ed-fi/' + res, 'document': doc}) + '\n')
        return path

    def test_load_reports_rejections_and_upserts_on_rerun(self):
        good1, good2 = F.student(), F.student()
        bad = F.student()
        del bad['birthDate']
        path = self.write_jsonl([('students', good1), ('students', good2), ('students', bad)])
        code, out, err = self.run_edhub('load', '--data', self.data, path)
        self.assertEqual(code, 1, err)
        self.assertIn('3 records: 2 created, 0 updated, 1 rejected', out)
        with open(os.path.join(self.data, 'load-errors.jsonl')) as f:
            errors = [json.loads(l) for l in f if l.strip()]
        self.assertEqual(len(errors), 1, errors)
        self.assertEqual(errors[0]['line'], 3, errors)
        self.assertEqual(errors[0]['status'], 400, errors)
        self.assertIn('birthDate', json.dumps(errors[0]))
        # The accepted lines were stored durably: loading them again updates.
        path2 = self.write_jsonl([('students', good1), ('students', good2)])
        code, out, err = self.run_edhub('load', '--data', self.data, path2)
        self.assertEqual(code, 0, err)
        self.assertIn('2 records: 0 created, 2 updated, 0 rejected', out)

    def test_load_needs_files_and_an_instance(self):
        code, out, err = self.run_edhub('load', '--data', self.data)
        self.assertEqual(code, 2)
        self.assertIn('FILE.jsonl', err)
        code, out, err = self.run_edhub('load', '--data', '/nonexistent-edhub', '/dev/null')
        self.assertEqual(code, 1)
        self.assertIn('edhub init --data', err)

    def test_migrate_is_idempotent(self):
        want = '5'
        for _ in range(2):
            code, out, err = self.run_edhub('migrate', '--data', self.data)
            self.assertEqual(code, 0, err)
            self.assertIn('storage schema version %s (current)' % want, out)
            self.assertIn('relationship index rebuilt', out)

    @unittest.skipIf(h.PG_DIR, 'a version-2 SQLite file is made here; PostgreSQL migrations have unit tests')
    def test_a_version_2_sqlite_instance_is_migrated_and_keeps_access(self):
        """An instance written before the authorization subjects existed: serve refuses it and says what to do;
        migrate adds the columns and rebuilds the relationship index, and an LEA client then sees its schools."""
        import shutil
        import sqlite3
        old = os.path.join(self.srv.tmp, 'v2')
        shutil.copytree(self.data, old)
        db = sqlite3.connect(os.path.join(old, 'ods.sqlite'), isolation_level=None)
        to_v3_query_index(db)
        db.execute('ALTER TABLE documents DROP COLUMN sec_edorg')
        db.execute('ALTER TABLE documents DROP COLUMN sec_person')
        to_v4_change_tables(db)
        db.execute('DELETE FROM auth_edorg_parents')
        db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        db.close()
        code, out, err = self.run_edhub('serve', '--data', old, '--listen', '127.0.0.1:%d' % h.free_port())
        self.assertNotEqual(code, 0)
        self.assertIn('edhub migrate', err)
        code, out, err = self.run_edhub('migrate', '--data', old)
        self.assertEqual(code, 0, err)
        self.assertIn('storage schema version 5 (current)', out)
        db = sqlite3.connect(os.path.join(old, 'ods.sqlite'))
        parents = db.execute('SELECT count(*) FROM auth_edorg_parents').fetchone()[0]
        names = db.execute('SELECT count(*) FROM qvals WHERE typeof(fid) <> \'integer\'').fetchone()[0]
        db.close()
        self.assertGreaterEqual(parents, 4, 'the Grand Bend hierarchy is indexed again')
        self.assertEqual(names, 0, 'query-index fields are integers from version 4 on')
        # natural-key lookups go through the migrated query index
        srv = h.Server('migrated')
        srv.tmp, srv.data, srv.key, srv.secret = self.srv.tmp, old, self.srv.key, self.srv.secret
        srv.serve_again()
        try:
            r = srv.client().get(h.DATA + '/schools?schoolId=255901001')
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual([s['schoolId'] for s in r.json], [255901001])
            r = srv.client().get(h.DATA + '/schools?schoolId=255901044')
            self.assertEqual([s['schoolId'] for s in r.json], [255901044])
        finally:
            srv.stop()

    @unittest.skipIf(h.PG_DIR, 'a version-4 SQLite file is made here; PostgreSQL migrations have unit tests')
    def test_a_version_4_sqlite_instance_keeps_its_change_history(self):
        """Tombstones written before change queries kept query-parameter names: migrate adds the new columns
        (again without harm), and /deletes serves the old rows as stored."""
        import shutil
        import sqlite3
        old = os.path.join(self.srv.tmp, 'v4')
        shutil.copytree(self.data, old)
        db = sqlite3.connect(os.path.join(old, 'ods.sqlite'), isolation_level=None)
        to_v4_change_tables(db)
        cv = db.execute('SELECT max(change_version) FROM documents').fetchone()[0] + 1
        db.execute("INSERT INTO tombstones VALUES(?, 'ed-fi/students', 'old-tombstone', '{\"studentUniqueId\":\"x\"}', 'x')",
                   (cv,))
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
        db.close()
        code, out, err = self.run_edhub('serve', '--data', old, '--listen', '127.0.0.1:%d' % h.free_port())
        self.assertNotEqual(code, 0)
        self.assertIn('edhub migrate', err)
        for _ in range(2):  # the step again, on tables that already have its columns
            code, out, err = self.run_edhub('migrate', '--data', old)
            self.assertEqual(code, 0, err)
            self.assertIn('storage schema version 5 (current)', out)
            db = sqlite3.connect(os.path.join(old, 'ods.sqlite'), isolation_level=None)
            cols = [r[1] for r in db.execute('PRAGMA table_info(tombstones)')]
            db.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
            db.close()
            self.assertEqual(cols[-5:], ['ref_id', 'sec_edorg', 'sec_person', 'subjects', 'owner'])
        self.assertEqual(self.run_edhub('migrate', '--data', old)[0], 0)
        srv = h.Server('migrated4')
        srv.tmp, srv.data, srv.key, srv.secret = self.srv.tmp, old, self.srv.key, self.srv.secret
        srv.serve_again()
        try:
            api = srv.client()
            r = api.get(h.DATA + '/students/deletes')
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json, [{'id': 'old-tombstone', 'changeVersion': cv, 'keyValues': {'studentUniqueId': 'x'}}])
            r = api.get('/changeQueries/v1/availableChangeVersions')
            self.assertEqual(r.json['newestChangeVersion'], cv)
        finally:
            srv.stop()


def to_v4_change_tables(db):
    """Tombstones and key changes as schema 4 had them (no store_prior columns)."""
    for table in ('tombstones', 'key_changes'):
        for col in ('ref_id', 'sec_edorg', 'sec_person', 'subjects', 'owner'):
            db.execute('ALTER TABLE %s DROP COLUMN %s' % (table, col))


def fnv1a64(text):
    v = 1469598103934665603
    for b in text.encode():
        v = ((v ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return v


def to_v3_query_index(db):
    """Rewrites a current SQLite instance's query index into the version 3 layout (field names, not their
    integers), from the model's query fields, so that migration 3 -> 4 has real rows to convert."""
    import json
    model = json.load(open(os.path.join(h.REPO, 'model', 'ds-5.2', 'ApiSchema.json')))
    names = {}
    for endpoint, r in model['projectSchemas']['ed-fi']['resourceSchemas'].items():
        for q in r.get('queryFieldMapping', {}):
            name = 'ed-fi/%s|%s' % (endpoint, q)
            names[fnv1a64(name)] = name
    rows = db.execute('SELECT fid, value, doc_id FROM qvals').fetchall()
    assert rows, 'the instance has query-index rows'
    db.execute('DROP TABLE qvals')
    db.execute('CREATE TABLE qvals(field TEXT NOT NULL, value TEXT NOT NULL, doc_id INTEGER NOT NULL, '
               'PRIMARY KEY(field, value, doc_id)) WITHOUT ROWID')
    db.executemany('INSERT INTO qvals VALUES(?, ?, ?)', [(names[f & 0xFFFFFFFFFFFFFFFF], v, d) for f, v, d in rows])
    for doc_id, qv in db.execute('SELECT doc_id, qv FROM documents WHERE qv IS NOT NULL').fetchall():
        lines = [l.split('\t', 1) for l in qv.split('\n') if l]
        db.execute('UPDATE documents SET qv = ? WHERE doc_id = ?',
                   (''.join('%s\t%s\n' % (names[int(f, 16)], v) for f, v in lines), doc_id))


if __name__ == '__main__':
    unittest.main()
