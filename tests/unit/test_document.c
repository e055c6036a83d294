/* Unit tests for src/model/document.c against the DS 5.2 model:
 * normalization (§5.3-5.5, 5.8), equality constraints (§9), identity and
 * reference extraction with referential ids (§8, §10). Expected ids were
 * computed independently with Python's uuid.uuid5. */
#include "base/arena.h"
#include "base/buf.h"
#include "base/jsonx.h"
#include "model/document.h"
#include "model/model.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "leak.h"

#define MODEL_PATH "model/ds-5.2/ApiSchema.json"

static model *M;
static arena A;

static void setup(void)
{
    char err[256] = "";
    M = model_load(MODEL_PATH, err, sizeof err);
    cr_assert_not_null(M, "model_load: %s", err);
    arena_init(&A, 0);
}

static void teardown(void)
{
    arena_free(&A);
    model_free(M);
    unit_leak_check();
}

TestSuite(normalize, .init = setup, .fini = teardown);
TestSuite(equality, .init = setup, .fini = teardown);
TestSuite(extract, .init = setup, .fini = teardown);

static const mresource *res(const char *endpoint)
{
    const mresource *r = model_find(M, "ed-fi", endpoint);
    cr_assert_not_null(r, "no resource %s", endpoint);
    return r;
}

static json_object *parse(const char *text)
{
    json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "test JSON does not parse: %s", text);
    return o;
}

/* Normalizes text as endpoint; returns the canonical document or NULL, and
 * leaves errors in ve (caller frees both). */
static json_object *norm(const char *endpoint, const char *text, verrors *ve)
{
    json_object *body = parse(text);
    verrors_init(ve);
    json_object *out = doc_normalize(res(endpoint), body, ve);
    json_object_put(body);
    return out;
}

/* Expects success and the exact canonical text. */
static void norm_ok(const char *endpoint, const char *text, const char *want)
{
    verrors ve;
    json_object *d = norm(endpoint, text, &ve);
    cr_assert_not_null(d, "rejected: %s", jsonx_text(ve.by_path));
    cr_assert_eq(ve.count, 0);
    cr_assert_str_eq(jsonx_text(d), want);
    json_object_put(d);
    verrors_free(&ve);
}

/* Expects failure with exactly one message at path. */
static void norm_err(const char *endpoint, const char *text, const char *path, const char *msg)
{
    verrors ve;
    json_object *d = norm(endpoint, text, &ve);
    cr_assert_null(d, "accepted: %s", text);
    json_object *arr = jsonx_get(ve.by_path, path);
    cr_assert_not_null(arr, "no error at %s; got %s", path, jsonx_text(ve.by_path));
    cr_assert_eq(json_object_array_length(arr), 1, "%s", jsonx_text(ve.by_path));
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(arr, 0)), msg);
    cr_assert_eq(ve.count, 1, "%s", jsonx_text(ve.by_path));
    verrors_free(&ve);
}

static void uuid_is(const uuid_t16 *u, const char *want)
{
    char s[37];
    uuid_format(u, s);
    cr_assert_str_eq(s, want);
}

#define STUDENT_MIN "\"studentUniqueId\":\"604824\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"birthDate\":\"2010-01-13\""
#define STUDENT_OUT "{\"birthDate\":\"2010-01-13\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"studentUniqueId\":\"604824\"}"
#define GL "uri://ed-fi.org/GradeLevelDescriptor#"
#define CAT "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"

/* ---- normalize ---- */

Test(normalize, canonical_order_and_minimum)
{
    norm_ok("students", "{" STUDENT_MIN "}", STUDENT_OUT);
}

Test(normalize, drops_unknown_null_and_empty_top_level_arrays)
{
    norm_ok("students",
            "{" STUDENT_MIN ",\"unknownProp\":{\"x\":1},\"middleName\":null,\"otherNames\":[],\"visas\":[{}],"
            "\"personalIdentificationDocuments\":[{},{}]}",
            STUDENT_OUT);
}

Test(normalize, drops_unknown_nested_properties)
{
    norm_ok("schools",
            "{\"schoolId\":255901,\"nameOfInstitution\":\"Grand Bend\",\"bogus\":true,"
            "\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"" CAT "\",\"extra\":1}],"
            "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"" GL "Ninth grade\",\"x\":null}],"
            "\"localEducationAgencyReference\":{\"localEducationAgencyId\":255901,\"link\":{\"rel\":\"x\"}}}",
            "{\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"" CAT "\"}],"
            "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"}],"
            "\"localEducationAgencyReference\":{\"localEducationAgencyId\":255901},"
            "\"nameOfInstitution\":\"Grand Bend\",\"schoolId\":255901}");
}

Test(normalize, required_missing_keyed_by_path)
{
    verrors ve;
    json_object *d = norm("students", "{}", &ve);
    cr_assert_null(d);
    cr_assert_eq(ve.count, 4);
    const char *keys[] = {"$.birthDate", "$.firstName", "$.lastSurname", "$.studentUniqueId"};
    const char *msgs[] = {"birthDate is required.", "firstName is required.", "lastSurname is required.",
                          "studentUniqueId is required."};
    for (int i = 0; i < 4; i++) {
        json_object *a = jsonx_get(ve.by_path, keys[i]);
        cr_assert_not_null(a, "%s missing in %s", keys[i], jsonx_text(ve.by_path));
        cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, 0)), msgs[i]);
    }
    verrors_free(&ve);
}

Test(normalize, required_after_null_or_empty_array)
{
    norm_err("students", "{\"studentUniqueId\":\"1\",\"firstName\":null,\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
             "$.firstName", "firstName is required.");
    norm_err("schools",
             "{\"schoolId\":1,\"nameOfInstitution\":\"N\",\"gradeLevels\":[{}],"
             "\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"" CAT "\"}]}",
             "$.gradeLevels", "gradeLevels is required.");
}

