/* The source of a publication: a local store or an Ed-Fi API's change
 * queries (integration.md §1). */
#include "../base/jsonx.h"
#include "publish_int.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOURCE_MAX_ATTEMPTS 5
#define REREADS_MAX 3
#define MAX_PAGE_BYTES (256u << 20)

bool pub_source_open(pub_source *src, const model *m, const pub_end *e, FILE *log, char *err, size_t errlen)
{
    memset(src, 0, sizeof *src);
    src->m = m;
    buf_init(&src->resp, MAX_PAGE_BYTES);
    if (e->s) {
        src->s = e->s;
        return true;
    }
    if (e->snapshot && !strcmp(e->snapshot, "newest"))
        snprintf(src->snapshot_header, sizeof src->snapshot_header, "Use-Snapshot: true");
    else if (e->snapshot)
        snprintf(src->snapshot_header, sizeof src->snapshot_header, "Snapshot-Identifier: %.120s", e->snapshot);
    src->c = &src->conn;
    src->conn.cred_hint = "--source-key K --source-secret S (- reads it from stdin), or EDHUB_SOURCE_KEY and "
                          "EDHUB_SOURCE_SECRET";
    return api_conn_open(src->c, e->url, "--source-api", e->key, e->secret, m->project_version, log, err, errlen);
}

void pub_source_close(pub_source *src)
{
    if (src->c) api_conn_close(src->c);
    buf_free(&src->resp);
}

/* GET url, with retries on no answer, 429 and 5xx; the answer parsed as
 * JSON into *out (owned). */
static bool api_get(pub_source *src, const char *url, json_object **out, char *err, size_t errlen)
{
    *out = NULL;
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    if (src->snapshot_header[0]) h = curl_slist_append(h, src->snapshot_header); /* every read: one point in time */
    long status = 0;
    char cerr[CURL_ERROR_SIZE + 256] = "";
    double delay = 0.25;
    for (int attempt = 1; attempt <= SOURCE_MAX_ATTEMPTS; attempt++) {
        status = api_conn_request(src->c, "GET", url, NULL, h, true, &src->resp, cerr, sizeof cerr);
        if (status && status != 429 && status < 500) break;
        if (attempt < SOURCE_MAX_ATTEMPTS) usleep((useconds_t)(delay * 1e6));
        delay *= 2;
    }
    curl_slist_free_all(h);
    if (status == 200) *out = json_tokener_parse(src->resp.data ? src->resp.data : "");
    if (*out) return true;
    if (!status) snprintf(err, errlen, "the source API does not answer GET %s: %s", url, cerr);
    else if (status == 401 || status == 403)
        snprintf(err, errlen,
                 "the source API refuses GET %s (HTTP %ld): its client needs a claim set that reads every resource "
                 "and its changes (ReadChanges), such as \"Ed-Fi API Publisher - Reader\" or \"edhub Full Access\"",
                 url, status);
    else if (status == 200) snprintf(err, errlen, "the source API answered GET %s with something that is not JSON", url);
    else if ((status == 404 || status == 410) && src->snapshot_header[0])
        snprintf(err, errlen, "the source API has no such snapshot (%s; HTTP %ld): take one, or publish the live data "
                              "(without --source-snapshot)", src->snapshot_header, status);
    else snprintf(err, errlen, "the source API answered GET %s with HTTP %ld: %.300s", url, status,
                  src->resp.data ? src->resp.data : "");
    return false;
}

bool pub_source_newest(pub_source *src, int64_t *out, char *err, size_t errlen)
{
    if (!src->c) {
        if (store_newest_change_version(src->s, out) == ERR_OK) return true;
        snprintf(err, errlen, "cannot read the source's newest change version (storage error)");
        return false;
    }
    char url[1200];
    snprintf(url, sizeof url, "%s/availableChangeVersions", src->c->changes);
    json_object *j;
    if (!api_get(src, url, &j, err, errlen)) return false;
    json_object *v = jsonx_get(j, "newestChangeVersion");
    if (!v) v = jsonx_get(j, "NewestChangeVersion"); /* ODS 5.x */
    bool ok = json_object_is_type(v, json_type_int);
    if (ok) *out = json_object_get_int64(v);
    else snprintf(err, errlen, "%s has no newestChangeVersion: the source API must support change queries", url);
    json_object_put(j);
    return ok;
}

/* "?offset=..&limit=..&minChangeVersion=..&maxChangeVersion=.." */
static void window_query(char *out, size_t n, int64_t offset, int64_t limit, int64_t min, int64_t max, bool count)
{
    int k = snprintf(out, n, "?offset=%lld&limit=%lld", (long long)offset, (long long)limit);
    if (min > 0) k += snprintf(out + k, n - (size_t)k, "&minChangeVersion=%lld", (long long)min);
    if (max > 0) k += snprintf(out + k, n - (size_t)k, "&maxChangeVersion=%lld", (long long)max);
    if (count) snprintf(out + k, n - (size_t)k, "&totalCount=true");
}

