/* encoding.c: UTF-8 transcoding for TextEncoder / TextDecoder, and atob / btoa
 * (spec: workers.md WEB-6, WEB-11; WHATWG Encoding and HTML "forgiving-base64").
 *
 * The classes live in web/js/20_encoding.js; the byte work is here because it runs
 * over whole request bodies. JS hands bytes over as (ArrayBuffer, byteOffset,
 * byteLength), already brand-checked, so C never guesses at view types.
 *
 * Natives on N:
 *   utf8Encode(str) -> ArrayBuffer
 *   utf8EncodeInto(str, ab, off, len) -> [read (UTF-16 units), written (bytes)]
 *   utf8Decode(ab, off, len, fatal, stream, stateAb) -> string
 * Globals: atob(data), btoa(data).
 *
 * Encoding: QuickJS converts a string to WTF-8 (a lone surrogate becomes the
 * 3-byte sequence ED A0..BF xx); the encoder replaces each of those with
 * EF BF BD (U+FFFD, also 3 bytes), as the USVString conversion requires.
 * Decoding follows the Encoding Standard's UTF-8 decoder byte for byte (so the
 * number of U+FFFD for a malformed sequence matches browsers). Its state (a partial
 * sequence at the end of a streamed chunk) lives in an 8-byte ArrayBuffer the JS
 * decoder owns. A first pass counts the output; input that is valid UTF-8 on its
 * own is handed to JS_NewStringLen without a copy, the rest is rebuilt once. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "js/bytes.h"
#include "js/rt.h"
#include "web/web.h"

/* QuickJS's longest string (JS_STRING_LEN_MAX, not exported): 2^30 - 1 units. */
#define STRING_UNITS_MAX ((size_t)(1u << 30) - 1)

/* ---- bytes from JS ---- */


/* ---- UTF-8 decoder (Encoding Standard, "UTF-8 decoder") ---- */

typedef struct utf8_dec {
    uint32_t cp;
    uint8_t needed, seen, lower, upper;
} utf8_dec;

static void dec_reset(utf8_dec *d)
{
    d->cp = 0;
    d->needed = d->seen = 0;
    d->lower = 0x80;
    d->upper = 0xBF;
}

static bool dec_valid(const utf8_dec *d)
{
    return d->needed <= 3 && d->seen < (d->needed ? d->needed : 1) && d->lower >= 0x80 &&
           d->upper <= 0xBF && d->lower <= d->upper && d->cp < 0x110000;
}

typedef struct dec_out {
    uint8_t *p;       /* NULL: count only */
    size_t len;       /* bytes of UTF-8 produced */
    size_t units;     /* UTF-16 code units produced */
    size_t errors;
} dec_out;

static void emit(dec_out *o, uint32_t c)
{
    uint8_t b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (uint8_t)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (uint8_t)(0xC0 | (c >> 6));
        b[1] = (uint8_t)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (uint8_t)(0xE0 | (c >> 12));
        b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | (c >> 18));
        b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        b[3] = (uint8_t)(0x80 | (c & 0x3F));
        n = 4;
    }
    if (o->p)
        memcpy(o->p + o->len, b, n);
    o->len += n;
    o->units += c > 0xFFFF ? 2 : 1;
}

static void emit_error(dec_out *o)
{
    o->errors++;
    emit(o, 0xFFFD);
}

/* Runs the decoder over `in`; with `flush`, an unfinished sequence at the end is an
 * error. With `stop_on_error` (fatal mode) it returns at the first error. A flat
 * state machine, one byte per iteration, as the standard writes it. */
