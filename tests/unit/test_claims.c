/* Unit tests for src/security/claims.c: the evaluation semantics of
 * security.md §2.2 on a small hand-made hierarchy (lineage union, nearest
 * override, nearest default, exact action match), the loader's refusals,
 * and facts of the shipped DS 5.2 metadata (model/ds-5.2/security). */
#include "security/claims.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "leak.h"

TestSuite(claims, .fini = unit_leak_check);

static char fixture_path[64];

/* Writes text to a temporary file and returns its path (static buffer). */
static const char *write_tmp(const char *text)
{
    snprintf(fixture_path, sizeof fixture_path, "/tmp/edhub-claims-XXXXXX");
    int fd = mkstemp(fixture_path);
    cr_assert_geq(fd, 0);
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return fixture_path;
}

/* domains/people: default Create NFAR, Read R-EOP; SetA reads people,
 * SetB creates students with a namespace override; ed-fi/student adds
 * Update for SetA; ed-fi/staff has its own Read default. */
static const char *FIXTURE =
    "{\"claimSets\":[{\"claimSetName\":\"SetA\",\"isSystemReserved\":true},{\"claimSetName\":\"SetB\"},"
    "{\"claimSetName\":\"Unused\"}],"
    "\"claimsHierarchy\":[{\"name\":\"http://ed-fi.org/identity/claims/domains/people\","
    " \"defaultAuthorization\":{\"actions\":["
    "   {\"name\":\"Create\",\"authorizationStrategies\":[{\"name\":\"NoFurtherAuthorizationRequired\"}]},"
    "   {\"name\":\"Read\",\"authorizationStrategies\":[{\"name\":\"RelationshipsWithEdOrgsAndPeople\"}]},"
    "   {\"name\":\"Update\",\"authorizationStrategies\":[{\"name\":\"RelationshipsWithEdOrgsAndPeople\"}]},"
    "   {\"name\":\"ReadChanges\",\"authorizationStrategies\":[{\"name\":\"RelationshipsWithEdOrgsAndPeopleIncludingDeletes\"}]}]},"
    " \"claimSets\":[{\"name\":\"SetA\",\"actions\":[{\"name\":\"Read\"},{\"name\":\"ReadChanges\"}]}],"
    " \"claims\":["
    "  {\"name\":\"http://ed-fi.org/identity/claims/ed-fi/student\","
    "   \"claimSets\":[{\"name\":\"SetA\",\"actions\":[{\"name\":\"Update\"}]},"
    "                {\"name\":\"SetB\",\"actions\":[{\"name\":\"Create\",\"authorizationStrategyOverrides\":"
    "                   [{\"name\":\"NamespaceBased\"},{\"name\":\"OwnershipBased\"}]}]}]},"
    "  {\"name\":\"http://ed-fi.org/ods/identity/claims/staff\","
    "   \"defaultAuthorization\":{\"actions\":[{\"name\":\"Read\",\"authorizationStrategies\":"
    "     [{\"name\":\"RelationshipsWithEdOrgsOnly\"},{\"name\":\"RelationshipsWithPeopleOnly\"}]}]}}]}]}";

static claims *load_fixture(void)
{
    char err[256] = "";
    claims *c = claims_load(write_tmp(FIXTURE), NULL, err, sizeof err);
    unlink(fixture_path);
    cr_assert_not_null(c, "%s", err);
    return c;
}

Test(claims, grants_are_a_union_up_the_lineage)
{
    claims *c = load_fixture();
    int a = claims_set_index(c, "SetA"), student = claims_resource_claim(c, "ed-fi", "Student");
    cr_assert_geq(student, 0);
    uint32_t st;
    cr_assert_eq(claims_decide(c, a, student, SEC_READ, &st), DECIDE_GRANTED, "Read granted on the domain");
    cr_assert_eq(st, ST_EDORGS_AND_PEOPLE, "the domain's default applies");
    cr_assert_eq(claims_decide(c, a, student, SEC_UPDATE, &st), DECIDE_GRANTED, "Update granted on the leaf");
    cr_assert_eq(claims_decide(c, a, student, SEC_CREATE, &st), DECIDE_NO_ACTION);
    cr_assert_eq(claims_decide(c, a, student, SEC_DELETE, &st), DECIDE_NO_ACTION);
    claims_free(c);
}

