/* Applying compiled content types to documents: the read filter, the write
 * checks, and the merge of an update with the stored document (ODS maps only
 * the members a write content type includes, so an update leaves the stored
 * values of the others, and the collection items its filter hides, alone). */
#include "profiles_int.h"
#include "../base/buf.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define T_VALIDATION "urn:ed-fi:api:bad-request:data-validation-failed"
#define T_DATA_POLICY "urn:ed-fi:api:bad-request:data-policy"

/* Members the API adds around a stored document: never a profile's business. */
static bool is_meta(const char *k) { return !strcmp(k, "id") || !strcmp(k, "_etag") || !strcmp(k, "_lastModifiedDate"); }

static json_object *member(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* A filter value with '#' is a whole descriptor URI; without, a code value
 * (the part of the URI after '#'). */
static bool value_matches(const char *uri, const char *v)
{
    if (strchr(v, '#')) return !strcasecmp(uri, v);
    const char *h = strchr(uri, '#');
    return !strcasecmp(h ? h + 1 : uri, v);
}

bool psel_passes(const psel *sel, json_object *item)
{
    for (int f = 0; f < sel->nfilt; f++) {
        const pfilter *flt = &sel->filt[f];
        json_object *v = member(item, sel->shape->m[flt->member].json);
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        bool hit = false;
        for (int i = 0; s && i < flt->nvals && !hit; i++) hit = value_matches(s, flt->vals[i]);
        if (flt->include != hit) return false;
    }
    return true;
}

/* ---- reading --------------------------------------------------------------- */

static void filter_object(const psel *sel, json_object *o, bool top, bool item_filters);

static void filter_items(const psel *sub, json_object *arr, bool item_filters)
{
    for (size_t i = json_object_array_length(arr); i-- > 0;) {
        json_object *it = json_object_array_get_idx(arr, i);
        bool obj = json_object_is_type(it, json_type_object);
        if (item_filters && sub->nfilt && (!obj || !psel_passes(sub, it))) {
            json_object_array_del_idx(arr, i, 1);
            continue;
        }
        if (obj) filter_object(sub, it, false, item_filters);
    }
}

/* Drops what sel excludes; json-c's foreach has read the next entry before
 * the body runs, so deleting the current member is safe. */
static void filter_object(const psel *sel, json_object *o, bool top, bool item_filters)
{
    json_object_object_foreach(o, key, val)
    {
        if (top && is_meta(key)) continue;
        int i = pshape_find(sel->shape, key);
        if (i < 0 ? !sel->keep_unknown : !sel->incl[i]) {
            json_object_object_del(o, key);
            continue;
        }
        const psel *sub = i >= 0 ? sel->sub[i] : NULL;
        if (!sub) continue;
        if (json_object_is_type(val, json_type_array)) filter_items(sub, val, item_filters);
        else if (json_object_is_type(val, json_type_object)) filter_object(sub, val, false, item_filters);
    }
}

void profile_filter_read(const profile_ct *ct, json_object *doc)
{
    if (ct && json_object_is_type(doc, json_type_object)) filter_object(ct->root, doc, true, true);
}

/* ---- writing ------------------------------------------------------------------ */

static err_t policy_error(profile_error *e, const profile_ct *ct, const char *child)
{
    e->status = 400;
    e->type = T_DATA_POLICY;
    e->title = "Data Policy Enforced";
    e->detail = "The resource cannot be saved because a data policy has been applied to the request that prevents it.";
    e->path[0] = 0;
    if (child)
        snprintf(e->message, sizeof e->message,
                 "The Profile definition for '%s' excludes (or does not include) one or more required data elements "
                 "needed to create a child item of type '%s' in the resource.",
                 ct->p->name, child);
    else
        snprintf(e->message, sizeof e->message,
                 "The Profile definition for '%s' excludes (or does not include) one or more required data elements "
                 "needed to create the resource.",
                 ct->p->name);
    return ERR_INVALID;
}

/* The first submitted item, in an included collection, that its filter
 * rejects (a validation error at the collection's path). */
static err_t check_filters(const profile_ct *ct, const psel *sel, json_object *o, const char *path, profile_error *e)
{
    for (int i = 0; i < sel->shape->n; i++) {
        const psel *sub = sel->sub[i];
        json_object *v = sub && sel->incl[i] ? member(o, sel->shape->m[i].json) : NULL;
        if (!v) continue;
        char p[256];
        snprintf(p, sizeof p, "%s.%s", path, sel->shape->m[i].json);
        if (json_object_is_type(v, json_type_object)) {
            if (check_filters(ct, sub, v, p, e)) return ERR_INVALID;
            continue;
        }
        if (!json_object_is_type(v, json_type_array)) continue;
        for (size_t k = 0; k < json_object_array_length(v); k++) {
            json_object *it = json_object_array_get_idx(v, k);
            if (sub->nfilt && !psel_passes(sub, it)) {
                e->status = 400;
                e->type = T_VALIDATION;
                e->title = "Data Validation Failed";
                e->detail = "Data validation failed. See 'validationErrors' for details.";
                snprintf(e->path, sizeof e->path, "%s", p);
                snprintf(e->message, sizeof e->message,
                         "A supplied '%s' has a descriptor value that does not conform with the filter values defined "
                         "by profile '%s'.",
                         sub->shape->cls, ct->p->name);
                return ERR_INVALID;
            }
            char ip[sizeof p + 24];
            snprintf(ip, sizeof ip, "%s[%zu]", p, k);
            if (check_filters(ct, sub, it, ip, e)) return ERR_INVALID;
        }
    }
    return ERR_OK;
}

err_t profile_write_prepare(const profile_ct *ct, json_object *doc, profile_error *e)
{
    memset(e, 0, sizeof *e);
    if (!json_object_is_type(doc, json_type_object)) return ERR_OK; /* the schema check answers that */
    if (check_filters(ct, ct->root, doc, "$", e)) return ERR_INVALID;
    /* Members the content type leaves out are ignored, as ODS does. */
    filter_object(ct->root, doc, true, false);
    return ERR_OK;
}

/* Removes the links a stored reference carries (the engine resolves
 * references again) from a copy about to become part of a request. */
static void strip_links(const pshape *s, json_object *o)
{
    if (!s || !json_object_is_type(o, json_type_object)) return;
    for (int i = 0; i < s->n; i++) {
        json_object *v = member(o, s->m[i].json);
        if (s->m[i].kind == PK_REFERENCE && json_object_is_type(v, json_type_object)) json_object_object_del(v, "link");
        else if (s->m[i].kind == PK_OBJECT) strip_links(s->m[i].sub, v);
        else if (s->m[i].kind == PK_COLLECTION && s->m[i].sub && json_object_is_type(v, json_type_array))
            for (size_t k = 0; k < json_object_array_length(v); k++) strip_links(s->m[i].sub, json_object_array_get_idx(v, k));
    }
}

static json_object *copy_of(json_object *v, const pmember *pm)
{
    json_object *c = NULL;
    if (json_object_deep_copy(v, &c, NULL)) return NULL;
    if (pm && pm->kind == PK_REFERENCE && json_object_is_type(c, json_type_object)) json_object_object_del(c, "link");
    else if (pm && pm->kind == PK_OBJECT) strip_links(pm->sub, c);
    else if (pm && pm->kind == PK_COLLECTION && pm->sub && json_object_is_type(c, json_type_array))
        for (size_t k = 0; k < json_object_array_length(c); k++) strip_links(pm->sub, json_object_array_get_idx(c, k));
    return c;
}

/* The stored item with the same identity as item, or NULL (also when the
 * level has no identity to compare). */
static json_object *stored_item(const pshape *s, json_object *item, json_object *stored)
{
    if (!json_object_is_type(stored, json_type_array)) return NULL;
    int nid = 0;
    for (int i = 0; i < s->n; i++) nid += s->m[i].identity;
    if (!nid) return NULL;
    for (size_t k = 0; k < json_object_array_length(stored); k++) {
        json_object *si = json_object_array_get_idx(stored, k);
        bool same = json_object_is_type(si, json_type_object);
        for (int i = 0; same && i < s->n; i++) {
            if (!s->m[i].identity) continue;
            json_object *a = member(item, s->m[i].json), *b = member(si, s->m[i].json);
            /* Descriptor URIs compare as the API compares them: ignoring case. */
            if (s->m[i].descriptor && json_object_is_type(a, json_type_string) && json_object_is_type(b, json_type_string))
                same = !strcasecmp(json_object_get_string(a), json_object_get_string(b));
            else same = a && b && json_object_equal(a, b);
        }
        if (same) return si;
    }
    return NULL;
}

/* Brings stored values into d where sel does not let the client write
 * (stored NULL: a create, nothing to bring), and refuses new child items of
 * classes the profile cannot create. */
static err_t merge_level(const profile_ct *ct, const psel *sel, json_object *d, json_object *s, profile_error *e)
{
    const pshape *sh = sel->shape;
    if (s) {
        for (int i = 0; i < sh->n; i++) {
            if (sel->incl[i]) continue;
            json_object *sv = member(s, sh->m[i].json);
            json_object *c = sv ? copy_of(sv, &sh->m[i]) : NULL;
            if (c) json_object_object_add(d, sh->m[i].json, c);
            else json_object_object_del(d, sh->m[i].json);
        }
        if (!sel->keep_unknown) {
            json_object_object_foreach(s, k, v)
            {
                if (pshape_find(sh, k) >= 0 || is_meta(k) || !strcmp(k, "link")) continue;
                json_object *c = copy_of(v, NULL);
                if (c) json_object_object_add(d, k, c);
            }
        }
    }
    for (int i = 0; i < sh->n; i++) {
        const psel *sub = sel->sub[i];
        if (!sel->incl[i] || !sub) continue;
        json_object *dv = member(d, sh->m[i].json), *sv = member(s, sh->m[i].json);
        if (sh->m[i].kind == PK_OBJECT) {
            if (!json_object_is_type(dv, json_type_object)) continue;
            bool have = json_object_is_type(sv, json_type_object);
            if (!have && !sub->creatable) return policy_error(e, ct, sub->shape->cls);
            if (merge_level(ct, sub, dv, have ? sv : NULL, e)) return ERR_INVALID;
            continue;
        }
        if (dv && !json_object_is_type(dv, json_type_array)) continue;
        for (size_t k = 0; dv && k < json_object_array_length(dv); k++) {
            json_object *it = json_object_array_get_idx(dv, k);
            if (!json_object_is_type(it, json_type_object)) continue;
            json_object *si = stored_item(sub->shape, it, sv);
            if (!si && !sub->creatable) return policy_error(e, ct, sub->shape->cls);
            if (merge_level(ct, sub, it, si, e)) return ERR_INVALID;
        }
        /* Items the write filter hides from this client stay as stored. */
        if (!sub->nfilt || !json_object_is_type(sv, json_type_array)) continue;
        for (size_t k = 0; k < json_object_array_length(sv); k++) {
            json_object *si = json_object_array_get_idx(sv, k);
            if (psel_passes(sub, si)) continue;
            if (!dv) {
                dv = json_object_new_array();
                json_object_object_add(d, sh->m[i].json, dv);
            }
            json_object *c = NULL;
            if (!json_object_deep_copy(si, &c, NULL)) {
                strip_links(sub->shape, c);
                json_object_array_add(dv, c);
            }
        }
    }
    return ERR_OK;
}

err_t profile_check_create(const profile_ct *ct, json_object *doc, profile_error *e)
{
    memset(e, 0, sizeof *e);
    if (!ct->root->creatable) return policy_error(e, ct, NULL);
    if (!json_object_is_type(doc, json_type_object)) return ERR_OK;
    return merge_level(ct, ct->root, doc, NULL, e);
}

err_t profile_merge_stored(const profile_ct *ct, json_object *doc, json_object *stored, profile_error *e)
{
    memset(e, 0, sizeof *e);
    if (!json_object_is_type(doc, json_type_object)) return ERR_OK;
    if (!json_object_is_type(stored, json_type_object)) return profile_check_create(ct, doc, e);
    return merge_level(ct, ct->root, doc, stored, e);
}

err_t profile_check_write(const profile_ct *ct, json_object *doc, json_object *stored, profile_error *e)
{
    err_t rc = profile_write_prepare(ct, doc, e);
    if (rc) return rc;
    return stored ? profile_merge_stored(ct, doc, stored, e) : profile_check_create(ct, doc, e);
}

/* ---- describing ---------------------------------------------------------------- */

bool profile_ct_includes(const profile_ct *ct, const char *path)
{
    if (!ct || strncmp(path, "$.", 2)) return false;
    const pshape *s = ct->root->shape;
    const psel *sel = ct->root;
    const char *p = path + 2;
    while (s) {
        size_t l = strcspn(p, ".[");
        char name[256];
        if (!l || l >= sizeof name) return false;
        memcpy(name, p, l);
        name[l] = 0;
        p += l;
        if (!strncmp(p, "[*]", 3)) p += 3;
        int i = pshape_find(s, name);
        if (i < 0 || (sel && !sel->incl[i])) return false;
        if (!*p) return true;
        if (*p != '.') return false;
        p++;
        sel = sel ? sel->sub[i] : NULL;
        s = s->m[i].sub;
    }
    return false;
}

static void describe(buf *b, const pshape *s, const psel *sel)
{
    for (int i = 0; i < s->n; i++) {
        const pmember *pm = &s->m[i];
        bool in = !sel || sel->incl[i];
        buf_printf(b, "%c %s.%s%s%s\n", in ? '+' : '-', s->path, pm->json, pm->kind == PK_COLLECTION ? "[*]" : "",
                   pm->identity ? " (identity)" : "");
        const psel *sub = sel ? sel->sub[i] : NULL;
        if (in && sub)
            for (int f = 0; f < sub->nfilt; f++) {
                buf_printf(b, "  filter %s %s:", sub->shape->m[sub->filt[f].member].json,
                           sub->filt[f].include ? "IncludeOnly" : "ExcludeOnly");
                for (int v = 0; v < sub->filt[f].nvals; v++) buf_printf(b, " %s", sub->filt[f].vals[v]);
                buf_putc(b, '\n');
            }
        if (in && pm->sub) describe(b, pm->sub, sub);
    }
}

char *profile_ct_describe(const profile_ct *ct)
{
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "%s %s %s%s\n", ct->p->name, ct->r->name, ct->usage == PROFILE_READ ? "read" : "write",
               ct->usage == PROFILE_WRITE && !ct->root->creatable ? " (cannot create)" : "");
    describe(&b, ct->root->shape, ct->root);
    return buf_take(&b);
}
