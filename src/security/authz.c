/* Record-level authorization; see authz.h. Problem types and texts follow
 * ODS/API 7.3 (security.md §2.2, §2.7). */
#include "authz.h"
#include "../base/buf.h"
#include "../base/jsonx.h"
#include "../base/log.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define T_AUTHZ "urn:ed-fi:api:security:authorization"
#define T_CONFIG "urn:ed-fi:api:system:configuration:security"
#define DENIED_TITLE "Authorization Denied"
#define NOT_AUTHORIZED "Access to the requested data could not be authorized."

static void refuse(authz_plan *p, int status, const char *type, const char *detail, const char *error)
{
    p->status = status;
    p->type = type;
    p->title = status == 500 ? "Security Configuration Error" : DENIED_TITLE;
    p->detail = detail;
    p->error = error;
}

/* The resource claim URI a message names (the schema form). */
static const char *claim_uri(arena *a, const mresource *r)
{
    char lower[128];
    snprintf(lower, sizeof lower, "%s", r->name);
    lower[0] = (char)tolower((unsigned char)lower[0]);
    return arena_printf(a, "http://ed-fi.org/identity/claims/%s/%s", r->project_endpoint, lower);
}

static const char *person_name(msec_kind k)
{
    return k == MSEC_STUDENT ? "StudentUniqueId" : k == MSEC_STAFF ? "StaffUniqueId" : "ContactUniqueId";
}

/* The securable elements stored beside the body: the first education
 * organization and the first person element of the resource. */
static int first_of(const mresource *r, bool person)
{
    for (int i = 0; i < r->nsecurable; i++) {
        msec_kind k = r->securable[i].kind;
        if (person ? (k == MSEC_STUDENT || k == MSEC_STAFF || k == MSEC_CONTACT) : k == MSEC_EDORG) return i;
    }
    return -1;
}

/* Adds the requirements of one relationship strategy as an OR group. */
static void add_group(authz_plan *p, uint32_t bit)
{
    const mresource *r = p->r;
    bool edorgs = bit & (ST_EDORGS_AND_PEOPLE | ST_EDORGS_ONLY | ST_EDORGS_AND_PEOPLE_INVERTED | ST_EDORGS_ONLY_INVERTED |
                         ST_EDORGS_AND_PEOPLE_DELETES);
    bool inverted = bit & (ST_EDORGS_AND_PEOPLE_INVERTED | ST_EDORGS_ONLY_INVERTED);
    bool people = bit & (ST_EDORGS_AND_PEOPLE | ST_PEOPLE_ONLY | ST_EDORGS_AND_PEOPLE_INVERTED | ST_EDORGS_AND_PEOPLE_DELETES);
    bool students = people || (bit & (ST_STUDENTS_ONLY | ST_STUDENTS_ONLY_DELETES | ST_STUDENTS_RESPONSIBILITY |
                                      ST_STUDENTS_RESPONSIBILITY_DELETES));
    bool responsibility = bit & (ST_STUDENTS_RESPONSIBILITY | ST_STUDENTS_RESPONSIBILITY_DELETES);
    bool deletes = bit & (ST_EDORGS_AND_PEOPLE_DELETES | ST_STUDENTS_ONLY_DELETES | ST_STUDENTS_RESPONSIBILITY_DELETES);
    int g = p->f.ngroups;
    if (g >= AUTHZ_MAX_GROUPS) return;
    int n = 0;
    for (int i = 0; i < r->nsecurable && n < AUTHZ_MAX_REQS; i++) {
        const msecurable *s = &r->securable[i];
        store_view v;
        if (s->kind == MSEC_EDORG && edorgs) v = inverted ? SV_EDORG_INVERTED : SV_EDORG;
        else if (s->kind == MSEC_STUDENT && students) v = responsibility ? SV_STUDENT_RESPONSIBILITY : SV_STUDENT;
        else if (s->kind == MSEC_STAFF && people) v = SV_STAFF;
        else if (s->kind == MSEC_CONTACT && people) v = SV_CONTACT;
        else continue;
        if (s->path.nseg < 1) continue;
        bool array = false;
        for (int k = 0; k < s->path.nseg; k++) array |= s->path.seg[k].array;
        if (array) continue; /* subjects are identity properties: never inside a collection */
        p->reqs[g][n] = (store_authz_req){.view = v, .including_deletes = deletes, .json_path = s->path.text,
                                          .stored = i == first_of(r, false) ? SUBJ_EDORG
                                                    : i == first_of(r, true) ? SUBJ_PERSON
                                                                             : SUBJ_NONE};
        p->names[g][n] = s->kind == MSEC_EDORG ? (s->meta_name ? s->meta_name : "EducationOrganizationId")
                                                 : person_name(s->kind);
        n++;
    }
    if (!n) {
        /* A relationship strategy with nothing to check would grant all: refuse. */
        refuse(p, 500, T_CONFIG, "The resource has no property that the authorization strategy can use.", NULL);
        log_error("authz: %s: strategy %s has no securable element to check", r->endpoint, claims_strategy_name(bit));
        return;
    }
    p->groups[g] = (store_authz_group){.n = n, .reqs = p->reqs[g]};
    p->f.ngroups++;
}

