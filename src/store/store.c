/* The backend-independent half of the store: group commit (a single writer
 * thread that runs every queued job of a batch in one transaction, each in
 * its own savepoint, and reports each job only after the commit), and the
 * dispatch of store.h calls to the backend chosen by the location. */
#include "store_int.h"
#include "../base/log.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    store_job_fn fn;
    store_done_fn done;
    void *ctx;
    const uuid_t16 *keys; /* ids the job will look up (owned by the caller) */
    int nkeys;
    err_t result;
    struct job *next;
} job;

/* The writer remembers relationship checks (txn_reachable) while nothing
 * that could change their answer happened: checks on the hierarchy alone
 * hold until an education organization's parents change; checks through
 * people also until a person relationship changes. A rollback, or
 * (SQLite) a commit by another process, forgets everything. Moving a
 * generation forgets in O(1); most writes of a district repeat the same
 * few schools and students. */
#define MEMO_MAX 65536
typedef struct memo_entry {
    uint64_t h;
    char *key;
    bool ok;
    uint64_t gen_edorgs, gen_people;  /* the generations it was computed under */
} memo_entry;

struct store_txn {
    const store_backend *be;
    void *impl;
    memo_entry *memo;   /* open addressing, 2 * MEMO_MAX slots once used */
    size_t memo_n;
    uint64_t gen_edorgs, gen_people;
};

struct store {
    const store_backend *be;
    void *impl;
    store_txn txn;
    int max_batch;
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    bool stopping;
    bool read_only;     /* store_opts.read_only: no job is taken */
};

/* Attempts at a batch: the first one may be optimistic (see store_int.h);
 * the second runs safely at once; after that a transient failure
 * (deadlock, lock timeout, serialization failure, a connection lost
 * before COMMIT) waits 50 ms, doubling up to 1.6 s: about 3 s in all. */
#define BATCH_ATTEMPTS 8

/* Tells the backend every id the batch's jobs will look up. */
static err_t prefetch(store *s, job *batch)
{
    int n = 0;
    for (job *j = batch; j; j = j->next) n += j->nkeys;
    if (!n || !s->be->prefetch) return ERR_OK;
    uuid_t16 *all = xmalloc(sizeof *all * (size_t)n);
    int k = 0;
    for (job *j = batch; j; j = j->next) {
        if (!j->nkeys) continue;
        memcpy(all + k, j->keys, sizeof *all * (size_t)j->nkeys);
        k += j->nkeys;
    }
    err_t e = s->be->prefetch(s->impl, n, all);
    free(all);
    return e;
}

/* Forgets everything the memo knows. */
static void memo_forget(store_txn *t)
{
    t->gen_edorgs++;
    t->gen_people++;
}

static void memo_free(store_txn *t)
{
    for (size_t i = 0; t->memo && i < 2 * MEMO_MAX; i++) free(t->memo[i].key);
    free(t->memo);
    t->memo = NULL;
    t->memo_n = 0;
}

static uint64_t memo_hash(const char *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    return h;
}

/* The slot of key: its entry, or the empty slot where it goes. */
static memo_entry *memo_slot(store_txn *t, const char *key, uint64_t h)
{
    if (!t->memo) t->memo = xcalloc(2 * MEMO_MAX, sizeof *t->memo);
    size_t j = h & (2 * MEMO_MAX - 1);
    while (t->memo[j].key && (t->memo[j].h != h || strcmp(t->memo[j].key, key))) j = (j + 1) & (2 * MEMO_MAX - 1);
    return &t->memo[j];
}

static bool through_people(store_view v) { return v != SV_EDORG && v != SV_EDORG_INVERTED; }

