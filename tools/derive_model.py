#!/usr/bin/env python3
"""Derive model/ds-5.2/ApiSchema.json from the reconstructed DS 5.2 ApiSchema.

Inputs (both under the shared folder, default <repo>/../shared):
  edfi/api-schema/ds-5.2-reconstructed/ds-5.2-api-schema-reconstructed.json
      the DS 5.2 ApiSchema rebuilt in the old multi-project layout
      (projectSchemas["ed-fi"].resourceSchemas[...]); see its SOURCE.md section 4.
  edfi/api-schema/ds-5.2-derived/ds-5.2-relational-model.manifest.json
      the DMS relational model manifest generated from the authoritative
      DS 5.2 ApiSchema (tables, columns with source_path and SQL type, and
      per child table identity_metadata.semantic_identity_bindings).

The reconstructed file lacks things newer ApiSchema files carry. This tool adds
them and writes the result (the tpdm authoritative ApiSchema under
edfi/api-schema/extensions/ is read only to check the EdOrg hierarchy):

  decimalPropertyValidationInfos
      [{"decimalPlaces": S, "path": "$.x", "totalDigits": P}, ...] for every
      manifest column of type {"kind": "Decimal", "precision": P, "scale": S}
      (paths are absolute, with [*] for collections), sorted by path.
  arrayUniquenessConstraints
      MetaEd/DMS format (as in the TPDM authoritative ApiSchema):
      [{"paths": ["$.addresses[*].city", ...],
        "nestedConstraints": [{"basePath": "$.addresses[*]",
                               "paths": ["$.periods[*].beginDate"]}]}, ...]
      one entry per top-level collection (a collection not inside another
      collection), built from the child tables' semantic_identity_bindings.
      Nested collections become nestedConstraints of their parent collection:
      basePath is the parent collection's path (relative to its own parent
      item) and paths are relative to the parent item.  Reference identities
      are listed as the reference's member paths.
  minimum / maximum on integer properties
      for every column typed Int16/Int32 the property node in
      jsonSchemaForInsert gets the type's range, unless it already has an
      equal or tighter bound (e.g. school years keep 1900..2100).  Int64 is
      left alone.
  securableElements (every resource schema)
      MetaEd/DMS format {"Contact": [paths], "EducationOrganization":
      [{"jsonPath", "metaEdName"}], "Namespace": [paths], "Staff": [paths],
      "Student": [paths]}, following MetaEd's *SecurableElementEnhancer rules.
      Every path is followed through the references (referenceJsonPaths ->
      identityJsonPath of the referenced resource) to the scalar it comes from;
      role names on the way are read from the relational manifest (a reference
      column base name is roleName + entity name, e.g. CourseCourse).
        EducationOrganization: identity paths ending on the id of
          EducationOrganization or a subclass with no role name anywhere on the
          way (an EdOrg's own id included); metaEdName is that id property
          (SchoolId, EducationOrganizationId, ...); sorted by metaEdName, ties in
          identity declaration order.  Then MetaEd's core configuration:
          DisciplineAction + ResponsibilitySchool, StudentAssessment +
          ReportedSchool, OrganizationDepartment replaced by
          ParentEducationOrganization (metaEdName = that property), and for
          ProgramEvaluation(Element/Objective) and EvaluationRubricDimension the
          identity EdOrg ids reached through the role name "Program"
          (metaEdName = the top-level reference's entity name).
        Student/Staff/Contact: identity paths ending on that person's unique id
          (role names ignored); the person resource itself lists its own id.
        Namespace: root-scope (non-collection) paths whose source is a property
          named Namespace that is required or identity where it is declared
          (own property or via any reference); descriptors get ["$.namespace"].
  educationOrganizationHierarchy (project level)
      {EdOrgType: {ParentType: "$.path.to.parentId"}} for EducationOrganization
      and its subclasses, from each EdOrg resource's references to other EdOrgs;
      must equal the hierarchy in the TPDM authoritative ApiSchema.

Every emitted path is checked to resolve to a scalar leaf of the resource's
jsonSchemaForInsert; the tool exits 1 (and writes nothing) if any does not, or
if a spot check fails.  Python 3 standard library only; output is
deterministic (input key order kept, new keys inserted in alphabetical place).
"""
import argparse
import json
import os
import re
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SHARED = os.path.join(os.path.dirname(REPO_ROOT), "shared")
INPUT_REL = "edfi/api-schema/ds-5.2-reconstructed/ds-5.2-api-schema-reconstructed.json"
MANIFEST_REL = "edfi/api-schema/ds-5.2-derived/ds-5.2-relational-model.manifest.json"
TPDM_REL = "edfi/api-schema/extensions/tpdm-api-schema-authoritative.json"
OUTPUT_REL = "model/ds-5.2/ApiSchema.json"
PROJECT = "ed-fi"

INT_RANGES = {
    "Int16": (-32768, 32767),
    "Int32": (-2147483648, 2147483647),
}
IGNORED_INT_KINDS = {"Int64"}

SCALAR_TYPES = {"string", "integer", "number", "boolean"}

SEGMENT_RE = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)(\[\*\])?")


class DeriveError(Exception):
    pass


# --------------------------------------------------------------------------
# JSON path helpers (only the "$.a.b[*].c" subset ApiSchema uses)
# --------------------------------------------------------------------------