static void utf8_run(utf8_dec *d, const uint8_t *in, size_t n, bool flush, bool stop_on_error,
                     dec_out *o)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = in[i];
        if (d->needed == 0) {
            if (b < 0x80) {
                /* ASCII runs are the common case: copy them in one go. */
                size_t j = i + 1;
                while (j < n && in[j] < 0x80)
                    j++;
                if (o->p)
                    memcpy(o->p + o->len, in + i, j - i);
                o->len += j - i;
                o->units += j - i;
                i = j;
                continue;
            }
            i++;
            if (b >= 0xC2 && b <= 0xDF) {
                d->needed = 1;
                d->cp = b & 0x1F;
            } else if (b >= 0xE0 && b <= 0xEF) {
                if (b == 0xE0)
                    d->lower = 0xA0;
                if (b == 0xED)
                    d->upper = 0x9F;
                d->needed = 2;
                d->cp = b & 0x0F;
            } else if (b >= 0xF0 && b <= 0xF4) {
                if (b == 0xF0)
                    d->lower = 0x90;
                if (b == 0xF4)
                    d->upper = 0x8F;
                d->needed = 3;
                d->cp = b & 0x07;
            } else {
                emit_error(o);
                if (stop_on_error)
                    return;
            }
            continue;
        }
        if (b < d->lower || b > d->upper) {
            /* The byte is not consumed: it starts over in the initial state. */
            dec_reset(d);
            emit_error(o);
            if (stop_on_error)
                return;
            continue;
        }
        i++;
        d->lower = 0x80;
        d->upper = 0xBF;
        d->cp = (d->cp << 6) | (b & 0x3F);
        if (++d->seen == d->needed) {
            uint32_t c = d->cp;
            dec_reset(d);
            emit(o, c);
        }
    }
    if (flush && d->needed) {
        dec_reset(d);
        emit_error(o);
    }
}

static const char DECODE_INVALID[] =
    "Failed to execute 'decode' on 'TextDecoder': The encoded data was not valid.";

/* utf8Decode(ab, off, len, fatal, stream, stateAb) */
static JSValue js_utf8_decode(JSContext *ctx, JSValueConst this_val, int argc,
                              JSValueConst *argv)
{
    uint8_t *in;
    size_t n;
    if (argc < 6 || js_byte_range(ctx, argv[0], argv[1], argv[2], &in, &n) < 0)
        return argc < 6 ? JS_ThrowTypeError(ctx, "utf8Decode: 6 arguments required")
                        : JS_EXCEPTION;
    bool fatal = JS_ToBool(ctx, argv[3]);
    bool stream = JS_ToBool(ctx, argv[4]);
    utf8_dec d, start;
    dec_reset(&d);
    uint8_t *state = NULL;
    if (!JS_IsUndefined(argv[5])) {
        size_t state_len;
        state = JS_GetArrayBuffer(ctx, &state_len, argv[5]);
        if (!state)
            return JS_EXCEPTION;
        if (state_len != sizeof d)
            return JS_ThrowTypeError(ctx, "utf8Decode: the state buffer must be %zu bytes",
                                     sizeof d);
        memcpy(&d, state, sizeof d);
        if (!dec_valid(&d))   /* all zero (fresh) or damaged: start over */
            dec_reset(&d);
    }
    start = d;
    bool fresh = start.needed == 0;

    dec_out count = {0};
    utf8_run(&d, in, n, !stream, fatal, &count);
    if (fatal && count.errors) {
        if (state) {
            dec_reset(&d);
            memcpy(state, &d, sizeof d);
        }
        return JS_ThrowTypeError(ctx, "%s", DECODE_INVALID);
    }
    if (count.units > STRING_UNITS_MAX)
        return JS_ThrowRangeError(ctx,
                                  "Failed to execute 'decode' on 'TextDecoder': the text "
                                  "would be %zu characters, more than the maximum of %zu",
                                  count.units, STRING_UNITS_MAX);
    if (state)
        memcpy(state, &d, sizeof d);
    if (fresh && d.needed == 0 && count.errors == 0 && count.len == n)
        return JS_NewStringLen(ctx, (const char *)in, n);   /* valid as it is */
    dec_out out = {.p = malloc(count.len ? count.len : 1)};
    if (!out.p)
        return JS_ThrowOutOfMemory(ctx);
    d = start;
    utf8_run(&d, in, n, !stream, false, &out);
    JSValue s = JS_NewStringLen(ctx, (const char *)out.p, out.len);
    free(out.p);
    return s;
}

/* ---- UTF-8 encoder ---- */

/* Length of the UTF-8 (WTF-8) sequence starting with lead byte b. QuickJS only
 * produces well-formed sequences, so the lead byte is enough. */
static size_t seq_len(uint8_t b)
{
    return b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
}

/* Replaces each encoded lone surrogate (ED A0..BF xx) in p[0..n) by U+FFFD. */
static void fix_surrogates(uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 2 < n; i++) {
        if (p[i] == 0xED && p[i + 1] >= 0xA0) {
            p[i] = 0xEF;
            p[i + 1] = 0xBF;
            p[i + 2] = 0xBD;
            i += 2;
        }
    }
}

