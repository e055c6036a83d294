/* The loaders' sink; see sink.h. */
#include "sink.h"
#include "../base/jsonx.h"
#include "../engine/engine.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Documents prepared but not yet written: enough for a few large
 * transactions (a bulk load commits up to STORE_BULK_BATCH at once), bounded
 * so a huge file does not sit in memory (~10 KB each). The reader resumes
 * when half of them are written, not after each one: fewer wake-ups. */
#define MAX_INFLIGHT 32768

typedef struct item item;

struct sink {
    const model *m;
    store *s;
    const char *owner;
    FILE *errs;
    load_stats *st;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int inflight;
    int wake_at;    /* the reader waits until inflight is this low; -1: not waiting */
    item *finished; /* written or rejected by the writer, not yet counted */
    /* Resuming: every record handed over gets the next sequence number; the
     * writer finishes them in that order (one FIFO queue), so all records
     * before the oldest one in flight are durably done. */
    long handed, skip;
    item *oldest, *newest;         /* in flight, in submission order */
    const volatile int *stop_flag; /* set by a signal handler: stop reading */
    char *bookmark_path, *inputs;
    time_t bookmark_at;
    sink_written_fn on_written;
    void *written_ctx;
};

/* wreq first: the store job receives the item as its wreq. */
typedef struct item {
    wreq w;
    arena a;
    outcome oc;
    sink *k;
    err_t result;
    item *next;  /* in k->finished */
    item *qnext; /* in flight, submission order */
    long seq;
    char file[256];
    long line;
} item;

static void report(sink *k, const char *file, long line, const char *resource, const char *key_json, const outcome *o)
{
    if (!k->errs) return;
    json_object *e = json_object_new_object();
    json_object_object_add(e, "file", json_object_new_string(file));
    json_object_object_add(e, "line", json_object_new_int64(line));
    json_object_object_add(e, "resource", json_object_new_string(resource));
    if (key_json) json_object_object_add(e, "key", json_tokener_parse(key_json));
    json_object_object_add(e, "status", json_object_new_int(o->status));
    json_object_object_add(e, "type", json_object_new_string(o->type ? o->type : ""));
    json_object_object_add(e, "detail", json_object_new_string(o->detail ? o->detail : ""));
    if (o->validation) json_object_object_add(e, "validationErrors", json_object_get(o->validation));
    if (o->errors) json_object_object_add(e, "errors", json_object_get(o->errors));
    fprintf(k->errs, "%s\n", jsonx_text(e));
    json_object_put(e);
}

static void item_free(item *it)
{
    engine_release(&it->w);
    outcome_free(&it->oc);
    arena_free(&it->a);
    free(it);
}

/* Takes it out of the in-flight queue: the head, as jobs finish in order. */
static void unqueue(sink *k, item *it)
{
    item **p = &k->oldest, *prev = NULL;
    while (*p && *p != it) prev = *p, p = &(*p)->qnext;
    if (!*p) return;
    *p = it->qnext;
    if (k->newest == it) k->newest = prev;
}

/* On the writer thread: only hand the item back. Counting, reporting and
 * freeing happen on the reader's thread, off the single writer's path (and
 * memory is freed by the thread that allocated it). */
