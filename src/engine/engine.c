#include "engine.h"
#include "../security/authz.h"
#include "../base/buf.h"
#include "../base/jsonx.h"
#include "../base/log.h"
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define T_BAD_REQUEST "urn:ed-fi:api:bad-request"
#define T_VALIDATION "urn:ed-fi:api:bad-request:data-validation-failed"
#define T_KEY_CHANGE "urn:ed-fi:api:bad-request:data-validation-failed:key-change-not-supported"
#define T_NOT_FOUND "urn:ed-fi:api:not-found"
#define T_UNRESOLVED "urn:ed-fi:api:data-conflict:unresolved-reference"
#define T_DEPENDENT "urn:ed-fi:api:data-conflict:dependent-item-exists"
#define T_IDENTITY "urn:ed-fi:api:identity-conflict"
#define T_OPTIMISTIC "urn:ed-fi:api:optimistic-lock-failed"
#define T_IF_NONE_MATCH "urn:ed-fi:api:precondition-failed:if-none-match"
#define T_SYSTEM "urn:ed-fi:api:system"

#define MAX_CASCADE 100000
#define MAX_MISMATCH_CHECKS 8

void outcome_free(outcome *o)
{
    json_object_put(o->validation);
    json_object_put(o->errors);
    o->validation = o->errors = NULL;
}

void outcome_problem(outcome *o, int status, const char *type, const char *title, const char *detail,
                     const char *errors_msg)
{
    o->status = status;
    o->type = type;
    o->title = title;
    o->detail = detail;
    if (errors_msg) {
        if (!o->errors) o->errors = json_object_new_array();
        json_object_array_add(o->errors, json_object_new_string(errors_msg));
    }
}

static void validation_problem(outcome *o, verrors *ve)
{
    outcome_problem(o, 400, T_VALIDATION, "Data Validation Failed",
                    "Data validation failed. See 'validationErrors' for details.", NULL);
    o->validation = ve->by_path;
    ve->by_path = NULL;
}

/* qsort context for cmp_ref_index (one prepare runs on one thread). */
static __thread const docref *sort_refs;

static int cmp_ref_index(const void *x, const void *y)
{
    int i = *(const int *)x, j = *(const int *)y;
    const docref *a = &sort_refs[i], *b = &sort_refs[j];
    if (a->ref != b->ref) return (uintptr_t)a->ref < (uintptr_t)b->ref ? -1 : 1;
    int c = memcmp(a->refid.b, b->refid.b, 16);
    if (c) return c;
    return i - j;
}

/* Where a reference's link goes in the prepared text: the value of its
 * "link" member, [start, end). */
struct wslot {
    size_t start, end;
    int ref;
};

/* Serializes the document once here, with a placeholder string as each
 * reference's link ("\u0001L<i>" once serialized: a key "link" with such a
 * value can come from nothing else, as any link a client sent is replaced),
 * and records where the placeholders are. Anything unexpected leaves
 * w->text NULL: the writer then serializes, as before. */
static void prepare_text(wreq *w)
{
    static const char pat[] = "\"link\":\"\\u0001L";
    w->text = NULL;
    w->nslots = 0;
    int n = 0;
    for (int i = 0; i < w->info.nrefs; i++) {
        docref *d = &w->info.refs[i];
        if (!d->ref || !d->obj) continue;
        char tag[16];
        snprintf(tag, sizeof tag, "\001L%d", i);
        json_object_object_add(d->obj, "link", json_object_new_string(tag));
        n++;
    }
    const char *t = jsonx_text(w->doc);
    struct wslot *slots = n ? arena_alloc(w->a, sizeof *slots * (size_t)n) : NULL;
    bool *seen = n ? arena_alloc(w->a, sizeof *seen * (size_t)w->info.nrefs) : NULL;
    if (seen) memset(seen, 0, sizeof *seen * (size_t)w->info.nrefs);
    int found = 0;
    for (const char *p = t, *q; (q = strstr(p, pat));) {
        char *end;
        long i = strtol(q + sizeof pat - 1, &end, 10);
        if (found == n || *end != '"' || end == q + sizeof pat - 1 || i < 0 || i >= w->info.nrefs || seen[i] ||
            !w->info.refs[i].ref || !w->info.refs[i].obj)
            return;
        seen[i] = true;
        slots[found++] = (struct wslot){(size_t)(q + 7 - t), (size_t)(end + 1 - t), (int)i};
        p = end + 1;
    }
    if (found != n) return;
    w->text = arena_strdup(w->a, t);
    w->slots = slots;
    w->nslots = n;
}

/* The stored text: the prepared one with the links the writer found. */
static const char *stored_text(wreq *w)
{
    if (!w->text) return arena_strdup(w->a, jsonx_text(w->doc));
    if (!w->nslots) return w->text;
    buf b;
    buf_init(&b, strlen(w->text) + 128 * (size_t)w->nslots);
    size_t at = 0;
    for (int k = 0; k < w->nslots; k++) {
        const struct wslot *sl = &w->slots[k];
        buf_append(&b, w->text + at, sl->start - at);
        buf_puts(&b, w->link_text[sl->ref]);
        at = sl->end;
    }
    buf_puts(&b, w->text + at);
    const char *out = arena_strndup(w->a, b.data, b.len);
    buf_free(&b);
    return out;
}

