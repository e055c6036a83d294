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
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_SCHEMA_VERSION "2"
/* Any constant works; it names "the edhub writer" among advisory locks. */
#define WRITER_LOCK_KEY 0x6564687562LL

static const char *pg_schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key text PRIMARY KEY, value text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS documents("
    "  doc_id bigserial PRIMARY KEY,"
    "  id text NOT NULL,"
    "  resource text NOT NULL,"
    "  ref_id bytea NOT NULL,"
    "  alias_id bytea,"
    "  body text NOT NULL,"
    "  refs bytea,"
    "  etag bigint NOT NULL,"
    "  last_modified text NOT NULL,"
    "  change_version bigint NOT NULL,"
    "  owner text,"
    "  qv text);"
    "CREATE UNIQUE INDEX IF NOT EXISTS documents_id ON documents(id);"
    "CREATE INDEX IF NOT EXISTS documents_resource ON documents(resource, doc_id);"
    "CREATE INDEX IF NOT EXISTS documents_cv ON documents(change_version);"
    "CREATE TABLE IF NOT EXISTS identities(ref_id bytea PRIMARY KEY, doc_id bigint NOT NULL);"
    "CREATE TABLE IF NOT EXISTS refs(target bytea NOT NULL, doc_id bigint NOT NULL, PRIMARY KEY(target, doc_id));"
    "CREATE TABLE IF NOT EXISTS qvals(field text NOT NULL, value text NOT NULL, doc_id bigint NOT NULL,"
    "  PRIMARY KEY(field, value, doc_id));"
    "CREATE TABLE IF NOT EXISTS tombstones(change_version bigint PRIMARY KEY, resource text NOT NULL,"
    "  id text NOT NULL, key_values text NOT NULL, deleted_at text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS key_changes(change_version bigint PRIMARY KEY, resource text NOT NULL,"
    "  id text NOT NULL, old_key_values text NOT NULL, new_key_values text NOT NULL, changed_at text NOT NULL);"
    "CREATE TABLE IF NOT EXISTS clients(key text PRIMARY KEY, secret_hash text NOT NULL, name text NOT NULL,"
    "  created_at text NOT NULL);"
    "INSERT INTO meta(key, value) VALUES('schema_version', '" PG_SCHEMA_VERSION "') ON CONFLICT DO NOTHING;";

/* Prepared statements of the writer connection: name = index. */
enum {
    P_FIND_IDENTITY, P_GET, P_GET_BY_ID, P_INSERT_DOC, P_INSERT_IDENTITY, P_DELETE_IDENTITY, P_DELETE_ALIAS,
    P_INSERT_REF, P_DELETE_REF, P_INSERT_QV, P_DELETE_QV, P_GET_QV, P_UPDATE_DOC, P_DELETE_DOC, P_TOMBSTONE,
    P_KEY_CHANGE, P_REFERRERS, P_CLIENT_PUT, P_COUNT
};

#define DOC_COLS "doc_id, id, resource, body, etag, last_modified, ref_id, refs"

static const char *pg_sql[P_COUNT] = {
    [P_FIND_IDENTITY] = "SELECT d.doc_id, d.id, d.resource FROM identities i JOIN documents d ON d.doc_id = i.doc_id WHERE i.ref_id = $1",
    [P_GET] = "SELECT " DOC_COLS " FROM documents WHERE doc_id = $1",
    [P_GET_BY_ID] = "SELECT " DOC_COLS " FROM documents WHERE id = $1 AND resource = $2",
    [P_INSERT_DOC] = "INSERT INTO documents(id, resource, ref_id, alias_id, body, refs, etag, last_modified, change_version, owner, qv)"
                     " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $7, $9, $10) RETURNING doc_id",
    [P_INSERT_IDENTITY] = "INSERT INTO identities(ref_id, doc_id) VALUES($1, $2)",
    [P_DELETE_IDENTITY] = "DELETE FROM identities WHERE ref_id = $1",
    [P_DELETE_ALIAS] = "DELETE FROM identities WHERE ref_id = (SELECT alias_id FROM documents WHERE doc_id = $1)",
    /* Multi-row forms: one round trip for all of a document's rows. */
    [P_INSERT_REF] = "INSERT INTO refs(target, doc_id) SELECT decode(x, 'hex'), $2 FROM unnest(string_to_array($1, ',')) AS x"
                     " ON CONFLICT DO NOTHING",
    [P_DELETE_REF] = "DELETE FROM refs WHERE doc_id = $2 AND target IN (SELECT decode(x, 'hex') FROM unnest(string_to_array($1, ',')) AS x)",
    [P_INSERT_QV] = "INSERT INTO qvals(field, value, doc_id) SELECT e->>0, e->>1, $2 FROM jsonb_array_elements($1::jsonb) AS e"
                    " ON CONFLICT DO NOTHING",
    [P_DELETE_QV] = "DELETE FROM qvals WHERE doc_id = $2 AND (field, value) IN (SELECT e->>0, e->>1 FROM jsonb_array_elements($1::jsonb) AS e)",
    [P_GET_QV] = "SELECT qv FROM documents WHERE doc_id = $1",
    [P_UPDATE_DOC] = "UPDATE documents SET ref_id = $2, alias_id = $3, body = $4, refs = $5, etag = $6, last_modified = $7,"
                     " change_version = $6, qv = $8 WHERE doc_id = $1",
    [P_DELETE_DOC] = "DELETE FROM documents WHERE doc_id = $1",
    [P_TOMBSTONE] = "INSERT INTO tombstones(change_version, resource, id, key_values, deleted_at) VALUES($1, $2, $3, $4, $5)",
    [P_KEY_CHANGE] = "INSERT INTO key_changes(change_version, resource, id, old_key_values, new_key_values, changed_at)"
                     " VALUES($1, $2, $3, $4, $5, $6)",
    [P_REFERRERS] = "SELECT doc_id FROM refs WHERE target = $1 LIMIT $2",
    [P_CLIENT_PUT] = "INSERT INTO clients(key, secret_hash, name, created_at) VALUES($1, $2, $3, $4)"
                     " ON CONFLICT(key) DO UPDATE SET secret_hash = excluded.secret_hash, name = excluded.name",
};

typedef struct pgreader {
    PGconn *c;
    bool busy;
} pgreader;

typedef struct pg {
    char *url;
    PGconn *w;                 /* the writer connection */
    int64_t next_cv, batch_cv; /* writer-only */
    int nreaders;
    pgreader *readers;
    pthread_mutex_t rmu;
    pthread_cond_t rcv;
} pg;

/* Parameters of one statement: text values, or binary (bytea) ones. */
typedef struct params {
    int n;
    const char *v[12];
    int len[12];
    int fmt[12];
    char num[12][24];
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

static PGresult *run(PGconn *c, int stmt, params *p)
{
    char name[8];
    snprintf(name, sizeof name, "s%d", stmt);
    return PQexecPrepared(c, name, p->n, p->v, p->len, p->fmt, 0);
}

static bool ok_result(PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

static bool unique_violation(PGresult *r)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return state && !strcmp(state, "23505");
}

static err_t pg_fail(PGconn *c, PGresult *r, const char *what)
{
    log_error("store(pg): %s: %s", what, r ? PQresultErrorMessage(r) : PQerrorMessage(c));
    PQclear(r);
    return ERR_STORAGE;
}

/* Runs a statement that returns no rows we need. */
static err_t exec_p(PGconn *c, int stmt, params *p, const char *what)
{
    PGresult *r = run(c, stmt, p);
    if (!ok_result(r)) return pg_fail(c, r, what);
    PQclear(r);
    return ERR_OK;
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
        snprintf(name, sizeof name, "s%d", i);
        PGresult *r = PQprepare(c, name, pg_sql[i], 0, NULL);
        bool ok = ok_result(r);
        if (!ok) snprintf(err, errlen, "prepare failed: %s", PQresultErrorMessage(r));
        PQclear(r);
        if (!ok) return false;
    }
    return true;
}

static void pg_close(void *impl)
{
    pg *s = impl;
    if (!s) return;
    for (int i = 0; s->readers && i < s->nreaders; i++) PQfinish(s->readers[i].c);
    PQfinish(s->w);
    free(s->readers);
    free(s->url);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->rcv);
    free(s);
}

