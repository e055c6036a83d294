/* A connection to an Ed-Fi API; see apiconn.h. */
#include "apiconn.h"
#include "../base/jsonx.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CONNECT_TIMEOUT_S 10L
#define REQUEST_TIMEOUT_S 300L

double api_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t api_on_body(char *p, size_t size, size_t n, void *ctx)
{
    buf *b = ctx;
    return buf_append(b, p, size * n) ? size * n : 0;
}

bool api_copy_url(char *out, size_t n, const char *url)
{
    size_t l = strlen(url);
    while (l && url[l - 1] == '/') l--;
    if (l >= n) return false;
    memcpy(out, url, l);
    out[l] = 0;
    return true;
}

json_object *api_problem_of(const char *body, size_t len, int status)
{
    json_object *p = len ? json_tokener_parse(body) : NULL;
    if (p && json_object_is_type(p, json_type_object)) return p;
    json_object_put(p);
    p = json_object_new_object();
    char detail[600];
    if (len) snprintf(detail, sizeof detail, "HTTP %d: %.500s", status, body);
    else snprintf(detail, sizeof detail, "HTTP %d with no problem details", status);
    json_object_object_add(p, "detail", json_object_new_string(detail));
    return p;
}

void api_problem_into(json_object *e, json_object *p)
{
    const char *type = p ? jsonx_str(p, "type") : NULL, *detail = p ? jsonx_str(p, "detail") : NULL;
    json_object_object_add(e, "type", json_object_new_string(type ? type : ""));
    json_object_object_add(e, "detail", json_object_new_string(detail ? detail : ""));
    if (!p) return;
    json_object_object_foreach(p, k, v) {
        if (strcmp(k, "type") && strcmp(k, "detail") && strcmp(k, "status"))
            json_object_object_add(e, k, json_object_get(v));
    }
}

bool api_header_value(const char *p, size_t len, const char *name, char *out, size_t n)
{
    size_t k = strlen(name);
    if (len <= k || p[k] != ':' || strncasecmp(p, name, k) || !n) return false;
    p += k + 1, len -= k + 1;
    while (len && (*p == ' ' || *p == '\t')) p++, len--;
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' ')) len--;
    size_t l = len < n - 1 ? len : n - 1;
    memcpy(out, p, l);
    out[l] = 0;
    return true;
}

/* Total-Count, for paging a source. */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    api_conn *c = ctx;
    char v[64], *end;
    if (api_header_value(p, size * n, "Total-Count", v, sizeof v)) {
        long long t = strtoll(v, &end, 10);
        if (end != v && t >= 0) c->total_count = t;
    }
    return size * n;
}

/* One request as it goes on the wire, with no token logic. */
static long perform(api_conn *c, const char *method, const char *url, const char *body, struct curl_slist *hdrs,
                    bool basic, buf *resp, char *cerr, size_t cerrlen)
{
    CURL *h = c->easy;
    char eb[CURL_ERROR_SIZE] = "";
    curl_easy_reset(h);
    buf_reset(resp);
    c->total_count = -1;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, eb);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, api_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    if (hdrs) curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (strcmp(method, "GET") && strcmp(method, "POST")) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body || !strcmp(method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
    }
    if (basic) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->key);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret);
    }
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else snprintf(cerr, cerrlen, "%s", eb[0] ? eb : curl_easy_strerror(rc));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    return status;
}