/* One attempt: ERR_RETRY when the whole batch must be run again. */
static err_t try_batch(store *s, job *batch, bool safe)
{
    const store_backend *be = s->be;
    if (safe || (be->changed_elsewhere && be->changed_elsewhere(s->impl))) memo_forget(&s->txn);
    err_t e = be->begin(s->impl, safe);
    if (e) return e == ERR_RETRY ? ERR_RETRY : ERR_STORAGE;
    if ((e = prefetch(s, batch))) {
        if (be->abort) be->abort(s->impl);
        return e == ERR_RETRY ? ERR_RETRY : ERR_STORAGE;
    }
    for (job *j = batch; j; j = j->next) {
        if (be->savepoint(s->impl) != ERR_OK) {
            j->result = ERR_STORAGE;
            continue;
        }
        j->result = j->fn(&s->txn, j->ctx);
        if (j->result == ERR_RETRY) {
            if (be->abort) be->abort(s->impl);
            memo_forget(&s->txn);
            return ERR_RETRY;
        }
        if (j->result != ERR_OK) {
            memo_forget(&s->txn); /* the job's writes are undone */
            if (be->rollback_to(s->impl) == ERR_RETRY) {
                if (be->abort) be->abort(s->impl);
                return ERR_RETRY;
            }
        } else if (be->release(s->impl) != ERR_OK) {
            j->result = ERR_STORAGE;
        }
    }
    e = be->commit(s->impl);
    if (e != ERR_OK) memo_forget(&s->txn);
    if (e == ERR_RETRY) return ERR_RETRY; /* rolled back; nothing was committed */
    if (e != ERR_OK) {
        for (job *j = batch; j; j = j->next)
            if (j->result == ERR_OK) j->result = ERR_STORAGE;
    }
    return ERR_OK;
}

static void run_batch(store *s, job *batch)
{
    err_t e = ERR_RETRY;
    for (int attempt = 0; attempt < BATCH_ATTEMPTS && e == ERR_RETRY; attempt++) {
        if (attempt > 1) {
            struct timespec ts = {0, 50000000L << (attempt - 2)};
            ts.tv_sec = ts.tv_nsec / 1000000000L, ts.tv_nsec %= 1000000000L;
            log_info("store: transient failure; running the batch again (attempt %d of %d)", attempt + 1, BATCH_ATTEMPTS);
            nanosleep(&ts, NULL);
        }
        e = try_batch(s, batch, attempt > 0);
    }
    if (e != ERR_OK)
        for (job *j = batch; j; j = j->next) j->result = ERR_STORAGE;
}

static void *writer_main(void *arg)
{
    store *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->stopping) pthread_cond_wait(&s->cv, &s->mu);
        if (!s->head && s->stopping) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        job *batch = s->head, *last = s->head;
        int n = 1;
        while (last->next && n < s->max_batch) last = last->next, n++;
        s->head = last->next;
        if (!s->head) s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);
        run_batch(s, batch);
        for (job *j = batch; j;) {
            job *next = j->next;
            if (j->done) j->done(j->ctx, j->result);
            free(j);
            j = next;
        }
        if (s->be->idle) s->be->idle(s->impl);
    }
    return NULL;
}

/* A postgresql:// (or postgres://) URL, else a SQLite file path. */
static const store_backend *backend_for(const char *location)
{
    if (!strncmp(location, "postgresql://", 13) || !strncmp(location, "postgres://", 11)) return &store_pg_backend;
    return &store_sqlite_backend;
}

err_t store_open(const char *location, const store_opts *opts, store **out, char *err, size_t errlen)
{
    store *s = xcalloc(1, sizeof *s);
    s->be = backend_for(location);
    s->max_batch = opts && opts->max_batch > 0 ? opts->max_batch : 512;
    s->read_only = opts && opts->read_only;
    err_t e = s->be->open(location, opts, &s->impl, err, errlen);
    if (e) {
        free(s);
        return e;
    }
    s->txn.be = s->be;
    s->txn.impl = s->impl;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the writer thread");
        s->be->close(s->impl);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return ERR_IO;
    }
    *out = s;
    return ERR_OK;
}

int store_schema_version(const store *s) { return s->be->schema_version; }

void store_close(store *s)
{
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer, NULL); /* queued jobs finish first */
    memo_free(&s->txn);
    s->be->close(s->impl);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

