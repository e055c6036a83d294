/* /data/v3/{project}/{endpoint}[/{id}|/partitions]: the one generic code
 * path for every resource and descriptor of the model. */
#include "api_int.h"
#include "../base/jsonx.h"
#include "../base/log.h"
#include "../deploy/snapshots.h"
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_QUERY_PARAMS 40

bool req_authenticate(request *r)
{
    const char *h = req_get_header(r, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7)) {
        const char *t = h + 7;
        while (*t == ' ') t++;
        if ((r->client = auth_check_token(r->srv->au, t))) {
            r->client_key = arena_strdup(&r->a, r->client->key);
            return true;
        }
    }
    req_simple_problem(r, 401, "urn:ed-fi:api:security:authentication", "Authentication Failed",
                       h ? "The caller could not be authenticated: the token is invalid or has expired."
                         : "The caller could not be authenticated: an Authorization header with a Bearer token is required.",
                       NULL);
    req_header(r, "WWW-Authenticate", "Bearer");
    return false;
}

static void method_not_allowed(request *r, const char *allow, const char *msg)
{
    outcome o = {0};
    outcome_problem(&o, 405, "urn:ed-fi:api:method-not-allowed", "Method Not Allowed", "The request construction was invalid.", msg);
    o.allow = allow;
    req_problem(r, &o);
    outcome_free(&o);
}

static bool content_type_ok(request *r)
{
    const char *ct = req_get_header(r, "Content-Type");
    if (!ct) return true;
    while (*ct == ' ') ct++;
    size_t n = strcspn(ct, "; ");
    if ((n == 16 && !strncasecmp(ct, "application/json", 16)) || (n == 9 && !strncasecmp(ct, "text/json", 9)) ||
        !strncasecmp(ct, "application/vnd.ed-fi.", 22))
        return true;
    req_simple_problem(r, 415, "urn:ed-fi:api:unsupported-media-type", "Unsupported Media Type",
                       "The value specified in the 'Content-Type' header is not supported by this host.",
                       "The value specified in the 'Content-Type' header is not supported by this host.");
    return false;
}

/* The plan for act on the request's resource; false (the refusal sent)
 * when the claim set refuses outright. */
static authz_plan *plan(request *r, sec_action act, bool send_refusal)
{
    authz_plan *p = arena_alloc(&r->a, sizeof *p);
    authz_plan_for(p, r->srv->cfg.claims, r->client, r->res, act, &r->a);
    if (p->status && send_refusal) {
        if (p->status == 500) log_error("authz: %s on %s: %s", claims_action_name(act), r->res->endpoint, p->detail);
        req_simple_problem(r, p->status, p->type, p->title, p->detail, p->error);
        return NULL;
    }
    return p;
}

/* Which API profile applies to this GET, POST or PUT, per ODS/API 7.3
 * (integration.md §3.3-3.5): into r->profile (NULL: none), or false with
 * the Ed-Fi problem sent. Checked before authorization, as ODS's
 * middleware and filters do. */
static bool request_profile(request *r)
{
    r->profile = NULL;
    const profile_set *ps = r->srv->cfg.profiles;
    if (!ps) return true;
    profile_request rq = {.r = r->res,
                          .method = r->method,
                          .accept = req_get_header(r, "Accept"),
                          .content_type = req_get_header(r, "Content-Type"),
                          .assigned = (const char *const *)r->client->profiles,
                          .nassigned = r->client->nprofiles};
    profile_error pe;
    r->profile = profile_resolve(ps, &rq, &pe);
    if (!pe.status) return true;
    outcome o = {0};
    outcome_profile(&o, &pe);
    req_problem(r, &o);
    outcome_free(&o);
    return false;
}

/* A stored document as the API returns it, through the request's read
 * profile when one applies. */
