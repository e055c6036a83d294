/* /adminapi: credentials over HTTP, modelled on Ed-Fi Admin API 2.x
 * (security.md §3): vendors, applications (one API client each, as Admin
 * API 2.0-2.2 creates them), credential reset, claim sets (read and
 * export), profiles (read: they are files, DIR/profiles), ODS instances,
 * actions and strategies. Protected by its own
 * clients: tokens from /adminapi/connect/token for clients whose claim set
 * is "edhub Admin API". Every change goes through credentials.c (audited,
 * actor "api:KEY" with the address). */
#include "api_int.h"
#include "../base/jsonx.h"
#include "../security/credentials.h"
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ADMIN_SET "edhub Admin API"
#define ADMIN_SCOPE "edfi_admin_api/full_access"

/* Admin API's error shape: {"title", "status", "errors": {field: [msg]} | [msg]}. */
static void admin_error(request *r, int status, const char *title, const char *field, const char *msg)
{
    buf_reset(&r->out);
    buf_puts(&r->out, "{\"title\":");
    buf_json_str(&r->out, title);
    buf_printf(&r->out, ",\"status\":%d", status);
    if (msg) {
        buf_puts(&r->out, ",\"errors\":");
        if (field) {
            buf_putc(&r->out, '{');
            buf_json_str(&r->out, field);
            buf_puts(&r->out, ":[");
            buf_json_str(&r->out, msg);
            buf_puts(&r->out, "]}");
        } else {
            buf_putc(&r->out, '[');
            buf_json_str(&r->out, msg);
            buf_putc(&r->out, ']');
        }
    }
    buf_putc(&r->out, '}');
    r->status = status;
    r->content_type = "application/problem+json";
}

static void not_found(request *r, const char *what, long long id)
{
    char m[128];
    snprintf(m, sizeof m, "Not found: %s with ID %lld. It may have been recently deleted.", what, id);
    admin_error(r, 404, "Not found", NULL, m);
}

/* An error from credentials.c: its message names the problem. */
static void cred_error(request *r, err_t e, const char *msg, const char *field)
{
    if (e == ERR_INVALID) admin_error(r, 400, "Validation failed", field, msg);
    else if (e == ERR_NOT_FOUND) admin_error(r, 404, "Not found", NULL, msg);
    else if (e == ERR_CONFLICT) admin_error(r, 409, "Conflict", NULL, msg);
    else admin_error(r, 500, "Internal server error", NULL, NULL);
}

static void parse_token_form(request *r, const char **id, const char **secret, const char **grant, const char **scope)
{
    char *body = arena_strndup(&r->a, r->body.data ? r->body.data : "", r->body.len);
    for (char *save = NULL, *kv = strtok_r(body, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = 0;
        char *v = eq + 1;
        if (!route_form_decode(kv) || !route_form_decode(v)) continue;
        if (!strcmp(kv, "client_id")) *id = v;
        else if (!strcmp(kv, "client_secret")) *secret = v;
        else if (!strcmp(kv, "grant_type")) *grant = v;
        else if (!strcmp(kv, "scope")) *scope = v;
    }
}

static void token_error(request *r, int status, const char *code)
{
    buf_reset(&r->out);
    buf_printf(&r->out, "{\"error\":\"%s\"}", code);
    r->status = status;
}

/* POST /adminapi/connect/token (form only, as Admin API). */
static void admin_token(request *r)
{
    const char *ct = req_get_header(r, "Content-Type");
    if (strcmp(r->method, "POST")) return admin_error(r, 405, "Method not allowed", NULL, "Use POST.");
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        return admin_error(r, 415, "Unsupported media type", NULL, "Send application/x-www-form-urlencoded.");
    const char *id = NULL, *secret = NULL, *grant = NULL, *scope = NULL;
    parse_token_form(r, &id, &secret, &grant, &scope);
    if (!grant || strcasecmp(grant, "client_credentials")) return token_error(r, 400, "unsupported_grant_type");
    if (!id || !secret) return token_error(r, 400, "invalid_request");
    if (scope && strcmp(scope, ADMIN_SCOPE)) return token_error(r, 400, "invalid_scope");
    char tok[65], addr[64] = "";
    int expires = 0, retry = 0;
    req_peer_address(r, addr, sizeof addr);
    err_t e = auth_issue_token(r->srv->au, id, secret, addr, 0, tok, &expires, &retry);
    if (e == ERR_THROTTLED || e == ERR_LIMIT) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry > 0 ? retry : 60);
        if (e == ERR_THROTTLED) req_header(r, "Retry-After", arena_strdup(&r->a, ra));
        return admin_error(r, 429, "Too many requests", NULL, "Too many tokens or failed attempts; retry later.");
    }
    if (e == ERR_NOT_FOUND) return token_error(r, 401, "invalid_client");
    if (e) return token_error(r, 500, "server_error");
    /* Only Admin API clients get an Admin API token. */
    const auth_client *c = auth_check_token(r->srv->au, tok);
    bool admin = c && c->claim_set_name && !strcmp(c->claim_set_name, ADMIN_SET);
    auth_client_release(c);
    if (!admin) {
        auth_revoke_token(r->srv->au, tok);
        return token_error(r, 401, "unauthorized_client");
    }
    buf_printf(&r->out, "{\"access_token\":\"%s\",\"token_type\":\"bearer\",\"expires_in\":%d}", tok, expires);
    r->status = 200;
    req_header(r, "Cache-Control", "no-store");
}

