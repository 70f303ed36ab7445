// node:buffer (nodejs_compat; docs/nodejs.md): Buffer, a Uint8Array subclass with
// Node's common API, and the global `Buffer` when the flag is on (60_node.js).
(() => {
  "use strict";
  const N = globalThis.__durable;
  const utf8Enc = new TextEncoder();
  const utf8Dec = new TextDecoder();
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64_REV = new Int16Array(256).fill(-1);
  for (let i = 0; i < 64; i++) B64_REV[B64.charCodeAt(i)] = i;
  B64_REV[45] = 62; // '-' (base64url)
  B64_REV[95] = 63; // '_'

  const normEnc = (enc) => {
    if (enc === undefined || enc === null) return "utf8";
    const e = String(enc).toLowerCase();
    switch (e) {
      case "utf8": case "utf-8": return "utf8";
      case "hex": return "hex";
      case "base64": return "base64";
      case "base64url": return "base64url";
      case "latin1": case "binary": return "latin1";
      case "ascii": return "ascii";
      case "ucs2": case "ucs-2": case "utf16le": case "utf-16le": return "utf16le";
      default: return undefined;
    }
  };
  const needEnc = (enc) => {
    const e = normEnc(enc);
    if (!e) {
      const err = new TypeError(`Unknown encoding: ${enc}`);
      err.code = "ERR_UNKNOWN_ENCODING";
      throw err;
    }
    return e;
  };

  function encode(str, enc) {
    switch (enc) {
      case "utf8": return utf8Enc.encode(str);
      case "hex": {
        const n = str.length >>> 1, out = new Uint8Array(n);
        let i = 0;
        for (; i < n; i++) {
          const v = parseInt(str.substr(i * 2, 2), 16);
          if (Number.isNaN(v) || !/^[0-9a-fA-F]{2}$/.test(str.substr(i * 2, 2))) break;
          out[i] = v;
        }
        return i === n ? out : out.subarray(0, i);
      }
      case "base64": case "base64url": {
        const out = new Uint8Array(Math.ceil(str.length * 3 / 4));
        let acc = 0, bits = 0, j = 0;
        for (let i = 0; i < str.length; i++) {
          const c = str.charCodeAt(i);
          if (c === 61) break; // '='
          const v = c < 256 ? B64_REV[c] : -1;
          if (v < 0) continue; // whitespace and junk are skipped, as Node does
          acc = (acc << 6) | v;
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            out[j++] = (acc >> bits) & 0xff;
          }
        }
        return out.subarray(0, j);
      }
      case "latin1": case "ascii": {
        const out = new Uint8Array(str.length);
        for (let i = 0; i < str.length; i++) out[i] = str.charCodeAt(i) & 0xff;
        return out;
      }
      case "utf16le": {
        const out = new Uint8Array(str.length * 2);
        for (let i = 0; i < str.length; i++) {
          const c = str.charCodeAt(i);
          out[i * 2] = c & 0xff;
          out[i * 2 + 1] = c >> 8;
        }
        return out;
      }
    }
  }

  function decode(u8, enc) {
    switch (enc) {
      case "utf8": return utf8Dec.decode(u8);
      case "hex": {
        let s = "";
        for (let i = 0; i < u8.length; i++) s += (u8[i] < 16 ? "0" : "") + u8[i].toString(16);
        return s;
      }
      case "base64": case "base64url": {
        const A = enc === "base64" ? B64 : B64.slice(0, 62) + "-_";
        let s = "", i = 0;
        for (; i + 2 < u8.length; i += 3) {
          const v = (u8[i] << 16) | (u8[i + 1] << 8) | u8[i + 2];
          s += A[v >> 18] + A[(v >> 12) & 63] + A[(v >> 6) & 63] + A[v & 63];
        }
        const pad = enc === "base64" ? "=" : "";
        if (u8.length - i === 1) {
          const v = u8[i] << 16;
          s += A[v >> 18] + A[(v >> 12) & 63] + pad + pad;
        } else if (u8.length - i === 2) {
          const v = (u8[i] << 16) | (u8[i + 1] << 8);
          s += A[v >> 18] + A[(v >> 12) & 63] + A[(v >> 6) & 63] + pad;
        }
        return s;
      }
      case "latin1": case "ascii": {
        let s = "";
        const mask = enc === "ascii" ? 0x7f : 0xff;
        for (let i = 0; i < u8.length; i += 4096)
          s += String.fromCharCode.apply(null, Array.from(u8.subarray(i, i + 4096), (b) => b & mask));
        return s;
      }
      case "utf16le": {
        let s = "";
        for (let i = 0; i + 1 < u8.length; i += 2) s += String.fromCharCode(u8[i] | (u8[i + 1] << 8));
        return s;
      }
    }
  }

  const kMaxLength = 2 ** 31 - 1;
  const checkSize = (n) => {
    if (typeof n !== "number" || !(n >= 0) || n > kMaxLength)
      throw new RangeError(`The argument 'size' is invalid. Received ${n}`);
  };

  class Buffer extends Uint8Array {
    // new Buffer(n | string | array) is deprecated in Node but still works; the
    // (ArrayBuffer, offset, length) form is what subarray/slice use (species).
    constructor(a, b, c) {
      if (typeof a === "number") super(a);
      else if (typeof a === "string") { const u = encode(a, needEnc(b)); super(u.length); this.set(u); }
      else if (a instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && a instanceof SharedArrayBuffer)) super(a, b ?? 0, c ?? (a.byteLength - (b ?? 0)));
      else super(a);
    }
    static from(v, encOrOffset, length) {
      if (typeof v === "string") {
        const u = encode(v, needEnc(encOrOffset));
        return new Buffer(u.buffer, u.byteOffset, u.length);
      }
      if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer)) {
        const off = encOrOffset === undefined ? 0 : Number(encOrOffset);
        if (off > v.byteLength) throw new RangeError('"offset" is outside of buffer bounds');
        const len = length === undefined ? v.byteLength - off : Number(length);
        if (off + len > v.byteLength) throw new RangeError('"length" is outside of buffer bounds');
        return new Buffer(v, off, len);
      }
      if (ArrayBuffer.isView(v)) {
        const u = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        const out = new Buffer(u.length);
        out.set(u);
        return out;
      }
      if (v && typeof v === "object") {
        if (v.type === "Buffer" && Array.isArray(v.data)) return Buffer.from(v.data);
        if (typeof v.valueOf === "function") {
          const p = v.valueOf();
          if (p !== v && p != null && (typeof p === "string" || typeof p === "object")) return Buffer.from(p, encOrOffset, length);
        }
        if (typeof v[Symbol.toPrimitive] === "function") return Buffer.from(v[Symbol.toPrimitive]("string"), encOrOffset);
        if (typeof v.length === "number" || Array.isArray(v)) {
          const out = new Buffer(v.length >>> 0);
          for (let i = 0; i < out.length; i++) out[i] = v[i];
          return out;
        }
      }
      throw new TypeError("The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received " + (v === null ? "null" : typeof v));
    }
    static alloc(size, fill, enc) {
      checkSize(size);
      const b = new Buffer(size);
      if (fill !== undefined && fill !== 0) b.fill(fill, 0, size, enc);
      return b;
    }
    static allocUnsafe(size) { checkSize(size); return new Buffer(size); }
    static allocUnsafeSlow(size) { checkSize(size); return new Buffer(size); }
    static isBuffer(b) { return b instanceof Buffer; }
    static isEncoding(e) { return typeof e === "string" && normEnc(e) !== undefined; }
    static byteLength(s, enc) {
      if (typeof s !== "string") {
        if (ArrayBuffer.isView(s) || s instanceof ArrayBuffer) return s.byteLength;
        throw new TypeError('The "string" argument must be of type string or an instance of Buffer or ArrayBuffer');
      }
      return encode(s, normEnc(enc) || "utf8").length;
    }
    static concat(list, total) {
      if (!Array.isArray(list)) throw new TypeError('The "list" argument must be an instance of Array');
      if (total === undefined) total = list.reduce((n, b) => n + b.length, 0);
      const out = Buffer.alloc(total);
      let off = 0;
      for (const b of list) {
        if (!(b instanceof Uint8Array)) throw new TypeError('The "list" argument must contain only Buffer or Uint8Array instances');
        if (off >= total) break;
        const part = b.length > total - off ? b.subarray(0, total - off) : b;
        out.set(part, off);
        off += part.length;
      }
      return out;
    }
    static compare(a, b) {
      if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) throw new TypeError('The "buf1" and "buf2" arguments must be Buffer or Uint8Array instances');
      const n = Math.min(a.length, b.length);
      for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
    }

    get parent() { return this.buffer; }
    get offset() { return this.byteOffset; }
    toString(enc, start, end) {
      start = start === undefined ? 0 : Math.max(0, start | 0);
      end = end === undefined ? this.length : Math.min(this.length, end | 0);
      if (end <= start) return "";
      return decode(Uint8Array.prototype.subarray.call(this, start, end), needEnc(enc));
    }
    toLocaleString(enc, s, e) { return this.toString(enc, s, e); }
    toJSON() { return { type: "Buffer", data: Array.from(this) }; }
    equals(o) {
      if (!(o instanceof Uint8Array)) throw new TypeError('The "otherBuffer" argument must be an instance of Buffer or Uint8Array');
      return Buffer.compare(this, o) === 0;
    }
    compare(target, tStart = 0, tEnd = target.length, sStart = 0, sEnd = this.length) {
      return Buffer.compare(Uint8Array.prototype.subarray.call(this, sStart, sEnd), Uint8Array.prototype.subarray.call(target, tStart, tEnd));
    }
    copy(target, tStart = 0, sStart = 0, sEnd = this.length) {
      const src = Uint8Array.prototype.subarray.call(this, sStart, Math.min(sEnd, sStart + target.length - tStart));
      target.set(src, tStart);
      return src.length;
    }
    slice(start, end) { return this.subarray(start, end); }
    write(str, offset, length, enc) {
      if (typeof offset === "string") { enc = offset; offset = 0; length = undefined; }
      else if (typeof length === "string") { enc = length; length = undefined; }
      offset = offset === undefined ? 0 : offset >>> 0;
      const max = this.length - offset;
      length = length === undefined ? max : Math.min(max, length >>> 0);
      let u = encode(String(str), needEnc(enc));
      if (u.length > length) {
        u = u.subarray(0, length);
        // never write half of a UTF-8 sequence
        if (normEnc(enc) === "utf8") {
          let n = u.length;
          while (n > 0 && (u[n - 1] & 0xc0) === 0x80) n--;
          if (n > 0 && u[n - 1] >= 0xc0) {
            const lead = u[n - 1], need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
            if (u.length - (n - 1) < need) u = u.subarray(0, n - 1);
          }
        }
      }
      this.set(u, offset);
      return u.length;
    }
    fill(v, start = 0, end = this.length, enc) {
      if (typeof start === "string") { enc = start; start = 0; end = this.length; }
      else if (typeof end === "string") { enc = end; end = this.length; }
      if (typeof v === "number") return Uint8Array.prototype.fill.call(this, v & 255, start, end), this;
      const u = typeof v === "string" ? encode(v, needEnc(enc)) : v instanceof Uint8Array ? v : Buffer.from(v);
      if (u.length === 0) return Uint8Array.prototype.fill.call(this, 0, start, end), this;
      for (let i = start, j = 0; i < end; i++, j = (j + 1) % u.length) this[i] = u[j];
      return this;
    }
    indexOf(v, from = 0, enc) { return bufIndexOf(this, v, from, enc, false); }
    lastIndexOf(v, from, enc) { return bufIndexOf(this, v, from, enc, true); }
    includes(v, from, enc) { return this.indexOf(v, from, enc) !== -1; }
    swap16() { for (let i = 0; i + 1 < this.length; i += 2) { const t = this[i]; this[i] = this[i + 1]; this[i + 1] = t; } return this; }
    swap32() { for (let i = 0; i + 3 < this.length; i += 4) this.subarray(i, i + 4).reverse(); return this; }
    swap64() { for (let i = 0; i + 7 < this.length; i += 8) this.subarray(i, i + 8).reverse(); return this; }
    readUIntBE(off, n) { let v = 0; for (let i = 0; i < n; i++) v = v * 256 + at(this, off + i, 1); return v; }
    readUIntLE(off, n) { let v = 0; for (let i = n - 1; i >= 0; i--) v = v * 256 + at(this, off + i, 1); return v; }
    readIntBE(off, n) { const v = this.readUIntBE(off, n); return v >= 2 ** (8 * n - 1) ? v - 2 ** (8 * n) : v; }
    readIntLE(off, n) { const v = this.readUIntLE(off, n); return v >= 2 ** (8 * n - 1) ? v - 2 ** (8 * n) : v; }
    writeUIntBE(v, off, n) { off >>>= 0; for (let i = n - 1; i >= 0; i--) { this[off + i] = v & 255; v = Math.floor(v / 256); } return off + n; }
    writeUIntLE(v, off, n) { off >>>= 0; for (let i = 0; i < n; i++) { this[off + i] = v & 255; v = Math.floor(v / 256); } return off + n; }
    writeIntBE(v, off, n) { return this.writeUIntBE(v < 0 ? v + 2 ** (8 * n) : v, off, n); }
    writeIntLE(v, off, n) { return this.writeUIntLE(v < 0 ? v + 2 ** (8 * n) : v, off, n); }
  }
  const at = (b, i, n) => {
    if (!(i >= 0) || i + n > b.length || i !== Math.floor(i)) {
      const e = new RangeError(`The value of "offset" is out of range. It must be >= 0 and <= ${b.length - n}. Received ${i}`);
      e.code = "ERR_OUT_OF_RANGE";
      throw e;
    }
    return b[i];
  };

  // readUInt8/readInt16LE/… and their writers on a DataView of the buffer.
  const dv = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const kinds = [
    ["UInt8", "Uint8", 1], ["Int8", "Int8", 1], ["UInt16", "Uint16", 2], ["Int16", "Int16", 2],
    ["UInt32", "Uint32", 4], ["Int32", "Int32", 4], ["Float", "Float32", 4], ["Double", "Float64", 8],
    ["BigUInt64", "BigUint64", 8], ["BigInt64", "BigInt64", 8],
  ];
  const P = Buffer.prototype;
  for (const [name, view, size] of kinds) {
    const ends = size === 1 ? [""] : ["LE", "BE"];
    for (const end of ends) {
      const le = end === "LE";
      P["read" + name + end] = function (off = 0) {
        at(this, off, size);
        return dv(this)["get" + view](off, le);
      };
      P["write" + name + end] = function (v, off = 0) {
        at(this, off, size);
        dv(this)["set" + view](off, v, le);
        return off + size;
      };
      if (name.startsWith("UInt") || name === "BigUInt64") {
        const alias = name.replace("UInt", "Uint");
        P["read" + alias + end] = P["read" + name + end];
        P["write" + alias + end] = P["write" + name + end];
      }
    }
  }
  for (const k of ["readUIntBE", "readUIntLE", "writeUIntBE", "writeUIntLE"])
    P[k.replace("UInt", "Uint")] = P[k];

  function bufIndexOf(buf, v, from, enc, last) {
    if (typeof from === "string") { enc = from; from = undefined; }
    let needle;
    if (typeof v === "number") needle = Uint8Array.of(v & 255);
    else if (typeof v === "string") needle = encode(v, needEnc(enc));
    else if (v instanceof Uint8Array) needle = v;
    else throw new TypeError('The "value" argument must be one of type number or string or an instance of Buffer or Uint8Array');
    const n = buf.length, m = needle.length;
    if (from === undefined) from = last ? n - m : 0;
    from = from | 0;
    if (from < 0) from = Math.max(0, n + from);
    if (m === 0) return Math.min(from, n);
    const match = (i) => { for (let j = 0; j < m; j++) if (buf[i + j] !== needle[j]) return false; return true; };
    if (last) {
      for (let i = Math.min(from, n - m); i >= 0; i--) if (match(i)) return i;
    } else {
      for (let i = from; i <= n - m; i++) if (match(i)) return i;
    }
    return -1;
  }

  Object.defineProperty(Buffer, "poolSize", { value: 8192, writable: true });
  const atobF = globalThis.atob, btoaF = globalThis.btoa;
  N.nodeModules.buffer = () => ({
    Buffer,
    SlowBuffer: Buffer,
    kMaxLength,
    kStringMaxLength: 2 ** 29 - 24,
    constants: { MAX_LENGTH: kMaxLength, MAX_STRING_LENGTH: 2 ** 29 - 24 },
    INSPECT_MAX_BYTES: 50,
    atob: atobF,
    btoa: btoaF,
    Blob: globalThis.Blob,
    File: globalThis.File,
    isUtf8: (u) => { try { new TextDecoder("utf-8", { fatal: true }).decode(u); return true; } catch { return false; } },
    isAscii: (u) => new Uint8Array(u.buffer ?? u, u.byteOffset ?? 0, u.byteLength).every((b) => b < 128),
    transcode: (src, from, to) => Buffer.from(decode(src, needEnc(from)), needEnc(to)),
  });
})();
