/* Credentials: vendors (namespace prefixes) and API clients (key, hashed
 * secret, claim set, education organization ids, enabled), kept in the
 * admin store with every change audited. One place for the rules, whatever
 * the door (CLI, Admin API, token endpoint). Secrets exist in plain text
 * only in the caller's hands: the store keeps PBKDF2 hashes, and audit
 * entries and listings never carry either. */
#ifndef EDHUB_CREDENTIALS_H
#define EDHUB_CREDENTIALS_H
#include "../base/err.h"
#include "../store/admin.h"
#include "claims.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRED_MAX_EDORGS 1000
#define CRED_MAX_NAMESPACES 32
#define CRED_KEY_MAX 100
#define CRED_MAX_PROFILES 32
#define CRED_MAX_INSTANCES 64
#define CRED_PROFILE_NAME_MAX 100
#define CRED_SECRET_MIN 8     /* secrets shorter than this are refused */
#define CRED_SECRET_MAX 200

/* The claim set of the full-access client `edhub init` creates. */
#define CRED_FULL_ACCESS "edhub Full Access"

/* A client as the token endpoint and the authorizer need it. */
typedef struct cred_client {
    char key[CRED_KEY_MAX + 1];
    char *secret_hash;          /* malloc'ed */
    char *claim_set;            /* malloc'ed */
    int64_t *edorgs;            /* malloc'ed */
    int nedorgs;
    char **namespaces;          /* the client's and its vendor's prefixes, malloc'ed */
    int nnamespaces;
    char **profiles;            /* the API profiles assigned to it (names), malloc'ed */
    int nprofiles;
    char **instances;           /* the ODS instances it may use (names), malloc'ed */
    int ninstances;
    bool enabled;
    int64_t generation;         /* moves on every change that must end live tokens */
    int64_t version;            /* the stored object's version (for compare-and-swap) */
} cred_client;

void cred_client_free(cred_client *c);
/* ERR_NOT_FOUND when no client has this key. */
err_t cred_client_load(admin_store *a, const char *key, cred_client *out);

/* What a create/update asks for; NULL / negative = leave as is (update)
 * or default (create). */
typedef struct cred_spec {
    const char *key;            /* create: generated when NULL */
    const char *secret;         /* create/reset: generated when NULL */
    const char *name;
    const int64_t *vendor_id;   /* 0: none */
    const char *application;
    const char *claim_set;
    const int64_t *edorgs;
    int nedorgs;                /* -1: unchanged */
    const char *const *namespaces;
    int nnamespaces;            /* -1: unchanged */
    /* API profiles assigned to the client, by name; NULL: unchanged (create:
     * none); an empty list clears them. */
    const char *const *profiles;
    int nprofiles;
    /* ODS instances the client may use, by name; NULL: unchanged (create:
     * the default instance); each must be registered (edhub instances). */
    const char *const *instances;
    int ninstances;
    int enabled;                /* -1: unchanged, 0/1 */
} cred_spec;

/* Whether name can be a profile's name: 1-100 characters of a media-type
 * facet (letters, digits and ! # $ & - ^ _; no dots, which separate the
 * facets of application/vnd.ed-fi.{resource}.{profile}.{usage}+json). */
bool cred_profile_name_ok(const char *name);

/* Who is acting, for the audit log. */
typedef struct cred_actor { const char *who; const char *address; } cred_actor;

/* Each returns ERR_INVALID / ERR_CONFLICT / ERR_NOT_FOUND with a reason in
 * msg. Generated keys and secrets are written to key_out/secret_out
 * (at least 129 bytes each) when not NULL. cl (may be NULL) checks claim
 * set names. */
err_t cred_client_create(admin_store *a, const claims *cl, const cred_spec *s, const cred_actor *who, char *key_out,
                         char *secret_out, int64_t *application_id, char *msg, size_t msglen);
err_t cred_client_update(admin_store *a, const claims *cl, const char *key, const cred_spec *s, const cred_actor *who,
                         char *msg, size_t msglen);
/* New secret (generated when secret is NULL); ends live tokens. */
err_t cred_client_reset(admin_store *a, const char *key, const char *secret, const cred_actor *who, char *secret_out,
                        char *msg, size_t msglen);
err_t cred_client_delete(admin_store *a, const char *key, const cred_actor *who, char *msg, size_t msglen);
/* Replaces a weaker stored hash after a successful login, only if the
 * client did not change meanwhile (a concurrent reset wins). */
err_t cred_client_rehash(admin_store *a, const cred_client *c, const char *new_hash);

typedef struct cred_vendor {
    const char *name;
    const char *const *namespaces;
    int nnamespaces;
    const char *contact_name, *contact_email;
} cred_vendor;
/* Vendors have numeric ids (the Admin API's); names are unique too. */
err_t cred_vendor_create(admin_store *a, const cred_vendor *v, const cred_actor *who, int64_t *id, char *msg,
                         size_t msglen);
err_t cred_vendor_update(admin_store *a, int64_t id, const cred_vendor *v, const cred_actor *who, char *msg,
                         size_t msglen);
/* Deletes the vendor and its clients. */
err_t cred_vendor_delete(admin_store *a, int64_t id, const cred_actor *who, char *msg, size_t msglen);
err_t cred_vendor_find(admin_store *a, const char *name, int64_t *id);

/* A JSON array of every client (without secret hashes) or vendor; caller frees. */
err_t cred_list(admin_store *a, bool vendors, char **json);
/* One object's public JSON (no secret hash): kind "client" by key, "vendor"
 * by id; caller frees. */
err_t cred_get_json(admin_store *a, const char *kind, const char *name, char **json);

/* Records a failed login (the key asked for, never the secret). */
void cred_login_failed(admin_store *a, const char *key, const char *address);

#endif
