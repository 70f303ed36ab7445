/* Unit test for patches/quickjs/0016-regexp-v-strings.patch: RegExp v-flag
 * classes with strings (\q{abc|d|}: longest first, set operations on the
 * strings, the empty string, lookbehind, quantifiers), negated classes that may
 * contain strings (a SyntaxError), and 'i' folding operands before they are
 * complemented ([^k], \P{Ll}, \W, nested [^...]) over a table of subjects.
 * EXPECTED is Node 20's output for SCRIPT (V8's answers); errors are compared
 * by constructor name, the messages differ. test_hostile: patterns that must
 * stay a SyntaxError or bounded (nesting 100,000 deep, 200,000 strings in one
 * \q, 50,000 chained differences, unterminated \q), answers checked by hand;
 * and a class whose complement V8 also matches (V8's answer breaks the standard's
 * CharacterComplement: the two cannot both match), checked against the standard. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <quickjs.h>

static const char SCRIPT[] =
    "(() => {\n"
    "  const t = (src, fl, s) => { try { const m = new RegExp(src, fl).exec(s); return m ? m[0] + \"@\" + m.index : null; } catch (e) { return e.constructor.name; } };\n"
    "  const cases = [\n"
    "    [\"[\\\\q{abc|d}x]\", \"v\", \"zabcx\"], [\"[\\\\q{abc|d}x]\", \"v\", \"zd\"], [\"[\\\\q{a|ab|abc}]\", \"v\", \"abc\"], [\"[\\\\q{abc|ab|a}]+$\", \"v\", \"xabcaba\"],\n"
    "    [\"[\\\\q{}]\", \"v\", \"abc\"], [\"[\\\\q{}a]+\", \"v\", \"aab\"], [\"^[\\\\q{}]*$\", \"v\", \"\"], [\"a[\\\\q{}]b\", \"v\", \"ab\"], [\"[\\\\q{ab}\\\\q{cd}\\\\q{}x]\", \"v\", \"cd\"],\n"
    "    [\"[\\\\q{a\\\\-b}]\", \"v\", \"a-b\"], [\"[\\\\q{a\\\\|b}]\", \"v\", \"a|b\"], [\"[\\\\q{\\\\b}]\", \"v\", \"\\b\"], [\"[\\\\q{\\\\u{1F600}a}]\", \"v\", \"\\u{1F600}a\"], [\"[\\\\q{a\\0b}]\", \"v\", \"a\\0b\"],\n"
    "    [\"[\\\\q{ab}&&\\\\q{ab|cd}]\", \"v\", \"xcdab\"], [\"[[\\\\q{ab|cd}]--\\\\q{ab}]\", \"v\", \"abcd\"], [\"[\\\\q{a|b}--[a]]\", \"v\", \"ab\"], [\"[\\\\q{ab}--[ab]]\", \"v\", \"ab\"],\n"
    "    [\"[[\\\\q{ab|cd|ef}]&&[\\\\q{cd|ef|gh}]&&[\\\\q{ef|xy}]]\", \"v\", \"abcdefgh\"], [\"[[\\\\q{ab|cd|ef}]--\\\\q{cd}--\\\\q{ef}]\", \"v\", \"efcdab\"],\n"
    "    [\"[\\\\q{a}--\\\\q{}]\", \"v\", \"a\"], [\"[\\\\q{}--\\\\q{}]\", \"v\", \"a\"], [\"[\\\\q{}&&\\\\q{}]\", \"v\", \"a\"], [\"[\\\\q{ab}&&[^a]]\", \"v\", \"ab\"], [\"[[a-z]--\\\\q{b|bc}]\", \"v\", \"bc\"],\n"
    "    [\"[\\\\d\\\\q{12}]+\", \"v\", \"x3124\"], [\"([\\\\q{ab|a}])b\", \"v\", \"ab\"], [\"[\\\\q{ab}]*?c\", \"v\", \"ababc\"], [\"[\\\\q{abc}]{2}\", \"v\", \"abcabc\"],\n"
    "    [\"(?<=[\\\\q{ab|c}])x\", \"v\", \"abx\"], [\"(?<=[\\\\q{ab|c}])x\", \"v\", \"cx\"], [\"(?<=[\\\\q{\\\\u{1F600}b|c}])x\", \"v\", \"\\u{1F600}bx\"],\n"
    "    [\"[\\\\q{ABC}]\", \"iv\", \"xabc\"], [\"[\\\\q{abc}--\\\\q{ABC}]\", \"iv\", \"abc\"], [\"[\\\\q{kk}]\", \"iv\", \"\\u212aK\"], [\"[\\\\q{\u00df}]\", \"iv\", \"\u1e9e\"], [\"[\\\\q{ab}]\", \"iv\", \"AB\"],\n"
    "    [\"[^\\\\q{abc}]\", \"v\", \"x\"], [\"[^\\\\q{}]\", \"v\", \"b\"], [\"[^\\\\q{a}]\", \"v\", \"b\"], [\"[^[\\\\q{ab}--\\\\q{ab}]]\", \"v\", \"x\"], [\"[^[^\\\\q{ab}]]\", \"v\", \"ab\"],\n"
    "    [\"[^[\\\\q{ab}&&a]]\", \"v\", \"b\"], [\"x[^\\\\d\\\\q{a}]\", \"v\", \"xb\"], [\"[\\\\q{a-b}]\", \"v\", \"a-b\"], [\"[\\\\q{a&&b}]\", \"v\", \"a&&b\"], [\"[\\\\q{a\\\\db}]\", \"v\", \"a1b\"],\n"
    "    [\"[\\\\q{a(b}]\", \"v\", \"a(b\"], [\"[\\\\q{a|b]\", \"v\", \"a\"], [\"[\\\\q{ab}]\", \"u\", \"a\"], [\"[\\\\q{ab}-c]\", \"v\", \"ab\"], [\"[a-\\\\q{b}]\", \"v\", \"a\"],\n"
    "    [\"[\\\\q{ab}]\", \"gv\", \"ab\"], [\"[\\\\q{a}]\", \"v\", \"a\"],\n"
    "  ];\n"
    "  const out = cases.map(([p, f, s]) => t(p, f, s));\n"
    "  const pats = [\"[^a]\", \"[^[^a]]\", \"\\\\P{Ll}\", \"[\\\\P{Ll}]\", \"[^\\\\P{Ll}]\", \"\\\\p{Lu}\", \"\\\\W\", \"[^\\\\W]\", \"[\\\\w--\\\\W]\", \"[[^k]&&[a-z]]\", \"[\\\\p{L}--\\\\P{Lu}]\",\n"
    "    \"[A-Z]\", \"[\u00c0]\", \"[\\\\u212a]\", \"[^s]\", \"[^[\u017f]]\", \"[[^a]&&[A]]\", \"[\\\\P{Lu}&&[A-Z]]\", \"[^\u03c3]\", \"[[^\u03c2]--x]\", \"[^\\\\u01c5]\"];\n"
    "  const subs = [\"a\", \"A\", \"k\", \"K\", \"\\u212a\", \"s\", \"S\", \"\\u017f\", \"\u00e0\", \"\u00c0\", \"\u00df\", \"\u1e9e\", \"\u03a3\", \"\u03c3\", \"\u03c2\", \"\\u01c4\", \"\\u01c5\", \"\\u01c6\", \"1\", \"_\"];\n"
    "  for (const p of pats) for (const f of [\"iv\", \"v\"]) out.push(subs.map((s) => t(p, f, s) === null ? 0 : 1).join(\"\"));\n"
    "  return JSON.stringify(out);\n"
    "})()\n";

/* JSON of the results, as Node prints it (non-ASCII as \u escapes in C). */
static const char EXPECTED[] =
    "[\"abc@1\",\"d@1\",\"abc@0\",\"abcaba@1\",\"@0\",\"aa@0\",\"@0\",\"ab@0\",\"cd@0\",\"a-b@0\",\"a|b@0\",\"\\b@0\",\"\U0001f600a@0\",\"a\\u0000b@0\",\"ab@3\",\"cd@2\",\"b@1\",\"ab@0\",\"ef@4\",\"ab@4\",\"a@0\",null,\"@0\",null,\"c@1\",\"3124@1\",\"ab@0\",\"ababc@0\",\"abcabc@0\",\"x@2\",\"x@1\",\"x@3\",\"abc@1\",null,\"\u212aK@0\",\"\u1e9e@0\",\"AB@0\",\"SyntaxError\",\"SyntaxError\",\"b@0\",\"SyntaxError\",\"SyntaxError\",\"b@0\",\"xb@0\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"ab@0\",\"a@0\",\"00111111111111111111\",\"01111111111111111111\",\"11000000000000000000\",\"10000000000000000000\",\"00000000000000000011\",\"01011010010110011011\",\"00000000000000000011\",\"01011010010110011011\",\"11111111111111111100\",\"10100101101001100100\",\"11111111111111111100\",\"01011010010110010000\",\"00000000111111111100\",\"00001001111111111100\",\"11111111000000000011\",\"11110110000000000011\",\"11111111000000000011\",\"11110110000000000011\",\"11000111000000000000\",\"10000100000000000000\",\"11111111111111111100\",\"01011010010110010000\",\"11111111000000000000\",\"01010010000000000000\",\"00000000110000000000\",\"00000000010000000000\",\"00111000000000000000\",\"00001000000000000000\",\"11111000111111111111\",\"11111011111111111111\",\"11111000111111111111\",\"11111110111111111111\",\"00000000000000000000\",\"01000000000000000000\",\"00000000000000000000\",\"00000000000000000000\",\"11111111111100011111\",\"11111111111110111111\",\"11111111111100011111\",\"11111111111111011111\",\"11111111111111100011\",\"11111111111111110111\"]";

