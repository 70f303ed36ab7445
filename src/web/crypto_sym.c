/* crypto_sym.c: the symmetric half of crypto.subtle on OpenSSL — AES-GCM,
 * AES-CBC, AES-CTR, AES-KW, PBKDF2, HKDF (W3C WebCrypto §27-§32).
 *
 * 25_crypto.js checks the WebCrypto rules (key and IV sizes, tag lengths, counter
 * lengths, usages); these natives re-check what would make OpenSSL read out of
 * bounds and do the byte work. Byte arguments are ArrayBuffers or views.
 *   N.cryptoAesGcm(enc, key, iv, aad, tagBytes, data) -> ArrayBuffer | null
 *   N.cryptoAesCbc(enc, key, iv, data)                -> ArrayBuffer | null
 *   N.cryptoAesCtr(key, counter, lengthBits, data)    -> ArrayBuffer
 *   N.cryptoAesKw(enc, key, data)                     -> ArrayBuffer | null
 *   N.cryptoPbkdf2(hash, password, salt, iterations, bytes) -> ArrayBuffer | null
 *   N.cryptoHkdf(hash, key, salt, info, bytes)        -> ArrayBuffer | null
 * null means the operation failed on its input (authentication tag, padding,
 * integrity check, output too long): the JS side rejects with OperationError. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>

#include "web/crypto_ossl.h"
#include "web/web.h"

/* Longest input of one call: EVP_CipherUpdate takes an int length. */
#define CIPHER_INPUT_MAX ((size_t)INT32_MAX - 64)

static const EVP_CIPHER *aes_cipher(const char *mode, size_t key_len)
{
    static const struct {
        const char *mode;
        const EVP_CIPHER *(*by_size[3])(void);
    } table[] = {
        { "GCM", { EVP_aes_128_gcm, EVP_aes_192_gcm, EVP_aes_256_gcm } },
        { "CBC", { EVP_aes_128_cbc, EVP_aes_192_cbc, EVP_aes_256_cbc } },
        { "CTR", { EVP_aes_128_ctr, EVP_aes_192_ctr, EVP_aes_256_ctr } },
        { "WRAP", { EVP_aes_128_wrap, EVP_aes_192_wrap, EVP_aes_256_wrap } },
    };
    if (key_len != 16 && key_len != 24 && key_len != 32)
        return NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (!strcmp(table[i].mode, mode))
            return table[i].by_size[(key_len - 16) / 8]();
    }
    return NULL;
}

/* Runs `cipher` over `in` into a new ArrayBuffer. `tag`/`tag_len`: GCM's tag to
 * set before decrypting (NULL otherwise). `tag_out`: where GCM encryption puts
 * its tag (appended to the output). Returns the ArrayBuffer, JS_NULL when the
 * input fails (padding, tag, unwrap check), JS_EXCEPTION on JS errors. */
typedef struct cipher_job {
    const EVP_CIPHER *cipher;
    bool enc;
    bool no_pad;
    const uint8_t *key, *iv, *aad, *in, *tag;
    size_t iv_len, aad_len, in_len, tag_len;
} cipher_job;

