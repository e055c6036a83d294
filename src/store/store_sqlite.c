/* store.h on SQLite: one database file per ODS instance, WAL mode,
 * synchronous=FULL, a single writer thread doing group commit, and a pool
 * of reader connections. All of edhub's SQL for SQLite lives here. */
#include "store_int.h"
#include "../base/buf.h"
#include "../base/log.h"
#include "../base/timefmt.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#define SCHEMA_VERSION "5"
#define SCHEMA_VERSION_NUM 5
/* Versioned schema steps, sq_migrations[v] taking version v to v + 1, each
 * run in its own transaction by `edhub migrate`. Version 2 is the first
 * released layout, so there is none yet. */
typedef bool (*sq_migration)(sqlite3 *db, char *err, size_t errlen);
/* 2 → 3: the authorization subject columns (filled as documents are
 * written; older rows fall back to their JSON body). */
static bool sq_migrate_2_3(sqlite3 *db, char *err, size_t errlen)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, "ALTER TABLE documents ADD COLUMN sec_edorg TEXT; ALTER TABLE documents ADD COLUMN sec_person TEXT",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK) snprintf(err, errlen, "migration 2 to 3: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc == SQLITE_OK;
}

/* A query-index field ("ed-fi/students|studentUniqueId") as the integer
 * that stands for it in qvals: its 64-bit FNV-1a hash. Names are long and
 * repeated in every row; the integer makes rows and their B-tree compares
 * several times smaller. A collision among the model's few thousand fields
 * is practically impossible (~1e-13); it would only add candidates that the
 * query's other conditions see. */
static int64_t qfield_id(const char *name, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
    return (int64_t)h;
}

/* "field\tvalue\n"... (names) -> the stored form, "hexid\tvalue\n"... */
static void qv_compact(const char *qv, buf *out)
{
    for (const char *line = qv; line && *line;) {
        const char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
        if (!tab || !nl || tab > nl) break;
        buf_printf(out, "%016llx\t%.*s\n", (unsigned long long)qfield_id(line, (size_t)(tab - line)),
                   (int)(nl - tab - 1), tab + 1);
        line = nl + 1;
    }
}

static void sql_qfield_id(sqlite3_context *c, int n, sqlite3_value **v)
{
    (void)n;
    const char *t = (const char *)sqlite3_value_text(v[0]);
    sqlite3_result_int64(c, qfield_id(t ? t : "", t ? (size_t)sqlite3_value_bytes(v[0]) : 0));
}

static void sql_qv_compact(sqlite3_context *c, int n, sqlite3_value **v)
{
    (void)n;
    if (sqlite3_value_type(v[0]) != SQLITE_TEXT) {
        sqlite3_result_null(c);
        return;
    }
    buf b;
    buf_init(&b, 256);
    qv_compact((const char *)sqlite3_value_text(v[0]), &b);
    sqlite3_result_text(c, b.data ? b.data : "", (int)b.len, SQLITE_TRANSIENT);
    buf_free(&b);
}

/* 3 -> 4: query-index fields as integers (qfield_id), in qvals and in each
 * document's list of its rows. */
static bool sq_migrate_3_4(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_create_function(db, "edhub_qfield_id", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_qfield_id, NULL, NULL);
    sqlite3_create_function(db, "edhub_qv_compact", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_qv_compact, NULL, NULL);
    char *msg = NULL;
    int rc = sqlite3_exec(db,
                          "CREATE TABLE qvals4(fid INTEGER NOT NULL, value TEXT NOT NULL, doc_id INTEGER NOT NULL,"
                          "  PRIMARY KEY(fid, value, doc_id)) WITHOUT ROWID;"
                          "INSERT OR IGNORE INTO qvals4 SELECT edhub_qfield_id(field), value, doc_id FROM qvals;"
                          "DROP TABLE qvals; ALTER TABLE qvals4 RENAME TO qvals;"
                          "UPDATE documents SET qv = edhub_qv_compact(qv) WHERE qv IS NOT NULL;",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK) snprintf(err, errlen, "migration 3 to 4: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc == SQLITE_OK;
}

/* Adds a column unless the table has it, so that the step changes nothing
 * on a table that already has its new shape. */
static bool sq_add_column(sqlite3 *db, const char *table, const char *column, char *err, size_t errlen)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT 1 FROM pragma_table_info('%s') WHERE name = '%.*s'", table,
             (int)strcspn(column, " "), column);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    bool have = rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!have && rc == SQLITE_OK) {
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s", table, column);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) snprintf(err, errlen, "migration 4 to 5: %s: %s", table, sqlite3_errmsg(db));
    return rc == SQLITE_OK;
}

/* 4 -> 5: what change queries keep of a deleted or re-keyed document
 * (store_prior). Older rows keep their key JSON (leaf names) and no
 * subjects: they are served as stored, to clients whose ReadChanges needs
 * no record-level check. */
