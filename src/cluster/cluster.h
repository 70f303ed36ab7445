/* cluster: one node of `durable serve --cluster postgres://…` (spec: cluster.md
 * CL-1 … CL-19; docs/cluster.md; docs/architecture.md "Cluster").
 *
 * This header is the contract between three pieces built in parallel:
 *   - the PostgreSQL side (pg.c, node.c): one *cluster thread* per node that owns
 *     the libpq connection, creates/migrates the schema, registers the node and
 *     heartbeats it, claims objects (leases with epochs), appends commits to the
 *     log in fenced, batched transactions (group commit), writes snapshots and
 *     rebuilds an object's SQLite file from snapshot + log before handing it out;
 *   - the peer side (peer.c): one *peer thread* per node with an internal listener
 *     (`--cluster-listen`) and one outbound connection per other node, both
 *     authenticated by the shared secret, carrying opaque frames (the objects
 *     layer encodes its stub-call messages into them);
 *   - the objects side (src/objects/router.c, js/50_objects.js): which node owns
 *     an object, forwarding calls to the owner, commits fenced by the epoch.
 * Layering: cluster/ sits below objects/ (it knows nothing of JS or obj_msg) and
 * above storage/ (it uses storage/frames.h to rebuild files).
 *
 * Threads: cluster_open/cluster_close on the main thread; everything named
 * cluster_port_* on the shard thread that opened the port; cluster_lease_ok and
 * cluster_peer_* from any thread. Answers to a shard come back as events on its
 * port (an MPSC queue plus a uv_async on the shard's loop): the callback runs on
 * the shard thread. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "base/err.h"

/* An object's key in PostgreSQL: "<namespace identity>/<64 hex id>" (the identity
 * survives class renames and is shared by every node through the shared
 * deployments, CL-15). At most CLUSTER_KEY_MAX bytes including the NUL. */
#define CLUSTER_KEY_MAX 256
/* A node's id (CL-1): given by --node-id or made at first start and kept in the
 * data folder; [A-Za-z0-9._-], at most 63 bytes. */
#define CLUSTER_NODE_MAX 64
/* "host:port" of a node's internal listener. */
#define CLUSTER_ADDR_MAX 128

typedef struct cluster cluster;

/* True for a node id: 1 to CLUSTER_NODE_MAX - 1 bytes of A-Z a-z 0-9 . _ -
 * (the one check the CLI, the node and the peer handshake share). */
bool cluster_node_id_valid(const char *s, size_t n);
typedef struct cluster_port cluster_port;

typedef struct cluster_opts {
    const char *pg_url;            /* postgres://… or a libpq conninfo string */
    const char *node_id;           /* NULL: the one kept in data_dir, made on first start */
    const char *data_dir;          /* the node's data folder (objects' local SQLite cache) */
    const char *listen_ip;         /* internal listener (CL-2); NULL: 127.0.0.1 */
    int listen_port;               /* 0: a free port */
    const char *advertise;         /* "host:port" peers dial; NULL: listen ip + bound port */
    const char *secret;            /* shared secret (CL-2); required, never logged/stored */
    uint32_t heartbeat_ms;         /* CL-1, default 1000 */
    uint32_t node_timeout_ms;      /* CL-1, default 5000 */
    uint32_t snapshot_every;       /* log entries of one object between snapshots (CL-11); 0: default 256 */
    int durability;                /* STORE_DURABILITY_* of the local files */
} cluster_opts;

/* Main thread, before the shards start: connects, creates or migrates the schema
 * (a version table; refuses a schema newer than this build knows, with a message
 * naming both versions), registers the node (CL-1), starts the cluster thread
 * (heartbeats, lease renewal) and the peer thread (listener). NULL with *e. */
cluster *cluster_open(const cluster_opts *o, err *e);
/* Stops heartbeating, releases what the node owns (a clean stop is a drain), closes
 * connections, joins the threads. Main thread, after the shards stopped. */
void cluster_close(cluster *c);

const char *cluster_node_id(const cluster *c);
const char *cluster_advertise(const cluster *c);

/* The deployment's id secret (objects/id.h), shared by all nodes: read from
 * PostgreSQL, made there by the first node. 0 or <0 with *e. Main thread. */
int cluster_id_secret(cluster *c, uint8_t out[32], err *e);

/* CL-7: true while this node may serve the objects it owns: the last successful
 * heartbeat (lease renewal) was sent less than node_timeout minus a safety margin
 * ago, by the monotonic clock. Any thread, cheap (an atomic load and a clock read).
 * Every event delivered to an owned object and every storage access checks it. */
bool cluster_lease_ok(const cluster *c);
/* Bumped each time the lease is lost: a shard that sees a new value resets every
 * instance it holds (they may have been claimed elsewhere) and forgets owners. */
