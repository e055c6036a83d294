/* Unit tests for src/profiles: API profile definitions parsed and checked
 * against the DS 5.2 model, the resource-model names they use, read
 * filtering, write checks and merges, and the media-type matrix of ODS/API
 * 7.3 (integration.md §3). */
#include "base/buf.h"
#include "base/jsonx.h"
#include "model/model.h"
#include "profiles/profiles.h"
#include "profiles/profiles_int.h"
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>
#include "leak.h"

static model *M;
static profile_set *PS;
static char ERR[4096];

static void setup(void)
{
    char err[256];
    M = model_load("model/ds-5.2/ApiSchema.json", err, sizeof err);
    cr_assert_not_null(M, "%s", err);
    PS = profile_set_new(M);
}

static void teardown(void)
{
    profile_set_free(PS);
    model_free(M);
    xmlCleanupParser();
    unit_leak_check();
}

TestSuite(profiles, .init = setup, .fini = teardown);

static err_t add(const char *xml) { return profile_set_add_memory(PS, xml, strlen(xml), "t.xml", ERR, sizeof ERR); }

static const mresource *R(const char *name)
{
    const mresource *r = model_find_by_name(M, NULL, name);
    cr_assert_not_null(r, "no resource %s", name);
    return r;
}

static const profile_ct *CT(const char *profile, const char *resource, profile_usage u)
{
    const profile_ct *ct = profile_lookup(PS, profile, R(resource), u);
    cr_assert_not_null(ct, "no %s content type for %s in %s", u == PROFILE_READ ? "read" : "write", resource, profile);
    return ct;
}

static json_object *J(const char *text)
{
    json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "bad test JSON: %s", text);
    return o;
}

/* doc equals the JSON text (member order ignored); doc is released. */
static void expect_json(json_object *doc, const char *text)
{
    json_object *want = J(text);
    bool same = json_object_equal(doc, want);
    char *got = strdup(jsonx_text(doc));
    json_object_put(want);
    json_object_put(doc);
    cr_expect(same, "got  %s\nwant %s", got, text);
    free(got);
}

static const char *const SCHOOL_DOC_SHORT =
    "{\"id\":\"s1\",\"schoolId\":1,\"nameOfInstitution\":\"S\",\"gradeLevels\":[],\"_ext\":{},\"_etag\":\"2\"}";

#define PROFILE(name, body) "<Profile name=\"" name "\">" body "</Profile>"
#define DOC(body) "<Profiles>" body "</Profiles>"
#define RES(name, body) "<Resource name=\"" name "\">" body "</Resource>"
#define READ(sel, body) "<ReadContentType memberSelection=\"" sel "\">" body "</ReadContentType>"
#define WRITE(sel, body) "<WriteContentType memberSelection=\"" sel "\">" body "</WriteContentType>"

/* ---- names ----------------------------------------------------------------- */

static const pmember *named(const pshape *s, const char *name)
{
    int i = pshape_find_name(s, name);
    cr_assert(i >= 0, "%s has no member named %s", s->cls, name);
    return &s->m[i];
}

Test(profiles, resource_model_names_of_members)
{
    const pshape *school = profile_set_shape(PS, R("School"));
    cr_expect_str_eq(named(school, "EducationOrganizationAddresses")->json, "addresses");
    cr_expect_str_eq(named(school, "EducationOrganizationInternationalAddresses")->json, "internationalAddresses");
    cr_expect_str_eq(named(school, "EducationOrganizationCategories")->json, "educationOrganizationCategories");
    cr_expect_str_eq(named(school, "EducationOrganizationIdentificationCodes")->json, "identificationCodes");
    cr_expect_str_eq(named(school, "SchoolGradeLevels")->json, "gradeLevels");
    cr_expect_str_eq(named(school, "SchoolCategories")->json, "schoolCategories");
    cr_expect_str_eq(named(school, "CharterApprovalSchoolYearTypeReference")->json, "charterApprovalSchoolYearTypeReference");
    cr_expect_eq(named(school, "LocalEducationAgencyReference")->kind, PK_REFERENCE);
    cr_expect(named(school, "SchoolId")->identity);
    const pmember *addr = named(school, "EducationOrganizationAddresses");
    cr_expect_str_eq(addr->sub->cls, "EducationOrganizationAddress");
    cr_expect_str_eq(named(addr->sub, "EducationOrganizationAddressPeriods")->json, "periods");
    cr_expect(named(addr->sub, "AddressTypeDescriptor")->descriptor);
    cr_expect(named(addr->sub, "City")->identity);

    /* The same inherited collections under another subclass. */
    const pshape *lea = profile_set_shape(PS, R("LocalEducationAgency"));
    cr_expect_str_eq(named(lea, "EducationOrganizationCategories")->json, "categories");
    cr_expect_str_eq(named(lea, "LocalEducationAgencyAccountabilities")->json, "accountabilities");

    const pshape *sa = profile_set_shape(PS, R("StudentAssessment"));
    const pmember *soa = named(sa, "StudentAssessmentStudentObjectiveAssessments");
    cr_expect_str_eq(named(soa->sub, "StudentAssessmentStudentObjectiveAssessmentScoreResults")->json, "scoreResults");
    cr_expect_str_eq(named(soa->sub, "StudentAssessmentStudentObjectiveAssessmentPerformanceLevels")->json,
                     "performanceLevels");
    cr_expect_str_eq(named(sa, "StudentAssessmentPeriod")->json, "period"); /* overlap collapsed */

    const pshape *as = profile_set_shape(PS, R("Assessment"));
    cr_expect_eq(named(as, "AssessmentContentStandard")->kind, PK_OBJECT);
    cr_expect_str_eq(named(as, "AssessmentAssessedGradeLevels")->json, "assessedGradeLevels");

    const pshape *cte = profile_set_shape(PS, R("StudentCTEProgramAssociation"));
    const pmember *svc = named(cte, "StudentCTEProgramAssociationCTEProgramServices");
    cr_expect_str_eq(named(svc->sub, "CTEProgramServiceDescriptor")->json, "cteProgramServiceDescriptor");
    cr_expect_str_eq(named(cte, "GeneralStudentProgramAssociationProgramParticipationStatuses")->json,
                     "programParticipationStatuses");

    /* MetaEd's spelling and the capitalized JSON name both work. */
    const pshape *da = profile_set_shape(PS, R("DisciplineAction"));
    cr_expect_str_eq(named(da, "IEPPlacementMeetingIndicator")->json, "iepPlacementMeetingIndicator");
    cr_expect_str_eq(named(da, "IepPlacementMeetingIndicator")->json, "iepPlacementMeetingIndicator");

    const pshape *ec = profile_set_shape(PS, R("EducationContent"));
    cr_expect_str_eq(named(ec, "EducationContentDerivativeSourceURIs")->json, "derivativeSourceURIs");
    const pshape *sq = profile_set_shape(PS, R("SurveyQuestion"));
    cr_expect_str_eq(named(sq, "SurveyQuestionMatrices")->json, "matrices");
}

static void count_levels(const pshape *s, int *levels, int *dups)
{
    for (int i = 0; i < s->n; i++) {
        for (int k = 0; k < i; k++) {
            const pmember *a = &s->m[i], *b = &s->m[k];
            if (!strcmp(a->name, b->name) || (a->alt && !strcmp(a->alt, b->name)) ||
                (b->alt && !strcmp(b->alt, a->name)))
                ++*dups;
        }
        if (s->m[i].sub) {
            ++*levels;
            count_levels(s->m[i].sub, levels, dups);
        }
    }
}

/* Every resource gets a name for every member, each unambiguous at its
 * level, and every collection and object is named from a model key. */
Test(profiles, names_cover_the_whole_model)
{
    arena a;
    arena_init(&a, 1 << 16);
    pshape_stats st = {0};
    int levels = 0, dups = 0;
    for (int i = 0; i < M->nres; i++) count_levels(pshape_build(&a, M, &M->res[i], &st), &levels, &dups);
    arena_free(&a);
    cr_expect_eq(dups, 0);
    cr_expect_eq(st.collections, 327);
    cr_expect_eq(st.objects, 7);
    cr_expect_eq(levels, st.collections + st.objects);
    cr_expect_eq(st.from_key + st.from_plural_key, st.collections + st.objects);
    cr_expect_eq(st.from_json, 0);
    cr_expect_eq(st.inherited, 64);
}

Test(profiles, english_plurals_and_overlaps)
{
    char out[64];
    static const char *const plural[][2] = {
        {"Address", "Addresses"}, {"Category", "Categories"}, {"Matrix", "Matrices"}, {"Status", "Statuses"},
        {"Diagnosis", "Diagnoses"}, {"Day", "Days"}, {"URI", "URIs"}, {"FederalFunds", "FederalFunds"},
    };
    for (size_t i = 0; i < sizeof plural / sizeof plural[0]; i++) {
        pname_plural(plural[i][0], out, sizeof out);
        cr_expect_str_eq(out, plural[i][1]);
        pname_singular(plural[i][1], out, sizeof out);
        if (strcmp(plural[i][0], "FederalFunds") && strcmp(plural[i][0], "Diagnosis")) cr_expect_str_eq(out, plural[i][0]);
    }
    pname_singular("Services", out, sizeof out);
    cr_expect_str_eq(out, "Service");
    pname_append_overlapping("StudentAssessment", "AssessmentPeriod", out, sizeof out);
    cr_expect_str_eq(out, "StudentAssessmentPeriod");
    pname_append_overlapping("School", "GradeLevel", out, sizeof out);
    cr_expect_str_eq(out, "SchoolGradeLevel");
}

/* ---- the sample file and the spec's example ---------------------------------- */

