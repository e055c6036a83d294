/* Internal to src/store: what a storage backend implements. store.c owns
 * what is common (the group-commit writer thread, job queue, dispatch);
 * each backend owns its connections, SQL and schema. */
#ifndef EDHUB_STORE_INT_H
#define EDHUB_STORE_INT_H
#include "store.h"

typedef struct store_backend {
    const char *name;
    int schema_version;                 /* the storage schema version it creates and uses */
    /* Opens (and creates or checks the schema of) the database at location. */
    err_t (*open)(const char *location, const store_opts *o, void **impl, char *err, size_t errlen);
    /* Closes everything; the writer thread has already stopped. */
    void (*close)(void *impl);

    /* Writer side: called only on the writer thread. A batch is begin,
     * then per job savepoint + (release | rollback_to), then commit. A
     * backend may run a batch optimistically unless safe is set; it then
     * answers ERR_RETRY (from a job's call, rollback_to or commit) when the
     * batch must be rolled back and run again in safe mode. */
    err_t (*begin)(void *impl, bool safe);
    /* optional: the referential ids the batch's jobs will look up */
    err_t (*prefetch)(void *impl, int n, const uuid_t16 *ids);
    err_t (*savepoint)(void *impl);
    err_t (*release)(void *impl);
    err_t (*rollback_to)(void *impl);   /* undoes the job, releases the savepoint */
    err_t (*commit)(void *impl);        /* on failure the batch is rolled back */
    void (*abort)(void *impl);          /* rolls the whole batch back (before a re-run) */
    void (*idle)(void *impl);           /* optional: after a batch was answered */
    /* optional: whether another process committed since the last call */
    bool (*changed_elsewhere)(void *impl);
    err_t (*find_identity)(void *impl, const uuid_t16 *refid, arena *a, store_hit *out);
    /* optional: batched find_identity (store.c loops when absent) */
    err_t (*find_identities)(void *impl, int n, const uuid_t16 *refids, arena *a, store_hit *hits, bool *found);
    err_t (*get)(void *impl, const char *resource, int64_t doc_id, arena *a, store_doc *out);
    err_t (*get_by_id)(void *impl, const char *resource, const char *id, arena *a, store_doc *out);
    err_t (*insert)(void *impl, const store_put *p, store_doc *out);
    err_t (*update)(void *impl, const store_doc *old, const store_put *p, const store_prior *prior, store_doc *out);
    err_t (*remove)(void *impl, const store_doc *old, const store_prior *prior);
    err_t (*referrers)(void *impl, const uuid_t16 *refid, arena *a, int max, store_hit **hits, int *n);
    err_t (*edorg_parents)(void *impl, const char *edorg, const char *const *parents, int nparents);
    err_t (*rel_put)(void *impl, int64_t doc_id, store_rel kind, const char *person, const char *other);
    err_t (*rel_retire)(void *impl, int64_t doc_id);
    err_t (*lineage_put)(void *impl, const store_lineage *l);
    err_t (*reachable_w)(void *impl, store_view v, bool deletes, const char *value, const char *const *claims, int n,
                         bool *ok);

    /* Readers: any thread, concurrently with the writer. */
    err_t (*read_by_id)(void *impl, const char *resource, const char *id, arena *a, store_doc *out);
    err_t (*query)(void *impl, const store_query *q, store_row_fn fn, void *ctx, int64_t *total, int64_t *last);
    err_t (*partitions)(void *impl, const char *resource, int n, int64_t *bounds, int *got);
    err_t (*query_changes)(void *impl, store_change_kind k, const store_query *q, store_change_fn fn, void *ctx,
                           int64_t *total);
    err_t (*newest_change_version)(void *impl, int64_t *out);
    err_t (*reachable_r)(void *impl, store_view v, bool deletes, const char *value, const char *const *claims, int n,
                         bool *ok);
    err_t (*lineage_query)(void *impl, const store_lineage *match, int64_t limit, store_lineage_fn fn, void *ctx);
    char *(*stats_json)(void *impl);
    bool (*healthy)(void *impl);
    /* A consistent copy (store_snapshot), and its removal. */
    err_t (*snapshot)(void *impl, const char *dir, const char *name, char *location, size_t n, char *err, size_t errlen);
    err_t (*snapshot_drop)(void *impl, const char *location, char *err, size_t errlen);
} store_backend;

extern const store_backend store_sqlite_backend;
extern const store_backend store_pg_backend;

#endif
