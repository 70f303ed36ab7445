/* Unit tests for the PostgreSQL side of cluster mode (src/cluster/pg.c, node.c;
 * spec CL-1, CL-4, CL-6 … CL-12, CL-14, CL-18) against a real, throw-away
 * PostgreSQL: ctest runs this program through tests/e2e/cluster/pg.mjs, which
 * starts one and sets DURABLE_TEST_PG_URL and DURABLE_TEST_PG_CTL (a pg_ctl
 * command prefix taking stop/start). Without them the test fails (never skips).
 * Several nodes run in this one process, each with its own port on its own loop;
 * the test polls the loops until the events it waits for arrive (with a generous
 * deadline; nothing asserts on time). Each test starts from an empty database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "base/fs.h"
#include "base/log.h"
#include "cluster/internal.h"
#include "storage/frames.h"

#define WAIT_MS 30000
#define EV_MAX 512

static PGconn *admin;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void sql(const char *q)
{
    PGresult *r = PQexec(admin, q);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", q, PQerrorMessage(admin));
    PQclear(r);
}

static int64_t sql_int(const char *q)
{
    PGresult *r = PQexec(admin, q);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", q, PQerrorMessage(admin));
    int64_t v = PQgetisnull(r, 0, 0) ? -1 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static void pg_ctl(const char *what)
{
    const char *ctl = getenv("DURABLE_TEST_PG_CTL");
    assert_non_null(ctl);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null", ctl, what);
    assert_int_equal(system(cmd), 0);
    if (strcmp(what, "start") == 0) {
        PQreset(admin);
        assert_int_equal(PQstatus(admin), CONNECTION_OK);
    }
}

/* ---- a node in this process ---- */

typedef struct tnode {
    cluster *c;
    uv_loop_t loop;
    cluster_port *p;
    cluster_event ev[EV_MAX];
    size_t n;
    char dir[256];
} tnode;

static void on_event(void *ud, const cluster_event *ev)
{
    tnode *t = ud;
    if (t->n < EV_MAX)
        t->ev[t->n++] = *ev;
}

static tnode *node_open(const char *id, uint32_t hb, uint32_t timeout)
{
    tnode *t = calloc(1, sizeof *t);
    assert_non_null(t);
    snprintf(t->dir, sizeof t->dir, "/tmp/durable-test-pg-%d-%s", (int)getpid(), id);
    err e = {0};
    assert_int_equal(fs_mkdir_p(t->dir, &e), 0);
    cluster_opts o = {
        .pg_url = getenv("DURABLE_TEST_PG_URL"), .node_id = id, .data_dir = t->dir,
        .secret = "test-secret", .heartbeat_ms = hb, .node_timeout_ms = timeout,
    };
    t->c = cluster_open(&o, &e);
    if (!t->c)
        fail_msg("cluster_open %s: %s", id, e.msg);
    assert_int_equal(uv_loop_init(&t->loop), 0);
    t->p = cluster_port_open(t->c, &t->loop, on_event, t);
    assert_non_null(t->p);
    return t;
}

static void node_close(tnode *t)
{
    cluster_port_close(t->p);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    cluster_close(t->c);
    assert_int_equal(uv_loop_close(&t->loop), 0);
    fs_rm_rf(t->dir, NULL);
    free(t);
}

/* Runs t's loop until it has `count` events (or the deadline). */
static void wait_events(tnode *t, size_t count)
{
    for (int waited = 0; t->n < count && waited < WAIT_MS; waited += 2) {
        uv_run(&t->loop, UV_RUN_NOWAIT);
        if (t->n < count)
            sleep_ms(2);
    }
    if (t->n < count)
        fail_msg("waited for %zu events, got %zu", count, t->n);
}

/* Claims key and returns the answer. */
static cluster_event claim(tnode *t, const char *key)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.sqlite", t->dir, strchr(key, '/') ? strchr(key, '/') + 1 : key);
    size_t at = t->n;
    cluster_claim(t->p, key, path);
    wait_events(t, at + 1);
    return t->ev[at];
}

static cluster_event commit(tnode *t, const char *key, uint64_t epoch, uint64_t ticket, const char *bytes,
                            int64_t alarm_ms)
{
    size_t at = t->n;
    cluster_commit(t->p, key, epoch, ticket, (uint8_t *)strdup(bytes), strlen(bytes), alarm_ms);
    wait_events(t, at + 1);
    return t->ev[at];
}

static int reset_db(void **state)
{
    (void)state;
    sql("DROP TABLE IF EXISTS nodes, objects, log, snapshots, meta, durable_schema");
    return 0;
}

/* ---- tests ---- */

/* The schema is created with its version; a newer version is refused with a
 * message naming both versions; status reports the node and the version. */
