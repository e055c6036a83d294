/* ODS instances: route template, registry, selection (see instances.h). */
#include "instances.h"
#include "../base/jsonx.h"
#include "../base/log.h"
#include "../base/uuid.h"
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- route template ---- */

static bool ident_ok(const char *s, size_t n)
{
    if (n < 1 || n > INST_KEY_MAX || !isalpha((unsigned char)s[0])) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return false;
    return true;
}

static bool parse_int(const char *s, size_t n, int64_t *v)
{
    char tmp[24];
    if (n < 1 || n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    long long x = strtoll(tmp, &end, 10);
    if (*end || end == tmp) return false;
    *v = x;
    return true;
}

/* One "{name[:constraint]}" segment of length n into slot i. */
static bool parse_segment(const char *s, size_t n, route_template *t, int i, char *err, size_t errlen)
{
    if (n < 3 || s[0] != '{' || s[n - 1] != '}') {
        snprintf(err, errlen, "each segment of the route template must be {name}, {name:int} or {name:range(lo,hi)}");
        return false;
    }
    const char *body = s + 1;
    size_t bn = n - 2;
    const char *colon = memchr(body, ':', bn);
    size_t kn = colon ? (size_t)(colon - body) : bn;
    if (!ident_ok(body, kn)) {
        snprintf(err, errlen, "'%.*s' cannot be a route key (a letter, then letters, digits or '_'; at most %d)",
                 (int)(kn > 80 ? 80 : kn), body, INST_KEY_MAX);
        return false;
    }
    memcpy(t->key[i], body, kn);
    t->key[i][kn] = 0;
    for (int k = 0; k < i; k++)
        if (!strcasecmp(t->key[k], t->key[i])) {
            snprintf(err, errlen, "the route key '%s' appears twice", t->key[i]);
            return false;
        }
    t->kind[i] = TPL_ANY;
    if (!colon) return true;
    const char *c = colon + 1;
    size_t cn = bn - kn - 1;
    if (cn == 3 && !strncmp(c, "int", 3)) {
        t->kind[i] = TPL_INT;
        return true;
    }
    if (cn > 7 && !strncmp(c, "range(", 6) && c[cn - 1] == ')') {
        const char *a = c + 6, *comma = memchr(a, ',', cn - 7);
        if (comma && parse_int(a, (size_t)(comma - a), &t->lo[i]) &&
            parse_int(comma + 1, (size_t)(c + cn - 1 - comma - 1), &t->hi[i]) && t->lo[i] <= t->hi[i]) {
            t->kind[i] = TPL_RANGE;
            return true;
        }
    }
    snprintf(err, errlen, "unknown constraint '%.*s' in the route template (use int or range(lo,hi))",
             (int)(cn > 80 ? 80 : cn), c);
    return false;
}

bool route_template_parse(const char *text, route_template *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    const char *p = text;
    while (*p == '/') p++;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (t->nkeys == INST_MAX_KEYS) {
            snprintf(err, errlen, "a route template has at most %d segments", INST_MAX_KEYS);
            return false;
        }
        if (!parse_segment(p, n, t, t->nkeys, err, errlen)) return false;
        t->nkeys++;
        p += n;
        while (*p == '/') p++;
    }
    return true;
}

static bool value_fits(const route_template *t, int i, const char *v)
{
    if (t->kind[i] == TPL_ANY) return true;
    int64_t x;
    if (!parse_int(v, strlen(v), &x)) return false;
    for (const char *p = *v == '-' ? v + 1 : v; *p; p++)
        if (!isdigit((unsigned char)*p)) return false;
    return t->kind[i] == TPL_INT || (x >= t->lo[i] && x <= t->hi[i]);
}

bool route_template_match(const route_template *t, const char *path, char vals[][INST_VALUE_MAX + 1],
                          const char **rest)
{
    const char *p = path;
    for (int i = 0; i < t->nkeys; i++) {
        if (*p != '/') return false;
        p++;
        size_t n = strcspn(p, "/?");
        if (n < 1 || n > INST_VALUE_MAX) return false;
        memcpy(vals[i], p, n);
        vals[i][n] = 0;
        if (!value_fits(t, i, vals[i])) return false;
        p += n;
    }
    *rest = p;
    return true;
}

void route_template_text(const route_template *t, char *out, size_t n)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < t->nkeys && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s{%s}", i ? "/" : "", t->key[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* ---- registry ---- */

bool instance_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > INST_NAME_MAX) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') return false;
    return true;
}

/* Registry names are stored lower-case: instance names compare
 * case-insensitively, as route values do. */
static void lower(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++) out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = 0;
}

