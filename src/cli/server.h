/* server: starts the shards (one thread, loop, JS runtime, Worker and listening
 * socket each), prints where it serves, and runs until SIGINT/SIGTERM, then stops
 * accepting, lets in-flight requests finish (bounded) and returns. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"
#include "net/h1.h"

typedef struct server_opts {
    const config *cfg;
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

#define SERVER_STOP_REQUESTED 1
/* From any thread: makes the running server_run stop as on SIGTERM (in-flight
 * requests finish) and return SERVER_STOP_REQUESTED; durable serve restarts the
 * shards on a new deployment this way. Returns false if no server is running. */
bool server_request_stop(void);
