/* Loading into an Ed-Fi API over HTTP; see remote.h. */
#include "remote.h"
#include "apiconn.h"
#include "../base/arena.h"
#include "../base/buf.h"
#include "../base/jsonx.h"
#include "../model/document.h"
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* A batch request holds at most this many bytes of JSON lines (the server
 * takes 64 MiB). */
#define MAX_BATCH_BYTES (8u << 20)
/* Longest answer read (a batch of 10,000 results with problems fits). */
#define MAX_RESPONSE (64u << 20)
#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 300L /* as the Bulk Load Client */
#define BACKOFF_FIRST_S 0.25
#define BACKOFF_MAX_S 4.0
#define RETRY_AFTER_MAX_S 60.0

/* One record on its way. */
typedef struct rec {
    struct rec *next;
    const mresource *r;
    const char *file;         /* interned in the remote */
    long line;
    char *json;
    size_t len;
    int attempts;             /* requests that carried it so far */
    bool reauth;              /* already sent again after a 401 */
    int status;               /* last answer; 0: no answer (connection error) */
    json_object *problem;     /* last problem+json (owned), or NULL */
    double not_before;        /* a retry waits until then (monotonic seconds) */
} rec;

typedef struct rec_list {
    rec *head, *tail;
    long n;
    size_t bytes;
} rec_list;

typedef struct xfer {
    CURL *h;
    rec **recs;               /* what the request carries, in body order */
    int nrecs, cap;
    buf body;                 /* batch: the JSON lines sent */
    buf resp;
    struct curl_slist *hdrs;
    double retry_after;       /* seconds, from a Retry-After header; 0: none */
    int token_gen;            /* the token the request carried */
    bool busy;
    char errbuf[CURL_ERROR_SIZE];
} xfer;

struct remote {
    const model *m;
    remote_opts o;
    load_stats *st;
    api_conn c;               /* discovery, token, blocking requests */
    char batch_url[600];
    bool batch;
    CURLM *multi;
    xfer *xf;
    int nxf, active;
    rec_list queue;           /* to send now */
    rec_list retry;           /* to send again once the queue and the transfers are done */
    char **urls;              /* per resource index: its POST URL */
    char **files;
    int nfiles;
    double pause_until;       /* 429: nothing starts before then */
    bool flushing;            /* drain: send partial batches */
    char fatal[2048];
    long unsent;
};

void remote_global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }
void remote_global_cleanup(void) { curl_global_cleanup(); }

/* ---- lists ---- */

static void list_push(rec_list *l, rec *c)
{
    c->next = NULL;
    if (l->tail) l->tail->next = c;
    else l->head = c;
    l->tail = c;
    l->n++;
    l->bytes += c->len;
}

static rec *list_pop(rec_list *l)
{
    rec *c = l->head;
    if (!c) return NULL;
    l->head = c->next;
    if (!l->head) l->tail = NULL;
    l->n--;
    l->bytes -= c->len;
    c->next = NULL;
    return c;
}

static void rec_free(rec *c)
{
    json_object_put(c->problem);
    free(c->json);
    free(c);
}

static const char *intern_file(remote *rm, const char *file)
{
    for (int i = rm->nfiles - 1; i >= 0; i--)
        if (!strcmp(rm->files[i], file)) return rm->files[i];
    rm->files = xrealloc(rm->files, sizeof(char *) * (size_t)(rm->nfiles + 1));
    return rm->files[rm->nfiles++] = xstrdup(file);
}

/* ---- the report ---- */

/* The natural key of a record, computed by the model as the server would
 * ({"studentUniqueId":"604821"}), or NULL when the document does not
 * validate. */
static json_object *natural_key(const rec *c)
{
    json_object *body = json_tokener_parse(c->json), *key = NULL;
    if (!body) return NULL;
    verrors ve;
    verrors_init(&ve);
    json_object *doc = doc_normalize(c->r, body, &ve);
    if (doc) {
        arena a;
        arena_init(&a, 4096);
        docinfo di = {0};
        if (doc_extract(&a, c->r, doc, &di, &ve) && di.key_json) key = json_tokener_parse(di.key_json);
        arena_free(&a);
    }
    json_object_put(doc);
    verrors_free(&ve);
    json_object_put(body);
    return key;
}

/* One rejected record as a line of the error report: file, line, resource,
 * key, status and the members of the server's problem+json. */
