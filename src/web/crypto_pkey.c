/* crypto_pkey.c: the asymmetric half of crypto.subtle on OpenSSL 3 — RSA
 * (RSASSA-PKCS1-v1_5, RSA-PSS, RSA-OAEP), EC (ECDSA, ECDH on P-256/384/521),
 * Ed25519 and X25519: key import/export/generation, sign/verify, OAEP and key
 * agreement.
 *
 * Keys are EVP_PKEYs in boxes (crypto_ossl.h). `kind` names the key family:
 * "rsa", "ec", "ed25519", "x25519"; `curve` is "P-256", "P-384" or "P-521".
 *   N.cryptoKeyImportDer(priv, der) -> box | null         pkcs8 (priv) / spki
 *   N.cryptoKeyImportRaw(kind, curve, bytes) -> box | null public key bytes
 *   N.cryptoKeyImportJwk(kind, curve, parts) -> box | null parts: {n, e, d, p, q,
 *        dp, dq, qi} | {x, y, d} | {x, d} as byte arrays (d absent: public)
 *   N.cryptoKeyGenerate(kind, arg1, arg2) -> box           rsa: bits, exponent bytes;
 *        ec: curve; okp: -
 *   N.cryptoKeyPublic(box) -> box                          the public half
 *   N.cryptoKeyInfo(box) -> {kind, curve, bits, e, priv}
 *   N.cryptoKeyExport(box, "spki" | "pkcs8" | "raw") -> ArrayBuffer
 *   N.cryptoKeyJwk(box) -> parts (as above, ArrayBuffers)
 *   N.cryptoSign(alg, box, hash, saltLen, data) -> ArrayBuffer | null
 *   N.cryptoVerify(alg, box, hash, saltLen, sig, data) -> bool
 *   N.cryptoRsaOaep(enc, box, hash, label, data) -> ArrayBuffer | null
 *   N.cryptoDerive(privBox, pubBox) -> ArrayBuffer | null
 * null: the input was refused (bad key bytes, message too long, bad ciphertext):
 * the JS side throws DataError or OperationError. ECDSA signatures are r||s of
 * fixed size (IEEE P1363), as WebCrypto has them; OpenSSL's are DER. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "js/rt.h"
#include "web/crypto_ossl.h"
#include "web/web.h"

/* RSA moduli we generate or accept, in bits (workerd: 256..16384 for import). */
#define RSA_BITS_MIN 256
#define RSA_BITS_MAX 16384

static const char *curve_group(const char *curve)
{
    if (!strcmp(curve, "P-256"))
        return "prime256v1";
    if (!strcmp(curve, "P-384"))
        return "secp384r1";
    if (!strcmp(curve, "P-521"))
        return "secp521r1";
    return NULL;
}

static const char *group_curve(const char *group)
{
    if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
        return "P-256";
    if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
        return "P-384";
    if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
        return "P-521";
    return NULL;
}

static size_t curve_bytes(const char *curve)
{
    return !strcmp(curve, "P-256") ? 32 : !strcmp(curve, "P-384") ? 48 : 66;
}

/* A C string argument into buf (truncation refused). */
static int arg_str(JSContext *ctx, JSValueConst v, char *buf, size_t cap)
{
    const char *s = JS_ToCString(ctx, v);
    if (!s)
        return -1;
    size_t n = strlen(s);
    if (n >= cap) {
        JS_ThrowTypeError(ctx, "crypto: argument '%.40s' is too long", s);
        JS_FreeCString(ctx, s);
        return -1;
    }
    memcpy(buf, s, n + 1);
    JS_FreeCString(ctx, s);
    return 0;
}

static JSValue ab_of_buf(JSContext *ctx, uint8_t *p, size_t n)
{
    JSValue v = JS_NewArrayBufferCopy(ctx, p, n);
    OPENSSL_cleanse(p, n);
    OPENSSL_free(p);
    return v;
}

/* ---- import ---- */