void outcome_profile(outcome *o, const profile_error *pe)
{
    outcome_problem(o, pe->status, pe->type, pe->title, pe->detail, pe->path[0] ? NULL : pe->message);
    if (pe->path[0]) {
        verrors ve;
        verrors_init(&ve);
        verrors_add(&ve, pe->path, pe->message);
        o->validation = ve.by_path;
    }
}

/* doc_normalize_ex's question for a write through a profile: a required
 * member may be absent when the write content type excludes it (the writer
 * puts its stored value back, or refuses to create). */
static bool excluded_member(void *ct, const char *path)
{
    char p[512];
    size_t n = 0;
    for (const char *s = path; *s; s++) {
        if (n + 4 >= sizeof p) return false;
        if (*s == '[') {
            memcpy(p + n, "[*]", 3);
            n += 3;
            if (!(s = strchr(s, ']'))) break;
            continue;
        }
        p[n++] = *s;
    }
    p[n] = 0;
    return !profile_ct_includes(ct, p);
}

/* The checks of a normalized document w->doc after its schema: descriptor
 * values, equality constraints, identity and references (into w->info),
 * repeated references. False with the problems in ve. */
static bool check_doc(wreq *w, verrors *ve)
{
    if (w->r->is_descriptor) {
        /* ODS/API 7.3 rules for descriptor values (a '#' would make the
         * namespace#codeValue URI ambiguous). */
        const char *ns = jsonx_str(w->doc, "namespace"), *cv = jsonx_str(w->doc, "codeValue");
        char msg[400];
        if (ns && strncasecmp(ns, "uri://", 6) != 0) {
            snprintf(msg, sizeof msg, "'%.255s' is not a valid value for namespace. Namespaces must be prefixed with 'uri://'.", ns);
            verrors_add(ve, "$.namespace", msg);
        }
        if (cv && strchr(cv, '#')) {
            snprintf(msg, sizeof msg, "'%.60s' is not a valid value for codeValue. A code value cannot contain '#'.", cv);
            verrors_add(ve, "$.codeValue", msg);
        }
        if (ve->count) return false;
    }
    if (!doc_check_equality(w->r, w->doc, ve)) return false;
    if (!doc_extract(w->a, w->r, w->doc, &w->info, ve)) return false;
    /* Two references in one collection to the same item (§5.8): sort by
     * (reference, referential id, position) and flag the later ones. */
    int nr = w->info.nrefs;
    if (nr > 1) {
        int *order = xcalloc((size_t)nr, sizeof(int));
        bool *is_dup = xcalloc((size_t)nr, sizeof(bool));
        for (int i = 0; i < nr; i++) order[i] = i;
        sort_refs = w->info.refs;
        qsort(order, (size_t)nr, sizeof(int), cmp_ref_index);
        for (int i = 1; i < nr; i++) {
            const docref *a = &w->info.refs[order[i - 1]], *b = &w->info.refs[order[i]];
            if (a->ref && a->ref == b->ref && !memcmp(a->refid.b, b->refid.b, 16)) is_dup[order[i]] = true;
        }
        for (int i = 0; i < nr; i++) {
            const docref *d = &w->info.refs[i];
            const char *br = is_dup[i] ? strrchr(d->path, '[') : NULL;
            if (!br || d->ref->object_path.nseg < 2) continue;
            const mpath *op = &d->ref->object_path;
            int idx = atoi(br + 1) + 1;
            const char *sfx = idx % 100 >= 11 && idx % 100 <= 13 ? "th" : idx % 10 == 1 ? "st" : idx % 10 == 2 ? "nd" : idx % 10 == 3 ? "rd" : "th";
            char key[256], msg[512];
            snprintf(key, sizeof key, "%.*s", (int)(br - d->path), d->path);
            snprintf(msg, sizeof msg,
                     "The %d%s item of the %s has the same identifying values as another item earlier in the list.",
                     idx, sfx, op->seg[op->nseg - 2].name);
            if (!jsonx_get(ve->by_path, key)) verrors_add(ve, key, msg);
        }
        free(order);
        free(is_dup);
    }
    return ve->count == 0;
}

