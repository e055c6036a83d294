/* API JSON → Ed-Fi XML record; see xmlwrite.h. */
#include "xmlwrite.h"
#include "../base/jsonx.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_PATH 512
#define MAX_DEPTH 32

typedef struct xw {
    const mresource *r;
    buf *b;
    char path[MAX_PATH];   /* JSON path of the object being written: "$.a[*].b" */
    size_t plen;
} xw;

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t k = strlen(suffix);
    return len >= k && !memcmp(s + len - k, suffix, k);
}

/* <Name> or </Name> for the camelCase name[0..len). */
static void tag(buf *b, const char *name, size_t len, bool close)
{
    if (!len) return;
    char t[160];
    size_t n = 0;
    t[n++] = '<';
    if (close) t[n++] = '/';
    if (len > sizeof t - 4) len = sizeof t - 4;
    t[n++] = (char)toupper((unsigned char)name[0]);
    memcpy(t + n, name + 1, len - 1);
    n += len - 1;
    t[n++] = '>';
    buf_append(b, t, n);
}

static void text(buf *b, const char *s)
{
    const char *start = s;
    for (; *s; s++) {
        const char *esc = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        if (!esc) continue;
        buf_append(b, start, (size_t)(s - start));
        buf_puts(b, esc);
        start = s + 1;
    }
    buf_append(b, start, (size_t)(s - start));
}

static void scalar_text(buf *b, json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string: text(b, json_object_get_string(v)); break;
    case json_type_boolean: buf_puts(b, json_object_get_boolean(v) ? "true" : "false"); break;
    case json_type_int: {
        char tmp[24], *end = tmp + sizeof tmp, *q = end;
        long long x = (long long)json_object_get_int64(v);
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        do *--q = (char)('0' + u % 10);
        while (u /= 10);
        if (x < 0) *--q = '-';
        buf_append(b, q, (size_t)(end - q));
        break;
    }
    default: buf_puts(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)); break;
    }
}

/* <Name>value</Name>, a descriptor's name without its suffix. */
static void leaf(buf *b, const char *name, bool descriptor, json_object *v)
{
    size_t len = strlen(name);
    if (descriptor && len > 10 && ends_with(name, len, "Descriptor")) len -= 10;
    tag(b, name, len, false);
    scalar_text(b, v);
    tag(b, name, len, true);
}

static bool path_push(xw *w, const char *seg, bool array, size_t *saved)
{
    *saved = w->plen;
    size_t n = strlen(seg);
    if (w->plen + n + 5 > sizeof w->path) return false;
    w->path[w->plen++] = '.';
    memcpy(w->path + w->plen, seg, n);
    w->plen += n;
    if (array) {
        memcpy(w->path + w->plen, "[*]", 3);
        w->plen += 3;
    }
    w->path[w->plen] = 0;
    return true;
}

static void path_pop(xw *w, size_t saved)
{
    w->plen = saved;
    w->path[saved] = 0;
}

static const mref *ref_at(const mresource *r, const char *object_path)
{
    for (int i = 0; r && i < r->nrefs; i++)
        if (!strcmp(r->refs[i].object_path.text, object_path)) return &r->refs[i];
    return NULL;
}

/* <SchoolYear>2025-2026</SchoolYear> for a school-year reference named key. */
static void school_year(buf *b, const mref *mr, const char *key, json_object *ref)
{
    size_t len = strlen(key);
    if (ends_with(key, len, "TypeReference")) len -= 13;
    json_object *v = NULL;
    if (!json_object_object_get_ex(ref, mr->members[0].leaf, &v)) return;
    long long y = json_object_get_int64(v);
    tag(b, key, len, false);
    buf_printf(b, "%lld-%lld", y - 1, y);
    tag(b, key, len, true);
}

static void reference(buf *b, const mref *mr, const char *key, json_object *ref, int depth);

/* The identity of target t (NULL: abstract) held in id, an object shaped by
 * the target's identity paths. */
static void identity(buf *b, const mresource *t, json_object *id, int depth)
{
    json_object_object_foreach(id, k, v)
    {
        if (!json_object_is_type(v, json_type_object)) {
            leaf(b, k, true, v);
            continue;
        }
        char op[160];
        snprintf(op, sizeof op, "$.%s", k);
        const mref *mr = ref_at(t, op);
        if (mr) reference(b, mr, k, v, depth + 1);
    }
}

/* <KeyReference><TargetIdentity>...</TargetIdentity></KeyReference> from a
 * reference object ({leaf: value}). */
