/* Claim sets and the resource-claim hierarchy; see claims.h. The whole
 * decision table is computed at load time from the tree. */
#include "claims.h"
#include "../base/arena.h"
#include "../base/jsonx.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A claim set's grant on one node of the hierarchy. */
typedef struct grant {
    int set;
    uint8_t actions;                  /* bit per sec_action */
    uint32_t override[SEC_ACTIONS];   /* strategy overrides (0 = none) */
} grant;

typedef struct node {
    char *name;                       /* full claim URI */
    char *key;                        /* "ed-fi/studentschoolassociation", "domains/people" */
    int parent;                       /* -1 for a root */
    uint32_t deflt[SEC_ACTIONS];      /* default strategies (0 = none here) */
    grant *grants;
    int ngrants, capgrants;
} node;

typedef struct cset {
    char *name;                       /* ODS name */
    char *alias;                      /* DMS name (may equal name) */
    bool reserved;
} cset;

typedef struct decision {
    uint8_t code;                     /* claims_decision */
    uint32_t strategies;
} decision;

struct claims {
    node *nodes;
    int nnodes, capnodes;
    cset *sets;
    int nsets;
    int *by_key;                      /* node indexes sorted by key */
    decision *table;                  /* [node][set][action] */
};

/* Arrays of the metadata file: anything else counts as empty (the file may
 * come from an operator: it must not crash the loader). */
static size_t arr_len(json_object *a) { return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0; }

static const char *const action_names[SEC_ACTIONS] = {"Create", "Read", "Update", "Delete", "ReadChanges"};

static const struct {
    const char *name;
    uint32_t bit;
} strategy_names[] = {
    {"NoFurtherAuthorizationRequired", ST_NO_FURTHER},
    {"NamespaceBased", ST_NAMESPACE},
    {"OwnershipBased", ST_OWNERSHIP},
    {"RelationshipsWithEdOrgsAndPeople", ST_EDORGS_AND_PEOPLE},
    {"RelationshipsWithEdOrgsOnly", ST_EDORGS_ONLY},
    {"RelationshipsWithPeopleOnly", ST_PEOPLE_ONLY},
    {"RelationshipsWithStudentsOnly", ST_STUDENTS_ONLY},
    {"RelationshipsWithStudentsOnlyThroughResponsibility", ST_STUDENTS_RESPONSIBILITY},
    {"RelationshipsWithEdOrgsAndPeopleInverted", ST_EDORGS_AND_PEOPLE_INVERTED},
    {"RelationshipsWithEdOrgsOnlyInverted", ST_EDORGS_ONLY_INVERTED},
    {"RelationshipsWithEdOrgsAndPeopleIncludingDeletes", ST_EDORGS_AND_PEOPLE_DELETES},
    {"RelationshipsWithStudentsOnlyIncludingDeletes", ST_STUDENTS_ONLY_DELETES},
    {"RelationshipsWithStudentsOnlyThroughResponsibilityIncludingDeletes", ST_STUDENTS_RESPONSIBILITY_DELETES},
};

uint32_t claims_strategy_bit(const char *name)
{
    for (size_t i = 0; name && i < sizeof strategy_names / sizeof strategy_names[0]; i++)
        if (!strcmp(strategy_names[i].name, name)) return strategy_names[i].bit;
    return 0;
}

const char *claims_strategy_name(uint32_t bit)
{
    for (size_t i = 0; i < sizeof strategy_names / sizeof strategy_names[0]; i++)
        if (strategy_names[i].bit == bit) return strategy_names[i].name;
    return NULL;
}

int claims_action_index(const char *name)
{
    for (int i = 0; name && i < SEC_ACTIONS; i++)
        if (!strcmp(action_names[i], name)) return i;
    return -1;
}

const char *claims_action_name(sec_action act) { return act < SEC_ACTIONS ? action_names[act] : "?"; }

/* The lookup key of a claim URI: what follows ".../claims/", lower-cased;
 * the legacy ODS form of a core resource (".../ods/identity/claims/x")
 * becomes "ed-fi/x". */
