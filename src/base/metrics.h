/* metrics: the counters behind `/metrics` (api/metrics.c writes them out in
 * Prometheus' text format; docs/api.md lists them).
 *
 * Every thread that counts has a slot of its own: a shard binds its index once
 * (metrics_bind_shard) and then only it writes that slot, with relaxed atomic
 * loads and stores (no lock, no read-modify-write); threads that bound nothing
 * share one last slot, updated with relaxed fetch_add. A scrape sums the slots,
 * so it may see a request counted and its CPU time not yet: each value is exact,
 * the set is not a snapshot. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_SLOTS_MAX 257        /* 256 shards + one for every other thread */
#define METRICS_WORKER_NAME_MAX 64   /* longer names are cut in the label */
#define METRICS_REQ_KEYS 128         /* (worker, status) pairs per slot; more: "(other)" */
#define METRICS_BUCKETS 17

/* The histogram bounds in seconds, METRICS_BUCKETS of them, then +Inf. */
extern const double metrics_bucket_le[METRICS_BUCKETS];

/* This thread counts into slot `shard` (0..255) from now on. */
void metrics_bind_shard(int shard);

/* A request a Worker answered: its status and the CPU time it used so far. */
void metrics_request(const char *worker, int status, uint64_t cpu_ns);
/* The Durable Object instances in memory on this thread now (a gauge). */
void metrics_objects_live(int64_t n);
/* An instance left memory because it was idle. */
void metrics_object_evicted(void);
/* A storage transaction committed, taking `ns`. */
void metrics_storage_commit(uint64_t ns);
/* A WebSocket connection opened (+1) or closed (-1). */
void metrics_ws(int delta);

/* ---- reading (the scrape) ---- */

typedef struct metrics_hist {
    uint64_t buckets[METRICS_BUCKETS + 1];   /* not cumulative; the last is +Inf */
    uint64_t sum_ns, count;
} metrics_hist;

typedef struct metrics_totals {
    int64_t objects_live;
    uint64_t evictions;
    uint64_t commits;
    metrics_hist commit;
    int64_t ws_open;
    metrics_hist cpu;
} metrics_totals;

void metrics_read(metrics_totals *out);
/* Calls cb once per (worker, status) pair seen, with the count summed over the
 * slots (the same pair in two slots is reported as two calls: the caller adds). */
void metrics_requests_each(void (*cb)(const char *worker, int status, uint64_t n, void *ud),
                           void *ud);
