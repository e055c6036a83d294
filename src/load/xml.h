/* Ed-Fi XML interchange files (the Bulk Load Client's format): surveyed
 * once, then loaded resource level by resource level in the model's
 * dependency order, each record mapped by xmlmap and written through the
 * sink. Files are streamed (libxml2 reader), one record in memory at a
 * time; DTDs and entities are refused (no interchange has them, and they
 * are how hostile XML explodes). */
#ifndef EDHUB_XML_H
#define EDHUB_XML_H
#include "sink.h"
#include "target.h"
#include <stdbool.h>

/* Loads the files (paths[0..n)); records of unknown elements and records
 * that fail mapping are rejected through the sink, with file and line.
 * progress (may be NULL) gets a bar with rate and ETA. With dry_run set,
 * mapped records are written there as JSON lines ({"resource","document"},
 * the format edhub load reads) instead of being loaded. */
err_t load_xml(sink *k, const model *m, const char *const *paths, int n, FILE *progress, FILE *dry_run,
               load_stats *st);
/* The same into any target (a remote API: edhub load --api); t may be NULL
 * for a dry run. */
err_t load_xml_to(const load_target *t, const model *m, const char *const *paths, int n, FILE *progress,
                  FILE *dry_run, load_stats *st);

/* Maps every record of an in-memory interchange, writing nothing (the
 * fuzz target); *records counts them. False with err on malformed XML. */
bool xml_map_memory(const model *m, const char *data, size_t len, long *records, char *err, size_t errlen);

#endif
