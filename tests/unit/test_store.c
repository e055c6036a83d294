/* Unit tests for src/store/store_sqlite.c: writer jobs (insert, identity
 * lookup, update, delete, referrers), group commit with per-job rollback,
 * and the reader queries. Each test gets a fresh database under /tmp. */
#include "base/arena.h"
#include "base/uuid.h"
#include "store/store.h"
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "leak.h"
#include "testdb.h"

static char dir[64];
static char path[256];
static store *S;
static arena A;

static void open_store(void)
{
    char err[256] = "";
    store_opts o = {.readers = 2, .max_batch = 64};
    cr_assert_eq(store_open(path, &o, &S, err, sizeof err), ERR_OK, "store_open: %s", err);
}

static void setup(void)
{
    testdb_location(dir, sizeof dir, path, sizeof path);
    arena_init(&A, 0);
    open_store();
}

static void teardown(void)
{
    store_close(S);
    arena_free(&A);
    testdb_remove(dir, path);
    unit_leak_check();
}

TestSuite(store, .init = setup, .fini = teardown);

/* Deterministic referential ids for the tests. */
static uuid_t16 rid(const char *name)
{
    uuid_t16 u;
    uuid_v5(uuid_edfi_namespace(), name, strlen(name), &u);
    return u;
}

/* ---- jobs ---- */

typedef struct ins {
    store_put p;
    store_doc out;
    err_t e;
} ins;

static err_t insert_job(store_txn *t, void *ctx)
{
    ins *x = ctx;
    x->e = txn_insert(t, &x->p, &x->out);
    return x->e;
}

static ins put(const char *resource, const uuid_t16 *refid, const uuid_t16 *alias, const char *body)
{
    ins x;
    memset(&x, 0, sizeof x);
    x.p.resource = resource;
    x.p.refid = refid;
    x.p.alias = alias;
    x.p.body = body;
    x.p.key_values = "{}";
    x.p.owner = "unit";
    return x;
}

/* Inserts through store_run and returns the stored doc. */
static store_doc insert_ok(const char *resource, const uuid_t16 *refid, const uuid_t16 *alias, const char *body,
                           const uuid_t16 *refs, int nrefs)
{
    ins x = put(resource, refid, alias, body);
    x.p.refs = refs;
    x.p.nrefs = nrefs;
    cr_assert_eq(store_run(S, insert_job, &x), ERR_OK);
    cr_assert_eq(x.e, ERR_OK);
    return x.out;
}

typedef struct find {
    uuid_t16 refid;
    store_hit hit;
    err_t e;
} find;

static err_t find_job(store_txn *t, void *ctx)
{
    find *f = ctx;
    f->e = txn_find_identity(t, &f->refid, &A, &f->hit);
    return ERR_OK;
}

static err_t find_refid(const uuid_t16 *refid, store_hit *hit)
{
    find f = {.refid = *refid};
    cr_assert_eq(store_run(S, find_job, &f), ERR_OK);
    if (hit) *hit = f.hit;
    return f.e;
}

typedef struct referrers {
    uuid_t16 refid;
    int max;
    store_hit *ids;
    int n;
    err_t e;
} referrers;

static err_t referrers_job(store_txn *t, void *ctx)
{
    referrers *r = ctx;
    r->e = txn_referrers(t, &r->refid, &A, r->max, &r->ids, &r->n);
    return r->e;
}

static int count_referrers(const uuid_t16 *refid, int max, int64_t *first)
{
    referrers r = {.refid = *refid, .max = max};
    cr_assert_eq(store_run(S, referrers_job, &r), ERR_OK);
    if (first && r.n) *first = r.ids[0].doc_id;
    return r.n;
}

typedef struct upd {
    int64_t doc_id;
    store_put p;
    const store_prior *prior;
    store_doc out;
    err_t e;
} upd;

static err_t update_job(store_txn *t, void *ctx)
{
    upd *u = ctx;
    store_doc old;
    err_t e = txn_get(t, u->p.resource, u->doc_id, &A, &old);
    if (e) return u->e = e;
    return u->e = txn_update(t, &old, &u->p, u->prior, &u->out);
}

typedef struct del {
    int64_t doc_id;
    const char *resource;
    const store_prior *prior; /* NULL: a plain one */
    err_t e;
} del;

static err_t delete_job(store_txn *t, void *ctx)
{
    del *d = ctx;
    store_doc old;
    err_t e = txn_get(t, d->resource, d->doc_id, &A, &old);
    if (e) return d->e = e;
    store_prior plain = {.key_values = "{\"k\":1}", .refid = &old.refid};
    return d->e = txn_delete(t, &old, d->prior ? d->prior : &plain);
}

/* Collects query rows. */
typedef struct rows {
    int n;
    int64_t ids[64];
    char bodies[64][64];
    int stop_after;
} rows;

static bool collect(void *ctx, const store_doc *d)
{
    rows *r = ctx;
    r->ids[r->n] = d->doc_id;
    snprintf(r->bodies[r->n], sizeof r->bodies[r->n], "%s", d->body);
    r->n++;
    return !(r->stop_after && r->n >= r->stop_after);
}

/* ---- tests ---- */

Test(store, insert_then_find_identity_and_alias)
{
    uuid_t16 r1 = rid("school-1"), a1 = rid("edorg-1");
    store_doc d = insert_ok("ed-fi/schools", &r1, &a1, "{\"schoolId\":1}", NULL, 0);
    cr_assert_gt(d.doc_id, 0);
    cr_assert_gt(d.etag, 0);
    uuid_t16 parsed;
    cr_assert(uuid_parse(d.id, &parsed), "id '%s' is a UUID", d.id);
    cr_assert_eq(parsed.b[6] >> 4, 7, "public ids are time-ordered v7 (their index grows at its end)");
    cr_assert_eq(strlen(d.last_modified), 20);
    cr_assert_eq(d.last_modified[19], 'Z');

    store_hit h;
    cr_assert_eq(find_refid(&r1, &h), ERR_OK);
    cr_assert_eq(h.doc_id, d.doc_id);
    cr_assert_str_eq(h.id, d.id);
    cr_assert_str_eq(h.resource, "ed-fi/schools");
    cr_assert_eq(find_refid(&a1, &h), ERR_OK, "the alias answers too");
    cr_assert_eq(h.doc_id, d.doc_id);
    uuid_t16 other = rid("nobody");
    cr_assert_eq(find_refid(&other, NULL), ERR_NOT_FOUND);
}

Test(store, duplicate_refid_or_alias_conflicts)
{
    uuid_t16 r1 = rid("school-1"), a1 = rid("edorg-1"), r2 = rid("lea-1");
    store_doc first = insert_ok("ed-fi/schools", &r1, &a1, "{\"schoolId\":1}", NULL, 0);
    ins dup = put("ed-fi/schools", &r1, NULL, "{\"schoolId\":1,\"x\":2}");
    cr_assert_eq(store_run(S, insert_job, &dup), ERR_IDENTITY_CONFLICT);
    /* another resource whose superclass identity collides */
    ins lea = put("ed-fi/localEducationAgencies", &r2, &a1, "{\"localEducationAgencyId\":1}");
    cr_assert_eq(store_run(S, insert_job, &lea), ERR_IDENTITY_CONFLICT);
    /* both failed jobs were rolled back: one school document remains and the
     * LEA's own refid was not kept */
    store_query q = {.resource = "ed-fi/schools", .limit = 10, .count = true};
    rows r = {0};
    int64_t total = -1;
    cr_assert_eq(store_query_docs(S, &q, collect, &r, &total, NULL), ERR_OK);
    cr_assert_eq(total, 1);
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.ids[0], first.doc_id);
    cr_assert_str_eq(r.bodies[0], "{\"schoolId\":1}");
    cr_assert_eq(find_refid(&r2, NULL), ERR_NOT_FOUND);
    q.resource = "ed-fi/localEducationAgencies";
    cr_assert_eq(store_query_docs(S, &q, collect, &r, &total, NULL), ERR_OK);
    cr_assert_eq(total, 0);
}

