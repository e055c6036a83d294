"""Durability and atomicity: acknowledged writes survive a crash (SIGKILL in
the middle of concurrent writes), the database stays consistent, and every
stored document carries its identity and references (nothing half-written)."""

import os
import signal
import sqlite3
import subprocess
import threading
import time
import unittest

import harness as h

WRITERS = 8
MAX_PER_WRITER = 4000


class CrashRecovery(unittest.TestCase):

    def setUp(self):
        self.srv = h.Server('durability').start()

    def tearDown(self):
        code = self.srv.stop()
        self.assertEqual(code, 0, self.srv.logs(40))
        self.assertIsNone(self.srv.sanitizer_report(), self.srv.logs(200))
        self.srv.cleanup()

    def test_acknowledged_writes_survive_sigkill(self):
        token = self.srv.get_token()
        acked = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(i):
            c = h.Client(self.srv, token)
            for n in range(MAX_PER_WRITER):
                if stop.is_set():
                    return
                suid = 'D%d-%d' % (i, n)
                body = {'studentUniqueId': suid, 'birthDate': '2010-01-13', 'firstName': 'F%d' % n,
                        'lastSurname': 'Crash'}
                try:
                    r = c.post(h.DATA + '/students', body)
                except Exception:
                    return  # the server is gone
                if r.status == 201:
                    with lock:
                        acked.append((suid, r.location_id))
                elif r.status >= 500:
                    self.fail('5xx during concurrent writes: %r' % r)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
        for t in threads:
            t.start()
        deadline = time.time() + 20
        while time.time() < deadline:
            with lock:
                if len(acked) >= 300:
                    break
            time.sleep(0.05)
        self.srv.proc.send_signal(signal.SIGKILL)
        self.srv.proc.wait(10)
        stop.set()
        for t in threads:
            t.join(30)
        self.assertGreaterEqual(len(acked), 300, 'too few writes acknowledged before the crash')

        # The file is consistent: SQLite's own check, and every document has
        # its identity row (the writes of one request land together or not at all).
        # (On PostgreSQL the same invariants are checked through the API below.)
        db = None if h.PG_DIR else sqlite3.connect(os.path.join(self.srv.data, 'ods.sqlite'))
        try:
            if db is not None:
                self.assertEqual(db.execute('PRAGMA integrity_check').fetchone()[0], 'ok')
                orphans = db.execute('SELECT count(*) FROM documents d WHERE NOT EXISTS '
                                     '(SELECT 1 FROM identities i WHERE i.doc_id = d.doc_id)').fetchone()[0]
                self.assertEqual(orphans, 0, 'documents without their identity row')
                dangling = db.execute('SELECT count(*) FROM identities i WHERE NOT EXISTS '
                                      '(SELECT 1 FROM documents d WHERE d.doc_id = i.doc_id)').fetchone()[0]
                self.assertEqual(dangling, 0, 'identity rows without their document')
        finally:
            if db is not None:
                db.close()

        self.srv.serve_again()
        c = self.srv.client()
        missing = []
        for suid, doc_id in acked:
            r = c.get(h.DATA + '/students/' + doc_id)
            if r.status != 200 or r.json.get('studentUniqueId') != suid:
                missing.append((suid, doc_id, r.status))
        self.assertEqual(missing, [], '%d acknowledged writes lost after SIGKILL' % len(missing))
        # Natural keys are still unique after recovery: re-posting is an update.
        suid, doc_id = acked[0]
        r = c.post(h.DATA + '/students', {'studentUniqueId': suid, 'birthDate': '2010-01-13',
                                          'firstName': 'Again', 'lastSurname': 'Crash'})
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.location_id, doc_id)


if __name__ == '__main__':
    unittest.main()
