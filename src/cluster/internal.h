/* cluster/internal.h: what the files of src/cluster share (not for other layers).
 * The PostgreSQL side (pg.c, node.c) owns struct cluster; peer.c keeps its own
 * state behind `peer`. (Provisional subset until the PostgreSQL side lands; the
 * field names are the ones it uses.) */
#pragma once
#include "cluster/cluster.h"

struct cluster {
    cluster_opts o;                  /* strings below are our copies */
    char node_id[CLUSTER_NODE_MAX];
    char listen_ip[64];
    char advertise[CLUSTER_ADDR_MAX];  /* peer start fills it when the option is NULL */
    char secret[256];
    void *peer;                      /* peer.c's state */
};

/* ---- peer side (peer.c) ---- */
/* Starts the peer thread and internal listener (CL-2); fills c->advertise when
 * it is empty. Main thread, inside cluster_open. */
int cluster__peer_start(cluster *c, err *e);
/* Stops and joins the peer thread. Main thread, inside cluster_close. */
void cluster__peer_stop(cluster *c);
/* c->advertise: the address peers dial. */
const char *cluster__peer_advertise(const cluster *c);
/* Tests only: a cluster with just the peer side (no PostgreSQL, no cluster
 * thread): node id o->node_id (required), listener, advertise and secret from o.
 * Freed by cluster__test_free. */
cluster *cluster__test_new(const cluster_opts *o, err *e);
void cluster__test_free(cluster *c);
