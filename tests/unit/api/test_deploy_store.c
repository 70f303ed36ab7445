/* Unit tests for the deployment store (src/api/deploy_store.c, deploy_scripts.c,
 * deploy_ns.c, auth.c): schema version refusal, checked reads, scripts and
 * versions, namespaces, tokens (hash only, revocation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "api/internal.h"
#include "base/fs.h"

static char dir[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/durable-test-deploy-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    err e = {0};
    return fs_rm_rf(dir, &e);
}

static void raw_exec(const char *sql)
{
    char path[256];
    snprintf(path, sizeof path, "%s/durable.sqlite", dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_account_is_stable(void **state)
{
    (void)state;
    deploy_store *s;
    err e = {0};
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), 0);
    char acct[33];
    strcpy(acct, deploy_store_account(s));
    assert_int_equal(strlen(acct), 32);
    deploy_store_close(s);
    assert_int_equal(deploy_store_open(dir, 1, &s, &e), 0);
    assert_string_equal(deploy_store_account(s), acct);
    deploy_store_close(s);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    deploy_store *s;
    err e = {0};
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), 0);
    deploy_store_close(s);
    raw_exec("UPDATE deploy_schema SET version = 99");
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), -1);
    assert_null(s);
    assert_non_null(strstr(e.msg, "schema version 99"));
    assert_non_null(strstr(e.msg, "newer durable"));
    raw_exec("UPDATE deploy_schema SET version = 'x'");
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), -1);
    assert_non_null(strstr(e.msg, "changed by something else"));
}

static void test_changed_table_refused(void **state)
{
    (void)state;
    deploy_store *s;
    err e = {0};
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), 0);
    deploy_store_close(s);
    raw_exec("ALTER TABLE deploy_tokens ADD COLUMN extra TEXT");
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), -1);
    assert_non_null(strstr(e.msg, "deploy_tokens"));
}

static void test_tokens(void **state)
{
    (void)state;
    deploy_store *s;
    err e = {0};
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), 0);
    char tok[API_TOKEN_CHARS + 1], id[17];
    assert_int_equal(api_token_create(s, "ci", tok, id, &e), 0);
    assert_int_equal(strlen(tok), API_TOKEN_CHARS);
    assert_int_equal(strncmp(tok, "durable_", 8), 0);
    assert_int_equal(api_token_check(s, tok, strlen(tok), &e), 1);
    tok[20] ^= 1;
    assert_int_equal(api_token_check(s, tok, strlen(tok), &e), 0);
    tok[20] ^= 1;
    assert_int_equal(api_token_check(s, tok, 10, &e), 0);
    assert_int_equal(api_token_check(s, "", 0, &e), 0);
    /* Only the hash is stored: the token text is nowhere in the file. */
    deploy_store_close(s);
    char path[256];
    snprintf(path, sizeof path, "%s/durable.sqlite", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char data[1 << 20];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    for (size_t i = 0; i + 64 <= n; i++)
        assert_false(memcmp(data + i, tok + 8, 64) == 0);
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), 0);
    assert_int_equal(api_token_revoke(s, id, &e), 0);
    assert_int_equal(api_token_check(s, tok, strlen(tok), &e), 0);
    assert_int_equal(api_token_revoke(s, id, &e), DUR_ENOTFOUND);
    assert_int_equal(api_token_create(s, "", tok, id, &e), -1);
    deploy_store_close(s);
}

