/* store.h on PostgreSQL (libpq): the same tables as the SQLite backend,
 * one writer connection driven by store.c's group commit (one COMMIT per
 * batch, a savepoint per job), a pool of reader connections, prepared
 * statements only, and an advisory lock so that one edhub process writes
 * an instance at a time (the change-version counter lives in that writer).
 * All of edhub's SQL for PostgreSQL lives here. */
#include "store_int.h"
#include "../base/buf.h"
#include "../base/log.h"
#include "../base/timefmt.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_SCHEMA_VERSION 5
/* Any constant works; it names "the edhub writer" among advisory locks. */
#define WRITER_LOCK_KEY 0x6564687562LL
#define SCHEMA_LOCK_KEY 6564687563LL
/* Hash partitions of the tables keyed by random 16-byte ids. */
#define HASH_PARTS 16
/* A writer statement that waits longer than this for a lock (someone ran
 * DDL or a long manual transaction) is abandoned and its batch re-run. */
#define WRITER_LOCK_TIMEOUT "2s"

/* Schema version 3, designed for size:
 * - documents is LIST-partitioned by resource: each resource of the model
 *   gets its own table (its own primary-key, id and change-version indexes),
 *   so a 500M-row attendance resource neither slows down nor bloats the
 *   others and can be vacuumed, reindexed or moved to its own tablespace
 *   alone; descriptors and anything else share documents_other (DEFAULT).
 * - identities, refs and qvals are HASH-partitioned on their lookup key.
 * - doc_id and change_version are allocated by the single writer (advisory
 *   lock) and saved once per batch in meta: no sequence or counter row is
 *   touched per document. */
static const char *pg_tables_sql =
    "CREATE TABLE documents("
    "  doc_id bigint NOT NULL, id text NOT NULL, resource text NOT NULL, ref_id bytea NOT NULL, alias_id bytea,"
    "  body text NOT NULL, refs bytea, etag bigint NOT NULL, last_modified text NOT NULL, change_version bigint NOT NULL,"
    "  owner text, qv text, sec_edorg text, sec_person text, PRIMARY KEY(resource, doc_id), UNIQUE(resource, id))"
    "  PARTITION BY LIST(resource);"
    "CREATE INDEX documents_cv ON documents(resource, change_version);"
    "CREATE TABLE documents_other PARTITION OF documents DEFAULT;"
    "CREATE TABLE identities(ref_id bytea PRIMARY KEY, doc_id bigint NOT NULL, resource text NOT NULL, id text NOT NULL)"
    "  PARTITION BY HASH(ref_id);"
    "CREATE TABLE refs(target bytea NOT NULL, doc_id bigint NOT NULL, resource text NOT NULL, PRIMARY KEY(target, doc_id))"
    "  PARTITION BY HASH(target);"
    "CREATE TABLE qvals(kv text NOT NULL, doc_id bigint NOT NULL, PRIMARY KEY(kv, doc_id)) PARTITION BY HASH(kv);";

static const char *pg_small_tables_sql =
    /* Change queries (see store_sqlite.c): the prior columns are added to
     * older tables by migration 4 -> 5. */
    "CREATE TABLE IF NOT EXISTS tombstones(change_version bigint PRIMARY KEY, resource text NOT NULL,"
    "  id text NOT NULL, key_values text NOT NULL, deleted_at text NOT NULL,"
    "  ref_id bytea, sec_edorg text, sec_person text, subjects text, owner text);"
    "CREATE INDEX IF NOT EXISTS tombstones_resource ON tombstones(resource, change_version);"
    "CREATE TABLE IF NOT EXISTS key_changes(change_version bigint PRIMARY KEY, resource text NOT NULL,"
    "  id text NOT NULL, old_key_values text NOT NULL, new_key_values text NOT NULL, changed_at text NOT NULL,"
    "  ref_id bytea, sec_edorg text, sec_person text, subjects text, owner text);"
    "CREATE INDEX IF NOT EXISTS key_changes_resource ON key_changes(resource, change_version);"
    /* The relationship index (see store_sqlite.c): created on open when
     * missing, like every table of this list. */
    "CREATE TABLE IF NOT EXISTS auth_edorg_parents(edorg text NOT NULL, parent text NOT NULL, PRIMARY KEY(edorg, parent));"
    "CREATE INDEX IF NOT EXISTS auth_edorg_children ON auth_edorg_parents(parent, edorg);"
    "CREATE TABLE IF NOT EXISTS auth_people(kind int NOT NULL, person text NOT NULL, other text NOT NULL,"
    "  doc_id bigint NOT NULL, deleted boolean NOT NULL DEFAULT false, PRIMARY KEY(kind, person, other, doc_id));"
    "CREATE INDEX IF NOT EXISTS auth_people_by_other ON auth_people(kind, other, person);"
    "CREATE INDEX IF NOT EXISTS auth_people_by_doc ON auth_people(doc_id);"
    /* Lineage of published documents (see store_sqlite.c). */
    "CREATE TABLE IF NOT EXISTS lineage(resource text NOT NULL, id text NOT NULL, source text NOT NULL,"
    "  source_client text, source_id text, published_at text NOT NULL, PRIMARY KEY(resource, id));";

/* Prepared statements: name = "s" + index. Lists of 16-byte ids travel as
 * comma-separated hex text, query-index keys ("field\tvalue") as a JSON
 * array of strings, so that each document costs one statement. The lists
 * are turned into arrays first (= ANY): with IN (subquery) the generic
 * plans hash-join against full scans of every partition. */
enum {
    P_FIND_IDENTITY, P_FIND_IDENTITIES, P_GET, P_GET_BY_ID, P_INSERT, P_UPDATE, P_DELETE, P_KEY_CHANGE, P_REFERRERS,
    P_EDORG_PARENTS, P_REL_PUT, P_REL_RETIRE, P_LINEAGE_PUT,
    P_REACH, /* + view * 2 + including_deletes */
    P_COUNT = P_REACH + 12
};

#define DOC_COLS "doc_id, id, resource, body, etag, last_modified, ref_id, refs, qv, alias_id, owner"
#define HEX_IDS(n) "ARRAY(SELECT decode(x, 'hex') FROM unnest(string_to_array($" #n ", ',')) AS x)"
#define KV_LIST(n) "ARRAY(SELECT jsonb_array_elements_text($" #n "::jsonb))"

static const char *pg_sql[P_COUNT] = {
    [P_FIND_IDENTITY] = "SELECT doc_id, id, resource FROM identities WHERE ref_id = $1",
    [P_FIND_IDENTITIES] = "SELECT encode(ref_id, 'hex'), doc_id, id, resource FROM identities WHERE ref_id = ANY(" HEX_IDS(1) ")",
    [P_GET] = "SELECT " DOC_COLS " FROM documents WHERE resource = $1 AND doc_id = $2",
    [P_GET_BY_ID] = "SELECT " DOC_COLS " FROM documents WHERE resource = $2 AND id = $1",
    [P_INSERT] =
        "WITH d AS (INSERT INTO documents(doc_id, id, resource, ref_id, alias_id, body, refs, etag, last_modified,"
        "   change_version, owner, qv, sec_edorg, sec_person) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $10, $11,"
        "   $14, $15)),"
        " i AS (INSERT INTO identities(ref_id, doc_id, resource, id)"
        "   SELECT x, $1, $3, $2 FROM unnest(ARRAY[$4::bytea, $5::bytea]) AS x WHERE x IS NOT NULL),"
        " r AS (INSERT INTO refs(target, doc_id, resource) SELECT t, $1, $3 FROM unnest(" HEX_IDS(12) ") AS t"
        "   ON CONFLICT DO NOTHING),"
        " q AS (INSERT INTO qvals(kv, doc_id) SELECT k, $1 FROM unnest(" KV_LIST(13) ") AS k ON CONFLICT DO NOTHING)"
        " SELECT 1",
    /* The lists to delete and to insert are disjoint (computed by the
     * caller), so no row is both deleted and inserted by the statement. */
    [P_UPDATE] =
        "WITH di AS (DELETE FROM identities WHERE ref_id = ANY(" HEX_IDS(11) ") AND doc_id = $1),"
        " ii AS (INSERT INTO identities(ref_id, doc_id, resource, id) SELECT t, $1, $2, $3 FROM unnest(" HEX_IDS(12) ") AS t),"
        " dr AS (DELETE FROM refs WHERE target = ANY(" HEX_IDS(13) ") AND doc_id = $1),"
        " ir AS (INSERT INTO refs(target, doc_id, resource) SELECT t, $1, $2 FROM unnest(" HEX_IDS(14) ") AS t"
        "   ON CONFLICT DO NOTHING),"
        " dq AS (DELETE FROM qvals WHERE kv = ANY(" KV_LIST(15) ") AND doc_id = $1),"
        " iq AS (INSERT INTO qvals(kv, doc_id) SELECT k, $1 FROM unnest(" KV_LIST(16) ") AS k ON CONFLICT DO NOTHING)"
        " UPDATE documents SET ref_id = $4, alias_id = $5, body = $6, refs = $7, etag = $8, change_version = $8,"
        "   last_modified = $9, qv = $10, sec_edorg = $17, sec_person = $18 WHERE resource = $2 AND doc_id = $1",
    [P_DELETE] =
        "WITH di AS (DELETE FROM identities WHERE ref_id = ANY(" HEX_IDS(3) ") AND doc_id = $1),"
        " dr AS (DELETE FROM refs WHERE target = ANY(" HEX_IDS(4) ") AND doc_id = $1),"
        " dq AS (DELETE FROM qvals WHERE kv = ANY(" KV_LIST(5) ") AND doc_id = $1),"
        " t AS (INSERT INTO tombstones(change_version, resource, id, deleted_at, key_values, ref_id, sec_edorg, sec_person,"
        "   subjects, owner) VALUES($6, $2, $7, $8, $9, $10, $11, $12, $13, $14))"
        " DELETE FROM documents WHERE resource = $2 AND doc_id = $1",
    [P_KEY_CHANGE] = "INSERT INTO key_changes(change_version, resource, id, changed_at, old_key_values, ref_id, sec_edorg,"
                     " sec_person, subjects, owner, new_key_values) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    [P_REFERRERS] = "SELECT doc_id, resource FROM refs WHERE target = $1 LIMIT $2",
    /* The rows deleted and inserted are disjoint (one statement may not touch a row twice). */
    [P_EDORG_PARENTS] = "WITH d AS (DELETE FROM auth_edorg_parents WHERE edorg = $1 AND parent <> ALL($2::text[]))"
                        " INSERT INTO auth_edorg_parents(edorg, parent) SELECT $1, x FROM unnest($2::text[]) AS x"
                        " ON CONFLICT DO NOTHING",
    [P_REL_PUT] = "INSERT INTO auth_people(kind, person, other, doc_id) VALUES($1, $2, $3, $4)"
                  " ON CONFLICT (kind, person, other, doc_id) DO UPDATE SET deleted = false",
    [P_REL_RETIRE] = "UPDATE auth_people SET deleted = true WHERE doc_id = $1 AND NOT deleted",
    [P_LINEAGE_PUT] = "INSERT INTO lineage(resource, id, source, source_client, source_id, published_at)"
                      " VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (resource, id) DO UPDATE SET source = EXCLUDED.source,"
                      " source_client = EXCLUDED.source_client, source_id = EXCLUDED.source_id,"
                      " published_at = EXCLUDED.published_at",
#define PG_UP(seed) "WITH RECURSIVE up(id) AS (" seed " UNION SELECT e.parent FROM auth_edorg_parents e JOIN up ON e.edorg = up.id)"
#define PG_IN_CLAIMS " SELECT 1 FROM up WHERE id = ANY($2::text[]) LIMIT 1"
#define PG_PEOPLE(kind, live) PG_UP("SELECT other FROM auth_people WHERE kind = " #kind " AND person = $1" live) PG_IN_CLAIMS
#define PG_CONTACT(live)                                                                                               \
    PG_UP("SELECT s.other FROM auth_people c JOIN auth_people s ON s.kind = 1 AND s.person = c.other" live("s")       \
          " WHERE c.kind = 4 AND c.person = $1" live("c")) PG_IN_CLAIMS
#define PG_LIVE(t) " AND NOT " t ".deleted"
#define PG_ANY(t) ""
    [P_REACH + 2 * SV_EDORG] = PG_UP("SELECT $1::text") PG_IN_CLAIMS,
    [P_REACH + 2 * SV_EDORG + 1] = PG_UP("SELECT $1::text") PG_IN_CLAIMS,
    [P_REACH + 2 * SV_EDORG_INVERTED] = PG_UP("SELECT unnest($2::text[])") " SELECT 1 FROM up WHERE id = $1 LIMIT 1",
    [P_REACH + 2 * SV_EDORG_INVERTED + 1] = PG_UP("SELECT unnest($2::text[])") " SELECT 1 FROM up WHERE id = $1 LIMIT 1",
    [P_REACH + 2 * SV_STUDENT] = PG_PEOPLE(1, " AND NOT deleted"),
    [P_REACH + 2 * SV_STUDENT + 1] = PG_PEOPLE(1, ""),
    [P_REACH + 2 * SV_STUDENT_RESPONSIBILITY] = PG_PEOPLE(2, " AND NOT deleted"),
    [P_REACH + 2 * SV_STUDENT_RESPONSIBILITY + 1] = PG_PEOPLE(2, ""),
    [P_REACH + 2 * SV_STAFF] = PG_PEOPLE(3, " AND NOT deleted"),
    [P_REACH + 2 * SV_STAFF + 1] = PG_PEOPLE(3, ""),
    [P_REACH + 2 * SV_CONTACT] = PG_CONTACT(PG_LIVE),
    [P_REACH + 2 * SV_CONTACT + 1] = PG_CONTACT(PG_ANY),
};

