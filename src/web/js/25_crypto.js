// crypto, crypto.subtle, CryptoKey (spec: workers.md WEB-8, WEB-9, WEB-10; W3C
// WebCrypto; docs/crypto.md has the table). getRandomValues, randomUUID, and
// SubtleCrypto complete as Cloudflare has it: digest (SHA-1/256/384/512, MD5),
// import/export (raw, pkcs8, spki, jwk), generateKey, sign/verify
// (RSASSA-PKCS1-v1_5, RSA-PSS, ECDSA, Ed25519 and NODE-ED25519, HMAC),
// encrypt/decrypt (AES-GCM/CBC/CTR, RSA-OAEP), wrapKey/unwrapKey (AES-KW and the
// encrypt algorithms), deriveBits/deriveKey (PBKDF2, HKDF, ECDH, X25519), and
// Cloudflare's subtle.timingSafeEqual. Here: the WebIDL surface, algorithm
// normalization, usages and JWK rules; the bytes are OpenSSL's (crypto*.c).
// DigestStream is in 36_crypto_stream.js (it needs WritableStream).
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

  const hashes = new Map([["sha-1", "SHA-1"], ["sha-256", "SHA-256"], ["sha-384", "SHA-384"], ["sha-512", "SHA-512"]]);
  const hashBlockBits = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };
  const hashBytes = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };
  const known = ["AES-CBC", "AES-CTR", "AES-GCM", "AES-KW", "ECDH", "ECDSA", "Ed25519", "NODE-ED25519", "X25519",
    "HKDF", "PBKDF2", "RSA-OAEP", "RSA-PSS", "RSASSA-PKCS1-v1_5", "HMAC", "SHA-1", "SHA-256", "SHA-384", "SHA-512",
    "MD5"];
  const canonicalNames = new Map(known.map((k) => [k.toLowerCase(), k]));
  const canonical = (name) => canonicalNames.get(name.toLowerCase());
  const RSA = ["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"];
  const AES = ["AES-CBC", "AES-CTR", "AES-GCM", "AES-KW"];
  const keyAlgs = [...RSA, ...AES, "ECDSA", "ECDH", "Ed25519", "NODE-ED25519", "X25519", "HMAC"];
  // Which algorithms each operation accepts (WebCrypto §18.4 "supportedAlgorithms"
  // plus Cloudflare's MD5 and NODE-ED25519).
  const opAlgs = {
    digest: ["SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5"],
    sign: ["RSASSA-PKCS1-v1_5", "RSA-PSS", "ECDSA", "Ed25519", "NODE-ED25519", "HMAC"],
    encrypt: ["RSA-OAEP", "AES-CBC", "AES-CTR", "AES-GCM"],
    generateKey: keyAlgs,
    importKey: [...keyAlgs, "HKDF", "PBKDF2"],
    deriveBits: ["ECDH", "X25519", "HKDF", "PBKDF2"],
    wrapKey: ["RSA-OAEP", "AES-CBC", "AES-CTR", "AES-GCM", "AES-KW"],
    "get key length": ["AES-CBC", "AES-CTR", "AES-GCM", "AES-KW", "HMAC", "HKDF", "PBKDF2"],
  };
  opAlgs.verify = opAlgs.sign;
  opAlgs.decrypt = opAlgs.encrypt;
  opAlgs.unwrapKey = opAlgs.wrapKey;
  opAlgs.exportKey = opAlgs.importKey;

  const fail = (member, message, name) => dom(`Failed to execute '${member}' on 'SubtleCrypto': ${message}`, name);
  const typeErr = (member, message) => new TypeError(`Failed to execute '${member}' on 'SubtleCrypto': ${message}`);

  // WebCrypto "normalize an algorithm": a string or a dictionary with `name`.
  const algorithmOf = (member, alg) => {
    if (typeof alg === "string") return { name: alg };
    if (alg === null || typeof alg !== "object")
      throw typeErr(member, "parameter is not of type 'AlgorithmIdentifier'.");
    if (alg.name === undefined)
      throw typeErr(member, "Algorithm: name: Missing or not a string");
    return { ...alg, name: `${alg.name}` };
  };
  const unsupported = (member, name, op = member) => {
    const canon = canonical(name);
    return fail(member, canon
      ? `${canon} does not support the '${op}' operation.`
      : `Unrecognized algorithm name '${name}'.`, "NotSupportedError");
  };
  // The algorithm for `op`, its name made canonical; NotSupportedError otherwise.
  const normalize = (member, alg, op = member) => {
    const a = algorithmOf(member, alg);
    const canon = canonical(a.name);
    if (!canon || !opAlgs[op].includes(canon)) throw unsupported(member, a.name, op);
    a.name = canon;
    return a;
  };
  const hashOf = (member, alg, what = "hash") => {
    if (alg === undefined) throw typeErr(member, `Algorithm: ${what}: Missing`);
    // A string is its own name (no dictionary to copy: this runs on every sign/verify).
    const name = typeof alg === "string" ? alg : algorithmOf(member, alg).name;
    const h = hashes.get(name.toLowerCase());
    if (!h) throw fail(member, `Unrecognized hash algorithm name '${name}'.`, "NotSupportedError");
    return h;
  };
  const need = (member, a, field, dict) => {
    if (a[field] === undefined) throw typeErr(member, `${dict}: ${field}: Missing`);
    return a[field];
  };
  const bytesMember = (member, a, field, dict, optional = false) => {
    if (a[field] === undefined) {
      if (optional) return undefined;
      throw typeErr(member, `${dict}: ${field}: Missing`);
    }
    const src = bufferSource(a[field]);
    if (src === null) throw typeErr(member, `${dict}: ${field}: Not a BufferSource`);
    return copyBytes(src);
  };
  const u8 = (src) => new Uint8Array(src[0], src[1], src[2]);
  const intMember = (member, v, what) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw typeErr(member, `${what}: Value is not a finite number`);
    return Math.trunc(n);
  };

  const keyUsageValues = new Set(["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"]);
  const usagesOf = (member, usages) => {
    if (usages === null || typeof usages !== "object" || typeof usages[Symbol.iterator] !== "function")
      throw typeErr(member, "The provided value cannot be converted to a sequence.");
    const out = [];
    for (const u of usages) {
      const s = `${u}`;
      if (!keyUsageValues.has(s))
        throw typeErr(member, `The provided value '${s}' is not a valid enum value of type KeyUsage.`);
      if (!out.includes(s)) out.push(s);
    }
    return out;
  };
  // The usages a key of `alg` and `type` may have.
  const allowedUsages = (name, type) => {
    switch (name) {
      case "RSASSA-PKCS1-v1_5": case "RSA-PSS": case "ECDSA": case "Ed25519": case "NODE-ED25519":
        return type === "private" ? ["sign"] : type === "public" ? ["verify"] : ["sign", "verify"];
      case "RSA-OAEP":
        return type === "private" ? ["decrypt", "unwrapKey"] : type === "public" ? ["encrypt", "wrapKey"]
          : ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
      case "ECDH": case "X25519":
        return type === "public" ? [] : ["deriveKey", "deriveBits"];
      case "AES-KW": return ["wrapKey", "unwrapKey"];
      case "AES-CBC": case "AES-CTR": case "AES-GCM": return ["encrypt", "decrypt", "wrapKey", "unwrapKey"];
      case "HMAC": return ["sign", "verify"];
      default: return ["deriveKey", "deriveBits"];
    }
  };
  const checkUsages = (member, name, type, usages) => {
    const ok = allowedUsages(name, type);
    if (usages.some((u) => !ok.includes(u)))
      throw fail(member, "Cannot create a key using the specified key usages.", "SyntaxError");
    if (usages.length === 0 && type !== "public")
      throw fail(member, "Usages cannot be empty when creating a key.", "SyntaxError");
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

  // state: { type, extractable, algorithm, usages, bytes (secret) | handle (box), hash }
  const newKey = (state) => {
    state.usages = allowedUsages(state.algorithm.name, state.type).filter((u) => state.usages.includes(u));
    return new CryptoKey(kCreate, state);
  };

  const base64url = (bytes) => {
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x2000)
      bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x2000));
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const fromBase64url = (member, s, field = "k") => {
    const bad = () => fail(member, `The JWK member "${field}" is not a valid base64url string.`, "DataError");
    if (typeof s !== "string" || /[^A-Za-z0-9_-]/.test(s)) throw bad();
    let bin;
    try {
      bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    } catch {
      throw bad();
    }
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  };
  const b64 = (ab) => base64url(new Uint8Array(ab));

  const keyFormats = new Set(["raw", "pkcs8", "spki", "jwk"]);
  const formatOf = (member, f) => {
    const s = `${f}`;
    if (!keyFormats.has(s))
      throw typeErr(member, `The provided value '${s}' is not a valid enum value of type KeyFormat.`);
    return s;
  };
  const formatUnsupported = (member, format, what) =>
    fail(member, `The '${format}' format is not supported for ${what} keys.`, "NotSupportedError");

  // ---- JWK checks shared by every key type ----

  const jwkOf = (member, keyData) => {
    if (keyData === null || typeof keyData !== "object" || bufferSource(keyData) !== null)
      throw typeErr(member, "parameter 2 is not of type 'JsonWebKey'.");
    return keyData;
  };
  const jwkCommon = (member, jwk, kty, use, usages, extractable) => {
    if (jwk.kty !== kty)
      throw fail(member, `The JWK "kty" member was not "${kty}".`, "DataError");
    if (jwk.use !== undefined && usages.length > 0 && jwk.use !== use)
      throw fail(member, `The JWK "use" member was not "${use}".`, "DataError");
    if (jwk.key_ops !== undefined) {
      if (!Array.isArray(jwk.key_ops) || usages.some((u) => !jwk.key_ops.includes(u)))
        throw fail(member, "The JWK \"key_ops\" member does not include the requested usages.", "DataError");
    }
    if (jwk.ext === false && extractable)
      throw fail(member, "The JWK \"ext\" member was false but the key is requested to be extractable.", "DataError");
  };
  const jwkAlgCheck = (member, jwk, expected) => {
    if (jwk.alg !== undefined && jwk.alg !== expected)
      throw fail(member, `The JWK "alg" member was not "${expected}".`, "DataError");
  };

  // ---- secret keys: HMAC, AES, HKDF, PBKDF2 ----

  const hmacJwkAlg = { "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" };
  const aesJwkAlg = (name, bytes) =>
    `A${bytes * 8}${{ "AES-CBC": "CBC", "AES-CTR": "CTR", "AES-GCM": "GCM", "AES-KW": "KW" }[name]}`;

  // The HMAC `length` member: optional, in bits, consistent with the key bytes.
  const hmacLength = (member, a, byteLen) => {
    if (a.length === undefined) return byteLen * 8;
    const len = Number(a.length);
    if (!Number.isInteger(len) || len < 0 || len > 0xffffffff)
      throw typeErr(member, "HmacImportParams: length: Value is outside the 'unsigned long' value range.");
    if (len === 0 || len > byteLen * 8 || len <= byteLen * 8 - 8)
      throw fail(member, `The HMAC length ${len} does not match a key of ${byteLen} bytes.`, "DataError");
    return len;
  };

  const importSecret = (member, format, keyData, a, extractable, usages) => {
    const name = a.name;
    let hash;
    if (name === "HMAC") {
      if (a.hash === undefined) throw typeErr(member, "HmacImportParams: hash: Missing");
      hash = hashOf(member, a.hash);
    }
    checkUsages(member, name, "secret", usages);
    let bytes;
    if (format === "raw") {
      bytes = copyBytes(bytesArg(member, 2, keyData));
    } else if (format === "jwk" && (name === "HMAC" || AES.includes(name))) {
      const jwk = jwkOf(member, keyData);
      jwkCommon(member, jwk, "oct", name === "HMAC" ? "sig" : "enc", usages, extractable);
      bytes = fromBase64url(member, jwk.k);
      if (name === "HMAC") jwkAlgCheck(member, jwk, hmacJwkAlg[hash]);
      else if ([16, 24, 32].includes(bytes.length)) jwkAlgCheck(member, jwk, aesJwkAlg(name, bytes.length));
    } else {
      throw formatUnsupported(member, format, name);
    }
    if (name === "HMAC") {
      if (bytes.length === 0) throw fail(member, "An HMAC key must not be empty.", "DataError");
      const length = hmacLength(member, a, bytes.length);
      return newKey({ type: "secret", extractable, algorithm: { name, hash: { name: hash }, length }, usages, bytes, hash });
    }
    if (AES.includes(name)) {
      if (![16, 24, 32].includes(bytes.length))
        throw fail(member, `Imported AES key length must be 128, 192, or 256 bits but provided ${bytes.length * 8}.`, "DataError");
      return newKey({ type: "secret", extractable, algorithm: { name, length: bytes.length * 8 }, usages, bytes });
    }
    // HKDF, PBKDF2
    if (extractable)
      throw fail(member, `${name} keys cannot be extractable.`, "SyntaxError");
    return newKey({ type: "secret", extractable: false, algorithm: { name }, usages, bytes });
  };

  const exportSecret = (member, format, s) => {
    if (format === "raw") return s.bytes.slice().buffer;
    if (format === "jwk") {
      const name = s.algorithm.name;
      const alg = name === "HMAC" ? hmacJwkAlg[s.hash] : aesJwkAlg(name, s.bytes.length);
      return { kty: "oct", k: base64url(s.bytes), alg, key_ops: s.usages.slice(), ext: true };
    }
    throw formatUnsupported(member, format, s.algorithm.name);
  };

  const aesLength = (member, a) => {
    const len = intMember(member, need(member, a, "length", "AesKeyGenParams"), "AesKeyGenParams: length");
    if (len !== 128 && len !== 192 && len !== 256)
      throw fail(member, `AES key length must be 128, 192, or 256 bits (requested ${len}).`, "OperationError");
    return len;
  };
  const randomBytes = (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += RANDOM_BYTES_MAX) N.cryptoRandomFill(b.buffer, i, Math.min(RANDOM_BYTES_MAX, n - i));
    return b;
  };

  const generateSecret = (member, a, extractable, usages) => {
    checkUsages(member, a.name, "secret", usages);
    if (a.name === "HMAC") {
      if (a.hash === undefined) throw typeErr(member, "HmacKeyGenParams: hash: Missing");
      const hash = hashOf(member, a.hash);
      let bits = hashBlockBits[hash];
      if (a.length !== undefined) {
        bits = Number(a.length);
        if (!Number.isInteger(bits) || bits <= 0 || bits > 8 * RANDOM_BYTES_MAX)
          throw fail(member, `HMAC key length ${a.length} must be between 1 and ${8 * RANDOM_BYTES_MAX} bits.`, "OperationError");
      }
      const bytes = randomBytes(Math.ceil(bits / 8));
      if (bits % 8) bytes[bytes.length - 1] &= (0xff << (8 - (bits % 8))) & 0xff;
      return newKey({ type: "secret", extractable, algorithm: { name: "HMAC", hash: { name: hash }, length: bits }, usages, bytes, hash });
    }
    const len = aesLength(member, a);
    return newKey({ type: "secret", extractable, algorithm: { name: a.name, length: len }, usages, bytes: randomBytes(len / 8) });
  };

  // ---- asymmetric keys: RSA, EC, Ed25519, X25519 ----

  const curves = ["P-256", "P-384", "P-521"];
  const kindOf = (name) => (RSA.includes(name) ? "rsa" : name === "ECDSA" || name === "ECDH" ? "ec"
    : name === "X25519" ? "x25519" : "ed25519");
  const rsaJwkAlg = (name, hash) => {
    const bits = hash.slice(4);
    if (name === "RSASSA-PKCS1-v1_5") return `RS${bits === "1" ? "1" : bits}`;
    if (name === "RSA-PSS") return `PS${bits === "1" ? "1" : bits}`;
    return hash === "SHA-1" ? "RSA-OAEP" : `RSA-OAEP-${bits}`;
  };
  const ecJwkAlg = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };

  // The key algorithm dictionary of an asymmetric import or generation.
  const asymParams = (member, a, dict) => {
    const p = { name: a.name };
    if (RSA.includes(a.name)) {
      if (a.hash === undefined) throw typeErr(member, `${dict}: hash: Missing`);
      p.hash = hashOf(member, a.hash);
    } else if (a.name === "ECDSA" || a.name === "ECDH") {
      const c = `${need(member, a, "namedCurve", dict)}`;
      if (!curves.includes(c)) throw fail(member, `Unrecognized or unimplemented EC curve "${c}" requested.`, "NotSupportedError");
      p.curve = c;
    } else if (a.name === "NODE-ED25519") {
      const c = `${need(member, a, "namedCurve", dict)}`;
      if (c !== "NODE-ED25519") throw fail(member, `NODE-ED25519 curve "${c}" is not supported; use "NODE-ED25519".`, "NotSupportedError");
    }
    return p;
  };

  // A CryptoKey for the key in box `h`, checked against the algorithm `p`.
  const asymKey = (member, h, p, extractable, usages, wantType) => {
    const info = N.cryptoKeyInfo(h);
    const type = info.priv ? "private" : "public";
    const kind = kindOf(p.name);
    if (info.kind !== kind && !(kind === "rsa" && info.kind === "rsa-pss" && p.name === "RSA-PSS"))
      throw fail(member, `The key is not a valid ${p.name} key (it is ${info.kind === "ec" ? "an EC" : info.kind === "other" ? "another kind of" : `an ${info.kind.toUpperCase()}`} key).`, "DataError");
    if (wantType !== undefined && type !== wantType)
      throw fail(member, `Expected a ${wantType} key.`, "DataError");
    if (kind === "ec" && info.curve !== p.curve)
      throw fail(member, `The key's curve ${info.curve || "(unknown)"} does not match the requested namedCurve ${p.curve}.`, "DataError");
    checkUsages(member, p.name, type, usages);
    let algorithm;
    if (kind === "rsa")
      algorithm = { name: p.name, modulusLength: info.bits, publicExponent: new Uint8Array(info.e), hash: { name: p.hash } };
    else if (kind === "ec") algorithm = { name: p.name, namedCurve: p.curve };
    else if (p.name === "NODE-ED25519") algorithm = { name: p.name, namedCurve: "NODE-ED25519" };
    else algorithm = { name: p.name };
    return newKey({ type, extractable, algorithm, usages, handle: h, hash: p.hash, curve: p.curve });
  };

  const jwkParts = (member, jwk, fields) => {
    const parts = {};
    for (const f of fields) if (jwk[f] !== undefined) parts[f] = fromBase64url(member, jwk[f], f);
    return parts;
  };

  const importAsym = (member, format, keyData, a, extractable, usages) => {
    const p = asymParams(member, a, "KeyImportParams");
    const kind = kindOf(p.name);
    const bad = () => fail(member, `Invalid ${format} key data for ${p.name}.`, "DataError");
    let h, want;
    if (format === "spki" || format === "pkcs8") {
      h = N.cryptoKeyImportDer(format === "pkcs8", u8(bytesArg(member, 2, keyData)));
      want = format === "pkcs8" ? "private" : "public";
    } else if (format === "raw") {
      if (kind === "rsa") throw formatUnsupported(member, format, p.name);
      h = N.cryptoKeyImportRaw(kind, p.curve || "", u8(bytesArg(member, 2, keyData)));
      want = "public";
    } else {
      const jwk = jwkOf(member, keyData);
      const sig = !["RSA-OAEP", "ECDH", "X25519"].includes(p.name);
      if (kind === "rsa") {
        jwkCommon(member, jwk, "RSA", sig ? "sig" : "enc", usages, extractable);
        jwkAlgCheck(member, jwk, rsaJwkAlg(p.name, p.hash));
        if (jwk.n === undefined || jwk.e === undefined) throw fail(member, "The JWK is missing \"n\" or \"e\".", "DataError");
        const parts = jwkParts(member, jwk, ["n", "e", "d", "p", "q", "dp", "dq", "qi"]);
        if (parts.d && !(parts.p && parts.q && parts.dp && parts.dq && parts.qi))
          throw fail(member, "An RSA private JWK must have all of p, q, dp, dq, qi.", "DataError");
        h = N.cryptoKeyImportJwk("rsa", "", parts);
      } else if (kind === "ec") {
        jwkCommon(member, jwk, "EC", sig ? "sig" : "enc", usages, extractable);
        if (jwk.crv !== p.curve) throw fail(member, `The JWK "crv" member was not "${p.curve}".`, "DataError");
        if (p.name === "ECDSA") jwkAlgCheck(member, jwk, ecJwkAlg[p.curve]);
        h = N.cryptoKeyImportJwk("ec", p.curve, jwkParts(member, jwk, ["x", "y", "d"]));
      } else {
        jwkCommon(member, jwk, "OKP", sig ? "sig" : "enc", usages, extractable);
        const crv = kind === "x25519" ? "X25519" : "Ed25519";
        if (jwk.crv !== crv) throw fail(member, `The JWK "crv" member was not "${crv}".`, "DataError");
        if (kind === "ed25519" && jwk.alg !== undefined && jwk.alg !== "EdDSA" && jwk.alg !== "Ed25519")
          throw fail(member, "The JWK \"alg\" member was not \"EdDSA\".", "DataError");
        h = N.cryptoKeyImportJwk(kind, "", jwkParts(member, jwk, ["x", "d"]));
      }
    }
    if (h === null) throw bad();
    return asymKey(member, h, p, extractable, usages, want);
  };

  const exportAsym = (member, format, s) => {
    const name = s.algorithm.name;
    const kind = kindOf(name);
    if (format === "spki") {
      if (s.type !== "public") throw fail(member, "Only public keys can be exported as spki.", "InvalidAccessError");
      return N.cryptoKeyExport(s.handle, "spki");
    }
    if (format === "pkcs8") {
      if (s.type !== "private") throw fail(member, "Only private keys can be exported as pkcs8.", "InvalidAccessError");
      return N.cryptoKeyExport(s.handle, "pkcs8");
    }
    if (format === "raw") {
      if (kind === "rsa") throw formatUnsupported(member, format, name);
      if (s.type !== "public") throw fail(member, "Only public keys can be exported as raw.", "InvalidAccessError");
      return N.cryptoKeyExport(s.handle, "raw");
    }
    const parts = N.cryptoKeyJwk(s.handle);
    const jwk = {};
    if (kind === "rsa") {
      jwk.kty = "RSA";
      jwk.alg = rsaJwkAlg(name, s.hash);
      for (const f of ["n", "e", "d", "p", "q", "dp", "dq", "qi"]) if (parts[f]) jwk[f] = b64(parts[f]);
    } else if (kind === "ec") {
      jwk.kty = "EC";
      jwk.crv = s.curve;
      for (const f of ["x", "y", "d"]) if (parts[f]) jwk[f] = b64(parts[f]);
    } else {
      jwk.kty = "OKP";
      jwk.crv = kind === "x25519" ? "X25519" : "Ed25519";
      if (kind === "ed25519") jwk.alg = "EdDSA";
      for (const f of ["x", "d"]) if (parts[f]) jwk[f] = b64(parts[f]);
    }
    jwk.key_ops = s.usages.slice();
    jwk.ext = true;
    return jwk;
  };

  const generateAsym = (member, a, extractable, usages) => {
    const p = asymParams(member, a, "KeyGenParams");
    const kind = kindOf(p.name);
    const priv = allowedUsages(p.name, "private"), pub = allowedUsages(p.name, "public");
    if (usages.some((u) => !priv.includes(u) && !pub.includes(u)))
      throw fail(member, "Cannot create a key using the specified key usages.", "SyntaxError");
    let h;
    if (kind === "rsa") {
      const bits = intMember(member, need(member, a, "modulusLength", "RsaHashedKeyGenParams"), "RsaHashedKeyGenParams: modulusLength");
      const e = bufferSource(need(member, a, "publicExponent", "RsaHashedKeyGenParams"));
      if (e === null) throw typeErr(member, "RsaHashedKeyGenParams: publicExponent: Not a BufferSource");
      const ev = u8(e).reduce((acc, b) => acc * 256 + b, 0);
      if (ev !== 3 && ev !== 65537)
        throw fail(member, "The \"publicExponent\" must be either 3 or 65537.", "OperationError");
      if (bits < 256 || bits > 16384 || bits % 8)
        throw fail(member, `The modulus length must be a multiple of 8 between 256 and 16384 (requested ${bits}).`, "OperationError");
      h = N.cryptoKeyGenerate("rsa", bits, copyBytes(e));
    } else {
      h = N.cryptoKeyGenerate(kind, p.curve || "", null);
    }
    const privUsages = usages.filter((u) => priv.includes(u));
    if (privUsages.length === 0)
      throw fail(member, "Usages cannot be empty when creating a key.", "SyntaxError");
    const privateKey = asymKey(member, h, p, extractable, privUsages);
    const publicKey = asymKey(member, N.cryptoKeyPublic(h), p, true, usages.filter((u) => pub.includes(u)));
    return { publicKey, privateKey };
  };

  // ---- using keys ----

  // The key for an operation: a CryptoKey of algorithm `a`, allowed `usage`.
  const usableKey = (member, a, key, usage, index = 2) => {
    const s = keys.get(key);
    if (!s)
      throw typeErr(member, `parameter ${index} is not of type 'CryptoKey'.`);
    if (s.algorithm.name !== a.name)
      throw fail(member, `The requested operation is not valid for the provided key (its algorithm is ${s.algorithm.name}).`, "InvalidAccessError");
    if (!s.usages.includes(usage))
      throw fail(member, "key.usages does not permit this operation.", "InvalidAccessError");
    return s;
  };
  const hmac = (s, src) => N.cryptoHmac(s.hash, s.bytes.buffer, 0, s.bytes.length, src[0], src[1], src[2]);
  const opFailed = (member, what) => fail(member, what, "OperationError");

  const signParams = (member, a, s) => {
    if (a.name === "ECDSA") return [hashOf(member, need(member, a, "hash", "EcdsaParams")), 0];
    if (a.name === "RSA-PSS") {
      const salt = intMember(member, need(member, a, "saltLength", "RsaPssParams"), "RsaPssParams: saltLength");
      if (salt < 0) throw typeErr(member, "RsaPssParams: saltLength: Value is outside the 'unsigned long' value range.");
      return [s.hash, salt];
    }
    return [s.hash || "SHA-256", 0];
  };
  const cAlg = (name) => (name === "NODE-ED25519" ? "Ed25519" : name);

  const doSign = (member, a, s, data) => {
    if (a.name === "HMAC") return hmac(s, data);
    if (s.type !== "private") throw fail(member, "Signing requires a private key.", "InvalidAccessError");
    const p = signParams(member, a, s);   // [hash, salt] (indexed: no iterator per call)
    const sig = N.cryptoSign(cAlg(a.name), s.handle, p[0], p[1], u8(data));
    if (sig === null) throw opFailed(member, `${a.name} signing failed.`);
    return sig;
  };
  const doVerify = (member, a, s, sig, data) => {
    if (a.name === "HMAC") {
      const mac = hmac(s, data);
      return N.cryptoEqual(mac, 0, mac.byteLength, sig[0], sig[1], sig[2]);
    }
    if (s.type !== "public") throw fail(member, "Verifying requires a public key.", "InvalidAccessError");
    const p = signParams(member, a, s);
    return N.cryptoVerify(cAlg(a.name), s.handle, p[0], p[1], u8(sig), u8(data));
  };

  const PBKDF2_ITERATIONS_MAX = 100000;
  const GCM_TAG_BITS = [32, 64, 96, 104, 112, 120, 128];
  // encrypt (enc) or decrypt with algorithm `a` and key state `s`; data is a bytes triple.
  const cipher = (member, enc, a, s, data) => {
    const d = u8(data);
    let out;
    switch (a.name) {
      case "AES-GCM": {
        const iv = bytesMember(member, a, "iv", "AesGcmParams");
        if (iv.length === 0) throw opFailed(member, "AES-GCM IV must not be empty.");
        const aad = bytesMember(member, a, "additionalData", "AesGcmParams", true) || new Uint8Array(0);
        const tagBits = a.tagLength === undefined ? 128 : intMember(member, a.tagLength, "AesGcmParams: tagLength");
        if (!GCM_TAG_BITS.includes(tagBits))
          throw opFailed(member, `${tagBits} is not a valid AES-GCM tag length.`);
        out = N.cryptoAesGcm(enc, s.bytes, iv, aad, tagBits / 8, d);
        if (out === null) throw opFailed(member, enc ? "AES-GCM encryption failed." : "Decryption failed. This could be due to a ciphertext authentication failure, bad padding, incorrect CryptoKey, or another algorithm-specific reason.");
        return out;
      }
      case "AES-CBC": {
        const iv = bytesMember(member, a, "iv", "AesCbcParams");
        if (iv.length !== 16) throw opFailed(member, `AES-CBC IV must be 16 bytes long (provided ${iv.length}).`);
        out = N.cryptoAesCbc(enc, s.bytes, iv, d);
        if (out === null) throw opFailed(member, "Decryption failed. This could be due to a ciphertext authentication failure, bad padding, incorrect CryptoKey, or another algorithm-specific reason.");
        return out;
      }
      case "AES-CTR": {
        const counter = bytesMember(member, a, "counter", "AesCtrParams");
        if (counter.length !== 16) throw opFailed(member, `AES-CTR counter must be 16 bytes long (provided ${counter.length}).`);
        const len = intMember(member, need(member, a, "length", "AesCtrParams"), "AesCtrParams: length");
        if (len < 1 || len > 128) throw opFailed(member, `AES-CTR counter length must be between 1 and 128 (provided ${len}).`);
        const blocks = Math.ceil(d.length / 16);
        if (len < 53 && blocks > 2 ** len)
          throw opFailed(member, "AES-CTR: the counter would wrap and repeat for this input length.");
        return N.cryptoAesCtr(s.bytes, counter, len, d);
      }
      case "AES-KW": {
        if (enc && (d.length < 16 || d.length % 8))
          throw opFailed(member, "AES-KW input must be a multiple of 8 bytes and at least 16 bytes long.");
        out = N.cryptoAesKw(enc, s.bytes, d);
        if (out === null) throw opFailed(member, enc ? "AES-KW wrapping failed." : "AES-KW unwrapping failed: the integrity check did not pass.");
        return out;
      }
      case "RSA-OAEP": {
        if (s.type !== (enc ? "public" : "private"))
          throw fail(member, `RSA-OAEP ${enc ? "encryption requires a public" : "decryption requires a private"} key.`, "InvalidAccessError");
        const label = bytesMember(member, a, "label", "RsaOaepParams", true) || new Uint8Array(0);
        out = N.cryptoRsaOaep(enc, s.handle, s.hash, label, d);
        if (out === null) throw opFailed(member, enc ? "RSA-OAEP encryption failed (the message may be too long for the key)." : "RSA-OAEP decryption failed.");
        return out;
      }
    }
    throw unsupported(member, a.name);
  };

  // deriveBits: `length` in bits (null: everything ECDH/X25519 give).
  const deriveBits = (member, a, s, length) => {
    if (a.name === "ECDH" || a.name === "X25519") {
      const pub = keys.get(need(member, a, "public", a.name === "ECDH" ? "EcdhKeyDeriveParams" : "EcdhKeyDeriveParams"));
      if (!pub) throw typeErr(member, "EcdhKeyDeriveParams: public: Not a CryptoKey");
      if (pub.type !== "public") throw fail(member, "The public member must be a public key.", "InvalidAccessError");
      if (pub.algorithm.name !== a.name)
        throw fail(member, `The public key's algorithm ${pub.algorithm.name} does not match ${a.name}.`, "InvalidAccessError");
      if (s.type !== "private") throw fail(member, "The base key must be a private key.", "InvalidAccessError");
      if (a.name === "ECDH" && pub.curve !== s.curve)
        throw fail(member, "The public key's curve does not match the base key's.", "InvalidAccessError");
      const secret = N.cryptoDerive(s.handle, pub.handle);
      if (secret === null) throw opFailed(member, `${a.name} key agreement failed.`);
      if (length === null || length === undefined) return secret;
      if (length > secret.byteLength * 8)
        throw opFailed(member, `Derived bit length ${length} is more than the ${secret.byteLength * 8} bits available.`);
      const out = new Uint8Array(secret, 0, Math.ceil(length / 8)).slice();
      if (length % 8) out[out.length - 1] &= (0xff << (8 - (length % 8))) & 0xff;
      return out.buffer;
    }
    if (length === null || length === undefined || length % 8 !== 0)
      throw opFailed(member, `${a.name} requires a length that is a multiple of 8.`);
    if (length === 0) return new ArrayBuffer(0);
    const hash = hashOf(member, need(member, a, "hash", `${a.name === "HKDF" ? "Hkdf" : "Pbkdf2"}Params`));
    const salt = bytesMember(member, a, "salt", a.name === "HKDF" ? "HkdfParams" : "Pbkdf2Params");
    let out;
    if (a.name === "HKDF") {
      const info = bytesMember(member, a, "info", "HkdfParams");
      if (length / 8 > 255 * hashBytes[hash]) throw opFailed(member, `HKDF cannot derive ${length} bits with ${hash}.`);
      out = N.cryptoHkdf(hash, s.bytes, salt, info, length / 8);
    } else {
      const iterations = intMember(member, need(member, a, "iterations", "Pbkdf2Params"), "Pbkdf2Params: iterations");
      if (iterations <= 0) throw opFailed(member, "PBKDF2 requires a positive iteration count.");
      // Cloudflare's bound (the work is one uninterruptible OpenSSL call).
      if (iterations > PBKDF2_ITERATIONS_MAX)
        throw fail(member, `PBKDF2 iteration counts above ${PBKDF2_ITERATIONS_MAX} are not supported (requested ${iterations}).`, "NotSupportedError");
      out = N.cryptoPbkdf2(hash, s.bytes, salt, iterations, length / 8);
    }
    if (out === null) throw opFailed(member, `${a.name} derivation failed.`);
    return out;
  };

  // "get key length" of a deriveKey target (bits), or null.
  const keyLength = (member, a) => {
    if (AES.includes(a.name)) return aesLength(member, a);
    if (a.name === "HMAC") {
      const hash = hashOf(member, need(member, a, "hash", "HmacImportParams"));
      if (a.length === undefined) return hashBlockBits[hash];
      const len = intMember(member, a.length, "HmacImportParams: length");
      if (len <= 0) throw typeErr(member, "HmacImportParams: length: must be positive");
      return len;
    }
    return null;
  };

  const importKey = (member, format, keyData, a, extractable, usages) => {
    if (a.name === "HMAC" || AES.includes(a.name) || a.name === "HKDF" || a.name === "PBKDF2")
      return importSecret(member, format, keyData, a, extractable, usages);
    return importAsym(member, format, keyData, a, extractable, usages);
  };
  const exportKey = (member, format, s) => {
    if (!s.extractable) throw fail(member, "key is not extractable", "InvalidAccessError");
    return s.type === "secret" ? exportSecret(member, format, s) : exportAsym(member, format, s);
  };

  // ---- SubtleCrypto ----

  class SubtleCrypto {
    constructor(key = undefined) {
      if (key !== kCreate) throw new TypeError("Failed to construct 'SubtleCrypto': Illegal constructor");
    }
    async digest(algorithm, data) {
      needArgs("SubtleCrypto", "digest", 2, arguments.length);
      const a = normalize("digest", algorithm);
      const src = bytesArg("digest", 2, data);
      return N.cryptoDigest(a.name, src[0], src[1], src[2]);
    }
    async importKey(format, keyData, algorithm, extractable, keyUsages) {
      needArgs("SubtleCrypto", "importKey", 5, arguments.length);
      format = formatOf("importKey", format);
      const a = normalize("importKey", algorithm);
      const usages = usagesOf("importKey", keyUsages);
      return importKey("importKey", format, keyData, a, !!extractable, usages);
    }
    async exportKey(format, key) {
      needArgs("SubtleCrypto", "exportKey", 2, arguments.length);
      format = formatOf("exportKey", format);
      const s = keys.get(key);
      if (!s) throw typeErr("exportKey", "parameter 2 is not of type 'CryptoKey'.");
      return exportKey("exportKey", format, s);
    }
    async generateKey(algorithm, extractable, keyUsages) {
      needArgs("SubtleCrypto", "generateKey", 3, arguments.length);
      const a = normalize("generateKey", algorithm);
      const usages = usagesOf("generateKey", keyUsages);
      if (a.name === "HMAC" || AES.includes(a.name)) return generateSecret("generateKey", a, !!extractable, usages);
      return generateAsym("generateKey", a, !!extractable, usages);
    }
    async sign(algorithm, key, data) {
      needArgs("SubtleCrypto", "sign", 3, arguments.length);
      const a = normalize("sign", algorithm);
      const s = usableKey("sign", a, key, "sign");
      return doSign("sign", a, s, bytesArg("sign", 3, data));
    }
    async verify(algorithm, key, signature, data) {
      needArgs("SubtleCrypto", "verify", 4, arguments.length);
      const a = normalize("verify", algorithm);
      const s = usableKey("verify", a, key, "verify");
      const sig = bytesArg("verify", 3, signature);
      return doVerify("verify", a, s, sig, bytesArg("verify", 4, data));
    }
    async encrypt(algorithm, key, data) {
      needArgs("SubtleCrypto", "encrypt", 3, arguments.length);
      const a = normalize("encrypt", algorithm);
      const s = usableKey("encrypt", a, key, "encrypt");
      return cipher("encrypt", true, a, s, bytesArg("encrypt", 3, data));
    }
    async decrypt(algorithm, key, data) {
      needArgs("SubtleCrypto", "decrypt", 3, arguments.length);
      const a = normalize("decrypt", algorithm);
      const s = usableKey("decrypt", a, key, "decrypt");
      return cipher("decrypt", false, a, s, bytesArg("decrypt", 3, data));
    }
    async deriveBits(algorithm, baseKey, length = null) {
      needArgs("SubtleCrypto", "deriveBits", 2, arguments.length);
      const a = normalize("deriveBits", algorithm);
      const s = usableKey("deriveBits", a, baseKey, "deriveBits");
      if (length !== null) length = intMember("deriveBits", length, "length");
      return deriveBits("deriveBits", a, s, length);
    }
    async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      needArgs("SubtleCrypto", "deriveKey", 5, arguments.length);
      const a = normalize("deriveKey", algorithm, "deriveBits");
      const t = normalize("deriveKey", derivedKeyType, "get key length");
      const usages = usagesOf("deriveKey", keyUsages);
      const s = usableKey("deriveKey", a, baseKey, "deriveKey");
      const bits = deriveBits("deriveKey", a, s, keyLength("deriveKey", t));
      return importKey("deriveKey", "raw", bits, t, !!extractable, usages);
    }
    async wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      needArgs("SubtleCrypto", "wrapKey", 4, arguments.length);
      format = formatOf("wrapKey", format);
      const a = normalize("wrapKey", wrapAlgorithm);
      const w = usableKey("wrapKey", a, wrappingKey, "wrapKey", 3);
      const s = keys.get(key);
      if (!s) throw typeErr("wrapKey", "parameter 2 is not of type 'CryptoKey'.");
      let bytes = exportKey("wrapKey", format, s);
      if (format === "jwk") bytes = new TextEncoder().encode(JSON.stringify(bytes));
      const src = bufferSource(bytes);
      return cipher("wrapKey", true, a, w, src);
    }
    async unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
      needArgs("SubtleCrypto", "unwrapKey", 7, arguments.length);
      format = formatOf("unwrapKey", format);
      const a = normalize("unwrapKey", unwrapAlgorithm);
      const t = normalize("unwrapKey", unwrappedKeyAlgorithm, "importKey");
      const usages = usagesOf("unwrapKey", keyUsages);
      const w = usableKey("unwrapKey", a, unwrappingKey, "unwrapKey", 3);
      const bytes = cipher("unwrapKey", false, a, w, bytesArg("unwrapKey", 2, wrappedKey));
      let keyData = bytes;
      if (format === "jwk") {
        try {
          keyData = JSON.parse(new TextDecoder().decode(bytes));
        } catch {
          throw fail("unwrapKey", "The unwrapped key is not valid JSON.", "DataError");
        }
      }
      return importKey("unwrapKey", format, keyData, t, !!extractable, usages);
    }
    // Cloudflare extension: synchronous, constant-time comparison.
    timingSafeEqual(a, b) {
      needArgs("SubtleCrypto", "timingSafeEqual", 2, arguments.length);
      const x = bufferSource(a), y = bufferSource(b);
      if (x === null || y === null)
        throw typeErr("timingSafeEqual", `parameter ${x === null ? 1 : 2} is not of type '(ArrayBuffer or ArrayBufferView)'.`);
      if (x[2] !== y[2])
        throw typeErr("timingSafeEqual", "Input buffers must have the same byte length.");
      if (x[2] === 0) return true;
      return N.cryptoEqual(x[0], x[1], x[2], y[0], y[1], y[2]);
    }
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
