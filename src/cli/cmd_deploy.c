/* cmd_deploy.c: `durable deploy`: uploads the Worker of the wrangler config in the
 * current folder (or --config FILE) to a `durable serve`, as `wrangler deploy`
 * does (spec api.md API-30..36, config.md CFG-*, MIG-2):
 *
 * 1. The config is read and checked by the config layer, as `durable dev` does.
 * 2. The modules are the main module and everything it imports, found by compiling
 *    each JS module with QuickJS (compile only: nothing runs) and following its
 *    static imports with the rules of durable dev's loader (js/loader.c): relative
 *    specifiers only, inside the project folder; .js/.mjs are ES modules,
 *    .txt/.html/.sql text, .bin data, .json JSON, .wasm WebAssembly;
 *    "cloudflare:*" and "node:*" are the runtime's. No bundling. A module that does
 *    not parse is reported here, before anything is uploaded. import() with a
 *    computed name is not followed (as wrangler without find_additional_modules).
 * 3. The migrations to send are those after the script's current tag on the
 *    server (GET /workers/scripts, field migration_tag), as {old_tag, new_tag,
 *    steps}: the server refuses the upload if the tag moved meanwhile (10079).
 * 4. One multipart PUT /accounts/{acct}/workers/scripts/{name}: the metadata part,
 *    then one part per module (filename = module name).
 * 5. What changed is printed: the version id, the migrations applied and their
 *    classes, the bindings, and the script's namespaces. Errors of the server are
 *    printed with their code and message; the exit status is then 1.
 *
 * Secrets from .dev.vars are not uploaded (as wrangler; `durable dev` only). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <quickjs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "base/buf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "net/curl_dl.h"

#define MODULES_MAX 256
#define MODULE_BYTES_MAX (10u * 1024u * 1024u)    /* the server's upload limit */

typedef struct module {
    char *name;                /* relative to the project folder */
    char *content_type;
    char *data;
    size_t len;
} module;

typedef struct scan {
    const char *prog;
    char root[PATH_MAX];
    size_t root_len;
    module mods[MODULES_MAX];
    size_t count, total;
    char why[1024];            /* the first problem found */
} scan;

static void deploy_usage(FILE *f)
{
    fprintf(f,
            "Usage: durable deploy [options]\n"
            "\n"
            "Uploads the Worker of wrangler.json, wrangler.jsonc or wrangler.toml in the\n"
            "current folder to a `durable serve`, applies its new migrations and prints\n"
            "what changed.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE     configuration file to use instead of looking it up\n"
            "  -e, --env NAME        use the [env.NAME] section of the configuration\n" CLI_API_HELP
            "  -h, --help            this help\n");
}

/* ---- finding the modules ---- */

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

static const char *content_type_of(const char *name, bool esm)
{
    if (has_suffix(name, ".js") || has_suffix(name, ".mjs"))
        return esm ? "application/javascript+module" : "application/javascript";
    if (has_suffix(name, ".txt") || has_suffix(name, ".html") || has_suffix(name, ".sql"))
        return "text/plain";
    if (has_suffix(name, ".bin"))
        return "application/octet-stream";
    if (has_suffix(name, ".json"))
        return "application/json";
    if (has_suffix(name, ".wasm"))
        return "application/wasm";
    return NULL;
}

static bool builtin(const char *name)
{
    return strncmp(name, "cloudflare:", 11) == 0 || strncmp(name, "node:", 5) == 0;
}

/* dir of base + "/" + rel with "." and ".." removed, without looking at the disk
 * (as js/loader.c). NULL when it leaves "/". Returns malloc'd. */
static char *path_join(const char *base, const char *rel)
{
    size_t cap = strlen(base) + strlen(rel) + 2;
    char *tmp = malloc(cap), *out = malloc(cap);
    if (!tmp || !out) {
        free(tmp);
        free(out);
        return NULL;
    }
    const char *slash = strrchr(base, '/');
    snprintf(tmp, cap, "%.*s/%s", (int)(slash ? slash - base : 0), base, rel);
    size_t olen = 0;
    char *save = NULL;
    for (char *seg = strtok_r(tmp, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            if (olen == 0) {
                free(tmp);
                free(out);
                return NULL;
            }
            while (olen > 0 && out[olen - 1] != '/')
                olen--;
            if (olen > 0)
                olen--;
            continue;
        }
        out[olen++] = '/';
        memcpy(out + olen, seg, strlen(seg));
        olen += strlen(seg);
    }
    out[olen] = '\0';
    free(tmp);
    return out;
}

