/* pg.c: the PostgreSQL side of a cluster node — schema, membership, claims,
 * fenced group commit, snapshots, release, drain and alarms (spec: cluster.md).
 *
 * Blocking libpq on a thread of its own, not the non-blocking API on the shards'
 * loops: one connection per node is what group commit wants (every shard's commits
 * meet in one queue and ride one statement), the shards only push to a lock-free
 * queue and never wait, and a plain blocking thread keeps the transaction logic
 * (claim = several statements in a row) straight-line code. While a statement is
 * in flight the next batch gathers in the queue, which is what makes batches grow
 * with load. The cost: a slow statement delays the next heartbeat, which the
 * lease's safety margin (CL-7) covers; a dead TCP peer is detected by
 * tcp_user_timeout/keepalives set to the node timeout.
 *
 * SQL portability: plain tables, INSERT … ON CONFLICT, UPDATE … FROM, data-
 * modifying WITH, unnest(…) WITH ORDINALITY of several arrays, window functions,
 * SELECT … FOR UPDATE OF, bytea. PostgreSQL-only details used: none beyond those
 * (CockroachDB and YugabyteDB accept each of them; see docs/cluster.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>
#include <openssl/rand.h>

#include "base/buf.h"
#include "base/log.h"
#include "cluster/internal.h"
#include "storage/frames.h"

#define PGC(x) ((PGconn *)(x))
#define BATCH_COMMITS_MAX 4096
#define BATCH_BYTES_MAX (32u * 1024u * 1024u)

/* ---- connection ---- */

pg_conn *cluster__pg_connect(const cluster *c, err *e)
{
    char timeout_s[16], user_ms[16], idle_s[16];
    snprintf(timeout_s, sizeof timeout_s, "%u", c->o.node_timeout_ms / 1000 + 1);
    snprintf(user_ms, sizeof user_ms, "%u", c->o.node_timeout_ms);
    snprintf(idle_s, sizeof idle_s, "%u", c->o.heartbeat_ms / 1000 + 1);
    const char *keys[] = {"dbname", "connect_timeout", "keepalives", "keepalives_idle",
                          "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                          "application_name", NULL};
    const char *vals[] = {c->pg_url, timeout_s, "1", idle_s, "1", "3", user_ms,
                          "durable-cluster", NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn) {
        err_setf(e, DUR_ENOMEM, "cluster: out of memory connecting to PostgreSQL");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        msg[strcspn(msg, "\n")] = 0;
        err_setf(e, DUR_ECLOSED, "cluster: cannot connect to PostgreSQL: %s", msg);
        PQfinish(conn);
        return NULL;
    }
    /* A node paused or cut off in the middle of a transaction (CL-17) must not
     * hold an object's row lock for longer than a lease: PostgreSQL ends such a
     * session after node_timeout. And a statement waits for a lock at most half a
     * lease, so a stuck lock cannot stop our heartbeats for long. Both settings
     * are PostgreSQL's (CockroachDB knows them too); an engine that refuses one
     * still works, just without that bound. */
    char set[200];
    uint32_t lease = c->o.node_timeout_ms - c->margin_ms;
    uint32_t lock_ms = lease / 2 > 100 ? lease / 2 : 100;
    PQclear(PQexec(conn, "SET client_min_messages = warning"));
    snprintf(set, sizeof set, "SET idle_in_transaction_session_timeout = %u", c->o.node_timeout_ms);
    PQclear(PQexec(conn, set));
    snprintf(set, sizeof set, "SET lock_timeout = %u", lock_ms);
    PQclear(PQexec(conn, set));
    return (pg_conn *)conn;
}

void cluster__pg_close(pg_conn *conn)
{
    if (conn)
        PQfinish(PGC(conn));
}

/* The first line of the server's message for r (or the connection's). */
static const char *pg_msg(PGconn *conn, PGresult *r, char *out, size_t cap)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m)
        m = PQerrorMessage(conn);
    snprintf(out, cap, "%s", m && *m ? m : "unknown error");
    out[strcspn(out, "\n")] = 0;
    return out;
}

