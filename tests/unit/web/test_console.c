/* Unit tests for web/js/15_console.js and web/console.c: util.inspect-like
 * formatting (expected strings checked against Node 20's console.log), printf
 * directives, console methods and levels, and the replaceable sink. */
#include "harness.h"

typedef struct con_case {
    const char *js;
    const char *want;    /* captured output: "<level> <text>\n" per line */
} con_case;

static const con_case format_cases[] = {
    /* primitives: bare at the top level */
    {"console.log('hello')", "info hello\n"},
    {"console.log('a', 1, true, null, undefined)", "info a 1 true null undefined\n"},
    {"console.log(-0, [-0], 0)", "info -0 [ -0 ] 0\n"},
    {"console.log(10n, [10n])", "info 10n [ 10n ]\n"},
    {"console.log(Symbol('x'), [Symbol()])", "info Symbol(x) [ Symbol() ]\n"},
    {"console.log([undefined, null, NaN, Infinity, -Infinity])",
     "info [ undefined, null, NaN, Infinity, -Infinity ]\n"},
    {"console.log()", "info \n"},
    /* arrays and objects */
    {"console.log([1, 2, 3], [], {})", "info [ 1, 2, 3 ] [] {}\n"},
    {"console.log({ a: 1, b: 'x' })", "info { a: 1, b: 'x' }\n"},
    {"console.log({ a: { b: { c: { d: 1 } } } })", "info { a: { b: { c: [Object] } } }\n"},
    {"console.log([[[[1]]]])", "info [ [ [ [Array] ] ] ]\n"},
    {"console.log([1, , 3], [, ,], new Array(5))",
     "info [ 1, <1 empty item>, 3 ] [ <2 empty items> ] [ <5 empty items> ]\n"},
    {"console.log(Object.assign([1, 2], { extra: true }))", "info [ 1, 2, extra: true ]\n"},
    {"console.log({ 'a-b': 1, _ok: 2, $x: 3, '1a': 4, 5: 6 })",
     "info { '5': 6, 'a-b': 1, _ok: 2, '$x': 3, '1a': 4 }\n"},
    {"console.log({ [Symbol('k')]: 1 })", "info { [Symbol(k)]: 1 }\n"},
    {"console.log({ get x() { return 1; }, set y(v) {}, get z() { return 1; }, set z(v) {} })",
     "info { x: [Getter], y: [Setter], z: [Getter/Setter] }\n"},
    {"console.log({ u: undefined, n: null })", "info { u: undefined, n: null }\n"},
    {"console.log(Object.create(null), Object.assign(Object.create(null), { a: 1 }))",
     "info [Object: null prototype] {} [Object: null prototype] { a: 1 }\n"},
    {"console.log(Object.create({ inherited: 1 }))", "info {}\n"},
    /* strings inside objects are quoted and escaped */
    {"console.log({ s: \"it's\" }, { s: 'a\"b\\'c' }, { s: 'a\\nb\\t\\\\' })",
     "info { s: \"it's\" } { s: `a\"b'c` } { s: 'a\\nb\\t\\\\' }\n"},
    {"console.log(['\\u0001\\u007f'])", "info [ '\\x01\\x7F' ]\n"},
    {"console.log({ s: 'x'.repeat(20) + \"'\" + '\"' + '`' })",
     "info { s: 'xxxxxxxxxxxxxxxxxxxx\\'\"`' }\n"},
    /* built-in types */
    {"console.log(new Map([['a', 1]]), new Map(), new Set([1, 2]), new Set())",
     "info Map(1) { 'a' => 1 } Map(0) {} Set(2) { 1, 2 } Set(0) {}\n"},
    {"console.log(new Map([[{ k: 1 }, [1, 2]]]))", "info Map(1) { { k: 1 } => [ 1, 2 ] }\n"},
    {"console.log(Object.assign(new Map([[1, 2]]), { extra: 'y' }))",
     "info Map(1) { 1 => 2, extra: 'y' }\n"},
    {"console.log(new (class Foo extends Map {})([[1, 2]]))", "info Foo(1) [Map] { 1 => 2 }\n"},
    {"console.log(new Date(0), new Date(NaN))", "info 1970-01-01T00:00:00.000Z Invalid Date\n"},
    {"console.log(/ab+c/gi)", "info /ab+c/gi\n"},
    {"console.log(function foo() {}, () => {}, async function af() {}, function* gen() {})",
     "info [Function: foo] [Function (anonymous)] [AsyncFunction: af] [GeneratorFunction: gen]\n"},
    {"console.log(class Foo {}, class Bar extends Map {})", "info [class Foo] [class Bar extends Map]\n"},
    {"console.log(Object.assign(() => {}, { a: 1 }))", "info [Function (anonymous)] { a: 1 }\n"},
    {"console.log(new (class P { constructor() { this.x = 1; } })())", "info P { x: 1 }\n"},
    {"console.log(new (class Empty {})())", "info Empty {}\n"},
    {"console.log(new (class Q { get [Symbol.toStringTag]() { return 'T'; } })())", "info Q [T] {}\n"},
    {"console.log({ [Symbol.toStringTag]: 'Tagged', a: 1 })",
     "info { a: 1, [Symbol(Symbol.toStringTag)]: 'Tagged' }\n"},
    {"console.log(new Uint8Array([1, 2]), new Float64Array(0), new BigInt64Array([1n]))",
     "info Uint8Array(2) [ 1, 2 ] Float64Array(0) [] BigInt64Array(1) [ 1n ]\n"},
    {"console.log(new ArrayBuffer(2))", "info ArrayBuffer { [Uint8Contents]: <00 00>, byteLength: 2 }\n"},
    {"console.log(new DataView(new ArrayBuffer(2)))",
     "info DataView {\n  byteLength: 2,\n  byteOffset: 0,\n  buffer: ArrayBuffer { [Uint8Contents]: <00 00>, "
     "byteLength: 2 }\n}\n"},
    {"console.log(new Number(3), new String('ab'), new Boolean(false))",
     "info [Number: 3] [String: 'ab'] [Boolean: false]\n"},
    {"console.log(new WeakMap(), new WeakSet())",
     "info WeakMap { <items unknown> } WeakSet { <items unknown> }\n"},
    {"console.log(Promise.resolve(1))", "info Promise { <unknown> }\n"},
    /* cycles */
    {"const o = { name: 'o' }; o.self = o; console.log(o)",
     "info <ref *1> { name: 'o', self: [Circular *1] }\n"},
    {"const o = { a: [] }; o.a.push(o); o.b = { c: o.a }; console.log(o)",
     "info <ref *1> { a: [ [Circular *1] ], b: { c: [ [Circular *1] ] } }\n"},
    /* line breaking at 80 columns */
    {"console.log({ aaaaaaaaaa: 'x'.repeat(30), bbbbbbbbbb: 'y'.repeat(30) })",
     "info {\n  aaaaaaaaaa: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',\n  bbbbbbbbbb: "
     "'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy'\n}\n"},
    {"console.log({ a: { b: 'x'.repeat(70) } })",
     "info {\n  a: {\n    b: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n  }\n}\n"},
    {"console.log(Array.from({ length: 3 }, (_, i) => ({ id: i, name: 'item' + i })))",
     "info [\n  { id: 0, name: 'item0' },\n  { id: 1, name: 'item1' },\n  { id: 2, name: 'item2' }\n]\n"},
    /* long arrays of short entries: aligned columns (numbers to the right) */
    {"console.log(Array.from({ length: 30 }, (_, i) => i * 37))",
     "info [\n"
     "     0,   37,   74,  111,  148,  185,  222,  259,  296,  333,  370,  407,  444,\n"
     "   481,  518,  555,  592,  629,  666,  703,  740,  777,  814,  851,  888,  925,\n"
     "   962,  999, 1036, 1073\n]\n"},
    {"console.log({ list: Array.from({ length: 20 }, (_, i) => String.fromCharCode(97 + i)) })",
     "info {\n  list: [\n"
     "    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',\n"
     "    'p', 'q', 'r', 's', 't'\n  ]\n}\n"},
    /* limits: 100 items, 10,000 characters per nested string */
    {"console.log(Array(101).fill(0).length, [Array(101).fill(1)].map((a) => a.length))",
     "info 101 [ 101 ]\n"},
    {"const t = console.log; console.log = (...a) => t(N_(a)); globalThis.N_ = (a) => a;"
     "console.log = t; console.log(new Set(Array.from({ length: 102 }, (_, i) => i)).size)",
     "info 102\n"},
    /* printf directives */
    {"console.log('%s is %d years', 'Bob', 42)", "info Bob is 42 years\n"},
    {"console.log('%i %f %d', 42.9, '1.5', '7')", "info 42 1.5 7\n"},
    {"console.log('%j', { a: [1, 'x'] })", "info {\"a\":[1,\"x\"]}\n"},
    {"const o = {}; o.o = o; console.log('%j', o)", "info [Circular]\n"},
    {"console.log('%o', { a: 1 })", "info { a: 1 }\n"},
    {"console.log('%O', { a: { b: { c: { d: 1 } } } })", "info { a: { b: { c: [Object] } } }\n"},
    {"console.log('%c styled', 'color: red')", "info  styled\n"},
    {"console.log('100%% sure', 1)", "info 100% sure 1\n"},
    {"console.log('%s %s', 'only')", "info only %s\n"},
    {"console.log('%d', 10n, 'extra', { a: 1 })", "info 10n extra { a: 1 }\n"},
    {"console.log('%s', { a: 1 }, '%s', [1, 2])", "info { a: 1 } %s [ 1, 2 ]\n"},
    {"console.log('%s', [1, [2, [3]]])", "info [ 1, [Array] ]\n"},
    {"console.log('%s', { toString() { return 'custom'; } })", "info custom\n"},
    {"console.log('%s', -0, '%s')", "info -0 %s\n"},
    {"console.log('%x unknown', 1)", "info %x unknown 1\n"},
    {"console.log('%s', null, undefined, 5n)", "info null undefined 5n\n"},
    {"console.log('%d %i %f', {}, '0x10', 'abc')", "info NaN 16 NaN\n"},
    {"console.log('a%', 1)", "info a% 1\n"},
    {"console.log(123, '%s', 'x')", "info 123 %s x\n"},
    /* console methods and levels */
    {"console.info('i'); console.warn('w'); console.error('e'); console.debug('d')",
     "info i\nwarn w\nerror e\ndebug d\n"},
    {"console.dir({ a: { b: { c: { d: 1 } } } }, { depth: 0 }); console.dir('str')",
     "info { a: [Object] }\ninfo 'str'\n"},
    {"console.assert(true, 'no'); console.assert(false, 'x %d', 1); console.assert(0);"
     "console.assert(false, { a: 1 })",
     "error Assertion failed: x 1\nerror Assertion failed\nerror Assertion failed: { a: 1 }\n"},
    {"console.count(); console.count(); console.count('k'); console.countReset(); console.count();"
     "console.countReset('nope')",
     "info default: 1\ninfo default: 2\ninfo k: 1\ninfo default: 1\nwarn Count for 'nope' does not "
     "exist\n"},
    {"console.group('G'); console.log('inner\\nline2'); console.group(); console.log('deeper');"
     "console.groupEnd(); console.groupEnd(); console.groupEnd(); console.log('out')",
     "info G\ninfo   inner\n  line2\ninfo     deeper\ninfo out\n"},
    {"console.timeEnd('none'); console.time('t'); console.time('t')",
     "warn Timer 'none' does not exist\nwarn Timer 't' already exists\n"},
    {"console.table([{ a: 1, b: 'x' }, { a: 2, c: true }])",
     "info ┌─────────┬───┬─────┬──────┐\n"
     "│ (index) │ a │ b   │ c    │\n"
     "├─────────┼───┼─────┼──────┤\n"
     "│ 0       │ 1 │ 'x' │      │\n"
     "│ 1       │ 2 │     │ true │\n"
     "└─────────┴───┴─────┴──────┘\n"},
    {"console.table([1, 'two'])",
     "info ┌─────────┬────────┐\n"
     "│ (index) │ Values │\n"
     "├─────────┼────────┤\n"
     "│ 0       │ 1      │\n"
     "│ 1       │ 'two'  │\n"
     "└─────────┴────────┘\n"},
    {"console.table('plain')", "info plain\n"},
};