static void render(request *r, buf *out, const store_doc *d)
{
    if (!r->profile) {
        engine_render(out, d);
        return;
    }
    buf full;
    buf_init(&full, 0);
    engine_render(&full, d);
    char err[128];
    json_object *o = jsonx_parse(full.data, full.len, err, sizeof err, NULL, 0);
    if (o) {
        profile_filter_read(r->profile, o);
        buf_puts(out, jsonx_text(o));
    } else { /* never: the store holds what the engine wrote; show nothing unfiltered */
        log_error("profiles: stored %s %s does not parse: %s", r->res->name, d->id, err);
        buf_printf(out, "{\"id\":\"%s\"}", d->id);
    }
    json_object_put(o);
    buf_free(&full);
}

/* A read through a profile answers in the profile's canonical media type. */
static void profile_content_type(request *r)
{
    if (!r->profile) return;
    char mt[400];
    profile_media_format(mt, sizeof mt, r->res->name, profile_ct_profile(r->profile), PROFILE_READ);
    r->content_type = arena_strdup(&r->a, mt);
}

static const char *stored_name(request *r)
{
    return arena_printf(&r->a, "%s/%s", r->res->project_endpoint, r->res->endpoint);
}

static void etag_header(request *r, int64_t etag)
{
    char t[40];
    snprintf(t, sizeof t, "\"%lld\"", (long long)etag);
    req_header(r, "ETag", t);
}

/* ---- reads ---- */

static bool if_none_match_hits(const char *h, int64_t etag)
{
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)etag);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!strncmp(p, "W/", 2)) p += 2;
        const char *e = p + strcspn(p, ",");
        const char *s = p, *t = e;
        while (t > s && t[-1] == ' ') t--;
        if (t - s >= 2 && *s == '"' && t[-1] == '"') s++, t--;
        size_t n = (size_t)(t - s);
        if ((n == 1 && *s == '*') || (n == strlen(want) && !strncmp(s, want, n))) return true;
        p = e;
    }
    return false;
}

static void not_found_item(request *r)
{
    req_simple_problem(r, 404, "urn:ed-fi:api:not-found", "Not Found", "The specified item could not be found.", NULL);
}

static void get_item(request *r, const route *rt, const authz_plan *az)
{
    store_doc d;
    err_t e = store_get_by_id(r->s, stored_name(r), rt->id, &r->a, &d);
    if (e == ERR_NOT_FOUND) {
        not_found_item(r);
        return;
    }
    authz_denial dn = {0};
    authz_reach via = {.s = r->s};
    if (!e) e = authz_check_stored(az, &d, &via, &r->a, &dn);
    if (e) {
        req_simple_problem(r, 500, "urn:ed-fi:api:system", "Internal Server Error", "An unexpected problem has occurred.", NULL);
        return;
    }
    if (dn.status && r->srv->cfg.hide_existence) {
        not_found_item(r);
        return;
    }
    if (dn.status) {
        req_simple_problem(r, dn.status, dn.type, dn.title, dn.detail, dn.error);
        return;
    }
    etag_header(r, d.etag);
    const char *inm = req_get_header(r, "If-None-Match");
    if (inm && if_none_match_hits(inm, d.etag)) {
        r->status = 304;
        return;
    }
    r->status = 200;
    profile_content_type(r);
    render(r, &r->out, &d);
}

typedef struct listctx { request *r; buf *out; int n; int64_t limit; int64_t last; bool more; } listctx;

static bool list_row(void *ctx, const store_doc *d)
{
    listctx *l = ctx;
    if (l->n == l->limit) { /* one row past the page: there is more */
        l->more = true;
        return false;
    }
    if (l->n++) buf_putc(l->out, ',');
    render(l->r, l->out, d);
    l->last = d->doc_id;
    return true;
}

typedef struct pcollect { qparam *ps; int n, cap; arena *a; } pcollect;
static enum MHD_Result add_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    pcollect *p = cls;
    if (p->n >= p->cap) {
        p->n++;
        return MHD_YES;
    }
    p->ps[p->n].name = arena_strdup(p->a, key ? key : "");
    p->ps[p->n].value = value ? arena_strdup(p->a, value) : "";
    p->n++;
    return MHD_YES;
}

