/* upload.c: PUT /accounts/{a}/workers/scripts/{name} (spec API-30..35): a
 * multipart form with a `metadata` part and module parts; migrations (API-34)
 * and bindings (API-33) are checked and applied with the new version in one
 * transaction, so a deploy takes over whole or not at all. A version stored
 * without going live keeps its migrations (tried, then undone, at upload) until
 * api__version_deploy applies them.
 *
 * Before the commit, the modules are loaded once through api_ctx.check (durable
 * serve loads them in a throw-away runtime, bounded like a request): a module
 * that does not parse or throws at load, or a Durable Object class that the main
 * module does not export, refuses the upload and nothing changes. */
#include "api/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/fs.h"
#include "base/log.h"

void api__sha256(const void *p, size_t n, unsigned char out[32])
{
    SHA256(p, n, out);
}

cfg_value *api__json_body(api_req *r)
{
    err e = {0};
    cfg_value *v = jsonc_parse("body", r->req->body, r->req->body_len, &e);
    if (!v) {
        api__reply_err(r, 400, 10001, "the body is not valid JSON: %s", e.msg);
        return NULL;
    }
    if (v->type != CFG_TABLE) {
        cfg_value_free(v);
        api__reply_err(r, 400, 10001, "the body must be a JSON object");
        return NULL;
    }
    return v;
}

enum { MOD_ESM, MOD_SCRIPT, MOD_OTHER };

/* The module kind of a part's content type (parameters ignored), or -1. */
static int module_kind(const char *ct)
{
    static const struct { const char *type; int kind; } types[] = {
        {"application/javascript+module", MOD_ESM}, {"text/javascript+module", MOD_ESM},
        {"application/javascript", MOD_SCRIPT},     {"text/javascript", MOD_SCRIPT},
        {"text/plain", MOD_OTHER},                  {"application/octet-stream", MOD_OTHER},
        {"application/json", MOD_OTHER},            {"application/wasm", MOD_OTHER},
        {"application/source-map", MOD_OTHER},
    };
    size_t len = strcspn(ct, "; \t");
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].type) == len && strncasecmp(ct, types[i].type, len) == 0)
            return types[i].kind;
    return -1;
}

typedef struct upload {
    api_ctx *a;
    api_req *r;
    const char *script;
    cfg_value *meta;
    api_part *parts;
    size_t parts_count;
    deploy_module *mods;
    size_t mods_count;
    deploy_binding *binds;
    char **bind_json;
    size_t binds_count;
    char *flags_json;
    const char *new_tag;
    char deleted[64][DEPLOY_NAME_MAX + 258];   /* identities whose data goes after commit */
    size_t deleted_count;
} upload;

static const char *str_of(const cfg_value *t, const char *key)
{
    const cfg_value *v = t ? cfg_table_get(t, key) : NULL;
    return v && v->type == CFG_STRING ? v->str : NULL;
}

/* 400 10021 with a pointer; returns -1. */
static int bad(upload *u, int code, const char *pointer, const char *msg)
{
    snprintf(u->r->pointer, sizeof u->r->pointer, "%s", pointer ? pointer : "");
    api__reply_err(u->r, 400, code, "%s", msg);
    return -1;
}

static int read_modules(upload *u, const char *main, bool sw)
{
    char msg[600];
    u->mods = calloc(u->parts_count, sizeof *u->mods);
    if (!u->mods)
        return bad(u, 10021, NULL, "out of memory");
    bool main_found = false;
    for (size_t i = 0; i < u->parts_count; i++) {
        api_part *p = &u->parts[i];
        if (strcmp(p->name, "metadata") == 0 || api__is_flat_meta(p->name))
            continue;
        /* A module is named by its filename, else its field name; but body_part
         * names the field (Cloudflare's service-worker form: -F script=@w.js). */
        const char *name = sw && strcmp(p->name, main) == 0 ? p->name
                           : p->filename[0]                 ? p->filename
                                                            : p->name;
        if (!deploy_module_name_valid(name)) {
            snprintf(msg, sizeof msg, "module name '%.80s' is not a relative path inside the "
                     "Worker (no '..', '.', empty segments, leading '/' or backslashes)", name);
            return bad(u, 10021, NULL, msg);
        }
        for (size_t j = 0; j < u->mods_count; j++)
            if (strcmp(u->mods[j].name, name) == 0) {
                snprintf(msg, sizeof msg, "module '%s' is uploaded twice", name);
                return bad(u, 10021, NULL, msg);
            }
        int kind = module_kind(p->content_type);
        if (kind < 0) {
            snprintf(msg, sizeof msg, "part '%s' has the content type '%s', which is not a "
                     "module type (application/javascript+module, application/javascript, "
                     "text/plain, application/octet-stream, application/json, application/wasm "
                     "or application/source-map)", name, p->content_type[0] ? p->content_type
                                                                            : "(none)");
            return bad(u, 10021, NULL, msg);
        }
        if (strcmp(name, main) == 0) {
            main_found = true;
            if (kind != (sw ? MOD_SCRIPT : MOD_ESM)) {
                snprintf(msg, sizeof msg, "%s '%s' must be %s, but its part has the content "
                         "type '%s'", sw ? "body_part" : "main_module", main,
                         sw ? "a script (application/javascript)"
                            : "an ES module (application/javascript+module)", p->content_type);
                return bad(u, 10021, sw ? "/metadata/body_part" : "/metadata/main_module", msg);
            }
        }
        deploy_module *m = &u->mods[u->mods_count++];
        m->name = name;
        m->content_type = p->content_type;
        m->data = p->data;
        m->len = p->data_len;
    }
    if (!main_found) {
        snprintf(msg, sizeof msg, "%s '%s' names no uploaded part", sw ? "body_part" : "main_module",
                 main);
        return bad(u, 10021, sw ? "/metadata/body_part" : "/metadata/main_module", msg);
    }
    return 0;
}