static char *claim_key(const char *uri)
{
    static const char *prefixes[] = {"http://ed-fi.org/identity/claims/", "http://ed-fi.org/ods/identity/claims/"};
    const char *rest = uri;
    bool legacy = false;
    for (int i = 0; i < 2; i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(uri, prefixes[i], n)) {
            rest = uri + n;
            legacy = i == 1;
            break;
        }
    }
    bool needs_project = legacy && !strchr(rest, '/');
    char *k = xmalloc(strlen(rest) + 8);
    snprintf(k, strlen(rest) + 8, "%s%s", needs_project ? "ed-fi/" : "", rest);
    for (char *p = k; *p; p++) *p = (char)tolower((unsigned char)*p);
    return k;
}

static int set_index(const claims *c, const char *name)
{
    for (int i = 0; name && i < c->nsets; i++)
        if (!strcmp(c->sets[i].name, name) || !strcmp(c->sets[i].alias, name)) return i;
    return -1;
}

int claims_set_index(const claims *c, const char *name) { return set_index(c, name); }
const char *claims_set_name(const claims *c, int set) { return set >= 0 && set < c->nsets ? c->sets[set].name : NULL; }
int claims_set_count(const claims *c) { return c->nsets; }
bool claims_set_reserved(const claims *c, int set) { return set >= 0 && set < c->nsets && c->sets[set].reserved; }

/* Strategy names of a JSON array [{"name": ...}] as bits; false on an
 * unknown name. */
static bool strategies_of(json_object *arr, uint32_t *out, char *err, size_t errlen, const char *where)
{
    *out = 0;
    for (size_t i = 0; arr && i < arr_len(arr); i++) {
        const char *n = jsonx_str(json_object_array_get_idx(arr, i), "name");
        uint32_t bit = claims_strategy_bit(n);
        if (!bit) {
            snprintf(err, errlen, "%s: unknown authorization strategy '%s'", where, n ? n : "(none)");
            return false;
        }
        *out |= bit;
    }
    return true;
}

static bool load_node(claims *c, json_object *o, int parent, char *err, size_t errlen, int depth)
{
    const char *name = jsonx_str(o, "name");
    if (!name || !*name) {
        snprintf(err, errlen, "a claim without a name");
        return false;
    }
    if (depth > 32) {
        snprintf(err, errlen, "%s: the hierarchy is nested too deeply", name);
        return false;
    }
    if (c->nnodes == c->capnodes) {
        c->capnodes = c->capnodes ? 2 * c->capnodes : 256;
        c->nodes = realloc(c->nodes, sizeof *c->nodes * (size_t)c->capnodes);
        if (!c->nodes) abort();
    }
    int me = c->nnodes++;
    node *n = &c->nodes[me];
    memset(n, 0, sizeof *n);
    n->name = xstrdup(name);
    n->key = claim_key(name);
    n->parent = parent;
    json_object *acts = jsonx_get(jsonx_get(o, "defaultAuthorization"), "actions");
    for (size_t i = 0; i < arr_len(acts); i++) {
        json_object *a = json_object_array_get_idx(acts, i);
        int ai = claims_action_index(jsonx_str(a, "name"));
        if (ai < 0) {
            snprintf(err, errlen, "%s: unknown action '%s'", name, jsonx_str(a, "name") ? jsonx_str(a, "name") : "");
            return false;
        }
        if (!strategies_of(jsonx_get(a, "authorizationStrategies"), &c->nodes[me].deflt[ai], err, errlen, name)) return false;
    }
    json_object *sets = jsonx_get(o, "claimSets");
    for (size_t i = 0; i < arr_len(sets); i++) {
        json_object *g = json_object_array_get_idx(sets, i);
        int si = set_index(c, jsonx_str(g, "name"));
        if (si < 0) {
            snprintf(err, errlen, "%s: claim set '%s' is not declared", name, jsonx_str(g, "name") ? jsonx_str(g, "name") : "");
            return false;
        }
        n = &c->nodes[me];
        for (int k = 0; k < n->ngrants; k++)
            if (n->grants[k].set == si) {
                snprintf(err, errlen, "%s: claim set '%s' is listed twice", name, c->sets[si].name);
                return false;
            }
        if (n->ngrants == n->capgrants) {
            n->capgrants = n->capgrants ? 2 * n->capgrants : 4;
            n->grants = realloc(n->grants, sizeof *n->grants * (size_t)n->capgrants);
            if (!n->grants) abort();
        }
        grant *gr = &n->grants[n->ngrants++];
        memset(gr, 0, sizeof *gr);
        gr->set = si;
        json_object *ga = jsonx_get(g, "actions");
        for (size_t k = 0; k < arr_len(ga); k++) {
            json_object *a = json_object_array_get_idx(ga, k);
            int ai = claims_action_index(jsonx_str(a, "name"));
            if (ai < 0) {
                snprintf(err, errlen, "%s: unknown action '%s' for claim set '%s'", name,
                         jsonx_str(a, "name") ? jsonx_str(a, "name") : "", c->sets[si].name);
                return false;
            }
            gr->actions |= (uint8_t)(1u << ai);
            if (!strategies_of(jsonx_get(a, "authorizationStrategyOverrides"), &gr->override[ai], err, errlen, name))
                return false;
        }
    }
    json_object *kids = jsonx_get(o, "claims");
    for (size_t i = 0; i < arr_len(kids); i++)
        if (!load_node(c, json_object_array_get_idx(kids, i), me, err, errlen, depth + 1)) return false;
    return true;
}

