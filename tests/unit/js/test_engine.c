/* Unit tests for what patches/quickjs changes in the engine and for the runtime's
 * stack limit (js/rt.c): the regexp matcher stops at the CPU limit, deep values are
 * a RangeError rather than a crash, one-line functions keep their line in stacks,
 * eval and new Function are refused after startup, Date is UTC with the zone name,
 * the JS stack limit fits the thread's real stack, and modules await at their top
 * level. Each test fails (or crashes) on an unpatched engine. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "js/rt.h"
#include "web/web.h"

typedef struct fixture {
    uv_loop_t loop;
    js_rt *rt;
    JSContext *ctx;
} fixture;

static int setup_cpu(void **state, uint32_t cpu_ms)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    js_rt_opts o = {.cpu_ms_max = cpu_ms, .memory_bytes_max = 64u * 1024u * 1024u,
                    .install = web_install};
    err e = {0};
    f->rt = js_rt_new(&f->loop, &o, &e);
    if (!f->rt)
        fail_msg("runtime: %s", e.msg);
    f->ctx = js_rt_context_new(f->rt, &e);
    if (!f->ctx)
        fail_msg("context: %s", e.msg);
    *state = f;
    return 0;
}

/* A short CPU limit for the tests that hit it, a long one for the others. */
static int setup_short(void **state)
{
    return setup_cpu(state, 100);
}

static int setup(void **state)
{
    return setup_cpu(state, 10000);
}

static int teardown(void **state)
{
    fixture *f = *state;
    js_context_free(f->ctx);
    js_rt_free(f->rt);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

/* Evaluates `src` as one event and returns its value as a malloc'd string
 * ("EXC: " and the exception's text on a throw). */
static char *eval_str(fixture *f, const char *src)
{
    js_rt_event_begin(f->rt);
    JSValue v = JS_Eval(f->ctx, src, strlen(src), "<test>", JS_EVAL_TYPE_GLOBAL);
    js_rt_event_end(f->rt);
    char *out;
    if (JS_IsException(v)) {
        char *t = js_exception_text(f->ctx, JS_UNDEFINED);
        size_t n = strlen(t) + 6;
        out = malloc(n);
        snprintf(out, n, "EXC: %s", t);
        free(t);
    } else {
        const char *s = JS_ToCString(f->ctx, v);
        out = strdup(s ? s : "(null)");
        JS_FreeCString(f->ctx, s);
    }
    JS_FreeValue(f->ctx, v);
    js_rt_pump(f->rt);
    return out;
}

static void expect(fixture *f, const char *src, const char *want)
{
    char *got = eval_str(f, src);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n  want: %s\n  got:  %s", src, want, got);
    free(got);
}

static void expect_prefix(fixture *f, const char *src, const char *want)
{
    char *got = eval_str(f, src);
    if (strncmp(got, want, strlen(want)) != 0)
        fail_msg("%s\n  want: %s...\n  got:  %s", src, want, got);
    free(got);
}

/* patch 0001: /(a+)+$/ on 26 a's and a b takes seconds of backtracking inside one
 * bytecode; the matcher now asks the interrupt handler and stops at the limit,
 * through both lre_exec callers (exec and the global-replace fast path). */
static void test_regexp_interrupt(void **state)
{
    fixture *f = *state;
    static const char *const srcs[] = {
        "/(a+)+$/.test('a'.repeat(26) + 'b')",
        "('a'.repeat(26) + 'b').replace(/(a+)+$/g, '')",
        /* the abort cannot be caught */
        "try { /(a+)+$/.exec('a'.repeat(26) + 'b'); 'finished' } catch (e) { 'caught' }",
    };
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        char *got = eval_str(f, srcs[i]);
        if (strstr(got, "InternalError: interrupted") == NULL)
            fail_msg("%s\n  want: InternalError: interrupted\n  got:  %s", srcs[i], got);
        free(got);
        assert_true(js_rt_take_cpu_exceeded(f->rt));
    }
    /* Ordinary patterns are unaffected, and the context still works. */
    expect(f, "/(a+)+$/.test('a'.repeat(26)) + ',' + 'x-y-z'.replace(/-/g, '+')", "true,x+y+z");
    assert_false(js_rt_take_cpu_exceeded(f->rt));
}

/* expect() for source with its own let/const: run inside a block, so that each
 * case has fresh bindings (the value is the block's completion value). */
static void expect_in_block(fixture *f, const char *src, const char *want)
{
    char wrapped[512];
    int n = snprintf(wrapped, sizeof wrapped, "{ %s }", src);
    assert_true(n > 0 && (size_t)n < sizeof wrapped);
    expect(f, wrapped, want);
}