static JSValue js_import_der(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 2)
        return JS_ThrowTypeError(ctx, "cryptoKeyImportDer: 2 arguments required");
    bool priv = JS_ToBool(ctx, argv[0]);
    wcrypto_bytes der;
    if (wcrypto_bytes_get(ctx, argv[1], &der) < 0)
        return JS_EXCEPTION;
    const unsigned char *p = der.p;
    EVP_PKEY *pkey = NULL;
    if (der.n <= LONG_MAX) {
        if (priv) {
            PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der.n);
            if (p8 && p == der.p + der.n)
                pkey = EVP_PKCS82PKEY(p8);
            PKCS8_PRIV_KEY_INFO_free(p8);
        } else {
            pkey = d2i_PUBKEY(NULL, &p, (long)der.n);
            if (pkey && p != der.p + der.n) {
                EVP_PKEY_free(pkey);
                pkey = NULL;
            }
        }
    }
    wcrypto_bytes_fini(ctx, &der);
    if (!pkey)
        return JS_NULL;
    return wcrypto_pkey_box(ctx, pkey, priv);
}

/* EVP_PKEY_fromdata for `type` ("RSA", "EC") with the parameters in `bld`. */
static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM_BLD *bld, bool priv)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    if (!params || !pc || EVP_PKEY_fromdata_init(pc) != 1 ||
        EVP_PKEY_fromdata(pc, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    if (!pkey)
        return NULL;
    /* fromdata takes numbers as given. An EC public point was checked to be on
     * the curve when decoded; an EC private key must match it. RSA numbers are
     * not checked (a full check tests primality: milliseconds per import, which
     * a Worker importing a JWK set per request would pay; workerd does not). */
    if (strcmp(type, "EC") || !priv)
        return pkey;
    EVP_PKEY_CTX *cc = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = cc && EVP_PKEY_pairwise_check(cc) == 1;
    EVP_PKEY_CTX_free(cc);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
}

static EVP_PKEY *ec_from_point(const char *curve, const uint8_t *pt, size_t pt_len,
                               const uint8_t *d, size_t d_len)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *dn = NULL;
    EVP_PKEY *pkey = NULL;
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve_group(curve), 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, pt_len))
        goto done;
    if (d) {
        dn = BN_secure_new();
        if (!dn || !BN_bin2bn(d, (int)d_len, dn) ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, dn))
            goto done;
    }
    pkey = pkey_fromdata("EC", bld, d != NULL);
done:
    BN_clear_free(dn);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static int okp_id(const char *kind)
{
    return !strcmp(kind, "ed25519") ? EVP_PKEY_ED25519 : !strcmp(kind, "x25519") ? EVP_PKEY_X25519
                                                                                  : 0;
}

static JSValue js_import_raw(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char kind[16], curve[16];
    if (argc < 3)
        return JS_ThrowTypeError(ctx, "cryptoKeyImportRaw: 3 arguments required");
    if (arg_str(ctx, argv[0], kind, sizeof kind) < 0 || arg_str(ctx, argv[1], curve, sizeof curve) < 0)
        return JS_EXCEPTION;
    wcrypto_bytes b;
    if (wcrypto_bytes_get(ctx, argv[2], &b) < 0)
        return JS_EXCEPTION;
    EVP_PKEY *pkey = NULL;
    if (okp_id(kind)) {
        if (b.n == 32)
            pkey = EVP_PKEY_new_raw_public_key(okp_id(kind), NULL, b.p, b.n);
    } else if (!strcmp(kind, "ec") && curve_group(curve) && b.n > 0) {
        pkey = ec_from_point(curve, b.p, b.n, NULL, 0);
    }
    wcrypto_bytes_fini(ctx, &b);
    if (!pkey)
        return JS_NULL;
    return wcrypto_pkey_box(ctx, pkey, false);
}

/* parts.<name> as bytes; absent: b->p = NULL. */
static int part_get(JSContext *ctx, JSValueConst parts, const char *name, wcrypto_bytes *b)
{
    JSValue v = JS_GetPropertyStr(ctx, parts, name);
    b->p = NULL;
    b->n = 0;
    b->hold = JS_UNDEFINED;
    if (JS_IsException(v))
        return -1;
    if (JS_IsUndefined(v))
        return 0;
    int rc = wcrypto_bytes_get(ctx, v, b);
    JS_FreeValue(ctx, v);
    return rc;
}

