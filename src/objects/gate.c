/* gate.c: the output gate and commit state machine (see gate.h), and the natives
 * through which the JS half of the objects layer drives it (N.gate*).
 *
 * Tuned for do-kv-put: one object writing on every event, committed once per turn
 * of the loop. A write is an increment and, the first time after a commit, a list
 * append; an output with nothing held is posted at once, as before the gate
 * existed. Held outputs cost one small allocation each (the message itself was
 * serialized when the output was made, so later changes to the value cannot leak
 * into it). */
#include "objects/gate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "js/clone.h"
#include "js/rt.h"
#include "objects/internal.h"

/* On in every build: see "Invariants" in gate.h for why a violation aborts. */
#define OBJ_GATE_CHECK(cond, g)                                                               \
    do {                                                                                      \
        if (!(cond))                                                                          \
            gate_violation(#cond, (g), __FILE__, __LINE__);                                   \
    } while (0)

typedef struct held_out {
    struct held_out *next;
    obj_msg *m;                /* NULL: a ticket (obj_gate_hold_call) */
    uint64_t ticket;
    int to;
    uint64_t seq;              /* the write this output waits for */
} held_out;

struct obj_gates {
    obj_gate_post_fn post;
    void *ud;
    obj_gate_ticket_fn ticket;
    void *ticket_ud;
    uint64_t next_ticket;
    obj_gate *dirty_head, *dirty_tail;   /* in the order they became dirty */
    size_t dirty_count;
    size_t refs;               /* the shard's, plus one per live gate */
};

struct obj_gate {
    obj_gates *gs;
    void *owner;
    obj_gate_state state;
    bool on_list;
    obj_gate *prev, *next;     /* the dirty list */
    int txn_depth;
    uint64_t write_seq;        /* writes made */
    uint64_t hold_seq;         /* the last confirmed write */
    uint64_t commit_seq;       /* what the commit in flight covers */
    uint64_t committed_seq;    /* what the last successful commit covered */
    held_out *held_head, *held_tail;
    size_t held_count;
    uint8_t *err_payload;      /* broken: the reset error's bytes */
    size_t err_len;
    js_event *ev;              /* natives: the instance's owner event, tagged with g */
};

static const char *state_name(obj_gate_state s)
{
    switch (s) {
    case OBJ_GATE_CLEAN: return "clean";
    case OBJ_GATE_DIRTY: return "dirty";
    case OBJ_GATE_COMMITTING: return "committing";
    case OBJ_GATE_BROKEN: return "broken";
    }
    return "?";
}

static void gate_violation(const char *what, const obj_gate *g, const char *file, int line)
{
    log_error("internal error: output gate invariant violated at %s:%d: %s (state %s, writes "
              "%llu, confirmed %llu, committing %llu, committed %llu, held %zu, transaction "
              "depth %d); stopping the process so that nothing uncommitted is acknowledged",
              file, line, what, state_name(g->state), (unsigned long long)g->write_seq,
              (unsigned long long)g->hold_seq, (unsigned long long)g->commit_seq,
              (unsigned long long)g->committed_seq, g->held_count, g->txn_depth);
    abort();
}

/* The invariants of gate.h, after every state change. */
static void check(const obj_gate *g)
{
    uint64_t covered = g->state == OBJ_GATE_COMMITTING ? g->commit_seq : g->committed_seq;
    OBJ_GATE_CHECK(g->committed_seq <= g->commit_seq, g);
    OBJ_GATE_CHECK(g->commit_seq <= g->write_seq, g);
    OBJ_GATE_CHECK(g->hold_seq <= g->write_seq, g);
    OBJ_GATE_CHECK(g->txn_depth >= 0, g);
    OBJ_GATE_CHECK((g->held_count == 0) == (g->held_head == NULL), g);
    if (g->state == OBJ_GATE_BROKEN) {
        OBJ_GATE_CHECK(!g->on_list, g);
        OBJ_GATE_CHECK(g->held_count == 0, g);
        return;
    }
    OBJ_GATE_CHECK(g->on_list == (g->write_seq > covered), g);
    OBJ_GATE_CHECK(g->state != OBJ_GATE_CLEAN || g->write_seq == g->committed_seq, g);
    OBJ_GATE_CHECK(g->state != OBJ_GATE_DIRTY || g->on_list, g);
    OBJ_GATE_CHECK(g->held_count == 0 || g->hold_seq > g->committed_seq, g);
    OBJ_GATE_CHECK(g->held_count == 0 || g->held_tail->seq <= g->hold_seq, g);
}

/* ---- the shard's gates ---- */

obj_gates *obj_gates_new(obj_gate_post_fn post, void *ud)
{
    obj_gates *gs = calloc(1, sizeof *gs);
    if (!gs)
        return NULL;
    gs->post = post;
    gs->ud = ud;
    gs->refs = 1;
    return gs;
}

static void gates_unref(obj_gates *gs)
{
    if (--gs->refs == 0)
        free(gs);
}

void obj_gates_free(obj_gates *gs)
{
    if (!gs)
        return;
    /* Gates still alive (their JS wrappers not yet collected) may not post any more. */
    gs->post = NULL;
    gates_unref(gs);
}

size_t obj_gates_dirty_count(const obj_gates *gs)
{
    return gs->dirty_count;
}

static void list_add(obj_gate *g)
{
    obj_gates *gs = g->gs;
    g->prev = gs->dirty_tail;
    g->next = NULL;
    if (gs->dirty_tail)
        gs->dirty_tail->next = g;
    else
        gs->dirty_head = g;
    gs->dirty_tail = g;
    gs->dirty_count++;
    g->on_list = true;
}

static void list_remove(obj_gate *g)
{
    obj_gates *gs = g->gs;
    if (!g->on_list)
        return;
    if (g->prev)
        g->prev->next = g->next;
    else
        gs->dirty_head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        gs->dirty_tail = g->prev;
    g->prev = g->next = NULL;
    gs->dirty_count--;
    g->on_list = false;
}

obj_gate *obj_gates_next(obj_gates *gs)
{
    for (obj_gate *g = gs->dirty_head; g; g = g->next)
        if (g->state == OBJ_GATE_DIRTY && g->txn_depth == 0)
            return g;
    return NULL;
}

/* ---- one gate ---- */

obj_gate *obj_gate_new(obj_gates *gs, void *owner)
{
    obj_gate *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->gs = gs;
    g->owner = owner;
    gs->refs++;
    return g;
}

static void held_drop_all(obj_gate *g)
{
    held_out *h = g->held_head;
    while (h) {
        held_out *n = h->next;
        free(h->m);
        free(h);
        h = n;
    }
    g->held_head = g->held_tail = NULL;
    g->held_count = 0;
}

void obj_gate_free(obj_gate *g)
{
    if (!g)
        return;
    list_remove(g);
    held_drop_all(g);
    free(g->err_payload);
    gates_unref(g->gs);
    free(g);
}

void *obj_gate_owner(const obj_gate *g)
{
    return g->owner;
}

obj_gate_state obj_gate_get_state(const obj_gate *g)
{
    return g->state;
}

bool obj_gate_pending(const obj_gate *g)
{
    return g->state == OBJ_GATE_DIRTY || g->state == OBJ_GATE_COMMITTING;
}

size_t obj_gate_held_count(const obj_gate *g)
{
    return g->held_count;
}

int obj_gate_wrote(obj_gate *g, bool unconfirmed)
{
    if (g->state == OBJ_GATE_BROKEN)
        return DUR_ECLOSED;
    g->write_seq++;
    if (!unconfirmed)
        g->hold_seq = g->write_seq;
    if (!g->on_list)
        list_add(g);   /* a write during a commit joins the next one */
    if (g->state == OBJ_GATE_CLEAN)
        g->state = OBJ_GATE_DIRTY;
    check(g);
    return 0;
}

void obj_gate_txn_enter(obj_gate *g)
{
    g->txn_depth++;
    check(g);
}

void obj_gate_txn_exit(obj_gate *g)
{
    OBJ_GATE_CHECK(g->txn_depth > 0, g);
    g->txn_depth--;
    check(g);
}

int obj_gate_txn_depth(const obj_gate *g)
{
    return g->txn_depth;
}

static void ticket(obj_gate *g, uint64_t t, bool go)
{
    if (g->gs->ticket)
        g->gs->ticket(g->gs->ticket_ud, t, go);
}

static void post(obj_gate *g, int to, obj_msg *m)
{
    if (g->gs->post)
        g->gs->post(g->gs->ud, to, m);
    else
        free(m);
}

/* A reply that answers the same call with the break's error instead. */
static obj_msg *error_reply(const obj_gate *g, const obj_msg *m)
{
    obj_msg *e = malloc(sizeof *e + g->err_len);
    if (!e)
        return NULL;
    memset(e, 0, sizeof *e);
    e->kind = MSG_REPLY;
    e->status = 2;   /* reset (ERR-5) */
    e->call_id = m->call_id;
    e->from_shard = m->from_shard;
    e->len = g->err_len;
    if (g->err_len)
        memcpy(e->data, g->err_payload, g->err_len);
    return e;
}

/* An output of a broken gate. `held`: it was made after the lost writes, so even an
 * error reply may tell of them: every reply becomes the reset error. Otherwise (made
 * after the reset) error replies go as they are and results become the error. */
static void output_broken(obj_gate *g, int to, obj_msg *m, bool held)
{
    if (m->kind != MSG_REPLY) {
        free(m);
        return;
    }
    if (!held && m->status != 0) {
        post(g, to, m);
        return;
    }
    obj_msg *e = error_reply(g, m);
    free(m);
    if (e)
        post(g, to, e);
    else
        log_error("out of memory: a reply to a reset Durable Object's caller was lost");
}

bool obj_gate_holding(const obj_gate *g)
{
    /* GATE-6: behind a confirmed uncommitted write, or behind anything held (the
     * order of outputs is kept; while anything is held, hold_seq > committed_seq). */
    return g->state != OBJ_GATE_BROKEN && (g->held_count > 0 || g->hold_seq > g->committed_seq);
}

/* Queues an output (m, or a ticket if m is NULL) behind the writes made so far. */
static bool hold(obj_gate *g, int to, obj_msg *m, uint64_t t)
{
    held_out *h = malloc(sizeof *h);
    if (!h)
        return false;
    h->next = NULL;
    h->m = m;
    h->ticket = t;
    h->to = to;
    h->seq = g->hold_seq;
    if (g->held_tail)
        g->held_tail->next = h;
    else
        g->held_head = h;
    g->held_tail = h;
    g->held_count++;
    check(g);
    return true;
}

void obj_gate_output(obj_gate *g, int to, obj_msg *m)
{
    if (g->state == OBJ_GATE_BROKEN) {
        output_broken(g, to, m, false);
        return;
    }
    if (!obj_gate_holding(g)) {
        post(g, to, m);
        return;
    }
    if (!hold(g, to, m, 0)) {
        /* Cannot hold it, must not post it: the caller gets nothing, as if the
         * reply were lost with the connection. */
        log_error("out of memory: a Durable Object reply held by the output gate was lost");
        free(m);
    }
}

void obj_gates_on_ticket(obj_gates *gs, obj_gate_ticket_fn fn, void *ud)
{
    gs->ticket = fn;
    gs->ticket_ud = ud;
}

uint64_t obj_gate_hold_call(obj_gate *g)
{
    if (g->state == OBJ_GATE_BROKEN)
        return OBJ_GATE_NO_TICKET;
    if (!obj_gate_holding(g))
        return 0;
    uint64_t t = ++g->gs->next_ticket;
    if (!hold(g, -1, NULL, t)) {
        log_error("out of memory: a Durable Object's outbound call could not wait for its "
                  "output gate and was not made");
        return OBJ_GATE_NO_TICKET;
    }
    return t;
}

void obj_gate_commit_begin(obj_gate *g)
{
    OBJ_GATE_CHECK(g->state == OBJ_GATE_DIRTY, g);
    OBJ_GATE_CHECK(g->txn_depth == 0, g);
    list_remove(g);
    g->commit_seq = g->write_seq;
    g->state = OBJ_GATE_COMMITTING;
    check(g);
}

void obj_gate_commit_done(obj_gate *g)
{
    OBJ_GATE_CHECK(g->state == OBJ_GATE_COMMITTING, g);
    g->committed_seq = g->commit_seq;
    g->state = g->on_list ? OBJ_GATE_DIRTY : OBJ_GATE_CLEAN;
    /* In order, up to the first output that waits for a later write. */
    while (g->held_head && g->held_head->seq <= g->committed_seq) {
        held_out *h = g->held_head;
        OBJ_GATE_CHECK(h->seq <= g->committed_seq, g);
        g->held_head = h->next;
        if (!g->held_head)
            g->held_tail = NULL;
        g->held_count--;
        if (h->m)
            post(g, h->to, h->m);
        else
            ticket(g, h->ticket, true);
        free(h);
    }
    check(g);
}

void obj_gate_break(obj_gate *g, const uint8_t *err_payload, size_t err_len)
{
    if (g->state == OBJ_GATE_BROKEN)
        return;
    list_remove(g);
    g->state = OBJ_GATE_BROKEN;
    g->err_payload = err_len ? malloc(err_len) : NULL;
    if (g->err_payload) {
        memcpy(g->err_payload, err_payload, err_len);
        g->err_len = err_len;
    } else if (err_len) {
        log_error("out of memory: the callers of a reset Durable Object get an unreadable error");
    }
    /* GATE-8: every caller waiting on a held reply gets the reset error. */
    held_out *h = g->held_head;
    g->held_head = g->held_tail = NULL;
    g->held_count = 0;
    while (h) {
        held_out *n = h->next;
        if (h->m)
            output_broken(g, h->to, h->m, true);
        else
            ticket(g, h->ticket, false);
        free(h);
        h = n;
    }
    check(g);
}

/* ---- natives: how the JS half drives the gate (N.gate*; docs/objects.md "Inside:
 * the gate") ----
 *
 * Each instance holds a gate object (class ObjectGate, opaque obj_gate*). The gate
 * points back at its wrapper without a reference (g->owner is the wrapper's object
 * pointer): the wrapper's finalizer frees the gate, so while the gate exists the
 * pointer is valid. */
static JSClassID gate_class_id;

void obj__gate_classes_init(void)
{
    if (!gate_class_id)
        JS_NewClassID(&gate_class_id);
}

static void gate_finalizer(JSRuntime *rt, JSValue v)
{
    (void)rt;
    obj_gate *g = JS_GetOpaque(v, gate_class_id);
    if (g && g->ev) {
        if (js_event_tag(g->ev) == g) {
            js_event_set_tag(g->ev, NULL);
            js_event_on_exceeded(g->ev, NULL, NULL);
        }
        js_event_unref(g->ev);
        g->ev = NULL;
    }
    obj_gate_free(g);
}

static obj_gate *gate_get(JSContext *ctx, JSValueConst v)
{
    obj_gate *g = JS_GetOpaque(v, gate_class_id);
    if (!g)
        JS_ThrowInternalError(ctx, "internal error: not an output gate");
    return g;
}

static obj_shard *gate_shard(JSContext *ctx)
{
    obj_shard *s = js_ctx_slot(ctx, JS_SLOT_OBJECTS);
    if (!s || !s->gates)
        JS_ThrowInternalError(ctx, "Durable Objects are not available here");
    return s;
}

static void gate_post(void *ud, int to, obj_msg *m)
{
    obj_shard *s = ud;
    obj__msg_push(s->reg, to, m);
}

int obj__gates_open(obj_shard *s)
{
    s->gates = obj_gates_new(gate_post, s);
    return s->gates ? 0 : DUR_ENOMEM;
}

/* An event of the instance went over its CPU budget (LIM-13; js_event_on_exceeded
 * of its owner event, at the end of a pump): if that event has not finished, the
 * JS half resets the instance and answers its unfinished events (N.objCpuExceeded).
 * Whatever part of the event was aborted — a promise job, a timer callback —
 * nothing else would tell its caller. */
static void gate_cpu_exceeded(js_event *ev, void *ud)
{
    (void)ev;
    obj_gate *g = ud;
    obj_shard *s = g->gs->ud;   /* the gates of js_gate_new are the shard's */
    JSContext *ctx = s->ctx;
    if (!ctx)
        return;
    js_rt *rt = js_rt_of(ctx);
    JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), "objCpuExceeded");
    JSValue gate = JS_DupValue(ctx, JS_MKPTR(JS_TAG_OBJECT, g->owner));
    js_rt_enter(rt, NULL);
    js_rt_event_begin(rt);
    JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 1, (JSValueConst *)&gate);
    js_rt_event_end(rt);
    if (JS_IsException(r))
        js_log_exception(ctx, "internal error in the objects layer");
    JS_FreeValue(ctx, r);
    JS_FreeValue(ctx, gate);
    JS_FreeValue(ctx, fn);
    js_rt_pump(rt);
}