static int setup(void **state)
{
    return wh_setup_with(state, NULL);
}

static void expect_output(wh *h, const char *js, const char *want, int i)
{
    wh_output_reset(h);
    char *r = wh_run(h, js);
    if (!strncmp(r, "EXC", 3))
        fail_msg("case %d: %s\nthrew: %s", i, js, r);
    free(r);
    if (strcmp(wh_output(h), want) != 0)
        fail_msg("case %d: %s\n   got: [%s]\n  want: [%s]", i, js, wh_output(h), want);
}

static void test_format(void **state)
{
    wh *h = *state;
    for (size_t i = 0; i < sizeof format_cases / sizeof format_cases[0]; i++)
        expect_output(h, format_cases[i].js, format_cases[i].want, (int)i);
}

static void test_limits(void **state)
{
    wh *h = *state;
    wh_output_reset(h);
    WH_EXPECT(h, "console.log(Array(101).fill(7)); 1", "1");
    assert_non_null(strstr(wh_output(h), "... 1 more item\n"));
    wh_output_reset(h);
    WH_EXPECT(h, "console.log(new Map(Array.from({ length: 103 }, (_, i) => [i, i]))); 1", "1");
    assert_non_null(strstr(wh_output(h), "... 3 more items\n"));
    /* A nested string is cut at 10,000 characters, with the count of the rest. */
    wh_output_reset(h);
    WH_EXPECT(h, "console.log(['x'.repeat(10001)]); 1", "1");
    assert_non_null(strstr(wh_output(h), "x'... 1 more character"));
    /* A top-level string is printed whole up to the line limit (1 MiB). */
    wh_output_reset(h);
    WH_EXPECT(h, "console.log('y'.repeat(20000)); 1", "1");
    assert_int_equal(strlen(wh_output(h)), strlen("info \n") + 20000);
    wh_output_reset(h);
    WH_EXPECT(h, "console.log('z'.repeat(1024 * 1024 + 5)); 1", "1");
    assert_non_null(strstr(wh_output(h), "z... (5 more characters not shown)\n"));
    /* Deep nesting does not recurse past the depth limit. */
    wh_output_reset(h);
    WH_EXPECT(h, "let o = {}; for (let i = 0; i < 10000; i++) o = { o }; console.log(o); 1", "1");
    assert_string_equal(wh_output(h), "info { o: { o: { o: [Object] } } }\n");
    /* depth: null still stops at 100 levels: the text of n levels grows as n²
     * (two more spaces of indentation per level). The stack of durable's runtime
     * (4 MiB, not QuickJS's default 256 KiB) holds far more than that. */
    JS_SetMaxStackSize(h->rt, 4u * 1024u * 1024u);
    wh_output_reset(h);
    WH_EXPECT(h, "let d = {}; for (let i = 0; i < 100000; i++) d = { d }; console.dir(d, { depth: null }); 1",
              "1");
    const char *deep = wh_output(h);
    assert_true(strncmp(deep, "info {\n  d: {\n    d: {", 22) == 0);
    char want[512];
    snprintf(want, sizeof want, "\n%*sd: [Object]\n%*s}", 202, "", 200, "");
    assert_non_null(strstr(deep, want));
    assert_null(strstr(deep, "Inspection interrupted"));
    /* Out of stack while formatting (console called from the end of a recursion
     * that used up the stack): the level that ran out prints Node's marker, the
     * levels above it carry on, and console.dir does not throw. */
    wh_output_reset(h);
    WH_EXPECT(h, "let a = []; for (let i = 0; i < 1000; i++) a = [a];"
                 "let logged = 0;"
                 "function r() { try { r(); } catch { if (!logged) { console.dir(a, { depth: null }); logged = 1; } } }"
                 "r(); logged", "1");
    deep = wh_output(h);
    assert_non_null(strstr(deep, "[Array: Inspection interrupted prematurely. Maximum call stack size exceeded.]"));
    assert_true(strlen(deep) > 2 && strcmp(deep + strlen(deep) - 2, "]\n") == 0);
}

