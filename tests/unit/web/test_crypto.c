/* Unit tests for web/crypto.c and web/js/25_crypto.js: getRandomValues (types,
 * quota at / below / above 65,536 bytes), randomUUID, subtle.digest against
 * known vectors (computed with `openssl dgst`), HMAC import / sign / verify /
 * export / generate (RFC 4231 / 2202 vectors), CryptoKey, timingSafeEqual. */
#include "harness.h"

static const char HELPERS[] =
    "globalThis.hex = (b) => Array.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b,"
    "  (x) => x.toString(16).padStart(2, '0')).join('');"
    "globalThis.bytes = (s) => new TextEncoder().encode(s);"
    WH_ERR_HELPER
    "globalThis.rej = (p) => p.then((v) => 'resolved ' + v,"
    "  (e) => e.name + (e instanceof DOMException ? '(' + e.code + ')' : '') + ': ' + e.message);"
    "globalThis.jefe = (hash, usages = ['sign', 'verify'], extractable = true) =>"
    "  crypto.subtle.importKey('raw', bytes('Jefe'), { name: 'HMAC', hash }, extractable, usages);"
    "globalThis.msg = bytes('what do ya want for nothing?');"
    "true";

static int setup(void **state)
{
    return wh_setup_with(state, HELPERS);
}

static void test_get_random_values(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const a = new Uint8Array(32); crypto.getRandomValues(a) === a", "true");
    WH_EXPECT(h, "const a = new Uint8Array(32), b = new Uint8Array(32);"
                 "crypto.getRandomValues(a); crypto.getRandomValues(b); hex(a) !== hex(b) && a.some((x) => x)",
              "true");
    WH_EXPECT(h, "['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array',"
                 " 'Uint32Array', 'BigInt64Array', 'BigUint64Array'].map((n) => {"
                 " const a = new globalThis[n](4); return crypto.getRandomValues(a) === a; }).every(Boolean)",
              "true");
    /* Only the view's own range is written. */
    WH_EXPECT(h, "const a = new Uint8Array(64); crypto.getRandomValues(a.subarray(16, 48));"
                 "a.slice(0, 16).every((x) => x === 0) && a.slice(48).every((x) => x === 0) &&"
                 " a.slice(16, 48).some((x) => x)",
              "true");
    WH_EXPECT(h, "crypto.getRandomValues(new Uint8Array(0)).length", "0");
    /* The quota: 65,536 bytes, whatever the element size. */
    WH_EXPECT(h, "crypto.getRandomValues(new Uint8Array(65536)).length", "65536");
    WH_EXPECT(h, "crypto.getRandomValues(new Uint8Array(65535)).length", "65535");
    WH_EXPECT(h, "crypto.getRandomValues(new Uint32Array(16384)).length", "16384");
    WH_EXPECT(h, "err(() => crypto.getRandomValues(new Uint8Array(65537)))",
              "QuotaExceededError(22): Failed to execute 'getRandomValues' on 'Crypto': The "
              "ArrayBufferView's byte length (65537) exceeds the number of bytes of entropy "
              "available via this API (65536).");
    WH_EXPECT(h, "err(() => crypto.getRandomValues(new Uint32Array(16385)))",
              "QuotaExceededError(22): Failed to execute 'getRandomValues' on 'Crypto': The "
              "ArrayBufferView's byte length (65540) exceeds the number of bytes of entropy "
              "available via this API (65536).");
    WH_EXPECT(h, "err(() => crypto.getRandomValues(new Float64Array(2)))",
              "TypeMismatchError(17): Failed to execute 'getRandomValues' on 'Crypto': The "
              "provided ArrayBufferView is of type 'Float64Array', which is not an integer array "
              "type.");
    WH_EXPECT(h, "err(() => crypto.getRandomValues(new Float32Array(2)))",
              "TypeMismatchError(17): Failed to execute 'getRandomValues' on 'Crypto': The "
              "provided ArrayBufferView is of type 'Float32Array', which is not an integer array "
              "type.");
    WH_EXPECT(h, "err(() => crypto.getRandomValues(new DataView(new ArrayBuffer(4))))",
              "TypeMismatchError(17): Failed to execute 'getRandomValues' on 'Crypto': The "
              "provided ArrayBufferView is of type 'DataView', which is not an integer array "
              "type.");
    WH_EXPECT(h, "err(() => crypto.getRandomValues([1, 2]))",
              "TypeError: Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of "
              "type 'ArrayBufferView'.");
    WH_EXPECT(h, "err(() => crypto.getRandomValues(new ArrayBuffer(4)))",
              "TypeError: Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of "
              "type 'ArrayBufferView'.");
    WH_EXPECT(h, "err(() => crypto.getRandomValues())",
              "TypeError: Failed to execute 'getRandomValues' on 'Crypto': 1 argument required, "
              "but only 0 present.");
    WH_EXPECT(h, "err(() => crypto.getRandomValues.call({}, new Uint8Array(1)))",
              "TypeError: Failed to execute 'getRandomValues' on 'Crypto': Illegal invocation");
}

