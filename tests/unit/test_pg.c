/* PostgreSQL-only behaviour of src/store/store_pg.c, against a real server
 * (scripts/with-pg.sh make unit-pg; skipped by the SQLite-only `make unit`):
 * per-resource partitions, the versioned migration from schema 2, the
 * writer's reconnect and batch re-run after a lost connection or a lock
 * timeout, and read-replica routing. */
#include "base/arena.h"
#include "base/uuid.h"
#include "store/store.h"
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "leak.h"
#include "testdb.h"

static char dir[64], url[256];
static arena A;

static void setup(void)
{
    if (!getenv("EDHUB_UNIT_PG")) return;
    testdb_location(dir, sizeof dir, url, sizeof url);
    arena_init(&A, 0);
}

static void teardown(void)
{
    if (!getenv("EDHUB_UNIT_PG")) return;
    arena_free(&A);
    rmdir(dir);
    unit_leak_check();
}

TestSuite(pg, .init = setup, .fini = teardown);

#define NEED_PG()                                                                                                      \
    do {                                                                                                               \
        if (!getenv("EDHUB_UNIT_PG")) cr_skip_test("needs PostgreSQL: scripts/with-pg.sh make unit-pg");            \
    } while (0)

static PGconn *side(const char *u)
{
    PGconn *c = PQconnectdb(u);
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    return c;
}

/* The single text value of a query on a side connection (caller frees). */
static char *scalar(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", sql, PQresultErrorMessage(r));
    char *v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

static void side_exec(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
              PQresultErrorMessage(r));
    PQclear(r);
}

static uuid_t16 rid(const char *name)
{
    uuid_t16 u;
    uuid_v5(uuid_edfi_namespace(), name, strlen(name), &u);
    return u;
}

static const char *const RESOURCES[] = {"ed-fi/students", "ed-fi/schools", NULL};

static store *open_pg(const char *u, bool migrate, const char *replica)
{
    char err[512] = "";
    store_opts o = {.readers = 2, .resources = RESOURCES, .migrate = migrate, .read_location = replica};
    store *s = NULL;
    cr_assert_eq(store_open(u, &o, &s, err, sizeof err), ERR_OK, "store_open: %s", err);
    return s;
}

typedef struct ins {
    const char *resource, *name, *body, *qvals;
    const uuid_t16 *refs;
    int nrefs;
    int runs;            /* times the job ran */
    PGconn *kill_writer; /* first run: terminate the writer's connection first */
    store_doc out;
} ins;

