/* js/rt: the QuickJS runtime of one shard and the contexts in it.
 *
 * One js_rt per shard (one JSRuntime, its memory limit, its CPU-time interrupt),
 * one JSContext per script. A new context gets the ES2022 prelude and then whatever
 * the `install` hook adds (the web platform, installed by the caller so that this
 * layer does not depend on web/), then the embedded web JS (the files of src/web/js).
 *
 * The JS files see a hidden global `__durable` (the "native" object the install
 * hook filled with C functions); it is deleted from the global object once every
 * embedded file has run, so user code never sees it. Each JS file is a classic
 * script: it captures what it needs with `const N = globalThis.__durable;`.
 *
 * The job queue is pumped by js_rt_pump() after every callback from the loop that
 * may have settled a promise (the callers in worker/ and web/ do it). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <quickjs.h>
#include <uv.h>

#include "base/err.h"

#define JS_MEMORY_BYTES_DEFAULT (128u * 1024u * 1024u)
#define JS_CPU_MS_DEFAULT 30000u
#define JS_WAIT_UNTIL_MS_DEFAULT 30000u   /* spec WRK-32: waitUntil work, 30 s after the response */

/* The C stack. Shard threads are created with JS_THREAD_STACK_BYTES (cli/server.c).
 * JS recursion may use up to JS_STACK_BYTES_MAX of it, past which it is a RangeError
 * ("Maximum call stack size exceeded"); at least JS_STACK_C_RESERVE_BYTES stay below
 * that for the C frames of natives called at the deepest point (SQLite, OpenSSL,
 * structured clone, the regexp compiler). js_rt_new measures the stack left on the
 * thread it runs on, shrinks the JS part to fit, and refuses a thread whose stack
 * cannot hold the reserve plus JS_STACK_BYTES_MIN. */
#define JS_THREAD_STACK_BYTES (8u * 1024u * 1024u)
#define JS_STACK_BYTES_MAX (4u * 1024u * 1024u)
#define JS_STACK_BYTES_MIN (256u * 1024u)
#define JS_STACK_C_RESERVE_BYTES (2u * 1024u * 1024u)

typedef struct js_rt js_rt;

/* Adds natives to `native` (and globals to the context) before the embedded JS
 * runs. Returns 0, or -1 with a JS exception pending. */
typedef int (*js_install_fn)(JSContext *ctx, JSValueConst native);

typedef struct js_rt_opts {
    size_t memory_bytes_max;     /* 0 = JS_MEMORY_BYTES_DEFAULT */
    uint32_t cpu_ms_max;         /* per event; 0 = JS_CPU_MS_DEFAULT */
    uint32_t wait_until_ms_max;  /* an event's work after it finished; 0 = JS_WAIT_UNTIL_MS_DEFAULT */
    js_install_fn install;       /* may be NULL (prelude only) */
    const char *module_root;     /* modules load only from inside this folder (after
                                    symlinks); NULL = anywhere (tests only) */
} js_rt_opts;

/* Shard-local. `loop` is borrowed and must outlive the runtime. */
js_rt *js_rt_new(uv_loop_t *loop, const js_rt_opts *opts, err *e);
/* Fixes the module graph once the Worker has loaded (as workerd does): import()
 * then reaches only modules loaded before, in any context of this runtime, and any
 * other name fails with the same "No such module" error whether or not it exists. */
void js_rt_modules_seal(js_rt *rt);
/* Frees the runtime; every context must have been freed first. */
void js_rt_free(js_rt *rt);
JSRuntime *js_rt_quickjs(js_rt *rt);

/* A new context with prelude + web platform. NULL with *e filled (message and the
 * JS stack of whatever failed). Free with JS_FreeContext. */
JSContext *js_rt_context_new(js_rt *rt, err *e);

/* Frees a context made by js_rt_context_new, running the cleanups registered with
 * js_ctx_on_free first. */
void js_context_free(JSContext *ctx);

/* Code generation from strings (eval of a string, new Function(...) and the other
 * function constructors): refused with EvalError "Code generation from strings
 * disallowed for this context" in a context made by js_rt_context_new, as
 * Cloudflare does at request time; the Worker's loader allows it while the main
 * module's top level runs (workerd's allow_eval_during_startup). Module loading is
 * never affected. */
void js_ctx_allow_codegen(JSContext *ctx, bool allowed);

/* The hidden native object of a context (borrowed): the C natives and the JS
 * helpers the embedded JS registered on it (e.g. native.cloudflareWorkers). */
JSValue js_native(JSContext *ctx);

/* Per-context pointers for the layers above (each layer owns its slot). */
enum { JS_SLOT_WORKER, JS_SLOT_TIMERS, JS_SLOT_CONSOLE, JS_SLOT_HTTP, JS_SLOT_OBJECTS,
       JS_SLOT_STORAGE, JS_SLOT_WEBSOCKET, JS_SLOT_FETCH, JS_SLOT_CACHE, JS_SLOT_COUNT };