static int read_bindings(upload *u)
{
    char msg[600], ptr[64];
    const cfg_value *bs = cfg_table_get(u->meta, "bindings");
    if (!bs)
        return 0;
    if (bs->type != CFG_ARRAY)
        return bad(u, 10021, "/metadata/bindings", "bindings must be an array");
    u->binds = calloc(bs->count + 1, sizeof *u->binds);
    u->bind_json = calloc(bs->count + 1, sizeof *u->bind_json);
    if (!u->binds || !u->bind_json)
        return bad(u, 10021, NULL, "out of memory");
    for (size_t i = 0; i < bs->count; i++) {
        const cfg_value *b = bs->items[i];
        snprintf(ptr, sizeof ptr, "/metadata/bindings/%zu", i);
        const char *type = b->type == CFG_TABLE ? str_of(b, "type") : NULL;
        const char *name = b->type == CFG_TABLE ? str_of(b, "name") : NULL;
        if (!type || !name || !name[0])
            return bad(u, 10021, ptr, "a binding is an object with string 'type' and 'name'");
        for (size_t j = 0; j < u->binds_count; j++)
            if (strcmp(u->binds[j].name, name) == 0) {
                snprintf(msg, sizeof msg, "binding name '%s' is used twice", name);
                return bad(u, 10021, ptr, msg);
            }
        if (strcmp(type, "durable_object_namespace") == 0) {
            if (!str_of(b, "class_name") && !str_of(b, "namespace_id")) {
                snprintf(msg, sizeof msg, "binding '%s': a durable_object_namespace binding "
                         "needs class_name (or namespace_id)", name);
                return bad(u, 10021, ptr, msg);
            }
        } else if (strcmp(type, "plain_text") == 0 || strcmp(type, "secret_text") == 0) {
            if (!str_of(b, "text")) {
                snprintf(msg, sizeof msg, "binding '%s': a %s binding needs a string 'text'",
                         name, type);
                return bad(u, 10021, ptr, msg);
            }
        } else if (strcmp(type, "json") == 0) {
            if (!cfg_table_get(b, "json")) {
                snprintf(msg, sizeof msg, "binding '%s': a json binding needs 'json'", name);
                return bad(u, 10021, ptr, msg);
            }
        } else {
            snprintf(msg, sizeof msg, "binding '%s' has the type '%.60s', which durable does not "
                     "support (durable_object_namespace, plain_text, secret_text, json)", name,
                     type);
            return bad(u, 10021, ptr, msg);
        }
        u->bind_json[i] = cfg_value_to_json(b);
        if (!u->bind_json[i])
            return bad(u, 10021, NULL, "out of memory");
        u->binds[u->binds_count++] = (deploy_binding){name, type, u->bind_json[i]};
    }
    return 0;
}

/* A string array at key of step, or NULL/empty; -1 (answered) when not one. */
static int str_array(upload *u, const cfg_value *step, const char *key, const cfg_value **out)
{
    *out = cfg_table_get(step, key);
    if (!*out)
        return 0;
    bool ok = (*out)->type == CFG_ARRAY;
    for (size_t i = 0; ok && i < (*out)->count; i++)
        ok = (*out)->items[i]->type == CFG_STRING;
    if (!ok) {
        char msg[200];
        snprintf(msg, sizeof msg, "migrations: '%s' must be an array of class names", key);
        return bad(u, 10021, "/metadata/migrations", msg);
    }
    return 0;
}

/* Scripts whose live version binds class `cls` of script `owner` by class name
 * (a binding by namespace_id follows the namespace wherever it goes). */
typedef struct binder {
    deploy_store *store;
    const char *owner, *cls, *self;
    char found[600];
} binder;

typedef struct binder_script {
    binder *b;
    const char *script;
} binder_script;

static int on_bind_check(const deploy_binding *db, void *ud)
{
    binder_script *x = ud;
    if (x->b->found[0] || strcmp(db->type, "durable_object_namespace") != 0)
        return 0;
    err pe = {0};
    cfg_value *v = jsonc_parse("binding", db->json, strlen(db->json), &pe);
    const char *cls = str_of(v, "class_name"), *sn = str_of(v, "script_name");
    if (cls && !str_of(v, "namespace_id") && strcmp(cls, x->b->cls) == 0 &&
        strcmp(sn ? sn : x->script, x->b->owner) == 0)
        snprintf(x->b->found, sizeof x->b->found, "script '%s' binds it (binding '%s')",
                 x->script, db->name);
    cfg_value_free(v);
    return 0;
}

static void on_binder_script(const deploy_script_info *si, void *ud)
{
    binder *b = ud;
    if (b->found[0] || !si->live_version || strcmp(si->name, b->self) == 0)
        return;
    binder_script x = {b, si->name};
    err e = {0};
    if (deploy_binding_each(b->store, si->name, si->live_version, on_bind_check, &x, &e) < 0)
        snprintf(b->found, sizeof b->found, "the bindings of script '%s' cannot be read: %.300s",
                 si->name, e.msg);
}

/* MIG-5: transferred_classes [{from, from_script, to}] moves the namespace of class
 * `from` of script `from_script` to class `to` of this script; its ids, data and
 * alarms stay (they are keyed to the namespace's identity). Refused: a source that
 * is this script (that is renamed_classes), a source without that namespace, a
 * `to` that has one already, and a source still bound by class name elsewhere
 * (it would reach nothing after the move). */
