// node:timers, node:timers/promises, node:querystring, node:punycode, node:module,
// node:stream/consumers, node:stream/web, and the modules Cloudflare provides as
// import-only stubs (node:net, node:tls, node:child_process, node:worker_threads,
// node:vm…) whose functions throw ERR_METHOD_NOT_IMPLEMENTED (nodejs_compat;
// docs/nodejs.md).
(() => {
  "use strict";
  const N = globalThis.__durable;
  const M = N.nodeModules;
  const withDefault = (o) => { const m = Object.assign(Object.create(null), o); m.default = o; return m; };
  const codeErr = (Ctor, code, msg) => Object.assign(new Ctor(msg), { code });
  const notImplemented = (name) => codeErr(Error, "ERR_METHOD_NOT_IMPLEMENTED", `The ${name} method is not implemented`);
  const checkFn = (name, f) => {
    if (typeof f !== "function")
      throw codeErr(TypeError, "ERR_INVALID_ARG_TYPE", `The "${name}" argument must be of type function. Received ${f === null ? "null" : typeof f}`);
  };

  // ---- timers ----
  // Node's timers return objects; these wrap the global timer ids (looked up at
  // each call, so nodejs_compat's context-keeping wrappers apply).
  class Timeout {
    constructor(id, repeat, cb, args, delay) {
      this._id = id; this._repeat = repeat; this._cb = cb; this._args = args; this._delay = delay; this._ref = true;
    }
    ref() { this._ref = true; return this; }
    unref() { this._ref = false; return this; }
    hasRef() { return this._ref; }
    refresh() {
      const clear = this._repeat ? globalThis.clearInterval : globalThis.clearTimeout;
      clear(this._id);
      this._id = (this._repeat ? globalThis.setInterval : globalThis.setTimeout)(this._cb, this._delay, ...this._args);
      return this;
    }
    close() { (this._repeat ? globalThis.clearInterval : globalThis.clearTimeout)(this._id); return this; }
    [Symbol.toPrimitive]() { return this._id; }
  }
  class Immediate {
    constructor(id) { this._id = id; this._ref = true; }
    ref() { this._ref = true; return this; }
    unref() { this._ref = false; return this; }
    hasRef() { return this._ref; }
    [Symbol.toPrimitive]() { return this._id; }
  }
  const idOf = (t) => (t instanceof Timeout || t instanceof Immediate ? t._id : t);
  const timers = {
    setTimeout(cb, delay, ...args) {
      checkFn("callback", cb);
      return new Timeout(globalThis.setTimeout(cb, delay, ...args), false, cb, args, delay);
    },
    setInterval(cb, delay, ...args) {
      checkFn("callback", cb);
      return new Timeout(globalThis.setInterval(cb, delay, ...args), true, cb, args, delay);
    },
    setImmediate(cb, ...args) {
      checkFn("callback", cb);
      return new Immediate(globalThis.setTimeout(cb, 0, ...args));
    },
    clearTimeout(t) { if (t != null) globalThis.clearTimeout(idOf(t)); },
    clearInterval(t) { if (t != null) globalThis.clearInterval(idOf(t)); },
    clearImmediate(t) { if (t != null) globalThis.clearTimeout(idOf(t)); },
  };
  const abortError = (signal) => Object.assign(new Error("The operation was aborted"), { name: "AbortError", code: "ABORT_ERR", cause: signal?.reason });
  const sleep = (delay, value, opts) => new Promise((resolve, reject) => {
    const signal = opts?.signal;
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => { globalThis.clearTimeout(id); reject(abortError(signal)); };
    const id = globalThis.setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(value); }, delay);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  const timersPromises = {
    setTimeout: (delay, value, opts) => sleep(delay, value, opts),
    setImmediate: (value, opts) => sleep(0, value, opts),
    async *setInterval(delay, value, opts) {
      for (;;) yield await sleep(delay, value, opts);
    },
    scheduler: { wait: (delay, opts) => sleep(delay, undefined, opts), yield: () => sleep(0) },
  };
  timers.promises = timersPromises;
  M.timers = () => withDefault(timers);
  M["timers/promises"] = () => withDefault(timersPromises);

  // ---- querystring ----
  const qsUnescape = (s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      // lenient, as Node: bad escapes stay as they are
      const bytes = [];
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) { bytes.push(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
        else if (c < 0x80) bytes.push(c);
        else for (const b of new TextEncoder().encode(s[i])) bytes.push(b);
      }
      return new TextDecoder().decode(new Uint8Array(bytes));
    }
  };
  const qsEscape = (s) => {
    if (typeof s !== "string") s = typeof s === "object" ? String(s) : `${s}`;
    try {
      return encodeURIComponent(s);
    } catch {
      throw codeErr(URIError, "ERR_INVALID_URI", "URI malformed");
    }
  };
  const qsValue = (v) => (typeof v === "string" ? v : (typeof v === "number" && Number.isFinite(v)) || typeof v === "bigint" || typeof v === "boolean" ? `${v}` : "");
  const querystring = {
    escape: qsEscape,
    unescape: qsUnescape,
    unescapeBuffer: (s) => N.nodeModule("buffer").Buffer.from(qsUnescape(`${s}`)),
    parse(str, sep = "&", eq = "=", opts = undefined) {
      const out = Object.create(null);
      if (typeof str !== "string" || str.length === 0) return out;
      sep = sep || "&"; eq = eq || "=";
      const maxKeys = opts && typeof opts.maxKeys === "number" ? opts.maxKeys : 1000;
      const decode = opts && typeof opts.decodeURIComponent === "function" ? opts.decodeURIComponent : qsUnescape;
      let parts = str.split(sep);
      if (maxKeys > 0) parts = parts.slice(0, maxKeys);
      for (const part of parts) {
        if (part === "" ) continue;
        const i = part.indexOf(eq);
        const k = decode((i >= 0 ? part.slice(0, i) : part).replace(/\+/g, " "));
        const v = i >= 0 ? decode(part.slice(i + eq.length).replace(/\+/g, " ")) : "";
        if (!(k in out)) out[k] = v;
        else if (Array.isArray(out[k])) out[k].push(v);
        else out[k] = [out[k], v];
      }
      return out;
    },
    stringify(obj, sep = "&", eq = "=", opts = undefined) {
      sep = sep || "&"; eq = eq || "=";
      const enc = opts && typeof opts.encodeURIComponent === "function" ? opts.encodeURIComponent : qsEscape;
      if (obj === null || typeof obj !== "object") return "";
      const out = [];
      for (const k of Object.keys(obj)) {
        const v = obj[k], ks = enc(qsValue(k)) + eq;
        if (Array.isArray(v)) for (const x of v) out.push(ks + enc(qsValue(x)));
        else out.push(ks + enc(qsValue(v)));
      }
      return out.join(sep);
    },
  };
  querystring.decode = querystring.parse;
  querystring.encode = querystring.stringify;
  M.querystring = () => withDefault(querystring);

  // ---- punycode (RFC 3492) ----
  const PB = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, IBIAS = 72, INITIAL_N = 128;
  const rangeErr = (msg) => new RangeError(msg);
  const adapt = (delta, numPoints, first) => {
    delta = first ? Math.floor(delta / DAMP) : delta >> 1;
    delta += Math.floor(delta / numPoints);
    let k = 0;
    while (delta > ((PB - TMIN) * TMAX) >> 1) { delta = Math.floor(delta / (PB - TMIN)); k += PB; }
    return k + Math.floor(((PB - TMIN + 1) * delta) / (delta + SKEW));
  };
  const digitOf = (c) => (c >= 0x30 && c <= 0x39 ? c - 22 : c >= 0x41 && c <= 0x5a ? c - 0x41 : c >= 0x61 && c <= 0x7a ? c - 0x61 : PB);
  const charOf = (d) => String.fromCharCode(d < 26 ? d + 0x61 : d + 22);
  const ucs2decode = (s) => Array.from(`${s}`, (ch) => ch.codePointAt(0));
  const ucs2encode = (cps) => String.fromCodePoint(...cps);
  function punyEncode(input) {
    const cps = ucs2decode(input);
    let out = cps.filter((c) => c < 0x80).map((c) => String.fromCharCode(c)).join("");
    const basic = out.length;
    let h = basic, n = INITIAL_N, delta = 0, bias = IBIAS;
    if (basic) out += "-";
    while (h < cps.length) {
      let m = Infinity;
      for (const c of cps) if (c >= n && c < m) m = c;
      if (m - n > Math.floor((0x7fffffff - delta) / (h + 1))) throw rangeErr("Overflow: input needs wider integers to process");
      delta += (m - n) * (h + 1);
      n = m;
      for (const c of cps) {
        if (c < n && ++delta > 0x7fffffff) throw rangeErr("Overflow: input needs wider integers to process");
        if (c === n) {
          let q = delta;
          for (let k = PB; ; k += PB) {
            const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if (q < t) break;
            out += charOf(t + ((q - t) % (PB - t)));
            q = Math.floor((q - t) / (PB - t));
          }
          out += charOf(q);
          bias = adapt(delta, h + 1, h === basic);
          delta = 0;
          h++;
        }
      }
      delta++; n++;
    }
    return out;
  }
  function punyDecode(input) {
    input = `${input}`;
    const out = [];
    let basic = input.lastIndexOf("-");
    if (basic < 0) basic = 0;
    for (let j = 0; j < basic; j++) {
      if (input.charCodeAt(j) >= 0x80) throw rangeErr("Illegal input >= 0x80 (not a basic code point)");
      out.push(input.charCodeAt(j));
    }
    let n = INITIAL_N, bias = IBIAS, i = 0;
    for (let idx = basic > 0 ? basic + 1 : 0; idx < input.length;) {
      const oldi = i;
      for (let w = 1, k = PB; ; k += PB) {
        if (idx >= input.length) throw rangeErr("Invalid input");
        const d = digitOf(input.charCodeAt(idx++));
        if (d >= PB || d > Math.floor((0x7fffffff - i) / w)) throw rangeErr(d >= PB ? "Invalid input" : "Overflow: input needs wider integers to process");
        i += d * w;
        const t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
        if (d < t) break;
        if (w > Math.floor(0x7fffffff / (PB - t))) throw rangeErr("Overflow: input needs wider integers to process");
        w *= PB - t;
      }
      const len = out.length + 1;
      bias = adapt(i - oldi, len, oldi === 0);
      if (Math.floor(i / len) > 0x7fffffff - n) throw rangeErr("Overflow: input needs wider integers to process");
      n += Math.floor(i / len);
      i %= len;
      out.splice(i++, 0, n);
    }
    return String.fromCodePoint(...out);
  }
  const mapDomain = (domain, fn) => {
    const at = domain.lastIndexOf("@");
    const head = at >= 0 ? domain.slice(0, at + 1) : "";
    const labels = (at >= 0 ? domain.slice(at + 1) : domain).replace(/[\u3002\uFF0E\uFF61]/g, ".").split(".");
    return head + labels.map(fn).join(".");
  };
  const punycode = {
    version: "2.1.0",
    ucs2: { decode: ucs2decode, encode: ucs2encode },
    encode: punyEncode,
    decode: punyDecode,
    toASCII: (d) => mapDomain(`${d}`, (l) => (/[^\0-\x7F]/.test(l) ? "xn--" + punyEncode(l) : l)),
    toUnicode: (d) => mapDomain(`${d}`, (l) => (/^xn--/i.test(l) ? punyDecode(l.slice(4).toLowerCase()) : l)),
  };
  M.punycode = () => withDefault(punycode);

  // ---- module ----
  const builtinModules = () => Object.keys(M).sort();
  const isBuiltin = (s) => {
    const name = `${s}`.startsWith("node:") ? `${s}`.slice(5) : `${s}`;
    return name in M;
  };
  // require() of the built-in modules only (there is no CommonJS loader)
  const createRequire = () => {
    const require = (id) => {
      const name = `${id}`.startsWith("node:") ? `${id}`.slice(5) : `${id}`;
      const m = name in M ? N.nodeModule(name) : undefined;
      if (!m) throw codeErr(Error, "MODULE_NOT_FOUND", `Cannot find module '${id}': require() in a Worker loads only the built-in node:* modules`);
      return "default" in m ? m.default : m;
    };
    require.resolve = (id) => { if (!isBuiltin(id)) throw codeErr(Error, "MODULE_NOT_FOUND", `Cannot find module '${id}'`); return `${id}`.startsWith("node:") ? `${id}` : `node:${id}`; };
    require.cache = Object.create(null);
    return require;
  };
  M.module = () => withDefault({
    builtinModules: builtinModules(), isBuiltin, createRequire,
    register() { throw notImplemented("module.register"); },
    syncBuiltinESMExports() {},
    findSourceMap() { return undefined; },
    SourceMap: class SourceMap { constructor() { throw notImplemented("SourceMap"); } },
  });

  // ---- stream/web, stream/consumers ----
  M["stream/web"] = () => {
    const m = {};
    for (const n of ["ReadableStream", "WritableStream", "TransformStream", "ReadableStreamDefaultReader",
      "ReadableStreamBYOBReader", "ReadableStreamDefaultController", "ReadableByteStreamController",
      "ReadableStreamBYOBRequest", "WritableStreamDefaultWriter", "WritableStreamDefaultController",
      "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
      "TextEncoderStream", "TextDecoderStream", "CompressionStream", "DecompressionStream"])
      if (typeof globalThis[n] === "function") m[n] = globalThis[n];
    return withDefault(m);
  };
  const chunksOf = async (stream) => {
    const Buffer = N.nodeModule("buffer").Buffer;
    const parts = [];
    for await (const c of stream) parts.push(typeof c === "string" ? Buffer.from(c) : Buffer.from(c.buffer ?? c, c.byteOffset ?? 0, c.byteLength));
    return Buffer.concat(parts);
  };
  M["stream/consumers"] = () => withDefault({
    buffer: chunksOf,
    arrayBuffer: async (s) => { const b = await chunksOf(s); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length); },
    text: async (s) => new TextDecoder().decode(await chunksOf(s)),
    json: async (s) => JSON.parse(new TextDecoder().decode(await chunksOf(s))),
    blob: async (s) => new Blob([await chunksOf(s)]),
  });

  // ---- import-only stubs, as Cloudflare's ----
  // Every function throws ERR_METHOD_NOT_IMPLEMENTED when called; a class throws
  // when constructed. Values are what Cloudflare's stubs say.
  const stub = (name, f, c, values = {}) => {
    M[name] = () => {
      const mod = {};
      for (const n of f) mod[n] = { [n]() { throw notImplemented(`${name}.${n}`); } }[n];
      for (const n of c) mod[n] = ({ [n]: class { constructor() { throw notImplemented(`${name}.${n}`); } } })[n];
      return withDefault(Object.assign(mod, typeof values === "function" ? values() : values));
    };
  };
  const isIPv4 = (s) => /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(`${s}`);
  const isIPv6 = (s) => {
    s = `${s}`;
    if (!/^[0-9a-fA-F:.]+(%[0-9A-Za-z._~-]+)?$/.test(s)) return false;
    try { return new URL(`http://[${s.replace(/%.*$/, "")}]/`).hostname.length > 2; } catch { return false; }
  };
  stub("net", ["connect", "createConnection", "createServer", "getDefaultAutoSelectFamily", "setDefaultAutoSelectFamily",
    "getDefaultAutoSelectFamilyAttemptTimeout", "setDefaultAutoSelectFamilyAttemptTimeout"],
  ["Socket", "Server", "BlockList", "SocketAddress", "Stream"],
  { isIP: (s) => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0), isIPv4, isIPv6 });
  stub("tls", ["connect", "createServer", "createSecureContext", "createSecurePair", "checkServerIdentity", "getCiphers", "convertALPNProtocols"],
    ["TLSSocket", "Server", "SecureContext"],
    { rootCertificates: [], DEFAULT_MIN_VERSION: "TLSv1.2", DEFAULT_MAX_VERSION: "TLSv1.3", DEFAULT_ECDH_CURVE: "auto", DEFAULT_CIPHERS: "" });
  stub("child_process", ["exec", "execFile", "execFileSync", "execSync", "fork", "spawn", "spawnSync", "_forkChild"], ["ChildProcess"]);
  stub("cluster", ["disconnect", "fork", "setupMaster", "setupPrimary"], ["Worker"],
    { isMaster: true, isPrimary: true, isWorker: false, SCHED_NONE: 1, SCHED_RR: 2, schedulingPolicy: 2, settings: {}, workers: {} });
  stub("dgram", ["createSocket"], ["Socket"]);
  stub("dns", ["lookup", "lookupService", "resolve", "resolve4", "resolve6", "resolveAny", "resolveCaa", "resolveCname",
    "resolveMx", "resolveNaptr", "resolveNs", "resolvePtr", "resolveSoa", "resolveSrv", "resolveTxt", "reverse",
    "setServers", "getServers", "setDefaultResultOrder", "getDefaultResultOrder"], ["Resolver"]);
  stub("dns/promises", ["lookup", "lookupService", "resolve", "resolve4", "resolve6", "resolveAny", "resolveCaa", "resolveCname",
    "resolveMx", "resolveNaptr", "resolveNs", "resolvePtr", "resolveSoa", "resolveSrv", "resolveTxt", "reverse",
    "setServers", "getServers", "setDefaultResultOrder", "getDefaultResultOrder"], ["Resolver"]);
  stub("worker_threads", ["getEnvironmentData", "setEnvironmentData", "markAsUntransferable", "isMarkedAsUntransferable",
    "moveMessagePortToContext", "receiveMessageOnPort", "markAsUncloneable"], ["Worker"],
  () => ({ isMainThread: true, parentPort: null, workerData: null, threadId: 0, resourceLimits: {}, SHARE_ENV: Symbol.for("nodejs.worker_threads.SHARE_ENV"),
    MessageChannel: globalThis.MessageChannel, MessagePort: globalThis.MessagePort, BroadcastChannel: globalThis.BroadcastChannel }));
  stub("vm", ["createContext", "runInContext", "runInNewContext", "runInThisContext", "compileFunction", "measureMemory"],
    ["Script", "Module", "SourceTextModule", "SyntheticModule"], { isContext: () => false, constants: {} });
  stub("inspector", ["open", "close", "url", "waitForDebugger"], ["Session"], { console: globalThis.console });
  stub("inspector/promises", ["open", "close", "url", "waitForDebugger"], ["Session"], { console: globalThis.console });
  stub("readline", ["createInterface", "clearLine", "clearScreenDown", "cursorTo", "moveCursor", "emitKeypressEvents"], ["Interface"]);
  stub("readline/promises", ["createInterface"], ["Interface", "Readline"]);
  stub("repl", ["start"], ["REPLServer", "Recoverable"], { builtinModules: [] });
  stub("tty", [], ["ReadStream", "WriteStream"], { isatty: () => false });
  stub("v8", ["cachedDataVersionTag", "getHeapSnapshot", "getHeapSpaceStatistics", "getHeapStatistics", "getHeapCodeStatistics",
    "setFlagsFromString", "serialize", "deserialize", "takeCoverage", "stopCoverage", "writeHeapSnapshot", "setHeapSnapshotNearHeapLimit"],
  ["Serializer", "Deserializer", "DefaultSerializer", "DefaultDeserializer", "GCProfiler"]);
  stub("trace_events", ["createTracing", "getEnabledCategories"], []);
  stub("wasi", [], ["WASI"]);
  stub("domain", ["create", "createDomain"], ["Domain"], { active: null });
  stub("http2", ["connect", "createServer", "createSecureServer", "getDefaultSettings", "getPackedSettings", "getUnpackedSettings", "performServerHandshake"],
    ["Http2ServerRequest", "Http2ServerResponse"], { constants: {}, sensitiveHeaders: Symbol("nodejs.http2.sensitiveHeaders") });
  stub("perf_hooks", ["monitorEventLoopDelay", "createHistogram"], ["PerformanceObserver", "PerformanceEntry", "PerformanceMark", "PerformanceMeasure", "Histogram"],
    () => ({ performance: globalThis.performance, constants: {} }));
})();