static void test_schema_created_newer_refused(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 2000);
    assert_int_equal(sql_int("SELECT max(version) FROM durable_schema"), CLUSTER_SCHEMA_VERSION);
    assert_int_equal(sql_int("SELECT count(*) FROM nodes WHERE id = 'a' AND state = 'alive'"), 1);
    buf b;
    buf_init(&b, 1 << 20);
    err e = {0};
    assert_int_equal(cluster_status_json(a->c, &b, &e), 0);
    char want[40];
    snprintf(want, sizeof want, "\"schema_version\":%d", CLUSTER_SCHEMA_VERSION);
    assert_non_null(strstr(b.ptr, want));
    assert_non_null(strstr(b.ptr, "{\"id\":\"a\""));
    assert_non_null(strstr(b.ptr, "\"state\":\"alive\""));
    assert_non_null(strstr(b.ptr, "\"this_node\":\"a\""));
    buf_fini(&b);
    uint8_t s1[32], s2[32];
    assert_int_equal(cluster_id_secret(a->c, s1, &e), 0);
    node_close(a);
    assert_int_equal(sql_int("SELECT count(*) FROM nodes WHERE id = 'a' AND state = 'left'"), 1);

    /* the id secret is made once and shared */
    tnode *b2 = node_open("b", 200, 2000);
    assert_int_equal(cluster_id_secret(b2->c, s2, &e), 0);
    assert_memory_equal(s1, s2, 32);
    node_close(b2);

    /* a version-1 schema (no nodes.incarnation) is migrated to version 2 */
    sql("ALTER TABLE nodes DROP COLUMN incarnation");
    sql("DELETE FROM durable_schema WHERE version > 1");
    tnode *d = node_open("d", 200, 2000);
    assert_int_equal(sql_int("SELECT max(version) FROM durable_schema"), 2);
    assert_int_equal(sql_int("SELECT length(incarnation) FROM nodes WHERE id = 'd'"), 32);
    node_close(d);

    sql("INSERT INTO durable_schema (version) VALUES (7)");
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/durable-test-pg-%d-new", (int)getpid());
    cluster_opts o = {.pg_url = getenv("DURABLE_TEST_PG_URL"), .node_id = "c", .data_dir = dir,
                      .secret = "x"};
    memset(&e, 0, sizeof e);
    assert_null(cluster_open(&o, &e));
    assert_non_null(strstr(e.msg, "version 7"));
    assert_non_null(strstr(e.msg, "version 2"));
    fs_rm_rf(dir, NULL);
}

/* CL-1: without --node-id a node makes an id once and keeps it in its data folder;
 * a bad id is refused with a message. */
static void test_node_id_kept(void **state)
{
    (void)state;
    char dir[128], id1[CLUSTER_NODE_MAX];
    snprintf(dir, sizeof dir, "/tmp/durable-test-pg-%d-id/sub", (int)getpid());
    cluster_opts o = {.pg_url = getenv("DURABLE_TEST_PG_URL"), .data_dir = dir, .secret = "x"};
    err e = {0};
    cluster *c = cluster_open(&o, &e);
    if (!c)
        fail_msg("%s", e.msg);
    snprintf(id1, sizeof id1, "%s", cluster_node_id(c));
    assert_true(strlen(id1) > 0);
    cluster_close(c);
    c = cluster_open(&o, &e);
    assert_non_null(c);
    assert_string_equal(cluster_node_id(c), id1);
    cluster_close(c);
    assert_int_equal(sql_int("SELECT count(*) FROM nodes"), 1);
    o.node_id = "bad id!";
    assert_null(cluster_open(&o, &e));
    assert_non_null(strstr(e.msg, "bad id!"));
    snprintf(dir, sizeof dir, "/tmp/durable-test-pg-%d-id", (int)getpid());
    fs_rm_rf(dir, NULL);
}

/* CL-4, CL-6, CL-7: claims bump the epoch; a live owner makes others REMOTE; a
 * node that stops heartbeating loses its lease and its objects, and its commits
 * at the old epoch are fenced (the second without PostgreSQL). */
