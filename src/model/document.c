#include "document.h"
#include "../base/buf.h"
#include "../base/jsonx.h"
#include "../base/timefmt.h"
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <strings.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void verrors_init(verrors *ve)
{
    ve->by_path = json_object_new_object();
    ve->count = 0;
}

void verrors_free(verrors *ve)
{
    json_object_put(ve->by_path);
    ve->by_path = NULL;
}

void verrors_add(verrors *ve, const char *path, const char *msg)
{
    json_object *arr = jsonx_get(ve->by_path, path);
    if (!arr) {
        arr = json_object_new_array();
        json_object_object_add(ve->by_path, path, arr);
    }
    json_object_array_add(arr, json_object_new_string(msg));
    ve->count++;
}

static bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Strict integer text: optional '-', digits only. */
static bool parse_int_text(const char *s, long long *out)
{
    if (!*s) return false;
    const char *p = s;
    if (*p == '-') p++;
    if (!*p) return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static bool parse_number_text(const char *s, double *out)
{
    if (strlen(s) > 64) return false;
    if (!*s || is_ws((unsigned char)*s)) return false;
    const char *p = s;
    if (*p == '-') p++;
    if (!isdigit((unsigned char)*p)) return false;
    while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p) return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

static const char *jtype_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null: return "null";
    case json_type_boolean: return "boolean";
    case json_type_double: return "number";
    case json_type_int: return "integer";
    case json_type_object: return "object";
    case json_type_array: return "array";
    case json_type_string: return "string";
    }
    return "unknown";
}

static const char *stype_name(jtype t)
{
    static const char *n[] = {"string", "integer", "number", "boolean", "object", "array"};
    return n[t];
}

typedef struct nctx {
    verrors *ve;
    buf path;
    doc_optional_fn optional; /* may a required member at this path be absent? (NULL: no) */
    void *octx;
} nctx;

