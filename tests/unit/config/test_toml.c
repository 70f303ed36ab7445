/* Unit tests for the TOML 1.0 reader (config/toml.c; spec config.md CFG-2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/internal.h"

static cfg_value *ok(const char *doc)
{
    err e = {0};
    /* Hand the reader an exact-length copy with no NUL after it, so that ASan catches
     * any read past len. */
    size_t n = strlen(doc);
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, doc, n);
    cfg_value *v = toml_parse("t.toml", copy, n, &e);
    free(copy);
    if (!v)
        fail_msg("unexpected error for <<%s>>: %s", doc, e.msg);
    return v;
}

/* Expects an error whose message contains `want`. */
static void bad(const char *doc, const char *want)
{
    err e = {0};
    size_t n = strlen(doc);
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, doc, n);
    cfg_value *v = toml_parse("t.toml", copy, n, &e);
    free(copy);
    if (v) {
        cfg_value_free(v);
        fail_msg("expected an error containing '%s' for <<%s>>", want, doc);
    }
    if (!strstr(e.msg, want))
        fail_msg("error '%s' does not contain '%s' (doc <<%s>>)", e.msg, want, doc);
    assert_int_equal(e.code, DUR_EPARSE);
}

/* Walks "a.b.c" through tables. */
static const cfg_value *at(const cfg_value *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, "."))
        v = cfg_table_get(v, tok);
    return v;
}

static void test_scalars(void **state)
{
    cfg_value *v = ok("# comment\n"
                      "s = \"hi\" # trailing\n"
                      "l = 'C:\\path'\n"
                      "i = -42\n"
                      "h = 0xDEAD_beef\n"
                      "o = 0o755\n"
                      "b = 0b1101\n"
                      "big = 9_223_372_036_854_775_807\n"
                      "neg = -9223372036854775808\n"
                      "f = 6.626e-34\n"
                      "f2 = -1_000.5E+2\n"
                      "pinf = +inf\nninf = -inf\nn = nan\n"
                      "t = true\nfa = false\n"
                      "z = +0\n");
    assert_int_equal(v->type, CFG_TABLE);
    assert_string_equal(at(v, "s")->str, "hi");
    assert_int_equal(at(v, "s")->line, 2);
    assert_string_equal(at(v, "l")->str, "C:\\path");
    assert_int_equal(at(v, "i")->i, -42);
    assert_int_equal(at(v, "h")->i, 0xDEADBEEF);
    assert_int_equal(at(v, "o")->i, 0755);
    assert_int_equal(at(v, "b")->i, 13);
    assert_true(at(v, "big")->i == 9223372036854775807LL);
    assert_true(at(v, "neg")->i == (-9223372036854775807LL - 1));
    assert_int_equal(at(v, "f")->type, CFG_FLOAT);
    assert_true(fabs(at(v, "f")->f - 6.626e-34) < 1e-40);
    assert_true(at(v, "f2")->f == -100050.0);
    assert_true(isinf(at(v, "pinf")->f) && at(v, "pinf")->f > 0);
    assert_true(isinf(at(v, "ninf")->f) && at(v, "ninf")->f < 0);
    assert_true(isnan(at(v, "n")->f));
    assert_int_equal(at(v, "t")->type, CFG_BOOL);
    assert_true(at(v, "t")->b);
    assert_false(at(v, "fa")->b);
    assert_int_equal(at(v, "z")->i, 0);
    assert_int_equal(at(v, "pinf")->line, 12);
    cfg_value_free(v);
}

