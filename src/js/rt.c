/* rt.c: the QuickJS runtime of one shard, its contexts, the job pump and the
 * per-event CPU limit (see rt.h).
 *
 * CPU limit: QuickJS calls the interrupt handler every few thousand bytecodes. The
 * handler compares the shard's monotonic clock with the deadline armed when JS was
 * entered for an event (js_rt_event_begin), so a synchronous run of JS — a handler
 * call, a timer callback, or one pump of the job queue — that exceeds the budget is
 * aborted with an uncatchable InternalError ("interrupted"). Time spent waiting
 * for I/O is never counted, because no JS runs then. The regexp matcher asks the
 * same handler (patches/quickjs/0001), so a backtracking pattern stops too. Memory:
 * JS_SetMemoryLimit on the runtime; QuickJS throws "out of memory", which fails
 * that event only. Stack: see JS_STACK_BYTES_MAX in rt.h and stack_bytes_for_js.
 * (spec: workers.md WRK-30, WRK-31) */
#include "js/rt.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "js/embedded.h"
#include "js/internal.h"

struct js_rt {
    JSRuntime *qrt;
    uv_loop_t *loop;
    js_rt_opts opts;
    int event_depth;
    uint64_t deadline_ns;     /* 0 = no CPU limit armed */
    bool cpu_exceeded;
    js_turn_fn turn_fn;
    void *turn_ud;
    bool turn_wanted, in_turn;
    js_loader *loader;        /* module resolution and the sandbox (loader.c) */
};

static int on_interrupt(JSRuntime *qrt, void *opaque)
{
    js_rt *rt = opaque;
    if (!rt->deadline_ns)
        return 0;
    if (uv_hrtime() < rt->deadline_ns)
        return 0;
    rt->cpu_exceeded = true;
    return 1;
}

/* How much of this thread's stack JS may use: JS_STACK_BYTES_MAX, or less when the
 * stack left below the caller's frame cannot also hold JS_STACK_C_RESERVE_BYTES.
 * Returns 0 (with *e filled) when not even JS_STACK_BYTES_MIN fits. QuickJS counts
 * its limit down from the frame that last called JS_UpdateStackTop (js_rt_new and
 * js_rt_event_begin, both near the bottom of a shard's stack). */
static size_t stack_bytes_for_js(err *e)
{
    size_t left = 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo = NULL;
        size_t size = 0;
        uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
        if (pthread_attr_getstack(&attr, &lo, &size) == 0 && lo && sp > (uintptr_t)lo &&
            sp - (uintptr_t)lo <= size)
            left = sp - (uintptr_t)lo;
        pthread_attr_destroy(&attr);
    }
    if (!left)   /* the stack cannot be measured: trust the thread's creator */
        return JS_STACK_BYTES_MAX;
    if (left < JS_STACK_C_RESERVE_BYTES + JS_STACK_BYTES_MIN) {
        err_setf(e, DUR_EINVAL, "this thread has %zu KiB of stack left; the JS runtime needs "
                 "at least %u KiB (%u for JS, %u for the C code it calls)", left / 1024,
                 (JS_STACK_C_RESERVE_BYTES + JS_STACK_BYTES_MIN) / 1024,
                 JS_STACK_BYTES_MIN / 1024, JS_STACK_C_RESERVE_BYTES / 1024);
        return 0;
    }
    left -= JS_STACK_C_RESERVE_BYTES;
    return left < JS_STACK_BYTES_MAX ? left : JS_STACK_BYTES_MAX;
}

