/* fetch.c: the natives behind the global fetch() (spec: workers.md WEB-4, WRK-33,
 * WRK-34; limits.md LIM-11, LIM-12). The Request handling, the body stream and
 * AbortSignal are JS (js/45_fetch.js); the transfer is net/outbound.c on the
 * shard's loop.
 *
 *   N.fetchAdmit()          counts a subrequest of the current event: throws
 *                           Error("Too many subrequests.") past the limit; returns
 *                           undefined when one of the event's 6 connections is
 *                           free, else a promise that resolves when one is
 *   N.fetchStart(method, url, flatHeaders, bodyBytes|null|true, redirect, cbs,
 *                decode) → id
 *                           body true: streamed, written with fetchWrite/fetchEnd;
 *                           decode: the response's Content-Encoding is decoded
 *                           cbs.head(status, statusText, url, redirected, flat)
 *                           cbs.data(Uint8Array) → true to pause the transfer
 *                           cbs.drain(): a streamed body's bytes went; write more
 *                           cbs.done(errorMessage|undefined)
 *   N.fetchWrite(id, Uint8Array) → true when full (wait for cbs.drain)
 *   N.fetchEnd(id)          the streamed body is complete
 *   N.fetchResume(id), N.fetchCancel(id)
 *
 * A fetch holds its connection slot until done or cancelled. Callbacks run charged
 * to the event that started the fetch; promise jobs are run after curl returns. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "js/bytes.h"
#include "js/rt.h"
#include "net/outbound.h"
#include "web/web.h"

#define FETCH_SUBREQUESTS_MAX 1000u   /* LIM-11, durable's default */
#define FETCH_CONNECTIONS_MAX 6u      /* LIM-12 */

typedef struct evrec evrec;
struct evrec {
    js_event *ev;          /* referenced */
    unsigned count, active;
    JSValue *waiters;      /* resolve functions, oldest first */
    size_t nw, cap;
    evrec *next;
};

typedef struct frec frec;
struct frec {
    int32_t id;
    outbound_req *r;       /* NULL once done or cancelled */
    JSValue cbs;
    js_event *ev;          /* referenced */
    evrec *er;
    struct fstate *st;
    frec *next;
};

typedef struct fstate {
    JSContext *ctx;
    js_rt *rt;
    outbound *ob;
    frec *recs;
    evrec *evs;
    int32_t next_id;
} fstate;

static fstate *state_of(JSContext *ctx)
{
    return js_ctx_slot(ctx, JS_SLOT_FETCH);
}

/* ---- per-event counts ---- */

static void evrec_free(fstate *st, evrec *er)
{
    for (size_t i = 0; i < er->nw; i++)
        JS_FreeValue(st->ctx, er->waiters[i]);
    free(er->waiters);
    js_event_unref(er->ev);
    free(er);
}

/* Forgets events that are over and have nothing in flight. */
static void evrec_sweep(fstate *st)
{
    for (evrec **pp = &st->evs; *pp;) {
        evrec *er = *pp;
        if (er->active == 0 && er->nw == 0 && js_event_closed(er->ev)) {
            *pp = er->next;
            evrec_free(st, er);
        } else {
            pp = &er->next;
        }
    }
}

static evrec *evrec_get(fstate *st, js_event *ev)
{
    for (evrec *er = st->evs; er; er = er->next)
        if (er->ev == ev)
            return er;
    evrec_sweep(st);
    evrec *er = calloc(1, sizeof *er);
    if (!er)
        return NULL;
    er->ev = ev;
    js_event_ref(ev);
    er->next = st->evs;
    st->evs = er;
    return er;
}

/* A connection of `er` is free again: the oldest waiter takes it. */
static void evrec_release(fstate *st, evrec *er)
{
    if (!er)
        return;
    if (er->nw > 0) {
        JSValue fn = er->waiters[0];
        memmove(er->waiters, er->waiters + 1, (er->nw - 1) * sizeof *er->waiters);
        er->nw--;
        JSValue r = JS_Call(st->ctx, fn, JS_UNDEFINED, 0, NULL);
        JS_FreeValue(st->ctx, r);
        JS_FreeValue(st->ctx, fn);
        return; /* the slot passes to the waiter */
    }
    if (er->active > 0)
        er->active--;
}