void authz_plan_for(authz_plan *p, const claims *cl, const auth_client *c, const mresource *r, sec_action act,
                    arena *a)
{
    memset(p, 0, sizeof *p);
    p->r = r;
    p->client = c;
    p->f.groups = p->groups;
    int claim = cl ? claims_resource_claim(cl, r->project_endpoint, r->name) : -1;
    if (!cl || claim < 0) {
        refuse(p, 500, T_CONFIG, "No security metadata has been configured for this resource.", NULL);
        return;
    }
    uint32_t st = 0;
    claims_decision d = c->claim_set < 0 ? DECIDE_NO_RESOURCE : claims_decide(cl, c->claim_set, claim, act, &st);
    const char *set = c->claim_set_name && *c->claim_set_name ? c->claim_set_name : "(none)";
    switch (d) {
    case DECIDE_GRANTED: break;
    case DECIDE_NO_RESOURCE:
        refuse(p, 403, T_AUTHZ ":access-denied:resource",
               NOT_AUTHORIZED " You do not have permissions to access this data.",
               arena_printf(a,
                            "The API client's assigned claim set (currently '%s') must include one of the following "
                            "resource claims to provide access to this resource: '%s'.",
                            set, claim_uri(a, r)));
        return;
    case DECIDE_NO_ACTION:
        refuse(p, 403, T_AUTHZ ":access-denied:action",
               NOT_AUTHORIZED " You do not have permissions to perform the requested operation on the data.",
               arena_printf(a,
                            "The API client's assigned claim set (currently '%s') must grant permission of the '%s' "
                            "action on one of the following resource claims: '%s'.",
                            set, claims_action_name(act), claim_uri(a, r)));
        return;
    case DECIDE_NO_METADATA:
        refuse(p, 500, T_CONFIG, "No security metadata has been configured for this resource.", NULL);
        return;
    case DECIDE_NO_STRATEGY:
        refuse(p, 500, T_CONFIG,
               arena_printf(a, "No authorization strategies were defined for the requested action '%s' against resource "
                               "URIs ['%s'] matched by the caller's claim '%s'.",
                            claims_action_name(act), claim_uri(a, r), set),
               NULL);
        return;
    }
    p->strategies = st;
    const char **ids = arena_alloc(a, sizeof(char *) * ((size_t)c->nedorgs + 1));
    for (int i = 0; i < c->nedorgs; i++) ids[i] = arena_printf(a, "%lld", (long long)c->edorgs[i]);
    p->f.claims = ids;
    p->f.nclaims = c->nedorgs;
    if (st & ST_NAMESPACE) {
        for (int i = 0; i < r->nsecurable && !p->f.ns_path; i++)
            if (r->securable[i].kind == MSEC_NAMESPACE) p->f.ns_path = r->securable[i].path.text;
        if (!p->f.ns_path) {
            refuse(p, 500, T_CONFIG, "The resource has no 'Namespace' property for the NamespaceBased strategy.", NULL);
            return;
        }
        p->f.ns_prefixes = (const char *const *)c->namespaces;
        p->f.nns = c->nnamespaces;
        if (!c->nnamespaces) {
            refuse(p, 403, T_AUTHZ ":namespace:invalid-client:no-namespaces",
                   NOT_AUTHORIZED " The API client has been given permissions on a resource that uses the "
                                  "'NamespaceBased' authorization strategy but the client doesn't have any namespace "
                                  "prefixes assigned.",
                   NULL);
            return;
        }
    }
    if (st & ST_OWNERSHIP) p->f.owner = c->key;
    uint32_t rel = st & ~(ST_AND_MASK | ST_NO_FURTHER);
    p->f.open = (st & ST_NO_FURTHER) || !rel;
    if (p->f.open) return;
    if (!c->nedorgs) {
        refuse(p, 403, T_AUTHZ ":relationships:invalid-client:no-edorgs",
               NOT_AUTHORIZED " The API client has been given permissions on a resource that uses a relationship-based "
                              "authorization strategy but the client doesn't have any education organizations assigned.",
               NULL);
        return;
    }
    for (uint32_t bit = 1; bit && !p->status; bit <<= 1)
        if (rel & bit) add_group(p, bit);
}