static char *normalize(JSContext *ctx, const char *base, const char *name, void *opaque)
{
    scan *s = opaque;
    if (builtin(name))
        return js_strdup(ctx, name);
    if (strncmp(name, "./", 2) != 0 && strncmp(name, "../", 3) != 0) {
        if (!s->why[0])
            snprintf(s->why, sizeof s->why, "%.300s imports \"%.200s\": only relative imports (./, ../) "
                     "of files in the project are uploaded; a package name needs a bundler "
                     "first", base[0] == '/' ? base + s->root_len + 1 : base, name);
        JS_ThrowReferenceError(ctx, "could not load module \"%s\"", name);
        return NULL;
    }
    char *p = path_join(base, name);
    if (!p || strncmp(p, s->root, s->root_len) != 0 || p[s->root_len] != '/') {
        if (!s->why[0])
            snprintf(s->why, sizeof s->why, "%.300s imports \"%.200s\", which is outside the project "
                     "folder %.200s", base + s->root_len + 1, name, s->root);
        free(p);
        JS_ThrowReferenceError(ctx, "could not load module \"%s\"", name);
        return NULL;
    }
    char *r = js_strdup(ctx, p);
    free(p);
    return r;
}

static char *read_file(const char *path, size_t *len, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, cap, "cannot read %s: %s", path, f ? "not a file" : strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    if ((size_t)st.st_size > MODULE_BYTES_MAX) {
        snprintf(why, cap, "%s is larger than the server's upload limit (%u MiB)", path,
                 MODULE_BYTES_MAX >> 20);
        fclose(f);
        return NULL;
    }
    char *data = malloc((size_t)st.st_size + 1);
    size_t n = data ? fread(data, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!data || n != (size_t)st.st_size) {
        snprintf(why, cap, "cannot read %s", path);
        free(data);
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}

static int no_exports(JSContext *ctx, JSModuleDef *m)
{
    return 0;
}

/* Records a module (abs: its absolute path) and, for an ES module, compiles it so
 * its imports are followed. Returns the module definition, or NULL (s->why). */
static JSModuleDef *load(JSContext *ctx, const char *abs, void *opaque)
{
    scan *s = opaque;
    if (builtin(abs))
        return JS_NewCModule(ctx, abs, no_exports);
    const char *rel = abs + s->root_len + 1;
    const char *ct = content_type_of(rel, true);
    size_t len = 0;
    char *data = NULL;
    if (!ct && !s->why[0])
        snprintf(s->why, sizeof s->why, "%s: durable dev does not load files of this type (.js, "
                 ".mjs, .txt, .html, .sql, .bin, .json, .wasm)", rel);
    if (ct && !(data = read_file(abs, &len, s->why, sizeof s->why)) && !s->why[0])
        snprintf(s->why, sizeof s->why, "cannot read %s", rel);
    if (data && s->count == MODULES_MAX) {
        snprintf(s->why, sizeof s->why, "more than %d modules", MODULES_MAX);
        free(data);
        data = NULL;
    }
    if (!data) {
        JS_ThrowReferenceError(ctx, "could not load module \"%s\"", rel);
        return NULL;
    }
    module *m = &s->mods[s->count++];
    m->name = strdup(rel);
    m->content_type = strdup(ct);
    m->data = data;
    m->len = len;
    s->total += len;
    if (strcmp(ct, "application/javascript+module") != 0)
        return JS_NewCModule(ctx, abs, no_exports);
    JSValue v = JS_Eval(ctx, data, len, abs, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(v)) {
        JSValue ex = JS_GetException(ctx);
        const char *msg = JS_ToCString(ctx, ex);
        if (!s->why[0])
            snprintf(s->why, sizeof s->why, "%s does not parse: %s", rel, msg ? msg : "?");
        JS_FreeCString(ctx, msg);
        JS_FreeValue(ctx, ex);
        JS_ThrowSyntaxError(ctx, "%s does not parse", rel);
        return NULL;
    }
    JSModuleDef *def = JS_VALUE_GET_PTR(v);
    JS_FreeValue(ctx, v);
    return def;
}

/* CFG-6, as worker.c decides it: a module when the source has an import or export
 * statement anywhere, which is when it does not compile as a script. */
static bool is_module(JSContext *ctx, const char *src, size_t len, const char *path)
{
    if (JS_DetectModule(src, len))
        return true;
    JSValue v = JS_Eval(ctx, src, len, path, JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
    if (JS_IsException(v)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return true;
    }
    JS_FreeValue(ctx, v);
    return false;
}

/* The project folder, as server.c's project_root: the config's folder if main is
 * inside it, else main's own folder. */
static void project_root(const config *c, char *out, size_t cap)
{
    char *dir = realpath(c->dir, NULL);
    size_t n = dir ? strlen(dir) : 0;
    if (dir && strncmp(c->main, dir, n) == 0 && c->main[n] == '/') {
        snprintf(out, cap, "%s", dir);
    } else {
        const char *slash = strrchr(c->main, '/');
        snprintf(out, cap, "%.*s", (int)(slash && slash != c->main ? slash - c->main : 1), c->main);
    }
    free(dir);
}

/* Fills s with the modules of c's Worker. 0, or -1 with s->why. *esm: module format. */
static int modules_find(const config *c, scan *s, bool *esm)
{
    project_root(c, s->root, sizeof s->root);
    s->root_len = strlen(s->root);
    if (strncmp(c->main, s->root, s->root_len) != 0 || c->main[s->root_len] != '/')
        return snprintf(s->why, sizeof s->why, "main %.480s is not inside %.480s", c->main, s->root), -1;
    if (has_suffix(c->main, ".ts") || has_suffix(c->main, ".tsx"))
        return snprintf(s->why, sizeof s->why, "main %s is TypeScript: build it into JavaScript "
                        "first and point main at the result", c->main), -1;
    JSRuntime *rt = JS_NewRuntime();
    JSContext *ctx = rt ? JS_NewContext(rt) : NULL;
    if (!ctx) {
        if (rt)
            JS_FreeRuntime(rt);
        return snprintf(s->why, sizeof s->why, "out of memory"), -1;
    }
    size_t len;
    char *src = read_file(c->main, &len, s->why, sizeof s->why);
    *esm = src && is_module(ctx, src, len, c->main);
    if (!src || !*esm) {   /* a service-worker script imports nothing */
        JS_FreeContext(ctx);
        JS_FreeRuntime(rt);
        if (!src)
            return -1;
        module *m = &s->mods[s->count++];
        m->name = strdup(c->main + s->root_len + 1);
        m->content_type = strdup("application/javascript");
        m->data = src;
        m->len = len;
        s->total = len;
        return m->name && m->content_type ? 0 : -1;
    }
    free(src);
    JS_SetModuleLoaderFunc(rt, normalize, load, s);
    JSModuleDef *m = load(ctx, c->main, s);
    int rc = m ? JS_ResolveModule(ctx, JS_MKPTR(JS_TAG_MODULE, m)) : -1;
    if (rc < 0) {
        JSValue ex = JS_GetException(ctx);
        const char *msg = JS_ToCString(ctx, ex);
        if (!s->why[0])
            snprintf(s->why, sizeof s->why, "%s", msg ? msg : "a module could not be loaded");
        JS_FreeCString(ctx, msg);
        JS_FreeValue(ctx, ex);
    }
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    if (rc == 0 && s->total > MODULE_BYTES_MAX)
        return snprintf(s->why, sizeof s->why, "the modules are larger than the server's upload "
                        "limit (%u MiB)", MODULE_BYTES_MAX >> 20), -1;
    return rc < 0 ? -1 : 0;
}

static void modules_free(scan *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->mods[i].name);
        free(s->mods[i].content_type);
        free(s->mods[i].data);
    }
}