static bool sq_migrate_4_5(sqlite3 *db, char *err, size_t errlen)
{
    static const char *const cols[] = {"ref_id BLOB", "sec_edorg TEXT", "sec_person TEXT", "subjects TEXT", "owner TEXT"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        if (!sq_add_column(db, "tombstones", cols[i], err, errlen) || !sq_add_column(db, "key_changes", cols[i], err, errlen))
            return false;
    return true;
}

static const sq_migration sq_migrations[SCHEMA_VERSION_NUM + 1] = {[2] = sq_migrate_2_3, [3] = sq_migrate_3_4,
                                                                   [4] = sq_migrate_4_5};
/* 16384 frames of 4 KiB pages: rewind the WAL past 64 MiB. */
#define WAL_RESTART_FRAMES 16384

static const char *schema_sql =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS documents("
    "  doc_id INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  resource TEXT NOT NULL,"
    "  ref_id BLOB NOT NULL,"
    "  alias_id BLOB,"
    "  body TEXT NOT NULL,"
    "  refs BLOB,"
    "  etag INTEGER NOT NULL,"
    "  last_modified TEXT NOT NULL,"
    "  change_version INTEGER NOT NULL,"
    "  owner TEXT,"
    "  qv TEXT,"
    /* Authorization subjects (a resource's first education organization and
     * person securable elements), so list filters read a column, not JSON. */
    "  sec_edorg TEXT,"
    "  sec_person TEXT);"
    "CREATE UNIQUE INDEX IF NOT EXISTS documents_id ON documents(id);"
    "CREATE INDEX IF NOT EXISTS documents_resource ON documents(resource, doc_id);"
    "CREATE INDEX IF NOT EXISTS documents_cv ON documents(change_version);"
    /* Every referential id a document answers to: its own and its
     * superclass alias. Unique: a natural key belongs to one document. */
    "CREATE TABLE IF NOT EXISTS identities(ref_id BLOB PRIMARY KEY, doc_id INTEGER NOT NULL) WITHOUT ROWID;"
    /* Outgoing references (documents and descriptors), for delete
     * protection and identity cascades. */
    "CREATE TABLE IF NOT EXISTS refs(target BLOB NOT NULL, doc_id INTEGER NOT NULL,"
    "  PRIMARY KEY(target, doc_id)) WITHOUT ROWID;"
    /* Query index: identity fields' canonical values, so that lookups by
     * natural key (e.g. ?studentUniqueId=...) do not scan the resource. */
    "CREATE TABLE IF NOT EXISTS qvals(fid INTEGER NOT NULL, value TEXT NOT NULL, doc_id INTEGER NOT NULL,"
    "  PRIMARY KEY(fid, value, doc_id)) WITHOUT ROWID;"
    /* Change queries: a row per delete and per identity change, keyed by its
     * change version; key JSON under query-parameter names, and (store_prior)
     * the natural key's referential id and the authorization columns of the
     * document as it was, so that list filters apply to these rows too. */
    "CREATE TABLE IF NOT EXISTS tombstones(change_version INTEGER PRIMARY KEY, resource TEXT NOT NULL,"
    "  id TEXT NOT NULL, key_values TEXT NOT NULL, deleted_at TEXT NOT NULL,"
    "  ref_id BLOB, sec_edorg TEXT, sec_person TEXT, subjects TEXT, owner TEXT);"
    "CREATE INDEX IF NOT EXISTS tombstones_resource ON tombstones(resource, change_version);"
    "CREATE TABLE IF NOT EXISTS key_changes(change_version INTEGER PRIMARY KEY, resource TEXT NOT NULL,"
    "  id TEXT NOT NULL, old_key_values TEXT NOT NULL, new_key_values TEXT NOT NULL, changed_at TEXT NOT NULL,"
    "  ref_id BLOB, sec_edorg TEXT, sec_person TEXT, subjects TEXT, owner TEXT);"
    "CREATE INDEX IF NOT EXISTS key_changes_resource ON key_changes(resource, change_version);"
    /* The relationship index of record-level authorization: the edorg
     * hierarchy as edges (walked with recursive queries: it is a few levels
     * deep), and person <-> edorg (or contact <-> student) relationships,
     * kept after their document is deleted (deleted = 1) for the
     * ...IncludingDeletes strategies. */
    "CREATE TABLE IF NOT EXISTS auth_edorg_parents(edorg TEXT NOT NULL, parent TEXT NOT NULL,"
    "  PRIMARY KEY(edorg, parent)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS auth_edorg_children ON auth_edorg_parents(parent, edorg);"
    "CREATE TABLE IF NOT EXISTS auth_people(kind INTEGER NOT NULL, person TEXT NOT NULL, other TEXT NOT NULL,"
    "  doc_id INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(kind, person, other, doc_id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS auth_people_by_other ON auth_people(kind, other, person);"
    "CREATE INDEX IF NOT EXISTS auth_people_by_doc ON auth_people(doc_id);"
    /* Lineage of published documents (edhub publish): an additive table,
     * created on open when missing like the relationship index, so older
     * instances need no migration. */
    "CREATE TABLE IF NOT EXISTS lineage(resource TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL,"
    "  source_client TEXT, source_id TEXT, published_at TEXT NOT NULL, PRIMARY KEY(resource, id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '" SCHEMA_VERSION "');";

/* Relationship checks: one statement per view and deletes flag, prepared
 * on first use on each connection. */
#define REACH_STMTS 12

typedef struct reader {
    sqlite3 *db;
    sqlite3_stmt *get_by_id;
    sqlite3_stmt *reach[REACH_STMTS];
    bool busy;
} reader;

enum {
    W_BEGIN, W_COMMIT, W_ROLLBACK, W_SAVEPOINT, W_ROLLBACK_TO, W_RELEASE,
    W_FIND_IDENTITY, W_GET, W_GET_BY_ID, W_INSERT_DOC, W_INSERT_IDENTITY, W_DELETE_IDENTITY,
    W_DELETE_ALIAS, W_INSERT_REF, W_DELETE_REF, W_INSERT_QV, W_DELETE_QV, W_GET_QV, W_UPDATE_DOC, W_DELETE_DOC, W_TOMBSTONE, W_KEY_CHANGE, W_REFERRERS,
    W_DATA_VERSION, W_MAX_CV,
    W_COUNT
};

static const char *writer_sql[W_COUNT] = {
    [W_BEGIN] = "BEGIN IMMEDIATE",
    [W_COMMIT] = "COMMIT",
    [W_ROLLBACK] = "ROLLBACK",
    [W_SAVEPOINT] = "SAVEPOINT job",
    [W_ROLLBACK_TO] = "ROLLBACK TO job",
    [W_RELEASE] = "RELEASE job",
    [W_FIND_IDENTITY] = "SELECT d.doc_id, d.id, d.resource FROM identities i JOIN documents d ON d.doc_id = i.doc_id WHERE i.ref_id = ?1",
    [W_GET] = "SELECT doc_id, id, resource, body, etag, last_modified, ref_id, refs, owner FROM documents WHERE doc_id = ?1",
    [W_GET_BY_ID] = "SELECT doc_id, id, resource, body, etag, last_modified, ref_id, refs, owner FROM documents WHERE id = ?1 AND resource = ?2",
    [W_INSERT_DOC] = "INSERT INTO documents(id, resource, ref_id, alias_id, body, refs, etag, last_modified, change_version, owner, qv,"
                     " sec_edorg, sec_person) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7, ?9, ?10, ?11, ?12)",
    [W_INSERT_IDENTITY] = "INSERT INTO identities(ref_id, doc_id) VALUES(?1, ?2)",
    [W_DELETE_IDENTITY] = "DELETE FROM identities WHERE ref_id = ?1",
    [W_DELETE_ALIAS] = "DELETE FROM identities WHERE ref_id = (SELECT alias_id FROM documents WHERE doc_id = ?1)",
    [W_INSERT_REF] = "INSERT OR IGNORE INTO refs(target, doc_id) VALUES(?1, ?2)",
    [W_DELETE_REF] = "DELETE FROM refs WHERE target = ?1 AND doc_id = ?2",
    [W_INSERT_QV] = "INSERT OR IGNORE INTO qvals(fid, value, doc_id) VALUES(?1, ?2, ?3)",
    [W_DELETE_QV] = "DELETE FROM qvals WHERE fid = ?1 AND value = ?2 AND doc_id = ?3",
    [W_GET_QV] = "SELECT qv FROM documents WHERE doc_id = ?1",
    [W_UPDATE_DOC] = "UPDATE documents SET ref_id = ?2, alias_id = ?3, body = ?4, refs = ?5, etag = ?6, last_modified = ?7,"
                     " change_version = ?6, qv = ?8, sec_edorg = ?9, sec_person = ?10 WHERE doc_id = ?1",
    [W_DELETE_DOC] = "DELETE FROM documents WHERE doc_id = ?1",
    [W_TOMBSTONE] = "INSERT INTO tombstones(change_version, resource, id, deleted_at, key_values, ref_id, sec_edorg, sec_person,"
                    " subjects, owner) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [W_KEY_CHANGE] = "INSERT INTO key_changes(change_version, resource, id, changed_at, old_key_values, ref_id, sec_edorg,"
                     " sec_person, subjects, owner, new_key_values) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [W_REFERRERS] = "SELECT r.doc_id, d.resource FROM refs r JOIN documents d ON d.doc_id = r.doc_id WHERE r.target = ?1 LIMIT ?2",
    [W_DATA_VERSION] = "PRAGMA data_version",
    /* The highest change version stored: documents keep their latest,
     * deletes and key changes their own rows. One statement: one snapshot. */
    [W_MAX_CV] = "SELECT max(coalesce((SELECT max(change_version) FROM documents), 0),"
                 " coalesce((SELECT max(change_version) FROM tombstones), 0),"
                 " coalesce((SELECT max(change_version) FROM key_changes), 0))",
};

typedef struct sq sq;

/* The writer connection and its prepared statements. */
/* The writer's memory of identity lookups within one transaction: a load
 * looks up the same school, session, descriptor and student thousands of
 * times per batch. Exact because the writer is the only one writing while
 * its transaction is open, and every identity change forgets the entry
 * (a removed alias, whose id is not at hand, forgets everything). */
typedef struct icache_entry {
    uuid_t16 key;
    bool used, known, found; /* known = false: forgotten, look it up again */
    int64_t doc_id;
    char id[37];
    const char *resource; /* in icache.a */
} icache_entry;

typedef struct icache {
    icache_entry *e;
    int cap, n; /* cap: a power of two, or 0 */
    arena a;
} icache;

typedef struct sqw {
    sq *s;
    sqlite3 *db;
    sqlite3_stmt *st[W_COUNT];
    sqlite3_stmt *reach[REACH_STMTS];
    icache ic;
} sqw;

struct sq {
    char *path;
    sqw w;                     /* the writer connection */
    int64_t next_cv;           /* writer-only: next change version */
    int64_t batch_cv;          /* next_cv when the batch began */
    int64_t cv_data_version;   /* writer-only: PRAGMA data_version when next_cv was last synced */
    bool optimistic;           /* writer-only: this batch runs without savepoints */
    int64_t job_changes;       /* writer-only: total_changes when the job began */
    int wal_frames;            /* frames in the WAL after the last commit */
    int wal_restart_frames;    /* past this the writer itself restarts the WAL */
    int64_t data_version;      /* writer-only: PRAGMA data_version at the last batch */
    pthread_t checkpointer;   /* copies the WAL back off the writer's path */
    sqlite3 *ckpt_db;
    bool ckpt_started;
    pthread_mutex_t mu;        /* guards stopping, for the checkpointer */
    pthread_cond_t ckpt_cv;
    bool stopping;
    int nreaders;
    reader *readers;
    pthread_mutex_t rmu;
    pthread_cond_t rcv;
};

static err_t open_conn(const char *path, sqlite3 **db, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path, *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        sqlite3_close(*db);
        *db = NULL;
        return ERR_IO;
    }
    sqlite3_busy_timeout(*db, 10000);
    sqlite3_extended_result_codes(*db, 1);
    return ERR_OK;
}

static bool exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : "SQL error");
        sqlite3_free(msg);
        return false;
    }
    return true;
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* The writer only ever waits for readers to leave the WAL (sq_idle); they
 * take microseconds, so poll finely instead of SQLite's millisecond steps.
 * Gives up after about 10 s. */
static int writer_busy(void *arg, int attempts)
{
    (void)arg;
    if (attempts > 20000) return 0;
    struct timespec ts = {0, attempts < 1000 ? 50 * 1000 : 1000 * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db, (void)name;
    ((sq *)arg)->wal_frames = frames;
    return SQLITE_OK;
}

/* Between batches (the writer holds no transaction): under constant writes
 * PASSIVE checkpoints never catch up with the end of the WAL, so it would
 * grow without bound. Past 64 MiB the writer itself copies the rest and
 * waits for readers to leave the WAL (they are short), so the next commit
 * starts the WAL over; this costs a few milliseconds every 64 MiB. */
static void sq_idle(void *impl)
{
    sq *s = impl;
    if (s->wal_frames < s->wal_restart_frames) return;
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->w.db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    if (rc == SQLITE_OK) s->wal_frames = 0;
    else if (rc != SQLITE_BUSY) log_warn("store: WAL restart failed: %s", sqlite3_errmsg(s->w.db));
}

/* Checkpoints run here, not inside the writer's commits (auto-checkpoint is
 * off), so a commit never waits for the database file to be synced. */
static void *checkpointer_main(void *arg)
{
    sq *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000 * 1000; /* small backlog: short WAL restarts */
        if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&s->ckpt_cv, &s->mu, &ts);
        if (s->stopping) break;
        pthread_mutex_unlock(&s->mu);
        int log = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(s->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) log_warn("store: checkpoint failed: %s", sqlite3_errmsg(s->ckpt_db));
        (void)log, (void)done;
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Continues change versions after the highest one stored whenever another
 * process (edhub load on the same file) committed since this writer last
 * looked. Called under the write lock (BEGIN IMMEDIATE) or before any write,
 * so versions stay unique and increase in commit order across processes. */
static err_t sq_sync_cv(sq *s)
{
    sqlite3_stmt *st = s->w.st[W_DATA_VERSION];
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (v >= 0 && v == s->cv_data_version) return ERR_OK;
    st = s->w.st[W_MAX_CV];
    int rc = sqlite3_step(st);
    int64_t next = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) + 1 : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW) {
        log_error("store: highest change version: %s", sqlite3_errmsg(s->w.db));
        return ERR_STORAGE;
    }
    if (next > s->next_cv) s->next_cv = next;
    s->cv_data_version = v;
    return ERR_OK;
}