/* ---- checking one document ---- */

/* The canonical text of the scalar at a dotted path ("$.a.b"), or NULL. */
static const char *text_at(arena *a, json_object *doc, const char *path)
{
    json_object *cur = jsonx_at(doc, path);
    if (!cur) return NULL;
    switch (json_object_get_type(cur)) {
    case json_type_int: return arena_printf(a, "%lld", (long long)json_object_get_int64(cur));
    case json_type_string: return arena_strdup(a, json_object_get_string(cur));
    default: return NULL;
    }
}

static void deny(authz_denial *d, const char *type, const char *detail, const char *error)
{
    d->status = 403;
    d->type = type;
    d->title = DENIED_TITLE;
    d->detail = detail;
    d->error = error;
}

static bool starts_with_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static err_t reach(const authz_reach *via, const store_authz_req *q, const char *value, const store_authz *f, bool *ok)
{
    return via->t ? txn_reachable(via->t, q->view, q->including_deletes, value, f->claims, f->nclaims, ok)
                  : store_reachable(via->s, q->view, q->including_deletes, value, f->claims, f->nclaims, ok);
}

static const char *claims_text(arena *a, const store_authz *f)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < f->nclaims && i < 5; i++) buf_printf(&b, "%s%s", i ? ", " : "", f->claims[i]);
    if (f->nclaims > 5) buf_puts(&b, ", ...");
    const char *t = arena_strdup(a, b.data ? b.data : "");
    buf_free(&b);
    return t;
}

/* The 403 of a failed relationship check, with ODS's wording and hint. */
static void relationship_denial(const authz_plan *p, arena *a, authz_denial *d)
{
    const char *names[AUTHZ_MAX_GROUPS * AUTHZ_MAX_REQS];
    int n = 0;
    bool student = false, staff = false, contact = false;
    for (int g = 0; g < p->f.ngroups; g++)
        for (int i = 0; i < p->groups[g].n; i++) {
            bool seen = false;
            for (int k = 0; k < n; k++) seen |= !strcmp(names[k], p->names[g][i]);
            if (!seen) names[n++] = p->names[g][i];
            store_view v = p->reqs[g][i].view;
            student |= v == SV_STUDENT || v == SV_STUDENT_RESPONSIBILITY;
            staff |= v == SV_STAFF;
            contact |= v == SV_CONTACT;
        }
    buf b;
    buf_init(&b, 0);
    buf_printf(&b, "No relationships have been established between the caller's education organization id claim(s) (%s) and ",
               claims_text(a, &p->f));
    if (n == 1) buf_printf(&b, "the resource item's '%s' value.", names[0]);
    else {
        buf_puts(&b, "one or more of the following properties of the resource item: ");
        for (int k = 0; k < n; k++) buf_printf(&b, "%s'%s'", k ? ", " : "", names[k]);
        buf_putc(&b, '.');
    }
    const char *error = arena_strdup(a, b.data);
    buf_free(&b);
    const char *hint = student ? " Hint: You may need to create a corresponding 'StudentSchoolAssociation' item."
                       : staff ? " Hint: You may need to create corresponding 'StaffEducationOrganizationEmploymentAssociation' "
                                 "or 'StaffEducationOrganizationAssignmentAssociation' items."
                       : contact ? " Hint: You may need to create a corresponding 'StudentContactAssociation' item."
                                 : "";
    deny(d, T_AUTHZ, arena_printf(a, NOT_AUTHORIZED "%s", hint), error);
}

