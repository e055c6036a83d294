/* The pure parts of publishing: the change window, key values as a query,
 * cleaning a source document, applying a key change, the bookmark file. */
#include "publish.h"
#include "../base/jsonx.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

pub_window pub_window_of(int64_t last, int64_t newest)
{
    pub_window w = {.min = last < 0 ? 0 : last + 1, .max = newest, .first = last < 0};
    w.empty = w.min > w.max;
    return w;
}

/* RFC 3986 unreserved characters stay; everything else is %XX. */
static void put_encoded(buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
            buf_putc(out, (char)*p);
        } else {
            buf_putc(out, '%');
            buf_putc(out, hex[*p >> 4]);
            buf_putc(out, hex[*p & 15]);
        }
    }
}

bool pub_key_query(json_object *keys, buf *out)
{
    if (!json_object_is_type(keys, json_type_object)) return false;
    bool first = true;
    json_object_object_foreach(keys, k, v) {
        const char *text;
        switch (json_object_get_type(v)) {
        case json_type_string: text = json_object_get_string(v); break;
        case json_type_int:
        case json_type_double:
        case json_type_boolean: text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN); break;
        default: return false;
        }
        if (!first) buf_putc(out, '&');
        first = false;
        put_encoded(out, k);
        buf_putc(out, '=');
        put_encoded(out, text);
    }
    return !buf_failed(out);
}

static void strip_links(json_object *o)
{
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++) strip_links(json_object_array_get_idx(o, i));
        return;
    }
    if (!json_object_is_type(o, json_type_object)) return;
    json_object_object_del(o, "link");
    json_object_object_foreach(o, k, v) {
        (void)k;
        strip_links(v);
    }
}

void pub_clean_doc(json_object *doc, const mresource *r)
{
    if (!json_object_is_type(doc, json_type_object)) return;
    json_object_object_del(doc, "id");
    json_object_object_del(doc, "_etag");
    json_object_object_del(doc, "_lastModifiedDate");
    strip_links(doc);
    if (r && r->is_descriptor) {
        /* ODS returns {x}DescriptorId (and priorDescriptorId) for
         * backward compatibility; no API accepts them. */
        char name[160];
        snprintf(name, sizeof name, "%s", r->name);
        if (name[0]) name[0] = (char)(name[0] | 0x20);
        snprintf(name + strlen(name), sizeof name - strlen(name), "Id");
        json_object_object_del(doc, name);
        json_object_object_del(doc, "priorDescriptorId");
    }
}

/* The identity path a key-values name stands for: the query parameter of
 * that name whose path is an identity path, else the identity path ending
 * in that name. */
static const char *identity_path_of(const mresource *r, const char *name)
{
    for (int i = 0; i < r->nquery; i++) {
        if (strcasecmp(r->query[i].name, name)) continue;
        for (int k = 0; k < r->nidentity; k++)
            if (!strcmp(r->identity[k].text, r->query[i].path.text)) return r->identity[k].text;
    }
    for (int k = 0; k < r->nidentity; k++) {
        const mpath *p = &r->identity[k];
        if (p->nseg && !strcasecmp(p->seg[p->nseg - 1].name, name)) return p->text;
    }
    return NULL;
}

bool pub_set_key_values(const mresource *r, json_object *doc, json_object *new_keys)
{
    if (!json_object_is_type(new_keys, json_type_object)) return false;
    bool ok = true;
    json_object_object_foreach(new_keys, k, v) {
        const char *path = identity_path_of(r, k);
        if (!path) {
            ok = false;
            continue;
        }
        jsonx_set_at(doc, path, json_object_get(v));
    }
    return ok;
}

/* ---- the bookmark ---- */

static json_object *read_state(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    buf b;
    buf_init(&b, 16u << 20);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    fclose(f);
    json_object *o = b.data ? json_tokener_parse(b.data) : NULL;
    buf_free(&b);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

static void pair_key(char *out, size_t n, const char *source, const char *target)
{
    snprintf(out, n, "%s|%s", source, target);
}

int64_t pub_bookmark_get(const char *path, const char *source, const char *target)
{
    json_object *o = read_state(path);
    char key[2048];
    pair_key(key, sizeof key, source, target);
    json_object *e = o ? jsonx_get(o, key) : NULL, *v = e ? jsonx_get(e, "lastChangeVersion") : NULL;
    int64_t last = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
    json_object_put(o);
    return last;
}

bool pub_bookmark_put(const char *path, const char *source, const char *target, int64_t last, char *err,
                      size_t errlen)
{
    json_object *o = read_state(path);
    if (!o) o = json_object_new_object();
    char key[2048], when[32], tmp[4200];
    pair_key(key, sizeof key, source, target);
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_object *e = json_object_new_object();
    json_object_object_add(e, "source", json_object_new_string(source));
    json_object_object_add(e, "target", json_object_new_string(target));
    json_object_object_add(e, "lastChangeVersion", json_object_new_int64(last));
    json_object_object_add(e, "publishedAt", json_object_new_string(when));
    json_object_object_add(o, key, e);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    /* A crash leaves the old bookmark or the new one, never half of one. */
    bool ok = false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        size_t len = strlen(text);
        ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
        ok = close(fd) == 0 && ok;
        ok = ok && rename(tmp, path) == 0;
        if (!ok) unlink(tmp);
    }
    if (!ok) snprintf(err, errlen, "cannot write the bookmark %s: %s (choose another place with --state FILE)", path,
                      strerror(errno));
    json_object_put(o);
    return ok;
}
