/* worker: runs HTTP requests through one Worker script on one shard
 * (spec: workers.md WRK-1..9, WRK-20..22, ENV-1..4, CTX-1..3, WRK-30..31).
 *
 * A worker owns one JSContext on the shard's js_rt: the script's module graph
 * evaluated once, its `env`, and the table of requests in flight. Both formats:
 * `export default { fetch }` (or a WorkerEntrypoint class) and
 * `addEventListener("fetch", …)` with bindings as globals.
 *
 * A request's life: worker_handle() builds the JS Request, dispatches it, pumps the
 * job queue; when the handler's promise settles the Response is written to the
 * connection. A handler that throws, rejects, returns a non-Response, runs past
 * the CPU limit or never settles within the wall limit gets a 500 (503 for the CPU
 * limit) and a log line that says why. The CPU limit counts the request's every
 * turn, its timers and its waitUntil work (one js_event per request); its timers
 * are cancelled once it has answered and its waitUntil promises have settled.
 * After an out-of-memory error the context is re-created (a warn line says so). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"
#include "js/rt.h"
#include "net/h1.h"
#include "objects/objects.h"
#include "web/web.h"

typedef struct worker worker;

/* The js_install_fn to give js_rt_new for runtimes that run workers: the web
 * platform plus the worker's natives. */
int worker_js_install(JSContext *ctx, JSValueConst native);

typedef struct worker_opts {
    const config *cfg;          /* borrowed; must outlive the worker */
    uint32_t wall_ms_max;       /* a request whose handler has not settled by then: 500;
                                   0 = the CPU limit plus 30 s */
    bool log_requests;          /* one line per request */
    int shard_index;
    const obj_registry *objects; /* Durable Object namespaces; NULL if none */
    obj_shard *obj_shard;       /* this shard's inbox; NULL if no objects */
    size_t script_index;        /* which script of a multi-script registry this is */
    bool hold_objects;          /* do not deliver to objects until worker_objects_release
                                   (a redeploy: the old version's instances go first) */
    web_cache_opts cache;       /* the Cache API's store (cache.dir NULL: none, its
                                   methods reject); entries keyed by cfg->name */
} worker_opts;

/* Creates the context, builds env, loads and evaluates the main module. On a module
 * that fails to parse or throws at load, returns NULL with *e holding the file,
 * line and message. Shard-local. */
worker *worker_new(js_rt *rt, const worker_opts *opts, err *e);
/* Frees the worker; requests still in flight are answered 503 first. */
void worker_free(worker *w);

/* Starts delivering calls to this worker's Durable Objects (after hold_objects). */
void worker_objects_release(worker *w);

/* Runs one request. The response is written to `conn` later or now. */
void worker_handle(worker *w, h1_conn *conn, const h1_request *req);
/* Requests dispatched and not yet answered. */
size_t worker_inflight(const worker *w);
/* The worker's context (for tests and the objects layer). */
JSContext *worker_context(worker *w);