static err_t pg_open(const char *url, const store_opts *opts, void **out, char *err, size_t errlen)
{
    pg *s = xcalloc(1, sizeof *s);
    s->url = xstrdup(url);
    s->nreaders = opts && opts->readers > 0 ? opts->readers : 8;
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->rcv, NULL);
    if (!(s->w = connect_to(url, err, errlen))) goto fail;
    /* Schema creation is serialized across processes by a transaction-level
     * advisory lock; then this process becomes the instance's writer. */
    if (!exec_sql(s->w, "BEGIN; SELECT pg_advisory_xact_lock(6564687563);", err, errlen) ||
        !exec_sql(s->w, pg_schema_sql, err, errlen) || !exec_sql(s->w, "COMMIT", err, errlen))
        goto fail;
    PGresult *r = PQexec(s->w, "SELECT value FROM meta WHERE key = 'schema_version'");
    const char *have = ok_result(r) && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "(none)";
    if (strcmp(have, PG_SCHEMA_VERSION) != 0) {
        snprintf(err, errlen, "the database has storage schema version %s; this edhub uses version %s", have,
                 PG_SCHEMA_VERSION);
        PQclear(r);
        goto fail;
    }
    PQclear(r);
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_try_advisory_lock(%lld)", WRITER_LOCK_KEY);
    r = PQexec(s->w, lock);
    bool locked = ok_result(r) && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (!locked) {
        snprintf(err, errlen, "another edhub process is writing this database (%s); stop it first", url);
        goto fail;
    }
    r = PQexec(s->w, "SELECT greatest(coalesce((SELECT max(change_version) FROM documents),0),"
                     " coalesce((SELECT max(change_version) FROM tombstones),0),"
                     " coalesce((SELECT max(change_version) FROM key_changes),0))");
    s->next_cv = ok_result(r) && PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) + 1 : 1;
    PQclear(r);
    if (!prepare_all(s->w, err, errlen)) goto fail;
    s->readers = xcalloc((size_t)s->nreaders, sizeof(pgreader));
    for (int i = 0; i < s->nreaders; i++) {
        if (!(s->readers[i].c = connect_to(url, err, errlen)) || !prepare_all(s->readers[i].c, err, errlen)) goto fail;
    }
    *out = s;
    return ERR_OK;
