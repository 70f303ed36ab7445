/* relay.c: WebSockets through a forwarded stub.fetch in cluster mode (docs/cluster.md,
 * docs/websockets.md "Through a Durable Object").
 *
 * On one node a WebSocket through an object is two ends on two shards that talk in
 * MSG_WS messages (50_objects.js): ["o", id, kind, …] toward the object's server
 * end, ["w", wire, op, …] toward the client's connection. Across nodes the same
 * messages ride frames on the peer connection; only their addresses change. An
 * address that names something on another node is a *relay handle*, a number
 * <= OBJ_RELAY_BASE standing for one endpoint of this table:
 *   out  (client side, node A): the link to `node` (at `addr`), then registry
 *        `serial`, shard `shard` there (the object's shard);
 *   in   (object side, node B): back on connection `conn`, then registry `serial`,
 *        shard `shard` of the node that dialled (the client connection's shard).
 * Shard -1 names the node or connection itself: a forwarded fetch's reply carries
 * the node handle of the node that answered (owner.c fwd_reply), and an object
 * that answered a forwarded upgrade holds the connection handle until the client
 * side binds, so the loss of either is noticed.
 *
 * Frame: 'W' u8 dir('o'|'w') | u32 to serial | i32 to shard | u32 from serial |
 *        i32 from shard | payload (the structured-clone bytes of the MSG_WS message)
 * Integers little-endian. A frame toward an object ('o') arrives with a from_shard
 * that is the in handle of its sender, which is where the object's sends go back.
 *
 * Losses: when the link to a node drops (on_lost) its out handles go, and every
 * shard hears MSG_RELAY_LOST: clients whose object was there get Close 1011. When
 * a connection closes (cluster_peer_on_closed) its in handles go the same way:
 * objects whose client was on the other side get a close event 1006 (not clean).
 * Handles are never reused, so a message still on its way to a lost one is dropped.
 *
 * Bounds: a frame that the peer connection cannot queue (past its 64 MiB, the bound
 * of peer.c) drops that connection: both sides then see the loss above, and memory
 * never grows past the bound.
 *
 * Threads: the table is node-wide under its mutex; any thread sends. */
#include "objects/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cluster/cluster.h"
#include "js/rt.h"

#define FRAME_WS 'W'
#define WS_HEAD (2 + 4 + 4 + 4 + 4)

typedef struct relay_ep {
    int32_t h;
    bool out;
    uint64_t conn;
    uint32_t serial;
    int32_t shard;
    char node[CLUSTER_NODE_MAX];
    char addr[CLUSTER_ADDR_MAX];
} relay_ep;

struct obj_relay {
    uv_mutex_t mu;
    relay_ep *eps;
    size_t count, cap;
    int64_t next;              /* handles count down from OBJ_RELAY_BASE */
};

obj_relay *obj__relay_new(void)
{
    obj_relay *rl = calloc(1, sizeof *rl);
    if (rl)
        uv_mutex_init(&rl->mu);
    return rl;
}

