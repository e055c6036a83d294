/* Loads the ApiSchema JSON into the tables of model.h. */
#include "model.h"
#include "../base/arena.h"
#include "../base/jsonx.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define A(m) ((arena *)(m)->mem)

bool mpath_parse(void *ar, const char *text, mpath *out)
{
    arena *a = ar;
    out->text = text;
    out->nseg = 0;
    out->seg = NULL;
    if (strncmp(text, "$.", 2) != 0) return false;
    int n = 1;
    for (const char *p = text + 2; *p; p++) n += *p == '.';
    out->seg = arena_alloc(a, sizeof(mseg) * (size_t)n);
    const char *p = text + 2;
    while (*p) {
        const char *e = p;
        while (*e && *e != '.' && *e != '[') e++;
        if (e == p) return false;
        mseg *s = &out->seg[out->nseg++];
        s->name = arena_strndup(a, p, (size_t)(e - p));
        s->array = false;
        if (*e == '[') {
            if (strncmp(e, "[*]", 3) != 0) return false;
            s->array = true;
            e += 3;
        }
        if (*e == '.') e++;
        else if (*e) return false;
        p = e;
    }
    return out->nseg > 0;
}

static jpattern pattern_of(const char *p)
{
    if (!p) return PAT_NONE;
    if (strcmp(p, "^(?!\\s)(.*\\S)$") == 0) return PAT_IDENTITY;
    if (strcmp(p, "^(?!\\s*$).+") == 0) return PAT_REQUIRED;
    if (strcmp(p, "^(?!\\s).*(?<!\\s)$") == 0) return PAT_EDGES;
    return PAT_NONE;
}

static snode *compile_schema(model *m, json_object *js, char *err, size_t errlen)
{
    arena *a = A(m);
    snode *n = arena_alloc(a, sizeof *n);
    n->min_len = n->max_len = -1;
    const char *type = jsonx_str(js, "type");
    if (!type) {
        snprintf(err, errlen, "schema node without a type");
        return NULL;
    }
    if (!strcmp(type, "string")) n->type = JT_STRING;
    else if (!strcmp(type, "integer")) n->type = JT_INTEGER;
    else if (!strcmp(type, "number")) n->type = JT_NUMBER;
    else if (!strcmp(type, "boolean")) n->type = JT_BOOLEAN;
    else if (!strcmp(type, "object")) n->type = JT_OBJECT;
    else if (!strcmp(type, "array")) n->type = JT_ARRAY;
    else {
        snprintf(err, errlen, "unsupported schema type '%s'", type);
        return NULL;
    }
    const char *fmt = jsonx_str(js, "format");
    if (fmt) n->format = !strcmp(fmt, "date") ? FMT_DATE : !strcmp(fmt, "time") ? FMT_TIME
                        : !strcmp(fmt, "date-time") ? FMT_DATETIME : FMT_NONE;
    n->pattern = pattern_of(jsonx_str(js, "pattern"));
    json_object *v;
    if ((v = jsonx_get(js, "minimum"))) n->has_min = true, n->min = json_object_get_double(v);
    if ((v = jsonx_get(js, "maximum"))) n->has_max = true, n->max = json_object_get_double(v);
    if ((v = jsonx_get(js, "minLength"))) n->min_len = json_object_get_int(v);
    if ((v = jsonx_get(js, "maxLength"))) n->max_len = json_object_get_int(v);
    if ((v = jsonx_get(js, "minItems"))) n->min_items = json_object_get_int(v);
    if (n->type == JT_OBJECT) {
        json_object *props = jsonx_get(js, "properties");
        int np = props ? json_object_object_length(props) : 0;
        n->nprops = np;
        n->prop_names = arena_alloc(a, sizeof(char *) * (size_t)(np + 1));
        n->props = arena_alloc(a, sizeof(snode *) * (size_t)(np + 1));
        n->required = arena_alloc(a, sizeof(bool) * (size_t)(np + 1));
        int i = 0;
        if (props) {
            json_object_object_foreach(props, key, val)
            {
                n->prop_names[i] = key;
                if (!(n->props[i] = compile_schema(m, val, err, errlen))) return NULL;
                size_t kl = strlen(key);
                if (n->props[i]->type == JT_STRING && kl > 10 && !strcmp(key + kl - 10, "Descriptor"))
                    n->props[i]->is_descriptor_value = true;
                i++;
            }
        }
        json_object *req = jsonx_get(js, "required");
        for (size_t r = 0; req && r < json_object_array_length(req); r++) {
            const char *rn = json_object_get_string(json_object_array_get_idx(req, r));
            for (int k = 0; k < np; k++)
                if (!strcmp(n->prop_names[k], rn)) n->required[k] = true;
        }
    } else if (n->type == JT_ARRAY) {
        json_object *items = jsonx_get(js, "items");
        if (!items) {
            snprintf(err, errlen, "array schema without items");
            return NULL;
        }
        if (!(n->items = compile_schema(m, items, err, errlen))) return NULL;
    }
    return n;
}

