/* Unit tests for src/api/route.c: path routing, cursor tokens and the
 * validation of collection query parameters (api-behavior §2, §3, §4.5). */
#include "api/route.h"
#include "base/jsonx.h"
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "leak.h"

TestSuite(route_parse, .fini = unit_leak_check);
TestSuite(page_token, .fini = unit_leak_check);

#define MODEL_PATH "model/ds-5.2/ApiSchema.json"
#define T_PARAM "urn:ed-fi:api:bad-request:parameter-validation-failed"
#define T_VALIDATION "urn:ed-fi:api:bad-request:data-validation-failed"

/* ---- route_parse ---- */

static route R;

static route_kind kind_of(const char *path)
{
    route_parse(path, &R);
    return R.kind;
}

Test(route_parse, fixed_routes)
{
    cr_assert_eq(kind_of("/"), RT_ROOT);
    cr_assert_eq(kind_of("/oauth/token"), RT_TOKEN);
    cr_assert_eq(kind_of("/oauth/token/"), RT_TOKEN);
    cr_assert_eq(kind_of("/metadata"), RT_METADATA);
    cr_assert_eq(kind_of("/metadata/"), RT_METADATA);
    cr_assert_eq(kind_of("/metadata/data/v3/resources/swagger.json"), RT_OPENAPI_RESOURCES);
    cr_assert_eq(kind_of("/metadata/data/v3/descriptors/swagger.json"), RT_OPENAPI_DESCRIPTORS);
    cr_assert_eq(kind_of("/METADATA/DATA/V3/RESOURCES/SWAGGER.JSON"), RT_OPENAPI_RESOURCES);
    cr_assert_eq(kind_of("/metadata/data/v3/dependencies"), RT_DEPENDENCIES);
    cr_assert_eq(kind_of("/metadata/data/v3/dependencies/"), RT_DEPENDENCIES);
}

Test(route_parse, unknown_fixed_routes)
{
    const char *nf[] = {"", "oauth/token", "/oauth", "/oauth/token_x", "/oauth/token//", "/metadata/x",
                        "/metadata/data/v3/resources/swagger.yaml", "/schools", "/ed-fi/schools", "/data",
                        "/data/", "/data/v3", "/data/v3/", "/data/v2/ed-fi/schools", "/data/v3/ed-fi",
                        "/data/v3/ed-fi/", "/data/v3//schools", "/data/v3/ed-fi//"};
    for (size_t i = 0; i < sizeof nf / sizeof *nf; i++)
        cr_assert_eq(kind_of(nf[i]), RT_NOT_FOUND, "'%s' -> %d", nf[i], R.kind);
    route_parse(NULL, &R);
    cr_assert_eq(R.kind, RT_NOT_FOUND);
}

Test(route_parse, collection)
{
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools"), RT_COLLECTION);
    cr_assert_str_eq(R.project, "ed-fi");
    cr_assert_str_eq(R.endpoint, "schools");
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/"), RT_COLLECTION);
    cr_assert_str_eq(R.endpoint, "schools");
    /* the endpoint is kept as sent; model_find compares case-insensitively */
    cr_assert_eq(kind_of("/data/v3/ed-fi/SCHOOLS"), RT_COLLECTION);
    cr_assert_str_eq(R.endpoint, "SCHOOLS");
}

