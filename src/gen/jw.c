/* Streaming JSON writer and day arithmetic; see jw.h. */
#include "jw.h"
#include <string.h>

static inline void put(jw *w, const char *s, size_t n) { buf_append(w->b, s, n); }

/* The comma (when needed) and "key": of the next member or item. */
static void member(jw *w, const char *key)
{
    if (!w->first[w->depth]) buf_putc(w->b, ',');
    w->first[w->depth] = false;
    if (key) {
        char tmp[128];
        size_t n = strlen(key);
        if (n + 3 > sizeof tmp) { /* never with this module's keys */
            buf_json_str(w->b, key);
            buf_putc(w->b, ':');
            return;
        }
        tmp[0] = '"';
        memcpy(tmp + 1, key, n);
        tmp[n + 1] = '"';
        tmp[n + 2] = ':';
        put(w, tmp, n + 3);
    }
}

static void nest(jw *w, const char *key, char c)
{
    member(w, key);
    buf_putc(w->b, c);
    if (w->depth + 1 < JW_MAX_DEPTH) w->depth++;
    w->first[w->depth] = true;
}

void jw_begin(jw *w, buf *b)
{
    w->b = b;
    buf_reset(b);
    w->depth = 0;
    buf_putc(b, '{');
    w->first[0] = true;
}

void jw_end(jw *w, char close)
{
    buf_putc(w->b, close);
    if (w->depth > 0) w->depth--;
}

void jw_obj(jw *w, const char *key) { nest(w, key, '{'); }
void jw_arr(jw *w, const char *key) { nest(w, key, '['); }

void jw_str(jw *w, const char *key, const char *v)
{
    member(w, key);
    /* Fast path: generated text rarely needs escaping. */
    size_t n = 0;
    bool plain = true;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++, n++)
        if (*p < 0x20 || *p == '"' || *p == '\\') plain = false;
    if (!plain) {
        buf_json_strn(w->b, v, n);
        return;
    }
    buf_putc(w->b, '"');
    put(w, v, n);
    buf_putc(w->b, '"');
}

/* Decimal digits of v into the end of out; returns the start. */
static char *digits(char *end, unsigned long long v)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void jw_int(jw *w, const char *key, long long v)
{
    member(w, key);
    char tmp[24];
    char *end = tmp + sizeof tmp;
    char *p = digits(end, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
    if (v < 0) *--p = '-';
    put(w, p, (size_t)(end - p));
}

void jw_dec(jw *w, const char *key, long long scaled, int places)
{
    static const long long pow10[] = {1, 10, 100, 1000, 10000};
    if (places < 1 || places > 4) places = 1;
    member(w, key);
    char tmp[32];
    char *end = tmp + sizeof tmp;
    unsigned long long a = scaled < 0 ? 0ULL - (unsigned long long)scaled : (unsigned long long)scaled;
    unsigned long long frac = a % (unsigned long long)pow10[places];
    char *p = end;
    for (int i = 0; i < places; i++, frac /= 10) *--p = (char)('0' + frac % 10);
    *--p = '.';
    p = digits(p, a / (unsigned long long)pow10[places]);
    if (scaled < 0) *--p = '-';
    put(w, p, (size_t)(end - p));
}

void jw_bool(jw *w, const char *key, bool v)
{
    member(w, key);
    if (v) put(w, "true", 4);
    else put(w, "false", 5);
}

void jw_date(jw *w, const char *key, int day)
{
    member(w, key);
    char d[13];
    d[0] = '"';
    day_format(day, d + 1);
    d[11] = '"';
    put(w, d, 12);
}

void jw_item_str(jw *w, const char *key, const char *v)
{
    nest(w, NULL, '{');
    jw_str(w, key, v);
    jw_end(w, '}');
}

/* Howard Hinnant's civil-date algorithms (public domain). */
int day_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int)doe - 719468;
}

void civil_from_day(int day, int *y, int *m, int *d)
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int day_of_week(int day)
{
    /* 1970-01-01 was a Thursday (3). */
    int w = (day + 3) % 7;
    return w < 0 ? w + 7 : w;
}

void day_format(int day, char out[11])
{
    int y, m, d;
    civil_from_day(day, &y, &m, &d);
    out[0] = (char)('0' + y / 1000 % 10);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = 0;
}

int age_on(int birth, int day)
{
    int by, bm, bd, y, m, d;
    civil_from_day(birth, &by, &bm, &bd);
    civil_from_day(day, &y, &m, &d);
    int age = y - by;
    if (m < bm || (m == bm && d < bd)) age--;
    return age;
}
