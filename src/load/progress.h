/* The progress bar of long-running commands (load, publish): one line on
 * stderr rewritten in place, with percent, records, rate, ETA and counts. */
#ifndef EDHUB_PROGRESS_H
#define EDHUB_PROGRESS_H
#include "sink.h"
#include <stdio.h>
#include <time.h>

typedef struct progress_bar {
    FILE *out;                /* NULL: no bar */
    long done, total;         /* records finished in earlier parts, and in all */
    time_t start, last;
    const load_stats *st;     /* created, updated, rejected */
    const char *label;        /* what is being done now (may be NULL) */
} progress_bar;

/* Prints the bar: b->done records plus in_part of the current part. */
void progress_show(progress_bar *b, long in_part);
/* The same, at most once a second. */
static inline void progress_tick(progress_bar *b, long in_part)
{
    if (b->out && time(NULL) != b->last) progress_show(b, in_part);
}

#endif
