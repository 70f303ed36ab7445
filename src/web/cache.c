/* cache.c: the store under the Cache API (caches.default, caches.open(name); the
 * classes, the Cache-Control rules, Range and conditional requests are JS, in
 * web/js/39_cache.js). docs/web.md "Cache API" describes what a user sees.
 *
 * One SQLite file, <persist-to>/cache.sqlite, for the whole process and every
 * process that shares the folder: each context (one per script per shard) opens
 * its own connection on first use, in WAL mode with a busy timeout, so shards read
 * at once and their writes queue for a moment. An entry is keyed by (script, which
 * cache, URL): caches.default and caches.open(name) of one script never see another
 * script's entries, as two zones never share a cache on Cloudflare.
 *
 * Natives on N (cache: null for caches.default, else the name given to open()):
 *   cacheObjectMax()                   → bytes: the largest body put() stores
 *   cachePut(cache, url, status, statusText, headersJson, chunks, ttlMs)
 *                                      stores (replacing) the entry; chunks is an
 *                                      array of Uint8Array, the body in order
 *   cacheMatch(cache, url)             → null | [status, statusText, headersJson,
 *                                                ArrayBuffer body]
 *   cacheDelete(cache, url)            → true if a live entry was removed
 * Errors (disk full, a file that is not a database, a lock held past the busy
 * timeout) are thrown as InternalError naming the file and what SQLite said; a body past
 * the object bound is a RangeError (the JS side checks first, while reading).
 *
 * Bounds: an entry expires at put time + ttlMs (the clock is the wall clock, read
 * here, so an entry put by one process expires for all). Expired entries are
 * removed lazily: the one a match or delete finds, and up to EXPIRED_SWEEP_MAX
 * more at each put. Past total_bytes_max (bodies, headers and URLs, counted in
 * table `totals` by triggers, so no put sums the table), each put evicts the
 * entries stored longest ago (rowid order: an INTEGER PRIMARY KEY without
 * AUTOINCREMENT grows with every insert) until the total fits again.
 *
 * Deleted and evicted rows leave free pages that later puts reuse, so the file
 * stays near its largest total (about total_bytes_max plus one entry).
 *
 * Durability: none is promised (a cache may lose anything at any time, as
 * Cloudflare's may), so synchronous=NORMAL: a crash of the machine may lose the
 * last puts, never corrupt the file. */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/fs.h"
#include "js/bytes.h"
#include "js/rt.h"
#include "web/web.h"

#define CACHE_FILE "cache.sqlite"
#define CACHE_BUSY_MS 5000
#define EXPIRED_SWEEP_MAX 64
#define ENTRY_OVERHEAD_BYTES 64   /* the row's fixed columns, roughly */

typedef struct cache_store {
    char *dir;                    /* NULL until web_cache_configure */
    char *path;                   /* <dir>/cache.sqlite */
    char *script;
    size_t object_bytes_max;
    size_t total_bytes_max;
    sqlite3 *db;                  /* opened on first use; this context's thread only */
} cache_store;

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    /* A put of a large body grows the WAL by its size; past a checkpoint it is cut
     * back to this instead of staying at its largest. */
    "PRAGMA journal_size_limit=16777216;"
    "CREATE TABLE IF NOT EXISTS entries ("
    "  id INTEGER PRIMARY KEY,"
    "  script TEXT NOT NULL, named INTEGER NOT NULL, name TEXT NOT NULL, url TEXT NOT NULL,"
    "  status INTEGER NOT NULL, status_text TEXT NOT NULL, headers TEXT NOT NULL,"
    "  body BLOB NOT NULL, bytes INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
    "  UNIQUE (script, named, name, url));"
    "CREATE INDEX IF NOT EXISTS entries_expiry ON entries (expires_at);"
    "CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 0),"
    "  bytes INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO totals VALUES (0, 0);"
    "CREATE TRIGGER IF NOT EXISTS entries_added AFTER INSERT ON entries BEGIN"
    "  UPDATE totals SET bytes = bytes + new.bytes; END;"
    "CREATE TRIGGER IF NOT EXISTS entries_removed AFTER DELETE ON entries BEGIN"
    "  UPDATE totals SET bytes = bytes - old.bytes; END;";

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void store_close(cache_store *cs)
{
    if (cs->db) {
        sqlite3_close(cs->db);
        cs->db = NULL;
    }
}

static void store_free(JSContext *ctx, void *ud)
{
    cache_store *cs = ud;
    store_close(cs);
    free(cs->dir);
    free(cs->path);
    free(cs->script);
    js_ctx_set_slot(ctx, JS_SLOT_CACHE, NULL);
    free(cs);
}

