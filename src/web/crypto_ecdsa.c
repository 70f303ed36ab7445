/* crypto_ecdsa.c: ECDSA P-256 verification with a table of precomputed multiples
 * of the public key, for a key that verifies many times (a JWT-checking Worker
 * verifies every request with the same key).
 *
 * OpenSSL's verify computes u1*G + u2*Q with a static table for the generator G
 * but builds a small window table for the public key Q on every call: ~256 point
 * doublings and ~50 additions per verify. Here, once a key has asked for
 * WCRYPTO_ECDSA_TABLE_AFTER verifies, we make an EC_GROUP whose generator is Q
 * and let OpenSSL precompute its multiples (EC_GROUP_precompute_mult: 37 x 64
 * affine points, ~150 KiB, built once in tens of milliseconds), so u2*Q becomes
 * ~37 table additions like u1*G. The rest of the verify is done here exactly as
 * OpenSSL's ossl_ecdsa_simple_verify_sig does it (FIPS 186-4 6.4.2):
 *   r, s in [1, n-1], else invalid;
 *   e = the leftmost 256 bits of the digest (all of it when shorter);
 *   w = s^-1 mod n, u1 = e*w mod n, u2 = r*w mod n;
 *   R = u1*G + u2*Q; R = infinity is invalid;
 *   valid iff x(R) mod n == r.
 * The last step does not make R affine: with R = (X, Y, Z) in Jacobian
 * coordinates x(R) = X / Z^2, and x(R) mod n == r (x(R) < p < 2n) iff
 * X == r*Z^2 or, when r + n < p, X == (r + n)*Z^2 (mod p). High-S signatures
 * are valid, as in OpenSSL and WebCrypto. tests/unit/web/test_crypto_ecdsa.c
 * checks every case against EVP_PKEY_verify.
 *
 * Why the deprecated low-level EC API: OpenSSL 3's EVP/provider interface has no
 * way to precompute multiples of a point other than the generator, nor to add
 * points. EC_GROUP_set_generator, EC_GROUP_precompute_mult, EC_POINT_mul/add and
 * EC_POINT_get_Jprojective_coordinates_GFp are deprecated in 3.0 but present; the
 * warning is silenced for this file only.
 *
 * Constant time: verification uses only public data (the key, the message, the
 * signature), so the variable-time BIGNUM arithmetic and early exits here leak
 * nothing secret.
 *
 * Not thread-safe: a wcrypto_ecdsa lives in a key box of one JS runtime, used by
 * that runtime's thread only. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <stdlib.h>
#include <string.h>

#include "web/crypto_ossl.h"

/* At most this many tables per thread (~150 KiB each); keys past it stay on
 * OpenSSL's plain verify. */
#define TABLES_MAX 32

static _Thread_local int tables_live;

struct wcrypto_ecdsa {
    EVP_PKEY *pkey;      /* a reference, for building the table */
    uint32_t uses;       /* verifies asked for so far (stops counting at the build) */
    bool off;            /* no table: not P-256, or building failed, or too many */
    EC_GROUP *g;         /* P-256 */
    EC_GROUP *gq;        /* P-256 with generator Q and its precomputed multiples */
    BIGNUM *p;           /* the field prime */
    BN_CTX *bn;
    EVP_MD_CTX *mc;      /* for wcrypto_ecdsa_verify_msg: the digest context and */
    const EVP_MD *md_of; /* the last hash asked for (EVP_sha256() etc.), */
    EVP_MD *md;          /* fetched once: OpenSSL 3 fetches a legacy EVP_MD per call */
};

/* ---- s^-1 mod n ----
 * BN_mod_inverse takes ~10 us for 256 bits (BIGNUM calls per bit); OpenSSL's
 * fast inverse modulo the order is internal. This is the binary extended
 * Euclidean algorithm on four 64-bit limbs (~2 us). Variable time: s is public. */

typedef struct u256 {
    uint64_t w[4];   /* little-endian limbs */
} u256;

static void u256_from_be(u256 *a, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v = v << 8 | b[24 - 8 * i + j];
        a->w[i] = v;
    }
}

static void u256_to_be(const u256 *a, uint8_t *b)
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            b[24 - 8 * i + j] = (uint8_t)(a->w[i] >> (56 - 8 * j));
}

static int u256_cmp(const u256 *a, const u256 *b)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static uint64_t u256_add(u256 *r, const u256 *a, const u256 *b)
{
    uint64_t c = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t t = a->w[i] + c;
        c = t < c;
        r->w[i] = t + b->w[i];
        c += r->w[i] < t;
    }
    return c;
}

