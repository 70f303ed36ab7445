/* Tests for js/clone.c: the structured-clone serializer and structuredClone.
 * Values are built in JS, round-tripped through js_clone_write/js_clone_read (the
 * native __rt below) and compared in JS with a deep equality that also checks
 * types, holes, shared identity and key order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "js/clone.h"

#define RT_BYTES_MAX (1u << 24)

typedef struct fixture {
    JSRuntime *rt;
    JSContext *ctx;
} fixture;

/* __rt(value, flags = 0) → a copy made through the bytes. */
static JSValue js_rt(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int32_t flags = 0;
    if (argc > 1 && JS_ToInt32(ctx, &flags, argv[1]) < 0)
        return JS_EXCEPTION;
    buf b;
    buf_init(&b, RT_BYTES_MAX);
    if (js_clone_write(ctx, argc > 0 ? argv[0] : JS_UNDEFINED, flags, &b) < 0) {
        buf_fini(&b);
        return JS_EXCEPTION;
    }
    JSValue v = js_clone_read(ctx, (const uint8_t *)b.ptr, b.len);
    buf_fini(&b);
    return v;
}

/* __bytes(value, flags = 0) → Uint8Array of the encoding. */
static JSValue js_bytes(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int32_t flags = 0;
    if (argc > 1 && JS_ToInt32(ctx, &flags, argv[1]) < 0)
        return JS_EXCEPTION;
    buf b;
    buf_init(&b, RT_BYTES_MAX);
    if (js_clone_write(ctx, argc > 0 ? argv[0] : JS_UNDEFINED, flags, &b) < 0) {
        buf_fini(&b);
        return JS_EXCEPTION;
    }
    JSValue ab = JS_NewArrayBufferCopy(ctx, (const uint8_t *)b.ptr, b.len);
    buf_fini(&b);
    if (JS_IsException(ab))
        return ab;
    JSValue g = JS_GetGlobalObject(ctx);
    JSValue c = JS_GetPropertyStr(ctx, g, "Uint8Array");
    JSValue u8 = JS_CallConstructor(ctx, c, 1, &ab);
    JS_FreeValue(ctx, c);
    JS_FreeValue(ctx, g);
    JS_FreeValue(ctx, ab);
    return u8;
}

/* __read(u8) → the value decoded from the bytes of a Uint8Array. */
static JSValue js_read(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t off, len, bpe, ab_len;
    JSValue ab = JS_GetTypedArrayBuffer(ctx, argv[0], &off, &len, &bpe);
    if (JS_IsException(ab))
        return ab;
    uint8_t *p = JS_GetArrayBuffer(ctx, &ab_len, ab);
    /* A private copy, so ASan sees any read past the end. */
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, p + off, len);
    JS_FreeValue(ctx, ab);
    JSValue v = js_clone_read(ctx, copy, len);
    free(copy);
    return v;
}

/* Deep equality written in JS: same types, same shape, holes, key order, and the
 * same sharing pattern (a pair seen once must pair the same way everywhere). */
