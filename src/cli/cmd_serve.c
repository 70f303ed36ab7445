/* cmd_serve.c: `durable serve --data DIR`: the production server (issue 12, first
 * slice). Two listeners:
 *   - Workers (default 127.0.0.1:8787): the shards of server.c, running the live
 *     version of every deployed script; the first label of Host names the script,
 *     other hosts go to --worker NAME, else the one deployed last; with nothing
 *     deployed, 503 with a JSON error.
 *   - REST API (default 127.0.0.1:8788): api/routes.c, Cloudflare's paths.
 *
 * The API listener runs on a thread of its own with its own loop, not on a
 * shard: an upload is parsed and committed there (up to 10 MiB of multipart and
 * an fsync with --durability power), and none of that may hold up the Workers'
 * requests; nor can it run on the main thread, whose loop lives inside
 * server_run and is torn down at each restart.
 *
 * A deploy (or delete) bumps a generation counter; the API thread's timer then
 * asks the server to load the store again (server_request_reload), and the
 * shards swap the new version in without closing the listener (server.c). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "base/fs.h"
#include "cluster/cluster.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/server.h"
#include "js/rt.h"
#include "objects/objects.h"
#include "storage/storage.h"
#include "worker/worker.h"
#include "version.h"

static void serve_usage(FILE *f)
{
    fprintf(f,
            "Usage: durable serve --data DIR [options]\n"
            "\n"
            "Serves deployed Workers and the Cloudflare-compatible REST API that deploys them\n"
            "(see docs/api.md). Make a token first: durable token create --name NAME --data DIR\n"
            "\n"
            "Options:\n"
            "  -d, --data DIR        the data folder: durable.sqlite, objects, scripts (required)\n"
            "      --ip ADDR         address of both listeners (default 127.0.0.1)\n"
            "  -p, --port N          Workers listener port (default 8787)\n"
            "      --api-port N      REST API listener port (default 8788)\n"
            "      --worker NAME     the script for hosts that name none (default: the one\n"
            "                        deployed last); <script>.<domain> names a script\n"
            "      --threads N       shards, 1 to 256 (default: one per core)\n"
            "      --durability MODE power (default): a commit survives power loss;\n"
            "                        process: it survives the process dying\n"
            "      --log-level LEVEL debug, info (default), warn or error\n"
            "      --idle-timeout-ms N an idle Durable Object leaves memory after this\n"
            "                        (default 70000)\n"
            "      --cache-mb N      the Cache API's store (DIR/cache.sqlite) keeps at most\n"
            "                        this many MiB, evicting the oldest entries (default 1024)\n"
            "      --cache-object-mb N largest response body cache.put stores, in MiB\n"
            "                        (default 64, at most 512)\n"
            "\n"
            "Cluster mode (docs/cluster.md): several nodes share one PostgreSQL database\n"
            "      --cluster URL     postgres://… (or a libpq conninfo string)\n"
            "      --node-id ID      this node's id (default: made at first start, kept in DIR)\n"
            "      --cluster-listen HOST:PORT  internal listener for other nodes\n"
            "                        (default 127.0.0.1 and a free port)\n"
            "      --cluster-advertise HOST:PORT  the address other nodes dial (default:\n"
            "                        the listener's)\n"
            "      --cluster-secret S shared secret of the nodes (required in cluster mode;\n"
            "                        or DURABLE_CLUSTER_SECRET); never logged or stored\n"
            "      --heartbeat-ms N  heartbeat and lease renewal period (default 1000)\n"
            "      --node-timeout-ms N a node silent this long is dead (default 5000)\n"
            "  -h, --help            this help\n");
}

typedef struct api_thread {
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    uv_timer_t tick;
    uv_sem_t started;
    h1_server *server;
    api_ctx ctx;
    const char *ip;
    int port;
    h1_limits limits;
    int start_rc;
    err start_err;
    _Atomic uint64_t want_gen;   /* bumped by every change of the store */
    _Atomic uint64_t have_gen;   /* what the running shards were built from */
} api_thread;

