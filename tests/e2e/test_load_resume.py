"""`edhub load` stopped midway (Ctrl-C, or killed) and continued with --resume: every record ends up stored exactly
once (counted through the API, on either backend), the resumed run skips what the first finished (per DIR/load-resume.json), and changed inputs are refused."""

import datetime
import json
import os
import signal
import subprocess
import time
import unittest

import harness as h

STUDENTS = 300
DAYS = 100  # 30,000 events: long enough to stop midway, also under ASan


def make_files(folder):
    pre = os.path.join(folder, 'prereq.jsonl')
    ev = os.path.join(folder, 'events.jsonl')
    with open(pre, 'w') as f:
        f.write(json.dumps({'resource': '/ed-fi/sessions', 'document': {
            'sessionName': 'Resume 2023-2024', 'schoolReference': {'schoolId': 255901001},
            'schoolYearTypeReference': {'schoolYear': 2024}, 'beginDate': '2023-08-21', 'endDate': '2024-05-31',
            'termDescriptor': 'uri://ed-fi.org/TermDescriptor#Year Round', 'totalInstructionalDays': DAYS}}) + '\n')
        for s in range(STUDENTS):
            f.write(json.dumps({'resource': '/ed-fi/students', 'document': {
                'studentUniqueId': 'RES%05d' % s, 'birthDate': '2010-01-01', 'firstName': 'R%d' % s,
                'lastSurname': 'Resume'}}) + '\n')
    start = datetime.date(2023, 8, 21)
    with open(ev, 'w') as f:
        for d in range(DAYS):
            day = (start + datetime.timedelta(days=d)).isoformat()
            for s in range(STUDENTS):
                f.write(json.dumps({'resource': '/ed-fi/studentSchoolAttendanceEvents', 'document': {
                    'studentReference': {'studentUniqueId': 'RES%05d' % s},
                    'schoolReference': {'schoolId': 255901001},
                    'sessionReference': {'schoolId': 255901001, 'schoolYear': 2024,
                                         'sessionName': 'Resume 2023-2024'},
                    'attendanceEventCategoryDescriptor':
                        'uri://ed-fi.org/AttendanceEventCategoryDescriptor#In Attendance',
                    'eventDate': day}}) + '\n')
    return pre, ev


def summary(out):
    """created, updated, rejected, skipped from the final summary line."""
    line = [l for l in out.splitlines() if l.startswith('edhub: ') and ' records: ' in l][-1]
    nums = {}
    for part in line.split(': ', 2)[2].split(', '):
        n, word = part.split(' ')[:2]
        nums[word] = int(n)
    return nums


class Resume(unittest.TestCase):

    def setUp(self):
        self.srv = h.Server('resume')
        self.srv.start()
        self.srv.stop()
        self.data = self.srv.data
        self.pre, self.ev = make_files(self.data)
        p = subprocess.run([h.EDHUB, 'load', '--data', self.data, self.pre], capture_output=True, text=True,
                           timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.book = os.path.join(self.data, 'load-resume.json')
        os.remove(self.book)  # the prerequisites' load finished; the events' load writes its own

    def tearDown(self):
        self.srv.stop()
        self.srv.cleanup()  # kept with EDHUB_E2E_KEEP=1

    def events_stored(self):
        """Attendance events stored, through the API (both backends); the store keeps one document per natural key."""
        self.srv.serve_again()
        try:
            r = self.srv.client().get(h.DATA + '/studentSchoolAttendanceEvents?totalCount=true&limit=1')
            self.assertEqual(r.status, 200, r.body)
            return int(r.headers['Total-Count'])
        finally:
            self.assertEqual(self.srv.stop(), 0)

    def start_and_stop(self, sig):
        """Starts loading the events; once some are durably done (bookmark > 0), sends sig."""
        p = subprocess.Popen([h.EDHUB, 'load', '--data', self.data, self.ev], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        done = 0
        deadline = time.time() + 300
        while time.time() < deadline and p.poll() is None:
            try:
                done = json.load(open(self.book))['records']
            except (OSError, ValueError, KeyError):
                done = 0
            if done > 0:
                break
            time.sleep(0.05)
        if p.poll() is not None:
            self.skipTest('the load finished before it could be interrupted (machine too fast for this size)')
        p.send_signal(sig)
        out, err = p.communicate(timeout=300)
        return p.returncode, out, err

    def resume(self):
        p = subprocess.run([h.EDHUB, 'load', '--data', self.data, '--resume', self.ev], capture_output=True,
                           text=True, timeout=900)
        return p.returncode, p.stdout, p.stderr

    def test_ctrl_c_then_resume_loads_each_record_once(self):
        rc, out, err = self.start_and_stop(signal.SIGINT)
        self.assertEqual(rc, 130, err)
        self.assertIn('--resume', err)
        first = summary(out)
        book = json.load(open(self.book))
        self.assertFalse(book['complete'])
        self.assertEqual(book['records'], first['created'], 'after Ctrl-C the bookmark is exact')
        self.assertEqual(self.events_stored(), first['created'])
        self.assertLess(first['created'], STUDENTS * DAYS)
        rc, out, err = self.resume()
        self.assertEqual(rc, 0, err)
        second = summary(out)
        self.assertEqual(second['skipped'], first['created'])
        self.assertEqual(second['updated'], 0, 'nothing the first run finished is sent again')
        self.assertEqual(first['created'] + second['created'], STUDENTS * DAYS)
        self.assertEqual(self.events_stored(), STUDENTS * DAYS)
        self.assertTrue(json.load(open(self.book))['complete'])
        # a finished load resumed again loads everything again (all no-op upserts)
        rc, out, err = self.resume()
        self.assertEqual(rc, 0, err)
        self.assertIn('finished', err)
        self.assertEqual(summary(out)['updated'], STUDENTS * DAYS)
        self.assertEqual(self.events_stored(), STUDENTS * DAYS)

    def test_killed_then_resume_loses_and_duplicates_nothing(self):
        rc, out, err = self.start_and_stop(signal.SIGKILL)
        self.assertEqual(rc, -signal.SIGKILL)
        stored = self.events_stored()
        book = json.load(open(self.book))['records']
        self.assertLessEqual(book, stored, 'the bookmark never runs ahead of the database')
        rc, out, err = self.resume()
        self.assertEqual(rc, 0, err)
        second = summary(out)
        self.assertEqual(second['skipped'], book)
        # records committed after the last bookmark are sent again: upserts, answered "updated"
        self.assertEqual(second['created'] + second['updated'] + book, STUDENTS * DAYS)
        self.assertEqual(second['created'], STUDENTS * DAYS - stored)
        self.assertEqual(self.events_stored(), STUDENTS * DAYS)

    def test_changed_inputs_are_not_resumed(self):
        rc, out, err = self.start_and_stop(signal.SIGINT)
        self.assertEqual(rc, 130, err)
        with open(self.ev, 'a') as f:
            f.write('\n')
        rc, out, err = self.resume()
        self.assertEqual(rc, 2)
        self.assertIn('without --resume', err)
        self.assertLess(self.events_stored(), STUDENTS * DAYS, 'nothing was loaded')


if __name__ == '__main__':
    unittest.main()