static JSValue cipher_run(JSContext *ctx, const cipher_job *j)
{
    if (j->in_len > CIPHER_INPUT_MAX || j->aad_len > CIPHER_INPUT_MAX)
        return JS_ThrowRangeError(ctx, "crypto: %zu bytes is more than one call can take",
                                  j->in_len);
    bool gcm = EVP_CIPHER_get_mode(j->cipher) == EVP_CIPH_GCM_MODE;
    size_t out_cap = j->in_len + 2 * 16 + (gcm && j->enc ? j->tag_len : 0);
    uint8_t *out = malloc(out_cap);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    JSValue ret = JS_NULL;
    if (!out || !c) {
        ret = JS_ThrowOutOfMemory(ctx);
        goto done;
    }
    EVP_CIPHER_CTX_set_flags(c, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (EVP_CipherInit_ex(c, j->cipher, NULL, NULL, NULL, j->enc) != 1)
        goto done;
    if (gcm && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, (int)j->iv_len, NULL) != 1)
        goto done;
    if (EVP_CipherInit_ex(c, NULL, NULL, j->key, j->iv, j->enc) != 1)
        goto done;
    if (j->no_pad)
        EVP_CIPHER_CTX_set_padding(c, 0);
    int n = 0;
    size_t total = 0;
    if (gcm && j->aad_len && EVP_CipherUpdate(c, NULL, &n, j->aad, (int)j->aad_len) != 1)
        goto done;
    if (gcm && !j->enc &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, (int)j->tag_len, (void *)j->tag) != 1)
        goto done;
    if (j->in_len && EVP_CipherUpdate(c, out, &n, j->in, (int)j->in_len) != 1)
        goto done;
    total += (size_t)n;
    if (EVP_CipherFinal_ex(c, out + total, &n) != 1)
        goto done;
    total += (size_t)n;
    if (gcm && j->enc) {
        if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, (int)j->tag_len, out + total) != 1)
            goto done;
        total += j->tag_len;
    }
    ret = JS_NewArrayBufferCopy(ctx, out, total);
done:
    EVP_CIPHER_CTX_free(c);
    if (out) {
        OPENSSL_cleanse(out, out_cap);
        free(out);
    }
    return ret;
}

static JSValue js_aes_gcm(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 6)
        return JS_ThrowTypeError(ctx, "cryptoAesGcm: 6 arguments required");
    int32_t tag_len;
    if (JS_ToInt32(ctx, &tag_len, argv[4]) < 0)
        return JS_EXCEPTION;
    if (tag_len < 4 || tag_len > 16)
        return JS_ThrowRangeError(ctx, "AES-GCM: a tag of %d bytes", (int)tag_len);
    wcrypto_bytes key = { 0 }, iv = { 0 }, aad = { 0 }, data = { 0 };
    key.hold = iv.hold = aad.hold = data.hold = JS_UNDEFINED;
    JSValue ret = JS_EXCEPTION;
    bool enc = JS_ToBool(ctx, argv[0]);
    if (wcrypto_bytes_get(ctx, argv[1], &key) < 0 || wcrypto_bytes_get(ctx, argv[2], &iv) < 0 ||
        wcrypto_bytes_get(ctx, argv[3], &aad) < 0 || wcrypto_bytes_get(ctx, argv[5], &data) < 0)
        goto done;
    cipher_job j = { .cipher = aes_cipher("GCM", key.n), .enc = enc, .key = key.p, .iv = iv.p,
                     .iv_len = iv.n, .aad = aad.p, .aad_len = aad.n, .in = data.p,
                     .in_len = data.n, .tag_len = (size_t)tag_len };
    if (!j.cipher || iv.n == 0 || iv.n > INT32_MAX) {
        ret = JS_ThrowRangeError(ctx, "AES-GCM: bad key (%zu bytes) or IV (%zu bytes)", key.n,
                                 iv.n);
        goto done;
    }
    if (!enc) {
        if (data.n < (size_t)tag_len) {
            ret = JS_NULL;
            goto done;
        }
        j.in_len = data.n - (size_t)tag_len;
        j.tag = data.p + j.in_len;
    }
    ret = cipher_run(ctx, &j);
done:
    wcrypto_bytes_fini(ctx, &key);
    wcrypto_bytes_fini(ctx, &iv);
    wcrypto_bytes_fini(ctx, &aad);
    wcrypto_bytes_fini(ctx, &data);
    return ret;
}