typedef struct findn {
    uuid_t16 ids[4];
    store_hit hits[4];
    bool found[4];
} findn;

static err_t findn_job(store_txn *t, void *ctx)
{
    findn *f = ctx;
    return txn_find_identities(t, 4, f->ids, &A, f->hits, f->found);
}

Test(store, find_identities_in_one_call)
{
    uuid_t16 a = rid("fi-a"), b = rid("fi-b"), alias = rid("fi-alias");
    store_doc da = insert_ok("ed-fi/schools", &a, &alias, "{}", NULL, 0);
    store_doc db = insert_ok("ed-fi/students", &b, NULL, "{}", NULL, 0);
    findn f = {.ids = {a, rid("fi-missing"), alias, b}};
    memset(f.found, 1, sizeof f.found);
    cr_assert_eq(store_run(S, findn_job, &f), ERR_OK);
    cr_assert(f.found[0] && !f.found[1] && f.found[2] && f.found[3]);
    cr_assert_eq(f.hits[0].doc_id, da.doc_id);
    cr_assert_str_eq(f.hits[0].id, da.id);
    cr_assert_str_eq(f.hits[0].resource, "ed-fi/schools");
    cr_assert_eq(f.hits[2].doc_id, da.doc_id, "an alias finds its document");
    cr_assert_eq(f.hits[3].doc_id, db.doc_id);
    cr_assert_str_eq(f.hits[3].resource, "ed-fi/students");
}

Test(store, get_by_id)
{
    uuid_t16 r1 = rid("student-1"), ref = rid("descriptor-1"), ref2 = rid("school-9");
    uuid_t16 refs[2] = {ref, ref2};
    store_doc d = insert_ok("ed-fi/students", &r1, NULL, "{\"studentUniqueId\":\"1\"}", refs, 2);
    store_doc g;
    cr_assert_eq(store_get_by_id(S, "ed-fi/students", d.id, &A, &g), ERR_OK);
    cr_assert_eq(g.doc_id, d.doc_id);
    cr_assert_str_eq(g.id, d.id);
    cr_assert_str_eq(g.resource, "ed-fi/students");
    cr_assert_str_eq(g.body, "{\"studentUniqueId\":\"1\"}");
    cr_assert_eq(g.etag, d.etag);
    cr_assert_str_eq(g.last_modified, d.last_modified);
    cr_assert_eq(memcmp(g.refid.b, r1.b, 16), 0);
    cr_assert_eq(g.nrefs, 2);
    cr_assert_eq(memcmp(g.refs, ref.b, 16), 0);
    cr_assert_eq(memcmp(g.refs + 16, ref2.b, 16), 0);
    cr_assert_eq(store_get_by_id(S, "ed-fi/schools", d.id, &A, &g), ERR_NOT_FOUND, "id of another resource");
    cr_assert_eq(store_get_by_id(S, "ed-fi/students", "00000000-0000-4000-8000-000000000000", &A, &g), ERR_NOT_FOUND);
}

Test(store, query_limit_offset_count_and_last)
{
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char name[32], body[32];
        snprintf(name, sizeof name, "s-%d", i);
        snprintf(body, sizeof body, "{\"n\":%d}", i);
        uuid_t16 r = rid(name);
        ids[i] = insert_ok("ed-fi/students", &r, NULL, body, NULL, 0).doc_id;
    }
    uuid_t16 other = rid("other");
    insert_ok("ed-fi/schools", &other, NULL, "{\"n\":99}", NULL, 0);

    store_query q = {.resource = "ed-fi/students", .limit = 2, .offset = 1, .count = true};
    rows r = {0};
    int64_t total = -1, last = -1;
    cr_assert_eq(store_query_docs(S, &q, collect, &r, &total, &last), ERR_OK);
    cr_assert_eq(total, 5);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(r.ids[0], ids[1]);
    cr_assert_eq(r.ids[1], ids[2]);
    cr_assert_str_eq(r.bodies[0], "{\"n\":1}");
    cr_assert_eq(last, ids[2]);

    /* offset past the end: nothing, last = 0 */
    q.offset = 10;
    memset(&r, 0, sizeof r);
    cr_assert_eq(store_query_docs(S, &q, collect, &r, &total, &last), ERR_OK);
    cr_assert_eq(r.n, 0);
    cr_assert_eq(last, 0);
    cr_assert_eq(total, 5);

    /* limit 0 */
    q.offset = 0;
    q.limit = 0;
    cr_assert_eq(store_query_docs(S, &q, collect, &r, &total, &last), ERR_OK);
    cr_assert_eq(r.n, 0);

    /* count not asked: total untouched */
    q.limit = 500;
    q.count = false;
    total = -7;
    cr_assert_eq(store_query_docs(S, &q, collect, &r, &total, NULL), ERR_OK);
    cr_assert_eq(total, -7);
    cr_assert_eq(r.n, 5);

    /* the callback stops the iteration */
    memset(&r, 0, sizeof r);
    r.stop_after = 3;
    cr_assert_eq(store_query_docs(S, &q, collect, &r, NULL, &last), ERR_OK);
    cr_assert_eq(r.n, 3);
    cr_assert_eq(last, ids[2]);
}

Test(store, query_cursor_bounds)
{
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "c-%d", i);
        uuid_t16 r = rid(name);
        ids[i] = insert_ok("ed-fi/students", &r, NULL, "{}", NULL, 0).doc_id;
    }
    store_query q = {.resource = "ed-fi/students", .limit = 500, .after = ids[1], .upto = ids[4]};
    rows r = {0};
    cr_assert_eq(store_query_docs(S, &q, collect, &r, NULL, NULL), ERR_OK);
    cr_assert_eq(r.n, 3, "(after, upto] holds 3 documents");
    cr_assert_eq(r.ids[0], ids[2]);
    cr_assert_eq(r.ids[2], ids[4]);
    /* upto = 0: no upper bound */
    q.upto = 0;
    memset(&r, 0, sizeof r);
    cr_assert_eq(store_query_docs(S, &q, collect, &r, NULL, NULL), ERR_OK);
    cr_assert_eq(r.n, 4);
    cr_assert_eq(r.ids[3], ids[5]);
    /* with a limit: next page starts after the last id */
    q.limit = 2;
    memset(&r, 0, sizeof r);
    int64_t last = 0;
    cr_assert_eq(store_query_docs(S, &q, collect, &r, NULL, &last), ERR_OK);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(last, ids[3]);
    q.after = last;
    memset(&r, 0, sizeof r);
    cr_assert_eq(store_query_docs(S, &q, collect, &r, NULL, &last), ERR_OK);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(r.ids[0], ids[4]);
    cr_assert_eq(last, ids[5]);
}

Test(store, query_filters)
{
    const char *bodies[] = {
        "{\"name\":\"Ann\",\"n\":1,\"flag\":true,\"d\":\"uri://x/D#One\",\"ref\":{\"schoolId\":255901}}",
        "{\"name\":\"Bob\",\"n\":2,\"flag\":false,\"d\":\"uri://x/D#Two\",\"ref\":{\"schoolId\":255902}}",
        "{\"name\":\"ann\",\"n\":2.5,\"flag\":true,\"d\":\"URI://X/D#ONE\",\"ref\":{\"schoolId\":255901}}",
    };
    store_doc docs[3];
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "f-%d", i);
        uuid_t16 r = rid(name);
        docs[i] = insert_ok("ed-fi/things", &r, NULL, bodies[i], NULL, 0);
    }
    store_filter f[2];
    store_query q = {.resource = "ed-fi/things", .limit = 500, .filters = f, .nfilters = 1, .count = true};
    rows r;
    int64_t total;