typedef struct pgreader {
    PGconn *c;
    bool busy;
    uint8_t *prepared; /* per partition: its read-by-id statement is prepared here */
} pgreader;

/* A resource's own partition: reads name it directly, which spares the
 * planner the partition pruning on every request. */
typedef struct part {
    char *resource, *table;
} part;

/* Safe mode: the savepoint of the current job is created lazily with the
 * job's first write (in the same round trip) and released lazily with the
 * next job's first write or by COMMIT; a job that writes nothing costs no
 * savepoint. */
enum { SP_NONE, SP_PENDING, SP_ACTIVE };

/* What the writer knows about referential ids during a batch: found (with
 * the document) or known absent. Filled by the batch's prefetch and by
 * lookups, kept exact by the writer's own inserts, updates and deletes
 * (it is the only writer), emptied at each batch and after a rollback. */
typedef struct centry {
    uuid_t16 key;
    bool used, found;
    int64_t doc_id;
    char id[37];
    const char *resource;
} centry;

typedef struct pg {
    char *url, *read_url;
    bool read_only;              /* store_opts.read_only */
    PGconn *w;                   /* the writer connection */
    int64_t next_cv, batch_cv;   /* writer-only counters ... */
    int64_t next_doc, batch_doc; /* ... saved in meta at each commit */
    /* The highest change version of a job that succeeded, saved in meta
     * with its batch (availableChangeVersions reads it: a max over the
     * documents partitions has no index to use); job_cv is next_cv when
     * the current job began. */
    int64_t newest_cv, batch_newest, job_cv;
    bool safe;                   /* this batch checks every write at once (see pg_begin) */
    int pending;                 /* commands queued in the pipeline, results not read */
    int unchecked;               /* writes queued without their result checked (optimistic) */
    int first_failed;            /* index of the first failed command of the last w_sync */
    bool job_wrote;              /* the current job queued a write */
    int sp;                      /* SP_* of the current job (safe mode) */
    bool release_pending;        /* the previous job's savepoint is still open */
    centry *cache;               /* open addressing, capacity ccap (a power of two) */
    int ccap, cn;
    arena ca;                    /* the cache's strings */
    part *parts; /* sorted by resource */
    int nparts;
    int nreaders;
    pgreader *readers;
    pthread_mutex_t rmu;
    pthread_cond_t rcv;
} pg;

/* Parameters of one statement: text values, or binary (bytea) ones. */
#define MAX_P 20
typedef struct params {
    int n;
    const char *v[MAX_P];
    int len[MAX_P];
    int fmt[MAX_P];
    char num[MAX_P][24];
} params;

static void p_text(params *p, const char *s)
{
    p->v[p->n] = s;
    p->len[p->n] = 0;
    p->fmt[p->n++] = 0;
}

static void p_int(params *p, int64_t x)
{
    snprintf(p->num[p->n], sizeof p->num[0], "%lld", (long long)x);
    p_text(p, p->num[p->n]);
}

static void p_blob(params *p, const void *b, int len)
{
    p->v[p->n] = b;
    p->len[p->n] = len;
    p->fmt[p->n++] = b ? 1 : 0;
}

static const char *stmt_name(int stmt, char name[8])
{
    snprintf(name, 8, "s%d", (int)(unsigned short)stmt); /* statement numbers are small; bounded for the compiler */
    return name;
}

static PGresult *run(PGconn *c, int stmt, params *p)
{
    char name[8];
    return PQexecPrepared(c, stmt_name(stmt, name), p->n, p->v, p->len, p->fmt, 0);
}

static bool ok_result(PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/* What a failed statement means for the job: identity conflict, a
 * transient failure worth re-running the batch for, or a storage error. */
static err_t classify(PGconn *c, PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && !strcmp(state, "23505")) return ERR_IDENTITY_CONFLICT;
    if (PQstatus(c) != CONNECTION_OK) return ERR_RETRY;
    if (state && (!strncmp(state, "40", 2) || !strcmp(state, "55P03") || !strncmp(state, "57P", 3))) return ERR_RETRY;
    return ERR_STORAGE;
}

static err_t pg_fail(PGconn *c, PGresult *r, const char *what)
{
    err_t e = classify(c, r);
    if (e == ERR_RETRY) log_info("store(pg): %s: %s(will retry)", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    else log_error("store(pg): %s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    PQclear(r);
    return e == ERR_IDENTITY_CONFLICT ? ERR_STORAGE : e;
}

static bool exec_sql(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    bool ok = ok_result(r);
    if (!ok && err) snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

static PGconn *connect_to(const char *url, char *err, size_t errlen)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL (%s): %s", url, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    /* Our values are UTF-8 and our comparisons exact. */
    exec_sql(c, "SET client_encoding = 'UTF8'; SET standard_conforming_strings = on; SET client_min_messages = warning;",
             NULL, 0);
    return c;
}

static bool prepare_all(PGconn *c, char *err, size_t errlen)
{
    for (int i = 0; i < P_COUNT; i++) {
        char name[8];
        PGresult *r = PQprepare(c, stmt_name(i, name), pg_sql[i], 0, NULL);
        bool ok = ok_result(r);
        if (!ok) snprintf(err, errlen, "prepare failed: %s", PQresultErrorMessage(r));
        PQclear(r);
        if (!ok) return false;
    }
    return true;
}

/* The writer plans each statement once (re-planning per execution costs
 * more than running it), and every one of its statements is a key lookup:
 * without seq scans, a generic plan made while the tables were still
 * empty stays an index plan when they hold millions of rows. */
#define WRITER_SETTINGS                                                                                                \
    "SET lock_timeout = '" WRITER_LOCK_TIMEOUT "'; SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; SET enable_bitmapscan = off"

/* Writer session set-up (also after a reconnect): statements, the lock
 * timeout, and the single-writer advisory lock. */
static bool writer_session(pg *s, bool wait_for_lock, char *err, size_t errlen)
{
    if (!prepare_all(s->w, err, errlen) ||
        !exec_sql(s->w, WRITER_SETTINGS, err, errlen))
        return false;
    if (s->read_only) return true; /* never writes: leaves the lock to the writer */
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT %s(%lld)", wait_for_lock ? "pg_advisory_lock" : "pg_try_advisory_lock",
             WRITER_LOCK_KEY);
    PGresult *r = PQexec(s->w, lock);
    bool locked = ok_result(r) && PQntuples(r) == 1 && (wait_for_lock || !strcmp(PQgetvalue(r, 0, 0), "t"));
    PQclear(r);
    if (!locked) snprintf(err, errlen, "another edhub process is writing this database (%s); stop it first", s->url);
    return locked;
}

static void pg_close(void *impl)
{
    pg *s = impl;
    if (!s) return;
    for (int i = 0; s->readers && i < s->nreaders; i++) {
        PQfinish(s->readers[i].c);
        free(s->readers[i].prepared);
    }
    for (int i = 0; i < s->nparts; i++) free(s->parts[i].resource), free(s->parts[i].table);
    free(s->parts);
    PQfinish(s->w);
    free(s->readers);
    free(s->url);
    free(s->read_url);
    free(s->cache);
    arena_free(&s->ca);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->rcv);
    free(s);
}

/* ---- schema: creation, partitions, migrations ---- */

static void hash_partitions(buf *b, const char *table)
{
    for (int i = 0; i < HASH_PARTS; i++)
        buf_printf(b, "CREATE TABLE %s_p%d PARTITION OF %s FOR VALUES WITH (MODULUS %d, REMAINDER %d);", table, i, table,
                   HASH_PARTS, i);
}

/* The partition of a resource: documents_<endpoint>_<hash>, short enough
 * for PostgreSQL's 63-byte names; the hash keeps projects apart. Resource
 * names come from the model and are checked to be plain before they are
 * used in DDL. */
static bool partition_name(const char *resource, char *out, size_t n)
{
    for (const char *p = resource; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '/' || *p == '-' ||
              *p == '_'))
            return false;
    uint32_t h = 2166136261u;
    for (const char *p = resource; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
    const char *ep = strrchr(resource, '/');
    ep = ep ? ep + 1 : resource;
    char low[41];
    size_t k = 0;
    for (; ep[k] && k < 40; k++) low[k] = (char)((ep[k] >= 'A' && ep[k] <= 'Z') ? ep[k] + 32 : ep[k] == '-' ? '_' : ep[k]);
    low[k] = 0;
    snprintf(out, n, "documents_%s_%08x", low, h);
    return true;
}

/* The names of documents' partitions (caller clears), or NULL. */
static PGresult *list_partitions(pg *s, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->w, "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                               " WHERE i.inhparent = 'documents'::regclass");
    if (ok_result(r)) return r;
    snprintf(err, errlen, "cannot list partitions: %s", PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
}

/* Gives every listed resource its own partition. A resource whose rows
 * already sit in documents_other (written before its partition existed)
 * is moved there only when migrating, since that rewrites its rows. */
static bool ensure_partitions(pg *s, const store_opts *o, char *err, size_t errlen)
{
    if (!o || !o->resources) return true;
    PGresult *r = list_partitions(s, err, errlen);
    if (!r) return false;
    buf ddl;
    buf_init(&ddl, 0);
    int waiting = 0;
    bool ok = true;
    for (int i = 0; o->resources[i] && ok; i++) {
        char name[80];
        if (!partition_name(o->resources[i], name, sizeof name)) continue;
        bool have = false;
        for (int k = 0; k < PQntuples(r) && !have; k++) have = !strcmp(PQgetvalue(r, k, 0), name);
        if (have) continue;
        const char *v[1] = {o->resources[i]};
        PGresult *q = PQexecParams(s->w, "SELECT 1 FROM documents_other WHERE resource = $1 LIMIT 1", 1, NULL, v, NULL, NULL, 0);
        bool rows = ok_result(q) && PQntuples(q) > 0;
        PQclear(q);
        if (!rows) {
            buf_printf(&ddl, "CREATE TABLE %s PARTITION OF documents FOR VALUES IN ('%s');", name, o->resources[i]);
        } else if (o->migrate) {
            buf_printf(&ddl,
                       "CREATE TABLE %s (LIKE documents INCLUDING DEFAULTS);"
                       "WITH m AS (DELETE FROM documents_other WHERE resource = '%s' RETURNING *) INSERT INTO %s SELECT * FROM m;"
                       "ALTER TABLE documents ATTACH PARTITION %s FOR VALUES IN ('%s');",
                       name, o->resources[i], name, name, o->resources[i]);
            log_info("store(pg): moving %s into its own partition %s", o->resources[i], name);
        } else {
            waiting++;
        }
    }
    PQclear(r);
    if (ddl.len) ok = exec_sql(s->w, ddl.data, err, errlen);
    buf_free(&ddl);
    if (waiting)
        log_info("store(pg): %d resources are stored in documents_other; run 'edhub migrate' to give them their own "
                 "partitions",
                 waiting);
    return ok;
}

static bool create_schema(pg *s, char *err, size_t errlen)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, pg_tables_sql);
    hash_partitions(&b, "identities");
    hash_partitions(&b, "refs");
    hash_partitions(&b, "qvals");
    buf_puts(&b, pg_small_tables_sql);
    bool ok = exec_sql(s->w, b.data, err, errlen);
    buf_free(&b);
    return ok;
}

