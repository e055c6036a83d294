#include "jsonl.h"
#include "../base/jsonx.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LINE (8u << 20)

err_t load_jsonl(sink *k, const model *m, const char *path, FILE *progress, load_stats *st)
{
    load_target t;
    load_target_sink(&t, k);
    return load_jsonl_to(&t, m, path, progress, st);
}

err_t load_jsonl_to(const load_target *k, const model *m, const char *path, FILE *progress, load_stats *st)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ERR_IO;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    time_t last = time(NULL);
    while (!target_stopped(k) && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        st->lines++;
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (!n) continue;
        if ((size_t)n > MAX_LINE) {
            target_reject(k, path, lineno, "", 413, "The line is longer than the 8 MiB limit.");
            continue;
        }
        char err[256];
        json_object *rec = jsonx_parse(line, (size_t)n, err, sizeof err, NULL, 0);
        const char *res = rec ? jsonx_str(rec, "resource") : NULL;
        json_object *doc = rec ? jsonx_get(rec, "document") : NULL;
        char proj[64], ep[128];
        const mresource *r = NULL;
        if (res && sscanf(res, "/%63[^/]/%127s", proj, ep) == 2) r = model_find(m, proj, ep);
        if (!res || !doc) {
            target_reject(k, path, lineno, res ? res : "", 400,
                        rec ? "Each line must be {\"resource\":\"/ed-fi/<endpoint>\",\"document\":{...}}." : err);
        } else if (!r) {
            target_reject(k, path, lineno, res, 404, "Unknown resource.");
        } else {
            const char *text = jsonx_text(doc);
            target_put(k, r, text, strlen(text), path, lineno);
        }
        json_object_put(rec);
        if (progress && time(NULL) != last) {
            last = time(NULL);
            fprintf(progress, "\r  %s: %ld lines, %ld created, %ld updated, %ld rejected", path, st->lines, st->created,
                    st->updated, st->rejected);
            fflush(progress);
        }
    }
    free(line);
    fclose(f);
    target_drain(k);
    if (progress)
        fprintf(progress, "\r  %s: %ld lines, %ld created, %ld updated, %ld rejected\n", path, st->lines, st->created,
                st->updated, st->rejected);
    return ERR_OK;
}