void obj__relay_free(obj_relay *rl)
{
    if (!rl)
        return;
    uv_mutex_destroy(&rl->mu);
    free(rl->eps);
    free(rl);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Under rl->mu. */
static relay_ep *ep_find(obj_relay *rl, int32_t h)
{
    for (size_t i = 0; i < rl->count; i++)
        if (rl->eps[i].h == h)
            return &rl->eps[i];
    return NULL;
}

/* The handle of an endpoint like `want` (found or added), or 0. Under rl->mu. */
static int32_t ep_get(obj_relay *rl, const relay_ep *want)
{
    for (size_t i = 0; i < rl->count; i++) {
        relay_ep *e = &rl->eps[i];
        if (e->out == want->out && e->serial == want->serial && e->shard == want->shard &&
            (want->out ? strcmp(e->node, want->node) == 0 : e->conn == want->conn))
            return e->h;
    }
    if ((int64_t)OBJ_RELAY_BASE - rl->next <= (int64_t)INT32_MIN)
        return 0;   /* two billion relays made: no handle left */
    if (rl->count == rl->cap) {
        size_t cap = rl->cap ? rl->cap * 2 : 16;
        relay_ep *n = realloc(rl->eps, cap * sizeof *n);
        if (!n)
            return 0;
        rl->eps = n;
        rl->cap = cap;
    }
    relay_ep *e = &rl->eps[rl->count++];
    *e = *want;
    e->h = (int32_t)((int64_t)OBJ_RELAY_BASE - rl->next++);
    return e->h;
}

int32_t obj__relay_node_handle(obj_cluster *oc, const char *node, const char *addr)
{
    obj_relay *rl = obj__cluster_relay(oc);
    relay_ep want = {.out = true, .shard = -1};
    snprintf(want.node, sizeof want.node, "%s", node);
    snprintf(want.addr, sizeof want.addr, "%s", addr);
    uv_mutex_lock(&rl->mu);
    int32_t h = ep_get(rl, &want);
    uv_mutex_unlock(&rl->mu);
    return h ? h : -1;
}

void obj__relay_send(obj_registry *r, int32_t h, obj_msg *m)
{
    obj_cluster *oc = r->opts.cluster;
    obj_relay *rl = obj__cluster_relay(oc);
    size_t len = WS_HEAD + m->len;
    uint8_t *f = malloc(len);
    uv_mutex_lock(&rl->mu);
    relay_ep *e = ep_find(rl, h);
    relay_ep ep = e ? *e : (relay_ep){0};
    uv_mutex_unlock(&rl->mu);
    if (!e || !f || ep.shard < 0 || m->kind != MSG_WS) {
        free(f);
        free(m);   /* its relay is gone: the loss was (or is being) told */
        return;
    }
    f[0] = FRAME_WS;
    f[1] = ep.out ? 'o' : 'w';
    put32(f + 2, ep.serial);
    put32(f + 6, (uint32_t)ep.shard);
    put32(f + 10, r->serial);
    put32(f + 14, (uint32_t)m->from_shard);
    memcpy(f + WS_HEAD, m->data, m->len);
    cluster *c = obj__cluster_c(oc);
    bool ok = ep.out ? cluster_peer_send(c, ep.node, ep.addr, f, len)
                     : cluster_peer_reply(c, ep.conn, f, len);
    free(f);
    free(m);
    if (!ok) {
        log_warn("cluster: a WebSocket message relayed to node %s could not be queued (more than "
                 "64 MiB wait on the connection, or it is gone); the connection is dropped and "
                 "the WebSockets relayed on it close", ep.out ? ep.node : "(incoming)");
        cluster_peer_drop(c, ep.out ? ep.node : NULL, ep.conn,
                          "a WebSocket relay would queue more than 64 MiB on it");
    }
}

void obj__relay_frame(obj_cluster *oc, uint64_t conn, const uint8_t *b, size_t len)
{
    if (len < WS_HEAD || (b[1] != 'o' && b[1] != 'w')) {
        log_warn("cluster: a WebSocket relay frame of %zu bytes is malformed; dropped", len);
        return;
    }
    obj_msg *m = malloc(sizeof *m + (len - WS_HEAD));
    if (!m) {
        log_error("out of memory: a relayed WebSocket message was dropped");
        return;
    }
    memset(m, 0, sizeof *m);
    m->kind = MSG_WS;
    m->len = len - WS_HEAD;
    memcpy(m->data, b + WS_HEAD, m->len);
    m->from_shard = -1;
    if (b[1] == 'o') {   /* toward an object: its sends go back to the sender */
        obj_relay *rl = obj__cluster_relay(oc);
        relay_ep want = {.out = false, .conn = conn, .serial = get32(b + 10),
                         .shard = (int32_t)get32(b + 14)};
        uv_mutex_lock(&rl->mu);
        int32_t h = want.shard >= 0 ? ep_get(rl, &want) : 0;
        uv_mutex_unlock(&rl->mu);
        if (!h) {
            free(m);
            return;
        }
        m->from_shard = h;
    }
    obj__cluster_push(oc, get32(b + 2), (int32_t)get32(b + 6), m);
}

/* Removes the endpoints that match and tells every shard their handles. */
static void lose(obj_cluster *oc, bool out, const char *node, uint64_t conn)
{
    obj_relay *rl = obj__cluster_relay(oc);
    uv_mutex_lock(&rl->mu);
    int32_t *hs = malloc((rl->count ? rl->count : 1) * sizeof *hs);
    size_t n = 0, k = 0;
    for (size_t i = 0; i < rl->count; i++) {
        relay_ep *e = &rl->eps[i];
        bool gone = e->out == out && (out ? strcmp(e->node, node) == 0 : e->conn == conn);
        if (gone && hs)
            hs[n++] = e->h;
        if (!gone || !hs)
            rl->eps[k++] = *e;
    }
    rl->count = k;
    uv_mutex_unlock(&rl->mu);
    if (n)
        obj__cluster_push_all(oc, MSG_RELAY_LOST, hs, n * sizeof *hs);
    free(hs);
}

void obj__relay_node_lost(obj_cluster *oc, const char *node)
{
    lose(oc, true, node, 0);
}

void obj__relay_conn_closed(obj_cluster *oc, uint64_t conn)
{
    lose(oc, false, NULL, conn);
}

/* MSG_RELAY_LOST on a shard: N.objWsRelayLost([handles]). */
void obj__relay_lost_deliver(obj_shard *s, obj_msg *m)
{
    JSContext *ctx = s->ctx;
    if (ctx) {
        js_rt *rt = js_rt_of(ctx);
        JSValue a = JS_NewArray(ctx);
        for (size_t i = 0; i < m->len / sizeof(int32_t); i++) {
            int32_t h;
            memcpy(&h, m->data + i * sizeof h, sizeof h);
            JS_SetPropertyUint32(ctx, a, (uint32_t)i, JS_NewInt32(ctx, h));
        }
        JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), "objWsRelayLost");
        js_rt_event_begin(rt);
        JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, 1, &a);
        if (JS_IsException(r))
            js_log_exception(ctx, "internal error in the objects layer (WebSocket relay)");
        js_rt_event_end(rt);
        js_rt_drain(rt);
        JS_FreeValue(ctx, r);
        JS_FreeValue(ctx, fn);
        JS_FreeValue(ctx, a);
        js_rt_pump(rt);
    }
    free(m);
}

