/* The generator's output files: one per resource, buffered, in JSON lines
 * ({"resource","document"} per line) or as an Ed-Fi XML interchange of that
 * resource alone (written by xmlwrite). Files are named after the
 * resource's dependency level in the model ("07-studentEducation...jsonl"),
 * so that loading them in sorted name order is loading them in dependency
 * order. Write errors are sticky and reported by out_finish. */
#ifndef EDHUB_GEN_OUT_H
#define EDHUB_GEN_OUT_H
#include "../base/buf.h"
#include "../base/err.h"
#include "gen.h"

typedef struct gen_out gen_out;

/* Opens one file per endpoint ("students") in dir. */
err_t out_open(const model *m, const char *dir, gen_format f, const char *const *endpoints, int n, gen_out **out,
               char *err, size_t errlen);
/* Appends one document (JSON text in doc) to stream s. */
void out_put(gen_out *o, int s, const buf *doc);
/* Ends the files (XML closing tags), flushes and closes them; ERR_IO (with
 * the file and reason) if any write failed. The counts stay readable. */
err_t out_finish(gen_out *o, char *err, size_t errlen);
/* Frees (closing what out_finish has not). */
void out_free(gen_out *o);
/* True once a write failed (the generator stops early). */
bool out_failed(const gen_out *o);
long out_records(const gen_out *o, int s);
long out_total(const gen_out *o);
long long out_bytes(const gen_out *o);
const char *out_file(const gen_out *o, int s);   /* name inside dir */
const char *out_resource(const gen_out *o, int s);  /* "/ed-fi/students" */

#endif
