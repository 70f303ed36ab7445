/* Unit tests for what storage reads from disk and what it lets user SQL do:
 * the id secret in durable.sqlite (objects/persist.c obj_secret_load) and object
 * databases that are not what durable wrote (a directory, a file that is not
 * SQLite, a zero-length file), storage failures told apart from bad SQL (a full
 * database, the error codes), the CPU limit on user SQL, and the functions and
 * tables the authorizer keeps from a Worker (issue 8 items 2, 6, 12, 24). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "objects/internal.h"
#include "storage/internal.h"

static char dir[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/durable-test-disk-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_test_hooks(false, 0);
    err e = {0};
    return fs_rm_rf(dir, &e);
}

static void write_file(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

static void meta_exec(const char *sql)
{
    char p[256];
    snprintf(p, sizeof p, "%s/durable.sqlite", dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* ---- the id secret ---- */

static void test_secret_made_once_and_kept(void **state)
{
    (void)state;
    uint8_t a[OBJ_KEY_BYTES], b[OBJ_KEY_BYTES];
    err e = {0};
    assert_int_equal(obj_secret_load(dir, a, &e), 0);
    assert_int_equal(obj_secret_load(dir, b, &e), 0);
    assert_memory_equal(a, b, OBJ_KEY_BYTES);
}

/* The secret of the wrong length made the old loader call itself without end. */
static void test_secret_of_wrong_length_is_an_error(void **state)
{
    (void)state;
    uint8_t k[OBJ_KEY_BYTES];
    err e = {0};
    assert_int_equal(obj_secret_load(dir, k, &e), 0);
    meta_exec("UPDATE meta SET value = x'0102' WHERE key = 'id_secret'");
    assert_true(obj_secret_load(dir, k, &e) < 0);
    assert_non_null(strstr(e.msg, "durable.sqlite"));
    assert_non_null(strstr(e.msg, "is 2 bytes of blob"));
    meta_exec("UPDATE meta SET value = '0123456789abcdef0123456789abcdef' WHERE key = 'id_secret'");
    assert_true(obj_secret_load(dir, k, &e) < 0);
    assert_non_null(strstr(e.msg, "32 bytes of text"));
}

static void test_secret_file_not_a_database(void **state)
{
    (void)state;
    char p[256], junk[4096];
    snprintf(p, sizeof p, "%s/durable.sqlite", dir);
    memset(junk, 'x', sizeof junk);
    write_file(p, junk, sizeof junk);
    uint8_t k[OBJ_KEY_BYTES];
    err e = {0};
    assert_true(obj_secret_load(dir, k, &e) < 0);
    assert_non_null(strstr(e.msg, p));
    assert_non_null(strstr(e.msg, "file is not a database"));
}

static void test_secret_file_is_a_directory(void **state)
{
    (void)state;
    char p[256];
    snprintf(p, sizeof p, "%s/durable.sqlite", dir);
    assert_int_equal(mkdir(p, 0755), 0);
    uint8_t k[OBJ_KEY_BYTES];
    err e = {0};
    assert_true(obj_secret_load(dir, k, &e) < 0);
    assert_non_null(strstr(e.msg, p));
    assert_non_null(strstr(e.msg, "is a directory"));
}

/* A zero-length file is an empty SQLite database: a new secret, unless objects
 * exist whose ids the lost secret made. */
static void test_secret_missing_while_objects_exist(void **state)
{
    (void)state;
    char p[256];
    snprintf(p, sizeof p, "%s/durable.sqlite", dir);
    write_file(p, "", 0);
    uint8_t k[OBJ_KEY_BYTES];
    err e = {0};
    assert_int_equal(obj_secret_load(dir, k, &e), 0);
    meta_exec("DELETE FROM meta");
    snprintf(p, sizeof p, "%s/objects/0123", dir);
    assert_int_equal(fs_mkdir_p(p, &e), 0);
    assert_true(obj_secret_load(dir, k, &e) < 0);
    assert_non_null(strstr(e.msg, "the id secret is missing"));
    assert_non_null(strstr(e.msg, "/objects holds objects"));
}

/* ---- object databases ---- */

static store *open_store(store_shard *sh, const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s.sqlite", dir, name);
    store *s = store_new(sh, path, STORE_BACKEND_SQL);
    assert_non_null(s);
    return s;
}

static int no_value(void *ud, const char *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)ud, (void)key, (void)klen, (void)val, (void)vlen;
    return 0;
}

