/* loader.c: the ES module loader (spec: workers.md WRK-1, WRK-9, WEB-21).
 *
 * Module names are absolute file paths, plus the built-in "cloudflare:workers".
 * Relative specifiers ("./x.js", "../lib/y.mjs") resolve against the importing
 * module's path; bare specifiers need a bundler and are refused with a message that
 * says so; "node:*" modules are refused at load (no nodejs_compat yet).
 * By extension, as wrangler's default module rules do: .js/.mjs → ES module,
 * .txt/.html/.sql → text (default export: string), .bin → data (ArrayBuffer),
 * .json → the parsed value; anything else is refused with its name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "js/internal.h"

#define MODULE_BYTES_MAX (64u * 1024u * 1024u)
#define CF_WORKERS "cloudflare:workers"

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Joins dir + "/" + rel and removes "." and ".." segments. Returns malloc'd. */
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

static char *normalize(JSContext *ctx, const char *base, const char *name, void *opaque)
{
    if (strcmp(name, CF_WORKERS) == 0)
        return js_strdup(ctx, name);
    if (strncmp(name, "node:", 5) == 0) {
        JS_ThrowTypeError(ctx, "No such module \"%s\": Node.js modules need the nodejs_compat "
                               "flag, which durable does not support yet (imported from %s)",
                          name, base);
        return NULL;
    }
    if (strncmp(name, "cloudflare:", 11) == 0) {
        JS_ThrowTypeError(ctx, "No such module \"%s\": durable provides only \"%s\" (imported from %s)",
                          name, CF_WORKERS, base);
        return NULL;
    }
    if (!(name[0] == '/' || strncmp(name, "./", 2) == 0 || strncmp(name, "../", 3) == 0)) {
        JS_ThrowTypeError(ctx, "Cannot resolve \"%s\" imported from %s: bare module specifiers "
                               "need a bundler; durable loads relative paths only",
                          name, base);
        return NULL;
    }
    char *p = path_resolve(base, name);
    if (!p) {
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    char *r = js_strdup(ctx, p);
    free(p);
    return r;
}

/* Reads a whole file, bounded. Returns malloc'd bytes (NUL-terminated) or NULL with
 * a JS exception thrown. */
static char *read_file(JSContext *ctx, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        JS_ThrowReferenceError(ctx, "could not load module '%s': %s", path, strerror(errno));
        return NULL;
    }
    buf b;
    buf_init(&b, MODULE_BYTES_MAX);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = buf_append(&b, chunk, n)) < 0)
            break;
    bool ferr = ferror(f);
    fclose(f);
    if (rc == DUR_ETOOBIG) {
        buf_fini(&b);
        JS_ThrowRangeError(ctx, "module '%s' is larger than %u bytes", path, MODULE_BYTES_MAX);
        return NULL;
    }
    if (rc < 0 || ferr) {
        buf_fini(&b);
        JS_ThrowReferenceError(ctx, "could not read module '%s'", path);
        return NULL;
    }
    if (buf_append(&b, "", 0) < 0) {   /* ensure a NUL even for an empty file */
        buf_fini(&b);
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    return buf_take(&b, len);
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
    char *bytes = read_file(ctx, path, &len);
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
                                        "WorkflowEntrypoint", "env"};
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
    if (strcmp(name, CF_WORKERS) == 0) {
        JSModuleDef *m = JS_NewCModule(ctx, name, cf_workers_init);
        if (!m)
            return NULL;
        JS_AddModuleExport(ctx, m, "DurableObject");
        JS_AddModuleExport(ctx, m, "WorkerEntrypoint");
        JS_AddModuleExport(ctx, m, "RpcTarget");
        JS_AddModuleExport(ctx, m, "WorkflowEntrypoint");
        JS_AddModuleExport(ctx, m, "env");
        return m;
    }
    if (has_suffix(name, ".txt") || has_suffix(name, ".html") || has_suffix(name, ".sql") ||
        has_suffix(name, ".bin") || has_suffix(name, ".json")) {
        struct stat sb;
        if (stat(name, &sb) != 0) {
            JS_ThrowReferenceError(ctx, "could not load module '%s': %s", name, strerror(errno));
            return NULL;
        }
        JSModuleDef *m = JS_NewCModule(ctx, name, data_module_init);
        if (m)
            JS_AddModuleExport(ctx, m, "default");
        return m;
    }
    if (!(has_suffix(name, ".js") || has_suffix(name, ".mjs"))) {
        JS_ThrowTypeError(ctx, "cannot import '%s': durable loads .js/.mjs modules, and .txt, "
                               ".html, .sql, .bin and .json as data",
                          name);
        return NULL;
    }
    size_t len;
    char *src = read_file(ctx, name, &len);
    if (!src)
        return NULL;
    JSValue fn = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    free(src);
    if (JS_IsException(fn))
        return NULL;
    JSModuleDef *m = JS_VALUE_GET_PTR(fn);
    JS_FreeValue(ctx, fn);
    return m;
}

void js__loader_setup(JSRuntime *qrt)
{
    JS_SetModuleLoaderFunc(qrt, normalize, load, NULL);
}
