/* persist.c: where objects keep their data (docs/storage.md "Where the data is"), the
 * migrations' effect on that data (spec MIG-5, MIG-6: renamed classes keep their
 * namespace folder because the folder is named after the namespace's identity,
 * which a rename does not change; deleted classes lose theirs, once), and the
 * alarm index in durable.sqlite that lets a restarted server find the objects whose
 * alarms are pending without opening every database (ALARM-6).
 *
 * The alarm index is a hint written *before* the object's own commit: it may name
 * an object whose alarm is gone (the object's database is the truth, checked when
 * the timer fires) but never misses one that is set. */
#include "objects/internal.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base/fs.h"
#include "base/log.h"
#include "js/rt.h"
#include "storage/storage.h"

/* durable.sqlite: the id secret (meta), the migrations applied, the classes
 * deleted, the alarm index. `name` of an alarm is the idFromName name of its
 * object, so an object woken by its alarm after a restart knows ctx.id.name
 * (ID-13); added in place to files made before it existed (obj_persist_init). */
static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS migrations_applied (tag TEXT PRIMARY KEY, applied_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS classes_deleted (tag TEXT, identity TEXT, "
    "  PRIMARY KEY (tag, identity));"
    "CREATE TABLE IF NOT EXISTS alarms (ns TEXT NOT NULL, id TEXT NOT NULL, "
    "  time INTEGER NOT NULL, name TEXT, PRIMARY KEY (ns, id)) WITHOUT ROWID;";

int obj_ns_dir(const obj_registry *r, const char *identity, char *out, size_t cap)
{
    uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)identity, strlen(identity), h);
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    int n = snprintf(out, cap, "%s/objects/%s", r->persist_dir, hex);
    return n > 0 && (size_t)n < cap ? 0 : DUR_ETOOBIG;
}

/* Fills e with "<path>: <what SQLite says>: <code>" and returns -1: every error
 * about durable.sqlite names the file. */
static int meta_fail(sqlite3 *db, const char *path, const char *what, err *e)
{
    int rc = db ? sqlite3_extended_errcode(db) : SQLITE_CANTOPEN;
    err_setf(e, DUR_EINVAL, "%s: %s%s%s (%s)", path, what ? what : "", what ? ": " : "",
             db ? sqlite3_errmsg(db) : "cannot open", sqlite3_errstr(rc));
    return -1;
}

/* Opens <persist>/durable.sqlite, creating it and its tables if missing. Anything
 * that is not a database file is an error naming the file, never a crash. */