static void on_api_request(h1_conn *conn, const h1_request *req, void *ud)
{
    api_thread *t = ud;
    api_handle(&t->ctx, conn, req);
}

static void on_change(void *ud, const char *script)
{
    api_thread *t = ud;
    atomic_fetch_add(&t->want_gen, 1);
}

/* Every 100 ms: if the store changed since the shards were given what to serve,
 * have the server load it again and swap it in (server_request_reload). */
static void on_tick(uv_timer_t *h)
{
    api_thread *t = h->data;
    uint64_t want = atomic_load(&t->want_gen);
    if (want != atomic_load(&t->have_gen) && server_request_reload())
        atomic_store(&t->have_gen, want);
}

static void on_api_closed(void *arg)
{
    api_thread *t = arg;
    uv_close((uv_handle_t *)&t->stop, NULL);
    uv_close((uv_handle_t *)&t->tick, NULL);
}

static void on_api_stop(uv_async_t *a)
{
    api_thread *t = a->data;
    uv_timer_stop(&t->tick);
    api_stop(&t->ctx);
    h1_server_close(t->server, on_api_closed, t);
}

static void api_main(void *arg)
{
    api_thread *t = arg;
    uv_loop_init(&t->loop);
    uv_async_init(&t->loop, &t->stop, on_api_stop);
    t->stop.data = t;
    uv_timer_init(&t->loop, &t->tick);
    t->tick.data = t;
    t->start_rc = h1_server_open(&t->loop, t->ip, t->port, &t->limits, on_api_request, t,
                                 &t->server, &t->start_err);
    if (t->start_rc < 0) {
        uv_close((uv_handle_t *)&t->stop, NULL);
        uv_close((uv_handle_t *)&t->tick, NULL);
        uv_run(&t->loop, UV_RUN_DEFAULT);
        uv_loop_close(&t->loop);
        uv_sem_post(&t->started);
        return;
    }
    t->port = h1_server_port(t->server);
    api_start(&t->ctx, &t->loop);
    uv_timer_start(&t->tick, on_tick, 100, 100);
    uv_sem_post(&t->started);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
}

