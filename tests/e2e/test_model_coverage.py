"""Every endpoint of the model is served by the generic resource path.

For EVERY resource and descriptor endpoint in the DS 5.2 ApiSchema (one generated test each):
  - GET collection -> 200 with a JSON array (items carry id/_etag/_lastModifiedDate),
  - POST {} -> 400 data-validation-failed naming exactly the required properties,
  - GET of an unknown id -> 404,
  - GET with every published query parameter (values of the right type) -> 200 [],
    also with the parameter names upper-cased.
"""

import unittest
import urllib.parse

import harness as h

DATA = h.DATA
MISSING_ID = '3f9c1a2b-4d5e-4f60-8a7b-9c0d1e2f3a4b'
SAMPLE = {'string': 'zz-no-such-value', 'number': '987654321', 'boolean': 'true', 'date': '1901-01-01',
          'date-time': '1901-01-01T00:00:00Z', 'time': '03:04:05'}


def setUpModule():
    h.start_module_server(__name__)


def tearDownModule():
    h.stop_module_server(__name__)


def endpoints():
    return sorted((n, r) for n, r in h.model()['resourceSchemas'].items() if not r.get('isResourceExtension'))


class Get(h.EdhubTestCase):
    pass


class PostEmpty(h.EdhubTestCase):
    pass


class GetMissing(h.EdhubTestCase):
    pass


class QueryFields(h.EdhubTestCase):
    pass


def _get(ep):
    def test(self):
        r = self.api.get('%s/%s?totalCount=true' % (DATA, ep))
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, 'application/json', repr(r))
        self.assertIsInstance(r.json, list, repr(r))
        total = r.headers.get('Total-Count')
        self.assertIsNotNone(total, repr(r))
        self.assertEqual(len(r.json), min(int(total), 500), repr(r)[:300])
        for d in r.json[:5]:
            self.assertIsUuid(d.get('id'))
            self.assertIn('_etag', d)
            self.assertRegex(d.get('_lastModifiedDate', ''), h.LASTMOD_RE)
    return test


def _post_empty(ep, schema):
    required = sorted('$.' + p for p in schema['jsonSchemaForInsert'].get('required', []))

    def test(self):
        r = self.api.post('%s/%s' % (DATA, ep), {})
        body = self.assertValidationFailed(r)
        self.assertEqual(sorted(body['validationErrors']), required, repr(r))
    return test


def _get_missing(ep):
    def test(self):
        r = self.api.get('%s/%s/%s' % (DATA, ep, MISSING_ID))
        self.assertStatus(r, 404)
    return test


def _query(ep, schema):
    fields = sorted(schema.get('queryFieldMapping', {}).items())

    def test(self):
        params = {}
        for name, paths in fields:
            if name == 'id':
                params[name] = MISSING_ID
            else:
                params[name] = SAMPLE[paths[0]['type']]
        for names in ('as-published', 'upper-case'):
            p = params if names == 'as-published' else {k.upper(): v for k, v in params.items()}
            with self.subTest(names=names):
                r = self.api.get('%s/%s?%s' % (DATA, ep, urllib.parse.urlencode(p)))
                self.assertStatus(r, 200)
                self.assertEqual(r.json, [], 'no document can match all sample values: %r' % r)
    return test


for _ep, _schema in endpoints():
    setattr(Get, 'test_' + _ep, _get(_ep))
    setattr(PostEmpty, 'test_' + _ep, _post_empty(_ep, _schema))
    setattr(GetMissing, 'test_' + _ep, _get_missing(_ep))
    setattr(QueryFields, 'test_' + _ep, _query(_ep, _schema))


class Totals(h.EdhubTestCase):

    def test_model_has_all_endpoints(self):
        self.assertGreaterEqual(len(endpoints()), 349)


if __name__ == '__main__':
    unittest.main()
