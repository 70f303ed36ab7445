/* deploy_store.c: the deployment store (docs/api.md): scripts,
 * their versions, modules and bindings, Durable Object namespaces, migrations
 * applied and API tokens, in tables of <data>/durable.sqlite next to the ones
 * objects/persist.c keeps there (the id secret, alarms).
 *
 * The tables carry a schema version (deploy_schema): a store written by a newer
 * durable is refused with a message saying so, never half-read. On open every
 * table is checked for the columns durable writes; every read checks the stored
 * type of what it reads (deploy__col_*), as persist.c does for its tables. */
#include "api/internal.h"

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <openssl/rand.h>

#include "base/fs.h"
#include "objects/objects.h"
#include "storage/storage.h"

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS deploy_schema (version INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS deploy_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS deploy_scripts (name TEXT PRIMARY KEY, "
    "  created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, live_version INTEGER, "
    "  migration_tag TEXT);"
    "CREATE TABLE IF NOT EXISTS deploy_versions (script TEXT NOT NULL, number INTEGER NOT NULL, "
    "  id TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL, main_module TEXT NOT NULL, "
    "  format TEXT NOT NULL, compat_date TEXT NOT NULL, compat_flags TEXT NOT NULL, "
    "  PRIMARY KEY (script, number));"
    "CREATE TABLE IF NOT EXISTS deploy_modules (script TEXT NOT NULL, version INTEGER NOT NULL, "
    "  name TEXT NOT NULL, content_type TEXT NOT NULL, content BLOB NOT NULL, "
    "  PRIMARY KEY (script, version, name));"
    "CREATE TABLE IF NOT EXISTS deploy_bindings (script TEXT NOT NULL, version INTEGER NOT NULL, "
    "  name TEXT NOT NULL, type TEXT NOT NULL, json TEXT NOT NULL, "
    "  PRIMARY KEY (script, version, name));"
    "CREATE TABLE IF NOT EXISTS deploy_namespaces (id TEXT PRIMARY KEY, name TEXT NOT NULL "
    "  UNIQUE, script TEXT NOT NULL, class TEXT NOT NULL, use_sqlite INTEGER NOT NULL, "
    "  created_ms INTEGER NOT NULL, identity TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS deploy_migrations (script TEXT NOT NULL, tag TEXT NOT NULL, "
    "  applied_ms INTEGER NOT NULL, PRIMARY KEY (script, tag));"
    "CREATE TABLE IF NOT EXISTS deploy_version_migrations (script TEXT NOT NULL, "
    "  version INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (script, version));"
    "CREATE TABLE IF NOT EXISTS deploy_tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
    "  hash BLOB NOT NULL, created_ms INTEGER NOT NULL, revoked_ms INTEGER);";

typedef struct table_shape {
    const char *name;
    const char *columns;   /* "name TYPE, ..." as PRAGMA table_info lists them */
} table_shape;

static const table_shape shapes[] = {
    {"deploy_schema", "version INTEGER"},
    {"deploy_meta", "key TEXT, value TEXT"},
    {"deploy_scripts", "name TEXT, created_ms INTEGER, modified_ms INTEGER, live_version INTEGER, "
                       "migration_tag TEXT"},
    {"deploy_versions", "script TEXT, number INTEGER, id TEXT, created_ms INTEGER, main_module "
                        "TEXT, format TEXT, compat_date TEXT, compat_flags TEXT"},
    {"deploy_modules", "script TEXT, version INTEGER, name TEXT, content_type TEXT, content BLOB"},
    {"deploy_bindings", "script TEXT, version INTEGER, name TEXT, type TEXT, json TEXT"},
    {"deploy_namespaces", "id TEXT, name TEXT, script TEXT, class TEXT, use_sqlite INTEGER, "
                          "created_ms INTEGER, identity TEXT"},
    {"deploy_migrations", "script TEXT, tag TEXT, applied_ms INTEGER"},
    {"deploy_version_migrations", "script TEXT, version INTEGER, json TEXT"},
    {"deploy_tokens", "id TEXT, name TEXT, hash BLOB, created_ms INTEGER, revoked_ms INTEGER"},
};

int64_t deploy__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int deploy__fail(const deploy_store *s, const char *what, err *e)
{
    sqlite3 *db = s->db;
    err_setf(e, DUR_EINVAL, "%s: %s: %s (%s)", s->path, what, db ? sqlite3_errmsg(db) : "cannot open",
             sqlite3_errstr(db ? sqlite3_extended_errcode(db) : SQLITE_CANTOPEN));
    return -1;
}

static int changed(const deploy_store *s, sqlite3_stmt *st, int col, const char *table,
                   const char *want, err *e)
{
    static const char *names[] = {"?", "integer", "real", "text", "blob", "null"};
    int t = sqlite3_column_type(st, col);
    return err_setf(e, DUR_EINVAL, "%s: table %s, column %s holds a %s where durable writes %s: "
                    "the file was changed by something else; restore it from a backup",
                    s->path, table, sqlite3_column_name(st, col), names[t >= 1 && t <= 5 ? t : 0],
                    want), -1;
}

int deploy__col_text(const deploy_store *s, sqlite3_stmt *st, int col, const char *table,
                     const char **out, err *e)
{
    if (sqlite3_column_type(st, col) != SQLITE_TEXT)
        return changed(s, st, col, table, "text", e);
    *out = (const char *)sqlite3_column_text(st, col);
    return *out ? 0 : deploy__fail(s, "out of memory reading a row", e);
}

int deploy__col_text_or_null(const deploy_store *s, sqlite3_stmt *st, int col,
                             const char *table, const char **out, err *e)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        *out = NULL;
        return 0;
    }
    return deploy__col_text(s, st, col, table, out, e);
}