/* Version 2 (one unpartitioned table each, a doc_id sequence) to 3. */
static bool migrate_2_3(pg *s, const store_opts *o, char *err, size_t errlen)
{
    static const char *rename_old =
        "DROP INDEX IF EXISTS documents_id, documents_resource, documents_cv;"
        "ALTER TABLE documents RENAME TO documents_v2; ALTER TABLE documents_v2 RENAME CONSTRAINT documents_pkey TO documents_v2_pkey;"
        "ALTER TABLE identities RENAME TO identities_v2; ALTER TABLE identities_v2 RENAME CONSTRAINT identities_pkey TO identities_v2_pkey;"
        "ALTER TABLE refs RENAME TO refs_v2; ALTER TABLE refs_v2 RENAME CONSTRAINT refs_pkey TO refs_v2_pkey;"
        "ALTER TABLE qvals RENAME TO qvals_v2; ALTER TABLE qvals_v2 RENAME CONSTRAINT qvals_pkey TO qvals_v2_pkey;";
    static const char *copy_rows =
        "INSERT INTO documents(doc_id, id, resource, ref_id, alias_id, body, refs, etag, last_modified, change_version, owner, qv)"
        "  SELECT doc_id, id, resource, ref_id, alias_id, body, refs, etag, last_modified, change_version, owner, qv FROM documents_v2;"
        "INSERT INTO identities(ref_id, doc_id, resource, id) SELECT i.ref_id, i.doc_id, d.resource, d.id"
        "  FROM identities_v2 i JOIN documents_v2 d ON d.doc_id = i.doc_id;"
        "INSERT INTO refs(target, doc_id, resource) SELECT r.target, r.doc_id, d.resource"
        "  FROM refs_v2 r JOIN documents_v2 d ON d.doc_id = r.doc_id;"
        "INSERT INTO qvals(kv, doc_id) SELECT field || E'\\t' || value, doc_id FROM qvals_v2;"
        "INSERT INTO meta(key, value) VALUES"
        "  ('next_doc', (SELECT coalesce(max(doc_id), 0) + 1 FROM documents_v2)::text),"
        "  ('next_cv', (SELECT greatest(coalesce((SELECT max(change_version) FROM documents_v2), 0),"
        "     coalesce((SELECT max(change_version) FROM tombstones), 0),"
        "     coalesce((SELECT max(change_version) FROM key_changes), 0)) + 1)::text)"
        "  ON CONFLICT(key) DO UPDATE SET value = excluded.value;"
        "DROP TABLE documents_v2, identities_v2, refs_v2, qvals_v2;";
    return exec_sql(s->w, rename_old, err, errlen) && create_schema(s, err, errlen) && ensure_partitions(s, o, err, errlen) &&
           exec_sql(s->w, copy_rows, err, errlen);
}

/* 3 → 4: the authorization subject columns (older rows fall back to their
 * JSON body in list filters). */
static bool migrate_3_4(pg *s, const store_opts *o, char *err, size_t errlen)
{
    (void)o;
    return exec_sql(s->w, "ALTER TABLE documents ADD COLUMN IF NOT EXISTS sec_edorg text, ADD COLUMN IF NOT EXISTS sec_person text",
                    err, errlen);
}

/* 4 -> 5: what change queries keep of a deleted or re-keyed document
 * (store_prior), and the newest change version in meta. Older rows keep
 * their key JSON and no subjects (served as stored, to clients whose
 * ReadChanges needs no record-level check). next_cv - 1 bounds every
 * version handed out, so it is a safe newest version until the next write
 * makes it exact. Repeatable: IF NOT EXISTS, DO NOTHING. */
static bool migrate_4_5(pg *s, const store_opts *o, char *err, size_t errlen)
{
    (void)o;
#define PRIOR_COLS                                                                                                     \
    " ADD COLUMN IF NOT EXISTS ref_id bytea, ADD COLUMN IF NOT EXISTS sec_edorg text,"                                 \
    " ADD COLUMN IF NOT EXISTS sec_person text, ADD COLUMN IF NOT EXISTS subjects text, ADD COLUMN IF NOT EXISTS owner text;"
    return exec_sql(s->w,
                    "ALTER TABLE tombstones" PRIOR_COLS "ALTER TABLE key_changes" PRIOR_COLS
                    "INSERT INTO meta(key, value) SELECT 'newest_cv', (value::bigint - 1)::text FROM meta"
                    "  WHERE key = 'next_cv' ON CONFLICT (key) DO NOTHING;",
                    err, errlen);
#undef PRIOR_COLS
}

/* Versioned steps: steps[v] takes version v to v + 1. */
typedef bool (*migration_fn)(pg *s, const store_opts *o, char *err, size_t errlen);
static const migration_fn pg_migrations[PG_SCHEMA_VERSION] = {[2] = migrate_2_3, [3] = migrate_3_4, [4] = migrate_4_5};

static int read_version(PGconn *c)
{
    PGresult *r = PQexec(c, "SELECT value FROM meta WHERE key = 'schema_version'");
    int v = ok_result(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return v;
}

/* Creates the schema of a new database, or checks (and with o->migrate
 * upgrades) an existing one. Serialized across processes by a
 * transaction-level advisory lock; each step is its own transaction. */
static bool prepare_schema(pg *s, const store_opts *o, char *err, size_t errlen)
{
    char lock[96];
    snprintf(lock, sizeof lock, "BEGIN; SELECT pg_advisory_xact_lock(%lld);", SCHEMA_LOCK_KEY);
    if (!exec_sql(s->w, lock, err, errlen)) return false;
    PGresult *r = PQexec(s->w, "SELECT to_regclass('meta') IS NOT NULL");
    bool exists = ok_result(r) && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (!exists) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);"
                 "INSERT INTO meta VALUES('schema_version', '%d'), ('next_cv', '1'), ('next_doc', '1'), ('newest_cv', '0');",
                 PG_SCHEMA_VERSION);
        if (!exec_sql(s->w, sql, err, errlen) || !create_schema(s, err, errlen)) goto fail;
    }
    int v = read_version(s->w);
    if (v > PG_SCHEMA_VERSION || v < 2) {
        snprintf(err, errlen, "the database has storage schema version %d, which this edhub (version %d) cannot use%s", v,
                 PG_SCHEMA_VERSION, v > PG_SCHEMA_VERSION ? "; upgrade edhub" : "");
        goto fail;
    }
    if (v < PG_SCHEMA_VERSION && !(o && o->migrate)) {
        snprintf(err, errlen,
                 "the database has storage schema version %d and this edhub uses version %d: stop the servers of this "
                 "instance and run 'edhub migrate --data DIR'",
                 v, PG_SCHEMA_VERSION);
        goto fail;
    }
    for (; v < PG_SCHEMA_VERSION; v++) {
        char sql[96];
        snprintf(sql, sizeof sql, "UPDATE meta SET value = '%d' WHERE key = 'schema_version'", v + 1);
        if (!pg_migrations[v](s, o, err, errlen) || !exec_sql(s->w, sql, err, errlen) || !exec_sql(s->w, "COMMIT", err, errlen) ||
            !exec_sql(s->w, lock, err, errlen))
            goto fail;
        log_info("store(pg): storage schema migrated from version %d to %d", v, v + 1);
    }
    if (!ensure_partitions(s, o, err, errlen) || !exec_sql(s->w, pg_small_tables_sql, err, errlen) ||
        !exec_sql(s->w, "COMMIT", err, errlen))
        goto fail;
    return true;
fail:
    exec_sql(s->w, "ROLLBACK", NULL, 0);
    return false;
}

static int cmp_part(const void *a, const void *b)
{
    return strcmp(((const part *)a)->resource, ((const part *)b)->resource);
}

/* The partitions that exist for the listed resources. */
static bool load_partitions(pg *s, const store_opts *o, char *err, size_t errlen)
{
    if (!o || !o->resources) return true;
    PGresult *r = list_partitions(s, err, errlen);
    if (!r) return false;
    int n = 0;
    while (o->resources[n]) n++;
    s->parts = xcalloc((size_t)n + 1, sizeof *s->parts);
    for (int i = 0; i < n; i++) {
        char name[80];
        if (!partition_name(o->resources[i], name, sizeof name)) continue;
        for (int k = 0; k < PQntuples(r); k++)
            if (!strcmp(PQgetvalue(r, k, 0), name)) {
                s->parts[s->nparts].resource = xstrdup(o->resources[i]);
                s->parts[s->nparts++].table = xstrdup(name);
                break;
            }
    }
    PQclear(r);
    qsort(s->parts, (size_t)s->nparts, sizeof *s->parts, cmp_part);
    return true;
}

static int find_part(const pg *s, const char *resource)
{
    part key = {(char *)resource, NULL};
    const part *p = s->nparts ? bsearch(&key, s->parts, (size_t)s->nparts, sizeof key, cmp_part) : NULL;
    return p ? (int)(p - s->parts) : -1;
}

static bool read_counters(pg *s, char *err, size_t errlen)
{
    PGresult *r = PQexec(s->w, "SELECT key, value FROM meta WHERE key IN ('next_cv', 'next_doc', 'newest_cv')");
    bool ok = ok_result(r) && PQntuples(r) == 3;
    for (int i = 0; ok && i < 3; i++) {
        int64_t v = strtoll(PQgetvalue(r, i, 1), NULL, 10);
        const char *k = PQgetvalue(r, i, 0);
        if (!strcmp(k, "next_cv")) s->next_cv = v;
        else if (!strcmp(k, "next_doc")) s->next_doc = v;
        else s->newest_cv = v;
    }
    if (!ok) snprintf(err, errlen, "the meta table lacks the writer counters");
    PQclear(r);
    return ok;
}

static err_t pg_open(const char *url, const store_opts *opts, void **out, char *err, size_t errlen)
{
    pg *s = xcalloc(1, sizeof *s);
    s->url = xstrdup(url);
    s->read_url = xstrdup(opts && opts->read_location ? opts->read_location : url);
    s->read_only = opts && opts->read_only;
    s->nreaders = opts && opts->readers > 0 ? opts->readers : 8;
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->rcv, NULL);
    arena_init(&s->ca, 1 << 14);
    if (!(s->w = connect_to(url, err, errlen)) || !prepare_schema(s, opts, err, errlen) || !load_partitions(s, opts, err, errlen) ||
        !writer_session(s, false, err, errlen) || !read_counters(s, err, errlen))
        goto fail;
    s->readers = xcalloc((size_t)s->nreaders, sizeof(pgreader));
    for (int i = 0; i < s->nreaders; i++) s->readers[i].prepared = xcalloc((size_t)s->nparts + 1, 1);
    /* One reader now, to report a wrong read_database at start-up. */
    if (!(s->readers[0].c = connect_to(s->read_url, err, errlen)) || !prepare_all(s->readers[0].c, err, errlen)) goto fail;
    *out = s;
    return ERR_OK;
fail:
    pg_close(s);
    return ERR_STORAGE;
}

/* ---- the writer's identity cache ---- */

static uint64_t key_hash(const uuid_t16 *k)
{
    uint64_t h;
    memcpy(&h, k->b, 8); /* referential ids are SHA-1 based: already uniform */
    return h;
}

static void cache_clear(pg *s)
{
    if (s->cache) memset(s->cache, 0, sizeof *s->cache * (size_t)s->ccap);
    s->cn = 0;
    arena_free(&s->ca);
    arena_init(&s->ca, 1 << 14);
}

static centry *cache_find(pg *s, const uuid_t16 *k)
{
    if (!s->cache) return NULL;
    for (uint64_t i = key_hash(k) & (uint64_t)(s->ccap - 1), n = 0; n < (uint64_t)s->ccap;
         i = (i + 1) & (uint64_t)(s->ccap - 1), n++) {
        if (!s->cache[i].used) return NULL;
        if (!memcmp(s->cache[i].key.b, k->b, 16)) return &s->cache[i];
    }
    return NULL;
}

