/* worker.c: one Worker script on one shard (see worker.h).
 *
 * Requests in flight live in a slot table; JS refers to a request by a small
 * integer id (slot index + generation), never by pointer, so a late callback for a
 * request that already timed out finds a stale generation and does nothing.
 * Hot path (the `hello` benchmark): build Request, call N.dispatchFetch, pump jobs,
 * N.fetchDone → web_response_parts_get → h1_conn_respond. No timer is armed for a
 * handler that settles within the first pump.
 *
 * Each request is an event (js/rt.h): its handler, every promise job that resumes
 * it, its timers and its waitUntil work share one CPU budget (spec WRK-30). Past the
 * budget the request gets 503 (at once if its handler has not answered). The event
 * closes — and its timers are cancelled — once the response is sent and its
 * waitUntil promises have settled.
 *
 * Out of memory (WRK-31): the error fails the request that met it, and then the
 * whole context is re-created (module state is gone; Durable Objects in memory on
 * this shard are reset, their callers get a reset error): a module-level value that
 * filled the heap would otherwise fail every later request until a restart. */
#include "worker/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/tail.h"
#include "js/bytes.h"
#include "net/ws.h"
#include "storage/natives.h"
#include "web/console.h"
#include "web/web.h"
#include "worker/report.h"

#define SLOT_BITS 20
#define SLOTS_MAX (1u << SLOT_BITS)
#define GEN_MAX 1024u
#define WORKER_URL_BYTES_MAX 16384u
#define WORKER_WALL_MS_EXTRA 30000u

typedef struct wreq {
    h1_conn *conn;            /* NULL when the slot is free */
    const h1_request *req;    /* valid until we respond */
    uint64_t start_ns;
    uint32_t gen;
    uint32_t next_free;
    uv_timer_t *timer;        /* wall limit, armed only if the first pump did not settle */
    web_response_parts parts; /* while waiting for a streamed body */
    bool parts_live;
    bool streaming;           /* the head is out; the body follows (N.streamBody) */
    js_event *ev;             /* referenced: the request's CPU budget and its timers */
    bool ws;                  /* a valid WebSocket handshake: a 101 may answer it */
    char ws_accept[WS_ACCEPT_LEN + 1];
    char *exception;          /* what failed it, for its report (report.h) */
    buf *tail_logs;           /* its console lines, while a tail watches */
} wreq;

struct worker {
    js_rt *rt;
    JSContext *ctx;
    worker_opts opts;
    wreq *slots;
    uint32_t slot_count, slot_cap;
    uint32_t free_head;       /* UINT32_MAX = none */
    size_t inflight;
    JSValue dispatch;         /* N.dispatchFetch */
    JSValue await_body;       /* N.streamBody */
    uv_timer_t *reset_timer;  /* armed when the heap overflowed: re-create the context */
};

static worker *worker_of(JSContext *ctx)
{
    return js_ctx_slot(ctx, JS_SLOT_WORKER);
}

JSContext *worker_context(worker *w)
{
    return w->ctx;
}

size_t worker_inflight(const worker *w)
{
    return w->inflight;
}

/* ---- slots ---- */

static int slot_alloc(worker *w, uint32_t *out)
{
    if (w->free_head != UINT32_MAX) {
        uint32_t i = w->free_head;
        w->free_head = w->slots[i].next_free;
        *out = i;
        return 0;
    }
    if (w->slot_count == w->slot_cap) {
        if (w->slot_cap >= SLOTS_MAX)
            return DUR_ETOOBIG;
        uint32_t cap = w->slot_cap ? w->slot_cap * 2 : 64;
        wreq *n = realloc(w->slots, cap * sizeof *n);
        if (!n)
            return DUR_ENOMEM;
        w->slots = n;
        w->slot_cap = cap;
    }
    uint32_t i = w->slot_count++;
    memset(&w->slots[i], 0, sizeof w->slots[i]);
    *out = i;
    return 0;
}

static int32_t slot_id(const worker *w, uint32_t i)
{
    return (int32_t)((w->slots[i].gen << SLOT_BITS) | i);
}

