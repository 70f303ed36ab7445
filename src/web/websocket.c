/* websocket.c: the WebSockets of one context on the wire (spec websockets.md
 * WS-1..15). The classes are JS (js/50_websocket.js); this file binds a server
 * end to a net/ws.c connection once the Worker answered an upgrade with a 101,
 * and an outbound socket (new WebSocket(url), fetch with Upgrade: websocket) to
 * a net/ws_client.c connection: N.wsConnect starts it, N.wsHandshake tells JS how
 * the handshake ended, and from then on it is an entry like a server end.
 *
 * Each connected socket is an entry: the ws_conn, the JS server end (a reference,
 * the target of N.wsDeliver) and an event that owns the timers its handlers make
 * (they live as long as the socket). Every received message runs as an event of
 * its own with its own CPU budget, whose timers go to that owner — except that
 * an outbound socket of a Durable Object only queues it there as an event of the
 * object (js/50_websocket.js, objects/js/50_objects.js N.objWsOwner).
 *
 * JS names an entry by an id (slot index + generation), so a send on a socket
 * whose connection is gone finds a stale id and does nothing (WS-9).
 *
 * Deliveries that happen while JS is on the stack (the connection failed inside a
 * send, frames that came with the handshake) wait in a queue that a zero timer
 * flushes, so user handlers never run inside send() or inside the response path. */
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "js/bytes.h"
#include "js/rt.h"
#include "net/ws.h"
#include "net/ws_client.h"
#include "web/web.h"

#define SLOT_BITS 20u
#define GEN_MAX 1024u

typedef struct ws_entry {
    struct ws_state *st;
    ws_conn *conn;     /* NULL when the slot is free or the connection ended */
    ws_client *client; /* an outbound socket whose handshake is not over */
    js_event *start;   /* the event that opened an outbound socket (referenced) */
    JSValue sock;      /* our end; JS_UNDEFINED when free */
    js_event *owner;   /* owns the timers of the socket's handlers */
    uint32_t gen;
    uint32_t slot;     /* index in ws_state.ents */
    bool live;
} ws_entry;

typedef struct pending {
    struct pending *next;
    uint32_t slot;
    int kind; /* 0 message, 1 close */
    bool text, clean;
    int code;
    char *error;
    size_t len, reason_len;
    char *reason;
    uint8_t data[];
} pending;

typedef struct ws_state {
    JSContext *ctx;
    ws_entry **ents;   /* each entry allocated once: connections hold its address */
    uint32_t count, cap;
    JSValue deliver;   /* N.wsDeliver */
    JSValue take, bind, handshake;
    int in_js;         /* >0 while a native of ours runs */
    pending *head, *tail;
    uv_timer_t *flush; /* freed in its close callback */
} ws_state;

static const ws_conn_cbs cbs;

static ws_state *state_of(JSContext *ctx)
{
    return js_ctx_slot(ctx, JS_SLOT_WEBSOCKET);
}

static int32_t entry_id(const ws_state *st, const ws_entry *e)
{
    return (int32_t)((e->gen << SLOT_BITS) | e->slot);
}

static ws_entry *entry_find(ws_state *st, int32_t id)
{
    if (id < 0)
        return NULL;
    uint32_t i = (uint32_t)id & ((1u << SLOT_BITS) - 1), gen = (uint32_t)id >> SLOT_BITS;
    if (i >= st->count || !st->ents[i]->live || st->ents[i]->gen != gen)
        return NULL;
    return st->ents[i];
}

static ws_entry *entry_new(ws_state *st)
{
    for (uint32_t i = 0; i < st->count; i++)
        if (!st->ents[i]->live)
            return st->ents[i];
    if (st->count == st->cap) {
        if (st->cap >= (1u << SLOT_BITS))
            return NULL;
        uint32_t cap = st->cap ? st->cap * 2 : 16;
        ws_entry **p = realloc(st->ents, cap * sizeof *p);
        if (!p)
            return NULL;
        st->ents = p;
        st->cap = cap;
    }
    ws_entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->slot = st->count;
    st->ents[st->count++] = e;
    return e;
}