static void test_claim_remote_takeover_fence(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 3000);
    tnode *b = node_open("b", 200, 3000);
    cluster_event ev = claim(a, "ns/k1");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 1);
    struct stat sb;
    char path[512];
    snprintf(path, sizeof path, "%s/k1.sqlite", a->dir);
    assert_int_equal(stat(path, &sb), 0);   /* the local file is (re)built before CLAIMED */
    ev = claim(a, "ns/k1");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 2);

    ev = claim(b, "ns/k1");
    assert_int_equal(ev.kind, CLUSTER_EV_REMOTE);
    assert_string_equal(ev.node, "a");
    assert_string_equal(ev.addr, cluster_advertise(a->c));

    uint64_t gen = cluster_lease_gen(a->c);
    assert_true(cluster_lease_ok(a->c));
    atomic_store(&a->c->test_no_heartbeat, true);
    /* b claims as soon as a's heartbeat is older than the timeout (PostgreSQL's clock) */
    for (int i = 0; i < 200; i++) {
        ev = claim(b, "ns/k1");
        if (ev.kind == CLUSTER_EV_CLAIMED)
            break;
        assert_int_equal(ev.kind, CLUSTER_EV_REMOTE);
        sleep_ms(100);
    }
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 3);
    /* a stopped serving before b could claim (CL-7) */
    assert_false(cluster_lease_ok(a->c));
    for (int i = 0; i < 100 && cluster_lease_gen(a->c) == gen; i++)
        sleep_ms(50);
    assert_true(cluster_lease_gen(a->c) > gen);

    cluster_stats s0, s1;
    ev = commit(a, "ns/k1", 2, 41, "stale", -1);
    assert_int_equal(ev.kind, CLUSTER_EV_FENCED);
    assert_int_equal(ev.ticket, 41);
    cluster_stats_get(a->c, &s0);
    ev = commit(a, "ns/k1", 2, 42, "stale again", -1);
    assert_int_equal(ev.kind, CLUSTER_EV_FENCED);
    assert_int_equal(ev.ticket, 42);
    cluster_stats_get(a->c, &s1);
    assert_int_equal(s1.commit_round_trips, s0.commit_round_trips);   /* answered without PostgreSQL */
    assert_int_equal(s1.fenced, s0.fenced + 1);
    assert_int_equal(sql_int("SELECT count(*) FROM log"), 0);

    ev = commit(b, "ns/k1", 3, 1, "fresh", -1);
    assert_int_equal(ev.kind, CLUSTER_EV_COMMITTED);
    assert_int_equal(ev.seq, 1);
    node_close(a);
    node_close(b);
}

/* CL-9, CL-10: many commits of many keys, several per key, each answered with
 * its own seq in order; they ride few statements; alarm_ms kept with the object. */
static void test_group_commit(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 5000);
    enum { KEYS = 40, EXTRA = 10, PER = 3 };
    char key[KEYS][32];
    for (int i = 0; i < KEYS; i++) {
        snprintf(key[i], sizeof key[i], "ns/g%02d", i);
        cluster_event ev = claim(a, key[i]);
        assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    }
    size_t at = a->n;
    int total = 0;
    for (int i = 0; i < KEYS; i++, total++)
        cluster_commit(a->p, key[i], 1, (uint64_t)i, (uint8_t *)strdup("one"), 3, i == 0 ? 1234 : -1);
    for (int r = 0; r < PER; r++)
        for (int i = 0; i < EXTRA; i++, total++)
            cluster_commit(a->p, key[i], 1, (uint64_t)(1000 + r * 100 + i), (uint8_t *)strdup("more"), 4,
                           i == 1 && r == PER - 1 ? 99 : -1);
    wait_events(a, at + (size_t)total);
    int64_t last[KEYS] = {0};
    for (size_t j = at; j < a->n; j++) {
        cluster_event *ev = &a->ev[j];
        assert_int_equal(ev->kind, CLUSTER_EV_COMMITTED);
        int i = ev->ticket < 1000 ? (int)ev->ticket : (int)(ev->ticket % 100);
        assert_int_equal(ev->seq, last[i] + 1);   /* answers of one key in order, seq by seq */
        last[i] = ev->seq;
    }
    for (int i = 0; i < KEYS; i++)
        assert_int_equal(last[i], i < EXTRA ? 1 + PER : 1);
    cluster_stats s;
    cluster_stats_get(a->c, &s);
    assert_int_equal(s.commits, (uint64_t)total);
    assert_true(s.commit_batches <= (uint64_t)total);
    assert_int_equal(s.commit_round_trips, s.commit_batches + 1);   /* + preparing the statement */
    print_message("group commit: %d commits in %" PRIu64 " statements\n", total, s.commit_batches);
    assert_int_equal(sql_int("SELECT count(*) FROM log"), total);
    assert_int_equal(sql_int("SELECT count(*) FROM log WHERE key = 'ns/g00'"), 1 + PER);
    assert_int_equal(sql_int("SELECT alarm_ms FROM objects WHERE key = 'ns/g01'"), 99);
    assert_int_equal(sql_int("SELECT alarm_ms FROM objects WHERE key = 'ns/g00'"), -1);   /* NULL: cleared */
    assert_int_equal(sql_int("SELECT alarm_ms FROM objects WHERE key = 'ns/g20'"), -1);
    node_close(a);
}

/* CL-10, measured: C writers (one key each, one commit in flight each, the next
 * sent when the last is answered) against one node; prints PostgreSQL round trips
 * per acknowledged write for several C. Asserts only the answers (order, seqs),
 * never a time or a ratio. */
