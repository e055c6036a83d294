#include "jsonx.h"
#include "arena.h"
#include "utf8.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scans valid JSON text for a repeated key inside one object. json-c keeps
 * the last value silently; Ed-Fi rejects the document, so we look. */
typedef struct { const char *k; size_t n; } keyref;
/* The keys of one object: an open-addressing hash set, so that an object
 * with very many keys costs linear time, not quadratic. */
typedef struct {
    keyref *slots;
    size_t count, cap;
} keyset;

static size_t key_hash(const char *k, size_t n)
{
    size_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return h;
}

/* Adds a key; false when it was already there. */
static bool keyset_add(keyset *ks, const char *k, size_t n)
{
    if ((ks->count + 1) * 2 > ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        keyref *slots = xcalloc(cap, sizeof(keyref));
        for (size_t i = 0; i < ks->cap; i++) {
            if (!ks->slots[i].k) continue;
            size_t j = key_hash(ks->slots[i].k, ks->slots[i].n) & (cap - 1);
            while (slots[j].k) j = (j + 1) & (cap - 1);
            slots[j] = ks->slots[i];
        }
        free(ks->slots);
        ks->slots = slots;
        ks->cap = cap;
    }
    size_t j = key_hash(k, n) & (ks->cap - 1);
    for (; ks->slots[j].k; j = (j + 1) & (ks->cap - 1))
        if (ks->slots[j].n == n && memcmp(ks->slots[j].k, k, n) == 0) return false;
    ks->slots[j] = (keyref){k, n};
    ks->count++;
    return true;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decodes the escapes of a key (already validated by json-c) to UTF-8. */
static char *unescape_key(const char *k, size_t n, size_t *outlen)
{
    char *o = xmalloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] != '\\' || i + 1 >= n) {
            o[j++] = k[i];
            continue;
        }
        char e = k[++i];
        switch (e) {
        case 'n': o[j++] = '\n'; break;
        case 't': o[j++] = '\t'; break;
        case 'r': o[j++] = '\r'; break;
        case 'b': o[j++] = '\b'; break;
        case 'f': o[j++] = '\f'; break;
        case 'u': {
            int cp = i + 4 < n ? hex4(k + i + 1) : -1;
            if (cp < 0) {
                o[j++] = e;
                break;
            }
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && k[i + 1] == '\\' && k[i + 2] == 'u') {
                int lo = hex4(k + i + 3);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            /* UTF-8 never grows past the 6-byte escape it replaces. */
            if (cp < 0x80) o[j++] = (char)cp;
            else if (cp < 0x800) o[j++] = (char)(0xC0 | cp >> 6), o[j++] = (char)(0x80 | (cp & 0x3F));
            else if (cp < 0x10000)
                o[j++] = (char)(0xE0 | cp >> 12), o[j++] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[j++] = (char)(0x80 | (cp & 0x3F));
            else
                o[j++] = (char)(0xF0 | cp >> 18), o[j++] = (char)(0x80 | ((cp >> 12) & 0x3F)),
                o[j++] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[j++] = (char)(0x80 | (cp & 0x3F));
            break;
        }
        default: o[j++] = e;
        }
    }
    o[j] = 0;
    *outlen = j;
    return o;
}