static void cache_put(pg *s, const uuid_t16 *k, bool found, int64_t doc_id, const char *id, const char *resource)
{
    if (2 * (s->cn + 1) > s->ccap) { /* grow: rehash into twice the room */
        int ocap = s->ccap;
        centry *old = s->cache;
        s->ccap = ocap ? ocap * 2 : 1024;
        s->cache = xcalloc((size_t)s->ccap, sizeof *s->cache);
        s->cn = 0;
        for (int i = 0; i < ocap; i++)
            if (old[i].used) {
                centry *e = &s->cache[key_hash(&old[i].key) & (uint64_t)(s->ccap - 1)];
                while (e->used) e = e == &s->cache[s->ccap - 1] ? s->cache : e + 1;
                *e = old[i];
                s->cn++;
            }
        free(old);
    }
    centry *e = cache_find(s, k);
    if (!e) {
        e = &s->cache[key_hash(k) & (uint64_t)(s->ccap - 1)];
        while (e->used) e = e == &s->cache[s->ccap - 1] ? s->cache : e + 1;
        e->used = true;
        e->key = *k;
        s->cn++;
    }
    e->found = found;
    e->doc_id = doc_id;
    snprintf(e->id, sizeof e->id, "%s", id ? id : "");
    e->resource = resource ? arena_strdup(&s->ca, resource) : NULL;
}

/* ---- the writer's pipeline ----
 * During a batch the writer connection stays in libpq pipeline mode:
 * commands are queued (w_send) and their results read together (w_sync),
 * one round trip however many are queued.
 *
 * A batch first runs optimistically: writes are only queued, each job's
 * lookups are answered from the cache (one prefetch for the whole batch),
 * and no savepoint is made, so a batch of new documents costs a couple of
 * round trips in all. If anything then fails in a way that needs one job
 * undone alone (a queued write failed, or a job failed after writing),
 * store.c rolls the batch back and runs it again in safe mode, where each
 * job has its savepoint and each write is checked at once. */

static bool w_send_sql(pg *s, const char *sql)
{
    s->pending++;
    return PQsendQueryParams(s->w, sql, 0, NULL, NULL, NULL, NULL, 0) == 1;
}

static bool w_send(pg *s, int stmt, const params *p)
{
    char name[8];
    s->pending++;
    return PQsendQueryPrepared(s->w, stmt_name(stmt, name), p->n, p->v, p->len, p->fmt, 0) == 1;
}

/* Reads the results of every queued command; keeps the last one's in
 * *last when asked (the caller clears it). Returns the first failure:
 * ERR_IDENTITY_CONFLICT, ERR_RETRY (transient, or an optimistic write that
 * failed), or ERR_STORAGE; s->first_failed says which command. */