static bool res_ok(PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

/* Runs sql; 0 with *out (caller clears) or <0 with *e. Text results. */
static int exec_params(PGconn *conn, const char *sql, int n, const char *const *vals,
                       const int *lens, const int *fmts, int result_binary, PGresult **out, err *e)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, vals, lens, fmts, result_binary);
    if (!r || !res_ok(r)) {
        char m[300];
        err_setf(e, PQstatus(conn) == CONNECTION_OK ? DUR_EINVAL : DUR_ECLOSED,
                 "cluster: PostgreSQL: %s", pg_msg(conn, r, m, sizeof m));
        PQclear(r);
        return e ? e->code : DUR_EINVAL;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

/* PQexec, not PQexecParams: a migration is several statements, which the extended
 * protocol refuses ("cannot insert multiple commands into a prepared statement"). */
static int exec_simple(PGconn *conn, const char *sql, err *e)
{
    PGresult *r = PQexec(conn, sql);
    if (!r || !res_ok(r)) {
        char m[300];
        err_setf(e, PQstatus(conn) == CONNECTION_OK ? DUR_EINVAL : DUR_ECLOSED,
                 "cluster: PostgreSQL: %s", pg_msg(conn, r, m, sizeof m));
        PQclear(r);
        return e ? e->code : DUR_EINVAL;
    }
    PQclear(r);
    return 0;
}

static void rollback(PGconn *conn)
{
    if (PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
}

static int64_t get_i64(PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    if (PQfformat(r, col) == 1) {
        const uint8_t *b = (const uint8_t *)PQgetvalue(r, row, col);
        int len = PQgetlength(r, row, col);
        uint64_t v = 0;
        for (int i = 0; i < len; i++)
            v = (v << 8) | b[i];
        if (len == 4)
            return (int32_t)(uint32_t)v;
        return (int64_t)v;
    }
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* ---- schema (versioned; durable creates and migrates it) ---- */

/* Migration i brings the schema from version i to i + 1: its statements, run one
 * by one in one transaction. */
static const char *const migration_1[] = {
    "CREATE TABLE IF NOT EXISTS nodes ("
    "  id text PRIMARY KEY, addr text NOT NULL, started_at timestamptz NOT NULL,"
    "  heartbeat_at timestamptz NOT NULL, state text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS objects ("
    "  key text PRIMARY KEY, owner text, epoch bigint NOT NULL DEFAULT 0,"
    "  seq bigint NOT NULL DEFAULT 0, snapshot_seq bigint NOT NULL DEFAULT 0, alarm_ms bigint)",
    "CREATE INDEX IF NOT EXISTS objects_owner ON objects (owner)",
    "CREATE INDEX IF NOT EXISTS objects_alarm ON objects (alarm_ms)",
    "CREATE TABLE IF NOT EXISTS log ("
    "  key text NOT NULL, seq bigint NOT NULL, frames bytea NOT NULL, PRIMARY KEY (key, seq))",
    "CREATE TABLE IF NOT EXISTS snapshots ("
    "  key text PRIMARY KEY, seq bigint NOT NULL, image bytea NOT NULL)",
    "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL)",
    NULL,
};
/* Version 2: each process start of a node writes a fresh random incarnation, so a
 * second process with the same node id is told apart from the first. */
static const char *const migration_2[] = {
    "ALTER TABLE nodes ADD COLUMN IF NOT EXISTS incarnation text NOT NULL DEFAULT ''",
    NULL,
};
static const char *const *const migrations[CLUSTER_SCHEMA_VERSION] = {migration_1, migration_2};

static int schema_once(PGconn *conn, err *e)
{
    int rc = exec_simple(conn, "CREATE TABLE IF NOT EXISTS durable_schema (version integer NOT NULL)", e);
    if (rc < 0)
        return rc;
    PGresult *r;
    rc = exec_params(conn, "SELECT coalesce(max(version), 0) FROM durable_schema", 0, NULL, NULL,
                     NULL, 0, &r, e);
    if (rc < 0)
        return rc;
    int64_t have = get_i64(r, 0, 0);
    PQclear(r);
    if (have > CLUSTER_SCHEMA_VERSION)
        return err_setf(e, DUR_EINVAL, "cluster: the PostgreSQL schema is version %" PRId64
                        ", newer than this durable knows (version %d): upgrade durable on this node",
                        have, CLUSTER_SCHEMA_VERSION);
    for (int64_t v = have; v < CLUSTER_SCHEMA_VERSION; v++) {
        if ((rc = exec_simple(conn, "BEGIN", e)) < 0)
            return rc;
        char ver[24];
        snprintf(ver, sizeof ver, "%" PRId64, v + 1);
        const char *vals[] = {ver};
        for (const char *const *m = migrations[v]; *m && rc == 0; m++)
            rc = exec_simple(conn, *m, e);
        if (rc < 0 ||
            (rc = exec_params(conn, "INSERT INTO durable_schema (version) VALUES ($1::integer)", 1, vals,
                              NULL, NULL, 0, NULL, e)) < 0 ||
            (rc = exec_simple(conn, "COMMIT", e)) < 0) {
            rollback(conn);
            return rc;
        }
        log_msg(LOG_INFO, "cluster: PostgreSQL schema migrated to version %" PRId64, v + 1);
    }
    return 0;
}

int cluster__schema(pg_conn *conn, err *e)
{
    /* Two nodes starting at once may race on CREATE TABLE IF NOT EXISTS (a unique
     * violation in the catalog): the loser tries again. */
    int rc = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        rc = schema_once(PGC(conn), e);
        if (rc == 0 || rc == DUR_ECLOSED || (e && strstr(e->msg, "newer than this durable")))
            return rc;
        struct timespec ts = {0, 50 * 1000 * 1000 * (attempt + 1)};
        nanosleep(&ts, NULL);
    }
    return rc;
}

/* ---- membership (CL-1) ---- */

static char *ms_text(char *out, size_t cap, int64_t v)
{
    snprintf(out, cap, "%" PRId64, v);
    return out;
}

int cluster__node_id_check(cluster *c, pg_conn *conn, err *e)
{
    char to[24];
    const char *v[] = {c->node_id, ms_text(to, sizeof to, c->o.node_timeout_ms)};
    int64_t deadline = cluster__now_ms() + c->o.node_timeout_ms + c->o.heartbeat_ms + 1000;
    char first[64] = "";
    for (;;) {
        PGresult *r;
        int rc = exec_params(PGC(conn), "SELECT incarnation, heartbeat_at::text, (state <> 'left' AND "
                             "heartbeat_at >= now() - $2::bigint * interval '1 millisecond') "
                             "FROM nodes WHERE id = $1", 2, v, NULL, NULL, 0, &r, e);
        if (rc < 0)
            return rc;
        if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 2), "t") != 0) {
            PQclear(r);
            return 0;   /* no such node, or it left, or its heartbeat lapsed */
        }
        if (!first[0]) {
            snprintf(first, sizeof first, "%s", PQgetvalue(r, 0, 1));
            log_msg(LOG_WARN, "cluster: node %s is alive in PostgreSQL (heartbeat %s): a previous "
                    "process with this id, or another one running now? Waiting for its heartbeat "
                    "to lapse (at most %u ms)", c->node_id, first,
                    c->o.node_timeout_ms + c->o.heartbeat_ms);
        } else if (strcmp(first, PQgetvalue(r, 0, 1)) != 0) {
            rc = err_setf(e, DUR_EINVAL, "another durable process is running as node '%s' (its "
                          "heartbeat in PostgreSQL keeps moving; incarnation %.32s): refusing to "
                          "start a second one. Stop it, or give this node another --node-id",
                          c->node_id, PQgetvalue(r, 0, 0));
            PQclear(r);
            return rc;
        }
        PQclear(r);
        if (cluster__now_ms() >= deadline) {
            log_msg(LOG_WARN, "cluster: node %s's heartbeat neither moved nor lapsed in %u ms "
                    "(clocks?); taking the id over", c->node_id,
                    c->o.node_timeout_ms + c->o.heartbeat_ms + 1000);
            return 0;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int cluster__register(cluster *c, pg_conn *conn, err *e)
{
    const char *vals[] = {c->node_id, c->advertise, c->incarnation};
    int rc = exec_params(PGC(conn),
        "INSERT INTO nodes (id, addr, started_at, heartbeat_at, state, incarnation) "
        "VALUES ($1, $2, now(), now(), 'alive', $3) "
        "ON CONFLICT (id) DO UPDATE SET addr = EXCLUDED.addr, started_at = now(), heartbeat_at = now(), "
        "state = 'alive', incarnation = EXCLUDED.incarnation", 3, vals, NULL, NULL, 0, NULL, e);
    if (rc < 0)
        return rc;
    /* A previous process with this id is gone (the data folder is ours): what it
     * owned is free to claim again, by us or anyone. */
    return exec_params(PGC(conn), "UPDATE objects SET owner = NULL WHERE owner = $1", 1, vals, NULL,
                       NULL, 0, NULL, e);
}

/* ---- a small map from key to a few numbers (the cluster thread's own) ---- */

typedef struct kent {
    struct kent *next;
    uint64_t epoch;
    int64_t a, b, n;       /* per map: see its users */
    cluster_port *port;
    char key[];
} kent;

typedef struct kmap {
    kent **slots;
    size_t cap, count;
} kmap;

static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static kent *kmap_get(kmap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    for (kent *x = m->slots[key_hash(key) & (m->cap - 1)]; x; x = x->next)
        if (strcmp(x->key, key) == 0)
            return x;
    return NULL;
}

/* The entry for key, made (zeroed) if missing; NULL on OOM. */
static kent *kmap_put(kmap *m, const char *key)
{
    kent *x = kmap_get(m, key);
    if (x)
        return x;
    if (m->count + 1 > m->cap / 2) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        kent **ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            for (kent *y = m->slots[i], *nx; y; y = nx) {
                nx = y->next;
                size_t h = key_hash(y->key) & (ncap - 1);
                y->next = ns[h];
                ns[h] = y;
            }
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    size_t kl = strlen(key);
    x = calloc(1, sizeof *x + kl + 1);
    if (!x)
        return NULL;
    memcpy(x->key, key, kl + 1);
    size_t h = key_hash(key) & (m->cap - 1);
    x->next = m->slots[h];
    m->slots[h] = x;
    m->count++;
    return x;
}

static void kmap_del(kmap *m, const char *key)
{
    if (!m->cap)
        return;
    kent **pp = &m->slots[key_hash(key) & (m->cap - 1)];
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0) {
            kent *x = *pp;
            *pp = x->next;
            free(x);
            m->count--;
            return;
        }
    }
}

static void kmap_clear(kmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        for (kent *y = m->slots[i], *nx; y; y = nx) {
            nx = y->next;
            free(y);
        }
    }
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

/* ---- the cluster thread ---- */

typedef struct pgst {
    creq *head, *tail;         /* requests taken from the queue, in arrival order */
    kmap poisoned;             /* key -> epoch whose commits fail: a = CLUSTER_EV_FENCED/FAILED */
    kmap owned;                /* key -> epoch, port that claimed it; a = DRAIN sent */
    kmap alarms_sent;          /* key -> a = monotonic ms an ALARM went out */
    int64_t alarms_cleared_ms;
    int64_t backoff_ms, retry_at_ms;
    bool had_lease;
    bool down_logged;
    bool commit_prepared;      /* commit_sql is prepared on c->conn as "durable_commit" */
    bool claim_prepared;       /* claim_sql is prepared on c->conn as "durable_claim" */
} pgst;

static void event_for(cluster_event *ev, cluster_ev_kind kind, const creq *r)
{
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    memcpy(ev->key, r->key, sizeof ev->key);
    ev->epoch = r->epoch;
    ev->ticket = r->ticket;
}

static void answer_failed(cluster *c, const creq *r, const char *msg)
{
    cluster_event ev;
    event_for(&ev, CLUSTER_EV_FAILED, r);
    snprintf(ev.msg, sizeof ev.msg, "%s", msg);
    if (r->kind == CREQ_COMMIT)
        atomic_fetch_add(&c->stats.failed, 1);
    cluster__answer(r->port, &ev);
}

static void poison(pgst *st, const char *key, uint64_t epoch, cluster_ev_kind kind)
{
    kent *x = kmap_put(&st->poisoned, key);
    if (x) {
        x->epoch = epoch;
        x->a = kind;
    }
}

static void disconnect(cluster *c, pgst *st, const char *why)
{
    if (!st->down_logged)
        log_msg(LOG_WARN, "cluster: lost PostgreSQL (%s); reconnecting", why);
    st->down_logged = true;
    cluster__pg_close(c->conn);
    c->conn = NULL;
    st->commit_prepared = false;
    st->claim_prepared = false;
    st->backoff_ms = 100;
    st->retry_at_ms = cluster__now_ms() + st->backoff_ms;
}

static void try_connect(cluster *c, pgst *st)
{
    if (cluster__now_ms() < st->retry_at_ms)
        return;
    err e = {0};
    pg_conn *conn = cluster__pg_connect(c, &e);
    if (!conn) {
        st->backoff_ms = st->backoff_ms < 100 ? 100 : st->backoff_ms * 2;
        if (st->backoff_ms > 2000)
            st->backoff_ms = 2000;
        st->retry_at_ms = cluster__now_ms() + st->backoff_ms;
        if (!st->down_logged)
            log_msg(LOG_WARN, "%s", e.msg);
        st->down_logged = true;
        return;
    }
    c->conn = conn;
    atomic_fetch_add(&c->stats.reconnects, 1);
    log_msg(LOG_INFO, "cluster: reconnected to PostgreSQL");
    st->down_logged = false;
    st->backoff_ms = 0;
}

/* After a failed statement: true if the connection is gone (then dropped). */
static bool conn_lost(cluster *c, pgst *st, const err *e)
{
    if (c->conn && PQstatus(PGC(c->conn)) == CONNECTION_OK)
        return false;
    disconnect(c, st, e && e->msg[0] ? e->msg : "connection closed");
    return true;
}

/* CL-7: a lease that lapsed since last time bumps lease_gen and fails the commits
 * that were waiting for PostgreSQL. */
