/* owner.c: cluster mode of the objects layer (spec: cluster.md CL-4..CL-9, CL-14;
 * docs/cluster.md). Which node owns an object, calls forwarded to the owner, and
 * the natives through which 50_objects.js fences its commits by the epoch.
 *
 * Ownership is decided at the object's shard, in C, before any event reaches
 * JavaScript: each shard keeps a table of the objects it has asked about. An
 * object seen for the first time is claimed (cluster_claim); calls for it wait in
 * the entry, in arrival order, until the answer:
 *   CLAIMED  the entry is OWNED at an epoch; the waiting calls are delivered as on
 *            one node, and later ones go straight through (one table lookup);
 *   REMOTE   the waiting calls and later ones are forwarded to the owner, in order,
 *            as frames on the peer connection (frames to one node arrive in the
 *            order sent), so E-order (ORDER-1) holds across nodes: one FIFO from the
 *            stub to the owner's inbox. A REMOTE entry is asked again after
 *            REMOTE_TTL_MS, so a dead or moved owner is noticed;
 *   FAILED   the waiting calls get the error.
 * The owner pushes a forwarded call into the object's inbox like any call, with a
 * from_shard that names the incoming connection (an origin slot, -2 - slot), so the
 * object's reply goes back through its output gate unchanged and then, in
 * obj__msg_push, as a reply frame on that connection.
 *
 * Replies to forwarded calls come back to the shard that forwarded them (it holds
 * the call in its `fwd` table), which passes them on to the caller's shard as an
 * ordinary MSG_REPLY. When the connection to a node drops, or is closed because
 * the node left the liveness probes unanswered for the node timeout (peer.c; a
 * paused node keeps its sockets open), every shard fails the calls it forwarded
 * there (dropped, or "did not answer within N ms", retryable) and forgets that
 * node as an owner.
 *
 * Policy for stale owner information: a forwarded call that reaches a node that
 * does not own the object is claimed there (the sender believed it the owner,
 * usually because it was); if the claim finds yet another owner the call is
 * answered "the Durable Object moved; retry" rather than forwarded again, so a
 * call crosses at most one hop and can never loop.
 *
 * Leases (CL-7): every call delivered to an owned object checks cluster_lease_ok,
 * and 50_objects.js checks it at every storage access; a lost lease, or a new
 * cluster_lease_gen, resets every instance of the shard (durableObjectReset) and
 * empties the table, so objects are claimed again at their next call.
 *
 * WebSocket upgrades through a forwarded fetch are relayed (relay.c, frame 'W').
 * Not across nodes (a clear error instead): functions/RpcTargets passed by
 * reference (MSG_REFCALL names a shard of the calling node).
 *
 * Threads: the tables belong to their shard. obj_cluster (the registries, the
 * origin slots) is shared with the peer thread under its mutex. */
#include "objects/internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include "cluster/cluster.h"
#include "js/clone.h"
#include "js/rt.h"
#include "storage/frames.h"
#include "storage/natives.h"

#define REMOTE_TTL_MS 1000u
#define ORIGINS_MAX 65536u
#define FRAME_CALL 'C'
#define FRAME_REPLY 'R'

/* ---- the node-wide part ---- */

typedef struct origin {
    uint64_t conn;             /* the connection the calls came in on */
    uint32_t serial;           /* the calling node's registry */
    int32_t shard;             /* the calling node's forwarding shard */
} origin;

struct obj_cluster {
    cluster *c;
    uint8_t secret[OBJ_KEY_BYTES];
    uv_mutex_t mu;             /* regs, origins */
    obj_registry **regs;       /* live registries, newest last */
    size_t reg_count;
    uint32_t next_serial;
    origin *origins;
    size_t origin_count;
    /* Tests only (DURABLE_TEST_HOOKS=1): calls whose reply is replaced by closing
     * their connection (a forwarded call whose payload holds TEST_DROP_MARKER). */
    bool test_hooks;
    struct { int32_t slot; double call_id; } test_drops[8];
    size_t test_drop_count;
    obj_relay *relay;          /* WebSockets relayed across nodes (relay.c) */
};

#define TEST_DROP_MARKER "__durable_drop_connection__"

/* Tests only: true if `needle` occurs in b. */
static bool bytes_hold(const uint8_t *b, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (b[i] == (uint8_t)needle[0] && memcmp(b + i, needle, n) == 0)
            return true;
    return false;
}

static void on_frame(void *ud, uint64_t conn, const uint8_t *b, size_t len);
static void on_lost(void *ud, const char *node);
static void on_silent(void *ud, const char *node, uint32_t ms);
static void on_closed(void *ud, uint64_t conn);

