/* The admin store on SQLite or PostgreSQL. Admin traffic is tiny (a token
 * request, a CLI command), so one connection under a mutex serves it, and
 * each SQL text below runs unchanged on both engines: parameters are
 * written $1..$n (SQLite binds them by name) and bound as text. */
#include "admin.h"
#include "../base/arena.h"
#include "../base/buf.h"
#include "../base/log.h"
#include "../base/timefmt.h"
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Serializes admin writers on PostgreSQL (the audit chain needs one tail). */
#define ADMIN_LOCK_KEY 0x6564687562616431LL
#define MAX_PARAMS 10

struct admin_store {
    pthread_mutex_t mu;
    sqlite3 *lite;
    PGconn *pg;
    char *url;   /* PostgreSQL: for reconnecting */
};

static const char *schema_sql[] = {
    "CREATE TABLE IF NOT EXISTS admin_objects(kind TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,"
    " version BIGINT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY(kind, name))",
    "CREATE TABLE IF NOT EXISTS admin_audit(seq BIGINT PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,"
    " action TEXT NOT NULL, target TEXT NOT NULL, address TEXT, before TEXT, after TEXT, hash TEXT NOT NULL)",
};
/* Append-only, enforced by the database itself. */
static const char *lite_guard_sql =
    "CREATE TRIGGER IF NOT EXISTS admin_audit_no_update BEFORE UPDATE ON admin_audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS admin_audit_no_delete BEFORE DELETE ON admin_audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";
static const char *pg_guard_sql =
    "CREATE OR REPLACE FUNCTION admin_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION 'the audit log is append-only'; END$$;"
    "CREATE OR REPLACE TRIGGER admin_audit_append_only BEFORE UPDATE OR DELETE ON admin_audit"
    " FOR EACH STATEMENT EXECUTE FUNCTION admin_audit_append_only();";

/* ---- one statement on either engine ---- */

typedef struct rows {
    int n, cols;
    char **v;      /* n * cols values (NULL for SQL NULL), malloc'ed */
} rows;

static void rows_free(rows *r)
{
    for (int i = 0; i < r->n * r->cols; i++) free(r->v[i]);
    free(r->v);
    memset(r, 0, sizeof *r);
}

static const char *cell(const rows *r, int row, int col) { return r->v[row * r->cols + col]; }

static err_t lite_exec(admin_store *a, const char *sql, int np, const char *const *p, rows *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(a->lite, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error("admin: %s: %s", sql, sqlite3_errmsg(a->lite));
        return ERR_STORAGE;
    }
    for (int i = 0; i < np; i++) {
        char name[8];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx && p[i]) sqlite3_bind_text(st, idx, p[i], -1, SQLITE_STATIC);
    }
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!out) continue;
        int cols = sqlite3_column_count(st);
        out->cols = cols;
        if ((out->n + 1) * cols > cap) {
            cap = (out->n + 1) * cols * 2;
            out->v = xrealloc(out->v, sizeof(char *) * (size_t)cap);
        }
        for (int c = 0; c < cols; c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            out->v[out->n * cols + c] = t ? xstrdup((const char *)t) : NULL;
        }
        out->n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        log_error("admin: %s: %s", sql, sqlite3_errmsg(a->lite));
        return (rc == SQLITE_CONSTRAINT) ? ERR_CONFLICT : ERR_STORAGE;
    }
    return ERR_OK;
}

