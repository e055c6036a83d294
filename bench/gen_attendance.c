/* gen_attendance.c - streaming generator of the bulk-load data set (bench W8, W9, W6).
 *
 *   gen_attendance prereq N [DAYS]   JSON lines: the ceil(N/DAYS) students and the one session
 *                                    the events reference (load these first)
 *   gen_attendance events N [DAYS]   JSON lines: N /ed-fi/studentSchoolAttendanceEvents
 *   gen_attendance copy N [DAYS]     the same N events as tab-separated rows for PostgreSQL COPY
 *                                    (text format): student_unique_id, school_id, school_year,
 *                                    session_name, category, event_date, body (the document,
 *                                    byte for byte the one of `events`)
 *
 * DAYS (default 180) school days: the weekdays from Monday 2023-08-21 on, all in the session
 * "Bench 2023-2024" of school 255901001 (Grand Bend High School, bootstrap data), school year
 * 2024. Events are written day by day (day 0 for every student, then day 1, ...), as a
 * district's nightly attendance feed would, so consecutive lines reference different students.
 * Student s (0-based) is "ATT" + 7 digits. Identity of an event = (student, school, session,
 * category, date); every (student, date) appears once, so no two lines share an identity.
 * Categories, a fixed function of (student, day): ~90% In Attendance, 4% Tardy (with an
 * arrivalTime), 3% Excused Absence (with a reason), 3% Unexcused Absence.
 * Output goes to stdout through a large buffer; nothing else is read or written.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHOOL 255901001
#define YEAR 2024
#define SESSION "Bench 2023-2024"
#define CAT_NS "uri://ed-fi.org/AttendanceEventCategoryDescriptor#"

static char dates[4096][11];

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16, x *= 0x7feb352dU, x ^= x >> 15, x *= 0x846ca68bU, x ^= x >> 16;
    return x;
}

/* the document of event (student s, day d) into buf; returns its length; *cat = category */
static int event_doc(char *buf, size_t n, long s, int d, const char **cat)
{
    uint32_t h = mix((uint32_t)(s * 7919 + d * 104729 + 1)) % 100;
    char extra[96] = "";
    if (h < 90) *cat = "In Attendance";
    else if (h < 94) {
        *cat = "Tardy";
        snprintf(extra, sizeof extra, ",\"arrivalTime\":\"08:%02u:00\"", 5 + mix((uint32_t)s + (uint32_t)d) % 50);
    } else if (h < 97) {
        *cat = "Excused Absence";
        snprintf(extra, sizeof extra, ",\"attendanceEventReason\":\"Illness\"");
    } else *cat = "Unexcused Absence";
    return snprintf(buf, n,
                    "{\"studentReference\":{\"studentUniqueId\":\"ATT%07ld\"},"
                    "\"schoolReference\":{\"schoolId\":%d},"
                    "\"sessionReference\":{\"schoolId\":%d,\"schoolYear\":%d,\"sessionName\":\"" SESSION "\"},"
                    "\"attendanceEventCategoryDescriptor\":\"" CAT_NS "%s\","
                    "\"eventDate\":\"%.10s\"%.95s}",
                    s, SCHOOL, SCHOOL, YEAR, *cat, dates[d], extra);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gen_attendance prereq|events|copy N [DAYS]\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]);
    int days = argc > 3 ? atoi(argv[3]) : 180;
    if (n <= 0 || days <= 0 || days > 4096) {
        fprintf(stderr, "gen_attendance: N must be > 0 and DAYS in 1..4096\n");
        return 2;
    }
    long students = (n + days - 1) / days;
    if (students > 9999999) {
        fprintf(stderr, "gen_attendance: too many students (%ld); raise DAYS\n", students);
        return 2;
    }
    /* school days: weekdays from Monday 2023-08-21 */
    struct tm tm0 = {.tm_year = 2023 - 1900, .tm_mon = 7, .tm_mday = 21, .tm_hour = 12};
    time_t t = timegm(&tm0);
    for (int d = 0; d < days; t += 86400) {
        struct tm tm;
        gmtime_r(&t, &tm);
        if (tm.tm_wday == 0 || tm.tm_wday == 6) continue;
        strftime(dates[d++], sizeof dates[0], "%Y-%m-%d", &tm);
    }
    static char obuf[1 << 20];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    char doc[1024];
    const char *cat;
    if (!strcmp(mode, "prereq")) {
        for (long s = 0; s < students; s++)
            printf("{\"resource\":\"/ed-fi/students\",\"document\":{\"studentUniqueId\":\"ATT%07ld\","
                   "\"birthDate\":\"%04ld-%02ld-%02ld\",\"firstName\":\"Bulk%ld\",\"lastSurname\":\"Attendance\"}}\n",
                   s, 2008 + s % 6, 1 + s % 12, 1 + s % 28, s % 1000);
        printf("{\"resource\":\"/ed-fi/sessions\",\"document\":{\"sessionName\":\"" SESSION "\","
               "\"schoolReference\":{\"schoolId\":%d},\"schoolYearTypeReference\":{\"schoolYear\":%d},"
               "\"beginDate\":\"%s\",\"endDate\":\"%s\","
               "\"termDescriptor\":\"uri://ed-fi.org/TermDescriptor#Year Round\",\"totalInstructionalDays\":%d}}\n",
               SCHOOL, YEAR, dates[0], dates[days - 1], days);
    } else if (!strcmp(mode, "events") || !strcmp(mode, "copy")) {
        int tsv = !strcmp(mode, "copy");
        long k = 0;
        for (int d = 0; d < days && k < n; d++)
            for (long s = 0; s < students && k < n; s++, k++) {
                event_doc(doc, sizeof doc, s, d, &cat);
                if (tsv)
                    printf("ATT%07ld\t%d\t%d\t" SESSION "\t%s\t%s\t%s\n", s, SCHOOL, YEAR, cat, dates[d], doc);
                else
                    printf("{\"resource\":\"/ed-fi/studentSchoolAttendanceEvents\",\"document\":%s}\n", doc);
            }
    } else {
        fprintf(stderr, "gen_attendance: unknown mode %s\n", mode);
        return 2;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("gen_attendance: write");
        return 1;
    }
    return 0;
}
