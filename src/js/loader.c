/* loader.c: the ES module loader (spec: workers.md WRK-1, WRK-9, WEB-21).
 *
 * Module names are absolute file paths after symlinks (realpath), plus the
 * built-in "cloudflare:workers". Relative specifiers ("./x.js", "../lib/y.mjs")
 * resolve against the importing module's path; bare specifiers need a bundler and
 * are refused with a message that says so, except, with the nodejs_compat flag,
 * the names of Node.js modules ("buffer" → "node:buffer"); "node:*" modules are
 * the JS ones of web/js/6x_node*.js with that flag and refused without it, as is
 * any "cloudflare:*" but "cloudflare:workers" and "cloudflare:email"; URLs
 * (file:, http:, data:) are refused.
 * By extension, as wrangler's default module rules do: .js/.mjs → ES module,
 * .txt/.html/.sql → text (default export: string), .bin → data (ArrayBuffer),
 * .json → the parsed value; anything else is refused with its name.
 *
 * The sandbox (Worker code is not trusted with the host's files):
 * - Modules load only from inside the project folder (the root). A specifier is
 *   first resolved by hand ("." and ".." removed without looking at the disk) and
 *   must land under the root; then realpath() follows every symlink and the result
 *   must still be under the root, on a path boundary ("/p" does not contain
 *   "/project2"). So neither "../../x", an absolute path, nor a symlink pointing
 *   out (or a ".." after one) reaches a file outside.
 * - Once the Worker has loaded, js__loader_seal() fixes the module graph, as in
 *   workerd: import() at request time reaches only modules loaded before, and
 *   anything else fails with the same "No such module" error whether or not the
 *   file exists. Every refusal of a name uses that one message, so the error text
 *   never tells whether a path exists outside the project.
 * - Files are opened with O_NONBLOCK (a FIFO cannot block the shard) and must be
 *   regular files (no directories, FIFOs, sockets or devices such as /dev/zero)
 *   of at most MODULE_BYTES_MAX bytes, checked with fstat before reading; the file
 *   actually opened is checked against the root once more through /proc/self/fd,
 *   so a symlink swapped in after realpath() is caught too.
 * - A NUL inside a specifier never reaches here: QuickJS cuts the C string at it,
 *   and the shorter name goes through the same checks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "js/internal.h"

#define MODULE_BYTES_MAX (64u * 1024u * 1024u)
#define CF_WORKERS "cloudflare:workers"
#define CF_EMAIL "cloudflare:email"
#define SPEC_SHOWN_MAX 96      /* bytes of a specifier quoted in an error (QuickJS cuts
                                  messages at 256 bytes) */

struct js_loader {
    char *root;                /* realpath of the project folder; "/" = anywhere */
    size_t root_len;
    bool sealed;
    char **known;              /* names loaded before js__loader_seal, owned */
    size_t known_count, known_cap;
};

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* True if `path` (absolute, normalized) is the root or inside it. */
static bool under_root(const js_loader *L, const char *path)
{
    if (L->root_len == 1)      /* "/" */
        return path[0] == '/';
    return strncmp(path, L->root, L->root_len) == 0 &&
           (path[L->root_len] == '/' || path[L->root_len] == '\0');
}

static bool is_known(const js_loader *L, const char *name)
{
    for (size_t i = 0; i < L->known_count; i++)
        if (strcmp(L->known[i], name) == 0)
            return true;
    return false;
}