static JSValue js_aes_cbc(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 4)
        return JS_ThrowTypeError(ctx, "cryptoAesCbc: 4 arguments required");
    wcrypto_bytes key, iv = { .hold = JS_UNDEFINED }, data = { .hold = JS_UNDEFINED };
    if (wcrypto_bytes_get(ctx, argv[1], &key) < 0)
        return JS_EXCEPTION;
    JSValue ret = JS_EXCEPTION;
    if (wcrypto_bytes_get(ctx, argv[2], &iv) < 0 || wcrypto_bytes_get(ctx, argv[3], &data) < 0)
        goto done;
    cipher_job j = { .cipher = aes_cipher("CBC", key.n), .enc = JS_ToBool(ctx, argv[0]),
                     .key = key.p, .iv = iv.p, .iv_len = iv.n, .in = data.p, .in_len = data.n };
    if (!j.cipher || iv.n != 16) {
        ret = JS_ThrowRangeError(ctx, "AES-CBC: bad key (%zu bytes) or IV (%zu bytes)", key.n,
                                 iv.n);
        goto done;
    }
    ret = cipher_run(ctx, &j);
done:
    wcrypto_bytes_fini(ctx, &key);
    wcrypto_bytes_fini(ctx, &iv);
    wcrypto_bytes_fini(ctx, &data);
    return ret;
}

/* AES-CTR with WebCrypto's counter: only the rightmost `length_bits` of the
 * counter block count, and they wrap to zero without carrying into the rest.
 * OpenSSL increments all 128 bits, so an input that crosses the wrap is done in
 * two runs, the second from the block with those bits zeroed. Inputs longer
 * than 2^length_bits blocks are refused (the counter would repeat; the JS side
 * says OperationError before calling). */
static JSValue js_aes_ctr(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 4)
        return JS_ThrowTypeError(ctx, "cryptoAesCtr: 4 arguments required");
    int32_t bits;
    if (JS_ToInt32(ctx, &bits, argv[2]) < 0)
        return JS_EXCEPTION;
    if (bits < 1 || bits > 128)
        return JS_ThrowRangeError(ctx, "AES-CTR: a counter length of %d bits", (int)bits);
    wcrypto_bytes key, ctr = { .hold = JS_UNDEFINED }, data = { .hold = JS_UNDEFINED };
    if (wcrypto_bytes_get(ctx, argv[0], &key) < 0)
        return JS_EXCEPTION;
    JSValue ret = JS_EXCEPTION, part2 = JS_UNDEFINED;
    if (wcrypto_bytes_get(ctx, argv[1], &ctr) < 0 || wcrypto_bytes_get(ctx, argv[3], &data) < 0)
        goto done;
    const EVP_CIPHER *cipher = aes_cipher("CTR", key.n);
    if (!cipher || ctr.n != 16) {
        ret = JS_ThrowRangeError(ctx, "AES-CTR: bad key (%zu bytes) or counter (%zu bytes)",
                                 key.n, ctr.n);
        goto done;
    }
    unsigned __int128 c = 0;
    for (int i = 0; i < 16; i++)
        c = (c << 8) | ctr.p[i];
    unsigned __int128 mask = bits == 128 ? ~(unsigned __int128)0
                                         : (((unsigned __int128)1 << bits) - 1);
    unsigned __int128 left = (mask - (c & mask)) + 1;   /* blocks before the wrap; 0 = 2^128 */
    size_t blocks = (data.n + 15) / 16;
    if (bits < 64 && (uint64_t)blocks > ((uint64_t)1 << bits)) {
        ret = JS_ThrowRangeError(ctx, "AES-CTR: %zu blocks would reuse a %d-bit counter", blocks,
                                 (int)bits);
        goto done;
    }
    size_t first = data.n;
    if (left != 0 && (unsigned __int128)blocks > left)
        first = (size_t)left * 16;
    cipher_job j = { .cipher = cipher, .enc = true, .key = key.p, .iv = ctr.p, .iv_len = 16,
                     .in = data.p, .in_len = first };
    ret = cipher_run(ctx, &j);
    if (first == data.n || !JS_IsObject(ret))
        goto done;
    uint8_t iv2[16];
    unsigned __int128 c2 = c & ~mask;
    for (int i = 15; i >= 0; i--, c2 >>= 8)
        iv2[i] = (uint8_t)c2;
    j.iv = iv2;
    j.in = data.p + first;
    j.in_len = data.n - first;
    part2 = cipher_run(ctx, &j);
    if (!JS_IsObject(part2)) {
        JS_FreeValue(ctx, ret);
        ret = JS_IsException(part2) ? JS_EXCEPTION : JS_ThrowInternalError(ctx, "AES-CTR failed");
        goto done;
    }
    size_t n1, n2;
    uint8_t *p1 = JS_GetArrayBuffer(ctx, &n1, ret), *p2 = JS_GetArrayBuffer(ctx, &n2, part2);
    uint8_t *all = p1 && p2 ? malloc(n1 + n2) : NULL;
    if (all) {
        memcpy(all, p1, n1);
        memcpy(all + n1, p2, n2);
    }
    JS_FreeValue(ctx, ret);
    ret = all ? JS_NewArrayBufferCopy(ctx, all, n1 + n2) : JS_ThrowOutOfMemory(ctx);
    free(all);