#define RUN()                                                                      \
    do {                                                                           \
        memset(&r, 0, sizeof r);                                                   \
        cr_assert_eq(store_query_docs(S, &q, collect, &r, &total, NULL), ERR_OK);  \
        cr_assert_eq(total, r.n);                                                  \
    } while (0)

    f[0] = (store_filter){.json_path = "$.name", .kind = SF_TEXT, .text = "Ann"};
    RUN();
    cr_assert_eq(r.n, 1, "text match is case-sensitive");
    cr_assert_eq(r.ids[0], docs[0].doc_id);

    f[0] = (store_filter){.json_path = "$.d", .kind = SF_TEXT_NOCASE, .text = "uri://x/d#one"};
    RUN();
    cr_assert_eq(r.n, 2, "descriptor match ignores case");

    f[0] = (store_filter){.json_path = "$.n", .kind = SF_NUMBER, .number = 2};
    RUN();
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.ids[0], docs[1].doc_id);
    f[0].number = 2.5;
    RUN();
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.ids[0], docs[2].doc_id);

    f[0] = (store_filter){.json_path = "$.flag", .kind = SF_BOOL, .boolean = true};
    RUN();
    cr_assert_eq(r.n, 2);
    f[0].boolean = false;
    RUN();
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.ids[0], docs[1].doc_id);

    f[0] = (store_filter){.json_path = "$.ref.schoolId", .kind = SF_NUMBER, .number = 255901};
    f[1] = (store_filter){.json_path = "$.flag", .kind = SF_BOOL, .boolean = true};
    q.nfilters = 2;
    RUN();
    cr_assert_eq(r.n, 2, "filters are ANDed");
    f[1] = (store_filter){.json_path = "$.name", .kind = SF_TEXT, .text = "ann"};
    RUN();
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.ids[0], docs[2].doc_id);

    char upper[37];
    snprintf(upper, sizeof upper, "%s", docs[1].id);
    for (char *c = upper; *c; c++) *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
    f[0] = (store_filter){.json_path = "$.id", .kind = SF_ID, .text = upper};
    q.nfilters = 1;
    RUN();
    cr_assert_eq(r.n, 1);
    cr_assert_eq(r.ids[0], docs[1].doc_id);
#undef RUN
}

Test(store, update_changes_body_identity_and_refs)
{
    uuid_t16 r1 = rid("ssa-old"), r2 = rid("ssa-new"), refa = rid("target-a"), refb = rid("target-b");
    store_doc d = insert_ok("ed-fi/studentSchoolAssociations", &r1, NULL, "{\"v\":1}", &refa, 1);
    cr_assert_eq(count_referrers(&refa, 10, NULL), 1);

    store_prior was = {.key_values = "{\"k\":\"old\"}", .refid = &r1};
    upd u = {.doc_id = d.doc_id, .prior = &was};
    u.p = put("ed-fi/studentSchoolAssociations", &r2, NULL, "{\"v\":2}").p;
    u.p.refs = &refb;
    u.p.nrefs = 1;
    u.p.key_values = "{\"k\":\"new\"}";
    cr_assert_eq(store_run(S, update_job, &u), ERR_OK);
    cr_assert_gt(u.out.etag, d.etag, "etag moves forward");
    cr_assert_str_eq(u.out.id, d.id, "the public id is stable");
    cr_assert_eq(u.out.doc_id, d.doc_id);

    store_doc g;
    cr_assert_eq(store_get_by_id(S, "ed-fi/studentSchoolAssociations", d.id, &A, &g), ERR_OK);
    cr_assert_str_eq(g.body, "{\"v\":2}");
    cr_assert_eq(g.etag, u.out.etag);
    cr_assert_eq(memcmp(g.refid.b, r2.b, 16), 0);
    cr_assert_eq(g.nrefs, 1);
    cr_assert_eq(memcmp(g.refs, refb.b, 16), 0);

    cr_assert_eq(find_refid(&r1, NULL), ERR_NOT_FOUND, "old identity released");
    store_hit h;
    cr_assert_eq(find_refid(&r2, &h), ERR_OK);
    cr_assert_eq(h.doc_id, d.doc_id);
    cr_assert_eq(count_referrers(&refa, 10, NULL), 0);
    cr_assert_eq(count_referrers(&refb, 10, NULL), 1);
}

Test(store, update_into_taken_identity_conflicts)
{
    uuid_t16 r1 = rid("cp-1"), r2 = rid("cp-2");
    store_doc d1 = insert_ok("ed-fi/classPeriods", &r1, NULL, "{\"v\":1}", NULL, 0);
    insert_ok("ed-fi/classPeriods", &r2, NULL, "{\"v\":2}", NULL, 0);
    upd u = {.doc_id = d1.doc_id};
    u.p = put("ed-fi/classPeriods", &r2, NULL, "{\"v\":3}").p;
    cr_assert_eq(store_run(S, update_job, &u), ERR_IDENTITY_CONFLICT);
    store_doc g;
    cr_assert_eq(store_get_by_id(S, "ed-fi/classPeriods", d1.id, &A, &g), ERR_OK);
    cr_assert_str_eq(g.body, "{\"v\":1}", "the failed update was rolled back");
    cr_assert_eq(g.etag, d1.etag);
    store_hit h;
    cr_assert_eq(find_refid(&r1, &h), ERR_OK, "old identity still held");
    cr_assert_eq(h.doc_id, d1.doc_id);
}

/* BUG (src/store/store_sqlite.c txn_update): when the update carries a new
 * superclass alias (store_put.alias), only the documents.alias_id column is
 * rewritten; the identities table keeps the old alias row and gets no row
 * for the new one. After the update the new alias is not found (references
 * through the abstract resource fail to resolve) and the old alias still
 * resolves to the document. Expected: old alias ERR_NOT_FOUND, new alias
 * found. Disabled until fixed. */
Test(store, update_moves_alias_identity)
{
    uuid_t16 r1 = rid("spa-1"), a1 = rid("gspa-1"), r2 = rid("spa-2"), a2 = rid("gspa-2");
    store_doc d = insert_ok("ed-fi/studentProgramAssociations", &r1, &a1, "{\"v\":1}", NULL, 0);
    upd u = {.doc_id = d.doc_id};
    u.p = put("ed-fi/studentProgramAssociations", &r2, &a2, "{\"v\":2}").p;
    cr_assert_eq(store_run(S, update_job, &u), ERR_OK);
    cr_assert_eq(find_refid(&a1, NULL), ERR_NOT_FOUND);
    cr_assert_eq(find_refid(&a2, NULL), ERR_OK);
}

Test(store, delete_then_not_found)
{
    uuid_t16 r1 = rid("school-d"), a1 = rid("edorg-d"), ref = rid("lea-d");
    store_doc d = insert_ok("ed-fi/schools", &r1, &a1, "{\"schoolId\":5}", &ref, 1);
    del x = {.doc_id = d.doc_id, .resource = "ed-fi/schools"};
    cr_assert_eq(store_run(S, delete_job, &x), ERR_OK);
    store_doc g;
    cr_assert_eq(store_get_by_id(S, "ed-fi/schools", d.id, &A, &g), ERR_NOT_FOUND);
    cr_assert_eq(find_refid(&r1, NULL), ERR_NOT_FOUND);
    cr_assert_eq(find_refid(&a1, NULL), ERR_NOT_FOUND, "the alias is released too");
    cr_assert_eq(count_referrers(&ref, 10, NULL), 0);
    /* deleting again: the document is gone */
    cr_assert_eq(store_run(S, delete_job, &x), ERR_NOT_FOUND);
    /* the same natural key can be created again, with a new id */
    store_doc again = insert_ok("ed-fi/schools", &r1, &a1, "{\"schoolId\":5}", NULL, 0);
    cr_assert_str_neq(again.id, d.id);
    cr_assert_gt(again.etag, d.etag);
}

