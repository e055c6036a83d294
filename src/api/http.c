/* libmicrohttpd glue: per-request arena, body accumulation with a cap,
 * dispatch, response building, suspend/resume around store writes. */
#include "api_int.h"
#include "../base/jsonx.h"
#include "../base/log.h"
#include "../base/timefmt.h"
#include "../deploy/snapshots.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static atomic_ullong next_correlation = 1;

void req_header(request *r, const char *name, const char *value)
{
    if (r->nheaders < MAX_HEADERS) {
        r->hname[r->nheaders] = name;
        r->hval[r->nheaders++] = arena_strdup(&r->a, value);
    }
}

const char *req_get_header(request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_base_url(request *r)
{
    const char *root = r->root ? r->root : "";
    if (r->srv->cfg.public_url) return arena_printf(&r->a, "%s%s", r->srv->cfg.public_url, root);
    const char *host = req_get_header(r, "Host");
    char fallback[80];
    if (!host || !*host || strpbrk(host, " \"<>\\{}|^`")) {
        snprintf(fallback, sizeof fallback, "%s:%d", r->srv->cfg.listen_addr, r->srv->cfg.port);
        host = fallback;
    }
    return arena_printf(&r->a, "http://%s%s", host, root);
}

void req_problem_json(request *r, buf *out, const outcome *o)
{
    buf_puts(out, "{\"detail\":");
    buf_json_str(out, o->detail ? o->detail : "");
    buf_puts(out, ",\"type\":");
    buf_json_str(out, o->type ? o->type : "urn:ed-fi:api:system");
    buf_puts(out, ",\"title\":");
    buf_json_str(out, o->title ? o->title : "Error");
    buf_printf(out, ",\"status\":%d,\"correlationId\":", o->status);
    buf_json_str(out, r->correlation);
    if (o->status != 401) {
        buf_puts(out, ",\"validationErrors\":");
        buf_puts(out, o->validation ? jsonx_text(o->validation) : "{}");
    }
    buf_puts(out, ",\"errors\":");
    buf_puts(out, o->errors ? jsonx_text(o->errors) : "[]");
    buf_putc(out, '}');
}

void req_problem(request *r, const outcome *o)
{
    buf_reset(&r->out);
    req_problem_json(r, &r->out, o);
    r->status = o->status;
    r->content_type = "application/problem+json";
    if (o->allow) req_header(r, "Allow", o->allow);
}

void req_simple_problem(request *r, int status, const char *type, const char *title, const char *detail,
                        const char *error)
{
    outcome o = {0};
    outcome_problem(&o, status, type, title, detail, error);
    req_problem(r, &o);
    outcome_free(&o);
}

static bool is_batch_url(const char *url)
{
    size_t n = strlen(url), k = strlen("/edhub/v1/batch");
    return n >= k && !strcmp(url + n - k, "/edhub/v1/batch");
}

/* Routes that exist once per deployment, not per instance: under a
 * context template they answer with or without the context segments. */
static bool instance_free(route_kind k)
{
    return k == RT_ROOT || k == RT_METADATA || k == RT_OPENAPI_RESOURCES || k == RT_OPENAPI_DESCRIPTORS ||
           k == RT_DEPENDENCIES || k == RT_TOKEN || k == RT_TOKEN_INFO;
}

/* Splits r->url into the tenant segment, the context segments of the
 * route template and the rest (r->path), as ODS/API 7.3 routes
 * {tenant}/{context}/data/v3/... (integration.md §6.2-6.3). False with
 * the 404 sent for an unknown tenant. */
static bool split_root(request *r)
{
    const api_config *c = &r->srv->cfg;
    const char *p = r->url;
    const char *tenant = "";
    r->path = p;
    r->root = "";
    if (c->tenant) {
        size_t n = *p == '/' ? strcspn(p + 1, "/?") : 0;
        if (n != strlen(c->tenant) || strncasecmp(p + 1, c->tenant, n)) {
            const char *msg = arena_printf(&r->a, "The selected tenant '%.*s' does not exist. Check the tenant name and try again.",
                                           (int)(n > 100 ? 100 : n), p + 1);
            req_simple_problem(r, 404, "urn:ed-fi:api:not-found", "Not Found", msg, msg);
            return false;
        }
        tenant = arena_printf(&r->a, "/%.*s", (int)n, p + 1);
        p += 1 + n;
        r->path = *p ? p : "/";
        r->root = tenant;
    }
    const route_template *t = c->route_template;
    if (!t || !t->nkeys) return true;
    route rt0;
    route_parse(r->path, &rt0);
    const char *rest;
    if (!instance_free(rt0.kind) && route_template_match(t, r->path, r->ctx, &rest)) {
        r->root = arena_printf(&r->a, "%s%.*s", tenant, (int)(rest - r->path), r->path);
        r->path = *rest ? rest : "/";
        r->has_context = true;
        return true;
    }
    /* Unresolved: the discovery document shows the template itself. */
    char tpl[INST_MAX_KEYS * (INST_KEY_MAX + 3) + 1];
    route_template_text(t, tpl, sizeof tpl);
    r->root = arena_printf(&r->a, "%s/%s", tenant, tpl);
    return true;
}

struct snap_open {
    store *live;                /* the instance's own store: its identity across reloads */
    char name[SNAP_NAME_MAX + 1];
    store *s;
};

/* The store of a registered snapshot, opened on first use; NULL when its
 * file cannot be opened. */
static store *snapshot_store(api_server *srv, const instance_def *inst, store *live, const snapshot_def *d)
{
    store *s = NULL;
    pthread_mutex_lock(&srv->snap_mu);
    for (int i = 0; i < srv->nsnaps && !s; i++)
        if (srv->snaps[i].live == live && !strcmp(srv->snaps[i].name, d->name)) s = srv->snaps[i].s;
    if (!s) {
        char file[1200], err[512] = "";
        snapshot_location(inst->dir, d->name, file, sizeof file);
        store_opts so = {.readers = 2, .read_only = true};
        bool pg = !strncmp(file, "postgres", 8);
        if ((pg || access(file, R_OK) == 0) && store_open(file, &so, &s, err, sizeof err) == ERR_OK) {
            srv->snaps = xrealloc(srv->snaps, sizeof *srv->snaps * (size_t)(srv->nsnaps + 1));
            srv->snaps[srv->nsnaps].live = live;
            snprintf(srv->snaps[srv->nsnaps].name, sizeof srv->snaps[0].name, "%s", d->name);
            srv->snaps[srv->nsnaps++].s = s;
        } else {
            log_warn("snapshot %s of instance %s cannot be opened: %s", d->name, inst->name,
                     *err ? err : "its file is missing");
            s = NULL;
        }
    }
    pthread_mutex_unlock(&srv->snap_mu);
    return s;
}

static bool header_true(const char *v)
{
    while (v && *v == ' ') v++;
    return v && (!strncasecmp(v, "true", 4) || !strcmp(v, "1"));
}

/* Points r->s at the snapshot the request asks for, if any, as ODS/API
 * does (integration.md §1.7): Use-Snapshot: true is the newest snapshot
 * of the instance, Snapshot-Identifier a named one. False with the
 * problem sent. */
static bool choose_snapshot(request *r)
{
    const char *use = req_get_header(r, "Use-Snapshot"), *sid = req_get_header(r, "Snapshot-Identifier");
    if (!use && !sid) return true;
    if (strcmp(r->method, "GET") && strcmp(r->method, "OPTIONS")) {
        outcome o = {0};
        outcome_problem(&o, 405, "urn:ed-fi:api:snapshots:method-not-allowed", "Method Not Allowed",
                        "Snapshots are read-only: only GET requests are allowed on a snapshot.",
                        "Remove the Use-Snapshot or Snapshot-Identifier header to write to the live data.");
        o.allow = "GET";
        req_problem(r, &o);
        outcome_free(&o);
        return false;
    }
    if (!sid && !header_true(use)) return true; /* Use-Snapshot: false means the live data */
    const instance_def *inst = &r->insts->defs[r->instance];
    snapshot_def d;
    err_t e = sid ? snapshots_get(r->srv->cfg.admin, inst->name, sid, &d) : snapshots_newest(r->srv->cfg.admin, inst->name, &d);
    if (!e && d.retired) {
        req_simple_problem(r, 410, "urn:ed-fi:api:snapshots:gone", "Gone", "Snapshot not available.",
                           arena_printf(&r->a, "The snapshot '%s' was removed; ask for a newer one (GET "
                                               "/changeQueries/v1/snapshots).", d.name));
        return false;
    }
    store *s = e ? NULL : snapshot_store(r->srv, inst, r->insts->stores[r->instance], &d);
    if (!s) {
        req_simple_problem(r, 404, "urn:ed-fi:api:not-found", "Not Found", "Snapshot not found.",
                           sid ? "No snapshot has this Snapshot-Identifier (GET /changeQueries/v1/snapshots lists them)."
                               : "This ODS instance has no snapshot yet (take one with: edhub snapshot create).");
        return false;
    }
    r->s = s;
    return true;
}

bool req_authenticate_instance(request *r)
{
    if (!req_authenticate(r)) return false;
    const api_config *c = &r->srv->cfg;
    static const route_template no_template;
    const route_template *t = c->route_template ? c->route_template : &no_template;
    int idx = -1;
    select_result sr = SEL_NO_MATCH;
    if (!t->nkeys || r->has_context)
        sr = instance_select(r->insts->defs, r->insts->n, (const char *const *)r->client->instances, r->client->ninstances,
                             t, r->ctx, &idx);
    if (sr == SEL_OK) {
        r->s = r->insts->stores[idx];
        r->instance = idx;
        return choose_snapshot(r);
    }
    if (sr == SEL_NO_INSTANCE) {
        req_simple_problem(r, 403, "urn:ed-fi:api:security:authorization", "Authorization Denied",
                           "Access to the requested data could not be authorized.",
                           "The API client has not been associated with an ODS instance.");
        return false;
    }
    buf vals;
    buf_init(&vals, 0);
    for (int i = 0; r->has_context && i < t->nkeys; i++) buf_printf(&vals, "%s%s: %s", i ? ", " : "", t->key[i], r->ctx[i]);
    const char *msg = arena_printf(&r->a, "No ODS instance matching the available route values was found. Route values were: [%s]",
                                   vals.data ? vals.data : "");
    buf_free(&vals);
    req_simple_problem(r, 404, "urn:ed-fi:api:not-found", "Not Found", "The specified data could not be found.", msg);
    return false;
}

static request *request_new(api_server *srv, struct MHD_Connection *c, const char *method, const char *url)
{
    request *r = xcalloc(1, sizeof *r);
    r->srv = srv;
    r->conn = c;
    arena_init(&r->a, 16384);
    r->method = arena_strdup(&r->a, method);
    r->insts = atomic_load_explicit(&srv->insts, memory_order_acquire);
    r->url = arena_strdup(&r->a, url);
    buf_init(&r->body, is_batch_url(url) ? BATCH_MAX_BODY : srv->cfg.max_body);
    buf_init(&r->out, 0);
    r->content_type = "application/json";
    snprintf(r->correlation, sizeof r->correlation, "%llx", (unsigned long long)atomic_fetch_add(&next_correlation, 1));
    if (srv->cfg.access_log) clock_gettime(CLOCK_MONOTONIC, &r->started);
    return r;
}

static void request_free(request *r)
{
    auth_client_release(r->client);
    engine_release(&r->w);
    outcome_free(&r->oc);
    buf_free(&r->body);
    buf_free(&r->out);
    arena_free(&r->a);
    free(r);
}

static enum MHD_Result send_response(request *r)
{
    struct MHD_Response *resp;
    if (r->status == 204 || r->status == 304 || (r->out.len == 0 && r->status != 200)) {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        size_t len = r->out.len;
        char *data = buf_take(&r->out);
        resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
        if (!resp) free(data);
    }
    if (!resp) return MHD_NO;
    if (r->status != 204 && r->status != 304) MHD_add_response_header(resp, "Content-Type", r->content_type);
    for (int i = 0; i < r->nheaders; i++) MHD_add_response_header(resp, r->hname[i], r->hval[i]);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void dispatch(request *r)
{
    if (!strncmp(r->url, "/adminapi", 9) && (!r->url[9] || r->url[9] == '/' || r->url[9] == '?')) {
        handle_admin(r);
        return;
    }
    route rt;
    if (!strcmp(r->url, "/health")) {
        rt.kind = RT_HEALTH;
        goto dispatch;
    }
    if (!split_root(r)) return;
    if (!strcmp(r->path, "/edhub/v1/batch")) {
        handle_batch(r);
        return;
    }
    route_parse(r->path, &rt);
dispatch:;
    bool get = !strcmp(r->method, "GET");
    switch (rt.kind) {
    case RT_ROOT:
        if (get) handle_discovery(r);
        else goto not_allowed;
        return;
    case RT_HEALTH:
        if (!get) goto not_allowed;
        /* For load balancers: the process answers and every store is readable. */
        r->status = 200;
        for (int i = 0; i < r->insts->n; i++)
            if (!store_healthy(r->insts->stores[i])) r->status = 503;
        buf_puts(&r->out, r->status == 200 ? "{\"status\":\"Healthy\"}" : "{\"status\":\"Unhealthy\"}");
        return;
    case RT_METADATA:
    case RT_OPENAPI_RESOURCES:
    case RT_OPENAPI_DESCRIPTORS:
    case RT_DEPENDENCIES:
        if (get) handle_metadata(r, rt.kind);
        else goto not_allowed;
        return;
    case RT_TOKEN:
        handle_token(r);
        return;
    case RT_TOKEN_INFO:
        if (!strcmp(r->method, "POST")) handle_token_info(r);
        else {
            outcome o = {0};
            outcome_problem(&o, 405, "urn:ed-fi:api:method-not-allowed", "Method Not Allowed",
                            "The request construction was invalid.", "The token_info endpoint only supports POST.");
            o.allow = "POST";
            req_problem(r, &o);
            outcome_free(&o);
        }
        return;
    case RT_CHANGE_VERSIONS:
        if (get) handle_change_versions(r);
        else goto not_allowed;
        return;
    case RT_SNAPSHOTS:
        if (get) handle_snapshots(r);
        else goto not_allowed;
        return;
    case RT_COLLECTION:
    case RT_ITEM:
    case RT_PARTITIONS:
    case RT_DELETES:
    case RT_KEY_CHANGES:
    case RT_BAD_ID:
        handle_data(r, &rt);
        return;
    case RT_NOT_FOUND:
        break;
    }
    req_simple_problem(r, 404, "urn:ed-fi:api:not-found", "Not Found", "The specified data could not be found.", NULL);
    return;
not_allowed: {
    char msg[160];
    snprintf(msg, sizeof msg, "The endpoint of the request does not support the '%.20s' method.", r->method);
    outcome o = {0};
    outcome_problem(&o, 405, "urn:ed-fi:api:method-not-allowed", "Method Not Allowed", "The request construction was invalid.", msg);
    o.allow = rt.kind == RT_TOKEN ? "POST" : "GET";
    req_problem(r, &o);
    outcome_free(&o);
}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    api_server *srv = cls;
    request *r = *con_cls;
    if (!r) {
        r = request_new(srv, c, method, url);
        *con_cls = r;
        r->state = ST_READING;
        /* Refuse an announced oversized body before reading it. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > r->body.max) r->too_large = true;
        if (!r->too_large) return MHD_YES;
    }
    if (r->suspended) {
        if (atomic_load(&r->state) != ST_RESUMED) return MHD_YES;
        r->suspended = false;
        if (r->batch) handle_batch_done(r);
        else handle_write_done(r);
        return send_response(r);
    }
    if (*upload_size) {
        if (!r->too_large && !buf_append(&r->body, upload, *upload_size)) r->too_large = true;
        *upload_size = 0;
        if (!r->too_large) return MHD_YES;
    }
    if (r->too_large) {
        char msg[160];
        snprintf(msg, sizeof msg, "The request body is larger than the limit of %zu bytes.", r->body.max);
        req_simple_problem(r, 413, "urn:ed-fi:api:bad-request:payload-too-large", "Payload Too Large",
                           "The request could not be processed. See 'errors' for details.", msg);
        return send_response(r);
    }
    dispatch(r);
    /* r->suspended, not r->state: the writer may already have resumed. */
    if (r->suspended) return MHD_YES;
    return send_response(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls, (void)c, (void)t;
    request *r = *con_cls;
    if (r && r->srv->cfg.access_log) {
        /* method path status milliseconds client correlation-id; stdio
         * locks the stream, so lines from different threads stay whole. */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        char ts[21];
        time_now_iso(ts);
        double ms = (double)(now.tv_sec - r->started.tv_sec) * 1e3 + (double)(now.tv_nsec - r->started.tv_nsec) / 1e6;
        fprintf(r->srv->cfg.access_log, "%s %s %s %d %.3f %s %s%s\n", ts, r->method, r->url, r->status, ms,
                r->client_key ? r->client_key : "-", r->correlation,
                t == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
    }
    if (r) request_free(r);
    *con_cls = NULL;
}

static int hexdigit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decoding of the path and of each query name and value. A bad
 * escape turns the whole string into BAD_ESCAPE, which the router (404)
 * and the query reader (400) recognise. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p != '%') {
            *o++ = *p;
            continue;
        }
        int h = hexdigit(p[1]), l = h >= 0 ? hexdigit(p[2]) : -1;
        if (h < 0 || l < 0 || (h == 0 && l == 0)) {
            strcpy(s, BAD_ESCAPE);
            return strlen(s);
        }
        *o++ = (char)(h << 4 | l);
        p += 2;
    }
    *o = 0;
    return (size_t)(o - s);
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = 0;
    log_warn("http: %s", msg);
}

err_t api_start(const api_config *cfg, const model *m, auth *au, api_server **out, char *err, size_t errlen)
{
    api_server *srv = xcalloc(1, sizeof *srv);
    srv->cfg = *cfg;
    if (srv->cfg.threads <= 0) srv->cfg.threads = 4;
    if (!srv->cfg.max_body) srv->cfg.max_body = 4u << 20;
    srv->m = m;
    pthread_mutex_init(&srv->snap_mu, NULL);
    pthread_mutex_init(&srv->reload_mu, NULL);
    inst_set *first = xcalloc(1, sizeof *first);
    first->n = cfg->ninstances;
    first->defs = xcalloc((size_t)first->n + 1, sizeof *first->defs);
    first->stores = xcalloc((size_t)first->n + 1, sizeof *first->stores);
    memcpy(first->defs, cfg->instances, sizeof *first->defs * (size_t)first->n);
    memcpy(first->stores, cfg->stores, sizeof *first->stores * (size_t)first->n);
    atomic_init(&srv->insts, first);
    srv->au = au;
    srv->dependencies = model_dependencies_json(m);
    srv->dependencies_graphml = model_dependencies_graphml(m);
    srv->openapi_resources = openapi_build(m, false);
    srv->openapi_descriptors = openapi_build(m, true);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, cfg->listen_addr, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "bad listen address '%s' (use an IPv4 address such as 127.0.0.1)", cfg->listen_addr);
        goto fail;
    }
    srv->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                              (uint16_t)cfg->port, NULL, NULL, on_request, srv,
                              MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
                              MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                              MHD_OPTION_END);
    if (!srv->d) {
        snprintf(err, errlen, "cannot listen on %s:%d (is the port in use? choose another with --listen)",
                 cfg->listen_addr, cfg->port);
        goto fail;
    }
    *out = srv;
    return ERR_OK;