fail:
    pg_close(s);
    return ERR_STORAGE;
}

/* ---- batch control (writer thread) ---- */

static err_t pg_begin(void *impl)
{
    pg *s = impl;
    if (PQstatus(s->w) != CONNECTION_OK) {
        /* The server restarted: reconnect, re-prepare, re-take the lock. */
        PQreset(s->w);
        char err[256], lock[96];
        snprintf(lock, sizeof lock, "SELECT pg_advisory_lock(%lld)", WRITER_LOCK_KEY);
        if (PQstatus(s->w) != CONNECTION_OK || !prepare_all(s->w, err, sizeof err) || !exec_sql(s->w, lock, err, sizeof err))
            return pg_fail(s->w, NULL, "reconnect");
    }
    s->batch_cv = s->next_cv;
    return exec_sql(s->w, "BEGIN", NULL, 0) ? ERR_OK : pg_fail(s->w, NULL, "BEGIN");
}

static err_t pg_savepoint(void *impl)
{
    return exec_sql(((pg *)impl)->w, "SAVEPOINT job", NULL, 0) ? ERR_OK : ERR_STORAGE;
}

static err_t pg_release(void *impl)
{
    return exec_sql(((pg *)impl)->w, "RELEASE SAVEPOINT job", NULL, 0) ? ERR_OK : ERR_STORAGE;
}

