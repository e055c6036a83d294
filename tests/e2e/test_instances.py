"""ODS instances and context routing (integration.md §6.2-6.3), and snapshots (§1.7).

One deployment serves a tenant 'statedoe' with the route template
{districtId}/{schoolYear:range(2000,2099)}: instances d255901 (district 255901, 2026), d255902
(district 255902, 2026), d255901y25 (district 255901, 2025) and the state (districtId=state, 2026).
Clients are bound to instances; a request goes to the client's instance whose context matches the
URL, else 404; each instance is its own database (writes in one are invisible in the others), with
its own change versions. Snapshots are taken with `edhub snapshot create` while the server runs and
read with Use-Snapshot / Snapshot-Identifier; writes to them are 405; a removed one is 410."""

import json
import os
import subprocess

import fixtures as F
import harness as h

TENANT = 'statedoe'
D1 = '/%s/255901/2026' % TENANT
D2 = '/%s/255902/2026' % TENANT
D1Y25 = '/%s/255901/2025' % TENANT
STATE = '/%s/state/2026' % TENANT
DATA = '/data/v3/ed-fi'
NOT_FOUND = 'urn:ed-fi:api:not-found'


cli = h.cli
database_args = h.new_database_args


SERVER = None


def setUpModule():
    global SERVER
    SERVER = h.start_module_server(__name__)
    SERVER.stop()
    data = SERVER.data
    cli('instances', 'create', '--data', data, 'd255901', '--type', 'district', '--context', 'districtId=255901',
        '--context', 'schoolYear=2026', *database_args())
    cli('instances', 'create', '--data', data, 'd255902', '--type', 'district', '--context', 'districtId=255902',
        '--context', 'schoolYear=2026', '--empty')
    cli('instances', 'create', '--data', data, 'd255901y25', '--type', 'district', '--context', 'districtId=255901',
        '--context', 'schoolYear=2025', '--empty')
    # On the PostgreSQL run the state's snapshots are databases made by pg_dump.
    cli('instances', 'create', '--data', data, 'state', '--type', 'state', '--context', 'districtId=state',
        '--context', 'schoolYear=2026', *database_args())
    cli('clients', 'update', '--data', data, '--key', SERVER.key, '--instance', 'default', '--instance', 'd255901',
        '--instance', 'd255902', '--instance', 'd255901y25', '--instance', 'state')
    with open(os.path.join(data, 'edhub.conf'), 'a') as f:
        f.write('\nroute_template = {districtId}/{schoolYear:range(2000,2099)}\ntenant = %s\n' % TENANT)
    SERVER.root = '/' + TENANT
    SERVER.serve_again()


def tearDownModule():
    h.stop_module_server(__name__)


