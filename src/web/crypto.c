/* crypto.c: the OpenSSL side of `crypto` and `crypto.subtle` (spec: workers.md
 * WEB-8, WEB-9, WEB-10).
 *
 * The WebIDL surface (argument checks, algorithm normalization, CryptoKey,
 * promises) is in web/js/25_crypto.js; this file does only the byte work, on
 * (ArrayBuffer, byteOffset, byteLength) triples the JS has already brand-checked:
 *   N.cryptoRandomFill(ab, off, len)            RAND_bytes into the range
 *   N.cryptoRandomUUID() -> string              RFC 4122 version 4, lower case
 *   N.cryptoDigest(hash, ab, off, len) -> ArrayBuffer
 *   N.cryptoHmac(hash, kab, koff, klen, dab, doff, dlen) -> ArrayBuffer
 *   N.cryptoEqual(aab, aoff, alen, bab, boff, blen) -> bool   (constant time)
 * `hash` is one of "SHA-1", "SHA-256", "SHA-384", "SHA-512" (already normalized).
 * Sizes are bounded by the ArrayBuffers they come from (2 GB in QuickJS). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <string.h>

#include "js/bytes.h"
#include "web/web.h"

/* getRandomValues' quota (WebCrypto): checked in JS, re-checked here. */
#define RANDOM_BYTES_MAX 65536


/* The digest for a normalized WebCrypto hash name, or NULL (TypeError thrown). */
static const EVP_MD *hash_md(JSContext *ctx, JSValueConst name_v)
{
    const char *name = JS_ToCString(ctx, name_v);
    if (!name)
        return NULL;
    const EVP_MD *md = NULL;
    if (!strcmp(name, "SHA-1"))
        md = EVP_sha1();
    else if (!strcmp(name, "SHA-256"))
        md = EVP_sha256();
    else if (!strcmp(name, "SHA-384"))
        md = EVP_sha384();
    else if (!strcmp(name, "SHA-512"))
        md = EVP_sha512();
    else
        JS_ThrowTypeError(ctx, "crypto: unsupported hash '%s'", name);
    JS_FreeCString(ctx, name);
    return md;
}

static JSValue js_random_fill(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t *p;
    size_t n;
    if (argc < 3)
        return JS_ThrowTypeError(ctx, "cryptoRandomFill: 3 arguments required");
    if (js_byte_range(ctx, argv[0], argv[1], argv[2], &p, &n) < 0)
        return JS_EXCEPTION;
    if (n > RANDOM_BYTES_MAX)
        return JS_ThrowRangeError(ctx, "cryptoRandomFill: %zu bytes is more than %d", n,
                                  RANDOM_BYTES_MAX);
    if (n && RAND_bytes(p, (int)n) != 1)
        return JS_ThrowInternalError(ctx, "crypto: the random number generator failed");
    return JS_UNDEFINED;
}

static JSValue js_random_uuid(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        return JS_ThrowInternalError(ctx, "crypto: the random number generator failed");
    r[6] = (uint8_t)((r[6] & 0x0F) | 0x40);   /* version 4 */
    r[8] = (uint8_t)((r[8] & 0x3F) | 0x80);   /* variant 10xx */
    static const char hex[] = "0123456789abcdef";
    char s[36];
    size_t o = 0;
    for (size_t i = 0; i < sizeof r; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            s[o++] = '-';
        s[o++] = hex[r[i] >> 4];
        s[o++] = hex[r[i] & 15];
    }
    _Static_assert(sizeof s == 36, "a UUID is 36 characters");
    return JS_NewStringLen(ctx, s, o);
}

static JSValue js_digest(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 4)
        return JS_ThrowTypeError(ctx, "cryptoDigest: 4 arguments required");
    const EVP_MD *md = hash_md(ctx, argv[0]);
    if (!md)
        return JS_EXCEPTION;
    uint8_t *p;
    size_t n;
    if (js_byte_range(ctx, argv[1], argv[2], argv[3], &p, &n) < 0)
        return JS_EXCEPTION;
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (EVP_Digest(p, n, out, &out_len, md, NULL) != 1)
        return JS_ThrowInternalError(ctx, "crypto.subtle.digest: OpenSSL failed");
    return JS_NewArrayBufferCopy(ctx, out, out_len);
}

static JSValue js_hmac(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 7)
        return JS_ThrowTypeError(ctx, "cryptoHmac: 7 arguments required");
    const EVP_MD *md = hash_md(ctx, argv[0]);
    if (!md)
        return JS_EXCEPTION;
    uint8_t *key, *data;
    size_t key_len, data_len;
    if (js_byte_range(ctx, argv[1], argv[2], argv[3], &key, &key_len) < 0 ||
        js_byte_range(ctx, argv[4], argv[5], argv[6], &data, &data_len) < 0)
        return JS_EXCEPTION;
    if (key_len > INT32_MAX)
        return JS_ThrowRangeError(ctx, "HMAC: a key of %zu bytes is too long", key_len);
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    /* HMAC() reads key_len bytes from key; an empty key still needs a valid pointer. */
    static const uint8_t empty_key[1];
    if (!HMAC(md, key_len ? key : empty_key, (int)key_len, data, data_len, out, &out_len))
        return JS_ThrowInternalError(ctx, "HMAC: OpenSSL failed");
    return JS_NewArrayBufferCopy(ctx, out, out_len);
}

static JSValue js_equal(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 6)
        return JS_ThrowTypeError(ctx, "cryptoEqual: 6 arguments required");
    uint8_t *a, *b;
    size_t a_len, b_len;
    if (js_byte_range(ctx, argv[0], argv[1], argv[2], &a, &a_len) < 0 ||
        js_byte_range(ctx, argv[3], argv[4], argv[5], &b, &b_len) < 0)
        return JS_EXCEPTION;
    if (a_len != b_len)
        return JS_FALSE;
    return JS_NewBool(ctx, CRYPTO_memcmp(a, b, a_len) == 0);
}

static const JSCFunctionListEntry crypto_natives[] = {
    JS_CFUNC_DEF("cryptoRandomFill", 3, js_random_fill),
    JS_CFUNC_DEF("cryptoRandomUUID", 0, js_random_uuid),
    JS_CFUNC_DEF("cryptoDigest", 4, js_digest),
    JS_CFUNC_DEF("cryptoHmac", 7, js_hmac),
    JS_CFUNC_DEF("cryptoEqual", 6, js_equal),
};

int web_crypto_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, crypto_natives,
                               sizeof crypto_natives / sizeof crypto_natives[0]);
    return 0;
}
