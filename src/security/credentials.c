/* Credentials on the admin store; see credentials.h. Objects are JSON:
 *   client  (by key)  {key, secretHash, name, vendorId, application,
 *            applicationId, claimSet, edorgs[], namespaces[], profiles[], instances[], enabled,
 *            generation, createdAt}
 *   vendor  (by id)   {id, name, namespaces[], contactName,
 *            contactEmailAddress, createdAt}
 *   counter (by kind) {next}: the ids the Admin API shows              */
#include "credentials.h"
#include "../auth/auth.h"
#include "../base/arena.h"
#include "../base/jsonx.h"
#include "../base/log.h"
#include "../base/timefmt.h"
#include "../base/uuid.h"
#include "../deploy/instances.h"
#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cred_client_free(cred_client *c)
{
    if (!c) return;
    if (c->secret_hash) OPENSSL_cleanse(c->secret_hash, strlen(c->secret_hash));
    free(c->secret_hash);
    free(c->claim_set);
    free(c->edorgs);
    for (int i = 0; i < c->nnamespaces; i++) free(c->namespaces[i]);
    free(c->namespaces);
    for (int i = 0; i < c->nprofiles; i++) free(c->profiles[i]);
    free(c->profiles);
    for (int i = 0; i < c->ninstances; i++) free(c->instances[i]);
    free(c->instances);
    memset(c, 0, sizeof *c);
}

static json_object *parse_body(const char *body)
{
    return json_tokener_parse(body); /* written by this module: trusted */
}

static void add_namespaces(cred_client *c, json_object *arr)
{
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    for (size_t i = 0; i < n && c->nnamespaces < CRED_MAX_NAMESPACES * 2; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
        if (!s || !*s) continue;
        c->namespaces = xrealloc(c->namespaces, sizeof(char *) * (size_t)(c->nnamespaces + 1));
        c->namespaces[c->nnamespaces++] = xstrdup(s);
    }
}

/* A JSON array of names as a NULL-terminated malloc'ed vector. */
static char **load_names(json_object *arr, int max, int *n)
{
    size_t k = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    char **v = xcalloc(k + 1, sizeof(char *));
    *n = 0;
    for (size_t i = 0; i < k && *n < max; i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
        if (s && *s) v[(*n)++] = xstrdup(s);
    }
    return v;
}

err_t cred_client_load(admin_store *a, const char *key, cred_client *out)
{
    memset(out, 0, sizeof *out);
    char *body = NULL;
    err_t e = admin_get(a, "client", key, &body, &out->version);
    if (e) return e;
    json_object *o = parse_body(body);
    free(body);
    if (!o) return ERR_STORAGE;
    snprintf(out->key, sizeof out->key, "%s", key);
    out->secret_hash = xstrdup(jsonx_str(o, "secretHash") ? jsonx_str(o, "secretHash") : "");
    out->claim_set = xstrdup(jsonx_str(o, "claimSet") ? jsonx_str(o, "claimSet") : "");
    out->enabled = jsonx_bool(o, "enabled");
    out->generation = json_object_get_int64(jsonx_get(o, "generation"));
    json_object *eo = jsonx_get(o, "edorgs");
    size_t n = json_object_is_type(eo, json_type_array) ? json_object_array_length(eo) : 0;
    out->edorgs = xcalloc(n + 1, sizeof(int64_t));
    for (size_t i = 0; i < n; i++) out->edorgs[out->nedorgs++] = json_object_get_int64(json_object_array_get_idx(eo, i));
    add_namespaces(out, jsonx_get(o, "namespaces"));
    out->profiles = load_names(jsonx_get(o, "profiles"), CRED_MAX_PROFILES, &out->nprofiles);
    /* Clients from before instances were bound to the only one there was. */
    json_object *io = jsonx_get(o, "instances");
    if (io) out->instances = load_names(io, CRED_MAX_INSTANCES, &out->ninstances);
    else {
        out->instances = xcalloc(2, sizeof(char *));
        out->instances[out->ninstances++] = xstrdup(INST_DEFAULT);
    }
    int64_t vendor = json_object_get_int64(jsonx_get(o, "vendorId"));
    if (vendor > 0) {
        char *vb = NULL, vk[24];
        snprintf(vk, sizeof vk, "%lld", (long long)vendor);
        if (admin_get(a, "vendor", vk, &vb, NULL) == ERR_OK) {
            json_object *v = parse_body(vb);
            add_namespaces(out, jsonx_get(v, "namespaces"));
            json_object_put(v);
        }
        free(vb);
    }
    json_object_put(o);
    return ERR_OK;
}

