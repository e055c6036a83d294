/* Loading JSON-lines files through the same pipeline as the API. Each line
 * is {"resource":"/ed-fi/<endpoint>","document":{...}}. Documents are
 * prepared on the calling thread and written through the store's group
 * commit, many per transaction, in file order. */
#ifndef EDHUB_JSONL_H
#define EDHUB_JSONL_H
#include "../model/model.h"
#include "../store/store.h"
#include <stdio.h>

typedef struct load_stats {
    long lines, created, updated, rejected;
} load_stats;

/* Loads one file; rejected records are reported on errs (one JSON object
 * per line with file, line, resource, status and problem). Progress goes to
 * progress when non-NULL. Returns ERR_IO when the file cannot be read. */
err_t load_jsonl(const model *m, store *s, const char *path, const char *owner, FILE *errs, FILE *progress,
                 load_stats *st);

#endif
