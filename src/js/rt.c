/* rt.c: the QuickJS runtime of one shard, its contexts, the job pump, events and
 * their CPU budget (see rt.h).
 *
 * CPU limit: QuickJS calls the interrupt handler every few thousand bytecodes. The
 * handler adds the CPU time the current event has used in this run to what it
 * used before (every turn since it started: its handler, the promise jobs that
 * resumed it after each await, its timers) and aborts the JS with an uncatchable
 * InternalError ("interrupted") once the total passes the budget (spec WRK-30,
 * LIM-13). JS that belongs to no event (module loading, bookkeeping) gets the
 * budget per run.
 *
 * Which clock: CPU time, not wall time. The limit is a CPU limit ("I/O wait does
 * not count"); wall time would also count the time the kernel gave this core to
 * another shard or process, so a request would be charged for its neighbours' work
 * on a loaded machine, and two shards on one core would each see twice their real
 * use. But the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID) is a system call on
 * Linux (no vDSO path): ~0.2 us on bare metal, ~3 us in some virtual machines,
 * where three reads per request were a tenth of a small request's cost. So a run
 * of JS (a "segment": from one js_rt_enter to the next) is metered by the
 * monotonic clock (vDSO, no system call) while the event it belongs to has been
 * charged less than PRECISE_AFTER_NS (1 ms, or half the budget when that is
 * smaller), and by the thread's CPU clock from then on: the interrupt handler
 * switches a segment over when it passes that mark, and an event that is past it
 * starts every later segment on the CPU clock. Wall time is an upper bound of the
 * thread's CPU time over the same interval, so the budget check never lets an
 * event run past its budget; what it can do is charge an event, until that event
 * reaches the mark, for wall time in which the thread did not run: the core given
 * to another process, or a blocking call inside the JS (a synchronous SQL query
 * waiting for the disk) — at most the wall time of the event's JS up to the first
 * interrupt after the mark. That is the price of not reading the CPU clock in the
 * short events that are nearly all of them; once past the mark, an event pays
 * two reads per run of JS. The interrupt handler runs every 10,000 bytecodes
 * (~50-100 us of work).
 *
 * Memory: our own allocator functions (the same accounting as QuickJS's default
 * ones) so that a refusal at the heap limit is seen: js_rt_oom() then says the
 * context is to be re-created (spec WRK-31, LIM-14). The release build links
 * Debian's libmimalloc (DURABLE_MIMALLOC), which replaces malloc for the whole
 * process: a JS request allocates and frees a few hundred small blocks, and
 * glibc's malloc, free and malloc_usable_size were ~12 % of a small request's
 * CPU (callgrind: 6 % fewer instructions per request with mimalloc). The sizes
 * counted here are then mi_usable_size's. The sanitizer and fuzz builds keep
 * glibc's allocator, which ASan replaces with its own.
 *
 * The regexp matcher asks the same interrupt handler (patches/quickjs/0001), so a
 * backtracking pattern stops at the limit too. Stack: see JS_STACK_BYTES_MAX in
 * rt.h and stack_bytes_for_js. */
#include "js/rt.h"

#include <assert.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "js/embedded.h"
#include "js/internal.h"

#define CLOSE_HOOKS_MAX 8
/* What QuickJS's default allocator adds per block to its count. */
#define MALLOC_OVERHEAD 8

struct js_event {
    js_rt *rt;
    js_event *owner;          /* referenced; NULL: the event owns its timers */
    int refs;
    int holds;
    bool finished, closed, exceeded, told;
    bool aborted;             /* N.eventAbort threw its uncatchable error in this event */
    uint64_t cpu_ns;          /* charged so far (not counting the current run) */
    uint64_t finished_ns;     /* uv_hrtime() at js_event_finish */
    js_event_fn on_exceeded;
    void *on_exceeded_ud;
    js_event *next_exceeded;  /* in rt->exceeded (that list holds a reference) */
    void *tag;                /* js_event_set_tag: the objects layer's gate, or NULL */
};

typedef struct close_hook {
    js_event_fn fn;
    void *ud;
} close_hook;