static void test_round_trips_by_load(void **state)
{
    (void)state;
    tnode *a = node_open("a", 500, 10000);
    static const int levels[] = {1, 4, 16, 64, 256};
    enum { TOTAL = 1024 };
    for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
        int nk = levels[li];
        char (*key)[32] = calloc((size_t)nk, 32);
        int64_t *seq = calloc((size_t)nk, sizeof *seq);
        assert_non_null(key);
        assert_non_null(seq);
        for (int i = 0; i < nk; i++) {
            snprintf(key[i], 32, "ns/w%d-%d", nk, i);
            assert_int_equal(claim(a, key[i]).kind, CLUSTER_EV_CLAIMED);
        }
        cluster_stats s0, s1;
        cluster_stats_get(a->c, &s0);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int sent = 0, done = 0;
        a->n = 0;
        for (int i = 0; i < nk; i++, sent++)
            cluster_commit(a->p, key[i], 1, (uint64_t)i, (uint8_t *)strdup("0123456789abcdef"), 16, -1);
        while (done < sent) {
            uv_run(&a->loop, UV_RUN_ONCE);
            size_t got = a->n;
            a->n = 0;
            for (size_t j = 0; j < got; j++) {
                cluster_event *ev = &a->ev[j];
                assert_int_equal(ev->kind, CLUSTER_EV_COMMITTED);
                int i = (int)ev->ticket;
                assert_int_equal(ev->seq, seq[i] + 1);
                seq[i] = ev->seq;
                done++;
                if (sent < TOTAL) {
                    cluster_commit(a->p, key[i], 1, (uint64_t)i, (uint8_t *)strdup("0123456789abcdef"), 16, -1);
                    sent++;
                }
            }
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        cluster_stats_get(a->c, &s1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        uint64_t commits = s1.commits - s0.commits, rts = s1.commit_round_trips - s0.commit_round_trips;
        assert_int_equal(commits, TOTAL);
        print_message("group commit, %3d writers: %d writes, %" PRIu64 " PostgreSQL round trips, "
                      "%.3f round trips/write, %.0f writes/s\n", nk, TOTAL, rts,
                      (double)rts / (double)commits, (double)commits / secs);
        free(key);
        free(seq);
    }
    node_close(a);
}

/* CL-18: commits made while PostgreSQL is down wait and are committed, in order,
 * after it comes back; the node reconnects by itself. */
static void test_commit_survives_restart(void **state)
{
    (void)state;
    tnode *a = node_open("a", 300, 20000);
    cluster_event ev = claim(a, "ns/r");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    ev = commit(a, "ns/r", 1, 1, "before", -1);
    assert_int_equal(ev.kind, CLUSTER_EV_COMMITTED);
    pg_ctl("stop");
    size_t at = a->n;
    for (uint64_t i = 2; i <= 4; i++)
        cluster_commit(a->p, "ns/r", 1, i, (uint8_t *)strdup("during"), 6, -1);
    sleep_ms(600);
    uv_run(&a->loop, UV_RUN_NOWAIT);
    assert_int_equal(a->n, at);   /* nothing can be answered while PostgreSQL is down */
    pg_ctl("start");
    wait_events(a, at + 3);
    for (size_t j = 0; j < 3; j++) {
        assert_int_equal(a->ev[at + j].kind, CLUSTER_EV_COMMITTED);
        assert_int_equal(a->ev[at + j].ticket, j + 2);
        assert_int_equal(a->ev[at + j].seq, (int64_t)j + 2);
    }
    assert_int_equal(sql_int("SELECT count(*) FROM log WHERE key = 'ns/r'"), 4);
    cluster_stats s;
    cluster_stats_get(a->c, &s);
    assert_true(s.reconnects >= 1);
    assert_true(cluster_lease_ok(a->c));
    node_close(a);
}

/* CL-7, CL-18: a commit waiting for PostgreSQL fails once the lease lapses; later
 * commits at that epoch fail without PostgreSQL; a new claim works again. */
static void test_commit_fails_when_lease_lapses(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 3000);
    cluster_event ev = claim(a, "ns/l");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    uint64_t gen = cluster_lease_gen(a->c);
    pg_ctl("stop");
    ev = commit(a, "ns/l", 1, 7, "lost", -1);
    assert_int_equal(ev.kind, CLUSTER_EV_FAILED);
    assert_int_equal(ev.ticket, 7);
    assert_non_null(strstr(ev.msg, "lease"));
    assert_false(cluster_lease_ok(a->c));
    assert_true(cluster_lease_gen(a->c) > gen);
    pg_ctl("start");
    ev = commit(a, "ns/l", 1, 8, "still old epoch", -1);
    assert_int_equal(ev.kind, CLUSTER_EV_FAILED);
    for (int i = 0; i < 300 && !cluster_lease_ok(a->c); i++)
        sleep_ms(50);
    assert_true(cluster_lease_ok(a->c));
    ev = claim(a, "ns/l");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 2);
    ev = commit(a, "ns/l", 2, 9, "new epoch", -1);
    assert_int_equal(ev.kind, CLUSTER_EV_COMMITTED);
    assert_int_equal(ev.seq, 1);
    assert_int_equal(sql_int("SELECT count(*) FROM log WHERE key = 'ns/l'"), 1);
    node_close(a);
}