Test(profiles, state_promotion_sample_file)
{
    cr_assert_eq(profile_set_add_file(PS, "model/ds-5.2/profiles/state-promotion.xml", ERR, sizeof ERR), ERR_OK, "%s",
                 ERR);
    cr_assert_eq(profile_set_count(PS), 1);
    cr_expect_str_eq(profile_set_name(PS, 0), "State-Promotion");
    cr_expect_null(profile_set_problem(PS, 0));
    const profile_ct *sr = CT("state-promotion", "School", PROFILE_READ);
    cr_expect(profile_ct_includes(sr, "$.schoolId"));
    cr_expect(profile_ct_includes(sr, "$.nameOfInstitution"));
    cr_expect(profile_ct_includes(sr, "$.addresses[*].city"));
    cr_expect(!profile_ct_includes(sr, "$.addresses[*].nameOfCounty"));
    cr_expect(!profile_ct_includes(sr, "$.webSite"));
    cr_expect(profile_ct_creatable(CT("State-Promotion", "School", PROFILE_WRITE)));
    cr_expect(!profile_ct_includes(CT("State-Promotion", "School", PROFILE_WRITE), "$.addresses[*]"));
    cr_expect_null(profile_lookup(PS, "State-Promotion", R("Student"), PROFILE_WRITE));
    const profile_ct *ssa = CT("State-Promotion", "StudentSchoolAssociation", PROFILE_WRITE);
    cr_expect(!profile_ct_includes(ssa, "$.graduationPlanReference"));
    cr_expect(!profile_ct_includes(ssa, "$.educationPlans[*]"));
    cr_expect(profile_ct_includes(ssa, "$.calendarReference"));
    cr_expect(profile_ct_creatable(ssa));
    cr_expect(profile_ct_includes(CT("State-Promotion", "StudentEducationOrganizationAssociation", PROFILE_READ),
                                  "$.languages[*].uses[*].languageUseDescriptor"));
    char *d = profile_ct_describe(sr);
    cr_expect(strstr(d, "+ $.addresses[*]\n  filter addressTypeDescriptor IncludeOnly: Physical\n"), "%s", d);
    cr_expect(strstr(d, "- $.webSite\n"), "%s", d);
    free(d);
}

/* integration.md §3.6 as written: its Extension elements name the Sample
 * extension, which this model does not have. Without them it is valid. */
static const char *const SPEC_EXAMPLE =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<Profiles>\n"
    "  <Profile name=\"State-Promotion\">\n"
    "    <Resource name=\"School\">\n"
    "      <ReadContentType memberSelection=\"IncludeOnly\">\n"
    "        <Property name=\"NameOfInstitution\" />\n"
    "        <Property name=\"LocalEducationAgencyReference\" />\n"
    "        <Property name=\"SchoolTypeDescriptor\" />\n"
    "        <Collection name=\"EducationOrganizationCategories\" memberSelection=\"IncludeAll\" />\n"
    "        <Collection name=\"SchoolGradeLevels\" memberSelection=\"IncludeAll\" />\n"
    "        <Collection name=\"EducationOrganizationAddresses\" memberSelection=\"IncludeOnly\">\n"
    "          <Property name=\"StreetNumberName\" />\n"
    "          <Property name=\"City\" />\n"
    "          <Property name=\"StateAbbreviationDescriptor\" />\n"
    "          <Property name=\"PostalCode\" />\n"
    "          <Filter propertyName=\"AddressTypeDescriptor\" filterMode=\"IncludeOnly\">\n"
    "            <Value>Physical</Value>\n"
    "          </Filter>\n"
    "        </Collection>\n"
    "      </ReadContentType>\n"
    "      <WriteContentType memberSelection=\"IncludeOnly\">\n"
    "        <Property name=\"NameOfInstitution\" />\n"
    "        <Property name=\"LocalEducationAgencyReference\" />\n"
    "        <Property name=\"SchoolTypeDescriptor\" />\n"
    "        <Collection name=\"EducationOrganizationCategories\" memberSelection=\"IncludeAll\" />\n"
    "        <Collection name=\"SchoolGradeLevels\" memberSelection=\"IncludeAll\" />\n"
    "      </WriteContentType>\n"
    "    </Resource>\n"
    "    <Resource name=\"StudentSchoolAssociation\">\n"
    "      <ReadContentType memberSelection=\"ExcludeOnly\">\n"
    "        <Extension name=\"Sample\" memberSelection=\"IncludeAll\" />\n"
    "      </ReadContentType>\n"
    "      <WriteContentType memberSelection=\"ExcludeOnly\">\n"
    "        <Extension name=\"Sample\" memberSelection=\"IncludeAll\" />\n"
    "      </WriteContentType>\n"
    "    </Resource>\n"
    "    <Resource name=\"Student\">\n"
    "      <ReadContentType memberSelection=\"IncludeOnly\">\n"
    "        <Property name=\"FirstName\" />\n"
    "        <Property name=\"LastSurname\" />\n"
    "        <Property name=\"BirthDate\" />\n"
    "        <Extension name=\"Sample\" memberSelection=\"IncludeOnly\">\n"
    "          <Object name=\"StudentPetPreference\" memberSelection=\"IncludeOnly\">\n"
    "            <Property name=\"MinimumWeight\" />\n"
    "          </Object>\n"
    "          <Collection name=\"StudentPets\" memberSelection=\"IncludeOnly\">\n"
    "            <Property name=\"PetName\" />\n"
    "          </Collection>\n"
    "        </Extension>\n"
    "      </ReadContentType>\n"
    "    </Resource>\n"
    "  </Profile>\n"
    "</Profiles>\n";

Test(profiles, spec_example_needs_the_sample_extension)
{
    cr_assert_eq(add(SPEC_EXAMPLE), ERR_INVALID);
    cr_expect_str_eq(ERR, "t.xml:31: profile 'State-Promotion', resource 'StudentSchoolAssociation', "
                          "ReadContentType/Extension 'Sample': extension 'Sample' is not part of this model "
                          "(it serves Ed-Fi core only)");
    cr_expect_str_eq(profile_set_problem(PS, 0), ERR);
    cr_expect_null(profile_lookup(PS, "State-Promotion", R("School"), PROFILE_READ)); /* invalid: not usable */

    /* The same file with the Extension elements taken out. */
    char *text = strdup(SPEC_EXAMPLE);
    for (char *p; (p = strstr(text, "<Extension"));) {
        char *gt = strchr(p, '>');
        char *end = gt[-1] == '/' ? gt + 1 : strstr(p, "</Extension>") + strlen("</Extension>");
        memmove(p, end, strlen(end) + 1);
    }
    profile_set_free(PS);
    PS = profile_set_new(M);
    cr_assert_eq(add(text), ERR_OK, "%s", ERR);
    free(text);
    cr_expect(profile_ct_includes(CT("State-Promotion", "StudentSchoolAssociation", PROFILE_READ), "$.entryDate"));
    cr_expect(profile_ct_includes(CT("State-Promotion", "Student", PROFILE_READ), "$.birthDate"));
    cr_expect(!profile_ct_includes(CT("State-Promotion", "Student", PROFILE_READ), "$.middleName"));
}

/* ---- the shapes of ODS's own test profiles --------------------------------------- */