static bool admin_authenticate(request *r)
{
    const char *h = req_get_header(r, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7)) r->client = auth_check_token(r->srv->au, h + 7);
    if (!r->client) {
        admin_error(r, 401, "Unauthorized", NULL, "A bearer token from /adminapi/connect/token is required.");
        req_header(r, "WWW-Authenticate", "Bearer");
        return false;
    }
    r->client_key = arena_strdup(&r->a, r->client->key);
    if (!r->client->claim_set_name || strcmp(r->client->claim_set_name, ADMIN_SET)) {
        admin_error(r, 403, "Forbidden", NULL, "This client is not an Admin API client (claim set '" ADMIN_SET "').");
        return false;
    }
    return true;
}

static cred_actor actor(request *r)
{
    char addr[64] = "";
    req_peer_address(r, addr, sizeof addr);
    return (cred_actor){arena_printf(&r->a, "api:%s", r->client->key), arena_strdup(&r->a, addr)};
}

static json_object *body_json(request *r)
{
    char err[160];
    json_object *o = jsonx_parse(r->body.data ? r->body.data : "", r->body.len, err, sizeof err, NULL, 0);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        admin_error(r, 400, "Validation failed", NULL, "The body must be a JSON object.");
        return NULL;
    }
    return o;
}

/* ---- lists: offset/limit as the Admin API ---- */

static void page(request *r, json_object *arr)
{
    const char *q;
    long offset = (q = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "offset")) ? atol(q) : 0;
    long limit = (q = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "limit")) ? atol(q) : 25;
    if (offset < 0) offset = 0;
    if (limit < 0) limit = 25;
    json_object *out = json_object_new_array();
    long n = (long)json_object_array_length(arr);
    for (long i = offset; i < n && i < offset + limit; i++)
        json_object_array_add(out, json_object_get(json_object_array_get_idx(arr, (size_t)i)));
    buf_puts(&r->out, json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(out);
    r->status = 200;
}

static void reply(request *r, int status, json_object *o)
{
    buf_puts(&r->out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    r->status = status;
}

/* ---- vendors ---- */

static json_object *vendor_view(json_object *v)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(json_object_get_int64(jsonx_get(v, "id"))));
    json_object_object_add(o, "company", json_object_new_string(jsonx_str(v, "name") ? jsonx_str(v, "name") : ""));
    buf b;
    buf_init(&b, 0);
    json_object *ns = jsonx_get(v, "namespaces");
    for (size_t i = 0; json_object_is_type(ns, json_type_array) && i < json_object_array_length(ns); i++)
        buf_printf(&b, "%s%s", i ? "," : "", json_object_get_string(json_object_array_get_idx(ns, i)));
    json_object_object_add(o, "namespacePrefixes", json_object_new_string(b.data ? b.data : ""));
    buf_free(&b);
    json_object_object_add(o, "contactName", json_object_new_string(jsonx_str(v, "contactName") ? jsonx_str(v, "contactName") : ""));
    json_object_object_add(o, "contactEmailAddress",
                           json_object_new_string(jsonx_str(v, "contactEmailAddress") ? jsonx_str(v, "contactEmailAddress") : ""));
    return o;
}

/* Reads {company, namespacePrefixes "a,b", contactName, contactEmailAddress}. */
static bool vendor_from(request *r, json_object *b, cred_vendor *v)
{
    memset(v, 0, sizeof *v);
    v->name = jsonx_str(b, "company");
    v->contact_name = jsonx_str(b, "contactName");
    v->contact_email = jsonx_str(b, "contactEmailAddress");
    if (!v->name || !*v->name) {
        admin_error(r, 400, "Validation failed", "Company", "'Company' must not be empty.");
        return false;
    }
    const char *ns = jsonx_str(b, "namespacePrefixes");
    const char **list = arena_alloc(&r->a, sizeof(char *) * (CRED_MAX_NAMESPACES + 1));
    int n = 0;
    if (ns) {
        char *copy = arena_strdup(&r->a, ns);
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n <= CRED_MAX_NAMESPACES; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ') t++;
            size_t l = strlen(t);
            while (l && t[l - 1] == ' ') t[--l] = 0;
            if (*t) list[n++] = t;
        }
    }
    v->namespaces = list;
    v->nnamespaces = n;
    return true;
}

static int by_id(const void *x, const void *y)
{
    json_object *const *a = x, *const *b = y;
    const char *k = jsonx_get(*a, "applicationId") ? "applicationId" : "id";
    int64_t ia = json_object_get_int64(jsonx_get(*a, k)), ib = json_object_get_int64(jsonx_get(*b, k));
    return ia < ib ? -1 : ia > ib;
}

/* Every vendor or client, in id order (the Admin API's). */
static json_object *all_of(request *r, bool vendors)
{
    char *t = NULL;
    if (cred_list(r->srv->cfg.admin, vendors, &t)) return NULL;
    json_object *arr = json_tokener_parse(t);
    free(t);
    if (arr) json_object_array_sort(arr, by_id);
    return arr;
}

