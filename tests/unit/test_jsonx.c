/* Unit tests for src/base/jsonx.c: the strict parser for request bodies
 * (UTF-8, trailing bytes, depth, duplicate keys) and the small accessors. */
#include "base/jsonx.h"
#include <criterion/criterion.h>
#include <string.h>
#include "leak.h"

TestSuite(jsonx_parse, .fini = unit_leak_check);
TestSuite(jsonx_text, .fini = unit_leak_check);
TestSuite(jsonx_access, .fini = unit_leak_check);
TestSuite(jsonx_parse_file, .fini = unit_leak_check);

static json_object *parse(const char *text, char *err, char *dup)
{
    return jsonx_parse(text, strlen(text), err, 256, dup, 256);
}

/* Asserts rejection; returns nothing, fills err/dup for further checks. */
static void reject(const char *text, char err[256], char dup[256])
{
    json_object *o = parse(text, err, dup);
    cr_assert_null(o, "accepted: %s", text);
    cr_assert_neq(err[0], 0, "no error text for: %s", text);
}

Test(jsonx_parse, accepts_valid_object)
{
    char err[256] = "", dup[256] = "x";
    json_object *o = parse("{\"a\":1,\"b\":[true,null,\"s\"],\"c\":{\"d\":2.5}}", err, dup);
    cr_assert_not_null(o, "%s", err);
    cr_assert_str_eq(dup, "", "dup_path must be cleared on success");
    cr_assert_eq(json_object_get_int(jsonx_get(o, "a")), 1);
    cr_assert_eq(json_object_array_length(jsonx_get(o, "b")), 3);
    json_object_put(o);
}

Test(jsonx_parse, accepts_surrounding_whitespace)
{
    char err[256], dup[256];
    json_object *o = parse(" \n\t{\"a\":1}\r\n  ", err, dup);
    cr_assert_not_null(o, "%s", err);
    json_object_put(o);
}

Test(jsonx_parse, accepts_same_key_in_sibling_objects)
{
    char err[256], dup[256];
    json_object *o = parse("{\"a\":{\"k\":1},\"b\":{\"k\":2},\"c\":[{\"k\":1},{\"k\":2}]}", err, dup);
    cr_assert_not_null(o, "%s", err);
    json_object_put(o);
}

Test(jsonx_parse, duplicate_top_level_key)
{
    char err[256], dup[256];
    reject("{\"a\":1,\"a\":2}", err, dup);
    cr_assert_str_eq(dup, "$.a");
    cr_assert_str_eq(err, "An item with the same key has already been added.");
}

Test(jsonx_parse, duplicate_nested_key_path)
{
    char err[256], dup[256];
    reject("{\"a\":{\"b\":1,\"b\":2}}", err, dup);
    cr_assert_str_eq(dup, "$.a.b");
}

Test(jsonx_parse, duplicate_key_after_sibling_values)
{
    char err[256], dup[256];
    reject("{\"x\":\"v\",\"y\":[1,2],\"a\":{\"z\":{\"q\":1},\"b\":1,\"b\":2}}", err, dup);
    cr_assert_str_eq(dup, "$.a.b");
}

Test(jsonx_parse, duplicate_key_in_array_item)
{
    char err[256], dup[256];
    reject("{\"items\":[{\"k\":1,\"k\":2}]}", err, dup);
    cr_assert_str_eq(dup, "$.items.k");
}

Test(jsonx_parse, duplicate_key_with_brace_in_string)
{
    /* braces and quotes inside strings must not confuse the scanner */
    char err[256], dup[256];
    reject("{\"s\":\"}{\\\"a\\\":\",\"a\":1,\"a\":2}", err, dup);
    cr_assert_str_eq(dup, "$.a");
}

/* BUG (src/base/jsonx.c find_dup): the pending key is not cleared after a
 * scalar value, so an object opened inside an array after {"a":1} inherits
 * "a" as its key: {"arr":[{"a":1},{"b":1,"b":2}]} reports "$.arr.a.b".
 * Expected "$.arr.b" (the scanner's own index-free convention, as for the
 * first item). Disabled until fixed. */