static void reject(remote *rm, rec *c)
{
    rm->st->rejected++;
    if (!rm->o.errs) return;
    json_object *e = json_object_new_object();
    json_object_object_add(e, "file", json_object_new_string(c->file));
    json_object_object_add(e, "line", json_object_new_int64(c->line));
    json_object_object_add(e, "resource", json_object_new_string(c->r->path));
    json_object *key = natural_key(c);
    if (key) json_object_object_add(e, "key", key);
    json_object_object_add(e, "status", json_object_new_int(c->status));
    api_problem_into(e, c->problem);
    fprintf(rm->o.errs, "%s\n", jsonx_text(e));
    json_object_put(e);
}

static void set_problem(rec *c, int status, json_object *problem)
{
    c->status = status;
    json_object_put(c->problem);
    c->problem = problem;
}

/* ---- outcomes ---- */

static void stop(remote *rm, const char *fmt, const char *a, const char *b)
{
    if (rm->fatal[0]) return;
    snprintf(rm->fatal, sizeof rm->fatal, fmt, a, b);
}

/* A record's answer (its problem already set for failures). */
static void settle(remote *rm, rec *c, int status, double retry_after, const char *transport)
{
    if (status == 200 || status == 201) {
        if (status == 201) rm->st->created++;
        else rm->st->updated++;
        rec_free(c);
        return;
    }
    bool again = status == 0 || status == 409 || status == 429 || status >= 500;
    if (!again) {
        reject(rm, c);
        rec_free(c);
        return;
    }
    if (rm->fatal[0]) {
        rm->unsent++;
        rec_free(c);
        return;
    }
    if (c->attempts >= REMOTE_MAX_ATTEMPTS) {
        if (status == 0) { /* the API stays unreachable: nothing else will get through either */
            stop(rm, "lost the connection to the API at %s: %s (run the same load again later: it upserts)",
                 rm->batch ? rm->c.base : rm->c.data, transport ? transport : "no answer");
            rm->unsent++;
        } else {
            reject(rm, c);
        }
        rec_free(c);
        return;
    }
    double delay = 0;
    if (status == 429) {
        delay = retry_after > 0 ? retry_after : 1.0;
        if (api_now() + delay > rm->pause_until) rm->pause_until = api_now() + delay;
    } else if (status != 409) {
        delay = BACKOFF_FIRST_S;
        for (int i = 1; i < c->attempts && delay < BACKOFF_MAX_S; i++) delay *= 2;
        if (delay > BACKOFF_MAX_S) delay = BACKOFF_MAX_S;
    }
    c->not_before = api_now() + delay;
    list_push(&rm->retry, c);
}

static void renew_token(remote *rm)
{
    char err[768];
    if (!api_conn_token(&rm->c, err, sizeof err)) stop(rm, "%s%s", "cannot renew the API token: ", err);
}

/* ---- transfers ---- */

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    xfer *x = ctx;
    size_t len = size * n;
    char s[128], *end;
    if (api_header_value(p, len, "Retry-After", s, sizeof s)) {
        double secs = strtod(s, &end);
        if (end == s) { /* an HTTP date */
            time_t t = curl_getdate(s, NULL);
            secs = t > 0 ? difftime(t, time(NULL)) : 1.0;
        }
        if (secs < 0) secs = 0;
        x->retry_after = secs > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : secs;
    }
    return len;
}

static const char *url_of(remote *rm, const mresource *r)
{
    if (!rm->urls[r->index]) {
        size_t n = strlen(rm->c.data) + strlen(r->path) + 1;
        rm->urls[r->index] = xmalloc(n);
        snprintf(rm->urls[r->index], n, "%s%s", rm->c.data, r->path);
    }
    return rm->urls[r->index];
}

static void xfer_add(xfer *x, rec *c)
{
    if (x->nrecs == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 16;
        x->recs = xrealloc(x->recs, sizeof(rec *) * (size_t)x->cap);
    }
    x->recs[x->nrecs++] = c;
}

/* Starts what can start: one record per request, or a batch (a full one,
 * or what is left when draining). */
