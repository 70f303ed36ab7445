/* natives.c: the C functions src/objects/js/45_storage.js calls (N.st*). The JS
 * side validates arguments, serializes values and throws the spec's errors; these
 * move keys and bytes in and out of the object's database. Each shard (context)
 * has its own store_shard: the cache of open databases.
 *
 * Every native whose first argument is a store handle goes through js_st_call,
 * which checks the handle once and dispatches on the function's magic number to a
 * store_native; cursor natives likewise through js_cur_call. */
#include "storage/natives.h"

#include <malloc.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "js/bytes.h"
#include "js/rt.h"
#include "storage/internal.h"

static JSClassID store_class_id, cursor_class_id;
static int g_durability = STORE_DURABILITY_PROCESS;
static size_t g_open_max = 256;

void storage_configure(int durability, size_t open_max)
{
    /* No up-front page-cache allocation per connection (SQLite's default is 20
     * pages, ~90 KiB for every open object): pages are allocated as they are used.
     * Must precede SQLite's initialization; if it is too late, it changes nothing. */
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
    /* No global memory statistics: they take a process-wide mutex on every SQLite
     * allocation, which the shards would contend for. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    g_durability = durability;
    g_open_max = open_max;
    const char *hooks = getenv("DURABLE_TEST_HOOKS");
    const char *pages = getenv("DURABLE_TEST_MAX_PAGES");
    store_test_hooks(hooks && strcmp(hooks, "1") == 0, pages ? strtoll(pages, NULL, 10) : 0);
}

static void store_finalizer(JSRuntime *rt, JSValue v)
{
    (void)rt;
    store_free(JS_GetOpaque(v, store_class_id));
}

static void cursor_finalizer(JSRuntime *rt, JSValue v)
{
    (void)rt;
    store_cursor_free(JS_GetOpaque(v, cursor_class_id));
}

void storage_classes_init(void)
{
    if (!store_class_id)
        JS_NewClassID(&store_class_id);
    if (!cursor_class_id)
        JS_NewClassID(&cursor_class_id);
}

static store_shard *shard_of(JSContext *ctx)
{
    return js_ctx_slot(ctx, JS_SLOT_STORAGE);
}

/* A storage error as a JS Error with the message of `e`. A storage failure (full
 * disk, I/O error, damaged file: store_failure) is logged too, naming the file, for
 * whoever runs the server; a refused statement or argument is the Worker's own
 * business. */
static JSValue throw_err(JSContext *ctx, const err *e)
{
    if (e->code == DUR_ENOMEM)
        return JS_ThrowOutOfMemory(ctx);
    if (store_failure(e->code))
        log_error("storage: %s", e->msg);
    JSValue x = JS_NewError(ctx);
    if (JS_IsException(x))
        return x;
    JS_DefinePropertyValueStr(ctx, x, "message", JS_NewString(ctx, e->msg),
                              JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    return JS_Throw(ctx, x);
}

/* JS string → UTF-8 bytes (lone surrogates as their 3-byte form). */
typedef struct jkey {
    const char *p;
    size_t len;
} jkey;

static int key_get(JSContext *ctx, JSValueConst v, jkey *k)
{
    k->p = JS_ToCStringLen(ctx, &k->len, v);
    return k->p ? 0 : -1;
}

struct store *storage_store_of(JSContext *ctx, JSValueConst handle)
{
    store *s = JS_GetOpaque(handle, store_class_id);
    if (!s)
        JS_ThrowTypeError(ctx, "internal error: not an open Durable Object database");
    return s;
}

/* N.stOpen(path, backend) → handle */
static JSValue js_st_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    int32_t backend;
    if (JS_ToInt32(ctx, &backend, argv[1]) < 0)
        return JS_EXCEPTION;
    const char *path = JS_ToCString(ctx, argv[0]);
    if (!path)
        return JS_EXCEPTION;
    store *s = store_new(shard_of(ctx), path, backend);
    JS_FreeCString(ctx, path);
    if (!s)
        return JS_ThrowOutOfMemory(ctx);
    JSValue obj = JS_NewObjectClass(ctx, (int)store_class_id);
    if (JS_IsException(obj)) {
        store_free(s);
        return obj;
    }
    JS_SetOpaque(obj, s);
    return obj;
}

/* The natives that take a store handle as their first argument. argv has at least
 * the declared number of arguments (QuickJS pads with undefined). */
typedef JSValue store_native(JSContext *ctx, store *s, int argc, JSValueConst *argv);

/* N.stIdle(h) → true if the database was closed (see store_close_idle) */
static JSValue st_idle(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    (void)argv;
    return JS_NewBool(ctx, store_close_idle(s));
}

typedef struct collect {
    JSContext *ctx;
    JSValue arr;          /* flat [key, ArrayBuffer, …]; for stGet the value itself */
    uint32_t n;
    bool with_keys;
} collect;

static int collect_pair(void *ud, const char *key, size_t klen, const uint8_t *val, size_t vlen)
{
    collect *c = ud;
    if (c->with_keys) {
        JSValue k = JS_NewStringLen(c->ctx, key, klen);
        if (JS_IsException(k) || JS_SetPropertyUint32(c->ctx, c->arr, c->n++, k) < 0)
            return DUR_ENOMEM;
    }
    JSValue v = JS_NewArrayBufferCopy(c->ctx, val, vlen);
    if (JS_IsException(v) || JS_SetPropertyUint32(c->ctx, c->arr, c->n++, v) < 0)
        return DUR_ENOMEM;
    return 0;
}

static int grab_value(void *ud, const char *key, size_t klen, const uint8_t *val, size_t vlen)
{
    (void)key;
    (void)klen;
    collect *c = ud;
    c->arr = JS_NewArrayBufferCopy(c->ctx, val, vlen);
    return JS_IsException(c->arr) ? DUR_ENOMEM : 0;
}

/* N.stGet(h, key) → ArrayBuffer | undefined */
static JSValue st_get(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    jkey k;
    if (key_get(ctx, argv[1], &k) < 0)
        return JS_EXCEPTION;
    collect c = {ctx, JS_UNDEFINED, 0, false};
    err e = {0};
    int rc = store_kv_get(s, k.p, k.len, grab_value, &c, &e);
    JS_FreeCString(ctx, k.p);
    if (rc < 0)
        return rc == DUR_ENOMEM ? JS_EXCEPTION : throw_err(ctx, &e);
    return c.arr;
}

/* N.stGetMany(h, keys) → flat [key, ArrayBuffer, …] of the keys that exist. The
 * caller sorts and dedupes the keys (in storage order). */
static JSValue st_get_many(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    int64_t n;
    JSValue lenv = JS_GetPropertyStr(ctx, argv[1], "length");
    int lrc = JS_ToInt64(ctx, &n, lenv);
    JS_FreeValue(ctx, lenv);
    if (lrc < 0)
        return JS_EXCEPTION;
    collect c = {ctx, JS_NewArray(ctx), 0, true};
    for (int64_t i = 0; i < n; i++) {
        JSValue kv = JS_GetPropertyUint32(ctx, argv[1], (uint32_t)i);
        jkey k;
        int kr = key_get(ctx, kv, &k);
        JS_FreeValue(ctx, kv);
        if (kr < 0)
            goto fail;
        err e = {0};
        int rc = store_kv_get(s, k.p, k.len, collect_pair, &c, &e);
        JS_FreeCString(ctx, k.p);
        if (rc < 0) {
            if (rc != DUR_ENOMEM)
                throw_err(ctx, &e);
            goto fail;
        }
    }
    return c.arr;
fail:
    JS_FreeValue(ctx, c.arr);
    return JS_EXCEPTION;
}

/* N.stPut(h, key, bytes) */
static JSValue st_put(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    jkey k;
    size_t len;
    JSValue hold;
    const uint8_t *p = js_bytes_of(ctx, argv[2], &len, &hold);
    if (!p)
        return JS_EXCEPTION;
    if (key_get(ctx, argv[1], &k) < 0) {
        JS_FreeValue(ctx, hold);
        return JS_EXCEPTION;
    }
    err e = {0};
    int rc = store_kv_put(s, k.p, k.len, p, len, &e);
    JS_FreeCString(ctx, k.p);
    JS_FreeValue(ctx, hold);
    return rc < 0 ? throw_err(ctx, &e) : JS_UNDEFINED;
}

/* N.stDelete(h, key) → boolean */
static JSValue st_delete(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    jkey k;
    if (key_get(ctx, argv[1], &k) < 0)
        return JS_EXCEPTION;
    err e = {0};
    int rc = store_kv_delete(s, k.p, k.len, &e);
    JS_FreeCString(ctx, k.p);
    return rc < 0 ? throw_err(ctx, &e) : JS_NewBool(ctx, rc == 1);
}

static int opt_key(JSContext *ctx, JSValueConst v, jkey *k, bool *set)
{
    *set = false;
    k->p = NULL;
    k->len = 0;
    if (JS_IsUndefined(v) || JS_IsNull(v))
        return 0;
    *set = true;
    return key_get(ctx, v, k);
}

/* N.stList(h, lo, loIncl, hi, prefix, reverse, limit) → flat [key, ArrayBuffer, …]
 * (lo/hi/prefix undefined when absent; limit 0 = none) */
static JSValue st_list(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    jkey lo = {0}, hi = {0}, pre = {0};
    bool lo_set, hi_set, pre_set;
    double limit = 0;
    JSValue r = JS_EXCEPTION;
    if (opt_key(ctx, argv[1], &lo, &lo_set) < 0 || opt_key(ctx, argv[3], &hi, &hi_set) < 0 ||
        opt_key(ctx, argv[4], &pre, &pre_set) < 0 || JS_ToFloat64(ctx, &limit, argv[6]) < 0)
        goto out;
    store_range rg = {
        .lo = lo.p, .lo_len = lo.len, .lo_set = lo_set, .lo_incl = JS_ToBool(ctx, argv[2]),
        .hi = hi.p, .hi_len = hi.len, .hi_set = hi_set,
        .prefix = pre.p, .prefix_len = pre.len,
        .reverse = JS_ToBool(ctx, argv[5]),
        .limit = limit >= 9e18 ? 0 : (int64_t)limit,
    };
    collect c = {ctx, JS_NewArray(ctx), 0, true};
    err e = {0};
    int rc = store_kv_list(s, &rg, collect_pair, &c, &e);
    if (rc < 0) {
        JS_FreeValue(ctx, c.arr);
        if (rc != DUR_ENOMEM)
            throw_err(ctx, &e);
        goto out;
    }
    r = c.arr;
out:
    JS_FreeCString(ctx, lo.p);
    JS_FreeCString(ctx, hi.p);
    JS_FreeCString(ctx, pre.p);
    return r;
}

/* N.stDeleteAll(h, keepAlarm) */
static JSValue st_delete_all(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    err e = {0};
    return store_delete_all(s, JS_ToBool(ctx, argv[1]), &e) < 0 ? throw_err(ctx, &e) : JS_UNDEFINED;
}

/* N.stTxn(h, op): 0 commit, 1 rollback (all uncommitted), 2 savepoint, 3 release,
 * 4 rollback to + release, 5 → dirty?, 6 → savepoint depth */
static JSValue st_txn(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    int32_t op;
    if (JS_ToInt32(ctx, &op, argv[1]) < 0)
        return JS_EXCEPTION;
    err e = {0};
    int rc = 0;
    switch (op) {
    case 0: rc = store_commit(s, &e); break;
    case 1: store_rollback(s); break;
    case 2: rc = store_savepoint(s, &e); break;
    case 3: rc = store_release(s, &e); break;
    case 4: rc = store_rollback_to(s, &e); break;
    case 5: return JS_NewBool(ctx, store_dirty(s));
    case 6: return JS_NewInt32(ctx, store_savepoint_depth(s));
    default: return JS_ThrowRangeError(ctx, "internal error: unknown storage op");
    }
    return rc < 0 ? throw_err(ctx, &e) : JS_UNDEFINED;
}

/* N.stAlarm(h) → ms | null; N.stAlarm(h, ms) sets (ms < 0 deletes) */
static JSValue st_alarm(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    err e = {0};
    if (argc < 2 || JS_IsUndefined(argv[1])) {
        int64_t ms = 0;
        int rc = store_alarm_get(s, &ms, &e);
        if (rc < 0)
            return throw_err(ctx, &e);
        return rc ? JS_NewFloat64(ctx, (double)ms) : JS_NULL;
    }
    double ms;
    if (JS_ToFloat64(ctx, &ms, argv[1]) < 0)
        return JS_EXCEPTION;
    return store_alarm_set(s, (int64_t)ms, &e) < 0 ? throw_err(ctx, &e) : JS_UNDEFINED;
}

/* N.stDbSize(h) → bytes */
static JSValue st_db_size(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    (void)argv;
    return JS_NewInt64(ctx, store_database_size(s));
}

/* ---- SQL ---- */

static JSValue new_cursor(JSContext *ctx, store_cursor *c)
{
    JSValue r = JS_NewObjectClass(ctx, (int)cursor_class_id);
    if (JS_IsException(r))
        store_cursor_free(c);
    else
        JS_SetOpaque(r, c);
    return r;
}

/* One binding (SQL-3). The JS side has turned every value that is not a string,
 * number, ArrayBuffer/view, null or undefined into its string. A number binds as
 * REAL, integral or not, as in workerd (`typeof(?)` of 42 is 'real'; a column of
 * INTEGER affinity still stores an integer). A blob's buffer is kept in *held. */
static int binding_get(JSContext *ctx, JSValueConst v, store_sqlv *a, JSValue *held, int i)
{
    if (JS_IsNull(v) || JS_IsUndefined(v)) {
        a->kind = SQLV_NULL;
    } else if (JS_IsNumber(v)) {
        a->kind = SQLV_REAL;
        if (JS_ToFloat64(ctx, &a->d, v) < 0)
            return -1;
    } else if (JS_IsString(v)) {
        a->kind = SQLV_TEXT;
        a->p = JS_ToCStringLen(ctx, &a->len, v);
        if (!a->p)
            return -1;
    } else {
        a->kind = SQLV_BLOB;
        a->p = js_bytes_of(ctx, v, &a->len, held);
        if (!a->p) {
            JS_FreeValue(ctx, JS_GetException(ctx));
            JS_ThrowTypeError(ctx, "Unsupported type of SQL binding at index %d", i);
            return -1;
        }
    }
    return 0;
}

/* N.stSqlExec(h, query, bindings) → cursor. The query is a string (converted by
 * the JS side); user SQL runs under the CPU limit (store_deadline_set). */
static JSValue st_sql_exec(JSContext *ctx, store *s, int argc, JSValueConst *argv)
{
    (void)argc;
    size_t qlen;
    const char *q = JS_ToCStringLen(ctx, &qlen, argv[1]);
    if (!q)
        return JS_EXCEPTION;
    int64_t n = 0;
    JSValue lenv = JS_GetPropertyStr(ctx, argv[2], "length");
    int lrc = JS_ToInt64(ctx, &n, lenv);
    JS_FreeValue(ctx, lenv);
    if (lrc < 0 || n < 0 || n > 1000000) {
        JS_FreeCString(ctx, q);
        return lrc < 0 ? JS_EXCEPTION : JS_ThrowRangeError(ctx, "too many SQL bindings");
    }
    store_sqlv *args = calloc((size_t)n + 1, sizeof *args);
    JSValue *held = calloc((size_t)n + 1, sizeof *held);
    JSValue r = JS_EXCEPTION;
    if (!args || !held) {
        JS_ThrowOutOfMemory(ctx);
        goto out;
    }
    for (int64_t i = 0; i < n; i++)
        held[i] = JS_UNDEFINED;
    for (int64_t i = 0; i < n; i++) {
        JSValue v = JS_GetPropertyUint32(ctx, argv[2], (uint32_t)i);
        int brc = binding_get(ctx, v, &args[i], &held[i], (int)i);
        JS_FreeValue(ctx, v);   /* a C string or held[i] keeps what the binding needs */
        if (brc < 0)
            goto out;
    }
    err e = {0};
    store_deadline_set(s, js_rt_cpu_ms(js_rt_of(ctx)));
    store_cursor *c = store_sql_exec(s, q, qlen, args, (size_t)n, &e);
    store_deadline_set(s, 0);
    r = c ? new_cursor(ctx, c) : throw_err(ctx, &e);
out:
    for (int64_t i = 0; i < n && args; i++)
        if (args[i].kind == SQLV_TEXT && args[i].p)
            JS_FreeCString(ctx, args[i].p);
    for (int64_t i = 0; i < n && held; i++)
        JS_FreeValue(ctx, held[i]);
    free(args);
    free(held);
    JS_FreeCString(ctx, q);
    return r;
}

static store_native *const store_natives[] = {
    st_idle, st_get, st_get_many, st_put, st_delete, st_list, st_delete_all, st_txn, st_alarm,
    st_db_size, st_sql_exec,
};

static JSValue js_st_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                          int magic)
{
    (void)this_val;
    store *s = JS_GetOpaque(argv[0], store_class_id);
    if (!s)
        return JS_ThrowTypeError(ctx, "internal error: not a storage handle");
    return store_natives[magic](ctx, s, argc, argv);
}

