/* server.c: shards and their life (see server.h; docs/architecture.md "Threads,
 * shards and queues").
 *
 * What is served is a world: the scripts (one for durable dev, every deployed one
 * for durable serve), one objects registry for all of them, and the default
 * script for a Host that names none. Each shard has a tenant per script (its own
 * JS runtime, objects inbox and Worker). server_request_reload builds a new world
 * on the main thread and hands it to every shard, which swaps it in as the
 * current one (new requests) and retires the old one: the old world closes on a
 * shard once every shard has moved on and none has its requests in flight (or
 * after the grace period), and the new world's objects start on a shard only
 * after the old world's runtimes there are freed (their databases closed), so an
 * id never has two live instances. After deploys back to back a shard holds a
 * chain of worlds; the oldest one left runs its objects, retired or not.
 *
 * Start: the main thread checks that the port is free (a probe bind without
 * SO_REUSEPORT) and locks the persist folder for the life of the process; then the
 * shards bind the port with SO_REUSEPORT one after another (with `--port 0`, shard
 * 0 binds port 0 and the others the port it got); each reports its start through
 * a semaphore, and the first failure stops the start. Stop: the main thread turns
 * SIGINT/SIGTERM into a uv_async wake-up per shard; a shard stops accepting, waits
 * for its in-flight requests (at most shutdown_grace_ms), answers the rest 503 and
 * closes everything. A shard that is stuck (in JavaScript, or in SQLite) never
 * looks at its stop message, so the main thread watches: past the grace period it
 * raises the shard's stop flag (every run of JS on it is interrupted; the storage
 * layer may poll js_rt_stop_requested), and if the shard has still not stopped
 * STOP_FORCE_MS later the process exits anyway, with a log line (exit code 1).
 * The only state shared across threads is written before the threads start,
 * passed through the semaphore and async handles, or atomic (stop_at_ns,
 * interrupt, done). */
#include "cli/server.h"

#include <sys/resource.h>

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/metrics.h"
#include "storage/natives.h"
#include "js/rt.h"
#include "objects/objects.h"
#include "worker/worker.h"

#define SHARDS_MAX 256
#define SHARD_STACK_BYTES JS_THREAD_STACK_BYTES   /* js/rt.h: what the JS stack limit assumes */
/* After the grace period: how long an interrupted shard has to stop, then we exit. */
#define STOP_INTERRUPT_AFTER_MS 1000u
#define STOP_FORCE_MS 3000u

/* What is served: the scripts, their objects' registry, and which script a Host
 * that names none goes to. Built on the main thread; every shard builds its own
 * tenants of it; the last shard that lets go of it frees it. */
typedef struct world {
    config *cfgs;              /* owned (reload), or NULL: cfg_ptrs[0] is opts->cfg */
    const config **cfg_ptrs;
    char **roots;              /* each script's module folder */
    size_t count;
    int def;                   /* -1: none */
    char *why_none;            /* 503 text when no script answers */
    obj_registry *reg;         /* NULL when count is 0 */
    int threads;
    _Atomic int refs;          /* shards that still hold it (or its pending swap) */
    _Atomic int left;          /* shards whose new requests go to a newer world */
    _Atomic int64_t *inflight; /* [threads]: its requests still running per shard; -1 unknown */
} world;

/* One script's version on one shard: its runtime, its objects' inbox, its Worker. */
typedef struct tenant {
    js_rt *rt;
    obj_shard *obj;
    worker *worker;
    char *load_error;          /* the Worker failed to load: its requests get 503 */
} tenant;

/* A shard's tenants of one world; older ones drain after a swap. */
typedef struct shard_world {
    world *w;
    tenant *t;                 /* [w->count] */
    uint64_t deadline_ns;      /* retired: closed by then at the latest */
    struct shard_world *next;
} shard_world;

typedef struct shard {
    int index;
    const server_opts *opts;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop_async;
    uv_async_t swap_async;
    uv_timer_t drain_timer;
    uv_timer_t retire_timer;
    uint64_t drain_deadline_ns;
    uv_sem_t started;          /* posted once the shard is serving or failed */
    int port;                  /* in: port to bind; out: port bound */
    int start_rc;
    err start_err;
    world *first;              /* in: the world to start with */
    _Atomic(world *) pending;  /* a world to swap in (server_request_reload) */
    shard_world *cur;          /* new requests go here */
    shard_world *retired;      /* older worlds, draining */
    js_rt **rt_free;           /* runtimes of closed tenants, freed at the next tick */
    size_t rt_free_count;
    h1_server *server;
    bool stopping;
    _Atomic uint64_t stop_at_ns; /* when the signal came (uv_hrtime); set before stop_async */
    _Atomic bool interrupt;      /* the main thread gave up waiting: interrupt all JS */
    _Atomic bool done;           /* shard_main has returned */
} shard;

