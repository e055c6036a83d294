/* Unit tests for src/engine/engine.c with a real model and store: the write
 * pipeline (prepare on the caller, engine_write_job on the writer) for
 * upserts, PUTs and DELETEs (api-behavior §4, §5.6, §5.7, §7, §9). */
#include "api/route.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/jsonx.h"
#include "engine/engine.h"
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "leak.h"
#include "testdb.h"

#define MODEL_PATH "model/ds-5.2/ApiSchema.json"

static model *M;
static store *S;
static arena A;
static char dir[64], path[256];
static outcome *OUTS[128];
static int NOUTS;

static void setup(void)
{
    char err[256] = "";
    M = model_load(MODEL_PATH, err, sizeof err);
    cr_assert_not_null(M, "model_load: %s", err);
    testdb_location(dir, sizeof dir, path, sizeof path);
    store_opts o = {.readers = 2};
    cr_assert_eq(store_open(path, &o, &S, err, sizeof err), ERR_OK, "%s", err);
    arena_init(&A, 0);
    NOUTS = 0;
}

static void teardown(void)
{
    for (int i = 0; i < NOUTS; i++) outcome_free(OUTS[i]);
    store_close(S);
    arena_free(&A);
    model_free(M);
    testdb_remove(dir, path);
    unit_leak_check();
}

TestSuite(engine, .init = setup, .fini = teardown);

/* Runs one write the way the API does; the outcome is freed at teardown. */
static outcome *write_doc(write_op op, const char *endpoint, const char *id, const char *body, const char *if_match,
                          const char *if_none_match)
{
    outcome *o = arena_alloc(&A, sizeof *o);
    cr_assert_lt(NOUTS, 128);
    OUTS[NOUTS++] = o;
    wreq *w = arena_alloc(&A, sizeof *w);
    w->m = M;
    w->r = model_find(M, "ed-fi", endpoint);
    cr_assert_not_null(w->r, "no resource %s", endpoint);
    w->a = &A;
    w->op = op;
    w->id = id;
    w->if_match = if_match;
    w->if_none_match = if_none_match;
    w->owner = "unit";
    w->out = o;
    if (op == OP_DELETE || engine_prepare(w, body, strlen(body))) {
        err_t e = store_run(S, engine_write_job, w);
        cr_assert_eq(e == ERR_OK, o->status < 400, "job result %d vs status %d", e, o->status);
    }
    engine_release(w);
    return o;
}

static outcome *post(const char *endpoint, const char *body) { return write_doc(OP_UPSERT, endpoint, NULL, body, NULL, NULL); }

static outcome *put(const char *endpoint, const char *id, const char *body)
{
    return write_doc(OP_PUT, endpoint, id, body, NULL, NULL);
}

static outcome *del(const char *endpoint, const char *id) { return write_doc(OP_DELETE, endpoint, id, "", NULL, NULL); }

static outcome *post_ok(const char *endpoint, const char *body, int status)
{
    outcome *o = post(endpoint, body);
    cr_assert_eq(o->status, status, "POST %s: %d %s %s %s", endpoint, o->status, o->type ? o->type : "",
                 o->validation ? jsonx_text(o->validation) : "", o->errors ? jsonx_text(o->errors) : "");
    return o;
}

/* The stored document as GET returns it. */
static const char *stored(const char *endpoint, const char *id)
{
    store_doc d;
    char res[160];
    snprintf(res, sizeof res, "ed-fi/%s", endpoint);
    if (store_get_by_id(S, res, id, &A, &d) != ERR_OK) return NULL;
    return d.body;
}

static const char *first_error(const outcome *o)
{
    cr_assert_not_null(o->errors);
    return json_object_get_string(json_object_array_get_idx(o->errors, 0));
}

static const char *validation_at(const outcome *o, const char *key)
{
    cr_assert_not_null(o->validation, "no validationErrors");
    json_object *a = jsonx_get(o->validation, key);
    cr_assert_not_null(a, "no %s in %s", key, jsonx_text(o->validation));
    return json_object_get_string(json_object_array_get_idx(a, 0));
}

#define NS_GL "uri://ed-fi.org/GradeLevelDescriptor"
#define NS_EOC "uri://ed-fi.org/EducationOrganizationCategoryDescriptor"
#define GLD "{\"namespace\":\"" NS_GL "\",\"codeValue\":\"Ninth grade\",\"shortDescription\":\"Ninth grade\"}"
#define EOC "{\"namespace\":\"" NS_EOC "\",\"codeValue\":\"School\",\"shortDescription\":\"School\"}"
#define SCHOOL(id)                                                                                        \
    "{\"schoolId\":" #id ",\"nameOfInstitution\":\"Grand Bend High School\","                             \
    "\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"" NS_EOC "#School\"}]," \
    "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"" NS_GL "#Ninth grade\"}]}"