static err_t sq_open(const char *path, const store_opts *opts, void **out, char *err, size_t errlen)
{
    sq *s = xcalloc(1, sizeof *s);
    s->path = xstrdup(path);
    s->nreaders = opts && opts->readers > 0 ? opts->readers : 8;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->ckpt_cv, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->rcv, NULL);
    err_t e = open_conn(path, &s->w.db, err, errlen);
    if (e) goto fail;
    s->w.s = s;
    /* page_size only takes effect before the first table exists. 4 KiB, not
     * the 16 KiB that sequential inserts favour: each document touches
     * several random-key B-trees (identities, refs, query index), so every
     * commit rewrites many pages, and small pages write ~3x fewer WAL bytes
     * (measured: 7.4k vs 6.1k POST/s under mixed load, bench/RESULTS.md).
     * journal_size_limit keeps the WAL file itself bounded. */
    if (!exec(s->w.db, "PRAGMA page_size=4096; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;"
                       "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;", err, errlen) ||
        !exec(s->w.db, schema_sql, err, errlen)) {
        e = ERR_STORAGE;
        goto fail;
    }
    {
        /* Refuse a database of another schema version rather than misread it. */
        sqlite3_stmt *vs;
        const char *have = NULL;
        char ver[32] = "";
        if (sqlite3_prepare_v2(s->w.db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &vs, NULL) == SQLITE_OK) {
            if (sqlite3_step(vs) == SQLITE_ROW) snprintf(ver, sizeof ver, "%s", (const char *)sqlite3_column_text(vs, 0));
            sqlite3_finalize(vs);
            have = ver;
        }
        int v = have ? atoi(have) : 0;
        if (errlen) err[0] = 0;
        while (v > 0 && v < SCHEMA_VERSION_NUM && opts && opts->migrate && sq_migrations[v]) {
            if (!exec(s->w.db, "BEGIN IMMEDIATE", err, errlen)) break;
            char bump[96];
            snprintf(bump, sizeof bump, "UPDATE meta SET value = '%d' WHERE key = 'schema_version'", v + 1);
            if (!sq_migrations[v](s->w.db, err, errlen) || !exec(s->w.db, bump, err, errlen) || !exec(s->w.db, "COMMIT", err, errlen)) {
                exec(s->w.db, "ROLLBACK", NULL, 0);
                break;
            }
            log_info("store: storage schema migrated from version %d to %d", v, v + 1);
            v++;
        }
        if (v != SCHEMA_VERSION_NUM) {
            if (v > SCHEMA_VERSION_NUM)
                snprintf(err, errlen, "%s has storage schema version %d, newer than this edhub's (%d): upgrade edhub", path, v,
                         SCHEMA_VERSION_NUM);
            else if (v > 0 && sq_migrations[v] && !(opts && opts->migrate))
                snprintf(err, errlen,
                         "%s has storage schema version %d and this edhub uses version %d: stop its server and run "
                         "'edhub migrate --data DIR'",
                         path, v, SCHEMA_VERSION_NUM);
            else if (!*err)
                snprintf(err, errlen,
                         "%s has storage schema version %s, which predates versioned migrations; re-create the instance "
                         "(edhub init --data DIR) and reload its data",
                         path, have && *have ? have : "(none)");
            e = ERR_CONFIG;
            goto fail;
        }
    }
    for (int i = 0; i < W_COUNT; i++) {
        if (sqlite3_prepare_v3(s->w.db, writer_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->w.st[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "prepare failed: %s", sqlite3_errmsg(s->w.db));
            e = ERR_STORAGE;
            goto fail;
        }
    }
    /* The next change version follows the highest one ever handed out. */
    s->cv_data_version = -1;
    if ((e = sq_sync_cv(s))) goto fail;
    s->readers = xcalloc((size_t)s->nreaders, sizeof(reader));
    for (int i = 0; i < s->nreaders; i++) {
        reader *r = &s->readers[i];
        if ((e = open_conn(path, &r->db, err, errlen))) goto fail;
        exec(r->db, "PRAGMA cache_size=-32768; PRAGMA query_only=1;", err, errlen);
        if (sqlite3_prepare_v3(r->db, writer_sql[W_GET_BY_ID], -1, SQLITE_PREPARE_PERSISTENT, &r->get_by_id, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "prepare failed: %s", sqlite3_errmsg(r->db));
            e = ERR_STORAGE;
            goto fail;
        }
    }
    exec(s->w.db, "PRAGMA wal_autocheckpoint=0;", err, errlen);
    s->wal_restart_frames = WAL_RESTART_FRAMES;
    if (opts && opts->bulk) {
        /* A bulk load commits tens of MiB at a time: restarting the WAL after
         * each would have the writer copy them back itself (8% of its time
         * measured); the checkpoint thread does it on the other core, and the
         * WAL restarts by itself whenever that thread has caught up. */
        s->wal_restart_frames = WAL_RESTART_FRAMES * 16;
        /* A bulk load's transactions dirty many pages: a cache that holds
         * them all writes each once at commit instead of spilling it to the
         * WAL again and again. An eighth of the memory, at most 1 GiB. */
        long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
        long kib = pages > 0 && psz > 0 ? (long)((double)pages * (double)psz / 8 / 1024) : 65536;
        if (kib > 1048576) kib = 1048576;
        if (kib < 65536) kib = 65536;
        char q[64];
        snprintf(q, sizeof q, "PRAGMA cache_size=-%ld;", kib);
        exec(s->w.db, q, err, errlen);
    }
    sqlite3_wal_hook(s->w.db, wal_hook, s);
    sqlite3_busy_handler(s->w.db, writer_busy, NULL);
    if ((e = open_conn(path, &s->ckpt_db, err, errlen))) goto fail;
    /* A connection has no WAL handle until it has read the database; until
     * then every checkpoint call on it is a silent no-op (log = -1). */
    if (!exec(s->ckpt_db, "SELECT count(*) FROM meta;", err, errlen)) {
        e = ERR_STORAGE;
        goto fail;
    }
    if (pthread_create(&s->checkpointer, NULL, checkpointer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the checkpoint thread");
        e = ERR_IO;
        goto fail;
    }
    s->ckpt_started = true;
    *out = s;
    return ERR_OK;
fail:
    if (s->ckpt_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_broadcast(&s->ckpt_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->checkpointer, NULL);
    }
    sqlite3_close(s->ckpt_db);
    for (int i = 0; i < W_COUNT; i++) sqlite3_finalize(s->w.st[i]);
    for (int i = 0; i < REACH_STMTS; i++) sqlite3_finalize(s->w.reach[i]);
    sqlite3_close(s->w.db);
    for (int i = 0; s->readers && i < s->nreaders; i++) {
        for (int k = 0; k < REACH_STMTS; k++) sqlite3_finalize(s->readers[i].reach[k]);
        sqlite3_finalize(s->readers[i].get_by_id);
        sqlite3_close(s->readers[i].db);
    }
    free(s->readers);
    free(s->path);
    free(s);
    return e;
}

static void sq_close(void *impl)
{
    sq *s = impl;
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->ckpt_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->checkpointer, NULL);
    sqlite3_close(s->ckpt_db);
    for (int i = 0; i < W_COUNT; i++) sqlite3_finalize(s->w.st[i]);
    for (int i = 0; i < REACH_STMTS; i++) sqlite3_finalize(s->w.reach[i]);
    for (int i = 0; i < s->nreaders; i++) {
        for (int k = 0; k < REACH_STMTS; k++) sqlite3_finalize(s->readers[i].reach[k]);
        sqlite3_finalize(s->readers[i].get_by_id);
        sqlite3_close(s->readers[i].db);
    }
    /* Checkpoint and truncate the WAL so a stopped instance is one file. */
    sqlite3_wal_checkpoint_v2(s->w.db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_close(s->w.db);
    free(s->w.ic.e);
    arena_free(&s->w.ic.a);
    free(s->readers);
    free(s->path);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->ckpt_cv);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->rcv);
    free(s);
}

/* ---- writer primitives ---- */

static err_t sql_err(sqw *t, const char *what)
{
    log_error("store: %s: %s", what, sqlite3_errmsg(t->db));
    return ERR_STORAGE;
}

static uint64_t icache_hash(const uuid_t16 *k)
{
    uint64_t h;
    memcpy(&h, k->b, sizeof h); /* referential ids and UUIDs are uniformly random */
    return h ^ (h >> 29);
}

static void icache_clear(icache *c)
{
    if (c->n) memset(c->e, 0, sizeof *c->e * (size_t)c->cap);
    c->n = 0;
    arena_free(&c->a);
    arena_init(&c->a, 1 << 14);
}

static icache_entry *icache_slot(icache *c, const uuid_t16 *k)
{
    if (!c->cap) return NULL;
    size_t mask = (size_t)c->cap - 1, i = (size_t)icache_hash(k) & mask;
    while (c->e[i].used && memcmp(c->e[i].key.b, k->b, 16)) i = (i + 1) & mask;
    return &c->e[i];
}

/* Keeps what a lookup found (hit NULL: nothing). */
static void icache_put(icache *c, const uuid_t16 *k, const store_hit *hit)
{
    if ((c->n + 1) * 2 > c->cap) {
        icache_entry *old = c->e;
        int ocap = c->cap;
        c->cap = ocap ? ocap * 2 : 4096;
        c->e = xcalloc((size_t)c->cap, sizeof *c->e);
        c->n = 0;
        for (int i = 0; i < ocap; i++)
            if (old[i].used) {
                *icache_slot(c, &old[i].key) = old[i];
                c->n++;
            }
        free(old);
    }
    icache_entry *e = icache_slot(c, k);
    if (!e->used) c->n++;
    e->used = e->known = true;
    e->key = *k;
    e->found = hit != NULL;
    if (hit) {
        e->doc_id = hit->doc_id;
        memcpy(e->id, hit->id, sizeof e->id);
        e->resource = arena_strdup(&c->a, hit->resource);
    }
}

static void icache_forget(icache *c, const uuid_t16 *k)
{
    icache_entry *e = icache_slot(c, k);
    if (e && e->used) e->known = false;
}