/* Throws a plain Error (QuickJS has no JS_ThrowError). */
static JSValue throw_error(JSContext *ctx, const char *msg)
{
    JSValue ex = JS_NewError(ctx);
    JS_DefinePropertyValueStr(ctx, ex, "message", JS_NewString(ctx, msg),
                              JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    return JS_Throw(ctx, ex);
}

static JSValue js_fetch_admit(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fstate *st = state_of(ctx);
    js_event *ev = js_rt_current(js_rt_of(ctx));
    if (!st)
        return JS_ThrowInternalError(ctx, "fetch is not available here");
    if (!ev)
        return throw_error(ctx, "Disallowed operation called within global scope. Asynchronous "
                                "I/O (ex: fetch() or connect()), setting a timeout, and "
                                "generating random values are not allowed within global scope. "
                                "To fix this error, perform this operation within a handler.");
    evrec *er = evrec_get(st, ev);
    if (!er)
        return JS_ThrowOutOfMemory(ctx);
    if (er->count >= FETCH_SUBREQUESTS_MAX)
        return throw_error(ctx, "Too many subrequests.");
    er->count++;
    if (er->active < FETCH_CONNECTIONS_MAX) {
        er->active++;
        return JS_UNDEFINED;
    }
    if (er->nw == er->cap) {
        size_t cap = er->cap ? er->cap * 2 : 8;
        JSValue *n = realloc(er->waiters, cap * sizeof *n);
        if (!n)
            return JS_ThrowOutOfMemory(ctx);
        er->waiters = n;
        er->cap = cap;
    }
    JSValue fns[2];
    JSValue p = JS_NewPromiseCapability(ctx, fns);
    if (JS_IsException(p))
        return p;
    JS_FreeValue(ctx, fns[1]);
    er->waiters[er->nw++] = fns[0];
    return p;
}

/* ---- records ---- */

static frec *rec_find(fstate *st, int32_t id)
{
    for (frec *f = st->recs; f; f = f->next)
        if (f->id == id)
            return f;
    return NULL;
}

static void rec_free(fstate *st, frec *f)
{
    for (frec **pp = &st->recs; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    evrec_release(st, f->er);
    JS_FreeValue(st->ctx, f->cbs);
    js_event_unref(f->ev);
    free(f);
}

/* Runs JS charged to the fetch's event. Called from the loop (no event current),
 * the event stays current so that the promise jobs the callback queued run under
 * it when after_curl pumps them (if fetches of two events finish in one batch of
 * curl's callbacks, the first one's jobs are charged to the second). Called from
 * JS of another event (a resume that made curl deliver at once), that event is
 * put back. */
static js_event *charge_begin(frec *f)
{
    js_rt *rt = f->st->rt;
    js_event *prev = js_rt_current(rt);
    if (prev == f->ev)
        return NULL;
    if (prev)
        js_event_ref(prev);
    js_rt_enter(rt, f->ev);
    return prev;
}

static void charge_end(fstate *st, js_event *prev)
{
    if (!prev)
        return;
    js_rt_enter(st->rt, prev);
    js_event_unref(prev);
}

/* Calls cbs[name](args…); returns its result. */
static JSValue call_cb(frec *f, const char *name, int argc, JSValue *argv)
{
    fstate *st = f->st;
    JSContext *ctx = st->ctx;
    js_event *prev = charge_begin(f);
    js_rt_event_begin(st->rt);
    JSValue fn = JS_GetPropertyStr(ctx, f->cbs, name);
    JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, argc, (JSValueConst *)argv);
    JS_FreeValue(ctx, fn);
    js_rt_event_end(st->rt);
    for (int i = 0; i < argc; i++)
        JS_FreeValue(ctx, argv[i]);
    if (JS_IsException(r))
        js_log_exception(ctx, "fetch");
    charge_end(st, prev);
    return r;
}

static void on_head(outbound_req *r, void *ud, const outbound_head *h)
{
    frec *f = ud;
    JSContext *ctx = f->st->ctx;
    JSValue flat = JS_NewArray(ctx);
    for (size_t i = 0; i < h->nhdrs * 2; i++)
        JS_SetPropertyUint32(ctx, flat, (uint32_t)i,
                             web_utf8_decode(ctx, (const uint8_t *)h->hdrs[i], strlen(h->hdrs[i]), false));
    JSValue args[5] = {JS_NewInt32(ctx, h->status), JS_NewString(ctx, h->reason),
                       JS_NewString(ctx, h->url), JS_NewBool(ctx, h->redirects > 0), flat};
    JS_FreeValue(ctx, call_cb(f, "head", 5, args));
}

static bool on_data(outbound_req *r, void *ud, const char *data, size_t len)
{
    frec *f = ud;
    JSContext *ctx = f->st->ctx;
    JSValue ab = JS_NewArrayBufferCopy(ctx, (const uint8_t *)data, len);
    if (JS_IsException(ab)) {
        /* The heap is full: the body cannot grow; the fetch fails. */
        JS_FreeValue(ctx, JS_GetException(ctx));
        outbound_cancel(r);
        f->r = NULL;
        JSValue arg = JS_NewString(ctx, "the response body does not fit in memory");
        JS_FreeValue(ctx, call_cb(f, "done", 1, &arg));
        rec_free(f->st, f);
        return true;
    }
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue u8c = JS_GetPropertyStr(ctx, global, "Uint8Array");
    JS_FreeValue(ctx, global);
    JSValue u8 = JS_CallConstructor(ctx, u8c, 1, (JSValueConst *)&ab);
    JS_FreeValue(ctx, u8c);
    JS_FreeValue(ctx, ab);
    JSValue res = call_cb(f, "data", 1, &u8);
    bool pause = JS_ToBool(ctx, res) > 0;
    JS_FreeValue(ctx, res);
    return pause;
}

static void on_done(outbound_req *r, void *ud, int rc, const char *msg)
{
    frec *f = ud;
    fstate *st = f->st;
    JSContext *ctx = st->ctx;
    f->r = NULL; /* outbound frees it */
    JSValue arg = rc == 0 ? JS_UNDEFINED : JS_NewString(ctx, msg ? msg : "network error");
    JSValue res = call_cb(f, "done", 1, &arg);
    JS_FreeValue(ctx, res);
    /* The freed connection may go to a waiting fetch of the same event. */
    js_event *prev = charge_begin(f);
    js_event *ev = f->ev;
    if (ev)
        js_event_ref(ev);
    rec_free(st, f);
    js_event_unref(ev);
    charge_end(st, prev);
}

static void on_drain(outbound_req *r, void *ud)
{
    frec *f = ud;
    JS_FreeValue(f->st->ctx, call_cb(f, "drain", 0, NULL));
}

static void after_curl(void *ud)
{
    fstate *st = ud;
    js_rt_pump(st->rt);
}

static const outbound_cbs CBS = {on_head, on_data, on_done, on_drain};

static JSValue js_fetch_start(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fstate *st = state_of(ctx);
    if (!st || argc < 7)
        return JS_ThrowInternalError(ctx, "fetchStart: bad call");
    err e = {0};
    if (!st->ob && outbound_new(js_loop(ctx), after_curl, st, &st->ob, &e) < 0)
        return JS_ThrowInternalError(ctx, "fetch: %s", e.msg);
    const char *method = JS_ToCString(ctx, argv[0]);
    const char *url = JS_ToCString(ctx, argv[1]);
    uint32_t n = 0;
    JSValue lenv = JS_GetPropertyStr(ctx, argv[2], "length");
    JS_ToUint32(ctx, &n, lenv);
    JS_FreeValue(ctx, lenv);
    const char **hdrs = calloc(n ? n : 1, sizeof *hdrs);
    JSValue hold = JS_UNDEFINED;
    const uint8_t *body = NULL;
    size_t body_len = 0;
    int32_t redirect = 0;
    JSValue ret = JS_EXCEPTION;
    uint32_t got = 0;
    if (!method || !url || !hdrs)
        goto out;
    for (; got < n; got++) {
        JSValue v = JS_GetPropertyUint32(ctx, argv[2], got);
        hdrs[got] = JS_ToCString(ctx, v);
        JS_FreeValue(ctx, v);
        if (!hdrs[got])
            goto out;
    }
    bool stream = JS_IsBool(argv[3]) && JS_ToBool(ctx, argv[3]);
    if (!stream && !JS_IsNull(argv[3]) && !JS_IsUndefined(argv[3])) {
        body = js_bytes_of(ctx, argv[3], &body_len, &hold);
        if (!body)
            goto out;
    }
    if (JS_ToInt32(ctx, &redirect, argv[4]) < 0)
        goto out;
    frec *f = calloc(1, sizeof *f);
    if (!f) {
        JS_ThrowOutOfMemory(ctx);
        goto out;
    }
    f->st = st;
    f->id = ++st->next_id;
    if (st->next_id == INT32_MAX)
        st->next_id = 0;
    f->cbs = JS_DupValue(ctx, argv[5]);
    f->ev = js_rt_current(st->rt);
    if (f->ev) {
        js_event_ref(f->ev);
        f->er = evrec_get(st, f->ev); /* admitted by N.fetchAdmit */
    }
    outbound_opts o = {.url = url, .method = method, .hdrs = hdrs, .nhdrs = n / 2,
                       .body = body, .body_len = body_len, .body_stream = stream,
                       .decode = JS_ToBool(ctx, argv[6]) > 0, .redirect = redirect};
    if (body && !body_len)
        o.body = "";
    if (outbound_start(st->ob, &o, &CBS, f, &f->r, &e) < 0) {
        JS_ThrowTypeError(ctx, "fetch failed: %s", e.msg);
        f->next = st->recs;
        st->recs = f;
        rec_free(st, f);
        goto out;
    }
    f->next = st->recs;
    st->recs = f;
    ret = JS_NewInt32(ctx, f->id);
out:
    for (uint32_t i = 0; i < got; i++)
        JS_FreeCString(ctx, hdrs[i]);
    free(hdrs);
    JS_FreeCString(ctx, method);
    JS_FreeCString(ctx, url);
    JS_FreeValue(ctx, hold);
    return ret;
}

/* The live request named by argv[0]: NULL when it is unknown or has ended, and
 * also when the argument is bad, which sets *bad (an exception may be pending). */
static frec *live_rec(JSContext *ctx, int argc, JSValueConst *argv, fstate **stp, bool *bad)
{
    fstate *st = state_of(ctx);
    int32_t id;
    *stp = st;
    *bad = !st || argc < 1 || JS_ToInt32(ctx, &id, argv[0]) < 0;
    if (*bad)
        return NULL;
    frec *f = rec_find(st, id);
    return f && f->r ? f : NULL;
}

/* fetchWrite(id, bytes) → true when the body buffer is full. After the fetch
 * ended, the bytes are dropped (false). A TypeError past a declared length. */
static JSValue js_fetch_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fstate *st;
    bool bad = argc < 2;
    frec *f = bad ? NULL : live_rec(ctx, argc, argv, &st, &bad);
    if (bad)
        return JS_EXCEPTION;
    if (!f)
        return JS_FALSE;
    JSValue hold = JS_UNDEFINED;
    size_t len;
    const uint8_t *p = js_bytes_of(ctx, argv[1], &len, &hold);
    if (!p) {
        JS_FreeValue(ctx, hold);
        return JS_EXCEPTION;
    }
    bool full = false;
    err e = {0};
    /* May run the fetch's callbacks (curl sends at once) and free f: not used after. */
    int rc = outbound_body_write(f->r, p, len, &full, &e);
    JS_FreeValue(ctx, hold);
    if (rc < 0)
        return JS_ThrowTypeError(ctx, "fetch failed: %s", e.msg);
    return JS_NewBool(ctx, full);
}

