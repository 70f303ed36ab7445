/* cluster/internal.h: what the files of the cluster layer share (node.c: open,
 * close, ports, lease, status; pg.c: the cluster thread and its SQL; peer.c: the
 * peer thread). Not for other layers: they use cluster.h. */
#pragma once
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/mpsc.h"
#include "cluster/cluster.h"

/* The schema this build knows (durable_schema.version); pg.c migrates up to it. */
#define CLUSTER_SCHEMA_VERSION 2

typedef struct pg_conn pg_conn;   /* = PGconn; libpq's header stays in pg.c */

/* A shard's mailbox. Lives until cluster_close (cluster_port_close only detaches
 * it from the shard's loop), so the cluster thread never sends to freed memory. */
struct cluster_port {
    cluster *c;
    struct cluster_port *next;       /* c->ports, under c->ports_mu */
    uv_async_t async;                /* on the shard's loop */
    mpsc q;                          /* cluster_event_msg, cluster thread -> shard */
    pthread_mutex_t mu;              /* closed vs uv_async_send */
    _Atomic bool closed;             /* written under mu */
    cluster_event_fn fn;
    void *ud;
};

typedef struct cluster_event_msg {
    mpsc_node node;
    cluster_event ev;
} cluster_event_msg;

/* A request from a shard to the cluster thread. */
typedef enum creq_kind { CREQ_CLAIM = 1, CREQ_COMMIT, CREQ_SNAPSHOT, CREQ_RELEASE } creq_kind;

typedef struct creq {
    mpsc_node node;
    struct creq *next;               /* the cluster thread's own lists */
    creq_kind kind;
    cluster_port *port;
    char key[CLUSTER_KEY_MAX];
    uint64_t epoch;
    uint64_t ticket;
    int64_t seq;                     /* SNAPSHOT: log position of the image */
    int64_t alarm_ms;                /* COMMIT */
    uint8_t *data;                   /* COMMIT frames / SNAPSHOT image; owned */
    size_t len;
    char *path;                      /* CLAIM: where to rebuild the file; owned */
    bool test_fail;                  /* COMMIT: cluster_commit_test_fail (tests only) */
} creq;

typedef struct cluster_stats_atomic {
    _Atomic uint64_t commits;          /* commits answered COMMITTED */
    _Atomic uint64_t commit_batches;   /* group-commit statements that committed */
    _Atomic uint64_t commit_round_trips;  /* PostgreSQL round trips spent on commits */
    _Atomic uint64_t fenced;
    _Atomic uint64_t failed;
    _Atomic uint64_t claims;
    _Atomic uint64_t claim_round_trips;   /* PostgreSQL round trips spent on claims */
    _Atomic uint64_t claim_shortcuts;     /* claims that kept the local file (frames_pos_read) */
    _Atomic uint64_t reconnects;
} cluster_stats_atomic;

struct cluster {
    cluster_opts o;                  /* strings below are our copies */
    char pg_url[1024];
    char node_id[CLUSTER_NODE_MAX];
    char incarnation[40];            /* random per process start (nodes.incarnation) */
    _Atomic bool self_fenced;        /* another process took our node id: serve nothing */
    char data_dir[1024];
    char listen_ip[64];
    char advertise[CLUSTER_ADDR_MAX];  /* peer start fills it when the option is NULL */
    char secret[256];
    uint32_t margin_ms;              /* CL-7: lease = node_timeout - margin */

    /* the cluster thread */
    pthread_t thread;
    bool thread_started;
    mpsc q;                          /* creq, shards -> cluster thread */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv;          /* CLOCK_MONOTONIC */
    bool wake;                       /* under wake_mu */
    _Atomic bool stopping;
    pg_conn *conn;                   /* the cluster thread's connection */

    /* CL-7 */
    _Atomic int64_t lease_sent_ms;   /* monotonic ms of the last successful heartbeat's send */
    _Atomic uint64_t lease_gen;
    _Atomic bool draining;           /* our row says draining */

    /* ports */
    pthread_mutex_t ports_mu;
    cluster_port *ports;
    unsigned alarm_rr;

    /* status / id secret / drain: a second connection, any thread */
    pthread_mutex_t side_mu;
    pg_conn *side;

    _Atomic bool test_no_heartbeat;  /* tests only: the node stops heartbeating (as if paused) */
    bool test_hooks;                 /* DURABLE_TEST_HOOKS=1 in the environment (tests only) */
    cluster_stats_atomic stats;
    void *pg;                        /* pg.c's private state of the cluster thread */
    void *peer;                      /* peer.c's state */
};

/* ---- node.c ---- */
int64_t cluster__now_ms(void);          /* CLOCK_MONOTONIC */
/* Queues an answer to port (cluster thread). Drops it if the port is closed. */
void cluster__answer(cluster_port *p, const cluster_event *ev);
void cluster__creq_free(creq *r);
/* Tests only (DURABLE_TEST_HOOKS=1): while <data>/durable-test-hold exists the
 * cluster thread waits here, at the top of its loop: no heartbeat, no lease
 * watch, no claim or commit (a thread stuck in PostgreSQL, as seen from the
 * shards). Returns at once without the hooks. */
void cluster__test_hold(cluster *c);

/* ---- pg.c ---- */
/* Connects (blocking) with the keepalive settings the cluster uses. NULL with *e. */
pg_conn *cluster__pg_connect(const cluster *c, err *e);
void cluster__pg_close(pg_conn *conn);
/* Creates or migrates the schema; refuses a newer one. 0 or <0 with *e. */
int cluster__schema(pg_conn *conn, err *e);
/* Inserts or refreshes this node's row (state alive, heartbeat now()) and gives up
 * the keys a previous process with the same id left owned. */
int cluster__register(cluster *c, pg_conn *conn, err *e);
/* Before cluster__register: refuses (<0 with *e) when another live process holds
 * this node id (its row's heartbeat moves); waits for the heartbeat of a previous,
 * dead process with this id to lapse (at most about node_timeout + heartbeat). */
int cluster__node_id_check(cluster *c, pg_conn *conn, err *e);
/* The cluster thread's body: started by cluster_open after the registration. */
void *cluster__thread_main(void *arg);
/* Run on c->side (connecting if needed); callers hold side_mu, except for
 * side_drain, which takes it per statement. */
int cluster__side_status(cluster *c, buf *out, err *e);
int cluster__side_id_secret(cluster *c, uint8_t out[32], err *e);
int cluster__side_drain(cluster *c, const char *node, uint32_t timeout_ms, err *e);

/* ---- peer.c: the internal connections (CL-2, CL-5) ---- */
/* Starts the peer thread and the internal listener for node c->node_id with
 * c->o (listen port), c->listen_ip, c->advertise, c->secret; fills c->advertise
 * when it is empty. Main thread, inside cluster_open. 0 or <0 with *e. */
int cluster__peer_start(cluster *c, err *e);
/* Closes every connection and joins the peer thread. Main thread; idempotent. */
void cluster__peer_stop(cluster *c);
/* The address peers dial ("host:port"): --cluster-advertise, else the listener's
 * bound address. "" before cluster__peer_start. */
const char *cluster__peer_advertise(const cluster *c);

/* Tests only: a cluster with just the peer side (no PostgreSQL): node id
 * o->node_id (required), listener and secret from o. Freed by cluster__test_free. */
cluster *cluster__test_new(const cluster_opts *o, err *e);
void cluster__test_free(cluster *c);
