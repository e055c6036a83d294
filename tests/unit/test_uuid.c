/* Unit tests for src/base/uuid.c: name-based v5 referential ids against the
 * DMS vectors (api-behavior §10), parsing, formatting and v4 bits. */
#include "base/uuid.h"
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>
#include "leak.h"

TestSuite(uuid_v5, .fini = unit_leak_check);
TestSuite(uuid_ns, .fini = unit_leak_check);
TestSuite(uuid_parse, .fini = unit_leak_check);
TestSuite(uuid_v4, .fini = unit_leak_check);
TestSuite(uuid_v7, .fini = unit_leak_check);

static void v5_text(const char *name, char out[37])
{
    uuid_t16 u;
    uuid_v5(uuid_edfi_namespace(), name, strlen(name), &u);
    uuid_format(&u, out);
}

Test(uuid_v5, dms_vector_school)
{
    char s[37];
    v5_text("Ed-FiSchool$.schoolId=123", s);
    cr_assert_str_eq(s, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
}

Test(uuid_v5, dms_vector_section)
{
    char s[37];
    v5_text("Ed-FiSection$.localCourseCode=abc#$.schoolReference.schoolId=123#$.sessionReference.schoolYear=2030"
            "#$.sectionIdentifier=sectionId#$.sessionReference.sessionName=d",
            s);
    cr_assert_str_eq(s, "7400934a-8a00-551b-a1ba-4db0b3a4d556");
}

Test(uuid_v5, descriptor_vector)
{
    char s[37];
    v5_text("Ed-FiGradeLevelDescriptor$.descriptor=uri://ed-fi.org/gradeleveldescriptor#ninth grade", s);
    cr_assert_str_eq(s, "9531a840-f733-5616-8729-6607476329fb");
}

Test(uuid_v5, superclass_alias_vector)
{
    char s[37];
    v5_text("Ed-FiEducationOrganization$.educationOrganizationId=255901", s);
    cr_assert_str_eq(s, "c1204ade-622c-5695-afb9-01534d97999c");
    v5_text("Ed-FiSchool$.schoolId=255901", s);
    cr_assert_str_eq(s, "0420a54c-16df-5fff-8f48-d87d35e71fe7");
}

Test(uuid_v5, school_year_vector)
{
    char s[37];
    v5_text("Ed-FiSchoolYearType$.schoolYear=2025", s);
    cr_assert_str_eq(s, "6a21e456-2167-5479-a922-6be3b979f87e");
}

Test(uuid_v5, uses_only_len_bytes)
{
    /* The name is a byte range, not a C string. */
    const char *name = "Ed-FiSchool$.schoolId=123GARBAGE";
    uuid_t16 u;
    char s[37];
    uuid_v5(uuid_edfi_namespace(), name, strlen("Ed-FiSchool$.schoolId=123"), &u);
    uuid_format(&u, s);
    cr_assert_str_eq(s, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
}

Test(uuid_v5, version_and_variant_bits)
{
    uuid_t16 u;
    uuid_v5(uuid_edfi_namespace(), "x", 1, &u);
    cr_assert_eq(u.b[6] >> 4, 5);
    cr_assert_eq(u.b[8] & 0xc0, 0x80);
}

Test(uuid_ns, edfi_namespace_text)
{
    char s[37];
    uuid_format(uuid_edfi_namespace(), s);
    cr_assert_str_eq(s, "edf1edf1-3df1-3df1-3df1-3df1edf1edf1");
}

Test(uuid_parse, hyphenated_lower)
{
    uuid_t16 u;
    char s[37];
    cr_assert(uuid_parse("3af6ad85-1212-5833-be6f-f8df6f4d6402", &u));
    cr_assert_eq(u.b[0], 0x3a);
    cr_assert_eq(u.b[15], 0x02);
    uuid_format(&u, s);
    cr_assert_str_eq(s, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
}

Test(uuid_parse, hyphenated_upper_formats_lower)
{
    uuid_t16 u;
    char s[37];
    cr_assert(uuid_parse("3AF6AD85-1212-5833-BE6F-F8DF6F4D6402", &u));
    uuid_format(&u, s);
    cr_assert_str_eq(s, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
}

Test(uuid_parse, plain_32_hex)
{
    uuid_t16 u;
    char s[37];
    cr_assert(uuid_parse("3af6ad8512125833BE6Ff8df6f4d6402", &u));
    uuid_format(&u, s);
    cr_assert_str_eq(s, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
}

Test(uuid_parse, rejects_bad_forms)
{
    uuid_t16 u;
    const char *bad[] = {
        "",
        "3af6ad85",
        "3af6ad85-1212-5833-be6f-f8df6f4d640",    /* 35 chars */
        "3af6ad85-1212-5833-be6f-f8df6f4d64020",  /* 37 chars */
        "3af6ad85-1212-5833-be6f-f8df6f4d640g",   /* non-hex */
        "3af6ad85x1212-5833-be6f-f8df6f4d6402",   /* wrong separator */
        "3af6ad851-212-5833-be6f-f8df6f4d6402",   /* hyphen misplaced */
        "3af6ad85-1212-5833-be6f-f8df6f4d6402 ",  /* trailing space (37) */
        " 3af6ad8512125833be6ff8df6f4d640",       /* leading space (32) */
        "3af6ad8512125833be6ff8df6f4d640z",       /* 32, non-hex */
        "{3af6ad85-1212-5833-be6f-f8df6f4d64}",   /* braces */
        "ffc0a272",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(uuid_parse(bad[i], &u), "accepted '%s'", bad[i]);
}

Test(uuid_v4, version_variant_and_uniqueness)
{
    uuid_t16 a, b;
    for (int i = 0; i < 64; i++) {
        uuid_v4(&a);
        cr_assert_eq(a.b[6] >> 4, 4);
        cr_assert_eq(a.b[8] & 0xc0, 0x80);
    }
    uuid_v4(&b);
    cr_assert_neq(memcmp(a.b, b.b, 16), 0);
}

Test(uuid_v4, formats_and_parses_back)
{
    uuid_t16 a, back;
    char s[37];
    uuid_v4(&a);
    uuid_format(&a, s);
    cr_assert_eq(strlen(s), 36);
    cr_assert_eq(s[8], '-');
    cr_assert_eq(s[14], '4');
    cr_assert(uuid_parse(s, &back));
    cr_assert_eq(memcmp(a.b, back.b, 16), 0);
}

Test(uuid_v7, version_variant_time_and_order)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t before = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uuid_t16 a, b;
    uuid_v7(&a);
    cr_assert_eq(a.b[6] >> 4, 7);
    cr_assert_eq(a.b[8] & 0xc0, 0x80);
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++) ms = ms << 8 | a.b[i];
    cr_assert(ms >= before && ms < before + 5000, "the first 48 bits are the Unix time in ms");
    /* a later millisecond sorts after, as text too (the index order) */
    struct timespec pause = {0, 3 * 1000 * 1000};
    nanosleep(&pause, NULL);
    uuid_v7(&b);
    char sa[37], sb[37];
    uuid_format(&a, sa);
    uuid_format(&b, sb);
    cr_assert_lt(strcmp(sa, sb), 0);
    cr_assert_eq(sa[14], '7');
    cr_assert_neq(memcmp(a.b + 6, b.b + 6, 10), 0, "the rest is random");
}
