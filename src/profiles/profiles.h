/* Ed-Fi API Profiles (integration.md §3): named data policies that say, per
 * resource, which members a client sees on GET and may send on POST/PUT.
 *
 * A profile_set holds the profiles of one or more XML documents, parsed
 * safely, checked against the model and compiled into one profile_ct per
 * (profile, resource, read|write). Fill a set before sharing it (adding is
 * not thread-safe; reload by building a new set); after that the set and
 * its compiled content types are read-only and shared by all threads, and
 * the functions that apply them only change the caller's documents. Nothing here talks HTTP: the API layer asks
 * profile_resolve() which content type applies to a request (or which Ed-Fi
 * error to answer), then calls the read filter or the write checks.
 *
 * Wiring for a write (POST upsert or PUT), in this order:
 *   1. profile_write_prepare(): 400 when a collection item breaks the write
 *      filter; then the members the profile excludes are dropped.
 *   2. find the stored document (PUT: by id; POST: by the identity, which a
 *      profile always keeps).
 *   3. none stored: profile_check_create() (400 DataPolicy when the profile
 *      cannot create the resource or one of the child items sent);
 *      stored: profile_merge_stored() puts the stored values of excluded
 *      members back, keeps stored collection items the filter hides, and
 *      refuses new child items the profile cannot create.
 *   4. validate and write the result as usual (validate after step 3: an
 *      update may omit a required member that the profile excludes).
 * profile_check_write() runs 1 and 3 for a caller that has the stored
 * document at hand. */
#ifndef EDHUB_PROFILES_H
#define EDHUB_PROFILES_H
#include "../base/err.h"
#include "../model/model.h"
#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Limits on what a definition may be (hostile or broken input). */
#define PROFILES_MAX_BYTES (4u << 20)  /* one XML document */
#define PROFILES_MAX_DEPTH 32          /* nested Object/Collection elements */

typedef enum { PROFILE_READ, PROFILE_WRITE } profile_usage;

typedef struct profile_set profile_set;
typedef struct profile_ct profile_ct;

/* An Ed-Fi problem to answer (status 0: none). When path is not empty the
 * message belongs in validationErrors[path], else in errors[]. */
typedef struct profile_error {
    int status;
    const char *type;
    const char *title;
    const char *detail;
    char path[256];
    char message[1024];
} profile_error;

/* ---- loading ---------------------------------------------------------- */

/* An empty set over model m (which must outlive it). */
profile_set *profile_set_new(const model *m);
void profile_set_free(profile_set *ps);

/* Adds the profiles of one document: root <Profiles> (or a single <Profile>,
 * the form the Admin database stores). source names the document in
 * messages. A profile that fails validation against the model (unknown
 * resource, member or filter property, a name listed twice, ...) is kept,
 * marked invalid with its reason (the API answers 406 "configured but
 * invalid" for it), and err receives the first reason with the source and
 * line: ERR_INVALID. A document that is not well-formed, has a DTD or
 * entities, is over PROFILES_MAX_BYTES or nests deeper than
 * PROFILES_MAX_DEPTH adds nothing: ERR_INVALID (ERR_TOO_LARGE for size).
 * ERR_OK: every profile of the document is valid. A name already in the set
 * (compared case-insensitively) is refused and keeps the first definition. */
err_t profile_set_add_memory(profile_set *ps, const char *xml, size_t len, const char *source, char *err,
                             size_t errlen);
err_t profile_set_add_file(profile_set *ps, const char *path, char *err, size_t errlen);

int profile_set_count(const profile_set *ps);
const char *profile_set_name(const profile_set *ps, int i);
/* Why profile i is invalid, or NULL when it is valid. */
const char *profile_set_problem(const profile_set *ps, int i);
/* Index of the profile named name (case-insensitive), or -1. */
int profile_set_find(const profile_set *ps, const char *name);
/* The compiled content type, or NULL (no such profile, invalid, resource
 * not covered, or no content type for that usage). */
const profile_ct *profile_lookup(const profile_set *ps, const char *profile, const mresource *r, profile_usage u);

const char *profile_ct_profile(const profile_ct *ct);   /* the profile's name as defined */
const mresource *profile_ct_resource(const profile_ct *ct);
profile_usage profile_ct_usage(const profile_ct *ct);
/* Whether a POST may create the resource through this (write) content type:
 * every required member is included, and so are the required members of
 * required collections and objects. */
bool profile_ct_creatable(const profile_ct *ct);
/* Whether the member at path is in the content type: "$.nameOfInstitution",
 * "$.addresses[*].city", "$.addresses[*]" (the collection itself). Identity
 * members are always in; an unknown path is not. */
bool profile_ct_includes(const profile_ct *ct, const char *path);
/* One line per member path ("+ $.a", "- $.b", filters after the collection),
 * for tests and diagnostics; caller frees. */
char *profile_ct_describe(const profile_ct *ct);

/* ---- applying ----------------------------------------------------------- */

/* GET: removes from doc (a resource as the API renders it) the members the
 * read content type excludes and the collection items its filters reject.
 * id, _etag and _lastModifiedDate stay, and a kept reference keeps its link. */
void profile_filter_read(const profile_ct *ct, json_object *doc);

/* Write step 1 (see the top of this file). */
err_t profile_write_prepare(const profile_ct *ct, json_object *doc, profile_error *e);
/* Write step 3 without a stored document. */
err_t profile_check_create(const profile_ct *ct, json_object *doc, profile_error *e);
/* Write step 3 with the stored body (as stored: no id/_etag; links allowed,
 * they are not copied). doc receives deep copies; stored is not changed. */
err_t profile_merge_stored(const profile_ct *ct, json_object *doc, json_object *stored, profile_error *e);
/* Steps 1 and 3 together; stored NULL means the write creates. */
err_t profile_check_write(const profile_ct *ct, json_object *doc, json_object *stored, profile_error *e);

/* ---- media types and which profile applies ------------------------------- */

typedef enum {
    PROFILE_MEDIA_NONE,        /* not application/vnd.ed-fi.* */
    PROFILE_MEDIA_OK,
    PROFILE_MEDIA_BAD_FORMAT,  /* not exactly resource.profile.usage */
    PROFILE_MEDIA_BAD_USAGE,   /* usage neither readable nor writable */
} profile_media_status;

typedef struct profile_media {
    char resource[128];        /* as sent (compare case-insensitively) */
    char profile[128];
    profile_usage usage;
} profile_media;

/* Parses one media type, "application/vnd.ed-fi.{resource}.{profile}.
 * {readable|writable}+json", parameters (";charset=...") ignored,
 * case-insensitive. */
profile_media_status profile_media_parse(const char *value, profile_media *out);
/* The canonical (lower-case) media type; returns what snprintf returns. */
int profile_media_format(char *out, size_t n, const char *resource, const char *profile, profile_usage u);

typedef struct profile_request {
    const mresource *r;          /* the resource in the URL */
    const char *method;          /* "GET", "POST", "PUT" (others: no profile) */
    const char *accept;          /* the Accept header (GET), or NULL */
    const char *content_type;    /* the Content-Type header (POST/PUT), or NULL */
    const char *const *assigned; /* the profiles assigned to the client */
    int nassigned;
} profile_request;

/* Which content type applies to a request, per ODS/API 7.3 (integration.md
 * §3.4-3.5): the one named by the media type, or the client's only assigned
 * profile that covers the resource in this direction. NULL with e->status 0:
 * no profile applies (plain application/json); NULL with e->status set: the
 * problem to answer. */
const profile_ct *profile_resolve(const profile_set *ps, const profile_request *rq, profile_error *e);

#endif