static JSValue js_utf8_encode(JSContext *ctx, JSValueConst this_val, int argc,
                              JSValueConst *argv)
{
    size_t len;
    const char *s = JS_ToCStringLen2(ctx, &len, argc ? argv[0] : JS_UNDEFINED, 0);
    if (!s)
        return JS_EXCEPTION;
    JSValue ab = JS_NewArrayBufferCopy(ctx, (const uint8_t *)s, len);
    JS_FreeCString(ctx, s);
    if (JS_IsException(ab))
        return ab;
    size_t ab_len;
    uint8_t *p = JS_GetArrayBuffer(ctx, &ab_len, ab);
    if (p)
        fix_surrogates(p, ab_len);
    return ab;
}

/* utf8EncodeInto(str, ab, off, len) -> [read, written]: whole characters only. */
static JSValue js_utf8_encode_into(JSContext *ctx, JSValueConst this_val, int argc,
                                   JSValueConst *argv)
{
    if (argc < 4)
        return JS_ThrowTypeError(ctx, "utf8EncodeInto: 4 arguments required");
    uint8_t *dst;
    size_t cap;
    if (js_byte_range(ctx, argv[1], argv[2], argv[3], &dst, &cap) < 0)
        return JS_EXCEPTION;
    size_t len;
    const char *s = JS_ToCStringLen2(ctx, &len, argv[0], 0);
    if (!s)
        return JS_EXCEPTION;
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0, written = 0;
    int64_t read = 0;
    while (i < len) {
        size_t k = seq_len(u[i]);
        if (k > len - i || k > cap - written)
            break;
        memcpy(dst + written, u + i, k);
        if (k == 3)
            fix_surrogates(dst + written, 3);
        written += k;
        i += k;
        read += k == 4 ? 2 : 1;
    }
    JS_FreeCString(ctx, s);
    JSValue arr = JS_NewArray(ctx);
    if (JS_IsException(arr))
        return arr;
    if (JS_SetPropertyUint32(ctx, arr, 0, JS_NewInt64(ctx, read)) < 0 ||
        JS_SetPropertyUint32(ctx, arr, 1, JS_NewInt64(ctx, (int64_t)written)) < 0) {
        JS_FreeValue(ctx, arr);
        return JS_EXCEPTION;
    }
    return arr;
}

/* ---- atob / btoa (HTML: forgiving-base64) ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static JSValue throw_arg_count(JSContext *ctx, const char *fn)
{
    return JS_ThrowTypeError(ctx,
                             "Failed to execute '%s' on 'WorkerGlobalScope': 1 argument "
                             "required, but only 0 present.",
                             fn);
}

/* Each ASCII byte's base64 value; B64_WS for ASCII whitespace, B64_PAD for '=', B64_BAD
 * for the rest (one table lookup per character instead of a chain of ranges). */
enum { B64_BAD = -1, B64_WS = -2, B64_PAD = -3 };
#define X B64_BAD
#define W B64_WS
#define P B64_PAD
static const int8_t b64_ascii[128] = {
    X, X, X, X, X, X, X, X, X, W, W, X, W, W, X, X,
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    W, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, P, X, X,
    X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
    X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
};
#undef X
#undef W
#undef P

static int b64_class(uint8_t c)
{
    return c < 128 ? b64_ascii[c] : B64_BAD;
}

/* Decodes forgiving-base64 text s[0..n) into out (room for n bytes). Returns the
 * byte count, or -1 if the text is not valid. */