Test(normalize, nested_required_keyed_by_full_path)
{
    norm_err("studentSchoolAssociations",
             "{\"studentReference\":{\"studentUniqueId\":\"604824\"},\"schoolReference\":{},"
             "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"" GL "Ninth grade\"}",
             "$.schoolReference.schoolId", "schoolId is required.");
}

Test(normalize, nested_empty_array_not_pruned)
{
    /* only top-level empty collections are dropped (§5.4) */
    norm_ok("students",
            "{" STUDENT_MIN ",\"visas\":[{\"visaDescriptor\":\"uri://ed-fi.org/VisaDescriptor#F1\"}]}",
            "{\"birthDate\":\"2010-01-13\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"studentUniqueId\":\"604824\","
            "\"visas\":[{\"visaDescriptor\":\"uri://ed-fi.org/VisaDescriptor#F1\"}]}");
}

Test(normalize, integer_coercion)
{
    norm_ok("schoolYearTypes", "{\"schoolYear\":\"2022\",\"currentSchoolYear\":false,\"schoolYearDescription\":\"2021-2022\"}",
            "{\"currentSchoolYear\":false,\"schoolYear\":2022,\"schoolYearDescription\":\"2021-2022\"}");
    norm_ok("studentSchoolAssociations",
            "{\"studentReference\":{\"studentUniqueId\":\"604824\"},\"schoolReference\":{\"schoolId\":\"99\"},"
            "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"" GL "Ninth grade\"}",
            "{\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"" GL "Ninth grade\","
            "\"schoolReference\":{\"schoolId\":99},\"studentReference\":{\"studentUniqueId\":\"604824\"}}");
}

Test(normalize, integer_rejects)
{
    norm_err("schoolYearTypes", "{\"schoolYear\":\"abc\",\"currentSchoolYear\":false,\"schoolYearDescription\":\"d\"}",
             "$.schoolYear", "schoolYear Value is \"string\" but should be \"integer\"");
    norm_err("schoolYearTypes", "{\"schoolYear\":2022.5,\"currentSchoolYear\":false,\"schoolYearDescription\":\"d\"}",
             "$.schoolYear", "schoolYear Value is \"number\" but should be \"integer\"");
    norm_err("schoolYearTypes", "{\"schoolYear\":\" 2022\",\"currentSchoolYear\":false,\"schoolYearDescription\":\"d\"}",
             "$.schoolYear", "schoolYear Value is \"string\" but should be \"integer\"");
    norm_err("schoolYearTypes", "{\"schoolYear\":true,\"currentSchoolYear\":false,\"schoolYearDescription\":\"d\"}",
             "$.schoolYear", "schoolYear Value is \"boolean\" but should be \"integer\"");
}

