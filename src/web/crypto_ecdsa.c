/* crypto_ecdsa.c: ECDSA P-256 verification with tables of precomputed
 * multiples, for a key that verifies many times (a JWT-checking Worker verifies
 * every request with the same key).
 *
 * OpenSSL's verify computes u1*G + u2*Q with a static table for the generator G
 * but builds a small window table for the public key Q on every call: ~256 point
 * doublings and ~50 additions per verify. Here, once a key has asked for
 * WCRYPTO_ECDSA_TABLE_AFTER verifies, p256.c builds a table of affine multiples
 * of Q (37 windows of 7 bits, 64 points each: 151,552 bytes, ~3 ms once), and
 * every verify is then ~70 additions of table points (Q's and the generator's,
 * built once per process) on our own field arithmetic, with no doublings and no
 * BIGNUM: see p256.c for the arithmetic and the exact answers, which are those
 * of OpenSSL's ECDSA verify (r, s in [1, n-1]; high-S valid; the digest cut to
 * its leftmost 256 bits; the point at infinity invalid).
 * tests/unit/web/test_crypto_ecdsa.c checks them against EVP_PKEY_verify.
 * Before the table, and for other curves, the caller uses OpenSSL's verify.
 *
 * Constant time: verification uses only public data (the key, the message, the
 * signature), so the variable-time arithmetic and early exits leak nothing secret.
 *
 * Not thread-safe: a wcrypto_ecdsa lives in a key box of one JS runtime, used by
 * that runtime's thread only (the generator's table, shared, is built under
 * pthread_once). */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "web/crypto_ossl.h"
#include "web/p256.h"

/* At most this many tables per thread (151,552 bytes each, P256_KEY_WINDOW_BITS);
 * keys past it stay on OpenSSL's plain verify. */
#define TABLES_MAX 32

static _Thread_local int tables_live;

struct wcrypto_ecdsa {
    EVP_PKEY *pkey;      /* a reference, for building the table */
    uint32_t uses;       /* verifies asked for so far (stops counting at the build) */
    bool off;            /* no table: not P-256, or building failed, or too many */
    p256_table *t;       /* multiples of the public key */
    EVP_MD_CTX *mc;      /* for wcrypto_ecdsa_verify_msg: the digest context and */
    const EVP_MD *md_of; /* the last hash asked for (EVP_sha256() etc.), */
    EVP_MD *md;          /* fetched once: OpenSSL 3 fetches a legacy EVP_MD per call */
};

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
    if (e->t)
        tables_live--;
    p256_table_free(e->t);
    EVP_MD_CTX_free(e->mc);
    EVP_MD_free(e->md);
    EVP_PKEY_free(e->pkey);
    free(e);
}

/* The public key's affine coordinates, 32 big-endian bytes each. */
static int pub_xy(EVP_PKEY *pkey, uint8_t x[32], uint8_t y[32])
{
    BIGNUM *bx = NULL, *by = NULL;
    int ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &bx) == 1 &&
             EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &by) == 1 &&
             BN_bn2binpad(bx, x, 32) == 32 && BN_bn2binpad(by, y, 32) == 32;
    BN_free(bx);
    BN_free(by);
    return ok ? 0 : -1;
}

int wcrypto_ecdsa_build(wcrypto_ecdsa *e)
{
    if (e->t)
        return 0;
    uint8_t x[32], y[32];
    if (e->off || tables_live >= TABLES_MAX || pub_xy(e->pkey, x, y) < 0 ||
        !(e->t = p256_table_new(x, y))) {
        e->off = true;
        EVP_PKEY_free(e->pkey);
        e->pkey = NULL;
        return -1;
    }
    tables_live++;
    EVP_PKEY_free(e->pkey);   /* no longer needed */
    e->pkey = NULL;
    return 0;
}

bool wcrypto_ecdsa_ready(wcrypto_ecdsa *e)
{
    if (e->t)
        return true;
    if (e->off || ++e->uses < WCRYPTO_ECDSA_TABLE_AFTER)
        return false;
    return wcrypto_ecdsa_build(e) == 0;
}

int wcrypto_ecdsa_verify(wcrypto_ecdsa *e, const uint8_t *dgst, size_t dgst_len,
                         const uint8_t sig[64])
{
    if (!e->t)
        return -1;
    return p256_verify(e->t, dgst, dgst_len, sig);
}

int wcrypto_ecdsa_verify_msg(wcrypto_ecdsa *e, const EVP_MD *md, const uint8_t *data, size_t n,
                             const uint8_t sig[64])
{
    if (!e->t)
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