static const char helpers_js[] =
    "globalThis.tag = (v) => Object.prototype.toString.call(v);\n"
    "globalThis.same = (a, b, seen = new Map()) => {\n"
    "  if (typeof a !== typeof b) return false;\n"
    "  if (typeof a !== 'object' || a === null || b === null) return Object.is(a, b);\n"
    "  if (seen.has(a)) return seen.get(a) === b;\n"
    "  seen.set(a, b);\n"
    "  if (a === b) return false;\n"
    "  if (tag(a) !== tag(b)) return false;\n"
    "  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {\n"
    "    const pa = Object.getPrototypeOf(a);\n"
    "    if (!(pa === null || tag(a) === '[object Object]' || tag(a) === '[object Error]')) return false;\n"
    "  }\n"
    "  const t = tag(a);\n"
    "  if (t === '[object Date]') return Object.is(a.getTime(), b.getTime());\n"
    "  if (t === '[object RegExp]') return a.source === b.source && a.flags === b.flags;\n"
    "  if (t === '[object Number]' || t === '[object String]' || t === '[object Boolean]' || t === '[object BigInt]')\n"
    "    return Object.is(a.valueOf(), b.valueOf());\n"
    "  if (t === '[object ArrayBuffer]') {\n"
    "    if (a.byteLength !== b.byteLength) return false;\n"
    "    const x = new Uint8Array(a), y = new Uint8Array(b);\n"
    "    return x.every((v, i) => v === y[i]);\n"
    "  }\n"
    "  if (ArrayBuffer.isView(a)) {\n"
    "    return a.constructor === b.constructor && a.byteOffset === b.byteOffset &&\n"
    "      a.byteLength === b.byteLength && same(a.buffer, b.buffer, seen);\n"
    "  }\n"
    "  if (t === '[object Map]') {\n"
    "    if (a.size !== b.size) return false;\n"
    "    const ea = [...a], eb = [...b];\n"
    "    return ea.every((e, i) => same(e[0], eb[i][0], seen) && same(e[1], eb[i][1], seen));\n"
    "  }\n"
    "  if (t === '[object Set]') {\n"
    "    if (a.size !== b.size) return false;\n"
    "    const ea = [...a], eb = [...b];\n"
    "    return ea.every((e, i) => same(e, eb[i], seen));\n"
    "  }\n"
    "  if (a instanceof Error) {\n"
    "    if (a.name !== b.name || a.message !== b.message || a.stack !== b.stack) return false;\n"
    "    if (a.constructor !== b.constructor) return false;\n"
    "    return Object.prototype.hasOwnProperty.call(a, 'message') === Object.prototype.hasOwnProperty.call(b, 'message');\n"
    "  }\n"
    "  if (Array.isArray(a) && a.length !== b.length) return false;\n"
    "  const ka = Object.keys(a), kb = Object.keys(b);\n"
    "  if (ka.length !== kb.length || !ka.every((k, i) => k === kb[i])) return false;\n"
    "  return ka.every((k) => same(a[k], b[k], seen));\n"
    "};\n"
    "globalThis.rt_same = (v, flags) => same(v, __rt(v, flags));\n"
    "globalThis.throws = (f, name, re) => {\n"
    "  try { f(); } catch (e) {\n"
    "    if (e.name !== name) throw new Error('expected ' + name + ', got ' + e.name + ': ' + e.message);\n"
    "    if (re && !re.test(e.message)) throw new Error('message ' + JSON.stringify(e.message) + ' does not match ' + re);\n"
    "    return true;\n"
    "  }\n"
    "  throw new Error('expected ' + name + ', nothing thrown');\n"
    "};\n"
    "globalThis.hex = (u8) => Array.from(u8, (x) => x.toString(16).padStart(2, '0')).join(' ');\n";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->rt = JS_NewRuntime();
    /* As js/rt.c sets it for every shard's runtime. */
    JS_SetMaxStackSize(f->rt, 4u * 1024u * 1024u);
    f->ctx = JS_NewContext(f->rt);
    JSContext *ctx = f->ctx;
    assert_int_equal(js_clone_install(ctx), 0);
    JSValue g = JS_GetGlobalObject(ctx);
    JS_SetPropertyStr(ctx, g, "__rt", JS_NewCFunction(ctx, js_rt, "__rt", 2));
    JS_SetPropertyStr(ctx, g, "__bytes", JS_NewCFunction(ctx, js_bytes, "__bytes", 2));
    JS_SetPropertyStr(ctx, g, "__read", JS_NewCFunction(ctx, js_read, "__read", 1));
    JS_FreeValue(ctx, g);
    JSValue r = JS_Eval(ctx, helpers_js, sizeof helpers_js - 1, "<helpers>", JS_EVAL_TYPE_GLOBAL);
    assert_false(JS_IsException(r));
    JS_FreeValue(ctx, r);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    JS_FreeContext(f->ctx);
    JS_FreeRuntime(f->rt);
    free(f);
    return 0;
}

/* Evaluates `code`; it must return true. Prints the exception or the value else. */
static void check_js(JSContext *ctx, const char *code, const char *file, int line)
{
    /* A block, so each check's consts are its own. */
    size_t n = strlen(code);
    char *block = malloc(n + 5);
    memcpy(block, "{\n", 2);
    memcpy(block + 2, code, n);
    memcpy(block + 2 + n, "\n}", 3);
    JSValue r = JS_Eval(ctx, block, n + 4, "<test>", JS_EVAL_TYPE_GLOBAL);
    free(block);
    if (JS_IsException(r)) {
        JSValue e = JS_GetException(ctx);
        const char *s = JS_ToCString(ctx, e);
        JSValue st = JS_IsObject(e) ? JS_GetPropertyStr(ctx, e, "stack") : JS_UNDEFINED;
        const char *ss = JS_IsString(st) ? JS_ToCString(ctx, st) : NULL;
        print_error("%s:%d: exception: %s\n%s\nin: %s\n", file, line, s ? s : "?", ss ? ss : "",
                    code);
        if (ss)
            JS_FreeCString(ctx, ss);
        JS_FreeValue(ctx, st);
        JS_FreeCString(ctx, s);
        JS_FreeValue(ctx, e);
        fail();
    }
    int ok = JS_IsBool(r) && JS_ToBool(ctx, r);
    if (!ok) {
        const char *s = JS_ToCString(ctx, r);
        print_error("%s:%d: expected true, got %s\nin: %s\n", file, line, s ? s : "?", code);
        JS_FreeCString(ctx, s);
    }
    JS_FreeValue(ctx, r);
    assert_true(ok);
}
#define JS_TRUE_(code) check_js(ctx, (code), __FILE__, __LINE__)

static void test_primitives(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("[undefined, null, true, false, 0, -0, 1, -1, 2147483647, -2147483648, "
             "2147483648, -2147483649, 1.5, -1e-300, 2**53, NaN, Infinity, -Infinity, "
             "Number.MIN_VALUE, Number.MAX_VALUE].every((v) => Object.is(__rt(v), v))");
    JS_TRUE_("Object.is(__rt(-0), -0) && Object.is(__rt(0), 0) && 1 / __rt(-0) === -Infinity");
    JS_TRUE_("Number.isNaN(__rt(NaN)) && Number.isNaN(__rt(0/0 * -1))");
    JS_TRUE_("__bytes(-0)[1] === 0x64 && __bytes(0)[1] === 0x69 && __bytes(2**31)[1] === 0x64");
}