static void err_at(nctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_at(nctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    verrors_add(c->ve, c->path.data, msg);
}

static const char *ordinal(int n, char *out, size_t len)
{
    const char *suf = "th";
    if (n % 100 < 11 || n % 100 > 13) {
        if (n % 10 == 1) suf = "st";
        else if (n % 10 == 2) suf = "nd";
        else if (n % 10 == 3) suf = "rd";
    }
    snprintf(out, len, "%d%s", n, suf);
    return out;
}

static json_object *norm(const snode *s, json_object *v, const char *name, int depth, nctx *c);

static json_object *norm_string(const snode *s, json_object *v, const char *name, nctx *c)
{
    if (!json_object_is_type(v, json_type_string)) {
        err_at(c, "%s Value is \"%s\" but should be \"string\"", name, jtype_name(v));
        return NULL;
    }
    const char *str = json_object_get_string(v);
    char *trimmed = NULL;
    if (s->trim) {
        const char *b = str;
        while (*b && is_ws((unsigned char)*b)) b++;
        size_t n = strlen(b);
        while (n && is_ws((unsigned char)b[n - 1])) n--;
        trimmed = strndup(b, n);
        if (!trimmed) abort();
        str = trimmed;
    }
    char fbuf[32];
    bool ok = true;
    if (s->format == FMT_DATE) {
        if (!time_parse_date(str, false, fbuf)) {
            err_at(c, "%s Value does not match format \"date\"", name);
            ok = false;
        } else str = fbuf;
    } else if (s->format == FMT_DATETIME) {
        if (!time_parse_datetime(str, fbuf)) {
            err_at(c, "%s Value does not match format \"date-time\"", name);
            ok = false;
        } else str = fbuf;
    } else if (s->format == FMT_TIME) {
        if (!time_parse_time(str, fbuf)) {
            err_at(c, "%s Value does not match format \"time\"", name);
            ok = false;
        } else str = fbuf;
    }
    size_t len = strlen(str);
    if (ok && s->pattern != PAT_NONE) {
        bool edge = len && (is_ws((unsigned char)str[0]) || is_ws((unsigned char)str[len - 1]));
        bool blank = true;
        for (size_t i = 0; i < len; i++)
            if (!is_ws((unsigned char)str[i])) blank = false;
        if (s->pattern == PAT_IDENTITY || s->pattern == PAT_REQUIRED) {
            if (!len) {
                err_at(c, "%s is required and should not be left empty.", name);
                ok = false;
            } else if ((s->pattern == PAT_IDENTITY && edge) || (s->pattern == PAT_REQUIRED && blank)) {
                err_at(c, "%s cannot contain leading or trailing spaces.", name);
                ok = false;
            }
        } else if (s->pattern == PAT_EDGES && edge) {
            err_at(c, "%s cannot contain leading or trailing spaces.", name);
            ok = false;
        }
    }
    if (ok) {
        size_t chars = utf8_chars(str);
        if (s->min_len >= 0 && chars < (size_t)s->min_len) {
            if (s->min_len == 1 && chars == 0) err_at(c, "%s is required and should not be left empty.", name);
            else err_at(c, "%s Value should be at least %d characters", name, s->min_len);
            ok = false;
        } else if (s->max_len >= 0 && chars > (size_t)s->max_len) {
            err_at(c, "%s Value should be at most %d characters", name, s->max_len);
            ok = false;
        }
    }
    json_object *out = ok ? json_object_new_string(str) : NULL;
    free(trimmed);
    return out;
}

static const char *places_text(int n)
{
    static const char *t[] = {" with no decimal places", " with at most 1 decimal place", " with at most 2 decimal places",
                              " with at most 3 decimal places", " with at most 4 decimal places", " with at most 5 decimal places"};
    return n >= 0 && n < 6 ? t[n] : " with fewer decimal places";
}

static json_object *norm_number(const snode *s, json_object *v, const char *name, nctx *c)
{
    enum json_type t = json_object_get_type(v);
    json_object *out = NULL;
    double d = 0;
    if (s->type == JT_INTEGER) {
        long long iv;
        if (t == json_type_int) {
            errno = 0;
            iv = json_object_get_int64(v);
            out = json_object_new_int64(iv);
        } else if (t == json_type_double) {
            d = json_object_get_double(v);
            if (d == floor(d) && fabs(d) < 9e15) out = json_object_new_int64((long long)d);
        } else if (t == json_type_string && parse_int_text(json_object_get_string(v), &iv)) {
            out = json_object_new_int64(iv);
        }
        if (out) d = (double)json_object_get_int64(out);
    } else {
        if (t == json_type_int) {
            out = json_object_new_int64(json_object_get_int64(v));
            d = (double)json_object_get_int64(v);
        } else if (t == json_type_double && isfinite(json_object_get_double(v))) {
            d = json_object_get_double(v);
            /* Keep the client's text (e.g. 3.50) for a faithful round trip. */
            const char *txt = json_object_get_string(v);
            out = json_object_new_double_s(d, txt);
        } else if (t == json_type_string && parse_number_text(json_object_get_string(v), &d)) {
            /* Keep the digits but drop leading zeros: "007.50" is not JSON. */
            const char *txt = json_object_get_string(v);
            char canon[400];
            size_t o = 0;
            if (*txt == '-') canon[o++] = *txt++;
            while (txt[0] == '0' && txt[1] >= '0' && txt[1] <= '9') txt++;
            snprintf(canon + o, sizeof canon - o, "%s", txt);
            if (!strcmp(canon, "-0") || !strncmp(canon, "-0.", 3) ? d == 0 : false) snprintf(canon, sizeof canon, "0");
            out = json_object_new_double_s(d, canon);
        }
    }
    if (out && s->type == JT_INTEGER &&
        (json_object_get_int64(out) == INT64_MAX || json_object_get_int64(out) == INT64_MIN)) {
        err_at(c, "%s Value is outside the range of a 64-bit integer", name);
        json_object_put(out);
        return NULL;
    }
    if (!out) {
        err_at(c, "%s Value is \"%s\" but should be \"%s\"", name, jtype_name(v), stype_name(s->type));
        return NULL;
    }
    if (s->has_decimal && s->total_digits > 0) {
        /* Precision and scale of the decimal column (§5.5). */
        int ip = s->total_digits - s->decimal_places;
        double lim = pow(10, ip) - pow(10, -s->decimal_places);
        char text[64];
        snprintf(text, sizeof text, "%.*f", s->decimal_places + 6, fabs(d));
        const char *dot = strchr(text, '.');
        int extra = 0;
        for (const char *q = dot ? dot + 1 + s->decimal_places : ""; *q; q++)
            if (*q != '0') extra = 1;
        if (fabs(d) > lim + 1e-9 || extra) {
            err_at(c, "%s must be between %.*f and %.*f%s.", name, s->decimal_places, -lim, s->decimal_places, lim,
                   extra ? places_text(s->decimal_places) : "");
            json_object_put(out);
            return NULL;
        }
    }
    if ((s->has_min && d < s->min) || (s->has_max && d > s->max)) {
        if (s->has_min && s->has_max) err_at(c, "%s must be between %.15g and %.15g.", name, s->min, s->max);
        else if (s->has_min) err_at(c, "%s Value should be at least %.15g", name, s->min);
        else err_at(c, "%s Value should be at most %.15g", name, s->max);
        json_object_put(out);
        return NULL;
    }
    return out;
}

static json_object *norm_bool(json_object *v, const char *name, nctx *c)
{
    enum json_type t = json_object_get_type(v);
    if (t == json_type_boolean) return json_object_new_boolean(json_object_get_boolean(v));
    if (t == json_type_int) {
        int64_t i = json_object_get_int64(v);
        if (i == 0 || i == 1) return json_object_new_boolean(i == 1);
    }
    if (t == json_type_string) {
        const char *s = json_object_get_string(v);
        if (!strcasecmp(s, "true") || !strcmp(s, "1")) return json_object_new_boolean(1);
        if (!strcasecmp(s, "false") || !strcmp(s, "0")) return json_object_new_boolean(0);
    }
    err_at(c, "%s Value is \"%s\" but should be \"boolean\"", name, jtype_name(v));
    return NULL;
}

/* Identity of a collection item for duplicate detection: its required
 * scalar values and required reference objects (descriptors folded to
 * lower case). Returns false when the item has no such properties. */
static bool item_key(const snode *s, json_object *item, buf *out);

/* Item identity from the model's arrayUniquenessConstraints. */
static bool item_key_model(const snode *arr, json_object *item, buf *out)
{
    for (int i = 0; i < arr->nuniq; i++) {
        const mpath *p = &arr->uniq[i];
        json_object *v = item;
        for (int k = 0; v && k < p->nseg; k++) v = jsonx_get(v, p->seg[k].name);
        const char *leaf = p->seg[p->nseg - 1].name;
        size_t ll = strlen(leaf);
        if (v) doc_canonical_value(out, v, ll >= 10 && !strcmp(leaf + ll - 10, "Descriptor"));
        buf_putc(out, '\x1f');
    }
    return true;
}

static bool item_key(const snode *s, json_object *item, buf *out)
{
    bool any = false;
    for (int i = 0; i < s->nprops; i++) {
        if (!s->required[i]) continue;
        const snode *p = s->props[i];
        json_object *v = jsonx_get(item, s->prop_names[i]);
        if (p->type == JT_ARRAY) continue;
        any = true;
        buf_puts(out, s->prop_names[i]);
        buf_putc(out, '=');
        if (!v) continue;
        if (p->type == JT_OBJECT) item_key(p, v, out);
        else doc_canonical_value(out, v, p->is_descriptor_value);
        buf_putc(out, '\x1f');
    }
    return any;
}

/* qsort has no context argument; normalization of one document runs on
 * one thread, and this is only read during the sort below. */
static __thread const buf *sort_keys;

static int cmp_key_index(const void *x, const void *y)
{
    size_t i = *(const size_t *)x, j = *(const size_t *)y;
    const buf *a = &sort_keys[i], *b = &sort_keys[j];
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    int c = a->len ? memcmp(a->data, b->data, a->len) : 0;
    if (c) return c;
    return i < j ? -1 : i > j;
}

static json_object *norm_array(const snode *s, json_object *v, const char *name, int depth, nctx *c)
{
    if (!json_object_is_type(v, json_type_array)) {
        err_at(c, "%s Value is \"%s\" but should be \"array\"", name, jtype_name(v));
        return NULL;
    }
    size_t n = json_object_array_length(v);
    json_object *out = json_object_new_array_ext((int)n);
    size_t base = c->path.len;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(v, i);
        c->path.len = base;
        buf_printf(&c->path, "[%zu]", i);
        if (!it) {
            err_at(c, "%s[%zu] must not be null.", name, i);
            ok = false;
            continue;
        }
        json_object *ni = norm(s->items, it, name, depth + 1, c);
        if (!ni) {
            ok = false;
            continue;
        }
        json_object_array_add(out, ni);
    }
    c->path.len = base;
    c->path.data[base] = 0;
    if (ok && (int)n < s->min_items) {
        err_at(c, "%s Value should have at least %d items", name, s->min_items);
        ok = false;
    }
    if (ok && s->items->type == JT_OBJECT && n > 1) {
        /* Duplicate items: report the first repeated item (§5.8). Keys are
         * sorted, not compared pairwise, so huge arrays stay cheap. */
        buf *keys = xcalloc(n, sizeof(buf));
        size_t *order = xcalloc(n, sizeof(size_t));
        bool have = true;
        for (size_t i = 0; i < n && have; i++) {
            buf_init(&keys[i], 0);
            have = s->nuniq ? item_key_model(s, json_object_array_get_idx(out, i), &keys[i])
                            : item_key(s->items, json_object_array_get_idx(out, i), &keys[i]);
            order[i] = i;
        }
        if (have) {
            sort_keys = keys;
            qsort(order, n, sizeof(size_t), cmp_key_index);
            size_t first = n;
            for (size_t i = 1; i < n; i++) {
                const buf *a = &keys[order[i - 1]], *b = &keys[order[i]];
                if (a->len == b->len && !memcmp(a->data ? a->data : "", b->data ? b->data : "", a->len) && order[i] < first)
                    first = order[i];
            }
            if (first < n) {
                char ord[16];
                err_at(c, "The %s item of the %s has the same identifying values as another item earlier in the list.",
                       ordinal((int)first + 1, ord, sizeof ord), name);
                ok = false;
            }
        }
        for (size_t i = 0; i < n; i++) buf_free(&keys[i]);
        free(keys);
        free(order);
    }
    if (!ok) {
        json_object_put(out);
        return NULL;
    }
    return out;
}

