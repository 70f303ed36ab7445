/* timers.c: setTimeout / setInterval / clearTimeout / clearInterval on the shard's
 * libuv loop (spec: workers.md WEB-13).
 *
 * Each timer is a uv_timer_t owned by the context's timer list. A timer belongs to
 * the event that made it (js/rt.h "events"): its callback, and the jobs pumped
 * after it, are charged to that event's CPU budget, and it is cancelled when its
 * owner closes — a Worker request once it has answered and its waitUntil work is
 * done, a Durable Object instance when it is evicted or reset (spec: limits.md
 * LIM-13; as on Cloudflare, a Worker's timers do not outlive its request). A timer
 * made while no event runs (at module load; the objects layer's own timers through
 * N.setTimeoutUnowned) belongs to no event and runs until it is cleared.
 * Ids are positive integers, unique per context. When the context is freed every
 * timer is stopped, its JSValues released at once, and its memory freed in the uv
 * close callback.
 * Delays are clamped to [0, 2^31-1] ms as browsers do; non-function callbacks are a
 * TypeError (string callbacks would need eval, which Workers refuse). */
#include <stdlib.h>

#include "base/log.h"
#include "js/rt.h"
#include "web/web.h"

#define TIMER_DELAY_MS_MAX 2147483647.0

typedef struct web_timer web_timer;
struct web_timer {
    uv_timer_t handle;
    JSContext *ctx;          /* NULL once the context is gone */
    JSValue fn;
    JSValue *args;
    int argc;
    int64_t id;
    bool repeat;
    js_event *charge;        /* referenced; what the callback is charged to (NULL: none) */
    js_event *owner;         /* referenced; the timer is cancelled when it closes */
    web_timer *prev, *next;
};

typedef struct timer_list {
    web_timer *head;
    int64_t next_id;
    js_rt *rt;
} timer_list;

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);
}

static void timer_release(timer_list *tl, web_timer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        tl->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->ctx) {
        JS_FreeValue(t->ctx, t->fn);
        for (int i = 0; i < t->argc; i++)
            JS_FreeValue(t->ctx, t->args[i]);
    }
    free(t->args);
    t->ctx = NULL;
    js_event_unref(t->charge);
    js_event_unref(t->owner);
    t->charge = t->owner = NULL;
    uv_timer_stop(&t->handle);
    uv_close((uv_handle_t *)&t->handle, on_timer_closed);
}

static timer_list *timers_of(JSContext *ctx)
{
    return js_ctx_slot(ctx, JS_SLOT_TIMERS);
}

static void on_timer(uv_timer_t *h)
{
    web_timer *t = h->data;
    JSContext *ctx = t->ctx;
    if (!ctx)
        return;
    /* waitUntil work that outlived its 30 s (WRK-32): closing the event cancels
     * this timer with the others. */
    if (t->owner && js_event_close_if_overdue(t->owner))
        return;
    js_rt *rt = js_rt_of(ctx);
    /* Hold the callback and arguments: the callback may clear its own timer. */
    int64_t id = t->id;
    bool repeat = t->repeat;
    JSValue fn = JS_DupValue(ctx, t->fn);
    js_event *charge = t->charge;
    if (charge)
        js_event_ref(charge);
    int argc = t->argc;
    JSValue argv[argc > 0 ? argc : 1];
    for (int i = 0; i < argc; i++)
        argv[i] = JS_DupValue(ctx, t->args[i]);
    if (!repeat)
        timer_release(timers_of(ctx), t);   /* t is gone from here on */
    js_rt_enter(rt, charge);
    js_event_unref(charge);   /* the runtime holds it while it is current */
    js_rt_event_begin(rt);
    JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, argc, (JSValueConst *)argv);
    js_rt_event_end(rt);
    JS_FreeValue(ctx, fn);
    for (int i = 0; i < argc; i++)
        JS_FreeValue(ctx, argv[i]);
    if (JS_IsException(r)) {
        if (js_rt_take_cpu_exceeded(rt))
            log_error("a timer callback ran past the CPU limit of %u ms and was aborted",
                      js_rt_cpu_ms(rt));
        js_log_exception(ctx, "Uncaught exception in a timer callback");
    }
    JS_FreeValue(ctx, r);
    (void)id;
    js_rt_pump(rt);
}

