/* edhub.conf parsing; see conf.h. */
#include "conf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_MAX (64 * 1024)

static bool blank(char c) { return c == ' ' || c == '\t'; }

bool conf_find(const char *text, const char *name, char *out, size_t n)
{
    size_t nl = strlen(name);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *p = line, *stop = line + len;
        while (p < stop && blank(*p)) p++;
        if ((size_t)(stop - p) > nl && !strncmp(p, name, nl) && (blank(p[nl]) || p[nl] == '=')) {
            p += nl;
            while (p < stop && blank(*p)) p++;
            if (p < stop && *p == '=') {
                p++;
                while (p < stop && blank(*p)) p++;
                const char *e = stop;
                while (e > p && (blank(e[-1]) || e[-1] == '\r')) e--;
                size_t vl = (size_t)(e - p);
                if (vl && vl < n) {
                    memcpy(out, p, vl);
                    out[vl] = 0;
                    return true;
                }
                return false;
            }
        }
        line = end ? end + 1 : NULL;
    }
    return false;
}

bool conf_get(const char *path, const char *name, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char *text = malloc(CONF_MAX + 1);
    size_t got = text ? fread(text, 1, CONF_MAX, f) : 0;
    fclose(f);
    if (!text) return false;
    text[got] = 0;
    bool ok = conf_find(text, name, out, n);
    free(text);
    return ok;
}
