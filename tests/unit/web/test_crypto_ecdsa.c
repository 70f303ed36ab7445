/* Unit tests for crypto_ecdsa.c, the P-256 verify with a per-key table: every
 * answer is compared with OpenSSL's own ECDSA verify (EVP_PKEY_verify on the same
 * digest) and with the expected one. Known answers: RFC 6979 A.2.5 (P-256 with
 * SHA-1/256/384/512 digests), also through wcrypto_ecdsa_verify_msg (which
 * hashes). Generated cases, SigVer-style: valid signatures and their high-S
 * twins (valid), tampered digests, r or s changed, zero, equal to n, above n, r
 * and s swapped, another key; digests of 20, 32, 48 and 64 bytes; the zero
 * digest; a signature whose point has x(R) >= n (so r = x(R) - n: the second
 * comparison); a combination that sums to the point at infinity. And the
 * counting: no table before WCRYPTO_ECDSA_TABLE_AFTER verifies, none for P-384. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"   /* EC_POINT arithmetic, as crypto_ecdsa.c */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "web/crypto_ossl.h"

static void unhex(const char *s, uint8_t *out, size_t n)
{
    assert_int_equal(strlen(s), 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* OpenSSL's verdict on a raw r||s signature over a digest: 1 valid, else 0. */
static int ossl_verify(EVP_PKEY *pkey, const uint8_t *dgst, size_t dlen, const uint8_t sig[64])
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    assert_non_null(es);
    assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
    unsigned char *der = NULL;
    int n = i2d_ECDSA_SIG(es, &der);
    assert_true(n > 0);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pkey, NULL);
    assert_non_null(pc);
    assert_int_equal(EVP_PKEY_verify_init(pc), 1);
    int ok = EVP_PKEY_verify(pc, der, (size_t)n, dgst, dlen) == 1;
    EVP_PKEY_CTX_free(pc);
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    return ok;
}

/* Both paths give `want`. */
#define CHECK(e, pkey, dgst, dlen, sig, want)                                   \
    do {                                                                       \
        assert_int_equal(ossl_verify((pkey), (dgst), (dlen), (sig)), (want));  \
        assert_int_equal(wcrypto_ecdsa_verify((e), (dgst), (dlen), (sig)), (want)); \
    } while (0)

static wcrypto_ecdsa *table_for(EVP_PKEY *pkey)
{
    wcrypto_ecdsa *e = wcrypto_ecdsa_new(pkey);
    assert_non_null(e);
    assert_int_equal(wcrypto_ecdsa_build(e), 0);
    return e;
}

static EVP_PKEY *p256_from_point(const uint8_t *pt, size_t n)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    assert_non_null(bld);
    assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0), 1);
    assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, n), 1);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
    assert_int_equal(EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_PUBLIC_KEY, params), 1);
    EVP_PKEY_CTX_free(pc);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static EVP_PKEY *p256_from_ec_point(const EC_GROUP *g, const EC_POINT *q, BN_CTX *bn)
{
    uint8_t pt[65];
    assert_int_equal(EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pt, sizeof pt, bn), 65);
    return p256_from_point(pt, sizeof pt);
}

/* Signs a digest with OpenSSL; r||s into sig. */
static void sign_digest(EVP_PKEY *pkey, const uint8_t *dgst, size_t dlen, uint8_t sig[64])
{
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(pkey, NULL);
    unsigned char der[80];
    size_t n = sizeof der;
    assert_int_equal(EVP_PKEY_sign_init(pc), 1);
    assert_int_equal(EVP_PKEY_sign(pc, der, &n, dgst, dlen), 1);
    EVP_PKEY_CTX_free(pc);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
    assert_non_null(es);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    assert_int_equal(BN_bn2binpad(r, sig, 32), 32);
    assert_int_equal(BN_bn2binpad(s, sig + 32, 32), 32);
    ECDSA_SIG_free(es);
}

static const BIGNUM *order(void)
{
    static EC_GROUP *g;
    if (!g)
        g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    return EC_GROUP_get0_order(g);
}