static int apply_transfers(upload *u, const cfg_value *tr)
{
    char msg[900];
    err e = {0};
    deploy_ns ns, other;
    if (!tr)
        return 0;
    if (tr->type != CFG_ARRAY)
        return bad(u, 10021, "/metadata/migrations", "migrations: transferred_classes must be "
                   "an array of {from, from_script, to}");
    for (size_t i = 0; i < tr->count; i++) {
        const cfg_value *t = tr->items[i];
        const char *from = t->type == CFG_TABLE ? str_of(t, "from") : NULL;
        const char *fs = t->type == CFG_TABLE ? str_of(t, "from_script") : NULL;
        const char *to = t->type == CFG_TABLE ? str_of(t, "to") : NULL;
        if (!from || !fs || !to)
            return bad(u, 10021, "/metadata/migrations", "migrations: transferred_classes must "
                       "be an array of {from, from_script, to}");
        if (strcmp(fs, u->script) == 0) {
            snprintf(msg, sizeof msg, "migrations: cannot transfer class '%s' from script '%s' "
                     "to itself: use renamed_classes", from, fs);
            return bad(u, 10061, "/metadata/migrations", msg);
        }
        int got = deploy_ns_find(u->a->store, fs, from, &ns, &e);
        int got_to = got < 0 ? 0 : deploy_ns_find(u->a->store, u->script, to, &other, &e);
        if (got < 0 || got_to < 0)
            return api__store_error(u->r, &e), -1;
        if (!got || got_to) {
            snprintf(msg, sizeof msg, "migrations: cannot transfer class '%s' of script '%s' to "
                     "'%s': %s", from, fs, to, !got ? "that script has no namespace for it"
                     : "this script has a namespace for the target class already");
            return bad(u, 10061, "/metadata/migrations", msg);
        }
        binder b = {.store = u->a->store, .owner = fs, .cls = from, .self = u->script};
        if (deploy_script_list(u->a->store, on_binder_script, &b, &e) < 0)
            return api__store_error(u->r, &e), -1;
        if (b.found[0]) {
            snprintf(msg, sizeof msg, "migrations: cannot transfer class '%s' of script '%s': "
                     "%s; deploy it without that binding first (or bind with script_name '%s' "
                     "and class_name '%s' after the move)", from, fs, b.found, u->script, to);
            return bad(u, 10061, "/metadata/migrations", msg);
        }
        if (deploy_ns_move(u->a->store, ns.id, u->script, to, &e) < 0)
            return api__store_error(u->r, &e), -1;
    }
    return 0;
}

/* A new class whose identity ("<script>/<class>") a namespace still has (it was
 * transferred away): the two would share ids and data. 1 (answered), 0, -1. */
static int identity_taken(upload *u, const char *cls)
{
    char ident[DEPLOY_NAME_MAX + 258], msg[900];
    snprintf(ident, sizeof ident, "%s/%s", u->script, cls);
    err e = {0};
    deploy_ns *all = calloc(1000, sizeof *all);
    size_t n = 0;
    int64_t total;
    if (!all)
        return bad(u, 10021, NULL, "out of memory");
    if (deploy_ns_list(u->a->store, 0, 1000, all, &n, &total, &e) < 0) {
        free(all);
        return api__store_error(u->r, &e), -1;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].identity, ident) == 0) {
            snprintf(msg, sizeof msg, "migrations: class '%s' was transferred to script '%s' "
                     "(namespace %s), which keeps its ids and data; give the new class another "
                     "name", cls, all[i].script, all[i].id);
            free(all);
            return bad(u, 10061, "/metadata/migrations", msg);
        }
    free(all);
    return 0;
}