#define STUDENT(last) \
    "{\"studentUniqueId\":\"604824\",\"birthDate\":\"2010-01-13\",\"firstName\":\"Traci\",\"lastSurname\":\"" last "\"}"
#define SSA(student, grade)                                                                              \
    "{\"studentReference\":{\"studentUniqueId\":\"" student "\"},\"schoolReference\":{\"schoolId\":255901}," \
    "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"" NS_GL "#" grade "\"}"

/* Descriptors and school 255901. */
static void base_data(void)
{
    post_ok("gradeLevelDescriptors", GLD, 201);
    post_ok("educationOrganizationCategoryDescriptors", EOC, 201);
    post_ok("schools", SCHOOL(255901), 201);
}

Test(engine, descriptor_upsert_then_noop)
{
    outcome *a = post_ok("gradeLevelDescriptors", GLD, 201);
    cr_assert_eq(strlen(a->id), 36);
    cr_assert_gt(a->etag, 0);
    outcome *b = post_ok("gradeLevelDescriptors", GLD, 200);
    cr_assert_str_eq(b->id, a->id);
    cr_assert_eq(b->etag, a->etag, "a no-op upsert keeps the etag");
    /* the identity ignores case: this is the same descriptor, changed */
    outcome *c = post_ok("gradeLevelDescriptors",
                         "{\"namespace\":\"URI://ED-FI.ORG/GRADELEVELDESCRIPTOR\",\"codeValue\":\"NINTH GRADE\","
                         "\"shortDescription\":\"Ninth grade\"}",
                         200);
    cr_assert_str_eq(c->id, a->id);
    cr_assert_gt(c->etag, a->etag);
    cr_assert_str_eq(stored("gradeLevelDescriptors", a->id),
                     "{\"codeValue\":\"NINTH GRADE\",\"namespace\":\"URI://ED-FI.ORG/GRADELEVELDESCRIPTOR\","
                     "\"shortDescription\":\"Ninth grade\"}");
}

Test(engine, student_create_update_noop)
{
    outcome *a = post_ok("students", STUDENT("Mathews"), 201);
    cr_assert_str_eq(stored("students", a->id),
                     "{\"birthDate\":\"2010-01-13\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"studentUniqueId\":\"604824\"}");
    outcome *b = post_ok("students", STUDENT("Mathews"), 200);
    cr_assert_str_eq(b->id, a->id);
    cr_assert_eq(b->etag, a->etag);
    /* same key, other content: updated in place */
    outcome *c = post_ok("students", STUDENT("Smith"), 200);
    cr_assert_str_eq(c->id, a->id);
    cr_assert_gt(c->etag, a->etag);
    cr_assert(strstr(stored("students", a->id), "\"lastSurname\":\"Smith\"") != NULL);
    /* unknown properties do not make a change */
    outcome *d = post_ok("students",
                         "{\"studentUniqueId\":\"604824\",\"birthDate\":\"1/13/2010\",\"firstName\":\"Traci\","
                         "\"lastSurname\":\"Smith\",\"favouriteColour\":\"blue\"}",
                         200);
    cr_assert_eq(d->etag, c->etag, "normalized body is unchanged");
}

Test(engine, school_with_unknown_descriptor_is_400)
{
    post_ok("educationOrganizationCategoryDescriptors", EOC, 201);
    outcome *o = post("schools", SCHOOL(255901));
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:bad-request");
    cr_assert_str_eq(validation_at(o, "$.gradeLevels[0].gradeLevelDescriptor"),
                     "GradeLevelDescriptor value 'uri://ed-fi.org/gradeleveldescriptor#ninth grade' does not exist.");
}

Test(engine, unresolved_reference_is_409)
{
    base_data();
    outcome *o = post("studentSchoolAssociations", SSA("604824", "Ninth grade"));
    cr_assert_eq(o->status, 409);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:data-conflict:unresolved-reference");
    cr_assert_str_eq(o->title, "Unresolved Reference");
    cr_assert_str_eq(validation_at(o, "$.studentReference"), "The referenced Student item does not exist.");
    cr_assert_eq(json_object_object_length(o->validation), 1, "%s", jsonx_text(o->validation));
}