static void test_strings(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("['', 'abc', 'caf\\u00e9', '\\u00ff\\u0080', '\\u4e2d\\u6587', "
             "'\\ud83d\\ude00 emoji', 'nul\\u0000inside', 'x'.repeat(100000)]"
             ".every((s) => __rt(s) === s)");
    /* Lone surrogates, reversed pairs, a surrogate at each end. */
    JS_TRUE_("['\\ud800', '\\udc00', 'a\\ud800b', 'a\\udfffb', '\\udc00\\ud800', "
             "'\\ud800\\ud800\\udc00', '\\ud83d', 'x\\ud83d', '\\ude00x']"
             ".every((s) => { const c = __rt(s); return c === s && c.length === s.length; })");
    JS_TRUE_("const s = '\\ud800'; const c = __rt({[s]: s}); Object.keys(c)[0] === s && c[s] === s");
}

static void test_bigint(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("[0n, 1n, -1n, 10n**18n - 1n, -(10n**18n) + 1n, 10n**18n, 10n**19n, 2n**63n - 1n, "
             "-(2n**63n), 2n**64n, -(2n**64n) - 7n, 2n**1000n + 12345n, -(3n**500n)]"
             ".every((v) => { const c = __rt(v); return typeof c === 'bigint' && c === v; })");
    JS_TRUE_("rt_same({a: 5n, b: [2n**200n]})");
}

static void test_wrappers_date_regexp(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("[new Number(-0), new Number(NaN), new Number(3.5), new String(''), "
             "new String('x\\ud800\\ud83d\\ude00'), new Boolean(false), new Boolean(true), Object(5n), "
             "Object(-(2n**100n))].every((v) => { const c = __rt(v); "
             "return typeof c === 'object' && same(v, c); })");
    JS_TRUE_("__rt(new String('abc')).length === 3 && __rt(new String('abc'))[1] === 'b'");
    JS_TRUE_("[new Date(0), new Date(NaN), new Date(8.64e15), new Date(-8.64e15), new Date(1700000000123)]"
             ".every((d) => { const c = __rt(d); return c instanceof Date && same(d, c); })");
    JS_TRUE_("[/a+b/, /a\\/b[/]/gimsuy, new RegExp(''), /\\u{1F600}/u, /^$/m]"
             ".every((r) => { const c = __rt(r); return c instanceof RegExp && same(r, c) && c.lastIndex === 0; })");
}

static void test_buffers_and_views(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("const ab = new ArrayBuffer(8); new Uint8Array(ab).set([1,2,3,4,5,6,7,255]); "
             "rt_same(ab) && rt_same(new ArrayBuffer(0))");
    JS_TRUE_("const kinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, "
             "Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array]; "
             "kinds.every((K) => { const ab = new ArrayBuffer(64); "
             "new Uint8Array(ab).forEach((_, i, a) => a[i] = i * 7); "
             "const v = new K(ab, 8, 3); const c = __rt(v); "
             "return c instanceof K && c.byteOffset === 8 && c.length === 3 && c.buffer.byteLength === 64 "
             "&& same(v, c) && Array.from(c).every((x, i) => Object.is(x, v[i])); })");
    JS_TRUE_("const dv = new DataView(new ArrayBuffer(16), 3, 5); dv.setUint16(0, 0xbeef); "
             "const c = __rt(dv); c instanceof DataView && c.byteOffset === 3 && c.byteLength === 5 "
             "&& c.getUint16(0) === 0xbeef && same(dv, c)");
    /* One buffer under several views stays one buffer. */
    JS_TRUE_("const ab = new ArrayBuffer(32); "
             "const o = {u8: new Uint8Array(ab, 4, 4), f64: new Float64Array(ab, 8, 2), "
             "dv: new DataView(ab, 1, 2), ab, again: new Uint8Array(ab)}; "
             "const c = __rt(o); c.u8.buffer === c.ab && c.f64.buffer === c.ab && c.dv.buffer === c.ab "
             "&& c.again.buffer === c.ab && c.ab !== ab && same(o, c) && (c.again[5] = 9, c.u8[1] === 9)");
    JS_TRUE_("const v = new Uint8Array([1,2,3]); const c = __rt([v, v, v.buffer]); "
             "c[0] === c[1] && c[2] === c[0].buffer");
}

static void test_map_set(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("const k = {k: 1}; const m = new Map([[3, 'c'], ['a', 1], [k, k], [NaN, -0], [-0, 'z']]); "
             "m.delete(3); m.set(3, 'again'); const c = __rt(m); "
             "same(m, c) && [...c.keys()][4] === 3 && c.get(3) === 'again' && [...c.keys()][1] === [...c.values()][1]");
    JS_TRUE_("const s = new Set(['b', 'a', 1, 1n, null, undefined]); s.delete('b'); s.add('b'); "
             "const c = __rt(s); same(s, c) && [...c].join() === [...s].join()");
    JS_TRUE_("const m = new Map(); m.set(m, m); const s = new Set(); s.add(s); s.add(m); "
             "const c = __rt([m, s]); c[0].get(c[0]) === c[0] && c[1].has(c[1]) && c[1].has(c[0])");
}