static EVP_PKEY *rsa_from_parts(JSContext *ctx, JSValueConst parts, bool *priv, int *js_err)
{
    static const struct {
        const char *jwk, *param;
    } map[] = {
        { "n", OSSL_PKEY_PARAM_RSA_N },
        { "e", OSSL_PKEY_PARAM_RSA_E },
        { "d", OSSL_PKEY_PARAM_RSA_D },
        { "p", OSSL_PKEY_PARAM_RSA_FACTOR1 },
        { "q", OSSL_PKEY_PARAM_RSA_FACTOR2 },
        { "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
        { "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
        { "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
    };
    enum { N_PARTS = sizeof map / sizeof map[0] };
    BIGNUM *bn[N_PARTS] = { 0 };
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    *js_err = 0;
    if (!bld)
        goto done;
    for (size_t i = 0; i < N_PARTS; i++) {
        wcrypto_bytes b;
        if (part_get(ctx, parts, map[i].jwk, &b) < 0) {
            *js_err = -1;
            goto done;
        }
        if (!b.p)
            continue;
        bn[i] = i >= 2 ? BN_secure_new() : BN_new();
        int ok = bn[i] && b.n <= INT32_MAX && BN_bin2bn(b.p, (int)b.n, bn[i]) &&
                 OSSL_PARAM_BLD_push_BN(bld, map[i].param, bn[i]);
        wcrypto_bytes_fini(ctx, &b);
        if (!ok)
            goto done;
    }
    *priv = bn[2] != NULL;
    if (!bn[0] || !bn[1])
        goto done;
    int bits = BN_num_bits(bn[0]);
    if (bits < RSA_BITS_MIN || bits > RSA_BITS_MAX)
        goto done;
    pkey = pkey_fromdata("RSA", bld, *priv);
done:
    for (size_t i = 0; i < N_PARTS; i++)
        BN_clear_free(bn[i]);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static JSValue js_import_jwk(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char kind[16], curve[16];
    if (argc < 3)
        return JS_ThrowTypeError(ctx, "cryptoKeyImportJwk: 3 arguments required");
    if (arg_str(ctx, argv[0], kind, sizeof kind) < 0 || arg_str(ctx, argv[1], curve, sizeof curve) < 0)
        return JS_EXCEPTION;
    EVP_PKEY *pkey = NULL;
    bool priv = false;
    if (!strcmp(kind, "rsa")) {
        int js_err;
        pkey = rsa_from_parts(ctx, argv[2], &priv, &js_err);
        if (js_err)
            return JS_EXCEPTION;
        return pkey ? wcrypto_pkey_box(ctx, pkey, priv) : JS_NULL;
    }
    wcrypto_bytes x, y = { .hold = JS_UNDEFINED }, d = { .hold = JS_UNDEFINED };
    JSValue ret = JS_EXCEPTION;
    if (part_get(ctx, argv[2], "x", &x) < 0 || part_get(ctx, argv[2], "y", &y) < 0 ||
        part_get(ctx, argv[2], "d", &d) < 0)
        goto done;
    priv = d.p != NULL;
    if (okp_id(kind) && x.p && x.n == 32) {
        if (priv && d.n == 32) {
            pkey = EVP_PKEY_new_raw_private_key(okp_id(kind), NULL, d.p, d.n);
            uint8_t pub[32];
            size_t pub_len = sizeof pub;
            /* The JWK's x must be the public key of its d. */
            if (pkey && (EVP_PKEY_get_raw_public_key(pkey, pub, &pub_len) != 1 ||
                         pub_len != 32 || memcmp(pub, x.p, 32))) {
                EVP_PKEY_free(pkey);
                pkey = NULL;
            }
        } else if (!priv) {
            pkey = EVP_PKEY_new_raw_public_key(okp_id(kind), NULL, x.p, x.n);
        }
    } else if (!strcmp(kind, "ec") && curve_group(curve) && x.p && y.p) {
        size_t cb = curve_bytes(curve);
        uint8_t pt[1 + 2 * 66];
        if (x.n == cb && y.n == cb && (!priv || d.n == cb)) {
            pt[0] = 4;
            memcpy(pt + 1, x.p, cb);
            memcpy(pt + 1 + cb, y.p, cb);
            pkey = ec_from_point(curve, pt, 1 + 2 * cb, d.p, d.n);
        }
    }
    ret = pkey ? wcrypto_pkey_box(ctx, pkey, priv) : JS_NULL;
done:
    wcrypto_bytes_fini(ctx, &x);
    wcrypto_bytes_fini(ctx, &y);
    wcrypto_bytes_fini(ctx, &d);
    return ret;
}

/* ---- generate, public half, info ---- */

/* RSA key generation is the one long computation here (seconds for 8192 bits,
 * minutes for 16384): OpenSSL calls this between prime candidates, and a
 * non-zero answer lets it go on. It stops when the event runs past its CPU budget
 * or the shard stops, as the JS interrupt handler would. */
typedef struct keygen_watch {
    js_rt *rt;       /* NULL in a bare runtime (unit tests): no budget to check */
    bool stopped;
} keygen_watch;

static int keygen_progress(EVP_PKEY_CTX *pc)
{
    keygen_watch *w = EVP_PKEY_CTX_get_app_data(pc);
    if (w->rt && js_rt_should_interrupt(w->rt))
        w->stopped = true;
    return !w->stopped;
}

static JSValue js_generate(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char kind[16];
    if (argc < 3)
        return JS_ThrowTypeError(ctx, "cryptoKeyGenerate: 3 arguments required");
    if (arg_str(ctx, argv[0], kind, sizeof kind) < 0)
        return JS_EXCEPTION;
    EVP_PKEY *pkey = NULL;
    if (!strcmp(kind, "rsa")) {
        int32_t bits;
        if (JS_ToInt32(ctx, &bits, argv[1]) < 0)
            return JS_EXCEPTION;
        if (bits < RSA_BITS_MIN || bits > RSA_BITS_MAX)
            return JS_ThrowRangeError(ctx, "RSA: a modulus of %d bits", (int)bits);
        wcrypto_bytes e;
        if (wcrypto_bytes_get(ctx, argv[2], &e) < 0)
            return JS_EXCEPTION;
        BIGNUM *bn = e.n <= 8 ? BN_bin2bn(e.p, (int)e.n, NULL) : NULL;
        wcrypto_bytes_fini(ctx, &e);
        EVP_PKEY_CTX *pc = bn ? EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL) : NULL;
        keygen_watch watch = { .rt = js_rt_of(ctx) };
        if (pc) {
            EVP_PKEY_CTX_set_app_data(pc, &watch);
            EVP_PKEY_CTX_set_cb(pc, keygen_progress);
        }
        if (!pc || EVP_PKEY_keygen_init(pc) != 1 ||
            EVP_PKEY_CTX_set_rsa_keygen_bits(pc, bits) != 1 ||
            EVP_PKEY_CTX_set1_rsa_keygen_pubexp(pc, bn) != 1 || EVP_PKEY_generate(pc, &pkey) != 1)
            pkey = NULL;
        EVP_PKEY_CTX_free(pc);
        BN_free(bn);
        if (!pkey && watch.stopped)
            return JS_ThrowInternalError(ctx, "interrupted");
    } else if (!strcmp(kind, "ec")) {
        char curve[16];
        if (arg_str(ctx, argv[1], curve, sizeof curve) < 0)
            return JS_EXCEPTION;
        if (curve_group(curve))
            pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve_group(curve));
    } else if (okp_id(kind)) {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, okp_id(kind) == EVP_PKEY_ED25519 ? "ED25519" : "X25519");
    }
    if (!pkey)
        return JS_ThrowInternalError(ctx, "crypto: generating a %s key failed", kind);
    return wcrypto_pkey_box(ctx, pkey, true);
}

static JSValue js_public(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    EVP_PKEY *pkey = argc > 0 ? wcrypto_pkey_of(ctx, argv[0], NULL) : NULL;
    if (!pkey)
        return JS_EXCEPTION;
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pkey, &der);
    const unsigned char *p = der;
    EVP_PKEY *pub = n > 0 ? d2i_PUBKEY(NULL, &p, n) : NULL;
    OPENSSL_free(der);
    if (!pub)
        return JS_ThrowInternalError(ctx, "crypto: taking the public key failed");
    return wcrypto_pkey_box(ctx, pub, false);
}