static void entry_free(ws_entry *e)
{
    JSContext *ctx = e->st->ctx;
    JS_FreeValue(ctx, e->sock);
    e->sock = JS_UNDEFINED;
    if (e->owner) {
        js_event_release(e->owner); /* its timers go now */
        js_event_finish(e->owner);
        js_event_unref(e->owner);
        e->owner = NULL;
    }
    if (e->start) {
        js_event_unref(e->start);
        e->start = NULL;
    }
    if (e->client) {
        ws_client_cancel(e->client);
        e->client = NULL;
    }
    e->conn = NULL;
    e->live = false;
    e->gen = (e->gen + 1) % GEN_MAX;
}

/* ---- delivering to JS ---- */

static void run_deliver(ws_entry *e, const pending *p)
{
    ws_state *st = e->st;
    JSContext *ctx = st->ctx;
    js_rt *rt = js_rt_of(ctx);
    JSValue args[7];
    args[0] = JS_DupValue(ctx, e->sock);
    args[1] = JS_NewInt32(ctx, p->kind);
    if (p->kind == 0 && p->text)
        args[2] = web_utf8_decode(ctx, p->data, p->len, false);
    else if (p->kind == 0)
        args[2] = JS_NewArrayBufferCopy(ctx, p->data, p->len);
    else
        args[2] = JS_UNDEFINED;
    args[3] = JS_NewInt32(ctx, p->code);
    args[4] = web_utf8_decode(ctx, (const uint8_t *)p->reason, p->reason_len, false);
    args[5] = JS_NewBool(ctx, p->clean);
    args[6] = p->error ? JS_NewString(ctx, p->error) : JS_UNDEFINED;
    js_event *ev = js_event_new(rt, e->owner);
    js_rt_enter(rt, ev);
    js_rt_event_begin(rt);
    JSValue r = JS_Call(ctx, st->deliver, JS_UNDEFINED, 7, args);
    js_rt_event_end(rt);
    if (JS_IsException(r))
        js_log_exception(ctx, "WebSocket event");
    JS_FreeValue(ctx, r);
    for (int i = 0; i < 7; i++)
        JS_FreeValue(ctx, args[i]);
    js_rt_pump(rt);
    if (ev) {
        js_event_finish(ev);
        js_event_unref(ev);
    }
}

static void flush_pending(ws_state *st)
{
    while (st->head) {
        pending *p = st->head;
        st->head = p->next;
        if (!st->head)
            st->tail = NULL;
        ws_entry *e = st->ents[p->slot];
        if (e->live) {
            run_deliver(e, p);
            if (p->kind == 1)
                entry_free(e);
        }
        free(p);
    }
}

static void on_flush(uv_timer_t *t)
{
    flush_pending(t->data);
}

static void deliver(ws_entry *e, int kind, bool text, const void *data, size_t len, int code,
                    const char *reason, size_t reason_len, bool clean, const char *error)
{
    ws_state *st = e->st;
    size_t error_len = error ? strlen(error) + 1 : 0;
    pending *p = malloc(sizeof *p + len + reason_len + 1 + error_len);
    if (!p) {
        log_error("ws: out of memory delivering a %zu-byte message; message dropped", len);
        return;
    }
    *p = (pending){.slot = e->slot, .kind = kind, .text = text, .clean = clean,
                   .code = code, .len = len, .reason_len = reason_len};
    if (len)
        memcpy(p->data, data, len);
    p->reason = (char *)p->data + len;
    if (reason_len)
        memcpy(p->reason, reason, reason_len);
    p->reason[reason_len] = '\0';
    p->error = NULL;
    if (error) {
        p->error = p->reason + reason_len + 1;
        memcpy(p->error, error, error_len);
    }
    if (st->tail)
        st->tail->next = p;
    else
        st->head = p;
    st->tail = p;
    if (st->in_js > 0 || p != st->head)
        uv_timer_start(st->flush, on_flush, 0, 0);
    else
        flush_pending(st);
}

static void on_message(void *ud, bool text, const uint8_t *data, size_t len)
{
    deliver(ud, 0, text, data, len, 0, "", 0, false, NULL);
}

static void on_close(void *ud, int code, const char *reason, size_t reason_len, bool clean,
                     const char *error)
{
    ws_entry *e = ud;
    e->conn = NULL; /* the ws_conn calls us no more */
    deliver(e, 1, false, NULL, 0, code, reason, reason_len, clean, error);
}

static const ws_conn_cbs cbs = {on_message, on_close};

/* ---- natives ---- */