/* ---- the metadata ---- */

static int json_str(buf *b, const char *s)
{
    int rc = buf_append_str(b, "\"");
    for (; *s && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            rc = buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            rc = buf_printf(b, "\\u%04x", c);
        else
            rc = buf_append(b, s, 1);
    }
    return rc ? rc : buf_append_str(b, "\"");
}

static int json_strs(buf *b, char **v, size_t n)
{
    int rc = buf_append_str(b, "[");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = (i ? buf_append_str(b, ",") : 0) ?: json_str(b, v[i]);
    return rc ? rc : buf_append_str(b, "]");
}

/* One migration step; only the directives it has (the server refuses some it does
 * not support even when empty). */
static int step_json(buf *b, const config_migration *m)
{
    int rc = buf_append_str(b, "{");
    const char *sep = "";
    struct { const char *key; char **v; size_t n; } lists[] = {
        {"new_classes", m->new_classes, m->new_classes_count},
        {"new_sqlite_classes", m->new_sqlite_classes, m->new_sqlite_classes_count},
        {"deleted_classes", m->deleted_classes, m->deleted_classes_count},
    };
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        if (!lists[i].n)
            continue;
        rc = buf_printf(b, "%s\"%s\":", sep, lists[i].key) ?: json_strs(b, lists[i].v, lists[i].n);
        sep = ",";
    }
    if (m->renamed_count && rc == 0) {
        rc = buf_printf(b, "%s\"renamed_classes\":[", sep);
        for (size_t i = 0; i < m->renamed_count && rc == 0; i++) {
            rc = buf_append_str(b, i ? ",{\"from\":" : "{\"from\":") ?: json_str(b, m->renamed[i].from);
            rc = rc ?: buf_append_str(b, ",\"to\":") ?: json_str(b, m->renamed[i].to);
            rc = rc ?: buf_append_str(b, "}");
        }
        rc = rc ?: buf_append_str(b, "]");
        sep = ",";
    }
    if (m->transferred_count && rc == 0) {
        rc = buf_printf(b, "%s\"transferred_classes\":[", sep);
        for (size_t i = 0; i < m->transferred_count && rc == 0; i++) {
            const config_transfer *t = &m->transferred[i];
            rc = buf_append_str(b, i ? ",{\"from\":" : "{\"from\":") ?: json_str(b, t->from);
            rc = rc ?: buf_append_str(b, ",\"from_script\":") ?: json_str(b, t->from_script);
            rc = rc ?: buf_append_str(b, ",\"to\":") ?: json_str(b, t->to);
            rc = rc ?: buf_append_str(b, "}");
        }
        rc = rc ?: buf_append_str(b, "]");
    }
    return rc ?: buf_append_str(b, "}");
}