static int lower_cmp(const void *x, const void *y)
{
    const mresource *a = *(mresource *const *)x, *b = *(mresource *const *)y;
    int c = strcasecmp(a->project_endpoint, b->project_endpoint);
    return c ? c : strcasecmp(a->endpoint, b->endpoint);
}

static bool path_eq(const char *a, const char *b) { return strcmp(a, b) == 0; }

static bool load_refs(model *m, mresource *r, json_object *dpm, char *err, size_t errlen)
{
    arena *a = A(m);
    int nref = 0, ndesc = 0;
    json_object_object_foreach(dpm, k0, v0)
    {
        (void)k0;
        if (!jsonx_bool(v0, "isReference")) continue;
        if (jsonx_bool(v0, "isDescriptor")) ndesc++;
        else nref++;
    }
    r->refs = arena_alloc(a, sizeof(mref) * (size_t)(nref + 1));
    r->descs = arena_alloc(a, sizeof(mdesc) * (size_t)(ndesc + 1));
    json_object_object_foreach(dpm, key, val)
    {
        if (!jsonx_bool(val, "isReference")) continue;
        if (jsonx_bool(val, "isDescriptor")) {
            mdesc *d = &r->descs[r->ndescs++];
            d->project = jsonx_str(val, "projectName");
            d->descriptor_name = jsonx_str(val, "resourceName");
            if (!mpath_parse(a, jsonx_str(val, "path"), &d->path)) {
                snprintf(err, errlen, "%s: bad descriptor path", r->endpoint);
                return false;
            }
            continue;
        }
        mref *f = &r->refs[r->nrefs++];
        f->name = key;
        f->target_project = jsonx_str(val, "projectName");
        f->target_name = jsonx_str(val, "resourceName");
        json_object *rjp = jsonx_get(val, "referenceJsonPaths");
        f->nmembers = (int)json_object_array_length(rjp);
        f->members = arena_alloc(a, sizeof(mrefmember) * (size_t)f->nmembers);
        for (int i = 0; i < f->nmembers; i++) {
            json_object *e = json_object_array_get_idx(rjp, (size_t)i);
            mrefmember *mm = &f->members[i];
            mm->ident_path = jsonx_str(e, "identityJsonPath");
            if (!mpath_parse(a, jsonx_str(e, "referenceJsonPath"), &mm->ref_path)) {
                snprintf(err, errlen, "%s: bad reference path", r->endpoint);
                return false;
            }
            mm->leaf = mm->ref_path.seg[mm->ref_path.nseg - 1].name;
            for (int k = 0; k < r->nidentity; k++)
                if (path_eq(r->identity[k].text, mm->ref_path.text)) f->in_identity = true;
        }
        /* The reference object is the member path minus its leaf. */
        mpath *p0 = &f->members[0].ref_path;
        f->object_path.nseg = p0->nseg - 1;
        f->object_path.seg = p0->seg;
        size_t tl = strlen(p0->text) - strlen(f->members[0].leaf) - 1;
        f->object_path.text = arena_strndup(a, p0->text, tl);
    }
    return true;
}

