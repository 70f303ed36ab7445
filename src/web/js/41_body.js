// Bodies: Blob, FormData, and the body mixin shared by Request and Response
// (spec WEB-1, WEB-2, WEB-17; streams are 35_streams.js). A body is kept as its
// source (string, bytes, Blob, FormData, URLSearchParams or stream) and converted
// only when read, so the common cases never build a stream.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const enc = (s) => N.bodyUtf8Encode(s);
  const dec = (u8) => N.bodyUtf8Decode(u8);


  const toBytes = (chunk) => {
    if (typeof chunk === "string") return enc(chunk);
    if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
    if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    throw new TypeError("This ReadableStream did not return bytes.");
  };
  const concat = (parts) => {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  };
  const readAll = async (stream) => {
    const parts = [];
    const r = stream.getReader();
    for (;;) {
      const { value, done } = await r.read();
      if (done) break;
      parts.push(toBytes(value));
    }
    return concat(parts);
  };

  // ---- Blob, File, FormData ----
  const kBytes = Symbol("bytes");
  class Blob {
    constructor(parts = [], options = {}) {
      const chunks = [];
      for (const p of parts) chunks.push(p instanceof Blob ? p[kBytes] : toBytes(p));
      this[kBytes] = concat(chunks);
      this.type = options.type ? String(options.type).toLowerCase() : "";
    }
    get size() { return this[kBytes].length; }
    text() { return Promise.resolve(dec(this[kBytes])); }
    arrayBuffer() { return Promise.resolve(this[kBytes].slice().buffer); }
    bytes() { return Promise.resolve(this[kBytes].slice()); }
    slice(start = 0, end = this.size, type = "") {
      const b = new Blob([], { type });
      b[kBytes] = this[kBytes].slice(start, end);
      return b;
    }
    stream() { const u = this[kBytes]; return new ReadableStream({ start(c) { c.enqueue(u.slice()); c.close(); } }); }
    get [Symbol.toStringTag]() { return "Blob"; }
  }
  class File extends Blob {
    constructor(parts, name, options = {}) {
      super(parts, options);
      this.name = String(name);
      this.lastModified = options.lastModified ?? Date.now();
    }
    get [Symbol.toStringTag]() { return "File"; }
  }
  class FormData {
    #list = [];
    append(name, value, filename) { this.#list.push([String(name), toEntry(value, filename)]); }
    set(name, value, filename) {
      name = String(name);
      const i = this.#list.findIndex((e) => e[0] === name);
      const v = toEntry(value, filename);
      if (i < 0) { this.#list.push([name, v]); return; }
      this.#list[i] = [name, v];
      this.#list = this.#list.filter((e, j) => j <= i || e[0] !== name);
    }
    get(name) { const e = this.#list.find((x) => x[0] === String(name)); return e ? e[1] : null; }
    getAll(name) { return this.#list.filter((x) => x[0] === String(name)).map((x) => x[1]); }
    has(name) { return this.#list.some((x) => x[0] === String(name)); }
    delete(name) { this.#list = this.#list.filter((x) => x[0] !== String(name)); }
    *entries() { yield* this.#list.map((e) => [e[0], e[1]]); }
    *keys() { for (const [k] of this.#list) yield k; }
    *values() { for (const [, v] of this.#list) yield v; }
    forEach(fn, t) { for (const [k, v] of this.#list) fn.call(t, v, k, this); }
    [Symbol.iterator]() { return this.entries(); }
    get [Symbol.toStringTag]() { return "FormData"; }
  }
  const toEntry = (value, filename) => {
    if (value instanceof Blob) return value instanceof File && filename === undefined ? value : new File([value], filename ?? "blob", { type: value.type });
    return String(value);
  };
  Object.assign(globalThis, { Blob, File, FormData });

  const multipartEncode = (fd) => {
    const boundary = "----durableformboundary" + Math.random().toString(16).slice(2);
    const parts = [];
    const esc = (s) => s.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
    for (const [k, v] of fd) {
      if (typeof v === "string") parts.push(enc(`--${boundary}\r\nContent-Disposition: form-data; name="${esc(k)}"\r\n\r\n${v}\r\n`));
      else {
        parts.push(enc(`--${boundary}\r\nContent-Disposition: form-data; name="${esc(k)}"; filename="${esc(v.name)}"\r\nContent-Type: ${v.type || "application/octet-stream"}\r\n\r\n`));
        parts.push(v[kBytes], enc("\r\n"));
      }
    }
    parts.push(enc(`--${boundary}--\r\n`));
    return [concat(parts), `multipart/form-data; boundary=${boundary}`];
  };
  const indexOf = (hay, needle, from) => {
    outer: for (let i = from; i <= hay.length - needle.length; i++) {
      for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  };
  const multipartParse = (bytes, contentType) => {
    const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
    if (!m) throw new TypeError("Failed to parse body as FormData: multipart/form-data without a boundary.");
    const delim = enc("--" + (m[1] || m[2]).trim());
    const fd = new FormData();
    let pos = indexOf(bytes, delim, 0);
    if (pos < 0) throw new TypeError("Failed to parse body as FormData.");
    for (;;) {
      pos += delim.length;
      if (bytes[pos] === 45 && bytes[pos + 1] === 45) break;   // "--": the end
      pos += 2;   // CRLF
      const headEnd = indexOf(bytes, enc("\r\n\r\n"), pos);
      if (headEnd < 0) throw new TypeError("Failed to parse body as FormData.");
      const head = dec(bytes.subarray(pos, headEnd));
      const next = indexOf(bytes, delim, headEnd + 4);
      if (next < 0) throw new TypeError("Failed to parse body as FormData.");
      const content = bytes.subarray(headEnd + 4, next - 2);
      const name = /name="([^"]*)"/i.exec(head)?.[1];
      const filename = /filename="([^"]*)"/i.exec(head)?.[1];
      const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1] ?? "";
      if (name === undefined) throw new TypeError("Failed to parse body as FormData: a part has no name.");
      if (filename !== undefined) fd.append(name, new File([content], filename, { type }));
      else fd.append(name, dec(content));
      pos = next;
    }
    return fd;
  };

  // ---- the body mixin ----
  const kBody = Symbol("body"), kUsed = Symbol("used"), kStream = Symbol("stream");
  // Normalises a BodyInit: returns [source, contentType|null].
  N.extractBody = (init) => {
    if (init === null || init === undefined) return [null, null];
    if (typeof init === "string") return [init, "text/plain;charset=UTF-8"];
    if (init instanceof ArrayBuffer) return [new Uint8Array(init.slice(0)), null];
    if (ArrayBuffer.isView(init)) return [new Uint8Array(init.buffer.slice(init.byteOffset, init.byteOffset + init.byteLength)), null];
    if (init instanceof URLSearchParams) return [init.toString(), "application/x-www-form-urlencoded;charset=UTF-8"];
    if (init instanceof Blob) return [init[kBytes], init.type || null];
    if (init instanceof FormData) return multipartEncode(init);
    if (init instanceof ReadableStream) return [init, null];
    return [String(init), "text/plain;charset=UTF-8"];
  };
  const used = () => new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
  const bytesOf = (self) => {
    if (self[kUsed]) return Promise.reject(used());
    const st = self[kStream] || (self[kBody] instanceof ReadableStream ? self[kBody] : null);
    if (st && (N.streamLocked(st) || N.streamDisturbed(st))) return Promise.reject(used());
    const b = self[kBody];
    self[kUsed] = b !== null;
    if (self[kStream]) return readAll(self[kStream]);
    if (b === null) return Promise.resolve(new Uint8Array(0));
    if (typeof b === "string") return Promise.resolve(enc(b));
    if (b instanceof ReadableStream) return readAll(b);
    return Promise.resolve(b);
  };
  const Body = {
    get body() {
      if (this[kStream]) return this[kStream];
      const b = this[kBody];
      if (b === null) return null;
      if (b instanceof ReadableStream) return (this[kStream] = b);
      const self = this;
      return (this[kStream] = new ReadableStream({ start(c) { c.enqueue(typeof b === "string" ? enc(b) : b.slice()); c.close(); } }));
    },
    get bodyUsed() { return this[kUsed] || (this[kStream] !== null && this[kStream] !== undefined && N.streamDisturbed(this[kStream])); },
    text() {
      if (!this[kUsed] && typeof this[kBody] === "string" && !this[kStream]) { this[kUsed] = true; return Promise.resolve(this[kBody]); }
      return bytesOf(this).then(dec);
    },
    json() { return this.text().then((t) => JSON.parse(t)); },
    arrayBuffer() { return bytesOf(this).then((u) => (u.byteOffset === 0 && u.byteLength === u.buffer.byteLength ? u.buffer : u.slice().buffer)); },
    bytes() { return bytesOf(this).then((u) => new Uint8Array(u)); },
    blob() { return bytesOf(this).then((u) => new Blob([u], { type: this.headers.get("content-type") ?? "" })); },
    formData() {
      const ct = this.headers.get("content-type") ?? "";
      return bytesOf(this).then((u) => {
        if (/^multipart\/form-data/i.test(ct)) return multipartParse(u, ct);
        if (/^application\/x-www-form-urlencoded/i.test(ct)) {
          const fd = new FormData();
          for (const [k, v] of new URLSearchParams(dec(u))) fd.append(k, v);
          return fd;
        }
        throw new TypeError(`Failed to parse body as FormData: content-type "${ct}" is neither multipart/form-data nor application/x-www-form-urlencoded.`);
      });
    },
  };
  N.bodyMixin = (C) => {
    for (const k of Object.getOwnPropertyNames(Body))
      Object.defineProperty(C.prototype, k, Object.getOwnPropertyDescriptor(Body, k));
  };
  N.bodyKeys = { kBody, kUsed, kStream };
  N.readAll = readAll;
  // For cloning: split a body in two.
  N.bodyTee = (self) => {
    if (self[kUsed]) throw used();
    const s = self[kStream] || (self[kBody] instanceof ReadableStream ? self[kBody] : null);
    if (!s) return self[kBody];
    const [a, b] = s.tee();
    self[kStream] = a;
    self[kBody] = a;
    return b;
  };
})();