static wreq *slot_find(worker *w, int32_t id, uint32_t *idx)
{
    if (id < 0)
        return NULL;
    uint32_t i = (uint32_t)id & (SLOTS_MAX - 1), gen = (uint32_t)id >> SLOT_BITS;
    if (i >= w->slot_count || !w->slots[i].conn || w->slots[i].gen != gen)
        return NULL;
    *idx = i;
    return &w->slots[i];
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void slot_free(worker *w, uint32_t i)
{
    wreq *r = &w->slots[i];
    if (r->timer) {
        uv_timer_stop(r->timer);
        uv_close((uv_handle_t *)r->timer, on_timer_closed);
        r->timer = NULL;
    }
    if (r->parts_live) {
        web_response_parts_fini(w->ctx, &r->parts);
        r->parts_live = false;
    }
    if (r->ev) {
        /* Answered: its timers go once its waitUntil work is done too. */
        js_event_on_exceeded(r->ev, NULL, NULL);
        js_event_finish(r->ev);
        js_event_unref(r->ev);
        r->ev = NULL;
    }
    free(r->exception);
    r->exception = NULL;
    if (r->tail_logs) {
        buf_fini(r->tail_logs);
        free(r->tail_logs);
        r->tail_logs = NULL;
    }
    r->conn = NULL;
    r->req = NULL;
    r->streaming = false;
    r->gen = (r->gen + 1) % GEN_MAX;
    r->next_free = w->free_head;
    w->free_head = i;
    w->inflight--;
}

/* ---- answering ---- */

/* Where every answered request passes: its log line, metrics, tail event. */
static void log_request(worker *w, const wreq *r, int status)
{
    worker_report rep = {
        .worker = w->opts.cfg->name, .req = r->req,
        .client_ip = r->conn ? h1_conn_peer(r->conn) : NULL, .status = status,
        .start_ns = r->start_ns,
        .cpu_ns = r->ev ? js_event_cpu_ns(r->ev) : 0, .log_line = w->opts.log_requests,
        .exception = r->exception, .exceeded_cpu = r->ev && js_event_exceeded(r->ev),
        .logs = r->tail_logs,
    };
    worker_report_request(&rep);
}

/* console.* of the context: to the log as before, and into the request's tail
 * event while a tail of this Worker is open. */
static void console_sink(void *ud, int level, const char *text, size_t len)
{
    worker *w = ud;
    log_msg((log_level)level, "%.*s", len > INT32_MAX ? INT32_MAX : (int)len, text);
    if (!tail_wanted(w->opts.cfg->name))
        return;
    js_event *ev = js_rt_current(w->rt);
    for (uint32_t i = 0; ev && i < w->slot_count; i++)
        if (w->slots[i].conn && w->slots[i].ev == ev) {
            worker_report_console(&w->slots[i].tail_logs, level, text, len);
            return;
        }
}

static void respond_error(worker *w, uint32_t i, int status, const char *body)
{
    wreq *r = &w->slots[i];
    if (r->streaming) {
        /* The head went out already: all that is left is to break the body. */
        h1_conn_abort(r->conn);
        slot_free(w, i);
        return;
    }
    log_request(w, r, status);
    h1_header hdr = {"content-type", 12, "text/plain;charset=UTF-8", 24};
    h1_conn_respond(r->conn, status, &hdr, 1, body, strlen(body));
    slot_free(w, i);
}

static void respond_parts(worker *w, uint32_t i, web_response_parts *p)
{
    wreq *r = &w->slots[i];
    log_request(w, r, p->status);
    if (p->reason)
        (void)h1_conn_reason(r->conn, p->reason, p->reason_len); /* Response checked it */
    h1_conn_respond(r->conn, p->status, p->headers, p->header_count, p->body, p->body_len);
    slot_free(w, i);
}

/* The handler failed: log why, answer 500 (503 for the CPU limit, spec WRK-30). */
static void fail_with(worker *w, uint32_t i, JSValueConst exc, bool cpu)
{
    char *text = js_exception_text(w->ctx, exc);
    wreq *r = &w->slots[i];
    char limit[96];
    snprintf(limit, sizeof limit, "the handler ran past the CPU limit of %u ms and was aborted",
             js_rt_cpu_ms(w->rt));
    worker_report_error(w->opts.cfg->name, r->req, cpu ? "" : "Uncaught ",
                        cpu ? limit : text ? text : "(out of memory)");
    if (!r->exception)
        r->exception = strdup(cpu ? limit : text ? text : "(out of memory)");
    free(text);
    if (cpu)
        respond_error(w, i, 503, "Service Unavailable");
    else
        respond_error(w, i, 500, "Internal Server Error");
}

/* True if the request's event went over its CPU budget (and forgets the runtime's
 * flag of the last interrupt, which belonged to it or to nothing we answer for). */
static bool over_budget(worker *w, const wreq *r)
{
    bool flag = js_rt_take_cpu_exceeded(w->rt);
    return r->ev ? js_event_exceeded(r->ev) : flag;
}

/* The handler answered with a 101 (spec WS-3): only an upgrade request may get
 * one, and the Response must carry a WebSocketPair end nobody accepted. */
static void upgrade(worker *w, uint32_t i, JSValueConst v)
{
    wreq *r = &w->slots[i];
    if (!r->ws) {
        log_error("%s %.*s: TypeError: the handler returned a 101 response to a request that "
                  "is not a WebSocket upgrade",
                  r->req->method, (int)r->req->target_len, r->req->target);
        respond_error(w, i, 500, "Internal Server Error");
        return;
    }
    log_request(w, r, 101);
    int rc = web_ws_upgrade(w->ctx, r->conn, r->ws_accept, v, r->parts.headers,
                            r->parts.header_count);
    if (rc == -1) {
        fail_with(w, i, JS_UNDEFINED, false);
        return;
    }
    slot_free(w, i);
}

static void take_response(worker *w, uint32_t i, JSValueConst v)
{
    wreq *r = &w->slots[i];
    err e = {0};
    int rc = web_response_parts_get(w->ctx, v, &r->parts, &e);
    if (rc == DUR_ETYPE) {
        log_error("%s %.*s: TypeError: %s", r->req->method, (int)r->req->target_len,
                  r->req->target, e.msg);
        respond_error(w, i, 500, "Internal Server Error");
        return;
    }
    if (rc < 0) {
        fail_with(w, i, JS_UNDEFINED, over_budget(w, r));
        return;
    }
    if (over_budget(w, r)) {
        /* The handler answered, but work of this request (an unawaited promise, a
         * timer) ran past the budget meanwhile: the event was aborted (WRK-30). */
        web_response_parts_fini(w->ctx, &r->parts);
        fail_with(w, i, JS_UNDEFINED, true);
        return;
    }
    r->parts_live = true;
    if (r->parts.status == 101) {
        upgrade(w, i, v);
        return;
    }
    if (!r->parts.body_pending) {
        respond_parts(w, i, &r->parts);
        return;
    }
    /* A stream body: send the head now, then each chunk as the stream gives it
     * (N.streamBody → bodyChunk … bodyEnd). The handler has answered, so the wall
     * limit no longer applies (WRK-32: unlimited while the client is connected). */
    log_request(w, r, r->parts.status);
    if (r->parts.reason)
        (void)h1_conn_reason(r->conn, r->parts.reason, r->parts.reason_len);
    r->streaming = true;
    if (r->timer) {
        uv_timer_stop(r->timer);
        uv_close((uv_handle_t *)r->timer, on_timer_closed);
        r->timer = NULL;
    }
    h1_conn_start(r->conn, r->parts.status, r->parts.headers, r->parts.header_count);
    JSValue args[2] = {JS_NewInt32(w->ctx, slot_id(w, i)), JS_DupValue(w->ctx, r->parts.body_promise)};
    JSValue res = JS_Call(w->ctx, w->await_body, JS_UNDEFINED, 2, args);
    JS_FreeValue(w->ctx, args[1]);
    if (JS_IsException(res))
        fail_with(w, i, JS_UNDEFINED, false);
    JS_FreeValue(w->ctx, res);
}

/* ---- natives called from 90_worker.js ---- */

static JSValue js_fetch_done(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    worker *w = worker_of(ctx);
    int32_t id;
    uint32_t i;
    if (!w || argc < 2 || JS_ToInt32(ctx, &id, argv[0]) < 0 || !slot_find(w, id, &i))
        return JS_UNDEFINED;   /* answered already (timeout) */
    take_response(w, i, argv[1]);
    return JS_UNDEFINED;
}

static JSValue js_fetch_failed(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    worker *w = worker_of(ctx);
    int32_t id;
    uint32_t i;
    if (!w || argc < 2 || JS_ToInt32(ctx, &id, argv[0]) < 0 || !slot_find(w, id, &i))
        return JS_UNDEFINED;
    /* An async handler that ran past the CPU limit rejects its promise with the
     * interrupt; the flag says so (WRK-30: 503, not 500). */
    fail_with(w, i, argv[1], over_budget(w, &w->slots[i]));
    return JS_UNDEFINED;
}

/* N.bodyChunk(id, bytes) → bytes queued for the client, or -1 once the client is
 * gone (the stream is then cancelled by the caller). */
static JSValue js_body_chunk(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    worker *w = worker_of(ctx);
    int32_t id;
    uint32_t i;
    if (!w || argc < 2 || JS_ToInt32(ctx, &id, argv[0]) < 0 || !slot_find(w, id, &i) ||
        !w->slots[i].streaming)
        return JS_NewInt32(ctx, -1);
    wreq *r = &w->slots[i];
    size_t len;
    JSValue hold;
    const uint8_t *p = js_bytes_of(ctx, argv[1], &len, &hold);
    if (!p)
        return JS_EXCEPTION;
    int rc = h1_conn_write(r->conn, p, len);
    JS_FreeValue(ctx, hold);
    if (rc < 0 || h1_conn_closed(r->conn))
        return JS_NewInt32(ctx, -1);
    return JS_NewFloat64(ctx, (double)h1_conn_queued_bytes(r->conn));
}

/* N.bodyQueued(id) → bytes queued for the client, -1 once it is gone. */
static JSValue js_body_queued(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    worker *w = worker_of(ctx);
    int32_t id;
    uint32_t i;
    if (!w || argc < 1 || JS_ToInt32(ctx, &id, argv[0]) < 0 || !slot_find(w, id, &i) ||
        !w->slots[i].streaming || h1_conn_closed(w->slots[i].conn))
        return JS_NewInt32(ctx, -1);
    return JS_NewFloat64(ctx, (double)h1_conn_queued_bytes(w->slots[i].conn));
}

/* N.bodyEnd(id, error): the stream ended (error undefined) or failed (the error is
 * logged and the connection broken, so the client cannot take a short body for a
 * whole one). */
static JSValue js_body_end(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    worker *w = worker_of(ctx);
    int32_t id;
    uint32_t i;
    if (!w || argc < 1 || JS_ToInt32(ctx, &id, argv[0]) < 0 || !slot_find(w, id, &i) ||
        !w->slots[i].streaming)
        return JS_UNDEFINED;
    wreq *r = &w->slots[i];
    if (argc > 1 && !JS_IsUndefined(argv[1])) {
        char *text = js_exception_text(ctx, argv[1]);
        log_error("%s %.*s: the response body stream failed: %s", r->req->method,
                  (int)r->req->target_len, r->req->target, text ? text : "(out of memory)");
        free(text);
        h1_conn_abort(r->conn);
    } else {
        h1_conn_end(r->conn);
    }
    slot_free(w, i);
    return JS_UNDEFINED;
}

/* N.logError(text): a line in the server log at error level (used where console
 * itself may be what failed). */
static JSValue js_log_error(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *s = JS_ToCString(ctx, argc ? argv[0] : JS_UNDEFINED);
    if (!s)
        return JS_EXCEPTION;
    log_error("%s", s);
    JS_FreeCString(ctx, s);
    return JS_UNDEFINED;
}

int worker_js_install(JSContext *ctx, JSValueConst native)
{
    if (web_install(ctx, native) < 0 || storage_install(ctx, native) < 0 ||
        obj_install(ctx, native) < 0)
        return -1;
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("fetchDone", 2, js_fetch_done),
        JS_CFUNC_DEF("fetchFailed", 2, js_fetch_failed),
        JS_CFUNC_DEF("bodyChunk", 2, js_body_chunk),
        JS_CFUNC_DEF("bodyQueued", 1, js_body_queued),
        JS_CFUNC_DEF("bodyEnd", 2, js_body_end),
        JS_CFUNC_DEF("logError", 1, js_log_error),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}

/* ---- the wall limit ---- */

static void on_wall_timeout(uv_timer_t *t)
{
    worker *w = t->data;
    uint32_t i;
    /* Find the slot owning this timer (the table is small; timeouts are rare). */
    for (i = 0; i < w->slot_count; i++)
        if (w->slots[i].timer == t)
            break;
    if (i == w->slot_count)
        return;
    wreq *r = &w->slots[i];
    log_error("%s %.*s: the handler did not produce a response within %u ms (a promise that "
              "never settles?)",
              r->req->method, (int)r->req->target_len, r->req->target, w->opts.wall_ms_max);
    respond_error(w, i, 500, "Internal Server Error");
}

static void arm_wall_limit(worker *w, uint32_t i)
{
    wreq *r = &w->slots[i];
    uv_timer_t *t = malloc(sizeof *t);
    if (!t)
        return;   /* no limit for this request; it still completes normally */
    uv_timer_init(js_loop(w->ctx), t);
    t->data = w;
    r->timer = t;
    uv_timer_start(t, on_wall_timeout, w->opts.wall_ms_max, 0);
}

/* A request's event went over its CPU budget: if its handler has not answered
 * yet (it awaits something, or the abort hit work it does not await), it gets 503
 * now; its timers go with it (WRK-30). */
static void on_request_exceeded(js_event *ev, void *ud)
{
    worker *w = ud;
    for (uint32_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].conn && w->slots[i].ev == ev) {
            fail_with(w, i, JS_NULL, true);
            return;
        }
}