Test(normalize, integer_range)
{
    const char *pre = "{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":{\"schoolId\":1},"
                      "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"g\",\"schoolYearTypeReference\":{\"schoolYear\":";
    char in[512];
    snprintf(in, sizeof in, "%s1899}}", pre);
    norm_err("studentSchoolAssociations", in, "$.schoolYearTypeReference.schoolYear",
             "schoolYear must be between 1900 and 2100.");
    snprintf(in, sizeof in, "%s2101}}", pre);
    norm_err("studentSchoolAssociations", in, "$.schoolYearTypeReference.schoolYear",
             "schoolYear must be between 1900 and 2100.");
    snprintf(in, sizeof in, "%s2100}}", pre);
    verrors ve;
    json_object *d = norm("studentSchoolAssociations", in, &ve);
    cr_assert_not_null(d, "%s", jsonx_text(ve.by_path));
    json_object_put(d);
    verrors_free(&ve);
}

/* BUG (src/model/document.c norm_number): range messages format the bounds
 * with %g, so the Int32 bounds the model now carries print in exponent
 * form: "schoolYear must be between 0 and 2.14748e+09.". Expected the exact
 * integers, "schoolYear must be between 0 and 2147483647.". Disabled until
 * fixed. */
Test(normalize, integer_range_message_exact_bounds)
{
    norm_err("schoolYearTypes", "{\"schoolYear\":-1,\"currentSchoolYear\":false,\"schoolYearDescription\":\"d\"}",
             "$.schoolYear", "schoolYear must be between 0 and 2147483647.");
}

static void ssa_bool(const char *value, const char *want)
{
    char in[512], out[512];
    snprintf(in, sizeof in,
             "{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":{\"schoolId\":1},"
             "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"g\",\"primarySchool\":%s}",
             value);
    snprintf(out, sizeof out,
             "{\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"g\",\"primarySchool\":%s,"
             "\"schoolReference\":{\"schoolId\":1},\"studentReference\":{\"studentUniqueId\":\"1\"}}",
             want);
    norm_ok("studentSchoolAssociations", in, out);
}

Test(normalize, boolean_coercion)
{
    ssa_bool("true", "true");
    ssa_bool("false", "false");
    ssa_bool("\"true\"", "true");
    ssa_bool("\"TRUE\"", "true");
    ssa_bool("\"False\"", "false");
    ssa_bool("1", "true");
    ssa_bool("0", "false");
    ssa_bool("\"1\"", "true");
    ssa_bool("\"0\"", "false");
}

Test(normalize, boolean_rejects)
{
    const char *bad[] = {"2", "\"yes\"", "\"\"", "1.0", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char in[512];
        snprintf(in, sizeof in,
                 "{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":{\"schoolId\":1},"
                 "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"g\",\"primarySchool\":%s}",
                 bad[i]);
        verrors ve;
        json_object *d = norm("studentSchoolAssociations", in, &ve);
        cr_assert_null(d, "accepted primarySchool=%s", bad[i]);
        cr_assert_not_null(jsonx_get(ve.by_path, "$.primarySchool"), "%s", jsonx_text(ve.by_path));
        verrors_free(&ve);
    }
}

Test(normalize, number_keeps_text_and_coerces_strings)
{
    const char *pre = "{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":{\"schoolId\":1},"
                      "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"g\",\"fullTimeEquivalency\":";
    const char *outpre = "{\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"g\",\"fullTimeEquivalency\":";
    const char *outpost = ",\"schoolReference\":{\"schoolId\":1},\"studentReference\":{\"studentUniqueId\":\"1\"}}";
    const char *cases[][2] = {{"3.50", "3.50"}, {"\"0.75\"", "0.75"}, {"1", "1"}, {"\"2\"", "2"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char in[512], out[512];
        snprintf(in, sizeof in, "%s%s}", pre, cases[i][0]);
        snprintf(out, sizeof out, "%s%s%s", outpre, cases[i][1], outpost);
        norm_ok("studentSchoolAssociations", in, out);
    }
    char in[512];
    snprintf(in, sizeof in, "%s\"1e3\"}", pre);
    norm_err("studentSchoolAssociations", in, "$.fullTimeEquivalency",
             "fullTimeEquivalency Value is \"string\" but should be \"number\"");
}

/* BUG (src/model/document.c norm_number): a JSON number that is not finite
 * (NaN/Infinity, which jsonx_parse lets through, see test_jsonx) is kept, and
 * the stored body then holds the invalid JSON token NaN. Expected: 400 at
 * $.fullTimeEquivalency. Disabled until fixed. */
Test(normalize, number_rejects_non_finite)
{
    const char *pre = "{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":{\"schoolId\":1},"
                      "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"g\",\"fullTimeEquivalency\":";
    const char *bad[] = {"NaN", "Infinity", "-Infinity"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char in[512];
        snprintf(in, sizeof in, "%s%s}", pre, bad[i]);
        verrors ve;
        json_object *d = norm("studentSchoolAssociations", in, &ve);
        cr_assert_null(d, "accepted fullTimeEquivalency=%s: %s", bad[i], d ? jsonx_text(d) : "");
        cr_assert_not_null(jsonx_get(ve.by_path, "$.fullTimeEquivalency"));
        verrors_free(&ve);
    }
}

static void staff_years(const char *value, const char *want_text, const char *want_err)
{
    char in[256];
    snprintf(in, sizeof in,
             "{\"staffUniqueId\":\"S1\",\"firstName\":\"F\",\"lastSurname\":\"L\",\"yearsOfPriorProfessionalExperience\":%s}",
             value);
    if (want_err) {
        norm_err("staffs", in, "$.yearsOfPriorProfessionalExperience", want_err);
        return;
    }
    char out[256];
    snprintf(out, sizeof out,
             "{\"firstName\":\"F\",\"lastSurname\":\"L\",\"staffUniqueId\":\"S1\",\"yearsOfPriorProfessionalExperience\":%s}",
             want_text);
    norm_ok("staffs", in, out);
}

Test(normalize, decimal_precision_and_scale)
{
    /* staffs.yearsOfPriorProfessionalExperience is decimal(5,2) (§5.5) */
    staff_years("999.99", "999.99", NULL);
    staff_years("-999.99", "-999.99", NULL);
    staff_years("12.5", "12.5", NULL);
    staff_years("\"007.50\"", "7.50", NULL);
    staff_years("1000", NULL, "yearsOfPriorProfessionalExperience must be between -999.99 and 999.99.");
    staff_years("-1000.5", NULL, "yearsOfPriorProfessionalExperience must be between -999.99 and 999.99.");
    staff_years("1.234", NULL,
                "yearsOfPriorProfessionalExperience must be between -999.99 and 999.99 with at most 2 decimal places.");
}

Test(normalize, date_coercion)
{
    norm_ok("students",
            "{\"studentUniqueId\":\"604824\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"birthDate\":\"5/1/2009\"}",
            "{\"birthDate\":\"2009-05-01\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"studentUniqueId\":\"604824\"}");
    norm_err("students",
             "{\"studentUniqueId\":\"604824\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"birthDate\":\"2023-02-29\"}",
             "$.birthDate", "birthDate Value does not match format \"date\"");
    norm_err("students",
             "{\"studentUniqueId\":\"604824\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"birthDate\":\"2010-01-13T00:00:00Z\"}",
             "$.birthDate", "birthDate Value does not match format \"date\"");
}

Test(normalize, datetime_coercion)
{
    /* studentAssessments.administrationDate is a date-time */
    const mresource *r = res("studentAssessments");
    int idx = -1;
    for (int i = 0; i < r->schema->nprops; i++)
        if (!strcmp(r->schema->prop_names[i], "administrationDate")) idx = i;
    cr_assert_geq(idx, 0);
    cr_assert_eq(r->schema->props[idx]->format, FMT_DATETIME);
    verrors ve;
    json_object *d = norm("studentAssessments",
                          "{\"studentAssessmentIdentifier\":\"A1\",\"assessmentReference\":{\"assessmentIdentifier\":\"x\",\"namespace\":\"uri://ed-fi.org\"},"
                          "\"studentReference\":{\"studentUniqueId\":\"1\"},\"administrationDate\":\"2021-09-28 2:15:30 PM\"}",
                          &ve);
    cr_assert_not_null(d, "%s", jsonx_text(ve.by_path));
    cr_assert_str_eq(jsonx_str(d, "administrationDate"), "2021-09-28T14:15:30Z");
    json_object_put(d);
    verrors_free(&ve);
}

Test(normalize, identity_string_whitespace)
{
    norm_err("students", "{\"studentUniqueId\":\" 604824\",\"firstName\":\"T\",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
             "$.studentUniqueId", "studentUniqueId cannot contain leading or trailing spaces.");
    norm_err("students", "{\"studentUniqueId\":\"604824\\t\",\"firstName\":\"T\",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
             "$.studentUniqueId", "studentUniqueId cannot contain leading or trailing spaces.");
    norm_err("students", "{\"studentUniqueId\":\"\",\"firstName\":\"T\",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
             "$.studentUniqueId", "studentUniqueId is required and should not be left empty.");
    norm_ok("students", "{\"studentUniqueId\":\"60 48 24\",\"firstName\":\"T\",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
            "{\"birthDate\":\"2010-01-13\",\"firstName\":\"T\",\"lastSurname\":\"M\",\"studentUniqueId\":\"60 48 24\"}");
}

Test(normalize, identity_string_in_reference)
{
    norm_err("studentSchoolAssociations",
             "{\"studentReference\":{\"studentUniqueId\":\"1 \"},\"schoolReference\":{\"schoolId\":1},"
             "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"g\"}",
             "$.studentReference.studentUniqueId", "studentUniqueId cannot contain leading or trailing spaces.");
}

Test(normalize, required_string_whitespace)
{
    norm_err("students", "{\"studentUniqueId\":\"1\",\"firstName\":\"    \",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
             "$.firstName", "firstName cannot contain leading or trailing spaces.");
    norm_err("students", "{\"studentUniqueId\":\"1\",\"firstName\":\"\",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
             "$.firstName", "firstName is required and should not be left empty.");
    norm_ok("students", "{\"studentUniqueId\":\"1\",\"firstName\":\"  x  \",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
            "{\"birthDate\":\"2010-01-13\",\"firstName\":\"  x  \",\"lastSurname\":\"M\",\"studentUniqueId\":\"1\"}");
}

Test(normalize, optional_string_verbatim)
{
    norm_ok("students", "{" STUDENT_MIN ",\"middleName\":\"    \"}",
            "{\"birthDate\":\"2010-01-13\",\"firstName\":\"Traci\",\"lastSurname\":\"Mathews\",\"middleName\":\"    \","
            "\"studentUniqueId\":\"604824\"}");
}

Test(normalize, max_length)
{
    norm_err("students",
             "{\"studentUniqueId\":\"123456789012345678901234567890123\",\"firstName\":\"T\",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
             "$.studentUniqueId", "studentUniqueId Value should be at most 32 characters");
    /* length counts characters, not bytes: 32 two-byte characters fit */
    char in[512];
    char id[65] = "";
    for (int i = 0; i < 32; i++) strcat(id, "\xc3\xa9");
    snprintf(in, sizeof in, "{\"studentUniqueId\":\"%s\",\"firstName\":\"T\",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}", id);
    verrors ve;
    json_object *d = norm("students", in, &ve);
    cr_assert_not_null(d, "%s", jsonx_text(ve.by_path));
    cr_assert_str_eq(jsonx_str(d, "studentUniqueId"), id);
    json_object_put(d);
    verrors_free(&ve);
}

Test(normalize, wrong_types)
{
    norm_err("students", "{\"studentUniqueId\":604824,\"firstName\":\"T\",\"lastSurname\":\"M\",\"birthDate\":\"2010-01-13\"}",
             "$.studentUniqueId", "studentUniqueId Value is \"integer\" but should be \"string\"");
    norm_err("studentSchoolAssociations",
             "{\"studentReference\":\"604824\",\"schoolReference\":{\"schoolId\":1},\"entryDate\":\"2021-08-23\","
             "\"entryGradeLevelDescriptor\":\"g\"}",
             "$.studentReference", "studentReference Value is \"string\" but should be \"object\"");
    norm_err("students", "{" STUDENT_MIN ",\"otherNames\":{}}", "$.otherNames",
             "otherNames Value is \"object\" but should be \"array\"");
}

Test(normalize, body_must_be_object)
{
    json_object *body = parse("[1]");
    verrors ve;
    verrors_init(&ve);
    cr_assert_null(doc_normalize(res("students"), body, &ve));
    cr_assert_str_eq(jsonx_text(ve.by_path), "{\"$\":[\"The request body must be a JSON object.\"]}");
    json_object_put(body);
    verrors_free(&ve);
}

Test(normalize, descriptor_code_value_trimmed)
{
    norm_ok("gradeLevelDescriptors",
            "{\"namespace\":\"uri://ed-fi.org/GradeLevelDescriptor\",\"codeValue\":\"  Ninth grade \","
            "\"shortDescription\":\"\\tNinth grade\",\"description\":\"    \"}",
            "{\"codeValue\":\"Ninth grade\",\"description\":\"    \",\"namespace\":\"uri://ed-fi.org/GradeLevelDescriptor\","
            "\"shortDescription\":\"Ninth grade\"}");
}

Test(normalize, descriptor_namespace_not_trimmed)
{
    norm_err("gradeLevelDescriptors",
             "{\"namespace\":\"uri://ed-fi.org/GradeLevelDescriptor \",\"codeValue\":\"Ninth grade\",\"shortDescription\":\"N\"}",
             "$.namespace", "namespace cannot contain leading or trailing spaces.");
}

static const char *school_with_grades(const char *grades, char *buf, size_t n)
{
    snprintf(buf, n,
             "{\"schoolId\":255901,\"nameOfInstitution\":\"Grand Bend\","
             "\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"" CAT "\"}],"
             "\"gradeLevels\":[%s]}",
             grades);
    return buf;
}

Test(normalize, duplicate_collection_items)
{
    char b[1024];
    norm_err("schools",
             school_with_grades("{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"},{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"}", b,
                                sizeof b),
             "$.gradeLevels",
             "The 2nd item of the gradeLevels has the same identifying values as another item earlier in the list.");
    norm_err("schools",
             school_with_grades("{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"},{\"gradeLevelDescriptor\":\"" GL "Tenth grade\"},"
                                "{\"gradeLevelDescriptor\":\"" GL "NINTH GRADE\"}",
                                b, sizeof b),
             "$.gradeLevels",
             "The 3rd item of the gradeLevels has the same identifying values as another item earlier in the list.");
    norm_ok("schools",
            school_with_grades("{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"},{\"gradeLevelDescriptor\":\"" GL "Tenth grade\"}", b,
                               sizeof b),
            "{\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"" CAT "\"}],"
            "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"},{\"gradeLevelDescriptor\":\"" GL "Tenth grade\"}],"
            "\"nameOfInstitution\":\"Grand Bend\",\"schoolId\":255901}");
}

Test(normalize, duplicate_item_ordinals)
{
    char items[2048] = "", b[4096];
    for (int i = 0; i < 11; i++) {
        char one[128];
        snprintf(one, sizeof one, "%s{\"gradeLevelDescriptor\":\"" GL "G%d\"}", i ? "," : "", i < 10 ? i : 0);
        strcat(items, one);
    }
    norm_err("schools", school_with_grades(items, b, sizeof b), "$.gradeLevels",
             "The 11th item of the gradeLevels has the same identifying values as another item earlier in the list.");
}

Test(normalize, errors_in_collection_items_keyed_by_index)
{
    char b[1024];
    norm_err("schools", school_with_grades("{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"},{\"gradeLevelDescriptor\":7}", b, sizeof b),
             "$.gradeLevels[1].gradeLevelDescriptor", "gradeLevelDescriptor Value is \"integer\" but should be \"string\"");
    norm_err("schools", school_with_grades("{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"},{}", b, sizeof b),
             "$.gradeLevels[1].gradeLevelDescriptor", "gradeLevelDescriptor is required.");
}

/* ---- equality ---- */

static bool check_eq(const char *endpoint, const char *text, verrors *ve)
{
    json_object *d = parse(text);
    verrors_init(ve);
    bool ok = doc_check_equality(res(endpoint), d, ve);
    json_object_put(d);
    return ok;
}

Test(equality, calendar_school_mismatch_reports_both_paths)
{
    verrors ve;
    bool ok = check_eq("studentSchoolAssociations",
                       "{\"calendarReference\":{\"calendarCode\":\"C\",\"schoolId\":1,\"schoolYear\":2022},"
                       "\"schoolReference\":{\"schoolId\":255901001},\"schoolYearTypeReference\":{\"schoolYear\":2022}}",
                       &ve);
    cr_assert_not(ok);
    const char *msg = "All values supplied for 'schoolId' must match. Review all references (including those higher up in "
                      "the resource's data) and align the following conflicting values: '1', '255901001'";
    const char *paths[] = {"$.calendarReference.schoolId", "$.schoolReference.schoolId"};
    for (int i = 0; i < 2; i++) {
        json_object *a = jsonx_get(ve.by_path, paths[i]);
        cr_assert_not_null(a, "%s missing: %s", paths[i], jsonx_text(ve.by_path));
        cr_assert_eq(json_object_array_length(a), 1);
        cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, 0)), msg);
    }
    cr_assert_eq(ve.count, 2);
    verrors_free(&ve);
}

Test(equality, matching_or_absent_side_passes)
{
    verrors ve;
    cr_assert(check_eq("studentSchoolAssociations",
                       "{\"calendarReference\":{\"calendarCode\":\"C\",\"schoolId\":255901,\"schoolYear\":2022},"
                       "\"schoolReference\":{\"schoolId\":255901},\"schoolYearTypeReference\":{\"schoolYear\":2022}}",
                       &ve));
    cr_assert_eq(ve.count, 0);
    verrors_free(&ve);
    cr_assert(check_eq("studentSchoolAssociations", "{\"schoolReference\":{\"schoolId\":255901}}", &ve));
    cr_assert_eq(ve.count, 0);
    verrors_free(&ve);
}

Test(equality, school_year_mismatch)
{
    verrors ve;
    cr_assert_not(check_eq("studentSchoolAssociations",
                           "{\"calendarReference\":{\"calendarCode\":\"C\",\"schoolId\":1,\"schoolYear\":2022},"
                           "\"schoolReference\":{\"schoolId\":1},\"schoolYearTypeReference\":{\"schoolYear\":2023}}",
                           &ve));
    cr_assert_eq(ve.count, 2);
    json_object *a = jsonx_get(ve.by_path, "$.schoolYearTypeReference.schoolYear");
    cr_assert_not_null(a);
    cr_assert(strstr(json_object_get_string(json_object_array_get_idx(a, 0)), "'schoolYear' must match") != NULL);
    cr_assert(strstr(json_object_get_string(json_object_array_get_idx(a, 0)), "'2022', '2023'") != NULL);
    verrors_free(&ve);
}

Test(equality, wildcard_paths_over_all_items)
{
    verrors ve;
    cr_assert_not(check_eq("bellSchedules",
                           "{\"schoolReference\":{\"schoolId\":255901},\"classPeriods\":["
                           "{\"classPeriodReference\":{\"classPeriodName\":\"A\",\"schoolId\":255901}},"
                           "{\"classPeriodReference\":{\"classPeriodName\":\"B\",\"schoolId\":7}}]}",
                           &ve));
    json_object *a = jsonx_get(ve.by_path, "$.classPeriods[*].classPeriodReference.schoolId");
    cr_assert_not_null(a, "%s", jsonx_text(ve.by_path));
    cr_assert(strstr(json_object_get_string(json_object_array_get_idx(a, 0)), "conflicting values: '255901', '7'") != NULL,
              "%s", json_object_get_string(json_object_array_get_idx(a, 0)));
    cr_assert_not_null(jsonx_get(ve.by_path, "$.schoolReference.schoolId"));
    verrors_free(&ve);
}

/* ---- extract ---- */

/* Normalizes then extracts; the document is returned for the caller to
 * free (docinfo points into it). */
static json_object *extract(const char *endpoint, const char *text, docinfo *info)
{
    verrors ve;
    json_object *d = norm(endpoint, text, &ve);
    cr_assert_not_null(d, "normalize: %s", jsonx_text(ve.by_path));
    bool ok = doc_extract(&A, res(endpoint), d, info, &ve);
    cr_assert(ok, "extract: %s", jsonx_text(ve.by_path));
    verrors_free(&ve);
    return d;
}

static const docref *ref_at(const docinfo *in, const char *path)
{
    for (int i = 0; i < in->nrefs; i++)
        if (!strcmp(in->refs[i].path, path)) return &in->refs[i];
    return NULL;
}

Test(extract, school_refid_and_alias)
{
    char b[1024];
    docinfo in;
    snprintf(b, sizeof b,
             "{\"schoolId\":123,\"nameOfInstitution\":\"N\","
             "\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"" CAT "\"}],"
             "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"}]}");
    json_object *d = extract("schools", b, &in);
    uuid_is(&in.refid, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
    cr_assert(in.has_alias);
    uuid_is(&in.alias, "7589fd2c-6eac-5a70-a328-2d5e1ca6afa6");
    cr_assert_str_eq(in.key_json, "{\"schoolId\":123}");
    cr_assert_str_eq(in.key_text, "(schoolId = 123)");
    json_object_put(d);
}

Test(extract, school_255901_alias_is_education_organization)
{
    char b[1024];
    docinfo in;
    json_object *d = extract("schools", school_with_grades("{\"gradeLevelDescriptor\":\"" GL "Ninth grade\"}", b, sizeof b), &in);
    uuid_is(&in.refid, "0420a54c-16df-5fff-8f48-d87d35e71fe7");
    cr_assert(in.has_alias);
    uuid_is(&in.alias, "c1204ade-622c-5695-afb9-01534d97999c");
    /* descriptor references: one category, one grade level */
    cr_assert_eq(in.nrefs, 2);
    const docref *g = ref_at(&in, "$.gradeLevels[0].gradeLevelDescriptor");
    cr_assert_not_null(g);
    cr_assert_not_null(g->desc);
    cr_assert_null(g->ref);
    cr_assert_str_eq(g->value, GL "Ninth grade");
    uuid_is(&g->refid, "9531a840-f733-5616-8729-6607476329fb");
    json_object_put(d);
}

Test(extract, student_has_no_alias)
{
    docinfo in;
    json_object *d = extract("students", "{" STUDENT_MIN "}", &in);
    uuid_is(&in.refid, "6d9bb0d3-8c6a-5a95-abc4-1fae7821ebb0");
    cr_assert_not(in.has_alias);
    cr_assert_eq(in.nrefs, 0);
    cr_assert_str_eq(in.key_json, "{\"studentUniqueId\":\"604824\"}");
    json_object_put(d);
}

Test(extract, student_school_association_references)
{
    docinfo in;
    json_object *d = extract("studentSchoolAssociations",
                             "{\"studentReference\":{\"studentUniqueId\":\"604824\"},\"schoolReference\":{\"schoolId\":255901},"
                             "\"entryDate\":\"8/23/2021\",\"entryGradeLevelDescriptor\":\"" GL "Ninth grade\"}",
                             &in);
    uuid_is(&in.refid, "a2cc86ab-789a-5a84-9a0d-f5cd3761e7dd");
    cr_assert_not(in.has_alias);
    cr_assert_str_eq(in.key_json, "{\"entryDate\":\"2021-08-23\",\"schoolId\":255901,\"studentUniqueId\":\"604824\"}");
    cr_assert_str_eq(in.key_text, "(entryDate = 2021-08-23),(schoolId = 255901),(studentUniqueId = 604824)");
    cr_assert_eq(in.nrefs, 3);
    const docref *st = ref_at(&in, "$.studentReference");
    cr_assert_not_null(st);
    cr_assert_not_null(st->ref);
    cr_assert_str_eq(st->ref->target_name, "Student");
    cr_assert_eq(st->obj, jsonx_get(d, "studentReference"));
    uuid_is(&st->refid, "6d9bb0d3-8c6a-5a95-abc4-1fae7821ebb0");
    const docref *sc = ref_at(&in, "$.schoolReference");
    cr_assert_not_null(sc);
    uuid_is(&sc->refid, "0420a54c-16df-5fff-8f48-d87d35e71fe7");
    const docref *g = ref_at(&in, "$.entryGradeLevelDescriptor");
    cr_assert_not_null(g);
    cr_assert_not_null(g->desc);
    cr_assert_str_eq(g->desc->descriptor_name, "GradeLevelDescriptor");
    uuid_is(&g->refid, "9531a840-f733-5616-8729-6607476329fb");
    json_object_put(d);
}

Test(extract, calendar_reference_uses_target_identity_paths)
{
    docinfo in;
    json_object *d = extract("studentSchoolAssociations",
                             "{\"studentReference\":{\"studentUniqueId\":\"604824\"},\"schoolReference\":{\"schoolId\":255901},"
                             "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"" GL "Ninth grade\","
                             "\"calendarReference\":{\"calendarCode\":\"C1\",\"schoolId\":255901,\"schoolYear\":2022}}",
                             &in);
    const docref *c = ref_at(&in, "$.calendarReference");
    cr_assert_not_null(c);
    uuid_is(&c->refid, "9fa8af17-fd34-5e08-a77f-4f34fa9cecd8");
    json_object_put(d);
}

Test(extract, descriptor_resource_identity)
{
    docinfo in;
    json_object *d = extract("gradeLevelDescriptors",
                             "{\"namespace\":\"uri://ed-fi.org/GradeLevelDescriptor\",\"codeValue\":\" Ninth grade \","
                             "\"shortDescription\":\"Ninth grade\"}",
                             &in);
    uuid_is(&in.refid, "9531a840-f733-5616-8729-6607476329fb");
    cr_assert_not(in.has_alias);
    cr_assert_str_eq(in.key_json, "{\"namespace\":\"uri://ed-fi.org/GradeLevelDescriptor\",\"codeValue\":\"Ninth grade\"}");
    json_object_put(d);
}

Test(extract, descriptor_refid_case_insensitive)
{
    uuid_t16 a, b;
    doc_descriptor_refid("Ed-Fi", "GradeLevelDescriptor", "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", &a);
    doc_descriptor_refid("Ed-Fi", "GradeLevelDescriptor", "URI://ED-FI.ORG/GRADELEVELDESCRIPTOR#NINTH GRADE", &b);
    uuid_is(&a, "9531a840-f733-5616-8729-6607476329fb");
    cr_assert_eq(memcmp(a.b, b.b, 16), 0);
}

Test(extract, section_identity_through_reference)
{
    docinfo in;
    json_object *d = extract("sections",
                             "{\"sectionIdentifier\":\"25590100102Trad220ALG112011\",\"courseOfferingReference\":{"
                             "\"localCourseCode\":\"ALG-1\",\"schoolId\":255901,\"schoolYear\":2022,"
                             "\"sessionName\":\"2021-2022 Fall Semester\"}}",
                             &in);
    uuid_is(&in.refid, "14306d93-e1ba-55ec-ba2d-76ed073bbc1a");
    json_object_put(d);
}

Test(extract, abstract_reference_resolves_to_superclass_id)
{
    docinfo in;
    json_object *d = extract("programs",
                             "{\"educationOrganizationReference\":{\"educationOrganizationId\":255901},\"programName\":\"Gifted\","
                             "\"programTypeDescriptor\":\"uri://ed-fi.org/ProgramTypeDescriptor#Gifted and Talented\"}",
                             &in);
    uuid_is(&in.refid, "ca3b8304-eefc-5b51-81c7-364dcc154b3b");
    const docref *e = ref_at(&in, "$.educationOrganizationReference");
    cr_assert_not_null(e);
    uuid_is(&e->refid, "c1204ade-622c-5695-afb9-01534d97999c");
    const docref *t = ref_at(&in, "$.programTypeDescriptor");
    cr_assert_not_null(t);
    uuid_is(&t->refid, "92b66788-6da2-5eef-848b-bc346fd75caf");
    json_object_put(d);
}

Test(extract, references_inside_collections)
{
    docinfo in;
    json_object *d = extract("bellSchedules",
                             "{\"bellScheduleName\":\"Normal\",\"schoolReference\":{\"schoolId\":255901},\"classPeriods\":["
                             "{\"classPeriodReference\":{\"classPeriodName\":\"First\",\"schoolId\":255901}},"
                             "{\"classPeriodReference\":{\"classPeriodName\":\"Second\",\"schoolId\":255901}}]}",
                             &in);
    uuid_is(&in.refid, "d61e2a01-6f7d-5704-9f7b-31dcec2173e6");
    const docref *a = ref_at(&in, "$.classPeriods[0].classPeriodReference");
    const docref *b = ref_at(&in, "$.classPeriods[1].classPeriodReference");
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    uuid_is(&a->refid, "f522b121-606f-5966-8ea2-c399f03e6f6a");
    uuid_is(&b->refid, "8a956c9d-871c-5878-be0e-f1b68be20ceb");
    json_object_put(d);
}

Test(extract, school_year_type_identity)
{
    docinfo in;
    json_object *d = extract("schoolYearTypes", "{\"schoolYear\":\"2025\",\"currentSchoolYear\":true,\"schoolYearDescription\":\"x\"}", &in);
    uuid_is(&in.refid, "6a21e456-2167-5479-a922-6be3b979f87e");
    json_object_put(d);
}

Test(extract, partial_reference_rejected)
{
    /* doc_extract on a raw (not normalized) document: a reference object
     * without all members fails with the DMS message. */
    json_object *d = parse("{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":{\"x\":1},"
                           "\"entryDate\":\"2021-08-23\"}");
    docinfo in;
    verrors ve;
    verrors_init(&ve);
    cr_assert_not(doc_extract(&A, res("studentSchoolAssociations"), d, &in, &ve));
    json_object *a = jsonx_get(ve.by_path, "$.schoolReference");
    cr_assert_not_null(a, "%s", jsonx_text(ve.by_path));
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, 0)),
                     "Reference object '$.schoolReference' for resource 'School' must include all identifying values when "
                     "present. Missing: 'schoolId'.");
    verrors_free(&ve);
    json_object_put(d);
}