err_t authz_check(const authz_plan *p, json_object *doc, bool existing, const char *owner, const authz_reach *via,
                  arena *a, authz_denial *d)
{
    memset(d, 0, sizeof *d);
    const store_authz *f = &p->f;
    /* Ownership applies to stored items: a new one becomes the caller's. */
    if (f->owner && existing) {
        if (!owner || !*owner) {
            deny(d, T_AUTHZ ":ownership:invalid-data:ownership-uninitialized",
                 NOT_AUTHORIZED " The item has no owner.", NULL);
            return ERR_OK;
        }
        if (strcmp(owner, f->owner)) {
            deny(d, T_AUTHZ ":ownership:access-denied:ownership-mismatch", NOT_AUTHORIZED " The item is not owned by the caller.",
                 NULL);
            return ERR_OK;
        }
    }
    if (f->ns_path) {
        const char *ns = text_at(a, doc, f->ns_path);
        if (!ns) {
            deny(d, existing ? T_AUTHZ ":namespace:invalid-data:namespace-uninitialized"
                             : T_AUTHZ ":namespace:access-denied:namespace-required",
                 NOT_AUTHORIZED " The 'Namespace' value of the data is empty.", NULL);
            return ERR_OK;
        }
        bool ok = false;
        for (int i = 0; i < f->nns && !ok; i++) ok = starts_with_nocase(ns, f->ns_prefixes[i]);
        if (!ok) {
            buf b;
            buf_init(&b, 0);
            for (int i = 0; i < f->nns; i++) buf_printf(&b, "%s'%s'", i ? ", " : "", f->ns_prefixes[i]);
            const char *detail = arena_printf(a,
                                              NOT_AUTHORIZED " The 'Namespace' value of the data does not start with any "
                                                             "of the caller's associated namespace prefixes (%s).",
                                              b.data ? b.data : "");
            buf_free(&b);
            deny(d, T_AUTHZ ":namespace:access-denied:namespace-mismatch", detail, NULL);
            return ERR_OK;
        }
    }
    if (f->open) return ERR_OK;
    const char *null_name = NULL;
    for (int g = 0; g < f->ngroups; g++) {
        bool all = true;
        for (int i = 0; i < p->groups[g].n && all; i++) {
            const store_authz_req *q = &p->reqs[g][i];
            const char *v = text_at(a, doc, q->json_path);
            if (!v) {
                if (q->view == SV_EDORG || q->view == SV_EDORG_INVERTED) null_name = p->names[g][i];
                all = false;
                break;
            }
            bool ok = false;
            err_t e = reach(via, q, v, f, &ok);
            if (e) return e;
            all = ok;
        }
        if (all) return ERR_OK;
    }
    if (null_name) {
        deny(d, existing ? T_AUTHZ ":relationships:invalid-data:element-uninitialized"
                         : T_AUTHZ ":relationships:access-denied:element-required",
             NOT_AUTHORIZED,
             arena_printf(a, "Access to the resource item could not be authorized because the '%s' of the resource is empty.",
                          null_name));
        return ERR_OK;
    }
    relationship_denial(p, a, d);
    return ERR_OK;
}

err_t authz_check_stored(const authz_plan *p, const store_doc *sd, const authz_reach *via, arena *a, authz_denial *d)
{
    memset(d, 0, sizeof *d);
    if (p->f.open && !p->f.ns_path && !p->f.owner) return ERR_OK; /* nothing to look at: skip the parse */
    json_object *doc = json_tokener_parse(sd->body);
    if (!doc) return ERR_STORAGE;
    err_t e = authz_check(p, doc, true, sd->owner, via, a, d);
    json_object_put(doc);
    return e;
}

