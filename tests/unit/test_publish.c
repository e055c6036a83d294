/* Unit tests for the pure parts of src/publish: the change window, key
 * values as a query string, cleaning a source document, applying a key
 * change, the bookmark file and descriptor mappings (scope, precedence,
 * unmapped local values). */
#include "base/jsonx.h"
#include "publish/publish.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "leak.h"

TestSuite(window, .fini = unit_leak_check);
TestSuite(keys, .fini = unit_leak_check);
TestSuite(bookmark, .fini = unit_leak_check);
TestSuite(mapping, .fini = unit_leak_check);

#define MODEL_PATH "model/ds-5.2/ApiSchema.json"

static model *load(void)
{
    char err[512];
    model *m = model_load(MODEL_PATH, err, sizeof err);
    cr_assert(m, "%s", err);
    return m;
}

static json_object *J(const char *text)
{
    json_object *o = json_tokener_parse(text);
    cr_assert(o, "bad test JSON: %s", text);
    return o;
}

/* ---- window ---- */

Test(window, first_run_takes_everything)
{
    pub_window w = pub_window_of(-1, 120);
    cr_assert_eq(w.min, 0);
    cr_assert_eq(w.max, 120);
    cr_assert(w.first);
    cr_assert(!w.empty);
}

Test(window, after_a_bookmark)
{
    pub_window w = pub_window_of(100, 120);
    cr_assert_eq(w.min, 101);
    cr_assert_eq(w.max, 120);
    cr_assert(!w.first && !w.empty);
    w = pub_window_of(120, 120);
    cr_assert(w.empty, "nothing after the newest");
    w = pub_window_of(-1, 0);
    cr_assert(!w.empty, "an empty source on a first run: min 0, max 0, still asked");
}

/* ---- key values ---- */