static void start_ready(remote *rm)
{
    while (!rm->fatal[0] && rm->queue.n && rm->active < rm->nxf && api_now() >= rm->pause_until) {
        if (rm->batch && !rm->flushing && rm->queue.n < rm->o.batch_size && rm->queue.bytes < MAX_BATCH_BYTES) return;
        if (rm->c.token_renew_at && api_now() >= rm->c.token_renew_at) {
            renew_token(rm);
            if (rm->fatal[0]) return;
        }
        xfer *x = NULL;
        for (int i = 0; i < rm->nxf && !x; i++)
            if (!rm->xf[i].busy) x = &rm->xf[i];
        x->nrecs = 0;
        x->retry_after = 0;
        x->errbuf[0] = 0;
        buf_reset(&x->resp);
        curl_slist_free_all(x->hdrs);
        char auth[1100];
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", rm->c.token);
        x->hdrs = curl_slist_append(NULL, auth);
        x->hdrs = curl_slist_append(x->hdrs, "Accept: application/json");
        x->hdrs = curl_slist_append(x->hdrs, "Expect:");
        x->token_gen = rm->c.token_gen;
        if (rm->batch) {
            buf_reset(&x->body);
            size_t bytes = 0;
            while (rm->queue.n && x->nrecs < rm->o.batch_size &&
                   (!x->nrecs || bytes + rm->queue.head->len < MAX_BATCH_BYTES)) {
                rec *c = list_pop(&rm->queue);
                bytes += c->len;
                buf_printf(&x->body, "{\"resource\":\"%s\",\"document\":", c->r->path);
                buf_append(&x->body, c->json, c->len);
                buf_puts(&x->body, "}\n");
                xfer_add(x, c);
            }
            x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/x-ndjson");
            curl_easy_setopt(x->h, CURLOPT_URL, rm->batch_url);
            curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body.data);
            curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body.len);
        } else {
            rec *c = list_pop(&rm->queue);
            xfer_add(x, c);
            x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/json");
            curl_easy_setopt(x->h, CURLOPT_URL, url_of(rm, c->r));
            curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, c->json);
            curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->len);
        }
        for (int i = 0; i < x->nrecs; i++) x->recs[i]->attempts++;
        curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
        x->busy = true;
        rm->active++;
        curl_multi_add_handle(rm->multi, x->h);
    }
}

/* A batch answer: each result goes to the record on its line. */
static void settle_batch(remote *rm, xfer *x)
{
    json_object *j = json_tokener_parse(x->resp.data ? x->resp.data : "");
    json_object *results = j ? jsonx_get(j, "results") : NULL;
    if (!json_object_is_type(results, json_type_array)) results = NULL;
    bool *seen = xcalloc((size_t)x->nrecs, sizeof *seen);
    for (size_t i = 0; results && i < json_object_array_length(results); i++) {
        json_object *it = json_object_array_get_idx(results, i);
        long line = (long)json_object_get_int64(jsonx_get(it, "line"));
        int status = json_object_get_int(jsonx_get(it, "status"));
        if (line < 1 || line > x->nrecs || seen[line - 1]) continue;
        if (status < 100 || status > 599) status = 502; /* not an answer: try again */
        seen[line - 1] = true;
        rec *c = x->recs[line - 1];
        json_object *p = jsonx_get(it, "problem");
        if (status >= 300) set_problem(c, status, p ? json_object_get(p) : api_problem_of("", 0, status));
        settle(rm, c, status, 0, NULL);
    }
    for (int i = 0; i < x->nrecs; i++) {
        if (seen[i]) continue;
        static const char missing[] = "the batch answer has no result for this record";
        set_problem(x->recs[i], 502, api_problem_of(missing, sizeof missing - 1, 502));
        settle(rm, x->recs[i], 502, 0, NULL);
    }
    free(seen);
    json_object_put(j);
}

static void finish(remote *rm, xfer *x, CURLcode result)
{
    long status = 0;
    if (result == CURLE_OK) curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(rm->multi, x->h);
    x->busy = false;
    rm->active--;
    if (status == 401) {
        /* An expired or revoked token: a new one (once per token), and the
         * records go again; a record refused twice is rejected. */
        if (x->token_gen == rm->c.token_gen) renew_token(rm);
        for (int i = 0; i < x->nrecs; i++) {
            rec *c = x->recs[i];
            if (c->reauth || rm->fatal[0]) {
                set_problem(c, 401, api_problem_of(x->resp.data, x->resp.len, 401));
                if (rm->fatal[0]) {
                    rm->unsent++;
                    rec_free(c);
                } else {
                    reject(rm, c);
                    rec_free(c);
                }
            } else {
                c->reauth = true;
                c->attempts--;
                list_push(&rm->queue, c);
            }
        }
    } else if (result != CURLE_OK) {
        char msg[CURL_ERROR_SIZE + 64];
        snprintf(msg, sizeof msg, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(result));
        for (int i = 0; i < x->nrecs; i++) {
            json_object *p = json_object_new_object();
            char detail[CURL_ERROR_SIZE + 1200];
            snprintf(detail, sizeof detail, "no answer from %s: %s", rm->batch ? rm->c.base : rm->c.data, msg);
            json_object_object_add(p, "detail", json_object_new_string(detail));
            set_problem(x->recs[i], 0, p);
            settle(rm, x->recs[i], 0, 0, msg);
        }
    } else if (rm->batch && status == 200) {
        settle_batch(rm, x);
    } else {
        for (int i = 0; i < x->nrecs; i++) {
            rec *c = x->recs[i];
            if (status >= 300) set_problem(c, (int)status, api_problem_of(x->resp.data, x->resp.len, (int)status));
            settle(rm, c, (int)status, x->retry_after, NULL);
        }
    }
    x->nrecs = 0;
    buf_reset(&x->body);
}