/* ---- natives ----
 * objRegSerial() → this registry's serial (names it in frames)
 * objWsRelayOpen(nodeHandle, serial, shard) → the out handle of shard `shard` of
 *   registry `serial` on the node of nodeHandle, or -1 if that node is gone
 * objWsRelayOrigin(from) → the connection handle of a forwarded call's origin slot,
 *   or -1 */

static obj_shard *relay_shard(JSContext *ctx)
{
    obj_shard *s = js_ctx_slot(ctx, JS_SLOT_OBJECTS);
    if (!s || !s->owners) {
        JS_ThrowInternalError(ctx, "Durable Objects: not in cluster mode");
        return NULL;
    }
    return s;
}

static JSValue js_reg_serial(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = js_ctx_slot(ctx, JS_SLOT_OBJECTS);
    return JS_NewUint32(ctx, s ? s->reg->serial : 0);
}

static JSValue js_relay_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = relay_shard(ctx);
    int32_t nh, shard;
    uint32_t serial;
    if (!s || JS_ToInt32(ctx, &nh, argv[0]) < 0 || JS_ToUint32(ctx, &serial, argv[1]) < 0 ||
        JS_ToInt32(ctx, &shard, argv[2]) < 0)
        return JS_EXCEPTION;
    obj_relay *rl = obj__cluster_relay(s->reg->opts.cluster);
    uv_mutex_lock(&rl->mu);
    relay_ep *e = ep_find(rl, nh);
    int32_t h = 0;
    if (e && e->out && shard >= 0) {
        relay_ep want = *e;
        want.serial = serial;
        want.shard = shard;
        h = ep_get(rl, &want);
    }
    uv_mutex_unlock(&rl->mu);
    return JS_NewInt32(ctx, h ? h : -1);
}

static JSValue js_relay_origin(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = relay_shard(ctx);
    int32_t from;
    if (!s || JS_ToInt32(ctx, &from, argv[0]) < 0)
        return JS_EXCEPTION;
    uint64_t conn;
    obj_cluster *oc = s->reg->opts.cluster;
    if (!obj__cluster_origin_conn(oc, from, &conn))
        return JS_NewInt32(ctx, -1);
    obj_relay *rl = obj__cluster_relay(oc);
    relay_ep want = {.out = false, .conn = conn, .shard = -1};
    uv_mutex_lock(&rl->mu);
    int32_t h = ep_get(rl, &want);
    uv_mutex_unlock(&rl->mu);
    return JS_NewInt32(ctx, h ? h : -1);
}

int obj__relay_install(JSContext *ctx, JSValueConst native)
{
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("objRegSerial", 0, js_reg_serial),
        JS_CFUNC_DEF("objWsRelayOpen", 3, js_relay_open),
        JS_CFUNC_DEF("objWsRelayOrigin", 1, js_relay_origin),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}