js_rt *js_rt_new(uv_loop_t *loop, const js_rt_opts *opts, err *e)
{
    size_t stack_bytes = stack_bytes_for_js(e);
    if (!stack_bytes)
        return NULL;
    js_rt *rt = calloc(1, sizeof *rt);
    if (!rt) {
        err_setf(e, DUR_ENOMEM, "out of memory creating the JS runtime");
        return NULL;
    }
    rt->loop = loop;
    rt->opts = *opts;
    if (!rt->opts.memory_bytes_max)
        rt->opts.memory_bytes_max = JS_MEMORY_BYTES_DEFAULT;
    if (!rt->opts.cpu_ms_max)
        rt->opts.cpu_ms_max = JS_CPU_MS_DEFAULT;
    rt->qrt = JS_NewRuntime();
    if (!rt->qrt) {
        free(rt);
        err_setf(e, DUR_ENOMEM, "out of memory creating the JS runtime");
        return NULL;
    }
    JS_SetRuntimeOpaque(rt->qrt, rt);
    JS_SetMemoryLimit(rt->qrt, rt->opts.memory_bytes_max);
    /* Deep recursion is then a RangeError, never a crash (see rt.h). */
    JS_SetMaxStackSize(rt->qrt, stack_bytes);
    JS_SetInterruptHandler(rt->qrt, on_interrupt, rt);
    rt->loader = js__loader_new(rt->qrt, rt->opts.module_root, e);
    if (!rt->loader) {
        JS_FreeRuntime(rt->qrt);
        free(rt);
        return NULL;
    }
    return rt;
}

js_loader *js__rt_loader(js_rt *rt)
{
    return rt->loader;
}

void js_rt_modules_seal(js_rt *rt)
{
    js__loader_seal(rt->loader);
}

void js_rt_free(js_rt *rt)
{
    if (!rt)
        return;
    JS_RunGC(rt->qrt);
    JS_FreeRuntime(rt->qrt);
    js__loader_free(rt->loader);
    free(rt);
}

JSRuntime *js_rt_quickjs(js_rt *rt)
{
    return rt->qrt;
}

js_rt *js_rt_of(JSContext *ctx)
{
    return JS_GetRuntimeOpaque(JS_GetRuntime(ctx));
}

uv_loop_t *js_loop(JSContext *ctx)
{
    return js_rt_of(ctx)->loop;
}

uint32_t js_rt_cpu_ms(js_rt *rt)
{
    return rt->opts.cpu_ms_max;
}

void js_rt_event_begin(js_rt *rt)
{
    if (rt->event_depth++ == 0) {
        JS_UpdateStackTop(rt->qrt);
        rt->deadline_ns = uv_hrtime() + (uint64_t)rt->opts.cpu_ms_max * 1000000u;
    }
}

void js_rt_event_end(js_rt *rt)
{
    if (rt->event_depth > 0 && --rt->event_depth == 0)
        rt->deadline_ns = 0;
}

bool js_rt_take_cpu_exceeded(js_rt *rt)
{
    bool v = rt->cpu_exceeded;
    rt->cpu_exceeded = false;
    return v;
}

static void run_jobs(js_rt *rt)
{
    JSContext *ctx;
    for (;;) {
        int rc = JS_ExecutePendingJob(rt->qrt, &ctx);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (js_rt_take_cpu_exceeded(rt))
                log_error("a promise job ran past the CPU limit of %u ms and was aborted",
                          rt->opts.cpu_ms_max);
            js_log_exception(ctx, "Uncaught exception in a promise job");
            /* A new budget for the next job: each job is its own run of JS. */
            rt->deadline_ns = uv_hrtime() + (uint64_t)rt->opts.cpu_ms_max * 1000000u;
        }
    }
}

void js_rt_pump(js_rt *rt)
{
    js_rt_event_begin(rt);
    run_jobs(rt);
    /* Turns: once the job queue is empty, the hook may start more work (the next
     * event of an object, a commit); each turn's jobs run before the next turn. */
    while (rt->turn_wanted && rt->turn_fn && !rt->in_turn) {
        rt->turn_wanted = false;
        rt->in_turn = true;
        rt->deadline_ns = uv_hrtime() + (uint64_t)rt->opts.cpu_ms_max * 1000000u;
        rt->turn_fn(rt, rt->turn_ud);
        rt->in_turn = false;
        run_jobs(rt);
    }
    js_rt_event_end(rt);
}