static void done(void *ctx, err_t result)
{
    item *it = ctx;
    sink *k = it->k;
    it->result = result;
    pthread_mutex_lock(&k->mu);
    unqueue(k, it);
    it->next = k->finished;
    k->finished = it;
    k->inflight--;
    if (k->inflight <= k->wake_at) pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

static void sink_save_bookmark_locked(sink *k, bool complete);

/* Counts, reports and frees what the writer finished; called with k->mu held. */
static void reap(sink *k)
{
    item *it = k->finished;
    k->finished = NULL;
    while (it) {
        item *next = it->next;
        if (it->result == ERR_OK && it->oc.status < 400) {
            if (it->oc.status == 201) k->st->created++;
            else k->st->updated++;
            if (k->on_written) k->on_written(k->written_ctx, it->w.r, it->file, it->line, it->oc.id);
        } else {
            if (it->oc.status < 400)
                outcome_problem(&it->oc, 500, "urn:ed-fi:api:system", "Internal Server Error", "storage failure", NULL);
            k->st->rejected++;
            report(k, it->file, it->line, it->w.r->path, it->w.info.key_json, &it->oc);
        }
        item_free(it);
        it = next;
    }
    if (k->bookmark_path && time(NULL) != k->bookmark_at) sink_save_bookmark_locked(k, false);
}

sink *sink_new(const model *m, store *s, const char *owner, FILE *errs, load_stats *st)
{
    sink *k = xcalloc(1, sizeof *k);
    k->m = m;
    k->s = s;
    k->owner = owner;
    k->errs = errs;
    k->st = st;
    k->wake_at = -1;
    pthread_mutex_init(&k->mu, NULL);
    pthread_cond_init(&k->cv, NULL);
    return k;
}

void sink_drain(sink *k)
{
    pthread_mutex_lock(&k->mu);
    reap(k);
    k->wake_at = 0;
    while (k->inflight > 0) pthread_cond_wait(&k->cv, &k->mu);
    k->wake_at = -1;
    reap(k);
    pthread_mutex_unlock(&k->mu);
}

void sink_free(sink *k)
{
    if (!k) return;
    sink_drain(k);
    free(k->bookmark_path);
    free(k->inputs);
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
}

/* Numbers a record; true when an earlier run already loaded it. */
static bool skipped(sink *k)
{
    pthread_mutex_lock(&k->mu);
    bool skip = ++k->handed <= k->skip;
    if (skip) k->st->skipped++;
    pthread_mutex_unlock(&k->mu);
    return skip;
}

void sink_reject(sink *k, const char *file, long line, const char *resource, int status, const char *detail)
{
    if (skipped(k)) return;
    outcome o = {0};
    outcome_problem(&o, status, status == 404 ? "urn:ed-fi:api:not-found" : "urn:ed-fi:api:bad-request",
                    status == 404 ? "Not Found" : "Bad Request", detail, NULL);
    pthread_mutex_lock(&k->mu);
    k->st->rejected++;
    report(k, file, line, resource, NULL, &o);
    pthread_mutex_unlock(&k->mu);
    outcome_free(&o);
}

void sink_put(sink *k, const mresource *r, const char *json, size_t len, const char *file, long line)
{
    if (skipped(k)) return;
    item *it = xcalloc(1, sizeof *it);
    arena_init(&it->a, 8192);
    it->k = k;
    it->line = line;
    snprintf(it->file, sizeof it->file, "%s", file);
    it->w.m = k->m;
    it->w.r = r;
    it->w.a = &it->a;
    it->w.op = OP_UPSERT;
    it->w.owner = k->owner;
    it->w.out = &it->oc;
    if (!engine_prepare(&it->w, json, len)) {
        pthread_mutex_lock(&k->mu);
        k->st->rejected++;
        report(k, file, line, r->path, it->w.info.key_json, &it->oc);
        pthread_mutex_unlock(&k->mu);
        item_free(it);
        return;
    }
    pthread_mutex_lock(&k->mu);
    if (k->finished) reap(k);
    if (k->inflight >= MAX_INFLIGHT) {
        k->wake_at = MAX_INFLIGHT / 2;
        while (k->inflight > k->wake_at) pthread_cond_wait(&k->cv, &k->mu);
        k->wake_at = -1;
        reap(k);
    }
    k->inflight++;
    it->seq = k->handed;
    if (k->newest) k->newest->qnext = it;
    else k->oldest = it;
    k->newest = it;
    pthread_mutex_unlock(&k->mu);
    const uuid_t16 *keys;
    int nkeys = engine_keys(&it->w, &keys);
    if (store_submit_keyed(k->s, engine_write_job, done, it, keys, nkeys) != ERR_OK) {
        outcome_problem(&it->oc, 503, "urn:ed-fi:api:service-unavailable", "Service Unavailable", "store closed", NULL);
        pthread_mutex_lock(&k->mu);
        unqueue(k, it);
        k->inflight--;
        k->st->rejected++;
        report(k, file, line, r->path, NULL, &it->oc);
        pthread_mutex_unlock(&k->mu);
        item_free(it);
    }
}

void sink_resume(sink *k, const char *bookmark_path, const char *inputs, long skip)
{
    pthread_mutex_lock(&k->mu);
    free(k->bookmark_path);
    free(k->inputs);
    k->bookmark_path = bookmark_path ? xstrdup(bookmark_path) : NULL;
    k->inputs = xstrdup(inputs ? inputs : "");
    k->skip = skip > 0 ? skip : 0;
    pthread_mutex_unlock(&k->mu);
}

void sink_on_written(sink *k, sink_written_fn fn, void *ctx)
{
    k->on_written = fn;
    k->written_ctx = ctx;
}

void sink_stop_on(sink *k, const volatile int *flag) { k->stop_flag = flag; }

bool sink_stopped(const sink *k) { return k->stop_flag && *k->stop_flag; }

long sink_done_prefix(sink *k)
{
    pthread_mutex_lock(&k->mu);
    long n = k->oldest ? k->oldest->seq - 1 : k->handed;
    pthread_mutex_unlock(&k->mu);
    return n;
}

/* Written to a temporary file, then renamed: a crash leaves the old or the
 * new bookmark, never half of one. The bookmark may lag the database (it is
 * written after the commit), never lead it: a resumed run re-sends at most
 * a few records, which upserts make harmless. */
static void sink_save_bookmark_locked(sink *k, bool complete)
{
    if (!k->bookmark_path) return;
    k->bookmark_at = time(NULL);
    long done = k->oldest ? k->oldest->seq - 1 : k->handed;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", k->bookmark_path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "inputs", json_object_new_string(k->inputs));
    json_object_object_add(o, "records", json_object_new_int64(done));
    json_object_object_add(o, "complete", json_object_new_boolean(complete));
    json_object_object_add(o, "savedAt", json_object_new_int64((int64_t)k->bookmark_at));
    bool ok = fprintf(f, "%s\n", jsonx_text(o)) > 0;
    json_object_put(o);
    ok = fclose(f) == 0 && ok;
    if (ok) rename(tmp, k->bookmark_path);
    else remove(tmp);
}

void sink_save_bookmark(sink *k, bool complete)
{
    pthread_mutex_lock(&k->mu);
    sink_save_bookmark_locked(k, complete);
    pthread_mutex_unlock(&k->mu);
}
