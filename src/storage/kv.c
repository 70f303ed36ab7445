/* kv.c: the KV API over the hidden table _cf_KV, and the alarm in _cf_METADATA
 * (spec KV-*, LIST-*, ALARM-1..5). Keys are stored as TEXT compared with SQLite's
 * BINARY collation, which is memcmp of the UTF-8 bytes, shorter first: exactly the
 * key order LIST-2 asks for. */
#include "storage/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { META_ALARM = 1 };

static int step_done(store *s, sqlite3_stmt *st, err *e)
{
    s->trusted++;
    int rc = sqlite3_step(st);
    s->trusted--;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, e);
    s->txn_wrote = true;
    return 0;
}

int store_kv_get(store *s, const char *key, size_t klen, store_kv_fn fn, void *ud, err *e)
{
    int o = store_open(s, false, e);
    if (o <= 0 || !s->has_kv)
        return o < 0 ? o : 0;
    sqlite3_stmt *st = store_stmt(s, ST_KV_GET, "SELECT value FROM _cf_KV WHERE key = ?1", e);
    if (!st)
        return -1;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, key, (int)klen, SQLITE_STATIC);
    s->trusted++;
    int rc = sqlite3_step(st);
    s->trusted--;
    if (rc == SQLITE_ROW) {
        const uint8_t *v = sqlite3_column_blob(st, 0);
        int r = fn(ud, key, klen, v ? v : (const uint8_t *)"", (size_t)sqlite3_column_bytes(st, 0));
        sqlite3_reset(st);
        return r < 0 ? r : 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, e);
}

int store_kv_put(store *s, const char *key, size_t klen, const uint8_t *val, size_t vlen,
                 err *e)
{
    if (store_begin(s, e) < 0 || store_hidden_table(s, 0, e) < 0)
        return -1;
    sqlite3_stmt *st = store_stmt(s, ST_KV_PUT, "INSERT OR REPLACE INTO _cf_KV (key, value) "
                                                "VALUES (?1, ?2)", e);
    if (!st)
        return -1;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, key, (int)klen, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, vlen ? (const void *)val : "", (int)vlen, SQLITE_STATIC);
    return step_done(s, st, e);
}

int store_kv_delete(store *s, const char *key, size_t klen, err *e)
{
    int o = store_open(s, false, e);
    if (o <= 0 || !s->has_kv)
        return o < 0 ? o : 0;
    if (store_begin(s, e) < 0)
        return -1;
    sqlite3_stmt *st = store_stmt(s, ST_KV_DEL, "DELETE FROM _cf_KV WHERE key = ?1", e);
    if (!st)
        return -1;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, key, (int)klen, SQLITE_STATIC);
    if (step_done(s, st, e) < 0)
        return -1;
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

/* ---- list ---- */

static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : al < bl ? -1 : al > bl ? 1 : 0;
}