err_t store_submit(store *s, store_job_fn fn, store_done_fn done, void *ctx)
{
    return store_submit_keyed(s, fn, done, ctx, NULL, 0);
}

err_t store_submit_keyed(store *s, store_job_fn fn, store_done_fn done, void *ctx, const uuid_t16 *keys, int nkeys)
{
    job *j = xcalloc(1, sizeof *j);
    j->fn = fn;
    j->done = done;
    j->ctx = ctx;
    j->keys = keys;
    j->nkeys = keys ? nkeys : 0;
    pthread_mutex_lock(&s->mu);
    if (s->stopping || s->read_only) {
        pthread_mutex_unlock(&s->mu);
        free(j);
        return ERR_UNAVAILABLE;
    }
    if (s->tail) s->tail->next = j;
    else s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return ERR_OK;
}

typedef struct waiter {
    store_job_fn fn;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    err_t result;
} waiter;

static err_t run_inner(store_txn *t, void *ctx)
{
    waiter *w = ctx;
    return w->fn(t, w->ctx);
}

static void run_done(void *ctx, err_t result)
{
    waiter *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->result = result;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

err_t store_run(store *s, store_job_fn fn, void *ctx)
{
    waiter w = {fn, ctx, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, ERR_OK};
    err_t e = store_submit(s, run_inner, run_done, &w);
    if (e) return e;
    pthread_mutex_lock(&w.mu);
    while (!w.done) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    return w.result;
}

/* ---- dispatch ---- */

err_t txn_find_identity(store_txn *t, const uuid_t16 *refid, arena *a, store_hit *out)
{
    return t->be->find_identity(t->impl, refid, a, out);
}
err_t txn_find_identities(store_txn *t, int n, const uuid_t16 *refids, arena *a, store_hit *hits, bool *found)
{
    if (t->be->find_identities) return t->be->find_identities(t->impl, n, refids, a, hits, found);
    for (int i = 0; i < n; i++) {
        err_t e = t->be->find_identity(t->impl, &refids[i], a, &hits[i]);
        if (e && e != ERR_NOT_FOUND) return e;
        found[i] = e == ERR_OK;
    }
    return ERR_OK;
}
err_t txn_get(store_txn *t, const char *resource, int64_t doc_id, arena *a, store_doc *out)
{
    return t->be->get(t->impl, resource, doc_id, a, out);
}
err_t txn_get_by_id(store_txn *t, const char *resource, const char *id, arena *a, store_doc *out)
{
    return t->be->get_by_id(t->impl, resource, id, a, out);
}
err_t txn_insert(store_txn *t, const store_put *p, store_doc *out) { return t->be->insert(t->impl, p, out); }
err_t txn_update(store_txn *t, const store_doc *old, const store_put *p, const store_prior *prior, store_doc *out)
{
    return t->be->update(t->impl, old, p, prior, out);
}
err_t txn_delete(store_txn *t, const store_doc *old, const store_prior *prior) { return t->be->remove(t->impl, old, prior); }
err_t txn_referrers(store_txn *t, const uuid_t16 *refid, arena *a, int max, store_hit **hits, int *n)
{
    return t->be->referrers(t->impl, refid, a, max, hits, n);
}

err_t store_get_by_id(store *s, const char *resource, const char *id, arena *a, store_doc *out)
{
    return s->be->read_by_id(s->impl, resource, id, a, out);
}
err_t store_query_docs(store *s, const store_query *q, store_row_fn fn, void *ctx, int64_t *total, int64_t *last)
{
    return s->be->query(s->impl, q, fn, ctx, total, last);
}
err_t store_partitions(store *s, const char *resource, int n, int64_t *bounds, int *got)
{
    return s->be->partitions(s->impl, resource, n, bounds, got);
}
err_t store_query_changes(store *s, store_change_kind k, const store_query *q, store_change_fn fn, void *ctx,
                          int64_t *total)
{
    return s->be->query_changes(s->impl, k, q, fn, ctx, total);
}

/* Why the newest visible change version is a safe bookmark: versions are
 * handed out in increasing order by the instance's single writer (one
 * writer thread; a PostgreSQL advisory lock, or SQLite's write lock with the
 * counter re-read after another process committed), each batch commits
 * atomically and the next batch allocates only after that commit, and a
 * rolled-back batch's versions are handed out again but were never visible.
 * So when a reader sees version N committed, every version below N is
 * already committed and visible to it, or never will be: unlike ODS's
 * sequence value, it never counts a transaction still in flight. */
err_t store_newest_change_version(store *s, int64_t *out)
{
    *out = 0;
    return s->be->newest_change_version(s->impl, out);
}

err_t txn_edorg_parents(store_txn *t, const char *edorg, const char *const *parents, int nparents)
{
    t->gen_edorgs++;
    return t->be->edorg_parents(t->impl, edorg, parents, nparents);
}

err_t txn_rel_put(store_txn *t, int64_t doc_id, store_rel kind, const char *person, const char *other)
{
    t->gen_people++;
    return t->be->rel_put(t->impl, doc_id, kind, person, other);
}

err_t txn_lineage_put(store_txn *t, const store_lineage *l) { return t->be->lineage_put(t->impl, l); }

err_t store_lineage_query(store *s, const store_lineage *match, int64_t limit, store_lineage_fn fn, void *ctx)
{
    return s->be->lineage_query(s->impl, match, limit, fn, ctx);
}

err_t txn_rel_retire(store_txn *t, int64_t doc_id)
{
    t->gen_people++;
    return t->be->rel_retire(t->impl, doc_id);
}

err_t txn_reachable(store_txn *t, store_view v, bool including_deletes, const char *value, const char *const *claims,
                    int nclaims, bool *ok)
{
    *ok = false;
    if (!nclaims) return ERR_OK;
    char key[1024];
    int n = snprintf(key, sizeof key, "%d|%d|%s", (int)v, including_deletes, value);
    for (int i = 0; i < nclaims && n > 0 && (size_t)n < sizeof key; i++)
        n += snprintf(key + n, sizeof key - (size_t)n, "|%s", claims[i]);
    bool memo = n > 0 && (size_t)n < sizeof key; /* very long claim lists are not remembered */
    uint64_t h = memo ? memo_hash(key) : 0;
    memo_entry *slot = memo ? memo_slot(t, key, h) : NULL;
    bool people = through_people(v);
    if (slot && slot->key && slot->gen_edorgs == t->gen_edorgs && (!people || slot->gen_people == t->gen_people)) {
        *ok = slot->ok;
        return ERR_OK;
    }
    err_t e = t->be->reachable_w(t->impl, v, including_deletes, value, claims, nclaims, ok);
    if (e || !slot) return e;
    if (!slot->key) {
        if (t->memo_n >= MEMO_MAX) { /* full: start over (rare: 64k distinct checks) */
            memo_free(t);
            slot = memo_slot(t, key, h);
        }
        slot->h = h;
        slot->key = xstrdup(key);
        t->memo_n++;
    }
    slot->ok = *ok;
    slot->gen_edorgs = t->gen_edorgs;
    slot->gen_people = t->gen_people;
    return ERR_OK;
}

err_t store_reachable(store *s, store_view v, bool including_deletes, const char *value, const char *const *claims,
                      int nclaims, bool *ok)
{
    *ok = false;
    return nclaims ? s->be->reachable_r(s->impl, v, including_deletes, value, claims, nclaims, ok) : ERR_OK;
}
char *store_stats_json(store *s) { return s->be->stats_json(s->impl); }
bool store_healthy(store *s) { return s->be->healthy(s->impl); }

err_t store_snapshot(store *s, const char *dir, const char *name, char *location, size_t n, char *err, size_t errlen)
{
    return s->be->snapshot(s->impl, dir, name, location, n, err, errlen);
}

err_t store_snapshot_drop(store *s, const char *location, char *err, size_t errlen)
{
    return s->be->snapshot_drop(s->impl, location, err, errlen);
}