/* ---- validation ---- */

static bool key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > CRED_KEY_MAX) return false;
    for (const char *p = k; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._~-", *p)) return false;
    return true;
}

static bool secret_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < CRED_SECRET_MIN || n > CRED_SECRET_MAX) return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p == 0x7f) return false;
    return true;
}

static bool namespace_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 255) return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f) return false;
    return true;
}

bool cred_profile_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > CRED_PROFILE_NAME_MAX) return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("!#$&-^_", *p)) return false;
    return true;
}

/* 24 random bytes as URL-safe text: keys of 20 characters, secrets of 32. */
static void random_text(char *out, int len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[64];
    random_bytes(r, sizeof r);
    for (int i = 0; i < len; i++) out[i] = alphabet[r[i] % 62]; /* 256 % 62 bias: < 0.5 bit over 32 chars */
    out[len] = 0;
    OPENSSL_cleanse(r, sizeof r);
}

static char *actor_target(const char *kind, const char *name)
{
    size_t n = strlen(kind) + strlen(name) + 2;
    char *t = xmalloc(n);
    snprintf(t, n, "%s:%s", kind, name);
    return t;
}

/* The body without its secret hash: what listings and the audit log show. */
static char *public_text(const char *body)
{
    if (!body) return NULL;
    json_object *o = parse_body(body);
    if (!o) return NULL;
    json_object_object_del(o, "secretHash");
    char *t = xstrdup(jsonx_text(o));
    json_object_put(o);
    return t;
}

static err_t put_audited(admin_store *a, const char *kind, const char *name, const char *before, const char *after,
                         int64_t expect, const char *action, const cred_actor *who)
{
    char *pb = public_text(before), *pa = public_text(after), *target = actor_target(kind, name);
    admin_event ev = {.actor = who && who->who ? who->who : "?", .action = action, .target = target, .before = pb,
                      .after = pa, .address = who ? who->address : NULL};
    err_t e = admin_put(a, kind, name, after, expect, &ev, NULL);
    free(pb);
    free(pa);
    free(target);
    return e;
}

static void set_str(json_object *o, const char *k, const char *v)
{
    if (v) json_object_object_add(o, k, json_object_new_string(v));
}

/* Validates namespace prefixes and sets them as o's "namespaces". */
static bool put_namespaces(json_object *o, const char *const *ns, int n, const char *owner, char *msg, size_t msglen)
{
    if (n > CRED_MAX_NAMESPACES) {
        snprintf(msg, msglen, "at most %d namespace prefixes per %s", CRED_MAX_NAMESPACES, owner);
        return false;
    }
    for (int i = 0; i < n; i++)
        if (!namespace_ok(ns[i])) {
            snprintf(msg, msglen, "namespace prefix '%s' must be 1-255 characters without blanks", ns[i]);
            return false;
        }
    json_object *arr = json_object_new_array();
    for (int i = 0; i < n; i++) json_object_array_add(arr, json_object_new_string(ns[i]));
    json_object_object_add(o, "namespaces", arr);
    return true;
}

/* Checks one name of a list; false with msg. */
typedef bool (*name_check)(admin_store *a, const char *name, char *msg, size_t msglen);

static bool profile_check(admin_store *a, const char *name, char *msg, size_t msglen)
{
    (void)a;
    if (cred_profile_name_ok(name)) return true;
    snprintf(msg, msglen, "'%.120s' cannot be a profile name (1-%d letters, digits and ! # $ & - ^ _; no dots)", name,
             CRED_PROFILE_NAME_MAX);
    return false;
}

static bool instance_check(admin_store *a, const char *name, char *msg, size_t msglen)
{
    instance_def d;
    if (instance_name_ok(name) && (!strcasecmp(name, INST_DEFAULT) || instances_get(a, ".", name, &d) == ERR_OK))
        return true;
    snprintf(msg, msglen, "no instance named '%.80s' (see: edhub instances list)", name);
    return false;
}

/* Sets o's field to the names, checked, without case-insensitive
 * duplicates (names compare that way in the API). */
