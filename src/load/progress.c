/* The progress bar; see progress.h. */
#include "progress.h"

void progress_show(progress_bar *b, long in_part)
{
    if (!b->out) return;
    b->last = time(NULL);
    long done = b->done + in_part, total = b->total;
    const load_stats *st = b->st;
    double el = difftime(b->last, b->start);
    double rate = el > 0 ? (double)done / el : 0;
    int pct = total ? (int)(100.0 * (double)done / (double)total) : 100;
    if (pct > 100) pct = 100;
    char eta[32] = "";
    if (rate > 0 && total > done) snprintf(eta, sizeof eta, ", ETA %lds", (long)((double)(total - done) / rate));
    char s[21];
    int filled = pct / 5;
    for (int i = 0; i < 20; i++) s[i] = i < filled ? '#' : '.';
    s[20] = 0;
    fprintf(b->out, "\r  [%s] %3d%% %ld/%ld records, %.0f/s%s; %ld created, %ld updated, %ld rejected%s%.60s   ", s,
            pct, done, total, rate, eta, st->created, st->updated, st->rejected, b->label ? "; " : "",
            b->label ? b->label : "");
    fflush(b->out);
}
