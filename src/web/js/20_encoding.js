// TextEncoder and TextDecoder (spec: workers.md WEB-6; WHATWG Encoding).
// UTF-8 only, as Workers require; the transcoding is in C (encoding.c). atob and
// btoa are installed by encoding.c directly.
//
// Also registers N.bufferSource(x) -> [ArrayBuffer, byteOffset, byteLength] | null,
// the brand-checked view of a BufferSource that the C natives take (used by
// 25_crypto.js and available to later files).
(() => {
  "use strict";
  const N = globalThis.__durable;

  const defineGlobal = (name, value) =>
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  const tag = (cls, name) =>
    Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
  const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;

  // ---- BufferSource, without trusting user-visible properties ----
  const TypedArray = Object.getPrototypeOf(Uint8Array);
  const taTag = getter(TypedArray.prototype, Symbol.toStringTag);
  const taBuffer = getter(TypedArray.prototype, "buffer");
  const taOffset = getter(TypedArray.prototype, "byteOffset");
  const taLength = getter(TypedArray.prototype, "byteLength");
  const dvBuffer = getter(DataView.prototype, "buffer");
  const dvOffset = getter(DataView.prototype, "byteOffset");
  const dvLength = getter(DataView.prototype, "byteLength");
  const abLength = getter(ArrayBuffer.prototype, "byteLength");
  const sabLength = typeof SharedArrayBuffer === "function" ? getter(SharedArrayBuffer.prototype, "byteLength") : null;
  const tryCall = (fn, v) => {
    try {
      return fn.call(v);
    } catch {
      return undefined;
    }
  };
  const bufferSource = (x) => {
    if (x === null || typeof x !== "object") return null;
    if (ArrayBuffer.isView(x)) {
      if (taTag.call(x) !== undefined) return [taBuffer.call(x), taOffset.call(x), taLength.call(x)];
      return [dvBuffer.call(x), dvOffset.call(x), dvLength.call(x)];
    }
    let n = tryCall(abLength, x);
    if (n === undefined && sabLength) n = tryCall(sabLength, x);
    return n === undefined ? null : [x, 0, n];
  };
  N.bufferSource = bufferSource;
  N.typedArrayName = (x) => (x !== null && typeof x === "object" ? taTag.call(x) : undefined);

  const empty = new ArrayBuffer(0);

  // ---- TextEncoder ----

  const encoders = new WeakSet();
  class TextEncoder {
    constructor() {
      encoders.add(this);
    }
    get encoding() {
      if (!encoders.has(this)) throw new TypeError("Failed to execute 'encoding' on 'TextEncoder': Illegal invocation");
      return "utf-8";
    }
    encode(input = "") {
      if (!encoders.has(this)) throw new TypeError("Failed to execute 'encode' on 'TextEncoder': Illegal invocation");
      return new Uint8Array(N.utf8Encode(`${input}`));
    }
    encodeInto(source, destination) {
      if (!encoders.has(this)) throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': Illegal invocation");
      if (arguments.length < 2)
        throw new TypeError(`Failed to execute 'encodeInto' on 'TextEncoder': 2 arguments required, but only ${arguments.length} present.`);
      source = `${source}`;
      if (N.typedArrayName(destination) !== "Uint8Array")
        throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
      const [buf, off, len] = bufferSource(destination);
      if (len === 0) return { read: 0, written: 0 };
      const [read, written] = N.utf8EncodeInto(source, buf, off, len);
      return { read, written };
    }
  }
  tag(TextEncoder, "TextEncoder");
  defineGlobal("TextEncoder", TextEncoder);

  // ---- TextDecoder ----

  const utf8Labels = new Set(["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"]);
  const decoders = new WeakMap();
  const decoderState = (d, member) => {
    const s = decoders.get(d);
    if (!s) throw new TypeError(`Failed to execute '${member}' on 'TextDecoder': Illegal invocation`);
    return s;
  };

  class TextDecoder {
    constructor(label = "utf-8", options = undefined) {
      const name = `${label}`.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "").toLowerCase();
      if (!utf8Labels.has(name)) throw new RangeError(`The "${label}" encoding is not supported`);
      if (options !== undefined && options !== null && typeof options !== "object")
        throw new TypeError("Failed to construct 'TextDecoder': The provided value is not of type 'TextDecoderOptions'.");
      const state = new ArrayBuffer(8);   // the C decoder's partial sequence (encoding.c)
      decoders.set(this, {
        fatal: !!options?.fatal,
        ignoreBOM: !!options?.ignoreBOM,
        bomSeen: false,
        doNotFlush: false,
        state,
        stateBytes: new Uint8Array(state),
      });
    }
    get encoding() { decoderState(this, "encoding"); return "utf-8"; }
    get fatal() { return decoderState(this, "fatal").fatal; }
    get ignoreBOM() { return decoderState(this, "ignoreBOM").ignoreBOM; }
    decode(input = undefined, options = undefined) {
      const s = decoderState(this, "decode");
      if (options !== undefined && options !== null && typeof options !== "object")
        throw new TypeError("Failed to execute 'decode' on 'TextDecoder': The provided value is not of type 'TextDecodeOptions'.");
      const stream = !!options?.stream;
      let src = [empty, 0, 0];
      if (input !== undefined) {
        src = bufferSource(input);
        if (src === null)
          throw new TypeError("Failed to execute 'decode' on 'TextDecoder': The provided value is not of type '(ArrayBuffer or ArrayBufferView)'.");
        if (src[2] === 0) src = [empty, 0, 0];   // also covers a detached buffer
      }
      if (!s.doNotFlush) {
        s.stateBytes.fill(0);
        s.bomSeen = false;
      }
      s.doNotFlush = stream;
      let out = N.utf8Decode(src[0], src[1], src[2], s.fatal, stream, s.state);
      if (!s.ignoreBOM && !s.bomSeen && out.length > 0) {
        if (out.charCodeAt(0) === 0xfeff) out = out.slice(1);
        s.bomSeen = true;
      }
      return out;
    }
  }
  tag(TextDecoder, "TextDecoder");
  defineGlobal("TextDecoder", TextDecoder);
})();