static bool put_names(json_object *o, const char *field, const char *const *names, int n, int max, name_check check,
                      admin_store *a, char *msg, size_t msglen)
{
    if (n > max) {
        snprintf(msg, msglen, "at most %d %s per client", max, field);
        return false;
    }
    json_object *arr = json_object_new_array();
    for (int i = 0; i < n; i++) {
        if (!check(a, names[i], msg, msglen)) {
            json_object_put(arr);
            return false;
        }
        bool dup = false;
        for (size_t k = 0; k < json_object_array_length(arr) && !dup; k++)
            dup = !strcasecmp(json_object_get_string(json_object_array_get_idx(arr, k)), names[i]);
        if (!dup) json_object_array_add(arr, json_object_new_string(names[i]));
    }
    json_object_object_add(o, field, arr);
    return true;
}

/* Applies s to the client object o; false with msg on invalid input. */
static bool apply_spec(json_object *o, const claims *cl, admin_store *a, const cred_spec *s, char *msg, size_t msglen)
{
    if (s->claim_set) {
        if (cl && claims_set_index(cl, s->claim_set) < 0) {
            snprintf(msg, msglen, "no claim set is named '%s' (see: edhub claimsets list)", s->claim_set);
            return false;
        }
        int idx = cl ? claims_set_index(cl, s->claim_set) : -1;
        set_str(o, "claimSet", idx >= 0 ? claims_set_name(cl, idx) : s->claim_set);
    }
    if (s->vendor_id) {
        char vk[24];
        snprintf(vk, sizeof vk, "%lld", (long long)*s->vendor_id);
        if (*s->vendor_id && admin_get(a, "vendor", vk, NULL, NULL) != ERR_OK) {
            snprintf(msg, msglen, "no vendor has the id %lld (see: edhub vendors list)", (long long)*s->vendor_id);
            return false;
        }
        json_object_object_add(o, "vendorId", json_object_new_int64(*s->vendor_id));
    }
    if (s->name) {
        if (strlen(s->name) > 200) {
            snprintf(msg, msglen, "the client name is longer than 200 characters");
            return false;
        }
        set_str(o, "name", s->name);
    }
    set_str(o, "application", s->application);
    if (s->nedorgs >= 0) {
        if (s->nedorgs > CRED_MAX_EDORGS) {
            snprintf(msg, msglen, "at most %d education organization ids per client", CRED_MAX_EDORGS);
            return false;
        }
        json_object *arr = json_object_new_array();
        for (int i = 0; i < s->nedorgs; i++) {
            if (s->edorgs[i] < 1 || s->edorgs[i] > 2147483647) {
                json_object_put(arr);
                snprintf(msg, msglen, "education organization id %lld is not a positive 32-bit integer",
                         (long long)s->edorgs[i]);
                return false;
            }
            json_object_array_add(arr, json_object_new_int64(s->edorgs[i]));
        }
        json_object_object_add(o, "edorgs", arr);
    }
    if (s->nnamespaces >= 0 && !put_namespaces(o, s->namespaces, s->nnamespaces, "client", msg, msglen)) return false;
    if (s->profiles && !put_names(o, "profiles", s->profiles, s->nprofiles, CRED_MAX_PROFILES, profile_check, a, msg, msglen))
        return false;
    if (s->instances && !put_names(o, "instances", s->instances, s->ninstances, CRED_MAX_INSTANCES, instance_check, a, msg, msglen))
        return false;
    if (s->enabled >= 0) json_object_object_add(o, "enabled", json_object_new_boolean(s->enabled));
    return true;
}

static void bump_generation(json_object *o)
{
    json_object_object_add(o, "generation", json_object_new_int64(json_object_get_int64(jsonx_get(o, "generation")) + 1));
}

static err_t set_secret(json_object *o, const char *secret, char *secret_out, char *msg, size_t msglen)
{
    char gen[40];
    if (!secret) {
        random_text(gen, 32);
        secret = gen;
    } else if (!secret_ok(secret)) {
        snprintf(msg, msglen, "the secret must be %d-%d printable characters without blanks", CRED_SECRET_MIN,
                 CRED_SECRET_MAX);
        return ERR_INVALID;
    }
    char *hash = auth_hash_secret(secret, AUTH_PBKDF2_ITERATIONS);
    if (!hash) return ERR_NOMEM;
    json_object_object_add(o, "secretHash", json_object_new_string(hash));
    free(hash);
    if (secret_out) snprintf(secret_out, 129, "%s", secret);
    OPENSSL_cleanse(gen, sizeof gen);
    return ERR_OK;
}

