/* objects_io.c: export and import of one Durable Object's stored data on the REST
 * API listener (issue 12, "Tools for people"; format: docs/export.md):
 *
 *   GET …/durable_objects/namespaces/{ns}/objects/{id}/export  → the document
 *   PUT …/durable_objects/namespaces/{ns}/objects/{id}/export  ← the document
 *       (?replace=true to overwrite an object that has data)
 *   GET /accounts                                              → this server's account
 *
 * The document holds everything the object stored: KV pairs (_cf_KV), the alarm
 * (_cf_METADATA), and the SQL schema, rows and AUTOINCREMENT counters of its user
 * tables, every SQLite value with its exact type (integers past 2^53, reals to the
 * last bit, blobs, text that is not UTF-8, NULL). Export is deterministic: the
 * same stored data always gives the same bytes, so export → import → export
 * compares byte for byte.
 *
 * Coordination with a live instance: an object that is running holds its database
 * open with SQLite's EXCLUSIVE locking (storage/db.c), and keeps it open until it
 * has been idle for about 10 s. Here the file is opened with EXCLUSIVE locking too,
 * and BEGIN EXCLUSIVE either gets the whole file or fails at once: then the answer
 * is 409, code 10067 ("in use"), and nothing was read or changed; the CLI retries.
 * While an export or import holds the file, the object's own next open fails the
 * same way (its request gets a storage error) rather than seeing half an import.
 * After an import commits, the script's shards restart (as after a deploy) so that
 * an instance still in memory with the old data is rebuilt from the new data and an
 * imported alarm is scheduled.
 *
 * Import validates the whole document before it opens the object, and runs in one
 * transaction: a malformed document or a failing statement changes nothing. The
 * schema statements it runs are the user's own CREATE statements, under an
 * authorizer that refuses what an object's SQL may not do (ATTACH, PRAGMA,
 * _cf_ names, extension loading). Virtual tables (fts5, rtree) are refused by
 * export for now (their shadow tables cannot be written back as rows). */
#include "api/internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "base/fs.h"
#include "base/log.h"
#include "objects/objects.h"

#define IO_BYTES_MAX (20u * 1024u * 1024u)   /* the API listener's body limit too */
#define SAFE_INT 9007199254740992LL          /* 2^53: larger integers go as strings */
#define FORMAT_NAME "durable-object-export"
#define FORMAT_VERSION 1
#define META_ALARM 1                         /* storage/kv.c's key of the alarm row */
/* The hidden tables exactly as storage/db.c creates them. */
#define KV_DDL "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"
#define META_DDL "CREATE TABLE IF NOT EXISTS _cf_METADATA (key INTEGER PRIMARY KEY, value BLOB)"
/* User schema objects: not hidden (_cf_), not SQLite's own (sqlite_), not the
 * automatic indexes of constraints (no sql). */
#define USER_SCHEMA "name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' " \
                    "ESCAPE '\\' AND sql IS NOT NULL"

enum { CODE_IN_USE = 10067, CODE_HAS_DATA = 10068 };

/* ---- the object's file ---- */

typedef struct io_obj {
    deploy_ns ns;
    char hex[65];
    char path[4300];
    sqlite3 *db;
    bool trusted;              /* our own statements: the authorizer lets them through */
} io_obj;

/* Looks up the namespace and checks that `hex` is an id of it (the check half of
 * ids, objects/id.h). 0, or -1 after answering. */
static int obj_resolve(api_ctx *a, api_req *r, const char *ns_id, const char *hex, io_obj *o)
{
    if (!obj_hex_is(ns_id, 32))
        return api__reply_err(r, 400, 7003, "Could not route to %s, perhaps your object "
                              "identifier is invalid? (a namespace id is 32 hex digits)",
                              r->req->target), -1;
    if (!obj_hex_is(hex, 64))
        return api__reply_err(r, 400, 7003, "Could not route to %s, perhaps your object "
                              "identifier is invalid? (an object id is 64 lowercase hex "
                              "digits)", r->req->target), -1;
    err e = {0};
    int got = deploy_ns_get(a->store, ns_id, &o->ns, &e);
    if (got < 0)
        return api__store_error(r, &e), -1;
    if (got == 0)
        return api__reply_err(r, 404, 10064, "namespace %s not found", ns_id), -1;
    uint8_t secret[OBJ_KEY_BYTES], key[OBJ_KEY_BYTES];
    obj_id id;
    if (obj_secret_load(a->data_dir, secret, &e) < 0)
        return api__store_error(r, &e), -1;
    obj_ns_key_derive(secret, o->ns.identity, strlen(o->ns.identity), key);
    if (obj_id_parse(key, hex, 64, &id) < 0)
        return api__reply_err(r, 400, 7003, "Could not route to object %s, perhaps your object "
                              "identifier is invalid? It is not an id of namespace %s (%s): "
                              "ids come from idFromName, newUniqueId or `durable objects list`",
                              hex, o->ns.id, o->ns.name), -1;
    memcpy(o->hex, hex, 65);
    char dir[4096];
    api__ns_dir(a, &o->ns, dir, sizeof dir);
    snprintf(o->path, sizeof o->path, "%s/%.2s/%s.sqlite", dir, hex, hex);
    return 0;
}

/* User SQL in an imported schema may do what an object's SQL may (storage/db.c's
 * authorizer, in short); our own statements (o->trusted) anything. */
static int authorize(void *ud, int action, const char *a1, const char *a2, const char *db,
                     const char *trigger)
{
    io_obj *o = ud;
    (void)db;
    (void)trigger;
    if (o->trusted)
        return SQLITE_OK;
    static const char *const denied_fn[] = {"load_extension", "fts3_tokenizer", "readfile",
                                            "writefile", "edit", "fsdir", "zipfile", NULL};
    switch (action) {
    case SQLITE_ATTACH: case SQLITE_DETACH: case SQLITE_PRAGMA: case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT: case SQLITE_CREATE_VTABLE: case SQLITE_DROP_VTABLE:
    case SQLITE_CREATE_TEMP_TABLE: case SQLITE_CREATE_TEMP_INDEX: case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TEMP_TRIGGER:
        return SQLITE_DENY;
    case SQLITE_FUNCTION:
        for (int i = 0; denied_fn[i]; i++)
            if (a2 && strcasecmp(a2, denied_fn[i]) == 0)
                return SQLITE_DENY;
        return SQLITE_OK;
    default: {
        /* SQLite's own writes to sqlite_schema and sqlite_sequence come through here
         * too; the tables that expose the process or raw pages do not. */
        static const char *const denied_tables[] = {"sqlite_stmt", "dbstat", "sqlite_dbpage",
                                                    "sqlite_dbdata", "sqlite_dbptr", NULL};
        for (int i = 0; a1 && denied_tables[i]; i++)
            if (strcasecmp(a1, denied_tables[i]) == 0)
                return SQLITE_DENY;
        if ((a1 && strncasecmp(a1, "_cf_", 4) == 0) || (a2 && strncasecmp(a2, "_cf_", 4) == 0))
            return SQLITE_DENY;
        return SQLITE_OK;
    }
    }
}

