/* materialise.c: turns the live version of a deployed script into what the
 * runtime of `durable dev` loads: its modules written to
 * <data>/scripts/<name>/<version>/ (the loader's module root, so imports reach
 * only that version's files) and a `config` with its bindings and migrations.
 *
 * The runtime names a namespace by "<script>/<class at creation>" (objects/
 * router.c); the store keeps that identity per namespace, and the migrations
 * given to the runtime are rebuilt from it: one step creating every namespace
 * under its first class name, one renaming those whose class changed since. */
#include "api/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"

/* A module name that stays inside its folder: relative, no "..", "." or empty
 * segments, no backslash or control characters. */
bool deploy_module_name_valid(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 200 || n[0] == '/' || n[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)n[i] < 0x20 || n[i] == '\\' || n[i] == 0x7f)
            return false;
    for (const char *seg = n; seg;) {
        const char *slash = strchr(seg, '/');
        size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = slash ? slash + 1 : NULL;
    }
    return true;
}

static int write_file(const char *path, const void *data, size_t len, err *e)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        if (fs_mkdir_p(dir, e) < 0)
            return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_setf(e, -errno, "%s: cannot write: %s", path, strerror(errno)), -1;
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int x = errno;
            close(fd);
            return err_setf(e, -x, "%s: cannot write: %s", path, strerror(x)), -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return close(fd) == 0 ? 0 : (err_setf(e, -errno, "%s: cannot write", path), -1);
}

typedef struct mat {
    const char *dir;
    err *e;
} mat;

static int on_module(const deploy_module *m, void *ud)
{
    mat *x = ud;
    if (!deploy_module_name_valid(m->name))
        return err_setf(x->e, DUR_EINVAL, "module name '%.80s' would leave its folder", m->name),
               -1;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", x->dir, m->name) >= (int)sizeof path)
        return err_setf(x->e, DUR_ETOOBIG, "module path too long"), -1;
    return write_file(path, m->data, m->len, x->e);
}

typedef struct pick {
    deploy_script_info best;
    bool found;
    const char *want;
} pick;