static void lease_watch(cluster *c, pgst *st)
{
    bool ok = cluster_lease_ok(c);
    if (st->had_lease && !ok) {
        atomic_fetch_add(&c->lease_gen, 1);
        log_msg(LOG_WARN, "cluster: lease lost (no heartbeat reached PostgreSQL for %u ms); "
                "this node's objects stop serving until it heartbeats again",
                c->o.node_timeout_ms - c->margin_ms);
        creq **pp = &st->head;
        st->tail = NULL;
        while (*pp) {
            creq *r = *pp;
            if (r->kind == CREQ_COMMIT) {
                *pp = r->next;
                answer_failed(c, r, "cluster: PostgreSQL unreachable and the lease expired; "
                              "the write was not committed");
                poison(st, r->key, r->epoch, CLUSTER_EV_FAILED);
                cluster__creq_free(r);
            } else {
                st->tail = r;
                pp = &r->next;
            }
        }
        kmap_clear(&st->owned);
    }
    st->had_lease = ok;
}

/* ---- heartbeat, drain and alarms (CL-1, CL-7, CL-8, CL-14) ---- */

static void drain_step(cluster *c, pgst *st)
{
    err e = {0};
    PGresult *r;
    const char *vals[] = {c->node_id};
    if (exec_params(PGC(c->conn), "SELECT key, epoch FROM objects WHERE owner = $1", 1, vals, NULL, NULL,
                    0, &r, &e) < 0) {
        conn_lost(c, st, &e);
        return;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *key = PQgetvalue(r, i, 0);
        uint64_t epoch = (uint64_t)get_i64(r, i, 1);
        kent *x = kmap_get(&st->owned, key);
        if (x && x->epoch == epoch && x->port && !x->port->closed) {
            if (!x->a) {
                cluster_event ev = {.kind = CLUSTER_EV_DRAIN, .epoch = epoch};
                snprintf(ev.key, sizeof ev.key, "%s", key);
                cluster__answer(x->port, &ev);
                x->a = 1;
            }
            continue;
        }
        /* No instance of ours holds it: give it up here. */
        char ep[24];
        const char *v2[] = {key, c->node_id, ms_text(ep, sizeof ep, (int64_t)epoch)};
        if (exec_params(PGC(c->conn), "UPDATE objects SET owner = NULL WHERE key = $1 AND owner = $2 "
                        "AND epoch = $3::bigint", 3, v2, NULL, NULL, 0, NULL, &e) < 0) {
            PQclear(r);
            conn_lost(c, st, &e);
            return;
        }
    }
    PQclear(r);
}

static void alarm_step(cluster *c, pgst *st)
{
    int64_t now = cluster__now_ms();
    if (now - st->alarms_cleared_ms > (int64_t)c->o.node_timeout_ms) {
        kmap_clear(&st->alarms_sent);
        st->alarms_cleared_ms = now;
    }
    pthread_mutex_lock(&c->ports_mu);
    bool any = false;
    for (cluster_port *p = c->ports; p; p = p->next)
        any = any || !p->closed;
    pthread_mutex_unlock(&c->ports_mu);
    if (!any)
        return;
    err e = {0};
    PGresult *r;
    char to[24];
    const char *vals[] = {ms_text(to, sizeof to, c->o.node_timeout_ms)};
    if (exec_params(PGC(c->conn),
            "SELECT o.key FROM objects o LEFT JOIN nodes n ON n.id = o.owner "
            "WHERE o.alarm_ms IS NOT NULL AND o.alarm_ms <= (extract(epoch FROM now()) * 1000)::bigint "
            "AND (o.owner IS NULL OR n.id IS NULL OR n.state = 'left' "
            "OR n.heartbeat_at < now() - $1::bigint * interval '1 millisecond') "
            "ORDER BY o.alarm_ms LIMIT 64", 1, vals, NULL, NULL, 0, &r, &e) < 0) {
        conn_lost(c, st, &e);
        return;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *key = PQgetvalue(r, i, 0);
        if (kmap_get(&st->alarms_sent, key))
            continue;
        kent *x = kmap_put(&st->alarms_sent, key);
        if (x)
            x->a = now;
        cluster_event ev = {.kind = CLUSTER_EV_ALARM};
        snprintf(ev.key, sizeof ev.key, "%s", key);
        pthread_mutex_lock(&c->ports_mu);
        size_t n = 0;
        for (cluster_port *p = c->ports; p; p = p->next)
            n += !p->closed;
        cluster_port *to_port = NULL;
        size_t want = n ? c->alarm_rr++ % n : 0;
        for (cluster_port *p = c->ports; p; p = p->next) {
            if (p->closed)
                continue;
            if (want-- == 0) {
                to_port = p;
                break;
            }
        }
        pthread_mutex_unlock(&c->ports_mu);
        cluster__answer(to_port, &ev);
    }
    PQclear(r);
}

/* Our row's incarnation is another process's (it started with our node id while
 * we were paused or cut off): true, and this node fences itself for good — no
 * heartbeat, no claim, no lease (every instance resets), nothing written to our
 * row or our objects' rows again. */
static bool self_fence_check(cluster *c, pgst *st)
{
    err e = {0};
    PGresult *r;
    const char *v[] = {c->node_id};
    if (exec_params(PGC(c->conn), "SELECT incarnation FROM nodes WHERE id = $1", 1, v, NULL, NULL, 0,
                    &r, &e) < 0) {
        conn_lost(c, st, &e);
        return true;   /* not known yet: no re-registration on a guess */
    }
    bool other = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), c->incarnation) != 0;
    if (other) {
        log_msg(LOG_ERROR, "cluster: another process now runs as node %s (incarnation %.32s; this one "
                "is %s): this process stops serving Durable Objects for good. Stop it, or restart "
                "it with another --node-id", c->node_id, PQgetvalue(r, 0, 0), c->incarnation);
        atomic_store(&c->self_fenced, true);
        atomic_fetch_add(&c->lease_gen, 1);
    }
    PQclear(r);
    return other;
}

static void heartbeat(cluster *c, pgst *st)
{
    int64_t sent = cluster__now_ms();
    err e = {0};
    PGresult *r;
    const char *vals[] = {c->node_id, c->advertise, c->incarnation};
    if (atomic_load(&c->self_fenced))
        return;
    if (exec_params(PGC(c->conn), "UPDATE nodes SET heartbeat_at = now(), addr = $2 WHERE id = $1 "
                    "AND incarnation = $3 RETURNING state", 3, vals, NULL, NULL, 0, &r, &e) < 0) {
        conn_lost(c, st, &e);
        return;
    }
    bool draining = false;
    if (PQntuples(r) == 0) {
        PQclear(r);
        if (self_fence_check(c, st))
            return;
        if (cluster__register(c, c->conn, &e) < 0) {
            conn_lost(c, st, &e);
            return;
        }
    } else {
        draining = strcmp(PQgetvalue(r, 0, 0), "draining") == 0;
        PQclear(r);
    }
    /* A lease that lapsed while this heartbeat was in flight is still a lost
     * lease: the shards must reset what they hold (another node may have
     * claimed it meanwhile), so the generation moves before the renewal. */
    lease_watch(c, st);
    atomic_store(&c->lease_sent_ms, sent);
    st->had_lease = true;
    if (draining && !atomic_load(&c->draining))
        log_msg(LOG_INFO, "cluster: node %s is draining: handing its objects over", c->node_id);
    atomic_store(&c->draining, draining);
    if (draining)
        drain_step(c, st);
    else if (c->conn)
        alarm_step(c, st);
}

/* ---- claim (CL-4, CL-12) ---- */

/* q's object is this node's at epoch, its file rebuilt: the answer and our books. */
static void claimed(cluster *c, pgst *st, const creq *q, cluster_event *ev, uint64_t epoch, int64_t seq)
{
    ev->kind = CLUSTER_EV_CLAIMED;
    ev->epoch = epoch;
    ev->seq = seq;
    kent *x = kmap_put(&st->owned, q->key);
    if (x) {
        x->epoch = epoch;
        x->port = q->port;
        x->a = 0;
    }
    kmap_del(&st->poisoned, q->key);
    atomic_fetch_add(&c->stats.claims, 1);
}

/* The claim in one statement, one round trip (autocommit): take the row if nobody
 * live owns it (or we do), inserting it if new, and in the same statement read
 * the snapshot and the log after it, or the live owner and its address. Result
 * rows (binary), ordered by k then a:
 *   k=0: a=epoch, b=seq of the row we took (its latest version, after the lock);
 *   k=1: a=snapshot seq, d=image;        k=2: a=seq, d=frames (the log after it);
 *   k=3: owner, addr (only when we did not take it).
 * $4, $5: the epoch and seq of the local file's position file (frames_pos_read;
 * -1 without one). When the row we took is at epoch $4 + 1 and seq $5 — nobody
 * claimed it since we let it go, nothing was committed since — the file is what
 * PostgreSQL holds and the snapshot and log are not read (the shortcut).
 * The reads use the statement's snapshot, which may be older than the row version
 * the upsert locked (it waited for another transaction): the log read is then
 * short of the row's seq, which claim_fast checks. */