Test(store, referrers)
{
    uuid_t16 target = rid("student-t"), other = rid("student-o");
    uuid_t16 both[2] = {target, other};
    uuid_t16 ra = rid("ssa-a"), rb = rid("ssa-b"), rc = rid("ssa-c");
    store_doc a = insert_ok("ed-fi/studentSchoolAssociations", &ra, NULL, "{}", &target, 1);
    store_doc b = insert_ok("ed-fi/studentSectionAssociations", &rb, NULL, "{}", both, 2);
    insert_ok("ed-fi/studentSchoolAssociations", &rc, NULL, "{}", &other, 1);
    referrers r = {.refid = target, .max = 10};
    cr_assert_eq(store_run(S, referrers_job, &r), ERR_OK);
    cr_assert_eq(r.n, 2);
    bool has_a = false, has_b = false;
    for (int i = 0; i < r.n; i++) {
        has_a |= r.ids[i].doc_id == a.doc_id;
        has_b |= r.ids[i].doc_id == b.doc_id;
    }
    cr_assert(has_a && has_b);
    cr_assert_eq(count_referrers(&target, 1, NULL), 1, "max caps the answer");
    cr_assert_eq(count_referrers(&other, 10, NULL), 2);
    uuid_t16 none = rid("nothing");
    cr_assert_eq(count_referrers(&none, 10, NULL), 0);
}

Test(store, duplicate_refs_in_put_are_harmless)
{
    uuid_t16 r = rid("dup-refs"), t = rid("dup-target");
    uuid_t16 refs[2] = {t, t};
    store_doc d = insert_ok("ed-fi/x", &r, NULL, "{}", refs, 2);
    int64_t first = 0;
    cr_assert_eq(count_referrers(&t, 10, &first), 1);
    cr_assert_eq(first, d.doc_id);
}

/* ---- group commit ---- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started, open;
    int done;
    err_t results[8];
    err_t blocker_result;
} gate;

static gate G = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 0, {0}, ERR_STORAGE};

static err_t blocker_job(store_txn *t, void *ctx)
{
    (void)t, (void)ctx;
    pthread_mutex_lock(&G.mu);
    G.started = true;
    pthread_cond_broadcast(&G.cv);
    while (!G.open) pthread_cond_wait(&G.cv, &G.mu);
    pthread_mutex_unlock(&G.mu);
    return ERR_OK;
}

typedef struct slot { int index; ins x; ins second; bool fail_after; } slot;

static void done_cb(void *ctx, err_t result)
{
    slot *s = ctx;
    pthread_mutex_lock(&G.mu);
    G.results[s->index] = result;
    G.done++;
    pthread_cond_broadcast(&G.cv);
    pthread_mutex_unlock(&G.mu);
}

static void blocker_done(void *ctx, err_t result)
{
    (void)ctx;
    pthread_mutex_lock(&G.mu);
    G.blocker_result = result; /* checked on the test thread */
    pthread_mutex_unlock(&G.mu);
}

/* Inserts x; then, if asked, inserts `second` too or fails on purpose. */
static err_t slot_job(store_txn *t, void *ctx)
{
    slot *s = ctx;
    err_t e = insert_job(t, &s->x);
    if (e) return e;
    if (s->second.p.refid) {
        if ((e = insert_job(t, &s->second))) return e;
    }
    return s->fail_after ? ERR_INVALID : ERR_OK;
}

Test(store, failing_job_rolls_back_alone_in_a_batch)
{
    uuid_t16 ra = rid("batch-a"), rb = rid("batch-b"), rc = rid("batch-c"), rd = rid("batch-d");
    /* Hold the writer in a first batch so that the next jobs queue up and
     * are committed together in one transaction. */
    cr_assert_eq(store_submit(S, blocker_job, blocker_done, NULL), ERR_OK);
    pthread_mutex_lock(&G.mu);
    while (!G.started) pthread_cond_wait(&G.cv, &G.mu);
    pthread_mutex_unlock(&G.mu);

    slot s[5];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 5; i++) s[i].index = i;
    s[0].x = put("ed-fi/t", &ra, NULL, "{\"a\":1}");          /* ok */
    s[1].x = put("ed-fi/t", &ra, NULL, "{\"a\":2}");          /* duplicate of job 0 */
    s[2].x = put("ed-fi/t", &rb, NULL, "{\"b\":1}");          /* ok */
    s[3].x = put("ed-fi/t", &rc, NULL, "{\"c\":1}");          /* inserts, then fails */
    s[3].fail_after = true;
    s[4].x = put("ed-fi/t", &rd, NULL, "{\"d\":1}");          /* two inserts, second conflicts */
    s[4].second = put("ed-fi/t", &rb, NULL, "{\"b\":2}");
    for (int i = 0; i < 5; i++) cr_assert_eq(store_submit(S, slot_job, done_cb, &s[i]), ERR_OK);

    pthread_mutex_lock(&G.mu);
    G.open = true;
    pthread_cond_broadcast(&G.cv);
    while (G.done < 5) pthread_cond_wait(&G.cv, &G.mu);
    pthread_mutex_unlock(&G.mu);

    cr_assert_eq(G.blocker_result, ERR_OK);
    cr_assert_eq(G.results[0], ERR_OK);
    cr_assert_eq(G.results[1], ERR_IDENTITY_CONFLICT);
    cr_assert_eq(G.results[2], ERR_OK);
    cr_assert_eq(G.results[3], ERR_INVALID);
    cr_assert_eq(G.results[4], ERR_IDENTITY_CONFLICT);

    store_hit h;
    cr_assert_eq(find_refid(&ra, &h), ERR_OK);
    cr_assert_eq(h.doc_id, s[0].x.out.doc_id);
    cr_assert_eq(find_refid(&rb, &h), ERR_OK);
    cr_assert_eq(h.doc_id, s[2].x.out.doc_id);
    cr_assert_eq(find_refid(&rc, NULL), ERR_NOT_FOUND, "the failed job's insert is undone");
    cr_assert_eq(find_refid(&rd, NULL), ERR_NOT_FOUND, "the whole failed job is undone");

    store_query q = {.resource = "ed-fi/t", .limit = 500};
    rows r = {0};
    cr_assert_eq(store_query_docs(S, &q, collect, &r, NULL, NULL), ERR_OK);
    cr_assert_eq(r.n, 2);
    cr_assert_str_eq(r.bodies[0], "{\"a\":1}");
    cr_assert_str_eq(r.bodies[1], "{\"b\":1}");
}

Test(store, durable_across_reopen_and_etags_keep_growing)
{
    uuid_t16 r1 = rid("persist-1"), r2 = rid("persist-2");
    store_doc d1 = insert_ok("ed-fi/p", &r1, NULL, "{\"p\":1}", NULL, 0);
    store_close(S);
    S = NULL;
    open_store();
    store_doc g;
    cr_assert_eq(store_get_by_id(S, "ed-fi/p", d1.id, &A, &g), ERR_OK);
    cr_assert_str_eq(g.body, "{\"p\":1}");
    store_doc d2 = insert_ok("ed-fi/p", &r2, NULL, "{\"p\":2}", NULL, 0);
    cr_assert_gt(d2.etag, d1.etag);
    cr_assert_gt(d2.doc_id, d1.doc_id);
}

