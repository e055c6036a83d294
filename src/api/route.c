#include "route.h"
#include "../base/buf.h"
#include "../base/timefmt.h"
#include "../base/utf8.h"
#include "../base/uuid.h"
#include <ctype.h>
#include <openssl/evp.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define T_PARAM "urn:ed-fi:api:bad-request:parameter-validation-failed"

/* Copies the next '/'-separated segment; false when too long. */
static bool next_seg(const char **p, char *out, size_t n)
{
    const char *s = *p;
    if (*s == '/') s++;
    const char *e = strchr(s, '/');
    size_t l = e ? (size_t)(e - s) : strlen(s);
    if (l >= n) return false;
    memcpy(out, s, l);
    out[l] = 0;
    *p = s + l;
    return true;
}

void route_parse(const char *path, route *out)
{
    memset(out, 0, sizeof *out);
    out->kind = RT_NOT_FOUND;
    if (!path || path[0] != '/') return;
    if (!strcmp(path, "/")) {
        out->kind = RT_ROOT;
        return;
    }
    if (!strcmp(path, "/health") || !strcmp(path, "/health/")) {
        out->kind = RT_HEALTH;
        return;
    }
    if (!strcmp(path, "/oauth/token") || !strcmp(path, "/oauth/token/")) {
        out->kind = RT_TOKEN;
        return;
    }
    if (!strcmp(path, "/oauth/token_info") || !strcmp(path, "/oauth/token_info/")) {
        out->kind = RT_TOKEN_INFO;
        return;
    }
    if (!strcmp(path, "/metadata") || !strcmp(path, "/metadata/")) {
        out->kind = RT_METADATA;
        return;
    }
    if (!strcasecmp(path, "/metadata/data/v3/resources/swagger.json")) {
        out->kind = RT_OPENAPI_RESOURCES;
        return;
    }
    if (!strcasecmp(path, "/metadata/data/v3/descriptors/swagger.json")) {
        out->kind = RT_OPENAPI_DESCRIPTORS;
        return;
    }
    if (!strcmp(path, "/metadata/data/v3/dependencies") || !strcmp(path, "/metadata/data/v3/dependencies/")) {
        out->kind = RT_DEPENDENCIES;
        return;
    }
    if (!strcmp(path, "/changeQueries/v1/snapshots") || !strcmp(path, "/changeQueries/v1/snapshots/")) {
        out->kind = RT_SNAPSHOTS;
        return;
    }
    if (!strcmp(path, "/changeQueries/v1/availableChangeVersions") ||
        !strcmp(path, "/changeQueries/v1/availableChangeVersions/")) {
        out->kind = RT_CHANGE_VERSIONS;
        return;
    }
    if (strncmp(path, "/data/v3/", 9) != 0) return;
    const char *p = path + 8; /* at the '/' before the project */
    char third[96];
    if (!next_seg(&p, out->project, sizeof out->project) || !out->project[0]) return;
    if (!*p) return;
    if (!next_seg(&p, out->endpoint, sizeof out->endpoint) || !out->endpoint[0]) return;
    if (!*p || !strcmp(p, "/")) {
        out->kind = RT_COLLECTION;
        return;
    }
    if (!next_seg(&p, third, sizeof third)) {
        out->kind = RT_BAD_ID;
        snprintf(out->raw_id, sizeof out->raw_id, "%.90s", p + 1);
        return;
    }
    if (*p && strcmp(p, "/") != 0) return; /* deeper paths do not exist */
    if (!third[0]) return;
    if (!strcmp(third, "partitions") || !strcmp(third, "deletes") || !strcmp(third, "keyChanges")) {
        out->kind = third[0] == 'p' ? RT_PARTITIONS : third[0] == 'd' ? RT_DELETES : RT_KEY_CHANGES;
        return;
    }
    snprintf(out->raw_id, sizeof out->raw_id, "%s", third);
    uuid_t16 u;
    if (!uuid_parse(third, &u)) {
        out->kind = RT_BAD_ID;
        return;
    }
    uuid_format(&u, out->id);
    out->kind = RT_ITEM;
}

static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void route_page_token(int64_t after, int64_t upto, char out[64])
{
    char raw[48];
    int n = snprintf(raw, sizeof raw, "c1.%" PRId64 ".%" PRId64, after, upto);
    int o = 0;
    for (int i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)raw[i] << 16;
        if (i + 1 < n) v |= (unsigned char)raw[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)raw[i + 2];
        out[o++] = b64u[(v >> 18) & 63];
        out[o++] = b64u[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = b64u[(v >> 6) & 63];
        if (i + 2 < n) out[o++] = b64u[v & 63];
    }
    out[o] = 0;
}

