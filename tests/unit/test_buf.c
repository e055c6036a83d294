/* Unit tests for src/base/buf.c: growth, the sticky maximum, and JSON
 * string escaping. */
#include "base/buf.h"
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include "leak.h"

TestSuite(buf, .fini = unit_leak_check);

Test(buf, append_and_take)
{
    buf b;
    buf_init(&b, 0);
    cr_assert(buf_puts(&b, "abc"));
    cr_assert(buf_putc(&b, '-'));
    cr_assert(buf_printf(&b, "%d/%s", 42, "x"));
    cr_assert(buf_append(&b, "zz\0yy", 5));
    cr_assert_eq(b.len, 13);
    cr_assert_eq(memcmp(b.data, "abc-42/xzz\0yy", 13), 0);
    cr_assert_eq(b.data[b.len], 0, "always NUL-terminated");
    char *s = buf_take(&b);
    cr_assert_str_eq(s, "abc-42/xzz");
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    free(s);
}

Test(buf, take_empty_gives_empty_string)
{
    buf b;
    buf_init(&b, 0);
    char *s = buf_take(&b);
    cr_assert_str_eq(s, "");
    free(s);
}

Test(buf, grows_past_initial_capacity)
{
    buf b;
    buf_init(&b, 0);
    for (int i = 0; i < 10000; i++) cr_assert(buf_putc(&b, (char)('a' + i % 26)));
    cr_assert_eq(b.len, 10000);
    cr_assert_eq(b.data[9999], 'a' + 9999 % 26);
    cr_assert_eq(b.data[10000], 0);
    buf_free(&b);
}

Test(buf, max_exact_fit_then_sticky_failure)
{
    buf b;
    buf_init(&b, 8);
    cr_assert(buf_puts(&b, "12345678"), "exactly max bytes fit");
    cr_assert_not(buf_failed(&b));
    cr_assert_not(buf_putc(&b, '9'));
    cr_assert(buf_failed(&b));
    /* sticky: later appends fail even when tiny, content is unchanged */
    cr_assert_not(buf_append(&b, "", 0));
    cr_assert_not(buf_printf(&b, "%s", ""));
    cr_assert_not(buf_json_str(&b, ""));
    cr_assert(buf_failed(&b));
    cr_assert_str_eq(b.data, "12345678");
    cr_assert_eq(b.len, 8);
    /* reset clears the failure and keeps the limit */
    buf_reset(&b);
    cr_assert_not(buf_failed(&b));
    cr_assert_eq(b.len, 0);
    cr_assert(buf_puts(&b, "abc"));
    cr_assert_not(buf_puts(&b, "123456"));
    cr_assert(buf_failed(&b));
    buf_free(&b);
}

Test(buf, printf_over_max_fails)
{
    buf b;
    buf_init(&b, 5);
    cr_assert_not(buf_printf(&b, "%d", 123456));
    cr_assert(buf_failed(&b));
    cr_assert_eq(b.len, 0);
    buf_free(&b);
}

Test(buf, json_string_escapes_quotes_and_backslash)
{
    buf b;
    buf_init(&b, 0);
    cr_assert(buf_json_str(&b, "say \"hi\" \\ /"));
    cr_assert_str_eq(b.data, "\"say \\\"hi\\\" \\\\ /\"");
    buf_free(&b);
}

Test(buf, json_string_escapes_control_characters)
{
    buf b;
    buf_init(&b, 0);
    cr_assert(buf_json_str(&b, "a\nb\rc\td\x01" "e\x1f" "f\x7f"));
    cr_assert_str_eq(b.data, "\"a\\nb\\rc\\td\\u0001e\\u001ff\x7f\"");
    buf_free(&b);
}

Test(buf, json_strn_embedded_nul_and_utf8)
{
    buf b;
    buf_init(&b, 0);
    cr_assert(buf_json_strn(&b, "a\0b", 3));
    cr_assert_str_eq(b.data, "\"a\\u0000b\"");
    buf_reset(&b);
    cr_assert(buf_json_str(&b, "caf\xc3\xa9"));
    cr_assert_str_eq(b.data, "\"caf\xc3\xa9\"", "UTF-8 passes through unescaped");
    buf_reset(&b);
    cr_assert(buf_json_str(&b, ""));
    cr_assert_str_eq(b.data, "\"\"");
    buf_free(&b);
}

Test(buf, json_string_over_max_fails)
{
    buf b;
    buf_init(&b, 6);
    cr_assert(buf_json_str(&b, "a\"b"), "\"a\\\"b\" is exactly 6 bytes");
    cr_assert_str_eq(b.data, "\"a\\\"b\"");
    buf_reset(&b);
    cr_assert_not(buf_json_str(&b, "a\"bc"));
    cr_assert(buf_failed(&b));
    buf_free(&b);
}