static err_t pg_rollback_to(void *impl)
{
    pg *s = impl;
    exec_sql(s->w, "ROLLBACK TO SAVEPOINT job", NULL, 0);
    return pg_release(impl);
}

static err_t pg_commit(void *impl)
{
    pg *s = impl;
    char err[256];
    if (exec_sql(s->w, "COMMIT", err, sizeof err)) return ERR_OK;
    log_error("store(pg): COMMIT failed: %s", err);
    exec_sql(s->w, "ROLLBACK", NULL, 0);
    s->next_cv = s->batch_cv;
    return ERR_STORAGE;
}

/* ---- rows ---- */

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
    d->doc_id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    snprintf(d->id, sizeof d->id, "%s", PQgetvalue(r, row, 1));
    d->resource = arena_strdup(a, PQgetvalue(r, row, 2));
    d->body = arena_strndup(a, PQgetvalue(r, row, 3), (size_t)PQgetlength(r, row, 3));
    d->etag = strtoll(PQgetvalue(r, row, 4), NULL, 10);
    snprintf(d->last_modified, sizeof d->last_modified, "%s", PQgetvalue(r, row, 5));
    memset(d->refid.b, 0, 16);
    hex_to_bytes(PQgetvalue(r, row, 6), d->refid.b, 16);
    d->refs = NULL;
    d->nrefs = 0;
    if (!PQgetisnull(r, row, 7)) {
        const char *hex = PQgetvalue(r, row, 7);
        size_t nb = (strlen(hex) - 2) / 2;
        d->nrefs = (int)(nb / 16);
        uint8_t *b = arena_alloc(a, nb + 1);
        hex_to_bytes(hex, b, nb);
        d->refs = b;
    }
}

/* ---- writer primitives ---- */

static err_t w_find_identity(void *impl, const uuid_t16 *refid, arena *a, store_hit *out)
{
    pg *s = impl;
    params p = {0};
    p_blob(&p, refid->b, 16);
    PGresult *r = run(s->w, P_FIND_IDENTITY, &p);
    if (!ok_result(r)) return pg_fail(s->w, r, "find identity");
    err_t e = ERR_NOT_FOUND;
    if (PQntuples(r) == 1) {
        out->doc_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        snprintf(out->id, sizeof out->id, "%s", PQgetvalue(r, 0, 1));
        out->resource = arena_strdup(a, PQgetvalue(r, 0, 2));
        e = ERR_OK;
    }
    PQclear(r);
    return e;
}

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

static err_t w_get(void *impl, int64_t doc_id, arena *a, store_doc *out)
{
    params p = {0};
    p_int(&p, doc_id);
    return one_doc(((pg *)impl)->w, P_GET, &p, a, out, "get");
}

static err_t w_get_by_id(void *impl, const char *resource, const char *id, arena *a, store_doc *out)
{
    params p = {0};
    p_text(&p, id);
    p_text(&p, resource);
    return one_doc(((pg *)impl)->w, P_GET_BY_ID, &p, a, out, "get by id");
}

static err_t put_identity(pg *s, const uuid_t16 *refid, int64_t doc_id)
{
    params p = {0};
    p_blob(&p, refid->b, 16);
    p_int(&p, doc_id);
    PGresult *r = run(s->w, P_INSERT_IDENTITY, &p);
    if (ok_result(r)) {
        PQclear(r);
        return ERR_OK;
    }
    if (unique_violation(r)) {
        PQclear(r);
        return ERR_IDENTITY_CONFLICT;
    }
    return pg_fail(s->w, r, "insert identity");
}

static err_t drop_identity(pg *s, const uuid_t16 *refid)
{
    params p = {0};
    p_blob(&p, refid->b, 16);
    return exec_p(s->w, P_DELETE_IDENTITY, &p, "delete identity");
}

static err_t drop_alias(pg *s, int64_t doc_id)
{
    params p = {0};
    p_int(&p, doc_id);
    return exec_p(s->w, P_DELETE_ALIAS, &p, "delete alias");
}

