/* Shared inside src/js only. */
#pragma once
#include <quickjs.h>

#include "js/rt.h"

/* QuickJS 2021-03-27 defines these (extern, not static) without declaring them in
 * quickjs.h: an Error object flagged uncatchable unwinds past every try/catch and
 * finally, as the interrupt handler's error does (N.eventAbort). */
JS_BOOL JS_IsUncatchableError(JSContext *ctx, JSValueConst val);
void JS_SetUncatchableError(JSContext *ctx, JSValueConst val, JS_BOOL flag);

typedef struct js_ctx_cleanup {
    js_ctx_cleanup_fn fn;
    void *ud;
} js_ctx_cleanup;

typedef struct js_ctx_state {
    JSValue native;            /* the hidden native object, kept after __durable is deleted */
    void *slots[JS_SLOT_COUNT];  /* owned by the layer that set them */
    js_ctx_cleanup *cleanups;
    size_t cleanup_count;
} js_ctx_state;

js_ctx_state *js__ctx_state(JSContext *ctx);
/* loader.c: the module normalizer and loader of a runtime. Modules load only from
 * inside `root` (after symlinks; NULL = anywhere, for tests); once sealed, only
 * the modules loaded before. NULL with *e filled if root cannot be resolved. */
typedef struct js_loader js_loader;
js_loader *js__loader_new(JSRuntime *qrt, const char *root, err *e);
void js__loader_seal(js_loader *l);
void js__loader_free(js_loader *l);     /* after JS_FreeRuntime */
/* rt.c: the runtime's loader. */
js_loader *js__rt_loader(js_rt *rt);
/* builtins.c: natives of the js layer (structuredClone, prelude helpers). */
int js__builtins_install(JSContext *ctx, JSValueConst native);
