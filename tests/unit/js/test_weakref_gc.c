/* Unit test for patches/quickjs/0014-weakref-finalization-registry.patch: a
 * WeakRef's target is collected by the GC (deref() then returns undefined), a
 * target WeakRef.prototype.deref returned is kept alive until the jobs are
 * drained by the host (not by a nested run from JS), and a
 * FinalizationRegistry's callback runs as a job with the held value after its
 * target is collected, unless the cell was unregistered. Built with ASan too:
 * the weak lists are walked while the GC frees cycles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <quickjs.h>
#include <string.h>

static void eval_ok(JSContext *ctx, const char *src)
{
    JSValue v = JS_Eval(ctx, src, strlen(src), "<test>", JS_EVAL_TYPE_GLOBAL);
    assert_false(JS_IsException(v));
    JS_FreeValue(ctx, v);
}

/* evaluates `src` and returns it as a string (to compare) */
static char *eval_str(JSContext *ctx, const char *src)
{
    static char buf[512];
    JSValue v = JS_Eval(ctx, src, strlen(src), "<test>", JS_EVAL_TYPE_GLOBAL);
    assert_false(JS_IsException(v));
    const char *s = JS_ToCString(ctx, v);
    assert_non_null(s);
    snprintf(buf, sizeof buf, "%s", s);
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, v);
    return buf;
}

/* what the host does after each event: run the jobs until none is left */
static int drain(JSRuntime *rt)
{
    JSContext *jctx;
    int n = 0, rc;
    while ((rc = JS_ExecutePendingJob(rt, &jctx)) != 0) {
        assert_int_equal(rc, 1);
        n++;
    }
    return n;
}

/* drain() called from JS: a nested run, inside the current job */
static JSValue js_nested_drain_and_gc(JSContext *ctx, JSValueConst this_val, int argc,
                                      JSValueConst *argv)
{
    (void)this_val; (void)argc; (void)argv;
    JSRuntime *rt = JS_GetRuntime(ctx);
    drain(rt);
    JS_RunGC(rt);
    return JS_UNDEFINED;
}

static JSContext *new_ctx(JSRuntime *rt)
{
    JSContext *ctx = JS_NewContext(rt);
    assert_non_null(ctx);
    JSValue g = JS_GetGlobalObject(ctx);
    JS_SetPropertyStr(ctx, g, "nestedDrainAndGC",
                      JS_NewCFunction(ctx, js_nested_drain_and_gc, "nestedDrainAndGC", 0));
    JS_FreeValue(ctx, g);
    return ctx;
}

static void test_weakref_target_collected(void **state)
{
    (void)state;
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = new_ctx(rt);
    /* a target in a cycle, and one freed by its reference count */
    eval_ok(ctx, "globalThis.w = (() => { const o = { name: 'cycle' }; o.self = o; return new WeakRef(o); })();"
                 "globalThis.w2 = new WeakRef({ name: 'plain' });"
                 "globalThis.keep = { name: 'kept' }; globalThis.w3 = new WeakRef(keep);");
    /* new WeakRef keeps its target until the jobs are drained */
    JS_RunGC(rt);
    assert_string_equal(eval_str(ctx, "[w.deref()?.name, w2.deref()?.name].join()"), "cycle,plain");
    drain(rt);
    JS_RunGC(rt);
    assert_string_equal(eval_str(ctx, "[typeof w.deref(), typeof w2.deref(), w3.deref().name].join()"),
                        "undefined,undefined,kept");
    drain(rt);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
}

static void test_deref_keeps_target_until_drained(void **state)
{
    (void)state;
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = new_ctx(rt);
    eval_ok(ctx, "globalThis.w = (() => { const o = { n: 1 }; o.self = o; return new WeakRef(o); })();");
    drain(rt);
    /* deref() in this job: a nested drain and GC (from JS) must not release it */
    assert_string_equal(eval_str(ctx, "String(w.deref().n); nestedDrainAndGC(); String(w.deref()?.n)"), "1");
    JS_RunGC(rt);
    assert_string_equal(eval_str(ctx, "String(w.deref()?.n)"), "1");
    /* the host drains: ClearKeptObjects, then the GC collects it */
    drain(rt);
    JS_RunGC(rt);
    assert_string_equal(eval_str(ctx, "String(w.deref())"), "undefined");
    drain(rt);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
}

