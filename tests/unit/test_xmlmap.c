/* Unit tests for src/load/xmlmap.c: Ed-Fi XML records mapped to API JSON by
 * the DS 5.2 model (integration.md §7.2), one rule per test. */
#include "base/jsonx.h"
#include "load/xml.h"
#include "load/xmlmap.h"
#include "model/model.h"
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <string.h>
#include "leak.h"

static model *M;

static void setup(void)
{
    char err[256];
    M = model_load("model/ds-5.2/ApiSchema.json", err, sizeof err);
    cr_assert_not_null(M, "%s", err);
}

static void teardown(void)
{
    model_free(M);
    xmlCleanupParser();
    unit_leak_check();
}

TestSuite(xmlmap, .init = setup, .fini = teardown);

/* Maps the first record of <Interchange>...</Interchange> with ids from the
 * same text; returns its JSON text (caller frees) or NULL with err. */
static char *map(const char *records, char *err, size_t errlen)
{
    char doc[16384];
    snprintf(doc, sizeof doc, "<InterchangeTest>%s</InterchangeTest>", records);
    xmlDoc *d = xmlReadMemory(doc, (int)strlen(doc), "t.xml", NULL, XML_PARSE_NONET);
    cr_assert_not_null(d);
    xml_ids *ids = xml_ids_new();
    xmlNode *first = NULL;
    for (xmlNode *k = xmlDocGetRootElement(d)->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE) continue;
        const mresource *r = xmlmap_resource(M, (const char *)k->name);
        if (!first) {
            first = k;
            continue;
        }
        xmlChar *id = xmlGetProp(k, (const xmlChar *)"id");
        json_object *j = r && id ? xmlmap_record(M, r, k, ids, err, errlen) : NULL;
        if (j) xml_ids_put(ids, (const char *)id, j);
        json_object_put(j);
        xmlFree(id);
    }
    const mresource *r = xmlmap_resource(M, (const char *)first->name);
    cr_assert_not_null(r, "no resource %s", first->name);
    json_object *j = xmlmap_record(M, r, first, ids, err, errlen);
    char *out = j ? strdup(jsonx_text(j)) : NULL;
    json_object_put(j);
    xml_ids_free(ids);
    xmlFreeDoc(d);
    return out;
}

static void expect(const char *records, const char *json)
{
    char err[512] = "";
    char *got = map(records, err, sizeof err);
    cr_assert_not_null(got, "mapping failed: %s", err);
    cr_assert_str_eq(got, json);
    free(got);
}

Test(xmlmap, names_and_inline_commons_flatten)
{
    expect("<Student><StudentUniqueId>604821</StudentUniqueId><Name><FirstName>Tyrone</FirstName>"
           "<LastSurname>Dyer</LastSurname></Name><BirthData><BirthDate>2014-11-13</BirthDate></BirthData></Student>",
           "{\"studentUniqueId\":\"604821\",\"firstName\":\"Tyrone\",\"lastSurname\":\"Dyer\",\"birthDate\":\"2014-11-13\"}");
}

Test(xmlmap, references_descriptors_school_year_and_numbers)
{
    expect("<StudentSchoolAttendanceEvent><StudentReference><StudentIdentity><StudentUniqueId>604822</StudentUniqueId>"
           "</StudentIdentity></StudentReference><SchoolReference><SchoolIdentity><SchoolId>255901001</SchoolId>"
           "</SchoolIdentity></SchoolReference><SessionReference><SessionIdentity><SessionName>Fall</SessionName>"
           "<SchoolYear>2021-2022</SchoolYear><SchoolReference><SchoolIdentity><SchoolId>255901001</SchoolId>"
           "</SchoolIdentity></SchoolReference></SessionIdentity></SessionReference><EventDate>2021-08-31</EventDate>"
           "<AttendanceEventCategory>uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence"
           "</AttendanceEventCategory><EventDuration>1</EventDuration></StudentSchoolAttendanceEvent>",
           "{\"studentReference\":{\"studentUniqueId\":\"604822\"},\"schoolReference\":{\"schoolId\":255901001},"
           "\"sessionReference\":{\"schoolId\":255901001,\"schoolYear\":2022,\"sessionName\":\"Fall\"},"
           "\"eventDate\":\"2021-08-31\",\"attendanceEventCategoryDescriptor\":"
           "\"uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence\",\"eventDuration\":1.0}");
}

Test(xmlmap, top_level_school_year_and_collections_of_descriptors)
{
    expect("<Calendar><CalendarCode>C1</CalendarCode><SchoolReference><SchoolIdentity><SchoolId>1</SchoolId>"
           "</SchoolIdentity></SchoolReference><SchoolYear>2021-2022</SchoolYear>"
           "<CalendarType>uri://ed-fi.org/CalendarTypeDescriptor#Student Specific</CalendarType>"
           "<GradeLevel>uri://ed-fi.org/GradeLevelDescriptor#Ninth grade</GradeLevel>"
           "<GradeLevel>uri://ed-fi.org/GradeLevelDescriptor#Tenth grade</GradeLevel></Calendar>",
           "{\"calendarCode\":\"C1\",\"schoolReference\":{\"schoolId\":1},\"schoolYearTypeReference\":{\"schoolYear\":2022},"
           "\"calendarTypeDescriptor\":\"uri://ed-fi.org/CalendarTypeDescriptor#Student Specific\","
           "\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"},"
           "{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Tenth grade\"}]}");
}

