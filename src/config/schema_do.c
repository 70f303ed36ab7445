/* schema_do.c: the Durable Object parts of the wrangler schema — bindings
 * (CFG-10) and migrations (MIG-1, MIG-7) — and the checks that need only the config,
 * not the module's code: config_check_migrations (MIG-3, MIG-4, MIG-6, MIG-8,
 * MIG-10 a/c/d) and config_class_backend.
 * The migration simulation applies the array in order, and inside one migration in
 * MIG-7's order (deleted, renamed, transferred, new, new_sqlite). Migration arrays
 * are short (tens of entries), so lookups are linear. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

/* ---- durable_objects.bindings (CFG-10) ---- */

static int load_binding(sc *s, const cfg_value *t, const char *kp, config_do_binding *b)
{
    if (cfg__want(s, t, kp, CFG_TABLE) < 0)
        return DUR_ETYPE;
    for (size_t i = 0; i < t->count; i++) {
        const char *k = t->keys[i];
        char ikp[CFG_KP_MAX];
        cfg__kp(ikp, "%s.%.100s", kp, k);
        char **dst = strcmp(k, "name") == 0         ? &b->name
                     : strcmp(k, "class_name") == 0  ? &b->class_name
                     : strcmp(k, "script_name") == 0 ? &b->script_name
                     : strcmp(k, "environment") == 0 ? &b->environment
                                                     : NULL;
        if (!dst) {
            if (cfg__warn(s, t->items[i]->line, "unknown key '%s' (ignored)", ikp) < 0)
                return DUR_ENOMEM;
            continue;
        }
        if (cfg__get_str(s, t->items[i], ikp, dst) < 0)
            return DUR_ETYPE;
        if (!(*dst)[0])
            return cfg__fail(s, t->items[i]->line, "key '%s': must not be empty", ikp);
    }
    if (!b->name)
        return cfg__fail(s, t->line, "key '%s': missing 'name' (the env property of the "
                         "binding)", kp);
    if (!b->class_name)
        return cfg__fail(s, t->line, "key '%s': missing 'class_name' (the exported Durable "
                         "Object class)", kp);
    return 0;
}

int cfg__load_durable_objects(sc *s, const cfg_value *v, const char *kp)
{
    config *c = s->c;
    if (cfg__want(s, v, kp, CFG_TABLE) < 0)
        return DUR_ETYPE;
    for (size_t i = 0; i < v->count; i++) {
        char bkp[CFG_KP_MAX];
        cfg__kp(bkp, "%s.%.100s", kp, v->keys[i]);
        const cfg_value *arr = v->items[i];
        if (strcmp(v->keys[i], "bindings") != 0) {
            if (cfg__warn(s, arr->line, "unknown key '%s' (ignored)", bkp) < 0)
                return DUR_ENOMEM;
            continue;
        }
        if (cfg__want(s, arr, bkp, CFG_ARRAY) < 0)
            return DUR_ETYPE;
        c->do_bindings = calloc(arr->count ? arr->count : 1, sizeof *c->do_bindings);
        if (!c->do_bindings)
            return cfg__oom(s);
        for (size_t j = 0; j < arr->count; j++) {
            char ekp[CFG_KP_MAX];
            cfg__kp(ekp, "%s[%zu]", bkp, j);
            config_do_binding *b = &c->do_bindings[c->do_bindings_count++];
            if (load_binding(s, arr->items[j], ekp, b) < 0)
                return DUR_EPARSE;
            for (size_t k = 0; k < j; k++)
                if (strcmp(c->do_bindings[k].name, b->name) == 0)
                    return cfg__fail(s, arr->items[j]->line, "key '%s.name': duplicate binding "
                                     "name '%s' (also %s[%zu], line %d)", ekp, b->name, bkp, k,
                                     arr->items[k]->line);
            for (size_t k = 0; k < c->vars_count; k++)
                if (strcmp(c->vars[k].name, b->name) == 0)
                    return cfg__fail(s, arr->items[j]->line, "key '%s.name': '%s' is both a "
                                     "var and a Durable Object binding; binding names must be "
                                     "unique", ekp, b->name);
        }
    }
    return 0;
}

