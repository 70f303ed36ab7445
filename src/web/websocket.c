/* websocket.c: the WebSockets of one context on the wire (spec websockets.md
 * WS-1..14). The classes are JS (js/50_websocket.js); this file binds a server
 * end to a net/ws.c connection once the Worker answered an upgrade with a 101.
 *
 * Each connected socket is an entry: the ws_conn, the JS server end (a reference,
 * the target of N.wsDeliver) and an event that owns the timers its handlers make
 * (they live as long as the socket). Every received message runs as an event of
 * its own with its own CPU budget, whose timers go to that owner.
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
#include "web/web.h"

#define SLOT_BITS 20u
#define GEN_MAX 1024u

typedef struct ws_entry {
    struct ws_state *st;
    ws_conn *conn;     /* NULL when the slot is free or the connection ended */
    JSValue sock;      /* the server end; JS_UNDEFINED when free */
    js_event *owner;   /* owns the timers of the socket's handlers */
    uint32_t slot;     /* its index in ws_state.ents */
    uint32_t gen;
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
    ws_entry **ents;   /* each entry on its own: the ws_conn keeps its address */
    uint32_t count, cap;
    JSValue deliver;   /* N.wsDeliver */
    JSValue take, bind;
    int in_js;         /* >0 while a native of ours runs */
    pending *head, *tail;
    uv_timer_t *flush; /* freed in its close callback */
} ws_state;

static const ws_conn_cbs cbs;

static ws_state *state_of(JSContext *ctx)
{
    return js_ctx_slot(ctx, JS_SLOT_WEBSOCKET);
}

static int32_t entry_id(const ws_entry *e)
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

/* ---- the upgrade ---- */

int web_ws_upgrade(JSContext *ctx, h1_conn *conn, const char *accept, JSValueConst response,
                   const h1_header *hdrs, size_t n)
{
    ws_state *st = state_of(ctx);
    if (JS_IsUndefined(st->deliver)) { /* js/50_websocket.js ran after the install */
        JSValue nat = js_native(ctx);
        st->deliver = JS_GetPropertyStr(ctx, nat, "wsDeliver");
        st->take = JS_GetPropertyStr(ctx, nat, "wsTake");
        st->bind = JS_GetPropertyStr(ctx, nat, "wsBind");
    }
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
    *e = (ws_entry){.st = st, .sock = server, .owner = owner, .slot = e->slot, .gen = e->gen,
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
    JSValue args[2] = {server, JS_NewInt32(ctx, entry_id(e))};
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
        if (e->live) {
            if (e->conn)
                ws_conn_detach(e->conn);
            entry_free(e);
        }
        free(e);
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
    st->deliver = st->take = st->bind = JS_UNDEFINED;
    js_ctx_set_slot(ctx, JS_SLOT_WEBSOCKET, st);
    if (js_ctx_on_free(ctx, state_free, st) < 0) {
        state_free(ctx, st);
        return -1;
    }
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("wsSend", 2, js_ws_send),
        JS_CFUNC_DEF("wsClose", 3, js_ws_close),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}