Test(route_parse, item_hyphenated)
{
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/3af6ad85-1212-5833-be6f-f8df6f4d6402"), RT_ITEM);
    cr_assert_str_eq(R.project, "ed-fi");
    cr_assert_str_eq(R.endpoint, "schools");
    cr_assert_str_eq(R.id, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/3af6ad85-1212-5833-be6f-f8df6f4d6402/"), RT_ITEM);
    cr_assert_str_eq(R.id, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
}

Test(route_parse, item_32_hex_upper_canonicalised)
{
    cr_assert_eq(kind_of("/data/v3/ed-fi/students/3AF6AD8512125833BE6FF8DF6F4D6402"), RT_ITEM);
    cr_assert_str_eq(R.id, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
    cr_assert_str_eq(R.raw_id, "3AF6AD8512125833BE6FF8DF6F4D6402");
    cr_assert_eq(kind_of("/data/v3/ed-fi/students/3AF6AD85-1212-5833-BE6F-F8DF6F4D6402"), RT_ITEM);
    cr_assert_str_eq(R.id, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
}

Test(route_parse, bad_ids)
{
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/ffc0a272"), RT_BAD_ID);
    cr_assert_str_eq(R.raw_id, "ffc0a272");
    cr_assert_str_eq(R.endpoint, "schools");
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/3af6ad85-1212-5833-be6f-f8df6f4d640z"), RT_BAD_ID);
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/{3af6ad85-1212-5833-be6f-f8df6f4d6402}"), RT_BAD_ID);
    /* an over-long id segment is still a bad id, with raw_id truncated */
    char p[512], seg[201];
    memset(seg, 'a', 200);
    seg[200] = 0;
    snprintf(p, sizeof p, "/data/v3/ed-fi/schools/%s", seg);
    cr_assert_eq(kind_of(p), RT_BAD_ID);
    cr_assert_eq(strlen(R.raw_id), 90);
}

Test(route_parse, partitions)
{
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/partitions"), RT_PARTITIONS);
    cr_assert_str_eq(R.endpoint, "schools");
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/partitions/"), RT_PARTITIONS);
}

Test(route_parse, change_queries)
{
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/deletes"), RT_DELETES);
    cr_assert_str_eq(R.project, "ed-fi");
    cr_assert_str_eq(R.endpoint, "schools");
    cr_assert_eq(kind_of("/data/v3/ed-fi/sessions/keyChanges/"), RT_KEY_CHANGES);
    cr_assert_str_eq(R.endpoint, "sessions");
    cr_assert_eq(kind_of("/changeQueries/v1/availableChangeVersions"), RT_CHANGE_VERSIONS);
    cr_assert_eq(kind_of("/changeQueries/v1/availableChangeVersions/"), RT_CHANGE_VERSIONS);
    cr_assert_eq(kind_of("/changeQueries/v1/"), RT_NOT_FOUND);
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/deletes/x"), RT_NOT_FOUND);
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/Deletes"), RT_BAD_ID, "segment names are exact, as partitions");
}

Test(route_parse, too_deep_or_long)
{
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/3af6ad85-1212-5833-be6f-f8df6f4d6402/x"), RT_NOT_FOUND);
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/partitions/x"), RT_NOT_FOUND);
    cr_assert_eq(kind_of("/data/v3/ed-fi/schools/a/b/c"), RT_NOT_FOUND);
    char p[512], seg[201];
    memset(seg, 'p', 200);
    seg[200] = 0;
    snprintf(p, sizeof p, "/data/v3/%s/schools", seg);
    cr_assert_eq(kind_of(p), RT_NOT_FOUND, "project longer than its buffer");
    snprintf(p, sizeof p, "/data/v3/ed-fi/%s", seg);
    cr_assert_eq(kind_of(p), RT_NOT_FOUND, "endpoint longer than its buffer");
}

/* ---- page tokens ---- */

static void token_round_trip(int64_t after, int64_t upto)
{
    char t[64];
    route_page_token(after, upto, t);
    cr_assert_lt(strlen(t), 64);
    for (const char *c = t; *c; c++)
        cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *c), "'%c' in %s", *c, t);
    int64_t a = -1, b = -1;
    cr_assert(route_page_token_parse(t, &a, &b), "token %s for (%lld,%lld) rejected", t, (long long)after, (long long)upto);
    cr_assert_eq(a, after);
    cr_assert_eq(b, upto);
}

Test(page_token, round_trip)
{
    token_round_trip(0, 0);
    token_round_trip(0, 500);
    token_round_trip(123, 456);
    token_round_trip(5, 0);
    token_round_trip(7, 7);
    token_round_trip(INT64_MAX - 1, INT64_MAX);
}

Test(page_token, rejects_tampered)
{
    char t[64], bad[80];
    route_page_token(123, 456, t);
    int64_t a, b;
    /* Tokens are not signed: a changed character is either rejected or
     * names another range, and then it is that range's canonical token. */
    for (size_t i = 0; i < strlen(t); i++) {
        snprintf(bad, sizeof bad, "%s", t);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        if (route_page_token_parse(bad, &a, &b)) {
            cr_assert(a != 123 || b != 456, "%s decodes to the original range", bad);
            char again[64];
            route_page_token(a, b, again);
            cr_assert_str_eq(again, bad);
        }
    }
    /* standard-base64 characters and padding are not part of the alphabet */
    snprintf(bad, sizeof bad, "%s=", t);
    cr_assert_not(route_page_token_parse(bad, &a, &b));
    snprintf(bad, sizeof bad, "%s", t);
    bad[2] = '+';
    cr_assert_not(route_page_token_parse(bad, &a, &b));
    bad[2] = '/';
    cr_assert_not(route_page_token_parse(bad, &a, &b));
    /* another prefix or trailing text inside the token */
    char raw_tok[64];
    route_page_token(1, 2, raw_tok);
    cr_assert_str_eq(raw_tok, "YzEuMS4y", "base64url of \"c1.1.2\"");
    cr_assert_not(route_page_token_parse("YzIuMS4y", &a, &b), "c2.1.2");
    cr_assert_not(route_page_token_parse("YzEuMS4yeA", &a, &b), "c1.1.2x");
    cr_assert_not(route_page_token_parse("YzEuMQ", &a, &b), "c1.1");
    cr_assert_not(route_page_token_parse("YzEuMDEuMg", &a, &b), "c1.01.2 (not canonical)");
    snprintf(bad, sizeof bad, "%sA", t);
    cr_assert_not(route_page_token_parse(bad, &a, &b));
    snprintf(bad, sizeof bad, "%.*s", (int)strlen(t) - 1, t);
    cr_assert_not(route_page_token_parse(bad, &a, &b));
    cr_assert_not(route_page_token_parse("", &a, &b));
    cr_assert_not(route_page_token_parse("!!!!", &a, &b));
    char longt[100];
    memset(longt, 'A', 99);
    longt[99] = 0;
    cr_assert_not(route_page_token_parse(longt, &a, &b));
}

Test(page_token, rejects_inverted_or_negative_ranges)
{
    char t[64];
    int64_t a, b;
    route_page_token(10, 5, t);
    cr_assert_not(route_page_token_parse(t, &a, &b));
    route_page_token(-1, 5, t);
    cr_assert_not(route_page_token_parse(t, &a, &b));
    route_page_token(1, -5, t);
    cr_assert_not(route_page_token_parse(t, &a, &b));
}

/* ---- route_list_request ---- */

static model *M;
static arena A;
static outcome O;
static list_request L;

static void setup(void)
{
    char err[256] = "";
    M = model_load(MODEL_PATH, err, sizeof err);
    cr_assert_not_null(M, "model_load: %s", err);
    arena_init(&A, 0);
    memset(&O, 0, sizeof O);
}

static void teardown(void)
{
    outcome_free(&O);
    arena_free(&A);
    model_free(M);
    unit_leak_check();
}

TestSuite(list, .init = setup, .fini = teardown);

static bool list(const char *endpoint, list_kind kind, int n, ...)
{
    qparam ps[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        ps[i].name = va_arg(ap, const char *);
        ps[i].value = va_arg(ap, const char *);
    }
    va_end(ap);
    const mresource *r = model_find(M, "ed-fi", endpoint);
    cr_assert_not_null(r);
    outcome_free(&O);
    memset(&O, 0, sizeof O);
    return route_list_request(r, ps, n, kind, &A, &L, &O);
}

/* The outcome holds a parameter problem with exactly this one error. */
static void param_error(const char *msg)
{
    cr_assert_eq(O.status, 400);
    cr_assert_str_eq(O.type, T_PARAM);
    cr_assert_str_eq(O.title, "Parameter Validation Failed");
    cr_assert_str_eq(O.detail, "Parameters supplied to the request were invalid.");
    cr_assert_not_null(O.errors);
    cr_assert_eq(json_object_array_length(O.errors), 1);
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(O.errors, 0)), msg);
}