/* ---- a request ---- */

/* net/h1_target.c made req->url and checked its host by RFC 3986 syntax; an "xn--"
 * label (the URL's host is lower case there) must also be valid Punycode, or
 * `new URL(request.url)` would throw in the Worker. Only then is it parsed here. */
static bool url_host_ok(const h1_request *req)
{
    const char *host = strstr(req->url, "://") + 3;
    size_t n = strcspn(host, "/?#");
    for (size_t k = 0; k + 4 <= n; k++)
        if (memcmp(host + k, "xn--", 4) == 0)
            return web_url_parses(req->url, req->url_len);
    return true;
}

void worker_handle(worker *w, h1_conn *conn, const h1_request *req)
{
    uint32_t i;
    if (slot_alloc(w, &i) < 0) {
        h1_header hdr = {"content-type", 12, "application/json", 16};
        const char *body = "{\"error\":\"too many requests in flight on this shard\"}";
        h1_conn_respond(conn, 503, &hdr, 1, body, strlen(body));
        return;
    }
    wreq *r = &w->slots[i];
    r->conn = conn;
    r->req = req;
    r->start_ns = uv_hrtime();
    w->inflight++;
    int32_t id = slot_id(w, i);
    if (req->target_len > WORKER_URL_BYTES_MAX) {   /* spec LIM-50 */
        log_request(w, r, 414);
        h1_header hdr = {"content-type", 12, "application/json", 16};
        const char *body = "{\"error\":\"request URL longer than 16384 bytes\"}";
        h1_conn_respond(conn, 414, &hdr, 1, body, strlen(body));
        slot_free(w, i);
        return;
    }

    if (!url_host_ok(req)) {
        log_request(w, r, 400);
        h1_header hdrs[2] = {{"content-type", 12, "application/json", 16},
                             {"connection", 10, "close", 5}};
        const char *body = "{\"error\":\"invalid Host: an xn-- label that is not valid Punycode\"}";
        h1_conn_respond(conn, 400, hdrs, 2, body, strlen(body));
        slot_free(w, i);
        return;
    }
    const char *why = NULL;
    int hs = ws_handshake_check(req, r->ws_accept, &why);
    r->ws = hs == 1;
    if (hs < 0) { /* spec WS-2: the Worker never sees a malformed handshake */
        log_request(w, r, 400);
        h1_header hdr = {"content-type", 12, "application/json", 16};
        char body[160];
        snprintf(body, sizeof body, "{\"error\":\"%s\"}", why);
        h1_conn_respond(conn, 400, &hdr, 1, body, strlen(body));
        slot_free(w, i);
        return;
    }
    JSContext *ctx = w->ctx;
    r->ev = js_event_new(w->rt, NULL);
    if (!r->ev) {
        respond_error(w, i, 503, "Service Unavailable");
        return;
    }
    js_event_on_exceeded(r->ev, on_request_exceeded, w);
    js_rt_take_cpu_exceeded(w->rt);   /* forget an earlier event's abort */
    js_rt_enter(w->rt, r->ev);
    js_rt_event_begin(w->rt);
    /* Each request starts with no AsyncLocalStorage store, even if a run() was cut
     * short by the CPU limit (an uncatchable abort skips its finally). */
    JS_SetAsyncContext(ctx, JS_UNDEFINED);
    JSValue jreq = web_request_new(ctx, req, req->url, req->url_len); /* made by net/h1_target.c */
    if (JS_IsException(jreq)) {
        js_rt_event_end(w->rt);
        fail_with(w, i, JS_UNDEFINED, over_budget(w, r));
        js_rt_pump(w->rt);
        return;
    }
    JSValue args[3] = {JS_NewInt32(ctx, id), jreq, js_event_wrap(ctx, r->ev)};
    JSValue res = JS_IsException(args[2]) ? JS_EXCEPTION
                                          : JS_Call(ctx, w->dispatch, JS_UNDEFINED, 3, args);
    js_rt_event_end(w->rt);
    JS_FreeValue(ctx, jreq);
    JS_FreeValue(ctx, args[2]);
    if (JS_IsException(res)) {
        uint32_t j;
        if (slot_find(w, id, &j))
            fail_with(w, j, JS_UNDEFINED, over_budget(w, &w->slots[j]));
        else
            js_log_exception(ctx, "Uncaught exception after the response");
    }
    JS_FreeValue(ctx, res);
    js_rt_pump(w->rt);
    uint32_t j;
    if (slot_find(w, id, &j) && !w->slots[j].timer)
        arm_wall_limit(w, j);
}