static void store_name(const mresource *r, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", r->project_endpoint, r->endpoint);
}

bool pub_source_count(pub_source *src, const mresource *r, int64_t min, int64_t max, int64_t *total, char *err,
                      size_t errlen)
{
    *total = 0;
    if (!src->c) {
        char name[256];
        store_name(r, name, sizeof name);
        store_query q = {.resource = name, .min_cv = min, .max_cv = max, .count = true, .limit = 0};
        if (store_query_docs(src->s, &q, NULL, NULL, total, NULL) == ERR_OK) return true;
        snprintf(err, errlen, "cannot count the source's %s (storage error)", r->path);
        return false;
    }
    char url[1600], qs[200];
    window_query(qs, sizeof qs, 0, 1, min, max, true);
    snprintf(url, sizeof url, "%s%s%s", src->c->data, r->path, qs);
    json_object *j;
    if (!api_get(src, url, &j, err, errlen)) return false;
    json_object_put(j);
    if (src->c->total_count < 0) {
        snprintf(err, errlen, "the source API gave no Total-Count for %s: it cannot be paged safely", url);
        return false;
    }
    *total = src->c->total_count;
    return true;
}

/* ---- documents, local ---- */

typedef struct local_page {
    pub_item_fn fn;
    void *ctx;
    long rows;
    bool stopped;
} local_page;

static bool local_row(void *ctx, const store_doc *d)
{
    local_page *p = ctx;
    p->rows++;
    json_object *doc = json_tokener_parse(d->body);
    if (!doc) return true; /* stored bodies are the engine's own JSON */
    pub_item it = {.id = d->id, .owner = d->owner, .doc = doc};
    bool go = p->fn(p->ctx, &it);
    json_object_put(doc);
    if (!go) p->stopped = true;
    return go;
}

static bool local_docs(pub_source *src, const mresource *r, int64_t min, int64_t max, pub_item_fn fn, void *ctx,
                       char *err, size_t errlen)
{
    char name[256];
    store_name(r, name, sizeof name);
    int64_t after = 0;
    for (;;) {
        local_page p = {.fn = fn, .ctx = ctx};
        store_query q = {.resource = name, .min_cv = min, .max_cv = max, .after = after, .limit = PUB_PAGE_SIZE};
        int64_t last = 0;
        if (store_query_docs(src->s, &q, local_row, &p, NULL, &last) != ERR_OK) {
            snprintf(err, errlen, "cannot read the source's %s (storage error)", r->path);
            return false;
        }
        if (p.stopped || p.rows < PUB_PAGE_SIZE) return true;
        after = last;
    }
}

/* ---- documents, API ---- */

/* GET url as a JSON array, each element handed to each(ectx, element)
 * until it returns false (*stopped); *rows: the elements. */
typedef bool (*array_fn)(void *ectx, json_object *e);
static bool api_array(pub_source *src, const char *url, array_fn each, void *ectx, long *rows, bool *stopped,
                      char *err, size_t errlen)
{
    json_object *j;
    if (!api_get(src, url, &j, err, errlen)) return false;
    if (!json_object_is_type(j, json_type_array)) {
        json_object_put(j);
        snprintf(err, errlen, "GET %s did not answer a JSON array", url);
        return false;
    }
    *rows = (long)json_object_array_length(j);
    for (long i = 0; i < *rows && !*stopped; i++)
        if (!each(ectx, json_object_array_get_idx(j, (size_t)i))) *stopped = true;
    json_object_put(j);
    return true;
}

typedef struct item_cb { pub_item_fn fn; void *ctx; } item_cb;

static bool each_doc(void *ectx, json_object *doc)
{
    item_cb *cb = ectx;
    pub_item it = {.id = jsonx_str(doc, "id"), .doc = doc};
    return cb->fn(cb->ctx, &it);
}

static bool api_page(pub_source *src, const mresource *r, int64_t offset, int64_t min, int64_t max, pub_item_fn fn,
                     void *ctx, long *rows, bool *stopped, char *err, size_t errlen)
{
    char url[1600], qs[200];
    window_query(qs, sizeof qs, offset, PUB_PAGE_SIZE, min, max, false);
    snprintf(url, sizeof url, "%s%s%s", src->c->data, r->path, qs);
    item_cb cb = {fn, ctx};
    return api_array(src, url, each_doc, &cb, rows, stopped, err, errlen);
}

