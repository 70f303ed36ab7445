// node:zlib (nodejs_compat; docs/nodejs.md) over web/node_zlib.c: deflate,
// inflate, gzip, gunzip, deflateRaw, inflateRaw, unzip and brotli, each as a
// …Sync function, a callback function (util.promisify works on it) and a
// Transform stream class (createGzip()…); crc32, constants, codes.
//
// Memory: a one-shot call fails with RangeError ERR_BUFFER_TOO_LARGE once its
// output would pass maxOutputLength, which defaults to a quarter of the Worker's
// heap limit (Node's default is buffer.kMaxLength, far above any Worker's heap);
// a stream hands out chunkSize pieces and stops producing while 16 of them wait
// unread.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const NC = N.nzConstants;

  // Node's own constants (zlib.constants) besides zlib.h's and brotli's.
  const constants = Object.assign(Object.create(null), NC, {
    DEFLATE: 1, INFLATE: 2, GZIP: 3, GUNZIP: 4, DEFLATERAW: 5, INFLATERAW: 6, UNZIP: 7,
    BROTLI_DECODE: 8, BROTLI_ENCODE: 9,
    Z_MIN_WINDOWBITS: 8, Z_MAX_WINDOWBITS: 15, Z_DEFAULT_WINDOWBITS: 15,
    Z_MIN_CHUNK: 64, Z_MAX_CHUNK: Infinity, Z_DEFAULT_CHUNK: 16 * 1024,
    Z_MIN_MEMLEVEL: 1, Z_MAX_MEMLEVEL: 9, Z_DEFAULT_MEMLEVEL: 8,
    Z_MIN_LEVEL: -1, Z_MAX_LEVEL: 9, Z_DEFAULT_LEVEL: -1,
  });
  Object.freeze(constants);
  const codes = Object.create(null);
  for (const k of ["Z_OK", "Z_STREAM_END", "Z_NEED_DICT", "Z_ERRNO", "Z_STREAM_ERROR", "Z_DATA_ERROR",
    "Z_MEM_ERROR", "Z_BUF_ERROR", "Z_VERSION_ERROR"]) {
    codes[k] = NC[k];
    codes[NC[k]] = k;
  }
  Object.freeze(codes);
  const MAX_BROTLI_PARAM = Math.max(...Object.keys(NC).filter((k) => /^BROTLI_(DECODER_)?PARAM_/.test(k)).map((k) => NC[k]));
  const BROTLI_MODES = new Set([constants.BROTLI_DECODE, constants.BROTLI_ENCODE]);
  const STREAM_CHUNK_MAX = 16 * 1024 * 1024; // nzPull's bound
  const PENDING_CHUNKS = 16;                  // produced but unread: stop producing

  const errArgType = (name, v) => {
    const got = v === null ? "null" : typeof v === "object" ? `an instance of ${v.constructor?.name ?? "Object"}` : `type ${typeof v} (${String(v).slice(0, 20)})`;
    return Object.assign(new TypeError(`The "${name}" argument must be of type string or an instance of Buffer, TypedArray, DataView, or ArrayBuffer. Received ${got}`), { code: "ERR_INVALID_ARG_TYPE" });
  };
  const errRange = (name, lo, hi, v) =>
    Object.assign(new RangeError(`The value of "${name}" is out of range. It must be >= ${lo} and <= ${hi}. Received ${v}`), { code: "ERR_OUT_OF_RANGE" });
  const checkInt = (name, v, lo, hi, def) => {
    if (v === undefined || (typeof v === "number" && Number.isNaN(v))) return def;
    if (typeof v !== "number")
      throw Object.assign(new TypeError(`The "${name}" property must be of type number. Received type ${typeof v}`), { code: "ERR_INVALID_ARG_TYPE" });
    if (!Number.isFinite(v) && !(hi === Infinity && v === Infinity)) throw errRange(name, lo, hi, v);
    if (v < lo || v > hi) throw errRange(name, lo, hi, v);
    return v;
  };

  let Buffer, kMaxLength, Transform;
  const deps = () => {
    if (!Buffer) {
      ({ Buffer, kMaxLength } = N.nodeModule("buffer"));
      ({ Transform } = N.nodeModule("stream"));
    }
  };
  // [ArrayBuffer, offset, length] of a string (UTF-8), Buffer, TypedArray,
  // DataView or ArrayBuffer; `name` for the error.
  const bytesOf = (v, name) => {
    if (typeof v === "string") v = Buffer.from(v, "utf8");
    const src = N.bufferSource(v);
    if (src === null) throw errArgType(name, v);
    return src;
  };
  const defaultMax = () => Math.min(kMaxLength, Math.floor(N.nzHeapLimit() / 4));

  // Validated options → the handle's settings.
  function settings(mode, opts) {
    deps();
    if (opts === null || opts === undefined) opts = {};
    else if (typeof opts !== "object")
      throw Object.assign(new TypeError(`The "options" argument must be of type object. Received type ${typeof opts}`), { code: "ERR_INVALID_ARG_TYPE" });
    const brotli = BROTLI_MODES.has(mode);
    const s = {
      mode,
      chunkSize: checkInt("options.chunkSize", opts.chunkSize, 64, Infinity, 16 * 1024),
      maxOutputLength: checkInt("options.maxOutputLength", opts.maxOutputLength, 1, kMaxLength, defaultMax()),
      flush: checkInt("options.flush", opts.flush, 0, brotli ? 3 : 5, brotli ? NC.BROTLI_OPERATION_PROCESS : NC.Z_NO_FLUSH),
      finishFlush: checkInt("options.finishFlush", opts.finishFlush, 0, brotli ? 3 : 5, brotli ? NC.BROTLI_OPERATION_FINISH : NC.Z_FINISH),
      info: !!opts.info,
      level: 0, windowBits: 0, memLevel: 0, strategy: 0, dictionary: undefined, params: [],
    };
    if (brotli) {
      const p = opts.params;
      if (p !== undefined && p !== null) {
        if (typeof p !== "object")
          throw Object.assign(new TypeError('The "options.params" property must be of type object'), { code: "ERR_INVALID_ARG_TYPE" });
        for (const k of Object.keys(p)) {
          const key = Number(k), val = p[k];
          if (!Number.isInteger(key) || key < 0 || key > MAX_BROTLI_PARAM)
            throw Object.assign(new RangeError(`${k} is not a valid Brotli parameter`), { code: "ERR_BROTLI_INVALID_PARAM" });
          if (typeof val !== "number" && typeof val !== "boolean")
            throw Object.assign(new TypeError(`The "options.params[key]" property must be of type number. Received type ${typeof val}`), { code: "ERR_INVALID_ARG_TYPE" });
          s.params.push(key, Number(val));
        }
      }
    } else {
      const inflating = mode === 2 || mode === 4 || mode === 7;
      s.windowBits = checkInt("options.windowBits", opts.windowBits, inflating && opts.windowBits === 0 ? 0 : 8, 15, 15);
      s.level = checkInt("options.level", opts.level, -1, 9, -1);
      s.memLevel = checkInt("options.memLevel", opts.memLevel, 1, 9, 8);
      s.strategy = checkInt("options.strategy", opts.strategy, 0, 4, 0);
      if (opts.dictionary !== undefined) {
        const d = N.bufferSource(opts.dictionary);
        if (d === null || typeof opts.dictionary === "string")
          throw Object.assign(new TypeError('The "options.dictionary" property must be an instance of Buffer, TypedArray, DataView, or ArrayBuffer'), { code: "ERR_INVALID_ARG_TYPE" });
        s.dictionary = d[0].slice(d[1], d[1] + d[2]);
      }
    }
    s.chunkSize = Math.min(s.chunkSize, STREAM_CHUNK_MAX);
    return s;
  }
  const newHandle = (s) => N.nzNew(s.mode, s.level, s.windowBits, s.memLevel, s.strategy, s.dictionary, s.params);

  // ---- streams ----
  const kFlush = Symbol("zlib.flush");
  // A stream's native handle: an ArrayBuffer whose bytes are the C codec state
  // (pointers included), so it must never be reachable from Worker code — kept
  // here, not on the stream (Node's `_handle` is not offered).
  const handles = new WeakMap();
  let classes;
  function makeClasses() {
    deps();
    class Zlib extends Transform {
      constructor(mode, opts) {
        const s = settings(mode, opts);
        super({ ...(opts || {}), objectMode: false });
        this._s = s;
        handles.set(this, newHandle(s));
        this._defaultFlush = s.flush;
        this._finishFlush = s.finishFlush;
        this._chunkSize = s.chunkSize;
        this.bytesWritten = 0;
        this._waitRead = null;
        this._closed = false;
      }
      // Runs the codec over the pushed input, handing out chunkSize pieces; waits
      // (in _read) while PENDING_CHUNKS are unread.
      _produce(flush, cb) {
        const step = () => {
          for (;;) {
            if (this._closed || this.destroyed) return cb();
            let out;
            try {
              out = N.nzPull(handles.get(this), flush, this._chunkSize);
            } catch (e) {
              return cb(e);
            }
            if (out === null) return cb();
            this.push(Buffer.from(out));
            if (this._buf.length >= PENDING_CHUNKS) { this._waitRead = step; return; }
          }
        };
        step();
      }
      _read() {
        const w = this._waitRead;
        if (w) { this._waitRead = null; queueMicrotask(w); }
      }
      _transform(chunk, enc, cb) {
        if (this._closed) return cb(Object.assign(new Error("zlib binding closed"), { code: "ERR_ZLIB_BINDING_CLOSED" }));
        let flush = this._defaultFlush;
        if (chunk && chunk[kFlush] !== undefined) { flush = chunk[kFlush]; chunk = Buffer.alloc(0); }
        if (typeof chunk === "string") chunk = Buffer.from(chunk, enc === "buffer" ? "utf8" : enc);
        let src;
        try { src = bytesOf(chunk, "chunk"); } catch (e) { return cb(e); }
        N.nzPush(handles.get(this), src[0], src[1], src[2]);
        this.bytesWritten += src[2];
        this._produce(flush, cb);
      }
      _flush(cb) { this._produce(this._finishFlush, (e) => cb(e)); }
      flush(kind, cb) {
        if (typeof kind === "function" || kind === undefined) { cb = kind; kind = BROTLI_MODES.has(this._s.mode) ? NC.BROTLI_OPERATION_FLUSH : NC.Z_FULL_FLUSH; }
        if (this._ending) { if (cb) queueMicrotask(cb); return; }
        this.write({ [kFlush]: kind }, cb);
      }
      params(level, strategy, cb) {
        checkInt("level", level, -1, 9, -1);
        checkInt("strategy", strategy, 0, 4, 0);
        this.flush(NC.Z_SYNC_FLUSH, (err) => {
          if (!err) {
            try { N.nzParams(handles.get(this), level, strategy); } catch (e) { err = e; }
          }
          if (cb) cb(err);
        });
      }
      reset() { N.nzReset(handles.get(this)); }
      close(cb) {
        if (cb) this.once("close", cb);
        this._closed = true;
        this.destroy();
      }
    }
    const make = (name, mode) => ({ [name]: class extends Zlib { constructor(opts) { super(mode, opts); } } })[name];
    return {
      Deflate: make("Deflate", 1), Inflate: make("Inflate", 2), Gzip: make("Gzip", 3), Gunzip: make("Gunzip", 4),
      DeflateRaw: make("DeflateRaw", 5), InflateRaw: make("InflateRaw", 6), Unzip: make("Unzip", 7),
      BrotliDecompress: make("BrotliDecompress", 8), BrotliCompress: make("BrotliCompress", 9),
    };
  }

  // ---- one-shot ----
  function runSync(mode, buffer, opts) {
    deps();
    const src = bytesOf(buffer, "buffer");
    const s = settings(mode, opts);
    const h = newHandle(s);
    const out = Buffer.from(N.nzRun(h, src[0], src[1], src[2], s.finishFlush, s.maxOutputLength));
    return s.info ? { buffer: out, engine: null } : out;
  }
  function runAsync(mode, buffer, opts, cb) {
    if (typeof opts === "function") { cb = opts; opts = {}; }
    if (typeof cb !== "function")
      throw Object.assign(new TypeError(`The "callback" argument must be of type function. Received ${cb === undefined ? "undefined" : typeof cb}`), { code: "ERR_INVALID_ARG_TYPE" });
    deps();
    // the argument is checked now (a TypeError throws, as in Node); the work and
    // its errors come to the callback later
    const src = bytesOf(buffer, "buffer");
    const copy = src[0].slice(src[1], src[1] + src[2]);
    queueMicrotask(() => {
      let out;
      try { out = runSync(mode, copy, opts); } catch (e) { return cb(e); }
      cb(null, out);
    });
  }

  function crc32(data, value = 0) {
    deps();
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw errRange("value", 0, 4294967295, value);
    const src = bytesOf(data, "data");
    return N.nzCrc32(value, src[0], src[1], src[2]);
  }

  N.nodeModules.zlib = () => {
    classes ??= makeClasses();
    const m = Object.create(null);
    const names = [["deflate", "Deflate", 1], ["inflate", "Inflate", 2], ["gzip", "Gzip", 3],
      ["gunzip", "Gunzip", 4], ["deflateRaw", "DeflateRaw", 5], ["inflateRaw", "InflateRaw", 6],
      ["unzip", "Unzip", 7], ["brotliDecompress", "BrotliDecompress", 8], ["brotliCompress", "BrotliCompress", 9]];
    for (const [fn, cls, mode] of names) {
      m[fn] = { [fn]: (buffer, opts, cb) => runAsync(mode, buffer, opts, cb) }[fn];
      m[fn + "Sync"] = { [fn + "Sync"]: (buffer, opts) => runSync(mode, buffer, opts) }[fn + "Sync"];
      m[cls] = classes[cls];
      m["create" + cls] = { ["create" + cls]: (opts) => new classes[cls](opts) }["create" + cls];
    }
    m.crc32 = crc32;
    m.constants = constants;
    m.codes = codes;
    // Node's deprecated top-level copies of the zlib constants
    for (const k of Object.keys(NC)) if (k.startsWith("Z_")) m[k] = NC[k];
    const def = Object.assign(Object.create(null), m);
    m.default = def;
    return m;
  };
})();
