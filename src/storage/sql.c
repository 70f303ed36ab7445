/* sql.c: ctx.storage.sql.exec() and its cursor (spec SQL-1..16). The statements
 * before the last run to completion; the last is bound, stepped once at exec time
 * (so its writes happen at once, SQL-1) and then stepped lazily as the cursor is
 * read. User SQL always runs inside the object's implicit transaction, so it is
 * coalesced and gated like KV writes (SQL-6). */
#include "storage/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/* Skips whitespace, comments and semicolons; returns where the next statement starts. */
static const char *skip_gap(const char *p, const char *end)
{
    while (p < end) {
        if (isspace((unsigned char)*p) || *p == ';') {
            p++;
        } else if (p + 1 < end && p[0] == '-' && p[1] == '-') {
            while (p < end && *p != '\n')
                p++;
        } else if (p + 1 < end && p[0] == '/' && p[1] == '*') {
            const char *q = p + 2;
            while (q + 1 < end && !(q[0] == '*' && q[1] == '/'))
                q++;
            p = q + 1 < end ? q + 2 : end;
        } else {
            break;
        }
    }
    return p;
}

static bool starts_with_word(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(end - p) >= n && strncasecmp(p, w, n) == 0 &&
           ((size_t)(end - p) == n || !(isalnum((unsigned char)p[n]) || p[n] == '_'));
}

/* ALTER TABLE … RENAME TO _cf_…: the authorizer sees only the old name (SQL-19).
 * Looks for RENAME, optional TO, then a name starting with _cf_ (quoted or not)
 * within this statement. */
static bool renames_to_reserved(const char *p, const char *end)
{
    for (const char *q = p; q < end && *q != ';'; q++) {
        if (!starts_with_word(q, end, "RENAME") || (q > p && (isalnum((unsigned char)q[-1]) || q[-1] == '_')))
            continue;
        const char *r = q + 6;
        while (r < end && isspace((unsigned char)*r))
            r++;
        if (starts_with_word(r, end, "TO")) {
            r += 2;
            while (r < end && isspace((unsigned char)*r))
                r++;
        }
        if (r < end && (*r == '"' || *r == '`' || *r == '[' || *r == '\''))
            r++;
        if (end - r >= 4 && strncasecmp(r, "_cf_", 4) == 0)
            return true;
    }
    return false;
}

static int cursor_fail(store *s, err *e)
{
    if (s->deny) {
        const char *why = s->deny;
        s->deny = NULL;
        return err_setf(e, DUR_EINVAL, "%s: SQLITE_AUTH", why);
    }
    /* A hidden table not created yet is as reserved as one that exists (SQL-19). */
    const char *m = sqlite3_errmsg(s->db);
    const char *t = m && strncmp(m, "no such table: ", 15) == 0 ? m + 15 : NULL;
    if (t && strncmp(t, "main.", 5) == 0)
        t += 5;
    if (t && strncasecmp(t, "_cf_", 4) == 0)
        return err_setf(e, DUR_EINVAL, "access to names beginning with _cf_ is not authorized: "
                        "they are reserved for Durable Object storage: SQLITE_AUTH");
    return store_fail(s, e);
}

static int bind_args(sqlite3_stmt *st, const store_sqlv *args, size_t nargs, err *e)
{
    int want = sqlite3_bind_parameter_count(st);
    if ((size_t)want != nargs)
        return err_setf(e, DUR_EINVAL, "Wrong number of parameter bindings for SQL query. "
                        "Expected %d, got %zu.", want, nargs);
    for (size_t i = 0; i < nargs; i++) {
        const store_sqlv *v = &args[i];
        int rc;
        int idx = (int)i + 1;
        switch (v->kind) {
        case SQLV_INT: rc = sqlite3_bind_int64(st, idx, v->i); break;
        case SQLV_REAL: rc = sqlite3_bind_double(st, idx, v->d); break;
        case SQLV_TEXT: rc = sqlite3_bind_text64(st, idx, v->p, v->len, SQLITE_TRANSIENT, SQLITE_UTF8); break;
        case SQLV_BLOB: rc = sqlite3_bind_blob64(st, idx, v->len ? v->p : "", v->len, SQLITE_TRANSIENT); break;
        default: rc = sqlite3_bind_null(st, idx); break;
        }
        if (rc != SQLITE_OK)
            return err_setf(e, rc == SQLITE_TOOBIG ? DUR_ETOOBIG : DUR_EINVAL, "%s: %s",
                            sqlite3_errstr(rc), rc == SQLITE_TOOBIG ? "SQLITE_TOOBIG" : "SQLITE_ERROR");
    }
    return 0;
}

static int step(store_cursor *c, err *e)
{
    sqlite3 *db = c->s->db;
    int64_t before = sqlite3_total_changes64(db);
    int rc = sqlite3_step(c->st);
    c->rows_written += sqlite3_total_changes64(db) - before;
    if ((rc == SQLITE_ROW || rc == SQLITE_DONE) && !sqlite3_stmt_readonly(c->st))
        c->s->txn_wrote = true;   /* DDL too: it changes nothing total_changes counts */
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(c->st);
        c->st = NULL;
        return 0;
    }
    int r = cursor_fail(c->s, e);
    sqlite3_finalize(c->st);
    c->st = NULL;
    return r;
}