/* One migration step (MIG-7 order: deletes, renames, then new classes). */
static int apply_step(upload *u, const cfg_value *step)
{
    char msg[700];
    err e = {0};
    deploy_ns ns;
    static const char *known[] = {"new_classes", "new_sqlite_classes", "renamed_classes",
                                  "deleted_classes", "transferred_classes", "old_tag", "new_tag",
                                  "steps"};
    for (size_t i = 0; i < step->count; i++) {
        bool ok = false;
        for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
            ok = ok || strcmp(step->keys[i], known[k]) == 0;
        if (!ok) {
            snprintf(msg, sizeof msg, "migrations: unknown key '%.60s'", step->keys[i]);
            return bad(u, 10021, "/metadata/migrations", msg);
        }
    }
    const cfg_value *del, *nc, *nsc;
    if (str_array(u, step, "deleted_classes", &del) < 0 ||
        str_array(u, step, "new_classes", &nc) < 0 ||
        str_array(u, step, "new_sqlite_classes", &nsc) < 0)
        return -1;
    for (size_t i = 0; del && i < del->count; i++) {
        const char *c = del->items[i]->str;
        int got = deploy_ns_find(u->a->store, u->script, c, &ns, &e);
        if (got < 0)
            return api__store_error(u->r, &e), -1;
        if (got == 0) {
            snprintf(msg, sizeof msg, "migrations: cannot delete class '%s': it has no namespace",
                     c);
            return bad(u, 10061, "/metadata/migrations", msg);
        }
        if (u->deleted_count == 64)
            return bad(u, 10061, "/metadata/migrations", "migrations: at most 64 deleted "
                       "classes per upload");
        memcpy(u->deleted[u->deleted_count++], ns.identity, sizeof ns.identity);
        if (deploy_ns_delete(u->a->store, ns.id, &e) < 0)
            return api__store_error(u->r, &e), -1;
    }
    const cfg_value *ren = cfg_table_get(step, "renamed_classes");
    if (ren && ren->type != CFG_ARRAY)
        return bad(u, 10021, "/metadata/migrations", "migrations: renamed_classes must be an "
                   "array of {from, to}");
    for (size_t i = 0; ren && i < ren->count; i++) {
        const char *from = str_of(ren->items[i], "from"), *to = str_of(ren->items[i], "to");
        if (ren->items[i]->type != CFG_TABLE || !from || !to)
            return bad(u, 10021, "/metadata/migrations", "migrations: renamed_classes must be "
                       "an array of {from, to}");
        int got = deploy_ns_find(u->a->store, u->script, from, &ns, &e);
        int got_to = got < 0 ? 0 : deploy_ns_find(u->a->store, u->script, to, &ns, &e);
        if (got < 0 || got_to < 0)
            return api__store_error(u->r, &e), -1;
        if (!got || got_to) {
            snprintf(msg, sizeof msg, "migrations: cannot rename class '%s' to '%s': %s", from,
                     to, !got ? "the first has no namespace" : "the second has one already");
            return bad(u, 10061, "/metadata/migrations", msg);
        }
        if (deploy_ns_rename(u->a->store, u->script, from, to, &e) < 0)
            return api__store_error(u->r, &e), -1;
    }
    if (apply_transfers(u, cfg_table_get(step, "transferred_classes")) < 0)
        return -1;
    for (int pass = 0; pass < 2; pass++) {
        const cfg_value *list = pass ? nsc : nc;
        for (size_t i = 0; list && i < list->count; i++) {
            const char *c = list->items[i]->str;
            int got = deploy_ns_find(u->a->store, u->script, c, &ns, &e);
            if (got < 0)
                return api__store_error(u->r, &e), -1;
            if (got) {
                snprintf(msg, sizeof msg, "migrations: class '%s' already has a namespace (%s)",
                         c, ns.id);
                return bad(u, 10061, "/metadata/migrations", msg);
            }
            if (identity_taken(u, c) != 0)
                return -1;
            char name[400];
            snprintf(name, sizeof name, "%s_%s", u->script, c);
            got = deploy_ns_get_by_name(u->a->store, name, &ns, &e);
            if (got < 0)
                return api__store_error(u->r, &e), -1;
            if (got) {
                snprintf(msg, sizeof msg, "migrations: a namespace named '%s' exists already",
                         name);
                return bad(u, 10065, "/metadata/migrations", msg);
            }
            if (deploy_ns_create(u->a->store, name, u->script, c, pass == 1, &ns, &e) < 0)
                return api__store_error(u->r, &e), -1;
        }
    }
    return 0;
}

static int apply_migrations(upload *u, const deploy_script_info *cur, bool exists)
{
    const cfg_value *m = cfg_table_get(u->meta, "migrations");
    if (!m)
        return 0;
    if (m->type != CFG_TABLE)
        return bad(u, 10021, "/metadata/migrations", "migrations must be an object");
    const cfg_value *old = cfg_table_get(m, "old_tag"), *nt = cfg_table_get(m, "new_tag");
    if ((old && old->type != CFG_STRING) || (nt && nt->type != CFG_STRING))
        return bad(u, 10021, "/metadata/migrations", "old_tag and new_tag must be strings");
    bool has_tag = exists && cur->has_tag;
    if (old && (!has_tag || strcmp(old->str, cur->migration_tag) != 0)) {
        char msg[700];
        snprintf(msg, sizeof msg, "migration precondition failed: old_tag is '%s' but the "
                 "script's current migration tag is %s%s%s", old->str, has_tag ? "'" : "",
                 has_tag ? cur->migration_tag : "(none)", has_tag ? "'" : "");
        return bad(u, 10079, "/metadata/migrations/old_tag", msg);
    }
    u->new_tag = nt ? nt->str : NULL;
    const cfg_value *steps = cfg_table_get(m, "steps");
    if (!steps)
        return apply_step(u, m);
    if (steps->type != CFG_ARRAY)
        return bad(u, 10021, "/metadata/migrations/steps", "steps must be an array");
    for (size_t i = 0; i < steps->count; i++) {
        if (steps->items[i]->type != CFG_TABLE)
            return bad(u, 10021, "/metadata/migrations/steps", "each step must be an object");
        if (apply_step(u, steps->items[i]) < 0)
            return -1;
    }
    return 0;
}

/* MIG-10: every Durable Object binding names a namespace that exists after the
 * migrations of this upload. */
static int check_do_bindings(upload *u)
{
    const cfg_value *bs = cfg_table_get(u->meta, "bindings");
    char msg[700], ptr[64];
    err e = {0};
    deploy_ns ns;
    for (size_t i = 0; bs && i < bs->count; i++) {
        const cfg_value *b = bs->items[i];
        if (strcmp(str_of(b, "type"), "durable_object_namespace") != 0)
            continue;
        snprintf(ptr, sizeof ptr, "/metadata/bindings/%zu", i);
        const char *id = str_of(b, "namespace_id"), *cls = str_of(b, "class_name");
        const char *script = str_of(b, "script_name");
        int got = id ? deploy_ns_get(u->a->store, id, &ns, &e)
                     : deploy_ns_find(u->a->store, script ? script : u->script, cls, &ns, &e);
        if (got < 0)
            return api__store_error(u->r, &e), -1;
        if (got == 0) {
            if (id)
                snprintf(msg, sizeof msg, "binding '%s': namespace %s does not exist",
                         str_of(b, "name"), id);
            else
                snprintf(msg, sizeof msg, "binding '%s': class '%s' of script '%s' is not a "
                         "Durable Object class: no migration created a namespace for it (add "
                         "it to new_sqlite_classes or new_classes)", str_of(b, "name"), cls,
                         script ? script : u->script);
            return bad(u, 10061, ptr, msg);
        }
    }
    return 0;
}

/* API-35: the modules load and export every class that has a namespace of this
 * script after the migrations (inside the transaction: the store shows them). */
