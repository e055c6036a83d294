/* XML interchange record → API JSON; see xmlmap.h. */
#include "xmlmap.h"
#include "../base/arena.h"
#include "../base/buf.h"
#include "../base/jsonx.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 48      /* nesting inside one record */
#define MAX_PATH 512

typedef struct ctx {
    const model *m;
    const mresource *r;
    const xml_ids *ids;
    char *err;
    size_t errlen;
    bool failed;
} ctx;

static void fail(ctx *c, xmlNode *at, const char *fmt, const char *a, const char *b)
{
    if (c->failed) return;
    c->failed = true;
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    snprintf(c->err, c->errlen, "line %ld: %s", at ? xmlGetLineNo(at) : 0L, msg);
}

static const char *name_of(xmlNode *n) { return (const char *)n->name; }

static xmlNode *first_element(xmlNode *n)
{
    for (xmlNode *k = n ? n->children : NULL; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE) return k;
    return NULL;
}

static bool has_elements(xmlNode *n) { return first_element(n) != NULL; }

/* The element's text with surrounding whitespace removed (XML pretty-printing). */
static char *text_of(xmlNode *n)
{
    buf b;
    buf_init(&b, 0);
    for (xmlNode *k = n->children; k; k = k->next)
        if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) buf_puts(&b, (const char *)k->content);
    char *s = buf_take(&b);
    if (!s) return xstrdup("");
    size_t start = 0, len = strlen(s);
    while (start < len && isspace((unsigned char)s[start])) start++;
    while (len > start && isspace((unsigned char)s[len - 1])) len--;
    memmove(s, s + start, len - start);
    s[len - start] = 0;
    return s;
}

/* The child element named name (case-insensitive), or NULL. */
static xmlNode *child(xmlNode *n, const char *name)
{
    for (xmlNode *k = n ? n->children : NULL; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE && !strcasecmp(name_of(k), name)) return k;
    return NULL;
}

/* The identity element of a reference element (XIdentity). */
static xmlNode *identity_of(xmlNode *ref)
{
    for (xmlNode *k = ref->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE) continue;
        size_t l = strlen(name_of(k));
        if (l > 8 && !strcmp(name_of(k) + l - 8, "Identity")) return k;
    }
    return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t l = strlen(s), k = strlen(suffix);
    return l >= k && !strcasecmp(s + l - k, suffix);
}

/* The property of an object schema named name (case-insensitive), or -1. */
static int prop_index(const snode *sn, const char *name)
{
    for (int i = 0; sn && sn->type == JT_OBJECT && i < sn->nprops; i++)
        if (!strcasecmp(sn->prop_names[i], name)) return i;
    return -1;
}

static int prop_with_suffix(const snode *sn, const char *name, const char *suffix)
{
    char n[320];
    if ((size_t)snprintf(n, sizeof n, "%s%s", name, suffix) >= sizeof n) return -1;
    return prop_index(sn, n);
}

/* "2021-2022" (XSD SchoolYearType) → 2022. */
static bool school_year(const char *t, long long *out)
{
    if (strlen(t) == 9 && t[4] == '-') {
        for (int i = 0; i < 9; i++)
            if (i != 4 && !isdigit((unsigned char)t[i])) return false;
        *out = atoll(t + 5);
        return true;
    }
    return false;
}

/* A scalar of the schema's type; invalid text is kept as a string so the
 * API's validation reports it with its usual message. */
static json_object *scalar(const snode *sn, const char *t)
{
    char *end;
    switch (sn ? sn->type : JT_STRING) {
    case JT_INTEGER: {
        long long y;
        if (school_year(t, &y)) return json_object_new_int64(y);
        long long v = strtoll(t, &end, 10);
        return *t && !*end ? json_object_new_int64(v) : json_object_new_string(t);
    }
    case JT_NUMBER: {
        double d = strtod(t, &end);
        return *t && !*end ? json_object_new_double(d) : json_object_new_string(t);
    }
    case JT_BOOLEAN:
        if (!strcmp(t, "1") || !strcasecmp(t, "true")) return json_object_new_boolean(1);
        if (!strcmp(t, "0") || !strcasecmp(t, "false")) return json_object_new_boolean(0);
        return json_object_new_string(t);
    default: return json_object_new_string(t);
    }
}