/* The next id of a kind (compare-and-swap on its counter object). */
static err_t next_id(admin_store *a, const char *kind, int64_t *id)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        char *body = NULL, text[64];
        int64_t version = 0;
        err_t e = admin_get(a, "counter", kind, &body, &version);
        if (e && e != ERR_NOT_FOUND) return e;
        json_object *o = body ? parse_body(body) : NULL;
        int64_t next = o ? json_object_get_int64(jsonx_get(o, "next")) : 1;
        json_object_put(o);
        free(body);
        if (next < 1) next = 1;
        snprintf(text, sizeof text, "{\"next\":%lld}", (long long)next + 1);
        e = admin_put(a, "counter", kind, text, version, NULL, NULL);
        if (!e) {
            *id = next;
            return ERR_OK;
        }
        if (e != ERR_CONFLICT) return e;
    }
    return ERR_CONFLICT;
}

err_t cred_client_create(admin_store *a, const claims *cl, const cred_spec *s, const cred_actor *who, char *key_out,
                         char *secret_out, int64_t *app_out, char *msg, size_t msglen)
{
    char key[CRED_KEY_MAX + 1];
    if (s->key) {
        if (!key_ok(s->key)) {
            snprintf(msg, msglen, "the key must be 1-%d characters: letters, digits and . _ ~ -", CRED_KEY_MAX);
            return ERR_INVALID;
        }
        snprintf(key, sizeof key, "%s", s->key);
    } else {
        random_text(key, 20);
    }
    if (!s->claim_set) {
        snprintf(msg, msglen, "a client needs a claim set (--claim-set NAME; see: edhub claimsets list)");
        return ERR_INVALID;
    }
    char at[21];
    time_now_iso(at);
    json_object *o = json_object_new_object();
    set_str(o, "key", key);
    set_str(o, "name", key);
    json_object_object_add(o, "vendorId", json_object_new_int64(0));
    set_str(o, "application", "");
    json_object_object_add(o, "edorgs", json_object_new_array());
    json_object_object_add(o, "namespaces", json_object_new_array());
    json_object_object_add(o, "profiles", json_object_new_array());
    json_object *inst = json_object_new_array();
    json_object_array_add(inst, json_object_new_string(INST_DEFAULT));
    json_object_object_add(o, "instances", inst);
    json_object_object_add(o, "enabled", json_object_new_boolean(1));
    json_object_object_add(o, "generation", json_object_new_int64(1));
    set_str(o, "createdAt", at);
    err_t e = ERR_INVALID;
    int64_t app = 0;
    if (!apply_spec(o, cl, a, s, msg, msglen)) goto out;
    if ((e = set_secret(o, s->secret, secret_out, msg, msglen))) goto out;
    if ((e = next_id(a, "application", &app))) goto out;
    json_object_object_add(o, "applicationId", json_object_new_int64(app));
    e = put_audited(a, "client", key, NULL, jsonx_text(o), 0, "client.create", who);
    if (e == ERR_CONFLICT) snprintf(msg, msglen, "a client with key '%s' already exists", key);
    if (!e && key_out) snprintf(key_out, 129, "%s", key);
    if (!e && app_out) *app_out = app;
out:
    json_object_put(o);
    return e;
}

/* Loads a client for a change: its object and version. */
static err_t load_for_change(admin_store *a, const char *key, json_object **o, char **before, int64_t *version, char *msg,
                             size_t msglen)
{
    err_t e = admin_get(a, "client", key, before, version);
    if (e == ERR_NOT_FOUND) snprintf(msg, msglen, "no client has the key '%s' (see: edhub clients list)", key);
    if (e) return e;
    if (!(*o = parse_body(*before))) {
        free(*before);
        return ERR_STORAGE;
    }
    return ERR_OK;
}