class InstanceCase(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        h.EdhubTestCase._token_cache.pop(id(cls.server), None)   # the server restarted: tokens are gone
        super().setUpClass()

    def new_client(self, *instances, claim_set='edhub Full Access'):
        key, secret = h.uid('ik'), h.uid('secret') + 'x' * 16
        args = ['clients', 'create', '--data', self.server.data, '--key', key, '--secret', secret,
                '--claim-set', claim_set]
        for i in instances:
            args += ['--instance', i]
        cli(*args)
        return h.Client(self.server, self.server.get_token(key, secret))

    def count(self, client, root, endpoint, headers=None):
        r = client.get('%s%s/%s?totalCount=true&limit=0' % (root, DATA, endpoint), headers=headers)
        self.assertStatus(r, 200)
        return int(r.headers['Total-Count'])


class Routing(InstanceCase):

    def test_each_instance_is_its_own_store(self):
        s = F.student()
        r = self.api.post(D1 + DATA + '/students', s)
        self.assertStatus(r, 201)
        found = self.api.get('%s%s/students?studentUniqueId=%s' % (D1, DATA, s['studentUniqueId']))
        self.assertEqual(len(found.json), 1)
        for other in (D2, D1Y25, STATE):
            r = self.api.get('%s%s/students?studentUniqueId=%s' % (other, DATA, s['studentUniqueId']))
            self.assertStatus(r, 200)
            self.assertEqual(r.json, [], other)

    def test_bootstrap_and_empty_instances(self):
        self.assertGreater(self.count(self.api, D1, 'schools'), 0)
        self.assertEqual(self.count(self.api, D2, 'schools'), 0)
        self.assertEqual(self.count(self.api, D2, 'gradeLevelDescriptors'), 0)

    def test_location_and_discovery_carry_the_route_root(self):
        s = F.student()
        r = self.api.post(D1 + DATA + '/students', s)
        self.assertStatus(r, 201)
        self.assertTrue(r.headers['Location'].startswith(self.server.base_url + D1 + DATA + '/students/'),
                        r.headers['Location'])
        self.assertStatus(self.api.get(r.headers['Location'][len(self.server.base_url):]), 200)
        d = self.anon.get(D1 + '/').json['urls']
        self.assertEqual(d['dataManagementApi'], self.server.base_url + D1 + '/data/v3/')
        self.assertEqual(d['oauth'], self.server.base_url + D1 + '/oauth/token')
        self.assertEqual(d['changeQueries'], self.server.base_url + D1 + '/changeQueries/v1/')
        t = self.anon.get('/%s/' % TENANT).json['urls']
        self.assertEqual(t['dataManagementApi'],
                         self.server.base_url + '/%s/{districtId}/{schoolYear}/data/v3/' % TENANT)

    def test_token_and_metadata_under_the_prefix(self):
        r = self.anon.request('POST', D1 + '/oauth/token', 'grant_type=client_credentials',
                              content_type='application/x-www-form-urlencoded',
                              headers={'Authorization': 'Basic ' + __import__('base64').b64encode(
                                  ('%s:%s' % (self.server.key, self.server.secret)).encode()).decode()}, auth=False)
        self.assertStatus(r, 200)
        tok = r.json['access_token']
        self.assertStatus(h.Client(self.server, tok).get(D1 + DATA + '/schools?limit=1'), 200)
        self.assertStatus(self.anon.get(D1 + '/metadata/data/v3/dependencies'), 200)
        doc = self.anon.get(D1 + '/metadata/data/v3/resources/swagger.json').json
        self.assertEqual(doc['servers'][0]['url'], self.server.base_url + D1 + '/data/v3')

    def test_no_matching_instance_is_404_naming_the_route_values(self):
        r = self.api.get('/%s/255903/2026%s/students' % (TENANT, DATA))
        self.assertProblem(r, 404, NOT_FOUND)
        self.assertIn('No ODS instance matching the available route values was found', r.json['errors'][0])
        self.assertIn('districtId: 255903', r.json['errors'][0])
        # schoolYear must satisfy range(2000,2099): the route does not exist
        self.assertProblem(self.api.get('/%s/255901/1999%s/students' % (TENANT, DATA)), 404, NOT_FOUND)
        # the context is required
        self.assertProblem(self.api.get('/%s%s/students' % (TENANT, DATA)), 404, NOT_FOUND)

    def test_unknown_tenant(self):
        r = self.api.get('/otherstate/255901/2026%s/students' % DATA)
        self.assertProblem(r, 404, NOT_FOUND)
        self.assertIn("The selected tenant 'otherstate' does not exist", r.json['detail'])
        self.assertProblem(self.api.get('/255901/2026%s/students' % DATA), 404)

    def test_client_sees_only_its_instances(self):
        c = self.new_client('d255902')
        self.assertStatus(c.get(D2 + DATA + '/students'), 200)
        r = c.get(D1 + DATA + '/students')
        self.assertProblem(r, 404, NOT_FOUND)
        s = F.student()
        self.assertStatus(c.post(D1 + DATA + '/students', s), 404)
        self.assertEqual(self.api.get('%s%s/students?studentUniqueId=%s' % (D1, DATA, s['studentUniqueId'])).json, [])

    def test_client_with_no_instance_is_refused(self):
        c = self.new_client('')
        r = c.get(D1 + DATA + '/students')
        self.assertProblem(r, 403)
        self.assertIn('has not been associated with an ODS instance', r.json['errors'][0])

    def test_change_versions_are_per_instance(self):
        before = self.api.get(STATE + '/changeQueries/v1/availableChangeVersions').json['newestChangeVersion']
        b2 = self.api.get(D2 + '/changeQueries/v1/availableChangeVersions').json['newestChangeVersion']
        self.assertStatus(self.api.post(D2 + DATA + '/students', F.student()), 201)
        self.assertEqual(self.api.get(STATE + '/changeQueries/v1/availableChangeVersions').json['newestChangeVersion'],
                         before)
        self.assertGreater(self.api.get(D2 + '/changeQueries/v1/availableChangeVersions').json['newestChangeVersion'], b2)

    def test_batch_goes_to_the_routed_instance(self):
        s = F.student()
        body = json.dumps({'resource': '/ed-fi/students', 'document': s}) + '\n'
        r = self.api.request('POST', D1Y25 + '/edhub/v1/batch', body, content_type='application/x-ndjson')
        self.assertStatus(r, 200)
        q = '%s/students?studentUniqueId=%s' % (DATA, s['studentUniqueId'])
        self.assertEqual(len(self.api.get(D1Y25 + q).json), 1)
        self.assertEqual(self.api.get(D1 + q).json, [])

    def test_health_is_deployment_wide(self):
        self.assertStatus(self.anon.get('/health'), 200)


class InstanceCli(InstanceCase):

    def test_list_json(self):
        out = json.loads(cli('instances', 'list', '--data', self.server.data, '--json').stdout)
        names = [i['name'] for i in out]
        self.assertEqual(names[0], 'default')
        self.assertEqual(set(names), {'default', 'd255901', 'd255902', 'd255901y25', 'state'})
        d1 = [i for i in out if i['name'] == 'd255901'][0]
        self.assertEqual(d1['context'], {'districtId': '255901', 'schoolYear': '2026'})
        self.assertEqual(d1['type'], 'district')
        text = cli('instances', 'list', '--data', self.server.data).stdout
        self.assertIn('unreachable: no value for route key {districtId}', text)   # the default instance

    def test_bad_requests_say_what_to_do(self):
        data = self.server.data
        p = cli('instances', 'create', '--data', data, 'd255901', check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('exists already', p.stderr)
        p = cli('instances', 'create', '--data', data, 'bad/name', check=False)
        self.assertEqual(p.returncode, 2)
        p = cli('instances', 'create', '--data', data, 'x1', '--context', 'no-equals', check=False)
        self.assertEqual(p.returncode, 2)
        self.assertFalse(os.path.exists(os.path.join(data, 'instances', 'x1', 'ods.sqlite')))
        p = cli('clients', 'create', '--data', data, '--claim-set', 'edhub Full Access', '--instance', 'nosuch',
                check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no instance named 'nosuch'", p.stderr)
        p = cli('instances', 'remove', '--data', data, 'default', check=False)
        self.assertEqual(p.returncode, 2)
        p = cli('load', '--data', data, '--instance', 'nosuch', 'x.jsonl', check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no instance named 'nosuch'", p.stderr)

    def test_create_update_remove(self):
        data = self.server.data
        cli('instances', 'create', '--data', data, 'tmp1', '--empty', '--context', 'districtId=1')
        cli('instances', 'update', '--data', data, 'tmp1', '--context', 'schoolYear=2030', '--type', 'test')
        out = json.loads(cli('instances', 'list', '--data', data, '--json').stdout)
        t = [i for i in out if i['name'] == 'tmp1'][0]
        self.assertEqual(t['context'], {'districtId': '1', 'schoolYear': '2030'})
        self.assertEqual(t['type'], 'test')
        cli('instances', 'remove', '--data', data, 'tmp1', '--delete-data')
        self.assertFalse(os.path.exists(os.path.join(data, 'instances', 'tmp1')))
        out = json.loads(cli('instances', 'list', '--data', data, '--json').stdout)
        self.assertNotIn('tmp1', [i['name'] for i in out])
        audit = cli('audit', '--data', data, '--json').stdout
        self.assertIn('instance.create', audit)
        self.assertIn('instance.remove', audit)

    def test_a_running_server_picks_up_new_and_removed_instances(self):
        import time
        data = self.server.data
        cli('instances', 'create', '--data', data, 'live1', '--context', 'districtId=777', '--context',
            'schoolYear=2026', '--empty')
        c = self.new_client('live1')
        root = '/%s/777/2026' % TENANT
        deadline, r = time.time() + 15, None
        while time.time() < deadline:
            r = c.get(root + DATA + '/students')
            if r.status == 200:
                break
            time.sleep(0.2)
        self.assertStatus(r, 200)
        self.assertStatus(c.post(root + DATA + '/students', F.student()), 201)
        cli('instances', 'remove', '--data', data, 'live1')
        deadline = time.time() + 15
        while time.time() < deadline and r.status == 200:
            r = c.get(root + DATA + '/students')
            time.sleep(0.2)
        # its only instance is gone: bound to none that exists
        self.assertProblem(r, 403)
        self.assertIn('has not been associated with an ODS instance', r.json['errors'][0])
        # the same name again at once (within one reload): the new, empty instance is served, not the old store
        s = F.student()
        cli('instances', 'create', '--data', data, 'live2', '--context', 'districtId=778', '--context',
            'schoolYear=2026', '--empty')
        c2 = self.new_client('live2')
        root2 = '/%s/778/2026' % TENANT
        deadline = time.time() + 15
        while time.time() < deadline and c2.get(root2 + DATA + '/students').status != 200:
            time.sleep(0.2)
        self.assertStatus(c2.post(root2 + DATA + '/students', s), 201)
        cli('instances', 'remove', '--data', data, 'live2', '--delete-data')
        cli('instances', 'create', '--data', data, 'live2', '--context', 'districtId=778', '--context',
            'schoolYear=2026', '--empty')
        deadline, got = time.time() + 15, None
        while time.time() < deadline:
            got = c2.get('%s%s/students?studentUniqueId=%s' % (root2, DATA, s['studentUniqueId']))
            if got.status == 200 and got.json == []:
                break
            time.sleep(0.2)
        self.assertStatus(got, 200)
        self.assertEqual(got.json, [], 'the re-created instance is empty')
        cli('instances', 'remove', '--data', data, 'live2', '--delete-data')

    def test_load_into_an_instance(self):
        s = F.student()
        path = os.path.join(self.server.tmp, 'inst-load.jsonl')
        with open(path, 'w') as f:
            f.write(json.dumps({'resource': '/ed-fi/students', 'document': s}) + '\n')
        p = cli('load', '--data', self.server.data, '--instance', 'd255902', path)
        self.assertIn('1 created', p.stderr + p.stdout)
        q = '%s/students?studentUniqueId=%s' % (DATA, s['studentUniqueId'])
        self.assertEqual(len(self.api.get(D2 + q).json), 1)
        self.assertEqual(self.api.get(D1 + q).json, [])


class AdminApi(InstanceCase):
    """The Admin API lists the served instances and binds applications to them."""

    def admin(self):
        key, secret = h.uid('ia'), h.uid('adminsecret')
        cli('clients', 'create', '--data', self.server.data, '--key', key, '--secret', secret,
            '--claim-set', 'edhub Admin API')
        body = 'client_id=%s&client_secret=%s&grant_type=client_credentials&scope=edfi_admin_api/full_access' % (
            key, secret)
        r = h.Client(self.server).request('POST', '/adminapi/connect/token', body,
                                          content_type='application/x-www-form-urlencoded', auth=False)
        self.assertStatus(r, 200)
        return h.Client(self.server, r.json['access_token'])

    def test_instances_contexts_and_application_binding(self):
        a = self.admin()
        insts = a.get('/adminapi/v2/odsInstances?limit=50').json
        by_name = {i['name']: i for i in insts}
        self.assertEqual(set(by_name), {'default', 'd255901', 'd255902', 'd255901y25', 'state'})
        self.assertEqual(by_name['default']['id'], 1)
        self.assertEqual(by_name['d255901']['instanceType'], 'district')
        one = a.get('/adminapi/v2/odsInstances/%d' % by_name['d255902']['id']).json
        self.assertEqual({(c['contextKey'], c['contextValue']) for c in one['odsInstanceContexts']},
                         {('districtId', '255902'), ('schoolYear', '2026')})
        ctx = a.get('/adminapi/v2/odsInstanceContexts?limit=100').json
        self.assertIn(by_name['state']['id'], [c['odsInstanceId'] for c in ctx])
        self.assertEqual(a.get('/adminapi/v2/odsInstances/99').status, 404)
        # an application bound to d255902 only, through the Admin API
        vendor = a.post('/adminapi/v2/vendors', {'company': 'Inst Vendor ' + h.uid('v'),
                                                 'namespacePrefixes': 'uri://inst.example'})
        self.assertStatus(vendor, 201)
        vid = int(vendor.headers['Location'].rstrip('/').rsplit('/', 1)[1])
        app = a.post('/adminapi/v2/applications', {'applicationName': 'inst app', 'vendorId': vid,
                                                   'claimSetName': 'edhub Full Access',
                                                   'odsInstanceIds': [by_name['d255902']['id']]})
        self.assertStatus(app, 201)
        c = h.Client(self.server, self.server.get_token(app.json['key'], app.json['secret']))
        self.assertStatus(c.get(D2 + DATA + '/students'), 200)
        self.assertProblem(c.get(D1 + DATA + '/students'), 404, NOT_FOUND)
        got = a.get('/adminapi/v2/applications/%d' % app.json['id']).json
        self.assertEqual(got['odsInstanceIds'], [by_name['d255902']['id']])
        bad = a.post('/adminapi/v2/applications', {'applicationName': 'inst app2', 'vendorId': vid,
                                                   'claimSetName': 'edhub Full Access', 'odsInstanceIds': [999]})
        self.assertEqual(bad.status, 400)


    def test_create_contexts_and_remove_through_the_admin_api(self):
        a = self.admin()
        name = 'api' + h.uid('x').replace('-', '')
        r = a.post('/adminapi/v2/odsInstances', {'name': name, 'instanceType': 'district', 'connectionString': ''})
        self.assertStatus(r, 201)
        loc = r.headers['Location']
        iid = int(loc.rsplit('/', 1)[1])
        got = a.get(loc).json
        self.assertEqual((got['name'], got['instanceType'], got['odsInstanceContexts']), (name, 'district', []))
        self.assertTrue(os.path.exists(os.path.join(self.server.data, 'instances', name.lower(), 'ods.sqlite')))
        self.assertEqual(a.post('/adminapi/v2/odsInstances', {'name': name, 'instanceType': 'x'}).status, 400)
        self.assertEqual(a.post('/adminapi/v2/odsInstances', {'name': 'bad/name'}).status, 400)
        self.assertEqual(a.post('/adminapi/v2/odsInstances', {'name': 'sqlsrv1', 'connectionString':
                                                              'Server=x;Database=y'}).status, 400)
        for k, v in (('districtId', '888'), ('schoolYear', '2026')):
            r = a.post('/adminapi/v2/odsInstanceContexts', {'odsInstanceId': iid, 'contextKey': k, 'contextValue': v})
            self.assertStatus(r, 201)
        self.assertEqual(a.post('/adminapi/v2/odsInstanceContexts', {'odsInstanceId': iid, 'contextKey': 'schoolYear',
                                                                     'contextValue': '2027'}).status, 400)
        # served at once: a client bound to it writes there (an empty instance: a descriptor first)
        c = self.new_client(name)
        root = '/%s/888/2026' % TENANT
        r = c.post(root + DATA + '/gradeLevelDescriptors', {'namespace': 'uri://x.org/GradeLevelDescriptor',
                                                            'codeValue': 'K', 'shortDescription': 'K'})
        self.assertStatus(r, 201)
        ctx = [x for x in a.get('/adminapi/v2/odsInstanceContexts?limit=100').json if x['odsInstanceId'] == iid]
        year = [x for x in ctx if x['contextKey'] == 'schoolYear'][0]
        self.assertStatus(a.delete('/adminapi/v2/odsInstanceContexts/%d' % year['id']), 200)
        self.assertProblem(c.get(root + DATA + '/gradeLevelDescriptors'), 404, NOT_FOUND)  # no longer matches
        self.assertStatus(a.delete(loc), 200)
        self.assertNotIn(name, [i['name'] for i in a.get('/adminapi/v2/odsInstances?limit=100').json])
        self.assertEqual(a.delete('/adminapi/v2/odsInstances/1').status, 400, 'the default instance stays')
        for big in ('9223372036854775807', '4294967297', '17179869185'):   # never an index
            self.assertEqual(a.delete('/adminapi/v2/odsInstances/' + big).status, 404)
            self.assertEqual(a.delete('/adminapi/v2/odsInstanceContexts/' + big).status, 404)
        audit = cli('audit', '--data', self.server.data, '--json').stdout
        self.assertIn('instance.create', audit)


class Snapshots(InstanceCase):
    """Snapshots of the state instance: SQLite files, or PostgreSQL databases on the PostgreSQL run."""

    def snap(self, name):
        return cli('snapshot', 'create', '--data', self.server.data, '--instance', 'state', '--name', name)

    def test_snapshot_is_a_point_in_time_and_read_only(self):
        before = F.student()
        self.assertStatus(self.api.post(STATE + DATA + '/students', before), 201)
        p = self.snap('s-' + h.uid('n'))
        self.assertIn('taken', p.stdout)
        after = F.student()
        self.assertStatus(self.api.post(STATE + DATA + '/students', after), 201)
        use = {'Use-Snapshot': 'true'}
        q = lambda s: '%s%s/students?studentUniqueId=%s' % (STATE, DATA, s['studentUniqueId'])
        self.assertEqual(len(self.api.get(q(before), headers=use).json), 1)
        self.assertEqual(self.api.get(q(after), headers=use).json, [])
        self.assertEqual(len(self.api.get(q(after)).json), 1)
        self.assertEqual(len(self.api.get(q(after), headers={'Use-Snapshot': 'false'}).json), 1)
        snap_cv = self.api.get(STATE + '/changeQueries/v1/availableChangeVersions', headers=use).json
        live_cv = self.api.get(STATE + '/changeQueries/v1/availableChangeVersions').json
        self.assertLess(snap_cv['newestChangeVersion'], live_cv['newestChangeVersion'])
        for method in ('POST', 'PUT', 'DELETE'):
            path = STATE + DATA + '/students' + ('' if method == 'POST' else '/' + '0' * 32)
            for hdr in (use, {'Use-Snapshot': 'false'}, {'Snapshot-Identifier': 'x'}):
                r = self.api.request(method, path, F.student() if method != 'DELETE' else None, headers=hdr)
                self.assertProblem(r, 405, 'urn:ed-fi:api:snapshots:method-not-allowed')
                self.assertEqual(r.headers.get('Allow'), 'GET')

    def test_named_snapshots_listed_and_retired(self):
        n1, n2 = 'a-' + h.uid('n'), 'b-' + h.uid('n')
        self.snap(n1)
        s = F.student()
        self.assertStatus(self.api.post(STATE + DATA + '/students', s), 201)
        self.snap(n2)
        listed = self.api.get(STATE + '/changeQueries/v1/snapshots').json
        names = [x['snapshotIdentifier'] for x in listed]
        self.assertIn(n1, names)
        self.assertIn(n2, names)
        self.assertEqual(set(listed[0]), {'id', 'snapshotIdentifier', 'snapshotDateTime'})
        self.assertTrue(all(h.UUID_RE.match(x['id']) for x in listed))
        q = '%s%s/students?studentUniqueId=%s' % (STATE, DATA, s['studentUniqueId'])
        self.assertEqual(self.api.get(q, headers={'Snapshot-Identifier': n1}).json, [])
        self.assertEqual(len(self.api.get(q, headers={'Snapshot-Identifier': n2}).json), 1)
        r = self.api.get(q, headers={'Snapshot-Identifier': 'never-taken'})
        self.assertProblem(r, 404, NOT_FOUND)
        self.assertEqual(r.json['detail'], 'Snapshot not found.')
        snaps = os.path.join(self.server.data, 'instances', 'state', 'snapshots')
        self.assertTrue(os.path.exists(os.path.join(snaps, n1 + ('.conf' if h.PG_DIR else '.sqlite'))))
        cli('snapshot', 'remove', '--data', self.server.data, '--instance', 'state', '--name', n1)
        self.assertFalse(os.path.exists(os.path.join(snaps, n1 + '.conf')))
        self.assertFalse(os.path.exists(os.path.join(snaps, n1 + '.sqlite')))
        r = self.api.get(q, headers={'Snapshot-Identifier': n1})
        self.assertProblem(r, 410)
        self.assertEqual(r.json['detail'], 'Snapshot not available.')
        self.assertNotIn(n1, [x['snapshotIdentifier'] for x in self.api.get(STATE + '/changeQueries/v1/snapshots').json])
        p = cli('snapshot', 'create', '--data', self.server.data, '--instance', 'state', '--name', n1, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('retired', p.stderr)

    def test_instance_without_snapshot(self):
        r = self.api.get(D2 + DATA + '/students', headers={'Use-Snapshot': 'true'})
        self.assertProblem(r, 404, NOT_FOUND)
        self.assertEqual(r.json['detail'], 'Snapshot not found.')

    def test_snapshot_list_cli(self):
        n = 'c-' + h.uid('n')
        self.snap(n)
        out = json.loads(cli('snapshot', 'list', '--data', self.server.data, '--instance', 'state', '--json').stdout)
        mine = [x for x in out if x['name'] == n]
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine[0]['instance'], 'state')
        self.assertGreater(mine[0]['changeVersion'], 0)
        self.assertFalse(mine[0]['retired'])