static void test_object_database_not_what_we_wrote(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256], junk[8192];
    err e = {0};

    store *s = open_store(sh, "dir", p, sizeof p);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(store_kv_get(s, "k", 1, no_value, NULL, &e), -EIO);
    assert_non_null(strstr(e.msg, p));
    assert_non_null(strstr(e.msg, "is a directory"));
    store_free(s);

    s = open_store(sh, "junk", p, sizeof p);
    memset(junk, 0x5a, sizeof junk);
    write_file(p, junk, sizeof junk);
    assert_int_equal(store_kv_get(s, "k", 1, no_value, NULL, &e), -EIO);
    assert_non_null(strstr(e.msg, p));
    assert_non_null(strstr(e.msg, "file is not a database"));
    assert_true(store_failure(e.code));
    store_free(s);

    /* Zero bytes: SQLite's empty database (what a crash right after creating the
     * file leaves); it reads as empty and takes writes. */
    s = open_store(sh, "empty", p, sizeof p);
    write_file(p, "", 0);
    assert_int_equal(store_kv_get(s, "k", 1, no_value, NULL, &e), 0);
    assert_int_equal(store_kv_put(s, "k", 1, (const uint8_t *)"v", 1, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);
    store_free(s);
    store_shard_free(sh);
}

/* ---- storage failures are not bad arguments (item 24) ---- */

static void test_error_codes(void **state)
{
    (void)state;
    assert_int_equal(store_errcode(SQLITE_FULL), -ENOSPC);
    assert_int_equal(store_errcode(SQLITE_IOERR_WRITE), -EIO);
    assert_int_equal(store_errcode(SQLITE_CORRUPT), -EIO);
    assert_int_equal(store_errcode(SQLITE_NOTADB), -EIO);
    assert_int_equal(store_errcode(SQLITE_INTERRUPT), -ETIMEDOUT);
    assert_int_equal(store_errcode(SQLITE_CONSTRAINT_UNIQUE), DUR_EINVAL);
    assert_int_equal(store_errcode(SQLITE_ERROR), DUR_EINVAL);
    assert_int_equal(store_errcode(SQLITE_TOOBIG), DUR_ETOOBIG);
    assert_true(store_failure(-ENOSPC));
    assert_false(store_failure(DUR_EINVAL));
}

static void test_full_database(void **state)
{
    (void)state;
    store_test_hooks(true, 12);   /* 12 pages of 4 KiB */
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256];
    store *s = open_store(sh, "full", p, sizeof p);
    err e = {0};
    uint8_t v[3000];
    memset(v, 7, sizeof v);
    assert_int_equal(store_kv_put(s, "first", 5, v, sizeof v, &e), 0);
    assert_int_equal(store_commit(s, &e), 0);
    int rc = 0;
    char key[16];
    for (int i = 0; i < 64 && rc == 0; i++) {
        snprintf(key, sizeof key, "k%d", i);
        rc = store_kv_put(s, key, strlen(key), v, sizeof v, &e);
    }
    assert_int_equal(rc, -ENOSPC);
    assert_true(store_failure(rc));
    assert_string_equal(e.msg, "database or disk is full: SQLITE_FULL");
    /* Whatever SQLite kept of the transaction, the commit either stores all of it
     * or fails: never half a turn. What was committed before is there. */
    store_rollback(s);
    assert_int_equal(store_kv_get(s, "first", 5, no_value, NULL, &e), 1);
    assert_int_equal(store_kv_get(s, "k0", 2, no_value, NULL, &e), 0);
    store_free(s);
    store_shard_free(sh);
}

/* A failure that rolls the implicit transaction back (SQLite does so for an
 * interrupt, a full disk, an I/O error) makes the next commit fail. */
static void test_lost_transaction_fails_the_commit(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256];
    store *s = open_store(sh, "lost", p, sizeof p);
    err e = {0};
    const char *ddl = "CREATE TABLE t (x)";
    store_cursor *c = store_sql_exec(s, ddl, strlen(ddl), NULL, 0, &e);
    assert_non_null(c);
    store_cursor_free(c);
    assert_int_equal(store_commit(s, &e), 0);
    const char *ins = "INSERT INTO t VALUES (1)";
    c = store_sql_exec(s, ins, strlen(ins), NULL, 0, &e);
    assert_non_null(c);
    store_cursor_free(c);
    /* An endless write, interrupted at the CPU limit. */
    store_deadline_set(s, 30);
    const char *loop = "INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                       "FROM c) SELECT x FROM c";
    c = store_sql_exec(s, loop, strlen(loop), NULL, 0, &e);
    store_deadline_set(s, 0);
    assert_null(c);
    assert_int_equal(e.code, -ETIMEDOUT);
    assert_string_equal(e.msg, "SQL query exceeded the CPU time limit of 30 ms and was "
                               "interrupted: SQLITE_INTERRUPT");
    bool lost = s->lost != 0;
    if (lost) {   /* SQLite rolled the transaction back with the statement */
        c = store_sql_exec(s, ins, strlen(ins), NULL, 0, &e);
        assert_non_null(c);
        store_cursor_free(c);
        assert_true(store_dirty(s));
        assert_int_equal(store_commit(s, &e), -ETIMEDOUT);
        assert_non_null(strstr(e.msg, "CPU time limit"));
    } else {
        assert_int_equal(store_commit(s, &e), 0);
    }
    const char *count = "SELECT count(*) FROM t";
    c = store_sql_exec(s, count, strlen(count), NULL, 0, &e);
    assert_non_null(c);
    store_sqlv row[1];
    assert_int_equal(store_cursor_next(c, row, &e), 1);
    assert_int_equal(row[0].i, lost ? 0 : 1);
    store_cursor_free(c);
    store_free(s);
    store_shard_free(sh);
}

