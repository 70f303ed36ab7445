/* server: starts the shards (one thread, loop, JS runtime, Worker and listening
 * socket each), prints where it serves, and runs until SIGINT/SIGTERM, then stops
 * accepting, lets in-flight requests finish (bounded) and returns. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"
#include "net/h1.h"

/* What a multi-script server serves (durable serve): the live version of every
 * deployed script. */
typedef struct server_scripts {
    config *cfgs;               /* count entries, malloc'd; server.c takes them over */
    size_t count;
    int def;                    /* the script for a Host that names none; -1: none */
    char *why_none;             /* the 503 answer when count is 0 or a Host names none and
                                   there is no default (malloc'd; NULL: a default text) */
} server_scripts;

/* Fills *out with what to serve now: 0, or <0 with *e (the current version keeps
 * serving). Called on the main thread at start and after server_request_reload. */
typedef int (*server_reload_fn)(void *ud, server_scripts *out, err *e);

typedef struct server_opts {
    const config *cfg;          /* one script (durable dev); NULL when reload is set */
    server_reload_fn reload;    /* several scripts, swapped live (durable serve) */
    void *reload_ud;
    const char *ip;
    int port;                   /* 0 = any free port */
    int threads;                /* shards; 0 = one per core */
    h1_limits limits;
    size_t memory_bytes_max;    /* per shard runtime */
    uint32_t cpu_ms_max;
    uint32_t wall_ms_max;
    uint32_t shutdown_grace_ms; /* in-flight requests get this long at shutdown */
    bool log_requests;
    const char *banner_name;    /* "durable dev" */
    const char *persist_dir;    /* --persist-to */
    uint32_t idle_ms;           /* Durable Object idle eviction; 0 = default */
    int durability;             /* STORE_DURABILITY_* */
    bool data_locked;           /* the caller holds persist_dir's lock (durable serve) */
    struct obj_cluster *cluster; /* cluster mode (objects.h), or NULL */
    size_t cache_object_bytes_max; /* Cache API: largest body stored; 0 = default */
    size_t cache_bytes_max;     /* Cache API: all entries (persist_dir/cache.sqlite); 0 = default */
} server_opts;

/* Registers the JSClassID of every class a shard's runtime uses (storage and
 * objects; web/ has JS classes only). Main thread, before any shard starts:
 * JS_NewClassID is process-wide and not thread-safe in QuickJS 2021-03-27, and
 * the installs refuse to run without it. server_run calls it; idempotent. */
void server_classes_init(void);

/* Blocks until a stop signal. Returns 0 after a clean stop, or an error (with *e)
 * when a shard could not start (port in use, script failed to load, …), or
 * SERVER_STOP_REQUESTED after server_request_stop. */
int server_run(const server_opts *opts, err *e);

/* From any thread: makes the running server ask opts->reload for what to serve and
 * swap it in without closing the listener: new requests get the new version,
 * requests in flight finish on the old one, and the old version's Durable Objects
 * are shut down before any object of the new version starts (docs/api.md
 * "Serving"). Returns false if no server is running. */
bool server_request_reload(void);

#define SERVER_STOP_REQUESTED 1
/* From any thread: makes the running server_run stop as on SIGTERM (in-flight
 * requests finish) and return SERVER_STOP_REQUESTED; durable serve restarts the
 * shards on a new deployment this way. Returns false if no server is running. */
bool server_request_stop(void);