Test(extract, non_object_reference_rejected)
{
    json_object *d = parse("{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":5,\"entryDate\":\"2021-08-23\"}");
    docinfo in;
    verrors ve;
    verrors_init(&ve);
    cr_assert_not(doc_extract(&A, res("studentSchoolAssociations"), d, &in, &ve));
    json_object *a = jsonx_get(ve.by_path, "$.schoolReference");
    cr_assert_not_null(a, "%s", jsonx_text(ve.by_path));
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, 0)),
                     "Reference object '$.schoolReference' for resource 'School' must be a JSON object.");
    verrors_free(&ve);
    json_object_put(d);
}

Test(extract, canonical_values)
{
    buf b;
    buf_init(&b, 0);
    json_object *v[] = {json_object_new_int64(2025), json_object_new_double(12.5), json_object_new_double(-0.0),
                        json_object_new_double(3.0), json_object_new_string("Ninth Grade"), json_object_new_boolean(1)};
    const char *want_plain[] = {"2025", "12.5", "0", "3", "Ninth Grade", "true"};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
        buf_reset(&b);
        doc_canonical_value(&b, v[i], false);
        cr_assert_str_eq(b.data, want_plain[i]);
    }
    buf_reset(&b);
    doc_canonical_value(&b, v[4], true);
    cr_assert_str_eq(b.data, "ninth grade");
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) json_object_put(v[i]);
    buf_free(&b);
}