static char *query_of(const char *keys)
{
    json_object *k = J(keys);
    buf b;
    buf_init(&b, 0);
    bool ok = pub_key_query(k, &b);
    json_object_put(k);
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

Test(keys, query_string_encodes_values)
{
    char *q = query_of("{\"schoolId\":255901001,\"sessionName\":\"Fall 2024/25 & more\","
                       "\"termDescriptor\":\"uri://ed-fi.org/TermDescriptor#Fall Semester\",\"flag\":true}");
    cr_assert_str_eq(q, "schoolId=255901001&sessionName=Fall%202024%2F25%20%26%20more&"
                        "termDescriptor=uri%3A%2F%2Fed-fi.org%2FTermDescriptor%23Fall%20Semester&flag=true");
    free(q);
    q = query_of("{\"beginDate\":\"2021-08-30\",\"x\":\"\xc3\xa9\"}");
    cr_assert_str_eq(q, "beginDate=2021-08-30&x=%C3%A9");
    free(q);
    cr_assert_null(query_of("{\"a\":{\"b\":1}}"), "only scalars");
    cr_assert_null(query_of("[1]"));
}

Test(keys, clean_removes_what_the_target_sets)
{
    model *m = load();
    const mresource *r = model_find(m, "ed-fi", "studentSchoolAssociations");
    json_object *d = J("{\"id\":\"x\",\"_etag\":\"1\",\"_lastModifiedDate\":\"2024-01-01T00:00:00Z\","
                       "\"schoolReference\":{\"schoolId\":1,\"link\":{\"rel\":\"School\",\"href\":\"/x\"}},"
                       "\"alternativeGraduationPlans\":[{\"alternativeGraduationPlanReference\":{\"a\":1,\"link\":{}}}]}");
    pub_clean_doc(d, r);
    cr_assert_str_eq(jsonx_text(d), "{\"schoolReference\":{\"schoolId\":1},"
                                    "\"alternativeGraduationPlans\":[{\"alternativeGraduationPlanReference\":{\"a\":1}}]}");
    json_object_put(d);
    const mresource *g = model_find(m, "ed-fi", "gradeLevelDescriptors");
    d = J("{\"id\":\"x\",\"gradeLevelDescriptorId\":12,\"codeValue\":\"A\",\"namespace\":\"uri://x/GradeLevelDescriptor\"}");
    pub_clean_doc(d, g);
    cr_assert_str_eq(jsonx_text(d), "{\"codeValue\":\"A\",\"namespace\":\"uri://x/GradeLevelDescriptor\"}");
    json_object_put(d);
    model_free(m);
}

Test(keys, a_key_change_sets_the_identity_paths)
{
    model *m = load();
    const mresource *r = model_find(m, "ed-fi", "courseOfferings");
    json_object *d = J("{\"localCourseCode\":\"ALG\",\"sessionReference\":{\"schoolId\":1,\"schoolYear\":2025,"
                       "\"sessionName\":\"Fall\"},\"schoolReference\":{\"schoolId\":1},\"courseReference\":"
                       "{\"courseCode\":\"ALG\",\"educationOrganizationId\":1}}");
    json_object *k = J("{\"localCourseCode\":\"ALG\",\"schoolId\":1,\"schoolYear\":2025,\"sessionName\":\"Spring\"}");
    cr_assert(pub_set_key_values(r, d, k));
    cr_assert_str_eq(jsonx_str(jsonx_get(d, "sessionReference"), "sessionName"), "Spring");
    cr_assert_str_eq(jsonx_str(d, "localCourseCode"), "ALG");
    json_object_put(k);
    k = J("{\"nothing\":1}");
    cr_assert(!pub_set_key_values(r, d, k), "a name outside the identity");
    json_object_put(k);
    json_object_put(d);
    r = model_find(m, "ed-fi", "studentSchoolAssociations");
    d = J("{\"studentReference\":{\"studentUniqueId\":\"1\"},\"schoolReference\":{\"schoolId\":2},"
          "\"entryDate\":\"2024-08-01\"}");
    k = J("{\"entryDate\":\"2024-08-03\",\"schoolId\":2,\"studentUniqueId\":\"1\"}");
    cr_assert(pub_set_key_values(r, d, k));
    cr_assert_str_eq(jsonx_str(d, "entryDate"), "2024-08-03");
    json_object_put(k);
    json_object_put(d);
    model_free(m);
}

/* ---- bookmark ---- */

Test(bookmark, per_source_and_target_and_durable)
{
    char path[] = "/tmp/edhub-unit-bookmark-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    unlink(path);
    cr_assert_eq(pub_bookmark_get(path, "district", "state"), -1, "no file: never published");
    char err[512];
    cr_assert(pub_bookmark_put(path, "district", "state", 41, err, sizeof err), "%s", err);
    cr_assert(pub_bookmark_put(path, "district", "other", 7, err, sizeof err), "%s", err);
    cr_assert_eq(pub_bookmark_get(path, "district", "state"), 41);
    cr_assert_eq(pub_bookmark_get(path, "district", "other"), 7);
    cr_assert_eq(pub_bookmark_get(path, "other", "state"), -1);
    cr_assert(pub_bookmark_put(path, "district", "state", 99, err, sizeof err), "%s", err);
    cr_assert_eq(pub_bookmark_get(path, "district", "state"), 99);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cr_assert(access(tmp, F_OK) != 0, "no temporary file left behind");
    FILE *f = fopen(path, "w");
    fputs("not json", f);
    fclose(f);
    cr_assert_eq(pub_bookmark_get(path, "district", "state"), -1, "an unreadable file is no bookmark");
    unlink(path);
    cr_assert(!pub_bookmark_put("/nonexistent-dir/x.json", "a", "b", 1, err, sizeof err));
    cr_assert(strstr(err, "--state FILE"), "%s", err);
}

/* ---- descriptor mappings ---- */

static void add(pub_mappings *mp, const char *text, bool from_target)
{
    json_object *o = J(text);
    pub_mappings_add(mp, o, from_target);
    json_object_put(o);
}

#define GL "uri://district.example/GradeLevelDescriptor"

Test(mapping, scope_and_precedence)
{
    pub_mappings *mp = pub_mappings_new();
    add(mp, "{\"namespace\":\"" GL "\",\"value\":\"Grade 9\",\"mappedNamespace\":\"uri://state/GradeLevelDescriptor\","
            "\"mappedValue\":\"09\"}", false);
    add(mp, "{\"namespace\":\"" GL "\",\"value\":\"Grade 9\",\"mappedNamespace\":\"uri://state/GradeLevelDescriptor\","
            "\"mappedValue\":\"09-staff\",\"modelEntities\":[{\"modelEntityDescriptor\":"
            "\"uri://ed-fi.org/ModelEntityDescriptor#Staff\"}]}", false);
    add(mp, "{\"namespace\":\"" GL "\",\"value\":\"Grade 10\",\"mappedNamespace\":\"uri://state/GradeLevelDescriptor\","
            "\"mappedValue\":\"10-ssa\",\"modelEntities\":[{\"modelEntityDescriptor\":"
            "\"uri://ed-fi.org/ModelEntityDescriptor#Student School Association\"}]}", false);
    add(mp, "{\"namespace\":\"incomplete\"}", false);
    cr_assert_eq(pub_mappings_count(mp), 3);
    cr_assert_str_eq(pub_mappings_find(mp, "StudentSchoolAssociation", GL "#Grade 9"), "uri://state/GradeLevelDescriptor#09");
    cr_assert_str_eq(pub_mappings_find(mp, "Staff", GL "#Grade 9"), "uri://state/GradeLevelDescriptor#09-staff",
                     "a mapping scoped to the resource wins over one for all");
    cr_assert_str_eq(pub_mappings_find(mp, "studentschoolassociation", "URI://DISTRICT.EXAMPLE/GradeLevelDescriptor#grade 10"),
                     "uri://state/GradeLevelDescriptor#10-ssa", "case-insensitive, as ODS resolves descriptors");
    cr_assert_null(pub_mappings_find(mp, "Staff", GL "#Grade 10"), "scoped to another resource");
    cr_assert_null(pub_mappings_find(mp, "Staff", GL "#Grade 11"));
    /* the target's mapping of the same value and scope wins */
    add(mp, "{\"namespace\":\"" GL "\",\"value\":\"Grade 9\",\"mappedNamespace\":\"uri://state/GradeLevelDescriptor\","
            "\"mappedValue\":\"NINE\"}", true);
    cr_assert_str_eq(pub_mappings_find(mp, "StudentSchoolAssociation", GL "#Grade 9"), "uri://state/GradeLevelDescriptor#NINE");
    cr_assert_str_eq(pub_mappings_find(mp, "Staff", GL "#Grade 9"), "uri://state/GradeLevelDescriptor#09-staff",
                     "scope first, then the target");
    pub_mappings_free(mp);
}

static bool state_only(void *ctx, const char *uri)
{
    (void)ctx;
    return !strncmp(uri, "uri://state/", 12) || !strncmp(uri, "uri://ed-fi.org/", 16);
}

Test(mapping, documents_at_any_depth_and_unmapped_values)
{
    pub_mappings *mp = pub_mappings_new();
    add(mp, "{\"namespace\":\"" GL "\",\"value\":\"Grade 9\",\"mappedNamespace\":\"uri://state/GradeLevelDescriptor\","
            "\"mappedValue\":\"09\"}", false);
    json_object *d = J("{\"entryGradeLevelDescriptor\":\"" GL "#Grade 9\","
                       "\"programReference\":{\"programTypeDescriptor\":\"uri://district.example/ProgramTypeDescriptor#X\"},"
                       "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"" GL "#Grade 9\"},"
                       "{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Tenth grade\"}],"
                       "\"name\":\"" GL "#Grade 9\"}");
    json_object *un = json_object_new_array();
    int n = pub_map_descriptors(mp, "StudentSchoolAssociation", d, state_only, NULL, un);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(jsonx_str(d, "entryGradeLevelDescriptor"), "uri://state/GradeLevelDescriptor#09");
    json_object *gl = jsonx_get(d, "gradeLevels");
    cr_assert_str_eq(jsonx_str(json_object_array_get_idx(gl, 0), "gradeLevelDescriptor"),
                     "uri://state/GradeLevelDescriptor#09");
    cr_assert_str_eq(jsonx_str(d, "name"), GL "#Grade 9", "only members named ...Descriptor are descriptors");
    cr_assert_str_eq(jsonx_text(un), "[{\"path\":\"$.programReference.programTypeDescriptor\","
                                     "\"value\":\"uri://district.example/ProgramTypeDescriptor#X\"}]");
    json_object_put(un);
    json_object_put(d);
    /* no check: mapping only (key values of key changes and deletes) */
    d = J("{\"entryGradeLevelDescriptor\":\"" GL "#Grade 9\"}");
    cr_assert_eq(pub_map_descriptors(mp, "StudentSchoolAssociation", d, NULL, NULL, NULL), 0);
    cr_assert_str_eq(jsonx_str(d, "entryGradeLevelDescriptor"), "uri://state/GradeLevelDescriptor#09");
    json_object_put(d);
    pub_mappings_free(mp);
}
