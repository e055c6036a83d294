/* A small streaming JSON writer for generated documents (commas and nesting
 * tracked for the caller), and the day arithmetic they need. Keys are
 * literals of this module's callers (ASCII, no escaping needed); values are
 * escaped. Faster than building json-c trees: the generator writes a few
 * hundred thousand documents per second. */
#ifndef EDHUB_GEN_JW_H
#define EDHUB_GEN_JW_H
#include "../base/buf.h"
#include <stdbool.h>

#define JW_MAX_DEPTH 16

typedef struct jw {
    buf *b;
    int depth;
    bool first[JW_MAX_DEPTH];  /* no member written yet at this depth */
} jw;

/* Starts a document (resets b, opens the top-level object). */
void jw_begin(jw *w, buf *b);
/* Closes the innermost object or array. */
void jw_end(jw *w, char close);
#define jw_close_obj(w) jw_end((w), '}')
#define jw_close_arr(w) jw_end((w), ']')
/* "key":{ ... and "key":[ ... (key NULL: an array item). */
void jw_obj(jw *w, const char *key);
void jw_arr(jw *w, const char *key);
void jw_str(jw *w, const char *key, const char *v);
void jw_int(jw *w, const char *key, long long v);
/* A decimal with a fixed number of places (1..4): 2.5 with 1 → 2.5. */
void jw_dec(jw *w, const char *key, long long scaled, int places);
void jw_bool(jw *w, const char *key, bool v);
/* A date given as days since 1970-01-01, as yyyy-MM-dd. */
void jw_date(jw *w, const char *key, int day);
/* {"key":"v"} as an array item: the one-descriptor collections. */
void jw_item_str(jw *w, const char *key, const char *v);

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
int day_from_civil(int y, int m, int d);
void civil_from_day(int day, int *y, int *m, int *d);
/* 0 = Monday ... 6 = Sunday. */
int day_of_week(int day);
/* yyyy-MM-dd and a NUL into out. */
void day_format(int day, char out[11]);
/* Whole years from birth to day. */
int age_on(int birth, int day);

#endif