typedef struct seen { int n; char paths[8][64]; } seen;
static bool record(void *ctx, json_object *v, const char *concrete, json_object *parent, const char *key)
{
    (void)v, (void)parent, (void)key;
    seen *s = ctx;
    if (s->n < 8) snprintf(s->paths[s->n++], 64, "%s", concrete);
    return true;
}
static bool first_only(void *ctx, json_object *v, const char *concrete, json_object *parent, const char *key)
{
    record(ctx, v, concrete, parent, key);
    return false;
}

Test(extract, visit_expands_arrays)
{
    json_object *d = parse("{\"a\":[{\"b\":{\"c\":1}},{\"x\":1},{\"b\":{\"c\":2}}]}");
    arena a;
    arena_init(&a, 0);
    mpath p;
    cr_assert(mpath_parse(&a, "$.a[*].b.c", &p));
    seen s = {0};
    doc_visit(d, &p, record, &s);
    cr_assert_eq(s.n, 2);
    cr_assert_str_eq(s.paths[0], "$.a[0].b.c");
    cr_assert_str_eq(s.paths[1], "$.a[2].b.c");
    seen f = {0};
    doc_visit(d, &p, first_only, &f);
    cr_assert_eq(f.n, 1, "visiting stops when fn returns false");
    arena_free(&a);
    json_object_put(d);
}