static int check_load(upload *u, const char *main, bool sw)
{
    api_ctx *a = u->a;
    if (!a->check)
        return 0;
    err e = {0};
    int64_t total = 0;
    size_t n = 0;
    deploy_ns *all = calloc(1000, sizeof *all);
    const char **classes = calloc(1001, sizeof *classes);
    if (!all || !classes || deploy_ns_list(a->store, 0, 1000, all, &n, &total, &e) < 0) {
        free(all);
        free(classes);
        return e.msg[0] ? (api__store_error(u->r, &e), -1) : bad(u, 10021, NULL, "out of memory");
    }
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].script, u->script) == 0)
            classes[nc++] = all[i].class_name;
    char dir[4096], main_path[4400], msg[1200] = "";
    int rc = 0, code = 10021;
    bool made = false;
    snprintf(dir, sizeof dir, "%s/scripts", a->data_dir);
    if (fs_mkdir_p(dir, &e) < 0) {
        rc = -1;
    } else {
        snprintf(dir, sizeof dir, "%s/scripts/.check-XXXXXX", a->data_dir);
        made = mkdtemp(dir) != NULL;
        if (!made)
            rc = err_setf(&e, DUR_EINVAL, "cannot make a folder to check the upload in: %s",
                          strerror(errno));
    }
    if (rc == 0 && api__modules_write(dir, u->mods, u->mods_count, &e) < 0)
        rc = -1;
    if (rc < 0) {
        err re = {0};
        if (made)
            fs_rm_rf(dir, &re);
        free(all);
        free(classes);
        return bad(u, 10021, NULL, e.msg);
    }
    snprintf(main_path, sizeof main_path, "%s/%s", dir, main);
    const char *date = str_of(u->meta, "compatibility_date");
    api_check_in in = {
        .script = u->script, .dir = dir, .main = main_path, .service_worker = sw,
        .compat_date = date ? date : "2021-11-02", .classes = classes, .classes_count = nc,
    };
    const cfg_value *cflags = cfg_table_get(u->meta, "compatibility_flags");
    for (size_t i = 0; cflags && cflags->type == CFG_ARRAY && i < cflags->count; i++)
        if (cflags->items[i]->type == CFG_STRING &&
            strcmp(cflags->items[i]->str, "nodejs_compat") == 0)
            in.nodejs_compat = true;
    rc = a->check(a->check_ud, &in, &code, msg, sizeof msg);
    err re = {0};
    if (fs_rm_rf(dir, &re) < 0)
        log_warn("api: removing %s: %s", dir, re.msg);
    free(all);
    free(classes);
    if (rc < 0)
        return bad(u, code, code == 10061 ? "/metadata/migrations" : "/metadata/main_module",
                   msg);
    return 0;
}

static void upload_fini(upload *u)
{
    cfg_value_free(u->meta);
    free(u->parts);
    free(u->mods);
    free(u->binds);
    for (size_t i = 0; u->bind_json && u->bind_json[i]; i++)
        free(u->bind_json[i]);
    free(u->bind_json);
    free(u->flags_json);
}

static const char *content_type(const h1_request *req)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, "Content-Type") == 0)
            return req->headers[i].value;
    return NULL;
}

/* Everything up to the transaction: parse and check the form. */
static int upload_read(upload *u, const char **main, bool *sw)
{
    err e = {0};
    char msg[700];
    u->parts = calloc(API_PARTS_MAX, sizeof *u->parts);
    if (!u->parts)
        return bad(u, 10021, NULL, "out of memory");
    /* SDK 7.x sends a multipart body under Content-Type: application/javascript
     * (cloudflare-typescript #2799): a body that opens with a delimiter line is
     * read with that boundary. */
    const char *ct = content_type(u->r->req);
    char sniffed[API_BOUNDARY_MAX + 64];
    const char *body = u->r->req->body;
    size_t blen = u->r->req->body_len;
    if ((!ct || strncasecmp(ct, "multipart/", 10) != 0) && blen > 4 && body[0] == '-' &&
        body[1] == '-') {
        size_t n = strcspn(body + 2, "\r\n");
        if (n >= 1 && n <= API_BOUNDARY_MAX && strspn(body + 2, "-'()+_,./:=?0123456789"
                                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                                     "opqrstuvwxyz") >= n) {
            snprintf(sniffed, sizeof sniffed, "multipart/form-data; boundary=%.*s", (int)n,
                     body + 2);
            ct = sniffed;
        }
    }
    if (api_multipart_parse(ct, body, blen, u->parts, API_PARTS_MAX, &u->parts_count, &e) < 0)
        return bad(u, 10021, NULL, e.msg);
    const api_part *meta = NULL;
    bool flat = false;
    for (size_t i = 0; i < u->parts_count; i++) {
        if (strcmp(u->parts[i].name, "metadata") == 0)
            meta = &u->parts[i];
        flat = flat || api__is_flat_meta(u->parts[i].name);
    }
    if (!meta && flat) {
        char *json = api__flat_meta_json(u->parts, u->parts_count, &e);
        if (!json)
            return bad(u, 10021, "/metadata", e.msg);
        u->meta = jsonc_parse("metadata", json, strlen(json), &e);
        free(json);
    } else if (!meta) {
        return bad(u, 10021, "/metadata", "could not read content for part metadata: the form "
                   "has no part named 'metadata'");
    } else {
        u->meta = jsonc_parse("metadata", meta->data, meta->data_len, &e);
    }
    if (!u->meta || u->meta->type != CFG_TABLE) {
        snprintf(msg, sizeof msg, "could not read content for part metadata: %s",
                 u->meta ? "it is not a JSON object" : e.msg);
        return bad(u, 10021, "/metadata", msg);
    }
    const char *mm = str_of(u->meta, "main_module"), *bp = str_of(u->meta, "body_part");
    if (!mm == !bp)
        return bad(u, 10021, "/metadata", "metadata needs exactly one of main_module (modules) "
                   "and body_part (service worker)");
    *main = mm ? mm : bp;
    *sw = bp != NULL;
    const cfg_value *flags = cfg_table_get(u->meta, "compatibility_flags");
    const char *date = str_of(u->meta, "compatibility_date");
    if (cfg_table_get(u->meta, "compatibility_date") &&
        (!date || strlen(date) != 10 || date[4] != '-' || date[7] != '-'))
        return bad(u, 10021, "/metadata/compatibility_date", "compatibility_date must be a "
                   "YYYY-MM-DD string");
    if (flags) {
        bool ok = flags->type == CFG_ARRAY;
        for (size_t i = 0; ok && i < flags->count; i++)
            ok = flags->items[i]->type == CFG_STRING;
        if (!ok)
            return bad(u, 10021, "/metadata/compatibility_flags", "compatibility_flags must be "
                       "an array of strings");
        u->flags_json = cfg_value_to_json(flags);
        if (!u->flags_json || strlen(u->flags_json) >= 1024)
            return bad(u, 10021, "/metadata/compatibility_flags", "compatibility_flags too long");
    }
    return read_modules(u, *main, *sw) < 0 || read_bindings(u) < 0 ? -1 : 0;
}