def parse_path(path):
    """'$.a[*].b' -> [('a', True), ('b', False)]."""
    if not path.startswith("$"):
        raise DeriveError("path %r does not start with $" % path)
    rest = path[1:]
    segs = []
    pos = 0
    while pos < len(rest):
        m = SEGMENT_RE.match(rest, pos)
        if not m:
            raise DeriveError("cannot parse path %r" % path)
        segs.append((m.group(1), m.group(2) is not None))
        pos = m.end()
    return segs


def schema_node(schema, path):
    """Return the jsonSchemaForInsert node at path, or raise DeriveError."""
    node = schema
    for name, is_array in parse_path(path):
        props = node.get("properties")
        if not isinstance(props, dict) or name not in props:
            raise DeriveError("no property %r" % name)
        node = props[name]
        if is_array:
            if node.get("type") != "array" or "items" not in node:
                raise DeriveError("%r is not an array" % name)
            node = node["items"]
        elif node.get("type") == "array":
            raise DeriveError("%r is an array but the path has no [*]" % name)
    return node


def leaf_node(schema, path):
    node = schema_node(schema, path)
    if node.get("type") not in SCALAR_TYPES or "properties" in node or "items" in node:
        raise DeriveError("not a scalar leaf (type %r)" % node.get("type"))
    return node


def join_rel(base, rel):
    """join_rel('$.a[*]', '$.b') -> '$.a[*].b'."""
    if rel == "$":
        return base
    if not rel.startswith("$."):
        raise DeriveError("relative path %r does not start with $." % rel)
    return base + rel[1:]


def make_relative(path, base):
    """make_relative('$.a[*].b[*]', '$.a[*]') -> '$.b[*]'."""
    if not path.startswith(base + "."):
        raise DeriveError("%r is not under %r" % (path, base))
    return "$" + path[len(base):]


def constraint_leaf_paths(constraint, base="$"):
    """All absolute leaf paths of a (possibly nested) arrayUniquenessConstraint."""
    out = []
    if "basePath" in constraint:
        base = join_rel(base, constraint["basePath"])
    for p in constraint.get("paths", []):
        out.append(join_rel(base, p))
    for nested in constraint.get("nestedConstraints", []):
        out.extend(constraint_leaf_paths(nested, base))
    return out


def insert_sorted(d, key, value):
    """Return a copy of dict d with key set; a new key goes in alphabetical place
    among the existing keys (existing key order otherwise kept)."""
    if key in d:
        out = dict(d)
        out[key] = value
        return out
    out = {}
    placed = False
    for k, v in d.items():
        if not placed and key < k:
            out[key] = value
            placed = True
        out[k] = v
    if not placed:
        out[key] = value
    return out


def schema_leaves(node, path="$"):
    """Yield (path, node) for every scalar leaf of a jsonSchemaForInsert."""
    props = node.get("properties")
    if isinstance(props, dict):
        for name, child in props.items():
            p = "%s.%s" % (path, name)
            if child.get("type") == "array":
                yield from schema_leaves(child["items"], p + "[*]")
            else:
                yield from schema_leaves(child, p)
    elif node.get("type") in SCALAR_TYPES:
        yield path, node


def schema_arrays(node, path="$"):
    """Yield the path ('$.a[*]') of every array in a jsonSchemaForInsert."""
    for name, child in (node.get("properties") or {}).items():
        p = "%s.%s" % (path, name)
        if child.get("type") == "array":
            yield p + "[*]"
            yield from schema_arrays(child["items"], p + "[*]")
        else:
            yield from schema_arrays(child, p)


# --------------------------------------------------------------------------
# derivations
# --------------------------------------------------------------------------

def reference_members(resource):
    """{reference object path -> sorted member paths} from documentPathsMapping."""
    refs = {}
    for entry in resource.get("documentPathsMapping", {}).values():
        if not entry.get("isReference") or entry.get("isDescriptor"):
            continue
        for rjp in entry.get("referenceJsonPaths", []):
            p = rjp["referenceJsonPath"]
            obj = p[: p.rindex(".")]
            refs.setdefault(obj, set()).add(p)
    return {k: sorted(v) for k, v in refs.items()}


def is_reference_only_item(schema, scope):
    """True if every item of the collection at scope is just one …Reference object."""
    node = schema_node(schema, scope)
    props = node.get("properties") or {}
    return len(props) == 1 and next(iter(props)).endswith("Reference")


def derive_decimals(name, tables, schema, problems):
    infos = {}
    for t in tables:
        for c in t["columns"]:
            ty = c["type"]
            if ty.get("kind") != "Decimal" or c.get("source_path") is None:
                continue
            path = c["source_path"]
            if not path.startswith("$"):
                path = join_rel(t["scope"], "$." + path)
            try:
                node = leaf_node(schema, path)
            except DeriveError as e:
                problems.append("%s: decimal %s (%s.%s) not in schema: %s" % (name, path, t["name"], c["name"], e))
                continue
            if node.get("type") != "number":
                problems.append("%s: decimal %s has schema type %r" % (name, path, node.get("type")))
                continue
            info = {"decimalPlaces": ty["scale"], "path": path, "totalDigits": ty["precision"]}
            if path in infos and infos[path] != info:
                problems.append("%s: conflicting decimal precision for %s" % (name, path))
            infos[path] = info
    return [infos[p] for p in sorted(infos)]