/* ---- doc_key_values: the natural key as change queries report it ---- */

Test(extract, key_values_use_query_parameter_names)
{
    docinfo in;
    json_object *d = extract("studentProgramAssociations",
                             "{\"studentReference\":{\"studentUniqueId\":\"604854\"},"
                             "\"educationOrganizationReference\":{\"educationOrganizationId\":255901001},"
                             "\"programReference\":{\"educationOrganizationId\":255901,\"programName\":\"Bilingual\","
                             "\"programTypeDescriptor\":\"uri://ed-fi.org/ProgramTypeDescriptor#Bilingual\"},"
                             "\"beginDate\":\"8/30/2021\"}",
                             &in);
    cr_assert_str_eq(doc_key_values(&A, res("studentProgramAssociations"), d),
                     "{\"beginDate\":\"2021-08-30\",\"educationOrganizationId\":255901001,"
                     "\"programEducationOrganizationId\":255901,\"programName\":\"Bilingual\","
                     "\"programTypeDescriptor\":\"uri://ed-fi.org/ProgramTypeDescriptor#Bilingual\","
                     "\"studentUniqueId\":\"604854\"}",
                     "two educationOrganizationId leaves keep apart; sorted by name");
    json_object_put(d);
    d = extract("studentSchoolAssociations",
                "{\"studentReference\":{\"studentUniqueId\":\"604824\"},\"schoolReference\":{\"schoolId\":255901},"
                "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"" GL "Ninth grade\"}",
                &in);
    cr_assert_str_eq(doc_key_values(&A, res("studentSchoolAssociations"), d),
                     "{\"entryDate\":\"2021-08-23\",\"schoolId\":255901,\"studentUniqueId\":\"604824\"}");
    json_object_put(d);
}

