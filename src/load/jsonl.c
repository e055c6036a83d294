#include "jsonl.h"
#include "../base/buf.h"
#include "../base/jsonx.h"
#include "../engine/engine.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_INFLIGHT 4096
#define MAX_LINE (8u << 20)

typedef struct tracker {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int inflight;
    load_stats *st;
    FILE *errs;
    const char *path;
} tracker;

/* wreq first: the store job receives the item as its wreq. */
typedef struct item {
    wreq w;
    arena a;
    outcome oc;
    long line;
    tracker *t;
    char resource[160];
} item;

static void report(FILE *errs, const char *path, long line, const char *resource, const outcome *o)
{
    if (!errs) return;
    json_object *e = json_object_new_object();
    json_object_object_add(e, "file", json_object_new_string(path));
    json_object_object_add(e, "line", json_object_new_int64(line));
    json_object_object_add(e, "resource", json_object_new_string(resource));
    json_object_object_add(e, "status", json_object_new_int(o->status));
    json_object_object_add(e, "type", json_object_new_string(o->type ? o->type : ""));
    json_object_object_add(e, "detail", json_object_new_string(o->detail ? o->detail : ""));
    if (o->validation) json_object_object_add(e, "validationErrors", json_object_get(o->validation));
    if (o->errors) json_object_object_add(e, "errors", json_object_get(o->errors));
    fprintf(errs, "%s\n", jsonx_text(e));
    json_object_put(e);
}

static void item_free(item *it)
{
    engine_release(&it->w);
    outcome_free(&it->oc);
    arena_free(&it->a);
    free(it);
}

static void done(void *ctx, err_t result)
{
    item *it = ctx;
    tracker *t = it->t;
    pthread_mutex_lock(&t->mu);
    if (result == ERR_OK && it->oc.status < 400) {
        if (it->oc.status == 201) t->st->created++;
        else t->st->updated++;
    } else {
        if (it->oc.status < 400) outcome_problem(&it->oc, 500, "urn:ed-fi:api:system", "Internal Server Error", "storage failure", NULL);
        t->st->rejected++;
        report(t->errs, t->path, it->line, it->resource, &it->oc);
    }
    t->inflight--;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    item_free(it);
}

static void reject_now(tracker *t, long line, const char *resource, int status, const char *detail)
{
    outcome o = {0};
    outcome_problem(&o, status, "urn:ed-fi:api:bad-request", "Bad Request", detail, NULL);
    pthread_mutex_lock(&t->mu);
    t->st->rejected++;
    report(t->errs, t->path, line, resource, &o);
    pthread_mutex_unlock(&t->mu);
    outcome_free(&o);
}

err_t load_jsonl(const model *m, store *s, const char *path, const char *owner, FILE *errs, FILE *progress,
                 load_stats *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ERR_IO;
    tracker t = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, st, errs, path};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    time_t last = time(NULL);
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        st->lines++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (!n) continue;
        if ((size_t)n > MAX_LINE) {
            reject_now(&t, lineno, "", 413, "The line is longer than the 8 MiB limit.");
            continue;
        }
        char err[256];
        json_object *rec = jsonx_parse(line, (size_t)n, err, sizeof err, NULL, 0);
        const char *res = rec ? jsonx_str(rec, "resource") : NULL;
        json_object *doc = rec ? jsonx_get(rec, "document") : NULL;
        if (!res || !doc) {
            reject_now(&t, lineno, res ? res : "", 400,
                       rec ? "Each line must be {\"resource\":\"/ed-fi/<endpoint>\",\"document\":{...}}." : err);
            json_object_put(rec);
            continue;
        }
        char proj[64], ep[128];
        const mresource *r = NULL;
        if (sscanf(res, "/%63[^/]/%127s", proj, ep) == 2) r = model_find(m, proj, ep);
        if (!r) {
            reject_now(&t, lineno, res, 404, "Unknown resource.");
            json_object_put(rec);
            continue;
        }
        item *it = xcalloc(1, sizeof *it);
        arena_init(&it->a, 8192);
        it->line = lineno;
        it->t = &t;
        snprintf(it->resource, sizeof it->resource, "%s", res);
        it->w.m = m;
        it->w.r = r;
        it->w.a = &it->a;
        it->w.op = OP_UPSERT;
        it->w.owner = owner;
        it->w.out = &it->oc;
        const char *text = jsonx_text(doc);
        bool ok = engine_prepare(&it->w, text, strlen(text));
        json_object_put(rec);
        if (!ok) {
            pthread_mutex_lock(&t.mu);
            st->rejected++;
            report(errs, path, lineno, it->resource, &it->oc);
            pthread_mutex_unlock(&t.mu);
            item_free(it);
            continue;
        }
        pthread_mutex_lock(&t.mu);
        while (t.inflight >= MAX_INFLIGHT) pthread_cond_wait(&t.cv, &t.mu);
        t.inflight++;
        pthread_mutex_unlock(&t.mu);
        const uuid_t16 *keys;
        int nkeys = engine_keys(&it->w, &keys);
        if (store_submit_keyed(s, engine_write_job, done, it, keys, nkeys) != ERR_OK) {
            pthread_mutex_lock(&t.mu);
            t.inflight--;
            pthread_mutex_unlock(&t.mu);
            outcome_problem(&it->oc, 503, "urn:ed-fi:api:service-unavailable", "Service Unavailable", "store closed", NULL);
            report(errs, path, lineno, it->resource, &it->oc);
            st->rejected++;
            item_free(it);
        }
        if (progress && time(NULL) != last) {
            last = time(NULL);
            fprintf(progress, "\r  %s: %ld lines, %ld created, %ld updated, %ld rejected", path, st->lines, st->created,
                    st->updated, st->rejected);
            fflush(progress);
        }
    }
    free(line);
    fclose(f);
    pthread_mutex_lock(&t.mu);
    while (t.inflight > 0) pthread_cond_wait(&t.cv, &t.mu);
    pthread_mutex_unlock(&t.mu);
    if (progress) fprintf(progress, "\r  %s: %ld lines, %ld created, %ld updated, %ld rejected\n", path, st->lines,
                          st->created, st->updated, st->rejected);
    return ERR_OK;
}
