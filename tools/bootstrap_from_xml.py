#!/usr/bin/env python3
"""Build the data set that `edhub init` loads into a new instance.

Reads the Ed-Fi DS 5.2 Grand Bend sample XML (Apache-2.0, Ed-Fi Alliance) and
writes Ed-Fi Resource API JSON documents, one per line:

    {"resource": "/ed-fi/<endpoint>", "document": {...}}

in load order: all descriptors, schoolYearTypes, educationServiceCenters,
localEducationAgencies, schools.

The XML -> JSON mapping is driven by the API schema (jsonSchemaForInsert), not
by a per-element table: element names are matched to schema property names
case-insensitively, trying the "Descriptor" suffix, plural collection names and
role-prefixed collection names; references are flattened to their identity.
Standard library only; output is byte-for-byte deterministic.
"""
import argparse
import glob
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_DIR = "edfi/sample-data/grand-bend-ds5.2"
SCHEMA_FILE = "edfi/api-schema/ds-5.2-reconstructed/ds-5.2-api-schema-reconstructed.json"

# Ed-org element names, in load order (an LEA references its ESC, a school its LEA).
EDORG_ELEMENTS = ("EducationServiceCenter", "LocalEducationAgency", "School")

# ODS ships SchoolYearType rows 1991..2050; one of them is flagged current.
SCHOOL_YEARS = range(1991, 2051)
CURRENT_SCHOOL_YEAR = 2026

SCHOOL_YEAR_RE = re.compile(r"^[0-9]{4}-([0-9]{4})$")  # XML SchoolYearType token


class Mapper:
    """Maps XML elements onto a JSON schema; remembers what it could not map."""

    def __init__(self, ids):
        self.ids = ids          # XML id attribute -> element, for ref="..." references
        self.dropped = {}       # "Parent/Child" -> count of elements with no schema property
        self.trimmed = 0        # values that had leading/trailing whitespace

    def map_object(self, elem, schema, out=None, strict=True, where=""):
        """Map the children of elem into a dict following an object schema.

        strict=False is used when reading the identity of a referenced element:
        everything not in the (small) reference schema is ignored silently.
        """
        out = {} if out is None else out
        props = {name.lower(): name for name in schema.get("properties", {})}
        for child in elem:
            if not isinstance(child.tag, str):
                continue  # comments / processing instructions
            name = local(child.tag)
            prop = match_property(name, props, schema)
            if prop is None:
                if len(child):
                    # Inline commons (Name, BirthData) and XIdentity wrappers
                    # carry no property of their own: flatten into the parent.
                    self.map_object(child, schema, out, strict, where + "/" + name)
                elif strict:
                    key = (where + "/" + name).lstrip("/")
                    self.dropped[key] = self.dropped.get(key, 0) + 1
                continue
            value = self.convert(child, schema["properties"][prop], strict, where + "/" + name)
            if value is None:
                continue
            if schema["properties"][prop].get("type") == "array":
                out.setdefault(prop, []).append(value)
            elif prop not in out:
                out[prop] = value
            elif strict and out[prop] != value:
                raise ValueError(f"{where}/{name}: conflicting values for {prop}")
        return out

    def convert(self, elem, schema, strict, where):
        """Convert one XML element to the JSON value its schema asks for."""
        kind = schema.get("type")
        if kind == "array":
            item = schema["items"]
            if len(elem) == 0 and len(item.get("properties", {})) == 1:
                # <GradeLevel>uri</GradeLevel> -> {"gradeLevelDescriptor": "uri"}
                (only,) = item["properties"]
                value = self.convert(elem, item["properties"][only], strict, where)
                return None if value is None else {only: value}
            return self.convert(elem, item, strict, where)
        if kind == "object":
            ref = elem.get("ref")
            if ref is not None:
                # IDREF to another element of the file: read its identity from there.
                if ref not in self.ids:
                    raise ValueError(f"{where}: unresolved ref={ref!r}")
                value = self.map_object(self.ids[ref], schema, strict=False, where=where)
            else:
                value = self.map_object(elem, schema, strict=strict, where=where)
            return value or None
        text = elem.text or ""
        if text != text.strip():
            # The schema patterns forbid leading/trailing whitespace (as ODS/DMS trim).
            self.trimmed += 1
            text = text.strip()
        if text == "":
            return None
        if kind == "integer":
            year = SCHOOL_YEAR_RE.match(text)
            return int(year.group(1)) if year else int(text)  # "2021-2022" -> 2022
        if kind == "number":
            return int(text) if re.fullmatch(r"-?[0-9]+", text) else float(text)
        if kind == "boolean":
            return text in ("1", "true")
        return text


def local(tag):
    return tag.rsplit("}", 1)[-1]