static const char HOSTILE[] =
    "(() => {\n"
    "  const out = [];\n"
    "  const tr = (f) => { try { return String(f()); } catch (e) { return e.constructor.name; } };\n"
    "  const big = Array.from({ length: 200000 }, (_, i) => \"s\" + i).join(\"|\");\n"
    "  out.push(tr(() => new RegExp(\"[\".repeat(100000) + \"a\" + \"]\".repeat(100000), \"v\").test(\"a\")));\n"
    "  out.push(tr(() => new RegExp(\"[^\".repeat(100) + \"a\" + \"]\".repeat(100), \"v\").test(\"a\")));\n"
    "  out.push(tr(() => new RegExp(\"[\\\\q{\" + big + \"}]\", \"v\").exec(\"xxs199999yy\")[0]));\n"
    "  out.push(tr(() => new RegExp(\"[\\\\q{\" + big + \"}--\\\\q{\" + big + \"}]\", \"v\").exec(\"s5\")));\n"
    "  out.push(tr(() => new RegExp(\"[\\\\q{\" + big + \"}&&\\\\q{\" + big + \"}]\", \"iv\").exec(\"S77\")[0]));\n"
    "  out.push(tr(() => new RegExp(\"[[\\\\q{\" + big + \"}]\" + \"--\\\\q{s1}\".repeat(50000) + \"]\", \"v\").exec(\"s1 s12\")[0]));\n"
    "  out.push(tr(() => new RegExp(\"[\" + \"\\\\q{ab|cd}\".repeat(50000) + \"]\", \"v\").exec(\"xcd\")[0]));\n"
    "  out.push(tr(() => new RegExp(\"[\\\\q{\" + \"|\".repeat(100000) + \"}]\", \"v\").exec(\"x\").index));\n"
    "  out.push(tr(() => new RegExp(\"[\\\\q{\" + \"a\".repeat(100000) + \"}]\", \"v\").test(\"a\".repeat(100000))));\n"
    "  out.push(tr(() => new RegExp(\"[\" + \"[^\\\\p{L}]\".repeat(2000) + \"]\", \"iv\").test(\"x\")));\n"
    "  out.push(tr(() => new RegExp(\"[\\\\q{ab}]{100000}\", \"v\").test(\"ab\")));\n"
    "  out.push(tr(() => new RegExp(\"([\\\\q{}])*\", \"v\").exec(\"ab\")[0].length));\n"
    "  // the standard's answer, where Node 20's V8 answers true for each: a class and its complement\n"
    "  out.push([/[b--\\W]/iv.test(\"b\"), /[^b--\\W]/iv.test(\"b\"), /[^[b--\\P{Ll}]]/iv.test(\"B\")].join());\n"
    "  for (const p of [\"[\\\\q{\", \"[\\\\q{a\", \"[\\\\q{a}\", \"[\\\\q\", \"[\\\\q{\\\\\", \"[\\\\q{a|b\", \"[[\\\\q{ab}\", \"[^[^[\\\\q{}]]]\"])\n"
    "    out.push(tr(() => new RegExp(p, \"v\")));\n"
    "  return JSON.stringify(out);\n"
    "})()\n";

