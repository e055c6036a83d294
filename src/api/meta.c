/* Discovery document, metadata index, OpenAPI documents and the dependency
 * order: all derived from the model. */
#include "api_int.h"
#include "../base/jsonx.h"
#include <stdio.h>
#include <string.h>

#define EDHUB_VERSION "0.1.0"
/* Where the per-request route root goes in the cached OpenAPI documents. */
#define OPENAPI_SERVER_MARK "\"servers\":[{\"url\":\""

void handle_discovery(request *r)
{
    const char *base = req_base_url(r);
    const model *m = r->srv->m;
    buf *o = &r->out;
    buf_puts(o, "{\"version\":\"7.3\",\"applicationName\":\"edhub\",\"informationalVersion\":\"edhub " EDHUB_VERSION
                " (Ed-Fi ODS/API 7.3 compatible)\",\"suite\":\"3\",\"build\":\"" EDHUB_VERSION "\",\"dataModels\":[{\"name\":");
    buf_json_str(o, m->project_name);
    buf_puts(o, ",\"version\":");
    buf_json_str(o, m->project_version);
    buf_puts(o, ",\"informationalVersion\":");
    buf_json_str(o, m->project_description ? m->project_description : "");
    buf_puts(o, "}],\"urls\":{");
    buf_printf(o, "\"dependencies\":\"%s/metadata/data/v3/dependencies\",", base);
    buf_printf(o, "\"openApiMetadata\":\"%s/metadata/\",", base);
    buf_printf(o, "\"oauth\":\"%s/oauth/token\",", base);
    buf_printf(o, "\"oauthTokenIntrospection\":\"%s/oauth/token_info\",", base);
    buf_printf(o, "\"dataManagementApi\":\"%s/data/v3/\",", base);
    buf_printf(o, "\"changeQueries\":\"%s/changeQueries/v1/\"", base);
    buf_puts(o, "}}");
    r->status = 200;
}

void handle_metadata(request *r, route_kind k)
{
    api_server *s = r->srv;
    r->status = 200;
    switch (k) {
    case RT_METADATA: {
        const char *base = req_base_url(r);
        buf_printf(&r->out,
                   "[{\"name\":\"Resources\",\"endpointUri\":\"%s/metadata/data/v3/resources/swagger.json\",\"prefix\":\"\"},"
                   "{\"name\":\"Descriptors\",\"endpointUri\":\"%s/metadata/data/v3/descriptors/swagger.json\",\"prefix\":\"\"}]",
                   base, base);
        break;
    }
    case RT_OPENAPI_RESOURCES:
    case RT_OPENAPI_DESCRIPTORS: {
        /* The cached document names the server "/data/v3"; clients need
         * the route root they came through (tenant, context). */
        const char *doc = k == RT_OPENAPI_RESOURCES ? s->openapi_resources : s->openapi_descriptors;
        const char *mark = strstr(doc, OPENAPI_SERVER_MARK);
        if (!mark) {
            buf_puts(&r->out, doc);
            break;
        }
        size_t at = (size_t)(mark - doc) + strlen(OPENAPI_SERVER_MARK);
        buf_append(&r->out, doc, at);
        buf_puts(&r->out, req_base_url(r)); /* no quotes or backslashes: checked where it is built */
        buf_puts(&r->out, doc + at);
        break;
    }
    case RT_DEPENDENCIES: {
        const char *accept = req_get_header(r, "Accept");
        if (accept && strstr(accept, "application/graphml")) {
            r->content_type = "application/graphml";
            buf_puts(&r->out, s->dependencies_graphml);
        } else {
            buf_puts(&r->out, s->dependencies);
        }
        break;
    }
    default: r->status = 404;
    }
}

/* ---- OpenAPI 3.0 from the model ---- */

static const char *schema_name(const mresource *res, char *out, size_t n)
{
    snprintf(out, n, "edFi_%c%s", res->name[0] | 0x20, res->name + 1);
    return out;
}

