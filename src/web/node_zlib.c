/* node_zlib.c: the codecs under node:zlib (nodejs_compat; the module is
 * web/js/67_node_zlib.js, docs/nodejs.md): zlib's deflate/inflate in its three
 * wrappings and brotli's encoder/decoder.
 *
 * Natives on N:
 *   nzNew(mode, level, windowBits, memLevel, strategy, dictionary, params) -> handle
 *       mode is Node's: 1 DEFLATE 2 INFLATE 3 GZIP 4 GUNZIP 5 DEFLATERAW
 *       6 INFLATERAW 7 UNZIP 8 BROTLI_DECODE 9 BROTLI_ENCODE; params: brotli's
 *       [key, value, key, value…] (ignored for zlib modes)
 *   nzPush(handle, ab, off, len)     the next input (copied)
 *   nzPull(handle, flush, max) -> ArrayBuffer | null
 *       at most `max` bytes of output; null once nothing more comes for this flush
 *   nzRun(handle, ab, off, len, flush, maxOutputLength) -> ArrayBuffer
 *       one-shot: all the output of this input, or a RangeError
 *       (code ERR_BUFFER_TOO_LARGE) as soon as it would pass maxOutputLength
 *   nzReset(handle), nzParams(handle, level, strategy)
 *   nzCrc32(crc, ab, off, len) -> uint32
 *   nzHeapLimit() -> the Worker's heap limit in bytes
 *   nzConstants -> the numeric constants of zlib.h and brotli's headers
 *
 * Every byte — the codec state, pending input, output — is allocated on the
 * Worker's JavaScript heap (js_malloc), so it counts against the heap limit: a
 * small input that inflates without end reaches maxOutputLength (by default a
 * quarter of the heap limit) and fails with a RangeError, it never grows host
 * memory. Codec errors throw Node's shape: an Error with `errno` and `code`
 * ("Z_DATA_ERROR", "Z_BUF_ERROR" for truncated input, "ERR_…" from brotli). */
#include <brotli/decode.h>
#include <brotli/encode.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "js/bytes.h"
#include "js/rt.h"
#include "web/web.h"

#define NZ_TAG 0x6e7a6278u   /* "nzbx": js_handle tag */
#define NZ_PARAMS_MAX 16

enum { M_DEFLATE = 1, M_INFLATE, M_GZIP, M_GUNZIP, M_DEFLATERAW, M_INFLATERAW, M_UNZIP,
       M_BROTLI_DECODE, M_BROTLI_ENCODE };

typedef struct nzbox {
    int mode;
    bool ended;          /* the compressed stream is complete */
    bool init;           /* the codec state exists */
    int level, window_bits, mem_level, strategy;
    JSRuntime *rt;
    z_stream z;
    BrotliEncoderState *be;
    BrotliDecoderState *bd;
    uint8_t *dict;       /* the preset dictionary (zlib modes) */
    size_t dict_len;
    int32_t params[2 * NZ_PARAMS_MAX];
    int nparams;
    uint8_t *in;         /* owned copy of the pending input (nzPush) */
    const uint8_t *next_in;
    size_t avail_in;
} nzbox;

static bool is_brotli(const nzbox *b) { return b->mode >= M_BROTLI_DECODE; }
static bool is_decompress(const nzbox *b)
{
    return b->mode == M_INFLATE || b->mode == M_GUNZIP || b->mode == M_INFLATERAW ||
           b->mode == M_UNZIP || b->mode == M_BROTLI_DECODE;
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    if (size && items > SIZE_MAX / size)
        return Z_NULL;
    return js_malloc_rt(opaque, (size_t)items * size);
}
static void z_free(voidpf opaque, voidpf p) { js_free_rt(opaque, p); }
static void *b_alloc(void *opaque, size_t n) { return js_malloc_rt(opaque, n); }
static void b_free(void *opaque, void *p) { js_free_rt(opaque, p); }

static void codec_end(nzbox *b)
{
    if (!b->init)
        return;
    if (b->mode == M_BROTLI_ENCODE)
        BrotliEncoderDestroyInstance(b->be);
    else if (b->mode == M_BROTLI_DECODE)
        BrotliDecoderDestroyInstance(b->bd);
    else if (is_decompress(b))
        inflateEnd(&b->z);
    else
        deflateEnd(&b->z);
    b->be = NULL;
    b->bd = NULL;
    b->init = false;
}

