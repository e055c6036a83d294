/* Record-level authorization (security.md §2.2, §2.7): what a client's
 * claim set allows on a resource for an action, turned into a plan that
 * checks one document (stored or proposed) or filters a list in the store.
 *
 *   result = AND(NamespaceBased, OwnershipBased) AND OR(relationship strategies)
 *   a relationship strategy = AND over its subjects (the resource's
 *   securable elements) of "this value relates to one of my edorgs". */
#ifndef EDHUB_AUTHZ_H
#define EDHUB_AUTHZ_H
#include "../auth/auth.h"
#include "../base/arena.h"
#include "../model/model.h"
#include "../store/store.h"
#include "claims.h"
#include <json-c/json.h>

#define AUTHZ_MAX_GROUPS 8
#define AUTHZ_MAX_REQS 12

typedef struct authz_plan {
    int status;                 /* 0: decided to apply; 403 or 500: refused outright (problem below) */
    const char *type, *title, *detail, *error;
    uint32_t strategies;
    const mresource *r;
    const auth_client *client;
    /* the store filter (also drives single-document checks) */
    store_authz f;
    store_authz_group groups[AUTHZ_MAX_GROUPS];
    store_authz_req reqs[AUTHZ_MAX_GROUPS][AUTHZ_MAX_REQS];
    const char *names[AUTHZ_MAX_GROUPS][AUTHZ_MAX_REQS]; /* "SchoolId", "StudentUniqueId" for messages */
} authz_plan;

/* Plans action act for client c on resource r (allocations in a). A client
 * without a known claim set is refused. */
void authz_plan_for(authz_plan *p, const claims *cl, const auth_client *c, const mresource *r, sec_action act,
                    arena *a);

/* How a relationship is looked up: inside the writer's transaction or on a
 * reader. */
typedef struct authz_reach {
    store *s;          /* reader, or */
    store_txn *t;      /* writer */
} authz_reach;

/* A denial to report: status (403) and the problem fields. */
typedef struct authz_denial {
    int status;
    const char *type, *title, *detail, *error;
} authz_denial;

/* Checks one document: proposed (owner NULL) or stored (existing, with the
 * client that created it). Returns ERR_OK with d->status 0 when allowed,
 * ERR_OK with d->status 403 when denied, or a storage error. */
err_t authz_check(const authz_plan *p, json_object *doc, bool existing, const char *owner, const authz_reach *via,
                  arena *a, authz_denial *d);
/* The same for a stored document. */
err_t authz_check_stored(const authz_plan *p, const store_doc *doc, const authz_reach *via, arena *a, authz_denial *d);

/* The subject values stored beside a document (store_put.sec_*). */
void authz_subjects(const mresource *r, json_object *doc, arena *a, const char **edorg, const char **person);
/* The document pruned to its securable elements (JSON text, NULL when it
 * has none): what a tombstone or key change keeps so that list filters
 * (namespace, every subject) apply to it as they did to the document. */
const char *authz_subjects_json(const mresource *r, json_object *doc, arena *a);
/* Whether documents of r feed the relationship index. */
bool authz_indexes(const mresource *r);
/* Keeps the relationship index in step with a write of a document of r, in
 * the same transaction: doc is the new document, or the deleted one with
 * gone set; existed tells whether doc_id had a previous version. */
err_t authz_index(store_txn *t, const mresource *r, int64_t doc_id, json_object *doc, bool existed, bool gone, arena *a);

#endif
