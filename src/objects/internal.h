/* What the files of src/objects share (other layers use objects.h). */
#pragma once
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>

#include "base/mpsc.h"
#include "objects/gate.h"
#include "objects/objects.h"

/* MSG_REFCALL: a call on something passed by reference over RPC (a function or an
 * RpcTarget), addressed to the shard that exported it. */
/* MSG_WS: a WebSocket frame or event crossing between the shard that holds the
 * connection and the shard of the object that holds its server end (docs/websockets.md). */
enum { MSG_FETCH = 1, MSG_RPC = 2, MSG_REPLY = 3, MSG_REFCALL = 4, MSG_WS = 5 };
/* Cluster mode only (owner.c), never seen by JS: a reply from another node to a call
 * this shard forwarded; the connection to a node dropped (data: its id); an alarm
 * or a drain of an object, routed to its shard. */
enum { MSG_FWD_REPLY = 6, MSG_PEER_LOST = 7, MSG_CL_ALARM = 8, MSG_CL_DRAIN = 9 };
/* Cluster mode (relay.c): the WebSocket relays with these handles (data: int32s)
 * ended, their node or connection is gone. */
enum { MSG_RELAY_LOST = 10 };
/* Addresses <= OBJ_RELAY_BASE are relay handles (relay.c): an end of a WebSocket
 * on another node. Origin slots (owner.c) are -2 down to above it. */
#define OBJ_RELAY_BASE (-(1 << 24))
/* obj_msg.status of a call that another node forwarded here. */
#define OBJ_MSG_FORWARDED 1

typedef struct obj_msg {
    mpsc_node node;
    uint8_t kind;
    uint8_t status;            /* replies: 0 ok, 1 error thrown by the object, 2 reset */
    uint32_t ns;
    int32_t from_shard;        /* <= -2: another node's caller (owner.c origin slot) */
    double call_id;
    uint64_t sent_ns;          /* calls: uv_hrtime() when sent (LIM-31 queue time) */
    obj_id id;
    size_t len;
    uint8_t data[];
} obj_msg;

typedef struct obj_ns {
    char *class_name;
    char *identity;            /* fixed when the namespace was created; survives renames */
    int backend;               /* 1 KV, 2 SQLite */
    size_t script;             /* the config (script) whose code runs its objects */
    uint8_t key[OBJ_KEY_BYTES];
} obj_ns;

typedef struct obj_deleted {
    char *tag;                 /* the migration that deleted the class */
    char *identity;
} obj_deleted;

typedef struct inbox {
    mpsc q;
    _Atomic(uv_async_t *) wake;   /* NULL until the shard has started */
} inbox;

struct obj_registry {
    const config *cfg;         /* cfgs[0] */
    const config *const *cfgs; /* one per script (durable serve runs several) */
    const config *cfg_one[1];  /* cfgs of a one-script registry points here */
    size_t cfg_count;
    obj_opts opts;
    int threads;               /* shard threads; script s owns the inboxes s*threads … */
    bool lenient;              /* multi-script: bindings are resolved in obj_env_bind_script */
    int shard_count;           /* inboxes: threads * cfg_count */
    obj_ns *ns;
    size_t ns_count;
    obj_deleted *deleted;      /* classes deleted by migrations, in order */
    size_t deleted_count;
    inbox *inboxes;
    char *persist_dir;
    uint8_t secret[OBJ_KEY_BYTES];
    uint32_t serial;           /* cluster mode: names this registry in frames (owner.c) */
};

typedef struct obj_owners obj_owners;
struct cluster_port;

struct obj_shard {
    obj_registry *reg;
    int index;
    uv_async_t async;
    JSContext *ctx;            /* set by obj_shard_start: messages are delivered into it */
    JSContext *pending_ctx;    /* set by obj_shard_attach */
    sqlite3 *meta;             /* this shard's connection to durable.sqlite (alarm index) */
    obj_gates *gates;          /* the output gates of this shard's instances (gate.c) */
    obj_owners *owners;        /* cluster mode: who owns the objects seen here (owner.c) */
    struct cluster_port *port; /* cluster mode: this shard's answers from the cluster */
};

/* router.c: a message with `payload` serialized (header zeroed), or NULL with a JS
 * exception; and the push onto a shard's inbox (takes ownership). */