/* CL-11: a snapshot replaces the log up to its seq; a stale epoch's is refused. */
static void test_snapshot_trims_log(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 5000);
    cluster_event ev = claim(a, "ns/s");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    for (uint64_t i = 1; i <= 3; i++)
        assert_int_equal(commit(a, "ns/s", 1, i, "x", -1).kind, CLUSTER_EV_COMMITTED);
    cluster_snapshot(a->p, "ns/s", 7, 2, (uint8_t *)strdup("stale"), 5);   /* wrong epoch: refused */
    cluster_snapshot(a->p, "ns/s", 1, 2, (uint8_t *)strdup("IMAGE"), 5);
    /* a commit after the snapshots is answered after them (one queue, in order) */
    assert_int_equal(commit(a, "ns/s", 1, 4, "y", -1).kind, CLUSTER_EV_COMMITTED);
    assert_int_equal(sql_int("SELECT seq FROM snapshots WHERE key = 'ns/s'"), 2);
    assert_int_equal(sql_int("SELECT length(image) FROM snapshots WHERE key = 'ns/s'"), 5);
    assert_int_equal(sql_int("SELECT min(seq) FROM log WHERE key = 'ns/s'"), 3);
    assert_int_equal(sql_int("SELECT count(*) FROM log WHERE key = 'ns/s'"), 2);
    node_close(a);
}

typedef struct drain_arg {
    cluster *c;
    const char *node;
    int rc;
    err e;
} drain_arg;

static void *drain_thread(void *p)
{
    drain_arg *d = p;
    d->rc = cluster_drain(d->c, d->node, 20000, &d->e);
    return NULL;
}

/* CL-8: drain marks the node; its cluster thread tells the port that claimed each
 * key to release it; drain returns when the node owns nothing. Release lets
 * another node claim at once. */
static void test_drain_and_release(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 5000);
    tnode *b = node_open("b", 200, 5000);
    const char *keys[] = {"ns/d1", "ns/d2", "ns/d3"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(claim(a, keys[i]).kind, CLUSTER_EV_CLAIMED);
    err e = {0};
    assert_true(cluster_drain(b->c, "nobody", 1000, &e) < 0);
    assert_non_null(strstr(e.msg, "nobody"));

    drain_arg d = {.c = b->c, .node = "a"};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, drain_thread, &d), 0);
    size_t at = a->n;
    wait_events(a, at + 3);
    for (size_t j = at; j < at + 3; j++) {
        assert_int_equal(a->ev[j].kind, CLUSTER_EV_DRAIN);
        cluster_release(a->p, a->ev[j].key, a->ev[j].epoch);
    }
    pthread_join(th, NULL);
    assert_int_equal(d.rc, 0);
    assert_int_equal(sql_int("SELECT count(*) FROM objects WHERE owner = 'a'"), 0);
    cluster_event ev = claim(b, "ns/d1");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 2);
    /* a draining node takes no new objects: it points at a live node */
    ev = claim(a, "ns/new");
    assert_int_equal(ev.kind, CLUSTER_EV_REMOTE);
    assert_string_equal(ev.node, "b");
    assert_int_equal(sql_int("SELECT count(*) FROM objects WHERE key = 'ns/new' AND owner IS NOT NULL"), 0);
    ev = claim(b, "ns/new");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    node_close(b);
    /* ... and fails when there is none */
    ev = claim(a, "ns/new2");
    assert_int_equal(ev.kind, CLUSTER_EV_FAILED);
    assert_non_null(strstr(ev.msg, "draining"));
    node_close(a);
}

/* CL-14: a due alarm of an object whose owner died goes to a live node's port. */
static void test_alarm_of_dead_owner(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 3000);
    tnode *b = node_open("b", 200, 3000);
    assert_int_equal(claim(a, "ns/al").kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(commit(a, "ns/al", 1, 1, "x", 1000).kind, CLUSTER_EV_COMMITTED);   /* due long ago */
    uv_run(&b->loop, UV_RUN_NOWAIT);
    for (size_t j = 0; j < b->n; j++)   /* not while a lives */
        assert_int_not_equal(b->ev[j].kind, CLUSTER_EV_ALARM);
    atomic_store(&a->c->test_no_heartbeat, true);
    size_t at = b->n;
    wait_events(b, at + 1);
    assert_int_equal(b->ev[at].kind, CLUSTER_EV_ALARM);
    assert_string_equal(b->ev[at].key, "ns/al");
    /* draining a dead node frees its objects at once */
    err e = {0};
    assert_int_equal(sql_int("SELECT count(*) FROM objects WHERE owner = 'a'"), 1);
    assert_int_equal(cluster_drain(b->c, "a", 20000, &e), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM objects WHERE owner = 'a'"), 0);
    node_close(a);
    node_close(b);
}

/* CL-12: a claim rebuilds the file from the snapshot plus the log after it. */
static void test_rebuild_on_claim(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 5000);
    tnode *b = node_open("b", 200, 5000);
    cluster_event ev = claim(a, "ns/rb");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    cluster_release(a->p, "ns/rb", ev.epoch);
    /* a snapshot image made by hand (not a real SQLite file: frames_rebuild copies
     * an image as it is) */
    ev = claim(a, "ns/rb");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    cluster_snapshot(a->p, "ns/rb", ev.epoch, 0, (uint8_t *)strdup("0123456789"), 10);
    cluster_release(a->p, "ns/rb", ev.epoch);
    for (int i = 0; i < 200 && sql_int("SELECT count(*) FROM snapshots WHERE key = 'ns/rb'") == 0; i++)
        sleep_ms(20);
    ev = claim(b, "ns/rb");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 3);
    char path[512];
    snprintf(path, sizeof path, "%s/rb.sqlite", b->dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char got[32] = "";
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    assert_int_equal(n, 10);
    assert_string_equal(got, "0123456789");
    node_close(a);
    node_close(b);
}