def derive_uniqueness(name, tables, resource, problems, notes, omit_reference_only):
    """Build arrayUniquenessConstraints from the manifest's collection tables."""
    schema = resource["jsonSchemaForInsert"]
    refs = reference_members(resource)
    coll = [t for t in tables if t["identity_metadata"]["table_kind"] != "Root"]
    scopes = {t["scope"]: t for t in coll}
    if len(scopes) != len(coll):
        # Same scope twice would be an extension split; core DS 5.2 has none.
        raise DeriveError("%s: duplicate collection scopes in manifest" % name)

    def parent_scope(scope):
        best = None
        for s in scopes:
            if s != scope and scope.startswith(s + ".") and (best is None or len(s) > len(best)):
                best = s
        return best

    children = {}
    roots = []
    for s in sorted(scopes):
        if not s.endswith("[*]"):
            raise DeriveError("%s: collection scope %r does not end in [*]" % (name, s))
        p = parent_scope(s)
        if p is None:
            roots.append(s)
        else:
            children.setdefault(p, []).append(s)

    def abs_identity_paths(t):
        scope = t["scope"]
        paths = []
        for b in t["identity_metadata"]["semantic_identity_bindings"]:
            paths.append(join_rel(scope, b["relative_path"]))
        # A reference in an item's identity: list all its members.
        for obj, members in refs.items():
            if not obj.startswith(scope + "."):
                continue
            present = [p for p in paths if p.startswith(obj + ".")]
            if present:
                for m in members:
                    if m not in paths:
                        paths.append(m)
                        notes.append("%s: added reference member %s to %s identity" % (name, m, scope))
        return sorted(set(paths))

    def build(scope, base_abs):
        t = scopes[scope]
        abs_paths = abs_identity_paths(t)
        if not abs_paths:
            problems.append("%s: collection %s has no semantic identity" % (name, scope))
        rel_scope = scope if base_abs is None else make_relative(scope, base_abs)
        item = {}
        nested = []
        for c in children.get(scope, []):  # already sorted by scope
            n = build(c, scope)
            if n is not None:
                n["basePath"] = rel_scope
                nested.append(dict(sorted(n.items())))
        if nested:
            item["nestedConstraints"] = nested
        if abs_paths:
            base = "$" if base_abs is None else base_abs
            item["paths"] = sorted(make_relative(p, base) if base != "$" else p for p in abs_paths)
        return item if item else None

    out = []
    omitted = []
    for s in roots:
        if omit_reference_only and not children.get(s) and is_reference_only_item(schema, s):
            omitted.append(s)
            continue
        c = build(s, None)
        if c is not None:
            out.append(c)
    return out, omitted  # roots are sorted by collection path


def derive_int_ranges(name, tables, schema, problems):
    """Set minimum/maximum on Int16/Int32 nodes. Returns (nodes changed, bounds set)."""
    changed = 0
    bounds = 0
    seen = set()
    for t in tables:
        for c in t["columns"]:
            kind = c["type"].get("kind")
            path = c.get("source_path")
            if path is None or kind not in INT_RANGES:
                continue
            if path in seen:
                continue
            seen.add(path)
            try:
                node = leaf_node(schema, path)
            except DeriveError as e:
                problems.append("%s: %s %s (%s.%s) not in schema: %s" % (name, kind, path, t["name"], c["name"], e))
                continue
            if node.get("type") != "integer":
                problems.append("%s: %s %s has schema type %r" % (name, kind, path, node.get("type")))
                continue
            lo, hi = INT_RANGES[kind]
            new = node
            if not (isinstance(node.get("minimum"), int) and node["minimum"] >= lo):
                new = insert_sorted(new, "minimum", lo)
                bounds += 1
            if not (isinstance(node.get("maximum"), int) and node["maximum"] <= hi):
                new = insert_sorted(new, "maximum", hi)
                bounds += 1
            if new is not node:
                node.clear()
                node.update(new)
                changed += 1
    return changed, bounds


# --------------------------------------------------------------------------
# securable elements and the EducationOrganization hierarchy
# --------------------------------------------------------------------------

EDORG_BASE = "EducationOrganization"
PERSON_TYPES = ("Contact", "Staff", "Student")
# MetaEd's edfiApiSchema configuration for the Ed-Fi core (it replaced the older
# *HardcodedSecurityDiminisher classes; the resulting elements are the same).
# (resource, mode, property, identity property the chain must reach)
EDORG_CONFIGURED = (
    ("DisciplineAction", "append", "ResponsibilitySchool", "SchoolId"),       # DS >= 4.0.0-a
    ("StudentAssessment", "append", "ReportedSchool", "SchoolId"),            # DS >= 4.0.0
    ("OrganizationDepartment", "replace", "ParentEducationOrganization",
     "EducationOrganizationId"),                                               # DS >= 3.3.0-a
)
# DS >= 5.0.0: identity EdOrg ids reached through a reference role-named "Program"
PROGRAM_ROLE_RESOURCES = ("ProgramEvaluation", "ProgramEvaluationElement",
                          "ProgramEvaluationObjective", "EvaluationRubricDimension")
PROGRAM_ROLE = "Program"


