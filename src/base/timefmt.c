#include "timefmt.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void time_now_iso(char out[21])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Reads exactly n digits. */
static bool digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return false;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

/* Reads 1 to max digits. */
static bool some_digits(const char **p, int max, int *v)
{
    int x = 0, i = 0;
    while (i < max && isdigit((unsigned char)(*p)[i])) x = x * 10 + ((*p)[i++] - '0');
    if (!i) return false;
    *p += i;
    *v = x;
    return true;
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
    int md = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) md = 29;
    return d <= md;
}

/* Parses the date part; on success *p points after it. */
static bool parse_ymd(const char **p, int *y, int *m, int *d)
{
    const char *s = *p;
    if (digits(&s, 4, y) && *s == '-' && (s++, digits(&s, 2, m)) && *s == '-' &&
        (s++, digits(&s, 2, d))) {
        *p = s;
        return valid_ymd(*y, *m, *d);
    }
    s = *p; /* M/d/yyyy, month first (the DMS rule) */
    if (some_digits(&s, 2, m) && *s == '/' && (s++, some_digits(&s, 2, d)) && *s == '/' &&
        (s++, digits(&s, 4, y))) {
        *p = s;
        if (valid_ymd(*y, *m, *d)) return true;
        int t = *m; /* d/M/yyyy when month-first is impossible */
        *m = *d;
        *d = t;
        return valid_ymd(*y, *m, *d);
    }
    return false;
}

static bool parse_hms(const char **p, int *h, int *mi, int *se)
{
    const char *s = *p;
    if (!some_digits(&s, 2, h) || *s != ':' || (s++, !digits(&s, 2, mi))) return false;
    *se = 0;
    if (*s == ':' && (s++, !digits(&s, 2, se))) return false;
    if (*s == '.') {
        s++;
        int n = 0;
        while (isdigit((unsigned char)*s) && n < 9) s++, n++;
        if (!n) return false;
    }
    if (*h > 23 || *mi > 59 || *se > 59) return false;
    *p = s;
    return true;
}

/* Optional zone: Z, +HH, +HH:MM or +HHMM; offset in seconds east of UTC. */
static bool parse_zone(const char **p, long *offset)
{
    const char *s = *p;
    long off = 0;
    if (*s == 'Z') s++;
    else if (*s == '+' || *s == '-') {
        int sign = *s == '-' ? -1 : 1, oh, om = 0;
        s++;
        if (!digits(&s, 2, &oh)) return false;
        if (*s == ':') {
            s++;
            if (!digits(&s, 2, &om)) return false;
        } else if (*s && !digits(&s, 2, &om)) return false;
        if (oh > 14 || om > 59) return false;
        off = sign * (oh * 3600L + om * 60L);
    }
    if (offset) *offset = off;
    *p = s;
    return true;
}

bool time_parse_date(const char *s, bool allow_time, char out[11])
{
    int y, m, d;
    if (!parse_ymd(&s, &y, &m, &d)) return false;
    if (*s && !allow_time) return false;
    if (*s) {
        int h, mi, se;
        if (*s != 'T' && *s != ' ') return false;
        s++;
        if (!parse_hms(&s, &h, &mi, &se)) return false;
        if (!parse_zone(&s, NULL) || *s) return false;
    }
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
    return true;
}

bool time_parse_datetime(const char *s, char out[21])
{
    int y, m, d, h = 0, mi = 0, se = 0;
    if (!parse_ymd(&s, &y, &m, &d)) return false;
    long offset = 0;
    if (*s == 'T' || *s == ' ') {
        s++;
        if (!parse_hms(&s, &h, &mi, &se)) return false;
        if (*s == ' ' && (strcmp(s, " PM") == 0 || strcmp(s, " AM") == 0)) {
            if (h < 1 || h > 12) return false;
            if (s[1] == 'P' && h != 12) h += 12;
            if (s[1] == 'A' && h == 12) h = 0;
            s += 3;
        }
        if (!parse_zone(&s, &offset)) return false;
    }
    if (*s) return false;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    time_t t = timegm(&tm) - offset;
    struct tm u;
    if (!gmtime_r(&t, &u)) return false;
    if (u.tm_year + 1900 < 1 || u.tm_year + 1900 > 9999) return false;
    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &u);
    return true;
}

bool time_parse_time(const char *s, char out[9])
{
    int h, mi, se;
    const char *p = s;
    /* HH:mm:ss exactly, seconds required; a fraction is accepted and dropped. */
    if (!some_digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' || !digits(&p, 2, &se)) return false;
    if (*p == '.') {
        p++;
        int n = 0;
        while (isdigit((unsigned char)*p) && n < 9) p++, n++;
        if (!n) return false;
    }
    if (*p || h > 23 || mi > 59 || se > 59) return false;
    snprintf(out, 9, "%02u:%02u:%02u", (unsigned)h % 24, (unsigned)mi % 60, (unsigned)se % 60);
    return true;
}