static const char *const ODS_SHAPES = DOC(
    PROFILE("Test-Profile-Resource-IncludeOnly",
            RES("School", READ("IncludeOnly", "<Property name=\"NameOfInstitution\"/>"
                                              "<Property name=\"OperationalStatusDescriptor\"/>"
                                              "<Property name=\"CharterApprovalSchoolYearTypeReference\"/>"
                                              "<Property name=\"SchoolTypeDescriptor\"/>"
                                              "<Property name=\"AdministrativeFundingControlDescriptor\"/>"
                                              "<Collection name=\"EducationOrganizationAddresses\" memberSelection=\"IncludeAll\"/>"
                                              "<Collection name=\"SchoolCategories\" memberSelection=\"IncludeAll\"/>")
                          WRITE("IncludeOnly", "<Property name=\"ShortNameOfInstitution\"/>"
                                               "<Property name=\"WebSite\"/>"
                                               "<Collection name=\"EducationOrganizationInternationalAddresses\" memberSelection=\"IncludeAll\"/>"
                                               "<Collection name=\"SchoolGradeLevels\" memberSelection=\"IncludeAll\"/>")))
    PROFILE("Test-Profile-Resource-ExcludeOnly",
            RES("School", READ("ExcludeOnly", "<Property name=\"NameOfInstitution\"/>"
                                              "<Property name=\"CharterApprovalSchoolYearTypeReference\"/>"
                                              "<Collection name=\"EducationOrganizationAddresses\" memberSelection=\"IncludeAll\"/>"
                                              "<Collection name=\"SchoolCategories\" memberSelection=\"IncludeAll\"/>")))
    PROFILE("Test-Profile-Resource-References-IncludeOnly",
            RES("School", READ("IncludeOnly", "<Property name=\"LocalEducationAgencyReference\"/>"
                                              "<Property name=\"CharterApprovalSchoolYearTypeReference\"/>")))
    PROFILE("Test-Profile-Resource-ReadOnly", RES("School", READ("IncludeAll", "")))
    PROFILE("Test-Profile-Resource-WriteOnly", RES("School", WRITE("IncludeAll", "")))
    PROFILE("Test-Profile-Resource-BaseClass-Child-Collection-ExcludeOnly",
            RES("School", READ("IncludeOnly", "<Collection name=\"EducationOrganizationAddresses\" memberSelection=\"ExcludeOnly\">"
                                              "<Property name=\"Latitude\"/><Property name=\"Longitude\"/></Collection>")))
    PROFILE("Test-Profile-Resource-Child-Collection-Filtered-To-IncludeOnly-Specific-Descriptors",
            RES("School", READ("IncludeOnly",
                               "<Collection name=\"EducationOrganizationAddresses\" memberSelection=\"IncludeOnly\">"
                               "<Property name=\"StreetNumberName\"/>"
                               "<Filter propertyName=\"AddressTypeDescriptor\" filterMode=\"IncludeOnly\">"
                               "<Value>uri://ed-fi.org/AddressTypeDescriptor#A2</Value>"
                               "<Value>uri://ed-fi.org/AddressTypeDescriptor#A4</Value></Filter></Collection>"
                               "<Collection name=\"SchoolGradeLevels\" memberSelection=\"IncludeOnly\">"
                               "<Property name=\"GradeLevelDescriptor\"/>"
                               "<Filter propertyName=\"GradeLevelDescriptor\" filterMode=\"ExcludeOnly\">"
                               "<Value>G1</Value><Value>G3</Value></Filter></Collection>")))
    PROFILE("Test-Profile-Resource-Nested-Child-Collection-Filtered",
            RES("StudentAssessment",
                READ("IncludeOnly",
                     "<Collection name=\"StudentAssessmentStudentObjectiveAssessments\" memberSelection=\"IncludeOnly\">"
                     "<Collection name=\"StudentAssessmentStudentObjectiveAssessmentScoreResults\" memberSelection=\"IncludeOnly\">"
                     "<Filter propertyName=\"ResultDatatypeTypeDescriptor\" filterMode=\"IncludeOnly\">"
                     "<Value>Integer</Value></Filter></Collection>"
                     "<Collection name=\"StudentAssessmentStudentObjectiveAssessmentPerformanceLevels\" memberSelection=\"IncludeOnly\">"
                     "<Filter propertyName=\"PerformanceLevelDescriptor\" filterMode=\"IncludeOnly\">"
                     "<Value>Pass</Value></Filter></Collection></Collection>")))
    PROFILE("Assessment-Readable-Includes-Embedded-Object",
            RES("Assessment", READ("IncludeOnly", "<Property name=\"AssessmentCategoryDescriptor\"/>"
                                                  "<Object name=\"AssessmentContentStandard\" memberSelection=\"IncludeAll\"/>")))
    PROFILE("Assessment-Readable-Excludes-Embedded-Object",
            RES("Assessment", READ("ExcludeOnly", "<Object name=\"AssessmentContentStandard\" memberSelection=\"IncludeAll\"/>")))
    PROFILE("Assessment-Writable-Includes-Non-Creatable-Embedded-Object",
            RES("Assessment", WRITE("IncludeAll", "<Object name=\"AssessmentContentStandard\" memberSelection=\"ExcludeOnly\">"
                                                  "<Property name=\"Title\"/></Object>")))
    PROFILE("Test-Profile-For-Composites-With-Multiple-Resources",
            RES("StudentEducationOrganizationAssociation",
                READ("IncludeOnly", "<Property name=\"HispanicLatinoEthnicity\"/>"
                                    "<Collection name=\"StudentEducationOrganizationAssociationAddresses\" memberSelection=\"IncludeOnly\">"
                                    "<Property name=\"City\"/><Property name=\"StateAbbreviationDescriptor\"/>"
                                    "<Filter propertyName=\"AddressTypeDescriptor\" filterMode=\"IncludeOnly\">"
                                    "<Value>uri://ed-fi.org/AddressTypeDescriptor#Physical</Value>"
                                    "<Value>uri://ed-fi.org/AddressTypeDescriptor#Home</Value></Filter></Collection>"))
                RES("Staff", READ("ExcludeOnly", "<Property name=\"SexDescriptor\"/><Property name=\"BirthDate\"/>"
                                                 "<Property name=\"HispanicLatinoEthnicity\"/>")))
    PROFILE("StudentSpecialEducationProgramAssociation-Derived-Association-IncludeOnly",
            RES("StudentSpecialEducationProgramAssociation",
                READ("IncludeOnly", "<Property name='SpecialEducationSettingDescriptor'/>"
                                    "<Property name='SpecialEducationHoursPerWeek'/><Property name='EndDate'/>"
                                    "<Property name='ReasonExitedDescriptor'/>")
                    WRITE("IncludeOnly", "<Property name='SpecialEducationHoursPerWeek'/>")))
    PROFILE("MinimalStudentSchoolAssociation-IncludeOnly",
            RES("StudentSchoolAssociation",
                READ("IncludeOnly", "<Property name=\"EntryDate\"/><Property name=\"ExitWithdrawDate\"/>"
                                    "<Property name=\"PrimarySchool\"/><Property name=\"EntryGradeLevelDescriptor\"/>")))
    PROFILE("Profile-Validation-Regression-References",
            RES("StudentCTEProgramAssociation",
                READ("IncludeOnly", "<Property name=\"BeginDate\"/><Property name=\"EndDate\"/>"
                                    "<Property name=\"StudentReference\"/>"
                                    "<Collection name=\"StudentCTEProgramAssociationCTEProgramServices\" memberSelection=\"IncludeOnly\">"
                                    "<Property name=\"CTEProgramServiceDescriptor\"/><Property name=\"ServiceBeginDate\"/>"
                                    "<Property name=\"ServiceEndDate\"/></Collection>"))));

Test(profiles, ods_test_profile_shapes)
{
    cr_assert_eq(add(ODS_SHAPES), ERR_OK, "%s", ERR);
    cr_expect_eq(profile_set_count(PS), 15);

    const profile_ct *inc = CT("Test-Profile-Resource-IncludeOnly", "School", PROFILE_READ);
    cr_expect(profile_ct_includes(inc, "$.schoolId"));
    cr_expect(profile_ct_includes(inc, "$.charterApprovalSchoolYearTypeReference"));
    cr_expect(profile_ct_includes(inc, "$.addresses[*].periods[*].beginDate"));
    cr_expect(!profile_ct_includes(inc, "$.gradeLevels[*]"));
    cr_expect(!profile_ct_includes(inc, "$.webSite"));
    const profile_ct *incw = CT("Test-Profile-Resource-IncludeOnly", "School", PROFILE_WRITE);
    cr_expect(!profile_ct_creatable(incw)); /* NameOfInstitution and EducationOrganizationCategories are required */

    /* ExcludeOnly: the listed members go, IncludeAll collections included. */
    const profile_ct *exc = CT("Test-Profile-Resource-ExcludeOnly", "School", PROFILE_READ);
    cr_expect(!profile_ct_includes(exc, "$.nameOfInstitution"));
    cr_expect(!profile_ct_includes(exc, "$.addresses[*]"));
    cr_expect(!profile_ct_includes(exc, "$.addresses[*].city"));
    cr_expect(!profile_ct_includes(exc, "$.schoolCategories[*]"));
    cr_expect(profile_ct_includes(exc, "$.gradeLevels[*].gradeLevelDescriptor"));
    cr_expect(profile_ct_includes(exc, "$.webSite"));
    cr_expect(profile_ct_includes(exc, "$.schoolId"));

    const profile_ct *refs = CT("Test-Profile-Resource-References-IncludeOnly", "School", PROFILE_READ);
    cr_expect(profile_ct_includes(refs, "$.localEducationAgencyReference"));
    cr_expect(!profile_ct_includes(refs, "$.nameOfInstitution"));

    cr_expect_null(profile_lookup(PS, "Test-Profile-Resource-ReadOnly", R("School"), PROFILE_WRITE));
    cr_expect_null(profile_lookup(PS, "Test-Profile-Resource-WriteOnly", R("School"), PROFILE_READ));
    cr_expect(profile_ct_creatable(CT("Test-Profile-Resource-WriteOnly", "School", PROFILE_WRITE)));

    const profile_ct *child = CT("Test-Profile-Resource-BaseClass-Child-Collection-ExcludeOnly", "School", PROFILE_READ);
    cr_expect(profile_ct_includes(child, "$.addresses[*].nameOfCounty"));
    cr_expect(!profile_ct_includes(child, "$.addresses[*].latitude"));

    cr_expect(profile_ct_includes(CT("Assessment-Readable-Includes-Embedded-Object", "Assessment", PROFILE_READ),
                                  "$.contentStandard.title"));
    cr_expect(!profile_ct_includes(CT("Assessment-Readable-Excludes-Embedded-Object", "Assessment", PROFILE_READ),
                                   "$.contentStandard"));
    /* Title is required in the content standard: the object cannot be created. */
    cr_expect(profile_ct_creatable(
        CT("Assessment-Writable-Includes-Non-Creatable-Embedded-Object", "Assessment", PROFILE_WRITE)));
    cr_expect(!profile_ct_includes(
        CT("Assessment-Writable-Includes-Non-Creatable-Embedded-Object", "Assessment", PROFILE_WRITE),
        "$.contentStandard.title"));

    const profile_ct *staff = CT("Test-Profile-For-Composites-With-Multiple-Resources", "Staff", PROFILE_READ);
    cr_expect(!profile_ct_includes(staff, "$.birthDate"));
    cr_expect(profile_ct_includes(staff, "$.firstName"));
    const profile_ct *sped =
        CT("StudentSpecialEducationProgramAssociation-Derived-Association-IncludeOnly",
           "StudentSpecialEducationProgramAssociation", PROFILE_READ);
    cr_expect(profile_ct_includes(sped, "$.reasonExitedDescriptor"));
    cr_expect(profile_ct_includes(sped, "$.programReference")); /* identity */
    cr_expect(!profile_ct_includes(sped, "$.disabilities[*]"));
    cr_expect(profile_ct_includes(CT("Profile-Validation-Regression-References", "StudentCTEProgramAssociation",
                                     PROFILE_READ),
                                  "$.cteProgramServices[*].serviceBeginDate"));
}

