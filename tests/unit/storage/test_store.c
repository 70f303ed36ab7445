/* Unit tests for the storage engine (src/storage): lazy creation, the implicit
 * transaction, savepoints, KV order and ranges, deleteAll, the alarm row, the SQL
 * cursor and the authorizer, the handle cache, and durability across reopening. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "storage/storage.h"

static char dir[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/durable-test-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    err e = {0};
    return fs_rm_rf(dir, &e);
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/ns/%s.sqlite", dir, name);
}

static int put(store *s, const char *k, const char *v)
{
    err e = {0};
    return store_kv_put(s, k, strlen(k), (const uint8_t *)v, strlen(v), &e);
}

typedef struct got {
    char keys[16][32];
    char vals[16][32];
    int n;
} got;

static int collect(void *ud, const char *key, size_t klen, const uint8_t *val, size_t vlen)
{
    got *g = ud;
    if (g->n >= 16)
        return -1;
    snprintf(g->keys[g->n], sizeof g->keys[0], "%.*s", (int)klen, key);
    snprintf(g->vals[g->n], sizeof g->vals[0], "%.*s", (int)vlen, (const char *)val);
    g->n++;
    return 0;
}

static int get(store *s, const char *k, char *out)
{
    got g = {0};
    err e = {0};
    int rc = store_kv_get(s, k, strlen(k), collect, &g, &e);
    if (rc == 1)
        snprintf(out, 32, "%s", g.vals[0]);
    return rc;
}

static void test_absent_object_has_no_file(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256], v[32];
    path_of(p, sizeof p, "cold");
    store *s = store_new(sh, p, STORE_BACKEND_SQL);
    assert_int_equal(get(s, "k", v), 0);
    err e = {0};
    assert_int_equal(store_kv_delete(s, "k", 1, &e), 0);
    int64_t ms;
    assert_int_equal(store_alarm_get(s, &ms, &e), 0);
    assert_false(store_dirty(s));
    assert_int_not_equal(access(p, F_OK), 0);   /* reads never create the database */
    store_free(s);
    store_shard_free(sh);
}

static void test_commit_and_reopen(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256], v[32];
    path_of(p, sizeof p, "a");
    store *s = store_new(sh, p, STORE_BACKEND_KV);
    assert_int_equal(put(s, "k", "one"), 0);
    assert_true(store_dirty(s));
    assert_int_equal(get(s, "k", v), 1);     /* read-your-writes before the commit */
    assert_string_equal(v, "one");
    err e = {0};
    assert_int_equal(store_commit(s, &e), 0);
    assert_false(store_dirty(s));
    assert_int_equal(put(s, "k", "two"), 0);
    store_free(s);                              /* uncommitted "two" is dropped */
    s = store_new(sh, p, STORE_BACKEND_KV);
    assert_int_equal(get(s, "k", v), 1);
    assert_string_equal(v, "one");
    store_free(s);
    store_shard_free(sh);
}

static void test_savepoints(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256], v[32];
    path_of(p, sizeof p, "sp");
    store *s = store_new(sh, p, STORE_BACKEND_SQL);
    err e = {0};
    assert_int_equal(put(s, "k", "base"), 0);
    assert_int_equal(store_savepoint(s, &e), 0);
    assert_int_equal(put(s, "k", "outer"), 0);
    assert_int_equal(store_savepoint(s, &e), 0);
    assert_int_equal(put(s, "k", "inner"), 0);
    assert_int_equal(store_savepoint_depth(s), 2);
    assert_int_equal(store_rollback_to(s, &e), 0);   /* the inner part only */
    assert_int_equal(get(s, "k", v), 1);
    assert_string_equal(v, "outer");
    assert_int_not_equal(store_commit(s, &e), 0);   /* not inside a transaction */
    assert_int_equal(store_release(s, &e), 0);
    assert_int_equal(store_savepoint_depth(s), 0);
    assert_int_equal(store_commit(s, &e), 0);
    assert_int_equal(get(s, "k", v), 1);
    assert_string_equal(v, "outer");
    assert_int_not_equal(store_release(s, &e), 0);
    store_free(s);
    store_shard_free(sh);
}

