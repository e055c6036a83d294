/* Date and time text in the forms Ed-Fi uses. */
#ifndef EDHUB_TIMEFMT_H
#define EDHUB_TIMEFMT_H
#include <stdbool.h>
#include <stddef.h>

/* Current UTC time as yyyy-MM-ddTHH:mm:ssZ (21 bytes incl. NUL). */
void time_now_iso(char out[21]);
/* Parses a date given as yyyy-MM-dd or M/d/yyyy (also with a time part that
 * is ignored when allow_time); writes yyyy-MM-dd. */
bool time_parse_date(const char *s, bool allow_time, char out[11]);
/* Parses a date-time (ISO 8601 with optional fraction and zone, space or T
 * separator, or a bare date = midnight) and writes UTC yyyy-MM-ddTHH:mm:ssZ. */
bool time_parse_datetime(const char *s, char out[21]);
/* HH:mm:ss (optionally with a fraction, which is dropped). */
bool time_parse_time(const char *s, char out[9]);

#endif
