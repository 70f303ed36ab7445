// The structured-clone serializer: how values cross between shards (RPC arguments
// and results, stub.fetch requests and responses) and back `structuredClone`.
// The C side (js/clone.c) calls N.cloneWrite / N.cloneRead.
//
// Format (version 1), stable because storage will keep it on disk (SER-6):
//   byte 0: version (1); then one value:
//   "_" undefined  "0" null  "T" true  "F" false
//   "I" int32 (zigzag varint)  "N" float64 (8 bytes LE)  "Z" BigInt (string: sign + hex)
//   "s" string latin-1 (varint length, bytes)  "u" string UTF-16 (varint units, 2 bytes LE each)
//   objects, each numbered in order of first appearance for back-references:
//   "r" back-reference (varint index)
//   "O" plain object (varint n, then n × key string, value)
//   "A" array (varint length, varint n present, then n × varint index, value; then
//       varint m extra properties, m × key, value)
//   "M" Map (varint n, n × key, value)     "E" Set (varint n, n × value)
//   "D" Date (float64)                     "R" RegExp (source string, flags string)
//   "B" ArrayBuffer (varint length, bytes)
//   "V" view (kind byte, ArrayBuffer value, varint byteOffset, varint length)
//   "X" Error (name string, message string, stack string or "_")
//   "b" boxed primitive (the primitive value)
// Strings inside the structure are written without their tag byte ("s"/"u" kept).
// spec: storage.md SER-1..5, objects.md RPC-8, RPC-10, workers.md WEB-12
(() => {
  "use strict";
  const N = globalThis.__durable;
  const VERSION = 1;
  const DEPTH_MAX = 5000;
  const FLAG_REJECT_CLASS_INSTANCES = 1;

  const cloneError = (what) => {
    const msg = `${what} could not be cloned.`;
    if (typeof DOMException === "function") return new DOMException(msg, "DataCloneError");
    const e = new Error(msg);
    e.name = "DataCloneError";
    return e;
  };
  const describe = (v) => {
    if (typeof v === "function") return `${Function.prototype.toString.call(v).slice(0, 60)}`;
    if (typeof v === "symbol") return v.toString();
    const c = Object.getPrototypeOf(v)?.constructor?.name;
    return `#<${c || "Object"}>`;
  };
  const toStr = Object.prototype.toString;
  const getTag = (v) => toStr.call(v).slice(8, -1);
  // Objects of the platform that hold state outside JS (or are bound to one
  // request, object or connection): never cloned, even as plain objects.
  const HOST_TAGS = new Set(["Request", "Response", "Headers", "ReadableStream", "WritableStream",
    "TransformStream", "DurableObjectId", "DurableObjectStub", "DurableObjectNamespace",
    "DurableObjectState", "DurableObjectStorage", "DurableObjectTransaction", "SqlStorage",
    "SqlStorageCursor", "WebSocket", "AbortSignal", "AbortController", "EventTarget", "CryptoKey",
    "TextEncoder", "TextDecoder", "ExecutionContext"]);
  const TypedArray = Object.getPrototypeOf(Uint8Array);
  const VIEW_KINDS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
    Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView];
  const ERROR_NAMES = new Set(["Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError", "URIError"]);
  const abByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength").get;
  const isArrayBuffer = (v) => { try { abByteLength.call(v); return true; } catch { return false; } };
  const taBuffer = Object.getOwnPropertyDescriptor(TypedArray.prototype, "buffer").get;
  const dvBuffer = Object.getOwnPropertyDescriptor(DataView.prototype, "buffer").get;
  const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, "size").get;
  const setSize = Object.getOwnPropertyDescriptor(Set.prototype, "size").get;
  const isMap = (v) => { try { mapSize.call(v); return true; } catch { return false; } };
  const isSet = (v) => { try { setSize.call(v); return true; } catch { return false; } };
  const isTypedArray = (v) => { try { taBuffer.call(v); return true; } catch { return false; } };
  const isDataView = (v) => { try { dvBuffer.call(v); return true; } catch { return false; } };
  const dateValue = Date.prototype.getTime;
  const isDate = (v) => { try { dateValue.call(v); return true; } catch { return false; } };
  const reSource = Object.getOwnPropertyDescriptor(RegExp.prototype, "source").get;
  const isRegExp = (v) => { try { reSource.call(v); return v instanceof RegExp || getTag(v) === "RegExp"; } catch { return false; } };

  class Writer {
    constructor(max) {
      this.buf = new Uint8Array(256);
      this.dv = new DataView(this.buf.buffer);
      this.len = 0;
      this.max = max;
      this.ids = new Map();
      this.depth = 0;
    }
    grow(n) {
      const need = this.len + n;
      if (need > this.max) throw new RangeError(`value too large: serialized it would be more than ${this.max} bytes`);
      if (need <= this.buf.length) return;
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const nb = new Uint8Array(cap);
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
      this.dv = new DataView(nb.buffer);
    }
    byte(b) { this.grow(1); this.buf[this.len++] = b; }
    tag(c) { this.byte(c.charCodeAt(0)); }
    varint(n) {
      this.grow(10);
      while (n >= 0x80) { this.buf[this.len++] = (n % 0x80) | 0x80; n = Math.floor(n / 0x80); }
      this.buf[this.len++] = n;
    }
    f64(x) { this.grow(8); this.dv.setFloat64(this.len, x, true); this.len += 8; }
    bytes(u8) { this.grow(u8.length); this.buf.set(u8, this.len); this.len += u8.length; }
    str(s) {
      let wide = false;
      for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) { wide = true; break; }
      if (!wide) {
        this.tag("s"); this.varint(s.length); this.grow(s.length);
        for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
      } else {
        this.tag("u"); this.varint(s.length); this.grow(s.length * 2);
        for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); this.buf[this.len++] = c & 0xff; this.buf[this.len++] = c >> 8; }
      }
    }
  }

  const write = (w, v, flags) => {
    switch (typeof v) {
      case "undefined": return w.tag("_");
      case "boolean": return w.tag(v ? "T" : "F");
      case "number":
        if ((v | 0) === v && !Object.is(v, -0)) { w.tag("I"); return w.varint(v >= 0 ? v * 2 : -v * 2 - 1); }
        w.tag("N"); return w.f64(v);
      case "string": return w.str(v);
      case "bigint": w.tag("Z"); return w.str(v < 0n ? "-" + (-v).toString(16) : v.toString(16));
      case "symbol": case "function": throw cloneError(describe(v));
    }
    if (v === null) return w.tag("0");
    const seen = w.ids.get(v);
    if (seen !== undefined) { w.tag("r"); return w.varint(seen); }
    if (++w.depth > DEPTH_MAX) throw new RangeError(`value too deeply nested to clone (more than ${DEPTH_MAX} levels)`);
    w.ids.set(v, w.ids.size);
    writeObject(w, v, flags);
    w.depth--;
  };

  const writeProps = (w, v, keys, flags) => {
    w.varint(keys.length);
    for (const k of keys) { w.str(k); write(w, v[k], flags); }
  };

  const writeObject = (w, v, flags) => {
    if (Array.isArray(v)) {
      const len = v.length;
      const idx = [], extra = [];
      for (const k of Object.keys(v)) {
        const n = Number(k);
        if (k !== "" && String(n >>> 0) === k && n < 4294967295) idx.push(n); else extra.push(k);
      }
      w.tag("A"); w.varint(len); w.varint(idx.length);
      for (const i of idx) { w.varint(i); write(w, v[i], flags); }
      return writeProps(w, v, extra, flags);
    }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) { w.tag("O"); return writeProps(w, v, Object.keys(v), flags); }
    if (isDate(v)) { w.tag("D"); return w.f64(dateValue.call(v)); }
    if (isRegExp(v)) { w.tag("R"); w.str(reSource.call(v)); return w.str(v.flags); }
    if (isMap(v)) {
      w.tag("M"); w.varint(mapSize.call(v));
      for (const [k, x] of Map.prototype.entries.call(v)) { write(w, k, flags); write(w, x, flags); }
      return;
    }
    if (isSet(v)) {
      w.tag("E"); w.varint(setSize.call(v));
      for (const x of Set.prototype.values.call(v)) write(w, x, flags);
      return;
    }
    if (isArrayBuffer(v)) { w.tag("B"); const u = new Uint8Array(v); w.varint(u.length); return w.bytes(u); }
    if (isTypedArray(v) || isDataView(v)) {
      const kind = VIEW_KINDS.findIndex((C) => v instanceof C);
      if (kind < 0) throw cloneError(describe(v));
      w.tag("V"); w.byte(kind); write(w, v.buffer, flags); w.varint(v.byteOffset);
      return w.varint(kind === 11 ? v.byteLength : v.length);
    }
    if (v instanceof Error) {
      let name = v.name;
      if (!ERROR_NAMES.has(name)) name = Object.getPrototypeOf(v) && ERROR_NAMES.has(Object.getPrototypeOf(v).name) ? Object.getPrototypeOf(v).name : "Error";
      w.tag("X"); w.str(name); w.str(String(v.message));
      if (typeof v.stack === "string") w.str(v.stack); else w.tag("_");
      return;
    }
    if (v instanceof Number || v instanceof String || v instanceof Boolean || (typeof BigInt === "function" && v instanceof BigInt)) {
      w.tag("b"); return write(w, v.valueOf(), flags);
    }
    const tag = getTag(v);
    if (v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet || tag === "WeakRef" || typeof v.then === "function" && tag === "Promise")
      throw cloneError(describe(v));
    if (HOST_TAGS.has(tag)) throw cloneError(describe(v));   // SER-3: host objects
    if (flags & FLAG_REJECT_CLASS_INSTANCES) throw cloneError(describe(v));
    // Storage and structuredClone: a class instance becomes a plain object (SER-2).
    w.tag("O");
    return writeProps(w, v, Object.keys(v), flags);
  };

  class Reader {
    constructor(u8) { this.u8 = u8; this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength); this.pos = 0; this.objs = []; this.depth = 0; }
    fail() { throw new Error(`structured clone: malformed data at byte ${this.pos}`); }
    byte() { if (this.pos >= this.u8.length) this.fail(); return this.u8[this.pos++]; }
    varint() {
      let n = 0, mul = 1;
      for (let i = 0; i < 8; i++) {
        const b = this.byte();
        n += (b & 0x7f) * mul;
        if (b < 0x80) return n;
        mul *= 0x80;
      }
      this.fail();
    }
    f64() { if (this.pos + 8 > this.u8.length) this.fail(); const x = this.dv.getFloat64(this.pos, true); this.pos += 8; return x; }
    str() {
      const t = this.byte();
      const n = this.varint();
      if (t === 0x73) {   // "s"
        if (this.pos + n > this.u8.length) this.fail();
        let s = "";
        for (let i = 0; i < n; i += 8192) s += String.fromCharCode.apply(null, this.u8.subarray(this.pos + i, this.pos + Math.min(n, i + 8192)));
        this.pos += n;
        return s;
      }
      if (t === 0x75) {   // "u"
        if (this.pos + 2 * n > this.u8.length) this.fail();
        const units = new Array(n);
        for (let i = 0; i < n; i++) units[i] = this.u8[this.pos + 2 * i] | (this.u8[this.pos + 2 * i + 1] << 8);
        this.pos += 2 * n;
        let s = "";
        for (let i = 0; i < n; i += 8192) s += String.fromCharCode.apply(null, units.slice(i, i + 8192));
        return s;
      }
      this.pos--;
      this.fail();
    }
  }

  const read = (r) => {
    const t = String.fromCharCode(r.byte());
    switch (t) {
      case "_": return undefined;
      case "0": return null;
      case "T": return true;
      case "F": return false;
      case "I": { const z = r.varint(); return z % 2 ? -(z + 1) / 2 : z / 2; }
      case "N": return r.f64();
      case "s": case "u": r.pos--; return r.str();
      case "Z": { const s = r.str(); if (!/^-?[0-9a-f]+$/.test(s)) r.fail(); return s[0] === "-" ? -BigInt("0x" + s.slice(1)) : BigInt("0x" + s); }
      case "r": { const i = r.varint(); if (i >= r.objs.length) r.fail(); return r.objs[i]; }
    }
    if (++r.depth > DEPTH_MAX) r.fail();
    const v = readObject(r, t);
    r.depth--;
    return v;
  };

  const readProps = (r, o) => {
    const n = r.varint();
    for (let i = 0; i < n; i++) {
      const k = r.str();
      const v = read(r);
      Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
    }
    return o;
  };

  const readObject = (r, t) => {
    const slot = r.objs.length;
    switch (t) {
      case "O": { const o = {}; r.objs.push(o); return readProps(r, o); }
      case "A": {
        const len = r.varint();
        if (len > 4294967295) r.fail();
        const a = new Array(len);
        r.objs.push(a);
        const n = r.varint();
        if (n > len) r.fail();
        for (let i = 0; i < n; i++) { const idx = r.varint(); if (idx >= len) r.fail(); a[idx] = read(r); }
        return readProps(r, a);
      }
      case "M": { const m = new Map(); r.objs.push(m); const n = r.varint(); for (let i = 0; i < n; i++) { const k = read(r); m.set(k, read(r)); } return m; }
      case "E": { const s = new Set(); r.objs.push(s); const n = r.varint(); for (let i = 0; i < n; i++) s.add(read(r)); return s; }
      case "D": { const d = new Date(r.f64()); r.objs.push(d); return d; }
      case "R": {
        r.objs.push(null);
        const src = r.str(), fl = r.str();
        let re;
        try { re = new RegExp(src, fl); } catch { r.fail(); }
        r.objs[slot] = re;
        return re;
      }
      case "B": {
        const n = r.varint();
        if (r.pos + n > r.u8.length) r.fail();
        const ab = r.u8.buffer.slice(r.u8.byteOffset + r.pos, r.u8.byteOffset + r.pos + n);
        r.pos += n;
        r.objs.push(ab);
        return ab;
      }
      case "V": {
        r.objs.push(null);
        const kind = r.byte();
        if (kind >= VIEW_KINDS.length) r.fail();
        const ab = read(r);
        if (!isArrayBuffer(ab)) r.fail();
        const off = r.varint(), len = r.varint();
        let v;
        try { v = new VIEW_KINDS[kind](ab, off, len); } catch { r.fail(); }
        r.objs[slot] = v;
        return v;
      }
      case "X": {
        r.objs.push(null);
        const name = r.str(), msg = r.str();
        const st = r.u8[r.pos] === 0x5f ? (r.pos++, undefined) : r.str();
        const C = ERROR_NAMES.has(name) ? globalThis[name] : Error;
        const e = new C(msg);
        if (st !== undefined) Object.defineProperty(e, "stack", { value: st, writable: true, configurable: true });
        r.objs[slot] = e;
        return e;
      }
      case "b": {
        r.objs.push(null);
        const p = read(r);
        if (p === null || (typeof p === "object")) r.fail();
        const o = Object(p);
        r.objs[slot] = o;
        return o;
      }
    }
    r.pos--;
    r.fail();
  };

  // N.cloneWrite(value, flags, maxBytes) → Uint8Array (a view of the buffer).
  N.cloneWrite = (v, flags, max) => {
    const w = new Writer(max);
    w.byte(VERSION);
    write(w, v, flags);
    return w.buf.subarray(0, w.len);
  };
  // N.cloneRead(u8) → value
  N.cloneRead = (u8) => {
    const r = new Reader(u8);
    if (r.byte() !== VERSION) { r.pos = 0; throw new Error(`structured clone: unknown format version ${u8[0]}`); }
    const v = read(r);
    if (r.pos !== u8.length) r.fail();
    return v;
  };

  const structuredClone = function structuredClone(value, options) {
    if (arguments.length < 1)
      throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
    if (options !== undefined && options !== null) {
      if (typeof options !== "object") throw new TypeError("structuredClone: options must be an object");
      const t = options.transfer;
      if (t !== undefined && (t === null || typeof t[Symbol.iterator] !== "function"))
        throw new TypeError("structuredClone: options.transfer must be an iterable");
      if (t !== undefined && [...t].length > 0) throw cloneError("Transferring objects");
    }
    return N.cloneRead(N.cloneWrite(value, 0, 0x7fffffff));
  };
  Object.defineProperty(globalThis, "structuredClone", { value: structuredClone, writable: true, configurable: true, enumerable: false });
})();