bool engine_prepare(wreq *w, const char *body, size_t len)
{
    outcome *o = w->out;
    char err[256], dup[256];
    bool blank = true;
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)body[i])) blank = false;
    if (blank) {
        outcome_problem(o, 400, T_BAD_REQUEST, "Bad Request",
                        "The request could not be processed. See 'errors' for details.",
                        "A non-empty request body is required.");
        return false;
    }
    json_object *raw = jsonx_parse(body, len, err, sizeof err, dup, sizeof dup);
    if (!raw) {
        verrors ve;
        verrors_init(&ve);
        verrors_add(&ve, dup[0] ? dup : "$", err);
        validation_problem(o, &ve);
        verrors_free(&ve);
        return false;
    }
    bool ok = false;
    verrors ve;
    verrors_init(&ve);
    if (!json_object_is_type(raw, json_type_object)) {
        verrors_add(&ve, "$", "The request body must be a JSON object.");
        validation_problem(o, &ve);
        goto done;
    }
    /* The client may not choose ids on POST; PUT must carry the URL id. */
    json_object *idv = NULL;
    const char *idkey = NULL;
    json_object_object_foreach(raw, k, v)
    {
        if (!strcasecmp(k, "id")) idv = v, idkey = k;
    }
    if (w->op == OP_UPSERT && idkey) {
        outcome_problem(o, 400, T_VALIDATION, "Data Validation Failed", "The request data was constructed incorrectly.",
                        "Resource identifiers cannot be assigned by the client. The 'id' property should not be included in the request body.");
        goto done;
    }
    if (w->op == OP_PUT) {
        if (!idv) {
            verrors_add(&ve, "$.id", "id is required.");
            validation_problem(o, &ve);
            goto done;
        }
        uuid_t16 u;
        char canon[37];
        if (!json_object_is_type(idv, json_type_string) || !uuid_parse(json_object_get_string(idv), &u) ||
            (uuid_format(&u, canon), strcmp(canon, w->id) != 0)) {
            outcome_problem(o, 400, T_BAD_REQUEST, "Bad Request",
                            "The request could not be processed. See 'errors' for details.",
                            "Request body id must match the id in the url.");
            goto done;
        }
    }
    if (w->profile) {
        /* Members the profile excludes are dropped before validation, as
         * ODS's profile-specific classes never read them (§3.3). */
        profile_error pe;
        if (profile_write_prepare(w->profile, raw, &pe)) {
            outcome_profile(o, &pe);
            goto done;
        }
    }
    w->doc = w->profile ? doc_normalize_ex(w->r, raw, &ve, excluded_member, (void *)w->profile)
                        : doc_normalize(w->r, raw, &ve);
    if (!w->doc || !check_doc(w, &ve)) {
        validation_problem(o, &ve);
        goto done;
    }
    ok = true;
    /* Through a profile, the writer makes the document to store (merged with
     * the stored one); the prepared text would not be it. */
    if (w->profile) w->sent = json_object_get(w->doc);
    else prepare_text(w);
done:
    verrors_free(&ve);
    json_object_put(raw);
    return ok;
}

void engine_release(wreq *w)
{
    json_object_put(w->doc);
    json_object_put(w->sent);
    w->doc = w->sent = NULL;
}

/* ---- writer side ---- */

static const char *strip_quotes(const char *s, char *out, size_t n)
{
    while (*s == ' ') s++;
    size_t l = strlen(s);
    while (l && s[l - 1] == ' ') l--;
    if (l >= 2 && s[0] == '"' && s[l - 1] == '"') s++, l -= 2;
    snprintf(out, n, "%.*s", (int)l, s);
    return out;
}

/* If-Match: strong comparison; W/ never matches; * matches anything. */
static bool if_match_ok(const char *h, int64_t etag)
{
    if (!strcmp(h, "*")) return true;
    char want[32], t[128];
    snprintf(want, sizeof want, "%lld", (long long)etag);
    char *copy = strdup(h), *save = NULL;
    if (!copy) abort();
    bool ok = false;
    for (char *p = strtok_r(copy, ",", &save); p && !ok; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ') p++;
        if (!strncmp(p, "W/", 2)) continue;
        if (!strcmp(strip_quotes(p, t, sizeof t), want) || !strcmp(t, "*")) ok = true;
    }
    free(copy);
    return ok;
}

/* If-None-Match: weak comparison, lists allowed. True when it matches. */
static bool if_none_match_hits(const char *h, int64_t etag)
{
    char want[32], t[128];
    snprintf(want, sizeof want, "%lld", (long long)etag);
    char *copy = strdup(h), *save = NULL;
    if (!copy) abort();
    bool hit = false;
    for (char *p = strtok_r(copy, ",", &save); p && !hit; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ') p++;
        if (!strncmp(p, "W/", 2)) p += 2;
        strip_quotes(p, t, sizeof t);
        if (!strcmp(t, "*") || !strcmp(t, want)) hit = true;
    }
    free(copy);
    return hit;
}

static void lock_failed(outcome *o)
{
    outcome_problem(o, 412, T_OPTIMISTIC, "Optimistic Lock Failed", "The item has been modified by another user.",
                    "The resource item's etag value does not match what was specified in the 'If-Match' request header "
                    "indicating that it has been modified by another client since it was last retrieved.");
}

static void lock_missing(outcome *o)
{
    outcome_problem(o, 412, T_OPTIMISTIC, "Optimistic Lock Failed",
                    "The If-Match precondition failed because the resource does not exist.",
                    "The 'If-Match' request header requires a current representation of the resource, but none exists. "
                    "Do not retry with If-Match; create the resource first, or omit If-Match.");
}

static void none_match_failed(outcome *o)
{
    outcome_problem(o, 412, T_IF_NONE_MATCH, "If-None-Match Precondition Failed",
                    "The item already exists and If-None-Match prevented the write.",
                    "The resource item exists and the 'If-None-Match' request header does not allow it to be overwritten.");
}

static const mresource *resource_of(const model *m, const char *stored)
{
    const char *slash = strchr(stored, '/');
    if (!slash) return NULL;
    char proj[64];
    snprintf(proj, sizeof proj, "%.*s", (int)(slash - stored), stored);
    return model_find(m, proj, slash + 1);
}

