// crypto, crypto.subtle, CryptoKey (spec: workers.md WEB-8, WEB-9, WEB-10; W3C
// WebCrypto). Supported: getRandomValues, randomUUID, subtle.digest (SHA-1/256/
// 384/512), HMAC importKey (raw, jwk) / exportKey / generateKey / sign / verify,
// and Cloudflare's subtle.timingSafeEqual. Other algorithms reject with
// NotSupportedError. The bytes are handled by OpenSSL in crypto.c.
//
// As WebIDL requires of promise-returning operations, every subtle method reports
// bad arguments as a rejected promise, never a synchronous throw.
(() => {
  "use strict";
  const N = globalThis.__durable;

  const defineGlobal = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  const tag = (cls, name) =>
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
  const kCreate = Symbol("create");
  const bufferSource = N.bufferSource;
  const atob = globalThis.atob;
  const btoa = globalThis.btoa;
  const empty = new ArrayBuffer(0);

  const needArgs = (iface, member, n, got) => {
    if (got < n)
      throw new TypeError(`Failed to execute '${member}' on '${iface}': ${n} argument${n > 1 ? "s" : ""} required, but only ${got} present.`);
  };
  const dom = (message, name) => new DOMException(message, name);

  // The bytes of a BufferSource argument, or a TypeError naming the parameter.
  const bytesArg = (member, index, v) => {
    const src = bufferSource(v);
    if (src === null)
      throw new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': parameter ${index} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
    return src[2] === 0 ? [empty, 0, 0] : src;
  };
  const copyBytes = (src) => new Uint8Array(src[0], src[1], src[2]).slice();

  // ---- getRandomValues, randomUUID ----

  const integerArrays = new Set(["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
    "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array"]);
  const RANDOM_BYTES_MAX = 65536;

  const getRandomValues = (array) => {
    const name = N.typedArrayName(array);
    if (name === undefined) {
      if (ArrayBuffer.isView(array))
        throw dom("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type 'DataView', which is not an integer array type.", "TypeMismatchError");
      throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': parameter 1 is not of type 'ArrayBufferView'.");
    }
    if (!integerArrays.has(name))
      throw dom(`Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is of type '${name}', which is not an integer array type.`, "TypeMismatchError");
    const [buf, off, len] = bufferSource(array);
    if (len > RANDOM_BYTES_MAX)
      throw dom(`Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${len}) exceeds the number of bytes of entropy available via this API (${RANDOM_BYTES_MAX}).`, "QuotaExceededError");
    if (len > 0) N.cryptoRandomFill(buf, off, len);
    return array;
  };

  // ---- algorithms ----

  const hashes = { "sha-1": "SHA-1", "sha-256": "SHA-256", "sha-384": "SHA-384", "sha-512": "SHA-512" };
  const hashBlockBits = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };
  const jwkAlg = { "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" };
  const known = ["AES-CBC", "AES-CTR", "AES-GCM", "AES-KW", "ECDH", "ECDSA", "Ed25519", "X25519", "HKDF", "PBKDF2",
    "RSA-OAEP", "RSA-PSS", "RSASSA-PKCS1-v1_5", "HMAC", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

  // WebCrypto "normalize an algorithm": a string or a dictionary with `name`.
  const algorithmOf = (member, alg) => {
    if (typeof alg === "string") return { name: alg };
    if (alg === null || typeof alg !== "object")
      throw new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': parameter is not of type 'AlgorithmIdentifier'.`);
    if (alg.name === undefined)
      throw new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': Algorithm: name: Missing or not a string`);
    return { ...alg, name: `${alg.name}` };
  };
  const unsupported = (member, name) => {
    const canon = known.find((k) => k.toLowerCase() === name.toLowerCase());
    return dom(canon
      ? `Failed to execute '${member}' on 'SubtleCrypto': ${canon} is not supported by durable for this operation.`
      : `Failed to execute '${member}' on 'SubtleCrypto': Unrecognized algorithm name '${name}'.`, "NotSupportedError");
  };
  const hashOf = (member, alg) => {
    const a = algorithmOf(member, alg);
    const h = hashes[a.name.toLowerCase()];
    if (!h) throw unsupported(member, a.name);
    return h;
  };
  const hmacParams = (member, alg) => {
    const a = algorithmOf(member, alg);
    if (a.name.toLowerCase() !== "hmac") throw unsupported(member, a.name);
    return a;
  };

  const keyUsageValues = new Set(["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"]);
  const usagesOf = (member, usages) => {
    if (usages === null || typeof usages !== "object" || typeof usages[Symbol.iterator] !== "function")
      throw new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': The provided value cannot be converted to a sequence.`);
    const out = [];
    for (const u of usages) {
      const s = `${u}`;
      if (!keyUsageValues.has(s))
        throw new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': The provided value '${s}' is not a valid enum value of type KeyUsage.`);
      if (!out.includes(s)) out.push(s);
    }
    for (const s of out) {
      if (s !== "sign" && s !== "verify")
        throw dom(`Failed to execute '${member}' on 'SubtleCrypto': Cannot create a key using the specified key usages.`, "SyntaxError");
    }
    if (out.length === 0)
      throw dom(`Failed to execute '${member}' on 'SubtleCrypto': Usages cannot be empty when creating a key.`, "SyntaxError");
    return out;
  };

  // ---- CryptoKey ----

  const keys = new WeakMap();
  const keyState = (k, member) => {
    const s = keys.get(k);
    if (!s) throw new TypeError(`Failed to execute '${member}' on 'CryptoKey': Illegal invocation`);
    return s;
  };
  class CryptoKey {
    constructor(key = undefined, state = undefined) {
      if (key !== kCreate) throw new TypeError("Failed to construct 'CryptoKey': Illegal constructor");
      keys.set(this, state);
    }
    get type() { return keyState(this, "type").type; }
    get extractable() { return keyState(this, "extractable").extractable; }
    get algorithm() { return keyState(this, "algorithm").algorithm; }
    get usages() { return keyState(this, "usages").usages; }
  }
  tag(CryptoKey, "CryptoKey");
  defineGlobal("CryptoKey", CryptoKey);

  const newHmacKey = (hash, bytes, lengthBits, extractable, usages) =>
    new CryptoKey(kCreate, {
      type: "secret",
      extractable,
      algorithm: { name: "HMAC", hash: { name: hash }, length: lengthBits },
      usages,
      bytes,
      hash,
    });

  // The HMAC `length` member: optional, in bits, consistent with the key bytes.
  const hmacLength = (member, a, byteLen) => {
    if (a.length === undefined) return byteLen * 8;
    const len = Number(a.length);
    if (!Number.isInteger(len) || len < 0 || len > 0xffffffff)
      throw new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': HmacImportParams: length: Value is outside the 'unsigned long' value range.`);
    if (len === 0 || len > byteLen * 8 || len <= byteLen * 8 - 8)
      throw dom(`Failed to execute '${member}' on 'SubtleCrypto': The HMAC length ${len} does not match a key of ${byteLen} bytes.`, "DataError");
    return len;
  };

  const base64url = (bytes) => {
    let bin = "";
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const fromBase64url = (member, s) => {
    if (typeof s !== "string" || /[^A-Za-z0-9_-]/.test(s))
      throw dom(`Failed to execute '${member}' on 'SubtleCrypto': The JWK member "k" is not a valid base64url string.`, "DataError");
    let bin;
    try {
      bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    } catch {
      throw dom(`Failed to execute '${member}' on 'SubtleCrypto': The JWK member "k" is not a valid base64url string.`, "DataError");
    }
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  };

  const importHmac = (format, keyData, a, extractable, usages) => {
    const member = "importKey";
    if (a.hash === undefined)
      throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': HmacImportParams: hash: Missing");
    const hash = hashOf(member, a.hash);
    let bytes;
    if (format === "raw") {
      bytes = copyBytes(bytesArg(member, 2, keyData));
    } else if (format === "jwk") {
      if (keyData === null || typeof keyData !== "object" || bufferSource(keyData) !== null)
        throw new TypeError("Failed to execute 'importKey' on 'SubtleCrypto': parameter 2 is not of type 'JsonWebKey'.");
      if (keyData.kty !== "oct")
        throw dom("Failed to execute 'importKey' on 'SubtleCrypto': The JWK \"kty\" member was not \"oct\".", "DataError");
      bytes = fromBase64url(member, keyData.k);
      if (keyData.alg !== undefined && keyData.alg !== jwkAlg[hash])
        throw dom(`Failed to execute 'importKey' on 'SubtleCrypto': The JWK "alg" member was not "${jwkAlg[hash]}".`, "DataError");
      if (keyData.use !== undefined && keyData.use !== "sig")
        throw dom("Failed to execute 'importKey' on 'SubtleCrypto': The JWK \"use\" member was not \"sig\".", "DataError");
      if (keyData.key_ops !== undefined) {
        if (!Array.isArray(keyData.key_ops) || usages.some((u) => !keyData.key_ops.includes(u)))
          throw dom("Failed to execute 'importKey' on 'SubtleCrypto': The JWK \"key_ops\" member does not include the requested usages.", "DataError");
      }
      if (keyData.ext === false && extractable)
        throw dom("Failed to execute 'importKey' on 'SubtleCrypto': The JWK \"ext\" member was false but the key is requested to be extractable.", "DataError");
    } else {
      throw dom(`Failed to execute 'importKey' on 'SubtleCrypto': The '${format}' format is not supported for HMAC keys.`, "NotSupportedError");
    }
    if (bytes.length === 0)
      throw dom("Failed to execute 'importKey' on 'SubtleCrypto': An HMAC key must not be empty.", "DataError");
    const length = hmacLength(member, a, bytes.length);
    return newHmacKey(hash, bytes, length, extractable, usages);
  };

  const keyFormats = new Set(["raw", "pkcs8", "spki", "jwk"]);
  const formatOf = (member, f) => {
    const s = `${f}`;
    if (!keyFormats.has(s))
      throw new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': The provided value '${s}' is not a valid enum value of type KeyFormat.`);
    return s;
  };

  // The key for sign/verify: a CryptoKey of the same algorithm, allowed `usage`.
  const usableKey = (member, a, key, usage) => {
    const s = keys.get(key);
    if (!s)
      throw new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': parameter 2 is not of type 'CryptoKey'.`);
    if (s.algorithm.name.toLowerCase() !== a.name.toLowerCase())
      throw dom(`Failed to execute '${member}' on 'SubtleCrypto': The requested operation is not valid for the provided key (its algorithm is ${s.algorithm.name}).`, "InvalidAccessError");
    if (!s.usages.includes(usage))
      throw dom(`Failed to execute '${member}' on 'SubtleCrypto': key.usages does not permit this operation.`, "InvalidAccessError");
    return s;
  };
  const hmac = (s, src) => N.cryptoHmac(s.hash, s.bytes.buffer, 0, s.bytes.length, src[0], src[1], src[2]);

  // ---- SubtleCrypto ----

  const notSupported = (member) => async function (algorithm) {
    const a = algorithmOf(member, algorithm);
    throw unsupported(member, a.name);
  };

  class SubtleCrypto {
    constructor(key = undefined) {
      if (key !== kCreate) throw new TypeError("Failed to construct 'SubtleCrypto': Illegal constructor");
    }
    async digest(algorithm, data) {
      needArgs("SubtleCrypto", "digest", 2, arguments.length);
      const hash = hashOf("digest", algorithm);
      const src = bytesArg("digest", 2, data);
      return N.cryptoDigest(hash, src[0], src[1], src[2]);
    }
    async importKey(format, keyData, algorithm, extractable, keyUsages) {
      needArgs("SubtleCrypto", "importKey", 5, arguments.length);
      format = formatOf("importKey", format);
      const a = hmacParams("importKey", algorithm);
      const usages = usagesOf("importKey", keyUsages);
      return importHmac(format, keyData, a, !!extractable, usages);
    }
    async exportKey(format, key) {
      needArgs("SubtleCrypto", "exportKey", 2, arguments.length);
      format = formatOf("exportKey", format);
      const s = keys.get(key);
      if (!s) throw new TypeError("Failed to execute 'exportKey' on 'SubtleCrypto': parameter 2 is not of type 'CryptoKey'.");
      if (!s.extractable)
        throw dom("Failed to execute 'exportKey' on 'SubtleCrypto': key is not extractable", "InvalidAccessError");
      if (format === "raw") return s.bytes.slice().buffer;
      if (format === "jwk")
        return { kty: "oct", k: base64url(s.bytes), alg: jwkAlg[s.hash], key_ops: s.usages.slice(), ext: true };
      throw dom(`Failed to execute 'exportKey' on 'SubtleCrypto': The '${format}' format is not supported for HMAC keys.`, "NotSupportedError");
    }
    async generateKey(algorithm, extractable, keyUsages) {
      needArgs("SubtleCrypto", "generateKey", 3, arguments.length);
      const a = hmacParams("generateKey", algorithm);
      if (a.hash === undefined)
        throw new TypeError("Failed to execute 'generateKey' on 'SubtleCrypto': HmacKeyGenParams: hash: Missing");
      const hash = hashOf("generateKey", a.hash);
      const usages = usagesOf("generateKey", keyUsages);
      let bits = hashBlockBits[hash];
      if (a.length !== undefined) {
        bits = Number(a.length);
        if (!Number.isInteger(bits) || bits <= 0 || bits > 8 * RANDOM_BYTES_MAX)
          throw dom(`Failed to execute 'generateKey' on 'SubtleCrypto': HMAC key length ${a.length} must be between 1 and ${8 * RANDOM_BYTES_MAX} bits.`, "OperationError");
      }
      const bytes = new Uint8Array(Math.ceil(bits / 8));
      N.cryptoRandomFill(bytes.buffer, 0, bytes.length);
      if (bits % 8) bytes[bytes.length - 1] &= (0xff << (8 - (bits % 8))) & 0xff;
      return newHmacKey(hash, bytes, bits, !!extractable, usages);
    }
    async sign(algorithm, key, data) {
      needArgs("SubtleCrypto", "sign", 3, arguments.length);
      const a = hmacParams("sign", algorithm);
      const s = usableKey("sign", a, key, "sign");
      return hmac(s, bytesArg("sign", 3, data));
    }
    async verify(algorithm, key, signature, data) {
      needArgs("SubtleCrypto", "verify", 4, arguments.length);
      const a = hmacParams("verify", algorithm);
      const s = usableKey("verify", a, key, "verify");
      const sig = bytesArg("verify", 3, signature);
      const mac = hmac(s, bytesArg("verify", 4, data));
      return N.cryptoEqual(mac, 0, mac.byteLength, sig[0], sig[1], sig[2]);
    }
    // Cloudflare extension: synchronous, constant-time comparison.
    timingSafeEqual(a, b) {
      needArgs("SubtleCrypto", "timingSafeEqual", 2, arguments.length);
      const x = bufferSource(a), y = bufferSource(b);
      if (x === null || y === null)
        throw new TypeError(`Failed to execute 'timingSafeEqual' on 'SubtleCrypto': parameter ${x === null ? 1 : 2} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
      if (x[2] !== y[2])
        throw new TypeError("Failed to execute 'timingSafeEqual' on 'SubtleCrypto': Input buffers must have the same byte length.");
      if (x[2] === 0) return true;
      return N.cryptoEqual(x[0], x[1], x[2], y[0], y[1], y[2]);
    }
  }
  for (const m of ["encrypt", "decrypt", "deriveBits", "deriveKey", "wrapKey", "unwrapKey"]) {
    Object.defineProperty(SubtleCrypto.prototype, m, { value: notSupported(m), writable: true, configurable: true, enumerable: false });
  }
  tag(SubtleCrypto, "SubtleCrypto");
  defineGlobal("SubtleCrypto", SubtleCrypto);

  const subtle = new SubtleCrypto(kCreate);
  const cryptos = new WeakSet();
  class Crypto {
    constructor(key = undefined) {
      if (key !== kCreate) throw new TypeError("Failed to construct 'Crypto': Illegal constructor");
      cryptos.add(this);
    }
    get subtle() {
      if (!cryptos.has(this)) throw new TypeError("Failed to execute 'subtle' on 'Crypto': Illegal invocation");
      return subtle;
    }
    getRandomValues(array) {
      if (!cryptos.has(this)) throw new TypeError("Failed to execute 'getRandomValues' on 'Crypto': Illegal invocation");
      needArgs("Crypto", "getRandomValues", 1, arguments.length);
      return getRandomValues(array);
    }
    randomUUID() {
      if (!cryptos.has(this)) throw new TypeError("Failed to execute 'randomUUID' on 'Crypto': Illegal invocation");
      return N.cryptoRandomUUID();
    }
  }
  tag(Crypto, "Crypto");
  defineGlobal("Crypto", Crypto);
  defineGlobal("crypto", new Crypto(kCreate));
})();