/* The transaction of a deploy: migrations (when the version goes live), bindings
 * checked, the version stored and, if `live`, made live. Returns 0, or -1 after
 * answering (and rolling back). */
static int upload_commit(upload *u, const char *main, bool sw, bool live, int64_t *number,
                         char vid[37])
{
    api_ctx *a = u->a;
    err e = {0};
    deploy_script_info cur;
    if (deploy_tx_begin(a->store, &e) < 0)
        return api__store_error(u->r, &e), -1;
    int exists = deploy_script_get(a->store, u->script, &cur, &e);
    if (exists < 0) {
        api__store_error(u->r, &e);
        goto fail;
    }
    /* A stored version's migrations are kept with it and applied when it goes
     * live (api__version_deploy); here they are tried against the current state
     * inside a savepoint (so its bindings and classes are checked as after them)
     * and undone. */
    const cfg_value *mig = live ? NULL : cfg_table_get(u->meta, "migrations");
    if (mig && sqlite3_exec(a->store->db, "SAVEPOINT stored_migrations", NULL, NULL, NULL) !=
                   SQLITE_OK) {
        deploy__fail(a->store, "cannot start a savepoint", &e);
        api__store_error(u->r, &e);
        goto fail;
    }
    if (apply_migrations(u, &cur, exists == 1) < 0 || check_do_bindings(u) < 0 ||
        check_load(u, main, sw) < 0)
        goto fail;
    char *mig_json = NULL;
    if (mig) {
        if (sqlite3_exec(a->store->db, "ROLLBACK TO stored_migrations; RELEASE stored_migrations",
                         NULL, NULL, NULL) != SQLITE_OK) {
            deploy__fail(a->store, "cannot undo the trial of the migrations", &e);
            api__store_error(u->r, &e);
            goto fail;
        }
        u->deleted_count = 0;
        u->new_tag = NULL;
        mig_json = cfg_value_to_json(mig);
        if (!mig_json) {
            bad(u, 10021, NULL, "out of memory");
            goto fail;
        }
    }
    const char *date = str_of(u->meta, "compatibility_date");
    deploy_binding *kept = NULL;   /* keep_bindings: secrets.c */
    size_t kept_n = 0;
    if (api__keep_bindings(a->store, u->meta, exists == 1 ? &cur : NULL, u->binds,
                           u->binds_count, &kept, &kept_n, &e) < 0) {
        free(mig_json);
        api__store_error(u->r, &e);
        goto fail;
    }
    deploy_version_in v = {
        .script = u->script, .main_module = main, .service_worker = sw,
        .compat_date = date ? date : "2021-11-02", .compat_flags_json = u->flags_json,
        .modules = u->mods, .modules_count = u->mods_count,
        .bindings = kept ? kept : u->binds, .bindings_count = kept ? kept_n : u->binds_count,
    };
    int vrc = deploy_version_add(a->store, &v, number, vid, &e);
    api__keep_bindings_free(kept, kept_n);
    if (vrc == 0 && mig_json)
        vrc = deploy_version_migrations_set(a->store, u->script, *number, mig_json, &e);
    free(mig_json);
    if (vrc < 0 ||
        (live && deploy_script_set_live(a->store, u->script, *number, u->new_tag, &e) < 0) ||
        (u->new_tag && deploy_migration_record(a->store, u->script, u->new_tag, &e) < 0) ||
        deploy_tx_commit(a->store, &e) < 0) {
        api__store_error(u->r, &e);
        goto fail;
    }
    /* Committed: the data of deleted classes goes now (MIG-6). */
    for (size_t i = 0; i < u->deleted_count; i++) {
        deploy_ns gone = {0};
        memcpy(gone.identity, u->deleted[i], sizeof gone.identity);
        char dir[4096];
        api__ns_dir(a, &gone, dir, sizeof dir);
        if (fs_rm_rf(dir, &e) < 0)
            log_warn("api: deleting the data of class %s: %s", u->deleted[i], e.msg);
    }
    return 0;
fail:
    deploy_tx_rollback(a->store);
    return -1;
}

static int on_binding_json(const deploy_binding *b, void *ud)
{
    buf *meta = ud;
    int rc = meta->ptr[meta->len - 1] == '[' ? 0 : buf_append_str(meta, ",");
    return rc ? rc : buf_append_str(meta, b->json);
}