static const mref *ref_at(const mresource *r, const char *object_path)
{
    for (int i = 0; r && i < r->nrefs; i++)
        if (!strcmp(r->refs[i].object_path.text, object_path)) return &r->refs[i];
    return NULL;
}

/* Depth-first search for a leaf element named name (key unification makes
 * any match equal to the others). */
static xmlNode *deep_find(xmlNode *n, const char *name, int depth)
{
    if (depth > MAX_DEPTH) return NULL;
    for (xmlNode *k = n ? n->children : NULL; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE) continue;
        if (!strcasecmp(name_of(k), name) && !has_elements(k)) return k;
        xmlNode *hit = deep_find(k, name, depth + 1);
        if (hit) return hit;
    }
    return NULL;
}

static json_object *lookup_id(const ctx *c, const char *id);

/* The text of the target's identity value at ident_path, inside the XML
 * identity element id of target t (NULL for an abstract target), following
 * nested references through the target's own reference members. */
static char *resolve(ctx *c, const mresource *t, xmlNode *id, const char *ident_path, int depth)
{
    if (depth > MAX_DEPTH || strncmp(ident_path, "$.", 2)) return NULL;
    const char *p = ident_path + 2;
    const char *dot = strchr(p, '.');
    if (!dot) {
        xmlNode *leaf = child(id, p);
        if (!leaf && ends_with(p, "Descriptor")) {
            char base[128];
            snprintf(base, sizeof base, "%.*s", (int)(strlen(p) - 10), p);
            leaf = child(id, base);
        }
        if (!leaf) leaf = deep_find(id, p, 0);
        return leaf ? text_of(leaf) : NULL;
    }
    char seg[128];
    snprintf(seg, sizeof seg, "%.*s", (int)(dot - p), p);
    if (ends_with(seg, "TypeReference")) { /* schoolYearTypeReference.schoolYear → <SchoolYear> */
        seg[strlen(seg) - 13] = 0;
        xmlNode *leaf = child(id, seg);
        return leaf ? text_of(leaf) : NULL;
    }
    xmlNode *refel = child(id, seg);
    if (!refel) return deep_find(id, dot + 1, 0) ? text_of(deep_find(id, dot + 1, 0)) : NULL;
    char object_path[MAX_PATH];
    snprintf(object_path, sizeof object_path, "$.%s", seg);
    const mref *mr = ref_at(t, object_path);
    const char *next_path = NULL;
    char fallback[MAX_PATH];
    if (mr) {
        for (int i = 0; i < mr->nmembers && !next_path; i++)
            if (!strcmp(mr->members[i].ref_path.text, ident_path)) next_path = mr->members[i].ident_path;
    }
    if (!next_path) {
        snprintf(fallback, sizeof fallback, "$.%s", dot + 1);
        next_path = fallback;
    }
    xmlChar *rid = xmlGetProp(refel, (const xmlChar *)"ref");
    if (rid) {
        json_object *doc = lookup_id(c, (const char *)rid);
        xmlFree(rid);
        json_object *v = doc ? jsonx_at(doc, next_path) : NULL;
        return v ? xstrdup(json_object_get_string(v)) : NULL;
    }
    xmlNode *inner = identity_of(refel);
    if (!inner) return NULL;
    return resolve(c, mr ? mr->target : NULL, inner, next_path, depth + 1);
}

static bool map_children(ctx *c, const snode *sn, const char *jpath, xmlNode *el, json_object *out, int depth,
                         const char *role);

/* The object of reference mr from element el (identity, ref="..", or the
 * bare text of a one-member reference such as <SchoolYear>). */