bool api_conn_token(api_conn *c, char *err, size_t errlen)
{
    buf resp;
    buf_init(&resp, 1 << 20);
    char cerr[CURL_ERROR_SIZE + 64] = "";
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
    long status = perform(c, "POST", c->oauth, "grant_type=client_credentials", h, true, &resp, cerr, sizeof cerr);
    curl_slist_free_all(h);
    json_object *j = status == 200 ? json_tokener_parse(resp.data ? resp.data : "") : NULL;
    const char *tok = j ? jsonx_str(j, "access_token") : NULL;
    bool ok = false;
    if (!status) {
        snprintf(err, errlen, "cannot reach the token endpoint %s: %s", c->oauth, cerr);
    } else if (status == 400 || status == 401 || status == 403) {
        snprintf(err, errlen, "the API refused the key and secret: check them (%s; API %s)",
                 c->cred_hint ? c->cred_hint : "the client's key and secret", c->base);
    } else if (status == 429) {
        snprintf(err, errlen, "the API refuses logins for now (HTTP 429: too many attempts or tokens): try again later");
    } else if (status == 404 || status == 405) {
        snprintf(err, errlen, "no OAuth token endpoint at %s (HTTP %ld): is %s the API's base URL?", c->oauth, status,
                 c->base);
    } else if (!tok || strlen(tok) >= sizeof c->token || strpbrk(tok, "\r\n")) {
        snprintf(err, errlen, "the token endpoint %s answered HTTP %ld without a usable access_token", c->oauth, status);
    } else {
        snprintf(c->token, sizeof c->token, "%s", tok);
        c->token_gen++;
        long exp = json_object_get_int64(jsonx_get(j, "expires_in"));
        c->token_renew_at = exp > 0 ? api_now() + (double)(exp > 120 ? exp - 60 : exp / 2) : 0;
        if (c->cache) {
            snprintf(c->cache->oauth, sizeof c->cache->oauth, "%s", c->oauth);
            snprintf(c->cache->token, sizeof c->cache->token, "%s", c->token);
            c->cache->renew_at = c->token_renew_at;
        }
        ok = true;
    }
    json_object_put(j);
    buf_free(&resp);
    return ok;
}

bool api_conn_auth_header(api_conn *c, char *out, size_t n, char *err, size_t errlen)
{
    if (c->token_renew_at && api_now() >= c->token_renew_at && !api_conn_token(c, err, errlen)) return false;
    snprintf(out, n, "Authorization: Bearer %s", c->token);
    return true;
}

long api_conn_request(api_conn *c, const char *method, const char *url, const char *body, struct curl_slist *hdrs,
                      bool bearer, buf *resp, char *cerr, size_t cerrlen)
{
    if (!bearer) return perform(c, method, url, body, hdrs, false, resp, cerr, cerrlen);
    long status = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        char auth[1100];
        if (!api_conn_auth_header(c, auth, sizeof auth, cerr, cerrlen)) return 0;
        struct curl_slist *all = curl_slist_append(NULL, auth);
        bool typed = false;
        for (struct curl_slist *s = hdrs; s; s = s->next) {
            all = curl_slist_append(all, s->data);
            typed = typed || !strncasecmp(s->data, "Content-Type:", 13);
        }
        if (!typed && body) all = curl_slist_append(all, "Content-Type: application/json");
        all = curl_slist_append(all, "Expect:");
        status = perform(c, method, url, body, all, false, resp, cerr, cerrlen);
        curl_slist_free_all(all);
        /* An expired or revoked token: a new one, and once more. */
        if (status != 401 || attempt) break;
        if (!api_conn_token(c, cerr, cerrlen)) return 0;
    }
    return status;
}

/* URLs from the discovery document at GET base/ when there is one. Returns
 * false (with err) only when nothing answers. */