/* ---- migrations (MIG-1, MIG-7) ---- */

void cfg__migration_fini(config_migration *m)
{
    free(m->tag);
    cfg__free_strs(m->new_classes, m->new_classes_count);
    cfg__free_strs(m->new_sqlite_classes, m->new_sqlite_classes_count);
    cfg__free_strs(m->deleted_classes, m->deleted_classes_count);
    for (size_t i = 0; m->renamed && i < m->renamed_count; i++) {
        free(m->renamed[i].from);
        free(m->renamed[i].to);
    }
    free(m->renamed);
    for (size_t i = 0; m->transferred && i < m->transferred_count; i++) {
        free(m->transferred[i].from);
        free(m->transferred[i].from_script);
        free(m->transferred[i].to);
    }
    free(m->transferred);
}

/* Reads the string fields `names` of table t into dst[] (all required). */
static int load_pair(sc *s, const cfg_value *t, const char *kp, const char *const *names,
                     char **dst[], int n)
{
    if (cfg__want(s, t, kp, CFG_TABLE) < 0)
        return DUR_ETYPE;
    for (size_t i = 0; i < t->count; i++) {
        char ikp[CFG_KP_MAX];
        cfg__kp(ikp, "%s.%.100s", kp, t->keys[i]);
        int f;
        for (f = 0; f < n && strcmp(names[f], t->keys[i]) != 0; f++)
            ;
        if (f == n) {
            if (cfg__warn(s, t->items[i]->line, "unknown key '%s' (ignored)", ikp) < 0)
                return DUR_ENOMEM;
            continue;
        }
        if (cfg__get_str(s, t->items[i], ikp, dst[f]) < 0)
            return DUR_ETYPE;
        if (!(*dst[f])[0])
            return cfg__fail(s, t->items[i]->line, "key '%s': must not be empty", ikp);
    }
    for (int f = 0; f < n; f++)
        if (!*dst[f])
            return cfg__fail(s, t->line, "key '%s': missing '%s'", kp, names[f]);
    return 0;
}

static int load_renames(sc *s, const cfg_value *v, const char *kp, config_migration *m)
{
    static const char *const names[] = {"from", "to"};
    if (cfg__want(s, v, kp, CFG_ARRAY) < 0)
        return DUR_ETYPE;
    m->renamed = calloc(v->count ? v->count : 1, sizeof *m->renamed);
    if (!m->renamed)
        return cfg__oom(s);
    for (size_t i = 0; i < v->count; i++) {
        char ikp[CFG_KP_MAX];
        cfg__kp(ikp, "%s[%zu]", kp, i);
        config_rename *r = &m->renamed[m->renamed_count++];
        char **dst[] = {&r->from, &r->to};
        if (load_pair(s, v->items[i], ikp, names, dst, 2) < 0)
            return DUR_EPARSE;
    }
    return 0;
}

static int load_transfers(sc *s, const cfg_value *v, const char *kp, config_migration *m)
{
    static const char *const names[] = {"from", "from_script", "to"};
    if (cfg__want(s, v, kp, CFG_ARRAY) < 0)
        return DUR_ETYPE;
    m->transferred = calloc(v->count ? v->count : 1, sizeof *m->transferred);
    if (!m->transferred)
        return cfg__oom(s);
    for (size_t i = 0; i < v->count; i++) {
        char ikp[CFG_KP_MAX];
        cfg__kp(ikp, "%s[%zu]", kp, i);
        config_transfer *t = &m->transferred[m->transferred_count++];
        char **dst[] = {&t->from, &t->from_script, &t->to};
        if (load_pair(s, v->items[i], ikp, names, dst, 3) < 0)
            return DUR_EPARSE;
    }
    return 0;
}

