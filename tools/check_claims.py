#!/usr/bin/env python3
"""Check the DS 5.2 resource-claim hierarchy and claim sets (model/ds-5.2/security/claims.json).

Prints, for every leaf resource claim (a node with no child "claims"), the default
authorization strategy it inherits for each action: for each action separately, the
nearest node on the path root..leaf (the leaf itself included) whose
"defaultAuthorization" lists that action. Several strategies on one action are
shown joined with "+" (Ed-Fi ORs them). Then a summary: leaf count, strategy counts
per action, and the claim-set names.

Checks (any failure exits 1):
  * the file parses and has the expected shape (claimSets, claimsHierarchy, names);
  * no claim name appears twice in the hierarchy, and no claim has an ancestor of
    the same name (a cycle in name terms);
  * every action name is one of Create, Read, Update, Delete, ReadChanges;
  * every strategy name (defaults and claim-set overrides) is a known Ed-Fi strategy;
    any other name is listed;
  * every claim set used in the hierarchy is declared in the top-level claimSets.

Informational (exit status unaffected): leaf claims http://ed-fi.org/identity/claims/
{project}/{resourceName} are matched against the resources and descriptors of the
API schema (resourceName compared with its first letter case-folded, then, failing
that, fully case-insensitively, e.g. cteProgramServiceDescriptor), and the tool
lists claims without a resource, resources without a claim, and claims whose project
is not in the schema. Standard library only.
"""
import argparse
import collections
import json
import os
import re
import signal
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CLAIMS = os.path.join(REPO_ROOT, "model", "ds-5.2", "security", "claims.json")
DEFAULT_SCHEMA = os.path.join(REPO_ROOT, "model", "ds-5.2", "ApiSchema.json")
DEFAULT_NAMES = os.path.join(REPO_ROOT, "model", "ds-5.2", "security", "claimset-names.json")

ACTIONS = ["Create", "Read", "Update", "Delete", "ReadChanges"]
ACTION_ABBREV = {"Create": "C", "Read": "R", "Update": "U", "Delete": "D", "ReadChanges": "RC"}
KNOWN_STRATEGIES = {
    "NoFurtherAuthorizationRequired",
    "NamespaceBased",
    "OwnershipBased",
    "RelationshipsWithEdOrgsAndPeople",
    "RelationshipsWithEdOrgsOnly",
    "RelationshipsWithPeopleOnly",
    "RelationshipsWithStudentsOnly",
    "RelationshipsWithStudentsOnlyThroughResponsibility",
    "RelationshipsWithEdOrgsAndPeopleInverted",
    "RelationshipsWithEdOrgsOnlyInverted",
    "RelationshipsWithEdOrgsAndPeopleIncludingDeletes",
    "RelationshipsWithStudentsOnlyIncludingDeletes",
    "RelationshipsWithStudentsOnlyThroughResponsibilityIncludingDeletes",
}
# Claim URIs that name a resource: .../claims/{project}/{resourceName}. Other first
# segments are grouping or service claims, not resources.
RESOURCE_CLAIM_RE = re.compile(r"^http://ed-fi\.org/identity/claims/([^/]+)/([^/]+)$")
NON_RESOURCE_SEGMENTS = {"domains", "services", "publishing"}
NONE = "(none)"


def lower_first(s):
    return s[:1].lower() + s[1:]


class Checker:
    def __init__(self):
        self.errors = []
        self.unknown_strategies = collections.Counter()

    def error(self, msg):
        self.errors.append(msg)

    def check_action(self, name, where):
        if name not in ACTIONS:
            self.error(f"unknown action name {name!r} at {where}")

    def check_strategy(self, name, where):
        if not isinstance(name, str):
            self.error(f"strategy without a string name at {where}")
        elif name not in KNOWN_STRATEGIES:
            self.unknown_strategies[name] += 1
            self.error(f"unknown authorization strategy {name!r} at {where}")