static int remember(js_loader *L, const char *name)
{
    if (L->sealed || is_known(L, name))
        return 0;
    if (L->known_count == L->known_cap) {
        size_t cap = L->known_cap ? 2 * L->known_cap : 16;
        char **k = realloc(L->known, cap * sizeof *k);
        if (!k)
            return DUR_ENOMEM;
        L->known = k;
        L->known_cap = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        return DUR_ENOMEM;
    L->known[L->known_count++] = copy;
    return 0;
}

/* A path as the user knows it: relative to the root when inside it. */
static const char *shown(const js_loader *L, const char *path)
{
    if (L->root_len > 1 && under_root(L, path) && path[L->root_len] == '/')
        return path + L->root_len + 1;
    return path;
}

/* The one refusal for a name: not found, outside the project, through a symlink
 * that points out, or not in the sealed module graph all read the same. */
static char *no_such_module(JSContext *ctx, const js_loader *L, const char *name,
                            const char *base)
{
    size_t n = strlen(name);
    JS_ThrowTypeError(ctx, "No such module \"%.*s%s\" imported from %.100s",
                      (int)(n > SPEC_SHOWN_MAX ? SPEC_SHOWN_MAX : n), name,
                      n > SPEC_SHOWN_MAX ? "..." : "", shown(L, base));
    return NULL;
}

/* Joins dir + "/" + rel and removes "." and ".." segments without looking at
 * the disk. Returns malloc'd. */
static char *path_resolve(const char *base, const char *rel)
{
    size_t cap = strlen(base) + strlen(rel) + 2;
    char *tmp = malloc(cap);
    char *out = malloc(cap);
    if (!tmp || !out) {
        free(tmp);
        free(out);
        return NULL;
    }
    if (rel[0] == '/') {
        snprintf(tmp, cap, "%s", rel);
    } else {
        const char *slash = strrchr(base, '/');
        size_t dlen = slash ? (size_t)(slash - base) : 0;
        snprintf(tmp, cap, "%.*s/%s", (int)dlen, base, rel);
    }
    /* Walk segments, keeping a stack in `out`. */
    size_t olen = 0;
    char *save = NULL;
    for (char *seg = strtok_r(tmp, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            while (olen > 0 && out[olen - 1] != '/')
                olen--;
            if (olen > 0)
                olen--;
            continue;
        }
        out[olen++] = '/';
        size_t sl = strlen(seg);
        memcpy(out + olen, seg, sl);
        olen += sl;
    }
    if (olen == 0)
        out[olen++] = '/';
    out[olen] = '\0';
    free(tmp);
    return out;
}

/* ---- node:* (the nodejs_compat flag; the modules are JS, web/js/6x_node*.js) ---- */

/* True when the Worker's configuration has nodejs_compat (N.nodejsCompat, set by
 * N.enableNodejsCompat before the Worker's code loads). */
static bool nodejs_compat(JSContext *ctx)
{
    JSValue v = JS_GetPropertyStr(ctx, js_native(ctx), "nodejsCompat");
    bool on = JS_IsBool(v) && JS_ToBool(ctx, v);
    JS_FreeValue(ctx, v);
    return on;
}

/* 1 if N.nodeModules has `bare` ("buffer"), 0 if not, -1 with an exception. */
static int node_module_exists(JSContext *ctx, const char *bare)
{
    JSValue mods = JS_GetPropertyStr(ctx, js_native(ctx), "nodeModules");
    if (JS_IsException(mods))
        return -1;
    int has = 0;
    if (JS_IsObject(mods)) {
        JSAtom a = JS_NewAtom(ctx, bare);
        has = a == JS_ATOM_NULL ? -1 : JS_HasProperty(ctx, mods, a);
        JS_FreeAtom(ctx, a);
    }
    JS_FreeValue(ctx, mods);
    return has;
}

/* The exports object of node module "node:x" (built on first use), or
 * JS_EXCEPTION. */
static JSValue node_module_object(JSContext *ctx, const char *name)
{
    JSValue fn = JS_GetPropertyStr(ctx, js_native(ctx), "nodeModule");
    if (!JS_IsFunction(ctx, fn)) {
        JS_FreeValue(ctx, fn);
        return JS_ThrowInternalError(ctx, "%s is not available in this context", name);
    }
    /* "node:buffer" is N.nodeModules.buffer; "cloudflare:email" is itself */
    JSValue arg = JS_NewString(ctx, strncmp(name, "node:", 5) == 0 ? name + 5 : name);
    JSValue obj = JS_Call(ctx, fn, JS_UNDEFINED, 1, (JSValueConst *)&arg);
    JS_FreeValue(ctx, arg);
    JS_FreeValue(ctx, fn);
    if (!JS_IsException(obj) && !JS_IsObject(obj)) {
        JS_FreeValue(ctx, obj);
        return JS_ThrowTypeError(ctx, "No such module \"%s\"", name);
    }
    return obj;
}

/* Exports every own property of the module object; "default" is its own
 * "default" property when it has one, else the object itself. */
static int node_module_init(JSContext *ctx, JSModuleDef *m)
{
    JSAtom a = JS_GetModuleName(ctx, m);
    const char *name = JS_AtomToCString(ctx, a);
    JS_FreeAtom(ctx, a);
    if (!name)
        return -1;
    JSValue obj = node_module_object(ctx, name);
    JS_FreeCString(ctx, name);
    if (JS_IsException(obj))
        return -1;
    JSPropertyEnum *props = NULL;
    uint32_t n = 0;
    if (JS_GetOwnPropertyNames(ctx, &props, &n, obj, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0) {
        JS_FreeValue(ctx, obj);
        return -1;
    }
    int rc = 0;
    bool has_default = false;
    for (uint32_t i = 0; i < n; i++) {
        const char *k = JS_AtomToCString(ctx, props[i].atom);
        JSValue v = k ? JS_GetProperty(ctx, obj, props[i].atom) : JS_EXCEPTION;
        if (k && strcmp(k, "default") == 0)
            has_default = true;
        if (JS_IsException(v) || JS_SetModuleExport(ctx, m, k, v) < 0)
            rc = -1;
        JS_FreeCString(ctx, k);
        if (rc < 0)
            break;
    }
    for (uint32_t i = 0; i < n; i++)
        JS_FreeAtom(ctx, props[i].atom);
    js_free(ctx, props);
    if (rc == 0 && !has_default && JS_SetModuleExport(ctx, m, "default", JS_DupValue(ctx, obj)) < 0)
        rc = -1;
    JS_FreeValue(ctx, obj);
    return rc;
}

static JSModuleDef *node_module_load(JSContext *ctx, const char *name)
{
    JSValue obj = node_module_object(ctx, name);
    if (JS_IsException(obj))
        return NULL;
    JSModuleDef *m = JS_NewCModule(ctx, name, node_module_init);
    JSPropertyEnum *props = NULL;
    uint32_t n = 0;
    if (!m || JS_GetOwnPropertyNames(ctx, &props, &n, obj, JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY) < 0) {
        JS_FreeValue(ctx, obj);
        return NULL;
    }
    JS_FreeValue(ctx, obj);
    bool ok = true, has_default = false;
    for (uint32_t i = 0; i < n; i++) {
        const char *k = JS_AtomToCString(ctx, props[i].atom);
        if (!k || JS_AddModuleExport(ctx, m, k) < 0)
            ok = false;
        else if (strcmp(k, "default") == 0)
            has_default = true;
        JS_FreeCString(ctx, k);
    }
    for (uint32_t i = 0; i < n; i++)
        JS_FreeAtom(ctx, props[i].atom);
    js_free(ctx, props);
    if (ok && !has_default && JS_AddModuleExport(ctx, m, "default") < 0)
        ok = false;
    return ok ? m : NULL;
}

static char *normalize(JSContext *ctx, const char *base, const char *name, void *opaque)
{
    js_loader *L = opaque;
    if (strcmp(name, CF_WORKERS) == 0)
        return js_strdup(ctx, name);
    if (strncmp(name, "node:", 5) == 0) {
        if (!nodejs_compat(ctx)) {
            JS_ThrowTypeError(ctx, "No such module \"%.*s\": Node.js modules need the "
                                   "nodejs_compat compatibility flag (imported from %s)",
                              SPEC_SHOWN_MAX, name, shown(L, base));
            return NULL;
        }
        int has = strchr(name + 5, ':') ? 0 : node_module_exists(ctx, name + 5);
        if (has < 0)
            return NULL;
        if (!has) {
            JS_ThrowTypeError(ctx, "No such module \"%.*s\": durable does not provide this Node.js "
                                   "module (imported from %s; see docs/nodejs.md)",
                              SPEC_SHOWN_MAX, name, shown(L, base));
            return NULL;
        }
        return js_strdup(ctx, name);
    }
    if (strcmp(name, CF_EMAIL) == 0)
        return js_strdup(ctx, name);
    if (strncmp(name, "cloudflare:", 11) == 0) {
        JS_ThrowTypeError(ctx, "No such module \"%.*s\": durable provides only \"%s\" and "
                               "\"%s\" (imported from %s)",
                          SPEC_SHOWN_MAX, name, CF_WORKERS, CF_EMAIL, shown(L, base));
        return NULL;
    }
    if (strncmp(name, "file:", 5) == 0 || strstr(name, "://") || strncmp(name, "data:", 5) == 0) {
        JS_ThrowTypeError(ctx, "No such module \"%.*s\" imported from %s: durable does not load "
                               "modules from URLs; import a relative path",
                          SPEC_SHOWN_MAX, name, shown(L, base));
        return NULL;
    }
    if (!(name[0] == '/' || strncmp(name, "./", 2) == 0 || strncmp(name, "../", 3) == 0)) {
        /* With nodejs_compat, "buffer", "events", … name the node: modules. */
        if (nodejs_compat(ctx) && strlen(name) < 64 && !strchr(name, ':')) {
            int has = node_module_exists(ctx, name);
            if (has < 0)
                return NULL;
            if (has) {
                char full[80];
                snprintf(full, sizeof full, "node:%s", name);
                return js_strdup(ctx, full);
            }
        }
        JS_ThrowTypeError(ctx, "Cannot resolve \"%.*s\" imported from %s: bare module specifiers "
                               "need a bundler; durable loads relative paths only",
                          SPEC_SHOWN_MAX, name, shown(L, base));
        return NULL;
    }
    char *lexical = path_resolve(base, name);
    if (!lexical) {
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    /* Outside the root by its letters: refused before the disk is touched. */
    char *real = under_root(L, lexical) ? realpath(lexical, NULL) : NULL;
    free(lexical);
    if (!real || !under_root(L, real) || (L->sealed && !is_known(L, real))) {
        free(real);
        return no_such_module(ctx, L, name, base);
    }
    char *r = js_strdup(ctx, real);
    free(real);
    return r;
}

/* Opens a module file for reading: a regular file inside the root, at most
 * MODULE_BYTES_MAX bytes. Returns the fd, or -1 with a JS exception thrown. */
static int open_module(JSContext *ctx, const js_loader *L, const char *path, size_t *size)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        JS_ThrowReferenceError(ctx, "could not load module '%s': %s", shown(L, path),
                               strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        JS_ThrowTypeError(ctx, "cannot import '%s': not a regular file", shown(L, path));
        return -1;
    }
    if (sb.st_size < 0 || (uint64_t)sb.st_size > MODULE_BYTES_MAX) {
        close(fd);
        JS_ThrowRangeError(ctx, "module '%s' is larger than %u bytes", shown(L, path),
                           MODULE_BYTES_MAX);
        return -1;
    }
    /* The file opened is the one checked: a symlink swapped into the path after
     * realpath() would show here as a target outside the root. */
    char proc[64], real[PATH_MAX];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, real, sizeof real - 1);
    if (n > 0) {
        real[n] = '\0';
        if (!under_root(L, real)) {
            close(fd);
            JS_ThrowTypeError(ctx, "cannot import '%s': it changed while loading",
                              shown(L, path));
            return -1;
        }
    }
    *size = (size_t)sb.st_size;
    return fd;
}

/* Reads a whole module file, bounded. Returns malloc'd bytes (NUL-terminated) or
 * NULL with a JS exception thrown. */
static char *read_file(JSContext *ctx, const js_loader *L, const char *path, size_t *len)
{
    size_t size;
    int fd = open_module(ctx, L, path, &size);
    if (fd < 0)
        return NULL;
    buf b;
    buf_init(&b, MODULE_BYTES_MAX);
    int rc = buf_reserve(&b, size + 1);
    char chunk[65536];
    ssize_t n = 0;
    while (rc == 0) {
        n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        rc = buf_append(&b, chunk, (size_t)n);   /* a file that grew past the limit: ETOOBIG */
    }
    bool rerr = n < 0;
    close(fd);
    if (rc == DUR_ETOOBIG) {
        buf_fini(&b);
        JS_ThrowRangeError(ctx, "module '%s' is larger than %u bytes", shown(L, path),
                           MODULE_BYTES_MAX);
        return NULL;
    }
    if (rc < 0 || rerr) {
        buf_fini(&b);
        JS_ThrowReferenceError(ctx, "could not read module '%s'", shown(L, path));
        return NULL;
    }
    if (buf_append(&b, "", 0) < 0) {   /* ensure a NUL even for an empty file */
        buf_fini(&b);
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    return buf_take(&b, len);
}

static js_loader *loader_of(JSContext *ctx)
{
    return js__rt_loader(js_rt_of(ctx));
}

/* Data modules: the init function reads the file again by the module's name, so no
 * state has to be parked between the loader and the init call. */
static int data_module_init(JSContext *ctx, JSModuleDef *m)
{
    JSAtom a = JS_GetModuleName(ctx, m);
    const char *path = JS_AtomToCString(ctx, a);
    JS_FreeAtom(ctx, a);
    if (!path)
        return -1;
    size_t len;
    char *bytes = read_file(ctx, loader_of(ctx), path, &len);
    JSValue v = JS_EXCEPTION;
    if (bytes) {
        if (has_suffix(path, ".bin"))
            v = JS_NewArrayBufferCopy(ctx, (const uint8_t *)bytes, len);
        else if (has_suffix(path, ".json"))
            v = JS_ParseJSON(ctx, bytes, len, path);
        else
            v = JS_NewStringLen(ctx, bytes, len);
        free(bytes);
    }
    JS_FreeCString(ctx, path);
    if (JS_IsException(v))
        return -1;
    return JS_SetModuleExport(ctx, m, "default", v);
}

static int cf_workers_init(JSContext *ctx, JSModuleDef *m)
{
    JSValue cfw = JS_GetPropertyStr(ctx, js_native(ctx), "cloudflareWorkers");
    if (!JS_IsObject(cfw)) {
        JS_FreeValue(ctx, cfw);
        JS_ThrowInternalError(ctx, "cloudflare:workers is not available in this context");
        return -1;
    }
    static const char *const names[] = {"DurableObject", "WorkerEntrypoint", "RpcTarget",
                                        "WorkflowEntrypoint", "env", "exports"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        JSValue v = JS_GetPropertyStr(ctx, cfw, names[i]);
        if (JS_IsException(v) || JS_SetModuleExport(ctx, m, names[i], v) < 0) {
            JS_FreeValue(ctx, cfw);
            return -1;
        }
    }
    JS_FreeValue(ctx, cfw);
    return 0;
}

static JSModuleDef *load(JSContext *ctx, const char *name, void *opaque)
{
    js_loader *L = opaque;
    if (strcmp(name, CF_WORKERS) == 0) {
        JSModuleDef *m = JS_NewCModule(ctx, name, cf_workers_init);
        if (!m)
            return NULL;
        JS_AddModuleExport(ctx, m, "DurableObject");
        JS_AddModuleExport(ctx, m, "WorkerEntrypoint");
        JS_AddModuleExport(ctx, m, "RpcTarget");
        JS_AddModuleExport(ctx, m, "WorkflowEntrypoint");
        JS_AddModuleExport(ctx, m, "env");
        JS_AddModuleExport(ctx, m, "exports");
        return m;
    }
    if (strncmp(name, "node:", 5) == 0 || strcmp(name, CF_EMAIL) == 0) {
        if (strcmp(name, CF_EMAIL) != 0 && !nodejs_compat(ctx))
            return (JSModuleDef *)no_such_module(ctx, L, name, "?");
        return node_module_load(ctx, name);
    }
    /* normalize() made `name` and checked it; checked again so that no other way
     * in (a name QuickJS did not normalize through us) can skip the rules. */
    if (name[0] != '/' || !under_root(L, name) || (L->sealed && !is_known(L, name)))
        return (JSModuleDef *)no_such_module(ctx, L, name, "?");
    if (has_suffix(name, ".txt") || has_suffix(name, ".html") || has_suffix(name, ".sql") ||
        has_suffix(name, ".bin") || has_suffix(name, ".json")) {
        size_t size;
        int fd = open_module(ctx, L, name, &size);   /* read by data_module_init */
        if (fd < 0)
            return NULL;
        close(fd);
        JSModuleDef *m = JS_NewCModule(ctx, name, data_module_init);
        if (!m)
            return NULL;
        if (JS_AddModuleExport(ctx, m, "default") < 0 || remember(L, name) < 0) {
            JS_ThrowOutOfMemory(ctx);
            return NULL;
        }
        return m;
    }
    if (!(has_suffix(name, ".js") || has_suffix(name, ".mjs"))) {
        JS_ThrowTypeError(ctx, "cannot import '%s': durable loads .js/.mjs modules, and .txt, "
                               ".html, .sql, .bin and .json as data",
                          shown(L, name));
        return NULL;
    }
    size_t len;
    char *src = read_file(ctx, L, name, &len);
    if (!src)
        return NULL;
    JSValue fn = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    free(src);
    if (JS_IsException(fn))
        return NULL;
    JSModuleDef *m = JS_VALUE_GET_PTR(fn);
    JS_FreeValue(ctx, fn);
    if (remember(L, name) < 0) {
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    return m;
}

js_loader *js__loader_new(JSRuntime *qrt, const char *root, err *e)
{
    js_loader *L = calloc(1, sizeof *L);
    if (!L) {
        err_setf(e, DUR_ENOMEM, "out of memory");
        return NULL;
    }
    L->root = realpath(root ? root : "/", NULL);
    if (!L->root) {
        err_setf(e, -errno, "the project folder %s: %s", root, strerror(errno));
        free(L);
        return NULL;
    }
    L->root_len = strlen(L->root);
    JS_SetModuleLoaderFunc(qrt, normalize, load, L);
    return L;
}

void js__loader_seal(js_loader *L)
{
    L->sealed = true;
}

void js__loader_free(js_loader *L)
{
    if (!L)
        return;
    for (size_t i = 0; i < L->known_count; i++)
        free(L->known[i]);
    free(L->known);
    free(L->root);
    free(L);
}