static uint64_t u256_sub(u256 *r, const u256 *a, const u256 *b)
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t t = a->w[i] - borrow;
        borrow = a->w[i] < borrow;
        borrow += t < b->w[i];
        r->w[i] = t - b->w[i];
    }
    return borrow;
}

/* a >>= 1, with `top` (0 or 1) shifted in at bit 255. */
static void u256_shr1(u256 *a, uint64_t top)
{
    for (int i = 0; i < 3; i++)
        a->w[i] = a->w[i] >> 1 | a->w[i + 1] << 63;
    a->w[3] = a->w[3] >> 1 | top << 63;
}

static bool u256_is_one(const u256 *a)
{
    return a->w[0] == 1 && !(a->w[1] | a->w[2] | a->w[3]);
}

/* x := x / 2 mod n (n odd, x < n). */
static void half_mod(u256 *x, const u256 *n)
{
    uint64_t c = 0;
    if (x->w[0] & 1)
        c = u256_add(x, x, n);
    u256_shr1(x, c);
}

/* a^-1 mod n, for n odd and 0 < a < n with gcd(a, n) = 1 (n prime). Keeps
 * x1*a = u and x2*a = v (mod n) while (u, v) goes from (a, n) to a 1. */
static void inv_mod(u256 *out, const u256 *a, const u256 *n)
{
    u256 u = *a, v = *n, x1 = { { 1 } }, x2 = { { 0 } };
    while (!u256_is_one(&u) && !u256_is_one(&v)) {
        while (!(u.w[0] & 1)) {
            u256_shr1(&u, 0);
            half_mod(&x1, n);
        }
        while (!(v.w[0] & 1)) {
            u256_shr1(&v, 0);
            half_mod(&x2, n);
        }
        if (u256_cmp(&u, &v) >= 0) {
            u256_sub(&u, &u, &v);
            if (u256_sub(&x1, &x1, &x2))
                u256_add(&x1, &x1, n);
        } else {
            u256_sub(&v, &v, &u);
            if (u256_sub(&x2, &x2, &x1))
                u256_add(&x2, &x2, n);
        }
    }
    *out = u256_is_one(&u) ? x1 : x2;
}

wcrypto_ecdsa *wcrypto_ecdsa_new(EVP_PKEY *pkey)
{
    wcrypto_ecdsa *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    char group[32];
    size_t glen = 0;
    e->off = !(EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC &&
               EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                              sizeof group, &glen) == 1 &&
               (!strcmp(group, "prime256v1") || !strcmp(group, "P-256")) &&
               EVP_PKEY_up_ref(pkey) == 1);
    if (!e->off)
        e->pkey = pkey;
    return e;
}

void wcrypto_ecdsa_free(wcrypto_ecdsa *e)
{
    if (!e)
        return;
    if (e->gq)
        tables_live--;
    EC_GROUP_free(e->gq);
    EC_GROUP_free(e->g);
    BN_free(e->p);
    BN_CTX_free(e->bn);
    EVP_MD_CTX_free(e->mc);
    EVP_MD_free(e->md);
    EVP_PKEY_free(e->pkey);
    free(e);
}

int wcrypto_ecdsa_build(wcrypto_ecdsa *e)
{
    if (e->gq)
        return 0;
    if (e->off || tables_live >= TABLES_MAX)
        goto fail;
    uint8_t pt[65];
    size_t pt_len = 0;
    EC_POINT *q = NULL;
    if (EVP_PKEY_get_octet_string_param(e->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
                                        sizeof pt, &pt_len) != 1 ||
        !(e->bn = BN_CTX_new()) || !(e->p = BN_new()) ||
        !(e->g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) ||
        !EC_GROUP_get_curve(e->g, e->p, NULL, NULL, e->bn) || !(q = EC_POINT_new(e->g)) ||
        !EC_POINT_oct2point(e->g, q, pt, pt_len, e->bn) ||
        EC_POINT_is_at_infinity(e->g, q) || !(e->gq = EC_GROUP_dup(e->g)) ||
        !EC_GROUP_set_generator(e->gq, q, EC_GROUP_get0_order(e->g),
                                EC_GROUP_get0_cofactor(e->g)) ||
        !EC_GROUP_precompute_mult(e->gq, e->bn)) {
        EC_POINT_free(q);
        EC_GROUP_free(e->gq);
        e->gq = NULL;
        goto fail;
    }
    EC_POINT_free(q);
    tables_live++;
    EVP_PKEY_free(e->pkey);   /* no longer needed */
    e->pkey = NULL;
    return 0;
fail:
    e->off = true;
    EVP_PKEY_free(e->pkey);
    e->pkey = NULL;
    return -1;
}