struct js_rt {
    JSRuntime *qrt;
    uv_loop_t *loop;
    js_rt_opts opts;
    int event_depth;
    int pump_depth;
    bool armed;               /* JS that runs now is limited (an entry, a pump, a begin) */
    js_event *cur;            /* referenced; NULL: none */
    /* The current segment (since the last js_rt_enter), see "Which clock" above:
     * seg_mono is the monotonic clock at its start; seg_cpu is 0 while it is
     * metered by that clock, else the thread CPU clock when it switched over, with
     * seg_wall_ns the wall time charged before the switch. */
    uint64_t seg_mono;
    uint64_t seg_cpu;
    uint64_t seg_wall_ns;
    uint64_t run_start_ns;    /* seg_elapsed() at the start of this run */
    bool cpu_exceeded;
    js_event *exceeded;       /* exceeded events whose owner is still to be told */
    close_hook close_hooks[CLOSE_HOOKS_MAX];
    int close_hook_count;
    const _Atomic bool *stop;
    bool oom;
    void (*oom_fn)(js_rt *rt, void *ud);
    void *oom_ud;
    js_turn_fn turn_fn;
    void *turn_ud;
    bool turn_wanted, in_turn;
    js_loader *loader;        /* module resolution and the sandbox (loader.c) */
};