static long b64_decode(const uint8_t *s, size_t n, uint8_t *out)
{
    /* Count the significant characters and the '=' padding at their end. */
    size_t sig = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_class(s[i]);
        if (v >= 0) {
            if (pad)
                return -1;   /* a data character after '=' */
        } else if (v == B64_WS) {
            continue;
        } else if (v == B64_PAD) {
            pad++;
        } else {
            return -1;       /* outside the alphabet */
        }
        sig++;
    }
    if (pad) {
        if (sig % 4 != 0 || pad > 2)
            return -1;
        sig -= pad;
    }
    if (sig % 4 == 1)
        return -1;
    uint32_t acc = 0;
    size_t bits = 0, o = 0, seen = 0;
    for (size_t i = 0; i < n && seen < sig; i++) {
        int v = b64_class(s[i]);
        if (v == B64_WS)
            continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        seen++;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

static JSValue js_atob(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 1)
        return throw_arg_count(ctx, "atob");
    size_t n;
    const char *s = JS_ToCStringLen(ctx, &n, argv[0]);
    if (!s)
        return JS_EXCEPTION;
    /* Latin-1 output written as UTF-8: at most 2 bytes per decoded byte. */
    uint8_t *bytes = malloc(n ? n : 1);
    uint8_t *text = malloc(n ? 2 * n : 1);
    JSValue ret;
    long m = bytes && text ? b64_decode((const uint8_t *)s, n, bytes) : -2;
    if (m == -2) {
        ret = JS_ThrowOutOfMemory(ctx);
    } else if (m < 0) {
        ret = js_throw_dom(ctx, "InvalidCharacterError",
                           "Failed to execute 'atob' on 'WorkerGlobalScope': The string to "
                           "be decoded is not correctly encoded.");
    } else {
        size_t t = 0;
        for (long i = 0; i < m; i++) {
            if (bytes[i] < 0x80) {
                text[t++] = bytes[i];
            } else {
                text[t++] = (uint8_t)(0xC0 | (bytes[i] >> 6));
                text[t++] = (uint8_t)(0x80 | (bytes[i] & 0x3F));
            }
        }
        ret = JS_NewStringLen(ctx, (const char *)text, t);
    }
    free(bytes);
    free(text);
    JS_FreeCString(ctx, s);
    return ret;
}

static JSValue js_btoa(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 1)
        return throw_arg_count(ctx, "btoa");
    size_t n;
    const char *s = JS_ToCStringLen(ctx, &n, argv[0]);
    if (!s)
        return JS_EXCEPTION;
    const uint8_t *u = (const uint8_t *)s;
    JSValue ret = JS_EXCEPTION;
    char *out = NULL;
    uint8_t *bytes = malloc(n ? n : 1);
    if (!bytes) {
        JS_ThrowOutOfMemory(ctx);
        goto done;
    }
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            bytes[m++] = u[i++];
        } else if ((u[i] == 0xC2 || u[i] == 0xC3) && i + 1 < n) {
            bytes[m++] = (uint8_t)(((u[i] & 0x03) << 6) | (u[i + 1] & 0x3F));
            i += 2;
        } else {
            js_throw_dom(ctx, "InvalidCharacterError",
                         "Failed to execute 'btoa' on 'WorkerGlobalScope': The string to be "
                         "encoded contains characters outside of the Latin1 range.");
            goto done;
        }
    }
    size_t out_len = (m + 2) / 3 * 4;
    if (out_len > STRING_UNITS_MAX) {
        JS_ThrowRangeError(ctx, "Failed to execute 'btoa' on 'WorkerGlobalScope': the result "
                                "would be longer than the maximum string length");
        goto done;
    }
    out = malloc(out_len ? out_len : 1);
    if (!out) {
        JS_ThrowOutOfMemory(ctx);
        goto done;
    }
    size_t o = 0, i = 0;
    for (; i + 3 <= m; i += 3) {
        uint32_t v = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8 | bytes[i + 2];
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63];
        out[o++] = B64[v & 63];
    }
    if (m - i == 1) {
        uint32_t v = (uint32_t)bytes[i] << 16;
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (m - i == 2) {
        uint32_t v = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8;
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63];
        out[o++] = B64[(v >> 6) & 63];
        out[o++] = '=';
    }
    ret = JS_NewStringLen(ctx, out, o);
done:
    free(out);
    free(bytes);
    JS_FreeCString(ctx, s);
    return ret;
}

static const JSCFunctionListEntry encoding_natives[] = {
    JS_CFUNC_DEF("utf8Encode", 1, js_utf8_encode),
    JS_CFUNC_DEF("utf8EncodeInto", 4, js_utf8_encode_into),
    JS_CFUNC_DEF("utf8Decode", 6, js_utf8_decode),
};

static const JSCFunctionListEntry encoding_globals[] = {
    JS_CFUNC_DEF("atob", 1, js_atob),
    JS_CFUNC_DEF("btoa", 1, js_btoa),
};

int web_encoding_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, encoding_natives,
                               sizeof encoding_natives / sizeof encoding_natives[0]);
    JSValue global = JS_GetGlobalObject(ctx);
    JS_SetPropertyFunctionList(ctx, global, encoding_globals,
                               sizeof encoding_globals / sizeof encoding_globals[0]);
    JS_FreeValue(ctx, global);
    return 0;
}
