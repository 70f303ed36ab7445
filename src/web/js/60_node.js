// Node.js compatibility (the nodejs_compat flag; docs/nodejs.md). Each node:*
// module is a factory in N.nodeModules, built on first import and cached; the
// loader (js/loader.c) resolves "node:x" (and the bare names Cloudflare allows)
// only when the Worker's configuration has the flag, which load_main tells us by
// calling N.enableNodejsCompat(env) before the Worker's code runs.
// This file: the registry, node:async_hooks (AsyncLocalStorage on the async
// context QuickJS carries through promise reactions, patch 0009), node:process
// and the `process` global.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const factories = Object.create(null);
  const built = Object.create(null);
  N.nodeModules = factories;
  // N.nodeModule("buffer") → the module's exports object, or undefined.
  N.nodeModule = (name) => {
    if (!(name in factories))
      return undefined;
    if (!(name in built))
      built[name] = factories[name]();
    return built[name];
  };
  N.nodejsCompat = false;

  // ---- async context ----
  // The current context is an immutable Map (AsyncLocalStorage → store) or
  // undefined. Reactions (await, then, queueMicrotask) carry it natively; timers
  // are wrapped below once the flag is on.
  const getCtx = N.asyncContextGet;
  const setCtx = N.asyncContextSet;
  const runIn = (frame, fn, thisArg, args) => {
    const prev = getCtx();
    setCtx(frame);
    try {
      return Reflect.apply(fn, thisArg, args);
    } finally {
      setCtx(prev);
    }
  };
  const bindTo = (frame, fn) => {
    if (typeof fn !== "function")
      throw new TypeError("The \"fn\" argument must be of type function");
    return function (...args) { return runIn(frame, fn, this, args); };
  };

  class AsyncLocalStorage {
    run(store, fn, ...args) {
      const cur = getCtx();
      const next = new Map(cur);
      next.set(this, store);
      return runIn(next, fn, undefined, args);
    }
    exit(fn, ...args) {
      const cur = getCtx();
      if (!cur || !cur.has(this))
        return Reflect.apply(fn, undefined, args);
      const next = new Map(cur);
      next.delete(this);
      return runIn(next, fn, undefined, args);
    }
    getStore() {
      const cur = getCtx();
      return cur ? cur.get(this) : undefined;
    }
    enterWith() {
      throw new Error("AsyncLocalStorage.enterWith() is not implemented (as on Cloudflare); use run()");
    }
    disable() {
      throw new Error("AsyncLocalStorage.disable() is not implemented (as on Cloudflare)");
    }
    static bind(fn) {
      return bindTo(getCtx(), fn);
    }
    static snapshot() {
      const frame = getCtx();
      return (fn, ...args) => runIn(frame, fn, undefined, args);
    }
  }
  class AsyncResource {
    constructor(type) {
      this.type = type;
      this._frame = getCtx();
    }
    runInAsyncScope(fn, thisArg, ...args) {
      return runIn(this._frame, fn, thisArg, args);
    }
    bind(fn) {
      return bindTo(this._frame, fn);
    }
    static bind(fn) {
      return bindTo(getCtx(), fn);
    }
    emitDestroy() { return this; }
    asyncId() { return 0; }
    triggerAsyncId() { return 0; }
  }
  factories.async_hooks = () => ({ AsyncLocalStorage, AsyncResource });

  // Timers keep the context they were scheduled in (queueMicrotask is a promise
  // reaction, which carries it already).
  const wrapScheduler = (name) => {
    const orig = globalThis[name];
    if (typeof orig !== "function")
      return;
    const w = {
      [name](cb, ...rest) {
        const frame = getCtx();
        if (frame !== undefined && typeof cb === "function")
          cb = bindTo(frame, cb);
        return Reflect.apply(orig, this, [cb, ...rest]);
      },
    }[name];
    Object.defineProperty(globalThis, name, { value: w, writable: true, configurable: true, enumerable: true });
  };

  // ---- process ----
  const env = Object.create(null);
  const nextTick = (fn, ...args) => {
    if (typeof fn !== "function")
      throw new TypeError("The \"callback\" argument must be of type function");
    queueMicrotask(() => fn(...args));
  };
  const process = {
    env,
    nextTick,
    version: "v22.14.0",
    versions: { node: "22.14.0" },
    platform: "linux",
    arch: "x64",
    release: { name: "node" },
    argv: [],
    execArgv: [],
    pid: 1,
    ppid: 0,
    title: "workerd",
    browser: false,
    exitCode: undefined,
    cwd: () => "/",
    chdir: () => { throw new Error("process.chdir() is not supported"); },
    umask: () => 0o22,
    uptime: () => performance.now() / 1000,
    hrtime: Object.assign((prev) => {
      const t = performance.now();
      let s = Math.floor(t / 1000), ns = Math.floor((t % 1000) * 1e6);
      if (prev) {
        s -= prev[0];
        ns -= prev[1];
        if (ns < 0) { s--; ns += 1e9; }
      }
      return [s, ns];
    }, { bigint: () => BigInt(Math.floor(performance.now() * 1e6)) }),
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }),
    emitWarning: (w) => console.warn(typeof w === "string" ? "Warning: " + w : w),
    on() { return process; },
    once() { return process; },
    off() { return process; },
    addListener() { return process; },
    removeListener() { return process; },
    removeAllListeners() { return process; },
    emit() { return false; },
    listeners() { return []; },
    listenerCount() { return 0; },
    exit() { throw new Error("process.exit() is not supported in a Worker"); },
    abort() { throw new Error("process.abort() is not supported in a Worker"); },
    features: {},
    config: { variables: {} },
  };
  factories.process = () => {
    const m = Object.assign(Object.create(null), process);
    m.default = process;
    return m;
  };

  // Called by the worker (C) when the configuration has nodejs_compat: the
  // loader then resolves node:* imports, and the globals Cloudflare adds appear.
  // Modules Cloudflare turns on by compatibility date (or an enable_… flag, and
  // off by a disable_… flag): [module names, date, enable flag, disable flag,
  // optional function run when they are on].
  N.nodeGated = [];
  N.enableNodejsCompat = (bindings, date = "", flags = []) => {
    N.nodejsCompat = true;
    for (const [names, on, enable, disable, onEnable] of N.nodeGated) {
      if (!((date >= on || flags.includes(enable)) && !flags.includes(disable)))
        for (const n of names) delete factories[n];
      else if (onEnable)
        onEnable();
    }
    if (bindings)
      for (const k of Object.keys(bindings))
        if (typeof bindings[k] === "string")
          env[k] = bindings[k];
    wrapScheduler("setTimeout");
    wrapScheduler("setInterval");
    const def = (name, value) =>
      Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
    def("process", process);
    const buffer = N.nodeModule("buffer");
    if (buffer)
      def("Buffer", buffer.Buffer);
    def("global", globalThis);
  };
})();