static err_t w_sync(pg *s, PGresult **last, const char *what)
{
    PGconn *c = s->w;
    if (last) *last = NULL;
    int n = s->pending, unchecked = s->unchecked;
    s->pending = 0;
    s->unchecked = 0;
    s->first_failed = -1;
    if (!PQpipelineSync(c)) return ERR_RETRY;
    err_t e = ERR_OK;
    int cmd = 0;
    for (int guard = 0; guard < 4 * n + 8; guard++) {
        PGresult *r = PQgetResult(c);
        if (!r) {
            if (cmd < n) cmd++;
            else if (PQstatus(c) != CONNECTION_OK) break;
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (ok_result(r)) {
            if (last && cmd == n - 1) {
                PQclear(*last);
                *last = r;
            } else {
                PQclear(r);
            }
        } else if (st == PGRES_PIPELINE_ABORTED) {
            PQclear(r);
        } else {
            if (!e) {
                s->first_failed = cmd;
                e = classify(c, r);
                if (e == ERR_RETRY || (cmd < unchecked && e == ERR_IDENTITY_CONFLICT))
                    log_info("store(pg): %s: %s(running the batch again)", what, PQresultErrorMessage(r));
                else if (e != ERR_IDENTITY_CONFLICT)
                    log_error("store(pg): %s: %s", what, PQresultErrorMessage(r));
            }
            PQclear(r);
        }
        if (PQstatus(c) != CONNECTION_OK) {
            if (!e) e = ERR_RETRY;
            break;
        }
    }
    if (!e && PQstatus(c) != CONNECTION_OK) e = ERR_RETRY;
    /* A queued write of an earlier job failed: only a safe re-run can say
     * which job it was. */
    if (e && s->first_failed >= 0 && s->first_failed < unchecked) e = ERR_RETRY;
    if (e && last) {
        PQclear(*last);
        *last = NULL;
    }
    return e;
}

/* Runs one query and returns its result (caller clears), after the
 * commands queued before it. */
static err_t w_query(pg *s, int stmt, const params *p, PGresult **out, const char *what)
{
    if (!w_send(s, stmt, p)) {
        w_sync(s, NULL, what);
        return ERR_RETRY;
    }
    err_t e = w_sync(s, out, what);
    return e == ERR_IDENTITY_CONFLICT ? ERR_STORAGE : e;
}

static void w_leave_pipeline(pg *s)
{
    if (PQpipelineStatus(s->w) != PQ_PIPELINE_OFF && !PQexitPipelineMode(s->w) && PQstatus(s->w) == CONNECTION_OK)
        log_error("store(pg): cannot leave pipeline mode: %s", PQerrorMessage(s->w));
}

/* ---- batch control (writer thread) ---- */

static err_t pg_begin(void *impl, bool safe)
{
    pg *s = impl;
    if (PQstatus(s->w) != CONNECTION_OK) {
        /* The server restarted or failed over: connect again (the URL may
         * list several hosts with target_session_attrs=read-write), set the
         * session up and wait for the writer lock. */
        char err[512];
        PGconn *c = connect_to(s->url, err, sizeof err);
        if (!c) {
            log_error("store(pg): reconnect failed: %s", err);
            return ERR_RETRY;
        }
        PQfinish(s->w);
        s->w = c;
        /* The counters again: a COMMIT whose answer was lost may have
         * happened, and versions must never be handed out twice. */
        if (!writer_session(s, true, err, sizeof err) || !read_counters(s, err, sizeof err)) {
            log_error("store(pg): reconnect failed: %s", err);
            return ERR_RETRY;
        }
        log_info("store(pg): writer reconnected");
    }
    s->batch_cv = s->next_cv;
    s->batch_doc = s->next_doc;
    s->batch_newest = s->newest_cv;
    s->safe = safe;
    s->sp = SP_NONE;
    s->release_pending = false;
    s->pending = s->unchecked = 0;
    cache_clear(s);
    if (!PQenterPipelineMode(s->w)) return ERR_RETRY;
    return w_send_sql(s, "BEGIN") ? ERR_OK : ERR_RETRY; /* answered with the first sync */
}

static err_t pg_savepoint(void *impl)
{
    pg *s = impl;
    s->job_wrote = false;
    s->job_cv = s->next_cv;
    if (s->safe) s->sp = SP_PENDING;
    return ERR_OK;
}

static err_t pg_release(void *impl)
{
    pg *s = impl;
    if (s->next_cv > s->job_cv) s->newest_cv = s->next_cv - 1; /* the job succeeded: its versions will be committed */
    if (s->sp == SP_ACTIVE) s->release_pending = true;
    s->sp = SP_NONE;
    return ERR_OK;
}

/* Undoes the current job. Optimistic mode has no savepoint: a job that
 * wrote something asks for a safe re-run of the batch (ERR_RETRY). */
static err_t pg_rollback_to(void *impl)
{
    pg *s = impl;
    if (!s->safe) return s->job_wrote ? ERR_RETRY : ERR_OK;
    err_t e = ERR_OK;
    if (s->sp == SP_ACTIVE) {
        w_send_sql(s, "ROLLBACK TO SAVEPOINT job");
        w_send_sql(s, "RELEASE SAVEPOINT job");
        e = w_sync(s, NULL, "rollback to savepoint") ? ERR_STORAGE : ERR_OK;
        cache_clear(s); /* the job's own changes are gone */
    }
    s->sp = SP_NONE;
    return e;
}

/* Gives the whole batch up (before a re-run, or after a failed COMMIT). */
static void pg_abort(void *impl)
{
    pg *s = impl;
    if (PQstatus(s->w) == CONNECTION_OK) {
        if (PQpipelineStatus(s->w) == PQ_PIPELINE_OFF) PQenterPipelineMode(s->w);
        w_send_sql(s, "ROLLBACK");
        w_sync(s, NULL, "rollback");
    }
    w_leave_pipeline(s);
    s->pending = s->unchecked = 0;
    s->next_cv = s->batch_cv;
    s->next_doc = s->batch_doc;
    s->newest_cv = s->batch_newest;
    cache_clear(s);
}

static err_t pg_commit(void *impl)
{
    pg *s = impl;
    if (s->next_cv != s->batch_cv || s->next_doc != s->batch_doc) {
        char sql[320];
        snprintf(sql, sizeof sql,
                 "UPDATE meta SET value = CASE key WHEN 'next_cv' THEN '%lld' WHEN 'next_doc' THEN '%lld' ELSE '%lld' END"
                 " WHERE key IN ('next_cv', 'next_doc', 'newest_cv')",
                 (long long)s->next_cv, (long long)s->next_doc, (long long)s->newest_cv);
        w_send_sql(s, sql);
    }
    /* Every queued write is checked before COMMIT is sent: up to here a
     * lost connection or a failed write can still be retried safely. */
    err_t e = w_sync(s, NULL, "batch");
    if (e) {
        pg_abort(s);
        return e == ERR_RETRY ? ERR_RETRY : ERR_STORAGE;
    }
    w_send_sql(s, "COMMIT");
    e = w_sync(s, NULL, "COMMIT");
    if (!e) {
        w_leave_pipeline(s);
        return ERR_OK;
    }
    /* Not retried: if the connection broke during COMMIT the outcome is
     * unknown, and the clients must be told so. */
    log_error("store(pg): COMMIT failed: %s", PQerrorMessage(s->w));
    pg_abort(s);
    return ERR_STORAGE;
}

/* ---- writer statements ---- */

typedef struct pcall { int stmt; params *p; } pcall;

/* Queues a job's write statements. Optimistic mode: only queued (checked
 * at the next sync). Safe mode: with the pending RELEASE and this job's
 * SAVEPOINT, checked at once. */
static err_t w_write(pg *s, const pcall *calls, int n, const char *what)
{
    s->job_wrote = true;
    if (!s->safe) {
        bool ok = true;
        for (int i = 0; i < n; i++) ok &= w_send(s, calls[i].stmt, calls[i].p);
        s->unchecked = s->pending;
        return ok ? ERR_OK : ERR_RETRY;
    }
    bool release = s->release_pending, new_sp = s->sp == SP_PENDING;
    if (release) w_send_sql(s, "RELEASE SAVEPOINT job");
    if (new_sp) w_send_sql(s, "SAVEPOINT job");
    int first_call = (release ? 1 : 0) + (new_sp ? 1 : 0);
    for (int i = 0; i < n; i++) w_send(s, calls[i].stmt, calls[i].p);
    err_t e = w_sync(s, NULL, what);
    if (release && (!e || s->first_failed > 0)) s->release_pending = false;
    if (new_sp && (!e || s->first_failed >= first_call)) s->sp = SP_ACTIVE;
    return e;
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    /* bytea in text results: "\x0011..." */
    if (hex[0] == '\\' && hex[1] == 'x') hex += 2;
    for (size_t i = 0; i < n && hex[2 * i] && hex[2 * i + 1]; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void read_doc(PGresult *r, int row, arena *a, store_doc *d)
{
    memset(d, 0, sizeof *d);
    d->doc_id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    snprintf(d->id, sizeof d->id, "%s", PQgetvalue(r, row, 1));
    d->resource = arena_strdup(a, PQgetvalue(r, row, 2));
    d->body = arena_strndup(a, PQgetvalue(r, row, 3), (size_t)PQgetlength(r, row, 3));
    d->etag = strtoll(PQgetvalue(r, row, 4), NULL, 10);
    snprintf(d->last_modified, sizeof d->last_modified, "%s", PQgetvalue(r, row, 5));
    hex_to_bytes(PQgetvalue(r, row, 6), d->refid.b, 16);
    if (!PQgetisnull(r, row, 7)) {
        const char *hex = PQgetvalue(r, row, 7);
        size_t nb = (strlen(hex) - 2) / 2;
        d->nrefs = (int)(nb / 16);
        uint8_t *b = arena_alloc(a, nb + 1);
        hex_to_bytes(hex, b, nb);
        d->refs = b;
    }
    if (!PQgetisnull(r, row, 8)) d->qvals = arena_strdup(a, PQgetvalue(r, row, 8));
    if (!PQgetisnull(r, row, 9)) {
        hex_to_bytes(PQgetvalue(r, row, 9), d->alias.b, 16);
        d->has_alias = true;
    }
    if (PQnfields(r) > 10 && !PQgetisnull(r, row, 10)) d->owner = arena_strdup(a, PQgetvalue(r, row, 10));
}

/* Appends ids (16 bytes each) as comma-separated hex. */
static void hex_list(buf *b, const uint8_t *ids, int n)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < n; i++) {
        if (b->len) buf_putc(b, ',');
        for (int k = 0; k < 16; k++) {
            buf_putc(b, hex[ids[16 * i + k] >> 4]);
            buf_putc(b, hex[ids[16 * i + k] & 15]);
        }
    }
}

/* Looks up the ids the cache does not know, in one query, and caches the
 * answers (found or absent). */
static err_t lookup_missing(pg *s, int n, const uuid_t16 *ids)
{
    buf list;
    buf_init(&list, 0);
    int miss = 0;
    for (int i = 0; i < n; i++)
        if (!cache_find(s, &ids[i])) hex_list(&list, ids[i].b, 1), miss++;
    if (!miss) {
        buf_free(&list);
        return ERR_OK;
    }
    params p = {0};
    p_text(&p, list.data);
    PGresult *r;
    err_t e = w_query(s, P_FIND_IDENTITIES, &p, &r, "find identities");
    buf_free(&list);
    if (e) return e;
    for (int row = 0; row < PQntuples(r); row++) {
        uuid_t16 id;
        hex_to_bytes(PQgetvalue(r, row, 0), id.b, 16);
        cache_put(s, &id, true, strtoll(PQgetvalue(r, row, 1), NULL, 10), PQgetvalue(r, row, 2), PQgetvalue(r, row, 3));
    }
    PQclear(r);
    for (int i = 0; i < n; i++)
        if (!cache_find(s, &ids[i])) cache_put(s, &ids[i], false, 0, NULL, NULL);
    return ERR_OK;
}

static err_t w_prefetch(void *impl, int n, const uuid_t16 *ids)
{
    return n > 0 ? lookup_missing(impl, n, ids) : ERR_OK;
}

static err_t w_find_identities(void *impl, int n, const uuid_t16 *refids, arena *a, store_hit *hits, bool *found)
{
    pg *s = impl;
    err_t e = lookup_missing(s, n, refids);
    if (e) return e;
    for (int i = 0; i < n; i++) {
        const centry *c = cache_find(s, &refids[i]);
        found[i] = c && c->found;
        if (!found[i]) continue;
        hits[i].doc_id = c->doc_id;
        memcpy(hits[i].id, c->id, sizeof hits[i].id);
        hits[i].resource = arena_strdup(a, c->resource);
    }
    return ERR_OK;
}

static err_t w_find_identity(void *impl, const uuid_t16 *refid, arena *a, store_hit *out)
{
    bool found = false;
    err_t e = w_find_identities(impl, 1, refid, a, out, &found);
    return e ? e : found ? ERR_OK : ERR_NOT_FOUND;
}

static err_t w_one_doc(pg *s, int stmt, const params *p, arena *a, store_doc *out, const char *what)
{
    PGresult *r;
    err_t e = w_query(s, stmt, p, &r, what);
    if (e) return e;
    e = ERR_NOT_FOUND;
    if (PQntuples(r) == 1) {
        read_doc(r, 0, a, out);
        e = ERR_OK;
    }
    PQclear(r);
    return e;
}

static err_t w_get(void *impl, const char *resource, int64_t doc_id, arena *a, store_doc *out)
{
    params p = {0};
    p_text(&p, resource);
    p_int(&p, doc_id);
    return w_one_doc(impl, P_GET, &p, a, out, "get");
}

static err_t w_get_by_id(void *impl, const char *resource, const char *id, arena *a, store_doc *out)
{
    params p = {0};
    p_text(&p, id);
    p_text(&p, resource);
    return w_one_doc(impl, P_GET_BY_ID, &p, a, out, "get by id");
}

/* Query-index rows "key\tvalue\n"... as a JSON array of [key, value]
 * pairs; only the rows for which keep(row) holds. */
typedef struct qrow { const char *k, *v; int kl, vl; } qrow;

static int qv_rows(const char *qv, qrow *rows, int max)
{
    int n = 0;
    for (const char *line = qv; line && *line && n < max;) {
        const char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
        if (!tab || !nl || tab > nl) break;
        rows[n++] = (qrow){line, tab + 1, (int)(tab - line), (int)(nl - tab - 1)};
        line = nl + 1;
    }
    return n;
}

static bool qrow_in(const qrow *x, const qrow *set, int n)
{
    for (int i = 0; i < n; i++)
        if (set[i].kl == x->kl && set[i].vl == x->vl && !memcmp(set[i].k, x->k, (size_t)x->kl) &&
            !memcmp(set[i].v, x->v, (size_t)x->vl))
            return true;
    return false;
}

#define MAX_QROWS 512

/* A JSON array of the "key\tvalue" strings of the rows of a that are not
 * in b (b may be empty). */
static void qv_json(buf *out, const qrow *a, int na, const qrow *b, int nb)
{
    buf_putc(out, '[');
    int k = 0;
    for (int i = 0; i < na; i++) {
        if (qrow_in(&a[i], b, nb)) continue;
        if (k++) buf_putc(out, ',');
        /* the row runs from its key to the end of its value, tab included */
        buf_json_strn(out, a[i].k, (size_t)(a[i].v + a[i].vl - a[i].k));
    }
    buf_putc(out, ']');
}

static bool id_in(const uint8_t *id, const uint8_t *set, int n)
{
    for (int i = 0; i < n; i++)
        if (!memcmp(set + 16 * i, id, 16)) return true;
    return false;
}

/* Hex list of the ids of a that are not in b. */
static void ids_minus(buf *out, const uint8_t *a, int na, const uint8_t *b, int nb)
{
    for (int i = 0; i < na; i++)
        if (!id_in(a + 16 * i, b, nb)) hex_list(out, a + 16 * i, 1);
}

/* ERR_IDENTITY_CONFLICT when one of the ids (other than those of doc_id
 * itself) belongs to a document: checked before writing, so that an
 * optimistic batch does not have to be re-run for it. */
static err_t taken(pg *s, const uuid_t16 *ids, int n, int64_t doc_id)
{
    err_t e = lookup_missing(s, n, ids);
    if (e) return e;
    for (int i = 0; i < n; i++) {
        const centry *c = cache_find(s, &ids[i]);
        if (c && c->found && c->doc_id != doc_id) return ERR_IDENTITY_CONFLICT;
    }
    return ERR_OK;
}

static err_t w_insert(void *impl, const store_put *put, store_doc *out)
{
    pg *s = impl;
    uuid_t16 keys[2] = {*put->refid};
    if (put->alias) keys[1] = *put->alias;
    err_t e = taken(s, keys, put->alias ? 2 : 1, -1);
    if (e) return e;
    uuid_t16 id;
    uuid_v7(&id);
    uuid_format(&id, out->id);
    int64_t cv = s->next_cv++, doc_id = s->next_doc++;
    time_now_iso(out->last_modified);
    buf refs, qv;
    buf_init(&refs, 0);
    buf_init(&qv, 0);
    hex_list(&refs, (const uint8_t *)put->refs, put->nrefs);
    qrow *rows = xmalloc(sizeof *rows * MAX_QROWS);
    qv_json(&qv, rows, qv_rows(put->qvals, rows, MAX_QROWS), NULL, 0);
    free(rows);
    params p = {0};
    p_int(&p, doc_id);
    p_text(&p, out->id);
    p_text(&p, put->resource);
    p_blob(&p, put->refid->b, 16);
    p_blob(&p, put->alias ? put->alias->b : NULL, put->alias ? 16 : 0);
    p_text(&p, put->body);
    p_blob(&p, put->nrefs ? (const void *)put->refs : NULL, 16 * put->nrefs);
    p_int(&p, cv);
    p_text(&p, out->last_modified);
    p_text(&p, put->owner);
    p_text(&p, put->qvals);
    p_text(&p, refs.data);
    p_text(&p, qv.data);
    p_text(&p, put->sec_edorg);
    p_text(&p, put->sec_person);
    pcall c = {P_INSERT, &p};
    e = w_write(s, &c, 1, "insert document");
    buf_free(&refs);
    buf_free(&qv);
    if (e) return e;
    cache_put(s, put->refid, true, doc_id, out->id, put->resource);
    if (put->alias) cache_put(s, put->alias, true, doc_id, out->id, put->resource);
    out->doc_id = doc_id;
    out->etag = cv;
    out->resource = put->resource;
    out->body = put->body;
    out->refid = *put->refid;
    return ERR_OK;
}

/* Appends a store_prior's parameters: key values, referential id,
 * sec_edorg, sec_person, subjects, owner. */
static void p_prior(params *p, const store_prior *pr)
{
    p_text(p, pr->key_values ? pr->key_values : "{}");
    p_blob(p, pr->refid ? pr->refid->b : NULL, pr->refid ? 16 : 0);
    p_text(p, pr->sec_edorg);
    p_text(p, pr->sec_person);
    p_text(p, pr->subjects);
    p_text(p, pr->owner);
}

static err_t w_update(void *impl, const store_doc *old, const store_put *put, const store_prior *prior, store_doc *out)
{
    pg *s = impl;
    bool key_changed = memcmp(old->refid.b, put->refid->b, 16) != 0;
    uint8_t oldids[32], newids[32];
    int nold = 0, nnew = 0;
    memcpy(oldids, old->refid.b, 16), nold++;
    if (old->has_alias) memcpy(oldids + 16, old->alias.b, 16), nold++;
    memcpy(newids, put->refid->b, 16), nnew++;
    if (put->alias) memcpy(newids + 16, put->alias->b, 16), nnew++;
    if (key_changed) {
        uuid_t16 keys[2];
        memcpy(keys, newids, 16 * (size_t)nnew);
        err_t e = taken(s, keys, nnew, old->doc_id);
        if (e) return e;
    }
    buf idel, iins, rdel, rins, qdel, qins;
    buf_init(&idel, 0), buf_init(&iins, 0), buf_init(&rdel, 0), buf_init(&rins, 0), buf_init(&qdel, 0), buf_init(&qins, 0);
    ids_minus(&idel, oldids, nold, newids, nnew);
    ids_minus(&iins, newids, nnew, oldids, nold);
    ids_minus(&rdel, old->refs, old->nrefs, (const uint8_t *)put->refs, put->nrefs);
    ids_minus(&rins, (const uint8_t *)put->refs, put->nrefs, old->refs, old->nrefs);
    qrow *ro = xmalloc(sizeof *ro * MAX_QROWS * 2), *rn = ro + MAX_QROWS;
    int no = qv_rows(old->qvals, ro, MAX_QROWS), nn = qv_rows(put->qvals, rn, MAX_QROWS);
    qv_json(&qdel, ro, no, rn, nn);
    qv_json(&qins, rn, nn, ro, no);
    free(ro);
    int64_t cv = s->next_cv++;
    *out = *old;
    time_now_iso(out->last_modified);
    params p = {0};
    p_int(&p, old->doc_id);
    p_text(&p, old->resource);
    p_text(&p, old->id);
    p_blob(&p, put->refid->b, 16);
    p_blob(&p, put->alias ? put->alias->b : NULL, put->alias ? 16 : 0);
    p_text(&p, put->body);
    p_blob(&p, put->nrefs ? (const void *)put->refs : NULL, 16 * put->nrefs);
    p_int(&p, cv);
    p_text(&p, out->last_modified);
    p_text(&p, put->qvals);
    p_text(&p, idel.data);
    p_text(&p, iins.data);
    p_text(&p, rdel.data);
    p_text(&p, rins.data);
    p_text(&p, qdel.data);
    p_text(&p, qins.data);
    p_text(&p, put->sec_edorg);
    p_text(&p, put->sec_person);
    params k = {0};
    pcall calls[2] = {{P_UPDATE, &p}, {P_KEY_CHANGE, &k}};
    int ncalls = 1;
    if (key_changed && prior) {
        p_int(&k, cv);
        p_text(&k, old->resource);
        p_text(&k, old->id);
        p_text(&k, out->last_modified);
        p_prior(&k, prior);
        p_text(&k, put->key_values ? put->key_values : "{}");
        ncalls = 2;
    }
    err_t e = w_write(s, calls, ncalls, "update document");
    buf_free(&idel), buf_free(&iins), buf_free(&rdel), buf_free(&rins), buf_free(&qdel), buf_free(&qins);
    if (e) return e;
    for (int i = 0; i < nold; i++) cache_put(s, (const uuid_t16 *)(oldids + 16 * i), false, 0, NULL, NULL);
    for (int i = 0; i < nnew; i++) cache_put(s, (const uuid_t16 *)(newids + 16 * i), true, old->doc_id, old->id, old->resource);
    out->etag = cv;
    out->body = put->body;
    out->refid = *put->refid;
    return ERR_OK;
}

static err_t w_remove(void *impl, const store_doc *old, const store_prior *prior)
{
    pg *s = impl;
    buf ids, refs, qv;
    buf_init(&ids, 0), buf_init(&refs, 0), buf_init(&qv, 0);
    hex_list(&ids, old->refid.b, 1);
    if (old->has_alias) hex_list(&ids, old->alias.b, 1);
    hex_list(&refs, old->refs, old->nrefs);
    qrow *rows = xmalloc(sizeof *rows * MAX_QROWS);
    qv_json(&qv, rows, qv_rows(old->qvals, rows, MAX_QROWS), NULL, 0);
    free(rows);
    char now[21];
    time_now_iso(now);
    params p = {0};
    p_int(&p, old->doc_id);
    p_text(&p, old->resource);
    p_text(&p, ids.data);
    p_text(&p, refs.data);
    p_text(&p, qv.data);
    p_int(&p, s->next_cv++);
    p_text(&p, old->id);
    p_text(&p, now);
    store_prior none = {0};
    p_prior(&p, prior ? prior : &none);
    pcall c = {P_DELETE, &p};
    err_t e = w_write(s, &c, 1, "delete document");
    buf_free(&ids), buf_free(&refs), buf_free(&qv);
    if (e) return e;
    cache_put(s, &old->refid, false, 0, NULL, NULL);
    if (old->has_alias) cache_put(s, &old->alias, false, 0, NULL, NULL);
    return ERR_OK;
}

static err_t w_referrers(void *impl, const uuid_t16 *refid, arena *a, int max, store_hit **hits, int *n)
{
    pg *s = impl;
    params p = {0};
    p_blob(&p, refid->b, 16);
    p_int(&p, max);
    PGresult *r;
    err_t e = w_query(s, P_REFERRERS, &p, &r, "referrers");
    if (e) return e;
    int rows = PQntuples(r);
    store_hit *v = arena_alloc(a, sizeof *v * (size_t)(rows + 1));
    for (int i = 0; i < rows; i++) {
        v[i].doc_id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        v[i].id[0] = 0;
        v[i].resource = arena_strdup(a, PQgetvalue(r, i, 1));
    }
    PQclear(r);
    *hits = v;
    *n = rows;
    return ERR_OK;
}

/* ---- the relationship index ---- */

/* A text[] literal of values (ids and identity values: quoted, with " and \ escaped). */
static char *text_array(const char *const *v, int n)
{
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '{');
    for (int i = 0; i < n; i++) {
        buf_puts(&b, i ? ",\"" : "\"");
        for (const char *c = v[i]; *c; c++) {
            if (*c == '"' || *c == '\\') buf_putc(&b, '\\');
            buf_putc(&b, *c);
        }
        buf_putc(&b, '"');
    }
    buf_putc(&b, '}');
    return buf_take(&b);
}

