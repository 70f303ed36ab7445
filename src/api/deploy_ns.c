/* deploy_ns.c: Durable Object namespaces and applied migrations in the
 * deployment store (spec API-10..14). A namespace is (script, class); its id is
 * 32 random hex digits; `name` is unique ("<script>_<class>" when a migration
 * made it, as wrangler names them). */
#include "api/internal.h"

#include <stdio.h>
#include <string.h>
#include <openssl/rand.h>

#define NS_COLS "SELECT id, name, script, class, use_sqlite, created_ms, identity FROM deploy_namespaces "

static int ns_row(deploy_store *s, sqlite3_stmt *st, deploy_ns *o, err *e)
{
    static const char *t = "deploy_namespaces";
    const char *id, *name, *script, *cls, *ident;
    int64_t sq;
    memset(o, 0, sizeof *o);
    if (deploy__col_text(s, st, 0, t, &id, e) < 0 || deploy__col_text(s, st, 1, t, &name, e) < 0 ||
        deploy__col_text(s, st, 2, t, &script, e) < 0 ||
        deploy__col_text(s, st, 3, t, &cls, e) < 0 || deploy__col_int(s, st, 4, t, &sq, e) < 0 ||
        deploy__col_int(s, st, 5, t, &o->created_ms, e) < 0 ||
        deploy__col_text(s, st, 6, t, &ident, e) < 0)
        return -1;
    if (strlen(id) != 32 || strlen(name) >= sizeof o->name || strlen(script) >= sizeof o->script ||
        strlen(cls) >= sizeof o->class_name || strlen(ident) >= sizeof o->identity || (sq != 0 && sq != 1))
        return err_setf(e, DUR_EINVAL, "%s: table deploy_namespaces holds a row durable would "
                        "not write (id '%.40s'): the file was changed by something else",
                        s->path, id), -1;
    memcpy(o->id, id, 33);
    memcpy(o->name, name, strlen(name) + 1);
    memcpy(o->script, script, strlen(script) + 1);
    memcpy(o->class_name, cls, strlen(cls) + 1);
    memcpy(o->identity, ident, strlen(ident) + 1);
    o->use_sqlite = sq == 1;
    return 0;
}

static int ns_one(deploy_store *s, const char *sql, const char *a, const char *b, deploy_ns *out,
                  err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the namespaces", e);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r;
    if (rc == SQLITE_ROW)
        r = ns_row(s, st, out, e) < 0 ? -1 : 1;
    else
        r = rc == SQLITE_DONE ? 0 : deploy__fail(s, "cannot read the namespaces", e);
    sqlite3_finalize(st);
    return r;
}

int deploy_ns_find(deploy_store *s, const char *script, const char *class_name, deploy_ns *out,
                   err *e)
{
    return ns_one(s, NS_COLS "WHERE script = ?1 AND class = ?2", script, class_name, out, e);
}

int deploy_ns_get(deploy_store *s, const char *id, deploy_ns *out, err *e)
{
    return ns_one(s, NS_COLS "WHERE id = ?1", id, NULL, out, e);
}

int deploy_ns_get_by_name(deploy_store *s, const char *name, deploy_ns *out, err *e)
{
    return ns_one(s, NS_COLS "WHERE name = ?1", name, NULL, out, e);
}

int deploy_ns_create(deploy_store *s, const char *name, const char *script,
                     const char *class_name, bool use_sqlite, deploy_ns *out, err *e)
{
    if (strlen(name) >= sizeof out->name || strlen(script) >= sizeof out->script ||
        strlen(class_name) >= sizeof out->class_name)
        return err_setf(e, DUR_EINVAL, "namespace name, script or class too long"), -1;
    uint8_t b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return err_setf(e, DUR_EINVAL, "could not draw random bytes for a namespace id"), -1;
    memset(out, 0, sizeof *out);
    api__hex(b, sizeof b, out->id);
    memcpy(out->name, name, strlen(name) + 1);
    memcpy(out->script, script, strlen(script) + 1);
    memcpy(out->class_name, class_name, strlen(class_name) + 1);
    out->use_sqlite = use_sqlite;
    out->created_ms = deploy__now_ms();
    snprintf(out->identity, sizeof out->identity, "%s/%s", script, class_name);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO deploy_namespaces VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot store the namespace", e);
    sqlite3_bind_text(st, 1, out->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, script, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, class_name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, use_sqlite);
    sqlite3_bind_int64(st, 6, out->created_ms);
    sqlite3_bind_text(st, 7, out->identity, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : deploy__fail(s, "cannot store the namespace", e);
}

static int exec3(deploy_store *s, const char *sql, const char *a, const char *b, const char *c,
                 const char *what, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, what, e);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    if (c)
        sqlite3_bind_text(st, 3, c, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : deploy__fail(s, what, e);
}

int deploy_ns_rename(deploy_store *s, const char *script, const char *from, const char *to,
                     err *e)
{
    return exec3(s, "UPDATE deploy_namespaces SET class = ?3 WHERE script = ?1 AND class = ?2",
                 script, from, to, "cannot rename the class", e);
}

int deploy_ns_move(deploy_store *s, const char *id, const char *script, const char *class_name,
                   err *e)
{
    return exec3(s, "UPDATE deploy_namespaces SET script = ?2, class = ?3 WHERE id = ?1", id,
                 script, class_name, "cannot move the namespace", e);
}

int deploy_ns_delete(deploy_store *s, const char *id, err *e)
{
    return exec3(s, "DELETE FROM deploy_namespaces WHERE id = ?1", id, NULL, NULL,
                 "cannot delete the namespace", e);
}

int deploy_ns_list(deploy_store *s, int64_t offset, int64_t limit, deploy_ns *out, size_t *n,
                   int64_t *total, err *e)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM deploy_namespaces", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return deploy__fail(s, "cannot count the namespaces", e);
    }
    *total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db, NS_COLS "ORDER BY created_ms, id LIMIT ?1 OFFSET ?2", -1, &st,
                           NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot list the namespaces", e);
    sqlite3_bind_int64(st, 1, limit);
    sqlite3_bind_int64(st, 2, offset);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < (size_t)limit) {
        if (ns_row(s, st, &out[*n], e) < 0) {
            sqlite3_finalize(st);
            return -1;
        }
        (*n)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : deploy__fail(s, "cannot list the namespaces", e);
}

int deploy_migration_record(deploy_store *s, const char *script, const char *tag, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO deploy_migrations VALUES (?1, ?2, ?3)",
                           -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot record the migration", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, deploy__now_ms());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : deploy__fail(s, "cannot record the migration", e);
}