void instance_data_dir(const char *dir, const char *name, char *out, size_t n)
{
    char low[INST_NAME_MAX + 1];
    lower(name, low, sizeof low);
    if (!strcmp(low, INST_DEFAULT)) snprintf(out, n, "%s", dir);
    else snprintf(out, n, "%s/instances/%s", dir, low);
}

static void from_json(json_object *o, const char *dir, instance_def *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", jsonx_str(o, "name") ? jsonx_str(o, "name") : "");
    snprintf(d->type, sizeof d->type, "%s", jsonx_str(o, "type") ? jsonx_str(o, "type") : "");
    json_object *ctx = jsonx_get(o, "context");
    if (json_object_is_type(ctx, json_type_object)) {
        json_object_object_foreach(ctx, k, v) {
            if (d->nctx == INST_MAX_KEYS) break;
            snprintf(d->ctx_key[d->nctx], sizeof d->ctx_key[0], "%s", k);
            snprintf(d->ctx_val[d->nctx], sizeof d->ctx_val[0], "%s", json_object_get_string(v));
            d->nctx++;
        }
    }
    instance_data_dir(dir, d->name, d->dir, sizeof d->dir);
    snprintf(d->uid, sizeof d->uid, "%s", jsonx_str(o, "uid") ? jsonx_str(o, "uid") : "");
}

static void default_def(const char *dir, instance_def *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, INST_DEFAULT);
    snprintf(d->type, sizeof d->type, "default");
    instance_data_dir(dir, INST_DEFAULT, d->dir, sizeof d->dir);
}

err_t instances_list(admin_store *a, const char *dir, instance_def **out, int *n)
{
    *out = NULL;
    *n = 0;
    char *text = NULL;
    err_t e = admin_list(a, "instance", &text);
    if (e) return e;
    json_object *arr = json_tokener_parse(text);
    free(text);
    size_t k = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    instance_def *v = calloc(k + 1, sizeof *v);
    if (!v) {
        json_object_put(arr);
        return ERR_NOMEM;
    }
    default_def(dir, &v[0]);
    int m = 1;
    for (size_t i = 0; i < k; i++) {
        instance_def d;
        from_json(json_object_array_get_idx(arr, i), dir, &d);
        if (!strcasecmp(d.name, INST_DEFAULT)) {
            snprintf(d.name, sizeof d.name, INST_DEFAULT); /* its type and context only */
            v[0] = d;
        } else if (instance_name_ok(d.name)) {
            v[m++] = d;
        }
    }
    json_object_put(arr);
    *out = v;
    *n = m;
    return ERR_OK;
}

err_t instances_get(admin_store *a, const char *dir, const char *name, instance_def *out)
{
    instance_def *all;
    int n;
    err_t e = instances_list(a, dir, &all, &n);
    if (e) return e;
    e = ERR_NOT_FOUND;
    for (int i = 0; i < n; i++)
        if (!strcasecmp(all[i].name, name)) {
            *out = all[i];
            e = ERR_OK;
            break;
        }
    free(all);
    return e;
}

bool instance_context_add(instance_def *d, const char *kv, char *msg, size_t msglen)
{
    const char *eq = strchr(kv, '=');
    size_t kn = eq ? (size_t)(eq - kv) : 0;
    if (!eq || !ident_ok(kv, kn)) {
        snprintf(msg, msglen, "'%.80s' is not a context (KEY=VALUE, KEY a letter then letters, digits or '_')", kv);
        return false;
    }
    const char *v = eq + 1;
    size_t vn = strlen(v);
    if (vn < 1 || vn > INST_VALUE_MAX || strpbrk(v, "/?#% \t")) {
        snprintf(msg, msglen, "the context value '%.80s' must be 1-%d characters without '/', '?', '#', '%%' or blanks",
                 v, INST_VALUE_MAX);
        return false;
    }
    int slot = d->nctx;
    for (int i = 0; i < d->nctx; i++)
        if (strlen(d->ctx_key[i]) == kn && !strncasecmp(d->ctx_key[i], kv, kn)) slot = i;
    if (slot == INST_MAX_KEYS) {
        snprintf(msg, msglen, "an instance has at most %d context keys", INST_MAX_KEYS);
        return false;
    }
    memcpy(d->ctx_key[slot], kv, kn);
    d->ctx_key[slot][kn] = 0;
    snprintf(d->ctx_val[slot], sizeof d->ctx_val[slot], "%s", v);
    if (slot == d->nctx) d->nctx++;
    return true;
}

static char *to_json(const instance_def *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "type", json_object_new_string(d->type));
    json_object *ctx = json_object_new_object();
    for (int i = 0; i < d->nctx; i++) json_object_object_add(ctx, d->ctx_key[i], json_object_new_string(d->ctx_val[i]));
    json_object_object_add(o, "context", ctx);
    json_object_object_add(o, "uid", json_object_new_string(d->uid));
    char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return text;
}