static int parse_port(const char *opt, const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !*s || *end || v < 0 || v > 65535) {
        fprintf(stderr, "durable serve: %s expects a port from 0 to 65535, got '%s'\n", opt, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static void check_close_cb(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* The upload check (api_ctx.check, API-35), on the API thread: the Worker is
 * loaded in a runtime of its own on a loop of its own that never runs (its timers
 * never fire), bounded like a request in memory and given CHECK_CPU_MS of CPU
 * for its top-level code; then the classes are looked up among the main module's
 * exports. Nothing of it outlives the call. */
#define CHECK_CPU_MS 1000u
#define CHECK_MEMORY_BYTES (128u * 1024u * 1024u)

static void strip_dir(char *msg, const char *dir)
{
    size_t dl = strlen(dir);
    char *p;
    while ((p = strstr(msg, dir)) != NULL) {
        size_t skip = dl + (p[dl] == '/');
        memmove(p, p + skip, strlen(p + skip) + 1);
    }
}

static int check_upload(void *ud, const api_check_in *in, int *code, char *msg, size_t cap)
{
    (void)ud;
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        *code = 10021;
        snprintf(msg, cap, "the upload could not be checked: no event loop");
        return -1;
    }
    config c = {0};
    c.name = strdup(in->script);
    c.dir = strdup(in->dir);
    c.path = strdup(in->dir);
    c.main = strdup(in->main);
    c.compatibility_date = strdup(in->compat_date);
    char *node_flag[] = {"nodejs_compat"};
    if (in->nodejs_compat) {   /* borrowed: c.compatibility_flags is reset before config_fini */
        c.compatibility_flags = node_flag;
        c.compatibility_flags_count = 1;
    }
    err e = {0};
    js_rt_opts ro = {
        .memory_bytes_max = CHECK_MEMORY_BYTES,
        .cpu_ms_max = CHECK_CPU_MS,
        .install = worker_js_install,
        .module_root = in->dir,
    };
    js_rt *rt = NULL;
    worker *w = NULL;
    int rc = 0;
    *code = 10021;
    if (!c.name || !c.dir || !c.path || !c.main || !c.compatibility_date) {
        snprintf(msg, cap, "out of memory");
        rc = -1;
    } else if (!(rt = js_rt_new(&loop, &ro, &e))) {
        snprintf(msg, cap, "the upload could not be checked: %s", e.msg);
        rc = -1;
    } else {
        worker_opts wo = {.cfg = &c, .wall_ms_max = CHECK_CPU_MS};
        w = worker_new(rt, &wo, &e);
        if (!w) {
            snprintf(msg, cap, "%s", e.msg);
            strip_dir(msg, in->dir);
            if (strstr(msg, "InternalError: interrupted")) {
                size_t l = strlen(msg);
                snprintf(msg + l, cap - l, "\n(its top-level code ran past the %u ms of CPU "
                         "a Worker gets to load)", CHECK_CPU_MS);
            }
            rc = -1;
        }
    }
    if (rc == 0 && in->service_worker && in->classes_count) {
        *code = 10061;
        snprintf(msg, cap, "%s is a service-worker script (no `export`), which cannot define "
                 "the Durable Object class %s: make it an ES module", in->main + strlen(in->dir) + 1,
                 in->classes[0]);
        rc = -1;
    }
    if (rc == 0 && !in->service_worker) {
        JSContext *ctx = worker_context(w);
        JSValue ns = JS_GetPropertyStr(ctx, js_native(ctx), "mainModule");
        for (size_t i = 0; rc == 0 && i < in->classes_count; i++) {
            JSValue v = JS_GetPropertyStr(ctx, ns, in->classes[i]);
            bool ok = JS_IsFunction(ctx, v) && JS_IsConstructor(ctx, v);
            JS_FreeValue(ctx, v);
            if (!ok) {
                *code = 10061;
                snprintf(msg, cap, "Cannot create binding for class %s that is not exported by "
                         "the script: the main module %s has no `export class %s`",
                         in->classes[i], in->main + strlen(in->dir) + 1, in->classes[i]);
                rc = -1;
            }
        }
        JS_FreeValue(ctx, ns);
    }
    worker_free(w);
    uv_walk(&loop, check_close_cb, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    js_rt_free(rt);
    uv_loop_close(&loop);
    c.compatibility_flags = NULL;
    c.compatibility_flags_count = 0;
    config_fini(&c);
    return rc;
}

typedef struct serve_ctx {
    deploy_store *reader;      /* the main thread's connection to the store */
    const char *data;
    const char *worker;        /* --worker NAME, or NULL */
} serve_ctx;

/* server.c's reload: the live version of every deployed script; the default for a
 * Host that names none is --worker NAME, else the script deployed last. */
static int load_scripts(void *ud, server_scripts *out, err *e)
{
    serve_ctx *x = ud;
    config *c;
    size_t n;
    int latest;
    if (deploy_config_build_all(x->reader, x->data, &c, &n, &latest, e) < 0)
        return -1;
    *out = (server_scripts){.cfgs = c, .count = n, .def = latest};
    if (x->worker) {
        out->def = -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(c[i].name, x->worker) == 0)
                out->def = (int)i;
        if (out->def < 0) {
            char msg[200];
            snprintf(msg, sizeof msg, "the default, --worker %s, is not deployed", x->worker);
            out->why_none = strdup(msg);
        }
    }
    return 0;
}

/* --cluster and its flags (CL-1, CL-2). The secret is copied and its argv string
 * wiped, so it does not show in ps or /proc/PID/cmdline either. */
typedef struct cluster_args {
    const char *url;
    const char *node_id;
    char listen_ip[CLUSTER_ADDR_MAX];
    int listen_port;
    const char *advertise;
    char *secret;              /* malloc'd copy */
    uint32_t heartbeat_ms, node_timeout_ms;
} cluster_args;

static int parse_ms(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || !*s || *end || s[0] == '-' || v < lo || v > hi) {
        fprintf(stderr, "durable serve: %s expects %u to %u (milliseconds), got '%s'\n", opt, lo,
                hi, s);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* "host:port" (or "[v6]:port") into ip and port. */
static int parse_hostport(const char *opt, const char *s, char *ip, size_t cap, int *port)
{
    const char *colon = strrchr(s, ':');
    const char *h = s;
    size_t hl = colon ? (size_t)(colon - s) : 0;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (!colon || hl == 0 || hl >= cap) {
        fprintf(stderr, "durable serve: %s expects HOST:PORT, got '%s'\n", opt, s);
        return -1;
    }
    memcpy(ip, h, hl);
    ip[hl] = 0;
    return parse_port(opt, colon + 1, port);
}

/* Checks the cluster flags together; 0 or -1 (message printed). */
static int cluster_args_check(cluster_args *ca)
{
    if (!ca->url) {
        if (ca->node_id || ca->listen_ip[0] || ca->advertise || ca->secret)
            fprintf(stderr, "durable serve: --node-id, --cluster-listen, --cluster-advertise and "
                            "--cluster-secret need --cluster postgres://…\n");
        return ca->node_id || ca->listen_ip[0] || ca->advertise || ca->secret ? -1 : 0;
    }
    if (!ca->secret) {
        const char *env = getenv("DURABLE_CLUSTER_SECRET");
        if (env && *env)
            ca->secret = strdup(env);
    }
    if (!ca->secret || !*ca->secret) {
        fprintf(stderr, "durable serve: cluster mode needs the nodes' shared secret: pass "
                        "--cluster-secret S or set DURABLE_CLUSTER_SECRET (the same on every "
                        "node; internal connections without it are refused)\n");
        return -1;
    }
    if (ca->node_id && !cluster_node_id_valid(ca->node_id, strlen(ca->node_id))) {
        fprintf(stderr, "durable serve: --node-id '%s': 1 to %d characters of A-Z a-z 0-9 . _ "
                        "-\n", ca->node_id, CLUSTER_NODE_MAX - 1);
        return -1;
    }
    if (ca->node_timeout_ms < 2 * ca->heartbeat_ms) {
        fprintf(stderr, "durable serve: --node-timeout-ms (%u) must be at least twice "
                        "--heartbeat-ms (%u): a node would be declared dead between two of its "
                        "heartbeats\n", ca->node_timeout_ms, ca->heartbeat_ms);
        return -1;
    }
    return 0;
}


int cmd_serve(int argc, char **argv)
{
    enum { O_IP = 256, O_API_PORT, O_WORKER, O_THREADS, O_DURABILITY, O_LOGLEVEL, O_IDLE,
           O_CLUSTER, O_NODE_ID, O_CL_LISTEN, O_CL_ADVERTISE, O_CL_SECRET, O_HEARTBEAT,
           O_NODE_TIMEOUT, O_CACHE, O_CACHE_OBJ };
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},
        {"ip", required_argument, NULL, O_IP},
        {"port", required_argument, NULL, 'p'},
        {"api-port", required_argument, NULL, O_API_PORT},
        {"worker", required_argument, NULL, O_WORKER},
        {"threads", required_argument, NULL, O_THREADS},
        {"durability", required_argument, NULL, O_DURABILITY},
        {"log-level", required_argument, NULL, O_LOGLEVEL},
        {"idle-timeout-ms", required_argument, NULL, O_IDLE},
        {"cluster", required_argument, NULL, O_CLUSTER},
        {"node-id", required_argument, NULL, O_NODE_ID},
        {"cluster-listen", required_argument, NULL, O_CL_LISTEN},
        {"cluster-advertise", required_argument, NULL, O_CL_ADVERTISE},
        {"cluster-secret", required_argument, NULL, O_CL_SECRET},
        {"heartbeat-ms", required_argument, NULL, O_HEARTBEAT},
        {"node-timeout-ms", required_argument, NULL, O_NODE_TIMEOUT},
        {"cache-mb", required_argument, NULL, O_CACHE},
        {"cache-object-mb", required_argument, NULL, O_CACHE_OBJ},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *data = NULL, *ip = "127.0.0.1", *worker_name = NULL;
    int port = 8787, api_port = 8788, threads = 0, c;
    int durability = STORE_DURABILITY_POWER;
    uint32_t idle_ms = 70000;
    size_t cache_mb = WEB_CACHE_TOTAL_BYTES_DEFAULT >> 20,
           cache_obj_mb = WEB_CACHE_OBJECT_BYTES_DEFAULT >> 20;
    log_level level = LOG_INFO;
    cluster_args ca = {.heartbeat_ms = 1000, .node_timeout_ms = 5000};
    int argrc = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case O_IP: ip = optarg; break;
        case 'p': if (parse_port("--port", optarg, &port) < 0) return 2; break;
        case O_API_PORT: if (parse_port("--api-port", optarg, &api_port) < 0) return 2; break;
        case O_WORKER:
            if (!deploy_name_valid(optarg)) {
                fprintf(stderr, "durable serve: --worker '%s' is not a script name\n", optarg);
                return 2;
            }
            worker_name = optarg;
            break;
        case O_THREADS: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 256) {
                fprintf(stderr, "durable serve: --threads expects 1 to 256, got '%s'\n", optarg);
                return 2;
            }
            threads = (int)v;
            break;
        }
        case O_DURABILITY:
            if (strcmp(optarg, "process") == 0) durability = STORE_DURABILITY_PROCESS;
            else if (strcmp(optarg, "power") == 0) durability = STORE_DURABILITY_POWER;
            else {
                fprintf(stderr, "durable serve: --durability expects power or process, got "
                                "'%s'\n", optarg);
                return 2;
            }
            break;
        case O_LOGLEVEL:
            if (strcmp(optarg, "debug") == 0) level = LOG_DEBUG;
            else if (strcmp(optarg, "info") == 0) level = LOG_INFO;
            else if (strcmp(optarg, "warn") == 0) level = LOG_WARN;
            else if (strcmp(optarg, "error") == 0) level = LOG_ERROR;
            else {
                fprintf(stderr, "durable serve: --log-level expects debug, info, warn or error, "
                                "got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_IDLE: {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || !*optarg || *end || optarg[0] == '-' || v == 0 || v > 86400000) {
                fprintf(stderr, "durable serve: --idle-timeout-ms expects 1 to 86400000, got "
                                "'%s'\n", optarg);
                return 2;
            }
            idle_ms = (uint32_t)v;
            break;
        }
        case O_CLUSTER: ca.url = optarg; break;
        case O_NODE_ID: ca.node_id = optarg; break;
        case O_CL_LISTEN:
            if (parse_hostport("--cluster-listen", optarg, ca.listen_ip, sizeof ca.listen_ip,
                               &ca.listen_port) < 0)
                argrc = 2;
            break;
        case O_CL_ADVERTISE: {
            char host[CLUSTER_ADDR_MAX];
            int p = -1;
            if (parse_hostport("--cluster-advertise", optarg, host, sizeof host, &p) < 0 ||
                p == 0) {
                if (p == 0)
                    fprintf(stderr, "durable serve: --cluster-advertise needs a port other "
                                    "than 0\n");
                argrc = 2;
            }
            ca.advertise = optarg;
            break;
        }
        case O_CL_SECRET:
            free(ca.secret);
            ca.secret = strdup(optarg);
            memset(optarg, 'x', strlen(optarg));   /* not in ps or /proc/PID/cmdline */
            break;
        case O_HEARTBEAT:
            if (parse_ms("--heartbeat-ms", optarg, 10, 600000, &ca.heartbeat_ms) < 0)
                argrc = 2;
            break;
        case O_NODE_TIMEOUT:
            if (parse_ms("--node-timeout-ms", optarg, 20, 3600000, &ca.node_timeout_ms) < 0)
                argrc = 2;
            break;
        case O_CACHE:
        case O_CACHE_OBJ: {
            const char *name = c == O_CACHE ? "--cache-mb" : "--cache-object-mb";
            unsigned long max = c == O_CACHE ? 1u << 20 : WEB_CACHE_OBJECT_BYTES_LIMIT >> 20;
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || !*optarg || *end || optarg[0] == '-' || v == 0 || v > max) {
                fprintf(stderr, "durable serve: %s expects 1 to %lu, got '%s'\n", name, max,
                        optarg);
                return 2;
            }
            *(c == O_CACHE ? &cache_mb : &cache_obj_mb) = v;
            break;
        }
        case 'h': free(ca.secret); serve_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "durable serve: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "durable serve: unknown option '%s'; see `durable serve --help`\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (argrc == 0 && optind < argc) {
        fprintf(stderr, "durable serve: unexpected argument '%s'\n", argv[optind]);
        argrc = 2;
    }
    if (argrc == 0 && cluster_args_check(&ca) < 0)
        argrc = 2;
    if (argrc) {
        free(ca.secret);
        return argrc;
    }
    if (!data || (port != 0 && port == api_port)) {
        if (!data)
            fprintf(stderr, "durable serve: --data DIR is required (where deployments and "
                            "objects live)\n");
        else
            fprintf(stderr, "durable serve: --port and --api-port are both %d\n", port);
        free(ca.secret);
        return 2;
    }
    log_setup(level, isatty(STDERR_FILENO) && !getenv("NO_COLOR"));
    err e = {0};
    int lock_fd = -1, bound;
    /* Ports first (as durable dev), then the folder, held for the process's life. */
    /* --port 0: a free port picked once here, so restarts keep serving on it. */
    if (h1_server_port_check(ip, port, &port, &e) < 0 ||
        (api_port != 0 && h1_server_port_check(ip, api_port, &bound, &e) < 0) ||
        fs_mkdir_p(data, &e) < 0 || fs_lock_dir(data, &lock_fd, &e) < 0) {
        fprintf(stderr, "%sdurable serve: %s%s\n", C_RED, e.msg, C_RESET);
        free(ca.secret);
        return 1;
    }
    /* Cluster mode: the node joins before anything serves (CL-1), and every node
     * makes object ids with the secret kept in PostgreSQL. */
    cluster *cl = NULL;
    obj_cluster *ocl = NULL;
    if (ca.url) {
        cluster_opts co = {
            .pg_url = ca.url,
            .node_id = ca.node_id,
            .data_dir = data,
            .listen_ip = ca.listen_ip[0] ? ca.listen_ip : ip,
            .listen_port = ca.listen_port,
            .advertise = ca.advertise,
            .secret = ca.secret,
            .heartbeat_ms = ca.heartbeat_ms,
            .node_timeout_ms = ca.node_timeout_ms,
            .durability = durability,
        };
        cl = cluster_open(&co, &e);
        if (cl)
            ocl = obj_cluster_new(cl, &e);
        /* The cluster keeps its own copy if it needs one: ours goes now. */
        memset(ca.secret, 0, strlen(ca.secret));
        free(ca.secret);
        ca.secret = NULL;
        if (!ocl) {
            fprintf(stderr, "%sdurable serve: cluster: %s%s\n", C_RED, e.msg, C_RESET);
            if (cl)
                cluster_close(cl);
            close(lock_fd);
            return 1;
        }
        printf("%sdurable serve%s: cluster node %s, internal address %s\n", C_BOLD, C_RESET,
               cluster_node_id(cl), cluster_advertise(cl));
        fflush(stdout);
    }
    deploy_store *api_store = NULL, *reader = NULL;
    api_thread *t = NULL;
    if (deploy_store_open(data, durability, &api_store, &e) < 0 ||
        deploy_store_open(data, durability, &reader, &e) < 0 || !(t = calloc(1, sizeof *t))) {
        if (!t && e.msg[0])
            fprintf(stderr, "%sdurable serve: %s%s\n", C_RED, e.msg, C_RESET);
        deploy_store_close(api_store);
        deploy_store_close(reader);
        if (cl)
            cluster_close(cl);
        obj_cluster_free(ocl);
        close(lock_fd);
        return 1;
    }
    t->ip = ip;
    t->port = api_port;
    h1_limits_default(&t->limits);
    /* Room above the upload limit, so that a too-large upload gets the envelope's
     * 413 from upload.c rather than the listener's own. */
    t->limits.body_bytes_max = 2 * API_UPLOAD_BYTES_MAX;
    t->ctx = (api_ctx){.store = api_store, .data_dir = data,
                       .upload_bytes_max = API_UPLOAD_BYTES_MAX, .on_change = on_change, .ud = t,
                       .check = check_upload, .cluster = cl,
                       .cluster_pg_url = cl ? ca.url : NULL, .cluster_poll_ms = ca.heartbeat_ms};
    /* The checks make runtimes on the API thread: the class ids first (main thread). */
    server_classes_init();
    uv_sem_init(&t->started, 0);
    /* The upload check runs JavaScript on this thread: a shard's stack size. */
    uv_thread_options_t to = {.flags = UV_THREAD_HAS_STACK_SIZE,
                              .stack_size = JS_THREAD_STACK_BYTES};
    uv_thread_create_ex(&t->thread, &to, api_main, t);
    uv_sem_wait(&t->started);
    uv_sem_destroy(&t->started);
    int rc;
    if (t->start_rc < 0) {
        fprintf(stderr, "%sdurable serve: REST API listener: %s%s\n", C_RED, t->start_err.msg,
                C_RESET);
        uv_thread_join(&t->thread);
        rc = 1;
    } else {
        bool v6 = strchr(ip, ':') != NULL;
        printf("%sdurable serve%s: REST API on %shttp://%s%s%s:%d/client/v4%s (account %s)\n",
               C_BOLD, C_RESET, C_GREEN, v6 ? "[" : "", ip, v6 ? "]" : "", t->port, C_RESET,
               deploy_store_account(api_store));
        fflush(stdout);
        server_opts so = {
            .ip = ip,
            .port = port,
            .threads = threads,
            .memory_bytes_max = 128u * 1024u * 1024u,
            .cpu_ms_max = 30000,
            .shutdown_grace_ms = 10000,
            .log_requests = level <= LOG_INFO,
            .banner_name = "durable serve",
            .persist_dir = data,
            .idle_ms = idle_ms,
            .durability = durability,
            .data_locked = true,
            .cluster = ocl,
            .cache_bytes_max = cache_mb << 20,
            .cache_object_bytes_max = cache_obj_mb << 20,
        };
        h1_limits_default(&so.limits);
        serve_ctx sx = {reader, data, worker_name};
        so.reload = load_scripts;
        so.reload_ud = &sx;
        err se = {0};
        rc = server_run(&so, &se);
        if (rc < 0)
            fprintf(stderr, "%sdurable serve: %s%s\n", C_RED, se.msg, C_RESET);
        rc = rc < 0 ? 1 : 0;
        uv_async_send(&t->stop);
        uv_thread_join(&t->thread);
    }
    deploy_store_close(api_store);
    deploy_store_close(reader);
    free(t);
    /* The shards have stopped: the node releases what it owned (a clean stop is a
     * drain, CL-8) and leaves; only then do the peer callbacks' targets go. */
    if (cl)
        cluster_close(cl);
    obj_cluster_free(ocl);
    close(lock_fd);
    return rc;
}
