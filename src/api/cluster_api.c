/* cluster_api.c: the cluster routes of the REST API (spec CL-3, CL-8; docs/cluster.md
 * "Status and drain"):
 *   GET  /cluster        the nodes, their state, the objects each owns and the log's
 *                        size: cluster_status_json's document as the envelope's result
 *   POST /cluster/drain  {"node": "<id>"}: hands that node's objects over
 *                        (cluster_drain) and answers once it owns nothing
 * Both ask for the bearer token like every route. A server not in cluster mode
 * answers 404 with a message saying so. Both run on the API thread and may block
 * it: status for a PostgreSQL round trip, drain up to API_DRAIN_MS. */
#include "api/internal.h"

#include <string.h>

#include "cluster/cluster.h"

#define API_DRAIN_MS 60000u
#define API_CLUSTER_JSON_MAX (4u * 1024u * 1024u)

enum { CODE_NOT_CLUSTER = 10500, CODE_CLUSTER_FAILED = API_CODE_CLUSTER, CODE_NO_NODE = 10502 };

static void cluster_status(api_ctx *a, api_req *r)
{
    buf b;
    buf_init(&b, API_CLUSTER_JSON_MAX);
    err e = {0};
    if (cluster_status_json(a->cluster, &b, &e) < 0)
        api__reply_err(r, 503, CODE_CLUSTER_FAILED, "cluster status: %s", e.msg);
    else
        api__reply(r, 200, b.ptr, b.len, NULL);
    buf_fini(&b);
}

static void cluster_drain_route(api_ctx *a, api_req *r)
{
    cfg_value *v = api__json_body(r);
    if (!v)
        return;
    const cfg_value *node = cfg_table_get(v, "node");
    if (!node || node->type != CFG_STRING || node->str_len == 0 ||
        node->str_len >= CLUSTER_NODE_MAX || strlen(node->str) != node->str_len) {
        cfg_value_free(v);
        return api__reply_err(r, 400, 10001,
                              "cluster drain: the body must be {\"node\": \"<node id>\"} with a "
                              "node id of 1 to %d characters",
                              CLUSTER_NODE_MAX - 1);
    }
    err e = {0};
    int rc = cluster_drain(a->cluster, node->str, API_DRAIN_MS, &e);
    if (rc == DUR_ENOTFOUND) {
        api__reply_err(r, 404, CODE_NO_NODE, "cluster drain: %s", e.msg);
    } else if (rc < 0) {
        api__reply_err(r, 503, CODE_CLUSTER_FAILED, "cluster drain: %s", e.msg);
    } else {
        buf b;
        buf_init(&b, 1024);
        if (buf_append_str(&b, "{\"node\":") == 0 && api__json_cstr(&b, node->str) == 0 &&
            buf_append_str(&b, ",\"drained\":true}") == 0)
            api__reply(r, 200, b.ptr, b.len, NULL);
        else
            api__reply_err(r, 500, 10000, "out of memory");
        buf_fini(&b);
    }
    cfg_value_free(v);
}

void api__cluster(api_ctx *a, api_req *r, char **seg, int n)
{
    bool get = strcmp(r->req->method, "GET") == 0, post = strcmp(r->req->method, "POST") == 0;
    if (n > 2 || (n == 2 && strcmp(seg[1], "drain") != 0))
        return api__reply_err(r, 404, 7000, "No route for that URI");
    if (n == 1 && !get)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET",
                              r->req->method);
    if (n == 2 && !post)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use POST",
                              r->req->method);
    if (!a->cluster)
        return api__reply_err(r, 404, CODE_NOT_CLUSTER,
                              "this server is not in cluster mode (start `durable serve` with "
                              "--cluster postgres://...)");
    if (n == 1)
        return cluster_status(a, r);
    cluster_drain_route(a, r);
}