/* ---- loading the script ---- */

static int set_env(worker *w, JSValueConst env, bool as_globals, err *e)
{
    JSContext *ctx = w->ctx;
    const config *cfg = w->opts.cfg;
    JSValue global = JS_GetGlobalObject(ctx);
    for (size_t k = 0; k < cfg->vars_count; k++) {
        const config_var *v = &cfg->vars[k];
        JSValue val = v->is_json ? JS_ParseJSON(ctx, v->value, strlen(v->value), v->name)
                                 : JS_NewString(ctx, v->value);
        if (JS_IsException(val)) {
            JS_FreeValue(ctx, global);
            char *t = js_exception_text(ctx, JS_UNDEFINED);
            err_setf(e, DUR_EPARSE, "var '%s': %s", v->name, t ? t : "?");
            free(t);
            return -1;
        }
        if (as_globals)
            JS_SetPropertyStr(ctx, global, v->name, JS_DupValue(ctx, val));
        JS_SetPropertyStr(ctx, env, v->name, val);
    }
    JS_FreeValue(ctx, global);
    return 0;
}

static char *load_file(const char *path, size_t *len, err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_setf(e, -errno, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf b;
    buf_init(&b, 64u * 1024u * 1024u);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && rc == 0)
        rc = buf_append(&b, chunk, n);
    fclose(f);
    if (rc == 0)
        rc = buf_append(&b, "", 0);
    if (rc < 0) {
        buf_fini(&b);
        err_setf(e, rc, "%s: %s", path, rc == DUR_ETOOBIG ? "larger than 64 MiB" : "out of memory");
        return NULL;
    }
    return buf_take(&b, len);
}