/* ---- worlds ---- */

static void world_free(world *w)
{
    if (!w)
        return;
    obj_registry_free(w->reg);
    for (size_t i = 0; w->cfgs && i < w->count; i++)
        config_fini(&w->cfgs[i]);
    free(w->cfgs);
    for (size_t i = 0; w->roots && i < w->count; i++)
        free(w->roots[i]);
    free(w->roots);
    free(w->cfg_ptrs);
    free(w->why_none);
    free((void *)w->inflight);
    free(w);
}

static void world_release(world *w)
{
    if (w && atomic_fetch_sub(&w->refs, 1) == 1)
        world_free(w);
}

static void project_root(const config *c, char *out, size_t cap);

/* Takes over sc (its configs are freed with the world, also on failure). */
static world *world_new(const server_opts *o, server_scripts *sc, const config *one, int threads,
                        err *e)
{
    world *w = calloc(1, sizeof *w);
    size_t n = one ? 1 : sc->count;
    if (!w) {
        err_setf(e, DUR_ENOMEM, "out of memory");
        goto fail_sc;
    }
    w->count = n;
    w->threads = threads;
    w->def = one ? 0 : sc->def;
    if (!one) {
        w->cfgs = sc->cfgs;
        w->why_none = sc->why_none;
        sc->cfgs = NULL;
        sc->why_none = NULL;
    }
    w->cfg_ptrs = calloc(n + 1, sizeof *w->cfg_ptrs);
    w->roots = calloc(n + 1, sizeof *w->roots);
    w->inflight = calloc((size_t)threads, sizeof *w->inflight);
    if (!w->cfg_ptrs || !w->roots || !w->inflight) {
        world_free(w);
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    for (int i = 0; i < threads; i++)
        atomic_store(&w->inflight[i], -1);
    atomic_store(&w->refs, threads);
    for (size_t i = 0; i < n; i++) {
        w->cfg_ptrs[i] = one ? one : &w->cfgs[i];
        char root[PATH_MAX];
        project_root(w->cfg_ptrs[i], root, sizeof root);
        w->roots[i] = strdup(root);
        if (!w->roots[i]) {
            world_free(w);
            err_setf(e, DUR_ENOMEM, "out of memory");
            return NULL;
        }
    }
    if (n) {
        obj_opts oo = {.idle_ms = o->idle_ms, .cluster = o->cluster};
        /* One script (durable dev) is checked strictly: a binding to another script
         * or a class without a namespace stops the start. */
        w->reg = one ? obj_registry_new(one, o->persist_dir, threads, &oo, e)
                     : obj_registry_new_multi(w->cfg_ptrs, n, o->persist_dir, threads, &oo, e);
        if (!w->reg) {
            world_free(w);
            return NULL;
        }
    }
    return w;
fail_sc:
    for (size_t i = 0; sc && sc->cfgs && i < sc->count; i++)
        config_fini(&sc->cfgs[i]);
    if (sc) {
        free(sc->cfgs);
        free(sc->why_none);
        sc->cfgs = NULL;
        sc->why_none = NULL;
    }
    return NULL;
}

/* The script a request goes to: the first label of Host names it (as
 * <script>.workers.dev does), else the default; -1 none. */
static int world_route(const world *w, const char *host)
{
    if (host && w->count > 1) {
        size_t len = strcspn(host, ".:");
        for (size_t i = 0; i < w->count; i++) {
            const char *name = w->cfg_ptrs[i]->name;
            if (strlen(name) == len && strncasecmp(name, host, len) == 0)
                return (int)i;
        }
    }
    if (w->count == 1 && w->def < 0 && host) {
        size_t len = strcspn(host, ".:");
        const char *name = w->cfg_ptrs[0]->name;
        if (strlen(name) == len && strncasecmp(name, host, len) == 0)
            return 0;
    }
    return w->def;
}

/* ---- a shard's tenants ---- */

static void tenant_close(shard *s, tenant *t)
{
    /* The worker first: it answers what is still in flight with 503 while the
     * connections still exist, and releases every JS timer handle. */
    worker_free(t->worker);
    t->worker = NULL;
    obj_shard_close(t->obj);
    t->obj = NULL;
    free(t->load_error);
    t->load_error = NULL;
    if (t->rt) {
        /* Handles of the runtime's timers close asynchronously: free it later. */
        js_rt **n = realloc(s->rt_free, (s->rt_free_count + 1) * sizeof *n);
        if (n) {
            s->rt_free = n;
            s->rt_free[s->rt_free_count++] = t->rt;
        }
        t->rt = NULL;
    }
}

static void rt_free_pending(shard *s)
{
    for (size_t i = 0; i < s->rt_free_count; i++)
        js_rt_free(s->rt_free[i]);
    free(s->rt_free);
    s->rt_free = NULL;
    s->rt_free_count = 0;
}

static void shard_world_close(shard *s, shard_world *sw)
{
    if (!sw)
        return;
    for (size_t i = 0; i < sw->w->count; i++)
        tenant_close(s, &sw->t[i]);
    free(sw->t);
    world_release(sw->w);
    free(sw);
}

/* Builds this shard's tenant of script i. A Worker that fails to load is fatal at
 * the start of a one-script server (durable dev); otherwise its requests get 503
 * with the reason until the next deploy. */
static int tenant_open(shard *s, world *w, size_t i, tenant *t, bool hold, err *e)
{
    const server_opts *o = s->opts;
    js_rt_opts ro = {
        .memory_bytes_max = o->memory_bytes_max,
        .cpu_ms_max = o->cpu_ms_max,
        .install = worker_js_install,
        .module_root = w->roots[i],
    };
    t->rt = js_rt_new(&s->loop, &ro, e);
    if (!t->rt)
        return -1;
    js_rt_set_stop_flag(t->rt, &s->interrupt);
    t->obj = obj_shard_new(w->reg, (int)i * w->threads + s->index, &s->loop, e);
    if (!t->obj)
        return -1;
    worker_opts wo = {
        .cfg = w->cfg_ptrs[i],
        .wall_ms_max = o->wall_ms_max,
        .log_requests = o->log_requests,
        .shard_index = s->index,
        .objects = w->reg,
        .obj_shard = t->obj,
        .script_index = i,
        .hold_objects = hold,
        .cache = {o->persist_dir, o->cache_object_bytes_max, o->cache_bytes_max},
    };
    t->worker = worker_new(t->rt, &wo, e);
    if (!t->worker)
        return -1;
    /* The module graph is what the Worker loaded: import() at request time reaches
     * nothing else (js/loader.c). */
    js_rt_modules_seal(t->rt);
    return 0;
}

static shard_world *shard_world_open(shard *s, world *w, bool hold, err *e)
{
    shard_world *sw = calloc(1, sizeof *sw);
    tenant *t = calloc(w->count + 1, sizeof *t);
    if (!sw || !t) {
        free(sw);
        free(t);
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    sw->w = w;
    sw->t = t;
    for (size_t i = 0; i < w->count; i++) {
        err te = {0};
        if (tenant_open(s, w, i, &t[i], hold, &te) == 0)
            continue;
        if (!s->opts->reload) {
            *e = te;
            for (size_t k = 0; k <= i; k++)
                tenant_close(s, &t[k]);
            free(t);
            free(sw);
            return NULL;
        }
        if (s->index == 0)
            log_error("script '%s' failed to load: %s", w->cfg_ptrs[i]->name, te.msg);
        worker_free(t[i].worker);
        t[i].worker = NULL;
        char msg[sizeof te.msg + 96];
        snprintf(msg, sizeof msg, "the deployed Worker '%s' failed to start: %s",
                 w->cfg_ptrs[i]->name, te.msg);
        t[i].load_error = strdup(msg);
    }
    return sw;
}

static size_t shard_world_inflight(const shard_world *sw)
{
    size_t n = 0;
    for (size_t i = 0; i < sw->w->count; i++)
        if (sw->t[i].worker)
            n += worker_inflight(sw->t[i].worker);
    return n;
}

/* ---- requests ---- */

static void respond_json_error(h1_conn *conn, int status, const char *msg)
{
    buf b;
    buf_init(&b, 16384);
    buf_append(&b, "{\"error\":\"", 10);
    for (const char *p = msg; *p && b.len < 8000; p++) {
        if (*p == '"' || *p == '\\')
            buf_printf(&b, "\\%c", *p);
        else if ((unsigned char)*p < 0x20)
            buf_printf(&b, "\\u%04x", (unsigned char)*p);
        else
            buf_append(&b, p, 1);
    }
    buf_append(&b, "\"}\n", 3);
    h1_header hdr = {"content-type", 12, "application/json", 16};
    h1_conn_respond(conn, status, &hdr, 1, b.ptr ? (const char *)b.ptr : "", b.len);
    buf_fini(&b);
}

static void on_request(h1_conn *conn, const h1_request *req, void *ud)
{
    shard *s = ud;
    world *w = s->cur->w;
    int k = world_route(w, req->host);
    if (k < 0) {
        char msg[700];
        if (w->count == 0)
            snprintf(msg, sizeof msg, "no Worker is deployed on this server yet: upload one "
                     "through the REST API (docs/api.md)");
        else
            snprintf(msg, sizeof msg, "no Worker is deployed for host '%.200s': the first label "
                     "of Host names the script (<script>.example.com)%s%s",
                     req->host ? req->host : "", w->why_none ? "; " : "",
                     w->why_none ? w->why_none : "");
        respond_json_error(conn, w->count == 0 ? 503 : 404, msg);
        return;
    }
    tenant *t = &s->cur->t[k];
    if (!t->worker) {
        respond_json_error(conn, 503, t->load_error ? t->load_error : "the Worker is not loaded");
        return;
    }
    worker_handle(t->worker, conn, req);
}

/* ---- swaps ---- */

/* Every 10 ms while older worlds drain: a world is closed on this shard once every
 * shard has moved on from it and none has a request of it in flight (or its grace
 * period is over); when none is left, the current world's objects start. */
static void on_retire_tick(uv_timer_t *h)
{
    shard *s = h->data;
    rt_free_pending(s);
    uint64_t now = uv_hrtime();
    for (shard_world **pp = &s->retired; *pp;) {
        shard_world *sw = *pp;
        world *w = sw->w;
        atomic_store(&w->inflight[s->index], (int64_t)shard_world_inflight(sw));
        bool idle = atomic_load(&w->left) == w->threads;
        for (int i = 0; idle && i < w->threads; i++)
            idle = atomic_load(&w->inflight[i]) == 0;
        if (idle || now >= sw->deadline_ns) {
            if (!idle)
                log_warn("shard %d: the previous version still had requests in flight after "
                         "%u ms; closing it", s->index, s->opts->shutdown_grace_ms);
            *pp = sw->next;
            shard_world_close(s, sw);
            continue;
        }
        pp = &sw->next;
    }
    /* The closed runtimes go at the next tick (their handles close meanwhile), and
     * only then do their objects' databases close: a newer version's objects wait
     * for that. The oldest world left on this shard runs its objects, whether it
     * is the current one or was retired before they started (deploys back to
     * back): its requests in flight wait for them, and would otherwise only end
     * with its grace period's 503. The newer worlds' objects wait their turn. */
    if (s->rt_free_count)
        return;
    shard_world *oldest = s->cur;
    for (shard_world *sw = s->retired; sw; sw = sw->next)
        oldest = sw;   /* the list is newest first */
    for (size_t i = 0; oldest && i < oldest->w->count; i++)
        if (oldest->t[i].worker)
            worker_objects_release(oldest->t[i].worker);
    if (!s->retired)
        uv_timer_stop(&s->retire_timer);
}

static void on_swap(uv_async_t *a)
{
    shard *s = a->data;
    world *w = atomic_exchange(&s->pending, NULL);
    if (!w)
        return;
    if (s->stopping) {
        world_release(w);
        return;
    }
    err e = {0};
    shard_world *sw = shard_world_open(s, w, true, &e);
    if (!sw) {
        log_error("shard %d: the new version could not be set up: %s", s->index, e.msg);
        world_release(w);
        return;
    }
    shard_world *old = s->cur;
    s->cur = sw;
    old->deadline_ns = uv_hrtime() + (uint64_t)s->opts->shutdown_grace_ms * 1000000u;
    old->next = s->retired;
    s->retired = old;
    atomic_store(&old->w->inflight[s->index], (int64_t)shard_world_inflight(old));
    if (atomic_fetch_add(&old->w->left, 1) + 1 == old->w->threads)
        log_info("deploy: every shard serves the new version");
    uv_timer_start(&s->retire_timer, on_retire_tick, 0, 10);
}

/* ---- stopping ---- */

static void close_walk_cb(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_server_closed(void *arg)
{
    shard *s = arg;
    s->server = NULL;
    uv_close((uv_handle_t *)&s->stop_async, NULL);
    uv_close((uv_handle_t *)&s->swap_async, NULL);
    uv_close((uv_handle_t *)&s->drain_timer, NULL);
    uv_close((uv_handle_t *)&s->retire_timer, NULL);
}

static void close_worlds(shard *s)
{
    while (s->retired) {
        shard_world *sw = s->retired;
        s->retired = sw->next;
        shard_world_close(s, sw);
    }
    shard_world_close(s, s->cur);
    s->cur = NULL;
    world_release(atomic_exchange(&s->pending, NULL));
}

static void finish_stop(shard *s)
{
    uv_timer_stop(&s->drain_timer);
    uv_timer_stop(&s->retire_timer);
    close_worlds(s);
    h1_server_close(s->server, on_server_closed, s);
}

static void on_drain_tick(uv_timer_t *t)
{
    shard *s = t->data;
    if (h1_server_inflight(s->server) == 0 || uv_hrtime() >= s->drain_deadline_ns)
        finish_stop(s);
}

static void on_stop(uv_async_t *a)
{
    shard *s = a->data;
    if (s->stopping)
        return;
    s->stopping = true;
    h1_server_stop_accepting(s->server);
    /* The grace period runs from the signal, not from when a busy shard got here. */
    uint64_t at = atomic_load(&s->stop_at_ns);
    s->drain_deadline_ns = (at ? at : uv_hrtime()) + (uint64_t)s->opts->shutdown_grace_ms * 1000000u;
    uv_timer_start(&s->drain_timer, on_drain_tick, 0, 10);
}

static int shard_setup(shard *s)
{
    const server_opts *o = s->opts;
    world *w = s->first;
    s->first = NULL;
    s->cur = shard_world_open(s, w, false, &s->start_err);
    if (!s->cur) {
        world_release(w);
        return -1;
    }
    if (h1_server_open(&s->loop, o->ip, s->port, &o->limits, on_request, s, &s->server,
                       &s->start_err) < 0)
        return -1;
    s->port = h1_server_port(s->server);
    return 0;
}

static void shard_main(void *arg)
{
    shard *s = arg;
    metrics_bind_shard(s->index);
    if (uv_loop_init(&s->loop) != 0) {
        s->start_rc = err_setf(&s->start_err, DUR_ENOMEM, "shard %d: could not create its loop",
                               s->index);
        uv_sem_post(&s->started);
        return;
    }
    uv_async_init(&s->loop, &s->stop_async, on_stop);
    s->stop_async.data = s;
    uv_async_init(&s->loop, &s->swap_async, on_swap);
    s->swap_async.data = s;
    uv_timer_init(&s->loop, &s->drain_timer);
    s->drain_timer.data = s;
    uv_timer_init(&s->loop, &s->retire_timer);
    s->retire_timer.data = s;
    s->start_rc = shard_setup(s);
    if (s->start_rc < 0) {
        close_worlds(s);
        if (s->server)
            h1_server_close(s->server, NULL, NULL);
        s->server = NULL;
        uv_close((uv_handle_t *)&s->stop_async, NULL);
        uv_close((uv_handle_t *)&s->swap_async, NULL);
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
        uv_close((uv_handle_t *)&s->retire_timer, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        rt_free_pending(s);
        uv_loop_close(&s->loop);
        atomic_store(&s->done, true);
        uv_sem_post(&s->started);
        return;
    }
    uv_sem_post(&s->started);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    /* Anything still open (should be nothing) is closed so the loop can be freed. */
    uv_walk(&s->loop, close_walk_cb, NULL);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    rt_free_pending(s);
    if (uv_loop_close(&s->loop) != 0)
        log_warn("shard %d: its loop still had handles at exit", s->index);
    atomic_store(&s->done, true);
}

/* ---- main thread: signals ---- */

typedef struct stopper {
    shard *shards;
    int count;
    uv_signal_t *signals[2];
    uv_timer_t watchdog;
    uint64_t interrupt_at_ns, force_at_ns;
    bool interrupted;
    uv_async_t *request;       /* server_request_stop's / _reload's wake-up */
    bool requested;            /* stopping because of it, not a signal */
    const server_opts *opts;
    uv_timer_t reload_timer;   /* retries a reload while a shard has not taken the last */
    bool reload_timer_on;
} stopper;

/* The running server's stop request handle, for server_request_stop from other
 * threads; the mutex keeps a send from meeting the handle's close. */
static uv_mutex_t request_mu;
static uv_once_t request_once = UV_ONCE_INIT;
static uv_async_t *request_async;
static _Atomic bool want_stop, want_reload;

static void request_mu_init(void)
{
    uv_mutex_init(&request_mu);
}

bool server_request_stop(void)
{
    uv_once(&request_once, request_mu_init);
    uv_mutex_lock(&request_mu);
    bool ok = request_async != NULL;
    if (ok) {
        atomic_store(&want_stop, true);
        uv_async_send(request_async);
    }
    uv_mutex_unlock(&request_mu);
    return ok;
}

bool server_request_reload(void)
{
    uv_once(&request_once, request_mu_init);
    uv_mutex_lock(&request_mu);
    bool ok = request_async != NULL;
    if (ok) {
        atomic_store(&want_reload, true);
        uv_async_send(request_async);
    }
    uv_mutex_unlock(&request_mu);
    return ok;
}

static void request_close(stopper *st)
{
    if (!st->request || uv_is_closing((uv_handle_t *)st->request))
        return;
    uv_mutex_lock(&request_mu);
    request_async = NULL;
    uv_mutex_unlock(&request_mu);
    uv_close((uv_handle_t *)st->request, NULL);
}

/* Every 100 ms after the signal: done when every shard has stopped; past the grace
 * period, stuck shards are interrupted, and later abandoned. */
static void on_watchdog(uv_timer_t *t)
{
    stopper *st = t->data;
    uint64_t now = uv_hrtime();
    int running = 0;
    for (int i = 0; i < st->count; i++)
        running += !atomic_load(&st->shards[i].done);
    if (running == 0) {
        uv_close((uv_handle_t *)t, NULL);
        uv_close((uv_handle_t *)&st->reload_timer, NULL);
        request_close(st);
        return;
    }
    if (!st->interrupted && now >= st->interrupt_at_ns) {
        st->interrupted = true;
        for (int i = 0; i < st->count; i++)
            if (!atomic_load(&st->shards[i].done)) {
                log_warn("shard %d has not stopped within the grace period; interrupting its "
                         "JavaScript", i);
                atomic_store(&st->shards[i].interrupt, true);
            }
    }
    if (now >= st->force_at_ns) {
        for (int i = 0; i < st->count; i++)
            if (!atomic_load(&st->shards[i].done))
                log_error("shard %d is stuck and did not stop; exiting without it", i);
        fflush(stdout);
        fflush(stderr);
        _exit(1);
    }
}

/* The first SIGINT/SIGTERM asks every shard to stop; both signal handles are then
 * closed, which restores the default action, so a second signal ends the process
 * at once without waiting for in-flight requests. */
static void stop_all(stopper *st)
{
    uint64_t now = uv_hrtime();
    for (int i = 0; i < st->count; i++) {
        atomic_store(&st->shards[i].stop_at_ns, now);
        uv_async_send(&st->shards[i].stop_async);
    }
    for (int i = 0; i < 2; i++)
        if (!uv_is_closing((uv_handle_t *)st->signals[i]))
            uv_close((uv_handle_t *)st->signals[i], NULL);
    uint64_t grace_ns = (uint64_t)st->shards[0].opts->shutdown_grace_ms * 1000000u;
    st->interrupt_at_ns = now + grace_ns + (uint64_t)STOP_INTERRUPT_AFTER_MS * 1000000u;
    st->force_at_ns = st->interrupt_at_ns + (uint64_t)STOP_FORCE_MS * 1000000u;
    uv_timer_start(&st->watchdog, on_watchdog, 100, 100);
}

static void on_signal(uv_signal_t *h, int signum)
{
    stopper *st = h->data;
    log_info("%s, stopping: finishing in-flight requests", signum == SIGINT ? "SIGINT" : "SIGTERM");
    st->requested = false;
    stop_all(st);
}

static void print_scripts(const world *w)
{
    if (w->count == 0) {
        printf("serving: no Worker is deployed yet\n");
    } else {
        printf("serving %zu Worker%s by Host (<script>.<any domain>):", w->count,
               w->count == 1 ? "" : "s");
        for (size_t i = 0; i < w->count; i++)
            printf(" %s%s", w->cfg_ptrs[i]->name, (int)i == w->def ? " (default)" : "");
        printf("\n");
    }
    fflush(stdout);
}

static void on_reload_timer(uv_timer_t *t);

/* The main thread: asks opts->reload for what to serve and hands the new world to
 * every shard. A shard that has not taken the previous one yet makes it wait. */
static void do_reload(stopper *st)
{
    for (int i = 0; i < st->count; i++)
        if (atomic_load(&st->shards[i].pending)) {
            if (!st->reload_timer_on) {
                st->reload_timer_on = true;
                uv_timer_start(&st->reload_timer, on_reload_timer, 20, 0);
            }
            return;
        }
    atomic_store(&want_reload, false);
    const server_opts *o = st->opts;
    server_scripts sc = {0};
    err e = {0};
    if (o->reload(o->reload_ud, &sc, &e) < 0) {
        log_error("cannot load what was deployed (the current version keeps serving): %s", e.msg);
        return;
    }
    world *w = world_new(o, &sc, NULL, st->count, &e);
    if (!w) {
        log_error("cannot set up what was deployed (the current version keeps serving): %s",
                  e.msg);
        return;
    }
    log_info("deploy: swapping in the new version");
    print_scripts(w);
    for (int i = 0; i < st->count; i++) {
        atomic_store(&st->shards[i].pending, w);
        uv_async_send(&st->shards[i].swap_async);
    }
}

static void on_reload_timer(uv_timer_t *t)
{
    stopper *st = t->data;
    st->reload_timer_on = false;
    if (atomic_load(&want_reload) && !uv_is_closing((uv_handle_t *)st->signals[0]))
        do_reload(st);
}

static void on_stop_request(uv_async_t *a)
{
    stopper *st = a->data;
    if (atomic_exchange(&want_reload, false)) {
        atomic_store(&want_reload, true);
        if (st->opts->reload && !uv_is_closing((uv_handle_t *)st->signals[0]))
            do_reload(st);
    }
    if (!atomic_exchange(&want_stop, false))
        return;
    if (st->requested || uv_is_closing((uv_handle_t *)st->signals[0]))
        return;   /* already stopping */
    log_info("restarting the shards: finishing in-flight requests");
    st->requested = true;
    stop_all(st);
}

static int start_shard(shard *s)
{
    uv_thread_options_t to = {.flags = UV_THREAD_HAS_STACK_SIZE, .stack_size = SHARD_STACK_BYTES};
    if (uv_sem_init(&s->started, 0) != 0)
        return err_setf(&s->start_err, DUR_ENOMEM, "could not create a semaphore");
    if (uv_thread_create_ex(&s->thread, &to, shard_main, s) != 0) {
        uv_sem_destroy(&s->started);
        return err_setf(&s->start_err, DUR_ENOMEM, "could not start shard thread %d", s->index);
    }
    uv_sem_wait(&s->started);
    uv_sem_destroy(&s->started);
    return s->start_rc;
}

static void print_banner(const server_opts *o, const world *w, int port, int threads)
{
    const config *c = o->cfg;
    const char *ip = o->ip;
    bool v6 = strchr(ip, ':') != NULL;
    if (!c) {
        printf("%s%s%s: %d shard%s; ", C_BOLD, o->banner_name, C_RESET, threads,
               threads == 1 ? "" : "s");
        print_scripts(w);
        printf("Ready on %shttp://%s%s%s:%d%s\n", C_GREEN, v6 ? "[" : "", ip, v6 ? "]" : "",
               port, C_RESET);
        fflush(stdout);
        return;
    }
    printf("%s%s%s: serving %s%s%s (%s) with %d shard%s\n", C_BOLD, o->banner_name, C_RESET,
           C_CYAN, c->name, C_RESET, c->main, threads, threads == 1 ? "" : "s");
    if (c->do_bindings_count || c->vars_count) {
        printf("Your worker has access to the following bindings:\n");
        for (size_t i = 0; i < c->do_bindings_count; i++)
            printf("  env.%s (Durable Object namespace: %s)\n", c->do_bindings[i].name,
                   c->do_bindings[i].class_name);
        for (size_t i = 0; i < c->vars_count; i++) {
            bool secret = c->var_is_secret && c->var_is_secret[i];
            printf("  env.%s (%s): %s\n", c->vars[i].name, secret ? "secret" : "var",
                   secret ? "\"(hidden)\"" : c->vars[i].value);
        }
    }
    printf("Ready on %shttp://%s%s%s:%d%s\n", C_GREEN, v6 ? "[" : "", ip, v6 ? "]" : "", port,
           C_RESET);
    fflush(stdout);
}

/* The folder Worker modules load from: cfg->dir if main is inside it (after
 * symlinks), else main's own folder. */
static void project_root(const config *c, char *out, size_t cap)
{
    char *dir = realpath(c->dir, NULL);
    size_t n = dir ? strlen(dir) : 0;
    if (dir && strncmp(c->main, dir, n) == 0 && (c->main[n] == '/' || n == 1)) {
        snprintf(out, cap, "%s", dir);
    } else {
        const char *slash = strrchr(c->main, '/');
        size_t len = slash && slash != c->main ? (size_t)(slash - c->main) : 1;
        snprintf(out, cap, "%.*s", (int)len, c->main);
    }
    free(dir);
}

void server_classes_init(void)
{
    storage_classes_init();
    obj_classes_init();
}

int server_run(const server_opts *o, err *e)
{
    server_classes_init();
    int n = o->threads > 0 ? o->threads : (int)uv_available_parallelism();
    if (n < 1)
        n = 1;
    if (n > SHARDS_MAX)
        return err_setf(e, DUR_EINVAL, "--threads %d: at most %d shards", n, SHARDS_MAX);
    /* Each open object database holds two descriptors (database and WAL). The
     * per-shard cache of open databases gets what the descriptor limit allows after
     * 1024 are kept for connections, between 64 and 256 per shard. Not more: SQLite's
     * unix VFS finds a file's lock record by walking a process-wide list of open
     * files under one mutex, so opening gets slower with every database kept open
     * (do-kv-many: ~600 req/s with 4096 per shard, ~1,850 with 256). */
    struct rlimit nofile;
    size_t open_max = 64;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        if (nofile.rlim_cur < nofile.rlim_max) {
            nofile.rlim_cur = nofile.rlim_max;
            setrlimit(RLIMIT_NOFILE, &nofile);
            getrlimit(RLIMIT_NOFILE, &nofile);
        }
        if (nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur > 1024 + 128u * (rlim_t)n)
            open_max = (size_t)((nofile.rlim_cur - 1024) / (2u * (rlim_t)n));
        else if (nofile.rlim_cur == RLIM_INFINITY)
            open_max = 256;
        if (open_max > 256)
            open_max = 256;
    }
    storage_configure(o->durability, open_max);
    /* The port first: SO_REUSEPORT would let the shards join another process's
     * listener without a word (see h1_server.c). Not for --port 0: shard 0 binds
     * port 0 itself and the kernel never picks a port someone listens on, whereas
     * a probe would pick one, let it go, and leave a moment in which another
     * process starting with --port 0 could be handed the same port. */
    int port = o->port;
    if (port != 0 && h1_server_port_check(o->ip, o->port, &port, e) < 0)
        return e->code;
    /* Then the data folder, held for the life of the process: two processes on one
     * folder would meet as SQLITE_BUSY errors in the middle of requests. A Worker
     * without Durable Objects has no data and gets no folder. */
    int lock_fd = -1;
    if (!o->data_locked && o->cfg && (o->cfg->do_bindings_count || o->cfg->migrations_count)) {
        if (fs_mkdir_p(o->persist_dir, e) < 0 || fs_lock_dir(o->persist_dir, &lock_fd, e) < 0)
            return e->code;
    }
    /* What to serve: the one script, or what the store says (durable serve). */
    server_scripts sc = {0};
    if (!o->cfg && o->reload(o->reload_ud, &sc, e) < 0) {
        if (lock_fd >= 0)
            close(lock_fd);
        return e->code ? e->code : DUR_EINVAL;
    }
    world *first = world_new(o, &sc, o->cfg, n, e);
    if (!first) {
        if (lock_fd >= 0)
            close(lock_fd);
        return e->code ? e->code : DUR_EINVAL;
    }
    shard *shards = calloc((size_t)n, sizeof *shards);
    if (!shards) {
        world_free(first);
        if (lock_fd >= 0)
            close(lock_fd);
        return err_setf(e, DUR_ENOMEM, "out of memory");
    }
    int started = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        shards[i].index = i;
        shards[i].opts = o;
        shards[i].port = port;
        shards[i].first = first;
        if (start_shard(&shards[i]) < 0) {
            rc = shards[i].start_err.code ? shards[i].start_err.code : DUR_EINVAL;
            *e = shards[i].start_err;
            uv_thread_join(&shards[i].thread);
            /* The shards that never started hold their share of the world too. */
            for (int k = i + 1; k < n; k++)
                world_release(first);
            break;
        }
        port = shards[i].port;
        started++;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    stopper st = {shards, started, {NULL, NULL}};
    st.opts = o;
    uv_signal_t sigint, sigterm;
    uv_async_t request;
    if (rc == 0) {
        st.signals[0] = &sigint;
        st.signals[1] = &sigterm;
        uv_timer_init(&loop, &st.watchdog);
        st.watchdog.data = &st;
        uv_timer_init(&loop, &st.reload_timer);
        st.reload_timer.data = &st;
        uv_signal_init(&loop, &sigint);
        uv_signal_init(&loop, &sigterm);
        sigint.data = sigterm.data = &st;
        uv_signal_start(&sigint, on_signal, SIGINT);
        uv_signal_start(&sigterm, on_signal, SIGTERM);
        signal(SIGPIPE, SIG_IGN);
        uv_async_init(&loop, &request, on_stop_request);
        request.data = &st;
        st.request = &request;
        uv_once(&request_once, request_mu_init);
        uv_mutex_lock(&request_mu);
        request_async = &request;
        uv_mutex_unlock(&request_mu);
        print_banner(o, first, port, n);
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        for (int i = 0; i < started; i++)
            uv_async_send(&shards[i].stop_async);
    }
    for (int i = 0; i < started; i++)
        uv_thread_join(&shards[i].thread);
    uv_loop_close(&loop);
    free(shards);
    if (lock_fd >= 0)
        close(lock_fd);   /* after the last database closed */
    if (rc == 0 && st.requested)
        return SERVER_STOP_REQUESTED;
    if (rc == 0)
        log_info("stopped");
    return rc;
}