static JSValue timer_add(JSContext *ctx, int argc, JSValueConst *argv, bool repeat, bool owned)
{
    const char *api = repeat ? "setInterval" : "setTimeout";
    timer_list *tl = timers_of(ctx);
    if (!tl)
        return JS_ThrowInternalError(ctx, "%s: timers are not available here", api);
    if (argc < 1 || !JS_IsFunction(ctx, argv[0]))
        return JS_ThrowTypeError(ctx, "%s: parameter 1 is not of type 'Function'", api);
    double delay = 0;
    if (argc >= 2 && JS_ToFloat64(ctx, &delay, argv[1]) < 0)
        return JS_EXCEPTION;
    if (!(delay >= 0))   /* NaN and negatives */
        delay = 0;
    if (delay > TIMER_DELAY_MS_MAX)
        delay = TIMER_DELAY_MS_MAX;
    js_event *charge = owned ? js_rt_current(js_rt_of(ctx)) : NULL;
    js_event *owner = charge ? js_event_timer_owner(charge) : NULL;
    if (owner && js_event_closed(owner))
        return JS_NewInt64(ctx, ++tl->next_id);   /* its event is over: it never fires */
    web_timer *t = calloc(1, sizeof *t);
    if (!t)
        return JS_ThrowOutOfMemory(ctx);
    t->argc = argc > 2 ? argc - 2 : 0;
    if (t->argc) {
        t->args = calloc((size_t)t->argc, sizeof *t->args);
        if (!t->args) {
            free(t);
            return JS_ThrowOutOfMemory(ctx);
        }
        for (int i = 0; i < t->argc; i++)
            t->args[i] = JS_DupValue(ctx, argv[i + 2]);
    }
    if (uv_timer_init(js_loop(ctx), &t->handle) != 0) {
        for (int i = 0; i < t->argc; i++)
            JS_FreeValue(ctx, t->args[i]);
        free(t->args);
        free(t);
        return JS_ThrowInternalError(ctx, "%s: could not create a timer", api);
    }
    t->handle.data = t;
    t->ctx = ctx;
    t->fn = JS_DupValue(ctx, argv[0]);
    t->repeat = repeat;
    t->charge = charge;
    t->owner = owner;
    if (charge)
        js_event_ref(charge);
    if (owner)
        js_event_ref(owner);
    t->id = ++tl->next_id;
    t->next = tl->head;
    if (tl->head)
        tl->head->prev = t;
    tl->head = t;
    uint64_t ms = (uint64_t)delay;
    /* A repeating timer of 0 ms would spin the loop; browsers clamp to >= 1 ms
     * after nesting, so do we. */
    uv_timer_start(&t->handle, on_timer, ms, repeat ? (ms ? ms : 1) : 0);
    return JS_NewInt64(ctx, t->id);
}

static JSValue js_set_timeout(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return timer_add(ctx, argc, argv, false, true);
}

static JSValue js_set_interval(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return timer_add(ctx, argc, argv, true, true);
}

/* N.setTimeoutUnowned / N.setIntervalUnowned: the same, belonging to no event (the
 * objects layer's sweep and alarm timers serve every object of the shard). */
static JSValue js_set_timeout_unowned(JSContext *ctx, JSValueConst this_val, int argc,
                                      JSValueConst *argv)
{
    return timer_add(ctx, argc, argv, false, false);
}

static JSValue js_set_interval_unowned(JSContext *ctx, JSValueConst this_val, int argc,
                                       JSValueConst *argv)
{
    return timer_add(ctx, argc, argv, true, false);
}

/* An event closed: its timers are cancelled. */
static void on_event_closed(js_event *ev, void *ud)
{
    timer_list *tl = ud;
    web_timer *next;
    for (web_timer *t = tl->head; t; t = next) {
        next = t->next;
        if (t->owner == ev)
            timer_release(tl, t);
    }
}

static JSValue js_clear_timer(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    timer_list *tl = timers_of(ctx);
    if (!tl || argc < 1)
        return JS_UNDEFINED;
    double idd;
    /* Unknown ids, undefined and non-numbers are ignored, as in browsers. */
    if (!JS_IsNumber(argv[0]) || JS_ToFloat64(ctx, &idd, argv[0]) < 0)
        return JS_UNDEFINED;
    for (web_timer *t = tl->head; t; t = t->next)
        if ((double)t->id == idd) {
            timer_release(tl, t);
            break;
        }
    return JS_UNDEFINED;
}

static void timers_cleanup(JSContext *ctx, void *ud)
{
    timer_list *tl = ud;
    while (tl->head)
        timer_release(tl, tl->head);
    js_rt_off_event_close(tl->rt, on_event_closed, tl);
    js_ctx_set_slot(ctx, JS_SLOT_TIMERS, NULL);
    free(tl);
}

int web_timers_install(JSContext *ctx, JSValueConst native)
{
    timer_list *tl = calloc(1, sizeof *tl);
    if (!tl) {
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    tl->rt = js_rt_of(ctx);
    if (js_rt_on_event_close(tl->rt, on_event_closed, tl) < 0) {
        free(tl);
        JS_ThrowInternalError(ctx, "timers: too many contexts on this runtime");
        return -1;
    }
    if (js_ctx_on_free(ctx, timers_cleanup, tl) < 0) {
        js_rt_off_event_close(tl->rt, on_event_closed, tl);
        free(tl);
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    js_ctx_set_slot(ctx, JS_SLOT_TIMERS, tl);
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("setTimeout", 1, js_set_timeout),
        JS_CFUNC_DEF("setInterval", 1, js_set_interval),
        JS_CFUNC_DEF("clearTimeout", 1, js_clear_timer),
        JS_CFUNC_DEF("clearInterval", 1, js_clear_timer),
    };
    JSValue global = JS_GetGlobalObject(ctx);
    JS_SetPropertyFunctionList(ctx, global, fns, sizeof fns / sizeof fns[0]);
    JS_FreeValue(ctx, global);
    static const JSCFunctionListEntry native_fns[] = {
        JS_CFUNC_DEF("setTimeoutUnowned", 2, js_set_timeout_unowned),
        JS_CFUNC_DEF("setIntervalUnowned", 2, js_set_interval_unowned),
    };
    JS_SetPropertyFunctionList(ctx, native, native_fns, sizeof native_fns / sizeof native_fns[0]);
    return 0;
}
