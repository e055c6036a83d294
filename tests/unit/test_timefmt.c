/* Unit tests for src/base/timefmt.c: the date, date-time and time forms
 * Ed-Fi accepts on write and in query filters (api-behavior §5.5, §4.5). */
#include "base/timefmt.h"
#include <criterion/criterion.h>
#include <string.h>
#include "leak.h"

TestSuite(date, .fini = unit_leak_check);
TestSuite(datetime, .fini = unit_leak_check);
TestSuite(time, .fini = unit_leak_check);
TestSuite(now, .fini = unit_leak_check);

static void date_ok(const char *in, bool allow_time, const char *want)
{
    char out[11] = "";
    cr_assert(time_parse_date(in, allow_time, out), "rejected date '%s'", in);
    cr_assert_str_eq(out, want, "'%s' -> '%s', want '%s'", in, out, want);
}

static void date_bad(const char *in, bool allow_time)
{
    char out[11];
    cr_assert_not(time_parse_date(in, allow_time, out), "accepted date '%s'", in);
}

static void dt_ok(const char *in, const char *want)
{
    char out[21] = "";
    cr_assert(time_parse_datetime(in, out), "rejected date-time '%s'", in);
    cr_assert_str_eq(out, want, "'%s' -> '%s', want '%s'", in, out, want);
}

static void dt_bad(const char *in)
{
    char out[21];
    cr_assert_not(time_parse_datetime(in, out), "accepted date-time '%s'", in);
}

Test(date, iso)
{
    date_ok("2023-08-15", false, "2023-08-15");
    date_ok("0001-01-01", false, "0001-01-01");
    date_ok("9999-12-31", false, "9999-12-31");
}

Test(date, month_first_slashes)
{
    date_ok("5/1/2009", false, "2009-05-01");
    date_ok("12/31/2020", false, "2020-12-31");
    date_ok("05/01/2009", false, "2009-05-01");
}

Test(date, day_first_when_month_first_impossible)
{
    date_ok("13/5/2009", false, "2009-05-13");
    date_ok("31/12/2020", false, "2020-12-31");
}

Test(date, leap_years)
{
    date_ok("2024-02-29", false, "2024-02-29");
    date_ok("2000-02-29", false, "2000-02-29");
    date_bad("2023-02-29", false);
    date_bad("1900-02-29", false);
    date_bad("2/29/2023", false);
}

Test(date, invalid_calendar_dates)
{
    date_bad("2023-04-31", false);
    date_bad("2023-13-01", false);
    date_bad("2023-00-10", false);
    date_bad("2023-01-00", false);
    date_bad("0000-01-01", false);
    date_bad("13/13/2009", false);
}

Test(date, malformed)
{
    date_bad("", false);
    date_bad("word", false);
    date_bad("2023-8-15", false);
    date_bad("23-08-15", false);
    date_bad("2023/08/15", false);
    date_bad("5/1/09", false);
    date_bad("2023-08-15x", false);
    date_bad(" 2023-08-15", false);
}

Test(date, time_part_only_when_allowed)
{
    date_bad("2024-05-15T17:30:00Z", false);
    date_ok("2024-05-15T17:30:00Z", true, "2024-05-15");
    date_ok("2024-05-15T17:30:00.000000Z", true, "2024-05-15");
    date_ok("2024-05-15 17:30:00", true, "2024-05-15");
    date_ok("2024-05-15", true, "2024-05-15");
    date_bad("2024-05-15T25:00:00Z", true);
    date_bad("2024-05-15Tnoon", true);
    date_ok("2024-05-15T17:30:00+02:00", true, "2024-05-15");
}

/* BUG (src/base/timefmt.c time_parse_date): after '+'/'-' the zone is
 * skipped as "up to 6 bytes" without checking them, so
 * "2024-05-15T17:30:00+ab:cd" is accepted as a date filter value. Expected:
 * rejected (400 on a date query filter). Disabled until fixed. */
Test(date, rejects_garbage_zone)
{
    date_bad("2024-05-15T17:30:00+ab:cd", true);
    date_bad("2024-05-15T17:30:00-xx", true);
}

