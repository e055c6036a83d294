/* The write pipeline every document goes through, whatever the door (HTTP
 * API, bootstrap, loader): parse, validate and normalize against the model,
 * check equality constraints, extract identity and references (on the
 * caller's thread), then resolve references, upsert/update/delete and
 * cascade identity changes inside one store job (on the writer). */
#ifndef EDHUB_ENGINE_H
#define EDHUB_ENGINE_H
#include "../base/arena.h"
#include "../model/document.h"
#include "../model/model.h"
#include "../profiles/profiles.h"
#include "../store/store.h"
#include <json-c/json.h>

/* What an operation produced: a success or an Ed-Fi problem. */
typedef struct outcome {
    int status;                 /* HTTP status */
    const char *type;           /* problem type URN (status >= 400) */
    const char *title;
    const char *detail;
    json_object *validation;    /* {path: [messages]}, owned, may be NULL */
    json_object *errors;        /* [messages], owned, may be NULL */
    const char *allow;          /* Allow header for 405 */
    char id[37];                /* the item written */
    int64_t etag;
} outcome;

void outcome_free(outcome *o);
/* Sets a problem; errors_msg (optional) becomes the single "errors" item. */
void outcome_problem(outcome *o, int status, const char *type, const char *title, const char *detail,
                     const char *errors_msg);

/* Sets the problem the profiles library chose (a message with a path goes
 * into validationErrors). */
void outcome_profile(outcome *o, const profile_error *pe);

typedef enum { OP_UPSERT, OP_PUT, OP_DELETE } write_op;

/* One write request. Allocate it in the request arena; engine_prepare fills
 * the document fields, engine_write_job runs on the writer. */
typedef struct wreq {
    const model *m;
    const mresource *r;
    arena *a;
    write_op op;
    const char *id;             /* PUT/DELETE: the URL id (canonical form) */
    const char *if_match;       /* header values, or NULL */
    const char *if_none_match;
    const char *owner;          /* client key */
    /* Authorization of the write (NULL: a trusted door such as the
     * bootstrap or the local loader). POST needs both plans: whether it
     * creates or updates is known only inside the job. */
    const struct authz_plan *az_create, *az_update, *az_delete;
    /* A write through an API profile (integration.md §3), or NULL. Prepare
     * drops what the write content type excludes and validates the rest
     * (required members it excludes may be absent); the writer then merges
     * with the stored document, or checks that the profile can create,
     * and validates the result, which becomes doc. */
    const profile_ct *profile;
    json_object *sent;          /* the prepared document as sent (owned; profile only) */
    json_object *doc;           /* normalized document (owned) */
    docinfo info;
    outcome *out;
    /* The document as stored, serialized by prepare (on the caller's
     * thread, not the single writer's) with a slot per reference for its
     * link, which only the writer can fill (it needs the target's id).
     * NULL: the writer serializes the document itself. */
    const char *text;
    int nslots;
    struct wslot *slots;
    const char **link_text;     /* per reference: its link object, set by the writer */
} wreq;

/* Parses and checks a POST/PUT body. Returns false with out filled in on
 * a client error. */
bool engine_prepare(wreq *w, const char *body, size_t len);
/* The store job for w (store_job_fn). */
err_t engine_write_job(store_txn *t, void *ctx);
/* The referential ids a prepared upsert will look up (its own identity,
 * alias and references), allocated in w->a, for store_submit_keyed. */
int engine_keys(wreq *w, const uuid_t16 **keys);
/* Releases what prepare allocated outside the arena. */
void engine_release(wreq *w);

/* Rebuilds the relationship index of record-level authorization from the
 * stored documents (edhub migrate: data written before the index existed).
 * *indexed counts the documents read. */
err_t engine_reindex(store *s, const model *m, long *indexed);

/* Formats a stored document as the API returns it (id, body, _etag,
 * _lastModifiedDate) onto out. */
struct buf;
void engine_render(struct buf *out, const store_doc *d);

#endif