static bool is_empty_object(json_object *o)
{
    return json_object_is_type(o, json_type_object) && json_object_object_length(o) == 0;
}

static json_object *norm_object(const snode *s, json_object *v, const char *name, int depth, nctx *c)
{
    if (!json_object_is_type(v, json_type_object)) {
        err_at(c, "%s Value is \"%s\" but should be \"object\"", name, jtype_name(v));
        return NULL;
    }
    json_object *out = json_object_new_object();
    size_t base = c->path.len;
    bool ok = true;
    for (int i = 0; i < s->nprops; i++) {
        const char *pn = s->prop_names[i];
        json_object *pv = NULL;
        bool present = json_object_object_get_ex(v, pn, &pv) && pv != NULL;
        /* Empty collections (or collections of {}) at the top level are
         * dropped like nulls (§5.4). */
        if (present && depth == 0 && json_object_is_type(pv, json_type_array)) {
            bool all_empty = true;
            for (size_t k = 0; k < json_object_array_length(pv); k++)
                if (!is_empty_object(json_object_array_get_idx(pv, k))) all_empty = false;
            if (all_empty) present = false;
        }
        c->path.len = base;
        buf_putc(&c->path, '.');
        buf_puts(&c->path, pn);
        if (!present) {
            if (s->required[i] && !(c->optional && c->optional(c->octx, c->path.data))) {
                err_at(c, "%s is required.", pn);
                ok = false;
            }
            continue;
        }
        json_object *nv = norm(s->props[i], pv, pn, depth + 1, c);
        if (!nv) {
            ok = false;
            continue;
        }
        json_object_object_add(out, pn, nv);
    }
    c->path.len = base;
    c->path.data[base] = 0;
    (void)name;
    if (!ok) {
        json_object_put(out);
        return NULL;
    }
    return out;
}