Test(extract, key_values_of_unified_members_appear_once)
{
    /* courseOfferings: $.sessionReference.schoolId has no parameter of its
     * own; it equals $.schoolReference.schoolId (schoolId). */
    docinfo in;
    json_object *d = extract("courseOfferings",
                             "{\"localCourseCode\":\"ALG-1\",\"courseReference\":{\"courseCode\":\"ALG-1\","
                             "\"educationOrganizationId\":255901},\"schoolReference\":{\"schoolId\":255901001},"
                             "\"sessionReference\":{\"schoolId\":255901001,\"schoolYear\":2022,\"sessionName\":\"Fall\"}}",
                             &in);
    cr_assert_str_eq(doc_key_values(&A, res("courseOfferings"), d),
                     "{\"localCourseCode\":\"ALG-1\",\"schoolId\":255901001,\"schoolYear\":2022,\"sessionName\":\"Fall\"}");
    json_object_put(d);
}

Test(extract, key_values_of_a_descriptor)
{
    docinfo in;
    json_object *d = extract("gradeLevelDescriptors",
                             "{\"namespace\":\"uri://ed-fi.org/GradeLevelDescriptor\",\"codeValue\":\"Ninth grade\","
                             "\"shortDescription\":\"Ninth grade\"}",
                             &in);
    cr_assert_str_eq(doc_key_values(&A, res("gradeLevelDescriptors"), d),
                     "{\"namespace\":\"uri://ed-fi.org/GradeLevelDescriptor\",\"codeValue\":\"Ninth grade\"}");
    json_object_put(d);
}