/* N.wsSend(id, data): data a string (text frame) or an ArrayBuffer (binary). */
static JSValue js_ws_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ws_state *st = state_of(ctx);
    int32_t id;
    if (!st || argc < 2 || JS_ToInt32(ctx, &id, argv[0]) < 0)
        return JS_UNDEFINED;
    ws_entry *e = entry_find(st, id);
    if (!e || !e->conn)
        return JS_UNDEFINED; /* gone: ignored (WS-9) */
    st->in_js++;
    int rc;
    if (JS_IsString(argv[1])) {
        size_t len;
        const char *s = JS_ToCStringLen(ctx, &len, argv[1]);
        if (!s) {
            st->in_js--;
            return JS_EXCEPTION;
        }
        rc = ws_conn_send(e->conn, true, s, len);
        JS_FreeCString(ctx, s);
    } else {
        size_t len;
        JSValue hold;
        const uint8_t *p = js_bytes_of(ctx, argv[1], &len, &hold);
        if (!p) {
            st->in_js--;
            return JS_EXCEPTION;
        }
        rc = ws_conn_send(e->conn, false, p, len);
        JS_FreeValue(ctx, hold);
    }
    st->in_js--;
    (void)rc; /* a failure has been, or will be, told by a close event */
    return JS_UNDEFINED;
}

/* N.wsClose(id, code, reason): code 0 sends a Close without a code. */
static JSValue js_ws_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ws_state *st = state_of(ctx);
    int32_t id, code;
    if (!st || argc < 3 || JS_ToInt32(ctx, &id, argv[0]) < 0 || JS_ToInt32(ctx, &code, argv[1]) < 0)
        return JS_UNDEFINED;
    ws_entry *e = entry_find(st, id);
    if (!e || !e->conn)
        return JS_UNDEFINED;
    size_t len;
    const char *s = JS_ToCStringLen(ctx, &len, argv[2]);
    if (!s)
        return JS_EXCEPTION;
    st->in_js++;
    ws_conn_close(e->conn, code, s, len > WS_CLOSE_REASON_BYTES_MAX ? WS_CLOSE_REASON_BYTES_MAX : len);
    st->in_js--;
    JS_FreeCString(ctx, s);
    return JS_UNDEFINED;
}

/* ---- outbound sockets (new WebSocket(url), fetch with Upgrade: websocket) ---- */

static void natives_get(ws_state *st);

/* N.wsHandshake(sock, ok, status, statusText, flatHeaders, body, error), charged
 * to the event that opened the socket while it is open (its `await fetch()`
 * continues there), else to a new event of the socket. */
static void run_handshake(ws_entry *e, bool ok, const ws_client_answer *a, const char *error)
{
    ws_state *st = e->st;
    JSContext *ctx = st->ctx;
    js_rt *rt = js_rt_of(ctx);
    JSValue flat = JS_NewArray(ctx);
    for (size_t i = 0; a && i < a->nhdrs * 2; i++)
        JS_SetPropertyUint32(
            ctx, flat, (uint32_t)i,
            web_utf8_decode(ctx, (const uint8_t *)a->hdrs[i], strlen(a->hdrs[i]), false));
    JSValue args[7] = {
        JS_DupValue(ctx, e->sock), JS_NewBool(ctx, ok), JS_NewInt32(ctx, a ? a->status : 0),
        JS_NewString(ctx, a ? a->reason : ""), flat,
        a && a->body ? JS_NewArrayBufferCopy(ctx, (const uint8_t *)a->body, a->body_len) : JS_NULL,
        error ? JS_NewString(ctx, error) : JS_UNDEFINED};
    js_event *fresh = NULL, *ev = e->start;
    if (!ev || js_event_closed(ev))
        ev = fresh = js_event_new(rt, e->owner);
    natives_get(st);
    js_rt_enter(rt, ev);
    js_rt_event_begin(rt);
    st->in_js++;
    JSValue r = JS_Call(ctx, st->handshake, JS_UNDEFINED, 7, args);
    st->in_js--;
    js_rt_event_end(rt);
    if (JS_IsException(r))
        js_log_exception(ctx, "WebSocket handshake");
    JS_FreeValue(ctx, r);
    for (int i = 0; i < 7; i++)
        JS_FreeValue(ctx, args[i]);
    js_rt_pump(rt);
    if (fresh) {
        js_event_finish(fresh);
        js_event_unref(fresh);
    }
}