static sqlite3 *meta_open_dir(const char *persist_dir, char *path, size_t cap, err *e)
{
    if (snprintf(path, cap, "%s/durable.sqlite", persist_dir) >= (int)cap) {
        err_setf(e, DUR_ETOOBIG, "--persist-to: path too long");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        err_setf(e, DUR_EINVAL, "%s: is a %s, not durable's database file; move it away", path,
                 S_ISDIR(st.st_mode) ? "directory" : "special file");
        return NULL;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        meta_fail(db, path, "cannot open", e);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        meta_fail(db, path, "not a usable durable database", e);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static sqlite3 *meta_open(const obj_registry *r, err *e)
{
    char path[PATH_MAX];
    return meta_open_dir(r->persist_dir, path, sizeof path, e);
}

/* True if `dir` exists and holds anything. */
static bool dir_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *de;
    bool any = false;
    while (!any && (de = readdir(d)))
        any = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return any;
}

/* Reads the id secret, or makes one if there is none, in one IMMEDIATE
 * transaction (so two processes starting at once agree on it). Returns 1 with the
 * secret in out, 0 if there is none and objects exist (an error in e), <0 error. */
static int secret_read_or_make(sqlite3 *db, const char *path, const char *persist_dir,
                               uint8_t out[OBJ_KEY_BYTES], err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT typeof(value), value FROM meta WHERE key = 'id_secret'",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return meta_fail(db, path, "cannot read the id secret", e);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        int n = sqlite3_column_bytes(st, 1);
        const void *b = sqlite3_column_blob(st, 1);
        bool ok = type && strcmp(type, "blob") == 0 && n == OBJ_KEY_BYTES && b;
        if (ok)
            memcpy(out, b, OBJ_KEY_BYTES);
        else
            err_setf(e, DUR_EINVAL, "%s: the id secret (table meta, key 'id_secret') is %d "
                     "bytes of %s, but durable writes a %d-byte blob: the file was changed by "
                     "something else; restore it from a backup", path, n, type ? type : "null",
                     OBJ_KEY_BYTES);
        sqlite3_finalize(st);
        return ok ? 1 : -1;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return meta_fail(db, path, "cannot read the id secret", e);
    /* No secret. If objects exist, their ids were made with a secret that is gone:
     * a new one would silently make every name lead to a new, empty object. */
    char objects[PATH_MAX];
    snprintf(objects, sizeof objects, "%s/objects", persist_dir);
    if (dir_has_entries(objects)) {
        err_setf(e, DUR_EINVAL, "%s: the id secret is missing, but %s holds objects whose ids "
                 "were made with it; restore durable.sqlite from a backup, or move the "
                 "objects folder away to start empty", path, objects);
        return 0;
    }
    if (RAND_bytes(out, OBJ_KEY_BYTES) != 1)
        return err_setf(e, DUR_EINVAL, "could not draw random bytes for the id secret"), -1;
    rc = sqlite3_prepare_v2(db, "INSERT INTO meta (key, value) VALUES ('id_secret', ?1)", -1,
                            &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob(st, 1, out, OBJ_KEY_BYTES, SQLITE_TRANSIENT);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 1 : meta_fail(db, path, "cannot store the id secret", e);
}

int obj_secret_load(const char *persist_dir, uint8_t out[OBJ_KEY_BYTES], err *e)
{
    if (fs_mkdir_p(persist_dir, e) < 0)
        return -1;
    char path[PATH_MAX];
    sqlite3 *db = meta_open_dir(persist_dir, path, sizeof path, e);
    if (!db)
        return -1;
    int rc = -1;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        meta_fail(db, path, "cannot read the id secret", e);
        goto out;
    }
    int got = secret_read_or_make(db, path, persist_dir, out, e);
    if (got == 1 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        rc = 0;
    else if (got == 1)
        meta_fail(db, path, "cannot store the id secret", e);
    if (rc < 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
    sqlite3_close(db);
    return rc;
}

/* ---- checking what is on disk ---- */

typedef struct table_shape {
    const char *name;
    const char *columns;          /* "name TYPE, ..." as PRAGMA table_info lists them */
    const char *bad_rows;         /* WHERE clause of rows durable would not have written */
} table_shape;

static const table_shape shapes[] = {
    {"meta", "key TEXT, value BLOB", "typeof(key) <> 'text'"},
    {"migrations_applied", "tag TEXT, applied_at INTEGER",
     "typeof(tag) <> 'text' OR typeof(applied_at) NOT IN ('integer', 'null')"},
    {"classes_deleted", "tag TEXT, identity TEXT",
     "typeof(tag) <> 'text' OR typeof(identity) <> 'text'"},
    {"alarms", "ns TEXT, id TEXT, time INTEGER, name TEXT",
     "typeof(ns) <> 'text' OR typeof(id) <> 'text' OR length(id) <> 64 OR "
     "typeof(time) <> 'integer' OR typeof(name) NOT IN ('text', 'null')"},
};

/* Checks that durable.sqlite is what durable writes: intact pages, the tables
 * with their columns, rows of the right types. Brings a file from before the
 * alarm names up to date. Every problem is an error naming the file. */
static int meta_check(sqlite3 *db, const char *path, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK)
        return meta_fail(db, path, "cannot check the file", e);
    int rc = sqlite3_step(st);
    const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (!res || strcmp(res, "ok") != 0) {
        if (res)
            err_setf(e, DUR_EINVAL, "%s: the file is damaged (%s); restore it from a backup",
                     path, res);
        else
            meta_fail(db, path, "the file is damaged", e);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    char cols[512], sql[512];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const table_shape *t = &shapes[i];
        if (store_table_columns(db, t->name, cols, sizeof cols) < 0)
            return meta_fail(db, path, "cannot read the tables", e);
        if (strcmp(t->name, "alarms") == 0 && strcmp(cols, "ns TEXT, id TEXT, time INTEGER") == 0) {
            if (sqlite3_exec(db, "ALTER TABLE alarms ADD COLUMN name TEXT", NULL, NULL, NULL) != SQLITE_OK)
                return meta_fail(db, path, "cannot add the alarm names", e);
            continue;
        }
        if (strcmp(cols, t->columns) != 0)
            return err_setf(e, DUR_EINVAL, "%s: table %s has the columns (%s), but durable "
                            "writes (%s): the file was changed by something else", path,
                            t->name, cols, t->columns), -1;
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE %s", t->name, t->bad_rows);
        st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
            sqlite3_finalize(st);
            return meta_fail(db, path, "cannot read the tables", e);
        }
        int64_t bad = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (bad)
            return err_setf(e, DUR_EINVAL, "%s: %lld row%s of table %s hold values of the wrong "
                            "type: the file was changed by something else", path,
                            (long long)bad, bad == 1 ? "" : "s", t->name), -1;
    }
    return 0;
}

int obj_persist_init(obj_registry *r, err *e)
{
    char path[PATH_MAX];
    sqlite3 *db = meta_open_dir(r->persist_dir, path, sizeof path, e);
    if (!db)
        return -1;
    if (meta_check(db, path, e) < 0) {
        sqlite3_close(db);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < r->deleted_count && rc == 0; i++) {
        const obj_deleted *d = &r->deleted[i];
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO classes_deleted VALUES (?1, ?2)", -1, &st, NULL);
        sqlite3_bind_text(st, 1, d->tag, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->identity, -1, SQLITE_STATIC);
        int x = sqlite3_step(st);
        sqlite3_finalize(st);
        if (x != SQLITE_DONE) {
            rc = meta_fail(db, path, NULL, e);
            break;
        }
        if (sqlite3_changes(db) == 0)
            continue;   /* applied on an earlier start */
        char dir[PATH_MAX];
        if (obj_ns_dir(r, d->identity, dir, sizeof dir) < 0 || fs_rm_rf(dir, e) < 0) {
            rc = -1;
            break;
        }
        st = NULL;
        sqlite3_prepare_v2(db, "DELETE FROM alarms WHERE ns = ?1", -1, &st, NULL);
        sqlite3_bind_text(st, 1, d->identity, -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_finalize(st);
        log_info("migration '%s': deleted the data of class %s", d->tag, d->identity);
    }
    for (size_t c = 0; c < r->cfg_count && rc == 0; c++)
        for (size_t m = 0; m < r->cfgs[c]->migrations_count && rc == 0; m++) {
            sqlite3_stmt *st = NULL;
            sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO migrations_applied VALUES (?1, "
                                   "CAST(unixepoch('subsec') * 1000 AS INTEGER))", -1, &st, NULL);
            sqlite3_bind_text(st, 1, r->cfgs[c]->migrations[m].tag, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = meta_fail(db, path, NULL, e);
            sqlite3_finalize(st);
        }
    sqlite3_close(db);
    return rc;
}

int obj_shard_of_hex(const obj_registry *r, const char *hex)
{
    obj_id id;
    for (int i = 0; i < OBJ_ID_HEX_LEN / 2; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            return -1;
        id.b[i] = (uint8_t)b;
    }
    return (int)(obj_id_hash(&id) % (uint64_t)r->threads);
}

/* ---- natives ---- */

static obj_shard *shard_here(JSContext *ctx)
{
    obj_shard *s = js_ctx_slot(ctx, JS_SLOT_OBJECTS);
    if (!s)
        JS_ThrowInternalError(ctx, "Durable Objects are not available here");
    return s;
}

static bool hex_ok(const char *p, size_t n)
{
    if (n != OBJ_ID_HEX_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

static int ns_hex(JSContext *ctx, obj_shard *s, JSValueConst nsv, JSValueConst hexv, uint32_t *ns,
                  char hex[OBJ_ID_HEX_LEN + 1])
{
    if (JS_ToUint32(ctx, ns, nsv) < 0)
        return -1;
    if (*ns >= s->reg->ns_count)
        return JS_ThrowInternalError(ctx, "unknown namespace %u", *ns), -1;
    size_t n;
    const char *p = JS_ToCStringLen(ctx, &n, hexv);
    if (!p)
        return -1;
    bool ok = hex_ok(p, n);
    if (ok)
        memcpy(hex, p, OBJ_ID_HEX_LEN + 1);
    JS_FreeCString(ctx, p);
    if (!ok)
        return JS_ThrowInternalError(ctx, "not an object id"), -1;
    return 0;
}

/* N.objStorePath(ns, hex) → the object's database file. The id was validated
 * before it names a file (ns_hex). */
static JSValue js_store_path(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    obj_shard *s = shard_here(ctx);
    uint32_t ns;
    char hex[OBJ_ID_HEX_LEN + 1];
    if (!s || ns_hex(ctx, s, argv[0], argv[1], &ns, hex) < 0)
        return JS_EXCEPTION;
    char dir[PATH_MAX], path[PATH_MAX + 80];
    if (obj_ns_dir(s->reg, s->reg->ns[ns].identity, dir, sizeof dir) < 0)
        return JS_ThrowRangeError(ctx, "--persist-to: path too long");
    snprintf(path, sizeof path, "%s/%.2s/%s.sqlite", dir, hex, hex);
    return JS_NewString(ctx, path);
}

static sqlite3 *shard_meta(JSContext *ctx, obj_shard *s)
{
    if (!s->meta) {
        err e = {0};
        s->meta = meta_open(s->reg, &e);
        if (!s->meta)
            JS_ThrowInternalError(ctx, "%s", e.msg);
    }
    return s->meta;
}

/* N.objAlarmIndex(ns, hex, time, name): records that the object has an alarm at
 * `time` (ms), or none (time < 0). `name` (a string, or undefined when the object
 * does not know it) is kept with it; an unknown name keeps the one recorded. */
static JSValue js_alarm_index(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    obj_shard *s = shard_here(ctx);
    uint32_t ns;
    char hex[OBJ_ID_HEX_LEN + 1];
    double t;
    if (!s || ns_hex(ctx, s, argv[0], argv[1], &ns, hex) < 0 || JS_ToFloat64(ctx, &t, argv[2]) < 0)
        return JS_EXCEPTION;
    sqlite3 *db = shard_meta(ctx, s);
    if (!db)
        return JS_EXCEPTION;
    const char *name = NULL;
    size_t name_len = 0;
    if (argc > 3 && JS_IsString(argv[3]) && !(name = JS_ToCStringLen(ctx, &name_len, argv[3])))
        return JS_EXCEPTION;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, t < 0 ? "DELETE FROM alarms WHERE ns = ?1 AND id = ?2"
                                          : "INSERT INTO alarms (ns, id, time, name) VALUES "
                                            "(?1, ?2, ?3, ?4) ON CONFLICT (ns, id) DO UPDATE SET "
                                            "time = excluded.time, "
                                            "name = coalesce(excluded.name, alarms.name)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, s->reg->ns[ns].identity, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, hex, OBJ_ID_HEX_LEN, SQLITE_STATIC);
        if (t >= 0) {
            sqlite3_bind_int64(st, 3, (int64_t)t);
            if (name)
                sqlite3_bind_text(st, 4, name, (int)name_len, SQLITE_STATIC);
        }
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (name)
        JS_FreeCString(ctx, name);
    if (rc != SQLITE_DONE)
        return JS_ThrowInternalError(ctx, "alarm index in durable.sqlite: %s", sqlite3_errmsg(db));
    return JS_UNDEFINED;
}

/* N.objAlarmLoad() → flat [ns, hex, time, name, …]: the indexed alarms of objects
 * that live on this shard (name undefined when not known). Rows durable would not
 * have written are skipped (obj_persist_init refused them at start). */
static JSValue js_alarm_load(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    (void)argv;
    obj_shard *s = shard_here(ctx);
    if (!s)
        return JS_EXCEPTION;
    /* A Worker without Durable Object namespaces has no alarms and no persist
     * folder (the registry creates it only for namespaces): nothing to scan, and
     * opening durable.sqlite here would fail (or create the folder). */
    if (s->reg->ns_count == 0)
        return JS_NewArray(ctx);
    sqlite3 *db = shard_meta(ctx, s);
    if (!db)
        return JS_EXCEPTION;
    JSValue out = JS_NewArray(ctx);
    uint32_t n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT ns, id, time, name FROM alarms", -1, &st, NULL) != SQLITE_OK) {
        JS_FreeValue(ctx, out);
        return JS_ThrowInternalError(ctx, "alarm index in durable.sqlite: %s", sqlite3_errmsg(db));
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ident = (const char *)sqlite3_column_text(st, 0);
        const char *hex = (const char *)sqlite3_column_text(st, 1);
        if (!ident || !hex || !hex_ok(hex, strlen(hex)))
            continue;
        size_t ns = 0;
        while (ns < s->reg->ns_count && strcmp(s->reg->ns[ns].identity, ident) != 0)
            ns++;
        if (ns == s->reg->ns_count)
            continue;   /* a class no longer configured */
        if (obj_registry_shard_of(s->reg, ns, hex) != s->index)
            continue;
        JS_SetPropertyUint32(ctx, out, n++, JS_NewInt32(ctx, (int32_t)ns));
        JS_SetPropertyUint32(ctx, out, n++, JS_NewString(ctx, hex));
        JS_SetPropertyUint32(ctx, out, n++, JS_NewFloat64(ctx, (double)sqlite3_column_int64(st, 2)));
        const char *name = sqlite3_column_type(st, 3) == SQLITE_TEXT
                               ? (const char *)sqlite3_column_text(st, 3) : NULL;
        JS_SetPropertyUint32(ctx, out, n++, name ? JS_NewStringLen(ctx, name,
                                                                   (size_t)sqlite3_column_bytes(st, 3))
                                                 : JS_UNDEFINED);
    }
    sqlite3_finalize(st);
    return out;
}

int obj_persist_install(JSContext *ctx, JSValueConst native)
{
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("objStorePath", 2, js_store_path),
        JS_CFUNC_DEF("objAlarmIndex", 4, js_alarm_index),
        JS_CFUNC_DEF("objAlarmLoad", 0, js_alarm_load),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}

void obj_persist_shard_close(obj_shard *s)
{
    if (s && s->meta) {
        sqlite3_close(s->meta);
        s->meta = NULL;
    }
}