static int load_error(worker *w, const char *path, err *e)
{
    char *t = js_exception_text(w->ctx, JS_UNDEFINED);
    err_setf(e, DUR_EPARSE, "%s failed to load:\n%s", path, t ? t : "(out of memory)");
    free(t);
    return -1;
}

/* Top-level await (patches/quickjs/0012): evaluating the main module returned
 * `p` (consumed), the promise of a module graph that awaits. The promise jobs run
 * here, inside the load's CPU budget, until `p` settles. I/O does not run at
 * load (as on Cloudflare, where fetch, timers and storage need a request), so
 * when no job is left and `p` is still pending nothing can settle it: that fails
 * the load, naming the module that waits. Returns undefined, or JS_EXCEPTION
 * with the exception to report. */
static JSValue settle_top_level(worker *w, JSValue p)
{
    JSContext *ctx = w->ctx;
    JSRuntime *qrt = JS_GetRuntime(ctx);
    JSValue v;
    int st;
    while ((st = JS_GetPromiseState(ctx, p, &v)) == 0) {
        JSContext *jctx;
        int n = JS_ExecutePendingJob(qrt, &jctx);
        if (n == 0)
            break;
        if (n < 0) {   /* only a job that is not a promise reaction throws */
            if (js_rt_take_cpu_exceeded(w->rt)) {
                JS_FreeValue(ctx, p);
                return JS_ThrowInternalError(ctx, "the top level ran past the CPU limit of "
                                                  "%u ms", js_rt_cpu_ms(w->rt));
            }
            js_log_exception(jctx, "Uncaught exception in a promise job");
        }
    }
    JS_FreeValue(ctx, p);
    if (st == 1) {
        JS_FreeValue(ctx, v);
        return JS_UNDEFINED;
    }
    if (st == 2)
        return JS_Throw(ctx, v);
    JSAtom a = JS_GetModuleAwaitingAtTopLevel(ctx);
    const char *name = a != JS_ATOM_NULL ? JS_AtomToCString(ctx, a) : NULL;
    /* path first: QuickJS cuts a message at 256 bytes */
    JS_ThrowTypeError(ctx, "top-level await did not settle: %s waits for a promise that "
                           "nothing will resolve (no work is left; fetch, timers and storage "
                           "are not available at startup)", name ? name : "a module");
    JS_FreeCString(ctx, name);
    JS_FreeAtom(ctx, a);
    return JS_EXCEPTION;
}