static void terminate_writer(PGconn *c)
{
    /* The writer holds edhub's advisory lock (key 0x6564687562). */
    char *n = scalar(c, "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory'"
                        " AND classid = 101 AND objid = 1684567394 AND granted"
                        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
    cr_assert_str_eq(n, "1", "exactly one writer holds the lock");
    free(n);
}

static err_t insert_job(store_txn *t, void *ctx)
{
    ins *x = ctx;
    if (x->runs++ == 0 && x->kill_writer) terminate_writer(x->kill_writer);
    uuid_t16 id = rid(x->name);
    store_put p = {.resource = x->resource, .refid = &id, .body = x->body, .refs = x->refs, .nrefs = x->nrefs,
                   .qvals = x->qvals, .key_values = "{}", .owner = "t"};
    return txn_insert(t, &p, &x->out);
}

static store_doc insert(store *s, const char *resource, const char *name)
{
    ins x = {.resource = resource, .name = name, .body = "{\"v\":1}"};
    cr_assert_eq(store_run(s, insert_job, &x), ERR_OK);
    return x.out;
}

Test(pg, each_resource_has_its_own_partition)
{
    NEED_PG();
    store *s = open_pg(url, false, NULL);
    insert(s, "ed-fi/students", "stu-1");
    insert(s, "ed-fi/gradeLevelDescriptors", "gld-1");
    store_close(s);
    PGconn *c = side(url);
    char *p1 = scalar(c, "SELECT tableoid::regclass::text FROM documents WHERE resource = 'ed-fi/students'");
    char *p2 = scalar(c, "SELECT tableoid::regclass::text FROM documents WHERE resource = 'ed-fi/gradeLevelDescriptors'");
    char *n = scalar(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'documents'::regclass");
    cr_assert(strncmp(p1, "documents_students_", 19) == 0, "students live in their own partition, not %s", p1);
    cr_assert_str_eq(p2, "documents_other", "resources without a partition share the default one");
    cr_assert_str_eq(n, "3", "students, schools and the default partition");
    char *h = scalar(c, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'identities'::regclass");
    cr_assert_str_eq(h, "16", "identities are hash-partitioned");
    free(p1), free(p2), free(n), free(h);
    PQfinish(c);
}

/* The version 2 layout as edhub 0.1 created it. */
static const char *V2_SCHEMA =
    "CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE documents(doc_id bigserial PRIMARY KEY, id text NOT NULL, resource text NOT NULL, ref_id bytea NOT NULL,"
    "  alias_id bytea, body text NOT NULL, refs bytea, etag bigint NOT NULL, last_modified text NOT NULL,"
    "  change_version bigint NOT NULL, owner text, qv text);"
    "CREATE UNIQUE INDEX documents_id ON documents(id);"
    "CREATE INDEX documents_resource ON documents(resource, doc_id);"
    "CREATE INDEX documents_cv ON documents(change_version);"
    "CREATE TABLE identities(ref_id bytea PRIMARY KEY, doc_id bigint NOT NULL);"
    "CREATE TABLE refs(target bytea NOT NULL, doc_id bigint NOT NULL, PRIMARY KEY(target, doc_id));"
    "CREATE TABLE qvals(field text NOT NULL, value text NOT NULL, doc_id bigint NOT NULL, PRIMARY KEY(field, value, doc_id));"
    "CREATE TABLE tombstones(change_version bigint PRIMARY KEY, resource text NOT NULL, id text NOT NULL,"
    "  key_values text NOT NULL, deleted_at text NOT NULL);"
    "CREATE TABLE key_changes(change_version bigint PRIMARY KEY, resource text NOT NULL, id text NOT NULL,"
    "  old_key_values text NOT NULL, new_key_values text NOT NULL, changed_at text NOT NULL);"
    "CREATE TABLE clients(key text PRIMARY KEY, secret_hash text NOT NULL, name text NOT NULL, created_at text NOT NULL);"
    "INSERT INTO meta VALUES('schema_version', '2');";

static void hexid(char out[35], const char *name)
{
    uuid_t16 u = rid(name);
    strcpy(out, "\\x");
    for (int i = 0; i < 16; i++) snprintf(out + 2 + 2 * i, 3, "%02x", u.b[i]);
}

typedef struct findr { uuid_t16 id; store_hit hit; err_t e; } findr;
static err_t find_job(store_txn *t, void *ctx)
{
    findr *f = ctx;
    f->e = txn_find_identity(t, &f->id, &A, &f->hit);
    return ERR_OK;
}

typedef struct refr { uuid_t16 id; store_hit *hits; int n; } refr;
static err_t referrers_job(store_txn *t, void *ctx)
{
    refr *r = ctx;
    return txn_referrers(t, &r->id, &A, 10, &r->hits, &r->n);
}

static bool count_row(void *ctx, const store_doc *d)
{
    (void)d;
    ++*(int *)ctx;
    return true;
}

Test(pg, migrates_a_version_2_database)
{
    NEED_PG();
    PGconn *c = side(url);
    side_exec(c, V2_SCHEMA);
    char school[35], student[35], ssa[35], sql[2048];
    hexid(school, "school-1"), hexid(student, "student-1"), hexid(ssa, "ssa-1");
    snprintf(sql, sizeof sql,
             "INSERT INTO documents(id, resource, ref_id, body, refs, etag, last_modified, change_version, qv) VALUES"
             " ('11111111-1111-4111-8111-111111111111', 'ed-fi/schools', '%s', '{\"schoolId\":1}', NULL, 5, 'x', 5, NULL),"
             " ('22222222-2222-4222-8222-222222222222', 'ed-fi/students', '%s', '{\"s\":1}', NULL, 6, 'x', 6, NULL),"
             " ('33333333-3333-4333-8333-333333333333', 'ed-fi/studentSchoolAssociations', '%s', '{\"a\":1}', '%s', 9, 'x', 9,"
             "  'ed-fi/studentSchoolAssociations|schoolId\t1\n');"
             "INSERT INTO identities SELECT ref_id, doc_id FROM documents;"
             "INSERT INTO refs SELECT '%s', doc_id FROM documents WHERE resource = 'ed-fi/studentSchoolAssociations';"
             "INSERT INTO qvals SELECT 'ed-fi/studentSchoolAssociations|schoolId', '1', doc_id FROM documents"
             "  WHERE resource = 'ed-fi/studentSchoolAssociations';"
             "INSERT INTO tombstones VALUES(12, 'ed-fi/students', 'gone', '{}', 'x');",
             school, student, ssa, school, school);
    side_exec(c, sql);

    char err[512] = "";
    store_opts o = {.readers = 1, .resources = RESOURCES};
    store *s = NULL;
    cr_assert_neq(store_open(url, &o, &s, err, sizeof err), ERR_OK, "an old schema is refused without migrate");
    cr_assert(strstr(err, "edhub migrate"), "the error says what to do: %s", err);

    s = open_pg(url, true, NULL);
    cr_assert_eq(store_schema_version(s), 5);
    findr f = {.id = rid("ssa-1")};
    cr_assert_eq(store_run(s, find_job, &f), ERR_OK);
    cr_assert_eq(f.e, ERR_OK, "identities survive the migration");
    cr_assert_str_eq(f.hit.resource, "ed-fi/studentSchoolAssociations");
    cr_assert_str_eq(f.hit.id, "33333333-3333-4333-8333-333333333333");
    refr r = {.id = rid("school-1")};
    cr_assert_eq(store_run(s, referrers_job, &r), ERR_OK);
    cr_assert_eq(r.n, 1, "references survive");
    cr_assert_str_eq(r.hits[0].resource, "ed-fi/studentSchoolAssociations");
    store_filter flt = {.index_key = "ed-fi/studentSchoolAssociations|schoolId", .index_value = "1"};
    store_query q = {.resource = "ed-fi/studentSchoolAssociations", .filters = &flt, .nfilters = 1, .limit = 10};
    int rows = 0;
    cr_assert_eq(store_query_docs(s, &q, count_row, &rows, NULL, NULL), ERR_OK);
    cr_assert_eq(rows, 1, "the query index survives");
    store_doc d = insert(s, "ed-fi/students", "student-2");
    cr_assert_gt(d.doc_id, 3, "doc ids continue after the migrated ones");
    cr_assert_gt(d.etag, 12, "change versions continue after the highest one, tombstones included");
    int64_t newest = 0;
    cr_assert_eq(store_newest_change_version(s, &newest), ERR_OK);
    cr_assert_eq(newest, d.etag);
    store_close(s);

    char *where = scalar(c, "SELECT tableoid::regclass::text FROM documents WHERE resource = 'ed-fi/schools'");
    cr_assert(strncmp(where, "documents_schools_", 18) == 0, "migrated rows land in their partition: %s", where);
    free(where);
    char *old = scalar(c, "SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_v2'");
    cr_assert_str_eq(old, "0", "the version 2 tables are gone");
    free(old);
    PQfinish(c);

    s = open_pg(url, false, NULL); /* opening again: nothing left to migrate */
    cr_assert_eq(store_schema_version(s), 5);
    store_close(s);
}

typedef struct dels { const char *name; store_doc doc; } dels;
static err_t delete_job(store_txn *t, void *ctx)
{
    dels *d = ctx;
    uuid_t16 id = rid(d->name);
    store_doc old;
    err_t e = txn_get_by_id(t, d->doc.resource, d->doc.id, &A, &old);
    store_prior p = {.key_values = "{\"studentUniqueId\":\"new\"}", .refid = &id, .sec_edorg = "1"};
    return e ? e : txn_delete(t, &old, &p);
}

typedef struct seen { int n; char id[4][37]; char key[4][80]; } seen;
static bool see(void *ctx, const store_change *c)
{
    seen *v = ctx;
    if (v->n < 4) {
        snprintf(v->id[v->n], sizeof v->id[0], "%s", c->id);
        snprintf(v->key[v->n], sizeof v->key[0], "%s", c->key_values);
    }
    v->n++;
    return true;
}

static seen changes_of(store *s, store_change_kind k, const char *resource, const store_authz *z)
{
    store_query q = {.resource = resource, .limit = 10, .authz = z};
    seen v = {0};
    cr_assert_eq(store_query_changes(s, k, &q, see, &v, NULL), ERR_OK);
    return v;
}

/* Version 4 as edhub wrote it: tombstones and key changes without the
 * prior columns, no newest_cv in meta. */
static void downgrade_to_4(PGconn *c)
{
    side_exec(c, "ALTER TABLE tombstones DROP COLUMN ref_id, DROP COLUMN sec_edorg, DROP COLUMN sec_person,"
                 "  DROP COLUMN subjects, DROP COLUMN owner;"
                 "ALTER TABLE key_changes DROP COLUMN ref_id, DROP COLUMN sec_edorg, DROP COLUMN sec_person,"
                 "  DROP COLUMN subjects, DROP COLUMN owner;"
                 "DELETE FROM meta WHERE key = 'newest_cv';"
                 "UPDATE meta SET value = '4' WHERE key = 'schema_version';"
                 "INSERT INTO tombstones VALUES(40, 'ed-fi/students', 'old-tombstone', '{\"studentUniqueId\":\"x\"}', 'x');"
                 "INSERT INTO key_changes VALUES(41, 'ed-fi/sessions', 'old-key-change', '{\"sessionName\":\"a\"}',"
                 "  '{\"sessionName\":\"b\"}', 'x');"
                 "UPDATE meta SET value = '42' WHERE key = 'next_cv';");
}

Test(pg, migrates_a_version_4_database_and_the_step_is_repeatable)
{
    NEED_PG();
    store *s = open_pg(url, false, NULL);
    insert(s, "ed-fi/students", "v4-student");
    store_close(s);
    PGconn *c = side(url);
    downgrade_to_4(c);
    char err[512] = "";
    store_opts o = {.readers = 1, .resources = RESOURCES};
    s = NULL;
    cr_assert_neq(store_open(url, &o, &s, err, sizeof err), ERR_OK, "version 4 is refused without migrate");
    cr_assert(strstr(err, "edhub migrate"), "%s", err);
    for (int round = 0; round < 2; round++) {
        s = open_pg(url, true, NULL);
        cr_assert_eq(store_schema_version(s), 5);
        int64_t newest = 0;
        cr_assert_eq(store_newest_change_version(s, &newest), ERR_OK);
        cr_assert_eq(newest, 41, "next_cv - 1 bounds what was handed out");
        seen v = changes_of(s, SC_DELETES, "ed-fi/students", NULL);
        cr_assert_eq(v.n, 1);
        cr_assert_str_eq(v.id[0], "old-tombstone");
        cr_assert_str_eq(v.key[0], "{\"studentUniqueId\":\"x\"}", "older key JSON is served as stored");
        cr_assert_eq(changes_of(s, SC_KEY_CHANGES, "ed-fi/sessions", NULL).n, 1);
        const char *claims[1] = {"1"};
        store_authz_req req = {SV_EDORG, false, "$.schoolId", SUBJ_EDORG};
        store_authz_group g = {1, &req};
        store_authz z = {.claims = claims, .nclaims = 1, .ngroups = 1, .groups = &g};
        cr_assert_eq(changes_of(s, SC_DELETES, "ed-fi/students", &z).n, 0, "old rows have no subjects to authorize by");
        store_close(s);
        /* the step again, on tables that already have its columns */
        side_exec(c, "UPDATE meta SET value = '4' WHERE key = 'schema_version'");
    }
    s = open_pg(url, true, NULL);
    store_doc x = insert(s, "ed-fi/students", "v5-student");
    dels d = {.name = "v5-student", .doc = x};
    cr_assert_eq(store_run(s, delete_job, &d), ERR_OK);
    int64_t newest = 0;
    cr_assert_eq(store_newest_change_version(s, &newest), ERR_OK);
    cr_assert_eq(newest, 43, "after the insert (42), the delete");
    const char *claims[1] = {"1"};
    store_authz_req req = {SV_EDORG, false, "$.schoolId", SUBJ_EDORG};
    store_authz_group g = {1, &req};
    store_authz z = {.claims = claims, .nclaims = 1, .ngroups = 1, .groups = &g};
    seen v = changes_of(s, SC_DELETES, "ed-fi/students", &z);
    cr_assert_eq(v.n, 1, "a new tombstone carries its subjects");
    cr_assert_str_eq(v.id[0], x.id);
    store_close(s);
    PQfinish(c);
}

Test(pg, rows_written_before_their_partition_move_on_migrate)
{
    NEED_PG();
    char err[512] = "";
    store_opts bare = {.readers = 1};
    store *s = NULL;
    cr_assert_eq(store_open(url, &bare, &s, err, sizeof err), ERR_OK, "%s", err);
    store_doc d = insert(s, "ed-fi/students", "early");
    store_close(s);
    s = open_pg(url, false, NULL);
    store_close(s);
    PGconn *c = side(url);
    char *where = scalar(c, "SELECT tableoid::regclass::text FROM documents WHERE resource = 'ed-fi/students'");
    cr_assert_str_eq(where, "documents_other", "without migrate, existing rows stay where they are");
    free(where);
    s = open_pg(url, true, NULL);
    where = scalar(c, "SELECT tableoid::regclass::text FROM documents WHERE resource = 'ed-fi/students'");
    cr_assert(strncmp(where, "documents_students_", 19) == 0, "migrate moves them: %s", where);
    free(where);
    store_doc g;
    cr_assert_eq(store_get_by_id(s, "ed-fi/students", d.id, &A, &g), ERR_OK);
    store_close(s);
    PQfinish(c);
}

Test(pg, lost_writer_connection_is_reconnected_and_the_batch_rerun)
{
    NEED_PG();
    store *s = open_pg(url, false, NULL);
    PGconn *c = side(url);
    insert(s, "ed-fi/students", "before");
    /* Between batches: the next BEGIN finds the connection gone. */
    terminate_writer(c);
    insert(s, "ed-fi/students", "after-idle-kill");
    /* Inside a batch: the job's write fails, the batch is rolled back and
     * run again on a new connection. */
    ins x = {.resource = "ed-fi/students", .name = "mid-batch", .body = "{\"v\":2}", .kill_writer = c};
    cr_assert_eq(store_run(s, insert_job, &x), ERR_OK);
    cr_assert_eq(x.runs, 2, "the job ran again after the reconnect");
    store_doc g;
    cr_assert_eq(store_get_by_id(s, "ed-fi/students", x.out.id, &A, &g), ERR_OK);
    char *n = scalar(c, "SELECT count(*) FROM documents WHERE resource = 'ed-fi/students'");
    cr_assert_str_eq(n, "3", "nothing lost, nothing doubled");
    free(n);
    n = scalar(c, "SELECT count(DISTINCT change_version) FROM documents WHERE resource = 'ed-fi/students'");
    cr_assert_str_eq(n, "3", "no change version handed out twice across reconnects");
    free(n);
    int64_t newest = 0;
    cr_assert_eq(store_newest_change_version(s, &newest), ERR_OK);
    cr_assert_eq(newest, x.out.etag);
    PQfinish(c);
    store_close(s);
}

typedef struct holder { PGconn *c; int hold_ms; } holder;
static void *release_later(void *arg)
{
    holder *h = arg;
    usleep((useconds_t)h->hold_ms * 1000);
    PQclear(PQexec(h->c, "COMMIT"));
    return NULL;
}

static err_t parent_job(store_txn *t, void *ctx)
{
    (void)ctx;
    const char *parents[1] = {"1"};
    return txn_edorg_parents(t, "100", parents, 1);
}

Test(pg, lock_timeout_is_retried_not_surfaced, .timeout = 60)
{
    NEED_PG();
    store *s = open_pg(url, false, NULL);
    PGconn *c = side(url);
    side_exec(c, "BEGIN; LOCK TABLE auth_edorg_parents IN ACCESS EXCLUSIVE MODE");
    holder h = {c, 3000}; /* longer than the writer's 2 s lock timeout */
    pthread_t th;
    pthread_create(&th, NULL, release_later, &h);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(store_run(s, parent_job, NULL), ERR_OK, "the lock wait ends in success, not an error");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_geq(waited, 2.9, "the write waited for the lock holder (%.2f s)", waited);
    const char *claims[1] = {"1"};
    bool ok = false;
    cr_assert_eq(store_reachable(s, SV_EDORG, false, "100", claims, 1, &ok), ERR_OK);
    cr_assert(ok, "the write landed");
    PQfinish(c);
    store_close(s);
}

Test(pg, reads_go_to_the_configured_replica)
{
    NEED_PG();
    /* A second database stands in for the replica: what the readers see
     * there and not in the primary proves where reads are routed. */
    char rdir[64], rurl[256];
    testdb_location(rdir, sizeof rdir, rurl, sizeof rurl);
    store *r = open_pg(rurl, false, NULL);
    store_doc only_in_replica = insert(r, "ed-fi/students", "replica-only");
    store_close(r);

    store *s = open_pg(url, false, rurl);
    store_doc in_primary = insert(s, "ed-fi/students", "primary-only");
    store_doc g;
    cr_assert_eq(store_get_by_id(s, "ed-fi/students", only_in_replica.id, &A, &g), ERR_OK, "read from the replica");
    cr_assert_eq(store_get_by_id(s, "ed-fi/students", in_primary.id, &A, &g), ERR_NOT_FOUND,
                 "the primary's new row is not on this (unreplicated) replica");
    findr f = {.id = rid("primary-only")};
    cr_assert_eq(store_run(s, find_job, &f), ERR_OK);
    cr_assert_eq(f.e, ERR_OK, "the writer keeps using the primary");
    store_close(s);
    rmdir(rdir);
}