static size_t skip_string(const char *s, size_t i, size_t len)
{
    i++; /* opening quote */
    while (i < len && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
    return i + 1;
}

static bool find_dup(const char *s, size_t len, char *dup_path, size_t dup_len)
{
    /* Stack of open containers: for objects, the keys seen so far. */
    struct frame { bool is_obj; keyset ks; const char *key; size_t keylen; } st[JSONX_MAX_DEPTH + 2];
    int top = -1;
    bool found = false;
    const char *pending = NULL; /* last key read in the current object */
    char **decoded = NULL;      /* unescaped copies of keys, freed at the end */
    size_t ndecoded = 0, capdecoded = 0;
    size_t pending_n = 0;
    for (size_t i = 0; i < len && !found;) {
        char c = s[i];
        if (c == '{' || c == '[') {
            if (top + 1 >= JSONX_MAX_DEPTH + 2) break;
            top++;
            st[top].is_obj = c == '{';
            st[top].ks = (keyset){0};
            st[top].key = pending;
            st[top].keylen = pending_n;
            pending = NULL;
            i++;
        } else if (c == '}' || c == ']') {
            if (top >= 0) {
                free(st[top].ks.slots);
                top--;
            }
            i++;
        } else if (c == ',') {
            pending = NULL; /* the previous member's value was a scalar */
            i++;
        } else if (c == '"') {
            size_t end = skip_string(s, i, len);
            /* A string is a key when the next non-space char is ':' */
            size_t j = end;
            while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) j++;
            if (top >= 0 && st[top].is_obj && j < len && s[j] == ':') {
                const char *k = s + i + 1;
                size_t n = end - i - 2;
                const char *kk = k;
                size_t kn = n;
                if (memchr(k, '\\', n)) { /* compare "\u0061" and "a" alike */
                    char *d = unescape_key(k, n, &kn);
                    if (ndecoded == capdecoded) {
                        capdecoded = capdecoded ? capdecoded * 2 : 8;
                        decoded = xrealloc(decoded, capdecoded * sizeof(char *));
                    }
                    decoded[ndecoded++] = d;
                    kk = d;
                }
                if (!keyset_add(&st[top].ks, kk, kn)) {
                    found = true;
                    /* Build the path from the frames' keys. */
                    size_t o = 0;
                    o += (size_t)snprintf(dup_path + o, dup_len - o, "$");
                    for (int f = 1; f <= top && o < dup_len; f++) {
                        if (st[f].key)
                            o += (size_t)snprintf(dup_path + o, dup_len - o, ".%.*s", (int)st[f].keylen,
                                                  st[f].key);
                    }
                    if (o < dup_len) snprintf(dup_path + o, dup_len - o, ".%.*s", (int)kn, kk);
                    break;
                }
                pending = k;
                pending_n = n;
            }
            i = end;
        } else {
            i++;
        }
    }
    for (; top >= 0; top--) free(st[top].ks.slots);
    for (size_t d = 0; d < ndecoded; d++) free(decoded[d]);
    free(decoded);
    return found;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF) and
 * no raw control characters inside strings; json-c checks neither fully.
 * Returns the offset of the first bad byte, or len. */
static size_t first_bad_byte(const char *text, size_t len, bool *ctrl)
{
    const unsigned char *s = (const unsigned char *)text;
    bool in_str = false;
    *ctrl = false;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (in_str) {
                if (c < 0x20) {
                    *ctrl = true;
                    return i;
                }
                if (c == '\\') {
                    i += 2;
                    continue;
                }
                if (c == '"') in_str = false;
            } else if (c == '"') {
                in_str = true;
            } else if (c == 't' || c == 'f' || c == 'n') {
                /* json-c is lenient about NaN, Infinity and quotes: only
                 * the three literals may appear outside strings. */
                const char *w = c == 't' ? "true" : c == 'f' ? "false" : "null";
                size_t wl = strlen(w);
                if (i + wl > len || memcmp(text + i, w, wl) != 0) return i;
                i += wl;
                continue;
            } else if (c == 'e' || c == 'E') {
                if (i == 0 || !(s[i - 1] >= '0' && s[i - 1] <= '9')) return i;
            } else if (c == '.') {
                if (i == 0 || i + 1 >= len || !(s[i - 1] >= '0' && s[i - 1] <= '9') || !(s[i + 1] >= '0' && s[i + 1] <= '9'))
                    return i;
            } else if (!strchr(" \t\r\n{}[]:,-+0123456789", c)) {
                return i;
            }
            i++;
            continue;
        }
        size_t n = utf8_seq(s + i, len - i);
        if (!n) return i;
        i += n;
    }
    return len;
}

