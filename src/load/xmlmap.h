/* Ed-Fi XML interchange records → API JSON documents, by the model
 * (integration.md §7.2), never by per-element code:
 *   - element names match JSON properties case-insensitively (PascalCase →
 *     camelCase); a descriptor element X fills xDescriptor;
 *   - XReference/XIdentity becomes the xReference object: each member is
 *     found by following the target resource's identity paths through the
 *     nested XML identities (so flattened and role-named members come out
 *     right), or through ref="id" to an element of the same file;
 *   - SchoolYear "2021-2022" becomes 2022 (schoolYearTypeReference at the
 *     top level, a plain integer in references);
 *   - repeated elements fill the plural array property, wrapped when the
 *     item holds one descriptor or reference;
 *   - single inline groups (Name, BirthData, ...) are flattened;
 *   - xs:boolean 1/0/true/false → true/false; numbers by the JSON schema.
 * Anything without a counterpart is an error naming the element and line:
 * nothing is silently dropped. */
#ifndef EDHUB_XMLMAP_H
#define EDHUB_XMLMAP_H
#include "../model/model.h"
#include <json-c/json.h>
#include <libxml/tree.h>
#include <stddef.h>

/* The resource of a record element ("Student", "GradeLevelDescriptor"), or NULL. */
const mresource *xmlmap_resource(const model *m, const char *element);

/* Documents of the same file with an id attribute, for ref="..." references. */
typedef struct xml_ids xml_ids;
xml_ids *xml_ids_new(void);
void xml_ids_free(xml_ids *ids);
/* Keeps doc (a reference is taken) under id. */
void xml_ids_put(xml_ids *ids, const char *id, json_object *doc);

/* The identity of target t named by a bare reference element (an
 * interchange's top-level <SectionReference id="..">), as a document
 * holding only the identity values, for ref="..." lookups; NULL if none. */
json_object *xmlmap_identity(const model *m, const mresource *t, xmlNode *ref_el, const xml_ids *ids);

/* Maps record element el of resource r. Returns a new document, or NULL with
 * a reason (naming the element and its line) in err. */
json_object *xmlmap_record(const model *m, const mresource *r, xmlNode *el, const xml_ids *ids, char *err,
                           size_t errlen);

#endif