static void test_arrays(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("rt_same([]) && rt_same([1, 'a', [2, [3]], {x: [4]}])");
    JS_TRUE_("const a = [1, , 3, , ]; const c = __rt(a); c.length === 4 && !(1 in c) && !(3 in c) "
             "&& c[2] === 3 && same(a, c)");
    JS_TRUE_("const a = new Array(5); const c = __rt(a); c.length === 5 && Object.keys(c).length === 0");
    JS_TRUE_("const a = []; a[1000000] = 'x'; a[7] = 'y'; const c = __rt(a); "
             "c.length === 1000001 && c[1000000] === 'x' && c[7] === 'y' && Object.keys(c).length === 2 "
             "&& __bytes(a)[1] === 0x61 && __bytes(a).length < 40");
    JS_TRUE_("const a = []; a[3000000000] = 'big'; a[4294967294] = 'last'; const c = __rt(a); "
             "c.length === 4294967295 && c[3000000000] === 'big' && c[4294967294] === 'last'");
    JS_TRUE_("const a = [1, 2]; a.extra = 'e'; a['-1'] = 'neg'; const c = __rt(a); "
             "c.extra === 'e' && c['-1'] === 'neg' && c.length === 2 && same(a, c)");
    JS_TRUE_("const a = [undefined, null]; const c = __rt(a); 0 in c && c[0] === undefined && c.length === 2");
}

static void test_objects(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("const o = {b: 1, a: 2, 10: 'ten', 2: 'two', '': 'empty', 'k\\u0000': 0}; "
             "const c = __rt(o); Object.keys(c).join('|') === Object.keys(o).join('|') && same(o, c)");
    JS_TRUE_("const o = JSON.parse('{\"__proto__\": {\"x\": 1}, \"y\": 2}'); const c = __rt(o); "
             "Object.getPrototypeOf(c) === Object.prototype && Object.keys(c).join() === '__proto__,y' "
             "&& c.__proto__ !== undefined");
    JS_TRUE_("const o = Object.create(null); o.x = 1; const c = __rt(o); c.x === 1");
    JS_TRUE_("const o = {}; Object.defineProperty(o, 'hidden', {value: 1, enumerable: false}); "
             "o[Symbol('s')] = 2; o.v = 3; const c = __rt(o); Object.getOwnPropertyNames(c).join() === 'v' "
             "&& Object.getOwnPropertySymbols(c).length === 0");
    JS_TRUE_("let calls = 0; const o = {get x() { calls++; return {deep: 42}; }}; const c = __rt(o); "
             "calls === 1 && c.x.deep === 42 && Object.getOwnPropertyDescriptor(c, 'x').value.deep === 42");
    JS_TRUE_("(function () { const c = __rt(arguments); return c[0] === 1 && c[1] === 'b'; })(1, 'b')");
}

static void test_cycles_and_sharing(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("const a = {name: 'a'}; const o = {x: a, y: a, z: [a, a]}; o.self = o; o.z.push(o.z); "
             "const c = __rt(o); c.self === c && c.x === c.y && c.z[0] === c.x && c.z[2] === c.z && "
             "c.x !== a && same(o, c)");
    /* More objects than the inline back-reference table: the table grows. */
    JS_TRUE_("const objs = Array.from({length: 5000}, (_, i) => ({i})); "
             "const c = __rt([objs, objs.slice().reverse()]); "
             "c[0].every((o, i) => o.i === i && c[1][4999 - i] === o)");
}

static void test_errors(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("[Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError]"
             ".every((E) => { const e = new E('msg ' + E.name); const c = __rt(e); "
             "return c instanceof E && c.name === E.name && c.message === e.message && c.stack === e.stack; })");
    JS_TRUE_("const e = new AggregateError([1], 'agg'); const c = __rt(e); "
             "c instanceof AggregateError && c.message === 'agg' && c.name === 'AggregateError'");
    JS_TRUE_("const e = new Error(); const c = __rt(e); !Object.prototype.hasOwnProperty.call(c, 'message') "
             "&& c.message === ''");
    JS_TRUE_("const e = new TypeError('x'); e.name = 'MyError'; e.code = 5; e.cause = 'c'; "
             "const c = __rt(e); c.name === 'Error' && c.constructor === Error && c.message === 'x' "
             "&& c.code === undefined && c.cause === undefined");
    JS_TRUE_("class MyErr extends RangeError {}; const c = __rt(new MyErr('m')); "
             "c.constructor === RangeError && c.message === 'm'");
    JS_TRUE_("const e = new Error('s'); e.stack = undefined; const c = __rt({e}); c.e.message === 's'");
    JS_TRUE_("const e = new Error('cyc'); const o = {e, again: e}; const c = __rt(o); c.e === c.again");
}