int api__version_deploy(api_ctx *a, api_req *r, const char *script, int64_t number)
{
    upload u = {.a = a, .r = r, .script = script};
    err e = {0};
    deploy_script_info cur;
    char *mig = NULL;
    buf meta;
    buf_init(&meta, 64u * 1024u * 1024u);
    if (deploy_tx_begin(a->store, &e) < 0) {
        api__store_error(r, &e);
        goto out;
    }
    int got = deploy_script_get(a->store, script, &cur, &e);
    if (got == 0) {
        api__reply_err(r, 404, 10007, "This Worker does not exist on your account (script "
                       "'%s' not found)", script);
        goto fail;
    }
    if (got == 1)
        got = deploy_version_migrations_get(a->store, script, number, &mig, &e);
    if (got < 0) {
        api__store_error(r, &e);
        goto fail;
    }
    if (mig) {
        int rc = buf_append_str(&meta, "{\"migrations\":");
        rc = rc ? rc : buf_append_str(&meta, mig);
        rc = rc ? rc : buf_append_str(&meta, ",\"bindings\":[");
        if (rc == 0 && deploy_binding_each(a->store, script, number, on_binding_json, &meta,
                                           &e) < 0) {
            api__store_error(r, &e);
            goto fail;
        }
        rc = rc ? rc : buf_append_str(&meta, "]}");
        err pe = {0};
        u.meta = rc ? NULL : jsonc_parse("stored migrations", meta.ptr, meta.len, &pe);
        if (!u.meta) {
            api__reply_err(r, 500, 10000, "the migrations stored with version %lld of '%s' "
                           "cannot be read: %s", (long long)number, script,
                           rc ? "out of memory" : pe.msg);
            goto fail;
        }
        if (apply_migrations(&u, &cur, true) < 0 || check_do_bindings(&u) < 0)
            goto fail;
        if (deploy_version_migrations_set(a->store, script, number, NULL, &e) < 0) {
            api__store_error(r, &e);
            goto fail;
        }
    }
    if (deploy_script_set_live(a->store, script, number, u.new_tag, &e) < 0 ||
        (u.new_tag && deploy_migration_record(a->store, script, u.new_tag, &e) < 0) ||
        deploy_tx_commit(a->store, &e) < 0) {
        api__store_error(r, &e);
        goto fail;
    }
    for (size_t i = 0; i < u.deleted_count; i++) {
        deploy_ns gone = {0};
        memcpy(gone.identity, u.deleted[i], sizeof gone.identity);
        char dir[4096];
        api__ns_dir(a, &gone, dir, sizeof dir);
        if (fs_rm_rf(dir, &e) < 0)
            log_warn("api: deleting the data of class %s: %s", u.deleted[i], e.msg);
    }
    free(mig);
    buf_fini(&meta);
    cfg_value_free(u.meta);
    return 0;
fail:
    deploy_tx_rollback(a->store);
out:
    free(mig);
    buf_fini(&meta);
    cfg_value_free(u.meta);
    return -1;
}

void api__script_put(api_ctx *a, api_req *r, const char *name)
{
    if (!deploy_name_valid(name))
        return api__reply_err(r, 400, 10021, "script name '%.80s' is not valid: 1 to 63 of a-z, "
                              "0-9, '-' and '_', not starting or ending with '-'", name);
    if (r->req->body_len > a->upload_bytes_max)
        return api__reply_err(r, 413, 10021, "the upload is %zu bytes; at most %zu are accepted",
                              r->req->body_len, a->upload_bytes_max);
    upload u = {.a = a, .r = r, .script = name};
    const char *main = NULL;
    bool sw = false;
    err e = {0};
    int64_t number;
    char vid[37];
    deploy_script_info cur;
    if (upload_read(&u, &main, &sw) < 0 || upload_commit(&u, main, sw, true, &number, vid) < 0)
        return upload_fini(&u);
    if (deploy_script_get(a->store, name, &cur, &e) != 1) {
        api__store_error(r, &e);
        return upload_fini(&u);
    }
    buf b;
    buf_init(&b, 64 * 1024);
    if (api__script_json(&b, &cur) == 0)
        api__reply(r, 200, b.ptr, b.len, NULL);
    else
        api__reply_err(r, 500, 10000, "out of memory");
    buf_fini(&b);
    upload_fini(&u);
    if (a->on_change)
        a->on_change(a->ud, name);
}

/* POST /workers/workers/{id}/versions (API-41..43): the JSON form of an upload,
 * modules as {name, content_type, content_base64}. */