/* Runs the transfers; waits up to wait_ms for something to happen. */
static void pump(remote *rm, int wait_ms)
{
    int running = 0;
    if (wait_ms > 0) curl_multi_poll(rm->multi, NULL, 0, wait_ms, NULL);
    curl_multi_perform(rm->multi, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(rm->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        xfer *x = NULL;
        CURL *h = msg->easy_handle;
        CURLcode res = msg->data.result;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
        finish(rm, x, res);
    }
}

/* ---- the target ---- */

static void rm_put(void *ctx, const mresource *r, const char *json, size_t len, const char *file, long line)
{
    remote *rm = ctx;
    if (rm->fatal[0]) {
        rm->unsent++;
        return;
    }
    rec *c = xcalloc(1, sizeof *c);
    c->r = r;
    c->file = intern_file(rm, file);
    c->line = line;
    c->json = xmalloc(len + 1);
    memcpy(c->json, json, len);
    c->json[len] = 0;
    c->len = len;
    list_push(&rm->queue, c);
    start_ready(rm);
    pump(rm, 0);
    /* Back-pressure: at most one request's worth waits beside the ones in flight. */
    long unit = rm->batch ? rm->o.batch_size : rm->nxf;
    while (!rm->fatal[0] && (rm->active >= rm->nxf || api_now() < rm->pause_until) &&
           (rm->queue.n >= unit || rm->queue.bytes >= MAX_BATCH_BYTES)) {
        pump(rm, 200);
        start_ready(rm);
    }
    start_ready(rm);
}

static void rm_reject(void *ctx, const char *file, long line, const char *resource, int status, const char *detail)
{
    remote *rm = ctx;
    rm->st->rejected++;
    if (!rm->o.errs) return;
    json_object *e = json_object_new_object();
    json_object_object_add(e, "file", json_object_new_string(file));
    json_object_object_add(e, "line", json_object_new_int64(line));
    json_object_object_add(e, "resource", json_object_new_string(resource));
    json_object_object_add(e, "status", json_object_new_int(status));
    json_object_object_add(e, "type", json_object_new_string(status == 404 ? "urn:ed-fi:api:not-found"
                                                                            : "urn:ed-fi:api:bad-request"));
    json_object_object_add(e, "detail", json_object_new_string(detail));
    fprintf(rm->o.errs, "%s\n", jsonx_text(e));
    json_object_put(e);
}

/* Everything handed over is answered: the queue, the transfers, then the
 * retries (each once its backoff is over), until none is left. */
static void rm_drain(void *ctx)
{
    remote *rm = ctx;
    rm->flushing = true;
    for (;;) {
        start_ready(rm);
        if (rm->active) {
            pump(rm, 200);
            continue;
        }
        if (rm->fatal[0]) break;
        if (rm->queue.n) { /* paused by a 429 */
            double wait = rm->pause_until - api_now();
            pump(rm, wait > 0.2 ? 200 : wait > 0 ? (int)(wait * 1000) + 1 : 1);
            continue;
        }
        if (!rm->retry.n) break;
        double due = rm->retry.head->not_before;
        for (rec *c = rm->retry.head; c; c = c->next)
            if (c->not_before < due) due = c->not_before;
        double wait = due - api_now();
        if (wait > 0) {
            pump(rm, (int)(wait * 1000) + 1);
            continue;
        }
        /* The retries that are due go again, in the order they came. */
        rec_list later = {0};
        double t = api_now();
        rec *c;
        while ((c = list_pop(&rm->retry))) list_push(c->not_before <= t ? &rm->queue : &later, c);
        rm->retry = later;
    }
    rec *c;
    while ((c = list_pop(&rm->queue))) rm->unsent++, rec_free(c);
    while ((c = list_pop(&rm->retry))) rm->unsent++, rec_free(c);
    rm->flushing = false;
}

static bool rm_stopped(void *ctx) { return ((remote *)ctx)->fatal[0] != 0; }

void remote_set_errors(remote *rm, FILE *errs) { rm->o.errs = errs; }

void remote_target(remote *rm, load_target *t)
{
    *t = (load_target){.put = rm_put, .reject = rm_reject, .drain = rm_drain, .stopped = rm_stopped, .ctx = rm};
}

api_conn *remote_conn(remote *rm) { return &rm->c; }

const char *remote_stopped(const remote *rm, long *unsent)
{
    if (unsent) *unsent = rm->unsent;
    return rm->fatal[0] ? rm->fatal : NULL;
}

/* ---- opening ---- */

/* Whether the API has edhub's batch endpoint (an empty batch answers 200
 * with its results). */
static bool probe_batch(remote *rm)
{
    buf resp;
    buf_init(&resp, 1 << 20);
    char cerr[CURL_ERROR_SIZE + 64] = "";
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
    long status = api_conn_request(&rm->c, "POST", rm->batch_url, "", h, true, &resp, cerr, sizeof cerr);
    curl_slist_free_all(h);
    json_object *j = status == 200 ? json_tokener_parse(resp.data ? resp.data : "") : NULL;
    bool ok = j && json_object_is_type(jsonx_get(j, "results"), json_type_array);
    json_object_put(j);
    buf_free(&resp);
    return ok;
}

remote *remote_open(const model *m, const remote_opts *o, load_stats *st, char *err, size_t errlen)
{
    remote *rm = xcalloc(1, sizeof *rm);
    rm->m = m;
    rm->o = *o;
    rm->st = st;
    if (rm->o.connections <= 0) rm->o.connections = REMOTE_DEFAULT_CONNECTIONS;
    if (rm->o.batch_size <= 0) rm->o.batch_size = REMOTE_DEFAULT_BATCH;
    rm->c.cred_hint = o->cred_hint ? o->cred_hint
                                   : "--key K --secret S, or the environment variables EDHUB_KEY and EDHUB_SECRET";
    rm->c.cache = o->token_cache;
    if (!api_conn_open(&rm->c, o->url, o->flag ? o->flag : "--api", o->key, o->secret, m->project_version, o->log, err,
                       errlen)) {
        api_conn_close(&rm->c);
        free(rm);
        return NULL;
    }
    snprintf(rm->batch_url, sizeof rm->batch_url, "%s/edhub/v1/batch", rm->c.base);
    rm->batch = !o->no_batch && probe_batch(rm);
    rm->multi = curl_multi_init();
    rm->nxf = rm->o.connections;
    curl_multi_setopt(rm->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)rm->nxf);
    curl_multi_setopt(rm->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)rm->nxf);
    curl_multi_setopt(rm->multi, CURLMOPT_MAXCONNECTS, (long)rm->nxf);
    rm->xf = xcalloc((size_t)rm->nxf, sizeof *rm->xf);
    for (int i = 0; i < rm->nxf; i++) {
        xfer *x = &rm->xf[i];
        x->h = curl_easy_init();
        buf_init(&x->body, 0);
        buf_init(&x->resp, MAX_RESPONSE);
        curl_easy_setopt(x->h, CURLOPT_PRIVATE, (char *)x);
        curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(x->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
        curl_easy_setopt(x->h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
        curl_easy_setopt(x->h, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
        curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, api_on_body);
        curl_easy_setopt(x->h, CURLOPT_WRITEDATA, &x->resp);
        curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(x->h, CURLOPT_POST, 1L);
    }
    rm->urls = xcalloc((size_t)m->nres, sizeof *rm->urls);
    if (o->log) {
        char how[96];
        if (rm->batch) snprintf(how, sizeof how, "edhub batch requests of up to %d records", rm->o.batch_size);
        else snprintf(how, sizeof how, "one request per record");
        fprintf(o->log, "edhub: %s %s (%s) over %d connection%s, %s\n", o->verb ? o->verb : "loading into", rm->c.data,
                rm->c.app, rm->nxf,
                rm->nxf > 1 ? "s" : "", how);
    }
    return rm;
}

void remote_close(remote *rm)
{
    if (!rm) return;
    rm_drain(rm);
    for (int i = 0; i < rm->nxf; i++) {
        xfer *x = &rm->xf[i];
        curl_easy_cleanup(x->h);
        curl_slist_free_all(x->hdrs);
        buf_free(&x->body);
        buf_free(&x->resp);
        free(x->recs);
    }
    free(rm->xf);
    curl_multi_cleanup(rm->multi);
    api_conn_close(&rm->c);
    for (int i = 0; i < rm->m->nres; i++) free(rm->urls[i]);
    free(rm->urls);
    for (int i = 0; i < rm->nfiles; i++) free(rm->files[i]);
    free(rm->files);
    free(rm);
}