/* Whether a descriptor URI that is not of the declared type exists as a
 * descriptor of another type (for the "is not a valid X" message): one
 * referential-id probe per descriptor resource, on the error path only. */
static bool descriptor_of_other_type(store_txn *t, wreq *w, const docref *d)
{
    for (int i = 0; i < w->m->nres; i++) {
        const mresource *r = &w->m->res[i];
        if (!r->is_descriptor || !strcmp(r->name, d->desc->descriptor_name)) continue;
        uuid_t16 id;
        store_hit hit;
        doc_descriptor_refid(r->project_name, r->name, d->value, &id);
        if (txn_find_identity(t, &id, w->a, &hit) == ERR_OK) return true;
    }
    return false;
}

/* Resolves every reference; injects link objects into the document. When
 * self is given, the document's own identity is looked up in the same round
 * trip (*self_found, *self_hit). Returns ERR_OK, or an error with the
 * outcome set. */
static err_t resolve_refs(store_txn *t, wreq *w, store_hit *self_hit, bool *self_found)
{
    verrors bad_desc, bad_ref;
    int mismatch_checks = 0; /* bounded: each check probes every descriptor type */
    int n = w->info.nrefs + (self_hit ? 1 : 0);
    uuid_t16 *ids = arena_alloc(w->a, sizeof *ids * (size_t)(n + 1));
    store_hit *hits = arena_alloc(w->a, sizeof *hits * (size_t)(n + 1));
    bool *found = arena_alloc(w->a, sizeof *found * (size_t)(n + 1));
    for (int i = 0; i < w->info.nrefs; i++) ids[i] = w->info.refs[i].refid;
    if (self_hit) ids[n - 1] = w->info.refid;
    err_t e = n ? txn_find_identities(t, n, ids, w->a, hits, found) : ERR_OK;
    if (e) return e;
    if (self_hit) {
        *self_found = found[n - 1];
        if (*self_found) *self_hit = hits[n - 1];
    }
    verrors_init(&bad_desc);
    verrors_init(&bad_ref);
    for (int i = 0; i < w->info.nrefs && !e; i++) {
        docref *d = &w->info.refs[i];
        store_hit hit = hits[i];
        if (!found[i]) {
            char msg[768];
            if (d->desc) {
                buf low;
                buf_init(&low, 0);
                for (const char *s = d->value; *s; s++) buf_putc(&low, (char)tolower((unsigned char)*s));
                bool other_type = ++mismatch_checks <= MAX_MISMATCH_CHECKS && descriptor_of_other_type(t, w, d);
                snprintf(msg, sizeof msg, other_type ? "%s value '%s' is not a valid %s." : "%s value '%s' does not exist.",
                         d->desc->descriptor_name, low.data, d->desc->descriptor_name);
                buf_free(&low);
                verrors_add(&bad_desc, d->path, msg);
            } else {
                snprintf(msg, sizeof msg, "The referenced %s item does not exist.", d->ref->target_name);
                verrors_add(&bad_ref, d->path, msg);
            }
            continue;
        }
        if (e) break;
        if (d->ref && d->obj && w->text) {
            /* rel and href are names and ids: nothing to escape */
            const mresource *tr = resource_of(w->m, hit.resource);
            if (!w->link_text) w->link_text = arena_alloc(w->a, sizeof *w->link_text * (size_t)w->info.nrefs);
            w->link_text[i] = arena_printf(w->a, "{\"rel\":\"%s\",\"href\":\"/%s/%s\"}",
                                           tr ? tr->name : d->ref->target_name, hit.resource, hit.id);
        } else if (d->ref && d->obj) {
            const mresource *tr = resource_of(w->m, hit.resource);
            json_object *link = json_object_new_object();
            json_object_object_add(link, "rel", json_object_new_string(tr ? tr->name : d->ref->target_name));
            char href[256];
            snprintf(href, sizeof href, "/%s/%s", hit.resource, hit.id);
            json_object_object_add(link, "href", json_object_new_string(href));
            json_object_object_add(d->obj, "link", link);
        }
    }
    if (!e && bad_desc.count) {
        /* Unknown descriptors win over unresolved references (400, §5.6). */
        json_object_object_foreach(bad_ref.by_path, k, v)
        {
            for (size_t i = 0; i < json_object_array_length(v); i++)
                verrors_add(&bad_desc, k, json_object_get_string(json_object_array_get_idx(v, i)));
        }
        outcome_problem(w->out, 400, T_BAD_REQUEST, "Bad Request",
                        "Data validation failed. See 'validationErrors' for details.", NULL);
        w->out->validation = bad_desc.by_path;
        bad_desc.by_path = NULL;
        e = ERR_INVALID;
    } else if (!e && bad_ref.count) {
        outcome_problem(w->out, 409, T_UNRESOLVED, "Unresolved Reference",
                        "One or more references could not be resolved. See 'validationErrors' for details.", NULL);
        w->out->validation = bad_ref.by_path;
        bad_ref.by_path = NULL;
        e = ERR_CONFLICT;
    }
    verrors_free(&bad_desc);
    verrors_free(&bad_ref);
    return e;
}