/* Admin API profile ids are positions in the server's profile set (from 1):
 * stable while it runs; applications keep the names. */
static int64_t profile_id(request *r, const char *name)
{
    int i = r->srv->cfg.profiles ? profile_set_find(r->srv->cfg.profiles, name) : -1;
    return i < 0 ? 0 : i + 1;
}

static json_object *application_view(request *r, json_object *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(json_object_get_int64(jsonx_get(c, "applicationId"))));
    const char *name = jsonx_str(c, "application");
    json_object_object_add(o, "applicationName",
                           json_object_new_string(name && *name ? name : jsonx_str(c, "name") ? jsonx_str(c, "name") : ""));
    json_object_object_add(o, "claimSetName", json_object_new_string(jsonx_str(c, "claimSet") ? jsonx_str(c, "claimSet") : ""));
    json_object *e = jsonx_get(c, "edorgs");
    json_object_object_add(o, "educationOrganizationIds", e ? json_object_get(e) : json_object_new_array());
    json_object_object_add(o, "vendorId", json_object_new_int64(json_object_get_int64(jsonx_get(c, "vendorId"))));
    json_object *pids = json_object_new_array(), *names = jsonx_get(c, "profiles");
    for (size_t i = 0; json_object_is_type(names, json_type_array) && i < json_object_array_length(names); i++) {
        int64_t pid = profile_id(r, json_object_get_string(json_object_array_get_idx(names, i)));
        if (pid) json_object_array_add(pids, json_object_new_int64(pid)); /* a name not installed has no id */
    }
    json_object_object_add(o, "profileIds", pids);
    /* odsInstanceIds: positions in the server's instances (from 1), as for
     * profiles; clients from before instances use the default one. */
    json_object *inst = json_object_new_array(), *in = jsonx_get(c, "instances");
    const inst_set *set = r->insts;
    for (int i = 0; i < set->n; i++) {
        bool bound = !in && !strcmp(set->defs[i].name, INST_DEFAULT);
        for (size_t k = 0; json_object_is_type(in, json_type_array) && k < json_object_array_length(in) && !bound; k++)
            bound = !strcasecmp(json_object_get_string(json_object_array_get_idx(in, k)), set->defs[i].name);
        if (bound) json_object_array_add(inst, json_object_new_int(i + 1));
    }
    json_object_object_add(o, "odsInstanceIds", inst);
    json_object_object_add(o, "enabled", json_object_new_boolean(jsonx_bool(c, "enabled")));
    return o;
}

static void vendors(request *r, long long id, const char *sub)
{
    admin_store *adm = r->srv->cfg.admin;
    cred_actor who = actor(r);
    char msg[512] = "", key[24];
    snprintf(key, sizeof key, "%lld", id);
    if (id < 0) {
        if (!strcmp(r->method, "GET")) {
            json_object *arr = all_of(r, true), *out = json_object_new_array();
            for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
                json_object_array_add(out, vendor_view(json_object_array_get_idx(arr, i)));
            page(r, out);
            json_object_put(out);
            json_object_put(arr);
        } else if (!strcmp(r->method, "POST")) {
            json_object *b = body_json(r);
            cred_vendor v;
            int64_t nid = 0;
            if (b && vendor_from(r, b, &v)) {
                err_t e = cred_vendor_create(adm, &v, &who, &nid, msg, sizeof msg);
                if (e) cred_error(r, e, msg, "Company");
                else {
                    r->status = 201;
                    req_header(r, "Location", arena_printf(&r->a, "/adminapi/v2/vendors/%lld", (long long)nid));
                }
            }
            json_object_put(b);
        } else admin_error(r, 405, "Method not allowed", NULL, "Use GET or POST.");
        return;
    }
    char *t = NULL;
    if (cred_get_json(adm, "vendor", key, &t)) return not_found(r, "vendor", id);
    json_object *v = json_tokener_parse(t);
    free(t);
    if (sub && !strcmp(sub, "applications") && !strcmp(r->method, "GET")) {
        json_object *arr = all_of(r, false), *out = json_object_new_array();
        for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
            json_object *c = json_object_array_get_idx(arr, i);
            if (json_object_get_int64(jsonx_get(c, "vendorId")) == id) json_object_array_add(out, application_view(r, c));
        }
        page(r, out);
        json_object_put(out);
        json_object_put(arr);
    } else if (sub) {
        admin_error(r, 404, "Not found", NULL, "No such route.");
    } else if (!strcmp(r->method, "GET")) {
        json_object *o = vendor_view(v);
        reply(r, 200, o);
        json_object_put(o);
    } else if (!strcmp(r->method, "PUT")) {
        json_object *b = body_json(r);
        cred_vendor nv;
        if (b && vendor_from(r, b, &nv)) {
            err_t e = cred_vendor_update(adm, id, &nv, &who, msg, sizeof msg);
            if (e) cred_error(r, e, msg, "Company");
            else r->status = 200;
        }
        json_object_put(b);
    } else if (!strcmp(r->method, "DELETE")) {
        err_t e = cred_vendor_delete(adm, id, &who, msg, sizeof msg);
        if (e) cred_error(r, e, msg, NULL);
        else r->status = 200;
    } else admin_error(r, 405, "Method not allowed", NULL, "Use GET, PUT or DELETE.");
    json_object_put(v);
}

