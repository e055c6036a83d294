/* libmicrohttpd glue: per-request arena, body accumulation with a cap,
 * dispatch, response building, suspend/resume around store writes. */
#include "api_int.h"
#include "../base/jsonx.h"
#include "../base/log.h"
#include "../base/timefmt.h"
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
    if (r->srv->cfg.public_url) return r->srv->cfg.public_url;
    const char *host = req_get_header(r, "Host");
    char fallback[80];
    if (!host || !*host || strpbrk(host, " \"<>\\{}|^`")) {
        snprintf(fallback, sizeof fallback, "%s:%d", r->srv->cfg.listen_addr, r->srv->cfg.port);
        host = fallback;
    }
    return arena_printf(&r->a, "http://%s", host);
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

static bool is_batch_url(const char *url) { return !strcmp(url, "/edhub/v1/batch"); }

static request *request_new(api_server *srv, struct MHD_Connection *c, const char *method, const char *url)
{
    request *r = xcalloc(1, sizeof *r);
    r->srv = srv;
    r->conn = c;
    arena_init(&r->a, 16384);
    r->method = arena_strdup(&r->a, method);
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
    if (is_batch_url(r->url)) {
        handle_batch(r);
        return;
    }
    route rt;
    route_parse(r->url, &rt);
    bool get = !strcmp(r->method, "GET");
    switch (rt.kind) {
    case RT_ROOT:
        if (get) handle_discovery(r);
        else goto not_allowed;
        return;
    case RT_HEALTH:
        if (!get) goto not_allowed;
        /* For load balancers: the process answers and the store is readable. */
        r->status = store_healthy(r->srv->s) ? 200 : 503;
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

err_t api_start(const api_config *cfg, const model *m, store *s, auth *au, api_server **out, char *err, size_t errlen)
{
    api_server *srv = xcalloc(1, sizeof *srv);
    srv->cfg = *cfg;
    if (srv->cfg.threads <= 0) srv->cfg.threads = 4;
    if (!srv->cfg.max_body) srv->cfg.max_body = 4u << 20;
    srv->m = m;
    srv->s = s;
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
    free(srv->dependencies);
    free(srv->dependencies_graphml);
    free(srv->openapi_resources);
    free(srv->openapi_descriptors);
    free(srv);
}
