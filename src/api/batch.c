/* POST /edhub/v1/batch: many documents in one request, an edhub extension
 * of the Ed-Fi API (one HTTP request per record is what makes Ed-Fi loads
 * slow). The body is JSON lines, {"resource":"/ed-fi/<endpoint>",
 * "document":{...}} each (the format of edhub load and --dry-run); every
 * item is validated and authorized exactly as a POST of it alone would be,
 * and written through the same group commit. The answer lists each item's
 * status with its id, or its problem. Items are independent: one failing
 * does not undo the others. API profiles apply as to a POST with
 * Content-Type application/json: a client's only assigned profile that
 * covers an item's resource is applied to it (a client with several that
 * cover it has that item refused, 403); the batch body cannot name one, so
 * a profile media type as the batch's Content-Type is refused (415). */
#include "api_int.h"
#include "../base/jsonx.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct bitem {
    wreq w;                 /* first: the store job gets &item->w */
    outcome oc;
    struct batch *b;
    long line;
    bool submitted;
    const uuid_t16 *keys;   /* the ids the job looks up (made before any job runs) */
    int nkeys;
} bitem;

typedef struct batch {
    request *r;
    int n;
    bitem *items;
    _Atomic int pending;
} batch;

static void item_problem(bitem *it, int status, const char *type, const char *title, const char *detail)
{
    outcome_problem(&it->oc, status, type, title, detail, NULL);
}

/* One item (or the submitting thread's hold) is finished; the last one
 * hands the connection back to MHD. */
static void batch_release(batch *b)
{
    if (atomic_fetch_sub(&b->pending, 1) != 1) return;
    request *r = b->r;
    api_server *srv = r->srv;
    r->state = ST_RESUMED;
    MHD_resume_connection(r->conn); /* from here r belongs to MHD again */
    atomic_fetch_sub(&srv->inflight, 1);
}

static void item_done(void *ctx, err_t result)
{
    bitem *it = ctx;
    if (result != ERR_OK && it->oc.status < 400)
        item_problem(it, 500, "urn:ed-fi:api:system", "Internal Server Error", "An unexpected problem has occurred.");
    batch_release(it->b);
}

/* The authorization plans of a resource for this client, and the API
 * profile that applies to its writes, made once per batch. */
typedef struct plans {
    const mresource *r;
    authz_plan *create, *update;
    const profile_ct *profile;
    profile_error *perr;       /* status 0: none */
} plans;

static plans *plans_for(request *r, plans *cache, int *n, const mresource *res)
{
    for (int i = 0; i < *n; i++)
        if (cache[i].r == res) return &cache[i];
    plans *p = &cache[(*n)++];
    p->r = res;
    p->create = arena_alloc(&r->a, sizeof *p->create);
    p->update = arena_alloc(&r->a, sizeof *p->update);
    authz_plan_for(p->create, r->srv->cfg.claims, r->client, res, SEC_CREATE, &r->a);
    authz_plan_for(p->update, r->srv->cfg.claims, r->client, res, SEC_UPDATE, &r->a);
    p->perr = arena_alloc(&r->a, sizeof *p->perr);
    memset(p->perr, 0, sizeof *p->perr);
    p->profile = NULL;
    if (r->srv->cfg.profiles) {
        profile_request rq = {.r = res, .method = "POST", .assigned = (const char *const *)r->client->profiles,
                              .nassigned = r->client->nprofiles};
        p->profile = profile_resolve(r->srv->cfg.profiles, &rq, p->perr);
    }
    return p;
}