/* ---- applications (one API client each) ---- */

/* The client key of application id, or NULL (and 404 sent). */
static const char *application_key(request *r, long long id, json_object **client)
{
    json_object *arr = all_of(r, false);
    const char *key = NULL;
    for (size_t i = 0; arr && i < json_object_array_length(arr) && !key; i++) {
        json_object *c = json_object_array_get_idx(arr, i);
        if (json_object_get_int64(jsonx_get(c, "applicationId")) == id && jsonx_str(c, "key")) {
            key = arena_strdup(&r->a, jsonx_str(c, "key"));
            if (client) *client = json_object_get(c);
        }
    }
    json_object_put(arr);
    if (!key) not_found(r, "application", id);
    return key;
}

/* Reads an application body into a client spec; false (400 sent) when invalid. */
static bool application_spec(request *r, json_object *b, cred_spec *s, bool create)
{
    memset(s, 0, sizeof *s);
    s->nedorgs = s->nnamespaces = s->enabled = -1;
    s->application = jsonx_str(b, "applicationName");
    if (!s->application || !*s->application || strlen(s->application) > 50) {
        admin_error(r, 400, "Validation failed", "ApplicationName",
                    "'Application Name' must be 1-50 characters.");
        return false;
    }
    s->name = s->application;
    s->claim_set = jsonx_str(b, "claimSetName");
    if (!s->claim_set || !*s->claim_set) {
        admin_error(r, 400, "Validation failed", "ClaimSetName", "'Claim Set Name' must not be empty.");
        return false;
    }
    json_object *vid = jsonx_get(b, "vendorId");
    if (!json_object_is_type(vid, json_type_int) || json_object_get_int64(vid) < 1) {
        admin_error(r, 400, "Validation failed", "VendorId", "'Vendor Id' must be the id of a vendor.");
        return false;
    }
    int64_t *v = arena_alloc(&r->a, sizeof *v);
    *v = json_object_get_int64(vid);
    s->vendor_id = v;
    char vk[24], *vt = NULL;
    snprintf(vk, sizeof vk, "%lld", (long long)*v);
    if (cred_get_json(r->srv->cfg.admin, "vendor", vk, &vt) != ERR_OK) {
        admin_error(r, 400, "Validation failed", "VendorId", "'Vendor Id' must be the id of a vendor.");
        return false;
    }
    free(vt);
    if (claims_set_index(r->srv->cfg.claims, s->claim_set) < 0) {
        admin_error(r, 400, "Validation failed", "ClaimSetName", "'Claim Set Name' must be the name of a claim set.");
        return false;
    }
    json_object *eo = jsonx_get(b, "educationOrganizationIds");
    if (eo && !json_object_is_type(eo, json_type_array)) {
        admin_error(r, 400, "Validation failed", "EducationOrganizationIds", "Must be an array of ids.");
        return false;
    }
    size_t n = eo ? json_object_array_length(eo) : 0;
    int64_t *ids = arena_alloc(&r->a, sizeof *ids * (n + 1));
    for (size_t i = 0; i < n; i++) {
        json_object *x = json_object_array_get_idx(eo, i);
        if (!json_object_is_type(x, json_type_int)) {
            admin_error(r, 400, "Validation failed", "EducationOrganizationIds", "Must be an array of ids.");
            return false;
        }
        ids[i] = json_object_get_int64(x);
    }
    if (eo || create) s->edorgs = ids, s->nedorgs = (int)n;
    /* profileIds: the whole list (absent: unchanged; create: none). */
    json_object *po = jsonx_get(b, "profileIds");
    const profile_set *ps = r->srv->cfg.profiles;
    if (po) {
        size_t np = json_object_is_type(po, json_type_array) ? json_object_array_length(po) : 0;
        const char **names = arena_alloc(&r->a, sizeof(char *) * (np + 1));
        for (size_t i = 0; i < np; i++) {
            json_object *x = json_object_array_get_idx(po, i);
            int64_t pid = json_object_is_type(x, json_type_int) ? json_object_get_int64(x) : 0;
            if (!ps || pid < 1 || pid > profile_set_count(ps)) {
                admin_error(r, 400, "Validation failed", "ProfileIds", "'Profile Ids' must be ids of profiles (GET /v2/profiles).");
                return false;
            }
            names[i] = profile_set_name(ps, (int)pid - 1);
        }
        if (!json_object_is_type(po, json_type_array) || np > CRED_MAX_PROFILES) {
            admin_error(r, 400, "Validation failed", "ProfileIds", "Must be an array of at most 32 profile ids.");
            return false;
        }
        s->profiles = names;
        s->nprofiles = (int)np;
    }
    /* odsInstanceIds: the whole list (absent: unchanged; create: default). */
    json_object *io = jsonx_get(b, "odsInstanceIds");
    if (io) {
        size_t ni = json_object_is_type(io, json_type_array) ? json_object_array_length(io) : 0;
        const char **names = arena_alloc(&r->a, sizeof(char *) * (ni + 1));
        for (size_t i = 0; i < ni; i++) {
            json_object *x = json_object_array_get_idx(io, i);
            int64_t iid = json_object_is_type(x, json_type_int) ? json_object_get_int64(x) : 0;
            if (iid < 1 || iid > r->insts->n) {
                admin_error(r, 400, "Validation failed", "OdsInstanceIds",
                            "'Ods Instance Ids' must be ids of ODS instances (GET /v2/odsInstances).");
                return false;
            }
            names[i] = r->insts->defs[iid - 1].name;
        }
        if (!json_object_is_type(io, json_type_array) || ni > CRED_MAX_INSTANCES) {
            admin_error(r, 400, "Validation failed", "OdsInstanceIds", "Must be an array of at most 64 ODS instance ids.");
            return false;
        }
        s->instances = names;
        s->ninstances = (int)ni;
    }
    json_object *en = jsonx_get(b, "enabled");
    if (en) s->enabled = json_object_get_boolean(en);
    return true;
}