static void value_error(const char *key, const char *msg)
{
    cr_assert_eq(O.status, 400);
    cr_assert_str_eq(O.type, T_VALIDATION);
    cr_assert_not_null(O.validation);
    json_object *a = jsonx_get(O.validation, key);
    cr_assert_not_null(a, "no %s in %s", key, jsonx_text(O.validation));
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, 0)), msg);
}

#define LIMIT_MSG "Limit must be omitted or set to a numeric value between 0 and 500."
#define OFFSET_MSG "Offset must be a numeric value greater than or equal to 0."

Test(list, defaults)
{
    cr_assert(list("schools", LIST_DOCS, 0));
    cr_assert_eq(L.q.limit, 500);
    cr_assert_eq(L.q.offset, 0);
    cr_assert_eq(L.q.nfilters, 0);
    cr_assert_not(L.q.count);
    cr_assert_not(L.cursor);
    cr_assert_eq(L.q.after, 0);
    cr_assert_eq(L.q.upto, 0);
    cr_assert_eq(O.status, 0);
}

Test(list, limit_offset_total)
{
    cr_assert(list("schools", LIST_DOCS, 3, "limit", "25", "offset", "50", "totalCount", "true"));
    cr_assert_eq(L.q.limit, 25);
    cr_assert_eq(L.q.offset, 50);
    cr_assert(L.q.count);
    cr_assert(list("schools", LIST_DOCS, 3, "LiMiT", "0", "OFFSET", "0", "totalcount", "FALSE"));
    cr_assert_eq(L.q.limit, 0);
    cr_assert_not(L.q.count);
    cr_assert(list("schools", LIST_DOCS, 1, "limit", "500"));
    cr_assert_eq(L.q.limit, 500);
}