static json_object *map_reference(ctx *c, const mref *mr, const snode *sn, xmlNode *el)
{
    json_object *o = json_object_new_object();
    xmlChar *rid = xmlGetProp(el, (const xmlChar *)"ref");
    if (rid) {
        json_object *doc = lookup_id(c, (const char *)rid);
        if (!doc) fail(c, el, "ref=\"%s\" names no element of this file with that id", (const char *)rid, NULL);
        for (int i = 0; doc && i < mr->nmembers; i++) {
            json_object *v = jsonx_at(doc, mr->members[i].ident_path);
            if (v) json_object_object_add(o, mr->members[i].leaf, json_object_get(v));
        }
        xmlFree(rid);
        return o;
    }
    xmlNode *id = identity_of(el);
    if (!id && !has_elements(el)) {
        char *t = text_of(el);
        if (mr->nmembers >= 1 && *t) {
            int k = prop_index(sn, mr->members[0].leaf);
            json_object_object_add(o, mr->members[0].leaf, scalar(k >= 0 ? sn->props[k] : NULL, t));
        }
        free(t);
        return o;
    }
    if (!id) {
        xmlNode *first = first_element(el);
        if (first && ends_with(name_of(first), "Lookup"))
            fail(c, el, "%s uses a lookup (%s): give the identity instead", name_of(el), name_of(first));
        else
            fail(c, el, "%s has no identity element", name_of(el), NULL);
        return o;
    }
    for (int i = 0; i < mr->nmembers; i++) {
        if (json_object_object_get_ex(o, mr->members[i].leaf, NULL)) continue; /* unified key, already set */
        char *t = resolve(c, mr->target, id, mr->members[i].ident_path, 0);
        if (!t) continue; /* left out: validation names the missing value */
        int k = prop_index(sn, mr->members[i].leaf);
        json_object_object_add(o, mr->members[i].leaf, scalar(k >= 0 ? sn->props[k] : NULL, t));
        free(t);
    }
    return o;
}

/* The value of property k of object schema sn at jpath from element el. */
static json_object *map_value(ctx *c, const snode *sn, int k, const char *jpath, xmlNode *el, int depth)
{
    const snode *p = sn->props[k];
    char path[MAX_PATH];
    snprintf(path, sizeof path, "%s.%s", jpath, sn->prop_names[k]);
    if (p->type == JT_OBJECT) {
        const mref *mr = ref_at(c->r, path);
        if (mr) return map_reference(c, mr, p, el);
        json_object *o = json_object_new_object();
        map_children(c, p, path, el, o, depth + 1, NULL);
        return o;
    }
    char *t = text_of(el);
    json_object *v = scalar(p, t);
    free(t);
    return v;
}

/* One item of array property k from element el. */
static json_object *map_item(ctx *c, const snode *sn, int k, const char *jpath, xmlNode *el, int depth)
{
    const snode *items = sn->props[k]->items;
    char path[MAX_PATH];
    snprintf(path, sizeof path, "%s.%s[*]", jpath, sn->prop_names[k]);
    json_object *item = json_object_new_object();
    if (!items || items->type != JT_OBJECT) {
        json_object_put(item);
        char *t = text_of(el);
        json_object *v = scalar(items, t);
        free(t);
        return v;
    }
    /* An item that wraps one descriptor or reference: <GradeLevel>,
     * <ClassPeriodReference>. */
    int w = prop_index(items, name_of(el));
    if (w < 0) w = prop_with_suffix(items, name_of(el), "Descriptor");
    /* A scalar wraps only bare text: <PerformanceLevel> with children is an item of its own. */
    if (w >= 0 && items->props[w]->type != JT_OBJECT && has_elements(el)) w = -1;
    if (w >= 0) json_object_object_add(item, items->prop_names[w], map_value(c, items, w, path, el, depth + 1));
    else map_children(c, items, path, el, item, depth + 1, NULL);
    return item;
}

static int array_named(const snode *sn, const char *name)
{
    size_t nl = strlen(name);
    for (int i = 0; i < sn->nprops; i++) {
        const snode *p = sn->props[i];
        if (p->type != JT_ARRAY) continue;
        const char *pn = sn->prop_names[i];
        size_t pl = strlen(pn);
        if ((pl == nl + 1 && pn[pl - 1] == 's' && !strncasecmp(pn, name, nl)) ||
            (pl == nl + 2 && !strcmp(pn + pl - 2, "es") && !strncasecmp(pn, name, nl)) ||
            (pl == nl + 2 && nl > 1 && !strcmp(pn + pl - 3, "ies") && tolower((unsigned char)name[nl - 1]) == 'y' &&
             !strncasecmp(pn, name, nl - 1)) ||
            (pl == nl + 2 && nl > 2 && !strcmp(pn + pl - 4, "ices") && !strcasecmp(name + nl - 2, "ix") &&
             !strncasecmp(pn, name, nl - 2))) /* Matrix → matrices */
            return i;
    }
    return -1;
}

/* The array property that repeated element name fills: its singular is the
 * name (also with the entity's own name removed from its front, as MetaEd
 * names collections: CourseIdentificationCode → identificationCodes), or
 * its items wrap a property of that name. */