static void test_errors(void **state)
{
    wh *h = *state;
    wh_output_reset(h);
    WH_EXPECT(h, "function thrower() { return new TypeError('bad'); } console.log(thrower()); 1", "1");
    const char *out = wh_output(h);
    assert_true(strncmp(out, "info TypeError: bad\n    at thrower (<test>", 42) == 0);
    wh_output_reset(h);
    WH_EXPECT(h, "console.log(Object.assign(new Error('x'), { code: 'E1' })); 1", "1");
    out = wh_output(h);
    assert_true(strncmp(out, "info Error: x\n    at ", 20) == 0);
    assert_non_null(strstr(out, " {\n  code: 'E1'\n}\n"));
    /* Inside an object the stack is indented with its property. */
    wh_output_reset(h);
    WH_EXPECT(h, "console.log({ e: new RangeError('r') }); 1", "1");
    out = wh_output(h);
    assert_true(strncmp(out, "info {\n  e: RangeError: r\n      at ", 33) == 0);
    wh_output_reset(h);
    WH_EXPECT(h, "console.log(new DOMException('gone', 'AbortError')); 1", "1");
    assert_true(strncmp(wh_output(h), "info AbortError: gone\n", 22) == 0);
    /* A non-enumerable cause is shown in brackets, after the stack. */
    wh_output_reset(h);
    WH_EXPECT(h, "const e = new Error('outer');"
                 "Object.defineProperty(e, 'cause', { value: 'inner', configurable: true });"
                 "console.log(e); 1",
              "1");
    assert_non_null(strstr(wh_output(h), " {\n  [cause]: 'inner'\n}\n"));
    /* console.trace prints the stack of its caller. */
    wh_output_reset(h);
    WH_EXPECT(h, "function where() { console.trace('here', 1); } where(); 1", "1");
    out = wh_output(h);
    assert_true(strncmp(out, "info Trace: here 1\n    at where (<test>", 38) == 0);
    /* A throwing toString in %s reaches the caller rather than vanishing. */
    WH_EXPECT(h, "try { console.log('%s', { toString() { throw new Error('ts'); } }); 'no' }"
                 " catch (e) { e.message }",
              "ts");
}

