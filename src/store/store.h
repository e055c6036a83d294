/* The storage interface. No SQL crosses it: callers speak documents,
 * referential ids and references. One implementation per backend
 * (store_sqlite.c now; PostgreSQL next).
 *
 * Writes run as jobs on a single writer that batches concurrent jobs into one
 * transaction (group commit): each job runs inside its own savepoint, so a
 * failing job is undone alone, and every job's completion is reported only
 * after its batch is durably committed. Reads go to a pool of reader
 * connections and never block the writer. */
#ifndef EDHUB_STORE_H
#define EDHUB_STORE_H
#include "../base/arena.h"
#include "../base/err.h"
#include "../base/uuid.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct store store;
typedef struct store_txn store_txn;

typedef struct store_opts {
    int readers;       /* reader connections (default 8) */
    int max_batch;     /* jobs per transaction (default 512) */
    /* Resources of the model that deserve their own storage partition where
     * the backend partitions (PostgreSQL); NULL-terminated, may be NULL. */
    const char *const *resources;
    /* Where read-only requests go (a PostgreSQL streaming replica); NULL =
     * the primary. Replicas lag: a read right after a write may miss it. */
    const char *read_location;
    /* Apply pending versioned schema migrations instead of refusing to open
     * an older schema (edhub migrate). */
    bool migrate;
    /* A bulk load: the backend may trade memory for fewer writes. */
    bool bulk;
    /* Reads only (a snapshot, or a copy taken while a server writes): no
     * write job is taken, and PostgreSQL's single-writer lock is not. */
    bool read_only;
} store_opts;

err_t store_open(const char *path, const store_opts *opts, store **out, char *err, size_t errlen);
/* The storage schema version the open store is at (always the current one). */
int store_schema_version(const store *s);
/* Finishes queued jobs, stops the writer, closes every connection. */
void store_close(store *s);

/* A document as stored. */
typedef struct store_doc {
    int64_t doc_id;
    char id[37];
    const char *resource;     /* "ed-fi/schools" */
    const char *body;         /* canonical JSON text, without id/_etag/_lastModifiedDate */
    int64_t etag;
    char last_modified[21];
    uuid_t16 refid;
    const uint8_t *refs;      /* outgoing referential ids, 16 bytes each */
    int nrefs;
    const char *owner;        /* the client that created it (OwnershipBased), or NULL */
    /* Writer-side extras a backend may fill for its own later update or
     * delete of this document (callers ignore them). */
    const char *qvals;
    uuid_t16 alias;
    bool has_alias;
} store_doc;

/* What a writer stores for a document. */
typedef struct store_put {
    const char *resource;
    const uuid_t16 *refid;
    const uuid_t16 *alias;     /* superclass identity, or NULL */
    const char *body;
    const uuid_t16 *refs;      /* outgoing references (documents and descriptors) */
    int nrefs;
    /* The identity under query-parameter names (doc_key_values), recorded as
     * a key change's new key; only needed when the identity changes. */
    const char *key_values;
    const char *owner;         /* client key that wrote it */
    const char *qvals;         /* query-index entries: "key\tvalue\n"... (may be NULL) */
    /* The resource's first education organization and person subjects of
     * authorization (canonical text), or NULL. */
    const char *sec_edorg, *sec_person;
} store_put;

/* ---- write jobs ---- */
typedef err_t (*store_job_fn)(store_txn *t, void *ctx);
typedef void (*store_done_fn)(void *ctx, err_t result);

/* Queues a job; done(ctx, result) runs on the writer thread once the batch
 * holding the job is committed (or the job failed). */
err_t store_submit(store *s, store_job_fn fn, store_done_fn done, void *ctx);
/* The same, naming the referential ids the job will look up, so that the
 * backend can look up a whole batch's ids at once. keys must stay valid
 * until done runs. */
err_t store_submit_keyed(store *s, store_job_fn fn, store_done_fn done, void *ctx, const uuid_t16 *keys, int nkeys);
/* Runs a job and waits for its durable completion. */
err_t store_run(store *s, store_job_fn fn, void *ctx);

/* Inside a job: */
typedef struct store_hit { int64_t doc_id; char id[37]; const char *resource; } store_hit;
err_t txn_find_identity(store_txn *t, const uuid_t16 *refid, arena *a, store_hit *out);
/* The same for n ids at once (one round trip where the backend can):
 * found[i] tells whether hits[i] was filled. */
err_t txn_find_identities(store_txn *t, int n, const uuid_t16 *refids, arena *a, store_hit *hits, bool *found);
err_t txn_get(store_txn *t, const char *resource, int64_t doc_id, arena *a, store_doc *out);
err_t txn_get_by_id(store_txn *t, const char *resource, const char *id, arena *a, store_doc *out);
/* ERR_IDENTITY_CONFLICT when refid or alias is already taken. */
err_t txn_insert(store_txn *t, const store_put *p, store_doc *out);

