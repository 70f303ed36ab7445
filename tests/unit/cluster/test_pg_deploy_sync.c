/* Unit tests for the deployments shared through PostgreSQL in cluster mode
 * (src/api/deploy_sync.c, spec CL-15) against a real, throw-away PostgreSQL: ctest
 * runs this through tests/e2e/cluster/pg.mjs (DURABLE_TEST_PG_URL, DURABLE_TEST_PG_CTL).
 * Each "node" is a deployment store in its own data folder plus its sync; the
 * writer's turn (deploy__sync_begin/finish) is what a mutating REST request runs
 * inside, the poll what each heartbeat runs.
 *
 * Covered: a namespace made on one node arrives on another with the same id and
 * identity (the objects' key in PostgreSQL), each node keeping its account id; concurrent
 * writers are serialised and the second builds on the first; tokens made on one
 * node (as `durable token create` does) spread, and a revocation wins; a fresh
 * node never publishes its empty store over nothing; a store that could not
 * publish (PostgreSQL down) takes the shared state back at the next poll; a script
 * keeps its newest 50 versions (and its live one) in the image, and a version
 * number deleted on one node is never given out again by another. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "base/fs.h"
#include "base/log.h"

static PGconn *admin;

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

typedef struct tnode {
    char dir[128];
    deploy_store *s;
    deploy_sync *y;
} tnode;

static void node_open(tnode *n)
{
    snprintf(n->dir, sizeof n->dir, "/tmp/durable-test-dsync-XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    err e = {0};
    if (deploy_store_open(n->dir, 0, &n->s, &e) != 0)
        fail_msg("deploy_store_open: %s", e.msg);
    n->y = deploy_sync_new(n->s, getenv("DURABLE_TEST_PG_URL"), "tnode", &e);
    assert_non_null(n->y);
}

static void node_close(tnode *n)
{
    deploy_sync_free(n->y);
    deploy_store_close(n->s);
    err e = {0};
    fs_rm_rf(n->dir, &e);
}

static int poll_ok(tnode *n)
{
    err e = {0};
    int rc = deploy_sync_poll(n->y, &e);
    if (rc < 0)
        fail_msg("deploy_sync_poll: %s", e.msg);
    return rc;
}

/* A writer's turn, as a mutating REST request runs it: a namespace made inside. */
static void ns_make(tnode *n, const char *name, const char *cls, deploy_ns *out)
{
    err e = {0};
    bool pulled;
    if (deploy__sync_begin(n->y, &pulled, &e) < 0)
        fail_msg("begin: %s", e.msg);
    if (deploy_ns_create(n->s, name, "app", cls, true, out, &e) < 0)
        fail_msg("deploy_ns_create: %s", e.msg);
    if (deploy__sync_finish(n->y, &e) < 0)
        fail_msg("finish: %s", e.msg);
}

static int reset_db(void **state)
{
    PGresult *r = PQexec(admin, "DROP TABLE IF EXISTS durable_deploy");
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    return 0;
}

static void test_namespace_reaches_other_node(void **state)
{
    tnode a, b;
    node_open(&a);
    node_open(&b);
    assert_int_equal(poll_ok(&a), 0);
    assert_int_equal(poll_ok(&b), 0);
    /* Two empty stores: nothing is published (a fresh node must not win). */
    assert_int_equal(sql_int("SELECT version FROM durable_deploy"), 0);
    assert_string_not_equal(deploy_store_account(a.s), deploy_store_account(b.s));

    deploy_ns ns;
    ns_make(&a, "counters", "Counter", &ns);
    assert_int_equal(sql_int("SELECT version FROM durable_deploy"), 1);
    assert_int_equal(poll_ok(&b), 1);                 /* imported: the caller reloads */
    assert_int_equal(poll_ok(&b), 0);                 /* nothing newer */
    deploy_ns got;
    err e = {0};
    assert_int_equal(deploy_ns_get(b.s, ns.id, &got, &e), 1);
    assert_string_equal(got.name, "counters");
    assert_string_equal(got.identity, ns.identity);
    /* Each node keeps the account id it printed at start (its REST paths). */
    assert_string_not_equal(deploy_store_account(b.s), deploy_store_account(a.s));

    /* b writes next without polling first: its turn imports a's state, builds on it. */
    deploy_ns ns2;
    ns_make(&b, "rooms", "Room", &ns2);
    assert_int_equal(sql_int("SELECT version FROM durable_deploy"), 2);
    ns_make(&a, "boards", "Board", &ns);   /* a is behind by one: its turn pulls first */
    assert_int_equal(sql_int("SELECT version FROM durable_deploy"), 3);
    assert_int_equal(poll_ok(&b), 1);
    deploy_ns list[8];
    size_t cnt = 0;
    int64_t total = 0;
    assert_int_equal(deploy_ns_list(b.s, 0, 8, list, &cnt, &total, &e), 0);
    assert_int_equal(total, 3);
    assert_int_equal(deploy_ns_list(a.s, 0, 8, list, &cnt, &total, &e), 0);
    assert_int_equal(total, 3);
    node_close(&a);
    node_close(&b);
}