static json_object *norm(const snode *s, json_object *v, const char *name, int depth, nctx *c)
{
    switch (s->type) {
    case JT_STRING: return norm_string(s, v, name, c);
    case JT_INTEGER:
    case JT_NUMBER: return norm_number(s, v, name, c);
    case JT_BOOLEAN: return norm_bool(v, name, c);
    case JT_ARRAY: return norm_array(s, v, name, depth, c);
    case JT_OBJECT: return norm_object(s, v, name, depth, c);
    }
    return NULL;
}

json_object *doc_normalize(const mresource *r, json_object *body, verrors *ve)
{
    return doc_normalize_ex(r, body, ve, NULL, NULL);
}

json_object *doc_normalize_ex(const mresource *r, json_object *body, verrors *ve, doc_optional_fn optional, void *octx)
{
    nctx c = {ve, {0}, optional, octx};
    buf_init(&c.path, 0);
    buf_puts(&c.path, "$");
    json_object *out = NULL;
    if (!json_object_is_type(body, json_type_object)) {
        verrors_add(ve, "$", "The request body must be a JSON object.");
    } else {
        out = norm(r->schema, body, "$", 0, &c);
    }
    buf_free(&c.path);
    if (ve->count) {
        json_object_put(out);
        return NULL;
    }
    return out;
}