uint64_t cluster_lease_gen(const cluster *c);

/* Counters of this node since cluster_open, for the benchmark and GET /cluster
 * ("stats" in cluster_status_json). commit_round_trips / commits is the number of
 * PostgreSQL round trips per acknowledged write (group commit makes it fall as
 * load grows, CL-10). Any thread. (Added by the PostgreSQL side: additive.) */
typedef struct cluster_stats {
    uint64_t commits;              /* commits answered COMMITTED */
    uint64_t commit_batches;       /* group-commit transactions that committed */
    uint64_t commit_round_trips;   /* PostgreSQL round trips spent on commits */
    uint64_t fenced;               /* commits answered FENCED */
    uint64_t failed;               /* commits answered FAILED */
    uint64_t claims;               /* claims answered CLAIMED */
    uint64_t claim_round_trips;    /* PostgreSQL round trips spent on claims (and REMOTE answers) */
    uint64_t claim_shortcuts;      /* claims that kept the local file: not rebuilt (frames_pos_read) */
    uint64_t reconnects;           /* connections to PostgreSQL made again after a loss */
} cluster_stats;
void cluster_stats_get(const cluster *c, cluster_stats *out);

/* ---- a shard's port ---- */

typedef enum cluster_ev_kind {
    CLUSTER_EV_CLAIMED = 1,   /* key is ours at `epoch`; its file at `path` is rebuilt */
    CLUSTER_EV_REMOTE,        /* key is owned by live node `node` at `addr` */
    CLUSTER_EV_COMMITTED,     /* the commit `ticket` of key is in PostgreSQL at `seq` */
    CLUSTER_EV_FENCED,        /* key's epoch is stale: the instance must be reset (CL-6) */
    CLUSTER_EV_FAILED,        /* the request failed (msg says why); nothing was committed */
    CLUSTER_EV_DRAIN,         /* release key (drain, CL-8): finish, commit, cluster_release */
    CLUSTER_EV_ALARM,         /* key has a due alarm and no live owner: claim it and fire */
} cluster_ev_kind;

typedef struct cluster_event {
    cluster_ev_kind kind;
    char key[CLUSTER_KEY_MAX];
    uint64_t epoch;
    int64_t seq;
    uint64_t ticket;                   /* COMMITTED/FENCED/FAILED of a commit: its ticket */
    char node[CLUSTER_NODE_MAX];       /* REMOTE */
    char addr[CLUSTER_ADDR_MAX];       /* REMOTE */
    char msg[256];                     /* FAILED */
} cluster_event;

typedef void (*cluster_event_fn)(void *ud, const cluster_event *ev);

/* Shard thread: the shard's mailbox for answers. NULL on OOM. */
cluster_port *cluster_port_open(cluster *c, uv_loop_t *loop, cluster_event_fn fn, void *ud);
/* Shard thread; answers still in flight are dropped. Asynchronous close. */
void cluster_port_close(cluster_port *p);

/* Who owns key (CL-4): if nobody live does, claims it for this node in one
 * transaction that increments the epoch, rebuilds the SQLite file at `path` from
 * the latest snapshot plus the log after it (CL-12), then answers CLAIMED; if a
 * live node owns it, answers REMOTE; errors answer FAILED. `path` is where the
 * objects layer will open the object's database (it has not opened it). */
void cluster_claim(cluster_port *p, const char *key, const char *path);

/* CL-6/9/10: appends `frames` (storage/frames.h encoding of the pages one local
 * commit wrote; taken over, freed by the cluster) to key's log, in a PostgreSQL
 * transaction that first checks that key's epoch is still `epoch` and its owner
 * this node; commits of many objects ride one transaction (group commit).
 * alarm_ms: the object's alarm after this commit (<0: none), kept with the object
 * so a new owner can fire it (CL-14). Answers COMMITTED, FENCED or FAILED with the
 * same ticket. Commits of one key are applied in the order they were made; after
 * a FENCED or FAILED of key, later commits of key with the same epoch are answered
 * FENCED/FAILED too without touching PostgreSQL. While PostgreSQL is unreachable a
 * commit waits (retried on reconnect) until the lease is lost, then FAILED. */
void cluster_commit(cluster_port *p, const char *key, uint64_t epoch, uint64_t ticket,
                    uint8_t *frames, size_t len, int64_t alarm_ms);

/* Tests only (the objects layer calls it only with DURABLE_TEST_HOOKS=1): as
 * cluster_commit, but the PostgreSQL transaction that carries it fails after its
 * epoch check passed, as a failing COMMIT would (the statement runs inside
 * BEGIN, then an error aborts the transaction): nothing of its batch is
 * committed. Retried like any failed statement, it fails again, so every commit
 * of that batch is answered FAILED. */