void *js_ctx_slot(JSContext *ctx, int slot);
void js_ctx_set_slot(JSContext *ctx, int slot, void *p);

/* Registers fn(ctx, ud) to run when the context is freed (newest first), before
 * JS_FreeContext: modules release the JSValues and handles they keep per context. */
typedef void (*js_ctx_cleanup_fn)(JSContext *ctx, void *ud);
int js_ctx_on_free(JSContext *ctx, js_ctx_cleanup_fn fn, void *ud);

/* The per-event CPU budget in ms, and the heap limit in bytes. */
uint32_t js_rt_cpu_ms(js_rt *rt);
size_t js_rt_memory_bytes_max(js_rt *rt);

/* The js_rt / loop a context belongs to. */
js_rt *js_rt_of(JSContext *ctx);
uv_loop_t *js_loop(JSContext *ctx);

/* Runs every pending job (promise reactions), charged to the current event, then
 * the turns (below) — each charged to the events the turn hook enters — and ends
 * with no current event. Exceptions thrown by jobs are logged with their stack. */
void js_rt_pump(js_rt *rt);

/* Turns: after js_rt_pump has run every pending job, it calls the turn hook while
 * someone asked for a turn (js_rt_want_turn), running the jobs each turn makes
 * before the next. The objects layer uses it to deliver an object's next event
 * only after the previous one's promise reactions have run (input gate) and to
 * commit storage once the object's JavaScript has settled (coalescing). */
typedef void (*js_turn_fn)(js_rt *rt, void *ud);
void js_rt_set_turn_hook(js_rt *rt, js_turn_fn fn, void *ud);
void js_rt_want_turn(js_rt *rt);

/* ---- events: what CPU time is charged to (spec: workers.md WRK-30, limits.md LIM-13) ----
 *
 * An event is one unit of work with one CPU budget: a Worker request (with its
 * waitUntil work and its timers), a Durable Object's fetch, RPC call or alarm. The
 * runtime has a current event; all JS that runs — a handler call, a timer callback,
 * the promise jobs pumped after it — is charged to it. Each entry from the loop into
 * JS says which event it runs for (js_rt_enter), and js_rt_drain/js_rt_pump run the
 * jobs that entry caused under that event, so a request's continuations after an
 * await are charged to the request. An event whose total passes the budget is
 * marked exceeded and its running JS is aborted (an uncatchable "interrupted"
 * InternalError); what it runs after that (the code that reports the failure) gets
 * JS_EVENT_GRACE_MS per run before it is aborted too.
 *
 * Lifetime: refcounted (js_event_ref/unref). js_event_finish() says the event's
 * main part is over (the response was sent); js_event_hold/release count work that
 * keeps it open (ctx.waitUntil). Once finished and not held, the event is closed and
 * the close hooks run (web/timers.c cancels the timers it owns). An event made with
 * an `owner` (a Durable Object event: the owner is the instance) gives its timers
 * to the owner instead, so they live as long as the instance. */
#define JS_EVENT_GRACE_MS 50u

typedef struct js_event js_event;
typedef void (*js_event_fn)(js_event *ev, void *ud);

/* A new event (refcount 1). `owner` may be NULL; it is referenced. NULL if out of
 * memory. */
js_event *js_event_new(js_rt *rt, js_event *owner);
void js_event_ref(js_event *ev);
void js_event_unref(js_event *ev);
/* The event that owns timers made while `ev` runs: its owner, or itself. */
js_event *js_event_timer_owner(js_event *ev);
/* One pointer the event carries for its creator (NULL at first): the objects layer
 * marks an instance's owner event with the instance's output gate, so that an
 * outbound call finds the gate of the object it is made by (objects/gate.c). */
void js_event_set_tag(js_event *ev, void *tag);
void *js_event_tag(const js_event *ev);
uint64_t js_event_cpu_ns(const js_event *ev);
bool js_event_exceeded(const js_event *ev);
/* fn(ev, ud) runs once, at the end of the js_rt_pump in which `ev` was found over
 * its budget (no JS on the stack then). An event without one of its own is given
 * to its owner's: fn(ev, owner's ud). */
void js_event_on_exceeded(js_event *ev, js_event_fn fn, void *ud);
void js_event_hold(js_event *ev);
void js_event_release(js_event *ev);
void js_event_finish(js_event *ev);
bool js_event_closed(const js_event *ev);
/* Closes `ev` if it finished more than wait_until_ms_max ago and is still held
 * (waitUntil work that never settles, WRK-32): its timers are then cancelled.
 * Returns true if `ev` is closed. Checked by a timer of the event before it fires. */
