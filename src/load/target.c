/* The local sink as a load target; see target.h. */
#include "target.h"

static void sink_put_cb(void *ctx, const mresource *r, const char *json, size_t len, const char *file, long line)
{
    sink_put(ctx, r, json, len, file, line);
}

static void sink_reject_cb(void *ctx, const char *file, long line, const char *resource, int status,
                           const char *detail)
{
    sink_reject(ctx, file, line, resource, status, detail);
}

static void sink_drain_cb(void *ctx) { sink_drain(ctx); }

static bool sink_stopped_cb(void *ctx) { return sink_stopped(ctx); }

void load_target_sink(load_target *t, sink *k)
{
    *t = (load_target){.put = sink_put_cb, .reject = sink_reject_cb, .drain = sink_drain_cb, .stopped = sink_stopped_cb, .ctx = k};
}
