#!/usr/bin/env python3
"""Check a bootstrap JSONL file against the DS 5.2 API schema.

Every line must be {"resource": "/ed-fi/<endpoint>", "document": {...}} and:
  * the document validates against the endpoint's jsonSchemaForInsert
    (no id, no nulls, no properties outside the schema);
  * no two documents of a resource share an identity;
  * every descriptor URI exists among the descriptor documents of the type the
    schema's documentPathsMapping names for that path;
  * every reference resolves to a document that appears earlier in the file
    (so the file is in a valid load order).
Exits 1 and lists the problems if any check fails. Standard library only.
"""
import argparse
import datetime
import json
import os
import re
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_FILE = "edfi/api-schema/ds-5.2-reconstructed/ds-5.2-api-schema-reconstructed.json"

# Keywords this validator implements, plus annotations it may ignore. Any other
# keyword makes it fail loudly rather than silently accept what it can't check.
ANNOTATIONS = {"$schema", "title", "description"}
KEYWORDS = {"type", "properties", "required", "additionalProperties", "items", "minItems",
            "uniqueItems", "maxLength", "minLength", "minimum", "maximum", "format", "pattern"}

DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DATE_TIME_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                          r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")
TIME_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?$")

DESCRIPTOR_IDENTITY = ["$.namespace", "$.codeValue"]

_patterns = {}


def compile_pattern(pattern):
    """JSON Schema patterns are ECMA-262 and unanchored (search semantics).

    Python's '$' also matches before a final newline; ECMA's does not, so a
    trailing '$' becomes '\\Z'. The model only uses ^...$ patterns built from
    lookarounds, '.', '\\s' and '\\S', which otherwise mean the same in both.
    """
    if pattern not in _patterns:
        py = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
        _patterns[pattern] = re.compile(py)
    return _patterns[pattern]


def type_ok(value, kind):
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    raise ValueError(f"unsupported type {kind!r}")


def format_ok(value, fmt):
    try:
        if fmt == "date":
            return bool(DATE_RE.match(value)) and bool(datetime.date.fromisoformat(value))
        if fmt == "date-time":
            if not DATE_TIME_RE.match(value):
                return False
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            return True
        if fmt == "time":
            return bool(TIME_RE.match(value))
    except ValueError:
        return False
    raise ValueError(f"unsupported format {fmt!r}")


def validate(value, schema, path, errors):
    """Append "path: message" for every way value breaks schema."""
    unknown = set(schema) - KEYWORDS - ANNOTATIONS
    if unknown:
        raise ValueError(f"{path}: schema uses unsupported keywords {sorted(unknown)}")
    if value is None:
        errors.append(f"{path}: null value")
        return
    kind = schema.get("type")
    if kind is not None and not type_ok(value, kind):
        errors.append(f"{path}: expected {kind}, got {type(value).__name__} {value!r}")
        return
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}: missing required property {name!r}")
        for name, sub in value.items():
            if name in props:
                validate(sub, props[name], f"{path}.{name}", errors)
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}: property {name!r} is not in the schema")
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: needs at least {schema['minItems']} items")
        if schema.get("uniqueItems") is True:
            seen = [json.dumps(v, sort_keys=True) for v in value]
            if len(set(seen)) != len(seen):
                errors.append(f"{path}: items are not unique")
        if "items" in schema:
            for i, item in enumerate(value):
                validate(item, schema["items"], f"{path}[{i}]", errors)
    elif isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            errors.append(f"{path}: shorter than {schema['minLength']}: {value!r}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']}: {value[:40]!r}...")
        if "pattern" in schema and not compile_pattern(schema["pattern"]).search(value):
            errors.append(f"{path}: does not match {schema['pattern']}: {value!r}")
        if "format" in schema and not format_ok(value, schema["format"]):
            errors.append(f"{path}: not a valid {schema['format']}: {value!r}")
    elif not isinstance(value, bool):  # numbers
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: below minimum {schema['minimum']}: {value}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: above maximum {schema['maximum']}: {value}")


def values_at(node, path):
    """All values at a simple JSONPath ($.a.b[*].c); missing members yield nothing."""
    nodes = [node]
    for step in path[2:].split("."):
        many = step.endswith("[*]")
        name = step[:-3] if many else step
        nxt = []
        for n in nodes:
            if isinstance(n, dict) and name in n:
                v = n[name]
                nxt.extend(v if many and isinstance(v, list) else [v])
        nodes = nxt
    return nodes


def identity_of(doc, paths):
    key = []
    for p in paths:
        vals = values_at(doc, p)
        key.append(vals[0] if len(vals) == 1 else None)
    return tuple(key)