static const char claim_sql[] =
    "WITH up AS ("
    "  INSERT INTO objects AS o (key, owner, epoch) VALUES ($1, $2, 1)"
    "  ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, epoch = o.epoch + 1"
    "  WHERE o.owner IS NULL OR o.owner = EXCLUDED.owner OR NOT EXISTS ("
    "    SELECT 1 FROM nodes n WHERE n.id = o.owner AND n.state <> 'left'"
    "    AND n.heartbeat_at >= now() - $3::bigint * interval '1 millisecond')"
    "  RETURNING o.epoch, o.seq)"
    " , need AS (SELECT 1 FROM up WHERE NOT (up.epoch = $4::bigint + 1 AND up.seq = $5::bigint)),"
    " s AS (SELECT seq, image FROM snapshots WHERE key = $1 AND EXISTS (SELECT 1 FROM need))"
    "SELECT 0 AS k, epoch AS a, seq AS b, NULL::bytea AS d, NULL::text AS owner, NULL::text AS addr FROM up"
    " UNION ALL SELECT 1, seq, 0, image, NULL, NULL FROM s"
    " UNION ALL SELECT 2, l.seq, 0, l.frames, NULL, NULL FROM log l WHERE l.key = $1"
    "   AND EXISTS (SELECT 1 FROM need) AND l.seq > coalesce((SELECT seq FROM s), 0)"
    " UNION ALL SELECT 3, 0, 0, NULL, o.owner, n.addr FROM objects o LEFT JOIN nodes n ON n.id = o.owner"
    "   WHERE o.key = $1 AND NOT EXISTS (SELECT 1 FROM up)"
    " ORDER BY 1, 2";

/* A failed statement of claim_fast: *e, r cleared. */
static int claim_err(PGconn *conn, PGresult *r, err *e)
{
    char m[300];
    err_setf(e, PQstatus(conn) == CONNECTION_OK ? DUR_EINVAL : DUR_ECLOSED, "cluster: PostgreSQL: %s",
             pg_msg(conn, r, m, sizeof m));
    PQclear(r);
    return e ? e->code : DUR_EINVAL;
}

/* 1: answered in ev (CLAIMED or REMOTE); 0: in doubt, nothing answered (the
 * caller runs claim_tx, which may take the object again: one more epoch, which
 * no instance holds yet); <0: error with *e. */
static int claim_fast(cluster *c, pgst *st, creq *q, cluster_event *ev, err *e)
{
    PGconn *conn = PGC(c->conn);
    if (!st->claim_prepared) {
        PGresult *pr = PQprepare(conn, "durable_claim", claim_sql, 5, NULL);
        atomic_fetch_add(&c->stats.claim_round_trips, 1);
        if (!pr || !res_ok(pr))
            return claim_err(conn, pr, e);
        PQclear(pr);
        st->claim_prepared = true;
    }
    uint64_t pos_epoch = 0;
    int64_t pos_seq = -1;
    bool have_pos = frames_pos_read(q->path, &pos_epoch, &pos_seq) == 1 && pos_epoch < INT64_MAX;
    char to[24], pe[24], ps[24];
    const char *v[] = {q->key, c->node_id, ms_text(to, sizeof to, c->o.node_timeout_ms),
                       ms_text(pe, sizeof pe, have_pos ? (int64_t)pos_epoch : -1),
                       ms_text(ps, sizeof ps, have_pos ? pos_seq : -1)};
    atomic_fetch_add(&c->stats.claim_round_trips, 1);
    PGresult *r = PQexecPrepared(conn, "durable_claim", 5, v, NULL, NULL, 1);
    if (!r || !res_ok(r))
        return claim_err(conn, r, e);
    int rows = PQntuples(r), rc = 0;
    frames_entry *ents = NULL;
    if (rows == 0 || get_i64(r, 0, 0) == 3) {
        /* Not ours: the owner as the statement saw it. Missing, nobody, or
         * ourselves (the row changed under the statement): in doubt. */
        if (rows == 1 && !PQgetisnull(r, 0, 4) && strcmp(PQgetvalue(r, 0, 4), c->node_id) != 0) {
            ev->kind = CLUSTER_EV_REMOTE;
            snprintf(ev->node, sizeof ev->node, "%s", PQgetvalue(r, 0, 4));
            snprintf(ev->addr, sizeof ev->addr, "%s", PQgetisnull(r, 0, 5) ? "" : PQgetvalue(r, 0, 5));
            rc = 1;
        }
        goto done;
    }
    if (get_i64(r, 0, 0) != 0)
        goto done;
    uint64_t epoch = (uint64_t)get_i64(r, 0, 1);
    int64_t seq = get_i64(r, 0, 2);
    /* Once the object is ours again the position file is stale, whatever comes. */
    frames_pos_drop(q->path);
    if (have_pos && epoch == pos_epoch + 1 && seq == pos_seq) {
        if (rows != 1)
            goto done;   /* the statement read the log after all: in doubt */
        claimed(c, st, q, ev, epoch, seq);
        atomic_fetch_add(&c->stats.claim_shortcuts, 1);
        rc = 1;
        goto done;
    }
    int at = 1;
    const uint8_t *img = (const uint8_t *)"";   /* no snapshot: from empty, never from the file */
    size_t img_len = 0;
    int64_t pos = 0;                             /* the last seq the rows below cover */
    if (at < rows && get_i64(r, at, 0) == 1) {
        pos = get_i64(r, at, 1);
        img = (const uint8_t *)PQgetvalue(r, at, 3);
        img_len = (size_t)PQgetlength(r, at, 3);
        at++;
    }
    ents = calloc((size_t)(rows - at) + 1, sizeof *ents);
    if (!ents) {
        rc = err_setf(e, DUR_ENOMEM, "cluster: out of memory rebuilding %s", q->key);
        goto done;
    }
    size_t n = 0;
    for (; at < rows; at++) {
        /* the log must follow on without a gap, up to the row's seq */
        if (get_i64(r, at, 0) != 2 || get_i64(r, at, 1) != pos + 1)
            goto done;
        pos++;
        ents[n].b = (const uint8_t *)PQgetvalue(r, at, 3);
        ents[n].len = (size_t)PQgetlength(r, at, 3);
        n++;
    }
    if (pos != seq)
        goto done;   /* the statement's reads are older than the row it took */
    if ((rc = frames_rebuild(q->path, img, img_len, ents, n, e)) < 0)
        goto done;
    claimed(c, st, q, ev, epoch, seq);
    rc = 1;
done:
    free(ents);
    PQclear(r);
    return rc;
}

/* The claim in several statements (7 round trips when it takes the object): the
 * path of a draining node, and the fallback of claim_fast whenever its one
 * statement leaves any doubt. */
