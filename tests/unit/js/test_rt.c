/* Unit tests for js/rt.c and js/loader.c: contexts, prelude, CPU and memory
 * limits, the module loader's path rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "js/rt.h"
#include "web/web.h"

typedef struct fixture {
    uv_loop_t loop;
    js_rt *rt;
    JSContext *ctx;
} fixture;

static int setup_opts(void **state, uint32_t cpu_ms, size_t mem)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    /* The embedded web JS needs its natives, so contexts get the web platform. */
    js_rt_opts o = {.cpu_ms_max = cpu_ms, .memory_bytes_max = mem, .install = web_install};
    err e = {0};
    f->rt = js_rt_new(&f->loop, &o, &e);
    assert_non_null(f->rt);
    f->ctx = js_rt_context_new(f->rt, &e);
    if (!f->ctx)
        fail_msg("context: %s", e.msg);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_opts(state, 200, 32u * 1024u * 1024u);
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

/* Evaluates `src` and returns its value as a malloc'd string ("EXC: …" on throw). */
static char *eval_str(fixture *f, const char *src, int flags)
{
    js_rt_event_begin(f->rt);
    JSValue v = JS_Eval(f->ctx, src, strlen(src), "<test>", flags);
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
    char *got = eval_str(f, src, JS_EVAL_TYPE_GLOBAL);
    if (strcmp(got, want) != 0)
        fail_msg("%s\n  want: %s\n  got:  %s", src, want, got);
    free(got);
}

static void test_prelude(void **state)
{
    fixture *f = *state;
    expect(f, "[1,2,3].at(-1)", "3");
    expect(f, "[1,2,3].at(5)", "undefined");
    expect(f, "'héllo'.at(-4)", "é");
    expect(f, "[1,2,3,4].findLast(x => x % 2)", "3");
    expect(f, "[1,2,3,4].findLastIndex(x => x > 9)", "-1");
    expect(f, "Object.hasOwn({a:1}, 'a') + ',' + Object.hasOwn(Object.create({a:1}), 'a')", "true,false");
    expect(f, "JSON.stringify([3,1,2].toSorted())", "[1,2,3]");
    expect(f, "JSON.stringify(Object.groupBy([1,2,3], x => x > 1 ? 'big' : 'small'))",
           "{\"small\":[1],\"big\":[2,3]}");
    expect(f, "new Error('a', {cause: 5}).cause", "5");
    expect(f, "new TypeError('a', {cause: 'c'}).cause", "c");
    expect(f, "'cause' in new Error('a')", "false");
    expect(f, "new Error('m') instanceof Error", "true");
    expect(f, "try { null.x } catch (e) { (e instanceof TypeError) + ',' + (e instanceof Error) + ',' + (e.constructor === TypeError) }",
           "true,true,true");
    expect(f, "class E extends Error { constructor() { super('x', {cause: 1}); } }; const e = new E(); (e instanceof E) + ',' + e.cause + ',' + e.message",
           "true,1,x");
    expect(f, "Error.name + ',' + TypeError.name + ',' + Object.getPrototypeOf(TypeError) === Error", "false");
    expect(f, "Object.getPrototypeOf(TypeError) === Error", "true");
    expect(f, "Object.keys(Array.prototype).length", "0");
    expect(f, "typeof __durable", "undefined");
    expect(f, "[1,2].with(5, 1)", "EXC: RangeError: Invalid index : 5\n    at <eval> (<test>:1)");
    expect(f, "function mk() { return new Error('m'); } mk().stack.split('\\n')[0]", "    at mk (<test>:1)");
}

static void test_cpu_limit(void **state)
{
    fixture *f = *state;
    char *got = eval_str(f, "for (;;) {}", JS_EVAL_TYPE_GLOBAL);
    assert_non_null(strstr(got, "interrupted"));
    free(got);
    assert_true(js_rt_take_cpu_exceeded(f->rt));
    assert_false(js_rt_take_cpu_exceeded(f->rt));
    /* The context still works after an abort. */
    expect(f, "1 + 1", "2");
}

static void test_memory_limit(void **state)
{
    fixture *f = *state;
    char *got = eval_str(f, "const a = []; for (;;) a.push(new Array(100000).fill(1));",
                         JS_EVAL_TYPE_GLOBAL);
    assert_non_null(strstr(got, "out of memory"));
    free(got);
    expect(f, "globalThis.a = undefined; 'alive'", "alive");
}

static void test_modules(void **state)
{
    fixture *f = *state;
    char dir[] = "/tmp/durable-rt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/lib", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    const char *files[][2] = {
        {"main.js", "import {x} from './lib/x.js'; import t from './t.txt'; globalThis.out = x + t;"},
        {"lib/x.js", "import {y} from '../y.mjs'; export const x = 'x' + y;"},
        {"y.mjs", "export const y = 'y';"},
        {"t.txt", "T"},
        {"bad.js", "import fs from 'node:fs';"},
        {"bare.js", "import l from 'lodash';"},
        {"cf.js", "import {DurableObject} from 'cloudflare:workers'; globalThis.cf = typeof DurableObject;"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(files[i][1], fp);
        fclose(fp);
    }
    char src[1024];
    snprintf(src, sizeof src, "import '%s/main.js';", dir);
    free(eval_str(f, src, JS_EVAL_TYPE_MODULE));
    expect(f, "globalThis.out", "xyT");
    snprintf(src, sizeof src, "import '%s/bad.js';", dir);
    char *got = eval_str(f, src, JS_EVAL_TYPE_MODULE);
    assert_non_null(strstr(got, "node:fs"));
    free(got);
    snprintf(src, sizeof src, "import '%s/bare.js';", dir);
    got = eval_str(f, src, JS_EVAL_TYPE_MODULE);
    assert_non_null(strstr(got, "bundler"));
    free(got);
    snprintf(src, sizeof src, "import '%s/missing.js';", dir);
    got = eval_str(f, src, JS_EVAL_TYPE_MODULE);
    assert_non_null(strstr(got, "missing.js"));
    free(got);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_throw_dom(void **state)
{
    fixture *f = *state;
    JSValue r = js_throw_dom(f->ctx, "DataCloneError", "value %d could not be cloned", 7);
    assert_true(JS_IsException(r));
    JSValue exc = JS_GetException(f->ctx);
    JSValue name = JS_GetPropertyStr(f->ctx, exc, "name");
    JSValue msg = JS_GetPropertyStr(f->ctx, exc, "message");
    const char *n = JS_ToCString(f->ctx, name), *m = JS_ToCString(f->ctx, msg);
    assert_string_equal(n, "DataCloneError");
    assert_string_equal(m, "value 7 could not be cloned");
    JS_FreeCString(f->ctx, n);
    JS_FreeCString(f->ctx, m);
    JS_FreeValue(f->ctx, name);
    JS_FreeValue(f->ctx, msg);
    JS_FreeValue(f->ctx, exc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prelude, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throw_dom, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
