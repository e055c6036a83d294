/* Where the loaders (xml.c, jsonl.c) hand their records: the local sink
 * (the embedded instance) or a remote Ed-Fi API (remote.c). A small table
 * of callbacks, so the loaders do not know which. */
#ifndef EDHUB_TARGET_H
#define EDHUB_TARGET_H
#include "../model/model.h"
#include "sink.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct load_target {
    /* One document (JSON text) of resource r read at file:line. */
    void (*put)(void *ctx, const mresource *r, const char *json, size_t len, const char *file, long line);
    /* A record rejected before it reached the target. */
    void (*reject)(void *ctx, const char *file, long line, const char *resource, int status, const char *detail);
    /* Waits until every record handed over is written or rejected (the end
     * of a dependency level or of a JSON-lines file). */
    void (*drain)(void *ctx);
    /* True when the target gave up (e.g. the API became unreachable): the
     * loader stops reading. May be NULL. */
    bool (*stopped)(void *ctx);
    void *ctx;
} load_target;

/* The target of a local sink (k may be NULL: *t then has no ctx and the
 * loader writes nothing). */
void load_target_sink(load_target *t, sink *k);

static inline void target_put(const load_target *t, const mresource *r, const char *json, size_t len,
                              const char *file, long line)
{
    if (t && t->ctx) t->put(t->ctx, r, json, len, file, line);
}
static inline void target_reject(const load_target *t, const char *file, long line, const char *resource, int status,
                                 const char *detail)
{
    if (t && t->ctx) t->reject(t->ctx, file, line, resource, status, detail);
}
static inline void target_drain(const load_target *t)
{
    if (t && t->ctx) t->drain(t->ctx);
}
static inline bool target_stopped(const load_target *t)
{
    return t && t->ctx && t->stopped && t->stopped(t->ctx);
}

#endif