/* What change queries keep of a document whose natural key goes away
 * (deleted, or changed): the key under query-parameter names, its
 * referential id (a tombstone whose key exists again is not reported), and
 * what record-level authorization filters on, as it was in the document. */
typedef struct store_prior {
    const char *key_values;    /* {"schoolId":255901001,...} (doc_key_values) */
    const uuid_t16 *refid;     /* the natural key's referential id */
    const char *sec_edorg, *sec_person; /* as store_put */
    const char *subjects;      /* the document pruned to its securable elements (JSON), or NULL */
    const char *owner;         /* the client that created the document */
} store_prior;

/* Full replacement; when the identity changed and prior is given, the change
 * is recorded (prior's key as old, p->key_values as new).
 * ERR_IDENTITY_CONFLICT when the new identity is taken. */
err_t txn_update(store_txn *t, const store_doc *old, const store_put *p, const store_prior *prior, store_doc *out);
/* Deletes a document and records its tombstone from prior. */
err_t txn_delete(store_txn *t, const store_doc *old, const store_prior *prior);
/* Documents that reference refid (up to max): doc_id and resource (id is
 * left empty). */
err_t txn_referrers(store_txn *t, const uuid_t16 *refid, arena *a, int max, store_hit **hits, int *n);

/* ---- reads ---- */
err_t store_get_by_id(store *s, const char *resource, const char *id, arena *a, store_doc *out);

typedef enum { SF_TEXT, SF_TEXT_NOCASE, SF_NUMBER, SF_BOOL, SF_ID } store_filter_kind;
typedef struct store_filter {
    const char *json_path;    /* "$.schoolReference.schoolId" */
    const char *index_key;    /* set: match (index_key, index_value) in the query index */
    const char *index_value;  /* canonical text of the value */
    store_filter_kind kind;
    const char *text;
    double number;
    bool boolean;
} store_filter;

typedef struct store_query {
    const char *resource;
    const store_filter *filters;
    int nfilters;
    int64_t offset;           /* offset paging */
    int64_t limit;
    int64_t after;            /* cursor paging: doc_id > after ... */
    int64_t upto;             /* ... and doc_id <= upto (0 = no bound) */
    int64_t min_cv, max_cv;   /* change-version window (0 = open) */
    bool count;               /* also compute the total count */
    const struct store_authz *authz; /* only the documents it permits (NULL: all) */
} store_query;

typedef bool (*store_row_fn)(void *ctx, const store_doc *d);
/* Calls fn per row in doc_id order; *total receives the count when asked;
 * *last receives the last doc_id returned. */
err_t store_query_docs(store *s, const store_query *q, store_row_fn fn, void *ctx, int64_t *total, int64_t *last);
/* ---- change queries (integration.md §1) ---- */

/* One row of /deletes (key_values) or /keyChanges (old and new). Key JSON
 * written before schema 5 has leaf names and is served as stored. */
typedef struct store_change {
    char id[37];
    int64_t change_version;
    const char *key_values;
    const char *old_key_values, *new_key_values;
} store_change;
typedef bool (*store_change_fn)(void *ctx, const store_change *c);
typedef enum { SC_DELETES, SC_KEY_CHANGES } store_change_kind;

/* The changes of q->resource in q's change-version window, ascending by
 * change version, paged by q's offset and limit, filtered by q->authz
 * (through what the tombstone or the key change's first row kept of the
 * document); filters and cursor bounds are ignored. Deletes leave out
 * tombstones whose natural key exists again; key changes are one row per
 * id (the first change's old key, the last's new key and version). */
err_t store_query_changes(store *s, store_change_kind k, const store_query *q, store_change_fn fn, void *ctx,
                          int64_t *total);
/* The newest change version a client may safely keep as its bookmark: no
 * change at or below it can become visible later (availableChangeVersions). */
err_t store_newest_change_version(store *s, int64_t *out);

/* Splits a resource into n contiguous doc_id ranges: bounds[0..n] with
 * bounds[0] = 0; range i is (bounds[i], bounds[i+1]]. *got = ranges made. */
err_t store_partitions(store *s, const char *resource, int n, int64_t *bounds, int *got);

/* ---- the relationship index of record-level authorization ----
 * (security.md §2.7.) Kept in the write transaction of the documents that
 * establish it, so a new enrolment grants access at once. Values are the
 * canonical text of identity values ("255901001"). */

/* Replaces an education organization's parents in the hierarchy
 * (nparents 0: a root; -1: the organization is gone). */
err_t txn_edorg_parents(store_txn *t, const char *edorg, const char *const *parents, int nparents);