/* Adds or removes a document's reference rows (16-byte ids, hex-joined). */
static err_t apply_refs(pg *s, const uint8_t *refs, int n, int64_t doc_id, bool add)
{
    if (n <= 0) return ERR_OK;
    static const char hex[] = "0123456789abcdef";
    char *list = xmalloc((size_t)n * 33 + 1);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (i) list[o++] = ',';
        for (int k = 0; k < 16; k++) {
            list[o++] = hex[refs[16 * i + k] >> 4];
            list[o++] = hex[refs[16 * i + k] & 15];
        }
    }
    list[o] = 0;
    params p = {0};
    p_text(&p, list);
    p_int(&p, doc_id);
    err_t e = exec_p(s->w, add ? P_INSERT_REF : P_DELETE_REF, &p, add ? "insert refs" : "delete refs");
    free(list);
    return e;
}

/* Adds or removes query-index rows listed as "key\tvalue\n"..., sent as
 * one JSON array of [field, value] pairs. */
static err_t apply_qv(pg *s, const char *qv, int64_t doc_id, bool add)
{
    if (!qv || !*qv) return ERR_OK;
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '[');
    int n = 0;
    for (const char *line = qv; *line;) {
        const char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
        if (!tab || !nl || tab > nl) break;
        buf_puts(&b, n++ ? ",[" : "[");
        buf_json_strn(&b, line, (size_t)(tab - line));
        buf_putc(&b, ',');
        buf_json_strn(&b, tab + 1, (size_t)(nl - tab - 1));
        buf_putc(&b, ']');
        line = nl + 1;
    }
    buf_putc(&b, ']');
    params p = {0};
    p_text(&p, b.data);
    p_int(&p, doc_id);
    err_t e = n ? exec_p(s->w, add ? P_INSERT_QV : P_DELETE_QV, &p, "query index") : ERR_OK;
    buf_free(&b);
    return e;
}

static err_t drop_qv(pg *s, int64_t doc_id)
{
    params p = {0};
    p_int(&p, doc_id);
    PGresult *r = run(s->w, P_GET_QV, &p);
    if (!ok_result(r)) return pg_fail(s->w, r, "read query index");
    err_t e = ERR_OK;
    if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) e = apply_qv(s, PQgetvalue(r, 0, 0), doc_id, false);
    PQclear(r);
    return e;
}

static err_t w_insert(void *impl, const store_put *put, store_doc *out)
{
    pg *s = impl;
    uuid_t16 id;
    uuid_v4(&id);
    uuid_format(&id, out->id);
    int64_t cv = s->next_cv++;
    time_now_iso(out->last_modified);
    params p = {0};
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
    PGresult *r = run(s->w, P_INSERT_DOC, &p);
    if (!ok_result(r) || PQntuples(r) != 1) return pg_fail(s->w, r, "insert document");
    out->doc_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    out->etag = cv;
    out->resource = put->resource;
    out->body = put->body;
    out->refid = *put->refid;
    err_t e = put_identity(s, put->refid, out->doc_id);
    if (!e && put->alias) e = put_identity(s, put->alias, out->doc_id);
    if (!e) e = apply_refs(s, (const uint8_t *)put->refs, put->nrefs, out->doc_id, true);
    if (!e) e = apply_qv(s, put->qvals, out->doc_id, true);
    return e;
}