static void credentials_reply(request *r, int status, long long id, const char *key, const char *secret)
{
    buf_printf(&r->out, "{\"id\":%lld,\"key\":", id);
    buf_json_str(&r->out, key);
    buf_puts(&r->out, ",\"secret\":");
    buf_json_str(&r->out, secret);
    buf_putc(&r->out, '}');
    r->status = status;
    req_header(r, "Cache-Control", "no-store");
}

static void applications(request *r, long long id, const char *sub)
{
    admin_store *adm = r->srv->cfg.admin;
    const claims *cl = r->srv->cfg.claims;
    cred_actor who = actor(r);
    char msg[512] = "", key[160] = "", secret[160] = "";
    if (id < 0) {
        if (!strcmp(r->method, "GET")) {
            json_object *arr = all_of(r, false), *out = json_object_new_array();
            for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
                json_object_array_add(out, application_view(r, json_object_array_get_idx(arr, i)));
            page(r, out);
            json_object_put(out);
            json_object_put(arr);
        } else if (!strcmp(r->method, "POST")) {
            json_object *b = body_json(r);
            cred_spec s;
            int64_t app = 0;
            if (b && application_spec(r, b, &s, true)) {
                err_t e = cred_client_create(adm, cl, &s, &who, key, secret, &app, msg, sizeof msg);
                if (e) cred_error(r, e, msg, "EducationOrganizationIds");
                else {
                    req_header(r, "Location", arena_printf(&r->a, "/adminapi/v2/applications/%lld", (long long)app));
                    credentials_reply(r, 201, app, key, secret);
                }
            }
            json_object_put(b);
        } else admin_error(r, 405, "Method not allowed", NULL, "Use GET or POST.");
        return;
    }
    json_object *c = NULL;
    const char *k = application_key(r, id, &c);
    if (!k) return;
    if (sub && !strcmp(sub, "reset-credential") && !strcmp(r->method, "PUT")) {
        err_t e = cred_client_reset(adm, k, NULL, &who, secret, msg, sizeof msg);
        if (e) cred_error(r, e, msg, NULL);
        else credentials_reply(r, 200, id, k, secret);
    } else if (sub) {
        admin_error(r, 404, "Not found", NULL, "No such route.");
    } else if (!strcmp(r->method, "GET")) {
        json_object *o = application_view(r, c);
        reply(r, 200, o);
        json_object_put(o);
    } else if (!strcmp(r->method, "PUT")) {
        json_object *b = body_json(r);
        cred_spec s;
        if (b && application_spec(r, b, &s, false)) {
            err_t e = cred_client_update(adm, cl, k, &s, &who, msg, sizeof msg);
            if (e) cred_error(r, e, msg, "EducationOrganizationIds");
            else r->status = 200;
        }
        json_object_put(b);
    } else if (!strcmp(r->method, "DELETE")) {
        err_t e = cred_client_delete(adm, k, &who, msg, sizeof msg);
        if (e) cred_error(r, e, msg, NULL);
        else r->status = 200;
    } else admin_error(r, 405, "Method not allowed", NULL, "Use GET, PUT or DELETE.");
    json_object_put(c);
}

/* ---- claim sets and lookups (read-only: claim sets are files) ---- */

static json_object *claimset_view(request *r, int set, json_object *clients)
{
    const claims *cl = r->srv->cfg.claims;
    json_object *o = json_object_new_object(), *apps = json_object_new_array();
    const char *name = claims_set_name(cl, set);
    json_object_object_add(o, "id", json_object_new_int(set + 1));
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "_isSystemReserved", json_object_new_boolean(claims_set_reserved(cl, set)));
    for (size_t i = 0; clients && i < json_object_array_length(clients); i++) {
        json_object *c = json_object_array_get_idx(clients, i);
        if (jsonx_str(c, "claimSet") && !strcmp(jsonx_str(c, "claimSet"), name)) {
            json_object *a = json_object_new_object();
            json_object_object_add(a, "applicationName", json_object_new_string(jsonx_str(c, "application") ? jsonx_str(c, "application") : ""));
            json_object_array_add(apps, a);
        }
    }
    json_object_object_add(o, "_applications", apps);
    return o;
}