/* half := v (32 bytes, big-endian). */
static void put(uint8_t *half, const BIGNUM *v)
{
    assert_int_equal(BN_bn2binpad(v, half, 32), 32);
}

static void test_rfc6979(void **state)
{
    (void)state;
    /* RFC 6979 A.2.5: the P-256 key, message "sample" and "test". */
    uint8_t pt[65] = { 4 };
    unhex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6", pt + 1, 32);
    unhex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299", pt + 33, 32);
    EVP_PKEY *pkey = p256_from_point(pt, sizeof pt);
    wcrypto_ecdsa *e = table_for(pkey);
    static const struct {
        const char *md, *msg, *sig;
    } v[] = {
        { "SHA1", "sample",
          "61340c88c3aaebeb4f6d667f672ca9759a6ccaa9fa8811313039ee4a35471d32"
          "6d7f147dac089441bb2e2fe8f7a3fa264b9c475098fdcf6e00d7c996e1b8b7eb" },
        { "SHA256", "sample",
          "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
          "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8" },
        { "SHA384", "sample",
          "0eafea039b20e9b42309fb1d89e213057cbf973dc0cfc8f129edddc800ef7719"
          "4861f0491e6998b9455193e34e7b0d284ddd7149a74b95b9261f13abde940954" },
        { "SHA512", "sample",
          "8496a60b5e9b47c825488827e0495b0e3fa109ec4568fd3f8d1097678eb97f00"
          "2362ab1adbe2b8adf9cb9edab740ea6049c028114f2460f96554f61fae3302fe" },
        { "SHA256", "test",
          "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
          "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t sig[64], dgst[64];
        unsigned int dlen = 0;
        unhex(v[i].sig, sig, 64);
        assert_int_equal(EVP_Digest(v[i].msg, strlen(v[i].msg), dgst, &dlen,
                                    EVP_get_digestbyname(v[i].md), NULL), 1);
        CHECK(e, pkey, dgst, dlen, sig, 1);
        /* The same through the message (the hash changes from case to case). */
        const EVP_MD *md = EVP_get_digestbyname(v[i].md);
        assert_int_equal(wcrypto_ecdsa_verify_msg(e, md, (const uint8_t *)v[i].msg,
                                                  strlen(v[i].msg), sig), 1);
        assert_int_equal(wcrypto_ecdsa_verify_msg(e, md, (const uint8_t *)v[i].msg,
                                                  strlen(v[i].msg) - 1, sig), 0);
        dgst[dlen - 1] ^= 1;   /* past the 256 bits used for SHA-384/512: still valid */
        CHECK(e, pkey, dgst, dlen, sig, dlen > 32);
        dgst[0] ^= 0x80;
        CHECK(e, pkey, dgst, dlen, sig, 0);
    }
    wcrypto_ecdsa_free(e);
    EVP_PKEY_free(pkey);
}

static void test_generated(void **state)
{
    (void)state;
    EVP_PKEY *pkey = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
    assert_non_null(pkey);
    assert_non_null(other);
    wcrypto_ecdsa *e = table_for(pkey), *eo = table_for(other);
    const BIGNUM *n = order();
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *t = BN_new();
    static const size_t lens[] = { 32, 20, 48, 64 };
    for (int i = 0; i < 200; i++) {
        size_t dlen = lens[i % 4];
        uint8_t dgst[64], sig[64], bad[64];
        assert_int_equal(RAND_bytes(dgst, (int)dlen), 1);
        if (i == 0)
            memset(dgst, 0, dlen);   /* e = 0: u1 = 0 */
        sign_digest(pkey, dgst, dlen, sig);
        CHECK(e, pkey, dgst, dlen, sig, 1);
        CHECK(eo, other, dgst, dlen, sig, 0);
        /* High-S: (r, n - s) is valid too. */
        memcpy(bad, sig, 64);
        assert_non_null(BN_bin2bn(sig + 32, 32, t));
        assert_int_equal(BN_sub(t, n, t), 1);
        put(bad + 32, t);
        CHECK(e, pkey, dgst, dlen, bad, 1);
        /* Tampered digest (within the first 256 bits). */
        dgst[i % (dlen < 32 ? dlen : 32)] ^= (uint8_t)(1u << (i % 8));
        CHECK(e, pkey, dgst, dlen, sig, 0);
        dgst[i % (dlen < 32 ? dlen : 32)] ^= (uint8_t)(1u << (i % 8));
        /* r + 1, s + 1 (mod 2^256 is fine: both are checked < n). */
        memcpy(bad, sig, 64);
        bad[31] ^= 1;
        CHECK(e, pkey, dgst, dlen, bad, 0);
        memcpy(bad, sig, 64);
        bad[63] ^= 1;
        CHECK(e, pkey, dgst, dlen, bad, 0);
        /* Swapped. */
        memcpy(bad, sig + 32, 32);
        memcpy(bad + 32, sig, 32);
        CHECK(e, pkey, dgst, dlen, bad, 0);
        /* r or s = 0, = n, = n + the value (when it fits), = 2^256 - 1. */
        for (int half = 0; half < 2; half++) {
            memcpy(bad, sig, 64);
            memset(bad + 32 * half, 0, 32);
            CHECK(e, pkey, dgst, dlen, bad, 0);
            put(bad + 32 * half, n);
            CHECK(e, pkey, dgst, dlen, bad, 0);
            memset(bad + 32 * half, 0xff, 32);
            CHECK(e, pkey, dgst, dlen, bad, 0);
            assert_non_null(BN_bin2bn(sig + 32 * half, 32, t));
            assert_int_equal(BN_add(t, t, n), 1);
            if (BN_num_bytes(t) <= 32) {
                put(bad + 32 * half, t);
                CHECK(e, pkey, dgst, dlen, bad, 0);
            }
        }
    }
    BN_free(t);
    BN_CTX_free(bn);
    wcrypto_ecdsa_free(e);
    wcrypto_ecdsa_free(eo);
    EVP_PKEY_free(pkey);
    EVP_PKEY_free(other);
}

/* A point R with x(R) >= n, and a key Q made so that (x(R) - n, s) is a valid
 * signature: Q = u2^-1 * (R - u1*G) for u1 = e/s, u2 = r/s. Such an R is about
 * one in 2^128 for a real signature, so it needs building. */
static void test_x_above_n(void **state)
{
    (void)state;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BN_CTX *bn = BN_CTX_new();
    const BIGNUM *n = EC_GROUP_get0_order(g);
    BIGNUM *p = BN_new(), *x = BN_new(), *r = BN_new(), *s = BN_new(), *m = BN_new();
    BIGNUM *w = BN_new(), *u1 = BN_new(), *u2 = BN_new();
    EC_POINT *R = EC_POINT_new(g), *T = EC_POINT_new(g), *Q = EC_POINT_new(g);
    assert_int_equal(EC_GROUP_get_curve(g, p, NULL, NULL, bn), 1);
    assert_int_equal(BN_copy(x, n) != NULL, 1);
    int found = 0;
    for (int k = 0; k < 1000 && !found; k++) {
        assert_int_equal(BN_add_word(x, 1), 1);
        found = EC_POINT_set_compressed_coordinates(g, R, x, 0, bn) == 1;
    }
    assert_true(found);
    assert_true(BN_cmp(x, p) < 0);
    assert_int_equal(BN_sub(r, x, n), 1);
    /* s: random, then edge values for the inverse (1, 2, 2^255, n - 2; their
     * high-S twins n - 1, n - 2, ..., 2 come below). */
    for (int c = 0; c < 5; c++) {
        uint8_t dgst[32], sig[64];
        assert_int_equal(RAND_bytes(dgst, 32), 1);
        assert_non_null(BN_bin2bn(dgst, 32, m));
        switch (c) {
        case 0:
            assert_int_equal(BN_rand_range(s, n), 1);
            assert_int_equal(BN_add_word(s, 1), 1);   /* s in [1, n) (n - 1 + 1 = n is a 2^-256 event) */
            break;
        case 1:
        case 2:
            assert_int_equal(BN_set_word(s, (BN_ULONG)c), 1);
            break;
        case 3:
            assert_int_equal(BN_set_word(s, 0), 1);
            assert_int_equal(BN_set_bit(s, 255), 1);
            break;
        default:
            assert_non_null(BN_copy(s, n));
            assert_int_equal(BN_sub_word(s, 2), 1);
        }
        assert_non_null(BN_mod_inverse(w, s, n, bn));
        assert_int_equal(BN_mod_mul(u1, m, w, n, bn), 1);
        assert_int_equal(BN_mod_mul(u2, r, w, n, bn), 1);
        /* Q = u2^-1 (R - u1 G) */
        assert_int_equal(EC_POINT_mul(g, T, u1, NULL, NULL, bn), 1);
        assert_int_equal(EC_POINT_invert(g, T, bn), 1);
        assert_int_equal(EC_POINT_add(g, T, R, T, bn), 1);
        assert_non_null(BN_mod_inverse(w, u2, n, bn));
        assert_int_equal(EC_POINT_mul(g, Q, NULL, T, w, bn), 1);
        EVP_PKEY *pkey = p256_from_ec_point(g, Q, bn);
        wcrypto_ecdsa *e = table_for(pkey);
        put(sig, r);
        put(sig + 32, s);
        CHECK(e, pkey, dgst, 32, sig, 1);
        assert_int_equal(BN_sub(s, n, s), 1);   /* high-S: -R has the same x */
        put(sig + 32, s);
        CHECK(e, pkey, dgst, 32, sig, 1);
        put(sig, x);                             /* r = x(R) itself: >= n, refused */
        CHECK(e, pkey, dgst, 32, sig, 0);
        wcrypto_ecdsa_free(e);
        EVP_PKEY_free(pkey);
    }
    EC_POINT_free(R);
    EC_POINT_free(T);
    EC_POINT_free(Q);
    BN_free(p);
    BN_free(x);
    BN_free(r);
    BN_free(s);
    BN_free(m);
    BN_free(w);
    BN_free(u1);
    BN_free(u2);
    BN_CTX_free(bn);
    EC_GROUP_free(g);
}

/* u1*G + u2*Q = infinity: with Q = dG, e = -r*d mod n. Invalid on both sides
 * (OpenSSL reports an error, which verify callers treat as invalid). */
static void test_infinity(void **state)
{
    (void)state;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    wcrypto_ecdsa *e = table_for(pkey);
    BN_CTX *bn = BN_CTX_new();
    BIGNUM *d = NULL, *r = BN_new(), *s = BN_new(), *m = BN_new();
    const BIGNUM *n = order();
    assert_int_equal(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
    assert_int_equal(BN_rand_range(r, n), 1);
    assert_int_equal(BN_add_word(r, 1), 1);
    assert_int_equal(BN_rand_range(s, n), 1);
    assert_int_equal(BN_add_word(s, 1), 1);
    assert_int_equal(BN_mod_mul(m, r, d, n, bn), 1);
    assert_int_equal(BN_sub(m, n, m), 1);   /* -r*d mod n, in (0, n] */
    uint8_t dgst[32], sig[64];
    put(dgst, m);
    put(sig, r);
    put(sig + 32, s);
    CHECK(e, pkey, dgst, 32, sig, 0);
    BN_clear_free(d);
    BN_free(r);
    BN_free(s);
    BN_free(m);
    BN_CTX_free(bn);
    wcrypto_ecdsa_free(e);
    EVP_PKEY_free(pkey);
}

static void test_counting(void **state)
{
    (void)state;
    EVP_PKEY *pkey = EVP_EC_gen("P-256"), *p384 = EVP_EC_gen("P-384");
    wcrypto_ecdsa *e = wcrypto_ecdsa_new(pkey), *e384 = wcrypto_ecdsa_new(p384);
    uint8_t dgst[32] = { 1 }, sig[64];
    sign_digest(pkey, dgst, 32, sig);
    for (int i = 1; i < WCRYPTO_ECDSA_TABLE_AFTER; i++) {
        assert_false(wcrypto_ecdsa_ready(e));
        assert_false(wcrypto_ecdsa_ready(e384));
    }
    assert_int_equal(wcrypto_ecdsa_verify(e, dgst, 32, sig), -1);   /* no table yet */
    assert_true(wcrypto_ecdsa_ready(e));
    assert_false(wcrypto_ecdsa_ready(e384));
    assert_true(wcrypto_ecdsa_ready(e));
    assert_int_equal(wcrypto_ecdsa_verify(e, dgst, 32, sig), 1);
    assert_int_equal(wcrypto_ecdsa_build(e384), -1);
    assert_int_equal(wcrypto_ecdsa_verify(e384, dgst, 32, sig), -1);
    wcrypto_ecdsa_free(e);
    wcrypto_ecdsa_free(e384);
    EVP_PKEY_free(pkey);
    EVP_PKEY_free(p384);
}

/* Many keys, many messages: OpenSSL signs, both verifiers judge the signature
 * and copies with one bit flipped in r, in s or in the digest. */
static void test_many_keys(void **state)
{
    (void)state;
    int valid = 0, invalid = 0;
    for (int k = 0; k < 40; k++) {
        EVP_PKEY *pkey = EVP_EC_gen("P-256");
        assert_non_null(pkey);
        wcrypto_ecdsa *e = table_for(pkey);
        for (int i = 0; i < 50; i++) {
            uint8_t dgst[32], sig[64], bad[64];
            assert_int_equal(RAND_bytes(dgst, 32), 1);
            sign_digest(pkey, dgst, 32, sig);
            CHECK(e, pkey, dgst, 32, sig, 1);
            valid++;
            unsigned bit = (unsigned)(k * 50 + i) % 512;
            memcpy(bad, sig, 64);
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int want = ossl_verify(pkey, dgst, 32, bad);
            assert_int_equal(want, 0);
            assert_int_equal(wcrypto_ecdsa_verify(e, dgst, 32, bad), want);
            dgst[(bit / 8) % 32] ^= (uint8_t)(1u << (bit % 8));
            CHECK(e, pkey, dgst, 32, sig, 0);
            invalid += 2;
        }
        wcrypto_ecdsa_free(e);
        EVP_PKEY_free(pkey);
    }
    assert_int_equal(valid, 2000);
    assert_int_equal(invalid, 4000);
}

/* A valid signature for chosen u1, u2 and a key Q = c*G: R = (u1 + c*u2)*G,
 * r = x(R) mod n, s = r/u2, e = u1*s. Returns false when r is 0. */
static bool sig_for(EC_GROUP *g, BN_CTX *bn, const BIGNUM *c, const BIGNUM *u1,
                    const BIGNUM *u2, uint8_t dgst[32], uint8_t sig[64])
{
    const BIGNUM *n = EC_GROUP_get0_order(g);
    BIGNUM *k = BN_new(), *x = BN_new(), *s = BN_new();
    EC_POINT *R = EC_POINT_new(g);
    assert_int_equal(BN_mod_mul(k, c, u2, n, bn), 1);
    assert_int_equal(BN_mod_add(k, k, u1, n, bn), 1);
    assert_int_equal(EC_POINT_mul(g, R, k, NULL, NULL, bn), 1);
    bool ok = !EC_POINT_is_at_infinity(g, R);
    if (ok) {
        assert_int_equal(EC_POINT_get_affine_coordinates(g, R, x, NULL, bn), 1);
        assert_int_equal(BN_nnmod(x, x, n, bn), 1);
        ok = !BN_is_zero(x);
    }
    if (ok) {
        assert_non_null(BN_mod_inverse(s, u2, n, bn));
        assert_int_equal(BN_mod_mul(s, s, x, n, bn), 1);   /* s = r/u2 */
        put(sig, x);
        put(sig + 32, s);
        assert_int_equal(BN_mod_mul(k, u1, s, n, bn), 1);  /* e = u1*s */
        put(dgst, k);
    }
    BN_free(k);
    BN_free(x);
    BN_free(s);
    EC_POINT_free(R);
    return ok;
}

/* Sums that go through the special cases of the point addition: with Q = G,
 * u1 = u2 = m (one digit each) adds m*G to m*G (a doubling); with Q = -G the
 * sum passes through the point at infinity and goes on (u2 = m + 2^21: a
 * second digit) or ends there (u2 = m: invalid). */
static void test_special_sums(void **state)
{
    (void)state;
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BN_CTX *bn = BN_CTX_new();
    const BIGNUM *n = EC_GROUP_get0_order(g);
    BIGNUM *c = BN_new(), *u1 = BN_new(), *u2 = BN_new();
    EC_POINT *Q = EC_POINT_new(g);
    for (int neg = 0; neg < 2; neg++) {
        assert_int_equal(BN_one(c), 1);
        if (neg)
            assert_int_equal(BN_sub(c, n, c), 1);
        assert_int_equal(EC_POINT_mul(g, Q, c, NULL, NULL, bn), 1);
        EVP_PKEY *pkey = p256_from_ec_point(g, Q, bn);
        wcrypto_ecdsa *e = table_for(pkey);
        static const unsigned long ms[] = { 1, 2, 5, 63, 64, 65, 127, 128, 129, 200 };
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
            uint8_t dgst[32], sig[64];
            assert_int_equal(BN_set_word(u1, ms[i]), 1);
            assert_int_equal(BN_set_word(u2, ms[i]), 1);
            if (!neg) {
                assert_true(sig_for(g, bn, c, u1, u2, dgst, sig));
                CHECK(e, pkey, dgst, 32, sig, 1);
            } else {
                /* R = infinity: any r; take s = 1/u2... r = 1, s = r/u2, e = u1*s. */
                BIGNUM *s = BN_new(), *m = BN_new();
                assert_non_null(BN_mod_inverse(s, u2, n, bn));
                assert_int_equal(BN_mod_mul(m, u1, s, n, bn), 1);
                BN_one(c);
                put(sig, c);
                put(sig + 32, s);
                put(dgst, m);
                CHECK(e, pkey, dgst, 32, sig, 0);
                assert_int_equal(BN_sub(c, n, c), 1);   /* c = -1 again */
                BN_free(s);
                BN_free(m);
                assert_int_equal(BN_set_bit(u2, 21), 1);   /* u2 = m + 2^21 */
                assert_true(sig_for(g, bn, c, u1, u2, dgst, sig));
                CHECK(e, pkey, dgst, 32, sig, 1);
            }
        }
        wcrypto_ecdsa_free(e);
        EVP_PKEY_free(pkey);
    }
    BN_free(c);
    BN_free(u1);
    BN_free(u2);
    EC_POINT_free(Q);
    BN_CTX_free(bn);
    EC_GROUP_free(g);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* For information only (no assertion on time): ns per verify, table and
 * OpenSSL's, and the time to build a key's table. */
static void test_speed(void **state)
{
    (void)state;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    uint8_t dgst[32] = { 7 }, sig[64];
    sign_digest(pkey, dgst, 32, sig);
    double t0 = now_ns();
    wcrypto_ecdsa *e = table_for(pkey);
    double t1 = now_ns();
    int ok = 0;
    enum { ITER = 2000 };
    for (int i = 0; i < ITER; i++)
        ok += wcrypto_ecdsa_verify(e, dgst, 32, sig);
    double t2 = now_ns();
    for (int i = 0; i < ITER / 10; i++)
        ok += ossl_verify(pkey, dgst, 32, sig);
    double t3 = now_ns();
    assert_int_equal(ok, ITER + ITER / 10);
    printf("p256: table build %.0f us, verify %.0f ns (OpenSSL EVP_PKEY_verify %.0f ns)\n",
           (t1 - t0) / 1e3, (t2 - t1) / ITER, (t3 - t2) / (ITER / 10));
    wcrypto_ecdsa_free(e);
    EVP_PKEY_free(pkey);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6979),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_x_above_n),
        cmocka_unit_test(test_infinity),
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_special_sums),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