Test(profiles, filters_by_uri_or_code_value_on_read)
{
    cr_assert_eq(add(ODS_SHAPES), ERR_OK, "%s", ERR);
    json_object *doc = J("{\"schoolId\":1,\"nameOfInstitution\":\"S\","
                         "\"addresses\":["
                         "{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#A1\",\"streetNumberName\":\"1\",\"city\":\"c\",\"latitude\":\"9\"},"
                         "{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#A2\",\"streetNumberName\":\"2\",\"city\":\"c\",\"latitude\":\"9\"},"
                         "{\"addressTypeDescriptor\":\"URI://ED-FI.ORG/AddressTypeDescriptor#a4\",\"streetNumberName\":\"4\",\"city\":\"c\",\"latitude\":\"9\"}],"
                         "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#G1\"},"
                         "{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#G2\"},"
                         "{\"gradeLevelDescriptor\":\"uri://tx.org/GradeLevelDescriptor#G3\"}]}");
    profile_filter_read(CT("Test-Profile-Resource-Child-Collection-Filtered-To-IncludeOnly-Specific-Descriptors",
                           "School", PROFILE_READ),
                        doc);
    /* Address identity members stay; latitude was not listed. */
    expect_json(doc, "{\"schoolId\":1,\"addresses\":["
                     "{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#A2\",\"streetNumberName\":\"2\",\"city\":\"c\"},"
                     "{\"addressTypeDescriptor\":\"URI://ED-FI.ORG/AddressTypeDescriptor#a4\",\"streetNumberName\":\"4\",\"city\":\"c\"}],"
                     "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#G2\"}]}");

    json_object *sa = J("{\"studentAssessmentIdentifier\":\"X\",\"assessmentReference\":{\"assessmentIdentifier\":\"A\",\"namespace\":\"n\"},"
                        "\"studentReference\":{\"studentUniqueId\":\"1\"},\"administrationDate\":\"2024-01-01T00:00:00Z\","
                        "\"studentObjectiveAssessments\":[{\"objectiveAssessmentReference\":{\"assessmentIdentifier\":\"A\","
                        "\"identificationCode\":\"O\",\"namespace\":\"n\"},"
                        "\"scoreResults\":[{\"assessmentReportingMethodDescriptor\":\"uri://ed-fi.org/AssessmentReportingMethodDescriptor#Raw score\","
                        "\"result\":\"7\",\"resultDatatypeTypeDescriptor\":\"uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer\"},"
                        "{\"assessmentReportingMethodDescriptor\":\"uri://ed-fi.org/AssessmentReportingMethodDescriptor#Grade\","
                        "\"result\":\"B\",\"resultDatatypeTypeDescriptor\":\"uri://ed-fi.org/ResultDatatypeTypeDescriptor#Level\"}],"
                        "\"performanceLevels\":[{\"assessmentReportingMethodDescriptor\":\"uri://ed-fi.org/AssessmentReportingMethodDescriptor#Grade\","
                        "\"performanceLevelDescriptor\":\"uri://ed-fi.org/PerformanceLevelDescriptor#Fail\"}]}]}");
    profile_filter_read(CT("Test-Profile-Resource-Nested-Child-Collection-Filtered", "StudentAssessment", PROFILE_READ),
                        sa);
    expect_json(sa, "{\"studentAssessmentIdentifier\":\"X\",\"assessmentReference\":{\"assessmentIdentifier\":\"A\",\"namespace\":\"n\"},"
                    "\"studentReference\":{\"studentUniqueId\":\"1\"},"
                    "\"studentObjectiveAssessments\":[{\"objectiveAssessmentReference\":{\"assessmentIdentifier\":\"A\","
                    "\"identificationCode\":\"O\",\"namespace\":\"n\"},"
                    "\"scoreResults\":[{\"assessmentReportingMethodDescriptor\":\"uri://ed-fi.org/AssessmentReportingMethodDescriptor#Raw score\"}],"
                    "\"performanceLevels\":[]}]}");
}

/* ExcludeAll, which ODS leaves unimplemented: the identity only at the top,
 * the whole member when nested. */
Test(profiles, exclude_all)
{
    cr_assert_eq(add(DOC(PROFILE("Identity-Only",
                                 RES("School", READ("ExcludeAll", "") WRITE("ExcludeAll", ""))
                                     RES("StudentAssessment",
                                         READ("IncludeOnly", "<Property name=\"AdministrationDate\"/>"
                                                             "<Collection name=\"StudentAssessmentScoreResults\" "
                                                             "memberSelection=\"ExcludeAll\"/>"))))),
                 ERR_OK, "%s", ERR);
    json_object *doc = J(SCHOOL_DOC_SHORT);
    profile_filter_read(CT("Identity-Only", "School", PROFILE_READ), doc);
    expect_json(doc, "{\"id\":\"s1\",\"schoolId\":1,\"_etag\":\"2\"}");
    cr_expect(!profile_ct_creatable(CT("Identity-Only", "School", PROFILE_WRITE)));
    const profile_ct *sa = CT("Identity-Only", "StudentAssessment", PROFILE_READ);
    cr_expect(profile_ct_includes(sa, "$.administrationDate"));
    cr_expect(!profile_ct_includes(sa, "$.scoreResults[*]"));
    cr_expect(profile_ct_includes(sa, "$.studentReference"));
}

/* ---- validation errors -------------------------------------------------------------- */

typedef struct bad_case {
    const char *xml;
    const char *want;     /* the whole message, or a part of it */
} bad_case;

#define SCHOOL_READ(sel, body) DOC(PROFILE("P", RES("School", READ(sel, body))))
#define ADDRS(body) "<Collection name=\"EducationOrganizationAddresses\" memberSelection=\"IncludeOnly\">" body "</Collection>"