Test(list, bad_limits)
{
    const char *bad[] = {"501", "-1", "abc", "", "1.5", " 5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_not(list("schools", LIST_DOCS, 1, "limit", bad[i]), "limit=%s accepted", bad[i]);
        param_error(LIMIT_MSG);
    }
}

Test(list, bad_offsets)
{
    const char *bad[] = {"-1", "x", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_not(list("schools", LIST_DOCS, 1, "offset", bad[i]), "offset=%s accepted", bad[i]);
        param_error(OFFSET_MSG);
    }
}

Test(list, bad_total_count)
{
    cr_assert_not(list("schools", LIST_DOCS, 1, "totalCount", "yes"));
    param_error("TotalCount must be a boolean value.");
}

Test(list, unknown_field)
{
    cr_assert_not(list("schools", LIST_DOCS, 1, "foo", "1"));
    cr_assert_eq(O.status, 400);
    cr_assert_str_eq(O.type, "urn:ed-fi:api:bad-request");
    cr_assert_str_eq(O.title, "Bad Request");
    cr_assert_eq(json_object_array_length(O.errors), 1);
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(O.errors, 0)),
                     "The query field 'foo' is not valid for this resource.");
}

Test(list, number_filter)
{
    cr_assert(list("sessions", LIST_DOCS, 1, "SCHOOLID", "255901"));
    cr_assert_eq(L.q.nfilters, 1);
    cr_assert_str_eq(L.q.filters[0].json_path, "$.schoolReference.schoolId");
    cr_assert_eq(L.q.filters[0].kind, SF_NUMBER);
    cr_assert_float_eq(L.q.filters[0].number, 255901.0, 1e-9);
    cr_assert(list("sessions", LIST_DOCS, 1, "schoolId", "-2.5"));
    cr_assert_float_eq(L.q.filters[0].number, -2.5, 1e-12);
}

Test(list, number_filter_bad_value)
{
    cr_assert_not(list("sessions", LIST_DOCS, 1, "schoolId", "abc"));
    value_error("$.schoolId", "The value 'abc' is not valid for schoolId.");
    cr_assert_str_eq(O.title, "Data Validation Failed");
    cr_assert_not(list("sessions", LIST_DOCS, 1, "schoolId", ""));
    value_error("$.schoolId", "The value '' is not valid for schoolId.");
    cr_assert_not(list("sessions", LIST_DOCS, 1, "schoolId", " 5"));
    value_error("$.schoolId", "The value ' 5' is not valid for schoolId.");
}

/* BUG (src/api/route.c route_list_request, QT_NUMBER): the value is parsed
 * with strtod, which also accepts "nan", "inf" and hexadecimal "0x10";
 * the spec (§4.5) says a decimal parse. Expected: 400 with
 * "The value 'nan' is not valid for schoolId.". Disabled until fixed. */