/* ---- cursors ---- */

typedef JSValue cursor_native(JSContext *ctx, store_cursor *c);

/* N.stCurCols(cur) → string[] */
static JSValue cur_cols(JSContext *ctx, store_cursor *c)
{
    JSValue a = JS_NewArray(ctx);
    for (int i = 0; i < store_cursor_columns(c) && !JS_IsException(a); i++) {
        if (JS_SetPropertyUint32(ctx, a, (uint32_t)i,
                                 JS_NewString(ctx, store_cursor_column_name(c, i))) < 0) {
            JS_FreeValue(ctx, a);
            a = JS_EXCEPTION;
        }
    }
    return a;
}

static JSValue row_value(JSContext *ctx, const store_sqlv *v)
{
    switch (v->kind) {
    case SQLV_INT: return JS_NewFloat64(ctx, (double)v->i);
    case SQLV_REAL: return JS_NewFloat64(ctx, v->d);
    case SQLV_TEXT: return JS_NewStringLen(ctx, v->p ? v->p : "", v->len);
    case SQLV_BLOB: return JS_NewArrayBufferCopy(ctx, v->p, v->len);
    default: return JS_NULL;
    }
}

/* N.stCurNext(cur) → array of values, or null when done. Stepping is user SQL:
 * it runs under the CPU limit. */