done:
    JS_FreeValue(ctx, part2);
    wcrypto_bytes_fini(ctx, &key);
    wcrypto_bytes_fini(ctx, &ctr);
    wcrypto_bytes_fini(ctx, &data);
    return ret;
}

static JSValue js_aes_kw(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 3)
        return JS_ThrowTypeError(ctx, "cryptoAesKw: 3 arguments required");
    wcrypto_bytes key, data = { .hold = JS_UNDEFINED };
    if (wcrypto_bytes_get(ctx, argv[1], &key) < 0)
        return JS_EXCEPTION;
    JSValue ret = JS_EXCEPTION;
    if (wcrypto_bytes_get(ctx, argv[2], &data) < 0)
        goto done;
    bool enc = JS_ToBool(ctx, argv[0]);
    cipher_job j = { .cipher = aes_cipher("WRAP", key.n), .enc = enc, .key = key.p,
                     .in = data.p, .in_len = data.n };
    if (!j.cipher) {
        ret = JS_ThrowRangeError(ctx, "AES-KW: bad key (%zu bytes)", key.n);
        goto done;
    }
    if (data.n % 8 || data.n < (enc ? 16u : 24u)) {
        ret = JS_NULL;
        goto done;
    }
    ret = cipher_run(ctx, &j);
done:
    wcrypto_bytes_fini(ctx, &key);
    wcrypto_bytes_fini(ctx, &data);
    return ret;
}

int wcrypto_pbkdf2(const EVP_MD *md, const uint8_t *pass, size_t pass_len, const uint8_t *salt,
                   size_t salt_len, uint32_t iterations, uint8_t *out, size_t out_len)
{
    static const uint8_t none[1];
    if (pass_len > INT32_MAX || salt_len > INT32_MAX || out_len > INT32_MAX || iterations == 0 ||
        iterations > INT32_MAX)
        return -1;
    return PKCS5_PBKDF2_HMAC(pass_len ? (const char *)pass : (const char *)none, (int)pass_len,
                             salt_len ? salt : none, (int)salt_len, (int)iterations, md,
                             (int)out_len, out) == 1 ? 0 : -1;
}

int wcrypto_hkdf(const EVP_MD *md, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                 size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
                 size_t out_len)
{
    static uint8_t none[1];
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *k = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (!k)
        return -1;
    OSSL_PARAM params[5], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_len ? (void *)ikm : none,
                                             ikm_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_len ? (void *)salt : none,
                                             salt_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_len ? (void *)info : none,
                                             info_len);
    *p = OSSL_PARAM_construct_end();
    int rc = EVP_KDF_derive(k, out, out_len, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(k);
    return rc;
}

/* The KDFs' shared tail: `bytes` of output from `run`, JS_NULL if it refused. */
static JSValue kdf_out(JSContext *ctx, JSValueConst bytes_v, uint8_t **out, size_t *out_len)
{
    int64_t n;
    if (JS_ToInt64(ctx, &n, bytes_v) < 0)
        return JS_EXCEPTION;
    if (n <= 0 || n > (1 << 24))
        return JS_ThrowRangeError(ctx, "crypto: %lld bytes of key material", (long long)n);
    *out = malloc((size_t)n);
    if (!*out)
        return JS_ThrowOutOfMemory(ctx);
    *out_len = (size_t)n;
    return JS_UNDEFINED;
}