static err_t w_edorg_parents(void *impl, const char *edorg, const char *const *parents, int n)
{
    char *arr = text_array(parents, n > 0 ? n : 0);
    params p = {0};
    p_text(&p, edorg);
    p_text(&p, arr);
    pcall c = {P_EDORG_PARENTS, &p};
    err_t e = w_write(impl, &c, 1, "edorg parents");
    free(arr);
    return e;
}

static err_t w_rel_put(void *impl, int64_t doc_id, store_rel kind, const char *person, const char *other)
{
    params p = {0};
    p_int(&p, kind);
    p_text(&p, person);
    p_text(&p, other);
    p_int(&p, doc_id);
    pcall c = {P_REL_PUT, &p};
    return w_write(impl, &c, 1, "relationship");
}

static err_t w_rel_retire(void *impl, int64_t doc_id)
{
    params p = {0};
    p_int(&p, doc_id);
    pcall c = {P_REL_RETIRE, &p};
    return w_write(impl, &c, 1, "relationship retire");
}

static err_t w_lineage_put(void *impl, const store_lineage *l)
{
    params p = {0};
    p_text(&p, l->resource);
    p_text(&p, l->id);
    p_text(&p, l->source);
    p_text(&p, l->source_client);
    p_text(&p, l->source_id);
    p_text(&p, l->published_at);
    pcall c = {P_LINEAGE_PUT, &p};
    return w_write(impl, &c, 1, "lineage");
}

static err_t w_reachable(void *impl, store_view v, bool deletes, const char *value, const char *const *claims, int n,
                         bool *ok)
{
    char *arr = text_array(claims, n);
    params p = {0};
    p_text(&p, value);
    p_text(&p, arr);
    PGresult *r;
    err_t e = w_query(impl, P_REACH + 2 * (int)v + deletes, &p, &r, "reachable");
    free(arr);
    if (e) return e;
    *ok = PQntuples(r) > 0;
    PQclear(r);
    return ERR_OK;
}

/* ---- readers ---- */

static err_t one_doc(PGconn *c, int stmt, params *p, arena *a, store_doc *out, const char *what)
{
    PGresult *r = run(c, stmt, p);
    if (!ok_result(r)) return pg_fail(c, r, what);
    err_t e = ERR_NOT_FOUND;
    if (PQntuples(r) == 1) {
        read_doc(r, 0, a, out);
        e = ERR_OK;
    }
    PQclear(r);
    return e;
}

/* Reader connections open on demand (an idle instance holds one), so that
 * many instances can share a server's connection limit. */
static pgreader *acquire(pg *s)
{
    pthread_mutex_lock(&s->rmu);
    for (;;) {
        int pick = -1;
        for (int i = 0; i < s->nreaders && (pick < 0 || !s->readers[pick].c); i++)
            if (!s->readers[i].busy) pick = i;
        if (pick >= 0) {
            pgreader *r = &s->readers[pick];
            r->busy = true;
            pthread_mutex_unlock(&s->rmu);
            char err[512];
            if (!r->c) {
                r->c = connect_to(s->read_url, err, sizeof err);
                if (!r->c) log_error("store(pg): %s", err);
                else if (!prepare_all(r->c, err, sizeof err)) log_error("store(pg): %s", err);
            } else if (PQstatus(r->c) != CONNECTION_OK) {
                PQreset(r->c);
                memset(r->prepared, 0, (size_t)s->nparts + 1);
                if (PQstatus(r->c) == CONNECTION_OK) prepare_all(r->c, err, sizeof err);
            }
            return r;
        }
        pthread_cond_wait(&s->rcv, &s->rmu);
    }
}

static void release(pg *s, pgreader *r)
{
    pthread_mutex_lock(&s->rmu);
    r->busy = false;
    pthread_cond_signal(&s->rcv);
    pthread_mutex_unlock(&s->rmu);
}

static err_t r_read_by_id(void *impl, const char *resource, const char *id, arena *a, store_doc *out)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    params p = {0};
    p_text(&p, id);
    p_text(&p, resource);
    int k = find_part(s, resource);
    err_t e;
    if (k >= 0) {
        char name[16], sql[256];
        snprintf(name, sizeof name, "g%d", k);
        if (!r->prepared[k]) {
            snprintf(sql, sizeof sql, "SELECT " DOC_COLS " FROM %s WHERE resource = $2 AND id = $1", s->parts[k].table);
            PGresult *pr = PQprepare(r->c, name, sql, 0, NULL);
            r->prepared[k] = ok_result(pr);
            PQclear(pr);
        }
        if (r->prepared[k]) {
            PGresult *res = PQexecPrepared(r->c, name, 2, p.v, p.len, p.fmt, 0);
            if (!ok_result(res)) {
                e = pg_fail(r->c, res, "get by id");
            } else {
                e = PQntuples(res) == 1 ? ERR_OK : ERR_NOT_FOUND;
                if (!e) read_doc(res, 0, a, out);
                PQclear(res);
            }
            release(s, r);
            return e;
        }
    }
    e = one_doc(r->c, P_GET_BY_ID, &p, a, out, "get by id");
    release(s, r);
    return e;
}

/* "$.a.b" -> "{a,b}" (a PostgreSQL text[] literal for #> and #>>). */
static const char *pg_path(arena *a, const char *json_path)
{
    const char *p = json_path[0] == '$' && json_path[1] == '.' ? json_path + 2 : json_path;
    char *out = arena_alloc(a, strlen(p) + 3);
    size_t o = 0;
    out[o++] = '{';
    for (; *p; p++) out[o++] = *p == '.' ? ',' : *p;
    out[o++] = '}';
    out[o] = 0;
    return out;
}

/* At most this many requirements and namespace prefixes in one filter. */
#define AZ_MAX_REQS 36
#define AZ_MAX_NS 36
#define AZ_MAX_PARAMS (AZ_MAX_REQS + AZ_MAX_NS + 3)

/* The values a view admits, as a subquery (claims are parameter $c). */
static void view_set_sql(buf *b, store_view v, bool deletes, int c)
{
    char cl[16];
    snprintf(cl, sizeof cl, "$%d", c);
    const char *live = deletes ? "" : " AND NOT deleted";
    switch (v) {
    case SV_EDORG:
        buf_printf(b, "(WITH RECURSIVE acc(id) AS (SELECT unnest(%s::text[]) UNION SELECT e.edorg FROM auth_edorg_parents e"
                      " JOIN acc ON e.parent = acc.id) SELECT id FROM acc)", cl);
        break;
    case SV_EDORG_INVERTED:
        buf_printf(b, "(WITH RECURSIVE up(id) AS (SELECT unnest(%s::text[]) UNION SELECT e.parent FROM auth_edorg_parents e"
                      " JOIN up ON e.edorg = up.id) SELECT id FROM up)", cl);
        break;
    case SV_STUDENT:
    case SV_STUDENT_RESPONSIBILITY:
    case SV_STAFF:
        buf_printf(b, "(WITH RECURSIVE acc(id) AS (SELECT unnest(%s::text[]) UNION SELECT e.edorg FROM auth_edorg_parents e"
                      " JOIN acc ON e.parent = acc.id) SELECT person FROM auth_people WHERE kind = %d%s"
                      " AND other IN (SELECT id FROM acc))",
                   cl, v == SV_STUDENT ? 1 : v == SV_STAFF ? 3 : 2, live);
        break;
    case SV_CONTACT:
        buf_printf(b, "(WITH RECURSIVE acc(id) AS (SELECT unnest(%s::text[]) UNION SELECT e.edorg FROM auth_edorg_parents e"
                      " JOIN acc ON e.parent = acc.id) SELECT c.person FROM auth_people c WHERE c.kind = 4%s AND c.other IN"
                      " (SELECT person FROM auth_people WHERE kind = 1%s AND other IN (SELECT id FROM acc)))",
                   cl, deletes ? "" : " AND NOT c.deleted", live);
        break;
    }
}