Test(profiles, every_validation_error)
{
    static const bad_case cases[] = {
        {DOC(PROFILE("P", RES("Skool", READ("IncludeAll", "")))),
         "t.xml:1: profile 'P', resource 'Skool': no resource 'Skool' in the model"},
        {DOC(PROFILE("P", RES("school", READ("IncludeAll", "")))), "no resource 'school' in the model (did you mean 'School'?)"},
        {SCHOOL_READ("IncludeOnly", "<Property name=\"NameOfTheInstitution\"/>"),
         "t.xml:1: profile 'P', resource 'School', ReadContentType/Property 'NameOfTheInstitution': School has no "
         "property or reference named 'NameOfTheInstitution' (Property names: "},
        {SCHOOL_READ("IncludeOnly", "<Collection name=\"SchoolAddresses\" memberSelection=\"IncludeAll\"/>"),
         "ReadContentType/Collection 'SchoolAddresses': School has no collection named 'SchoolAddresses' (Collection "
         "names: EducationOrganizationAddresses, EducationOrganizationCategories, "},
        {SCHOOL_READ("IncludeOnly", "<Object name=\"ContentStandard\" memberSelection=\"IncludeAll\"/>"),
         "School has no embedded object named 'ContentStandard' (Object names: (none))"},
        {SCHOOL_READ("IncludeOnly", "<Property name=\"SchoolGradeLevels\"/>"),
         "ReadContentType/Property 'SchoolGradeLevels': 'SchoolGradeLevels' is a collection: name it with <Collection>"},
        {SCHOOL_READ("IncludeOnly", "<Collection name=\"NameOfInstitution\" memberSelection=\"IncludeAll\"/>"),
         "'NameOfInstitution' is a property: name it with <Property>"},
        {SCHOOL_READ("IncludeOnly", ADDRS("<Property name=\"Town\"/>")),
         "ReadContentType/Collection 'EducationOrganizationAddresses'/Property 'Town': EducationOrganizationAddress has "
         "no property or reference named 'Town'"},
        {SCHOOL_READ("IncludeOnly", ADDRS("<Filter propertyName=\"AddressKindDescriptor\" filterMode=\"IncludeOnly\">"
                                          "<Value>Physical</Value></Filter>")),
         "Collection 'EducationOrganizationAddresses'/Filter 'AddressKindDescriptor': EducationOrganizationAddress has "
         "no property 'AddressKindDescriptor'"},
        {SCHOOL_READ("IncludeOnly", ADDRS("<Filter propertyName=\"City\" filterMode=\"IncludeOnly\"><Value>X</Value></Filter>")),
         "filters compare descriptor values, and 'City' is not a descriptor"},
        {SCHOOL_READ("IncludeOnly", ADDRS("<Filter propertyName=\"AddressTypeDescriptor\" filterMode=\"Only\">"
                                          "<Value>X</Value></Filter>")),
         "filterMode must be IncludeOnly or ExcludeOnly"},
        {SCHOOL_READ("IncludeOnly", ADDRS("<Filter propertyName=\"AddressTypeDescriptor\" filterMode=\"IncludeOnly\"/>")),
         "<Filter> needs at least one <Value>"},
        {SCHOOL_READ("IncludeOnly", ADDRS("<Filter propertyName=\"AddressTypeDescriptor\" filterMode=\"IncludeOnly\">"
                                          "<Value> </Value></Filter>")),
         "empty <Value>"},
        {SCHOOL_READ("IncludeOnly", "<Filter propertyName=\"SchoolTypeDescriptor\" filterMode=\"IncludeOnly\">"
                                    "<Value>X</Value></Filter>"),
         "ReadContentType: <Filter> is not allowed here"},
        {SCHOOL_READ("IncludeSome", ""), "ReadContentType: memberSelection 'IncludeSome' is not IncludeOnly, ExcludeOnly, "
                                         "IncludeAll or ExcludeAll"},
        {DOC(PROFILE("P", RES("School", "<ReadContentType/>"))), "<ReadContentType> needs memberSelection"},
        {SCHOOL_READ("IncludeOnly", "<Collection name=\"SchoolGradeLevels\"/>"), "<Collection> needs memberSelection"},
        {SCHOOL_READ("IncludeOnly", "<Property/>"), "ReadContentType: <Property> needs a name"},
        {SCHOOL_READ("IncludeOnly", "<Member name=\"WebSite\"/>"), "ReadContentType: <Member> is not allowed here"},
        {SCHOOL_READ("IncludeOnly", "<Property name=\"WebSite\" hidden=\"true\"/>"),
         "ReadContentType/Property 'WebSite': <Property> has no attribute 'hidden'"},
        {SCHOOL_READ("IncludeOnly", "<Property name=\"WebSite\"/><Property name=\"WebSite\"/>"), "'WebSite' is listed twice"},
        {DOC(PROFILE("P", RES("School", READ("IncludeAll", "")) RES("School", READ("IncludeAll", "")))),
         "resource 'School' is given twice"},
        {DOC(PROFILE("P", RES("School", READ("IncludeAll", "") READ("IncludeAll", "")))),
         "ReadContentType: <ReadContentType> is given twice"},
        {SCHOOL_READ("ExcludeOnly", "<Property name=\"SchoolId\"/>"),
         "ReadContentType/Property 'SchoolId': 'SchoolId' is part of the identity and cannot be excluded"},
        {SCHOOL_READ("ExcludeOnly", ADDRS("") ""), NULL}, /* not an error: listed collections go */
        {SCHOOL_READ("IncludeOnly", "<Extension name=\"Sample\" memberSelection=\"IncludeAll\"/>"),
         "ReadContentType/Extension 'Sample': extension 'Sample' is not part of this model"},
        {DOC(PROFILE("P", "<Resource name=\"School\" logicalSchema=\"Sample\">" READ("IncludeAll", "") "</Resource>")),
         "logicalSchema 'Sample' is not part of this model"},
        {SCHOOL_READ("IncludeOnly", "<Property name=\"WebSite\"/>hello"), "ReadContentType: unexpected text"},
        {DOC("<Profile>" RES("School", READ("IncludeAll", "")) "</Profile>"), "profile '?': <Profile> needs a name"},
        {DOC(PROFILE("P", "")), "profile 'P': a profile needs at least one <Resource>"},
        {DOC(PROFILE("P", RES("School", "<Property name=\"WebSite\"/>"))),
         "<Property> is not allowed in <Resource> (ReadContentType, WriteContentType)"},
        {DOC(PROFILE("P", "<Collection name=\"X\"/>")), "<Collection> is not allowed in <Profile> (only <Resource>)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        profile_set_free(PS);
        PS = profile_set_new(M);
        err_t rc = add(cases[i].xml);
        if (!cases[i].want) {
            cr_expect_eq(rc, ERR_OK, "case %zu: %s", i, ERR);
            continue;
        }
        cr_expect_eq(rc, ERR_INVALID, "case %zu accepted: %s", i, cases[i].xml);
        cr_expect(strstr(ERR, cases[i].want), "case %zu:\n got  %s\n want %s", i, ERR, cases[i].want);
        int n = profile_set_count(PS);
        /* A named profile stays, marked invalid; an unnamed one is not added. */
        if (n) cr_expect_str_eq(profile_set_problem(PS, n - 1), ERR);
    }
}

Test(profiles, errors_name_the_line)
{
    const char *xml = "<Profiles>\n"
                      "  <Profile name=\"Good\">\n"
                      "    <Resource name=\"Student\"><ReadContentType memberSelection=\"IncludeAll\"/></Resource>\n"
                      "  </Profile>\n"
                      "  <Profile name=\"Bad\">\n"
                      "    <Resource name=\"Student\">\n"
                      "      <WriteContentType memberSelection=\"ExcludeOnly\">\n"
                      "        <Property name=\"BirthDat\" />\n"
                      "      </WriteContentType>\n"
                      "    </Resource>\n"
                      "  </Profile>\n"
                      "</Profiles>\n";
    cr_assert_eq(add(xml), ERR_INVALID);
    cr_expect(!strncmp(ERR, "t.xml:8: profile 'Bad', resource 'Student', WriteContentType/Property 'BirthDat': "
                            "Student has no property or reference named 'BirthDat'",
                       strlen("t.xml:8: profile 'Bad', resource 'Student', WriteContentType/Property 'BirthDat': "
                              "Student has no property or reference named 'BirthDat'")),
              "%s", ERR);
    cr_expect_eq(profile_set_count(PS), 2);
    cr_expect_null(profile_set_problem(PS, 0)); /* the valid profile is usable */
    cr_expect_not_null(profile_lookup(PS, "good", R("Student"), PROFILE_READ));
    cr_expect_null(profile_lookup(PS, "Bad", R("Student"), PROFILE_WRITE));

    /* The same name again: refused, the first definition stays. */
    cr_expect_eq(add(DOC(PROFILE("GOOD", RES("School", READ("IncludeAll", ""))))), ERR_INVALID);
    cr_expect(strstr(ERR, "a profile named 'Good' is already defined"), "%s", ERR);
    cr_expect_eq(profile_set_count(PS), 2);
    cr_expect_null(profile_lookup(PS, "Good", R("School"), PROFILE_READ));
}

Test(profiles, hostile_and_malformed_documents)
{
    static const bad_case cases[] = {
        {"<Profiles><Profile name=\"P\">", "t.xml:1: "},
        {"<?xml version=\"1.0\"?>\n<!DOCTYPE Profiles [<!ENTITY x \"xx\">]>\n<Profiles>&x;</Profiles>",
         "t.xml: DTDs and entities are not allowed in profile definitions"},
        {"<Profiles xmlns:x=\"y\"><!ENTITY x \"y\"></Profiles>", "DTDs and entities are not allowed"},
        {"<Profile2/>", "t.xml:1: the root element is <Profile2>, not <Profiles>"},
        {"<Profiles/>", "t.xml:1: <Profiles> holds no <Profile>"},
        {"<Profiles><Foo/></Profiles>", "t.xml:1: <Foo> is not allowed in <Profiles> (only <Profile>)"},
        {"<Profiles version=\"2\"><Profile name=\"P\"/></Profiles>", "<Profiles> has no attribute 'version'"},
        {"<Profiles>text</Profiles>", "unexpected text in <Profiles>"},
        {"<Profiles><Profile name=\"\xff\"/></Profiles>", "t.xml:1: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_expect_eq(add(cases[i].xml), ERR_INVALID, "case %zu", i);
        cr_expect(strstr(ERR, cases[i].want), "case %zu:\n got  %s\n want %s", i, ERR, cases[i].want);
    }
    cr_expect_eq(profile_set_count(PS), 0);

    /* NUL bytes (UTF-16 text) */
    static const char utf16[] = "<\0P\0r\0o\0f\0i\0l\0e\0s\0/\0>\0";
    cr_expect_eq(profile_set_add_memory(PS, utf16, sizeof utf16 - 1, "t.xml", ERR, sizeof ERR), ERR_INVALID);
    cr_expect(strstr(ERR, "NUL bytes"), "%s", ERR);

    /* Too large, and nested beyond libxml2's depth limit. */
    size_t big = PROFILES_MAX_BYTES + 1;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    memcpy(text, "<Profiles>", 10);
    text[big] = 0;
    cr_expect_eq(add(text), ERR_TOO_LARGE);
    cr_expect(strstr(ERR, "larger than"), "%s", ERR);
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, "<Profiles><Profile name=\"P\"><Resource name=\"School\"><ReadContentType memberSelection=\"IncludeOnly\">");
    for (int i = 0; i < 300; i++) buf_puts(&b, "<Collection name=\"EducationOrganizationAddresses\" memberSelection=\"IncludeOnly\">");
    for (int i = 0; i < 300; i++) buf_puts(&b, "</Collection>");
    buf_puts(&b, "</ReadContentType></Resource></Profile></Profiles>");
    cr_expect_eq(add(b.data), ERR_INVALID);
    cr_expect(strstr(ERR, "t.xml:1: ") && strcasestr(ERR, "depth"), "%s", ERR);
    buf_free(&b);
    free(text);

    /* A single <Profile> (the Admin database's form) is a document too. */
    cr_expect_eq(add(PROFILE("Single", RES("School", READ("IncludeAll", "")))), ERR_OK, "%s", ERR);
    cr_expect_eq(profile_set_count(PS), 1);
}

/* ---- reading ------------------------------------------------------------------------------ */

static const char *const SCHOOL_DOC =
    "{\"id\":\"9c3f3a2b2b6a4c8e9f5a1d2c3b4a5f60\",\"schoolId\":255901001,"
    "\"nameOfInstitution\":\"Grand Bend High School\",\"shortNameOfInstitution\":\"GBHS\","
    "\"webSite\":\"http://www.GBISD.edu/GBHS/\","
    "\"localEducationAgencyReference\":{\"localEducationAgencyId\":255901,"
    "\"link\":{\"rel\":\"LocalEducationAgency\",\"href\":\"/ed-fi/localEducationAgencies/6b1e0c5d\"}},"
    "\"schoolTypeDescriptor\":\"uri://ed-fi.org/SchoolTypeDescriptor#Regular\","
    "\"operationalStatusDescriptor\":\"uri://ed-fi.org/OperationalStatusDescriptor#Active\","
    "\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":"
    "\"uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School\"}],"
    "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"},"
    "{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Tenth grade\"}],"
    "\"schoolCategories\":[{\"schoolCategoryDescriptor\":\"uri://ed-fi.org/SchoolCategoryDescriptor#High School\"}],"
    "\"addresses\":[{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#Physical\",\"city\":\"Grand Bend\","
    "\"postalCode\":\"78834\",\"stateAbbreviationDescriptor\":\"uri://ed-fi.org/StateAbbreviationDescriptor#TX\","
    "\"streetNumberName\":\"456 Oak Street\",\"nameOfCounty\":\"Williston\",\"periods\":[{\"beginDate\":\"2020-08-01\"}]},"
    "{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#Mailing\",\"city\":\"Grand Bend\","
    "\"postalCode\":\"78835\",\"stateAbbreviationDescriptor\":\"uri://ed-fi.org/StateAbbreviationDescriptor#TX\","
    "\"streetNumberName\":\"PO Box 12\"}],"
    "\"institutionTelephones\":[{\"institutionTelephoneNumberTypeDescriptor\":"
    "\"uri://ed-fi.org/InstitutionTelephoneNumberTypeDescriptor#Main\",\"telephoneNumber\":\"(950) 325-9465\"}],"
    "\"_etag\":\"5250549965238460000\",\"_lastModifiedDate\":\"2024-05-01T10:00:00Z\"}";

Test(profiles, read_filter_school)
{
    cr_assert_eq(profile_set_add_file(PS, "model/ds-5.2/profiles/state-promotion.xml", ERR, sizeof ERR), ERR_OK, "%s",
                 ERR);
    json_object *doc = J(SCHOOL_DOC);
    profile_filter_read(CT("State-Promotion", "School", PROFILE_READ), doc);
    expect_json(doc,
                "{\"id\":\"9c3f3a2b2b6a4c8e9f5a1d2c3b4a5f60\",\"schoolId\":255901001,"
                "\"nameOfInstitution\":\"Grand Bend High School\","
                "\"localEducationAgencyReference\":{\"localEducationAgencyId\":255901,"
                "\"link\":{\"rel\":\"LocalEducationAgency\",\"href\":\"/ed-fi/localEducationAgencies/6b1e0c5d\"}},"
                "\"schoolTypeDescriptor\":\"uri://ed-fi.org/SchoolTypeDescriptor#Regular\","
                "\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":"
                "\"uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School\"}],"
                "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"},"
                "{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Tenth grade\"}],"
                "\"addresses\":[{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#Physical\","
                "\"city\":\"Grand Bend\",\"postalCode\":\"78834\","
                "\"stateAbbreviationDescriptor\":\"uri://ed-fi.org/StateAbbreviationDescriptor#TX\","
                "\"streetNumberName\":\"456 Oak Street\"}],"
                "\"_etag\":\"5250549965238460000\",\"_lastModifiedDate\":\"2024-05-01T10:00:00Z\"}");
}

