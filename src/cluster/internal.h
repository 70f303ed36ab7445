/* cluster/internal.h: what the files of src/cluster share (not for other layers).
 * The PostgreSQL side (pg.c, node.c) owns struct cluster; peer.c keeps its own
 * state behind `peer`. */
#pragma once
#include "cluster/cluster.h"

struct cluster {
    char node_id[CLUSTER_NODE_MAX];
    cluster_opts opts;       /* strings borrowed from the caller of cluster_open */
    void *peer;              /* peer.c's state, NULL until cluster__peer_start */
};

/* ---- peer.c: the internal connections (CL-2, CL-5) ---- */

/* Starts the peer thread and the internal listener for node c->node_id with
 * c->opts (listen ip/port, advertise, secret). Main thread. 0 or <0 with *e. */
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