static void test_tokens_spread_and_revocation_wins(void **state)
{
    tnode a, b;
    node_open(&a);
    node_open(&b);
    deploy_ns ns;
    ns_make(&a, "counters", "Counter", &ns);
    assert_int_equal(poll_ok(&b), 1);

    /* `durable token create` on b writes b's file; b's next poll publishes it. */
    char token[API_TOKEN_CHARS + 1], id[17];
    err e = {0};
    assert_int_equal(api_token_create(b.s, "ci", token, id, &e), 0);
    assert_int_equal(api_token_check(a.s, token, strlen(token), &e), 0);
    poll_ok(&b);
    assert_int_equal(sql_int("SELECT version FROM durable_deploy"), 2);
    /* 0: imported, but only tokens changed, so nothing to reload (a reload would
     * restart every object of the node). */
    assert_int_equal(poll_ok(&a), 0);
    assert_int_equal(api_token_check(a.s, token, strlen(token), &e), 1);

    /* A token only a has (made while b's image was being imported) survives an
     * import and is published by a's next poll. */
    char t2[API_TOKEN_CHARS + 1], id2[17];
    assert_int_equal(api_token_create(a.s, "local", t2, id2, &e), 0);
    ns_make(&b, "rooms", "Room", &ns);          /* version 3, without a's new token */
    assert_int_equal(poll_ok(&a), 1);            /* imports 3, keeps t2, publishes 4 */
    assert_int_equal(api_token_check(a.s, t2, strlen(t2), &e), 1);
    assert_int_equal(sql_int("SELECT version FROM durable_deploy"), 4);
    assert_int_equal(poll_ok(&b), 0);            /* version 4 differs from 3 only in tokens */
    assert_int_equal(api_token_check(b.s, t2, strlen(t2), &e), 1);

    /* Revoked on a: b's copy is revoked too, an import never brings it back. */
    assert_int_equal(api_token_revoke(a.s, id, &e), 0);
    poll_ok(&a);
    assert_int_equal(poll_ok(&b), 0);            /* imported: tokens only */
    assert_int_equal(api_token_check(b.s, token, strlen(token), &e), 0);
    assert_int_equal(api_token_check(a.s, token, strlen(token), &e), 0);
    node_close(&a);
    node_close(&b);
}

/* PostgreSQL goes away between the local change and its publication: the finish
 * fails (the request answers 503), and once PostgreSQL is back the node takes the
 * shared state again, dropping the change nobody else has. */
static void test_unpublished_change_is_undone(void **state)
{
    tnode a;
    node_open(&a);
    deploy_ns ns;
    ns_make(&a, "counters", "Counter", &ns);
    err e = {0};
    bool pulled;
    assert_int_equal(deploy__sync_begin(a.y, &pulled, &e), 0);
    deploy_ns lost;
    assert_int_equal(deploy_ns_create(a.s, "lost", "app", "Lost", true, &lost, &e), 0);
    pg_ctl("stop");
    assert_true(deploy__sync_finish(a.y, &e) < 0);
    pg_ctl("start");
    assert_int_equal(sql_int("SELECT version FROM durable_deploy"), 1);
    for (int i = 0; i < 3 && deploy_sync_poll(a.y, &e) < 0; i++)
        ;   /* the first poll may meet the connection the restart broke */
    deploy_ns got;
    assert_int_equal(deploy_ns_get(a.s, lost.id, &got, &e), 0);
    assert_int_equal(deploy_ns_get(a.s, ns.id, &got, &e), 1);
    node_close(&a);
}

