/* Unit tests for js/rt.c and js/loader.c: contexts, prelude, CPU and memory
 * limits (per event, across turns), timers owned by events, the module loader's
 * path rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "js/rt.h"
#include "web/web.h"

typedef struct fixture {
    uv_loop_t loop;
    js_rt *rt;
    JSContext *ctx;
} fixture;

static int setup_opts2(void **state, uint32_t cpu_ms, size_t mem, uint32_t wait_until_ms);

static int setup_opts(void **state, uint32_t cpu_ms, size_t mem)
{
    return setup_opts2(state, cpu_ms, mem, 0);
}

static int setup_opts2(void **state, uint32_t cpu_ms, size_t mem, uint32_t wait_until_ms)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    /* The embedded web JS needs its natives, so contexts get the web platform. */
    js_rt_opts o = {.cpu_ms_max = cpu_ms, .memory_bytes_max = mem, .install = web_install,
                    .wait_until_ms_max = wait_until_ms};
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

static int setup_short_wait(void **state)
{
    return setup_opts2(state, 200, 32u * 1024u * 1024u, 100);
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

/* Runs `src` as a turn of `ev` (NULL: no event): the call, then its jobs. */
static char *turn(fixture *f, js_event *ev, const char *src)
{
    js_rt_enter(f->rt, ev);
    return eval_str(f, src, JS_EVAL_TYPE_GLOBAL);
}

#define SPIN(ms) "{ const end = Date.now() + " #ms "; while (Date.now() < end) {} } 'done'"

/* WRK-30: an event's budget (200 ms here) is spent across all its turns; JS that
 * belongs to no event gets the budget per run. */
static void test_cpu_per_event(void **state)
{
    fixture *f = *state;
    const uint64_t budget = 200u * 1000000u;
    js_event *ev = js_event_new(f->rt, NULL);
    assert_non_null(ev);
    char *got = turn(f, ev, SPIN(120));
    assert_string_equal(got, "done");
    free(got);
    assert_false(js_event_exceeded(ev));
    uint64_t first = js_event_cpu_ns(ev);   /* what the first turn really used */
    assert_true(first > 0);
    /* The second turn would spin for 5 s: it is stopped when the event's total,
     * not the turn's own use, reaches the budget. */
    got = turn(f, ev, SPIN(5000));
    assert_non_null(strstr(got, "interrupted"));
    free(got);
    assert_true(js_event_exceeded(ev));
    assert_true(js_rt_take_cpu_exceeded(f->rt));
    uint64_t total = js_event_cpu_ns(ev);
    assert_true(total >= budget);
    if (total >= budget + first / 2)
        fail_msg("the second turn got a budget of its own: %llu ms in all after a first turn "
                 "of %llu ms", (unsigned long long)(total / 1000000u),
                 (unsigned long long)(first / 1000000u));
    /* What the exceeded event still runs is cut short after the grace period. */
    got = turn(f, ev, SPIN(5000));
    assert_non_null(strstr(got, "interrupted"));
    free(got);
    /* Another event, and JS of no event, have budgets of their own. */
    js_event *other = js_event_new(f->rt, NULL);
    got = turn(f, other, SPIN(120));
    assert_string_equal(got, "done");
    free(got);
    for (int i = 0; i < 2; i++) {
        got = turn(f, NULL, SPIN(120));
        assert_string_equal(got, "done");
        free(got);
    }
    js_event_unref(other);
    js_event_unref(ev);
}

/* The jobs an entry causes are charged to the event of that entry, and a turn that
 * resumes an event through N.eventEnter is charged to it. */
static void test_cpu_jobs_follow_their_event(void **state)
{
    fixture *f = *state;
    js_event *ev = js_event_new(f->rt, NULL);
    char *got = turn(f, ev, "Promise.resolve().then(() => { const end = Date.now() + 5000; "
                                 "while (Date.now() < end) {} }); 'queued'");
    assert_string_equal(got, "queued");
    free(got);
    assert_true(js_event_exceeded(ev));   /* the job ran as ev, and was stopped */
    uint64_t before = js_event_cpu_ns(ev);
    got = turn(f, NULL, SPIN(50));
    free(got);
    assert_true(js_event_cpu_ns(ev) == before);
    js_event_unref(ev);
}

/* Which clock (rt.c): an event's first millisecond is metered by the monotonic
 * clock; past it, by the thread's CPU clock, so time in which the thread does not
 * run (here a sleep while the event is current) is no longer charged. */
static void test_cpu_clock_after_the_mark(void **state)
{
    fixture *f = *state;
    js_event *ev = js_event_new(f->rt, NULL);
    /* Turns of 5 ms (wall) until the event is past the mark, whatever share of
     * the core this process gets. */
    for (int i = 0; i < 200 && js_event_cpu_ns(ev) < 2u * 1000000u; i++) {
        char *got = turn(f, ev, SPIN(5));
        assert_string_equal(got, "done");
        free(got);
    }
    uint64_t before = js_event_cpu_ns(ev);
    assert_true(before >= 2u * 1000000u);
    js_rt_enter(f->rt, ev);
    struct timespec nap = {0, 60 * 1000000L};
    nanosleep(&nap, NULL);
    js_rt_enter(f->rt, NULL);
    uint64_t slept = js_event_cpu_ns(ev) - before;
    if (slept >= 30u * 1000000u)
        fail_msg("a 60 ms sleep was charged %llu ms of CPU", (unsigned long long)(slept / 1000000u));
    js_event_unref(ev);
}

static void count_exceeded(js_event *ev, void *ud)
{
    js_event **seen = ud;
    assert_null(*seen);   /* told once */
    *seen = ev;
}

/* An event over its budget is told to its own hook, or else to its owner's (the
 * objects layer hooks an instance's owner event once for all its events). */
static void test_exceeded_hook_of_owner(void **state)
{
    fixture *f = *state;
    js_event *seen_owner = NULL, *seen_own = NULL;
    js_event *owner = js_event_new(f->rt, NULL);
    js_event_on_exceeded(owner, count_exceeded, &seen_owner);
    js_event *child = js_event_new(f->rt, owner);
    char *got = turn(f, child, "for (;;) {}");   /* the pump at its end tells */
    assert_non_null(strstr(got, "interrupted"));
    free(got);
    assert_ptr_equal(seen_owner, child);
    js_event *mine = js_event_new(f->rt, owner);
    js_event_on_exceeded(mine, count_exceeded, &seen_own);
    got = turn(f, mine, "for (;;) {}");
    free(got);
    assert_ptr_equal(seen_own, mine);
    assert_ptr_equal(seen_owner, child);   /* not told again */
    js_rt_take_cpu_exceeded(f->rt);
    js_event_unref(mine);
    js_event_unref(child);
    js_event_unref(owner);
}

/* N.eventRun stops the uncatchable abort of an event over its budget at the
 * event's edge: the caller (the objects layer's turn) goes on and asks
 * N.eventExceeded; another exception still propagates. */
static void test_event_run_stops_the_abort(void **state)
{
    fixture *f = *state;
    JSValue global = JS_GetGlobalObject(f->ctx);
    JS_SetPropertyStr(f->ctx, global, "N_", JS_DupValue(f->ctx, js_native(f->ctx)));
    JS_FreeValue(f->ctx, global);
    expect(f, "{ const ev = N_.eventNew(null); const r = N_.eventRun(ev, () => { for (;;) {} }); "
              "`after ${r} ${N_.eventExceeded(ev)}` }", "after undefined true");
    expect(f, "{ const ev = N_.eventNew(null); try { N_.eventRun(ev, () => { throw new Error('e'); }) } "
              "catch (e) { `caught ${e.message} ${N_.eventExceeded(ev)}` } }", "caught e false");
    expect(f, "delete globalThis.N_", "true");
}

static void test_timers_belong_to_their_event(void **state)
{
    fixture *f = *state;
    js_event *ev = js_event_new(f->rt, NULL);
    char *got = turn(f, ev, "globalThis.t = setInterval(() => {}, 5); 'set'");
    assert_string_equal(got, "set");
    free(got);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(uv_loop_alive(&f->loop));
    /* Held (waitUntil): the timer stays. */
    js_event_hold(ev);
    js_event_finish(ev);
    assert_false(js_event_closed(ev));
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(uv_loop_alive(&f->loop));
    /* Released: the event closes, its timer is cancelled and the loop runs dry. */
    js_event_release(ev);
    assert_true(js_event_closed(ev));
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    /* A timer made for a closed event never fires. */
    got = turn(f, ev, "setTimeout(() => { globalThis.fired = 1; }, 0); 'late'");
    free(got);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    expect(f, "typeof globalThis.fired", "undefined");
    js_event_unref(ev);
    /* An event with an owner gives its timers to the owner. */
    js_event *owner = js_event_new(f->rt, NULL);
    js_event *child = js_event_new(f->rt, owner);
    got = turn(f, child, "setInterval(() => {}, 5); 'set'");
    free(got);
    js_event_finish(child);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(uv_loop_alive(&f->loop));
    js_event_finish(owner);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    js_event_unref(child);
    js_event_unref(owner);
}

/* Work outside JS (SQLite, regex) asks the same question and stops at the same
 * point: the current event's budget, across its turns. */
static void test_should_interrupt(void **state)
{
    fixture *f = *state;
    js_event *ev = js_event_new(f->rt, NULL);
    js_rt_enter(f->rt, ev);
    assert_false(js_rt_should_interrupt(f->rt));
    /* Bounded by this thread's CPU time, not wall time: on a loaded machine the
     * thread may get a small share of a core, and it is the CPU limit that must
     * trip (well before 10 s of CPU; the limit here is far below that). */
    struct timespec t0, t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    bool stopped = false;
    double used = 0;
    while (!stopped && used < 10.0) {
        for (int i = 0; i < 10000 && !stopped; i++)
            stopped = (i == 9999) && js_rt_should_interrupt(f->rt);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        used = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
    }
    assert_true(stopped);
    assert_true(js_event_exceeded(ev));
    js_rt_enter(f->rt, NULL);
    js_rt_take_cpu_exceeded(f->rt);
    js_event_unref(ev);
}

/* WRK-32: work held open after the response (a waitUntil promise that never
 * settles) is cut off after wait_until_ms_max (100 ms here), and its timers go. */
static void test_wait_until_overdue(void **state)
{
    fixture *f = *state;
    js_event *ev = js_event_new(f->rt, NULL);
    char *got = turn(f, ev, "setInterval(() => {}, 5); 'set'");
    free(got);
    js_event_hold(ev);
    js_event_finish(ev);
    uint64_t start = uv_hrtime();
    while (!js_event_closed(ev) && uv_hrtime() - start < 5000u * 1000000u)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_true(js_event_closed(ev));
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    js_event_release(ev);
    js_event_unref(ev);
}

static void test_exception_text(void **state)
{
    fixture *f = *state;
    /* The callers' log lines say "Uncaught"; the text must not say it again. */
    expect(f, "throw 'plain'", "EXC: plain");
}

static void test_memory_limit(void **state)
{
    fixture *f = *state;
    char *got = eval_str(f, "const a = []; for (;;) a.push(new Array(100000).fill(1));",
                         JS_EVAL_TYPE_GLOBAL);
    if (!strstr(got, "out of memory"))
        fail_msg("want an out-of-memory error, got: %s", got);
    free(got);
    assert_true(js_rt_oom(f->rt));   /* the owner of the context is to re-create it */
    js_rt_clear_oom(f->rt);
    expect(f, "globalThis.a = undefined; 'alive'", "alive");
    assert_false(js_rt_oom(f->rt));
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
        cmocka_unit_test_setup_teardown(test_cpu_per_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_jobs_follow_their_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cpu_clock_after_the_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exceeded_hook_of_owner, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_run_stops_the_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timers_belong_to_their_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_should_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait_until_overdue, setup_short_wait, teardown),
        cmocka_unit_test_setup_teardown(test_exception_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throw_dom, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
