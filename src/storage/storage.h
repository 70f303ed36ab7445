/* storage: one SQLite database per Durable Object (spec: storage.md;
 * docs/storage.md, docs/architecture.md "Storage and commits").
 *
 * A `store` is one object's database, owned by the shard its object lives on and
 * used only from that shard's thread. It is opened lazily: reads of an object that
 * never wrote find no file and answer "empty" without creating one (cold objects
 * stay cheap); the first write creates it.
 *
 * Transactions: every write joins the object's *implicit transaction* (a BEGIN
 * issued by the first write since the last commit). The objects layer commits it
 * once the object's JavaScript has settled for this turn of the loop (coalescing,
 * GATE-10), and holds the object's outputs until then (output gate, GATE-6).
 * transaction()/transactionSync() are savepoints inside it.
 *
 * Durability: STORE_DURABILITY_PROCESS (WAL, synchronous=NORMAL: a commit is a
 * write() into the WAL, which survives the process dying) or
 * STORE_DURABILITY_POWER (synchronous=FULL: fsync at commit).
 *
 * Handles: a shard keeps at most `open_max` databases open (least recently used
 * ones with no open transaction are closed and reopened on demand), so 10,000
 * objects do not need 20,000 file descriptors. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum { STORE_BACKEND_KV = 1, STORE_BACKEND_SQL = 2 };
enum { STORE_DURABILITY_PROCESS = 0, STORE_DURABILITY_POWER = 1 };

/* KV-2..4 limits. */
#define STORE_KV_KEY_MAX 2048u
#define STORE_KV_VALUE_MAX 131072u
#define STORE_SQL_LENGTH_MAX (4u * 1024u * 1024u)   /* SQLITE_LIMIT_LENGTH (LIM-41) */

typedef struct store store;
typedef struct store_shard store_shard;

/* Test-only fault injection (see db.c); call before shards start. max_pages > 0
 * caps every database at that many pages, so a test fills one with a few puts and
 * gets SQLite's real SQLITE_FULL. */
void store_test_hooks(bool on, int64_t max_pages);
/* Tests only: true if hooks are on (store_test_hooks) and the object's KV holds
 * `key` (a marker a test wrote to ask for a fault, e.g. cluster mode's
 * "__durable_fail_pg_commit__"). Shard thread. */
bool store_test_marker(store *s, const char *key);

/* One per shard thread. */
store_shard *store_shard_new(int durability, size_t open_max);
void store_shard_free(store_shard *sh);   /* every store must be freed first */

/* `path` is the object's database file; its folder is created on first write. */
store *store_new(store_shard *sh, const char *path, int backend);
/* Rolls back whatever is uncommitted, closes. */
void store_free(store *s);
/* Closes the database of an idle object (reopened on its next use), unless it has
 * a transaction or a live cursor. True if it was closed. */
bool store_close_idle(store *s);
const char *store_errmsg(const store *s);
/* Arms the CPU limit for the user SQL that runs next (cpu_ms 0 disarms): a
 * statement still running cpu_ms from now is interrupted with an error saying so.
 * Shard thread only. */
void store_deadline_set(store *s, uint32_t cpu_ms);
/* True for the codes of a storage failure (full, I/O, damaged file, locked,
 * interrupted), as opposed to a refused statement or argument (DUR_EINVAL). */
bool store_failure(int code);

/* ---- the implicit transaction and savepoints ---- */
bool store_dirty(const store *s);            /* uncommitted writes exist */
int store_commit(store *s, err *e);          /* 0 if nothing to commit */
void store_rollback(store *s);               /* drops uncommitted writes */
int store_savepoint(store *s, err *e);       /* nests; begins the implicit txn */
int store_release(store *s, err *e);
int store_rollback_to(store *s, err *e);     /* rolls back and releases the innermost */
int store_savepoint_depth(const store *s);

/* ---- KV (table _cf_KV) ---- */
typedef int (*store_kv_fn)(void *ud, const char *key, size_t klen, const uint8_t *val,
                           size_t vlen);
/* Calls fn with the value and returns 1, 0 if absent, <0 on error (message in e). */
int store_kv_get(store *s, const char *key, size_t klen, store_kv_fn fn, void *ud, err *e);
int store_kv_put(store *s, const char *key, size_t klen, const uint8_t *val, size_t vlen,
                 err *e);
/* 1 if the key existed, 0 if not, <0 on error. */
int store_kv_delete(store *s, const char *key, size_t klen, err *e);

typedef struct store_range {
    const char *lo; size_t lo_len; bool lo_set; bool lo_incl;
    const char *hi; size_t hi_len; bool hi_set;            /* exclusive */
    const char *prefix; size_t prefix_len;                /* narrows [lo, hi) (LIST-7) */
    bool reverse;
    int64_t limit;                                         /* <= 0: none */
} store_range;
/* Calls fn for each pair in key order; fn returns 0 to go on, <0 to stop with that
 * code. */
int store_kv_list(store *s, const store_range *r, store_kv_fn fn, void *ud, err *e);
/* KV-18: KV backend removes every key; SQLite backend empties the database (user
 * tables, indexes, triggers, views, KV data). Keeps the alarm when keep_alarm. */
int store_delete_all(store *s, bool keep_alarm, err *e);

/* ---- alarm (table _cf_METADATA) ---- */
/* 1 and *ms, 0 if none. */
int store_alarm_get(store *s, int64_t *ms, err *e);
/* ms < 0 deletes. */
int store_alarm_set(store *s, int64_t ms, err *e);

/* ---- SQL API (SQLite backend) ---- */
typedef struct store_cursor store_cursor;
typedef enum { SQLV_NULL, SQLV_INT, SQLV_REAL, SQLV_TEXT, SQLV_BLOB } store_sqlv_kind;
typedef struct store_sqlv {
    store_sqlv_kind kind;
    int64_t i;
    double d;
    const void *p;
    size_t len;
} store_sqlv;
/* Runs every statement of `sql` but the last to completion, binds `args` to the
 * last one, steps it once (so writes happen now, SQL-1) and returns its cursor.
 * NULL on error (SQLite's message in e; refusals in e with DUR_EINVAL). An empty
 * query gives a cursor with no columns and no rows. */
store_cursor *store_sql_exec(store *s, const char *sql, size_t len, const store_sqlv *args,
                             size_t nargs, err *e);
int store_cursor_columns(store_cursor *c);
const char *store_cursor_column_name(store_cursor *c, int i);
/* 1 and the row's values (valid until the next step), 0 when done, <0 error. */
int store_cursor_next(store_cursor *c, store_sqlv *vals, err *e);
int64_t store_cursor_rows_read(store_cursor *c);
int64_t store_cursor_rows_written(store_cursor *c);
void store_cursor_free(store_cursor *c);
/* SQL-16 */
int64_t store_database_size(store *s);

/* The columns of `table` in the SQLite database `db` as "name TYPE, ..." into out
 * (cut at cap): what a reader of a file durable wrote compares with the shape it
 * expects (objects/persist.c for durable.sqlite, api/deploy_store.c). 0 or -1. */
struct sqlite3;
int store_table_columns(struct sqlite3 *db, const char *table, char *out, size_t cap);