static err_t w_update(void *impl, const store_doc *old, const store_put *put, const char *old_key_json, store_doc *out)
{
    pg *s = impl;
    err_t e;
    bool key_changed = memcmp(old->refid.b, put->refid->b, 16) != 0;
    if (key_changed) {
        if ((e = drop_identity(s, &old->refid))) return e;
        if ((e = drop_alias(s, old->doc_id))) return e;
        if ((e = put_identity(s, put->refid, old->doc_id))) return e;
        if (put->alias && (e = put_identity(s, put->alias, old->doc_id))) return e;
    }
    if ((e = apply_refs(s, old->refs, old->nrefs, old->doc_id, false))) return e;
    if ((e = apply_refs(s, (const uint8_t *)put->refs, put->nrefs, old->doc_id, true))) return e;
    if ((e = drop_qv(s, old->doc_id))) return e;
    if ((e = apply_qv(s, put->qvals, old->doc_id, true))) return e;
    int64_t cv = s->next_cv++;
    *out = *old;
    time_now_iso(out->last_modified);
    params p = {0};
    p_int(&p, old->doc_id);
    p_blob(&p, put->refid->b, 16);
    p_blob(&p, put->alias ? put->alias->b : NULL, put->alias ? 16 : 0);
    p_text(&p, put->body);
    p_blob(&p, put->nrefs ? (const void *)put->refs : NULL, 16 * put->nrefs);
    p_int(&p, cv);
    p_text(&p, out->last_modified);
    p_text(&p, put->qvals);
    if ((e = exec_p(s->w, P_UPDATE_DOC, &p, "update document"))) return e;
    out->etag = cv;
    out->body = put->body;
    out->refid = *put->refid;
    if (key_changed && old_key_json) {
        params k = {0};
        p_int(&k, cv);
        p_text(&k, old->resource);
        p_text(&k, old->id);
        p_text(&k, old_key_json);
        p_text(&k, put->key_json ? put->key_json : "{}");
        p_text(&k, out->last_modified);
        if ((e = exec_p(s->w, P_KEY_CHANGE, &k, "key change"))) return e;
    }
    return ERR_OK;
}

static err_t w_remove(void *impl, const store_doc *old, const char *key_json)
{
    pg *s = impl;
    err_t e;
    if ((e = apply_refs(s, old->refs, old->nrefs, old->doc_id, false))) return e;
    if ((e = drop_identity(s, &old->refid))) return e;
    if ((e = drop_qv(s, old->doc_id))) return e;
    if ((e = drop_alias(s, old->doc_id))) return e;
    params p = {0};
    p_int(&p, old->doc_id);
    if ((e = exec_p(s->w, P_DELETE_DOC, &p, "delete document"))) return e;
    char now[21];
    time_now_iso(now);
    params t = {0};
    p_int(&t, s->next_cv++);
    p_text(&t, old->resource);
    p_text(&t, old->id);
    p_text(&t, key_json ? key_json : "{}");
    p_text(&t, now);
    return exec_p(s->w, P_TOMBSTONE, &t, "tombstone");
}