static const char *pkey_kind(EVP_PKEY *pkey)
{
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        return "rsa";
    case EVP_PKEY_RSA_PSS:
        return "rsa-pss";
    case EVP_PKEY_EC:
        return "ec";
    case EVP_PKEY_ED25519:
        return "ed25519";
    case EVP_PKEY_X25519:
        return "x25519";
    default:
        return "other";
    }
}

static JSValue bn_param_ab(JSContext *ctx, EVP_PKEY *pkey, const char *name, size_t pad)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
        return JS_UNDEFINED;
    int n = BN_num_bytes(bn);
    size_t len = pad > (size_t)n ? pad : (size_t)n;
    uint8_t *buf = OPENSSL_malloc(len ? len : 1);
    JSValue v = JS_UNDEFINED;
    if (buf && BN_bn2binpad(bn, buf, (int)len) == (int)len)
        v = ab_of_buf(ctx, buf, len);
    else
        OPENSSL_free(buf);
    BN_clear_free(bn);
    return v;
}

static JSValue js_info(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    bool priv;
    EVP_PKEY *pkey = argc > 0 ? wcrypto_pkey_of(ctx, argv[0], &priv) : NULL;
    if (!pkey)
        return JS_EXCEPTION;
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o))
        return o;
    const char *kind = pkey_kind(pkey);
    JS_SetPropertyStr(ctx, o, "kind", JS_NewString(ctx, kind));
    JS_SetPropertyStr(ctx, o, "priv", JS_NewBool(ctx, priv));
    JS_SetPropertyStr(ctx, o, "bits", JS_NewInt32(ctx, EVP_PKEY_get_bits(pkey)));
    if (!strncmp(kind, "rsa", 3))
        JS_SetPropertyStr(ctx, o, "e", bn_param_ab(ctx, pkey, OSSL_PKEY_PARAM_RSA_E, 0));
    if (!strcmp(kind, "ec")) {
        char group[64];
        size_t glen = 0;
        const char *curve = NULL;
        if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &glen) == 1)
            curve = group_curve(group);
        JS_SetPropertyStr(ctx, o, "curve", curve ? JS_NewString(ctx, curve) : JS_UNDEFINED);
    }
    return o;
}