err_t instances_put(admin_store *a, const instance_def *d, bool create, const char *actor, char *msg, size_t msglen)
{
    if (!instance_name_ok(d->name)) {
        snprintf(msg, msglen, "'%.80s' cannot be an instance name (1-%d letters, digits, '-' or '_')", d->name, INST_NAME_MAX);
        return ERR_INVALID;
    }
    char key[INST_NAME_MAX + 1];
    lower(d->name, key, sizeof key);
    bool is_default = !strcmp(key, INST_DEFAULT);
    if (create && is_default) {
        snprintf(msg, msglen, "the default instance always exists (it lives in the deployment directory itself)");
        return ERR_CONFLICT;
    }
    char *before = NULL;
    int64_t version = 0;
    err_t e = admin_get(a, "instance", key, &before, &version);
    if (e == ERR_NOT_FOUND) {
        if (!create && !is_default) {
            snprintf(msg, msglen, "no instance named '%s' (see: edhub instances list)", d->name);
            return ERR_NOT_FOUND;
        }
        version = 0;
        e = ERR_OK;
    } else if (!e && create) {
        free(before);
        snprintf(msg, msglen, "an instance named '%s' exists already", d->name);
        return ERR_CONFLICT;
    }
    if (e) {
        free(before);
        snprintf(msg, msglen, "cannot read the instance registry: %s", err_name(e));
        return e;
    }
    instance_def w = *d;
    if ((create || !w.uid[0]) && !is_default) { /* a new registration: a new identity (not the old one's store) */
        uuid_t16 u;
        uuid_v4(&u);
        uuid_format(&u, w.uid);
    }
    char *after = to_json(&w);
    char target[INST_NAME_MAX + 16];
    snprintf(target, sizeof target, "instance:%s", key);
    admin_event ev = {.actor = actor, .action = create ? "instance.create" : "instance.update", .target = target,
                      .before = before, .after = after};
    e = admin_put(a, "instance", key, after, version, &ev, NULL);
    if (e == ERR_CONFLICT) snprintf(msg, msglen, "the instance '%s' changed meanwhile; try again", d->name);
    else if (e) snprintf(msg, msglen, "cannot write the instance registry: %s", err_name(e));
    free(before);
    free(after);
    return e;
}

err_t instances_remove(admin_store *a, const char *name, const char *actor, char *msg, size_t msglen)
{
    char key[INST_NAME_MAX + 1];
    lower(name, key, sizeof key);
    if (!strcmp(key, INST_DEFAULT)) {
        snprintf(msg, msglen, "the default instance cannot be removed");
        return ERR_INVALID;
    }
    char *before = NULL;
    int64_t version = 0;
    err_t e = admin_get(a, "instance", key, &before, &version);
    if (e == ERR_NOT_FOUND) {
        snprintf(msg, msglen, "no instance named '%s' (see: edhub instances list)", name);
        return e;
    }
    if (e) {
        snprintf(msg, msglen, "cannot read the instance registry: %s", err_name(e));
        return e;
    }
    char target[INST_NAME_MAX + 16];
    snprintf(target, sizeof target, "instance:%s", key);
    admin_event ev = {.actor = actor, .action = "instance.remove", .target = target, .before = before};
    e = admin_put(a, "instance", key, NULL, version, &ev, NULL);
    if (e) snprintf(msg, msglen, "cannot remove the instance '%s': %s", name, err_name(e));
    free(before);
    return e;
}

/* ---- selection ---- */

static bool matches(const instance_def *d, const route_template *t, char vals[][INST_VALUE_MAX + 1])
{
    for (int i = 0; i < t->nkeys; i++) {
        bool found = false;
        for (int k = 0; k < d->nctx && !found; k++)
            found = !strcasecmp(d->ctx_key[k], t->key[i]) && !strcasecmp(d->ctx_val[k], vals[i]);
        if (!found) return false;
    }
    return true;
}

select_result instance_select(const instance_def *all, int n, const char *const *names, int nnames,
                              const route_template *t, char vals[][INST_VALUE_MAX + 1], int *index)
{
    int bound = 0, only = -1;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < nnames; k++)
            if (!strcasecmp(all[i].name, names[k])) {
                bound++;
                only = i;
                break;
            }
    if (!bound) return SEL_NO_INSTANCE;
    if (bound == 1 && t->nkeys == 0) {
        *index = only;
        return SEL_OK;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < nnames; k++)
            if (!strcasecmp(all[i].name, names[k]) && matches(&all[i], t, vals)) {
                *index = i;
                return SEL_OK;
            }
    return SEL_NO_MATCH;
}