typedef enum {
    REL_STUDENT_SCHOOL = 1,  /* StudentSchoolAssociation: student -> school */
    REL_STUDENT_RESPONSIBILITY, /* StudentEducationOrganizationResponsibilityAssociation */
    REL_STAFF,               /* staff assignment and employment: staff -> edorg */
    REL_CONTACT_STUDENT,     /* StudentContactAssociation: contact -> student */
} store_rel;
/* Records that document doc_id relates person to other (an edorg id, or a
 * student for REL_CONTACT_STUDENT). */
err_t txn_rel_put(store_txn *t, int64_t doc_id, store_rel kind, const char *person, const char *other);
/* Marks doc_id's relationships as past: they no longer grant access,
 * except through the ...IncludingDeletes strategies. */
err_t txn_rel_retire(store_txn *t, int64_t doc_id);

/* How a subject value must relate to the caller's education organizations. */
typedef enum {
    SV_EDORG,                /* the value is a claimed edorg or below one */
    SV_EDORG_INVERTED,       /* the value is a claimed edorg or above one */
    SV_STUDENT,              /* enrolled (any time) at a school at or below a claim */
    SV_STUDENT_RESPONSIBILITY,
    SV_STAFF,
    SV_CONTACT,              /* related to such a student */
} store_view;

/* The subject values a document carries outside its body (store_put). */
typedef enum { SUBJ_NONE, SUBJ_EDORG, SUBJ_PERSON } store_subject;

/* One AND-ed requirement: the value at json_path relates through view. */
typedef struct store_authz_req {
    store_view view;
    bool including_deletes;
    const char *json_path;   /* "$.studentReference.studentUniqueId" */
    store_subject stored;    /* which stored subject holds the same value (SUBJ_NONE: only the body) */
} store_authz_req;
typedef struct store_authz_group { int n; const store_authz_req *reqs; } store_authz_group;

/* A list filter: AND(namespace, ownership) AND OR(groups). */
typedef struct store_authz {
    const char *const *claims;   /* the caller's edorg ids */
    int nclaims;
    bool open;                   /* some alternative needs no relationship (NoFurtherAuthorizationRequired) */
    int ngroups;                 /* !open and ngroups 0: nothing passes */
    const store_authz_group *groups;
    const char *ns_path;         /* NamespaceBased: the value at ns_path ... */
    const char *const *ns_prefixes; /* ... starts with one of these (case-insensitive) */
    int nns;
    const char *owner;           /* OwnershipBased: created by this client */
} store_authz;

/* Whether value relates to the claims through view: inside a job (it sees
 * the batch's own writes) or from a reader. */
err_t txn_reachable(store_txn *t, store_view v, bool including_deletes, const char *value, const char *const *claims,
                    int nclaims, bool *ok);
err_t store_reachable(store *s, store_view v, bool including_deletes, const char *value, const char *const *claims,
                      int nclaims, bool *ok);
/* ---- lineage (edhub publish) ----
 * Where a document of this instance came from when a publication put it
 * here: one row per (resource, id), replaced by each later publication of
 * it, kept after the document is deleted (it says what the delete was for). */
typedef struct store_lineage {
    const char *resource;      /* "ed-fi/students" */
    const char *id;            /* the document's id here */
    const char *source;        /* the source's name */
    const char *source_client; /* the client that wrote it at the source, or NULL */
    const char *source_id;     /* its id at the source, or NULL */
    const char *published_at;  /* "2026-11-24T16:00:00Z" */
} store_lineage;
/* Inside a job: records (or replaces) the lineage of l->resource, l->id. */
err_t txn_lineage_put(store_txn *t, const store_lineage *l);
typedef bool (*store_lineage_fn)(void *ctx, const store_lineage *l);
/* The lineage rows matching the given fields (NULL: any), by resource and
 * id, at most limit (0: all). */
err_t store_lineage_query(store *s, const store_lineage *match, int64_t limit, store_lineage_fn fn, void *ctx);

/* True when a reader connection can query the database. */
bool store_healthy(store *s);
/* Counts documents per resource into a JSON object text; caller frees. */
char *store_stats_json(store *s);

/* Copies the store as it is at one point in time (taken while writes go
 * on: it sees every committed batch or none of one) into a new store named
 * name: the SQLite file dir/name.sqlite, or (PostgreSQL) a new database on
 * the same server, made by pg_dump into psql. location (n bytes) receives
 * what store_open takes to open the copy. ERR_CONFLICT when it exists. */
err_t store_snapshot(store *s, const char *dir, const char *name, char *location, size_t n, char *err, size_t errlen);
/* Deletes a copy made by store_snapshot (PostgreSQL: drops its database,
 * ending its sessions). */
err_t store_snapshot_drop(store *s, const char *location, char *err, size_t errlen);

#endif