Test(store, partitions)
{
    int64_t ids[10];
    for (int i = 0; i < 10; i++) {
        char name[16];
        snprintf(name, sizeof name, "part-%d", i);
        uuid_t16 r = rid(name);
        ids[i] = insert_ok("ed-fi/parts", &r, NULL, "{}", NULL, 0).doc_id;
    }
    int64_t bounds[64];
    int got = 0;
    cr_assert_eq(store_partitions(S, "ed-fi/parts", 3, bounds, &got), ERR_OK);
    cr_assert_eq(got, 3);
    cr_assert_eq(bounds[0], 0);
    cr_assert_eq(bounds[3], ids[9]);
    /* the ranges (bounds[i], bounds[i+1]] cover every document once */
    int covered = 0;
    for (int p = 0; p < got; p++) {
        store_query q = {.resource = "ed-fi/parts", .limit = 500, .after = bounds[p], .upto = bounds[p + 1]};
        rows r = {0};
        cr_assert_eq(store_query_docs(S, &q, collect, &r, NULL, NULL), ERR_OK);
        cr_assert_geq(r.n, 3);
        covered += r.n;
    }
    cr_assert_eq(covered, 10);
    cr_assert_eq(store_partitions(S, "ed-fi/none", 3, bounds, &got), ERR_OK);
    cr_assert_eq(got, 0);
    cr_assert_eq(store_partitions(S, "ed-fi/parts", 50, bounds, &got), ERR_OK);
    cr_assert_eq(got, 10, "never more ranges than documents");
}

/* ---- the relationship index ---- */

typedef struct relop {
    const char *edorg;          /* set: replace this edorg's parents */
    const char *parents[4];
    int nparents;
    int64_t doc;                /* set: a relationship (or, with retire, its end) */
    store_rel kind;
    const char *person, *other;
    bool retire;
} relop;

static err_t rel_job(store_txn *t, void *ctx)
{
    const relop *o = ctx;
    if (o->edorg) return txn_edorg_parents(t, o->edorg, o->parents, o->nparents);
    if (o->retire) return txn_rel_retire(t, o->doc);
    return txn_rel_put(t, o->doc, o->kind, o->person, o->other);
}

static void rel(relop o) { cr_assert_eq(store_run(S, rel_job, &o), ERR_OK); }

static bool reach(store_view v, bool deletes, const char *value, const char *claim)
{
    const char *claims[1] = {claim};
    bool ok = true;
    cr_assert_eq(store_reachable(S, v, deletes, value, claims, 1, &ok), ERR_OK);
    return ok;
}

/* SEA 1 > ESC 10 > LEA 100 > schools 1001, 1002; LEA 200 > school 2001. */
static void hierarchy(void)
{
    rel((relop){.edorg = "10", .parents = {"1"}, .nparents = 1});
    rel((relop){.edorg = "100", .parents = {"10", "1"}, .nparents = 2});
    rel((relop){.edorg = "200", .parents = {"1"}, .nparents = 1});
    rel((relop){.edorg = "1001", .parents = {"100"}, .nparents = 1});
    rel((relop){.edorg = "1002", .parents = {"100"}, .nparents = 1});
    rel((relop){.edorg = "2001", .parents = {"200"}, .nparents = 1});
}

Test(store, edorg_hierarchy_reaches_down_from_a_claim)
{
    hierarchy();
    cr_assert(reach(SV_EDORG, false, "1001", "100"), "a school of the claimed LEA");
    cr_assert(reach(SV_EDORG, false, "1001", "1"), "an SEA claim reaches every school");
    cr_assert(reach(SV_EDORG, false, "100", "100"), "the claim itself");
    cr_assert(reach(SV_EDORG, false, "999", "999"), "direct match without a document");
    cr_assert_not(reach(SV_EDORG, false, "2001", "100"), "a school of another LEA");
    cr_assert_not(reach(SV_EDORG, false, "100", "1001"), "not upwards");
    cr_assert(reach(SV_EDORG_INVERTED, false, "100", "1001"), "inverted: the LEA above a claimed school");
    cr_assert(reach(SV_EDORG_INVERTED, false, "1", "1001"), "inverted: the SEA");
    cr_assert_not(reach(SV_EDORG_INVERTED, false, "200", "1001"), "inverted: not a sibling LEA");
    /* a school moves to LEA 200: its access moves at once */
    rel((relop){.edorg = "1002", .parents = {"200"}, .nparents = 1});
    cr_assert_not(reach(SV_EDORG, false, "1002", "100"));
    cr_assert(reach(SV_EDORG, false, "1002", "200"));
    rel((relop){.edorg = "1002", .nparents = -1});
    cr_assert_not(reach(SV_EDORG, false, "1002", "200"), "a deleted school has no parents");
}

Test(store, people_reach_through_their_relationships)
{
    hierarchy();
    rel((relop){.doc = 11, .kind = REL_STUDENT_SCHOOL, .person = "S1", .other = "1001"});
    rel((relop){.doc = 12, .kind = REL_STAFF, .person = "T1", .other = "200"});
    rel((relop){.doc = 13, .kind = REL_CONTACT_STUDENT, .person = "C1", .other = "S1"});
    rel((relop){.doc = 14, .kind = REL_STUDENT_RESPONSIBILITY, .person = "S2", .other = "2001"});
    cr_assert(reach(SV_STUDENT, false, "S1", "100"));
    cr_assert(reach(SV_STUDENT, false, "S1", "1"));
    cr_assert_not(reach(SV_STUDENT, false, "S1", "200"));
    cr_assert_not(reach(SV_STUDENT, false, "S2", "200"), "responsibility is not enrolment");
    cr_assert(reach(SV_STUDENT_RESPONSIBILITY, false, "S2", "200"));
    cr_assert(reach(SV_STAFF, false, "T1", "200"));
    cr_assert_not(reach(SV_STAFF, false, "T1", "100"));
    cr_assert(reach(SV_CONTACT, false, "C1", "100"), "a contact through the student's school");
    cr_assert_not(reach(SV_CONTACT, false, "C1", "200"));
    rel((relop){.doc = 11, .retire = true});
    cr_assert_not(reach(SV_STUDENT, false, "S1", "100"), "a deleted enrolment grants nothing");
    cr_assert(reach(SV_STUDENT, true, "S1", "100"), "...except to IncludingDeletes");
    cr_assert_not(reach(SV_CONTACT, false, "C1", "100"));
    rel((relop){.doc = 11, .kind = REL_STUDENT_SCHOOL, .person = "S1", .other = "1001"});
    cr_assert(reach(SV_STUDENT, false, "S1", "100"), "put again revives it");
}

typedef struct names { char v[16][64]; int n; } names;
static bool collect_body(void *ctx, const store_doc *d)
{
    names *n = ctx;
    if (n->n < 16) snprintf(n->v[n->n++], sizeof n->v[0], "%s", d->body);
    return true;
}