static int cmp_key(const void *a, const void *b, void *ctx)
{
    const claims *c = ctx;
    return strcmp(c->nodes[*(const int *)a].key, c->nodes[*(const int *)b].key);
}

/* §2.2: grant = union up the lineage; strategies = the nearest override
 * for the action, else the nearest default. */
static decision decide(const claims *c, int claim, int set, int act)
{
    decision d = {DECIDE_NO_RESOURCE, 0};
    bool seen = false;
    uint8_t granted = 0;
    uint32_t override = 0, deflt = 0;
    for (int n = claim, guard = 0; n >= 0 && guard < c->nnodes; n = c->nodes[n].parent, guard++) {
        const node *nd = &c->nodes[n];
        for (int k = 0; k < nd->ngrants; k++) {
            if (nd->grants[k].set != set) continue;
            seen = true;
            granted |= nd->grants[k].actions;
            if (!override && (nd->grants[k].actions & (1u << act))) override = nd->grants[k].override[act];
        }
        if (!deflt) deflt = nd->deflt[act];
    }
    if (!seen) return d;
    if (!(granted & (1u << act))) return (decision){DECIDE_NO_ACTION, 0};
    uint32_t s = override ? override : deflt;
    return s ? (decision){DECIDE_GRANTED, s} : (decision){DECIDE_NO_STRATEGY, 0};
}

static void apply_names(claims *c, json_object *m)
{
    if (!json_object_is_type(m, json_type_object)) return;
    json_object_object_foreach(m, k, v)
    {
        int si = set_index(c, k);
        if (si >= 0 && json_object_is_type(v, json_type_string)) {
            /* the file maps DMS names to ODS names: keep the ODS one as the name */
            free(c->sets[si].name);
            c->sets[si].name = xstrdup(json_object_get_string(v));
        }
    }
}

static claims *from_json(json_object *root, json_object *names, const char *path, char *err, size_t errlen)
{
    claims *c = xcalloc(1, sizeof *c);
    json_object *sets = jsonx_get(root, "claimSets"), *hier = jsonx_get(root, "claimsHierarchy");
    if (!sets || !hier || !json_object_is_type(sets, json_type_array) || !json_object_is_type(hier, json_type_array)) {
        snprintf(err, errlen, "%s: expected {\"claimSets\": [...], \"claimsHierarchy\": [...]}", path);
        goto fail;
    }
    int total = (int)json_object_array_length(sets);
    c->sets = xcalloc((size_t)total + 1, sizeof *c->sets);
    for (int i = 0; i < total; i++) {
        json_object *s = json_object_array_get_idx(sets, (size_t)i);
        const char *n = jsonx_str(s, "claimSetName");
        if (!n || !*n || set_index(c, n) >= 0) {
            snprintf(err, errlen, "%s: claim set %d has no name or a duplicate one ('%s')", path, i, n ? n : "");
            goto fail;
        }
        c->sets[i].name = xstrdup(n);
        c->sets[i].alias = xstrdup(n);
        c->sets[i].reserved = jsonx_bool(s, "isSystemReserved");
        c->nsets = i + 1;
    }
    if (names) apply_names(c, names);
    for (size_t i = 0; i < arr_len(hier); i++)
        if (!load_node(c, json_object_array_get_idx(hier, i), -1, err, errlen, 0)) goto fail;
    c->by_key = xmalloc(sizeof *c->by_key * (size_t)(c->nnodes + 1));
    for (int i = 0; i < c->nnodes; i++) c->by_key[i] = i;
    qsort_r(c->by_key, (size_t)c->nnodes, sizeof *c->by_key, cmp_key, c);
    for (int i = 1; i < c->nnodes; i++)
        if (!strcmp(c->nodes[c->by_key[i]].key, c->nodes[c->by_key[i - 1]].key)) {
            snprintf(err, errlen, "%s: the claim %s appears twice", path, c->nodes[c->by_key[i]].name);
            goto fail;
        }
    c->table = xmalloc(sizeof *c->table * (size_t)c->nnodes * (size_t)(c->nsets ? c->nsets : 1) * SEC_ACTIONS);
    for (int n = 0; n < c->nnodes; n++)
        for (int s = 0; s < c->nsets; s++)
            for (int a = 0; a < SEC_ACTIONS; a++) c->table[((size_t)n * (size_t)c->nsets + (size_t)s) * SEC_ACTIONS + (size_t)a] = decide(c, n, s, a);
    return c;
fail:
    claims_free(c);
    return NULL;
}