/* MIG-7: a class may appear in only one directive of one migration. */
static int check_once(sc *s, const config_migration *m, const char *kp, int line)
{
    struct {
        const char *name, *dir;
    } seen[256];
    size_t n = 0;
#define SEE(nm, d)                                                                            \
    do {                                                                                      \
        for (size_t q = 0; q < n; q++)                                                        \
            if (strcmp(seen[q].name, (nm)) == 0)                                              \
                return cfg__fail(s, line, "key '%s': class '%s' appears in both %s and %s of " \
                                 "migration '%s'; a class may appear in only one directive "  \
                                 "of a migration (use a later migration)", kp, (nm),          \
                                 seen[q].dir, (d), m->tag);                                   \
        if (n == sizeof seen / sizeof seen[0])                                                \
            return cfg__fail(s, line, "key '%s': more than %zu classes in one migration", kp, \
                             sizeof seen / sizeof seen[0]);                                   \
        seen[n].name = (nm);                                                                  \
        seen[n++].dir = (d);                                                                  \
    } while (0)
    for (size_t i = 0; i < m->deleted_classes_count; i++)
        SEE(m->deleted_classes[i], "deleted_classes");
    for (size_t i = 0; i < m->renamed_count; i++) {
        SEE(m->renamed[i].from, "renamed_classes");
        SEE(m->renamed[i].to, "renamed_classes");
    }
    for (size_t i = 0; i < m->transferred_count; i++)
        SEE(m->transferred[i].to, "transferred_classes");
    for (size_t i = 0; i < m->new_classes_count; i++)
        SEE(m->new_classes[i], "new_classes");
    for (size_t i = 0; i < m->new_sqlite_classes_count; i++)
        SEE(m->new_sqlite_classes[i], "new_sqlite_classes");
#undef SEE
    return 0;
}

static int load_migration(sc *s, const cfg_value *t, const char *kp, config_migration *m)
{
    if (cfg__want(s, t, kp, CFG_TABLE) < 0)
        return DUR_ETYPE;
    for (size_t i = 0; i < t->count; i++) {
        const char *k = t->keys[i];
        const cfg_value *v = t->items[i];
        char ikp[CFG_KP_MAX];
        cfg__kp(ikp, "%s.%.100s", kp, k);
        int rc = 0;
        if (strcmp(k, "tag") == 0) {
            rc = cfg__get_str(s, v, ikp, &m->tag);
            if (rc == 0 && !m->tag[0])
                rc = cfg__fail(s, v->line, "key '%s': the tag must not be empty", ikp);
        } else if (strcmp(k, "new_classes") == 0) {
            rc = cfg__get_str_array(s, v, ikp, &m->new_classes, &m->new_classes_count);
        } else if (strcmp(k, "new_sqlite_classes") == 0) {
            rc = cfg__get_str_array(s, v, ikp, &m->new_sqlite_classes,
                                    &m->new_sqlite_classes_count);
        } else if (strcmp(k, "deleted_classes") == 0) {
            rc = cfg__get_str_array(s, v, ikp, &m->deleted_classes, &m->deleted_classes_count);
        } else if (strcmp(k, "renamed_classes") == 0) {
            rc = load_renames(s, v, ikp, m);
        } else if (strcmp(k, "transferred_classes") == 0) {
            rc = load_transfers(s, v, ikp, m);
        } else {
            rc = cfg__warn(s, v->line, "unknown key '%s' (ignored)", ikp);
        }
        if (rc < 0)
            return rc;
    }
    if (!m->tag)
        return cfg__fail(s, t->line, "key '%s': missing 'tag'", kp);
    char **lists[] = {m->new_classes, m->new_sqlite_classes, m->deleted_classes};
    size_t counts[] = {m->new_classes_count, m->new_sqlite_classes_count,
                       m->deleted_classes_count};
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < counts[l]; i++)
            if (!lists[l][i][0])
                return cfg__fail(s, t->line, "key '%s': empty class name", kp);
    return check_once(s, m, kp, t->line);
}