Test(store, list_filter_returns_exactly_the_permitted_documents)
{
    hierarchy();
    rel((relop){.doc = 900, .kind = REL_STUDENT_SCHOOL, .person = "S1", .other = "1001"});
    rel((relop){.doc = 901, .kind = REL_STUDENT_SCHOOL, .person = "S2", .other = "2001"});
    const char *bodies[] = {
        "{\"schoolId\":1001,\"studentUniqueId\":\"S1\",\"ns\":\"uri://a.org/x\"}",
        "{\"schoolId\":2001,\"studentUniqueId\":\"S2\",\"ns\":\"uri://b.org/x\"}",
        "{\"schoolId\":1001,\"studentUniqueId\":\"S2\",\"ns\":\"uri://a%_org/x\"}",
        "{\"schoolId\":1002,\"studentUniqueId\":\"S1\"}",
    };
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "lf-%d", i);
        uuid_t16 u = rid(name);
        insert_ok("ed-fi/things", &u, NULL, bodies[i], NULL, 0);
    }
    const char *claims[1] = {"100"};
    store_authz_req both[2] = {{SV_EDORG, false, "$.schoolId"}, {SV_STUDENT, false, "$.studentUniqueId"}};
    store_authz_group g = {2, both};
    store_authz z = {.claims = claims, .nclaims = 1, .ngroups = 1, .groups = &g};
    store_query q = {.resource = "ed-fi/things", .limit = 25, .count = true, .authz = &z};
    names n = {0};
    int64_t total = -1;
    cr_assert_eq(store_query_docs(S, &q, collect_body, &n, &total, NULL), ERR_OK);
    cr_assert_eq(total, 2, "school and student both reachable: documents 0 and 3");
    cr_assert_eq(n.n, 2);
    cr_assert(strstr(n.v[0], "1001") && strstr(n.v[1], "1002"));
    /* edorg-only OR student-only alternatives */
    store_authz_group alt[2] = {{1, &both[0]}, {1, &both[1]}};
    z.groups = alt;
    z.ngroups = 2;
    claims[0] = "200";
    memset(&n, 0, sizeof n);
    cr_assert_eq(store_query_docs(S, &q, collect_body, &n, &total, NULL), ERR_OK);
    cr_assert_eq(total, 2, "document 1 (school 2001, S2) and document 2 (student S2)");
    /* namespace prefixes: literal % and _ */
    const char *prefixes[1] = {"uri://a%_org"};
    store_authz ns = {.open = true, .ns_path = "$.ns", .ns_prefixes = prefixes, .nns = 1};
    q.authz = &ns;
    memset(&n, 0, sizeof n);
    cr_assert_eq(store_query_docs(S, &q, collect_body, &n, &total, NULL), ERR_OK);
    cr_assert_eq(total, 1, "only the literal prefix, not uri://a.org: %lld", (long long)total);
    prefixes[0] = "URI://A";
    cr_assert_eq(store_query_docs(S, &q, collect_body, &n, &total, NULL), ERR_OK);
    cr_assert_eq(total, 2, "case-insensitive; a document without a namespace never passes");
    /* nothing permitted */
    store_authz none = {.claims = claims, .nclaims = 1};
    q.authz = &none;
    cr_assert_eq(store_query_docs(S, &q, collect_body, &n, &total, NULL), ERR_OK);
    cr_assert_eq(total, 0);
}

Test(store, stats)
{
    uuid_t16 a = rid("st-a"), b = rid("st-b"), c = rid("st-c");
    insert_ok("ed-fi/schools", &a, NULL, "{}", NULL, 0);
    insert_ok("ed-fi/students", &b, NULL, "{}", NULL, 0);
    insert_ok("ed-fi/students", &c, NULL, "{}", NULL, 0);
    char *s = store_stats_json(S);
    cr_assert_str_eq(s, "{\"ed-fi/schools\":1,\"ed-fi/students\":2}");
    free(s);
}

/* ---- change queries ---- */

typedef struct changes {
    int n;
    char id[16][37];
    int64_t cv[16];
    char key[16][200], newkey[16][200];
} changes;

static bool collect_change(void *ctx, const store_change *c)
{
    changes *l = ctx;
    if (l->n >= 16) return false;
    snprintf(l->id[l->n], sizeof l->id[0], "%s", c->id);
    l->cv[l->n] = c->change_version;
    snprintf(l->key[l->n], sizeof l->key[0], "%s", c->key_values ? c->key_values : "(null)");
    snprintf(l->newkey[l->n], sizeof l->newkey[0], "%s", c->new_key_values ? c->new_key_values : "(null)");
    l->n++;
    return true;
}

typedef struct window { int64_t min, max, offset, limit; const store_authz *authz; } window;

/* The changes of resource in w (limit 0 means 500), and their total. */
static changes list_changes(store_change_kind k, const char *resource, window w, int64_t *total)
{
    store_query q = {.resource = resource, .min_cv = w.min, .max_cv = w.max, .offset = w.offset,
                     .limit = w.limit ? w.limit : 500, .count = total != NULL, .authz = w.authz};
    changes l;
    memset(&l, 0, sizeof l);
    cr_assert_eq(store_query_changes(S, k, &q, collect_change, &l, total), ERR_OK);
    return l;
}

static int64_t newest(void)
{
    int64_t v = -1;
    cr_assert_eq(store_newest_change_version(S, &v), ERR_OK);
    return v;
}

/* Deletes doc (of resource) recording prior. */
static void delete_with(const store_doc *doc, const char *resource, const store_prior *prior)
{
    del x = {.doc_id = doc->doc_id, .resource = resource, .prior = prior};
    cr_assert_eq(store_run(S, delete_job, &x), ERR_OK);
}

Test(store, deletes_are_listed_in_order_paged_and_hidden_once_recreated)
{
    cr_assert_eq(newest(), 0, "an empty instance");
    uuid_t16 ra = rid("cq-a"), rb = rid("cq-b"), rz = rid("cq-z");
    store_doc a = insert_ok("ed-fi/students", &ra, NULL, "{}", NULL, 0);
    store_doc b = insert_ok("ed-fi/students", &rb, NULL, "{}", NULL, 0);
    store_doc z = insert_ok("ed-fi/schools", &rz, NULL, "{}", NULL, 0);
    cr_assert_eq(newest(), z.etag, "a document's version counts");
    store_prior pa = {.key_values = "{\"studentUniqueId\":\"a\"}", .refid = &ra};
    store_prior pb = {.key_values = "{\"studentUniqueId\":\"b\"}", .refid = &rb};
    store_prior pz = {.key_values = "{\"schoolId\":1}", .refid = &rz};
    delete_with(&a, "ed-fi/students", &pa);
    delete_with(&b, "ed-fi/students", &pb);
    delete_with(&z, "ed-fi/schools", &pz);

    int64_t total = -1;
    changes l = list_changes(SC_DELETES, "ed-fi/students", (window){0}, &total);
    cr_assert_eq(total, 2, "only this resource's deletes");
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.id[0], a.id);
    cr_assert_str_eq(l.id[1], b.id);
    cr_assert_str_eq(l.key[0], "{\"studentUniqueId\":\"a\"}");
    cr_assert_str_eq(l.key[1], "{\"studentUniqueId\":\"b\"}");
    cr_assert_gt(l.cv[0], z.etag, "a delete takes a new version");
    cr_assert_gt(l.cv[1], l.cv[0], "ascending");
    changes zs = list_changes(SC_DELETES, "ed-fi/schools", (window){0}, NULL);
    cr_assert_eq(zs.n, 1);
    cr_assert_gt(zs.cv[0], l.cv[1]);
    cr_assert_eq(newest(), zs.cv[0], "the newest version is the last delete's");

    /* the window is inclusive at both ends; paging in version order */
    changes w = list_changes(SC_DELETES, "ed-fi/students", (window){.min = l.cv[1]}, &total);
    cr_assert_eq(w.n, 1);
    cr_assert_str_eq(w.id[0], b.id);
    w = list_changes(SC_DELETES, "ed-fi/students", (window){.max = l.cv[0]}, &total);
    cr_assert_eq(w.n, 1);
    cr_assert_str_eq(w.id[0], a.id);
    w = list_changes(SC_DELETES, "ed-fi/students", (window){.min = l.cv[0], .max = l.cv[1]}, &total);
    cr_assert_eq(w.n, 2);
    w = list_changes(SC_DELETES, "ed-fi/students", (window){.offset = 1, .limit = 1}, &total);
    cr_assert_eq(total, 2, "the count ignores paging");
    cr_assert_eq(w.n, 1);
    cr_assert_str_eq(w.id[0], b.id);

    /* a, created again: its tombstone is no longer reported */
    insert_ok("ed-fi/students", &ra, NULL, "{}", NULL, 0);
    w = list_changes(SC_DELETES, "ed-fi/students", (window){0}, &total);
    cr_assert_eq(total, 1);
    cr_assert_eq(w.n, 1);
    cr_assert_str_eq(w.id[0], b.id);
}