json_object *jsonx_parse(const char *text, size_t len, char *err, size_t errlen, char *dup_path,
                         size_t dup_len)
{
    if (dup_path && dup_len) dup_path[0] = 0;
    bool ctrl;
    size_t bad = first_bad_byte(text, len, &ctrl);
    if (bad < len) {
        unsigned char b = (unsigned char)text[bad];
        snprintf(err, errlen,
                 ctrl     ? "The JSON text has a raw control character inside a string at byte %zu."
                 : b >= 0x80 ? "The JSON text is not valid UTF-8 at byte %zu."
                             : "The JSON text is not valid at byte %zu.",
                 bad);
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(JSONX_MAX_DEPTH);
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (je == json_tokener_continue) {
        snprintf(err, errlen, "The JSON text ended unexpectedly.");
        json_object_put(o);
        return NULL;
    }
    if (je != json_tokener_success || !o) {
        snprintf(err, errlen, "The JSON text is not valid: %s at byte %zu.", json_tokener_error_desc(je), end);
        json_object_put(o);
        return NULL;
    }
    while (end < len && (text[end] == ' ' || text[end] == '\n' || text[end] == '\r' || text[end] == '\t')) end++;
    if (end != len) {
        snprintf(err, errlen, "Unexpected data after the JSON value at byte %zu.", end);
        json_object_put(o);
        return NULL;
    }
    char tmp[256];
    if (find_dup(text, len, dup_path ? dup_path : tmp, dup_path ? dup_len : sizeof tmp)) {
        snprintf(err, errlen, "An item with the same key has already been added.");
        json_object_put(o);
        return NULL;
    }
    return o;
}

json_object *jsonx_parse_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n < 0) {
        fclose(f);
        snprintf(err, errlen, "cannot read %s", path);
        return NULL;
    }
    char *text = xmalloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, f);
    fclose(f);
    text[got] = 0;
    json_tokener *tok = json_tokener_new_ex(256);
    json_object *o = json_tokener_parse_ex(tok, text, (int)got);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        snprintf(err, errlen, "%s: %s", path, json_tokener_error_desc(json_tokener_get_error(tok)));
        json_object_put(o);
        o = NULL;
    }
    json_tokener_free(tok);
    free(text);
    return o;
}

json_object *jsonx_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v)) return v;
    return NULL;
}

const char *jsonx_str(json_object *o, const char *key)
{
    json_object *v = jsonx_get(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool jsonx_bool(json_object *o, const char *key)
{
    json_object *v = jsonx_get(o, key);
    return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

const char *jsonx_text(json_object *o)
{
    return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

json_object *jsonx_at(json_object *doc, const char *path)
{
    if (!path || strncmp(path, "$.", 2)) return NULL;
    json_object *cur = doc;
    const char *p = path + 2;
    while (cur && *p) {
        size_t n = strcspn(p, ".");
        char key[128];
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        if (!json_object_is_type(cur, json_type_object) || !json_object_object_get_ex(cur, key, &cur)) return NULL;
        p += n + (p[n] == '.');
    }
    return cur;
}

void jsonx_set_at(json_object *doc, const char *path, json_object *v)
{
    if (strncmp(path, "$.", 2) != 0) {
        json_object_put(v);
        return;
    }
    const char *p = path + 2;
    json_object *cur = doc;
    for (;;) {
        const char *dot = strchr(p, '.');
        char key[128];
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof key) {
            json_object_put(v);
            return;
        }
        memcpy(key, p, n);
        key[n] = 0;
        if (!dot) {
            json_object_object_add(cur, key, v);
            return;
        }
        json_object *next;
        if (!json_object_object_get_ex(cur, key, &next)) {
            next = json_object_new_object();
            json_object_object_add(cur, key, next);
        }
        cur = next;
        p = dot + 1;
    }
}