void authz_subjects(const mresource *r, json_object *doc, arena *a, const char **edorg, const char **person)
{
    int e = first_of(r, false), p = first_of(r, true);
    *edorg = e >= 0 ? text_at(a, doc, r->securable[e].path.text) : NULL;
    *person = p >= 0 ? text_at(a, doc, r->securable[p].path.text) : NULL;
}

const char *authz_subjects_json(const mresource *r, json_object *doc, arena *a)
{
    json_object *keep = json_object_new_object();
    for (int i = 0; i < r->nsecurable; i++) {
        const mpath *p = &r->securable[i].path;
        bool array = false;
        for (int k = 0; k < p->nseg; k++) array |= p->seg[k].array;
        json_object *v = array ? NULL : jsonx_at(doc, p->text); /* as add_group: never inside a collection */
        if (v) jsonx_set_at(keep, p->text, json_object_get(v));
    }
    const char *out = json_object_object_length(keep) ? arena_strdup(a, jsonx_text(keep)) : NULL;
    json_object_put(keep);
    return out;
}

/* ---- the relationship index ---- */

/* The documents that establish person relationships (the ODS auth views). */
static const struct {
    const char *resource;
    store_rel kind;
    const char *person, *other;
} rel_sources[] = {
    {"StudentSchoolAssociation", REL_STUDENT_SCHOOL, "$.studentReference.studentUniqueId", "$.schoolReference.schoolId"},
    {"StudentEducationOrganizationResponsibilityAssociation", REL_STUDENT_RESPONSIBILITY,
     "$.studentReference.studentUniqueId", "$.educationOrganizationReference.educationOrganizationId"},
    {"StaffEducationOrganizationAssignmentAssociation", REL_STAFF, "$.staffReference.staffUniqueId",
     "$.educationOrganizationReference.educationOrganizationId"},
    {"StaffEducationOrganizationEmploymentAssociation", REL_STAFF, "$.staffReference.staffUniqueId",
     "$.educationOrganizationReference.educationOrganizationId"},
    {"StudentContactAssociation", REL_CONTACT_STUDENT, "$.contactReference.contactUniqueId",
     "$.studentReference.studentUniqueId"},
};

bool authz_indexes(const mresource *r)
{
    if (r->is_edorg) return true;
    for (size_t i = 0; i < sizeof rel_sources / sizeof rel_sources[0]; i++)
        if (!strcmp(r->project_endpoint, "ed-fi") && !strcmp(r->name, rel_sources[i].resource)) return true;
    return false;
}

err_t authz_index(store_txn *t, const mresource *r, int64_t doc_id, json_object *doc, bool existed, bool gone, arena *a)
{
    if (r->is_edorg && r->nidentity >= 1) {
        const char *id = doc ? text_at(a, doc, r->identity[0].text) : NULL;
        if (!id) return ERR_OK;
        const char *parents[16];
        int n = 0;
        for (int i = 0; i < r->nparents && n < 16 && !gone; i++) {
            const char *v = text_at(a, doc, r->parents[i].path.text);
            if (v) parents[n++] = v;
        }
        return txn_edorg_parents(t, id, parents, gone ? -1 : n);
    }
    if (strcmp(r->project_endpoint, "ed-fi")) return ERR_OK;
    for (size_t i = 0; i < sizeof rel_sources / sizeof rel_sources[0]; i++) {
        if (strcmp(r->name, rel_sources[i].resource)) continue;
        err_t e = existed ? txn_rel_retire(t, doc_id) : ERR_OK;
        if (e || gone || !doc) return e;
        const char *person = text_at(a, doc, rel_sources[i].person), *other = text_at(a, doc, rel_sources[i].other);
        return person && other ? txn_rel_put(t, doc_id, rel_sources[i].kind, person, other) : ERR_OK;
    }
    return ERR_OK;
}