static err_t sqw_find_identity(sqw *t, const uuid_t16 *refid, arena *a, store_hit *out)
{
    icache_entry *c = icache_slot(&t->ic, refid);
    if (c && c->used && c->known) {
        if (!c->found) return ERR_NOT_FOUND;
        out->doc_id = c->doc_id;
        memcpy(out->id, c->id, sizeof out->id);
        out->resource = arena_strdup(a, c->resource);
        return ERR_OK;
    }
    sqlite3_stmt *st = t->st[W_FIND_IDENTITY];
    sqlite3_bind_blob(st, 1, refid->b, 16, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    err_t e = ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        out->doc_id = sqlite3_column_int64(st, 0);
        snprintf(out->id, sizeof out->id, "%s", (const char *)sqlite3_column_text(st, 1));
        out->resource = arena_strdup(a, (const char *)sqlite3_column_text(st, 2));
        e = ERR_OK;
    } else if (rc != SQLITE_DONE) {
        e = sql_err(t, "find identity");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (e == ERR_OK || e == ERR_NOT_FOUND) icache_put(&t->ic, refid, e == ERR_OK ? out : NULL);
    return e;
}

static void read_doc(sqlite3_stmt *st, arena *a, store_doc *d)
{
    d->doc_id = sqlite3_column_int64(st, 0);
    snprintf(d->id, sizeof d->id, "%s", (const char *)sqlite3_column_text(st, 1));
    d->resource = arena_strdup(a, (const char *)sqlite3_column_text(st, 2));
    d->body = arena_strndup(a, (const char *)sqlite3_column_text(st, 3), (size_t)sqlite3_column_bytes(st, 3));
    d->etag = sqlite3_column_int64(st, 4);
    snprintf(d->last_modified, sizeof d->last_modified, "%s", (const char *)sqlite3_column_text(st, 5));
    if (sqlite3_column_bytes(st, 6) == 16) memcpy(d->refid.b, sqlite3_column_blob(st, 6), 16);
    int nb = sqlite3_column_bytes(st, 7);
    d->nrefs = nb / 16;
    if (nb) {
        uint8_t *r = arena_alloc(a, (size_t)nb);
        memcpy(r, sqlite3_column_blob(st, 7), (size_t)nb);
        d->refs = r;
    } else {
        d->refs = NULL;
    }
    const unsigned char *owner = sqlite3_column_count(st) > 8 ? sqlite3_column_text(st, 8) : NULL;
    d->owner = owner ? arena_strdup(a, (const char *)owner) : NULL;
}

static err_t sqw_get(sqw *t, int64_t doc_id, arena *a, store_doc *out)
{
    sqlite3_stmt *st = t->st[W_GET];
    sqlite3_bind_int64(st, 1, doc_id);
    int rc = sqlite3_step(st);
    err_t e = ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        read_doc(st, a, out);
        e = ERR_OK;
    } else if (rc != SQLITE_DONE) {
        e = sql_err(t, "get");
    }
    sqlite3_reset(st);
    return e;
}

static err_t sqw_get_by_id(sqw *t, const char *resource, const char *id, arena *a, store_doc *out)
{
    sqlite3_stmt *st = t->st[W_GET_BY_ID];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, resource, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    err_t e = ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        read_doc(st, a, out);
        e = ERR_OK;
    } else if (rc != SQLITE_DONE) {
        e = sql_err(t, "get by id");
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return e;
}

static err_t put_identity(sqw *t, const uuid_t16 *refid, int64_t doc_id)
{
    sqlite3_stmt *st = t->st[W_INSERT_IDENTITY];
    sqlite3_bind_blob(st, 1, refid->b, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, doc_id);
    icache_forget(&t->ic, refid);
    int rc = step_done(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) return ERR_IDENTITY_CONFLICT;
    return rc == SQLITE_DONE ? ERR_OK : sql_err(t, "insert identity");
}

static err_t drop_identity(sqw *t, const uuid_t16 *refid)
{
    sqlite3_stmt *st = t->st[W_DELETE_IDENTITY];
    sqlite3_bind_blob(st, 1, refid->b, 16, SQLITE_STATIC);
    icache_forget(&t->ic, refid);
    return step_done(st) == SQLITE_DONE ? ERR_OK : sql_err(t, "delete identity");
}

static err_t put_refs(sqw *t, const uuid_t16 *refs, int n, int64_t doc_id)
{
    sqlite3_stmt *st = t->st[W_INSERT_REF];
    for (int i = 0; i < n; i++) {
        sqlite3_bind_blob(st, 1, refs[i].b, 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, doc_id);
        if (step_done(st) != SQLITE_DONE) return sql_err(t, "insert ref");
    }
    return ERR_OK;
}

static err_t drop_refs(sqw *t, const uint8_t *refs, int n, int64_t doc_id)
{
    sqlite3_stmt *st = t->st[W_DELETE_REF];
    for (int i = 0; i < n; i++) {
        sqlite3_bind_blob(st, 1, refs + 16 * i, 16, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, doc_id);
        if (step_done(st) != SQLITE_DONE) return sql_err(t, "delete ref");
    }
    return ERR_OK;
}

/* Adds or removes the query-index rows listed in qv, stored form
 * ("hexid\tvalue\n"...). */
static err_t apply_qv(sqw *t, const char *qv, int64_t doc_id, bool add)
{
    sqlite3_stmt *st = t->st[add ? W_INSERT_QV : W_DELETE_QV];
    for (const char *line = qv; line && *line;) {
        const char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
        if (!tab || !nl || tab > nl) break;
        sqlite3_bind_int64(st, 1, (int64_t)strtoull(line, NULL, 16));
        sqlite3_bind_text(st, 2, tab + 1, (int)(nl - tab - 1), SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, doc_id);
        if (step_done(st) != SQLITE_DONE) return sql_err(t, "query index");
        line = nl + 1;
    }
    return ERR_OK;
}

/* Replaces the query-index rows a stored document has by those in next
 * (stored form; NULL: none). Most updates change no indexed value. */
static err_t drop_qv(sqw *t, int64_t doc_id, const char *next)
{
    sqlite3_stmt *st = t->st[W_GET_QV];
    sqlite3_bind_int64(st, 1, doc_id);
    char *qv = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        qv = strdup((const char *)sqlite3_column_text(st, 0));
        if (!qv) {
            sqlite3_reset(st);
            return ERR_NOMEM;
        }
    }
    sqlite3_reset(st);
    err_t e = ERR_OK;
    if (qv && next && !strcmp(qv, next)) goto out;
    if (qv) e = apply_qv(t, qv, doc_id, false);
    if (!e && next) e = apply_qv(t, next, doc_id, true);
out:
    free(qv);
    return e;
}

/* Removes the identity row of a document's superclass alias, if any (the
 * alias is read from the document row, which must still exist). */
static err_t drop_alias(sqw *t, int64_t doc_id)
{
    sqlite3_stmt *st = t->st[W_DELETE_ALIAS];
    sqlite3_bind_int64(st, 1, doc_id);
    icache_clear(&t->ic);
    return step_done(st) == SQLITE_DONE ? ERR_OK : sql_err(t, "delete alias");
}

static err_t sqw_insert(sqw *t, const store_put *p, store_doc *out)
{
    uuid_t16 id;
    uuid_v7(&id);
    uuid_format(&id, out->id);
    int64_t cv = t->s->next_cv++;
    time_now_iso(out->last_modified);
    sqlite3_stmt *st = t->st[W_INSERT_DOC];
    sqlite3_bind_text(st, 1, out->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->resource, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, p->refid->b, 16, SQLITE_STATIC);
    if (p->alias) sqlite3_bind_blob(st, 4, p->alias->b, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, p->body, -1, SQLITE_STATIC);
    if (p->nrefs) sqlite3_bind_blob(st, 6, p->refs, 16 * p->nrefs, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, cv);
    sqlite3_bind_text(st, 8, out->last_modified, -1, SQLITE_STATIC);
    if (p->owner) sqlite3_bind_text(st, 9, p->owner, -1, SQLITE_STATIC);
    buf qv;
    buf_init(&qv, 256);
    qv_compact(p->qvals, &qv);
    if (p->qvals) sqlite3_bind_text(st, 10, qv.data ? qv.data : "", (int)qv.len, SQLITE_STATIC);
    if (p->sec_edorg) sqlite3_bind_text(st, 11, p->sec_edorg, -1, SQLITE_STATIC);
    if (p->sec_person) sqlite3_bind_text(st, 12, p->sec_person, -1, SQLITE_STATIC);
    if (step_done(st) != SQLITE_DONE) {
        buf_free(&qv);
        return sql_err(t, "insert document");
    }
    out->doc_id = sqlite3_last_insert_rowid(t->db);
    out->etag = cv;
    out->resource = p->resource;
    out->body = p->body;
    out->refid = *p->refid;
    err_t e = put_identity(t, p->refid, out->doc_id);
    if (!e && p->alias) e = put_identity(t, p->alias, out->doc_id);
    if (!e) e = put_refs(t, p->refs, p->nrefs, out->doc_id);
    if (!e) e = apply_qv(t, qv.data, out->doc_id, true);
    buf_free(&qv);
    return e;
}

/* Binds a store_prior's columns from parameter `first` on: key values,
 * referential id, sec_edorg, sec_person, subjects, owner. */
static void bind_prior(sqlite3_stmt *st, int first, const store_prior *pr)
{
    sqlite3_bind_text(st, first, pr->key_values ? pr->key_values : "{}", -1, SQLITE_STATIC);
    if (pr->refid) sqlite3_bind_blob(st, first + 1, pr->refid->b, 16, SQLITE_STATIC);
    if (pr->sec_edorg) sqlite3_bind_text(st, first + 2, pr->sec_edorg, -1, SQLITE_STATIC);
    if (pr->sec_person) sqlite3_bind_text(st, first + 3, pr->sec_person, -1, SQLITE_STATIC);
    if (pr->subjects) sqlite3_bind_text(st, first + 4, pr->subjects, -1, SQLITE_STATIC);
    if (pr->owner) sqlite3_bind_text(st, first + 5, pr->owner, -1, SQLITE_STATIC);
}

