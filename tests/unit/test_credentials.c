/* Unit tests for src/security/credentials.c and src/store/admin.c: clients
 * and vendors in the admin store, generations that end tokens, validation,
 * and the audit log (entries, no secrets, hash chain, append-only). Runs
 * on SQLite, and on PostgreSQL under scripts/with-pg.sh. */
#include "auth/auth.h"
#include "base/arena.h"
#include "base/jsonx.h"
#include "security/credentials.h"
#include "store/admin.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "leak.h"
#include "testdb.h"

static char dir[64], path[256];
static admin_store *S;
static const cred_actor WHO = {"unit", "10.1.2.3"};

static void setup(void)
{
    testdb_location(dir, sizeof dir, path, sizeof path);
    char err[256] = "";
    cr_assert_eq(admin_open(path, &S, err, sizeof err), ERR_OK, "%s", err);
}

static void teardown(void)
{
    admin_close(S);
    testdb_remove(dir, path);
    unit_leak_check();
}

TestSuite(credentials, .init = setup, .fini = teardown);

static cred_spec spec(void) { return (cred_spec){.nedorgs = -1, .nnamespaces = -1, .enabled = -1}; }

static json_object *audit_entries(void)
{
    char *t = NULL;
    cr_assert_eq(admin_audit(S, 0, 1000, &t), ERR_OK);
    json_object *arr = json_tokener_parse(t);
    free(t);
    cr_assert_not_null(arr);
    return arr;
}

Test(credentials, create_load_and_generated_pairs)
{
    char key[160], secret[160], msg[256] = "";
    int64_t edorgs[2] = {255901, 255950}, app = 0;
    cred_spec s = spec();
    s.claim_set = "SIS Vendor";
    s.edorgs = edorgs;
    s.nedorgs = 2;
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, key, secret, &app, msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(strlen(key), 20);
    cr_assert_eq(strlen(secret), 32);
    cr_assert_gt(app, 0);
    cred_client c;
    cr_assert_eq(cred_client_load(S, key, &c), ERR_OK);
    cr_assert_str_eq(c.claim_set, "SIS Vendor");
    cr_assert_eq(c.nedorgs, 2);
    cr_assert_eq(c.edorgs[1], 255950);
    cr_assert(c.enabled);
    cr_assert(auth_verify_secret(secret, c.secret_hash), "the stored hash verifies the generated secret");
    cr_assert_null(strstr(c.secret_hash, secret));
    cred_client_free(&c);
    char key2[160];
    int64_t app2 = 0;
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, key2, secret, &app2, msg, sizeof msg), ERR_OK);
    cr_assert_str_neq(key, key2);
    cr_assert_eq(app2, app + 1, "application ids count up");
}

Test(credentials, validation)
{
    char msg[256];
    cred_spec s = spec();
    s.key = "bad:key";
    s.claim_set = "SIS Vendor";
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_INVALID);
    s.key = "good";
    s.secret = "short";
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_INVALID);
    s.secret = "long-enough-secret";
    s.claim_set = NULL;
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_INVALID);
    s.claim_set = "SIS Vendor";
    int64_t bad = 0;
    s.edorgs = &bad;
    s.nedorgs = 1;
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_INVALID);
    s.nedorgs = 0;
    int64_t nov = 42;
    s.vendor_id = &nov;
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_INVALID, "no vendor 42");
    s.vendor_id = NULL;
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_CONFLICT);
    cr_assert(strstr(msg, "already exists"));
}

Test(credentials, changes_move_the_generation_and_rehash_does_not)
{
    char msg[256];
    cred_spec s = spec();
    s.key = "k1";
    s.secret = "first-secret";
    s.claim_set = "SIS Vendor";
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_OK);
    cred_client c;
    cr_assert_eq(cred_client_load(S, "k1", &c), ERR_OK);
    int64_t g0 = c.generation;
    char *better = auth_hash_secret("first-secret", 1000);
    cr_assert_eq(cred_client_rehash(S, &c, better), ERR_OK);
    free(better);
    cred_client_free(&c);
    cr_assert_eq(cred_client_load(S, "k1", &c), ERR_OK);
    cr_assert_eq(c.generation, g0, "a rehash keeps live tokens");
    cred_client stale = c;
    memset(&c, 0, sizeof c);
    cred_spec off = spec();
    off.enabled = 0;
    cr_assert_eq(cred_client_update(S, NULL, "k1", &off, &WHO, msg, sizeof msg), ERR_OK);
    char *h2 = auth_hash_secret("x", 1000);
    cr_assert_eq(cred_client_rehash(S, &stale, h2), ERR_CONFLICT, "a rehash loses against a concurrent change");
    free(h2);
    cred_client_free(&stale);
    cr_assert_eq(cred_client_load(S, "k1", &c), ERR_OK);
    cr_assert_gt(c.generation, g0);
    cr_assert_not(c.enabled);
    int64_t g1 = c.generation;
    cred_client_free(&c);
    char secret[160];
    cr_assert_eq(cred_client_reset(S, "k1", NULL, &WHO, secret, msg, sizeof msg), ERR_OK);
    cr_assert_eq(cred_client_load(S, "k1", &c), ERR_OK);
    cr_assert_gt(c.generation, g1);
    cr_assert(auth_verify_secret(secret, c.secret_hash));
    cr_assert_not(auth_verify_secret("first-secret", c.secret_hash));
    cred_client_free(&c);
    cr_assert_eq(cred_client_delete(S, "k1", &WHO, msg, sizeof msg), ERR_OK);
    cr_assert_eq(cred_client_load(S, "k1", &c), ERR_NOT_FOUND);
    cr_assert_eq(cred_client_delete(S, "k1", &WHO, msg, sizeof msg), ERR_NOT_FOUND);
}

