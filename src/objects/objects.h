/* objects: Durable Object namespaces, stubs, the router between shards, and the
 * instances (spec: objects.md NS-*, STUB-*, FETCH-*, RPC-*, ORDER-*, ERR-*, LIFE-*,
 * UNIQ-1; docs/architecture.md "Threads, shards and queues", "The life of a
 * stub call").
 *
 * The registry is built once from the config before the shards start and is
 * read-only afterwards: the namespaces (class, backend, key) and one inbox per
 * shard. An object lives on shard hash(id) % shard_count, in that shard's script
 * context. Every call — fetch or RPC, same shard or not — is a message: the
 * arguments serialized by the structured-clone serializer, pushed on the target
 * shard's inbox (an MPSC queue plus a uv_async wake-up). Replies come back the same
 * way. Values always cross as bytes, so every path has the same semantics, and
 * E-order falls out of FIFO inboxes. The output gate and commit state machine of
 * each instance is gate.c (gate.h). The JS half (namespaces, ids, stubs, the
 * instance table, the event queue per instance) is src/objects/js. */
#pragma once
#include <quickjs.h>
#include <stdint.h>
#include <uv.h>

#include "base/err.h"
#include "config/config.h"
#include "objects/id.h"

typedef struct obj_registry obj_registry;
typedef struct obj_shard obj_shard;
typedef struct obj_cluster obj_cluster;
struct cluster;

/* 0 in any field means its default. The queue bounds (LIM-31, ERR-4) count the
 * events that reached the object's shard and have not started yet. */
typedef struct obj_opts {
    uint32_t idle_ms;          /* evict an idle instance after this (LIFE-14) */
    uint32_t call_bytes_max;   /* one call's serialized arguments or result (RPC-11) */
    uint32_t queue_max;        /* events waiting at one object */
    uint32_t queue_bytes_max;  /* their serialized bytes */
    uint32_t queue_wait_ms;    /* the oldest one's wait, since it was sent */
    obj_cluster *cluster;      /* cluster mode (borrowed), or NULL: one node */
} obj_opts;

#define OBJ_IDLE_MS_DEFAULT 70000u
#define OBJ_CALL_BYTES_MAX (32u * 1024u * 1024u)
#define OBJ_QUEUE_MAX_DEFAULT 1000u
#define OBJ_QUEUE_BYTES_MAX_DEFAULT (32u * 1024u * 1024u)
#define OBJ_QUEUE_WAIT_MS_DEFAULT 30000u

/* Builds the namespaces from cfg (bindings and migrations) and reads the
 * deployment's id secret under persist_dir (created on first start). Main thread,
 * before shards start. */
obj_registry *obj_registry_new(const config *cfg, const char *persist_dir, int shard_count,
                               const obj_opts *opts, err *e);
/* Several scripts at once (durable serve): cfgs[s] is script s. The registry has
 * threads inboxes per script — script s's contexts use shard indexes
 * s*threads … s*threads+threads-1 (obj_shard_new) — and every namespace belongs to
 * one script, whose context runs its objects. A Durable Object binding with
 * script_name reaches the namespace of that script (CFG-11); one that names a
 * script or class not in the list is left out of env, with a warning.
 * cfgs must outlive the registry. */
obj_registry *obj_registry_new_multi(const config *const *cfgs, size_t cfg_count,
                                     const char *persist_dir, int threads, const obj_opts *opts,
                                     err *e);
void obj_registry_free(obj_registry *reg);
/* Namespaces whose objects script `script` runs, and the class of the k-th. */
size_t obj_registry_script_ns_count(const obj_registry *reg, size_t script);
const char *obj_registry_script_ns_class(const obj_registry *reg, size_t script, size_t k);
size_t obj_registry_ns_count(const obj_registry *reg);
const char *obj_registry_ns_class(const obj_registry *reg, size_t ns);

/* Cluster mode (owner.c; docs/cluster.md): the objects layer's side of a node of
 * `durable serve --cluster`. Made once on the main thread after cluster_open and
 * before the shards start; it reads the deployment's id secret from PostgreSQL
 * (registries then use it instead of durable.sqlite's) and takes the peer
 * callbacks (frames from other nodes: forwarded calls and their replies). Every
 * registry made with it in obj_opts.cluster claims an object before its first
 * event, forwards calls for objects owned elsewhere and fences commits by the
 * object's epoch. Freed after cluster_close (no callback can come any more). */
obj_cluster *obj_cluster_new(struct cluster *c, err *e);
void obj_cluster_free(obj_cluster *oc);

/* Reads the id secret from <persist_dir>/durable.sqlite, making the file and a new
 * secret if there is none. Anything in the file that durable did not write (a
 * secret of the wrong type or length, a file that is not a database, a directory)
 * is an error naming the file; so is a missing secret while objects exist. */
int obj_secret_load(const char *persist_dir, uint8_t out[OBJ_KEY_BYTES], err *e);

/* Shard side. obj_shard_new runs on the shard's thread: it starts the inbox
 * wake-up and delivers whatever was queued before. */
obj_shard *obj_shard_new(obj_registry *reg, int index, uv_loop_t *loop, err *e);
/* The context where this shard's instances live and its stubs are made: set before
 * the script loads (its natives need it). */
void obj_shard_attach(obj_shard *s, JSContext *ctx);
/* Starts delivering messages (after the script loaded), including those that
 * arrived before. */
void obj_shard_start(obj_shard *s);
/* Stops the inbox (asynchronous close; frees in the close callback). */
void obj_shard_close(obj_shard *s);

/* Allocates the layer's JSClassIDs. Main thread, before any runtime exists
 * (JS_NewClassID is not thread-safe); idempotent. */
void obj_classes_init(void);
/* The natives (installed into every worker context). */
int obj_install(JSContext *ctx, JSValueConst native);

/* Checks, after the main module loaded, that every namespace's class is exported
 * (MIG-10b). `exports` is the module namespace object. */
int obj_check_exports(const obj_registry *reg, JSContext *ctx, JSValueConst exports, err *e);
/* The same for the namespaces of script `script` of a multi-script registry. */
int obj_check_exports_script(const obj_registry *reg, size_t script, JSContext *ctx,
                             JSValueConst exports, err *e);

/* Makes the binding objects: sets env[binding] for every Durable Object binding. */
int obj_env_bind(const obj_registry *reg, JSContext *ctx, JSValueConst env, err *e);
/* The same for script `script` of a multi-script registry. */
int obj_env_bind_script(const obj_registry *reg, size_t script, JSContext *ctx, JSValueConst env,
                        err *e);
