/* Model-driven document processing: validate and normalize a request body
 * against its resource's schema, check equality constraints, and extract
 * identity, references and descriptors with their referential ids. Pure
 * functions of (model, document): no I/O, safe on any thread. */
#ifndef EDHUB_DOCUMENT_H
#define EDHUB_DOCUMENT_H
#include "../base/arena.h"
#include "../base/uuid.h"
#include "model.h"
#include <json-c/json.h>

/* Validation failures in Ed-Fi's shape: validationErrors {path: [msg]}. */
typedef struct verrors {
    json_object *by_path;  /* object: path -> array of messages */
    int count;
} verrors;

void verrors_init(verrors *ve);
void verrors_free(verrors *ve);
void verrors_add(verrors *ve, const char *path, const char *msg);

/* Returns the canonical document (properties in schema order, unknown
 * properties, nulls and empty top-level collections dropped, values coerced
 * and normalized), or NULL with errors in ve. Caller owns the result. */
json_object *doc_normalize(const mresource *r, json_object *body, verrors *ve);
/* The same, where a required member may be absent when optional(octx, path)
 * says so (path: its concrete JSON path, "$.addresses[0].city"): a write
 * through an API profile that excludes the member, whose stored value the
 * writer puts back (the merged document is then normalized strictly). */
typedef bool (*doc_optional_fn)(void *octx, const char *path);
json_object *doc_normalize_ex(const mresource *r, json_object *body, verrors *ve, doc_optional_fn optional, void *octx);

/* Equality constraints (key unification), §9. Adds errors, returns ok. */
bool doc_check_equality(const mresource *r, json_object *doc, verrors *ve);

/* One outgoing reference of a document. */
typedef struct docref {
    const mref *ref;          /* document reference, or NULL */
    const mdesc *desc;        /* descriptor reference, or NULL */
    uuid_t16 refid;           /* referential id of the target */
    const char *path;         /* concrete path, e.g. $.classPeriods[0].classPeriodReference */
    json_object *obj;         /* the reference object (document refs) */
    const char *value;        /* descriptor URI (descriptor refs) */
} docref;

typedef struct docinfo {
    uuid_t16 refid;           /* the document's own referential id */
    bool has_alias;
    uuid_t16 alias;           /* superclass referential id */
    const char *key_json;     /* identity as {"leaf": value, ...} */
    const char *key_text;     /* "(schoolId = 255901)" for messages */
    int nrefs;
    docref *refs;
} docinfo;

/* Extracts identity and references from a normalized document. Fails (with
 * errors in ve) only on malformed references. Allocates from a. */
bool doc_extract(arena *a, const mresource *r, json_object *doc, docinfo *out, verrors *ve);

/* The natural key as change queries report it (/deletes keyValues,
 * /keyChanges): a JSON object of the identity values under the names of
 * their query parameters (programEducationOrganizationId, studentUniqueId),
 * sorted by name, values as stored (descriptors as URIs, dates yyyy-mm-dd);
 * descriptors give {"namespace","codeValue"}. Allocates from a. */
const char *doc_key_values(arena *a, const mresource *r, json_object *doc);

/* Referential id of a descriptor URI of the given descriptor resource. */
void doc_descriptor_refid(const char *project, const char *descriptor_name, const char *uri, uuid_t16 *out);

/* Query-index entries of a document ("key\tvalue\n" per indexed query
 * field, values canonical and escaped), or NULL when it has none. */
const char *doc_query_index(arena *a, const mresource *r, json_object *doc);
/* The index text of one value, as doc_query_index writes it. */
struct buf;
void doc_index_value(struct buf *out, json_object *v, bool lower);

/* Calls fn for every value at path p (expanding [*]); concrete is the
 * concrete path of the value. Stops early when fn returns false. */
typedef bool (*doc_visit_fn)(void *ctx, json_object *value, const char *concrete, json_object *parent,
                             const char *key);
void doc_visit(json_object *doc, const mpath *p, doc_visit_fn fn, void *ctx);

/* Appends the canonical text of an identity value (§10): numbers
 * fixed-point, descriptors lower-cased. */
struct buf;
void doc_canonical_value(struct buf *out, json_object *v, bool lower);

#endif
