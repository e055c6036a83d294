/* JSON helpers over json-c: a strict parse for untrusted bodies, and small
 * accessors. */
#ifndef EDHUB_JSONX_H
#define EDHUB_JSONX_H
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define JSONX_MAX_DEPTH 64

/* Parses untrusted text strictly: valid UTF-8, no trailing bytes, nesting at
 * most JSONX_MAX_DEPTH, no duplicate keys in an object. On failure returns
 * NULL and writes a one-line reason into err; on a duplicate key,
 * dup_path receives the JSON path of the repeated property ("$.a.b"). */
json_object *jsonx_parse(const char *text, size_t len, char *err, size_t errlen, char *dup_path,
                         size_t dup_len);
/* Parses trusted text (model files); NULL on error. */
json_object *jsonx_parse_file(const char *path, char *err, size_t errlen);

const char *jsonx_str(json_object *o, const char *key);  /* NULL if absent or not a string */
bool jsonx_bool(json_object *o, const char *key);         /* false if absent */
json_object *jsonx_get(json_object *o, const char *key);
/* The value at a dotted path ("$.a.b", no arrays) in doc, or NULL. */
json_object *jsonx_at(json_object *doc, const char *path);
/* Sets the value at path ("$.a.b") of doc, creating objects on the way;
 * takes ownership of v (released when the path is unusable). */
void jsonx_set_at(json_object *doc, const char *path, json_object *v);
/* Compact serialization without slash escaping. */
const char *jsonx_text(json_object *o);

#endif