static int array_for(const ctx *c, const snode *sn, const char *name)
{
    int i = array_named(sn, name);
    const char *owners[2] = {c->r->name, c->r->superclass_name};
    for (int k = 0; k < 2 && i < 0; k++) {
        size_t ol = owners[k] ? strlen(owners[k]) : 0;
        if (ol && strlen(name) > ol && !strncasecmp(name, owners[k], ol)) i = array_named(sn, name + ol);
    }
    if (i >= 0) return i;
    for (int k = 0; k < sn->nprops; k++) {
        const snode *p = sn->props[k];
        if (p->type != JT_ARRAY || !p->items || p->items->type != JT_OBJECT) continue;
        if (prop_index(p->items, name) >= 0 || prop_with_suffix(p->items, name, "Descriptor") >= 0) return k;
    }
    return -1;
}

static void add_to_array(json_object *out, const char *prop, json_object *item)
{
    json_object *arr;
    if (!json_object_object_get_ex(out, prop, &arr) || !json_object_is_type(arr, json_type_array)) {
        arr = json_object_new_array();
        json_object_object_add(out, prop, arr);
    }
    json_object_array_add(arr, item);
}

/* The array property named by the last words of name, or the reference
 * named by its last two or more: <AssessmentPerformanceLevel> in
 * ObjectiveAssessment → performanceLevels, <FundFundDimensionReference> →
 * fundDimensionReference. Tried only when nothing matches the whole name. */
static int by_last_words(const snode *sn, const char *name)
{
    for (const char *p = name + 1; *p; p++) {
        if (!isupper((unsigned char)*p)) continue;
        int words = 0;
        for (const char *q = p; *q; q++) words += isupper((unsigned char)*q) != 0;
        int i = array_named(sn, p); /* <AssessmentScore> in ObjectiveAssessment → scores */
        if (i < 0 && words >= 2 && ends_with(p, "Reference")) {
            i = prop_index(sn, p);
            if (i >= 0 && sn->props[i]->type != JT_OBJECT) i = -1;
        }
        if (i >= 0) return i;
    }
    return -1;
}

/* A child of el whose name ends el's name: <AvailableCredits><Credits> → "Credits". */
static const char *common_type(xmlNode *el)
{
    const char *en = name_of(el);
    size_t el_len = strlen(en);
    for (xmlNode *k = el->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE) continue;
        size_t kl = strlen(name_of(k));
        if (kl < el_len && !strcasecmp(en + el_len - kl, name_of(k))) return name_of(k);
    }
    return NULL;
}

/* Maps el's children into out (object schema sn at jpath). role prefixes
 * the children's names: a role-named common such as <AvailableCredits>
 * (type Credits) is flattened into availableCredits,
 * availableCreditTypeDescriptor, ... */
static bool map_children(ctx *c, const snode *sn, const char *jpath, xmlNode *el, json_object *out, int depth,
                         const char *role)
{
    if (depth > MAX_DEPTH) {
        fail(c, el, "%s is nested too deeply", name_of(el), NULL);
        return false;
    }
    for (xmlNode *k = el->children; k && !c->failed; k = k->next) {
        if (k->type != XML_ELEMENT_NODE) continue;
        char name[256];
        snprintf(name, sizeof name, "%s%s", role ? role : "", name_of(k));
        int i = prop_index(sn, name);
        if (i < 0) i = prop_with_suffix(sn, name, "Descriptor");
        if (i < 0) i = prop_with_suffix(sn, name, "TypeReference"); /* <SchoolYear> */
        if (i >= 0 && sn->props[i]->type == JT_ARRAY) {
            add_to_array(out, sn->prop_names[i], map_item(c, sn, i, jpath, k, depth));
            continue;
        }
        if (i >= 0 && sn->props[i]->type != JT_OBJECT && has_elements(k)) {
            /* a scalar named like a role-named common: flatten it with its role */
            const char *type = common_type(k);
            if (type) {
                char r2[256];
                snprintf(r2, sizeof r2, "%.*s", (int)(strlen(name) - strlen(type)), name);
                map_children(c, sn, jpath, k, out, depth + 1, r2);
                continue;
            }
        }
        if (i >= 0) {
            json_object_object_add(out, sn->prop_names[i], map_value(c, sn, i, jpath, k, depth));
            continue;
        }
        if ((i = array_for(c, sn, name)) >= 0) {
            add_to_array(out, sn->prop_names[i], map_item(c, sn, i, jpath, k, depth));
            continue;
        }
        if ((i = by_last_words(sn, name)) >= 0) { /* a prefixed collection or role-named reference */
            if (sn->props[i]->type == JT_ARRAY) add_to_array(out, sn->prop_names[i], map_item(c, sn, i, jpath, k, depth));
            else json_object_object_add(out, sn->prop_names[i], map_value(c, sn, i, jpath, k, depth));
            continue;
        }
        if (has_elements(k)) { /* an inline common group: flatten */
            map_children(c, sn, jpath, k, out, depth + 1, role);
            continue;
        }
        char where[160];
        snprintf(where, sizeof where, "%s%s", c->r->name, strcmp(jpath, "$") ? jpath + 1 : "");
        fail(c, k, "element <%s> has no counterpart in %s of the Ed-Fi model", name_of(k), where);
    }
    return !c->failed;
}