/* ---- export ---- */

static JSValue js_export(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char format[8];
    bool priv;
    EVP_PKEY *pkey = argc > 1 ? wcrypto_pkey_of(ctx, argv[0], &priv) : NULL;
    if (!pkey || arg_str(ctx, argv[1], format, sizeof format) < 0)
        return JS_EXCEPTION;
    unsigned char *der = NULL;
    int n = -1;
    if (!strcmp(format, "spki")) {
        n = i2d_PUBKEY(pkey, &der);
    } else if (!strcmp(format, "pkcs8") && priv) {
        PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(pkey);
        n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
        PKCS8_PRIV_KEY_INFO_free(p8);
    } else if (!strcmp(format, "raw")) {
        size_t len = 0;
        int id = EVP_PKEY_get_base_id(pkey);
        if (id == EVP_PKEY_EC) {
            if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0,
                                                &len) == 1 &&
                (der = OPENSSL_malloc(len)) &&
                EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, der,
                                                len, &len) == 1)
                n = (int)len;
        } else if (EVP_PKEY_get_raw_public_key(pkey, NULL, &len) == 1 &&
                   (der = OPENSSL_malloc(len)) &&
                   EVP_PKEY_get_raw_public_key(pkey, der, &len) == 1) {
            n = (int)len;
        }
    }
    if (n < 0) {
        OPENSSL_free(der);
        return JS_ThrowInternalError(ctx, "crypto: exporting a key as %s failed", format);
    }
    return ab_of_buf(ctx, der, (size_t)n);
}

static JSValue raw_key_ab(JSContext *ctx, EVP_PKEY *pkey, bool priv)
{
    uint8_t buf[64];
    size_t len = sizeof buf;
    int ok = priv ? EVP_PKEY_get_raw_private_key(pkey, buf, &len)
                  : EVP_PKEY_get_raw_public_key(pkey, buf, &len);
    JSValue v = ok == 1 ? JS_NewArrayBufferCopy(ctx, buf, len) : JS_UNDEFINED;
    OPENSSL_cleanse(buf, sizeof buf);
    return v;
}

