/* deploy_scripts.c: scripts, their versions, modules and bindings in the
 * deployment store (see deploy_store.c). A script row names its live version; a
 * deploy adds a version and moves the pointer inside one transaction, so readers
 * see the old version or the new one, never a mix. */
#include "api/internal.h"

#include <stdio.h>
#include <string.h>
#include <openssl/rand.h>

#include "base/buf.h"

bool deploy_name_valid(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > DEPLOY_NAME_MAX || n[0] == '-' || n[len - 1] == '-')
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-' ||
              n[i] == '_'))
            return false;
    return true;
}

int deploy_tx_begin(deploy_store *s, err *e)
{
    return sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK
               ? 0 : deploy__fail(s, "cannot start a transaction", e);
}

int deploy_tx_commit(deploy_store *s, err *e)
{
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    deploy__fail(s, "cannot commit", e);
    deploy_tx_rollback(s);
    return -1;
}

void deploy_tx_rollback(deploy_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int step_done(deploy_store *s, sqlite3_stmt *st, const char *what, err *e)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : deploy__fail(s, what, e);
}

static void uuid4(char out[37])
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        memset(b, 0, sizeof b);   /* the id must be unique, not secret; UNIQUE catches it */
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    char hex[33];
    api__hex(b, 16, hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

int deploy_version_add(deploy_store *s, const deploy_version_in *v, int64_t *number,
                       char id[37], err *e)
{
    int64_t now = deploy__now_ms();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO deploy_scripts VALUES (?1, ?2, ?2, "
                           "NULL, NULL)", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot store the script", e);
    sqlite3_bind_text(st, 1, v->script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now);
    if (step_done(s, st, "cannot store the script", e) < 0)
        return -1;
    /* Numbers are never reused: past the highest stored, and past the highest
     * deleted (deploy_version_delete keeps it in deploy_meta). */
    if (sqlite3_prepare_v2(s->db, "SELECT max(coalesce((SELECT max(number) FROM deploy_versions "
                           "WHERE script = ?1), 0), coalesce((SELECT CAST(value AS INTEGER) "
                           "FROM deploy_meta WHERE key = 'deleted_version:' || ?1), 0)) + 1",
                           -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot number the version", e);
    sqlite3_bind_text(st, 1, v->script, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return deploy__fail(s, "cannot number the version", e);
    }
    *number = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    uuid4(id);
    if (sqlite3_prepare_v2(s->db, "INSERT INTO deploy_versions VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                           "?7, ?8)", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot store the version", e);
    sqlite3_bind_text(st, 1, v->script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, *number);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    sqlite3_bind_text(st, 5, v->main_module, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, v->service_worker ? "service-worker" : "modules", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, v->compat_date, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, v->compat_flags_json ? v->compat_flags_json : "[]", -1,
                      SQLITE_STATIC);
    if (step_done(s, st, "cannot store the version", e) < 0)
        return -1;
    for (size_t i = 0; i < v->modules_count; i++) {
        const deploy_module *m = &v->modules[i];
        if (sqlite3_prepare_v2(s->db, "INSERT INTO deploy_modules VALUES (?1, ?2, ?3, ?4, ?5)",
                               -1, &st, NULL) != SQLITE_OK)
            return deploy__fail(s, "cannot store a module", e);
        sqlite3_bind_text(st, 1, v->script, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, *number);
        sqlite3_bind_text(st, 3, m->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, m->content_type, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, m->len ? m->data : "", (int)m->len, SQLITE_STATIC);
        if (step_done(s, st, "cannot store a module", e) < 0)
            return -1;
    }
    for (size_t i = 0; i < v->bindings_count; i++) {
        const deploy_binding *b = &v->bindings[i];
        if (sqlite3_prepare_v2(s->db, "INSERT INTO deploy_bindings VALUES (?1, ?2, ?3, ?4, ?5)",
                               -1, &st, NULL) != SQLITE_OK)
            return deploy__fail(s, "cannot store a binding", e);
        sqlite3_bind_text(st, 1, v->script, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, *number);
        sqlite3_bind_text(st, 3, b->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, b->type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, b->json, -1, SQLITE_STATIC);
        if (step_done(s, st, "cannot store a binding", e) < 0)
            return -1;
    }
    return 0;
}

int deploy_script_set_live(deploy_store *s, const char *script, int64_t number,
                           const char *tag, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "UPDATE deploy_scripts SET live_version = ?2, modified_ms = ?3, "
                           "migration_tag = CASE WHEN ?4 IS NULL THEN migration_tag ELSE ?4 END "
                           "WHERE name = ?1", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot deploy the version", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, number);
    sqlite3_bind_int64(st, 3, deploy__now_ms());
    if (tag)
        sqlite3_bind_text(st, 4, tag, -1, SQLITE_STATIC);
    return step_done(s, st, "cannot deploy the version", e);
}

static int copy_text(char *dst, size_t cap, const char *src, const deploy_store *s,
                     const char *what, err *e)
{
    if (strlen(src) >= cap)
        return err_setf(e, DUR_EINVAL, "%s: %s is longer than durable writes: the file was "
                        "changed by something else", s->path, what), -1;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

#define SCRIPT_COLS                                                                       \
    "SELECT s.name, s.created_ms, s.modified_ms, s.live_version, s.migration_tag, v.id, "  \
    "v.main_module, v.format, v.compat_date, v.compat_flags FROM deploy_scripts s "       \
    "LEFT JOIN deploy_versions v ON v.script = s.name AND v.number = s.live_version "

static int script_row(deploy_store *s, sqlite3_stmt *st, deploy_script_info *o, err *e)
{
    static const char *t = "deploy_scripts";
    const char *name, *tag, *vid, *main, *format, *date, *flags;
    memset(o, 0, sizeof *o);
    if (deploy__col_text(s, st, 0, t, &name, e) < 0 ||
        deploy__col_int(s, st, 1, t, &o->created_ms, e) < 0 ||
        deploy__col_int(s, st, 2, t, &o->modified_ms, e) < 0 ||
        deploy__col_text_or_null(s, st, 4, t, &tag, e) < 0)
        return -1;
    if (!deploy_name_valid(name))
        return err_setf(e, DUR_EINVAL, "%s: table deploy_scripts holds the name '%.80s', which "
                        "durable does not accept: the file was changed by something else",
                        s->path, name), -1;
    memcpy(o->name, name, strlen(name) + 1);
    if (tag && copy_text(o->migration_tag, sizeof o->migration_tag, tag, s, "a migration tag",
                         e) < 0)
        return -1;
    o->has_tag = tag != NULL;
    if (sqlite3_column_type(st, 3) == SQLITE_NULL)
        return 0;   /* no live version yet */
    if (deploy__col_int(s, st, 3, t, &o->live_version, e) < 0)
        return -1;
    if (sqlite3_column_type(st, 5) == SQLITE_NULL)
        return err_setf(e, DUR_EINVAL, "%s: script '%s' names live version %lld, which is not "
                        "in deploy_versions: the file was changed by something else", s->path,
                        name, (long long)o->live_version), -1;
    t = "deploy_versions";
    if (deploy__col_text(s, st, 5, t, &vid, e) < 0 ||
        deploy__col_text(s, st, 6, t, &main, e) < 0 ||
        deploy__col_text(s, st, 7, t, &format, e) < 0 ||
        deploy__col_text(s, st, 8, t, &date, e) < 0 ||
        deploy__col_text(s, st, 9, t, &flags, e) < 0 ||
        copy_text(o->version_id, sizeof o->version_id, vid, s, "a version id", e) < 0 ||
        copy_text(o->main_module, sizeof o->main_module, main, s, "a module name", e) < 0 ||
        copy_text(o->compat_date, sizeof o->compat_date, date, s, "a compatibility date", e) < 0 ||
        copy_text(o->compat_flags, sizeof o->compat_flags, flags, s, "the compatibility flags",
                  e) < 0)
        return -1;
    if (strcmp(format, "modules") != 0 && strcmp(format, "service-worker") != 0)
        return err_setf(e, DUR_EINVAL, "%s: version format '%.40s' is neither modules nor "
                        "service-worker: the file was changed by something else", s->path,
                        format), -1;
    o->service_worker = strcmp(format, "service-worker") == 0;
    return 0;
}

int deploy_script_get(deploy_store *s, const char *name, deploy_script_info *out, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, SCRIPT_COLS "WHERE s.name = ?1", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the script", e);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r;
    if (rc == SQLITE_ROW)
        r = script_row(s, st, out, e) < 0 ? -1 : 1;
    else
        r = rc == SQLITE_DONE ? 0 : deploy__fail(s, "cannot read the script", e);
    sqlite3_finalize(st);
    return r;
}

int deploy_script_list(deploy_store *s, void (*cb)(const deploy_script_info *, void *),
                       void *ud, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, SCRIPT_COLS "ORDER BY s.created_ms, s.name", -1, &st, NULL) !=
        SQLITE_OK)
        return deploy__fail(s, "cannot list the scripts", e);
    int rc;
    deploy_script_info info;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (script_row(s, st, &info, e) < 0) {
            sqlite3_finalize(st);
            return -1;
        }
        cb(&info, ud);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : deploy__fail(s, "cannot list the scripts", e);
}

int deploy_script_delete(deploy_store *s, const char *name, err *e)
{
    static const char *const sql[] = {
        "DELETE FROM deploy_modules WHERE script = ?1",
        "DELETE FROM deploy_bindings WHERE script = ?1",
        "DELETE FROM deploy_versions WHERE script = ?1",
        "DELETE FROM deploy_migrations WHERE script = ?1",
        "DELETE FROM deploy_namespaces WHERE script = ?1",
        "DELETE FROM deploy_meta WHERE key = 'deleted_version:' || ?1",
        "DELETE FROM deploy_version_migrations WHERE script = ?1",
        "DELETE FROM deploy_scripts WHERE name = ?1",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) != SQLITE_OK)
            return deploy__fail(s, "cannot delete the script", e);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (step_done(s, st, "cannot delete the script", e) < 0)
            return -1;
    }
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int deploy_version_delete(deploy_store *s, const char *script, int64_t number, err *e)
{
    static const char *const sql[] = {
        "DELETE FROM deploy_modules WHERE script = ?1 AND version = ?2",
        "DELETE FROM deploy_bindings WHERE script = ?1 AND version = ?2",
        "DELETE FROM deploy_version_migrations WHERE script = ?1 AND version = ?2",
        "INSERT INTO deploy_meta VALUES ('deleted_version:' || ?1, ?2) ON CONFLICT (key) DO "
        "UPDATE SET value = max(CAST(value AS INTEGER), ?2)",
        "DELETE FROM deploy_versions WHERE script = ?1 AND number = ?2",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) != SQLITE_OK)
            return deploy__fail(s, "cannot delete the version", e);
        sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, number);
        if (step_done(s, st, "cannot delete the version", e) < 0)
            return -1;
    }
    return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