def check(lines, project):
    resources = project["resourceSchemas"]
    endpoint_of = project["resourceNameMapping"]
    abstract = project.get("abstractResources", {})
    errors = []
    stats = {"descriptor URIs": 0, "references": 0}
    docs = []            # (line number, endpoint, document)
    descriptor_uris = {}  # descriptor resource name -> set of "namespace#codeValue"
    identities = {}      # resource name -> (identityJsonPaths, {identity tuple: line number})

    # Pass 1: shape, schema, identity uniqueness, descriptor index.
    saw_non_descriptor = False
    for num, line in lines:
        where = f"line {num}"
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: not JSON: {e}")
            continue
        if not isinstance(rec, dict) or set(rec) != {"resource", "document"}:
            errors.append(f"{where}: expected exactly the keys 'resource' and 'document'")
            continue
        resource, doc = rec["resource"], rec["document"]
        endpoint = resource[len("/ed-fi/"):] if isinstance(resource, str) and resource.startswith("/ed-fi/") else None
        if endpoint not in resources:
            errors.append(f"{where}: unknown resource {resource!r}")
            continue
        res = resources[endpoint]
        where = f"line {num} ({resource})"
        if isinstance(doc, dict) and "id" in doc:
            errors.append(f"{where}: document carries an 'id'")
        doc_errors = []
        validate(doc, res["jsonSchemaForInsert"], "$", doc_errors)
        errors.extend(f"{where}: {e}" for e in doc_errors)
        if not isinstance(doc, dict):
            continue
        # Keep indexing an invalid document, so one bad line yields one error, not a cascade.
        if res["isDescriptor"]:
            if saw_non_descriptor:
                errors.append(f"{where}: descriptor after non-descriptor documents (load order)")
            descriptor_uris.setdefault(res["resourceName"], set()).add(
                f"{doc.get('namespace')}#{doc.get('codeValue')}")
        else:
            saw_non_descriptor = True
        # Descriptors list no identityJsonPaths; their natural key is namespace + codeValue.
        paths = DESCRIPTOR_IDENTITY if res["isDescriptor"] else res["identityJsonPaths"]
        key = identity_of(doc, paths)
        seen = identities.setdefault(res["resourceName"], (paths, {}))[1]
        if key in seen:
            errors.append(f"{where}: same identity {key} as line {seen[key]}")
        else:
            seen[key] = num
        docs.append((num, endpoint, doc))

    # Abstract targets (e.g. EducationOrganization) are satisfied by any
    # subclass document (a school's schoolId is its educationOrganizationId).
    for name, info in abstract.items():
        index = identities.setdefault(name, (info["identityJsonPaths"], {}))[1]
        for sub_name, (sub_paths, sub_ids) in list(identities.items()):
            sub = resources.get(endpoint_of.get(sub_name, ""), {})
            if sub.get("superclassResourceName") != name:
                continue
            # Ed-orgs: $.schoolId stands for $.educationOrganizationId; associations share paths.
            if len(sub_paths) == 1 == len(info["identityJsonPaths"]) or sub_paths == info["identityJsonPaths"]:
                for key, num in sub_ids.items():
                    index.setdefault(key, num)

    # Pass 2: descriptor URIs and references of every document.
    for num, endpoint, doc in docs:
        res = resources[endpoint]
        where = f"line {num} (/ed-fi/{endpoint})"
        for entry in res["documentPathsMapping"].values():
            if entry.get("isDescriptor"):
                known = descriptor_uris.get(entry["resourceName"], set())
                for uri in values_at(doc, entry["path"]):
                    stats["descriptor URIs"] += 1
                    if uri not in known:
                        errors.append(f"{where}: {entry['path']} = {uri!r} is not a loaded "
                                      f"{entry['resourceName']}")
            elif entry.get("isReference"):
                stats["references"] += check_reference(doc, entry, identities, num, where, errors)
    return errors, docs, stats


def check_reference(doc, entry, identities, num, where, errors):
    """Every reference object must match the identity of an earlier document."""
    pairs = entry["referenceJsonPaths"]
    ref_path = pairs[0]["referenceJsonPath"].rsplit(".", 1)[0]  # the xReference object
    target_paths, target = identities.get(entry["resourceName"], ([], {}))
    checked = 0
    for ref in values_at(doc, ref_path):
        if not isinstance(ref, dict):
            continue  # already reported by the schema check
        # Reference member -> target identity path, e.g. localEducationAgencyId -> $.localEducationAgencyId
        wanted = {p["identityJsonPath"]: ref.get(p["referenceJsonPath"].rsplit(".", 1)[1])
                  for p in pairs}
        if all(v is None for v in wanted.values()):
            continue
        if any(v is None for v in wanted.values()):
            errors.append(f"{where}: {ref_path} lacks members of {sorted(wanted)}")
            continue
        checked += 1
        found = target.get(tuple(wanted.get(p) for p in target_paths))
        if found is None:
            errors.append(f"{where}: {ref_path} {wanted} matches no {entry['resourceName']} in the file")
        elif found >= num:
            errors.append(f"{where}: {ref_path} points to line {found}, which loads later")
    return checked


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Defaults are relative to the repo root: " + REPO_ROOT)
    ap.add_argument("--shared", default=os.path.join(REPO_ROOT, "..", "shared"),
                    help="shared inputs directory holding edfi/ (default: ../shared)")
    ap.add_argument("--in", dest="path",
                    default=os.path.join(REPO_ROOT, "samples/bootstrap/bootstrap.jsonl"),
                    help="JSONL file to check (default: samples/bootstrap/bootstrap.jsonl)")
    args = ap.parse_args()

    with open(os.path.join(args.shared, SCHEMA_FILE), encoding="utf-8") as f:
        project = json.load(f)["projectSchemas"]["ed-fi"]
    with open(args.path, encoding="utf-8") as f:
        lines = [(i, l) for i, l in enumerate(f, 1) if l.strip()]

    errors, docs, stats = check(lines, project)
    if errors:
        for e in errors[:50]:
            print(f"{args.path}: {e}", file=sys.stderr)
        more = f" (first 50 shown)" if len(errors) > 50 else ""
        print(f"FAIL: {len(errors)} problem(s) in {args.path}{more}", file=sys.stderr)
        sys.exit(1)
    print(f"OK: {len(docs)} documents in {args.path} valid; "
          f"{stats['descriptor URIs']} descriptor URIs and {stats['references']} references resolved")


if __name__ == "__main__":
    main()