def plural(word):
    """English plural as MetaEd forms collection names (category -> categories)."""
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def match_property(name, props, schema):
    """Find the schema property an XML element name stands for, or None.

    props maps lower-case property names to real ones (case-insensitive match
    copes with acronyms: CountyFIPSCode -> countyFIPSCode, IEPBeginDate -> iepBeginDate).
    """
    n = name.lower()
    # Same name; descriptor elements lack the suffix; a top-level SchoolYear
    # becomes schoolYearTypeReference; repeated elements have plural names.
    for cand in (n, n + "descriptor", n + "typereference", plural(n)):
        if cand in props:
            return props[cand]
    # Collections drop a leading entity-name prefix that the XML keeps
    # (EducationOrganizationIdentificationCode -> identificationCodes,
    # EducationOrganizationCategory -> categories on LEAs): longest suffix wins.
    best = None
    for low, real in props.items():
        if schema["properties"][real].get("type") == "array" and plural(n).endswith(low):
            if best is None or len(low) > len(best):
                best = low
    return props[best] if best else None


def interchange_elements(path, root_name):
    root = ET.parse(path).getroot()
    if local(root.tag) != root_name:
        return []
    return [e for e in root if isinstance(e.tag, str)]


def build(shared):
    sample = os.path.join(shared, SAMPLE_DIR)
    with open(os.path.join(shared, SCHEMA_FILE), encoding="utf-8") as f:
        project = json.load(f)["projectSchemas"]["ed-fi"]
    resources = project["resourceSchemas"]
    endpoint_of = project["resourceNameMapping"]  # resource name -> endpoint

    # --- descriptors -------------------------------------------------------
    files = sorted(set(glob.glob(os.path.join(sample, "descriptors", "*.xml"))
                       + glob.glob(os.path.join(sample, "xml", "*Descriptor.xml"))))
    mapper = Mapper({})
    skipped_types = {}
    descriptors = {}
    for path in files:
        for elem in interchange_elements(path, "InterchangeDescriptors"):
            name = local(elem.tag)
            endpoint = endpoint_of.get(name)
            if endpoint is None or not resources[endpoint]["isDescriptor"]:
                skipped_types[name] = skipped_types.get(name, 0) + 1
                continue
            doc = mapper.map_object(elem, resources[endpoint]["jsonSchemaForInsert"], where=name)
            key = (endpoint, doc.get("namespace", ""), doc.get("codeValue", ""))
            if key in descriptors and descriptors[key] != doc:
                raise ValueError(f"{path}: conflicting duplicate descriptor {key}")
            descriptors[key] = doc
    lines = [("/ed-fi/" + k[0], descriptors[k]) for k in sorted(descriptors)]

    # --- schoolYearTypes ---------------------------------------------------
    for year in SCHOOL_YEARS:
        lines.append(("/ed-fi/schoolYearTypes", {
            "schoolYear": year,
            "currentSchoolYear": year == CURRENT_SCHOOL_YEAR,
            "schoolYearDescription": f"{year - 1}-{year}",
        }))

    # --- education organizations -------------------------------------------
    path = os.path.join(sample, "xml", "EducationOrganization.xml")
    elems = interchange_elements(path, "InterchangeEducationOrganization")
    mapper.ids = {e.get("id"): e for e in elems if e.get("id")}
    for name in EDORG_ELEMENTS:
        endpoint = endpoint_of[name]
        resource = resources[endpoint]
        (identity,) = resource["identityJsonPaths"]  # e.g. $.schoolId
        docs = [mapper.map_object(e, resource["jsonSchemaForInsert"], where=name)
                for e in elems if local(e.tag) == name]
        docs.sort(key=lambda d: d.get(identity[2:], 0))
        lines.extend(("/ed-fi/" + endpoint, d) for d in docs)

    others = sorted({local(e.tag) for e in elems} - set(EDORG_ELEMENTS))
    return lines, mapper, skipped_types, others


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Defaults are relative to the repo root: " + REPO_ROOT)
    ap.add_argument("--shared", default=os.path.join(REPO_ROOT, "..", "shared"),
                    help="shared inputs directory holding edfi/ (default: ../shared)")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "samples/bootstrap/bootstrap.jsonl"),
                    help="output JSONL file (default: samples/bootstrap/bootstrap.jsonl)")
    args = ap.parse_args()

    lines, mapper, skipped_types, others = build(args.shared)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for resource, doc in lines:
            f.write(json.dumps({"resource": resource, "document": doc},
                               ensure_ascii=False, separators=(",", ":")) + "\n")
    os.replace(tmp, args.out)  # never leave a half-written file behind

    # Summary on stderr, so the tool can be piped and still be audited.
    counts = {}
    for resource, _ in lines:
        counts[resource] = counts.get(resource, 0) + 1
    n_desc = sum(c for r, c in counts.items() if r.endswith("Descriptors"))
    log = sys.stderr
    print(f"wrote {len(lines)} documents to {args.out}", file=log)
    print(f"  descriptors: {n_desc} in {sum(r.endswith('Descriptors') for r in counts)} endpoints", file=log)
    for r, c in counts.items():
        if not r.endswith("Descriptors"):
            print(f"  {r}: {c}", file=log)
    print(f"  values trimmed of surrounding whitespace: {mapper.trimmed}", file=log)
    for k, c in sorted(mapper.dropped.items()):
        print(f"  dropped (no schema property): {k} x{c}", file=log)
    for k, c in sorted(skipped_types.items()):
        print(f"  dropped (unknown descriptor type): {k} x{c}", file=log)
    print(f"  not loaded from EducationOrganization.xml: {', '.join(others)}", file=log)


if __name__ == "__main__":
    main()