static JSValue js_jwk(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    bool priv;
    EVP_PKEY *pkey = argc > 0 ? wcrypto_pkey_of(ctx, argv[0], &priv) : NULL;
    if (!pkey)
        return JS_EXCEPTION;
    JSValue o = JS_NewObject(ctx);
    if (JS_IsException(o))
        return o;
    int id = EVP_PKEY_get_base_id(pkey);
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        static const char *const names[][2] = {
            { "n", OSSL_PKEY_PARAM_RSA_N },
            { "e", OSSL_PKEY_PARAM_RSA_E },
            { "d", OSSL_PKEY_PARAM_RSA_D },
            { "p", OSSL_PKEY_PARAM_RSA_FACTOR1 },
            { "q", OSSL_PKEY_PARAM_RSA_FACTOR2 },
            { "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
            { "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
            { "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
        };
        for (size_t i = 0; i < (priv ? 8u : 2u); i++)
            JS_SetPropertyStr(ctx, o, names[i][0], bn_param_ab(ctx, pkey, names[i][1], 0));
    } else if (id == EVP_PKEY_EC) {
        size_t cb = (size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8;
        JS_SetPropertyStr(ctx, o, "x", bn_param_ab(ctx, pkey, OSSL_PKEY_PARAM_EC_PUB_X, cb));
        JS_SetPropertyStr(ctx, o, "y", bn_param_ab(ctx, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, cb));
        if (priv)
            JS_SetPropertyStr(ctx, o, "d", bn_param_ab(ctx, pkey, OSSL_PKEY_PARAM_PRIV_KEY, cb));
    } else {
        JS_SetPropertyStr(ctx, o, "x", raw_key_ab(ctx, pkey, false));
        if (priv)
            JS_SetPropertyStr(ctx, o, "d", raw_key_ab(ctx, pkey, true));
    }
    return o;
}

/* ---- sign, verify ---- */

/* ECDSA: DER <-> r||s of `half` bytes each. */
static int ecdsa_der_to_raw(const uint8_t *der, size_t der_len, uint8_t *raw, size_t half)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!sig)
        return -1;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, raw, (int)half) == (int)half &&
             BN_bn2binpad(s, raw + half, (int)half) == (int)half;
    ECDSA_SIG_free(sig);
    return ok ? 0 : -1;
}

static int ecdsa_raw_to_der(const uint8_t *raw, size_t half, unsigned char **der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)half, NULL), *s = BN_bin2bn(raw + half, (int)half, NULL);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return -1;
    }
    int n = i2d_ECDSA_SIG(sig, der);
    ECDSA_SIG_free(sig);
    return n;
}

/* A digest-sign/verify context for `alg` over `pkey`. */
static EVP_MD_CTX *sig_ctx(JSContext *ctx, const char *alg, EVP_PKEY *pkey, JSValueConst hash_v,
                           JSValueConst salt_v, bool sign)
{
    const EVP_MD *md = NULL;
    bool okp = !strcmp(alg, "Ed25519");
    if (!okp && !(md = wcrypto_md_js(ctx, hash_v)))
        return NULL;
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc = NULL;
    if (!mc) {
        JS_ThrowOutOfMemory(ctx);
        return NULL;
    }
    int ok = sign ? EVP_DigestSignInit(mc, &pc, md, NULL, pkey)
                  : EVP_DigestVerifyInit(mc, &pc, md, NULL, pkey);
    if (ok == 1 && !strcmp(alg, "RSASSA-PKCS1-v1_5"))
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING);
    else if (ok == 1 && !strcmp(alg, "RSA-PSS")) {
        int32_t salt;
        if (JS_ToInt32(ctx, &salt, salt_v) < 0) {
            EVP_MD_CTX_free(mc);
            return NULL;
        }
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, salt) == 1;
    }
    if (ok != 1) {
        EVP_MD_CTX_free(mc);
        JS_ThrowInternalError(ctx, "%s: OpenSSL refused the key", alg);
        return NULL;
    }
    return mc;
}