bool js_event_close_if_overdue(js_event *ev);
/* A new JS wrapper object for `ev` (it takes a reference); JS_NULL for NULL. The
 * natives N.eventNew/eventCurrent/eventEnter/eventRun/eventExceeded/eventHold/
 * eventFinish take and return such wrappers (rt.c, "events seen from JS"). */
JSValue js_event_wrap(JSContext *ctx, js_event *ev);
/* The event behind such a wrapper (not referenced), or NULL with a TypeError. */
js_event *js_event_unwrap(JSContext *ctx, JSValueConst v);
/* Native handles: C state that JS holds by reference (a key, a digest context, a
 * codec) as an object of class "NativeHandle" whose pointer sits in the object's
 * opaque slot, where no JS can read or write it. (An ArrayBuffer over the C
 * struct, what web/ used before, let Worker code that reached one rewrite its
 * pointers.) `tag` says what a handle holds: each user picks its own nonzero value.
 * free_fn(rt, ptr) runs when the object is collected, or at once when making it
 * fails (then the exception is pending). */
typedef void (*js_handle_free_fn)(JSRuntime *rt, void *ptr);
JSValue js_handle_new(JSContext *ctx, uint32_t tag, void *ptr, js_handle_free_fn free_fn);
/* The pointer of `v` if it is a handle with that tag; else NULL with a TypeError
 * whose message is `what`. */
void *js_handle_get(JSContext *ctx, JSValueConst v, uint32_t tag, const char *what);
/* Close hooks: fn(ev, ud) runs when any event of `rt` closes. At most 8. */
int js_rt_on_event_close(js_rt *rt, js_event_fn fn, void *ud);
void js_rt_off_event_close(js_rt *rt, js_event_fn fn, void *ud);

/* Makes `ev` (NULL: none) the event the JS that runs next is charged to; what ran
 * since the last switch is charged to the previous one. Also starts a new run (the
 * per-run budget of JS that belongs to no event, and the grace of an exceeded one). */
void js_rt_enter(js_rt *rt, js_event *ev);
js_event *js_rt_current(js_rt *rt);
/* Runs every pending job, charged to the current event, then enters NULL. */
void js_rt_drain(js_rt *rt);

/* A run of JS that belongs to no event in particular (module loading, the objects
 * layer's bookkeeping): limited to the CPU budget per run. Nesting is counted. */
void js_rt_event_begin(js_rt *rt);
void js_rt_event_end(js_rt *rt);
/* js_rt_enter(rt, NULL) then js_rt_event_begin(rt), reading the thread CPU clock
 * once (a system call). `fresh`: the caller's js_rt_drain just returned and nothing
 * ran since, so the clock that drain read still starts this run: no read at all.
 * For loops that deliver one message per run (the objects layer's inbox). */
void js_rt_event_begin_fresh(js_rt *rt, bool fresh);
/* True (once) if the last interrupt came from the CPU limit, false for others. */
bool js_rt_take_cpu_exceeded(js_rt *rt);
/* The JS interrupt handler's decision, for other long work run on behalf of the
 * current event (an SQLite progress handler, the regex engine): true if it is to
 * stop now — the event went over its budget (it is then marked exceeded, as for
 * JS), or the shard is stopping. Reads the thread CPU clock: call it every few
 * thousand steps, not per step. */
bool js_rt_should_interrupt(js_rt *rt);

/* Shutdown: once *flag is true (set from any thread), every run of JS on this
 * runtime is interrupted at its next check. The flag must outlive the runtime. */
void js_rt_set_stop_flag(js_rt *rt, const _Atomic bool *flag);
/* True once that flag is set (for other long-running work on the shard to poll,
 * e.g. an SQLite progress handler). */
bool js_rt_stop_requested(js_rt *rt);

/* Out of memory: true once an allocation was refused because the heap reached its
 * limit, until js_rt_clear_oom(). After such an error the context's state cannot be
 * trusted to ever shrink (a global may hold it all), so its owner re-creates it.
 * The hook (if set) is called at the end of the js_rt_pump that saw it. */
bool js_rt_oom(js_rt *rt);
void js_rt_clear_oom(js_rt *rt);
void js_rt_set_oom_hook(js_rt *rt, void (*fn)(js_rt *rt, void *ud), void *ud);
/* Lifts the heap limit (for the cleanup after an out-of-memory error) or puts it back. */
void js_rt_lift_memory_limit(js_rt *rt, bool lift);

/* Formats the pending exception (or `exc`) as "Name: message\n    at ..." into a
 * malloc'd string. Frees nothing it did not create. */
char *js_exception_text(JSContext *ctx, JSValueConst exc);
/* Takes the pending exception, logs it with `what` as prefix, frees it. */
void js_log_exception(JSContext *ctx, const char *what);

/* Small helpers: throw an exception of a DOMException name ("DataCloneError",
 * "InvalidCharacterError", …) if DOMException exists, else an Error with that name.
 * Returns JS_EXCEPTION. */
JSValue js_throw_dom(JSContext *ctx, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
