/* Parsing of request paths and query parameters into typed requests. Pure
 * functions over untrusted text (fuzzed: tests/fuzz/fuzz_route.c). */
#ifndef EDHUB_ROUTE_H
#define EDHUB_ROUTE_H
#include "../base/arena.h"
#include "../engine/engine.h"
#include "../model/model.h"
#include "../store/store.h"
#include <stdbool.h>

typedef enum {
    RT_NOT_FOUND,
    RT_ROOT,
    RT_HEALTH,
    RT_METADATA,
    RT_OPENAPI_RESOURCES,
    RT_OPENAPI_DESCRIPTORS,
    RT_DEPENDENCIES,
    RT_TOKEN,
    RT_TOKEN_INFO,
    RT_COLLECTION,
    RT_ITEM,
    RT_PARTITIONS,
    RT_DELETES,       /* {resource}/deletes (change queries) */
    RT_KEY_CHANGES,   /* {resource}/keyChanges */
    RT_CHANGE_VERSIONS, /* /changeQueries/v1/availableChangeVersions */
    RT_SNAPSHOTS,     /* /changeQueries/v1/snapshots (5.x/6.x snapshot list) */
    RT_BAD_ID,        /* item route whose id is not a UUID: 400 */
} route_kind;

typedef struct route {
    route_kind kind;
    char project[64];
    char endpoint[128];
    char id[37];        /* canonical lower-case hyphenated */
    char raw_id[96];
} route;

void route_parse(const char *path, route *out);

/* One query parameter as received (already percent-decoded). */
typedef struct qparam { const char *name, *value; } qparam;

#define PAGE_MAX 500

/* A validated collection request. */
typedef struct list_request {
    store_query q;
    bool cursor;          /* pageToken/pageSize mode */
    int64_t partitions;   /* number=N for the partitions route */
} list_request;

/* What a list request asks for: documents (query fields, offset or cursor
 * paging), the partitions of a resource, or its deletes or key changes
 * (offset paging and the change-version window only). */
typedef enum { LIST_DOCS, LIST_PARTITIONS, LIST_CHANGES } list_kind;

/* Validates query parameters against the resource's query fields and the
 * paging rules; fills lr (allocating from a) or returns false with the
 * problem in out. */
bool route_list_request(const mresource *r, const qparam *ps, int n, list_kind kind, arena *a, list_request *lr,
                        outcome *out);

/* Decodes one application/x-www-form-urlencoded name or value in place;
 * false on a bad escape. */
bool route_form_decode(char *s);
/* Splits the value of "Authorization: Basic <value>" into key and secret
 * (allocated from a); false when it is not base64 of "key:secret". */
bool route_basic_credentials(const char *value, arena *a, char **key, char **secret);

/* Cursor tokens: opaque text for the doc_id range (after, upto]. */
void route_page_token(int64_t after, int64_t upto, char out[64]);
bool route_page_token_parse(const char *s, int64_t *after, int64_t *upto);

#endif