static void claimsets(request *r, long long id, const char *sub)
{
    const claims *cl = r->srv->cfg.claims;
    if (strcmp(r->method, "GET"))
        return admin_error(r, 405, "Method not allowed", NULL,
                           "Claim sets are read-only here: edit them as files (edhub claimsets export/import) and restart.");
    json_object *clients = all_of(r, false);
    if (id < 0) {
        json_object *out = json_object_new_array();
        for (int i = 0; i < claims_set_count(cl); i++) json_object_array_add(out, claimset_view(r, i, clients));
        page(r, out);
        json_object_put(out);
    } else if (id < 1 || id > claims_set_count(cl)) {
        not_found(r, "claimSet", id);
    } else {
        json_object *o = claimset_view(r, (int)id - 1, clients);
        if (sub && !strcmp(sub, "export")) {
            char *t = claims_export(cl, (int)id - 1);
            json_object_object_add(o, "claimSet", json_tokener_parse(t));
            free(t);
        } else if (sub) {
            json_object_put(o);
            o = NULL;
            admin_error(r, 404, "Not found", NULL, "No such route.");
        }
        if (o) reply(r, 200, o);
        json_object_put(o);
    }
    json_object_put(clients);
}

/* ---- profiles (read-only: they are files) ---- */

static json_object *profile_view(const profile_set *ps, int i)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int(i + 1));
    json_object_object_add(o, "name", json_object_new_string(profile_set_name(ps, i)));
    return o;
}

static void profiles(request *r, long long id, const char *sub)
{
    const profile_set *ps = r->srv->cfg.profiles;
    int n = ps ? profile_set_count(ps) : 0;
    if (strcmp(r->method, "GET"))
        return admin_error(r, 405, "Method not allowed", NULL,
                           "Profiles are read-only here: put their XML files in DIR/profiles and restart the server.");
    if (sub) return admin_error(r, 404, "Not found", NULL, "No such route.");
    if (id < 0) {
        json_object *out = json_object_new_array();
        for (int i = 0; i < n; i++) json_object_array_add(out, profile_view(ps, i));
        page(r, out);
        json_object_put(out);
    } else if (id < 1 || id > n) {
        not_found(r, "profile", id);
    } else {
        json_object *o = profile_view(ps, (int)id - 1);
        reply(r, 200, o);
        json_object_put(o);
    }
}

static void lookups(request *r, const char *what)
{
    if (strcmp(r->method, "GET")) return admin_error(r, 405, "Method not allowed", NULL, "Use GET.");
    json_object *out = json_object_new_array();
    if (!strcmp(what, "actions")) {
        for (int i = 0; i < SEC_ACTIONS; i++) {
            json_object *o = json_object_new_object();
            const char *n = claims_action_name((sec_action)i);
            json_object_object_add(o, "id", json_object_new_int(i + 1));
            json_object_object_add(o, "name", json_object_new_string(n));
            char uri[96];
            snprintf(uri, sizeof uri, "http://ed-fi.org/odsapi/actions/%c%s", (char)(n[0] + 32), n + 1);
            json_object_object_add(o, "uri", json_object_new_string(uri));
            json_object_array_add(out, o);
        }
    } else if (!strcmp(what, "authorizationStrategies")) {
        int k = 0;
        for (uint32_t bit = 1; bit && k < 32; bit <<= 1, k++) {
            const char *n = claims_strategy_name(bit);
            if (!n) break;
            json_object *o = json_object_new_object();
            json_object_object_add(o, "id", json_object_new_int(k + 1));
            json_object_object_add(o, "name", json_object_new_string(n));
            json_object_object_add(o, "displayName", json_object_new_string(n));
            json_object_array_add(out, o);
        }
    }
    page(r, out);
    json_object_put(out);
}

/* ---- ODS instances: the ones this server routes to, ids are their
 * positions (from 1); created with the CLI, which makes their database ---- */

static json_object *contexts_view(const inst_set *cfg, int i)
{
    json_object *arr = json_object_new_array();
    for (int k = 0; k < cfg->defs[i].nctx; k++) {
        json_object *c = json_object_new_object();
        json_object_object_add(c, "id", json_object_new_int(i * INST_MAX_KEYS + k + 1));
        json_object_object_add(c, "odsInstanceId", json_object_new_int(i + 1));
        json_object_object_add(c, "contextKey", json_object_new_string(cfg->defs[i].ctx_key[k]));
        json_object_object_add(c, "contextValue", json_object_new_string(cfg->defs[i].ctx_val[k]));
        json_object_array_add(arr, c);
    }
    return arr;
}

static json_object *instance_view(const inst_set *cfg, int i, bool detail)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int(i + 1));
    json_object_object_add(o, "name", json_object_new_string(cfg->defs[i].name));
    json_object_object_add(o, "instanceType", json_object_new_string(cfg->defs[i].type));
    if (detail) {
        json_object_object_add(o, "odsInstanceContexts", contexts_view(cfg, i));
        json_object_object_add(o, "odsInstanceDerivatives", json_object_new_array());
    }
    return o;
}

/* The position (from 1) of the named instance in the set served now. */
static int served_id(request *r, const char *name)
{
    const inst_set *set = atomic_load(&r->srv->insts);
    for (int i = 0; i < set->n; i++)
        if (!strcasecmp(set->defs[i].name, name)) return i + 1;
    return 0;
}