Test(engine, bad_descriptor_and_reference_together_is_400)
{
    base_data();
    outcome *o = post("studentSchoolAssociations", SSA("604824", "Tenth grade"));
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:bad-request");
    cr_assert_str_eq(validation_at(o, "$.entryGradeLevelDescriptor"),
                     "GradeLevelDescriptor value 'uri://ed-fi.org/gradeleveldescriptor#tenth grade' does not exist.");
    cr_assert_str_eq(validation_at(o, "$.studentReference"), "The referenced Student item does not exist.");
}

Test(engine, resolved_references_get_links)
{
    base_data();
    outcome *st = post_ok("students", STUDENT("Mathews"), 201);
    outcome *o = post_ok("studentSchoolAssociations", SSA("604824", "Ninth grade"), 201);
    json_object *d = json_tokener_parse(stored("studentSchoolAssociations", o->id));
    cr_assert_not_null(d);
    json_object *link = jsonx_get(jsonx_get(d, "studentReference"), "link");
    cr_assert_not_null(link, "%s", jsonx_text(d));
    cr_assert_str_eq(jsonx_str(link, "rel"), "Student");
    char href[128];
    snprintf(href, sizeof href, "/ed-fi/students/%s", st->id);
    cr_assert_str_eq(jsonx_str(link, "href"), href);
    cr_assert_str_eq(jsonx_str(jsonx_get(jsonx_get(d, "schoolReference"), "link"), "rel"), "School");
    json_object_put(d);
    /* reposting the same body (without links) is a no-op */
    outcome *again = post_ok("studentSchoolAssociations", SSA("604824", "Ninth grade"), 200);
    cr_assert_eq(again->etag, o->etag);
}