static void test_class_instances(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    /* Storage and structuredClone: a plain object of own enumerable properties. */
    JS_TRUE_("class Foo { constructor() { this.a = 1; } get g() { return 2; } }; "
             "const c = __rt(new Foo(), 2); Object.getPrototypeOf(c) === Object.prototype && "
             "c.a === 1 && c.g === undefined");
    JS_TRUE_("class Foo { constructor() { this.a = 1; } }; const c = __rt({f: new Foo()}, 0); "
             "Object.getPrototypeOf(c.f) === Object.prototype && c.f.a === 1");
    /* RPC: rejected, naming the class. */
    JS_TRUE_("class Foo {}; throws(() => __rt({deep: [new Foo()]}, 1), 'DataCloneError', "
             "/^#<Foo> could not be cloned/)");
    JS_TRUE_("throws(() => __rt(Object.create({}), 1), 'DataCloneError', /could not be cloned/)");
    JS_TRUE_("rt_same({a: Object.create(null)}, 1)");
    /* Host objects written in JS opt out with the marker: even storage refuses them. */
    JS_TRUE_("class Id { get [Symbol.for('durable.noClone')]() { return true; } }; "
             "throws(() => __rt({id: new Id()}, 2), 'DataCloneError', /#<Id> could not be cloned/)");
}

static void test_uncloneable(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("throws(() => __rt(function foo() {}), 'DataCloneError', "
             "/^function foo\\(\\) \\{\\} could not be cloned\\.$/)");
    JS_TRUE_("throws(() => __rt({a: [1, () => 1]}), 'DataCloneError', /^\\(\\) => 1 could not be cloned/)");
    JS_TRUE_("throws(() => __rt(class K {}), 'DataCloneError', /class K/)");
    JS_TRUE_("throws(() => __rt(Symbol('sym')), 'DataCloneError', /^Symbol\\(sym\\) could not be cloned/)");
    JS_TRUE_("throws(() => __rt({s: Symbol()}), 'DataCloneError', /^Symbol\\(\\) could not be cloned/)");
    JS_TRUE_("throws(() => __rt(new WeakMap()), 'DataCloneError', /^#<WeakMap> could not be cloned/)");
    JS_TRUE_("throws(() => __rt(new WeakSet()), 'DataCloneError', /^#<WeakSet> could not be cloned/)");
    JS_TRUE_("throws(() => __rt([Promise.resolve(1)]), 'DataCloneError', /^#<Promise> could not be cloned/)");
    JS_TRUE_("throws(() => __rt(new Proxy({}, {})), 'DataCloneError', /^#<Object> could not be cloned/)");
    JS_TRUE_("throws(() => __rt(new Map([[1, Math.max]])), 'DataCloneError', /could not be cloned/)");
    JS_TRUE_("throws(() => __rt([1, 2][Symbol.iterator]()), 'DataCloneError', /could not be cloned/)");
    JS_TRUE_("const f = 'x'.repeat(500); throws(() => __rt(new Function(f)), 'DataCloneError', "
             "/^function anonymous[^]{0,80}\\.\\.\\. could not be cloned/)");
    JS_TRUE_("typeof SharedArrayBuffer !== 'function' || "
             "throws(() => __rt(new SharedArrayBuffer(4)), 'DataCloneError', /SharedArrayBuffer/)");
    /* A throwing getter's own exception is what the caller sees. */
    JS_TRUE_("throws(() => __rt({get x() { throw new TypeError('boom'); }}), 'TypeError', /^boom$/)");
    /* No DOMException yet: an Error named DataCloneError. */
    JS_TRUE_("try { __rt(Symbol()); false } catch (e) { e instanceof Error && e.name === 'DataCloneError' }");
}

static void test_dom_exception(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("globalThis.DOMException = class DOMException extends Error {"
             "  constructor(message = '', name = 'Error') { super(message); this._n = name; }"
             "  get name() { return this._n; } };"
             "try { __rt(() => 1); false } catch (e) { e instanceof DOMException && e.name === 'DataCloneError' }");
    JS_TRUE_("const d = new DOMException('gone', 'AbortError'); const c = __rt({d}, 1).d; "
             "c instanceof DOMException && c.name === 'AbortError' && c.message === 'gone' && c.stack === d.stack");
    JS_TRUE_("delete globalThis.DOMException; true");
}

/* Values nest JS_CLONE_DEPTH_MAX deep; one more is a RangeError, not a crash. */
static void test_depth(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    char code[512];
    snprintf(code, sizeof code,
             "const nest = (n) => { let v = 0; for (let i = 0; i < n; i++) v = [v]; return v; };"
             "const depth = (v) => { let d = 0; while (Array.isArray(v)) { v = v[0]; d++; } return d; };"
             "depth(__rt(nest(%d))) === %d && depth(__rt(nest(%d))) === %d && "
             "throws(() => __rt(nest(%d)), 'RangeError', /nested more than %d/) && "
             "throws(() => __rt(nest(10000)), 'RangeError', /nested/)",
             JS_CLONE_DEPTH_MAX - 1, JS_CLONE_DEPTH_MAX - 1, JS_CLONE_DEPTH_MAX,
             JS_CLONE_DEPTH_MAX, JS_CLONE_DEPTH_MAX + 1, JS_CLONE_DEPTH_MAX);
    JS_TRUE_(code);
    JS_TRUE_("let o = {}; const root = o; for (let i = 0; i < 10000; i++) { o.next = {}; o = o.next; } "
             "throws(() => __rt(root), 'RangeError', /nested/)");
    JS_TRUE_("const m = new Map(); let cur = m; for (let i = 0; i < 10000; i++) { const n = new Map(); "
             "cur.set(i, n); cur = n; } throws(() => __rt(m), 'RangeError', /nested/)");
    /* The reader has the same bound: depth+1 nested dense arrays written by hand. */
    size_t n = JS_CLONE_DEPTH_MAX + 1;
    uint8_t *b = malloc(1 + n * 3 + 1 + n);
    size_t k = 0;
    b[k++] = JS_CLONE_VERSION;
    for (size_t i = 0; i < n; i++) {
        b[k++] = 'A';
        b[k++] = 1;
    }
    b[k++] = '_';
    for (size_t i = 0; i < n; i++)
        b[k++] = 0;
    JSValue v = js_clone_read(ctx, b, k);
    assert_true(JS_IsException(v));
    JSValue e = JS_GetException(ctx);
    JSValue msg = JS_GetPropertyStr(ctx, e, "message");
    const char *s = JS_ToCString(ctx, msg);
    assert_non_null(strstr(s, "nested more than"));
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, msg);
    JS_FreeValue(ctx, e);
    /* One level less reads fine. */
    k = 0;
    b[k++] = JS_CLONE_VERSION;
    for (size_t i = 0; i < n - 1; i++) {
        b[k++] = 'A';
        b[k++] = 1;
    }
    b[k++] = '_';
    for (size_t i = 0; i < n - 1; i++)
        b[k++] = 0;
    v = js_clone_read(ctx, b, k);
    assert_false(JS_IsException(v));
    JS_FreeValue(ctx, v);
    free(b);
}