/* Copies a JSON Schema node into OpenAPI 3.0's dialect. */
static json_object *to_openapi(json_object *js)
{
    if (!json_object_is_type(js, json_type_object)) return json_object_get(js);
    json_object *o = json_object_new_object();
    json_object_object_foreach(js, k, v)
    {
        if (!strcmp(k, "$schema") || !strcmp(k, "title") || !strcmp(k, "uniqueItems") || !strcmp(k, "additionalProperties"))
            continue;
        if (!strcmp(k, "properties")) {
            json_object *p = json_object_new_object();
            json_object_object_foreach(v, pk, pv) json_object_object_add(p, pk, to_openapi(pv));
            json_object_object_add(o, k, p);
        } else if (!strcmp(k, "items")) {
            json_object_object_add(o, k, to_openapi(v));
        } else {
            json_object_object_add(o, k, json_object_get(v));
        }
    }
    return o;
}

static json_object *param(const char *name, const char *in, const char *type, const char *format, bool required,
                          const char *desc)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "name", json_object_new_string(name));
    json_object_object_add(p, "in", json_object_new_string(in));
    json_object_object_add(p, "required", json_object_new_boolean(required));
    if (desc) json_object_object_add(p, "description", json_object_new_string(desc));
    json_object *sc = json_object_new_object();
    json_object_object_add(sc, "type", json_object_new_string(type));
    if (format) json_object_object_add(sc, "format", json_object_new_string(format));
    json_object_object_add(p, "schema", sc);
    return p;
}

static json_object *responses(const char *codes)
{
    json_object *r = json_object_new_object();
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s", codes);
    for (char *save = NULL, *c = strtok_r(tmp, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        json_object *d = json_object_new_object();
        json_object_object_add(d, "description", json_object_new_string(c[0] == '2' || c[0] == '3' ? "Success" : "Error"));
        json_object_object_add(r, c, d);
    }
    return r;
}

static json_object *ref_content(const char *schema, bool array)
{
    json_object *ref = json_object_new_object();
    char t[256];
    snprintf(t, sizeof t, "#/components/schemas/%s", schema);
    json_object_object_add(ref, "$ref", json_object_new_string(t));
    json_object *sc = ref;
    if (array) {
        sc = json_object_new_object();
        json_object_object_add(sc, "type", json_object_new_string("array"));
        json_object_object_add(sc, "items", ref);
    }
    json_object *mt = json_object_new_object();
    json_object_object_add(mt, "schema", sc);
    json_object *c = json_object_new_object();
    json_object_object_add(c, "application/json", mt);
    return c;
}

/* ---- change queries (integration.md §1.3-1.5) ---- */

static void add_change_window(json_object *ps)
{
    json_object_array_add(ps, param("minChangeVersion", "query", "integer", "int64", false,
                                    "Only items changed at or after this change version."));
    json_object_array_add(ps, param("maxChangeVersion", "query", "integer", "int64", false,
                                    "Only items changed at or before this change version."));
}

static json_object *string_schema(const char *format)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "type", json_object_new_string(format && !strcmp(format, "int64") ? "integer" : "string"));
    if (format) json_object_object_add(o, "format", json_object_new_string(format));
    return o;
}

static void add_change_schemas(json_object *schemas)
{
    static const char *names[] = {"edhub_trackedDelete", "edhub_trackedKeyChange"};
    for (int k = 0; k < 2; k++) {
        json_object *sc = json_object_new_object(), *props = json_object_new_object();
        json_object_object_add(sc, "type", json_object_new_string("object"));
        json_object_object_add(props, "id", string_schema(NULL));
        json_object_object_add(props, "changeVersion", string_schema("int64"));
        const char *kv[] = {k ? "oldKeyValues" : "keyValues", k ? "newKeyValues" : NULL};
        for (int j = 0; j < 2 && kv[j]; j++) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "type", json_object_new_string("object"));
            json_object_object_add(o, "description",
                                   json_object_new_string("The natural key, under the names of the query parameters."));
            json_object_object_add(props, kv[j], o);
        }
        json_object_object_add(sc, "properties", props);
        json_object_object_add(schemas, names[k], sc);
    }
}