static bool read_params(request *r, pcollect *pc)
{
    pc->cap = MAX_QUERY_PARAMS;
    pc->ps = arena_alloc(&r->a, sizeof(qparam) * MAX_QUERY_PARAMS);
    pc->a = &r->a;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_param, pc);
    for (int i = 0; i < pc->n && i < pc->cap; i++) {
        if (!strcmp(pc->ps[i].name, BAD_ESCAPE) || !strcmp(pc->ps[i].value, BAD_ESCAPE)) {
            req_simple_problem(r, 400, "urn:ed-fi:api:bad-request", "Bad Request",
                               "The request could not be processed. See 'errors' for details.",
                               "The query string contains an invalid percent-encoding (use %XX with two hex digits).");
            return false;
        }
    }
    if (pc->n > pc->cap) {
        req_simple_problem(r, 400, "urn:ed-fi:api:bad-request:parameter-validation-failed", "Parameter Validation Failed",
                           "Parameters supplied to the request were invalid.", "Too many query parameters (at most 40).");
        return false;
    }
    return true;
}

static void get_list(request *r, const authz_plan *az)
{
    pcollect pc = {0};
    if (!read_params(r, &pc)) return;
    list_request lr;
    outcome o = {0};
    if (!route_list_request(r->res, pc.ps, pc.n, LIST_DOCS, &r->a, &lr, &o)) {
        req_problem(r, &o);
        outcome_free(&o);
        return;
    }
    lr.q.resource = stored_name(r);
    listctx l = {r, &r->out, 0, lr.q.limit, 0, false};
    int64_t total = 0, last = 0;
    store_query q = lr.q;
    if (lr.cursor) q.limit = lr.q.limit + 1; /* peek one row to know if there is a next page */
    /* Only the permitted items, counted after filtering (security.md §2.7). */
    if (!az->f.open || az->f.ns_path || az->f.owner) q.authz = &az->f;
    buf_putc(&r->out, '[');
    err_t e = ERR_OK;
    if (q.limit > 0 || q.count) e = store_query_docs(r->s, &q, list_row, &l, &total, &last);
    buf_putc(&r->out, ']');
    if (e) {
        req_simple_problem(r, 500, "urn:ed-fi:api:system", "Internal Server Error", "An unexpected problem has occurred.", NULL);
        return;
    }
    r->status = 200;
    profile_content_type(r);
    if (lr.q.count) {
        char t[32];
        snprintf(t, sizeof t, "%lld", (long long)total);
        req_header(r, "Total-Count", t);
    }
    if (lr.cursor && l.more) {
        char tok[64];
        route_page_token(l.last, lr.q.upto, tok);
        req_header(r, "Next-Page-Token", tok);
    }
}

static void get_partitions(request *r)
{
    pcollect pc = {0};
    if (!read_params(r, &pc)) return;
    list_request lr;
    outcome o = {0};
    if (!route_list_request(r->res, pc.ps, pc.n, LIST_PARTITIONS, &r->a, &lr, &o)) {
        req_problem(r, &o);
        outcome_free(&o);
        return;
    }
    int n = lr.partitions ? (int)lr.partitions : 1;
    int64_t *bounds = arena_alloc(&r->a, sizeof(int64_t) * (size_t)(n + 2));
    int got = 0;
    if (store_partitions(r->s, stored_name(r), n, bounds, &got)) {
        req_simple_problem(r, 500, "urn:ed-fi:api:system", "Internal Server Error", "An unexpected problem has occurred.", NULL);
        return;
    }
    buf_puts(&r->out, "{\"pageTokens\":[");
    for (int i = 0; i < got; i++) {
        char tok[64];
        route_page_token(bounds[i], bounds[i + 1], tok);
        buf_printf(&r->out, "%s\"%s\"", i ? "," : "", tok);
    }
    buf_puts(&r->out, "]}");
    r->status = 200;
}

/* ---- change queries (integration.md §1.2, §1.4, §1.5) ---- */