Test(datetime, utc_forms)
{
    dt_ok("2021-09-28T14:15:30Z", "2021-09-28T14:15:30Z");
    dt_ok("2021-09-28T14:15:30", "2021-09-28T14:15:30Z");   /* no zone = UTC */
    dt_ok("2021-09-28 14:15:30", "2021-09-28T14:15:30Z");   /* space separator */
}

Test(datetime, fractions_dropped)
{
    dt_ok("2021-09-28T14:15:30.123Z", "2021-09-28T14:15:30Z");
    dt_ok("2021-09-28T14:15:30.123456789Z", "2021-09-28T14:15:30Z");
    dt_bad("2021-09-28T14:15:30.Z");
}

Test(datetime, offsets_normalised_to_utc)
{
    dt_ok("2021-09-28T14:15:30+02:00", "2021-09-28T12:15:30Z");
    dt_ok("2021-09-28T14:15:30-05:00", "2021-09-28T19:15:30Z");
    dt_ok("2021-09-28T14:15:30+0530", "2021-09-28T08:45:30Z");
    dt_ok("2021-09-28T14:15:30+02", "2021-09-28T12:15:30Z");
    /* crossing a day, month and year boundary */
    dt_ok("2021-12-31T23:30:00-01:00", "2022-01-01T00:30:00Z");
    dt_ok("2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z");
}

Test(datetime, am_pm)
{
    dt_ok("2021-09-28 2:15:30 PM", "2021-09-28T14:15:30Z");
    dt_ok("2021-09-28 2:15:30 AM", "2021-09-28T02:15:30Z");
    dt_ok("2021-09-28 12:00:00 AM", "2021-09-28T00:00:00Z");
    dt_ok("2021-09-28 12:00:00 PM", "2021-09-28T12:00:00Z");
    dt_bad("2021-09-28 13:00:00 PM");
    dt_bad("2021-09-28 0:00:00 AM");
}

Test(datetime, date_only_is_midnight)
{
    dt_ok("2021-09-28", "2021-09-28T00:00:00Z");
    dt_ok("5/1/2009", "2009-05-01T00:00:00Z");
}

Test(datetime, rejects)
{
    dt_bad("");
    dt_bad("word");
    dt_bad("2021-02-30T00:00:00Z");
    dt_bad("2021-09-28T24:00:00Z");
    dt_bad("2021-09-28T14:60:00Z");
    dt_bad("2021-09-28T14:15:61Z");
    dt_bad("2021-09-28T14:15:30+15:00");
    dt_bad("2021-09-28T14:15:30Zjunk");
    dt_bad("2021-09-28X14:15:30Z");
    dt_bad("0001-01-01T00:30:00+01:00"); /* before year 1 in UTC */
}

Test(time, forms)
{
    char out[9];
    cr_assert(time_parse_time("08:05:09", out));
    cr_assert_str_eq(out, "08:05:09");
    cr_assert(time_parse_time("8:05:09", out));
    cr_assert_str_eq(out, "08:05:09");
    cr_assert(time_parse_time("23:59:59.999", out));
    cr_assert_str_eq(out, "23:59:59");
}

/* BUG (src/base/timefmt.c parse_hms): seconds are optional, so "10:30" is
 * accepted as 10:30:00, while the spec (api-behavior §4.5) wants HH:mm:ss
 * exactly for time values. Disabled until fixed. */
Test(time, requires_seconds)
{
    char out[9];
    cr_assert_not(time_parse_time("10:30", out));
}

Test(time, rejects)
{
    char out[9];
    const char *bad[] = {"", "24:00:00", "10:60:00", "10:00:60", "10", "10:00:00Z", "ab:cd:ef", "10:00:00.", " 10:00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_not(time_parse_time(bad[i], out), "accepted time '%s'", bad[i]);
}

Test(now, shape)
{
    char out[21];
    time_now_iso(out);
    cr_assert_eq(strlen(out), 20);
    cr_assert_eq(out[4], '-');
    cr_assert_eq(out[10], 'T');
    cr_assert_eq(out[19], 'Z');
    char back[21];
    cr_assert(time_parse_datetime(out, back));
    cr_assert_str_eq(back, out);
}