/* GET {coll}/deletes, and {coll}/keyChanges for resources (descriptor
 * keys never change). */
static void add_change_paths(json_object *paths, const char *coll, bool key_changes)
{
    for (int k = 0; k < (key_changes ? 2 : 1); k++) {
        json_object *get = json_object_new_object(), *ps = json_object_new_array();
        json_object_object_add(get, "summary", json_object_new_string(
                                   k ? "Retrieves the natural-key changes of items (change queries; ReadChanges permission)."
                                     : "Retrieves deleted items with their natural keys (change queries; ReadChanges permission)."));
        json_object_array_add(ps, param("offset", "query", "integer", "int32", false, "Items to skip."));
        json_object_array_add(ps, param("limit", "query", "integer", "int32", false, "Items to return (0-500, default 500)."));
        json_object_array_add(ps, param("totalCount", "query", "boolean", NULL, false, "Return the Total-Count header."));
        add_change_window(ps);
        json_object_object_add(get, "parameters", ps);
        json_object *gr = responses("200,400,401,403,500");
        json_object_object_add(jsonx_get(gr, "200"), "content", ref_content(k ? "edhub_trackedKeyChange" : "edhub_trackedDelete", true));
        json_object_object_add(get, "responses", gr);
        json_object *p = json_object_new_object();
        json_object_object_add(p, "get", get);
        char path[300];
        snprintf(path, sizeof path, "%s/%s", coll, k ? "keyChanges" : "deletes");
        json_object_object_add(paths, path, p);
    }
}