claims *claims_parse(const char *text, size_t len, const char *names_text, char *err, size_t errlen)
{
    json_object *root = jsonx_parse(text, len, err, errlen, NULL, 0), *names = NULL;
    if (!root) return NULL;
    if (names_text && !(names = jsonx_parse(names_text, strlen(names_text), err, errlen, NULL, 0))) {
        json_object_put(root);
        return NULL;
    }
    claims *c = from_json(root, names, "claims", err, errlen);
    json_object_put(root);
    json_object_put(names);
    return c;
}

claims *claims_load(const char *path, const char *names_path, char *err, size_t errlen)
{
    json_object *root = jsonx_parse_file(path, err, errlen), *names = NULL;
    if (!root) return NULL;
    if (names_path && !(names = jsonx_parse_file(names_path, err, errlen))) {
        json_object_put(root);
        return NULL;
    }
    claims *c = from_json(root, names, path, err, errlen);
    json_object_put(root);
    json_object_put(names);
    return c;
}

/* The node named name anywhere in a hierarchy array, or NULL. */
static json_object *find_node(json_object *arr, const char *name, int depth)
{
    for (size_t i = 0; i < arr_len(arr) && depth < 32; i++) {
        json_object *n = json_object_array_get_idx(arr, i);
        const char *nn = jsonx_str(n, "name");
        if (nn && !strcmp(nn, name)) return n;
        json_object *hit = find_node(jsonx_get(n, "claims"), name, depth + 1);
        if (hit) return hit;
    }
    return NULL;
}

/* Adds the grants of an extra file's nodes (found by name, at any depth of
 * the extra file) to the same-named nodes of the base hierarchy. */
static bool merge_nodes(json_object *base, json_object *arr, const char *path, char *err, size_t errlen, int depth)
{
    for (size_t i = 0; i < arr_len(arr) && depth < 32; i++) {
        json_object *n = json_object_array_get_idx(arr, i);
        const char *name = jsonx_str(n, "name");
        json_object *target = name ? find_node(base, name, 0) : NULL;
        if (!target) {
            snprintf(err, errlen, "%s: '%s' is not a resource claim of the hierarchy", path, name ? name : "(no name)");
            return false;
        }
        json_object *grants = jsonx_get(n, "claimSets"), *into = jsonx_get(target, "claimSets");
        if (!json_object_is_type(into, json_type_array)) {
            into = json_object_new_array();
            json_object_object_add(target, "claimSets", into);
        }
        for (size_t k = 0; k < arr_len(grants); k++)
            json_object_array_add(into, json_object_get(json_object_array_get_idx(grants, k)));
        if (!merge_nodes(base, jsonx_get(n, "claims"), path, err, errlen, depth + 1)) return false;
    }
    return true;
}