/* One frames entry (storage/frames.h encoding) of 512-byte pages: db_pages pages
 * after the commit, and the pages in `pg` (pgno, fill byte). Page 1 carries the
 * page size at bytes 16-17 as a SQLite header does. */
static uint8_t *entry_make(uint32_t db_pages, const uint32_t *pgno, const char *fill, size_t n, size_t *len)
{
    enum { PS = 512 };
    size_t raw_len = n * (4 + PS);
    uint8_t *raw = malloc(raw_len);
    assert_non_null(raw);
    for (size_t i = 0; i < n; i++) {
        uint8_t *r = raw + i * (4 + PS);
        r[0] = (uint8_t)pgno[i];
        r[1] = (uint8_t)(pgno[i] >> 8);
        r[2] = (uint8_t)(pgno[i] >> 16);
        r[3] = (uint8_t)(pgno[i] >> 24);
        memset(r + 4, fill[i], PS);
        if (pgno[i] == 1) {
            r[4 + 16] = PS >> 8;
            r[4 + 17] = PS & 0xff;
        }
    }
    uLongf zlen = compressBound((uLong)raw_len);
    uint8_t *b = malloc(16 + zlen);
    assert_non_null(b);
    memcpy(b, "DFR1", 4);
    uint32_t h[3] = {PS, db_pages, (uint32_t)raw_len};
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 4; j++)
            b[4 + 4 * k + j] = (uint8_t)(h[k] >> (8 * j));
    assert_int_equal(compress2(b + 16, &zlen, raw, (uLong)raw_len, Z_BEST_SPEED), Z_OK);
    free(raw);
    *len = 16 + zlen;
    return b;
}

/* CL-12 with real page entries: the new owner's file is the log replayed, and
 * with a snapshot, the image plus the log after it. */
static void test_rebuild_from_log(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 5000);
    tnode *b = node_open("b", 200, 5000);
    cluster_event ev = claim(a, "ns/fr");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    uint64_t ep = ev.epoch;
    size_t len;
    uint32_t p12[] = {1, 2}, p2[] = {2};
    uint8_t *e1 = entry_make(2, p12, "AB", 2, &len);
    size_t at = a->n;
    cluster_commit(a->p, "ns/fr", ep, 1, e1, len, -1);
    uint8_t *e2 = entry_make(2, p2, "C", 1, &len);
    cluster_commit(a->p, "ns/fr", ep, 2, e2, len, -1);
    wait_events(a, at + 2);
    assert_int_equal(a->ev[at].kind, CLUSTER_EV_COMMITTED);
    assert_int_equal(a->ev[at + 1].kind, CLUSTER_EV_COMMITTED);
    cluster_release(a->p, "ns/fr", ep);
    /* b claims: no snapshot, two log entries */
    for (int i = 0; i < 200 && sql_int("SELECT count(*) FROM objects WHERE key = 'ns/fr' AND owner IS NULL") == 0; i++)
        sleep_ms(20);
    ev = claim(b, "ns/fr");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.seq, 2);
    char path[512];
    snprintf(path, sizeof path, "%s/fr.sqlite", b->dir);
    uint8_t got[2048];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    assert_int_equal(n, 1024);
    assert_int_equal(got[0], 'A');
    assert_int_equal(got[16], 2);
    assert_int_equal(got[511], 'A');
    assert_int_equal(got[512], 'C');
    assert_int_equal(got[1023], 'C');
    /* a snapshot at seq 2 of b's file, then a commit after it; a claims it back */
    uint8_t *img = malloc(1024);
    assert_non_null(img);
    memcpy(img, got, 1024);
    memset(img + 512, 'S', 512);
    cluster_snapshot(b->p, "ns/fr", ev.epoch, 2, img, 1024);
    uint32_t p1[] = {1};
    uint8_t *e3 = entry_make(3, p1, "D", 1, &len);   /* grows to 3 pages, rewrites page 1 */
    at = b->n;
    cluster_commit(b->p, "ns/fr", ev.epoch, 3, e3, len, -1);
    wait_events(b, at + 1);
    assert_int_equal(b->ev[at].kind, CLUSTER_EV_COMMITTED);
    assert_int_equal(b->ev[at].seq, 3);
    assert_int_equal(sql_int("SELECT seq FROM snapshots WHERE key = 'ns/fr'"), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM log WHERE key = 'ns/fr'"), 1);
    cluster_release(b->p, "ns/fr", ev.epoch);
    for (int i = 0; i < 200 && sql_int("SELECT count(*) FROM objects WHERE key = 'ns/fr' AND owner IS NULL") == 0; i++)
        sleep_ms(20);
    ev = claim(a, "ns/fr");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    snprintf(path, sizeof path, "%s/fr.sqlite", a->dir);
    f = fopen(path, "rb");
    assert_non_null(f);
    n = fread(got, 1, sizeof got, f);
    fclose(f);
    assert_int_equal(n, 1536);
    assert_int_equal(got[0], 'D');
    assert_int_equal(got[512], 'S');
    assert_int_equal(got[1535], 0);
    node_close(a);
    node_close(b);
}