Test(list, number_filter_rejects_non_decimal)
{
    const char *bad[] = {"nan", "inf", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_not(list("sessions", LIST_DOCS, 1, "schoolId", bad[i]), "schoolId=%s accepted", bad[i]);
        cr_assert_eq(O.status, 400);
    }
}

Test(list, boolean_filter)
{
    cr_assert(list("studentSchoolAssociations", LIST_DOCS, 1, "primarySchool", "TRUE"));
    cr_assert_eq(L.q.filters[0].kind, SF_BOOL);
    cr_assert(L.q.filters[0].boolean);
    cr_assert_str_eq(L.q.filters[0].json_path, "$.primarySchool");
    cr_assert(list("studentSchoolAssociations", LIST_DOCS, 1, "primarySchool", "false"));
    cr_assert_not(L.q.filters[0].boolean);
    cr_assert_not(list("studentSchoolAssociations", LIST_DOCS, 1, "primarySchool", "1"));
    value_error("$.primarySchool", "The value '1' is not valid for primarySchool.");
}

Test(list, date_filter)
{
    cr_assert(list("sessions", LIST_DOCS, 1, "beginDate", "2024-05-15T17:30:00.000000Z"));
    cr_assert_eq(L.q.filters[0].kind, SF_TEXT);
    cr_assert_str_eq(L.q.filters[0].text, "2024-05-15");
    cr_assert(list("sessions", LIST_DOCS, 1, "beginDate", "5/15/2024"));
    cr_assert_str_eq(L.q.filters[0].text, "2024-05-15");
    cr_assert_not(list("sessions", LIST_DOCS, 1, "beginDate", "word"));
    value_error("$.beginDate", "The value 'word' is not valid for beginDate.");
    cr_assert_not(list("sessions", LIST_DOCS, 1, "beginDate", "2023-02-29"));
    value_error("$.beginDate", "The value '2023-02-29' is not valid for beginDate.");
}

Test(list, string_descriptor_and_id_filters)
{
    cr_assert(list("sessions", LIST_DOCS, 3, "sessionName", "Fall ", "termDescriptor", "uri://ed-fi.org/TermDescriptor#Fall",
                   "id", "3AF6AD8512125833BE6FF8DF6F4D6402"));
    cr_assert_eq(L.q.nfilters, 3);
    cr_assert_eq(L.q.filters[0].kind, SF_TEXT);
    cr_assert_str_eq(L.q.filters[0].text, "Fall ");
    cr_assert_str_eq(L.q.filters[0].json_path, "$.sessionName");
    cr_assert_eq(L.q.filters[1].kind, SF_TEXT_NOCASE);
    cr_assert_str_eq(L.q.filters[1].text, "uri://ed-fi.org/TermDescriptor#Fall");
    cr_assert_eq(L.q.filters[2].kind, SF_ID);
    cr_assert_str_eq(L.q.filters[2].text, "3af6ad85-1212-5833-be6f-f8df6f4d6402");
    cr_assert_not(list("sessions", LIST_DOCS, 1, "id", "ffc0a272"));
    value_error("$.id", "The value 'ffc0a272' is not valid for id.");
}

Test(list, several_bad_values_all_reported)
{
    cr_assert_not(list("sessions", LIST_DOCS, 2, "schoolId", "x", "beginDate", "y"));
    cr_assert_eq(json_object_object_length(O.validation), 2);
    value_error("$.schoolId", "The value 'x' is not valid for schoolId.");
    value_error("$.beginDate", "The value 'y' is not valid for beginDate.");
}

Test(list, cursor_paging)
{
    char tok[64];
    route_page_token(100, 600, tok);
    cr_assert(list("schools", LIST_DOCS, 2, "pageToken", tok, "pageSize", "50"));
    cr_assert(L.cursor);
    cr_assert_eq(L.q.after, 100);
    cr_assert_eq(L.q.upto, 600);
    cr_assert_eq(L.q.limit, 50);
    cr_assert(list("schools", LIST_DOCS, 1, "pageSize", "500"));
    cr_assert(L.cursor);
    cr_assert_eq(L.q.after, 0);
    cr_assert_not(list("schools", LIST_DOCS, 1, "pageSize", "0"));
    param_error("PageSize must be a numeric value between 1 and 500.");
}

