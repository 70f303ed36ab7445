/* Unit tests for the JSONC reader (config/jsonc.c; spec config.md CFG-1, CFG-2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/internal.h"

/* Parses an exact-length copy (no NUL after it, so ASan sees over-reads). */
static cfg_value *parse(const char *doc, size_t n, err *e)
{
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, doc, n);
    cfg_value *v = jsonc_parse("w.jsonc", copy, n, e);
    free(copy);
    return v;
}

static cfg_value *ok(const char *doc)
{
    err e = {0};
    cfg_value *v = parse(doc, strlen(doc), &e);
    if (!v)
        fail_msg("unexpected error for <<%s>>: %s", doc, e.msg);
    return v;
}

static void bad(const char *doc, const char *want)
{
    err e = {0};
    cfg_value *v = parse(doc, strlen(doc), &e);
    if (v) {
        cfg_value_free(v);
        fail_msg("expected an error containing '%s' for <<%s>>", want, doc);
    }
    if (!strstr(e.msg, want))
        fail_msg("error '%s' does not contain '%s'", e.msg, want);
}

static void test_values(void **state)
{
    cfg_value *v = ok("{\n"
                      "  // a comment\n"
                      "  \"s\": \"hi\",\n"
                      "  /* block\n comment */ \"i\": -12,\n"
                      "  \"f\": 1.5e3,\n"
                      "  \"big\": 18446744073709551616,\n"
                      "  \"t\": true, \"fa\": false, \"n\": null,\n"
                      "  \"a\": [1, [2], {\"x\": []},],\n"
                      "  \"o\": {},\n"
                      "}\n");
    assert_string_equal(cfg_table_get(v, "s")->str, "hi");
    assert_int_equal(cfg_table_get(v, "s")->line, 3);
    assert_int_equal(cfg_table_get(v, "i")->type, CFG_INT);
    assert_int_equal(cfg_table_get(v, "i")->i, -12);
    assert_int_equal(cfg_table_get(v, "i")->line, 5);
    assert_int_equal(cfg_table_get(v, "f")->type, CFG_FLOAT);
    assert_true(cfg_table_get(v, "f")->f == 1500.0);
    assert_int_equal(cfg_table_get(v, "big")->type, CFG_FLOAT);
    assert_true(cfg_table_get(v, "t")->b);
    assert_int_equal(cfg_table_get(v, "fa")->type, CFG_BOOL);
    assert_int_equal(cfg_table_get(v, "n")->type, CFG_NULL);
    assert_int_equal(cfg_table_get(v, "a")->count, 3);
    assert_int_equal(cfg_table_get(v, "o")->type, CFG_TABLE);
    cfg_value_free(v);
}