/* Registers a changed instance and serves it at once; false with the
 * error sent. */
static bool save_instance(request *r, const instance_def *d, bool create)
{
    char msg[512];
    cred_actor who = actor(r);
    err_t e = instances_put(r->srv->cfg.admin, d, create, who.who, msg, sizeof msg);
    if (e) {
        cred_error(r, e, msg, "Name");
        return false;
    }
    int added, removed;
    api_refresh_instances(r->srv, &added, &removed);
    return true;
}

/* POST /v2/odsInstances {name, instanceType, connectionString}: a new,
 * empty instance (SQLite in DIR/instances/NAME, or the PostgreSQL
 * database a postgresql:// connection string names), served at once. */
static void create_instance(request *r)
{
    const api_config *cfg = &r->srv->cfg;
    if (!cfg->deploy_dir || !cfg->open_instance)
        return admin_error(r, 405, "Method not allowed", NULL, "This server's instances are fixed.");
    json_object *b = body_json(r);
    if (!b) return;
    const char *name = jsonx_str(b, "name"), *type = jsonx_str(b, "instanceType"), *cs = jsonx_str(b, "connectionString");
    instance_def d = {0}, old;
    if (!name || !instance_name_ok(name)) {
        admin_error(r, 400, "Validation failed", "Name", "'Name' must be 1-64 letters, digits, '-' or '_'.");
    } else if (instances_get(cfg->admin, cfg->deploy_dir, name, &old) == ERR_OK) {
        admin_error(r, 400, "Validation failed", "Name", "An ODS instance with this name already exists.");
    } else if (cs && *cs && strncmp(cs, "postgresql://", 13) && strncmp(cs, "postgres://", 11)) {
        admin_error(r, 400, "Validation failed", "ConnectionString",
                    "edhub instances are SQLite files (leave it empty) or PostgreSQL databases (postgresql://...).");
    } else {
        snprintf(d.name, sizeof d.name, "%s", name);
        snprintf(d.type, sizeof d.type, "%s", type ? type : "");
        instance_data_dir(cfg->deploy_dir, name, d.dir, sizeof d.dir);
        char conf[1200];
        snprintf(conf, sizeof conf, "%s/edhub.conf", d.dir);
        FILE *f = NULL;
        bool ok = true;
        if (cs && *cs) { /* the URL may carry a password: a private file, never the audit log */
            char parent[1100];
            snprintf(parent, sizeof parent, "%s/instances", cfg->deploy_dir);
            mkdir(parent, 0755);
            mkdir(d.dir, 0755);
            int fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            ok = fd >= 0 && (f = fdopen(fd, "w")) != NULL;
            if (ok) fprintf(f, "# edhub instance configuration\ndatabase = %s\n", cs);
            if (f) ok = fclose(f) == 0 && ok;
            else if (fd >= 0) close(fd);
        }
        store *s = ok ? cfg->open_instance(&d, true, cfg->open_ctx) : NULL;
        if (!s) {
            admin_error(r, 400, "Validation failed", "ConnectionString", "The instance's database cannot be created or opened.");
        } else {
            store_close(s);
            if (save_instance(r, &d, true)) {
                r->status = 201;
                req_header(r, "Location", arena_printf(&r->a, "/adminapi/v2/odsInstances/%d", served_id(r, d.name)));
            }
        }
    }
    json_object_put(b);
}

/* POST /v2/odsInstanceContexts {odsInstanceId, contextKey, contextValue}. */
static void add_context(request *r)
{
    json_object *b = body_json(r);
    if (!b) return;
    int64_t iid = json_object_get_int64(jsonx_get(b, "odsInstanceId"));
    const char *k = jsonx_str(b, "contextKey"), *v = jsonx_str(b, "contextValue");
    const inst_set *set = r->insts;
    char kv[200], msg[256];
    if (iid < 1 || iid > set->n) {
        admin_error(r, 400, "Validation failed", "OdsInstanceId", "'Ods Instance Id' must be the id of an ODS instance.");
    } else {
        instance_def d = set->defs[iid - 1];
        snprintf(kv, sizeof kv, "%.80s=%.80s", k ? k : "", v ? v : "");
        int before = d.nctx;
        if (!instance_context_add(&d, kv, msg, sizeof msg)) admin_error(r, 400, "Validation failed", "ContextKey", msg);
        else if (d.nctx == before) admin_error(r, 400, "Validation failed", "ContextKey",
                                               "This ODS instance already has a value for this context key.");
        else if (save_instance(r, &d, false)) {
            r->status = 201;
            req_header(r, "Location", arena_printf(&r->a, "/adminapi/v2/odsInstanceContexts/%d",
                                                   (served_id(r, d.name) - 1) * INST_MAX_KEYS + d.nctx));
        }
    }
    json_object_put(b);
}