Test(engine, equality_checked_before_references)
{
    outcome *o = post("studentSchoolAssociations",
                      "{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":{\"schoolId\":255901},"
                      "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"" NS_GL "#Ninth grade\","
                      "\"calendarReference\":{\"calendarCode\":\"C\",\"schoolId\":1,\"schoolYear\":2022}}");
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:bad-request:data-validation-failed");
    const char *msg = "All values supplied for 'schoolId' must match. Review all references (including those higher up in "
                      "the resource's data) and align the following conflicting values: '1', '255901'";
    cr_assert_str_eq(validation_at(o, "$.calendarReference.schoolId"), msg);
    cr_assert_str_eq(validation_at(o, "$.schoolReference.schoolId"), msg);
}

Test(engine, delete_referenced_student_is_409)
{
    base_data();
    outcome *st = post_ok("students", STUDENT("Mathews"), 201);
    post_ok("studentSchoolAssociations", SSA("604824", "Ninth grade"), 201);
    outcome *o = del("students", st->id);
    cr_assert_eq(o->status, 409);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:data-conflict:dependent-item-exists");
    cr_assert_str_eq(o->title, "Dependent Item Exists");
    cr_assert_str_eq(o->detail,
                     "The requested action cannot be performed because this item is referenced by existing "
                     "StudentSchoolAssociation item(s).");
    cr_assert_not_null(stored("students", st->id), "still there");
}

Test(engine, delete_descriptor_in_use_is_409)
{
    base_data();
    post_ok("students", STUDENT("Mathews"), 201);
    post_ok("studentSchoolAssociations", SSA("604824", "Ninth grade"), 201);
    outcome *g = post_ok("gradeLevelDescriptors", GLD, 200);
    outcome *o = del("gradeLevelDescriptors", g->id);
    cr_assert_eq(o->status, 409);
    cr_assert_str_eq(o->detail,
                     "The requested action cannot be performed because this item is referenced by existing "
                     "School, StudentSchoolAssociation item(s).");
}

Test(engine, delete_school_referenced_through_superclass_is_409)
{
    base_data();
    post_ok("programTypeDescriptors",
            "{\"namespace\":\"uri://ed-fi.org/ProgramTypeDescriptor\",\"codeValue\":\"Gifted\",\"shortDescription\":\"Gifted\"}", 201);
    post_ok("programs",
            "{\"educationOrganizationReference\":{\"educationOrganizationId\":255901},\"programName\":\"G\","
            "\"programTypeDescriptor\":\"uri://ed-fi.org/ProgramTypeDescriptor#Gifted\"}",
            201);
    outcome *s = post_ok("schools", SCHOOL(255901), 200);
    outcome *o = del("schools", s->id);
    cr_assert_eq(o->status, 409);
    cr_assert_str_eq(o->detail,
                     "The requested action cannot be performed because this item is referenced by existing Program item(s).");
}

Test(engine, abstract_reference_without_target_is_409)
{
    post_ok("programTypeDescriptors",
            "{\"namespace\":\"uri://ed-fi.org/ProgramTypeDescriptor\",\"codeValue\":\"Gifted\",\"shortDescription\":\"Gifted\"}", 201);
    outcome *o = post("programs",
                      "{\"educationOrganizationReference\":{\"educationOrganizationId\":255901},\"programName\":\"G\","
                      "\"programTypeDescriptor\":\"uri://ed-fi.org/ProgramTypeDescriptor#Gifted\"}");
    cr_assert_eq(o->status, 409);
    cr_assert_str_eq(validation_at(o, "$.educationOrganizationReference"),
                     "The referenced EducationOrganization item does not exist.");
}

Test(engine, delete_then_recreate_with_new_id)
{
    outcome *a = post_ok("students", STUDENT("Mathews"), 201);
    outcome *d = del("students", a->id);
    cr_assert_eq(d->status, 204);
    cr_assert_null(stored("students", a->id));
    outcome *again = del("students", a->id);
    cr_assert_eq(again->status, 404);
    cr_assert_str_eq(again->type, "urn:ed-fi:api:not-found");
    outcome *b = post_ok("students", STUDENT("Mathews"), 201);
    cr_assert_str_neq(b->id, a->id);
}

Test(engine, superclass_identity_conflict)
{
    base_data();
    post_ok("localEducationAgencyCategoryDescriptors",
            "{\"namespace\":\"uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor\",\"codeValue\":\"Independent\","
            "\"shortDescription\":\"Independent\"}",
            201);
    outcome *o = post("localEducationAgencies",
                      "{\"localEducationAgencyId\":255901,\"nameOfInstitution\":\"LEA\","
                      "\"localEducationAgencyCategoryDescriptor\":\"uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent\","
                      "\"categories\":[{\"educationOrganizationCategoryDescriptor\":\"" NS_EOC "#School\"}]}");
    cr_assert_eq(o->status, 409);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:identity-conflict");
    cr_assert_str_eq(o->title, "Identifying Values Are Not Unique");
    cr_assert_str_eq(first_error(o),
                     "A natural key conflict occurred when attempting to create a new resource LocalEducationAgency with "
                     "a duplicate key. The duplicate keys and values are (localEducationAgencyId = 255901)");
}

Test(engine, prepare_rejects_bad_bodies)
{
    outcome *o = post("students", "  \n ");
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:bad-request");
    cr_assert_str_eq(first_error(o), "A non-empty request body is required.");

    o = post("students", "{\"id\":\"x\",\"studentUniqueId\":\"1\"}");
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(first_error(o),
                     "Resource identifiers cannot be assigned by the client. The 'id' property should not be included in the request body.");
    o = post("students", "{\"ID\":\"x\"}");
    cr_assert_eq(o->status, 400, "id in any casing");

    o = post("students", "{\"studentUniqueId\":\"1\",\"studentUniqueId\":\"2\"}");
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:bad-request:data-validation-failed");
    cr_assert_str_eq(validation_at(o, "$.studentUniqueId"), "An item with the same key has already been added.");

    o = post("students", "{\"studentUniqueId\":");
    cr_assert_eq(o->status, 400);
    cr_assert_not_null(jsonx_get(o->validation, "$"));

    o = post("students", "[]");
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(validation_at(o, "$"), "The request body must be a JSON object.");

    o = post("students", "{}");
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(validation_at(o, "$.studentUniqueId"), "studentUniqueId is required.");
}

Test(engine, put_rules)
{
    outcome *a = post_ok("students", STUDENT("Mathews"), 201);
    char body[512];

    outcome *o = put("students", a->id, STUDENT("Smith"));
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(validation_at(o, "$.id"), "id is required.");

    snprintf(body, sizeof body, "{\"id\":\"%s\",%s", "00000000-0000-4000-8000-000000000000", &STUDENT("Smith")[1]);
    o = put("students", a->id, body);
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(first_error(o), "Request body id must match the id in the url.");

    /* the body id may be in any accepted UUID form */
    char plain[33];
    int k = 0;
    for (const char *c = a->id; *c; c++)
        if (*c != '-') plain[k++] = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
    plain[k] = 0;
    snprintf(body, sizeof body, "{\"id\":\"%s\",%s", plain, &STUDENT("Smith")[1]);
    o = put("students", a->id, body);
    cr_assert_eq(o->status, 204, "%d %s", o->status, o->errors ? jsonx_text(o->errors) : "");
    cr_assert_gt(o->etag, a->etag);
    cr_assert(strstr(stored("students", a->id), "\"lastSurname\":\"Smith\"") != NULL);

    /* unchanged content: 204, etag kept */
    outcome *same = put("students", a->id, body);
    cr_assert_eq(same->status, 204);
    cr_assert_eq(same->etag, o->etag);

    /* identity change on a resource that does not allow it */
    snprintf(body, sizeof body,
             "{\"id\":\"%s\",\"studentUniqueId\":\"999\",\"birthDate\":\"2010-01-13\",\"firstName\":\"T\",\"lastSurname\":\"S\"}",
             a->id);
    o = put("students", a->id, body);
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:bad-request:data-validation-failed:key-change-not-supported");
    cr_assert_str_eq(o->detail,
                     "Identifying values for the Student resource cannot be changed. Delete and recreate the resource item instead.");

    /* PUT never creates */
    snprintf(body, sizeof body, "{\"id\":\"%s\",%s", "00000000-0000-4000-8000-000000000000", &STUDENT("Smith")[1]);
    o = put("students", "00000000-0000-4000-8000-000000000000", body);
    cr_assert_eq(o->status, 404);
    cr_assert_str_eq(o->detail, "Resource to update was not found");
}

Test(engine, if_match_and_if_none_match)
{
    outcome *a = post_ok("students", STUDENT("Mathews"), 201);
    char body[512], tag[32];
    snprintf(body, sizeof body, "{\"id\":\"%s\",%s", a->id, &STUDENT("Smith")[1]);

    outcome *o = write_doc(OP_PUT, "students", a->id, body, "\"12345\"", NULL);
    cr_assert_eq(o->status, 412);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:optimistic-lock-failed");
    cr_assert_str_eq(o->detail, "The item has been modified by another user.");

    o = write_doc(OP_PUT, "students", a->id, body, "W/\"1\"", NULL);
    cr_assert_eq(o->status, 412, "a weak tag never matches");

    snprintf(tag, sizeof tag, "\"%lld\"", (long long)a->etag);
    o = write_doc(OP_PUT, "students", a->id, body, tag, NULL);
    cr_assert_eq(o->status, 204);

    /* POST with If-None-Match: * on an existing key */
    o = write_doc(OP_UPSERT, "students", NULL, STUDENT("Jones"), NULL, "*");
    cr_assert_eq(o->status, 412);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:precondition-failed:if-none-match");

    /* If-Match on something that does not exist */
    o = write_doc(OP_UPSERT, "students", NULL,
                  "{\"studentUniqueId\":\"777\",\"birthDate\":\"2010-01-13\",\"firstName\":\"A\",\"lastSurname\":\"B\"}", "*", NULL);
    cr_assert_eq(o->status, 412);
    cr_assert_str_eq(o->detail, "The If-Match precondition failed because the resource does not exist.");
    o = write_doc(OP_DELETE, "students", "00000000-0000-4000-8000-000000000000", "", "*", NULL);
    cr_assert_eq(o->status, 412);

    /* DELETE with a stale If-Match */
    o = write_doc(OP_DELETE, "students", a->id, "", tag, NULL);
    cr_assert_eq(o->status, 412);
    cr_assert_not_null(stored("students", a->id));
}

Test(engine, identity_update_cascades_into_references)
{
    base_data();
    outcome *cp = post_ok("classPeriods", "{\"classPeriodName\":\"First\",\"schoolReference\":{\"schoolId\":255901}}", 201);
    outcome *bs = post_ok("bellSchedules",
                          "{\"bellScheduleName\":\"Normal\",\"schoolReference\":{\"schoolId\":255901},"
                          "\"classPeriods\":[{\"classPeriodReference\":{\"classPeriodName\":\"First\",\"schoolId\":255901}}]}",
                          201);
    char body[256];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"classPeriodName\":\"Period 1\",\"schoolReference\":{\"schoolId\":255901}}",
             cp->id);
    outcome *o = put("classPeriods", cp->id, body);
    cr_assert_eq(o->status, 204, "%d %s", o->status, o->detail ? o->detail : "");

    json_object *d = json_tokener_parse(stored("bellSchedules", bs->id));
    cr_assert_not_null(d);
    json_object *ref = jsonx_get(json_object_array_get_idx(jsonx_get(d, "classPeriods"), 0), "classPeriodReference");
    cr_assert_str_eq(jsonx_str(ref, "classPeriodName"), "Period 1");
    json_object_put(d);
    store_doc sd;
    cr_assert_eq(store_get_by_id(S, "ed-fi/bellSchedules", bs->id, &A, &sd), ERR_OK);
    cr_assert_gt(sd.etag, bs->etag, "the cascade changes the referrer's etag");

    /* the old name no longer resolves, the new one does */
    outcome *old = post("bellSchedules",
                        "{\"bellScheduleName\":\"Other\",\"schoolReference\":{\"schoolId\":255901},"
                        "\"classPeriods\":[{\"classPeriodReference\":{\"classPeriodName\":\"First\",\"schoolId\":255901}}]}");
    cr_assert_eq(old->status, 409);
    post_ok("bellSchedules",
            "{\"bellScheduleName\":\"Other\",\"schoolReference\":{\"schoolId\":255901},"
            "\"classPeriods\":[{\"classPeriodReference\":{\"classPeriodName\":\"Period 1\",\"schoolId\":255901}}]}",
            201);
    /* and the class period keeps its id */
    cr_assert_not_null(stored("classPeriods", cp->id));
}

