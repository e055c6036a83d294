/* Where loaded records go: prepared on the caller's thread through the same
 * pipeline as the API (validation, identity, references), written through
 * the store's group commit with a bounded number in flight, counted, and
 * every rejection reported as one JSON line (file, line, resource, natural
 * key when known, status and the problem+json fields). */
#ifndef EDHUB_SINK_H
#define EDHUB_SINK_H
#include "../model/model.h"
#include "../store/store.h"
#include <stdio.h>

typedef struct load_stats {
    long lines, created, updated, rejected;
} load_stats;

typedef struct sink sink;

/* owner: the client key recorded on written documents; errs may be NULL. */
sink *sink_new(const model *m, store *s, const char *owner, FILE *errs, load_stats *st);
/* Waits for everything submitted, then frees. */
void sink_free(sink *k);
/* Submits one document (JSON text) of resource r read at file:line. */
void sink_put(sink *k, const mresource *r, const char *json, size_t len, const char *file, long line);
/* Reports a record rejected before it reached the pipeline. */
void sink_reject(sink *k, const char *file, long line, const char *resource, int status, const char *detail);
/* Waits until every submitted document is written or rejected. */
void sink_drain(sink *k);

#endif