static bool discover(api_conn *c, const char *flag, const char *want_ds, FILE *log, char *err, size_t errlen)
{
    buf resp;
    buf_init(&resp, 4 << 20);
    char cerr[CURL_ERROR_SIZE + 64] = "", url[1100];
    snprintf(url, sizeof url, "%s/", c->base);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    long status = perform(c, "GET", url, NULL, h, false, &resp, cerr, sizeof cerr);
    curl_slist_free_all(h);
    snprintf(c->data, sizeof c->data, "%s/data/v3", c->base);
    snprintf(c->oauth, sizeof c->oauth, "%s/oauth/token", c->base);
    snprintf(c->changes, sizeof c->changes, "%s/changeQueries/v1", c->base);
    if (!status) {
        snprintf(err, errlen, "cannot reach the Ed-Fi API at %s: %s (check %s and that the server is running)", c->base,
                 cerr, flag);
        buf_free(&resp);
        return false;
    }
    json_object *j = status == 200 ? json_tokener_parse(resp.data ? resp.data : "") : NULL;
    json_object *urls = j && json_object_is_type(j, json_type_object) ? jsonx_get(j, "urls") : NULL;
    const char *d = urls ? jsonx_str(urls, "dataManagementApi") : NULL, *o = urls ? jsonx_str(urls, "oauth") : NULL;
    const char *cq = urls ? jsonx_str(urls, "changeQueries") : NULL;
    if (d && !strncmp(d, "http", 4)) api_copy_url(c->data, sizeof c->data, d);
    if (o && !strncmp(o, "http", 4)) api_copy_url(c->oauth, sizeof c->oauth, o);
    if (cq && !strncmp(cq, "http", 4)) api_copy_url(c->changes, sizeof c->changes, cq);
    const char *name = j ? jsonx_str(j, "applicationName") : NULL, *ver = j ? jsonx_str(j, "version") : NULL;
    json_object *dms = j ? jsonx_get(j, "dataModels") : NULL;
    json_object *dm = json_object_is_type(dms, json_type_array) ? json_object_array_get_idx(dms, 0) : NULL;
    const char *dsv = dm ? jsonx_str(dm, "version") : NULL;
    snprintf(c->data_standard, sizeof c->data_standard, "%s", dsv ? dsv : "");
    if (j && urls)
        snprintf(c->app, sizeof c->app, "%s%s%s%s%s", name ? name : "Ed-Fi ODS/API", ver ? ", API " : "",
                 ver ? ver : "", dsv ? ", data standard " : "", dsv ? dsv : "");
    else
        snprintf(c->app, sizeof c->app, "no discovery document: default URLs");
    if (dsv && want_ds && strncmp(dsv, want_ds, strlen(want_ds)) && log)
        fprintf(log, "edhub: warning: the API at %s serves data standard %s; edhub's model is %s\n", c->base, dsv,
                want_ds);
    json_object_put(j);
    buf_free(&resp);
    return true;
}

static bool valid_base_url(const char *url)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    bool valid = url && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                 curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                 (!strcmp(scheme, "http") || !strcmp(scheme, "https")) && !strpbrk(url, " \t\r\n?#");
    curl_free(scheme);
    curl_url_cleanup(u);
    return valid;
}

bool api_conn_open(api_conn *c, const char *url, const char *flag, const char *key, const char *secret,
                   const char *want_ds, FILE *log, char *err, size_t errlen)
{
    if (!valid_base_url(url)) {
        snprintf(err, errlen,
                 "%s must be the API's base URL, http:// or https://, such as http://127.0.0.1:8080 or "
                 "https://api.example.org/ods (got '%s')",
                 flag, url ? url : "");
        return false;
    }
    if (!key || !*key || !secret || !*secret) {
        snprintf(err, errlen, "%s needs the API client's key and secret: %s", flag,
                 c->cred_hint ? c->cred_hint : "a key and a secret");
        return false;
    }
    c->key = key;
    c->secret = secret;
    if (!api_copy_url(c->base, sizeof c->base, url)) {
        snprintf(err, errlen, "%s: the URL is too long", flag);
        return false;
    }
    c->easy = curl_easy_init();
    if (!c->easy) {
        snprintf(err, errlen, "cannot start libcurl");
        return false;
    }
    if (!discover(c, flag, want_ds, log, err, errlen)) return false;
    api_token_cache *k = c->cache;
    if (k && k->token[0] && !strcmp(k->oauth, c->oauth) && (!k->renew_at || api_now() < k->renew_at)) {
        snprintf(c->token, sizeof c->token, "%s", k->token); /* a 401 later still gets a new one */
        c->token_renew_at = k->renew_at;
        c->token_gen++;
        return true;
    }
    return api_conn_token(c, err, errlen);
}

void api_conn_close(api_conn *c)
{
    if (c->easy) curl_easy_cleanup(c->easy);
    c->easy = NULL;
}