Test(xmlmap, prefixed_collections_role_named_commons_and_booleans)
{
    char err[512] = "";
    char *got = map("<Section><SectionIdentifier>S1</SectionIdentifier><AvailableCredits><Credits>1.5</Credits>"
                    "<CreditType>uri://ed-fi.org/CreditTypeDescriptor#Semester hour credit</CreditType></AvailableCredits>"
                    "<ClassPeriodReference><ClassPeriodIdentity><ClassPeriodName>P1</ClassPeriodName><SchoolReference>"
                    "<SchoolIdentity><SchoolId>7</SchoolId></SchoolIdentity></SchoolReference></ClassPeriodIdentity>"
                    "</ClassPeriodReference><OfficialAttendancePeriod>1</OfficialAttendancePeriod></Section>",
                    err, sizeof err);
    cr_assert_not_null(got, "%s", err);
    cr_assert(strstr(got, "\"availableCredits\":1.5"), "%s", got);
    cr_assert(strstr(got, "\"availableCreditTypeDescriptor\":\"uri://ed-fi.org/CreditTypeDescriptor#Semester hour credit\""),
              "%s", got);
    cr_assert(strstr(got, "\"classPeriods\":[{\"classPeriodReference\":{\"classPeriodName\":\"P1\",\"schoolId\":7}}]"),
              "%s", got);
    cr_assert(strstr(got, "\"officialAttendancePeriod\":true"), "%s", got);
    free(got);
    got = map("<Course><CourseCode>ALG</CourseCode><CourseIdentificationCode><CourseIdentificationSystem>"
              "uri://ed-fi.org/CourseIdentificationSystemDescriptor#LEA course code</CourseIdentificationSystem>"
              "<IdentificationCode>ALG-1</IdentificationCode></CourseIdentificationCode></Course>",
              err, sizeof err);
    cr_assert_not_null(got, "%s", err);
    cr_assert(strstr(got, "\"identificationCodes\":[{\"courseIdentificationSystemDescriptor\":"
                          "\"uri://ed-fi.org/CourseIdentificationSystemDescriptor#LEA course code\","
                          "\"identificationCode\":\"ALG-1\"}]"),
              "%s", got);
    free(got);
}

Test(xmlmap, ref_resolves_to_an_element_of_the_same_file)
{
    expect("<School><SchoolId>255901001</SchoolId><LocalEducationAgencyReference ref=\"LEA_1\"/></School>"
           "<LocalEducationAgency id=\"LEA_1\"><LocalEducationAgencyId>255901</LocalEducationAgencyId></LocalEducationAgency>",
           "{\"schoolId\":255901001,\"localEducationAgencyReference\":{\"localEducationAgencyId\":255901}}");
    char err[512] = "";
    cr_assert_null(map("<School><SchoolId>1</SchoolId><LocalEducationAgencyReference ref=\"NOPE\"/></School>", err,
                       sizeof err));
    cr_assert(strstr(err, "ref=\"NOPE\" names no element"), "%s", err);
}

Test(xmlmap, unknown_elements_are_errors_with_their_line)
{
    char err[512] = "";
    cr_assert_null(map("<Student><StudentUniqueId>1</StudentUniqueId>\n<Shoe>9</Shoe></Student>", err, sizeof err));
    cr_assert(strstr(err, "line 2: element <Shoe> has no counterpart in Student"), "%s", err);
    cr_assert_null(map("<StudentSchoolAssociation><StudentReference><StudentLookup><StudentUniqueId>1</StudentUniqueId>"
                       "</StudentLookup></StudentReference></StudentSchoolAssociation>", err, sizeof err));
    cr_assert(strstr(err, "uses a lookup"), "%s", err);
}

Test(xmlmap, memory_walk_refuses_dtds_and_counts_records)
{
    char err[512] = "";
    long n = -1;
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"x\">]><InterchangeStudent><Student>"
                       "<StudentUniqueId>&a;</StudentUniqueId></Student></InterchangeStudent>";
    cr_assert_not(xml_map_memory(M, bomb, strlen(bomb), &n, err, sizeof err));
    cr_assert(strstr(err, "DTDs and entities are not allowed"), "%s", err);
    const char *two = "<InterchangeStudent><Student><StudentUniqueId>1</StudentUniqueId></Student>"
                      "<Student><StudentUniqueId>2</StudentUniqueId></Student></InterchangeStudent>";
    cr_assert(xml_map_memory(M, two, strlen(two), &n, err, sizeof err), "%s", err);
    cr_assert_eq(n, 2, "both records (no sibling skipped)");
}
