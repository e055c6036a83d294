/* The target of a publication: upserts through the loaders' targets (the
 * local sink, or remote.c over HTTP), and the few synchronous operations
 * key changes and deletes need (find by natural key, PUT, DELETE), done
 * locally through the engine (the same validation as the API) or over
 * HTTP. */
#include "../api/route.h"
#include "../base/jsonx.h"
#include "../engine/engine.h"
#include "publish_int.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TARGET_MAX_ATTEMPTS 5
#define MAX_ANSWER (256u << 20)

void pub_result_clear(pub_result *r)
{
    json_object_put(r->problem);
    r->problem = NULL;
    r->status = 0;
}

static void set_result(pub_result *r, int status, json_object *problem)
{
    pub_result_clear(r);
    r->status = status;
    r->problem = problem;
}

/* An engine outcome as the problem+json the API would have answered. */
static json_object *outcome_json(const outcome *o)
{
    json_object *p = json_object_new_object();
    if (o->detail) json_object_object_add(p, "detail", json_object_new_string(o->detail));
    if (o->type) json_object_object_add(p, "type", json_object_new_string(o->type));
    if (o->title) json_object_object_add(p, "title", json_object_new_string(o->title));
    json_object_object_add(p, "status", json_object_new_int(o->status));
    if (o->validation) json_object_object_add(p, "validationErrors", json_object_get(o->validation));
    if (o->errors) json_object_object_add(p, "errors", json_object_get(o->errors));
    return p;
}

static json_object *problem_text(int status, const char *detail)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "detail", json_object_new_string(detail));
    json_object_object_add(p, "status", json_object_new_int(status));
    return p;
}

bool pub_target_open(pub_target *t, const model *m, const pub_end *e, const pub_opts *o, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->m = m;
    t->owner = "publish";
    buf_init(&t->resp, MAX_ANSWER);
    t->reports = tmpfile();
    if (!t->reports) {
        snprintf(err, errlen, "cannot create a temporary file (TMPDIR)");
        return false;
    }
    if (e->s) {
        t->s = e->s;
        t->k = sink_new(m, e->s, t->owner, t->reports, &t->st);
        load_target_sink(&t->lt, t->k);
        return true;
    }
    remote_opts ro = {.url = e->url, .key = e->key, .secret = e->secret, .connections = o->connections,
                      .no_batch = o->no_batch, .errs = t->reports, .log = o->progress, .flag = "--target-api",
                      .cred_hint = "--target-key K --target-secret S (- reads it from stdin), or EDHUB_TARGET_KEY "
                                   "and EDHUB_TARGET_SECRET",
                      .verb = "publishing into", .token_cache = e->token_cache};
    t->rm = remote_open(m, &ro, &t->st, err, errlen);
    if (!t->rm) return false;
    t->c = remote_conn(t->rm);
    remote_target(t->rm, &t->lt);
    return true;
}

void pub_target_close(pub_target *t)
{
    if (t->k) sink_free(t->k);
    if (t->rm) remote_close(t->rm);
    if (t->reports) fclose(t->reports);
    buf_free(&t->resp);
    memset(t, 0, sizeof *t);
}

/* ---- over HTTP ---- */

/* One request with retries (no answer, 429, 5xx); the status. */
static long api_call(pub_target *t, const char *method, const char *url, const char *body, char *cerr, size_t n)
{
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    long status = 0;
    double delay = 0.25;
    for (int attempt = 1; attempt <= TARGET_MAX_ATTEMPTS; attempt++) {
        status = api_conn_request(t->c, method, url, body, h, true, &t->resp, cerr, n);
        if (status && status != 429 && status < 500) break;
        if (attempt < TARGET_MAX_ATTEMPTS) usleep((useconds_t)(delay * 1e6));
        delay *= 2;
    }
    curl_slist_free_all(h);
    return status;
}

static void api_failure(pub_target *t, pub_result *res, long status, const char *method, const char *url,
                        const char *cerr)
{
    if (!status) {
        char d[3200];
        snprintf(d, sizeof d, "no answer to %s %s: %s", method, url, cerr);
        set_result(res, 0, problem_text(0, d));
    } else {
        set_result(res, (int)status, api_problem_of(t->resp.data ? t->resp.data : "", t->resp.len, (int)status));
    }
}

