/* events.c: the clock behind the event model (spec: workers.md WEB-16, WEB-20).
 *
 * Event, EventTarget, DOMException, performance, navigator and queueMicrotask
 * live in JS (web/js/10_events.js); what they need from C is time:
 *   N.monotonicMs()  milliseconds of CLOCK_MONOTONIC, with a fractional part
 *   N.timeOriginMs   the wall-clock time (ms since the epoch, fractional) at which
 *                    this context was set up: performance.timeOrigin
 *   N.monotonicOriginMs  N.monotonicMs() at the same moment, so that
 *                    performance.now() = monotonicMs() - monotonicOriginMs
 * Event.timeStamp, performance.now() and console.time() all read this one clock.
 * Workers coarsen performance.now() as a Spectre mitigation; durable returns real
 * monotonic time, which WEB-20 allows. */
#include <time.h>

#include "web/web.h"

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;   /* CLOCK_MONOTONIC and CLOCK_REALTIME cannot fail on Linux */
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static JSValue js_monotonic_ms(JSContext *ctx, JSValueConst this_val, int argc,
                               JSValueConst *argv)
{
    return JS_NewFloat64(ctx, clock_ms(CLOCK_MONOTONIC));
}

static const JSCFunctionListEntry events_natives[] = {
    JS_CFUNC_DEF("monotonicMs", 0, js_monotonic_ms),
};

int web_events_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, events_natives,
                               sizeof events_natives / sizeof events_natives[0]);
    if (JS_SetPropertyStr(ctx, native, "timeOriginMs",
                          JS_NewFloat64(ctx, clock_ms(CLOCK_REALTIME))) < 0)
        return -1;
    if (JS_SetPropertyStr(ctx, native, "monotonicOriginMs",
                          JS_NewFloat64(ctx, clock_ms(CLOCK_MONOTONIC))) < 0)
        return -1;
    return 0;
}