static void put_from(wreq *w, const mresource *r, json_object *doc, const docinfo *info, const char *resource,
                     const char *body, store_put *p)
{
    uuid_t16 *refs = arena_alloc(w->a, sizeof(uuid_t16) * (size_t)(info->nrefs + 1));
    int n = 0;
    for (int i = 0; i < info->nrefs; i++) {
        bool seen = false;
        for (int j = 0; j < n && !seen; j++) seen = !memcmp(refs[j].b, info->refs[i].refid.b, 16);
        if (!seen) refs[n++] = info->refs[i].refid;
    }
    memset(p, 0, sizeof *p);
    p->resource = resource;
    p->refid = &info->refid;
    p->alias = info->has_alias ? &info->alias : NULL;
    p->body = body;
    p->refs = refs;
    p->nrefs = n;
    p->owner = w->owner;
    p->qvals = doc_query_index(w->a, r, doc);
    authz_subjects(r, doc, w->a, &p->sec_edorg, &p->sec_person);
}

/* What change queries keep of doc, a stored document of r whose natural key
 * goes away (deleted or changed): computed from the document and the model,
 * before the document changes. */
static void prior_of(wreq *w, const mresource *r, json_object *doc, const store_doc *old, const uuid_t16 *refid,
                     store_prior *pr)
{
    memset(pr, 0, sizeof *pr);
    pr->key_values = doc_key_values(w->a, r, doc);
    pr->refid = refid;
    authz_subjects(r, doc, w->a, &pr->sec_edorg, &pr->sec_person);
    pr->subjects = authz_subjects_json(r, doc, w->a);
    pr->owner = old->owner;
}

static void identity_conflict(wreq *w, bool update)
{
    char msg[1024];
    snprintf(msg, sizeof msg,
             "A natural key conflict occurred when attempting to %s resource %s with a duplicate key. "
             "The duplicate keys and values are %s",
             update ? "update a" : "create a new", w->r->name, w->info.key_text);
    outcome_problem(w->out, 409, T_IDENTITY, "Identifying Values Are Not Unique",
                    "The identifying value(s) of the item are the same as another item that already exists.", msg);
}

static const char *stored_resource(wreq *w)
{
    return arena_printf(w->a, "%s/%s", w->r->project_endpoint, w->r->endpoint);
}

/* Authorizes a write under plan (existing data, then proposed data) inside
 * the job, so that relationships created earlier in the same batch count.
 * Fills the outcome and answers ERR_FORBIDDEN when denied. */
static err_t authorize(store_txn *t, wreq *w, const authz_plan *plan, const store_doc *old, json_object *proposed)
{
    if (!plan) return ERR_OK;
    if (plan->status) {
        outcome_problem(w->out, plan->status, plan->type, plan->title, plan->detail, plan->error);
        return ERR_FORBIDDEN;
    }
    authz_reach via = {.t = t};
    authz_denial d;
    err_t e = ERR_OK;
    if (old && (e = authz_check_stored(plan, old, &via, w->a, &d))) return e;
    if (old && d.status) goto denied;
    if (proposed && (e = authz_check(plan, proposed, false, NULL, &via, w->a, &d))) return e;
    if (proposed && d.status) goto denied;
    return ERR_OK;
denied:
    outcome_problem(w->out, d.status, d.type, d.title, d.detail, d.error);
    return ERR_FORBIDDEN;
}

/* Rewrites, in every document that references old_refid, the reference's
 * values to those of the changed document, recursively (§4.2). */
static err_t cascade(store_txn *t, wreq *w, const mresource *changed_r, const uuid_t16 *old_refid,
                     json_object *changed_doc, int *budget)
{
    store_hit *ids;
    int n;
    err_t e = txn_referrers(t, old_refid, w->a, MAX_CASCADE, &ids, &n);
    if (e) return e;
    for (int i = 0; i < n; i++) {
        if (--*budget < 0) return ERR_TOO_LARGE;
        store_doc old;
        if ((e = txn_get(t, ids[i].resource, ids[i].doc_id, w->a, &old))) return e;
        const mresource *rr = resource_of(w->m, old.resource);
        if (!rr) continue;
        char perr[128];
        json_object *doc = jsonx_parse(old.body, strlen(old.body), perr, sizeof perr, NULL, 0);
        if (!doc) return ERR_STORAGE;
        docinfo before;
        verrors ve;
        verrors_init(&ve);
        doc_extract(w->a, rr, doc, &before, &ve);
        store_prior prior;
        prior_of(w, rr, doc, &old, &before.refid, &prior); /* before the references below change */
        for (int k = 0; k < before.nrefs; k++) {
            docref *d = &before.refs[k];
            if (!d->ref || memcmp(d->refid.b, old_refid->b, 16)) continue;
            for (int mi = 0; mi < d->ref->nmembers; mi++) {
                mpath ip;
                if (!mpath_parse(w->a, d->ref->members[mi].ident_path, &ip)) continue;
                json_object *nv = NULL;
                /* The new value is the changed document's value at the
                 * target identity path. */
                json_object *cur = changed_doc;
                for (int s = 0; cur && s < ip.nseg; s++) cur = jsonx_get(cur, ip.seg[s].name);
                nv = cur;
                if (nv) json_object_object_add(d->obj, d->ref->members[mi].leaf, json_object_get(nv));
            }
        }
        docinfo after;
        doc_extract(w->a, rr, doc, &after, &ve);
        verrors_free(&ve);
        const char *body = arena_strdup(w->a, jsonx_text(doc));
        store_put p;
        put_from(w, rr, doc, &after, old.resource, body, &p);
        store_doc nd;
        bool key_changed = memcmp(before.refid.b, after.refid.b, 16) != 0;
        if (key_changed) p.key_values = doc_key_values(w->a, rr, doc);
        e = txn_update(t, &old, &p, key_changed ? &prior : NULL, &nd);
        if (!e) e = authz_index(t, rr, old.doc_id, doc, true, false, w->a);
        if (!e && key_changed) e = cascade(t, w, rr, &before.refid, doc, budget);
        json_object_put(doc);
        if (e) return e;
    }
    (void)changed_r;
    return ERR_OK;
}

