/* API JSON document → Ed-Fi XML interchange record: the inverse of
 * src/load/xmlmap.c, driven by the model in the same way (never per
 * element):
 *   - a property becomes the element of its PascalCase name; a descriptor
 *     property xDescriptor becomes <X>;
 *   - a reference becomes <XReference><TargetIdentity>...</TargetIdentity>,
 *     the target's identity written by following its own references (nested
 *     identities, as the Bulk Load Client's files have them);
 *   - a school-year reference becomes <SchoolYear>2025-2026</SchoolYear>;
 *   - each item of a collection becomes one element: the item's property
 *     itself when the item has only a descriptor or a reference
 *     (<GradeLevel>, <ClassPeriodReference>), else the singular of the
 *     collection (addresses → <Address>) with the item's members inside.
 * The loader maps what this writes back to the same document (the unit test
 * checks every resource the generator writes). */
#ifndef EDHUB_GEN_XMLWRITE_H
#define EDHUB_GEN_XMLWRITE_H
#include "../base/buf.h"
#include "../model/model.h"
#include <json-c/json.h>

/* Appends the record element of doc (resource r) and a newline to out. */
void xmlw_record(const mresource *r, json_object *doc, buf *out);

#endif