/* Changes a document's identity from `from` to `to`, recording the old and
 * new keys. */
static store_doc rekey(const store_doc *d, const uuid_t16 *from, const uuid_t16 *to, const char *old_key,
                       const char *new_key, const store_prior *extra)
{
    store_prior was = extra ? *extra : (store_prior){0};
    was.key_values = old_key;
    was.refid = from;
    upd u = {.doc_id = d->doc_id, .prior = &was};
    u.p = put("ed-fi/sessions", to, NULL, "{}").p;
    u.p.key_values = new_key;
    cr_assert_eq(store_run(S, update_job, &u), ERR_OK);
    return u.out;
}

Test(store, key_changes_are_one_row_per_id_from_first_old_to_last_new)
{
    uuid_t16 k1 = rid("kc-1"), k2 = rid("kc-2"), k3 = rid("kc-3"), k4 = rid("kc-4"), k5 = rid("kc-5");
    store_doc d = insert_ok("ed-fi/sessions", &k1, NULL, "{}", NULL, 0);
    store_doc e = insert_ok("ed-fi/sessions", &k4, NULL, "{}", NULL, 0);
    store_doc d1 = rekey(&d, &k1, &k2, "{\"sessionName\":\"A\"}", "{\"sessionName\":\"B\"}", NULL);
    store_doc d2 = rekey(&d, &k2, &k3, "{\"sessionName\":\"B\"}", "{\"sessionName\":\"C\"}", NULL);
    store_doc e1 = rekey(&e, &k4, &k5, "{\"sessionName\":\"D\"}", "{\"sessionName\":\"E\"}", NULL);
    /* an update that keeps the identity is no key change */
    upd same = {.doc_id = d.doc_id};
    store_prior ignored = {.key_values = "{\"sessionName\":\"X\"}", .refid = &k3};
    same.prior = &ignored;
    same.p = put("ed-fi/sessions", &k3, NULL, "{\"v\":2}").p;
    cr_assert_eq(store_run(S, update_job, &same), ERR_OK);
    cr_assert_eq(newest(), same.out.etag);

    int64_t total = -1;
    changes l = list_changes(SC_KEY_CHANGES, "ed-fi/sessions", (window){0}, &total);
    cr_assert_eq(total, 2, "one row per id");
    cr_assert_eq(l.n, 2);
    cr_assert_str_eq(l.id[0], d.id);
    cr_assert_eq(l.cv[0], d2.etag, "the last change's version");
    cr_assert_str_eq(l.key[0], "{\"sessionName\":\"A\"}", "the first change's old key");
    cr_assert_str_eq(l.newkey[0], "{\"sessionName\":\"C\"}", "the last change's new key");
    cr_assert_str_eq(l.id[1], e.id);
    cr_assert_eq(l.cv[1], e1.etag);
    cr_assert_str_eq(l.key[1], "{\"sessionName\":\"D\"}");
    cr_assert_str_eq(l.newkey[1], "{\"sessionName\":\"E\"}");
    /* windows cut the history */
    l = list_changes(SC_KEY_CHANGES, "ed-fi/sessions", (window){.min = d2.etag}, &total);
    cr_assert_eq(total, 2);
    cr_assert_str_eq(l.key[0], "{\"sessionName\":\"B\"}");
    cr_assert_str_eq(l.newkey[0], "{\"sessionName\":\"C\"}");
    l = list_changes(SC_KEY_CHANGES, "ed-fi/sessions", (window){.max = d1.etag}, &total);
    cr_assert_eq(total, 1);
    cr_assert_str_eq(l.newkey[0], "{\"sessionName\":\"B\"}");
    l = list_changes(SC_KEY_CHANGES, "ed-fi/sessions", (window){.offset = 1, .limit = 5}, &total);
    cr_assert_eq(l.n, 1);
    cr_assert_str_eq(l.id[0], e.id);
    l = list_changes(SC_KEY_CHANGES, "ed-fi/students", (window){0}, &total);
    cr_assert_eq(total, 0, "a resource without key changes: none");
    cr_assert_eq(l.n, 0);
    cr_assert_eq(list_changes(SC_DELETES, "ed-fi/sessions", (window){0}, NULL).n, 0, "key changes are not deletes");
}

Test(store, change_rows_are_filtered_like_the_documents_were)
{
    hierarchy();
    rel((relop){.doc = 900, .kind = REL_STUDENT_SCHOOL, .person = "S1", .other = "1001"});
    rel((relop){.doc = 900, .retire = true}); /* S1's enrolment is over: only IncludingDeletes sees it */
    rel((relop){.doc = 901, .kind = REL_STUDENT_SCHOOL, .person = "S2", .other = "2001"});
    uuid_t16 r1 = rid("az-1"), r2 = rid("az-2"), r3 = rid("az-3");
    store_doc d1 = insert_ok("ed-fi/things", &r1, NULL, "{}", NULL, 0);
    store_doc d2 = insert_ok("ed-fi/things", &r2, NULL, "{}", NULL, 0);
    store_doc d3 = insert_ok("ed-fi/things", &r3, NULL, "{}", NULL, 0);
    store_prior p1 = {.key_values = "{\"k\":1}", .refid = &r1, .sec_edorg = "1001", .sec_person = "S1", .owner = "o1",
                      .subjects = "{\"schoolId\":1001,\"studentUniqueId\":\"S1\",\"ns\":\"uri://a.org/x\"}"};
    store_prior p2 = {.key_values = "{\"k\":2}", .refid = &r2, .sec_edorg = "2001", .sec_person = "S2", .owner = "o2",
                      .subjects = "{\"schoolId\":2001,\"studentUniqueId\":\"S2\",\"ns\":\"uri://b.org/x\"}"};
    store_prior p3 = {.key_values = "{\"k\":3}"}; /* as rows written before schema 5 */
    delete_with(&d1, "ed-fi/things", &p1);
    delete_with(&d2, "ed-fi/things", &p2);
    delete_with(&d3, "ed-fi/things", &p3);

    const char *claims[1] = {"100"};
    store_authz_req both[2] = {{SV_EDORG, false, "$.schoolId", SUBJ_EDORG},
                               {SV_STUDENT, true, "$.studentUniqueId", SUBJ_PERSON}};
    store_authz_group g = {2, both};
    store_authz z = {.claims = claims, .nclaims = 1, .ngroups = 1, .groups = &g};
    int64_t total = -1;
    changes l = list_changes(SC_DELETES, "ed-fi/things", (window){.authz = &z}, &total);
    cr_assert_eq(total, 1, "the LEA's school and its (past) student only");
    cr_assert_str_eq(l.key[0], "{\"k\":1}");
    both[1].including_deletes = false;
    list_changes(SC_DELETES, "ed-fi/things", (window){.authz = &z}, &total);
    cr_assert_eq(total, 0, "without IncludingDeletes the ended enrolment grants nothing");
    /* a subject with no column of its own is read from the stored subjects */
    store_authz_req school_only = {SV_EDORG, false, "$.schoolId", SUBJ_NONE};
    store_authz_group g1 = {1, &school_only};
    z.groups = &g1;
    claims[0] = "200";
    l = list_changes(SC_DELETES, "ed-fi/things", (window){.authz = &z}, &total);
    cr_assert_eq(total, 1);
    cr_assert_str_eq(l.key[0], "{\"k\":2}");
    /* namespace prefixes and ownership read the same columns */
    const char *prefixes[1] = {"URI://A"};
    store_authz ns = {.open = true, .ns_path = "$.ns", .ns_prefixes = prefixes, .nns = 1};
    l = list_changes(SC_DELETES, "ed-fi/things", (window){.authz = &ns}, &total);
    cr_assert_eq(total, 1, "a row without subjects never passes a namespace check");
    cr_assert_str_eq(l.key[0], "{\"k\":1}");
    store_authz own = {.open = true, .owner = "o2"};
    l = list_changes(SC_DELETES, "ed-fi/things", (window){.authz = &own}, &total);
    cr_assert_eq(total, 1);
    cr_assert_str_eq(l.key[0], "{\"k\":2}");
    list_changes(SC_DELETES, "ed-fi/things", (window){0}, &total);
    cr_assert_eq(total, 3, "unfiltered: every row, old ones included");

    /* key changes are authorized on their first (old) values */
    uuid_t16 k1 = rid("az-k1"), k2 = rid("az-k2"), k3 = rid("az-k3");
    store_doc s = insert_ok("ed-fi/sessions", &k1, NULL, "{}", NULL, 0);
    store_prior at1001 = {.sec_edorg = "1001"}, at2001 = {.sec_edorg = "2001"};
    rekey(&s, &k1, &k2, "{\"n\":1}", "{\"n\":2}", &at1001);
    rekey(&s, &k2, &k3, "{\"n\":2}", "{\"n\":3}", &at2001);
    store_authz_req edorg = {SV_EDORG, false, "$.schoolId", SUBJ_EDORG};
    store_authz_group ge = {1, &edorg};
    store_authz ze = {.claims = claims, .nclaims = 1, .ngroups = 1, .groups = &ge};
    claims[0] = "100";
    l = list_changes(SC_KEY_CHANGES, "ed-fi/sessions", (window){.authz = &ze}, &total);
    cr_assert_eq(total, 1);
    cr_assert_str_eq(l.newkey[0], "{\"n\":3}");
    claims[0] = "200";
    list_changes(SC_KEY_CHANGES, "ed-fi/sessions", (window){.authz = &ze}, &total);
    cr_assert_eq(total, 0, "the later values do not count");
}

