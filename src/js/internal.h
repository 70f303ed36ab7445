/* Shared inside src/js only. */
#pragma once
#include <quickjs.h>

#include "js/rt.h"

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
/* loader.c: installs the module normalizer and loader on the runtime. */
void js__loader_setup(JSRuntime *qrt);
/* builtins.c: natives of the js layer (structuredClone, prelude helpers). */
int js__builtins_install(JSContext *ctx, JSValueConst native);