static void reference(buf *b, const mref *mr, const char *key, json_object *ref, int depth)
{
    if (depth > MAX_DEPTH) return;
    if (mr->target && mr->target->is_school_year) {
        school_year(b, mr, key, ref);
        return;
    }
    json_object *id = json_object_new_object();
    for (int i = 0; i < mr->nmembers; i++) {
        json_object *v;
        if (json_object_object_get_ex(ref, mr->members[i].leaf, &v)) jsonx_set_at(id, mr->members[i].ident_path, json_object_get(v));
    }
    size_t klen = strlen(key);
    char idname[160];
    snprintf(idname, sizeof idname, "%sIdentity", mr->target_name);
    tag(b, key, klen, false);
    tag(b, idname, strlen(idname), false);
    identity(b, mr->target, id, depth);
    tag(b, idname, strlen(idname), true);
    tag(b, key, klen, true);
    json_object_put(id);
}

static void members(xw *w, const snode *sn, json_object *obj, int depth);

/* Property key (schema p) of the object at w->path. */
static void value(xw *w, const snode *p, const char *key, json_object *v, int depth)
{
    if (!p || p->type != JT_OBJECT || !json_object_is_type(v, json_type_object)) {
        leaf(w->b, key, p && p->is_descriptor_value, v);
        return;
    }
    size_t saved;
    if (!path_push(w, key, false, &saved)) return;
    const mref *mr = ref_at(w->r, w->path);
    if (mr) {
        reference(w->b, mr, key, v, depth);
    } else {
        size_t len = strlen(key);
        tag(w->b, key, len, false);
        members(w, p, v, depth + 1);
        tag(w->b, key, len, true);
    }
    path_pop(w, saved);
}

/* The element name of one item of collection key: its singular
 * (addresses → address, categories → category, codes → code). */
static size_t singular(const char *key, char *out, size_t n)
{
    size_t len = strlen(key);
    if (len + 2 > n) len = n - 2;
    memcpy(out, key, len);
    out[len] = 0;
    if (ends_with(out, len, "ies")) {
        out[len - 3] = 'y';
        out[len - 2] = 0;
        return len - 2;
    }
    if (ends_with(out, len, "sses") || ends_with(out, len, "xes") || ends_with(out, len, "ches") ||
        ends_with(out, len, "shes")) {
        out[len - 2] = 0;
        return len - 2;
    }
    if (len > 1 && out[len - 1] == 's') out[--len] = 0;
    return len;
}

/* One item of collection key (schema items) of the object at w->path. */
static void item(xw *w, const snode *items, const char *key, json_object *it, int depth)
{
    char one[160];
    size_t olen = singular(key, one, sizeof one);
    if (!items || items->type != JT_OBJECT || !json_object_is_type(it, json_type_object)) {
        tag(w->b, one, olen, false);
        scalar_text(w->b, it);
        tag(w->b, one, olen, true);
        return;
    }
    size_t saved;
    if (!path_push(w, key, true, &saved)) return;
    bool wraps_one = false;
    if (items->nprops == 1) {
        char p[MAX_PATH + 160];
        snprintf(p, sizeof p, "%s.%s", w->path, items->prop_names[0]);
        wraps_one = items->props[0]->is_descriptor_value || ref_at(w->r, p);
    }
    if (wraps_one) {
        json_object *v;
        if (json_object_object_get_ex(it, items->prop_names[0], &v))
            value(w, items->props[0], items->prop_names[0], v, depth + 1);
    } else {
        tag(w->b, one, olen, false);
        members(w, items, it, depth + 1);
        tag(w->b, one, olen, true);
    }
    path_pop(w, saved);
}

/* The members of obj (object schema sn) at w->path, in the document's order. */
static void members(xw *w, const snode *sn, json_object *obj, int depth)
{
    if (depth > MAX_DEPTH) return;
    json_object_object_foreach(obj, key, v)
    {
        const snode *p = NULL;
        for (int i = 0; sn && i < sn->nprops && !p; i++)
            if (!strcmp(sn->prop_names[i], key)) p = sn->props[i];
        if (p && p->type == JT_ARRAY && json_object_is_type(v, json_type_array)) {
            size_t n = json_object_array_length(v);
            for (size_t i = 0; i < n; i++) item(w, p->items, key, json_object_array_get_idx(v, i), depth);
        } else {
            value(w, p, key, v, depth);
        }
    }
}

void xmlw_record(const mresource *r, json_object *doc, buf *out)
{
    xw w = {.r = r, .b = out, .path = "$", .plen = 1};
    size_t len = strlen(r->name);
    tag(out, r->name, len, false);
    members(&w, r->schema, doc, 0);
    tag(out, r->name, len, true);
    buf_putc(out, '\n');
}