static void test_strings(void **state)
{
    cfg_value *v = ok("{\"e\": \"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"u\": \"\\u00e9\\ud83d\\ude00\","
                      " \"z\": \"a\\u0000b\", \"raw\": \"h\xc3\xa9\"}");
    assert_string_equal(cfg_table_get(v, "e")->str, "\"\\/\b\f\n\r\t");
    assert_string_equal(cfg_table_get(v, "u")->str, "\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(cfg_table_get(v, "z")->str_len, 3);
    assert_string_equal(cfg_table_get(v, "raw")->str, "h\xc3\xa9");
    cfg_value_free(v);
}

static void test_duplicate_keys_last_wins(void **state)
{
    cfg_value *v = ok("{\"a\": 1, \"b\": 2, \"a\": {\"x\": 3}}");
    assert_int_equal(v->count, 2);
    assert_string_equal(v->keys[0], "a"); /* first position, last value */
    assert_int_equal(v->items[0]->type, CFG_TABLE);
    cfg_value_free(v);
}

static void test_errors(void **state)
{
    bad("", "w.jsonc:1: empty document");
    bad("// only\n", "w.jsonc:2: empty document");
    bad("{\"a\": 1", "w.jsonc:1: expected ',' or '}' in an object, found end of file");
    bad("{\n\"a\": 01}", "w.jsonc:2: key 'a': invalid number: leading zeros");
    bad("{\"a\": -}", "a digit must follow '-'");
    bad("{\"a\": 1.}", "a digit must follow '.'");
    bad("{\"a\": 1e}", "exponent");
    bad("{\"a\": 1e999}", "out of range");
    bad("{\"a\": +1}", "expected a value, found '+'");
    bad("{\"a\": .5}", "expected a value");
    bad("{\"a\": tru}", "expected a value");
    bad("{\"a\": truex}", "expected a value");
    bad("{\"a\": \"x}", "unterminated string");
    bad("{\"a\": \"x\ny\"}", "unterminated string");
    bad("{\"a\": \"\\q\"}", "invalid escape sequence '\\q'");
    bad("{\"a\": \"\\u12\"}", "4 hex digits");
    bad("{\"a\": \"\\ud83d\"}", "high surrogate");
    bad("{\"a\": \"\\ud83d\\u0041\"}", "high surrogate");
    bad("{\"a\": \"\\ude00\"}", "lone low surrogate");
    bad("{\"a\": \"\x01\"}", "control character U+0001");
    bad("{a: 1}", "expected a property name in double quotes");
    bad("{'a': 1}", "expected a property name");
    bad("{\"a\" 1}", "expected ':' after property \"a\"");
    bad("{\"a\": 1,,}", "expected a property name");
    bad("[1 2]", "w.jsonc:1: expected ',' or ']' in an array, found '2'");
    bad("{\"a\": [1,,2]}", "key 'a[1]': expected a value, found ','");
    bad("{} {}", "unexpected '{' after the end of the document");
    bad("{} /* open", "unterminated /* comment");
    bad("{\"a\": \"\xc3\"}", "invalid UTF-8");
    bad("{\"a\\u0000\": 1}", "U+0000");
    bad("{\n \"d\": {\"bindings\": [{\"name\": \"A\"}, {\"class_name\": x}]}}",
        "w.jsonc:2: key 'd.bindings[1].class_name': expected a value, found 'x'");
}

static void test_depth_limit(void **state)
{
    char doc[512];
    for (int depth = CFG_DEPTH_MAX; depth <= CFG_DEPTH_MAX + 2; depth++) {
        /* The root is depth 0, so depth+1 nested arrays reach `depth`. */
        size_t n = 0;
        for (int i = 0; i <= depth; i++)
            doc[n++] = '[';
        for (int i = 0; i <= depth; i++)
            doc[n++] = ']';
        doc[n] = '\0';
        if (depth <= CFG_DEPTH_MAX)
            cfg_value_free(ok(doc));
        else
            bad(doc, "nesting deeper than 64 levels");
    }
    /* Far deeper than the limit: refused without exhausting the stack. */
    size_t n = 100000;
    char *deep = malloc(n);
    assert_non_null(deep);
    memset(deep, '[', n);
    err e = {0};
    assert_null(parse(deep, n, &e));
    assert_non_null(strstr(e.msg, "nesting deeper"));
    free(deep);
}

static void test_every_prefix(void **state)
{
    const char *doc = "{ // c\n \"name\": \"w\", /* b */ \"a\": [1, -2.5e-3, true, null, "
                      "{\"u\": \"\\ud83d\\ude00\\n\"}],\n}";
    size_t n = strlen(doc);
    for (size_t cut = 0; cut <= n; cut++) {
        err e = {0};
        cfg_value *v = parse(doc, cut, &e);
        if (cut == n)
            assert_non_null(v);
        else if (!v)
            assert_true(strncmp(e.msg, "w.jsonc:", 8) == 0);
        cfg_value_free(v);
    }
}

static void test_to_json_roundtrip(void **state)
{
    cfg_value *v = ok("{\"a\": [1, 2.5, \"\\u0001\\\"\"], \"b\": {\"c\": null}, \"d\": false}");
    char *json = cfg_value_to_json(v);
    assert_string_equal(json, "{\"a\":[1,2.5,\"\\u0001\\\"\"],\"b\":{\"c\":null},\"d\":false}");
    cfg_value *again = ok(json);
    char *json2 = cfg_value_to_json(again);
    assert_string_equal(json, json2);
    free(json);
    free(json2);
    cfg_value_free(again);
    cfg_value_free(v);
}

static void test_fixture(void **state)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/config/wrangler.jsonc", TEST_SOURCE_DIR);
    char *text;
    size_t len;
    err e = {0};
    assert_int_equal(cfg__read_file(path, CFG_FILE_BYTES_MAX, &text, &len, &e), 0);
    cfg_value *v = jsonc_parse("wrangler.jsonc", text, len, &e);
    free(text);
    if (!v)
        fail_msg("%s", e.msg);
    const cfg_value *vars = cfg_table_get(v, "vars");
    assert_string_equal(cfg_table_get(vars, "GREETING")->str, "h\xc3\xa9llo \xf0\x9f\x98\x80");
    assert_int_equal(cfg_table_get(v, "migrations")->count, 1);
    assert_int_equal(cfg_table_get(v, "migrations")->line, 13);
    cfg_value_free(v);
    /* Reading a missing file and a too-big limit are errors with the path. */
    assert_int_equal(cfg__read_file("/nonexistent/x.json", 10, &text, &len, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "/nonexistent/x.json: cannot open"));
    assert_int_equal(cfg__read_file(path, 10, &text, &len, &e), DUR_ETOOBIG);
    assert_non_null(strstr(e.msg, "more than the 10 allowed"));
}

static void test_many_keys(void **state)
{
    enum { N = 200000 };
    char *doc = malloc((size_t)N * 20 + 64);
    assert_non_null(doc);
    size_t n = (size_t)snprintf(doc, (size_t)N * 20 + 64, "{");
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(doc + n, (size_t)N * 20 + 64 - n, "\"k%d\": %d,", i, i);
    n += (size_t)snprintf(doc + n, (size_t)N * 20 + 64 - n, "\"k5\": -1}");
    err e = {0};
    cfg_value *v = jsonc_parse("w.json", doc, n, &e);
    assert_non_null(v);
    assert_int_equal(v->count, N);
    assert_int_equal(cfg_table_get(v, "k5")->i, -1);
    assert_string_equal(v->keys[5], "k5");
    assert_int_equal(cfg_table_get(v, "k199999")->i, 199999);
    cfg_value_free(v);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_duplicate_keys_last_wins),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_to_json_roundtrip),
        cmocka_unit_test(test_fixture),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