/* patch 0017: x++ / x-- on an int skip the slow path; every other value, and the
 * int edges that overflow, still take it. Both the variable and the value of the
 * expression are checked. */
static void test_post_inc(void **state)
{
    fixture *f = *state;
    expect_in_block(f, "let s = 0; for (let i = 0; i < 100; i++) s += i; s", "4950");
    expect_in_block(f, "let s = 0; for (let i = 100; i > 0; i--) s += i; s", "5050");
    expect_in_block(f, "let a = 5; const b = a++; `${a},${b}`", "6,5");
    expect_in_block(f, "let a = 5; const b = a--; `${a},${b}`", "4,5");
    expect_in_block(f, "let a = 2147483647; const b = a++; `${a},${b}`", "2147483648,2147483647");
    expect_in_block(f, "let a = -2147483648; const b = a--; `${a},${b}`", "-2147483649,-2147483648");
    expect_in_block(f, "let a = 2147483646; a++; a++; a", "2147483648");
    expect_in_block(f, "let a = 1.5; const b = a++; `${a},${b}`", "2.5,1.5");
    expect_in_block(f, "let a = -0; const b = a--; `${a},${Object.is(b, -0)}`", "-1,true");
    expect_in_block(f, "let a = '7'; const b = a++; `${a},${typeof b},${b}`", "8,number,7");
    expect_in_block(f, "let a = 10n; const b = a--; `${a},${typeof b}`", "9,bigint");
    expect_in_block(f, "let n = 0; const o = { valueOf() { n++; return 41; } }; let a = o; const b = a++; `${a},${b},${n}`",
           "42,41,1");
    expect_in_block(f, "let a; const b = a++; `${a},${b}`", "NaN,NaN");
    expect_in_block(f, "const o = { x: 3 }; const b = o.x++; `${o.x},${b}`", "4,3");
    expect_in_block(f, "const t = [1, 2]; const b = t[1]--; `${t},${b}`", "1,1,2");
    expect_in_block(f, "try { let s = Symbol(); s++; 'no' } catch (e) { e.constructor.name }", "TypeError");
}

/* patch 0002: JSON.stringify recursed without a stack check (SIGSEGV at ~30,000
 * levels); stack exhaustion anywhere is a RangeError with V8's message. */
static void test_deep_json(void **state)
{
    fixture *f = *state;
    const char *want = "RangeError: Maximum call stack size exceeded";
    char src[512];
    snprintf(src, sizeof src, "let o = []; for (let i = 0; i < 200000; i++) o = [o];"
             "try { JSON.stringify(o); 'no error' } catch (e) { e.name + ': ' + e.message }");
    expect(f, src, want);
    expect(f, "let p = {}; for (let i = 0; i < 200000; i++) p = {p};"
              "try { JSON.stringify(p); 'no error' } catch (e) { `${e.name}: ${e.message}` }",
           want);
    expect(f, "try { JSON.parse('['.repeat(1000000)); 'no error' } catch (e) { `${e.name}: ${e.message}` }",
           want);
    expect(f, "function r() { return r() + 1; } try { r() } catch (e) { `${e.name}: ${e.message}` }",
           want);
    /* Depths that fit still work both ways. */
    expect(f, "const s = '['.repeat(5000) + ']'.repeat(5000); JSON.stringify(JSON.parse(s)) === s", "true");
}

/* patch 0003: a frame of a function written on one line had no line number. */
static void test_stack_line_numbers(void **state)
{
    fixture *f = *state;
    expect(f, "function mk() { return new Error('m'); } mk().stack.split('\\n')[0]",
           "    at mk (<test>:1)");
    expect(f, "\n\nfunction one() { throw new TypeError('x'); }\n"
              "function two() {\n  one();\n}\n"
              "try { two() } catch (e) { e.stack.split('\\n').slice(0, 2).join('|') }",
           "    at one (<test>:3)|    at two (<test>:5)");
    expect(f, "\nconst arrow = () => null.x;\ntry { arrow() } catch (e) { e.stack.split('\\n')[0] }",
           "    at arrow (<test>:2)");
}