int deploy_version_migrations_set(deploy_store *s, const char *script, int64_t number,
                                  const char *json, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, json ? "INSERT OR REPLACE INTO deploy_version_migrations "
                                         "VALUES (?1, ?2, ?3)"
                                       : "DELETE FROM deploy_version_migrations WHERE script = "
                                         "?1 AND version = ?2", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot store the migrations of a version", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, number);
    if (json)
        sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
    return step_done(s, st, "cannot store the migrations of a version", e);
}

int deploy_version_migrations_get(deploy_store *s, const char *script, int64_t number,
                                  char **json, err *e)
{
    sqlite3_stmt *st = NULL;
    *json = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT json FROM deploy_version_migrations WHERE script = ?1 "
                           "AND version = ?2", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the migrations of a version", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, number);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        const char *v;
        r = deploy__col_text(s, st, 0, "deploy_version_migrations", &v, e);
        if (r == 0 && !(*json = strdup(v)))
            r = err_setf(e, DUR_ENOMEM, "out of memory");
        r = r < 0 ? -1 : 1;
    } else if (rc != SQLITE_DONE) {
        r = deploy__fail(s, "cannot read the migrations of a version", e);
    }
    sqlite3_finalize(st);
    return r;
}

int deploy_module_get(deploy_store *s, const char *script, int64_t number, const char *name,
                      buf *out, char ct[128], err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT content_type, content FROM deploy_modules WHERE "
                           "script = ?1 AND version = ?2 AND name = ?3", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the module", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, number);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), r = 0;
    if (rc == SQLITE_ROW) {
        const char *type;
        r = deploy__col_text(s, st, 0, "deploy_modules", &type, e);
        if (r == 0 && sqlite3_column_type(st, 1) != SQLITE_BLOB)
            r = err_setf(e, DUR_EINVAL, "%s: module '%s' of script '%s' is not stored as bytes: "
                         "the file was changed by something else", s->path, name, script);
        if (r == 0)
            r = copy_text(ct, 128, type, s, "a content type", e);
        if (r == 0 && buf_append(out, sqlite3_column_blob(st, 1),
                                 (size_t)sqlite3_column_bytes(st, 1)) < 0)
            r = err_setf(e, DUR_ETOOBIG, "module '%s' is too large to read", name);
        r = r < 0 ? -1 : 1;
    } else if (rc != SQLITE_DONE) {
        r = deploy__fail(s, "cannot read the module", e);
    }
    sqlite3_finalize(st);
    return r;
}