def locale_key(name):
    """Approximates JavaScript localeCompare for ASCII identifiers."""
    return (name.lower(), name.swapcase())


class Chains:
    """Follows a document path through references to the scalar it comes from.

    resolve(resourceName, path) -> (leafResourceName, leafPropertyName, roleNames)
    where roleNames lists the role name of every reference on the way ('' = none).
    Role names are read from the relational manifest: a reference's column base
    name is roleName + referenced entity name (CourseTranscript's Course reference
    is 'CourseCourse', i.e. role name 'Course')."""

    def __init__(self, ps, by_endpoint):
        self.rs = ps["resourceSchemas"]
        self.abstract = ps.get("abstractResources", {})
        self.endpoint = dict(ps["resourceNameMapping"])
        self.by_endpoint = by_endpoint
        self.memo = {}
        self.subclasses = {}
        for ep, r in self.rs.items():
            sup = r.get("superclassResourceName")
            if r.get("isSubclass") and sup:
                self.subclasses.setdefault(sup, []).append(r["resourceName"])
        self.fk_base = {}  # endpoint -> {reference object path: column base name}
        for ep, man in by_endpoint.items():
            bases = {}
            for t in man["tables"]:
                for c in t["columns"]:
                    if c["kind"] == "DocumentFk" and c.get("source_path") and c["name"].endswith("_DocumentId"):
                        bases[c["source_path"]] = c["name"][: -len("_DocumentId")]
            self.fk_base[ep] = bases

    @staticmethod
    def meta_name(resource_name):
        # the SchoolYearType resource is MetaEd's SchoolYear enumeration
        return "SchoolYear" if resource_name == "SchoolYearType" else resource_name

    def role_of(self, ep, obj_path, target, key):
        """Role name of a reference, or None if it cannot be read.  The manifest's
        column base name is preferred; long names there are shortened with a hash,
        and then the documentPathsMapping key (roleName + name, collapsed when the
        two are equal) is used instead."""
        base = self.fk_base.get(ep, {}).get(obj_path)
        meta = self.meta_name(target)
        if base is not None and base.endswith(meta):
            return base[: -len(meta)]
        last = key.rsplit(".", 1)[-1]
        if "." not in key and last.endswith(meta):
            return last[: -len(meta)]
        return None

    def resolve(self, resource_name, path):
        key = (resource_name, path)
        if key not in self.memo:
            self.memo[key] = self._resolve(resource_name, path)
        return self.memo[key]

    def _resolve(self, resource_name, path):
        if resource_name in self.abstract:
            if re.fullmatch(r"\$\.[A-Za-z0-9_]+", path):
                return resource_name, path[2].upper() + path[3:], []
            for sub in sorted(self.subclasses.get(resource_name, [])):
                if path in self.rs[self.endpoint[sub]]["identityJsonPaths"]:
                    return self.resolve(sub, path)
            raise DeriveError("abstract %s: no subclass has identity path %s" % (resource_name, path))
        ep = self.endpoint[resource_name]
        res = self.rs[ep]
        for k, e in res.get("documentPathsMapping", {}).items():
            if e.get("isReference") and not e.get("isDescriptor"):
                for m in e.get("referenceJsonPaths", []):
                    if m["referenceJsonPath"] == path:
                        obj = path[: path.rindex(".")]
                        role = self.role_of(ep, obj, e["resourceName"], k)
                        leaf, prop, roles = self.resolve(e["resourceName"], m["identityJsonPath"])
                        return leaf, prop, [role] + roles
            elif e.get("path") == path:
                return resource_name, k, []
        raise DeriveError("%s: path %s not in documentPathsMapping" % (ep, path))

    def is_required_or_identity(self, resource_name, path):
        res = self.rs[self.endpoint[resource_name]]
        if path in res["identityJsonPaths"]:
            return True
        m = re.fullmatch(r"\$\.([A-Za-z0-9_]+)", path)
        return bool(m) and m.group(1) in res["jsonSchemaForInsert"].get("required", [])


def edorg_types(ps):
    """EducationOrganization and its subclasses (MetaEd resource names)."""
    rs = ps["resourceSchemas"]
    subs = sorted(r["resourceName"] for r in rs.values() if r.get("superclassResourceName") == EDORG_BASE)
    if EDORG_BASE not in ps.get("abstractResources", {}) or not subs:
        raise DeriveError("EducationOrganization hierarchy not found in the ApiSchema")
    return [EDORG_BASE] + subs


def ordered_identity_paths(resource):
    """Identity paths in MetaEd identityFullnames order (declaration order, which
    jsonSchemaForInsert.required keeps), each property's paths in path order."""
    req = resource["jsonSchemaForInsert"].get("required", [])
    def key(p):
        top = p.split(".")[1].split("[")[0]
        return (req.index(top) if top in req else len(req), top, p)
    return sorted(resource["identityJsonPaths"], key=key)


def document_paths(resource):
    """Every scalar path of the document that documentPathsMapping names."""
    out = []
    for e in resource.get("documentPathsMapping", {}).values():
        if e.get("isReference") and not e.get("isDescriptor"):
            out.extend(m["referenceJsonPath"] for m in e.get("referenceJsonPaths", []))
        elif e.get("path"):
            out.append(e["path"])
    return sorted(set(out))