def node_defaults(node, chk, where):
    """Map action -> tuple of strategy names from a node's defaultAuthorization."""
    result = {}
    da = node.get("defaultAuthorization")
    if da is None:
        return result
    if not isinstance(da, dict) or not isinstance(da.get("actions"), list):
        chk.error(f"defaultAuthorization without an actions list at {where}")
        return result
    for act in da["actions"]:
        name = act.get("name") if isinstance(act, dict) else None
        chk.check_action(name, f"{where} defaultAuthorization")
        strategies = act.get("authorizationStrategies", []) if isinstance(act, dict) else []
        if not strategies:
            chk.error(f"default for action {name!r} at {where} lists no strategies")
        names = []
        for st in strategies:
            sname = st.get("name") if isinstance(st, dict) else None
            chk.check_strategy(sname, f"{where} defaultAuthorization/{name}")
            names.append(str(sname))
        if name in result:
            chk.error(f"action {name!r} listed twice in defaultAuthorization at {where}")
        result[name] = tuple(names)
    return result


def check_node_claim_sets(node, chk, where, declared, usage):
    sets = node.get("claimSets")
    if sets is None:
        return
    if not isinstance(sets, list):
        chk.error(f"claimSets is not a list at {where}")
        return
    seen = set()
    for cs in sets:
        csname = cs.get("name") if isinstance(cs, dict) else None
        if not isinstance(csname, str):
            chk.error(f"claim set entry without a name at {where}")
            continue
        if csname in seen:
            chk.error(f"claim set {csname!r} attached twice at {where}")
        seen.add(csname)
        if csname not in declared:
            chk.error(f"claim set {csname!r} at {where} is not declared in the top-level claimSets")
        usage[csname] += 1
        actions = cs.get("actions")
        if not isinstance(actions, list) or not actions:
            chk.error(f"claim set {csname!r} at {where} has no actions")
            continue
        for act in actions:
            aname = act.get("name") if isinstance(act, dict) else None
            chk.check_action(aname, f"{where} claimSet {csname}")
            for st in act.get("authorizationStrategyOverrides", []) if isinstance(act, dict) else []:
                chk.check_strategy(st.get("name") if isinstance(st, dict) else None,
                                   f"{where} claimSet {csname}/{aname} override")


def walk(hierarchy, chk, declared):
    """Iterative depth-first walk. Returns (leaves, usage, claim_names).

    leaves: list of (name, {action: strategies-or-None}, depth) in document order.
    """
    leaves = []
    usage = collections.Counter()
    occurrences = collections.Counter()
    # Stack entries: (node, ancestor_names tuple, inherited {action: strategies}, where)
    stack = [(n, (), {}, f"claimsHierarchy[{i}]") for i, n in enumerate(hierarchy)]
    stack.reverse()
    while stack:
        node, ancestors, inherited, where = stack.pop()
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            chk.error(f"claim without a string name at {where}")
            continue
        name = node["name"]
        where = name
        occurrences[name] += 1
        if name in ancestors:
            chk.error(f"cycle: {name} is its own ancestor ({' > '.join(ancestors + (name,))})")
            continue
        for key in node:
            if key not in ("name", "defaultAuthorization", "claimSets", "claims"):
                chk.error(f"unexpected key {key!r} on {name}")
        effective = dict(inherited)
        effective.update(node_defaults(node, chk, where))
        check_node_claim_sets(node, chk, where, declared, usage)
        children = node.get("claims")
        if children is None:
            leaves.append((name, {a: effective.get(a) for a in ACTIONS}, len(ancestors)))
            continue
        if not isinstance(children, list):
            chk.error(f"claims is not a list at {name}")
            continue
        if not children:
            chk.error(f"empty claims list at {name}")
        path = ancestors + (name,)
        for child in reversed(children):
            stack.append((child, path, effective, f"child of {name}"))
    for name, count in occurrences.items():
        if count > 1:
            chk.error(f"duplicate claim name ({count} times): {name}")
    return leaves, usage, occurrences