static int bindings_json(buf *b, const config *c)
{
    int rc = buf_append_str(b, "[");
    bool first = true;
    for (size_t i = 0; i < c->do_bindings_count && rc == 0; i++) {
        const config_do_binding *d = &c->do_bindings[i];
        rc = buf_append_str(b, first ? "" : ",") ?: buf_append_str(b, "{\"type\":"
                            "\"durable_object_namespace\",\"name\":");
        rc = rc ?: json_str(b, d->name) ?: buf_append_str(b, ",\"class_name\":") ?: json_str(b, d->class_name);
        if (d->script_name)
            rc = rc ?: buf_append_str(b, ",\"script_name\":") ?: json_str(b, d->script_name);
        if (d->environment)
            rc = rc ?: buf_append_str(b, ",\"environment\":") ?: json_str(b, d->environment);
        rc = rc ?: buf_append_str(b, "}");
        first = false;
    }
    for (size_t i = 0; i < c->vars_count && rc == 0; i++) {
        const config_var *v = &c->vars[i];
        if (c->var_is_secret && c->var_is_secret[i])
            continue;   /* .dev.vars: for durable dev only */
        rc = buf_append_str(b, first ? "" : ",") ?: buf_append_str(b, v->is_json ? "{\"type\":\"json\","
                            "\"name\":" : "{\"type\":\"plain_text\",\"name\":");
        rc = rc ?: json_str(b, v->name) ?: buf_append_str(b, v->is_json ? ",\"json\":" : ",\"text\":");
        rc = rc ?: (v->is_json ? buf_append_str(b, v->value) : json_str(b, v->value));
        rc = rc ?: buf_append_str(b, "}");
        first = false;
    }
    return rc ?: buf_append_str(b, "]");
}