Test(engine, identity_update_into_existing_key_is_409)
{
    base_data();
    outcome *first = post_ok("classPeriods", "{\"classPeriodName\":\"First\",\"schoolReference\":{\"schoolId\":255901}}", 201);
    post_ok("classPeriods", "{\"classPeriodName\":\"Second\",\"schoolReference\":{\"schoolId\":255901}}", 201);
    char body[256];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"classPeriodName\":\"Second\",\"schoolReference\":{\"schoolId\":255901}}",
             first->id);
    outcome *o = put("classPeriods", first->id, body);
    cr_assert_eq(o->status, 409);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:identity-conflict");
    cr_assert_str_eq(first_error(o),
                     "A natural key conflict occurred when attempting to update a resource ClassPeriod with a duplicate key. "
                     "The duplicate keys and values are (classPeriodName = Second),(schoolId = 255901)");
    cr_assert(strstr(stored("classPeriods", first->id), "\"First\"") != NULL, "unchanged");
}

Test(engine, duplicate_references_in_collection)
{
    base_data();
    post_ok("classPeriods", "{\"classPeriodName\":\"First\",\"schoolReference\":{\"schoolId\":255901}}", 201);
    outcome *o = post("bellSchedules",
                      "{\"bellScheduleName\":\"Normal\",\"schoolReference\":{\"schoolId\":255901},\"classPeriods\":["
                      "{\"classPeriodReference\":{\"classPeriodName\":\"First\",\"schoolId\":255901}},"
                      "{\"classPeriodReference\":{\"classPeriodName\":\"First\",\"schoolId\":255901}}]}");
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(validation_at(o, "$.classPeriods"),
                     "The 2nd item of the classPeriods has the same identifying values as another item earlier in the list.");
}