def derive_securable_elements(resource, chains, edorgs, problems):
    name = resource["resourceName"]
    empty = {"Contact": [], "EducationOrganization": [], "Namespace": [], "Staff": [], "Student": []}
    if resource.get("isDescriptor"):
        empty["Namespace"] = ["$.namespace"]
        return empty
    if resource.get("isSchoolYearEnumeration"):
        return empty
    se = empty
    ident = ordered_identity_paths(resource)
    resolved = {p: chains.resolve(name, p) for p in ident}

    # EducationOrganization: identity paths whose chain ends on an EdOrg id with no
    # role name anywhere on the way; metaEdName is that id property's name.
    edorg, seen = [], set()
    for p in ident:
        leaf, prop, roles = resolved[p]
        if leaf in edorgs and None in roles:
            problems.append("%s: role names on the way to %s are unknown" % (name, p))
        if leaf in edorgs and not any(roles) and p not in seen:
            seen.add(p)
            edorg.append({"jsonPath": p, "metaEdName": prop})
    edorg.sort(key=lambda x: locale_key(x["metaEdName"]))

    if name in PROGRAM_ROLE_RESOURCES:
        extra, seen2 = [], set()
        for p in ident:
            leaf, prop, roles = resolved[p]
            if leaf in edorgs and PROGRAM_ROLE in roles and p not in seen2:
                seen2.add(p)
                entry = next(e for e in resource["documentPathsMapping"].values()
                             if e.get("isReference") and any(m["referenceJsonPath"] == p
                                                              for m in e.get("referenceJsonPaths", [])))
                extra.append({"jsonPath": p, "metaEdName": entry["resourceName"]})
        if not extra:
            problems.append("%s: no identity EdOrg path through role name %s" % (name, PROGRAM_ROLE))
        edorg.extend(sorted(extra, key=lambda x: locale_key(x["metaEdName"])))

    for res_name, mode, prop_path, required_id in EDORG_CONFIGURED:
        if res_name != name:
            continue
        entry = resource["documentPathsMapping"].get(prop_path)
        if entry is None or not entry.get("isReference"):
            problems.append("%s: configured securable property %s not found" % (name, prop_path))
            continue
        match = None
        for m in entry["referenceJsonPaths"]:
            leaf, prop, _ = chains.resolve(name, m["referenceJsonPath"])
            if prop == required_id:
                match = m["referenceJsonPath"]
                break
        if match is None:
            problems.append("%s: %s does not reach %s" % (name, prop_path, required_id))
            continue
        if mode == "replace":
            edorg = []
        edorg.append({"jsonPath": match, "metaEdName": prop_path})
    se["EducationOrganization"] = edorg

    # Student / Staff / Contact: identity paths whose chain ends on that person's
    # id (role names do not matter), and every identity path of the person itself.
    for person in PERSON_TYPES:
        paths = set()
        for p in ident:
            leaf, prop, roles = resolved[p]
            if leaf == person or name == person:
                paths.add(p)
        se[person] = sorted(paths)

    # Namespace: root-scope paths (not inside a collection) whose source is a
    # property named Namespace, not role-named, required or part of the identity
    # on the entity that declares it (own property or reached through a reference).
    ns = set()
    for p in document_paths(resource):
        if "[*]" in p:
            continue
        leaf, prop, roles = chains.resolve(name, p)
        if prop != "Namespace":
            continue
        leaf_ep = chains.endpoint.get(leaf)
        if leaf_ep is None or chains.rs[leaf_ep].get("isDescriptor"):
            continue
        if chains.is_required_or_identity(leaf, "$.namespace"):
            ns.add(p)
    se["Namespace"] = sorted(ns)
    return se


def derive_hierarchy(ps, edorgs, problems):
    """educationOrganizationHierarchy: for each EdOrg type, its EdOrg references
    (parent type -> path of the parent's id), as in current MetaEd ApiSchema files."""
    rs = ps["resourceSchemas"]
    endpoint = ps["resourceNameMapping"]
    out = {}
    for t in sorted(edorgs):
        parents = {}
        if t in ps.get("abstractResources", {}):
            out[t] = parents
            continue
        for k, e in rs[endpoint[t]]["documentPathsMapping"].items():
            if not e.get("isReference") or e.get("isDescriptor") or e["resourceName"] not in edorgs:
                continue
            members = e["referenceJsonPaths"]
            if len(members) != 1 or "[*]" in members[0]["referenceJsonPath"]:
                problems.append("%s: EdOrg reference %s is not a single root id" % (t, k))
                continue
            if e["resourceName"] in parents:
                problems.append("%s: two references to %s" % (t, e["resourceName"]))
            parents[e["resourceName"]] = members[0]["referenceJsonPath"]
        out[t] = dict(sorted(parents.items()))
    return out


# --------------------------------------------------------------------------
# verification
# --------------------------------------------------------------------------

