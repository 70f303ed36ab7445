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
 *   N.cryptoDigestNew(hash) -> box; cryptoDigestUpdate(box, bytes); cryptoDigestFinal(box)
 * `hash` is one of "SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5" (already
 * normalized). The other algorithms are in crypto_sym.c (AES, PBKDF2, HKDF) and
 * crypto_pkey.c (RSA, EC, Ed25519, X25519); crypto_ossl.h is the C interface.
 * Sizes are bounded by the ArrayBuffers they come from (2 GB in QuickJS). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "js/bytes.h"
#include "js/rt.h"
#include "web/crypto_ossl.h"
#include "web/web.h"

/* getRandomValues' quota (WebCrypto): checked in JS, re-checked here. */
#define RANDOM_BYTES_MAX 65536


const EVP_MD *wcrypto_md(const char *name)
{
    if (!strcmp(name, "SHA-1"))
        return EVP_sha1();
    if (!strcmp(name, "SHA-256"))
        return EVP_sha256();
    if (!strcmp(name, "SHA-384"))
        return EVP_sha384();
    if (!strcmp(name, "SHA-512"))
        return EVP_sha512();
    if (!strcmp(name, "MD5"))
        return EVP_md5();
    return NULL;
}

const EVP_MD *wcrypto_md_js(JSContext *ctx, JSValueConst name_v)
{
    const char *name = JS_ToCString(ctx, name_v);
    if (!name)
        return NULL;
    const EVP_MD *md = wcrypto_md(name);
    if (!md)
        JS_ThrowTypeError(ctx, "crypto: unsupported hash '%s'", name);
    JS_FreeCString(ctx, name);
    return md;
}

static const EVP_MD *hash_md(JSContext *ctx, JSValueConst name_v)
{
    return wcrypto_md_js(ctx, name_v);
}

int wcrypto_bytes_get(JSContext *ctx, JSValueConst v, wcrypto_bytes *b)
{
    b->p = js_bytes_of(ctx, v, &b->n, &b->hold);
    return b->p ? 0 : -1;
}

void wcrypto_bytes_fini(JSContext *ctx, wcrypto_bytes *b)
{
    JS_FreeValue(ctx, b->hold);
    b->hold = JS_UNDEFINED;
}

/* ---- boxes: native objects held by a native handle (see crypto_ossl.h) ---- */

enum { BOX_TAG = 0x57435259u /* "WCRY" */, BOX_PKEY = 1, BOX_MD_CTX = 2 };
typedef struct wcrypto_box {
    int kind;
    bool priv;
    void *obj;
    wcrypto_ecdsa *ecdsa;   /* BOX_PKEY: ECDSA verify state, made at the first verify */
} wcrypto_box;

static void box_obj_free(int kind, void *obj)
{
    if (kind == BOX_PKEY)
        EVP_PKEY_free(obj);
    else if (kind == BOX_MD_CTX)
        EVP_MD_CTX_free(obj);
}

static void box_free(JSRuntime *rt, void *ptr)
{
    (void)rt;
    wcrypto_box *b = ptr;
    box_obj_free(b->kind, b->obj);
    wcrypto_ecdsa_free(b->ecdsa);
    free(b);
}

/* Takes ownership of `obj` (freed on failure too). */
static JSValue box_new(JSContext *ctx, int kind, void *obj, bool priv)
{
    wcrypto_box *b = malloc(sizeof *b);
    if (!b) {
        box_obj_free(kind, obj);
        return JS_ThrowOutOfMemory(ctx);
    }
    *b = (wcrypto_box){ .kind = kind, .priv = priv, .obj = obj };
    return js_handle_new(ctx, BOX_TAG, b, box_free);
}

static wcrypto_box *box_get(JSContext *ctx, JSValueConst v, int kind)
{
    wcrypto_box *b = js_handle_get(ctx, v, BOX_TAG, "crypto: not a key handle");
    if (b && b->kind != kind) {
        JS_ThrowTypeError(ctx, "crypto: not a key handle");
        return NULL;
    }
    return b;
}

JSValue wcrypto_pkey_box(JSContext *ctx, EVP_PKEY *pkey, bool priv)
{
    return box_new(ctx, BOX_PKEY, pkey, priv);
}

EVP_PKEY *wcrypto_pkey_of(JSContext *ctx, JSValueConst box, bool *priv)
{
    wcrypto_box *b = box_get(ctx, box, BOX_PKEY);
    if (!b)
        return NULL;
    if (priv)
        *priv = b->priv;
    return b->obj;
}

wcrypto_ecdsa **wcrypto_pkey_ecdsa(JSContext *ctx, JSValueConst box)
{
    wcrypto_box *b = box_get(ctx, box, BOX_PKEY);
    return b ? &b->ecdsa : NULL;
}

/* ---- DigestStream: an incremental digest ---- */

static JSValue js_digest_new(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const EVP_MD *md = argc > 0 ? hash_md(ctx, argv[0]) : NULL;
    if (!md)
        return argc > 0 ? JS_EXCEPTION : JS_ThrowTypeError(ctx, "cryptoDigestNew: a hash is required");
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (!mctx || EVP_DigestInit_ex(mctx, md, NULL) != 1) {
        EVP_MD_CTX_free(mctx);
        return JS_ThrowInternalError(ctx, "DigestStream: OpenSSL failed");
    }
    return box_new(ctx, BOX_MD_CTX, mctx, false);
}

static JSValue js_digest_update(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 2)
        return JS_ThrowTypeError(ctx, "cryptoDigestUpdate: 2 arguments required");
    wcrypto_box *b = box_get(ctx, argv[0], BOX_MD_CTX);
    if (!b)
        return JS_EXCEPTION;
    wcrypto_bytes d;
    if (wcrypto_bytes_get(ctx, argv[1], &d) < 0)
        return JS_EXCEPTION;
    int ok = EVP_DigestUpdate(b->obj, d.p, d.n);
    wcrypto_bytes_fini(ctx, &d);
    if (ok != 1)
        return JS_ThrowInternalError(ctx, "DigestStream: OpenSSL failed");
    return JS_UNDEFINED;
}

static JSValue js_digest_final(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 1)
        return JS_ThrowTypeError(ctx, "cryptoDigestFinal: 1 argument required");
    wcrypto_box *b = box_get(ctx, argv[0], BOX_MD_CTX);
    if (!b)
        return JS_EXCEPTION;
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (EVP_DigestFinal_ex(b->obj, out, &out_len) != 1)
        return JS_ThrowInternalError(ctx, "DigestStream: OpenSSL failed");
    return JS_NewArrayBufferCopy(ctx, out, out_len);
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
    JS_CFUNC_DEF("cryptoDigestNew", 1, js_digest_new),
    JS_CFUNC_DEF("cryptoDigestUpdate", 2, js_digest_update),
    JS_CFUNC_DEF("cryptoDigestFinal", 1, js_digest_final),
};

int web_crypto_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, crypto_natives,
                               sizeof crypto_natives / sizeof crypto_natives[0]);
    if (web_crypto_sym_install(ctx, native) < 0 || web_crypto_pkey_install(ctx, native) < 0)
        return -1;
    return 0;
}