/* The schema node at an absolute path ("$.a[*].b"); NULL if absent. */
static snode *schema_at(snode *n, const mpath *p, int from, int to)
{
    for (int i = from; n && i < to; i++) {
        if (n->type != JT_OBJECT) return NULL;
        snode *next = NULL;
        for (int k = 0; k < n->nprops; k++)
            if (!strcmp(n->prop_names[k], p->seg[i].name)) next = n->props[k];
        n = next;
        if (n && p->seg[i].array) {
            if (n->type != JT_ARRAY) return NULL;
            n = n->items;
        }
    }
    return n;
}

/* Attaches one arrayUniquenessConstraints entry ({basePath?, paths,
 * nestedConstraints?}, the MetaEd/DMS shape) to the array nodes it names.
 * Paths are relative to node, or to node's basePath when given; nested
 * entries are relative to that same base. */
static void attach_uniqueness(model *m, snode *node, json_object *c)
{
    arena *a = A(m);
    const char *base = jsonx_str(c, "basePath");
    if (base) {
        mpath bp;
        if (!mpath_parse(a, base, &bp)) return;
        node = schema_at(node, &bp, 0, bp.nseg);
        if (!node) return;
    }
    json_object *paths = jsonx_get(c, "paths");
    int np = paths ? (int)json_object_array_length(paths) : 0;
    mpath first;
    snode *holder = NULL;
    int arr = -1; /* the segment that carries the [*] */
    if (np && mpath_parse(a, json_object_get_string(json_object_array_get_idx(paths, 0)), &first)) {
        for (int i = 0; i < first.nseg && arr < 0; i++)
            if (first.seg[i].array) arr = i;
        snode *an = arr >= 0 ? schema_at(node, &first, 0, arr) : NULL;
        if (an && an->type == JT_OBJECT)
            for (int k = 0; k < an->nprops; k++)
                if (!strcmp(an->prop_names[k], first.seg[arr].name)) holder = an->props[k];
    }
    if (holder && holder->type == JT_ARRAY) {
        holder->uniq = arena_alloc(a, sizeof(mpath) * (size_t)np);
        holder->nuniq = 0;
        for (int i = 0; i < np; i++) {
            mpath full;
            if (!mpath_parse(a, json_object_get_string(json_object_array_get_idx(paths, (size_t)i)), &full)) continue;
            mpath *rel = &holder->uniq[holder->nuniq];
            rel->nseg = full.nseg - arr - 1;
            rel->seg = full.seg + arr + 1;
            rel->text = full.text;
            if (rel->nseg > 0) holder->nuniq++;
        }
    }
    json_object *nested = jsonx_get(c, "nestedConstraints");
    for (size_t i = 0; nested && i < json_object_array_length(nested); i++)
        attach_uniqueness(m, node, json_object_array_get_idx(nested, i));
}

static qtype qtype_of(const char *t)
{
    if (!t) return QT_STRING;
    if (!strcmp(t, "number")) return QT_NUMBER;
    if (!strcmp(t, "boolean")) return QT_BOOLEAN;
    if (!strcmp(t, "date")) return QT_DATE;
    if (!strcmp(t, "date-time")) return QT_DATETIME;
    if (!strcmp(t, "time")) return QT_TIME;
    return QT_STRING;
}

/* securableElements: {"EducationOrganization": [{"jsonPath", "metaEdName"}],
 * "Student": ["$.path"], ...}. */
static bool load_securable(void *a, mresource *r, json_object *se, char *err, size_t errlen)
{
    static const char *kinds[MSEC_KINDS] = {"EducationOrganization", "Student", "Staff", "Contact", "Namespace"};
    size_t total = 0;
    for (int k = 0; k < MSEC_KINDS; k++) {
        json_object *arr = jsonx_get(se, kinds[k]);
        if (json_object_is_type(arr, json_type_array)) total += json_object_array_length(arr);
    }
    r->securable = arena_alloc(a, sizeof(msecurable) * (total + 1));
    for (int k = 0; k < MSEC_KINDS; k++) {
        json_object *arr = jsonx_get(se, kinds[k]);
        if (!json_object_is_type(arr, json_type_array)) continue;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *e = json_object_array_get_idx(arr, i);
            const char *path = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : jsonx_str(e, "jsonPath");
            msecurable *s = &r->securable[r->nsecurable];
            s->kind = (msec_kind)k;
            s->meta_name = jsonx_str(e, "metaEdName");
            if (!path || !mpath_parse(a, path, &s->path)) {
                snprintf(err, errlen, "%s: bad securable element path in %s", r->endpoint, kinds[k]);
                return false;
            }
            r->nsecurable++;
        }
    }
    return true;
}