Test(jsonx_parse, duplicate_key_path_in_second_array_item)
{
    char err[256], dup[256];
    reject("{\"arr\":[{\"a\":1},{\"b\":1,\"b\":2}]}", err, dup);
    cr_assert_str_eq(dup, "$.arr.b");
}

/* BUG (src/base/jsonx.c find_dup): keys are compared as raw bytes, so a key
 * written with an escape ("\u0061" == "a") is not seen as a duplicate and
 * json-c silently keeps the last value. Expected: rejected with "$.a".
 * Disabled until fixed. */
Test(jsonx_parse, duplicate_key_with_escaped_spelling)
{
    char err[256], dup[256];
    reject("{\"a\":1,\"\\u0061\":2}", err, dup);
    cr_assert_str_eq(dup, "$.a");
}

Test(jsonx_parse, rejects_invalid_utf8)
{
    char err[256], dup[256];
    reject("{\"a\":\"\xff\xfe\"}", err, dup);
    reject("{\"a\":\"\xc3\"}", err, dup);          /* truncated sequence */
    reject("\xef\xbb\xbf{}", err, dup);              /* byte order mark */
}

Test(jsonx_parse, rejects_non_shortest_and_surrogate_utf8)
{
    /* overlongs, encoded surrogates and code points past U+10FFFF */
    char err[256], dup[256];
    reject("{\"a\":\"\xc0\xaf\"}", err, dup);          /* overlong '/' */
    reject("{\"a\":\"\xed\xa0\x80\"}", err, dup);      /* U+D800 */
    reject("{\"a\":\"\xf4\x90\x80\x80\"}", err, dup);  /* U+110000 */
    cr_assert(strstr(err, "not valid UTF-8") != NULL, "%s", err);
}

Test(jsonx_parse, rejects_raw_control_characters_and_nul)
{
    char err[256], dup[256];
    reject("{\"a\":\"x\ty\"}", err, dup);
    cr_assert(strstr(err, "control character") != NULL, "%s", err);
    reject("{\"a\":\"x\ny\"}", err, dup);
    const char with_nul[] = "{\"a\":1}\0";
    cr_assert_null(jsonx_parse(with_nul, sizeof with_nul - 1, err, sizeof err, dup, sizeof dup));
    /* escaped control characters are fine */
    json_object *o = parse("{\"a\":\"x\\ty\\u0001\"}", err, dup);
    cr_assert_not_null(o, "%s", err);
    cr_assert_str_eq(jsonx_str(o, "a"), "x\ty\x01");
    json_object_put(o);
}