fail:
    free(srv->dependencies);
    free(srv->dependencies_graphml);
    free(srv->openapi_resources);
    free(srv->openapi_descriptors);
    free(srv);
    return ERR_IO;
}

static bool same_routing(const instance_def *a, const instance_def *b)
{
    if (strcmp(a->type, b->type) || strcmp(a->dir, b->dir) || a->nctx != b->nctx) return false;
    for (int i = 0; i < a->nctx; i++)
        if (strcmp(a->ctx_key[i], b->ctx_key[i]) || strcmp(a->ctx_val[i], b->ctx_val[i])) return false;
    return true;
}

void api_reload_instances(api_server *srv, const instance_def *defs, int n,
                          store *(*open)(const instance_def *d, bool create, void *ctx), void *ctx, int *added,
                          int *removed)
{
    pthread_mutex_lock(&srv->reload_mu);
    inst_set *cur = atomic_load(&srv->insts);
    inst_set *next = xcalloc(1, sizeof *next);
    next->defs = xcalloc((size_t)n + 1, sizeof *next->defs);
    next->stores = xcalloc((size_t)n + 1, sizeof *next->stores);
    *added = *removed = 0;
    bool changed = false;
    /* Instances kept first, in their order (Admin API ids move as little as
     * they can), then the new ones. */
    for (int i = 0; i < cur->n; i++) {
        int k = -1;
        for (int j = 0; j < n && k < 0; j++)
            if (!strcasecmp(cur->defs[i].name, defs[j].name) && !strcmp(cur->defs[i].uid, defs[j].uid)) k = j;
        if (k < 0) {
            (*removed)++; /* its store stays open until api_stop: requests may still use it */
            changed = true;
            continue;
        }
        changed |= !same_routing(&cur->defs[i], &defs[k]);
        next->defs[next->n] = defs[k];
        next->stores[next->n++] = cur->stores[i];
    }
    for (int j = 0; j < n; j++) {
        bool known = false; /* the same name and registration: served already */
        for (int i = 0; i < cur->n && !known; i++)
            known = !strcasecmp(cur->defs[i].name, defs[j].name) && !strcmp(cur->defs[i].uid, defs[j].uid);
        if (known) continue;
        store *s = open(&defs[j], false, ctx);
        if (!s) continue;
        srv->opened = xrealloc(srv->opened, sizeof *srv->opened * (size_t)(srv->nopened + 1));
        srv->opened[srv->nopened++] = s;
        next->defs[next->n] = defs[j];
        next->stores[next->n++] = s;
        (*added)++;
        changed = true;
    }
    if (changed) {
        next->older = cur;
        atomic_store_explicit(&srv->insts, next, memory_order_release);
    } else {
        free(next->defs);
        free(next->stores);
        free(next);
    }
    pthread_mutex_unlock(&srv->reload_mu);
}