/* A writer's turn that stores one version of script `app`; its number. */
static int64_t version_add(tnode *n)
{
    err e = {0};
    bool pulled;
    if (deploy__sync_begin(n->y, &pulled, &e) < 0)
        fail_msg("begin: %s", e.msg);
    deploy_module mod = {.name = "w.mjs", .content_type = "application/javascript+module",
                         .data = "export default {}", .len = 17};
    deploy_version_in v = {.script = "app", .main_module = "w.mjs", .compat_date = "2025-01-01",
                           .compat_flags_json = "[]", .modules = &mod, .modules_count = 1};
    int64_t number = 0;
    char id[37];
    if (deploy_version_add(n->s, &v, &number, id, &e) < 0)
        fail_msg("deploy_version_add: %s", e.msg);
    if (number == 1 && deploy_script_set_live(n->s, "app", 1, NULL, &e) < 0)
        fail_msg("deploy_script_set_live: %s", e.msg);
    if (deploy__sync_finish(n->y, &e) < 0)
        fail_msg("finish: %s", e.msg);
    return number;
}

static int64_t local_int(tnode *n, const char *q)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(n->s->db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void test_old_versions_pruned_numbers_never_reused(void **state)
{
    tnode a, b;
    node_open(&a);
    node_open(&b);
    for (int64_t i = 1; i <= 55; i++)
        assert_int_equal(version_add(&a), i);
    /* The newest 50 (6..55) and the live one (1) are kept, here and in the image. */
    assert_int_equal(local_int(&a, "SELECT count(*) FROM deploy_versions WHERE script = 'app'"), 51);
    assert_int_equal(local_int(&a, "SELECT min(number) FROM deploy_versions WHERE number > 1"), 6);
    assert_int_equal(local_int(&a, "SELECT count(*) FROM deploy_modules WHERE version BETWEEN 2 "
                                   "AND 5"), 0);
    assert_int_equal(poll_ok(&b), 1);
    assert_int_equal(local_int(&b, "SELECT count(*) FROM deploy_versions WHERE script = 'app'"), 51);

    /* a deletes its newest version; b, which has not polled since, numbers past it. */
    err e = {0};
    bool pulled;
    assert_int_equal(deploy__sync_begin(a.y, &pulled, &e), 0);
    assert_true(deploy_version_delete(a.s, "app", 55, &e) >= 0);
    assert_int_equal(deploy__sync_finish(a.y, &e), 0);
    assert_int_equal(version_add(&b), 56);
    poll_ok(&a);   /* imports b's version (nothing served changed: may say 0) */
    assert_int_equal(version_add(&a), 57);
    node_close(&a);
    node_close(&b);
}

int main(void)
{
    log_setup(LOG_WARN, false);
    const char *url = getenv("DURABLE_TEST_PG_URL");
    if (!url) {
        fprintf(stderr, "test_pg_deploy_sync: DURABLE_TEST_PG_URL is not set (run through "
                        "tests/e2e/cluster/pg.mjs run -- PROGRAM)\n");
        return 1;
    }
    admin = PQconnectdb(url);
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "test_pg_deploy_sync: %s", PQerrorMessage(admin));
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_namespace_reaches_other_node, reset_db),
        cmocka_unit_test_setup(test_tokens_spread_and_revocation_wins, reset_db),
        cmocka_unit_test_setup(test_unpublished_change_is_undone, reset_db),
        cmocka_unit_test_setup(test_old_versions_pruned_numbers_never_reused, reset_db),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    PQfinish(admin);
    return rc;
}