Test(engine, render)
{
    store_doc d;
    memset(&d, 0, sizeof d);
    snprintf(d.id, sizeof d.id, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
    d.body = "{\"schoolId\":123}";
    d.etag = 42;
    snprintf(d.last_modified, sizeof d.last_modified, "2024-01-02T03:04:05Z");
    buf b;
    buf_init(&b, 0);
    engine_render(&b, &d);
    cr_assert_str_eq(b.data, "{\"id\":\"3af6ad85-1212-5833-be6f-f8df6f4d6402\",\"schoolId\":123,\"_etag\":\"42\","
                             "\"_lastModifiedDate\":\"2024-01-02T03:04:05Z\"}");
    buf_reset(&b);
    d.body = "{}";
    engine_render(&b, &d);
    cr_assert_str_eq(b.data, "{\"id\":\"3af6ad85-1212-5833-be6f-f8df6f4d6402\",\"_etag\":\"42\","
                             "\"_lastModifiedDate\":\"2024-01-02T03:04:05Z\"}");
    buf_free(&b);
}

/* ---- queries over what the engine wrote (route + store) ---- */

typedef struct hits { int n; char ids[8][37]; } hits;

static bool collect_ids(void *ctx, const store_doc *d)
{
    hits *h = ctx;
    if (h->n < 8) snprintf(h->ids[h->n], 37, "%s", d->id);
    h->n++;
    return true;
}

/* Runs GET /ed-fi/{endpoint}?name=value and returns the matching ids. */
static hits query1(const char *endpoint, const char *name, const char *value)
{
    const mresource *r = model_find(M, "ed-fi", endpoint);
    qparam p = {name, value};
    list_request lr;
    outcome *o = arena_alloc(&A, sizeof *o);
    OUTS[NOUTS++] = o;
    cr_assert(route_list_request(r, &p, 1, LIST_DOCS, &A, &lr, o), "query rejected: %d", o->status);
    char res[160];
    snprintf(res, sizeof res, "ed-fi/%s", endpoint);
    lr.q.resource = arena_strdup(&A, res);
    lr.q.count = true;
    hits h = {0};
    int64_t total = -1;
    cr_assert_eq(store_query_docs(S, &lr.q, collect_ids, &h, &total, NULL), ERR_OK);
    cr_assert_eq(total, h.n);
    return h;
}

Test(engine, query_by_identity_and_other_fields)
{
    outcome *a = post_ok("students", STUDENT("Mathews"), 201);
    outcome *b = post_ok("students",
                         "{\"studentUniqueId\":\"604825\",\"birthDate\":\"2011-02-14\",\"firstName\":\"Traci\",\"lastSurname\":\"Jones\"}",
                         201);
    hits h = query1("students", "studentUniqueId", "604824");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ids[0], a->id);
    h = query1("students", "STUDENTUNIQUEID", "604825");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ids[0], b->id);
    h = query1("students", "studentUniqueId", "60482");
    cr_assert_eq(h.n, 0, "exact matches only");
    h = query1("students", "firstName", "Traci");
    cr_assert_eq(h.n, 2);
    h = query1("students", "firstName", "traci");
    cr_assert_eq(h.n, 0, "string values match case-sensitively");
    h = query1("students", "birthDate", "2/14/2011");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ids[0], b->id);
}

