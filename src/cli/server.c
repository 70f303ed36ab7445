/* server.c: shards and their life (see server.h; docs/architecture.md "Threads,
 * shards and queues").
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
#include <unistd.h>

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

typedef struct shard {
    int index;
    const server_opts *opts;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop_async;
    uv_timer_t drain_timer;
    uint64_t drain_deadline_ns;
    uv_sem_t started;          /* posted once the shard is serving or failed */
    int port;                  /* in: port to bind; out: port bound */
    int start_rc;
    err start_err;
    js_rt *rt;
    obj_registry *objects;     /* shared, read-only */
    const char *module_root;   /* the project folder (borrowed from server_run) */
    obj_shard *obj;
    worker *worker;
    h1_server *server;
    bool stopping;
    _Atomic uint64_t stop_at_ns; /* when the signal came (uv_hrtime); set before stop_async */
    _Atomic bool interrupt;      /* the main thread gave up waiting: interrupt all JS */
    _Atomic bool done;           /* shard_main has returned */
} shard;

static void on_request(h1_conn *conn, const h1_request *req, void *ud)
{
    shard *s = ud;
    worker_handle(s->worker, conn, req);
}

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
    uv_close((uv_handle_t *)&s->drain_timer, NULL);
}

static void finish_stop(shard *s)
{
    uv_timer_stop(&s->drain_timer);
    /* Free the worker first: it answers what is still in flight with 503 while the
     * connections still exist, and releases every JS timer handle. */
    worker_free(s->worker);
    s->worker = NULL;
    obj_shard_close(s->obj);
    s->obj = NULL;
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
    js_rt_opts ro = {
        .memory_bytes_max = o->memory_bytes_max,
        .cpu_ms_max = o->cpu_ms_max,
        .install = worker_js_install,
        .module_root = s->module_root,
    };
    s->rt = js_rt_new(&s->loop, &ro, &s->start_err);
    if (!s->rt)
        return -1;
    js_rt_set_stop_flag(s->rt, &s->interrupt);
    s->obj = obj_shard_new(s->objects, s->index, &s->loop, &s->start_err);
    if (!s->obj)
        return -1;
    worker_opts wo = {
        .cfg = o->cfg,
        .wall_ms_max = o->wall_ms_max,
        .log_requests = o->log_requests,
        .shard_index = s->index,
        .objects = s->objects,
        .obj_shard = s->obj,
    };
    s->worker = worker_new(s->rt, &wo, &s->start_err);
    if (!s->worker)
        return -1;
    /* The module graph is what the Worker loaded: import() at request time reaches
     * nothing else (js/loader.c). */
    js_rt_modules_seal(s->rt);
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
    uv_timer_init(&s->loop, &s->drain_timer);
    s->drain_timer.data = s;
    s->start_rc = shard_setup(s);
    if (s->start_rc < 0) {
        worker_free(s->worker);
        s->worker = NULL;
        obj_shard_close(s->obj);
        s->obj = NULL;
        if (s->server)
            h1_server_close(s->server, NULL, NULL);
        s->server = NULL;
        uv_close((uv_handle_t *)&s->stop_async, NULL);
        uv_close((uv_handle_t *)&s->drain_timer, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        js_rt_free(s->rt);
        s->rt = NULL;
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
    js_rt_free(s->rt);
    s->rt = NULL;
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
    uv_async_t *request;       /* server_request_stop's wake-up */
    bool requested;            /* stopping because of it, not a signal */
} stopper;

/* The running server's stop request handle, for server_request_stop from other
 * threads; the mutex keeps a send from meeting the handle's close. */
static uv_mutex_t request_mu;
static uv_once_t request_once = UV_ONCE_INIT;
static uv_async_t *request_async;

static void request_mu_init(void)
{
    uv_mutex_init(&request_mu);
}

bool server_request_stop(void)
{
    uv_once(&request_once, request_mu_init);
    uv_mutex_lock(&request_mu);
    bool ok = request_async != NULL;
    if (ok)
        uv_async_send(request_async);
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

static void on_stop_request(uv_async_t *a)
{
    stopper *st = a->data;
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

static void print_banner(const server_opts *o, int port, int threads)
{
    const config *c = o->cfg;
    const char *ip = o->ip;
    bool v6 = strchr(ip, ':') != NULL;
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
    obj_opts oo = {.idle_ms = o->idle_ms};
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
    /* Worker code may import only from the project folder: the configuration's
     * folder, or main's folder when main lies outside it (wrangler's base_dir). */
    char module_root[PATH_MAX];
    project_root(o->cfg, module_root, sizeof module_root);
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
    if (!o->data_locked && (o->cfg->do_bindings_count || o->cfg->migrations_count)) {
        if (fs_mkdir_p(o->persist_dir, e) < 0 || fs_lock_dir(o->persist_dir, &lock_fd, e) < 0)
            return e->code;
    }
    obj_registry *objects = obj_registry_new(o->cfg, o->persist_dir, n, &oo, e);
    if (!objects) {
        if (lock_fd >= 0)
            close(lock_fd);
        return e->code ? e->code : DUR_EINVAL;
    }
    shard *shards = calloc((size_t)n, sizeof *shards);
    if (!shards) {
        obj_registry_free(objects);
        if (lock_fd >= 0)
            close(lock_fd);
        return err_setf(e, DUR_ENOMEM, "out of memory");
    }
    int started = 0, rc = 0;
    for (int i = 0; i < n; i++) {
        shards[i].index = i;
        shards[i].opts = o;
        shards[i].port = port;
        shards[i].objects = objects;
        shards[i].module_root = module_root;
        if (start_shard(&shards[i]) < 0) {
            rc = shards[i].start_err.code ? shards[i].start_err.code : DUR_EINVAL;
            *e = shards[i].start_err;
            uv_thread_join(&shards[i].thread);
            break;
        }
        port = shards[i].port;
        started++;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    stopper st = {shards, started, {NULL, NULL}};
    uv_signal_t sigint, sigterm;
    uv_async_t request;
    if (rc == 0) {
        st.signals[0] = &sigint;
        st.signals[1] = &sigterm;
        uv_timer_init(&loop, &st.watchdog);
        st.watchdog.data = &st;
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
        print_banner(o, port, n);
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        for (int i = 0; i < started; i++)
            uv_async_send(&shards[i].stop_async);
    }
    for (int i = 0; i < started; i++)
        uv_thread_join(&shards[i].thread);
    uv_loop_close(&loop);
    free(shards);
    obj_registry_free(objects);
    if (lock_fd >= 0)
        close(lock_fd);   /* after the last database closed */
    if (rc == 0 && st.requested)
        return SERVER_STOP_REQUESTED;
    if (rc == 0)
        log_info("stopped");
    return rc;
}