static bool has_flag(const config *c, const char *flag)
{
    for (size_t i = 0; i < c->compatibility_flags_count; i++)
        if (strcmp(c->compatibility_flags[i], flag) == 0)
            return true;
    return false;
}

static int load_main(worker *w, err *e)
{
    JSContext *ctx = w->ctx;
    const char *path = w->opts.cfg->main;
    size_t len;
    char *src = load_file(path, &len, e);
    if (!src)
        return -1;
    /* CFG-6, exactly: a file is a module when it has an import or export
     * statement anywhere, which is when it does not compile as a script (those
     * statements are syntax errors there). A minified bundle ends with
     * `export{a as default}` on its one line; a service-worker script compiles here
     * once and runs from this bytecode. A script with a real syntax error takes
     * the module path and reports the error from there. */
    JSValue script = JS_UNDEFINED;
    bool is_module = JS_DetectModule(src, len);
    if (!is_module) {
        script = JS_Eval(ctx, src, len, path, JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
        if (JS_IsException(script)) {
            JS_FreeValue(ctx, JS_GetException(ctx));
            script = JS_UNDEFINED;
            is_module = true;
        }
    }
    JSValue native = js_native(ctx);
    JSValue env = JS_NewObject(ctx);
    if (set_env(w, env, !is_module, e) < 0) {
        JS_FreeValue(ctx, env);
        JS_FreeValue(ctx, script);
        free(src);
        return -1;
    }
    if (w->opts.objects &&
        obj_env_bind_script(w->opts.objects, w->opts.script_index, ctx, env, e) < 0) {
        JS_FreeValue(ctx, env);
        JS_FreeValue(ctx, script);
        free(src);
        return -1;
    }
    if (!is_module && w->opts.objects &&
        obj_registry_script_ns_count(w->opts.objects, w->opts.script_index) > 0) {
        err_setf(e, DUR_EINVAL, "%s is a service-worker script (no `export`), which cannot "
                 "define Durable Object classes; make it an ES module with `export default "
                 "{ fetch }` and `export class %s`", path,
                 obj_registry_script_ns_class(w->opts.objects, w->opts.script_index, 0));
        JS_FreeValue(ctx, env);
        JS_FreeValue(ctx, script);
        free(src);
        return -1;
    }
    if (!is_module && w->opts.cfg->do_bindings_count) {
        /* Service-worker scripts see their bindings as globals (WRK-20). */
        JSValue global = JS_GetGlobalObject(ctx);
        for (size_t k = 0; k < w->opts.cfg->do_bindings_count; k++) {
            const char *bn = w->opts.cfg->do_bindings[k].name;
            JS_SetPropertyStr(ctx, global, bn, JS_GetPropertyStr(ctx, env, bn));
        }
        JS_FreeValue(ctx, global);
    }
    JS_SetPropertyStr(ctx, native, "env", JS_DupValue(ctx, env));
    if (has_flag(w->opts.cfg, "nodejs_compat")) {
        /* node:* imports resolve, and process/Buffer appear (web/js/60_node.js) */
        JSValue on = JS_GetPropertyStr(ctx, native, "enableNodejsCompat");
        /* (env, compatibility date, flags): modules Cloudflare gates by date */
        const config *cfg = w->opts.cfg;
        JSValue args[3] = { env, JS_NewString(ctx, cfg->compatibility_date ? cfg->compatibility_date : ""),
                            JS_NewArray(ctx) };
        for (size_t k = 0; k < cfg->compatibility_flags_count; k++)
            JS_SetPropertyUint32(ctx, args[2], (uint32_t)k, JS_NewString(ctx, cfg->compatibility_flags[k]));
        JSValue r = JS_Call(ctx, on, JS_UNDEFINED, 3, (JSValueConst *)args);
        JS_FreeValue(ctx, args[1]);
        JS_FreeValue(ctx, args[2]);
        JS_FreeValue(ctx, on);
        if (JS_IsException(r)) {
            JS_FreeValue(ctx, env);
            JS_FreeValue(ctx, script);
            free(src);
            return load_error(w, path, e);
        }
        JS_FreeValue(ctx, r);
    }
    JSValue cfw = JS_GetPropertyStr(ctx, native, "cloudflareWorkers");
    JS_SetPropertyStr(ctx, cfw, "env", env);
    JS_FreeValue(ctx, cfw);

    js_rt_event_begin(w->rt);
    /* eval and new Function work while the top level runs (workerd's
     * allow_eval_during_startup), never at request time. */
    js_ctx_allow_codegen(ctx, true);
    int rc = 0;
    if (!is_module) {
        free(src);
        JSValue r = JS_EvalFunction(ctx, script); /* consumes script */
        if (JS_IsException(r))
            rc = load_error(w, path, e);
        JS_FreeValue(ctx, r);
        JS_SetPropertyStr(ctx, native, "mode", JS_NewInt32(ctx, 2));
        goto out;
    }
    free(src);
    /* Import the main module through a tiny entry module that hands over its
     * namespace: QuickJS 2021-03-27 has no C API for a module's namespace. */
    buf entry;
    buf_init(&entry, 64 * 1024);
    JSValue quoted = JS_NewString(ctx, path);
    JSValue json = JS_JSONStringify(ctx, quoted, JS_UNDEFINED, JS_UNDEFINED);
    const char *q = JS_ToCString(ctx, json);
    buf_printf(&entry, "import * as ns from %s; globalThis.__durable_ns = ns;", q ? q : "\"\"");
    JS_FreeCString(ctx, q);
    JS_FreeValue(ctx, json);
    JS_FreeValue(ctx, quoted);
    char entry_name[4096];
    snprintf(entry_name, sizeof entry_name, "%s.__durable_entry__.js", path);
    JSValue r = JS_Eval(ctx, entry.ptr ? entry.ptr : "", entry.len, entry_name, JS_EVAL_TYPE_MODULE);
    buf_fini(&entry);
    if (!JS_IsException(r) && JS_IsObject(r))
        r = settle_top_level(w, r); /* a module awaits at its top level */
    if (JS_IsException(r)) {
        rc = load_error(w, path, e);
        JS_FreeValue(ctx, r);
        goto out;
    }
    JS_FreeValue(ctx, r);
    JSValue global = JS_GetGlobalObject(ctx);
    JSValue ns = JS_GetPropertyStr(ctx, global, "__durable_ns");
    JSAtom a = JS_NewAtom(ctx, "__durable_ns");
    JS_DeleteProperty(ctx, global, a, 0);
    JS_FreeAtom(ctx, a);
    JS_FreeValue(ctx, global);
    if (w->opts.objects &&
        obj_check_exports_script(w->opts.objects, w->opts.script_index, ctx, ns, e) < 0) {
        JS_FreeValue(ctx, ns);
        rc = -1;
        goto out;
    }
    JS_SetPropertyStr(ctx, native, "mainModule", JS_DupValue(ctx, ns));
    JS_SetPropertyStr(ctx, native, "handler", JS_GetPropertyStr(ctx, ns, "default"));
    JS_SetPropertyStr(ctx, native, "mode", JS_NewInt32(ctx, 1));
    JS_FreeValue(ctx, ns);
out:
    js_rt_event_end(w->rt);
    if (rc == 0)
        js_rt_pump(w->rt);
    js_ctx_allow_codegen(ctx, false);
    return rc;
}

/* Creates w->ctx, loads the main module into it and starts the objects layer on it.
 * On failure w->ctx may be set (the caller frees it). */
static int context_open(worker *w, err *e)
{
    w->ctx = js_rt_context_new(w->rt, e);
    if (!w->ctx)
        return -1;
    js_ctx_set_slot(w->ctx, JS_SLOT_WORKER, w);
    web_console_set_sink(w->ctx, console_sink, w);
    if (w->opts.cache.dir && web_cache_configure(w->ctx, &w->opts.cache, w->opts.cfg->name) < 0)
        return err_setf(e, DUR_ENOMEM, "out of memory"), -1;
    if (w->opts.obj_shard)
        obj_shard_attach(w->opts.obj_shard, w->ctx);
    JSValue native = js_native(w->ctx);
    w->dispatch = JS_GetPropertyStr(w->ctx, native, "dispatchFetch");
    w->await_body = JS_GetPropertyStr(w->ctx, native, "streamBody");
    if (load_main(w, e) < 0)
        return -1;
    if (w->opts.obj_shard && !w->opts.hold_objects)
        obj_shard_start(w->opts.obj_shard);
    return 0;
}

void worker_objects_release(worker *w)
{
    if (!w->opts.hold_objects)
        return;
    w->opts.hold_objects = false;
    if (w->opts.obj_shard && w->ctx)
        obj_shard_start(w->opts.obj_shard);
}

static void context_close(worker *w)
{
    if (!w->ctx)
        return;
    JS_FreeValue(w->ctx, w->dispatch);
    JS_FreeValue(w->ctx, w->await_body);
    w->dispatch = w->await_body = JS_UNDEFINED;
    js_context_free(w->ctx);
    w->ctx = NULL;
}

/* ---- out of memory: a new context ---- */

/* The objects layer resets every instance of the context (its callers get the
 * reset error, LIFE-7 / LIM-14). */
static void objects_reset_all(worker *w, const char *message)
{
    JSContext *ctx = w->ctx;
    JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), "objResetAll");
    if (JS_IsFunction(ctx, fn)) {
        js_rt_enter(w->rt, NULL);
        js_rt_event_begin(w->rt);
        JSValue arg = JS_NewString(ctx, message);
        JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 1, &arg);
        js_rt_event_end(w->rt);
        if (JS_IsException(r))
            js_log_exception(ctx, "resetting the Durable Objects of the context");
        JS_FreeValue(ctx, r);
        JS_FreeValue(ctx, arg);
        js_rt_drain(w->rt);
    }
    JS_FreeValue(ctx, fn);
}