obj_msg *obj__msg_new(JSContext *ctx, obj_shard *s, JSValueConst payload);
void obj__msg_push(obj_registry *r, int shard, obj_msg *m);

/* router.c: hands one message to the JS half (the caller brackets it as an event). */
void obj__deliver(obj_shard *s, obj_msg *m);

/* owner.c: cluster mode (see its header comment). */
const uint8_t *obj__cluster_secret(const obj_cluster *oc);
int obj__cluster_reg_add(obj_cluster *oc, obj_registry *r);
void obj__cluster_reg_remove(obj_cluster *oc, obj_registry *r);
/* Takes m (true) or leaves it to be delivered as on one node (false). */
bool obj__cluster_route(obj_shard *s, obj_msg *m);
/* A reply to a caller on another node (to <= -2); takes m. Any thread. */
void obj__cluster_reply(obj_registry *r, int to, obj_msg *m);
int obj__cluster_shard_open(obj_shard *s, uv_loop_t *loop);
void obj__cluster_shard_close(obj_shard *s);
void obj__cluster_attach(obj_shard *s, JSContext *ctx);
int obj__cluster_install(JSContext *ctx, JSValueConst native);
/* owner.c, for relay.c: the relay table, the cluster, a message to shard `shard` of
 * registry `serial` (takes m; dropped if that registry is gone), one message of
 * `kind` with `data` to every shard of every registry, and the connection an origin
 * slot names (false if none). Any thread. */
typedef struct obj_relay obj_relay;
obj_relay *obj__cluster_relay(obj_cluster *oc);
struct cluster *obj__cluster_c(obj_cluster *oc);
void obj__cluster_push(obj_cluster *oc, uint32_t serial, int32_t shard, obj_msg *m);
void obj__cluster_push_all(obj_cluster *oc, uint8_t kind, const void *data, size_t len);
bool obj__cluster_origin_conn(obj_cluster *oc, int32_t slot, uint64_t *conn);

/* relay.c: WebSockets through a forwarded fetch (see its header comment). */
obj_relay *obj__relay_new(void);
void obj__relay_free(obj_relay *rl);
/* A MSG_WS message to relay handle h (takes m). Any thread. */
void obj__relay_send(obj_registry *r, int32_t h, obj_msg *m);
/* A 'W' frame from connection conn (peer thread). */
void obj__relay_frame(obj_cluster *oc, uint64_t conn, const uint8_t *b, size_t len);
/* The node handle of `node` (a forwarded reply's from_shard), or -1. */
int32_t obj__relay_node_handle(obj_cluster *oc, const char *node, const char *addr);
void obj__relay_node_lost(obj_cluster *oc, const char *node);
void obj__relay_conn_closed(obj_cluster *oc, uint64_t conn);
/* MSG_RELAY_LOST on shard s (takes m). */
void obj__relay_lost_deliver(obj_shard *s, obj_msg *m);
int obj__relay_install(JSContext *ctx, JSValueConst native);

/* "<ns dir>/<2 hex>/<hex>.sqlite": where object hex of namespace ns keeps its data. */
int obj__store_path(const obj_registry *r, uint32_t ns, const char *hex, char *out, size_t cap);

/* gate.c: the shard's gates (obj_shard_new), the class id (obj_classes_init), the
 * N.gate* natives (obj_install). */
int obj__gates_open(obj_shard *s);
void obj__gate_classes_init(void);
int obj__gate_install(JSContext *ctx, JSValueConst native);

/* persist.c: the folder of a namespace's objects, migrations applied to data, the
 * alarm index. */
/* obj_secret_load: objects.h (api/objects_io.c checks object ids with it). */
/* Checks durable.sqlite (refusing a damaged or altered file) and applies the
 * migrations' effect on stored data. Main thread, before shards start. */
int obj_persist_init(obj_registry *r, err *e);
/* "<persist>/objects/<32 hex of SHA-256(identity)>" into out. */
int obj_ns_dir(const obj_registry *r, const char *identity, char *out, size_t cap);
int obj_persist_install(JSContext *ctx, JSValueConst native);
void obj_persist_shard_close(obj_shard *s);
int obj_shard_of_hex(const obj_registry *r, const char *hex);   /* thread: hash % threads */
/* The inbox of object `hex` of namespace ns (its script's block), or -1. */
int obj_registry_shard_of(const obj_registry *r, size_t ns, const char *hex);