/* ---- path evaluation ---- */

static bool visit(json_object *cur, const mpath *p, int i, buf *path, doc_visit_fn fn, void *ctx,
                  json_object *parent, const char *key)
{
    if (i == p->nseg) return fn(ctx, cur, path->data, parent, key);
    if (!json_object_is_type(cur, json_type_object)) return true;
    json_object *next = NULL;
    if (!json_object_object_get_ex(cur, p->seg[i].name, &next) || !next) return true;
    size_t base = path->len;
    buf_putc(path, '.');
    buf_puts(path, p->seg[i].name);
    bool go = true;
    if (p->seg[i].array) {
        if (json_object_is_type(next, json_type_array)) {
            size_t mid = path->len;
            for (size_t k = 0; go && k < json_object_array_length(next); k++) {
                path->len = mid;
                buf_printf(path, "[%zu]", k);
                go = visit(json_object_array_get_idx(next, k), p, i + 1, path, fn, ctx, NULL, NULL);
            }
        }
    } else {
        go = visit(next, p, i + 1, path, fn, ctx, cur, p->seg[i].name);
    }
    path->len = base;
    path->data[base] = 0;
    return go;
}

void doc_visit(json_object *doc, const mpath *p, doc_visit_fn fn, void *ctx)
{
    buf path;
    buf_init(&path, 0);
    buf_puts(&path, "$");
    visit(doc, p, 0, &path, fn, ctx, NULL, NULL);
    buf_free(&path);
}

void doc_canonical_value(buf *out, json_object *v, bool lower)
{
    switch (json_object_get_type(v)) {
    case json_type_string: {
        const char *s = json_object_get_string(v);
        if (!lower) {
            buf_puts(out, s);
            break;
        }
        for (; *s; s++) buf_putc(out, (char)tolower((unsigned char)*s));
        break;
    }
    case json_type_int: buf_printf(out, "%lld", (long long)json_object_get_int64(v)); break;
    case json_type_double: {
        char t[64];
        double d = json_object_get_double(v);
        snprintf(t, sizeof t, "%.10f", d);
        char *e = t + strlen(t) - 1;
        while (e > t && *e == '0') *e-- = 0;
        if (*e == '.') *e = 0;
        if (!strcmp(t, "-0")) strcpy(t, "0");
        buf_puts(out, t);
        break;
    }
    case json_type_boolean: buf_puts(out, json_object_get_boolean(v) ? "true" : "false"); break;
    default: buf_puts(out, jsonx_text(v)); break;
    }
}

static bool ends_with_descriptor(const char *p)
{
    size_t n = strlen(p);
    return n >= 10 && !strcmp(p + n - 10, "Descriptor");
}

/* ---- equality constraints ---- */

typedef struct eqctx { buf *vals; json_object *first; int n; char seen[8][256]; } eqctx;

typedef struct eqvals { int n; const char *text[32]; } eqvals;

static bool collect_eq(void *ctx, json_object *v, const char *concrete, json_object *parent, const char *key)
{
    (void)concrete, (void)parent, (void)key;
    eqvals *e = ctx;
    const char *t = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : jsonx_text(v);
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->text[i], t)) return true;
    if (e->n < 32) e->text[e->n++] = strdup(t);
    return true;
}