int deploy_module_each(deploy_store *s, const char *script, int64_t number,
                       int (*cb)(const deploy_module *m, void *ud), void *ud, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT name, content_type, content FROM deploy_modules WHERE "
                           "script = ?1 AND version = ?2 ORDER BY name", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the modules", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, number);
    int rc = SQLITE_DONE, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        deploy_module m = {0};
        if (deploy__col_text(s, st, 0, "deploy_modules", &m.name, e) < 0 ||
            deploy__col_text(s, st, 1, "deploy_modules", &m.content_type, e) < 0) {
            r = -1;
            break;
        }
        if (sqlite3_column_type(st, 2) != SQLITE_BLOB) {
            r = err_setf(e, DUR_EINVAL, "%s: module '%s' of script '%s' is not stored as bytes: "
                         "the file was changed by something else", s->path, m.name, script);
            break;
        }
        m.data = sqlite3_column_blob(st, 2);
        m.len = (size_t)sqlite3_column_bytes(st, 2);
        r = cb(&m, ud);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = deploy__fail(s, "cannot read the modules", e);
    sqlite3_finalize(st);
    return r;
}

int deploy_binding_each(deploy_store *s, const char *script, int64_t number,
                        int (*cb)(const deploy_binding *b, void *ud), void *ud, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT name, type, json FROM deploy_bindings WHERE "
                           "script = ?1 AND version = ?2 ORDER BY name", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the bindings", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, number);
    int rc = SQLITE_DONE, r = 0;
    while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        deploy_binding b = {0};
        if (deploy__col_text(s, st, 0, "deploy_bindings", &b.name, e) < 0 ||
            deploy__col_text(s, st, 1, "deploy_bindings", &b.type, e) < 0 ||
            deploy__col_text(s, st, 2, "deploy_bindings", &b.json, e) < 0) {
            r = -1;
            break;
        }
        r = cb(&b, ud);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = deploy__fail(s, "cannot read the bindings", e);
    sqlite3_finalize(st);
    return r;
}