/* Throws InternalError("<api>: <file>: <what SQLite says>") and returns JS_EXCEPTION. */
static JSValue throw_db(JSContext *ctx, cache_store *cs, const char *api)
{
    return JS_ThrowInternalError(ctx, "%s: %s: %s", api, cs->path,
                                 cs->db ? sqlite3_errmsg(cs->db) : "cannot open");
}

/* The context's connection, opened (and the file made) on first use. NULL with an
 * exception pending. */
static sqlite3 *store_db(JSContext *ctx, const char *api)
{
    cache_store *cs = js_ctx_slot(ctx, JS_SLOT_CACHE);
    if (!cs || !cs->dir) {
        JS_ThrowInternalError(ctx, "%s: the Cache API has no storage in this context", api);
        return NULL;
    }
    if (cs->db)
        return cs->db;
    err e = {0};
    if (fs_mkdir_p(cs->dir, &e) < 0) {
        JS_ThrowInternalError(ctx, "%s: cannot make the folder of %s: %s", api, cs->path, e.msg);
        return NULL;
    }
    struct stat st;
    if (stat(cs->path, &st) == 0 && !S_ISREG(st.st_mode)) {
        JS_ThrowInternalError(ctx, "%s: %s is not a file; move it away", api, cs->path);
        return NULL;
    }
    if (sqlite3_open_v2(cs->path, &cs->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        throw_db(ctx, cs, api);
        store_close(cs);
        return NULL;
    }
    sqlite3_extended_result_codes(cs->db, 1);
    sqlite3_busy_timeout(cs->db, CACHE_BUSY_MS);
    sqlite3_db_config(cs->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    if (sqlite3_exec(cs->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        JS_ThrowInternalError(ctx, "%s: %s: not a usable cache file (%s); move it away",
                              api, cs->path, sqlite3_errmsg(cs->db));
        store_close(cs);
        return NULL;
    }
    return cs->db;
}

/* The key of an entry: the cache (null: caches.default) and the URL, as C strings
 * (free with JS_FreeCString). -1 with an exception pending. */
typedef struct entry_key {
    int named;
    const char *name;
    const char *url;
    size_t name_len, url_len;
} entry_key;

static int key_get(JSContext *ctx, JSValueConst cache, JSValueConst url, entry_key *k)
{
    memset(k, 0, sizeof *k);
    k->named = !JS_IsNull(cache);
    k->name = k->named ? JS_ToCStringLen(ctx, &k->name_len, cache) : "";
    if (!k->name)
        return -1;
    k->url = JS_ToCStringLen(ctx, &k->url_len, url);
    if (!k->url) {
        if (k->named)
            JS_FreeCString(ctx, k->name);
        k->name = NULL;
        return -1;
    }
    return 0;
}

static void key_free(JSContext *ctx, entry_key *k)
{
    if (k->named && k->name)
        JS_FreeCString(ctx, k->name);
    if (k->url)
        JS_FreeCString(ctx, k->url);
}

/* Binds script, named, name, url to parameters first..first+3. */
static void key_bind(sqlite3_stmt *st, int first, const cache_store *cs, const entry_key *k)
{
    sqlite3_bind_text(st, first, cs->script, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, first + 1, k->named);
    sqlite3_bind_text(st, first + 2, k->name, (int)k->name_len, SQLITE_STATIC);
    sqlite3_bind_text(st, first + 3, k->url, (int)k->url_len, SQLITE_STATIC);
}

/* Runs a statement with no result rows. */
static int exec_stmt(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        if (sqlite3_bind_parameter_count(st) >= 1)
            sqlite3_bind_int64(st, 1, a);
        if (sqlite3_bind_parameter_count(st) >= 2)
            sqlite3_bind_int64(st, 2, b);
        rc = sqlite3_step(st);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

static int64_t total_bytes(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, "SELECT bytes FROM totals WHERE id = 0", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* Removes the entries stored longest ago, other than `keep`, until the total fits
 * under `max`. SQLITE_OK or the error. */
static int evict(sqlite3 *db, int64_t keep, int64_t max)
{
    for (;;) {
        int64_t total = total_bytes(db);
        if (total < 0)
            return SQLITE_ERROR;
        if (total <= max)
            return SQLITE_OK;
        int rc = exec_stmt(db, "DELETE FROM entries WHERE id = (SELECT min(id) FROM entries "
                               "WHERE id <> ?1)", keep, 0);
        if (rc != SQLITE_OK)
            return rc;
        if (sqlite3_changes(db) == 0)
            return SQLITE_OK;   /* only `keep` is left; it fits the object bound */
    }
}

/* Writes the chunks (an array of byte views) into the body of row `id`. */
static int write_body(JSContext *ctx, sqlite3 *db, int64_t id, JSValueConst chunks, uint32_t count)
{
    if (count == 0)
        return SQLITE_OK;
    sqlite3_blob *blob = NULL;
    int rc = sqlite3_blob_open(db, "main", "entries", "body", id, 1, &blob);
    int off = 0;
    for (uint32_t i = 0; rc == SQLITE_OK && i < count; i++) {
        JSValue c = JS_GetPropertyUint32(ctx, chunks, i), hold;
        size_t n;
        const uint8_t *p = js_bytes_of(ctx, c, &n, &hold);
        JS_FreeValue(ctx, c);
        if (!p) {
            /* chunks_len checked every chunk and no JS ran since: cannot happen. */
            JS_FreeValue(ctx, JS_GetException(ctx));
            rc = SQLITE_MISUSE;
            break;
        }
        if (n)
            rc = sqlite3_blob_write(blob, p, (int)n, off);
        off += (int)n;
        JS_FreeValue(ctx, hold);
    }
    int rc2 = sqlite3_blob_close(blob);
    return rc != SQLITE_OK ? rc : rc2;
}

/* Sums the chunks' lengths, checking each is bytes. -1 with an exception pending. */
static int64_t chunks_len(JSContext *ctx, JSValueConst chunks, uint32_t *count)
{
    JSValue lv = JS_GetPropertyStr(ctx, chunks, "length");
    if (JS_ToUint32(ctx, count, lv) < 0) {
        JS_FreeValue(ctx, lv);
        return -1;
    }
    JS_FreeValue(ctx, lv);
    int64_t total = 0;
    for (uint32_t i = 0; i < *count; i++) {
        JSValue c = JS_GetPropertyUint32(ctx, chunks, i), hold;
        size_t n;
        const uint8_t *p = js_bytes_of(ctx, c, &n, &hold);
        JS_FreeValue(ctx, c);
        if (!p)
            return -1;
        JS_FreeValue(ctx, hold);
        total += (int64_t)n;
    }
    return total;
}

/* The body of cachePut once the arguments are read: one IMMEDIATE transaction that
 * sweeps some expired entries, replaces the entry, writes its body and evicts.
 * Returns 0, or -1 with an InternalError pending (and nothing changed). */
static int put_txn(JSContext *ctx, cache_store *cs, const entry_key *k, int status,
                   const char *text, size_t text_len, const char *hdrs, size_t hdrs_len,
                   JSValueConst chunks, uint32_t count, int64_t body_len, int64_t expires_at)
{
    sqlite3 *db = cs->db;
    int64_t now = wall_ms();
    int rc = exec_stmt(db, "BEGIN IMMEDIATE", 0, 0);
    if (rc == SQLITE_OK)
        rc = exec_stmt(db, "DELETE FROM entries WHERE id IN (SELECT id FROM entries "
                           "WHERE expires_at <= ?1 LIMIT ?2)", now, EXPIRED_SWEEP_MAX);
    sqlite3_stmt *st = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "DELETE FROM entries WHERE script = ?1 AND named = ?2 AND "
                                    "name = ?3 AND url = ?4", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        key_bind(st, 1, cs, k);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
    st = NULL;
    int64_t bytes = body_len + (int64_t)hdrs_len + (int64_t)k->url_len + (int64_t)k->name_len +
                    ENTRY_OVERHEAD_BYTES;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT INTO entries (script, named, name, url, status, "
                                    "status_text, headers, body, bytes, expires_at) VALUES "
                                    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, zeroblob(?8), ?9, ?10)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        key_bind(st, 1, cs, k);
        sqlite3_bind_int(st, 5, status);
        sqlite3_bind_text(st, 6, text, (int)text_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, hdrs, (int)hdrs_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 8, body_len);
        sqlite3_bind_int64(st, 9, bytes);
        sqlite3_bind_int64(st, 10, expires_at);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
    }
    sqlite3_finalize(st);
    int64_t id = sqlite3_last_insert_rowid(db);
    if (rc == SQLITE_OK)
        rc = write_body(ctx, db, id, chunks, count);
    if (rc == SQLITE_OK)
        rc = evict(db, id, (int64_t)cs->total_bytes_max);
    if (rc == SQLITE_OK)
        rc = exec_stmt(db, "COMMIT", 0, 0);
    if (rc != SQLITE_OK) {
        /* Keep SQLite's message for the error, then undo (if BEGIN itself failed,
         * there is nothing to undo and ROLLBACK's own error is ignored). */
        char msg[256];
        snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(db));
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        JS_ThrowInternalError(ctx, "Cache.put: %s: %s", cs->path, msg);
        return -1;
    }
    return 0;
}

/* N.cachePut(cache, url, status, statusText, headersJson, chunks, ttlMs) */
static JSValue js_cache_put(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    if (argc < 7)
        return JS_ThrowTypeError(ctx, "cachePut: 7 arguments required");
    sqlite3 *db = store_db(ctx, "Cache.put");
    if (!db)
        return JS_EXCEPTION;
    cache_store *cs = js_ctx_slot(ctx, JS_SLOT_CACHE);
    int32_t status;
    double ttl_ms;
    uint32_t count;
    if (JS_ToInt32(ctx, &status, argv[2]) < 0 || JS_ToFloat64(ctx, &ttl_ms, argv[6]) < 0)
        return JS_EXCEPTION;
    int64_t body_len = chunks_len(ctx, argv[5], &count);
    if (body_len < 0)
        return JS_EXCEPTION;
    if ((uint64_t)body_len > cs->object_bytes_max)
        return JS_ThrowRangeError(ctx, "Cache.put: the response body is %lld bytes, more than "
                                  "the %zu bytes the cache stores per entry",
                                  (long long)body_len, cs->object_bytes_max);
    if (!(ttl_ms > 0))
        return JS_UNDEFINED;
    /* A TTL past what an int64 of ms holds is "forever" for any cache. */
    int64_t now = wall_ms();
    int64_t expires_at = ttl_ms > (double)(INT64_MAX / 2) ? INT64_MAX : now + (int64_t)ttl_ms;
    entry_key k;
    if (key_get(ctx, argv[0], argv[1], &k) < 0)
        return JS_EXCEPTION;
    size_t text_len = 0, hdrs_len = 0;
    const char *text = JS_ToCStringLen(ctx, &text_len, argv[3]);
    const char *hdrs = text ? JS_ToCStringLen(ctx, &hdrs_len, argv[4]) : NULL;
    JSValue ret = JS_EXCEPTION;
    if (text && hdrs &&
        put_txn(ctx, cs, &k, status, text, text_len, hdrs, hdrs_len, argv[5], count, body_len,
                expires_at) == 0)
        ret = JS_UNDEFINED;
    if (text)
        JS_FreeCString(ctx, text);
    if (hdrs)
        JS_FreeCString(ctx, hdrs);
    key_free(ctx, &k);
    return ret;
}

/* Deletes row `id` (an expired entry a read found). Best effort: a failure leaves
 * it for the next sweep. */
static void drop_row(sqlite3 *db, int64_t id)
{
    exec_stmt(db, "DELETE FROM entries WHERE id = ?1", id, 0);
}

/* The prologue of match and delete: the database and the entry's key from
 * (cache, url). NULL with a JS exception pending. */
static sqlite3 *lookup_begin(JSContext *ctx, int argc, JSValueConst *argv, const char *what,
                             cache_store **cs, entry_key *k)
{
    if (argc < 2) {
        JS_ThrowTypeError(ctx, "%s: 2 arguments required", what);
        return NULL;
    }
    sqlite3 *db = store_db(ctx, what);
    if (!db)
        return NULL;
    *cs = js_ctx_slot(ctx, JS_SLOT_CACHE);
    return key_get(ctx, argv[0], argv[1], k) < 0 ? NULL : db;
}

/* N.cacheMatch(cache, url) → null | [status, statusText, headersJson, ArrayBuffer] */
static JSValue js_cache_match(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    cache_store *cs;
    entry_key k;
    sqlite3 *db = lookup_begin(ctx, argc, argv, "Cache.match", &cs, &k);
    if (!db)
        return JS_EXCEPTION;
    sqlite3_stmt *st = NULL;
    JSValue ret = JS_NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT id, expires_at, status, status_text, headers, body "
                                    "FROM entries WHERE script = ?1 AND named = ?2 AND "
                                    "name = ?3 AND url = ?4", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        key_bind(st, 1, cs, &k);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 1) <= wall_ms()) {
        int64_t id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        drop_row(db, id);
        rc = SQLITE_DONE;
    } else if (rc == SQLITE_ROW) {
        const void *body = sqlite3_column_blob(st, 5);
        size_t body_len = (size_t)sqlite3_column_bytes(st, 5);
        ret = JS_NewArray(ctx);
        JS_SetPropertyUint32(ctx, ret, 0, JS_NewInt32(ctx, sqlite3_column_int(st, 2)));
        JS_SetPropertyUint32(ctx, ret, 1, JS_NewStringLen(ctx, (const char *)sqlite3_column_text(st, 3),
                                                          (size_t)sqlite3_column_bytes(st, 3)));
        JS_SetPropertyUint32(ctx, ret, 2, JS_NewStringLen(ctx, (const char *)sqlite3_column_text(st, 4),
                                                          (size_t)sqlite3_column_bytes(st, 4)));
        JSValue ab = JS_NewArrayBufferCopy(ctx, body_len ? body : (const void *)"", body_len);
        if (JS_IsException(ab)) {
            JS_FreeValue(ctx, ret);
            ret = JS_EXCEPTION;
        } else {
            JS_SetPropertyUint32(ctx, ret, 3, ab);
        }
        rc = SQLITE_DONE;
    }
    if (rc != SQLITE_DONE) {
        JS_FreeValue(ctx, ret);
        ret = throw_db(ctx, cs, "Cache.match");
    }
    sqlite3_finalize(st);
    key_free(ctx, &k);
    return ret;
}

/* N.cacheDelete(cache, url) → true if a live entry was there */
static JSValue js_cache_delete(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    cache_store *cs;
    entry_key k;
    sqlite3 *db = lookup_begin(ctx, argc, argv, "Cache.delete", &cs, &k);
    if (!db)
        return JS_EXCEPTION;
    sqlite3_stmt *st = NULL;
    bool live = false;
    int rc = sqlite3_prepare_v2(db, "DELETE FROM entries WHERE script = ?1 AND named = ?2 AND "
                                    "name = ?3 AND url = ?4 RETURNING expires_at", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        key_bind(st, 1, cs, &k);
        int64_t now = wall_ms();
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            live = live || sqlite3_column_int64(st, 0) > now;
    }
    sqlite3_finalize(st);
    key_free(ctx, &k);
    if (rc != SQLITE_DONE)
        return throw_db(ctx, cs, "Cache.delete");
    return JS_NewBool(ctx, live);
}

/* N.cacheObjectMax() → the body bound of put, in bytes */
static JSValue js_cache_object_max(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    (void)argv;
    cache_store *cs = js_ctx_slot(ctx, JS_SLOT_CACHE);
    return JS_NewFloat64(ctx, cs ? (double)cs->object_bytes_max : 0);
}

int web_cache_configure(JSContext *ctx, const web_cache_opts *o, const char *script)
{
    cache_store *cs = js_ctx_slot(ctx, JS_SLOT_CACHE);
    if (!cs || !o || !o->dir || !script)
        return DUR_EINVAL;
    char *dir = strdup(o->dir), *sc = strdup(script);
    size_t n = strlen(o->dir) + sizeof "/" CACHE_FILE;
    char *path = malloc(n);
    if (!dir || !sc || !path) {
        free(dir);
        free(sc);
        free(path);
        return DUR_ENOMEM;
    }
    snprintf(path, n, "%s/%s", o->dir, CACHE_FILE);
    store_close(cs);
    free(cs->dir);
    free(cs->path);
    free(cs->script);
    cs->dir = dir;
    cs->path = path;
    cs->script = sc;
    cs->object_bytes_max = o->object_bytes_max ? o->object_bytes_max : WEB_CACHE_OBJECT_BYTES_DEFAULT;
    cs->total_bytes_max = o->total_bytes_max ? o->total_bytes_max : WEB_CACHE_TOTAL_BYTES_DEFAULT;
    /* One entry must fit the whole cache, or a put would evict everything and
     * still not fit. */
    if (cs->object_bytes_max > cs->total_bytes_max)
        cs->object_bytes_max = cs->total_bytes_max;
    return 0;
}

int web_cache_install(JSContext *ctx, JSValueConst native)
{
    cache_store *cs = calloc(1, sizeof *cs);
    if (!cs || js_ctx_on_free(ctx, store_free, cs) < 0) {
        free(cs);
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    js_ctx_set_slot(ctx, JS_SLOT_CACHE, cs);
    static const JSCFunctionListEntry fns[] = {
        JS_CFUNC_DEF("cacheObjectMax", 0, js_cache_object_max),
        JS_CFUNC_DEF("cachePut", 7, js_cache_put),
        JS_CFUNC_DEF("cacheMatch", 2, js_cache_match),
        JS_CFUNC_DEF("cacheDelete", 2, js_cache_delete),
    };
    JS_SetPropertyFunctionList(ctx, native, fns, sizeof fns / sizeof fns[0]);
    return 0;
}
