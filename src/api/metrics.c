/* metrics.c: GET /metrics on the API listener, in Prometheus' text exposition
 * format 0.0.4 (HELP and TYPE lines, label values escaped: worker names are the
 * user's). The counters are base/metrics.c's, summed over the shards here; the
 * route asks for the bearer token like every other (docs/api.md). */
#include "api/internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/metrics.h"

typedef struct req_row {
    char worker[METRICS_WORKER_NAME_MAX + 1];
    int status;
    uint64_t n;
} req_row;

typedef struct rows {
    req_row *v;
    size_t n, cap;
    bool oom;
} rows;

static void on_req(const char *worker, int status, uint64_t n, void *ud)
{
    rows *r = ud;
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].status == status && strcmp(r->v[i].worker, worker) == 0) {
            r->v[i].n += n;
            return;
        }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        req_row *v = realloc(r->v, cap * sizeof *v);
        if (!v) {
            r->oom = true;
            return;
        }
        r->v = v;
        r->cap = cap;
    }
    req_row *row = &r->v[r->n++];
    snprintf(row->worker, sizeof row->worker, "%s", worker);
    row->status = status;
    row->n = n;
}

static int row_cmp(const void *x, const void *y)
{
    const req_row *a = x, *b = y;
    int c = strcmp(a->worker, b->worker);
    return c ? c : a->status - b->status;
}

/* A label value: backslash, double quote and newline escaped (the format's rule). */
static int label(buf *b, const char *s)
{
    int rc = 0;
    for (; *s && rc == 0; s++) {
        if (*s == '\\')
            rc = buf_append_str(b, "\\\\");
        else if (*s == '"')
            rc = buf_append_str(b, "\\\"");
        else if (*s == '\n')
            rc = buf_append_str(b, "\\n");
        else
            rc = buf_append(b, s, 1);
    }
    return rc;
}

static int hist(buf *b, const char *name, const char *help, const metrics_hist *h)
{
    int rc = buf_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (size_t i = 0; i < METRICS_BUCKETS && rc == 0; i++) {
        cum += h->buckets[i];
        rc = buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, metrics_bucket_le[i],
                        (unsigned long long)cum);
    }
    cum += h->buckets[METRICS_BUCKETS];
    if (rc == 0)
        rc = buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n", name,
                        (unsigned long long)cum, name, (double)h->sum_ns / 1e9, name,
                        (unsigned long long)h->count);
    return rc;
}

int api__metrics_text(buf *b)
{
    metrics_totals t;
    metrics_read(&t);
    rows r = {0};
    metrics_requests_each(on_req, &r);
    if (r.n)
        qsort(r.v, r.n, sizeof *r.v, row_cmp);
    int rc = r.oom ? DUR_ENOMEM : 0;
    rc = rc ? rc : buf_append_str(b, "# HELP durable_requests_total Requests answered by "
                                     "Workers, by Worker and HTTP status.\n"
                                     "# TYPE durable_requests_total counter\n");
    for (size_t i = 0; i < r.n && rc == 0; i++) {
        rc = buf_append_str(b, "durable_requests_total{worker=\"");
        rc = rc ? rc : label(b, r.v[i].worker);
        rc = rc ? rc : buf_printf(b, "\",status=\"%d\"} %llu\n", r.v[i].status,
                                  (unsigned long long)r.v[i].n);
    }
    free(r.v);
    rc = rc ? rc : hist(b, "durable_request_cpu_seconds", "CPU time a Worker request used "
                        "until it was answered.", &t.cpu);
    rc = rc ? rc : buf_printf(b, "# HELP durable_objects_live Durable Object instances in "
                              "memory.\n# TYPE durable_objects_live gauge\n"
                              "durable_objects_live %lld\n", (long long)t.objects_live);
    rc = rc ? rc : buf_printf(b, "# HELP durable_object_evictions_total Durable Object "
                              "instances that left memory after being idle.\n"
                              "# TYPE durable_object_evictions_total counter\n"
                              "durable_object_evictions_total %llu\n",
                              (unsigned long long)t.evictions);
    rc = rc ? rc : buf_printf(b, "# HELP durable_storage_commits_total Storage transactions "
                              "committed.\n# TYPE durable_storage_commits_total counter\n"
                              "durable_storage_commits_total %llu\n",
                              (unsigned long long)t.commits);
    rc = rc ? rc : hist(b, "durable_storage_commit_seconds", "Time a storage commit took.",
                        &t.commit);
    rc = rc ? rc : buf_printf(b, "# HELP durable_websockets_open WebSocket connections open.\n"
                              "# TYPE durable_websockets_open gauge\n"
                              "durable_websockets_open %lld\n", (long long)t.ws_open);
    return rc;
}

void api__metrics(api_ctx *a, api_req *r)
{
    (void)a;
    buf b;
    buf_init(&b, 16u * 1024u * 1024u);
    if (api__metrics_text(&b) != 0) {
        buf_fini(&b);
        return api__reply_err(r, 500, 10000, "out of memory writing the metrics");
    }
    h1_header h[] = {{"Content-Type", 12, "text/plain; version=0.0.4; charset=utf-8", 40}};
    h1_conn_respond(r->conn, 200, h, 1, b.ptr, b.len);
    buf_fini(&b);
}