int cfg__load_migrations(sc *s, const cfg_value *v)
{
    config *c = s->c;
    if (cfg__want(s, v, "migrations", CFG_ARRAY) < 0)
        return DUR_ETYPE;
    c->migrations = calloc(v->count ? v->count : 1, sizeof *c->migrations);
    if (!c->migrations)
        return cfg__oom(s);
    for (size_t i = 0; i < v->count; i++) {
        char kp[CFG_KP_MAX];
        cfg__kp(kp, "migrations[%zu]", i);
        config_migration *m = &c->migrations[c->migrations_count++];
        int rc = load_migration(s, v->items[i], kp, m);
        if (rc < 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->migrations[j].tag, m->tag) == 0)
                return cfg__fail(s, v->items[i]->line, "key '%s.tag': duplicate migration tag "
                                 "'%s' (also migrations[%zu], line %d)", kp, m->tag, j,
                                 v->items[j]->line);
    }
    return 0;
}

/* ---- simulation (config_check_migrations, config_class_backend) ---- */

typedef struct cls {
    const char *name;
    int backend;          /* CONFIG_BACKEND_*; NONE when gone */
    const char *gone_tag; /* migration that deleted / renamed it away */
    const char *renamed_to;
} cls;

typedef struct sim {
    cls *v;
    size_t n;
    const config *c;
    const char *file;
    err *e;
    bool strict; /* stop at the first inconsistency (else apply best-effort) */
} sim;

static cls *sim_find(sim *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].name, name) == 0)
            return &m->v[i];
    return NULL;
}

static int sim_set(sim *m, const char *name, int backend, const char *gone_tag,
                   const char *renamed_to)
{
    cls *k = sim_find(m, name);
    if (!k) {
        cls *v = realloc(m->v, (m->n + 1) * sizeof *v);
        if (!v)
            return err_setf(m->e, DUR_ENOMEM, "%s: out of memory", m->file);
        m->v = v;
        k = &v[m->n++];
        k->name = name;
    }
    k->backend = backend;
    k->gone_tag = gone_tag;
    k->renamed_to = renamed_to;
    return 0;
}

static int alive(sim *m, const char *name)
{
    cls *k = sim_find(m, name);
    return k ? k->backend : CONFIG_BACKEND_NONE;
}

__attribute__((format(printf, 2, 3))) static int sim_fail(sim *m, const char *fmt, ...)
{
    if (!m->strict)
        return 0;
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return err_setf(m->e, DUR_EPARSE, "%s: %s", m->file, msg);
}

static const char *backend_name(int b)
{
    return b == CONFIG_BACKEND_KV ? "KV (new_classes)"
           : b == CONFIG_BACKEND_SQLITE ? "SQLite (new_sqlite_classes)"
                                        : "transferred";
}

static int sim_new(sim *m, const config_migration *mg, const char *name, int backend)
{
    int have = alive(m, name);
    if (have == CONFIG_BACKEND_KV && backend == CONFIG_BACKEND_SQLITE)
        return sim_fail(m, "migration '%s': new_sqlite_classes names class '%s', which already "
                        "exists with the KV backend; a class's storage backend cannot change "
                        "(MIG-8)", mg->tag, name);
    if (have == CONFIG_BACKEND_SQLITE && backend == CONFIG_BACKEND_KV)
        return sim_fail(m, "migration '%s': new_classes names class '%s', which already exists "
                        "with the SQLite backend; a class's storage backend cannot change "
                        "(MIG-8)", mg->tag, name);
    if (have != CONFIG_BACKEND_NONE)
        return sim_fail(m, "migration '%s': class '%s' is already a Durable Object class "
                        "(backend %s); it cannot be created again", mg->tag, name,
                        backend_name(have));
    return sim_set(m, name, backend, NULL, NULL);
}