/* GET url as a JSON array (owned) or NULL with res set. */
static json_object *api_list(pub_target *t, const char *url, pub_result *res)
{
    char cerr[CURL_ERROR_SIZE + 256] = "";
    long status = api_call(t, "GET", url, NULL, cerr, sizeof cerr);
    json_object *j = status == 200 ? json_tokener_parse(t->resp.data ? t->resp.data : "") : NULL;
    if (json_object_is_type(j, json_type_array)) return j;
    json_object_put(j);
    api_failure(t, res, status, "GET", url, cerr);
    return NULL;
}

static int api_find(pub_target *t, const mresource *r, json_object *keys, char id[64], json_object **doc,
                     pub_result *res)
{
    buf q;
    buf_init(&q, 0);
    buf_printf(&q, "%s%s?", t->c->data, r->path);
    if (!pub_key_query(keys, &q)) {
        buf_free(&q);
        set_result(res, 400, problem_text(400, "the key values are not a flat object of scalars"));
        return -1;
    }
    json_object *arr = api_list(t, q.data, res);
    buf_free(&q);
    if (!arr) return -1;
    int found = json_object_array_length(arr) > 0;
    if (found) {
        json_object *first = json_object_array_get_idx(arr, 0);
        snprintf(id, 64, "%s", jsonx_str(first, "id") ? jsonx_str(first, "id") : "");
        *doc = json_object_get(first);
    }
    json_object_put(arr);
    return found;
}

static bool api_write(pub_target *t, const char *method, const mresource *r, const char *id, json_object *doc,
                      pub_result *res)
{
    char url[1600], cerr[CURL_ERROR_SIZE + 256] = "";
    snprintf(url, sizeof url, "%s%s/%s", t->c->data, r->path, id);
    long status = api_call(t, method, url, doc ? jsonx_text(doc) : NULL, cerr, sizeof cerr);
    if (status >= 200 && status < 300) {
        set_result(res, (int)status, NULL);
        return true;
    }
    api_failure(t, res, status, method, url, cerr);
    return false;
}

/* ---- local ---- */

/* The key values as query parameters, validated the way the API validates
 * a GET by example (route_list_request): the same matching rules. */