Test(claims, actions_match_exactly)
{
    claims *c = load_fixture();
    int a = claims_set_index(c, "SetA"), b = claims_set_index(c, "SetB");
    int student = claims_resource_claim(c, "ed-fi", "student");
    uint32_t st;
    /* SetB has only Create: ReadChanges-like leaks (2023 advisory) must not happen. */
    cr_assert_eq(claims_decide(c, b, student, SEC_READ, &st), DECIDE_NO_ACTION);
    cr_assert_eq(claims_decide(c, b, student, SEC_UPDATE, &st), DECIDE_NO_ACTION);
    cr_assert_eq(claims_decide(c, a, student, SEC_READ_CHANGES, &st), DECIDE_GRANTED);
    cr_assert_eq(st, ST_EDORGS_AND_PEOPLE_DELETES);
    claims_free(c);
}

Test(claims, nearest_override_then_nearest_default)
{
    claims *c = load_fixture();
    int b = claims_set_index(c, "SetB"), a = claims_set_index(c, "SetA");
    int student = claims_resource_claim(c, "ed-fi", "Student"), staff = claims_resource_claim(c, "ed-fi", "Staff");
    uint32_t st;
    cr_assert_eq(claims_decide(c, b, student, SEC_CREATE, &st), DECIDE_GRANTED);
    cr_assert_eq(st, ST_NAMESPACE | ST_OWNERSHIP, "the override replaces the default");
    cr_assert_eq(claims_decide(c, a, staff, SEC_READ, &st), DECIDE_GRANTED);
    cr_assert_eq(st, ST_EDORGS_ONLY | ST_PEOPLE_ONLY, "the leaf's own default is nearer than the domain's");
    claims_free(c);
}

Test(claims, no_grant_anywhere_is_access_denied_resource)
{
    claims *c = load_fixture();
    int u = claims_set_index(c, "Unused"), b = claims_set_index(c, "SetB");
    uint32_t st;
    cr_assert_eq(claims_decide(c, u, claims_resource_claim(c, "ed-fi", "Student"), SEC_READ, &st), DECIDE_NO_RESOURCE);
    cr_assert_eq(claims_decide(c, b, claims_resource_claim(c, "ed-fi", "Staff"), SEC_READ, &st), DECIDE_NO_RESOURCE,
                 "SetB's grant is on student only");
    cr_assert_eq(claims_decide(c, b, -1, SEC_READ, &st), DECIDE_NO_METADATA, "no claim for the resource: 500");
    cr_assert_eq(claims_resource_claim(c, "ed-fi", "Contact"), -1);
    claims_free(c);
}

Test(claims, legacy_and_dms_uri_forms_find_the_same_resource)
{
    claims *c = load_fixture();
    /* staff is declared in the legacy ODS form, student in the DMS form */
    cr_assert_geq(claims_resource_claim(c, "ed-fi", "Staff"), 0);
    cr_assert_geq(claims_resource_claim(c, "ed-fi", "STUDENT"), 0);
    cr_assert(claims_set_reserved(c, claims_set_index(c, "SetA")));
    cr_assert(!claims_set_reserved(c, claims_set_index(c, "SetB")));
    claims_free(c);
}

static void expect_refused(const char *text, const char *needle)
{
    char err[256] = "";
    claims *c = claims_load(write_tmp(text), NULL, err, sizeof err);
    unlink(fixture_path);
    cr_assert_null(c, "accepted: %s", text);
    cr_assert(strstr(err, needle), "error '%s' should mention '%s'", err, needle);
}