static int claim_tx(cluster *c, pgst *st, creq *q, cluster_event *ev, err *e)
{
    PGconn *conn = PGC(c->conn);
    PGresult *r = NULL, *snap = NULL, *logr = NULL;
    frames_entry *ents = NULL;
    char to[24];
    int rc;
    const char *v1[] = {q->key};
    if ((rc = exec_simple(conn, "BEGIN", e)) < 0 ||
        (rc = exec_params(conn, "INSERT INTO objects (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
                          1, v1, NULL, NULL, 0, NULL, e)) < 0)
        goto done;
    const char *v2[] = {q->key, ms_text(to, sizeof to, c->o.node_timeout_ms)};
    if ((rc = exec_params(conn,
            "SELECT o.owner, n.addr, (n.id IS NOT NULL AND n.state <> 'left' AND "
            "n.heartbeat_at >= now() - $2::bigint * interval '1 millisecond') AS alive "
            "FROM objects o LEFT JOIN nodes n ON n.id = o.owner WHERE o.key = $1 FOR UPDATE OF o",
            2, v2, NULL, NULL, 0, &r, e)) < 0)
        goto done;
    if (PQntuples(r) != 1) {
        rc = err_setf(e, DUR_EINVAL, "cluster: object row of %s vanished", q->key);
        goto done;
    }
    const char *owner = PQgetisnull(r, 0, 0) ? NULL : PQgetvalue(r, 0, 0);
    bool alive = strcmp(PQgetvalue(r, 0, 2), "t") == 0;
    if (owner && alive && strcmp(owner, c->node_id) != 0) {
        ev->kind = CLUSTER_EV_REMOTE;
        snprintf(ev->node, sizeof ev->node, "%s", owner);
        snprintf(ev->addr, sizeof ev->addr, "%s", PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1));
        rc = exec_simple(conn, "COMMIT", e);
        atomic_fetch_add(&c->stats.claim_round_trips, 4);
        goto done;
    }
    if (atomic_load(&c->draining)) {
        /* A draining node takes no new objects: it points at a live node that is
         * not draining, which claims the object when the call reaches it. */
        PQclear(r);
        r = NULL;
        const char *vd[] = {c->node_id, to};
        if ((rc = exec_params(conn, "SELECT id, addr FROM nodes WHERE id <> $1 AND state = 'alive' AND "
                              "heartbeat_at >= now() - $2::bigint * interval '1 millisecond' "
                              "ORDER BY heartbeat_at DESC LIMIT 1", 2, vd, NULL, NULL, 0, &r, e)) < 0)
            goto done;
        if (PQntuples(r) == 0) {
            rc = err_setf(e, DUR_ECLOSED, "cluster: node %s is draining and no other node is alive to "
                          "take %.100s", c->node_id, q->key);
            goto done;
        }
        ev->kind = CLUSTER_EV_REMOTE;
        snprintf(ev->node, sizeof ev->node, "%s", PQgetvalue(r, 0, 0));
        snprintf(ev->addr, sizeof ev->addr, "%s", PQgetvalue(r, 0, 1));
        rc = exec_simple(conn, "COMMIT", e);
        atomic_fetch_add(&c->stats.claim_round_trips, 5);
        goto done;
    }
    PQclear(r);
    r = NULL;
    const char *v3[] = {q->key, c->node_id};
    if ((rc = exec_params(conn, "UPDATE objects SET owner = $2, epoch = epoch + 1 WHERE key = $1 "
                          "RETURNING epoch, seq", 2, v3, NULL, NULL, 0, &r, e)) < 0)
        goto done;
    uint64_t epoch = (uint64_t)get_i64(r, 0, 0);
    int64_t seq = get_i64(r, 0, 1);
    if ((rc = exec_params(conn, "SELECT seq, image FROM snapshots WHERE key = $1", 1, v1, NULL, NULL, 1,
                          &snap, e)) < 0)
        goto done;
    int64_t snap_seq = PQntuples(snap) ? get_i64(snap, 0, 0) : 0;
    char ss[24];
    const char *v4[] = {q->key, ms_text(ss, sizeof ss, snap_seq)};
    if ((rc = exec_params(conn, "SELECT frames FROM log WHERE key = $1 AND seq > $2::bigint ORDER BY seq",
                          2, v4, NULL, NULL, 1, &logr, e)) < 0 ||
        (rc = exec_simple(conn, "COMMIT", e)) < 0)
        goto done;
    atomic_fetch_add(&c->stats.claim_round_trips, 7);
    /* The local file is always rebuilt from PostgreSQL (CL-12's "unless already at
     * the latest position" shortcut is not taken): whatever a previous life of
     * this node left there may hold writes that never committed. */
    int n = PQntuples(logr);
    ents = calloc(n ? (size_t)n : 1, sizeof *ents);
    if (!ents) {
        rc = err_setf(e, DUR_ENOMEM, "cluster: out of memory rebuilding %s", q->key);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        ents[i].b = (const uint8_t *)PQgetvalue(logr, i, 0);
        ents[i].len = (size_t)PQgetlength(logr, i, 0);
    }
    /* No snapshot: from empty (a non-NULL image of 0 bytes), never from the file. */
    const uint8_t *img = PQntuples(snap) ? (const uint8_t *)PQgetvalue(snap, 0, 1) : (const uint8_t *)"";
    size_t img_len = PQntuples(snap) ? (size_t)PQgetlength(snap, 0, 1) : 0;
    frames_pos_drop(q->path);
    if ((rc = frames_rebuild(q->path, img, img_len, ents, (size_t)n, e)) < 0)
        goto done;
    claimed(c, st, q, ev, epoch, seq);
done:
    if (rc < 0)
        rollback(conn);
    free(ents);
    PQclear(r);
    PQclear(snap);
    PQclear(logr);
    return rc;
}

static void do_claim(cluster *c, pgst *st, creq *q)
{
    cluster_event ev;
    event_for(&ev, 0, q);
    err e = {0};
    if (atomic_load(&c->self_fenced)) {
        answer_failed(c, q, "cluster: another process runs with this node's id; this one is fenced");
        return;
    }
    /* A draining node takes no new objects (claim_tx points elsewhere). */
    int rc = atomic_load(&c->draining) ? 0 : claim_fast(c, st, q, &ev, &e);
    if (rc < 0 && c->conn && PQstatus(PGC(c->conn)) == CONNECTION_OK) {
        /* a statement error (an engine that refuses the one statement?): the
         * long way, which says what is wrong if it fails too */
        log_msg(LOG_DEBUG, "%s (claim of %s; trying again in several statements)", e.msg, q->key);
        memset(&e, 0, sizeof e);
        rc = 0;
    }
    if (rc == 0)
        rc = claim_tx(c, st, q, &ev, &e);
    if (rc < 0) {
        conn_lost(c, st, &e);
        answer_failed(c, q, e.msg);
        return;
    }
    cluster__answer(q->port, &ev);
}

/* ---- group commit (CL-6, CL-9, CL-10) ---- */

/* One statement, one round trip, one transaction for the whole batch: per key,
 * the objects row is updated only where owner and epoch still match (the fence)
 * and seq moves by that key's number of commits; the log rows are inserted only
 * for the keys whose update matched. Keys missing from the result are fenced.
 * A key's commits in one batch share its epoch (batch_build makes sure). */
static const char commit_sql[] =
    "WITH inp AS ("
    "  SELECT t.key, t.epoch, t.off, t.len, t.alarm, t.ord,"
    "         row_number() OVER (PARTITION BY t.key ORDER BY t.ord) AS rn,"
    "         count(*) OVER (PARTITION BY t.key) AS n"
    "  FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::integer[], $5::bigint[])"
    "       WITH ORDINALITY AS t(key, epoch, off, len, alarm, ord)),"
    " k AS (SELECT key, epoch, n, alarm FROM inp WHERE rn = n),"
    " up AS (UPDATE objects o SET seq = o.seq + k.n,"
    "          alarm_ms = CASE WHEN k.alarm < 0 THEN NULL ELSE k.alarm END"
    "        FROM k WHERE o.key = k.key AND o.owner = $7 AND o.epoch = k.epoch"
    "        RETURNING o.key, o.seq),"
    " ins AS (INSERT INTO log (key, seq, frames)"
    "         SELECT inp.key, up.seq - inp.n + inp.rn, substring($6::bytea FROM inp.off FOR inp.len)"
    "         FROM inp JOIN up ON up.key = inp.key)"
    "SELECT key, seq FROM up";

/* Appends s to an array literal as a quoted element. */
static int arr_str(buf *b, const char *s)
{
    int rc = buf_append(b, b->len > 1 ? ",\"" : "\"", b->len > 1 ? 2 : 1);
    for (; rc == 0 && *s; s++) {
        if (*s == '"' || *s == '\\')
            rc = buf_append(b, "\\", 1);
        if (rc == 0)
            rc = buf_append(b, s, 1);
    }
    return rc ? rc : buf_append(b, "\"", 1);
}

static int arr_num(buf *b, int64_t v)
{
    return buf_printf(b, b->len > 1 ? ",%" PRId64 : "%" PRId64, v);
}

typedef struct batch {
    creq *items[BATCH_COMMITS_MAX];
    size_t n, bytes;
    kmap keys;                 /* key -> epoch; a = commits in batch, b = seq after, n = answered */
} batch;

static void batch_reset(batch *bt)
{
    bt->n = bt->bytes = 0;
    kmap_clear(&bt->keys);
}

/* Runs the batch: 0 (every item answered and freed), or DUR_ECLOSED (connection
 * lost; the items stay for a retry). */