/* The migration tag of script `name` on the server: 1 and tag, 0 none (or no such
 * script), -1 after printing why. */
static int server_tag(cli_api *a, const char *name, char *tag, size_t cap)
{
    char path[256];
    snprintf(path, sizeof path, "/accounts/%s/workers/scripts", a->account);
    cfg_value *v = cli_api_json(a, "GET", path, NULL, NULL, 0);
    if (!v)
        return -1;
    const cfg_value *res = cfg_table_get(v, "result");
    int got = 0;
    for (size_t i = 0; res && res->type == CFG_ARRAY && i < res->count; i++) {
        const cfg_value *s = res->items[i];
        const cfg_value *id = s->type == CFG_TABLE ? cfg_table_get(s, "id") : NULL;
        const cfg_value *t = s->type == CFG_TABLE ? cfg_table_get(s, "migration_tag") : NULL;
        if (id && id->type == CFG_STRING && strcmp(id->str, name) == 0 && t &&
            t->type == CFG_STRING) {
            snprintf(tag, cap, "%s", t->str);
            got = 1;
        }
    }
    cfg_value_free(v);
    return got;
}

static void print_step(const config_migration *m)
{
    printf("  %s:", m->tag);
    bool any = false;
    for (size_t i = 0; i < m->deleted_classes_count; i++, any = true)
        printf(" deleted class %s;", m->deleted_classes[i]);
    for (size_t i = 0; i < m->renamed_count; i++, any = true)
        printf(" renamed class %s to %s;", m->renamed[i].from, m->renamed[i].to);
    for (size_t i = 0; i < m->transferred_count; i++, any = true)
        printf(" transferred class %s of %s to %s;", m->transferred[i].from,
               m->transferred[i].from_script, m->transferred[i].to);
    for (size_t i = 0; i < m->new_classes_count; i++, any = true)
        printf(" created class %s (KV storage);", m->new_classes[i]);
    for (size_t i = 0; i < m->new_sqlite_classes_count; i++, any = true)
        printf(" created class %s (SQLite storage);", m->new_sqlite_classes[i]);
    printf("%s\n", any ? "" : " (no class changes)");
}

/* The namespaces of script `name`, as the server now has them. */
static void print_namespaces(cli_api *a, const char *name)
{
    bool header = false;
    for (long page = 1; page < 1000; page++) {
        char path[256];
        snprintf(path, sizeof path, "/accounts/%s/workers/durable_objects/namespaces?page=%ld&"
                 "per_page=100", a->account, page);
        cfg_value *v = cli_api_json(a, "GET", path, NULL, NULL, 0);
        if (!v)
            return;
        const cfg_value *res = cfg_table_get(v, "result");
        size_t n = res && res->type == CFG_ARRAY ? res->count : 0;
        for (size_t i = 0; i < n; i++) {
            const cfg_value *ns = res->items[i], *s, *id, *cls, *nm;
            if (ns->type != CFG_TABLE || !(s = cfg_table_get(ns, "script")) || s->type != CFG_STRING ||
                strcmp(s->str, name) != 0 || !(id = cfg_table_get(ns, "id")) ||
                !(cls = cfg_table_get(ns, "class")) || !(nm = cfg_table_get(ns, "name")) ||
                id->type != CFG_STRING || cls->type != CFG_STRING || nm->type != CFG_STRING)
                continue;
            if (!header)
                printf("Durable Object namespaces of %s:\n", name);
            header = true;
            printf("  %s  %s (class %s)\n", id->str, nm->str, cls->str);
        }
        cfg_value_free(v);
        if (n < 100)
            return;
    }
}

/* The metadata part (API-31): the main module, compatibility, bindings, and the
 * migrations from index `start` on, with `tag` (when has_tag) as their old_tag. */
