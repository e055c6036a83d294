/* JSON-lines files: each line {"resource":"/ed-fi/<endpoint>","document":{...}},
 * submitted in file order. */
#ifndef EDHUB_JSONL_H
#define EDHUB_JSONL_H
#include "sink.h"
#include "target.h"

/* Loads one file into k; progress (may be NULL) gets a line per second.
 * ERR_IO when the file cannot be read. */
err_t load_jsonl(sink *k, const model *m, const char *path, FILE *progress, load_stats *st);
/* The same into any target (a remote API: edhub load --api). */
err_t load_jsonl_to(const load_target *t, const model *m, const char *path, FILE *progress, load_stats *st);

#endif