static void nzbox_free(JSRuntime *rt, void *ptr)
{
    nzbox *b = ptr;
    codec_end(b);
    js_free_rt(rt, b->in);
    js_free_rt(rt, b->dict);
    js_free_rt(rt, b);
}

static nzbox *nzbox_get(JSContext *ctx, JSValueConst v)
{
    return js_handle_get(ctx, v, NZ_TAG, "zlib: not a zlib handle");
}

/* Throws Node's zlib error: new Error(message) with errno and code. */
static JSValue throw_zerr(JSContext *ctx, const char *msg, const char *code, int errnum)
{
    JSValue e = JS_NewError(ctx);
    if (JS_IsException(e))
        return e;
    JS_DefinePropertyValueStr(ctx, e, "message", JS_NewString(ctx, msg),
                              JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    JS_SetPropertyStr(ctx, e, "errno", JS_NewInt32(ctx, errnum));
    JS_SetPropertyStr(ctx, e, "code", JS_NewString(ctx, code));
    return JS_Throw(ctx, e);
}

static JSValue throw_zlib_rc(JSContext *ctx, const nzbox *b, int rc)
{
    const char *msg = b->z.msg;
    switch (rc) {
    case Z_DATA_ERROR: return throw_zerr(ctx, msg ? msg : "invalid data", "Z_DATA_ERROR", rc);
    case Z_NEED_DICT:
        return throw_zerr(ctx, b->dict ? "Bad dictionary" : "Missing dictionary", "Z_NEED_DICT", rc);
    case Z_MEM_ERROR: return JS_ThrowOutOfMemory(ctx);
    case Z_BUF_ERROR: return throw_zerr(ctx, "unexpected end of file", "Z_BUF_ERROR", rc);
    default: return throw_zerr(ctx, msg ? msg : "zlib error", "Z_STREAM_ERROR", Z_STREAM_ERROR);
    }
}

/* Applies the brotli parameters ([key, value] pairs) to the new encoder/decoder. */
static int brotli_params(JSContext *ctx, nzbox *b)
{
    for (int i = 0; i < b->nparams; i++) {
        int32_t key = b->params[2 * i], value = b->params[2 * i + 1];
        bool ok = b->be ? BrotliEncoderSetParameter(b->be, (BrotliEncoderParameter)key, (uint32_t)value)
                        : BrotliDecoderSetParameter(b->bd, (BrotliDecoderParameter)key, (uint32_t)value);
        if (!ok) { /* Node: Error "Initialization failed", ERR_ZLIB_INITIALIZATION_FAILED */
            throw_zerr(ctx, "Initialization failed", "ERR_ZLIB_INITIALIZATION_FAILED", Z_STREAM_ERROR);
            return -1;
        }
    }
    return 0;
}

static int codec_init(JSContext *ctx, nzbox *b)
{
    int rc = Z_OK;
    b->ended = false;
    memset(&b->z, 0, sizeof b->z);
    b->z.zalloc = z_alloc;
    b->z.zfree = z_free;
    b->z.opaque = b->rt;
    int wb = b->window_bits;
    switch (b->mode) {
    case M_DEFLATE: case M_GZIP: case M_DEFLATERAW:
        if (wb == 8) /* zlib refuses 8 for raw deflate and turns it into 9 for the others */
            wb = 9;
        rc = deflateInit2(&b->z, b->level, Z_DEFLATED,
                          b->mode == M_GZIP ? wb + 16 : b->mode == M_DEFLATERAW ? -wb : wb,
                          b->mem_level, b->strategy);
        if (rc == Z_OK && b->dict && b->mode != M_GZIP)
            rc = deflateSetDictionary(&b->z, b->dict, (uInt)b->dict_len);
        break;
    case M_INFLATE: case M_GUNZIP: case M_INFLATERAW: case M_UNZIP:
        rc = inflateInit2(&b->z, b->mode == M_GUNZIP ? wb + 16 : b->mode == M_INFLATERAW ? -wb
                                 : b->mode == M_UNZIP ? wb + 32 : wb);
        if (rc == Z_OK && b->dict && b->mode == M_INFLATERAW)
            rc = inflateSetDictionary(&b->z, b->dict, (uInt)b->dict_len);
        break;
    case M_BROTLI_ENCODE:
        b->be = BrotliEncoderCreateInstance(b_alloc, b_free, b->rt);
        if (!b->be)
            return JS_ThrowOutOfMemory(ctx), -1;
        b->init = true;
        return brotli_params(ctx, b);
    case M_BROTLI_DECODE:
        b->bd = BrotliDecoderCreateInstance(b_alloc, b_free, b->rt);
        if (!b->bd)
            return JS_ThrowOutOfMemory(ctx), -1;
        b->init = true;
        return brotli_params(ctx, b);
    default:
        JS_ThrowRangeError(ctx, "zlib: bad mode %d", b->mode);
        return -1;
    }
    if (rc == Z_OK) {
        b->init = true;
        return 0;
    }
    if (rc == Z_MEM_ERROR) {
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    throw_zerr(ctx, "Initialization failed", "ERR_ZLIB_INITIALIZATION_FAILED", rc);
    return -1;
}

/* Node's code for a brotli decoder error is "ERR_" and the code's name with its
 * prefix ("ERR__ERROR_FORMAT_PADDING_2"); libbrotli before 1.1 leaves the prefix
 * out of BrotliDecoderErrorString, so the name is built from the header's list. */
static const char *brotli_error_name(BrotliDecoderErrorCode ec)
{
#define NZ_BROTLI_NAME(PREFIX, NAME, CODE) \
    case CODE:                             \
        return #PREFIX #NAME;
    switch ((int)ec) {
        BROTLI_DECODER_ERROR_CODES_LIST(NZ_BROTLI_NAME, )
    default:
        return "_ERROR_UNKNOWN";
    }
#undef NZ_BROTLI_NAME
}

/* One codec call writing at most `cap` bytes at `out`. Returns 1 when the
 * output space filled up (call again), 0 when nothing more comes for this flush,
 * -1 with an exception thrown. */
static int codec_step(JSContext *ctx, nzbox *b, int flush, uint8_t *out, size_t cap,
                      size_t *produced)
{
    *produced = 0;
    if (is_brotli(b)) {
        size_t avail_out = cap;
        uint8_t *next_out = out;
        if (b->mode == M_BROTLI_ENCODE) {
            if (b->ended)
                return 0;
            if (flush < BROTLI_OPERATION_PROCESS || flush > BROTLI_OPERATION_EMIT_METADATA)
                flush = BROTLI_OPERATION_PROCESS;
            size_t before = b->avail_in;
            if (!BrotliEncoderCompressStream(b->be, (BrotliEncoderOperation)flush, &b->avail_in,
                                             &b->next_in, &avail_out, &next_out, NULL))
                return throw_zerr(ctx, "Compression failed", "ERR_BROTLI_COMPRESSION_FAILED", -1),
                       -1;
            *produced = cap - avail_out;
            if (flush == BROTLI_OPERATION_FINISH && BrotliEncoderIsFinished(b->be))
                b->ended = true;
            if (avail_out == 0)
                return 1;
            if (*produced == 0 && b->avail_in == before)
                return 0; /* no progress possible */
            return b->avail_in > 0 || BrotliEncoderHasMoreOutput(b->be) ||
                   (flush == BROTLI_OPERATION_FINISH && !b->ended);
        }
        if (b->ended) {
            b->avail_in = 0; /* what follows the end is ignored */
            return 0;
        }
        BrotliDecoderResult r = BrotliDecoderDecompressStream(b->bd, &b->avail_in, &b->next_in,
                                                              &avail_out, &next_out, NULL);
        *produced = cap - avail_out;
        switch (r) {
        case BROTLI_DECODER_RESULT_SUCCESS:
            b->ended = true;
            b->avail_in = 0;
            return 0;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
            return 1;
        case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
            if (flush == BROTLI_OPERATION_FINISH && *produced == 0)
                return throw_zerr(ctx, "unexpected end of file", "Z_BUF_ERROR", Z_BUF_ERROR), -1;
            return *produced > 0 && flush == BROTLI_OPERATION_FINISH ? 1 : 0;
        default: {
            BrotliDecoderErrorCode ec = BrotliDecoderGetErrorCode(b->bd);
            char code[96];
            snprintf(code, sizeof code, "ERR_%s", brotli_error_name(ec));
            return throw_zerr(ctx, "Decompression failed", code, (int)ec), -1;
        }
        }
    }
    b->z.next_out = out;
    b->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
    size_t room = b->z.avail_out;
    if (b->ended) {
        if (!is_decompress(b))
            return 0;
        /* gunzip and unzip read the next member of a multi-member gzip file; other
         * bytes after the end are ignored, as in Node */
        if ((b->mode == M_GUNZIP || b->mode == M_UNZIP) && b->avail_in >= 2 &&
            b->next_in[0] == 0x1f && b->next_in[1] == 0x8b) {
            if (inflateReset(&b->z) != Z_OK)
                return throw_zlib_rc(ctx, b, Z_STREAM_ERROR), -1;
            b->ended = false;
        } else {
            b->avail_in = 0;
            return 0;
        }
    }
    size_t in_chunk = b->avail_in > UINT32_MAX ? UINT32_MAX : b->avail_in;
    b->z.next_in = (Bytef *)b->next_in;
    b->z.avail_in = (uInt)in_chunk;
    int rc;
    if (is_decompress(b)) {
        rc = inflate(&b->z, flush);
        if (rc == Z_NEED_DICT && b->dict) {
            rc = inflateSetDictionary(&b->z, b->dict, (uInt)b->dict_len);
            if (rc == Z_OK)
                rc = inflate(&b->z, flush);
            else if (rc == Z_DATA_ERROR)
                rc = Z_NEED_DICT; /* "Bad dictionary" */
        }
    } else {
        rc = deflate(&b->z, flush);
    }
    size_t used = in_chunk - b->z.avail_in;
    b->next_in += used;
    b->avail_in -= used;
    *produced = room - b->z.avail_out;
    if (rc == Z_STREAM_END) {
        b->ended = true;
        return *produced == room || (is_decompress(b) && b->avail_in > 0) ? 1 : 0;
    }
    if (rc == Z_OK)
        return b->z.avail_out == 0 || b->avail_in > 0 ? 1 : 0;
    if (rc == Z_BUF_ERROR) {
        if (b->z.avail_out == 0)
            return 1;
        /* no progress possible: done for now, unless decompression was asked to
         * finish and the input ran out before the end */
        if (is_decompress(b) && flush == Z_FINISH && b->avail_in == 0)
            return throw_zlib_rc(ctx, b, Z_BUF_ERROR), -1;
        return 0;
    }
    return throw_zlib_rc(ctx, b, rc), -1;
}

static JSValue js_nznew(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    int32_t mode, level, wb, ml, strategy;
    if (argc < 7)
        return JS_ThrowTypeError(ctx, "nzNew: 7 arguments required");
    if (JS_ToInt32(ctx, &mode, argv[0]) < 0 || JS_ToInt32(ctx, &level, argv[1]) < 0 ||
        JS_ToInt32(ctx, &wb, argv[2]) < 0 || JS_ToInt32(ctx, &ml, argv[3]) < 0 ||
        JS_ToInt32(ctx, &strategy, argv[4]) < 0)
        return JS_EXCEPTION;
    if (mode < M_DEFLATE || mode > M_BROTLI_ENCODE)
        return JS_ThrowRangeError(ctx, "zlib: bad mode %d", mode);
    nzbox *b = js_mallocz(ctx, sizeof *b);
    if (!b)
        return JS_EXCEPTION;
    b->rt = JS_GetRuntime(ctx);
    b->mode = mode;
    b->level = level;
    b->window_bits = wb;
    b->mem_level = ml;
    b->strategy = strategy;
    JSValue v = js_handle_new(ctx, NZ_TAG, b, nzbox_free);
    if (JS_IsException(v))
        return v;
    if (!JS_IsUndefined(argv[5]) && !JS_IsNull(argv[5])) {
        size_t n;
        uint8_t *p = JS_GetArrayBuffer(ctx, &n, argv[5]);
        if (!p)
            goto fail;
        if (n > UINT32_MAX) {
            JS_ThrowRangeError(ctx, "zlib: the dictionary is too large");
            goto fail;
        }
        b->dict = js_malloc(ctx, n ? n : 1);
        if (!b->dict)
            goto fail;
        memcpy(b->dict, p, n);
        b->dict_len = n;
    }
    if (JS_IsArray(ctx, argv[6]) > 0) {
        JSValue lv = JS_GetPropertyStr(ctx, argv[6], "length");
        int64_t len;
        int lrc = JS_ToInt64(ctx, &len, lv);
        JS_FreeValue(ctx, lv);
        if (lrc < 0)
            goto fail;
        if (len < 0 || len > 2 * NZ_PARAMS_MAX || len % 2) {
            JS_ThrowRangeError(ctx, "zlib: too many brotli parameters");
            goto fail;
        }
        for (int64_t i = 0; i < len; i++) {
            JSValue x = JS_GetPropertyUint32(ctx, argv[6], (uint32_t)i);
            int rc = JS_ToInt32(ctx, &b->params[i], x);
            JS_FreeValue(ctx, x);
            if (rc < 0)
                goto fail;
        }
        b->nparams = (int)(len / 2);
    }
    if (codec_init(ctx, b) < 0)
        goto fail;
    return v;
fail:
    JS_FreeValue(ctx, v);
    return JS_EXCEPTION;
}

static JSValue js_nzpush(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    if (argc < 4)
        return JS_ThrowTypeError(ctx, "nzPush: 4 arguments required");
    nzbox *b = nzbox_get(ctx, argv[0]);
    if (!b)
        return JS_EXCEPTION;
    uint8_t *p;
    size_t n;
    if (js_byte_range(ctx, argv[1], argv[2], argv[3], &p, &n) < 0)
        return JS_EXCEPTION;
    if (b->avail_in)
        return JS_ThrowInternalError(ctx, "nzPush: the previous input is not consumed");
    js_free(ctx, b->in);
    b->in = NULL;
    if (n) {
        b->in = js_malloc(ctx, n);
        if (!b->in)
            return JS_EXCEPTION;
        memcpy(b->in, p, n);
    }
    b->next_in = b->in;
    b->avail_in = n;
    return JS_UNDEFINED;
}

static void free_out(JSRuntime *rt, void *opaque, void *ptr)
{
    (void)opaque;
    js_free_rt(rt, ptr);
}

/* An ArrayBuffer owning buf (js_malloc'd, n of it used); frees buf on failure. */
static JSValue take_buffer(JSContext *ctx, uint8_t *buf, size_t n)
{
    if (n == 0) {
        static const uint8_t none[1];
        js_free(ctx, buf);
        return JS_NewArrayBufferCopy(ctx, none, 0);
    }
    uint8_t *shrunk = js_realloc(ctx, buf, n);
    if (shrunk)
        buf = shrunk;
    JSValue v = JS_NewArrayBuffer(ctx, buf, n, free_out, NULL, false);
    if (JS_IsException(v))
        js_free(ctx, buf);
    return v;
}

static JSValue js_nzpull(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    int32_t flush;
    int64_t max;
    if (argc < 3)
        return JS_ThrowTypeError(ctx, "nzPull: 3 arguments required");
    nzbox *b = nzbox_get(ctx, argv[0]);
    if (!b || JS_ToInt32(ctx, &flush, argv[1]) < 0 || JS_ToInt64(ctx, &max, argv[2]) < 0)
        return JS_EXCEPTION;
    if (max < 64 || max > 16 * 1024 * 1024)
        return JS_ThrowRangeError(ctx, "nzPull: bad chunk size %lld", (long long)max);
    uint8_t *out = js_malloc(ctx, (size_t)max);
    if (!out)
        return JS_EXCEPTION;
    size_t produced = 0;
    int rc;
    /* a step may use input, or start the next gzip member, without output yet;
     * only a step that says "nothing more" ends the pull (each step that
     * returns 1 without output consumed input or changed state, so this ends) */
    do
        rc = codec_step(ctx, b, flush, out, (size_t)max, &produced);
    while (rc == 1 && produced == 0);
    if (rc < 0 || produced == 0) {
        js_free(ctx, out);
        return rc < 0 ? JS_EXCEPTION : JS_NULL;
    }
    if (b->avail_in == 0) {
        js_free(ctx, b->in);
        b->in = NULL;
        b->next_in = NULL;
    }
    return take_buffer(ctx, out, produced);
}

static JSValue js_nzrun(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    int32_t flush;
    double maxd;
    if (argc < 6)
        return JS_ThrowTypeError(ctx, "nzRun: 6 arguments required");
    nzbox *b = nzbox_get(ctx, argv[0]);
    uint8_t *p;
    size_t n;
    if (!b || js_byte_range(ctx, argv[1], argv[2], argv[3], &p, &n) < 0 ||
        JS_ToInt32(ctx, &flush, argv[4]) < 0 || JS_ToFloat64(ctx, &maxd, argv[5]) < 0)
        return JS_EXCEPTION;
    size_t max = maxd >= (double)SIZE_MAX / 2 ? SIZE_MAX / 2 : maxd < 1 ? 1 : (size_t)maxd;
    if (b->avail_in)
        return JS_ThrowInternalError(ctx, "nzRun: the stream has pending input");
    /* the input is read in place: no JavaScript runs before this returns */
    b->next_in = p;
    b->avail_in = n;
    size_t size = n < 16 * 1024 ? 16 * 1024 : n > 4 * 1024 * 1024 ? 4 * 1024 * 1024 : n;
    if (size > max + 1)
        size = max + 1;
    size_t total = 0;
    uint8_t *buf = js_malloc(ctx, size);
    if (!buf)
        goto fail;
    for (;;) {
        size_t produced;
        int rc = codec_step(ctx, b, flush, buf + total, size - total, &produced);
        if (rc < 0)
            goto fail;
        total += produced;
        if (total > max) {
            JS_ThrowRangeError(ctx, "Cannot create a Buffer larger than %zu bytes", max);
            JSValue ex = JS_GetException(ctx);
            JS_SetPropertyStr(ctx, ex, "code", JS_NewString(ctx, "ERR_BUFFER_TOO_LARGE"));
            JS_Throw(ctx, ex);
            goto fail;
        }
        if (rc == 0)
            break;
        if (total == size) {
            size_t grown = size > (max + 1) / 2 ? max + 1 : size * 2;
            uint8_t *nb = js_realloc(ctx, buf, grown);
            if (!nb)
                goto fail;
            buf = nb;
            size = grown;
        }
    }
    b->next_in = NULL;
    b->avail_in = 0;
    return take_buffer(ctx, buf, total);
fail:
    js_free(ctx, buf);
    b->next_in = NULL;
    b->avail_in = 0;
    return JS_EXCEPTION;
}

static JSValue js_nzreset(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    nzbox *b = argc ? nzbox_get(ctx, argv[0]) : NULL;
    if (!b)
        return argc ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "nzReset: 1 argument required");
    js_free(ctx, b->in);
    b->in = NULL;
    b->next_in = NULL;
    b->avail_in = 0;
    codec_end(b);
    return codec_init(ctx, b) < 0 ? JS_EXCEPTION : JS_UNDEFINED;
}

static JSValue js_nzparams(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    int32_t level, strategy;
    if (argc < 3)
        return JS_ThrowTypeError(ctx, "nzParams: 3 arguments required");
    nzbox *b = nzbox_get(ctx, argv[0]);
    if (!b || JS_ToInt32(ctx, &level, argv[1]) < 0 || JS_ToInt32(ctx, &strategy, argv[2]) < 0)
        return JS_EXCEPTION;
    if (is_brotli(b) || is_decompress(b))
        return JS_ThrowTypeError(ctx, "params() applies to deflate streams only");
    int rc = deflateParams(&b->z, level, strategy);
    if (rc != Z_OK && rc != Z_BUF_ERROR)
        return throw_zlib_rc(ctx, b, rc);
    b->level = level;
    b->strategy = strategy;
    return JS_UNDEFINED;
}

static JSValue js_nzcrc32(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    uint32_t crc;
    uint8_t *p;
    size_t n;
    if (argc < 4)
        return JS_ThrowTypeError(ctx, "nzCrc32: 4 arguments required");
    if (JS_ToUint32(ctx, &crc, argv[0]) < 0 || js_byte_range(ctx, argv[1], argv[2], argv[3], &p, &n) < 0)
        return JS_EXCEPTION;
    uLong c = crc;
    while (n) {
        uInt k = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return JS_NewUint32(ctx, (uint32_t)c);
}

#define C(name) { #name, name }
static const struct { const char *name; int value; } nz_constants[] = {
    C(Z_NO_FLUSH), C(Z_PARTIAL_FLUSH), C(Z_SYNC_FLUSH), C(Z_FULL_FLUSH), C(Z_FINISH), C(Z_BLOCK),
    C(Z_TREES), C(Z_OK), C(Z_STREAM_END), C(Z_NEED_DICT), C(Z_ERRNO), C(Z_STREAM_ERROR),
    C(Z_DATA_ERROR), C(Z_MEM_ERROR), C(Z_BUF_ERROR), C(Z_VERSION_ERROR), C(Z_NO_COMPRESSION),
    C(Z_BEST_SPEED), C(Z_BEST_COMPRESSION), C(Z_DEFAULT_COMPRESSION), C(Z_FILTERED),
    C(Z_HUFFMAN_ONLY), C(Z_RLE), C(Z_FIXED), C(Z_DEFAULT_STRATEGY),
    C(BROTLI_OPERATION_PROCESS), C(BROTLI_OPERATION_FLUSH), C(BROTLI_OPERATION_FINISH),
    C(BROTLI_OPERATION_EMIT_METADATA), C(BROTLI_PARAM_MODE), C(BROTLI_MODE_GENERIC),
    C(BROTLI_MODE_TEXT), C(BROTLI_MODE_FONT), C(BROTLI_DEFAULT_MODE), C(BROTLI_PARAM_QUALITY),
    C(BROTLI_MIN_QUALITY), C(BROTLI_MAX_QUALITY), C(BROTLI_DEFAULT_QUALITY), C(BROTLI_PARAM_LGWIN),
    C(BROTLI_MIN_WINDOW_BITS), C(BROTLI_MAX_WINDOW_BITS), C(BROTLI_LARGE_MAX_WINDOW_BITS),
    C(BROTLI_DEFAULT_WINDOW), C(BROTLI_PARAM_LGBLOCK), C(BROTLI_MIN_INPUT_BLOCK_BITS),
    C(BROTLI_MAX_INPUT_BLOCK_BITS), C(BROTLI_PARAM_DISABLE_LITERAL_CONTEXT_MODELING),
    C(BROTLI_PARAM_SIZE_HINT), C(BROTLI_PARAM_LARGE_WINDOW), C(BROTLI_PARAM_NPOSTFIX),
    C(BROTLI_PARAM_NDIRECT), C(BROTLI_DECODER_RESULT_ERROR), C(BROTLI_DECODER_RESULT_SUCCESS),
    C(BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT), C(BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT),
    C(BROTLI_DECODER_PARAM_DISABLE_RING_BUFFER_REALLOCATION), C(BROTLI_DECODER_PARAM_LARGE_WINDOW),
    C(BROTLI_DECODER_NO_ERROR), C(BROTLI_DECODER_SUCCESS), C(BROTLI_DECODER_NEEDS_MORE_INPUT),
    C(BROTLI_DECODER_NEEDS_MORE_OUTPUT),
};
#undef C

/* The Worker's heap limit, in bytes: maxOutputLength's default is a quarter of it. */
static JSValue js_nzheaplimit(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    (void)this_val;
    (void)argc;
    (void)argv;
    js_rt *rt = js_rt_of(ctx);
    return JS_NewFloat64(ctx, (double)(rt ? js_rt_memory_bytes_max(rt) : JS_MEMORY_BYTES_DEFAULT));
}

static const JSCFunctionListEntry nz_natives[] = {
    JS_CFUNC_DEF("nzHeapLimit", 0, js_nzheaplimit),
    JS_CFUNC_DEF("nzNew", 7, js_nznew),
    JS_CFUNC_DEF("nzPush", 4, js_nzpush),
    JS_CFUNC_DEF("nzPull", 3, js_nzpull),
    JS_CFUNC_DEF("nzRun", 6, js_nzrun),
    JS_CFUNC_DEF("nzReset", 1, js_nzreset),
    JS_CFUNC_DEF("nzParams", 3, js_nzparams),
    JS_CFUNC_DEF("nzCrc32", 4, js_nzcrc32),
};

int web_node_zlib_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, nz_natives, sizeof nz_natives / sizeof nz_natives[0]);
    JSValue c = JS_NewObject(ctx);
    if (JS_IsException(c))
        return -1;
    for (size_t i = 0; i < sizeof nz_constants / sizeof nz_constants[0]; i++)
        JS_SetPropertyStr(ctx, c, nz_constants[i].name, JS_NewInt32(ctx, nz_constants[i].value));
    return JS_SetPropertyStr(ctx, native, "nzConstants", c) < 0 ? -1 : 0;
}
