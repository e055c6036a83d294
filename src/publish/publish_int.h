/* Internal to src/publish: the two ends (source.c, target.c). */
#ifndef EDHUB_PUBLISH_INT_H
#define EDHUB_PUBLISH_INT_H
#include "../load/apiconn.h"
#include "../load/remote.h"
#include "../load/sink.h"
#include "../load/target.h"
#include "publish.h"

/* ---- the source ---- */

typedef struct pub_source {
    const model *m;
    store *s;            /* local */
    api_conn *c;         /* API (NULL: local) */
    api_conn conn;
    buf resp;
    char snapshot_header[160]; /* "Use-Snapshot: true", "Snapshot-Identifier: N", or "" */
} pub_source;

/* One source document, cleaned of nothing yet (the API's id, _etag and
 * links are still there; a local document has no id inside). */
typedef struct pub_item {
    const char *id;      /* the source's id */
    const char *owner;   /* the client that created it (local source), or NULL */
    json_object *doc;    /* borrowed: the callback may change it */
} pub_item;
typedef bool (*pub_item_fn)(void *ctx, const pub_item *it);

/* One /deletes or /keyChanges entry. */
typedef struct pub_change {
    const char *id;
    int64_t change_version;
    json_object *keys;                 /* deletes: keyValues */
    json_object *old_keys, *new_keys;  /* key changes */
} pub_change;
typedef bool (*pub_change_fn)(void *ctx, const pub_change *c);

/* Opens the source: a local store, or an API (err says what to do). */
bool pub_source_open(pub_source *src, const model *m, const pub_end *e, FILE *log, char *err, size_t errlen);
void pub_source_close(pub_source *src);
/* The newest committed change version (the window's max). */
bool pub_source_newest(pub_source *src, int64_t *out, char *err, size_t errlen);
/* Documents of r changed in [min, max] (0: open), about *total of them
 * (counted first). Local: in doc_id order by keyset (a document updated
 * meanwhile leaves the window without shifting the others); API: offset
 * pages, counted again at the end: when the count fell (something left the
 * window and may have shifted a row into a page already read), read again. */
bool pub_source_count(pub_source *src, const mresource *r, int64_t min, int64_t max, int64_t *total, char *err,
                      size_t errlen);
bool pub_source_docs(pub_source *src, const mresource *r, int64_t min, int64_t max, pub_item_fn fn, void *ctx,
                     char *err, size_t errlen);
/* Deletes (key_changes false) or key changes of r in [min, max]. */
bool pub_source_changes(pub_source *src, const mresource *r, bool key_changes, int64_t min, int64_t max,
                        pub_change_fn fn, void *ctx, char *err, size_t errlen);

/* ---- the target ---- */

typedef struct pub_target {
    const model *m;
    store *s;            /* local */
    sink *k;
    remote *rm;          /* API */
    api_conn *c;
    load_target lt;      /* upserts go here */
    load_stats st;
    FILE *reports;       /* what sink/remote reject, read back after each drain */
    const char *owner;   /* local: the client key recorded on written documents */
    buf resp;
} pub_target;

/* The outcome of a synchronous target operation. */
typedef struct pub_result {
    int status;          /* HTTP status; 0: no answer */
    json_object *problem;/* owned, or NULL */
} pub_result;
void pub_result_clear(pub_result *r);

bool pub_target_open(pub_target *t, const model *m, const pub_end *e, const pub_opts *o, char *err, size_t errlen);
void pub_target_close(pub_target *t);
/* Finds the item of r whose natural key is keys: 1 with its id and
 * document (owned), 0 when there is none, -1 with res on failure. */
int pub_target_find(pub_target *t, const mresource *r, json_object *keys, char id[64], json_object **doc,
                    pub_result *res);
/* PUT / DELETE by id; true on success, else res says why. */
bool pub_target_put(pub_target *t, const mresource *r, const char *id, json_object *doc, pub_result *res);
bool pub_target_delete(pub_target *t, const mresource *r, const char *id, pub_result *res);
/* Whether the target has a descriptor of descriptor resource d in
 * namespace ns (one query; the caller caches). */
bool pub_target_has_namespace(pub_target *t, const mresource *d, const char *ns);
/* Every document of r on the target (descriptor mappings). */
bool pub_target_all(pub_target *t, const mresource *r, pub_item_fn fn, void *ctx, char *err, size_t errlen);

#endif