/* patch 0004: code generation from strings is refused in a runtime context. */
static void test_codegen_refused(void **state)
{
    fixture *f = *state;
    const char *want = "EvalError: Code generation from strings disallowed for this context";
    static const char *const srcs[] = {
        "eval('1 + 1')",
        "(0, eval)('1 + 1')",
        "globalThis.eval('1 + 1')",
        "new Function('return 1')",
        "Function('a', 'b', 'return a + b')",
        "Function('')",
        "(async function () {}).constructor('return 1')",
        "(function* () {}).constructor('yield 1')",
        "(async function* () {}).constructor('yield 1')",
    };
    char src[256];
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        snprintf(src, sizeof src, "try { %s; 'allowed' } catch (e) { `${e.name}: ${e.message}` }",
                 srcs[i]);
        expect(f, src, want);
    }
    expect(f, "try { eval('1') } catch (e) { e instanceof EvalError }", "true");
    /* What V8 still allows: eval of a non-string, new Function() with no argument. */
    expect(f, "eval(42) + ',' + typeof new Function() + ',' + new Function()()", "42,function,undefined");
    /* A timer with a string is refused too (never evaluated). */
    expect_prefix(f, "globalThis.hit = 0; try { setTimeout('globalThis.hit = 1', 0); 'allowed' } "
                     "catch (e) { `${e.name}: ${e.message}` }",
                  "TypeError: setTimeout: parameter 1 is not of type 'Function'");
    /* The startup window (the loader allows it while a Worker's top level runs). */
    js_ctx_allow_codegen(f->ctx, true);
    expect(f, "eval('1 + 1') + new Function('return 40')()", "42");
    js_ctx_allow_codegen(f->ctx, false);
    expect(f, "try { eval('1') } catch (e) { e.name }", "EvalError");
}

/* patch 0005: Date is UTC whatever TZ says (main sets TZ to New York), and the
 * string forms end with the zone name, as workerd prints them. */
static void test_date_utc(void **state)
{
    fixture *f = *state;
    expect(f, "new Date(0).toString()", "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)");
    expect(f, "new Date(0).toTimeString()", "00:00:00 GMT+0000 (Coordinated Universal Time)");
    expect(f, "String(new Date(Date.UTC(2026, 6, 1, 12, 30)))",
           "Wed Jul 01 2026 12:30:00 GMT+0000 (Coordinated Universal Time)");
    expect(f, "new Date(2026, 6, 1, 12).getTimezoneOffset() + ',' + new Date(2026, 6, 1, 12).getUTCHours()",
           "0,12");
    expect(f, "new Date('2026-07-01T12:00:00').getTime() === Date.UTC(2026, 6, 1, 12)", "true");
    /* The widest year fits the string buffer. */
    expect(f, "new Date(-8.64e15).toString()",
           "Tue Apr 20 -271821 00:00:00 GMT+0000 (Coordinated Universal Time)");
    expect(f, "new Date(0).toUTCString() + '|' + new Date(0).toISOString()",
           "Thu, 01 Jan 1970 00:00:00 GMT|1970-01-01T00:00:00.000Z");
}

/* ---- the JS stack limit against the thread's real stack ---- */

typedef struct stack_case {
    char *result;          /* malloc'd: the outcome, for the main thread to check */
} stack_case;

static void deep_recursion_on_thread(void *arg)
{
    stack_case *c = arg;
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        c->result = strdup("loop init failed");
        return;
    }
    js_rt_opts o = {.cpu_ms_max = 5000, .install = web_install};
    err e = {0};
    js_rt *rt = js_rt_new(&loop, &o, &e);
    if (!rt) {
        c->result = strdup(e.msg);
        uv_loop_close(&loop);
        return;
    }
    JSContext *ctx = js_rt_context_new(rt, &e);
    if (!ctx) {
        c->result = strdup(e.msg);
    } else {
        /* JS recursion, then C recursion under it (JSON.stringify), both as deep as
         * the stack allows: with a limit that did not fit the thread, this crashes.
         * Then a structured clone of the deepest value it accepts, started where
         * JS has used up its stack: its C frames must fit in the reserve. */
        static const char src[] =
            "function r(n) { return n === 0 ? 0 : r(n - 1) + 1; }"
            "let a = 'none', b = 'none', c = 'none';"
            "try { r(1e7) } catch (e) { a = e.name }"
            "let o = []; for (let i = 0; i < 200000; i++) o = [o];"
            "try { JSON.stringify(o) } catch (e) { b = e.name }"
            "let d = {}; for (let i = 0; i < 1990; i++) d = {d};"
            "function atLimit() { try { return atLimit(); } catch { structuredClone(d); return 'cloned'; } }"
            "c = atLimit();"
            "a + ',' + b + ',' + c";
        js_rt_event_begin(rt);
        JSValue v = JS_Eval(ctx, src, sizeof src - 1, "<thread>", JS_EVAL_TYPE_GLOBAL);
        js_rt_event_end(rt);
        const char *s = JS_IsException(v) ? NULL : JS_ToCString(ctx, v);
        c->result = strdup(s ? s : "exception");
        if (s)
            JS_FreeCString(ctx, s);
        JS_FreeValue(ctx, v);
        js_context_free(ctx);
    }
    js_rt_free(rt);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