/* gateNew(life) → a new gate for an instance whose events are owned by `life`
 * (an event wrapper, or null): outbound calls made while one of those events runs
 * find the gate through it (gateOutbound). */
static JSValue js_gate_new(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = gate_shard(ctx);
    if (!s)
        return JS_EXCEPTION;
    js_event *ev = NULL;
    if (argc > 0 && !JS_IsNull(argv[0]) && !JS_IsUndefined(argv[0])) {
        ev = js_event_unwrap(ctx, argv[0]);
        if (!ev)
            return JS_EXCEPTION;
    }
    JSValue v = JS_NewObjectClass(ctx, (int)gate_class_id);
    if (JS_IsException(v))
        return v;
    obj_gate *g = obj_gate_new(s->gates, JS_VALUE_GET_PTR(v));
    if (!g) {
        JS_FreeValue(ctx, v);
        return JS_ThrowOutOfMemory(ctx);
    }
    if (ev) {
        js_event_ref(ev);
        js_event_set_tag(ev, g);
        js_event_on_exceeded(ev, gate_cpu_exceeded, g);
        g->ev = ev;
    }
    JS_SetOpaque(v, g);
    return v;
}

/* gateOutbound(any?) → null when an outbound call made now (fetch(), a call to
 * another object) may go at once: it is not made by an object, or its object's
 * gate holds nothing. Else the object's gate (the caller then takes a ticket, or
 * fails the call on a broken gate). One lookup: the fast path costs no hop.
 * With `any` true: the gate of the object whose event runs now, holding or not
 * (an outbound WebSocket opened now belongs to that object), else null. */