static err_t sqw_update(sqw *t, const store_doc *old, const store_put *p, const store_prior *prior, store_doc *out)
{
    err_t e;
    bool key_changed = memcmp(old->refid.b, p->refid->b, 16) != 0;
    if (key_changed) {
        if ((e = drop_identity(t, &old->refid))) return e;
        if ((e = drop_alias(t, old->doc_id))) return e;
        if ((e = put_identity(t, p->refid, old->doc_id))) return e;
        if (p->alias && (e = put_identity(t, p->alias, old->doc_id))) return e;
    }
    if ((e = drop_refs(t, old->refs, old->nrefs, old->doc_id))) return e;
    if ((e = put_refs(t, p->refs, p->nrefs, old->doc_id))) return e;
    buf qv;
    buf_init(&qv, 256);
    qv_compact(p->qvals, &qv);
    if ((e = drop_qv(t, old->doc_id, qv.data ? qv.data : ""))) goto done;
    int64_t cv = t->s->next_cv++;
    *out = *old;
    time_now_iso(out->last_modified);
    sqlite3_stmt *st = t->st[W_UPDATE_DOC];
    sqlite3_bind_int64(st, 1, old->doc_id);
    sqlite3_bind_blob(st, 2, p->refid->b, 16, SQLITE_STATIC);
    if (p->alias) sqlite3_bind_blob(st, 3, p->alias->b, 16, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, p->body, -1, SQLITE_STATIC);
    if (p->nrefs) sqlite3_bind_blob(st, 5, p->refs, 16 * p->nrefs, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, cv);
    sqlite3_bind_text(st, 7, out->last_modified, -1, SQLITE_STATIC);
    if (p->qvals) sqlite3_bind_text(st, 8, qv.data ? qv.data : "", (int)qv.len, SQLITE_STATIC);
    if (p->sec_edorg) sqlite3_bind_text(st, 9, p->sec_edorg, -1, SQLITE_STATIC);
    if (p->sec_person) sqlite3_bind_text(st, 10, p->sec_person, -1, SQLITE_STATIC);
    if (step_done(st) != SQLITE_DONE) {
        e = sql_err(t, "update document");
        goto done;
    }
    out->etag = cv;
    out->body = p->body;
    out->refid = *p->refid;
    if (key_changed && prior) {
        st = t->st[W_KEY_CHANGE];
        sqlite3_bind_int64(st, 1, cv);
        sqlite3_bind_text(st, 2, old->resource, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, old->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, out->last_modified, -1, SQLITE_STATIC);
        bind_prior(st, 5, prior);
        sqlite3_bind_text(st, 11, p->key_values ? p->key_values : "{}", -1, SQLITE_STATIC);
        if (step_done(st) != SQLITE_DONE) e = sql_err(t, "key change");
    }
done:
    buf_free(&qv);
    return e;
}

static err_t sqw_delete(sqw *t, const store_doc *old, const store_prior *prior)
{
    err_t e;
    if ((e = drop_refs(t, old->refs, old->nrefs, old->doc_id))) return e;
    if ((e = drop_identity(t, &old->refid))) return e;
    if ((e = drop_qv(t, old->doc_id, NULL))) return e;
    if ((e = drop_alias(t, old->doc_id))) return e;
    sqlite3_stmt *st = t->st[W_DELETE_DOC];
    sqlite3_bind_int64(st, 1, old->doc_id);
    if (step_done(st) != SQLITE_DONE) return sql_err(t, "delete document");
    char now[21];
    time_now_iso(now);
    st = t->st[W_TOMBSTONE];
    sqlite3_bind_int64(st, 1, t->s->next_cv++);
    sqlite3_bind_text(st, 2, old->resource, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, old->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
    store_prior none = {0};
    bind_prior(st, 5, prior ? prior : &none);
    if (step_done(st) != SQLITE_DONE) return sql_err(t, "tombstone");
    return ERR_OK;
}

static err_t sqw_referrers(sqw *t, const uuid_t16 *refid, arena *a, int max, store_hit **hits, int *n)
{
    sqlite3_stmt *st = t->st[W_REFERRERS];
    sqlite3_bind_blob(st, 1, refid->b, 16, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, max);
    int cap = 16, k = 0;
    store_hit *v = arena_alloc(a, sizeof *v * (size_t)cap);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            store_hit *nv = arena_alloc(a, sizeof *v * (size_t)cap * 2);
            memcpy(nv, v, sizeof *v * (size_t)k);
            v = nv;
            cap *= 2;
        }
        v[k].doc_id = sqlite3_column_int64(st, 0);
        v[k].id[0] = 0;
        v[k++].resource = arena_strdup(a, (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) return sql_err(t, "referrers");
    *hits = v;
    *n = k;
    return ERR_OK;
}

/* ---- readers ---- */

static reader *acquire(sq *s)
{
    pthread_mutex_lock(&s->rmu);
    for (;;) {
        for (int i = 0; i < s->nreaders; i++)
            if (!s->readers[i].busy) {
                s->readers[i].busy = true;
                pthread_mutex_unlock(&s->rmu);
                return &s->readers[i];
            }
        pthread_cond_wait(&s->rcv, &s->rmu);
    }
}

static void release(sq *s, reader *r)
{
    pthread_mutex_lock(&s->rmu);
    r->busy = false;
    pthread_cond_signal(&s->rcv);
    pthread_mutex_unlock(&s->rmu);
}

static err_t sq_read_by_id(sq *s, const char *resource, const char *id, arena *a, store_doc *out)
{
    reader *r = acquire(s);
    sqlite3_stmt *st = r->get_by_id;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, resource, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    err_t e = ERR_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        read_doc(st, a, out);
        e = ERR_OK;
    } else if (rc != SQLITE_DONE) {
        log_error("store: get by id: %s", sqlite3_errmsg(r->db));
        e = ERR_STORAGE;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    release(s, r);
    return e;
}

static char *claims_json(const char *const *claims, int n);
static void view_set_sql(buf *b, store_view v, bool deletes);

/* Parameters of the authorization filter (after the query's own). */
#define AZ_CLAIMS 200
#define AZ_PATHS 201   /* one per requirement, at most 36 */
#define AZ_NS_PATH 240
#define AZ_NS 241      /* one per prefix, at most 36 */
#define AZ_OWNER 280

/* body: the column holding the JSON the paths apply to (documents: body;
 * change rows: subjects, the document pruned to its securable elements). */
static void authz_sql(buf *b, const store_authz *z, const char *body)
{
    if (z->ns_path) {
        buf_printf(b, " AND (0");
        for (int i = 0; i < z->nns && i < 36; i++)
            buf_printf(b, " OR json_extract(%s, ?%d) LIKE ?%d ESCAPE '\\'", body, AZ_NS_PATH, AZ_NS + i);
        buf_puts(b, ")");
    }
    if (z->owner) buf_printf(b, " AND owner = ?%d", AZ_OWNER);
    if (z->open) return;
    buf_puts(b, " AND (0");
    int p = AZ_PATHS;
    for (int g = 0; g < z->ngroups; g++) {
        buf_puts(b, " OR (1");
        for (int i = 0; i < z->groups[g].n && p < AZ_NS_PATH; i++, p++) {
            store_subject sj = z->groups[g].reqs[i].stored;
            const char *col = sj == SUBJ_EDORG ? "sec_edorg" : sj == SUBJ_PERSON ? "sec_person" : NULL;
            if (col) buf_printf(b, " AND coalesce(%s, CAST(json_extract(%s, ?%d) AS TEXT)) IN ", col, body, p);
            else buf_printf(b, " AND CAST(json_extract(%s, ?%d) AS TEXT) IN ", body, p);
            view_set_sql(b, z->groups[g].reqs[i].view, z->groups[g].reqs[i].including_deletes);
        }
        buf_puts(b, ")");
    }
    buf_puts(b, ")");
}

/* LIKE pattern for "starts with prefix": % _ and \ are literal. */
static char *prefix_pattern(const char *prefix)
{
    buf b;
    buf_init(&b, 0);
    for (const char *c = prefix; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\') buf_putc(&b, '\\');
        buf_putc(&b, *c);
    }
    buf_putc(&b, '%');
    return buf_take(&b);
}

static void bind_authz(sqlite3_stmt *st, const store_authz *z, char **claims, char **patterns)
{
    *claims = claims_json(z->claims, z->nclaims);
    sqlite3_bind_text(st, AZ_CLAIMS, *claims, -1, SQLITE_STATIC);
    int p = AZ_PATHS;
    for (int g = 0; g < z->ngroups; g++)
        for (int i = 0; i < z->groups[g].n && p < AZ_NS_PATH; i++, p++)
            sqlite3_bind_text(st, p, z->groups[g].reqs[i].json_path, -1, SQLITE_STATIC);
    if (z->ns_path) sqlite3_bind_text(st, AZ_NS_PATH, z->ns_path, -1, SQLITE_STATIC);
    for (int i = 0; i < z->nns && i < 36; i++) {
        patterns[i] = prefix_pattern(z->ns_prefixes[i]);
        sqlite3_bind_text(st, AZ_NS + i, patterns[i], -1, SQLITE_STATIC);
    }
    if (z->owner) sqlite3_bind_text(st, AZ_OWNER, z->owner, -1, SQLITE_STATIC);
}

static void free_authz_binds(char *claims, char **patterns)
{
    free(claims);
    for (int i = 0; i < 36; i++) free(patterns[i]);
}

/* Appends the WHERE clause for q's filters; SQL text depends only on the
 * filter kinds (paths and values are bound). */
static void where_sql(buf *b, const store_query *q)
{
    bool indexed = false;
    for (int i = 0; i < q->nfilters; i++) indexed |= q->filters[i].index_key != NULL;
    /* With a query-index filter, "+resource" keeps SQLite from scanning the
     * whole resource: the index's doc_id list drives, by rowid. */
    buf_puts(b, indexed ? " WHERE +resource = ?1" : " WHERE resource = ?1");
    if (q->min_cv) buf_puts(b, " AND change_version >= ?100");
    if (q->max_cv) buf_puts(b, " AND change_version <= ?101");
    for (int i = 0; i < q->nfilters; i++) {
        int p = 2 + 2 * i;
        if (q->filters[i].index_key) {
            buf_printf(b, " AND doc_id IN (SELECT doc_id FROM qvals WHERE fid = ?%d AND value = ?%d)", p, p + 1);
            continue;
        }
        switch (q->filters[i].kind) {
        case SF_ID: buf_printf(b, " AND id = lower(?%d) AND ?%d IS NOT NULL", p + 1, p); break;
        case SF_TEXT_NOCASE: buf_printf(b, " AND lower(json_extract(body, ?%d)) = lower(?%d)", p, p + 1); break;
        default: buf_printf(b, " AND json_extract(body, ?%d) = ?%d", p, p + 1); break;
        }
    }
    if (q->authz) authz_sql(b, q->authz, "body");
}

static void bind_filters(sqlite3_stmt *st, const store_query *q)
{
    sqlite3_bind_text(st, 1, q->resource, -1, SQLITE_STATIC);
    if (q->min_cv) sqlite3_bind_int64(st, 100, q->min_cv);
    if (q->max_cv) sqlite3_bind_int64(st, 101, q->max_cv);
    for (int i = 0; i < q->nfilters; i++) {
        const store_filter *f = &q->filters[i];
        int p = 2 + 2 * i;
        if (f->index_key) {
            sqlite3_bind_int64(st, p, qfield_id(f->index_key, strlen(f->index_key)));
            sqlite3_bind_text(st, p + 1, f->index_value, -1, SQLITE_STATIC);
            continue;
        }
        sqlite3_bind_text(st, p, f->json_path, -1, SQLITE_STATIC);
        switch (f->kind) {
        case SF_NUMBER: sqlite3_bind_double(st, p + 1, f->number); break;
        case SF_BOOL: sqlite3_bind_int(st, p + 1, f->boolean); break;
        default: sqlite3_bind_text(st, p + 1, f->text, -1, SQLITE_STATIC); break;
        }
    }
}

static err_t sq_query(sq *s, const store_query *q, store_row_fn fn, void *ctx, int64_t *total, int64_t *last)
{
    reader *r = acquire(s);
    err_t e = ERR_OK;
    buf sql;
    buf_init(&sql, 0);
    sqlite3_stmt *st = NULL;
    arena a;
    arena_init(&a, 1 << 16);
    int pn = 2 + 2 * q->nfilters;
    char *az_claims = NULL, *az_patterns[36] = {0};
    if (q->count && total) {
        buf_puts(&sql, "SELECT count(*) FROM documents");
        where_sql(&sql, q);
        if (sqlite3_prepare_v2(r->db, sql.data, -1, &st, NULL) != SQLITE_OK) goto sqlfail;
        bind_filters(st, q);
        if (q->authz) bind_authz(st, q->authz, &az_claims, az_patterns);
        *total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_finalize(st);
        st = NULL;
        buf_reset(&sql);
    }
    buf_puts(&sql, "SELECT doc_id, id, resource, body, etag, last_modified, ref_id, NULL, owner FROM documents");
    where_sql(&sql, q);
    buf_printf(&sql, " AND doc_id > ?%d AND (?%d = 0 OR doc_id <= ?%d) ORDER BY doc_id LIMIT ?%d OFFSET ?%d", pn,
               pn + 1, pn + 1, pn + 2, pn + 3);
    if (sqlite3_prepare_v2(r->db, sql.data, -1, &st, NULL) != SQLITE_OK) goto sqlfail;
    bind_filters(st, q);
    if (q->authz) {
        free_authz_binds(az_claims, az_patterns);
        memset(az_patterns, 0, sizeof az_patterns);
        bind_authz(st, q->authz, &az_claims, az_patterns);
    }
    sqlite3_bind_int64(st, pn, q->after);
    sqlite3_bind_int64(st, pn + 1, q->upto);
    sqlite3_bind_int64(st, pn + 2, q->limit);
    sqlite3_bind_int64(st, pn + 3, q->offset);
    int rc;
    if (last) *last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_doc d;
        read_doc(st, &a, &d);
        if (last) *last = d.doc_id;
        bool go = fn(ctx, &d);
        arena_free(&a);
        if (!go) break;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) goto sqlfail;
    goto out;
sqlfail:
    log_error("store: query: %s", sqlite3_errmsg(r->db));
    e = ERR_STORAGE;
out:
    sqlite3_finalize(st);
    free_authz_binds(az_claims, az_patterns);
    buf_free(&sql);
    arena_free(&a);
    release(s, r);
    return e;
}