/* LIKE pattern for "starts with prefix": % _ and \ are literal. */
static char *prefix_pattern(arena *a, const char *prefix)
{
    char *out = arena_alloc(a, 2 * strlen(prefix) + 2), *o = out;
    for (const char *c = prefix; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\') *o++ = '\\';
        *o++ = *c;
    }
    *o++ = '%';
    *o = 0;
    return out;
}

/* The authorization filter: AND(namespace, owner) AND OR(groups of AND-ed
 * requirements). */
/* body: the column holding the JSON the paths apply to (documents: body;
 * change rows: subjects, the document pruned to its securable elements). */
static void authz_sql(buf *b, const store_authz *z, const char *body, arena *a, const char **vals, int *np)
{
    int n = *np;
    if (z->ns_path) {
        vals[n++] = pg_path(a, z->ns_path);
        int path = n;
        buf_puts(b, " AND (false");
        for (int i = 0; i < z->nns && i < AZ_MAX_NS; i++) {
            vals[n++] = prefix_pattern(a, z->ns_prefixes[i]);
            buf_printf(b, " OR (%s::jsonb #>> $%d::text[]) ILIKE $%d", body, path, n);
        }
        buf_puts(b, ")");
    }
    if (z->owner) {
        vals[n++] = z->owner;
        buf_printf(b, " AND owner = $%d", n);
    }
    if (!z->open && !z->ngroups) buf_puts(b, " AND false");
    if (!z->open && z->ngroups) {
        char *arr = text_array(z->claims, z->nclaims);
        vals[n++] = arena_strdup(a, arr);
        free(arr);
        int claims = n, reqs = 0;
        buf_puts(b, " AND (false");
        for (int g = 0; g < z->ngroups; g++) {
            buf_puts(b, " OR (true");
            for (int i = 0; i < z->groups[g].n && reqs < AZ_MAX_REQS; i++, reqs++) {
                vals[n++] = pg_path(a, z->groups[g].reqs[i].json_path);
                store_subject sj = z->groups[g].reqs[i].stored;
                const char *col = sj == SUBJ_EDORG ? "sec_edorg" : sj == SUBJ_PERSON ? "sec_person" : NULL;
                /* The stored subject spares parsing the body; rows written before it existed fall back.
                 * "(... IN (set)) IS TRUE" keeps each set a hashed subplan built once, instead of a
                 * semi-join that would read and sort every row before the first page. */
                if (col) buf_printf(b, " AND (coalesce(%s, %s::jsonb #>> $%d::text[]) IN ", col, body, n);
                else buf_printf(b, " AND ((%s::jsonb #>> $%d::text[]) IN ", body, n);
                view_set_sql(b, z->groups[g].reqs[i].view, z->groups[g].reqs[i].including_deletes, claims);
                buf_puts(b, ") IS TRUE");
            }
            buf_puts(b, ")");
        }
        buf_puts(b, ")");
    }
    *np = n;
}

/* Builds the WHERE clause and its parameters for q. */
static void where_sql(buf *b, const store_query *q, arena *a, const char **vals, int *nv)
{
    int n = 0;
    bool indexed = false;
    vals[n++] = q->resource;
    buf_printf(b, " WHERE resource = $%d", n);
    for (int i = 0; i < q->nfilters; i++) indexed |= q->filters[i].index_key != NULL;
    (void)indexed;
    if (q->min_cv) {
        vals[n++] = arena_printf(a, "%lld", (long long)q->min_cv);
        buf_printf(b, " AND change_version >= $%d", n);
    }
    if (q->max_cv) {
        vals[n++] = arena_printf(a, "%lld", (long long)q->max_cv);
        buf_printf(b, " AND change_version <= $%d", n);
    }
    for (int i = 0; i < q->nfilters; i++) {
        const store_filter *f = &q->filters[i];
        if (f->index_key) {
            vals[n++] = arena_printf(a, "%s\t%s", f->index_key, f->index_value);
            buf_printf(b, " AND doc_id IN (SELECT doc_id FROM qvals WHERE kv = $%d)", n);
            continue;
        }
        switch (f->kind) {
        case SF_ID:
            vals[n++] = f->text;
            buf_printf(b, " AND id = lower($%d)", n);
            break;
        case SF_NUMBER:
            vals[n++] = pg_path(a, f->json_path);
            vals[n++] = arena_printf(a, "%.17g", f->number);
            buf_printf(b, " AND (body::jsonb #> $%d::text[]) = to_jsonb($%d::numeric)", n - 1, n);
            break;
        case SF_BOOL:
            vals[n++] = pg_path(a, f->json_path);
            vals[n++] = f->boolean ? "true" : "false";
            buf_printf(b, " AND (body::jsonb #> $%d::text[]) = to_jsonb($%d::boolean)", n - 1, n);
            break;
        case SF_TEXT_NOCASE:
            vals[n++] = pg_path(a, f->json_path);
            vals[n++] = f->text;
            buf_printf(b, " AND lower(body::jsonb #>> $%d::text[]) = lower($%d)", n - 1, n);
            break;
        default:
            vals[n++] = pg_path(a, f->json_path);
            vals[n++] = f->text;
            buf_printf(b, " AND (body::jsonb #>> $%d::text[]) = $%d", n - 1, n);
        }
    }
    if (q->authz) authz_sql(b, q->authz, "body", a, vals, &n);
    *nv = n;
}

#define MAX_PARAMS (2 * 48 + 8 + AZ_MAX_PARAMS)

static err_t r_query(void *impl, const store_query *q, store_row_fn fn, void *ctx, int64_t *total, int64_t *last)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    arena a;
    arena_init(&a, 1 << 14);
    buf sql;
    buf_init(&sql, 0);
    int k = find_part(s, q->resource);
    const char *table = k >= 0 ? s->parts[k].table : "documents";
    const char *vals[MAX_PARAMS];
    int nv = 0;
    err_t e = ERR_OK;
    PGresult *res = NULL;
    if (q->nfilters > 40) {
        e = ERR_INVALID;
        goto out;
    }
    if (q->count && total) {
        buf_printf(&sql, "SELECT count(*) FROM %s", table);
        where_sql(&sql, q, &a, vals, &nv);
        res = PQexecParams(r->c, sql.data, nv, NULL, vals, NULL, NULL, 0);
        if (!ok_result(res)) {
            e = pg_fail(r->c, res, "count");
            res = NULL;
            goto out;
        }
        *total = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        res = NULL;
        buf_reset(&sql);
    }
    buf_printf(&sql, "SELECT " DOC_COLS " FROM %s", table);
    where_sql(&sql, q, &a, vals, &nv);
    vals[nv++] = arena_printf(&a, "%lld", (long long)q->after);
    buf_printf(&sql, " AND doc_id > $%d", nv);
    if (q->upto) {
        vals[nv++] = arena_printf(&a, "%lld", (long long)q->upto);
        buf_printf(&sql, " AND doc_id <= $%d", nv);
    }
    vals[nv++] = arena_printf(&a, "%lld", (long long)q->limit);
    vals[nv++] = arena_printf(&a, "%lld", (long long)q->offset);
    buf_printf(&sql, " ORDER BY doc_id LIMIT $%d OFFSET $%d", nv - 1, nv);
    /* A filtered page must walk the primary key in order and stop at the
     * page's end; with stale statistics (a partition that just grew) the
     * planner would filter and sort every row instead. */
    bool walk = q->authz != NULL;
    if (walk) PQclear(PQexec(r->c, "SET enable_sort = off"));
    res = PQexecParams(r->c, sql.data, nv, NULL, vals, NULL, NULL, 0);
    if (walk) PQclear(PQexec(r->c, "RESET enable_sort"));
    if (!ok_result(res)) {
        e = pg_fail(r->c, res, "query");
        res = NULL;
        goto out;
    }
    if (last) *last = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        arena row;
        arena_init(&row, 8192);
        store_doc d;
        read_doc(res, i, &row, &d);
        if (last) *last = d.doc_id;
        bool go = fn(ctx, &d);
        arena_free(&row);
        if (!go) break;
    }
out:
    PQclear(res);
    buf_free(&sql);
    arena_free(&a);
    release(s, r);
    return e;
}

/* ---- change queries ---- */

/* A change query and its parameters (see store_sqlite.c changes_sql): the
 * rows carry the columns list filters read, subjects standing in for the
 * body. The recreated-key probe is a LIMIT subquery, so it stays one index
 * probe per tombstone instead of becoming an anti-join over every
 * identities partition. */
static void changes_sql(buf *b, store_change_kind k, const store_query *q, bool count, arena *a, const char **vals,
                        int *nv)
{
    int n = 0;
    vals[n++] = q->resource;
    buf window;
    buf_init(&window, 0);
    if (q->min_cv) {
        vals[n++] = arena_printf(a, "%lld", (long long)q->min_cv);
        buf_printf(&window, " AND change_version >= $%d", n);
    }
    if (q->max_cv) {
        vals[n++] = arena_printf(a, "%lld", (long long)q->max_cv);
        buf_printf(&window, " AND change_version <= $%d", n);
    }
    const char *w = window.data ? window.data : "";
    if (k == SC_DELETES) {
        buf_puts(b, count ? "SELECT count(*)" : "SELECT id, change_version, key_values, NULL");
        buf_printf(b, " FROM tombstones t WHERE resource = $1%s", w);
        /* deleted, then created again: clients apply upserts before deletes */
        buf_puts(b, " AND (t.ref_id IS NULL OR (SELECT 1 FROM identities i WHERE i.ref_id = t.ref_id LIMIT 1) IS NULL)");
    } else {
        buf_puts(b, count ? "SELECT count(*)" : "SELECT id, change_version, old_key_values, new_key_values");
        buf_printf(b,
                   " FROM (SELECT l.id, l.change_version, f.old_key_values, l.new_key_values, f.sec_edorg, f.sec_person,"
                   " f.subjects, f.owner"
                   " FROM (SELECT min(change_version) AS first, max(change_version) AS last FROM key_changes"
                   " WHERE resource = $1%s GROUP BY id) g"
                   " JOIN key_changes f ON f.change_version = g.first JOIN key_changes l ON l.change_version = g.last) AS c"
                   " WHERE true",
                   w);
    }
    buf_free(&window);
    if (q->authz) authz_sql(b, q->authz, "subjects", a, vals, &n);
    if (!count) {
        vals[n++] = arena_printf(a, "%lld", (long long)q->limit);
        vals[n++] = arena_printf(a, "%lld", (long long)q->offset);
        buf_printf(b, " ORDER BY change_version LIMIT $%d OFFSET $%d", n - 1, n);
    }
    *nv = n;
}

/* Runs one change query on a reader (caller clears the result), or NULL. */
static PGresult *changes_run(pgreader *r, store_change_kind k, const store_query *q, bool count, arena *a)
{
    const char *vals[AZ_MAX_PARAMS + 8];
    int nv = 0;
    buf sql;
    buf_init(&sql, 0);
    changes_sql(&sql, k, q, count, a, vals, &nv);
    PGresult *res = PQexecParams(r->c, sql.data, nv, NULL, vals, NULL, NULL, 0);
    buf_free(&sql);
    if (ok_result(res)) return res;
    pg_fail(r->c, res, "change query");
    return NULL;
}

static err_t r_query_changes(void *impl, store_change_kind k, const store_query *q, store_change_fn fn, void *ctx,
                             int64_t *total)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    arena a;
    arena_init(&a, 1 << 12);
    err_t e = ERR_STORAGE;
    PGresult *res = NULL;
    if (q->count && total) {
        if (!(res = changes_run(r, k, q, true, &a))) goto out;
        *total = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    if (!(res = changes_run(r, k, q, false, &a))) goto out;
    for (int i = 0; i < PQntuples(res); i++) {
        store_change c = {.change_version = strtoll(PQgetvalue(res, i, 1), NULL, 10)};
        snprintf(c.id, sizeof c.id, "%s", PQgetvalue(res, i, 0));
        c.key_values = c.old_key_values = PQgetvalue(res, i, 2);
        c.new_key_values = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);
        if (!fn(ctx, &c)) break;
    }
    PQclear(res);
    e = ERR_OK;
out:
    arena_free(&a);
    release(s, r);
    return e;
}

/* The writer's newest_cv as committed with its batch: one row, read in the
 * same snapshot as any table (see store_newest_change_version). */