/* ---- the CPU limit (item 6) ---- */

static void test_endless_query_is_interrupted(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256];
    store *s = open_store(sh, "cte", p, sizeof p);
    err e = {0};
    const char *q = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                    "SELECT count(*) FROM c";
    store_deadline_set(s, 50);
    store_cursor *c = store_sql_exec(s, q, strlen(q), NULL, 0, &e);
    store_deadline_set(s, 0);
    assert_null(c);
    assert_int_equal(e.code, -ETIMEDOUT);
    assert_non_null(strstr(e.msg, "CPU time limit of 50 ms"));
    /* The store still answers, and a huge blob is refused by the length limit. */
    q = "SELECT length(zeroblob(1000000000))";
    c = store_sql_exec(s, q, strlen(q), NULL, 0, &e);
    assert_null(c);
    assert_int_equal(e.code, DUR_ETOOBIG);
    q = "SELECT 1";
    c = store_sql_exec(s, q, strlen(q), NULL, 0, &e);
    assert_non_null(c);
    store_cursor_free(c);
    store_free(s);
    store_shard_free(sh);
}

/* ---- what user SQL may not touch (item 12) ---- */

static void test_sql_surface(void **state)
{
    (void)state;
    store_shard *sh = store_shard_new(STORE_DURABILITY_PROCESS, 8);
    char p[256];
    store *s = open_store(sh, "surface", p, sizeof p);
    err e = {0};
    static const char *const refused[] = {
        "SELECT fts3_tokenizer('porter')",
        "SELECT FTS3_Tokenizer('simple', x'0000000000000000')",
        "SELECT * FROM sqlite_stmt",
        "SELECT * FROM DBSTAT",
        "SELECT * FROM sqlite_dbpage",
        "SELECT load_extension('/tmp/x.so')",
        "ATTACH '/tmp/durable-attach.db' AS a",
        "VACUUM INTO '/tmp/durable-vacuum.db'",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA synchronous = OFF",
        "PRAGMA writable_schema = ON",
        "SELECT * FROM pragma_journal_mode",
        "CREATE VIRTUAL TABLE v USING fts4(a)",
        "CREATE TABLE dbstat (x)",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        memset(&e, 0, sizeof e);
        store_cursor *c = store_sql_exec(s, refused[i], strlen(refused[i]), NULL, 0, &e);
        /* sqlite_dbpage exists only in builds with SQLITE_ENABLE_DBPAGE_VTAB */
        if (c || !(strstr(e.msg, "SQLITE_AUTH") || strstr(e.msg, "no such table: sqlite_dbpage")))
            fail_msg("not refused as expected: %s: %s", refused[i], e.msg);
    }
    /* Module names compare without case (SQL-22). */
    static const char *const allowed[] = {
        "CREATE VIRTUAL TABLE f USING FTS5(a)", "CREATE VIRTUAL TABLE r USING RTree(id, x0, x1)",
        "SELECT count(*) FROM pragma_table_list",
    };
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++) {
        store_cursor *c = store_sql_exec(s, allowed[i], strlen(allowed[i]), NULL, 0, &e);
        if (!c)
            fail_msg("refused: %s: %s", allowed[i], e.msg);
        store_cursor_free(c);
    }
    /* Defensive mode: the schema table cannot be written even by a trigger trick. */
    const char *q = "UPDATE sqlite_master SET sql = 'x'";
    store_cursor *c = store_sql_exec(s, q, strlen(q), NULL, 0, &e);
    assert_null(c);
    assert_int_equal(store_commit(s, &e), 0);
    struct stat st;
    assert_int_equal(stat("/tmp/durable-vacuum.db", &st), -1);
    store_free(s);
    store_shard_free(sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_secret_made_once_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_of_wrong_length_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_is_a_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_missing_while_objects_exist, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_database_not_what_we_wrote, setup, teardown),
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test_setup_teardown(test_full_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_transaction_fails_the_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endless_query_is_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sql_surface, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