/* ---- change queries ---- */

/* A change query's rows with the columns list filters read (subjects
 * stands in for the body), so that authz_sql applies unchanged: for key
 * changes, the id's first change in the window supplies the old key and
 * the authorization columns (Ed-Fi authorizes key changes on the old
 * values), its last one the new key and the change version. */
static void changes_sql(buf *b, store_change_kind k, const store_query *q, bool count)
{
    const char *window = q->min_cv && q->max_cv ? " AND change_version BETWEEN ?100 AND ?101"
                         : q->min_cv             ? " AND change_version >= ?100"
                         : q->max_cv             ? " AND change_version <= ?101"
                                                 : "";
    if (k == SC_DELETES) {
        buf_puts(b, count ? "SELECT count(*)" : "SELECT id, change_version, key_values, NULL");
        buf_printf(b, " FROM tombstones t WHERE resource = ?1%s", window);
        /* deleted, then created again: clients apply upserts before deletes */
        buf_puts(b, " AND (ref_id IS NULL OR NOT EXISTS (SELECT 1 FROM identities i WHERE i.ref_id = t.ref_id))");
    } else {
        buf_puts(b, count ? "SELECT count(*)" : "SELECT id, change_version, old_key_values, new_key_values");
        buf_printf(b,
                   " FROM (SELECT l.id AS id, l.change_version AS change_version, f.old_key_values AS old_key_values,"
                   " l.new_key_values AS new_key_values, f.sec_edorg AS sec_edorg, f.sec_person AS sec_person,"
                   " f.subjects AS subjects, f.owner AS owner"
                   " FROM (SELECT min(change_version) AS first, max(change_version) AS last FROM key_changes"
                   " WHERE resource = ?1%s GROUP BY id) g"
                   " JOIN key_changes f ON f.change_version = g.first JOIN key_changes l ON l.change_version = g.last)"
                   " WHERE 1",
                   window);
    }
    if (q->authz) authz_sql(b, q->authz, "subjects");
    if (!count) buf_puts(b, " ORDER BY change_version LIMIT ?102 OFFSET ?103");
}

static sqlite3_stmt *changes_stmt(reader *r, store_change_kind k, const store_query *q, bool count, char **claims,
                                  char **patterns)
{
    buf sql;
    buf_init(&sql, 0);
    changes_sql(&sql, k, q, count);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(r->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        log_error("store: change query: %s", sqlite3_errmsg(r->db));
        st = NULL;
    }
    buf_free(&sql);
    if (!st) return NULL;
    sqlite3_bind_text(st, 1, q->resource, -1, SQLITE_STATIC);
    if (q->min_cv) sqlite3_bind_int64(st, 100, q->min_cv);
    if (q->max_cv) sqlite3_bind_int64(st, 101, q->max_cv);
    if (!count) {
        sqlite3_bind_int64(st, 102, q->limit);
        sqlite3_bind_int64(st, 103, q->offset);
    }
    if (q->authz) bind_authz(st, q->authz, claims, patterns);
    return st;
}

static err_t sq_query_changes(sq *s, store_change_kind k, const store_query *q, store_change_fn fn, void *ctx,
                              int64_t *total)
{
    reader *r = acquire(s);
    err_t e = ERR_STORAGE;
    char *claims = NULL, *patterns[36] = {0};
    sqlite3_stmt *st = NULL;
    if (q->count && total) {
        if (!(st = changes_stmt(r, k, q, true, &claims, patterns))) goto out;
        if (sqlite3_step(st) != SQLITE_ROW) goto failed;
        *total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        free_authz_binds(claims, patterns);
        claims = NULL;
        memset(patterns, 0, sizeof patterns);
    }
    if (!(st = changes_stmt(r, k, q, false, &claims, patterns))) goto out;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_change c = {.change_version = sqlite3_column_int64(st, 1)};
        snprintf(c.id, sizeof c.id, "%s", (const char *)sqlite3_column_text(st, 0));
        c.key_values = (const char *)sqlite3_column_text(st, 2);
        c.old_key_values = c.key_values;
        c.new_key_values = (const char *)sqlite3_column_text(st, 3);
        if (!fn(ctx, &c)) break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) goto failed;
    e = ERR_OK;
    goto out;
failed:
    log_error("store: change query: %s", sqlite3_errmsg(r->db));
out:
    sqlite3_finalize(st);
    free_authz_binds(claims, patterns);
    release(s, r);
    return e;
}

/* The highest change version stored; see store_newest_change_version for
 * why it is safe: one statement reads one snapshot of the three tables. */
static err_t sq_newest_cv(sq *s, int64_t *out)
{
    reader *r = acquire(s);
    sqlite3_stmt *st;
    err_t e = ERR_STORAGE;
    if (sqlite3_prepare_v2(r->db, writer_sql[W_MAX_CV], -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            e = ERR_OK;
        }
        sqlite3_finalize(st);
    }
    if (e) log_error("store: newest change version: %s", sqlite3_errmsg(r->db));
    release(s, r);
    return e;
}

static err_t sq_partitions(sq *s, const char *resource, int n, int64_t *bounds, int *got)
{
    reader *r = acquire(s);
    err_t e = ERR_OK;
    sqlite3_stmt *cnt = NULL, *at = NULL;
    *got = 0;
    if (sqlite3_prepare_v2(r->db, "SELECT count(*), coalesce(max(doc_id),0) FROM documents WHERE resource = ?1", -1, &cnt, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->db, "SELECT doc_id FROM documents WHERE resource = ?1 ORDER BY doc_id", -1, &at, NULL) != SQLITE_OK) {
        e = ERR_STORAGE;
        goto out;
    }
    sqlite3_bind_text(cnt, 1, resource, -1, SQLITE_STATIC);
    if (sqlite3_step(cnt) != SQLITE_ROW) {
        e = ERR_STORAGE;
        goto out;
    }
    int64_t total = sqlite3_column_int64(cnt, 0), maxid = sqlite3_column_int64(cnt, 1);
    if (total == 0) goto out;
    if (n > total) n = (int)total;
    bounds[0] = 0;
    int k = 1;
    /* One pass over the resource's index: the (total*i/n)-th doc_id closes
     * partition i-1 (an OFFSET query per bound would walk it n times). */
    sqlite3_bind_text(at, 1, resource, -1, SQLITE_STATIC);
    for (int64_t rank = 1; k < n && sqlite3_step(at) == SQLITE_ROW; rank++)
        if (rank == total * k / n) bounds[k++] = sqlite3_column_int64(at, 0);
    bounds[k] = maxid;
    *got = k;
out:
    sqlite3_finalize(cnt);
    sqlite3_finalize(at);
    release(s, r);
    return e;
}