void js_rt_set_turn_hook(js_rt *rt, js_turn_fn fn, void *ud)
{
    rt->turn_fn = fn;
    rt->turn_ud = ud;
}

void js_rt_want_turn(js_rt *rt)
{
    rt->turn_wanted = true;
}

/* ---- per-context state ---- */

static void ctx_state_free(JSContext *ctx)
{
    js_ctx_state *st = JS_GetContextOpaque(ctx);
    if (!st)
        return;
    /* Cleanups run newest first: later installs may depend on earlier ones. */
    for (size_t i = st->cleanup_count; i-- > 0;)
        st->cleanups[i].fn(ctx, st->cleanups[i].ud);
    free(st->cleanups);
    JS_FreeValue(ctx, st->native);
    free(st);
    JS_SetContextOpaque(ctx, NULL);
}

js_ctx_state *js__ctx_state(JSContext *ctx)
{
    return JS_GetContextOpaque(ctx);
}

JSValue js_native(JSContext *ctx)
{
    js_ctx_state *st = JS_GetContextOpaque(ctx);
    return st ? st->native : JS_UNDEFINED;
}

void *js_ctx_slot(JSContext *ctx, int slot)
{
    js_ctx_state *st = JS_GetContextOpaque(ctx);
    return st && slot >= 0 && slot < JS_SLOT_COUNT ? st->slots[slot] : NULL;
}

void js_ctx_set_slot(JSContext *ctx, int slot, void *p)
{
    js_ctx_state *st = JS_GetContextOpaque(ctx);
    if (st && slot >= 0 && slot < JS_SLOT_COUNT)
        st->slots[slot] = p;
}

int js_ctx_on_free(JSContext *ctx, js_ctx_cleanup_fn fn, void *ud)
{
    js_ctx_state *st = JS_GetContextOpaque(ctx);
    if (!st)
        return DUR_EINVAL;
    js_ctx_cleanup *n = realloc(st->cleanups, (st->cleanup_count + 1) * sizeof *n);
    if (!n)
        return DUR_ENOMEM;
    st->cleanups = n;
    n[st->cleanup_count].fn = fn;
    n[st->cleanup_count].ud = ud;
    st->cleanup_count++;
    return 0;
}

void js_context_free(JSContext *ctx)
{
    if (!ctx)
        return;
    ctx_state_free(ctx);
    JS_FreeContext(ctx);
}

void js_ctx_allow_codegen(JSContext *ctx, bool allowed)
{
    JS_SetCodeGenFromStringsAllowed(ctx, allowed);
}

static int eval_embedded(JSContext *ctx, err *e)
{
    for (const js_embedded *m = js_embedded_table; m->name; m++) {
        JSValue fn = JS_ReadObject(ctx, m->bytecode, *m->bytecode_len, JS_READ_OBJ_BYTECODE);
        if (JS_IsException(fn))
            goto fail;
        JSValue r = JS_EvalFunction(ctx, fn);   /* takes fn */
        if (JS_IsException(r))
            goto fail;
        JS_FreeValue(ctx, r);
        continue;
    fail:;
        char *text = js_exception_text(ctx, JS_UNDEFINED);
        err_setf(e, DUR_EPARSE, "built-in %s failed: %s", m->name, text ? text : "?");
        free(text);
        return -1;
    }
    return 0;
}