static void test_strings_and_escapes(void **state)
{
    cfg_value *v = ok("a = \"tab\\tq\\\"bs\\\\nl\\n\\b\\f\\r\"\n"
                      "u = \"\\u00e9\\U0001F600\"\n"
                      "nul = \"x\\u0000y\"\n"
                      "ml = \"\"\"\nline1\nline2\"\"\"\n"
                      "cont = \"\"\"\\\n   The quick \\\n\n   brown\"\"\"\n"
                      "q = \"\"\"two \"\" quotes\"\"\"\n"
                      "q5 = \"\"\"x\"\"\"\"\"\n"
                      "lit = '''\nraw \\n 'q' ''\n'''\n"
                      "crlf = \"\"\"a\r\nb\"\"\"\n"
                      "empty = \"\"\nempty2 = ''\n"
                      "utf = \"h\xc3\xa9llo\"\n");
    assert_string_equal(at(v, "a")->str, "tab\tq\"bs\\nl\n\b\f\r");
    assert_string_equal(at(v, "u")->str, "\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(at(v, "nul")->str_len, 3);
    assert_memory_equal(at(v, "nul")->str, "x\0y", 3);
    assert_string_equal(at(v, "ml")->str, "line1\nline2");
    assert_string_equal(at(v, "cont")->str, "The quick brown");
    assert_string_equal(at(v, "q")->str, "two \"\" quotes");
    assert_string_equal(at(v, "q5")->str, "x\"\"");
    assert_string_equal(at(v, "lit")->str, "raw \\n 'q' ''\n");
    assert_string_equal(at(v, "crlf")->str, "a\nb");
    assert_string_equal(at(v, "empty")->str, "");
    assert_string_equal(at(v, "empty2")->str, "");
    assert_string_equal(at(v, "utf")->str, "h\xc3\xa9llo");
    /* Lines keep counting through multi-line strings. */
    assert_int_equal(at(v, "q")->line, 11);
    cfg_value_free(v);
}

static void test_keys(void **state)
{
    cfg_value *v = ok("bare_key-1 = 1\n"
                      "\"quoted key\" = 2\n"
                      "'lit.key' = 3\n"
                      "a . b . c = 4\n"
                      "a.d = 5\n"
                      "\"\" = 6\n"
                      "1234 = 7\n");
    assert_int_equal(at(v, "bare_key-1")->i, 1);
    assert_int_equal(cfg_table_get(v, "quoted key")->i, 2);
    assert_int_equal(cfg_table_get(v, "lit.key")->i, 3);
    assert_int_equal(at(v, "a.b.c")->i, 4);
    assert_int_equal(at(v, "a.d")->i, 5);
    assert_int_equal(cfg_table_get(v, "")->i, 6);
    assert_int_equal(cfg_table_get(v, "1234")->i, 7);
    /* Source order is kept. */
    assert_string_equal(v->keys[0], "bare_key-1");
    assert_string_equal(v->keys[3], "a");
    cfg_value_free(v);
}

static void test_datetimes(void **state)
{
    cfg_value *v = ok("odt1 = 1979-05-27T07:32:00Z\n"
                      "odt2 = 1979-05-27T00:32:00-07:00\n"
                      "odt3 = 1979-05-27T00:32:00.999999+07:00\n"
                      "odt4 = 1979-05-27 07:32:00Z\n"
                      "ldt = 1979-05-27T07:32:00\n"
                      "ld = 1979-05-27\n"
                      "lt = 07:32:00.5\n"
                      "leap = 2024-02-29\n"
                      "arr = [1979-05-27, 07:32:00]\n");
    assert_int_equal(at(v, "odt1")->type, CFG_DATETIME);
    assert_string_equal(at(v, "odt1")->str, "1979-05-27T07:32:00Z");
    assert_string_equal(at(v, "odt4")->str, "1979-05-27 07:32:00Z");
    assert_string_equal(at(v, "ld")->str, "1979-05-27");
    assert_string_equal(at(v, "lt")->str, "07:32:00.5");
    assert_int_equal(at(v, "arr")->count, 2);
    assert_int_equal(at(v, "arr")->items[1]->type, CFG_DATETIME);
    cfg_value_free(v);
    bad("d = 2023-02-29\n", "invalid date/time");
    bad("d = 1979-13-01\n", "invalid date/time");
    bad("d = 1979-05-27T25:00:00\n", "invalid date/time");
    bad("d = 1979-05-27T07:32\n", "invalid date/time");
    bad("d = 07:32\n", "invalid date/time");
    bad("d = 1979-05-27T07:32:00+7:00\n", "invalid date/time");
}

static void test_arrays(void **state)
{
    cfg_value *v = ok("a = [ 1, 2, 3 ]\n"
                      "e = []\n"
                      "m = [\n  1, # one\n  'two',\n  [3.0, { x = 4 }],\n  # only a comment\n]\n"
                      "n = [[1,2],[\"a\"]]\n"
                      "after = true\n");
    assert_int_equal(at(v, "a")->count, 3);
    assert_int_equal(at(v, "a")->items[2]->i, 3);
    assert_int_equal(at(v, "e")->count, 0);
    const cfg_value *m = at(v, "m");
    assert_int_equal(m->count, 3);
    assert_string_equal(m->items[1]->str, "two");
    assert_int_equal(m->items[1]->line, 5);
    assert_int_equal(m->items[2]->items[1]->type, CFG_TABLE);
    assert_int_equal(cfg_table_get(m->items[2]->items[1], "x")->i, 4);
    assert_int_equal(at(v, "n")->items[1]->count, 1);
    assert_int_equal(at(v, "after")->line, 10);
    cfg_value_free(v);
}

static void test_tables(void **state)
{
    cfg_value *v = ok("top = 1\n"
                      "[table]\n"
                      "k = 'v'\n"
                      "[ dog . \"tater.man\" ]\n"
                      "type.name = \"pug\"\n"
                      "[x.y.z.w]\n"
                      "[x]\n"
                      "q = 1\n"
                      "[fruit]\n"
                      "apple.color = 'red'\n"
                      "apple.taste.sweet = true\n"
                      "[fruit.apple.texture]\n"
                      "smooth = true\n"
                      "[inl]\n"
                      "p = { a = 1, b.c = 'x', d = { e = [1] } }\n"
                      "[empty]\n");
    assert_int_equal(at(v, "top")->i, 1);
    assert_string_equal(at(v, "table.k")->str, "v");
    assert_int_equal(at(v, "table")->line, 2);
    const cfg_value *dog = cfg_table_get(at(v, "dog"), "tater.man");
    assert_non_null(dog);
    assert_string_equal(at(dog, "type.name")->str, "pug");
    assert_int_equal(at(v, "x.y.z.w")->type, CFG_TABLE);
    assert_int_equal(at(v, "x.q")->i, 1);
    assert_string_equal(at(v, "fruit.apple.color")->str, "red");
    assert_true(at(v, "fruit.apple.taste.sweet")->b);
    assert_true(at(v, "fruit.apple.texture.smooth")->b);
    assert_string_equal(at(v, "inl.p.b.c")->str, "x");
    assert_int_equal(at(v, "inl.p.d.e")->count, 1);
    assert_int_equal(at(v, "empty")->count, 0);
    cfg_value_free(v);
}

static void test_array_of_tables(void **state)
{
    cfg_value *v = ok("[[products]]\n"
                      "name = \"Hammer\"\n"
                      "[[products]]  # empty\n"
                      "[[products]]\n"
                      "name = \"Nail\"\n"
                      "[products.dims]\n"
                      "w = 2\n"
                      "[[fruits.varieties]]\n"
                      "name = 'red'\n"
                      "[[fruits.varieties]]\n"
                      "name = 'green'\n"
                      "[[durable_objects.bindings]]\n"
                      "name = 'A'\n");
    const cfg_value *p = at(v, "products");
    assert_int_equal(p->type, CFG_ARRAY);
    assert_int_equal(p->count, 3);
    assert_string_equal(cfg_table_get(p->items[0], "name")->str, "Hammer");
    assert_int_equal(p->items[1]->count, 0);
    assert_int_equal(p->items[1]->line, 3);
    assert_int_equal(at(p->items[2], "dims.w")->i, 2);
    assert_int_equal(at(v, "fruits.varieties")->count, 2);
    assert_int_equal(at(v, "durable_objects.bindings")->count, 1);
    cfg_value_free(v);
}

static void test_crlf_bom_and_empty(void **state)
{
    cfg_value *v = ok("\xEF\xBB\xBF" "a = 1\r\n# c\r\n[t]\r\nb = 'x'\r\n");
    assert_int_equal(at(v, "a")->i, 1);
    assert_int_equal(at(v, "t.b")->line, 4);
    cfg_value_free(v);
    v = ok("");
    assert_int_equal(v->type, CFG_TABLE);
    assert_int_equal(v->count, 0);
    cfg_value_free(v);
    v = ok("   \n\t# only comments\n\n");
    assert_int_equal(v->count, 0);
    cfg_value_free(v);
    v = ok("a = 1"); /* no final newline */
    assert_int_equal(at(v, "a")->i, 1);
    cfg_value_free(v);
}

static void test_duplicate_and_redefinition_errors(void **state)
{
    bad("a = 1\nb = 2\na = 3\n", "t.toml:3: key 'a': duplicate key (first defined on line 1)");
    bad("[t]\nx = 1\n[t]\n", "t.toml:3: table [t] is defined twice (first on line 1)");
    bad("[t]\nx = 1\n[u]\ny = 1\n[t.z]\nq=1\n[t]\n", "t.toml:7: table [t] is defined twice");
    bad("[a.b]\n[a]\n[a]\n", "t.toml:3: table [a] is defined twice");
    bad("a.b = 1\n[a]\n", "t.toml:2: table [a] was already defined with dotted keys");
    bad("[fruit]\napple.color = 'r'\n[fruit.apple]\n", "t.toml:3:");
    bad("a = {b = 1}\n[a]\n", "t.toml:2: table [a]: the key is already an inline table");
    bad("a = {b = 1}\na.c = 2\n", "t.toml:2: key 'a.c': 'a' is already an inline table");
    bad("a = {b = 1}\n[a.c]\n", "t.toml:2: table [a.c]: 'a' is already an inline table");
    bad("a = [1]\n[[a]]\n", "t.toml:2: array of tables [[a]]: the key is already an array");
    bad("[[a]]\n[a]\n", "t.toml:2: table [a]: the key is already an array of tables");
    bad("a = 1\n[a]\n", "t.toml:2: table [a]: the key is already an integer");
    bad("a = 1\na.b = 2\n", "t.toml:2: key 'a.b': 'a' is already an integer");
    bad("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", "t.toml:4: key 'a.b.c.t': cannot add keys with dotted keys to table 'b'");
    bad("[t]\nx.y = 1\nx.y = 2\n", "t.toml:3: key 't.x.y': duplicate key");
    bad("p = { a = 1, a = 2 }\n", "t.toml:1: key 'p.a': duplicate key");
    bad("\"a\" = 1\na = 2\n", "duplicate key");
    bad("a.b = 1\n\"a\".'b' = 2\n", "duplicate key");
}

static void test_string_errors(void **state)
{
    bad("a = \"abc\n", "t.toml:1: key 'a': unterminated string");
    bad("a = 'abc\n", "t.toml:1: key 'a': unterminated string");
    bad("a = \"abc", "unterminated string");
    bad("x = 1\na = \"\"\"abc\n\n", "t.toml:2: key 'a': unterminated string (opened on line 2)");
    bad("a = '''abc", "unterminated string");
    bad("a = \"\\q\"\n", "t.toml:1: key 'a': invalid escape sequence");
    bad("a = \"\\x41\"\n", "invalid escape sequence");
    bad("a = \"\\e\"\n", "invalid escape sequence");
    bad("a = \"\\u12\"\n", "\\u needs 4 hex digits");
    bad("a = \"\\uD800\"\n", "not a Unicode scalar value");
    bad("a = \"\\U00110000\"\n", "not a Unicode scalar value");
    bad("a = \"x\x01y\"\n", "control character U+0001");
    bad("a = 'x\x7fy'\n", "control character U+007F");
    bad("a = \"\"\"x\ry\"\"\"\n", "lone carriage return");
    bad("a = \"x\" # c\x02\n", "control character U+0002 in a comment");
    bad("a = \"\"\"x\"\"\"\"\"\"\n", "too many quotes");
    bad("a = \"\"\"x \\ y\"\"\"\n", "invalid escape");
    bad("a = \"\xff\"\n", "t.toml:1: invalid UTF-8");
    bad("a = 1\nb = \"\xed\xa0\x80\"\n", "t.toml:2: invalid UTF-8");
    bad("\"\"\"k\"\"\" = 1\n", "a multi-line string cannot be a key");
    bad("\"a\\u0000b\" = 1\n", "U+0000");
}

static void test_number_errors(void **state)
{
    bad("a = 012\n", "t.toml:1: key 'a': invalid number '012': leading zeros");
    bad("a = 1__2\n", "invalid number '1__2'");
    bad("a = _1\n", "expected a value");
    bad("a = 1_\n", "invalid number '1_'");
    bad("a = 1.\n", "a digit must follow the '.'");
    bad("a = .5\n", "expected a value");
    bad("a = 1e\n", "bad exponent");
    bad("a = 1.5e_3\n", "bad exponent");
    bad("a = 0x\n", "invalid number");
    bad("a = 0xG\n", "invalid number");
    bad("a = +0x10\n", "a sign is not allowed");
    bad("a = 0b102\n", "invalid number");
    bad("a = 9223372036854775808\n", "does not fit in 64 bits");
    bad("a = -9223372036854775809\n", "does not fit in 64 bits");
    bad("a = 0x8000000000000000\n", "does not fit in 64 bits");
    bad("a = 1e999\n", "out of range");
    bad("a = infinity\n", "invalid number");
    bad("a = NaN\n", "expected a value");
    bad("a = True\n", "expected a value");
    bad("a = truex\n", "expected a value");
    bad("a = 1 2\n", "expected a newline after the value");
    bad("a = 0_1\n", "leading zeros");
}

static void test_syntax_errors(void **state)
{
    bad("a\n", "t.toml:1: key 'a': expected '=' after the key, found end of line");
    bad("a =\n", "t.toml:1: key 'a': expected a value, found end of line");
    bad("a = # c\n", "expected a value");
    bad("= 1\n", "expected a key, found '='");
    bad("a. = 1\n", "expected a key");
    bad("[]\n", "expected a key, found ']'");
    bad("[a\n", "expected ']' to close the table header [a");
    bad("[[a]\n", "expected ']]'");
    bad("[a] b = 1\n", "expected a newline after the table header");
    bad("a = [1 2]\n", "expected ',' or ']' in an array, found '2'");
    bad("a = [1,,2]\n", "expected a value, found ','");
    bad("a = [1\n", "expected ',' or ']' in an array, found end of file");
    bad("a = {b = 1,}\n", "trailing comma in an inline table");
    bad("a = {b = 1\n}\n", "an inline table must be on one line");
    bad("a = {b = 1 c = 2}\n", "expected ',' or '}'");
    bad("a = { , }\n", "expected a key");
}

static void test_crlf_is_fine_lone_cr_is_not(void **state)
{
    cfg_value *v = ok("a = 1\r\n");
    cfg_value_free(v);
    bad("a = 1\rb = 2\n", "expected a newline after the value");
}

static void test_error_lines(void **state)
{
    bad("a = 1\n\n# c\n[t]\nx = 1\ny = [\n 1,\n 2\n,\n x\n]\n", "t.toml:10: key 't.y': expected a value");
    bad("[[d.b]]\nname = 'A'\nclass_name = 12_\n", "t.toml:3: key 'd.b.class_name': invalid number");
    bad("a = \"\"\"\n\n\n\\z\"\"\"\n", "t.toml:4: key 'a': invalid escape");
}

static void test_depth_limit(void **state)
{
    char doc[1024];
    /* CFG_DEPTH_MAX nested arrays: a = [[...]] with depth 64 is allowed, 65 is not. */
    for (int depth = CFG_DEPTH_MAX - 1; depth <= CFG_DEPTH_MAX + 1; depth++) {
        size_t n = 0;
        n += (size_t)snprintf(doc + n, sizeof doc - n, "a = ");
        for (int i = 0; i < depth; i++)
            doc[n++] = '[';
        for (int i = 0; i < depth; i++)
            doc[n++] = ']';
        doc[n++] = '\n';
        doc[n] = '\0';
        /* The array `a` sits at depth 1, so depth arrays reach depth `depth`. */
        if (depth <= CFG_DEPTH_MAX) {
            cfg_value_free(ok(doc));
        } else {
            bad(doc, "nesting deeper than 64 levels");
        }
    }
    /* Dotted keys and headers count too: [t] is depth 1, 64 more parts make 65. */
    size_t n = (size_t)snprintf(doc, sizeof doc, "[t]\n");
    for (int i = 0; i < CFG_DEPTH_MAX; i++)
        n += (size_t)snprintf(doc + n, sizeof doc - n, "%sk", i ? "." : "");
    snprintf(doc + n, sizeof doc - n, " = 1\n");
    cfg_value_free(ok(doc)); /* tables to depth 64, a scalar below them */
    snprintf(doc + n, sizeof doc - n, " = {}\n");
    bad(doc, "t.toml:2: key 't.k.k");
    bad(doc, "nesting deeper than 64 levels");
    /* [[a]] puts its table at depth 2; [a.k...] with 63 more parts reaches 65. */
    char hdr[1024];
    n = (size_t)snprintf(hdr, sizeof hdr, "[[a]]\n[a");
    for (int i = 0; i < CFG_DEPTH_MAX - 1; i++)
        n += (size_t)snprintf(hdr + n, sizeof hdr - n, ".k");
    snprintf(hdr + n, sizeof hdr - n, "]\n");
    bad(hdr, "t.toml:2: nesting deeper than 64 levels");
    hdr[n - 2] = ']'; /* one part less: depth 64 is fine */
    hdr[n - 1] = '\n';
    hdr[n] = '\0';
    cfg_value_free(ok(hdr));
    /* More key parts than CFG_KEY_PARTS_MAX. */
    char *big = malloc(8192);
    assert_non_null(big);
    n = 0;
    for (int i = 0; i < CFG_KEY_PARTS_MAX + 1; i++)
        n += (size_t)snprintf(big + n, 8192 - n, "%sk", i ? "." : "");
    snprintf(big + n, 8192 - n, " = 1\n");
    bad(big, "more than 64 dotted parts");
    free(big);
    /* Deep inline tables. */
    char *inl = malloc(4096);
    assert_non_null(inl);
    n = (size_t)snprintf(inl, 4096, "a = ");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(inl + n, 4096 - n, "{b=");
    n += (size_t)snprintf(inl + n, 4096 - n, "1");
    for (int i = 0; i < 200; i++)
        inl[n++] = '}';
    inl[n] = '\0';
    bad(inl, "nesting deeper than 64 levels");
    free(inl);
    /* Far deeper than the limit, arrays and inline tables mixed (a hostile
     * wrangler.toml): refused at the limit, the rest never read. */
    size_t levels = 100000;
    char *mixed = malloc(levels * 10 + 16);
    assert_non_null(mixed);
    n = (size_t)sprintf(mixed, "a = ");
    for (size_t i = 0; i < levels; i++)
        n += (size_t)sprintf(mixed + n, "[{k = ");
    n += (size_t)sprintf(mixed + n, "1");
    for (size_t i = 0; i < levels; i++)
        n += (size_t)sprintf(mixed + n, "}]");
    mixed[n] = '\0';
    bad(mixed, "nesting deeper than 64 levels");
    free(mixed);
}

/* Every prefix of a valid document either parses or fails cleanly (never crashes
 * or reads past the end: the copies have no NUL after them). */
static void test_every_prefix(void **state)
{
    const char *doc = "name = \"w\" # c\n"
                      "a = [1, 'x', {y = 2.5e3}, 1979-05-27T07:32:00Z]\n"
                      "s = \"\"\"ml\\\n  x\\u00e9\"\"\"\n"
                      "[[durable_objects.bindings]]\n"
                      "name = 'A'\n"
                      "[t.'q k']\n"
                      "l = '''lit'''\n";
    size_t n = strlen(doc);
    for (size_t cut = 0; cut <= n; cut++) {
        char *copy = malloc(cut ? cut : 1);
        assert_non_null(copy);
        memcpy(copy, doc, cut);
        err e = {0};
        cfg_value *v = toml_parse("t.toml", copy, cut, &e);
        if (!v)
            assert_true(strncmp(e.msg, "t.toml:", 7) == 0);
        cfg_value_free(v);
        free(copy);
    }
}

static void test_wrangler_example(void **state)
{
    cfg_value *v = ok("name = \"chat\"\n"
                      "main = \"src/index.js\"\n"
                      "compatibility_date = \"2024-04-03\"\n"
                      "compatibility_flags = [\"nodejs_compat\"]\n\n"
                      "[vars]\nGREETING = \"hi\"\nLIMITS = { max = 10 }\n\n"
                      "[[durable_objects.bindings]]\nname = \"ROOM\"\nclass_name = \"Room\"\n\n"
                      "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Room\"]\n\n"
                      "[[migrations]]\ntag = \"v2\"\n"
                      "renamed_classes = [{ from = \"Room\", to = \"ChatRoom\" }]\n"
                      "deleted_classes = [\"OldThing\"]\n\n"
                      "[env.staging]\nname = \"chat-stg\"\nvars = { GREETING = \"yo\" }\n");
    assert_string_equal(at(v, "name")->str, "chat");
    assert_int_equal(at(v, "migrations")->count, 2);
    assert_string_equal(at(at(v, "migrations")->items[1], "renamed_classes")->items[0]->keys[1],
                        "to");
    assert_string_equal(at(v, "env.staging.vars.GREETING")->str, "yo");
    char *json = cfg_value_to_json(at(v, "vars"));
    assert_string_equal(json, "{\"GREETING\":\"hi\",\"LIMITS\":{\"max\":10}}");
    free(json);
    cfg_value_free(v);
}

static void test_to_json(void **state)
{
    cfg_value *v = ok("a = [1, 2.5, -0.1, true, \"q\\\"\\n\\u0001\", 1979-05-27, inf, nan, 1e300]\n"
                      "b = {}\nc = []\nd = 1.0\n");
    char *json = cfg_value_to_json(v);
    assert_string_equal(json, "{\"a\":[1,2.5,-0.1,true,\"q\\\"\\n\\u0001\",\"1979-05-27\","
                              "null,null,1e+300],\"b\":{},\"c\":[],\"d\":1}");
    free(json);
    cfg_value_free(v);
}

static void test_fixtures(void **state)
{
    static const char *const names[] = {"wrangler.toml", "tricky.toml"};
    for (size_t n = 0; n < 2; n++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/fixtures/config/%s", TEST_SOURCE_DIR, names[n]);
        char *text;
        size_t len;
        err e = {0};
        assert_int_equal(cfg__read_file(path, CFG_FILE_BYTES_MAX, &text, &len, &e), 0);
        cfg_value *v = toml_parse(names[n], text, len, &e);
        free(text);
        if (!v)
            fail_msg("%s", e.msg);
        if (n == 0) {
            assert_int_equal(at(v, "limits.cpu_ms")->i, 50000);
            assert_int_equal(at(v, "durable_objects.bindings")->count, 2);
            assert_string_equal(at(v, "env.staging.vars.GREETING")->str, "hi from 'staging'");
        } else {
            assert_string_equal(at(v, "ml")->str,
                                "Roses are red"
                                "Violets are blue \xc3\xa9 \xf0\x9f\x98\x80 \"\"quotes\"\" ");
            assert_string_equal(at(v, "lit")->str, "raw ''quotes'' ");
            assert_int_equal(cfg_table_get(at(v, "a"), "b c")->items[0]->i, 255);
            assert_int_equal(at(v, "nums")->count, 7);
            assert_int_equal(at(v, "nums")->items[1]->i, 15);
            assert_int_equal(at(v, "aot")->count, 2);
            assert_int_equal(at(at(v, "aot")->items[0], "sub.k.a.b")->i, 1);
        }
        cfg_value_free(v);
    }
}

/* Many keys in one table stay linear (hash index) and duplicates are still found. */
static void test_many_keys(void **state)
{
    enum { N = 200000 };
    char *doc = malloc((size_t)N * 16 + 64);
    assert_non_null(doc);
    size_t n = 0;
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(doc + n, (size_t)N * 16 + 64 - n, "k%d = %d\n", i, i);
    doc[n] = '\0';
    err e = {0};
    cfg_value *v = toml_parse("t.toml", doc, n, &e);
    assert_non_null(v);
    assert_int_equal(v->count, N);
    assert_int_equal(cfg_table_get(v, "k123456")->i, 123456);
    assert_null(cfg_table_get(v, "k200000"));
    cfg_value_free(v);
    n += (size_t)snprintf(doc + n, (size_t)N * 16 + 64 - n, "k777 = 1\n");
    assert_null(toml_parse("t.toml", doc, n, &e));
    assert_non_null(strstr(e.msg, "t.toml:200001: key 'k777': duplicate key (first defined on line 778)"));
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_strings_and_escapes),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_datetimes),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_array_of_tables),
        cmocka_unit_test(test_crlf_bom_and_empty),
        cmocka_unit_test(test_duplicate_and_redefinition_errors),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_number_errors),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_crlf_is_fine_lone_cr_is_not),
        cmocka_unit_test(test_error_lines),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_wrangler_example),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