claims *claims_load_with(const char *path, const char *names_path, const char *const *extra, int nextra, char *err,
                         size_t errlen)
{
    json_object *root = jsonx_parse_file(path, err, errlen), *names = NULL;
    if (!root) return NULL;
    claims *c = NULL;
    if (names_path && !(names = jsonx_parse_file(names_path, err, errlen))) goto out;
    json_object *sets = jsonx_get(root, "claimSets"), *hier = jsonx_get(root, "claimsHierarchy");
    for (int i = 0; i < nextra; i++) {
        json_object *x = jsonx_parse_file(extra[i], err, errlen);
        if (!x) goto out;
        json_object *xs = jsonx_get(x, "claimSets");
        for (size_t k = 0; k < arr_len(xs) && json_object_is_type(sets, json_type_array); k++)
            json_object_array_add(sets, json_object_get(json_object_array_get_idx(xs, k)));
        bool ok = merge_nodes(hier, jsonx_get(x, "claimsHierarchy"), extra[i], err, errlen, 0);
        json_object_put(x);
        if (!ok) goto out;
    }
    c = from_json(root, names, path, err, errlen);
out:
    json_object_put(root);
    json_object_put(names);
    return c;
}

char *claims_export(const claims *c, int set)
{
    json_object *root = json_object_new_object(), *sets = json_object_new_array(), *hier = json_object_new_array();
    json_object *cs = json_object_new_object();
    json_object_object_add(cs, "claimSetName", json_object_new_string(c->sets[set].name));
    json_object_object_add(cs, "isSystemReserved", json_object_new_boolean(false));
    json_object_array_add(sets, cs);
    for (int n = 0; n < c->nnodes; n++)
        for (int k = 0; k < c->nodes[n].ngrants; k++) {
            const grant *g = &c->nodes[n].grants[k];
            if (g->set != set) continue;
            json_object *acts = json_object_new_array();
            for (int a = 0; a < SEC_ACTIONS; a++) {
                if (!(g->actions & (1u << a))) continue;
                json_object *ao = json_object_new_object();
                json_object_object_add(ao, "name", json_object_new_string(action_names[a]));
                if (g->override[a]) {
                    json_object *ov = json_object_new_array();
                    for (uint32_t bit = 1; bit; bit <<= 1)
                        if (g->override[a] & bit) {
                            json_object *so = json_object_new_object();
                            json_object_object_add(so, "name", json_object_new_string(claims_strategy_name(bit)));
                            json_object_array_add(ov, so);
                        }
                    json_object_object_add(ao, "authorizationStrategyOverrides", ov);
                }
                json_object_array_add(acts, ao);
            }
            json_object *grants = json_object_new_array(), *go = json_object_new_object(), *nd = json_object_new_object();
            json_object_object_add(go, "name", json_object_new_string(c->sets[set].name));
            json_object_object_add(go, "actions", acts);
            json_object_array_add(grants, go);
            json_object_object_add(nd, "name", json_object_new_string(c->nodes[n].name));
            json_object_object_add(nd, "claimSets", grants);
            json_object_array_add(hier, nd);
        }
    json_object_object_add(root, "claimSets", sets);
    json_object_object_add(root, "claimsHierarchy", hier);
    char *out = xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return out;
}

void claims_free(claims *c)
{
    if (!c) return;
    for (int i = 0; i < c->nnodes; i++) {
        free(c->nodes[i].name);
        free(c->nodes[i].key);
        free(c->nodes[i].grants);
    }
    for (int i = 0; i < c->nsets; i++) {
        free(c->sets[i].name);
        free(c->sets[i].alias);
    }
    free(c->nodes);
    free(c->sets);
    free(c->by_key);
    free(c->table);
    free(c);
}

int claims_resource_claim(const claims *c, const char *project_endpoint, const char *resource_name)
{
    char key[256];
    snprintf(key, sizeof key, "%s/%s", project_endpoint, resource_name);
    for (char *p = key; *p; p++) *p = (char)tolower((unsigned char)*p);
    int lo = 0, hi = c->nnodes - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, cmp = strcmp(c->nodes[c->by_key[mid]].key, key);
        if (!cmp) return c->by_key[mid];
        if (cmp < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

claims_decision claims_decide(const claims *c, int set, int claim, sec_action act, uint32_t *strategies)
{
    *strategies = 0;
    if (claim < 0 || claim >= c->nnodes) return DECIDE_NO_METADATA;
    if (set < 0 || set >= c->nsets || act >= SEC_ACTIONS) return DECIDE_NO_RESOURCE;
    decision d = c->table[((size_t)claim * (size_t)c->nsets + (size_t)set) * SEC_ACTIONS + (size_t)act];
    *strategies = d.strategies;
    return (claims_decision)d.code;
}