static void test_finalization_registry(void **state)
{
    (void)state;
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = new_ctx(rt);
    eval_ok(ctx, "globalThis.calls = [];"
                 "globalThis.r = new FinalizationRegistry((held) => calls.push(held));"
                 "globalThis.tok = {};"
                 "(() => {"
                 "  const a = {}; a.self = a; r.register(a, 'a');"        /* a cycle */
                 "  r.register({}, 'b');"                                  /* freed by count */
                 "  const c = {}; r.register(c, 'c', tok);"                /* unregistered below */
                 "  const d = {}; d.self = d; r.register(d, 'd', d);"      /* its own token */
                 "  r.register({}, { obj: 'e' }, {});"                     /* a token that dies */
                 "})();"
                 "globalThis.unregistered = [r.unregister(tok), r.unregister(tok)];");
    JS_RunGC(rt);
    assert_string_equal(eval_str(ctx, "calls.length + ':' + unregistered"), "0:true,false");
    assert_true(JS_IsJobPending(rt));
    assert_int_equal(drain(rt), 1); /* one cleanup job for the registry */
    assert_string_equal(eval_str(ctx, "calls.map((h) => typeof h === 'object' ? h.obj : h).sort().join()"),
                        "a,b,d,e");
    /* collected but not yet cleaned up: unregister removes the cell */
    eval_ok(ctx, "globalThis.t2 = {}; (() => { const f = {}; f.self = f; r.register(f, 'f', t2); })();");
    JS_RunGC(rt);
    assert_string_equal(eval_str(ctx, "String(r.unregister(t2))"), "true");
    drain(rt);
    assert_string_equal(eval_str(ctx, "String(calls.length)"), "4");
    /* a registry collected with its targets calls nothing */
    eval_ok(ctx, "(() => { const r2 = new FinalizationRegistry(() => calls.push('r2'));"
                 " const g = { r2 }; g.self = g; r2.register(g, 'g'); r2.register({}, 'h'); })();");
    JS_RunGC(rt);
    drain(rt);
    assert_string_equal(eval_str(ctx, "calls.includes('r2') + ':' + calls.length"), "false:4");
    /* the callback throws: the exception is the job's, the other cells are not lost */
    eval_ok(ctx, "globalThis.r3 = new FinalizationRegistry((h) => { calls.push(h); if (h === 'x') throw new Error('x'); });"
                 "r3.register({}, 'x'); r3.register({}, 'y');");
    JS_RunGC(rt);
    JSContext *jctx;
    int rc, errors = 0;
    while ((rc = JS_ExecutePendingJob(rt, &jctx)) != 0) {
        if (rc < 0) {
            errors++;
            JS_FreeValue(jctx, JS_GetException(jctx));
        }
    }
    assert_int_equal(errors, 1);
    assert_string_equal(eval_str(ctx, "calls.slice(4).join()"), "x,y");
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
}

/* the runtime is freed with registries, WeakRefs and pending cells alive */
static void test_teardown_with_pending_cells(void **state)
{
    (void)state;
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = new_ctx(rt);
    eval_ok(ctx, "globalThis.r = new FinalizationRegistry(() => {});"
                 "const o = {}; r.register(o, { held: o }, o); r.register({}, 1, Symbol('t'));"
                 "globalThis.w = new WeakRef(o); globalThis.ws = new WeakRef(Symbol('s'));"
                 "r.register(Symbol('u'), 2);");
    JS_RunGC(rt);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weakref_target_collected),
        cmocka_unit_test(test_deref_keeps_target_until_drained),
        cmocka_unit_test(test_finalization_registry),
        cmocka_unit_test(test_teardown_with_pending_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