static void test_list_order_and_ranges(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256];
    path_of(p, sizeof p, "list");
    store *s = store_new(sh, p, STORE_BACKEND_KV);
    const char *keys[] = {"b", "a", "ab", "abc", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "c", ""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_int_equal(put(s, keys[i], keys[i]), 0);
    err e = {0};
    got g = {0};
    store_range all = {0};
    assert_int_equal(store_kv_list(s, &all, collect, &g, &e), 0);
    assert_int_equal(g.n, 8);
    assert_string_equal(g.keys[0], "");
    assert_string_equal(g.keys[1], "a");
    assert_string_equal(g.keys[2], "ab");
    assert_string_equal(g.keys[3], "abc");
    assert_string_equal(g.keys[6], "\xef\xbf\xbf");       /* U+FFFF before U+10000 (LIST-2) */
    assert_string_equal(g.keys[7], "\xf0\x90\x80\x80");

    memset(&g, 0, sizeof g);
    store_range pre = {.prefix = "ab", .prefix_len = 2};
    assert_int_equal(store_kv_list(s, &pre, collect, &g, &e), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.keys[1], "abc");

    memset(&g, 0, sizeof g);
    store_range rev = {.lo = "a", .lo_len = 1, .lo_set = true, .lo_incl = false, .hi = "c",
                       .hi_len = 1, .hi_set = true, .reverse = true, .limit = 2};
    assert_int_equal(store_kv_list(s, &rev, collect, &g, &e), 0);
    assert_int_equal(g.n, 2);                               /* the largest two, largest first */
    assert_string_equal(g.keys[0], "b");
    assert_string_equal(g.keys[1], "abc");

    memset(&g, 0, sizeof g);
    store_range empty = {.lo = "c", .lo_len = 1, .lo_set = true, .lo_incl = true, .hi = "b",
                         .hi_len = 1, .hi_set = true};
    assert_int_equal(store_kv_list(s, &empty, collect, &g, &e), 0);
    assert_int_equal(g.n, 0);

    memset(&g, 0, sizeof g);
    store_range disjoint = {.prefix = "z", .prefix_len = 1, .hi = "b", .hi_len = 1, .hi_set = true};
    assert_int_equal(store_kv_list(s, &disjoint, collect, &g, &e), 0);
    assert_int_equal(g.n, 0);
    store_free(s);
    store_shard_free(sh);
}

static void test_delete_all_and_alarm(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_POWER, 8);
    char p[256], v[32];
    path_of(p, sizeof p, "da");
    store *s = store_new(sh, p, STORE_BACKEND_SQL);
    err e = {0};
    assert_int_equal(put(s, "k", "v"), 0);
    assert_int_equal(store_alarm_set(s, 12345, &e), 0);
    const char *ddl = "CREATE TABLE t (x); CREATE INDEX ti ON t (x)";
    store_cursor *c = store_sql_exec(s, "SELECT 1;\0SELECT 2", 19, NULL, 0, &e);   /* a NUL */
    assert_null(c);
    assert_non_null(strstr(e.msg, "NUL"));
    c = store_sql_exec(s, ddl, strlen(ddl), NULL, 0, &e);
    assert_non_null(c);
    store_cursor_free(c);
    assert_int_equal(store_commit(s, &e), 0);
    assert_int_equal(store_delete_all(s, true, &e), 0);
    assert_int_equal(get(s, "k", v), 0);
    int64_t ms = 0;
    assert_int_equal(store_alarm_get(s, &ms, &e), 1);
    assert_int_equal(ms, 12345);
    c = store_sql_exec(s, "SELECT * FROM t", 15, NULL, 0, &e);
    assert_null(c);                                         /* user tables are gone */
    assert_non_null(strstr(e.msg, "no such table"));
    assert_int_equal(store_delete_all(s, false, &e), 0);
    assert_int_equal(store_alarm_get(s, &ms, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);
    store_free(s);
    store_shard_free(sh);
}