static char *run_on_thread(size_t stack_bytes)
{
    stack_case c = {0};
    uv_thread_t t;
    uv_thread_options_t to = {.flags = UV_THREAD_HAS_STACK_SIZE, .stack_size = stack_bytes};
    assert_int_equal(uv_thread_create_ex(&t, &to, deep_recursion_on_thread, &c), 0);
    assert_int_equal(uv_thread_join(&t), 0);
    assert_non_null(c.result);
    return c.result;
}

static void test_stack_fits_thread(void **state)
{
    (void)state;
    /* The shard stack: the whole JS limit fits. */
    char *r = run_on_thread(JS_THREAD_STACK_BYTES);
    assert_string_equal(r, "RangeError,RangeError,cloned");
    free(r);
    /* A smaller stack than the JS limit plus the C reserve: the limit shrinks. */
    r = run_on_thread(3u * 1024u * 1024u);
    assert_string_equal(r, "RangeError,RangeError,cloned");
    free(r);
    /* Too small to be safe at all: refused with a message that says so. */
    r = run_on_thread(1024u * 1024u);
    if (!strstr(r, "KiB of stack left"))
        fail_msg("want a refusal naming the stack, got: %s", r);
    free(r);
}

/* ---- patch 0012: top-level await ---- */

/* Writes the modules of `files` (name, source, ..., NULL) into a new folder and
 * evaluates the first as a module; returns what JS_Eval returned (a promise when
 * the graph awaits), with the folder's path in `dir`. */
static JSValue eval_modules(fixture *f, char dir[64], const char *const *files)
{
    snprintf(dir, 64, "/tmp/durable-tla-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[128];
    for (size_t i = 0; files[i]; i += 2) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(files[i + 1], fp);
        fclose(fp);
    }
    snprintf(path, sizeof path, "%s/%s", dir, files[0]);
    js_rt_event_begin(f->rt);
    JSValue v = JS_Eval(f->ctx, files[1], strlen(files[1]), path, JS_EVAL_TYPE_MODULE);
    js_rt_event_end(f->rt);
    return v;
}