bool wcrypto_ecdsa_ready(wcrypto_ecdsa *e)
{
    if (e->gq)
        return true;
    if (e->off || ++e->uses < WCRYPTO_ECDSA_TABLE_AFTER)
        return false;
    return wcrypto_ecdsa_build(e) == 0;
}

int wcrypto_ecdsa_verify(wcrypto_ecdsa *e, const uint8_t *dgst, size_t dgst_len,
                         const uint8_t sig[64])
{
    if (!e->gq)
        return -1;
    BN_CTX *bn = e->bn;
    const BIGNUM *n = EC_GROUP_get0_order(e->g);
    EC_POINT *r1 = EC_POINT_new(e->g), *r2 = EC_POINT_new(e->g);
    BN_CTX_start(bn);
    BIGNUM *r = BN_CTX_get(bn), *s = BN_CTX_get(bn), *m = BN_CTX_get(bn);
    BIGNUM *w = BN_CTX_get(bn), *u1 = BN_CTX_get(bn), *u2 = BN_CTX_get(bn);
    BIGNUM *x = BN_CTX_get(bn), *z = BN_CTX_get(bn), *t = BN_CTX_get(bn);
    int ret = -1;
    if (!r1 || !r2 || !t || !BN_bin2bn(sig, 32, r) || !BN_bin2bn(sig + 32, 32, s) ||
        !BN_bin2bn(dgst, (int)(dgst_len < 32 ? dgst_len : 32), m))
        goto done;
    ret = 0;
    if (BN_is_zero(r) || BN_is_zero(s) || BN_ucmp(r, n) >= 0 || BN_ucmp(s, n) >= 0)
        goto done;
    ret = -1;
    u256 s256, n256, w256;
    uint8_t buf[32];
    u256_from_be(&s256, sig + 32);
    if (BN_bn2binpad(n, buf, 32) != 32)
        goto done;
    u256_from_be(&n256, buf);
    inv_mod(&w256, &s256, &n256);
    u256_to_be(&w256, buf);
    if (!BN_bin2bn(buf, 32, w) || !BN_mod_mul(u1, m, w, n, bn) ||
        !BN_mod_mul(u2, r, w, n, bn) ||
        !EC_POINT_mul(e->g, r1, u1, NULL, NULL, bn) ||    /* u1*G: OpenSSL's static table */
        !EC_POINT_mul(e->gq, r2, u2, NULL, NULL, bn) ||   /* u2*Q: the key's table */
        !EC_POINT_add(e->g, r1, r1, r2, bn))
        goto done;
    ret = 0;
    if (EC_POINT_is_at_infinity(e->g, r1))
        goto done;
    ret = -1;
    if (!EC_POINT_get_Jprojective_coordinates_GFp(e->g, r1, x, NULL, z, bn) ||
        !BN_nnmod(x, x, e->p, bn) || !BN_mod_sqr(z, z, e->p, bn) ||
        !BN_mod_mul(t, r, z, e->p, bn))
        goto done;
    ret = !BN_cmp(t, x);
    if (!ret) {
        /* x(R) in [n, p): r is x(R) - n. */
        if (!BN_add(t, r, n))
            goto fail;
        if (BN_cmp(t, e->p) < 0) {
            if (!BN_mod_mul(t, t, z, e->p, bn))
                goto fail;
            ret = !BN_cmp(t, x);
        }
    }
    goto done;
fail:
    ret = -1;
done:
    BN_CTX_end(bn);
    EC_POINT_free(r1);
    EC_POINT_free(r2);
    return ret;
}

int wcrypto_ecdsa_verify_msg(wcrypto_ecdsa *e, const EVP_MD *md, const uint8_t *data, size_t n,
                             const uint8_t sig[64])
{
    if (!e->gq)
        return -1;
    if (md != e->md_of) {
        EVP_MD_free(e->md);
        e->md_of = NULL;
        if (!(e->md = EVP_MD_fetch(NULL, EVP_MD_get0_name(md), NULL)))
            return -1;
        e->md_of = md;
    }
    uint8_t dgst[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    if ((!e->mc && !(e->mc = EVP_MD_CTX_new())) || EVP_DigestInit_ex(e->mc, e->md, NULL) != 1 ||
        EVP_DigestUpdate(e->mc, data, n) != 1 || EVP_DigestFinal_ex(e->mc, dgst, &dlen) != 1)
        return -1;
    return wcrypto_ecdsa_verify(e, dgst, dlen, sig);
}
