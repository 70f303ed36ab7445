/* Unit tests for the C side of WebCrypto (web/crypto_ossl.h and the natives of
 * crypto.c, crypto_sym.c, crypto_pkey.c): the primitives node:crypto will share
 * (wcrypto_md, wcrypto_pbkdf2, wcrypto_hkdf with RFC 6070 / RFC 5869 vectors), key
 * boxes (a box round-trips its EVP_PKEY and is freed by the GC; a look-alike
 * ArrayBuffer or a box of another kind is refused), and the checks the natives
 * make themselves whatever the JS side passes (sizes out of range, wrong types). */
#include "harness.h"

#include <openssl/evp.h>

#include "web/crypto_ossl.h"

static int setup(void **state)
{
    int rc = wh_setup_with(state, WH_ERR_HELPER "true");
    wh *h = *state;
    JSValue global = JS_GetGlobalObject(h->ctx);
    /* The natives, for scripts (the harness deletes __durable after setup). */
    JS_SetPropertyStr(h->ctx, global, "N", JS_DupValue(h->ctx, h->native));
    JS_FreeValue(h->ctx, global);
    return rc;
}

static char *hex_of(const uint8_t *p, size_t n)
{
    static char s[1024];
    assert_true(2 * n < sizeof s);
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * n] = 0;
    return s;
}

static void test_md(void **state)
{
    (void)state;
    assert_ptr_equal(wcrypto_md("SHA-1"), EVP_sha1());
    assert_ptr_equal(wcrypto_md("SHA-256"), EVP_sha256());
    assert_ptr_equal(wcrypto_md("SHA-384"), EVP_sha384());
    assert_ptr_equal(wcrypto_md("SHA-512"), EVP_sha512());
    assert_ptr_equal(wcrypto_md("MD5"), EVP_md5());
    assert_null(wcrypto_md("sha-256"));   /* names arrive normalized */
    assert_null(wcrypto_md("SHA-3"));
    assert_null(wcrypto_md(""));
}

static void test_kdfs(void **state)
{
    (void)state;
    uint8_t out[42];
    /* RFC 6070, 2 iterations. */
    assert_int_equal(wcrypto_pbkdf2(EVP_sha1(), (const uint8_t *)"password", 8,
                                    (const uint8_t *)"salt", 4, 2, out, 20), 0);
    assert_string_equal(hex_of(out, 20), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    /* An empty password and salt are valid input. */
    assert_int_equal(wcrypto_pbkdf2(EVP_sha256(), NULL, 0, NULL, 0, 1, out, 32), 0);
    assert_int_equal(wcrypto_pbkdf2(EVP_sha256(), NULL, 0, NULL, 0, 0, out, 32), -1);
    /* RFC 5869 test case 1. */
    uint8_t ikm[22], salt[13], info[10];
    memset(ikm, 0x0b, sizeof ikm);
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof info; i++)
        info[i] = (uint8_t)(0xf0 + i);
    assert_int_equal(wcrypto_hkdf(EVP_sha256(), ikm, sizeof ikm, salt, sizeof salt, info,
                                  sizeof info, out, 42), 0);
    assert_string_equal(hex_of(out, 42), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
                                         "2d56ecc4c5bf34007208d5b887185865");
    /* Test case 3: no salt, no info. */
    assert_int_equal(wcrypto_hkdf(EVP_sha256(), ikm, sizeof ikm, NULL, 0, NULL, 0, out, 42), 0);
    assert_string_equal(hex_of(out, 42), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec345"
                                         "4e5f3c738d2d9d201395faa4b61a96c8");
    /* More than 255 blocks is refused, not truncated. */
    static uint8_t big[255 * 32 + 1];
    assert_int_equal(wcrypto_hkdf(EVP_sha256(), ikm, sizeof ikm, NULL, 0, NULL, 0, big, sizeof big), -1);
}

static void test_boxes(void **state)
{
    wh *h = *state;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    assert_non_null(pkey);
    JSValue box = wcrypto_pkey_box(h->ctx, pkey, true);
    assert_false(JS_IsException(box));
    bool priv = false;
    assert_ptr_equal(wcrypto_pkey_of(h->ctx, box, &priv), pkey);
    assert_true(priv);
    JSValue global = JS_GetGlobalObject(h->ctx);
    JS_SetPropertyStr(h->ctx, global, "box", box);   /* takes the reference */
    JS_FreeValue(h->ctx, global);
    WH_EXPECT(h, "const i = N.cryptoKeyInfo(box); [i.kind, i.priv, i.bits].join()", "ed25519,true,256");
    WH_EXPECT(h, "const p = N.cryptoKeyPublic(box); N.cryptoKeyInfo(p).priv", "false");
    /* A box is a native handle: no bytes JS could read or rewrite (it was an
     * ArrayBuffer over the C struct). An ArrayBuffer is not a box; neither is a
     * digest box. */
    WH_EXPECT(h, "[box instanceof ArrayBuffer, ArrayBuffer.isView(box), new Uint8Array(box).length].join()",
              "false,false,0");
    WH_EXPECT(h, "err(() => N.cryptoKeyInfo(new ArrayBuffer(64)))",
              "TypeError: crypto: not a key handle");
    WH_EXPECT(h, "err(() => N.cryptoSign('Ed25519', N.cryptoDigestNew('SHA-256'), '', 0, new Uint8Array(1)))",
              "TypeError: crypto: not a key handle");
    WH_EXPECT(h, "err(() => N.cryptoDigestUpdate(box, new Uint8Array(1)))",
              "TypeError: crypto: not a key handle");
    WH_EXPECT(h, "err(() => N.cryptoKeyInfo({}))", "TypeError: crypto: not a key handle");
    /* Dropping the last reference frees the key (ASan's leak check sees it if not). */
    WH_EXPECT(h, "delete globalThis.box; true", "true");
    JS_RunGC(h->rt);
}