static const char HOSTILE_EXPECTED[] =
    "[\"SyntaxError\",\"true\",\"s199999\",\"null\",\"S77\",\"s12\",\"cd\",\"0\",\"true\",\"false\",\"false\",\"0\",\"true,false,false\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\",\"SyntaxError\"]";

static void eval_expect(const char *script, size_t script_len, const char *expected)
{
    JSRuntime *rt = JS_NewRuntime();
    /* the 4 MiB a Worker gets (js/rt.h), not QuickJS's 256 KiB default */
    JS_SetMaxStackSize(rt, 4 * 1024 * 1024);
    JSContext *ctx = JS_NewContext(rt);
    assert_non_null(ctx);
    JSValue v = JS_Eval(ctx, script, script_len, "<regexp>", JS_EVAL_TYPE_GLOBAL);
    assert_false(JS_IsException(v));
    const char *s = JS_ToCString(ctx, v);
    assert_non_null(s);
    assert_string_equal(s, expected);
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, v);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
}

static void test_v_strings(void **state)
{
    (void)state;
    eval_expect(SCRIPT, sizeof SCRIPT - 1, EXPECTED);
}

static void test_hostile(void **state)
{
    (void)state;
    eval_expect(HOSTILE, sizeof HOSTILE - 1, HOSTILE_EXPECTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v_strings),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