Test(profiles, read_filter_student_and_association)
{
    cr_assert_eq(profile_set_add_file(PS, "model/ds-5.2/profiles/state-promotion.xml", ERR, sizeof ERR), ERR_OK, "%s",
                 ERR);
    json_object *st = J("{\"id\":\"a1\",\"studentUniqueId\":\"604821\",\"firstName\":\"Tyrone\",\"middleName\":\"L\","
                        "\"lastSurname\":\"Dyer\",\"birthDate\":\"2014-11-13\",\"birthCity\":\"Grand Bend\","
                        "\"personReference\":{\"personId\":\"P1\",\"sourceSystemDescriptor\":\"uri://ed-fi.org/SourceSystemDescriptor#SIS\"},"
                        "\"otherNames\":[{\"otherNameTypeDescriptor\":\"uri://ed-fi.org/OtherNameTypeDescriptor#Nickname\",\"firstName\":\"Ty\",\"lastSurname\":\"D\"}],"
                        "\"_ext\":{\"sample\":{\"petPreference\":{\"minimumWeight\":5}}},\"_etag\":\"1\"}");
    profile_filter_read(CT("State-Promotion", "Student", PROFILE_READ), st);
    expect_json(st, "{\"id\":\"a1\",\"studentUniqueId\":\"604821\",\"firstName\":\"Tyrone\",\"lastSurname\":\"Dyer\","
                    "\"birthDate\":\"2014-11-13\",\"_etag\":\"1\"}");

    const char *ssa_text =
        "{\"id\":\"b2\",\"studentReference\":{\"studentUniqueId\":\"604821\",\"link\":{\"rel\":\"Student\",\"href\":\"/ed-fi/students/a1\"}},"
        "\"schoolReference\":{\"schoolId\":255901001,\"link\":{\"rel\":\"School\",\"href\":\"/ed-fi/schools/9c\"}},"
        "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\","
        "\"calendarReference\":{\"calendarCode\":\"2010605675\",\"schoolId\":255901001,\"schoolYear\":2022},"
        "\"graduationPlanReference\":{\"educationOrganizationId\":255901,\"graduationPlanTypeDescriptor\":"
        "\"uri://ed-fi.org/GraduationPlanTypeDescriptor#Recommended\",\"graduationSchoolYear\":2025},"
        "\"educationPlans\":[{\"educationPlanDescriptor\":\"uri://ed-fi.org/EducationPlanDescriptor#Career Pathways\"}],"
        "\"_ext\":{\"sample\":{\"membershipTypeDescriptor\":\"uri://sample.ed-fi.org/MembershipTypeDescriptor#Regular\"}}}";
    json_object *ssa = J(ssa_text);
    profile_filter_read(CT("State-Promotion", "StudentSchoolAssociation", PROFILE_READ), ssa);
    /* ExcludeOnly: what the model does not know (an extension) is kept. */
    expect_json(ssa,
                "{\"id\":\"b2\",\"studentReference\":{\"studentUniqueId\":\"604821\",\"link\":{\"rel\":\"Student\",\"href\":\"/ed-fi/students/a1\"}},"
                "\"schoolReference\":{\"schoolId\":255901001,\"link\":{\"rel\":\"School\",\"href\":\"/ed-fi/schools/9c\"}},"
                "\"entryDate\":\"2021-08-23\",\"entryGradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\","
                "\"calendarReference\":{\"calendarCode\":\"2010605675\",\"schoolId\":255901001,\"schoolYear\":2022},"
                "\"_ext\":{\"sample\":{\"membershipTypeDescriptor\":\"uri://sample.ed-fi.org/MembershipTypeDescriptor#Regular\"}}}");

    /* The nested filter keeps only the home language uses; empty arrays stay. */
    json_object *seoa = J("{\"studentReference\":{\"studentUniqueId\":\"1\"},\"educationOrganizationReference\":{\"educationOrganizationId\":2},"
                          "\"sexDescriptor\":\"uri://ed-fi.org/SexDescriptor#Female\",\"telephones\":[{\"telephoneNumber\":\"1\","
                          "\"telephoneNumberTypeDescriptor\":\"uri://ed-fi.org/TelephoneNumberTypeDescriptor#Home\"}],"
                          "\"languages\":[{\"languageDescriptor\":\"uri://ed-fi.org/LanguageDescriptor#spa\",\"uses\":["
                          "{\"languageUseDescriptor\":\"uri://ed-fi.org/LanguageUseDescriptor#Home language\"},"
                          "{\"languageUseDescriptor\":\"uri://ed-fi.org/LanguageUseDescriptor#Native language\"}]},"
                          "{\"languageDescriptor\":\"uri://ed-fi.org/LanguageDescriptor#eng\",\"uses\":["
                          "{\"languageUseDescriptor\":\"uri://ed-fi.org/LanguageUseDescriptor#Dominant language\"}]}]}");
    profile_filter_read(CT("State-Promotion", "StudentEducationOrganizationAssociation", PROFILE_READ), seoa);
    expect_json(seoa, "{\"studentReference\":{\"studentUniqueId\":\"1\"},\"educationOrganizationReference\":{\"educationOrganizationId\":2},"
                      "\"sexDescriptor\":\"uri://ed-fi.org/SexDescriptor#Female\","
                      "\"languages\":[{\"languageDescriptor\":\"uri://ed-fi.org/LanguageDescriptor#spa\",\"uses\":["
                      "{\"languageUseDescriptor\":\"uri://ed-fi.org/LanguageUseDescriptor#Home language\"}]},"
                      "{\"languageDescriptor\":\"uri://ed-fi.org/LanguageDescriptor#eng\",\"uses\":[]}]}");
}

/* ---- writing ------------------------------------------------------------------------------- */

static const char *const WRITES = DOC(
    PROFILE("Physical-Only",
            RES("School", WRITE("IncludeOnly", "<Property name=\"NameOfInstitution\"/>"
                                               "<Collection name=\"EducationOrganizationCategories\" memberSelection=\"IncludeAll\"/>"
                                               "<Collection name=\"SchoolGradeLevels\" memberSelection=\"IncludeAll\"/>"
                                               "<Collection name=\"EducationOrganizationAddresses\" memberSelection=\"ExcludeOnly\">"
                                               "<Property name=\"NameOfCounty\"/>"
                                               "<Filter propertyName=\"AddressTypeDescriptor\" filterMode=\"IncludeOnly\">"
                                               "<Value>Physical</Value></Filter></Collection>")))
    PROFILE("Student-No-BirthDate",
            RES("Student", WRITE("ExcludeOnly", "<Property name=\"BirthDate\"/><Property name=\"MiddleName\"/>"
                                                "<Property name=\"PersonReference\"/>"
                                                "<Collection name=\"StudentOtherNames\" memberSelection=\"IncludeAll\"/>")))
    PROFILE("Student-Names-Only",
            RES("Student", WRITE("IncludeOnly", "<Property name=\"FirstName\"/><Property name=\"LastSurname\"/>")))
    PROFILE("Scores-Without-Results",
            RES("StudentAssessment",
                WRITE("IncludeOnly", "<Property name=\"AdministrationDate\"/>"
                                     "<Collection name=\"StudentAssessmentScoreResults\" memberSelection=\"IncludeOnly\"/>")))
    PROFILE("School-Name-Only", RES("School", WRITE("IncludeOnly", "<Property name=\"NameOfInstitution\"/>"))));

Test(profiles, write_filter_violation_is_a_validation_error)
{
    cr_assert_eq(add(WRITES), ERR_OK, "%s", ERR);
    const profile_ct *ct = CT("Physical-Only", "School", PROFILE_WRITE);
    json_object *doc = J(SCHOOL_DOC);
    profile_error e;
    cr_expect_eq(profile_write_prepare(ct, doc, &e), ERR_INVALID);
    cr_expect_eq(e.status, 400);
    cr_expect_str_eq(e.type, "urn:ed-fi:api:bad-request:data-validation-failed");
    cr_expect_str_eq(e.title, "Data Validation Failed");
    cr_expect_str_eq(e.detail, "Data validation failed. See 'validationErrors' for details.");
    cr_expect_str_eq(e.path, "$.addresses");
    cr_expect_str_eq(e.message, "A supplied 'EducationOrganizationAddress' has a descriptor value that does not "
                                "conform with the filter values defined by profile 'Physical-Only'.");
    json_object_put(doc);
}