static int exec_trusted(io_obj *o, const char *sql)
{
    o->trusted = true;
    int rc = sqlite3_exec(o->db, sql, NULL, NULL, NULL);
    o->trusted = false;
    return rc;
}

static bool busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Opens the object's database and takes it whole (BEGIN EXCLUSIVE). create: make
 * the file (import). Returns 1 open, 0 no file (export of an object that never
 * wrote), -1 after answering (409 CODE_IN_USE when a live instance holds it). */
static int obj_open(api_req *r, io_obj *o, bool create)
{
    struct stat st;
    bool exists = stat(o->path, &st) == 0;
    if (!exists && !create)
        return 0;
    if (exists && !S_ISREG(st.st_mode))
        return api__reply_err(r, 500, 10000, "the database of object %s is not a file", o->hex), -1;
    if (!exists) {
        char dir[4300];
        snprintf(dir, sizeof dir, "%s", o->path);
        *strrchr(dir, '/') = '\0';
        err e = {0};
        if (fs_mkdir_p(dir, &e) < 0)
            return api__store_error(r, &e), -1;
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(o->path, &o->db, flags, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(o->db, 1);
        sqlite3_db_config(o->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        sqlite3_db_config(o->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
        sqlite3_set_authorizer(o->db, authorize, o);
        /* EXCLUSIVE before the first read, as storage/db.c: the WAL index stays in
         * memory (no -shm file) and no one else can open the file meanwhile. A new
         * file becomes WAL like the ones the shards make. */
        rc = exec_trusted(o, exists ? "PRAGMA locking_mode=EXCLUSIVE; PRAGMA synchronous=FULL;"
                                    : "PRAGMA locking_mode=EXCLUSIVE; PRAGMA synchronous=FULL; "
                                      "PRAGMA journal_mode=WAL;");
    }
    if (rc == SQLITE_OK)
        rc = exec_trusted(o, "BEGIN EXCLUSIVE");
    if (rc == SQLITE_OK)
        return 1;
    if (busy(rc) || (o->db && busy(sqlite3_extended_errcode(o->db)))) {
        sqlite3_close(o->db);
        o->db = NULL;
        return api__reply_err(r, 409, CODE_IN_USE, "object %s is in use: a running instance "
                              "holds its database; try again once it has been idle for about "
                              "10 seconds", o->hex), -1;
    }
    api__reply_err(r, 500, 10000, "cannot open the database of object %s: %s", o->hex,
                   o->db ? sqlite3_errmsg(o->db) : sqlite3_errstr(rc));
    sqlite3_close(o->db);
    o->db = NULL;
    return -1;
}

static void obj_close(io_obj *o, bool commit, int *rc_out)
{
    if (!o->db)
        return;
    int rc = exec_trusted(o, commit ? "COMMIT" : "ROLLBACK");
    if (rc != SQLITE_OK && commit)
        exec_trusted(o, "ROLLBACK");
    if (rc_out)
        *rc_out = rc;
    sqlite3_close(o->db);
    o->db = NULL;
}

/* ---- writing values ---- */

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
                 : (c & 0xf8) == 0xf0 ? 3 : 9;
        if (k == 9 || k >= n - i)
            return false;
        uint32_t cp = k == 0 ? c : k == 1 ? (c & 0x1f) : k == 2 ? (c & 0x0f) : (c & 0x07);
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static int b64_out(buf *b, const void *p, size_t n)
{
    if (n > IO_BYTES_MAX)
        return DUR_ETOOBIG;
    size_t need = 4 * ((n + 2) / 3) + 1;
    int rc = buf_reserve(b, need);
    if (rc)
        return rc;
    int w = EVP_EncodeBlock((unsigned char *)b->ptr + b->len, p, (int)n);
    b->len += (size_t)w;
    b->ptr[b->len] = '\0';
    return 0;
}

/* One SQLite value as JSON (docs/export.md "Values"). */
static int value_json(buf *b, sqlite3_stmt *st, int col)
{
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        return buf_append_str(b, "null");
    case SQLITE_INTEGER: {
        long long v = sqlite3_column_int64(st, col);
        if (v >= -SAFE_INT && v <= SAFE_INT)
            return buf_printf(b, "%lld", v);
        return buf_printf(b, "{\"integer\":\"%lld\"}", v);
    }
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, col);
        if (isinf(d))
            return buf_printf(b, "{\"real\":\"%s\"}", d > 0 ? "Infinity" : "-Infinity");
        char t[48];
        snprintf(t, sizeof t, "%.17g", d);
        /* A real always shows a '.' or an exponent, so it never reads back as an
         * integer. */
        return buf_printf(b, "%s%s", t, strpbrk(t, ".eE") ? "" : ".0");
    }
    case SQLITE_TEXT: {
        const unsigned char *s = sqlite3_column_text(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        if (utf8_valid(s, n))
            return api__json_str(b, (const char *)s, n);
        int rc = buf_append_str(b, "{\"text_base64\":\"");
        rc = rc ? rc : b64_out(b, s, n);
        return rc ? rc : buf_append_str(b, "\"}");
    }
    default: {
        const void *p = sqlite3_column_blob(st, col);
        size_t n = (size_t)sqlite3_column_bytes(st, col);
        int rc = buf_append_str(b, "{\"blob\":\"");
        rc = rc ? rc : b64_out(b, p ? p : "", n);
        return rc ? rc : buf_append_str(b, "\"}");
    }
    }
}

/* ---- export ---- */

static bool table_exists(io_obj *o, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool yes = false;
    o->trusted = true;
    if (sqlite3_prepare_v2(o->db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    o->trusted = false;
    return yes;
}

/* Appends every row of `sql` (our own statement) as a JSON array of arrays.
 * Returns SQLITE_OK, a SQLite code, or DUR_ETOOBIG / DUR_ENOMEM (negative). */
static int rows_json(io_obj *o, buf *b, const char *sql)
{
    sqlite3_stmt *st = NULL;
    o->trusted = true;
    int rc = sqlite3_prepare_v2(o->db, sql, -1, &st, NULL);
    int out = buf_append_str(b, "[");
    bool first = true;
    while (rc == SQLITE_OK && out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        out = buf_append_str(b, first ? "[" : ",[");
        first = false;
        for (int i = 0; i < sqlite3_column_count(st) && out == 0; i++)
            out = (i ? buf_append_str(b, ",") : 0) ?: value_json(b, st, i);
        out = out ? out : buf_append_str(b, "]");
    }
    sqlite3_finalize(st);
    o->trusted = false;
    if (out)
        return out;
    if (rc != SQLITE_DONE && rc != SQLITE_OK)
        return rc;
    return buf_append_str(b, "]");
}

static int quote_ident(buf *b, const char *s)
{
    int rc = buf_append_str(b, "\"");
    for (; *s && rc == 0; s++)
        rc = buf_append(b, s, 1) ?: (*s == '"' ? buf_append(b, s, 1) : 0);
    return rc ? rc : buf_append_str(b, "\"");
}

/* The columns a row needs to be written back (PRAGMA table_xinfo, hidden = 0: no
 * generated columns), as a JSON array into cols and a quoted list into list, and
 * the name under which the rowid is reachable ("" for WITHOUT ROWID tables, for
 * tables whose rowid is an INTEGER PRIMARY KEY column, or when rowid, _rowid_ and
 * oid are all column names). */
static int table_columns(io_obj *o, const char *table, buf *cols, buf *list, char rowid[8])
{
    buf q;
    buf_init(&q, 4096);
    int out = buf_append_str(&q, "PRAGMA table_xinfo(") ?: quote_ident(&q, table);
    out = out ?: buf_append_str(&q, ")");
    sqlite3_stmt *st = NULL;
    o->trusted = true;
    int rc = out ? SQLITE_NOMEM : sqlite3_prepare_v2(o->db, q.ptr, -1, &st, NULL);
    bool has[3] = {false, false, false}, ipk = false;
    int pk_count = 0, n = 0;
    static const char *const aliases[3] = {"rowid", "_rowid_", "oid"};
    out = out ?: buf_append_str(cols, "[");
    while (rc == SQLITE_OK && out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2);
        int pk = sqlite3_column_int(st, 5), hidden = sqlite3_column_int(st, 6);
        if (!name)
            continue;
        for (int i = 0; i < 3; i++)
            has[i] |= strcasecmp(name, aliases[i]) == 0;
        if (pk)
            pk_count++;
        if (pk && type && strcasecmp(type, "INTEGER") == 0)
            ipk = true;
        if (hidden != 0)
            continue;
        out = (n ? buf_append_str(cols, ",") : 0) ?: api__json_cstr(cols, name);
        out = out ?: (n ? buf_append_str(list, ",") : 0) ?: quote_ident(list, name);
        n++;
    }
    sqlite3_finalize(st);
    out = out ?: buf_append_str(cols, "]");
    rowid[0] = '\0';
    if (rc == SQLITE_DONE && out == 0 && !(ipk && pk_count == 1)) {
        for (int i = 0; i < 3 && !rowid[0]; i++) {
            if (has[i])
                continue;
            /* A WITHOUT ROWID table has none: the statement does not prepare. */
            buf_reset(&q);
            if (buf_printf(&q, "SELECT %s FROM ", aliases[i]) == 0 && quote_ident(&q, table) == 0 &&
                sqlite3_prepare_v2(o->db, q.ptr, -1, &st, NULL) == SQLITE_OK)
                snprintf(rowid, 8, "%s", aliases[i]);
            sqlite3_finalize(st);
            break;
        }
    }
    o->trusted = false;
    buf_fini(&q);
    if (out)
        return out;
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One table of sql.tables: {"name", "columns", "rowid", "rows"}. SQLITE_OK, a
 * SQLite code, or a negative DUR_ code. */
static int table_json(io_obj *o, buf *b, const char *table, bool first)
{
    buf cols, list, q;
    buf_init(&cols, 64 * 1024);
    buf_init(&list, 64 * 1024);
    buf_init(&q, 128 * 1024);
    char rowid[8];
    int rc = table_columns(o, table, &cols, &list, rowid);
    int out = rc < 0 ? rc : 0;
    if (rc == SQLITE_OK && out == 0) {
        out = buf_append_str(b, first ? "{\"name\":" : ",{\"name\":") ?: api__json_cstr(b, table);
        out = out ?: buf_printf(b, ",\"columns\":%s,\"rowid\":%s,\"rows\":", cols.ptr,
                                rowid[0] ? "true" : "false");
        out = out ?: buf_printf(&q, "SELECT %s%s%s FROM ", rowid, rowid[0] && list.len ? "," : "",
                                list.len ? list.ptr : "");
        out = out ?: quote_ident(&q, table);
        if (rowid[0])
            out = out ?: buf_printf(&q, " ORDER BY %s", rowid);
        if (out == 0 && !rowid[0] && !list.len)
            out = buf_append_str(b, "[]");
        else if (out == 0)
            rc = rows_json(o, b, q.ptr);
        out = out ?: (rc < 0 ? rc : 0);
        out = out ?: buf_append_str(b, "}");
    }
    buf_fini(&cols);
    buf_fini(&list);
    buf_fini(&q);
    return out ? out : rc;
}

/* The schema (ordered by kind, then name, so that an import, which creates them in
 * that order, exports the same), then each table's rows. */
static int sql_json(io_obj *o, buf *b, char *why, size_t why_cap)
{
    sqlite3_stmt *st = NULL;
    o->trusted = true;
    int rc = sqlite3_prepare_v2(o->db,
        "SELECT type, name, sql FROM sqlite_schema WHERE " USER_SCHEMA " ORDER BY CASE type "
        "WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, name", -1, &st,
        NULL);
    o->trusted = false;
    int out = buf_append_str(b, "{\"schema\":[");
    char **tables = NULL;
    size_t nt = 0;
    while (rc == SQLITE_OK && out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        if (!type || !name || !sql)
            continue;
        if (strncasecmp(sql, "CREATE VIRTUAL TABLE", 20) == 0) {
            snprintf(why, why_cap, "table '%s' is a virtual table, which export does not "
                     "support yet", name);
            rc = SQLITE_MISUSE;
            break;
        }
        out = buf_printf(b, "%s{\"type\":", nt || b->ptr[b->len - 1] != '[' ? "," : "");
        out = out ?: api__json_cstr(b, type);
        out = out ?: buf_append_str(b, ",\"name\":") ?: api__json_cstr(b, name);
        out = out ?: buf_append_str(b, ",\"sql\":") ?: api__json_cstr(b, sql);
        out = out ?: buf_append_str(b, "}");
        if (out == 0 && strcmp(type, "table") == 0) {
            char **t = realloc(tables, (nt + 1) * sizeof *t);
            if (!t || !(t[nt] = strdup(name))) {
                tables = t ? t : tables;
                out = DUR_ENOMEM;
                break;
            }
            tables = t;
            nt++;
        }
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    out = out ?: buf_append_str(b, "],\"sequences\":");
    if (rc == SQLITE_OK && out == 0)
        rc = table_exists(o, "sqlite_sequence")
                 ? rows_json(o, b, "SELECT name, seq FROM sqlite_sequence ORDER BY name, seq")
                 : buf_append_str(b, "[]");
    out = out ?: (rc < 0 ? rc : 0);
    out = out ?: buf_append_str(b, ",\"tables\":[");
    for (size_t i = 0; i < nt && rc == SQLITE_OK && out == 0; i++) {
        rc = table_json(o, b, tables[i], i == 0);
        out = rc < 0 ? rc : 0;
    }
    for (size_t i = 0; i < nt; i++)
        free(tables[i]);
    free(tables);
    out = out ?: buf_append_str(b, "]}");
    if (out)
        return out;
    if (rc != SQLITE_OK && !why[0])
        snprintf(why, why_cap, "%s", sqlite3_errmsg(o->db));
    return rc;
}

static void object_export(api_ctx *a, api_req *r, io_obj *o)
{
    int got = obj_open(r, o, false);
    if (got < 0)
        return;
    buf b;
    buf_init(&b, IO_BYTES_MAX);
    int out = buf_printf(&b, "{\"format\":\"%s\",\"version\":%d,\"namespace\":{\"id\":\"%s\","
                         "\"name\":", FORMAT_NAME, FORMAT_VERSION, o->ns.id);
    out = out ?: api__json_cstr(&b, o->ns.name);
    out = out ?: buf_append_str(&b, ",\"class\":") ?: api__json_cstr(&b, o->ns.class_name);
    out = out ?: buf_printf(&b, "},\"id\":\"%s\",\"alarm\":", o->hex);
    int rc = SQLITE_OK;
    char why[512] = "";
    if (got == 0) {
        out = out ?: buf_append_str(&b, "null,\"kv\":[],\"sql\":{\"schema\":[],\"sequences\":[],"
                                        "\"tables\":[]}}\n");
    } else {
        if (out == 0 && table_exists(o, "_cf_METADATA")) {
            buf t;
            buf_init(&t, 4096);
            rc = rows_json(o, &t, "SELECT value FROM _cf_METADATA WHERE key = 1");
            /* [[ms]] or []: the alarm or none. */
            out = rc < 0 ? rc : rc ? 0 : t.len > 2 ? buf_append(&b, t.ptr + 2, t.len - 4)
                                                   : buf_append_str(&b, "null");
            buf_fini(&t);
        } else {
            out = out ?: buf_append_str(&b, "null");
        }
        out = out ?: buf_append_str(&b, ",\"kv\":");
        if (out == 0 && rc == SQLITE_OK)
            rc = table_exists(o, "_cf_KV") ? rows_json(o, &b, "SELECT key, value FROM _cf_KV ORDER BY key")
                                          : buf_append_str(&b, "[]");
        out = out ?: (rc < 0 ? rc : 0);
        out = out ?: buf_append_str(&b, ",\"sql\":");
        if (out == 0 && rc == SQLITE_OK)
            rc = sql_json(o, &b, why, sizeof why);
        out = out ?: (rc < 0 ? rc : 0);
        out = out ?: buf_append_str(&b, "}\n");
        if (rc > 0 && !why[0])
            snprintf(why, sizeof why, "%s", sqlite3_errmsg(o->db));
        obj_close(o, false, NULL);
    }
    if (out == DUR_ETOOBIG)
        api__reply_err(r, 413, 10001, "object %s holds more than %u MiB, which export does not "
                       "support yet", o->hex, IO_BYTES_MAX >> 20);
    else if (out)
        api__reply_err(r, 500, 10000, "out of memory");
    else if (rc == SQLITE_MISUSE)
        api__reply_err(r, 400, 10001, "cannot export object %s: %s", o->hex, why);
    else if (rc != SQLITE_OK)
        api__reply_err(r, 500, 10000, "cannot read object %s: %s", o->hex, why);
    else {
        h1_header h[] = {{"Content-Type", 12, "application/json", 16}};
        if (r->log)
            log_info("api %s %s 200", r->req->method, r->req->target);
        h1_conn_respond(r->conn, 200, h, 1, b.ptr, b.len);
    }
    buf_fini(&b);
}

/* ---- import ---- */

typedef struct sqlval {
    int type;                  /* SQLITE_NULL, _INTEGER, _FLOAT, _TEXT, _BLOB */
    long long i;
    double d;
    const char *p;
    size_t len;
    unsigned char *owned;      /* decoded base64, freed by sqlval_fini */
} sqlval;

static void sqlval_fini(sqlval *v)
{
    free(v->owned);
    v->owned = NULL;
}

/* Strict base64: the canonical encoding of what it decodes to (so a document
 * that would not export the same way is refused, not guessed at). */
static int b64_in(const cfg_value *s, sqlval *out)
{
    if (!s || s->type != CFG_STRING || s->str_len % 4 != 0 || s->str_len > 2 * IO_BYTES_MAX)
        return -1;
    out->owned = malloc(s->str_len / 4 * 3 + 1);
    unsigned char *again = malloc(s->str_len + 1);
    int n = out->owned && again ? EVP_DecodeBlock(out->owned, (const unsigned char *)s->str,
                                                  (int)s->str_len) : -1;
    if (n >= 0 && s->str_len && s->str[s->str_len - 1] == '=')
        n--;
    if (n >= 0 && s->str_len > 1 && s->str[s->str_len - 2] == '=')
        n--;
    bool ok = n >= 0 && EVP_EncodeBlock(again, out->owned, n) == (int)s->str_len &&
              memcmp(again, s->str, s->str_len) == 0;
    free(again);
    if (!ok) {
        sqlval_fini(out);
        return -1;
    }
    out->p = (const char *)out->owned;
    out->len = (size_t)n;
    return 0;
}

/* One value of the document (docs/export.md "Values"). 0, or -1 with why. */
static int value_read(const cfg_value *v, sqlval *out, char *why, size_t cap)
{
    memset(out, 0, sizeof *out);
    switch (v->type) {
    case CFG_NULL: out->type = SQLITE_NULL; return 0;
    case CFG_INT: out->type = SQLITE_INTEGER; out->i = v->i; return 0;
    case CFG_FLOAT: out->type = SQLITE_FLOAT; out->d = v->f; return 0;
    case CFG_STRING: out->type = SQLITE_TEXT; out->p = v->str; out->len = v->str_len; return 0;
    case CFG_TABLE: break;
    default:
        snprintf(why, cap, "a value is null, a number, a string or {\"integer\"|\"real\"|"
                 "\"blob\"|\"text_base64\": …}");
        return -1;
    }
    const cfg_value *x = v->count == 1 ? v->items[0] : NULL;
    const char *k = v->count == 1 ? v->keys[0] : "";
    if (x && strcmp(k, "integer") == 0 && x->type == CFG_STRING) {
        char *end;
        errno = 0;
        out->i = strtoll(x->str, &end, 10);
        if (!errno && x->str_len && !*end && end == x->str + x->str_len && x->str[0] != '+' &&
            x->str[0] != ' ') {
            out->type = SQLITE_INTEGER;
            return 0;
        }
    } else if (x && strcmp(k, "real") == 0 && (x->type == CFG_FLOAT || x->type == CFG_INT)) {
        out->type = SQLITE_FLOAT;
        out->d = x->type == CFG_FLOAT ? x->f : (double)x->i;
        return 0;
    } else if (x && strcmp(k, "real") == 0 && x->type == CFG_STRING &&
               (strcmp(x->str, "Infinity") == 0 || strcmp(x->str, "-Infinity") == 0)) {
        out->type = SQLITE_FLOAT;
        out->d = x->str[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    } else if (x && (strcmp(k, "blob") == 0 || strcmp(k, "text_base64") == 0)) {
        out->type = k[0] == 'b' ? SQLITE_BLOB : SQLITE_TEXT;
        if (b64_in(x, out) == 0)
            return 0;
        snprintf(why, cap, "\"%s\" must be canonical base64", k);
        return -1;
    }
    snprintf(why, cap, "a value object is one of {\"integer\": \"<decimal>\"}, {\"real\": "
             "<number>|\"Infinity\"|\"-Infinity\"}, {\"blob\": \"<base64>\"}, "
             "{\"text_base64\": \"<base64>\"}");
    return -1;
}

static int bind_value(sqlite3_stmt *st, int i, const sqlval *v)
{
    switch (v->type) {
    case SQLITE_NULL: return sqlite3_bind_null(st, i);
    case SQLITE_INTEGER: return sqlite3_bind_int64(st, i, v->i);
    case SQLITE_FLOAT: return sqlite3_bind_double(st, i, v->d);
    case SQLITE_TEXT: return sqlite3_bind_text64(st, i, v->p ? v->p : "", v->len, SQLITE_STATIC,
                                                 SQLITE_UTF8);
    default:
        return v->len ? sqlite3_bind_blob64(st, i, v->p, v->len, SQLITE_STATIC)
                      : sqlite3_bind_zeroblob(st, i, 0);
    }
}

static const cfg_value *get(const cfg_value *t, const char *key, cfg_type type)
{
    const cfg_value *v = t && t->type == CFG_TABLE ? cfg_table_get(t, key) : NULL;
    return v && v->type == type ? v : NULL;
}

static bool reserved(const char *name)
{
    return strncasecmp(name, "_cf_", 4) == 0 || strncasecmp(name, "sqlite_", 7) == 0;
}

static int sql_check(const cfg_value *sql, char *ptr, size_t pcap, char *why, size_t cap);

/* Checks the whole document before anything is opened. 0, or -1 with the JSON
 * pointer of the problem in ptr and the problem in why. */
static int doc_check(const cfg_value *doc, char *ptr, size_t pcap, char *why, size_t cap)
{
    const cfg_value *f = get(doc, "format", CFG_STRING), *ver = get(doc, "version", CFG_INT);
    if (!f || strcmp(f->str, FORMAT_NAME) != 0)
        return snprintf(ptr, pcap, "/format"),
               snprintf(why, cap, "not an export of durable: \"format\" must be \"%s\"",
                        FORMAT_NAME), -1;
    if (!ver || ver->i != FORMAT_VERSION)
        return snprintf(ptr, pcap, "/version"),
               snprintf(why, cap, "\"version\" must be %d (this server's format)",
                        FORMAT_VERSION), -1;
    const cfg_value *al = cfg_table_get(doc, "alarm");
    if (al && al->type != CFG_NULL && !(al->type == CFG_INT && al->i >= 0))
        return snprintf(ptr, pcap, "/alarm"),
               snprintf(why, cap, "\"alarm\" is null or a time in ms since the epoch"), -1;
    const cfg_value *kv = cfg_table_get(doc, "kv");
    if (kv && kv->type != CFG_ARRAY)
        return snprintf(ptr, pcap, "/kv"), snprintf(why, cap, "\"kv\" must be an array"), -1;
    for (size_t i = 0; kv && i < kv->count; i++) {
        const cfg_value *p = kv->items[i];
        snprintf(ptr, pcap, "/kv/%zu", i);
        sqlval k, v;
        if (p->type != CFG_ARRAY || p->count != 2)
            return snprintf(why, cap, "a KV pair is [key, value]"), -1;
        if (value_read(p->items[0], &k, why, cap) < 0 || k.type != SQLITE_TEXT) {
            sqlval_fini(&k);
            return snprintf(why, cap, "a KV key is a string (or {\"text_base64\": …})"), -1;
        }
        sqlval_fini(&k);
        if (value_read(p->items[1], &v, why, cap) < 0)
            return -1;
        sqlval_fini(&v);
    }
    const cfg_value *sql = cfg_table_get(doc, "sql");
    if (sql && sql_check(sql, ptr, pcap, why, cap) < 0)
        return -1;
    ptr[0] = '\0';
    return 0;
}

/* The "sql" member: schema entries, sequences, tables and every value of their
 * rows. */
static int sql_check(const cfg_value *sql, char *ptr, size_t pcap, char *why, size_t cap)
{
    const cfg_value *schema = get(sql, "schema", CFG_ARRAY), *seq = get(sql, "sequences", CFG_ARRAY),
                    *tables = get(sql, "tables", CFG_ARRAY);
    if (sql->type != CFG_TABLE || !schema || !seq || !tables)
        return snprintf(ptr, pcap, "/sql"),
               snprintf(why, cap, "\"sql\" is {\"schema\": [...], \"sequences\": [...], "
                        "\"tables\": [...]}"), -1;
    static const char *const kinds[] = {"table", "index", "view", "trigger"};
    for (size_t i = 0; i < schema->count; i++) {
        const cfg_value *s = schema->items[i], *t = get(s, "type", CFG_STRING),
                        *n = get(s, "name", CFG_STRING), *q = get(s, "sql", CFG_STRING);
        snprintf(ptr, pcap, "/sql/schema/%zu", i);
        bool kind_ok = false;
        for (int j = 0; t && j < 4; j++)
            kind_ok |= strcmp(t->str, kinds[j]) == 0;
        if (!kind_ok || !n || !q || !n->str[0] || reserved(n->str) ||
            strncasecmp(q->str, "CREATE ", 7) != 0)
            return snprintf(why, cap, "a schema entry is {\"type\": table|index|view|trigger, "
                            "\"name\", \"sql\": \"CREATE …\"} with a name not starting with "
                            "_cf_ or sqlite_"), -1;
    }
    for (size_t i = 0; i < seq->count; i++) {
        const cfg_value *s = seq->items[i];
        snprintf(ptr, pcap, "/sql/sequences/%zu", i);
        if (s->type != CFG_ARRAY || s->count != 2 || s->items[0]->type != CFG_STRING ||
            s->items[1]->type != CFG_INT)
            return snprintf(why, cap, "a sequence is [table name, integer]"), -1;
    }
    for (size_t i = 0; i < tables->count; i++) {
        const cfg_value *t = tables->items[i], *n = get(t, "name", CFG_STRING),
                        *cols = get(t, "columns", CFG_ARRAY), *rowid = get(t, "rowid", CFG_BOOL),
                        *rows = get(t, "rows", CFG_ARRAY);
        snprintf(ptr, pcap, "/sql/tables/%zu", i);
        if (!n || !cols || !rowid || !rows || reserved(n->str))
            return snprintf(why, cap, "a table is {\"name\", \"columns\": [...], \"rowid\": "
                            "bool, \"rows\": [...]}"), -1;
        bool declared = false;
        for (size_t j = 0; j < schema->count && !declared; j++) {
            const cfg_value *sn = get(schema->items[j], "name", CFG_STRING);
            declared = sn && strcmp(sn->str, n->str) == 0 &&
                       strcmp(get(schema->items[j], "type", CFG_STRING)->str, "table") == 0;
        }
        if (!declared)
            return snprintf(why, cap, "table '%.100s' has rows but no schema entry", n->str), -1;
        if (cols->count > 100 || (cols->count == 0 && !rowid->b))
            return snprintf(why, cap, "table '%.100s': 1 to 100 columns", n->str), -1;
        for (size_t j = 0; j < cols->count; j++)
            if (cols->items[j]->type != CFG_STRING)
                return snprintf(ptr, pcap, "/sql/tables/%zu/columns/%zu", i, j),
                       snprintf(why, cap, "a column name is a string"), -1;
        size_t width = cols->count + (rowid->b ? 1 : 0);
        for (size_t j = 0; j < rows->count; j++) {
            const cfg_value *row = rows->items[j];
            snprintf(ptr, pcap, "/sql/tables/%zu/rows/%zu", i, j);
            if (row->type != CFG_ARRAY || row->count != width)
                return snprintf(why, cap, "a row of '%.100s' has %zu values (the rowid first "
                                "when \"rowid\" is true)", n->str, width), -1;
            for (size_t c = 0; c < width; c++) {
                sqlval v;
                if (value_read(row->items[c], &v, why, cap) < 0) {
                    snprintf(ptr, pcap, "/sql/tables/%zu/rows/%zu/%zu", i, j, c);
                    return -1;
                }
                sqlval_fini(&v);
            }
        }
    }
    return 0;
}

/* Runs one CREATE statement of the document under the authorizer; it must be
 * one statement and make the schema object it is listed as. */
static int schema_exec(io_obj *o, const char *type, const char *name, const char *sql,
                       char *why, size_t cap)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(o->db, sql, -1, &st, &tail);
    if (rc == SQLITE_OK && !st)
        rc = SQLITE_MISUSE;
    while (rc == SQLITE_OK && tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' ||
                                       *tail == '\r' || *tail == ';'))
        tail++;
    if (rc == SQLITE_OK && tail && *tail) {
        sqlite3_finalize(st);
        snprintf(why, cap, "%s '%.100s': the sql must be one CREATE statement", type, name);
        return -1;
    }
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
        rc = SQLITE_OK;
    if (rc != SQLITE_OK)
        snprintf(why, cap, "%s '%.100s': %s", type, name, sqlite3_errmsg(o->db));
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return -1;
    o->trusted = true;
    rc = sqlite3_prepare_v2(o->db, "SELECT 1 FROM sqlite_schema WHERE type = ?1 AND name = ?2",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    o->trusted = false;
    if (rc != SQLITE_ROW)
        return snprintf(why, cap, "%s '%.100s': its sql does not create it", type, name), -1;
    return 0;
}

/* Runs `sql` (ours) once per element of `items`, binding `width` values of each
 * (elements are arrays, or `pairs` of a fixed first value). */
static int insert_rows(io_obj *o, const char *sql, const cfg_value *items, bool trusted,
                       char *why, size_t cap)
{
    sqlite3_stmt *st = NULL;
    o->trusted = trusted;
    int rc = sqlite3_prepare_v2(o->db, sql, -1, &st, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < items->count; i++) {
        const cfg_value *row = items->items[i];
        sqlval v[101];
        size_t n = 0;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        for (; n < row->count && rc == SQLITE_OK; n++) {
            if (value_read(row->items[n], &v[n], why, cap) < 0) {   /* checked before */
                rc = SQLITE_MISMATCH;
                break;
            }
            rc = bind_value(st, (int)n + 1, &v[n]);
            if (rc != SQLITE_OK)
                n++;
        }
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
            rc = SQLITE_OK;
        for (size_t j = 0; j < n; j++)
            sqlval_fini(&v[j]);
    }
    if (rc != SQLITE_OK && !why[0])
        snprintf(why, cap, "%s", sqlite3_errmsg(o->db));
    sqlite3_finalize(st);
    o->trusted = false;
    return rc == SQLITE_OK ? 0 : -1;
}

/* 1 when the object has stored data (hasStoredData's rule), 0 not, -1 error. */
static int has_data(io_obj *o)
{
    static const char *const q[] = {
        "SELECT 1 FROM sqlite_schema WHERE " USER_SCHEMA " LIMIT 1",
        "SELECT 1 FROM _cf_KV LIMIT 1",
        "SELECT 1 FROM _cf_METADATA LIMIT 1",
    };
    for (int i = 0; i < 3; i++) {
        if (i > 0 && !table_exists(o, i == 1 ? "_cf_KV" : "_cf_METADATA"))
            continue;
        sqlite3_stmt *st = NULL;
        o->trusted = true;
        int rc = sqlite3_prepare_v2(o->db, q[i], -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        sqlite3_finalize(st);
        o->trusted = false;
        if (rc == SQLITE_ROW)
            return 1;
        if (rc != SQLITE_DONE)
            return -1;
    }
    return 0;
}

/* --replace: everything goes (triggers and views first, then the tables with
 * their indexes, the hidden ones included), in the import's transaction. */
static int wipe(io_obj *o)
{
    buf drops;
    buf_init(&drops, IO_BYTES_MAX);
    sqlite3_stmt *st = NULL;
    o->trusted = true;
    int rc = sqlite3_prepare_v2(o->db, "SELECT type, name FROM sqlite_schema WHERE type IN "
                                "('trigger', 'view', 'table') AND name NOT LIKE 'sqlite\\_%' "
                                "ESCAPE '\\' ORDER BY CASE type WHEN 'trigger' THEN 0 WHEN "
                                "'view' THEN 1 ELSE 2 END", -1, &st, NULL);
    int out = 0;
    while (rc == SQLITE_OK && out == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = SQLITE_OK;
        const char *type = (const char *)sqlite3_column_text(st, 0);
        out = buf_printf(&drops, "DROP %s IF EXISTS ", type && strcmp(type, "trigger") == 0
                         ? "TRIGGER" : type && strcmp(type, "view") == 0 ? "VIEW" : "TABLE");
        out = out ?: quote_ident(&drops, (const char *)sqlite3_column_text(st, 1));
        out = out ?: buf_append_str(&drops, ";");
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE && out == 0 && table_exists(o, "sqlite_sequence"))
        out = buf_append_str(&drops, "DELETE FROM sqlite_sequence;");
    o->trusted = true;
    if (rc == SQLITE_DONE && out == 0 && drops.len)
        rc = sqlite3_exec(o->db, drops.ptr, NULL, NULL, NULL) == SQLITE_OK ? SQLITE_DONE : SQLITE_ERROR;
    o->trusted = false;
    buf_fini(&drops);
    return rc == SQLITE_DONE && out == 0 ? 0 : -1;
}

/* Writes the document into the (open, empty) database. 0, or -1 with why. */
static int doc_write(io_obj *o, const cfg_value *doc, char *why, size_t cap)
{
    const cfg_value *sql = cfg_table_get(doc, "sql");
    const cfg_value *schema = sql ? get(sql, "schema", CFG_ARRAY) : NULL;
    const cfg_value *tables = sql ? get(sql, "tables", CFG_ARRAY) : NULL;
    const cfg_value *seq = sql ? get(sql, "sequences", CFG_ARRAY) : NULL;
    /* Tables, their rows and counters, then indexes, views and triggers (which
     * must not fire on the rows being restored). */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; schema && i < schema->count; i++) {
            const char *type = get(schema->items[i], "type", CFG_STRING)->str;
            if ((strcmp(type, "table") == 0) != (pass == 0))
                continue;
            if (schema_exec(o, type, get(schema->items[i], "name", CFG_STRING)->str,
                            get(schema->items[i], "sql", CFG_STRING)->str, why, cap) < 0)
                return -1;
        }
        for (size_t i = 0; pass == 0 && tables && i < tables->count; i++) {
            const cfg_value *t = tables->items[i], *cols = get(t, "columns", CFG_ARRAY),
                            *rows = get(t, "rows", CFG_ARRAY);
            bool rowid = get(t, "rowid", CFG_BOOL)->b;
            if (!rows->count)
                continue;
            buf q;
            buf_init(&q, 256 * 1024);
            int out = buf_append_str(&q, "INSERT INTO ") ?: quote_ident(&q, get(t, "name", CFG_STRING)->str);
            out = out ?: buf_append_str(&q, rowid ? " (rowid" : " (");
            for (size_t c = 0; c < cols->count && out == 0; c++)
                out = (c || rowid ? buf_append_str(&q, ",") : 0) ?: quote_ident(&q, cols->items[c]->str);
            out = out ?: buf_append_str(&q, ") VALUES (");
            for (size_t c = 0; c < cols->count + rowid && out == 0; c++)
                out = buf_append_str(&q, c ? ",?" : "?");
            out = out ?: buf_append_str(&q, ")");
            why[0] = '\0';
            int rc = out ? (snprintf(why, cap, "out of memory"), -1)
                         : insert_rows(o, q.ptr, rows, false, why, cap);
            buf_fini(&q);
            if (rc < 0) {
                char w[600];
                snprintf(w, sizeof w, "rows of table '%.100s': %s", get(t, "name", CFG_STRING)->str, why);
                snprintf(why, cap, "%s", w);
                return -1;
            }
        }
        if (pass == 0 && seq && seq->count) {
            if (!table_exists(o, "sqlite_sequence"))
                return snprintf(why, cap, "\"sequences\" given but no table uses AUTOINCREMENT"), -1;
            o->trusted = true;
            int rc = sqlite3_exec(o->db, "DELETE FROM sqlite_sequence", NULL, NULL, NULL);
            o->trusted = false;
            why[0] = '\0';
            if (rc != SQLITE_OK || insert_rows(o, "INSERT INTO sqlite_sequence (name, seq) VALUES "
                                               "(?1, ?2)", seq, true, why, cap) < 0)
                return snprintf(why, cap, "sequences: %s", sqlite3_errmsg(o->db)), -1;
        }
    }
    const cfg_value *kv = cfg_table_get(doc, "kv"), *al = cfg_table_get(doc, "alarm");
    why[0] = '\0';
    if (kv && kv->count && (exec_trusted(o, KV_DDL) != SQLITE_OK ||
                            insert_rows(o, "INSERT INTO _cf_KV (key, value) VALUES (?1, ?2)", kv,
                                        true, why, cap) < 0))
        return why[0] ? -1 : (snprintf(why, cap, "kv: %s", sqlite3_errmsg(o->db)), -1);
    if (al && al->type == CFG_INT) {
        char q[160];
        snprintf(q, sizeof q, "INSERT INTO _cf_METADATA (key, value) VALUES (%d, %lld)",
                 META_ALARM, al->i);
        if (exec_trusted(o, META_DDL) != SQLITE_OK || exec_trusted(o, q) != SQLITE_OK)
            return snprintf(why, cap, "alarm: %s", sqlite3_errmsg(o->db)), -1;
    }
    return 0;
}

/* The alarm index of the shards (objects/persist.c, table alarms of durable.sqlite
 * in the data folder): a restarted shard schedules the alarms listed there. */
static void alarm_index(api_ctx *a, io_obj *o, const cfg_value *al)
{
    bool set = al && al->type == CFG_INT;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(a->store->db, set
        ? "INSERT INTO alarms (ns, id, time) VALUES (?1, ?2, ?3) ON CONFLICT (ns, id) DO "
          "UPDATE SET time = excluded.time"
        : "DELETE FROM alarms WHERE ns = ?1 AND id = ?2", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, o->ns.identity, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, o->hex, 64, SQLITE_STATIC);
        if (set)
            sqlite3_bind_int64(st, 3, al->i);
        rc = sqlite3_step(st);
    }
    if (rc != SQLITE_DONE && set)
        log_warn("api: import of %s: the alarm index was not updated (%s); the alarm is "
                 "scheduled when the object next runs", o->hex, sqlite3_errmsg(a->store->db));
    sqlite3_finalize(st);
}

static void unlink_db(const char *path)
{
    char p[4400];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-journal", path);
    unlink(p);
}

/* After the commit: the alarm index, the answer, and the restart of the script's
 * shards, so that an instance still in memory starts again on the imported data
 * (and its alarm is scheduled), as after a deploy. */
static void import_done(api_ctx *a, api_req *r, io_obj *o, const cfg_value *doc, bool replaced)
{
    const cfg_value *kv = cfg_table_get(doc, "kv"), *al = cfg_table_get(doc, "alarm");
    const cfg_value *sql = cfg_table_get(doc, "sql");
    const cfg_value *tables = sql ? get(sql, "tables", CFG_ARRAY) : NULL;
    size_t rows = 0;
    for (size_t i = 0; tables && i < tables->count; i++)
        rows += get(tables->items[i], "rows", CFG_ARRAY)->count;
    alarm_index(a, o, al);
    char res[512];
    int n = snprintf(res, sizeof res, "{\"id\":\"%s\",\"namespace\":\"%s\",\"replaced\":%s,"
                     "\"kv_pairs\":%zu,\"tables\":%zu,\"rows\":%zu,\"alarm\":", o->hex, o->ns.id,
                     replaced ? "true" : "false", kv ? kv->count : 0, tables ? tables->count : 0,
                     rows);
    if (al && al->type == CFG_INT)
        n += snprintf(res + n, sizeof res - (size_t)n, "%lld}", al->i);
    else
        n += snprintf(res + n, sizeof res - (size_t)n, "null}");
    api__reply(r, 200, res, (size_t)n, NULL);
    if (a->on_change)
        a->on_change(a->ud, o->ns.script);
}

static void object_import(api_ctx *a, api_req *r, io_obj *o)
{
    err e = {0};
    char why[700] = "";
    cfg_value *doc = jsonc_parse("import", r->req->body, r->req->body_len, &e);
    if (!doc)
        return api__reply_err(r, 400, 10001, "the import is not valid JSON: %s", e.msg);
    if (doc->type != CFG_TABLE || doc_check(doc, r->pointer, sizeof r->pointer, why, sizeof why) < 0) {
        if (doc->type != CFG_TABLE)
            snprintf(why, sizeof why, "the import must be a JSON object (an export document)");
        cfg_value_free(doc);
        return api__reply_err(r, 400, 10001, "malformed import for object %s, nothing was "
                              "changed: %s", o->hex, why);
    }
    const cfg_value *sql = cfg_table_get(doc, "sql");
    const cfg_value *schema = sql ? get(sql, "schema", CFG_ARRAY) : NULL;
    if (!o->ns.use_sqlite && schema && schema->count) {
        cfg_value_free(doc);
        snprintf(r->pointer, sizeof r->pointer, "/sql/schema");
        return api__reply_err(r, 400, 10001, "malformed import for object %s, nothing was "
                              "changed: namespace %s (%s) keeps its objects in KV storage, which "
                              "has no SQL tables", o->hex, o->ns.id, o->ns.name);
    }
    char replace[8] = "";
    api__query(r, "replace", replace, sizeof replace);
    struct stat st;
    bool created = stat(o->path, &st) != 0;
    if (obj_open(r, o, true) < 0) {
        if (created)
            unlink_db(o->path);
        cfg_value_free(doc);
        return;
    }
    int held = has_data(o), rc = 0;
    if (held < 0) {
        snprintf(why, sizeof why, "%s", sqlite3_errmsg(o->db));
        obj_close(o, false, NULL);
        api__reply_err(r, 500, 10000, "cannot read object %s: %s", o->hex, why);
    } else if (held && strcmp(replace, "true") != 0) {
        obj_close(o, false, NULL);
        api__reply_err(r, 409, CODE_HAS_DATA, "object %s already has stored data; nothing was "
                       "changed (replace it with `durable objects import --replace`, "
                       "?replace=true)", o->hex);
    } else if ((held && wipe(o) < 0 && (snprintf(why, sizeof why, "cannot clear it: %s",
                                                 sqlite3_errmsg(o->db)), 1)) ||
               doc_write(o, doc, why, sizeof why) < 0) {
        obj_close(o, false, NULL);
        if (created)
            unlink_db(o->path);
        api__reply_err(r, 400, 10001, "cannot import into object %s, nothing was changed: %s",
                       o->hex, why);
    } else {
        obj_close(o, true, &rc);
        if (rc != SQLITE_OK) {
            if (created)
                unlink_db(o->path);
            api__reply_err(r, 500, 10000, "cannot commit the import into object %s: %s",
                           o->hex, sqlite3_errstr(rc));
        } else {
            import_done(a, r, o, doc, held);
        }
    }
    cfg_value_free(doc);
}

/* ---- routes ---- */

void api__object_io(api_ctx *a, api_req *r, const char *ns_id, const char *hex)
{
    bool get_ = strcmp(r->req->method, "GET") == 0, put = strcmp(r->req->method, "PUT") == 0;
    if (!get_ && !put)
        return api__reply_err(r, 405, 10000, "method %s is not allowed here; use GET (export) "
                              "or PUT (import)", r->req->method);
    io_obj o;
    memset(&o, 0, sizeof o);
    if (obj_resolve(a, r, ns_id, hex, &o) < 0)
        return;
    if (get_)
        object_export(a, r, &o);
    else
        object_import(a, r, &o);
}