static void on_script(const deploy_script_info *s, void *ud)
{
    pick *p = ud;
    if (!s->live_version)
        return;
    if (p->want ? strcmp(s->name, p->want) == 0
                : (!p->found || s->modified_ms >= p->best.modified_ms)) {
        p->best = *s;
        p->found = true;
    }
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

typedef struct bind_ctx {
    deploy_store *s;
    config *c;
    err *e;
} bind_ctx;

static int on_binding(const deploy_binding *b, void *ud)
{
    bind_ctx *x = ud;
    config *c = x->c;
    err pe = {0};
    cfg_value *v = jsonc_parse("binding", b->json, strlen(b->json), &pe);
    if (!v || v->type != CFG_TABLE) {
        cfg_value_free(v);
        return err_setf(x->e, DUR_EINVAL, "binding '%s' in the store is not a JSON object: the "
                        "file was changed by something else", b->name), -1;
    }
    int rc = 0;
    const cfg_value *t;
    if (strcmp(b->type, "durable_object_namespace") == 0) {
        config_do_binding *d = &c->do_bindings[c->do_bindings_count];
        const cfg_value *cls = cfg_table_get(v, "class_name");
        const cfg_value *scr = cfg_table_get(v, "script_name");
        const cfg_value *nid = cfg_table_get(v, "namespace_id");
        deploy_ns ns;
        char *class_name = NULL, *script_name = NULL;
        if (nid && nid->type == CFG_STRING) {
            int got = deploy_ns_get(x->s, nid->str, &ns, x->e);
            if (got == 0) {
                /* Its script was deleted with force=true (API-38): like a binding to a
                 * script that is gone, it is left out of env and the Worker serves. */
                log_warn("script '%s': binding '%s' names namespace %s, which is gone; env "
                         "has no '%s'", c->name, b->name, nid->str, b->name);
                cfg_value_free(v);
                return 0;
            }
            if (got < 0) {
                cfg_value_free(v);
                return -1;
            }
            class_name = strdup(ns.class_name);
            script_name = strcmp(ns.script, c->name) ? strdup(ns.script) : NULL;
        } else {
            class_name = dup_or_null(cls && cls->type == CFG_STRING ? cls->str : NULL);
            script_name = scr && scr->type == CFG_STRING && strcmp(scr->str, c->name)
                              ? strdup(scr->str) : NULL;
        }
        /* A class of another script (CFG-11): the registry of durable serve finds
         * its namespace among that script's (objects/router.c). */
        d->name = strdup(b->name);
        d->class_name = class_name;
        d->script_name = script_name;
        c->do_bindings_count++;
    } else if ((t = cfg_table_get(v, strcmp(b->type, "json") == 0 ? "json" : "text"))) {
        config_var *var = &c->vars[c->vars_count];
        var->name = strdup(b->name);
        var->is_json = strcmp(b->type, "json") == 0;
        var->value = var->is_json ? cfg_value_to_json(t) : strdup(t->type == CFG_STRING ? t->str : "");
        c->var_is_secret[c->vars_count] = strcmp(b->type, "secret_text") == 0;
        c->vars_count++;
    }
    cfg_value_free(v);
    return rc;
}

static int count_binding(const deploy_binding *b, void *ud)
{
    (*(size_t *)ud)++;
    return 0;
}

/* Rebuilds c->migrations from the namespaces of the script (see the top). */
static int build_migrations(deploy_store *s, config *c, err *e)
{
    deploy_ns *all = calloc(1000, sizeof *all);
    size_t n;
    int64_t total;
    if (!all)
        return err_setf(e, DUR_ENOMEM, "out of memory"), -1;
    if (deploy_ns_list(s, 0, 1000, all, &n, &total, e) < 0) {
        free(all);
        return -1;
    }
    c->migrations = calloc(3, sizeof *c->migrations);
    if (!c->migrations) {
        free(all);
        return err_setf(e, DUR_ENOMEM, "out of memory"), -1;
    }
    config_migration *m0 = &c->migrations[0], *m1 = &c->migrations[1], *m2 = &c->migrations[2];
    m0->tag = strdup("serve-namespaces");
    m1->tag = strdup("serve-renames");
    m2->tag = strdup("serve-transfers");
    m0->new_classes = calloc(n + 1, sizeof(char *));
    m0->new_sqlite_classes = calloc(n + 1, sizeof(char *));
    m1->renamed = calloc(n + 1, sizeof *m1->renamed);
    m2->transferred = calloc(n + 1, sizeof *m2->transferred);
    size_t plen = strlen(c->name);
    for (size_t i = 0; i < n; i++) {
        const deploy_ns *ns = &all[i];
        if (strcmp(ns->script, c->name) != 0)
            continue;
        if (strncmp(ns->identity, c->name, plen) != 0 || ns->identity[plen] != '/') {
            /* Moved here from another script (transferred_classes): the runtime keeps
             * its identity "<from_script>/<class at creation>". */
            const char *slash = strchr(ns->identity, '/');
            if (!slash)
                continue;
            config_transfer *t = &m2->transferred[m2->transferred_count++];
            t->from = strdup(slash + 1);
            t->from_script = strndup(ns->identity, (size_t)(slash - ns->identity));
            t->to = strdup(ns->class_name);
            t->backend = ns->use_sqlite ? 2 : 1;
            continue;
        }
        const char *first = ns->identity + plen + 1;
        if (ns->use_sqlite)
            m0->new_sqlite_classes[m0->new_sqlite_classes_count++] = strdup(first);
        else
            m0->new_classes[m0->new_classes_count++] = strdup(first);
        if (strcmp(first, ns->class_name) != 0) {
            m1->renamed[m1->renamed_count].from = strdup(first);
            m1->renamed[m1->renamed_count].to = strdup(ns->class_name);
            m1->renamed_count++;
        }
    }
    /* Only the steps that have something; the empty ones are freed. */
    config_migration keep[3];
    size_t k = 0;
    for (int i = 0; i < 3; i++) {
        config_migration *m = &c->migrations[i];
        if (m->new_classes_count + m->new_sqlite_classes_count + m->renamed_count +
            m->transferred_count) {
            keep[k++] = *m;
        } else {
            free(m->tag);
            free(m->new_classes);
            free(m->new_sqlite_classes);
            free(m->renamed);
            free(m->transferred);
        }
    }
    memset(c->migrations, 0, 3 * sizeof *c->migrations);
    memcpy(c->migrations, keep, k * sizeof *keep);
    c->migrations_count = k;
    free(all);
    return 0;
}

int deploy_config_build(deploy_store *s, const char *data_dir, const char *want, config *c,
                        err *e)
{
    memset(c, 0, sizeof *c);
    pick p = {.want = want};
    if (deploy_script_list(s, on_script, &p, e) < 0)
        return -1;
    if (!p.found)
        return 0;
    const deploy_script_info *info = &p.best;
    char abs_data[PATH_MAX], dir[PATH_MAX + 128], done[PATH_MAX + 160];
    if (!realpath(data_dir, abs_data))
        return err_setf(e, -errno, "%s: %s", data_dir, strerror(errno)), -1;
    snprintf(dir, sizeof dir, "%s/scripts/%s/%lld", abs_data, info->name,
             (long long)info->live_version);
    snprintf(done, sizeof done, "%s/.complete", dir);
    /* A version folder is written once; .complete says it was written whole. */
    if (access(done, F_OK) != 0) {
        mat m = {dir, e};
        if (fs_rm_rf(dir, e) < 0 ||
            deploy_module_each(s, info->name, info->live_version, on_module, &m, e) < 0 ||
            write_file(done, "", 0, e) < 0)
            return -1;
    }
    size_t nb = 0;
    if (deploy_binding_each(s, info->name, info->live_version, count_binding, &nb, e) < 0)
        return -1;
    c->name = strdup(info->name);
    c->dir = strdup(dir);
    c->path = strdup(dir);
    char main[PATH_MAX * 2];
    snprintf(main, sizeof main, "%s/%s", dir, info->main_module);
    c->main = strdup(main);
    c->compatibility_date = strdup(info->compat_date);
    c->vars = calloc(nb + 1, sizeof *c->vars);
    c->var_is_secret = calloc(nb + 1, sizeof *c->var_is_secret);
    c->do_bindings = calloc(nb + 1, sizeof *c->do_bindings);
    if (!c->name || !c->dir || !c->path || !c->main || !c->compatibility_date || !c->vars ||
        !c->var_is_secret || !c->do_bindings) {
        config_fini(c);
        return err_setf(e, DUR_ENOMEM, "out of memory"), -1;
    }
    err pe = {0};
    cfg_value *flags = jsonc_parse("flags", info->compat_flags, strlen(info->compat_flags), &pe);
    if (flags && flags->type == CFG_ARRAY && flags->count) {
        c->compatibility_flags = calloc(flags->count, sizeof(char *));
        for (size_t i = 0; c->compatibility_flags && i < flags->count; i++)
            if (flags->items[i]->type == CFG_STRING)
                c->compatibility_flags[c->compatibility_flags_count++] =
                    strdup(flags->items[i]->str);
    }
    cfg_value_free(flags);
    bind_ctx bx = {s, c, e};
    if (deploy_binding_each(s, info->name, info->live_version, on_binding, &bx, e) < 0 ||
        build_migrations(s, c, e) < 0) {
        config_fini(c);
        return -1;
    }
    return 1;
}

int api__modules_write(const char *dir, const deploy_module *m, size_t n, err *e)
{
    mat x = {dir, e};
    for (size_t i = 0; i < n; i++)
        if (on_module(&m[i], &x) < 0)
            return -1;
    return 0;
}

typedef struct names {
    char (*v)[DEPLOY_NAME_MAX + 1];
    int64_t *modified;
    size_t n, cap;
    bool oom;
} names;

static void on_live(const deploy_script_info *s, void *ud)
{
    names *x = ud;
    if (!s->live_version || x->oom)
        return;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        void *v = realloc(x->v, cap * sizeof *x->v), *m = v ? realloc(x->modified, cap * sizeof *x->modified) : NULL;
        if (v)
            x->v = v;
        if (!v || !m) {
            x->oom = true;
            return;
        }
        x->modified = m;
        x->cap = cap;
    }
    memcpy(x->v[x->n], s->name, sizeof x->v[x->n]);
    x->modified[x->n++] = s->modified_ms;
}