int store_kv_list(store *s, const store_range *r, store_kv_fn fn, void *ud, err *e)
{
    const char *lo = r->lo, *hi = r->hi;
    size_t lo_len = r->lo_len, hi_len = r->hi_len;
    bool lo_set = r->lo_set, lo_incl = r->lo_incl, hi_set = r->hi_set;
    char *pend = NULL;
    if (r->prefix_len) {
        /* LIST-7: [prefix, prefix-successor) intersected with [lo, hi). */
        if (!lo_set || key_cmp(r->prefix, r->prefix_len, lo, lo_len) > 0) {
            lo = r->prefix;
            lo_len = r->prefix_len;
            lo_set = lo_incl = true;
        }
        size_t n = r->prefix_len;
        while (n > 0 && (uint8_t)r->prefix[n - 1] == 0xff)
            n--;
        if (n > 0) {
            pend = malloc(n);
            if (!pend)
                return err_setf(e, DUR_ENOMEM, "out of memory");
            memcpy(pend, r->prefix, n);
            pend[n - 1] = (char)((uint8_t)pend[n - 1] + 1);
            if (!hi_set || key_cmp(pend, n, hi, hi_len) < 0) {
                hi = pend;
                hi_len = n;
                hi_set = true;
            }
        }
    }
    int rc = 0;
    if (lo_set && hi_set && key_cmp(hi, hi_len, lo, lo_len) <= 0)
        goto out;   /* LIST-8 */
    int o = store_open(s, false, e);
    if (o <= 0 || !s->has_kv) {
        rc = o < 0 ? o : 0;
        goto out;
    }
    int lo_state = !lo_set ? 0 : lo_incl ? 1 : 2;
    int variant = lo_state * 4 + (hi_set ? 2 : 0) + (r->reverse ? 1 : 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT key, value FROM _cf_KV WHERE 1%s%s ORDER BY key%s LIMIT ?3",
             lo_state == 1 ? " AND key >= ?1" : lo_state == 2 ? " AND key > ?1" : "",
             hi_set ? " AND key < ?2" : "", r->reverse ? " DESC" : "");
    sqlite3_stmt *st = store_stmt(s, ST_LIST0 + variant, sql, e);
    if (!st) {
        rc = -1;
        goto out;
    }
    sqlite3_reset(st);
    if (lo_set)
        sqlite3_bind_text(st, 1, lo, (int)lo_len, SQLITE_STATIC);
    if (hi_set)
        sqlite3_bind_text(st, 2, hi, (int)hi_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, r->limit > 0 ? r->limit : -1);
    for (;;) {
        s->trusted++;
        int x = sqlite3_step(st);
        s->trusted--;
        if (x == SQLITE_DONE)
            break;
        if (x != SQLITE_ROW) {
            rc = store_fail(s, e);
            break;
        }
        const uint8_t *v = sqlite3_column_blob(st, 1);
        size_t vl = (size_t)sqlite3_column_bytes(st, 1);
        const char *k = (const char *)sqlite3_column_text(st, 0);
        size_t kl = (size_t)sqlite3_column_bytes(st, 0);
        rc = fn(ud, k ? k : "", kl, v ? v : (const uint8_t *)"", vl);
        if (rc < 0)
            break;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
out:
    free(pend);
    return rc;
}

/* ---- deleteAll ---- */

static int drop_user_schema(store *s, err *e)
{
    /* Views and triggers first, then tables (their indexes go with them). */
    static const char *const kinds[] = {"view", "trigger", "table", "index"};
    for (int k = 0; k < 4; k++) {
        for (;;) {
            sqlite3_stmt *st = NULL;
            char sql[160];
            snprintf(sql, sizeof sql, "SELECT name FROM sqlite_schema WHERE type = '%s' AND "
                     "name NOT LIKE '\\_cf\\_%%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%%' "
                     "ESCAPE '\\' LIMIT 1", kinds[k]);
            s->trusted++;
            int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
            char *name = NULL;
            if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
                name = sqlite3_mprintf("DROP %s IF EXISTS \"%w\"", kinds[k],
                                       (const char *)sqlite3_column_text(st, 0));
            sqlite3_finalize(st);
            rc = name ? sqlite3_exec(s->db, name, NULL, NULL, NULL) : SQLITE_OK;
            s->trusted--;
            bool more = name != NULL;
            sqlite3_free(name);
            if (rc != SQLITE_OK)
                return store_fail(s, e);
            if (!more)
                break;
        }
    }
    return 0;
}

int store_delete_all(store *s, bool keep_alarm, err *e)
{
    int o = store_open(s, false, e);
    if (o <= 0)
        return o;
    if (store_begin(s, e) < 0)
        return -1;
    int rc = SQLITE_OK;
    s->trusted++;
    if (s->has_kv)
        rc = sqlite3_exec(s->db, "DELETE FROM _cf_KV", NULL, NULL, NULL);
    if (rc == SQLITE_OK && s->has_meta && !keep_alarm)
        rc = sqlite3_exec(s->db, "DELETE FROM _cf_METADATA", NULL, NULL, NULL);
    s->trusted--;
    if (rc != SQLITE_OK)
        return store_fail(s, e);
    s->txn_wrote = true;
    if (s->backend == STORE_BACKEND_SQL && drop_user_schema(s, e) < 0)
        return -1;
    return 0;
}

/* ---- alarm ---- */

int store_alarm_get(store *s, int64_t *ms, err *e)
{
    int o = store_open(s, false, e);
    if (o <= 0 || !s->has_meta)
        return o < 0 ? o : 0;
    sqlite3_stmt *st = store_stmt(s, ST_META_GET, "SELECT value FROM _cf_METADATA WHERE key = ?1", e);
    if (!st)
        return -1;
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, META_ALARM);
    s->trusted++;
    int rc = sqlite3_step(st);
    s->trusted--;
    int r = 0;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
        *ms = sqlite3_column_int64(st, 0);
        r = 1;
    } else if (rc == SQLITE_ROW) {   /* durable stores an integer (ms) */
        r = err_setf(e, -EIO, "the object's database %s is damaged: its alarm time is not an "
                     "integer", s->path);
    } else if (rc != SQLITE_DONE) {
        r = store_fail(s, e);
    }
    sqlite3_reset(st);
    return r;
}

int store_alarm_set(store *s, int64_t ms, err *e)
{
    if (ms < 0) {
        int o = store_open(s, false, e);
        if (o <= 0 || !s->has_meta)
            return o < 0 ? o : 0;
    }
    if (store_begin(s, e) < 0 || store_hidden_table(s, 1, e) < 0)
        return -1;
    sqlite3_stmt *st = ms < 0
        ? store_stmt(s, ST_META_DEL, "DELETE FROM _cf_METADATA WHERE key = ?1", e)
        : store_stmt(s, ST_META_PUT, "INSERT OR REPLACE INTO _cf_METADATA (key, value) "
                                     "VALUES (?1, ?2)", e);
    if (!st)
        return -1;
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, META_ALARM);
    if (ms >= 0)
        sqlite3_bind_int64(st, 2, ms);
    return step_done(s, st, e);
}
