// node:events (nodejs_compat; docs/nodejs.md): EventEmitter, once, on.
(() => {
  "use strict";
  const N = globalThis.__durable;
  const kCapture = Symbol("kCapture");

  function EventEmitter(opts) {
    EventEmitter.init.call(this, opts);
  }
  EventEmitter.defaultMaxListeners = 10;
  EventEmitter.captureRejections = false;
  EventEmitter.errorMonitor = Symbol("events.errorMonitor");
  EventEmitter.captureRejectionSymbol = Symbol.for("nodejs.rejection");
  EventEmitter.init = function (opts) {
    if (this._events === undefined || this._events === Object.getPrototypeOf(this)._events) {
      this._events = Object.create(null);
      this._eventsCount = 0;
    }
    this._maxListeners = this._maxListeners || undefined;
    this[kCapture] = !!(opts && opts.captureRejections);
  };
  const P = EventEmitter.prototype;
  P._events = undefined;
  P._eventsCount = 0;
  P._maxListeners = undefined;

  const checkListener = (l) => {
    if (typeof l !== "function")
      throw new TypeError(`The "listener" argument must be of type function. Received ${l === null ? "null" : typeof l}`);
  };
  function add(target, type, listener, prepend) {
    checkListener(listener);
    if (target._events === undefined) EventEmitter.init.call(target);
    const events = target._events;
    if (events.newListener !== undefined)
      target.emit("newListener", type, listener.listener ? listener.listener : listener);
    const cur = events[type];
    if (cur === undefined) {
      events[type] = listener;
      target._eventsCount++;
    } else if (typeof cur === "function") {
      events[type] = prepend ? [listener, cur] : [cur, listener];
    } else if (prepend) cur.unshift(listener);
    else cur.push(listener);
    return target;
  }
  P.setMaxListeners = function (n) { this._maxListeners = n; return this; };
  P.getMaxListeners = function () { return this._maxListeners === undefined ? EventEmitter.defaultMaxListeners : this._maxListeners; };
  P.emit = function (type, ...args) {
    const events = this._events;
    if (type === "error" && events && events[EventEmitter.errorMonitor] !== undefined)
      this.emit(EventEmitter.errorMonitor, ...args);
    const handler = events === undefined ? undefined : events[type];
    if (handler === undefined) {
      if (type === "error") {
        const er = args[0];
        if (er instanceof Error) throw er;
        const err = new Error("Unhandled error." + (er === undefined ? "" : ` (${er})`));
        err.context = er;
        err.code = "ERR_UNHANDLED_ERROR";
        throw err;
      }
      return false;
    }
    const list = typeof handler === "function" ? [handler] : handler.slice();
    for (const h of list) {
      const r = Reflect.apply(h, this, args);
      if (this[kCapture] && r && typeof r.then === "function")
        r.then(undefined, (e) => queueMicrotask(() => this.emit("error", e)));
    }
    return true;
  };
  P.addListener = function (t, l) { return add(this, t, l, false); };
  P.on = P.addListener;
  P.prependListener = function (t, l) { return add(this, t, l, true); };
  const onceWrap = (target, type, listener) => {
    const state = { fired: false, target, type, listener };
    const wrapped = function (...args) {
      if (state.fired) return undefined;
      state.fired = true;
      target.removeListener(type, wrapped);
      return Reflect.apply(listener, target, args);
    };
    wrapped.listener = listener;
    return wrapped;
  };
  P.once = function (t, l) { checkListener(l); return this.on(t, onceWrap(this, t, l)); };
  P.prependOnceListener = function (t, l) { checkListener(l); return this.prependListener(t, onceWrap(this, t, l)); };
  P.removeListener = function (type, listener) {
    checkListener(listener);
    const events = this._events;
    if (events === undefined) return this;
    const list = events[type];
    if (list === undefined) return this;
    if (list === listener || list.listener === listener) {
      if (--this._eventsCount === 0) this._events = Object.create(null);
      else delete events[type];
      if (events.removeListener) this.emit("removeListener", type, list.listener || listener);
    } else if (typeof list !== "function") {
      for (let i = list.length - 1; i >= 0; i--) {
        if (list[i] === listener || list[i].listener === listener) {
          list.splice(i, 1);
          if (list.length === 1) events[type] = list[0];
          if (events.removeListener !== undefined) this.emit("removeListener", type, listener);
          break;
        }
      }
    }
    return this;
  };
  P.off = P.removeListener;
  P.removeAllListeners = function (type) {
    if (this._events === undefined) return this;
    if (type === undefined) {
      this._events = Object.create(null);
      this._eventsCount = 0;
    } else if (this._events[type] !== undefined) {
      if (--this._eventsCount === 0) this._events = Object.create(null);
      else delete this._events[type];
    }
    return this;
  };
  const listenersOf = (t, type, unwrap) => {
    const l = t._events === undefined ? undefined : t._events[type];
    if (l === undefined) return [];
    const arr = typeof l === "function" ? [l] : l.slice();
    return unwrap ? arr.map((f) => f.listener || f) : arr;
  };
  P.listeners = function (type) { return listenersOf(this, type, true); };
  P.rawListeners = function (type) { return listenersOf(this, type, false); };
  P.listenerCount = function (type) { return listenersOf(this, type, false).length; };
  P.eventNames = function () { return this._events ? Reflect.ownKeys(this._events) : []; };

  const abortError = (signal) => {
    const e = new Error("The operation was aborted");
    e.name = "AbortError";
    e.code = "ABORT_ERR";
    e.cause = signal && signal.reason;
    return e;
  };

  // once(emitter, name) → a promise of the arguments of the next event; works with
  // EventTarget too.
  function once(emitter, name, opts = {}) {
    const signal = opts.signal;
    return new Promise((resolve, reject) => {
      if (signal && signal.aborted) return reject(abortError(signal));
      if (typeof emitter.addEventListener === "function" && typeof emitter.on !== "function") {
        emitter.addEventListener(name, (ev) => resolve([ev]), { once: true });
        return;
      }
      const onError = (err) => { emitter.removeListener(name, onEvent); reject(err); };
      const onEvent = (...args) => { if (name !== "error") emitter.removeListener("error", onError); resolve(args); };
      emitter.once(name, onEvent);
      if (name !== "error") emitter.once("error", onError);
      if (signal) signal.addEventListener("abort", () => {
        emitter.removeListener(name, onEvent);
        emitter.removeListener("error", onError);
        reject(abortError(signal));
      }, { once: true });
    });
  }

  // on(emitter, name) → an async iterator of the events' argument arrays.
  function on(emitter, name, opts = {}) {
    const queue = [], waiting = [];
    let error = null, done = false;
    const onEvent = (...args) => {
      if (waiting.length) waiting.shift().resolve({ value: args, done: false });
      else queue.push(args);
    };
    const onError = (e) => {
      done = true;
      if (waiting.length) waiting.shift().reject(e);
      else error = e;
      cleanup();
    };
    const cleanup = () => {
      emitter.removeListener(name, onEvent);
      emitter.removeListener("error", onError);
    };
    emitter.on(name, onEvent);
    if (name !== "error") emitter.on("error", onError);
    if (opts.signal) opts.signal.addEventListener("abort", () => onError(abortError(opts.signal)), { once: true });
    return {
      next() {
        if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
        if (error) { const e = error; error = null; return Promise.reject(e); }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      },
      return() {
        done = true;
        cleanup();
        for (const w of waiting.splice(0)) w.resolve({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
      throw(e) { onError(e); return Promise.reject(e); },
      [Symbol.asyncIterator]() { return this; },
    };
  }

  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.once = once;
  EventEmitter.on = on;
  EventEmitter.listenerCount = (em, type) => em.listenerCount(type);
  EventEmitter.getEventListeners = (em, type) => (typeof em.listeners === "function" ? em.listeners(type) : []);
  EventEmitter.setMaxListeners = () => {};
  EventEmitter.usingDomains = false;
  EventEmitter.EventEmitterAsyncResource = EventEmitter;
  N.nodeEventEmitter = EventEmitter;
  N.nodeModules.events = () => {
    const m = Object.create(null);
    for (const k of Object.keys(EventEmitter)) m[k] = EventEmitter[k];
    m.errorMonitor = EventEmitter.errorMonitor;
    m.captureRejectionSymbol = EventEmitter.captureRejectionSymbol;
    m.default = EventEmitter;
    return m;
  };
})();