typedef struct changectx { buf *out; int n; bool key_changes; } changectx;

/* Key JSON is ours (written by the engine, or by an older edhub), so it
 * is spliced in as stored. */
static bool change_row(void *ctx, const store_change *c)
{
    changectx *l = ctx;
    buf_printf(l->out, "%s{\"id\":\"%s\",\"changeVersion\":%lld", l->n++ ? "," : "", c->id, (long long)c->change_version);
    if (l->key_changes)
        buf_printf(l->out, ",\"oldKeyValues\":%s,\"newKeyValues\":%s}", c->old_key_values ? c->old_key_values : "{}",
                   c->new_key_values ? c->new_key_values : "{}");
    else buf_printf(l->out, ",\"keyValues\":%s}", c->key_values ? c->key_values : "{}");
    return true;
}

/* GET {resource}/deletes and {resource}/keyChanges: offset paging in
 * change-version order, filtered by the ReadChanges plan as lists are by
 * Read. Resources whose keys cannot change simply have no key changes. */
static void get_changes(request *r, const authz_plan *az, bool key_changes)
{
    pcollect pc = {0};
    if (!read_params(r, &pc)) return;
    list_request lr;
    outcome o = {0};
    if (!route_list_request(r->res, pc.ps, pc.n, LIST_CHANGES, &r->a, &lr, &o)) {
        req_problem(r, &o);
        outcome_free(&o);
        return;
    }
    store_query q = lr.q;
    q.resource = stored_name(r);
    if (!az->f.open || az->f.ns_path || az->f.owner) q.authz = &az->f;
    changectx l = {&r->out, 0, key_changes};
    int64_t total = 0;
    buf_putc(&r->out, '[');
    err_t e = ERR_OK;
    if (q.limit > 0 || q.count)
        e = store_query_changes(r->s, key_changes ? SC_KEY_CHANGES : SC_DELETES, &q, change_row, &l, &total);
    buf_putc(&r->out, ']');
    if (e) {
        req_simple_problem(r, 500, "urn:ed-fi:api:system", "Internal Server Error", "An unexpected problem has occurred.", NULL);
        return;
    }
    r->status = 200;
    if (q.count) {
        char t[32];
        snprintf(t, sizeof t, "%lld", (long long)total);
        req_header(r, "Total-Count", t);
    }
}

void handle_change_versions(request *r)
{
    if (!req_authenticate_instance(r)) return; /* any valid token: no claim is checked (as ODS) */
    int64_t newest = 0;
    if (store_newest_change_version(r->s, &newest)) {
        req_simple_problem(r, 500, "urn:ed-fi:api:system", "Internal Server Error", "An unexpected problem has occurred.", NULL);
        return;
    }
    /* Nothing is ever purged: every version from the start is available. */
    buf_printf(&r->out, "{\"oldestChangeVersion\":0,\"newestChangeVersion\":%lld}", (long long)newest);
    r->status = 200;
}

/* The 5.x/6.x snapshot list: the live snapshots of the request's instance. */
void handle_snapshots(request *r)
{
    if (!req_authenticate_instance(r)) return;
    snapshot_def *all = NULL;
    int n = 0;
    if (snapshots_list(r->srv->cfg.admin, r->insts->defs[r->instance].name, &all, &n)) {
        req_simple_problem(r, 500, "urn:ed-fi:api:system", "Internal Server Error", "An unexpected problem has occurred.", NULL);
        return;
    }
    buf_putc(&r->out, '[');
    int k = 0;
    for (int i = n - 1; i >= 0; i--) /* newest first */
        if (!all[i].retired) {
            buf_printf(&r->out, "%s{\"id\":\"%s\",\"snapshotIdentifier\":", k++ ? "," : "", all[i].id);
            buf_json_str(&r->out, all[i].name);
            buf_printf(&r->out, ",\"snapshotDateTime\":\"%s\"}", all[i].created);
        }
    buf_putc(&r->out, ']');
    free(all);
    r->status = 200;
}

/* ---- writes ---- */