int deploy_config_build_all(deploy_store *s, const char *data_dir, config **out, size_t *count,
                            int *latest, err *e)
{
    names x = {0};
    *out = NULL;
    *count = 0;
    *latest = -1;
    if (deploy_script_list(s, on_live, &x, e) < 0 || x.oom) {
        free(x.v);
        free(x.modified);
        return x.oom ? err_setf(e, DUR_ENOMEM, "out of memory"), -1 : -1;
    }
    config *c = calloc(x.n + 1, sizeof *c);
    if (!c) {
        free(x.v);
        free(x.modified);
        return err_setf(e, DUR_ENOMEM, "out of memory"), -1;
    }
    size_t n = 0;
    int rc = 0;
    int64_t best = 0;
    for (size_t i = 0; i < x.n && rc == 0; i++) {
        int got = deploy_config_build(s, data_dir, x.v[i], &c[n], e);
        if (got < 0)
            rc = -1;
        else if (got == 1) {
            if (*latest < 0 || x.modified[i] >= best) {
                *latest = (int)n;
                best = x.modified[i];
            }
            n++;
        }
    }
    free(x.v);
    free(x.modified);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            config_fini(&c[i]);
        free(c);
        *latest = -1;
        return -1;
    }
    *out = c;
    *count = n;
    return 0;
}