/* A claim is one PostgreSQL round trip (plus preparing its statement once per
 * connection), whether it takes a new object, takes one back with its log and
 * rebuilds the file, or answers REMOTE. (It was seven: BEGIN, INSERT, SELECT …
 * FOR UPDATE, UPDATE, two SELECTs, COMMIT.) */
static void test_claim_round_trips(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 5000);
    tnode *b = node_open("b", 200, 5000);
    cluster_stats s0, s1;
    cluster_stats_get(a->c, &s0);
    cluster_event ev = claim(a, "ns/rt1");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 1);
    assert_int_equal(ev.seq, 0);
    cluster_stats_get(a->c, &s1);
    assert_int_equal(s1.claim_round_trips - s0.claim_round_trips, 2);   /* prepare + claim */
    ev = claim(a, "ns/rt1");   /* again, ours: the epoch moves */
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 2);
    cluster_stats_get(a->c, &s0);
    assert_int_equal(s0.claim_round_trips - s1.claim_round_trips, 1);

    cluster_stats_get(b->c, &s0);
    ev = claim(b, "ns/rt1");
    assert_int_equal(ev.kind, CLUSTER_EV_REMOTE);
    assert_string_equal(ev.node, "a");
    assert_string_equal(ev.addr, cluster_advertise(a->c));
    cluster_stats_get(b->c, &s1);
    assert_int_equal(s1.claim_round_trips - s0.claim_round_trips, 2);

    /* two commits, then b takes the object: one round trip, the file rebuilt */
    size_t len;
    uint32_t p12[] = {1, 2}, p2[] = {2};
    size_t at = a->n;
    {
        uint8_t *en = entry_make(2, p12, "AB", 2, &len);
        cluster_commit(a->p, "ns/rt1", 2, 1, en, len, -1);
    }
    {
        uint8_t *en = entry_make(2, p2, "C", 1, &len);
        cluster_commit(a->p, "ns/rt1", 2, 2, en, len, -1);
    }
    wait_events(a, at + 2);
    assert_int_equal(a->ev[at + 1].kind, CLUSTER_EV_COMMITTED);
    cluster_release(a->p, "ns/rt1", 2);
    for (int i = 0; i < 200 && sql_int("SELECT count(*) FROM objects WHERE key = 'ns/rt1' AND owner IS NULL") == 0; i++)
        sleep_ms(20);
    ev = claim(b, "ns/rt1");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 3);
    assert_int_equal(ev.seq, 2);
    cluster_stats_get(b->c, &s0);
    assert_int_equal(s0.claim_round_trips - s1.claim_round_trips, 1);
    assert_int_equal(s0.claims, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/rt1.sqlite", b->dir);
    uint8_t got[2048];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    assert_int_equal(n, 1024);
    assert_int_equal(got[0], 'A');
    assert_int_equal(got[512], 'C');
    node_close(a);
    node_close(b);
}

static void release_wait(tnode *t, const char *key, uint64_t epoch)
{
    char q[200];
    snprintf(q, sizeof q, "SELECT count(*) FROM objects WHERE key = '%s' AND owner IS NULL", key);
    cluster_release(t->p, key, epoch);
    for (int i = 0; i < 200 && sql_int(q) == 0; i++)
        sleep_ms(20);
    assert_int_equal(sql_int(q), 1);
}

static uint64_t shortcuts(tnode *t)
{
    cluster_stats s;
    cluster_stats_get(t->c, &s);
    return s.claim_shortcuts;
}

static int file_byte(const char *path, long at)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    int ch = fgetc(f);
    fclose(f);
    return ch;
}

/* A claim keeps the local file — no rebuild, no snapshot or log read — when its
 * position file (frames_pos_write) says it is PostgreSQL's state: nobody claimed
 * the object since (the new epoch is the recorded one + 1), nothing was committed
 * since (same seq) and the bytes did not change. If any of the three moved, the
 * file is rebuilt. */