static JSValue cur_next(JSContext *ctx, store_cursor *c)
{
    int nc = store_cursor_columns(c);
    store_sqlv vals[100 + 1];   /* SQLITE_LIMIT_COLUMN is 100 (set in db.c) */
    store_sqlv *v = nc <= 100 ? vals : calloc((size_t)nc, sizeof *v);
    if (!v)
        return JS_ThrowOutOfMemory(ctx);
    err e = {0};
    store *s = c->s;
    if (s)
        store_deadline_set(s, js_rt_cpu_ms(js_rt_of(ctx)));
    int rc = store_cursor_next(c, v, &e);
    if (s)
        store_deadline_set(s, 0);
    JSValue r;
    if (rc < 0) {
        r = throw_err(ctx, &e);
    } else if (rc == 0) {
        r = JS_NULL;
    } else {
        r = JS_NewArray(ctx);
        for (int i = 0; i < nc && !JS_IsException(r); i++) {
            JSValue x = row_value(ctx, &v[i]);
            if (JS_IsException(x) || JS_SetPropertyUint32(ctx, r, (uint32_t)i, x) < 0) {
                JS_FreeValue(ctx, r);
                r = JS_EXCEPTION;
            }
        }
    }
    if (v != vals)
        free(v);
    return r;
}

/* N.stCurStats(cur) → [rowsRead, rowsWritten] */
static JSValue cur_stats(JSContext *ctx, store_cursor *c)
{
    JSValue a = JS_NewArray(ctx);
    if (JS_IsException(a) ||
        JS_SetPropertyUint32(ctx, a, 0, JS_NewInt64(ctx, store_cursor_rows_read(c))) < 0 ||
        JS_SetPropertyUint32(ctx, a, 1, JS_NewInt64(ctx, store_cursor_rows_written(c))) < 0) {
        JS_FreeValue(ctx, a);
        return JS_EXCEPTION;
    }
    return a;
}