static JSValue js_pbkdf2(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 5)
        return JS_ThrowTypeError(ctx, "cryptoPbkdf2: 5 arguments required");
    const EVP_MD *md = wcrypto_md_js(ctx, argv[0]);
    uint32_t iter;
    if (!md || JS_ToUint32(ctx, &iter, argv[3]) < 0)
        return JS_EXCEPTION;
    uint8_t *out = NULL;
    size_t out_len = 0;
    JSValue ret = kdf_out(ctx, argv[4], &out, &out_len);
    if (JS_IsException(ret))
        return ret;
    wcrypto_bytes pass, salt = { .hold = JS_UNDEFINED };
    if (wcrypto_bytes_get(ctx, argv[1], &pass) < 0) {
        free(out);
        return JS_EXCEPTION;
    }
    if (wcrypto_bytes_get(ctx, argv[2], &salt) < 0)
        ret = JS_EXCEPTION;
    else if (wcrypto_pbkdf2(md, pass.p, pass.n, salt.p, salt.n, iter, out, out_len) < 0)
        ret = JS_NULL;
    else
        ret = JS_NewArrayBufferCopy(ctx, out, out_len);
    OPENSSL_cleanse(out, out_len);
    free(out);
    wcrypto_bytes_fini(ctx, &pass);
    wcrypto_bytes_fini(ctx, &salt);
    return ret;
}

static JSValue js_hkdf(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 5)
        return JS_ThrowTypeError(ctx, "cryptoHkdf: 5 arguments required");
    const EVP_MD *md = wcrypto_md_js(ctx, argv[0]);
    if (!md)
        return JS_EXCEPTION;
    uint8_t *out = NULL;
    size_t out_len = 0;
    JSValue ret = kdf_out(ctx, argv[4], &out, &out_len);
    if (JS_IsException(ret))
        return ret;
    wcrypto_bytes key, salt = { .hold = JS_UNDEFINED }, info = { .hold = JS_UNDEFINED };
    if (wcrypto_bytes_get(ctx, argv[1], &key) < 0) {
        free(out);
        return JS_EXCEPTION;
    }
    if (wcrypto_bytes_get(ctx, argv[2], &salt) < 0 || wcrypto_bytes_get(ctx, argv[3], &info) < 0)
        ret = JS_EXCEPTION;
    else if (out_len > 255 * (size_t)EVP_MD_get_size(md) ||
             wcrypto_hkdf(md, key.p, key.n, salt.p, salt.n, info.p, info.n, out, out_len) < 0)
        ret = JS_NULL;
    else
        ret = JS_NewArrayBufferCopy(ctx, out, out_len);
    OPENSSL_cleanse(out, out_len);
    free(out);
    wcrypto_bytes_fini(ctx, &key);
    wcrypto_bytes_fini(ctx, &salt);
    wcrypto_bytes_fini(ctx, &info);
    return ret;
}

static const JSCFunctionListEntry sym_natives[] = {
    JS_CFUNC_DEF("cryptoAesGcm", 6, js_aes_gcm),
    JS_CFUNC_DEF("cryptoAesCbc", 4, js_aes_cbc),
    JS_CFUNC_DEF("cryptoAesCtr", 4, js_aes_ctr),
    JS_CFUNC_DEF("cryptoAesKw", 3, js_aes_kw),
    JS_CFUNC_DEF("cryptoPbkdf2", 5, js_pbkdf2),
    JS_CFUNC_DEF("cryptoHkdf", 5, js_hkdf),
};

int web_crypto_sym_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, sym_natives, sizeof sym_natives / sizeof sym_natives[0]);
    return 0;
}