Test(jsonx_parse, accepts_valid_utf8)
{
    char err[256], dup[256];
    json_object *o = parse("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}", err, dup);
    cr_assert_not_null(o, "%s", err);
    cr_assert_str_eq(jsonx_str(o, "a"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    json_object_put(o);
}

Test(jsonx_parse, rejects_trailing_garbage)
{
    char err[256], dup[256];
    reject("{\"a\":1} x", err, dup);
    reject("{\"a\":1}{}", err, dup);
    reject("1 2", err, dup);
}

Test(jsonx_parse, rejects_truncated_and_malformed)
{
    char err[256], dup[256];
    reject("{\"a\":1", err, dup);
    cr_assert_str_eq(err, "The JSON text ended unexpectedly.");
    reject("{\"a\":1,}", err, dup);
    reject("[1,]", err, dup);
    reject("{a:1}", err, dup);
    reject("{\"a\":01}", err, dup);
    reject("{\"a\":.5}", err, dup);
    reject("{\"a\":tru}", err, dup);
    reject("{\"a\":\"\\x41\"}", err, dup);
    reject("/*c*/{}", err, dup);
    reject("", err, dup);
}

/* BUG (src/base/jsonx.c jsonx_parse): json-c 0.16 in JSON_TOKENER_STRICT
 * mode still accepts several non-JSON forms: single-quoted strings,
 * NaN/Infinity and a number ending in '.'. A NaN in a number field survives doc_normalize and is stored and
 * served as the invalid JSON token NaN. Expected: all rejected (RFC 8259).
 * Disabled until fixed. */
Test(jsonx_parse, rejects_json_c_leniencies)
{
    char err[256], dup[256];
    reject("{'a':1}", err, dup);
    reject("{\"a\":NaN}", err, dup);
    reject("{\"a\":Infinity}", err, dup);
    reject("{\"a\":1.}", err, dup);
}

static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    for (int i = 0; i < depth; i++) s[i] = '[';
    for (int i = 0; i < depth; i++) s[depth + i] = ']';
    s[2 * depth] = 0;
    return s;
}

Test(jsonx_parse, depth_limit)
{
    char err[256], dup[256];
    char *ok = nested(JSONX_MAX_DEPTH);
    json_object *o = parse(ok, err, dup);
    cr_assert_not_null(o, "depth %d rejected: %s", JSONX_MAX_DEPTH, err);
    json_object_put(o);
    free(ok);
    char *deep = nested(JSONX_MAX_DEPTH + 1);
    o = parse(deep, err, dup);
    cr_assert_null(o, "depth %d accepted", JSONX_MAX_DEPTH + 1);
    cr_assert(strstr(err, "nesting too deep") != NULL, "%s", err);
    free(deep);
    char *very = nested(1000);
    o = parse(very, err, dup);
    cr_assert_null(o);
    free(very);
}

Test(jsonx_parse, length_bounds_text)
{
    /* Only len bytes are parsed: the rest of the buffer is ignored. */
    char err[256], dup[256];
    const char *text = "{\"a\":1}GARBAGE";
    json_object *o = jsonx_parse(text, 7, err, sizeof err, dup, sizeof dup);
    cr_assert_not_null(o, "%s", err);
    json_object_put(o);
}

Test(jsonx_parse, null_dup_path_allowed)
{
    char err[256];
    const char *text = "{\"a\":1,\"a\":2}";
    cr_assert_null(jsonx_parse(text, strlen(text), err, sizeof err, NULL, 0));
    cr_assert_str_eq(err, "An item with the same key has already been added.");
}

Test(jsonx_text, keeps_number_text_on_round_trip)
{
    char err[256], dup[256];
    json_object *o = parse("{\"a\":3.50,\"b\":1e2,\"c\":-0.0,\"u\":\"a/b\"}", err, dup);
    cr_assert_not_null(o, "%s", err);
    cr_assert_str_eq(jsonx_text(o), "{\"a\":3.50,\"b\":1e2,\"c\":-0.0,\"u\":\"a/b\"}");
    json_object_put(o);
}

Test(jsonx_access, typed_getters)
{
    char err[256], dup[256];
    json_object *o = parse("{\"s\":\"x\",\"n\":1,\"t\":true,\"f\":false,\"z\":null}", err, dup);
    cr_assert_not_null(o);
    cr_assert_str_eq(jsonx_str(o, "s"), "x");
    cr_assert_null(jsonx_str(o, "n"));
    cr_assert_null(jsonx_str(o, "missing"));
    cr_assert(jsonx_bool(o, "t"));
    cr_assert_not(jsonx_bool(o, "f"));
    cr_assert_not(jsonx_bool(o, "s"));
    cr_assert_not(jsonx_bool(o, "missing"));
    cr_assert_not_null(jsonx_get(o, "n"));
    cr_assert_null(jsonx_get(o, "z"));
    cr_assert_null(jsonx_get(NULL, "s"));
    cr_assert_null(jsonx_get(jsonx_get(o, "n"), "s"));
    json_object_put(o);
}

Test(jsonx_parse_file, missing_file)
{
    char err[256] = "";
    cr_assert_null(jsonx_parse_file("/nonexistent/edhub-test.json", err, sizeof err));
    cr_assert(strstr(err, "cannot open") != NULL, "%s", err);
}