static int batch_run(cluster *c, pgst *st, batch *bt)
{
    if (bt->n == 0)
        return 0;
    buf keys, epochs, offs, lens, alarms, blob;
    buf_init(&keys, SIZE_MAX);
    buf_init(&epochs, SIZE_MAX);
    buf_init(&offs, SIZE_MAX);
    buf_init(&lens, SIZE_MAX);
    buf_init(&alarms, SIZE_MAX);
    buf_init(&blob, SIZE_MAX);
    int rc = 0;
    rc |= buf_append(&keys, "{", 1) | buf_append(&epochs, "{", 1) | buf_append(&offs, "{", 1) |
          buf_append(&lens, "{", 1) | buf_append(&alarms, "{", 1);
    for (size_t i = 0; i < bt->n && rc == 0; i++) {
        creq *q = bt->items[i];
        rc |= arr_str(&keys, q->key);
        rc |= arr_num(&epochs, (int64_t)q->epoch);
        rc |= arr_num(&offs, (int64_t)blob.len + 1);
        rc |= arr_num(&lens, (int64_t)q->len);
        rc |= arr_num(&alarms, q->alarm_ms < 0 ? -1 : q->alarm_ms);
        if (q->len)
            rc |= buf_append(&blob, q->data, q->len);
    }
    rc |= buf_append(&keys, "}", 1) | buf_append(&epochs, "}", 1) | buf_append(&offs, "}", 1) |
          buf_append(&lens, "}", 1) | buf_append(&alarms, "}", 1);
    err e = {0};
    PGresult *res = NULL;
    if (rc == 0) {
        const char *vals[] = {keys.ptr, epochs.ptr, offs.ptr, lens.ptr, alarms.ptr,
                              blob.ptr ? blob.ptr : "", c->node_id};
        int plen[] = {0, 0, 0, 0, 0, (int)blob.len, 0};
        int pfmt[] = {0, 0, 0, 0, 0, 1, 0};
        atomic_fetch_add(&c->stats.commit_round_trips, 1);
        /* Prepared once per connection: planning the statement costs about as
         * much as running it for a small batch. */
        if (!st->commit_prepared) {
            PGresult *pr = PQprepare(PGC(c->conn), "durable_commit", commit_sql, 7, NULL);
            if (pr && res_ok(pr)) {
                st->commit_prepared = true;
            } else {
                char m[300];
                err_setf(&e, DUR_EINVAL, "cluster: PostgreSQL: %s", pg_msg(PGC(c->conn), pr, m, sizeof m));
                rc = e.code;
            }
            PQclear(pr);
            atomic_fetch_add(&c->stats.commit_round_trips, 1);
        }
        bool test_fail = false;   /* cluster_commit_test_fail: tests only */
        for (size_t i = 0; i < bt->n; i++)
            test_fail |= bt->items[i]->test_fail;
        if (rc == 0 && test_fail)
            rc = exec_simple(PGC(c->conn), "BEGIN", &e);
        if (rc == 0) {
            res = PQexecPrepared(PGC(c->conn), "durable_commit", 7, vals, plen, pfmt, 0);
            if (!res || !res_ok(res)) {
                char m[300];
                err_setf(&e, DUR_EINVAL, "cluster: PostgreSQL: %s", pg_msg(PGC(c->conn), res, m, sizeof m));
                rc = e.code;
                PQclear(res);
                res = NULL;
            }
        }
        if (test_fail) {
            /* The statement ran (the epoch check passed for the keys it returned);
             * now the transaction fails before it commits, as a COMMIT refused by
             * PostgreSQL would, and nothing of the batch is kept. */
            if (rc == 0)
                rc = exec_simple(PGC(c->conn), "DO $$BEGIN RAISE EXCEPTION 'the commit failed after "
                                 "the epoch check (injected by DURABLE_TEST_HOOKS)'; END$$", &e);
            if (rc == 0)
                rc = err_setf(&e, DUR_EINVAL, "cluster: the injected commit failure did not fail");
            rollback(PGC(c->conn));
            PQclear(res);
            res = NULL;
        }
    } else {
        err_setf(&e, DUR_ENOMEM, "cluster: out of memory building a commit batch");
    }
    buf_fini(&keys);
    buf_fini(&epochs);
    buf_fini(&offs);
    buf_fini(&lens);
    buf_fini(&alarms);
    buf_fini(&blob);
    if (rc < 0) {
        /* A batch whose answer was lost may have committed: retrying appends the
         * same page images again, right after themselves, which rebuilds to the
         * same file (page writes are idempotent), so a retry is safe. */
        if (conn_lost(c, st, &e))
            return DUR_ECLOSED;
        log_msg(LOG_WARN, "%s (a batch of %zu commits; retried)", e.msg, bt->n);
        return DUR_EINVAL;
    }
    for (int i = 0; i < PQntuples(res); i++) {
        kent *x = kmap_get(&bt->keys, PQgetvalue(res, i, 0));
        if (x)
            x->b = get_i64(res, i, 1);
    }
    PQclear(res);
    atomic_fetch_add(&c->stats.commit_batches, 1);
    for (size_t i = 0; i < bt->n; i++) {
        creq *q = bt->items[i];
        kent *x = kmap_get(&bt->keys, q->key);
        cluster_event ev;
        if (x && x->b > 0) {
            event_for(&ev, CLUSTER_EV_COMMITTED, q);
            ev.seq = x->b - x->a + 1 + x->n;   /* n: how many of the key answered so far */
            x->n++;
            atomic_fetch_add(&c->stats.commits, 1);
        } else {
            event_for(&ev, CLUSTER_EV_FENCED, q);
            snprintf(ev.msg, sizeof ev.msg, "cluster: %.180s was claimed by another node (epoch %" PRIu64
                     " is stale)", q->key, q->epoch);
            poison(st, q->key, q->epoch, CLUSTER_EV_FENCED);
            atomic_fetch_add(&c->stats.fenced, 1);
            kent *o = kmap_get(&st->owned, q->key);
            if (o && o->epoch == q->epoch)
                kmap_del(&st->owned, q->key);
        }
        cluster__answer(q->port, &ev);
        cluster__creq_free(q);
    }
    batch_reset(bt);
    return 0;
}

/* Takes commits from st's list into bt, in order, until the batch is full. A
 * claim, snapshot or release in the list stays where it is and holds back the
 * later commits of its key (they keep their place after it); commits of other
 * keys ride past it, so a claim does not split a batch. A commit of a key that
 * is in the batch at another epoch holds back that key too. Commits of a
 * poisoned (key, epoch) are answered here, without PostgreSQL. */
static void batch_build(cluster *c, pgst *st, batch *bt)
{
    kmap held = {0};
    creq **pp = &st->head;
    st->tail = NULL;
    while (*pp) {
        creq *q = *pp;
        if (bt->n >= BATCH_COMMITS_MAX || bt->bytes >= BATCH_BYTES_MAX) {   /* full: the rest waits */
            for (creq *r = q; r; r = r->next)
                st->tail = r;
            break;
        }
        bool take = q->kind == CREQ_COMMIT && !kmap_get(&held, q->key);
        kent *x = take ? kmap_get(&bt->keys, q->key) : NULL;
        if (take && x && x->epoch != q->epoch)
            take = false;
        if (take && bt->n > 0 && bt->bytes + q->len > BATCH_BYTES_MAX)
            take = false;
        if (!take) {
            if (!kmap_put(&held, q->key)) {   /* out of memory: stop here, order kept */
                for (creq *r = q; r; r = r->next)
                    st->tail = r;
                break;
            }
            st->tail = q;
            pp = &q->next;
            continue;
        }
        *pp = q->next;
        kent *p = kmap_get(&st->poisoned, q->key);
        if (p && p->epoch == q->epoch) {
            cluster_event ev;
            event_for(&ev, (cluster_ev_kind)p->a, q);
            snprintf(ev.msg, sizeof ev.msg, "cluster: an earlier commit of %.180s failed at this epoch", q->key);
            if (p->a == CLUSTER_EV_FENCED)
                atomic_fetch_add(&c->stats.fenced, 1);
            else
                atomic_fetch_add(&c->stats.failed, 1);
            cluster__answer(q->port, &ev);
            cluster__creq_free(q);
            continue;
        }
        if (!x && !(x = kmap_put(&bt->keys, q->key))) {
            answer_failed(c, q, "cluster: out of memory building a commit batch");
            cluster__creq_free(q);
            continue;
        }
        x->epoch = q->epoch;
        x->a++;
        bt->items[bt->n++] = q;
        bt->bytes += q->len;
    }
    kmap_clear(&held);
}

/* The batch in bt failed in PostgreSQL (not a lost connection) and holds more
 * than one object: its objects are committed one by one (each with its own
 * retries), so only the object whose commit fails gets the error, not every
 * object that happened to share its transaction. 0, DUR_ECLOSED (the unsettled
 * commits are back at the head of the list, in order) or DUR_ENOMEM (bt as it
 * was: the caller fails the batch). */
static int batch_isolate(cluster *c, pgst *st, batch *bt)
{
    size_t n = bt->n;
    creq **all = malloc(n * sizeof *all);
    size_t *pos = malloc(n * sizeof *pos);   /* where bt->items[k] was in `all` */
    if (!all || !pos) {
        free(all);
        free(pos);
        return DUR_ENOMEM;
    }
    memcpy(all, bt->items, n * sizeof *all);
    log_msg(LOG_WARN, "cluster: a commit batch of %zu commits (%zu objects) failed; its objects are "
            "committed one by one", n, bt->keys.count);
    bt->n = 0;
    batch_reset(bt);
    int rc = 0;
    for (size_t i = 0; i < n && rc != DUR_ECLOSED; i++) {
        if (!all[i])
            continue;
        char key[CLUSTER_KEY_MAX];
        memcpy(key, all[i]->key, sizeof key);
        for (size_t j = i; j < n; j++) {   /* this object's commits, in order */
            if (!all[j] || strcmp(all[j]->key, key) != 0)
                continue;
            kent *x = kmap_put(&bt->keys, key);
            if (!x) {
                answer_failed(c, all[j], "cluster: out of memory building a commit batch");
                cluster__creq_free(all[j]);
                all[j] = NULL;
                continue;
            }
            x->epoch = all[j]->epoch;
            x->a++;
            pos[bt->n] = j;
            bt->items[bt->n++] = all[j];
            bt->bytes += all[j]->len;
            all[j] = NULL;
        }
        rc = DUR_EINVAL;
        for (int attempt = 0; attempt < 3 && rc < 0 && rc != DUR_ECLOSED; attempt++)
            rc = batch_run(c, st, bt);   /* 0: answered and freed, bt reset */
        if (rc == DUR_ECLOSED) {
            for (size_t k = 0; k < bt->n; k++)
                all[pos[k]] = bt->items[k];
        } else {
            for (size_t k = 0; k < bt->n; k++) {   /* still failing: this object alone fails */
                answer_failed(c, bt->items[k], "cluster: PostgreSQL refused the commit");
                poison(st, bt->items[k]->key, bt->items[k]->epoch, CLUSTER_EV_FAILED);
                cluster__creq_free(bt->items[k]);
            }
        }
        bt->n = 0;
        batch_reset(bt);
    }
    for (size_t j = n; rc == DUR_ECLOSED && j-- > 0;) {   /* back in their order */
        if (!all[j])
            continue;
        all[j]->next = st->head;
        st->head = all[j];
        if (!st->tail)
            st->tail = all[j];
    }
    free(all);
    free(pos);
    return rc == DUR_ECLOSED ? DUR_ECLOSED : 0;
}

