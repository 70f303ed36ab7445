/* libFuzzer target for js/clone.c: js_clone_read on arbitrary bytes.
 * Invariants checked: no crash, no leak (each input gets its own runtime, and
 * QuickJS asserts at JS_FreeRuntime that every object was freed); a failure is a
 * pending exception, never a silent value; whatever decodes re-encodes, and that
 * encoding is canonical (decoding and encoding it again gives the same bytes). */
#include <quickjs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "js/clone.h"

#define FUZZ_MEMORY_BYTES (64u << 20)
#define FUZZ_OUT_BYTES_MAX (16u << 20)

static void encode(JSContext *ctx, JSValueConst v, buf *out)
{
    buf_init(out, FUZZ_OUT_BYTES_MAX);
    if (js_clone_write(ctx, v, 0, out) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    JSRuntime *rt = JS_NewRuntime();
    JS_SetMemoryLimit(rt, FUZZ_MEMORY_BYTES);
    JS_SetMaxStackSize(rt, 4u << 20);
    JSContext *ctx = JS_NewContext(rt);
    if (!rt || !ctx || js_clone_install(ctx) != 0)
        abort();
    JSValue v = js_clone_read(ctx, data, size);
    if (JS_IsException(v)) {
        JSValue e = JS_GetException(ctx);
        if (JS_IsNull(e))            /* JS_EXCEPTION with nothing pending */
            abort();
        JS_FreeValue(ctx, e);
    } else {
        buf b1, b2;
        encode(ctx, v, &b1);
        JSValue v2 = js_clone_read(ctx, (const uint8_t *)b1.ptr, b1.len);
        if (JS_IsException(v2))
            abort();
        encode(ctx, v2, &b2);
        if (b1.len != b2.len || memcmp(b1.ptr, b2.ptr, b1.len) != 0)
            abort();
        JS_FreeValue(ctx, v2);
        buf_fini(&b1);
        buf_fini(&b2);
        JS_FreeValue(ctx, v);
    }
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    return 0;
}