static void test_claim_shortcut(void **state)
{
    (void)state;
    tnode *a = node_open("a", 200, 5000);
    tnode *b = node_open("b", 200, 5000);
    char path[512], pos[600];
    snprintf(path, sizeof path, "%s/sc.sqlite", a->dir);
    snprintf(pos, sizeof pos, "%s-pos", path);
    cluster_event ev = claim(a, "ns/sc");
    assert_int_equal(ev.epoch, 1);
    size_t len;
    uint32_t p12[] = {1, 2}, p2[] = {2};
    size_t at = a->n;
    {
        uint8_t *en = entry_make(2, p12, "AB", 2, &len);
        cluster_commit(a->p, "ns/sc", 1, 1, en, len, -1);
    }
    wait_events(a, at + 1);
    assert_int_equal(a->ev[at].kind, CLUSTER_EV_COMMITTED);
    ev = claim(a, "ns/sc");   /* ours again: rebuilt at seq 1 */
    assert_int_equal(ev.epoch, 2);
    assert_int_equal(ev.seq, 1);
    assert_int_equal(file_byte(path, 0), 'A');
    err e = {0};

    /* valid: kept, one round trip, the position file used up */
    assert_int_equal(frames_pos_write(path, 2, 1, &e), 0);
    uint64_t e0, s0;
    int64_t sq;
    assert_int_equal(frames_pos_read(path, &e0, &sq), 1);
    assert_int_equal(e0, 2);
    assert_int_equal(sq, 1);
    release_wait(a, "ns/sc", 2);
    cluster_stats c0, c1;
    cluster_stats_get(a->c, &c0);
    ev = claim(a, "ns/sc");
    assert_int_equal(ev.kind, CLUSTER_EV_CLAIMED);
    assert_int_equal(ev.epoch, 3);
    assert_int_equal(ev.seq, 1);
    cluster_stats_get(a->c, &c1);
    assert_int_equal(c1.claim_shortcuts, c0.claim_shortcuts + 1);
    assert_int_equal(c1.claim_round_trips, c0.claim_round_trips + 1);
    assert_int_not_equal(access(pos, F_OK), 0);
    assert_int_equal(file_byte(path, 0), 'A');

    /* the file changed after its position was recorded: rebuilt */
    assert_int_equal(frames_pos_write(path, 3, 1, &e), 0);
    release_wait(a, "ns/sc", 3);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fputc('Z', f);
    fclose(f);
    assert_int_equal(frames_pos_read(path, &e0, &sq), 0);
    s0 = shortcuts(a);
    ev = claim(a, "ns/sc");
    assert_int_equal(ev.epoch, 4);
    assert_int_equal(shortcuts(a), s0);
    assert_int_equal(file_byte(path, 0), 'A');

    /* another node claimed it in between (even without writing): rebuilt */
    assert_int_equal(frames_pos_write(path, 4, 1, &e), 0);
    release_wait(a, "ns/sc", 4);
    ev = claim(b, "ns/sc");
    assert_int_equal(ev.epoch, 5);
    release_wait(b, "ns/sc", 5);
    ev = claim(a, "ns/sc");
    assert_int_equal(ev.epoch, 6);
    assert_int_equal(shortcuts(a), s0);

    /* a commit since the recorded position: rebuilt, with it */
    assert_int_equal(frames_pos_write(path, 6, 1, &e), 0);
    at = a->n;
    {
        uint8_t *en = entry_make(2, p2, "C", 1, &len);
        cluster_commit(a->p, "ns/sc", 6, 2, en, len, -1);
    }
    wait_events(a, at + 1);
    assert_int_equal(a->ev[at].seq, 2);
    release_wait(a, "ns/sc", 6);
    ev = claim(a, "ns/sc");
    assert_int_equal(ev.epoch, 7);
    assert_int_equal(ev.seq, 2);
    assert_int_equal(shortcuts(a), s0);
    assert_int_equal(file_byte(path, 512), 'C');
    node_close(a);
    node_close(b);
}

int main(void)
{
    log_setup(LOG_WARN, false);
    const char *url = getenv("DURABLE_TEST_PG_URL");
    if (!url || !getenv("DURABLE_TEST_PG_CTL")) {
        fprintf(stderr, "test_pg: run through tests/e2e/cluster/pg.mjs run -- (it sets "
                        "DURABLE_TEST_PG_URL and DURABLE_TEST_PG_CTL)\n");
        return 1;
    }
    admin = PQconnectdb(url);
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "test_pg: %s", PQerrorMessage(admin));
        return 1;
    }
    PQclear(PQexec(admin, "SET client_min_messages = warning"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_schema_created_newer_refused, reset_db),
        cmocka_unit_test_setup(test_node_id_kept, reset_db),
        cmocka_unit_test_setup(test_claim_remote_takeover_fence, reset_db),
        cmocka_unit_test_setup(test_group_commit, reset_db),
        cmocka_unit_test_setup(test_claim_round_trips, reset_db),
        cmocka_unit_test_setup(test_claim_shortcut, reset_db),
        cmocka_unit_test_setup(test_round_trips_by_load, reset_db),
        cmocka_unit_test_setup(test_commit_survives_restart, reset_db),
        cmocka_unit_test_setup(test_commit_fails_when_lease_lapses, reset_db),
        cmocka_unit_test_setup(test_snapshot_trims_log, reset_db),
        cmocka_unit_test_setup(test_drain_and_release, reset_db),
        cmocka_unit_test_setup(test_alarm_of_dead_owner, reset_db),
        cmocka_unit_test_setup(test_rebuild_on_claim, reset_db),
        cmocka_unit_test_setup(test_rebuild_from_log, reset_db),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    PQfinish(admin);
    return rc;
}