Test(list, offset_with_page_token)
{
    char tok[64];
    route_page_token(0, 0, tok);
    cr_assert_not(list("schools", LIST_DOCS, 2, "offset", "5", "pageToken", tok));
    param_error("Both offset and pageToken parameters were provided, but they support alternative paging approaches "
                "and cannot be used together.");
}

Test(list, limit_with_cursor_and_total_with_cursor)
{
    cr_assert_not(list("schools", LIST_DOCS, 2, "limit", "5", "pageSize", "5"));
    param_error("Both limit and pageSize/pageToken parameters were provided, but they support alternative paging "
                "approaches and cannot be used together.");
    cr_assert_not(list("schools", LIST_DOCS, 2, "totalCount", "true", "pageSize", "5"));
    param_error("The totalCount parameter is not supported with cursor paging (pageToken/pageSize).");
}

Test(list, bad_page_token)
{
    cr_assert_not(list("schools", LIST_DOCS, 1, "pageToken", "garbage"));
    param_error("The pageToken is not valid. Use a token from a Next-Page-Token header or from the partitions endpoint.");
}

Test(list, partitions_number)
{
    cr_assert(list("schools", LIST_PARTITIONS, 1, "number", "4"));
    cr_assert_eq(L.partitions, 4);
    cr_assert_not(list("schools", LIST_PARTITIONS, 1, "number", "0"));
    param_error("Number must be a numeric value between 1 and 200.");
    cr_assert_not(list("schools", LIST_PARTITIONS, 1, "number", "201"));
    param_error("Number must be a numeric value between 1 and 200.");
    /* filters are not accepted on the partitions route; number is not a
     * parameter of ordinary collections */
    cr_assert_not(list("schools", LIST_PARTITIONS, 1, "schoolId", "1"));
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(O.errors, 0)),
                     "The query field 'schoolId' is not valid for this resource.");
    cr_assert_not(list("schools", LIST_DOCS, 1, "number", "4"));
    cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(O.errors, 0)),
                     "The query field 'number' is not valid for this resource.");
}

Test(list, change_versions)
{
    cr_assert(list("schools", LIST_DOCS, 2, "minChangeVersion", "5", "maxChangeVersion", "9"));
    cr_assert_eq(L.q.min_cv, 5);
    cr_assert_eq(L.q.max_cv, 9);
    cr_assert_not(list("schools", LIST_DOCS, 1, "minChangeVersion", "-1"));
    param_error("minChangeVersion must be a numeric value greater than or equal to 0.");
}

Test(list, change_queries_take_paging_and_the_window_only)
{
    cr_assert(list("studentSchoolAssociations", LIST_CHANGES, 5, "minChangeVersion", "3", "maxChangeVersion", "8",
                   "offset", "2", "limit", "10", "totalCount", "true"));
    cr_assert_eq(L.q.min_cv, 3);
    cr_assert_eq(L.q.max_cv, 8);
    cr_assert_eq(L.q.offset, 2);
    cr_assert_eq(L.q.limit, 10);
    cr_assert(L.q.count);
    cr_assert(list("studentSchoolAssociations", LIST_CHANGES, 0));
    cr_assert_eq(L.q.limit, PAGE_MAX, "the same default page as collections");
    cr_assert_not(list("studentSchoolAssociations", LIST_CHANGES, 1, "limit", "501"));
    param_error("Limit must be omitted or set to a numeric value between 0 and 500.");
    cr_assert_not(list("studentSchoolAssociations", LIST_CHANGES, 1, "maxChangeVersion", "x"));
    param_error("maxChangeVersion must be a numeric value greater than or equal to 0.");
    /* neither query fields nor cursor paging */
    const char *names[] = {"schoolId", "pageSize", "pageToken"};
    for (int i = 0; i < 3; i++) {
        cr_assert_not(list("studentSchoolAssociations", LIST_CHANGES, 1, names[i], "1"));
        char msg[96];
        snprintf(msg, sizeof msg, "The query field '%s' is not valid for this resource.", names[i]);
        cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(O.errors, 0)), msg);
    }
}