static int metadata_json(buf *meta, const config *c, const scan *s, bool esm, size_t start,
                         bool has_tag, const char *tag)
{
    int rc = buf_append_str(meta, esm ? "{\"main_module\":" : "{\"body_part\":")
                 ?: json_str(meta, s->mods[0].name);
    rc = rc ?: buf_append_str(meta, ",\"compatibility_date\":") ?: json_str(meta, c->compatibility_date);
    rc = rc ?: buf_append_str(meta, ",\"compatibility_flags\":")
            ?: json_strs(meta, c->compatibility_flags, c->compatibility_flags_count);
    rc = rc ?: buf_append_str(meta, ",\"bindings\":") ?: bindings_json(meta, c);
    if (start < c->migrations_count) {
        rc = rc ?: buf_append_str(meta, ",\"migrations\":{");
        if (has_tag)
            rc = rc ?: buf_append_str(meta, "\"old_tag\":") ?: json_str(meta, tag)
                    ?: buf_append_str(meta, ",");
        rc = rc ?: buf_append_str(meta, "\"new_tag\":")
                ?: json_str(meta, c->migrations[c->migrations_count - 1].tag);
        rc = rc ?: buf_append_str(meta, ",\"steps\":[");
        for (size_t i = start; i < c->migrations_count && rc == 0; i++)
            rc = (i > start ? buf_append_str(meta, ",") : 0) ?: step_json(meta, &c->migrations[i]);
        rc = rc ?: buf_append_str(meta, "]}");
    }
    rc = rc ?: buf_append_str(meta, "}");
    return rc;
}

/* What changed, after the server took the upload. */
static void print_result(cli_api *a, const config *c, const scan *s, size_t start,
                         const char *tag, const char *version)
{
    printf("Uploaded %s (%zu module%s, %zu bytes):\n", c->name, s->count,
           s->count == 1 ? "" : "s", s->total);
    for (size_t i = 0; i < s->count; i++)
        printf("  %s (%s)\n", s->mods[i].name, s->mods[i].content_type);
    printf("Deployed %s: version %s\n", c->name, version);
    if (start < c->migrations_count) {
        printf("Migrations applied:\n");
        for (size_t i = start; i < c->migrations_count; i++)
            print_step(&c->migrations[i]);
    } else if (c->migrations_count) {
        printf("No migrations to apply (the server is at tag %s)\n", tag);
    }
    if (c->do_bindings_count || c->vars_count)
        printf("Bindings:\n");
    for (size_t i = 0; i < c->do_bindings_count; i++)
        printf("  env.%s (Durable Object namespace: %s%s%s)\n", c->do_bindings[i].name,
               c->do_bindings[i].class_name, c->do_bindings[i].script_name ? " of " : "",
               c->do_bindings[i].script_name ? c->do_bindings[i].script_name : "");
    for (size_t i = 0; i < c->vars_count; i++)
        if (!(c->var_is_secret && c->var_is_secret[i]))
            printf("  env.%s (var): %s\n", c->vars[i].name, c->vars[i].value);
    print_namespaces(a, c->name);
}