static void test_sql_cursor_and_refusals(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256];
    path_of(p, sizeof p, "sql");
    store *s = store_new(sh, p, STORE_BACKEND_SQL);
    err e = {0};
    const char *q = "CREATE TABLE t (a INTEGER, b TEXT, c BLOB, d REAL); "
                    "INSERT INTO t VALUES (1, 'x', x'00ff', 1.5), (2, NULL, NULL, NULL), (?, ?, ?, ?);";
    store_sqlv args[4] = {{.kind = SQLV_INT, .i = 3}, {.kind = SQLV_TEXT, .p = "hé", .len = 3},
                          {.kind = SQLV_BLOB, .p = "\x01\x02", .len = 2}, {.kind = SQLV_REAL, .d = 0.25}};
    store_cursor *c = store_sql_exec(s, q, strlen(q), args, 4, &e);
    assert_non_null(c);
    assert_int_equal(store_cursor_rows_written(c), 3);     /* written at exec time */
    assert_int_equal(store_cursor_columns(c), 0);
    store_cursor_free(c);

    q = "SELECT a, b, c, d FROM t ORDER BY a";
    c = store_sql_exec(s, q, strlen(q), NULL, 0, &e);
    assert_non_null(c);
    assert_int_equal(store_cursor_columns(c), 4);
    assert_string_equal(store_cursor_column_name(c, 1), "b");
    store_sqlv row[4];
    assert_int_equal(store_cursor_next(c, row, &e), 1);
    assert_int_equal(row[0].kind, SQLV_INT);
    assert_int_equal(row[0].i, 1);
    assert_int_equal(row[2].kind, SQLV_BLOB);
    assert_int_equal(row[2].len, 2);
    assert_int_equal(store_cursor_next(c, row, &e), 1);
    assert_int_equal(row[1].kind, SQLV_NULL);
    assert_int_equal(store_cursor_next(c, row, &e), 1);
    assert_int_equal(row[1].kind, SQLV_TEXT);
    assert_memory_equal(row[1].p, "hé", 3);
    assert_true(row[3].d == 0.25);
    assert_int_equal(store_cursor_next(c, row, &e), 0);
    assert_int_equal(store_cursor_rows_read(c), 3);
    store_cursor_free(c);

    const char *refused[] = {"BEGIN", "COMMIT", "SAVEPOINT x", "SELECT * FROM _cf_KV",
                             "ATTACH ':memory:' AS m", "PRAGMA writable_schema = 1", "VACUUM",
                             "ALTER TABLE t RENAME TO _cf_x", "CREATE TABLE _CF_y (x)"};
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        memset(&e, 0, sizeof e);
        c = store_sql_exec(s, refused[i], strlen(refused[i]), NULL, 0, &e);
        assert_null(c);
        assert_non_null(strstr(e.msg, "SQLITE_AUTH"));
    }
    q = "SELECT ?";
    c = store_sql_exec(s, q, strlen(q), NULL, 0, &e);      /* too few bindings */
    assert_null(c);
    assert_non_null(strstr(e.msg, "Wrong number of parameter bindings"));
    c = store_sql_exec(s, "  -- nothing\n ; ", 16, NULL, 0, &e);   /* SQL-7 */
    assert_non_null(c);
    assert_int_equal(store_cursor_next(c, row, &e), 0);
    store_cursor_free(c);
    q = "SELECT * FROM nope";
    c = store_sql_exec(s, q, strlen(q), NULL, 0, &e);
    assert_null(c);
    assert_string_equal(e.msg, "no such table: nope: SQLITE_ERROR");
    assert_true(store_database_size(s) > 0);
    assert_int_equal(store_commit(s, &e), 0);
    store_free(s);
    store_shard_free(sh);
}

static void test_cache_bound_and_live_cursor(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 2);
    store *s[5];
    char p[256], v[32];
    err e = {0};
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        path_of(p, sizeof p, name);
        s[i] = store_new(sh, p, STORE_BACKEND_SQL);
        assert_int_equal(put(s[i], "k", name), 0);
        assert_int_equal(store_commit(s[i], &e), 0);
    }
    /* Closed ones reopen on demand with their data. */
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        assert_int_equal(get(s[i], "k", v), 1);
        assert_string_equal(v, name);
    }
    /* A store whose cursor is alive, freed under it: the cursor ends quietly. */
    const char *q = "SELECT 1 UNION ALL SELECT 2";
    store_cursor *c = store_sql_exec(s[0], q, strlen(q), NULL, 0, &e);
    assert_non_null(c);
    store_free(s[0]);
    store_sqlv row[1];
    assert_int_equal(store_cursor_next(c, row, &e), 0);
    store_cursor_free(c);
    for (int i = 1; i < 5; i++)
        store_free(s[i]);
    store_shard_free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_absent_object_has_no_file),
        cmocka_unit_test(test_commit_and_reopen),
        cmocka_unit_test(test_savepoints),
        cmocka_unit_test(test_list_order_and_ranges),
        cmocka_unit_test(test_delete_all_and_alarm),
        cmocka_unit_test(test_sql_cursor_and_refusals),
        cmocka_unit_test(test_cache_bound_and_live_cursor),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