/* ---- the relationship index ---- */

static err_t run_stmt(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) return ERR_OK;
    log_error("store: %s: %s", what, sqlite3_errmsg(db));
    return rc == SQLITE_BUSY ? ERR_RETRY : ERR_STORAGE;
}

static err_t sqw_edorg_parents(sqw *t, const char *edorg, const char *const *parents, int n)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(t->db, "DELETE FROM auth_edorg_parents WHERE edorg = ?1", -1, &st, NULL) != SQLITE_OK)
        return sql_err(t, "prepare edorg parents");
    sqlite3_bind_text(st, 1, edorg, -1, SQLITE_STATIC);
    err_t e = run_stmt(t->db, st, "edorg parents");
    for (int i = 0; !e && i < n; i++) {
        if (sqlite3_prepare_v2(t->db, "INSERT OR IGNORE INTO auth_edorg_parents(edorg, parent) VALUES(?1, ?2)", -1, &st,
                               NULL) != SQLITE_OK)
            return sql_err(t, "prepare edorg parent");
        sqlite3_bind_text(st, 1, edorg, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, parents[i], -1, SQLITE_STATIC);
        e = run_stmt(t->db, st, "edorg parent");
    }
    return e;
}

static err_t sqw_rel_put(sqw *t, int64_t doc_id, store_rel kind, const char *person, const char *other)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(t->db,
                           "INSERT INTO auth_people(kind, person, other, doc_id) VALUES(?1, ?2, ?3, ?4)"
                           " ON CONFLICT DO UPDATE SET deleted = 0",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_err(t, "prepare relationship");
    sqlite3_bind_int(st, 1, (int)kind);
    sqlite3_bind_text(st, 2, person, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, other, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, doc_id);
    return run_stmt(t->db, st, "relationship");
}

static err_t sqw_rel_retire(sqw *t, int64_t doc_id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(t->db, "UPDATE auth_people SET deleted = 1 WHERE doc_id = ?1 AND deleted = 0", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_err(t, "prepare relationship retire");
    sqlite3_bind_int64(st, 1, doc_id);
    return run_stmt(t->db, st, "relationship retire");
}

static err_t sqw_lineage_put(sqw *t, const store_lineage *l)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(t->db,
                           "INSERT INTO lineage(resource, id, source, source_client, source_id, published_at)"
                           " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(resource, id) DO UPDATE SET source = excluded.source,"
                           " source_client = excluded.source_client, source_id = excluded.source_id,"
                           " published_at = excluded.published_at",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_err(t, "prepare lineage");
    const char *v[6] = {l->resource, l->id, l->source, l->source_client, l->source_id, l->published_at};
    for (int i = 0; i < 6; i++) sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
    return run_stmt(t->db, st, "lineage");
}

static err_t sq_lineage_query(sq *s, const store_lineage *m, int64_t limit, store_lineage_fn fn, void *ctx)
{
    reader *r = acquire(s);
    sqlite3_stmt *st = NULL;
    err_t e = ERR_OK;
    if (sqlite3_prepare_v2(r->db,
                           "SELECT resource, id, source, source_client, source_id, published_at FROM lineage"
                           " WHERE (?1 IS NULL OR resource = ?1) AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR source = ?3)"
                           " AND (?4 IS NULL OR source_client = ?4) AND (?5 IS NULL OR source_id = ?5)"
                           " ORDER BY resource, id LIMIT ?6",
                           -1, &st, NULL) != SQLITE_OK) {
        log_error("store: lineage: %s", sqlite3_errmsg(r->db));
        release(s, r);
        return ERR_STORAGE;
    }
    const char *v[5] = {m->resource, m->id, m->source, m->source_client, m->source_id};
    for (int i = 0; i < 5; i++) sqlite3_bind_text(st, i + 1, v[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, limit > 0 ? limit : -1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_lineage l;
        const char **f[6] = {&l.resource, &l.id, &l.source, &l.source_client, &l.source_id, &l.published_at};
        for (int i = 0; i < 6; i++) *f[i] = (const char *)sqlite3_column_text(st, i);
        if (!fn(ctx, &l)) break;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_error("store: lineage: %s", sqlite3_errmsg(r->db));
        e = ERR_STORAGE;
    }
    sqlite3_finalize(st);
    release(s, r);
    return e;
}

/* The claims as a JSON array for json_each (ids are digits: no escaping). */
static char *claims_json(const char *const *claims, int n)
{
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '[');
    for (int i = 0; i < n; i++) {
        if (i) buf_putc(&b, ',');
        buf_json_str(&b, claims[i]);
    }
    buf_putc(&b, ']');
    return buf_take(&b);
}

#define SQ_UP(seed)                                                                                                    \
    "WITH RECURSIVE up(id) AS (" seed " UNION SELECT e.parent FROM auth_edorg_parents e JOIN up ON e.edorg = up.id)"
#define SQ_DOWN(claims)                                                                                                \
    "WITH RECURSIVE acc(id) AS (SELECT value FROM json_each(" claims ")"                                              \
    " UNION SELECT e.edorg FROM auth_edorg_parents e JOIN acc ON e.parent = acc.id)"
#define SQ_IN_CLAIMS " SELECT 1 FROM up WHERE id IN (SELECT value FROM json_each(?2)) LIMIT 1"

/* One query per view: walk up from the subject's edorgs to a claim. */
static const char *reach_sql(store_view v, bool deletes)
{
    switch (v) {
    case SV_EDORG: return SQ_UP("SELECT ?1") SQ_IN_CLAIMS;
    case SV_EDORG_INVERTED:
        return SQ_UP("SELECT value FROM json_each(?2)") " SELECT 1 FROM up WHERE id = ?1 LIMIT 1";
    case SV_STUDENT:
        return deletes ? SQ_UP("SELECT other FROM auth_people WHERE kind = 1 AND person = ?1") SQ_IN_CLAIMS
                       : SQ_UP("SELECT other FROM auth_people WHERE kind = 1 AND person = ?1 AND deleted = 0") SQ_IN_CLAIMS;
    case SV_STUDENT_RESPONSIBILITY:
        return deletes ? SQ_UP("SELECT other FROM auth_people WHERE kind = 2 AND person = ?1") SQ_IN_CLAIMS
                       : SQ_UP("SELECT other FROM auth_people WHERE kind = 2 AND person = ?1 AND deleted = 0") SQ_IN_CLAIMS;
    case SV_STAFF:
        return deletes ? SQ_UP("SELECT other FROM auth_people WHERE kind = 3 AND person = ?1") SQ_IN_CLAIMS
                       : SQ_UP("SELECT other FROM auth_people WHERE kind = 3 AND person = ?1 AND deleted = 0") SQ_IN_CLAIMS;
    case SV_CONTACT:
        return deletes ? SQ_UP("SELECT s.other FROM auth_people c JOIN auth_people s ON s.kind = 1 AND s.person = c.other"
                               " WHERE c.kind = 4 AND c.person = ?1") SQ_IN_CLAIMS
                       : SQ_UP("SELECT s.other FROM auth_people c JOIN auth_people s ON s.kind = 1 AND s.person = c.other"
                               " AND s.deleted = 0 WHERE c.kind = 4 AND c.person = ?1 AND c.deleted = 0") SQ_IN_CLAIMS;
    }
    return NULL;
}

static err_t reachable(sqlite3 *db, sqlite3_stmt **cache, store_view v, bool deletes, const char *value,
                       const char *const *claims, int n, bool *ok)
{
    *ok = false;
    sqlite3_stmt **slot = &cache[2 * (int)v + deletes];
    if (!*slot && sqlite3_prepare_v3(db, reach_sql(v, deletes), -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        log_error("store: prepare reachable: %s", sqlite3_errmsg(db));
        return ERR_STORAGE;
    }
    sqlite3_stmt *st = *slot;
    char *cj = claims_json(claims, n);
    sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, cj, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *ok = rc == SQLITE_ROW;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    free(cj);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) return ERR_OK;
    log_error("store: reachable: %s", sqlite3_errmsg(db));
    return rc == SQLITE_BUSY ? ERR_RETRY : ERR_STORAGE;
}

static err_t sq_reachable(sq *s, store_view v, bool deletes, const char *value, const char *const *claims, int n, bool *ok)
{
    reader *r = acquire(s);
    err_t e = reachable(r->db, r->reach, v, deletes, value, claims, n, ok);
    release(s, r);
    return e;
}

/* The set of values a view admits, as a subquery over acc (the claims and
 * every edorg below them) or up (the claims and every edorg above). */
static void view_set_sql(buf *b, store_view v, bool deletes)
{
    const char *live = deletes ? "" : " AND deleted = 0";
    switch (v) {
    case SV_EDORG: buf_puts(b, "(" SQ_DOWN("?200") " SELECT id FROM acc)"); break;
    case SV_EDORG_INVERTED: buf_puts(b, "(" SQ_UP("SELECT value FROM json_each(?200)") " SELECT id FROM up)"); break;
    case SV_STUDENT:
    case SV_STUDENT_RESPONSIBILITY:
    case SV_STAFF:
        buf_printf(b, "(" SQ_DOWN("?200") " SELECT person FROM auth_people WHERE kind = %d%s AND other IN (SELECT id FROM acc))",
                   v == SV_STUDENT ? 1 : v == SV_STAFF ? 3 : 2, live);
        break;
    case SV_CONTACT:
        buf_printf(b,
                   "(" SQ_DOWN("?200") " SELECT c.person FROM auth_people c WHERE c.kind = 4%s AND c.other IN"
                   " (SELECT person FROM auth_people WHERE kind = 1%s AND other IN (SELECT id FROM acc)))",
                   deletes ? "" : " AND c.deleted = 0", live);
        break;
    }
}

static char *sq_stats_json(sq *s)
{
    reader *r = acquire(s);
    sqlite3_stmt *st;
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '{');
    if (sqlite3_prepare_v2(r->db, "SELECT resource, count(*) FROM documents GROUP BY resource ORDER BY resource", -1, &st, NULL) == SQLITE_OK) {
        int n = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (n++) buf_putc(&b, ',');
            buf_json_str(&b, (const char *)sqlite3_column_text(st, 0));
            buf_printf(&b, ":%lld", (long long)sqlite3_column_int64(st, 1));
        }
        sqlite3_finalize(st);
    }
    buf_putc(&b, '}');
    release(s, r);
    return buf_take(&b);
}

