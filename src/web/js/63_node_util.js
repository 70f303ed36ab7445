// node:util, node:path (POSIX), node:url, node:string_decoder, node:os,
// node:diagnostics_channel (nodejs_compat; docs/nodejs.md).
(() => {
  "use strict";
  const N = globalThis.__durable;
  const M = N.nodeModules;
  const withDefault = (o) => { const m = Object.assign(Object.create(null), o); m.default = o; return m; };

  // ---- util ----
  const kCustomPromisify = Symbol.for("nodejs.util.promisify.custom");
  function promisify(fn) {
    if (typeof fn !== "function") throw new TypeError('The "original" argument must be of type function');
    if (fn[kCustomPromisify]) return fn[kCustomPromisify];
    const p = function (...args) {
      return new Promise((resolve, reject) => {
        Reflect.apply(fn, this, [...args, (err, ...vals) => (err ? reject(err) : resolve(vals.length > 1 ? vals : vals[0]))]);
      });
    };
    Object.setPrototypeOf(p, Object.getPrototypeOf(fn));
    Object.defineProperty(p, kCustomPromisify, { value: p });
    return p;
  }
  promisify.custom = kCustomPromisify;
  function callbackify(fn) {
    return function (...args) {
      const cb = args.pop();
      Reflect.apply(fn, this, args).then((v) => queueMicrotask(() => cb(null, v)),
        (e) => queueMicrotask(() => cb(e || Object.assign(new Error("Promise was rejected with a falsy value"), { reason: e }))));
    };
  }
  function inherits(ctor, superCtor) {
    if (typeof ctor !== "function" || typeof superCtor !== "function")
      throw new TypeError('The "ctor" and "superCtor" arguments must be of type function');
    Object.defineProperty(ctor, "super_", { value: superCtor, writable: true, configurable: true });
    Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
  }
  const tag = (v) => Object.prototype.toString.call(v).slice(8, -1);
  const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
  const typedTag = (v) => (ArrayBuffer.isView(v) && !(v instanceof DataView) ? Reflect.get(TypedArrayProto, Symbol.toStringTag, v) : undefined);
  const types = {
    isPromise: (v) => v instanceof Promise,
    isRegExp: (v) => v instanceof RegExp,
    isDate: (v) => v instanceof Date,
    isMap: (v) => v instanceof Map,
    isSet: (v) => v instanceof Set,
    isWeakMap: (v) => v instanceof WeakMap,
    isWeakSet: (v) => v instanceof WeakSet,
    isNativeError: (v) => v instanceof Error,
    isArrayBuffer: (v) => v instanceof ArrayBuffer,
    isSharedArrayBuffer: (v) => typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer,
    isAnyArrayBuffer: (v) => v instanceof ArrayBuffer || (typeof SharedArrayBuffer !== "undefined" && v instanceof SharedArrayBuffer),
    isArrayBufferView: (v) => ArrayBuffer.isView(v),
    isDataView: (v) => v instanceof DataView,
    isTypedArray: (v) => typedTag(v) !== undefined,
    isUint8Array: (v) => typedTag(v) === "Uint8Array",
    isUint8ClampedArray: (v) => typedTag(v) === "Uint8ClampedArray",
    isUint16Array: (v) => typedTag(v) === "Uint16Array",
    isUint32Array: (v) => typedTag(v) === "Uint32Array",
    isInt8Array: (v) => typedTag(v) === "Int8Array",
    isInt16Array: (v) => typedTag(v) === "Int16Array",
    isInt32Array: (v) => typedTag(v) === "Int32Array",
    isFloat32Array: (v) => typedTag(v) === "Float32Array",
    isFloat64Array: (v) => typedTag(v) === "Float64Array",
    isBigInt64Array: (v) => typedTag(v) === "BigInt64Array",
    isBigUint64Array: (v) => typedTag(v) === "BigUint64Array",
    isAsyncFunction: (v) => typeof v === "function" && tag(v) === "AsyncFunction",
    isGeneratorFunction: (v) => typeof v === "function" && /GeneratorFunction$/.test(tag(v)),
    isGeneratorObject: (v) => tag(v) === "Generator",
    isMapIterator: (v) => tag(v) === "Map Iterator",
    isSetIterator: (v) => tag(v) === "Set Iterator",
    isBoxedPrimitive: (v) => v instanceof Number || v instanceof String || v instanceof Boolean || v instanceof BigInt || v instanceof Symbol,
    isNumberObject: (v) => v instanceof Number,
    isStringObject: (v) => v instanceof String,
    isBooleanObject: (v) => v instanceof Boolean,
    isSymbolObject: (v) => v instanceof Symbol,
    isBigIntObject: (v) => v instanceof BigInt,
    isProxy: () => false,
    isModuleNamespaceObject: (v) => tag(v) === "Module",
    isKeyObject: () => false,
    isCryptoKey: (v) => typeof CryptoKey !== "undefined" && v instanceof CryptoKey,
  };
  const inspect = (v, opts) => N.inspect(v, opts);
  inspect.custom = Symbol.for("nodejs.util.inspect.custom");
  inspect.defaultOptions = { depth: 2 };
  const format = (...args) => N.format(args);
  const isDeepStrictEqual = (a, b) => deepEqual(a, b, true);
  function deprecate(fn, msg) {
    let warned = false;
    return function (...args) {
      if (!warned) { warned = true; console.warn("DeprecationWarning: " + msg); }
      return new.target ? Reflect.construct(fn, args, new.target) : Reflect.apply(fn, this, args);
    };
  }
  const util = {
    promisify, callbackify, inherits, inspect, format,
    formatWithOptions: (_o, ...args) => N.format(args),
    types, isDeepStrictEqual, deprecate,
    debuglog: () => Object.assign(() => {}, { enabled: false }),
    debug: () => Object.assign(() => {}, { enabled: false }),
    TextEncoder, TextDecoder,
    isArray: Array.isArray,
    isBoolean: (v) => typeof v === "boolean",
    isNull: (v) => v === null,
    isNullOrUndefined: (v) => v == null,
    isNumber: (v) => typeof v === "number",
    isString: (v) => typeof v === "string",
    isSymbol: (v) => typeof v === "symbol",
    isUndefined: (v) => v === undefined,
    isRegExp: types.isRegExp,
    isObject: (v) => v !== null && typeof v === "object",
    isDate: types.isDate,
    isError: types.isNativeError,
    isFunction: (v) => typeof v === "function",
    isPrimitive: (v) => v === null || (typeof v !== "object" && typeof v !== "function"),
    toUSVString: (s) => String(s).toWellFormed ? String(s).toWellFormed() : String(s),
    stripVTControlCharacters: (s) => String(s).replace(/\u001b\[[0-9;]*[A-Za-z]/g, ""),
    aborted: (signal) => new Promise((r) => (signal.aborted ? r() : signal.addEventListener("abort", () => r(), { once: true }))),
  };
  M.util = () => withDefault(util);
  M["util/types"] = () => withDefault(types);

  // deepEqual for util.isDeepStrictEqual and node:assert.
  function deepEqual(a, b, strict, seen = new Map()) {
    if (strict ? Object.is(a, b) : (a == b || (a !== a && b !== b))) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (tag(a) !== tag(b)) return false;
    if (seen.get(a) === b) return true;
    seen.set(a, b);
    if (a instanceof Date) return a.getTime() === b.getTime();
    if (a instanceof RegExp) return String(a) === String(b);
    if (a instanceof Error && (a.message !== b.message || a.name !== b.name)) return false;
    if (ArrayBuffer.isView(a)) {
      if (a.byteLength !== b.byteLength) return false;
      const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      return true;
    }
    if (a instanceof Map) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) if (!b.has(k) || !deepEqual(v, b.get(k), strict, seen)) return false;
      return true;
    }
    if (a instanceof Set) {
      if (a.size !== b.size) return false;
      outer: for (const v of a) {
        if (b.has(v)) continue;
        if (typeof v === "object" && v !== null)
          for (const w of b) if (deepEqual(v, w, strict, seen)) continue outer;
        return false;
      }
      return true;
    }
    if ((a instanceof Number || a instanceof String || a instanceof Boolean) && !Object.is(a.valueOf(), b.valueOf())) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual(a[k], b[k], strict, seen)) return false;
    if (strict) {
      const sa = Object.getOwnPropertySymbols(a).filter((s) => Object.prototype.propertyIsEnumerable.call(a, s));
      const sb = Object.getOwnPropertySymbols(b).filter((s) => Object.prototype.propertyIsEnumerable.call(b, s));
      if (sa.length !== sb.length) return false;
      for (const s of sa) if (!deepEqual(a[s], b[s], strict, seen)) return false;
    }
    return true;
  }
  N.nodeDeepEqual = deepEqual;

  // ---- path (POSIX) ----
  const normalizeArray = (parts, allowAbove) => {
    const out = [];
    for (const p of parts) {
      if (!p || p === ".") continue;
      if (p === "..") {
        if (out.length && out[out.length - 1] !== "..") out.pop();
        else if (allowAbove) out.push("..");
      } else out.push(p);
    }
    return out;
  };
  const str = (p, name = "path") => {
    if (typeof p !== "string") throw new TypeError(`The "${name}" argument must be of type string. Received ${p === null ? "null" : typeof p}`);
    return p;
  };
  const path = {
    sep: "/",
    delimiter: ":",
    normalize(p) {
      str(p);
      if (p === "") return ".";
      const abs = p[0] === "/", trail = p[p.length - 1] === "/";
      let r = normalizeArray(p.split("/"), !abs).join("/");
      if (!r && !abs) r = ".";
      if (r && trail) r += "/";
      return (abs ? "/" : "") + r;
    },
    join(...parts) {
      const s = parts.map((p) => str(p)).filter((p) => p !== "").join("/");
      return s === "" ? "." : path.normalize(s);
    },
    resolve(...parts) {
      let r = "", abs = false;
      for (let i = parts.length - 1; i >= -1 && !abs; i--) {
        const p = i >= 0 ? str(parts[i]) : "/";
        if (!p) continue;
        r = p + "/" + r;
        abs = p[0] === "/";
      }
      r = normalizeArray(r.split("/"), !abs).join("/");
      return (abs ? "/" : "") + r || ".";
    },
    isAbsolute: (p) => str(p).startsWith("/"),
    relative(from, to) {
      const f = path.resolve(from).split("/").filter(Boolean), t = path.resolve(to).split("/").filter(Boolean);
      let i = 0;
      while (i < f.length && i < t.length && f[i] === t[i]) i++;
      return [...Array(f.length - i).fill(".."), ...t.slice(i)].join("/");
    },
    dirname(p) {
      str(p);
      if (p === "") return ".";
      const s = p.replace(/\/+$/, "");
      if (s === "") return "/";
      const i = s.lastIndexOf("/");
      if (i < 0) return ".";
      return s.slice(0, i).replace(/\/+$/, "") || "/";
    },
    basename(p, ext) {
      str(p);
      let b = p.replace(/\/+$/, "");
      b = b.slice(b.lastIndexOf("/") + 1);
      if (ext !== undefined && b.endsWith(ext) && b !== ext) b = b.slice(0, -ext.length);
      return b;
    },
    extname(p) {
      const b = path.basename(p);
      const i = b.lastIndexOf(".");
      return i <= 0 ? "" : b.slice(i);
    },
    parse(p) {
      str(p);
      const root = p.startsWith("/") ? "/" : "";
      const base = path.basename(p), ext = path.extname(p);
      let dir = path.dirname(p);
      if (dir === "." && !p.startsWith(".")) dir = "";
      return { root, dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
    },
    format(o) {
      const dir = o.dir || o.root || "";
      const base = o.base || (o.name || "") + (o.ext ? (o.ext[0] === "." ? "" : ".") + o.ext : "");
      return dir ? (dir === o.root ? dir + base : dir + "/" + base) : base;
    },
    toNamespacedPath: (p) => p,
    matchesGlob: () => { throw new Error("path.matchesGlob is not supported"); },
  };
  path.posix = path;
  path.win32 = new Proxy({}, { get() { throw new Error("path.win32 is not supported by durable"); } });
  M.path = () => withDefault(path);
  M["path/posix"] = M.path;

  // ---- url ----
  const fileURLToPath = (u) => {
    const url = typeof u === "string" ? new URL(u) : u;
    if (url.protocol !== "file:") { const e = new TypeError("The URL must be of scheme file"); e.code = "ERR_INVALID_URL_SCHEME"; throw e; }
    if (url.hostname !== "" && url.hostname !== "localhost") throw new TypeError('File URL host must be "localhost" or empty');
    if (/%2f/i.test(url.pathname)) throw new TypeError("File URL path must not include encoded / characters");
    return decodeURIComponent(url.pathname);
  };
  const pathToFileURL = (p) => {
    let r = path.resolve(str(p));
    if (p.endsWith("/") && !r.endsWith("/")) r += "/";
    return new URL("file://" + r.split("/").map((s) => encodeURIComponent(s)).join("/"));
  };
  const url = {
    URL, URLSearchParams, fileURLToPath, pathToFileURL,
    domainToASCII: (d) => { try { return new URL("http://" + d).hostname; } catch { return ""; } },
    domainToUnicode: (d) => d,
    format: (u) => (u instanceof URL ? u.href : typeof u === "string" ? u : legacyFormat(u)),
    parse: (s) => {
      const u = new URL(s);
      return { protocol: u.protocol, slashes: true, auth: u.username ? u.username + (u.password ? ":" + u.password : "") : null,
        host: u.host, port: u.port || null, hostname: u.hostname, hash: u.hash || null, search: u.search || null,
        query: u.search ? u.search.slice(1) : null, pathname: u.pathname, path: u.pathname + u.search, href: u.href };
    },
    urlToHttpOptions: (u) => ({ protocol: u.protocol, hostname: u.hostname, hash: u.hash, search: u.search, pathname: u.pathname,
      path: u.pathname + u.search, href: u.href, port: u.port ? Number(u.port) : undefined }),
  };
  const legacyFormat = (o) => (o.protocol ? o.protocol + (o.slashes !== false ? "//" : "") : "") + (o.host || o.hostname || "") +
    (o.pathname || "") + (o.search || (o.query ? "?" + new URLSearchParams(o.query) : "")) + (o.hash || "");
  M.url = () => withDefault(url);

  // ---- string_decoder ----
  class StringDecoder {
    constructor(enc = "utf8") {
      const e = String(enc).toLowerCase().replace("-", "");
      this.encoding = e === "utf8" ? "utf8" : e;
      if (this.encoding === "utf8" || this.encoding === "utf16le" || this.encoding === "ucs2")
        this._dec = new TextDecoder(this.encoding === "utf8" ? "utf-8" : "utf-16le");
      this._rest = null;
    }
    write(buf) {
      if (typeof buf === "string") return buf;
      const Buffer = N.nodeModule("buffer").Buffer;
      if (this._dec) return this._dec.decode(buf, { stream: true });
      // base64/hex/latin1: whole units only for base64
      let b = Buffer.from(buf);
      if (this._rest) { b = Buffer.concat([this._rest, b]); this._rest = null; }
      if (this.encoding === "base64" || this.encoding === "base64url") {
        const keep = b.length % 3;
        if (keep) { this._rest = b.subarray(b.length - keep); b = b.subarray(0, b.length - keep); }
      }
      return b.toString(this.encoding);
    }
    end(buf) {
      let s = buf ? this.write(buf) : "";
      if (this._dec) s += this._dec.decode();
      else if (this._rest) { s += this._rest.toString(this.encoding); this._rest = null; }
      return s;
    }
  }
  M.string_decoder = () => withDefault({ StringDecoder });

  // ---- os (what Cloudflare's is: a fixed, minimal description) ----
  const os = {
    EOL: "\n",
    arch: () => "x64",
    platform: () => "linux",
    type: () => "Linux",
    release: () => "",
    version: () => "",
    machine: () => "x86_64",
    hostname: () => "localhost",
    homedir: () => "/",
    tmpdir: () => "/tmp",
    endianness: () => "LE",
    uptime: () => 0,
    loadavg: () => [0, 0, 0],
    totalmem: () => 0,
    freemem: () => 0,
    availableParallelism: () => 1,
    cpus: () => [],
    networkInterfaces: () => ({}),
    userInfo: () => ({ uid: -1, gid: -1, username: "", homedir: "/", shell: null }),
    getPriority: () => 0,
    setPriority: () => {},
    devNull: "/dev/null",
    constants: { signals: {}, errno: {}, priority: {} },
  };
  M.os = () => withDefault(os);

  // ---- diagnostics_channel ----
  const channels = new Map();
  class Channel {
    constructor(name) { this.name = name; this._subs = []; this._stores = new Map(); }
    get hasSubscribers() { return this._subs.length > 0 || this._stores.size > 0; }
    subscribe(fn) { this._subs.push(fn); }
    unsubscribe(fn) {
      const i = this._subs.indexOf(fn);
      if (i < 0) return false;
      this._subs.splice(i, 1);
      return true;
    }
    publish(message) {
      for (const fn of this._subs.slice()) {
        try { fn(message, this.name); } catch (e) { queueMicrotask(() => { throw e; }); }
      }
    }
    bindStore(store, transform) { this._stores.set(store, transform); }
    unbindStore(store) { return this._stores.delete(store); }
    runStores(message, fn, thisArg, ...args) {
      let run = () => Reflect.apply(fn, thisArg, args);
      for (const [store, transform] of this._stores) {
        const inner = run;
        run = () => store.run(transform ? transform(message) : message, inner);
      }
      this.publish(message);
      return run();
    }
  }
  const channel = (name) => {
    let c = channels.get(name);
    if (!c) channels.set(name, (c = new Channel(name)));
    return c;
  };
  const hasSubscribers = (name) => (channels.has(name) ? channels.get(name).hasSubscribers : false);
  const subscribe = (name, fn) => channel(name).subscribe(fn);
  const unsubscribe = (name, fn) => channel(name).unsubscribe(fn);
  class TracingChannel {
    constructor(nameOrChannels) {
      for (const k of ["start", "end", "asyncStart", "asyncEnd", "error"])
        this[k] = typeof nameOrChannels === "string" ? channel(`tracing:${nameOrChannels}:${k}`) : nameOrChannels[k];
    }
    get hasSubscribers() { return ["start", "end", "asyncStart", "asyncEnd", "error"].some((k) => this[k].hasSubscribers); }
    subscribe(h) { for (const k in h) this[k]?.subscribe(h[k]); }
    unsubscribe(h) { let ok = true; for (const k in h) ok = this[k]?.unsubscribe(h[k]) && ok; return ok; }
    traceSync(fn, ctx = {}, thisArg, ...args) {
      return this.start.runStores(ctx, () => {
        try {
          ctx.result = Reflect.apply(fn, thisArg, args);
          return ctx.result;
        } catch (e) {
          ctx.error = e;
          this.error.publish(ctx);
          throw e;
        } finally {
          this.end.publish(ctx);
        }
      });
    }
    tracePromise(fn, ctx = {}, thisArg, ...args) {
      return this.start.runStores(ctx, () => {
        try {
          const p = Reflect.apply(fn, thisArg, args);
          return Promise.resolve(p).then((r) => {
            ctx.result = r;
            this.asyncStart.publish(ctx);
            this.asyncEnd.publish(ctx);
            return r;
          }, (e) => {
            ctx.error = e;
            this.error.publish(ctx);
            this.asyncStart.publish(ctx);
            this.asyncEnd.publish(ctx);
            throw e;
          });
        } catch (e) {
          ctx.error = e;
          this.error.publish(ctx);
          throw e;
        } finally {
          this.end.publish(ctx);
        }
      });
    }
    traceCallback(fn, position = -1, ctx = {}, thisArg, ...args) {
      const i = position < 0 ? args.length + position : position;
      const cb = args[i];
      args[i] = (err, res) => {
        if (err) { ctx.error = err; this.error.publish(ctx); } else ctx.result = res;
        this.asyncStart.publish(ctx);
        try { return cb(err, res); } finally { this.asyncEnd.publish(ctx); }
      };
      return this.traceSync(fn, ctx, thisArg, ...args);
    }
  }
  const dc = { channel, hasSubscribers, subscribe, unsubscribe, tracingChannel: (n) => new TracingChannel(n), Channel };
  M.diagnostics_channel = () => withDefault(dc);
})();
