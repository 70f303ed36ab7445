/* libFuzzer target for QuickJS's regexp compiler and matcher as patched by us
 * (patches/quickjs: the d and v flags, the first-character skip, the interrupt),
 * through the JS API a Worker uses: `new RegExp(pattern, flags)`, then exec with
 * the global flag's lastIndex walk. Worker code hands the compiler any pattern.
 *
 * Input: the first byte picks the flags (FLAGS[b % n]); the rest is the pattern, a
 * NUL, then the subject (both as UTF-8; invalid bytes are what QuickJS makes of
 * them). Invariants checked: no crash, leak or sanitizer report; a pattern the
 * compiler refuses is a SyntaxError, never another kind of failure; a match lies
 * inside the subject. A match that runs too long is stopped by the interrupt
 * handler (patch 0001), as the CPU limit stops it in durable. */
#include <quickjs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MEMORY_BYTES (64u << 20)
#define FUZZ_INTERRUPTS_MAX 64

static const char *const FLAGS[] = {
    "", "g", "i", "u", "v", "gu", "gv", "iu", "iv", "dv", "dgv", "msv", "ysu", "uv", "gimsuy", "dgimsvy",
};

static int on_interrupt(JSRuntime *rt, void *opaque)
{
    (void)rt;
    int *n = opaque;
    return ++*n > FUZZ_INTERRUPTS_MAX;
}

/* The pending exception must be a SyntaxError (a refused pattern) or the interrupt
 * (an uncatchable InternalError); anything else is a bug. */
static void expect_refusal(JSContext *ctx, bool compile)
{
    JSValue ex = JS_GetException(ctx);
    JSValue name = JS_GetPropertyStr(ctx, ex, "name");
    const char *s = JS_ToCString(ctx, name);
    bool ok = s && ((compile && strcmp(s, "SyntaxError") == 0) || strcmp(s, "InternalError") == 0 ||
                    strcmp(s, "RangeError") == 0 /* stack or size */);
    JS_FreeCString(ctx, s);
    JS_FreeValue(ctx, name);
    JS_FreeValue(ctx, ex);
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    JSRuntime *rt = JS_NewRuntime();
    JS_SetMemoryLimit(rt, FUZZ_MEMORY_BYTES);
    JS_SetMaxStackSize(rt, 1u << 20);
    int interrupts = 0;
    JS_SetInterruptHandler(rt, on_interrupt, &interrupts);
    JSContext *ctx = JS_NewContext(rt);
    if (!rt || !ctx)
        abort();
    const char *flags = FLAGS[data[0] % (sizeof FLAGS / sizeof FLAGS[0])];
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    const char *nul = memchr(rest, 0, n);
    size_t plen = nul ? (size_t)(nul - rest) : n;
    const char *subj = nul ? nul + 1 : "";
    size_t slen = nul ? n - plen - 1 : 0;

    JSValue global = JS_GetGlobalObject(ctx);
    JSValue ctor = JS_GetPropertyStr(ctx, global, "RegExp");
    JSValue args[2] = { JS_NewStringLen(ctx, rest, plen), JS_NewString(ctx, flags) };
    JSValue re = JS_CallConstructor(ctx, ctor, 2, (JSValueConst *)args);
    if (JS_IsException(re)) {
        expect_refusal(ctx, true);
    } else {
        JSValue s = JS_NewStringLen(ctx, subj, slen);
        JSValue len_v = JS_GetPropertyStr(ctx, s, "length");
        int64_t len = 0;
        JS_ToInt64(ctx, &len, len_v);
        JSValue exec = JS_GetPropertyStr(ctx, re, "exec");
        /* at most a few matches: with g/y, exec walks lastIndex along */
        for (int i = 0; i < 8; i++) {
            JSValue m = JS_Call(ctx, exec, re, 1, (JSValueConst *)&s);
            if (JS_IsException(m)) {
                expect_refusal(ctx, false);
                break;
            }
            if (JS_IsNull(m))
                break;
            JSValue idx_v = JS_GetPropertyStr(ctx, m, "index");
            JSValue m0 = JS_GetPropertyUint32(ctx, m, 0);
            JSValue m0len_v = JS_GetPropertyStr(ctx, m0, "length");
            int64_t idx = -1, m0len = -1;
            JS_ToInt64(ctx, &idx, idx_v);
            JS_ToInt64(ctx, &m0len, m0len_v);
            if (idx < 0 || m0len < 0 || idx + m0len > len)
                abort();
            JS_FreeValue(ctx, m0len_v);
            JS_FreeValue(ctx, m0);
            JS_FreeValue(ctx, idx_v);
            JS_FreeValue(ctx, m);
            if (!strchr(flags, 'g') && !strchr(flags, 'y'))
                break;
        }
        JS_FreeValue(ctx, exec);
        JS_FreeValue(ctx, len_v);
        JS_FreeValue(ctx, s);
        JS_FreeValue(ctx, re);
    }
    JS_FreeValue(ctx, args[0]);
    JS_FreeValue(ctx, args[1]);
    JS_FreeValue(ctx, ctor);
    JS_FreeValue(ctx, global);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    return 0;
}