JSContext *js_rt_context_new(js_rt *rt, err *e)
{
    JSContext *ctx = JS_NewContext(rt->qrt);
    if (!ctx) {
        err_setf(e, DUR_ENOMEM, "out of memory creating a JS context");
        return NULL;
    }
    js_ctx_state *st = calloc(1, sizeof *st);
    if (!st) {
        JS_FreeContext(ctx);
        err_setf(e, DUR_ENOMEM, "out of memory creating a JS context");
        return NULL;
    }
    st->native = JS_NewObject(ctx);
    JS_SetContextOpaque(ctx, st);
    JSValue global = JS_GetGlobalObject(ctx);
    int rc = -1;
    if (JS_IsException(st->native))
        goto done;
    if (JS_SetPropertyStr(ctx, global, "__durable", JS_DupValue(ctx, st->native)) < 0)
        goto done;
    if (js__builtins_install(ctx, st->native) < 0)
        goto done;
    if (rt->opts.install && rt->opts.install(ctx, st->native) < 0)
        goto done;
    if (eval_embedded(ctx, e) < 0) {
        rc = -2;
        goto done;
    }
    JSAtom a = JS_NewAtom(ctx, "__durable");
    JS_DeleteProperty(ctx, global, a, 0);
    JS_FreeAtom(ctx, a);
    JS_SetCodeGenFromStringsAllowed(ctx, false);   /* see js_ctx_allow_codegen */
    rc = 0;
done:
    if (rc == -1) {
        char *text = js_exception_text(ctx, JS_UNDEFINED);
        err_setf(e, DUR_EINVAL, "setting up a JS context failed: %s", text ? text : "?");
        free(text);
    }
    JS_FreeValue(ctx, global);
    if (rc < 0) {
        js_context_free(ctx);
        return NULL;
    }
    return ctx;
}

/* ---- exceptions ---- */

char *js_exception_text(JSContext *ctx, JSValueConst exc_in)
{
    JSValue exc = JS_IsUndefined(exc_in) ? JS_GetException(ctx) : JS_DupValue(ctx, exc_in);
    buf b;
    buf_init(&b, 64 * 1024);
    const char *s = NULL;
    if (JS_IsError(ctx, exc)) {
        JSValue stack = JS_GetPropertyStr(ctx, exc, "stack");
        s = JS_ToCString(ctx, exc);   /* "Name: message" */
        if (s)
            buf_append_str(&b, s);
        JS_FreeCString(ctx, s);
        if (JS_IsString(stack)) {
            const char *st = JS_ToCString(ctx, stack);
            if (st && *st) {
                buf_append_str(&b, "\n");
                size_t n = strlen(st);
                buf_append(&b, st, n && st[n - 1] == '\n' ? n - 1 : n);
            }
            JS_FreeCString(ctx, st);
        }
        JS_FreeValue(ctx, stack);
    } else {
        s = JS_ToCString(ctx, exc);
        buf_append_str(&b, "Uncaught ");
        buf_append_str(&b, s ? s : "(an exception that cannot be converted to a string)");
        JS_FreeCString(ctx, s);
        if (!s) {
            JSValue again = JS_GetException(ctx);   /* from the failed conversion */
            JS_FreeValue(ctx, again);
        }
    }
    JS_FreeValue(ctx, exc);
    if (!b.ptr)
        return strdup("(unknown exception)");
    return buf_take(&b, NULL);
}

void js_log_exception(JSContext *ctx, const char *what)
{
    char *text = js_exception_text(ctx, JS_UNDEFINED);
    log_error("%s: %s", what, text ? text : "(out of memory)");
    free(text);
}

JSValue js_throw_dom(JSContext *ctx, const char *name, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue ctor = JS_GetPropertyStr(ctx, global, "DOMException");
    JS_FreeValue(ctx, global);
    JSValue exc;
    if (JS_IsFunction(ctx, ctor)) {
        JSValue args[2] = {JS_NewString(ctx, msg), JS_NewString(ctx, name)};
        exc = JS_CallConstructor(ctx, ctor, 2, args);
        JS_FreeValue(ctx, args[0]);
        JS_FreeValue(ctx, args[1]);
    } else {
        exc = JS_NewError(ctx);
        JS_DefinePropertyValueStr(ctx, exc, "message", JS_NewString(ctx, msg),
                                  JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
        JS_DefinePropertyValueStr(ctx, exc, "name", JS_NewString(ctx, name),
                                  JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    }
    JS_FreeValue(ctx, ctor);
    if (JS_IsException(exc))
        return JS_EXCEPTION;
    return JS_Throw(ctx, exc);
}
