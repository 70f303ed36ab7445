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

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include "base/fs.h"
#include "base/log.h"
#include "js/rt.h"

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS migrations_applied (tag TEXT PRIMARY KEY, applied_at INTEGER);"
    "CREATE TABLE IF NOT EXISTS classes_deleted (tag TEXT, identity TEXT, "
    "  PRIMARY KEY (tag, identity));"
    "CREATE TABLE IF NOT EXISTS alarms (ns TEXT NOT NULL, id TEXT NOT NULL, "
    "  time INTEGER NOT NULL, PRIMARY KEY (ns, id)) WITHOUT ROWID;";

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

static sqlite3 *meta_open(const obj_registry *r, err *e)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/durable.sqlite", r->persist_dir) >= (int)sizeof path) {
        err_setf(e, DUR_ETOOBIG, "--persist-to: path too long");
        return NULL;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        err_setf(e, DUR_EINVAL, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_exec(db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        err_setf(e, DUR_EINVAL, "%s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int obj_persist_init(obj_registry *r, err *e)
{
    sqlite3 *db = meta_open(r, e);
    if (!db)
        return -1;
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
            rc = err_setf(e, DUR_EINVAL, "durable.sqlite: %s", sqlite3_errmsg(db));
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
    for (size_t m = 0; m < r->cfg->migrations_count && rc == 0; m++) {
        sqlite3_stmt *st = NULL;
        sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO migrations_applied VALUES (?1, "
                               "CAST(unixepoch('subsec') * 1000 AS INTEGER))", -1, &st, NULL);
        sqlite3_bind_text(st, 1, r->cfg->migrations[m].tag, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = err_setf(e, DUR_EINVAL, "durable.sqlite: %s", sqlite3_errmsg(db));
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
    return (int)(obj_id_hash(&id) % (uint64_t)r->shard_count);
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

/* N.objAlarmIndex(ns, hex, time): records that the object has an alarm at `time`
 * (ms), or none (time < 0). */
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
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, t < 0 ? "DELETE FROM alarms WHERE ns = ?1 AND id = ?2"
                                 : "INSERT OR REPLACE INTO alarms VALUES (?1, ?2, ?3)", -1, &st, NULL);
    sqlite3_bind_text(st, 1, s->reg->ns[ns].identity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, hex, OBJ_ID_HEX_LEN, SQLITE_STATIC);
    if (t >= 0)
        sqlite3_bind_int64(st, 3, (int64_t)t);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return JS_ThrowInternalError(ctx, "alarm index: %s", sqlite3_errmsg(db));
    return JS_UNDEFINED;
}

/* N.objAlarmLoad() → flat [ns, hex, time, …]: the indexed alarms of objects that
 * live on this shard. */
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
    sqlite3_prepare_v2(db, "SELECT ns, id, time FROM alarms", -1, &st, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *ident = (const char *)sqlite3_column_text(st, 0);
        const char *hex = (const char *)sqlite3_column_text(st, 1);
        if (!ident || !hex || !hex_ok(hex, strlen(hex)) || obj_shard_of_hex(s->reg, hex) != s->index)
            continue;
        size_t ns = 0;
        while (ns < s->reg->ns_count && strcmp(s->reg->ns[ns].identity, ident) != 0)
            ns++;
        if (ns == s->reg->ns_count)
            continue;   /* a class no longer configured */
        JS_SetPropertyUint32(ctx, out, n++, JS_NewInt32(ctx, (int32_t)ns));
        JS_SetPropertyUint32(ctx, out, n++, JS_NewString(ctx, hex));
        JS_SetPropertyUint32(ctx, out, n++, JS_NewFloat64(ctx, (double)sqlite3_column_int64(st, 2)));
    }
    sqlite3_finalize(st);
    return out;
}

int obj_persist_install(JSContext *ctx, JSValueConst native)
{
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("objStorePath", 2, js_store_path),
        JS_CFUNC_DEF("objAlarmIndex", 3, js_alarm_index),
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