/* Puts the batch's items back at the head of the list (connection lost). */
static void batch_unbuild(pgst *st, batch *bt)
{
    for (size_t i = bt->n; i-- > 0;) {
        creq *q = bt->items[i];
        q->next = st->head;
        st->head = q;
        if (!st->tail)
            st->tail = q;
    }
    bt->n = 0;
    batch_reset(bt);
}

/* ---- snapshot (CL-11) and release (CL-8) ---- */

static int snapshot_tx(cluster *c, creq *q, err *e)
{
    PGconn *conn = PGC(c->conn);
    PGresult *r = NULL;
    char ep[24], sq[24];
    int rc;
    const char *v[] = {q->key, c->node_id, ms_text(ep, sizeof ep, (int64_t)q->epoch),
                       ms_text(sq, sizeof sq, q->seq)};
    if ((rc = exec_simple(conn, "BEGIN", e)) < 0 ||
        (rc = exec_params(conn, "SELECT seq FROM objects WHERE key = $1 AND owner = $2 "
                          "AND epoch = $3::bigint FOR UPDATE", 3, v, NULL, NULL, 0, &r, e)) < 0)
        goto done;
    if (PQntuples(r) != 1) {
        rc = err_setf(e, DUR_EINVAL, "cluster: snapshot of %s refused: epoch %" PRIu64 " is stale",
                      q->key, q->epoch);
        goto done;
    }
    if (get_i64(r, 0, 0) < q->seq) {
        rc = err_setf(e, DUR_EINVAL, "cluster: snapshot of %s at %" PRId64 " is past its log (%" PRId64 ")",
                      q->key, q->seq, get_i64(r, 0, 0));
        goto done;
    }
    const char *vi[] = {q->key, sq, (const char *)q->data};
    int li[] = {0, 0, (int)q->len};
    int fi[] = {0, 0, 1};
    if ((rc = exec_params(conn, "INSERT INTO snapshots (key, seq, image) VALUES ($1, $2::bigint, $3) "
                          "ON CONFLICT (key) DO UPDATE SET seq = EXCLUDED.seq, image = EXCLUDED.image",
                          3, vi, li, fi, 0, NULL, e)) < 0 ||
        (rc = exec_params(conn, "UPDATE objects SET snapshot_seq = $2::bigint WHERE key = $1", 2, vi, NULL,
                          NULL, 0, NULL, e)) < 0 ||
        (rc = exec_params(conn, "DELETE FROM log WHERE key = $1 AND seq <= $2::bigint", 2, vi, NULL, NULL,
                          0, NULL, e)) < 0 ||
        (rc = exec_simple(conn, "COMMIT", e)) < 0)
        goto done;
done:
    if (rc < 0)
        rollback(conn);
    PQclear(r);
    return rc;
}

static void do_release(cluster *c, pgst *st, creq *q)
{
    err e = {0};
    char ep[24];
    const char *v[] = {q->key, c->node_id, ms_text(ep, sizeof ep, (int64_t)q->epoch)};
    if (exec_params(PGC(c->conn), "UPDATE objects SET owner = NULL WHERE key = $1 AND owner = $2 "
                    "AND epoch = $3::bigint", 3, v, NULL, NULL, 0, NULL, &e) < 0) {
        if (!conn_lost(c, st, &e))
            log_msg(LOG_WARN, "cluster: release of %s: %s", q->key, e.msg);
    }
    kent *x = kmap_get(&st->owned, q->key);
    if (x && x->epoch == q->epoch)
        kmap_del(&st->owned, q->key);
}

/* ---- the loop ---- */

static void take_queue(cluster *c, pgst *st)
{
    mpsc_node *n;
    while ((n = mpsc_pop(&c->q))) {
        creq *r = (creq *)n;
        r->next = NULL;
        if (st->tail)
            st->tail->next = r;
        else
            st->head = r;
        st->tail = r;
    }
}

/* While PostgreSQL is unreachable: claims fail at once, snapshots and releases
 * are dropped (the lease lapses anyway), commits wait (CL-18). */
static void shed_while_down(cluster *c, pgst *st)
{
    creq **pp = &st->head;
    st->tail = NULL;
    while (*pp) {
        creq *r = *pp;
        if (r->kind == CREQ_COMMIT) {
            st->tail = r;
            pp = &r->next;
            continue;
        }
        *pp = r->next;
        if (r->kind == CREQ_CLAIM)
            answer_failed(c, r, "cluster: PostgreSQL is unreachable; the object cannot be claimed now");
        else if (r->kind == CREQ_SNAPSHOT)
            log_msg(LOG_WARN, "cluster: snapshot of %s dropped: PostgreSQL is unreachable", r->key);
        cluster__creq_free(r);
    }
}

/* Works through the head of the list: one commit batch or a few other requests,
 * then returns so the loop can heartbeat and gather a bigger next batch. */
static void process(cluster *c, pgst *st, batch *bt)
{
    int sql_retries = 0, others = 0;
    while (st->head && c->conn && others < 16) {
        if (st->head->kind == CREQ_COMMIT) {
            batch_build(c, st, bt);
            int rc = batch_run(c, st, bt);
            if (rc == DUR_ECLOSED) {
                batch_unbuild(st, bt);
                return;
            }
            if (rc < 0 && bt->keys.count > 1 && batch_isolate(c, st, bt) != DUR_ENOMEM)
                return;
            if (rc < 0) {
                /* A statement error (deadlock with another node's batch,
                 * serialization): nothing committed; try again, then give up. */
                if (++sql_retries < 3) {
                    batch_unbuild(st, bt);
                    continue;
                }
                for (size_t i = 0; i < bt->n; i++) {
                    answer_failed(c, bt->items[i], "cluster: PostgreSQL refused the commit");
                    poison(st, bt->items[i]->key, bt->items[i]->epoch, CLUSTER_EV_FAILED);
                    cluster__creq_free(bt->items[i]);
                }
                bt->n = 0;
                batch_reset(bt);
            }
            return;
        }
        others++;
        creq *q = st->head;
        st->head = q->next;
        if (!st->head)
            st->tail = NULL;
        err e = {0};
        switch (q->kind) {
        case CREQ_CLAIM:
            do_claim(c, st, q);
            break;
        case CREQ_SNAPSHOT:
            if (snapshot_tx(c, q, &e) < 0 && !conn_lost(c, st, &e))
                log_msg(LOG_WARN, "%s", e.msg);
            break;
        case CREQ_RELEASE:
            do_release(c, st, q);
            break;
        default:
            break;
        }
        cluster__creq_free(q);
    }
}

static void wait_for_work(cluster *c, int64_t until_ms)
{
    pthread_mutex_lock(&c->wake_mu);
    if (!c->wake && !atomic_load(&c->stopping)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait = until_ms - cluster__now_ms();
        if (wait < 1)
            wait = 1;
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&c->wake_cv, &c->wake_mu, &ts);
    }
    c->wake = false;
    pthread_mutex_unlock(&c->wake_mu);
}

static void shutdown_node(cluster *c, pgst *st, batch *bt)
{
    take_queue(c, st);
    while (c->conn && st->head)
        process(c, st, bt);
    while (st->head) {
        creq *r = st->head;
        st->head = r->next;
        cluster__creq_free(r);
    }
    if (c->conn && !atomic_load(&c->self_fenced)) {   /* fenced: the rows are another's */
        err e = {0};
        const char *v[] = {c->node_id};
        if (exec_params(PGC(c->conn), "UPDATE objects SET owner = NULL WHERE owner = $1", 1, v, NULL, NULL,
                        0, NULL, &e) < 0 ||
            exec_params(PGC(c->conn), "UPDATE nodes SET state = 'left' WHERE id = $1", 1, v, NULL, NULL, 0,
                        NULL, &e) < 0)
            log_msg(LOG_WARN, "cluster: leaving: %s", e.msg);
    }
}