/* A write through a profile, once the stored document (old) is known or
 * known to be absent: the sent document merged with old's members the
 * profile excludes and items its filters hide, or checked for a create;
 * then validated whole, as any document is, and made w->doc. Starts from
 * w->sent each time (a job may run again after a transient failure). */
static err_t apply_profile(wreq *w, const store_doc *old)
{
    json_object *doc = NULL, *stored = NULL;
    if (json_object_deep_copy(w->sent, &doc, NULL)) return ERR_NOMEM;
    profile_error pe;
    err_t e;
    if (old) {
        char perr[128];
        if (!(stored = jsonx_parse(old->body, strlen(old->body), perr, sizeof perr, NULL, 0))) {
            json_object_put(doc);
            return ERR_STORAGE;
        }
        e = profile_merge_stored(w->profile, doc, stored, &pe);
        json_object_put(stored);
    } else {
        e = profile_check_create(w->profile, doc, &pe);
    }
    if (e) {
        json_object_put(doc);
        outcome_profile(w->out, &pe);
        return ERR_INVALID;
    }
    verrors ve;
    verrors_init(&ve);
    json_object *merged = doc_normalize(w->r, doc, &ve);
    json_object_put(doc);
    json_object_put(w->doc);
    w->doc = merged;
    w->text = NULL;
    w->nslots = 0;
    w->link_text = NULL;
    bool ok = merged && check_doc(w, &ve);
    if (!ok) validation_problem(w->out, &ve);
    verrors_free(&ve);
    return ok ? ERR_OK : ERR_INVALID;
}

/* apply_profile for a POST: the stored document is the one with the sent
 * identity (which a profile always keeps). An identity taken by another
 * resource is left to the upsert, which answers the conflict. */
static err_t profile_upsert(store_txn *t, wreq *w)
{
    store_hit self;
    err_t e = txn_find_identity(t, &w->info.refid, w->a, &self);
    if (e == ERR_NOT_FOUND) return apply_profile(w, NULL);
    if (e) return e;
    if (strcmp(self.resource, stored_resource(w))) return ERR_OK;
    store_doc old;
    if ((e = txn_get(t, self.resource, self.doc_id, w->a, &old))) return e;
    return apply_profile(w, &old);
}

static err_t do_upsert(store_txn *t, wreq *w)
{
    err_t e;
    if (w->profile && (e = profile_upsert(t, w))) return e;
    store_hit hit;
    bool exists = false;
    if ((e = resolve_refs(t, w, &hit, &exists))) return e;
    e = exists ? ERR_OK : ERR_NOT_FOUND;
    const char *body = stored_text(w);
    const char *res = stored_resource(w);
    store_put p;
    put_from(w, w->r, w->doc, &w->info, res, body, &p);
    store_doc out;
    if (e == ERR_NOT_FOUND || strcmp(hit.resource, res) != 0) {
        if (e == ERR_OK) { /* the key belongs to a document of another resource */
            identity_conflict(w, false);
            return ERR_IDENTITY_CONFLICT;
        }
        if (w->if_match) {
            lock_missing(w->out);
            return ERR_PRECONDITION;
        }
        if ((e = authorize(t, w, w->az_create, NULL, w->doc))) return e;
        e = txn_insert(t, &p, &out);
        if (e == ERR_IDENTITY_CONFLICT) identity_conflict(w, false);
        if (!e) e = authz_index(t, w->r, out.doc_id, w->doc, false, false, w->a);
        if (e) return e;
        w->out->status = 201;
        memcpy(w->out->id, out.id, sizeof out.id);
        w->out->etag = out.etag;
        return ERR_OK;
    }
    store_doc old;
    if ((e = txn_get(t, hit.resource, hit.doc_id, w->a, &old))) return e;
    if ((e = authorize(t, w, w->az_update ? w->az_update : w->az_create, &old, w->doc))) return e;
    if (w->if_none_match && if_none_match_hits(w->if_none_match, old.etag)) {
        none_match_failed(w->out);
        return ERR_PRECONDITION;
    }
    if (w->if_match && !if_match_ok(w->if_match, old.etag)) {
        lock_failed(w->out);
        return ERR_PRECONDITION;
    }
    w->out->status = 200;
    memcpy(w->out->id, old.id, sizeof old.id);
    if (!strcmp(old.body, body)) { /* no-op: nothing written, ETag kept */
        w->out->etag = old.etag;
        return ERR_OK;
    }
    if ((e = txn_update(t, &old, &p, NULL, &out))) return e;
    if ((e = authz_index(t, w->r, old.doc_id, w->doc, true, false, w->a))) return e;
    w->out->etag = out.etag;
    return ERR_OK;
}