static void ods_instances(request *r, long long id, const char *sub, bool contexts)
{
    const inst_set *cfg = r->insts;
    bool get = !strcmp(r->method, "GET"), post = !strcmp(r->method, "POST"), del = !strcmp(r->method, "DELETE");
    if (sub || (id >= 0 && post) || (id < 0 && del)) return admin_error(r, 404, "Not found", NULL, "No such route.");
    if (!get && !post && !del)
        return admin_error(r, 405, "Method not allowed", NULL, "Use GET, POST or DELETE (change a type with the CLI).");
    if (post) return contexts ? add_context(r) : create_instance(r);
    if (del) {
        char msg[256];
        cred_actor who = actor(r);
        /* The range first: a huge id must not become a negative index. */
        if (id < 1 || id > (long long)cfg->n * (contexts ? INST_MAX_KEYS : 1))
            return not_found(r, contexts ? "odsInstanceContext" : "odsInstance", id);
        int idx = contexts ? (int)((id - 1) / INST_MAX_KEYS) : (int)id - 1, k = contexts ? (int)((id - 1) % INST_MAX_KEYS) : -1;
        if (contexts && k >= cfg->defs[idx].nctx) return not_found(r, "odsInstanceContext", id);
        instance_def d = cfg->defs[idx];
        err_t e;
        if (contexts) {
            for (int j = k; j + 1 < d.nctx; j++) {
                memcpy(d.ctx_key[j], d.ctx_key[j + 1], sizeof d.ctx_key[j]);
                memcpy(d.ctx_val[j], d.ctx_val[j + 1], sizeof d.ctx_val[j]);
            }
            d.nctx--;
            if (!save_instance(r, &d, false)) return;
        } else if ((e = instances_remove(r->srv->cfg.admin, d.name, who.who, msg, sizeof msg))) {
            return cred_error(r, e, msg, "Name"); /* the default instance stays */
        } else {
            int added, removed;
            api_refresh_instances(r->srv, &added, &removed);
        }
        r->status = 200; /* its data stays on disk: edhub instances remove --delete-data deletes it */
        return;
    }
    if (contexts) {
        json_object *out = json_object_new_array();
        for (int i = 0; i < cfg->n; i++) {
            json_object *c = contexts_view(cfg, i);
            for (size_t k = 0; k < json_object_array_length(c); k++) {
                json_object *x = json_object_array_get_idx(c, k);
                if (id < 0 || json_object_get_int64(jsonx_get(x, "id")) == id) json_object_array_add(out, json_object_get(x));
            }
            json_object_put(c);
        }
        if (id >= 0 && !json_object_array_length(out)) not_found(r, "odsInstanceContext", id);
        else if (id >= 0) reply(r, 200, json_object_array_get_idx(out, 0));
        else page(r, out);
        json_object_put(out);
    } else if (id < 0) {
        json_object *out = json_object_new_array();
        for (int i = 0; i < cfg->n; i++) json_object_array_add(out, instance_view(cfg, i, false));
        page(r, out);
        json_object_put(out);
    } else if (id < 1 || id > cfg->n) {
        not_found(r, "odsInstance", id);
    } else {
        json_object *o = instance_view(cfg, (int)id - 1, true);
        reply(r, 200, o);
        json_object_put(o);
    }
}

void handle_admin(request *r)
{
    const char *p = r->url + strlen("/adminapi");
    if (!*p || !strcmp(p, "/")) {
        if (strcmp(r->method, "GET")) return admin_error(r, 405, "Method not allowed", NULL, "Use GET.");
        buf_puts(&r->out, "{\"version\":\"2.2\",\"build\":\"edhub 0.1.0\"}");
        r->status = 200;
        return;
    }
    if (!strcmp(p, "/connect/token")) return admin_token(r);
    if (strncmp(p, "/v2/", 4)) return admin_error(r, 404, "Not found", NULL, "No such route.");
    if (!admin_authenticate(r)) return;
    char coll[40] = "", sub[40] = "";
    long long id = -1;
    const char *q = p + 4;
    size_t n = strcspn(q, "/?");
    if (n >= sizeof coll) return admin_error(r, 404, "Not found", NULL, "No such route.");
    memcpy(coll, q, n);
    q += n;
    if (*q == '/' && q[1] && q[1] != '?') {
        char *end;
        id = strtoll(q + 1, &end, 10);
        if (end == q + 1 || id < 0) return admin_error(r, 404, "Not found", NULL, "No such route.");
        q = end;
        if (*q == '/' && q[1]) {
            size_t m = strcspn(q + 1, "/?");
            if (m >= sizeof sub) return admin_error(r, 404, "Not found", NULL, "No such route.");
            memcpy(sub, q + 1, m);
        }
    }
    if (!strcmp(coll, "vendors")) vendors(r, id, *sub ? sub : NULL);
    else if (!strcmp(coll, "applications")) applications(r, id, *sub ? sub : NULL);
    else if (!strcmp(coll, "claimSets")) claimsets(r, id, *sub ? sub : NULL);
    else if (!strcmp(coll, "profiles")) profiles(r, id, *sub ? sub : NULL);
    else if (!strcmp(coll, "odsInstances") || !strcmp(coll, "odsInstanceContexts"))
        ods_instances(r, id, *sub ? sub : NULL, coll[11] == 'C');
    else if (id < 0 && (!strcmp(coll, "actions") || !strcmp(coll, "authorizationStrategies"))) lookups(r, coll);
    else admin_error(r, 404, "Not found", NULL, "No such route.");
}
