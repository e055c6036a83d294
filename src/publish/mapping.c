/* Descriptor mappings (integration.md §4.3-4.4): a district's local code
 * (namespace + value) travels as the state's (mappedNamespace +
 * mappedValue). Matching is case-insensitive, as ODS resolves descriptors. */
#include "publish.h"
#include "../base/jsonx.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct mapping {
    char *from;          /* "namespace#value", as given */
    char *to;            /* "mappedNamespace#mappedValue" */
    char **entities;     /* ModelEntity code values (lower case, no spaces); none: every resource */
    int nentities;
    bool from_target;
} mapping;

struct pub_mappings {
    mapping *v;
    int n, cap;
};

pub_mappings *pub_mappings_new(void) { return xcalloc(1, sizeof(pub_mappings)); }

void pub_mappings_free(pub_mappings *mp)
{
    if (!mp) return;
    for (int i = 0; i < mp->n; i++) {
        free(mp->v[i].from);
        free(mp->v[i].to);
        for (int k = 0; k < mp->v[i].nentities; k++) free(mp->v[i].entities[k]);
        free(mp->v[i].entities);
    }
    free(mp->v);
    free(mp);
}

int pub_mappings_count(const pub_mappings *mp) { return mp ? mp->n : 0; }

/* "uri://ed-fi.org/ModelEntityDescriptor#Student School Association" ->
 * "studentschoolassociation": compared with the resource's MetaEd name. */
static char *entity_name(const char *uri)
{
    const char *hash = strchr(uri, '#');
    const char *s = hash ? hash + 1 : uri;
    char *out = xmalloc(strlen(s) + 1), *o = out;
    for (; *s; s++)
        if (!isspace((unsigned char)*s)) *o++ = (char)tolower((unsigned char)*s);
    *o = 0;
    return out;
}

void pub_mappings_add(pub_mappings *mp, json_object *item, bool from_target)
{
    const char *ns = jsonx_str(item, "namespace"), *val = jsonx_str(item, "value");
    const char *mns = jsonx_str(item, "mappedNamespace"), *mval = jsonx_str(item, "mappedValue");
    if (!ns || !val || !mns || !mval) return;
    if (mp->n == mp->cap) {
        mp->cap = mp->cap ? 2 * mp->cap : 64;
        mp->v = xrealloc(mp->v, sizeof(mapping) * (size_t)mp->cap);
    }
    mapping *m = &mp->v[mp->n++];
    memset(m, 0, sizeof *m);
    size_t a = strlen(ns) + strlen(val) + 2, b = strlen(mns) + strlen(mval) + 2;
    m->from = xmalloc(a);
    snprintf(m->from, a, "%s#%s", ns, val);
    m->to = xmalloc(b);
    snprintf(m->to, b, "%s#%s", mns, mval);
    m->from_target = from_target;
    json_object *ents = jsonx_get(item, "modelEntities");
    size_t n = json_object_is_type(ents, json_type_array) ? json_object_array_length(ents) : 0;
    m->entities = n ? xcalloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; i < n; i++) {
        const char *e = jsonx_str(json_object_array_get_idx(ents, i), "modelEntityDescriptor");
        if (e) m->entities[m->nentities++] = entity_name(e);
    }
}

/* 0: does not apply to the resource; 1: applies to every resource; 2: is
 * scoped to this one. */
static int scope(const mapping *m, const char *lname)
{
    if (!m->nentities) return 1;
    for (int i = 0; i < m->nentities; i++)
        if (!strcmp(m->entities[i], lname)) return 2;
    return 0;
}

const char *pub_mappings_find(const pub_mappings *mp, const char *resource_name, const char *uri)
{
    if (!mp || !mp->n) return NULL;
    char lname[160];
    size_t k = 0;
    for (const char *s = resource_name ? resource_name : ""; *s && k + 1 < sizeof lname; s++)
        lname[k++] = (char)tolower((unsigned char)*s);
    lname[k] = 0;
    const mapping *best = NULL;
    int best_rank = 0;
    for (int i = 0; i < mp->n; i++) {
        const mapping *m = &mp->v[i];
        if (strcasecmp(m->from, uri)) continue;
        int sc = scope(m, lname);
        if (!sc) continue;
        int rank = sc * 2 + (m->from_target ? 1 : 0);
        if (rank > best_rank) best = m, best_rank = rank;
    }
    return best ? best->to : NULL;
}

typedef struct walk {
    const pub_mappings *mp;
    const char *resource_name;
    pub_known_fn known;
    void *kctx;
    json_object *unmapped;
    int count;
} walk;

static bool is_descriptor_member(const char *name)
{
    size_t n = strlen(name);
    return n > 10 && !strcmp(name + n - 10, "Descriptor");
}

/* Ed-Fi names every descriptor-valued member "...Descriptor" (MetaEd's
 * rule), at the top, in references (programReference.programTypeDescriptor)
 * and in collections alike, so the walk needs no per-resource paths. */
static void map_walk(walk *w, json_object *o, buf *path)
{
    size_t mark = path->len;
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) {
            buf_printf(path, "[%zu]", i);
            map_walk(w, json_object_array_get_idx(o, i), path);
            path->len = mark, path->data[mark] = 0;
        }
        return;
    }
    if (!json_object_is_type(o, json_type_object)) return;
    json_object_object_foreach(o, k, v) {
        buf_printf(path, ".%s", k);
        if (json_object_is_type(v, json_type_string) && is_descriptor_member(k)) {
            const char *to = pub_mappings_find(w->mp, w->resource_name, json_object_get_string(v));
            if (to) {
                json_object *nv = json_object_new_string(to);
                json_object_object_add(o, k, nv); /* replaces v, same key: the iteration stays valid */
                v = nv;
            }
            const char *uri = json_object_get_string(v);
            if (w->known && !w->known(w->kctx, uri)) {
                json_object *u = json_object_new_object();
                json_object_object_add(u, "path", json_object_new_string(path->data));
                json_object_object_add(u, "value", json_object_new_string(uri));
                if (w->unmapped) json_object_array_add(w->unmapped, u);
                else json_object_put(u);
                w->count++;
            }
        } else {
            map_walk(w, v, path);
        }
        path->len = mark, path->data[mark] = 0;
    }
}

int pub_map_descriptors(const pub_mappings *mp, const char *resource_name, json_object *doc, pub_known_fn known,
                        void *kctx, json_object *unmapped)
{
    walk w = {.mp = mp, .resource_name = resource_name, .known = known, .kctx = kctx, .unmapped = unmapped};
    buf path;
    buf_init(&path, 0);
    buf_puts(&path, "$");
    map_walk(&w, doc, &path);
    buf_free(&path);
    return w.count;
}