static err_t pg_exec(admin_store *a, const char *sql, int np, const char *const *p, rows *out)
{
    if (PQstatus(a->pg) != CONNECTION_OK) PQreset(a->pg);
    PGresult *r = np || out ? PQexecParams(a->pg, sql, np, NULL, p, NULL, NULL, 0) : PQexec(a->pg, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        bool unique = state && !strcmp(state, "23505");
        if (!unique) log_error("admin: %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        return unique ? ERR_CONFLICT : ERR_STORAGE;
    }
    if (out && s == PGRES_TUPLES_OK) {
        out->n = PQntuples(r);
        out->cols = PQnfields(r);
        out->v = xcalloc((size_t)(out->n * out->cols) + 1, sizeof(char *));
        for (int i = 0; i < out->n; i++)
            for (int c = 0; c < out->cols; c++)
                out->v[i * out->cols + c] = PQgetisnull(r, i, c) ? NULL : xstrdup(PQgetvalue(r, i, c));
    }
    PQclear(r);
    return ERR_OK;
}

static err_t exec(admin_store *a, const char *sql, int np, const char *const *p, rows *out)
{
    if (out) memset(out, 0, sizeof *out);
    return a->pg ? pg_exec(a, sql, np, p, out) : lite_exec(a, sql, np, p, out);
}

static err_t exec0(admin_store *a, const char *sql) { return exec(a, sql, 0, NULL, NULL); }

static err_t begin_write(admin_store *a)
{
    if (!a->pg) return exec0(a, "BEGIN IMMEDIATE");
    err_t e = exec0(a, "BEGIN");
    if (!e) {
        char lock[80];
        snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", ADMIN_LOCK_KEY);
        e = exec0(a, lock);
        if (e) exec0(a, "ROLLBACK");
    }
    return e;
}

/* ---- the hash chain ---- */

static void put_field(EVP_MD_CTX *c, const char *s)
{
    const char *v = s ? s : "";
    EVP_DigestUpdate(c, v, strlen(v));
    EVP_DigestUpdate(c, "\x1f", 1);   /* unit separator: fields cannot run together */
}

/* hex SHA-256 over the previous hash and the entry's fields, in order. */
static void entry_hash(const char *const f[8], char out[65])
{
    unsigned char d[32];
    unsigned int n = 32;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++) put_field(c, f[i]);
    EVP_DigestFinal_ex(c, d, &n);
    EVP_MD_CTX_free(c);
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

/* Appends ev inside the caller's write transaction. */
static err_t append(admin_store *a, const admin_event *ev, const char *at)
{
    rows r;
    err_t e = exec(a, "SELECT seq, hash FROM admin_audit ORDER BY seq DESC LIMIT 1", 0, NULL, &r);
    if (e) return e;
    long long seq = r.n ? atoll(cell(&r, 0, 0)) + 1 : 1;
    char prev[65] = "";
    if (r.n) snprintf(prev, sizeof prev, "%s", cell(&r, 0, 1));
    rows_free(&r);
    char seqs[24], hash[65];
    snprintf(seqs, sizeof seqs, "%lld", seq);
    const char *f[8] = {prev, seqs, at, ev->actor, ev->action, ev->target, ev->before, ev->after};
    entry_hash(f, hash);
    const char *p[9] = {seqs, at, ev->actor ? ev->actor : "?", ev->action, ev->target ? ev->target : "", ev->address,
                        ev->before, ev->after, hash};
    return exec(a,
                "INSERT INTO admin_audit(seq, at, actor, action, target, address, before, after, hash)"
                " VALUES(CAST($1 AS BIGINT), $2, $3, $4, $5, $6, $7, $8, $9)",
                9, p, NULL);
}

/* ---- open ---- */

/* API clients of edhub before the admin store sat in an instance "clients"
 * table; they become client objects with full access, once. */
static err_t import_legacy_clients(admin_store *a)
{
    rows r;
    err_t e = a->pg ? exec(a, "SELECT to_regclass('clients') IS NOT NULL", 0, NULL, &r)
                    : exec(a, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'clients'", 0, NULL, &r);
    if (e) return e;
    bool has = r.n && (!strcmp(cell(&r, 0, 0), "t") || !strcmp(cell(&r, 0, 0), "1"));
    rows_free(&r);
    if (!has) return ERR_OK;
    if ((e = exec(a, "SELECT key, secret_hash, name, created_at FROM clients ORDER BY key", 0, NULL, &r))) return e;
    char at[21];
    time_now_iso(at);
    for (int i = 0; i < r.n && !e; i++) {
        buf b;
        buf_init(&b, 0);
        buf_puts(&b, "{\"key\":");
        buf_json_str(&b, cell(&r, i, 0));
        buf_puts(&b, ",\"secretHash\":");
        buf_json_str(&b, cell(&r, i, 1));
        buf_puts(&b, ",\"name\":");
        buf_json_str(&b, cell(&r, i, 2));
        buf_puts(&b, ",\"claimSet\":\"edhub Full Access\",\"edorgs\":[],\"namespaces\":[],\"enabled\":true,\"createdAt\":");
        buf_json_str(&b, cell(&r, i, 3));
        buf_putc(&b, '}');
        const char *p[4] = {cell(&r, i, 0), b.data, at};
        rows had;
        e = exec(a,
                 "INSERT INTO admin_objects(kind, name, body, version, updated_at) VALUES('client', $1, $2, 1, $3)"
                 " ON CONFLICT DO NOTHING RETURNING name",
                 3, p, &had);
        if (!e && had.n) {
            char target[160];
            snprintf(target, sizeof target, "client:%s", cell(&r, i, 0));
            admin_event ev = {.actor = "edhub-migration", .action = "client.import", .target = target};
            e = append(a, &ev, at);
        }
        rows_free(&had);
        buf_free(&b);
    }
    rows_free(&r);
    if (!e) e = exec0(a, "DROP TABLE clients");
    return e;
}

err_t admin_open(const char *location, admin_store **out, char *err, size_t errlen)
{
    admin_store *a = xcalloc(1, sizeof *a);
    pthread_mutex_init(&a->mu, NULL);
    *out = NULL;
    if (!strncmp(location, "postgresql://", 13) || !strncmp(location, "postgres://", 11)) {
        a->pg = PQconnectdb(location);
        if (PQstatus(a->pg) != CONNECTION_OK) {
            snprintf(err, errlen, "cannot connect to %s: %s", location, PQerrorMessage(a->pg));
            admin_close(a);
            return ERR_IO;
        }
        PQclear(PQexec(a->pg, "SET client_min_messages = warning"));
    } else if (sqlite3_open_v2(location, &a->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
               SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", location, sqlite3_errmsg(a->lite));
        admin_close(a);
        return ERR_IO;
    } else {
        sqlite3_busy_timeout(a->lite, 10000);
        sqlite3_exec(a->lite, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
    }
    err_t e = begin_write(a);
    for (size_t i = 0; !e && i < sizeof schema_sql / sizeof schema_sql[0]; i++) e = exec0(a, schema_sql[i]);
    if (!e) e = a->pg ? exec0(a, pg_guard_sql) : (sqlite3_exec(a->lite, lite_guard_sql, NULL, NULL, NULL) ? ERR_STORAGE : ERR_OK);
    if (!e) e = import_legacy_clients(a);
    if (!e) e = exec0(a, "COMMIT");
    else exec0(a, "ROLLBACK");
    if (e) {
        snprintf(err, errlen, "cannot set up the admin tables in %s (see the log)", location);
        admin_close(a);
        return e;
    }
    *out = a;
    return ERR_OK;
}

void admin_close(admin_store *a)
{
    if (!a) return;
    if (a->pg) PQfinish(a->pg);
    if (a->lite) sqlite3_close(a->lite);
    pthread_mutex_destroy(&a->mu);
    free(a->url);
    free(a);
}

/* ---- objects ---- */

err_t admin_get(admin_store *a, const char *kind, const char *name, char **body, int64_t *version)
{
    const char *p[2] = {kind, name};
    rows r;
    pthread_mutex_lock(&a->mu);
    err_t e = exec(a, "SELECT body, version FROM admin_objects WHERE kind = $1 AND name = $2", 2, p, &r);
    pthread_mutex_unlock(&a->mu);
    if (e) return e;
    if (!r.n) e = ERR_NOT_FOUND;
    else {
        if (body) *body = xstrdup(cell(&r, 0, 0));
        if (version) *version = atoll(cell(&r, 0, 1));
    }
    rows_free(&r);
    return e;
}

err_t admin_list(admin_store *a, const char *kind, char **json_array)
{
    const char *p[1] = {kind};
    rows r;
    pthread_mutex_lock(&a->mu);
    err_t e = exec(a, "SELECT body FROM admin_objects WHERE kind = $1 ORDER BY name", 1, p, &r);
    pthread_mutex_unlock(&a->mu);
    if (e) return e;
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '[');
    for (int i = 0; i < r.n; i++) {
        if (i) buf_putc(&b, ',');
        buf_puts(&b, cell(&r, i, 0));
    }
    buf_putc(&b, ']');
    rows_free(&r);
    *json_array = buf_take(&b);
    return ERR_OK;
}

err_t admin_put(admin_store *a, const char *kind, const char *name, const char *body, int64_t expect,
                const admin_event *ev, int64_t *new_version)
{
    char at[21], vs[24];
    time_now_iso(at);
    pthread_mutex_lock(&a->mu);
    err_t e = begin_write(a);
    if (e) goto out;
    const char *k[2] = {kind, name};
    rows r;
    if ((e = exec(a, "SELECT version FROM admin_objects WHERE kind = $1 AND name = $2", 2, k, &r))) goto fail;
    int64_t cur = r.n ? atoll(cell(&r, 0, 0)) : 0;
    rows_free(&r);
    if (expect >= 0 && cur != expect) {
        e = ERR_CONFLICT;
        goto fail;
    }
    if (!body && !cur) {
        e = ERR_NOT_FOUND;
        goto fail;
    }
    snprintf(vs, sizeof vs, "%lld", (long long)cur + 1);
    if (body) {
        const char *p[5] = {kind, name, body, vs, at};
        e = exec(a,
                 "INSERT INTO admin_objects(kind, name, body, version, updated_at) VALUES($1, $2, $3, CAST($4 AS BIGINT), $5)"
                 " ON CONFLICT(kind, name) DO UPDATE SET body = excluded.body, version = excluded.version,"
                 " updated_at = excluded.updated_at",
                 5, p, NULL);
    } else {
        e = exec(a, "DELETE FROM admin_objects WHERE kind = $1 AND name = $2", 2, k, NULL);
    }
    if (!e && ev) e = append(a, ev, at);
    if (e) goto fail;
    e = exec0(a, "COMMIT");
    if (!e && new_version) *new_version = cur + 1;
    goto out;
fail:
    exec0(a, "ROLLBACK");
out:
    pthread_mutex_unlock(&a->mu);
    return e;
}

err_t admin_record(admin_store *a, const admin_event *ev)
{
    char at[21];
    time_now_iso(at);
    pthread_mutex_lock(&a->mu);
    err_t e = begin_write(a);
    if (!e) {
        e = append(a, ev, at);
        if (!e) e = exec0(a, "COMMIT");
        else exec0(a, "ROLLBACK");
    }
    pthread_mutex_unlock(&a->mu);
    return e;
}

/* ---- reading the log ---- */

static const char *audit_cols = "SELECT seq, at, actor, action, target, address, before, after, hash FROM admin_audit";

err_t admin_audit(admin_store *a, int64_t after, int limit, char **json_array)
{
    char as[24], ls[24];
    snprintf(as, sizeof as, "%lld", (long long)after);
    snprintf(ls, sizeof ls, "%d", limit > 0 ? limit : 1000);
    const char *p[2] = {as, ls};
    char sql[256];
    snprintf(sql, sizeof sql, "%s WHERE seq > CAST($1 AS BIGINT) ORDER BY seq LIMIT CAST($2 AS BIGINT)", audit_cols);
    rows r;
    pthread_mutex_lock(&a->mu);
    err_t e = exec(a, sql, 2, p, &r);
    pthread_mutex_unlock(&a->mu);
    if (e) return e;
    static const char *names[] = {"seq", "at", "actor", "action", "target", "address", "before", "after", "hash"};
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '[');
    for (int i = 0; i < r.n; i++) {
        buf_puts(&b, i ? ",{" : "{");
        for (int c = 0; c < 9; c++) {
            const char *v = cell(&r, i, c);
            buf_printf(&b, "%s\"%s\":", c ? "," : "", names[c]);
            if (!v) buf_puts(&b, "null");
            else if (c == 0 || c == 6 || c == 7) buf_puts(&b, v); /* numbers and JSON snapshots as they are */
            else buf_json_str(&b, v);
        }
        buf_putc(&b, '}');
    }
    buf_putc(&b, ']');
    rows_free(&r);
    *json_array = buf_take(&b);
    return ERR_OK;
}

err_t admin_audit_verify(admin_store *a, int64_t *bad_seq, int64_t *count)
{
    *bad_seq = 0;
    *count = 0;
    char prev[65] = "";
    int64_t after = 0, expect_seq = 1;
    char sql[256];
    snprintf(sql, sizeof sql, "%s WHERE seq > CAST($1 AS BIGINT) ORDER BY seq LIMIT 1000", audit_cols);
    for (;;) {   /* bounded by the log's length: every pass moves `after` forward */
        char as[24];
        snprintf(as, sizeof as, "%lld", (long long)after);
        const char *p[1] = {as};
        rows r;
        pthread_mutex_lock(&a->mu);
        err_t e = exec(a, sql, 1, p, &r);
        pthread_mutex_unlock(&a->mu);
        if (e) return e;
        for (int i = 0; i < r.n && !*bad_seq; i++) {
            const char *f[8] = {prev, cell(&r, i, 0), cell(&r, i, 1), cell(&r, i, 2), cell(&r, i, 3), cell(&r, i, 4),
                                cell(&r, i, 6), cell(&r, i, 7)};
            char h[65];
            entry_hash(f, h);
            int64_t seq = atoll(cell(&r, i, 0));
            (*count)++;
            /* A gap in seq is a removed entry, even if the rest chains. */
            if (seq != expect_seq || strcmp(h, cell(&r, i, 8))) *bad_seq = seq;
            snprintf(prev, sizeof prev, "%s", cell(&r, i, 8));
            after = seq;
            expect_seq = seq + 1;
        }
        int n = r.n;
        rows_free(&r);
        if (n < 1000 || *bad_seq) return ERR_OK;
    }
}