static err_t do_put(store_txn *t, wreq *w)
{
    err_t e;
    const char *res = stored_resource(w);
    store_doc old;
    e = txn_get_by_id(t, res, w->id, w->a, &old);
    if (e == ERR_NOT_FOUND) {
        if (w->if_match) lock_missing(w->out);
        else outcome_problem(w->out, 404, T_NOT_FOUND, "Not Found", "Resource to update was not found", NULL);
        return w->if_match ? ERR_PRECONDITION : ERR_NOT_FOUND;
    }
    if (e) return e;
    if (w->profile && (e = apply_profile(w, &old))) return e;
    if ((e = authorize(t, w, w->az_update, &old, w->doc))) return e;
    if (w->if_match && !if_match_ok(w->if_match, old.etag)) {
        lock_failed(w->out);
        return ERR_PRECONDITION;
    }
    if (w->if_none_match && if_none_match_hits(w->if_none_match, old.etag)) {
        none_match_failed(w->out);
        return ERR_PRECONDITION;
    }
    bool key_changed = memcmp(old.refid.b, w->info.refid.b, 16) != 0;
    if (key_changed && !w->r->allow_identity_updates) {
        char detail[512];
        snprintf(detail, sizeof detail,
                 "Identifying values for the %s resource cannot be changed. Delete and recreate the resource item instead.",
                 w->r->name);
        outcome_problem(w->out, 400, T_KEY_CHANGE, "Key Change Not Supported", arena_strdup(w->a, detail), NULL);
        return ERR_INVALID;
    }
    if ((e = resolve_refs(t, w, NULL, NULL))) return e;
    const char *body = stored_text(w);
    w->out->status = 204;
    memcpy(w->out->id, old.id, sizeof old.id);
    if (!key_changed && !strcmp(old.body, body)) {
        w->out->etag = old.etag;
        return ERR_OK;
    }
    store_put p;
    put_from(w, w->r, w->doc, &w->info, res, body, &p);
    store_prior prior;
    if (key_changed) {
        char perr[128];
        json_object *od = jsonx_parse(old.body, strlen(old.body), perr, sizeof perr, NULL, 0);
        if (!od) return ERR_STORAGE;
        prior_of(w, w->r, od, &old, &old.refid, &prior);
        json_object_put(od);
        p.key_values = doc_key_values(w->a, w->r, w->doc);
    }
    store_doc out;
    e = txn_update(t, &old, &p, key_changed ? &prior : NULL, &out);
    if (e == ERR_IDENTITY_CONFLICT) identity_conflict(w, true);
    if (!e) e = authz_index(t, w->r, old.doc_id, w->doc, true, false, w->a);
    if (e) return e;
    w->out->etag = out.etag;
    if (key_changed) {
        int budget = MAX_CASCADE;
        e = cascade(t, w, w->r, &old.refid, w->doc, &budget);
        if (e == ERR_IDENTITY_CONFLICT) identity_conflict(w, true);
        if (e == ERR_TOO_LARGE)
            outcome_problem(w->out, 409, "urn:ed-fi:api:data-conflict", "Conflict",
                            "The identity change would cascade into too many referencing items.", NULL);
    }
    return e;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static err_t do_delete(store_txn *t, wreq *w)
{
    err_t e;
    const char *res = stored_resource(w);
    store_doc old;
    e = txn_get_by_id(t, res, w->id, w->a, &old);
    if (e == ERR_NOT_FOUND) {
        if (w->if_match) lock_missing(w->out);
        else outcome_problem(w->out, 404, T_NOT_FOUND, "Not Found", "Resource to delete was not found.", NULL);
        return w->if_match ? ERR_PRECONDITION : ERR_NOT_FOUND;
    }
    if (e) return e;
    if ((e = authorize(t, w, w->az_delete, &old, NULL))) return e;
    if (w->if_match && !if_match_ok(w->if_match, old.etag)) {
        lock_failed(w->out);
        return ERR_PRECONDITION;
    }
    char perr[128];
    json_object *od = jsonx_parse(old.body, strlen(old.body), perr, sizeof perr, NULL, 0);
    docinfo oi;
    verrors ve;
    verrors_init(&ve);
    bool ok = od && doc_extract(w->a, w->r, od, &oi, &ve);
    verrors_free(&ve);
    if (!ok) {
        json_object_put(od);
        return ERR_STORAGE;
    }
    /* Referenced through its own identity or its superclass alias? */
    const char *names[64];
    int nn = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && !oi.has_alias) break;
        store_hit *ids;
        int n;
        if ((e = txn_referrers(t, pass ? &oi.alias : &oi.refid, w->a, 1000, &ids, &n))) {
            json_object_put(od);
            return e;
        }
        for (int i = 0; i < n && nn < 64; i++) {
            const mresource *rr = resource_of(w->m, ids[i].resource);
            const char *nm = rr ? rr->name : ids[i].resource;
            bool seen = false;
            for (int k = 0; k < nn; k++) seen |= !strcmp(names[k], nm);
            if (!seen) names[nn++] = nm;
        }
    }
    if (nn) {
        qsort(names, (size_t)nn, sizeof(char *), cmp_str);
        buf b;
        buf_init(&b, 0);
        buf_puts(&b, "The requested action cannot be performed because this item is referenced by existing ");
        for (int i = 0; i < nn; i++) buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
        buf_puts(&b, " item(s).");
        outcome_problem(w->out, 409, T_DEPENDENT, "Dependent Item Exists", arena_strdup(w->a, b.data), NULL);
        buf_free(&b);
        json_object_put(od);
        return ERR_CONFLICT;
    }
    store_prior prior;
    prior_of(w, w->r, od, &old, &old.refid, &prior);
    e = txn_delete(t, &old, &prior);
    if (!e) e = authz_index(t, w->r, old.doc_id, od, true, true, w->a);
    json_object_put(od);
    if (e) return e;
    w->out->status = 204;
    return ERR_OK;
}