static void write_done(void *ctx, err_t result)
{
    request *r = (request *)((char *)ctx - offsetof(request, w)); /* ctx is &r->w */
    if (result != ERR_OK && r->oc.status < 400) {
        outcome_problem(&r->oc, 500, "urn:ed-fi:api:system", "Internal Server Error",
                        "An unexpected problem has occurred.", NULL);
    }
    api_server *srv = r->srv;
    r->state = ST_RESUMED;
    MHD_resume_connection(r->conn); /* from here r belongs to MHD again */
    /* Only now may api_stop stop the daemon: nothing is left suspended. */
    atomic_fetch_sub(&srv->inflight, 1);
}

void handle_write_done(request *r)
{
    outcome *o = &r->oc;
    /* With hide_existence, a stored item the client may not touch is answered
     * as absent (a record-level denial, not a claim-set one). */
    if (o->status == 403 && r->srv->cfg.hide_existence && r->w.op != OP_UPSERT && o->type &&
        strcmp(o->type, "urn:ed-fi:api:security:authorization:access-denied:resource") &&
        strcmp(o->type, "urn:ed-fi:api:security:authorization:access-denied:action")) {
        not_found_item(r);
        return;
    }
    if (o->status >= 400) {
        req_problem(r, o);
        return;
    }
    r->status = o->status;
    etag_header(r, o->etag);
    const char *loc = arena_printf(&r->a, "%s/data/v3/%s/%s/%s", req_base_url(r), r->res->project_endpoint,
                                   r->res->endpoint, o->id);
    if (r->w.op != OP_DELETE) req_header(r, "Location", loc);
    else r->nheaders = 0;
}

static void submit_write(request *r, write_op op, const route *rt)
{
    wreq *w = &r->w;
    w->m = r->srv->m;
    w->r = r->res;
    w->a = &r->a;
    w->op = op;
    w->id = op == OP_UPSERT ? NULL : arena_strdup(&r->a, rt->id);
    w->if_match = req_get_header(r, "If-Match");
    w->if_none_match = req_get_header(r, "If-None-Match");
    w->owner = arena_strdup(&r->a, r->client->key);
    w->out = &r->oc;
    w->profile = op == OP_DELETE ? NULL : r->profile;
    if (op != OP_DELETE) {
        if (!content_type_ok(r)) return;
        if (!engine_prepare(w, r->body.data ? r->body.data : "", r->body.len)) {
            req_problem(r, &r->oc);
            return;
        }
    }
    /* Count first, then check: api_stop sets stopping, then waits for
     * inflight to drain, so a write either backs out here or is waited for. */
    atomic_fetch_add(&r->srv->inflight, 1);
    if (atomic_load(&r->srv->stopping)) {
        atomic_fetch_sub(&r->srv->inflight, 1);
        req_simple_problem(r, 503, "urn:ed-fi:api:service-unavailable", "Service Unavailable",
                           "The server is shutting down; retry shortly.", NULL);
        return;
    }
    r->state = ST_SUSPENDED;
    r->suspended = true;
    MHD_suspend_connection(r->conn);
    const uuid_t16 *keys;
    int nkeys = engine_keys(w, &keys);
    if (store_submit_keyed(r->s, engine_write_job, write_done, &r->w, keys, nkeys) != ERR_OK) {
        r->state = ST_READING;
        r->suspended = false;
        MHD_resume_connection(r->conn);
        atomic_fetch_sub(&r->srv->inflight, 1);
        req_simple_problem(r, 503, "urn:ed-fi:api:service-unavailable", "Service Unavailable",
                           "The server is shutting down; retry shortly.", NULL);
    }
}