/* educationOrganizationHierarchy: {"School": {"LocalEducationAgency": "$.path"}, ...}. */
static bool load_hierarchy(model *m, json_object *h, char *err, size_t errlen)
{
    if (!json_object_is_type(h, json_type_object)) return true;
    json_object_object_foreach(h, name, parents)
    {
        mresource *r = model_find_by_name(m, m->project_name, name);
        if (!r) continue; /* abstract EducationOrganization */
        r->is_edorg = true;
        r->parents = arena_alloc(A(m), sizeof(mparent) * (size_t)(json_object_object_length(parents) + 1));
        json_object_object_foreach(parents, pn, pv)
        {
            mparent *p = &r->parents[r->nparents];
            p->parent_name = pn;
            if (!json_object_is_type(pv, json_type_string) || !mpath_parse(A(m), json_object_get_string(pv), &p->path)) {
                snprintf(err, errlen, "educationOrganizationHierarchy: bad path for %s -> %s", name, pn);
                return false;
            }
            r->nparents++;
        }
    }
    return true;
}

static bool load_resource(model *m, mresource *r, const char *endpoint, json_object *rs, char *err,
                          size_t errlen)
{
    arena *a = A(m);
    r->endpoint = endpoint;
    r->project_name = m->project_name;
    r->project_endpoint = "ed-fi";
    r->name = jsonx_str(rs, "resourceName");
    r->path = arena_printf(a, "/%s/%s", r->project_endpoint, endpoint);
    r->is_descriptor = jsonx_bool(rs, "isDescriptor");
    r->is_school_year = jsonx_bool(rs, "isSchoolYearEnumeration");
    r->allow_identity_updates = jsonx_bool(rs, "allowIdentityUpdates");
    r->is_subclass = jsonx_bool(rs, "isSubclass");
    const char *st = jsonx_str(rs, "subclassType");
    r->subclass_association = st && !strcmp(st, "association");
    r->superclass_name = jsonx_str(rs, "superclassResourceName");
    r->superclass_identity_path = jsonx_str(rs, "superclassIdentityJsonPath");
    json_object *ids = jsonx_get(rs, "identityJsonPaths");
    r->nidentity = ids ? (int)json_object_array_length(ids) : 0;
    r->identity = arena_alloc(a, sizeof(mpath) * (size_t)(r->nidentity + 1));
    for (int i = 0; i < r->nidentity; i++)
        if (!mpath_parse(a, json_object_get_string(json_object_array_get_idx(ids, (size_t)i)), &r->identity[i])) {
            snprintf(err, errlen, "%s: bad identity path", endpoint);
            return false;
        }
    if (!load_refs(m, r, jsonx_get(rs, "documentPathsMapping"), err, errlen)) return false;
    json_object *eq = jsonx_get(rs, "equalityConstraints");
    r->nequal = eq ? (int)json_object_array_length(eq) : 0;
    r->equal = arena_alloc(a, sizeof(mequal) * (size_t)(r->nequal + 1));
    for (int i = 0; i < r->nequal; i++) {
        json_object *e = json_object_array_get_idx(eq, (size_t)i);
        if (!mpath_parse(a, jsonx_str(e, "sourceJsonPath"), &r->equal[i].source) ||
            !mpath_parse(a, jsonx_str(e, "targetJsonPath"), &r->equal[i].target)) {
            snprintf(err, errlen, "%s: bad equality constraint path", endpoint);
            return false;
        }
    }
    json_object *q = jsonx_get(rs, "queryFieldMapping");
    r->query = arena_alloc(a, sizeof(mquery) * (size_t)((q ? json_object_object_length(q) : 0) + 1));
    if (q) {
        json_object_object_foreach(q, qn, qv)
        {
            json_object *first = json_object_array_get_idx(qv, 0);
            if (!first) continue;
            mquery *mq = &r->query[r->nquery];
            mq->name = qn;
            mq->type = qtype_of(jsonx_str(first, "type"));
            if (!mpath_parse(a, jsonx_str(first, "path"), &mq->path)) {
                snprintf(err, errlen, "%s: bad query path for %s", endpoint, qn);
                return false;
            }
            size_t l = strlen(mq->path.text);
            mq->descriptor = l > 10 && !strcmp(mq->path.text + l - 10, "Descriptor");
            /* Identity fields are what clients look documents up by; they
             * get an index (descriptors: namespace and codeValue). */
            for (int k = 0; k < r->nidentity; k++)
                if (!strcmp(r->identity[k].text, mq->path.text)) mq->indexed = true;
            if (r->is_descriptor && (!strcmp(qn, "codeValue") || !strcmp(qn, "namespace"))) mq->indexed = true;
            if (mq->indexed) mq->index_key = arena_printf(a, "%s/%s|%s", r->project_endpoint, endpoint, qn);
            r->nquery++;
        }
    }
    r->schema_json = jsonx_get(rs, "jsonSchemaForInsert");
    r->description = jsonx_str(r->schema_json, "description");
    if (!(r->schema = compile_schema(m, r->schema_json, err, errlen))) return false;
    json_object *dec = jsonx_get(rs, "decimalPropertyValidationInfos");
    for (size_t i = 0; dec && i < json_object_array_length(dec); i++) {
        json_object *d = json_object_array_get_idx(dec, i);
        mpath p;
        if (!jsonx_str(d, "path") || !mpath_parse(a, jsonx_str(d, "path"), &p)) continue;
        snode *n = schema_at(r->schema, &p, 0, p.nseg);
        if (!n || (n->type != JT_NUMBER && n->type != JT_INTEGER)) continue;
        n->has_decimal = true;
        n->total_digits = json_object_get_int(jsonx_get(d, "totalDigits"));
        n->decimal_places = json_object_get_int(jsonx_get(d, "decimalPlaces"));
    }
    if (!load_securable(a, r, jsonx_get(rs, "securableElements"), err, errlen)) return false;
    json_object *uq = jsonx_get(rs, "arrayUniquenessConstraints");
    for (size_t i = 0; uq && i < json_object_array_length(uq); i++) attach_uniqueness(m, r->schema, json_object_array_get_idx(uq, i));
    if (r->is_descriptor) {
        for (int i = 0; i < r->schema->nprops; i++) {
            const char *pn = r->schema->prop_names[i];
            if (!strcmp(pn, "codeValue") || !strcmp(pn, "shortDescription")) r->schema->props[i]->trim = true;
        }
    }
    return true;
}