void *cluster__thread_main(void *arg)
{
    cluster *c = arg;
    pgst st = {0};
    batch *bt = calloc(1, sizeof *bt);
    if (!bt) {
        log_msg(LOG_ERROR, "cluster: out of memory starting the cluster thread");
        return NULL;
    }
    st.had_lease = true;
    int64_t next_hb = cluster__now_ms() + c->o.heartbeat_ms;
    while (!atomic_load(&c->stopping)) {
        cluster__test_hold(c);
        lease_watch(c, &st);
        if (!c->conn)
            try_connect(c, &st);
        if (c->conn && cluster__now_ms() >= next_hb) {
            next_hb = cluster__now_ms() + c->o.heartbeat_ms;
            if (!atomic_load(&c->test_no_heartbeat))
                heartbeat(c, &st);
        }
        take_queue(c, &st);
        if (c->conn)
            process(c, &st, bt);
        if (!c->conn)
            shed_while_down(c, &st);
        int64_t until = next_hb;
        if (!c->conn && st.retry_at_ms < until)
            until = st.retry_at_ms;
        if (!c->conn && st.head) {
            /* commits wait: wake in time to fail them when the lease lapses */
            int64_t lapse = atomic_load(&c->lease_sent_ms) + c->o.node_timeout_ms - c->margin_ms;
            if (lapse < until)
                until = lapse;
        }
        if (c->conn && st.head)
            continue;
        wait_for_work(c, until);
    }
    shutdown_node(c, &st, bt);
    batch_reset(bt);
    free(bt);
    kmap_clear(&st.poisoned);
    kmap_clear(&st.owned);
    kmap_clear(&st.alarms_sent);
    return NULL;
}

/* ---- the side connection: status, id secret, drain (any thread, side_mu held) ---- */

static int side_conn(cluster *c, err *e)
{
    if (c->side && PQstatus(PGC(c->side)) == CONNECTION_OK)
        return 0;
    if (c->side)
        cluster__pg_close(c->side);
    c->side = cluster__pg_connect(c, e);
    return c->side ? 0 : (e ? e->code : DUR_ECLOSED);
}

static int side_exec(cluster *c, const char *sql, int n, const char *const *v, PGresult **out, err *e)
{
    int rc = side_conn(c, e);
    if (rc < 0)
        return rc;
    rc = exec_params(PGC(c->side), sql, n, v, NULL, NULL, 0, out, e);
    if (rc == DUR_ECLOSED) {   /* a stale connection (PostgreSQL restarted): once more */
        cluster__pg_close(c->side);
        c->side = NULL;
        if ((rc = side_conn(c, e)) < 0)
            return rc;
        rc = exec_params(PGC(c->side), sql, n, v, NULL, NULL, 0, out, e);
    }
    return rc;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int cluster__side_id_secret(cluster *c, uint8_t out[32], err *e)
{
    uint8_t rnd[32];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return err_setf(e, DUR_EINVAL, "cluster: no random bytes for the id secret");
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    const char *v[] = {hex};
    int rc = side_exec(c, "INSERT INTO meta (key, value) VALUES ('id_secret', $1) ON CONFLICT (key) DO NOTHING",
                       1, v, NULL, e);
    PGresult *r;
    if (rc < 0 || (rc = side_exec(c, "SELECT value FROM meta WHERE key = 'id_secret'", 0, NULL, &r, e)) < 0)
        return rc;
    const char *got = PQntuples(r) ? PQgetvalue(r, 0, 0) : "";
    rc = strlen(got) == 64 ? 0 : err_setf(e, DUR_EPARSE, "cluster: meta.id_secret in PostgreSQL is damaged");
    for (int i = 0; rc == 0 && i < 32; i++) {
        int hi = hexval(got[2 * i]), lo = hexval(got[2 * i + 1]);
        if (hi < 0 || lo < 0)
            rc = err_setf(e, DUR_EPARSE, "cluster: meta.id_secret in PostgreSQL is damaged");
        else
            out[i] = (uint8_t)(hi << 4 | lo);
    }
    PQclear(r);
    return rc;
}

static int json_str(buf *b, const char *s)
{
    char tmp[512];
    size_t at = 0;
    log_json_escape(tmp, sizeof tmp, &at, s, strlen(s));
    return buf_printf(b, "\"%.*s\"", (int)at, tmp);
}

int cluster__side_status(cluster *c, buf *out, err *e)
{
    PGresult *nodes = NULL, *logr = NULL, *snaps = NULL, *ver = NULL;
    char to[24];
    const char *v[] = {ms_text(to, sizeof to, c->o.node_timeout_ms)};
    int rc;
    if ((rc = side_exec(c,
            "SELECT n.id, n.addr, CASE WHEN n.state = 'left' OR n.heartbeat_at < now() - "
            "$1::bigint * interval '1 millisecond' THEN 'dead' ELSE n.state END, "
            "(SELECT count(*) FROM objects o WHERE o.owner = n.id), "
            "greatest(0, (extract(epoch FROM (now() - n.heartbeat_at)) * 1000)::bigint) "
            "FROM nodes n ORDER BY n.id", 1, v, &nodes, e)) < 0 ||
        (rc = side_exec(c, "SELECT count(*), coalesce(sum(length(frames)), 0) FROM log", 0, NULL, &logr, e)) < 0 ||
        (rc = side_exec(c, "SELECT count(*) FROM snapshots", 0, NULL, &snaps, e)) < 0 ||
        (rc = side_exec(c, "SELECT coalesce(max(version), 0) FROM durable_schema", 0, NULL, &ver, e)) < 0)
        goto done;
    rc = buf_append_str(out, "{\"nodes\":[");
    for (int i = 0; rc == 0 && i < PQntuples(nodes); i++) {
        rc |= buf_append_str(out, i ? ",{\"id\":" : "{\"id\":");
        rc |= json_str(out, PQgetvalue(nodes, i, 0));
        rc |= buf_append_str(out, ",\"addr\":");
        rc |= json_str(out, PQgetvalue(nodes, i, 1));
        rc |= buf_append_str(out, ",\"state\":");
        rc |= json_str(out, PQgetvalue(nodes, i, 2));
        rc |= buf_printf(out, ",\"objects\":%" PRId64 ",\"heartbeat_age_ms\":%" PRId64 "}",
                         get_i64(nodes, i, 3), get_i64(nodes, i, 4));
    }
    cluster_stats s;
    cluster_stats_get(c, &s);
    rc |= buf_printf(out, "],\"log\":{\"entries\":%" PRId64 ",\"bytes\":%" PRId64 "},\"snapshots\":%" PRId64
                     ",\"schema_version\":%" PRId64 ",\"this_node\":",
                     get_i64(logr, 0, 0), get_i64(logr, 0, 1), get_i64(snaps, 0, 0), get_i64(ver, 0, 0));
    rc |= json_str(out, c->node_id);
    rc |= buf_printf(out, ",\"stats\":{\"commits\":%" PRIu64 ",\"commit_batches\":%" PRIu64
                     ",\"commit_round_trips\":%" PRIu64 ",\"fenced\":%" PRIu64 ",\"failed\":%" PRIu64
                     ",\"claims\":%" PRIu64 ",\"claim_round_trips\":%" PRIu64
                     ",\"claim_shortcuts\":%" PRIu64 ",\"reconnects\":%" PRIu64 "}}",
                     s.commits, s.commit_batches, s.commit_round_trips, s.fenced, s.failed, s.claims,
                     s.claim_round_trips, s.claim_shortcuts, s.reconnects);
    if (rc)
        rc = err_setf(e, DUR_ENOMEM, "cluster: status does not fit");
done:
    PQclear(nodes);
    PQclear(logr);
    PQclear(snaps);
    PQclear(ver);
    return rc;
}

int cluster__side_drain(cluster *c, const char *node, uint32_t timeout_ms, err *e)
{
    PGresult *r = NULL;
    const char *v[] = {node};
    /* side_mu is taken per statement, so status answers while a drain waits. */
    pthread_mutex_lock(&c->side_mu);
    char to[24];
    const char *vt[] = {node, ms_text(to, sizeof to, c->o.node_timeout_ms)};
    int rc = side_exec(c, "UPDATE nodes SET state = 'draining' WHERE id = $1 AND state <> 'left' "
                       "RETURNING heartbeat_at < now() - $2::bigint * interval '1 millisecond'", 2, vt, &r, e);
    bool dead = rc == 0 && PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    if (rc == 0 && dead) {
        /* A dead node's leases have run out by its own clock too: its objects are
         * free now (other nodes would claim them on next use anyway). */
        rc = side_exec(c, "UPDATE objects SET owner = NULL WHERE owner = $1 AND EXISTS (SELECT 1 FROM nodes "
                       "WHERE id = $1 AND heartbeat_at < now() - $2::bigint * interval '1 millisecond')",
                       2, vt, NULL, e);
    }
    pthread_mutex_unlock(&c->side_mu);
    if (rc < 0) {
        PQclear(r);
        return rc;
    }
    int n = PQntuples(r);
    PQclear(r);
    if (n == 0)
        return err_setf(e, DUR_ENOTFOUND, "cluster: no live node '%s'", node);
    int64_t deadline = cluster__now_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&c->side_mu);
        rc = side_exec(c, "SELECT count(*) FROM objects WHERE owner = $1", 1, v, &r, e);
        pthread_mutex_unlock(&c->side_mu);
        if (rc < 0)
            return rc;
        int64_t left = get_i64(r, 0, 0);
        PQclear(r);
        if (left == 0)
            return 0;
        if (cluster__now_ms() >= deadline)
            return err_setf(e, DUR_EINVAL, "cluster: node '%s' still owns %" PRId64 " objects after %u ms",
                            node, left, timeout_ms);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}