Test(profiles, write_drops_excluded_members_and_keeps_hidden_items)
{
    cr_assert_eq(add(WRITES), ERR_OK, "%s", ERR);
    const profile_ct *ct = CT("Physical-Only", "School", PROFILE_WRITE);
    cr_expect(profile_ct_creatable(ct));
    json_object *doc = J("{\"schoolId\":255901001,\"nameOfInstitution\":\"Grand Bend HS\",\"webSite\":\"http://x\","
                         "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"}],"
                         "\"addresses\":[{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#Physical\","
                         "\"city\":\"Grand Bend\",\"postalCode\":\"78834\",\"stateAbbreviationDescriptor\":"
                         "\"uri://ed-fi.org/StateAbbreviationDescriptor#TX\",\"streetNumberName\":\"456 Oak Street\","
                         "\"nameOfCounty\":\"Sent\",\"latitude\":\"28.1\"}]}");
    json_object *stored = J(SCHOOL_DOC);
    json_object_object_del(stored, "id");
    json_object_object_del(stored, "_etag");
    json_object_object_del(stored, "_lastModifiedDate");
    profile_error e;
    cr_assert_eq(profile_check_write(ct, doc, stored, &e), ERR_OK, "%s", e.message);
    /* Stored values of everything the profile does not write, the stored
     * county of the same address, and the mailing address it hides. */
    expect_json(doc,
                "{\"schoolId\":255901001,\"nameOfInstitution\":\"Grand Bend HS\",\"shortNameOfInstitution\":\"GBHS\","
                "\"webSite\":\"http://www.GBISD.edu/GBHS/\","
                "\"localEducationAgencyReference\":{\"localEducationAgencyId\":255901},"
                "\"schoolTypeDescriptor\":\"uri://ed-fi.org/SchoolTypeDescriptor#Regular\","
                "\"operationalStatusDescriptor\":\"uri://ed-fi.org/OperationalStatusDescriptor#Active\","
                "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"}],"
                "\"schoolCategories\":[{\"schoolCategoryDescriptor\":\"uri://ed-fi.org/SchoolCategoryDescriptor#High School\"}],"
                "\"addresses\":[{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#Physical\",\"city\":\"Grand Bend\","
                "\"postalCode\":\"78834\",\"stateAbbreviationDescriptor\":\"uri://ed-fi.org/StateAbbreviationDescriptor#TX\","
                "\"streetNumberName\":\"456 Oak Street\",\"nameOfCounty\":\"Williston\",\"latitude\":\"28.1\"},"
                "{\"addressTypeDescriptor\":\"uri://ed-fi.org/AddressTypeDescriptor#Mailing\",\"city\":\"Grand Bend\","
                "\"postalCode\":\"78835\",\"stateAbbreviationDescriptor\":\"uri://ed-fi.org/StateAbbreviationDescriptor#TX\","
                "\"streetNumberName\":\"PO Box 12\"}],"
                "\"institutionTelephones\":[{\"institutionTelephoneNumberTypeDescriptor\":"
                "\"uri://ed-fi.org/InstitutionTelephoneNumberTypeDescriptor#Main\",\"telephoneNumber\":\"(950) 325-9465\"}]}");
    /* educationOrganizationCategories is written by this profile: the
     * client left it out, so it goes (the schema check then requires it). */
    json_object_put(stored);
}

Test(profiles, create_refused_when_required_members_are_excluded)
{
    cr_assert_eq(add(WRITES), ERR_OK, "%s", ERR);
    const profile_ct *ct = CT("Student-No-BirthDate", "Student", PROFILE_WRITE);
    cr_expect(!profile_ct_creatable(ct));
    json_object *doc = J("{\"studentUniqueId\":\"604821\",\"firstName\":\"Tyrone\",\"lastSurname\":\"Dyer\","
                         "\"birthDate\":\"2014-11-13\"}");
    profile_error e;
    cr_expect_eq(profile_check_write(ct, doc, NULL, &e), ERR_INVALID);
    cr_expect_eq(e.status, 400);
    cr_expect_str_eq(e.type, "urn:ed-fi:api:bad-request:data-policy");
    cr_expect_str_eq(e.title, "Data Policy Enforced");
    cr_expect_str_eq(e.detail,
                     "The resource cannot be saved because a data policy has been applied to the request that prevents it.");
    cr_expect_str_eq(e.path, "");
    cr_expect_str_eq(e.message, "The Profile definition for 'Student-No-BirthDate' excludes (or does not include) one "
                                "or more required data elements needed to create the resource.");
    json_object_put(doc);

    /* A required collection left out (School-Name-Only: no grade levels). */
    cr_expect(!profile_ct_creatable(CT("School-Name-Only", "School", PROFILE_WRITE)));
    cr_expect(!profile_ct_creatable(CT("Student-Names-Only", "Student", PROFILE_WRITE)));
}

Test(profiles, update_keeps_stored_values_of_excluded_members)
{
    cr_assert_eq(add(WRITES), ERR_OK, "%s", ERR);
    const profile_ct *ct = CT("Student-No-BirthDate", "Student", PROFILE_WRITE);
    json_object *doc = J("{\"id\":\"a1\",\"studentUniqueId\":\"604821\",\"firstName\":\"Ty\",\"lastSurname\":\"Dyer\","
                         "\"middleName\":\"Sent\",\"otherNames\":[],\"_ext\":{\"sample\":{\"x\":2}}}");
    json_object *stored = J("{\"studentUniqueId\":\"604821\",\"firstName\":\"Tyrone\",\"lastSurname\":\"Dyer\","
                            "\"middleName\":\"L\",\"birthDate\":\"2014-11-13\","
                            "\"personReference\":{\"personId\":\"P1\",\"sourceSystemDescriptor\":\"uri://ed-fi.org/SourceSystemDescriptor#SIS\","
                            "\"link\":{\"rel\":\"Person\",\"href\":\"/ed-fi/people/p1\"}},"
                            "\"otherNames\":[{\"otherNameTypeDescriptor\":\"uri://ed-fi.org/OtherNameTypeDescriptor#Nickname\","
                            "\"firstName\":\"Ty\",\"lastSurname\":\"D\"}],\"_ext\":{\"sample\":{\"x\":1}}}");
    profile_error e;
    cr_assert_eq(profile_check_write(ct, doc, stored, &e), ERR_OK, "%s", e.message);
    /* ExcludeOnly keeps what the model does not know: the client's _ext wins. */
    expect_json(doc, "{\"id\":\"a1\",\"studentUniqueId\":\"604821\",\"firstName\":\"Ty\",\"lastSurname\":\"Dyer\","
                     "\"middleName\":\"L\",\"birthDate\":\"2014-11-13\","
                     "\"personReference\":{\"personId\":\"P1\",\"sourceSystemDescriptor\":\"uri://ed-fi.org/SourceSystemDescriptor#SIS\"},"
                     "\"otherNames\":[{\"otherNameTypeDescriptor\":\"uri://ed-fi.org/OtherNameTypeDescriptor#Nickname\","
                     "\"firstName\":\"Ty\",\"lastSurname\":\"D\"}],\"_ext\":{\"sample\":{\"x\":2}}}");

    /* IncludeOnly: a stored extension stays, the client's is ignored. */
    ct = CT("Student-Names-Only", "Student", PROFILE_WRITE);
    doc = J("{\"studentUniqueId\":\"604821\",\"firstName\":\"Ty\",\"lastSurname\":\"Dyer\",\"_ext\":{\"sample\":{\"x\":2}}}");
    cr_assert_eq(profile_check_write(ct, doc, stored, &e), ERR_OK, "%s", e.message);
    cr_expect_str_eq(jsonx_text(jsonx_get(doc, "_ext")), "{\"sample\":{\"x\":1}}");
    cr_expect_str_eq(jsonx_str(doc, "birthDate"), "2014-11-13");
    cr_expect_str_eq(jsonx_str(doc, "firstName"), "Ty");
    json_object_put(doc);
    json_object_put(stored);
}

Test(profiles, new_child_items_need_their_required_members)
{
    cr_assert_eq(add(WRITES), ERR_OK, "%s", ERR);
    const profile_ct *ct = CT("Scores-Without-Results", "StudentAssessment", PROFILE_WRITE);
    cr_expect(profile_ct_creatable(ct)); /* scoreResults is optional */
    const char *body = "{\"studentAssessmentIdentifier\":\"X\",\"assessmentReference\":{\"assessmentIdentifier\":\"A\",\"namespace\":\"n\"},"
                       "\"studentReference\":{\"studentUniqueId\":\"1\"},\"administrationDate\":\"2024-01-01T00:00:00Z\","
                       "\"scoreResults\":[{\"assessmentReportingMethodDescriptor\":\"uri://ed-fi.org/AssessmentReportingMethodDescriptor#Raw score\"}]}";
    json_object *doc = J(body);
    profile_error e;
    cr_expect_eq(profile_check_write(ct, doc, NULL, &e), ERR_INVALID);
    cr_expect_str_eq(e.type, "urn:ed-fi:api:bad-request:data-policy");
    cr_expect_str_eq(e.message, "The Profile definition for 'Scores-Without-Results' excludes (or does not include) one "
                                "or more required data elements needed to create a child item of type "
                                "'StudentAssessmentScoreResult' in the resource.");
    json_object_put(doc);

    /* The same item already stored: an update, its result comes back. */
    doc = J(body);
    json_object *stored = J("{\"studentAssessmentIdentifier\":\"X\",\"assessmentReference\":{\"assessmentIdentifier\":\"A\",\"namespace\":\"n\"},"
                            "\"studentReference\":{\"studentUniqueId\":\"1\"},\"administrationDate\":\"2023-01-01T00:00:00Z\","
                            "\"scoreResults\":[{\"assessmentReportingMethodDescriptor\":\"uri://ed-fi.org/AssessmentReportingMethodDescriptor#Raw score\","
                            "\"result\":\"7\",\"resultDatatypeTypeDescriptor\":\"uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer\"}]}");
    cr_assert_eq(profile_check_write(ct, doc, stored, &e), ERR_OK, "%s", e.message);
    expect_json(doc, "{\"studentAssessmentIdentifier\":\"X\",\"assessmentReference\":{\"assessmentIdentifier\":\"A\",\"namespace\":\"n\"},"
                     "\"studentReference\":{\"studentUniqueId\":\"1\"},\"administrationDate\":\"2024-01-01T00:00:00Z\","
                     "\"scoreResults\":[{\"assessmentReportingMethodDescriptor\":\"uri://ed-fi.org/AssessmentReportingMethodDescriptor#Raw score\","
                     "\"result\":\"7\",\"resultDatatypeTypeDescriptor\":\"uri://ed-fi.org/ResultDatatypeTypeDescriptor#Integer\"}]}");
    json_object_put(stored);
}

/* ---- media types -------------------------------------------------------------------------- */