model *model_load(const char *path, char *err, size_t errlen)
{
    json_object *root = jsonx_parse_file(path, err, errlen);
    if (!root) return NULL;
    model *m = xcalloc(1, sizeof *m);
    m->root = root;
    m->mem = xcalloc(1, sizeof(arena));
    arena_init(A(m), 1 << 16);
    json_object *ps = jsonx_get(jsonx_get(root, "projectSchemas"), "ed-fi");
    if (!ps) ps = jsonx_get(root, "projectSchema");
    if (!ps) {
        snprintf(err, errlen, "%s: no ed-fi project schema found (is this an ApiSchema file?)", path);
        goto fail;
    }
    m->project_name = jsonx_str(ps, "projectName");
    m->project_version = jsonx_str(ps, "projectVersion");
    m->project_description = jsonx_str(ps, "description");
    if (!m->project_name || !m->project_version) {
        snprintf(err, errlen, "%s: projectName/projectVersion missing", path);
        goto fail;
    }
    json_object *rss = jsonx_get(ps, "resourceSchemas");
    json_object *abs = jsonx_get(ps, "abstractResources");
    m->nabs = abs ? json_object_object_length(abs) : 0;
    m->abs = arena_alloc(A(m), sizeof(mabstract) * (size_t)(m->nabs + 1));
    int ai = 0;
    if (abs) {
        json_object_object_foreach(abs, an, av)
        {
            mabstract *x = &m->abs[ai++];
            x->name = an;
            x->project_name = m->project_name;
            json_object *ids = jsonx_get(av, "identityJsonPaths");
            x->nidentity = (int)json_object_array_length(ids);
            x->identity = arena_alloc(A(m), sizeof(mpath) * (size_t)x->nidentity);
            for (int i = 0; i < x->nidentity; i++)
                mpath_parse(A(m), json_object_get_string(json_object_array_get_idx(ids, (size_t)i)), &x->identity[i]);
        }
    }
    int n = rss ? json_object_object_length(rss) : 0;
    m->res = arena_alloc(A(m), sizeof(mresource) * (size_t)(n + 1));
    if (rss) {
        json_object_object_foreach(rss, ep, rs)
        {
            if (jsonx_bool(rs, "isResourceExtension")) continue;
            mresource *r = &m->res[m->nres];
            r->index = m->nres;
            if (!load_resource(m, r, ep, rs, err, errlen)) goto fail;
            m->nres++;
        }
    }
    /* Resolve reference targets and subclass links now that all exist. */
    for (int i = 0; i < m->nres; i++) {
        mresource *r = &m->res[i];
        for (int k = 0; k < r->nrefs; k++) {
            mref *f = &r->refs[k];
            f->target = model_find_by_name(m, f->target_project, f->target_name);
            for (int j = 0; !f->target && j < m->nabs; j++)
                if (!strcmp(m->abs[j].name, f->target_name)) f->target_abstract = &m->abs[j];
            if (!f->target && !f->target_abstract) {
                snprintf(err, errlen, "%s: reference %s to unknown resource %s", r->endpoint, f->name, f->target_name);
                goto fail;
            }
        }
        if (r->is_subclass) {
            for (int j = 0; j < m->nabs; j++)
                if (!strcmp(m->abs[j].name, r->superclass_name)) r->superclass = &m->abs[j];
            if (!r->superclass) {
                snprintf(err, errlen, "%s: unknown superclass %s", r->endpoint, r->superclass_name);
                goto fail;
            }
            mabstract *s = r->superclass;
            mresource **c = arena_alloc(A(m), sizeof(mresource *) * (size_t)(s->nconcrete + 1));
            if (s->nconcrete) memcpy(c, s->concrete, sizeof(mresource *) * (size_t)s->nconcrete);
            c[s->nconcrete++] = r;
            s->concrete = c;
        }
    }
    if (!load_hierarchy(m, jsonx_get(ps, "educationOrganizationHierarchy"), err, errlen)) goto fail;
    m->by_lower = arena_alloc(A(m), sizeof(mresource *) * (size_t)(m->nres + 1));
    for (int i = 0; i < m->nres; i++) m->by_lower[i] = &m->res[i];
    qsort(m->by_lower, (size_t)m->nres, sizeof(mresource *), lower_cmp);
    return m;
fail:
    model_free(m);
    return NULL;
}

void model_free(model *m)
{
    if (!m) return;
    json_object_put(m->root);
    arena_free(A(m));
    free(m->mem);
    free(m);
}

mresource *model_find(const model *m, const char *project, const char *endpoint)
{
    size_t lo = 0, hi = (size_t)m->nres;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const mresource *r = m->by_lower[mid];
        int c = strcasecmp(r->project_endpoint, project);
        if (!c) c = strcasecmp(r->endpoint, endpoint);
        if (!c) return m->by_lower[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

mresource *model_find_by_name(const model *m, const char *project_name, const char *name)
{
    for (int i = 0; i < m->nres; i++)
        if (!strcmp(m->res[i].name, name) && (!project_name || !strcmp(m->res[i].project_name, project_name)))
            return &m->res[i];
    return NULL;
}