/* The heap reached its limit: whatever filled it may be held by module state, so
 * the context is re-created from the script (WRK-31, LIM-14). The new context is
 * loaded before the old one is freed, with the limit lifted meanwhile, so a
 * script that no longer loads leaves the old context serving (and says so). */
static void worker_reset(worker *w)
{
    js_rt *rt = w->rt;
    if (!js_rt_oom(rt) || !w->ctx)
        return;
    log_warn("shard %d: the Worker's JavaScript heap reached its limit of %zu MiB; resetting "
             "its context (module state is lost; Durable Objects in memory on this shard are "
             "reset)",
             w->opts.shard_index, js_rt_memory_bytes_max(rt) / (1024u * 1024u));
    js_rt_lift_memory_limit(rt, true);
    for (uint32_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].conn) {
            wreq *r = &w->slots[i];
            log_error("%s %.*s: failed: the Worker's context was reset after running out of "
                      "memory", r->req->method, (int)r->req->target_len, r->req->target);
            respond_error(w, i, 500, "Internal Server Error");
        }
    objects_reset_all(w, "Durable Object was reset: the JavaScript heap of its shard ran out of "
                         "memory.");
    JSContext *old = w->ctx;
    JSValue old_dispatch = w->dispatch, old_await = w->await_body;
    w->ctx = NULL;
    w->dispatch = w->await_body = JS_UNDEFINED;
    err e = {0};
    if (context_open(w, &e) < 0) {
        log_error("shard %d: the Worker could not be loaded again (%s); the old context keeps "
                  "serving", w->opts.shard_index, e.msg);
        context_close(w);
        w->ctx = old;
        w->dispatch = old_dispatch;
        w->await_body = old_await;
        if (w->opts.obj_shard)
            obj_shard_attach(w->opts.obj_shard, old);
    } else {
        JS_FreeValue(old, old_dispatch);
        JS_FreeValue(old, old_await);
        js_context_free(old);
        log_info("shard %d: the Worker's context was re-created", w->opts.shard_index);
    }
    JS_RunGC(js_rt_quickjs(rt));
    js_rt_clear_oom(rt);
    js_rt_lift_memory_limit(rt, false);
}