def load_schema_resources(path):
    """project endpoint name -> {lower_first(resourceName): (resourceName, isDescriptor)}."""
    with open(path, encoding="utf-8") as f:
        schema = json.load(f)
    projects = {}
    if isinstance(schema.get("projectSchemas"), dict):
        projects.update(schema["projectSchemas"])
    if isinstance(schema.get("projectSchema"), dict):
        ps = schema["projectSchema"]
        key = ps.get("projectEndpointName") or str(ps.get("projectName", "")).lower()
        projects[key] = ps
    result = {}
    for key, ps in projects.items():
        table = result.setdefault(key, {})
        for rs in ps.get("resourceSchemas", {}).values():
            rname = rs.get("resourceName")
            if isinstance(rname, str):
                table[lower_first(rname)] = (rname, bool(rs.get("isDescriptor")))
    return result


def strategies_text(value):
    return "+".join(value) if value else NONE


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--claims", default=DEFAULT_CLAIMS, help="claims file (default: %(default)s)")
    ap.add_argument("--api-schema", default=DEFAULT_SCHEMA,
                    help="ApiSchema.json to match leaf claims against (default: %(default)s)")
    ap.add_argument("--names", default=DEFAULT_NAMES,
                    help="DMS -> ODS/API claim-set name map, shown in the summary if present "
                         "(default: %(default)s)")
    ap.add_argument("--summary-only", action="store_true",
                    help="skip the per-leaf listing")
    ap.add_argument("--no-resources", action="store_true",
                    help="skip matching claims against the API schema")
    args = ap.parse_args()
    if hasattr(signal, "SIGPIPE"):  # quiet exit when piped into head
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    chk = Checker()
    try:
        with open(args.claims, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f"error: cannot read {args.claims}: {e}", file=sys.stderr)
        return 1
    if not isinstance(doc, dict) or not isinstance(doc.get("claimSets"), list) \
            or not isinstance(doc.get("claimsHierarchy"), list):
        print("error: expected an object with claimSets and claimsHierarchy lists", file=sys.stderr)
        return 1

    declared = []
    for cs in doc["claimSets"]:
        name = cs.get("claimSetName") if isinstance(cs, dict) else None
        if not isinstance(name, str):
            chk.error("top-level claim set without a claimSetName")
            continue
        if name in declared:
            chk.error(f"claim set {name!r} declared twice")
        declared.append(name)

    leaves, usage, occurrences = walk(doc["claimsHierarchy"], chk, set(declared))

    # Per-leaf listing.
    if not args.summary_only:
        print(f"# Leaf resource claims ({len(leaves)}): inherited default strategy per action")
        for name, eff, _depth in leaves:
            parts = [f"{ACTION_ABBREV[a]}={strategies_text(eff[a])}" for a in ACTIONS]
            print(f"{name}\t" + "  ".join(parts))
        print()

    # Summary table.
    counts = {a: collections.Counter(strategies_text(eff[a]) for _, eff, _ in leaves) for a in ACTIONS}
    all_strats = sorted({s for c in counts.values() for s in c},
                        key=lambda s: (-sum(counts[a][s] for a in ACTIONS), s))
    print("# Summary")
    print(f"claims in hierarchy: {sum(occurrences.values())}   leaf claims: {len(leaves)}")
    print(f"default strategies per action (number of leaves; {NONE} = no default inherited):")
    width = max(len("strategy"), *(len(s) for s in all_strats)) if all_strats else 8
    print(f"  {'strategy':<{width}} " + " ".join(f"{a:>11}" for a in ACTIONS))
    for s in all_strats:
        print(f"  {s:<{width}} " + " ".join(f"{counts[a][s]:>11}" for a in ACTIONS))
    print(f"  {'total':<{width}} " + " ".join(f"{sum(counts[a].values()):>11}" for a in ACTIONS))

    names_map = {}
    if args.names and os.path.exists(args.names):
        with open(args.names, encoding="utf-8") as f:
            names_map = json.load(f)
    print(f"claim sets ({len(declared)}), with the number of hierarchy nodes each is attached to:")
    for name in declared:
        ods = names_map.get(name)
        label = f"  [ODS/API: {ods}]" if ods and ods != name else ""
        print(f"  {name:<30} {usage.get(name, 0):>4}{label}")
    for name in sorted(set(names_map) - set(declared)):
        print(f"  note: {name} is in {os.path.basename(args.names)} but not declared here")
    e2e = [n for n in declared if n.startswith("E2E-")]
    if e2e:
        print(f"  note: {len(e2e)} E2E test claim sets are present")

    # Matching against the API schema.
    if not args.no_resources:
        print()
        print(f"# Leaf claims vs {os.path.relpath(args.api_schema)}")
        try:
            resources = load_schema_resources(args.api_schema)
        except (OSError, ValueError) as e:
            print(f"  skipped: cannot read API schema: {e}")
            resources = None
        if resources is not None:
            matched = {p: set() for p in resources}
            folded = {p: {k.lower(): k for k in t} for p, t in resources.items()}
            no_resource, other_project, not_resource_uri = [], collections.defaultdict(list), []
            case_folded = []
            leaf_names = [n for n, _, _ in leaves]
            for name in leaf_names:
                m = RESOURCE_CLAIM_RE.match(name)
                if not m or m.group(1) in NON_RESOURCE_SEGMENTS:
                    not_resource_uri.append(name)
                    continue
                project, res = m.group(1), m.group(2)
                if project not in resources:
                    other_project[project].append(name)
                    continue
                key = lower_first(res)
                if key in resources[project]:
                    matched[project].add(key)
                elif res.lower() in folded[project]:
                    # e.g. ODS-style cteProgramServiceDescriptor for CTEProgramServiceDescriptor
                    real = folded[project][res.lower()]
                    matched[project].add(real)
                    case_folded.append((project, res, resources[project][real][0]))
                else:
                    no_resource.append((project, res))
            # Non-leaf claims can also name resources (rare); note them but do not count them.
            nonleaf_resource = []
            for name in occurrences:
                m = RESOURCE_CLAIM_RE.match(name)
                if m and m.group(1) in resources and name not in leaf_names \
                        and lower_first(m.group(2)) in resources[m.group(1)]:
                    nonleaf_resource.append(name)
            total_matched = sum(len(v) for v in matched.values())
            print(f"leaf claims matching a resource or descriptor: {total_matched}"
                  f" ({len(case_folded)} only when compared fully case-insensitively)")
            for project, res, real in case_folded:
                print(f"  {project}/{res} -> {real}")
            print(f"leaf claims that are not {{project}}/{{resource}} URIs: {len(not_resource_uri)}")
            for name in not_resource_uri:
                print(f"  {name}")
            for project, names in sorted(other_project.items()):
                print(f"leaf claims for project {project!r}, which is not in the API schema: {len(names)}")
                print("  " + ", ".join(RESOURCE_CLAIM_RE.match(n).group(2) for n in names))
            print(f"leaf claims without a resource in the API schema: {len(no_resource)}")
            for project, res in no_resource:
                print(f"  {project}/{res}")
            for name in nonleaf_resource:
                print(f"  note: non-leaf claim names a resource: {name}")
            for project in sorted(resources):
                missing = sorted((v for k, v in resources[project].items() if k not in matched[project]),
                                 key=lambda v: v[0])
                plain = [v[0] for v in missing if not v[1]]
                desc = [v[0] for v in missing if v[1]]
                print(f"{project} resources without a leaf claim: {len(plain)} "
                      f"(of {sum(1 for v in resources[project].values() if not v[1])})")
                for r in plain:
                    print(f"  {r}")
                print(f"{project} descriptors without a leaf claim: {len(desc)} "
                      f"(of {sum(1 for v in resources[project].values() if v[1])})")
                for r in desc:
                    print(f"  {r}")

    # Result.
    print()
    if chk.unknown_strategies:
        print("unknown strategy names: " + ", ".join(
            f"{n} ({c}x)" for n, c in sorted(chk.unknown_strategies.items())))
    if chk.errors:
        print(f"FAILED: {len(chk.errors)} structural problem(s)")
        for e in chk.errors:
            print(f"  {e}")
        return 1
    print("OK: no duplicate claims, no cycles, all action, strategy and claim-set names known")
    return 0


if __name__ == "__main__":
    sys.exit(main())