static JSValue js_sign(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char alg[24];
    if (argc < 5)
        return JS_ThrowTypeError(ctx, "cryptoSign: 5 arguments required");
    EVP_PKEY *pkey = wcrypto_pkey_of(ctx, argv[1], NULL);
    if (!pkey || arg_str(ctx, argv[0], alg, sizeof alg) < 0)
        return JS_EXCEPTION;
    wcrypto_bytes data;
    if (wcrypto_bytes_get(ctx, argv[4], &data) < 0)
        return JS_EXCEPTION;
    JSValue ret = JS_EXCEPTION;
    uint8_t *sig = NULL;
    EVP_MD_CTX *mc = sig_ctx(ctx, alg, pkey, argv[2], argv[3], true);
    size_t len = 0;
    if (!mc)
        goto done;
    ret = JS_NULL;
    if (EVP_DigestSign(mc, NULL, &len, data.p, data.n) != 1 || !(sig = OPENSSL_malloc(len)) ||
        EVP_DigestSign(mc, sig, &len, data.p, data.n) != 1)
        goto done;
    if (!strcmp(alg, "ECDSA")) {
        size_t half = (size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8;
        uint8_t raw[2 * 66];
        if (half > 66 || ecdsa_der_to_raw(sig, len, raw, half) < 0)
            goto done;
        ret = JS_NewArrayBufferCopy(ctx, raw, 2 * half);
    } else {
        ret = JS_NewArrayBufferCopy(ctx, sig, len);
    }
done:
    OPENSSL_free(sig);
    EVP_MD_CTX_free(mc);
    wcrypto_bytes_fini(ctx, &data);
    return ret;
}

/* ECDSA on P-256 through the key's precomputed table (crypto_ecdsa.c) once it
 * has verified often enough: 1 valid, 0 invalid, -1 use EVP_DigestVerify,
 * -2 exception pending. */
static int ecdsa_verify_fast(JSContext *ctx, JSValueConst box, EVP_PKEY *pkey,
                             JSValueConst hash_v, const uint8_t *sig, const wcrypto_bytes *data)
{
    wcrypto_ecdsa **slot = wcrypto_pkey_ecdsa(ctx, box);
    if (!slot)
        return -2;
    if (!*slot && !(*slot = wcrypto_ecdsa_new(pkey)))
        return -1;
    if (!wcrypto_ecdsa_ready(*slot))
        return -1;
    const EVP_MD *md = wcrypto_md_js(ctx, hash_v);
    if (!md)
        return -2;
    return wcrypto_ecdsa_verify_msg(*slot, md, data->p, data->n, sig);
}

static JSValue js_verify(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    char alg[24];
    if (argc < 6)
        return JS_ThrowTypeError(ctx, "cryptoVerify: 6 arguments required");
    EVP_PKEY *pkey = wcrypto_pkey_of(ctx, argv[1], NULL);
    if (!pkey || arg_str(ctx, argv[0], alg, sizeof alg) < 0)
        return JS_EXCEPTION;
    wcrypto_bytes sig, data = { .hold = JS_UNDEFINED };
    if (wcrypto_bytes_get(ctx, argv[4], &sig) < 0)
        return JS_EXCEPTION;
    JSValue ret = JS_EXCEPTION;
    unsigned char *der = NULL;
    EVP_MD_CTX *mc = NULL;
    if (wcrypto_bytes_get(ctx, argv[5], &data) < 0)
        goto done;
    if (!strcmp(alg, "ECDSA") && sig.n == 64) {
        int v = ecdsa_verify_fast(ctx, argv[1], pkey, argv[2], sig.p, &data);
        if (v == -2)
            goto done;
        if (v >= 0) {
            ret = JS_NewBool(ctx, v);
            goto done;
        }
    }
    mc = sig_ctx(ctx, alg, pkey, argv[2], argv[3], false);
    if (!mc)
        goto done;
    const uint8_t *s = sig.p;
    size_t s_len = sig.n;
    if (!strcmp(alg, "ECDSA")) {
        size_t half = (size_t)(EVP_PKEY_get_bits(pkey) + 7) / 8;
        int n = sig.n == 2 * half ? ecdsa_raw_to_der(sig.p, half, &der) : -1;
        if (n < 0) {
            ret = JS_FALSE;
            goto done;
        }
        s = der;
        s_len = (size_t)n;
    }
    ret = JS_NewBool(ctx, EVP_DigestVerify(mc, s, s_len, data.p, data.n) == 1);
done:
    OPENSSL_free(der);
    EVP_MD_CTX_free(mc);
    wcrypto_bytes_fini(ctx, &sig);
    wcrypto_bytes_fini(ctx, &data);
    return ret;
}

/* ---- RSA-OAEP, key agreement ---- */

static JSValue js_rsa_oaep(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 5)
        return JS_ThrowTypeError(ctx, "cryptoRsaOaep: 5 arguments required");
    bool enc = JS_ToBool(ctx, argv[0]);
    EVP_PKEY *pkey = wcrypto_pkey_of(ctx, argv[1], NULL);
    const EVP_MD *md = pkey ? wcrypto_md_js(ctx, argv[2]) : NULL;
    if (!md)
        return JS_EXCEPTION;
    wcrypto_bytes label, data = { .hold = JS_UNDEFINED };
    if (wcrypto_bytes_get(ctx, argv[3], &label) < 0)
        return JS_EXCEPTION;
    JSValue ret = JS_EXCEPTION;
    uint8_t *out = NULL;
    size_t len = 0;
    EVP_PKEY_CTX *pc = NULL;
    if (wcrypto_bytes_get(ctx, argv[4], &data) < 0)
        goto done;
    ret = JS_NULL;
    pc = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!pc || (enc ? EVP_PKEY_encrypt_init(pc) : EVP_PKEY_decrypt_init(pc)) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(pc, md) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md) != 1)
        goto done;
    if (label.n) {
        /* set0 takes ownership of the label. */
        void *l = OPENSSL_memdup(label.p, label.n);
        if (!l || EVP_PKEY_CTX_set0_rsa_oaep_label(pc, l, (int)label.n) != 1) {
            OPENSSL_free(l);
            goto done;
        }
    }
    int (*op)(EVP_PKEY_CTX *, unsigned char *, size_t *, const unsigned char *, size_t) =
        enc ? EVP_PKEY_encrypt : EVP_PKEY_decrypt;
    if (op(pc, NULL, &len, data.p, data.n) != 1 || !(out = OPENSSL_malloc(len ? len : 1)) ||
        op(pc, out, &len, data.p, data.n) != 1)
        goto done;
    ret = JS_NewArrayBufferCopy(ctx, out, len);