static cursor_native *const cursor_natives[] = {cur_cols, cur_next, cur_stats};

static JSValue js_cur_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
                           int magic)
{
    (void)this_val;
    (void)argc;
    store_cursor *c = JS_GetOpaque(argv[0], cursor_class_id);
    if (!c)
        return JS_ThrowTypeError(ctx, "internal error: not a cursor");
    return cursor_natives[magic](ctx, c);
}

/* ---- natives without a handle ---- */

/* N.stTrim(): gives freed heap memory back to the system after many databases
 * were closed, so idle objects really cost little resident memory. */
static JSValue js_st_trim(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)ctx;
    (void)this_val;
    (void)argc;
    (void)argv;
    malloc_trim(0);
    return JS_UNDEFINED;
}

/* N.stClose(h): closes now (eviction); the handle is dead afterwards. */
static JSValue js_st_close(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)ctx;
    (void)this_val;
    (void)argc;
    store *s = JS_GetOpaque(argv[0], store_class_id);
    if (s) {
        JS_SetOpaque(argv[0], NULL);
        store_free(s);
    }
    return JS_UNDEFINED;
}

static void shard_cleanup(JSContext *ctx, void *ud)
{
    (void)ctx;
    store_shard_free(ud);
}

int storage_install(JSContext *ctx, JSValueConst native)
{
    if (!store_class_id || !cursor_class_id) {
        JS_ThrowInternalError(ctx, "storage: storage_classes_init() was not called before "
                                   "the first runtime (server_classes_init does it)");
        return -1;
    }
    JSRuntime *rt = JS_GetRuntime(ctx);
    if (!JS_IsRegisteredClass(rt, store_class_id)) {
        JSClassDef sd = {.class_name = "DurableObjectStorageHandle", .finalizer = store_finalizer};
        JSClassDef cd = {.class_name = "SqlStorageCursorHandle", .finalizer = cursor_finalizer};
        if (JS_NewClass(rt, store_class_id, &sd) < 0 || JS_NewClass(rt, cursor_class_id, &cd) < 0)
            return -1;
    }
    store_shard *sh = store_shard_new(g_durability, g_open_max);
    if (!sh) {
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    js_ctx_set_slot(ctx, JS_SLOT_STORAGE, sh);
    if (js_ctx_on_free(ctx, shard_cleanup, sh) < 0)
        return -1;
    /* The magic numbers index store_natives and cursor_natives. */
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("stOpen", 2, js_st_open),
        JS_CFUNC_DEF("stClose", 1, js_st_close),
        JS_CFUNC_DEF("stTrim", 0, js_st_trim),
        JS_CFUNC_MAGIC_DEF("stIdle", 1, js_st_call, 0),
        JS_CFUNC_MAGIC_DEF("stGet", 2, js_st_call, 1),
        JS_CFUNC_MAGIC_DEF("stGetMany", 2, js_st_call, 2),
        JS_CFUNC_MAGIC_DEF("stPut", 3, js_st_call, 3),
        JS_CFUNC_MAGIC_DEF("stDelete", 2, js_st_call, 4),
        JS_CFUNC_MAGIC_DEF("stList", 7, js_st_call, 5),
        JS_CFUNC_MAGIC_DEF("stDeleteAll", 2, js_st_call, 6),
        JS_CFUNC_MAGIC_DEF("stTxn", 2, js_st_call, 7),
        JS_CFUNC_MAGIC_DEF("stAlarm", 2, js_st_call, 8),
        JS_CFUNC_MAGIC_DEF("stDbSize", 1, js_st_call, 9),
        JS_CFUNC_MAGIC_DEF("stSqlExec", 3, js_st_call, 10),
        JS_CFUNC_MAGIC_DEF("stCurCols", 1, js_cur_call, 0),
        JS_CFUNC_MAGIC_DEF("stCurNext", 1, js_cur_call, 1),
        JS_CFUNC_MAGIC_DEF("stCurStats", 1, js_cur_call, 2),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}