void cluster_commit_test_fail(cluster_port *p, const char *key, uint64_t epoch, uint64_t ticket,
                              uint8_t *frames, size_t len, int64_t alarm_ms);

/* CL-11: a snapshot of key's whole database (taken over) as of log position seq
 * (the last COMMITTED seq; no commit in flight). Fenced like a commit; the log up
 * to seq is trimmed. No answer (a failure is logged). */
void cluster_snapshot(cluster_port *p, const char *key, uint64_t epoch, int64_t seq,
                      uint8_t *image, size_t len);

/* The instance is gone (evicted or drained): the lease on key is given up so
 * another node may claim it at once (CL-8). No answer. */
void cluster_release(cluster_port *p, const char *key, uint64_t epoch);

/* ---- peers (CL-2, CL-5) ---- */

/* A frame that arrived from another node, on the peer thread. `conn` names the
 * connection it came on (for cluster_peer_reply); the bytes are valid only during
 * the call. Set once, before cluster_open returns work to anyone. */
typedef void (*cluster_peer_frame_fn)(void *ud, uint64_t conn, const uint8_t *b, size_t len);
void cluster_peer_on_frame(cluster *c, cluster_peer_frame_fn fn, void *ud);

/* Sends a frame to node `node` at `addr` (dialled and authenticated on first use,
 * redialled after a drop); frames to one node arrive in the order sent. Any thread;
 * copies the bytes. False if the frame cannot be queued (too big, closing). A
 * connection that drops loses the frames in flight on it: the objects layer turns
 * its pending calls into errors through `on_lost`. */
bool cluster_peer_send(cluster *c, const char *node, const char *addr, const void *b, size_t len);
/* Sends a frame back on the connection a frame came in on. Any thread. */
bool cluster_peer_reply(cluster *c, uint64_t conn, const void *b, size_t len);
/* Tests only (the objects layer calls it only with DURABLE_TEST_HOOKS=1): closes the
 * connection `conn` a frame came in on, after the frames queued on it before, as a
 * network failure mid-call would. Any thread; nothing if it is gone. */
void cluster_peer_test_drop(cluster *c, uint64_t conn);
/* Called on the peer thread when the connection to `node` drops (its in-flight
 * calls will never be answered). */
typedef void (*cluster_peer_lost_fn)(void *ud, const char *node);
void cluster_peer_on_lost(cluster *c, cluster_peer_lost_fn fn, void *ud);
/* Liveness (the dialler's side): an outbound connection that received nothing for
 * node_timeout/2 sends a probe (a 1-byte frame 'P', answered 'Q' by the other
 * node's peer thread, whatever its shards are doing); one that then receives
 * nothing until node_timeout is closed as silent: `on_silent(node, ms)` is called
 * on the peer thread instead of on_lost (or on_lost if no on_silent is set). Off
 * when node_timeout_ms is 0. */
typedef void (*cluster_peer_silent_fn)(void *ud, const char *node, uint32_t ms);
void cluster_peer_on_silent(cluster *c, cluster_peer_silent_fn fn, void *ud);
/* Called on the peer thread when an authenticated connection closes, incoming or
 * outgoing (the WebSocket relays on it end: objects/relay.c). */
typedef void (*cluster_peer_closed_fn)(void *ud, uint64_t conn);
void cluster_peer_on_closed(cluster *c, cluster_peer_closed_fn fn, void *ud);
/* Closes the connection to `node` (node non-NULL) or connection `conn`, after the
 * frames queued before, logging `why` (e.g. a WebSocket relay that would pass the
 * per-connection bound). Any thread; nothing if it is gone. */
void cluster_peer_drop(cluster *c, const char *node, uint64_t conn, const char *why);

/* ---- status (CL-3) and drain (CL-8) ---- */

/* {"nodes":[{"id","addr","state":"alive"|"dead"|"draining","objects":N,
 *  "heartbeat_age_ms":N}],"log":{"entries":N,"bytes":N},"snapshots":N,
 *  "schema_version":N,"this_node":"…"} into out. Any thread (its own query on
 * its own connection; may block up to a few seconds). 0 or <0 with *e. */
int cluster_status_json(cluster *c, buf *out, err *e);
/* Marks node `node` draining: its shards are told (CLUSTER_EV_DRAIN) to release
 * every object they own; other nodes claim them on next use. Returns once the node
 * owns nothing or after timeout_ms. 0, or <0 with *e (unknown node, timeout). */
int cluster_drain(cluster *c, const char *node, uint32_t timeout_ms, err *e);