/* One migration, MIG-7 order. */
static int sim_apply(sim *m, const config_migration *mg)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < mg->deleted_classes_count; i++) {
        const char *x = mg->deleted_classes[i];
        if (alive(m, x) == CONFIG_BACKEND_NONE)
            rc = sim_fail(m, "migration '%s': cannot delete class '%s': no earlier migration "
                          "created it", mg->tag, x);
        if (rc == 0)
            rc = sim_set(m, x, CONFIG_BACKEND_NONE, mg->tag, NULL);
    }
    for (size_t i = 0; rc == 0 && i < mg->renamed_count; i++) {
        const config_rename *r = &mg->renamed[i];
        int b = alive(m, r->from);
        if (b == CONFIG_BACKEND_NONE)
            rc = sim_fail(m, "migration '%s': cannot rename class '%s' to '%s': class '%s' "
                          "does not exist (no earlier migration created it)", mg->tag, r->from,
                          r->to, r->from);
        else if (alive(m, r->to) != CONFIG_BACKEND_NONE)
            rc = sim_fail(m, "migration '%s': cannot rename class '%s' to '%s': class '%s' "
                          "already exists", mg->tag, r->from, r->to, r->to);
        if (rc == 0 && b != CONFIG_BACKEND_NONE)
            rc = sim_set(m, r->from, CONFIG_BACKEND_NONE, mg->tag, r->to);
        if (rc == 0)
            rc = sim_set(m, r->to, b != CONFIG_BACKEND_NONE ? b : CONFIG_BACKEND_KV, NULL, NULL);
    }
    for (size_t i = 0; rc == 0 && i < mg->transferred_count; i++) {
        const config_transfer *t = &mg->transferred[i];
        if (alive(m, t->to) != CONFIG_BACKEND_NONE)
            rc = sim_fail(m, "migration '%s': cannot transfer class '%s' of script '%s' to "
                          "'%s': class '%s' already exists", mg->tag, t->from, t->from_script,
                          t->to, t->to);
        if (rc == 0)
            rc = sim_set(m, t->to, CONFIG_BACKEND_TRANSFERRED, NULL, NULL);
    }
    for (size_t i = 0; rc == 0 && i < mg->new_classes_count; i++)
        rc = sim_new(m, mg, mg->new_classes[i], CONFIG_BACKEND_KV);
    for (size_t i = 0; rc == 0 && i < mg->new_sqlite_classes_count; i++)
        rc = sim_new(m, mg, mg->new_sqlite_classes[i], CONFIG_BACKEND_SQLITE);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : "config";
}

static int sim_run(sim *m)
{
    for (size_t i = 0; i < m->c->migrations_count; i++) {
        int rc = sim_apply(m, &m->c->migrations[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int config_check_migrations(const config *c, err *e)
{
    sim m = {.c = c, .file = base_name(c->path), .e = e, .strict = true};
    int rc = sim_run(&m);
    for (size_t i = 0; rc == 0 && i < c->do_bindings_count; i++) {
        const config_do_binding *b = &c->do_bindings[i];
        if (b->script_name)
            continue; /* another script's class: its migrations live there (CFG-11) */
        cls *k = sim_find(&m, b->class_name);
        if (k && k->backend != CONFIG_BACKEND_NONE)
            continue;
        if (k && k->renamed_to)
            rc = err_setf(e, DUR_EPARSE, "%s: binding '%s': class '%s' was renamed to '%s' by "
                          "migration '%s'; update class_name to '%s'", m.file, b->name,
                          b->class_name, k->renamed_to, k->gone_tag, k->renamed_to);
        else if (k)
            rc = err_setf(e, DUR_EPARSE, "%s: binding '%s': Cannot apply --delete-class "
                          "migration to class %s without also removing the binding that "
                          "references it", m.file, b->name, b->class_name);
        else
            rc = err_setf(e, DUR_EPARSE, "%s: binding '%s': Cannot create binding for class "
                          "'%s' because it is not currently configured to implement Durable "
                          "Objects. Ensure a new-class migration has been applied to it.",
                          m.file, b->name, b->class_name);
    }
    free(m.v);
    return rc;
}

int config_class_backend(const config *c, const char *class_name)
{
    sim m = {.c = c, .file = base_name(c->path), .e = NULL, .strict = false};
    int backend = CONFIG_BACKEND_NONE;
    if (sim_run(&m) == 0)
        backend = alive(&m, class_name);
    free(m.v);
    return backend;
}
