/* libFuzzer target: API profile definitions (hostile XML: DTDs and
 * entities, deep nesting, unknown names, broken filters) parsed and
 * compiled against the model; every compiled content type is then applied
 * to a fixed document, read and write, so the filters run too. */
#include "fuzz_model.h"
#include "profiles/profiles.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static model *m;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    m = fuzz_model("fuzz_profiles");
    return 0;
}

static const char *const DOC =
    "{\"id\":\"x\",\"schoolId\":1,\"nameOfInstitution\":\"A\",\"webSite\":\"w\","
    "\"addresses\":[{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#Physical\",\"city\":\"c\","
    "\"periods\":[{\"beginDate\":\"2020-01-01\"}]},{\"city\":\"d\"},3],"
    "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#First grade\"}],"
    "\"localEducationAgencyReference\":{\"localEducationAgencyId\":2,\"link\":{\"rel\":\"x\"}},\"_ext\":{}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024];
    if (size > (1u << 20)) return 0;
    profile_set *ps = profile_set_new(m);
    profile_set_add_memory(ps, (const char *)data, size, "fuzz", err, sizeof err);
    static const char *const names[] = {"School", "Student", "StudentSchoolAssociation", "StudentAssessment"};
    for (int i = 0; i < profile_set_count(ps); i++)
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            for (int u = 0; u < 2; u++) {
                const profile_ct *ct =
                    profile_lookup(ps, profile_set_name(ps, i), model_find_by_name(m, NULL, names[k]), (profile_usage)u);
                if (!ct) continue;
                json_object *doc = json_tokener_parse(DOC), *stored = json_tokener_parse(DOC);
                profile_error e;
                if (u == PROFILE_READ) profile_filter_read(ct, doc);
                else profile_check_write(ct, doc, (k & 1) ? NULL : stored, &e);
                free(profile_ct_describe(ct));
                json_object_put(doc);
                json_object_put(stored);
            }
    profile_set_free(ps);
    return 0;
}