static int g_levels[8];
static char g_last[64];

static void count_sink(void *ud, int level, const char *text, size_t len)
{
    int *n = ud;
    if (level >= 0 && level < 8)
        n[level]++;
    size_t k = len < sizeof g_last - 1 ? len : sizeof g_last - 1;
    memcpy(g_last, text, k);
    g_last[k] = 0;
}

static void test_sink(void **state)
{
    wh *h = *state;
    memset(g_levels, 0, sizeof g_levels);
    assert_int_equal(web_console_set_sink(h->ctx, count_sink, g_levels), 0);
    WH_EXPECT(h, "console.log(1); console.info(2); console.debug(3); console.warn(4);"
                 "console.error(5); console.error(6); 'ok'",
              "ok");
    assert_int_equal(g_levels[LOG_INFO], 2);
    assert_int_equal(g_levels[LOG_DEBUG], 1);
    assert_int_equal(g_levels[LOG_WARN], 1);
    assert_int_equal(g_levels[LOG_ERROR], 2);
    assert_string_equal(g_last, "6");
    /* Text with NUL bytes reaches the sink whole. */
    WH_EXPECT(h, "console.log('a\\u0000b'); 1", "1");
    assert_int_equal(g_last[0], 'a');
    assert_int_equal(g_last[1], '\0');
    assert_int_equal(g_last[2], 'b');
    /* NULL restores the default sink (durable's log on stderr). */
    assert_int_equal(web_console_set_sink(h->ctx, NULL, NULL), 0);
    WH_EXPECT(h, "console.debug('to the default sink'); 1", "1");
    assert_int_equal(g_levels[LOG_DEBUG], 1);
    assert_int_equal(web_console_set_sink(h->ctx, wh_sink, h), 0);
    /* A context without js/rt state has no sink slot. */
    JSContext *bare = JS_NewContext(h->rt);
    assert_non_null(bare);
    JSValue native = JS_NewObject(bare);
    assert_int_equal(web_console_install(bare, native), 0);
    assert_int_equal(web_console_set_sink(bare, count_sink, g_levels), DUR_EINVAL);
    JS_FreeValue(bare, native);
    JS_FreeContext(bare);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_format, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_sink, setup, wh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