json_object *xmlmap_identity(const model *m, const mresource *t, xmlNode *ref_el, const xml_ids *ids)
{
    char err[64];
    ctx c = {m, t, ids, err, sizeof err, false};
    xmlNode *id = identity_of(ref_el);
    if (!id) return NULL;
    json_object *doc = json_object_new_object();
    for (int i = 0; i < t->nidentity; i++) {
        char *v = resolve(&c, t, id, t->identity[i].text, 0);
        if (v) jsonx_set_at(doc, t->identity[i].text, json_object_new_string(v));
        free(v);
    }
    return doc;
}

const mresource *xmlmap_resource(const model *m, const char *element)
{
    const mresource *r = model_find_by_name(m, "Ed-Fi", element);
    return r;
}

/* ---- ids of a file ---- */

#define ID_SLOTS_MIN 64

struct xml_ids {
    char **id;
    json_object **doc;
    size_t cap, n;
};

static size_t id_hash(const char *s)
{
    size_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

xml_ids *xml_ids_new(void)
{
    xml_ids *x = xcalloc(1, sizeof *x);
    x->cap = ID_SLOTS_MIN;
    x->id = xcalloc(x->cap, sizeof *x->id);
    x->doc = xcalloc(x->cap, sizeof *x->doc);
    return x;
}

void xml_ids_free(xml_ids *x)
{
    if (!x) return;
    for (size_t i = 0; i < x->cap; i++) {
        free(x->id[i]);
        json_object_put(x->doc[i]);
    }
    free(x->id);
    free(x->doc);
    free(x);
}

static void ids_insert(xml_ids *x, char *id, json_object *doc)
{
    size_t j = id_hash(id) & (x->cap - 1);
    while (x->id[j] && strcmp(x->id[j], id)) j = (j + 1) & (x->cap - 1);
    if (x->id[j]) { /* a repeated id: the last one wins */
        free(x->id[j]);
        json_object_put(x->doc[j]);
    } else {
        x->n++;
    }
    x->id[j] = id;
    x->doc[j] = doc;
}

void xml_ids_put(xml_ids *x, const char *id, json_object *doc)
{
    if ((x->n + 1) * 2 > x->cap) {
        xml_ids old = *x;
        x->cap *= 2;
        x->n = 0;
        x->id = xcalloc(x->cap, sizeof *x->id);
        x->doc = xcalloc(x->cap, sizeof *x->doc);
        for (size_t i = 0; i < old.cap; i++)
            if (old.id[i]) ids_insert(x, old.id[i], old.doc[i]);
        free(old.id);
        free(old.doc);
    }
    ids_insert(x, xstrdup(id), json_object_get(doc));
}

static json_object *lookup_id(const ctx *c, const char *id)
{
    const xml_ids *x = c->ids;
    if (!x) return NULL;
    size_t j = id_hash(id) & (x->cap - 1);
    for (size_t probes = 0; probes < x->cap && x->id[j]; probes++, j = (j + 1) & (x->cap - 1))
        if (!strcmp(x->id[j], id)) return x->doc[j];
    return NULL;
}

json_object *xmlmap_record(const model *m, const mresource *r, xmlNode *el, const xml_ids *ids, char *err,
                           size_t errlen)
{
    ctx c = {m, r, ids, err, errlen, false};
    json_object *doc = json_object_new_object();
    if (!map_children(&c, r->schema, "$", el, doc, 0, NULL)) {
        json_object_put(doc);
        return NULL;
    }
    return doc;
}