static JSValue js_gate_outbound(JSContext *ctx, JSValueConst this_val, int argc,
                                JSValueConst *argv)
{
    js_event *cur = js_rt_current(js_rt_of(ctx));
    obj_gate *g = cur ? js_event_tag(js_event_timer_owner(cur)) : NULL;
    bool any = argc > 0 && JS_ToBool(ctx, argv[0]) > 0;
    if (!g || (!any && g->state != OBJ_GATE_BROKEN && !obj_gate_holding(g)))
        return JS_NULL;
    return JS_DupValue(ctx, JS_MKPTR(JS_TAG_OBJECT, obj_gate_owner(g)));
}

/* gateHoldCall(gate) → 0: go now; -1: never (broken); else a ticket that the
 * array returned by gateCommitted (go) or gateBreak (never) will hold. */
static JSValue js_gate_hold_call(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    obj_gate *g = gate_get(ctx, argv[0]);
    if (!g)
        return JS_EXCEPTION;
    uint64_t t = obj_gate_hold_call(g);
    return t == OBJ_GATE_NO_TICKET ? JS_NewInt32(ctx, -1) : JS_NewFloat64(ctx, (double)t);
}

/* Tickets released or dropped by one commit_done or break, for the JS caller. */
typedef struct ticket_sink {
    JSContext *ctx;
    JSValue arr;               /* JS_UNDEFINED until the first */
    uint32_t n;
} ticket_sink;