obj_cluster *obj_cluster_new(cluster *c, err *e)
{
    obj_cluster *oc = calloc(1, sizeof *oc);
    if (!oc) {
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    oc->c = c;
    oc->next_serial = 1;
    const char *hooks = getenv("DURABLE_TEST_HOOKS");
    oc->test_hooks = hooks && strcmp(hooks, "1") == 0;
    oc->relay = obj__relay_new();
    if (!oc->relay || cluster_id_secret(c, oc->secret, e) < 0) {
        if (!oc->relay)
            err_setf(e, DUR_ENOMEM, "out of memory");
        obj__relay_free(oc->relay);
        free(oc);
        return NULL;
    }
    uv_mutex_init(&oc->mu);
    cluster_peer_on_frame(c, on_frame, oc);
    cluster_peer_on_lost(c, on_lost, oc);
    cluster_peer_on_silent(c, on_silent, oc);
    cluster_peer_on_closed(c, on_closed, oc);
    return oc;
}

void obj_cluster_free(obj_cluster *oc)
{
    if (!oc)
        return;
    uv_mutex_destroy(&oc->mu);
    obj__relay_free(oc->relay);
    free(oc->regs);
    free(oc->origins);
    free(oc);
}

const uint8_t *obj__cluster_secret(const obj_cluster *oc)
{
    return oc->secret;
}

int obj__cluster_reg_add(obj_cluster *oc, obj_registry *r)
{
    uv_mutex_lock(&oc->mu);
    obj_registry **n = realloc(oc->regs, (oc->reg_count + 1) * sizeof *n);
    if (n) {
        oc->regs = n;
        r->serial = oc->next_serial++;
        oc->regs[oc->reg_count++] = r;
    }
    uv_mutex_unlock(&oc->mu);
    return n ? 0 : DUR_ENOMEM;
}

void obj__cluster_reg_remove(obj_cluster *oc, obj_registry *r)
{
    uv_mutex_lock(&oc->mu);
    for (size_t i = 0; i < oc->reg_count; i++)
        if (oc->regs[i] == r) {
            memmove(&oc->regs[i], &oc->regs[i + 1], (oc->reg_count - i - 1) * sizeof *oc->regs);
            oc->reg_count--;
            break;
        }
    uv_mutex_unlock(&oc->mu);
}

/* The from_shard of calls that came on `conn` from shard `shard` of registry
 * `serial` of another node: -2 - slot. Under oc->mu. The slots are few (one per
 * connection and calling shard); past ORIGINS_MAX (many reconnections) the table
 * starts again, and a reply still due on a reused slot is lost (its caller's
 * connection is long gone). */
static int32_t origin_slot(obj_cluster *oc, uint64_t conn, uint32_t serial, int32_t shard)
{
    for (size_t i = 0; i < oc->origin_count; i++) {
        origin *o = &oc->origins[i];
        if (o->conn == conn && o->serial == serial && o->shard == shard)
            return -2 - (int32_t)i;
    }
    if (oc->origin_count == ORIGINS_MAX)
        oc->origin_count = 0;
    if (!oc->origins) {
        oc->origins = calloc(ORIGINS_MAX, sizeof *oc->origins);
        if (!oc->origins)
            return INT32_MIN;
    }
    oc->origins[oc->origin_count] = (origin){conn, serial, shard};
    return -2 - (int32_t)oc->origin_count++;
}

/* ---- frames between nodes ----
 * call:  'C' u8 kind | u32 serial | i32 shard | f64 call id | 32 id | u16 n | identity
 *        (n bytes) | payload
 * reply: 'R' u8 status | u32 serial | i32 shard | f64 call id | payload
 * Integers little-endian; the payload is the structured-clone bytes of the message. */
#define CALL_HEAD (2 + 4 + 4 + 8 + OBJ_ID_BYTES + 2)
#define REPLY_HEAD (2 + 4 + 4 + 8)

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64d(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static double get64d(const uint8_t *p)
{
    uint64_t v = (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static obj_msg *msg_alloc(size_t len)
{
    obj_msg *m = malloc(sizeof *m + len);
    if (m)
        memset(m, 0, sizeof *m);
    return m;
}

/* A call frame arrived: into the object's inbox, from an origin slot. */
static void frame_call(obj_cluster *oc, uint64_t conn, const uint8_t *b, size_t len)
{
    size_t ilen = (size_t)b[CALL_HEAD - 2] | (size_t)b[CALL_HEAD - 1] << 8;
    if (len < CALL_HEAD + ilen) {
        log_warn("cluster: a forwarded call frame of %zu bytes is cut short; dropped", len);
        return;
    }
    const char *ident = (const char *)b + CALL_HEAD;
    size_t plen = len - CALL_HEAD - ilen;
    obj_msg *m = msg_alloc(plen);
    if (!m) {
        log_error("out of memory: a call forwarded by another node was dropped");
        return;
    }
    m->kind = b[1];
    m->status = OBJ_MSG_FORWARDED;
    m->call_id = get64d(b + 10);
    m->sent_ns = uv_hrtime();
    memcpy(m->id.b, b + 18, OBJ_ID_BYTES);
    m->len = plen;
    memcpy(m->data, b + CALL_HEAD + ilen, plen);
    uv_mutex_lock(&oc->mu);
    obj_registry *r = oc->reg_count ? oc->regs[oc->reg_count - 1] : NULL;
    size_t ns = 0;
    while (r && ns < r->ns_count &&
           !(strlen(r->ns[ns].identity) == ilen && memcmp(r->ns[ns].identity, ident, ilen) == 0))
        ns++;
    if (!r || ns == r->ns_count || (m->kind != MSG_FETCH && m->kind != MSG_RPC)) {
        uv_mutex_unlock(&oc->mu);
        log_warn("cluster: a call was forwarded here for namespace '%.*s', which this node does "
                 "not serve (different deployments?); dropped", (int)ilen, ident);
        free(m);
        return;
    }
    m->ns = (uint32_t)ns;
    m->from_shard = origin_slot(oc, conn, get32(b + 2), (int32_t)get32(b + 6));
    if (m->from_shard == INT32_MIN) {
        uv_mutex_unlock(&oc->mu);
        free(m);
        return;
    }
    /* Tests only: the call runs, then its connection drops instead of its reply. */
    if (oc->test_hooks && oc->test_drop_count < sizeof oc->test_drops / sizeof oc->test_drops[0] &&
        bytes_hold(m->data, m->len, TEST_DROP_MARKER)) {
        oc->test_drops[oc->test_drop_count].slot = m->from_shard;
        oc->test_drops[oc->test_drop_count++].call_id = m->call_id;
    }
    int to = (int)r->ns[ns].script * r->threads + (int)(obj_id_hash(&m->id) % (uint64_t)r->threads);
    obj__msg_push(r, to, m);
    uv_mutex_unlock(&oc->mu);
}

/* A reply frame arrived: to the shard that forwarded the call (MSG_FWD_REPLY). */
static void frame_reply(obj_cluster *oc, const uint8_t *b, size_t len)
{
    uint32_t serial = get32(b + 2);
    int32_t to = (int32_t)get32(b + 6);
    obj_msg *m = msg_alloc(len - REPLY_HEAD);
    if (!m) {
        log_error("out of memory: a reply from another node was dropped");
        return;
    }
    m->kind = MSG_FWD_REPLY;
    m->status = b[1];
    m->call_id = get64d(b + 10);
    m->len = len - REPLY_HEAD;
    memcpy(m->data, b + REPLY_HEAD, m->len);
    uv_mutex_lock(&oc->mu);
    obj_registry *r = NULL;
    for (size_t i = 0; i < oc->reg_count; i++)
        if (oc->regs[i]->serial == serial)
            r = oc->regs[i];
    if (r && to >= 0 && to < r->shard_count) {
        obj__msg_push(r, to, m);
        m = NULL;
    }
    uv_mutex_unlock(&oc->mu);
    free(m);   /* that version of the deployment is gone, and its callers with it */
}

static void on_frame(void *ud, uint64_t conn, const uint8_t *b, size_t len)
{
    obj_cluster *oc = ud;
    if (len >= CALL_HEAD && b[0] == FRAME_CALL)
        frame_call(oc, conn, b, len);
    else if (len >= REPLY_HEAD && b[0] == FRAME_REPLY)
        frame_reply(oc, b, len);
    else if (len >= 1 && b[0] == 'W')
        obj__relay_frame(oc, conn, b, len);
    else
        log_warn("cluster: a frame of %zu bytes that is neither a call nor a reply; dropped", len);
}

/* The connection to `node` dropped (silent_ms 0) or was closed because the node
 * stayed silent for silent_ms: every shard fails what it forwarded there (the
 * message holds the node id, its NUL, then silent_ms as u32), and the WebSockets
 * relayed through that node end. */
static void peer_lost_push(obj_cluster *oc, const char *node, uint32_t silent_ms)
{
    size_t n = strlen(node) + 1;
    uint8_t *data = malloc(n + 4);
    if (data) {
        memcpy(data, node, n);
        put32(data + n, silent_ms);
        obj__cluster_push_all(oc, MSG_PEER_LOST, data, n + 4);
        free(data);
    }
    obj__relay_node_lost(oc, node);
}

static void on_lost(void *ud, const char *node)
{
    peer_lost_push(ud, node, 0);
}

static void on_silent(void *ud, const char *node, uint32_t ms)
{
    peer_lost_push(ud, node, ms);
}

/* ---- for relay.c ---- */

static void on_closed(void *ud, uint64_t conn)
{
    obj__relay_conn_closed(ud, conn);
}

obj_relay *obj__cluster_relay(obj_cluster *oc)
{
    return oc->relay;
}

cluster *obj__cluster_c(obj_cluster *oc)
{
    return oc->c;
}

void obj__cluster_push(obj_cluster *oc, uint32_t serial, int32_t shard, obj_msg *m)
{
    uv_mutex_lock(&oc->mu);
    obj_registry *r = NULL;
    for (size_t i = 0; i < oc->reg_count; i++)
        if (oc->regs[i]->serial == serial)
            r = oc->regs[i];
    if (r && shard >= 0 && shard < r->shard_count) {
        obj__msg_push(r, shard, m);
        m = NULL;
    }
    uv_mutex_unlock(&oc->mu);
    free(m);
}

void obj__cluster_push_all(obj_cluster *oc, uint8_t kind, const void *data, size_t len)
{
    uv_mutex_lock(&oc->mu);
    for (size_t i = 0; i < oc->reg_count; i++) {
        obj_registry *r = oc->regs[i];
        for (int k = 0; k < r->shard_count; k++) {
            obj_msg *m = msg_alloc(len);
            if (!m)
                break;
            m->kind = kind;
            m->len = len;
            memcpy(m->data, data, len);
            obj__msg_push(r, k, m);
        }
    }
    uv_mutex_unlock(&oc->mu);
}

bool obj__cluster_origin_conn(obj_cluster *oc, int32_t slot, uint64_t *conn)
{
    if (slot > -2 || slot <= OBJ_RELAY_BASE)
        return false;
    uv_mutex_lock(&oc->mu);
    size_t i = (size_t)(-2 - slot);
    bool ok = i < oc->origin_count;
    if (ok)
        *conn = oc->origins[i].conn;
    uv_mutex_unlock(&oc->mu);
    return ok;
}

/* obj__msg_push of a reply to an origin slot: back on the connection it came on. */
void obj__cluster_reply(obj_registry *r, int to, obj_msg *m)
{
    obj_cluster *oc = r->opts.cluster;
    size_t len = REPLY_HEAD + m->len;
    uint8_t *f = malloc(len);
    uv_mutex_lock(&oc->mu);
    size_t slot = (size_t)(-2 - to);
    bool ok = f && slot < oc->origin_count;
    origin o = ok ? oc->origins[slot] : (origin){0};
    bool drop = false;
    for (size_t i = 0; i < oc->test_drop_count && m->kind == MSG_REPLY; i++)
        if (oc->test_drops[i].slot == to && oc->test_drops[i].call_id == m->call_id) {
            oc->test_drops[i] = oc->test_drops[--oc->test_drop_count];
            drop = true;
            break;
        }
    uv_mutex_unlock(&oc->mu);
    if (ok && drop) {
        log_warn("cluster: DURABLE_TEST_HOOKS: the connection of a forwarded call is closed "
                 "instead of sending its reply");
        cluster_peer_test_drop(oc->c, o.conn);
    } else if (ok && m->kind == MSG_REPLY) {
        f[0] = FRAME_REPLY;
        f[1] = m->status;
        put32(f + 2, o.serial);
        put32(f + 6, (uint32_t)o.shard);
        put64d(f + 10, m->call_id);
        memcpy(f + REPLY_HEAD, m->data, m->len);
        if (!cluster_peer_reply(oc->c, o.conn, f, len))
            log_warn("cluster: a reply to another node could not be sent (its connection is "
                     "gone); its caller gets an error from its own node");
    }
    free(f);
    free(m);
}

/* ---- a shard's tables ---- */

enum { OWN_CLAIMING = 1, OWN_OWNED, OWN_REMOTE, OWN_DRAINING };

typedef struct own_ent {
    struct own_ent *next;      /* hash chain */
    uint32_t ns;
    obj_id id;
    int state;
    uint64_t epoch;
    int64_t seq;               /* OWNED: the log position after our last acknowledged commit */
    uint64_t remote_until_ns;  /* REMOTE: ask again after this */
    char node[CLUSTER_NODE_MAX];
    char addr[CLUSTER_ADDR_MAX];
    obj_msg *q_head, *q_tail;  /* calls waiting (CLAIMING, DRAINING), linked by node.next */
} own_ent;

typedef struct fwd_ent {
    struct fwd_ent *next;
    double fwd_id;             /* the call id on the wire */
    double call_id;            /* the caller's */
    int32_t from;              /* the caller's shard */
    char node[CLUSTER_NODE_MAX];
    char addr[CLUSTER_ADDR_MAX];
} fwd_ent;

struct obj_owners {
    own_ent **own;
    size_t own_cap, own_count;
    fwd_ent **fwd;
    size_t fwd_cap, fwd_count;
    double next_fwd;
    uint64_t lease_gen;
    uint64_t next_ticket;
};

static size_t own_hash(uint32_t ns, const obj_id *id, size_t cap)
{
    return (size_t)((obj_id_hash(id) ^ ((uint64_t)ns * 0x9e3779b97f4a7c15ull)) & (cap - 1));
}

static size_t fwd_hash(double id, size_t cap)
{
    uint64_t v = (uint64_t)id;
    return (size_t)((v * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

int obj__owners_open(obj_shard *s)
{
    obj_owners *o = calloc(1, sizeof *o);
    if (!o)
        return DUR_ENOMEM;
    o->own_cap = 256;
    o->fwd_cap = 256;
    o->own = calloc(o->own_cap, sizeof *o->own);
    o->fwd = calloc(o->fwd_cap, sizeof *o->fwd);
    if (!o->own || !o->fwd) {
        free(o->own);
        free(o->fwd);
        free(o);
        return DUR_ENOMEM;
    }
    o->next_fwd = 1;
    o->next_ticket = 1;
    o->lease_gen = cluster_lease_gen(s->reg->opts.cluster->c);
    s->owners = o;
    return 0;
}

static void queue_free(own_ent *e)
{
    obj_msg *m = e->q_head;
    while (m) {
        obj_msg *n = (obj_msg *)atomic_load_explicit(&m->node.next, memory_order_relaxed);
        free(m);
        m = n;
    }
    e->q_head = e->q_tail = NULL;
}

void obj__owners_close(obj_shard *s)
{
    obj_owners *o = s->owners;
    if (!o)
        return;
    for (size_t i = 0; i < o->own_cap; i++)
        for (own_ent *e = o->own[i], *n; e; e = n) {
            n = e->next;
            queue_free(e);
            free(e);
        }
    for (size_t i = 0; i < o->fwd_cap; i++)
        for (fwd_ent *f = o->fwd[i], *n; f; f = n) {
            n = f->next;
            free(f);
        }
    free(o->own);
    free(o->fwd);
    free(o);
    s->owners = NULL;
}

static own_ent *own_find(obj_owners *o, uint32_t ns, const obj_id *id)
{
    for (own_ent *e = o->own[own_hash(ns, id, o->own_cap)]; e; e = e->next)
        if (e->ns == ns && memcmp(e->id.b, id->b, OBJ_ID_BYTES) == 0)
            return e;
    return NULL;
}

static void own_grow(obj_owners *o)
{
    size_t cap = o->own_cap * 2;
    own_ent **t = calloc(cap, sizeof *t);
    if (!t)
        return;   /* longer chains, still correct */
    for (size_t i = 0; i < o->own_cap; i++)
        for (own_ent *e = o->own[i], *n; e; e = n) {
            n = e->next;
            size_t h = own_hash(e->ns, &e->id, cap);
            e->next = t[h];
            t[h] = e;
        }
    free(o->own);
    o->own = t;
    o->own_cap = cap;
}

static own_ent *own_add(obj_owners *o, uint32_t ns, const obj_id *id)
{
    if (o->own_count >= o->own_cap)
        own_grow(o);
    own_ent *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->ns = ns;
    e->id = *id;
    size_t h = own_hash(ns, id, o->own_cap);
    e->next = o->own[h];
    o->own[h] = e;
    o->own_count++;
    return e;
}

/* Unlinks e (its queue is the caller's business) and frees it. */
static void own_del(obj_owners *o, own_ent *e)
{
    for (own_ent **pp = &o->own[own_hash(e->ns, &e->id, o->own_cap)]; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            o->own_count--;
            free(e);
            return;
        }
}

static void queue_push(own_ent *e, obj_msg *m)
{
    atomic_store_explicit(&m->node.next, NULL, memory_order_relaxed);
    if (e->q_tail)
        atomic_store_explicit(&e->q_tail->node.next, &m->node, memory_order_relaxed);
    else
        e->q_head = m;
    e->q_tail = m;
}

static obj_msg *queue_take(own_ent *e)
{
    obj_msg *m = e->q_head;
    e->q_head = e->q_tail = NULL;
    return m;
}

static obj_msg *queue_next(obj_msg *m)
{
    return (obj_msg *)atomic_load_explicit(&m->node.next, memory_order_relaxed);
}

/* ---- keys and paths ---- */

static int key_of(const obj_registry *r, uint32_t ns, const obj_id *id, char out[CLUSTER_KEY_MAX])
{
    char hex[OBJ_ID_HEX_LEN + 1];
    obj_id_hex(id, hex);
    int n = snprintf(out, CLUSTER_KEY_MAX, "%s/%s", r->ns[ns].identity, hex);
    return n > 0 && n < CLUSTER_KEY_MAX ? 0 : DUR_ETOOBIG;
}

/* The namespace and id of a key of this registry; -1 if it names none. */
static int key_parse(const obj_registry *r, const char *key, uint32_t *ns, obj_id *id)
{
    const char *slash = strrchr(key, '/');
    if (!slash || strlen(slash + 1) != OBJ_ID_HEX_LEN)
        return -1;
    size_t ilen = (size_t)(slash - key);
    size_t k = 0;
    while (k < r->ns_count &&
           !(strlen(r->ns[k].identity) == ilen && memcmp(r->ns[k].identity, key, ilen) == 0))
        k++;
    if (k == r->ns_count)
        return -1;
    for (int i = 0; i < OBJ_ID_BYTES; i++) {
        unsigned b;
        if (sscanf(slash + 1 + 2 * i, "%2x", &b) != 1)
            return -1;
        id->b[i] = (uint8_t)b;
    }
    *ns = (uint32_t)k;
    return 0;
}

int obj__store_path(const obj_registry *r, uint32_t ns, const char *hex, char *out, size_t cap)
{
    char dir[PATH_MAX];
    if (obj_ns_dir(r, r->ns[ns].identity, dir, sizeof dir) < 0)
        return DUR_ETOOBIG;
    int n = snprintf(out, cap, "%s/%.2s/%s.sqlite", dir, hex, hex);
    return n > 0 && (size_t)n < cap ? 0 : DUR_ETOOBIG;
}

/* ---- errors to callers ---- */

static void answer_error_full(obj_shard *s, obj_msg *call, int status, const char *name,
                              const char *msg, bool retryable);

/* Answers a call with an Error (status 1: thrown, 2: reset) made here. */
static void answer_error(obj_shard *s, obj_msg *call, int status, const char *msg)
{
    answer_error_full(s, call, status, "Error", msg, false);
}

/* answer_error, the Error marked `retryable: true` if asked. */
static void answer_error_w(obj_shard *s, obj_msg *call, int status, const char *msg, bool retryable)
{
    answer_error_full(s, call, status, "Error", msg, retryable);
}

/* answer_error with an error of another name (a DOMException's, e.g. DataCloneError). */
static void answer_error_named(obj_shard *s, obj_msg *call, int status, const char *name,
                               const char *msg)
{
    answer_error_full(s, call, status, name, msg, false);
}

static void answer_error_full(obj_shard *s, obj_msg *call, int status, const char *name,
                              const char *msg, bool retryable)
{
    JSContext *ctx = s->ctx;
    if (!ctx) {
        free(call);
        return;
    }
    JSValue w = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, w, "name", JS_NewString(ctx, name));
    if (strcmp(name, "Error") != 0)   /* a DOMException's name (errorFromWire) */
        JS_SetPropertyStr(ctx, w, "dom", JS_TRUE);
    JS_SetPropertyStr(ctx, w, "message", JS_NewString(ctx, msg));
    if (retryable)
        JS_SetPropertyStr(ctx, w, "retryable", JS_TRUE);
    obj_msg *m = obj__msg_new(ctx, s, w);
    JS_FreeValue(ctx, w);
    if (!m) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        log_error("out of memory: the error for a Durable Object call was lost (%s)", msg);
    } else {
        m->kind = MSG_REPLY;
        m->status = (uint8_t)status;
        m->call_id = call->call_id;
        m->from_shard = s->index;
        obj__msg_push(s->reg, call->from_shard, m);
    }
    free(call);
}

/* ---- JS hooks ---- */

static void js_hook(obj_shard *s, const char *name, int argc, JSValue *argv)
{
    JSContext *ctx = s->ctx;
    if (!ctx) {
        for (int i = 0; i < argc; i++)
            JS_FreeValue(ctx, argv[i]);
        return;
    }
    js_rt *rt = js_rt_of(ctx);
    JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), name);
    js_rt_event_begin(rt);
    JSValue r = JS_Call(ctx, fn, JS_UNDEFINED, argc, argv);
    if (JS_IsException(r))
        js_log_exception(ctx, "internal error in the objects layer (cluster)");
    js_rt_event_end(rt);
    js_rt_drain(rt);
    JS_FreeValue(ctx, r);
    JS_FreeValue(ctx, fn);
    for (int i = 0; i < argc; i++)
        JS_FreeValue(ctx, argv[i]);
}

static void js_hook_key(obj_shard *s, const char *name, uint32_t ns, const obj_id *id)
{
    if (!s->ctx)
        return;
    char hex[OBJ_ID_HEX_LEN + 1];
    obj_id_hex(id, hex);
    JSValue a[2] = {JS_NewInt32(s->ctx, (int32_t)ns), JS_NewStringLen(s->ctx, hex, OBJ_ID_HEX_LEN)};
    js_hook(s, name, 2, a);
}

/* The lease was lost (or renewed after a loss: a new generation): every instance
 * of the shard is reset and every owner forgotten; claims in flight stay. */
static void lease_lost(obj_shard *s)
{
    obj_owners *o = s->owners;
    o->lease_gen = cluster_lease_gen(s->reg->opts.cluster->c);
    if (s->ctx) {
        JSValue a[1] = {JS_NewString(s->ctx, "Durable Object reset: this node lost its lease on "
                                             "the object (it could not reach PostgreSQL in "
                                             "time); retry")};
        js_hook(s, "objClLeaseLost", 1, a);
    }
    for (size_t i = 0; i < o->own_cap; i++)
        for (own_ent *e = o->own[i], *n; e; e = n) {
            n = e->next;
            if (e->state == OWN_OWNED || e->state == OWN_REMOTE)
                own_del(o, e);
        }
}

/* ---- routing calls ---- */

static void claim(obj_shard *s, own_ent *e)
{
    char key[CLUSTER_KEY_MAX], hex[OBJ_ID_HEX_LEN + 1], path[PATH_MAX + 80];
    obj_id_hex(&e->id, hex);
    e->state = OWN_CLAIMING;
    if (key_of(s->reg, e->ns, &e->id, key) < 0 ||
        obj__store_path(s->reg, e->ns, hex, path, sizeof path) < 0) {
        cluster_event ev = {.kind = CLUSTER_EV_FAILED};
        snprintf(ev.msg, sizeof ev.msg, "the object's key or path is too long");
        obj_msg *m = queue_take(e);
        own_del(s->owners, e);
        for (obj_msg *n; m; m = n) {
            n = queue_next(m);
            answer_error(s, m, 1, ev.msg);
        }
        return;
    }
    /* frames_rebuild writes into the folder: it exists before the claim. */
    char *slash = strrchr(path, '/');
    *slash = 0;
    err fe = {0};
    if (fs_mkdir_p(path, &fe) < 0)
        log_warn("cluster: %s", fe.msg);
    *slash = '/';
    cluster_claim(s->port, key, path);
}

/* The key 50_objects.js puts in a call that passes functions or RpcTargets by
 * reference (they live on this node: another node could never call them back). */
static const char LOCAL_REFS[] = "\0durable.localrefs";

/* Sends call m to the owner in e (takes m). */
static void forward(obj_shard *s, own_ent *e, obj_msg *m)
{
    obj_owners *o = s->owners;
    size_t ln = sizeof LOCAL_REFS - 1;
    for (size_t i = 0; m->kind == MSG_RPC && i + ln <= m->len; i++)
        if (m->data[i] == 0 && memcmp(m->data + i, LOCAL_REFS, ln) == 0) {
            answer_error_named(s, m, 1, "DataCloneError",
                               "Could not serialize the RPC message: functions and RpcTargets "
                               "cannot be passed by reference to a Durable Object on another "
                               "cluster node (pass data or a Durable Object stub instead)");
            return;
        }
    const char *ident = s->reg->ns[m->ns].identity;
    size_t ilen = strlen(ident);
    size_t len = CALL_HEAD + ilen + m->len;
    uint8_t *f = malloc(len);
    fwd_ent *fe = calloc(1, sizeof *fe);
    if (!f || !fe || ilen > 65535) {
        free(f);
        free(fe);
        answer_error(s, m, 1, "out of memory forwarding a call to the Durable Object's node");
        return;
    }
    double id = o->next_fwd++;
    f[0] = FRAME_CALL;
    f[1] = m->kind;
    put32(f + 2, s->reg->serial);
    put32(f + 6, (uint32_t)s->index);
    put64d(f + 10, id);
    memcpy(f + 18, m->id.b, OBJ_ID_BYTES);
    f[CALL_HEAD - 2] = (uint8_t)ilen;
    f[CALL_HEAD - 1] = (uint8_t)(ilen >> 8);
    memcpy(f + CALL_HEAD, ident, ilen);
    memcpy(f + CALL_HEAD + ilen, m->data, m->len);
    fe->fwd_id = id;
    fe->call_id = m->call_id;
    fe->from = m->from_shard;
    snprintf(fe->node, sizeof fe->node, "%s", e->node);
    snprintf(fe->addr, sizeof fe->addr, "%s", e->addr);
    bool sent = cluster_peer_send(s->reg->opts.cluster->c, e->node, e->addr, f, len);
    free(f);
    if (!sent) {
        free(fe);
        answer_error(s, m, 2, "Durable Object call failed: the connection to the node that owns "
                              "the object could not take it (node connection dropped); retry");
        return;
    }
    if (o->fwd_count >= o->fwd_cap) {
        size_t cap = o->fwd_cap * 2;
        fwd_ent **t = calloc(cap, sizeof *t);
        if (t) {
            for (size_t i = 0; i < o->fwd_cap; i++)
                for (fwd_ent *x = o->fwd[i], *n; x; x = n) {
                    n = x->next;
                    size_t h = fwd_hash(x->fwd_id, cap);
                    x->next = t[h];
                    t[h] = x;
                }
            free(o->fwd);
            o->fwd = t;
            o->fwd_cap = cap;
        }
    }
    size_t h = fwd_hash(id, o->fwd_cap);
    fe->next = o->fwd[h];
    o->fwd[h] = fe;
    o->fwd_count++;
    free(m);
}

/* What to do with call m for an object REMOTE in e. */
static void remote_call(obj_shard *s, own_ent *e, obj_msg *m)
{
    if (m->status == OBJ_MSG_FORWARDED)
        answer_error(s, m, 1, "the Durable Object moved to another node while the call was on "
                              "its way; retry");
    else
        forward(s, e, m);
}

/* Drops REMOTE entries whose time is up, now and then, so the table holds what is
 * in use. */
static void own_trim(obj_shard *s, uint64_t now)
{
    obj_owners *o = s->owners;
    for (size_t i = 0; i < o->own_cap; i++)
        for (own_ent *e = o->own[i], *n; e; e = n) {
            n = e->next;
            if (e->state == OWN_REMOTE && now >= e->remote_until_ns)
                own_del(o, e);
        }
}

static bool call_route(obj_shard *s, obj_msg *m)
{
    obj_owners *o = s->owners;
    cluster *c = s->reg->opts.cluster->c;
    if (cluster_lease_gen(c) != o->lease_gen)
        lease_lost(s);
    own_ent *e = own_find(o, m->ns, &m->id);
    uint64_t now = uv_hrtime();
    if (e && e->state == OWN_OWNED) {
        if (cluster_lease_ok(c))
            return false;   /* delivered here, as on one node */
        lease_lost(s);
        e = NULL;
    }
    if (e && e->state == OWN_REMOTE && now >= e->remote_until_ns) {
        own_del(o, e);
        e = NULL;
    }
    if (e && e->state == OWN_REMOTE) {
        remote_call(s, e, m);
        return true;
    }
    if (e) {   /* claiming or draining: in order behind the others */
        queue_push(e, m);
        return true;
    }
    if (o->own_count >= o->own_cap)
        own_trim(s, now);
    e = own_add(o, m->ns, &m->id);
    if (!e) {
        answer_error(s, m, 1, "out of memory claiming the Durable Object");
        return true;
    }
    queue_push(e, m);
    claim(s, e);
    return true;
}

/* A reply to a call this shard forwarded: on to the caller's shard. */
static void fwd_reply(obj_shard *s, obj_msg *m)
{
    obj_owners *o = s->owners;
    for (fwd_ent **pp = &o->fwd[fwd_hash(m->call_id, o->fwd_cap)]; *pp; pp = &(*pp)->next) {
        fwd_ent *f = *pp;
        if (f->fwd_id != m->call_id)
            continue;
        *pp = f->next;
        o->fwd_count--;
        m->kind = MSG_REPLY;
        m->call_id = f->call_id;
        /* The node that answered (relay.c): a WebSocket in the reply is relayed there. */
        m->from_shard = obj__relay_node_handle(s->reg->opts.cluster, f->node, f->addr);
        int to = f->from;
        free(f);
        obj__msg_push(s->reg, to, m);
        return;
    }
    free(m);   /* failed already (the connection dropped) */
}

static void peer_lost(obj_shard *s, const char *node, uint32_t silent_ms)
{
    obj_owners *o = s->owners;
    for (size_t i = 0; i < o->fwd_cap; i++)
        for (fwd_ent **pp = &o->fwd[i]; *pp;) {
            fwd_ent *f = *pp;
            if (strcmp(f->node, node) != 0) {
                pp = &f->next;
                continue;
            }
            *pp = f->next;
            o->fwd_count--;
            obj_msg call = {.call_id = f->call_id, .from_shard = f->from};
            obj_msg *cp = msg_alloc(0);
            if (cp) {
                *cp = call;
                char msg[CLUSTER_NODE_MAX + 200];
                if (silent_ms)   /* paused, cut off or dead: it may or may not have run it */
                    snprintf(msg, sizeof msg, "Durable Object call forwarded to node %s did not "
                             "answer within %u ms (the node is paused, cut off or gone); retry",
                             node, silent_ms);
                else
                    snprintf(msg, sizeof msg, "Durable Object call failed: the connection to node %s, "
                             "which owns the object, dropped before it answered; retry", node);
                answer_error_w(s, cp, 2, msg, silent_ms != 0);
            }
            free(f);
        }
    for (size_t i = 0; i < o->own_cap; i++)
        for (own_ent *e = o->own[i], *n; e; e = n) {
            n = e->next;
            if (e->state == OWN_REMOTE && strcmp(e->node, node) == 0)
                own_del(o, e);
        }
}

bool obj__cluster_route(obj_shard *s, obj_msg *m)
{
    switch (m->kind) {
    case MSG_FETCH:
    case MSG_RPC:
        return call_route(s, m);
    case MSG_FWD_REPLY:
        fwd_reply(s, m);
        return true;
    case MSG_RELAY_LOST:
        obj__relay_lost_deliver(s, m);
        return true;
    case MSG_PEER_LOST: {
        size_t n = strnlen((const char *)m->data, m->len);
        uint32_t silent_ms = n + 5 == m->len ? get32(m->data + n + 1) : 0;
        if (n == m->len && n > 0)
            m->data[n - 1] = 0;
        peer_lost(s, (const char *)m->data, silent_ms);
        free(m);
        return true;
    }
    case MSG_CL_ALARM: {
        own_ent *e = own_find(s->owners, m->ns, &m->id);
        if (!e && (e = own_add(s->owners, m->ns, &m->id)))
            claim(s, e);
        else if (e && e->state == OWN_OWNED)
            js_hook_key(s, "objClClaimed", m->ns, &m->id);   /* reads and arms its alarm */
        free(m);
        return true;
    }
    case MSG_CL_DRAIN: {
        own_ent *e = own_find(s->owners, m->ns, &m->id);
        if (e && e->state == OWN_OWNED) {
            e->state = OWN_DRAINING;
            js_hook_key(s, "objClDrain", m->ns, &m->id);
        }
        free(m);
        return true;
    }
    default:
        return false;
    }
}

/* ---- answers from the cluster (the shard's port) ---- */

static void on_claimed(obj_shard *s, own_ent *e, const cluster_event *ev)
{
    e->state = OWN_OWNED;
    e->epoch = ev->epoch;
    e->seq = ev->seq;
    obj_msg *m = queue_take(e);
    uint32_t ns = e->ns;
    obj_id id = e->id;
    /* Its stored alarm is armed first (CL-14), then the calls go in order. */
    js_hook_key(s, "objClClaimed", ns, &id);
    js_rt *rt = s->ctx ? js_rt_of(s->ctx) : NULL;
    for (obj_msg *n; m; m = n) {
        n = queue_next(m);
        if (!rt) {
            free(m);
            continue;
        }
        js_rt_event_begin(rt);
        obj__deliver(s, m);
        js_rt_event_end(rt);
        js_rt_drain(rt);
        free(m);
    }
}

static void on_remote(obj_shard *s, own_ent *e, const cluster_event *ev)
{
    e->state = OWN_REMOTE;
    e->remote_until_ns = uv_hrtime() + (uint64_t)REMOTE_TTL_MS * 1000000u;
    snprintf(e->node, sizeof e->node, "%s", ev->node);
    snprintf(e->addr, sizeof e->addr, "%s", ev->addr);
    obj_msg *m = queue_take(e);
    for (obj_msg *n; m; m = n) {
        n = queue_next(m);
        remote_call(s, e, m);
    }
}

/* Routes an ALARM or DRAIN for key to the shard its object lives on. */
static void route_key_event(obj_shard *s, const cluster_event *ev, uint8_t kind)
{
    uint32_t ns;
    obj_id id;
    if (key_parse(s->reg, ev->key, &ns, &id) < 0) {
        if (kind == MSG_CL_DRAIN)
            cluster_release(s->port, ev->key, ev->epoch);
        return;
    }
    obj_msg *m = msg_alloc(0);
    if (!m)
        return;
    m->kind = kind;
    m->ns = ns;
    m->id = id;
    int to = (int)s->reg->ns[ns].script * s->reg->threads +
             (int)(obj_id_hash(&id) % (uint64_t)s->reg->threads);
    if (kind == MSG_CL_DRAIN && !own_find(s->owners, ns, &id) && to == s->index) {
        cluster_release(s->port, ev->key, ev->epoch);   /* nothing of it here */
        free(m);
        return;
    }
    obj__msg_push(s->reg, to, m);
}

static void on_port_event(void *ud, const cluster_event *ev)
{
    obj_shard *s = ud;
    if (ev->kind == CLUSTER_EV_COMMITTED || ev->kind == CLUSTER_EV_FENCED ||
        (ev->kind == CLUSTER_EV_FAILED && ev->ticket != 0)) {
        if (ev->kind == CLUSTER_EV_COMMITTED) {   /* the position a clean release records */
            uint32_t ns;
            obj_id id;
            own_ent *e = key_parse(s->reg, ev->key, &ns, &id) == 0 ? own_find(s->owners, ns, &id) : NULL;
            if (e && e->epoch == ev->epoch && ev->seq > e->seq)
                e->seq = ev->seq;
        }
        if (s->ctx) {
            JSValue a[4] = {JS_NewFloat64(s->ctx, (double)ev->ticket), JS_NewInt32(s->ctx, ev->kind),
                            JS_NewFloat64(s->ctx, (double)ev->seq), JS_NewString(s->ctx, ev->msg)};
            js_hook(s, "objClCommitted", 4, a);
        }
    } else if (ev->kind == CLUSTER_EV_ALARM) {
        route_key_event(s, ev, MSG_CL_ALARM);
    } else if (ev->kind == CLUSTER_EV_DRAIN) {
        route_key_event(s, ev, MSG_CL_DRAIN);
    } else {
        uint32_t ns;
        obj_id id;
        own_ent *e = key_parse(s->reg, ev->key, &ns, &id) == 0 ? own_find(s->owners, ns, &id)
                                                               : NULL;
        if (!e || e->state != OWN_CLAIMING) {
            if (ev->kind == CLUSTER_EV_CLAIMED)   /* nobody waits for it any more */
                cluster_release(s->port, ev->key, ev->epoch);
        } else if (ev->kind == CLUSTER_EV_CLAIMED) {
            on_claimed(s, e, ev);
        } else if (ev->kind == CLUSTER_EV_REMOTE) {
            on_remote(s, e, ev);
        } else {
            char msg[400];
            snprintf(msg, sizeof msg, "Durable Object unavailable: its node could not claim it "
                     "(%s); retry", ev->msg);
            obj_msg *m = queue_take(e);
            own_del(s->owners, e);
            for (obj_msg *n; m; m = n) {
                n = queue_next(m);
                answer_error(s, m, 1, msg);
            }
        }
    }
    if (s->ctx)
        js_rt_pump(js_rt_of(s->ctx));
}

int obj__cluster_shard_open(obj_shard *s, uv_loop_t *loop)
{
    if (obj__owners_open(s) < 0)
        return DUR_ENOMEM;
    s->port = cluster_port_open(s->reg->opts.cluster->c, loop, on_port_event, s);
    if (!s->port) {
        obj__owners_close(s);
        return DUR_ENOMEM;
    }
    return 0;
}

void obj__cluster_shard_close(obj_shard *s)
{
    if (s->port)
        cluster_port_close(s->port);
    s->port = NULL;
    obj__owners_close(s);
}

void obj__cluster_attach(obj_shard *s, JSContext *ctx)
{
    store_shard *sh = js_ctx_slot(ctx, JS_SLOT_STORAGE);
    if (sh)
        store_shard_capture(sh, true);
}

/* ---- natives (N.objCl*) ----
 * objClMode() → true in cluster mode
 * objClLeaseOk() → false once the lease is lost (the instance must reset)
 * objClOwned(ns, hex) → true while this shard owns the object
 * objClCommit(ns, hex, store, alarmMs) → ticket > 0 (answered by objClCommitted), or 0
 *   when the commit wrote nothing; throws if the frames could not be taken or the
 *   object is not owned (the caller resets it)
 * objClSnapshot(ns, hex, store, seq) → undefined
 * objClRelease(ns, hex[, path]): the instance left (evicted, drained); calls waiting
 *   go on. With the path of its file: it left quiet (closed, every commit
 *   acknowledged), and the file's position is recorded (frames_pos_write)
 * objClForget(ns, hex, path): the instance was reset by the cluster (fenced,
 *   failed): ownership is forgotten without a release and the local file removed */

static obj_shard *cl_shard(JSContext *ctx)
{
    obj_shard *s = js_ctx_slot(ctx, JS_SLOT_OBJECTS);
    if (!s || !s->owners) {
        JS_ThrowInternalError(ctx, "Durable Objects: not in cluster mode");
        return NULL;
    }
    return s;
}

static own_ent *cl_entry(JSContext *ctx, obj_shard *s, JSValueConst nsv, JSValueConst hexv)
{
    uint32_t ns;
    if (JS_ToUint32(ctx, &ns, nsv) < 0)
        return NULL;
    size_t n;
    const char *hex = JS_ToCStringLen(ctx, &n, hexv);
    if (!hex)
        return NULL;
    obj_id id;
    bool ok = n == OBJ_ID_HEX_LEN && ns < s->reg->ns_count;
    for (int i = 0; ok && i < OBJ_ID_BYTES; i++) {
        unsigned b;
        ok = sscanf(hex + 2 * i, "%2x", &b) == 1;
        id.b[i] = (uint8_t)b;
    }
    JS_FreeCString(ctx, hex);
    return ok ? own_find(s->owners, ns, &id) : NULL;
}

static JSValue js_cl_mode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = js_ctx_slot(ctx, JS_SLOT_OBJECTS);
    return JS_NewBool(ctx, s && s->owners);
}

static JSValue js_cl_lease_ok(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = cl_shard(ctx);
    if (!s)
        return JS_EXCEPTION;
    cluster *c = s->reg->opts.cluster->c;
    return JS_NewBool(ctx, cluster_lease_ok(c) && cluster_lease_gen(c) == s->owners->lease_gen);
}

static JSValue js_cl_owned(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = cl_shard(ctx);
    if (!s)
        return JS_EXCEPTION;
    own_ent *e = cl_entry(ctx, s, argv[0], argv[1]);
    return JS_NewBool(ctx, e && (e->state == OWN_OWNED || e->state == OWN_DRAINING));
}

static JSValue js_cl_commit(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = cl_shard(ctx);
    if (!s)
        return JS_EXCEPTION;
    own_ent *e = cl_entry(ctx, s, argv[0], argv[1]);
    store *st = storage_store_of(ctx, argv[2]);
    double alarm;
    if (!st || JS_ToFloat64(ctx, &alarm, argv[3]) < 0)
        return JS_EXCEPTION;
    if (!e || (e->state != OWN_OWNED && e->state != OWN_DRAINING))
        return JS_ThrowInternalError(ctx, "this node does not own the object any more");
    uint8_t *frames = NULL;
    size_t len = 0;
    err fe = {0};
    int rc = store_frames_take(st, &frames, &len, &fe);
    if (rc < 0)
        return JS_ThrowInternalError(ctx, "the commit could not be captured for replication: %s",
                                     fe.msg);
    if (rc == 0)
        return JS_NewInt32(ctx, 0);
    char key[CLUSTER_KEY_MAX];
    if (key_of(s->reg, e->ns, &e->id, key) < 0) {
        free(frames);
        return JS_ThrowInternalError(ctx, "the object's key is too long");
    }
    uint64_t t = s->owners->next_ticket++;
    /* Tests only (DURABLE_TEST_HOOKS=1): a commit that wrote this KV key fails in
     * PostgreSQL after its epoch check. */
    if (store_test_marker(st, "__durable_fail_pg_commit__"))
        cluster_commit_test_fail(s->port, key, e->epoch, t, frames, len, alarm < 0 ? -1 : (int64_t)alarm);
    else
        cluster_commit(s->port, key, e->epoch, t, frames, len, alarm < 0 ? -1 : (int64_t)alarm);
    return JS_NewFloat64(ctx, (double)t);
}

static JSValue js_cl_snapshot(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = cl_shard(ctx);
    if (!s)
        return JS_EXCEPTION;
    own_ent *e = cl_entry(ctx, s, argv[0], argv[1]);
    store *st = storage_store_of(ctx, argv[2]);
    double seq;
    if (!st || JS_ToFloat64(ctx, &seq, argv[3]) < 0)
        return JS_EXCEPTION;
    if (!e || e->state != OWN_OWNED)
        return JS_UNDEFINED;
    uint8_t *img = NULL;
    size_t len = 0;
    err se = {0};
    int rc = store_snapshot(st, &img, &len, &se);
    if (rc < 0)
        log_warn("cluster: no snapshot of a Durable Object: %s", se.msg);
    char key[CLUSTER_KEY_MAX];
    if (rc > 0 && key_of(s->reg, e->ns, &e->id, key) == 0) {
        cluster_snapshot(s->port, key, e->epoch, (int64_t)seq, img, len);
        img = NULL;
    }
    free(img);
    return JS_UNDEFINED;
}

/* The entry goes; calls that waited behind a drain are routed again (claimed). */
static void entry_end(obj_shard *s, own_ent *e, bool release)
{
    char key[CLUSTER_KEY_MAX];
    if (release && key_of(s->reg, e->ns, &e->id, key) == 0)
        cluster_release(s->port, key, e->epoch);
    obj_msg *m = queue_take(e);
    own_del(s->owners, e);
    for (obj_msg *n; m; m = n) {
        n = queue_next(m);
        if (!call_route(s, m)) {
            js_rt *rt = js_rt_of(s->ctx);
            obj__deliver(s, m);
            js_rt_want_turn(rt);
            free(m);
        }
    }
}

static JSValue js_cl_release(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = cl_shard(ctx);
    if (!s)
        return JS_EXCEPTION;
    own_ent *e = cl_entry(ctx, s, argv[0], argv[1]);
    if (e && (e->state == OWN_OWNED || e->state == OWN_DRAINING)) {
        /* With a path: the instance left quiet — its database closed, every
         * commit acknowledged — so the file is PostgreSQL's state at e->seq: a
         * position file lets the next claim keep it (frames_pos_write). */
        if (argc > 2 && JS_IsString(argv[2])) {
            const char *path = JS_ToCString(ctx, argv[2]);
            if (!path)
                return JS_EXCEPTION;
            err pe = {0};
            if (frames_pos_write(path, e->epoch, e->seq, &pe) < 0)
                log_debug("cluster: no position file: %s", pe.msg);
            JS_FreeCString(ctx, path);
        }
        entry_end(s, e, true);
    }
    return JS_UNDEFINED;
}

static JSValue js_cl_forget(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    obj_shard *s = cl_shard(ctx);
    if (!s)
        return JS_EXCEPTION;
    own_ent *e = cl_entry(ctx, s, argv[0], argv[1]);
    if (e && (e->state == OWN_OWNED || e->state == OWN_DRAINING))
        entry_end(s, e, false);
    /* What the file holds beyond PostgreSQL must never be served: the next claim
     * rebuilds it. */
    const char *path = JS_ToCString(ctx, argv[2]);
    if (!path)
        return JS_EXCEPTION;
    static const char *const sfx[] = {"-pos", "", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        char p[PATH_MAX + 100];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        if (unlink(p) < 0 && errno != ENOENT)
            log_warn("cluster: could not remove %s: %s", p, strerror(errno));
    }
    JS_FreeCString(ctx, path);
    return JS_UNDEFINED;
}

int obj__cluster_install(JSContext *ctx, JSValueConst native)
{
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("objClMode", 0, js_cl_mode),
        JS_CFUNC_DEF("objClLeaseOk", 0, js_cl_lease_ok),
        JS_CFUNC_DEF("objClOwned", 2, js_cl_owned),
        JS_CFUNC_DEF("objClCommit", 4, js_cl_commit),
        JS_CFUNC_DEF("objClSnapshot", 4, js_cl_snapshot),
        JS_CFUNC_DEF("objClRelease", 2, js_cl_release),
        JS_CFUNC_DEF("objClForget", 3, js_cl_forget),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}