static void test_native_checks(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n);"
                 "err(() => N.cryptoAesGcm(true, z(16), z(12), z(0), 0, z(1)))",
              "RangeError: AES-GCM: a tag of 0 bytes");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n);"
                 "err(() => N.cryptoAesGcm(true, z(15), z(12), z(0), 16, z(1)))",
              "RangeError: AES-GCM: bad key (15 bytes) or IV (12 bytes)");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n);"
                 "err(() => N.cryptoAesGcm(true, z(16), z(0), z(0), 16, z(1)))",
              "RangeError: AES-GCM: bad key (16 bytes) or IV (0 bytes)");
    /* A GCM ciphertext shorter than its tag fails like a bad tag (null). */
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); N.cryptoAesGcm(false, z(16), z(12), z(0), 16, z(15))",
              "null");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); err(() => N.cryptoAesCbc(true, z(16), z(8), z(1)))",
              "RangeError: AES-CBC: bad key (16 bytes) or IV (8 bytes)");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); err(() => N.cryptoAesCtr(z(16), z(16), 0, z(1)))",
              "RangeError: AES-CTR: a counter length of 0 bits");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); err(() => N.cryptoAesCtr(z(16), z(16), 2, z(65)))",
              "RangeError: AES-CTR: 5 blocks would reuse a 2-bit counter");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); N.cryptoAesCtr(z(16), z(16), 2, z(64)).byteLength", "64");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); N.cryptoAesKw(true, z(16), z(12))", "null");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); err(() => N.cryptoHkdf('SHA-256', z(1), z(0), z(0), 0))",
              "RangeError: crypto: 0 bytes of key material");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); N.cryptoHkdf('SHA-256', z(1), z(0), z(0), 255 * 32 + 1)",
              "null");
    WH_EXPECT(h, "const z = (n) => new Uint8Array(n); err(() => N.cryptoPbkdf2('SHA-3', z(1), z(0), 1, 32))",
              "TypeError: crypto: unsupported hash 'SHA-3'");
    WH_EXPECT(h, "err(() => N.cryptoKeyGenerate('rsa', 100, new Uint8Array([1, 0, 1])))",
              "RangeError: RSA: a modulus of 100 bits");
    WH_EXPECT(h, "err(() => N.cryptoKeyGenerate('dsa', 0, null))",
              "InternalError: crypto: generating a dsa key failed");
    /* Bad DER, raw points and JWK numbers are refused with null (DataError in JS). */
    WH_EXPECT(h, "N.cryptoKeyImportDer(false, new Uint8Array([0x30, 0x00]))", "null");
    WH_EXPECT(h, "N.cryptoKeyImportDer(true, new Uint8Array(0))", "null");
    WH_EXPECT(h, "N.cryptoKeyImportRaw('ec', 'P-256', new Uint8Array(65))", "null");
    WH_EXPECT(h, "N.cryptoKeyImportRaw('ed25519', '', new Uint8Array(31))", "null");
    WH_EXPECT(h, "N.cryptoKeyImportJwk('ec', 'P-256', { x: new Uint8Array(32), y: new Uint8Array(32) })",
              "null");
    WH_EXPECT(h, "N.cryptoKeyImportJwk('rsa', '', { n: new Uint8Array([1]), e: new Uint8Array([3]) })",
              "null");
    /* Trailing bytes after a valid SPKI are refused. */
    WH_EXPECT(h, "const k = N.cryptoKeyGenerate('ec', 'P-256', null);"
                 "const d = new Uint8Array(N.cryptoKeyExport(k, 'spki'));"
                 "const longer = new Uint8Array(d.length + 1); longer.set(d);"
                 "[N.cryptoKeyImportDer(false, d) !== null, N.cryptoKeyImportDer(false, longer)].map(String).join()",
              "true,null");
    /* ECDSA signatures are r||s of 2 × 66 bytes on P-521. */
    WH_EXPECT(h, "const k = N.cryptoKeyGenerate('ec', 'P-521', null);"
                 "const s = N.cryptoSign('ECDSA', k, 'SHA-512', 0, new Uint8Array(3));"
                 "[s.byteLength, N.cryptoVerify('ECDSA', N.cryptoKeyPublic(k), 'SHA-512', 0, s, new Uint8Array(3))].join()",
              "132,true");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md),
        cmocka_unit_test(test_kdfs),
        cmocka_unit_test_setup_teardown(test_boxes, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_native_checks, setup, wh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