bool doc_check_equality(const mresource *r, json_object *doc, verrors *ve)
{
    bool ok = true;
    for (int i = 0; i < r->nequal; i++) {
        eqvals e = {0};
        doc_visit(doc, &r->equal[i].source, collect_eq, &e);
        doc_visit(doc, &r->equal[i].target, collect_eq, &e);
        if (e.n > 1) {
            buf m;
            buf_init(&m, 0);
            const mpath *ps[2] = {&r->equal[i].source, &r->equal[i].target};
            for (int k = 0; k < 2; k++) {
                buf_reset(&m);
                buf_printf(&m, "All values supplied for '%s' must match. Review all references (including those "
                               "higher up in the resource's data) and align the following conflicting values: ",
                           ps[k]->seg[ps[k]->nseg - 1].name);
                for (int j = 0; j < e.n; j++) buf_printf(&m, "%s'%s'", j ? ", " : "", e.text[j]);
                json_object *arr = jsonx_get(ve->by_path, ps[k]->text);
                bool dup = false;
                for (size_t q = 0; arr && q < json_object_array_length(arr); q++)
                    if (!strcmp(json_object_get_string(json_object_array_get_idx(arr, q)), m.data)) dup = true;
                if (!dup) verrors_add(ve, ps[k]->text, m.data);
            }
            buf_free(&m);
            ok = false;
        }
        for (int j = 0; j < e.n; j++) free((void *)e.text[j]);
    }
    return ok;
}

/* ---- identity and references ---- */

typedef struct one { json_object *v; } one;
static bool take_one(void *ctx, json_object *v, const char *c, json_object *p, const char *k)
{
    (void)c, (void)p, (void)k;
    ((one *)ctx)->v = v;
    return false;
}

static json_object *value_at(json_object *doc, const mpath *p)
{
    one o = {NULL};
    doc_visit(doc, p, take_one, &o);
    return o.v;
}

void doc_descriptor_refid(const char *project, const char *descriptor_name, const char *uri, uuid_t16 *out)
{
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, project);
    buf_puts(&b, descriptor_name);
    buf_puts(&b, "$.descriptor=");
    for (const char *s = uri; *s; s++) buf_putc(&b, (char)tolower((unsigned char)*s));
    uuid_v5(uuid_edfi_namespace(), b.data, b.len, out);
    buf_free(&b);
}

typedef struct refcollect {
    arena *a;
    const mref *ref;
    const mdesc *desc;
    docref *out;
    int n, cap;
    verrors *ve;
    bool ok;
} refcollect;

static docref *push_ref(refcollect *rc)
{
    if (rc->n == rc->cap) {
        int cap = rc->cap ? rc->cap * 2 : 16;
        docref *n = arena_alloc(rc->a, sizeof(docref) * (size_t)cap);
        if (rc->n) memcpy(n, rc->out, sizeof(docref) * (size_t)rc->n);
        rc->out = n;
        rc->cap = cap;
    }
    return &rc->out[rc->n++];
}

static bool collect_ref(void *ctx, json_object *obj, const char *concrete, json_object *p, const char *k)
{
    (void)p, (void)k;
    refcollect *rc = ctx;
    const mref *f = rc->ref;
    if (!json_object_is_type(obj, json_type_object)) {
        char msg[256];
        snprintf(msg, sizeof msg, "Reference object '%s' for resource '%s' must be a JSON object.", concrete, f->target_name);
        verrors_add(rc->ve, concrete, msg);
        rc->ok = false;
        return true;
    }
    buf b;
    buf_init(&b, 0);
    buf_puts(&b, f->target_project);
    buf_puts(&b, f->target_name);
    for (int i = 0; i < f->nmembers; i++) {
        json_object *v = jsonx_get(obj, f->members[i].leaf);
        if (!v) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "Reference object '%s' for resource '%s' must include all identifying values when present. Missing: '%s'.",
                     concrete, f->target_name, f->members[i].leaf);
            verrors_add(rc->ve, concrete, msg);
            rc->ok = false;
            buf_free(&b);
            return true;
        }
        if (i) buf_putc(&b, '#');
        buf_puts(&b, f->members[i].ident_path);
        buf_putc(&b, '=');
        doc_canonical_value(&b, v, ends_with_descriptor(f->members[i].ident_path));
    }
    docref *d = push_ref(rc);
    memset(d, 0, sizeof *d);
    d->ref = f;
    d->path = arena_strdup(rc->a, concrete);
    d->obj = obj;
    uuid_v5(uuid_edfi_namespace(), b.data, b.len, &d->refid);
    buf_free(&b);
    return true;
}

