/* The loaders' sink; see sink.h. */
#include "sink.h"
#include "../base/jsonx.h"
#include "../engine/engine.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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
};

/* wreq first: the store job receives the item as its wreq. */
typedef struct item {
    wreq w;
    arena a;
    outcome oc;
    sink *k;
    err_t result;
    item *next;
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

/* On the writer thread: only hand the item back. Counting, reporting and
 * freeing happen on the reader's thread, off the single writer's path (and
 * memory is freed by the thread that allocated it). */
static void done(void *ctx, err_t result)
{
    item *it = ctx;
    sink *k = it->k;
    it->result = result;
    pthread_mutex_lock(&k->mu);
    it->next = k->finished;
    k->finished = it;
    k->inflight--;
    if (k->inflight <= k->wake_at) pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

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
        } else {
            if (it->oc.status < 400)
                outcome_problem(&it->oc, 500, "urn:ed-fi:api:system", "Internal Server Error", "storage failure", NULL);
            k->st->rejected++;
            report(k, it->file, it->line, it->w.r->path, it->w.info.key_json, &it->oc);
        }
        item_free(it);
        it = next;
    }
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
    pthread_mutex_destroy(&k->mu);
    pthread_cond_destroy(&k->cv);
    free(k);
}

void sink_reject(sink *k, const char *file, long line, const char *resource, int status, const char *detail)
{
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
    pthread_mutex_unlock(&k->mu);
    const uuid_t16 *keys;
    int nkeys = engine_keys(&it->w, &keys);
    if (store_submit_keyed(k->s, engine_write_job, done, it, keys, nkeys) != ERR_OK) {
        outcome_problem(&it->oc, 503, "urn:ed-fi:api:service-unavailable", "Service Unavailable", "store closed", NULL);
        pthread_mutex_lock(&k->mu);
        k->inflight--;
        k->st->rejected++;
        report(k, file, line, r->path, NULL, &it->oc);
        pthread_mutex_unlock(&k->mu);
        item_free(it);
    }
}