/* Any change that affects what the client may do ends its live tokens. */
static err_t change(admin_store *a, const char *key, const char *action, const cred_actor *who, const claims *cl,
                    const cred_spec *s, const char *secret, bool reset, char *secret_out, char *msg, size_t msglen)
{
    for (int attempt = 0; attempt < 5; attempt++) { /* compare-and-swap against concurrent changes */
        json_object *o;
        char *before;
        int64_t version;
        err_t e = load_for_change(a, key, &o, &before, &version, msg, msglen);
        if (e) return e;
        if (s && !apply_spec(o, cl, a, s, msg, msglen)) e = ERR_INVALID;
        if (!e && reset) e = set_secret(o, secret, secret_out, msg, msglen);
        if (!e) {
            bump_generation(o);
            e = put_audited(a, "client", key, before, jsonx_text(o), version, action, who);
        }
        json_object_put(o);
        free(before);
        if (e != ERR_CONFLICT) return e;
    }
    snprintf(msg, msglen, "the client kept changing under this update; try again");
    return ERR_CONFLICT;
}

err_t cred_client_update(admin_store *a, const claims *cl, const char *key, const cred_spec *s, const cred_actor *who,
                         char *msg, size_t msglen)
{
    const char *action = "client.update";
    bool only_enabled = s->nedorgs < 0 && !s->claim_set && s->nnamespaces < 0 && !s->vendor_id && !s->name &&
                        !s->application && !s->profiles && !s->instances;
    if (s->enabled == 0 && only_enabled) action = "client.disable";
    if (s->enabled == 1 && only_enabled) action = "client.enable";
    return change(a, key, action, who, cl, s, NULL, false, NULL, msg, msglen);
}

err_t cred_client_reset(admin_store *a, const char *key, const char *secret, const cred_actor *who, char *secret_out,
                        char *msg, size_t msglen)
{
    return change(a, key, "client.reset", who, NULL, NULL, secret, true, secret_out, msg, msglen);
}

err_t cred_client_delete(admin_store *a, const char *key, const cred_actor *who, char *msg, size_t msglen)
{
    char *before = NULL;
    int64_t version;
    err_t e = admin_get(a, "client", key, &before, &version);
    if (e == ERR_NOT_FOUND) snprintf(msg, msglen, "no client has the key '%s' (see: edhub clients list)", key);
    if (!e) e = put_audited(a, "client", key, before, NULL, version, "client.delete", who);
    free(before);
    return e;
}

err_t cred_client_rehash(admin_store *a, const cred_client *c, const char *new_hash)
{
    char *body = NULL;
    int64_t version;
    err_t e = admin_get(a, "client", c->key, &body, &version);
    if (e) return e;
    json_object *o = parse_body(body);
    free(body);
    if (!o) return ERR_STORAGE;
    /* Only the hash this login verified is replaced (a reset meanwhile wins). */
    if (version != c->version) e = ERR_CONFLICT;
    else {
        json_object_object_add(o, "secretHash", json_object_new_string(new_hash));
        admin_event ev = {.actor = "token-endpoint", .action = "client.rehash"};
        char *t = actor_target("client", c->key);
        ev.target = t;
        e = admin_put(a, "client", c->key, jsonx_text(o), version, &ev, NULL);
        free(t);
    }
    json_object_put(o);
    return e;
}

static bool vendor_fields(json_object *o, const cred_vendor *v, char *msg, size_t msglen)
{
    if (!v->name || !*v->name || strlen(v->name) > 150) {
        snprintf(msg, msglen, "a vendor needs a name of 1-150 characters (--name)");
        return false;
    }
    if (!put_namespaces(o, v->namespaces, v->nnamespaces, "vendor", msg, msglen)) return false;
    set_str(o, "name", v->name);
    set_str(o, "contactName", v->contact_name ? v->contact_name : "");
    set_str(o, "contactEmailAddress", v->contact_email ? v->contact_email : "");
    return true;
}

err_t cred_vendor_find(admin_store *a, const char *name, int64_t *id)
{
    char *all = NULL;
    *id = 0;
    err_t e = admin_list(a, "vendor", &all);
    if (e) return e;
    json_object *arr = json_tokener_parse(all);
    free(all);
    for (size_t i = 0; arr && i < json_object_array_length(arr) && !*id; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (jsonx_str(v, "name") && !strcmp(jsonx_str(v, "name"), name)) *id = json_object_get_int64(jsonx_get(v, "id"));
    }
    json_object_put(arr);
    return *id ? ERR_OK : ERR_NOT_FOUND;
}