static void on_handshake(void *ud, ws_conn *w, const ws_client_answer *a, const char *error)
{
    ws_entry *e = ud;
    e->client = NULL; /* not ours any more */
    e->conn = w;
    run_handshake(e, w != NULL, a, error);
    if (e->start) { /* only the handshake's continuation runs there */
        js_event_unref(e->start);
        e->start = NULL;
    }
    if (!w && e->live)
        entry_free(e); /* no connection: nothing more comes */
}

/* N.wsConnect(sock, host, port, target, hostHeader, flatHeaders, tls) → the
 * socket's id; N.wsHandshake(sock, …) follows from the loop. Throws a TypeError for what
 * cannot even be tried. */
static JSValue js_ws_connect(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ws_state *st = state_of(ctx);
    uint32_t port = 0, n = 0;
    if (!st || argc < 6 || JS_ToUint32(ctx, &port, argv[2]) < 0)
        return JS_ThrowInternalError(ctx, "wsConnect: bad call");
    JSValue lenv = JS_GetPropertyStr(ctx, argv[5], "length");
    JS_ToUint32(ctx, &n, lenv);
    JS_FreeValue(ctx, lenv);
    const char *host = JS_ToCString(ctx, argv[1]);
    const char *target = JS_ToCString(ctx, argv[3]);
    const char *hh = JS_ToCString(ctx, argv[4]);
    const char **hdrs = calloc(n ? n : 1, sizeof *hdrs);
    JSValue ret = JS_EXCEPTION;
    uint32_t got = 0;
    if (!host || !target || !hh || !hdrs)
        goto out;
    for (; got < n; got++) {
        JSValue v = JS_GetPropertyUint32(ctx, argv[5], got);
        hdrs[got] = JS_ToCString(ctx, v);
        JS_FreeValue(ctx, v);
        if (!hdrs[got])
            goto out;
    }
    ws_entry *e = entry_new(st);
    js_event *owner = e ? js_event_new(js_rt_of(ctx), NULL) : NULL;
    if (!owner) {
        JS_ThrowOutOfMemory(ctx);
        goto out;
    }
    js_event_hold(owner);
    *e = (ws_entry){.st = st, .sock = JS_DupValue(ctx, argv[0]), .owner = owner, .gen = e->gen,
                    .slot = e->slot, .live = true};
    ws_client_opts o = {.host = host, .port = (uint16_t)port, .target = target, .host_header = hh,
                        .hdrs = hdrs, .nhdrs = n / 2};
    o.tls = argc > 6 && JS_ToBool(ctx, argv[6]) > 0;
    err er = {0};
    if (ws_client_open(js_loop(ctx), &o, on_handshake, &cbs, e, &e->client, &er) < 0) {
        entry_free(e);
        JS_ThrowTypeError(ctx, "WebSocket: %s", er.msg);
        goto out;
    }
    e->start = js_rt_current(js_rt_of(ctx));
    if (e->start)
        js_event_ref(e->start);
    ret = JS_NewInt32(ctx, entry_id(st, e));
out:
    for (uint32_t i = 0; i < got; i++)
        JS_FreeCString(ctx, hdrs[i]);
    free(hdrs);
    JS_FreeCString(ctx, host);
    JS_FreeCString(ctx, target);
    JS_FreeCString(ctx, hh);
    return ret;
}

/* N.wsCancel(id): an outbound socket closed before its handshake was over. */
static JSValue js_ws_cancel(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ws_state *st = state_of(ctx);
    int32_t id;
    if (!st || argc < 1 || JS_ToInt32(ctx, &id, argv[0]) < 0)
        return JS_UNDEFINED;
    ws_entry *e = entry_find(st, id);
    if (e && e->client)
        entry_free(e);
    return JS_UNDEFINED;
}

/* N.wsBuffered(id): bytes sent on the socket that the peer has not taken yet. */
static JSValue js_ws_buffered(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    ws_state *st = state_of(ctx);
    int32_t id;
    if (!st || argc < 1 || JS_ToInt32(ctx, &id, argv[0]) < 0)
        return JS_NewInt32(ctx, 0);
    ws_entry *e = entry_find(st, id);
    return JS_NewFloat64(ctx, e && e->conn ? (double)ws_conn_queued_bytes(e->conn) : 0);
}