static JSValue js_fetch_end(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fstate *st;
    bool bad;
    frec *f = live_rec(ctx, argc, argv, &st, &bad);
    if (f)
        outbound_body_end(f->r);
    return JS_UNDEFINED;
}

static JSValue js_fetch_resume(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fstate *st;
    bool bad;
    frec *f = live_rec(ctx, argc, argv, &st, &bad);
    if (f)
        outbound_resume(f->r);
    return JS_UNDEFINED;
}

static JSValue js_fetch_cancel(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fstate *st;
    bool bad;
    frec *f = live_rec(ctx, argc, argv, &st, &bad);
    if (!f)
        return JS_UNDEFINED;
    outbound_cancel(f->r);
    f->r = NULL;
    rec_free(st, f);
    return JS_UNDEFINED;
}

/* N.fetchRelease(): an admitted fetch that never started gives its slot back. */
static JSValue js_fetch_release(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    fstate *st = state_of(ctx);
    js_event *ev = js_rt_current(js_rt_of(ctx));
    if (st && ev) {
        for (evrec *er = st->evs; er; er = er->next)
            if (er->ev == ev) {
                evrec_release(st, er);
                break;
            }
    }
    return JS_UNDEFINED;
}

static void fetch_cleanup(JSContext *ctx, void *ud)
{
    fstate *st = ud;
    while (st->recs) {
        frec *f = st->recs;
        st->recs = f->next;
        JS_FreeValue(ctx, f->cbs);
        js_event_unref(f->ev);
        free(f);
    }
    outbound_free(st->ob); /* cancels the transfers */
    while (st->evs) {
        evrec *er = st->evs;
        st->evs = er->next;
        evrec_free(st, er);
    }
    js_ctx_set_slot(ctx, JS_SLOT_FETCH, NULL);
    free(st);
}

int web_fetch_install(JSContext *ctx, JSValueConst native)
{
    fstate *st = calloc(1, sizeof *st);
    if (!st) {
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    st->ctx = ctx;
    st->rt = js_rt_of(ctx);
    if (js_ctx_on_free(ctx, fetch_cleanup, st) < 0) {
        free(st);
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    js_ctx_set_slot(ctx, JS_SLOT_FETCH, st);
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("fetchAdmit", 0, js_fetch_admit),
        JS_CFUNC_DEF("fetchStart", 7, js_fetch_start),
        JS_CFUNC_DEF("fetchWrite", 2, js_fetch_write),
        JS_CFUNC_DEF("fetchEnd", 1, js_fetch_end),
        JS_CFUNC_DEF("fetchResume", 1, js_fetch_resume),
        JS_CFUNC_DEF("fetchCancel", 1, js_fetch_cancel),
        JS_CFUNC_DEF("fetchRelease", 0, js_fetch_release),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}