def verify_resource(name, resource, problems):
    schema = resource["jsonSchemaForInsert"]
    for info in resource["decimalPropertyValidationInfos"]:
        try:
            if leaf_node(schema, info["path"]).get("type") != "number":
                problems.append("%s: decimal path %s is not a number" % (name, info["path"]))
        except DeriveError as e:
            problems.append("%s: decimal path %s: %s" % (name, info["path"], e))
    se = resource["securableElements"]
    paths = [e["jsonPath"] for e in se["EducationOrganization"]]
    for kind in ("Contact", "Namespace", "Staff", "Student"):
        paths.extend(se[kind])
    for p in paths:
        try:
            leaf_node(schema, p)
        except DeriveError as e:
            problems.append("%s: securable path %s: %s" % (name, p, e))
        if "[*]" in p:
            problems.append("%s: securable path %s is inside a collection" % (name, p))
    for c in resource["arrayUniquenessConstraints"]:
        if "basePath" in c:
            problems.append("%s: top-level constraint has basePath" % name)
        for p in constraint_leaf_paths(c):
            try:
                leaf_node(schema, p)
            except DeriveError as e:
                problems.append("%s: uniqueness path %s: %s" % (name, p, e))


def spot_checks(rs, omit_reference_only=False):
    """DS 5.2 facts the output must show (see the brief / api-behavior.md)."""
    fails = []

    def dec(res, path):
        return {i["path"]: (i["totalDigits"], i["decimalPlaces"])
                for i in rs[res]["decimalPropertyValidationInfos"]}.get(path)

    def auc(res, first_path_prefix):
        for c in rs[res]["arrayUniquenessConstraints"]:
            if c.get("paths") and c["paths"][0].startswith(first_path_prefix):
                return c
        return None

    if dec("staffs", "$.yearsOfPriorProfessionalExperience") != (5, 2):
        fails.append("staffs yearsOfPriorProfessionalExperience != 5/2")
    if dec("studentSchoolAssociations", "$.fullTimeEquivalency") != (5, 4):
        fails.append("studentSchoolAssociations fullTimeEquivalency != 5/4")
    c = auc("schools", "$.gradeLevels[*].")
    if c != {"paths": ["$.gradeLevels[*].gradeLevelDescriptor"]}:
        fails.append("schools gradeLevels constraint is %r" % (c,))
    c = auc("bellSchedules", "$.classPeriods[*].")
    if omit_reference_only:
        if c is not None:
            fails.append("bellSchedules classPeriods constraint not omitted: %r" % (c,))
    elif c != {"paths": ["$.classPeriods[*].classPeriodReference.classPeriodName",
                       "$.classPeriods[*].classPeriodReference.schoolId"]}:
        fails.append("bellSchedules classPeriods constraint is %r" % (c,))
    want_addr = {
        "nestedConstraints": [{"basePath": "$.addresses[*]", "paths": ["$.periods[*].beginDate"]}],
        "paths": ["$.addresses[*].addressTypeDescriptor", "$.addresses[*].city",
                  "$.addresses[*].postalCode", "$.addresses[*].stateAbbreviationDescriptor",
                  "$.addresses[*].streetNumberName"],
    }
    for res in ("schools", "studentEducationOrganizationAssociations", "staffs", "contacts"):
        c = auc(res, "$.addresses[*].")
        if c != want_addr:
            fails.append("%s addresses constraint is %r" % (res, c))
    node = schema_node(rs["schools"]["jsonSchemaForInsert"], "$.charterApprovalSchoolYearTypeReference.schoolYear")
    if (node.get("minimum"), node.get("maximum")) != (1900, 2100):
        fails.append("schools charterApprovalSchoolYear bounds changed: %r" % (node,))
    node = schema_node(rs["studentEducationOrganizationAssociations"]["jsonSchemaForInsert"],
                       "$.telephones[*].orderOfPriority")
    if (node.get("minimum"), node.get("maximum")) != (1, 2147483647):
        fails.append("telephones orderOfPriority bounds are %r" % ((node.get("minimum"), node.get("maximum")),))
    return fails