static bool collect_desc(void *ctx, json_object *v, const char *concrete, json_object *p, const char *k)
{
    (void)p, (void)k;
    refcollect *rc = ctx;
    if (!json_object_is_type(v, json_type_string)) return true;
    docref *d = push_ref(rc);
    memset(d, 0, sizeof *d);
    d->desc = rc->desc;
    d->path = arena_strdup(rc->a, concrete);
    d->value = json_object_get_string(v);
    doc_descriptor_refid(rc->desc->project, rc->desc->descriptor_name, d->value, &d->refid);
    return true;
}

bool doc_extract(arena *a, const mresource *r, json_object *doc, docinfo *out, verrors *ve)
{
    memset(out, 0, sizeof *out);
    buf name, key, text;
    buf_init(&name, 0);
    buf_init(&key, 0);
    buf_init(&text, 0);
    buf_puts(&name, r->project_name);
    buf_puts(&name, r->name);
    buf_putc(&key, '{');
    size_t elements_at = name.len;
    if (r->is_descriptor) {
        const char *ns = jsonx_str(doc, "namespace"), *cv = jsonx_str(doc, "codeValue");
        buf_puts(&name, "$.descriptor=");
        for (const char *s = ns ? ns : ""; *s; s++) buf_putc(&name, (char)tolower((unsigned char)*s));
        buf_putc(&name, '#');
        for (const char *s = cv ? cv : ""; *s; s++) buf_putc(&name, (char)tolower((unsigned char)*s));
        buf_puts(&key, "\"namespace\":");
        buf_json_str(&key, ns ? ns : "");
        buf_puts(&key, ",\"codeValue\":");
        buf_json_str(&key, cv ? cv : "");
        buf_printf(&text, "(namespace = %s),(codeValue = %s)", ns ? ns : "", cv ? cv : "");
    } else {
        for (int i = 0; i < r->nidentity; i++) {
            const mpath *p = &r->identity[i];
            json_object *v = value_at(doc, p);
            const char *leaf = p->seg[p->nseg - 1].name;
            if (i) {
                buf_putc(&name, '#');
                buf_putc(&key, ',');
                buf_putc(&text, ',');
            }
            buf_puts(&name, p->text);
            buf_putc(&name, '=');
            if (v) doc_canonical_value(&name, v, ends_with_descriptor(p->text));
            buf_json_str(&key, leaf);
            buf_putc(&key, ':');
            buf_puts(&key, v ? jsonx_text(v) : "null");
            buf_printf(&text, "(%s = ", leaf);
            if (v) doc_canonical_value(&text, v, false);
            buf_putc(&text, ')');
        }
    }
    buf_putc(&key, '}');
    uuid_v5(uuid_edfi_namespace(), name.data, name.len, &out->refid);
    if (r->is_subclass && r->superclass) {
        /* The superclass identity: the same values under the abstract
         * resource's name; domain-entity subclasses rename their single
         * identity element (schoolId -> educationOrganizationId). */
        buf alias;
        buf_init(&alias, 0);
        buf_puts(&alias, r->superclass->project_name);
        buf_puts(&alias, r->superclass->name);
        if (!r->subclass_association && r->superclass_identity_path && r->nidentity == 1) {
            json_object *v = value_at(doc, &r->identity[0]);
            buf_puts(&alias, r->superclass_identity_path);
            buf_putc(&alias, '=');
            if (v) doc_canonical_value(&alias, v, false);
        } else {
            buf_append(&alias, name.data + elements_at, name.len - elements_at);
        }
        uuid_v5(uuid_edfi_namespace(), alias.data, alias.len, &out->alias);
        out->has_alias = true;
        buf_free(&alias);
    }
    out->key_json = arena_strdup(a, key.data);
    out->key_text = arena_strdup(a, text.data);
    buf_free(&name);
    buf_free(&key);
    buf_free(&text);

    refcollect rc = {.a = a, .ve = ve, .ok = true};
    for (int i = 0; i < r->nrefs; i++) {
        rc.ref = &r->refs[i];
        rc.desc = NULL;
        doc_visit(doc, &r->refs[i].object_path, collect_ref, &rc);
    }
    for (int i = 0; i < r->ndescs; i++) {
        rc.ref = NULL;
        rc.desc = &r->descs[i];
        doc_visit(doc, &r->descs[i].path, collect_desc, &rc);
    }
    out->refs = rc.out;
    out->nrefs = rc.n;
    return rc.ok;
}