static void ticket_collect(void *ud, uint64_t t, bool go)
{
    (void)go;   /* the caller knows: all go after a commit, none after a break */
    ticket_sink *k = ud;
    if (JS_IsUndefined(k->arr)) {
        k->arr = JS_NewArray(k->ctx);
        if (JS_IsException(k->arr)) {
            /* The calls can neither be released nor failed; they never go. */
            JS_FreeValue(k->ctx, JS_GetException(k->ctx));
            k->arr = JS_NULL;
            log_error("out of memory: outbound calls of a Durable Object held by its output "
                      "gate were lost");
        }
    }
    if (JS_IsNull(k->arr))
        return;
    JS_SetPropertyUint32(k->ctx, k->arr, k->n++, JS_NewFloat64(k->ctx, (double)t));
}

/* gateWrote(gate, unconfirmed): a write joined the implicit transaction; asks for
 * the turn that will commit it. */
static JSValue js_gate_wrote(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_gate *g = gate_get(ctx, argv[0]);
    if (!g)
        return JS_EXCEPTION;
    if (obj_gate_wrote(g, JS_ToBool(ctx, argv[1])) < 0)
        return JS_ThrowInternalError(ctx, "internal error: a write after the Durable Object was reset");
    js_rt_want_turn(js_rt_of(ctx));
    return JS_UNDEFINED;
}