static void test_random_uuid(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "const re = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;"
                 "const seen = new Set(); let ok = true;"
                 "for (let i = 0; i < 1000; i++) { const u = crypto.randomUUID(); if (!re.test(u)) ok = false; seen.add(u); }"
                 "ok && seen.size === 1000",
              "true");
    WH_EXPECT(h, "crypto instanceof Crypto && crypto.subtle === crypto.subtle && crypto.subtle instanceof SubtleCrypto",
              "true");
    WH_EXPECT(h, "err(() => new Crypto())", "TypeError: Failed to construct 'Crypto': Illegal constructor");
}

static void test_digest(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "crypto.subtle.digest('SHA-1', bytes('abc')).then(hex)",
              "a9993e364706816aba3e25717850c26c9cd0d89d");
    WH_EXPECT(h, "crypto.subtle.digest('SHA-256', bytes('abc')).then(hex)",
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    WH_EXPECT(h, "crypto.subtle.digest('SHA-384', bytes('abc')).then(hex)",
              "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358b"
              "aeca134c825a7");
    WH_EXPECT(h, "crypto.subtle.digest('SHA-512', bytes('abc')).then(hex)",
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836b"
              "a3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
    WH_EXPECT(h, "crypto.subtle.digest('SHA-1', new Uint8Array(0)).then(hex)",
              "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    WH_EXPECT(h, "crypto.subtle.digest({ name: 'sha-256' }, new ArrayBuffer(0)).then(hex)",
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    WH_EXPECT(h, "crypto.subtle.digest('Sha-384', new DataView(new ArrayBuffer(0))).then(hex)",
              "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd5"
              "1ad2f14898b95b");
    WH_EXPECT(h, "crypto.subtle.digest('SHA-512', new Uint8Array(0).buffer).then(hex)",
              "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8"
              "318d2877eec2f63b931bd47417a81a538327af927da3e");
    /* A view with an offset: only its bytes are hashed. */
    WH_EXPECT(h, "crypto.subtle.digest('SHA-256', bytes('xxabcxx').subarray(2, 5)).then(hex)",
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    WH_EXPECT(h, "crypto.subtle.digest('SHA-256', bytes('a'.repeat(1000000))).then(hex)",
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    WH_EXPECT(h, "const p = crypto.subtle.digest('SHA-256', bytes('')); p instanceof Promise", "true");
    WH_EXPECT(h, "crypto.subtle.digest('SHA-256', bytes('')).then((b) => b instanceof ArrayBuffer && b.byteLength)",
              "32");
    /* Errors are rejections, never synchronous throws. */
    /* MD5: not in WebCrypto, but Cloudflare has it (RFC 1321 vectors). */
    WH_EXPECT(h, "crypto.subtle.digest('MD5', bytes('')).then(hex)", "d41d8cd98f00b204e9800998ecf8427e");
    WH_EXPECT(h, "crypto.subtle.digest('md5', bytes('abc')).then(hex)", "900150983cd24fb0d6963f7d28e17f72");
    WH_EXPECT(h, "rej(crypto.subtle.digest('SHA-3', bytes('')))",
              "NotSupportedError(9): Failed to execute 'digest' on 'SubtleCrypto': Unrecognized "
              "algorithm name 'SHA-3'.");
    WH_EXPECT(h, "rej(crypto.subtle.digest('HMAC', bytes('')))",
              "NotSupportedError(9): Failed to execute 'digest' on 'SubtleCrypto': HMAC does not "
              "support the 'digest' operation.");
    WH_EXPECT(h, "rej(crypto.subtle.digest({}, bytes('')))",
              "TypeError: Failed to execute 'digest' on 'SubtleCrypto': Algorithm: name: Missing "
              "or not a string");
    WH_EXPECT(h, "rej(crypto.subtle.digest('SHA-256', 'abc'))",
              "TypeError: Failed to execute 'digest' on 'SubtleCrypto': parameter 2 is not of "
              "type '(ArrayBuffer or ArrayBufferView)'.");
    WH_EXPECT(h, "rej(crypto.subtle.digest('SHA-256'))",
              "TypeError: Failed to execute 'digest' on 'SubtleCrypto': 2 arguments required, but "
              "only 1 present.");
}

static void test_hmac(void **state)
{
    wh *h = *state;
    /* RFC 4231 test case 2 (SHA-2) and RFC 2202 test case 2 (SHA-1). */
    WH_EXPECT(h, "jefe('SHA-256').then((k) => crypto.subtle.sign('HMAC', k, msg)).then(hex)",
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    WH_EXPECT(h, "jefe({ name: 'SHA-1' }).then((k) => crypto.subtle.sign({ name: 'hmac' }, k, msg)).then(hex)",
              "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    WH_EXPECT(h, "jefe('SHA-384').then((k) => crypto.subtle.sign('HMAC', k, msg)).then(hex)",
              "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3"
              "239ecfab21649");
    WH_EXPECT(h, "jefe('SHA-512').then((k) => crypto.subtle.sign('HMAC', k, msg)).then(hex)",
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d0"
              "34f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
    WH_EXPECT(h, "(async () => { const k = await jefe('SHA-256');"
                 " const sig = await crypto.subtle.sign('HMAC', k, msg);"
                 " const bad = new Uint8Array(sig).slice(); bad[0] ^= 1;"
                 " return [await crypto.subtle.verify('HMAC', k, sig, msg),"
                 "  await crypto.subtle.verify('HMAC', k, bad, msg),"
                 "  await crypto.subtle.verify('HMAC', k, sig.slice(0, 31), msg),"
                 "  await crypto.subtle.verify('HMAC', k, new Uint8Array(0), msg),"
                 "  await crypto.subtle.verify('HMAC', k, sig, bytes('other'))].join(); })()",
              "true,false,false,false,false");
    WH_EXPECT(h, "jefe('SHA-256').then((k) => [k instanceof CryptoKey, k.type, k.extractable, k.algorithm.name,"
                 " k.algorithm.hash.name, k.algorithm.length, k.usages.join('+'),"
                 " Object.prototype.toString.call(k)].join())",
              "true,secret,true,HMAC,SHA-256,32,sign+verify,[object CryptoKey]");
    WH_EXPECT(h, "err(() => new CryptoKey())",
              "TypeError: Failed to construct 'CryptoKey': Illegal constructor");
    /* Export and re-import (raw and JWK). */
    WH_EXPECT(h, "jefe('SHA-256').then((k) => crypto.subtle.exportKey('raw', k)).then(hex)", "4a656665");
    WH_EXPECT(h, "jefe('SHA-384').then((k) => crypto.subtle.exportKey('jwk', k)).then(JSON.stringify)",
              "{\"kty\":\"oct\",\"k\":\"SmVmZQ\",\"alg\":\"HS384\",\"key_ops\":[\"sign\",\"verify\"],"
              "\"ext\":true}");
    WH_EXPECT(h, "crypto.subtle.importKey('jwk', { kty: 'oct', k: 'SmVmZQ', alg: 'HS256' },"
                 " { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])"
                 ".then((k) => crypto.subtle.sign('HMAC', k, msg)).then(hex)",
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    WH_EXPECT(h, "crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-512' }, true, ['sign'])"
                 ".then(async (k) => k.algorithm.length + ',' + (await crypto.subtle.exportKey('raw', k)).byteLength)",
              "1024,128");
    WH_EXPECT(h, "crypto.subtle.importKey('raw', new Uint8Array(8), { name: 'HMAC', hash: 'SHA-256', length: 60 },"
                 " false, ['sign']).then((k) => k.algorithm.length)",
              "60");
}

static void test_hmac_errors(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "rej(jefe('SHA-256', ['verify']).then((k) => crypto.subtle.sign('HMAC', k, msg)))",
              "InvalidAccessError(15): Failed to execute 'sign' on 'SubtleCrypto': key.usages "
              "does not permit this operation.");
    WH_EXPECT(h, "rej(jefe('SHA-256', ['sign']).then((k) => crypto.subtle.verify('HMAC', k, msg, msg)))",
              "InvalidAccessError(15): Failed to execute 'verify' on 'SubtleCrypto': key.usages "
              "does not permit this operation.");
    WH_EXPECT(h, "rej(jefe('SHA-256', ['encrypt']))",
              "SyntaxError(12): Failed to execute 'importKey' on 'SubtleCrypto': Cannot create a "
              "key using the specified key usages.");
    WH_EXPECT(h, "rej(jefe('SHA-256', []))",
              "SyntaxError(12): Failed to execute 'importKey' on 'SubtleCrypto': Usages cannot be "
              "empty when creating a key.");
    WH_EXPECT(h, "rej(jefe('SHA-256', ['sign', 'fly']))",
              "TypeError: Failed to execute 'importKey' on 'SubtleCrypto': The provided value "
              "'fly' is not a valid enum value of type KeyUsage.");
    WH_EXPECT(h, "rej(jefe('MD5'))",
              "NotSupportedError(9): Failed to execute 'importKey' on 'SubtleCrypto': "
              "Unrecognized hash algorithm name 'MD5'.");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('raw', bytes('k'), { name: 'HMAC' }, false, ['sign']))",
              "TypeError: Failed to execute 'importKey' on 'SubtleCrypto': HmacImportParams: "
              "hash: Missing");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('raw', new Uint8Array(0), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']))",
              "DataError(0): Failed to execute 'importKey' on 'SubtleCrypto': An HMAC key must "
              "not be empty.");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('raw', new Uint8Array(8), { name: 'HMAC', hash: 'SHA-1', length: 65 }, false, ['sign']))",
              "DataError(0): Failed to execute 'importKey' on 'SubtleCrypto': The HMAC length 65 "
              "does not match a key of 8 bytes.");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('raw', new Uint8Array(8), { name: 'HMAC', hash: 'SHA-1', length: 56 }, false, ['sign']))",
              "DataError(0): Failed to execute 'importKey' on 'SubtleCrypto': The HMAC length 56 "
              "does not match a key of 8 bytes.");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('bogus', bytes('k'), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']))",
              "TypeError: Failed to execute 'importKey' on 'SubtleCrypto': The provided value "
              "'bogus' is not a valid enum value of type KeyFormat.");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('spki', bytes('k'), { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']))",
              "NotSupportedError(9): Failed to execute 'importKey' on 'SubtleCrypto': The 'spki' "
              "format is not supported for HMAC keys.");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('raw', bytes('k'), { name: 'AES-GCM' }, false, ['encrypt']))",
              "DataError(0): Failed to execute 'importKey' on 'SubtleCrypto': Imported AES key "
              "length must be 128, 192, or 256 bits but provided 8.");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('raw', bytes('k'), { name: 'AES-XTS' }, false, ['encrypt']))",
              "NotSupportedError(9): Failed to execute 'importKey' on 'SubtleCrypto': "
              "Unrecognized algorithm name 'AES-XTS'.");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('jwk', { kty: 'RSA' }, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']))",
              "DataError(0): Failed to execute 'importKey' on 'SubtleCrypto': The JWK \"kty\" "
              "member was not \"oct\".");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('jwk', { kty: 'oct', k: 'SmVmZQ', alg: 'HS512' }, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']))",
              "DataError(0): Failed to execute 'importKey' on 'SubtleCrypto': The JWK \"alg\" "
              "member was not \"HS1\".");
    WH_EXPECT(h, "rej(crypto.subtle.importKey('jwk', { kty: 'oct', k: 'S+mV' }, { name: 'HMAC', hash: 'SHA-1' }, false, ['sign']))",
              "DataError(0): Failed to execute 'importKey' on 'SubtleCrypto': The JWK member \"k\" "
              "is not a valid base64url string.");
    WH_EXPECT(h, "rej(jefe('SHA-256', ['sign'], false).then((k) => crypto.subtle.exportKey('raw', k)))",
              "InvalidAccessError(15): Failed to execute 'exportKey' on 'SubtleCrypto': key is not "
              "extractable");
    WH_EXPECT(h, "rej(crypto.subtle.sign('HMAC', {}, msg))",
              "TypeError: Failed to execute 'sign' on 'SubtleCrypto': parameter 2 is not of type "
              "'CryptoKey'.");
    WH_EXPECT(h, "rej(jefe('SHA-256').then((k) => crypto.subtle.sign('HMAC', k, 'text')))",
              "TypeError: Failed to execute 'sign' on 'SubtleCrypto': parameter 3 is not of type "
              "'(ArrayBuffer or ArrayBufferView)'.");
    WH_EXPECT(h, "rej(crypto.subtle.encrypt({ name: 'AES-GCM' }, null, msg))",
              "TypeError: Failed to execute 'encrypt' on 'SubtleCrypto': parameter 2 is not of "
              "type 'CryptoKey'.");
    WH_EXPECT(h, "rej(jefe('SHA-256').then((k) => crypto.subtle.encrypt({ name: 'HMAC' }, k, msg)))",
              "NotSupportedError(9): Failed to execute 'encrypt' on 'SubtleCrypto': HMAC does not "
              "support the 'encrypt' operation.");
    WH_EXPECT(h, "rej(jefe('SHA-256').then((k) => crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, k, msg)))",
              "InvalidAccessError(15): Failed to execute 'sign' on 'SubtleCrypto': The requested "
              "operation is not valid for the provided key (its algorithm is HMAC).");
    WH_EXPECT(h, "try { typeof crypto.subtle.sign().then } catch (e) { 'threw' }", "function");
}