static err_t w_referrers(void *impl, const uuid_t16 *refid, arena *a, int max, int64_t **ids, int *n)
{
    pg *s = impl;
    params p = {0};
    p_blob(&p, refid->b, 16);
    p_int(&p, max);
    PGresult *r = run(s->w, P_REFERRERS, &p);
    if (!ok_result(r)) return pg_fail(s->w, r, "referrers");
    int rows = PQntuples(r);
    int64_t *v = arena_alloc(a, sizeof(int64_t) * (size_t)(rows + 1));
    for (int i = 0; i < rows; i++) v[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    PQclear(r);
    *ids = v;
    *n = rows;
    return ERR_OK;
}

static err_t w_client_put(void *impl, const char *key, const char *hash, const char *name)
{
    pg *s = impl;
    char now[21];
    time_now_iso(now);
    params p = {0};
    p_text(&p, key);
    p_text(&p, hash);
    p_text(&p, name);
    p_text(&p, now);
    return exec_p(s->w, P_CLIENT_PUT, &p, "client");
}

/* ---- readers ---- */

static pgreader *acquire(pg *s)
{
    pthread_mutex_lock(&s->rmu);
    for (;;) {
        for (int i = 0; i < s->nreaders; i++)
            if (!s->readers[i].busy) {
                s->readers[i].busy = true;
                pthread_mutex_unlock(&s->rmu);
                if (PQstatus(s->readers[i].c) != CONNECTION_OK) {
                    char err[256];
                    PQreset(s->readers[i].c);
                    if (PQstatus(s->readers[i].c) == CONNECTION_OK) prepare_all(s->readers[i].c, err, sizeof err);
                }
                return &s->readers[i];
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
    err_t e = one_doc(r->c, P_GET_BY_ID, &p, a, out, "get by id");
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
            vals[n++] = f->index_key;
            vals[n++] = f->index_value;
            buf_printf(b, " AND doc_id IN (SELECT doc_id FROM qvals WHERE field = $%d AND value = $%d)", n - 1, n);
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
    *nv = n;
}

#define MAX_PARAMS (2 * 48 + 8)

static err_t r_query(void *impl, const store_query *q, store_row_fn fn, void *ctx, int64_t *total, int64_t *last)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    arena a;
    arena_init(&a, 1 << 14);
    buf sql;
    buf_init(&sql, 0);
    const char *vals[MAX_PARAMS];
    int nv = 0;
    err_t e = ERR_OK;
    PGresult *res = NULL;
    if (q->nfilters > 40) {
        e = ERR_INVALID;
        goto out;
    }
    if (q->count && total) {
        buf_puts(&sql, "SELECT count(*) FROM documents");
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
    buf_puts(&sql, "SELECT " DOC_COLS " FROM documents");
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
    res = PQexecParams(r->c, sql.data, nv, NULL, vals, NULL, NULL, 0);
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

static err_t r_partitions(void *impl, const char *resource, int n, int64_t *bounds, int *got)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    err_t e = ERR_OK;
    *got = 0;
    const char *v1[1] = {resource};
    PGresult *res = PQexecParams(r->c, "SELECT count(*), coalesce(max(doc_id),0) FROM documents WHERE resource = $1", 1,
                                 NULL, v1, NULL, NULL, 0);
    if (!ok_result(res)) {
        e = pg_fail(r->c, res, "partitions");
        goto out;
    }
    int64_t count = strtoll(PQgetvalue(res, 0, 0), NULL, 10), maxid = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    if (count == 0) goto out;
    if (n > count) n = (int)count;
    bounds[0] = 0;
    int k = 1;
    for (int i = 1; i < n; i++) {
        char off[24];
        snprintf(off, sizeof off, "%lld", (long long)(count * i / n - 1));
        const char *v2[2] = {resource, off};
        res = PQexecParams(r->c, "SELECT doc_id FROM documents WHERE resource = $1 ORDER BY doc_id LIMIT 1 OFFSET $2", 2, NULL,
                           v2, NULL, NULL, 0);
        if (ok_result(res) && PQntuples(res) == 1) bounds[k++] = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    bounds[k] = maxid;
    *got = k;
out:
    release(s, r);
    return e;
}

static err_t r_client_secret(void *impl, const char *key, char *hash, size_t hashlen)
{
    pg *s = impl;
    pgreader *r = acquire(s);
    const char *v[1] = {key};
    PGresult *res = PQexecParams(r->c, "SELECT secret_hash FROM clients WHERE key = $1", 1, NULL, v, NULL, NULL, 0);
    err_t e = ERR_NOT_FOUND;
    if (!ok_result(res)) e = ERR_STORAGE;
    else if (PQntuples(res) == 1) {
        snprintf(hash, hashlen, "%s", PQgetvalue(res, 0, 0));
        e = ERR_OK;
    }
    PQclear(res);
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

const store_backend store_pg_backend = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .begin = pg_begin,
    .savepoint = pg_savepoint,
    .release = pg_release,
    .rollback_to = pg_rollback_to,
    .commit = pg_commit,
    .find_identity = w_find_identity,
    .get = w_get,
    .get_by_id = w_get_by_id,
    .insert = w_insert,
    .update = w_update,
    .remove = w_remove,
    .referrers = w_referrers,
    .client_put = w_client_put,
    .read_by_id = r_read_by_id,
    .query = r_query,
    .partitions = r_partitions,
    .client_secret = r_client_secret,
    .stats_json = r_stats_json,
    .healthy = r_healthy,
};