void handle_data(request *r, const route *rt)
{
    if (!req_authenticate_instance(r)) return;
    r->res = model_find(r->srv->m, rt->project, rt->endpoint);
    if (!r->res) {
        req_simple_problem(r, 404, "urn:ed-fi:api:not-found", "Not Found", "The specified data could not be found.", NULL);
        return;
    }
    const char *m = r->method;
    bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), put = !strcmp(m, "PUT"), del = !strcmp(m, "DELETE");
    if (rt->kind == RT_BAD_ID) {
        if (!get && !put && !del) {
            method_not_allowed(r, "GET, PUT, DELETE", "Resource items can only be updated using PUT. To 'upsert' an item in the resource collection using POST, remove the 'id' from the route.");
            return;
        }
        outcome o = {0};
        outcome_problem(&o, 400, "urn:ed-fi:api:bad-request:data-validation-failed", "Data Validation Failed",
                        "Data validation failed. See 'validationErrors' for details.", NULL);
        o.validation = json_object_new_object();
        json_object *arr = json_object_new_array();
        char msg[160];
        snprintf(msg, sizeof msg, "The value '%s' is not valid.", rt->raw_id);
        json_object_array_add(arr, json_object_new_string(msg));
        json_object_object_add(o.validation, "$.id", arr);
        req_problem(r, &o);
        outcome_free(&o);
        return;
    }
    if (rt->kind == RT_PARTITIONS || rt->kind == RT_DELETES || rt->kind == RT_KEY_CHANGES) {
        if (!get) {
            method_not_allowed(r, "GET", "The endpoint of the request does not support this method.");
            return;
        }
        bool changes = rt->kind != RT_PARTITIONS;
        authz_plan *az = plan(r, changes ? SEC_READ_CHANGES : SEC_READ, true);
        if (az && changes) get_changes(r, az, rt->kind == RT_KEY_CHANGES);
        else if (az) get_partitions(r);
        return;
    }
    /* Profiles apply to reading and writing items and collections (not to
     * DELETE, partitions or change queries). */
    if ((rt->kind == RT_COLLECTION && (get || post)) || (rt->kind == RT_ITEM && (get || put)))
        if (!request_profile(r)) return;
    if (rt->kind == RT_COLLECTION) {
        if (get) {
            authz_plan *az = plan(r, SEC_READ, true);
            if (az) get_list(r, az);
        } else if (post) {
            /* Create or update is known only in the job: plan both, and
             * refuse now only if neither is possible. */
            authz_plan *c = plan(r, SEC_CREATE, false), *u = plan(r, SEC_UPDATE, false);
            if (c->status && (u->status || c->status == 500)) {
                req_simple_problem(r, c->status, c->type, c->title, c->detail, c->error);
                return;
            }
            r->w.az_create = c;
            r->w.az_update = u;
            submit_write(r, OP_UPSERT, rt);
        } else if (put) {
            method_not_allowed(r, "GET, POST", "Resource collections cannot be replaced. To 'upsert' an item in the collection, use POST. To update a specific item, use PUT and include the 'id' in the route.");
        } else if (del) {
            method_not_allowed(r, "GET, POST", "Resource collections cannot be deleted. To delete a specific item, use DELETE and include the 'id' in the route.");
        } else {
            char msg[128];
            snprintf(msg, sizeof msg, "The endpoint of the request does not support the '%.20s' method.", m);
            method_not_allowed(r, "GET, POST", msg);
        }
        return;
    }
    /* item */
    if (get) {
        authz_plan *az = plan(r, SEC_READ, true);
        if (az) get_item(r, rt, az);
    } else if (put) {
        if (!(r->w.az_update = plan(r, SEC_UPDATE, true))) return;
        submit_write(r, OP_PUT, rt);
    } else if (del) {
        if (!(r->w.az_delete = plan(r, SEC_DELETE, true))) return;
        submit_write(r, OP_DELETE, rt);
    } else if (post) {
        method_not_allowed(r, "GET, PUT, DELETE", "Resource items can only be updated using PUT. To 'upsert' an item in the resource collection using POST, remove the 'id' from the route.");
    } else {
        char msg[128];
        snprintf(msg, sizeof msg, "The endpoint of the request does not support the '%.20s' method.", m);
        method_not_allowed(r, "GET, PUT, DELETE", msg);
    }
}