static int upload(cli_api *a, const config *c, const scan *s, bool esm)
{
    char tag[256] = "";
    int has_tag = server_tag(a, c->name, tag, sizeof tag);
    if (has_tag < 0)
        return 1;
    size_t start = 0;
    if (has_tag) {
        size_t i = 0;
        while (i < c->migrations_count && strcmp(c->migrations[i].tag, tag) != 0)
            i++;
        if (i == c->migrations_count)
            fprintf(stderr, "%s: warning: the server's migration tag '%s' of %s is not in %s; "
                    "sending every migration\n", a->prog, tag, c->name, c->path);
        else
            start = i + 1;
    }
    buf meta;
    buf_init(&meta, 4u * 1024u * 1024u);
    int rc = metadata_json(&meta, c, s, esm, start, has_tag, tag);
    if (rc) {
        fprintf(stderr, "%s: out of memory\n", a->prog);
        buf_fini(&meta);
        return 1;
    }
    /* libcurl is loaded: the migration tag was read through cli_api_call. */
    CURL *dummy = curl_easy_init();   /* curl_mime_init wants a handle */
    curl_mime *mime = dummy ? curl_mime_init(dummy) : NULL;
    curl_mimepart *part = mime ? curl_mime_addpart(mime) : NULL;
    bool ok = part && curl_mime_name(part, "metadata") == CURLE_OK &&
              curl_mime_data(part, meta.ptr, meta.len) == CURLE_OK &&
              curl_mime_type(part, "application/json") == CURLE_OK;
    for (size_t i = 0; i < s->count && ok; i++) {
        part = curl_mime_addpart(mime);
        ok = part && curl_mime_name(part, s->mods[i].name) == CURLE_OK &&
             curl_mime_filename(part, s->mods[i].name) == CURLE_OK &&
             curl_mime_data(part, s->mods[i].data, s->mods[i].len) == CURLE_OK &&
             curl_mime_type(part, s->mods[i].content_type) == CURLE_OK;
    }
    buf_fini(&meta);
    int out = 1;
    char path[512];
    snprintf(path, sizeof path, "/accounts/%s/workers/scripts/%s", a->account, c->name);
    cli_resp r;
    if (!ok)
        fprintf(stderr, "%s: out of memory\n", a->prog);
    else if (cli_api_call(a, "PUT", path, NULL, NULL, 0, mime, &r) == 0) {
        cfg_value *v = cli_resp_json(a, &r);
        cli_resp_fini(&r);
        const cfg_value *res = v ? cfg_table_get(v, "result") : NULL;
        const cfg_value *etag = res && res->type == CFG_TABLE ? cfg_table_get(res, "etag") : NULL;
        if (v) {
            out = 0;
            print_result(a, c, s, start, tag, etag && etag->type == CFG_STRING ? etag->str
                                                                               : "(unknown)");
        }
        cfg_value_free(v);
    }
    curl_mime_free(mime);
    if (dummy)
        curl_easy_cleanup(dummy);
    return out;
}

int cmd_deploy(int argc, char **argv)
{
    enum { O_SERVER = 256, O_TOKEN, O_ACCOUNT };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"env", required_argument, NULL, 'e'},
        {"server", required_argument, NULL, O_SERVER},
        {"token", required_argument, NULL, O_TOKEN},
        {"account", required_argument, NULL, O_ACCOUNT},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    const char *config_path = NULL, *env_name = NULL, *server = NULL, *token = NULL,
               *account = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:e:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'e': env_name = optarg; break;
        case O_SERVER: server = optarg; break;
        case O_TOKEN: token = optarg; break;
        case O_ACCOUNT: account = optarg; break;
        case 'h': deploy_usage(stdout); return 0;
        case ':':
            fprintf(stderr, "durable deploy: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "durable deploy: unknown option '%s'; see `durable deploy --help`\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "durable deploy: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    cli_api a;
    if (cli_api_init(&a, "durable deploy", server, token, account) < 0)
        return 2;
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "durable deploy: cannot read the current directory: %s\n", strerror(errno));
        return 1;
    }
    config cfg;
    err e = {0};
    if (config_load(cwd, config_path, env_name, &cfg, &e) < 0) {
        fprintf(stderr, "durable deploy: %s\n", e.msg);
        return 1;
    }
    for (size_t i = 0; i < cfg.warnings_count; i++)
        fprintf(stderr, "durable deploy: warning: %s\n", cfg.warnings[i]);
    int rc = 1;
    scan *s = calloc(1, sizeof *s);
    bool esm = true;
    if (!s) {
        fprintf(stderr, "durable deploy: out of memory\n");
    } else if (config_check_migrations(&cfg, &e) < 0) {
        fprintf(stderr, "durable deploy: %s: %s\n", cfg.path, e.msg);
    } else if (modules_find(&cfg, s, &esm) < 0) {
        fprintf(stderr, "durable deploy: %s\n", s->why[0] ? s->why : "out of memory");
    } else if (cli_api_account(&a) == 0) {
        rc = upload(&a, &cfg, s, esm);
    }
    if (s)
        modules_free(s);
    free(s);
    config_fini(&cfg);
    return rc;
}
