/* compression.c: zlib under CompressionStream / DecompressionStream (WHATWG
 * Compression; the classes are in web/js/37_compression.js).
 *
 * Natives on N:
 *   zNew(format, decompress) -> box   format: 0 "deflate", 1 "deflate-raw", 2 "gzip"
 *   zPush(box, ab, off, len)          hands over the next input chunk (copied)
 *   zPull(box, finish) -> ArrayBuffer | null
 * zPull runs zlib over the pending input and returns at most ZCHUNK bytes of
 * output; null means "no more output until more input" (or, with `finish`, "the
 * stream is complete"). The JS side pulls one chunk per read of the readable side,
 * so a small input that inflates to gigabytes never sits in memory at once.
 * Corrupt, truncated or trailing input throws a TypeError, as the standard asks.
 *
 * The z_stream lives in a native handle (js_handle_new, js/rt.h: out of reach of
 * JS) whose free function ends it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "js/bytes.h"
#include "js/rt.h"
#include "web/web.h"

#define ZBOX_TAG 0x7a626f78u   /* "zbox" */
#define ZCHUNK (64 * 1024)

typedef struct zbox {
    bool decompress, ended, failed;
    z_stream s;
    uint8_t *in;   /* owned copy of the pending input */
} zbox;

static void zbox_free(JSRuntime *rt, void *ptr)
{
    (void)rt;
    zbox *b = ptr;
    if (b->decompress)
        inflateEnd(&b->s);
    else
        deflateEnd(&b->s);
    free(b->in);
    free(b);
}

static zbox *zbox_get(JSContext *ctx, JSValueConst v)
{
    return js_handle_get(ctx, v, ZBOX_TAG, "compression: not a stream handle");
}

static JSValue js_znew(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int32_t fmt;
    if (argc < 2 || JS_ToInt32(ctx, &fmt, argv[0]) < 0)
        return argc < 2 ? JS_ThrowTypeError(ctx, "zNew: 2 arguments required") : JS_EXCEPTION;
    if (fmt < 0 || fmt > 2)
        return JS_ThrowRangeError(ctx, "zNew: bad format %d", fmt);
    int bits = fmt == 0 ? 15 : fmt == 1 ? -15 : 15 + 16;
    zbox *b = calloc(1, sizeof *b);
    if (!b)
        return JS_ThrowOutOfMemory(ctx);
    b->decompress = JS_ToBool(ctx, argv[1]);
    int rc = b->decompress ? inflateInit2(&b->s, bits)
                           : deflateInit2(&b->s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8,
                                          Z_DEFAULT_STRATEGY);
    if (rc != Z_OK) {
        free(b);
        return rc == Z_MEM_ERROR ? JS_ThrowOutOfMemory(ctx)
                                 : JS_ThrowInternalError(ctx, "compression: zlib init failed");
    }
    return js_handle_new(ctx, ZBOX_TAG, b, zbox_free);
}

static JSValue js_zpush(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 4)
        return JS_ThrowTypeError(ctx, "zPush: 4 arguments required");
    zbox *b = zbox_get(ctx, argv[0]);
    if (!b)
        return JS_EXCEPTION;
    uint8_t *p;
    size_t n;
    if (js_byte_range(ctx, argv[1], argv[2], argv[3], &p, &n) < 0)
        return JS_EXCEPTION;
    if (b->s.avail_in)
        return JS_ThrowInternalError(ctx, "zPush: the previous input is not consumed");
    if (n > UINT32_MAX)
        return JS_ThrowRangeError(ctx, "compression: a chunk of %zu bytes is too large", n);
    if (b->failed)
        return JS_ThrowTypeError(ctx, "compression: the stream has failed");
    if (b->decompress && b->ended && n) {
        b->failed = true;
        return JS_ThrowTypeError(ctx, "DecompressionStream: junk found after the end of the compressed data");
    }
    free(b->in);
    b->in = NULL;
    if (n) {
        b->in = malloc(n);
        if (!b->in)
            return JS_ThrowOutOfMemory(ctx);
        memcpy(b->in, p, n);
    }
    b->s.next_in = b->in;
    b->s.avail_in = (uInt)n;
    return JS_UNDEFINED;
}

static JSValue js_zpull(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 2)
        return JS_ThrowTypeError(ctx, "zPull: 2 arguments required");
    zbox *b = zbox_get(ctx, argv[0]);
    if (!b)
        return JS_EXCEPTION;
    bool finish = JS_ToBool(ctx, argv[1]);
    if (b->failed)
        return JS_ThrowTypeError(ctx, "compression: the stream has failed");
    if (b->ended && (!b->decompress || b->s.avail_in == 0))
        return JS_NULL;
    uint8_t *out = malloc(ZCHUNK);
    if (!out)
        return JS_ThrowOutOfMemory(ctx);
    b->s.next_out = out;
    b->s.avail_out = ZCHUNK;
    const char *fail = NULL;
    if (b->decompress) {
        if (b->ended) {
            fail = "DecompressionStream: junk found after the end of the compressed data";
        } else {
            int rc = inflate(&b->s, Z_NO_FLUSH);
            if (rc == Z_STREAM_END) {
                b->ended = true;
                if (b->s.avail_in)
                    fail = "DecompressionStream: junk found after the end of the compressed data";
            } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
                fail = "DecompressionStream: the compressed data is corrupt";
            } else if (rc == Z_MEM_ERROR) {
                free(out);
                return JS_ThrowOutOfMemory(ctx);
            }
        }
    } else {
        int rc = deflate(&b->s, finish ? Z_FINISH : Z_NO_FLUSH);
        if (rc == Z_STREAM_END)
            b->ended = true;
        else if (rc == Z_STREAM_ERROR)
            fail = "CompressionStream: zlib failed";
    }
    size_t produced = ZCHUNK - b->s.avail_out;
    if (!fail && produced == 0 && finish && b->decompress && !b->ended)
        fail = "DecompressionStream: the compressed data ended early";
    if (fail) {
        free(out);
        b->failed = true;
        return JS_ThrowTypeError(ctx, "%s", fail);
    }
    if (b->s.avail_in == 0) {
        free(b->in);
        b->in = NULL;
        b->s.next_in = NULL;
    }
    JSValue r = produced ? JS_NewArrayBufferCopy(ctx, out, produced) : JS_NULL;
    free(out);
    return r;
}

static const JSCFunctionListEntry compression_natives[] = {
    JS_CFUNC_DEF("zNew", 2, js_znew),
    JS_CFUNC_DEF("zPush", 4, js_zpush),
    JS_CFUNC_DEF("zPull", 2, js_zpull),
};

int web_compression_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, compression_natives,
                               sizeof compression_natives / sizeof compression_natives[0]);
    return 0;
}
