// crypto.DigestStream (Cloudflare extension): a WritableStream that hashes what is
// written to it; `digest` is a Promise<ArrayBuffer> that resolves when the stream
// closes (rejects if it is aborted). Algorithms as subtle.digest: SHA-1/256/384/
// 512 and MD5. Chunks are BufferSources or strings (UTF-8). Here, not in
// 25_crypto.js, because WritableStream comes from 35_streams.js.
(() => {
  "use strict";
  const N = globalThis.__durable;
  // a Map, not an object literal: "constructor" or "__proto__" are not hash names
  const hashes = new Map([["sha-1", "SHA-1"], ["sha-256", "SHA-256"], ["sha-384", "SHA-384"], ["sha-512", "SHA-512"], ["md5", "MD5"]]);
  const encoder = new TextEncoder();

  const hashName = (algorithm) => {
    const name = typeof algorithm === "string" ? algorithm
      : algorithm !== null && typeof algorithm === "object" && algorithm.name !== undefined ? `${algorithm.name}` : undefined;
    if (name === undefined)
      throw new TypeError("Failed to construct 'DigestStream': parameter 1 is not of type 'AlgorithmIdentifier'.");
    const h = hashes.get(name.toLowerCase());
    if (!h)
      throw new DOMException(`Failed to construct 'DigestStream': Unrecognized algorithm name '${name}'.`, "NotSupportedError");
    return h;
  };

  class DigestStream extends WritableStream {
    constructor(algorithm) {
      if (arguments.length < 1)
        throw new TypeError("Failed to construct 'DigestStream': 1 argument required, but only 0 present.");
      const h = N.cryptoDigestNew(hashName(algorithm));
      let resolve, reject;
      const digest = new Promise((res, rej) => { resolve = res; reject = rej; });
      super({
        write(chunk) {
          if (typeof chunk === "string") chunk = encoder.encode(chunk);
          const src = N.bufferSource(chunk);
          if (src === null)
            throw new TypeError("DigestStream: a chunk must be an ArrayBuffer, an ArrayBufferView or a string.");
          if (src[2] > 0) N.cryptoDigestUpdate(h, new Uint8Array(src[0], src[1], src[2]));
        },
        close() { resolve(N.cryptoDigestFinal(h)); },
        abort(reason) { reject(reason); },
      });
      digest.catch(() => {});
      Object.defineProperty(this, "digest", { value: digest, enumerable: true, configurable: false, writable: false });
    }
  }
  Object.defineProperty(DigestStream.prototype, Symbol.toStringTag, { value: "DigestStream", configurable: true });
  Object.defineProperty(Crypto.prototype, "DigestStream", {
    value: DigestStream, writable: true, configurable: true, enumerable: false,
  });
})();