/* Inserts, then fails: its version is handed out but never committed. */
static err_t insert_then_fail_job(store_txn *t, void *ctx)
{
    err_t e = insert_job(t, ctx);
    return e ? e : ERR_INVALID;
}

Test(store, newest_change_version_counts_committed_jobs_only)
{
    uuid_t16 a = rid("nv-a"), b = rid("nv-b"), c = rid("nv-c");
    store_doc da = insert_ok("ed-fi/students", &a, NULL, "{}", NULL, 0);
    cr_assert_eq(newest(), da.etag);
    ins x = put("ed-fi/students", &b, NULL, "{}");
    cr_assert_eq(store_run(S, insert_then_fail_job, &x), ERR_INVALID);
    cr_assert_eq(newest(), da.etag, "a failed job's version never becomes visible");
    store_doc dc = insert_ok("ed-fi/students", &c, NULL, "{}", NULL, 0);
    cr_assert_gt(dc.etag, da.etag);
    cr_assert_eq(newest(), dc.etag);
    store_close(S);
    S = NULL;
    open_store();
    cr_assert_eq(newest(), dc.etag, "kept across a restart");
}

/* SQLite: `edhub load` may write the file while a server does. Each keeps
 * its own counter; under the write lock the counter moves past what the
 * other committed, so versions stay unique and increasing. (PostgreSQL
 * admits one writer process: its advisory lock.) */
Test(store, a_second_sqlite_writer_continues_the_change_versions)
{
    if (getenv("EDHUB_UNIT_PG")) cr_skip_test("SQLite only");
    char err[256] = "";
    store_opts o = {.readers = 1};
    store *other = NULL;
    cr_assert_eq(store_open(path, &o, &other, err, sizeof err), ERR_OK, "%s", err);
    uuid_t16 a = rid("mw-a"), b = rid("mw-b"), c = rid("mw-c");
    store_doc da = insert_ok("ed-fi/students", &a, NULL, "{}", NULL, 0);
    ins x = put("ed-fi/students", &b, NULL, "{}");
    cr_assert_eq(store_run(other, insert_job, &x), ERR_OK);
    cr_assert_gt(x.out.etag, da.etag, "the second writer starts after the first one's commit");
    store_doc dc = insert_ok("ed-fi/students", &c, NULL, "{}", NULL, 0);
    cr_assert_gt(dc.etag, x.out.etag, "and the first one after the second one's");
    store_prior pc = {.key_values = "{}", .refid = &c};
    delete_with(&dc, "ed-fi/students", &pc);
    cr_assert_gt(newest(), dc.etag);
    store_close(other);
}

/* ---- lineage (edhub publish) ---- */

static err_t lineage_job(store_txn *t, void *ctx)
{
    const store_lineage *rows = ctx;
    for (int i = 0; rows[i].resource; i++) {
        err_t e = txn_lineage_put(t, &rows[i]);
        if (e) return e;
    }
    return ERR_OK;
}

typedef struct seen_lineage { int n; char text[4][256]; } seen_lineage;

static bool collect_lineage(void *ctx, const store_lineage *l)
{
    seen_lineage *s = ctx;
    if (s->n < 4)
        snprintf(s->text[s->n], sizeof s->text[0], "%s %s %s %s %s %s", l->resource, l->id, l->source,
                 l->source_client ? l->source_client : "-", l->source_id ? l->source_id : "-", l->published_at);
    s->n++;
    return true;
}

Test(store, lineage_is_replaced_per_document_and_filtered)
{
    store_lineage rows[] = {
        {"ed-fi/students", "b", "district-a", "sis", "s1", "2026-01-01T00:00:00Z"},
        {"ed-fi/students", "a", "district-b", NULL, NULL, "2026-01-01T00:00:00Z"},
        {"ed-fi/schools", "c", "district-a", "sis", "s3", "2026-01-01T00:00:00Z"},
        {NULL},
    };
    cr_assert_eq(store_run(S, lineage_job, rows), ERR_OK);
    store_lineage again[] = {{"ed-fi/students", "b", "district-c", "sis2", "s9", "2026-02-01T00:00:00Z"}, {NULL}};
    cr_assert_eq(store_run(S, lineage_job, again), ERR_OK);
    seen_lineage all = {0};
    store_lineage any = {0};
    cr_assert_eq(store_lineage_query(S, &any, 0, collect_lineage, &all), ERR_OK);
    cr_assert_eq(all.n, 3, "one row per document");
    cr_assert_str_eq(all.text[0], "ed-fi/schools c district-a sis s3 2026-01-01T00:00:00Z");
    cr_assert_str_eq(all.text[1], "ed-fi/students a district-b - - 2026-01-01T00:00:00Z");
    cr_assert_str_eq(all.text[2], "ed-fi/students b district-c sis2 s9 2026-02-01T00:00:00Z", "the later publication");
    seen_lineage one = {0};
    store_lineage by_source = {.source = "district-b"};
    cr_assert_eq(store_lineage_query(S, &by_source, 0, collect_lineage, &one), ERR_OK);
    cr_assert_eq(one.n, 1);
    seen_lineage lim = {0};
    store_lineage students = {.resource = "ed-fi/students"};
    cr_assert_eq(store_lineage_query(S, &students, 1, collect_lineage, &lim), ERR_OK);
    cr_assert_eq(lim.n, 1, "limit");
}