store_cursor *store_sql_exec(store *s, const char *sql, size_t len, const store_sqlv *args,
                             size_t nargs, err *e)
{
    store_cursor *c = calloc(1, sizeof *c);
    if (!c) {
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    c->s = s;
    c->next = s->cursors;
    if (s->cursors)
        s->cursors->prev = c;
    s->cursors = c;
    const char *p = sql, *end = sql + len;
    p = skip_gap(p, end);
    if (p == end) {
        if (nargs)
            goto wrong_args;
        return c;   /* SQL-7: an empty query is an empty cursor */
    }
    if (len > 100000) {
        err_setf(e, DUR_EINVAL, "statement too long: SQLITE_TOOBIG");
        goto fail;
    }
    if (store_begin(s, e) < 0)
        goto fail;
    while (p < end) {
        if (renames_to_reserved(p, end)) {
            err_setf(e, DUR_EINVAL, "access to names beginning with _cf_ is not authorized: they "
                     "are reserved for Durable Object storage: SQLITE_AUTH");
            goto fail;
        }
        if (starts_with_word(p, end, "VACUUM")) {
            err_setf(e, DUR_EINVAL, "VACUUM is not allowed in Durable Object storage: SQLITE_AUTH");
            goto fail;
        }
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        s->deny = NULL;
        int rc = sqlite3_prepare_v3(s->db, p, (int)(end - p), 0, &st, &tail);
        if (rc != SQLITE_OK) {
            cursor_fail(s, e);
            goto fail;
        }
        const char *next = skip_gap(tail ? tail : end, end);
        if (!st) {   /* only a comment, or something SQLite stops at (a NUL) */
            if (next <= p) {   /* never drop the rest of a query silently */
                err_setf(e, DUR_EINVAL, "unrecognized token: a NUL character in the SQL query: SQLITE_ERROR");
                goto fail;
            }
            p = next;
            continue;
        }
        c->st = st;
        if (next < end) {   /* not the last statement: run it to completion */
            int x;
            while ((x = step(c, e)) == 1)
                ;
            if (x < 0)
                goto fail;
            p = next;
            continue;
        }
        if (bind_args(st, args, nargs, e) < 0)
            goto fail;
        c->ncols = sqlite3_column_count(st);
        if (c->ncols > 0) {
            c->names = calloc((size_t)c->ncols, sizeof *c->names);
            if (!c->names) {
                err_setf(e, DUR_ENOMEM, "out of memory");
                goto fail;
            }
            for (int i = 0; i < c->ncols; i++) {
                const char *n = sqlite3_column_name(st, i);
                c->names[i] = strdup(n ? n : "");
                if (!c->names[i]) {
                    err_setf(e, DUR_ENOMEM, "out of memory");
                    goto fail;
                }
            }
        }
        int x = step(c, e);
        if (x < 0)
            goto fail;
        c->row_pending = x == 1;
        return c;
    }
    if (nargs)
        goto wrong_args;
    return c;
wrong_args:
    err_setf(e, DUR_EINVAL, "Wrong number of parameter bindings for SQL query. Expected 0, got %zu.",
             nargs);
fail:
    store_cursor_free(c);
    return NULL;
}

int store_cursor_columns(store_cursor *c)
{
    return c->ncols;
}

const char *store_cursor_column_name(store_cursor *c, int i)
{
    return i >= 0 && i < c->ncols ? c->names[i] : NULL;
}

int store_cursor_next(store_cursor *c, store_sqlv *vals, err *e)
{
    if (!c->s)
        return 0;
    if (!c->row_pending) {
        if (!c->st)
            return 0;
        int x = step(c, e);
        if (x <= 0)
            return x;
    }
    c->row_pending = false;
    c->rows_read++;
    for (int i = 0; i < c->ncols; i++) {
        store_sqlv *v = &vals[i];
        switch (sqlite3_column_type(c->st, i)) {
        case SQLITE_INTEGER: v->kind = SQLV_INT; v->i = sqlite3_column_int64(c->st, i); break;
        case SQLITE_FLOAT: v->kind = SQLV_REAL; v->d = sqlite3_column_double(c->st, i); break;
        case SQLITE_TEXT:
            v->kind = SQLV_TEXT;
            v->p = sqlite3_column_text(c->st, i);
            v->len = (size_t)sqlite3_column_bytes(c->st, i);
            break;
        case SQLITE_BLOB:
            v->kind = SQLV_BLOB;
            v->p = sqlite3_column_blob(c->st, i);
            v->len = (size_t)sqlite3_column_bytes(c->st, i);
            break;
        default: v->kind = SQLV_NULL; break;
        }
    }
    return 1;
}

int64_t store_cursor_rows_read(store_cursor *c)
{
    return c->rows_read;
}

int64_t store_cursor_rows_written(store_cursor *c)
{
    return c->rows_written;
}

void store_cursor_free(store_cursor *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->st);
    for (int i = 0; i < c->ncols && c->names; i++)
        free(c->names[i]);
    free(c->names);
    if (c->s) {
        if (c->prev)
            c->prev->next = c->next;
        else
            c->s->cursors = c->next;
        if (c->next)
            c->next->prev = c->prev;
    }
    free(c);
}

void store_cursors_detach(store *s)
{
    for (store_cursor *c = s->cursors; c; c = c->next) {
        sqlite3_finalize(c->st);
        c->st = NULL;
        c->row_pending = false;
        c->s = NULL;
    }
    s->cursors = NULL;
}