/* The bound of the caller's buf: at, one below; existing content kept. */
static void test_size_limit(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JSValue v = JS_Eval(ctx, "({s: 'x'.repeat(100)})", 22, "<t>", JS_EVAL_TYPE_GLOBAL);
    assert_false(JS_IsException(v));
    buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_append(&b, "HDR", 3), 0);
    assert_int_equal(js_clone_write(ctx, v, 0, &b), 0);
    size_t need = b.len;          /* 3 + encoding */
    JSValue c = js_clone_read(ctx, (const uint8_t *)b.ptr + 3, b.len - 3);
    assert_false(JS_IsException(c));
    JS_FreeValue(ctx, c);
    buf_fini(&b);

    buf_init(&b, need);
    assert_int_equal(buf_append(&b, "HDR", 3), 0);
    assert_int_equal(js_clone_write(ctx, v, 0, &b), 0);
    assert_int_equal(b.len, need);
    buf_fini(&b);

    buf_init(&b, need - 1);
    assert_int_equal(buf_append(&b, "HDR", 3), 0);
    assert_int_equal(js_clone_write(ctx, v, 0, &b), -1);
    assert_int_equal(b.len, 3);                  /* nothing half-written left */
    assert_memory_equal(b.ptr, "HDR", 3);
    JSValue e = JS_GetException(ctx);
    JSValue msg = JS_GetPropertyStr(ctx, e, "message");
    const char *s = JS_ToCString(ctx, msg);
    char want[64];
    snprintf(want, sizeof want, "value too large: more than %zu bytes", need - 1);
    assert_string_equal(s, want);
    assert_true(JS_IsError(ctx, e));
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, msg);
    JS_FreeValue(ctx, e);
    buf_fini(&b);
    JS_FreeValue(ctx, v);
}

/* The format is stored on disk: these bytes must never change meaning. */
static void test_golden_bytes(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("hex(__bytes({a: [1, -1, 'é'], b: null})) === "
             "'01 6f 02 01 61 41 03 69 02 69 01 73 02 c3 a9 00 01 62 30'");
    JS_TRUE_("hex(__bytes([1.5, true, undefined, , -2n])) === "
             "'01 41 05 64 00 00 00 00 00 00 f8 3f 54 5f 68 6e 02 2d 32 00'");
    JS_TRUE_("const a = {}; hex(__bytes([a, a])) === '01 41 02 6f 00 72 01 00'");
    JS_TRUE_("hex(__bytes(new Uint16Array([258]))) === '01 56 04 42 02 02 01 00 01'");
    JS_TRUE_("hex(__bytes(new Date(0))) === '01 44 00 00 00 00 00 00 00 00'");
    JS_TRUE_("hex(__bytes(new TypeError('m'))).startsWith('01 45 05 73 01 6d 73')");
    /* And they read back. */
    JS_TRUE_("same(__read(new Uint8Array([1, 0x6f, 2, 1, 0x61, 0x41, 3, 0x69, 2, 0x69, 1, 0x73, 2, "
             "0xc3, 0xa9, 0, 1, 0x62, 0x30])), {a: [1, -1, 'é'], b: null})");
    JS_TRUE_("const a = __bytes({x: [1, 2]}); hex(a) === hex(__bytes({x: [1, 2]}))");
}

