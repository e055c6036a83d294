#!/usr/bin/env python3
"""Writes model/ds-5.2/security/edhub-claimsets.json: edhub's own claim sets, as grants on the DS 5.2
resource-claim hierarchy of model/ds-5.2/security/claims.json (the extra-file format of `edhub claimsets import`).

  edhub Full Access            every action on every root claim, NoFurtherAuthorizationRequired (edhub init's client)
  edhub State Reporting Reader Read and ReadChanges on every root claim, default strategies (give it the SEA's id)
  edhub HR Vendor              reads types, descriptors and education organizations; owns staff, staff assignments
                               and employment
  edhub IEP Vendor             reads types, descriptors, education organizations, students, enrolments and programs;
                               owns special-education program associations and eligibility
  edhub Admin API              no resource claims: the clients of /adminapi

usage: tools/edhub_claimsets.py [--check]   (--check: exit 1 if the file differs from what would be written)
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEC = os.path.join(HERE, '..', 'model', 'ds-5.2', 'security')
P = 'http://ed-fi.org/identity/claims/'
ALL = ['Create', 'Read', 'Update', 'Delete', 'ReadChanges']


def build():
    claims = json.load(open(os.path.join(SEC, 'claims.json')))
    names = []

    def walk(n):
        names.append(n['name'])
        for c in n.get('claims', []):
            walk(c)
    for r in claims['claimsHierarchy']:
        walk(r)

    def find(short):
        hits = [n for n in names if n.endswith('/' + short)]
        assert len(hits) == 1, (short, hits)
        return hits[0]

    def grant(claim_set, actions, override=None):
        acts = []
        for a in actions:
            d = {'name': a}
            if override:
                d['authorizationStrategyOverrides'] = [{'name': override}]
            acts.append(d)
        return {'name': claim_set, 'actions': acts}

    nodes = {}

    def add(claim, g):
        nodes.setdefault(claim, []).append(g)
    for r in [r['name'] for r in claims['claimsHierarchy']]:
        add(r, grant('edhub Full Access', ALL, 'NoFurtherAuthorizationRequired'))
        add(r, grant('edhub State Reporting Reader', ['Read', 'ReadChanges']))
    common = ['domains/edFiTypes', 'domains/systemDescriptors', 'domains/managedDescriptors',
              'domains/educationOrganizations']
    for s in ('edhub HR Vendor', 'edhub IEP Vendor'):
        for r in common:
            add(P + r, grant(s, ['Read', 'ReadChanges']))
    for k in ('staff', 'staffEducationOrganizationAssignmentAssociation',
              'staffEducationOrganizationEmploymentAssociation'):
        add(find(k), grant('edhub HR Vendor', ALL))
    for k in ('studentSpecialEducationProgramAssociation', 'studentSpecialEducationProgramEligibilityAssociation'):
        add(find(k), grant('edhub IEP Vendor', ALL))
    for k in ('student', 'studentSchoolAssociation', 'program'):
        add(find(k), grant('edhub IEP Vendor', ['Read', 'ReadChanges']))
    sets = ['edhub Full Access', 'edhub State Reporting Reader', 'edhub HR Vendor', 'edhub IEP Vendor',
            'edhub Admin API']
    return {'claimSets': [{'claimSetName': n, 'isSystemReserved': True} for n in sets],
            'claimsHierarchy': [{'name': k, 'claimSets': v} for k, v in nodes.items()]}


def main():
    text = json.dumps(build(), indent=1) + '\n'
    path = os.path.join(SEC, 'edhub-claimsets.json')
    if '--check' in sys.argv:
        same = open(path).read() == text
        print('edhub-claimsets.json is %s' % ('up to date' if same else 'out of date: run tools/edhub_claimsets.py'))
        sys.exit(0 if same else 1)
    open(path, 'w').write(text)
    print('wrote', path)


if __name__ == '__main__':
    main()
