/* POST /oauth/token: client credentials from a Basic header, a form body or
 * a JSON body (api-behavior §2.3). */
#include "api_int.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include "../base/jsonx.h"
#include <openssl/evp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The client's IP address, as text ("" when unknown). */
void req_peer_address(request *r, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa) return;
    if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

static void token_error(request *r, int status, const char *code, const char *desc)
{
    buf_reset(&r->out);
    buf_puts(&r->out, "{\"error\":");
    buf_json_str(&r->out, code);
    if (desc) {
        buf_puts(&r->out, ",\"error_description\":");
        buf_json_str(&r->out, desc);
    }
    buf_putc(&r->out, '}');
    r->status = status;
    r->content_type = "application/json";
}

typedef struct creds { const char *grant, *id, *secret, *scope; bool bad; } creds;

static void parse_form(request *r, creds *c)
{
    char *body = arena_strndup(&r->a, r->body.data ? r->body.data : "", r->body.len);
    for (char *save = NULL, *kv = strtok_r(body, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = 0;
        char *v = eq + 1;
        if (!route_form_decode(kv) || !route_form_decode(v)) {
            c->bad = true;
            return;
        }
        if (!strcmp(kv, "grant_type")) c->grant = v;
        else if (!strcmp(kv, "client_id")) c->id = v;
        else if (!strcmp(kv, "client_secret")) c->secret = v;
        else if (!strcmp(kv, "scope")) c->scope = v;
    }
}

void handle_token(request *r)
{
    if (strcmp(r->method, "POST") != 0) {
        outcome o = {0};
        outcome_problem(&o, 405, "urn:ed-fi:api:method-not-allowed", "Method Not Allowed", "The request construction was invalid.",
                        "The token endpoint only supports POST.");
        o.allow = "POST";
        req_problem(r, &o);
        outcome_free(&o);
        return;
    }
    /* Order and codes follow ODS/API 7.3 (security spec §1.2, §1.4). */
    creds c = {0};
    const char *ct = req_get_header(r, "Content-Type");
    bool json = ct && !strncasecmp(ct, "application/json", 16);
    bool form = ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33);
    if (!json && !form) {
        req_simple_problem(r, 415, "urn:ed-fi:api:unsupported-media-type", "Unsupported Media Type",
                           "The token endpoint accepts application/x-www-form-urlencoded or application/json.",
                           "The value specified in the 'Content-Type' header is not supported by this host.");
        return;
    }
    json_object *jb = NULL;
    if (json) {
        char err[128];
        jb = jsonx_parse(r->body.data ? r->body.data : "", r->body.len, err, sizeof err, NULL, 0);
        if (!jb || !json_object_is_type(jb, json_type_object)) {
            json_object_put(jb);
            token_error(r, 400, "invalid_request", "The body is not a valid JSON object.");
            return;
        }
        c.grant = jsonx_str(jb, "grant_type");
        c.id = jsonx_str(jb, "client_id");
        c.secret = jsonx_str(jb, "client_secret");
        c.scope = jsonx_str(jb, "scope");
    } else {
        parse_form(r, &c);
    }
    const char *authz = req_get_header(r, "Authorization");
    const char *basic_id = NULL, *basic_secret = NULL;
    if (authz) {
        const char *sp = strchr(authz, ' ');
        if (!sp || sp == authz || !sp[1]) {
            json_object_put(jb);
            token_error(r, 400, "invalid_request", "The Authorization header must be 'Basic base64(key:secret)'.");
            return;
        }
        if ((size_t)(sp - authz) != 5 || strncasecmp(authz, "Basic", 5) != 0) {
            json_object_put(jb);
            token_error(r, 401, "invalid_client", "Only the Basic authorization scheme is supported here.");
            return;
        }
        char *id = NULL, *secret = NULL;
        if (route_basic_credentials(sp + 1, &r->a, &id, &secret)) {
            basic_id = id;
            basic_secret = secret;
        }
        if (!basic_id) {
            json_object_put(jb);
            token_error(r, 400, "invalid_request", "The Basic authorization value is not valid base64 of key:secret.");
            return;
        }
    }
    if (c.bad) {
        json_object_put(jb);
        token_error(r, 400, "invalid_request", "The form body is malformed.");
        return;
    }
    if (basic_id && (c.id || c.secret)) {
        json_object_put(jb);
        token_error(r, 400, "invalid_client", "Send the client credentials either in the Authorization header or in the body, not both.");
        return;
    }
    if (!c.grant || strcasecmp(c.grant, "client_credentials") != 0) {
        json_object_put(jb);
        token_error(r, 400, "unsupported_grant_type", "Only the client_credentials grant is supported.");
        return;
    }
    const char *id = basic_id ? basic_id : c.id, *secret = basic_id ? basic_secret : c.secret;
    if (!id || !secret || !*id) {
        json_object_put(jb);
        token_error(r, 401, "invalid_request", "Client credentials are required.");
        return;
    }
    /* A scope narrows the token to one of the client's education
     * organizations; only numeric scopes exist without JWT tokens. */
    long long scope = 0;
    if (c.scope && *c.scope) {
        char *end;
        errno = 0;
        scope = strtoll(c.scope, &end, 10);
        if (*end || errno || scope < 1 || c.scope[0] == '+' || c.scope[0] == ' ') {
            json_object_put(jb);
            token_error(r, 400, "invalid_scope", "The scope must be the id of one of the client's education organizations.");
            return;
        }
    }
    char tok[65], addr[INET6_ADDRSTRLEN] = "";
    int expires = 0, retry_after = 0;
    req_peer_address(r, addr, sizeof addr);
    err_t e = auth_issue_token(r->srv->au, id, secret, addr, scope, tok, &expires, &retry_after);
    json_object_put(jb);
    if (e == ERR_INVALID) {
        char desc[160];
        snprintf(desc, sizeof desc, "The client is not associated with the education organization %lld given as scope.", scope);
        token_error(r, 400, "invalid_scope", desc);
        return;
    }
    if (e == ERR_NOT_FOUND) {
        token_error(r, 401, "invalid_client", "The client key or secret is not valid.");
        return;
    }
    if (e == ERR_LIMIT) {
        req_simple_problem(r, 429, "urn:ed-fi:api:security:authentication:too-many-tokens", "Too Many Tokens",
                           "The client has too many live tokens; reuse a token until it expires.", NULL);
        return;
    }
    if (e == ERR_THROTTLED) {
        /* edhub's own: ODS has no throttling (security.md §6). */
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        req_simple_problem(r, 429, "urn:ed-fi:api:security:authentication:too-many-attempts", "Too Many Attempts",
                           "Too many failed token requests for this client or from this address; retry later.", NULL);
        req_header(r, "Retry-After", arena_strdup(&r->a, ra));
        return;
    }
    if (e) {
        token_error(r, 500, "server_error", NULL);
        return;
    }
    buf_printf(&r->out, "{\"access_token\":\"%s\",\"expires_in\":%d,\"token_type\":\"bearer\"", tok, expires);
    if (scope) buf_printf(&r->out, ",\"scope\":\"%lld\"", scope);
    buf_putc(&r->out, '}');
    r->status = 200;
    req_header(r, "Cache-Control", "no-store");
}