Test(profiles, media_type_parsing)
{
    profile_media mt;
    cr_expect_eq(profile_media_parse("application/vnd.ed-fi.school.state-promotion.readable+json", &mt), PROFILE_MEDIA_OK);
    cr_expect_str_eq(mt.resource, "school");
    cr_expect_str_eq(mt.profile, "state-promotion");
    cr_expect_eq(mt.usage, PROFILE_READ);
    cr_expect_eq(profile_media_parse(" Application/VND.Ed-Fi.StudentSchoolAssociation.State-Promotion.WRITABLE+JSON; charset=utf-8",
                                     &mt),
                 PROFILE_MEDIA_OK);
    cr_expect_str_eq(mt.resource, "StudentSchoolAssociation");
    cr_expect_str_eq(mt.profile, "State-Promotion");
    cr_expect_eq(mt.usage, PROFILE_WRITE);
    cr_expect_eq(profile_media_parse("application/json", &mt), PROFILE_MEDIA_NONE);
    cr_expect_eq(profile_media_parse(NULL, &mt), PROFILE_MEDIA_NONE);
    cr_expect_eq(profile_media_parse("application/vnd.ed-fi.school.readable+json", &mt), PROFILE_MEDIA_BAD_FORMAT);
    cr_expect_eq(profile_media_parse("application/vnd.ed-fi.school.a.b.readable+json", &mt), PROFILE_MEDIA_BAD_FORMAT);
    cr_expect_eq(profile_media_parse("application/vnd.ed-fi.school..readable+json", &mt), PROFILE_MEDIA_BAD_FORMAT);
    cr_expect_eq(profile_media_parse("application/vnd.ed-fi.school.p.editable+json", &mt), PROFILE_MEDIA_BAD_USAGE);
    char out[256];
    profile_media_format(out, sizeof out, "StudentSchoolAssociation", "State-Promotion", PROFILE_WRITE);
    cr_expect_str_eq(out, "application/vnd.ed-fi.studentschoolassociation.state-promotion.writable+json");
}

static const profile_ct *resolve(const char *res, const char *method, const char *header, const char *const *assigned,
                                 int n, profile_error *e)
{
    profile_request rq = {.r = R(res), .method = method, .assigned = assigned, .nassigned = n};
    if (!strcmp(method, "GET")) rq.accept = header;
    else rq.content_type = header;
    return profile_resolve(PS, &rq, e);
}

static void expect_problem(const profile_error *e, int status, const char *type, const char *detail, const char *message)
{
    cr_expect_eq(e->status, status, "status %d for %s", e->status, e->message);
    cr_expect_str_eq(e->type, type);
    if (detail) cr_expect_str_eq(e->detail, detail);
    cr_expect_str_eq(e->message, message);
}

#define USAGE "urn:ed-fi:api:profile:invalid-profile-usage"
#define USAGE_DETAIL "The request construction was invalid with respect to usage of a data policy."

Test(profiles, media_type_matrix)
{
    cr_assert_eq(profile_set_add_file(PS, "model/ds-5.2/profiles/state-promotion.xml", ERR, sizeof ERR), ERR_OK, "%s",
                 ERR);
    cr_assert_eq(add(DOC(PROFILE("A-Profile", RES("School", READ("IncludeAll", "") WRITE("IncludeAll", ""))
                                                  RES("Student", READ("IncludeAll", ""))))),
                 ERR_OK, "%s", ERR);
    cr_assert_eq(add(DOC(PROFILE("Broken", RES("School", READ("IncludeOnly", "<Property name=\"Nope\"/>"))))), ERR_INVALID);
    profile_error e;
    const char *rd = "application/vnd.ed-fi.school.state-promotion.readable+json";
    const char *wr = "application/vnd.ed-fi.school.state-promotion.writable+json";

    /* No profile in play. */
    cr_expect_null(resolve("School", "GET", "application/json", NULL, 0, &e));
    cr_expect_eq(e.status, 0);
    cr_expect_null(resolve("School", "DELETE", wr, NULL, 0, &e));
    cr_expect_eq(e.status, 0);

    /* The media type itself. */
    cr_expect_null(resolve("School", "GET", "application/vnd.ed-fi.school.readable+json", NULL, 0, &e));
    expect_problem(&e, 400, USAGE, USAGE_DETAIL, "The format of the profile-based 'Accept' header was invalid.");
    cr_expect_str_eq(e.title, "Invalid Profile Usage");
    cr_expect_null(resolve("School", "POST", "application/vnd.ed-fi.school.state-promotion.editable+json", NULL, 0, &e));
    expect_problem(&e, 400, USAGE, USAGE_DETAIL,
                   "The profile usage segment in the profile-based 'Content-Type' header was not recognized.");
    cr_expect_null(resolve("School", "GET", wr, NULL, 0, &e));
    expect_problem(&e, 400, USAGE, USAGE_DETAIL, "A profile-based content type that is writable cannot be used with GET requests.");
    cr_expect_null(resolve("School", "PUT", rd, NULL, 0, &e));
    expect_problem(&e, 400, USAGE, USAGE_DETAIL,
                   "A profile-based content type that is readable cannot be used with PUT or POST requests.");
    cr_expect_null(resolve("School", "GET", "application/vnd.ed-fi.school.nope.readable+json", NULL, 0, &e));
    expect_problem(&e, 406, USAGE, USAGE_DETAIL,
                   "The profile specified by the content type in the 'Accept' header is not supported by this host.");
    cr_expect_null(resolve("School", "POST", "application/vnd.ed-fi.school.nope.writable+json", NULL, 0, &e));
    expect_problem(&e, 415, USAGE, USAGE_DETAIL,
                   "The profile specified by the content type in the 'Content-Type' header is not supported by this host.");
    cr_expect_null(resolve("School", "GET", "application/vnd.ed-fi.school.broken.readable+json", NULL, 0, &e));
    expect_problem(&e, 406, USAGE, USAGE_DETAIL,
                   "The profile specified by the content type in the 'Accept' header is configured but invalid.");

    /* The resource and the direction. */
    cr_expect_null(resolve("Student", "GET", rd, NULL, 0, &e));
    expect_problem(&e, 400, USAGE, USAGE_DETAIL,
                   "The resource specified by the profile-based content type ('school') does not match the requested "
                   "resource ('Student').");
    cr_expect_null(resolve("Staff", "GET", "application/vnd.ed-fi.staff.state-promotion.readable+json", NULL, 0, &e));
    expect_problem(&e, 400, USAGE,
                   USAGE_DETAIL " The resource is not contained by the profile used by (or applied to) the request.",
                   "Resource 'Staff' is not accessible through the 'state-promotion' profile specified by the content type.");
    cr_expect_null(resolve("Student", "POST", "application/vnd.ed-fi.student.state-promotion.writable+json", NULL, 0, &e));
    expect_problem(&e, 405, "urn:ed-fi:api:profile:method-usage",
                   "Usage of the API Profiles feature was incorrect. An attempt was made to access a resource that is "
                   "not writable using the profile.",
                   "Resource class 'Student' is not writable using API profile 'state-promotion'.");
    cr_expect_str_eq(e.title, "Method Not Allowed with Profile");

    /* Chosen by the media type (also among other Accept values). */
    const profile_ct *ct = resolve("School", "GET", "application/json, application/vnd.ed-fi.School.State-Promotion.readable+json",
                                   NULL, 0, &e);
    cr_expect_eq(e.status, 0, "%s", e.message);
    cr_expect_eq(ct, CT("State-Promotion", "School", PROFILE_READ));
    cr_expect_eq(resolve("School", "POST", wr, NULL, 0, &e), CT("State-Promotion", "School", PROFILE_WRITE));

    /* Assigned profiles: one that covers the request applies by itself. */
    const char *const one[] = {"state-promotion"};
    cr_expect_eq(resolve("School", "POST", "application/json", one, 1, &e), CT("State-Promotion", "School", PROFILE_WRITE));
    cr_expect_eq(resolve("StudentSchoolAssociation", "GET", NULL, one, 1, &e),
                 CT("State-Promotion", "StudentSchoolAssociation", PROFILE_READ));
    /* It does not cover Student writes nor Staff: no profile applies. */
    cr_expect_null(resolve("Student", "PUT", "application/json", one, 1, &e));
    cr_expect_eq(e.status, 0);
    cr_expect_null(resolve("Staff", "GET", NULL, one, 1, &e));
    cr_expect_eq(e.status, 0);

    const char *const two[] = {"State-Promotion", "A-Profile"};
    cr_expect_null(resolve("School", "GET", NULL, two, 2, &e));
    expect_problem(&e, 403, "urn:ed-fi:api:security:data-policy:incorrect-usage",
                   "A data policy failure was encountered. The request was not constructed correctly for the data "
                   "policy that has been applied to this resource for the caller.",
                   "Based on profile assignments, one of the following profile-specific content types is required when "
                   "requesting this resource: 'application/vnd.ed-fi.school.a-profile.readable+json', "
                   "'application/vnd.ed-fi.school.state-promotion.readable+json'");
    cr_expect_str_eq(e.title, "Data Policy Failure Due to Incorrect Usage");
    cr_expect_eq(resolve("School", "GET", rd, two, 2, &e), CT("State-Promotion", "School", PROFILE_READ));
    /* Only State-Promotion covers StudentSchoolAssociation reads. */
    cr_expect_eq(resolve("StudentSchoolAssociation", "GET", NULL, two, 2, &e),
                 CT("State-Promotion", "StudentSchoolAssociation", PROFILE_READ));

    /* An assigned profile that is missing or invalid fails closed, whatever the resource. */
    const char *const broken[] = {"State-Promotion", "Broken"};
    cr_expect_null(resolve("StudentSchoolAssociation", "GET", NULL, broken, 2, &e));
    cr_expect_eq(e.status, 406);
    cr_expect(strstr(e.message, "'Broken' assigned to the API client is configured but invalid") != NULL, "%s", e.message);
    const char *const unknown[] = {"Unknown"};
    cr_expect_null(resolve("Staff", "PUT", "application/json", unknown, 1, &e));
    cr_expect_eq(e.status, 406);
    cr_expect(strstr(e.message, "'Unknown' assigned to the API client is not installed") != NULL, "%s", e.message);

    /* A profile that exists but is not the client's. */
    const char *const a[] = {"A-Profile"};
    cr_expect_null(resolve("School", "PUT", wr, a, 1, &e));
    expect_problem(&e, 403, "urn:ed-fi:api:security:data-policy:incorrect-usage", NULL,
                   "Based on profile assignments, the following profile-specific content type is required when creating "
                   "or updating this resource: 'application/vnd.ed-fi.school.a-profile.writable+json'");
}