/* The query parameter published for path p, or NULL. */
static const char *query_name(const mresource *r, const mpath *p)
{
    for (int i = 0; i < r->nquery; i++)
        if (!strcmp(r->query[i].path.text, p->text)) return r->query[i].name;
    return NULL;
}

typedef struct keyval { const char *name; json_object *v; } keyval;

static int cmp_keyval(const void *x, const void *y)
{
    return strcmp(((const keyval *)x)->name, ((const keyval *)y)->name);
}

const char *doc_key_values(arena *a, const mresource *r, json_object *doc)
{
    buf b;
    buf_init(&b, 0);
    buf_putc(&b, '{');
    if (r->is_descriptor) {
        const char *ns = jsonx_str(doc, "namespace"), *cv = jsonx_str(doc, "codeValue");
        buf_puts(&b, "\"namespace\":");
        buf_json_str(&b, ns ? ns : "");
        buf_puts(&b, ",\"codeValue\":");
        buf_json_str(&b, cv ? cv : "");
    } else {
        keyval *kv = arena_alloc(a, sizeof *kv * (size_t)(r->nidentity + 1));
        int n = 0;
        /* Members with a parameter of their own first: a member unified with
         * another (courseOfferings' $.sessionReference.schoolId equals
         * $.schoolReference.schoolId) has none, and its leaf name is then
         * already there with the same value. */
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < r->nidentity; i++) {
                const mpath *p = &r->identity[i];
                const char *name = query_name(r, p);
                if (pass == 0 ? !name : name != NULL) continue;
                if (!name) name = p->seg[p->nseg - 1].name;
                bool seen = false;
                for (int k = 0; k < n && !seen; k++) seen = !strcmp(kv[k].name, name);
                json_object *v = seen ? NULL : value_at(doc, p);
                if (v) kv[n++] = (keyval){name, v};
            }
        qsort(kv, (size_t)n, sizeof *kv, cmp_keyval);
        for (int k = 0; k < n; k++) {
            if (k) buf_putc(&b, ',');
            buf_json_str(&b, kv[k].name);
            buf_putc(&b, ':');
            buf_puts(&b, jsonx_text(kv[k].v));
        }
    }
    buf_putc(&b, '}');
    const char *out = arena_strdup(a, b.data);
    buf_free(&b);
    return out;
}

void doc_index_value(buf *out, json_object *v, bool lower)
{
    buf tmp;
    buf_init(&tmp, 0);
    doc_canonical_value(&tmp, v, lower);
    /* Tabs, newlines and backslashes are escaped: they delimit entries. */
    for (size_t i = 0; i < tmp.len; i++) {
        char c = tmp.data[i];
        if (c == '\\') buf_puts(out, "\\\\");
        else if (c == '\t') buf_puts(out, "\\t");
        else if (c == '\n') buf_puts(out, "\\n");
        else buf_putc(out, c);
    }
    buf_free(&tmp);
}

const char *doc_query_index(arena *a, const mresource *r, json_object *doc)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < r->nquery; i++) {
        const mquery *q = &r->query[i];
        if (!q->indexed) continue;
        json_object *v = value_at(doc, &q->path);
        if (!v) continue;
        buf_puts(&b, q->index_key);
        buf_putc(&b, '\t');
        doc_index_value(&b, v, q->descriptor);
        buf_putc(&b, '\n');
    }
    const char *out = b.len ? arena_strdup(a, b.data) : NULL;
    buf_free(&b);
    return out;
}