static bool api_docs(pub_source *src, const mresource *r, int64_t min, int64_t max, pub_item_fn fn, void *ctx,
                     char *err, size_t errlen)
{
    for (int pass = 0; pass <= REREADS_MAX; pass++) {
        int64_t before, after;
        if (!pub_source_count(src, r, min, max, &before, err, errlen)) return false;
        bool stopped = false;
        for (int64_t offset = 0;; offset += PUB_PAGE_SIZE) {
            long rows = 0;
            if (!api_page(src, r, offset, min, max, fn, ctx, &rows, &stopped, err, errlen)) return false;
            if (stopped) return true;
            if (rows < PUB_PAGE_SIZE) break;
        }
        if (!pub_source_count(src, r, min, max, &after, err, errlen)) return false;
        /* Nothing can enter the window (max is committed); a smaller count
         * means documents left it while it was read, which may have moved
         * one into a page already read: read again (upserts are idempotent). */
        if (after >= before) return true;
    }
    snprintf(err, errlen, "%s kept changing while it was read (%d times): run the publication again later", r->path,
             REREADS_MAX + 1);
    return false;
}

bool pub_source_docs(pub_source *src, const mresource *r, int64_t min, int64_t max, pub_item_fn fn, void *ctx,
                     char *err, size_t errlen)
{
    return src->c ? api_docs(src, r, min, max, fn, ctx, err, errlen) : local_docs(src, r, min, max, fn, ctx, err, errlen);
}

/* ---- deletes and key changes ---- */

typedef struct local_changes {
    pub_change_fn fn;
    void *ctx;
    long rows;
    bool stopped;
} local_changes;

static bool local_change(void *ctx, const store_change *c)
{
    local_changes *p = ctx;
    p->rows++;
    pub_change ch = {.id = c->id, .change_version = c->change_version};
    ch.keys = c->key_values ? json_tokener_parse(c->key_values) : NULL;
    ch.old_keys = c->old_key_values ? json_tokener_parse(c->old_key_values) : NULL;
    ch.new_keys = c->new_key_values ? json_tokener_parse(c->new_key_values) : NULL;
    bool go = p->fn(p->ctx, &ch);
    json_object_put(ch.keys);
    json_object_put(ch.old_keys);
    json_object_put(ch.new_keys);
    if (!go) p->stopped = true;
    return go;
}

typedef struct change_cb { pub_change_fn fn; void *ctx; } change_cb;

static bool each_change(void *ectx, json_object *e)
{
    change_cb *cb = ectx;
    pub_change ch = {.id = jsonx_str(e, "id"),
                     .change_version = json_object_get_int64(jsonx_get(e, "changeVersion")),
                     .keys = jsonx_get(e, "keyValues"),
                     .old_keys = jsonx_get(e, "oldKeyValues"),
                     .new_keys = jsonx_get(e, "newKeyValues")};
    return cb->fn(cb->ctx, &ch);
}

static bool api_changes_page(pub_source *src, const mresource *r, bool kc, int64_t offset, int64_t min, int64_t max,
                             pub_change_fn fn, void *ctx, long *rows, bool *stopped, char *err, size_t errlen)
{
    char url[1600], qs[200];
    window_query(qs, sizeof qs, offset, PUB_PAGE_SIZE, min, max, false);
    snprintf(url, sizeof url, "%s%s/%s%s", src->c->data, r->path, kc ? "keyChanges" : "deletes", qs);
    change_cb cb = {fn, ctx};
    return api_array(src, url, each_change, &cb, rows, stopped, err, errlen);
}

bool pub_source_changes(pub_source *src, const mresource *r, bool key_changes, int64_t min, int64_t max,
                        pub_change_fn fn, void *ctx, char *err, size_t errlen)
{
    char name[256];
    store_name(r, name, sizeof name);
    for (int64_t offset = 0;; offset += PUB_PAGE_SIZE) {
        long rows = 0;
        bool stopped = false;
        if (src->c) {
            if (!api_changes_page(src, r, key_changes, offset, min, max, fn, ctx, &rows, &stopped, err, errlen))
                return false;
        } else {
            local_changes p = {.fn = fn, .ctx = ctx};
            store_query q = {.resource = name, .min_cv = min, .max_cv = max, .offset = offset, .limit = PUB_PAGE_SIZE};
            if (store_query_changes(src->s, key_changes ? SC_KEY_CHANGES : SC_DELETES, &q, local_change, &p, NULL) !=
                ERR_OK) {
                snprintf(err, errlen, "cannot read the source's %s %s (storage error)", r->path,
                         key_changes ? "key changes" : "deletes");
                return false;
            }
            rows = p.rows;
            stopped = p.stopped;
        }
        if (stopped || rows < PUB_PAGE_SIZE) return true;
    }
}
