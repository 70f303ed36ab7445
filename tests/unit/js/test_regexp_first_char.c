/* Unit test for patches/quickjs/0015-regexp-first-char.patch: lre_exec tries
 * a pattern that starts with a literal character only at the positions holding
 * that character. The answers must be the ones of an engine without the
 * shortcut (the expected string is Node's output for the same script): matches
 * and replacements with /-/g, captures reset between attempts (/a(b)?c/ on
 * "ab ac"), lastIndex of global and sticky patterns, 8- and 16-bit strings, the
 * NUL character, and patterns the shortcut must leave alone (alternatives,
 * ignore case, unicode mode, classes). A performance change: these pass on the
 * unpatched engine too; they guard its semantics. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <quickjs.h>

static const char SCRIPT[] =
    "(() => {\n"
    "  const out = [];\n"
    "  const ex = (m) => m === null ? null : [m.index, ...m];\n"
    "  out.push(\"a-b_c-d\".replace(/-/g, \"+\").replace(/_/g, \"/\"));\n"
    "  out.push(\"no dashes\".replace(/-/g, \"+\"));\n"
    "  out.push(\"-start and end-\".replace(/-/g, \"\"));\n"
    "  out.push(\"xaby aab ab\".match(/ab+/g));\n"
    "  out.push(ex(/(a)(b)?c/.exec(\"zzacab abc\")));\n"
    "  out.push(ex(/a(b)?c/.exec(\"ab ac\")));\n"
    "  const r = /a/g; out.push([ex(r.exec(\"bab\")), r.lastIndex, r.exec(\"bab\"), r.lastIndex]);\n"
    "  const r2 = /a/g; r2.lastIndex = 2; out.push([ex(r2.exec(\"abca\")), r2.lastIndex]);\n"
    "  out.push(\"\\u65e5-\\u672c-\\u8a9e\".replace(/-/g, \"+\"));\n"
    "  out.push(ex(/\\u672c(.)/.exec(\"\\u65e5\\u672c\\u8a9e\")));\n"
    "  out.push(\"aXaYaZ\".search(/aZ/));\n"
    "  out.push(\"a\\0b\".search(/\\0/));\n"
    "  out.push([\"xab\".search(/a|b/), \"xa\".search(/A/i), \"\\u65e5A\".search(/a/i), \"x\\ud83d\\ude00\".search(/\\ud83d\\ude00/u), \"\\u65e5-\".search(/-/u), \"b-\".search(/[-]/)]);\n"
    "  const y = /a/y; y.lastIndex = 1; out.push([y.test(\"ba\"), y.lastIndex, y.test(\"ba\")]);\n"
    "  out.push(\"aaa\".replace(/a/g, \"$&$&\"));\n"
    "  out.push(\"2026-12-04\".replace(/-(\\d+)/g, \"/$1\"));\n"
    "  out.push([\"\", \"-\"].map((s) => s.split(/-/)));\n"
    "  return JSON.stringify(out);\n"
    "})()\n";

/* JSON of the results, as Node prints it (non-ASCII as \u escapes in C). */
static const char EXPECTED[] = "[\"a+b/c+d\",\"no dashes\",\"start and end\",[\"ab\",\"ab\",\"ab\"],[2,\"ac\",\"a\",null],[3,\"ac\",null],[[1,\"a\"],2,null,0],[[3,\"a\"],4],\"\u65e5+\u672c+\u8a9e\",[1,\"\u672c\u8a9e\",\"\u8a9e\"],4,1,[1,1,1,1,1,1],[true,2,false],\"aaaaaa\",\"2026/12/04\",[[\"\"],[\"\",\"\"]]]";

static void test_first_char(void **state)
{
    (void)state;
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = JS_NewContext(rt);
    assert_non_null(ctx);
    JSValue v = JS_Eval(ctx, SCRIPT, sizeof SCRIPT - 1, "<regexp>", JS_EVAL_TYPE_GLOBAL);
    assert_false(JS_IsException(v));
    const char *s = JS_ToCString(ctx, v);
    assert_non_null(s);
    assert_string_equal(s, EXPECTED);
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, v);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_char),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