def security_spot_checks(rs, hierarchy, tpdm):
    """Securable elements and hierarchy facts taken from published Ed-Fi material."""
    fails = []

    def se(res):
        return rs[res]["securableElements"]

    def edorg(path, name):
        return {"jsonPath": path, "metaEdName": name}

    none = {"Contact": [], "EducationOrganization": [], "Namespace": [], "Staff": [], "Student": []}
    want = {
        # DMS reference/design/backend-redesign/design-docs/auth.md ("What are SecurableElements",
        # full block) and its ProblemDetails example (EducationOrganization and Student lists).
        "courseTranscripts": dict(none, EducationOrganization=[
            edorg("$.studentAcademicRecordReference.educationOrganizationId", "EducationOrganizationId")],
            Student=["$.studentAcademicRecordReference.studentUniqueId"]),
        "studentSchoolAssociations": dict(none, EducationOrganization=[
            edorg("$.schoolReference.schoolId", "SchoolId")], Student=["$.studentReference.studentUniqueId"]),
    }
    for res, w in want.items():
        if se(res) != w:
            fails.append("%s securableElements are %s" % (res, json.dumps(se(res), sort_keys=True)))
    # MetaEd unit tests / configuration (EducationOrganizationSecurableElementEnhancer,
    # Staff/Student/Contact enhancer tests, edfiApiSchema security configuration).
    checks = [
        ("schools", "EducationOrganization", [edorg("$.schoolId", "SchoolId")]),
        ("localEducationAgencies", "EducationOrganization",
         [edorg("$.localEducationAgencyId", "LocalEducationAgencyId")]),
        ("staffs", "Staff", ["$.staffUniqueId"]),
        ("students", "Student", ["$.studentUniqueId"]),
        ("contacts", "Contact", ["$.contactUniqueId"]),
        ("disciplineActions", "EducationOrganization",
         [edorg("$.responsibilitySchoolReference.schoolId", "ResponsibilitySchool")]),
        ("studentAssessments", "EducationOrganization",
         [edorg("$.reportedSchoolReference.schoolId", "ReportedSchool")]),
        ("organizationDepartments", "EducationOrganization",
         [edorg("$.parentEducationOrganizationReference.educationOrganizationId", "ParentEducationOrganization")]),
        ("programEvaluations", "EducationOrganization",
         [edorg("$.programReference.educationOrganizationId", "Program")]),
        ("programEvaluationElements", "EducationOrganization",
         [edorg("$.programEvaluationReference.programEducationOrganizationId", "ProgramEvaluation")]),
        # as the Sample extension's studentArtProgramAssociations: the Program reference is
        # role-named "Program", so only the association's own EducationOrganization counts
        ("studentProgramAssociations", "EducationOrganization",
         [edorg("$.educationOrganizationReference.educationOrganizationId", "EducationOrganizationId")]),
        ("gradeLevelDescriptors", "Namespace", ["$.namespace"]),
        ("assessments", "Namespace", ["$.namespace"]),
    ]
    for res, kind, w in checks:
        if se(res)[kind] != w:
            fails.append("%s %s securable elements are %r" % (res, kind, se(res)[kind]))
    if tpdm is not None:
        tps = tpdm["projectSchema"]
        if hierarchy != tps["educationOrganizationHierarchy"]:
            fails.append("educationOrganizationHierarchy differs from the TPDM authoritative ApiSchema: %s"
                         % json.dumps(hierarchy, sort_keys=True))
        for name, r in tps["resourceSchemas"].items():
            if list(r["securableElements"]) != list(none):
                fails.append("TPDM %s securableElements key order %r" % (name, list(r["securableElements"])))
                break
    return fails


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------

def derive(api, manifest, omit_reference_only=False, tpdm=None):
    ps = api["projectSchemas"][PROJECT]
    rs = ps["resourceSchemas"]
    by_endpoint = {r["resource_endpoint_name"]: r["manifest"] for r in manifest["resources"]}
    chains = Chains(ps, by_endpoint)
    edorgs = edorg_types(ps)
    problems = []
    notes = []
    unmapped = []
    stats = {"resources": 0, "decimal": 0, "decimalResources": 0, "auc": 0, "aucNested": 0,
             "aucResources": 0, "aucReferenceOnly": 0, "intNodes": 0, "intBounds": 0,
             "se": {k: 0 for k in ("Contact", "EducationOrganization", "Namespace", "Staff", "Student")},
             "seEntries": {k: 0 for k in ("Contact", "EducationOrganization", "Namespace", "Staff", "Student")},
             "seNone": 0}
    omitted_all = []

    for name in list(rs):
        res = rs[name]
        man = by_endpoint.get(name)
        if man is None:
            unmapped.append("%s: not in manifest (left with empty lists)" % name)
            tables = []
        else:
            if man["resource"]["resource_name"] != res["resourceName"]:
                problems.append("%s: manifest resource %s != %s" % (name, man["resource"]["resource_name"],
                                                                      res["resourceName"]))
            tables = man["tables"]
        schema = res["jsonSchemaForInsert"]

        decimals = derive_decimals(name, tables, schema, problems)
        constraints, omitted = derive_uniqueness(name, tables, res, problems, notes, omit_reference_only)
        omitted_all.extend("%s %s" % (name, s) for s in omitted)
        n_nodes, n_bounds = derive_int_ranges(name, tables, schema, problems)

        res = insert_sorted(res, "decimalPropertyValidationInfos", decimals)
        res = insert_sorted(res, "arrayUniquenessConstraints", constraints)
        securable = derive_securable_elements(res, chains, edorgs, problems)
        res = insert_sorted(res, "securableElements", securable)
        rs[name] = res
        verify_resource(name, res, problems)

        stats["resources"] += 1
        stats["decimal"] += len(decimals)
        stats["decimalResources"] += bool(decimals)
        stats["auc"] += len(constraints)
        stats["aucNested"] += sum(len(c.get("nestedConstraints", [])) for c in constraints)
        stats["aucResources"] += bool(constraints)
        stats["aucReferenceOnly"] += sum(
            1 for c in constraints
            if not c.get("nestedConstraints")
            and is_reference_only_item(schema, c["paths"][0][: c["paths"][0].index("[*]") + 3]))
        stats["intNodes"] += n_nodes
        stats["intBounds"] += n_bounds
        for k, v in securable.items():
            stats["se"][k] += bool(v)
            stats["seEntries"][k] += len(v)
        stats["seNone"] += not any(securable.values())

        # Coverage report: schema numbers without a decimal info, arrays without a constraint.
        dec_paths = {d["path"] for d in decimals}
        col_types = {c["source_path"]: c["type"] for t in tables for c in t["columns"] if c.get("source_path")}
        for p, node in schema_leaves(schema):
            if node.get("type") == "number" and p not in dec_paths:
                unmapped.append("%s: number %s has no Decimal column (manifest type %s); no decimal info"
                                % (name, p, json.dumps(col_types.get(p), sort_keys=True)))
        covered = set()
        for c in constraints:
            for p in constraint_leaf_paths(c):
                covered.add(p[: p.rindex("[*]") + 3])
        for a in schema_arrays(schema):
            if a not in covered and "%s %s" % (name, a) not in omitted_all:
                unmapped.append("%s: array %s has no uniqueness constraint" % (name, a))

    for ep in sorted(set(by_endpoint) - set(rs)):
        unmapped.append("%s: in manifest but not in the ApiSchema" % ep)

    hierarchy = derive_hierarchy(ps, edorgs, problems)
    api["projectSchemas"][PROJECT] = insert_sorted(ps, "educationOrganizationHierarchy", hierarchy)
    stats["hierarchyEdges"] = sum(len(v) for v in hierarchy.values())
    stats["hierarchyTypes"] = len(hierarchy)

    fails = spot_checks(rs, omit_reference_only)
    fails.extend(security_spot_checks(rs, hierarchy, tpdm))
    return stats, problems, notes, unmapped, omitted_all, fails