static void remove_modules(const char *dir, const char *const *files)
{
    char path[128];
    for (size_t i = 0; files[i]; i += 2) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Runs promise jobs until none is left. */
static void run_all_jobs(fixture *f)
{
    JSContext *jctx;
    while (JS_ExecutePendingJob(JS_GetRuntime(f->ctx), &jctx) > 0) {
    }
}

/* The settled state of `p` (consumed) and its value or reason as text. */
static int settled(fixture *f, JSValue p, char *out, size_t n)
{
    JSValue v;
    int st = JS_GetPromiseState(f->ctx, p, &v);
    const char *s = JS_ToCString(f->ctx, v);
    snprintf(out, n, "%s", s ? s : "?");
    JS_FreeCString(f->ctx, s);
    JS_FreeValue(f->ctx, v);
    JS_FreeValue(f->ctx, p);
    return st;
}

/* An await at the top level of a module: the evaluation returns a promise, the
 * importer's body runs after the awaited module's has finished, import() of a
 * module that awaits settles to its namespace, and a cycle through a module that
 * waits does not deadlock (the module of the cycle sees the binding uninitialised,
 * as in a cycle without await). Without the patch the await is a SyntaxError. */
static void test_top_level_await(void **state)
{
    fixture *f = *state;
    static const char *const files[] = {
        "main.js",
        "import { log } from './log.js';\n"
        "import { x } from './a.js';\n"
        "log.push('main x=' + x);\n"
        "const ns = await import('./lazy.js');\n"
        "log.push('lazy ' + ns.v);\n"
        "for await (const v of [Promise.resolve('for')]) log.push(v);\n"
        "export const M = 1;\n"
        "globalThis.result = log.join(',');\n",
        "log.js", "export const log = [];\n",
        "a.js",
        "import { log } from './log.js';\nimport './w.js';\nimport './cyc.js';\n"
        "export const x = 7;\nlog.push('a');\n",
        "w.js",
        "import { log } from './log.js';\nlog.push('w start');\n"
        "await new Promise((r) => Promise.resolve().then(r));\nlog.push('w end');\n",
        "cyc.js",
        "import { log } from './log.js';\nimport { M } from './main.js';\n"
        "let seen; try { seen = M; } catch (e) { seen = e.name; }\n"
        "log.push('cyc ' + seen);\n",
        "lazy.js", "export const v = await 'v';\n",
        NULL,
    };
    char dir[64], out[256];
    JSValue p = eval_modules(f, dir, files);
    if (JS_IsException(p)) {
        char *t = js_exception_text(f->ctx, JS_UNDEFINED);
        fail_msg("evaluation threw: %s", t);
    }
    assert_int_equal(JS_GetPromiseState(f->ctx, p, NULL), 0);   /* pending */
    run_all_jobs(f);
    assert_int_equal(settled(f, p, out, sizeof out), 1);
    expect(f, "result", "w start,w end,cyc ReferenceError,a,main x=7,lazy v,for");
    remove_modules(dir, files);
    /* A module without await still evaluates synchronously (no promise). */
    static const char *const plain[] = {"plain.js", "globalThis.plain = 1;\n", NULL};
    p = eval_modules(f, dir, plain);
    assert_true(JS_IsUndefined(p));
    remove_modules(dir, plain);
    /* await stays an error outside the top level of a module. */
    expect_prefix(f, "await 1", "EXC: SyntaxError");
    static const char *const nested[] = {"nested.js", "function g() { await 1; }\n", NULL};
    p = eval_modules(f, dir, nested);
    assert_true(JS_IsException(p));
    char *t = js_exception_text(f->ctx, JS_UNDEFINED);
    assert_non_null(strstr(t, "SyntaxError: unexpected 'await' keyword"));
    free(t);
    remove_modules(dir, nested);
}

/* A rejected top-level await rejects the evaluation's promise and the importer's
 * with the same error, and a later import() of the module rejects with it again;
 * an await that nothing settles leaves the promise pending once the jobs are done,
 * and JS_GetModuleAwaitingAtTopLevel names the module. */
static void test_top_level_await_failures(void **state)
{
    fixture *f = *state;
    static const char *const rejects[] = {
        "main.js", "import './bad.js';\nglobalThis.ran = true;\n",
        "bad.js", "await null;\nthrow new RangeError('bad tla');\n",
        NULL,
    };
    char dir[64], out[256];
    JSValue p = eval_modules(f, dir, rejects);
    assert_int_equal(JS_GetPromiseState(f->ctx, p, NULL), 0);
    run_all_jobs(f);
    assert_int_equal(settled(f, p, out, sizeof out), 2);
    assert_string_equal(out, "RangeError: bad tla");
    expect(f, "typeof ran", "undefined");   /* the importer did not run */
    char src[256];
    snprintf(src, sizeof src, "import('%s/bad.js').then(() => 'ok', (e) => String(e))", dir);
    js_rt_event_begin(f->rt);
    p = JS_Eval(f->ctx, src, strlen(src), "<test>", JS_EVAL_TYPE_GLOBAL);
    js_rt_event_end(f->rt);
    run_all_jobs(f);
    assert_int_equal(settled(f, p, out, sizeof out), 1);
    assert_string_equal(out, "RangeError: bad tla");
    remove_modules(dir, rejects);

    static const char *const hangs[] = {
        "main.js", "import './stuck.js';\n",
        "stuck.js", "await new Promise(() => {});\n",
        NULL,
    };
    p = eval_modules(f, dir, hangs);
    run_all_jobs(f);
    assert_int_equal(JS_GetPromiseState(f->ctx, p, NULL), 0);
    JS_FreeValue(f->ctx, p);
    JSAtom a = JS_GetModuleAwaitingAtTopLevel(f->ctx);
    assert_int_not_equal(a, JS_ATOM_NULL);
    const char *name = JS_AtomToCString(f->ctx, a);
    char want[128];
    snprintf(want, sizeof want, "%s/stuck.js", dir);
    assert_string_equal(name, want);
    JS_FreeCString(f->ctx, name);
    JS_FreeAtom(f->ctx, a);
    remove_modules(dir, hangs);
}

int main(void)
{
    /* Date must not follow the host's zone (patch 0005). */
    setenv("TZ", "America/New_York", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_regexp_interrupt, setup_short, teardown),
        cmocka_unit_test_setup_teardown(test_post_inc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stack_line_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codegen_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_date_utc, setup, teardown),
        cmocka_unit_test(test_stack_fits_thread),
        cmocka_unit_test_setup_teardown(test_top_level_await, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_level_await_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