bool route_page_token_parse(const char *s, int64_t *after, int64_t *upto)
{
    size_t n = strlen(s);
    if (n == 0 || n > 60) return false;
    char raw[48];
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = strchr(b64u, s[i]);
        if (!p || !s[i]) return false;
        acc = (acc << 6) | (unsigned)(p - b64u);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= sizeof raw) return false;
            raw[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    raw[o] = 0;
    long long a, b;
    char tail;
    if (sscanf(raw, "c1.%lld.%lld%c", &a, &b, &tail) != 2 || a < 0 || b < 0 || (b && b < a)) return false;
    char check[64];
    route_page_token(a, b, check);
    if (strcmp(check, s) != 0) return false; /* canonical form only */
    *after = a;
    *upto = b;
    return true;
}

static bool parse_i64(const char *s, int64_t *out)
{
    if (!*s) return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && !(p == s && *p == '-')) return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

static void param_problem(outcome *o, const char *msg)
{
    outcome_problem(o, 400, T_PARAM, "Parameter Validation Failed", "Parameters supplied to the request were invalid.", msg);
}

bool route_list_request(const mresource *r, const qparam *ps, int n, list_kind kind, arena *a, list_request *lr,
                        outcome *out)
{
    bool partitions = kind == LIST_PARTITIONS, changes = kind == LIST_CHANGES;
    memset(lr, 0, sizeof *lr);
    lr->q.limit = PAGE_MAX;
    store_filter *fs = arena_alloc(a, sizeof(store_filter) * (size_t)(n + 1));
    int nf = 0;
    bool have_offset = false, have_token = false, have_size = false, have_limit = false, total = false;
    const char *token = NULL;
    verrors ve;
    verrors_init(&ve);
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        const char *k = ps[i].name, *v = ps[i].value ? ps[i].value : "";
        if (!utf8_valid(k) || !utf8_valid(v)) {
            outcome_problem(out, 400, "urn:ed-fi:api:bad-request", "Bad Request",
                            "The request could not be processed. See 'errors' for details.",
                            "Query parameter names and values must be valid UTF-8.");
            ok = false;
            break;
        }
        int64_t x;
        if (!strcasecmp(k, "offset")) {
            have_offset = true;
            if (!parse_i64(v, &x) || x < 0) {
                param_problem(out, "Offset must be a numeric value greater than or equal to 0.");
                ok = false;
            } else lr->q.offset = x;
        } else if (!strcasecmp(k, "limit")) {
            have_limit = true;
            if (!parse_i64(v, &x) || x < 0 || x > PAGE_MAX) {
                param_problem(out, "Limit must be omitted or set to a numeric value between 0 and 500.");
                ok = false;
            } else lr->q.limit = x;
        } else if (!strcasecmp(k, "totalCount")) {
            if (!strcasecmp(v, "true")) total = true;
            else if (!strcasecmp(v, "false")) total = false;
            else {
                param_problem(out, "TotalCount must be a boolean value.");
                ok = false;
            }
        } else if (!changes && !strcasecmp(k, "pageToken")) {
            have_token = true;
            token = v;
        } else if (!changes && !strcasecmp(k, "pageSize")) {
            have_size = true;
            if (!parse_i64(v, &x) || x < 1 || x > PAGE_MAX) {
                param_problem(out, "PageSize must be a numeric value between 1 and 500.");
                ok = false;
            } else lr->q.limit = x;
        } else if (partitions && !strcasecmp(k, "number")) {
            if (!parse_i64(v, &x) || x < 1 || x > 200) {
                param_problem(out, "Number must be a numeric value between 1 and 200.");
                ok = false;
            } else lr->partitions = x;
        } else if (!strcasecmp(k, "minChangeVersion") || !strcasecmp(k, "maxChangeVersion")) {
            if (!parse_i64(v, &x) || x < 0) {
                char msg[128];
                snprintf(msg, sizeof msg, "%s must be a numeric value greater than or equal to 0.", k);
                param_problem(out, msg);
                ok = false;
            } else if (!strcasecmp(k, "minChangeVersion")) lr->q.min_cv = x;
            else lr->q.max_cv = x;
        } else {
            const mquery *mq = NULL;
            for (int j = 0; j < r->nquery && !mq; j++)
                if (!strcasecmp(r->query[j].name, k)) mq = &r->query[j];
            if (!mq || partitions || changes) {
                char msg[256];
                snprintf(msg, sizeof msg, "The query field '%.100s' is not valid for this resource.", k);
                outcome_problem(out, 400, "urn:ed-fi:api:bad-request", "Bad Request",
                                "The request could not be processed. See 'errors' for details.", msg);
                ok = false;
                break;
            }
            store_filter *f = &fs[nf];
            f->json_path = mq->path.text;
            bool valid = true;
            char tmp[32];
            switch (mq->type) {
            case QT_NUMBER: {
                /* A plain decimal: no hex, exponents, nan or inf. */
                const char *q = v;
                if (*q == '-') q++;
                valid = isdigit((unsigned char)*q) && strlen(v) <= 64;
                while (isdigit((unsigned char)*q)) q++;
                if (*q == '.') {
                    q++;
                    valid = valid && isdigit((unsigned char)*q);
                    while (isdigit((unsigned char)*q)) q++;
                }
                valid = valid && !*q;
                double d = valid ? strtod(v, NULL) : 0;
                f->kind = SF_NUMBER;
                f->number = d;
                break;
            }
            case QT_BOOLEAN:
                f->kind = SF_BOOL;
                if (!strcasecmp(v, "true")) f->boolean = true;
                else if (!strcasecmp(v, "false")) f->boolean = false;
                else valid = false;
                break;
            case QT_DATE:
                f->kind = SF_TEXT;
                valid = time_parse_date(v, true, tmp);
                f->text = arena_strdup(a, tmp);
                break;
            case QT_DATETIME:
                f->kind = SF_TEXT;
                valid = time_parse_datetime(v, tmp);
                f->text = arena_strdup(a, tmp);
                break;
            case QT_TIME:
                f->kind = SF_TEXT;
                valid = time_parse_time(v, tmp);
                f->text = arena_strdup(a, tmp);
                break;
            default:
                if (!strcmp(mq->path.text, "$.id")) {
                    uuid_t16 u;
                    char canon[37];
                    f->kind = SF_ID;
                    valid = uuid_parse(v, &u);
                    if (valid) uuid_format(&u, canon);
                    f->text = arena_strdup(a, valid ? canon : v);
                } else {
                    f->kind = mq->descriptor ? SF_TEXT_NOCASE : SF_TEXT;
                    f->text = v;
                }
            }
            if (valid && mq->indexed) {
                /* Identity fields are answered from the query index. */
                json_object *jv = mq->type == QT_NUMBER ? json_object_new_double(f->number)
                                  : mq->type == QT_BOOLEAN ? json_object_new_boolean(f->boolean)
                                                           : json_object_new_string(f->text);
                buf iv;
                buf_init(&iv, 0);
                doc_index_value(&iv, jv, mq->descriptor);
                f->index_key = mq->index_key;
                f->index_value = arena_strdup(a, iv.data ? iv.data : "");
                buf_free(&iv);
                json_object_put(jv);
            }
            if (!valid) {
                char key[160], msg[320];
                snprintf(key, sizeof key, "$.%.100s", mq->name);
                snprintf(msg, sizeof msg, "The value '%.100s' is not valid for %.100s.", v, mq->name);
                verrors_add(&ve, key, msg);
            }
            nf++;
        }
    }
    if (ok && ve.count) {
        outcome_problem(out, 400, "urn:ed-fi:api:bad-request:data-validation-failed", "Data Validation Failed",
                        "Data validation failed. See 'validationErrors' for details.", NULL);
        out->validation = ve.by_path;
        ve.by_path = NULL;
        ok = false;
    }
    if (ok && have_token && have_offset) {
        param_problem(out, "Both offset and pageToken parameters were provided, but they support alternative paging "
                           "approaches and cannot be used together.");
        ok = false;
    }
    if (ok && (have_token || have_size) && have_limit) {
        param_problem(out, "Both limit and pageSize/pageToken parameters were provided, but they support alternative "
                           "paging approaches and cannot be used together.");
        ok = false;
    }
    if (ok && (have_token || have_size) && total) {
        param_problem(out, "The totalCount parameter is not supported with cursor paging (pageToken/pageSize).");
        ok = false;
    }
    if (ok && have_token && !route_page_token_parse(token, &lr->q.after, &lr->q.upto)) {
        param_problem(out, "The pageToken is not valid. Use a token from a Next-Page-Token header or from the partitions endpoint.");
        ok = false;
    }
    verrors_free(&ve);
    if (!ok) return false;
    lr->cursor = have_token || have_size;
    lr->q.filters = fs;
    lr->q.nfilters = nf;
    lr->q.count = total;
    return true;
}

static int hexv(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

bool route_form_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') *o++ = ' ';
        else if (*p == '%') {
            int h = hexv(p[1]), l = h >= 0 ? hexv(p[2]) : -1;
            if (h < 0 || l < 0) return false;
            *o++ = (char)(h << 4 | l);
            p += 2;
        } else *o++ = *p;
    }
    *o = 0;
    return true;
}

bool route_basic_credentials(const char *b, arena *a, char **key, char **secret)
{
    while (*b == ' ') b++;
    size_t bl = strlen(b);
    if (bl == 0 || bl % 4 != 0 || bl >= 4096) return false;
    unsigned char *dec = arena_alloc(a, bl + 4);
    int n = EVP_DecodeBlock(dec, (const unsigned char *)b, (int)bl);
    if (n < 0) return false;
    while (bl && b[bl - 1] == '=') bl--, n--; /* EVP counts padding bytes */
    if (n < 0) return false;
    dec[n] = 0;
    if (memchr(dec, 0, (size_t)n)) return false; /* NUL inside: not text */
    char *colon = strchr((char *)dec, ':');
    if (!colon) return false;
    *colon = 0;
    *key = (char *)dec;
    *secret = colon + 1;
    return true;
}