int engine_keys(wreq *w, const uuid_t16 **keys)
{
    *keys = NULL;
    if (w->op != OP_UPSERT) return 0;
    uuid_t16 *k = arena_alloc(w->a, sizeof *k * (size_t)(w->info.nrefs + 2));
    int n = 0;
    k[n++] = w->info.refid;
    if (w->info.has_alias) k[n++] = w->info.alias;
    for (int i = 0; i < w->info.nrefs; i++) k[n++] = w->info.refs[i].refid;
    *keys = k;
    return n;
}

err_t engine_write_job(store_txn *t, void *ctx)
{
    wreq *w = ctx;
    err_t e;
    /* A batch hit by a transient storage failure runs again: start clean. */
    outcome_free(w->out);
    memset(w->out, 0, sizeof *w->out);
    switch (w->op) {
    case OP_UPSERT: e = do_upsert(t, w); break;
    case OP_PUT: e = do_put(t, w); break;
    case OP_DELETE: e = do_delete(t, w); break;
    default: e = ERR_INVALID;
    }
    if (e && w->out->status < 400) {
        outcome_problem(w->out, 500, T_SYSTEM, "Internal Server Error",
                        "An unexpected problem has occurred.", NULL);
    }
    return e;
}

/* ---- rebuilding the relationship index ---- */

#define REINDEX_CHUNK 500

typedef struct reindex_chunk {
    const mresource *r;
    int n;
    int64_t doc_id[REINDEX_CHUNK];
    char *body[REINDEX_CHUNK];
} reindex_chunk;

static bool reindex_row(void *ctx, const store_doc *d)
{
    reindex_chunk *c = ctx;
    c->doc_id[c->n] = d->doc_id;
    c->body[c->n++] = xstrdup(d->body);
    return c->n < REINDEX_CHUNK;
}

static err_t reindex_job(store_txn *t, void *ctx)
{
    reindex_chunk *c = ctx;
    arena a;
    arena_init(&a, 1 << 14);
    err_t e = ERR_OK;
    for (int i = 0; i < c->n && !e; i++) {
        json_object *doc = json_tokener_parse(c->body[i]);
        if (doc) e = authz_index(t, c->r, c->doc_id[i], doc, true, false, &a);
        json_object_put(doc);
    }
    arena_free(&a);
    return e;
}

err_t engine_reindex(store *s, const model *m, long *indexed)
{
    *indexed = 0;
    static reindex_chunk c; /* large: off the stack (only migrate calls this, once) */
    for (int i = 0; i < m->nres; i++) {
        const mresource *r = &m->res[i];
        if (!authz_indexes(r)) continue;
        char resource[256];
        snprintf(resource, sizeof resource, "%s/%s", r->project_endpoint, r->endpoint);
        int64_t after = 0;
        for (;;) { /* bounded: every pass moves after forward, or ends */
            c.r = r;
            c.n = 0;
            store_query q = {.resource = resource, .limit = REINDEX_CHUNK, .after = after};
            int64_t last = 0;
            err_t e = store_query_docs(s, &q, reindex_row, &c, NULL, &last);
            if (!e && c.n) e = store_run(s, reindex_job, &c);
            for (int k = 0; k < c.n; k++) free(c.body[k]);
            if (e) return e;
            if (!c.n) break;
            *indexed += c.n;
            after = c.doc_id[c.n - 1];
            if (c.n < REINDEX_CHUNK) break;
        }
    }
    return ERR_OK;
}

void engine_render(buf *out, const store_doc *d)
{
    buf_puts(out, "{\"id\":\"");
    buf_puts(out, d->id);
    buf_putc(out, '"');
    size_t bl = strlen(d->body);
    /* body is "{...}": splice its members between id and the metadata. */
    if (bl > 2) {
        buf_putc(out, ',');
        buf_append(out, d->body + 1, bl - 2);
    }
    buf_printf(out, ",\"_etag\":\"%lld\",\"_lastModifiedDate\":\"%s\"}", (long long)d->etag, d->last_modified);
}