/* Hand-made malformed inputs, each with the byte it must blame. */
static void test_malformed_cases(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("const bad = (bytes, at) => throws(() => __read(new Uint8Array(bytes)), 'Error', "
             "new RegExp('^structured clone: malformed data at byte ' + at + '$'));"
             "bad([], 0) && bad([1], 1) && bad([1, 0x5f, 0x5f], 2) && bad([1, 0x7a], 1) &&"
             "bad([1, 0x72, 0], 2) &&                                 /* back-ref to nothing */"
             "bad([1, 0x68], 1) &&                                    /* hole outside an array */"
             "bad([1, 0x73, 5, 0x61], 2) &&                           /* string past the end */"
             "bad([1, 0x73, 2, 0xc3, 0x28], 3) &&                     /* bad UTF-8 */"
             "bad([1, 0x73, 2, 0xc0, 0x80], 3) &&                     /* overlong */"
             "bad([1, 0x73, 4, 0xf4, 0x90, 0x80, 0x80], 3) &&         /* above U+10FFFF */"
             "bad([1, 0x6e, 2, 0x2d, 0x30], 2) && bad([1, 0x6e, 2, 0x30, 0x31], 2) && bad([1, 0x6e, 0], 2) &&"
             "bad([1, 0x69, 0x80, 0x80, 0x80, 0x80, 0x10], 2) &&      /* int32 out of range */"
             "bad([1, 0x69, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 2) &&"
             "bad([1, 0x56, 12], 2) &&                                /* unknown view kind */"
             "bad([1, 0x56, 1, 0x6f, 0], 3) &&                        /* view of a non-buffer */"
             "bad([1, 0x56, 1, 0x42, 2, 0, 0, 2, 1], 7) &&            /* view past the buffer */"
             "bad([1, 0x56, 3, 0x42, 4, 0, 0, 0, 0, 1, 1], 9) &&      /* misaligned Int16Array */"
             "bad([1, 0x56, 1, 0x72, 0, 0, 0], 4) &&                  /* view of itself */"
             "bad([1, 0x61, 5, 2, 3, 0x5f, 3, 0x5f, 0], 6) &&         /* indices not increasing */"
             "bad([1, 0x61, 5, 1, 5, 0x5f, 0], 4) &&                  /* index >= length */"
             "bad([1, 0x41, 3, 0x5f], 2) &&                           /* dense array cut short */"
             "bad([1, 0x41, 0x80, 0x80, 0x80, 0x80, 0x10], 2) &&      /* length > 2^32-1 */"
             "bad([1, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f], 2) &&      /* Date(Infinity) */"
             "bad([1, 0x45, 8], 2) && bad([1, 0x45, 0, 0x69], 3) &&   /* error kind, message */"
             "bad([1, 0x62, 0x6f, 0], 2) && bad([1, 0x62, 0x5f], 2) && /* boxed non-primitive */"
             "bad([1, 0x6f, 1, 1, 0x61], 5) && bad([1, 0x6f, 9], 2) &&"
             "bad([1, 0x4d, 1, 0x5f], 2) && bad([1, 0x53, 2, 0x5f], 2) &&"
             "bad([1, 0x5f, 0], 2)                                    /* trailing byte */");
    JS_TRUE_("throws(() => __read(new Uint8Array([2, 0x5f])), 'RangeError', /unsupported format version 2/)");
    JS_TRUE_("throws(() => __read(new Uint8Array([1, 0x52, 1, 0x28, 0])), 'SyntaxError')");
}

/* Every prefix of a rich encoding must fail cleanly; every one-byte change must
 * either decode or fail cleanly (ASan checks the "cleanly"). */
static void test_truncation_and_mutation(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    static const char rich[] =
        "(() => { const ab = new ArrayBuffer(12); const shared = {s: 'x\\ud800é😀'};"
        " const o = {n: [1, -0, NaN, 2**40, 123456789012345678901234567890n], shared, again: shared,"
        " m: new Map([[1, shared], ['k', new Set([1, 'a'])]]), d: new Date(5), r: /a/g,"
        " v: new Int16Array(ab, 2, 3), dv: new DataView(ab), ab, e: new RangeError('r'),"
        " w: [new Number(1), new String('s'), Object(2n), new Boolean(true)], h: [1, , 3] };"
        " const sp = []; sp[100] = 1; o.sp = sp; o.self = o; return o; })()";
    JSValue v = JS_Eval(ctx, rich, sizeof rich - 1, "<rich>", JS_EVAL_TYPE_GLOBAL);
    assert_false(JS_IsException(v));
    buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(js_clone_write(ctx, v, 0, &b), 0);
    JS_FreeValue(ctx, v);
    size_t n = b.len;
    uint8_t *copy = malloc(n);
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(copy, b.ptr, cut);
        JSValue r = js_clone_read(ctx, copy, cut);
        if (!JS_IsException(r))
            print_error("prefix of %zu of %zu bytes decoded\n", cut, n);
        assert_true(JS_IsException(r));
        JS_FreeValue(ctx, JS_GetException(ctx));
    }
    static const uint8_t subst[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, '_', 'r', 'A', 'o', 'h',
                                    'V', 'B', 's'};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof subst; k++) {
            memcpy(copy, b.ptr, n);
            copy[i] = subst[k];
            JSValue r = js_clone_read(ctx, copy, n);
            if (JS_IsException(r))
                JS_FreeValue(ctx, JS_GetException(ctx));
            else
                JS_FreeValue(ctx, r);
        }
    }
    JSValue r = js_clone_read(ctx, (const uint8_t *)b.ptr, n);
    assert_false(JS_IsException(r));
    JS_FreeValue(ctx, r);
    free(copy);
    buf_fini(&b);
}