static void test_timing_safe_equal(void **state)
{
    wh *h = *state;
    WH_EXPECT(h, "crypto.subtle.timingSafeEqual(bytes('abc'), bytes('abc'))", "true");
    WH_EXPECT(h, "crypto.subtle.timingSafeEqual(bytes('abc'), bytes('abd'))", "false");
    WH_EXPECT(h, "crypto.subtle.timingSafeEqual(bytes('abc').buffer, new DataView(bytes('xabc').buffer, 1))",
              "true");
    WH_EXPECT(h, "crypto.subtle.timingSafeEqual(new ArrayBuffer(0), new Uint8Array(0))", "true");
    WH_EXPECT(h, "err(() => crypto.subtle.timingSafeEqual(bytes('ab'), bytes('abc')))",
              "TypeError: Failed to execute 'timingSafeEqual' on 'SubtleCrypto': Input buffers "
              "must have the same byte length.");
    WH_EXPECT(h, "err(() => crypto.subtle.timingSafeEqual('ab', bytes('ab')))",
              "TypeError: Failed to execute 'timingSafeEqual' on 'SubtleCrypto': parameter 1 is "
              "not of type '(ArrayBuffer or ArrayBufferView)'.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_random_values, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_random_uuid, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_digest, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_hmac, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_hmac_errors, setup, wh_teardown),
        cmocka_unit_test_setup_teardown(test_timing_safe_equal, setup, wh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