static bool sq_healthy(sq *s)
{
    reader *r = acquire(s);
    sqlite3_stmt *st;
    bool ok = sqlite3_prepare_v2(r->db, "SELECT 1 FROM meta LIMIT 1", -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        ok = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    release(s, r);
    return ok;
}

/* VACUUM INTO runs in one read transaction on its own connection: a
 * consistent, compact copy while the writer goes on (WAL). */
static err_t a_snapshot(void *impl, const char *dir, const char *name, char *location, size_t n, char *err,
                        size_t errlen)
{
    sq *s = impl;
    char dest[PATH_MAX];
    snprintf(dest, sizeof dest, "%s/%s.sqlite", dir, name);
    snprintf(location, n, "%s", dest);
    if (access(dest, F_OK) == 0) {
        snprintf(err, errlen, "%s exists already", dest);
        return ERR_CONFLICT;
    }
    sqlite3 *db = NULL;
    err_t e = open_conn(s->path, &db, err, errlen);
    if (e) return e;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_bind_text(st, 1, dest, -1, SQLITE_TRANSIENT) != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
        snprintf(err, errlen, "cannot copy %s to %s: %s", s->path, dest, sqlite3_errmsg(db));
        e = ERR_STORAGE;
        unlink(dest);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return e;
}

static err_t a_snapshot_drop(void *impl, const char *location, char *err, size_t errlen)
{
    (void)impl;
    static const char *sfx[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char p[PATH_MAX + 8];
        snprintf(p, sizeof p, "%s%s", location, sfx[i]);
        if (unlink(p) && errno != ENOENT) {
            snprintf(err, errlen, "cannot delete %s: %s", p, strerror(errno));
            return ERR_IO;
        }
    }
    return ERR_OK;
}

/* ---- batch control (writer thread) ---- */

static err_t sq_begin(void *impl, bool safe)
{
    sq *s = impl;
    /* Every write is checked at once here, so a batch may run without a
     * savepoint per job: a savepoint makes SQLite copy each page a job
     * touches to a sub-journal first, ~20 page writes per document in bulk
     * loads (strace). Most failing jobs fail before writing; one that wrote
     * makes the batch run again in safe mode. */
    s->optimistic = !safe;
    icache_clear(&s->w.ic); /* another process may have written since */
    if (step_done(s->w.st[W_BEGIN]) != SQLITE_DONE) return sql_err(&s->w, "BEGIN");
    err_t e = sq_sync_cv(s);
    if (e) step_done(s->w.st[W_ROLLBACK]);
    s->batch_cv = s->next_cv;
    return e;
}

/* Another process (edhub load, the CLI) committed since the last batch. */
static bool sq_changed_elsewhere(void *impl)
{
    sq *s = impl;
    sqlite3_stmt *st = s->w.st[W_DATA_VERSION];
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    bool changed = v != s->data_version || v < 0;
    s->data_version = v;
    return changed;
}

static err_t sq_savepoint(void *impl)
{
    sq *s = impl;
    if (s->optimistic) {
        s->job_changes = sqlite3_total_changes64(s->w.db);
        return ERR_OK;
    }
    return step_done(s->w.st[W_SAVEPOINT]) == SQLITE_DONE ? ERR_OK : sql_err(&s->w, "SAVEPOINT");
}

static err_t sq_release(void *impl)
{
    sq *s = impl;
    if (s->optimistic) return ERR_OK;
    return step_done(s->w.st[W_RELEASE]) == SQLITE_DONE ? ERR_OK : sql_err(&s->w, "RELEASE");
}

static err_t sq_rollback_to(void *impl)
{
    sq *s = impl;
    if (s->optimistic) return sqlite3_total_changes64(s->w.db) == s->job_changes ? ERR_OK : ERR_RETRY;
    icache_clear(&s->w.ic);
    step_done(s->w.st[W_ROLLBACK_TO]);
    return sq_release(impl);
}

static err_t sq_commit(void *impl)
{
    sq *s = impl;
    if (step_done(s->w.st[W_COMMIT]) == SQLITE_DONE) return ERR_OK;
    log_error("store: COMMIT failed: %s", sqlite3_errmsg(s->w.db));
    step_done(s->w.st[W_ROLLBACK]);
    icache_clear(&s->w.ic);
    s->next_cv = s->batch_cv;
    return ERR_STORAGE;
}

static void sq_abort(void *impl)
{
    sq *s = impl;
    step_done(s->w.st[W_ROLLBACK]);
    icache_clear(&s->w.ic);
    s->next_cv = s->batch_cv;
}

/* Adapters from the backend interface to the writer connection. */
static err_t a_find_identity(void *impl, const uuid_t16 *refid, arena *a, store_hit *out)
{
    return sqw_find_identity(&((sq *)impl)->w, refid, a, out);
}
static err_t a_get(void *impl, const char *resource, int64_t doc_id, arena *a, store_doc *out)
{
    (void)resource; /* doc_id is unique across resources here */
    return sqw_get(&((sq *)impl)->w, doc_id, a, out);
}
static err_t a_get_by_id(void *impl, const char *resource, const char *id, arena *a, store_doc *out)
{
    return sqw_get_by_id(&((sq *)impl)->w, resource, id, a, out);
}
static err_t a_insert(void *impl, const store_put *p, store_doc *out) { return sqw_insert(&((sq *)impl)->w, p, out); }
static err_t a_update(void *impl, const store_doc *old, const store_put *p, const store_prior *prior, store_doc *out)
{
    return sqw_update(&((sq *)impl)->w, old, p, prior, out);
}
static err_t a_remove(void *impl, const store_doc *old, const store_prior *prior)
{
    return sqw_delete(&((sq *)impl)->w, old, prior);
}
static err_t a_referrers(void *impl, const uuid_t16 *refid, arena *a, int max, store_hit **hits, int *n)
{
    return sqw_referrers(&((sq *)impl)->w, refid, a, max, hits, n);
}
static err_t a_edorg_parents(void *impl, const char *edorg, const char *const *parents, int n)
{
    return sqw_edorg_parents(&((sq *)impl)->w, edorg, parents, n);
}
static err_t a_rel_put(void *impl, int64_t doc_id, store_rel kind, const char *person, const char *other)
{
    return sqw_rel_put(&((sq *)impl)->w, doc_id, kind, person, other);
}
static err_t a_rel_retire(void *impl, int64_t doc_id) { return sqw_rel_retire(&((sq *)impl)->w, doc_id); }
static err_t a_lineage_put(void *impl, const store_lineage *l) { return sqw_lineage_put(&((sq *)impl)->w, l); }
static err_t a_lineage_query(void *impl, const store_lineage *m, int64_t limit, store_lineage_fn fn, void *ctx)
{
    return sq_lineage_query(impl, m, limit, fn, ctx);
}
static err_t a_reachable_w(void *impl, store_view v, bool deletes, const char *value, const char *const *claims, int n,
                           bool *ok)
{
    return reachable(((sq *)impl)->w.db, ((sq *)impl)->w.reach, v, deletes, value, claims, n, ok);
}
static err_t a_reachable_r(void *impl, store_view v, bool deletes, const char *value, const char *const *claims, int n,
                           bool *ok)
{
    return sq_reachable(impl, v, deletes, value, claims, n, ok);
}
static err_t a_read_by_id(void *impl, const char *resource, const char *id, arena *a, store_doc *out)
{
    return sq_read_by_id(impl, resource, id, a, out);
}
static err_t a_query(void *impl, const store_query *q, store_row_fn fn, void *ctx, int64_t *total, int64_t *last)
{
    return sq_query(impl, q, fn, ctx, total, last);
}
static err_t a_partitions(void *impl, const char *resource, int n, int64_t *bounds, int *got)
{
    return sq_partitions(impl, resource, n, bounds, got);
}
static err_t a_query_changes(void *impl, store_change_kind k, const store_query *q, store_change_fn fn, void *ctx,
                             int64_t *total)
{
    return sq_query_changes(impl, k, q, fn, ctx, total);
}
static err_t a_newest_cv(void *impl, int64_t *out) { return sq_newest_cv(impl, out); }
static char *a_stats_json(void *impl) { return sq_stats_json(impl); }
static bool a_healthy(void *impl) { return sq_healthy(impl); }

const store_backend store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .savepoint = sq_savepoint,
    .release = sq_release,
    .rollback_to = sq_rollback_to,
    .commit = sq_commit,
    .abort = sq_abort,
    .schema_version = SCHEMA_VERSION_NUM,
    .idle = sq_idle,
    .changed_elsewhere = sq_changed_elsewhere,
    .find_identity = a_find_identity,
    .get = a_get,
    .get_by_id = a_get_by_id,
    .insert = a_insert,
    .update = a_update,
    .remove = a_remove,
    .referrers = a_referrers,
    .edorg_parents = a_edorg_parents,
    .rel_put = a_rel_put,
    .rel_retire = a_rel_retire,
    .lineage_put = a_lineage_put,
    .lineage_query = a_lineage_query,
    .reachable_w = a_reachable_w,
    .read_by_id = a_read_by_id,
    .query = a_query,
    .partitions = a_partitions,
    .query_changes = a_query_changes,
    .newest_change_version = a_newest_cv,
    .reachable_r = a_reachable_r,
    .stats_json = a_stats_json,
    .healthy = a_healthy,
    .snapshot = a_snapshot,
    .snapshot_drop = a_snapshot_drop,
};
