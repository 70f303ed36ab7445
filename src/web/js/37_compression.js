// CompressionStream, DecompressionStream (WHATWG Compression; zlib in
// web/compression.c) and TextEncoderStream, TextDecoderStream (WHATWG Encoding).
// As in workerd, each is a TransformStream subclass.
//
// Memory stays bounded: a written chunk is handed to zlib and its output taken
// 64 KiB at a time, each piece waiting until the readable side is read, so a small
// input that inflates to gigabytes is never held at once.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const defineGlobal = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  const tag = (cls, name) =>
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
  const formats = { deflate: 0, "deflate-raw": 1, gzip: 2 };

  const zTransformer = (cls, format, decompress) => {
    if (!Object.prototype.hasOwnProperty.call(formats, format))
      throw new TypeError(`Failed to construct '${cls}': Unsupported compression format: '${format}' (expected "gzip", "deflate" or "deflate-raw")`);
    const z = N.zNew(formats[format], decompress);
    const drain = async (c, finish) => {
      for (;;) {
        const out = N.zPull(z, finish);
        if (out === null) return;
        c.enqueue(new Uint8Array(out));
        if (c.desiredSize <= 0) await N.transformPulled(c);
      }
    };
    return {
      async transform(chunk, c) {
        const src = N.bufferSource(chunk);
        if (src === null) throw new TypeError(`${cls}: a chunk must be an ArrayBuffer or an ArrayBufferView`);
        N.zPush(z, src[0], src[1], src[2]);
        await drain(c, false);
      },
      flush(c) { return drain(c, true); },
    };
  };

  class CompressionStream extends TransformStream {
    constructor(format) {
      if (arguments.length < 1)
        throw new TypeError("Failed to construct 'CompressionStream': 1 argument required, but only 0 present.");
      super(zTransformer("CompressionStream", `${format}`, false));
    }
  }
  class DecompressionStream extends TransformStream {
    constructor(format) {
      if (arguments.length < 1)
        throw new TypeError("Failed to construct 'DecompressionStream': 1 argument required, but only 0 present.");
      super(zTransformer("DecompressionStream", `${format}`, true));
    }
  }
  tag(CompressionStream, "CompressionStream");
  tag(DecompressionStream, "DecompressionStream");

  // ---- text streams ----
  class TextEncoderStream extends TransformStream {
    constructor() {
      const enc = new TextEncoder();
      let pending = ""; // a high surrogate that ended the last chunk
      super({
        transform(chunk, c) {
          let s = pending + `${chunk}`;
          pending = "";
          const last = s.charCodeAt(s.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) { pending = s[s.length - 1]; s = s.slice(0, -1); }
          if (s.length) c.enqueue(enc.encode(s));
        },
        flush(c) {
          if (pending) c.enqueue(new Uint8Array([0xef, 0xbf, 0xbd]));
        },
      });
      Object.defineProperty(this, "encoding", { value: "utf-8", enumerable: true });
    }
  }
  class TextDecoderStream extends TransformStream {
    constructor(label = "utf-8", options = undefined) {
      const dec = new TextDecoder(label, options);
      super({
        transform(chunk, c) {
          if (N.bufferSource(chunk) === null)
            throw new TypeError("TextDecoderStream: a chunk must be an ArrayBuffer or an ArrayBufferView");
          const s = dec.decode(chunk, { stream: true });
          if (s) c.enqueue(s);
        },
        flush(c) {
          const s = dec.decode();
          if (s) c.enqueue(s);
        },
      });
      Object.defineProperties(this, {
        encoding: { value: dec.encoding, enumerable: true },
        fatal: { value: dec.fatal, enumerable: true },
        ignoreBOM: { value: dec.ignoreBOM, enumerable: true },
      });
    }
  }
  tag(TextEncoderStream, "TextEncoderStream");
  tag(TextDecoderStream, "TextDecoderStream");

  defineGlobal("CompressionStream", CompressionStream);
  defineGlobal("DecompressionStream", DecompressionStream);
  defineGlobal("TextEncoderStream", TextEncoderStream);
  defineGlobal("TextDecoderStream", TextDecoderStream);
})();