void handle_batch(request *r)
{
    if (strcmp(r->method, "POST")) {
        req_simple_problem(r, 405, "urn:ed-fi:api:method-not-allowed", "Method Not Allowed",
                           "The request construction was invalid.", "The batch endpoint only supports POST.");
        req_header(r, "Allow", "POST");
        return;
    }
    if (!req_authenticate_instance(r)) return;
    const char *ctype = req_get_header(r, "Content-Type");
    profile_media pm;
    if (ctype && profile_media_parse(ctype, &pm) != PROFILE_MEDIA_NONE) {
        req_simple_problem(r, 415, "urn:ed-fi:api:unsupported-media-type", "Unsupported Media Type",
                           "The value specified in the 'Content-Type' header is not supported by this host.",
                           "The batch endpoint does not take API profile media types: a client's assigned profile "
                           "applies to each item by itself; write through a profile that is not applied so with "
                           "POST or PUT on the resource.");
        return;
    }
    /* Count the lines first: the item table is allocated once. */
    const char *body = r->body.data ? r->body.data : "";
    size_t len = r->body.len;
    int lines = 0;
    for (size_t i = 0; i < len; i++) lines += body[i] == '\n';
    if (len && body[len - 1] != '\n') lines++;
    if (lines > BATCH_MAX_ITEMS) {
        char msg[128];
        snprintf(msg, sizeof msg, "A batch holds at most %d documents; this one has %d lines.", BATCH_MAX_ITEMS, lines);
        req_simple_problem(r, 413, "urn:ed-fi:api:bad-request:payload-too-large", "Payload Too Large",
                           "The request could not be processed. See 'errors' for details.", msg);
        return;
    }
    batch *b = arena_alloc(&r->a, sizeof *b);
    b->r = r;
    b->items = arena_alloc(&r->a, sizeof(bitem) * (size_t)(lines + 1));
    plans *cache = arena_alloc(&r->a, sizeof(plans) * 64);
    int ncache = 0;
    const char *owner = arena_strdup(&r->a, r->client->key);
    /* Phase 1, this thread: parse, authorize what can be decided now, prepare. */
    long lineno = 0;
    for (const char *p = body; p < body + len;) {
        const char *nl = memchr(p, '\n', (size_t)(body + len - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(body + len - p);
        const char *next = nl ? nl + 1 : body + len;
        lineno++;
        while (ll && (p[ll - 1] == '\r' || p[ll - 1] == ' ')) ll--;
        if (!ll) {
            p = next;
            continue;
        }
        bitem *it = &b->items[b->n++];
        it->b = b;
        it->line = lineno;
        char err[256];
        json_object *rec = jsonx_parse(p, ll, err, sizeof err, NULL, 0);
        const char *res = rec ? jsonx_str(rec, "resource") : NULL;
        json_object *doc = rec ? jsonx_get(rec, "document") : NULL;
        char proj[64], ep[128];
        const mresource *mr = NULL;
        if (res && sscanf(res, "/%63[^/]/%127s", proj, ep) == 2) mr = model_find(r->srv->m, proj, ep);
        if (!res || !doc || !json_object_is_type(doc, json_type_object)) {
            item_problem(it, 400, "urn:ed-fi:api:bad-request", "Bad Request",
                         rec ? arena_strdup(&r->a, "Each line must be {\"resource\":\"/ed-fi/<endpoint>\",\"document\":{...}}.")
                             : arena_strdup(&r->a, err));
        } else if (!mr) {
            item_problem(it, 404, "urn:ed-fi:api:not-found", "Not Found", "The specified resource could not be found.");
        } else {
            plans *pl = plans_for(r, cache, &ncache, mr);
            if (ncache >= 64) ncache = 0; /* a bounded cache: start over (plans stay in the arena) */
            if (pl->perr->status) {
                outcome_profile(&it->oc, pl->perr);
            } else if (pl->create->status && (pl->update->status || pl->create->status == 500)) {
                outcome_problem(&it->oc, pl->create->status, pl->create->type, pl->create->title, pl->create->detail,
                                pl->create->error);
            } else {
                wreq *w = &it->w;
                w->m = r->srv->m;
                w->r = mr;
                w->a = &r->a;
                w->op = OP_UPSERT;
                w->owner = owner;
                w->out = &it->oc;
                w->az_create = pl->create;
                w->az_update = pl->update;
                w->profile = pl->profile;
                const char *text = jsonx_text(doc);
                it->submitted = engine_prepare(w, text, strlen(text));
                /* The request arena is the writer's once the first job is queued. */
                if (it->submitted) it->nkeys = engine_keys(w, &it->keys);
            }
        }
        json_object_put(rec);
        p = next;
    }
    int todo = 0;
    for (int i = 0; i < b->n; i++) todo += b->items[i].submitted;
    r->batch = b;
    if (!todo) { /* nothing to write: answer now */
        handle_batch_done(r);
        return;
    }
    /* Phase 2: hand every prepared item to the writer; the connection waits.
     * From the first submission on, only the writer touches the request arena
     * (its jobs run one after another) until the last item is done. */
    atomic_fetch_add(&r->srv->inflight, 1);
    if (atomic_load(&r->srv->stopping)) {
        atomic_fetch_sub(&r->srv->inflight, 1);
        r->batch = NULL;
        req_simple_problem(r, 503, "urn:ed-fi:api:service-unavailable", "Service Unavailable",
                           "The server is shutting down; retry shortly.", NULL);
        return;
    }
    atomic_store(&b->pending, todo + 1); /* +1: this thread's own hold, released last */
    r->state = ST_SUSPENDED;
    r->suspended = true;
    MHD_suspend_connection(r->conn);
    for (int i = 0; i < b->n; i++) {
        bitem *it = &b->items[i];
        if (!it->submitted) continue;
        if (store_submit_keyed(r->s, engine_write_job, item_done, &it->w, it->keys, it->nkeys) != ERR_OK) {
            item_problem(it, 503, "urn:ed-fi:api:service-unavailable", "Service Unavailable",
                         "The server is shutting down; retry shortly.");
            item_done(it, ERR_UNAVAILABLE);
        }
    }
    batch_release(b); /* drop the hold */
}

void handle_batch_done(request *r)
{
    batch *b = r->batch;
    buf *o = &r->out;
    long created = 0, updated = 0, rejected = 0;
    buf_puts(o, "{\"results\":[");
    for (int i = 0; i < b->n; i++) {
        bitem *it = &b->items[i];
        outcome *oc = &it->oc;
        buf_printf(o, "%s{\"line\":%ld,\"status\":%d", i ? "," : "", it->line, oc->status);
        if (oc->status < 400) {
            buf_printf(o, ",\"id\":\"%s\",\"location\":\"/data/v3/%s/%s/%s\"", oc->id, it->w.r->project_endpoint,
                       it->w.r->endpoint, oc->id);
            if (oc->status == 201) created++;
            else updated++;
        } else {
            rejected++;
            buf_puts(o, ",\"problem\":");
            req_problem_json(r, o, oc);
        }
        buf_putc(o, '}');
        engine_release(&it->w);
        outcome_free(oc);
    }
    buf_printf(o, "],\"created\":%ld,\"updated\":%ld,\"rejected\":%ld}", created, updated, rejected);
    r->status = 200;
    r->batch = NULL;
}
