// node:crypto (nodejs_compat; docs/nodejs.md): randomBytes, randomUUID, randomInt,
// createHash, createHmac, timingSafeEqual, pbkdf2, webcrypto — on the same OpenSSL
// natives as WebCrypto (web/crypto.c).
(() => {
  "use strict";
  const N = globalThis.__durable;
  const HASHES = { md5: "MD5", sha1: "SHA-1", "sha-1": "SHA-1", sha256: "SHA-256", "sha-256": "SHA-256",
    sha384: "SHA-384", "sha-384": "SHA-384", sha512: "SHA-512", "sha-512": "SHA-512" };
  const Buf = () => N.nodeModule("buffer").Buffer;
  const hashName = (alg) => {
    const h = HASHES[String(alg).toLowerCase()];
    if (!h) {
      const e = new Error(`Digest method not supported: ${alg} (durable has md5, sha1, sha256, sha384, sha512)`);
      e.code = "ERR_CRYPTO_INVALID_DIGEST";
      throw e;
    }
    return h;
  };
  const bytes = (data, enc) => {
    if (typeof data === "string") return Buf().from(data, enc);
    if (data instanceof ArrayBuffer) return new Uint8Array(data);
    if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
  };
  const out = (ab, enc) => {
    const b = Buf().from(ab);
    return enc === undefined || enc === "buffer" ? b : b.toString(enc);
  };

  class Hash {
    constructor(alg) {
      this._alg = hashName(alg);
      this._h = N.cryptoDigestNew(this._alg);
      this._done = false;
    }
    update(data, enc) {
      if (this._done) throw Object.assign(new Error("Digest already called"), { code: "ERR_CRYPTO_HASH_FINALIZED" });
      const b = bytes(data, enc);
      if (b.length) N.cryptoDigestUpdate(this._h, b);
      return this;
    }
    digest(enc) {
      if (this._done) throw Object.assign(new Error("Digest already called"), { code: "ERR_CRYPTO_HASH_FINALIZED" });
      this._done = true;
      return out(N.cryptoDigestFinal(this._h), enc);
    }
  }
  class Hmac {
    constructor(alg, key) {
      this._alg = hashName(alg);
      const k = typeof key === "string" ? Buf().from(key) : bytes(key);
      this._key = Uint8Array.from(k);
      this._chunks = [];
      this._done = false;
    }
    update(data, enc) {
      if (this._done) throw Object.assign(new Error("Digest already called"), { code: "ERR_CRYPTO_HASH_FINALIZED" });
      this._chunks.push(Uint8Array.from(bytes(data, enc)));
      return this;
    }
    digest(enc) {
      if (this._done) throw Object.assign(new Error("Digest already called"), { code: "ERR_CRYPTO_HASH_FINALIZED" });
      this._done = true;
      const data = Buf().concat(this._chunks);
      const k = this._key;
      return out(N.cryptoHmac(this._alg, k.buffer, k.byteOffset, k.byteLength, data.buffer, data.byteOffset, data.byteLength), enc);
    }
  }

  function randomBytes(size, cb) {
    if (typeof size !== "number" || !(size >= 0) || size > 2 ** 31 - 1)
      throw new RangeError(`The value of "size" is out of range. Received ${size}`);
    const b = Buf().alloc(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(size, i + 65536)));
    if (typeof cb === "function") { queueMicrotask(() => cb(null, b)); return undefined; }
    return b;
  }
  function randomFillSync(view, offset = 0, size) {
    const u = bytes(view);
    const end = size === undefined ? u.length : offset + size;
    for (let i = offset; i < end; i += 65536) crypto.getRandomValues(u.subarray(i, Math.min(end, i + 65536)));
    return view;
  }
  function randomInt(min, max, cb) {
    if (max === undefined || typeof max === "function") { cb = max; max = min; min = 0; }
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min)
      throw new RangeError(`The value of "max" is out of range. It must be greater than the value of "min" (${min}). Received ${max}`);
    const range = max - min;
    const limit = Math.floor(2 ** 48 / range) * range;
    let x;
    do {
      const r = crypto.getRandomValues(new Uint16Array(3));
      x = r[0] * 2 ** 32 + r[1] * 2 ** 16 + r[2];
    } while (x >= limit);
    const v = min + (x % range);
    if (typeof cb === "function") { queueMicrotask(() => cb(null, v)); return undefined; }
    return v;
  }
  function timingSafeEqual(a, b) {
    const x = bytes(a), y = bytes(b);
    if (x.byteLength !== y.byteLength) {
      const e = new RangeError("Input buffers must have the same byte length");
      e.code = "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH";
      throw e;
    }
    if (x.byteLength === 0) return true;
    return N.cryptoEqual(x.buffer, x.byteOffset, x.byteLength, y.buffer, y.byteOffset, y.byteLength);
  }
  function pbkdf2Sync(password, salt, iterations, keylen, digest) {
    // Cloudflare's bound, as crypto.subtle's (one uninterruptible OpenSSL call).
    if (!Number.isInteger(iterations) || iterations <= 0 || iterations > 100000)
      throw new RangeError(`pbkdf2: iterations must be an integer from 1 to 100000 (received ${iterations})`);
    if (!Number.isInteger(keylen) || keylen < 0 || keylen > 65536)
      throw new RangeError(`pbkdf2: keylen must be an integer from 0 to 65536 (received ${keylen})`);
    const p = Uint8Array.from(bytes(password)), s = Uint8Array.from(bytes(salt));
    const r = N.cryptoPbkdf2(hashName(digest), p, s, iterations, keylen);
    if (r === null) throw new Error("pbkdf2 failed");
    return Buf().from(r);
  }
  function pbkdf2(password, salt, iterations, keylen, digest, cb) {
    let r, err = null;
    try { r = pbkdf2Sync(password, salt, iterations, keylen, digest); } catch (e) { err = e; }
    queueMicrotask(() => cb(err, r));
  }
  const notSupported = (name) => () => {
    throw new Error(`crypto.${name} is not supported by durable yet (docs/nodejs.md); use crypto.subtle`);
  };
  const mod = {
    createHash: (alg) => new Hash(alg),
    createHmac: (alg, key) => new Hmac(alg, key),
    Hash, Hmac,
    hash: (alg, data, enc = "hex") => new Hash(alg).update(data).digest(enc),
    randomBytes, pseudoRandomBytes: randomBytes, randomFillSync,
    randomFill: (v, ...rest) => { const cb = rest.pop(); randomFillSync(v, ...rest); queueMicrotask(() => cb(null, v)); },
    randomInt,
    randomUUID: () => crypto.randomUUID(),
    getRandomValues: (v) => crypto.getRandomValues(v),
    timingSafeEqual, pbkdf2Sync, pbkdf2,
    getHashes: () => ["md5", "sha1", "sha256", "sha384", "sha512"],
    getCiphers: () => [],
    getCurves: () => [],
    webcrypto: crypto,
    subtle: crypto.subtle,
    constants: {},
    createCipheriv: notSupported("createCipheriv"),
    createDecipheriv: notSupported("createDecipheriv"),
    createSign: notSupported("createSign"),
    createVerify: notSupported("createVerify"),
    createPrivateKey: notSupported("createPrivateKey"),
    createPublicKey: notSupported("createPublicKey"),
    createSecretKey: notSupported("createSecretKey"),
    generateKeyPairSync: notSupported("generateKeyPairSync"),
    scryptSync: notSupported("scryptSync"),
    hkdfSync: notSupported("hkdfSync"),
  };
  N.nodeModules.crypto = () => { const m = Object.assign(Object.create(null), mod); m.default = mod; return m; };
})();
