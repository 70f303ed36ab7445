/* Unit test for patches/quickjs/0008-gc-weakmap-values.patch: a WeakMap value
 * whose only reference was its record, released when the GC frees the cycle
 * holding the record's key, is freed with that cycle (it used to stay allocated
 * at ref_count 0, and a later lookup in a WeakMap where it is a key freed it and
 * its record inside map_find_record: a use after free, which ASan reports). */
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

static int64_t objects(JSRuntime *rt)
{
    JSMemoryUsage m;
    JS_ComputeMemoryUsage(rt, &m);
    return m.obj_count;
}

static void test_value_of_a_cycle_key_is_freed(void **state)
{
    (void)state;
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = JS_NewContext(rt);
    assert_non_null(ctx);
    eval_ok(ctx, "globalThis.owners = new WeakMap(); globalThis.tags = new WeakMap();");
    /* The same code once with a key that stays alive, so that what the engine
     * keeps after a first run (one object, on the first WeakMap.prototype.set)
     * is in the count before. */
    eval_ok(ctx, "(() => { const key = globalThis; const value = {};"
                 " owners.set(key, value); tags.set(value, 'tag'); })();");
    JS_RunGC(rt);
    int64_t before = objects(rt);
    /* `key` is garbage in a cycle (it references itself); `value` is reachable
     * only as its record's value in `owners`, and is a key in `tags`. */
    eval_ok(ctx, "(() => { const key = {}; key.self = key; const value = {};"
                 " owners.set(key, value); tags.set(value, 'tag'); })();");
    JS_RunGC(rt);
    assert_int_equal(objects(rt), before);
    /* The lookup that used to free the stale record under its own loop. */
    for (int i = 0; i < 3; i++)
        eval_ok(ctx, "tags.get({}); tags.set({}, 1); tags.has(globalThis);");
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_of_a_cycle_key_is_freed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
