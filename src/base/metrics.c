/* metrics.c: per-thread counter slots, summed at scrape (see metrics.h). */
#include "base/metrics.h"

#include <stdatomic.h>
#include <string.h>

const double metrics_bucket_le[METRICS_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

typedef struct hist {
    _Atomic uint64_t buckets[METRICS_BUCKETS + 1];
    _Atomic uint64_t sum_ns, count;
} hist;

enum { KEY_FREE, KEY_CLAIMED, KEY_READY };

typedef struct req_key {
    _Atomic int state;                    /* KEY_*: the name and status are set once READY */
    int status;
    char worker[METRICS_WORKER_NAME_MAX + 1];
    _Atomic uint64_t count;
} req_key;

typedef struct slot {
    _Alignas(64) _Atomic int64_t objects_live;
    _Atomic uint64_t evictions;
    _Atomic uint64_t commits;
    hist commit;
    _Atomic int64_t ws_open;
    hist cpu;
    req_key reqs[METRICS_REQ_KEYS];
} slot;

static slot g_slots[METRICS_SLOTS_MAX];
static _Thread_local slot *t_slot;   /* NULL: the shared last slot */

void metrics_bind_shard(int shard)
{
    if (shard >= 0 && shard < METRICS_SLOTS_MAX - 1)
        t_slot = &g_slots[shard];
}

/* Adds to a counter: a plain load and store on a bound slot (its only writer),
 * fetch_add on the shared one. */
static inline void add_u(_Atomic uint64_t *c, uint64_t v)
{
    if (t_slot)
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static inline void add_i(_Atomic int64_t *c, int64_t v)
{
    if (t_slot)
        atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static inline slot *me(void)
{
    return t_slot ? t_slot : &g_slots[METRICS_SLOTS_MAX - 1];
}

static void hist_add(hist *h, uint64_t ns)
{
    double s = (double)ns / 1e9;
    size_t b = 0;
    while (b < METRICS_BUCKETS && s > metrics_bucket_le[b])
        b++;
    add_u(&h->buckets[b], 1);
    add_u(&h->sum_ns, ns);
    add_u(&h->count, 1);
}

static uint32_t hash(const char *s, int status)
{
    uint32_t h = 2166136261u ^ (uint32_t)status;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The key for (worker, status) in slot s: found, or claimed and filled. Keys are
 * never freed; when the table is full the pair counts in the last entry, whose
 * worker label is "(other)" and status 0. */
static req_key *req_key_of(slot *s, const char *worker, int status)
{
    char name[METRICS_WORKER_NAME_MAX + 1];
    size_t n = strnlen(worker, METRICS_WORKER_NAME_MAX);
    memcpy(name, worker, n);
    name[n] = '\0';
    uint32_t h = hash(name, status);
    for (size_t probe = 0; probe <= METRICS_REQ_KEYS - 1; probe++) {
        bool last = probe == METRICS_REQ_KEYS - 1;
        req_key *k = last ? &s->reqs[METRICS_REQ_KEYS - 1]
                          : &s->reqs[(h + probe) % (METRICS_REQ_KEYS - 1)];
        if (last) {
            memcpy(name, "(other)", 8);
            status = 0;
        }
        int st = atomic_load_explicit(&k->state, memory_order_acquire);
        if (st == KEY_FREE) {
            int want = KEY_FREE;
            if (atomic_compare_exchange_strong(&k->state, &want, KEY_CLAIMED)) {
                memcpy(k->worker, name, sizeof name);
                k->status = status;
                atomic_store_explicit(&k->state, KEY_READY, memory_order_release);
                return k;
            }
            st = want;
        }
        while (st == KEY_CLAIMED)   /* another thread of the shared slot is filling it */
            st = atomic_load_explicit(&k->state, memory_order_acquire);
        if (last || (k->status == status && strcmp(k->worker, name) == 0))
            return k;
    }
    return &s->reqs[METRICS_REQ_KEYS - 1];   /* not reached */
}

void metrics_request(const char *worker, int status, uint64_t cpu_ns)
{
    slot *s = me();
    req_key *k = req_key_of(s, worker ? worker : "", status);
    add_u(&k->count, 1);
    hist_add(&s->cpu, cpu_ns);
}

void metrics_objects_live(int64_t n)
{
    atomic_store_explicit(&me()->objects_live, n, memory_order_relaxed);
}

void metrics_object_evicted(void)
{
    add_u(&me()->evictions, 1);
}

void metrics_storage_commit(uint64_t ns)
{
    slot *s = me();
    add_u(&s->commits, 1);
    hist_add(&s->commit, ns);
}

void metrics_ws(int delta)
{
    add_i(&me()->ws_open, delta);
}

static void hist_read(const hist *h, metrics_hist *out)
{
    for (size_t b = 0; b <= METRICS_BUCKETS; b++)
        out->buckets[b] += atomic_load_explicit(&h->buckets[b], memory_order_relaxed);
    out->sum_ns += atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
    out->count += atomic_load_explicit(&h->count, memory_order_relaxed);
}

void metrics_read(metrics_totals *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < METRICS_SLOTS_MAX; i++) {
        const slot *s = &g_slots[i];
        out->objects_live += atomic_load_explicit(&s->objects_live, memory_order_relaxed);
        out->evictions += atomic_load_explicit(&s->evictions, memory_order_relaxed);
        out->commits += atomic_load_explicit(&s->commits, memory_order_relaxed);
        out->ws_open += atomic_load_explicit(&s->ws_open, memory_order_relaxed);
        hist_read(&s->commit, &out->commit);
        hist_read(&s->cpu, &out->cpu);
    }
}

void metrics_requests_each(void (*cb)(const char *worker, int status, uint64_t n, void *ud),
                           void *ud)
{
    for (size_t i = 0; i < METRICS_SLOTS_MAX; i++)
        for (size_t j = 0; j < METRICS_REQ_KEYS; j++) {
            req_key *k = &g_slots[i].reqs[j];
            if (atomic_load_explicit(&k->state, memory_order_acquire) == KEY_READY)
                cb(k->worker, k->status, atomic_load_explicit(&k->count, memory_order_relaxed),
                   ud);
        }
}