done:
    if (out)
        OPENSSL_clear_free(out, len);
    EVP_PKEY_CTX_free(pc);
    wcrypto_bytes_fini(ctx, &label);
    wcrypto_bytes_fini(ctx, &data);
    return ret;
}

static JSValue js_derive(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    if (argc < 2)
        return JS_ThrowTypeError(ctx, "cryptoDerive: 2 arguments required");
    EVP_PKEY *priv = wcrypto_pkey_of(ctx, argv[0], NULL);
    EVP_PKEY *pub = priv ? wcrypto_pkey_of(ctx, argv[1], NULL) : NULL;
    if (!pub)
        return JS_EXCEPTION;
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    uint8_t out[256];
    size_t len = sizeof out;
    JSValue ret = JS_NULL;
    if (pc && EVP_PKEY_derive_init(pc) == 1 && EVP_PKEY_derive_set_peer(pc, pub) == 1 &&
        EVP_PKEY_derive(pc, out, &len) == 1) {
        /* X25519 with a small-order point gives all zeros (RFC 7748 §6.1). */
        uint8_t any = 0;
        for (size_t i = 0; i < len; i++)
            any |= out[i];
        if (any)
            ret = JS_NewArrayBufferCopy(ctx, out, len);
    }
    OPENSSL_cleanse(out, sizeof out);
    EVP_PKEY_CTX_free(pc);
    return ret;
}

static const JSCFunctionListEntry pkey_natives[] = {
    JS_CFUNC_DEF("cryptoKeyImportDer", 2, js_import_der),
    JS_CFUNC_DEF("cryptoKeyImportRaw", 3, js_import_raw),
    JS_CFUNC_DEF("cryptoKeyImportJwk", 3, js_import_jwk),
    JS_CFUNC_DEF("cryptoKeyGenerate", 3, js_generate),
    JS_CFUNC_DEF("cryptoKeyPublic", 1, js_public),
    JS_CFUNC_DEF("cryptoKeyInfo", 1, js_info),
    JS_CFUNC_DEF("cryptoKeyExport", 2, js_export),
    JS_CFUNC_DEF("cryptoKeyJwk", 1, js_jwk),
    JS_CFUNC_DEF("cryptoSign", 5, js_sign),
    JS_CFUNC_DEF("cryptoVerify", 6, js_verify),
    JS_CFUNC_DEF("cryptoRsaOaep", 5, js_rsa_oaep),
    JS_CFUNC_DEF("cryptoDerive", 2, js_derive),
};

int web_crypto_pkey_install(JSContext *ctx, JSValueConst native)
{
    JS_SetPropertyFunctionList(ctx, native, pkey_natives,
                               sizeof pkey_natives / sizeof pkey_natives[0]);
    return 0;
}