/* POST /oauth/token_info: what the caller's own token grants (security
 * spec §1.8). The body token must be the header token. */
void handle_token_info(request *r)
{
    const char *h = req_get_header(r, "Authorization");
    const char *bearer = h && !strncasecmp(h, "Bearer ", 7) ? h + 7 : NULL;
    const auth_client *c = bearer ? auth_check_token(r->srv->au, bearer) : NULL;
    r->client = c; /* released with the request, whatever the answer */
    if (!c) {
        req_simple_problem(r, 401, "urn:ed-fi:api:security:authentication", "Authentication Failed",
                           "The caller could not be authenticated: a valid Bearer token is required.", NULL);
        return;
    }
    creds cr = {0};
    const char *tok = NULL;
    const char *ct = req_get_header(r, "Content-Type");
    json_object *jb = NULL;
    if (ct && !strncasecmp(ct, "application/json", 16)) {
        char err[128];
        jb = jsonx_parse(r->body.data ? r->body.data : "", r->body.len, err, sizeof err, NULL, 0);
        tok = jb ? jsonx_str(jb, "token") : NULL;
    } else {
        char *body = arena_strndup(&r->a, r->body.data ? r->body.data : "", r->body.len);
        for (char *save = NULL, *kv = strtok_r(body, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (eq && (*eq = 0, !strcmp(kv, "token")) && route_form_decode(eq + 1)) tok = eq + 1;
        }
    }
    (void)cr;
    if (!tok || strcmp(tok, bearer) != 0) {
        json_object_put(jb);
        req_simple_problem(r, 400, "urn:ed-fi:api:bad-request", "Bad Request",
                           "The request could not be processed. See 'errors' for details.",
                           "The token in the body must be the bearer token of the request.");
        return;
    }
    json_object_put(jb);
    buf *o = &r->out;
    buf_puts(o, "{\"active\":true,\"client_id\":");
    buf_json_str(o, c->key);
    buf_puts(o, ",\"namespace_prefixes\":[");
    for (int i = 0; i < c->nnamespaces; i++) {
        if (i) buf_putc(o, ',');
        buf_json_str(o, c->namespaces[i]);
    }
    buf_puts(o, "],\"education_organizations\":[");
    for (int i = 0; i < c->nedorgs; i++)
        buf_printf(o, "%s{\"education_organization_id\":%lld}", i ? "," : "", (long long)c->edorgs[i]);
    buf_puts(o, "],\"assigned_profiles\":[");
    for (int i = 0; i < c->nprofiles; i++) {
        if (i) buf_putc(o, ',');
        buf_json_str(o, c->profiles[i]);
    }
    buf_puts(o, "],\"claim_set\":{\"name\":");
    buf_json_str(o, c->claim_set_name ? c->claim_set_name : "");
    buf_puts(o, "},\"resources\":[");
    /* What the claim set grants, resource by resource (before record-level checks). */
    const model *m = r->srv->m;
    const claims *cl = r->srv->cfg.claims;
    int shown = 0;
    for (int i = 0; cl && c->claim_set >= 0 && i < m->nres; i++) {
        int claim = claims_resource_claim(cl, m->res[i].project_endpoint, m->res[i].name);
        if (claim < 0) continue;
        const char *ops[SEC_ACTIONS];
        int n = 0;
        for (int act = 0; act < SEC_ACTIONS; act++) {
            uint32_t st;
            if (claims_decide(cl, c->claim_set, claim, (sec_action)act, &st) == DECIDE_GRANTED)
                ops[n++] = claims_action_name((sec_action)act);
        }
        if (!n) continue;
        buf_printf(o, "%s{\"resource\":\"%s\",\"operations\":[", shown++ ? "," : "", m->res[i].path);
        for (int k = 0; k < n; k++) buf_printf(o, "%s\"%s\"", k ? "," : "", ops[k]);
        buf_puts(o, "]}");
    }
    buf_puts(o, "],\"services\":[]}");
    r->status = 200;
}