Test(engine, query_by_reference_number_and_descriptor)
{
    base_data();
    post_ok("students", STUDENT("Mathews"), 201);
    outcome *ssa = post_ok("studentSchoolAssociations", SSA("604824", "Ninth grade"), 201);
    hits h = query1("studentSchoolAssociations", "schoolId", "255901");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ids[0], ssa->id);
    h = query1("studentSchoolAssociations", "schoolId", "255901.0");
    cr_assert_eq(h.n, 1, "numbers compare numerically");
    h = query1("studentSchoolAssociations", "schoolId", "255902");
    cr_assert_eq(h.n, 0);
    h = query1("studentSchoolAssociations", "entryGradeLevelDescriptor", "URI://ED-FI.ORG/GRADELEVELDESCRIPTOR#NINTH GRADE");
    cr_assert_eq(h.n, 1, "descriptor values match case-insensitively");
    h = query1("studentSchoolAssociations", "entryDate", "2021-08-23T10:00:00Z");
    cr_assert_eq(h.n, 1, "a date filter ignores the time");
}

Test(engine, query_index_follows_identity_updates_and_deletes)
{
    base_data();
    outcome *cp = post_ok("classPeriods", "{\"classPeriodName\":\"First\",\"schoolReference\":{\"schoolId\":255901}}", 201);
    cr_assert_eq(query1("classPeriods", "classPeriodName", "First").n, 1);
    char body[256];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"classPeriodName\":\"Period 1\",\"schoolReference\":{\"schoolId\":255901}}",
             cp->id);
    cr_assert_eq(put("classPeriods", cp->id, body)->status, 204);
    cr_assert_eq(query1("classPeriods", "classPeriodName", "First").n, 0);
    hits h = query1("classPeriods", "classPeriodName", "Period 1");
    cr_assert_eq(h.n, 1);
    cr_assert_str_eq(h.ids[0], cp->id);
    cr_assert_eq(del("classPeriods", cp->id)->status, 204);
    cr_assert_eq(query1("classPeriods", "classPeriodName", "Period 1").n, 0);
    cr_assert_eq(query1("classPeriods", "schoolId", "255901").n, 0);
}

/* ---- writes through an API profile (integration.md §3) ---- */

#define NS_EOC_SCHOOL "\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"" NS_EOC "#School\"}]"
#define GRADE(g) "{\"gradeLevelDescriptor\":\"" NS_GL "#" g "\"}"

/* Names and ninth-grade levels only: cannot create a school (the required
 * categories are left out). */
static const char *const NINTH_ONLY =
    "<Profile name=\"Ninth-Only\"><Resource name=\"School\"><WriteContentType memberSelection=\"IncludeOnly\">"
    "<Property name=\"NameOfInstitution\"/>"
    "<Collection name=\"SchoolGradeLevels\" memberSelection=\"IncludeAll\">"
    "<Filter propertyName=\"GradeLevelDescriptor\" filterMode=\"IncludeOnly\"><Value>Ninth grade</Value></Filter>"
    "</Collection></WriteContentType></Resource></Profile>";

/* Prepares a write through ct and runs its job `runs` times (a job runs
 * again after a transient storage failure: it must give the same result). */
