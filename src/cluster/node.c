/* node.c: one cluster node's life (open, close, node id, lease) and the shards'
 * ports: requests go to the cluster thread through an MPSC queue and a condition
 * variable (pushing never waits on PostgreSQL), answers come back through each
 * port's MPSC queue and a uv_async on the shard's loop. The SQL is in pg.c. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "base/fs.h"
#include "base/log.h"
#include "cluster/internal.h"

int64_t cluster__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool cluster_node_id_valid(const char *s, size_t n)
{
    if (n == 0 || n >= CLUSTER_NODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* The node id: given, else <data_dir>/node-id, else made now and kept there. */
static int node_id_load(cluster *c, const char *given, err *e)
{
    if (given) {
        if (!cluster_node_id_valid(given, strlen(given)))
            return err_setf(e, DUR_EINVAL, "cluster: node id '%s' is not valid "
                            "(1-%d characters of A-Z a-z 0-9 . _ -)", given, CLUSTER_NODE_MAX - 1);
        snprintf(c->node_id, sizeof c->node_id, "%s", given);
        return 0;
    }
    char path[1100];
    snprintf(path, sizeof path, "%s/node-id", c->data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[128] = "";
        if (!fgets(line, sizeof line, f))
            line[0] = 0;
        fclose(f);
        line[strcspn(line, "\r\n")] = 0;
        if (!cluster_node_id_valid(line, strlen(line)))
            return err_setf(e, DUR_EPARSE, "cluster: %s holds '%s', not a valid node id", path, line);
        /* cluster_node_id_valid bounded it below CLUSTER_NODE_MAX (a copy the compiler
         * can see is bounded: snprintf from the 128-byte line warns in Debug). */
        memcpy(c->node_id, line, strlen(line) + 1);
        return 0;
    }
    int rc = fs_mkdir_p(c->data_dir, e);
    if (rc < 0)
        return rc;
    uint8_t rnd[6];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return err_setf(e, DUR_EINVAL, "cluster: no random bytes for a node id");
    snprintf(c->node_id, sizeof c->node_id, "node-%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return err_setf(e, -errno, "cluster: cannot write %s: %s", tmp, strerror(errno));
    bool ok = fprintf(f, "%s\n", c->node_id) > 0;
    ok = (fflush(f) == 0) && ok;
    ok = (fsync(fileno(f)) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0)
        return err_setf(e, -EIO, "cluster: cannot write %s: %s", path, strerror(errno));
    return 0;
}

cluster *cluster_open(const cluster_opts *o, err *e)
{
    if (!o->pg_url || !o->pg_url[0]) {
        err_setf(e, DUR_EINVAL, "cluster: a PostgreSQL URL is required (--cluster postgres://…)");
        return NULL;
    }
    if (!o->secret || !o->secret[0]) {
        err_setf(e, DUR_EINVAL, "cluster: a shared secret is required "
                 "(--cluster-secret or DURABLE_CLUSTER_SECRET)");
        return NULL;
    }
    if (!o->data_dir) {
        err_setf(e, DUR_EINVAL, "cluster: a data folder is required");
        return NULL;
    }
    cluster *c = calloc(1, sizeof *c);
    if (!c) {
        err_setf(e, DUR_ENOMEM, "cluster: out of memory");
        return NULL;
    }
    c->o = *o;
    size_t n = strlen(o->pg_url);
    if (n >= sizeof c->pg_url || strlen(o->data_dir) >= sizeof c->data_dir ||
        strlen(o->secret) >= sizeof c->secret ||
        (o->listen_ip && strlen(o->listen_ip) >= sizeof c->listen_ip) ||
        (o->advertise && strlen(o->advertise) >= sizeof c->advertise)) {
        err_setf(e, DUR_EINVAL, "cluster: an option is too long (URL, data folder, secret, "
                 "listen address or advertised address)");
        free(c);
        return NULL;
    }
    snprintf(c->pg_url, sizeof c->pg_url, "%s", o->pg_url);
    snprintf(c->data_dir, sizeof c->data_dir, "%s", o->data_dir);
    snprintf(c->secret, sizeof c->secret, "%s", o->secret);
    snprintf(c->listen_ip, sizeof c->listen_ip, "%s", o->listen_ip ? o->listen_ip : "127.0.0.1");
    if (o->advertise)
        snprintf(c->advertise, sizeof c->advertise, "%s", o->advertise);
    c->o.pg_url = c->pg_url;
    c->o.data_dir = c->data_dir;
    c->o.secret = c->secret;
    c->o.listen_ip = c->listen_ip;
    c->o.advertise = NULL;
    c->o.node_id = NULL;
    if (!c->o.heartbeat_ms)
        c->o.heartbeat_ms = 1000;
    if (!c->o.node_timeout_ms)
        c->o.node_timeout_ms = 5000;
    if (!c->o.snapshot_every)
        c->o.snapshot_every = 256;
    if (c->o.heartbeat_ms * 2 > c->o.node_timeout_ms) {
        err_setf(e, DUR_EINVAL, "cluster: --node-timeout-ms (%u) must be at least twice "
                 "--heartbeat-ms (%u)", c->o.node_timeout_ms, c->o.heartbeat_ms);
        free(c);
        return NULL;
    }
    /* CL-7's safety margin: the owner stops serving this long before any other node
     * may see it dead, covering clock rate differences and a heartbeat in flight. */
    c->margin_ms = c->o.node_timeout_ms / 4 > 1000 ? c->o.node_timeout_ms / 4 : 1000;
    if (c->margin_ms >= c->o.node_timeout_ms - c->o.heartbeat_ms)
        c->margin_ms = (c->o.node_timeout_ms - c->o.heartbeat_ms) / 2;
    const char *hooks = getenv("DURABLE_TEST_HOOKS");
    c->test_hooks = hooks && strcmp(hooks, "1") == 0;
    mpsc_init(&c->q);
    pthread_mutex_init(&c->ports_mu, NULL);
    pthread_mutex_init(&c->side_mu, NULL);
    pthread_mutex_init(&c->wake_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake_cv, &ca);
    pthread_condattr_destroy(&ca);

    if (node_id_load(c, o->node_id, e) < 0)
        goto fail;
    uint8_t inc[16];
    if (RAND_bytes(inc, sizeof inc) != 1) {
        err_setf(e, DUR_EINVAL, "cluster: no random bytes for the incarnation");
        goto fail;
    }
    for (size_t i = 0; i < sizeof inc; i++)
        snprintf(c->incarnation + 2 * i, 3, "%02x", inc[i]);
    c->conn = cluster__pg_connect(c, e);
    if (!c->conn)
        goto fail;
    if (cluster__schema(c->conn, e) < 0 || cluster__node_id_check(c, c->conn, e) < 0)
        goto fail;
    if (cluster__peer_start(c, e) < 0)
        goto fail;
    int64_t t0 = cluster__now_ms();
    if (cluster__register(c, c->conn, e) < 0) {
        cluster__peer_stop(c);
        goto fail;
    }
    atomic_store(&c->lease_sent_ms, t0);
    if (pthread_create(&c->thread, NULL, cluster__thread_main, c) != 0) {
        err_setf(e, DUR_ENOMEM, "cluster: cannot start the cluster thread");
        cluster__peer_stop(c);
        goto fail;
    }
    c->thread_started = true;
    log_msg(LOG_INFO, "cluster: node %s joined (internal address %s)", c->node_id, c->advertise);
    return c;
fail:
    if (c->conn)
        cluster__pg_close(c->conn);
    pthread_cond_destroy(&c->wake_cv);
    pthread_mutex_destroy(&c->wake_mu);
    pthread_mutex_destroy(&c->side_mu);
    pthread_mutex_destroy(&c->ports_mu);
    free(c);
    return NULL;
}

void cluster__test_hold(cluster *c)
{
    if (!c->test_hooks)
        return;
    char path[1100];
    snprintf(path, sizeof path, "%s/durable-test-hold", c->data_dir);
    if (access(path, F_OK) != 0)
        return;
    log_msg(LOG_WARN, "cluster: DURABLE_TEST_HOOKS: %s exists; the cluster thread holds", path);
    while (access(path, F_OK) == 0 && !atomic_load(&c->stopping)) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    log_msg(LOG_WARN, "cluster: DURABLE_TEST_HOOKS: the cluster thread goes on");
}

static void wake_thread(cluster *c)
{
    pthread_mutex_lock(&c->wake_mu);
    c->wake = true;
    pthread_cond_signal(&c->wake_cv);
    pthread_mutex_unlock(&c->wake_mu);
}

void cluster_close(cluster *c)
{
    if (!c)
        return;
    atomic_store(&c->stopping, true);
    wake_thread(c);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    cluster__peer_stop(c);
    mpsc_node *n;
    while ((n = mpsc_pop(&c->q)))
        cluster__creq_free((creq *)n);
    if (c->conn)
        cluster__pg_close(c->conn);
    if (c->side)
        cluster__pg_close(c->side);
    cluster_port *p = c->ports;
    while (p) {
        cluster_port *next = p->next;
        while ((n = mpsc_pop(&p->q)))
            free(n);
        pthread_mutex_destroy(&p->mu);
        free(p);
        p = next;
    }
    pthread_cond_destroy(&c->wake_cv);
    pthread_mutex_destroy(&c->wake_mu);
    pthread_mutex_destroy(&c->side_mu);
    pthread_mutex_destroy(&c->ports_mu);
    memset(c->secret, 0, sizeof c->secret);
    free(c);
}

const char *cluster_node_id(const cluster *c)
{
    return c->node_id;
}

const char *cluster_advertise(const cluster *c)
{
    return c->advertise;
}

bool cluster_lease_ok(const cluster *c)
{
    int64_t sent = atomic_load(&((cluster *)c)->lease_sent_ms);
    if (atomic_load(&((cluster *)c)->self_fenced))
        return false;
    return cluster__now_ms() - sent < (int64_t)(c->o.node_timeout_ms - c->margin_ms);
}

uint64_t cluster_lease_gen(const cluster *c)
{
    return atomic_load(&((cluster *)c)->lease_gen);
}

void cluster_stats_get(const cluster *c, cluster_stats *out)
{
    cluster_stats_atomic *s = &((cluster *)c)->stats;
    out->commits = atomic_load(&s->commits);
    out->commit_batches = atomic_load(&s->commit_batches);
    out->commit_round_trips = atomic_load(&s->commit_round_trips);
    out->fenced = atomic_load(&s->fenced);
    out->failed = atomic_load(&s->failed);
    out->claims = atomic_load(&s->claims);
    out->claim_round_trips = atomic_load(&s->claim_round_trips);
    out->claim_shortcuts = atomic_load(&s->claim_shortcuts);
    out->reconnects = atomic_load(&s->reconnects);
}

int cluster_id_secret(cluster *c, uint8_t out[32], err *e)
{
    pthread_mutex_lock(&c->side_mu);
    int rc = cluster__side_id_secret(c, out, e);
    pthread_mutex_unlock(&c->side_mu);
    return rc;
}

int cluster_status_json(cluster *c, buf *out, err *e)
{
    pthread_mutex_lock(&c->side_mu);
    int rc = cluster__side_status(c, out, e);
    pthread_mutex_unlock(&c->side_mu);
    return rc;
}

int cluster_drain(cluster *c, const char *node, uint32_t timeout_ms, err *e)
{
    return cluster__side_drain(c, node, timeout_ms, e);   /* locks side_mu per statement */
}

/* ---- ports ---- */

static void on_port_async(uv_async_t *h)
{
    cluster_port *p = h->data;
    mpsc_node *n;
    while ((n = mpsc_pop(&p->q))) {
        cluster_event_msg *m = (cluster_event_msg *)n;
        if (!p->closed)
            p->fn(p->ud, &m->ev);
        free(m);
    }
}

cluster_port *cluster_port_open(cluster *c, uv_loop_t *loop, cluster_event_fn fn, void *ud)
{
    cluster_port *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->c = c;
    p->fn = fn;
    p->ud = ud;
    mpsc_init(&p->q);
    pthread_mutex_init(&p->mu, NULL);
    if (uv_async_init(loop, &p->async, on_port_async) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    p->async.data = p;
    pthread_mutex_lock(&c->ports_mu);
    p->next = c->ports;
    c->ports = p;
    pthread_mutex_unlock(&c->ports_mu);
    return p;
}

void cluster_port_close(cluster_port *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    bool was = p->closed;
    p->closed = true;
    pthread_mutex_unlock(&p->mu);
    if (!was)
        uv_close((uv_handle_t *)&p->async, NULL);   /* the struct lives until cluster_close */
}

void cluster__answer(cluster_port *p, const cluster_event *ev)
{
    if (!p)
        return;
    cluster_event_msg *m = malloc(sizeof *m);
    if (!m) {
        log_msg(LOG_ERROR, "cluster: out of memory answering %s", ev->key);
        return;
    }
    m->ev = *ev;
    pthread_mutex_lock(&p->mu);
    if (p->closed) {
        pthread_mutex_unlock(&p->mu);
        free(m);
        return;
    }
    mpsc_push(&p->q, &m->node);
    uv_async_send(&p->async);
    pthread_mutex_unlock(&p->mu);
}

void cluster__creq_free(creq *r)
{
    if (!r)
        return;
    free(r->data);
    free(r->path);
    free(r);
}

/* Queues r for the cluster thread (never waits on PostgreSQL). */
static void submit(cluster_port *p, creq *r)
{
    cluster *c = p->c;
    mpsc_push(&c->q, &r->node);
    wake_thread(c);
}

static creq *creq_new(cluster_port *p, creq_kind kind, const char *key)
{
    creq *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = kind;
    r->port = p;
    snprintf(r->key, sizeof r->key, "%s", key);
    return r;
}

static void answer_oom(cluster_port *p, cluster_ev_kind kind, const char *key, uint64_t ticket)
{
    if (kind == 0)
        return;
    cluster_event ev = {.kind = CLUSTER_EV_FAILED, .ticket = ticket};
    snprintf(ev.key, sizeof ev.key, "%s", key);
    snprintf(ev.msg, sizeof ev.msg, "cluster: out of memory");
    cluster__answer(p, &ev);
}

static bool key_ok(cluster_port *p, const char *key, uint64_t ticket, bool answer)
{
    if (strlen(key) < CLUSTER_KEY_MAX)
        return true;
    if (answer) {
        cluster_event ev = {.kind = CLUSTER_EV_FAILED, .ticket = ticket};
        snprintf(ev.key, sizeof ev.key, "%.*s", CLUSTER_KEY_MAX - 1, key);
        snprintf(ev.msg, sizeof ev.msg, "cluster: object key longer than %d bytes", CLUSTER_KEY_MAX - 1);
        cluster__answer(p, &ev);
    }
    return false;
}

void cluster_claim(cluster_port *p, const char *key, const char *path)
{
    if (!key_ok(p, key, 0, true))
        return;
    creq *r = creq_new(p, CREQ_CLAIM, key);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        answer_oom(p, CLUSTER_EV_FAILED, key, 0);
        return;
    }
    submit(p, r);
}

static void commit_req(cluster_port *p, const char *key, uint64_t epoch, uint64_t ticket,
                       uint8_t *frames, size_t len, int64_t alarm_ms, bool test_fail)
{
    if (!key_ok(p, key, ticket, true)) {
        free(frames);
        return;
    }
    creq *r = creq_new(p, CREQ_COMMIT, key);
    if (!r) {
        free(frames);
        answer_oom(p, CLUSTER_EV_FAILED, key, ticket);
        return;
    }
    r->epoch = epoch;
    r->ticket = ticket;
    r->data = frames;
    r->len = len;
    r->alarm_ms = alarm_ms;
    r->test_fail = test_fail;
    submit(p, r);
}

void cluster_commit(cluster_port *p, const char *key, uint64_t epoch, uint64_t ticket,
                    uint8_t *frames, size_t len, int64_t alarm_ms)
{
    commit_req(p, key, epoch, ticket, frames, len, alarm_ms, false);
}

void cluster_commit_test_fail(cluster_port *p, const char *key, uint64_t epoch, uint64_t ticket,
                              uint8_t *frames, size_t len, int64_t alarm_ms)
{
    commit_req(p, key, epoch, ticket, frames, len, alarm_ms, true);
}

void cluster_snapshot(cluster_port *p, const char *key, uint64_t epoch, int64_t seq,
                      uint8_t *image, size_t len)
{
    if (!key_ok(p, key, 0, false)) {
        free(image);
        return;
    }
    creq *r = creq_new(p, CREQ_SNAPSHOT, key);
    if (!r) {
        free(image);
        log_msg(LOG_ERROR, "cluster: out of memory queueing a snapshot of %s", key);
        return;
    }
    r->epoch = epoch;
    r->seq = seq;
    r->data = image;
    r->len = len;
    submit(p, r);
}

void cluster_release(cluster_port *p, const char *key, uint64_t epoch)
{
    if (!key_ok(p, key, 0, false))
        return;
    creq *r = creq_new(p, CREQ_RELEASE, key);
    if (!r) {
        log_msg(LOG_ERROR, "cluster: out of memory releasing %s", key);
        return;
    }
    r->epoch = epoch;
    submit(p, r);
}