int deploy__col_int(const deploy_store *s, sqlite3_stmt *st, int col, const char *table,
                    int64_t *out, err *e)
{
    if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
        return changed(s, st, col, table, "an integer", e);
    *out = sqlite3_column_int64(st, col);
    return 0;
}

/* The schema version: written as DEPLOY_SCHEMA_VERSION into an empty table;
 * exactly one integer row otherwise, no higher than ours. */
static int check_version(deploy_store *s, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT version FROM deploy_schema", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the schema version", e);
    int rows = 0, rc;
    int64_t v = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        if (deploy__col_int(s, st, 0, "deploy_schema", &v, e) < 0) {
            sqlite3_finalize(st);
            return -1;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return deploy__fail(s, "cannot read the schema version", e);
    if (rows == 0) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO deploy_schema VALUES (%d)", DEPLOY_SCHEMA_VERSION);
        return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK
                   ? 0 : deploy__fail(s, "cannot write the schema version", e);
    }
    if (rows > 1 || v < 1)
        return err_setf(e, DUR_EINVAL, "%s: table deploy_schema holds %d row%s (version %lld) "
                        "where durable writes one positive version: the file was changed by "
                        "something else; restore it from a backup", s->path, rows,
                        rows == 1 ? "" : "s", (long long)v), -1;
    if (v > DEPLOY_SCHEMA_VERSION)
        return err_setf(e, DUR_EINVAL, "%s: the deployment store has schema version %lld, but "
                        "this durable understands up to version %d: it was written by a newer "
                        "durable; run that version (or newer) on this folder", s->path,
                        (long long)v, DEPLOY_SCHEMA_VERSION), -1;
    return 0;
}

static int check_shapes(deploy_store *s, err *e)
{
    char cols[512];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (store_table_columns(s->db, shapes[i].name, cols, sizeof cols) < 0)
            return deploy__fail(s, "cannot read the tables", e);
        if (strcmp(cols, shapes[i].columns) != 0)
            return err_setf(e, DUR_EINVAL, "%s: table %s has the columns (%s), but durable "
                            "writes (%s): the file was changed by something else", s->path,
                            shapes[i].name, cols, shapes[i].columns), -1;
    }
    return 0;
}

void api__hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The account id: read, or made once (inside the caller's transaction). */
static int load_account(deploy_store *s, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT value FROM deploy_meta WHERE key = 'account_id'", -1,
                           &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the account id", e);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *v;
        int r = deploy__col_text(s, st, 0, "deploy_meta", &v, e);
        if (r == 0 && !obj_hex_is(v, 32))
            r = err_setf(e, DUR_EINVAL, "%s: the account id (table deploy_meta) is '%.40s', not "
                         "32 hex digits: the file was changed by something else", s->path, v);
        if (r == 0)
            memcpy(s->account, v, 33);
        sqlite3_finalize(st);
        return r < 0 ? -1 : 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return deploy__fail(s, "cannot read the account id", e);
    uint8_t b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return err_setf(e, DUR_EINVAL, "could not draw random bytes for the account id"), -1;
    api__hex(b, sizeof b, s->account);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO deploy_meta VALUES ('account_id', ?1)", -1, &st,
                           NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot store the account id", e);
    sqlite3_bind_text(st, 1, s->account, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : deploy__fail(s, "cannot store the account id", e);
}

int deploy_store_open(const char *data_dir, int durability, deploy_store **out, err *e)
{
    *out = NULL;
    if (fs_mkdir_p(data_dir, e) < 0)
        return -1;
    deploy_store *s = calloc(1, sizeof *s);
    if (!s)
        return err_setf(e, DUR_ENOMEM, "out of memory"), -1;
    if (snprintf(s->path, sizeof s->path, "%s/durable.sqlite", data_dir) >= (int)sizeof s->path) {
        free(s);
        return err_setf(e, DUR_ETOOBIG, "--data: path too long"), -1;
    }
    struct stat sb;
    if (stat(s->path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        err_setf(e, DUR_EINVAL, "%s: is not a file but durable's database belongs there; move "
                 "it away", s->path);
        free(s);
        return -1;
    }
    if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, 10000);
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(s->db, durability == STORE_DURABILITY_POWER ? "PRAGMA synchronous=FULL"
                                                                 : "PRAGMA synchronous=NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    if (check_version(s, e) < 0 || check_shapes(s, e) < 0 || load_account(s, e) < 0) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        deploy_store_close(s);
        return -1;
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    *out = s;
    return 0;
fail:
    deploy__fail(s, "not a usable durable database", e);
    deploy_store_close(s);
    return -1;
}

void deploy_store_close(deploy_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s);
}

const char *deploy_store_account(const deploy_store *s)
{
    return s->account;
}