void api__version_create(api_ctx *a, api_req *r, const char *name)
{
    if (r->req->body_len > a->upload_bytes_max * 2)
        return api__reply_err(r, 413, 10021, "the upload is %zu bytes; at most %zu are accepted",
                              r->req->body_len, a->upload_bytes_max * 2);
    upload u = {.a = a, .r = r, .script = name};
    char msg[600], ptr[64];
    err e = {0};
    deploy_script_info cur;
    int got = deploy_script_get(a->store, name, &cur, &e);
    if (got < 0)
        return api__store_error(r, &e);
    if (got == 0)
        return api__reply_err(r, 404, 10007, "This Worker does not exist on your account "
                              "(worker '%s' not found)", name);
    u.meta = api__json_body(r);
    if (!u.meta)
        return;
    const char *main = str_of(u.meta, "main_module");
    const cfg_value *mods = cfg_table_get(u.meta, "modules");
    if (!main) {
        bad(&u, 10021, "/main_module", "main_module must name the entry module");
        return upload_fini(&u);
    }
    if (!mods || mods->type != CFG_ARRAY || mods->count == 0 || mods->count > API_PARTS_MAX) {
        bad(&u, 10021, "/modules", "modules must be an array of 1 to 256 {name, content_type, "
            "content_base64}");
        return upload_fini(&u);
    }
    /* Decoded module bytes live in parts[i].data (owned here, freed below). */
    u.parts = calloc(mods->count, sizeof *u.parts);
    char **bytes = calloc(mods->count, sizeof *bytes);
    int rc = u.parts && bytes ? 0 : bad(&u, 10021, NULL, "out of memory");
    size_t total = 0;
    for (size_t i = 0; rc == 0 && i < mods->count; i++) {
        const cfg_value *m = mods->items[i];
        const char *mn = str_of(m, "name"), *ct = str_of(m, "content_type");
        const char *b64 = str_of(m, "content_base64");
        snprintf(ptr, sizeof ptr, "/modules/%zu", i);
        if (m->type != CFG_TABLE || !mn || !ct || !b64 || strlen(mn) >= sizeof u.parts[i].name ||
            strlen(ct) >= sizeof u.parts[i].content_type) {
            rc = bad(&u, 10021, ptr, "a module is {name, content_type, content_base64} (strings)");
            break;
        }
        size_t blen = strlen(b64);
        bytes[i] = malloc(blen / 4 * 3 + 4);
        int n = bytes[i] && blen % 4 == 0
                    ? EVP_DecodeBlock((unsigned char *)bytes[i], (const unsigned char *)b64, (int)blen)
                    : -1;
        if (n < 0) {
            snprintf(msg, sizeof msg, "module '%s': content_base64 is not base64", mn);
            rc = bad(&u, 10021, ptr, msg);
            break;
        }
        /* EVP_DecodeBlock counts the padding's zero bytes; drop them. */
        if (blen >= 1 && b64[blen - 1] == '=')
            n--;
        if (blen >= 2 && b64[blen - 2] == '=')
            n--;
        total += (size_t)n;
        memcpy(u.parts[i].name, mn, strlen(mn) + 1);
        memcpy(u.parts[i].content_type, ct, strlen(ct) + 1);
        u.parts[i].data = bytes[i];
        u.parts[i].data_len = (size_t)n;
        u.parts_count++;
    }
    if (rc == 0 && total > a->upload_bytes_max) {
        api__reply_err(r, 413, 10021, "the modules are %zu bytes; at most %zu are accepted",
                       total, a->upload_bytes_max);
        rc = -1;
    }
    if (rc == 0 && cfg_table_get(u.meta, "compatibility_flags")) {
        const cfg_value *flags = cfg_table_get(u.meta, "compatibility_flags");
        bool ok = flags->type == CFG_ARRAY;
        for (size_t i = 0; ok && i < flags->count; i++)
            ok = flags->items[i]->type == CFG_STRING;
        u.flags_json = ok ? cfg_value_to_json(flags) : NULL;
        if (!u.flags_json || strlen(u.flags_json) >= 1024)
            rc = bad(&u, 10021, "/compatibility_flags", "compatibility_flags must be an array of "
                     "strings");
    }
    char deploy[8] = "";
    api__query(r, "deploy", deploy, sizeof deploy);
    bool live = strcmp(deploy, "true") == 0 || cur.live_version == 0;
    int64_t number = 0;
    char vid[37];
    if (rc == 0 && read_modules(&u, main, false) == 0 && read_bindings(&u) == 0 &&
        upload_commit(&u, main, false, live, &number, vid) == 0) {
        api__version_reply(a, r, name, number);
        if (live && a->on_change)
            a->on_change(a->ud, name);
    }
    for (size_t i = 0; bytes && i < mods->count; i++)
        free(bytes[i]);
    free(bytes);
    upload_fini(&u);
}

/* POST /scripts/{name}/versions (multipart, as PUT): a stored version that is
 * not live, unless the script has none yet. wrangler's path for a redeploy
 * without migrations (spec clients.md §3b) and of `wrangler versions upload`
 * (§4); they read result.id, result.resources.script.etag and
 * result.metadata.has_preview (wrangler fails without `metadata`). */
void api__script_version_upload(api_ctx *a, api_req *r, const char *name)
{
    if (r->req->body_len > a->upload_bytes_max)
        return api__reply_err(r, 413, 10021, "the upload is %zu bytes; at most %zu are accepted",
                              r->req->body_len, a->upload_bytes_max);
    upload u = {.a = a, .r = r, .script = name};
    const char *main = NULL;
    bool sw = false;
    err e = {0};
    deploy_script_info cur;
    int got = deploy_name_valid(name) ? deploy_script_get(a->store, name, &cur, &e) : 0;
    if (got < 0)
        return api__store_error(r, &e);
    if (got == 0)
        return api__reply_err(r, 404, 10007, "This Worker does not exist on your account "
                              "(script '%.80s' not found)", name);
    int64_t number;
    char vid[37];
    bool live = cur.live_version == 0;
    if (upload_read(&u, &main, &sw) < 0 || upload_commit(&u, main, sw, live, &number, vid) < 0)
        return upload_fini(&u);
    buf b;
    buf_init(&b, 4096);
    int rc = buf_printf(&b, "{\"id\":\"%s\",\"number\":%lld,\"startup_time_ms\":0,"
                            "\"metadata\":{\"has_preview\":false},"
                            "\"resources\":{\"script\":{\"etag\":\"%s\",\"handlers\":[\"fetch\"]}}}",
                        vid, (long long)number, vid);
    if (rc)
        api__reply_err(r, 500, 10000, "out of memory");
    else
        api__reply(r, 200, b.ptr, b.len, NULL);
    buf_fini(&b);
    upload_fini(&u);
    if (live && a->on_change)
        a->on_change(a->ud, name);
}