/* ---- the upgrade ---- */

/* The JS side's functions (js/50_websocket.js runs after the install). */
static void natives_get(ws_state *st)
{
    if (!JS_IsUndefined(st->deliver))
        return;
    JSContext *ctx = st->ctx;
    JSValue nat = js_native(ctx);
    st->deliver = JS_GetPropertyStr(ctx, nat, "wsDeliver");
    st->take = JS_GetPropertyStr(ctx, nat, "wsTake");
    st->bind = JS_GetPropertyStr(ctx, nat, "wsBind");
    st->handshake = JS_GetPropertyStr(ctx, nat, "wsHandshake");
}

int web_ws_upgrade(JSContext *ctx, h1_conn *conn, const char *accept, JSValueConst response,
                   const h1_header *hdrs, size_t n)
{
    ws_state *st = state_of(ctx);
    natives_get(st);
    JSValue server = JS_Call(ctx, st->take, JS_UNDEFINED, 1, &response);
    if (JS_IsException(server))
        return -1;
    ws_entry *e = entry_new(st);
    js_event *owner = e ? js_event_new(js_rt_of(ctx), NULL) : NULL;
    if (!owner) {
        JS_FreeValue(ctx, server);
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    js_event_hold(owner);
    *e = (ws_entry){.st = st, .sock = server, .owner = owner, .gen = e->gen, .slot = e->slot,
                    .live = true};
    st->in_js++;
    int rc = ws_conn_open(conn, accept, hdrs, n, &cbs, e, &e->conn);
    if (rc < 0) {
        e->conn = NULL;
        deliver(e, 1, false, NULL, 0, 1006, "", 0, false,
                "the client went away before the WebSocket handshake completed");
    }
    /* Bound now (after the 101 went out), so what the server end sent before it
     * was returned follows the 101 in order. */
    JSValue args[2] = {server, JS_NewInt32(ctx, entry_id(st, e))};
    JSValue r = JS_Call(ctx, st->bind, JS_UNDEFINED, 2, args);
    if (JS_IsException(r))
        js_log_exception(ctx, "WebSocket bind");
    JS_FreeValue(ctx, r);
    st->in_js--;
    return rc < 0 ? DUR_ECLOSED : 0;
}

/* ---- install and cleanup ---- */

static void on_flush_closed(uv_handle_t *h)
{
    free(h);
}

static void state_free(JSContext *ctx, void *ud)
{
    ws_state *st = ud;
    for (uint32_t i = 0; i < st->count; i++) {
        ws_entry *e = st->ents[i];
        if (!e->live)
            continue;
        if (e->conn)
            ws_conn_detach(e->conn);
        entry_free(e);
    }
    while (st->head) {
        pending *p = st->head;
        st->head = p->next;
        free(p);
    }
    uv_close((uv_handle_t *)st->flush, on_flush_closed);
    JS_FreeValue(ctx, st->deliver);
    JS_FreeValue(ctx, st->take);
    JS_FreeValue(ctx, st->bind);
    JS_FreeValue(ctx, st->handshake);
    for (uint32_t i = 0; i < st->count; i++)
        free(st->ents[i]);
    free(st->ents);
    free(st);
    js_ctx_set_slot(ctx, JS_SLOT_WEBSOCKET, NULL);
}

int web_websocket_install(JSContext *ctx, JSValueConst native)
{
    ws_state *st = calloc(1, sizeof *st);
    uv_timer_t *t = malloc(sizeof *t);
    if (!st || !t || uv_timer_init(js_loop(ctx), t) < 0) {
        free(st);
        free(t);
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    t->data = st;
    st->ctx = ctx;
    st->flush = t;
    st->deliver = st->take = st->bind = st->handshake = JS_UNDEFINED;
    js_ctx_set_slot(ctx, JS_SLOT_WEBSOCKET, st);
    if (js_ctx_on_free(ctx, state_free, st) < 0) {
        state_free(ctx, st);
        return -1;
    }
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("wsSend", 2, js_ws_send),
        JS_CFUNC_DEF("wsClose", 3, js_ws_close),
        JS_CFUNC_DEF("wsConnect", 7, js_ws_connect),
        JS_CFUNC_DEF("wsCancel", 1, js_ws_cancel),
        JS_CFUNC_DEF("wsBuffered", 1, js_ws_buffered),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}