static void test_scripts_and_versions(void **state)
{
    (void)state;
    deploy_store *s;
    err e = {0};
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), 0);
    deploy_module mods[] = {
        {"index.js", "application/javascript+module", "export default {}", 17},
        {"data.bin", "application/octet-stream", "\0\1\2", 3},
    };
    deploy_binding b[] = {{"GREETING", "plain_text", "{\"type\":\"plain_text\",\"text\":\"hi\"}"}};
    deploy_version_in v = {.script = "hello", .main_module = "index.js",
                           .compat_date = "2025-01-01", .compat_flags_json = "[]",
                           .modules = mods, .modules_count = 2, .bindings = b,
                           .bindings_count = 1};
    int64_t num;
    char id[37];
    assert_int_equal(deploy_tx_begin(s, &e), 0);
    assert_int_equal(deploy_version_add(s, &v, &num, id, &e), 0);
    assert_int_equal(num, 1);
    assert_int_equal(strlen(id), 36);
    assert_int_equal(deploy_script_set_live(s, "hello", num, "v1", &e), 0);
    assert_int_equal(deploy_tx_commit(s, &e), 0);
    deploy_script_info info;
    assert_int_equal(deploy_script_get(s, "hello", &info, &e), 1);
    assert_int_equal(info.live_version, 1);
    assert_true(info.has_tag);
    assert_string_equal(info.migration_tag, "v1");
    assert_string_equal(info.main_module, "index.js");
    assert_string_equal(info.version_id, id);
    assert_int_equal(deploy_script_get(s, "nope", &info, &e), 0);
    buf out;
    buf_init(&out, 1 << 20);
    char ct[128];
    assert_int_equal(deploy_module_get(s, "hello", 1, "data.bin", &out, ct, &e), 1);
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.ptr, "\0\1\2", 3);
    assert_string_equal(ct, "application/octet-stream");
    buf_fini(&out);
    /* A rolled-back second version leaves the first live. */
    assert_int_equal(deploy_tx_begin(s, &e), 0);
    assert_int_equal(deploy_version_add(s, &v, &num, id, &e), 0);
    assert_int_equal(num, 2);
    assert_int_equal(deploy_script_set_live(s, "hello", num, NULL, &e), 0);
    deploy_tx_rollback(s);
    assert_int_equal(deploy_script_get(s, "hello", &info, &e), 1);
    assert_int_equal(info.live_version, 1);
    /* A value of the wrong type in a row is an error naming the table. */
    deploy_store_close(s);
    raw_exec("UPDATE deploy_versions SET main_module = x'00'");
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), 0);
    assert_int_equal(deploy_script_get(s, "hello", &info, &e), -1);
    assert_non_null(strstr(e.msg, "deploy_versions"));
    assert_non_null(strstr(e.msg, "changed by something else"));
    assert_int_equal(deploy_script_delete(s, "hello", &e), 1);
    assert_int_equal(deploy_script_delete(s, "hello", &e), 0);
    deploy_store_close(s);
}

static void test_namespaces(void **state)
{
    (void)state;
    deploy_store *s;
    err e = {0};
    assert_int_equal(deploy_store_open(dir, 0, &s, &e), 0);
    deploy_ns ns, got;
    char name[32], cls[32];
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "w_C%d", i);
        snprintf(cls, sizeof cls, "C%d", i);
        assert_int_equal(deploy_ns_create(s, name, "w", cls, i % 2, &ns, &e), 0);
    }
    assert_int_equal(deploy_ns_create(s, "w_C0", "w", "Other", false, &ns, &e), -1);
    assert_int_equal(deploy_ns_find(s, "w", "C3", &got, &e), 1);
    assert_true(got.use_sqlite);
    assert_int_equal(deploy_ns_get(s, got.id, &ns, &e), 1);
    assert_string_equal(ns.name, "w_C3");
    deploy_ns page[2];
    size_t n;
    int64_t total;
    assert_int_equal(deploy_ns_list(s, 4, 2, page, &n, &total, &e), 0);
    assert_int_equal(n, 1);
    assert_int_equal(total, 5);
    assert_int_equal(deploy_ns_list(s, 10, 2, page, &n, &total, &e), 0);
    assert_int_equal(n, 0);
    assert_int_equal(deploy_ns_rename(s, "w", "C3", "D3", &e), 0);
    assert_int_equal(deploy_ns_find(s, "w", "D3", &got, &e), 1);
    assert_int_equal(deploy_ns_find(s, "w", "C3", &got, &e), 0);
    assert_int_equal(deploy_ns_find(s, "w", "D3", &got, &e), 1);
    assert_string_equal(got.identity, "w/C3");   /* the objects' folder stays */
    deploy_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_account_is_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_table_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scripts_and_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