bool api_refresh_instances(api_server *srv, int *added, int *removed)
{
    *added = *removed = 0;
    if (!srv->cfg.deploy_dir || !srv->cfg.open_instance) return false;
    instance_def *now = NULL;
    int n = 0;
    if (instances_list(srv->cfg.admin, srv->cfg.deploy_dir, &now, &n) != ERR_OK) return false;
    api_reload_instances(srv, now, n, srv->cfg.open_instance, srv->cfg.open_ctx, added, removed);
    free(now);
    return true;
}

void api_stop(api_server *srv)
{
    if (!srv) return;
    /* Suspended writes complete through the store before the daemon goes
     * away (the caller closes the store after this). No MHD_quiesce_daemon:
     * with the epoll thread pool, libmicrohttpd 0.9.75 can abort in
     * MHD_stop_daemon after it ("Failed to remove listen FD from epoll set"). */
    atomic_store(&srv->stopping, true);
    for (int i = 0; i < 3000 && atomic_load(&srv->inflight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(srv->d);
    for (int i = 0; i < srv->nsnaps; i++) store_close(srv->snaps[i].s);
    free(srv->snaps);
    pthread_mutex_destroy(&srv->snap_mu);
    for (int i = 0; i < srv->nopened; i++) store_close(srv->opened[i]);
    free(srv->opened);
    for (inst_set *set = atomic_load(&srv->insts), *next; set; set = next) {
        next = set->older;
        free(set->defs);
        free(set->stores);
        free(set);
    }
    pthread_mutex_destroy(&srv->reload_mu);
    free(srv->dependencies);
    free(srv->dependencies_graphml);
    free(srv->openapi_resources);
    free(srv->openapi_descriptors);
    free(srv);
}