Test(claims, loader_refuses_bad_metadata)
{
    expect_refused("{\"claimSets\":[],\"claimsHierarchy\":[{\"name\":\"x\",\"defaultAuthorization\":{\"actions\":"
                   "[{\"name\":\"Read\",\"authorizationStrategies\":[{\"name\":\"Bogus\"}]}]}}]}",
                   "unknown authorization strategy 'Bogus'");
    expect_refused("{\"claimSets\":[],\"claimsHierarchy\":[{\"name\":\"x\",\"defaultAuthorization\":{\"actions\":"
                   "[{\"name\":\"Publish\"}]}}]}",
                   "unknown action 'Publish'");
    expect_refused("{\"claimSets\":[],\"claimsHierarchy\":[{\"name\":\"x\",\"claimSets\":[{\"name\":\"Ghost\"}]}]}",
                   "claim set 'Ghost' is not declared");
    expect_refused("{\"claimSets\":[],\"claimsHierarchy\":[{\"name\":\"http://ed-fi.org/identity/claims/ed-fi/a\"},"
                   "{\"name\":\"http://ed-fi.org/ods/identity/claims/a\"}]}",
                   "appears twice");
    expect_refused("{\"claimSets\":[{\"claimSetName\":\"S\"},{\"claimSetName\":\"S\"}],\"claimsHierarchy\":[]}",
                   "duplicate");
    expect_refused("{\"claimsHierarchy\":[]}", "expected");
}

/* ---- the shipped DS 5.2 metadata ---- */

static claims *load_shipped(void)
{
    char err[256] = "";
    claims *c = claims_load("model/ds-5.2/security/claims.json", "model/ds-5.2/security/claimset-names.json", err,
                            sizeof err);
    cr_assert_not_null(c, "%s", err);
    return c;
}

static uint32_t granted(claims *c, const char *set, const char *resource, sec_action act)
{
    int si = claims_set_index(c, set), claim = claims_resource_claim(c, "ed-fi", resource);
    cr_assert_geq(si, 0, "claim set %s", set);
    cr_assert_geq(claim, 0, "resource claim %s", resource);
    uint32_t st = 0;
    claims_decision d = claims_decide(c, si, claim, act, &st);
    return d == DECIDE_GRANTED ? st : 0;
}

Test(claims, shipped_sis_vendor_defaults)
{
    claims *c = load_shipped();
    cr_assert_geq(claims_set_index(c, "SIS Vendor"), 0, "the ODS name");
    cr_assert_eq(claims_set_index(c, "SIS Vendor"), claims_set_index(c, "SISVendor"), "and the DMS alias");
    cr_assert_eq(granted(c, "SIS Vendor", "StudentSchoolAssociation", SEC_CREATE), ST_EDORGS_ONLY);
    cr_assert_eq(granted(c, "SIS Vendor", "StudentSchoolAssociation", SEC_READ), ST_EDORGS_AND_PEOPLE);
    cr_assert_eq(granted(c, "SIS Vendor", "Student", SEC_CREATE), ST_NO_FURTHER);
    cr_assert_eq(granted(c, "SIS Vendor", "Student", SEC_READ), ST_EDORGS_AND_PEOPLE);
    cr_assert_eq(granted(c, "SIS Vendor", "School", SEC_READ), ST_NO_FURTHER);
    cr_assert_eq(granted(c, "SIS Vendor", "School", SEC_CREATE), 0, "a SIS vendor does not create schools");
    cr_assert_eq(granted(c, "SIS Vendor", "GradeLevelDescriptor", SEC_READ), ST_NO_FURTHER);
    cr_assert_eq(granted(c, "SIS Vendor", "GradeLevelDescriptor", SEC_CREATE), 0, "system descriptors are read-only");
    claims_free(c);
}

Test(claims, shipped_other_standard_sets)
{
    claims *c = load_shipped();
    cr_assert_eq(granted(c, "Assessment Vendor", "StudentAssessment", SEC_CREATE), ST_NAMESPACE);
    cr_assert_eq(granted(c, "District Hosted SIS Vendor", "School", SEC_CREATE), ST_NO_FURTHER);
    cr_assert_neq(granted(c, "Ed-Fi Sandbox", "StudentSchoolAttendanceEvent", SEC_DELETE), 0);
    cr_assert_eq(granted(c, "Ed-Fi API Publisher - Reader", "Student", SEC_UPDATE), 0, "the reader only reads");
    cr_assert_neq(granted(c, "Ed-Fi API Publisher - Reader", "Student", SEC_READ_CHANGES), 0);
    cr_assert_geq(claims_set_index(c, "Bootstrap Descriptors and EdOrgs"), 0);
    claims_free(c);
}
