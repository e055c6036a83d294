/* Where loaded records go: prepared on the caller's thread through the same
 * pipeline as the API (validation, identity, references), written through
 * the store's group commit with a bounded number in flight, counted, and
 * every rejection reported as one JSON line (file, line, resource, natural
 * key when known, status and the problem+json fields). */
#ifndef EDHUB_SINK_H
#define EDHUB_SINK_H
#include "../model/model.h"
#include "../store/store.h"
#include <stdbool.h>
#include <stdio.h>

typedef struct load_stats {
    long lines, created, updated, rejected;
    long skipped; /* loaded by an earlier, interrupted run (--resume) */
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

/* Calls fn for each record written (created or updated), on the thread
 * that hands records over (inside sink_put or sink_drain, after the
 * commit): file and line as handed over, and the written document's id. */
typedef void (*sink_written_fn)(void *ctx, const mresource *r, const char *file, long line, const char *id);
void sink_on_written(sink *k, sink_written_fn fn, void *ctx);

/* Resuming an interrupted load. Records (puts and rejects) are numbered in
 * the order they are handed over; the first `skip` are dropped (an earlier
 * run loaded them). With bookmark_path, the number of records durably done
 * and `inputs` (what identifies the input files) are saved there about once
 * a second. */
void sink_resume(sink *k, const char *bookmark_path, const char *inputs, long skip);
/* Saves the bookmark now (complete: the whole input was handed over and done). */
void sink_save_bookmark(sink *k, bool complete);
/* How many records, in order, are durably done (written or rejected). */
long sink_done_prefix(sink *k);
/* The loaders stop reading once *flag is set (Ctrl-C). */
void sink_stop_on(sink *k, const volatile int *flag);
bool sink_stopped(const sink *k);

#endif