/* gateTxnDepth(gate) → depth; gateTxnSet(gate, depth) moves it by one. */
static JSValue js_gate_txn_depth(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    obj_gate *g = gate_get(ctx, argv[0]);
    return g ? JS_NewInt32(ctx, obj_gate_txn_depth(g)) : JS_EXCEPTION;
}

static JSValue js_gate_txn_set(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_gate *g = gate_get(ctx, argv[0]);
    int32_t d;
    if (!g || JS_ToInt32(ctx, &d, argv[1]) < 0)
        return JS_EXCEPTION;
    int cur = obj_gate_txn_depth(g);
    if (d == cur + 1)
        obj_gate_txn_enter(g);
    else if (d == cur - 1)
        obj_gate_txn_exit(g);
    else if (d != cur)
        return JS_ThrowInternalError(ctx, "internal error: transaction depth %d -> %d", cur, d);
    return JS_UNDEFINED;
}

/* gatePending(gate) → true while writes are uncommitted */
static JSValue js_gate_pending(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_gate *g = gate_get(ctx, argv[0]);
    return g ? JS_NewBool(ctx, obj_gate_pending(g)) : JS_EXCEPTION;
}

/* gateReply(gate, toShard, callId, status, payload): the object's answer to a call,
 * serialized now (a DataCloneError is thrown before anything else happens), then
 * posted or held by the gate. */
