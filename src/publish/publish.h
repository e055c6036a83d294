/* edhub publish: copies what changed in one Ed-Fi instance (the source)
 * into another (the target), as the Ed-Fi API Publisher does
 * (integration.md §2), for district-to-state promotion.
 *
 * Either end is a local instance (read from its store directly; written
 * through the engine's validation, the same path as `edhub load`) or any
 * Ed-Fi API over HTTP (change queries on the source; POST upserts, PUT and
 * DELETE on the target through src/load/remote.c).
 *
 * One run: window (bookmark + 1 .. newest committed change version of the
 * source), then the stages key changes (dependency order), upserts
 * (dependency order) and deletes (reverse order); each source document on
 * its way is cleaned (no id, _etag, _lastModifiedDate, links), filtered by
 * an API profile's read content type and its descriptors mapped through the
 * descriptorMappings. Every record the target refuses, and every record
 * held back (an unmapped local descriptor), is one line of the dead-letter
 * report. The bookmark advances only after a run with none. */
#ifndef EDHUB_PUBLISH_H
#define EDHUB_PUBLISH_H
#include "../base/arena.h"
#include "../base/buf.h"
#include "../model/model.h"
#include "../profiles/profiles.h"
#include "../store/store.h"
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PUB_PAGE_SIZE 500
#define PUB_MAX_NAMES 64

/* One end of a publication: a local instance or an API. */
typedef struct pub_end {
    store *s;                       /* local: the instance's open store */
    const char *dir;                /* local: its directory */
    const char *url;                /* API: base URL */
    const char *key, *secret;       /* API: OAuth client credentials */
    struct api_token_cache *token_cache; /* API: a token shared by successive runs, or NULL */
    /* API source: read a snapshot (integration.md §1.7): "newest" sends
     * Use-Snapshot: true, a name Snapshot-Identifier: NAME; NULL: live. */
    const char *snapshot;
} pub_end;

typedef enum { PUB_MAP_SOURCE, PUB_MAP_TARGET, PUB_MAP_BOTH, PUB_MAP_NONE } pub_map_from;

typedef struct pub_opts {
    pub_end source, target;
    const char *source_name;        /* names the source in the bookmark and lineage */
    const char *target_name;        /* names the target in the bookmark */
    const char *state_path;         /* the bookmark file */
    const char *errors_path;        /* the dead-letter report */
    const profile_set *profiles;    /* where --profile is looked up */
    const char *profile;            /* NULL: none */
    const char *state_ns[PUB_MAX_NAMES]; /* namespace prefixes the target has (none: ask the target) */
    int nstate_ns;
    const char *include[PUB_MAX_NAMES]; /* only these resources (none: all) */
    int ninclude;
    const char *exclude[PUB_MAX_NAMES];
    int nexclude;
    bool include_descriptors;
    bool dry_run;                   /* print the window and the resources; change nothing */
    bool full;                      /* ignore the bookmark: everything (a first run) */
    int64_t since;                  /* >= 0: use this as the last change version processed */
    pub_map_from mappings;
    bool lineage;                   /* local target: record where each record came from */
    int connections;                /* target API: requests in flight */
    bool no_batch;
    FILE *progress;                 /* stderr, or NULL */
    const volatile int *stop;       /* set by a signal: stop after the current page */
} pub_opts;

/* What a run did. */
typedef struct pub_stats {
    long upserted, created, updated, rejected;
    long key_changes, deletes, skipped;   /* skipped: nothing to change on the target */
    long held;                      /* not sent: an unmapped local descriptor */
    int64_t min_cv, max_cv;         /* the window */
    bool nothing;                   /* the window was empty */
    bool advanced;                  /* the bookmark moved to max_cv */
    bool interrupted;
    char fatal[1024];               /* why the run stopped, or "" */
} pub_stats;

/* Runs one publication. 0: done, nothing rejected; 1: records rejected or
 * held (listed in the report) or the run stopped; 2: bad options. */
int publish_run(const model *m, const pub_opts *o, pub_stats *st);

/* ---- pure parts (unit-tested) ---- */

/* The change window of a run: min = last + 1 (last < 0: never published:
 * min 0, everything), max = newest. empty when min > max; first when there
 * was no bookmark (key changes and deletes are then skipped: the target
 * gets everything that exists). */
typedef struct pub_window { int64_t min, max; bool empty, first; } pub_window;
pub_window pub_window_of(int64_t last, int64_t newest);

/* Key values ({"schoolId":255901001,"sessionName":"Fall"}) as a query
 * string (schoolId=255901001&sessionName=Fall), names sorted as given,
 * values percent-encoded; false when a value is not a scalar. */
bool pub_key_query(json_object *keys, buf *out);
/* Removes what the source adds and the target sets itself: id, _etag,
 * _lastModifiedDate at the top, link objects anywhere, and for descriptors
 * a "{x}DescriptorId". */
void pub_clean_doc(json_object *doc, const mresource *r);
/* Sets the identity values of doc that new_keys names (under query
 * parameter names, as /keyChanges gives them). false when a name is not
 * part of the resource's identity. */
bool pub_set_key_values(const mresource *r, json_object *doc, json_object *new_keys);

/* The bookmark file: {"<source>|<target>": {"lastChangeVersion": N, ...}}. */
/* The last change version published from source to target, or -1. */
int64_t pub_bookmark_get(const char *path, const char *source, const char *target);
/* Writes the bookmark (temporary file, fsync, rename). */
bool pub_bookmark_put(const char *path, const char *source, const char *target, int64_t last, char *err,
                      size_t errlen);

/* ---- descriptor mappings (integration.md §4.3) ---- */
typedef struct pub_mappings pub_mappings;
pub_mappings *pub_mappings_new(void);
void pub_mappings_free(pub_mappings *mp);
/* Adds one descriptorMappings document; from_target: the target's (wins
 * over the source's for the same value and scope). */
void pub_mappings_add(pub_mappings *mp, json_object *item, bool from_target);
int pub_mappings_count(const pub_mappings *mp);
/* The value a descriptor URI maps to for resource r (by its MetaEd name),
 * or NULL: a mapping scoped to r (modelEntities names it) is preferred over
 * one for every resource; the target's over the source's. */
const char *pub_mappings_find(const pub_mappings *mp, const char *resource_name, const char *uri);

/* Replaces the descriptor values of doc (every string member named
 * "...Descriptor", at any depth) that have a mapping. Then each value
 * whose namespace known(kctx, uri) refuses is appended to unmapped (a JSON
 * array of {"path","value"}); returns how many. known may be NULL (all
 * known). */
typedef bool (*pub_known_fn)(void *kctx, const char *uri);
int pub_map_descriptors(const pub_mappings *mp, const char *resource_name, json_object *doc, pub_known_fn known,
                        void *kctx, json_object *unmapped);

#endif