static void on_reset_timer(uv_timer_t *t)
{
    worker_reset(t->data);
}

/* js_rt's out-of-memory hook, at the end of a pump: the reset runs from the loop,
 * where no caller up the stack still holds the old context. */
static void on_oom(js_rt *rt, void *ud)
{
    (void)rt;
    worker *w = ud;
    if (!w->reset_timer) {
        uv_timer_t *t = malloc(sizeof *t);
        if (!t || uv_timer_init(js_loop(w->ctx), t) != 0) {
            free(t);
            return;   /* tried again at the end of the next pump */
        }
        t->data = w;
        w->reset_timer = t;
    }
    uv_timer_start(w->reset_timer, on_reset_timer, 0, 0);
}

worker *worker_new(js_rt *rt, const worker_opts *opts, err *e)
{
    worker *w = calloc(1, sizeof *w);
    if (!w) {
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    w->rt = rt;
    w->opts = *opts;
    /* The wall limit catches promises that never settle. It is wider than the CPU
     * budget: a request's CPU is counted across its turns (and a loaded machine gives
     * a turn less CPU than wall time), so with the two equal the wall limit would
     * usually fire first and turn the 503 of WRK-30 into a 500. */
    if (!w->opts.wall_ms_max)
        w->opts.wall_ms_max = js_rt_cpu_ms(rt) + WORKER_WALL_MS_EXTRA;
    w->free_head = UINT32_MAX;
    w->dispatch = JS_UNDEFINED;
    w->await_body = JS_UNDEFINED;
    if (context_open(w, e) < 0) {
        worker_free(w);
        return NULL;
    }
    js_rt_set_oom_hook(rt, on_oom, w);
    return w;
}

void worker_free(worker *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->slot_count; i++)
        if (w->slots[i].conn)
            respond_error(w, i, 503, "Service Unavailable");
    if (w->reset_timer) {
        uv_timer_stop(w->reset_timer);
        uv_close((uv_handle_t *)w->reset_timer, on_timer_closed);
    }
    js_rt_set_oom_hook(w->rt, NULL, NULL);
    context_close(w);
    free(w->slots);
    free(w);
}