static JSValue js_gate_reply(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = gate_shard(ctx);
    obj_gate *g = s ? gate_get(ctx, argv[0]) : NULL;
    int32_t to, status;
    double call_id;
    if (!g || JS_ToInt32(ctx, &to, argv[1]) < 0 || JS_ToFloat64(ctx, &call_id, argv[2]) < 0 ||
        JS_ToInt32(ctx, &status, argv[3]) < 0)
        return JS_EXCEPTION;
    if (to >= s->reg->shard_count || (to < 0 && !(s->owners && to <= -2)))
        return JS_ThrowInternalError(ctx, "gateReply: no shard %d", to);
    obj_msg *m = obj__msg_new(ctx, s, argv[4]);
    if (!m)
        return JS_EXCEPTION;
    m->kind = MSG_REPLY;
    m->status = (uint8_t)status;
    m->call_id = call_id;
    m->from_shard = s->index;
    obj_gate_output(g, to, m);
    return JS_UNDEFINED;
}

/* gateWsSend(gate, toShard, payload): a WebSocket send or close by the object
 * (spec WS-16): an output like a reply, held while a confirmed write is
 * uncommitted, dropped if the gate is broken (the socket is closed then). */
static JSValue js_gate_ws_send(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = gate_shard(ctx);
    obj_gate *g = s ? gate_get(ctx, argv[0]) : NULL;
    int32_t to;
    if (!g || JS_ToInt32(ctx, &to, argv[1]) < 0)
        return JS_EXCEPTION;
    if (to >= s->reg->shard_count || (to < 0 && !(s->owners && to <= OBJ_RELAY_BASE)))
        return JS_ThrowInternalError(ctx, "gateWsSend: no shard %d", to);
    obj_msg *m = obj__msg_new(ctx, s, argv[2]);
    if (!m)
        return JS_EXCEPTION;
    m->kind = MSG_WS;
    m->from_shard = s->index;
    obj_gate_output(g, to, m);
    return JS_UNDEFINED;
}

/* gateCommitNext() → the gate whose commit begins now (the caller commits its
 * storage, then calls gateCommitted or gateBreak), or null */
static JSValue js_gate_commit_next(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    obj_shard *s = gate_shard(ctx);
    if (!s)
        return JS_EXCEPTION;
    obj_gate *g = obj_gates_next(s->gates);
    if (!g)
        return JS_NULL;
    obj_gate_commit_begin(g);
    return JS_DupValue(ctx, JS_MKPTR(JS_TAG_OBJECT, obj_gate_owner(g)));
}