static err_t r_newest_cv(void *impl, int64_t *out)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    PGresult *res = PQexec(r->c, "SELECT value FROM meta WHERE key = 'newest_cv'");
    err_t e = ERR_STORAGE;
    if (!ok_result(res) || PQntuples(res) != 1) {
        pg_fail(r->c, res, "newest change version");
    } else {
        *out = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        e = ERR_OK;
        PQclear(res);
    }
    release(s, r);
    return e;
}

/* Bounds at every count/n-th document of the resource, found in one pass
 * over its primary key (an OFFSET query per bound would walk the index
 * again for each). */
static err_t r_partitions(void *impl, const char *resource, int n, int64_t *bounds, int *got)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    err_t e = ERR_OK;
    *got = 0;
    int k = find_part(s, resource);
    const char *table = k >= 0 ? s->parts[k].table : "documents";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*), coalesce(max(doc_id), 0) FROM %s WHERE resource = $1", table);
    const char *v1[1] = {resource};
    PGresult *res = PQexecParams(r->c, sql, 1, NULL, v1, NULL, NULL, 0);
    if (!ok_result(res)) {
        e = pg_fail(r->c, res, "partitions");
        goto out;
    }
    int64_t count = strtoll(PQgetvalue(res, 0, 0), NULL, 10), maxid = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    if (count == 0) goto out;
    if (n > count) n = (int)count;
    buf rows;
    buf_init(&rows, 0);
    buf_putc(&rows, '{');
    for (int i = 1; i < n; i++) buf_printf(&rows, "%s%lld", i > 1 ? "," : "", (long long)(count * i / n));
    buf_putc(&rows, '}');
    snprintf(sql, sizeof sql,
             "SELECT doc_id FROM (SELECT doc_id, row_number() OVER (ORDER BY doc_id) AS rn FROM %s WHERE resource = $1) AS t"
             " WHERE rn = ANY($2::bigint[]) ORDER BY doc_id",
             table);
    const char *v2[2] = {resource, rows.data};
    res = n > 1 ? PQexecParams(r->c, sql, 2, NULL, v2, NULL, NULL, 0) : NULL;
    buf_free(&rows);
    if (n > 1 && !ok_result(res)) {
        e = pg_fail(r->c, res, "partitions");
        goto out;
    }
    bounds[0] = 0;
    k = 1;
    for (int i = 0; res && i < PQntuples(res) && k < n; i++) bounds[k++] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
    PQclear(res);
    bounds[k] = maxid;
    *got = k;
out:
    release(s, r);
    return e;
}

static err_t r_lineage_query(void *impl, const store_lineage *m, int64_t limit, store_lineage_fn fn, void *ctx)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    char lim[32];
    snprintf(lim, sizeof lim, "%lld", (long long)(limit > 0 ? limit : INT64_MAX));
    const char *v[6] = {m->resource, m->id, m->source, m->source_client, m->source_id, lim};
    PGresult *res = PQexecParams(r->c,
                                 "SELECT resource, id, source, source_client, source_id, published_at FROM lineage"
                                 " WHERE ($1::text IS NULL OR resource = $1) AND ($2::text IS NULL OR id = $2)"
                                 " AND ($3::text IS NULL OR source = $3) AND ($4::text IS NULL OR source_client = $4)"
                                 " AND ($5::text IS NULL OR source_id = $5) ORDER BY resource, id LIMIT $6::bigint",
                                 6, NULL, v, NULL, NULL, 0);
    err_t e = ERR_OK;
    if (!ok_result(res)) {
        e = pg_fail(r->c, res, "lineage");
    } else {
        for (int i = 0; i < PQntuples(res); i++) {
            store_lineage l;
            const char **f[6] = {&l.resource, &l.id, &l.source, &l.source_client, &l.source_id, &l.published_at};
            for (int k = 0; k < 6; k++) *f[k] = PQgetisnull(res, i, k) ? NULL : PQgetvalue(res, i, k);
            if (!fn(ctx, &l)) break;
        }
        PQclear(res);
    }
    release(s, r);
    return e;
}

static err_t r_reachable(void *impl, store_view v, bool deletes, const char *value, const char *const *claims, int n,
                         bool *ok)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    char *arr = text_array(claims, n);
    params p = {0};
    p_text(&p, value);
    p_text(&p, arr);
    PGresult *res = run(r->c, P_REACH + 2 * (int)v + deletes, &p);
    err_t e = ERR_OK;
    if (!ok_result(res)) e = pg_fail(r->c, res, "reachable");
    else {
        *ok = PQntuples(res) > 0;
        PQclear(res);
    }
    free(arr);
    release(s, r);
    return e;
}

static char *r_stats_json(void *impl)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '{');
    PGresult *res = PQexec(r->c, "SELECT resource, count(*) FROM documents GROUP BY resource ORDER BY resource");
    for (int i = 0; ok_result(res) && i < PQntuples(res); i++) {
        if (i) buf_putc(&b, ',');
        buf_json_str(&b, PQgetvalue(res, i, 0));
        buf_printf(&b, ":%s", PQgetvalue(res, i, 1));
    }
    PQclear(res);
    buf_putc(&b, '}');
    release(s, r);
    return buf_take(&b);
}

static bool r_healthy(void *impl)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    PGresult *res = PQexec(r->c, "SELECT 1");
    bool ok = ok_result(res);
    PQclear(res);
    release(s, r);
    return ok;
}

/* ---- snapshots: a new database on the same server ---- */

/* url with its database replaced by db (postgresql://auth/DB?params). */
static bool url_with_db(const char *url, const char *db, char *out, size_t n)
{
    const char *auth = strstr(url, "://");
    if (!auth) return false;
    auth += 3;
    const char *path = auth + strcspn(auth, "/?");
    const char *query = path + strcspn(path, "?");
    int w = snprintf(out, n, "%.*s/%s%s", (int)(path - url), url, db, query);
    return w > 0 && (size_t)w < n;
}

/* The libpq environment variables that carry a connection string's
 * settings to pg_dump/psql (so no password shows in a process list). */
static void set_pg_env(const char *url)
{
    static const char *const map[][2] = {{"host", "PGHOST"},         {"hostaddr", "PGHOSTADDR"}, {"port", "PGPORT"},
                                         {"dbname", "PGDATABASE"},   {"user", "PGUSER"},         {"password", "PGPASSWORD"},
                                         {"sslmode", "PGSSLMODE"},   {"sslrootcert", "PGSSLROOTCERT"},
                                         {"sslcert", "PGSSLCERT"},   {"sslkey", "PGSSLKEY"},     {"options", "PGOPTIONS"},
                                         {"connect_timeout", "PGCONNECT_TIMEOUT"}};
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    PQfreemem(perr);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) unsetenv(map[i][1]);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
            if (o->val && *o->val && !strcmp(o->keyword, map[i][0])) setenv(map[i][1], o->val, 1);
    PQconninfoFree(opts);
}

/* Runs pg_dump (source) into psql (target): the dump is one repeatable-read
 * transaction, so the copy is a consistent point in time. */
static bool dump_into(const char *src, const char *dst, char *err, size_t errlen)
{
    int fd[2];
    if (pipe(fd)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return false;
    }
    pid_t dump = fork();
    if (dump == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        set_pg_env(src);
        execlp("pg_dump", "pg_dump", "--no-owner", "--no-privileges", "--quote-all-identifiers", (char *)NULL);
        execl("/usr/lib/postgresql/15/bin/pg_dump", "pg_dump", "--no-owner", "--no-privileges", "--quote-all-identifiers",
              (char *)NULL);
        _exit(127);
    }
    pid_t load = dump > 0 ? fork() : -1;
    if (load == 0) {
        dup2(fd[0], 0);
        close(fd[0]);
        close(fd[1]);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        set_pg_env(dst);
        execlp("psql", "psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", (char *)NULL);
        execl("/usr/lib/postgresql/15/bin/psql", "psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", (char *)NULL);
        _exit(127);
    }
    close(fd[0]);
    close(fd[1]);
    int st1 = -1, st2 = -1;
    if (dump > 0) waitpid(dump, &st1, 0);
    if (load > 0) waitpid(load, &st2, 0);
    bool ok = dump > 0 && load > 0 && WIFEXITED(st1) && !WEXITSTATUS(st1) && WIFEXITED(st2) && !WEXITSTATUS(st2);
    if (!ok)
        snprintf(err, errlen, "pg_dump into psql failed (exit %d and %d; 127: not installed, see scripts/deps.sh)",
                 WIFEXITED(st1) ? WEXITSTATUS(st1) : -1, WIFEXITED(st2) ? WEXITSTATUS(st2) : -1);
    return ok;
}

static err_t r_snapshot(void *impl, const char *dir, const char *name, char *location, size_t n, char *err, size_t errlen)
{
    (void)dir;
    pg *s = impl;
    /* The database: the source's name, _snap_, the snapshot's (63 bytes
     * at most, lower case, [a-z0-9_]). */
    char *perr = NULL, db[64];
    PQconninfoOption *opts = PQconninfoParse(s->url, &perr);
    PQfreemem(perr);
    const char *src = "edhub";
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, "dbname") && o->val && *o->val) src = o->val;
    snprintf(db, sizeof db, "%.30s_snap_%s", src, name);
    PQconninfoFree(opts);
    for (char *p = db; *p; p++) *p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    if (!url_with_db(s->url, db, location, n)) {
        snprintf(err, errlen, "cannot name the snapshot database from the instance's URL");
        return ERR_CONFIG;
    }
    PGconn *c = connect_to(s->url, err, errlen);
    if (!c) return ERR_STORAGE;
    char *q = PQescapeIdentifier(c, db, strlen(db));
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", q);
    PGresult *r = PQexec(c, sql);
    err_t e = ERR_OK;
    if (!ok_result(r)) {
        const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        e = code && !strcmp(code, "42P04") ? ERR_CONFLICT : ERR_STORAGE;
        snprintf(err, errlen, "cannot create the database %s: %s", db, PQresultErrorMessage(r));
    }
    PQclear(r);
    if (!e && !dump_into(s->url, location, err, errlen)) {
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", q);
        PQclear(PQexec(c, sql));
        e = ERR_STORAGE;
    }
    PQfreemem(q);
    PQfinish(c);
    return e;
}

static err_t r_snapshot_drop(void *impl, const char *location, char *err, size_t errlen)
{
    pg *s = impl;
    char *perr = NULL, db[128] = "";
    PQconninfoOption *opts = PQconninfoParse(location, &perr);
    PQfreemem(perr);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, "dbname") && o->val) snprintf(db, sizeof db, "%s", o->val);
    PQconninfoFree(opts);
    if (!strstr(db, "_snap_")) { /* never drop anything but a snapshot */
        snprintf(err, errlen, "%s does not name a snapshot database", location);
        return ERR_INVALID;
    }
    PGconn *c = connect_to(s->url, err, errlen);
    if (!c) return ERR_STORAGE;
    char *q = PQescapeIdentifier(c, db, strlen(db)), sql[200];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", q);
    PQfreemem(q);
    bool ok = exec_sql(c, sql, err, errlen);
    PQfinish(c);
    return ok ? ERR_OK : ERR_STORAGE;
}

const store_backend store_pg_backend = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_to = pg_rollback_to,
    .commit = pg_commit,
    .abort = pg_abort,
    .schema_version = PG_SCHEMA_VERSION,
    .find_identity = w_find_identity,
    .find_identities = w_find_identities,
    .prefetch = w_prefetch,
    .get = w_get,
    .get_by_id = w_get_by_id,
    .insert = w_insert,
    .update = w_update,
    .remove = w_remove,
    .referrers = w_referrers,
    .edorg_parents = w_edorg_parents,
    .rel_put = w_rel_put,
    .rel_retire = w_rel_retire,
    .lineage_put = w_lineage_put,
    .lineage_query = r_lineage_query,
    .reachable_w = w_reachable,
    .read_by_id = r_read_by_id,
    .query = r_query,
    .partitions = r_partitions,
    .query_changes = r_query_changes,
    .newest_change_version = r_newest_cv,
    .reachable_r = r_reachable,
    .stats_json = r_stats_json,
    .healthy = r_healthy,
    .snapshot = r_snapshot,
    .snapshot_drop = r_snapshot_drop,
};