int deploy_script_create(deploy_store *s, const char *name, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "INSERT INTO deploy_scripts VALUES (?1, ?2, ?2, NULL, NULL)",
                           -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot store the script", e);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, deploy__now_ms());
    return step_done(s, st, "cannot store the script", e);
}

static int version_row(deploy_store *s, sqlite3_stmt *st, deploy_version_info *o, err *e)
{
    static const char *t = "deploy_versions";
    const char *id, *main, *date, *flags;
    memset(o, 0, sizeof *o);
    if (deploy__col_int(s, st, 0, t, &o->number, e) < 0 ||
        deploy__col_text(s, st, 1, t, &id, e) < 0 ||
        deploy__col_int(s, st, 2, t, &o->created_ms, e) < 0 ||
        deploy__col_text(s, st, 3, t, &main, e) < 0 ||
        deploy__col_text(s, st, 4, t, &date, e) < 0 ||
        deploy__col_text(s, st, 5, t, &flags, e) < 0 ||
        copy_text(o->id, sizeof o->id, id, s, "a version id", e) < 0 ||
        copy_text(o->main_module, sizeof o->main_module, main, s, "a module name", e) < 0 ||
        copy_text(o->compat_date, sizeof o->compat_date, date, s, "a compatibility date", e) < 0 ||
        copy_text(o->compat_flags, sizeof o->compat_flags, flags, s, "the compatibility flags",
                  e) < 0)
        return -1;
    return 0;
}

#define VERSION_COLS "SELECT number, id, created_ms, main_module, compat_date, compat_flags " \
                     "FROM deploy_versions "

int deploy_version_get(deploy_store *s, const char *script, int64_t number, const char *id,
                       deploy_version_info *out, err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, id ? VERSION_COLS "WHERE script = ?1 AND id = ?3"
                                     : VERSION_COLS "WHERE script = ?1 AND number = ?2",
                           -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot read the version", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    if (id)
        sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, number);
    int rc = sqlite3_step(st), r;
    if (rc == SQLITE_ROW)
        r = version_row(s, st, out, e) < 0 ? -1 : 1;
    else
        r = rc == SQLITE_DONE ? 0 : deploy__fail(s, "cannot read the version", e);
    sqlite3_finalize(st);
    return r;
}

int deploy_version_list(deploy_store *s, const char *script, int64_t offset, int64_t limit,
                        deploy_version_info *out, size_t *n, int64_t *total, err *e)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM deploy_versions WHERE script = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot count the versions", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return deploy__fail(s, "cannot count the versions", e);
    }
    *total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(s->db, VERSION_COLS "WHERE script = ?1 ORDER BY number DESC "
                           "LIMIT ?2 OFFSET ?3", -1, &st, NULL) != SQLITE_OK)
        return deploy__fail(s, "cannot list the versions", e);
    sqlite3_bind_text(st, 1, script, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < (size_t)limit) {
        if (version_row(s, st, &out[*n], e) < 0) {
            sqlite3_finalize(st);
            return -1;
        }
        (*n)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : deploy__fail(s, "cannot list the versions", e);
}