/* gateCommitted(gate) → undefined, or the tickets (gateHoldCall) that may go now:
 * its storage committed; held outputs the commit covered go. */
static JSValue js_gate_committed(JSContext *ctx, JSValueConst this_val, int argc,
                                 JSValueConst *argv)
{
    obj_gate *g = gate_get(ctx, argv[0]);
    if (!g)
        return JS_EXCEPTION;
    ticket_sink k = {ctx, JS_UNDEFINED, 0};
    obj_gates_on_ticket(g->gs, ticket_collect, &k);
    obj_gate_commit_done(g);
    obj_gates_on_ticket(g->gs, NULL, NULL);
    return JS_IsNull(k.arr) ? JS_UNDEFINED : k.arr;
}

/* gateBreak(gate, wireError) → undefined, or the tickets whose calls must never
 * be made: the instance was reset; held replies (and later results) become this
 * error for their callers. */
static JSValue js_gate_break(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = gate_shard(ctx);
    obj_gate *g = s ? gate_get(ctx, argv[0]) : NULL;
    if (!g)
        return JS_EXCEPTION;
    buf b;
    buf_init(&b, s->reg->opts.call_bytes_max);
    ticket_sink k = {ctx, JS_UNDEFINED, 0};
    obj_gates_on_ticket(g->gs, ticket_collect, &k);
    if (js_clone_write(ctx, argv[1], JS_CLONE_REJECT_CLASS_INSTANCES, &b) < 0) {
        /* The gate breaks regardless: holding outputs of a reset object is not an
         * option. Its callers then get an error they cannot read. */
        JS_FreeValue(ctx, JS_GetException(ctx));
        buf_fini(&b);
        obj_gate_break(g, NULL, 0);
        obj_gates_on_ticket(g->gs, NULL, NULL);
        JS_FreeValue(ctx, k.arr);
        return JS_ThrowInternalError(ctx, "internal error: the reset error could not be serialized");
    }
    obj_gate_break(g, (const uint8_t *)b.ptr, b.len);
    obj_gates_on_ticket(g->gs, NULL, NULL);
    buf_fini(&b);
    return JS_IsNull(k.arr) ? JS_UNDEFINED : k.arr;
}

/* gateDirtyCount() → gates of this shard with uncommitted writes */
static JSValue js_gate_dirty_count(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    obj_shard *s = gate_shard(ctx);
    return s ? JS_NewInt64(ctx, (int64_t)obj_gates_dirty_count(s->gates)) : JS_EXCEPTION;
}

int obj__gate_install(JSContext *ctx, JSValueConst native)
{
    if (!gate_class_id) {
        JS_ThrowInternalError(ctx, "objects: obj_classes_init() was not called before the "
                                   "first runtime");
        return -1;
    }
    JSRuntime *rt = JS_GetRuntime(ctx);
    if (!JS_IsRegisteredClass(rt, gate_class_id)) {
        JSClassDef d = {.class_name = "ObjectGate", .finalizer = gate_finalizer};
        if (JS_NewClass(rt, gate_class_id, &d) < 0)
            return -1;
    }
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("gateNew", 1, js_gate_new),
        JS_CFUNC_DEF("gateOutbound", 0, js_gate_outbound),
        JS_CFUNC_DEF("gateHoldCall", 1, js_gate_hold_call),
        JS_CFUNC_DEF("gateWrote", 2, js_gate_wrote),
        JS_CFUNC_DEF("gateTxnDepth", 1, js_gate_txn_depth),
        JS_CFUNC_DEF("gateTxnSet", 2, js_gate_txn_set),
        JS_CFUNC_DEF("gatePending", 1, js_gate_pending),
        JS_CFUNC_DEF("gateReply", 5, js_gate_reply),
        JS_CFUNC_DEF("gateWsSend", 3, js_gate_ws_send),
        JS_CFUNC_DEF("gateCommitNext", 0, js_gate_commit_next),
        JS_CFUNC_DEF("gateCommitted", 1, js_gate_committed),
        JS_CFUNC_DEF("gateBreak", 2, js_gate_break),
        JS_CFUNC_DEF("gateDirtyCount", 0, js_gate_dirty_count),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}