#define PRECISE_AFTER_NS 1000000u

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_now(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static uint64_t budget_ns(const js_rt *rt)
{
    return (uint64_t)rt->opts.cpu_ms_max * 1000000u;
}

static uint64_t precise_after_ns(const js_rt *rt)
{
    uint64_t half = budget_ns(rt) / 2;
    return half < PRECISE_AFTER_NS ? half : PRECISE_AFTER_NS;
}

/* What the current segment has used so far: wall time while it is metered by the
 * monotonic clock (an upper bound of its CPU time), then CPU time. */
static uint64_t seg_elapsed(const js_rt *rt)
{
    if (rt->seg_cpu)
        return rt->seg_wall_ns + (cpu_now() - rt->seg_cpu);
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    return now > rt->seg_mono ? now - rt->seg_mono : 0;
}

/* Meters the rest of the current segment with the thread's CPU clock. */
static void seg_go_precise(js_rt *rt)
{
    if (rt->seg_cpu)
        return;
    rt->seg_wall_ns = seg_elapsed(rt);
    rt->seg_cpu = cpu_now();
    if (!rt->seg_cpu)
        rt->seg_cpu = 1;   /* 0 means "not switched"; a thread never reads 0 in practice */
}

static void mark_exceeded(js_rt *rt, js_event *ev)
{
    ev->exceeded = true;
    js_event_ref(ev);
    ev->next_exceeded = rt->exceeded;
    rt->exceeded = ev;
}

static int on_interrupt(JSRuntime *qrt, void *opaque)
{
    (void)qrt;
    js_rt *rt = opaque;
    if (rt->stop && atomic_load_explicit(rt->stop, memory_order_relaxed))
        return 1;
    if (!rt->armed)
        return 0;
    uint64_t el = seg_elapsed(rt);
    js_event *ev = rt->cur;
    if (!rt->seg_cpu &&
        (ev ? ev->cpu_ns + el : el - rt->run_start_ns) > precise_after_ns(rt)) {
        seg_go_precise(rt);   /* el stays what it is: the wall time so far */
    }
    if (!ev) {
        if (el - rt->run_start_ns <= budget_ns(rt))
            return 0;
    } else if (!ev->exceeded) {
        if (ev->cpu_ns + el <= budget_ns(rt))
            return 0;
        mark_exceeded(rt, ev);
    } else if (el - rt->run_start_ns <= (uint64_t)JS_EVENT_GRACE_MS * 1000000u) {
        return 0;   /* an exceeded event reporting its failure */
    }
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

bool js_rt_should_interrupt(js_rt *rt)
{
    return on_interrupt(rt->qrt, rt) != 0;
}

/* ---- the allocator: QuickJS's default accounting, plus the out-of-memory flag ---- */

#ifdef DURABLE_MIMALLOC
#include <mimalloc.h>
#define heap_malloc mi_malloc
#define heap_free mi_free
#define heap_realloc mi_realloc
#define heap_usable_size mi_usable_size
#else
#define heap_malloc malloc
#define heap_free free
#define heap_realloc realloc
#define heap_usable_size malloc_usable_size
#endif

/* Once the heap has refused a block, QuickJS still has to make the
 * InternalError "out of memory" it throws (and the caller its text); at the very
 * limit that failed too and the JS saw `null` thrown. So after a refusal the heap
 * may grow OOM_RESERVE_BYTES more until the owner clears the flag (the context is
 * re-created then, or the JS let go of what it held). */
#define OOM_RESERVE_BYTES (64 * 1024)

static bool over_limit(const JSMallocState *s, size_t add)
{
    size_t limit = s->malloc_limit;
    if (((const js_rt *)s->opaque)->oom && limit < SIZE_MAX - OOM_RESERVE_BYTES)
        limit += OOM_RESERVE_BYTES;
    return add > limit || s->malloc_size > limit - add;
}

static void *rt_malloc(JSMallocState *s, size_t size)
{
    if (over_limit(s, size)) {
        ((js_rt *)s->opaque)->oom = true;
        return NULL;
    }
    void *p = heap_malloc(size);
    if (!p) {
        ((js_rt *)s->opaque)->oom = true;
        return NULL;
    }
    s->malloc_count++;
    s->malloc_size += heap_usable_size(p) + MALLOC_OVERHEAD;
    return p;
}

static void rt_free(JSMallocState *s, void *p)
{
    if (!p)
        return;
    s->malloc_count--;
    s->malloc_size -= heap_usable_size(p) + MALLOC_OVERHEAD;
    heap_free(p);
}

static void *rt_realloc(JSMallocState *s, void *p, size_t size)
{
    if (!p)
        return size ? rt_malloc(s, size) : NULL;
    if (size == 0) {
        rt_free(s, p);
        return NULL;
    }
    size_t old = heap_usable_size(p);
    if (size > old && over_limit(s, size - old)) {
        ((js_rt *)s->opaque)->oom = true;
        return NULL;
    }
    void *n = heap_realloc(p, size);
    if (!n) {
        ((js_rt *)s->opaque)->oom = true;
        return NULL;
    }
    s->malloc_size += heap_usable_size(n) - old;
    return n;
}

static size_t rt_usable_size(const void *p)
{
    return heap_usable_size((void *)p);
}

static const JSMallocFunctions rt_malloc_fns = {rt_malloc, rt_free, rt_realloc, rt_usable_size};

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
    rt->seg_mono = clock_ns(CLOCK_MONOTONIC);
    if (!rt->opts.memory_bytes_max)
        rt->opts.memory_bytes_max = JS_MEMORY_BYTES_DEFAULT;
    if (!rt->opts.cpu_ms_max)
        rt->opts.cpu_ms_max = JS_CPU_MS_DEFAULT;
    if (!rt->opts.wait_until_ms_max)
        rt->opts.wait_until_ms_max = JS_WAIT_UNTIL_MS_DEFAULT;
    rt->qrt = JS_NewRuntime2(&rt_malloc_fns, rt);
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
    js_rt_enter(rt, NULL);
    while (rt->exceeded) {
        js_event *ev = rt->exceeded;
        rt->exceeded = ev->next_exceeded;
        js_event_unref(ev);
    }
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

size_t js_rt_memory_bytes_max(js_rt *rt)
{
    return rt->opts.memory_bytes_max;
}

void js_rt_set_stop_flag(js_rt *rt, const _Atomic bool *flag)
{
    rt->stop = flag;
}

bool js_rt_stop_requested(js_rt *rt)
{
    return rt->stop && atomic_load_explicit(rt->stop, memory_order_relaxed);
}

bool js_rt_oom(js_rt *rt)
{
    return rt->oom;
}

void js_rt_clear_oom(js_rt *rt)
{
    rt->oom = false;
}

void js_rt_set_oom_hook(js_rt *rt, void (*fn)(js_rt *rt, void *ud), void *ud)
{
    rt->oom_fn = fn;
    rt->oom_ud = ud;
}

void js_rt_lift_memory_limit(js_rt *rt, bool lift)
{
    JS_SetMemoryLimit(rt->qrt, lift ? (size_t)-1 : rt->opts.memory_bytes_max);
}

/* ---- events ---- */

js_event *js_event_new(js_rt *rt, js_event *owner)
{
    js_event *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->rt = rt;
    ev->refs = 1;
    ev->owner = owner;
    if (owner)
        js_event_ref(owner);
    return ev;
}

void js_event_ref(js_event *ev)
{
    assert(ev->refs > 0);
    ev->refs++;
}

void js_event_unref(js_event *ev)
{
    if (!ev)
        return;
    assert(ev->refs > 0);
    if (--ev->refs > 0)
        return;
    assert(ev->rt->cur != ev);   /* the current event is referenced by the runtime */
    if (ev->owner)
        js_event_unref(ev->owner);
    free(ev);
}

js_event *js_event_timer_owner(js_event *ev)
{
    return ev->owner ? ev->owner : ev;
}

void js_event_set_tag(js_event *ev, void *tag)
{
    ev->tag = tag;
}

void *js_event_tag(const js_event *ev)
{
    return ev->tag;
}

uint64_t js_event_cpu_ns(const js_event *ev)
{
    uint64_t n = ev->cpu_ns;
    if (ev->rt->cur == ev)
        n += seg_elapsed(ev->rt);
    return n;
}

bool js_event_exceeded(const js_event *ev)
{
    return ev->exceeded;
}

void js_event_on_exceeded(js_event *ev, js_event_fn fn, void *ud)
{
    ev->on_exceeded = fn;
    ev->on_exceeded_ud = ud;
}

static void close_now(js_event *ev)
{
    ev->closed = true;
    /* A hook may drop the last reference another holder had; keep ours. */
    js_event_ref(ev);
    js_rt *rt = ev->rt;
    for (int i = 0; i < rt->close_hook_count; i++)
        rt->close_hooks[i].fn(ev, rt->close_hooks[i].ud);
    js_event_unref(ev);
}

static void maybe_close(js_event *ev)
{
    if (!ev->closed && ev->finished && ev->holds == 0)
        close_now(ev);
}

bool js_event_close_if_overdue(js_event *ev)
{
    if (!ev->closed && ev->finished &&
        uv_hrtime() - ev->finished_ns >= (uint64_t)ev->rt->opts.wait_until_ms_max * 1000000u) {
        log_warn("waitUntil work had not settled %u ms after its response: its timers were "
                 "cancelled", ev->rt->opts.wait_until_ms_max);
        close_now(ev);
    }
    return ev->closed;
}

void js_event_hold(js_event *ev)
{
    ev->holds++;
}

void js_event_release(js_event *ev)
{
    if (ev->holds > 0)
        ev->holds--;
    maybe_close(ev);
}

void js_event_finish(js_event *ev)
{
    if (!ev->finished)
        ev->finished_ns = uv_hrtime();
    ev->finished = true;
    maybe_close(ev);
}

bool js_event_closed(const js_event *ev)
{
    return ev->closed;
}

int js_rt_on_event_close(js_rt *rt, js_event_fn fn, void *ud)
{
    if (rt->close_hook_count == CLOSE_HOOKS_MAX)
        return DUR_ETOOBIG;
    rt->close_hooks[rt->close_hook_count].fn = fn;
    rt->close_hooks[rt->close_hook_count].ud = ud;
    rt->close_hook_count++;
    return 0;
}

void js_rt_off_event_close(js_rt *rt, js_event_fn fn, void *ud)
{
    for (int i = 0; i < rt->close_hook_count; i++)
        if (rt->close_hooks[i].fn == fn && rt->close_hooks[i].ud == ud) {
            rt->close_hooks[i] = rt->close_hooks[--rt->close_hook_count];
            return;
        }
}

void js_rt_enter(js_rt *rt, js_event *ev)
{
    js_event *prev = rt->cur;
    if (ev)
        js_event_ref(ev);
    rt->cur = ev;
    if (prev) {
        prev->cpu_ns += seg_elapsed(rt);
        js_event_unref(prev);
    }
    /* a new segment: on the monotonic clock unless ev is past the mark */
    rt->seg_mono = clock_ns(CLOCK_MONOTONIC);
    rt->seg_cpu = 0;
    rt->seg_wall_ns = 0;
    if (ev && ev->cpu_ns > precise_after_ns(rt))
        seg_go_precise(rt);
    rt->run_start_ns = 0;
    rt->armed = true;
}

js_event *js_rt_current(js_rt *rt)
{
    return rt->cur;
}

/* Tells the owners of the events found over budget (no JS is running). */
static void tell_exceeded(js_rt *rt)
{
    while (rt->exceeded) {
        js_event *ev = rt->exceeded;
        rt->exceeded = ev->next_exceeded;
        ev->next_exceeded = NULL;
        /* An event with no hook of its own is told to its owner's (an object's
         * events: the instance's, objects/gate.c). */
        js_event *hook = ev->on_exceeded || !ev->owner ? ev : ev->owner;
        if (!ev->told && hook->on_exceeded) {
            ev->told = true;
            hook->on_exceeded(ev, hook->on_exceeded_ud);
        }
        js_event_unref(ev);
    }
}

/* ---- runs of JS that belong to no event ---- */

void js_rt_event_begin(js_rt *rt)
{
    if (rt->event_depth++ == 0) {
        JS_UpdateStackTop(rt->qrt);
        if (!rt->cur)   /* an event's run was started by js_rt_enter */
            rt->run_start_ns = seg_elapsed(rt);
        rt->armed = true;
    }
}

void js_rt_event_begin_fresh(js_rt *rt, bool fresh)
{
    if (!fresh || rt->cur)
        js_rt_enter(rt, NULL); /* run_start_ns = now; cur is NULL after it */
    /* js_rt_event_begin without resetting run_start_ns: the run started at the
     * js_rt_enter of the batch's first message */
    if (rt->event_depth++ == 0)
        JS_UpdateStackTop(rt->qrt);
    rt->armed = true;
}

void js_rt_event_end(js_rt *rt)
{
    if (rt->event_depth > 0 && --rt->event_depth == 0 && rt->pump_depth == 0 && !rt->cur)
        rt->armed = false;
}

bool js_rt_take_cpu_exceeded(js_rt *rt)
{
    bool v = rt->cpu_exceeded;
    rt->cpu_exceeded = false;
    return v;
}

/* Runs every pending job, all charged to the current event. The clock is read
 * per job only where a per-run limit applies to it (the grace of an exceeded
 * event); JS of no event shares one budget per drain, and a job aborted by it
 * leaves the next a fresh one. Reading the thread clock is a system call, and a
 * request that awaits storage runs dozens of jobs. */
static void run_jobs(js_rt *rt)
{
    JSContext *ctx;
    rt->armed = true;
    for (;;) {
        if (rt->cur && rt->cur->exceeded)
            rt->run_start_ns = seg_elapsed(rt);
        int rc = JS_ExecutePendingJob(rt->qrt, &ctx);
        if (rc == 0)
            break;
        if (rc < 0) {
            if (js_rt_take_cpu_exceeded(rt))
                log_error("a promise job ran past the CPU limit of %u ms and was aborted",
                          rt->opts.cpu_ms_max);
            js_log_exception(ctx, "Uncaught exception in a promise job");
            rt->run_start_ns = seg_elapsed(rt);
        }
    }
}

void js_rt_drain(js_rt *rt)
{
    run_jobs(rt);
    js_rt_enter(rt, NULL);
    if (rt->pump_depth == 0 && rt->event_depth == 0)
        rt->armed = false;
}

void js_rt_pump(js_rt *rt)
{
    rt->pump_depth++;
    js_rt_event_begin(rt);
    run_jobs(rt);
    js_rt_enter(rt, NULL);
    /* Turns: once the job queue is empty, the hook may start more work (the next
     * event of an object, a commit); each turn's jobs run before the next turn,
     * charged to whatever event the hook entered. */
    while (rt->turn_wanted && rt->turn_fn && !rt->in_turn) {
        rt->turn_wanted = false;
        rt->in_turn = true;   /* its run was started by the js_rt_enter before */
        rt->turn_fn(rt, rt->turn_ud);
        rt->in_turn = false;
        run_jobs(rt);
        js_rt_enter(rt, NULL);
    }
    js_rt_event_end(rt);
    if (--rt->pump_depth > 0)
        return;
    if (rt->event_depth == 0)
        rt->armed = false;
    tell_exceeded(rt);
    if (rt->oom && rt->oom_fn)
        rt->oom_fn(rt, rt->oom_ud);
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

/* ---- native handles (rt.h) ---- */

typedef struct {
    uint32_t tag;
    void *ptr;
    js_handle_free_fn free_fn;
} js_handle;

static JSClassID js_handle_class_id;
static pthread_once_t handle_class_once = PTHREAD_ONCE_INIT;

/* Process-wide, once; shard threads may get here first, but every other class id is
 * allocated before any shard starts (server_classes_init), so nothing races. */
static void handle_class_id_init(void)
{
    JS_NewClassID(&js_handle_class_id);
}

static void js_handle_finalizer(JSRuntime *qrt, JSValue val)
{
    js_handle *h = JS_GetOpaque(val, js_handle_class_id);
    if (h) {
        h->free_fn(qrt, h->ptr);
        free(h);
    }
}

static const JSClassDef js_handle_class = {"NativeHandle", .finalizer = js_handle_finalizer};

JSValue js_handle_new(JSContext *ctx, uint32_t tag, void *ptr, js_handle_free_fn free_fn)
{
    pthread_once(&handle_class_once, handle_class_id_init);
    JSRuntime *qrt = JS_GetRuntime(ctx);
    js_handle *h = NULL;
    JSValue o = JS_EXCEPTION;
    if (!JS_IsRegisteredClass(qrt, js_handle_class_id) &&
        JS_NewClass(qrt, js_handle_class_id, &js_handle_class) < 0)
        goto fail;
    h = malloc(sizeof *h);
    if (!h) {
        JS_ThrowOutOfMemory(ctx);
        goto fail;
    }
    o = JS_NewObjectClass(ctx, (int)js_handle_class_id);
    if (JS_IsException(o))
        goto fail;
    *h = (js_handle){ .tag = tag, .ptr = ptr, .free_fn = free_fn };
    JS_SetOpaque(o, h);
    return o;
fail:
    free(h);
    free_fn(qrt, ptr);
    return JS_EXCEPTION;
}

void *js_handle_get(JSContext *ctx, JSValueConst v, uint32_t tag, const char *what)
{
    pthread_once(&handle_class_once, handle_class_id_init);
    js_handle *h = JS_GetOpaque(v, js_handle_class_id);
    if (!h || h->tag != tag) {
        JS_ThrowTypeError(ctx, "%s", what);
        return NULL;
    }
    return h->ptr;
}

/* ---- events seen from JS (the natives N.event*) ----
 *
 * A wrapper object holds one reference to its event; several wrappers may stand
 * for one event. Used by 90_worker.js (waitUntil keeps the request's event open)
 * and 50_objects.js (each object event is its own event, owned by the instance). */

static JSClassID js_event_class_id;
static pthread_once_t event_class_once = PTHREAD_ONCE_INIT;

static void event_class_id_init(void)
{
    JS_NewClassID(&js_event_class_id);
}

static void js_event_finalizer(JSRuntime *qrt, JSValue val)
{
    (void)qrt;
    js_event_unref(JS_GetOpaque(val, js_event_class_id));
}

static const JSClassDef js_event_class = {"DurableEvent", .finalizer = js_event_finalizer};

JSValue js_event_wrap(JSContext *ctx, js_event *ev)
{
    if (!ev)
        return JS_NULL;
    JSValue o = JS_NewObjectClass(ctx, (int)js_event_class_id);
    if (JS_IsException(o))
        return o;
    js_event_ref(ev);
    JS_SetOpaque(o, ev);
    return o;
}

js_event *js_event_unwrap(JSContext *ctx, JSValueConst v)
{
    return JS_GetOpaque2(ctx, v, js_event_class_id);
}

/* The event behind a wrapper; NULL for null/undefined (no event); NULL with a
 * TypeError for anything else. */
static js_event *event_arg(JSContext *ctx, JSValueConst v, bool *bad)
{
    *bad = false;
    if (JS_IsNull(v) || JS_IsUndefined(v))
        return NULL;
    js_event *ev = JS_GetOpaque2(ctx, v, js_event_class_id);
    if (!ev)
        *bad = true;
    return ev;
}

/* N.eventNew(owner?) → a new event (owner: null or an event). */
static JSValue js_event_new_native(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    (void)this_val;
    bool bad;
    js_event *owner = event_arg(ctx, argc ? argv[0] : JS_UNDEFINED, &bad);
    if (bad)
        return JS_EXCEPTION;
    js_event *ev = js_event_new(js_rt_of(ctx), owner);
    if (!ev)
        return JS_ThrowOutOfMemory(ctx);
    JSValue o = js_event_wrap(ctx, ev);
    js_event_unref(ev);
    return o;
}

/* N.eventCurrent() → the current event, or null. */
static JSValue js_event_current_native(JSContext *ctx, JSValueConst this_val, int argc,
                                       JSValueConst *argv)
{
    (void)this_val, (void)argc, (void)argv;
    return js_event_wrap(ctx, js_rt_of(ctx)->cur);
}

/* N.eventEnter(ev | null): what runs from here to the end of this turn is charged to ev. */
static JSValue js_event_enter_native(JSContext *ctx, JSValueConst this_val, int argc,
                                     JSValueConst *argv)
{
    (void)this_val;
    bool bad;
    js_event *ev = event_arg(ctx, argc ? argv[0] : JS_UNDEFINED, &bad);
    if (bad)
        return JS_EXCEPTION;
    js_rt_enter(js_rt_of(ctx), ev);
    return JS_UNDEFINED;
}

/* N.eventRun(ev, fn) → fn(): calls fn and then runs every pending job, all charged
 * to ev, and goes back to the event that was current. Only where the job queue is
 * empty on entry (a turn), or those jobs are charged to ev too. If fn is aborted
 * because ev went over its CPU budget, or by N.eventAbort in ev, the abort stops
 * here (it is uncatchable in JS, and would otherwise end the caller's turn too):
 * the result is undefined and the caller learns it from N.eventExceeded(ev) or
 * from its own bookkeeping (ctx.abort() resets the instance first). */
static JSValue js_event_run_native(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    (void)this_val;
    bool bad;
    js_event *ev = event_arg(ctx, argc ? argv[0] : JS_UNDEFINED, &bad);
    if (bad)
        return JS_EXCEPTION;
    if (argc < 2 || !JS_IsFunction(ctx, argv[1]))
        return JS_ThrowTypeError(ctx, "eventRun: a function is required");
    js_rt *rt = js_rt_of(ctx);
    js_event *prev = rt->cur;
    if (prev)
        js_event_ref(prev);
    js_rt_enter(rt, ev);
    JSValue r = JS_Call(ctx, argv[1], JS_UNDEFINED, 0, NULL);
    if (JS_IsException(r) && ev && ev->exceeded && js_rt_take_cpu_exceeded(rt)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        r = JS_UNDEFINED;
    } else if (JS_IsException(r) && ev && ev->aborted) {
        JSValue x = JS_GetException(ctx);
        if (JS_IsUncatchableError(ctx, x)) {
            JS_FreeValue(ctx, x);
            ev->aborted = false;
            r = JS_UNDEFINED;
        } else {
            JS_Throw(ctx, x);
        }
    }
    if (!JS_IsException(r))
        run_jobs(rt);
    js_rt_enter(rt, prev);
    js_event_unref(prev);
    return r;
}

/* N.eventAbort(error): throws `error` (an Error object) so that no try/catch of
 * JS can catch it — the same kind of exception as the CPU limit's — and marks the
 * current event, so that N.eventRun of that event stops it there. ctx.abort()
 * (LIFE-12): code after it does not run; an async handler's promise rejects with
 * it, and an await of that promise throws it again, uncatchable still. */
static JSValue js_event_abort_native(JSContext *ctx, JSValueConst this_val, int argc,
                                     JSValueConst *argv)
{
    (void)this_val;
    if (argc < 1 || !JS_IsError(ctx, argv[0]))
        return JS_ThrowTypeError(ctx, "eventAbort: an Error is required");
    js_rt *rt = js_rt_of(ctx);
    if (rt->cur)
        rt->cur->aborted = true;
    JS_SetUncatchableError(ctx, argv[0], true);
    return JS_Throw(ctx, JS_DupValue(ctx, argv[0]));
}

/* N.eventExceeded(ev) → true once ev went over its CPU budget. */
static JSValue js_event_exceeded_native(JSContext *ctx, JSValueConst this_val, int argc,
                                        JSValueConst *argv)
{
    (void)this_val;
    bool bad;
    js_event *ev = event_arg(ctx, argc ? argv[0] : JS_UNDEFINED, &bad);
    if (bad)
        return JS_EXCEPTION;
    return JS_NewBool(ctx, ev && ev->exceeded);
}

/* N.eventHold(ev, +1 | -1): work that keeps ev open (waitUntil) starts or ends. */
static JSValue js_event_hold_native(JSContext *ctx, JSValueConst this_val, int argc,
                                    JSValueConst *argv)
{
    (void)this_val;
    bool bad;
    js_event *ev = event_arg(ctx, argc ? argv[0] : JS_UNDEFINED, &bad);
    int32_t d = 0;
    if (bad || (argc > 1 && JS_ToInt32(ctx, &d, argv[1]) < 0))
        return JS_EXCEPTION;
    if (ev && d > 0)
        js_event_hold(ev);
    else if (ev && d < 0)
        js_event_release(ev);
    return JS_UNDEFINED;
}

/* N.eventFinish(ev): its main part is over; it closes (timers cancelled) once no
 * work holds it. */
static JSValue js_event_finish_native(JSContext *ctx, JSValueConst this_val, int argc,
                                      JSValueConst *argv)
{
    (void)this_val;
    bool bad;
    js_event *ev = event_arg(ctx, argc ? argv[0] : JS_UNDEFINED, &bad);
    if (bad)
        return JS_EXCEPTION;
    if (ev)
        js_event_finish(ev);
    return JS_UNDEFINED;
}

static int events_install(JSContext *ctx, JSValueConst native)
{
    pthread_once(&event_class_once, event_class_id_init);
    JSRuntime *qrt = JS_GetRuntime(ctx);
    if (!JS_IsRegisteredClass(qrt, js_event_class_id) &&
        JS_NewClass(qrt, js_event_class_id, &js_event_class) < 0)
        return -1;
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("eventNew", 1, js_event_new_native),
        JS_CFUNC_DEF("eventCurrent", 0, js_event_current_native),
        JS_CFUNC_DEF("eventEnter", 1, js_event_enter_native),
        JS_CFUNC_DEF("eventRun", 2, js_event_run_native),
        JS_CFUNC_DEF("eventExceeded", 1, js_event_exceeded_native),
        JS_CFUNC_DEF("eventAbort", 1, js_event_abort_native),
        JS_CFUNC_DEF("eventHold", 2, js_event_hold_native),
        JS_CFUNC_DEF("eventFinish", 1, js_event_finish_native),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
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
    if (js__builtins_install(ctx, st->native) < 0 || events_install(ctx, st->native) < 0)
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
        /* No "Uncaught " here: the callers' log lines say what was uncaught. */
        s = JS_ToCString(ctx, exc);
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
