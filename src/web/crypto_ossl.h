/* crypto_ossl.h: the OpenSSL primitives behind WebCrypto (crypto.c, crypto_sym.c,
 * crypto_pkey.c), for any layer that needs the same bytes (node:crypto).
 *
 * Native objects (an EVP_PKEY, an EVP_MD_CTX) reach JS as an opaque "box": a
 * native handle (js_handle_new, js/rt.h) holding a wcrypto_box, freed when the GC
 * collects it. JS cannot read or write what it holds, should user code ever reach
 * one (25_crypto.js keeps key boxes in the private state of a CryptoKey). */
#pragma once
#include <openssl/evp.h>
#include <quickjs.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The digest for a WebCrypto hash name ("SHA-1", "SHA-256", "SHA-384",
 * "SHA-512", "MD5"; exact case), or NULL. */
const EVP_MD *wcrypto_md(const char *name);
/* Same, from a JS string; NULL with a TypeError pending. */
const EVP_MD *wcrypto_md_js(JSContext *ctx, JSValueConst name_v);

/* Boxes: takes ownership of `pkey` (freed even on failure); `priv` says whether
 * it holds a private key. Returns a new reference or JS_EXCEPTION. */
JSValue wcrypto_pkey_box(JSContext *ctx, EVP_PKEY *pkey, bool priv);
/* The key in a box (borrowed: valid while the box is alive), or NULL with a
 * TypeError pending. *priv (may be NULL) gets whether it is a private key. */
EVP_PKEY *wcrypto_pkey_of(JSContext *ctx, JSValueConst box, bool *priv);

/* The bytes of a JS ArrayBuffer or view; free with wcrypto_bytes_fini. */
typedef struct wcrypto_bytes {
    const uint8_t *p;
    size_t n;
    JSValue hold;
} wcrypto_bytes;
int wcrypto_bytes_get(JSContext *ctx, JSValueConst v, wcrypto_bytes *b);
void wcrypto_bytes_fini(JSContext *ctx, wcrypto_bytes *b);

/* One-shot primitives on plain bytes. Return 0, or -1 when OpenSSL refuses
 * (the caller reports OperationError). */
int wcrypto_pbkdf2(const EVP_MD *md, const uint8_t *pass, size_t pass_len, const uint8_t *salt,
                   size_t salt_len, uint32_t iterations, uint8_t *out, size_t out_len);
int wcrypto_hkdf(const EVP_MD *md, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
                 size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
                 size_t out_len);

/* Installs of the natives of each file (called by web_crypto_install). */
int web_crypto_sym_install(JSContext *ctx, JSValueConst native);
int web_crypto_pkey_install(JSContext *ctx, JSValueConst native);

/* ECDSA P-256 verify with a per-key table of precomputed multiples of the public
 * key (crypto_ecdsa.c on p256.c), for keys that verify often. A key box holds one, made at
 * its first ECDSA verify (wcrypto_pkey_ecdsa). */
typedef struct wcrypto_ecdsa wcrypto_ecdsa;
/* Verifies a key asks for before its table is built. */
#define WCRYPTO_ECDSA_TABLE_AFTER 256
/* The state for `pkey` (NULL: out of memory); a key other than P-256 gets one
 * that never builds a table. */
wcrypto_ecdsa *wcrypto_ecdsa_new(EVP_PKEY *pkey);
void wcrypto_ecdsa_free(wcrypto_ecdsa *e);
/* Counts one verify; true when the table is there (built at the
 * WCRYPTO_ECDSA_TABLE_AFTER-th call) and wcrypto_ecdsa_verify can be used. */
bool wcrypto_ecdsa_ready(wcrypto_ecdsa *e);
/* Builds the table now (tests): 0, or -1 (not P-256, or OpenSSL failed). */
int wcrypto_ecdsa_build(wcrypto_ecdsa *e);
/* Verifies the r||s signature `sig` over a digest (p256.c): 1 valid, 0 invalid,
 * -1 no table or out of memory (the caller falls back to EVP_DigestVerify). The same
 * answers as OpenSSL's ECDSA verify (EVP_PKEY_verify on the digest). */
int wcrypto_ecdsa_verify(wcrypto_ecdsa *e, const uint8_t *dgst, size_t dgst_len,
                         const uint8_t sig[64]);
/* The same over a message, hashed with `md` (a context and fetched digest kept
 * in `e`: ~0.6 us where EVP_Digest with EVP_sha256() takes ~2 us). */
int wcrypto_ecdsa_verify_msg(wcrypto_ecdsa *e, const EVP_MD *md, const uint8_t *data, size_t n,
                             const uint8_t sig[64]);
/* The slot of a key box for its wcrypto_ecdsa (freed with the box), or NULL with
 * a TypeError pending. */
wcrypto_ecdsa **wcrypto_pkey_ecdsa(JSContext *ctx, JSValueConst box);