char *openapi_build(const model *m, bool descriptors)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "openapi", json_object_new_string("3.0.1"));
    json_object *info = json_object_new_object();
    json_object_object_add(info, "title", json_object_new_string(descriptors ? "Ed-Fi Descriptors (edhub)" : "Ed-Fi Resources (edhub)"));
    json_object_object_add(info, "version", json_object_new_string(m->project_version));
    json_object_object_add(doc, "info", info);
    json_object *servers = json_object_new_array();
    json_object *srv = json_object_new_object();
    json_object_object_add(srv, "url", json_object_new_string("/data/v3"));
    json_object_array_add(servers, srv);
    json_object_object_add(doc, "servers", servers);
    json_object *paths = json_object_new_object();
    json_object *schemas = json_object_new_object();
    for (int i = 0; i < m->nres; i++) {
        const mresource *res = &m->res[i];
        if (res->is_descriptor != descriptors) continue;
        char sn[160], coll[256], item[300];
        schema_name(res, sn, sizeof sn);
        json_object *sc = to_openapi(res->schema_json);
        json_object *props = jsonx_get(sc, "properties");
        if (props) {
            json_object *idp = json_object_new_object();
            json_object_object_add(idp, "type", json_object_new_string("string"));
            json_object_object_add(idp, "description", json_object_new_string("The resource identifier (read-only on POST)."));
            json_object_object_add(props, "id", idp);
            json_object *et = json_object_new_object();
            json_object_object_add(et, "type", json_object_new_string("string"));
            json_object_object_add(et, "readOnly", json_object_new_boolean(1));
            json_object_object_add(props, "_etag", et);
            json_object *lm = json_object_new_object();
            json_object_object_add(lm, "type", json_object_new_string("string"));
            json_object_object_add(lm, "format", json_object_new_string("date-time"));
            json_object_object_add(lm, "readOnly", json_object_new_boolean(1));
            json_object_object_add(props, "_lastModifiedDate", lm);
        }
        json_object_object_add(schemas, sn, sc);
        snprintf(coll, sizeof coll, "/%s/%s", res->project_endpoint, res->endpoint);
        snprintf(item, sizeof item, "%s/{id}", coll);
        json_object *get = json_object_new_object();
        json_object_object_add(get, "summary", json_object_new_string("Retrieves resources with paging and query by field."));
        json_object *ps = json_object_new_array();
        json_object_array_add(ps, param("offset", "query", "integer", "int32", false, "Items to skip."));
        json_object_array_add(ps, param("limit", "query", "integer", "int32", false, "Items to return (0-500, default 500)."));
        json_object_array_add(ps, param("totalCount", "query", "boolean", NULL, false, "Return the Total-Count header."));
        json_object_array_add(ps, param("pageToken", "query", "string", NULL, false, "Cursor paging token (Next-Page-Token, partitions)."));
        json_object_array_add(ps, param("pageSize", "query", "integer", "int32", false, "Items per cursor page (1-500)."));
        add_change_window(ps);
        for (int q = 0; q < res->nquery; q++) {
            const mquery *mq = &res->query[q];
            const char *t = mq->type == QT_NUMBER ? "number" : mq->type == QT_BOOLEAN ? "boolean" : "string";
            const char *f = mq->type == QT_DATE ? "date" : mq->type == QT_DATETIME ? "date-time" : NULL;
            json_object_array_add(ps, param(mq->name, "query", t, f, false, NULL));
        }
        json_object_object_add(get, "parameters", ps);
        json_object *gr = responses("200,400,401,403,500");
        json_object *ok = jsonx_get(gr, "200");
        json_object_object_add(ok, "content", ref_content(sn, true));
        json_object_object_add(get, "responses", gr);
        json_object *post = json_object_new_object();
        json_object_object_add(post, "summary", json_object_new_string("Creates or updates a resource by its natural key."));
        json_object *rb = json_object_new_object();
        json_object_object_add(rb, "required", json_object_new_boolean(1));
        json_object_object_add(rb, "content", ref_content(sn, false));
        json_object_object_add(post, "requestBody", rb);
        json_object_object_add(post, "responses", responses("200,201,400,401,403,409,412,500"));
        json_object *cp = json_object_new_object();
        json_object_object_add(cp, "get", get);
        json_object_object_add(cp, "post", post);
        json_object_object_add(paths, coll, cp);
        json_object *ip = json_object_new_object();
        json_object *idps = json_object_new_array();
        json_object_array_add(idps, param("id", "path", "string", NULL, true, "The resource identifier."));
        json_object_object_add(ip, "parameters", idps);
        json_object *gi = json_object_new_object();
        json_object *gir = responses("200,304,400,401,403,404,500");
        json_object_object_add(jsonx_get(gir, "200"), "content", ref_content(sn, false));
        json_object_object_add(gi, "responses", gir);
        json_object_object_add(ip, "get", gi);
        json_object *pu = json_object_new_object();
        json_object *prb = json_object_new_object();
        json_object_object_add(prb, "required", json_object_new_boolean(1));
        json_object_object_add(prb, "content", ref_content(sn, false));
        json_object_object_add(pu, "requestBody", prb);
        json_object_object_add(pu, "responses", responses("204,400,401,403,404,409,412,500"));
        json_object_object_add(ip, "put", pu);
        json_object *de = json_object_new_object();
        json_object_object_add(de, "responses", responses("204,401,403,404,409,412,500"));
        json_object_object_add(ip, "delete", de);
        json_object_object_add(paths, item, ip);
        add_change_paths(paths, coll, !res->is_descriptor);
    }
    add_change_schemas(schemas);
    json_object_object_add(doc, "paths", paths);
    json_object *comp = json_object_new_object();
    json_object_object_add(comp, "schemas", schemas);
    json_object *sec = json_object_new_object();
    json_object *oauth = json_object_new_object();
    json_object_object_add(oauth, "type", json_object_new_string("oauth2"));
    json_object *flows = json_object_new_object();
    json_object *cc = json_object_new_object();
    json_object_object_add(cc, "tokenUrl", json_object_new_string("/oauth/token"));
    json_object_object_add(cc, "scopes", json_object_new_object());
    json_object_object_add(flows, "clientCredentials", cc);
    json_object_object_add(oauth, "flows", flows);
    json_object_object_add(sec, "oauth2_client_credentials", oauth);
    json_object_object_add(comp, "securitySchemes", sec);
    json_object_object_add(doc, "components", comp);
    char *out = xstrdup(jsonx_text(doc));
    json_object_put(doc);
    return out;
}