static outcome *write_profiled(write_op op, const char *endpoint, const char *id, const char *body,
                               const profile_ct *ct, int runs)
{
    outcome *o = arena_alloc(&A, sizeof *o);
    cr_assert_lt(NOUTS, 128);
    OUTS[NOUTS++] = o;
    wreq *w = arena_alloc(&A, sizeof *w);
    w->m = M;
    w->r = model_find(M, "ed-fi", endpoint);
    w->a = &A;
    w->op = op;
    w->id = id;
    w->owner = "unit";
    w->out = o;
    w->profile = ct;
    if (engine_prepare(w, body, strlen(body)))
        for (int i = 0; i < runs; i++) {
            err_t e = store_run(S, engine_write_job, w);
            cr_assert_eq(e == ERR_OK, o->status < 400, "job result %d vs status %d", e, o->status);
        }
    engine_release(w);
    return o;
}

Test(engine, profile_write_merges_with_the_stored_document)
{
    base_data();
    post_ok("gradeLevelDescriptors",
            "{\"namespace\":\"" NS_GL "\",\"codeValue\":\"Tenth grade\",\"shortDescription\":\"Tenth grade\"}", 201);
    outcome *s = post_ok("schools",
                         "{\"schoolId\":255901,\"nameOfInstitution\":\"GBHS\",\"webSite\":\"http://gbhs.edu\","
                         NS_EOC_SCHOOL ",\"gradeLevels\":[" GRADE("Ninth grade") "," GRADE("Tenth grade") "]}", 200);
    char err[512];
    profile_set *ps = profile_set_new(M);
    cr_assert_eq(profile_set_add_memory(ps, NINTH_ONLY, strlen(NINTH_ONLY), "t", err, sizeof err), ERR_OK, "%s", err);
    const profile_ct *ct = profile_lookup(ps, "Ninth-Only", model_find(M, "ed-fi", "schools"), PROFILE_WRITE);
    cr_assert_not_null(ct);

    /* Categories (required, excluded) are not asked for; the web site sent
     * is dropped; the tenth grade the filter hides stays, once, even when the
     * job runs twice. */
    outcome *o = write_profiled(OP_UPSERT, "schools", NULL,
                                "{\"schoolId\":255901,\"nameOfInstitution\":\"Renamed\",\"webSite\":\"http://x\","
                                "\"gradeLevels\":[" GRADE("Ninth grade") "]}",
                                ct, 2);
    cr_assert_eq(o->status, 200, "%d %s", o->status, o->validation ? jsonx_text(o->validation) : "");
    cr_assert_str_eq(o->id, s->id);
    cr_assert_str_eq(stored("schools", s->id),
                     "{" NS_EOC_SCHOOL ",\"gradeLevels\":[" GRADE("Ninth grade") "," GRADE("Tenth grade") "],"
                     "\"nameOfInstitution\":\"Renamed\",\"schoolId\":255901,\"webSite\":\"http://gbhs.edu\"}");
    int64_t etag = o->etag;
    /* The same through PUT: nothing changes, the ETag stays. */
    char body[512];
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"schoolId\":255901,\"nameOfInstitution\":\"Renamed\","
                                "\"gradeLevels\":[" GRADE("Ninth grade") "]}", s->id);
    o = write_profiled(OP_PUT, "schools", s->id, body, ct, 1);
    cr_assert_eq(o->status, 204);
    cr_assert_eq(o->etag, etag);

    /* A filter violation, before anything is looked up. */
    o = write_profiled(OP_UPSERT, "schools", NULL,
                       "{\"schoolId\":255901,\"nameOfInstitution\":\"R\",\"gradeLevels\":[" GRADE("Tenth grade") "]}", ct, 1);
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(validation_at(o, "$.gradeLevels"),
                     "A supplied 'SchoolGradeLevel' has a descriptor value that does not conform with the filter "
                     "values defined by profile 'Ninth-Only'.");

    /* A school it cannot create: DataPolicy, nothing written. */
    o = write_profiled(OP_UPSERT, "schools", NULL,
                       "{\"schoolId\":255902,\"nameOfInstitution\":\"New\",\"gradeLevels\":[" GRADE("Ninth grade") "]}", ct, 1);
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(o->type, "urn:ed-fi:api:bad-request:data-policy");
    cr_assert_str_eq(first_error(o), "The Profile definition for 'Ninth-Only' excludes (or does not include) one or "
                                     "more required data elements needed to create the resource.");
    cr_assert_eq(query1("schools", "schoolId", "255902").n, 0);

    /* A required member the profile includes is still required. */
    o = write_profiled(OP_UPSERT, "schools", NULL, "{\"schoolId\":255901,\"gradeLevels\":[" GRADE("Ninth grade") "]}",
                       ct, 1);
    cr_assert_eq(o->status, 400);
    cr_assert_str_eq(validation_at(o, "$.nameOfInstitution"), "nameOfInstitution is required.");
    profile_set_free(ps);
    xmlCleanupParser();
}