def serialize(api, indent):
    if indent is None or indent < 0:
        text = json.dumps(api, separators=(",", ":"), ensure_ascii=True)
    else:
        text = json.dumps(api, indent=indent, ensure_ascii=True)
    return text + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Add decimalPropertyValidationInfos, arrayUniquenessConstraints, Int32 ranges, "
                    "securableElements and educationOrganizationHierarchy to the reconstructed DS 5.2 "
                    "ApiSchema and write model/ds-5.2/ApiSchema.json.")
    ap.add_argument("--shared", default=DEFAULT_SHARED,
                    help="shared data folder (default: %(default)s)")
    ap.add_argument("--input", help="reconstructed ApiSchema (default: SHARED/%s)" % INPUT_REL)
    ap.add_argument("--manifest", help="relational manifest (default: SHARED/%s)" % MANIFEST_REL)
    ap.add_argument("--tpdm", help="TPDM authoritative ApiSchema, used to check the EdOrg hierarchy "
                                   "(default: SHARED/%s)" % TPDM_REL)
    ap.add_argument("--output", default=os.path.join(REPO_ROOT, OUTPUT_REL),
                    help="output file (default: %(default)s)")
    ap.add_argument("--indent", type=int, default=1,
                    help="JSON indent; -1 for compact (default: %(default)s)")
    ap.add_argument("--omit-reference-only-collections", action="store_true",
                    help="emit no constraint for collections whose items are a single reference "
                         "(MetaEd leaves those to the reference-array check); default: emit them")
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if the output file differs from what would be written")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every note")
    args = ap.parse_args(argv)

    inp = args.input or os.path.join(args.shared, INPUT_REL)
    man = args.manifest or os.path.join(args.shared, MANIFEST_REL)
    tp = args.tpdm or os.path.join(args.shared, TPDM_REL)
    with open(inp, encoding="utf-8") as f:
        api = json.load(f)
    with open(man, encoding="utf-8") as f:
        manifest = json.load(f)
    with open(tp, encoding="utf-8") as f:
        tpdm = json.load(f)

    try:
        stats, problems, notes, unmapped, omitted, fails = derive(
            api, manifest, args.omit_reference_only_collections, tpdm)
    except DeriveError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1

    print("resources:                          %d" % stats["resources"])
    print("decimalPropertyValidationInfos:     %d (in %d resources)" % (stats["decimal"], stats["decimalResources"]))
    print("arrayUniquenessConstraints:         %d top-level (in %d resources), %d nested; "
          "%d are single-reference collections"
          % (stats["auc"], stats["aucResources"], stats["aucNested"], stats["aucReferenceOnly"]))
    if omitted:
        print("  omitted single-reference collections: %d" % len(omitted))
    print("integer ranges:                     %d properties (%d bounds set)"
          % (stats["intNodes"], stats["intBounds"]))
    print("securableElements (resources with a non-empty list / total entries):")
    for k in ("EducationOrganization", "Student", "Staff", "Contact", "Namespace"):
        print("  %-22s %3d resources, %3d entries" % (k, stats["se"][k], stats["seEntries"][k]))
    print("  %-22s %3d resources" % ("(none at all)", stats["seNone"]))
    print("educationOrganizationHierarchy:     %d EdOrg types, %d parent edges"
          % (stats["hierarchyTypes"], stats["hierarchyEdges"]))
    if notes:
        print("notes: %d" % len(notes))
        for n in (notes if args.verbose else notes[:10]):
            print("  " + n)
        if not args.verbose and len(notes) > 10:
            print("  ... (-v for all)")
    print("not mapped: %d" % len(unmapped))
    for u in unmapped:
        print("  " + u)

    if problems or fails:
        for p in problems:
            print("PROBLEM: " + p, file=sys.stderr)
        for p in fails:
            print("SPOT CHECK FAILED: " + p, file=sys.stderr)
        print("nothing written", file=sys.stderr)
        return 1
    print("all emitted paths resolve to schema leaves; spot checks passed")

    text = serialize(api, args.indent)
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print("%s is out of date" % args.output, file=sys.stderr)
            return 1
        print("%s is up to date" % args.output)
        return 0
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, args.output)
    print("wrote %s (%d bytes)" % (args.output, len(text.encode("utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
