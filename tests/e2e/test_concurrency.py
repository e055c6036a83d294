"""Concurrent clients: no 5xx, no lost or duplicated documents, upsert races resolve to one document."""

import unittest

import fixtures as F
import harness as h

DATA = h.DATA
THREADS = 16


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


class Concurrency(h.EdhubTestCase):

    def test_distinct_inserts(self):
        tag = h.uid('Conc')
        docs = [F.student('%s-%02d' % (tag, i), lastSurname=tag) for i in range(THREADS)]
        results = h.run_threads(THREADS, lambda i: self.api.post(DATA + '/students', docs[i]))
        for r in results:
            self.assertStatus(r, 201)
        ids = [r.location_id for r in results]
        self.assertEqual(len(set(ids)), THREADS)
        for i, doc_id in enumerate(ids):
            self.assertEqual(self.api.read('students', doc_id)['studentUniqueId'], docs[i]['studentUniqueId'])
        r = self.api.get(DATA + '/students?lastSurname=%s&totalCount=true' % tag)
        self.assertEqual(r.headers.get('Total-Count'), str(THREADS))

    def test_same_natural_key_race(self):
        suid = h.uid('race')
        results = h.run_threads(THREADS, lambda i: self.api.post(DATA + '/students',
                                                                 F.student(suid, firstName='T%d' % i)))
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200] * (THREADS - 1) + [201], statuses)
        self.assertEqual(len(set(r.location_id for r in results)), 1)
        docs = self.api.query('students', {'studentUniqueId': suid})
        self.assertEqual(len(docs), 1)

    def test_concurrent_updates_of_one_document(self):
        doc = F.student()
        doc_id = self.api.create('students', doc)

        def work(i):
            body = self.api.read('students', doc_id)
            body['firstName'] = 'W%d' % i
            return self.api.put('%s/students/%s' % (DATA, doc_id), body)
        for r in h.run_threads(THREADS, work):
            self.assertStatus(r, 204)
        final = self.api.read('students', doc_id)
        self.assertIn(final['firstName'], ['W%d' % i for i in range(THREADS)])

    def test_concurrent_if_match_only_one_wins(self):
        doc_id = self.api.create('students', F.student())
        etag = self.api.get('%s/students/%s' % (DATA, doc_id)).headers['ETag']
        body = self.api.read('students', doc_id)

        def work(i):
            b = dict(body, firstName='M%d' % i)
            return self.api.put('%s/students/%s' % (DATA, doc_id), b, headers={'If-Match': etag})
        statuses = sorted(r.status for r in h.run_threads(THREADS, work))
        self.assertEqual(statuses, [204] + [412] * (THREADS - 1), statuses)

    def test_concurrent_reference_and_delete(self):
        # a referencing insert racing a delete of its target: never both succeed
        outcomes = []
        for _ in range(8):
            s = F.student()
            sid = self.api.create('students', s)
            rs = h.run_threads(2, lambda i: (self.api.delete('%s/students/%s' % (DATA, sid)) if i == 0 else
                                             self.api.post(DATA + '/studentSchoolAssociations',
                                                           F.ssa(s['studentUniqueId']))))
            d, p = rs
            self.assertIn(d.status, (204, 409), repr(d))
            self.assertIn(p.status, (201, 409), repr(p))
            self.assertFalse(d.status == 204 and p.status == 201,
                             'delete succeeded and a reference to the deleted student was stored')
            outcomes.append((d.status, p.status))
        self.assertTrue(outcomes)

    def test_mixed_load(self):
        tag = h.uid('Mix')

        def work(i):
            out = []
            for j in range(10):
                k = (i + j) % 4
                if k == 0:
                    out.append(self.api.post(DATA + '/students', F.student('%s-%d-%d' % (tag, i, j), lastSurname=tag)))
                elif k == 1:
                    out.append(self.api.get(DATA + '/students?lastSurname=%s&limit=5' % tag))
                elif k == 2:
                    out.append(self.api.get(DATA + '/schools?limit=3'))
                else:
                    out.append(self.api.get('/metadata/data/v3/dependencies'))
            return out
        for rs in h.run_threads(THREADS, work):
            for r in rs:
                self.assertLess(r.status, 300, repr(r))

    def test_every_request_gets_a_response(self):
        # error paths (409/400/404/412) under load must always produce a response
        doc_id = self.api.create('students', F.student())

        def work(i):
            out = []
            for j in range(40):
                k = (i + j) % 5
                try:
                    if k == 0:
                        r = self.api.post(DATA + '/studentSchoolAssociations', F.ssa(h.uid('nobody')))
                    elif k == 1:
                        r = self.api.post(DATA + '/students', {'studentUniqueId': ' bad'})
                    elif k == 2:
                        r = self.api.get(DATA + '/students/00000000-0000-4000-8000-000000000000')
                    elif k == 3:
                        r = self.api.delete('%s/students/%s' % (DATA, doc_id), headers={'If-Match': '"stale"'})
                    else:
                        r = self.api.get(DATA + '/nonexistentThings')
                    out.append(r.status)
                except Exception as e:  # noqa: BLE001 - recorded as the outcome
                    out.append(repr(e))
            return out
        outcomes = [x for rs in h.run_threads(THREADS, work) for x in rs]
        bad = [x for x in outcomes if not isinstance(x, int) or x >= 500]
        self.assertEqual(bad, [], 'requests without a proper response')
        self.assertEqual(set(outcomes), {409, 400, 404, 412})

    def test_concurrent_tokens(self):
        n = 8  # stays below a per-client live-token cap (ODS default 15)
        tokens = h.run_threads(n, lambda i: self.server.get_token())
        self.assertEqual(len(set(tokens)), n)
        for r in h.run_threads(n, lambda i: h.Client(self.server, tokens[i]).get(DATA + '/students?limit=1')):
            self.assertStatus(r, 200)


if __name__ == '__main__':
    unittest.main()