static bool local_query(const mresource *r, json_object *keys, arena *a, list_request *lr, pub_result *res)
{
    int n = json_object_is_type(keys, json_type_object) ? json_object_object_length(keys) : 0;
    qparam *ps = arena_alloc(a, sizeof(qparam) * (size_t)(n + 1));
    int k = 0;
    json_object_object_foreach(keys, name, v) {
        ps[k].name = name;
        ps[k].value = json_object_is_type(v, json_type_string)
                          ? json_object_get_string(v)
                          : arena_strdup(a, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        k++;
    }
    outcome oc = {0};
    bool ok = route_list_request(r, ps, k, LIST_DOCS, a, lr, &oc);
    if (!ok) set_result(res, oc.status, outcome_json(&oc));
    outcome_free(&oc);
    lr->q.resource = arena_printf(a, "%s/%s", r->project_endpoint, r->endpoint);
    lr->q.limit = 1;
    return ok;
}

typedef struct first_row {
    char id[64];
    json_object *doc;
} first_row;

static bool take_first(void *ctx, const store_doc *d)
{
    first_row *f = ctx;
    snprintf(f->id, sizeof f->id, "%s", d->id);
    f->doc = json_tokener_parse(d->body);
    return false;
}

static int local_find(pub_target *t, const mresource *r, json_object *keys, char id[64], json_object **doc,
                      pub_result *res)
{
    arena a;
    arena_init(&a, 4096);
    list_request lr;
    int found = -1;
    if (local_query(r, keys, &a, &lr, res)) {
        first_row f = {.doc = NULL};
        if (store_query_docs(t->s, &lr.q, take_first, &f, NULL, NULL) != ERR_OK) {
            set_result(res, 500, problem_text(500, "storage error while looking the item up"));
        } else {
            found = f.doc != NULL;
            if (found) snprintf(id, 64, "%s", f.id), *doc = f.doc;
        }
    }
    arena_free(&a);
    return found;
}

/* A PUT or DELETE through the engine, as the API does it, waiting for its
 * durable completion. */
static bool local_write(pub_target *t, write_op op, const mresource *r, const char *id, json_object *doc,
                        pub_result *res)
{
    arena a;
    arena_init(&a, 8192);
    outcome oc = {0};
    wreq w = {.m = t->m, .r = r, .a = &a, .op = op, .id = id, .owner = t->owner, .out = &oc};
    bool ok = true;
    if (op != OP_DELETE) {
        const char *text = jsonx_text(doc);
        ok = engine_prepare(&w, text, strlen(text));
    }
    if (ok) store_run(t->s, engine_write_job, &w);
    ok = oc.status >= 200 && oc.status < 300;
    if (ok) set_result(res, oc.status, NULL);
    else set_result(res, oc.status, outcome_json(&oc));
    engine_release(&w);
    outcome_free(&oc);
    arena_free(&a);
    return ok;
}

/* ---- either ---- */

int pub_target_find(pub_target *t, const mresource *r, json_object *keys, char id[64], json_object **doc,
                    pub_result *res)
{
    *doc = NULL;
    id[0] = 0;
    return t->c ? api_find(t, r, keys, id, doc, res) : local_find(t, r, keys, id, doc, res);
}

bool pub_target_put(pub_target *t, const mresource *r, const char *id, json_object *doc, pub_result *res)
{
    return t->c ? api_write(t, "PUT", r, id, doc, res) : local_write(t, OP_PUT, r, id, doc, res);
}

bool pub_target_delete(pub_target *t, const mresource *r, const char *id, pub_result *res)
{
    return t->c ? api_write(t, "DELETE", r, id, NULL, res) : local_write(t, OP_DELETE, r, id, NULL, res);
}

bool pub_target_has_namespace(pub_target *t, const mresource *d, const char *ns)
{
    json_object *keys = json_object_new_object();
    json_object_object_add(keys, "namespace", json_object_new_string(ns));
    pub_result res = {0};
    char id[64];
    json_object *doc = NULL;
    int found = pub_target_find(t, d, keys, id, &doc, &res);
    json_object_put(doc);
    json_object_put(keys);
    pub_result_clear(&res);
    return found == 1;
}

typedef struct all_rows {
    pub_item_fn fn;
    void *ctx;
    long rows;
} all_rows;

static bool all_row(void *ctx, const store_doc *d)
{
    all_rows *p = ctx;
    p->rows++;
    json_object *doc = json_tokener_parse(d->body);
    pub_item it = {.id = d->id, .owner = d->owner, .doc = doc};
    if (doc) p->fn(p->ctx, &it);
    json_object_put(doc);
    return true;
}

bool pub_target_all(pub_target *t, const mresource *r, pub_item_fn fn, void *ctx, char *err, size_t errlen)
{
    char name[256];
    snprintf(name, sizeof name, "%s/%s", r->project_endpoint, r->endpoint);
    for (int64_t offset = 0, after = 0;; offset += PUB_PAGE_SIZE) {
        long rows = 0;
        if (t->c) {
            char url[1600];
            snprintf(url, sizeof url, "%s%s?offset=%lld&limit=%d", t->c->data, r->path, (long long)offset,
                     PUB_PAGE_SIZE);
            pub_result res = {0};
            json_object *arr = api_list(t, url, &res);
            if (!arr) {
                snprintf(err, errlen, "cannot read the target's %s (HTTP %d)", r->path, res.status);
                pub_result_clear(&res);
                return false;
            }
            rows = (long)json_object_array_length(arr);
            for (long i = 0; i < rows; i++) {
                json_object *doc = json_object_array_get_idx(arr, (size_t)i);
                pub_item it = {.id = jsonx_str(doc, "id"), .doc = doc};
                fn(ctx, &it);
            }
            json_object_put(arr);
        } else {
            all_rows p = {.fn = fn, .ctx = ctx};
            store_query q = {.resource = name, .after = after, .limit = PUB_PAGE_SIZE};
            if (store_query_docs(t->s, &q, all_row, &p, NULL, &after) != ERR_OK) {
                snprintf(err, errlen, "cannot read the target's %s (storage error)", r->path);
                return false;
            }
            rows = p.rows;
        }
        if (rows < PUB_PAGE_SIZE) return true;
    }
}