static void test_structured_clone(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("typeof structuredClone === 'function' && structuredClone.length === 1 && "
             "!Object.getOwnPropertyDescriptor(globalThis, 'structuredClone').enumerable");
    JS_TRUE_("throws(() => structuredClone(), 'TypeError', "
             "/^Failed to execute 'structuredClone': 1 argument required, but only 0 present\\.$/)");
    JS_TRUE_("structuredClone(undefined) === undefined && structuredClone(5, undefined) === 5 && "
             "structuredClone(5, null) === 5 && structuredClone(5, {}) === 5");
    JS_TRUE_("const o = {a: [1, {b: 2n}], d: new Date(3)}; o.o = o; same(o, structuredClone(o))");
    JS_TRUE_("class Foo { constructor() { this.x = 1; } }; const c = structuredClone(new Foo()); "
             "Object.getPrototypeOf(c) === Object.prototype && c.x === 1");
    JS_TRUE_("throws(() => structuredClone(function foo() {}), 'DataCloneError', "
             "/^Failed to execute 'structuredClone': function foo\\(\\) \\{\\} could not be cloned\\.$/)");
    JS_TRUE_("throws(() => structuredClone(1, 5), 'TypeError', /StructuredSerializeOptions/)");
    JS_TRUE_("throws(() => structuredClone(1, {transfer: 5}), 'TypeError', /sequence/)");
    JS_TRUE_("structuredClone(1, {transfer: []}) === 1");
}

static void test_transfer(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("const ab = new ArrayBuffer(4); new Uint8Array(ab).set([1, 2, 3, 4]); const u = new Uint8Array(ab);"
             "const c = structuredClone({u, ab}, {transfer: [ab]}); "
             "ab.byteLength === 0 && c.ab.byteLength === 4 && c.u.buffer === c.ab && c.u[3] === 4 "
             "&& u.length === 0");
    JS_TRUE_("const ab = new ArrayBuffer(4); const c = structuredClone(1, {transfer: [ab]}); "
             "c === 1 && ab.byteLength === 0");
    JS_TRUE_("const ab = new ArrayBuffer(4); throws(() => structuredClone(ab, {transfer: [ab, ab]}), "
             "'DataCloneError', /index 1 is a duplicate.*Indices 0 and 1/) && ab.byteLength === 4");
    JS_TRUE_("throws(() => structuredClone(1, {transfer: [{}]}), 'DataCloneError', "
             "/Value at index 0 does not have a transferable type/)");
    JS_TRUE_("const ab = new ArrayBuffer(4); const view = new Uint8Array(ab); "
             "structuredClone(1, {transfer: [ab]}); "
             "throws(() => structuredClone(ab), 'DataCloneError', /detached/) && "
             "throws(() => structuredClone(1, {transfer: [ab]}), 'DataCloneError', /index 0 is already detached/) && "
             "throws(() => structuredClone(view), 'DataCloneError', /detached/)");
    /* A failed clone detaches nothing. */
    JS_TRUE_("const ab = new ArrayBuffer(4); throws(() => structuredClone([ab, Symbol()], {transfer: [ab]}), "
             "'DataCloneError') && ab.byteLength === 4");
}

/* Getters that mutate what is being written cannot break the encoding. */
static void test_mutation_during_write(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("const m = new Map([[1, {get x() { m.set(m.size + 10, 0); return 1; }}], [2, 2]]); "
             "const c = __rt(m); c.size === 2 && c.get(1).x === 1");
    JS_TRUE_("const o = {a: 1, get b() { delete o.c; o.d = 4; return 2; }, c: 3}; const c = __rt(o); "
             "c.a === 1 && c.b === 2 && 'c' in c && c.c === undefined && !('d' in c)");
    JS_TRUE_("const a = [1, 2, 3]; Object.defineProperty(a, 0, {get() { a.length = 0; return 'g'; }, "
             "enumerable: true, configurable: true}); const c = __rt(a); c.length === 3 && c[0] === 'g'");
    JS_TRUE_("let n = 0; const o = {get x() { return n++ < 100 ? __rt(o) : 0; }}; const c = __rt(o); "
             "typeof c.x === 'object'");
}

/* The engine facts clone.c relies on: every class is recognized as the right kind. */
static void test_engine_classes(void **state)
{
    JSContext *ctx = ((fixture *)*state)->ctx;
    JS_TRUE_("[new Int8Array(1), new Uint8Array(1), new Uint8ClampedArray(1), new Int16Array(1), "
             "new Uint16Array(1), new Int32Array(1), new Uint32Array(1), new Float32Array(1), "
             "new Float64Array(1), new BigInt64Array(1), new BigUint64Array(1), new DataView(new ArrayBuffer(1))]"
             ".every((v) => __rt(v).constructor === v.constructor)");
    JS_TRUE_("[new Map(), new Set(), new Date(), /x/, new ArrayBuffer(1), new Error(), [], {}, "
             "new Number(1), new String(''), new Boolean(false), Object(1n)]"
             ".every((v) => tag(__rt(v)) === tag(v))");
    JS_TRUE_("const r = __read(__bytes(new Map([[1, 2]]))); r instanceof Map && r.get(1) === 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_primitives, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bigint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrappers_date_regexp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffers_and_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arrays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycles_and_sharing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_class_instances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uncloneable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dom_exception, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_golden_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation_and_mutation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_structured_clone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutation_during_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_classes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