Test(credentials, vendor_namespaces_and_cascade)
{
    char msg[256];
    const char *ns[2] = {"uri://a.org", "uri://b.org"};
    cred_vendor v = {.name = "Acme", .namespaces = ns, .nnamespaces = 2};
    int64_t id = 0, found = 0;
    cr_assert_eq(cred_vendor_create(S, &v, &WHO, &id, msg, sizeof msg), ERR_OK, "%s", msg);
    cr_assert_eq(cred_vendor_create(S, &v, &WHO, NULL, msg, sizeof msg), ERR_CONFLICT, "names are unique");
    cr_assert_eq(cred_vendor_find(S, "Acme", &found), ERR_OK);
    cr_assert_eq(found, id);
    cred_spec s = spec();
    s.key = "acme-1";
    s.secret = "acme-secret-1";
    s.claim_set = "Assessment Vendor";
    s.vendor_id = &id;
    const char *own[1] = {"uri://own.org"};
    s.namespaces = own;
    s.nnamespaces = 1;
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_OK, "%s", msg);
    cred_client c;
    cr_assert_eq(cred_client_load(S, "acme-1", &c), ERR_OK);
    cr_assert_eq(c.nnamespaces, 3, "its own prefix and the vendor's");
    cr_assert_str_eq(c.namespaces[0], "uri://own.org");
    cr_assert_str_eq(c.namespaces[2], "uri://b.org");
    cred_client_free(&c);
    cr_assert_eq(cred_vendor_delete(S, id, &WHO, msg, sizeof msg), ERR_OK);
    cr_assert_eq(cred_client_load(S, "acme-1", &c), ERR_NOT_FOUND, "a vendor's clients go with it");
}

Test(credentials, audit_log_entries_chain_and_no_secrets)
{
    char msg[256];
    cred_spec s = spec();
    s.key = "aud";
    s.secret = "audit-secret-123";
    s.claim_set = "SIS Vendor";
    cr_assert_eq(cred_client_create(S, NULL, &s, &WHO, NULL, NULL, NULL, msg, sizeof msg), ERR_OK);
    cr_assert_eq(cred_client_reset(S, "aud", "audit-secret-456", &WHO, NULL, msg, sizeof msg), ERR_OK);
    cred_login_failed(S, "aud", "10.9.9.9");
    json_object *arr = audit_entries();
    cr_assert_eq(json_object_array_length(arr), 3);
    const char *actions[3] = {"client.create", "client.reset", "login.failed"};
    for (int i = 0; i < 3; i++) {
        json_object *e = json_object_array_get_idx(arr, (size_t)i);
        cr_assert_str_eq(jsonx_str(e, "action"), actions[i]);
        cr_assert_str_eq(jsonx_str(e, "target"), "client:aud");
        cr_assert_eq(json_object_get_int64(jsonx_get(e, "seq")), i + 1);
    }
    json_object *create = json_object_array_get_idx(arr, 0);
    cr_assert_str_eq(jsonx_str(create, "actor"), "unit");
    cr_assert_str_eq(jsonx_str(create, "address"), "10.1.2.3");
    cr_assert(json_object_is_type(jsonx_get(create, "before"), json_type_null));
    cr_assert_str_eq(jsonx_str(jsonx_get(create, "after"), "claimSet"), "SIS Vendor");
    cr_assert_str_eq(jsonx_str(json_object_array_get_idx(arr, 2), "address"), "10.9.9.9");
    const char *text = json_object_to_json_string(arr);
    cr_assert_null(strstr(text, "audit-secret"), "no secret in the log");
    cr_assert_null(strstr(text, "secretHash"), "no hash in the log");
    json_object_put(arr);
    int64_t bad = -1, n = 0;
    cr_assert_eq(admin_audit_verify(S, &bad, &n), ERR_OK);
    cr_assert_eq(bad, 0);
    cr_assert_eq(n, 3);
    /* the paging of the log */
    char *t = NULL;
    cr_assert_eq(admin_audit(S, 2, 10, &t), ERR_OK);
    json_object *rest = json_tokener_parse(t);
    free(t);
    cr_assert_eq(json_object_array_length(rest), 1);
    json_object_put(rest);
}

Test(credentials, versions_compare_and_swap)
{
    int64_t v = 0;
    cr_assert_eq(admin_put(S, "thing", "a", "{\"x\":1}", 0, NULL, &v), ERR_OK);
    cr_assert_eq(v, 1);
    cr_assert_eq(admin_put(S, "thing", "a", "{\"x\":2}", 0, NULL, NULL), ERR_CONFLICT, "expect 0: must not exist");
    cr_assert_eq(admin_put(S, "thing", "a", "{\"x\":2}", 5, NULL, NULL), ERR_CONFLICT, "stale version");
    cr_assert_eq(admin_put(S, "thing", "a", "{\"x\":2}", 1, NULL, &v), ERR_OK);
    cr_assert_eq(v, 2);
    char *body = NULL;
    cr_assert_eq(admin_get(S, "thing", "a", &body, &v), ERR_OK);
    cr_assert_str_eq(body, "{\"x\":2}");
    free(body);
    cr_assert_eq(admin_put(S, "thing", "a", NULL, -1, NULL, NULL), ERR_OK);
    cr_assert_eq(admin_get(S, "thing", "a", NULL, NULL), ERR_NOT_FOUND);
    cr_assert_eq(admin_put(S, "thing", "a", NULL, -1, NULL, NULL), ERR_NOT_FOUND);
}
