"""Discovery document, metadata sections, OpenAPI documents and the dependencies endpoint
(api-behavior §2, §2.1, §2.2)."""

import unittest

import harness as h


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


def endpoints():
    rs = h.model()['resourceSchemas']
    return {n: r for n, r in rs.items() if not r.get('isResourceExtension')}


class Discovery(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.r = cls.anon.get('/', auth=False)

    def test_status_and_type(self):
        self.assertStatus(self.r, 200)
        self.assertEqual(self.r.content_type, 'application/json')
        self.assertIsInstance(self.r.json, dict)

    def test_version_fields(self):
        self.assertIsInstance(self.r.json.get('version'), str, repr(self.r))

    def test_data_models(self):
        models = self.r.json.get('dataModels')
        self.assertIsInstance(models, list, repr(self.r))
        edfi = [m for m in models if m.get('name') == 'Ed-Fi']
        self.assertEqual(len(edfi), 1, repr(self.r))
        self.assertEqual(edfi[0].get('version'), '5.2.0')
        names = [m.get('name') for m in models]
        self.assertEqual(names, sorted(names), 'dataModels sorted by name')

    def test_urls(self):
        urls = self.r.json.get('urls')
        self.assertIsInstance(urls, dict, repr(self.r))
        base = self.server.base_url
        self.assertEqual(urls.get('dependencies'), base + '/metadata/data/v3/dependencies')
        self.assertEqual(urls.get('openApiMetadata'), base + '/metadata/')
        self.assertEqual(urls.get('oauth'), base + '/oauth/token')
        self.assertEqual(urls.get('dataManagementApi'), base + '/data/v3/')
        self.assertEqual(urls.get('changeQueries'), base + '/changeQueries/v1/')

    def test_token_introspection_url(self):
        urls = self.r.json.get('urls') or {}
        self.assertEqual(urls.get('oauthTokenIntrospection'), self.server.base_url + '/oauth/token_info')

    def test_urls_are_live(self):
        urls = self.r.json['urls']
        base = self.server.base_url
        for key in ('dependencies', 'openApiMetadata'):
            with self.subTest(key=key):
                r = self.api.get(urls[key][len(base):])
                self.assertStatus(r, 200)
        r = self.api.get(urls['dataManagementApi'][len(base):] + 'ed-fi/students?limit=1')
        self.assertStatus(r, 200)


class MetadataSections(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.r = cls.api.get('/metadata/')

    def test_list_shape(self):
        self.assertStatus(self.r, 200)
        self.assertIsInstance(self.r.json, list, repr(self.r))
        for sec in self.r.json:
            self.assertIsInstance(sec, dict)
            for k in ('name', 'endpointUri', 'prefix'):
                self.assertIn(k, sec, repr(sec))

    def test_resources_and_descriptors_sections(self):
        by_name = {s['name'].lower(): s for s in self.r.json}
        base = self.server.base_url
        self.assertIn('resources', by_name, repr(self.r))
        self.assertIn('descriptors', by_name, repr(self.r))
        self.assertEqual(by_name['resources']['endpointUri'], base + '/metadata/data/v3/resources/swagger.json')
        self.assertEqual(by_name['descriptors']['endpointUri'], base + '/metadata/data/v3/descriptors/swagger.json')

    def test_every_section_uri_is_live_json(self):
        base = self.server.base_url
        for sec in self.r.json:
            uri = sec['endpointUri']
            with self.subTest(section=sec['name']):
                self.assertTrue(uri.startswith(base), uri)
                r = self.api.get(uri[len(base):])
                self.assertStatus(r, 200)
                self.assertIsNotNone(r.json, 'section document must be JSON: %s' % uri)


class OpenApi(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.res = cls.api.get('/metadata/data/v3/resources/swagger.json')
        cls.desc = cls.api.get('/metadata/data/v3/descriptors/swagger.json')

    def _paths(self, r):
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, 'application/json')
        doc = r.json
        self.assertIsInstance(doc, dict)
        self.assertTrue(str(doc.get('openapi', '')).startswith('3') or doc.get('swagger') == '2.0',
                        'not an OpenAPI document: %s' % list(doc)[:10])
        self.assertIsInstance(doc.get('paths'), dict)
        return doc['paths']

    @staticmethod
    def _find(paths, suffix):
        return [p for p in paths if p.lower().endswith(suffix.lower())]

    def test_resources_document_lists_every_resource(self):
        paths = self._paths(self.res)
        missing = []
        for n, r in endpoints().items():
            if r.get('isDescriptor'):
                continue
            if not self._find(paths, '/ed-fi/%s' % n) or not self._find(paths, '/ed-fi/%s/{id}' % n):
                missing.append(n)
        self.assertEqual(missing, [], 'resources missing from resources/swagger.json')

    def test_change_query_paths_and_server_url(self):
        doc = self.res.json
        paths = self._paths(self.res)
        deletes = paths['/ed-fi/students/deletes']['get']
        names = {p['name'] for p in deletes['parameters']}
        self.assertTrue({'minChangeVersion', 'maxChangeVersion', 'offset', 'limit', 'totalCount'} <= names, names)
        ref = deletes['responses']['200']['content']['application/json']['schema']['items']['$ref']
        self.assertIn(ref.rsplit('/', 1)[1], doc['components']['schemas'])
        self.assertIn('/ed-fi/students/keyChanges', paths)
        coll = {p['name'] for p in paths['/ed-fi/students']['get']['parameters']}
        self.assertIn('minChangeVersion', coll)
        dpaths = self._paths(self.desc)
        self.assertIn('/ed-fi/gradeLevelDescriptors/deletes', dpaths)
        self.assertNotIn('/ed-fi/gradeLevelDescriptors/keyChanges', dpaths)
        # the server URL is absolute, where this client reached the API
        self.assertEqual(doc['servers'][0]['url'], self.server.base_url + '/data/v3')

    def test_resources_document_has_no_descriptors(self):
        paths = self._paths(self.res)
        self.assertEqual(self._find(paths, '/ed-fi/gradeLevelDescriptors'), [])

    def test_descriptors_document_lists_every_descriptor(self):
        paths = self._paths(self.desc)
        missing = [n for n, r in endpoints().items()
                   if r.get('isDescriptor') and not self._find(paths, '/ed-fi/%s' % n)]
        self.assertEqual(missing, [], 'descriptors missing from descriptors/swagger.json')
        self.assertEqual(self._find(paths, '/ed-fi/students'), [])

    def test_operations(self):
        paths = self._paths(self.res)
        coll = paths[self._find(paths, '/ed-fi/students')[0]]
        item = paths[self._find(paths, '/ed-fi/students/{id}')[0]]
        self.assertTrue({'get', 'post'} <= set(k.lower() for k in coll), sorted(coll))
        self.assertTrue({'get', 'put', 'delete'} <= set(k.lower() for k in item), sorted(item))


class Dependencies(h.EdhubTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.r = cls.api.get('/metadata/data/v3/dependencies')
        cls.items = cls.r.json if isinstance(cls.r.json, list) else []
        cls.create_order = {}
        for it in cls.items:
            if isinstance(it, dict) and 'Create' in (it.get('operations') or []):
                cls.create_order[it.get('resource')] = it.get('order')
        m = h.model()
        cls.rs = endpoints()
        cls.name_to_ep = {r['resourceName']: n for n, r in cls.rs.items()}
        cls.subclasses = {}
        for n, r in cls.rs.items():
            if r.get('isSubclass'):
                cls.subclasses.setdefault(r['superclassResourceName'], []).append(n)
        cls.abstract = set(m.get('abstractResources', {}))

    def targets(self, resource_name):
        if resource_name in self.abstract:
            return self.subclasses.get(resource_name, [])
        ep = self.name_to_ep.get(resource_name)
        return [ep] if ep else []

    def references(self, ep, required_only):
        """(target endpoints) of the references of ep; required = top-level property in `required`."""
        r = self.rs[ep]
        req = set(r['jsonSchemaForInsert'].get('required', []))
        out = set()
        for m in r['documentPathsMapping'].values():
            if not m.get('isReference'):
                continue
            if m.get('isDescriptor'):
                path = m['path']
            else:
                path = m['referenceJsonPaths'][0]['referenceJsonPath']
            top = path[2:].split('.')[0].split('[')[0]
            nested = '[*]' in path
            if required_only and (nested or top not in req):
                continue
            for t in self.targets(m['resourceName']):
                if t != 'schoolYearTypes':
                    out.add(t)
        return out

    def test_shape(self):
        self.assertStatus(self.r, 200)
        self.assertEqual(self.r.content_type, 'application/json')
        self.assertIsInstance(self.r.json, list, repr(self.r))
        for it in self.items:
            self.assertEqual(set(it), {'resource', 'order', 'operations'}, repr(it))
            self.assertRegex(it['resource'], r'^/[a-z0-9-]+/[A-Za-z0-9]+$', repr(it))
            self.assertFalse(it['resource'].startswith('/data'), repr(it))
            self.assertIsInstance(it['order'], int)
            self.assertGreaterEqual(it['order'], 1)
            self.assertTrue(set(it['operations']) <= {'Create', 'Update'} and it['operations'], repr(it))

    def test_graphml(self):
        r = self.api.get('/metadata/data/v3/dependencies', headers={'Accept': 'application/graphml'})
        self.assertStatus(r, 200)
        self.assertIn('graphml', r.content_type + r.text[:500].lower(), repr(r)[:500])
        self.assertIn('<graphml', r.text)
        self.assertIn('/ed-fi/studentSchoolAssociations', r.text)

    def test_ordered_by_group(self):
        orders = [it['order'] for it in self.items]
        self.assertEqual(orders, sorted(orders))
        self.assertEqual(sorted(set(orders)), list(range(1, max(orders) + 1)), 'orders must be 1..n without gaps')

    def test_every_resource_listed_once_except_school_years(self):
        expected = set('/ed-fi/%s' % n for n in self.rs) - {'/ed-fi/schoolYearTypes'}
        creates = [it['resource'] for it in self.items
                   if 'Create' in it['operations'] and it['resource'].startswith('/ed-fi/')]
        self.assertEqual(len(creates), len(set(creates)), 'a resource has two Create entries')
        self.assertEqual(set(creates), expected)
        self.assertNotIn('/ed-fi/schoolYearTypes', [it['resource'] for it in self.items])

    def test_groups_sorted_by_resource_path(self):
        groups = {}
        for it in self.items:
            if it['operations'] == ['Update']:
                continue  # the person post-pass entries are inserted at the front of a group
            groups.setdefault(it['order'], []).append(it['resource'])
        for order, res in groups.items():
            with self.subTest(order=order):
                self.assertTrue(res == sorted(res) or res == sorted(res, key=str.lower),
                                'group %d not sorted: %s' % (order, res))

    def test_descriptors_are_in_group_one(self):
        for n, r in self.rs.items():
            if r.get('isDescriptor'):
                self.assertEqual(self.create_order.get('/ed-fi/' + n), 1, n)

    def test_required_references_come_first(self):
        bad = []
        for n in self.rs:
            if n == 'schoolYearTypes':
                continue
            mine = self.create_order.get('/ed-fi/' + n)
            for t in self.references(n, required_only=True):
                theirs = self.create_order.get('/ed-fi/' + t)
                if mine is None or theirs is None or not theirs < mine:
                    bad.append('%s(%s) requires %s(%s)' % (n, mine, t, theirs))
        self.assertEqual(bad, [])

    def test_layers_are_minimal(self):
        # Kahn layering: a resource in group k > 1 references something in group k-1.
        bad = []
        for n in self.rs:
            mine = self.create_order.get('/ed-fi/' + n)
            if not mine or mine == 1:
                continue
            prev = [t for t in self.references(n, required_only=False)
                    if self.create_order.get('/ed-fi/' + t) == mine - 1]
            if not prev:
                bad.append('%s at %d' % (n, mine))
        self.assertEqual(bad, [])

    def expected_orders(self):
        """The spec algorithm (§2.2 steps 1-4) computed from the model file."""
        verts = set(n for n in self.rs if n != 'schoolYearTypes')
        edges = set()
        for n in verts:
            req = set(self.rs[n]['jsonSchemaForInsert'].get('required', []))
            for m in self.rs[n]['documentPathsMapping'].values():
                if not m.get('isReference'):
                    continue
                path = m['path'] if m.get('isDescriptor') else m['referenceJsonPaths'][0]['referenceJsonPath']
                top = path[2:].split('.')[0].split('[')[0]
                required = top in req and '[*]' not in path
                for t in self.targets(m['resourceName']):
                    if t in verts and t != n:
                        edges.add((t, n, required))
        # step 3: break cycles by dropping non-required edges that lie on a cycle
        while True:
            adj = {}
            for a, b, rq in edges:
                adj.setdefault(a, []).append((b, rq))
            cycle = None
            color = {}
            for root in sorted(adj):
                if root in color or cycle:
                    continue
                stack = [(root, iter(adj.get(root, [])))]
                path = [root]
                color[root] = 1
                while stack and not cycle:
                    node, it = stack[-1]
                    nxt = next(it, None)
                    if nxt is None:
                        color[node] = 2
                        stack.pop()
                        path.pop()
                        continue
                    v = nxt[0]
                    if color.get(v) == 1:
                        cycle = path[path.index(v):] + [v]
                    elif v not in color:
                        color[v] = 1
                        path.append(v)
                        stack.append((v, iter(adj.get(v, []))))
            if not cycle:
                break
            removable = [e for e in edges for a, b in zip(cycle, cycle[1:]) if e[0] == a and e[1] == b and not e[2]]
            self.assertTrue(removable, 'cycle of required references in the model: %s' % cycle)
            edges.discard(removable[0])
        order, remaining, k = {}, set(verts), 1
        while remaining:
            layer = [v for v in remaining if not any(e[1] == v and e[0] in remaining for e in edges)]
            self.assertTrue(layer)
            for v in layer:
                order['/ed-fi/' + v] = k
            remaining -= set(layer)
            k += 1
        return order

    def test_exact_layering(self):
        expected = self.expected_orders()
        got = {r: o for r, o in self.create_order.items() if r.startswith('/ed-fi/')}
        diff = sorted('%s: expected %s, got %s' % (r, expected.get(r), got.get(r))
                      for r in set(expected) | set(got) if expected.get(r) != got.get(r))
        self.assertEqual(diff, [])

    def test_spot_checks(self):
        o = lambda n: self.create_order['/ed-fi/' + n]  # noqa: E731
        self.assertLess(o('educationServiceCenters'), o('localEducationAgencies'))
        self.assertLess(o('localEducationAgencies'), o('schools'))
        self.assertLess(o('schools'), o('sessions'))
        self.assertLess(o('sessions'), o('courseOfferings'))
        self.assertLess(o('courseOfferings'), o('sections'))
        self.assertLess(o('sections'), o('studentSectionAssociations'))
        self.assertLess(o('students'), o('studentSchoolAssociations'))
        # an abstract EducationOrganization reference waits for every concrete subclass
        for sub in ('schools', 'localEducationAgencies', 'educationServiceCenters', 'stateEducationAgencies',
                    'postSecondaryInstitutions', 'communityOrganizations'):
            self.assertLess(o(sub), o('programs'), sub)

    def _person(self, res):
        return [it for it in self.items if it['resource'] == '/ed-fi/' + res]

    def test_students_update_after_enrollment(self):
        entries = self._person('students')
        self.assertEqual(len(entries), 2, entries)
        create = [e for e in entries if e['operations'] == ['Create']]
        update = [e for e in entries if e['operations'] == ['Update']]
        self.assertEqual(len(create), 1, entries)
        self.assertEqual(len(update), 1, entries)
        self.assertEqual(update[0]['order'], self.create_order['/ed-fi/studentSchoolAssociations'] + 1)

    def test_staffs_update_after_assignments(self):
        entries = self._person('staffs')
        update = [e for e in entries if e['operations'] == ['Update']]
        self.assertEqual(len(entries), 2, entries)
        self.assertEqual(len(update), 1, entries)
        want = max(self.create_order['/ed-fi/staffEducationOrganizationEmploymentAssociations'],
                   self.create_order['/ed-fi/staffEducationOrganizationAssignmentAssociations']) + 1
        self.assertEqual(update[0]['order'], want)

    def test_contacts_update_after_associations(self):
        entries = self._person('contacts')
        update = [e for e in entries if e['operations'] == ['Update']]
        self.assertEqual(len(entries), 2, entries)
        self.assertEqual(len(update), 1, entries)
        want = max(self.create_order['/ed-fi/studentContactAssociations'],
                   self.create_order['/ed-fi/studentSchoolAssociations']) + 1
        self.assertEqual(update[0]['order'], want)

    def test_update_entries_first_in_group(self):
        for it_index, it in enumerate(self.items):
            if it['operations'] == ['Update']:
                if it_index > 0:
                    prev = self.items[it_index - 1]
                    self.assertTrue(prev['order'] < it['order'] or prev['operations'] == ['Update'],
                                    'Update entry %r is not at the start of its group' % it)

    def test_other_resources_create_and_update(self):
        for it in self.items:
            if it['resource'] in ('/ed-fi/students', '/ed-fi/staffs', '/ed-fi/contacts'):
                continue
            self.assertEqual(sorted(it['operations']), ['Create', 'Update'], repr(it))


if __name__ == '__main__':
    unittest.main()