err_t cred_vendor_create(admin_store *a, const cred_vendor *v, const cred_actor *who, int64_t *id_out, char *msg,
                         size_t msglen)
{
    char at[21], key[24];
    time_now_iso(at);
    json_object *o = json_object_new_object();
    int64_t id = 0, existing;
    err_t e = ERR_INVALID;
    if (!vendor_fields(o, v, msg, msglen)) goto out;
    if (cred_vendor_find(a, v->name, &existing) == ERR_OK) {
        snprintf(msg, msglen, "a vendor named '%s' already exists (id %lld)", v->name, (long long)existing);
        e = ERR_CONFLICT;
        goto out;
    }
    if ((e = next_id(a, "vendor", &id))) goto out;
    json_object_object_add(o, "id", json_object_new_int64(id));
    set_str(o, "createdAt", at);
    snprintf(key, sizeof key, "%lld", (long long)id);
    e = put_audited(a, "vendor", key, NULL, jsonx_text(o), 0, "vendor.create", who);
    if (!e && id_out) *id_out = id;
out:
    json_object_put(o);
    return e;
}

err_t cred_vendor_update(admin_store *a, int64_t id, const cred_vendor *v, const cred_actor *who, char *msg,
                         size_t msglen)
{
    char key[24], *before = NULL;
    int64_t version;
    snprintf(key, sizeof key, "%lld", (long long)id);
    err_t e = admin_get(a, "vendor", key, &before, &version);
    if (e == ERR_NOT_FOUND) snprintf(msg, msglen, "no vendor has the id %lld", (long long)id);
    if (e) return e;
    json_object *o = parse_body(before);
    if (!o) e = ERR_STORAGE;
    else if (!vendor_fields(o, v, msg, msglen)) e = ERR_INVALID;
    else e = put_audited(a, "vendor", key, before, jsonx_text(o), version, "vendor.update", who);
    json_object_put(o);
    free(before);
    return e;
}

/* Deleting a vendor deletes its clients (as Ed-Fi's Admin API does), each
 * in its own audited transaction and the vendor last: if it stops midway,
 * the vendor is still there and running the delete again finishes it. */
err_t cred_vendor_delete(admin_store *a, int64_t id, const cred_actor *who, char *msg, size_t msglen)
{
    char key[24], *before = NULL, *all = NULL;
    int64_t version;
    snprintf(key, sizeof key, "%lld", (long long)id);
    err_t e = admin_get(a, "vendor", key, &before, &version);
    if (e == ERR_NOT_FOUND) snprintf(msg, msglen, "no vendor has the id %lld (see: edhub vendors list)", (long long)id);
    if (!e) e = admin_list(a, "client", &all);
    json_object *arr = all ? json_tokener_parse(all) : NULL;
    for (size_t i = 0; !e && arr && i < json_object_array_length(arr); i++) {
        json_object *c = json_object_array_get_idx(arr, i);
        if (json_object_get_int64(jsonx_get(c, "vendorId")) == id && jsonx_str(c, "key"))
            e = cred_client_delete(a, jsonx_str(c, "key"), who, msg, msglen);
    }
    json_object_put(arr);
    free(all);
    if (!e) e = put_audited(a, "vendor", key, before, NULL, version, "vendor.delete", who);
    free(before);
    return e;
}

err_t cred_get_json(admin_store *a, const char *kind, const char *name, char **json)
{
    char *body = NULL;
    err_t e = admin_get(a, kind, name, &body, NULL);
    if (e) return e;
    *json = public_text(body);
    free(body);
    return *json ? ERR_OK : ERR_STORAGE;
}

err_t cred_list(admin_store *a, bool vendors, char **json)
{
    char *all = NULL;
    err_t e = admin_list(a, vendors ? "vendor" : "client", &all);
    if (e) return e;
    json_object *arr = json_tokener_parse(all);
    free(all);
    if (!arr) return ERR_STORAGE;
    for (size_t i = 0; i < json_object_array_length(arr); i++)
        json_object_object_del(json_object_array_get_idx(arr, i), "secretHash");
    *json = xstrdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(arr);
    return ERR_OK;
}

void cred_login_failed(admin_store *a, const char *key, const char *address)
{
    char *t = actor_target("client", key);
    admin_event ev = {.actor = "token-endpoint", .action = "login.failed", .target = t, .address = address};
    if (admin_record(a, &ev) != ERR_OK) log_error("audit: cannot record a failed login for key '%s'", key);
    free(t);
}
